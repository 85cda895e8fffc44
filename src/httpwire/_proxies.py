"""Proxies, shared by both flavours: ``Proxy`` (what ``proxy=`` takes), the proxy environment
variables (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``: :func:`env_proxies`) and
the SOCKS extra's check. Kept out of ``_async/`` so that ``httpwire.Proxy is ahttpwire.Proxy``.
How requests go through a proxy is ``_async/_proxy.py``'s; see docs/proxies.md."""

from __future__ import annotations

import ipaddress
import os
import typing
from collections.abc import Mapping
from typing import Any

from ._auth import basic_auth_header
from ._headers import Headers
from ._urls import DEFAULT_PORTS, URL

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

__all__ = [
    "Proxy",
    "SOCKS_SCHEMES",
    "require_socksio",
    "as_proxy",
    "EnvProxies",
    "env_proxies",
]

# -- proxies ------------------------------------------------------------------------------------

_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
# RFC 1928 section 3: SOCKS servers listen on 1080; http(s) as for any URL.
_PROXY_DEFAULT_PORTS = {**DEFAULT_PORTS, "socks5": 1080, "socks5h": 1080}
SOCKS_SCHEMES = frozenset({"socks5", "socks5h"})


def require_socksio() -> None:
    """Import ``socksio``; raise ``ImportError`` naming the extra to install when it is missing."""
    try:
        import socksio  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "SOCKS proxies need the 'socksio' package: install it with "
            "`pip install 'httpwire[socks]'`"
        ) from exc


class Proxy:
    """A forward proxy, as ``proxy=`` of ``Client`` and ``ConnectionPool`` takes it (same shape as
    ``httpx.Proxy``).

    - ``url``: ``"http://host:port"`` (plain TCP to the proxy), ``"https://host:port"`` (TLS to
      the proxy itself), or ``"socks5://host:port"`` (SOCKS5, RFC 1928; ``socks5h://`` is the
      same: host names are always resolved by the proxy). Credentials in the URL
      (``http://user:pass@host:port``) become ``auth`` and are removed from ``url``.
    - ``auth``: ``(username, password)`` sent as ``Proxy-Authorization: Basic`` (RFC 9110 section
      11.7.2, RFC 7617): on every forwarded ``http://`` request and on each CONNECT, never to the
      target server. For SOCKS5: username/password authentication (RFC 1929).
    - ``headers``: more headers for the proxy (same rule: forwarded requests and CONNECTs only;
      unused by SOCKS5).
    - ``ssl_context``: for TLS to an ``https://`` proxy (default: the system trust store via the
      shared default context). The client's ``verify=`` applies to target servers only, as in httpx.

    Raises ``ValueError`` for a URL whose scheme is not http, https, socks5 or socks5h, or that
    has no host; ``InvalidURL`` for a URL that does not parse.
    """

    __slots__ = ("url", "auth", "headers", "ssl_context", "raw_headers")

    url: URL
    auth: tuple[str | bytes, str | bytes] | None
    headers: Headers
    ssl_context: ssl.SSLContext | None
    #: Every header sent to the proxy, ``Proxy-Authorization`` included (raw bytes pairs).
    raw_headers: list[tuple[bytes, bytes]]

    def __init__(
        self,
        url: URL | str,
        *,
        auth: tuple[str | bytes, str | bytes] | None = None,
        headers: Any = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        url = url if isinstance(url, URL) else URL(url)
        if url.scheme not in _PROXY_SCHEMES:
            raise ValueError(
                f"unsupported proxy URL scheme {url.scheme!r} in {str(url)!r}:"
                " use http://, https:// or socks5://"
            )
        if not url.host:
            raise ValueError(f"the proxy URL {str(url)!r} has no host")
        if url.userinfo:
            if auth is None:
                auth = (url.username, url.password)
            url = url.copy_with(userinfo="")
        self.url = url
        self.auth = auth
        self.headers = Headers(headers)
        self.ssl_context = ssl_context
        raw = list(self.headers.raw)
        if auth is not None and "proxy-authorization" not in self.headers:
            raw.append((b"Proxy-Authorization", basic_auth_header(auth[0], auth[1])))
        self.raw_headers = raw

    @property
    def origin(self) -> tuple[str, str, int]:
        """``(scheme, host, port)`` of the proxy itself, the port filled in (80 / 443 / 1080)."""
        url = self.url
        # The ASCII (IDNA) host, which DNS and TLS use (url.host is Unicode).
        return (
            url.scheme,
            url.raw_host.decode("ascii"),
            url.port or _PROXY_DEFAULT_PORTS[url.scheme],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Proxy):
            return NotImplemented
        return (
            self.url == other.url
            and self.raw_headers == other.raw_headers
            and self.ssl_context is other.ssl_context
        )

    def __hash__(self) -> int:
        return hash((str(self.url), tuple(self.raw_headers), id(self.ssl_context)))

    def __repr__(self) -> str:
        auth = f", auth=({self.auth[0]!r}, '********')" if self.auth is not None else ""
        return f"Proxy({str(self.url)!r}{auth})"


def as_proxy(value: Any) -> Proxy | None:
    """``proxy=`` as given (None, a URL string, a ``URL`` or a ``Proxy``) -> a ``Proxy`` or None.
    Raises ``TypeError`` for anything else, ``ValueError`` / ``InvalidURL`` for a bad URL."""
    if value is None or isinstance(value, Proxy):
        return value
    if isinstance(value, str | URL):
        return Proxy(value)
    raise TypeError(f"proxy must be a URL string, a URL or a Proxy, not {type(value).__name__}")


# A NO_PROXY entry: (scheme or None for all, kind, value, port or None for any port).
_Bypass = tuple[str | None, str, Any, int | None]


def _parse_no_proxy_entry(entry: str) -> _Bypass | None:
    """One comma-separated entry of NO_PROXY, as curl and urllib read them: ``example.com``
    (that host and its subdomains; a leading ``.`` or ``*.`` changes nothing), ``host:port``,
    an IPv4 / IPv6 address (``::1`` or ``[::1]:8080``), a CIDR block (``10.0.0.0/8``), or
    ``scheme://host`` (httpx's form) for one scheme only. Unreadable entries are ignored."""
    scheme = None
    if "://" in entry:
        scheme, _, entry = entry.partition("://")
        entry = entry.rstrip("/")
    port: int | None = None
    host = entry
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
        if not port_text.isdigit():
            return None
        port = int(port_text)
    if not host:
        return None
    if "/" in host:
        try:
            return (scheme, "net", ipaddress.ip_network(host, strict=False), port)
        except ValueError:
            return None
    try:
        return (scheme, "ip", ipaddress.ip_address(host), port)
    except ValueError:
        pass
    name = host.lstrip("*").lstrip(".")
    return (scheme, "name", name, port) if name else None


class EnvProxies:
    """The proxy settings of the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``,
    ``NO_PROXY``), as :func:`env_proxies` reads them; :meth:`proxy_for` picks the proxy of a URL.
    """

    __slots__ = ("http", "https", "all", "_bypass", "_cache")

    def __init__(
        self, http: str | None, https: str | None, all: str | None, bypass: list[_Bypass]
    ) -> None:
        self.http = http
        self.https = https
        self.all = all
        self._bypass = bypass
        self._cache: dict[tuple[str, str, int | None], str | None] = {}

    def __bool__(self) -> bool:
        return bool(self.http or self.https or self.all)

    def __repr__(self) -> str:
        return f"EnvProxies(http={self.http!r}, https={self.https!r}, all={self.all!r})"

    @property
    def urls(self) -> list[str]:
        """The distinct proxy URLs the environment names."""
        return list(dict.fromkeys(u for u in (self.http, self.https, self.all) if u))

    def proxy_for(self, url: URL) -> str | None:
        """The proxy URL for a request to ``url``, or None to connect directly (NO_PROXY, or no
        proxy for its scheme)."""
        key = (url.scheme, url.host, url.port)
        try:
            return self._cache[key]
        except KeyError:
            pass
        scheme = url.scheme
        proxy = self.https if scheme == "https" else self.http if scheme == "http" else None
        proxy = proxy or self.all
        if proxy and self._bypassed(scheme, url.host, url.effective_port):
            proxy = None
        if len(self._cache) >= 256:
            self._cache.clear()
        self._cache[key] = proxy
        return proxy

    def _bypassed(self, scheme: str, host: str, port: int | None) -> bool:
        host = host.lower().rstrip(".")
        address: Any = None
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            pass
        for entry_scheme, kind, value, entry_port in self._bypass:
            if entry_scheme is not None and entry_scheme != scheme:
                continue
            if entry_port is not None and entry_port != port:
                continue
            if kind == "name":
                if host == value or host.endswith("." + value):
                    return True
            elif address is None:
                continue
            elif kind == "ip":
                if address == value:
                    return True
            elif address.version == value.version and address in value:
                return True
        return False


def _env_value(environ: Mapping[str, str], name: str) -> str:
    # urllib's rules: the lower-case variable wins, even when empty (it then unsets the proxy);
    # under CGI (REQUEST_METHOD set) HTTP_PROXY may come from a request's "Proxy:" header
    # (httpoxy, CVE-2016-1000110), so only the lower-case http_proxy counts there.
    lower = environ.get(f"{name}_proxy")
    if lower is not None:
        return lower.strip()
    if name == "http" and "REQUEST_METHOD" in environ:
        return ""
    return environ.get(f"{name.upper()}_PROXY", "").strip()


def _env_proxy_url(value: str, variable: str) -> str | None:
    if not value:
        return None
    if "://" not in value:
        value = "http://" + value  # "proxy:3128" means an http:// proxy, as curl and httpx read it
    try:
        if Proxy(value).url.scheme in SOCKS_SCHEMES:
            require_socksio()
    except ImportError as exc:
        raise ImportError(f"{variable}: {exc} (or pass trust_env=False)") from None
    except ValueError as exc:
        raise ValueError(
            f"{variable}: {exc} (or pass trust_env=False to ignore the environment)"
        ) from None
    return value


def env_proxies(environ: Mapping[str, str] | None = None) -> EnvProxies | None:
    """Read the proxy environment variables (``os.environ`` by default).

    ``http_proxy`` / ``HTTP_PROXY`` for ``http://`` URLs, ``https_proxy`` / ``HTTPS_PROXY`` for
    ``https://`` URLs, ``all_proxy`` / ``ALL_PROXY`` for either when the scheme's own is unset;
    ``no_proxy`` / ``NO_PROXY`` lists hosts to reach directly (see docs/proxies.md). Returns None
    when no proxy applies at all (nothing set, or ``NO_PROXY=*``). Raises ``ValueError`` naming
    the variable when a proxy URL has a scheme other than http / https / socks5 / socks5h, and
    ``ImportError`` for a SOCKS proxy when ``socksio`` is missing.
    """
    if environ is None:
        environ = os.environ
    http = _env_proxy_url(_env_value(environ, "http"), "HTTP_PROXY")
    https = _env_proxy_url(_env_value(environ, "https"), "HTTPS_PROXY")
    all_ = _env_proxy_url(_env_value(environ, "all"), "ALL_PROXY")
    if not (http or https or all_):
        return None
    bypass: list[_Bypass] = []
    for raw in _env_value(environ, "no").split(","):
        entry = raw.strip().lower()
        if entry == "*":
            return None
        if entry:
            parsed = _parse_no_proxy_entry(entry)
            if parsed is not None:
                bypass.append(parsed)
    return EnvProxies(http, https, all_, bypass)
