"""One HTTP/1.1 connection to one origin, driven by ``httpwire.http11``.

An ``AsyncConnection`` opens its network stream on its first request (TCP or a UNIX socket, then
TLS for ``https``), sends one request at a time, and hands the response back with its body still
on the wire: ``response.stream`` reads it. The connection becomes IDLE again, ready for the next
request, only when that body has been read to its end and both sides agree to keep the connection
alive (RFC 9112 section 9.3). Any failure or cancellation part way through a message closes the
connection: it is never reused mid-message.
"""

from __future__ import annotations

import time
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from .. import http11 as h11
from .._backends.auto import AsyncNetworkBackend
from .._backends.base import (
    SOCKET_OPTION,
    AsyncNetworkBackendInterface,
    AsyncNetworkStreamInterface,
)
from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    LocalProtocolError,
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

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

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
    if not url.host:
        raise UnsupportedProtocol(f"the URL {str(url)!r} has no host")
    return (scheme, url.host, url.port or default)


def _format_origin(origin: Origin) -> str:
    scheme, host, port = origin
    if ":" in host:
        host = f"[{host}]"
    if port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class AsyncConnection:
    """One HTTP/1.1 connection. Repr: ``<Connection "https://127.0.0.1:8443" IDLE>``.

    States: ``NEW`` (not connected yet), ``ACTIVE`` (a request is in flight or its body is being
    read), ``IDLE`` (kept alive, ready for the next request), ``CLOSED``.

    Parameters (all optional but ``origin``): ``ssl_context`` for https (default: the shared
    verified context), ``backend``, ``local_address`` (source IP to bind), ``uds`` (connect to
    this UNIX socket path instead of TCP), ``socket_options`` (``setsockopt`` triples),
    ``retries`` (connect attempts after the first, with exponential back-off from 0.5 s),
    ``keepalive_expiry`` (seconds an idle connection is trusted; None for no limit).
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
    ) -> None:
        self.origin = origin
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
        return self.state == IDLE

    @property
    def is_closed(self) -> bool:
        return self.state == CLOSED

    def has_expired(self, now: float) -> bool:
        """True when idle for longer than ``keepalive_expiry``."""
        expiry = self._keepalive_expiry
        return expiry is not None and now - self.idle_since > expiry

    def is_stale(self) -> bool:
        """True when an idle connection can no longer be trusted: the server closed it (or sent
        bytes nobody asked for), so it must be discarded before reuse."""
        stream = self._stream
        return stream is None or bool(stream.get_extra_info("is_readable"))

    # -- connecting --------------------------------------------------------------------------

    async def _connect(self, request: Request) -> AsyncNetworkStreamInterface:
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
                if self._uds is not None:
                    stream = await backend.connect_unix_socket(
                        self._uds, timeout=connect_timeout, socket_options=self._socket_options
                    )
                else:
                    stream = await backend.connect(
                        host,
                        port,
                        timeout=connect_timeout,
                        local_address=self._local_address,
                        socket_options=self._socket_options,
                    )
                break
            except (ConnectError, ConnectTimeout):
                if attempt >= self._retries:
                    raise
                attempt += 1
                await backend.sleep(delay)
                delay *= 2
        if scheme == "https":
            ssl_context = self._ssl_context or default_ssl_context()
            sni = request.extensions.get("sni_hostname") or host
            try:
                stream = await stream.start_tls(
                    ssl_context, server_hostname=sni, timeout=connect_timeout
                )
            except BaseException:
                await stream.aclose()
                raise
        return stream

    # -- one exchange ------------------------------------------------------------------------

    async def send(self, request: Request) -> Response:
        """Send ``request`` and return the response once its head has arrived.

        The body is read through ``response.stream`` (``async for``); reading it to the end or
        closing it ends the exchange. Raises the transport errors of the layers below
        (``ConnectError``, ``ReadTimeout``, ``RemoteProtocolError``, ...); after any error the
        connection is CLOSED. Raises ``RuntimeError`` if the connection is busy or closed.
        """
        if self.state == ACTIVE:
            raise RuntimeError(f"{self!r} is busy: HTTP/1.1 sends one request at a time")
        if self.state == CLOSED:
            raise RuntimeError(f"{self!r} is closed")
        self.state = ACTIVE
        self.response_started = False
        try:
            if self._stream is None:
                self._stream = await self._connect(request)
            return await self._exchange(request)
        except BaseException:
            await self._discard()
            raise

    async def _exchange(self, request: Request) -> Response:
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
        try:
            head = conn.send(
                h11.Request(method=request.method, target=target, headers=request.headers.raw)
            )
        except h11.LocalProtocolError as exc:
            raise LocalProtocolError(str(exc)) from None
        assert head is not None

        write_error: WriteError | None = None
        try:
            body = request.stream
            if isinstance(body, BytesStream):
                data = body.data
                if len(data) < _JOIN_LIMIT:
                    if data:
                        head += conn.send(_Data(data=data)) or b""
                    head += conn.send(_EndOfMessage()) or b""
                    await stream.write(head, write_timeout)
                else:
                    await stream.write(head, write_timeout)
                    for piece in conn.send_with_data_passthrough(_Data(data=data)) or ():
                        await stream.write(piece, write_timeout)
                    await stream.write(conn.send(_EndOfMessage()) or b"", write_timeout)
            else:
                await stream.write(head, write_timeout)
                async for chunk in body:  # type: ignore[union-attr]
                    if chunk:
                        for piece in conn.send_with_data_passthrough(_Data(data=chunk)) or ():
                            await stream.write(piece, write_timeout)
                await stream.write(conn.send(_EndOfMessage()) or b"", write_timeout)
        except WriteError as exc:
            # The server may have answered early (a 413, a 401) and closed: RFC 9112 section 9.6
            # lets it. Read that response if there is one; report the write failure otherwise.
            write_error = exc
        except h11.LocalProtocolError as exc:
            raise LocalProtocolError(str(exc)) from None

        try:
            while True:
                event = conn.next_event()
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
                    continue
                if type(event) is _Response:
                    break
                if type(event) is _InformationalResponse:
                    if event.status_code == 101:
                        event = typing.cast(Any, event)
                        break
                    continue  # 100 Continue, 103 Early Hints: the final response follows
                raise RemoteProtocolError(
                    f"unexpected {type(event).__name__} before the response head"
                )
        except h11.RemoteProtocolError as exc:
            if write_error is not None:
                raise write_error from None
            raise RemoteProtocolError(str(exc)) from None

        extensions: dict[str, Any] = {
            "http_version": b"HTTP/" + event.http_version,
            "reason_phrase": event.reason,
            "network_stream": stream,
        }
        if event.status_code == 101 or (
            request.method == "CONNECT" and 200 <= event.status_code < 300
        ):
            # The connection now belongs to the caller (Upgrade / tunnel): never reused.
            self.state = CLOSED
            response = Response(
                event.status_code, stream=BytesStream(b""), extensions=extensions, request=request
            )
            response.headers = Headers._from_validated(event.headers.raw_items(), event.headers)
            return response
        # If the request was not fully sent (write_error), our side never reaches DONE, so
        # _response_done() closes the connection after this response: it is never reused.
        response = Response(
            event.status_code,
            stream=AsyncResponseBody(self, read_timeout),
            extensions=extensions,
            request=request,
        )
        # The parser validated every field already: skip Headers' own checks.
        response.headers = Headers._from_validated(event.headers.raw_items(), event.headers)
        return response

    async def _response_done(self) -> None:
        """The body was read to its end: keep the connection alive if both sides agree."""
        conn = self._h11
        if conn.our_state is _DONE and conn.their_state is _DONE:
            conn.start_next_cycle()
            self.requests_completed += 1
            self.state = IDLE
            self.idle_since = time.monotonic()
            if self._on_release is not None:
                await self._on_release(self)
        else:
            await self._discard()

    async def _discard(self) -> None:
        """Close the connection (if not closed) and tell the pool."""
        if self.state == CLOSED and self._stream is None:
            return
        self.state = CLOSED
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                await stream.aclose()
            except Exception:  # closing is best effort: the peer may be gone already
                pass
        if self._on_release is not None:
            await self._on_release(self)

    async def aclose(self) -> None:
        """Close the connection; an exchange in progress fails on its next read or write."""
        await self._discard()

    # -- conveniences ------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: URL | str,
        *,
        headers: Any = None,
        content: bytes | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send a request on this connection and read the whole response body."""
        response = await self.send(
            Request(method, url, headers=headers, content=content, extensions=extensions)
        )
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: URL | str,
        *,
        headers: Any = None,
        content: bytes | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> AsyncIterator[Response]:
        """``async with conn.stream(...) as response:`` the body is read inside the block."""
        response = await self.send(
            Request(method, url, headers=headers, content=content, extensions=extensions)
        )
        try:
            yield response
        finally:
            await response.aclose()

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
        return f'<Connection "{_format_origin(self.origin)}" {self.state}>'


class AsyncResponseBody(AsyncByteStream):
    """The body of one HTTP/1.1 response, read from the connection as it is iterated.

    Iterating to the end returns the connection to its pool (or closes it when it cannot be kept
    alive); ``aclose()`` before the end closes the connection.
    """

    __slots__ = ("_conn", "_read_timeout", "_done")

    def __init__(self, conn: AsyncConnection, read_timeout: float | None) -> None:
        self._conn = conn
        self._read_timeout = read_timeout
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._done:
            return
        conn = self._conn
        h = conn._h11
        stream = conn._stream
        read_timeout = self._read_timeout
        try:
            while True:
                event = h.next_event()
                if event is _NEED_DATA:
                    if stream is None:
                        raise ReadError("the connection was closed while the body was being read")
                    h.receive_data(await stream.read(_READ_SIZE, read_timeout))
                    continue
                kind = type(event)
                if kind is _Data:
                    yield event.data
                elif kind is _EndOfMessage:
                    break
                else:
                    raise RemoteProtocolError(f"unexpected {kind.__name__} in the response body")
        except h11.RemoteProtocolError as exc:
            self._done = True
            await conn._discard()
            raise RemoteProtocolError(str(exc)) from None
        except BaseException:
            self._done = True
            await conn._discard()
            raise
        self._done = True
        await conn._response_done()

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            await self._conn._discard()


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
    conn._stream = await conn._connect(Request("GET", url, extensions=extensions))
    conn.state = IDLE
    conn.idle_since = time.monotonic()
    return conn
