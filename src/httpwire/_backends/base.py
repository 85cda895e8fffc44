"""The contracts a network backend fulfils (DESIGN.md layer 2).

Subclass :class:`NetworkBackendInterface` and :class:`NetworkStreamInterface` (or their ``Async``
twins for ``ahttpwire``) to plug in a custom backend: recording, DNS caching, UNIX sockets,
in-memory mocks. Pass an instance as ``ConnectionPool(backend=...)``.

Timeouts: every blocking method takes ``timeout`` (seconds, or None for no limit of its own). A
backend must also honour ``timeout()`` blocks; :func:`httpwire._timeouts.remaining` combines the
two. A stream raises ``ReadTimeout`` / ``WriteTimeout`` / ``ConnectTimeout`` (TLS handshake) when
its wait expires, ``ReadError`` / ``WriteError`` for OS-level failures, and a connect raises
``ConnectTimeout`` or ``ConnectError``.

Streams carry no locks: thread and task safety lives in the connection layer, which never uses
one stream from two places at once.
"""

from __future__ import annotations

import ssl
import types
import typing
from collections.abc import Iterable
from typing import Any

__all__ = [
    "DEFAULT_READ_SIZE",
    "SOCKET_OPTION",
    "NetworkBackendInterface",
    "NetworkStreamInterface",
    "AsyncNetworkBackendInterface",
    "AsyncNetworkStreamInterface",
]

#: Bytes asked for by ``read()`` when ``max_bytes`` is None (64 KiB: big reads, few syscalls).
DEFAULT_READ_SIZE = 65536

SOCKET_OPTION = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class NetworkStreamInterface:
    """One open byte stream (TCP, TLS over TCP, UNIX socket...). Sync flavour."""

    #: See :attr:`AsyncNetworkStreamInterface.cancel_safe_writes`; threads are interrupted only
    #: by exceptions such as KeyboardInterrupt, which may land mid-write: False.
    cancel_safe_writes: bool = False

    def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        """Up to ``max_bytes`` bytes (64 KiB when None) as soon as any arrive; ``b""`` at EOF."""
        raise NotImplementedError  # pragma: no cover

    def read_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """Read up to ``len(buffer)`` bytes into ``buffer`` as soon as any arrive; the count
        (0 at EOF). Errors and timeouts as :meth:`read`. This default reads and copies; a
        stream over a socket overrides it with ``recv_into`` (no intermediate ``bytes``). The
        default reads at most 64 KiB at a time: ``read(n)`` may allocate ``n`` bytes up front."""
        data = self.read(min(len(buffer), DEFAULT_READ_SIZE), timeout)
        n = len(data)
        buffer[:n] = data
        return n

    def write(self, data: bytes, timeout: float | None = None) -> None:
        """Write all of ``data``."""
        raise NotImplementedError  # pragma: no cover

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        hostname: str | bytes | None = None,
        timeout: float | None = None,
        *,
        server_hostname: str | bytes | None = None,
    ) -> NetworkStreamInterface | None:
        """Run a TLS handshake over this stream, upgrading it in place.

        ``hostname`` (the seed's name; ``server_hostname``, httpcore's, is an alias) is the SNI
        name and the name the certificate is checked against. The built-in streams upgrade in
        place and also return themselves; a custom stream may return None (the caller keeps
        using the same object) or a new stream. Raises ``ConnectError`` / ``ConnectTimeout``.
        """
        raise NotImplementedError  # pragma: no cover

    def get_extra_info(self, info: str) -> Any:
        """``client_addr``, ``server_addr`` ((host, port)), ``ssl_object``, ``socket``,
        ``is_readable`` (True when the peer sent bytes or closed: a pooled connection is stale);
        None for keys the stream does not know."""
        return None

    def close(self) -> None:
        """Close the stream; closing twice is allowed."""
        raise NotImplementedError  # pragma: no cover

    def __enter__(self) -> typing.Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> None:
        self.close()


class NetworkBackendInterface:
    """Opens streams. Sync flavour."""

    def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStreamInterface:
        """Open a TCP connection to ``host:port`` (every address DNS returns is tried in turn)."""
        raise NotImplementedError  # pragma: no cover

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStreamInterface:
        """Open a UNIX domain socket connection to ``path``."""
        raise NotImplementedError  # pragma: no cover

    def sleep(self, seconds: float) -> None:
        """Sleep (used for retry back-off)."""
        raise NotImplementedError  # pragma: no cover


class AsyncNetworkStreamInterface:
    """One open byte stream. Async flavour: the methods of :class:`NetworkStreamInterface`,
    awaited; ``close()`` and ``aclose()`` are the same (a subclass defines either)."""

    #: True when a ``write()`` interrupted by cancellation has queued either all of its bytes or
    #: none (asyncio transports take the whole write before awaiting). HTTP/2 then keeps the
    #: connection when a task is cancelled in a write that carried other streams' frames; when
    #: False (the safe default for custom streams) such a connection is failed instead.
    cancel_safe_writes: bool = False

    async def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        raise NotImplementedError  # pragma: no cover

    async def read_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """Async twin of :meth:`NetworkStreamInterface.read_into` (this default reads and
        copies, at most 64 KiB at a time)."""
        data = await self.read(min(len(buffer), DEFAULT_READ_SIZE), timeout)
        n = len(data)
        buffer[:n] = data
        return n

    async def write(self, data: bytes, timeout: float | None = None) -> None:
        raise NotImplementedError  # pragma: no cover

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        hostname: str | bytes | None = None,
        timeout: float | None = None,
        *,
        server_hostname: str | bytes | None = None,
    ) -> AsyncNetworkStreamInterface | None:
        raise NotImplementedError  # pragma: no cover

    def get_extra_info(self, info: str) -> Any:
        return None

    async def close(self) -> None:
        """Close the stream (the seed's name; ``aclose()`` is the same). A subclass defines
        either one."""
        if type(self).aclose is AsyncNetworkStreamInterface.aclose:
            raise NotImplementedError  # pragma: no cover
        await self.aclose()

    async def aclose(self) -> None:
        """Close the stream (anyio's and httpcore's name; ``close()`` is the same)."""
        if type(self).close is AsyncNetworkStreamInterface.close:
            raise NotImplementedError  # pragma: no cover
        await self.close()

    async def __aenter__(self) -> typing.Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> None:
        await self.aclose()


class AsyncNetworkBackendInterface:
    """Opens streams. Async flavour."""

    async def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStreamInterface:
        raise NotImplementedError  # pragma: no cover

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStreamInterface:
        raise NotImplementedError  # pragma: no cover

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError  # pragma: no cover


def tls_hostname(hostname: str | bytes | None, server_hostname: str | bytes | None) -> str | None:
    """The SNI name given to ``start_tls()`` as ``hostname`` or its alias ``server_hostname``
    (str, or ASCII bytes as httpcore passes it). Raises ``TypeError`` when both are given."""
    if server_hostname is not None:
        if hostname is not None:
            raise TypeError("start_tls() takes hostname or server_hostname, not both")
        hostname = server_hostname
    if isinstance(hostname, bytes):
        return hostname.decode("ascii")
    return hostname
