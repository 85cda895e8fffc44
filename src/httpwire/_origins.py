"""Origins: the ``(scheme, host, port)`` key connections are pooled under (RFC 6454 section 4).

One home for this fact: the pool, the connections, the HTTP/2 layer and the proxies compute and
print origins here; the default ports are :data:`httpwire._urls.DEFAULT_PORTS`.
"""

from __future__ import annotations

from ._exceptions import UnsupportedProtocol
from ._urls import DEFAULT_PORTS, URL

__all__ = ["Origin", "origin_of", "format_host", "format_origin"]

#: (scheme, host, port): the key connections are pooled under (RFC 6454 origin).
Origin = tuple[str, str, int]

_HTTP_SCHEMES = ("http", "https")


def origin_of(url: URL) -> Origin:
    """The pool key of ``url``; raises ``UnsupportedProtocol`` for schemes other than http(s)
    and for a URL without a host."""
    scheme = url.scheme
    if scheme not in _HTTP_SCHEMES:
        if not scheme:
            raise UnsupportedProtocol(
                f"the URL {str(url)!r} has no scheme: use http:// or https://"
            )
        raise UnsupportedProtocol(f"the URL scheme {scheme!r} is not supported: use http or https")
    host = url.raw_host
    if not host:
        raise UnsupportedProtocol(f"the URL {str(url)!r} has no host")
    # The ASCII (IDNA) host: what DNS, TLS SNI and the pool key use (url.host is Unicode).
    return (scheme, host.decode("ascii"), url.port or DEFAULT_PORTS[scheme])


def format_host(host: str) -> str:
    """``host`` as it appears in a URL: IPv6 literals in brackets (RFC 3986 section 3.2.2)."""
    return f"[{host}]" if ":" in host else host


def format_origin(origin: Origin) -> str:
    """``"https://example.com"``, with the port only when it is not the scheme's default."""
    scheme, host, port = origin
    host = format_host(host)
    if port == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
