"""Protocol upgrades (RFC 9110 section 7.8): a WebSocket session (RFC 6455) over the raw stream
that ``Connection.upgrade`` returns after ``101 Switching Protocols``, against a real
``websockets`` server on 127.0.0.1; and the same through ``client.stream(...)`` and the
``network_stream`` response extension.

httpwire does the HTTP/1.1 handshake; wsproto's post-handshake ``Connection`` does the framing
over ``stream.read()`` / ``stream.write()``. Runs in the sync flavour, and in the async flavour
on asyncio and on trio.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import trio
import websockets.sync.server
from wsproto.connection import Connection as WSConnection
from wsproto.connection import ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Event, Message, TextMessage

import ahttpwire
import httpwire

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
RUNTIMES = ["asyncio", "trio"]


class EchoServer:
    """A ``websockets`` server echoing every message, in a background thread."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.server = websockets.sync.server.serve(
            self._echo, "127.0.0.1", 0, compression=None, process_request=self._record
        )
        self.port = int(self.server.socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _record(self, ws: websockets.sync.server.ServerConnection, request: Any) -> None:
        # Runs during the handshake, before the 101 goes out: no race with the test's checks.
        self.paths.append(request.path)

    def _echo(self, ws: websockets.sync.server.ServerConnection) -> None:
        for message in ws:
            ws.send(message)

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join(10)


@pytest.fixture
def ws_server() -> Iterator[EchoServer]:
    server = EchoServer()
    try:
        yield server
    finally:
        server.stop()


def handshake_headers(port: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The client's opening handshake fields (RFC 6455 section 4.1) and the expected
    ``Sec-WebSocket-Accept`` value."""
    key = base64.b64encode(os.urandom(16))
    accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
    headers = [
        (b"Host", f"127.0.0.1:{port}".encode()),
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Key", key),
        (b"Sec-WebSocket-Version", b"13"),
    ]
    return headers, accept


# The session both flavours run: two messages echoed, then the closing handshake.
OUTGOING: list[Message[Any]] = [
    TextMessage(data="hello, websocket"),
    BytesMessage(data=b"\x00\xff" * 3000),
]


def _collect(ws: WSConnection, received: list[Event]) -> None:
    for event in ws.events():
        received.append(event)


def ws_session_sync(stream: Any) -> list[Event]:
    ws = WSConnection(ConnectionType.CLIENT)
    received: list[Event] = []
    for message in OUTGOING:
        stream.write(ws.send(message), timeout=5)
    while sum(isinstance(e, Message) for e in received) < len(OUTGOING):
        data = stream.read(timeout=5)
        assert data, "the server closed the stream before echoing"
        ws.receive_data(data)
        _collect(ws, received)
    stream.write(ws.send(CloseConnection(code=1000)), timeout=5)
    while ws.state is not ConnectionState.CLOSED:
        data = stream.read(timeout=5)
        ws.receive_data(data or None)
        _collect(ws, received)
        if not data:
            break
    assert ws.state is ConnectionState.CLOSED
    return received


async def ws_session_async(stream: Any) -> list[Event]:
    ws = WSConnection(ConnectionType.CLIENT)
    received: list[Event] = []
    for message in OUTGOING:
        await stream.write(ws.send(message), timeout=5)
    while sum(isinstance(e, Message) for e in received) < len(OUTGOING):
        data = await stream.read(timeout=5)
        assert data, "the server closed the stream before echoing"
        ws.receive_data(data)
        _collect(ws, received)
    await stream.write(ws.send(CloseConnection(code=1000)), timeout=5)
    while ws.state is not ConnectionState.CLOSED:
        data = await stream.read(timeout=5)
        ws.receive_data(data or None)
        _collect(ws, received)
        if not data:
            break
    assert ws.state is ConnectionState.CLOSED
    return received


def check_echoes(received: list[Event]) -> None:
    messages = [e for e in received if isinstance(e, Message)]
    assert [type(m) for m in messages] == [TextMessage, BytesMessage]
    assert messages[0].data == OUTGOING[0].data
    assert bytes(messages[1].data) == OUTGOING[1].data
    closes = [e for e in received if isinstance(e, CloseConnection)]
    assert closes and closes[0].code == 1000


def run(runtime: str, fn: Any, *args: Any) -> Any:
    return asyncio.run(fn(*args)) if runtime == "asyncio" else trio.run(fn, *args)


# -- Connection.upgrade ------------------------------------------------------------------------


def test_sync_websocket_session_over_connection_upgrade(ws_server: EchoServer) -> None:
    headers, _accept = handshake_headers(ws_server.port)
    conn = httpwire.open_connection(ws_server.url, timeout=5)
    stream = conn.upgrade("GET", b"/chat", headers)
    try:
        assert conn.state == "CLOSED"  # the connection is no longer an HTTP connection
        check_echoes(ws_session_sync(stream))
    finally:
        stream.close()
    assert ws_server.paths == ["/chat"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_async_websocket_session_over_connection_upgrade(
    runtime: str, ws_server: EchoServer
) -> None:
    headers, _accept = handshake_headers(ws_server.port)

    async def main() -> list[Event]:
        conn = await ahttpwire.open_connection(ws_server.url, timeout=5)
        stream = await conn.upgrade("GET", b"/chat", headers)
        try:
            assert conn.state == "CLOSED"
            return await ws_session_async(stream)
        finally:
            await stream.aclose()

    check_echoes(run(runtime, main))
    assert ws_server.paths == ["/chat"]


def test_an_upgrade_the_server_refuses_raises(http_server: Any) -> None:
    # The test app accepts no WebSocket: uvicorn answers the handshake with an HTTP error (403),
    # which must not be mistaken for a switch.
    headers, _accept = handshake_headers(http_server.port)
    conn = httpwire.open_connection(http_server.url, timeout=5)
    try:
        with pytest.raises(httpwire.RemoteProtocolError, match="did not switch protocols"):
            conn.upgrade("GET", b"/bytes/10", headers)
    finally:
        conn.close()


# -- client.stream + response.extensions["network_stream"] -----------------------------------


def test_sync_websocket_session_through_client_stream(ws_server: EchoServer) -> None:
    headers, accept = handshake_headers(ws_server.port)
    pool = httpwire.ConnectionPool(max_connections=1)
    with httpwire.Client(transport=pool) as client:
        with client.stream("GET", ws_server.url + "/stream", headers=headers) as response:
            assert response.status_code == 101
            assert response.headers["sec-websocket-accept"].encode() == accept
            assert response.extensions["http_version"] == b"HTTP/1.1"
            stream = response.extensions["network_stream"]
            try:
                check_echoes(ws_session_sync(stream))
            finally:
                stream.close()
        # The upgraded connection left the pool and its slot came back (max_connections=1).
        assert pool.connections == []
        with client.stream(
            "GET", ws_server.url + "/again", headers=headers, timeout={"pool": 5}
        ) as response:
            assert response.status_code == 101
            response.extensions["network_stream"].close()
    assert ws_server.paths == ["/stream", "/again"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_async_websocket_session_through_client_stream(runtime: str, ws_server: EchoServer) -> None:
    headers, accept = handshake_headers(ws_server.port)

    async def main() -> list[Event]:
        pool = ahttpwire.ConnectionPool(max_connections=1)
        async with ahttpwire.Client(transport=pool) as client:
            async with client.stream("GET", ws_server.url + "/stream", headers=headers) as response:
                assert response.status_code == 101
                assert response.headers["sec-websocket-accept"].encode() == accept
                stream = response.extensions["network_stream"]
                try:
                    received = await ws_session_async(stream)
                finally:
                    await stream.aclose()
            assert pool.connections == []
            async with client.stream(
                "GET", ws_server.url + "/again", headers=headers, timeout={"pool": 5}
            ) as response:
                assert response.status_code == 101
                await response.extensions["network_stream"].aclose()
        return received

    check_echoes(run(runtime, main))
    assert ws_server.paths == ["/stream", "/again"]
