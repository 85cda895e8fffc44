"""``httpwire.http11``: a sans-I/O HTTP/1.1 protocol engine (RFC 9112, RFC 9110).

No sockets, no threads, no event loop: bytes in, events out; events in, bytes out.  The
public names are those of h11 (0.14-0.16), so ``import httpwire.http11 as h11`` runs code
written for h11.  See ``docs/http11.md`` for the deliberate differences.
"""

from __future__ import annotations

from .._version import __version__
from ._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE, NEED_DATA, PAUSED, Connection
from ._events import (
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    InformationalResponse,
    Request,
    Response,
)
from ._headers import Headers
from ._state import (
    CLIENT,
    CLOSED,
    DONE,
    ERROR,
    IDLE,
    MIGHT_SWITCH_PROTOCOL,
    MUST_CLOSE,
    SEND_BODY,
    SEND_RESPONSE,
    SERVER,
    SWITCHED_PROTOCOL,
)
from ._util import LocalProtocolError, ProtocolError, RemoteProtocolError

#: A product token naming this engine (RFC 9110 §10.1.5), for ``Server`` / ``User-Agent``
#: headers, as h11's ``PRODUCT_ID`` (``"python-h11/0.16.0"``). ``__version__`` is httpwire's
#: version, of which this engine is part (not an h11 version).
PRODUCT_ID = f"python-httpwire/{__version__}"

__all__ = [
    "__version__",
    "PRODUCT_ID",
    "Connection",
    "NEED_DATA",
    "PAUSED",
    "DEFAULT_MAX_INCOMPLETE_EVENT_SIZE",
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "Event",
    "InformationalResponse",
    "Request",
    "Response",
    "Headers",
    "CLIENT",
    "CLOSED",
    "DONE",
    "ERROR",
    "IDLE",
    "MIGHT_SWITCH_PROTOCOL",
    "MUST_CLOSE",
    "SEND_BODY",
    "SEND_RESPONSE",
    "SERVER",
    "SWITCHED_PROTOCOL",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
]
