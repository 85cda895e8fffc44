"""One HTTP/2 connection (RFC 9113), multiplexing concurrent requests, driven by our engine.

The engine (``httpwire.http2``) does the framing, HPACK, the per-stream state machine and the
protocol's defences; this module does the I/O and the bookkeeping around it, so that many tasks
(or threads, in the sync flavour) can share one connection:

- **Writing.** Every change to the engine's state (a new stream, DATA, WINDOW_UPDATE,
  RST_STREAM) happens under the state lock; the bytes it queued are taken and written under the
  write lock by whoever flushes first, so frames reach the wire in the order the engine produced
  them (HPACK depends on it) and concurrent requests share writes.
- **Reading.** There is no reader task: a stream that needs a frame becomes the reader if nobody
  is reading, reads, feeds the engine and hands each event to the stream it belongs to, waking that
  stream's task; it stops once its own stream has something, passing the reader role to another
  waiting stream. This is the same code for asyncio, trio and threads.
- **Flow control** (RFC 9113 section 5.2) both ways: uploads wait for WINDOW_UPDATE; received
  DATA is acknowledged as the application consumes it, so an unread response holds back only
  its own stream (up to the stream window) and the connection window bounds memory.
- **Concurrency limit**: ``SETTINGS_MAX_CONCURRENT_STREAMS``, followed as it changes: one
  stream until the server's SETTINGS arrive, then its limit (100 when it sets none);
  ``send()`` beyond it waits for a stream to end.
- **GOAWAY** (section 6.8): streams above ``last_stream_id`` fail with :class:`StreamRefused`
  (never processed by the server, safe to retry on a new connection); no stream starts after it;
  the connection closes when its last stream ends. ``RST_STREAM`` with ``REFUSED_STREAM`` gives
  the same error. A connection that was idle is read before it is reused: a GOAWAY or a close
  found there refuses the stream before anything is written.
- **Limits against hostile servers**: a stream's read timeout bounds each wait for a frame of
  that stream (control frames are no progress); acknowledgements are written within the reading
  stream's write limit; more than ``_FLOOD_LIMIT`` frames that bring no response closer (PING,
  SETTINGS, empty DATA, RST_STREAM for streams gone, ...) end the connection with
  GOAWAY(ENHANCE_YOUR_CALM), counted by the engine (``max_control_frames``); a first frame other
  than SETTINGS is a protocol error (RFC 9113 section 3.4), also found by the engine.

What does not touch the network (our SETTINGS, the header mapping, error names) is in
``httpwire._h2glue``, shared by both flavours.
"""

from __future__ import annotations

import select
import time
import types
import typing
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .._backends.base import AsyncNetworkStreamInterface
from .._exceptions import (
    LocalProtocolError,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    WriteError,
)
from .._h2glue import (
    CANCEL,
    REFUSED_STREAM,
    StreamRefused,
    error_name,
    new_h2_connection,
    request_headers,
    response_head,
    stream_is_open,
)
from .._headers import Headers
from .._models import Request, Response
from .._origins import Origin, format_origin
from .._streams import AsyncByteStream, BytesStream
from .._synchronization import (
    AsyncCheckpoint,
    AsyncIOPolicy,
    AsyncLock,
    AsyncShield,
    AsyncSignal,
    AsyncStateLock,
)
from .._timeouts import remaining
from ..http2 import (
    ConnectionTerminated,
    DataReceived,
    InformationalResponseReceived,
    ProtocolError,
    RemoteSettingsChanged,
    ResponseReceived,
    SettingCodes,
    StreamEnded,
    StreamReset,
    TooManyStreamsError,
    TrailersReceived,
    WindowUpdated,
)
from ..http2 import RemoteProtocolError as EngineProtocolError
from ._protocol import READ_SIZE, AsyncConnectionProtocol, is_replayable
from ._trace import AsyncTracer, tracer_for

__all__ = ["AsyncHTTP2Connection", "StreamRefused"]

# When the server's SETTINGS do not limit concurrent streams, this is the limit (RFC 9113
# section 6.5.2 recommends servers allow at least 100). Until its SETTINGS arrive, one stream at
# a time: a server may allow fewer than we would guess.
_ASSUMED_MAX_STREAMS = 100
# Upload in pieces of at most this much per flush, so one upload does not hold the write lock
# for a long time while other streams wait to send their HEADERS.
_UPLOAD_CHUNK = 256 * 1024
# Bytes of finished streams credited to the connection window at once (see _acknowledge).
_BULK_ACK = 256 * 1024
# Flood limit (CVE-2019-9512 PING flood, CVE-2019-9515 SETTINGS flood, CVE-2019-9518 empty
# frames): frames that make us work (or answer) without bringing any response closer. The engine
# counts them (a response or DATA received pays some back) and past _FLOOD_LIMIT ends the
# connection with GOAWAY(ENHANCE_YOUR_CALM), as servers do. Legitimate servers send a handful.
_FLOOD_LIMIT = 1000
# On trio a write is shielded from the task's cancellation (a cancelled write would leave part
# of a frame on the wire); one without a write limit still ends after this many seconds.
_SHIELDED_WRITE_LIMIT = 30.0
_SHIELD_GRACE = 1.0


_STREAM_EVENTS = frozenset(
    {
        ResponseReceived,
        InformationalResponseReceived,
        DataReceived,
        TrailersReceived,
        StreamEnded,
        StreamReset,
    }
)


def _copy_error(exc: BaseException) -> BaseException:
    """A fresh exception like ``exc`` for another stream (one instance raised in many tasks
    would collect all their tracebacks)."""
    try:
        new = type(exc)(str(exc))
    except Exception:
        new = RemoteProtocolError(str(exc))
    new.__cause__ = exc
    return new


class _Stream:
    """One request/response exchange: the events the engine produced for it, not yet consumed."""

    __slots__ = (
        "stream_id",
        "events",
        "signal",
        "window_changed",
        "reset",
        "done",
        "write_timeout",
    )

    def __init__(self, stream_id: int, write_timeout: float | None = None) -> None:
        self.stream_id = stream_id
        #: The request's write limit: it bounds every write made on this stream's behalf
        #: (acknowledgements of PING and SETTINGS it reads, WINDOW_UPDATE, RST_STREAM).
        self.write_timeout = write_timeout
        self.events: deque[Any] = deque()
        self.signal = AsyncSignal()
        self.window_changed = False
        self.reset = False
        self.done = False


class _Exchange:
    """One request's way through :meth:`AsyncHTTP2Connection.send`: its limits, its body
    (``None`` when empty, ``bytes`` when in memory, else the stream to iterate) and its
    stream once opened."""

    __slots__ = ("request", "read_timeout", "write_timeout", "body", "stream")

    def __init__(
        self, request: Request, read_timeout: float | None, write_timeout: float | None
    ) -> None:
        self.request = request
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        body = request.stream
        self.body: bytes | AsyncByteStream | None
        if isinstance(body, BytesStream):
            self.body = body.data or None
        else:
            self.body = typing.cast(AsyncByteStream, body)
        self.stream: _Stream | None = None


def _replayable_failure(exc: BaseException, request: Request) -> bool:
    """A failure on a reused connection before any response that RFC 9110 section 9.2.2 lets
    the pool retry: a network or protocol error (not a refusal, already retryable) of a
    replayable request."""
    return (
        isinstance(exc, ReadError | WriteError | RemoteProtocolError)
        and not isinstance(exc, StreamRefused)
        and is_replayable(request)
    )


class AsyncHTTP2Connection(AsyncConnectionProtocol):
    """One HTTP/2 connection over an already-connected network stream.

    Repr: ``<Connection "https://127.0.0.1:8443" HTTP/2 IDLE 0 streams>``.

    ``send(request)`` may be called concurrently from many tasks (threads in the sync flavour);
    each request gets its own stream. Parameters: ``origin`` ``(scheme, host, port)``,
    ``network_stream`` (TLS with ALPN ``h2``, or cleartext with prior knowledge, RFC 9113 section
    3.3), ``keepalive_expiry`` (seconds an idle connection is trusted; None for no limit) and
    ``on_release`` (awaited, without arguments, each time a stream ends and when it closes).

    The connection preface (RFC 9113 section 3.4) is sent with the first request.
    """

    def __init__(
        self,
        origin: Origin,
        network_stream: AsyncNetworkStreamInterface,
        *,
        keepalive_expiry: float | None = None,
        on_release: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.origin = origin
        self._network_stream = network_stream
        self._keepalive_expiry = keepalive_expiry
        self._on_release = on_release
        self._h2 = new_h2_connection(_FLOOD_LIMIT)
        self._preface_sent = False
        self._state_lock = AsyncStateLock()
        self._write_lock = AsyncLock()
        self._checkpoint = AsyncCheckpoint()
        self._shield = AsyncShield()
        # Threads sharing a TLS socket: wait for readability, then read under the write lock.
        self._tls_socket: Any = None
        if AsyncIOPolicy.serialize_tls_reads:
            sock = network_stream.get_extra_info("socket")
            if hasattr(sock, "pending") and hasattr(sock, "fileno"):  # an ssl.SSLSocket
                self._tls_socket = sock
        self._streams: dict[int, _Stream] = {}
        self._reading = False
        self._waiting: dict[_Stream, None] = {}
        self._uploading: dict[_Stream, None] = {}
        self._slot_waiters: deque[AsyncSignal] = deque()
        self._active = 0
        self._max_streams = _ASSUMED_MAX_STREAMS
        #: True once the server's first SETTINGS frame was read (its limits are known).
        self.settings_known = False
        self._notify_settings = False
        self._unacked = 0
        self._goaway_last_stream: int | None = None
        self._goaway_error = 0
        self._broken: BaseException | None = None
        #: Streams whose request HEADERS were written: the connection has been used, so a
        #: failure before any response on a later stream may be the server closing it while
        #: idle (RFC 9110 section 9.2.2 then allows sending an idempotent request again).
        self.requests_sent = 0
        self._closed = False
        #: Streams that ended normally (response read to its end).
        self.requests_completed = 0
        #: ``time.monotonic()`` when the last stream ended (or the connection was made).
        self.idle_since = time.monotonic()

    # -- state -------------------------------------------------------------------------------

    is_multiplexed = True
    http_version = "HTTP/2"

    @property
    def limits_known(self) -> bool:
        """True once the server's first SETTINGS frame was read (``settings_known``)."""
        return self.settings_known

    @property
    def state(self) -> str:
        """``"ACTIVE"`` (streams open), ``"IDLE"`` or ``"CLOSED"``."""
        if self._closed or self._broken is not None:
            return "CLOSED"
        return "ACTIVE" if self._active else "IDLE"

    @property
    def is_idle(self) -> bool:
        return self._active == 0 and not self._closed and self._broken is None

    @property
    def is_closed(self) -> bool:
        return self._closed or self._broken is not None

    def _limit(self) -> int:
        return self._max_streams if self.settings_known else 1

    @property
    def is_available(self) -> bool:
        """True when one more stream can start now (open, no GOAWAY, below the stream limit)."""
        return (
            self._active < self._limit()
            and not self._closed
            and self._broken is None
            and self._goaway_last_stream is None
        )

    @property
    def is_going_away(self) -> bool:
        """True once a GOAWAY arrived: no new stream will start here."""
        return self._goaway_last_stream is not None

    @property
    def active_streams(self) -> int:
        """Streams in use (reserved by ``send()`` and not yet ended)."""
        return self._active

    @property
    def max_concurrent_streams(self) -> int:
        """Streams allowed at once: the server's ``SETTINGS_MAX_CONCURRENT_STREAMS`` (100 when it
        sets none; 1 until its SETTINGS arrive)."""
        return self._limit()

    def has_expired(self, now: float) -> bool:
        """True when idle for longer than ``keepalive_expiry``, or going away."""
        if self._goaway_last_stream is not None or self.is_closed:
            return True
        expiry = self._keepalive_expiry
        return expiry is not None and self._active == 0 and now - self.idle_since > expiry

    def is_stale(self) -> bool:
        """True when the connection cannot take requests any more (closed, broken, GOAWAY), or
        when it is idle (no stream open, nobody reading) and the server sent bytes nobody asked
        for: on an idle connection those are almost always its GOAWAY or its close (an idle
        timeout), so the pool discards it rather than send a request into it (as httpcore does).

        A request that reaches a connection whose GOAWAY or close arrived after this check still
        does not go out on it: :meth:`send` first reads what is waiting on a connection it
        reuses, and raises :class:`StreamRefused` (retried on a new connection)."""
        if self.is_closed or self._goaway_last_stream is not None:
            return True
        if self._streams or self._reading or not self._preface_sent:
            return False
        return bool(self._network_stream.get_extra_info("is_readable"))

    # -- sending -----------------------------------------------------------------------------

    def reserve_stream(self) -> bool:
        """Reserve a stream for a coming ``send(request, reserved=True)``; False when none is free
        now (at the server's limit, before its SETTINGS arrived and a stream is in use, going
        away, or closed). Used by the pool, which hands a multiplexed connection to a request
        only with a stream reserved for it."""
        with self._state_lock:
            if (
                self._active < self._limit()
                and self._goaway_last_stream is None
                and self._broken is None
                and not self._closed
            ):
                self._active += 1
                return True
            return False

    def unreserve_stream(self) -> None:
        """Give back a reservation that will not be used."""
        with self._state_lock:
            self._release_slot()

    async def send(self, request: Request, *, reserved: bool = False) -> Response:
        """Send ``request`` on a new stream and return the response once its head has arrived.

        The body is read through ``response.stream`` (``async for``); reading it to the end or
        closing it ends the stream (closing early sends ``RST_STREAM(CANCEL)``). Waits for a free
        stream when ``SETTINGS_MAX_CONCURRENT_STREAMS`` are in use (bounded by the ``pool``
        timeout: ``PoolTimeout``). Raises :class:`StreamRefused` when the server will not process
        the request (GOAWAY, REFUSED_STREAM, connection going away, or found closed before
        anything of the request was written: RFC 9113 section 8.7, any method) or when a reused
        connection (one that carried a request before) broke before any of the response of an
        idempotent request with an in-memory body arrived (safe to send again, RFC 9110 section
        9.2.2); ``RemoteProtocolError`` for a flood of control frames (ENHANCE_YOUR_CALM) or a
        server preface that is not SETTINGS; ``RemoteProtocolError`` when the server resets the stream or breaks
        the protocol; and the network errors of the stream below (``ReadTimeout``, ``WriteError``).
        ``reserved=True``: a stream was reserved with :meth:`reserve_stream` for this request.
        """
        timeouts = request.extensions.get("timeout")
        if timeouts:
            pool_timeout = timeouts.get("pool")
            ex = _Exchange(request, timeouts.get("read"), timeouts.get("write"))
        else:
            pool_timeout = None
            ex = _Exchange(request, None, None)
        await self._take_stream_slot(reserved, pool_timeout)
        tracer = tracer_for(request)
        reused = self.requests_sent > 0
        try:
            if tracer is None:
                if self._preface_sent:  # (else the preface leaves with the first HEADERS)
                    await self._send_connection_init(ex)
                await self._send_request_headers(ex)
                if ex.body is not None:
                    await self._send_request_body(ex)
                status, fields = await self._receive_response_headers(ex)
            else:
                status, fields = await self._traced_steps(ex, tracer)
        except BaseException as exc:
            stream = ex.stream
            unanswered = stream is None or not stream.events
            await self._abandon_stream(stream)
            if reused and unanswered and _replayable_failure(exc, request):
                # The server closed a connection we reused before answering: RFC 9110 section
                # 9.2.2 lets an idempotent request be sent again.
                raise StreamRefused(
                    f"{exc} (before any response on a reused connection: the request may be "
                    "retried)"
                ) from exc
            raise
        return self._response(ex, status, fields, tracer)

    # The steps of send(), each traced as one event (http2.<step>.started / .complete / .failed).

    async def _traced_steps(
        self, ex: _Exchange, tracer: AsyncTracer
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        info = {"request": ex.request}
        if not self._preface_sent:
            await tracer.call("http2.send_connection_init", info, self._send_connection_init, ex)
        else:
            await self._send_connection_init(ex)
        await tracer.call("http2.send_request_headers", info, self._send_request_headers, ex)
        if ex.body is not None:
            await tracer.call("http2.send_request_body", info, self._send_request_body, ex)
        result: tuple[int, list[tuple[bytes, bytes]]] = await tracer.call(
            "http2.receive_response_headers", info, self._receive_response_headers, ex
        )
        return result

    async def _take_stream_slot(self, reserved: bool, pool_timeout: float | None) -> None:
        """Count this request's stream against the server's limit (waiting for one, bounded by
        ``pool_timeout``), unless the pool reserved it and the limit still allows it."""
        if reserved:
            with self._state_lock:
                # The server lowered its limit (or sent it) after the stream was reserved:
                # wait for a stream like any other request.
                over = self._active > self._limit()
                if over:
                    self._release_slot()
            if not over:
                return
        await self._acquire_slot(pool_timeout)

    async def _send_connection_init(self, ex: _Exchange) -> None:
        """On a connection that was idle, read what the server sent meanwhile; on a new one,
        write the connection preface (RFC 9113 section 3.4)."""
        if self._preface_sent:
            if self._active == 1:
                await self._read_pending(ex.read_timeout, ex.write_timeout)
        else:
            await self._flush(ex.write_timeout)

    async def _send_request_headers(self, ex: _Exchange) -> int:
        """Open the stream and write its HEADERS (with END_STREAM when there is no body);
        returns the stream id."""
        request = ex.request
        headers = request_headers(request)
        end_stream = ex.body is None
        with self._state_lock:
            self._check_can_start()
            stream_id: int = self._h2.get_next_available_stream_id()
            ex.stream = stream = _Stream(stream_id, ex.write_timeout)
            self._streams[stream_id] = stream
            try:
                self._h2.send_headers(stream_id, headers, end_stream=end_stream)
            except TooManyStreamsError as e:
                raise StreamRefused(f"{e}: the request was not sent") from None
            except ProtocolError as e:
                raise LocalProtocolError(f"cannot send the request headers: {e}") from None
            batch = self._active > 1
        if batch:
            # Other streams are in flight: let the tasks that are ready queue their frames
            # too, so that one write carries them all (a TLS record and a syscall each
            # would cost more than the rest of a small request).
            await self._checkpoint()
        await self._flush(ex.write_timeout)
        self.requests_sent += 1
        return stream_id

    async def _send_request_body(self, ex: _Exchange) -> None:
        """Write the body in DATA frames as the windows allow, then END_STREAM."""
        stream = ex.stream
        assert stream is not None
        body = ex.body
        if isinstance(body, bytes):
            await self._send_data(stream, body, ex.write_timeout, ex.read_timeout)
        else:
            assert body is not None
            async for chunk in body:
                if chunk:
                    await self._send_data(stream, chunk, ex.write_timeout, ex.read_timeout)
        await self._end_stream(stream, ex.write_timeout)

    async def _receive_response_headers(
        self, ex: _Exchange
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Wait for the final response head (1xx skipped); returns its status and fields."""
        stream = ex.stream
        assert stream is not None
        while True:
            event = await self._next_event(stream, ex.read_timeout)
            kind = type(event)
            if kind is ResponseReceived:
                break
            if kind is InformationalResponseReceived:
                continue  # 100 Continue, 103 Early Hints: the final response follows
            self._raise_for(stream, event, "the response head")
        return response_head(event.headers)

    def _response(
        self,
        ex: _Exchange,
        status: int,
        fields: list[tuple[bytes, bytes]],
        tracer: AsyncTracer | None,
    ) -> Response:
        stream = ex.stream
        assert stream is not None
        response_extensions: dict[str, Any] = {
            "http_version": b"HTTP/2",
            "stream_id": stream.stream_id,
            "network_stream": self._network_stream,
        }
        response = Response(
            status,
            stream=AsyncHTTP2ResponseBody(
                self, stream, ex.read_timeout, response_extensions, tracer, ex.request
            ),
            extensions=response_extensions,
            request=ex.request,
        )
        # The engine validated every field (RFC 9113 section 8.2): no second pass.
        response.headers = Headers._from_validated(fields, fields)
        return response

    async def _read_pending(self, read_timeout: float | None, write_timeout: float | None) -> None:
        """Before a stream starts on a connection that was idle: read and process what the
        server sent meanwhile (a GOAWAY makes the connection refuse the stream), when nobody else
        is reading. A connection the server closed raises :class:`StreamRefused`: nothing of the
        request was sent."""
        with self._state_lock:
            if self._reading or not self._network_stream.get_extra_info("is_readable"):
                return
            self._reading = True
        try:
            await self._receive(read_timeout, write_timeout)
        except ReadTimeout:
            pass  # a partial TLS record: the stream starts; its own reads carry on
        except Exception as exc:
            raise StreamRefused(
                f"{exc} (found before the request was sent: it may be sent on a new connection)"
            ) from exc
        finally:
            with self._state_lock:
                self._reading = False
                self._nominate_reader()

    def _check_can_start(self) -> None:
        """Raise if no new stream may start (state lock held)."""
        if self._broken is not None or self._closed:
            raise StreamRefused(f"{self!r} is closed: the request was not sent")
        if self._goaway_last_stream is not None:
            raise StreamRefused(
                f"the server is closing {self!r} (GOAWAY {error_name(self._goaway_error)}): "
                "the request was not sent"
            )

    async def _acquire_slot(self, pool_timeout: float | None) -> None:
        """Reserve one of the server's concurrent streams, waiting for one to end if needed."""
        while True:
            with self._state_lock:
                self._check_can_start()
                if self._active < self._limit():
                    self._active += 1
                    return
                signal = AsyncSignal()
                self._slot_waiters.append(signal)
            woken = False
            try:
                woken = await signal.wait(remaining(pool_timeout), pool_timeout)
            finally:
                if not woken:
                    with self._state_lock:
                        try:
                            self._slot_waiters.remove(signal)
                        except ValueError:
                            # Woken just as we gave up: pass the wake-up on.
                            self._wake_slot_waiter()
            if not woken:
                raise PoolTimeout(
                    f"no HTTP/2 stream became free on {self!r} within the pool timeout"
                )

    def _wake_slot_waiter(self) -> None:
        """Wake the first task waiting for a free stream (state lock held)."""
        if self._slot_waiters:
            self._slot_waiters.popleft().set()

    async def _send_data(
        self,
        stream: _Stream,
        data: bytes,
        write_timeout: float | None,
        read_timeout: float | None,
    ) -> None:
        """Send ``data`` as DATA frames, within the flow-control windows (RFC 9113 section 5.2)."""
        h2c = self._h2
        view = memoryview(data)
        total = len(data)
        pos = 0
        while pos < total:
            with self._state_lock:
                if stream.reset or stream.done:
                    # The server reset the stream (or answered and ended it): stop uploading;
                    # the response or the reset is reported by the caller.
                    return
                sent_now = 0
                while pos < total and sent_now < _UPLOAD_CHUNK:
                    window = h2c.local_flow_control_window(stream.stream_id)
                    n = min(window, h2c.max_outbound_frame_size, total - pos)
                    if n <= 0:
                        break
                    h2c.send_data(stream.stream_id, view[pos : pos + n].tobytes())
                    pos += n
                    sent_now += n
                if not sent_now:
                    stream.window_changed = False
                    self._uploading[stream] = None
            if sent_now:
                await self._flush(write_timeout)
            else:
                try:
                    await self._wait(stream, read_timeout, for_window=True)
                finally:
                    with self._state_lock:
                        self._uploading.pop(stream, None)

    async def _end_stream(self, stream: _Stream, write_timeout: float | None) -> None:
        with self._state_lock:
            if stream.reset or stream.done:
                return
            self._h2.end_stream(stream.stream_id)
        await self._flush(write_timeout)

    async def _flush(self, write_timeout: float | None) -> None:
        """Write every frame the engine has queued, in order (one writer at a time).

        Returns at once when nothing is queued: frames queued by the caller were taken by another
        flusher, which writes them before releasing the write lock (a failure there fails every
        stream)."""
        if not self._h2.has_data_to_send:
            return
        async with self._write_lock:
            with self._state_lock:
                data = self._h2.data_to_send()
            if not data:
                return
            try:
                if self._shield.shields:
                    # Shielded from the task's cancellation (trio), but never for ever: a write
                    # ends _SHIELD_GRACE s after the task's cancel deadline at the latest, and
                    # one with no limit at all after _SHIELDED_WRITE_LIMIT s.
                    to_cancel = self._shield.time_to_cancel()
                    cap = (
                        _SHIELDED_WRITE_LIMIT
                        if to_cancel is None
                        else max(0.0, to_cancel) + _SHIELD_GRACE
                    )
                    limit = remaining(write_timeout)
                    if limit is None or limit > cap:
                        write_timeout = cap
                # These bytes hold other streams' frames too: the calling task's cancellation
                # waits until they are written, within the write limit.
                with self._shield():
                    await self._network_stream.write(data, write_timeout)
            except BaseException as exc:
                # Part of a frame may be on the wire: nothing more can be sent on this connection.
                # (A cancellation is reported to the other streams as a write error, not passed
                # on to them.) Unless the stream queued all the bytes before it was cancelled.
                if isinstance(exc, Exception):
                    self._fail(exc)
                elif not self._network_stream.cancel_safe_writes:
                    self._fail(WriteError(f"a write on {self!r} was interrupted: {exc!r}"))
                raise
        self._preface_sent = True

    # -- receiving ---------------------------------------------------------------------------

    async def _next_event(self, stream: _Stream, read_timeout: float | None) -> Any:
        """The next event for ``stream``, reading from the network if none is waiting."""
        events = stream.events
        while True:
            if events:
                return events.popleft()
            await self._wait(stream, read_timeout, for_window=False)

    async def _wait(self, stream: _Stream, read_timeout: float | None, *, for_window: bool) -> None:
        """Return once ``stream`` has an event (or, with ``for_window``, once its send window may
        have grown, or it was reset). Reads from the network when nobody else is reading.

        ``read_timeout`` bounds the whole wait (``ReadTimeout``): frames for other streams and
        control frames (PING, SETTINGS, WINDOW_UPDATE for others) read meanwhile are no progress
        for this stream and do not extend it."""
        limit_at = None if read_timeout is None else time.monotonic() + read_timeout
        left = read_timeout
        while True:
            with self._state_lock:
                if self._satisfied(stream, for_window):
                    return
                if self._broken is not None:
                    raise _copy_error(self._broken)
                if limit_at is not None:
                    left = limit_at - time.monotonic()
                    if left <= 0.0:
                        if not self._reading:
                            # We may have been woken as the next reader: pass the role on.
                            self._nominate_reader()
                        raise ReadTimeout(
                            f"no frame arrived for stream {stream.stream_id} within "
                            f"{read_timeout} s"
                        )
                if not self._reading:
                    self._reading = True
                    reader = True
                else:
                    reader = False
                    stream.signal.clear()
                    self._waiting[stream] = None
            if reader:
                # Read until this stream has what it waits for, then pass the reader role on.
                try:
                    while True:
                        await self._receive(left, stream.write_timeout)
                        with self._state_lock:
                            if self._satisfied(stream, for_window):
                                break
                        # Let the streams this read woke run (and more bytes arrive) before the
                        # next read: their requests then share writes, and reads carry more
                        # frames (trio reads as soon as one byte is there).
                        await self._checkpoint()
                        if limit_at is not None:
                            left = limit_at - time.monotonic()
                            if left <= 0.0:
                                raise ReadTimeout(
                                    f"no frame arrived for stream {stream.stream_id} within "
                                    f"{read_timeout} s"
                                )
                finally:
                    with self._state_lock:
                        self._reading = False
                        self._nominate_reader()
                return
            woken = False
            try:
                woken = await stream.signal.wait(remaining(left), left)
            finally:
                with self._state_lock:
                    self._waiting.pop(stream, None)
                    if not woken and not self._reading:
                        # We may have been chosen as the next reader just as we gave up.
                        self._nominate_reader()
            if not woken:
                raise ReadTimeout(
                    f"no frame arrived for stream {stream.stream_id} within {read_timeout} s"
                )

    @staticmethod
    def _satisfied(stream: _Stream, for_window: bool) -> bool:
        if for_window:
            return stream.window_changed or stream.reset or stream.done
        return bool(stream.events)

    def _nominate_reader(self) -> None:
        """Nobody is reading: wake one stream that waits for frames to read them (lock held)."""
        waiting = self._waiting
        if waiting:
            first = next(iter(waiting))
            del waiting[first]
            first.signal.set()

    async def _read_network(self, read_timeout: float | None) -> bytes:
        """One read from the network (the server's preface checked on the first): the bytes
        for the engine. A closed or broken connection fails every stream and raises."""
        try:
            if self._tls_socket is None:
                data = await self._network_stream.read(READ_SIZE, read_timeout)
            else:
                self._wait_readable(read_timeout)
                async with self._write_lock:
                    data = await self._network_stream.read(READ_SIZE, read_timeout)
        except ReadTimeout:
            raise  # the connection is intact: only the stream whose limit it was fails
        except Exception as exc:
            self._fail(exc)
            await self._close_network()
            raise
        # A cancelled read (BaseException) loses no bytes in our backends: nothing to undo; if
        # it did break the stream, the next read says so.
        if not data:
            closed = RemoteProtocolError(f"the server closed {self!r}")
            self._fail(closed)
            await self._close_network()
            raise closed
        return data

    def _feed(self, data: bytes) -> tuple[RemoteProtocolError | None, bool]:
        """Give ``data`` to the engine and its events to their streams (lock held). Returns the
        protocol error that ends the connection (a flood included), if any, and whether the
        engine queued frames in answer (acknowledgements, WINDOW_UPDATE, GOAWAY)."""
        error = None
        queued = self._h2.queued_frames
        try:
            events = self._h2.receive_data(data)
        except EngineProtocolError as e:
            # The engine queued GOAWAY(e.error_code) (alone, for a flood).
            error = RemoteProtocolError(
                f"HTTP/2 protocol error from the server: {e} "
                f"(closed with GOAWAY({error_name(e.error_code)}))"
            )
        else:
            self._dispatch(events)
        return error, self._h2.queued_frames > queued

    async def _receive(self, read_timeout: float | None, write_timeout: float | None) -> None:
        """Read once from the network, feed the engine, and hand the events to their streams.
        ``write_timeout`` bounds the write of what the frames read call for (PING and SETTINGS
        acknowledgements, WINDOW_UPDATE): ``WriteTimeout`` when the server stops reading."""
        data = await self._read_network(read_timeout)
        with self._state_lock:
            error, pending = self._feed(data)
        if error is not None:
            self._fail(error)
            # The engine queued a GOAWAY for the protocol error: send it if we can.
            try:
                await self._flush(1.0)
            except Exception:
                pass
            await self._close_network()
            raise error
        if pending:
            # SETTINGS and PING acknowledgements, WINDOW_UPDATE: written at once, within the
            # write limit of the stream that reads.
            await self._flush(write_timeout)
        if self._notify_settings:
            self._notify_settings = False
            if self._on_release is not None:
                await self._on_release()

    def _wait_readable(self, read_timeout: float | None) -> None:
        """Block (sync flavour, TLS) until the socket has bytes, the peer closed it, or the read
        timeout passes (``ReadTimeout``). Decrypted bytes OpenSSL already holds count as
        readable."""
        sock = self._tls_socket
        if sock.pending():
            return
        t = remaining(read_timeout)
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        if not poller.poll(None if t is None else max(0, int(t * 1000 + 0.999))):
            raise ReadTimeout(f"no bytes arrived on {self!r} within {t:.3g} s")

    def _dispatch(self, events: list[Any]) -> None:
        """Route the engine's events to their streams and apply connection-level ones (lock
        held). The engine answered PINGs and SETTINGS, and counted the frames that make no
        progress, itself."""
        streams = self._streams
        for event in events:
            kind = type(event)
            if kind in _STREAM_EVENTS:
                stream = streams.get(event.stream_id)
                if stream is None:
                    # A stream we already gave up: give its window back.
                    if kind is DataReceived and event.flow_controlled_length:
                        self._h2.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    continue
                stream.events.append(event)
                if kind is StreamReset:
                    stream.reset = True
                elif kind is StreamEnded:
                    stream.done = True
                stream.signal.set()
                self._waiting.pop(stream, None)
            elif kind is WindowUpdated:
                self._window_opened(event.stream_id)
            elif kind is RemoteSettingsChanged:
                self._settings_changed(event.changed_settings)
            elif kind is ConnectionTerminated:
                self._goaway(event.error_code, event.last_stream_id)
            # PingReceived, PingAckReceived, SettingsAcknowledged: nothing to do.

    def _window_opened(self, stream_id: int) -> None:
        if stream_id:
            stream = self._streams.get(stream_id)
            targets = [stream] if stream is not None and stream in self._uploading else []
        else:
            targets = list(self._uploading)
        for stream in targets:
            stream.window_changed = True
            stream.signal.set()
            self._waiting.pop(stream, None)

    def _settings_changed(self, changed: dict[int, int]) -> None:
        codes = SettingCodes
        setting = changed.get(codes.MAX_CONCURRENT_STREAMS)
        if setting is not None:
            self._max_streams = setting
        if not self.settings_known:
            self.settings_known = True
            self._notify_settings = True  # the pool may hand out more streams now
        for _ in range(min(len(self._slot_waiters), self._limit() - self._active)):
            self._wake_slot_waiter()
        if codes.INITIAL_WINDOW_SIZE in changed or codes.MAX_FRAME_SIZE in changed:
            self._window_opened(0)

    def _goaway(self, error_code: int, last_stream_id: int | None) -> None:
        """GOAWAY arrived (RFC 9113 section 6.8): refuse new streams, fail the unprocessed ones."""
        last = last_stream_id if last_stream_id is not None else (1 << 31) - 1
        if self._goaway_last_stream is None or last < self._goaway_last_stream:
            self._goaway_last_stream = last
        self._goaway_error = int(error_code)
        for stream_id, stream in self._streams.items():
            if stream_id > last and not stream.done:
                stream.events.append(
                    StreamRefused(
                        f"the server sent GOAWAY ({error_name(error_code)}, last stream "
                        f"{last}) before processing stream {stream_id}: the request may be retried"
                    )
                )
                stream.reset = True
                stream.signal.set()
                self._waiting.pop(stream, None)
        # Tasks waiting for a free stream will never get one here: let them fail and go elsewhere.
        while self._slot_waiters:
            self._wake_slot_waiter()

    def _raise_for(self, stream: _Stream, event: Any, what: str) -> typing.NoReturn:
        """Raise the error an unexpected ``event`` on ``stream`` stands for."""
        if isinstance(event, BaseException):
            raise event
        if type(event) is StreamReset:
            code = int(event.error_code)
            if not event.remote:
                raise RemoteProtocolError(
                    f"the server broke HTTP/2 on stream {stream.stream_id} in {what}: reset "
                    f"with {error_name(code)} (RFC 9113 section 5.4.2)"
                )
            if code == REFUSED_STREAM:
                raise StreamRefused(
                    f"the server refused stream {stream.stream_id} (REFUSED_STREAM): "
                    "the request may be retried"
                )
            raise RemoteProtocolError(
                f"the server reset stream {stream.stream_id} ({error_name(code)}) "
                f"before the end of {what}"
            )
        if type(event) is StreamEnded:
            raise RemoteProtocolError(f"stream {stream.stream_id} ended before the end of {what}")
        raise RemoteProtocolError(f"unexpected {type(event).__name__} in {what}")

    # -- ending streams ----------------------------------------------------------------------

    def _acknowledge(self, stream: _Stream, length: int, last: Any) -> bool:
        """The application consumed ``length`` flow-controlled bytes: return them to the windows.
        Returns True when frames (WINDOW_UPDATE) wait to be written.

        The last DATA of a stream only matters to the connection window (the stream is closing):
        those bytes are credited in bulk, once 256 KiB have added up, instead of one engine call
        per small response."""
        with self._state_lock:
            if last:
                self._unacked += length
                if self._unacked < _BULK_ACK:
                    return False
                length, self._unacked = self._unacked, 0
            queued = self._h2.queued_frames
            self._h2.acknowledge_received_data(length, stream.stream_id)
            # Only frames this call produced: others' queued HEADERS are flushed by their tasks
            # (flushing them here would split the write they are gathering).
            return self._h2.queued_frames > queued

    async def _stream_done(self, stream: _Stream) -> None:
        """The response was read to its end: free the stream."""
        with self._state_lock:
            if self._streams.pop(stream.stream_id, None) is None:
                return
            stream.done = True
            self.requests_completed += 1
            self._release_slot()
            # Our side may still be open (the server answered before the upload ended): stop it.
            pending = False
            if self._broken is None and stream_is_open(self._h2, stream.stream_id):
                self._h2.reset_stream(stream.stream_id, CANCEL)
                pending = True
            last = self._goaway_last_stream is not None and not self._streams
        if pending:
            try:
                await self._flush(stream.write_timeout)
            except Exception:
                pass
        if last or self._broken is not None:
            # Going away and done, or the RST_STREAM could not be written: close means closed.
            await self.aclose()
        elif self._on_release is not None:
            await self._on_release()

    async def _abandon_stream(self, stream: _Stream | None) -> None:
        """The exchange failed or the response was closed early: reset the stream if it is open
        (RST_STREAM CANCEL, RFC 9113 section 8.1) and free it."""
        reset = False
        with self._state_lock:
            if stream is None:
                self._release_slot()
            elif self._streams.pop(stream.stream_id, None) is not None:
                self._release_slot()
                if self._broken is None and not self._closed:
                    if stream_is_open(self._h2, stream.stream_id):
                        self._h2.reset_stream(stream.stream_id, CANCEL)
                        reset = True
                    # Data already received for it still counts against the connection window.
                    unread = 0
                    for event in stream.events:
                        if type(event) is DataReceived:
                            unread += event.flow_controlled_length
                    stream.events.clear()
                    if unread:
                        self._h2.acknowledge_received_data(unread, stream.stream_id)
                        reset = True
            else:
                return
            last = self._goaway_last_stream is not None and not self._streams
            broken = self._broken is not None
        if reset:
            assert stream is not None
            try:
                await self._flush(stream.write_timeout)
            except Exception:
                pass
            # The RST_STREAM could not be written (the deadline that ended the request had
            # passed, the server stopped reading): the connection is broken; close it now
            # rather than leave its socket to the garbage collector.
            broken = self._broken is not None
        if last or broken:
            await self.aclose()
        elif self._on_release is not None:
            await self._on_release()

    def _release_slot(self) -> None:
        """One stream ended (lock held)."""
        self._active -= 1
        if self._active == 0:
            self.idle_since = time.monotonic()
        if self._slot_waiters and self._active < self._limit():
            self._wake_slot_waiter()

    # -- closing -----------------------------------------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        """The connection is unusable: every stream waiting on it fails with ``exc``."""
        with self._state_lock:
            if self._broken is None:
                self._broken = exc
            for stream in self._streams.values():
                stream.signal.set()
            self._waiting.clear()
            while self._slot_waiters:
                self._wake_slot_waiter()

    async def _close_network(self) -> None:
        if self._reading:
            # A thread blocked in recv() on this socket is not woken by close() (Linux); a
            # shutdown wakes it. (Async readers are woken by the close itself.)
            sock = self._network_stream.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.shutdown(2)  # SHUT_RDWR
                except Exception:
                    pass
        try:
            await self._network_stream.aclose()
        except Exception:
            pass

    async def aclose(self) -> None:
        """Close the connection. An idle one first tells the server with GOAWAY (RFC 9113
        section 6.8); streams in flight fail with ``ReadError`` on their next read."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            polite = self._broken is None and not self._streams and self._preface_sent
            if polite:
                self._h2.close_connection()
        if polite:
            try:
                await self._flush(1.0)
            except Exception:
                pass
        self._fail(ReadError(f"{self!r} was closed"))
        await self._close_network()
        if self._on_release is not None:
            await self._on_release()

    async def __aenter__(self) -> AsyncHTTP2Connection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        n = self._active
        return (
            f'<Connection "{format_origin(self.origin)}" HTTP/2 {self.state} '
            f"{n} stream{'' if n == 1 else 's'}>"
        )


class AsyncHTTP2ResponseBody(AsyncByteStream):
    """The body of one HTTP/2 response, read from its stream as it is iterated.

    Iterating to the end frees the stream; ``aclose()`` before the end resets it
    (``RST_STREAM CANCEL``). Trailers (RFC 9110 section 6.5), when the server sends them, are put
    in the response's ``extensions["trailers"]`` as :class:`Headers` once the body was read.
    """

    __slots__ = ("_conn", "_stream", "_read_timeout", "_extensions", "_trace", "_request", "_done")

    def __init__(
        self,
        conn: AsyncHTTP2Connection,
        stream: _Stream,
        read_timeout: float | None,
        extensions: dict[str, Any],
        trace: AsyncTracer | None,
        request: Request,
    ) -> None:
        self._conn = conn
        self._stream = stream
        self._read_timeout = read_timeout
        self._extensions = extensions
        self._trace = trace
        self._request = request
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._done:
            return
        conn = self._conn
        stream = self._stream
        events = stream.events
        read_timeout = self._read_timeout
        trace = self._trace
        data_received = DataReceived
        stream_ended = StreamEnded
        if trace is not None:
            await trace.emit("http2.receive_response_body.started", {"request": self._request})
        try:
            while True:
                if events:
                    event = events.popleft()
                else:
                    event = await conn._next_event(stream, read_timeout)
                kind = type(event)
                if kind is data_received:
                    length = event.flow_controlled_length
                    if length and conn._acknowledge(stream, length, event.end_stream):
                        await conn._flush(stream.write_timeout)
                    if event.data:
                        yield event.data
                elif kind is stream_ended:
                    break
                elif kind is TrailersReceived:
                    trailers = [(n, v) for n, v in event.headers if n[:1] != b":"]
                    self._extensions["trailers"] = Headers._from_validated(trailers, trailers)
                else:
                    conn._raise_for(stream, event, "the response body")
        except BaseException as exc:
            self._done = True
            try:
                if trace is not None:  # cancellation included, as HTTP/1.1 does
                    await trace.emit("http2.receive_response_body.failed", {"exception": exc})
            finally:
                await conn._abandon_stream(stream)
            raise
        self._done = True
        if trace is not None:
            await trace.emit("http2.receive_response_body.complete", {"return_value": None})
            await trace.emit("http2.response_closed.started", {"stream_id": stream.stream_id})
        await conn._stream_done(stream)
        if trace is not None:
            await trace.emit("http2.response_closed.complete", {"return_value": None})

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            trace = self._trace
            if trace is not None:
                await trace.emit(
                    "http2.response_closed.started", {"stream_id": self._stream.stream_id}
                )
            await self._conn._abandon_stream(self._stream)
            if trace is not None:
                await trace.emit("http2.response_closed.complete", {"return_value": None})
