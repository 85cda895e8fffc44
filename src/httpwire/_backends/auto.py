"""``AsyncNetworkBackend``: the async backend for whichever runtime is running.

The runtime is detected when a connection is opened (not per read or write: each stream is
bound to its runtime), cheaply: a running asyncio loop is asked for first; trio is looked up
through ``sniffio`` only when no asyncio loop is running.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._synchronization import running_loop
from .asyncio import AsyncioBackend
from .base import SOCKET_OPTION, AsyncNetworkBackendInterface, AsyncNetworkStreamInterface
from .sync import NetworkBackend

__all__ = ["AsyncNetworkBackend", "NetworkBackend", "current_async_library"]

_asyncio_backend = AsyncioBackend()
_trio_backend: AsyncNetworkBackendInterface | None = None


def current_async_library() -> str:
    """``"asyncio"`` or ``"trio"``; raises ``RuntimeError`` outside any supported runtime."""
    if running_loop() is not None:
        return "asyncio"
    try:
        import sniffio
    except ImportError:  # pragma: no cover - sniffio comes with trio
        raise RuntimeError("ahttpwire must run inside asyncio or trio") from None
    try:
        name: str = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        raise RuntimeError("ahttpwire must run inside asyncio or trio") from None
    return name


class AsyncNetworkBackend(AsyncNetworkBackendInterface):
    """The default async backend. Repr: ``<NetworkBackend [asyncio]>`` (or ``[trio]`` under trio)."""

    def _backend(self) -> AsyncNetworkBackendInterface:
        name = current_async_library()
        if name == "asyncio":
            return _asyncio_backend
        if name == "trio":
            global _trio_backend
            if _trio_backend is None:
                from .trio import TrioBackend

                _trio_backend = TrioBackend()
            return _trio_backend
        raise RuntimeError(
            f"ahttpwire has no network backend for {name!r} (asyncio and trio are supported)"
        )

    async def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStreamInterface:
        return await self._backend().connect(host, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStreamInterface:
        return await self._backend().connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._backend().sleep(seconds)

    def __repr__(self) -> str:
        try:
            name = current_async_library()
        except RuntimeError:
            name = "asyncio"
        return f"<NetworkBackend [{name}]>"
