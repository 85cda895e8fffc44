"""``AsyncClient``: the high-level client (both flavours share this source; see scripts/unasync).

The client adds, on top of a transport (by default one :class:`AsyncConnectionPool` per client):
a base URL, default headers and query parameters, cookies, authentication, redirects, timeouts
and event hooks. Response bodies are decoded (Content-Encoding, charset) by :class:`Response`.

Defaults, and why: connect 10 s (a dead or black-holed host fails fast enough to retry), read
60 s per idle gap (not for the whole body: a slow but live stream is never cut off), write 60 s,
pool 60 s. To bound a whole exchange, wrap it in a ``timeout()`` block.
"""

from __future__ import annotations

import functools
import time
import types
import typing
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from .._auth import Auth, EnvNetrc, build_auth, url_auth
from .._config import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_TIMEOUT,
    USE_CLIENT_DEFAULT,
    EnvProxies,
    MountPattern,
    as_proxy,
    env_proxies,
)
from .._cookies import Cookies
from .._decoders import ACCEPT_ENCODING
from .._exceptions import (
    HTTPError,
    InvalidURL,
    RemoteProtocolError,
    StreamConsumed,
    TooManyRedirects,
    UnsupportedProtocol,
)
from .._headers import Headers
from .._models import Request, Response, _max_body_size
from .._ssl import create_ssl_context
from .._stream_context import AsyncStreamContext
from .._streams import AsyncByteStream, BytesStream
from .._timeouts import Timeout, normalize_timeout
from .._types import (
    AsyncTransportTypes,
    AuthTypes,
    CookieTypes,
    EventHook,
    HeaderTypes,
    LimitsTypes,
    ProxyTypes,
    QueryParamTypes,
    RequestContent,
    RequestData,
    RequestExtensions,
    RequestFiles,
    TimeoutTypes,
    UseClientDefault,
    VerifyTypes,
)
from .._urls import URL, QueryParams
from .._version import __version__
from ._transports import AsyncHTTPTransport, transport_sender

__all__ = ["AsyncClient"]


_perf_counter = time.perf_counter


# -- redirects --------------------------------------------------------------------------------

_REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
_DEFAULT_PORTS = {"http": 80, "https": 443}
_BODY_HEADERS = ("content-length", "transfer-encoding", "content-type", "content-encoding")


def _origin(url: URL) -> tuple[str, bytes, int | None]:
    return (url.scheme, url.raw_host.lower(), url.port or _DEFAULT_PORTS.get(url.scheme))


def _keeps_authorization(old: URL, new: URL) -> bool:
    if _origin(old) == _origin(new):
        return True
    # An upgrade of the same host from http to https on the default ports keeps credentials,
    # as httpx and browsers do: the new channel is strictly safer.
    return (
        old.scheme == "http"
        and new.scheme == "https"
        and old.raw_host.lower() == new.raw_host.lower()
        and old.port in (None, 80)
        and new.port in (None, 443)
    )


def _merge_base(base: URL, url: URL) -> URL:
    """A relative ``url`` joined onto ``base`` (whose path ends with ``/``), as httpx does:
    ``base_url="http://h/api/v1"`` + ``"items"`` or ``"/items"`` -> ``http://h/api/v1/items``."""
    path = base.raw_path.split(b"?", 1)[0] + url.raw_path.lstrip(b"/")
    return base.copy_with(raw_path=path)


def _set_request(exc: BaseException, request: Request) -> None:
    """Give an error raised for ``request`` its ``.request`` (httpx's ``exc.request``) when the
    layer that raised it did not know the request."""
    if isinstance(exc, HTTPError) and exc._request is None:
        exc._request = request


def _check_absolute(url: URL) -> None:
    # A URL with a scheme but no host ("http://") is refused by the transport when sent
    # (UnsupportedProtocol from the pool), as in httpx: a MockTransport may accept it.
    if not url.scheme:
        raise UnsupportedProtocol(
            f"request URL {str(url)!r} has no scheme: add 'http://' or 'https://', "
            "or give the client a base_url"
        )


def _warn_per_request_cookies() -> None:
    """httpx 0.28's DeprecationWarning for ``cookies=`` on ``request()`` and the verbs (not on
    ``build_request()`` or ``stream()``, as there): it still works, but whether such cookies
    persist is ambiguous (they do not: the client's jar is not changed)."""
    warnings.warn(
        # httpx's words
        "Setting per-request cookies=<...> is being deprecated, because the expected "
        "behaviour on cookie persistence is ambiguous. Set cookies directly on the client "
        "instance instead.",
        DeprecationWarning,
        stacklevel=3,
    )


def _default_headers(headers: HeaderTypes) -> Headers:
    """The headers every request of a client carries: httpx's defaults, in httpx's order, then
    the client's own ``headers=`` (which replace a default of the same name)."""
    default_headers = Headers(
        {
            # "Connection: keep-alive" is redundant in HTTP/1.1 but kept for parity with httpx
            # (HTTP/2 drops it, RFC 9113 section 8.2.2).
            "Accept": "*/*",
            "Accept-Encoding": ACCEPT_ENCODING,
            "Connection": "keep-alive",
            "User-Agent": f"python-httpwire/{__version__}",
        }
    )
    if headers is not None:
        default_headers.update(Headers(headers))
    return default_headers


class AsyncClient:
    """An HTTP client: connection pooling, redirects, cookies, auth, hooks, timeouts.

    Every argument is keyword-only:

    - ``base_url``: prefix for relative request URLs (see :meth:`build_request`).
    - ``headers``, ``params``, ``cookies``: sent with every request; per-request values are
      merged over them (a request header of the same name replaces the client's).
      ``cookies`` may be a dict, a :class:`Cookies` (shared, not copied) or an
      ``http.cookiejar.CookieJar`` (a ``MozillaCookieJar`` you load and save): the client
      reads and updates that jar.
    - ``auth``: ``(username, password)`` for Basic, an :class:`Auth` (``BasicAuth``,
      ``DigestAuth``, ``NetRCAuth``, your own flow) or a callable (see ``httpwire._auth``).
    - ``verify``, ``cert``, ``http1``, ``http2``, ``proxy``, ``limits``, ``uds``,
      ``local_address``, ``retries``: configure the default transport, an
      :class:`AsyncHTTPTransport` (a connection pool) created here, once; ignored when
      ``transport`` is given.
      ``proxy`` is a URL (``"http://user:pass@proxy:3128"``, ``"socks5://proxy:1080"``) or a
      :class:`Proxy`, used for every request (see docs/proxies.md).
    - ``trust_env`` (default True): without ``proxy`` and ``transport``, take proxies from the
      environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, lower or upper
      case, read once here), per request URL, as httpx and curl do. ``localhost`` is not bypassed
      unless ``NO_PROXY`` says so (httpx's choice). Raises ``ValueError`` naming the variable
      when one holds a proxy URL of another scheme than http / https.
      Also with ``trust_env``: a request sent without ``auth`` and without credentials in its
      URL gets Basic authentication from the ``.netrc`` entry of its host, if any (``$NETRC``,
      else ``~/.netrc``, else ``~/_netrc``; read once, on first use).
    - ``follow_redirects`` (default False) and ``max_redirects`` (default 20).
    - ``timeout``: a :class:`Timeout` (``Timeout(5.0)``, ``Timeout(10.0, connect=5.0)``...),
      seconds for all four limits, a ``(connect, read, write, pool)`` tuple, a dict of
      ``connect``/``read``/``write``/``pool`` seconds, or None for no limits. Default:
      10 / 60 / 60 / 60. ``client.timeout`` reads back a :class:`Timeout`; it applies to every
      request built here and to any request given to :meth:`send` that names none.
    - ``transport``: an :class:`AsyncBaseTransport`, or anything with a
      ``handle_async_request(request)`` or ``send(request)`` method returning a ``Response``,
      and ``aclose()`` (coroutine methods in the async flavour, plain ones in the sync flavour:
      ``handle_request``, ``close``).
    - ``mounts``: ``{pattern: transport}`` routes the request URLs a pattern covers through
      that transport instead (httpx's patterns and precedence, see :class:`MountPattern`:
      ``"http://"``, ``"all://*.example.org"``, ``"https://example.org:8443"`` ...; the most
      specific matching pattern wins; a ``None`` value means the default transport). A mount
      takes precedence over a proxy from the environment. Mounted transports are closed with
      the client.
    - ``event_hooks``: ``{"request": [f(request), ...], "response": [g(response), ...]}``;
      the hooks are coroutine functions in the async flavour, plain ones in the sync flavour.
    - ``default_encoding``: charset for ``response.text`` when the response names none.
    - ``max_body_size`` (default None: no limit): the most bytes ``read()`` / ``.content`` holds
      of a response body, received and decoded; more raises :class:`ResponseTooLarge`. Set per
      request as the extension ``{"max_body_size": n}``. Streaming (``aiter_bytes()``) is not
      limited: it holds one piece at a time.

    Use it as ``async with AsyncClient() as client:``, or call :meth:`aclose` when done.
    Raises ``TypeError`` / ``ValueError`` for malformed settings, naming the argument.
    """

    def __init__(
        self,
        *,
        base_url: URL | str = "",
        headers: HeaderTypes = None,
        params: QueryParamTypes = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes = None,
        verify: VerifyTypes = True,
        cert: str | tuple[str, str] | None = None,
        http1: bool = True,
        http2: bool = False,
        proxy: ProxyTypes | None = None,
        mounts: Mapping[str, AsyncTransportTypes | None] | None = None,
        trust_env: bool = True,
        follow_redirects: bool = False,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        limits: LimitsTypes = DEFAULT_LIMITS,
        transport: AsyncTransportTypes | None = None,
        uds: str | None = None,
        local_address: str | None = None,
        retries: int = 0,
        event_hooks: Mapping[str, Iterable[EventHook]] | None = None,
        default_encoding: str = "utf-8",
        max_body_size: int | None = None,
    ) -> None:
        self._base_url = self._enforce_trailing_slash(URL(base_url)) if base_url else None
        self._trust_env = bool(trust_env)
        self._headers = _default_headers(headers)
        self._params = QueryParams(params) if params is not None else QueryParams()
        self._cookies = cookies if isinstance(cookies, Cookies) else Cookies(cookies)
        self._auth: Auth | None = build_auth(auth)
        # .netrc credentials for requests without auth (trust_env), read on first use.
        self._env_netrc = EnvNetrc() if trust_env else None
        if not isinstance(max_redirects, int) or max_redirects < 0:
            raise ValueError(f"max_redirects must be an int >= 0, not {max_redirects!r}")
        self.follow_redirects = bool(follow_redirects)
        self.max_redirects = max_redirects
        self._timeout = normalize_timeout(timeout)
        hooks = dict(event_hooks or {})
        self.event_hooks = hooks
        self.default_encoding = default_encoding
        self.max_body_size = _max_body_size(max_body_size)
        self._setup_transports(
            transport,
            mounts,
            proxy=proxy,
            trust_env=trust_env,
            verify=verify,
            cert=cert,
            pool_options={
                "limits": limits,
                "http1": http1,
                "http2": http2,
                "uds": uds,
                "local_address": local_address,
                "retries": retries,
            },
        )
        self._closed = False
        # Parsed absolute URLs by their string, so that a loop of ``client.get(same_url)`` does
        # not parse the URL again each time. URL objects are immutable, so sharing is safe.
        self._url_cache: dict[str, URL] = {}

    def _setup_transports(
        self,
        transport: AsyncTransportTypes | None,
        mounts: Mapping[str, AsyncTransportTypes | None] | None,
        *,
        proxy: ProxyTypes | None,
        trust_env: bool,
        verify: VerifyTypes,
        cert: str | tuple[str, str] | None,
        pool_options: dict[str, Any],
    ) -> None:
        """The default transport (a pool made here unless ``transport`` is given, with
        ``pool_options`` as its arguments and a TLS context from ``verify``/``cert``), the
        environment's proxies, and the mounts, most specific pattern first."""
        # Proxies from the environment: a pool per proxy URL, made on first use (see _route).
        self._env_proxies: EnvProxies | None = None
        self._proxy_pools: dict[str, Any] = {}
        self._make_proxy_pool: Callable[[str], Any] | None = None
        if transport is None:
            ssl_context = create_ssl_context(
                verify, cert=cert, http2=pool_options["http2"], trust_env=trust_env
            )

            def make_pool(proxy: Any) -> AsyncHTTPTransport:
                return AsyncHTTPTransport(verify=ssl_context, proxy=proxy, **pool_options)

            transport = make_pool(as_proxy(proxy))
            if proxy is None and trust_env:
                self._env_proxies = env_proxies()
                self._make_proxy_pool = make_pool
        self._transport = transport
        self._send = transport_sender(transport)
        # (pattern, transport, its send function), most specific pattern first (a stable sort).
        self._mounts: list[tuple[MountPattern, Any, Any]] = sorted(
            (
                (
                    MountPattern(key),
                    mounted,
                    self._send if mounted is None else transport_sender(mounted),
                )
                for key, mounted in (mounts or {}).items()
            ),
            key=lambda entry: entry[0].priority,
        )
        self._routed = bool(self._mounts) or self._env_proxies is not None

    # -- settings ------------------------------------------------------------------------------

    @staticmethod
    def _enforce_trailing_slash(url: URL) -> URL:
        path = url.raw_path.split(b"?", 1)[0]
        if path.endswith(b"/"):
            return url
        return url.copy_with(raw_path=path + b"/")

    @property
    def base_url(self) -> URL | None:
        """The base URL (its path always ends with ``/``), or None. Settable (a str or URL)."""
        return self._base_url

    @base_url.setter
    def base_url(self, value: URL | str | None) -> None:
        self._base_url = self._enforce_trailing_slash(URL(value)) if value else None
        self._url_cache.clear()

    @property
    def trust_env(self) -> bool:
        """Whether proxy settings were taken from the environment (``trust_env=``)."""
        return self._trust_env

    @property
    def headers(self) -> Headers:
        """The headers sent with every request (a live, mutable :class:`Headers`)."""
        return self._headers

    @headers.setter
    def headers(self, value: HeaderTypes) -> None:
        self._headers = Headers(value)

    @property
    def params(self) -> QueryParams:
        """The query parameters added to every request."""
        return self._params

    @params.setter
    def params(self, value: QueryParamTypes) -> None:
        self._params = QueryParams(value)

    @property
    def cookies(self) -> Cookies:
        """The cookie jar (live): cookies received are stored here and sent back."""
        return self._cookies

    @cookies.setter
    def cookies(self, value: CookieTypes | None) -> None:
        self._cookies = value if isinstance(value, Cookies) else Cookies(value)

    @property
    def auth(self) -> Auth | None:
        """The authentication applied to each request (None for none)."""
        return self._auth

    @auth.setter
    def auth(self, value: AuthTypes) -> None:
        self._auth = build_auth(value)

    @property
    def timeout(self) -> Timeout:
        """The limits used when a request names none (set it to any form ``timeout=`` takes)."""
        return Timeout(**self._timeout)

    @timeout.setter
    def timeout(self, value: TimeoutTypes) -> None:
        self._timeout = normalize_timeout(value)

    @property
    def event_hooks(self) -> dict[str, list[EventHook]]:
        """The hook lists (live: append to them to add hooks). Settable: ``{"request": [...],
        "response": [...]}`` (a missing kind: no hooks); ``ValueError`` for another kind."""
        return {"request": self._request_hooks, "response": self._response_hooks}

    @event_hooks.setter
    def event_hooks(self, value: Mapping[str, Iterable[EventHook]]) -> None:
        unknown = set(value) - {"request", "response"}
        if unknown:
            raise ValueError(
                f"unknown event hook kind(s) {sorted(unknown)}; use 'request' and 'response'"
            )
        self._request_hooks = list(value.get("request", ()))
        self._response_hooks = list(value.get("response", ()))

    @property
    def transport(self) -> AsyncTransportTypes:
        """The transport requests go through (the client's pool unless one was given). With
        proxies from the environment, the one for URLs that go direct."""
        return self._transport

    def _use_env_proxies(self, env: EnvProxies | None, pools: dict[str, Any]) -> None:
        """Route requests by ``env`` through the given transports (proxy URL -> transport),
        which the client does not own (the module-level API's shared pools). Internal."""
        self._env_proxies = env
        self._proxy_pools = pools
        self._make_proxy_pool = None
        self._routed = bool(self._mounts) or env is not None

    def _route(self, url: URL) -> Any:
        """The send function for ``url`` when there are mounts or proxies from the environment:
        the most specific matching mount, else the environment's proxy for it, else the
        default transport."""
        for pattern, _, sender in self._mounts:
            if pattern.matches(url):
                return sender
        env = self._env_proxies
        if env is None:
            return self._send
        proxy = env.proxy_for(url)
        if proxy is None:
            return self._send
        pool = self._proxy_pools.get(proxy)
        if pool is None:
            assert self._make_proxy_pool is not None
            # setdefault: of two threads making the first pool at once, one pool wins; the
            # other was never used (no connections to close).
            pool = self._proxy_pools.setdefault(proxy, self._make_proxy_pool(proxy))
        return pool.send

    @property
    def is_closed(self) -> bool:
        """True once ``close()`` / ``aclose()`` was called."""
        return self._closed

    # -- building requests ---------------------------------------------------------------------

    def _merge_url(self, url: URL | str) -> URL:
        if isinstance(url, str):
            cached = self._url_cache.get(url)
            if cached is not None:
                return cached
            parsed = URL(url)
            if self._base_url is not None and parsed.is_relative_url:
                parsed = _merge_base(self._base_url, parsed)
            _check_absolute(parsed)
            if len(self._url_cache) >= 256:
                self._url_cache.clear()
            self._url_cache[url] = parsed
            return parsed
        if not isinstance(url, URL):
            raise TypeError(f"url must be a str or URL, not {type(url).__name__}")
        if self._base_url is not None and url.is_relative_url:
            url = _merge_base(self._base_url, url)
        _check_absolute(url)
        return url

    def build_request(
        self,
        method: str,
        url: URL | str,
        *,
        content: RequestContent | None = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        cookies: CookieTypes | None = None,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> Request:
        """A :class:`Request` with the client's base URL, headers, params and timeout merged in.

        Relative ``url`` values are joined onto ``base_url``'s path (``"items"`` and ``"/items"``
        both give ``<base path>/items``). Query ``params`` are added after the client's and the
        URL's own. ``headers`` replace client headers of the same name. ``cookies`` (a dict,
        :class:`Cookies` or ``CookieJar``) are merged over the client's jar into this request's
        ``Cookie`` header (the jar is not changed); otherwise cookies and auth are applied
        later, by :meth:`send`. Raises ``InvalidURL`` for a URL that cannot be parsed.
        """
        full_url = self._merge_url(url)
        if self._params or params is not None:
            merged = self._params.merge(params) if params is not None else self._params
            full_url = full_url.copy_merge_params(merged)
        # Request() copies the headers it is given, so the client's are passed as they are.
        if headers is None:
            merged_headers = self._headers
        else:
            merged_headers = self._headers.copy()
            merged_headers.update(headers)
        if cookies is not None:
            # Per-request cookies with the client's (httpx's merge): the Cookie header is set
            # here, so the jar does not set it again in send(); redirects ask the jar alone.
            merged_cookies = Cookies(self._cookies)
            merged_cookies.update(cookies)
            cookie_header = merged_cookies.header_for(full_url)
            if cookie_header is not None and "cookie" not in merged_headers:
                if merged_headers is self._headers:
                    merged_headers = self._headers.copy()
                merged_headers["Cookie"] = cookie_header
        if extensions is None:
            extensions = {}
        if timeout is not USE_CLIENT_DEFAULT:
            extensions["timeout"] = normalize_timeout(timeout)
        elif "timeout" not in extensions:
            extensions["timeout"] = self._timeout.copy()
        if self.max_body_size is not None and "max_body_size" not in extensions:
            extensions["max_body_size"] = self.max_body_size
        return Request(
            method,
            full_url,
            headers=merged_headers,
            content=content,
            data=data,
            files=files,
            json=json,
            extensions=extensions,
        )

    # -- sending -------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: URL | str,
        *,
        content: RequestContent | None = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> Response:
        """Send a request and read the whole response body; returns the :class:`Response`.

        ``content`` is ``bytes``/``str`` or an iterator of ``bytes`` (sent chunked; in the
        async flavour an async iterator works too);
        ``data`` a form dict (urlencoded); ``files`` multipart uploads; ``json`` any
        JSON-serialisable value. ``auth``, ``follow_redirects`` and ``timeout`` override the
        client's settings for this request (``timeout=None``: no limits).

        Raises the transport errors of ``httpwire`` (``ConnectError``, ``ReadTimeout``, ...),
        ``TooManyRedirects``, ``InvalidURL``, ``DecodingError`` (a body that cannot be decoded),
        and ``RuntimeError`` when the client is closed. A 4xx/5xx response is not an error: see
        :meth:`Response.raise_for_status`.
        """
        if cookies is not None:
            _warn_per_request_cookies()
        request = self.build_request(
            method,
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(request, auth=auth, follow_redirects=follow_redirects)

    def stream(
        self,
        method: str,
        url: URL | str | None = None,
        *,
        content: RequestContent | None = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> AsyncStreamContext:
        """A response whose body is not read yet: ``async with client.stream(...) as response:``
        (httpx's form) or ``async with await client.stream(...) as response:`` (the seed's:
        awaiting gives the response; close it, or use it in ``async with``).

        Iterate ``response.aiter_bytes()`` (decoded), ``aiter_raw()`` or ``response.stream``;
        the response is closed (its connection released) when the block ends. With one
        argument, ``client.stream(url)`` is a GET (as the seed writes it). Arguments and errors
        as :meth:`request`; the request is sent when the result is first awaited or entered.
        """
        if url is None:
            method, url = "GET", method
        request = self.build_request(
            method,
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return AsyncStreamContext(
            functools.partial(
                self.send, request, auth=auth, follow_redirects=follow_redirects, stream=True
            )
        )

    async def send(
        self,
        request: Request,
        *,
        stream: bool = False,
        auth: AuthTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> Response:
        """Send a built :class:`Request`; read the body unless ``stream=True`` (then close the
        response: ``aclose()``, or read it to the end). Applies auth (its flow runs around the
        redirects; the responses it answered, a 401 say, are in ``response.history``), cookies,
        event hooks and, if enabled, redirects (``Authorization`` is kept only while the origin
        stays the same). Raises as :meth:`request`, and ``RuntimeError`` (as httpx) for a body
        of the other flavour: a sync iterator sent by ``ahttpwire``, an async one by ``httpwire``.
        """
        follow = self._check_sendable(request, follow_redirects)
        flow = self._auth_flow(request, auth)
        if flow is not None:
            request = await flow.__anext__()
        # The loop over redirects and auth challenges stays here, not in a helper: a coroutine
        # fewer on every request's path. Its rare branches are methods of their own.
        history: list[Response] = []
        send, routed, cookies = self._send, self._routed, self._cookies
        started = _perf_counter()
        jar_cookie: str | None = None  # the Cookie value the jar set on ``request``
        try:
            while True:
                if jar_cookie is not None or cookies._maybe_nonempty():
                    jar_cookie = self._set_jar_cookie(request, jar_cookie)
                for hook in self._request_hooks:
                    await hook(request)

                if routed:
                    send = self._route(request.url)
                try:
                    response: Response = await send(request)
                except BaseException as exc:
                    _set_request(exc, request)
                    raise
                try:
                    await self._received(request, response, history)
                    if (
                        response.status_code not in _REDIRECT_STATUSES
                        or "location" not in response.headers
                    ):
                        if flow is None:
                            break
                        next_request = await self._answer_challenge(flow, request, response)
                        if next_request is None:
                            flow = None
                            break
                    elif not follow:
                        self._offer_redirect(request, response)
                        break
                    else:
                        next_request = await self._follow_redirect(request, response, history)
                    response.elapsed = timedelta(seconds=_perf_counter() - started)
                except BaseException as exc:
                    _set_request(exc, request)
                    await response.aclose()
                    raise
                await response.aclose()
                history.append(response)
                request = next_request
                started = _perf_counter()
        finally:
            if flow is not None:
                await flow.aclose()

        if stream:
            response.stream = AsyncElapsedStream(response.stream, response, started)
            return response
        try:
            await response.aread()
        except BaseException as exc:
            _set_request(exc, request)
            await response.aclose()
            raise
        response.elapsed = timedelta(seconds=_perf_counter() - started)
        return response

    # -- the steps of send() -------------------------------------------------------------------

    def _check_sendable(self, request: Request, follow_redirects: bool | UseClientDefault) -> bool:
        """Refuse a request this client cannot send (``RuntimeError``); give a request built
        elsewhere (``Request(...)``) the client's limits, not none at all. Returns whether to
        follow redirects (``follow_redirects``, or the client's setting)."""
        if self._closed:
            raise RuntimeError("cannot send a request: the client has been closed")
        if not isinstance(request.stream, AsyncByteStream):
            # httpx's exception class: a body iterator of the other flavour cannot be sent.
            raise RuntimeError(
                f"cannot send a {type(request.stream).__name__} body with an ahttpwire client, "
                f"which sends {AsyncByteStream.__name__} bodies: pass an iterator of the "
                "client's flavour (or bytes, or a file)"
            )
        if "timeout" not in request.extensions:
            request.extensions["timeout"] = self._timeout.copy()
        if follow_redirects is USE_CLIENT_DEFAULT:
            return self.follow_redirects
        return bool(follow_redirects)

    def _auth_flow(
        self, request: Request, auth: AuthTypes | UseClientDefault
    ) -> AsyncGenerator[Request, Response] | None:
        """The auth flow of this request (not started), or None for no auth. The auth is
        ``auth=`` as given, else the client's, else credentials in the URL (Basic), else
        ``.netrc`` under ``trust_env``."""
        auth_obj = self._auth if auth is USE_CLIENT_DEFAULT else build_auth(auth)
        if auth_obj is None:
            if request.url.userinfo:
                auth_obj = url_auth(request.url.username, request.url.password)
            elif self._env_netrc is not None:
                auth_obj = self._env_netrc.auth_for(request.url)
        return None if auth_obj is None else auth_obj.async_auth_flow(request)

    def _set_jar_cookie(self, request: Request, jar_cookie: str | None) -> str | None:
        """Set the jar's ``Cookie`` on ``request`` unless the caller set one; returns the value
        set (None for none). ``jar_cookie`` is what the jar set on an earlier send of the same
        request (an auth flow sends it again): the jar decides anew, the 401 may set cookies."""
        if jar_cookie is not None and request.headers.get("cookie") == jar_cookie:
            del request.headers["cookie"]
        if "cookie" in request.headers:
            return None
        value = self._cookies.header_for(request.url)
        if value is not None:
            request.headers["Cookie"] = value
        return value

    async def _received(
        self, request: Request, response: Response, history: list[Response]
    ) -> None:
        """What every response gets before anything else looks at it: its request, the
        client's default encoding, the history so far, the cookies it sets, the hooks."""
        response.request = request
        if self.default_encoding != "utf-8":
            response.default_encoding = self.default_encoding
        if history:
            response.history = list(history)
        if "set-cookie" in response.headers:
            self._cookies.extract(response.headers.get_list("set-cookie"), request.url)
        for hook in self._response_hooks:
            await hook(response)

    async def _answer_challenge(
        self, flow: AsyncGenerator[Request, Response], request: Request, response: Response
    ) -> Request | None:
        """The auth flow's next request for ``response`` (its body read for the history), or
        None when the flow is done. Raises ``StreamConsumed`` when the flow must send a one-shot
        body again."""
        try:
            next_request = await flow.asend(response)
        except StopAsyncIteration:
            return None
        body = next_request.stream
        if (
            body is request.stream
            and not isinstance(body, BytesStream)
            and not getattr(body, "replayable", False)
        ):
            raise StreamConsumed(
                "cannot answer the authentication challenge: the request must "
                "be sent again and its body was a one-shot stream; send bytes "
                "or a seekable file, or set requires_request_body on the Auth"
            )
        await response.aread()
        return next_request

    def _offer_redirect(self, request: Request, response: Response) -> None:
        """Redirects not followed: ``response.next_request`` is the request it asks for, when
        its Location is one we could follow (a bad one is the caller's to judge)."""
        try:
            response.next_request = self._build_redirect_request(request, response)
        except (RemoteProtocolError, UnsupportedProtocol, StreamConsumed):
            pass

    async def _follow_redirect(
        self, request: Request, response: Response, history: list[Response]
    ) -> Request:
        """The request ``response`` redirects to; raises ``TooManyRedirects`` past
        ``max_redirects``. The redirect's body is drained raw and dropped, so the connection
        goes back to the pool: a body that decompresses hugely is never decoded or held (a
        redirect response in the history has no ``.content``)."""
        if len(history) >= self.max_redirects:
            raise TooManyRedirects(
                f"exceeded max_redirects={self.max_redirects} (last: "
                f"{response.status_code} to {response.headers['location']!r})"
            )
        next_request = self._build_redirect_request(request, response)
        if not response.is_stream_consumed:  # in memory: nothing to drain
            async for _ in response.aiter_raw():
                pass
        return next_request

    def _build_redirect_request(self, request: Request, response: Response) -> Request:
        """The request a 3xx response with a Location asks for (RFC 9110 section 15.4)."""
        location = response.headers["location"]
        try:
            url = request.url.join(location)
            if url.scheme and not url.host:
                # A malformed absolute Location without a host ("https://:443/"): the
                # request's host, as httpx does (its issue 771), not a URL nothing can send.
                url = url.copy_with(host=request.url.raw_host.decode("ascii"))
        except InvalidURL as exc:
            raise RemoteProtocolError(f"invalid redirect Location {location!r}: {exc}") from exc
        if url.scheme not in _DEFAULT_PORTS:
            # httpx's words (code compares them); the Location is in response.headers
            raise UnsupportedProtocol(f"Scheme {url.scheme!r} not supported.")
        if not url.fragment and request.url.fragment:
            # RFC 9110 section 10.2.2: a Location without a fragment inherits the original one.
            url = url.copy_with(fragment=request.url.fragment)

        method = request.method
        status = response.status_code
        if status in (301, 302, 303) and method != "HEAD":
            # 303 always, and 301/302 as every browser does for POST (RFC 9110 15.4.2/15.4.3).
            method = "GET"

        headers = request.headers.copy()
        if not _keeps_authorization(request.url, url):
            headers.pop("authorization", None)
        if _origin(request.url) != _origin(url):
            headers.pop("host", None)
        # The jar decides the Cookie header of the next request, not the previous request's.
        headers.pop("cookie", None)

        stream: Any = None
        if method != request.method or method in ("GET", "HEAD"):
            for name in _BODY_HEADERS:
                headers.pop(name, None)
        else:
            stream = request.stream
            if not isinstance(stream, BytesStream) and not getattr(stream, "replayable", False):
                raise StreamConsumed(
                    f"cannot follow the {status} redirect to {url}: it must send the request "
                    "body again, and the body was a stream that cannot be replayed; send bytes "
                    "or a seekable file instead, or use follow_redirects=False and resend "
                    "yourself"
                )
        return Request(
            method, url, headers=headers, stream=stream, extensions=dict(request.extensions)
        )

    # -- verbs ---------------------------------------------------------------------------------

    async def get(
        self,
        url: URL | str,
        *,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> Response:
        """``GET url``; see :meth:`request`."""
        if cookies is not None:
            _warn_per_request_cookies()
        request = self.build_request(
            "GET",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(request, auth=auth, follow_redirects=follow_redirects)

    async def head(
        self,
        url: URL | str,
        *,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> Response:
        """``HEAD url``; see :meth:`request`."""
        if cookies is not None:
            _warn_per_request_cookies()
        request = self.build_request(
            "HEAD",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(request, auth=auth, follow_redirects=follow_redirects)

    async def options(
        self,
        url: URL | str,
        *,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> Response:
        """``OPTIONS url``; see :meth:`request`."""
        if cookies is not None:
            _warn_per_request_cookies()
        request = self.build_request(
            "OPTIONS",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(request, auth=auth, follow_redirects=follow_redirects)

    async def delete(
        self,
        url: URL | str,
        *,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> Response:
        """``DELETE url``; see :meth:`request`."""
        if cookies is not None:
            _warn_per_request_cookies()
        request = self.build_request(
            "DELETE",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(request, auth=auth, follow_redirects=follow_redirects)

    async def post(
        self,
        url: URL | str,
        *,
        content: RequestContent | None = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> Response:
        """``POST url`` with a body; see :meth:`request`."""
        if cookies is not None:
            _warn_per_request_cookies()
        request = self.build_request(
            "POST",
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(request, auth=auth, follow_redirects=follow_redirects)

    async def put(
        self,
        url: URL | str,
        *,
        content: RequestContent | None = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> Response:
        """``PUT url`` with a body; see :meth:`request`."""
        if cookies is not None:
            _warn_per_request_cookies()
        request = self.build_request(
            "PUT",
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(request, auth=auth, follow_redirects=follow_redirects)

    async def patch(
        self,
        url: URL | str,
        *,
        content: RequestContent | None = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> Response:
        """``PATCH url`` with a body; see :meth:`request`."""
        if cookies is not None:
            _warn_per_request_cookies()
        request = self.build_request(
            "PATCH",
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(request, auth=auth, follow_redirects=follow_redirects)

    # -- lifetime ------------------------------------------------------------------------------

    def _owned_transports(self) -> list[Any]:
        """The transports the client closes: its own, the mounted ones, and the pools it made
        for environment proxies; each once, in that order."""
        owned = [self._transport]
        owned.extend(mounted for _, mounted, _ in self._mounts if mounted is not None)
        if self._make_proxy_pool is not None:  # pools made here for environment proxies
            owned.extend(self._proxy_pools.values())
        return list(dict.fromkeys(owned))

    async def aclose(self) -> None:
        """Close the transports (their pooled connections). Closing twice is allowed."""
        if self._closed:
            return
        self._closed = True
        for transport in self._owned_transports():
            close = getattr(transport, "aclose", None)
            if close is not None:
                await close()

    async def __aenter__(self) -> typing.Self:
        """Enter the client and, as httpx does, its transport and mounted transports (those
        with ``__aenter__``)."""
        if self._closed:
            raise RuntimeError("cannot reopen a closed client")
        for transport in self._owned_transports():
            enter = getattr(transport, "__aenter__", None)
            if enter is not None:
                await enter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> None:
        """Close the client: exit each transport entered (``__aexit__``), close the others."""
        if self._closed:
            return
        self._closed = True
        for transport in self._owned_transports():
            exit_ = getattr(transport, "__aexit__", None)
            if exit_ is not None:
                await exit_(exc_type, exc, tb)
            else:
                close = getattr(transport, "aclose", None)
                if close is not None:
                    await close()

    def __repr__(self) -> str:
        state = "CLOSED" if self._closed else "OPEN"
        base = f" base_url={str(self._base_url)!r}" if self._base_url is not None else ""
        return f"<{type(self).__name__}{base} [{state}]>"


class AsyncElapsedStream(AsyncByteStream):
    """Wraps a streamed response's body to set ``response.elapsed`` when it is closed."""

    __slots__ = ("_stream", "_response", "_started")

    def __init__(self, stream: Any, response: Response, started: float) -> None:
        self._stream = stream
        self._response = response
        self._started = started

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except BaseException as exc:
            _set_request(exc, self._response.request)
            raise

    async def aclose(self) -> None:
        """Close the body stream and set ``response.elapsed`` (seconds since the request was
        sent, as a ``timedelta``)."""
        self._response.elapsed = timedelta(seconds=_perf_counter() - self._started)
        await self._stream.aclose()
