"""httpwire: a fast HTTP client toolkit, sync flavour (threads and blocking sockets).

``ahttpwire`` is the async flavour (asyncio and trio) with the same public names. Layers,
bottom up: ``httpwire.http11`` (sans-I/O HTTP/1.1), network backends, ``timeout()`` blocks,
``Connection`` / ``ConnectionPool``, the models, ``Client`` and the module-level functions.
"""

from . import http11
from ._api import delete, get, head, options, patch, post, put, request, stream
from ._auth import Auth, BasicAuth, DigestAuth, FunctionAuth, NetRCAuth
from ._backends.base import NetworkBackendInterface, NetworkStreamInterface
from ._backends.sync import NetworkBackend, NetworkStream
from ._config import Limits, Proxy
from ._cookies import Cookies
from ._exceptions import (
    CloseError,
    ConnectError,
    ConnectTimeout,
    CookieConflict,
    DecodingError,
    HTTPError,
    HTTPStatusError,
    InvalidURL,
    LocalProtocolError,
    NetworkError,
    PoolTimeout,
    ProtocolError,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    RequestNotRead,
    ResponseNotRead,
    ResponseTooLarge,
    StreamClosed,
    StreamConsumed,
    StreamError,
    TimeoutException,
    TooManyRedirects,
    TransportError,
    UnsupportedProtocol,
    WriteError,
    WriteTimeout,
)
from ._headers import Headers
from ._models import Request, Response
from ._ssl import create_ssl_context
from ._status_codes import codes
from ._streams import AsyncByteStream, ByteStream
from ._sync._client import Client
from ._sync._connection import Connection, open_connection
from ._sync._pool import ConnectionPool
from ._timeouts import TimeoutConfig, timeout
from ._urls import URL, QueryParams
from ._version import __version__

__all__ = [
    "__version__",
    # the client
    "Client",
    "Cookies",
    "BasicAuth",
    "Auth",
    "DigestAuth",
    "FunctionAuth",
    "NetRCAuth",
    "Limits",
    "Proxy",
    "request",
    "get",
    "head",
    "options",
    "post",
    "put",
    "patch",
    "delete",
    "stream",
    # models
    "URL",
    "QueryParams",
    "Headers",
    "Request",
    "Response",
    "ByteStream",
    "AsyncByteStream",
    # transport
    "Connection",
    "ConnectionPool",
    "open_connection",
    "NetworkBackend",
    "NetworkStream",
    "NetworkBackendInterface",
    "NetworkStreamInterface",
    "create_ssl_context",
    "timeout",
    "TimeoutConfig",
    "http11",
    # errors
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
    "StreamError",
    "StreamConsumed",
    "StreamClosed",
    "ResponseNotRead",
    "ResponseTooLarge",
    "RequestNotRead",
    "codes",
]
