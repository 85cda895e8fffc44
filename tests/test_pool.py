"""ConnectionPool semantics against real servers, in both flavours: keep-alive reuse, limits,
the waiter queue, stale connections, the safe retry, and what failures and cancellations leave."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from servers import FaultServer, UvicornServer
from settle import until

import ahttpwire
import httpwire


def _port(response: httpwire.Response) -> int:
    return int(response.text)


# -- keep-alive reuse and reprs ---------------------------------------------------------------


def test_sync_sequential_requests_reuse_one_connection(http_server: UvicornServer) -> None:
    with httpwire.ConnectionPool() as pool:
        ports = {_port(pool.request("GET", http_server.url + "/client-port")) for _ in range(10)}
        assert len(ports) == 1
        assert repr(pool) == "<ConnectionPool [0 active, 1 idle]>"
        assert [repr(c) for c in pool.connections] == [f'<Connection "{http_server.url}" IDLE>']
    assert repr(pool) == "<ConnectionPool [0 active, 0 idle]>"


def test_async_sequential_requests_reuse_one_connection(http_server: UvicornServer) -> None:
    async def main() -> set[int]:
        async with ahttpwire.ConnectionPool() as pool:
            ports = set()
            for _ in range(10):
                ports.add(_port(await pool.request("GET", http_server.url + "/client-port")))
            assert repr(pool) == "<ConnectionPool [0 active, 1 idle]>"
            return ports

    assert len(asyncio.run(main())) == 1


def test_sync_stream_shows_an_active_connection_until_closed(http_server: UvicornServer) -> None:
    with httpwire.ConnectionPool() as pool:
        with pool.stream("GET", http_server.url + "/bytes/10") as r:
            assert repr(pool) == "<ConnectionPool [1 active, 0 idle]>"
            assert r.read() == bytes(range(10))
        assert repr(pool) == "<ConnectionPool [0 active, 1 idle]>"


# -- limits and the waiter queue --------------------------------------------------------------


def test_sync_many_threads_share_a_pool_within_max_connections(http_server: UvicornServer) -> None:
    pool = httpwire.ConnectionPool(max_connections=3)
    ports: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(10):
                port = _port(pool.request("GET", http_server.url + "/client-port"))
                with lock:
                    ports.append(port)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(ports) == 160
    assert 1 <= len(set(ports)) <= 3
    assert repr(pool).startswith("<ConnectionPool [0 active, ")
    assert all(c.is_idle for c in pool.connections)
    pool.close()


def test_async_many_tasks_share_a_pool_within_max_connections(http_server: UvicornServer) -> None:
    async def main() -> list[int]:
        async with ahttpwire.ConnectionPool(max_connections=5) as pool:

            async def worker() -> list[int]:
                out = []
                for _ in range(5):
                    out.append(_port(await pool.request("GET", http_server.url + "/client-port")))
                return out

            results = await asyncio.gather(*[worker() for _ in range(40)])
            assert all(c.is_idle for c in pool.connections)
            assert len(pool.connections) <= 5
            return [p for r in results for p in r]

    ports = asyncio.run(main())
    assert len(ports) == 200
    assert 1 <= len(set(ports)) <= 5


def test_sync_pool_timeout_when_every_connection_is_busy(http_server: UvicornServer) -> None:
    with httpwire.ConnectionPool(max_connections=1) as pool:
        with pool.stream("GET", http_server.url + "/bytes/10"):
            with pytest.raises(httpwire.PoolTimeout):
                pool.request("GET", http_server.url + "/", extensions={"timeout": {"pool": 0.1}})
            with httpwire.timeout(0.1), pytest.raises(httpwire.PoolTimeout):
                pool.request("GET", http_server.url + "/")
        # The held connection came back: the next request gets it.
        assert pool.request("GET", http_server.url + "/").status_code == 200
        assert len(pool.connections) == 1


def test_async_a_cancelled_waiter_does_not_lose_the_slot(http_server: UvicornServer) -> None:
    async def main() -> None:
        async with ahttpwire.ConnectionPool(max_connections=1) as pool:
            url = http_server.url + "/client-port"
            async with pool.stream("GET", url) as held:
                waiting_b = asyncio.create_task(pool.request("GET", url))
                waiting_c = asyncio.create_task(pool.request("GET", url))
                await until(lambda: len(pool._waiters) == 2, "both requests queue")
                waiting_b.cancel()
                await held.aread()
            with pytest.raises(asyncio.CancelledError):
                await waiting_b
            r = await asyncio.wait_for(waiting_c, 10)
            assert r.status_code == 200
            assert len(pool.connections) == 1 and pool.connections[0].is_idle

    asyncio.run(main())


# -- connections the server closes ------------------------------------------------------------


def test_sync_a_keepalive_connection_closed_by_the_server_is_not_reused(
    fault_server: FaultServer,
) -> None:
    with httpwire.ConnectionPool() as pool:
        assert pool.request("GET", fault_server.url + "/ok-then-close").content == b"ok"
        fault_server.wait_for_server_closes(1)
        assert pool.request("GET", fault_server.url + "/ok").content == b"ok"
    assert fault_server.accepted == 2


def test_async_a_keepalive_connection_closed_by_the_server_is_not_reused(
    fault_server: FaultServer,
) -> None:
    async def main() -> None:
        async with ahttpwire.ConnectionPool() as pool:
            assert (await pool.request("GET", fault_server.url + "/ok-then-close")).content == b"ok"
            await asyncio.to_thread(fault_server.wait_for_server_closes, 1)
            assert (await pool.request("GET", fault_server.url + "/ok")).content == b"ok"

    asyncio.run(main())
    assert fault_server.accepted == 2


class _BlindStream(httpwire.NetworkStreamInterface):
    """Hides that an idle connection was closed, so the request goes out on a dead connection."""

    def __init__(self, inner: httpwire.NetworkStreamInterface) -> None:
        self.inner = inner

    def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, timeout)

    def write(self, data: bytes, timeout: float | None = None) -> None:
        self.inner.write(data, timeout)

    def get_extra_info(self, info: str) -> Any:
        return False if info == "is_readable" else self.inner.get_extra_info(info)

    def close(self) -> None:
        self.inner.close()


class _BlindBackend(httpwire.NetworkBackendInterface):
    def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> _BlindStream:
        return _BlindStream(httpwire.NetworkBackend().connect(host, port, timeout))


def test_an_idempotent_request_on_a_dead_reused_connection_is_retried_once(
    fault_server: FaultServer,
) -> None:
    with httpwire.ConnectionPool(backend=_BlindBackend()) as pool:
        assert pool.request("GET", fault_server.url + "/ok-then-close").content == b"ok"
        fault_server.wait_for_server_closes(1)
        assert pool.request("GET", fault_server.url + "/ok").content == b"ok"
    assert fault_server.accepted == 2


def test_a_post_on_a_dead_reused_connection_is_not_retried(fault_server: FaultServer) -> None:
    with httpwire.ConnectionPool(backend=_BlindBackend()) as pool:
        assert pool.request("GET", fault_server.url + "/ok-then-close").content == b"ok"
        fault_server.wait_for_server_closes(1)
        with pytest.raises((httpwire.RemoteProtocolError, httpwire.ReadError, httpwire.WriteError)):
            pool.request("POST", fault_server.url + "/ok", content=b"data")
        assert pool.connections == []
    assert fault_server.accepted == 1


def test_a_fresh_connection_that_fails_is_not_retried(fault_server: FaultServer) -> None:
    with httpwire.ConnectionPool() as pool:
        with pytest.raises(httpwire.RemoteProtocolError, match="without sending a response"):
            pool.request("GET", fault_server.url + "/close")
        assert pool.connections == []
    assert fault_server.accepted == 1


# -- failures and cancellation never leave a reusable half-used connection ---------------------


def test_sync_closing_a_response_mid_body_discards_its_connection(
    http_server: UvicornServer,
) -> None:
    with httpwire.ConnectionPool() as pool:
        first = _port(pool.request("GET", http_server.url + "/client-port"))
        with pool.stream("GET", http_server.url + "/bytes/2000000") as r:
            next(r.iter_raw())
        assert pool.connections == []
        assert _port(pool.request("GET", http_server.url + "/client-port")) != first


def test_sync_an_exception_inside_a_streamed_body_discards_the_connection(
    http_server: UvicornServer,
) -> None:
    class Boom(Exception):
        pass

    with httpwire.ConnectionPool(max_connections=1) as pool:
        with (
            pytest.raises(Boom),
            pool.stream("GET", http_server.url + "/stream/300000?chunk=1000") as r,
        ):
            for _ in r.iter_raw():
                raise Boom
        assert pool.connections == []
        assert pool.request("GET", http_server.url + "/").status_code == 200


def test_async_a_request_cancelled_while_waiting_for_the_head_frees_its_slot(
    fault_server: FaultServer, http_server: UvicornServer
) -> None:
    async def main() -> None:
        async with ahttpwire.ConnectionPool(max_connections=1) as pool:
            task = asyncio.create_task(pool.request("GET", fault_server.url + "/silent"))
            await until(
                lambda: (
                    pool.connections
                    and pool.connections[0].response_started is False
                    and fault_server.accepted
                ),
                "the request waits for the head of a silent server",
            )
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert pool.connections == []
            assert repr(pool) == "<ConnectionPool [0 active, 0 idle]>"
            r = await pool.request(
                "GET", http_server.url + "/", extensions={"timeout": {"pool": 5}}
            )
            assert r.status_code == 200

    asyncio.run(main())


def test_a_read_timeout_discards_the_connection(http_server: UvicornServer) -> None:
    with httpwire.ConnectionPool(max_connections=1) as pool:
        with pytest.raises(httpwire.ReadTimeout):
            pool.request(
                "GET",
                http_server.url + "/slow-head?seconds=2",
                extensions={"timeout": {"read": 0.1}},
            )
        assert pool.connections == []
        assert pool.request("GET", http_server.url + "/").status_code == 200


# -- keep-alive limits -------------------------------------------------------------------------


def test_keepalive_expiry_closes_idle_connections_instead_of_reusing(
    http_server: UvicornServer,
) -> None:
    with httpwire.ConnectionPool(keepalive_expiry=0.0) as pool:
        a = _port(pool.request("GET", http_server.url + "/client-port"))
        b = _port(pool.request("GET", http_server.url + "/client-port"))
        assert a != b
        assert len(pool.connections) == 1


def test_max_keepalive_connections_bounds_the_idle_connections(http_server: UvicornServer) -> None:
    async def main() -> int:
        async with ahttpwire.ConnectionPool(max_keepalive_connections=2) as pool:
            await asyncio.gather(
                *[pool.request("GET", http_server.url + "/stall?seconds=0.2") for _ in range(6)]
            )
            return len(pool.connections)

    assert asyncio.run(main()) == 2


def test_unsupported_scheme_and_http2_are_refused_clearly() -> None:
    with (
        httpwire.ConnectionPool() as pool,
        pytest.raises(httpwire.UnsupportedProtocol, match="ftp"),
    ):
        pool.request("GET", "ftp://127.0.0.1/")
    # (http2=True is supported since issue 5: docs/http2.md; no protocol at all is refused.)
    with pytest.raises(httpwire.UnsupportedProtocol, match="enable at least one"):
        httpwire.ConnectionPool(http1=False, http2=False)


# -- per-host limit ----------------------------------------------------------------------------


def test_async_max_connections_per_host_bounds_one_origin_but_not_the_others(
    http_server: UvicornServer, fault_server: FaultServer
) -> None:
    async def main() -> tuple[set[int], int]:
        async with ahttpwire.ConnectionPool(max_connections=10, max_connections_per_host=2) as pool:
            slow = [
                asyncio.create_task(pool.request("GET", http_server.url + "/stall?seconds=0.3"))
                for _ in range(6)
            ]
            await until(
                lambda: sum(1 for c in pool.connections if c.origin[2] == http_server.port) == 2,
                "the first origin reaches its limit",
            )
            # The first origin is at its limit; another origin still gets a connection at once.
            other = await pool.request(
                "GET", fault_server.url + "/ok", extensions={"timeout": {"pool": 5}}
            )
            assert other.content == b"ok"
            await asyncio.gather(*slow)
            ports = set()
            for _ in range(4):
                ports.add(_port(await pool.request("GET", http_server.url + "/client-port")))
            per_origin = sum(1 for c in pool.connections if c.origin[2] == http_server.port)
            return ports, per_origin

    ports, per_origin = asyncio.run(main())
    assert per_origin <= 2
    assert 1 <= len(ports) <= 2


def test_sync_per_host_limit_queues_threads_of_that_origin(http_server: UvicornServer) -> None:
    pool = httpwire.ConnectionPool(max_connections=10, max_connections_per_host=1)
    ports: list[int] = []

    def worker() -> None:
        for _ in range(5):
            ports.append(_port(pool.request("GET", http_server.url + "/client-port")))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(ports) == 30
    assert len(set(ports)) == 1
    pool.close()


def test_async_closing_the_pool_fails_its_waiters_at_once(http_server: UvicornServer) -> None:
    async def main() -> None:
        pool = ahttpwire.ConnectionPool(max_connections=1)
        held = await pool.send(httpwire.Request("GET", http_server.url + "/"))
        waiting = asyncio.create_task(pool.request("GET", http_server.url + "/"))
        await until(lambda: len(pool._waiters) == 1, "the second request queues")
        await pool.aclose()
        with pytest.raises(RuntimeError, match="closed while this request waited"):
            await asyncio.wait_for(waiting, 5)
        await held.aclose()
        assert pool.connections == []

    asyncio.run(main())
