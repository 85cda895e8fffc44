"""One HTTP/1.1 connection to one origin, driven by ``httpwire.http11``.

An ``AsyncConnection`` opens its network stream on its first request (TCP or a UNIX socket, then
TLS for ``https``), sends one request at a time, and hands the response back with its body still
on the wire: ``response.stream`` reads it. The connection becomes IDLE again, ready for the next
request, only when that body has been read to its end and both sides agree to keep the connection
alive (RFC 9112 section 9.3). Any failure or cancellation part way through a message closes the
connection: it is never reused mid-message.
"""

from __future__ import annotations

import functools
import time
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .. import http11 as h11
from .._backends.auto import AsyncNetworkBackend
from .._backends.base import (
    SOCKET_OPTION,
    AsyncNetworkBackendInterface,
    AsyncNetworkStreamInterface,
    tls_hostname,
)
from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    ReadError,
    RemoteProtocolError,
    UnsupportedProtocol,
    WriteError,
)
from .._headers import Headers
from .._models import Request, Response
from .._ssl import default_ssl_context
from .._streams import AsyncByteStream, BytesStream
from .._urls import URL
from ._custom import backoff, connect_tcp, connect_unix_socket
from ._interfaces import AsyncRequestInterface
from ._trace import AsyncTracer, tracer_for

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

    from ._http2 import AsyncHTTP2Connection

__all__ = ["AsyncConnection", "open_connection", "Origin", "origin_of"]

#: (scheme, host, port): the key connections are pooled under (RFC 6454 origin).
Origin = tuple[str, str, int]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_READ_SIZE = 65536
# Bodies at least this large are written apart from the head instead of joined to it (a join
# would copy them).
_JOIN_LIMIT = 65536

NEW, ACTIVE, IDLE, CLOSED = "NEW", "ACTIVE", "IDLE", "CLOSED"

_NEED_DATA = h11.NEED_DATA
_Data = h11.Data
_EndOfMessage = h11.EndOfMessage
_Response = h11.Response
_InformationalResponse = h11.InformationalResponse
_DONE = h11.DONE


def origin_of(url: URL) -> Origin:
    """The pool key of ``url``; raises ``UnsupportedProtocol`` for schemes other than http(s)."""
    scheme = url.scheme
    default = _DEFAULT_PORTS.get(scheme)
    if default is None:
        if not scheme:
            raise UnsupportedProtocol(
                f"the URL {str(url)!r} has no scheme: use http:// or https://"
            )
        raise UnsupportedProtocol(f"the URL scheme {scheme!r} is not supported: use http or https")
    host = url.raw_host
    if not host:
        raise UnsupportedProtocol(f"the URL {str(url)!r} has no host")
    # The ASCII (IDNA) host: what DNS, TLS SNI and the pool key use (url.host is Unicode).
    return (scheme, host.decode("ascii"), url.port or default)


def _format_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _format_origin(origin: Origin) -> str:
    scheme, host, port = origin
    host = _format_host(host)
    if port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class AsyncConnection(AsyncRequestInterface):
    """One HTTP/1.1 connection. Repr: ``<Connection "https://127.0.0.1:8443" IDLE>``.

    States: ``NEW`` (not connected yet), ``ACTIVE`` (a request is in flight or its body is being
    read), ``IDLE`` (kept alive, ready for the next request), ``CLOSED``.

    Parameters (all optional but ``origin``): ``ssl_context`` for https (default: the shared
    verified context), ``backend``, ``local_address`` (source IP to bind), ``uds`` (connect to
    this UNIX socket path instead of TCP), ``socket_options`` (``setsockopt`` triples),
    ``retries`` (connect attempts after the first, with exponential back-off from 0.5 s),
    ``keepalive_expiry`` (seconds an idle connection is trusted; None for no limit).

    ``http2=True``: the protocol is chosen when connecting (ALPN ``h2`` over TLS; with
    ``http1=False``, HTTP/2 with prior knowledge over cleartext). An HTTP/2 connection hands its
    requests to an :class:`AsyncHTTP2Connection` (``is_multiplexed``; ``send()`` may then be
    called concurrently) and calls ``on_connected(conn)`` once the protocol is known, for the
    pool. See docs/http2.md.
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
        #: The HTTP/2 connection this one turned into (ALPN ``h2``, or prior knowledge).
        self._h2conn: AsyncHTTP2Connection | None = None
        self._ssl_context = ssl_context
        self._backend = backend
        self._local_address = local_address
        self._uds = uds
        self._socket_options = socket_options
        self._retries = retries
        self._keepalive_expiry = keepalive_expiry
        self._on_release = on_release
        self._stream: AsyncNetworkStreamInterface | None = None
        self._h11 = h11.Connection(h11.CLIENT)
        self.state = NEW
        #: Requests completed on this connection (a reused connection has > 0).
        self.requests_completed = 0
        #: Whether any byte of the current response has arrived (for safe retries).
        self.response_started = False
        #: ``time.monotonic()`` when the connection last became IDLE.
        self.idle_since = 0.0

    # -- state -------------------------------------------------------------------------------

    @property
    def is_idle(self) -> bool:
        """True when kept alive with no exchange in flight, ready for the next request."""
        if self._h2conn is not None:
            return self._h2conn.is_idle
        return self.state == IDLE

    @property
    def is_closed(self) -> bool:
        """True once closed (by an error, by ``aclose()``, or after a protocol switch)."""
        if self._h2conn is not None:
            return self._h2conn.is_closed
        return self.state == CLOSED

    @property
    def is_multiplexed(self) -> bool:
        """True once the connection speaks HTTP/2 (many requests at once)."""
        return self._h2conn is not None

    @property
    def http_version(self) -> str | None:
        """``"HTTP/1.1"`` or ``"HTTP/2"`` once connected; None before."""
        if self._h2conn is not None:
            return "HTTP/2"
        return None if self.state == NEW else "HTTP/1.1"

    def has_expired(self, now: float) -> bool:
        """True when idle for longer than ``keepalive_expiry``."""
        if self._h2conn is not None:
            return self._h2conn.has_expired(now)
        expiry = self._keepalive_expiry
        return expiry is not None and now - self.idle_since > expiry

    def is_stale(self) -> bool:
        """True when an idle connection can no longer be trusted: the server closed it (or sent
        bytes nobody asked for), so it must be discarded before reuse."""
        if self._h2conn is not None:
            return self._h2conn.is_stale()
        stream = self._stream
        return stream is None or bool(stream.get_extra_info("is_readable"))

    # -- connecting --------------------------------------------------------------------------

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

    async def send(self, request: Request) -> Response:
        """Send ``request`` and return the response once its head has arrived.

        The body is read through ``response.stream`` (``async for``); reading it to the end or
        closing it ends the exchange. Raises the transport errors of the layers below
        (``ConnectError``, ``ReadTimeout``, ``RemoteProtocolError``, ...); after any error the
        connection is CLOSED. Raises ``RuntimeError`` if the connection is busy or closed.

        With ``http2=True`` the protocol is chosen when connecting: ALPN ``h2`` over TLS, or HTTP/2
        with prior knowledge over cleartext when ``http1=False`` (RFC 9113 section 3); the
        connection then multiplexes, and ``send()`` may be called concurrently.
        """
        h2conn = self._h2conn
        if h2conn is not None:
            return await h2conn.send(request)
        if self.state == ACTIVE:
            raise RuntimeError(f"{self!r} is busy: HTTP/1.1 sends one request at a time")
        if self.state == CLOSED:
            raise RuntimeError(f"{self!r} is closed")
        self.state = ACTIVE
        self.response_started = False
        tracer = tracer_for(request)
        try:
            if self._stream is None:
                self._stream = await self._connect(request, tracer)
                if self._http2:
                    h2conn = await self._negotiate(self._stream)
            if h2conn is None:
                return await self._exchange(request, tracer)
        except BaseException:
            await self._discard()
            raise
        return await h2conn.send(request, reserved=True)

    async def _negotiate(self, stream: AsyncNetworkStreamInterface) -> AsyncHTTP2Connection | None:
        """Pick HTTP/2 or HTTP/1.1 for a new connection (``http2=True`` only); tell the pool."""
        use_h2 = not self._http1  # cleartext: HTTP/2 with prior knowledge only without HTTP/1.1
        if self.origin[0] == "https":
            # Over TLS, HTTP/2 only when the server picked it (RFC 9113 section 3.2).
            ssl_object = stream.get_extra_info("ssl_object")
            alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
            use_h2 = alpn == "h2"
            if not use_h2 and not self._http1:
                raise UnsupportedProtocol(
                    f"the server at {_format_origin(self.origin)} did not pick h2 in ALPN "
                    f"({alpn!r}), and HTTP/1.1 is disabled (http1=False)"
                )
        h2conn = None
        if use_h2:
            from ._http2 import AsyncHTTP2Connection

            h2conn = AsyncHTTP2Connection(
                self.origin,
                stream,
                keepalive_expiry=self._keepalive_expiry,
                on_release=self._h2_released,
            )
            # The stream of the request that opened the connection, before the pool hands the
            # others out.
            h2conn.reserve()
            self._h2conn = h2conn
        if self._on_connected is not None:
            await self._on_connected(self)
        return h2conn

    async def _h2_released(self, h2conn: Any) -> None:
        """A stream of the HTTP/2 connection ended, or the connection closed."""
        if h2conn.is_closed:
            self.state = CLOSED
            self._stream = None
        if self._on_release is not None:
            await self._on_release(self)

    async def _exchange(self, request: Request, tracer: AsyncTracer | None) -> Response:
        stream = self._stream
        assert stream is not None
        conn = self._h11
        timeouts = request.extensions.get("timeout")
        if timeouts:
            write_timeout = timeouts.get("write")
            read_timeout = timeouts.get("read")
        else:
            write_timeout = read_timeout = None
        target = request.extensions.get("target") or request.url.raw_path
        # httpwire.http11 raises httpwire's own LocalProtocolError / RemoteProtocolError (with
        # error_status_hint), so its errors pass through this layer unchanged.
        head = conn.send(
            h11.Request(method=request.method, target=target, headers=request.headers.raw)
        )
        assert head is not None

        body = request.stream
        write_error: WriteError | None = None
        try:
            if tracer is not None:
                info = {"request": request}
                await tracer.call(
                    "http11.send_request_headers", info, stream.write, head, write_timeout
                )
                await tracer.call(
                    "http11.send_request_body", info, self._send_body, body, write_timeout
                )
            elif type(body) is BytesStream and len(body.data) < _JOIN_LIMIT:
                # The common case: head and a small body leave in one write (one syscall).
                if body.data:
                    head += conn.send(_Data(data=body.data)) or b""
                head += conn.send(_EndOfMessage()) or b""
                await stream.write(head, write_timeout)
            else:
                await stream.write(head, write_timeout)
                await self._send_body(body, write_timeout)
        except WriteError as exc:
            # The server may have answered early (a 413, a 401) and closed: RFC 9112 section 9.6
            # lets it. Read that response if there is one; report the write failure otherwise.
            write_error = exc

        if tracer is None:
            event = await self._receive_head(read_timeout, write_error)
        else:
            event = await tracer.call(
                "http11.receive_response_headers",
                {"request": request},
                self._receive_head,
                read_timeout,
                write_error,
            )

        status = event.status_code
        extensions: dict[str, Any] = {
            "http_version": b"HTTP/" + event.http_version,
            "reason_phrase": event.reason,
            "network_stream": stream,
        }
        if status == 101 or (request.method == "CONNECT" and 200 <= status < 300):
            # The stream now belongs to the caller (Upgrade / tunnel). Bytes that arrived after
            # the head belong to the new protocol: the caller reads them first.
            leftover = conn.trailing_data[0]
            if leftover:
                extensions["network_stream"] = AsyncPrefixedStream(stream, leftover)
            await self._detach()
            response = Response(
                status, stream=BytesStream(b""), extensions=extensions, request=request
            )
        else:
            # If the request was not fully sent (write_error), our side never reaches DONE, so
            # _response_done() closes the connection after this response: it is never reused.
            response = Response(
                status,
                stream=AsyncResponseBody(self, read_timeout, tracer, request),
                extensions=extensions,
                request=request,
            )
        # The parser validated every field already: skip Headers' own checks.
        response.headers = Headers._from_validated(event.headers.raw_items(), event.headers)
        return response

    async def _send_body(self, body: Any, write_timeout: float | None) -> None:
        conn = self._h11
        stream = self._stream
        assert stream is not None
        if type(body) is BytesStream:
            if body.data:
                for piece in conn.send_with_data_passthrough(_Data(data=body.data)) or ():
                    await stream.write(piece, write_timeout)
        else:
            async for chunk in body:
                if chunk:
                    for piece in conn.send_with_data_passthrough(_Data(data=chunk)) or ():
                        await stream.write(piece, write_timeout)
        await stream.write(conn.send(_EndOfMessage()) or b"", write_timeout)

    async def _receive_head(
        self, read_timeout: float | None, write_error: WriteError | None
    ) -> Any:
        """Read until the final response head (1xx other than 101 are skipped)."""
        conn = self._h11
        stream = self._stream
        assert stream is not None
        try:
            # A cycle starts with an empty receive buffer (_response_done makes sure), so read
            # before asking the parser for an event it cannot have yet.
            event: Any = _NEED_DATA
            while True:
                if event is _NEED_DATA:
                    data = await stream.read(_READ_SIZE, read_timeout)
                    if not data:
                        if write_error is not None:
                            raise write_error
                        if not self.response_started:
                            raise RemoteProtocolError(
                                "the server closed the connection without sending a response"
                            )
                    self.response_started = True
                    conn.receive_data(data)
                    event = conn.next_event()
                    continue
                kind = type(event)
                if kind is _Response:
                    return event
                if kind is _InformationalResponse:
                    if event.status_code == 101:
                        return event
                    event = conn.next_event()  # 100 Continue, 103 Early Hints: more follows
                    continue
                raise RemoteProtocolError(f"unexpected {kind.__name__} before the response head")
        except RemoteProtocolError:
            if write_error is not None:
                raise write_error from None
            raise

    async def _response_done(self) -> None:
        """The body was read to its end: keep the connection alive if both sides agree."""
        conn = self._h11
        if conn.our_state is _DONE and conn.their_state is _DONE and not conn.trailing_data[0]:
            # (Bytes after a complete response were never asked for: such a connection is not
            # reused, or they would be read as the next response.)
            conn.start_next_cycle()
            self.requests_completed += 1
            self.state = IDLE
            self.idle_since = time.monotonic()
            if self._on_release is not None:
                await self._on_release(self)
        else:
            await self._discard()

    async def _detach(self) -> None:
        """Hand the stream over to the caller (after a protocol switch): the connection is
        CLOSED for the pool, but the stream stays open."""
        self.state = CLOSED
        self._stream = None
        if self._on_release is not None:
            await self._on_release(self)

    async def _discard(self) -> None:
        """Close the connection (if not closed) and tell the pool."""
        if self.state == CLOSED and self._stream is None:
            return
        self.state = CLOSED
        stream, self._stream = self._stream, None
        try:
            if stream is not None:
                try:
                    await stream.aclose()
                except Exception:  # closing is best effort: the peer may be gone already
                    pass
        finally:
            # Even when closing is interrupted (trio re-raises Cancelled at the checkpoint in
            # aclose when the request's scope is cancelled), the pool must get the slot back.
            if self._on_release is not None:
                await self._on_release(self)

    async def aclose(self) -> None:
        """Close the connection; an exchange in progress fails on its next read or write."""
        if self._h2conn is not None:
            await self._h2conn.aclose()
        await self._discard()

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
        url = URL(f"{scheme}://{_format_host(host)}:{port}/")
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
        if self._h2conn is not None:
            return repr(self._h2conn)
        return f'<Connection "{_format_origin(self.origin)}" {self.state}>'


class AsyncResponseBody(AsyncByteStream):
    """The body of one HTTP/1.1 response, read from the connection as it is iterated.

    Iterating to the end returns the connection to its pool (or closes it when it cannot be kept
    alive); ``aclose()`` before the end closes the connection.
    """

    __slots__ = ("_conn", "_read_timeout", "_done", "_tracer", "_request")

    def __init__(
        self,
        conn: AsyncConnection,
        read_timeout: float | None,
        tracer: AsyncTracer | None,
        request: Request,
    ) -> None:
        self._conn = conn
        self._read_timeout = read_timeout
        self._done = False
        self._tracer = tracer
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._done:
            return
        conn = self._conn
        h = conn._h11
        stream = conn._stream
        read_timeout = self._read_timeout
        tracer = self._tracer
        if tracer is not None:
            await tracer.emit("http11.receive_response_body.started", {"request": self._request})
        try:
            # next_body(): every body byte already received in one piece (chunks joined),
            # rather than one Data event per chunk.
            while True:
                got = h.next_body()
                kind = type(got)
                if kind is bytes:
                    yield got
                elif got is _NEED_DATA:
                    if stream is None:
                        raise ReadError("the connection was closed while the body was being read")
                    h.receive_data(await stream.read(_READ_SIZE, read_timeout))
                elif kind is _EndOfMessage:
                    break
                else:
                    raise RemoteProtocolError(f"unexpected {kind.__name__} in the response body")
        except BaseException as exc:
            self._done = True
            if tracer is not None:
                await tracer.emit("http11.receive_response_body.failed", {"exception": exc})
            await self._close_connection()
            raise
        self._done = True
        if tracer is None:
            await conn._response_done()
        else:
            await tracer.emit("http11.receive_response_body.complete", {"return_value": None})
            await tracer.call("http11.response_closed", {}, conn._response_done)

    async def _close_connection(self) -> None:
        if self._tracer is None:
            await self._conn._discard()
        else:
            await self._tracer.call("http11.response_closed", {}, self._conn._discard)

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            await self._close_connection()


class AsyncPrefixedStream(AsyncNetworkStreamInterface):
    """A network stream whose first reads return bytes that were already received."""

    def __init__(self, stream: AsyncNetworkStreamInterface, prefix: bytes) -> None:
        self._stream = stream
        self._prefix = prefix

    async def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        if self._prefix:
            n = max_bytes or _READ_SIZE
            data, self._prefix = self._prefix[:n], self._prefix[n:]
            return data
        return await self._stream.read(max_bytes, timeout)

    async def write(self, data: bytes, timeout: float | None = None) -> None:
        await self._stream.write(data, timeout)

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        hostname: str | bytes | None = None,
        timeout: float | None = None,
        *,
        server_hostname: str | bytes | None = None,
    ) -> AsyncNetworkStreamInterface:
        if self._prefix:
            raise RuntimeError("cannot start TLS: unread bytes arrived before the handshake")
        name = tls_hostname(hostname, server_hostname)
        result = await self._stream.start_tls(ssl_context, name, timeout)
        if result is not None:
            self._stream = result
        return self

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)

    async def aclose(self) -> None:
        await self._stream.aclose()

    def __repr__(self) -> str:
        return repr(self._stream)


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
    conn._stream = await conn._connect(request, tracer_for(request))
    conn.state = IDLE
    conn.idle_since = time.monotonic()
    return conn
