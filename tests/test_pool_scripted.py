"""The pool against scripted servers (tests/scripted.py): reuse, a connection the server closed
while idle, and the safe retry of a request whose reused connection the server dropped, in
sync, asyncio and trio, with no server process and no clock. The pool's rules (``check()``) are
verified after each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import trio
from scripted import CLOSE, AsyncScriptedBackend, Script, ScriptedBackend, ok

import ahttpwire
import httpwire

URL = "http://scripted.test/"


FLAVOURS = ["sync", "asyncio", "trio"]


def _content_or_error(send: Callable[[], Any]) -> Any:
    try:
        return send().content
    except httpwire.TransportError as exc:
        return exc


def _scenario(flavour: str, scripts: list[Script], methods: list[str]) -> list[Any]:
    """Send ``methods`` to a pool on ``scripts``, one after the other; return each response's
    content or the transport error it raised. The pool's rules are checked at the end."""

    def body(method: str) -> bytes | None:
        return b"x" if method == "POST" else None

    if flavour == "sync":
        with httpwire.ConnectionPool(backend=ScriptedBackend(scripts)) as pool:
            out = [
                _content_or_error(lambda m=m: pool.request(m, URL, content=body(m)))
                for m in methods
            ]
            pool.check()
            return out

    async def main() -> list[Any]:
        async with ahttpwire.ConnectionPool(backend=AsyncScriptedBackend(scripts)) as pool:
            out = []
            for method in methods:
                try:
                    response = await pool.request(method, URL, content=body(method))
                    out.append(response.content)
                except httpwire.TransportError as exc:
                    out.append(exc)
            pool.check()
            return out

    if flavour == "asyncio":
        return asyncio.run(main())
    result: list[Any] = trio.run(main)
    return result


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_keep_alive_connection_is_reused(flavour: str) -> None:
    script = Script(ok(b"one"), ok(b"two"))
    assert _scenario(flavour, [script], ["GET", "GET"]) == [b"one", b"two"]
    assert len(script.requests) == 2 and script.closed_by_client


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_connection_the_server_closed_while_idle_is_not_reused(flavour: str) -> None:
    first = Script(ok(b"one"), close_when_idle=True)
    second = Script(ok(b"two"))
    assert _scenario(flavour, [first, second], ["GET", "POST"]) == [b"one", b"two"]
    # The POST went to a new connection: nothing was written to the closed one.
    assert len(first.requests) == 1 and first.closed_by_client
    assert len(second.requests) == 1 and second.requests[0].startswith(b"POST")


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_get_dropped_on_a_reused_connection_is_sent_again_a_post_is_not(flavour: str) -> None:
    dropped_get = Script(ok(b"one"), CLOSE)
    fresh = Script(ok(b"again"))
    assert _scenario(flavour, [dropped_get, fresh], ["GET", "GET"]) == [b"one", b"again"]
    dropped_post = Script(ok(b"one"), CLOSE)
    results = _scenario(flavour, [dropped_post], ["GET", "POST"])
    assert results[0] == b"one"
    assert isinstance(results[1], httpwire.RemoteProtocolError), results
