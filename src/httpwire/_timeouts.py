"""Deadlines: ``timeout()`` blocks and per-operation limits.

A ``timeout(duration)`` block sets a deadline (``time.monotonic()`` seconds) for every network
operation and every pool wait inside it, at any depth of the stack and in both flavours. Blocks
nest: the earliest deadline in force wins. ``block.cancel()`` lifts that block's deadline (outer
blocks still apply). The deadlines live in a :class:`contextvars.ContextVar`, so each thread and
each asyncio / trio task sees the blocks it was started inside.

When a deadline expires the operation that was waiting raises the exception for what it was
doing: :class:`ConnectTimeout`, :class:`ReadTimeout`, :class:`WriteTimeout` or
:class:`PoolTimeout` (all :class:`TimeoutException`, itself a builtin :class:`TimeoutError`).

The layers below ask :func:`remaining` how long they may wait: the smaller of the operation's own
limit (the ``timeout`` request extension) and the time left to the earliest deadline.
"""

from __future__ import annotations

import contextvars
import time
import types
from typing import Any

__all__ = [
    "timeout",
    "remaining",
    "current_deadline",
    "Timeout",
    "TimeoutConfig",
    "normalize_timeout",
]

_monotonic = time.monotonic


class timeout:  # noqa: N801 - named like trio.move_on_after / asyncio.timeout: a context block
    """A context block with a deadline ``duration`` seconds after it is entered.

    ``duration=None`` sets no deadline (useful to write ``with timeout(config_value):``). Use it as
    ``with httpwire.timeout(5):`` (sync) or ``with`` / ``async with ahttpwire.timeout(5):``.
    The deadline covers everything inside the block: connecting, TLS, waiting for a pooled
    connection, writing the request, and reading the response head and the whole body.

    Raises ``ValueError`` for a negative or NaN duration.
    """

    __slots__ = ("duration", "deadline", "cancelled", "_token")

    def __init__(self, duration: float | None) -> None:
        if duration is not None and not duration >= 0:
            raise ValueError(f"timeout duration must be a number of seconds >= 0, not {duration!r}")
        self.duration = duration
        self.deadline: float | None = None
        self.cancelled = False
        self._token: contextvars.Token[tuple[timeout, ...]] | None = None

    def __enter__(self) -> timeout:
        if self._token is not None:
            raise RuntimeError("a timeout block cannot be entered twice")
        if self.duration is not None:
            self.deadline = _monotonic() + self.duration
        self._token = _blocks.set(_blocks.get() + (self,))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        assert self._token is not None
        _blocks.reset(self._token)

    async def __aenter__(self) -> timeout:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def cancel(self) -> None:
        """Lift this block's deadline; deadlines of enclosing blocks still apply."""
        self.cancelled = True

    @property
    def remaining(self) -> float | None:
        """Seconds left before this block's deadline (never negative), or None if it has none."""
        if self.deadline is None or self.cancelled:
            return None
        return max(0.0, self.deadline - _monotonic())

    def __repr__(self) -> str:
        if self.cancelled:
            state = "cancelled"
        elif self.deadline is None:
            state = "no deadline" if self._token is None or self.duration is None else "?"
        else:
            state = f"{self.deadline - _monotonic():.3f}s left"
        return f"<timeout {self.duration}s [{state}]>"


_blocks: contextvars.ContextVar[tuple[timeout, ...]] = contextvars.ContextVar(
    "httpwire_timeout_blocks", default=()
)


def current_deadline() -> float | None:
    """The earliest deadline (``time.monotonic()`` seconds) of the blocks in force, or None."""
    blocks = _blocks.get()
    if not blocks:
        return None
    best: float | None = None
    for block in blocks:
        d = block.deadline
        if d is not None and not block.cancelled and (best is None or d < best):
            best = d
    return best


def remaining(limit: float | None) -> float | None:
    """How long (seconds) the next operation may wait: ``limit`` or the time to the deadline.

    Returns the smaller of ``limit`` (the operation's own limit, None for none) and the time left
    before the earliest ``timeout()`` deadline; 0.0 when the deadline has already passed; None when
    neither applies (wait forever).
    """
    blocks = _blocks.get()
    if not blocks:
        return limit
    deadline = current_deadline()
    if deadline is None:
        return limit
    left = deadline - _monotonic()
    if left < 0.0:
        left = 0.0
    if limit is None or left < limit:
        return left
    return limit


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


_UNSET: Any = _Unset()


class Timeout:
    """Per-operation limits in seconds (None for no limit): ``connect``, ``read``, ``write``,
    ``pool``. httpx's ``Timeout``, same constructor:

    - ``Timeout(5.0)``: all four 5 s; ``Timeout(None)``: no limits.
    - ``Timeout(10.0, connect=5.0)``: 5 s to connect, 10 s for the others.
    - ``Timeout(connect=5.0, read=60.0, write=60.0, pool=10.0)``: all four by keyword (with no
      default, all four must be given: ``ValueError`` otherwise).
    - ``Timeout((connect, read[, write[, pool]]))`` from a tuple (missing ones: None), or
      ``Timeout(other_timeout)`` (a copy).

    ``read`` bounds each wait for response bytes (an idle gap), not the whole body, so a slow but
    live stream is never cut off; bound a whole exchange with a ``timeout()`` block instead.
    Raises ``ValueError`` for a negative or NaN limit.
    """

    __slots__ = ("connect", "read", "write", "pool")

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None

    def __init__(
        self,
        timeout: Any = _UNSET,
        *,
        connect: Any = _UNSET,
        read: Any = _UNSET,
        write: Any = _UNSET,
        pool: Any = _UNSET,
    ) -> None:
        given = (connect, read, write, pool)
        if isinstance(timeout, Timeout):
            if any(v is not _UNSET for v in given):
                raise TypeError("Timeout(other) takes no keyword limits: use other's copy")
            values: tuple[Any, ...] = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        elif isinstance(timeout, tuple):
            if not 2 <= len(timeout) <= 4:
                raise ValueError(f"a timeout tuple has 2 to 4 items, not {len(timeout)}")
            values = tuple(timeout) + (None,) * (4 - len(timeout))
        elif all(v is not _UNSET for v in given):
            values = given
        else:
            timeout = self._default(timeout)
            values = tuple(timeout if v is _UNSET else v for v in given)
        for key, value in zip(_KEYS, values, strict=True):
            setattr(self, key, _seconds(key, value))

    @staticmethod
    def _default(timeout: Any) -> Any:
        if timeout is _UNSET:
            raise ValueError(
                "Timeout needs a default (Timeout(5.0, connect=2.0)), "
                "or all four of connect, read, write and pool"
            )
        return timeout

    def as_dict(self) -> dict[str, float | None]:
        """The ``timeout`` request extension: ``{"connect": ..., "read": ..., "write": ...,
        "pool": ...}`` (seconds or None)."""
        return {"connect": self.connect, "read": self.read, "write": self.write, "pool": self.pool}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        if len({self.connect, self.read, self.write, self.pool}) == 1:
            return f"Timeout(timeout={self.connect})"
        return "Timeout(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"


class TimeoutConfig(Timeout):
    """The earlier name of :class:`Timeout`, kept working: as ``Timeout``, except that limits
    not given are None (``TimeoutConfig(read=30)``: only a read limit). ``TimeoutConfig(10.0)``
    sets all four limits, as ``Timeout(10.0)`` does (it used to set only ``connect``)."""

    __slots__ = ()

    @staticmethod
    def _default(timeout: Any) -> Any:
        return None if timeout is _UNSET else timeout


def _seconds(key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"timeout {key!r} must be seconds or None, not {type(value).__name__}")
    if not value >= 0:
        raise ValueError(f"timeout {key!r} must be >= 0 seconds, not {value!r}")
    return float(value)


_KEYS = ("connect", "read", "write", "pool")


def normalize_timeout(value: Any) -> dict[str, float | None]:
    """Turn a user's timeout setting into the ``timeout`` request extension dict.

    Accepts None (no limits), a number of seconds (all four limits), a :class:`Timeout` (or
    ``TimeoutConfig``), a tuple ``(connect, read[, write[, pool]])``, or a dict with any of the
    keys ``connect``, ``read``, ``write``, ``pool`` (missing keys: None). Raises ``TypeError``
    for anything else and ``ValueError`` for an unknown key or a negative value.
    """
    if value is None:
        return dict.fromkeys(_KEYS, None)
    if isinstance(value, Timeout):
        return value.as_dict()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not value >= 0:
            raise ValueError(f"timeout must be >= 0 seconds, not {value!r}")
        return dict.fromkeys(_KEYS, float(value))
    if isinstance(value, tuple):
        return Timeout(value).as_dict()
    if isinstance(value, dict):
        unknown = set(value) - set(_KEYS)
        if unknown:
            raise ValueError(f"unknown timeout key(s) {sorted(unknown)}; use {list(_KEYS)}")
        return TimeoutConfig(**value).as_dict()
    raise TypeError(
        f"timeout must be None, seconds, a Timeout, a tuple or a dict, not {type(value).__name__}"
    )
