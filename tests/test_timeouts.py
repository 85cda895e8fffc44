"""timeout() blocks: nesting, cancel, and how they combine with per-operation limits."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from httpwire._exceptions import TimeoutException
from httpwire._timeouts import (
    TimeoutConfig,
    current_deadline,
    normalize_timeout,
    remaining,
    timeout,
)


def test_no_block_means_no_deadline_and_the_operation_limit_applies() -> None:
    assert current_deadline() is None
    assert remaining(None) is None
    assert remaining(2.5) == 2.5


def test_a_block_bounds_operations_without_a_limit_of_their_own() -> None:
    with timeout(10) as t:
        left = remaining(None)
        assert left is not None and 9.0 < left <= 10.0
        assert t.remaining is not None and t.remaining <= 10.0
    assert remaining(None) is None  # the block is gone once left


def test_the_smaller_of_block_and_operation_limit_wins() -> None:
    with timeout(10):
        assert remaining(1.0) == 1.0
        left = remaining(100.0)
        assert left is not None and left <= 10.0


def test_nested_blocks_the_earliest_deadline_wins_either_way() -> None:
    with timeout(10):
        with timeout(1):
            left = remaining(None)
            assert left is not None and left <= 1.0
    with timeout(1):
        with timeout(10):
            left = remaining(None)
            assert left is not None and left <= 1.0


def test_cancel_lifts_only_that_blocks_deadline() -> None:
    with timeout(10):
        with timeout(1) as inner:
            inner.cancel()
            left = remaining(None)
            assert left is not None and 1.0 < left <= 10.0
    with timeout(1) as only:
        only.cancel()
        assert remaining(None) is None
        assert only.remaining is None


def test_an_expired_deadline_leaves_zero_not_a_negative_wait() -> None:
    with timeout(0):
        time.sleep(0.001)
        assert remaining(5.0) == 0.0


def test_none_duration_sets_no_deadline() -> None:
    with timeout(None):
        assert remaining(3.0) == 3.0


@pytest.mark.parametrize("bad", [-1, math.nan])
def test_negative_or_nan_duration_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="timeout duration"):
        timeout(bad)


def test_a_block_cannot_be_entered_twice() -> None:
    t = timeout(1)
    with t, pytest.raises(RuntimeError, match="twice"), t:
        pass


def test_deadlines_follow_asyncio_tasks_started_inside_the_block() -> None:
    async def child() -> float | None:
        return remaining(None)

    async def main() -> tuple[float | None, float | None]:
        with timeout(5):
            inside = await asyncio.create_task(child())
        outside = await asyncio.create_task(child())
        return inside, outside

    inside, outside = asyncio.run(main())
    assert inside is not None and inside <= 5.0
    assert outside is None


def test_async_with_works_too() -> None:
    async def main() -> float | None:
        async with timeout(3):
            return remaining(None)

    left = asyncio.run(main())
    assert left is not None and left <= 3.0


def test_timeout_exception_is_a_builtin_timeout_error() -> None:
    assert issubclass(TimeoutException, TimeoutError)


def test_normalize_timeout_shapes() -> None:
    assert normalize_timeout(None) == {"connect": None, "read": None, "write": None, "pool": None}
    assert normalize_timeout(2) == {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}
    assert normalize_timeout({"read": 1}) == {
        "connect": None,
        "read": 1.0,
        "write": None,
        "pool": None,
    }
    assert normalize_timeout(TimeoutConfig(connect=3)) == {
        "connect": 3,
        "read": None,
        "write": None,
        "pool": None,
    }
    with pytest.raises(ValueError, match="unknown timeout key"):
        normalize_timeout({"total": 1})
    with pytest.raises(ValueError):
        normalize_timeout(-1)
    with pytest.raises(TypeError):
        normalize_timeout("5")
