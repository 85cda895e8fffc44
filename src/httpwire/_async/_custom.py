"""The one place the connection layer calls a network backend, and custom backends written with
the seed's minimal interface.

The seed (docs/networking.md, "Custom network backends") writes a backend as
``connect(self, host, port)`` and a stream as ``read(max_bytes)``, ``write(data)``,
``start_tls(ctx, hostname)`` (upgrading in place, returning nothing), ``get_extra_info(key)`` and
``close()``: no ``timeout`` parameters, since timeouts are ``timeout()`` blocks there. The
built-in backends take more (``timeout``, ``local_address``, ``socket_options``). So:

- :func:`connect_tcp` / :func:`connect_unix_socket` pass ``local_address`` and ``socket_options``
  by keyword, and only when the user set them; a backend whose ``connect`` cannot take one that
  was set raises ``TypeError`` naming the option and the backend. A ``timeout`` the backend
  cannot take becomes a ``timeout()`` block around the call (the default backend, which a custom
  one usually wraps, honours those blocks).
- :func:`backoff` sleeps between connect retries with the backend's ``sleep()`` or, for a
  backend without one, the default backend's.
- :func:`adapt_stream` wraps a stream that is not one of httpwire's own in
  :class:`AsyncAdaptedStream`, which gives the connection layer the full interface: ``timeout``
  arguments turned into ``timeout()`` blocks when the stream's methods do not take them,
  ``start_tls``'s return value used only when it is a stream, and ``aclose()`` or ``close()``,
  whichever the stream has.
"""

from __future__ import annotations

import inspect
import ssl
from collections.abc import Callable, Iterable
from typing import Any

from .._backends.auto import AsyncNetworkBackend
from .._backends.base import (
    SOCKET_OPTION,
    AsyncNetworkBackendInterface,
    AsyncNetworkStreamInterface,
    tls_hostname,
)
from .._timeouts import timeout as timeout_block

__all__ = [
    "AsyncAdaptedStream",
    "adapt_stream",
    "backoff",
    "connect_tcp",
    "connect_unix_socket",
]

# (class, method name) -> the parameter names it takes by keyword; None when it takes **kwargs.
_KEYWORDS: dict[tuple[type, str], frozenset[str] | None] = {}


def _accepts(obj: Any, method: str, name: str) -> bool:
    """True when ``obj.<method>`` takes a keyword argument ``name``."""
    key = (type(obj), method)
    try:
        names = _KEYWORDS[key]
    except KeyError:
        try:
            params = inspect.signature(getattr(obj, method)).parameters.values()
        except (TypeError, ValueError):  # no signature to read (a builtin): assume it takes all
            names = None
        else:
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
                names = None
            else:
                names = frozenset(
                    p.name
                    for p in params
                    if p.kind
                    in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
                )
        _KEYWORDS[key] = names
    return names is None or name in names


def _options(backend: Any, method: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options the user set (not None), checked against the backend's ``method``."""
    kwargs = {}
    for name, value in options.items():
        if value is None:
            continue
        if not _accepts(backend, method, name):
            cls = type(backend).__qualname__
            raise TypeError(
                f"{name}={value!r} was set, but the network backend {cls}.{method}() takes no "
                f"{name!r} argument: add it to the backend or leave {name} unset"
            )
        kwargs[name] = value
    return kwargs


async def _call(
    backend: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float | None
) -> Any:
    fn = getattr(backend, method)
    if timeout is None:
        return await fn(*args, **kwargs)
    if _accepts(backend, method, "timeout"):
        return await fn(*args, timeout=timeout, **kwargs)
    with timeout_block(timeout):
        return await fn(*args, **kwargs)


async def connect_tcp(
    backend: AsyncNetworkBackendInterface,
    host: str,
    port: int,
    *,
    timeout: float | None = None,
    local_address: str | None = None,
    socket_options: Iterable[SOCKET_OPTION] | None = None,
) -> AsyncNetworkStreamInterface:
    """``backend.connect(host, port, ...)`` with only the options that were set (see the module
    docstring); raises the backend's errors, and ``TypeError`` for an option it cannot take."""
    options = {"local_address": local_address, "socket_options": socket_options}
    kwargs = _options(backend, "connect", options)
    stream = await _call(backend, "connect", (host, port), kwargs, timeout)
    return adapt_stream(stream)


async def connect_unix_socket(
    backend: AsyncNetworkBackendInterface,
    path: str,
    *,
    timeout: float | None = None,
    socket_options: Iterable[SOCKET_OPTION] | None = None,
) -> AsyncNetworkStreamInterface:
    """``backend.connect_unix_socket(path, ...)``, as :func:`connect_tcp`."""
    kwargs = _options(backend, "connect_unix_socket", {"socket_options": socket_options})
    stream = await _call(backend, "connect_unix_socket", (path,), kwargs, timeout)
    return adapt_stream(stream)


async def backoff(backend: AsyncNetworkBackendInterface, seconds: float) -> None:
    """Sleep ``seconds`` between connect retries: with ``backend.sleep`` when the backend has
    one of its own (the seed's interface has none), else with the default backend's."""
    if getattr(type(backend), "sleep", AsyncNetworkBackendInterface.sleep) is (
        AsyncNetworkBackendInterface.sleep
    ):
        backend = AsyncNetworkBackend()
    await backend.sleep(seconds)


def adapt_stream(stream: Any) -> AsyncNetworkStreamInterface:
    """``stream`` itself when it is one of httpwire's, else :class:`AsyncAdaptedStream`."""
    if type(stream).__module__.startswith("httpwire."):
        return stream  # type: ignore[no-any-return]
    return AsyncAdaptedStream(stream)


class AsyncAdaptedStream(AsyncNetworkStreamInterface):
    """A custom backend's stream, seen through the full stream interface (see the module
    docstring). ``repr()`` is the wrapped stream's."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.cancel_safe_writes = bool(getattr(stream, "cancel_safe_writes", False))

    async def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        data: bytes = await _call(self._stream, "read", (max_bytes,), {}, timeout)
        return data

    async def read_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """The wrapped stream's ``read_into`` when it has one (the seed's interface has not),
        else its ``read`` copied into ``buffer``."""
        if hasattr(self._stream, "read_into"):
            n: int = await _call(self._stream, "read_into", (buffer,), {}, timeout)
            return n
        return await super().read_into(buffer, timeout)

    async def write(self, data: bytes, timeout: float | None = None) -> None:
        await _call(self._stream, "write", (data,), {}, timeout)

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        hostname: str | bytes | None = None,
        timeout: float | None = None,
        *,
        server_hostname: str | bytes | None = None,
    ) -> AsyncAdaptedStream:
        """The wrapped stream's ``start_tls(ssl_context, hostname)``; a stream it returns
        replaces the wrapped one, anything else (None) means it upgraded in place."""
        name = tls_hostname(hostname, server_hostname)
        result = await _call(self._stream, "start_tls", (ssl_context, name), {}, timeout)
        if result is not None and result is not self._stream and hasattr(result, "read"):
            self._stream = result
        return self

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)

    async def aclose(self) -> None:
        close: Callable[[], Any] | None = getattr(self._stream, "aclose", None)
        if close is None:
            close = self._stream.close
        await close()

    def __repr__(self) -> str:
        return repr(self._stream)
