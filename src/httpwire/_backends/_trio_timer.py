"""Per-operation time limits on trio without one trio deadline per operation.

Every read, write and pool wait of a request has a limit (by default 60 s), and nearly all of
them finish long before it. Giving each its own ``trio.move_on_after`` puts an entry in trio's
deadline heap that outlives the operation (trio discards stale entries in batches, when the heap
holds more than twice the live deadlines plus a thousand): with 1,000 tasks queued on a pool,
thousands of such entries and their cancel scopes stay alive, and CPython's cyclic garbage
collector walks them again and again. Measured with 1,000 tasks on 100 connections, that was
more than half of the collector's time and most of the extra cost per request over 100 tasks.

Here an operation with a limit ``T`` enters a plain ``trio.CancelScope`` (no deadline) and
records it, with its deadline, in a table for ``T`` owned by the run's timer. Deadlines in one
table arrive in increasing order (``now + T`` with a fixed ``T``), so the earliest is the first
entry, and an operation that ends removes its entry in O(1). One system task per ``trio.run``
sleeps until the earliest deadline of all tables and cancels the scopes whose deadline has
passed; it wakes about once per ``T`` when nothing expires.

A limit shortened by a ``timeout()`` block (any ``seconds`` other than the operation's
configured limit) would start a table of its own for one entry; those take a trio deadline
directly, as do limits beyond the first :data:`MAX_TABLES` distinct values of a run.
"""

from __future__ import annotations

import math
import types

import trio

__all__ = ["deadline_scope", "MAX_TABLES"]

#: Distinct limit values (seconds) a run keeps a table for; others use trio deadlines.
MAX_TABLES = 8


class _Timer:
    """The deadline tables of one trio run and the state of its timer task."""

    __slots__ = ("tables", "wake_at", "sleep")

    def __init__(self) -> None:
        # limit (seconds) -> {cancel scope: deadline (trio.current_time() seconds)}; each dict
        # is in insertion order, which is deadline order.
        self.tables: dict[float, dict[trio.CancelScope, float]] = {}
        # When the timer task wakes next (inf: it sleeps until told otherwise).
        self.wake_at = math.inf
        # The cancel scope the timer task sleeps in (None while it is awake).
        self.sleep: trio.CancelScope | None = None

    def table(self, limit: float) -> dict[trio.CancelScope, float] | None:
        table = self.tables.get(limit)
        if table is None and len(self.tables) < MAX_TABLES:
            table = self.tables[limit] = {}
        return table

    def wake_by(self, deadline: float) -> None:
        """Make sure the timer task is awake at ``deadline`` (trio clock seconds)."""
        if deadline < self.wake_at:
            self.wake_at = deadline
            if self.sleep is not None:
                self.sleep.deadline = deadline

    async def run(self) -> None:
        """The timer task: cancel expired scopes, sleep until the next deadline; forever.

        It ends (by trio's cancellation) when the run's main task ends.
        """
        while True:
            now = trio.current_time()
            wake = math.inf
            for table in self.tables.values():
                # Expired entries are at the front; their owners remove them once cancelled.
                for scope, deadline in table.items():
                    if deadline > now:
                        if deadline < wake:
                            wake = deadline
                        break
                    scope.cancel()
            self.wake_at = wake
            with trio.CancelScope(deadline=wake) as self.sleep:
                await trio.sleep_forever()
            self.sleep = None


_TIMER: trio.lowlevel.RunVar[_Timer] = trio.lowlevel.RunVar("httpwire_trio_timer")


def _timer() -> _Timer:
    try:
        return _TIMER.get()
    except LookupError:
        timer = _Timer()
        # Spawned first: if the run refuses new tasks (it is ending), no timer without a task
        # is left behind to be trusted by later waits.
        trio.lowlevel.spawn_system_task(timer.run, name="httpwire deadline timer")
        _TIMER.set(timer)
        return timer


class deadline_scope:  # noqa: N801 - used like trio.move_on_after
    """``with deadline_scope(seconds, limit) as scope:``, like ``trio.move_on_after(seconds)``.

    ``seconds`` is how long the operation may wait (None: no limit); ``limit`` is the
    operation's configured limit it was derived from. When they are equal the deadline goes in
    the run's timer tables (see the module docstring); otherwise the scope gets a trio deadline.
    Check ``scope.cancelled_caught`` afterwards, as with ``move_on_after``. Must be used inside
    ``trio.run``.
    """

    __slots__ = ("_scope", "_table", "_seconds", "_limit")

    def __init__(self, seconds: float | None, limit: float | None) -> None:
        self._scope = trio.CancelScope()
        self._table: dict[trio.CancelScope, float] | None = None
        self._seconds = seconds
        self._limit = limit

    def __enter__(self) -> trio.CancelScope:
        scope = self._scope
        seconds = self._seconds
        if seconds is None or seconds == math.inf:
            return scope.__enter__()
        if seconds == self._limit and seconds > 0:
            timer = _timer()
            table = timer.table(seconds)
            if table is not None:
                scope.__enter__()
                deadline = trio.current_time() + seconds
                table[scope] = deadline
                self._table = table
                timer.wake_by(deadline)
                return scope
        scope.deadline = trio.current_time() + seconds
        return scope.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> bool:
        if self._table is not None:
            del self._table[self._scope]
        return self._scope.__exit__(exc_type, exc, tb)
