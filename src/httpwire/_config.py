"""Client settings shared by both flavours: ``Limits``, the default timeouts and redirects, and
the ``USE_CLIENT_DEFAULT`` marker. Kept out of ``_async/`` so that ``httpwire.Limits is
ahttpwire.Limits``. ``Proxy`` and the proxy environment variables live in ``_proxies`` (imported
here too, for existing imports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._timeouts import TimeoutConfig

__all__ = [
    "USE_CLIENT_DEFAULT",
    "DEFAULT_TIMEOUT",
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

DEFAULT_TIMEOUT = TimeoutConfig(connect=10.0, read=60.0, write=60.0, pool=60.0)
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
