"""The speed paths of httpwire.http11 (caches, precomputed transitions) change nothing visible.

Each test drives the same input through a path that hits a cache or a shortcut and through
one that cannot (a fresh value, byte-by-byte delivery), and compares, or checks that a rule the
general path enforces still holds once the cache is warm.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any

import pytest

import httpwire.http11 as h11
from httpwire.http11 import _headers, _readers

HEAD = (
    b"HTTP/1.1 200 OK\r\nServer: x\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n"
    b"Content-Length: 3\r\n\r\nabc"
)


def events(data: bytes, *, split: bool = False, method: bytes = b"GET") -> list[object]:
    c = h11.Connection(h11.CLIENT, tolerant=False)  # strict: bad lines must raise here
    c.send(h11.Request(method=method, target=b"/", headers=[(b"Host", b"h")]))
    c.send(h11.EndOfMessage())
    pieces = [data[i : i + 1] for i in range(len(data))] if split else [data]
    out: list[object] = []
    for piece in pieces:
        c.receive_data(piece)
        while True:
            ev = c.next_event()
            if ev is h11.NEED_DATA:
                break
            out.append(ev)
            if type(ev) is h11.EndOfMessage:
                return out
    return out


def body(evs: list[object]) -> bytes:
    return b"".join(e.data for e in evs if type(e) is h11.Data)


def test_cached_lines_give_the_same_events_as_the_byte_by_byte_path() -> None:
    first = events(HEAD)
    again = events(HEAD)  # every line is now cached
    slow = events(HEAD, split=True)  # the general path
    assert first[0] == again[0] == slow[0]
    assert first[0].headers.raw_items() == slow[0].headers.raw_items()  # type: ignore[attr-defined]
    assert body(first) == body(again) == body(slow) == b"abc"


def test_a_cached_valid_line_does_not_make_a_bad_neighbour_valid() -> None:
    events(HEAD)
    with pytest.raises(h11.RemoteProtocolError, match="whitespace between field name"):
        events(HEAD.replace(b"Server: x", b"Server : x"))
    with pytest.raises(h11.RemoteProtocolError, match="not a token"):
        events(HEAD.replace(b"Server: x", b"Ser(ver: x"))
    with pytest.raises(h11.RemoteProtocolError, match="CR, LF or NUL"):
        events(HEAD.replace(b"Server: x", b"Server: x\x00"))


def test_framing_fields_are_never_served_from_the_line_cache() -> None:
    events(HEAD)
    doubled = HEAD.replace(b"Content-Length: 3\r\n", b"Content-Length: 3\r\nContent-Length: 4\r\n")
    with pytest.raises(h11.RemoteProtocolError, match="Content-Length"):
        events(doubled)
    closing = HEAD.replace(b"Connection: keep-alive", b"Connection: close")
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method=b"GET", target=b"/", headers=[(b"Host", b"h")]))
    c.send(h11.EndOfMessage())
    c.receive_data(closing)
    while type(c.next_event()) is not h11.EndOfMessage:
        pass
    assert c.their_state is h11.MUST_CLOSE


def test_caches_stay_bounded_under_random_names_and_lines() -> None:
    for i in range(3000):
        events(b"HTTP/1.1 200 OK\r\nX-%d: v%d\r\nContent-Length: 0\r\n\r\n" % (i, i))
    assert len(_headers._LINE_CACHE) <= _headers._LINE_CACHE_MAX
    assert len(_headers._NAME_CACHE) <= _headers._NAME_CACHE_MAX
    long_name = b"N" * 5000
    events(b"HTTP/1.1 200 OK\r\n" + long_name + b": v\r\nContent-Length: 0\r\n\r\n")
    assert long_name not in _headers._NAME_CACHE
    padded = b"3" + b" " * 500
    evs = events(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + padded + b"\r\nabc\r\n0\r\n\r\n"
    )
    assert body(evs) == b"abc"
    assert padded not in _readers._CHUNK_SIZES


def test_sent_pair_cache_returns_bytes_and_keeps_checking() -> None:
    h11.Request(method=b"GET", target=b"/", headers=[(b"Host", b"h"), (b"A", b"b")])
    bytes_like: Any = [(memoryview(b"Host"), memoryview(b"h")), (bytearray(b"A"), bytearray(b"b"))]
    r = h11.Request(method=b"GET", target=b"/", headers=bytes_like)
    assert r.headers.raw_items() == [(b"Host", b"h"), (b"A", b"b")]
    assert all(type(x) is bytes for pair in r.headers.raw_items() for x in pair)
    with pytest.raises(h11.LocalProtocolError, match="multiple Host"):
        h11.Request(method=b"GET", target=b"/", headers=[(b"Host", b"h"), (b"Host", b"h")])
    with pytest.raises(h11.LocalProtocolError, match="header value"):
        h11.Request(method=b"GET", target=b"/", headers=[(b"Host", b"h"), (b"A", b"b\r\nX: y")])


def test_request_wire_puts_host_first_even_with_cached_lines() -> None:
    h11.Request(method=b"GET", target=b"/", headers=[(b"Host", b"h"), (b"Accept", b"*/*")])
    c = h11.Connection(h11.CLIENT)
    data = c.send(
        h11.Request(method=b"GET", target=b"/", headers=[(b"Accept", b"*/*"), (b"Host", b"h")])
    )
    assert data == b"GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"


def test_keep_alive_cycles_through_the_fast_paths_track_state() -> None:
    c = h11.Connection(h11.CLIENT)
    for _ in range(3):
        assert c.send(h11.Request(method=b"GET", target=b"/", headers=[(b"Host", b"h")]))
        assert c.send(h11.EndOfMessage()) == b""
        assert c.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.SEND_RESPONSE}
        c.receive_data(HEAD)
        assert type(c.next_event()) is h11.Response
        assert c.their_state is h11.SEND_BODY
        assert type(c.next_event()) is h11.Data
        assert type(c.next_event()) is h11.EndOfMessage
        assert c.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}
        c.start_next_cycle()
        assert c.states == {h11.CLIENT: h11.IDLE, h11.SERVER: h11.IDLE}
    with pytest.raises(h11.LocalProtocolError):
        c.start_next_cycle()


def test_head_response_body_framing_is_not_taken_from_content_length() -> None:
    evs = events(HEAD.replace(b"abc", b""), method=b"HEAD")
    assert type(evs[0]) is h11.Response and body(evs) == b""


def test_data_events_are_frozen() -> None:
    d = h11.Data(data=b"x", chunk_start=True)
    with pytest.raises(FrozenInstanceError):
        d.data = b"y"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del d.chunk_end
    with pytest.raises(AttributeError):
        d.other = 1  # type: ignore[attr-defined]
    assert d == h11.Data(b"x", True, False) and d.data == b"x"


def _serve(data: bytes) -> list[object]:
    c = h11.Connection(h11.SERVER)
    c.receive_data(data)
    out: list[object] = []
    while True:
        ev = c.next_event()
        out.append(ev)
        if ev is h11.NEED_DATA or type(ev) is h11.EndOfMessage:
            return out


def test_framing_rules_hold_with_host_and_content_length_lines_cached() -> None:
    # RFC 9112 §3.2 (one Host) and §6.3 (one Content-Length value) once the received Host
    # and Content-Length lines are in the special-line cache.
    ok = b"POST / HTTP/1.1\r\nHost: cached.example\r\nContent-Length: 3\r\n\r\nabc"
    for _ in range(2):
        assert type(_serve(ok)[0]) is h11.Request
    assert b"Host: cached.example" in _headers._SPECIAL_LINES
    assert b"Content-Length: 3" in _headers._SPECIAL_LINES
    with pytest.raises(h11.RemoteProtocolError, match="multiple Host"):
        _serve(b"GET / HTTP/1.1\r\nHost: cached.example\r\nHost: cached.example\r\n\r\n")
    with pytest.raises(h11.RemoteProtocolError, match="Content-Length"):
        _serve(
            b"POST / HTTP/1.1\r\nHost: cached.example\r\nContent-Length: 3\r\n"
            b"Content-Length: 4\r\n\r\nabcd"
        )
    # An identical repeat is merged into one (RFC 9112 §6.3 (5)), cached or not.
    got = _serve(
        b"POST / HTTP/1.1\r\nHost: cached.example\r\nContent-Length: 3\r\n"
        b"Content-Length: 3\r\n\r\nabc"
    )
    req = got[0]
    assert type(req) is h11.Request
    assert [v for n, v in req.headers if n == b"content-length"] == [b"3"]
    assert [type(e) for e in got[1:]] == [h11.Data, h11.EndOfMessage]
    # A request without Host is still refused after a cached Host line was seen.
    with pytest.raises(h11.RemoteProtocolError, match="Host"):
        _serve(b"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")


def test_sent_header_lists_cache_keeps_send_side_rules() -> None:
    # A header list seen before is reused whole; lists that differ in any pair (or hold str,
    # or repeat Content-Length with another value) still take every check.
    good = [(b"Content-Type", b"text/plain"), (b"Content-Length", b"0")]
    a = h11.Response(status_code=200, headers=good)
    b = h11.Response(status_code=200, headers=list(good))
    assert a.headers is b.headers
    with pytest.raises(h11.LocalProtocolError):
        h11.Response(status_code=200, headers=[*good, (b"Content-Length", b"1")])
    with pytest.raises(h11.LocalProtocolError):
        h11.Response(status_code=200, headers=[(b"Content-Type", b"a\r\nb"), good[1]])
    same = h11.Response(status_code=200, headers=[*good, (b"Content-Length", b"0")])
    assert [v for n, v in same.headers if n == b"content-length"] == [b"0"]


def test_server_fast_response_path_matches_general_path() -> None:
    # The keep-alive response fast path (send) writes what the general path
    # (send_with_data_passthrough, which has no shortcut) writes, with the same states.
    wire: list[bytes] = []
    for fast in (False, True):
        c = h11.Connection(h11.SERVER)
        c.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert type(c.next_event()) is h11.Request
        assert type(c.next_event()) is h11.EndOfMessage
        resp = h11.Response(
            status_code=404, reason=b"Nope", headers=[(b"Content-Length", b"2"), (b"X", b"y")]
        )
        if fast:
            head = c.send(resp)
        else:
            head = b"".join(c.send_with_data_passthrough(resp) or [])
        assert c.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.SEND_BODY}
        out = head + c.send(h11.Data(data=b"no")) + c.send(h11.EndOfMessage())
        wire.append(out)
        assert c.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}
        with pytest.raises(h11.LocalProtocolError):
            c.send(h11.Data(data=b"x"))
    assert wire[0] == wire[1] == b"HTTP/1.1 404 Nope\r\nContent-Length: 2\r\nX: y\r\n\r\nno"
    # Too much body for the declared length is refused on the fast path too.
    c = h11.Connection(h11.SERVER)
    c.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    c.next_event()
    c.next_event()
    c.send(h11.Response(status_code=200, headers=[(b"Content-Length", b"1")]))
    with pytest.raises(h11.LocalProtocolError):
        c.send(h11.Data(data=b"ab"))
