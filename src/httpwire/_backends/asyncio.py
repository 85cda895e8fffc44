"""The asyncio backend: a ``BufferedProtocol`` with its own receive buffer.

asyncio's ``StreamReader`` costs a task switch and several method calls per read; this stream
hands out whatever arrived without awaiting when bytes are already buffered, and waits on a
single future otherwise. Reading pauses the transport above a high-water mark so a large body
never piles up in memory faster than it is consumed.

The transport reads into one 256 KiB buffer per thread (``get_buffer``), and ``buffer_updated``
copies out just the bytes that arrived. With a plain ``Protocol`` asyncio calls
``sock.recv(256 KiB)`` for every read: a 256 KiB allocation shrunk to the size received, which
glibc serves with mmap/munmap whenever its dynamic mmap threshold happens to be below 256 KiB.
Measured on the async_100 bench (small GETs): 58 against 86 us of CPU per request depending
only on that threshold (the same code run with MALLOC_MMAP_THRESHOLD_=4 MiB: 51-58 us either
way); reading into a reused buffer takes malloc out of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import ssl
import threading
from collections.abc import Iterable
from typing import Any

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from .._timeouts import remaining
from ._addresses import (
    HAPPY_EYEBALLS_DELAY,
    apply_socket_options,
    bind_local,
    connect_failure,
    format_addr,
    interleave_addresses,
    os_reason,
)
from .base import (
    DEFAULT_READ_SIZE,
    SOCKET_OPTION,
    AsyncNetworkBackendInterface,
    AsyncNetworkStreamInterface,
    tls_hostname,
)

__all__ = ["AsyncioBackend", "AsyncioStream"]

# Pause reading once this many bytes wait unread; resume when the reader drains below it.
_READ_HIGH_WATER = 256 * 1024


# asyncio's own read size (selector transports read 256 KiB at a time).
_RECV_BUFFER_SIZE = 256 * 1024


class _RecvBuffer(threading.local):
    """One receive buffer per thread. Safe to share between the connections of a loop: the
    transport calls ``get_buffer``, reads into it and calls ``buffer_updated`` in one callback,
    and ``buffer_updated`` copies the bytes out before returning."""

    def __init__(self) -> None:
        self.view = memoryview(bytearray(_RECV_BUFFER_SIZE))


_recv_buffer = _RecvBuffer()


def _expire(fut: asyncio.Future[None], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


class _StreamProtocol(asyncio.BufferedProtocol):
    __slots__ = (
        "transport",
        "_buffer",
        "_buffered",
        "_eof",
        "_exc",
        "_waiter",
        "_paused",
        "_write_paused",
        "_drain_waiter",
    )

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self._exc: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return _recv_buffer.view

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(_recv_buffer.view[:nbytes]))

    def data_received(self, data: bytes) -> None:
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered > _READ_HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                w.set_result(None)

    def eof_received(self) -> bool | None:
        self._eof = True
        self._wake()
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        if exc is not None:
            self._exc = exc
        self._wake()
        d = self._drain_waiter
        if d is not None and not d.done():
            d.set_exception(exc or ConnectionResetError("connection lost"))

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        d = self._drain_waiter
        if d is not None:
            self._drain_waiter = None
            if not d.done():
                d.set_result(None)

    def _wake(self) -> None:
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                w.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        buf = self._buffer
        if len(buf) == 1:
            data = buf[0]
            if len(data) <= max_bytes:
                buf.clear()
            else:
                buf[0] = data[max_bytes:]
                data = data[:max_bytes]
        else:
            data = b"".join(buf)
            buf.clear()
            if len(data) > max_bytes:
                buf.append(data[max_bytes:])
                data = data[:max_bytes]
        self._buffered -= len(data)
        if self._paused and self._buffered <= _READ_HIGH_WATER and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data


class AsyncioStream(AsyncNetworkStreamInterface):
    """A TCP / UNIX / TLS connection on asyncio. Repr: ``<NetworkStream ["127.0.0.1:8443" TLS]>``."""

    # transport.write() takes every byte before the drain wait, the only await of write().
    cancel_safe_writes = True

    __slots__ = (
        "_transport",
        "_protocol",
        "_loop",
        "_closed",
        "_label",
        "_read_deadline",
        "_read_limit",
        "_timer",
        "_timer_at",
    )

    def __init__(self, transport: asyncio.Transport, protocol: _StreamProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._label = format_addr(transport.get_extra_info("peername"))
        # Read timeouts use one lazily re-armed timer per stream instead of a new timer per
        # read (call_later + cancel costs ~2 us, every read): a read only records its deadline;
        # the timer, when it fires, fails the read if that deadline has passed, or re-arms for
        # the current one.
        self._read_deadline = 0.0
        self._read_limit = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def _arm_read_timer(self, seconds: float) -> None:
        deadline = self._loop.time() + seconds
        self._read_deadline = deadline
        self._read_limit = seconds
        if self._timer is None or self._timer_at > deadline:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(deadline, self._on_read_timer)
            self._timer_at = deadline

    def _on_read_timer(self) -> None:
        self._timer = None
        waiter = self._protocol._waiter
        if waiter is None or waiter.done():
            return  # no read is waiting; the next one arms the timer again
        if self._read_deadline == math.inf:
            return
        if self._loop.time() >= self._read_deadline:
            self._protocol._waiter = None
            waiter.set_exception(
                ReadTimeout(f"no bytes arrived from {self._label} within {self._read_limit:.3g} s")
            )
        else:
            self._timer = self._loop.call_at(self._read_deadline, self._on_read_timer)
            self._timer_at = self._read_deadline

    async def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        proto = self._protocol
        # The deadline first, even when bytes wait: a peer that keeps sending (frames nobody
        # asked for, a trickle) must not carry a read past a timeout() block (as sync and trio).
        t = remaining(timeout)
        if t is not None and t <= 0.0:
            raise ReadTimeout("timed out before reading the response (deadline already passed)")
        if proto._buffer:
            return proto.take(max_bytes or DEFAULT_READ_SIZE)
        if proto._eof or self._closed:
            if proto._exc is not None:
                raise ReadError(f"reading from {self._label} failed: {proto._exc}")
            if self._closed:
                raise ReadError("read from a closed stream")
            return b""
        fut: asyncio.Future[None] = self._loop.create_future()
        proto._waiter = fut
        if t is not None:
            self._arm_read_timer(t)
        else:
            self._read_deadline = math.inf  # a pending timer must not fail this read
        try:
            await fut
        finally:
            if proto._waiter is fut:
                proto._waiter = None
        if proto._buffer:
            return proto.take(max_bytes or DEFAULT_READ_SIZE)
        if proto._exc is not None:
            raise ReadError(f"reading from {self._label} failed: {proto._exc}")
        if self._closed:
            raise ReadError("read from a closed stream")
        return b""

    async def write(self, data: bytes, timeout: float | None = None) -> None:
        if not data:
            return
        if self._closed or self._transport.is_closing():
            exc = self._protocol._exc
            raise WriteError(f"writing to {self._label} failed: {exc or 'connection closed'}")
        try:
            self._transport.write(data)
        except (OSError, RuntimeError) as exc:
            raise WriteError(f"writing to {self._label} failed: {exc}") from exc
        proto = self._protocol
        if not proto._write_paused:
            return
        t = remaining(timeout)
        if t is not None and t <= 0.0:
            raise WriteTimeout("timed out writing the request (deadline already passed)")
        fut: asyncio.Future[None] = self._loop.create_future()
        proto._drain_waiter = fut
        timer = None
        if t is not None:
            timer = self._loop.call_later(
                t, _expire, fut, WriteTimeout(f"could not write to {self._label} within {t:.3g} s")
            )
        try:
            await fut
        except WriteTimeout:
            raise
        except (OSError, RuntimeError) as exc:
            raise WriteError(f"writing to {self._label} failed: {exc}") from exc
        finally:
            if timer is not None:
                timer.cancel()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        hostname: str | bytes | None = None,
        timeout: float | None = None,
        *,
        server_hostname: str | bytes | None = None,
    ) -> AsyncioStream:
        """TLS handshake over this transport; the stream is upgraded in place and returned."""
        server_hostname = tls_hostname(hostname, server_hostname)
        t = remaining(timeout)
        if t is not None and t <= 0.0:
            raise ConnectTimeout("timed out before the TLS handshake (deadline already passed)")
        try:
            async with asyncio.timeout(t):
                transport = await self._loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.abort()
            raise ConnectTimeout(
                f"TLS handshake with {self._label} timed out after {t:.3g} s"
            ) from None
        except (OSError, ssl.SSLError) as exc:
            self._transport.abort()
            raise ConnectError(f"TLS handshake with {self._label} failed: {exc}") from exc
        except BaseException:
            self._transport.abort()
            raise
        assert isinstance(transport, asyncio.Transport)
        self._protocol.transport = transport
        self._transport = transport  # in place: this object is now the TLS stream
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # A connection made on another (maybe closed) event loop cannot be used on this
            # one: report it stale so a pool shared across asyncio.run() calls discards it.
            try:
                other_loop = asyncio.get_running_loop() is not self._loop
            except RuntimeError:
                # No asyncio loop here: the pool is being used under trio (or outside any loop).
                other_loop = True
            return other_loop or bool(self._protocol._buffer) or self._protocol._eof or self._closed
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            # abort(): no graceful flush; an HTTP client closes only between or after messages,
            # or to discard a broken one, and must not wait on a peer to do so.
            try:
                self._transport.abort()
            except RuntimeError:
                # Its event loop is closed already (a client reused across asyncio.run calls):
                # close the socket directly.
                sock = self._transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        socket.socket(fileno=sock.detach()).close()

    def __repr__(self) -> str:
        tls = " TLS" if self._transport.get_extra_info("ssl_object") is not None else ""
        closed = " CLOSED" if self._closed else ""
        return f'<NetworkStream ["{self._label}"{tls}{closed}]>'


def _is_ip_literal(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return True
    return False


def _describe(exc: BaseException) -> str:
    # asyncio's sock_connect says "Connect call failed (addr)"; the errno's text is the news.
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


async def _attempt(
    loop: asyncio.AbstractEventLoop,
    info: Any,
    local_address: str | None,
    socket_options: Iterable[SOCKET_OPTION] | None,
) -> socket.socket:
    """One TCP connect to one resolved address; the socket is closed on any failure."""
    family, type_, proto, _canon, addr = info
    sock = socket.socket(family, type_, proto)
    try:
        sock.setblocking(False)
        apply_socket_options(sock, socket_options)
        if local_address is not None:
            bind_local(sock, family, local_address)
        await loop.sock_connect(sock, addr)
    except BaseException:
        sock.close()
        raise
    return sock


def _close_result(task: asyncio.Task[socket.socket]) -> None:
    # A race attempt that connected after the race was decided: nobody will use its socket.
    if not task.cancelled() and task.exception() is None:
        task.result().close()


async def _race(
    loop: asyncio.AbstractEventLoop,
    infos: list[Any],
    local_address: str | None,
    socket_options: Iterable[SOCKET_OPTION] | None,
    errors: list[str],
) -> socket.socket | None:
    """Happy Eyeballs (RFC 8305 section 5): one task per attempt, the next one started after
    :data:`HAPPY_EYEBALLS_DELAY` seconds or as soon as an attempt fails.

    Returns the first socket to connect, or None when every attempt failed (each failure is
    appended to ``errors``). When it returns or raises (cancellation, the connect timeout), every
    other attempt has been cancelled and its socket closed.
    """
    running: dict[asyncio.Task[socket.socket], Any] = {}
    pending = list(infos)
    winner: socket.socket | None = None
    try:
        while True:
            if pending:
                info = pending.pop(0)
                running[loop.create_task(_attempt(loop, info, local_address, socket_options))] = (
                    info[4]
                )
            if not running:
                return None
            done, _ = await asyncio.wait(
                running,
                timeout=HAPPY_EYEBALLS_DELAY if pending else None,
                return_when=asyncio.FIRST_COMPLETED,
            )
            failure: BaseException | None = None
            for task in done:
                addr = running.pop(task)
                exc = task.exception()
                if exc is None:
                    if winner is None:
                        winner = task.result()
                    else:  # two connected in the same loop iteration: the first one wins
                        task.result().close()
                elif isinstance(exc, OSError):
                    errors.append(f"{format_addr(addr)}: {_describe(exc)}")
                else:
                    failure = exc
            if failure is not None:
                raise failure
            if winner is not None:
                return winner
            # Either the delay passed or an attempt failed: the loop starts the next address.
    finally:
        if running:
            for task in running:
                task.cancel()
                task.add_done_callback(_close_result)
            try:
                # Let the losers run their cleanup now, so no socket outlives connect(). Should
                # we be cancelled again meanwhile, the callbacks still close what they hold.
                await asyncio.wait(running)
            except BaseException:
                if winner is not None:
                    winner.close()
                raise


class AsyncioBackend(AsyncNetworkBackendInterface):
    """Opens connections on the running asyncio loop. Repr: ``<NetworkBackend [asyncio]>``.

    An IP literal (the common ``127.0.0.1`` case) is connected to directly by the loop. A host
    name is resolved first; when DNS returns several addresses they race per RFC 8305 ("Happy
    Eyeballs", as in the threaded backend): IPv6 and IPv4 interleaved, the next attempt started
    after :data:`HAPPY_EYEBALLS_DELAY` seconds or when the previous one fails, the first to connect
    winning and the others closed. The connect ``timeout`` bounds the whole race; a
    ``ConnectError`` names every address tried. Cancelling ``connect`` closes every socket it
    opened.
    """

    async def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncioStream:
        t = remaining(timeout)
        if t is not None and t <= 0.0:
            raise ConnectTimeout(f"timed out before connecting to {host}:{port}")
        loop = asyncio.get_running_loop()
        errors: list[str] = []
        try:
            async with asyncio.timeout(t):
                if not socket_options and _is_ip_literal(host):
                    transport, protocol = await loop.create_connection(
                        _StreamProtocol,
                        host,
                        port,
                        local_addr=None if local_address is None else (local_address, 0),
                    )
                else:
                    sock = await self._open_socket(
                        loop, host, port, local_address, socket_options, errors
                    )
                    try:
                        transport, protocol = await loop.create_connection(
                            _StreamProtocol, sock=sock
                        )
                    except BaseException:
                        sock.close()
                        raise
        except TimeoutError:
            tried = f" ({'; '.join(errors)})" if errors else ""
            raise ConnectTimeout(
                f"connecting to {host}:{port} timed out after {t:.3g} s{tried}"
            ) from None
        except socket.gaierror as exc:
            raise ConnectError(f"could not resolve {host!r}: {exc}") from exc
        except OSError as exc:
            reasons = [f"{format_addr((host, port))}: {os_reason(exc)}"]
            raise ConnectError(connect_failure(host, port, reasons)) from exc
        assert isinstance(transport, asyncio.Transport)
        # asyncio sets TCP_NODELAY on its TCP transports already.
        return AsyncioStream(transport, protocol)

    async def _open_socket(
        self,
        loop: asyncio.AbstractEventLoop,
        host: str,
        port: int,
        local_address: str | None,
        socket_options: Iterable[SOCKET_OPTION] | None,
        errors: list[str],
    ) -> socket.socket:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if len(infos) > 1:
            sock = await _race(
                loop, interleave_addresses(infos), local_address, socket_options, errors
            )
            if sock is not None:
                return sock
        else:
            for info in infos:
                try:
                    return await _attempt(loop, info, local_address, socket_options)
                except OSError as exc:
                    errors.append(f"{format_addr(info[4])}: {_describe(exc)}")
        raise OSError("; ".join(errors) or "no addresses")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncioStream:
        t = remaining(timeout)
        if t is not None and t <= 0.0:
            raise ConnectTimeout(f"timed out before connecting to {path}")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(t):
                transport, protocol = await loop.create_unix_connection(_StreamProtocol, path)
        except TimeoutError:
            raise ConnectTimeout(f"connecting to UNIX socket {path} timed out") from None
        except OSError as exc:
            raise ConnectError(f"could not connect to UNIX socket {path}: {exc}") from exc
        assert isinstance(transport, asyncio.Transport)
        return AsyncioStream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "<NetworkBackend [asyncio]>"
