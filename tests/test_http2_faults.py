"""HTTP/2 against hostile and impatient servers (issue 9, items 3, 5, 7 and the HTTP/2 half of 9),
in the sync flavour, on asyncio and on trio:

- floods of PING / SETTINGS, with the server reading or not: the request ends within its limits
  and the connection ends with GOAWAY(ENHANCE_YOUR_CALM);
- control frames are no progress for a stream; a ``timeout()`` block ends a request on time while
  DATA keeps arriving; a write limit holds against a server that stops reading;
- a garbage server preface is a ``RemoteProtocolError`` at once;
- a connection broken by a ``timeout()`` block is closed, not left to the garbage collector;
- a connection whose only stream timed out counts as used (a later GET is retried);
- nginx with ``keepalive_timeout 2`` and hypercorn with a short keep-alive timeout close idle
  connections: a POST sent afterwards goes out on a new connection.

The raw servers here are hand-written for fault injection only (127.0.0.1, port 0); each serves
for a bounded time (``hold`` seconds) and is stopped by the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import select
import socket
import threading
import time
import warnings
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import hpack
import pytest
import trio
from app import pattern
from conftest_h2 import *  # noqa: F403
from h2servers import H2FaultServer, HypercornServer, NginxH2Server
from hyperframe.frame import DataFrame, HeadersFrame, PingFrame, SettingsFrame
from servers import HOST

import ahttpwire
import httpwire
from httpwire._async import _http2 as async_http2
from httpwire._sync import _http2 as sync_http2

FLAVOURS = ["sync", "asyncio", "trio"]
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_GOAWAY = 0x7
_ENHANCE_YOUR_CALM = 0xB


def _timeouts(read: float | None, write: float | None) -> dict[str, Any]:
    return {"timeout": {"connect": 5.0, "read": read, "write": write, "pool": 5.0}}


def _run(
    flavour: str, sync_fn: Callable[[], Any], async_fn: Callable[[], Coroutine[Any, Any, Any]]
) -> Any:
    if flavour == "sync":
        return sync_fn()
    if flavour == "asyncio":
        return asyncio.run(async_fn())
    return trio.run(async_fn)


# -- a raw HTTP/2 server for faults -----------------------------------------------------------------


class RawH2Server:
    """Accepts connections on 127.0.0.1 and runs ``behaviour(conn)`` for each in a thread.

    ``conn`` is a :class:`_RawConn`. Everything stops after ``hold`` seconds or at ``stop()``.
    ``rcvbuf``: a small receive buffer (bytes), so that a client writing to a server that does not
    read blocks soon."""

    def __init__(
        self, behaviour: Callable[[_RawConn], None], *, hold: float = 6.0, rcvbuf: int | None = None
    ) -> None:
        self.behaviour = behaviour
        self.hold = hold
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self._sock.bind((HOST, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.conns: list[_RawConn] = []
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)
        self._accept_thread.start()

    def _accept(self) -> None:
        deadline = time.monotonic() + self.hold
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                sock, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn = _RawConn(sock, self._stop, deadline)
            self.conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: _RawConn) -> None:
        try:
            self.behaviour(conn)
        except OSError:
            pass
        finally:
            conn.sock.close()

    def wait_closed(self, timeout: float = 5.0) -> None:
        """Wait (bounded) until every connection ended: the client closed it (its bytes are
        all read by then) or ``hold`` passed."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._accept_thread.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=10)
        self._sock.close()


class _RawConn:
    def __init__(self, sock: socket.socket, stop: threading.Event, deadline: float) -> None:
        self.sock = sock
        self.stop = stop
        self.deadline = deadline
        self.received = bytearray()
        sock.settimeout(0.2)

    @property
    def alive(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.deadline

    def read_request(self) -> None:
        """Read until the preface and the first HEADERS frame arrived (bounded)."""
        while self.alive and self._first_headers() is None:
            if not self.drain(0.2):
                return

    def _first_headers(self) -> int | None:
        for kind, _flags, stream_id, _payload in self.frames():
            if kind == 0x1:
                return stream_id
        return None

    def drain(self, wait: float = 0.0) -> bool:
        """Read what the client sent (waiting up to ``wait`` s); False once it closed."""
        if not select.select([self.sock], [], [], wait)[0]:
            return True
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            return True
        except ConnectionResetError:
            return False
        self.received += data
        return bool(data)

    def frames(self) -> Iterator[tuple[int, int, int, bytes]]:
        data = bytes(self.received)
        pos = len(_PREFACE) if data.startswith(_PREFACE) else 0
        while pos + 9 <= len(data):
            length = int.from_bytes(data[pos : pos + 3], "big")
            if pos + 9 + length > len(data):
                return
            kind, flags = data[pos + 3], data[pos + 4]
            stream_id = int.from_bytes(data[pos + 5 : pos + 9], "big") & 0x7FFFFFFF
            yield kind, flags, stream_id, data[pos + 9 : pos + 9 + length]
            pos += 9 + length

    def goaway_code(self) -> int | None:
        for kind, _flags, _sid, payload in self.frames():
            if kind == _GOAWAY:
                return int.from_bytes(payload[4:8], "big")
        return None

    def send(self, data: bytes) -> bool:
        """Send ``data``; False when the client does not take it within 0.2 s or is gone."""
        try:
            self.sock.sendall(data)
            return True
        except (TimeoutError, BlockingIOError):
            return False


def _settings(**values: int) -> bytes:
    frame = SettingsFrame(0)
    codes = {"initial_window_size": 0x4, "max_concurrent_streams": 0x3}
    for name, value in values.items():
        frame.settings[codes[name]] = value
    return frame.serialize()


_PING = PingFrame(0, opaque_data=b"floodfld").serialize()
_EMPTY_SETTINGS = SettingsFrame(0).serialize()


def _flood(frame: bytes, *, read: bool) -> Callable[[_RawConn], None]:
    """SETTINGS, then ``frame`` over and over. Without ``read``: until the client closes or
    ``hold`` passes, reading nothing. With ``read``: 1,500 of them (more than the client's flood
    limit), then only reading (and keeping) what the client sends until it closes (its GOAWAY
    then reaches us: a client closing with unread bytes would reset the connection)."""

    def behaviour(conn: _RawConn) -> None:
        conn.send(_settings())
        conn.read_request()
        if read:
            for _ in range(15):
                conn.send(frame * 100)
                conn.drain()
            while conn.alive and conn.drain(0.2):
                pass
            return
        batch = frame * 200
        while conn.alive:
            conn.send(batch)

    return behaviour


def _slow_flood(frame: bytes, per_second: int) -> Callable[[_RawConn], None]:
    """``frame`` ``per_second`` times a second (below the flood limit), reading all the while,
    and never a response."""

    def behaviour(conn: _RawConn) -> None:
        conn.send(_settings())
        next_at = time.monotonic()
        while conn.alive:
            now = time.monotonic()
            if now >= next_at:
                conn.send(frame)
                next_at += 1.0 / per_second
            if not conn.drain(max(0.0, next_at - now)):
                return

    return behaviour


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawH2Server]]:
    started: list[RawH2Server] = []

    def start(behaviour: Callable[[_RawConn], None], **options: Any) -> RawH2Server:
        server = RawH2Server(behaviour, **options)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def _request_ends(
    flavour: str,
    url: str,
    *,
    read: float | None,
    write: float | None,
    block: float | None = None,
    method: str = "GET",
    content: bytes | None = None,
    socket_options: list[Any] | None = None,
) -> tuple[BaseException | None, float]:
    """Send one request through an HTTP/2 prior-knowledge pool; (its error, seconds taken)."""
    ext = _timeouts(read, write)

    def sync_fn() -> tuple[BaseException | None, float]:
        start = time.monotonic()
        with httpwire.ConnectionPool(
            http1=False, http2=True, socket_options=socket_options
        ) as pool:
            try:
                with httpwire.timeout(block):
                    pool.request(method, url, content=content, extensions=ext)
            except Exception as exc:
                return exc, time.monotonic() - start
        return None, time.monotonic() - start

    async def async_fn() -> tuple[BaseException | None, float]:
        start = time.monotonic()
        async with ahttpwire.ConnectionPool(
            http1=False, http2=True, socket_options=socket_options
        ) as pool:
            try:
                async with ahttpwire.timeout(block):
                    await pool.request(method, url, content=content, extensions=ext)
            except Exception as exc:
                return exc, time.monotonic() - start
        return None, time.monotonic() - start

    return typing_cast(_run(flavour, sync_fn, async_fn))


def typing_cast(value: Any) -> tuple[BaseException | None, float]:
    return value  # type: ignore[no-any-return]


# -- item 5: floods ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("frame", [_PING, _EMPTY_SETTINGS], ids=["ping", "settings"])
def test_a_flood_from_a_server_that_stops_reading_ends_within_the_limits(
    flavour: str, frame: bytes, raw_server: Callable[..., RawH2Server]
) -> None:
    """The server floods and reads nothing: the request ends within read + write limits (by the
    flood limit or by the write limit of the acknowledgements), not when the server gives up."""
    server = raw_server(_flood(frame, read=False), hold=8.0, rcvbuf=4096)
    error, elapsed = _request_ends(flavour, server.url + "/", read=1.0, write=1.0)
    assert isinstance(error, httpwire.WriteTimeout | httpwire.RemoteProtocolError), error
    assert elapsed < 3.0


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_acknowledgements_are_written_within_the_write_limit(
    flavour: str, raw_server: Callable[..., RawH2Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the flood limit out of the way, PING acknowledgements to a server that stops reading
    fill the buffers: their write ends with WriteTimeout after the write limit."""
    for module in (async_http2, sync_http2):
        monkeypatch.setattr(module, "_FLOOD_LIMIT", 10**9, raising=False)
    server = raw_server(_flood(_PING, read=False), hold=8.0, rcvbuf=4096)
    small_send_buffer = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)]
    error, elapsed = _request_ends(
        flavour, server.url + "/", read=5.0, write=1.0, socket_options=small_send_buffer
    )
    assert isinstance(error, httpwire.WriteTimeout), error
    assert elapsed < 3.0


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("frame", [_PING, _EMPTY_SETTINGS], ids=["ping", "settings"])
def test_a_flood_ends_the_connection_with_enhance_your_calm(
    flavour: str, frame: bytes, raw_server: Callable[..., RawH2Server]
) -> None:
    server = raw_server(_flood(frame, read=True), hold=8.0)
    error, elapsed = _request_ends(flavour, server.url + "/", read=5.0, write=5.0)
    assert isinstance(error, httpwire.RemoteProtocolError), error
    assert "ENHANCE_YOUR_CALM" in str(error)
    assert elapsed < 3.0
    server.stop()
    assert server.conns and server.conns[0].goaway_code() == _ENHANCE_YOUR_CALM


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_control_frames_are_no_progress_for_a_stream(
    flavour: str, raw_server: Callable[..., RawH2Server]
) -> None:
    """PINGs below the flood limit, the server reading, no response: the read timeout of 1 s
    ends the request (each PING used to restart it)."""
    server = raw_server(_slow_flood(_PING, per_second=40), hold=6.0)
    error, elapsed = _request_ends(flavour, server.url + "/", read=1.0, write=1.0)
    assert isinstance(error, httpwire.ReadTimeout), error
    assert elapsed < 2.5


def _trickle(conn: _RawConn) -> None:
    """A response head, then 1-byte DATA frames as fast as the client takes them."""
    conn.send(_settings())
    conn.read_request()
    encoder = hpack.Encoder()
    head = HeadersFrame(1, data=encoder.encode([(b":status", b"200")]))
    head.flags.add("END_HEADERS")
    conn.send(head.serialize())
    batch = DataFrame(1, data=b"x").serialize() * 500
    while conn.alive:
        conn.send(batch)
        if not conn.drain():
            return


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_timeout_block_ends_a_request_on_time_while_data_keeps_arriving(
    flavour: str, raw_server: Callable[..., RawH2Server]
) -> None:
    """asyncio's read returned bytes already buffered without looking at the deadline: a
    ``timeout(1)`` block ran until the server stopped."""
    server = raw_server(_trickle, hold=6.0)
    error, elapsed = _request_ends(flavour, server.url + "/", read=None, write=None, block=1.0)
    assert isinstance(error, httpwire.TimeoutException), error
    assert elapsed < 2.0


def _garbage(conn: _RawConn) -> None:
    conn.send(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
    while conn.alive and conn.drain(0.2):
        pass


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_garbage_preface_is_a_protocol_error_at_once(
    flavour: str, raw_server: Callable[..., RawH2Server]
) -> None:
    server = raw_server(_garbage, hold=6.0)
    error, elapsed = _request_ends(flavour, server.url + "/", read=4.0, write=4.0)
    assert isinstance(error, httpwire.RemoteProtocolError), error
    assert "SETTINGS" in str(error)
    assert elapsed < 2.0


def _read_slowly(conn: _RawConn) -> None:
    """SETTINGS with large windows, then 4 KiB read every 0.3 s: an upload moves, slowly."""
    conn.send(_settings(initial_window_size=2**31 - 1))
    window = bytearray(b"\x00\x00\x04\x08\x00\x00\x00\x00\x00")
    window += (2**31 - 1 - 65535).to_bytes(4, "big")
    conn.send(bytes(window))
    while conn.alive:
        time.sleep(0.3)
        try:
            if not conn.sock.recv(4096):
                return
        except (TimeoutError, BlockingIOError):
            pass


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_write_limit_bounds_the_whole_write(
    flavour: str, raw_server: Callable[..., RawH2Server]
) -> None:
    """An upload to a server that reads slowly: WriteTimeout after the write limit for the
    whole write, not for each send() that moved a few bytes (sync took 3 s for a limit of 1 s)."""
    server = raw_server(_read_slowly, hold=8.0, rcvbuf=4096)
    small_send_buffer = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)]
    error, elapsed = _request_ends(
        flavour,
        server.url + "/",
        read=5.0,
        write=1.0,
        method="POST",
        content=b"x" * (1024 * 1024),
        socket_options=small_send_buffer,
    )
    assert isinstance(error, httpwire.WriteTimeout), error
    assert elapsed < 1.8


def _send_and_hold(conn: _RawConn) -> None:
    conn.send(b"x" * 100)
    while conn.alive and conn.drain(0.2):
        pass


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_read_past_the_deadline_fails_even_with_bytes_buffered(
    flavour: str, raw_server: Callable[..., RawH2Server]
) -> None:
    """The backends' read: once a ``timeout()`` block's deadline passed, ``read()`` raises
    ReadTimeout even when bytes wait (asyncio returned them: a peer that keeps sending carried an
    HTTP/2 request 3 s past a 2 s block)."""
    server = raw_server(_send_and_hold, hold=5.0)

    def sync_fn() -> None:
        with httpwire.NetworkBackend().connect(HOST, server.port, timeout=5.0) as stream:
            for _ in range(500):
                if stream.get_extra_info("is_readable"):
                    break
                time.sleep(0.01)
            with httpwire.timeout(0), pytest.raises(httpwire.ReadTimeout):
                stream.read(65536, 5.0)

    async def async_fn() -> None:
        stream = await ahttpwire.NetworkBackend().connect(HOST, server.port, timeout=5.0)
        try:
            for _ in range(500):
                if stream.get_extra_info("is_readable"):
                    break
                await _sleep(0.01)
            with ahttpwire.timeout(0), pytest.raises(httpwire.ReadTimeout):
                await stream.read(65536, 5.0)
        finally:
            await stream.aclose()

    _run(flavour, sync_fn, async_fn)


async def _sleep(seconds: float) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        await trio.sleep(seconds)
    else:
        await asyncio.sleep(seconds)


# -- issue 13: a malformed response is a stream error ----------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_malformed_response_fails_its_request_alone(
    flavour: str, h2_fault: H2FaultServer
) -> None:
    """DATA beyond the response's Content-Length is a stream error (RFC 9113 section 8.1.1): our
    engine resets that stream and its request fails; the connection carries the next request
    (stream 3). (On h2 it was a connection error: the next request needed a new connection.)"""
    url = h2_fault.url

    def sync_fn() -> None:
        with httpwire.ConnectionPool(http1=False, http2=True) as pool:
            with pytest.raises(httpwire.RemoteProtocolError, match="PROTOCOL_ERROR"):
                pool.request("GET", url + "/overlong")
            response = pool.request("GET", url + "/bytes/10")
            assert response.content == pattern(10)
            assert response.extensions["stream_id"] == 3
            assert len(pool.connections) == 1

    async def async_fn() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True) as pool:
            with pytest.raises(httpwire.RemoteProtocolError, match="PROTOCOL_ERROR"):
                await pool.request("GET", url + "/overlong")
            response = await pool.request("GET", url + "/bytes/10")
            assert response.content == pattern(10)
            assert response.extensions["stream_id"] == 3
            assert len(pool.connections) == 1

    _run(flavour, sync_fn, async_fn)


# -- item 7: a connection broken by a timeout() block is closed ---------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_connection_broken_by_a_timeout_block_is_closed(
    flavour: str, h2_fault: H2FaultServer
) -> None:
    """The block's deadline has passed when the stream is reset: the RST_STREAM cannot be
    written, the connection is broken, and it must be closed (not left to the garbage collector
    with its socket open: a ResourceWarning)."""
    url = h2_fault.url + "/wait/5"

    def sync_fn() -> None:
        client = httpwire.Client(transport=httpwire.ConnectionPool(http1=False, http2=True))
        with pytest.raises(httpwire.TimeoutException), httpwire.timeout(0.3):
            client.get(url)
        client.close()

    async def async_fn() -> None:
        client = ahttpwire.Client(transport=ahttpwire.ConnectionPool(http1=False, http2=True))
        with pytest.raises(httpwire.TimeoutException):
            async with ahttpwire.timeout(0.3):
                await client.get(url)
        await client.aclose()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        _run(flavour, sync_fn, async_fn)
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


# -- item 9 (HTTP/2): a connection whose only stream timed out was used -------------------------------


def _respond(conn: _RawConn, stream_id: int, body: bytes) -> None:
    head = HeadersFrame(
        stream_id,
        data=hpack.Encoder().encode(
            [(b":status", b"200"), (b"content-length", str(len(body)).encode())]
        ),
    )
    head.flags.add("END_HEADERS")
    data = DataFrame(stream_id, data=body)
    data.flags.add("END_STREAM")
    conn.send(head.serialize() + data.serialize())


def _drop_the_second_request() -> Callable[[_RawConn], None]:
    """First connection: never answers its first request; closes (no GOAWAY) when a second
    request arrives. Later connections: answer every request with ``ok``."""
    first = threading.Event()

    def behaviour(conn: _RawConn) -> None:
        conn.send(_settings())
        if not first.is_set():
            first.set()
            while conn.alive and conn.drain(0.2):
                if sum(1 for f in conn.frames() if f[0] == 0x1) >= 2:
                    return  # closed without a word
            return
        answered: set[int] = set()
        while conn.alive and conn.drain(0.2):
            for kind, _flags, stream_id, _payload in list(conn.frames()):
                if kind == 0x1 and stream_id not in answered:
                    answered.add(stream_id)
                    _respond(conn, stream_id, b"ok")

    return behaviour


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_get_after_a_timed_out_stream_is_retried_when_the_server_drops_the_connection(
    flavour: str, raw_server: Callable[..., RawH2Server]
) -> None:
    """The connection's only stream timed out (requests_completed stayed 0), then the server
    closes it as the next GET arrives: that GET is sent again on a new connection (httpx does),
    because the connection had been used."""
    server = raw_server(_drop_the_second_request(), hold=8.0)
    url = server.url + "/"
    short = _timeouts(read=0.5, write=2.0)
    normal = _timeouts(read=3.0, write=3.0)

    def sync_fn() -> bytes:
        with httpwire.ConnectionPool(http1=False, http2=True) as pool:
            with pytest.raises(httpwire.ReadTimeout):
                pool.request("GET", url, extensions=short)
            return pool.request("GET", url, extensions=normal).content

    async def async_fn() -> bytes:
        async with ahttpwire.ConnectionPool(http1=False, http2=True) as pool:
            with pytest.raises(httpwire.ReadTimeout):
                await pool.request("GET", url, extensions=short)
            return (await pool.request("GET", url, extensions=normal)).content

    assert _run(flavour, sync_fn, async_fn) == b"ok"
    assert len(server.conns) == 2


# -- item 3: an idle connection the server closed -----------------------------------------------------


@pytest.fixture(scope="module")
def nginx_h2_short_keepalive(
    h2_cert_files: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxH2Server]:
    certfile, keyfile = h2_cert_files
    root = Path(tmp_path_factory.mktemp("nginx-h2-keepalive"))
    server = NginxH2Server(root, certfile, keyfile, keepalive_timeout="2s").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hypercorn_h2_short_keepalive(
    h2_cert_files: tuple[str, str], h2_ssl_context: Any
) -> Iterator[HypercornServer]:
    certfile, keyfile = h2_cert_files
    server = HypercornServer(
        certfile=certfile,
        keyfile=keyfile,
        client_ssl_context=h2_ssl_context,
        keep_alive_timeout=1.0,
    ).start()
    try:
        yield server
    finally:
        server.stop()


def _closed_by_server(pool: Any) -> bool:
    """The pool's only connection has unread bytes (the server's GOAWAY or its close)."""
    (conn,) = pool.connections
    return bool(conn.protocol._network_stream.get_extra_info("is_readable"))


def _post_after_idle_close(flavour: str, url: str, ctx: Any, expected_status: int) -> None:
    """GET, wait (bounded) until the server closed the idle connection, then POST: it must be
    answered, on a new connection, whatever its method."""
    ext = _timeouts(read=5.0, write=5.0)

    def sync_fn() -> None:
        with httpwire.Client(http2=True, verify=ctx) as client:
            assert client.get(url).http_version == "HTTP/2"
            pool = client._transport
            for _ in range(100):
                if _closed_by_server(pool):
                    break
                time.sleep(0.05)
            assert _closed_by_server(pool)
            response = client.post(url, content=b"x" * 1000, extensions=ext)
            assert (response.status_code, response.http_version) == (expected_status, "HTTP/2")
            assert len(pool.connections) == 1

    async def async_fn() -> None:
        async with ahttpwire.Client(http2=True, verify=ctx) as client:
            assert (await client.get(url)).http_version == "HTTP/2"
            pool = client._transport
            for _ in range(100):
                if _closed_by_server(pool):
                    break
                await _sleep(0.05)
            assert _closed_by_server(pool)
            response = await client.post(url, content=b"x" * 1000, extensions=ext)
            assert (response.status_code, response.http_version) == (expected_status, "HTTP/2")
            assert len(pool.connections) == 1

    _run(flavour, sync_fn, async_fn)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_nginx_post_after_the_server_closed_the_idle_connection(
    flavour: str, nginx_h2_short_keepalive: NginxH2Server, h2_ssl_context: Any
) -> None:
    """nginx ``keepalive_timeout 2``: GOAWAY and close after 2 s idle. The POST (nginx answers
    405 for a static file: it was received and answered) must not be written into the closed
    connection."""
    _post_after_idle_close(
        flavour, nginx_h2_short_keepalive.url + "/small", h2_ssl_context, expected_status=405
    )


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_hypercorn_post_after_the_server_closed_the_idle_connection(
    flavour: str, hypercorn_h2_short_keepalive: HypercornServer, h2_ssl_context: Any
) -> None:
    _post_after_idle_close(
        flavour, hypercorn_h2_short_keepalive.url + "/echo", h2_ssl_context, expected_status=200
    )


# -- item 3: a GOAWAY that arrives after the staleness check ------------------------------------------


def _goaway_when_idle() -> Callable[[_RawConn], None]:
    """Answers the first request, then sends GOAWAY(NO_ERROR, last stream 1) and keeps the
    connection open (reading); later connections answer everything."""
    first = threading.Event()

    def behaviour(conn: _RawConn) -> None:
        conn.send(_settings())
        answered: set[int] = set()
        goaway_sent = False
        initial = not first.is_set()
        first.set()
        while conn.alive and conn.drain(0.2):
            for kind, _flags, stream_id, _payload in list(conn.frames()):
                if kind != 0x1 or stream_id in answered:
                    continue
                answered.add(stream_id)
                if initial and goaway_sent:
                    continue  # above last_stream_id: never processed
                _respond(conn, stream_id, b"ok %d" % stream_id)
                if initial:
                    # The server's delay under test: GOAWAY later than the response, so that the
                    # client reads it on its own (idle), not as part of the request.
                    time.sleep(0.3)
                    goaway = bytearray(b"\x00\x00\x08\x07\x00\x00\x00\x00\x00")
                    goaway += stream_id.to_bytes(4, "big") + (0).to_bytes(4, "big")
                    conn.send(bytes(goaway))
                    goaway_sent = True

    return behaviour


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_goaway_received_while_idle_is_processed_before_reuse(
    flavour: str, raw_server: Callable[..., RawH2Server]
) -> None:
    """Straight on the connection (no pool check before): ``send()`` reads the GOAWAY that
    waits, and the POST is refused (StreamRefused: never sent, safe to retry anywhere)."""
    server = raw_server(_goaway_when_idle(), hold=6.0)
    origin = ("http", HOST, server.port)
    ext = _timeouts(read=3.0, write=3.0)

    def sync_fn() -> None:
        stream = httpwire.NetworkBackend().connect(HOST, server.port, timeout=5.0)
        with sync_http2.HTTP2Connection(origin, stream) as conn:
            assert conn.request("GET", server.url + "/", extensions=ext).content == b"ok 1"
            for _ in range(100):
                if stream.get_extra_info("is_readable"):
                    break
                time.sleep(0.05)
            with pytest.raises(sync_http2.StreamRefused):
                conn.request("POST", server.url + "/", content=b"once", extensions=ext)
            assert conn.is_stale()

    async def async_fn() -> None:
        stream = await ahttpwire.NetworkBackend().connect(HOST, server.port, timeout=5.0)
        async with async_http2.AsyncHTTP2Connection(origin, stream) as conn:
            assert (await conn.request("GET", server.url + "/", extensions=ext)).content == b"ok 1"
            for _ in range(100):
                if stream.get_extra_info("is_readable"):
                    break
                await _sleep(0.05)
            with pytest.raises(async_http2.StreamRefused):
                await conn.request("POST", server.url + "/", content=b"once", extensions=ext)
            assert conn.is_stale()

    _run(flavour, sync_fn, async_fn)
    server.wait_closed()
    # The POST never reached the server (it read everything until the client closed).
    assert sum(1 for f in server.conns[0].frames() if f[0] == 0x1) == 1


def test_a_shielded_write_ends_soon_after_a_trio_cancellation(
    raw_server: Callable[..., RawH2Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """trio shields connection writes from cancellation (a cut write would break every stream);
    with no write limit, a server that floods PINGs and stops reading held a cancelled task in
    the shielded acknowledgement write for ever. Now it ends 1 s after the cancel deadline."""
    monkeypatch.setattr(async_http2, "_FLOOD_LIMIT", 10**9, raising=False)
    server = raw_server(_flood(_PING, read=False), hold=8.0, rcvbuf=4096)
    small_send_buffer = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)]

    async def main() -> float:
        start = time.monotonic()
        async with ahttpwire.ConnectionPool(
            http1=False, http2=True, socket_options=small_send_buffer
        ) as pool:
            with trio.move_on_after(1.0), contextlib.suppress(httpwire.TransportError):
                await pool.request("GET", server.url + "/", extensions=_timeouts(None, None))
            return time.monotonic() - start

    assert trio.run(main) < 3.0
