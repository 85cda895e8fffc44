"""``AsyncRequestInterface``: the conveniences every transport-like object offers on top of
``send(request)`` (connections and the pool share them; httpcore calls it the same)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .._models import Request, Response
from .._urls import URL

__all__ = ["AsyncRequestInterface"]


class AsyncRequestInterface:
    """Subclasses implement ``send(request) -> Response`` (the body not read yet)."""

    async def send(self, request: Request) -> Response:
        """Send ``request``; return the ``Response`` once its head has arrived (body not read:
        read or close it to release the connection)."""
        raise NotImplementedError  # pragma: no cover

    async def request(
        self,
        method: str,
        url: URL | str,
        *,
        headers: Any = None,
        content: Any = None,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send a request and read the whole response body; returns the closed ``Response``."""
        response = await self.send(
            Request(method, url, headers=headers, content=content, extensions=extensions)
        )
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: URL | str,
        *,
        headers: Any = None,
        content: Any = None,
        extensions: dict[str, Any] | None = None,
    ) -> AsyncIterator[Response]:
        """``async with x.stream("GET", url) as response:`` read the body inside the block; the
        response is closed (its connection released) when the block ends."""
        response = await self.send(
            Request(method, url, headers=headers, content=content, extensions=extensions)
        )
        try:
            yield response
        finally:
            await response.aclose()
