"""One connection to one origin: connecting, TLS, and the choice of protocol.

An ``AsyncConnection`` opens its network stream on its first request (TCP or a UNIX socket,
then TLS for ``https``), picks the protocol (ALPN ``h2`` over TLS, or HTTP/2 with prior
knowledge, when ``http2=True``; HTTP/1.1 otherwise) and from then on hands every request to the
protocol object it made: ``_http11.AsyncHTTP11Connection`` or ``_http2.AsyncHTTP2Connection``,
both :class:`~._protocol.AsyncConnectionProtocol`. Its state, idleness and expiry are the
protocol's once it is known.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Awaitable, Callable
from typing import Any

from .._backends.auto import AsyncNetworkBackend
from .._backends.base import (
    SOCKET_OPTION,
    AsyncNetworkBackendInterface,
    AsyncNetworkStreamInterface,
)
from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    RemoteProtocolError,
    UnsupportedProtocol,
)
from .._headers import Headers
from .._models import Request, Response
from .._origins import Origin, format_host, format_origin, origin_of
from .._ssl import default_ssl_context
from .._urls import URL
from ._custom import backoff, connect_tcp, connect_unix_socket
from ._http11 import AsyncHTTP11Connection, AsyncPrefixedStream, AsyncResponseBody
from ._interfaces import AsyncRequestInterface
from ._protocol import ACTIVE, CLOSED, NEW, AsyncConnectionProtocol
from ._trace import AsyncTracer, tracer_for

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

__all__ = [
    "AsyncConnection",
    "open_connection",
    "Origin",
    "origin_of",
    # Moved to _http11; still importable from here.
    "AsyncPrefixedStream",
    "AsyncResponseBody",
]


class AsyncConnection(AsyncRequestInterface):
    """One connection to one origin. Repr: ``<Connection "https://127.0.0.1:8443" IDLE>``.

    States: ``NEW`` (not connected yet), ``ACTIVE`` (connecting, or a request is in flight or
    its body is being read; for HTTP/2, at least one stream is open), ``IDLE`` (connected,
    nothing in flight), ``CLOSED``.

    Parameters (all optional but ``origin``): ``ssl_context`` for https (default: the shared
    verified context), ``backend``, ``local_address`` (source IP to bind), ``uds`` (connect to
    this UNIX socket path instead of TCP), ``socket_options`` (``setsockopt`` triples),
    ``retries`` (connect attempts after the first, with exponential back-off from 0.5 s),
    ``keepalive_expiry`` (seconds an idle connection is trusted; None for no limit),
    ``on_release`` (awaited with the connection each time an exchange or stream ends, and when
    it closes: the pool's hook).

    ``http2=True``: the protocol is chosen when connecting (ALPN ``h2`` over TLS; with
    ``http1=False``, HTTP/2 with prior knowledge over cleartext). An HTTP/2 connection is
    ``is_multiplexed`` (``send()`` may then be called concurrently) and calls
    ``on_connected(conn)`` once the protocol is known, for the pool. See docs/http2.md.
    """

    def __init__(
        self,
        origin: Origin,
        *,
        ssl_context: ssl.SSLContext | None = None,
        backend: AsyncNetworkBackendInterface | None = None,
        local_address: str | None = None,
        uds: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
        retries: int = 0,
        keepalive_expiry: float | None = None,
        on_release: Callable[[AsyncConnection], Awaitable[None]] | None = None,
        http1: bool = True,
        http2: bool = False,
        on_connected: Callable[[AsyncConnection], Awaitable[None]] | None = None,
    ) -> None:
        self.origin = origin
        self._http1 = http1
        self._http2 = http2
        self._on_connected = on_connected
        self._ssl_context = ssl_context
        self._backend = backend
        self._local_address = local_address
        self._uds = uds
        self._socket_options = socket_options
        self._retries = retries
        self._keepalive_expiry = keepalive_expiry
        self._on_release = on_release
        #: The protocol spoken once connected (None before): the pool sends through it directly
        #: (the interface of ``_protocol``), saving a coroutine per request.
        self.protocol: AsyncConnectionProtocol | None = None
        #: True once the connection speaks HTTP/2 (many requests at once).
        self.is_multiplexed = False
        #: NEW, ACTIVE (connecting) or CLOSED while there is no protocol yet.
        self._state = NEW

    # -- state: the protocol's once it is known ------------------------------------------------

    @property
    def state(self) -> str:
        """``NEW``, ``ACTIVE``, ``IDLE`` or ``CLOSED`` (see the class docstring)."""
        protocol = self.protocol
        return self._state if protocol is None else protocol.state

    @property
    def is_idle(self) -> bool:
        """True when connected with nothing in flight, ready for the next request."""
        protocol = self.protocol
        return protocol is not None and protocol.is_idle

    @property
    def is_closed(self) -> bool:
        """True once closed (by an error, by ``aclose()``, or after a protocol switch)."""
        protocol = self.protocol
        return self._state == CLOSED if protocol is None else protocol.is_closed

    @property
    def is_available(self) -> bool:
        """True when one more request can start on it now."""
        protocol = self.protocol
        return protocol is not None and protocol.is_available

    @property
    def is_going_away(self) -> bool:
        """True once the server announced it takes no new request (HTTP/2 GOAWAY)."""
        protocol = self.protocol
        return protocol is not None and protocol.is_going_away

    @property
    def limits_known(self) -> bool:
        """True once the server's limits are known (HTTP/2: its first SETTINGS frame)."""
        protocol = self.protocol
        return protocol is not None and protocol.limits_known

    @property
    def http_version(self) -> str | None:
        """``"HTTP/1.1"`` or ``"HTTP/2"`` once connected; None before."""
        protocol = self.protocol
        return None if protocol is None else protocol.http_version

    @property
    def requests_completed(self) -> int:
        """Requests completed on this connection (a reused connection has > 0)."""
        protocol = self.protocol
        return 0 if protocol is None else protocol.requests_completed

    @property
    def response_started(self) -> bool:
        """Whether any byte of the current HTTP/1.1 response has arrived (for safe retries)."""
        protocol = self.protocol
        return protocol is not None and protocol.response_started

    @property
    def idle_since(self) -> float:
        """``time.monotonic()`` when the connection last became idle (0.0 before connecting)."""
        protocol = self.protocol
        return 0.0 if protocol is None else protocol.idle_since

    def has_expired(self, now: float) -> bool:
        """True when idle for longer than ``keepalive_expiry`` (HTTP/2: or going away)."""
        protocol = self.protocol
        return protocol is not None and protocol.has_expired(now)

    def is_stale(self) -> bool:
        """True when an idle connection can no longer be trusted: the server closed it (or sent
        bytes nobody asked for), so it must be discarded before reuse."""
        protocol = self.protocol
        return protocol is None or protocol.is_stale()

    def reserve_stream(self) -> bool:
        """Reserve an HTTP/2 stream for a coming ``send(request, reserved=True)``; False when
        none is free now, or the connection is not multiplexed."""
        protocol = self.protocol
        return protocol is not None and protocol.reserve_stream()

    def unreserve_stream(self) -> None:
        """Give back a stream reserved with :meth:`reserve_stream` that will not be used."""
        if self.protocol is not None:
            self.protocol.unreserve_stream()

    # -- connecting --------------------------------------------------------------------------

    def _network_options(self) -> dict[str, Any]:
        """How this connection reaches the network, as keyword arguments of ``AsyncConnection``
        (a proxy's hop is opened the same way)."""
        return {
            "backend": self._backend,
            "local_address": self._local_address,
            "uds": self._uds,
            "socket_options": self._socket_options,
            "retries": self._retries,
        }

    async def _connect(
        self, request: Request, tracer: AsyncTracer | None
    ) -> AsyncNetworkStreamInterface:
        timeouts = request.extensions.get("timeout") or {}
        connect_timeout = timeouts.get("connect")
        backend = self._backend
        if backend is None:
            backend = self._backend = AsyncNetworkBackend()
        scheme, host, port = self.origin
        delay = 0.5
        attempt = 0
        while True:
            try:
                connect: Callable[[], Awaitable[AsyncNetworkStreamInterface]]
                if self._uds is not None:
                    connect = functools.partial(
                        connect_unix_socket,
                        backend,
                        self._uds,
                        timeout=connect_timeout,
                        socket_options=self._socket_options,
                    )
                    name = "connection.connect_unix_socket"
                    info: dict[str, Any] = {"path": self._uds, "timeout": connect_timeout}
                else:
                    connect = functools.partial(
                        connect_tcp,
                        backend,
                        host,
                        port,
                        timeout=connect_timeout,
                        local_address=self._local_address,
                        socket_options=self._socket_options,
                    )
                    name = "connection.connect_tcp"
                    info = {
                        "host": host,
                        "port": port,
                        "local_address": self._local_address,
                        "timeout": connect_timeout,
                        "socket_options": self._socket_options,
                    }
                if tracer is None:
                    stream = await connect()
                else:
                    stream = await tracer.call(name, info, connect)
                break
            except (ConnectError, ConnectTimeout):
                if attempt >= self._retries:
                    raise
                attempt += 1
                await backoff(backend, delay)
                delay *= 2
        if scheme == "https":
            stream = await self._start_tls(stream, request, tracer)
        return stream

    async def _start_tls(
        self,
        stream: AsyncNetworkStreamInterface,
        request: Request,
        tracer: AsyncTracer | None,
        start_tls: Callable[..., Awaitable[AsyncNetworkStreamInterface | None]] | None = None,
    ) -> AsyncNetworkStreamInterface:
        """TLS with this connection's origin over ``stream`` (the ``connection.start_tls`` trace
        event): the pool's context (offering ``h2`` by ALPN when ``http2=True``) or the default
        one, SNI from the ``sni_hostname`` extension or the origin's host, bounded by the
        ``connect`` timeout. ``start_tls`` replaces ``stream.start_tls`` (a proxy's TLS-in-TLS
        stream); what it returns is the TLS stream, or None for ``stream`` upgraded in place.
        Closes ``stream`` when it fails."""
        ssl_context = self._ssl_context
        if ssl_context is None:
            ssl_context = default_ssl_context(http2=self._http2)
        elif self._http2:
            # HTTP/2 over TLS is chosen by ALPN (RFC 9113 section 3.2): offer h2 on the
            # caller's context too, as httpcore does (it sets ALPN on the context it is given).
            ssl_context.set_alpn_protocols(["h2", "http/1.1"] if self._http1 else ["h2"])
        sni = request.extensions.get("sni_hostname") or self.origin[1]
        timeouts = request.extensions.get("timeout") or {}
        connect_timeout = timeouts.get("connect")
        if start_tls is None:
            start_tls = stream.start_tls
        try:
            if tracer is None:
                result = await start_tls(ssl_context, sni, connect_timeout)
            else:
                info = {
                    "ssl_context": ssl_context,
                    "server_hostname": sni,
                    "timeout": connect_timeout,
                }
                result = await tracer.call(
                    "connection.start_tls", info, start_tls, ssl_context, sni, connect_timeout
                )
            # A stream that upgraded in place may return None (the seed's interface).
            return stream if result is None else result
        except BaseException:
            try:
                await stream.aclose()
            except Exception:  # closing is best effort: the peer may be gone already
                pass
            raise

    # -- one exchange ------------------------------------------------------------------------

    # -- requests ----------------------------------------------------------------------------

    async def send(self, request: Request, *, reserved: bool = False) -> Response:
        """Send ``request`` and return the response once its head has arrived.

        The body is read through ``response.stream`` (``async for``); reading it to the end or
        closing it ends the exchange. Raises the transport errors of the layers below
        (``ConnectError``, ``ReadTimeout``, ``RemoteProtocolError``, ...); after any error an
        HTTP/1.1 connection is CLOSED. Raises ``RuntimeError`` if the connection is busy or
        closed.

        With ``http2=True`` the protocol is chosen when connecting: ALPN ``h2`` over TLS, or HTTP/2
        with prior knowledge over cleartext when ``http1=False`` (RFC 9113 section 3); the
        connection then multiplexes, and ``send()`` may be called concurrently. ``reserved``: a
        stream was reserved for this request with :meth:`reserve_stream` (the pool's hand-off).
        """
        protocol = self.protocol
        if protocol is not None:
            return await protocol.send(request, reserved=reserved)
        if self._state == ACTIVE:
            raise RuntimeError(f"{self!r} is busy: it is being connected")
        if self._state == CLOSED:
            raise RuntimeError(f"{self!r} is closed")
        self._state = ACTIVE
        protocol = await self._open(request)
        # An HTTP/2 protocol reserved the stream of this first request (see _choose_protocol).
        return await protocol.send(request, reserved=protocol.is_multiplexed)

    async def _open(self, request: Request) -> AsyncConnectionProtocol:
        """Connect, run TLS, choose the protocol; CLOSED (and the pool told) on any failure."""
        stream = None
        try:
            stream = await self._connect(request, tracer_for(request))
            return await self._choose_protocol(stream)
        except BaseException:
            self._state = CLOSED
            try:
                if stream is not None and self.protocol is None:
                    try:
                        await stream.aclose()
                    except Exception:  # closing is best effort: the peer may be gone already
                        pass
            finally:
                # Even when closing is interrupted (trio re-raises Cancelled at the checkpoint in
                # aclose when the request's scope is cancelled), the pool must get the slot back.
                if self.protocol is not None:
                    await self.protocol.aclose()
                elif self._on_release is not None:
                    await self._on_release(self)
            raise

    async def _choose_protocol(
        self, stream: AsyncNetworkStreamInterface
    ) -> AsyncConnectionProtocol:
        """Make the protocol object for a new connection: HTTP/2 when ALPN picked ``h2`` (or
        prior knowledge over cleartext with ``http1=False``), HTTP/1.1 otherwise; then tell the
        pool (``on_connected``)."""
        if not self._http2:
            protocol: AsyncConnectionProtocol = self._http11_protocol(stream)
            self._set_protocol(protocol)
            return protocol
        use_h2 = not self._http1  # cleartext: HTTP/2 with prior knowledge only without HTTP/1.1
        if self.origin[0] == "https":
            # Over TLS, HTTP/2 only when the server picked it (RFC 9113 section 3.2).
            ssl_object = stream.get_extra_info("ssl_object")
            alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
            use_h2 = alpn == "h2"
            if not use_h2 and not self._http1:
                raise UnsupportedProtocol(
                    f"the server at {format_origin(self.origin)} did not pick h2 in ALPN "
                    f"({alpn!r}), and HTTP/1.1 is disabled (http1=False)"
                )
        if use_h2:
            from ._http2 import AsyncHTTP2Connection

            protocol = AsyncHTTP2Connection(
                self.origin,
                stream,
                keepalive_expiry=self._keepalive_expiry,
                on_release=self._released_callback(),
            )
            # The stream of the request that opened the connection, before the pool hands the
            # others out.
            protocol.reserve_stream()
        else:
            protocol = self._http11_protocol(stream)
        self._set_protocol(protocol)
        if self._on_connected is not None:
            await self._on_connected(self)
        return protocol

    def _set_protocol(self, protocol: AsyncConnectionProtocol) -> None:
        self.protocol = protocol
        self.is_multiplexed = protocol.is_multiplexed

    def _http11_protocol(self, stream: AsyncNetworkStreamInterface) -> AsyncHTTP11Connection:
        protocol = AsyncHTTP11Connection(
            self.origin,
            stream,
            keepalive_expiry=self._keepalive_expiry,
            on_release=self._released_callback(),
        )
        return protocol

    def _released_callback(self) -> Callable[[], Awaitable[None]] | None:
        """The protocol's ``on_release``: the pool's, called with this connection."""
        if self._on_release is None:
            return None
        return functools.partial(self._on_release, self)

    async def aclose(self) -> None:
        """Close the connection; an exchange in progress fails on its next read or write."""
        protocol = self.protocol
        if protocol is not None:
            await protocol.aclose()
            return
        if self._state != CLOSED:
            self._state = CLOSED
            if self._on_release is not None:
                await self._on_release(self)

    async def upgrade(
        self,
        method: str,
        target: str | bytes,
        headers: Any = None,
        *,
        extensions: dict[str, Any] | None = None,
    ) -> AsyncNetworkStreamInterface:
        """Switch protocols and return the raw network stream.

        ``upgrade("GET", "/chat", {"Upgrade": "websocket", ...})`` sends the request and returns
        the stream after ``101 Switching Protocols`` (RFC 9110 section 7.8);
        ``upgrade("CONNECT", "example.com:443")`` returns it after a 2xx from a proxy (a tunnel,
        RFC 9110 section 9.3.6; the Host header defaults to the target). Bytes the server sent
        right after the head are returned first by the stream's ``read()``. The connection is
        CLOSED for the pool afterwards; the caller owns and closes the stream.

        Raises ``ProxyError`` when a CONNECT is refused, ``RemoteProtocolError`` when an Upgrade
        is answered with anything but 101, and the usual transport errors.
        """
        raw_target = target.encode("ascii") if isinstance(target, str) else target
        scheme, host, port = self.origin
        url = URL(f"{scheme}://{format_host(host)}:{port}/")
        headers = Headers(headers)
        if method == "CONNECT" and "host" not in headers:
            headers["Host"] = raw_target.decode("ascii")
        ext = dict(extensions or {})
        ext["target"] = raw_target
        response = await self.send(Request(method, url, headers=headers, extensions=ext))
        status = response.status_code
        if status == 101 or (method == "CONNECT" and 200 <= status < 300):
            return typing.cast(AsyncNetworkStreamInterface, response.extensions["network_stream"])
        await response.aread()
        if method == "CONNECT":
            raise ProxyError(
                f"the proxy refused CONNECT {raw_target.decode('ascii', 'replace')}: {status} {response.reason_phrase}"
            )
        raise RemoteProtocolError(
            f"the server did not switch protocols: {status} {response.reason_phrase}"
        )

    # -- context manager and repr (request() and stream() come from AsyncRequestInterface) ------

    async def __aenter__(self) -> AsyncConnection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        if self.protocol is not None:
            return repr(self.protocol)
        return f'<Connection "{format_origin(self.origin)}" {self._state}>'


async def open_connection(
    url: URL | str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    backend: AsyncNetworkBackendInterface | None = None,
    timeout: float | None = None,
    sni_hostname: str | None = None,
) -> AsyncConnection:
    """Open one connection to the origin of ``url`` (connected before it is returned).

    ``timeout`` bounds connecting and the TLS handshake (seconds). Raises ``ConnectError``,
    ``ConnectTimeout`` or ``UnsupportedProtocol``.
    """
    if not isinstance(url, URL):
        url = URL(url)
    conn = AsyncConnection(origin_of(url), ssl_context=ssl_context, backend=backend)
    extensions: dict[str, Any] = {"timeout": {"connect": timeout}}
    if sni_hostname:
        extensions["sni_hostname"] = sni_hostname
    request = Request("GET", url, extensions=extensions)
    stream = await conn._connect(request, tracer_for(request))
    conn._set_protocol(conn._http11_protocol(stream))
    return conn
