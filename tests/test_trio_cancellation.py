"""Cancellation under trio leaves the pool consistent: the smallest cases the stress test
(``test_stress.py``) found, against the real uvicorn server.

A trio cancel scope that expires while a request waits for the response head, or while its body
is read, must close that connection and give its slot back, so that the next request (here with
``max_connections=1``) gets a connection instead of waiting forever.
"""

from __future__ import annotations

import pytest
import trio
from servers import UvicornServer

import ahttpwire


@pytest.mark.parametrize("path", ["/slow-head?seconds=5", "/stall?seconds=5"])
def test_trio_a_cancelled_request_gives_back_its_slot(
    path: str, http_server: UvicornServer
) -> None:
    # /slow-head: cancelled while waiting for the head; /stall: while reading the body.
    async def main() -> None:
        async with ahttpwire.ConnectionPool(max_connections=1) as pool:
            with trio.move_on_after(0.3) as scope:
                await pool.request("GET", http_server.url + path)
            assert scope.cancelled_caught
            assert pool.connections == []
            assert repr(pool) == "<ConnectionPool [0 active, 0 idle]>"
            response = await pool.request(
                "GET", http_server.url + "/", extensions={"timeout": {"pool": 5}}
            )
            assert response.status_code == 200

    trio.run(main)


def test_trio_a_cancelled_waiter_does_not_lose_the_slot(http_server: UvicornServer) -> None:
    async def main() -> None:
        async with ahttpwire.ConnectionPool(max_connections=1) as pool:
            url = http_server.url + "/client-port"
            async with pool.stream("GET", url) as held:
                with trio.move_on_after(0.1) as scope:
                    await pool.request("GET", url)  # queued behind `held`, then cancelled
                assert scope.cancelled_caught
                await held.aread()
            response = await pool.request("GET", url, extensions={"timeout": {"pool": 5}})
            assert response.status_code == 200
            assert len(pool.connections) == 1 and pool.connections[0].is_idle

    trio.run(main)
