"""HTTP/2 through the pool and the client, in both flavours: ALPN negotiation, prior knowledge,
multiplexing up to SETTINGS_MAX_CONCURRENT_STREAMS and more connections beyond it, transparent
retries after GOAWAY, REFUSED_STREAM and a dropped idle connection, early closes, nginx."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import trio
from app import HELLO, pattern
from conftest_h2 import *  # noqa: F403
from h2servers import H2FaultServer, HypercornServer, NginxH2Server
from servers import NGINX_FILES, UvicornServer
from settle import until

import ahttpwire
import httpwire

Runner = Callable[[Callable[[], Coroutine[Any, Any, Any]]], Any]


@pytest.fixture(params=["asyncio", "trio"])
def run(request: pytest.FixtureRequest) -> Runner:
    if request.param == "asyncio":
        return lambda fn: asyncio.run(fn())
    return lambda fn: trio.run(fn)


async def _gather(*coros: Coroutine[Any, Any, Any]) -> list[Any]:
    """Run concurrently under asyncio or trio; exceptions are returned, not raised."""
    results: list[Any] = [None] * len(coros)

    async def one(i: int, coro: Coroutine[Any, Any, Any]) -> None:
        try:
            results[i] = await coro
        except Exception as exc:
            results[i] = exc

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async with trio.open_nursery() as nursery:
            for i, coro in enumerate(coros):
                nursery.start_soon(one, i, coro)
        return results
    await asyncio.gather(*(one(i, c) for i, c in enumerate(coros)))
    return results


# -- negotiation ----------------------------------------------------------------------------------


def test_sync_client_negotiates_h2_with_alpn(
    hypercorn_h2: HypercornServer, h2_ssl_context: Any
) -> None:
    with httpwire.Client(http2=True, verify=h2_ssl_context) as client:
        response = client.get(hypercorn_h2.url + "/")
        assert response.content == HELLO
        assert response.http_version == "HTTP/2"
        assert response.extensions["http_version"] == b"HTTP/2"
        assert response.extensions["stream_id"] == 1
        second = client.get(hypercorn_h2.url + "/bytes/10")
        assert second.extensions["stream_id"] == 3  # same connection
        pool = client._transport
        assert len(pool.connections) == 1
        assert repr(pool.connections[0]) == (
            f'<Connection "{hypercorn_h2.url}" HTTP/2 IDLE 0 streams>'
        )
        assert repr(pool) == "<ConnectionPool [0 active, 1 idle]>"
        with client.stream("GET", hypercorn_h2.url + "/") as streamed:
            assert repr(pool) == "<ConnectionPool [1 active, 0 idle]>"
            assert "ACTIVE 1 stream>" in repr(pool.connections[0])
            streamed.read()


def test_http2_pool_falls_back_to_http11_when_the_server_picks_it(
    https_server: UvicornServer, h2_ssl_context: Any
) -> None:
    with httpwire.ConnectionPool(ssl_context=h2_ssl_context, http2=True) as pool:
        response = pool.request("GET", https_server.url + "/")
        assert response.content == HELLO
        assert response.http_version == "HTTP/1.1"
        assert pool.request("GET", https_server.url + "/").http_version == "HTTP/1.1"
        assert len(pool.connections) == 1


def test_http1_disabled_refuses_a_server_that_picks_http11(
    https_server: UvicornServer, h2_ssl_context: Any
) -> None:
    with httpwire.ConnectionPool(ssl_context=h2_ssl_context, http1=False, http2=True) as pool:
        with pytest.raises(httpwire.UnsupportedProtocol, match="did not pick h2"):
            pool.request("GET", https_server.url + "/")


def test_cleartext_prior_knowledge(run: Runner, hypercorn_h2c: HypercornServer) -> None:
    url = hypercorn_h2c.url

    async def main() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True) as pool:
            results = await _gather(*(pool.request("GET", f"{url}/bytes/{i}") for i in range(50)))
            assert [r.content for r in results] == [pattern(i) for i in range(50)]
            assert all(r.http_version == "HTTP/2" for r in results)
            assert len(pool.connections) == 1

    run(main)
    # http1=True over cleartext stays HTTP/1.1 (no h2c upgrade).
    with httpwire.ConnectionPool(http2=True) as pool:
        assert pool.request("GET", url + "/").http_version == "HTTP/1.1"


_H2_MODULES = ("h2", "h2.config", "h2.connection", "h2.events", "h2.exceptions", "h2.settings")


def test_http2_needs_no_h2(
    run: Runner, hypercorn_h2c: HypercornServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP/2 runs on httpwire's own engine (issue 13): with ``h2`` and ``hpack`` impossible to
    import, both flavours' pools and clients still speak HTTP/2 (before, ``http2=True`` raised
    ImportError naming the ``http2`` extra)."""
    for name in (*_H2_MODULES, "hpack"):
        monkeypatch.setitem(sys.modules, name, None)
    url = hypercorn_h2c.url

    async def main() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True) as pool:
            results = await _gather(*(pool.request("GET", f"{url}/bytes/{i}") for i in range(5)))
            assert [r.content for r in results] == [pattern(i) for i in range(5)]
            assert all(r.http_version == "HTTP/2" for r in results)

    run(main)
    with httpwire.ConnectionPool(http1=False, http2=True) as pool:
        response = pool.request("GET", url + "/bytes/10")
        assert response.http_version == "HTTP/2" and response.content == pattern(10)
    with httpwire.Client(http1=False, http2=True) as client:
        assert client.get(url + "/bytes/3").content == pattern(3)


# -- multiplexing -------------------------------------------------------------------------------


def test_async_500_concurrent_requests_share_one_connection(
    run: Runner, hypercorn_h2: HypercornServer, h2_ssl_context: Any
) -> None:
    url = hypercorn_h2.url

    async def main() -> None:
        async with ahttpwire.Client(
            http2=True, verify=h2_ssl_context, limits=ahttpwire.Limits(max_connections=1)
        ) as client:
            results = await _gather(*(client.get(f"{url}/bytes/{i % 50}") for i in range(500)))
            errors = [r for r in results if isinstance(r, BaseException)]
            assert errors == []
            assert [r.content for r in results] == [pattern(i % 50) for i in range(500)]
            assert sorted(r.extensions["stream_id"] for r in results) == list(range(1, 1000, 2))

    run(main)


def test_sync_40_threads_share_one_client(
    hypercorn_h2: HypercornServer, h2_ssl_context: Any
) -> None:
    url = hypercorn_h2.url
    with httpwire.Client(http2=True, verify=h2_ssl_context) as client:

        def work(i: int) -> list[bytes]:
            return [client.get(f"{url}/bytes/{(i + j) % 200}").content for j in range(10)]

        with ThreadPoolExecutor(40) as executor:
            results = list(executor.map(work, range(40)))
        assert results == [[pattern((i + j) % 200) for j in range(10)] for i in range(40)]
        # 400 requests, 40 at a time, hypercorn allows 100 streams: one connection did it all.
        assert len(client._transport.connections) == 1


def test_more_connections_beyond_max_concurrent_streams(
    run: Runner, h2_fault_factory: Callable[..., H2FaultServer]
) -> None:
    server = h2_fault_factory(max_concurrent_streams=2)
    url = server.url

    async def main() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True, max_connections=3) as pool:
            await pool.request("GET", f"{url}/warm")  # the server's SETTINGS are known now
            results = await _gather(*(pool.request("GET", f"{url}/wait/0.3") for _ in range(12)))
            assert all(r.content == b"ok waited" for r in results), results
            assert len(pool.connections) <= 3

    run(main)
    assert 2 <= server.connections <= 3
    assert server.max_open <= 2


def test_one_connection_queues_beyond_max_concurrent_streams(
    h2_fault_factory: Callable[..., H2FaultServer],
) -> None:
    server = h2_fault_factory(max_concurrent_streams=2)
    url = server.url
    with httpwire.ConnectionPool(http1=False, http2=True, max_connections=1) as pool:
        pool.request("GET", f"{url}/warm")
        with ThreadPoolExecutor(8) as executor:
            bodies = list(
                executor.map(lambda _: pool.request("GET", f"{url}/wait/0.1").content, range(8))
            )
        assert bodies == [b"ok waited"] * 8
    assert server.connections == 1 and server.max_open <= 2


def test_settings_change_mid_connection_is_followed_by_the_pool(
    run: Runner, h2_fault_factory: Callable[..., H2FaultServer]
) -> None:
    server = h2_fault_factory(max_concurrent_streams=10)
    url = server.url

    async def main() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True, max_connections=1) as pool:
            await pool.request("GET", f"{url}/settings/3")
            results = await _gather(*(pool.request("GET", f"{url}/wait/0.2") for _ in range(9)))
            assert all(r.content == b"ok waited" for r in results)

    run(main)
    assert server.connections == 1
    assert server.max_open <= 3


# -- retries --------------------------------------------------------------------------------------


def test_goaway_requests_are_retried_on_a_new_connection(
    run: Runner, h2_fault_factory: Callable[..., H2FaultServer]
) -> None:
    server = h2_fault_factory(goaway_after=3)
    url = server.url

    async def main() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True) as pool:
            results = await _gather(*(pool.request("GET", f"{url}/n{i}") for i in range(6)))
            assert [r.content for r in results] == [f"ok /n{i}".encode() for i in range(6)]
            # Sequential requests after it: the closed connection is not used again.
            for i in range(4):
                assert (await pool.request("GET", f"{url}/s{i}")).content == f"ok /s{i}".encode()

    run(main)
    assert server.errors == []
    # 6 concurrent: 3 on the first connection, 3 retried on a second one that then went away
    # after its third; the 4 sequential ones needed two more connections.
    assert server.connections >= 3


def test_goaway_retries_non_idempotent_requests_too(
    h2_fault_factory: Callable[..., H2FaultServer],
) -> None:
    server = h2_fault_factory(goaway_after=1)
    url = server.url
    with httpwire.ConnectionPool(http1=False, http2=True) as pool:
        with ThreadPoolExecutor(3) as executor:
            bodies = list(
                executor.map(
                    lambda i: pool.request("POST", f"{url}/echo", content=b"x%d" % i).content,
                    range(3),
                )
            )
        assert bodies == [b"x0", b"x1", b"x2"]


def test_refused_streams_are_retried_a_bounded_number_of_times(
    h2_fault: H2FaultServer,
) -> None:
    with httpwire.ConnectionPool(http1=False, http2=True) as pool:
        with pytest.raises(httpwire.RemoteProtocolError, match="REFUSED_STREAM"):
            pool.request("GET", h2_fault.url + "/refuse")
        assert pool.request("GET", h2_fault.url + "/x").content == b"ok /x"
    assert h2_fault.requests == 7  # the first try, five retries, then /x


def test_an_idle_connection_dropped_by_the_server_is_retried_for_idempotent_requests(
    h2_fault: H2FaultServer,
) -> None:
    with httpwire.ConnectionPool(http1=False, http2=True) as pool:
        assert pool.request("GET", h2_fault.url + "/bye").content == b"ok bye"
        assert pool.request("GET", h2_fault.url + "/after").content == b"ok /after"
        assert pool.request("GET", h2_fault.url + "/bye").content == b"ok bye"
        # A POST is not sent twice: the server might have processed it.
        with pytest.raises(httpwire.TransportError):
            pool.request("POST", h2_fault.url + "/echo", content=b"once")
    # The first /bye's connection, then the one /after was retried on (the POST was not retried).
    assert h2_fault.connections == 2


# -- failures and early closes --------------------------------------------------------------------


def test_a_server_reset_and_a_dropped_connection_do_not_poison_the_pool(
    run: Runner, h2_fault: H2FaultServer
) -> None:
    url = h2_fault.url

    async def main() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True) as pool:
            with pytest.raises(httpwire.RemoteProtocolError, match="INTERNAL_ERROR"):
                await pool.request("GET", f"{url}/reset")
            assert (await pool.request("GET", f"{url}/a")).content == b"ok /a"
            with pytest.raises(httpwire.TransportError):
                await pool.request("GET", f"{url}/drop")
            assert (await pool.request("GET", f"{url}/b")).content == b"ok /b"
            assert len(pool.connections) == 1

    run(main)
    assert h2_fault.connections == 2


def test_closing_a_streamed_response_early_resets_only_its_stream(h2_fault: H2FaultServer) -> None:
    with httpwire.ConnectionPool(http1=False, http2=True) as pool:
        with pool.stream("GET", h2_fault.url + "/hold") as response:
            chunks = response.iter_raw()
            assert next(chunks) == b"0123456789"
        conn = pool.connections[0]
        assert "IDLE 0 streams" in repr(conn)
        assert pool.request("GET", h2_fault.url + "/x").content == b"ok /x"
    assert h2_fault.resets == [(1, 8)]
    assert h2_fault.connections == 1


def test_trace_events_through_the_client(
    hypercorn_h2: HypercornServer, h2_ssl_context: Any
) -> None:
    names: list[str] = []

    def trace(name: str, info: dict[str, Any]) -> None:
        names.append(name)

    with httpwire.Client(http2=True, verify=h2_ssl_context) as client:
        client.get(hypercorn_h2.url + "/", extensions={"trace": trace})
    assert names[:4] == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
        "connection.start_tls.complete",
    ]
    assert "http2.send_connection_init.started" in names
    assert names[-2:] == ["http2.response_closed.started", "http2.response_closed.complete"]


# -- nginx --------------------------------------------------------------------------------------


def test_nginx_http2_through_the_client(
    run: Runner, nginx_h2: NginxH2Server, h2_ssl_context: Any
) -> None:
    url = nginx_h2.url
    with httpwire.Client(http2=True, verify=h2_ssl_context) as client:
        response = client.get(url + "/16m")
        assert response.http_version == "HTTP/2"
        assert response.content == NGINX_FILES["16m"]

    async def main() -> None:
        async with ahttpwire.Client(http2=True, verify=h2_ssl_context) as client:
            # nginx allows 128 streams per connection (http2_max_concurrent_streams)
            results = await _gather(*(client.get(url + "/small") for _ in range(100)))
            assert all(r.content == NGINX_FILES["small"] for r in results)
            big = await _gather(*(client.get(url + "/1m") for _ in range(8)))
            assert all(r.content == NGINX_FILES["1m"] for r in big)
            assert len(client._transport.connections) == 1
            # Beyond 128 at once, the pool opens more connections.
            results = await _gather(*(client.get(url + "/small") for _ in range(400)))
            assert all(r.content == NGINX_FILES["small"] for r in results)
            assert 1 < len(client._transport.connections) <= 4

    run(main)


def test_cancellations_under_load_leave_no_stream_behind(
    run: Runner, h2_fault_factory: Callable[..., H2FaultServer]
) -> None:
    server = h2_fault_factory(max_concurrent_streams=20)
    url = server.url

    async def one(pool: Any, i: int) -> str:
        path = f"{url}/wait/0.{i % 4}" if i % 3 else f"{url}/hold"
        limit = 0.05 + (i % 7) * 0.03
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            with trio.move_on_after(limit):
                await pool.request("GET", path)
                return "done"
            return "cancelled"
        try:
            async with asyncio.timeout(limit):
                await pool.request("GET", path)
                return "done"
        except TimeoutError:
            return "cancelled"

    async def main() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True, max_connections=2) as pool:
            await pool.request("GET", f"{url}/warm")
            results = await _gather(*(one(pool, i) for i in range(200)))
            assert all(r in ("done", "cancelled") for r in results), results
            assert "cancelled" in results and "done" in results
            for conn in pool.connections:
                assert "IDLE 0 streams" in repr(conn), pool.connections
            again = await _gather(*(pool.request("GET", f"{url}/x{i}") for i in range(40)))
            assert [r.content for r in again] == [f"ok /x{i}".encode() for i in range(40)]

    run(main)
    assert server.max_open <= 20
    assert server.errors == []


def test_a_request_waiting_for_a_new_connections_protocol_times_out_cleanly(
    run: Runner, full_backlog_url: str
) -> None:
    async def main() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True) as pool:
            opening = pool.request(
                "GET", full_backlog_url + "/", extensions={"timeout": {"connect": 1.0}}
            )

            async def waiting() -> Any:
                # Starts once the first request is connecting (trio may run tasks in any order).
                await until(lambda: pool.connections, "the first request is connecting")
                return await pool.request(
                    "GET",
                    full_backlog_url + "/",
                    extensions={"timeout": {"pool": 0.2, "connect": 1.0}},
                )

            results = await _gather(opening, waiting())
            assert isinstance(results[0], httpwire.ConnectTimeout), results
            assert isinstance(results[1], httpwire.PoolTimeout), results
            assert pool.connections == []

    run(main)


def test_an_idle_http2_connection_expires_when_another_origin_is_requested(
    h2_fault_factory: Callable[..., H2FaultServer],
) -> None:
    first, second = h2_fault_factory(), h2_fault_factory()
    with httpwire.ConnectionPool(http1=False, http2=True, keepalive_expiry=0.2) as pool:
        assert pool.request("GET", first.url + "/a").content == b"ok /a"
        threading.Event().wait(0.5)
        # Nothing is asked of the first origin again: its idle connection still goes.
        assert pool.request("GET", second.url + "/b").content == b"ok /b"
        assert [conn.origin[2] for conn in pool.connections] == [second.port]


def test_an_idle_http2_connection_expires(h2_fault: H2FaultServer) -> None:
    with httpwire.ConnectionPool(http1=False, http2=True, keepalive_expiry=0.2) as pool:
        assert pool.request("GET", h2_fault.url + "/a").content == b"ok /a"
        assert pool.request("GET", h2_fault.url + "/b").content == b"ok /b"
        assert h2_fault.connections == 1
        threading.Event().wait(0.5)
        assert pool.request("GET", h2_fault.url + "/c").content == b"ok /c"
        assert h2_fault.connections == 2
        assert len(pool.connections) == 1
