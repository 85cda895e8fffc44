"""HTTP/1.1 over one connected network stream, driven by ``httpwire.http11``.

``AsyncHTTP11Connection`` sends one request at a time and hands the response back with its body
still on the wire: ``response.stream`` reads it. The connection becomes IDLE again, ready for the
next request, only when that body has been read to its end and both sides agree to keep the
connection alive (RFC 9112 section 9.3). Any failure or cancellation part way through a message
closes the connection: it is never reused mid-message. A ``101 Switching Protocols`` (or a 2xx
to CONNECT) hands the stream over to the caller.

Connecting, TLS and choosing the protocol are ``_connection``'s; this module imports only the
interface it implements (``_protocol``).
"""

from __future__ import annotations

import time
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .. import http11 as h11
from .._backends.base import AsyncNetworkStreamInterface, tls_hostname
from .._exceptions import ReadError, RemoteProtocolError, WriteError
from .._headers import Headers
from .._models import Request, Response
from .._origins import Origin, format_origin
from .._streams import AsyncByteStream, BodySink, BytesStream
from ._protocol import ACTIVE, CLOSED, IDLE, READ_SIZE, AsyncConnectionProtocol
from ._trace import AsyncTracer, tracer_for

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

__all__ = ["AsyncHTTP11Connection", "AsyncResponseBody", "AsyncPrefixedStream"]

# Bodies at least this large are written apart from the head instead of joined to it (a join
# would copy them).
_JOIN_LIMIT = 65536

_NEED_DATA = h11.NEED_DATA
_Data = h11.Data
_EndOfMessage = h11.EndOfMessage
_Response = h11.Response
_InformationalResponse = h11.InformationalResponse
_DONE = h11.DONE
_HTTP11 = b"HTTP/1.1"
# A Content-Length body with at least this many bytes still to come is read straight into the
# response's buffer (receive_into); below it, one ordinary read is as cheap.
_READ_INTO_FROM = 65536


class AsyncHTTP11Connection(AsyncConnectionProtocol):
    """HTTP/1.1 over ``stream`` (already connected, TLS done) to ``origin``.

    Repr: ``<Connection "https://127.0.0.1:8443" IDLE>``. States: ``ACTIVE`` (a request is in
    flight or its body is being read), ``IDLE`` (kept alive, ready for the next request),
    ``CLOSED``. ``keepalive_expiry``: seconds an idle connection is trusted (None: no limit);
    ``on_release``: awaited each time an exchange ends (IDLE) and when the connection closes.
    """

    http_version = "HTTP/1.1"

    def __init__(
        self,
        origin: Origin,
        stream: AsyncNetworkStreamInterface,
        *,
        keepalive_expiry: float | None = None,
        on_release: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.origin = origin
        self._stream: AsyncNetworkStreamInterface | None = stream
        self._keepalive_expiry = keepalive_expiry
        self._on_release = on_release
        self._h11 = h11.Connection(h11.CLIENT)
        self._state = IDLE
        #: Requests completed on this connection (a reused connection has > 0).
        self.requests_completed = 0
        #: Whether any byte of the current response has arrived (for safe retries).
        self.response_started = False
        #: ``time.monotonic()`` when the connection last became IDLE.
        self.idle_since = time.monotonic()

    # -- state -------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def is_idle(self) -> bool:
        """True when kept alive with no exchange in flight, ready for the next request."""
        return self._state == IDLE

    @property
    def is_closed(self) -> bool:
        """True once closed (by an error, by ``aclose()``, or after a protocol switch)."""
        return self._state == CLOSED

    @property
    def is_available(self) -> bool:
        return self._state == IDLE

    def has_expired(self, now: float) -> bool:
        """True when idle for longer than ``keepalive_expiry``."""
        expiry = self._keepalive_expiry
        return expiry is not None and now - self.idle_since > expiry

    def is_stale(self) -> bool:
        """True when the server closed the idle connection (or sent bytes nobody asked for)."""
        stream = self._stream
        return stream is None or bool(stream.get_extra_info("is_readable"))

    # -- one exchange ------------------------------------------------------------------------

    async def send(self, request: Request, *, reserved: bool = False) -> Response:
        """Send ``request`` and return the response once its head has arrived.

        The body is read through ``response.stream`` (``async for``); reading it to the end or
        closing it ends the exchange. Raises the transport errors of the layers below
        (``ReadTimeout``, ``RemoteProtocolError``, ...); after any error the connection is
        CLOSED. Raises ``RuntimeError`` if the connection is busy or closed. (``reserved`` is
        for HTTP/2 and ignored here.)
        """
        if self._state == ACTIVE:
            raise RuntimeError(f"{self!r} is busy: HTTP/1.1 sends one request at a time")
        if self._state == CLOSED:
            raise RuntimeError(f"{self!r} is closed")
        self._state = ACTIVE
        self.response_started = False
        try:
            return await self._exchange(request, tracer_for(request))
        except BaseException:
            await self._discard()
            raise

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

        response, handed_over = self._response(request, event, read_timeout, tracer)
        if handed_over:
            await self._detach()
        return response

    def _response(
        self,
        request: Request,
        event: Any,
        read_timeout: float | None,
        tracer: AsyncTracer | None,
    ) -> tuple[Response, bool]:
        """The ``Response`` for the head ``event``, its body read from this connection
        (:class:`AsyncResponseBody`); or, after ``101`` or a 2xx to CONNECT, an empty one and
        True: the stream is handed over to the caller (the caller then ``_detach()``-es)."""
        stream = self._stream
        assert stream is not None
        version = event.http_version
        extensions: dict[str, Any] = {
            # Shortcut (issue 14): the usual version's bytes are shared, not built per response
            # (a concatenation, ~0.1 us); any other version is built as before.
            "http_version": _HTTP11 if version == b"1.1" else b"HTTP/" + version,
            "reason_phrase": event.reason,
            "network_stream": stream,
        }
        status = event.status_code
        if status == 101 or (request.method == "CONNECT" and 200 <= status < 300):
            # The stream now belongs to the caller (Upgrade / tunnel). Bytes that arrived after
            # the head belong to the new protocol: the caller reads them first.
            leftover = self._h11.trailing_data[0]
            if leftover:
                extensions["network_stream"] = AsyncPrefixedStream(stream, leftover)
            body: AsyncByteStream = BytesStream(b"")
            handed_over = True
        else:
            # If the request was not fully sent (write_error), our side never reaches DONE, so
            # _response_done() closes the connection after this response: it is never reused.
            body = AsyncResponseBody(self, read_timeout, tracer, request)
            handed_over = False
        response = Response(status, stream=body, extensions=extensions, request=request)
        # The parser validated every field already: skip Headers' own checks. Shortcut (issue
        # 14): the event's own pair lists (read-only, never changed after parsing) are zipped
        # directly, without the copy raw_items() makes for callers (~0.2 us per response).
        fields = event.headers
        response.headers = Headers._from_validated(fields._raw, fields._items)
        return response, handed_over

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
                    data = await stream.read(READ_SIZE, read_timeout)
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
            self._state = IDLE
            self.idle_since = time.monotonic()
            if self._on_release is not None:
                await self._on_release()
        else:
            await self._discard()

    async def _detach(self) -> None:
        """Hand the stream over to the caller (after a protocol switch): the connection is
        CLOSED for the pool, but the stream stays open."""
        self._state = CLOSED
        self._stream = None
        if self._on_release is not None:
            await self._on_release()

    async def _discard(self) -> None:
        """Close the connection (if not closed) and tell the pool."""
        if self._state == CLOSED and self._stream is None:
            return
        self._state = CLOSED
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
                await self._on_release()

    async def aclose(self) -> None:
        """Close the connection; an exchange in progress fails on its next read or write."""
        await self._discard()

    async def __aenter__(self) -> AsyncHTTP11Connection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f'<Connection "{format_origin(self.origin)}" {self._state}>'


def _unexpected(kind: type) -> RemoteProtocolError:
    return RemoteProtocolError(f"unexpected {kind.__name__} in the response body")


class AsyncResponseBody(AsyncByteStream):
    """The body of one HTTP/1.1 response, read from the connection as it is iterated.

    Iterating to the end returns the connection to its pool (or closes it when it cannot be kept
    alive); ``aclose()`` before the end closes the connection.
    """

    __slots__ = ("_conn", "_read_timeout", "_done", "_tracer", "_request")

    def __init__(
        self,
        conn: AsyncHTTP11Connection,
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
        await self._started()
        try:
            # next_body(): every body byte already received in one piece (chunks joined),
            # rather than one Data event per chunk.
            while True:
                got = h.next_body()
                kind = type(got)
                if kind is bytes:
                    yield got
                elif got is _NEED_DATA:
                    await self._receive(stream, None)
                elif kind is _EndOfMessage:
                    break
                else:
                    raise _unexpected(kind)
        except BaseException as exc:
            await self._failed(exc)
            raise
        await self._completed()

    async def receive_into(self, sink: BodySink) -> None:
        """Read the whole body into ``sink`` (``Response.read()``'s path): what the parser
        holds is fed as ``bytes``; the rest of a Content-Length body is read by the network
        stream straight into ``sink.space()`` (``recv_into`` on a socket), never passing
        through a ``bytes`` object or the parser's buffer. Ends the exchange as iterating to
        the end does. Shortcut (issue 14 item 3), measured on get_16m: one copy of the body
        fewer (the kernel's copy lands in the final buffer) and reads as large as the space
        offered (a 16 MiB body in about 16 reads, not 256); its cost is this second loop
        beside ``__aiter__``'s."""
        if self._done:
            return
        conn = self._conn
        h = conn._h11
        stream = conn._stream
        await self._started()
        try:
            while True:
                got = h.next_body()
                kind = type(got)
                if kind is bytes:
                    sink.feed(got)
                elif got is _NEED_DATA:
                    await self._receive(stream, sink)
                elif kind is _EndOfMessage:
                    break
                else:
                    raise _unexpected(kind)
        except BaseException as exc:
            await self._failed(exc)
            raise
        await self._completed()

    async def _receive(
        self, stream: AsyncNetworkStreamInterface | None, sink: BodySink | None
    ) -> None:
        """Give the parser more of the body: into ``sink``'s space when it is a big enough rest
        of a Content-Length body (see :meth:`receive_into`), else one ordinary read."""
        if stream is None:
            raise ReadError("the connection was closed while the body was being read")
        h = self._conn._h11
        if sink is not None:
            wanted = h.body_bytes_wanted()
            if wanted >= _READ_INTO_FROM:
                n = await stream.read_into(sink.space(wanted), self._read_timeout)
                sink.filled(n)
                if n:
                    h.body_received_directly(n)
                else:
                    h.receive_data(b"")  # EOF: next_body() raises (the body is incomplete)
                return
        h.receive_data(await stream.read(READ_SIZE, self._read_timeout))

    async def _started(self) -> None:
        if self._tracer is not None:
            await self._tracer.emit(
                "http11.receive_response_body.started", {"request": self._request}
            )

    async def _failed(self, exc: BaseException) -> None:
        self._done = True
        if self._tracer is not None:
            await self._tracer.emit("http11.receive_response_body.failed", {"exception": exc})
        await self._close_connection()

    async def _completed(self) -> None:
        self._done = True
        conn = self._conn
        tracer = self._tracer
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
            n = max_bytes or READ_SIZE
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
