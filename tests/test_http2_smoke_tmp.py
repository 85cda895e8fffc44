import asyncio, trio
from conftest_h2 import *  # noqa
import httpwire

def test_smoke_sync(hypercorn_h2, open_h2_sync, h2_ssl_context):
    conn = open_h2_sync(hypercorn_h2.url, h2_ssl_context)
    r = conn.request("GET", hypercorn_h2.url + "/")
    print(r, r.http_version, r.extensions, r.content, conn)
    assert r.http_version == "HTTP/2"

def test_smoke_async(hypercorn_h2, open_h2_async, h2_ssl_context):
    async def main():
        conn = await open_h2_async(hypercorn_h2.url, h2_ssl_context)
        rs = await asyncio.gather(*[conn.request("GET", hypercorn_h2.url + f"/bytes/{i}") for i in range(500)])
        assert [len(r.content) for r in rs] == list(range(500))
        print(conn)
        await conn.aclose()
    asyncio.run(main())

def test_smoke_trio(hypercorn_h2c, open_h2_async):
    async def main():
        conn = await open_h2_async(hypercorn_h2c.url)
        async with trio.open_nursery() as n:
            for i in range(200):
                n.start_soon(conn.request, "GET", hypercorn_h2c.url + f"/bytes/{i}")
        print(conn)
        await conn.aclose()
    trio.run(main)
