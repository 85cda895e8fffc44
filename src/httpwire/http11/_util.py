"""Small shared pieces: sentinels, bytes coercion, and the protocol error classes."""

from __future__ import annotations

from typing import Any

from .._exceptions import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = [
    "Sentinel",
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
