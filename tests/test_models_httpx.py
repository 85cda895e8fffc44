"""Models as httpx shapes them (issue 10, item 8): ``Response.links`` (RFC 8288) and
``Request`` / ``Response`` that pickle like httpx's (the body travels only if it was read)."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import trio

import ahttpwire
import httpwire
from httpwire import Request, RequestNotRead, Response, ResponseNotRead, StreamClosed
from httpwire._models import parse_header_links

# -- links ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '<http:/.../front.jpeg>; rel=front; type="image/jpeg"',
            [{"url": "http:/.../front.jpeg", "rel": "front", "type": "image/jpeg"}],
        ),
        ("<http:/.../front.jpeg>", [{"url": "http:/.../front.jpeg"}]),
        ("<http:/.../front.jpeg>;", [{"url": "http:/.../front.jpeg"}]),
        (
            '<http:/.../front.jpeg>; type="image/jpeg",<http://.../back.jpeg>;',
            [
                {"url": "http:/.../front.jpeg", "type": "image/jpeg"},
                {"url": "http://.../back.jpeg"},
            ],
        ),
        ("", []),
        # Commas inside <...> and quoted strings do not split; quoted-pairs are undone;
        # parameter names are case-insensitive and a repeated rel keeps its first value.
        (
            '<https://a/?x=1,2>; rel="next"; title="a, \\"b\\"", </p>; REL=prev; rel=ignored',
            [
                {"url": "https://a/?x=1,2", "rel": "next", "title": 'a, "b"'},
                {"url": "/p", "rel": "prev"},
            ],
        ),
    ],
)
def test_parse_header_links(value: str, expected: list[dict[str, str]]) -> None:
    assert parse_header_links(value) == expected


def test_response_links() -> None:
    response = Response(
        200,
        headers=[
            ("Link", '<https://api.example.org/items?page=2>; rel="next",'),
            ("Link", '<https://api.example.org/items?page=9>; rel="last", </no-rel>'),
        ],
    )
    assert response.links == {
        "next": {"url": "https://api.example.org/items?page=2", "rel": "next"},
        "last": {"url": "https://api.example.org/items?page=9", "rel": "last"},
        "/no-rel": {"url": "/no-rel"},
    }
    assert Response(200).links == {}
    preload = Response(200, headers={"Link": "<https://example.com>; rel='preload'"})
    assert preload.links == {"preload": {"rel": "preload", "url": "https://example.com"}}


# -- pickling -------------------------------------------------------------------------------------


def test_request_pickles() -> None:
    request = Request("POST", "http://example.org", json={"test": 123})
    copy = pickle.loads(pickle.dumps(request))
    assert copy.method == "POST" and copy.url.path == "/"
    assert copy.headers["content-type"] == "application/json"
    assert copy.content == b'{"test":123}'
    assert b"".join(copy.stream) == b'{"test":123}'  # can be sent again
    assert copy.extensions == {}


def test_streamed_request_pickles_without_its_body() -> None:
    def content() -> Iterator[bytes]:
        yield b"test 123"  # pragma: no cover - never iterated

    copy = pickle.loads(pickle.dumps(Request("POST", "http://example.org", content=content())))
    with pytest.raises(RequestNotRead):
        _ = copy.content
    with pytest.raises(StreamClosed):
        copy.read()
    assert copy.headers["transfer-encoding"] == "chunked"


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
def test_async_streamed_request_pickles(runtime: str) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"test 123"

    async def main() -> None:
        copy = pickle.loads(pickle.dumps(Request("POST", "http://e.org", content=body())))
        with pytest.raises(RequestNotRead):
            _ = copy.content
        with pytest.raises(StreamClosed):
            await copy.aread()
        read = Request("POST", "http://e.org", content=body())
        await read.aread()
        assert pickle.loads(pickle.dumps(read)).content == b"test 123"

    trio.run(main) if runtime == "trio" else asyncio.run(main())


def test_response_pickles() -> None:
    request = Request("GET", "https://faß.de/x")
    response = Response(
        200, content=b"Hello, world!", headers={"Set-Cookie": "a=1"}, request=request
    )
    assert response.cookies["a"] == "1"  # a cached jar (with a lock) must not stop pickling
    copy = pickle.loads(pickle.dumps(response))
    assert copy.status_code == 200 and copy.content == b"Hello, world!"
    assert copy.request.url.host == "faß.de" and copy.is_closed
    assert copy.cookies["a"] == "1" and copy.extensions == {}


def test_streamed_responses_pickle_like_httpx(http_server: Any) -> None:
    with httpwire.Client() as client:
        with client.stream("GET", http_server.url + "/bytes/100") as unread:
            copy = pickle.loads(pickle.dumps(unread))
        with client.stream("GET", http_server.url + "/bytes/100") as read:
            read.read()
            copy_read = pickle.loads(pickle.dumps(read))
    with pytest.raises(ResponseNotRead):
        _ = copy.content
    with pytest.raises(StreamClosed):
        copy.read()
    assert copy.is_stream_consumed is False and copy.num_bytes_downloaded == 0
    assert copy_read.content == read.content and copy_read.num_bytes_downloaded == 100


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
def test_async_streamed_response_pickles(http_server: Any, runtime: str) -> None:
    async def main() -> None:
        async with ahttpwire.Client() as client:
            async with client.stream("GET", http_server.url + "/bytes/100") as unread:
                copy = pickle.loads(pickle.dumps(unread))
        with pytest.raises(ResponseNotRead):
            _ = copy.content
        with pytest.raises(StreamClosed):
            await copy.aread()

    trio.run(main) if runtime == "trio" else asyncio.run(main())
