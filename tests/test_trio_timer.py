"""The trio deadline timer (``httpwire._backends._trio_timer``): limits without trio deadlines.

Run on trio's MockClock with autojump, so the waits take no real time and the times asserted are
exact trio clock readings.
"""

from __future__ import annotations

import math

import pytest

trio = pytest.importorskip("trio")
from settle import until  # noqa: E402
from trio.testing import MockClock  # noqa: E402

from httpwire._backends import _trio_timer  # noqa: E402
from httpwire._backends._trio_timer import MAX_TABLES, deadline_scope  # noqa: E402


def _run(fn: object) -> None:
    trio.run(fn, clock=MockClock(autojump_threshold=0))  # type: ignore[arg-type]


def _tables() -> dict[float, dict[object, float]]:
    return _trio_timer._TIMER.get().tables  # type: ignore[return-value]


def test_a_wait_under_its_limit_is_cancelled_at_the_deadline_without_a_trio_deadline() -> None:
    seen: dict[str, object] = {}

    async def main() -> None:
        start = trio.current_time()
        with deadline_scope(3.0, 3.0) as scope:
            # The scope itself carries no deadline: the run's timer task holds it.
            seen["deadline"] = scope.deadline
            seen["entries"] = len(_tables()[3.0])
            await trio.sleep_forever()
        seen["caught"] = scope.cancelled_caught
        seen["elapsed"] = trio.current_time() - start
        seen["left"] = len(_tables()[3.0])

    _run(main)
    assert seen == {"deadline": math.inf, "entries": 1, "caught": True, "elapsed": 3.0, "left": 0}


def test_waits_expire_in_deadline_order_across_limits() -> None:
    expired: list[tuple[str, float]] = []

    async def wait(name: str, delay: float, limit: float) -> None:
        await trio.sleep(delay)
        with deadline_scope(limit, limit):
            await trio.sleep_forever()
        expired.append((name, trio.current_time()))

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(wait, "a", 0.0, 2.0)
            nursery.start_soon(wait, "b", 0.5, 2.0)
            nursery.start_soon(wait, "c", 1.0, 2.0)
            # A long limit first, then a short one while the timer sleeps for the long one:
            # the timer must be woken earlier.
            nursery.start_soon(wait, "long", 0.0, 100.0)
            nursery.start_soon(wait, "short", 1.2, 0.3)

    _run(main)
    assert expired == [("short", 1.5), ("a", 2.0), ("b", 2.5), ("c", 3.0), ("long", 100.0)]


def test_a_wait_that_finishes_in_time_is_not_cancelled_and_leaves_no_entry() -> None:
    seen: dict[str, object] = {}

    async def main() -> None:
        for _ in range(3):
            with deadline_scope(5.0, 5.0) as scope:
                await trio.sleep(1.0)
        seen["caught"] = scope.cancelled_caught
        seen["entries"] = len(_tables()[5.0])
        # Long after the (finished) waits' deadlines nothing is cancelled by mistake.
        with deadline_scope(5.0, 5.0) as scope:
            await trio.sleep(4.0)
        seen["late_caught"] = scope.cancelled_caught

    _run(main)
    assert seen == {"caught": False, "entries": 0, "late_caught": False}


def test_a_shortened_limit_uses_a_trio_deadline_and_no_limit_uses_none() -> None:
    seen: dict[str, object] = {}

    async def main() -> None:
        start = trio.current_time()
        # 1.5 s left of a 10 s limit (a timeout() block is binding): trio deadline, no table.
        with deadline_scope(1.5, 10.0) as scope:
            seen["deadline"] = scope.deadline - start
            await trio.sleep_forever()
        seen["elapsed"] = trio.current_time() - start
        seen["has_timer"] = _trio_timer._TIMER.get(None) is not None
        with deadline_scope(None, None) as scope:
            seen["no_limit"] = scope.deadline
            await trio.sleep(7.0)
        seen["no_limit_caught"] = scope.cancelled_caught

    _run(main)
    assert seen == {
        "deadline": 1.5,
        "elapsed": 1.5,
        "has_timer": False,
        "no_limit": math.inf,
        "no_limit_caught": False,
    }


def test_limits_beyond_the_table_cap_still_expire_on_time() -> None:
    expired: list[float] = []

    async def wait(limit: float) -> None:
        with deadline_scope(limit, limit):
            await trio.sleep_forever()
        expired.append(trio.current_time())

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for i in range(MAX_TABLES + 3):
                nursery.start_soon(wait, 1.0 + i)
        assert len(_tables()) == MAX_TABLES

    _run(main)
    assert expired == [1.0 + i for i in range(MAX_TABLES + 3)]


def test_each_run_has_its_own_timer() -> None:
    seen: list[tuple[bool, object]] = []

    async def main() -> None:
        with deadline_scope(0.5, 0.5) as scope:
            await trio.sleep_forever()
        seen.append((scope.cancelled_caught, _trio_timer._TIMER.get()))

    _run(main)
    _run(main)
    assert [caught for caught, _ in seen] == [True, True]
    assert seen[0][1] is not seen[1][1]


def test_ahttpwire_pool_and_read_timeouts_on_trio_use_the_timer(fault_server: object) -> None:
    """A stalled server: the read limit fires through the timer; a full pool's wait too."""
    import ahttpwire

    url = fault_server.url + "/silent"  # type: ignore[attr-defined]
    outcome: dict[str, object] = {}

    async def main() -> None:
        async with ahttpwire.Client(
            timeout={"connect": 5, "read": 0.3, "write": 5, "pool": 0.2},
            limits=ahttpwire.Limits(max_connections=1),
        ) as client:
            async with trio.open_nursery() as nursery:

                async def first() -> None:
                    try:
                        await client.get(url)
                    except ahttpwire.ReadTimeout:
                        outcome["read"] = "ReadTimeout"

                async def second() -> None:
                    # Once the first request holds the only connection, this one waits for it.
                    await until(lambda: client._transport.connections, "first request connected")
                    try:
                        await client.get(url)
                    except ahttpwire.PoolTimeout:
                        outcome["pool"] = "PoolTimeout"

                nursery.start_soon(first)
                nursery.start_soon(second)
            outcome["tables"] = sorted(_tables())
            outcome["entries"] = sum(len(t) for t in _tables().values())

    trio.run(main)
    assert outcome == {
        "read": "ReadTimeout",
        "pool": "PoolTimeout",
        "tables": [0.2, 0.3, 5],
        "entries": 0,
    }
