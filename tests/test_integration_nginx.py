"""Both flavours against nginx (Debian's build, started by the ``nginx_server`` fixture): static
files with Content-Length, gzip compressed on the fly with chunked transfer coding, keep-alive.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from app import COMPRESSIBLE, pattern
from servers import NginxServer

import ahttpwire
import httpwire

FILES = {"small": 100, "1m": 1 << 20, "16m": 16 << 20}


def assert_same_bytes(got: bytes, want: bytes) -> None:
    assert len(got) == len(want), f"got {len(got)} bytes, want {len(want)}"
    if got != want:
        index = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        raise AssertionError(f"bodies differ first at byte {index}")


@pytest.mark.parametrize("name", list(FILES))
def test_sync_get_static_file(nginx_server: NginxServer, name: str) -> None:
    with httpwire.Client() as client:
        response = client.get(f"{nginx_server.url}/{name}")
    assert response.status_code == 200
    assert response.headers["server"].startswith("nginx")
    assert response.headers["content-length"] == str(FILES[name])
    assert_same_bytes(response.content, pattern(FILES[name]))


@pytest.mark.parametrize("name", list(FILES))
def test_async_get_static_file(nginx_server: NginxServer, name: str) -> None:
    async def main() -> Any:
        async with ahttpwire.Client() as client:
            return await client.get(f"{nginx_server.url}/{name}")

    response = asyncio.run(main())
    assert response.status_code == 200
    assert response.headers["content-length"] == str(FILES[name])
    assert_same_bytes(response.content, pattern(FILES[name]))


def test_sync_gzip_chunked(nginx_server: NginxServer) -> None:
    with httpwire.Client() as client:
        response = client.get(f"{nginx_server.url}/gzip/text.txt")
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["transfer-encoding"] == "chunked"
    assert_same_bytes(response.content, COMPRESSIBLE)


def test_async_gzip_chunked(nginx_server: NginxServer) -> None:
    async def main() -> Any:
        async with ahttpwire.Client() as client:
            return await client.get(f"{nginx_server.url}/gzip/text.txt")

    response = asyncio.run(main())
    assert response.headers["content-encoding"] == "gzip"
    assert_same_bytes(response.content, COMPRESSIBLE)


def test_sync_identity_when_asked(nginx_server: NginxServer) -> None:
    with httpwire.Client(headers={"Accept-Encoding": "identity"}) as client:
        response = client.get(f"{nginx_server.url}/gzip/text.txt")
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(COMPRESSIBLE))
    assert_same_bytes(response.content, COMPRESSIBLE)


def test_sync_keepalive_one_connection(nginx_server: NginxServer) -> None:
    with httpwire.Client() as client:
        ports = [client.get(f"{nginx_server.url}/client-port").text for _ in range(10)]
        client.get(f"{nginx_server.url}/1m")
        ports.append(client.get(f"{nginx_server.url}/client-port").text)
    assert len(set(ports)) == 1, ports


def test_async_keepalive_one_connection(nginx_server: NginxServer) -> None:
    async def main() -> list[str]:
        async with ahttpwire.Client() as client:
            return [(await client.get(f"{nginx_server.url}/client-port")).text for _ in range(10)]

    ports = asyncio.run(main())
    assert len(set(ports)) == 1, ports


def test_sync_head_and_404(nginx_server: NginxServer) -> None:
    with httpwire.Client() as client:
        head = client.head(f"{nginx_server.url}/16m")
        missing = client.get(f"{nginx_server.url}/no-such-file")
        again = client.get(f"{nginx_server.url}/small")
    assert head.headers["content-length"] == str(16 << 20)
    assert head.content == b""
    assert missing.status_code == 404
    assert_same_bytes(again.content, pattern(100))


def test_sync_stream_16m(nginx_server: NginxServer) -> None:
    total = 0
    with httpwire.Client() as client, client.stream("GET", f"{nginx_server.url}/16m") as response:
        for chunk in response.iter_bytes():
            total += len(chunk)
    assert total == 16 << 20


def test_async_stream_16m(nginx_server: NginxServer) -> None:
    async def main() -> int:
        total = 0
        async with ahttpwire.Client() as client:
            async with client.stream("GET", f"{nginx_server.url}/16m") as response:
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
        return total

    assert asyncio.run(main()) == 16 << 20


def test_sync_module_level_and_pool(nginx_server: NginxServer) -> None:
    assert_same_bytes(httpwire.get(f"{nginx_server.url}/small").content, pattern(100))
    with httpwire.ConnectionPool() as pool:
        response = pool.request("GET", f"{nginx_server.url}/small")
    assert response.status_code == 200
    assert_same_bytes(response.content, pattern(100))


def test_async_concurrent_requests(nginx_server: NginxServer) -> None:
    async def main() -> list[bytes]:
        async with ahttpwire.Client() as client:

            async def one() -> bytes:
                return (await client.get(f"{nginx_server.url}/small")).content

            return list(await asyncio.gather(*(one() for _ in range(100))))

    bodies = asyncio.run(main())
    assert len(bodies) == 100
    assert all(body == pattern(100) for body in bodies)


def _peak_while(fn: Any) -> tuple[Any, int]:
    """(fn's result, peak bytes allocated by Python while it ran, over what was held before)."""
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak - before


def test_sync_read_holds_a_big_body_about_once(nginx_server: NginxServer) -> None:
    """Response.read() of 16 MiB in 64 KiB pieces: the pieces are not all kept until a final
    join (which held the body twice, 32 MiB at the peak)."""
    size = FILES["16m"]
    with httpwire.Client() as client:
        client.get(f"{nginx_server.url}/small")  # connect and warm the caches first
        response, peak = _peak_while(lambda: client.get(f"{nginx_server.url}/16m"))
    assert_same_bytes(response.content, pattern(size))
    assert peak < 1.5 * size, f"peak {peak / 2**20:.1f} MiB for a 16 MiB body"


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
def test_async_aread_holds_a_big_body_about_once(nginx_server: NginxServer, runtime: str) -> None:
    size = FILES["16m"]

    async def main() -> tuple[Any, int]:
        async with ahttpwire.Client() as client:
            await client.get(f"{nginx_server.url}/small")
            return await _apeak_while(lambda: client.get(f"{nginx_server.url}/16m"))

    async def _apeak_while(make: Any) -> tuple[Any, int]:
        import tracemalloc

        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            result = await make()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return result, peak - before

    if runtime == "trio":
        import trio

        response, peak = trio.run(main)
    else:
        response, peak = asyncio.run(main())
    assert_same_bytes(response.content, pattern(size))
    assert peak < 1.5 * size, f"peak {peak / 2**20:.1f} MiB for a 16 MiB body"
