"""The I/O-free glue between httpwire's HTTP/2 connection and ``h2``: both flavours import it.

- ``require_h2()``: ``h2`` is imported on first use only (the optional ``http2`` extra); its
  version is checked against :data:`SUPPORTED_H2` and the two internals httpwire relies on
  (:func:`check_h2_internals`) are checked at once, so that an ``h2`` that renamed them fails
  loudly instead of being worked around silently.
- ``new_h2_connection()``: a client ``H2Connection`` with our SETTINGS (RFC 9113 section 6.5.2)
  and windows, and the GOAWAY workaround (:func:`keep_open_on_goaway`).
- ``request_headers()`` / ``response_head()``: the mapping between httpwire's requests and
  responses and HTTP/2 header lists (RFC 9113 section 8.3).
- ``error_name()``: RFC 9113 section 7's names of error codes; :class:`StreamRefused`, the one
  error class both flavours raise for a request the server did not process.

This is the surface a sans-I/O engine replacing ``h2`` has to provide.
"""

from __future__ import annotations

import typing
from typing import Any

from ._exceptions import LocalProtocolError, RemoteProtocolError
from ._models import Request
from .http11._abnf import MAX_CONTENT_LENGTH_DIGITS
from .http11._headers import check_content_length

__all__ = [
    "StreamRefused",
    "SUPPORTED_H2",
    "require_h2",
    "check_h2_internals",
    "new_h2_connection",
    "pending_bytes",
    "keep_open_on_goaway",
    "request_headers",
    "response_head",
    "error_name",
]

#: The ``h2`` versions this module is written against: ``>= 4.1, < 5`` (the ``http2`` extra
#: asks for the same). A test pins it, with the internals below.
SUPPORTED_H2 = ((4, 1), (5, 0))

# Our receive windows: 4 MiB per stream, 16 MiB for the connection (RFC 9113 section 6.9.2
# starts both at 64 KiB, far too small for one fast download, let alone several).
STREAM_WINDOW = 4 * 1024 * 1024
CONNECTION_WINDOW = 16 * 1024 * 1024
# Request header fields RFC 9113 section 8.2.2 forbids (connection-specific), and Host, which
# becomes :authority.
DROPPED = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    }
)
ERROR_NAMES = {
    0x0: "NO_ERROR",
    0x1: "PROTOCOL_ERROR",
    0x2: "INTERNAL_ERROR",
    0x3: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT",
    0x5: "STREAM_CLOSED",
    0x6: "FRAME_SIZE_ERROR",
    0x7: "REFUSED_STREAM",
    0x8: "CANCEL",
    0x9: "COMPRESSION_ERROR",
    0xA: "CONNECT_ERROR",
    0xB: "ENHANCE_YOUR_CALM",
    0xC: "INADEQUATE_SECURITY",
    0xD: "HTTP_1_1_REQUIRED",
}
REFUSED_STREAM = 0x7
CANCEL = 0x8
ENHANCE_YOUR_CALM = 0xB


class StreamRefused(RemoteProtocolError):
    """The server did not process this request: its stream was above the ``last_stream_id`` of a
    GOAWAY, refused with ``RST_STREAM(REFUSED_STREAM)``, or could not start because the connection
    is going away. RFC 9113 section 8.7 makes such requests safe to retry on a new connection,
    whatever their method; the pool does so."""


# -- h2, loaded on first use --------------------------------------------------------------------


class H2:
    """The parts of ``h2`` used here, imported once by :func:`require_h2`."""

    loaded = False
    H2Connection: Any = None
    H2Configuration: Any = None
    SettingCodes: Any = None
    Settings: Any = None
    ConnectionState: Any = None
    ConnectionInputs: Any = None
    H2Error: Any = Exception
    TooManyStreamsError: Any = Exception
    ResponseReceived: Any = None
    InformationalResponseReceived: Any = None
    DataReceived: Any = None
    TrailersReceived: Any = None
    StreamEnded: Any = None
    StreamReset: Any = None
    WindowUpdated: Any = None
    RemoteSettingsChanged: Any = None
    ConnectionTerminated: Any = None
    STREAM_EVENTS: frozenset[Any] = frozenset()
    CONTROL_EVENTS: frozenset[Any] = frozenset()


def require_h2() -> None:
    """Import ``h2`` (once); raise ``ImportError`` naming the extra to install when it is missing."""
    if H2.loaded:
        return
    try:
        import h2
        import h2.config
        import h2.connection
        import h2.events
        import h2.exceptions
        import h2.settings
    except ImportError as exc:
        raise ImportError(
            "HTTP/2 support needs the 'h2' package: install it with "
            "`pip install 'httpwire[http2]'` (or use http2=False)"
        ) from exc
    ev = h2.events
    H2.H2Connection = h2.connection.H2Connection
    H2.H2Configuration = h2.config.H2Configuration
    H2.SettingCodes = h2.settings.SettingCodes
    H2.Settings = h2.settings.Settings
    H2.ConnectionState = h2.connection.ConnectionState
    H2.ConnectionInputs = h2.connection.ConnectionInputs
    H2.H2Error = h2.exceptions.H2Error
    H2.TooManyStreamsError = h2.exceptions.TooManyStreamsError
    H2.ResponseReceived = ev.ResponseReceived
    H2.InformationalResponseReceived = ev.InformationalResponseReceived
    H2.DataReceived = ev.DataReceived
    H2.TrailersReceived = ev.TrailersReceived
    H2.StreamEnded = ev.StreamEnded
    H2.StreamReset = ev.StreamReset
    H2.WindowUpdated = ev.WindowUpdated
    H2.RemoteSettingsChanged = ev.RemoteSettingsChanged
    H2.ConnectionTerminated = ev.ConnectionTerminated
    H2.STREAM_EVENTS = frozenset(
        {
            ev.ResponseReceived,
            ev.InformationalResponseReceived,
            ev.DataReceived,
            ev.TrailersReceived,
            ev.StreamEnded,
            ev.StreamReset,
        }
    )
    H2.CONTROL_EVENTS = frozenset(
        {ev.PingReceived, ev.PingAckReceived, ev.PriorityUpdated, ev.UnknownFrameReceived}
    )
    check_h2_internals(h2.connection.H2Connection, h2.__version__)
    H2.loaded = True


def error_name(code: int) -> str:
    """``"REFUSED_STREAM"`` for 0x7 (RFC 9113 section 7); unknown codes in hex."""
    return ERROR_NAMES.get(int(code), f"error code {int(code):#x}")


# -- the h2 internals we rely on: checked once, used only here ------------------------------------


def check_h2_internals(connection_class: Any, version: str) -> None:
    """Fail loudly (``RuntimeError`` naming the supported range) when ``h2`` is outside
    :data:`SUPPORTED_H2` or lacks an internal httpwire relies on: ``H2Connection._data_to_send``
    (how many bytes are queued, without taking them: :func:`pending_bytes`) and the class-level
    ``_transitions`` table of its state machine (:func:`keep_open_on_goaway`)."""
    low, high = SUPPORTED_H2
    supported = f">= {low[0]}.{low[1]}, < {high[0]}.{high[1]}"
    try:
        parsed = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        parsed = low  # a local build ("4.2.0.dev0" parses; anything else: trust the internals)
    problems = []
    if not low <= parsed < high:
        problems.append(f"version {version} is outside the supported range")
    probe = connection_class()
    if not isinstance(getattr(probe, "_data_to_send", None), bytes | bytearray | memoryview):
        problems.append("H2Connection._data_to_send is gone")
    transitions = getattr(type(probe.state_machine), "_transitions", None)
    if not isinstance(transitions, dict) or not transitions:
        problems.append("the connection state machine's _transitions table is gone")
    if problems:
        raise RuntimeError(
            f"httpwire's HTTP/2 supports h2 {supported}: "
            + "; ".join(problems)
            + " (install a supported h2, e.g. `pip install 'h2>=4.1,<5'`)"
        )


def pending_bytes(h2c: Any) -> int:
    """How many bytes ``h2c`` has queued to send, without taking them (an ``h2`` internal,
    checked by :func:`check_h2_internals`)."""
    return len(h2c._data_to_send)


def keep_open_on_goaway(h2c: Any) -> None:
    """RFC 9113 section 6.8: after a GOAWAY, streams up to ``last_stream_id`` may still
    complete. ``h2``'s connection state machine goes to CLOSED on GOAWAY and would reject their
    frames, so receiving GOAWAY keeps it open here (the connection refuses new streams itself).
    Patches ``h2c``'s own copy of the transition table (an ``h2`` internal, checked by
    :func:`check_h2_internals`)."""
    machine = h2c.state_machine
    state, inputs = H2.ConnectionState, H2.ConnectionInputs
    patched = dict(type(machine)._transitions)
    patched[(state.CLIENT_OPEN, inputs.RECV_GOAWAY)] = (None, state.CLIENT_OPEN)
    machine._transitions = patched


def new_h2_connection() -> Any:
    """A client ``h2.connection.H2Connection`` with our SETTINGS (no push, 1,000 streams,
    :data:`STREAM_WINDOW` per stream, 64 KiB of header list) and :data:`CONNECTION_WINDOW`,
    its preface queued (RFC 9113 section 3.4) and GOAWAY handled as section 6.8 says."""
    require_h2()
    config = H2.H2Configuration(
        client_side=True,
        header_encoding=None,
        # Request fields come from Headers (validated when set) and are lowercased and
        # filtered here; re-checking them in h2 costs more than the rest of a request.
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
        validate_inbound_headers=True,
        normalize_inbound_headers=True,
    )
    h2c = H2.H2Connection(config=config)
    codes = H2.SettingCodes
    # A new Settings object: values given to an existing one stay pending until the server
    # acknowledges them, and initiate_connection() would announce the old ones.
    h2c.local_settings = H2.Settings(
        client=True,
        initial_values={
            codes.ENABLE_PUSH: 0,
            codes.MAX_CONCURRENT_STREAMS: 1000,
            codes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
            codes.MAX_HEADER_LIST_SIZE: 65536,
        },
    )
    keep_open_on_goaway(h2c)
    h2c.initiate_connection()
    h2c.increment_flow_control_window(CONNECTION_WINDOW - 65535)
    return h2c


# -- header mapping (RFC 9113 section 8.3) ---------------------------------------------------------


def request_headers(request: Request) -> list[tuple[bytes, bytes]]:
    """The HEADERS of ``request``: pseudo-header fields first (RFC 9113 section 8.3.1), then
    the request's fields lowercased, without the connection-specific ones (section 8.2.2).
    Raises ``LocalProtocolError`` for an empty ``:path``."""
    url = request.url
    method = request.method.encode("ascii")
    authority: bytes | None = None
    fields: list[tuple[bytes, bytes]] = []
    for _raw, lower, value in request.headers._list:
        if lower in DROPPED:
            if lower == b"host" and authority is None:
                authority = value
            continue
        if lower == b"te" and value.lower() != b"trailers":
            continue  # section 8.2.2: TE may only carry "trailers"
        fields.append((lower, value))
    if authority is None:
        authority = url.netloc
    if method == b"CONNECT":
        return [(b":method", method), (b":authority", authority), *fields]
    target = request.extensions.get("target") or url.raw_path
    if not target:
        raise LocalProtocolError("an HTTP/2 request needs a non-empty :path")
    return [
        (b":method", method),
        (b":scheme", url.scheme.encode("ascii")),
        (b":authority", authority),
        (b":path", target),
        *fields,
    ]


def response_head(
    headers: typing.Iterable[tuple[bytes, bytes]],
) -> tuple[int, list[tuple[bytes, bytes]]]:
    """The status and the regular fields of a response HEADERS list (``h2`` validated and
    lowercased them). Raises ``RemoteProtocolError`` for a Content-Length too large to be one
    (RFC 9110 section 8.6)."""
    status = 0
    fields: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        if name == b":status":
            status = int(value)
        elif name[:1] != b":":
            if name == b"content-length" and len(value) >= MAX_CONTENT_LENGTH_DIGITS:
                check_content_length(value, RemoteProtocolError)
            fields.append((name, value))
    return status, fields
