"""Memory a peer controls (issue 9, item 6), in every flavour (sync, asyncio, trio).

A peer decides the Content-Length it declares and how much a compressed body expands; neither
may decide how much memory the client holds. Each test measures the peak of Python's
allocations (``tracemalloc``) while a request runs against a hand-written fault server:

- a huge declared Content-Length followed by a few hundred KB: what arrived is held, not what
  was declared (the old code reserved the whole declared size: +1 GiB, or ``MemoryError``);
- a Content-Length too large to represent: ``RemoteProtocolError`` naming the header (the old
  code raised ``OverflowError`` / ``SystemError`` / ``MemoryError``), HTTP/1.1 and HTTP/2;
- decompression bombs (64 MiB of zeros in a few hundred bytes to a few KB, each coding and
  ``gzip, gzip``) streamed with ``iter_bytes()``: bounded pieces, flat memory (the old code
  produced the whole 64 MiB as one piece);
- a redirect whose body is a bomb, inside ``client.stream()``: drained undecoded;
- ``max_body_size``: ``read()`` stops with ``ResponseTooLarge`` at the limit.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import brotli
import h2.connection
import pytest
import trio
import zstandard
from h2servers import H2FaultServer, _Conn
from servers import FaultServer

import ahttpwire
import httpwire

RUNTIMES = ["sync", "asyncio", "trio"]

#: What a bomb decodes to: 64 MiB of zeros.
BOMB_SIZE = 64 << 20
#: The body the /clen/ paths send after their head (then they close).
SENT = 300_000
#: The peak allowed while a few hundred KB arrive, or a 64 MiB bomb streams (the old code: the
#: declared size, or the whole bomb at once).
FLAT = 8 << 20


def _zeros_compressed(encode: Callable[[bytes], bytes], finish: Callable[[], bytes]) -> bytes:
    block = bytes(1 << 20)
    return b"".join(encode(block) for _ in range(BOMB_SIZE >> 20)) + finish()


def _zlib_bomb(wbits: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return _zeros_compressed(compressor.compress, compressor.flush)


def _make_bombs() -> dict[str, bytes]:
    gzip_bomb = _zlib_bomb(31)
    twice = zlib.compressobj(9, zlib.DEFLATED, 31)
    br = brotli.Compressor(quality=5)
    zstd = zstandard.ZstdCompressor(level=19).compressobj()
    return {
        "gzip": gzip_bomb,
        "deflate": _zlib_bomb(15),
        "br": _zeros_compressed(br.process, br.finish),
        "zstd": _zeros_compressed(zstd.compress, zstd.flush),
        "gzip, gzip": twice.compress(gzip_bomb) + twice.flush(),
    }


_BOMBS: dict[str, bytes] = {}
_BOMBS_LOCK = threading.Lock()


def bombs() -> dict[str, bytes]:
    with _BOMBS_LOCK:
        if not _BOMBS:
            _BOMBS.update(_make_bombs())
    return _BOMBS


class MemoryFaultServer(FaultServer):
    """:class:`FaultServer` plus these paths:

    - ``/clen/N``          ``Content-Length: N`` (as given), :data:`SENT` bytes, then close.
    - ``/bomb/CODING``     ``200``, ``Content-Encoding: CODING`` (``gzip+gzip`` for
                           ``gzip, gzip``), a bomb of :data:`BOMB_SIZE` bytes decoded.
    - ``/redirect-bomb/CODING``  the same bomb as a ``302`` to ``/ok``.
    """

    _filler = b"x" * SENT

    def _answer(self, conn: socket.socket, path: str, reused: bool = False) -> bool:
        if path.startswith("/clen/"):
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {path[6:]}\r\n\r\n".encode()
            conn.sendall(head + self._filler)
            conn.shutdown(socket.SHUT_WR)
            conn.close()
            self._closed_on_purpose()
            return False
        for prefix, status in (("/bomb/", b"200 OK"), ("/redirect-bomb/", b"302 Found")):
            if path.startswith(prefix):
                coding = path[len(prefix) :].replace("+", ", ")
                body = bombs()[coding]
                conn.sendall(
                    b"HTTP/1.1 " + status + b"\r\nLocation: /ok\r\n"
                    b"Content-Encoding: " + coding.encode() + b"\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                return True
        return super()._answer(conn, path, reused)


@pytest.fixture(scope="module")
def mem_server() -> Iterator[MemoryFaultServer]:
    bombs()  # made once, before any measurement
    server = MemoryFaultServer().start()
    try:
        yield server
    finally:
        server.stop()


def measured(
    runtime: str, sync_fn: Callable[[], Any], async_fn: Callable[[], Awaitable[Any]]
) -> tuple[Any, int]:
    """(what the flavour's function returned or raised, peak bytes Python allocated over what
    it held before) for ``runtime``."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        try:
            if runtime == "sync":
                result: Any = sync_fn()
            elif runtime == "asyncio":
                result = asyncio.run(async_fn())  # type: ignore[arg-type]
            else:
                result = trio.run(async_fn)
        except Exception as exc:  # noqa: BLE001 - returned for the test to check
            result = exc
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak - before


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def measured_get(
    runtime: str, url: str, extensions: dict[str, Any] | None = None, **client_kwargs: Any
) -> tuple[Any, int]:
    """:func:`measured` of one GET of ``url`` by a new client of the flavour."""

    def sync_get() -> Any:
        with httpwire.Client(**client_kwargs) as client:
            return client.get(url, extensions=extensions)

    async def async_get() -> Any:
        async with ahttpwire.Client(**client_kwargs) as client:
            return await client.get(url, extensions=extensions)

    return measured(runtime, sync_get, async_get)


# -- a declared Content-Length ----------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("declared", [1 << 30, 1 << 62, 2**63 - 1])
def test_huge_content_length_holds_what_arrived(
    mem_server: MemoryFaultServer, runtime: str, declared: int
) -> None:
    url = f"{mem_server.url}/clen/{declared}"

    result, peak = measured_get(runtime, url)
    # The body ends early: a truncated body, never MemoryError / OverflowError / SystemError.
    assert isinstance(result, httpwire.RemoteProtocolError), repr(result)
    assert f"received {SENT} bytes" in str(result)
    assert peak < FLAT, f"peak {_mib(peak)} for {SENT} bytes received of {declared} declared"


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("declared", ["9223372036854775808", "9" * 19, "9" * 20, "9" * 30])
def test_content_length_over_2_63_is_a_protocol_error(
    mem_server: MemoryFaultServer, runtime: str, declared: str
) -> None:
    url = f"{mem_server.url}/clen/{declared}"

    result, _ = measured_get(runtime, url)
    assert isinstance(result, httpwire.RemoteProtocolError), repr(result)
    assert "Content-Length too large" in str(result)


@pytest.mark.parametrize("role", ["client", "server"])
def test_http11_engine_refuses_content_length_over_2_63(role: str) -> None:
    import httpwire.http11 as h11

    def receive(value: bytes) -> Any:
        if role == "client":
            conn = h11.Connection(h11.CLIENT)
            conn.send(h11.Request(method="GET", target="/", headers=[("Host", "a")]))
            conn.send(h11.EndOfMessage())
            conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: " + value + b"\r\n\r\n")
        else:
            conn = h11.Connection(h11.SERVER)
            conn.receive_data(
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + value + b"\r\n\r\n"
            )
        return conn.next_event()

    # The largest representable length is a length like any other ...
    largest = str(2**63 - 1).encode()
    assert (b"content-length", largest) in list(receive(largest).headers)
    # ... one more, or more digits, is a framing error naming the header (RFC 9110 section 8.6).
    for value in (str(2**63).encode(), b"9" * 20, b"1" * 40):
        with pytest.raises(h11.RemoteProtocolError, match="Content-Length too large"):
            receive(value)


# -- HTTP/2 -----------------------------------------------------------------------------------


class _ClenConn(_Conn):
    def dispatch(self, sid: int) -> None:
        path: str = self.requests[sid]["path"]
        kind, _, declared = path[1:].partition("/")
        if kind in ("clen", "clen-reset"):
            self.h2.send_headers(
                sid, [(b":status", b"200"), (b"content-length", declared.encode())]
            )
            if kind == "clen":
                self.h2.send_data(sid, b"x" * 1000)
                return
            for _ in range(2):
                self.h2.send_data(sid, b"x" * 10_000)
                self.send()
            self.h2.reset_stream(sid, 2)
            return
        super().dispatch(sid)


class ClenH2Server(H2FaultServer):
    """:class:`H2FaultServer` plus ``/clen/N``: a head with ``content-length: N`` and 1,000
    bytes of body, then nothing (the stream stays open); ``/clen-reset/N``: the head, two DATA
    frames of 10,000 bytes, then ``RST_STREAM(INTERNAL_ERROR)``."""

    def _serve(self, sock: socket.socket) -> None:
        try:
            _ClenConn(self, sock).run()
        except (OSError, h2.exceptions.ProtocolError):
            pass
        finally:
            sock.close()


@pytest.fixture
def clen_h2() -> Iterator[ClenH2Server]:
    server = ClenH2Server().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("declared", ["9223372036854775808", "9" * 20])
def test_http2_content_length_over_2_63_is_a_protocol_error(
    clen_h2: ClenH2Server, runtime: str, declared: str
) -> None:
    url = f"{clen_h2.url}/clen/{declared}"

    def sync_get() -> Any:
        pool = httpwire.ConnectionPool(http1=False, http2=True)
        with httpwire.Client(transport=pool) as client:
            return client.get(url, timeout=5)

    async def async_get() -> Any:
        pool = ahttpwire.ConnectionPool(http1=False, http2=True)
        async with ahttpwire.Client(transport=pool) as client:
            return await client.get(url, timeout=5)

    result, _ = measured(runtime, sync_get, async_get)
    assert isinstance(result, httpwire.RemoteProtocolError), repr(result)
    assert "Content-Length too large" in str(result)


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("declared", [1 << 30, 1 << 62])
def test_http2_huge_content_length_holds_what_arrived(
    clen_h2: ClenH2Server, runtime: str, declared: int
) -> None:
    url = f"{clen_h2.url}/clen-reset/{declared}"

    def sync_get() -> Any:
        pool = httpwire.ConnectionPool(http1=False, http2=True)
        with httpwire.Client(transport=pool) as client:
            return client.get(url, timeout=5)

    async def async_get() -> Any:
        pool = ahttpwire.ConnectionPool(http1=False, http2=True)
        async with ahttpwire.Client(transport=pool) as client:
            return await client.get(url, timeout=5)

    result, peak = measured(runtime, sync_get, async_get)
    assert isinstance(result, httpwire.RemoteProtocolError), repr(result)  # the reset stream
    assert peak < FLAT, f"peak {_mib(peak)} for 20,000 bytes received of {declared} declared"


# -- decompression bombs ----------------------------------------------------------------------

CODINGS = ["gzip", "deflate", "br", "zstd", "gzip+gzip"]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize("chunk_size", [None, 65536])
def test_streamed_bomb_yields_bounded_pieces(
    mem_server: MemoryFaultServer, runtime: str, coding: str, chunk_size: int | None
) -> None:
    url = f"{mem_server.url}/bomb/{coding}"

    def sync_stream() -> tuple[int, int]:
        total = largest = 0
        with httpwire.Client() as client, client.stream("GET", url) as response:
            for piece in response.iter_bytes(chunk_size):
                total += len(piece)
                largest = max(largest, len(piece))
        return total, largest

    async def async_stream() -> tuple[int, int]:
        total = largest = 0
        async with ahttpwire.Client() as client, client.stream("GET", url) as response:
            async for piece in response.aiter_bytes(chunk_size):
                total += len(piece)
                largest = max(largest, len(piece))
        return total, largest

    result, peak = measured(runtime, sync_stream, async_stream)
    assert result == (BOMB_SIZE, 65536), result
    assert peak < FLAT, f"peak {_mib(peak)} streaming a {_mib(BOMB_SIZE)} {coding} bomb"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_redirect_bomb_is_drained_undecoded(mem_server: MemoryFaultServer, runtime: str) -> None:
    """A 302 whose body is a brotli bomb, followed inside client.stream(): the body is read
    raw and dropped, and the connection is reused for the redirect."""
    url = f"{mem_server.url}/redirect-bomb/br"

    def sync_stream() -> Any:
        with httpwire.Client(follow_redirects=True) as client:
            with client.stream("GET", url) as response:
                return response.status_code, response.read(), len(response.history)

    async def async_stream() -> Any:
        async with ahttpwire.Client(follow_redirects=True) as client:
            async with client.stream("GET", url) as response:
                return response.status_code, await response.aread(), len(response.history)

    mem_server.reset_counters()
    result, peak = measured(runtime, sync_stream, async_stream)
    assert result == (200, b"ok", 1), result
    assert mem_server.accepted == 1  # the redirect's connection was reused
    assert peak < FLAT, f"peak {_mib(peak)} following a redirect with a bomb body"


# -- max_body_size ----------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("where", ["client", "extension"])
def test_max_body_size_stops_a_bomb(
    mem_server: MemoryFaultServer, runtime: str, where: str
) -> None:
    limit = 1 << 20
    url = f"{mem_server.url}/bomb/gzip+gzip"
    client_kwargs: dict[str, Any] = {"max_body_size": limit} if where == "client" else {}
    # The extension wins over the client's setting (here: none, or 1 GiB).
    if where == "extension":
        client_kwargs = {"max_body_size": 1 << 30}
    extensions = {"max_body_size": limit} if where == "extension" else None

    result, peak = measured_get(runtime, url, extensions, **client_kwargs)
    assert isinstance(result, httpwire.ResponseTooLarge), repr(result)
    assert result.limit == limit and result.size > limit
    assert f"max_body_size={limit}" in str(result)
    assert peak < 3 * limit + FLAT // 2, f"peak {_mib(peak)} with max_body_size=1 MiB"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_max_body_size_counts_received_bytes_and_lets_small_bodies_through(
    mem_server: MemoryFaultServer, runtime: str
) -> None:
    def sync_get() -> Any:
        with httpwire.Client(max_body_size=SENT - 1) as client:
            ok = client.get(f"{mem_server.url}/ok").content
            try:
                client.get(f"{mem_server.url}/clen/{SENT}")
            except httpwire.ResponseTooLarge as exc:
                return ok, exc.size
            return ok, None

    async def async_get() -> Any:
        async with ahttpwire.Client(max_body_size=SENT - 1) as client:
            ok = (await client.get(f"{mem_server.url}/ok")).content
            try:
                await client.get(f"{mem_server.url}/clen/{SENT}")
            except httpwire.ResponseTooLarge as exc:
                return ok, exc.size
            return ok, None

    result, _ = measured(runtime, sync_get, async_get)
    assert result[0] == b"ok" and result[1] is not None and result[1] > SENT - 1, result


def test_max_body_size_must_be_a_byte_count() -> None:
    for bad in (-1, 1.5, "10", True):
        with pytest.raises(ValueError, match="max_body_size"):
            httpwire.Client(max_body_size=bad)  # type: ignore[arg-type]


def test_http11_lower_level_paths_refuse_content_length_over_2_63() -> None:
    """next_request() (server) and the client's head read before next_body() take the same
    check; sending one is a LocalProtocolError."""
    import httpwire.http11 as h11

    for value in (str(2**63).encode(), b"9" * 20):
        server = h11.Connection(h11.SERVER)
        server.receive_data(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + value + b"\r\n\r\n")
        with pytest.raises(h11.RemoteProtocolError, match="Content-Length too large"):
            server.next_request()
        server = h11.Connection(h11.SERVER)
        server.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        server.next_request()
        with pytest.raises(h11.LocalProtocolError, match="Content-Length too large"):
            server.send_response(200, [("Content-Length", value.decode())])


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_max_body_size_none_per_request_lifts_the_clients_limit(
    mem_server: MemoryFaultServer, runtime: str
) -> None:
    url = f"{mem_server.url}/ok"
    limited, _ = measured_get(runtime, url, max_body_size=1)
    assert isinstance(limited, httpwire.ResponseTooLarge), repr(limited)
    lifted, _ = measured_get(runtime, url, {"max_body_size": None}, max_body_size=1)
    assert lifted.content == b"ok"


def test_brotli_before_1_2_still_decodes_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without output_buffer_limit (brotli < 1.2) each chunk is decoded whole and then cut:
    the same bytes and piece sizes, memory not bounded (the extra asks for brotli >= 1.2)."""
    from httpwire import _decoders

    monkeypatch.setattr(_decoders, "_BROTLI_HAS_LIMIT", False)
    body = brotli.compress(bytes(300_000) + b"end")
    decoder = _decoders.get_decoder("br")
    pieces = list(decoder.decode_pieces(body, 65536))
    assert b"".join(pieces) == bytes(300_000) + b"end"
    assert max(map(len, pieces)) == 65536
