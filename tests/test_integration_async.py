"""The async flavour (``ahttpwire``) against real servers, mirroring ``test_integration_sync.py``.

Each test runs its coroutine with ``asyncio.run`` (there is no pytest-asyncio); a few at the end
run under ``trio.run`` to prove the runtime is picked at run time.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
import trio
from app import COMPRESSIBLE, HELLO, JSON_DOC, STALL_BODY, pattern
from servers import FaultServer, UvicornServer

import ahttpwire

SIZES = [0, 1, 64 * 1024, 1 << 20, 16 << 20]
SIZE_IDS = ["0B", "1B", "64KiB", "1MiB", "16MiB"]
SHORT = 0.3

T = TypeVar("T")


def run(fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await fn()

    return asyncio.run(main())


def assert_same_bytes(got: bytes, want: bytes) -> None:
    assert len(got) == len(want), f"got {len(got)} bytes, want {len(want)}"
    if got != want:
        index = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        raise AssertionError(f"bodies differ first at byte {index}")


def upload_body(n: int) -> bytes:
    return pattern(n + 7)[7:]


async def apieces(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def timeouts(**limits: float) -> dict[str, float]:
    config = {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    config.update(limits)
    return config


# --- bodies in both directions, HTTP and HTTPS ------------------------------------------------


@pytest.mark.parametrize("n", SIZES, ids=SIZE_IDS)
def test_get_body_with_content_length(live_server: UvicornServer, n: int) -> None:
    async def main() -> Any:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            return await client.get(f"{live_server.url}/bytes/{n}")

    response = run(main)
    assert response.status_code == 200
    assert response.headers["content-length"] == str(n)
    assert_same_bytes(response.content, pattern(n))


@pytest.mark.parametrize("n", SIZES, ids=SIZE_IDS)
def test_get_chunked_body(live_server: UvicornServer, n: int) -> None:
    async def main() -> Any:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            return await client.get(f"{live_server.url}/stream/{n}?chunk=65536")

    response = run(main)
    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    assert_same_bytes(response.content, pattern(n))


@pytest.mark.parametrize("n", SIZES, ids=SIZE_IDS)
def test_post_body_with_content_length(live_server: UvicornServer, n: int) -> None:
    data = upload_body(n)

    async def main() -> Any:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            return await client.post(f"{live_server.url}/echo", content=data)

    response = run(main)
    assert response.status_code == 200
    assert response.headers["x-received-length"] == str(n)
    assert response.headers["x-request-content-length"] == str(n)
    assert response.headers["x-request-transfer-encoding"] == ""
    assert_same_bytes(response.content, data)


@pytest.mark.parametrize("n", SIZES, ids=SIZE_IDS)
def test_post_chunked_body_from_async_iterator(live_server: UvicornServer, n: int) -> None:
    data = upload_body(n)

    async def main() -> Any:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            return await client.post(f"{live_server.url}/echo", content=apieces(data))

    response = run(main)
    assert response.status_code == 200
    assert response.headers["x-request-transfer-encoding"] == "chunked"
    assert response.headers["x-request-content-length"] == ""
    assert response.headers["x-received-length"] == str(n)
    assert_same_bytes(response.content, data)


def test_json_request_and_response(live_server: UvicornServer) -> None:
    async def main() -> tuple[Any, Any]:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            sent = await client.post(f"{live_server.url}/anything", json={"a": [1, 2]})
            got = await client.get(f"{live_server.url}/json")
            return sent, got

    sent, got = run(main)
    info = sent.json()
    assert info["method"] == "POST"
    assert info["headers"]["content-type"] == "application/json"
    assert json.loads(info["body"]) == {"a": [1, 2]}
    assert got.json() == JSON_DOC


def test_default_headers(http_server: UvicornServer) -> None:
    async def main() -> Any:
        async with ahttpwire.Client() as client:
            return (await client.get(f"{http_server.url}/echo-headers")).json()

    headers = run(main)
    assert headers["host"] == f"127.0.0.1:{http_server.port}"
    assert headers["user-agent"].startswith("python-httpwire/")
    assert headers["accept"] == "*/*"
    codings = {c.strip() for c in headers["accept-encoding"].split(",")}
    assert {"gzip", "deflate", "br", "zstd"} <= codings


def test_module_level_get(http_server: UvicornServer) -> None:
    response = run(lambda: ahttpwire.get(f"{http_server.url}/"))
    assert response.status_code == 200
    assert response.content == HELLO
    assert response.http_version == "HTTP/1.1"


def test_https_is_verified_by_default(https_server: UvicornServer) -> None:
    async def main() -> None:
        async with ahttpwire.Client() as client:
            await client.get(f"{https_server.url}/")

    with pytest.raises(ahttpwire.ConnectError):
        run(main)


def test_https_verify_with_ca_bundle_path(https_server: UvicornServer, ca_cert_path: str) -> None:
    async def main() -> Any:
        async with ahttpwire.Client(verify=ca_cert_path) as client:
            return await client.get(f"{https_server.url}/")

    assert run(main).content == HELLO


# --- status codes, HEAD, cookies ----------------------------------------------------------------


def test_status_code_and_raise_for_status(http_server: UvicornServer) -> None:
    async def main() -> Any:
        async with ahttpwire.Client() as client:
            return await client.get(f"{http_server.url}/status/404")

    response = run(main)
    assert response.status_code == 404
    with pytest.raises(ahttpwire.HTTPStatusError):
        response.raise_for_status()


def test_head_has_no_body_and_keeps_the_connection(live_server: UvicornServer) -> None:
    async def main() -> tuple[str, Any, str]:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            before = (await client.get(f"{live_server.url}/client-port")).text
            head = await client.head(f"{live_server.url}/bytes/1000")
            after = (await client.get(f"{live_server.url}/client-port")).text
            return before, head, after

    before, head, after = run(main)
    assert head.headers["content-length"] == "1000"
    assert head.content == b""
    assert before == after


def test_cookies_persist_on_the_client(http_server: UvicornServer) -> None:
    async def main() -> Any:
        async with ahttpwire.Client() as client:
            await client.get(f"{http_server.url}/set-cookie?session=abc")
            return (await client.get(f"{http_server.url}/cookies")).json()

    assert run(main) == {"session": "abc"}


# --- keep-alive and concurrency -----------------------------------------------------------------


def test_keepalive_ten_requests_one_connection(live_server: UvicornServer) -> None:
    async def main() -> list[str]:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            return [(await client.get(f"{live_server.url}/client-port")).text for _ in range(10)]

    ports = run(main)
    assert len(set(ports)) == 1, ports


def test_connection_close_from_server_opens_a_new_connection(live_server: UvicornServer) -> None:
    async def main() -> tuple[str, str]:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            first = (await client.get(f"{live_server.url}/client-port")).text
            await client.get(f"{live_server.url}/close")
            second = (await client.get(f"{live_server.url}/client-port")).text
            return first, second

    first, second = run(main)
    assert first != second


def test_server_closing_idle_keepalive_connection(fault_server: FaultServer) -> None:
    async def main() -> tuple[bytes, bytes]:
        async with ahttpwire.Client() as client:
            first = await client.get(f"{fault_server.url}/ok-then-close")
            await asyncio.to_thread(fault_server.wait_for_server_closes, 1)
            second = await client.get(f"{fault_server.url}/ok")
            return first.content, second.content

    assert run(main) == (b"ok", b"ok")
    assert fault_server.accepted == 2


def test_concurrent_tasks_share_one_client(http_server: UvicornServer) -> None:
    async def main() -> list[str]:
        async with ahttpwire.Client(
            transport=ahttpwire.ConnectionPool(max_connections=5)
        ) as client:

            async def one() -> str:
                return (await client.get(f"{http_server.url}/client-port")).text

            return list(await asyncio.gather(*(one() for _ in range(50))))

    ports = run(main)
    assert len(ports) == 50
    assert 1 <= len(set(ports)) <= 5


# --- redirects ----------------------------------------------------------------------------------


def test_redirects_followed(http_server: UvicornServer) -> None:
    async def main() -> Any:
        async with ahttpwire.Client(follow_redirects=True) as client:
            return await client.get(f"{http_server.url}/redirect/3")

    response = run(main)
    assert response.text == "redirect done"
    assert str(response.url) == f"{http_server.url}/redirect/0"


def test_redirects_not_followed_by_default(http_server: UvicornServer) -> None:
    async def main() -> Any:
        async with ahttpwire.Client() as client:
            return await client.get(f"{http_server.url}/redirect/2")

    response = run(main)
    assert response.status_code == 302
    assert response.headers["location"] == "/redirect/1"


def test_too_many_redirects(http_server: UvicornServer) -> None:
    async def main() -> None:
        async with ahttpwire.Client(follow_redirects=True, max_redirects=3) as client:
            await client.get(f"{http_server.url}/redirect/5")

    with pytest.raises(ahttpwire.TooManyRedirects):
        run(main)


def test_303_turns_post_into_get_without_body(http_server: UvicornServer) -> None:
    query = urlencode({"url": "/anything", "status": "303"})

    async def main() -> Any:
        async with ahttpwire.Client(follow_redirects=True) as client:
            return await client.post(f"{http_server.url}/redirect-to?{query}", content=b"payload")

    info = run(main).json()
    assert info["method"] == "GET"
    assert info["body_length"] == 0


def test_307_keeps_method_and_body(http_server: UvicornServer) -> None:
    query = urlencode({"url": "/echo", "status": "307"})

    async def main() -> Any:
        async with ahttpwire.Client(follow_redirects=True) as client:
            return await client.post(f"{http_server.url}/redirect-to?{query}", content=b"payload")

    response = run(main)
    assert response.headers["x-request-method"] == "POST"
    assert response.content == b"payload"


# --- content decoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "coding"),
    [("/gzip", "gzip"), ("/deflate", "deflate"), ("/brotli", "br"), ("/zstd", "zstd")],
)
def test_content_decoding(live_server: UvicornServer, path: str, coding: str) -> None:
    async def main() -> Any:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            return await client.get(f"{live_server.url}{path}")

    response = run(main)
    assert response.headers["content-encoding"] == coding
    assert_same_bytes(response.content, COMPRESSIBLE)


def test_aiter_raw_gives_the_encoded_bytes(http_server: UvicornServer) -> None:
    async def main() -> bytes:
        async with ahttpwire.Client() as client:
            async with client.stream("GET", f"{http_server.url}/gzip") as response:
                return b"".join([chunk async for chunk in response.aiter_raw()])

    assert gzip.decompress(run(main)) == COMPRESSIBLE


# --- streaming ----------------------------------------------------------------------------------


def test_stream_aiter_bytes(live_server: UvicornServer) -> None:
    n = 1 << 20

    async def main() -> list[bytes]:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            async with client.stream("GET", f"{live_server.url}/stream/{n}?chunk=1000") as response:
                assert response.status_code == 200
                return [chunk async for chunk in response.aiter_bytes()]

    chunks = run(main)
    assert all(chunks), "aiter_bytes yielded an empty chunk"
    assert_same_bytes(b"".join(chunks), pattern(n))


def test_stream_read_to_end_releases_the_connection(live_server: UvicornServer) -> None:
    async def main() -> tuple[str, int, str]:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            before = (await client.get(f"{live_server.url}/client-port")).text
            total = 0
            async with client.stream("GET", f"{live_server.url}/bytes/{1 << 20}") as response:
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
            after = (await client.get(f"{live_server.url}/client-port")).text
            return before, total, after

    before, total, after = run(main)
    assert total == 1 << 20
    assert before == after


def test_stream_closed_early_discards_the_connection(live_server: UvicornServer) -> None:
    async def main() -> tuple[str, bytes, str]:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            before = (await client.get(f"{live_server.url}/client-port")).text
            async with client.stream("GET", f"{live_server.url}/bytes/{16 << 20}") as response:
                first = b""
                async for chunk in response.aiter_bytes():
                    first = chunk
                    break
            after = (await client.get(f"{live_server.url}/client-port")).text
            return before, first, after

    before, first, after = run(main)
    assert first
    assert before != after


def test_stream_aread_then_json(http_server: UvicornServer) -> None:
    async def main() -> Any:
        async with ahttpwire.Client() as client:
            async with client.stream("GET", f"{http_server.url}/json") as response:
                await response.aread()
                return response.json()

    assert run(main) == JSON_DOC


# --- timeouts -----------------------------------------------------------------------------------


def test_read_timeout_before_the_response_head(http_server: UvicornServer) -> None:
    async def main() -> bytes:
        async with ahttpwire.Client(timeout=timeouts(read=SHORT)) as client:
            with pytest.raises(ahttpwire.ReadTimeout):
                await client.get(f"{http_server.url}/slow-head?seconds=10")
            return (await client.get(f"{http_server.url}/")).content

    assert run(main) == HELLO


def test_read_timeout_in_the_body(live_server: UvicornServer) -> None:
    async def main() -> bytes:
        async with ahttpwire.Client(verify=live_server.verify, timeout=timeouts(read=SHORT)) as c:
            with pytest.raises(ahttpwire.ReadTimeout):
                await c.get(f"{live_server.url}/stall?seconds=10")
            return (await c.get(f"{live_server.url}/")).content

    assert run(main) == HELLO


def test_stall_shorter_than_read_timeout_completes(http_server: UvicornServer) -> None:
    async def main() -> bytes:
        async with ahttpwire.Client(timeout=timeouts(read=10.0)) as client:
            return (await client.get(f"{http_server.url}/stall?seconds=0.2")).content

    assert run(main) == STALL_BODY


def test_read_timeout_against_a_server_that_never_answers(fault_server: FaultServer) -> None:
    async def main() -> None:
        async with ahttpwire.Client(timeout=timeouts(read=SHORT)) as client:
            await client.get(f"{fault_server.url}/silent")

    with pytest.raises(ahttpwire.ReadTimeout):
        run(main)


def test_connect_timeout(full_backlog_url: str) -> None:
    async def main() -> None:
        async with ahttpwire.Client(timeout=timeouts(connect=SHORT)) as client:
            await client.get(f"{full_backlog_url}/")

    with pytest.raises(ahttpwire.ConnectTimeout):
        run(main)


def test_connect_refused_is_connect_error(refused_url: str) -> None:
    async def main() -> None:
        async with ahttpwire.Client() as client:
            await client.get(f"{refused_url}/")

    with pytest.raises(ahttpwire.ConnectError):
        run(main)


def test_pool_timeout_with_one_connection_held(http_server: UvicornServer) -> None:
    async def main() -> bytes:
        pool = ahttpwire.ConnectionPool(max_connections=1)
        async with ahttpwire.Client(transport=pool, timeout=timeouts(pool=SHORT)) as client:
            async with client.stream("GET", f"{http_server.url}/stall?seconds=10") as held:
                assert held.status_code == 200
                with pytest.raises(ahttpwire.PoolTimeout):
                    await client.get(f"{http_server.url}/")
            return (await client.get(f"{http_server.url}/")).content

    assert run(main) == HELLO


def test_pool_timeout_on_the_pool_itself(http_server: UvicornServer) -> None:
    async def main() -> bytes:
        async with ahttpwire.ConnectionPool(max_connections=1) as pool:
            async with pool.stream("GET", f"{http_server.url}/stall?seconds=10") as held:
                assert held.status_code == 200
                with pytest.raises(ahttpwire.PoolTimeout):
                    await pool.request(
                        "GET", f"{http_server.url}/", extensions={"timeout": timeouts(pool=SHORT)}
                    )
            return (await pool.request("GET", f"{http_server.url}/")).content

    assert run(main) == HELLO


def test_timeout_block_covers_a_whole_streamed_body(http_server: UvicornServer) -> None:
    received = 0

    async def main() -> None:
        nonlocal received
        async with ahttpwire.Client(timeout=timeouts(read=10.0)) as client:
            async with ahttpwire.timeout(1.5):
                async with client.stream("GET", f"{http_server.url}/drip?n=400&delay=0.05") as r:
                    async for chunk in r.aiter_bytes():
                        received += len(chunk)

    with pytest.raises(ahttpwire.ReadTimeout):
        run(main)
    assert 0 < received < 400


def test_plain_with_timeout_block_works_in_async_code(http_server: UvicornServer) -> None:
    async def main() -> None:
        async with ahttpwire.Client() as client:
            with ahttpwire.timeout(SHORT):
                await client.get(f"{http_server.url}/slow-head?seconds=10")

    with pytest.raises(ahttpwire.ReadTimeout):
        run(main)


def test_slow_but_live_stream_is_not_cut_off(http_server: UvicornServer) -> None:
    async def main() -> bytes:
        async with ahttpwire.Client(timeout=timeouts(read=1.0)) as client:
            return (await client.get(f"{http_server.url}/drip?n=30&delay=0.05")).content

    assert run(main) == b"*" * 30


def test_cancelled_timeout_block_no_longer_applies(http_server: UvicornServer) -> None:
    async def main() -> int:
        async with ahttpwire.Client() as client:
            async with ahttpwire.timeout(0.1) as block:
                block.cancel()
                return (await client.get(f"{http_server.url}/slow-head?seconds=0.4")).status_code

    assert run(main) == 200


def test_task_cancellation_does_not_poison_the_pool(http_server: UvicornServer) -> None:
    async def main() -> str:
        pool = ahttpwire.ConnectionPool(max_connections=1)
        async with ahttpwire.Client(transport=pool) as client:
            await client.get(f"{http_server.url}/client-port")
            # Cancelled while waiting for a response head that comes only after 10 s.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.get(f"{http_server.url}/slow-head?seconds=10"), 0.5)
            # The only connection slot must be free again, and the interrupted connection must
            # not be reused (its late "slow head done" answer would come back instead).
            async with ahttpwire.timeout(5):
                return (await client.get(f"{http_server.url}/client-port")).text

    assert run(main).isdigit()


# --- broken servers -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/truncated", "/truncated-chunked"])
def test_truncated_body(fault_server: FaultServer, path: str) -> None:
    async def main() -> bytes:
        async with ahttpwire.Client() as client:
            with pytest.raises((ahttpwire.RemoteProtocolError, ahttpwire.ReadError)):
                await client.get(f"{fault_server.url}{path}")
            return (await client.get(f"{fault_server.url}/ok")).content

    assert run(main) == b"ok"
    assert fault_server.accepted == 2


def test_server_closes_without_response(fault_server: FaultServer) -> None:
    async def main() -> None:
        async with ahttpwire.Client() as client:
            await client.get(f"{fault_server.url}/close")

    with pytest.raises((ahttpwire.RemoteProtocolError, ahttpwire.ReadError)):
        run(main)


def test_server_resets_the_connection(fault_server: FaultServer) -> None:
    async def main() -> None:
        async with ahttpwire.Client() as client:
            await client.get(f"{fault_server.url}/reset")

    with pytest.raises(ahttpwire.ReadError):
        run(main)


# --- trio ---------------------------------------------------------------------------------------


def test_trio_get_and_chunked_post(live_server: UvicornServer) -> None:
    data = upload_body(100_000)

    async def main() -> tuple[Any, Any]:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            got = await client.get(f"{live_server.url}/bytes/{1 << 20}")
            sent = await client.post(f"{live_server.url}/echo", content=apieces(data, 4096))
            return got, sent

    got, sent = trio.run(main)
    assert_same_bytes(got.content, pattern(1 << 20))
    assert sent.headers["x-request-transfer-encoding"] == "chunked"
    assert_same_bytes(sent.content, data)


def test_trio_keepalive(http_server: UvicornServer) -> None:
    async def main() -> list[str]:
        async with ahttpwire.Client() as client:
            return [(await client.get(f"{http_server.url}/client-port")).text for _ in range(10)]

    assert len(set(trio.run(main))) == 1


def test_trio_read_timeout(http_server: UvicornServer) -> None:
    async def main() -> None:
        async with ahttpwire.Client(timeout=timeouts(read=SHORT)) as client:
            await client.get(f"{http_server.url}/stall?seconds=10")

    with pytest.raises(ahttpwire.ReadTimeout):
        trio.run(main)


def test_trio_timeout_block(http_server: UvicornServer) -> None:
    async def main() -> None:
        async with ahttpwire.Client() as client:
            async with ahttpwire.timeout(SHORT):
                await client.get(f"{http_server.url}/slow-head?seconds=10")

    with pytest.raises(ahttpwire.ReadTimeout):
        trio.run(main)


def test_write_timeout_when_the_server_stops_reading(fault_server: FaultServer) -> None:
    body = bytes(64 << 20)  # far more than the loopback socket buffers hold

    async def main() -> None:
        async with ahttpwire.Client(timeout=timeouts(write=SHORT)) as client:
            await client.post(f"{fault_server.url}/no-read", content=body)

    with pytest.raises(ahttpwire.WriteTimeout):
        run(main)
