from __future__ import annotations

import asyncio
import gc
import gzip
import json
import weakref
from collections.abc import AsyncIterator, Iterator

import pytest

from httpwire._exceptions import (
    DecodingError,
    HTTPStatusError,
    LocalProtocolError,
    ResponseNotRead,
    StreamClosed,
    StreamConsumed,
    StreamError,
)
from httpwire._models import Request, Response
from httpwire._streams import AsyncByteStream, BytesStream, ByteStream
from httpwire._urls import URL


class RecordingStream(ByteStream):
    """A sync body that counts close() calls, like a connection returning to its pool."""

    def __init__(self, chunks: list[bytes], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if self.fail_after is not None and index == self.fail_after:
                raise OSError("connection reset")
            yield chunk

    def close(self) -> None:
        self.closed += 1


class AsyncRecordingStream(AsyncByteStream):
    def __init__(self, chunks: list[bytes], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.closed = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if self.fail_after is not None and index == self.fail_after:
                raise OSError("connection reset")
            await asyncio.sleep(0)
            yield chunk

    async def aclose(self) -> None:
        self.closed += 1


# -- Request ----------------------------------------------------------------------------------


def test_request_defaults() -> None:
    request = Request("get", "http://127.0.0.1:8080/small")
    assert request.method == "GET"
    assert isinstance(request.url, URL)
    assert request.headers.raw == [(b"Host", b"127.0.0.1:8080")]
    assert isinstance(request.stream, BytesStream)
    assert request.content == b""
    assert request.extensions == {}
    assert repr(request) == "<Request('GET', 'http://127.0.0.1:8080/small')>"


def test_request_host_header_forms() -> None:
    assert Request("GET", "https://example.com:443/").headers["host"] == "example.com"
    assert Request("GET", "http://[::1]:8000/").headers["host"] == "[::1]:8000"
    assert Request("GET", "https://Bücher.de/").headers["host"] == "xn--bcher-kva.de"
    user_host = Request("GET", "http://example.com/", headers={"Host": "other"})
    assert user_host.headers.raw == [(b"Host", b"other")]


def test_request_host_goes_first() -> None:
    request = Request("GET", "http://h/", headers={"Accept": "*/*"})
    assert [name for name, _ in request.headers.raw] == [b"Host", b"Accept"]


@pytest.mark.parametrize(
    ("method", "kwargs", "expected"),
    [
        ("POST", {}, [(b"Content-Length", b"0")]),
        ("PUT", {}, [(b"Content-Length", b"0")]),
        ("PATCH", {}, [(b"Content-Length", b"0")]),
        ("GET", {}, []),
        ("HEAD", {}, []),
        ("DELETE", {}, []),
        ("POST", {"content": b"abc"}, [(b"Content-Length", b"3")]),
        ("GET", {"content": b"abc"}, [(b"Content-Length", b"3")]),
        ("POST", {"content": iter([b"a"])}, [(b"Transfer-Encoding", b"chunked")]),
        (
            "POST",
            {"json": {"a": 1}},
            [(b"Content-Length", b"7"), (b"Content-Type", b"application/json")],
        ),
        (
            "POST",
            {"data": {"a": "1"}},
            [(b"Content-Length", b"3"), (b"Content-Type", b"application/x-www-form-urlencoded")],
        ),
        ("POST", {"stream": BytesStream(b"xy")}, [(b"Content-Length", b"2")]),
        ("POST", {"stream": RecordingStream([b"x"])}, [(b"Transfer-Encoding", b"chunked")]),
    ],
)
def test_request_body_headers(
    method: str, kwargs: dict[str, object], expected: list[tuple[bytes, bytes]]
) -> None:
    request = Request(method, "http://h/", **kwargs)  # type: ignore[arg-type]
    assert request.headers.raw == [(b"Host", b"h")] + expected


def test_request_keeps_user_framing_headers() -> None:
    request = Request(
        "POST",
        "http://h/",
        headers={"Content-Length": "3", "Content-Type": "text/csv"},
        content=iter([b"abc"]),
    )
    assert request.headers.raw == [
        (b"Host", b"h"),
        (b"Content-Length", b"3"),
        (b"Content-Type", b"text/csv"),
    ]


def test_request_params_replace_the_query_as_in_httpx_028() -> None:
    """As httpx 0.28 (and URL(url, params=...)): params= replaces the URL's query; the
    client's build_request merges instead (test_client_unit.py::test_params_merge)."""
    request = Request("GET", "http://h/p?a=1&b=2", params={"b": "x", "c": "y z"})
    assert request.url == "http://h/p?b=x&c=y+z"
    assert request.url.raw_path == b"/p?b=x&c=y+z"
    assert str(Request("GET", "http://h/p?a=1", params={}).url) == "http://h/p"
    assert str(Request("GET", "http://h/p?a=1").url) == "http://h/p?a=1"


def test_response_with_a_stated_content_length_gets_no_transfer_encoding() -> None:
    """An iterator body with the caller's Content-Length: no chunked framing added (a message
    with both is invalid, RFC 9112 section 6.3); and the reverse."""
    response = Response(200, content=iter([b"test 123"]), headers={"Content-Length": "8"})
    assert response.headers.raw == [(b"Content-Length", b"8")]
    response = Response(200, content=b"abc", headers={"Transfer-Encoding": "chunked"})
    assert response.headers.raw == [(b"Transfer-Encoding", b"chunked")]
    assert Response(200, content=iter([b"x"])).headers["transfer-encoding"] == "chunked"


def test_request_method_must_be_a_token() -> None:
    with pytest.raises(LocalProtocolError, match="Invalid HTTP method"):
        Request("GET / HTTP/1.1\r\nX:", "http://h/")
    assert Request(b"purge", "http://h/").method == "PURGE"


@pytest.mark.parametrize("method", ["\ufb01x", "\ufb01X", "stra\xdfe", "\u0131", "get\u017f"])
def test_request_method_that_upper_cases_to_a_token_is_refused(method: str) -> None:
    """str.upper() maps some non-ASCII letters to ASCII ("\ufb01x" -> "FIX", "\u017f" -> "S"):
    the method is checked as given, not as upper-cased (issue 9, item 10)."""
    assert method.upper().isascii()  # (each one would become a valid token)
    with pytest.raises(LocalProtocolError, match="Invalid HTTP method"):
        Request(method, "http://h/")
    with pytest.raises(LocalProtocolError, match="Invalid HTTP method"):
        Request(method.encode("utf-8"), "http://h/")


def test_request_url_type() -> None:
    with pytest.raises(TypeError):
        Request("GET", 5)  # type: ignore[arg-type]


def test_request_streaming_content_must_be_read() -> None:
    request = Request("POST", "http://h/", content=iter([b"a", b"b"]))
    with pytest.raises(StreamError, match="read"):
        _ = request.content
    assert request.read() == b"ab"
    assert request.content == b"ab"
    assert list(request.stream) == [b"ab"]  # replayable now (for redirects and retries)


def test_request_aread() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    request = Request("POST", "http://h/", content=body())
    with pytest.raises(RuntimeError, match="aread"):
        request.read()
    assert asyncio.run(request.aread()) == b"ab"
    assert request.content == b"ab"


# -- Response: metadata -------------------------------------------------------------------------


def test_response_in_memory() -> None:
    response = Response(200, content=b"hello")
    assert response.status_code == 200
    assert response.reason_phrase == "OK"
    assert response.http_version == "HTTP/1.1"
    assert response.content == b"hello"
    assert response.text == "hello"
    assert response.headers.raw == [(b"Content-Length", b"5")]
    assert response.is_closed and response.is_stream_consumed
    assert list(response.iter_bytes()) == [b"hello"]
    assert list(response.iter_bytes(2)) == [b"he", b"ll", b"o"]
    assert repr(response) == "<Response [200 OK]>"


def test_response_text_and_json_constructors() -> None:
    assert Response(200, text="héllo").content == "héllo".encode()
    assert Response(200, json={"a": [1]}).json() == {"a": [1]}
    assert Response(200, json={"a": 1}).headers["content-type"] == "application/json"


def test_reason_phrase_and_http_version_from_extensions() -> None:
    response = Response(
        404, extensions={"reason_phrase": b"Nope", "http_version": b"HTTP/2"}, content=b""
    )
    assert response.reason_phrase == "Nope"
    assert response.http_version == "HTTP/2"
    assert repr(response) == "<Response [404 Nope]>"
    assert Response(299).reason_phrase == ""


def test_status_predicates() -> None:
    assert Response(204).is_success
    redirect = Response(302, headers={"Location": "/x"})
    assert redirect.is_redirect and redirect.has_redirect_location and not redirect.is_error
    assert Response(304).has_redirect_location is False
    assert Response(301).has_redirect_location is False
    assert Response(404).is_error and Response(404).is_client_error
    assert Response(503).is_error and Response(503).is_server_error
    assert Response(101).is_informational


def test_raise_for_status() -> None:
    request = Request("GET", "https://example.com/missing")
    ok = Response(200, request=request)
    assert ok.raise_for_status() is ok
    redirect = Response(302, request=request, headers={"Location": "/"})
    with pytest.raises(HTTPStatusError, match="Redirect response '302 Found'"):
        redirect.raise_for_status()  # as httpx: every status other than 2xx raises
    not_found = Response(404, request=request)
    with pytest.raises(HTTPStatusError) as info:
        not_found.raise_for_status()
    assert info.value.response is not_found and info.value.request is request
    assert "Client error '404 Not Found' for url 'https://example.com/missing'" in str(info.value)
    with pytest.raises(HTTPStatusError, match="Server error '502 Bad Gateway'"):
        Response(502, request=request).raise_for_status()
    with pytest.raises(RuntimeError, match="request"):
        Response(500).raise_for_status()


def test_url_and_request() -> None:
    request = Request("GET", "http://h/x")
    assert Response(200, request=request).url == "http://h/x"
    with pytest.raises(RuntimeError):
        _ = Response(200).request
    response = Response(200)
    response.request = request
    assert response.request is request


def test_elapsed_is_set_by_the_client() -> None:
    import datetime

    response = Response(200)
    with pytest.raises(RuntimeError):
        _ = response.elapsed
    response.elapsed = datetime.timedelta(seconds=1.5)
    assert response.elapsed.total_seconds() == 1.5


# -- Response: text and JSON --------------------------------------------------------------------


def test_encoding_from_content_type() -> None:
    response = Response(
        200,
        content="café".encode("latin-1"),
        headers={"Content-Type": "text/plain; charset=ISO-8859-1"},
    )
    assert response.encoding == "ISO-8859-1"
    assert response.text == "café"


def test_default_encoding_and_replacement() -> None:
    response = Response(200, content=b"caf\xe9", headers={"Content-Type": "text/plain"})
    assert response.encoding == "utf-8"
    assert response.text == "caf\ufffd"
    bogus = Response(200, content=b"x", headers={"Content-Type": "text/plain; charset=bogus"})
    assert bogus.encoding == "utf-8"
    custom = Response(200, content=b"caf\xe9", default_encoding="latin-1")
    assert custom.text == "café"
    detected = Response(200, content=b"caf\xe9", default_encoding=lambda body: "cp1252")
    assert detected.encoding == "cp1252"


def test_encoding_cannot_change_after_text() -> None:
    response = Response(200, content=b"x")
    response.encoding = "latin-1"
    assert response.text == "x"
    with pytest.raises(ValueError):
        response.encoding = "utf-8"


def test_json_errors() -> None:
    response = Response(200, content=b"{not json")
    with pytest.raises(DecodingError) as info:
        response.json()
    assert isinstance(info.value, json.JSONDecodeError)
    assert isinstance(info.value, ValueError)
    assert Response(200, content='{"a": "é"}'.encode("utf-16")).json() == {"a": "é"}


# -- Response: streaming (sync) -----------------------------------------------------------------


def test_streaming_read_closes_once() -> None:
    stream = RecordingStream([b"hel", b"lo"])
    response = Response(200, stream=stream)
    assert not response.is_closed and not response.is_stream_consumed
    with pytest.raises(ResponseNotRead):
        _ = response.content
    assert response.read() == b"hello"
    assert response.content == b"hello"
    assert response.is_closed and response.is_stream_consumed
    assert response.num_bytes_downloaded == 5
    assert stream.closed == 1
    response.close()
    assert response.read() == b"hello"
    assert stream.closed == 1


def test_single_chunk_body_is_not_copied() -> None:
    chunk = b"x" * 100_000
    response = Response(200, stream=RecordingStream([chunk]))
    assert response.read() is chunk


def test_iterating_twice_raises_stream_consumed() -> None:
    response = Response(200, stream=RecordingStream([b"a", b"b"]))
    assert list(response.iter_raw()) == [b"a", b"b"]
    with pytest.raises(StreamConsumed):
        list(response.iter_raw())
    with pytest.raises(StreamConsumed):
        response.read()


def test_closed_before_read_raises_stream_closed() -> None:
    stream = RecordingStream([b"a"])
    response = Response(200, stream=stream)
    response.close()
    assert stream.closed == 1
    with pytest.raises(StreamClosed):
        response.read()
    with pytest.raises(StreamClosed):
        list(response.iter_bytes())


def test_iter_raw_is_undecoded_and_iter_bytes_decoded() -> None:
    body = gzip.compress(b"hello world" * 100)
    headers = {"Content-Encoding": "gzip"}
    raw = Response(200, headers=headers, stream=RecordingStream([body[:10], body[10:]]))
    assert b"".join(raw.iter_raw()) == body
    decoded = Response(200, headers=headers, stream=RecordingStream([body[:10], body[10:]]))
    assert b"".join(decoded.iter_bytes()) == b"hello world" * 100
    assert decoded.num_bytes_downloaded == len(body)


def test_in_memory_content_is_decoded_too() -> None:
    response = Response(200, headers={"Content-Encoding": "gzip"}, content=gzip.compress(b"abc"))
    assert response.content == b"abc"


def test_corrupt_body_raises_decoding_error_and_closes() -> None:
    stream = RecordingStream([b"not gzip at all"])
    response = Response(200, headers={"Content-Encoding": "gzip"}, stream=stream)
    with pytest.raises(DecodingError):
        response.read()
    assert stream.closed == 1 and response.is_closed


def test_chunk_sizes() -> None:
    response = Response(200, stream=RecordingStream([b"abc", b"defgh", b"", b"ij"]))
    assert list(response.iter_bytes(chunk_size=4)) == [b"abcd", b"efgh", b"ij"]
    raw = Response(200, stream=RecordingStream([b"abc", b"defgh"]))
    assert list(raw.iter_raw(chunk_size=3)) == [b"abc", b"def", b"gh"]


def test_iter_text_handles_split_multibyte_characters() -> None:
    data = "né€😀".encode()
    chunks = [data[i : i + 1] for i in range(len(data))]
    response = Response(200, stream=RecordingStream(chunks))
    assert "".join(response.iter_text()) == "né€😀"
    sized = Response(200, stream=RecordingStream([b"abcdefg"]))
    assert list(sized.iter_text(chunk_size=3)) == ["abc", "def", "g"]


def test_iter_lines() -> None:
    chunks = [b"one\r", b"\ntwo\nthr", b"ee\rfour\r\n\r\nlast"]
    response = Response(200, stream=RecordingStream(chunks))
    assert list(response.iter_lines()) == ["one", "two", "three", "four", "", "last"]
    trailing = Response(200, stream=RecordingStream([b"a\n", b"b\r"]))
    assert list(trailing.iter_lines()) == ["a", "b"]


def test_stopping_early_closes_the_stream() -> None:
    stream = RecordingStream([b"a", b"b", b"c"])
    response = Response(200, stream=stream)
    iterator = response.iter_bytes()
    assert next(iterator) == b"a"
    iterator.close()  # what a 'break' out of a for loop does to a dropped generator
    assert stream.closed == 1 and response.is_closed


def test_network_error_mid_body_closes_the_stream() -> None:
    stream = RecordingStream([b"a", b"b"], fail_after=1)
    response = Response(200, stream=stream)
    with pytest.raises(OSError):
        response.read()
    assert stream.closed == 1


def test_context_manager_closes() -> None:
    stream = RecordingStream([b"a"])
    with Response(200, stream=stream) as response:
        assert not response.is_closed
    assert stream.closed == 1


def test_async_stream_refuses_sync_api() -> None:
    response = Response(200, stream=AsyncRecordingStream([b"a"]))
    with pytest.raises(RuntimeError, match="async"):
        response.read()
    with pytest.raises(RuntimeError, match="async"):
        response.close()


def test_no_reference_cycles() -> None:
    # Responses must be freed by reference counting alone (big bodies go away at once).
    gc.collect()
    gc.disable()
    try:
        stream = RecordingStream([b"x" * 1000, b"y" * 1000])
        request = Request("GET", "http://h/")
        response = Response(200, stream=stream, request=request)
        response.read()
        _ = response.text
        refs = [weakref.ref(response), weakref.ref(request), weakref.ref(stream)]
        del response, request, stream
        assert [ref() for ref in refs] == [None, None, None]
    finally:
        gc.enable()


# -- Response: streaming (async) ----------------------------------------------------------------


def test_async_streaming_states() -> None:
    async def main() -> None:
        stream = AsyncRecordingStream([gzip.compress(b"hello")[:7], gzip.compress(b"hello")[7:]])
        response = Response(200, headers={"Content-Encoding": "gzip"}, stream=stream)
        with pytest.raises(ResponseNotRead):
            _ = response.content
        assert await response.aread() == b"hello"
        assert stream.closed == 1 and response.is_closed
        assert response.read() == b"hello"  # already in memory: the sync API works too
        await response.aclose()
        assert stream.closed == 1

        again = Response(200, stream=AsyncRecordingStream([b"a"]))
        assert [c async for c in again.aiter_raw()] == [b"a"]
        with pytest.raises(StreamConsumed):
            await again.aread()

        closed = Response(200, stream=AsyncRecordingStream([b"a"]))
        await closed.aclose()
        with pytest.raises(StreamClosed):
            await closed.aread()

    asyncio.run(main())


def test_async_text_lines_and_chunks() -> None:
    async def main() -> None:
        lines = Response(200, stream=AsyncRecordingStream([b"a\r", b"\nb\nc"]))
        assert [line async for line in lines.aiter_lines()] == ["a", "b", "c"]
        data = "é😀".encode()
        text = Response(200, stream=AsyncRecordingStream([data[:1], data[1:3], data[3:]]))
        assert "".join([t async for t in text.aiter_text()]) == "é😀"
        sized = Response(200, stream=AsyncRecordingStream([b"abc", b"defg"]))
        assert [c async for c in sized.aiter_bytes(chunk_size=3)] == [b"abc", b"def", b"g"]

    asyncio.run(main())


def test_async_errors_close_the_stream() -> None:
    async def main() -> None:
        stream = AsyncRecordingStream([b"a", b"b"], fail_after=1)
        response = Response(200, stream=stream)
        with pytest.raises(OSError):
            await response.aread()
        assert stream.closed == 1

        corrupt = AsyncRecordingStream([b"not zstd data"])
        bad = Response(200, headers={"Content-Encoding": "zstd"}, stream=corrupt)
        with pytest.raises(DecodingError):
            await bad.aread()
        assert corrupt.closed == 1

        sync_only = Response(200, stream=RecordingStream([b"a"]))
        with pytest.raises(RuntimeError, match="sync"):
            await sync_only.aread()

    asyncio.run(main())


def test_async_context_manager() -> None:
    async def main() -> int:
        stream = AsyncRecordingStream([b"a"])
        async with Response(200, stream=stream):
            pass
        return stream.closed

    assert asyncio.run(main()) == 1


def test_bytes_downloaded_count_when_read_fails_part_way() -> None:
    # Both flavours share one body core: the raw bytes received before the error are counted
    # by read() and aread() alike (read() used to count them only once the body was complete).
    sync = Response(200, stream=RecordingStream([b"abc", b"defg", b"never"], fail_after=2))
    with pytest.raises(OSError):
        sync.read()
    assert sync.num_bytes_downloaded == 7
    assert sync.is_closed

    async def main() -> Response:
        stream = AsyncRecordingStream([b"abc", b"defg", b"never"], fail_after=2)
        response = Response(200, stream=stream)
        with pytest.raises(OSError):
            await response.aread()
        return response

    async_response = asyncio.run(main())
    assert async_response.num_bytes_downloaded == 7
    assert async_response.is_closed
