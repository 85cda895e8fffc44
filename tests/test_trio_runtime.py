"""ahttpwire picks its runtime when it runs: the same objects work under asyncio and under trio,
and one pool can serve one runtime after the other (connections are not carried across)."""

from __future__ import annotations

import asyncio

import trio
from servers import UvicornServer

import ahttpwire


def test_the_default_backend_names_the_runtime_it_runs_under() -> None:
    backend = ahttpwire.NetworkBackend()

    async def name() -> str:
        return repr(backend)

    assert asyncio.run(name()) == "<NetworkBackend [asyncio]>"
    assert trio.run(name) == "<NetworkBackend [trio]>"


def test_one_pool_serves_asyncio_then_trio_then_asyncio(http_server: UvicornServer) -> None:
    pool = ahttpwire.ConnectionPool()
    url = http_server.url + "/client-port"

    async def two_requests() -> list[int]:
        # Two in a row: the second reuses the connection the first opened in this run.
        ports = []
        for _ in range(2):
            response = await pool.request("GET", url, extensions={"timeout": {"pool": 5}})
            ports.append(int(response.text))
        return ports

    first = asyncio.run(two_requests())
    second = trio.run(two_requests)
    third = asyncio.run(two_requests())
    for ports in (first, second, third):
        assert ports[0] == ports[1]
    # A connection opened under one run is never used by the next: each run opened its own.
    assert len({first[0], second[0], third[0]}) == 3
    assert len(pool.connections) == 1

    async def close() -> None:
        await pool.aclose()

    trio.run(close)
    assert pool.connections == []
