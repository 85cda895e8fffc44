"""Small shared pieces: sentinels, bytes coercion, the bounded cache type, and the protocol
error classes."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from .._exceptions import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = [
    "Sentinel",
    "BoundedCache",
    "bytesify",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
]


class Sentinel(type):
    """Metaclass for h11-style sentinels: ``type(X) is X`` and ``repr(X) == "X"``.

    Making each sentinel its own type lets ``type(conn.next_event())`` dispatch on
    ``NEED_DATA`` and ``PAUSED`` exactly like on event classes.
    """

    def __new__(
        cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwds: Any
    ) -> Sentinel:
        assert bases == (Sentinel,)
        v = super().__new__(cls, name, bases, namespace, **kwds)
        v.__class__ = v  # type: ignore[assignment]
        return v

    def __repr__(self) -> str:
        return self.__name__


_K = TypeVar("_K")
_V = TypeVar("_V")


class BoundedCache(dict[_K, _V], Generic[_K, _V]):
    """A module-level cache of things seen before (field lines, names, status lines...),
    bounded so that a peer sending ever-new values cannot grow it.

    Lookups are plain ``dict`` lookups (``cache.get(key)``).  :meth:`put` is the one way in:
    it keeps an entry only if its ``size`` (the caller's measure of the key, in bytes) is at
    most ``max_key_size``, and empties the whole cache first when it holds ``max_entries``
    (entries that vary, such as Date lines, then cost one refill rather than unbounded growth).
    Every http11 cache is one of these.
    """

    __slots__ = ("max_entries", "max_key_size")

    def __init__(self, max_entries: int, max_key_size: int) -> None:
        super().__init__()
        #: The most entries held at once.
        self.max_entries = max_entries
        #: The largest ``size`` kept by :meth:`put`.
        self.max_key_size = max_key_size

    def put(self, key: _K, value: _V, size: int) -> None:
        """Remember ``key -> value`` if ``size <= max_key_size`` (emptying the cache first
        when it is full)."""
        if size <= self.max_key_size:
            if len(self) >= self.max_entries:
                self.clear()
            self[key] = value


def bytesify(s: object) -> bytes:
    """Coerce ``bytes``, a bytes-like object or an ASCII ``str`` to ``bytes``.

    Raises ``TypeError`` for an ``int`` (``bytes(5)`` would silently make five NULs) and
    ``UnicodeEncodeError`` for a non-ASCII ``str``, as h11 does.
    """
    if type(s) is bytes:
        return s
    if isinstance(s, str):
        return s.encode("ascii")
    if isinstance(s, int):
        raise TypeError("expected bytes-like object, not int")
    return bytes(s)  # type: ignore[call-overload,no-any-return]
