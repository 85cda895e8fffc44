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
import threading
import types
from typing import Any

__all__ = ["StateLock", "AsyncStateLock", "Waiter", "AsyncWaiter"]


class StateLock:
    """A ``threading.Lock`` used as ``with lock:``."""

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
        self.value = value
        self.is_set = True
        self._lock.release()

    def wait(self, timeout: float | None) -> bool:
        if timeout is None:
            return self._lock.acquire()
        return self._lock.acquire(timeout=timeout)


class AsyncWaiter:
    """One-shot hand-off between tasks of one event loop (asyncio; trio through its own event)."""

    __slots__ = ("_fut", "_trio_event", "value", "is_set")

    def __init__(self) -> None:
        self.value: Any = None
        self.is_set = False
        self._trio_event: Any = None
        try:
            self._fut: asyncio.Future[None] | None = asyncio.get_running_loop().create_future()
        except RuntimeError:
            import trio

            self._fut = None
            self._trio_event = trio.Event()

    def set(self, value: Any) -> None:
        self.value = value
        self.is_set = True
        if self._fut is not None:
            if not self._fut.done():
                self._fut.set_result(None)
        else:
            self._trio_event.set()

    async def wait(self, timeout: float | None) -> bool:
        if self.is_set:
            return True
        if self._fut is None:
            import trio

            with trio.move_on_after(timeout if timeout is not None else float("inf")):
                await self._trio_event.wait()
            return self.is_set
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._fut)
        except TimeoutError:
            return self.is_set
        return True
