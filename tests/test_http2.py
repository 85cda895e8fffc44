"""The HTTP/2 connection on its own (``HTTP2Connection`` / ``AsyncHTTP2Connection`` over an opened
stream), against hypercorn and nginx, and against an ``h2``-library server for the faults: flow
control both ways, trailers, RST_STREAM both ways, PING, GOAWAY, SETTINGS changes, a dropped
connection, timeouts and cancellation. Async tests run on asyncio and on trio."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import trio
from app import HELLO, pattern
from conftest_h2 import *  # noqa: F403
from h2servers import H2FaultServer, HypercornServer, NginxH2Server

import ahttpwire
import httpwire
from httpwire._async import _http2 as async_http2
from httpwire._backends.base import AsyncNetworkStreamInterface
from httpwire._sync._http2 import HTTP2Connection, StreamRefused

Runner = Callable[[Callable[[], Coroutine[Any, Any, Any]]], Any]


def _run_asyncio(fn: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(fn())


def _run_trio(fn: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return trio.run(fn)


@pytest.fixture(params=["asyncio", "trio"])
def run(request: pytest.FixtureRequest) -> Runner:
    return _run_asyncio if request.param == "asyncio" else _run_trio


async def _gather(*coros: Coroutine[Any, Any, Any]) -> list[Any]:
    """``asyncio.gather`` that also works under trio; exceptions are returned, not raised."""
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


async def _sleep(seconds: float) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        await trio.sleep(seconds)
    else:
        await asyncio.sleep(seconds)


# -- against hypercorn and nginx ------------------------------------------------------------------


def test_sync_get_over_tls_alpn(
    hypercorn_h2: HypercornServer, open_h2_sync: Callable[..., HTTP2Connection], h2_ssl_context: Any
) -> None:
    conn = open_h2_sync(hypercorn_h2.url, h2_ssl_context)
    assert repr(conn) == f'<Connection "{hypercorn_h2.url}" HTTP/2 IDLE 0 streams>'
    with conn.stream("GET", hypercorn_h2.url + "/") as response:
        assert repr(conn) == f'<Connection "{hypercorn_h2.url}" HTTP/2 ACTIVE 1 stream>'
        body = response.read()
    assert body == HELLO
    assert response.http_version == "HTTP/2"
    assert response.extensions["http_version"] == b"HTTP/2"
    assert response.extensions["stream_id"] == 1
    assert response.extensions["network_stream"].get_extra_info("ssl_object") is not None
    assert conn.is_idle and conn.is_available and not conn.is_closed
    second = conn.request("GET", hypercorn_h2.url + "/bytes/1000")
    assert second.content == pattern(1000)
    assert second.extensions["stream_id"] == 3
    assert conn.requests_completed == 2


def test_async_500_concurrent_requests_over_one_tls_connection(
    run: Runner, hypercorn_h2: HypercornServer, open_h2_async: Any, h2_ssl_context: Any
) -> None:
    url = hypercorn_h2.url

    async def main() -> None:
        conn = await open_h2_async(url, h2_ssl_context)
        try:
            results = await _gather(
                *(conn.request("GET", f"{url}/bytes/{i % 97}") for i in range(500))
            )
            errors = [r for r in results if isinstance(r, BaseException)]
            assert errors == []
            assert [r.content for r in results] == [pattern(i % 97) for i in range(500)]
            assert sorted(r.extensions["stream_id"] for r in results) == list(range(1, 1000, 2))
            # hypercorn allows 100 streams at once: the other 400 waited for a free one.
            assert conn.max_concurrent_streams == 100
            assert conn.is_idle and conn.active_streams == 0
        finally:
            await conn.aclose()
        assert conn.is_closed

    run(main)


def test_async_prior_knowledge_cleartext(
    run: Runner, hypercorn_h2c: HypercornServer, open_h2_async: Any
) -> None:
    url = hypercorn_h2c.url

    async def main() -> None:
        conn = await open_h2_async(url)
        try:
            response = await conn.request("POST", url + "/echo", content=b"x" * 100_000)
            assert response.content == b"x" * 100_000
            assert response.headers["x-received-length"] == "100000"
            assert response.http_version == "HTTP/2"
        finally:
            await conn.aclose()

    run(main)


def test_sync_40_threads_share_one_connection(
    hypercorn_h2: HypercornServer, open_h2_sync: Callable[..., HTTP2Connection], h2_ssl_context: Any
) -> None:
    url = hypercorn_h2.url
    conn = open_h2_sync(url, h2_ssl_context)

    def work(i: int) -> list[bytes]:
        out = []
        for j in range(10):
            n = (i * 10 + j) % 300
            out.append(conn.request("GET", f"{url}/bytes/{n}").content)
        return out

    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(work, range(40)))
    assert results == [[pattern((i * 10 + j) % 300) for j in range(10)] for i in range(40)]
    assert conn.requests_completed == 400 and conn.active_streams == 0


def test_sync_streamed_upload_and_large_download_hypercorn(
    hypercorn_h2c: HypercornServer, open_h2_sync: Callable[..., HTTP2Connection]
) -> None:
    url = hypercorn_h2c.url
    conn = open_h2_sync(url)
    chunks = [pattern(70_000)] * 50  # 3.5 MB, above hypercorn's 64 KiB receive window

    response = conn.send(httpwire.Request("POST", url + "/echo", content=iter(chunks)))
    assert response.read() == b"".join(chunks)
    big = conn.request("GET", url + f"/bytes/{20 << 20}")
    assert big.content == pattern(20 << 20)


def test_nginx_http2_both_flavours(
    nginx_h2: NginxH2Server,
    open_h2_sync: Callable[..., HTTP2Connection],
    open_h2_async: Any,
    h2_ssl_context: Any,
) -> None:
    from servers import NGINX_FILES

    url = nginx_h2.url
    conn = open_h2_sync(url, h2_ssl_context)
    assert conn.request("GET", url + "/16m").content == NGINX_FILES["16m"]
    assert conn.request("GET", url + "/small").content == NGINX_FILES["small"]

    async def main() -> None:
        aconn = await open_h2_async(url, h2_ssl_context)
        try:
            results = await _gather(*(aconn.request("GET", url + "/1m") for _ in range(20)))
            assert all(r.content == NGINX_FILES["1m"] for r in results)
        finally:
            await aconn.aclose()

    _run_asyncio(main)
    _run_trio(main)


# -- flow control, trailers, resets, PING, SETTINGS, GOAWAY (h2 fault server) ------------------------


def test_sync_flow_control_both_ways_beyond_the_windows(
    h2_fault: H2FaultServer, open_h2_sync: Callable[..., HTTP2Connection]
) -> None:
    conn = open_h2_sync(h2_fault.url)
    body = pattern(17 << 20)  # above the server's 64 KiB window and our 16 MiB connection window
    echoed = conn.request("POST", h2_fault.url + "/echo", content=body)
    assert echoed.headers["x-received-length"] == str(len(body))
    assert echoed.content == body
    download = conn.request("GET", h2_fault.url + f"/bytes/{24 << 20}")
    assert download.content == pattern(24 << 20)
    assert h2_fault.errors == []


def test_async_flow_control_with_concurrent_large_streams(
    run: Runner, h2_fault: H2FaultServer, open_h2_async: Any
) -> None:
    url = h2_fault.url

    async def main() -> None:
        conn = await open_h2_async(url)
        try:
            up = pattern(3 << 20)
            results = await _gather(
                *(conn.request("GET", f"{url}/bytes/{6 << 20}") for _ in range(4)),
                *(conn.request("POST", f"{url}/echo", content=up) for _ in range(4)),
            )
            assert [r.content for r in results] == [pattern(6 << 20)] * 4 + [up] * 4
        finally:
            await conn.aclose()

    run(main)


def test_trailers_are_in_the_extensions(
    h2_fault: H2FaultServer, open_h2_sync: Callable[..., HTTP2Connection]
) -> None:
    conn = open_h2_sync(h2_fault.url)
    response = conn.request("GET", h2_fault.url + "/trailers")
    assert response.content == b"body"
    trailers = response.extensions["trailers"]
    assert trailers["x-checksum"] == "abc" and trailers["x-count"] == "2"


def test_a_server_reset_fails_that_request_alone(
    run: Runner, h2_fault: H2FaultServer, open_h2_async: Any
) -> None:
    url = h2_fault.url

    async def main() -> None:
        conn = await open_h2_async(url)
        try:
            results = await _gather(
                conn.request("GET", url + "/wait/0.2"),
                conn.request("GET", url + "/reset"),
                conn.request("GET", url + "/wait/0.1"),
            )
            assert results[0].content == b"ok waited"
            assert isinstance(results[1], httpwire.RemoteProtocolError)
            assert "INTERNAL_ERROR" in str(results[1])
            assert results[2].content == b"ok waited"
            assert conn.active_streams == 0 and conn.is_available
            again = await conn.request("GET", url + "/again")
            assert again.content == b"ok /again"
        finally:
            await conn.aclose()

    run(main)


def test_refused_stream_is_retryable(
    h2_fault: H2FaultServer, open_h2_sync: Callable[..., HTTP2Connection]
) -> None:
    conn = open_h2_sync(h2_fault.url)
    with pytest.raises(StreamRefused, match="REFUSED_STREAM"):
        conn.request("GET", h2_fault.url + "/refuse")
    assert conn.request("GET", h2_fault.url + "/x").content == b"ok /x"


def test_closing_a_response_early_resets_its_stream(
    h2_fault: H2FaultServer, open_h2_sync: Callable[..., HTTP2Connection]
) -> None:
    conn = open_h2_sync(h2_fault.url)
    for _ in range(3):
        response = conn.send(httpwire.Request("GET", h2_fault.url + "/hold"))
        chunks = response.iter_raw()
        assert next(chunks) == b"0123456789"
        assert conn.active_streams == 1
        response.close()
        assert conn.active_streams == 0
    assert conn.request("GET", h2_fault.url + "/after").content == b"ok /after"
    # The server saw RST_STREAM(CANCEL) for each of the three streams.
    assert sorted(h2_fault.resets) == [(1, 8), (3, 8), (5, 8)]


def test_ping_is_acknowledged(
    h2_fault: H2FaultServer, open_h2_sync: Callable[..., HTTP2Connection]
) -> None:
    conn = open_h2_sync(h2_fault.url)
    assert conn.request("GET", h2_fault.url + "/ping").content == b"ok ping"
    assert conn.request("GET", h2_fault.url + "/x").content == b"ok /x"
    assert h2_fault.pings_acked == 1


def test_goaway_completes_streams_up_to_last_and_refuses_the_rest(
    run: Runner, h2_fault_factory: Callable[..., H2FaultServer], open_h2_async: Any
) -> None:
    server = h2_fault_factory(goaway_after=3)
    url = server.url

    async def main() -> None:
        conn = await open_h2_async(url)
        try:
            # Six requests at once: the server answers the first three after its GOAWAY.
            results = await _gather(*(conn.request("GET", f"{url}/n{i}") for i in range(6)))
            ok = [r for r in results if isinstance(r, httpwire.Response)]
            refused = [r for r in results if isinstance(r, BaseException)]
            assert sorted(r.extensions["stream_id"] for r in ok) == [1, 3, 5]
            assert len(refused) == 3
            assert all(type(e).__name__ == "StreamRefused" for e in refused)
            assert all(isinstance(e, httpwire.RemoteProtocolError) for e in refused)
            # No new stream on a connection going away, and it closed with its last stream.
            assert conn.is_closed and not conn.is_available
            with pytest.raises(httpwire.RemoteProtocolError):
                await conn.request("GET", f"{url}/late")
        finally:
            await conn.aclose()

    run(main)
    assert server.errors == []


def test_max_concurrent_streams_is_respected_and_followed(
    run: Runner, h2_fault_factory: Callable[..., H2FaultServer], open_h2_async: Any
) -> None:
    server = h2_fault_factory(max_concurrent_streams=2)
    url = server.url

    async def main() -> None:
        conn = await open_h2_async(url)
        try:
            await conn.request("GET", f"{url}/first")  # the server's SETTINGS are read by now
            assert conn.max_concurrent_streams == 2
            results = await _gather(*(conn.request("GET", f"{url}/wait/0.05") for _ in range(8)))
            assert all(r.content == b"ok waited" for r in results)
            assert server.max_open <= 2
            # The server raises its limit mid-connection: more streams may open at once.
            await conn.request("GET", f"{url}/settings/5")
            assert conn.max_concurrent_streams == 5
            results = await _gather(*(conn.request("GET", f"{url}/wait/0.2") for _ in range(10)))
            assert all(r.content == b"ok waited" for r in results)
            assert 2 < server.max_open <= 5
        finally:
            await conn.aclose()

    run(main)


def test_a_connection_dropped_mid_stream_fails_every_stream_on_it(
    run: Runner, h2_fault: H2FaultServer, open_h2_async: Any
) -> None:
    url = h2_fault.url

    async def main() -> None:
        conn = await open_h2_async(url)
        try:
            waiting = conn.request("GET", f"{url}/wait/5")
            results = await _gather(waiting, conn.request("GET", f"{url}/drop"))
            assert all(isinstance(r, httpwire.TransportError) for r in results), results
            assert conn.is_closed and not conn.is_available
        finally:
            await conn.aclose()

    run(main)


def test_a_read_timeout_fails_one_stream_and_keeps_the_connection(
    h2_fault: H2FaultServer, open_h2_sync: Callable[..., HTTP2Connection]
) -> None:
    conn = open_h2_sync(h2_fault.url)
    with pytest.raises(httpwire.ReadTimeout):
        conn.request("GET", h2_fault.url + "/wait/3", extensions={"timeout": {"read": 0.2}})
    assert conn.active_streams == 0 and not conn.is_closed
    assert conn.request("GET", h2_fault.url + "/x").content == b"ok /x"
    assert (1, 8) in h2_fault.resets  # the timed-out stream was reset


def test_a_cancelled_request_resets_its_stream(
    run: Runner, h2_fault: H2FaultServer, open_h2_async: Any
) -> None:
    url = h2_fault.url

    async def main() -> None:
        conn = await open_h2_async(url)
        try:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                with trio.move_on_after(0.3):
                    await conn.request("GET", f"{url}/wait/5")
            else:
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.3):
                        await conn.request("GET", f"{url}/wait/5")
            assert conn.active_streams == 0 and conn.is_available
            assert (await conn.request("GET", f"{url}/x")).content == b"ok /x"
        finally:
            await conn.aclose()

    run(main)
    assert (1, 8) in h2_fault.resets


def test_trace_events(
    h2_fault: H2FaultServer, open_h2_sync: Callable[..., HTTP2Connection]
) -> None:
    conn = open_h2_sync(h2_fault.url)
    events: list[str] = []

    def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    conn.request("POST", h2_fault.url + "/echo", content=b"abc", extensions={"trace": trace})
    assert events == [
        "http2.send_connection_init.started",
        "http2.send_connection_init.complete",
        "http2.send_request_headers.started",
        "http2.send_request_headers.complete",
        "http2.send_request_body.started",
        "http2.send_request_body.complete",
        "http2.receive_response_headers.started",
        "http2.receive_response_headers.complete",
        "http2.receive_response_body.started",
        "http2.receive_response_body.complete",
        "http2.response_closed.started",
        "http2.response_closed.complete",
    ]


def test_threads_and_early_closes_keep_the_stream_count_exact(
    h2_fault: H2FaultServer, open_h2_sync: Callable[..., HTTP2Connection]
) -> None:
    conn = open_h2_sync(h2_fault.url)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(10):
                if (i + j) % 3 == 0:
                    response = conn.send(httpwire.Request("GET", h2_fault.url + "/hold"))
                    response.close()
                else:
                    assert conn.request("GET", f"{h2_fault.url}/{i}-{j}").content == (
                        f"ok /{i}-{j}".encode()
                    )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert conn.active_streams == 0 and conn.is_idle


def test_sync_close_wakes_a_thread_blocked_reading(
    h2_fault: H2FaultServer, open_h2_sync: Callable[..., HTTP2Connection]
) -> None:
    conn = open_h2_sync(h2_fault.url)
    errors: list[BaseException] = []
    started = threading.Event()

    def work() -> None:
        started.set()
        try:
            conn.request("GET", h2_fault.url + "/wait/30")
        except BaseException as exc:  # checked below
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    started.wait(5)
    for _ in range(500):  # until the request is on the wire and its thread reads
        if conn._reading:
            break
        threading.Event().wait(0.01)
    conn.close()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], httpwire.TransportError)
    assert conn.is_closed


class _StallAfterWrite(AsyncNetworkStreamInterface):
    """A real stream whose next write, once armed, hands all its bytes on and then stalls for
    ``stall`` seconds (a drain wait on asyncio, a slow ``send_all`` on trio): a task cancelled
    meanwhile was cancelled in the middle of a write that carried whole frames."""

    def __init__(self, stream: Any, stall: float) -> None:
        self._stream = stream
        self._stall = stall
        self.armed = False
        self.cancel_safe_writes = stream.cancel_safe_writes

    async def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        data: bytes = await self._stream.read(max_bytes, timeout)
        return data

    async def write(self, data: bytes, timeout: float | None = None) -> None:
        await self._stream.write(data, timeout)
        if self.armed:
            self.armed = False
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                await trio.sleep(self._stall)
            else:
                await asyncio.sleep(self._stall)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)

    async def aclose(self) -> None:
        await self._stream.aclose()


def test_a_task_cancelled_inside_a_connection_write_leaves_the_connection_usable(
    run: Runner, hypercorn_h2c: HypercornServer
) -> None:
    """One write carries every stream's frames. A task cancelled while it writes must not fail
    the other streams: trio shields the write (it finishes, then the task sees its
    cancellation); asyncio's stream queued every byte before its only await."""
    url = hypercorn_h2c.url
    origin = ("http", hypercorn_h2c.host, hypercorn_h2c.port)

    async def main() -> list[str]:
        raw = await ahttpwire.NetworkBackend().connect(origin[1], origin[2], timeout=10)
        stream = _StallAfterWrite(raw, stall=0.3)
        conn = async_http2.AsyncHTTP2Connection(origin, stream)
        try:
            await conn.request("GET", url + "/")  # the preface and SETTINGS are out
            stream.armed = True
            outcome = "not cancelled"
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                with trio.move_on_after(0.05):
                    await conn.request("POST", url + "/echo", content=b"x" * 1000)
                outcome = "cancelled"
            else:
                try:
                    async with asyncio.timeout(0.05):
                        await conn.request("POST", url + "/echo", content=b"x" * 1000)
                except TimeoutError:
                    outcome = "cancelled"
            after = await conn.request("POST", url + "/echo", content=b"still usable")
            return [outcome, after.content.decode()]
        finally:
            await conn.aclose()

    assert run(main) == ["cancelled", "still usable"]
