"""httpwire.http11's state machine in one place (h11's rule): the precomputed keep-alive steps
of ``ConnectionState`` agree with its general table, no other module assigns a state, and
every module cache is a bounded ``BoundedCache``."""

from __future__ import annotations

import ast
import copy
import itertools
from pathlib import Path

import pytest

from httpwire.http11 import _connection, _headers, _readers
from httpwire.http11._events import EndOfMessage, Request, Response
from httpwire.http11._state import (
    _SWITCH_CONNECT,
    _SWITCH_UPGRADE,
    CLIENT,
    CLOSED,
    DONE,
    ERROR,
    IDLE,
    MIGHT_SWITCH_PROTOCOL,
    MUST_CLOSE,
    SEND_BODY,
    SEND_RESPONSE,
    SERVER,
    SWITCHED_PROTOCOL,
    ConnectionState,
)
from httpwire.http11._util import BoundedCache, LocalProtocolError

STATES = [
    IDLE,
    SEND_RESPONSE,
    SEND_BODY,
    DONE,
    MUST_CLOSE,
    CLOSED,
    ERROR,
    MIGHT_SWITCH_PROTOCOL,
    SWITCHED_PROTOCOL,
]
PENDING: list[set[object]] = [set(), {_SWITCH_UPGRADE}, {_SWITCH_CONNECT}]


def _states() -> list[ConnectionState]:
    out = []
    for client, server, keep_alive, pending in itertools.product(
        STATES, STATES, (True, False), PENDING
    ):
        cs = ConnectionState()
        cs.client, cs.server = client, server
        cs.keep_alive = keep_alive
        cs.pending_switch_proposals = set(pending)
        out.append(cs)
    return out


def _snapshot(cs: ConnectionState) -> tuple[object, ...]:
    return (cs.client, cs.server, cs.keep_alive, frozenset(cs.pending_switch_proposals))


def _general(cs: ConnectionState, steps: list[tuple[object, type]]) -> tuple[object, ...] | None:
    """The states the general path leaves after ``steps``, or None if it refuses one."""
    cs = copy.deepcopy(cs)
    try:
        for role, etype in steps:
            if role == "next cycle":
                if cs.client is DONE and cs.server is DONE:
                    cs.start_next_cycle()
            else:
                cs.process_event(role, etype)
    except LocalProtocolError:
        return None
    return _snapshot(cs)


@pytest.mark.parametrize(
    ("step", "general"),
    [
        (lambda cs: cs.request_step(), [(CLIENT, Request)]),
        (lambda cs: cs.response_step(), [(SERVER, Response)]),
        (lambda cs: cs.end_of_message_step(CLIENT), [(CLIENT, EndOfMessage)]),
        (lambda cs: cs.end_of_message_step(SERVER), [(SERVER, EndOfMessage)]),
    ],
    ids=["request", "response", "client EOM", "server EOM"],
)
def test_each_step_is_the_general_transition_or_refuses(step, general) -> None:  # type: ignore[no-untyped-def]
    taken = 0
    for cs in _states():
        before = _snapshot(cs)
        expected = _general(cs, general)
        if step(cs):
            taken += 1
            assert expected is not None, before
            assert _snapshot(cs) == expected, before
        else:
            assert _snapshot(cs) == before  # nothing changed
    assert taken  # the common case is taken somewhere


def test_whole_response_step_is_response_end_and_next_cycle() -> None:
    taken = 0
    for cs in _states():
        before = _snapshot(cs)
        expected = _general(
            cs, [(SERVER, Response), (SERVER, EndOfMessage), ("next cycle", type(None))]
        )
        restarted = cs.whole_response_step()
        if restarted is None:
            assert _snapshot(cs) == before
            continue
        taken += 1
        assert expected is not None, before
        assert _snapshot(cs) == expected, before
        assert restarted == (cs.server is IDLE)
    assert taken


def test_start_next_cycle_only_from_done_done() -> None:
    for cs in _states():
        before = _snapshot(cs)
        if cs.client is DONE and cs.server is DONE:
            cs.start_next_cycle()
            assert (cs.client, cs.server) == (IDLE, IDLE)
        else:
            with pytest.raises(LocalProtocolError):
                cs.start_next_cycle()
            assert _snapshot(cs) == before


def test_no_module_but_state_assigns_a_state() -> None:
    # h11's rule: every change of the role states goes through _state.py.
    root = Path(_connection.__file__).parent
    offenders = []
    for path in sorted(root.glob("*.py")):
        if path.name == "_state.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for t in targets:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Attribute) and sub.attr in ("client", "server"):
                        offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_every_module_cache_is_bounded() -> None:
    caches = {
        name: value
        for module in (_headers, _readers, _connection)
        for name, value in vars(module).items()
        if isinstance(value, dict) and name.isupper() and name.startswith("_")
    }
    # (the lookup tables that never grow are not caches)
    fixed = {"_METHODS", "_REQUEST_VERSIONS", "_RX_HEADS"}
    assert {n for n, v in caches.items() if not isinstance(v, BoundedCache)} <= fixed
    assert len([v for v in caches.values() if isinstance(v, BoundedCache)]) == 9


def test_bounded_cache_keeps_small_keys_and_empties_when_full() -> None:
    cache: BoundedCache[bytes, int] = BoundedCache(3, max_key_size=4)
    cache.put(b"toolong", 1, 7)
    assert b"toolong" not in cache
    for i in range(3):
        cache.put(b"k%d" % i, i, 2)
    assert len(cache) == 3 and cache.get(b"k1") == 1
    cache.put(b"k3", 3, 2)  # full: emptied first, then kept
    assert dict(cache) == {b"k3": 3}


def test_str_header_lists_are_checked_once_and_bad_ones_always_refused() -> None:
    # (str, str) pairs, as httpwire's connection layer passes them, hit the caches as bytes
    # pairs do; nothing unchecked gets in.
    from httpwire.http11._headers import normalize_and_validate

    good = [("Host", "example.com"), ("User-Agent", "state-test/1")]
    first = normalize_and_validate(list(good))
    assert normalize_and_validate(list(good)) is first
    assert list(first.raw_items()) == [(b"Host", b"example.com"), (b"User-Agent", b"state-test/1")]
    assert normalize_and_validate([("User-Agent", "state-test/1"), ("Accept", "*/*")])._wire == (
        b"User-Agent: state-test/1\r\nAccept: */*\r\n"
    )
    bad = [("Host", "example.com"), ("X-Bad", "a\r\nInjected: 1")]
    for _ in range(2):
        with pytest.raises(LocalProtocolError):
            normalize_and_validate(list(bad))
    with pytest.raises(LocalProtocolError):
        normalize_and_validate([("X-Bad", "a\r\nInjected: 1")])
    with pytest.raises(UnicodeEncodeError):
        normalize_and_validate([("X-Name", "caf\u00e9")])
