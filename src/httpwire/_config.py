"""Client settings shared by both flavours: ``Limits``, the default timeouts and redirects, and
the ``USE_CLIENT_DEFAULT`` marker. Kept out of ``_async/`` so that ``httpwire.Limits is
ahttpwire.Limits``. ``Proxy`` and the proxy environment variables live in ``_proxies`` (imported
here too, for existing imports)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._timeouts import Timeout
from ._urls import URL

__all__ = [
    "USE_CLIENT_DEFAULT",
    "DEFAULT_TIMEOUT",
    "MountPattern",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_REDIRECTS",
    "Limits",
    "limits_tuple",
    "Proxy",
    "SOCKS_SCHEMES",
    "require_socksio",
    "as_proxy",
    "EnvProxies",
    "env_proxies",
]


class _UseClientDefault:
    """The type of :data:`USE_CLIENT_DEFAULT`: "not given here, use the client's setting"."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"

    def __bool__(self) -> bool:
        return False


USE_CLIENT_DEFAULT: Any = _UseClientDefault()
"""Passed for ``auth``, ``follow_redirects`` and ``timeout`` to mean "the client's setting"
(distinct from ``None``, which for ``timeout`` means no limit and for ``auth`` means none)."""

DEFAULT_TIMEOUT = Timeout(connect=10.0, read=60.0, write=60.0, pool=60.0)
DEFAULT_MAX_REDIRECTS = 20


class Limits:
    """Connection pool limits: ``max_connections`` (open at once, None for no limit),
    ``max_keepalive_connections`` (idle ones kept), ``keepalive_expiry`` (seconds an idle
    connection is kept). Any object with these three attributes, or a dict with these keys, is
    accepted where a ``Limits`` is."""

    __slots__ = ("max_connections", "max_keepalive_connections", "keepalive_expiry")

    def __init__(
        self,
        *,
        max_connections: int | None = 100,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float | None = 5.0,
    ) -> None:
        self.max_connections = max_connections
        self.max_keepalive_connections = max_keepalive_connections
        self.keepalive_expiry = keepalive_expiry

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Limits) and limits_tuple(self) == limits_tuple(other)

    def __repr__(self) -> str:
        return (
            f"Limits(max_connections={self.max_connections!r}, "
            f"max_keepalive_connections={self.max_keepalive_connections!r}, "
            f"keepalive_expiry={self.keepalive_expiry!r})"
        )


DEFAULT_LIMITS = Limits()


def limits_tuple(limits: Any) -> tuple[Any, Any, Any]:
    """``(max_connections, max_keepalive_connections, keepalive_expiry)`` from a
    :class:`Limits` or a dict of its keys. Raises ``ValueError`` for an unknown key and
    ``TypeError`` for anything else."""
    if isinstance(limits, Mapping):
        unknown = set(limits) - set(Limits.__slots__)
        if unknown:
            raise ValueError(
                f"unknown limits key(s) {sorted(unknown)}; use {list(Limits.__slots__)}"
            )
        return (
            limits.get("max_connections", 100),
            limits.get("max_keepalive_connections", None),
            limits.get("keepalive_expiry", 5.0),
        )
    try:
        return (limits.max_connections, limits.max_keepalive_connections, limits.keepalive_expiry)
    except AttributeError:
        raise TypeError(f"limits must be a Limits or a dict, not {type(limits).__name__}") from None


# -- proxies: in _proxies (re-exported here for existing imports) ----------------------------

from ._proxies import (  # noqa: E402
    SOCKS_SCHEMES,
    EnvProxies,
    Proxy,
    as_proxy,
    env_proxies,
    require_socksio,
)

# -- mounts -------------------------------------------------------------------------------------


class MountPattern:
    """One key of ``Client(mounts=...)``: which request URLs a transport serves (httpx's rules).

    ``"all://"`` every URL; ``"https://"`` one scheme; ``"all://example.org"`` one host, any
    scheme; ``"http://example.org:8080"`` one host and port; ``"all://*.example.org"`` the
    subdomains of example.org but not example.org itself; ``"all://*example.org"`` example.org
    and its subdomains. Hosts compare case-insensitively; a port in the pattern matches the
    URL's port, default ports included (``"http://h:80"`` matches ``http://h/``).

    Patterns sort most specific first, as httpx's: with a port before without, then longer
    hosts, then longer schemes (``"all"`` counts as no scheme); ties keep their given order.
    Raises ``ValueError`` for a key that is not in URL form (``"http"`` instead of
    ``"http://"``) or has a bad port.
    """

    __slots__ = ("pattern", "scheme", "host", "port", "_host_regex")

    def __init__(self, pattern: str) -> None:
        scheme, sep, rest = pattern.partition("://")
        if not sep or not scheme:
            raise ValueError(
                f"mount keys are URL forms such as 'http://' or 'all://example.org', "
                f"not {pattern!r}: use {pattern.rstrip(':/') + '://'!r}"
            )
        authority = rest.split("/", 1)[0]
        port: int | None = None
        if authority.startswith("["):  # an IPv6 literal, maybe with a port
            host, _, tail = authority[1:].partition("]")
            port_text = tail[1:] if tail.startswith(":") else ""
        else:
            host, _, port_text = authority.partition(":")
        if port_text:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ValueError(f"mount key {pattern!r}: bad port {port_text!r}")
            port = int(port_text)
        self.pattern = pattern
        self.scheme = "" if scheme.lower() == "all" else scheme.lower()
        host = host.lower()
        self.host = "" if host == "*" else host
        self.port = port
        if not self.host:
            self._host_regex: re.Pattern[str] | None = None
        elif self.host.startswith("*."):
            self._host_regex = re.compile(f"^.+\\.{re.escape(self.host[2:])}$")
        elif self.host.startswith("*"):
            self._host_regex = re.compile(f"^(.+\\.)?{re.escape(self.host[1:])}$")
        else:
            self._host_regex = re.compile(f"^{re.escape(self.host)}$")

    def matches(self, url: URL) -> bool:
        """True when ``url`` is one this pattern covers."""
        if self.scheme and self.scheme != url.scheme:
            return False
        if self._host_regex is not None and not self._host_regex.match(url.host.lower()):
            return False
        if self.port is not None and self.port != url.effective_port:
            return False
        return True

    @property
    def priority(self) -> tuple[int, int, int]:
        """Sort key: most specific first (port, then host length, then scheme length)."""
        return (0 if self.port is not None else 1, -len(self.host), -len(self.scheme))

    def __repr__(self) -> str:
        return f"MountPattern({self.pattern!r})"
