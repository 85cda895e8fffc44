"""The HTTP/2 client connection engine (RFC 9113): frames in, events out; calls in, frames out.

See the package docstring (``httpwire.http2``) for the API and ``docs/http2.md`` for the limits
and defences.  Everything here is synchronous and does no I/O; one instance per connection.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from ._events import (
    ConnectionTerminated,
    DataReceived,
    ErrorCodes,
    Event,
    InformationalResponseReceived,
    PingAckReceived,
    PingReceived,
    RemoteSettingsChanged,
    ResponseReceived,
    SettingCodes,
    SettingsAcknowledged,
    StreamEnded,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from ._hpack import (
    Decoder,
    Encoder,
    HeaderListTooLarge,
    HPACKDecodingError,
    InvalidHeaderField,
    field_error,
)
from ._state import (
    CLOSED,
    HALF_CLOSED_LOCAL,
    HALF_CLOSED_REMOTE,
    IDLE,
    OPEN,
    RECV_DATA,
    RECV_END_STREAM,
    RECV_HEADERS,
    RECV_RST_STREAM,
    SEND_DATA,
    SEND_END_STREAM,
    SEND_HEADERS,
    SEND_RST_STREAM,
    STATE_NAMES,
    TRANSITIONS,
)

__all__ = [
    "Connection",
    "ProtocolError",
    "RemoteProtocolError",
    "LocalProtocolError",
    "StreamClosedError",
    "FlowControlError",
    "TooManyStreamsError",
    "PREFACE",
]

Header = tuple[bytes, bytes]

#: RFC 9113 section 3.4.
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA = 0x0
HEADERS = 0x1
PRIORITY = 0x2
RST_STREAM = 0x3
SETTINGS = 0x4
PUSH_PROMISE = 0x5
PING = 0x6
GOAWAY = 0x7
WINDOW_UPDATE = 0x8
CONTINUATION = 0x9

FLAG_END_STREAM = 0x1
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
FLAG_PADDED = 0x8
FLAG_PRIORITY = 0x20

MAX_WINDOW = 2**31 - 1
_SELF_DEPENDENT = 0x100  # not a wire flag: a continued HEADERS frame depended on its stream
MAX_STREAM_ID = 2**31 - 1
DEFAULT_WINDOW = 65535
MIN_MAX_FRAME_SIZE = 16384
MAX_MAX_FRAME_SIZE = 2**24 - 1

_HEADER = struct.Struct(">BHBBL")
_pack_header = _HEADER.pack
_unpack_header = _HEADER.unpack_from
_U32 = struct.Struct(">L")
_unpack_u32 = _U32.unpack_from
_pack_u32 = _U32.pack
_SETTING = struct.Struct(">HL")
_GOAWAY = struct.Struct(">LL")

# Why a stream we no longer track was closed (what its late frames deserve, section 5.1).
_RESET_LOCAL = 1  # we sent RST_STREAM: ignore what is in flight
_RESET_REMOTE = 2  # the peer reset it: frames other than PRIORITY are a stream error
_ENDED = 3  # both sides ended it: DATA/HEADERS after END_STREAM are a connection error
_REFUSED = 4  # above a GOAWAY's last_stream_id
_CLOSED_MEMORY = 1024  # closed streams remembered, oldest forgotten first

_OK_STATUS = frozenset(b"%d" % i for i in range(100, 1000))
_RESPONSE_PSEUDO = b":status"
_REQUEST_PSEUDO = frozenset((b":method", b":scheme", b":authority", b":path", b":protocol"))


class ProtocolError(Exception):
    """Base class: HTTP/2 was broken.  ``error_code`` is the RFC 9113 section 7 code."""

    def __init__(self, msg: str, error_code: int = ErrorCodes.PROTOCOL_ERROR) -> None:
        super().__init__(msg)
        self.error_code = error_code


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol: a connection error (RFC 9113 section 5.4.1).  A GOAWAY with
    ``error_code`` is queued (send it, then close); the connection takes nothing more.
    ``events`` holds the events decoded before the error in the same :meth:`receive_data`."""

    def __init__(
        self,
        msg: str,
        error_code: int = ErrorCodes.PROTOCOL_ERROR,
        events: list[Event] | None = None,
    ) -> None:
        super().__init__(msg, error_code)
        self.events: list[Event] = events if events is not None else []


class LocalProtocolError(ProtocolError):
    """Our caller asked for something HTTP/2 or the connection's state forbids; nothing was
    queued and the connection is unchanged."""


class StreamClosedError(LocalProtocolError):
    """Sending on a stream that is closed (or half-closed on our side)."""

    def __init__(self, msg: str, stream_id: int) -> None:
        super().__init__(msg, ErrorCodes.STREAM_CLOSED)
        self.stream_id = stream_id


class FlowControlError(LocalProtocolError):
    """More DATA than the flow-control windows allow (see :meth:`Connection.local_flow_control_window`)."""


class TooManyStreamsError(LocalProtocolError):
    """Opening a stream beyond the peer's SETTINGS_MAX_CONCURRENT_STREAMS, after its GOAWAY, or
    beyond stream id 2**31-1."""


#: The peer's settings before its SETTINGS frame: RFC 9113 section 6.5.2's initial values (no
#: limit on concurrent streams until its SETTINGS says so).
_INITIAL_REMOTE: dict[int, int] = {
    SettingCodes.HEADER_TABLE_SIZE: 4096,
    SettingCodes.ENABLE_PUSH: 1,
    SettingCodes.MAX_CONCURRENT_STREAMS: 2**31 - 1,
    SettingCodes.INITIAL_WINDOW_SIZE: DEFAULT_WINDOW,
    SettingCodes.MAX_FRAME_SIZE: MIN_MAX_FRAME_SIZE,
    SettingCodes.MAX_HEADER_LIST_SIZE: 2**32 - 1,
}


def _check_limits(
    connection_window_size: int, initial_window_size: int, max_frame_size: int
) -> None:
    """``ValueError`` for a ``Connection`` limit outside what RFC 9113 allows (6.5.2, 6.9)."""
    if not DEFAULT_WINDOW <= connection_window_size <= MAX_WINDOW:
        raise ValueError("connection_window_size must be in [65535, 2**31-1]")
    if not 0 <= initial_window_size <= MAX_WINDOW:
        raise ValueError("initial_window_size must be in [0, 2**31-1]")
    if not MIN_MAX_FRAME_SIZE <= max_frame_size <= MAX_MAX_FRAME_SIZE:
        raise ValueError("max_frame_size must be in [16384, 2**24-1]")


class _ConnectionError(Exception):
    def __init__(self, msg: str, code: int = ErrorCodes.PROTOCOL_ERROR) -> None:
        super().__init__(msg)
        self.code = code


def _error_code(code: int) -> int:
    try:
        return ErrorCodes(code)
    except ValueError:
        return code  # unknown codes are not errors (section 7)


class _Stream:
    __slots__ = (
        "stream_id",
        "state",
        "inbound_window",
        "outbound_window",
        "phase",
        "content_length",
        "received",
        "unacked",
        "head",
    )

    def __init__(self, stream_id: int, inbound_window: int, outbound_window: int, head: bool):
        self.stream_id = stream_id
        self.state = IDLE
        self.inbound_window = inbound_window
        self.outbound_window = outbound_window
        self.phase = 0  # 0: waiting for the response, 1: got it (DATA allowed), 2: trailers
        self.content_length = -1
        self.received = 0
        self.unacked = 0
        self.head = head


class Connection:
    """A client-side HTTP/2 connection (RFC 9113), sans I/O.  See ``httpwire.http2``.

    Our settings (sent by :meth:`initiate_connection`; section 6.5.2): ``initial_window_size``
    (per stream, octets), ``max_frame_size`` (largest frame we accept), ``header_table_size``
    (HPACK table the peer may make us hold), ``max_header_list_size`` (RFC 9113 section 6.5.2
    size; larger responses are reset).  ``connection_window_size``: the connection receive window
    we grant (a WINDOW_UPDATE on stream 0 in the preface raises it from 65,535).

    Defences: ``max_header_block_size`` (compressed octets of one HEADERS + CONTINUATION
    sequence) and ``max_continuation_frames`` bound a header block before it is decoded (the
    2024 CONTINUATION flood); ``max_control_frames`` bounds the frames that make no progress
    (PING, SETTINGS, PRIORITY, WINDOW_UPDATE, RST_STREAM or HEADERS for streams already gone,
    empty DATA, interim responses, unknown types): each adds one; a trailer section or a
    non-empty DATA frame received takes one off, a DATA frame we send two (the stream and
    connection WINDOW_UPDATEs it may earn), a final response resets it to 0; past the limit the connection ends with GOAWAY(ENHANCE_YOUR_CALM) (the 2019 floods and the
    2023 Rapid Reset class).  ``validate_outbound_headers``: check request fields (section
    8.3.1, 8.2); the caller may turn it off if it validated them itself.
    """

    def __init__(
        self,
        *,
        initial_window_size: int = 1 << 20,
        connection_window_size: int = 1 << 24,
        max_frame_size: int = MIN_MAX_FRAME_SIZE,
        header_table_size: int = 4096,
        max_header_list_size: int = 65536,
        max_concurrent_streams: int = 100,
        max_header_block_size: int | None = None,
        max_continuation_frames: int = 64,
        max_control_frames: int = 1000,
        validate_outbound_headers: bool = True,
        header_block_cache: int = 256,
    ) -> None:
        _check_limits(connection_window_size, initial_window_size, max_frame_size)
        self._local: dict[int, int] = {
            SettingCodes.HEADER_TABLE_SIZE: header_table_size,
            SettingCodes.ENABLE_PUSH: 0,
            SettingCodes.MAX_CONCURRENT_STREAMS: max_concurrent_streams,
            SettingCodes.INITIAL_WINDOW_SIZE: initial_window_size,
            SettingCodes.MAX_FRAME_SIZE: max_frame_size,
            SettingCodes.MAX_HEADER_LIST_SIZE: max_header_list_size,
        }
        #: The peer's settings in force (until its SETTINGS: ``_INITIAL_REMOTE``).
        self._remote: dict[int, int] = dict(_INITIAL_REMOTE)
        self._pending_local: list[dict[int, int]] = []
        # Receive side: until the peer ACKs our SETTINGS it may go by the defaults, so the
        # looser of both values applies (section 6.5.3).
        self._in_max_frame = MIN_MAX_FRAME_SIZE
        self._in_initial_window = DEFAULT_WINDOW
        self._decoder = Decoder(
            max_table_size=4096, max_header_list_size=max_header_list_size, validate=True
        )
        self._encoder = Encoder()
        self._out_max_frame = MIN_MAX_FRAME_SIZE
        self._out_initial_window = DEFAULT_WINDOW
        self._max_concurrent = 2**31 - 1

        self._streams: dict[int, _Stream] = {}
        self._closed: dict[int, int] = {}
        self._next_stream_id = 1
        self._highest_opened = 0

        self._in_window = DEFAULT_WINDOW  # what the peer may still send on the connection
        self._in_window_target = connection_window_size
        self._in_unacked = 0
        self._out_window = DEFAULT_WINDOW  # what we may still send on the connection

        # An incomplete frame: its pieces, their total size, the size that completes it (no
        # re-joining per piece: a frame trickled in byte by byte costs O(size), not O(size^2)).
        self._parts: list[bytes] = []
        self._parts_len = 0
        self._need = 0
        self._out: list[bytes] = []
        self._preface_sent = False
        self._settings_received = False
        self._goaway_received = False
        self._goaway_last_id = MAX_STREAM_ID
        self._goaway_sent = False
        self._terminated = False
        self._cont_stream = 0  # stream of the header block being continued, 0: none
        self._cont_flags = 0
        self._cont_parts: list[bytes] = []
        self._cont_frames = 0
        self._cont_size = 0

        self.max_header_block_size = (
            max_header_block_size if max_header_block_size is not None else max_header_list_size
        )
        self.max_continuation_frames = max_continuation_frames
        self.max_control_frames = max_control_frames
        self._cheap = 0
        self.validate_outbound_headers = validate_outbound_headers
        self._cache_size = header_block_cache
        self._cache: dict[bytes, tuple[int, list[Header], int, int]] = {}

    # -----------------------------------------------------------------------------------------
    # State
    # -----------------------------------------------------------------------------------------

    @property
    def local_settings(self) -> dict[int, int]:
        """Our settings as sent (the latest, acknowledged or not)."""
        return dict(self._local)

    @property
    def remote_settings(self) -> dict[int, int]:
        """The peer's settings in force (defaults until its first SETTINGS frame)."""
        return dict(self._remote)

    @property
    def outstanding_settings(self) -> int:
        """Our SETTINGS frames not acknowledged yet: the caller times them out (section 6.5.3:
        SETTINGS_TIMEOUT) if it wants to."""
        return len(self._pending_local)

    @property
    def max_outbound_frame_size(self) -> int:
        """The largest frame payload we may send, octets: the peer's SETTINGS_MAX_FRAME_SIZE
        (16,384 until it sends one; RFC 9113 section 6.5.2)."""
        return self._out_max_frame

    @property
    def max_concurrent_streams(self) -> int:
        """The peer's SETTINGS_MAX_CONCURRENT_STREAMS (2**31-1 until it sends one)."""
        return self._max_concurrent

    @property
    def open_outbound_streams(self) -> int:
        """Streams we opened that are not closed (they count against the peer's limit)."""
        return len(self._streams)

    @property
    def goaway_received(self) -> bool:
        """The peer sent GOAWAY: no new stream may start (RFC 9113 section 6.8)."""
        return self._goaway_received

    @property
    def closed(self) -> bool:
        """A connection error happened or GOAWAY went either way with all streams done."""
        return self._terminated or (
            (self._goaway_received or self._goaway_sent) and not self._streams
        )

    @property
    def has_data_to_send(self) -> bool:
        """Frames are queued: :meth:`data_to_send` returns them."""
        return bool(self._out)

    @property
    def queued_frames(self) -> int:
        """Pieces queued and not yet taken by :meth:`data_to_send`: compare it before and after
        a call to learn whether that call queued frames (it only grows between two
        :meth:`data_to_send`)."""
        return len(self._out)

    def stream_state(self, stream_id: int) -> str:
        """``"IDLE"``, ``"OPEN"``, ``"HALF_CLOSED_LOCAL"``, ``"HALF_CLOSED_REMOTE"`` or
        ``"CLOSED"`` (RFC 9113 section 5.1)."""
        stream = self._streams.get(stream_id)
        if stream is not None:
            return STATE_NAMES[stream.state]
        return "IDLE" if stream_id >= self._next_stream_id else "CLOSED"

    def get_next_available_stream_id(self) -> int:
        """The next stream id we may open (odd, increasing: section 5.1.1)."""
        if self._next_stream_id > MAX_STREAM_ID:
            raise TooManyStreamsError("stream identifiers exhausted (section 5.1.1)")
        return self._next_stream_id

    def local_flow_control_window(self, stream_id: int) -> int:
        """Octets of DATA we may send now on ``stream_id`` (the smaller of its window and the
        connection's)."""
        stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamClosedError(f"stream {stream_id} is not open", stream_id)
        return min(stream.outbound_window, self._out_window)

    def remote_flow_control_window(self, stream_id: int) -> int:
        """Octets the peer may still send us on ``stream_id`` (0: the connection)."""
        if stream_id == 0:
            return self._in_window
        stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamClosedError(f"stream {stream_id} is not open", stream_id)
        return stream.inbound_window

    def data_to_send(self) -> bytes:
        """Everything queued for the peer, in order; empties the queue."""
        out = self._out
        if not out:
            return b""
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        return data

    # -----------------------------------------------------------------------------------------
    # Sending
    # -----------------------------------------------------------------------------------------

    def initiate_connection(self) -> None:
        """Queue the connection preface: the magic string, our SETTINGS, and a WINDOW_UPDATE
        raising the connection window to ``connection_window_size`` (section 3.4)."""
        if self._preface_sent:
            raise LocalProtocolError("the preface was already sent")
        self._preface_sent = True
        self._out.append(PREFACE)
        settings = {
            code: value
            for code, value in self._local.items()
            if code not in (SettingCodes.HEADER_TABLE_SIZE, SettingCodes.MAX_FRAME_SIZE)
            or value != (4096 if code == SettingCodes.HEADER_TABLE_SIZE else MIN_MAX_FRAME_SIZE)
        }
        self._queue_settings(settings)
        increment = self._in_window_target - self._in_window
        if increment > 0:
            self._in_window += increment
            self._out.append(_pack_header(0, 4, WINDOW_UPDATE, 0, 0) + _pack_u32(increment))

    def _queue_settings(self, settings: dict[int, int]) -> None:
        payload = b"".join(_SETTING.pack(code, value) for code, value in settings.items())
        self._out.append(_pack_header(0, len(payload), SETTINGS, 0, 0) + payload)
        self._pending_local.append(settings)
        # Looser values apply at once (the peer may use them as soon as it reads the frame).
        window = settings.get(SettingCodes.INITIAL_WINDOW_SIZE)
        if window is not None and window > self._in_initial_window:
            self._adjust_inbound_windows(window)
        frame = settings.get(SettingCodes.MAX_FRAME_SIZE)
        if frame is not None and frame > self._in_max_frame:
            self._in_max_frame = frame
        table = settings.get(SettingCodes.HEADER_TABLE_SIZE)
        if table is not None and table > self._decoder.max_allowed_table_size:
            self._decoder.max_allowed_table_size = table

    def _adjust_inbound_windows(self, window: int) -> None:
        delta = window - self._in_initial_window
        self._in_initial_window = window
        for stream in self._streams.values():
            stream.inbound_window += delta

    def update_settings(self, new_settings: dict[int, int]) -> None:
        """Queue a SETTINGS frame changing some of our settings (section 6.5.3): looser values
        apply at once, tighter ones when the peer acknowledges."""
        for code, value in new_settings.items():
            if code == SettingCodes.INITIAL_WINDOW_SIZE and not 0 <= value <= MAX_WINDOW:
                raise ValueError("INITIAL_WINDOW_SIZE must be in [0, 2**31-1]")
            if code == SettingCodes.MAX_FRAME_SIZE and not (
                MIN_MAX_FRAME_SIZE <= value <= MAX_MAX_FRAME_SIZE
            ):
                raise ValueError("MAX_FRAME_SIZE must be in [16384, 2**24-1]")
            if code == SettingCodes.ENABLE_PUSH and value != 0:
                raise ValueError("this client does not take server push")
        self._local.update(new_settings)
        self._queue_settings(dict(new_settings))

    def _check_request_headers(self, headers: Sequence[Header], trailers: bool) -> None:
        pseudo: dict[bytes, bytes] = {}
        regular = False
        host: bytes | None = None
        for name, value in headers:
            if type(name) is not bytes or type(value) is not bytes:
                raise LocalProtocolError("header names and values must be bytes")
            if name[:1] == b":":
                if trailers:
                    raise LocalProtocolError("pseudo-header field in trailers (section 8.1)")
                if regular:
                    raise LocalProtocolError("pseudo-header field after a regular one (8.3)")
                if name not in _REQUEST_PSEUDO or name in pseudo:
                    raise LocalProtocolError(f"invalid or repeated pseudo-header {name!r}")
                pseudo[name] = value
            else:
                regular = True
                if name == b"host":
                    host = value
            problem = field_error(name, value)
            if problem is not None:
                raise LocalProtocolError(problem + " (RFC 9113 section 8.2)")
        if trailers:
            return
        authority = pseudo.get(b":authority")
        if host is not None and authority is not None and host != authority:
            raise LocalProtocolError("a Host field that differs from :authority (8.3.1)")
        method = pseudo.get(b":method")
        if method is None:
            raise LocalProtocolError(":method is required (section 8.3.1)")
        if method == b"CONNECT" and b":protocol" not in pseudo:
            if b":scheme" in pseudo or b":path" in pseudo or b":authority" not in pseudo:
                raise LocalProtocolError("CONNECT takes :authority only (section 8.5)")
        else:
            if b":scheme" not in pseudo or not pseudo.get(b":path"):
                raise LocalProtocolError(":scheme and a non-empty :path are required (8.3.1)")

    def send_headers(
        self, stream_id: int, headers: Sequence[Header], end_stream: bool = False
    ) -> None:
        """Queue a header block (HEADERS + CONTINUATION frames) on ``stream_id``.

        On a new stream (``stream_id`` from :meth:`get_next_available_stream_id` or a larger
        odd number) it opens the stream with a request; on an open one it sends trailers (then
        ``end_stream`` must be true, section 8.1).  ``headers``: ``(name, value)`` bytes, names
        lowercase, pseudo-header fields first.  Raises :class:`TooManyStreamsError` (peer's
        concurrency limit, GOAWAY received), :class:`StreamClosedError`,
        :class:`LocalProtocolError` (invalid fields or stream id).
        """
        if self._terminated:
            raise LocalProtocolError("the connection is closed")
        stream = self._streams.get(stream_id)
        if stream is None:
            if stream_id < self._next_stream_id:
                raise StreamClosedError(f"stream {stream_id} is closed", stream_id)
            if stream_id % 2 == 0 or stream_id > MAX_STREAM_ID:
                raise LocalProtocolError("a client opens odd stream ids (section 5.1.1)")
            if self._goaway_received or self._goaway_sent:
                raise TooManyStreamsError("the connection is going away (GOAWAY)")
            if len(self._streams) >= self._max_concurrent:
                raise TooManyStreamsError(
                    f"the peer allows {self._max_concurrent} concurrent streams"
                )
            if not self._preface_sent:
                raise LocalProtocolError("call initiate_connection() first")
            if self.validate_outbound_headers:
                self._check_request_headers(headers, False)
            head = False
            for name, value in headers:
                if name == b":method":
                    head = value == b"HEAD"
                    break
            stream = _Stream(stream_id, self._in_initial_window, self._out_initial_window, head)
            stream.state = OPEN
            self._streams[stream_id] = stream
            self._next_stream_id = stream_id + 2
            self._highest_opened = stream_id
        else:
            if TRANSITIONS.get(stream.state * 16 + SEND_HEADERS) is None:
                raise StreamClosedError(f"stream {stream_id} is closed for sending", stream_id)
            if not end_stream:
                raise LocalProtocolError("trailers must end the stream (section 8.1)")
            if self.validate_outbound_headers:
                self._check_request_headers(headers, True)
        block = self._encoder.encode(headers)
        self._queue_header_block(stream_id, block, end_stream)
        if end_stream:
            self._end_local(stream)

    def _queue_header_block(self, stream_id: int, block: bytes, end_stream: bool) -> None:
        size = self._out_max_frame
        flags = FLAG_END_STREAM if end_stream else 0
        out = self._out
        if len(block) <= size:
            out.append(
                _pack_header(
                    len(block) >> 16,
                    len(block) & 0xFFFF,
                    HEADERS,
                    flags | FLAG_END_HEADERS,
                    stream_id,
                )  # fmt: skip
                + block
            )
            return
        chunks = [block[i : i + size] for i in range(0, len(block), size)]
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            ftype = HEADERS if i == 0 else CONTINUATION
            fflags = (flags if i == 0 else 0) | (FLAG_END_HEADERS if last else 0)
            out.append(
                _pack_header(len(chunk) >> 16, len(chunk) & 0xFFFF, ftype, fflags, stream_id)
                + chunk
            )

    def _end_local(self, stream: _Stream) -> None:
        new = TRANSITIONS[stream.state * 16 + SEND_END_STREAM]
        stream.state = new
        if new == CLOSED:
            self._forget(stream.stream_id, _ENDED)

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> None:
        """Queue ``data`` on ``stream_id`` as DATA frames of at most the peer's MAX_FRAME_SIZE.

        Raises :class:`FlowControlError` if ``len(data)`` exceeds
        :meth:`local_flow_control_window` (nothing is queued), :class:`StreamClosedError`.
        """
        stream = self._streams.get(stream_id)
        if stream is None or TRANSITIONS.get(stream.state * 16 + SEND_DATA) is None:
            raise StreamClosedError(f"stream {stream_id} is closed for sending", stream_id)
        n = len(data)
        if n > stream.outbound_window or n > self._out_window:
            raise FlowControlError(
                f"{n} octets exceed the flow-control window "
                f"({min(stream.outbound_window, self._out_window)})",
                ErrorCodes.FLOW_CONTROL_ERROR,
            )
        stream.outbound_window -= n
        self._out_window -= n
        size = self._out_max_frame
        out = self._out
        if n <= size:
            flags = FLAG_END_STREAM if end_stream else 0
            out.append(_pack_header(n >> 16, n & 0xFFFF, DATA, flags, stream_id))
            if n:
                out.append(bytes(data))
            self._cheap = max(0, self._cheap - 2)  # it may earn 2 WINDOW_UPDATEs
        else:
            view = memoryview(data)
            for start in range(0, n, size):
                chunk = view[start : start + size]
                last = start + size >= n
                flags = FLAG_END_STREAM if end_stream and last else 0
                out.append(_pack_header(len(chunk) >> 16, len(chunk) & 0xFFFF, DATA, flags,
                                        stream_id))  # fmt: skip
                out.append(bytes(chunk))
                self._cheap = max(0, self._cheap - 2)  # it may earn 2 WINDOW_UPDATEs
        if end_stream:
            self._end_local(stream)

    def end_stream(self, stream_id: int) -> None:
        """Queue an empty DATA frame with END_STREAM."""
        self.send_data(stream_id, b"", end_stream=True)

    def reset_stream(self, stream_id: int, error_code: int = ErrorCodes.CANCEL) -> None:
        """Queue RST_STREAM and forget the stream (frames already in flight are ignored, their
        DATA given back to the connection window).  A closed stream: nothing is sent."""
        stream = self._streams.get(stream_id)
        if stream is None:
            if stream_id >= self._next_stream_id:
                raise LocalProtocolError(f"stream {stream_id} is idle (section 5.1)")
            return
        self._out.append(_pack_header(0, 4, RST_STREAM, 0, stream_id) + _pack_u32(error_code))
        stream.state = TRANSITIONS[stream.state * 16 + SEND_RST_STREAM]
        self._forget(stream_id, _RESET_LOCAL)

    def ping(self, opaque_data: bytes) -> None:
        """Queue a PING with 8 octets of ``opaque_data`` (section 6.7)."""
        if len(opaque_data) != 8:
            raise ValueError("PING data must be 8 octets")
        self._out.append(_pack_header(0, 8, PING, 0, 0) + bytes(opaque_data))

    def close_connection(
        self, error_code: int = ErrorCodes.NO_ERROR, additional_data: bytes = b""
    ) -> None:
        """Queue GOAWAY (section 6.8; last stream id 0: we take no streams).  No new stream can
        be opened; the open ones may finish."""
        self._goaway_sent = True
        payload = _GOAWAY.pack(0, error_code) + additional_data
        self._out.append(_pack_header(0, len(payload), GOAWAY, 0, 0) + payload)

    def acknowledge_received_data(self, acknowledged_size: int, stream_id: int) -> None:
        """The application consumed ``acknowledged_size`` octets of flow-controlled DATA
        (``DataReceived.flow_controlled_length``) of ``stream_id``: give them back to the peer.
        WINDOW_UPDATE frames are queued once half a window is owed (stream and connection), so
        this is cheap to call per DATA event.  Streams already closed credit the connection."""
        if acknowledged_size < 0:
            raise ValueError("acknowledged_size must be >= 0")
        stream = self._streams.get(stream_id)
        if stream is not None and stream.state in (OPEN, HALF_CLOSED_LOCAL):
            stream.unacked += acknowledged_size
            if stream.unacked >= (self._in_initial_window >> 1) and stream.unacked:
                increment = stream.unacked
                stream.unacked = 0
                stream.inbound_window += increment
                self._out.append(
                    _pack_header(0, 4, WINDOW_UPDATE, 0, stream_id) + _pack_u32(increment)
                )
        self._release_connection(acknowledged_size)

    def _release_connection(self, size: int) -> None:
        self._in_unacked += size
        if self._in_unacked >= (self._in_window_target >> 1) and self._in_unacked:
            increment = self._in_unacked
            self._in_unacked = 0
            self._in_window += increment
            self._out.append(_pack_header(0, 4, WINDOW_UPDATE, 0, 0) + _pack_u32(increment))

    def increment_flow_control_window(self, increment: int, stream_id: int = 0) -> None:
        """Queue a WINDOW_UPDATE of ``increment`` octets (1 to 2**31-1) for the connection
        (``stream_id`` 0) or a stream, beyond what :meth:`acknowledge_received_data` does."""
        if not 1 <= increment <= MAX_WINDOW:
            raise ValueError("increment must be in [1, 2**31-1]")
        if stream_id:
            stream = self._streams.get(stream_id)
            if stream is None:
                raise StreamClosedError(f"stream {stream_id} is not open", stream_id)
            if stream.inbound_window + increment > MAX_WINDOW:
                raise FlowControlError("window above 2**31-1", ErrorCodes.FLOW_CONTROL_ERROR)
            stream.inbound_window += increment
        else:
            if self._in_window + increment > MAX_WINDOW:
                raise FlowControlError("window above 2**31-1", ErrorCodes.FLOW_CONTROL_ERROR)
            self._in_window += increment
        self._out.append(_pack_header(0, 4, WINDOW_UPDATE, 0, stream_id) + _pack_u32(increment))

    # -----------------------------------------------------------------------------------------
    # Receiving
    # -----------------------------------------------------------------------------------------

    def _forget(self, stream_id: int, why: int) -> None:
        self._streams.pop(stream_id, None)
        closed = self._closed
        closed[stream_id] = why
        if len(closed) > _CLOSED_MEMORY:
            del closed[next(iter(closed))]

    def _stream_error(self, stream_id: int, code: int, events: list[Event]) -> None:
        """A stream error (section 5.4.2): RST_STREAM, forget the stream, tell the caller."""
        self._out.append(_pack_header(0, 4, RST_STREAM, 0, stream_id) + _pack_u32(code))
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.state = TRANSITIONS[stream.state * 16 + SEND_RST_STREAM]
            self._forget(stream_id, _RESET_LOCAL)
            events.append(StreamReset(stream_id, ErrorCodes(code), False))

    def _calm(self) -> None:
        self._cheap += 1
        if self._cheap > self.max_control_frames:
            raise _ConnectionError(
                f"more than {self.max_control_frames} frames without progress",
                ErrorCodes.ENHANCE_YOUR_CALM,
            )

    # noqa below, measured (bench/http2_engine.py's work, CPU us per response, best of 40 x 10
    # connections, 3 alternating runs): a trial split with the DATA branch as a method cost
    # "indexed" receive 2.62 -> 2.66 us (+0.04 us, +1.5%) and still left 24; getting to 15 also
    # needs the frame dispatch out of this loop. The frame loop stays inline: it is the hot path.
    def receive_data(self, data: bytes) -> list[Event]:  # noqa: C901
        """Feed bytes read from the peer; return the events they complete, in order.

        Incomplete frames are kept (at most one frame: a frame longer than our MAX_FRAME_SIZE is
        refused from its 9-octet header, before its payload arrives).  Stream errors reset the
        stream (RST_STREAM queued, :class:`StreamReset` with ``remote=False``).  Connection
        errors queue GOAWAY and raise :class:`RemoteProtocolError`; afterwards this returns
        no events.  Call :meth:`data_to_send` after it: ACKs and WINDOW_UPDATEs may be queued.
        """
        if self._terminated:
            return []
        if type(data) is not bytes:
            data = bytes(data)
        if self._parts:
            self._parts.append(data)
            self._parts_len += len(data)
            if self._parts_len < self._need:
                return []
            data = b"".join(self._parts)
            self._parts = []
        events: list[Event] = []
        pos = 0
        n = len(data)
        streams = self._streams
        try:
            while n - pos >= 9:
                hi, lo, ftype, flags, sid = _unpack_header(data, pos)
                length = hi << 16 | lo
                if not self._settings_received and ftype != SETTINGS:
                    # Section 3.4: known from the 9-octet header, before the payload arrives
                    # (an HTTP/1.1 answer or noise fails at once instead of timing out).
                    raise _ConnectionError(
                        "the server's preface must start with SETTINGS (section 3.4): its first "
                        f"octets are {bytes(data[pos : pos + 24])!r}"
                    )
                if length > self._in_max_frame:
                    raise _ConnectionError(
                        f"frame of {length} octets exceeds our MAX_FRAME_SIZE",
                        ErrorCodes.FRAME_SIZE_ERROR,
                    )
                end = pos + 9 + length
                if end > n:
                    break
                start = pos + 9
                pos = end
                sid &= 0x7FFFFFFF
                if self._cont_stream:
                    if ftype != CONTINUATION or sid != self._cont_stream:
                        raise _ConnectionError("header block interrupted (section 6.10)")
                    self._on_continuation(data, start, end, flags, events)
                    continue
                if ftype == DATA:
                    # The hot path, inline.
                    stream = streams.get(sid)
                    if flags & FLAG_PADDED:
                        if not length or data[start] >= length:
                            raise _ConnectionError("DATA padding too long (section 6.1)")
                        chunk = data[start + 1 : end - data[start]]
                    else:
                        chunk = data[start:end]
                    self._in_window -= length
                    if self._in_window < 0:
                        raise _ConnectionError(
                            "DATA beyond the connection window", ErrorCodes.FLOW_CONTROL_ERROR
                        )
                    if (
                        stream is None
                        or stream.phase != 1
                        or (stream.state * 16 + RECV_DATA) not in TRANSITIONS
                    ):
                        self._data_not_expected(sid, stream, length, events)
                        continue
                    stream.inbound_window -= length
                    if stream.inbound_window < 0:
                        self._release_connection(length)
                        self._stream_error(sid, ErrorCodes.FLOW_CONTROL_ERROR, events)
                        continue
                    es = flags & FLAG_END_STREAM
                    if chunk:
                        stream.received += len(chunk)
                        if self._cheap:
                            self._cheap -= 1
                    elif not es:
                        self._calm()
                    if stream.content_length >= 0 and (
                        stream.received > stream.content_length
                        or (es and stream.received != stream.content_length)
                    ):
                        self._release_connection(length)
                        self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)
                        continue
                    if es:
                        events.append(DataReceived(sid, chunk, length, True))
                        self._end_remote(stream, events)
                    else:
                        events.append(DataReceived(sid, chunk, length, False))
                elif ftype == HEADERS:
                    self._on_headers(data, start, end, flags, sid, events)
                elif not self._settings_received and ftype != SETTINGS:
                    raise _ConnectionError("the server's preface must start with SETTINGS")
                elif ftype == SETTINGS:
                    self._on_settings(data, start, end, flags, sid, events)
                elif ftype == WINDOW_UPDATE:
                    self._on_window_update(data, start, length, sid, events)
                elif ftype == RST_STREAM:
                    self._on_rst_stream(data, start, length, sid, events)
                elif ftype == PING:
                    self._on_ping(data, start, length, flags, sid, events)
                elif ftype == GOAWAY:
                    self._on_goaway(data, start, end, sid, events)
                elif ftype == PRIORITY:
                    self._on_priority(data, start, length, sid, events)
                elif ftype == PUSH_PROMISE:
                    raise _ConnectionError("PUSH_PROMISE with push disabled (section 6.6)")
                elif ftype == CONTINUATION:
                    raise _ConnectionError("CONTINUATION without a header block (6.10)")
                else:
                    self._calm()  # unknown frame types are ignored (section 4.1, 5.5)
        except _ConnectionError as exc:
            self._fail(exc.code, str(exc))
            raise RemoteProtocolError(str(exc), exc.code, events) from None
        if pos < n:
            rest = data[pos:]
            self._parts = [rest]
            self._parts_len = n - pos
            # A complete header says how much completes the frame; else a header completes it.
            self._need = 9 + (rest[0] << 16 | rest[1] << 8 | rest[2]) if n - pos >= 9 else 9
        return events

    @property
    def buffered(self) -> int:
        """Octets received and kept: a frame not complete yet (at most its 9-octet header and
        our MAX_FRAME_SIZE)."""
        return self._parts_len if self._parts else 0

    def _fail(self, code: int, msg: str) -> None:
        self._terminated = True
        self._parts = []
        if code == ErrorCodes.ENHANCE_YOUR_CALM:
            self._out.clear()  # a flood's PINGs and SETTINGS are not answered: GOAWAY alone
        debug = msg.encode("ascii", "replace")[:256]
        payload = _GOAWAY.pack(0, code) + debug
        self._out.append(_pack_header(0, len(payload), GOAWAY, 0, 0) + payload)

    def _idle(self, sid: int) -> bool:
        return sid >= self._next_stream_id or sid % 2 == 0

    def _data_not_expected(
        self, sid: int, stream: _Stream | None, length: int, events: list[Event]
    ) -> None:
        if sid == 0:
            raise _ConnectionError("DATA on stream 0 (section 6.1)")
        if not self._settings_received:
            raise _ConnectionError("the server's preface must start with SETTINGS")
        # Nobody will acknowledge these octets: give them back to the connection.
        self._release_connection(length)
        if stream is None:
            self._late_frame(sid, events, DATA)
        elif stream.state == HALF_CLOSED_REMOTE:
            self._stream_error(sid, ErrorCodes.STREAM_CLOSED, events)
        else:  # DATA before the response's header block (section 8.1): malformed
            self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)

    def _late_frame(self, sid: int, events: list[Event], ftype: int) -> None:
        """DATA or HEADERS on a stream we do not track (section 5.1)."""
        if self._idle(sid):
            raise _ConnectionError(f"frame on idle stream {sid} (section 5.1)")
        why = self._closed.get(sid)
        if why == _ENDED:
            raise _ConnectionError(
                f"frame on stream {sid} after END_STREAM (section 5.1)", ErrorCodes.STREAM_CLOSED
            )
        self._calm()
        if why == _RESET_LOCAL or why == _REFUSED:
            return  # in flight when we reset it: ignored
        # Reset by the peer, or closed so long ago we forgot: stream error STREAM_CLOSED.
        self._out.append(
            _pack_header(0, 4, RST_STREAM, 0, sid) + _pack_u32(ErrorCodes.STREAM_CLOSED)
        )

    def _end_remote(self, stream: _Stream, events: list[Event]) -> None:
        events.append(StreamEnded(stream.stream_id))
        new = TRANSITIONS[stream.state * 16 + RECV_END_STREAM]
        stream.state = new
        if new == CLOSED:
            self._forget(stream.stream_id, _ENDED)

    def _on_headers(
        self, data: bytes, start: int, end: int, flags: int, sid: int, events: list[Event]
    ) -> None:
        if sid == 0:
            raise _ConnectionError("HEADERS on stream 0 (section 6.2)")
        if not self._settings_received:
            raise _ConnectionError("the server's preface must start with SETTINGS")
        if sid % 2 == 0:
            raise _ConnectionError("the server opened a stream (push is off, section 5.1.1)")
        pad = 0
        if flags & FLAG_PADDED:
            if start >= end:
                raise _ConnectionError("HEADERS too short for its padding (section 6.2)")
            pad = data[start]
            start += 1
        if flags & FLAG_PRIORITY:
            if start + 5 > end:
                raise _ConnectionError("HEADERS too short for its priority (section 6.2)")
            start += 5
        if start + pad > end:
            raise _ConnectionError("HEADERS padding too long (section 6.2)")
        fragment = data[start : end - pad]
        self_dependent = bool(
            flags & FLAG_PRIORITY and _unpack_u32(data, start - 5)[0] & MAX_STREAM_ID == sid
        )
        if not flags & FLAG_END_HEADERS:
            if len(fragment) > self.max_header_block_size:
                raise _ConnectionError("header block too large", ErrorCodes.ENHANCE_YOUR_CALM)
            self._cont_stream = sid
            self._cont_flags = flags | (_SELF_DEPENDENT if self_dependent else 0)
            self._cont_parts = [fragment]
            self._cont_frames = 0
            self._cont_size = len(fragment)
            return
        self._header_block(sid, flags, fragment, events, self_dependent)

    def _on_continuation(
        self, data: bytes, start: int, end: int, flags: int, events: list[Event]
    ) -> None:
        self._cont_frames += 1
        self._cont_size += end - start
        if self._cont_frames > self.max_continuation_frames:
            raise _ConnectionError(
                f"more than {self.max_continuation_frames} CONTINUATION frames",
                ErrorCodes.ENHANCE_YOUR_CALM,
            )
        if self._cont_size > self.max_header_block_size:
            raise _ConnectionError(
                f"header block above {self.max_header_block_size} octets",
                ErrorCodes.ENHANCE_YOUR_CALM,
            )
        self._cont_parts.append(data[start:end])
        if flags & FLAG_END_HEADERS:
            sid = self._cont_stream
            block = b"".join(self._cont_parts)
            self._cont_stream = 0
            self._cont_parts = []
            flags = self._cont_flags
            self._header_block(sid, flags, block, events, bool(flags & _SELF_DEPENDENT))

    def _decode(self, block: bytes) -> list[Header]:
        try:
            return self._decoder.decode(block)
        except HPACKDecodingError as exc:
            raise _ConnectionError(str(exc), ErrorCodes.COMPRESSION_ERROR) from None

    # noqa below, measured (bench/http2_engine.py's work, CPU us per response, best of 40 x 10
    # connections, 3 alternating runs): moving the response's content-length / pseudo-header
    # loop into a function (what it takes to get from 17 to 15) cost "unique" receive
    # 7.7 -> 8.1 us (+0.3 us, +4%); decode errors and trailers are already steps of their own.
    def _header_block(  # noqa: C901
        self,
        sid: int,
        flags: int,
        block: bytes,
        events: list[Event],
        self_dependent: bool = False,
    ) -> None:
        stream = self._streams.get(sid)
        if stream is not None and stream.phase == 0 and not self_dependent:
            cached = self._cache.get(block)
            decoder = self._decoder
            if cached is not None and (cached[0] < 0 or cached[0] == decoder.version):
                self._response(stream, cached[1][:], cached[2], cached[3], flags, events)
                return
        try:
            headers = self._decode(block)  # always: the HPACK context must stay in step
        except HeaderListTooLarge:
            self._undecodable(stream, sid, ErrorCodes.ENHANCE_YOUR_CALM, events)
            return
        except InvalidHeaderField:
            self._undecodable(stream, sid, ErrorCodes.PROTOCOL_ERROR, events)
            return
        if stream is None:
            self._late_frame(sid, events, HEADERS)
            return
        if self_dependent:
            self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)  # section 5.3.1
            return
        if (stream.state * 16 + RECV_HEADERS) not in TRANSITIONS:  # half-closed (remote)
            self._stream_error(sid, ErrorCodes.STREAM_CLOSED, events)
            return
        es = flags & FLAG_END_STREAM
        if stream.phase == 0:
            # The response (section 8.3.2): :status first and alone among pseudo-headers.
            status_field = headers[0] if headers else None
            if status_field is None or status_field[0] != _RESPONSE_PSEUDO:
                self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)
                return
            value = status_field[1]
            if value not in _OK_STATUS:
                self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)
                return
            content_length = -1
            for i in range(1, len(headers)):
                name = headers[i][0]
                if name[0] == 58:  # ":" after :status: repeated or request pseudo-header
                    self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)
                    return
                if name == b"content-length":
                    cl = headers[i][1]
                    if not cl.isdigit() or (content_length >= 0 and int(cl) != content_length):
                        self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)
                        return
                    content_length = int(cl)
            status = int(value)
            decoder = self._decoder
            if decoder.last_pure and self._cache_size and status >= 200:
                cache = self._cache
                if len(cache) >= self._cache_size:
                    cache.clear()
                version = decoder.version if decoder.last_dynamic else -1
                cache[block] = (version, headers[:], status, content_length)
            self._response(stream, headers, status, content_length, flags, events)
            return
        self._trailers(stream, es, headers, events)

    def _undecodable(
        self, stream: _Stream | None, sid: int, code: int, events: list[Event]
    ) -> None:
        """A header block HPACK could not decode (or too large): the stream's error ``code``,
        or, for a stream we no longer know, what a late frame gets."""
        if stream is None:
            self._late_frame(sid, events, HEADERS)
        else:
            self._stream_error(sid, code, events)

    def _trailers(
        self, stream: _Stream, es: int, headers: list[Header], events: list[Event]
    ) -> None:
        """Trailers (section 8.1): they end the stream and carry no pseudo-header; the body
        received must match a content-length."""
        sid = stream.stream_id
        if not es or any(name[0] == 58 for name, _ in headers):
            self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)
            return
        if stream.content_length >= 0 and stream.received != stream.content_length:
            self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)
            return
        stream.phase = 2
        if self._cheap:
            self._cheap -= 1
        events.append(TrailersReceived(sid, headers))
        self._end_remote(stream, events)

    def _response(
        self,
        stream: _Stream,
        headers: list[Header],
        status: int,
        content_length: int,
        flags: int,
        events: list[Event],
    ) -> None:
        sid = stream.stream_id
        es = flags & FLAG_END_STREAM
        if status < 200:
            if status == 101 or es:  # section 8.6 (no 101), 8.1 (1xx cannot end a stream)
                self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)
                return
            self._calm()
            events.append(InformationalResponseReceived(sid, headers))
            return
        if stream.head or status == 304 or status == 204:
            content_length = -1  # section 8.1.1: no content whatever content-length says
        elif es and content_length > 0:
            self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)
            return
        stream.content_length = content_length
        stream.phase = 1
        self._cheap = 0
        if es:
            events.append(ResponseReceived(sid, headers, True))
            self._end_remote(stream, events)
        else:
            events.append(ResponseReceived(sid, headers, False))

    def _on_settings(
        self, data: bytes, start: int, end: int, flags: int, sid: int, events: list[Event]
    ) -> None:
        if sid:
            raise _ConnectionError("SETTINGS on a stream (section 6.5)")
        length = end - start
        if flags & FLAG_ACK:
            self._on_settings_ack(length, events)
            return
        if length % 6:
            raise _ConnectionError(
                "SETTINGS length not a multiple of 6", ErrorCodes.FRAME_SIZE_ERROR
            )
        if self._settings_received:
            self._calm()
        self._settings_received = True
        changed: dict[int, int] = {}
        remote = self._remote
        for offset in range(start, end, 6):
            code, value = _SETTING.unpack_from(data, offset)
            self._apply_remote(code, value)
            remote[code] = value
            changed[code] = value
        self._out.append(_pack_header(0, 0, SETTINGS, FLAG_ACK, 0))
        events.append(RemoteSettingsChanged(changed))

    def _on_settings_ack(self, length: int, events: list[Event]) -> None:
        """A SETTINGS ACK: the oldest of our pending SETTINGS now applies (section 6.5.3)."""
        if length:
            raise _ConnectionError("SETTINGS ACK with a payload", ErrorCodes.FRAME_SIZE_ERROR)
        if not self._settings_received:
            raise _ConnectionError("the server's preface must start with SETTINGS")
        self._calm()
        if not self._pending_local:
            return  # an ACK of nothing: ignored
        acked = self._pending_local.pop(0)
        self._apply_local(acked)
        events.append(SettingsAcknowledged(acked))

    def _apply_remote(self, code: int, value: int) -> None:
        """One setting of the server's SETTINGS frame, checked (section 6.5.2) and applied."""
        if code == SettingCodes.ENABLE_PUSH:
            if value > 1:
                raise _ConnectionError("ENABLE_PUSH above 1 (section 6.5.2)")
            if value == 1:
                raise _ConnectionError("a server sent ENABLE_PUSH 1 (section 6.5.2)")
        elif code == SettingCodes.INITIAL_WINDOW_SIZE:
            if value > MAX_WINDOW:
                raise _ConnectionError(
                    "INITIAL_WINDOW_SIZE above 2**31-1", ErrorCodes.FLOW_CONTROL_ERROR
                )
            delta = value - self._out_initial_window
            self._out_initial_window = value
            for stream in self._streams.values():
                stream.outbound_window += delta
                if stream.outbound_window > MAX_WINDOW:
                    raise _ConnectionError(
                        "INITIAL_WINDOW_SIZE change overflows a window (section 6.9.2)",
                        ErrorCodes.FLOW_CONTROL_ERROR,
                    )
        elif code == SettingCodes.MAX_FRAME_SIZE:
            if not MIN_MAX_FRAME_SIZE <= value <= MAX_MAX_FRAME_SIZE:
                raise _ConnectionError("MAX_FRAME_SIZE out of range (section 6.5.2)")
            self._out_max_frame = value
        elif code == SettingCodes.HEADER_TABLE_SIZE:
            # We never keep more than 4096 octets for the peer, whatever it allows.
            size = min(value, 4096)
            if size != self._encoder.header_table_size:
                self._encoder.header_table_size = size
        elif code == SettingCodes.MAX_CONCURRENT_STREAMS:
            self._max_concurrent = value
        elif code == SettingCodes.ENABLE_CONNECT_PROTOCOL and value > 1:
            raise _ConnectionError("ENABLE_CONNECT_PROTOCOL above 1 (RFC 8441)")

    def _apply_local(self, settings: dict[int, int]) -> None:
        for code, value in settings.items():
            if code == SettingCodes.INITIAL_WINDOW_SIZE:
                if value != self._in_initial_window:
                    self._adjust_inbound_windows(value)
            elif code == SettingCodes.MAX_FRAME_SIZE:
                self._in_max_frame = value
            elif code == SettingCodes.HEADER_TABLE_SIZE:
                self._decoder.set_max_allowed_table_size(value)
                self._cache.clear()
            elif code == SettingCodes.MAX_HEADER_LIST_SIZE:
                self._decoder.max_header_list_size = value
                self._cache.clear()

    def _on_window_update(
        self, data: bytes, start: int, length: int, sid: int, events: list[Event]
    ) -> None:
        if length != 4:
            raise _ConnectionError("WINDOW_UPDATE length not 4", ErrorCodes.FRAME_SIZE_ERROR)
        increment = _unpack_u32(data, start)[0] & MAX_WINDOW
        self._calm()
        if sid == 0:
            if increment == 0:
                raise _ConnectionError("WINDOW_UPDATE of 0 on the connection (section 6.9)")
            self._out_window += increment
            if self._out_window > MAX_WINDOW:
                raise _ConnectionError(
                    "connection window above 2**31-1", ErrorCodes.FLOW_CONTROL_ERROR
                )
            events.append(WindowUpdated(0, increment))
            return
        stream = self._streams.get(sid)
        if stream is None:
            if self._idle(sid):
                raise _ConnectionError(f"WINDOW_UPDATE on idle stream {sid} (section 5.1)")
            return  # closed: ignored (section 5.1 allows it for a while)
        if increment == 0:
            self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)
            return
        stream.outbound_window += increment
        if stream.outbound_window > MAX_WINDOW:
            self._stream_error(sid, ErrorCodes.FLOW_CONTROL_ERROR, events)
            return
        events.append(WindowUpdated(sid, increment))

    def _on_rst_stream(
        self, data: bytes, start: int, length: int, sid: int, events: list[Event]
    ) -> None:
        if sid == 0:
            raise _ConnectionError("RST_STREAM on stream 0 (section 6.4)")
        if length != 4:
            raise _ConnectionError("RST_STREAM length not 4", ErrorCodes.FRAME_SIZE_ERROR)
        stream = self._streams.get(sid)
        if stream is None:
            if self._idle(sid):
                raise _ConnectionError(f"RST_STREAM on idle stream {sid} (section 6.4)")
            self._calm()
            return
        code = _unpack_u32(data, start)[0]
        stream.state = TRANSITIONS[stream.state * 16 + RECV_RST_STREAM]
        self._forget(sid, _RESET_REMOTE)
        events.append(StreamReset(sid, _error_code(code), True))

    def _on_ping(
        self, data: bytes, start: int, length: int, flags: int, sid: int, events: list[Event]
    ) -> None:
        if sid:
            raise _ConnectionError("PING on a stream (section 6.7)")
        if length != 8:
            raise _ConnectionError("PING length not 8", ErrorCodes.FRAME_SIZE_ERROR)
        self._calm()
        opaque = data[start : start + 8]
        if flags & FLAG_ACK:
            events.append(PingAckReceived(opaque))
        else:
            self._out.append(_pack_header(0, 8, PING, FLAG_ACK, 0) + opaque)
            events.append(PingReceived(opaque))

    def _on_goaway(self, data: bytes, start: int, end: int, sid: int, events: list[Event]) -> None:
        if sid:
            raise _ConnectionError("GOAWAY on a stream (section 6.8)")
        if end - start < 8:
            raise _ConnectionError("GOAWAY shorter than 8 octets", ErrorCodes.FRAME_SIZE_ERROR)
        self._calm()
        last, code = _GOAWAY.unpack_from(data, start)
        last &= MAX_STREAM_ID
        # A later GOAWAY cannot raise the last stream id (section 6.8): keep the smallest.
        last = min(last, self._goaway_last_id)
        self._goaway_last_id = last
        self._goaway_received = True
        for stream_id in [s for s in self._streams if s > last]:
            self._forget(stream_id, _REFUSED)
        events.append(ConnectionTerminated(_error_code(code), last, data[start + 8 : end]))

    def _on_priority(
        self, data: bytes, start: int, length: int, sid: int, events: list[Event]
    ) -> None:
        if sid == 0:
            raise _ConnectionError("PRIORITY on stream 0 (section 6.3)")
        self._calm()
        stream = self._streams.get(sid)
        if length != 5:
            if stream is not None:
                self._stream_error(sid, ErrorCodes.FRAME_SIZE_ERROR, events)
            return
        if stream is not None and _unpack_u32(data, start)[0] & MAX_STREAM_ID == sid:
            self._stream_error(sid, ErrorCodes.PROTOCOL_ERROR, events)  # section 5.3.1
