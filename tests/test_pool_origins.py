"""Pool starvation across origins: when every slot of ``max_connections`` holds an idle
connection to other origins (HTTP/1.1, or HTTP/2 with no stream open), a request to a new origin
closes the oldest of them and takes its slot instead of queueing until ``PoolTimeout``; a request
already queued gets the slot of a connection that goes idle while nobody waits for its origin;
``max_connections_per_host`` still holds. Sync, asyncio and trio, against real servers (two
uvicorn servers count as two origins; hypercorn for HTTP/2), plus the same after a storm of
cancellations over HTTP and HTTPS.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import trio
from conftest_h2 import *  # noqa: F403
from h2servers import HypercornServer
from servers import UvicornServer

import ahttpwire
import httpwire

Runner = Callable[[Callable[[], Coroutine[Any, Any, Any]]], Any]

#: The pool timeout of the requests that must get a slot (seconds): reaching it is the failure.
POOL = {"timeout": {"pool": 5.0}}


@pytest.fixture(params=["asyncio", "trio"])
def run(request: pytest.FixtureRequest) -> Runner:
    if request.param == "asyncio":
        return lambda fn: asyncio.run(fn())
    return lambda fn: trio.run(fn)


@pytest.fixture(scope="module")
def other_server() -> Iterator[UvicornServer]:
    """A second origin (same app, another port)."""
    server = UvicornServer(http="httptools").start()
    try:
        yield server
    finally:
        server.stop()


def _is_trio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


async def _sleep(seconds: float) -> None:
    if _is_trio():
        await trio.sleep(seconds)
    else:
        await asyncio.sleep(seconds)


async def _until(condition: Callable[[], bool], limit: float = 5.0) -> None:
    """Poll ``condition`` (bounded: ``limit`` seconds, then fail)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await _sleep(0.01)


def _until_sync(condition: Callable[[], bool], limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _queued(pool: Any) -> int:
    return len(pool._waiters)


def _port(response: httpwire.Response) -> int:
    return int(response.text)


# -- idle connections of another origin give up their slot --------------------------------------


def test_sync_idle_connections_to_another_origin_give_up_their_slot(
    http_server: UvicornServer, other_server: UvicornServer
) -> None:
    a, b = http_server.url + "/client-port", other_server.url + "/client-port"
    with httpwire.ConnectionPool(max_connections=2) as pool:
        with pool.stream("GET", a) as first, pool.stream("GET", a) as second:
            second.read()  # released first: idle longest
            first.read()
            older, newer = _port(second), _port(first)
        assert len(pool.connections) == 2 and all(c.is_idle for c in pool.connections)
        assert pool.request("GET", b, extensions=POOL).status_code == 200
        # The oldest idle connection was closed for it; the newer one to A is still reused.
        assert sorted(c.origin[2] for c in pool.connections) == sorted(
            [http_server.port, other_server.port]
        )
        assert _port(pool.request("GET", a, extensions=POOL)) == newer != older


def test_async_idle_connections_to_another_origin_give_up_their_slot(
    run: Runner, http_server: UvicornServer, other_server: UvicornServer
) -> None:
    a, b = http_server.url + "/client-port", other_server.url + "/client-port"

    async def main() -> None:
        async with ahttpwire.ConnectionPool(max_connections=2) as pool:
            async with pool.stream("GET", a) as first, pool.stream("GET", a) as second:
                await second.aread()
                await first.aread()
                older, newer = _port(second), _port(first)
            assert len(pool.connections) == 2 and all(c.is_idle for c in pool.connections)
            with ahttpwire.timeout(10):  # a bound: the old pool waited for ever here
                assert (await pool.request("GET", b, extensions=POOL)).status_code == 200
            assert sorted(c.origin[2] for c in pool.connections) == sorted(
                [http_server.port, other_server.port]
            )
            assert _port(await pool.request("GET", a, extensions=POOL)) == newer != older

    run(main)


# -- a queued request gets the slot of a connection that goes idle -----------------------------


def test_sync_a_queued_request_gets_the_slot_of_a_connection_going_idle(
    http_server: UvicornServer, other_server: UvicornServer
) -> None:
    a, b = http_server.url + "/bytes/10", other_server.url + "/"
    results: list[Any] = []
    with httpwire.ConnectionPool(max_connections=2) as pool:
        with pool.stream("GET", a) as first, pool.stream("GET", a) as second:
            thread = threading.Thread(
                target=lambda: results.append(pool.request("GET", b, extensions=POOL))
            )
            thread.start()
            _until_sync(lambda: _queued(pool) == 1)
            first.read()  # its connection goes idle; nobody waits for A: B gets the slot
            thread.join(10)
            assert not thread.is_alive()
            assert [r.status_code for r in results] == [200]
            second.read()
        assert len(pool.connections) == 2


def test_async_a_queued_request_gets_the_slot_of_a_connection_going_idle(
    run: Runner, http_server: UvicornServer, other_server: UvicornServer
) -> None:
    a, b = http_server.url + "/bytes/10", other_server.url + "/"
    results: list[Any] = []

    async def request_b(pool: ahttpwire.ConnectionPool) -> None:
        results.append(await pool.request("GET", b, extensions=POOL))

    async def main() -> None:
        async with ahttpwire.ConnectionPool(max_connections=2) as pool:
            with ahttpwire.timeout(10):
                async with pool.stream("GET", a) as first, pool.stream("GET", a) as second:
                    if _is_trio():
                        async with trio.open_nursery() as nursery:
                            nursery.start_soon(request_b, pool)
                            await _until(lambda: _queued(pool) == 1)
                            await first.aread()
                    else:
                        task = asyncio.ensure_future(request_b(pool))
                        await _until(lambda: _queued(pool) == 1)
                        await first.aread()
                        await task
                    assert [r.status_code for r in results] == [200]
                    await second.aread()

    run(main)


# -- HTTP/2 connections with no stream open are idle too ----------------------------------------


def test_sync_an_idle_http2_connection_gives_up_its_slot(
    hypercorn_h2: HypercornServer, http_server: UvicornServer, h2_ssl_context: Any
) -> None:
    with httpwire.ConnectionPool(ssl_context=h2_ssl_context, http2=True, max_connections=1) as pool:
        first = pool.request("GET", hypercorn_h2.url + "/")
        assert first.http_version == "HTTP/2"
        assert pool.request("GET", http_server.url + "/", extensions=POOL).status_code == 200
        # And a request queued behind a stream gets the slot once that stream ends.
        results: list[Any] = []
        with pool.stream("GET", hypercorn_h2.url + "/bytes/10") as held:
            assert held.http_version == "HTTP/2"
            thread = threading.Thread(
                target=lambda: results.append(
                    pool.request("GET", http_server.url + "/", extensions=POOL)
                )
            )
            thread.start()
            _until_sync(lambda: _queued(pool) == 1)
            held.read()
            thread.join(10)
        assert [r.status_code for r in results] == [200]


def test_async_an_idle_http2_connection_gives_up_its_slot(
    run: Runner,
    hypercorn_h2: HypercornServer,
    http_server: UvicornServer,
    h2_ssl_context: Any,
) -> None:
    results: list[Any] = []

    async def request_b(pool: ahttpwire.ConnectionPool) -> None:
        results.append(await pool.request("GET", http_server.url + "/", extensions=POOL))

    async def main() -> None:
        async with ahttpwire.ConnectionPool(
            ssl_context=h2_ssl_context, http2=True, max_connections=1
        ) as pool:
            with ahttpwire.timeout(10):
                first = await pool.request("GET", hypercorn_h2.url + "/")
                assert first.http_version == "HTTP/2"
                await request_b(pool)
                async with pool.stream("GET", hypercorn_h2.url + "/bytes/10") as held:
                    assert held.http_version == "HTTP/2"
                    if _is_trio():
                        async with trio.open_nursery() as nursery:
                            nursery.start_soon(request_b, pool)
                            await _until(lambda: _queued(pool) == 1)
                            await held.aread()
                    else:
                        task = asyncio.ensure_future(request_b(pool))
                        await _until(lambda: _queued(pool) == 1)
                        await held.aread()
                        await task
            assert [r.status_code for r in results] == [200, 200]

    run(main)


# -- max_connections_per_host still holds ------------------------------------------------------


def test_sync_eviction_respects_max_connections_per_host(
    http_server: UvicornServer, other_server: UvicornServer
) -> None:
    a, b = http_server.url + "/client-port", other_server.url + "/client-port"
    with httpwire.ConnectionPool(max_connections=2, max_connections_per_host=1) as pool:
        idle_a = _port(pool.request("GET", a))
        with pool.stream("GET", b):
            # B is at its limit: closing A's idle connection would not let B open one.
            with pytest.raises(httpwire.PoolTimeout):
                pool.request("GET", b, extensions={"timeout": {"pool": 0.2}})
            assert _port(pool.request("GET", a)) == idle_a


def test_async_eviction_respects_max_connections_per_host(
    run: Runner, http_server: UvicornServer, other_server: UvicornServer
) -> None:
    a, b = http_server.url + "/client-port", other_server.url + "/client-port"

    async def main() -> None:
        async with ahttpwire.ConnectionPool(max_connections=2, max_connections_per_host=1) as pool:
            idle_a = _port(await pool.request("GET", a))
            async with pool.stream("GET", b):
                with pytest.raises(httpwire.PoolTimeout):
                    await pool.request("GET", b, extensions={"timeout": {"pool": 0.2}})
                assert _port(await pool.request("GET", a)) == idle_a

    run(main)


# -- after a storm of cancellations over HTTP and HTTPS -----------------------------------------

STORM_REQUESTS = 150
STORM_MAX = 8
STORM_PATHS = ["/", "/bytes/200000", "/slow-head?seconds=0.2", "/stall?seconds=0.2"]


def _storm_plan(seed: int, urls: list[str]) -> list[tuple[str, float]]:
    """(url, seconds before it is cancelled) per request; about a third are cancelled."""
    rng = random.Random(seed)
    plan = []
    for _ in range(STORM_REQUESTS):
        url = rng.choice(urls) + rng.choice(STORM_PATHS)
        plan.append((url, rng.uniform(0, 0.15) if rng.random() < 0.35 else 10.0))
    return plan


async def _fill_with_idle(pool: ahttpwire.ConnectionPool, url: str, n: int) -> None:
    """Leave ``n`` idle connections to ``url`` in the pool (n responses held open at once)."""
    async with contextlib.AsyncExitStack() as stack:
        held = [await stack.enter_async_context(pool.stream("GET", url)) for _ in range(n)]
        for response in held:
            await response.aread()


def _fill_with_idle_sync(pool: httpwire.ConnectionPool, url: str, n: int) -> None:
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(pool.stream("GET", url)) for _ in range(n)]
        for response in held:
            response.read()


def test_async_after_a_cancellation_storm_an_https_request_gets_a_slot_promptly(
    run: Runner, http_server: UvicornServer, https_server: UvicornServer
) -> None:
    plan = _storm_plan(9, [http_server.url, https_server.url])

    async def one(pool: ahttpwire.ConnectionPool, url: str, cancel_after: float) -> None:
        if _is_trio():
            with trio.move_on_after(cancel_after):
                await pool.request("GET", url)
        else:
            try:
                async with asyncio.timeout(cancel_after):
                    await pool.request("GET", url)
            except TimeoutError:
                pass

    async def main() -> None:
        async with ahttpwire.ConnectionPool(
            ssl_context=https_server.client_ssl_context, max_connections=STORM_MAX
        ) as pool:
            with ahttpwire.timeout(30):
                if _is_trio():
                    async with trio.open_nursery() as nursery:
                        for url, after in plan:
                            nursery.start_soon(one, pool, url, after)
                else:
                    await asyncio.gather(*(one(pool, url, after) for url, after in plan))
                assert all(c.is_idle for c in pool.connections)
                # Every slot now holds an idle HTTP connection ...
                await _fill_with_idle(pool, http_server.url + "/", STORM_MAX)
                assert len(pool.connections) == STORM_MAX
                assert all(c.origin[0] == "http" for c in pool.connections)
                # ... and an HTTPS request must still be served, well within the pool timeout.
                started = time.monotonic()
                response = await pool.request("GET", https_server.url + "/", extensions=POOL)
                assert response.status_code == 200
                assert time.monotonic() - started < POOL["timeout"]["pool"]
                assert len(pool.connections) == STORM_MAX

    run(main)


def test_sync_after_a_cancellation_storm_an_https_request_gets_a_slot_promptly(
    http_server: UvicornServer, https_server: UvicornServer
) -> None:
    plan = _storm_plan(10, [http_server.url, https_server.url])
    with httpwire.ConnectionPool(
        ssl_context=https_server.client_ssl_context, max_connections=STORM_MAX
    ) as pool:

        def one(item: tuple[str, float]) -> None:
            url, after = item
            try:
                with httpwire.timeout(after):
                    pool.request("GET", url)
            except httpwire.TimeoutException:
                pass

        with ThreadPoolExecutor(32) as executor:
            list(executor.map(one, plan))
        assert all(c.is_idle for c in pool.connections)
        _fill_with_idle_sync(pool, http_server.url + "/", STORM_MAX)
        assert len(pool.connections) == STORM_MAX
        assert all(c.origin[0] == "http" for c in pool.connections)
        started = time.monotonic()
        assert pool.request("GET", https_server.url + "/", extensions=POOL).status_code == 200
        assert time.monotonic() - started < POOL["timeout"]["pool"]
