"""The exception tree shared by ``httpwire`` and ``ahttpwire``.

Every exception the library raises on purpose derives from :class:`HTTPError`::

    HTTPError
    ├── TransportError                 (anything that went wrong moving bytes)
    │   ├── TimeoutException           (also a builtin ``TimeoutError``)
    │   │   ├── ConnectTimeout
    │   │   ├── ReadTimeout
    │   │   ├── WriteTimeout
    │   │   └── PoolTimeout
    │   ├── NetworkError
    │   │   ├── ConnectError
    │   │   ├── ReadError
    │   │   ├── WriteError
    │   │   └── CloseError
    │   ├── ProtocolError
    │   │   ├── LocalProtocolError     (we were about to break HTTP)
    │   │   └── RemoteProtocolError    (the peer broke HTTP)
    │   ├── ProxyError
    │   └── UnsupportedProtocol
    ├── HTTPStatusError                (raise_for_status on a 4xx/5xx)
    ├── TooManyRedirects
    ├── InvalidURL
    ├── DecodingError
    ├── ResponseTooLarge               (a body over the max_body_size the caller set)
    └── StreamError                    (misuse of a body stream)
        ├── StreamConsumed
        ├── StreamClosed
        ├── ResponseNotRead
        └── RequestNotRead

The same classes are raised by both flavours, and ``httpwire.http11`` raises the same
``LocalProtocolError`` / ``RemoteProtocolError`` (with h11's ``error_status_hint``).
"""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:  # pragma: no cover
    from ._models import Request, Response

__all__ = [
    "HTTPError",
    "TransportError",
    "TimeoutException",
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "PoolTimeout",
    "NetworkError",
    "ConnectError",
    "ReadError",
    "WriteError",
    "CloseError",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "ProxyError",
    "UnsupportedProtocol",
    "HTTPStatusError",
    "TooManyRedirects",
    "InvalidURL",
    "CookieConflict",
    "DecodingError",
    "ResponseTooLarge",
    "StreamError",
    "StreamConsumed",
    "StreamClosed",
    "ResponseNotRead",
    "RequestNotRead",
]


class HTTPError(Exception):
    """Base class of every exception httpwire raises on purpose."""


class TransportError(HTTPError):
    """Sending the request or receiving the response failed below the HTTP semantics."""


class TimeoutException(TransportError, TimeoutError):
    """A deadline expired. Also a builtin :class:`TimeoutError`."""


class ConnectTimeout(TimeoutException):
    """Connecting (DNS, TCP, TLS handshake) did not finish in time."""


class ReadTimeout(TimeoutException):
    """No response bytes arrived in time."""


class WriteTimeout(TimeoutException):
    """The request could not be written in time."""


class PoolTimeout(TimeoutException):
    """No connection of the pool became free in time."""


class NetworkError(TransportError):
    """An operating-system level failure on the connection."""


class ConnectError(NetworkError):
    """The connection could not be established (refused, unreachable, DNS, TLS)."""


class ReadError(NetworkError):
    """Reading from the connection failed (reset, or closed when bytes were due)."""


class WriteError(NetworkError):
    """Writing to the connection failed."""


class CloseError(NetworkError):
    """Closing the connection failed."""


class ProtocolError(TransportError):
    """HTTP was broken, by us or by the peer.

    ``error_status_hint`` follows h11: the status a server could answer with (400 by default).
    """

    def __init__(self, msg: str = "", error_status_hint: int = 400) -> None:
        super().__init__(msg)
        self.error_status_hint = error_status_hint


class LocalProtocolError(ProtocolError):
    """We were asked to send something that would break HTTP; nothing was sent."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something that breaks HTTP."""


class ProxyError(TransportError):
    """The proxy refused or failed to forward the request."""


class UnsupportedProtocol(TransportError):
    """The URL's scheme is not one we speak (``http`` and ``https`` are)."""


class HTTPStatusError(HTTPError):
    """Raised by :meth:`Response.raise_for_status` for 4xx and 5xx responses."""

    def __init__(self, message: str, *, request: Request, response: Response) -> None:
        super().__init__(message)
        self.request = request
        self.response = response


class TooManyRedirects(HTTPError):
    """More redirects than ``max_redirects`` were followed."""


class InvalidURL(HTTPError, ValueError):
    """A URL could not be parsed or is not usable; the message names the part at fault."""


class DecodingError(HTTPError):
    """A response body could not be decoded (gzip, deflate, brotli, zstd, charset, JSON)."""


class CookieConflict(HTTPError):
    """``Cookies.get(name)`` matched several cookies: give ``domain=`` / ``path=`` to choose."""


class ResponseTooLarge(HTTPError):
    """``read()`` / ``.content`` met a body over the ``max_body_size`` the caller set
    (``Client(max_body_size=...)`` or the request extension ``"max_body_size"``). ``limit`` is
    that limit and ``size`` the bytes held when reading stopped (more than ``limit``), both in
    bytes; the response is closed and its connection dropped."""

    def __init__(self, message: str, *, limit: int, size: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.size = size


class StreamError(HTTPError, RuntimeError):
    """A body stream was used in a way it does not allow."""


class StreamConsumed(StreamError):
    """The body was already iterated and cannot be iterated again."""


class StreamClosed(StreamError):
    """The response was closed before its body was read."""


class ResponseNotRead(StreamError):
    """``.content`` / ``.text`` was used on a streamed response before ``read()``."""


class RequestNotRead(StreamError):
    """``.content`` was used on a request with a streaming body before ``read()``."""
