"""Stress: thousands of requests through one pool against a real server, a third of them
cancelled or abandoned at random points, then the pool and the server are checked.

- asyncio and trio: 5,000 requests from 500 tasks sharing one ``ahttpwire.ConnectionPool(
  max_connections=50)``. A random third are cancelled after a random short delay (asyncio:
  ``task.cancel()``; trio: a cancel scope with that deadline), so cancellation lands while
  connecting, waiting for a connection, writing the body, waiting for the head and reading the
  body. Every request is also bounded by a generous deadline that must never be reached.
- threads: 5,000 requests from 50 threads sharing one ``httpwire.ConnectionPool``; a random third
  are abandoned through a ``timeout()`` block, a tiny read timeout, or an exception raised while
  iterating a streamed body.

Then: every request that was not cancelled got exactly the right body; the pool holds at most
``max_connections``, all IDLE, none ACTIVE; the server sees no more open connections than the
pool holds, and none after the pool is closed (so nothing leaked); and the pool still has its full
capacity (``max_connections`` responses held open at once, which would wait forever had a slot
been lost). The server is uvicorn in this process with a 60 s keep-alive, so it never closes an
idle connection by itself during the test: a leaked client connection stays visible.

The random seed is fixed; the request mix is printed on failure through the assertion messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import trio
from app import STALL_BODY, pattern
from servers import UvicornServer

import ahttpwire
import httpwire

SEED = 4_2026
TASKS = 500
PER_TASK = 10
THREADS = 50
PER_THREAD = 100
MAX_CONNECTIONS = 50
SYNC_MAX_CONNECTIONS = 20  # fewer than threads: the waiter queue is exercised too
DEADLINE = 10.0  # seconds any single request may take; reaching it means it was stuck
STORM_LIMIT = 30.0  # seconds for all requests of one run: a bound when requests get stuck
SETTLE = 15.0  # seconds the server gets to notice closed connections


@pytest.fixture(scope="module")
def server() -> Iterator[UvicornServer]:
    # Its own server: counts are not disturbed by other tests, and its keep-alive timeout is
    # long enough that it never closes an idle connection itself during the test.
    srv = UvicornServer(http="httptools", timeout_keep_alive=60, backlog=2048).start()
    try:
        yield srv
    finally:
        srv.stop()


def server_connections(server: UvicornServer) -> int:
    """Open connections as uvicorn itself counts them (added on accept, removed on close)."""
    return len(server.server.server_state.connections)


@dataclass
class Planned:
    method: str
    path: str
    content: bytes | None
    expected: bytes
    #: None: must complete. Otherwise the request is cancelled / abandoned after this delay (s).
    cancel_after: float | None = None
    #: Upload ``content`` from an iterator of pieces (chunked), pausing between pieces.
    streamed: bool = False
    #: async only: cancel the request as soon as this traced operation starts, instead of
    #: after ``cancel_after`` (a blind delay mostly lands in the pool wait, where most time goes).
    cancel_at: str | None = None
    #: sync only: how the request is abandoned ("timeout", "read-timeout", "raise").
    abandon: str = ""


def make_plan(rng: random.Random, n: int) -> list[Planned]:
    """``n`` requests: small and large bodies, chunked bodies, uploads, a slow head, a stall
    between head and body; a third of them to be cancelled after up to 25 ms."""
    plan = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.35:
            size = rng.choice([0, 17, 4096, 70_000, 300_000])
            item = Planned("GET", f"/bytes/{size}", None, pattern(size))
        elif kind < 0.5:
            size = rng.choice([5_000, 100_000])
            item = Planned("GET", f"/stream/{size}?chunk=4096", None, pattern(size))
        elif kind < 0.7:
            size = rng.choice([10, 60_000, 400_000])
            body = rng.randbytes(size)
            item = Planned("POST", "/echo", body, body, streamed=rng.random() < 0.4)
        elif kind < 0.85:
            item = Planned("GET", "/slow-head?seconds=0.01", None, b"slow head done\n")
        else:
            item = Planned("GET", "/stall?seconds=0.01", None, STALL_BODY)
        if rng.random() < 1 / 3:
            item.cancel_after = rng.choice([0.0, rng.uniform(0, 0.005), rng.uniform(0, 0.05)])
            item.abandon = rng.choice(["timeout", "read-timeout", "raise"])
            if rng.random() < 0.5:
                points = [
                    "connection.connect_tcp",
                    "http11.receive_response_headers",
                    "http11.receive_response_body",
                ]
                if item.streamed:
                    points.append("http11.send_request_body")  # it pauses between pieces
                item.cancel_at = rng.choice(points)
        plan.append(item)
    return plan


def _pieces(body: bytes) -> list[bytes]:
    step = max(1, len(body) // 4)
    return [body[i : i + step] for i in range(0, len(body), step)]


def async_upload(item: Planned, sleep: Callable[[float], Awaitable[Any]]) -> Any:
    """The request content of ``item``: bytes, or an async iterator pausing between pieces."""
    if not item.streamed or item.content is None:
        return item.content

    async def pieces() -> AsyncIterator[bytes]:
        for piece in _pieces(item.content or b""):
            await sleep(0)
            yield piece

    return pieces()


def sync_upload(item: Planned) -> Any:
    if not item.streamed or item.content is None:
        return item.content
    return iter(_pieces(item.content))


@dataclass
class Tally:
    completed: int = 0
    cancelled: int = 0
    stuck: int = 0
    wrong: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Where cancellations landed: the traced operation they interrupted, or POOL_WAIT.
    landed: Counter[str] = field(default_factory=Counter)

    def check(self, total: int) -> None:
        assert self.wrong == [], f"{len(self.wrong)} wrong responses, e.g. {self.wrong[:3]}"
        assert self.errors == [], f"{len(self.errors)} unexpected errors, e.g. {self.errors[:5]}"
        assert self.stuck == 0, f"{self.stuck} requests ran into the {DEADLINE} s deadline"
        assert self.completed + self.cancelled == total
        # The mix really did cancel a good share, and really did complete most.
        assert self.cancelled > total // 10
        assert self.completed > total // 2

    def check_landings(self) -> None:
        missing = MUST_LAND - set(self.landed)
        assert not missing, f"no cancellation landed in {missing}; landed: {dict(self.landed)}"


#: A cancelled request that was interrupted before any traced operation on a connection began:
#: waiting for a pooled connection (or not started at all).
POOL_WAIT = "pool wait"
#: The await points a cancellation must have hit at least once in an async run.
MUST_LAND = {
    POOL_WAIT,
    "connection.connect_tcp",
    "http11.send_request_body",
    "http11.receive_response_headers",
    "http11.receive_response_body",
}


class Landing:
    """The ``trace`` extension of one cancellable request: notes which operation a
    cancellation interrupted (the ``.failed`` event whose exception is a cancellation), and
    cancels the request (``cancel()``) when the operation ``cancel_at`` starts."""

    __slots__ = ("tally", "where", "cancel_at", "cancel")

    def __init__(self, tally: Tally, cancel_at: str | None = None) -> None:
        self.tally = tally
        self.where: str | None = None
        self.cancel_at = cancel_at
        self.cancel: Callable[[], Any] | None = None

    async def trace(self, name: str, info: dict[str, Any]) -> None:
        if self.cancel_at is not None and name == self.cancel_at + ".started":
            assert self.cancel is not None
            self.cancel()  # lands at the operation's next suspension
        elif self.where is None and name.endswith(".failed"):
            exc = info.get("exception")
            if isinstance(exc, (asyncio.CancelledError, trio.Cancelled)):
                self.where = name.removesuffix(".failed")

    def cancelled(self) -> None:
        self.tally.landed[self.where or POOL_WAIT] += 1


def _verify(tally: Tally, item: Planned, response: ahttpwire.Response) -> None:
    if response.status_code != 200 or response.content != item.expected:
        tally.wrong.append(
            f"{item.method} {item.path}: {response.status_code}, {len(response.content)} bytes"
            f" (want {len(item.expected)})"
        )
    else:
        tally.completed += 1


# -- async: shared checks after the storm ----------------------------------------------------


async def _wait_until(
    condition: Callable[[], bool], sleep: Callable[[float], Awaitable[Any]], seconds: float
) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await sleep(0.05)
    return True


async def _check_pool_after_storm(
    pool: ahttpwire.ConnectionPool,
    server: UvicornServer,
    sleep: Callable[[float], Awaitable[Any]],
) -> None:
    conns = pool.connections
    assert 1 <= len(conns) <= MAX_CONNECTIONS, conns
    states = Counter(c.state for c in conns)
    assert states == {"IDLE": len(conns)}, states
    assert repr(pool) == f"<ConnectionPool [0 active, {len(conns)} idle]>"
    # The server may take a moment to see the connections the cancelled requests closed.
    settled = await _wait_until(
        lambda: server_connections(server) <= len(pool.connections), sleep, SETTLE
    )
    assert settled, (
        f"server holds {server_connections(server)} connections, pool {len(pool.connections)}"
    )

    # Full capacity is still there: hold max_connections responses open at once. Had a slot
    # been lost, the last one would wait for a connection forever (and hit the deadline).
    url = server.url + "/bytes/1000"
    async with contextlib.AsyncExitStack() as stack:
        responses = [
            await stack.enter_async_context(pool.stream("GET", url)) for _ in range(MAX_CONNECTIONS)
        ]
        assert repr(pool) == f"<ConnectionPool [{MAX_CONNECTIONS} active, 0 idle]>"
        for response in responses:
            assert await response.aread() == pattern(1000)
    assert len(pool.connections) == MAX_CONNECTIONS
    assert all(c.is_idle for c in pool.connections)


async def _check_server_after_close(
    server: UvicornServer, sleep: Callable[[float], Awaitable[Any]]
) -> None:
    gone = await _wait_until(lambda: server_connections(server) == 0, sleep, SETTLE)
    assert gone, f"{server_connections(server)} connections still open after the pool closed"


# -- asyncio ---------------------------------------------------------------------------------


def test_stress_asyncio_cancellation_keeps_the_pool_consistent(server: UvicornServer) -> None:
    plan = make_plan(random.Random(SEED), TASKS * PER_TASK)
    tally = Tally()

    async def do(
        pool: ahttpwire.ConnectionPool, item: Planned, landing: Landing | None = None
    ) -> ahttpwire.Response:
        extensions = {"trace": landing.trace} if landing is not None else None
        return await pool.request(
            item.method,
            server.url + item.path,
            content=async_upload(item, asyncio.sleep),
            extensions=extensions,
        )

    async def one(pool: ahttpwire.ConnectionPool, item: Planned) -> None:
        bound = asyncio.timeout(DEADLINE)
        task: asyncio.Task[ahttpwire.Response] | None = None
        try:
            async with bound:
                if item.cancel_after is None:
                    _verify(tally, item, await do(pool, item))
                    return
                landing = Landing(tally, item.cancel_at)
                task = asyncio.create_task(do(pool, item, landing))
                landing.cancel = task.cancel
                if item.cancel_at is None:
                    await asyncio.sleep(item.cancel_after)
                    task.cancel()
                try:
                    response = await task
                except asyncio.CancelledError:
                    tally.cancelled += 1
                    landing.cancelled()
                else:
                    # Counted only here: a task whose request finished in the very step it was
                    # cancelled in ends up cancelled all the same.
                    _verify(tally, item, response)
        except TimeoutError as exc:
            if bound.expired():
                tally.stuck += 1
            else:
                tally.errors.append(repr(exc))
        except Exception as exc:
            tally.errors.append(f"{item.method} {item.path}: {exc!r}")
        finally:
            if task is not None and not task.done():
                task.cancel()

    async def main() -> None:
        async with ahttpwire.ConnectionPool(max_connections=MAX_CONNECTIONS) as pool:

            async def worker(items: list[Planned]) -> None:
                for item in items:
                    await one(pool, item)

            try:
                async with asyncio.timeout(STORM_LIMIT), asyncio.TaskGroup() as group:
                    for i in range(TASKS):
                        group.create_task(worker(plan[i * PER_TASK : (i + 1) * PER_TASK]))
            except TimeoutError:
                pytest.fail(f"the requests did not finish within {STORM_LIMIT} s: {tally}")
            tally.check(len(plan))
            tally.check_landings()
            async with asyncio.timeout(DEADLINE):
                await _check_pool_after_storm(pool, server, asyncio.sleep)
        await _check_server_after_close(server, asyncio.sleep)

    asyncio.run(main())


# -- trio ------------------------------------------------------------------------------------


def test_stress_trio_cancellation_keeps_the_pool_consistent(server: UvicornServer) -> None:
    plan = make_plan(random.Random(SEED + 1), TASKS * PER_TASK)
    tally = Tally()

    async def one(pool: ahttpwire.ConnectionPool, item: Planned) -> None:
        with trio.move_on_after(DEADLINE) as bound:
            try:
                if item.cancel_after is None:
                    response = await pool.request(
                        item.method, server.url + item.path, content=async_upload(item, trio.sleep)
                    )
                    _verify(tally, item, response)
                    return
                landing = Landing(tally, item.cancel_at)
                delay = item.cancel_after if item.cancel_at is None else DEADLINE
                got = None
                with trio.move_on_after(delay) as scope:
                    landing.cancel = scope.cancel
                    got = await pool.request(
                        item.method,
                        server.url + item.path,
                        content=async_upload(item, trio.sleep),
                        extensions={"trace": landing.trace},
                    )
                if scope.cancelled_caught:
                    tally.cancelled += 1
                    landing.cancelled()
                else:
                    assert got is not None
                    _verify(tally, item, got)
            except Exception as exc:
                tally.errors.append(f"{item.method} {item.path}: {exc!r}")
        if bound.cancelled_caught:
            tally.stuck += 1

    async def main() -> None:
        async with ahttpwire.ConnectionPool(max_connections=MAX_CONNECTIONS) as pool:

            async def worker(items: list[Planned]) -> None:
                for item in items:
                    await one(pool, item)

            with trio.move_on_after(STORM_LIMIT) as storm:
                async with trio.open_nursery() as nursery:
                    for i in range(TASKS):
                        nursery.start_soon(worker, plan[i * PER_TASK : (i + 1) * PER_TASK])
            if storm.cancelled_caught:
                pytest.fail(f"the requests did not finish within {STORM_LIMIT} s: {tally}")
            tally.check(len(plan))
            tally.check_landings()
            with trio.fail_after(DEADLINE):
                await _check_pool_after_storm(pool, server, trio.sleep)
        await _check_server_after_close(server, trio.sleep)

    trio.run(main)


# -- threads ---------------------------------------------------------------------------------


class Boom(Exception):
    """Raised from inside a streamed body to abandon it."""


def test_stress_threads_abandoned_requests_keep_the_pool_consistent(server: UvicornServer) -> None:
    plan = make_plan(random.Random(SEED + 2), THREADS * PER_THREAD)
    tally = Tally()
    lock = threading.Lock()
    pool = httpwire.ConnectionPool(max_connections=SYNC_MAX_CONNECTIONS)

    def count(attr: str) -> None:
        with lock:
            setattr(tally, attr, getattr(tally, attr) + 1)

    def verify(item: Planned, status: int, body: bytes) -> None:
        if status != 200 or body != item.expected:
            with lock:
                tally.wrong.append(f"{item.method} {item.path}: {status}, {len(body)} bytes")
        else:
            count("completed")

    def one(item: Planned) -> None:
        url = server.url + item.path
        # The outer block is the deadline every request must meet; inner limits abandon.
        with httpwire.timeout(DEADLINE) as bound:
            try:
                if item.cancel_after is None:
                    r = pool.request(item.method, url, content=sync_upload(item))
                    verify(item, r.status_code, r.content)
                elif item.abandon == "timeout":
                    try:
                        with httpwire.timeout(item.cancel_after):
                            r = pool.request(item.method, url, content=sync_upload(item))
                    except httpwire.TimeoutException:
                        if bound.remaining == 0.0:
                            raise
                        count("cancelled")
                    else:
                        verify(item, r.status_code, r.content)
                elif item.abandon == "read-timeout":
                    try:
                        r = pool.request(
                            item.method,
                            url,
                            content=sync_upload(item),
                            extensions={"timeout": {"read": max(item.cancel_after, 0.001)}},
                        )
                    except httpwire.ReadTimeout:
                        count("cancelled")
                    else:
                        verify(item, r.status_code, r.content)
                else:
                    try:
                        with pool.stream(item.method, url, content=sync_upload(item)) as r:
                            body = b""
                            for chunk in r.iter_raw():
                                if chunk:
                                    raise Boom
                                body += chunk
                    except Boom:
                        count("cancelled")
                    else:
                        verify(item, r.status_code, body)
            except httpwire.TimeoutException:
                if bound.remaining == 0.0:
                    count("stuck")
                else:
                    with lock:
                        tally.errors.append(f"{item.method} {item.path}: timed out")
            except Exception as exc:
                with lock:
                    tally.errors.append(f"{item.method} {item.path}: {exc!r}")

    def worker(items: list[Planned]) -> None:
        for item in items:
            one(item)

    threads = [
        threading.Thread(target=worker, args=(plan[i * PER_THREAD : (i + 1) * PER_THREAD],))
        for i in range(THREADS)
    ]
    try:
        for t in threads:
            t.start()
        end = time.monotonic() + 120
        for t in threads:
            t.join(max(0.0, end - time.monotonic()))
        assert not any(t.is_alive() for t in threads), "worker threads still running"
        tally.check(len(plan))

        conns = pool.connections
        assert 1 <= len(conns) <= SYNC_MAX_CONNECTIONS
        assert Counter(c.state for c in conns) == {"IDLE": len(conns)}
        assert repr(pool) == f"<ConnectionPool [0 active, {len(conns)} idle]>"
        deadline = time.monotonic() + SETTLE
        while server_connections(server) > len(pool.connections) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server_connections(server) <= len(pool.connections)

        # Full capacity: max_connections responses held at once (a lost slot would block).
        with contextlib.ExitStack() as stack, httpwire.timeout(DEADLINE):
            held = [
                stack.enter_context(pool.stream("GET", server.url + "/bytes/1000"))
                for _ in range(SYNC_MAX_CONNECTIONS)
            ]
            assert repr(pool) == f"<ConnectionPool [{SYNC_MAX_CONNECTIONS} active, 0 idle]>"
            for response in held:
                assert response.read() == pattern(1000)
        assert all(c.is_idle for c in pool.connections)
    finally:
        pool.close()
    deadline = time.monotonic() + SETTLE
    while server_connections(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server_connections(server) == 0


# -- the smallest reproduction of what the threaded stress run found -------------------------


def test_sync_a_connection_handed_over_as_the_pool_wait_expires_is_used_once(
    server: UvicornServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiter whose wait times out just as a releasing thread hands it a connection must
    either keep that connection or give it back, never both (which lets two requests share one
    connection: "<Connection ...> is closed" / "is busy" in the other request).

    The race is made deterministic: the waiter's wait reports a timeout although the hand-off
    happened."""
    from httpwire._sync import _pool as sync_pool

    class LateWaiter(sync_pool.Waiter):  # type: ignore[misc, name-defined]
        def wait(self, timeout: float | None, limit: float | None = None) -> bool:
            super().wait(timeout, limit)
            return False  # the hand-off landed right after the timeout fired

    monkeypatch.setattr(sync_pool, "Waiter", LateWaiter)
    url = server.url + "/bytes/10"
    with httpwire.ConnectionPool(max_connections=1) as pool:
        held = pool.stream("GET", url)
        first = held.__enter__()
        releaser = threading.Timer(0.2, lambda: (first.read(), held.__exit__(None, None, None)))
        releaser.start()
        try:
            with pool.stream("GET", url, extensions={"timeout": {"pool": 5}}) as second:
                # The waiter got the connection: it is the one active connection, not also idle.
                assert repr(pool) == "<ConnectionPool [1 active, 0 idle]>"
                assert second.read() == pattern(10)
        finally:
            releaser.join(5)
        assert repr(pool) == "<ConnectionPool [0 active, 1 idle]>"
