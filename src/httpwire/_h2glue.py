"""The I/O-free glue between httpwire's HTTP/2 connection and its engine, ``httpwire.http2``:
both flavours import it.

- ``new_h2_connection()``: a client :class:`httpwire.http2.Connection` with our SETTINGS (RFC
  9113 section 6.5.2), windows and flood limit, its preface queued.
- ``stream_is_open()``: whether the engine still has a stream open on our side or its side (a
  response ended early is reset with it).
- ``request_headers()`` / ``response_head()``: the mapping between httpwire's requests and
  responses and HTTP/2 header lists (RFC 9113 section 8.3).
- ``error_name()``: RFC 9113 section 7's names of error codes; :class:`StreamRefused`, the one
  error class both flavours raise for a request the server did not process.

The engine is part of httpwire: HTTP/2 needs no extra package (``h2`` and ``hpack`` are test
oracles only, in the ``dev`` extra).
"""

from __future__ import annotations

import typing

from ._exceptions import LocalProtocolError, RemoteProtocolError
from ._models import Request
from .http2 import Connection
from .http11._abnf import MAX_CONTENT_LENGTH_DIGITS
from .http11._headers import check_content_length

__all__ = [
    "StreamRefused",
    "new_h2_connection",
    "stream_is_open",
    "request_headers",
    "response_head",
    "error_name",
]

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


def error_name(code: int) -> str:
    """``"REFUSED_STREAM"`` for 0x7 (RFC 9113 section 7); unknown codes in hex."""
    return ERROR_NAMES.get(int(code), f"error code {int(code):#x}")


def new_h2_connection(max_control_frames: int) -> Connection:
    """A client engine with our SETTINGS (no push, 1,000 streams, :data:`STREAM_WINDOW` per
    stream, 64 KiB of header list), :data:`CONNECTION_WINDOW` for the connection and
    ``max_control_frames`` frames without progress before GOAWAY(ENHANCE_YOUR_CALM) (the
    engine's flood defence: CVE-2019-9512, -9515, -9518, the 2023 Rapid Reset class); its
    preface is queued (RFC 9113 section 3.4). Request fields come from :class:`Headers`
    (validated when set) and :func:`request_headers`, so the engine does not check them again."""
    conn = Connection(
        initial_window_size=STREAM_WINDOW,
        connection_window_size=CONNECTION_WINDOW,
        max_concurrent_streams=1000,
        max_header_list_size=65536,
        max_control_frames=max_control_frames,
        validate_outbound_headers=False,
    )
    conn.initiate_connection()
    return conn


def stream_is_open(conn: Connection, stream_id: int) -> bool:
    """True while the engine keeps ``stream_id`` open (not idle, not closed both ways)."""
    return conn.stream_state(stream_id) not in ("IDLE", "CLOSED")


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
    """The status and the regular fields of a response HEADERS list (the engine validated
    them: RFC 9113 section 8.2). Raises ``RemoteProtocolError`` for a Content-Length too large to be one
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
