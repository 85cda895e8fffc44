"""Transports: what a client sends its requests through (both flavours share this source).

:class:`AsyncBaseTransport` is the documented base (httpx's name and method): implement
``handle_async_request(request) -> Response`` (httpx's way) or ``send(request) -> Response``
(httpwire's), and ``aclose()`` if there is something to release. The client calls whichever the
transport implements. :class:`AsyncHTTPTransport` is the network transport with httpx's
constructor: a :class:`AsyncConnectionPool` configured from ``verify=``, ``limits=``,
``proxy=``... (the client's default transport is one). The in-process transports live in
``httpwire._mock`` (``MockTransport``), ``httpwire._asgi`` and ``httpwire._wsgi``.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from .._config import DEFAULT_LIMITS, as_proxy, limits_tuple
from .._exceptions import HTTPError
from .._models import Request, Response
from .._ssl import create_ssl_context
from ._pool import AsyncConnectionPool

__all__ = ["AsyncBaseTransport", "AsyncHTTPTransport", "transport_sender"]


class AsyncBaseTransport:
    """Base class of transports.

    Subclasses implement ``handle_async_request(request) -> Response`` (as in httpx) or
    ``send(request) -> Response``; each one defaults to the other. The response is returned
    once its head is known; its body (``response.stream``) is read by the caller. ``aclose()``
    releases what the transport holds (nothing here); ``async with transport:`` closes it.
    """

    async def handle_async_request(self, request: Request) -> Response:
        """Send ``request``, return its :class:`Response` (body not read yet). An ``HTTPError``
        raised by ``send`` leaves with ``.request`` set (as httpx's transports do)."""
        if type(self).send is AsyncBaseTransport.send:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither handle_async_request() nor send()"
            )
        try:
            return await self.send(request)
        except HTTPError as exc:
            if exc._request is None:
                exc._request = request
            raise

    async def send(self, request: Request) -> Response:
        """httpwire's name for :meth:`handle_async_request`."""
        return await self.handle_async_request(request)

    async def aclose(self) -> None:
        """Release what the transport holds; nothing here."""

    async def __aenter__(self) -> typing.Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> None:
        await self.aclose()


def transport_sender(transport: Any) -> Any:
    """The function the client calls (a coroutine function in the async flavour) to send
    through ``transport``: its own ``handle_async_request`` when it implements one (httpx-style
    transports, duck-typed ones included), else its ``send``. Raises ``TypeError`` for an
    object with neither."""
    handle = getattr(transport, "handle_async_request", None)
    send = getattr(transport, "send", None)
    if handle is None or (
        send is not None
        and getattr(type(transport), "handle_async_request", None)
        is AsyncBaseTransport.handle_async_request
    ):
        if send is None:
            raise TypeError(
                f"transport must have handle_async_request() or send(), "
                f"not {type(transport).__name__}"
            )
        return send
    return handle


class AsyncHTTPTransport(AsyncConnectionPool, AsyncBaseTransport):
    """The network transport with httpx's constructor: an :class:`AsyncConnectionPool`.

    ``verify`` (True, False, a CA bundle path or an ``ssl.SSLContext``), ``cert``, ``http1``,
    ``http2``, ``limits`` (a :class:`Limits` or dict), ``proxy`` (a URL or :class:`Proxy`),
    ``uds`` (a Unix socket path to connect to instead of TCP), ``local_address`` (the source IP
    to bind), ``retries`` (connect attempts after a failed one), ``socket_options``: as
    ``httpx.HTTPTransport``, passed to the pool. ``trust_env``: honour ``SSLKEYLOGFILE`` (see
    :func:`create_ssl_context`); environment proxies are the client's business
    (``Client(trust_env=)``).
    Use it per pattern in ``Client(mounts=...)``, e.g. a proxy for some hosts only.
    Raises as :func:`create_ssl_context` and :class:`AsyncConnectionPool`.
    """

    def __init__(
        self,
        verify: Any = True,
        cert: str | tuple[str, str] | None = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: Any = DEFAULT_LIMITS,
        proxy: Any = None,
        uds: str | None = None,
        local_address: str | None = None,
        retries: int = 0,
        socket_options: Any = None,
    ) -> None:
        max_conn, max_keepalive, expiry = limits_tuple(limits)
        super().__init__(
            ssl_context=create_ssl_context(verify, cert=cert, http2=http2, trust_env=trust_env),
            max_connections=max_conn,
            max_keepalive_connections=max_keepalive,
            keepalive_expiry=expiry,
            http1=http1,
            http2=http2,
            proxy=as_proxy(proxy),
            retries=retries,
            local_address=local_address,
            uds=uds,
            socket_options=socket_options,
        )

    async def __aenter__(self) -> typing.Self:
        return self
