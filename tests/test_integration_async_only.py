"""What only the async flavour has, against real servers: trio as the runtime (picked at run
time), asyncio task concurrency and cancellation, and a plain ``with timeout()`` block in async
code. Everything both flavours share is in ``test_integration_async.py`` (the source of
``test_integration_sync.py``), whose helpers this file reuses.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import trio
from app import pattern
from servers import UvicornServer
from test_integration_async import SHORT, assert_same_bytes, body_pieces, run, timeouts, upload_body

import ahttpwire

# --- asyncio tasks ------------------------------------------------------------------------------


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


def test_plain_with_timeout_block_works_in_async_code(http_server: UvicornServer) -> None:
    async def main() -> None:
        async with ahttpwire.Client() as client:
            with ahttpwire.timeout(SHORT):
                await client.get(f"{http_server.url}/slow-head?seconds=10")

    with pytest.raises(ahttpwire.ReadTimeout):
        run(main)


# --- trio ---------------------------------------------------------------------------------------


def test_trio_get_and_chunked_post(live_server: UvicornServer) -> None:
    data = upload_body(100_000)

    async def main() -> tuple[Any, Any]:
        async with ahttpwire.Client(verify=live_server.verify) as client:
            got = await client.get(f"{live_server.url}/bytes/{1 << 20}")
            sent = await client.post(f"{live_server.url}/echo", content=body_pieces(data, 4096))
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
