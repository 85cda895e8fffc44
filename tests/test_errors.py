"""httpx's exception tree where users catch it: ``RequestError``, ``exc.request`` on every error
raised for a request (sync, asyncio and trio), ``HTTPStatusError``, ``CookieConflict``, and
``raise_for_status()`` raising for every status other than 2xx."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import trio

import ahttpwire
import httpwire
from httpwire import Request, Response
from httpwire._streams import AsyncByteStream, ByteStream


@pytest.fixture(params=["asyncio", "trio"])
def run(request: pytest.FixtureRequest) -> Callable[[Callable[[], Awaitable[Any]]], Any]:
    if request.param == "asyncio":
        return lambda fn: asyncio.run(fn())
    return lambda fn: trio.run(fn)


def test_request_error_is_the_parent_httpx_users_catch() -> None:
    for cls in (
        httpwire.TransportError,
        httpwire.DecodingError,
        httpwire.TooManyRedirects,
        httpwire.ConnectTimeout,
        httpwire.RemoteProtocolError,
        httpwire.UnsupportedProtocol,
    ):
        assert issubclass(cls, httpwire.RequestError)
        assert issubclass(cls, httpwire.HTTPError)
    assert not issubclass(httpwire.HTTPStatusError, httpwire.RequestError)
    assert issubclass(httpwire.CookieConflict, httpwire.HTTPError)
    assert ahttpwire.RequestError is httpwire.RequestError
    assert ahttpwire.CookieConflict is httpwire.CookieConflict
    assert "RequestError" in httpwire.__all__ and "RequestError" in ahttpwire.__all__


def test_request_attribute_and_constructors() -> None:
    exc = httpwire.ReadTimeout("Read operation timed out")
    with pytest.raises(RuntimeError, match="has not been set"):
        exc.request  # noqa: B018
    request = Request("GET", "https://example.com")
    for exc in (
        httpwire.ReadTimeout("timed out", request=request),
        httpwire.RequestError("failed", request=request),
        httpwire.RemoteProtocolError("bad", request=request),
        httpwire.DecodingError("bad gzip", request=request),
        httpwire.TooManyRedirects("loop", request=request),
    ):
        assert exc.request is request
    # ProtocolError keeps h11's error_status_hint as its second argument
    hint = httpwire.LocalProtocolError("too big", 431, request=request)
    assert hint.error_status_hint == 431 and hint.request is request and str(hint) == "too big"
    response = Response(404, request=request)
    status_error = httpwire.HTTPStatusError("nope", request=request, response=response)
    assert status_error.request is request and status_error.response is response


# -- errors raised for a request carry it ---------------------------------------------------------


class Body(ByteStream, AsyncByteStream):
    """A response body that yields ``chunks`` then raises ``error`` (if given)."""

    def __init__(self, chunks: list[bytes], error: Exception | None = None) -> None:
        self.chunks = chunks
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.error is not None:
            raise self.error


def reply(request: Request) -> Response:
    """What the test transports answer, by path: a redirect loop, a corrupt gzip body, a body
    that fails half way, or a refused connection."""
    path = request.url.path
    if path.startswith("/loop"):
        return Response(302, headers={"Location": f"{path}x"})
    if path == "/bad-gzip":
        return Response(200, headers={"Content-Encoding": "gzip"}, stream=Body([b"not gzip"]))
    if path == "/cut":
        return Response(200, stream=Body([b"part"], httpwire.ReadError("connection reset")))
    raise httpwire.ConnectError("[Errno 111] Connection refused")


class SyncTransport:
    def send(self, request: Request) -> Response:
        return reply(request)


class AsyncTransport:
    async def send(self, request: Request) -> Response:
        return reply(request)


CASES = [
    ("/refused", httpwire.ConnectError, "/refused"),
    ("/loop", httpwire.TooManyRedirects, "/loopxxx"),
    ("/bad-gzip", httpwire.DecodingError, "/bad-gzip"),
    ("/cut", httpwire.ReadError, "/cut"),
]


@pytest.mark.parametrize(("path", "error", "failed_path"), CASES)
def test_errors_carry_their_request_sync(path: str, error: type, failed_path: str) -> None:
    with httpwire.Client(
        transport=SyncTransport(), follow_redirects=True, max_redirects=3
    ) as client:
        with pytest.raises(error) as info:
            client.get(f"http://h{path}")
    # after redirects, the request that failed (the last one), not the first
    assert info.value.request.url == f"http://h{failed_path}"


@pytest.mark.parametrize(("path", "error", "failed_path"), CASES)
def test_errors_carry_their_request_async(
    run: Callable[[Callable[[], Awaitable[Any]]], Any], path: str, error: type, failed_path: str
) -> None:
    async def main() -> None:
        async with ahttpwire.Client(
            transport=AsyncTransport(), follow_redirects=True, max_redirects=3
        ) as client:
            with pytest.raises(error) as info:
                await client.get(f"http://h{path}")
        assert info.value.request.url == f"http://h{failed_path}"

    run(main)


def test_streamed_body_error_carries_request_sync() -> None:
    with httpwire.Client(transport=SyncTransport()) as client:
        with client.stream("GET", "http://h/cut") as response:
            with pytest.raises(httpwire.ReadError) as info:
                response.read()
    assert info.value.request is response.request


def test_streamed_body_error_carries_request_async(
    run: Callable[[Callable[[], Awaitable[Any]]], Any],
) -> None:
    async def main() -> None:
        async with ahttpwire.Client(transport=AsyncTransport()) as client:
            async with client.stream("GET", "http://h/cut") as response:
                with pytest.raises(httpwire.ReadError) as info:
                    await response.aread()
        assert info.value.request is response.request

    run(main)


def test_real_refused_connection_carries_request(refused_url: str) -> None:
    with pytest.raises(httpwire.ConnectError) as info:
        httpwire.get(refused_url)
    assert str(info.value.request.url) == refused_url


def test_gzip_fixture_is_really_gzip() -> None:
    # guards the /bad-gzip case above: a valid body decodes, so the failure is the corruption
    good = Response(200, headers={"Content-Encoding": "gzip"}, content=gzip.compress(b"ok"))
    assert good.read() == b"ok"


# -- raise_for_status ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_raise_for_status_returns_self_for_2xx(status: int) -> None:
    response = Response(status, request=Request("GET", "https://example.org/"))
    assert response.raise_for_status() is response


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (101, "Informational response '101 Switching Protocols'"),
        (304, "Redirect response '304 Not Modified'"),
        (404, "Client error '404 Not Found'"),
        (503, "Server error '503 Service Unavailable'"),
    ],
)
def test_raise_for_status_raises_for_every_other_status(status: int, kind: str) -> None:
    request = Request("GET", "https://example.org/")
    response = Response(status, request=request)
    with pytest.raises(httpwire.HTTPStatusError) as info:
        response.raise_for_status()
    assert str(info.value).startswith(f"{kind} for url 'https://example.org/'")
    assert info.value.request is request and info.value.response is response


def test_raise_for_status_names_the_redirect_location() -> None:
    response = Response(
        302, headers={"Location": "/next"}, request=Request("GET", "https://example.org/")
    )
    with pytest.raises(httpwire.HTTPStatusError, match="Redirect location: '/next'"):
        response.raise_for_status()


def test_streamed_decoding_error_carries_request_sync() -> None:
    with httpwire.Client(transport=SyncTransport()) as client:
        with client.stream("GET", "http://h/bad-gzip") as response:
            with pytest.raises(httpwire.DecodingError) as info:
                for _ in response.iter_bytes():
                    pass
    assert info.value.request is response.request


def test_streamed_decoding_error_carries_request_async(
    run: Callable[[Callable[[], Awaitable[Any]]], Any],
) -> None:
    async def main() -> None:
        async with ahttpwire.Client(transport=AsyncTransport()) as client:
            async with client.stream("GET", "http://h/bad-gzip") as response:
                with pytest.raises(httpwire.DecodingError) as info:
                    await response.aread()
        assert info.value.request is response.request

    run(main)


def test_http_transport_used_directly_sets_the_request(refused_url: str) -> None:
    request = Request("GET", refused_url)
    with httpwire.HTTPTransport() as transport:
        with pytest.raises(httpwire.ConnectError) as info:
            transport.handle_request(request)
    assert info.value.request is request

    async def main() -> None:
        async with ahttpwire.HTTPTransport() as transport:
            with pytest.raises(httpwire.ConnectError) as info:
                await transport.handle_async_request(request)
        assert info.value.request is request

    asyncio.run(main())
    trio.run(main)
