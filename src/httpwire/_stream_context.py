"""What ``client.stream(...)`` returns: a response not read yet, in the seed's and httpx's forms.

``ahttpwire``: ``async with await client.stream("GET", url) as r:`` (the seed's form: awaiting
gives the :class:`Response`, itself an async context manager) and
``async with client.stream("GET", url) as r:`` (httpx's form) both work. ``httpwire``:
``with client.stream("GET", url) as r:``. Either way the response is closed when the block
ends; an awaited response not used in ``async with`` must be closed by the caller
(``await r.aclose()``, or read to its end).
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any

from ._models import Response
from ._streams import AsyncByteStream, ByteStream

__all__ = ["AsyncStreamContext", "StreamContext", "AsyncClosingStream", "ClosingStream"]


class AsyncStreamContext:
    """``await`` it for the response, or ``async with`` it (the response is closed on exit).

    ``send`` sends the request when first awaited or entered (so a context that is never used
    sends nothing); using one twice raises ``RuntimeError``.
    """

    __slots__ = ("_send", "_response")

    def __init__(self, send: Callable[[], Awaitable[Response]]) -> None:
        self._send: Callable[[], Awaitable[Response]] | None = send
        self._response: Response | None = None

    async def _open(self) -> Response:
        send, self._send = self._send, None
        if send is None:
            raise RuntimeError("this client.stream(...) has already been used")
        self._response = await send()
        return self._response

    def __await__(self) -> Generator[Any, None, Response]:
        return self._open().__await__()

    async def __aenter__(self) -> Response:
        return await self._open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> None:
        if self._response is not None:
            await self._response.aclose()


class StreamContext:
    """Sync twin of :class:`AsyncStreamContext`: ``with client.stream(...) as r:``."""

    __slots__ = ("_send", "_response")

    def __init__(self, send: Callable[[], Response]) -> None:
        self._send: Callable[[], Response] | None = send
        self._response: Response | None = None

    def __enter__(self) -> Response:
        send, self._send = self._send, None
        if send is None:
            raise RuntimeError("this client.stream(...) has already been used")
        self._response = send()
        return self._response

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> None:
        if self._response is not None:
            self._response.close()


class AsyncClosingStream(AsyncByteStream):
    """A response body that runs ``on_close`` after closing ``stream`` (once): the one-off
    client of ``await ahttpwire.stream(...)`` is closed with its response."""

    __slots__ = ("_stream", "_on_close")

    def __init__(self, stream: AsyncByteStream, on_close: Callable[[], Awaitable[None]]) -> None:
        self._stream = stream
        self._on_close: Callable[[], Awaitable[None]] | None = on_close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        on_close, self._on_close = self._on_close, None
        try:
            await self._stream.aclose()
        finally:
            if on_close is not None:
                await on_close()


class ClosingStream(ByteStream):
    """Sync twin of :class:`AsyncClosingStream`: the call's client of ``httpwire.stream(...)``
    is closed (or released) with its response."""

    __slots__ = ("_stream", "_on_close")

    def __init__(self, stream: ByteStream, on_close: Callable[[], None]) -> None:
        self._stream = stream
        self._on_close: Callable[[], None] | None = on_close

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        on_close, self._on_close = self._on_close, None
        try:
            self._stream.close()
        finally:
            if on_close is not None:
                on_close()
