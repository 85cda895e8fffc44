"""timeout() blocks: nesting, cancel, and how they combine with per-operation limits."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
import trio
from servers import UvicornServer

import ahttpwire
import httpwire
from httpwire._exceptions import TimeoutException
from httpwire._timeouts import (
    Timeout,
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
        time.sleep(0.001)  # the deadline being exceeded is what this test is about
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


# -- Timeout: httpx's shape ---------------------------------------------------------------------

ALL = ("connect", "read", "write", "pool")


def test_timeout_one_number_sets_all_four() -> None:
    assert Timeout(5.0).as_dict() == dict.fromkeys(ALL, 5.0)
    assert Timeout(None).as_dict() == dict.fromkeys(ALL, None)
    assert Timeout(10.0, connect=5.0).as_dict() == {
        "connect": 5.0,
        "read": 10.0,
        "write": 10.0,
        "pool": 10.0,
    }
    assert Timeout(5.0, pool=None).pool is None
    assert Timeout(connect=1, read=2, write=3, pool=4).as_dict() == {
        "connect": 1.0,
        "read": 2.0,
        "write": 3.0,
        "pool": 4.0,
    }
    assert Timeout((1.0, 2.0)) == Timeout(None, connect=1.0, read=2.0)
    assert Timeout((5.0, 5.0, 5.0, 5.0)) == Timeout(5.0)
    assert Timeout(Timeout(3.0)) == Timeout(3.0)
    assert Timeout(3.0) != Timeout(4.0)
    assert repr(Timeout(5.0)) == "Timeout(timeout=5.0)"
    assert repr(Timeout(None, read=5.0)) == "Timeout(connect=None, read=5.0, write=None, pool=None)"


def test_timeout_rejects_what_it_cannot_mean() -> None:
    with pytest.raises(ValueError, match="default"):
        Timeout(pool=60.0)  # some limits by keyword, no default for the others
    with pytest.raises(ValueError, match=">= 0"):
        Timeout(-1.0)
    with pytest.raises(ValueError, match=">= 0"):
        Timeout(5.0, read=math.nan)
    with pytest.raises(TypeError):
        Timeout("5")
    with pytest.raises(ValueError, match="2 to 4"):
        Timeout((1.0,))


def test_timeout_config_is_the_old_name_and_a_number_now_sets_all_four() -> None:
    # TimeoutConfig(10.0) used to set only the connect limit: the trap the issue names.
    assert TimeoutConfig(10.0) == Timeout(10.0)
    assert TimeoutConfig(read=30).as_dict() == {
        "connect": None,
        "read": 30.0,
        "write": None,
        "pool": None,
    }
    assert isinstance(TimeoutConfig(1), Timeout)
    assert httpwire.Timeout is Timeout and ahttpwire.Timeout is Timeout


def test_normalize_timeout_takes_every_form_timeout_takes() -> None:
    assert normalize_timeout(Timeout(2.0, connect=1.0)) == {
        "connect": 1.0,
        "read": 2.0,
        "write": 2.0,
        "pool": 2.0,
    }
    assert normalize_timeout((1, 2, 3, 4)) == {
        "connect": 1.0,
        "read": 2.0,
        "write": 3.0,
        "pool": 4.0,
    }


class Recorder:
    """A transport that records the timeout extension of each request and answers 200."""

    def __init__(self) -> None:
        self.seen: list[dict[str, float | None]] = []

    def send(self, request: httpwire.Request) -> httpwire.Response:
        self.seen.append(request.extensions["timeout"])
        return httpwire.Response(200)


class AsyncRecorder(Recorder):
    async def send(self, request: httpwire.Request) -> httpwire.Response:  # type: ignore[override]
        return Recorder.send(self, request)


def test_client_timeout_reads_back_a_timeout_and_takes_every_form() -> None:
    transport = Recorder()
    with httpwire.Client(transport=transport, timeout=Timeout(10.0, connect=5.0)) as client:
        assert isinstance(client.timeout, Timeout)
        assert client.timeout == Timeout(10.0, connect=5.0)
        client.timeout = 12.0  # type: ignore[assignment]
        assert client.timeout == Timeout(12.0)
        client.get("http://h/")
        client.get("http://h/", timeout=Timeout(1.0, read=2.0))
        client.get("http://h/", timeout=(1.0, 2.0, 3.0, 4.0))
        client.get("http://h/", timeout={"read": 7.0})
    assert transport.seen == [
        Timeout(12.0).as_dict(),
        Timeout(1.0, read=2.0).as_dict(),
        Timeout(connect=1.0, read=2.0, write=3.0, pool=4.0).as_dict(),
        TimeoutConfig(read=7.0).as_dict(),
    ]


def test_send_applies_the_client_timeout_to_a_request_that_names_none() -> None:
    transport = Recorder()
    with httpwire.Client(transport=transport, timeout=3.0) as client:
        client.send(httpwire.Request("GET", "http://h/"))
        client.send(httpwire.Request("GET", "http://h/", extensions={"timeout": {"read": 1.0}}))
    assert transport.seen == [Timeout(3.0).as_dict(), {"read": 1.0}]

    atransport = AsyncRecorder()

    async def main() -> None:
        async with ahttpwire.Client(transport=atransport, timeout=4.0) as client:
            await client.send(httpwire.Request("GET", "http://h/"))

    asyncio.run(main())
    trio.run(main)
    assert atransport.seen == [Timeout(4.0).as_dict()] * 2


def test_send_of_a_plain_request_times_out_on_a_silent_server(http_server: UvicornServer) -> None:
    # Before: a Request built without the client had no limits at all and waited out the stall.
    url = http_server.url + "/slow-head?seconds=5"
    with httpwire.Client(timeout=Timeout(5.0, read=0.3)) as client:
        started = time.monotonic()
        with pytest.raises(httpwire.ReadTimeout):
            client.send(httpwire.Request("GET", url))
        assert time.monotonic() - started < 4.0

    async def main() -> None:
        async with ahttpwire.Client(timeout=Timeout(5.0, read=0.3)) as client:
            started = time.monotonic()
            with pytest.raises(httpwire.ReadTimeout):
                await client.send(httpwire.Request("GET", url))
            assert time.monotonic() - started < 4.0

    asyncio.run(main())
    trio.run(main)
