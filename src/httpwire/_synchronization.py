"""The few synchronisation primitives the shared layers need, per flavour.

The async source (``_async/``) uses the ``Async*`` names; ``scripts/unasync`` turns them into
the plain names below, which are the thread-based twins.

- ``StateLock``: guards the pool's bookkeeping. Those sections never wait on I/O, so in the async
  flavour (one event loop, no await inside) ``AsyncStateLock`` is a no-op; in the sync flavour it
  is a ``threading.Lock``.
- ``Waiter``: a one-shot hand-off from a releasing request to a queued one (``set(value)`` once,
  ``wait(seconds)`` -> True when set, False on timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import types
import typing
from typing import Any

__all__ = ["StateLock", "AsyncStateLock", "Waiter", "AsyncWaiter", "running_loop"]


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop, or None (then trio runs: ahttpwire runs on asyncio or trio).

    The one place the shared layers tell the runtimes apart (``_backends.auto`` asks it first
    too); a primitive asks once, when it is made, never per operation."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# The sync twin's state lock is a plain threading.Lock: its C-level __enter__/__exit__ cost a
# fraction of a Python wrapper's, on every acquire and release of a pooled connection.
StateLock = threading.Lock


class AsyncStateLock:
    """No-op: within one event loop, code between two awaits cannot interleave."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        return None


class Waiter:
    """One-shot hand-off between threads."""

    __slots__ = ("_lock", "value", "is_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self.value: Any = None
        self.is_set = False

    def set(self, value: Any) -> None:
        """Hand ``value`` over (once) and wake the waiting thread."""
        self.value = value
        self.is_set = True
        self._lock.release()

    def wait(self, timeout: float | None, limit: float | None = None) -> bool:
        """Block until ``set()`` (True) or ``timeout`` seconds pass (False); None: no limit.

        ``limit`` is the configured limit ``timeout`` was derived from (used on trio only).
        """
        if timeout is None:
            return self._lock.acquire()
        return self._lock.acquire(timeout=timeout)


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class AsyncWaiter:
    """One-shot hand-off between tasks of one event loop (asyncio; trio through its own event)."""

    __slots__ = ("_fut", "_trio_event", "value", "is_set")

    def __init__(self) -> None:
        self.value: Any = None
        self.is_set = False
        self._trio_event: Any = None
        loop = running_loop()
        self._fut: asyncio.Future[None] | None = None
        if loop is not None:
            self._fut = loop.create_future()
        else:
            import trio

            self._trio_event = trio.Event()

    def set(self, value: Any) -> None:
        """Hand ``value`` over (once) and wake the waiting task."""
        self.value = value
        self.is_set = True
        if self._fut is not None:
            if not self._fut.done():
                self._fut.set_result(None)
        else:
            self._trio_event.set()

    async def wait(self, timeout: float | None, limit: float | None = None) -> bool:
        """Wait until ``set()`` (True) or ``timeout`` seconds pass (False); None: no limit.

        ``limit`` is the configured limit ``timeout`` was derived from (``remaining(limit)``):
        on trio, when they are equal, the deadline goes to the run's shared timer rather than
        trio's deadline heap (see ``_backends/_trio_timer.py``).
        """
        if self.is_set:
            return True
        if self._fut is None:
            from ._backends._trio_timer import deadline_scope

            with deadline_scope(timeout, limit):
                await self._trio_event.wait()
            return self.is_set
        # The future is this waiter's alone, so it is awaited directly (no shield), and the
        # timeout is one timer that completes it (no asyncio.timeout context): both are on the
        # path of every queued request. A cancelled task cancels the future; set() then only
        # records the value, which the pool takes back in _abandon().
        fut = self._fut
        if timeout is None:
            await fut
        else:
            loop = fut.get_loop()
            handle = loop.call_at(loop.time() + timeout, _wake, fut)
            try:
                await fut
            finally:
                handle.cancel()
        return self.is_set


# -- HTTP/2: a lock held across I/O, and a resettable wake-up per stream ------------------------
#
# ``Lock`` / ``AsyncLock`` serialise frame writes on one HTTP/2 connection (the holder awaits the
# network). ``Signal`` / ``AsyncSignal`` wake one stream's task when frames for it arrived:
# ``clear()`` then ``wait(seconds)`` -> True once ``set()``, False on timeout. The async twins pick
# asyncio or trio when constructed (each connection is bound to the runtime that opened it).

__all__ += ["Lock", "AsyncLock", "Signal", "AsyncSignal"]


class Lock:
    """A ``threading.Lock`` used as ``with lock:`` around I/O."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self._lock.release()


class AsyncLock:
    """``async with lock:``; an ``asyncio.Lock`` or a ``trio.Lock`` for the running runtime."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock: Any
        if running_loop() is None:
            import trio

            self._lock = trio.Lock()
        else:
            self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self._lock.release()


class Signal:
    """A resettable wake-up between threads (``threading.Event``)."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def wait(self, timeout: float | None, limit: float | None = None) -> bool:
        """Wait until set (True) or ``timeout`` seconds pass (False); ``limit`` as in Waiter."""
        return self._event.wait(timeout)


def _expire_signal(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class AsyncSignal:
    """A resettable wake-up between tasks of one event loop (asyncio, or trio)."""

    __slots__ = ("_is_set", "_fut", "_loop", "_trio_event")

    def __init__(self) -> None:
        self._is_set = False
        self._fut: asyncio.Future[None] | None = None
        self._trio_event: Any = None
        self._loop = running_loop()
        if self._loop is None:
            import trio

            self._trio_event = trio.Event()

    def set(self) -> None:
        if self._is_set:
            return
        self._is_set = True
        if self._loop is None:
            self._trio_event.set()
            return
        fut = self._fut
        if fut is not None:
            self._fut = None
            if not fut.done():
                fut.set_result(None)

    def clear(self) -> None:
        if self._is_set:
            self._is_set = False
            if self._loop is None:
                import trio

                self._trio_event = trio.Event()

    async def wait(self, timeout: float | None, limit: float | None = None) -> bool:
        """Wait until set (True) or ``timeout`` seconds pass (False); ``limit`` as in AsyncWaiter."""
        if self._is_set:
            return True
        loop = self._loop
        if loop is None:
            from ._backends._trio_timer import deadline_scope

            with deadline_scope(timeout, limit):
                await self._trio_event.wait()
            return self._is_set
        fut = self._fut
        if fut is None or fut.done():
            fut = self._fut = loop.create_future()
        if timeout is None:
            await fut
            return self._is_set
        timer = loop.call_later(timeout, _expire_signal, fut)
        try:
            await fut
        finally:
            timer.cancel()
        return self._is_set


__all__ += ["Checkpoint", "AsyncCheckpoint"]


class Checkpoint:
    """No-op in the sync flavour: threads interleave without being asked to."""

    __slots__ = ()

    def __call__(self) -> None:
        return None


class AsyncCheckpoint:
    """``await checkpoint()`` lets every other ready task of the loop run first (asyncio's
    ``sleep(0)``, trio's ``checkpoint()``). HTTP/2 uses it to gather the frames that concurrent
    requests queue in one pass of the event loop into a single write."""

    __slots__ = ("_sleep0",)

    def __init__(self) -> None:
        self._sleep0: Any
        if running_loop() is None:
            import trio

            self._sleep0 = trio.lowlevel.checkpoint
        else:
            self._sleep0 = _asyncio_sleep0

    async def __call__(self) -> None:
        await self._sleep0()


async def _asyncio_sleep0() -> None:
    await asyncio.sleep(0)


__all__ += ["Shield", "AsyncShield"]

_NO_SHIELD = contextlib.nullcontext()


class Shield:
    """No-op in the sync flavour: a thread is never interrupted in the middle of a write."""

    __slots__ = ()

    #: Whether the block really keeps cancellation out (a write in it then needs a time bound).
    shields = False

    def time_to_cancel(self) -> float | None:
        """Seconds until the task's cancellation deadline: never, in a thread."""
        return None

    def __call__(self) -> contextlib.AbstractContextManager[Any]:
        return _NO_SHIELD


class AsyncShield:
    """``with shield():`` keeps the task's cancellation out of the block (a trio cancel scope
    with ``shield=True``; nothing on asyncio, whose transports take a whole write before the
    first await). HTTP/2 writes the frames of every stream in one write: a task cancelled
    half-way through it would leave a partial frame on the wire and break every other stream.
    The write's own time limit still applies inside the block."""

    __slots__ = ("_trio",)

    def __init__(self) -> None:
        self._trio: Any = None
        if running_loop() is None:
            import trio

            self._trio = trio

    @property
    def shields(self) -> bool:
        """Whether the block really keeps cancellation out (a write in it then needs a time
        bound): on trio."""
        return self._trio is not None

    def time_to_cancel(self) -> float | None:
        """Seconds until the deadline of the cancel scopes around the task (trio's
        ``move_on_after``/``fail_after``; may be negative), or None without one. A shielded write
        uses it to end soon after that deadline instead of holding the task for ever."""
        if self._trio is None:
            return None
        deadline = self._trio.current_effective_deadline()
        if deadline == float("inf"):
            return None
        return float(deadline - self._trio.current_time())

    def __call__(self) -> contextlib.AbstractContextManager[Any]:
        if self._trio is None:
            return _NO_SHIELD
        return typing.cast(
            contextlib.AbstractContextManager[Any], self._trio.CancelScope(shield=True)
        )


__all__ += ["IOPolicy", "AsyncIOPolicy"]


class IOPolicy:
    """Threads: an ``ssl.SSLSocket`` must not be read and written at the same time from two
    threads (OpenSSL's SSL objects are not thread-safe; a reader in ``SSL_read`` and a writer in
    ``SSL_write`` corrupt the TLS stream now and then). A multiplexed connection shared by threads
    therefore waits for readability outside its write lock, then reads under it."""

    serialize_tls_reads = True


class AsyncIOPolicy:
    """One event loop: reads and writes never overlap inside OpenSSL (asyncio's and trio's TLS
    layers run in the loop's thread), so nothing needs serialising."""

    serialize_tls_reads = False
