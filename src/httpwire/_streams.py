"""Body streams: the shapes a request or response body takes between layers.

A sync body is a :class:`ByteStream` (iterate for ``bytes`` chunks, then ``close()``); an async
body is an :class:`AsyncByteStream` (``async for``, then ``await aclose()``). :class:`BytesStream`
holds a body already in memory and is both.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Protocol

from ._exceptions import StreamConsumed

__all__ = [
    "BodySink",
    "ByteStream",
    "AsyncByteStream",
    "BytesStream",
    "IteratorByteStream",
    "AsyncIteratorByteStream",
]


class BodySink(Protocol):
    """Where a response body stream that has a ``receive_into(sink)`` method (HTTP/1.1's) puts
    the whole body for ``Response.read()``: ``feed(data)`` takes bytes already received;
    ``space(wanted)`` offers a writable view of at most ``wanted`` bytes (never empty, bounded
    by what the sink accepts to allocate ahead of the bytes received) to read into, and
    ``filled(n)`` says how many of them the read filled (0 at EOF); one view at a time."""

    def feed(self, data: bytes) -> None: ...

    def space(self, wanted: int) -> memoryview: ...

    def filled(self, n: int) -> None: ...


class ByteStream:
    """A sync body: ``for chunk in stream`` yields ``bytes``; ``close()`` releases resources."""

    def __iter__(self) -> Iterator[bytes]:
        raise NotImplementedError  # pragma: no cover

    def close(self) -> None:
        """Release the resources behind the stream (for a response: the connection)."""


class AsyncByteStream:
    """An async body: ``async for chunk in stream`` yields ``bytes``; ``await aclose()`` releases."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        raise NotImplementedError  # pragma: no cover

    async def aclose(self) -> None:
        """Release the resources behind the stream (for a response: the connection)."""


class BytesStream(ByteStream, AsyncByteStream):
    """A body already in memory; usable from both flavours and re-iterable."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        if self.data:
            yield self.data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.data:
            yield self.data

    def __len__(self) -> int:
        return len(self.data)


class IteratorByteStream(ByteStream):
    """Wraps a user's sync iterable of ``bytes`` (sent with chunked transfer coding).

    An iterator (a generator, say) is one-shot: iterating the stream a second time raises
    ``StreamConsumed`` rather than sending an empty body. A re-iterable (a list) can be sent
    again (``replayable``)."""

    def __init__(self, iterable: Iterable[bytes]) -> None:
        self._iterable = iterable
        self.replayable = iter(iterable) is not iterable
        self._consumed = False

    def __iter__(self) -> Iterator[bytes]:
        if self._consumed and not self.replayable:
            raise _consumed()
        self._consumed = True
        for chunk in self._iterable:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError(
                    f"a request body iterator must yield bytes, not {type(chunk).__name__}"
                )
            yield bytes(chunk)


class AsyncIteratorByteStream(AsyncByteStream):
    """Wraps a user's async iterable of ``bytes`` (sent with chunked transfer coding); an
    async iterator is one-shot, as for :class:`IteratorByteStream`."""

    def __init__(self, iterable: AsyncIterable[bytes]) -> None:
        self._iterable = iterable
        self.replayable = aiter(iterable) is not iterable
        self._consumed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._consumed and not self.replayable:
            raise _consumed()
        self._consumed = True
        async for chunk in self._iterable:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError(
                    f"a request body iterator must yield bytes, not {type(chunk).__name__}"
                )
            yield bytes(chunk)


def _consumed() -> Exception:
    return StreamConsumed(
        "the request body is a one-shot iterator that was already sent: give bytes, a "
        "seekable file or a re-iterable (a list) to send it again"
    )
