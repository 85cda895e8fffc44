"""Events :meth:`httpwire.http2.Connection.receive_data` returns, and the protocol's constants.

Event classes have h2's names and fields (``h2.events``), as small ``__slots__`` objects: one per
thing that happened, no back references.  ``headers`` are lists of ``(name, value)`` ``bytes``
tuples.  Two events compare equal when their type and fields are equal (for tests).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

__all__ = [
    "ErrorCodes",
    "SettingCodes",
    "Event",
    "ResponseReceived",
    "InformationalResponseReceived",
    "TrailersReceived",
    "DataReceived",
    "StreamEnded",
    "StreamReset",
    "WindowUpdated",
    "RemoteSettingsChanged",
    "SettingsAcknowledged",
    "PingReceived",
    "PingAckReceived",
    "ConnectionTerminated",
]


class ErrorCodes(IntEnum):
    """RFC 9113 section 7."""

    NO_ERROR = 0x0
    PROTOCOL_ERROR = 0x1
    INTERNAL_ERROR = 0x2
    FLOW_CONTROL_ERROR = 0x3
    SETTINGS_TIMEOUT = 0x4
    STREAM_CLOSED = 0x5
    FRAME_SIZE_ERROR = 0x6
    REFUSED_STREAM = 0x7
    CANCEL = 0x8
    COMPRESSION_ERROR = 0x9
    CONNECT_ERROR = 0xA
    ENHANCE_YOUR_CALM = 0xB
    INADEQUATE_SECURITY = 0xC
    HTTP_1_1_REQUIRED = 0xD


class SettingCodes(IntEnum):
    """RFC 9113 section 6.5.2, RFC 8441 section 3, RFC 9218 section 2.1."""

    HEADER_TABLE_SIZE = 0x1
    ENABLE_PUSH = 0x2
    MAX_CONCURRENT_STREAMS = 0x3
    INITIAL_WINDOW_SIZE = 0x4
    MAX_FRAME_SIZE = 0x5
    MAX_HEADER_LIST_SIZE = 0x6
    ENABLE_CONNECT_PROTOCOL = 0x8
    NO_RFC7540_PRIORITIES = 0x9


class Event:
    """Base class of the events."""

    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__
        )

    def __hash__(self) -> int:  # pragma: no cover - events are not meant as keys
        return id(self)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"<{type(self).__name__} {fields}>"

    def fields(self) -> dict[str, Any]:
        """The event's fields as a dict."""
        return {name: getattr(self, name) for name in self.__slots__}


class ResponseReceived(Event):
    """The final response's header block (status 200-599).  ``end_stream``: it also ended the
    stream (a :class:`StreamEnded` follows)."""

    __slots__ = ("stream_id", "headers", "end_stream")

    def __init__(self, stream_id: int, headers: list[tuple[bytes, bytes]], end_stream: bool):
        self.stream_id = stream_id
        self.headers = headers
        self.end_stream = end_stream


class InformationalResponseReceived(Event):
    """An interim response (1xx other than 101, RFC 9113 section 8.1)."""

    __slots__ = ("stream_id", "headers")

    def __init__(self, stream_id: int, headers: list[tuple[bytes, bytes]]):
        self.stream_id = stream_id
        self.headers = headers


class TrailersReceived(Event):
    """The trailer section (always ends the stream: a :class:`StreamEnded` follows)."""

    __slots__ = ("stream_id", "headers")

    def __init__(self, stream_id: int, headers: list[tuple[bytes, bytes]]):
        self.stream_id = stream_id
        self.headers = headers


class DataReceived(Event):
    """A DATA frame's content.  ``flow_controlled_length`` (octets, padding included) is what
    to give back with :meth:`Connection.acknowledge_received_data` once consumed."""

    __slots__ = ("stream_id", "data", "flow_controlled_length", "end_stream")

    def __init__(self, stream_id: int, data: bytes, flow_controlled_length: int, end_stream: bool):
        self.stream_id = stream_id
        self.data = data
        self.flow_controlled_length = flow_controlled_length
        self.end_stream = end_stream


class StreamEnded(Event):
    """The peer ended its side of the stream (END_STREAM)."""

    __slots__ = ("stream_id",)

    def __init__(self, stream_id: int):
        self.stream_id = stream_id


class StreamReset(Event):
    """The stream was reset: by the peer's RST_STREAM (``remote``) or by us, on a stream error
    we detected (an RST_STREAM with ``error_code`` is queued)."""

    __slots__ = ("stream_id", "error_code", "remote")

    def __init__(self, stream_id: int, error_code: int, remote: bool):
        self.stream_id = stream_id
        self.error_code = error_code
        self.remote = remote


class WindowUpdated(Event):
    """The peer gave us ``delta`` more octets to send, on ``stream_id`` (0: the connection)."""

    __slots__ = ("stream_id", "delta")

    def __init__(self, stream_id: int, delta: int):
        self.stream_id = stream_id
        self.delta = delta


class RemoteSettingsChanged(Event):
    """The peer's SETTINGS frame (already acknowledged): ``changed_settings`` maps each setting
    code it carried to its new value (unknown codes included, ignored otherwise)."""

    __slots__ = ("changed_settings",)

    def __init__(self, changed_settings: dict[int, int]):
        self.changed_settings = changed_settings


class SettingsAcknowledged(Event):
    """The peer acknowledged our oldest unacknowledged SETTINGS (now in force)."""

    __slots__ = ("changed_settings",)

    def __init__(self, changed_settings: dict[int, int]):
        self.changed_settings = changed_settings


class PingReceived(Event):
    """A PING (its ACK is already queued)."""

    __slots__ = ("ping_data",)

    def __init__(self, ping_data: bytes):
        self.ping_data = ping_data


class PingAckReceived(Event):
    """The ACK of one of our PINGs."""

    __slots__ = ("ping_data",)

    def __init__(self, ping_data: bytes):
        self.ping_data = ping_data


class ConnectionTerminated(Event):
    """The peer sent GOAWAY (RFC 9113 section 6.8).  Streams we opened above
    ``last_stream_id`` were not processed (safe to retry) and are forgotten; those at or below it
    may still complete.  No new stream may be opened."""

    __slots__ = ("error_code", "last_stream_id", "additional_data")

    def __init__(self, error_code: int, last_stream_id: int, additional_data: bytes):
        self.error_code = error_code
        self.last_stream_id = last_stream_id
        self.additional_data = additional_data
