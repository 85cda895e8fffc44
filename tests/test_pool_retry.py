"""The pool's transparent retry goes to a freshly opened connection, never to another idle one
(which may be dead too), in every runtime: HTTP/1.1 idempotent requests on a reused connection
the server dropped, and HTTP/2 requests the server refused (RFC 9113 section 8.7).

The servers are fault-injection servers (:class:`servers.FaultServer`'s ``/first-only`` and
``/flaky``, :class:`h2servers.H2FaultServer`'s ``/refuse-reused``): real servers do not drop a
keep-alive connection at a chosen request on demand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import trio
from conftest_h2 import *  # noqa: F403
from h2servers import H2FaultServer
from servers import FaultServer

import ahttpwire
import httpwire

Runner = Callable[[Callable[[], Coroutine[Any, Any, Any]]], Any]

#: GETs of the soak tests, and the bound (seconds) on each run: reaching it is a failure.
SOAK_REQUESTS = 4000
SOAK_CONCURRENCY = 16
SOAK_MAX_CONNECTIONS = 8  # fewer than the workers: retries also wait for a slot
SOAK_LIMIT = 30.0


@pytest.fixture(params=["asyncio", "trio"])
def run(request: pytest.FixtureRequest) -> Runner:
    if request.param == "asyncio":
        return lambda fn: asyncio.run(fn())
    return lambda fn: trio.run(fn)


async def _sleep0() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        await trio.lowlevel.checkpoint()
    else:
        await asyncio.sleep(0)


# -- HTTP/1.1: two idle connections, both dropped at their next request -------------------------


def test_sync_a_retry_goes_to_a_new_connection_not_another_idle_one(
    fault_server: FaultServer,
) -> None:
    url = fault_server.url + "/first-only"
    with httpwire.ConnectionPool() as pool:
        # Two connections at once, both idle afterwards.
        with pool.stream("GET", url) as first, pool.stream("GET", url) as second:
            assert first.read() == second.read() == b"ok"
        assert len(pool.connections) == 2 and all(c.is_idle for c in pool.connections)
        # Both are dropped by the server at their next request: the GET is sent on one, fails,
        # and must be retried on a new connection (the other idle one would fail as well).
        assert pool.request("GET", url).content == b"ok"
        assert fault_server.accepted == 3
        # A connection that failed once is not kept: one idle old one and the new one.
        assert len(pool.connections) == 2


def test_async_a_retry_goes_to_a_new_connection_not_another_idle_one(
    run: Runner, fault_server: FaultServer
) -> None:
    url = fault_server.url + "/first-only"

    async def main() -> None:
        async with ahttpwire.ConnectionPool() as pool:
            async with pool.stream("GET", url) as first, pool.stream("GET", url) as second:
                assert await first.aread() == await second.aread() == b"ok"
            assert len(pool.connections) == 2 and all(c.is_idle for c in pool.connections)
            assert (await pool.request("GET", url)).content == b"ok"
            assert len(pool.connections) == 2

    run(main)
    assert fault_server.accepted == 3


#: Pools whose two slots for the origin are both taken by idle connections.
FULL = [{"max_connections": 2}, {"max_connections_per_host": 2}]


@pytest.mark.parametrize("limits", FULL, ids=["max_connections", "per_host"])
def test_sync_a_full_pool_retries_on_a_new_connection_in_place_of_an_idle_one(
    limits: dict[str, int], fault_server: FaultServer
) -> None:
    # Both slots idle and both dead: the retry must close an idle connection of its own origin
    # to open a new one (not wait for the pool timeout, not reuse it).
    url = fault_server.url + "/first-only"
    with httpwire.ConnectionPool(**limits) as pool:
        with pool.stream("GET", url) as first, pool.stream("GET", url) as second:
            assert first.read() == second.read() == b"ok"
        response = pool.request("GET", url, extensions={"timeout": {"pool": 5}})
        assert response.content == b"ok"
        assert len(pool.connections) <= 2
    assert fault_server.accepted == 3


@pytest.mark.parametrize("limits", FULL, ids=["max_connections", "per_host"])
def test_async_a_full_pool_retries_on_a_new_connection_in_place_of_an_idle_one(
    limits: dict[str, int], run: Runner, fault_server: FaultServer
) -> None:
    url = fault_server.url + "/first-only"

    async def main() -> None:
        async with ahttpwire.ConnectionPool(**limits) as pool:
            async with pool.stream("GET", url) as first, pool.stream("GET", url) as second:
                assert await first.aread() == await second.aread() == b"ok"
            with ahttpwire.timeout(10):
                response = await pool.request("GET", url, extensions={"timeout": {"pool": 5}})
            assert response.content == b"ok"
            assert len(pool.connections) <= 2

    run(main)
    assert fault_server.accepted == 3


# -- a server that drops keep-alive connections at random: bounded soak tests ------------------


def test_sync_soak_a_server_dropping_keepalive_connections_at_random(
    fault_server: FaultServer,
) -> None:
    url = fault_server.url + "/flaky"
    deadline = time.monotonic() + SOAK_LIMIT
    with httpwire.ConnectionPool(max_connections=SOAK_MAX_CONNECTIONS) as pool:

        def worker(n: int) -> list[str]:
            errors = []
            for _ in range(n):
                with httpwire.timeout(max(0.1, deadline - time.monotonic())):
                    try:
                        if pool.request("GET", url).content != b"ok":
                            errors.append("wrong body")
                    except httpwire.TransportError as exc:
                        errors.append(repr(exc))
            return errors

        per = SOAK_REQUESTS // SOAK_CONCURRENCY
        with ThreadPoolExecutor(SOAK_CONCURRENCY) as executor:
            errors = [e for out in executor.map(worker, [per] * SOAK_CONCURRENCY) for e in out]
    assert errors == []
    assert time.monotonic() < deadline
    # The server did drop connections (the retries were exercised), and far more requests were
    # served than connections opened (keep-alive was exercised).
    assert fault_server.server_closes > 50
    assert fault_server.accepted < SOAK_REQUESTS // 2


def test_async_soak_a_server_dropping_keepalive_connections_at_random(
    run: Runner, fault_server: FaultServer
) -> None:
    url = fault_server.url + "/flaky"
    errors: list[str] = []

    async def worker(pool: ahttpwire.ConnectionPool, n: int) -> None:
        for _ in range(n):
            try:
                if (await pool.request("GET", url)).content != b"ok":
                    errors.append("wrong body")
            except httpwire.TransportError as exc:
                errors.append(repr(exc))
            await _sleep0()

    async def main() -> None:
        per = SOAK_REQUESTS // SOAK_CONCURRENCY
        with ahttpwire.timeout(SOAK_LIMIT):
            async with ahttpwire.ConnectionPool(max_connections=SOAK_MAX_CONNECTIONS) as pool:
                try:
                    asyncio.get_running_loop()
                except RuntimeError:
                    async with trio.open_nursery() as nursery:
                        for _ in range(SOAK_CONCURRENCY):
                            nursery.start_soon(worker, pool, per)
                else:
                    await asyncio.gather(*(worker(pool, per) for _ in range(SOAK_CONCURRENCY)))

    run(main)
    assert errors == []
    assert fault_server.server_closes > 50
    assert fault_server.accepted < SOAK_REQUESTS // 2


# -- HTTP/2: a refused request goes to a new connection -----------------------------------------


def test_sync_a_refused_http2_request_is_retried_on_a_new_connection(
    h2_fault: H2FaultServer,
) -> None:
    # The server answers each connection's first stream and refuses every later one
    # (REFUSED_STREAM: provably not processed, RFC 9113 section 8.7). Sent again on the same
    # connection, a refused request would be refused again until the attempts ran out.
    url = h2_fault.url + "/refuse-reused"
    with httpwire.ConnectionPool(http1=False, http2=True) as pool:
        assert pool.request("GET", url).content == b"ok /refuse-reused"
        # A POST too: a refused stream was never processed, whatever the method.
        assert pool.request("POST", url, content=b"x").content == b"ok /refuse-reused"
    assert h2_fault.connections == 2


def test_async_a_refused_http2_request_is_retried_on_a_new_connection(
    run: Runner, h2_fault: H2FaultServer
) -> None:
    url = h2_fault.url + "/refuse-reused"

    async def main() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True) as pool:
            assert (await pool.request("GET", url)).content == b"ok /refuse-reused"
            response = await pool.request("POST", url, content=b"x")
            assert response.content == b"ok /refuse-reused"

    run(main)
    assert h2_fault.connections == 2
