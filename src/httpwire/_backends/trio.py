"""The trio backend: ``trio.SocketStream`` / ``trio.SSLStream`` under cancel scopes.

Each wait runs inside a cancel scope for the time :func:`remaining` allows, so per-operation limits
and ``timeout()`` blocks both map onto trio's own cancellation. Reads and writes under their
configured limit share one timer task per run instead of one trio deadline each (see
``_trio_timer``); connecting and TLS handshakes, once per connection, use ``trio.move_on_after``.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from collections.abc import Iterable
from typing import Any

import trio

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from .._timeouts import remaining
from ._addresses import apply_socket_options, connect_failure, format_addr, os_reason
from ._trio_timer import deadline_scope
from .base import (
    DEFAULT_READ_SIZE,
    SOCKET_OPTION,
    AsyncNetworkBackendInterface,
    AsyncNetworkStreamInterface,
    tls_hostname,
)

__all__ = ["TrioBackend", "TrioStream"]

_BROKEN = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)


def _seconds(t: float | None) -> float:
    return math.inf if t is None else t


class TrioStream(AsyncNetworkStreamInterface):
    """A TCP / UNIX / TLS connection on trio. Repr: ``<NetworkStream ["127.0.0.1:8443" TLS]>``."""

    def __init__(self, stream: trio.SocketStream | trio.SSLStream[Any]) -> None:
        self._stream = stream
        self._closed = False
        # The trio run this stream belongs to: a pool used by one trio.run() and then another
        # (or by asyncio in between) must not reuse it there.
        self._run = trio.lowlevel.current_root_task()
        try:
            self._label = format_addr(self._socket().getpeername())
        except OSError:
            self._label = "?"

    def _in_own_run(self) -> bool:
        try:
            return trio.lowlevel.current_root_task() is self._run
        except RuntimeError:
            return False

    def _socket(self) -> Any:
        stream: Any = self._stream
        while isinstance(stream, trio.SSLStream):
            stream = stream.transport_stream
        return stream.socket

    async def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        if self._closed:
            raise ReadError("read from a closed stream")
        t = remaining(timeout)
        with deadline_scope(t, timeout):
            try:
                data = await self._stream.receive_some(max_bytes or DEFAULT_READ_SIZE)
                return data if type(data) is bytes else bytes(data)
            except _BROKEN as exc:
                raise ReadError(f"reading from {self._label} failed: {exc}") from exc
        raise ReadTimeout(f"no bytes arrived from {self._label} within {t:.3g} s")

    async def write(self, data: bytes, timeout: float | None = None) -> None:
        if not data:
            return
        if self._closed:
            raise WriteError("write to a closed stream")
        t = remaining(timeout)
        with deadline_scope(t, timeout):
            try:
                await self._stream.send_all(data)
                return
            except _BROKEN as exc:
                raise WriteError(f"writing to {self._label} failed: {exc}") from exc
        raise WriteTimeout(f"could not write to {self._label} within {t:.3g} s")

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        hostname: str | bytes | None = None,
        timeout: float | None = None,
        *,
        server_hostname: str | bytes | None = None,
    ) -> TrioStream:
        """TLS handshake over this stream; the stream is upgraded in place and returned."""
        server_hostname = tls_hostname(hostname, server_hostname)
        t = remaining(timeout)
        tls = trio.SSLStream(
            self._stream, ssl_context, server_hostname=server_hostname, https_compatible=True
        )
        with trio.move_on_after(_seconds(t)):
            try:
                await tls.do_handshake()
            except (trio.BrokenResourceError, OSError, ssl.SSLError) as exc:
                await trio.aclose_forcefully(self._stream)
                raise ConnectError(
                    f"TLS handshake with {self._label} failed: {exc.__cause__ or exc}"
                ) from exc
            except BaseException:
                await trio.aclose_forcefully(self._stream)
                raise
            self._stream = tls  # in place: this object is now the TLS stream
            return self
        await trio.aclose_forcefully(self._stream)
        raise ConnectTimeout(f"TLS handshake with {self._label} timed out after {t:.3g} s")

    def get_extra_info(self, info: str) -> Any:
        try:
            if info == "is_readable":
                return self._closed or not self._in_own_run() or self._socket().is_readable()
            if info == "ssl_object":
                stream = self._stream
                return stream._ssl_object if isinstance(stream, trio.SSLStream) else None
            if info == "socket":
                return self._socket()
            if info == "client_addr":
                return self._socket().getsockname()
            if info == "server_addr":
                return self._socket().getpeername()
        except OSError:
            return None
        return None

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            if not self._in_own_run():
                # Its trio run is over (the pool is now used by another run or by asyncio):
                # nothing to await in, so close the socket directly.
                with contextlib.suppress(OSError):
                    self._socket().close()
                return
            # No graceful TLS close_notify: we close only to discard or after a finished message,
            # and must not wait on the peer to do it.
            await trio.aclose_forcefully(self._stream)

    def __repr__(self) -> str:
        tls = " TLS" if isinstance(self._stream, trio.SSLStream) else ""
        closed = " CLOSED" if self._closed else ""
        return f'<NetworkStream ["{self._label}"{tls}{closed}]>'


def _attempt_errors(host: str, port: int, exc: OSError) -> list[str]:
    # open_tcp_stream raises "all attempts ... failed" from a group holding one error per
    # address: one reason per address, as the other backends give them.
    group = exc.__cause__
    if isinstance(group, BaseExceptionGroup):
        if len(group.exceptions) == 1:
            return [f"{format_addr((host, port))}: {os_reason(group.exceptions[0])}"]
        return [str(e) for e in group.exceptions]
    return [f"{format_addr((host, port))}: {os_reason(exc)}"]


class TrioBackend(AsyncNetworkBackendInterface):
    """Opens connections under trio (``trio.open_tcp_stream`` tries every address DNS returns,
    racing them per RFC 8305). Repr: ``<NetworkBackend [trio]>``."""

    async def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> TrioStream:
        t = remaining(timeout)
        with trio.move_on_after(_seconds(t)):
            try:
                stream = await trio.open_tcp_stream(host, port, local_address=local_address)
            except OSError as exc:
                raise ConnectError(
                    connect_failure(host, port, _attempt_errors(host, port, exc))
                ) from exc
            apply_socket_options(stream, socket_options)
            return TrioStream(stream)
        raise ConnectTimeout(f"connecting to {host}:{port} timed out after {t:.3g} s")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> TrioStream:
        t = remaining(timeout)
        with trio.move_on_after(_seconds(t)):
            try:
                stream = await trio.open_unix_socket(path)
            except OSError as exc:
                raise ConnectError(f"could not connect to UNIX socket {path}: {exc}") from exc
            apply_socket_options(stream, socket_options)
            return TrioStream(stream)
        raise ConnectTimeout(f"connecting to UNIX socket {path} timed out")

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)

    def __repr__(self) -> str:
        return "<NetworkBackend [trio]>"
