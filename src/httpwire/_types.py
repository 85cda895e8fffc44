"""The types of the public signatures, defined once (httpx's names where httpx has one).

The client's arguments (``AsyncClient``/``Client``, their ``request()``/``get()``/...,
``build_request()``, ``stream()`` and the module-level functions) are annotated with these
aliases, so a type checker sees what each argument takes instead of ``Any``:

- ``URLTypes``: a :class:`URL` or a str.
- ``QueryParamTypes``, ``HeaderTypes``, ``CookieTypes``: what ``params=``, ``headers=`` and
  ``cookies=`` take (defined beside :class:`QueryParams`, :class:`Headers`, :class:`Cookies`).
- ``AuthTypes``: ``(username, password)``, an :class:`Auth`, a callable, or None.
- ``TimeoutTypes``: a :class:`Timeout`, seconds for all four limits, a ``(connect, read[,
  write[, pool]])`` tuple, a dict of some of ``connect``/``read``/``write``/``pool`` seconds,
  or None (no limits).
- ``RequestContent``: bytes, str (UTF-8), a binary file, or an (async) iterable of bytes.
- ``RequestData``: a form, ``{name: value or [values]}`` (values str, bytes, int, float, bool
  or None).
- ``RequestFiles``: multipart files, ``{name: file}`` or ``[(name, file), ...]``, each file a
  binary file, bytes or str, or a ``(filename, file[, content_type[, headers]])`` tuple.
- ``RequestExtensions``: the ``extensions`` dict (httpcore's keys: ``timeout``, ``trace``,
  ``sni_hostname``, ... and httpwire's ``max_body_size``).
- ``VerifyTypes``, ``CertTypes``, ``ProxyTypes``, ``LimitsTypes``: the transport settings.
- ``Transport`` / ``AsyncTransport``: what ``transport=`` and the values of ``mounts=`` take,
  structurally (a :class:`typing.Protocol`): an object with ``send(request) -> Response`` and
  ``close()`` (async: ``async def send``, ``async def aclose``), as the connection pool and
  ``HTTPTransport`` are; or an httpx-style one with ``handle_request(request)`` (async:
  ``handle_async_request``), as ``BaseTransport`` subclasses are (``RequestHandler`` /
  ``AsyncRequestHandler``). ``TransportTypes`` / ``AsyncTransportTypes`` is either.
"""

from __future__ import annotations

import ssl
import typing
from collections.abc import Callable, Mapping, Sequence

from ._auth import AuthTypes
from ._config import Limits, Proxy, _UseClientDefault
from ._content import RequestContent
from ._cookies import CookieTypes
from ._headers import HeaderTypes
from ._models import Request, Response
from ._timeouts import Timeout
from ._urls import URL, PrimitiveData, QueryParamTypes

__all__ = [
    "AsyncRequestHandler",
    "AsyncTransport",
    "AsyncTransportTypes",
    "AuthTypes",
    "CertTypes",
    "CookieTypes",
    "EventHook",
    "FileTypes",
    "HeaderTypes",
    "LimitsTypes",
    "ProxyTypes",
    "QueryParamTypes",
    "RequestContent",
    "RequestData",
    "RequestExtensions",
    "RequestFiles",
    "RequestHandler",
    "TimeoutTypes",
    "Transport",
    "TransportTypes",
    "URLTypes",
    "UseClientDefault",
    "VerifyTypes",
]

URLTypes: typing.TypeAlias = URL | str
TimeoutTypes: typing.TypeAlias = (
    Timeout
    | float
    | tuple[float | None, float | None]
    | tuple[float | None, float | None, float | None]
    | tuple[float | None, float | None, float | None, float | None]
    | dict[str, float | None]
    | None
)
RequestData: typing.TypeAlias = Mapping[
    str, PrimitiveData | bytes | Sequence[PrimitiveData | bytes]
]
FileContent: typing.TypeAlias = typing.IO[bytes] | bytes | str
FileTypes: typing.TypeAlias = (
    FileContent
    | tuple[str | None, FileContent]
    | tuple[str | None, FileContent, str | None]
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles: typing.TypeAlias = Mapping[str, FileTypes] | Sequence[tuple[str, FileTypes]]
RequestExtensions: typing.TypeAlias = dict[str, typing.Any]
VerifyTypes: typing.TypeAlias = ssl.SSLContext | str | bool
CertTypes: typing.TypeAlias = str | tuple[str, str] | tuple[str, str, str]
ProxyTypes: typing.TypeAlias = URL | str | Proxy
LimitsTypes: typing.TypeAlias = Limits | Mapping[str, typing.Any]
#: The type of ``USE_CLIENT_DEFAULT`` (``auth``, ``follow_redirects``, ``timeout`` of a request:
#: "the client's setting").
UseClientDefault: typing.TypeAlias = _UseClientDefault
#: An event hook: called with the request (``"request"``) or the response (``"response"``); a
#: coroutine function in the async flavour.
EventHook: typing.TypeAlias = Callable[..., typing.Any]


@typing.runtime_checkable
class Transport(typing.Protocol):
    """A sync transport: ``send(request)`` returns the :class:`Response` with its body not
    read yet; ``close()`` releases its connections."""

    def send(self, request: Request, /) -> Response: ...

    def close(self) -> None: ...


@typing.runtime_checkable
class AsyncTransport(typing.Protocol):
    """An async transport: ``await send(request)`` returns the :class:`Response` with its body
    not read yet; ``await aclose()`` releases its connections."""

    async def send(self, request: Request, /) -> Response: ...

    async def aclose(self) -> None: ...


@typing.runtime_checkable
class RequestHandler(typing.Protocol):
    """An httpx-style sync transport: ``handle_request(request) -> Response``."""

    def handle_request(self, request: Request, /) -> Response: ...


@typing.runtime_checkable
class AsyncRequestHandler(typing.Protocol):
    """An httpx-style async transport: ``await handle_async_request(request) -> Response``."""

    async def handle_async_request(self, request: Request, /) -> Response: ...


TransportTypes: typing.TypeAlias = Transport | RequestHandler
AsyncTransportTypes: typing.TypeAlias = AsyncTransport | AsyncRequestHandler
