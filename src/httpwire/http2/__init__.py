"""``httpwire.http2``: a sans-I/O HTTP/2 client engine (RFC 9113) with HPACK (RFC 7541).

No sockets, no threads, no clock: bytes in, events out; calls in, bytes out.  One
:class:`Connection` per HTTP/2 connection, client role only (push is refused)::

    conn = Connection()
    conn.initiate_connection()                  # preface + SETTINGS (+ WINDOW_UPDATE)
    sock.sendall(conn.data_to_send())
    sid = conn.get_next_available_stream_id()   # 1, 3, 5, ...
    conn.send_headers(sid, [(b":method", b"GET"), (b":scheme", b"https"),
                            (b":authority", b"example.com"), (b":path", b"/")],
                      end_stream=True)
    sock.sendall(conn.data_to_send())
    while ...:
        for event in conn.receive_data(sock.recv(65536)):   # list of events
            if type(event) is DataReceived:
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            ...
        if conn.has_data_to_send:
            sock.sendall(conn.data_to_send())       # ACKs, WINDOW_UPDATEs, RST_STREAMs

Calls (the connection layer's whole vocabulary): :meth:`Connection.initiate_connection`,
``send_headers(stream_id, headers, end_stream)``, ``send_data(stream_id, data, end_stream)``,
``end_stream(stream_id)``, ``reset_stream(stream_id, error_code)``, ``ping(8 octets)``,
``close_connection(error_code, additional_data)``, ``acknowledge_received_data(n,
stream_id)``, ``increment_flow_control_window(n, stream_id)``, ``update_settings(dict)``,
``receive_data(bytes) -> list[Event]``, ``data_to_send() -> bytes``; state:
``local_flow_control_window(stream_id)``, ``remote_flow_control_window(stream_id)``,
``get_next_available_stream_id()``, ``open_outbound_streams``, ``max_concurrent_streams``,
``max_outbound_frame_size``, ``outstanding_settings``, ``goaway_received``, ``closed``,
``stream_state(stream_id)``, ``has_data_to_send``, ``local_settings``, ``remote_settings``.

Events (h2's names, ``__slots__`` objects): :class:`ResponseReceived`,
:class:`InformationalResponseReceived`, :class:`TrailersReceived`, :class:`DataReceived`,
:class:`StreamEnded`, :class:`StreamReset`, :class:`WindowUpdated`,
:class:`RemoteSettingsChanged`, :class:`SettingsAcknowledged`, :class:`PingReceived`,
:class:`PingAckReceived`, :class:`ConnectionTerminated`.

Errors: a connection error by the peer raises :class:`RemoteProtocolError` (GOAWAY queued,
``error_code``, the events decoded before it in ``.events``); a stream error resets the stream
and reports :class:`StreamReset` with ``remote=False``; a call the protocol or the state forbids
raises :class:`LocalProtocolError` (:class:`StreamClosedError`, :class:`FlowControlError`,
:class:`TooManyStreamsError`) and changes nothing.  See ``docs/http2.md`` ("The engine").
"""

from __future__ import annotations

from ._connection import (
    PREFACE,
    Connection,
    FlowControlError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    StreamClosedError,
    TooManyStreamsError,
)
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

__all__ = [
    "PREFACE",
    "Connection",
    "ProtocolError",
    "RemoteProtocolError",
    "LocalProtocolError",
    "StreamClosedError",
    "FlowControlError",
    "TooManyStreamsError",
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
