"""Big bodies read straight into the response's buffer (issue 14 item 3).

``Response.read()`` / ``aread()`` over HTTP/1.1 reads the rest of a Content-Length body with the
network stream's ``read_into`` (``recv_into`` on a socket) into the body's own buffer, through
``httpwire.http11``'s ``body_bytes_wanted()`` / ``body_received_directly()``. Scripted servers
(tests/scripted.py) give the bytes; the stream records what it was asked for.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
import trio
from scripted import (
    AsyncScriptedBackend,
    AsyncScriptedStream,
    Script,
    ScriptedBackend,
    ScriptedStream,
    ok,
)

import ahttpwire
import httpwire
from httpwire import http11 as h11
from httpwire._backends.sync import NetworkStream

URL = "http://scripted.test/"
BODY = bytes(range(256)) * 1200  # 300 KiB: most of it comes after the head's read


class _RecordingStream(ScriptedStream):
    sizes: list[int]

    def read_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        self.sizes.append(len(buffer))
        data = self.script.take(min(len(buffer), 50_000))
        buffer[: len(data)] = data
        return len(data)


class _AsyncRecordingStream(AsyncScriptedStream):
    sizes: list[int]

    async def read_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        self.sizes.append(len(buffer))
        data = self.script.take(min(len(buffer), 50_000))
        buffer[: len(data)] = data
        return len(data)


def _get(flavour: str, answer: bytes) -> tuple[bytes, list[int], Script]:
    """GET twice on one connection (the second answer is a small one) through a stream whose
    ``read_into`` records the buffer sizes it was offered; the first body and the sizes."""
    script = Script(answer, ok(b"next"))
    sizes: list[int] = []

    if flavour == "sync":

        class Backend(ScriptedBackend):
            def connect(self, host: str, port: int, *a: Any, **k: Any) -> Any:
                stream = _RecordingStream(self._next(host, port))
                stream.sizes = sizes
                return stream

        with httpwire.Client(transport=httpwire.ConnectionPool(backend=Backend([script]))) as c:
            body = c.get(URL).content
            assert c.get(URL).content == b"next"  # the connection was kept, in step
        return body, sizes, script

    class AsyncBackend(AsyncScriptedBackend):
        async def connect(self, host: str, port: int, *a: Any, **k: Any) -> Any:
            stream = _AsyncRecordingStream(self._next(host, port))
            stream.sizes = sizes
            return stream

    async def main() -> bytes:
        pool = ahttpwire.ConnectionPool(backend=AsyncBackend([script]))
        async with ahttpwire.Client(transport=pool) as c:
            body = (await c.get(URL)).content
            assert (await c.get(URL)).content == b"next"
        return body

    body = asyncio.run(main()) if flavour == "asyncio" else trio.run(main)
    return body, sizes, script


@pytest.mark.parametrize("flavour", ["sync", "asyncio", "trio"])
def test_a_big_content_length_body_is_read_into_the_response_buffer(flavour: str) -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY
    body, sizes, script = _get(flavour, answer)
    assert body == BODY
    # The first read (with the head) is an ordinary one; the rest went through read_into, in
    # views that grow with what arrived (64 KiB at least) and never past the body's end.
    assert sizes, "read_into was never used"
    assert all(65536 <= size <= len(BODY) for size in sizes[:-1]), sizes
    assert len(script.requests) == 2 and script.closed_by_client


@pytest.mark.parametrize("flavour", ["sync", "asyncio", "trio"])
def test_a_body_cut_short_while_read_into_fails_and_closes(flavour: str) -> None:
    cut = BODY[:200_000]
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + cut
    script = Script(answer, close_when_idle=True)

    if flavour == "sync":

        class Backend(ScriptedBackend):
            def connect(self, host: str, port: int, *a: Any, **k: Any) -> Any:
                stream = _RecordingStream(self._next(host, port))
                stream.sizes = []
                return stream

        with httpwire.Client(transport=httpwire.ConnectionPool(backend=Backend([script]))) as c:
            with pytest.raises(httpwire.RemoteProtocolError):
                c.get(URL)
    else:

        class AsyncBackend(AsyncScriptedBackend):
            async def connect(self, host: str, port: int, *a: Any, **k: Any) -> Any:
                stream = _AsyncRecordingStream(self._next(host, port))
                stream.sizes = []
                return stream

        async def main() -> None:
            pool = ahttpwire.ConnectionPool(backend=AsyncBackend([script]))
            async with ahttpwire.Client(transport=pool) as c:
                with pytest.raises(httpwire.RemoteProtocolError):
                    await c.get(URL)

        asyncio.run(main()) if flavour == "asyncio" else trio.run(main)
    assert script.closed_by_client


def test_body_bytes_wanted_and_received_directly() -> None:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "a")]))
    conn.send(h11.EndOfMessage())
    assert conn.body_bytes_wanted() == 0  # no response head yet
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    assert type(conn.next_event()) is h11.Response
    assert conn.body_bytes_wanted() == 0  # "abc" waits in the parser's buffer
    assert conn.next_body() == b"abc"
    assert conn.body_bytes_wanted() == 7
    with pytest.raises(RuntimeError):
        conn.body_received_directly(8)
    with pytest.raises(RuntimeError):
        conn.body_received_directly(0)
    conn.body_received_directly(4)
    assert conn.body_bytes_wanted() == 3
    conn.receive_data(b"xyz")
    assert conn.body_bytes_wanted() == 0  # bytes buffered: the ordinary path first
    assert conn.next_body() == b"xyz"
    assert type(conn.next_body()) is h11.EndOfMessage
    assert conn.their_state is h11.DONE


def test_body_bytes_wanted_is_zero_for_a_chunked_body() -> None:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "a")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert type(conn.next_event()) is h11.Response
    assert conn.body_bytes_wanted() == 0


def test_the_sync_socket_stream_reads_into_a_buffer() -> None:
    a, b = socket.socketpair()
    stream = NetworkStream(a)
    try:
        b.sendall(b"hello")
        buf = bytearray(16)
        assert stream.read_into(memoryview(buf), timeout=5.0) == 5
        assert bytes(buf[:5]) == b"hello"
        with pytest.raises(httpwire.ReadTimeout):
            stream.read_into(memoryview(buf), timeout=0.05)
        b.close()
        assert stream.read_into(memoryview(buf), timeout=5.0) == 0  # EOF
    finally:
        stream.close()
        b.close()
