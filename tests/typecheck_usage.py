"""Typed use of the public client API, checked by ``mypy --strict`` in scripts/test (never run).

Each call below is well typed, and each ``# type: ignore[...]`` marks an argument that must be
rejected: with ``--strict`` (``warn_unused_ignores``) an ignore that is no longer needed is an
error, so a public signature that regresses to ``Any`` fails the check instead of passing
silently.
"""

from __future__ import annotations

import ssl
from typing import assert_type

import ahttpwire
import httpwire
from httpwire import Request, Response
from httpwire._types import AsyncTransport, RequestHandler, Transport


class EchoTransport:
    """A transport by structure only (no base class): ``send`` and ``close``."""

    def send(self, request: Request, /) -> Response:
        return Response(200, content=str(request.url).encode())

    def close(self) -> None:
        pass


class HandlerTransport:
    """An httpx-style transport: ``handle_request`` only."""

    def handle_request(self, request: Request, /) -> Response:
        return Response(204)


def sync_usage() -> None:
    transport: Transport = EchoTransport()
    handler: RequestHandler = HandlerTransport()
    with httpwire.Client(
        base_url="http://example.org",
        headers={"User-Agent": "typed"},
        params={"q": ["a", "b"], "n": 1},
        cookies={"session": "abc"},
        auth=("user", "pass"),
        timeout=httpwire.Timeout(5.0, connect=2.0),
        verify=ssl.create_default_context(),
        transport=transport,
        mounts={"http://other.example": handler, "all://": None},
        event_hooks={"request": [print]},
    ) as client:
        response = client.get("/path", params=[("a", "1")], headers=[("X-A", "b")], timeout=3)
        assert_type(response, Response)
        client.post("/form", data={"field": "value"}, files={"upload": ("a.txt", b"body")})
        client.put("/raw", content=b"bytes", timeout=(1.0, 2.0))
        client.patch("/json", json={"a": [1, 2]}, follow_redirects=True, timeout=None)
        client.request("DELETE", "/x", extensions={"timeout": {"read": 1.0}})
        with client.stream("GET", "/big") as streamed:
            for chunk in streamed.iter_bytes():
                assert_type(chunk, bytes)
        # Must be rejected (each ignore would be unused, hence an error, if the type were Any):
        client.get("/", params=object())  # type: ignore[arg-type]
        client.get("/", headers=42)  # type: ignore[arg-type]
        client.get("/", cookies=3.5)  # type: ignore[arg-type]
        client.get("/", auth=7)  # type: ignore[arg-type]
        client.get("/", timeout="soon")  # type: ignore[arg-type]
        client.get("/", follow_redirects="yes")  # type: ignore[arg-type]
        client.post("/", content=12)  # type: ignore[arg-type]
        client.post("/", data=["not", "a", "mapping"])  # type: ignore[arg-type]
        client.post("/", files=1)  # type: ignore[arg-type]
    httpwire.Client(transport=object())  # type: ignore[arg-type]
    httpwire.Client(verify=1.5)  # type: ignore[arg-type]
    assert_type(httpwire.get("http://example.org", params={"a": "b"}), Response)
    httpwire.get("http://example.org", timeout="soon")  # type: ignore[arg-type]
    httpwire.post("http://example.org", data=3)  # type: ignore[arg-type]


class AsyncEchoTransport:
    async def send(self, request: Request, /) -> Response:
        return Response(200)

    async def aclose(self) -> None:
        pass


async def async_usage() -> None:
    transport: AsyncTransport = AsyncEchoTransport()
    pool: AsyncTransport = ahttpwire.ConnectionPool()
    async with ahttpwire.Client(transport=transport, mounts={"https://": pool}) as client:
        response = await client.get("http://example.org", params={"a": "b"}, timeout=2.0)
        assert_type(response, Response)
        async with client.stream("POST", "http://example.org", content=b"x") as streamed:
            async for chunk in streamed.aiter_bytes():
                assert_type(chunk, bytes)
        await client.get("/", params=object())  # type: ignore[arg-type]
        await client.get("/", timeout="soon")  # type: ignore[arg-type]
    ahttpwire.Client(transport=EchoTransport())  # type: ignore[arg-type]
    assert_type(await ahttpwire.get("http://example.org"), Response)
    await ahttpwire.get("http://example.org", headers=42)  # type: ignore[arg-type]
