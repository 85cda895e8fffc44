from __future__ import annotations

import asyncio
import email
import email.policy
import io
import json
from collections.abc import AsyncIterator, Iterator

import pytest

from httpwire._content import MultipartStream, encode_request, encode_response
from httpwire._exceptions import LocalProtocolError
from httpwire._streams import AsyncIteratorByteStream, BytesStream, IteratorByteStream


def test_bytes_content() -> None:
    headers, stream = encode_request(content=b"hello")
    assert headers == {"Content-Length": "5"}
    assert isinstance(stream, BytesStream) and stream.data == b"hello"


def test_str_content_is_utf8() -> None:
    headers, stream = encode_request(content="café")
    assert headers == {"Content-Length": "5"}
    assert isinstance(stream, BytesStream) and stream.data == "café".encode()


def test_empty_and_missing_body() -> None:
    assert encode_request()[0] == {}
    assert encode_request(content=b"")[0] == {}
    assert isinstance(encode_request()[1], BytesStream)


def test_sync_iterable_is_chunked() -> None:
    def gen() -> Iterator[bytes]:
        yield b"a"
        yield b"bc"

    headers, stream = encode_request(content=gen())
    assert headers == {"Transfer-Encoding": "chunked"}
    assert isinstance(stream, IteratorByteStream)
    assert list(stream) == [b"a", b"bc"]


def test_async_iterable_is_chunked() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"bc"

    headers, stream = encode_request(content=gen())
    assert headers == {"Transfer-Encoding": "chunked"}
    assert isinstance(stream, AsyncIteratorByteStream)

    async def collect() -> list[bytes]:
        return [chunk async for chunk in stream]

    assert asyncio.run(collect()) == [b"a", b"bc"]


def test_stream_object_is_used_as_is() -> None:
    body = BytesStream(b"xyz")
    headers, stream = encode_request(content=body)
    assert stream is body and headers == {"Content-Length": "3"}


def test_form_data() -> None:
    headers, stream = encode_request(data={"a": "b c", "list": [1, 2], "t": True, "n": None})
    assert headers == {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "29"}
    assert isinstance(stream, BytesStream)
    assert stream.data == b"a=b+c&list=1&list=2&t=true&n="


def test_json() -> None:
    headers, stream = encode_request(json={"name": "café", "n": [1, 2.5, None]})
    assert isinstance(stream, BytesStream)
    assert stream.data == '{"name":"café","n":[1,2.5,null]}'.encode()
    assert headers == {"Content-Length": str(len(stream.data)), "Content-Type": "application/json"}
    assert json.loads(stream.data) == {"name": "café", "n": [1, 2.5, None]}


def test_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        encode_request(json={"x": float("nan")})


def test_conflicting_arguments() -> None:
    with pytest.raises(TypeError, match="only one"):
        encode_request(content=b"x", json={"a": 1})
    with pytest.raises(TypeError, match="only one"):
        encode_request(data={"a": "1"}, json={"a": 1})


def test_unsupported_content_type() -> None:
    with pytest.raises(TypeError, match="content must be"):
        encode_request(content=12)


def _parse_multipart(headers: dict[str, str], body: bytes) -> list[email.message.Message]:
    raw = f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode() + body
    message = email.message_from_bytes(raw, policy=email.policy.HTTP)
    assert message.is_multipart()
    return list(message.iter_parts())  # type: ignore[attr-defined]


def test_multipart() -> None:
    headers, stream = encode_request(
        data={"field": "value", "many": ["1", "2"]},
        files={
            "upload": ("report.csv", io.BytesIO(b"a,b\n1,2\n")),
            "blob": ("data.bin", b"\x00\x01", "application/x-custom"),
        },
        boundary=b"testboundary",
    )
    assert headers["Content-Type"] == "multipart/form-data; boundary=testboundary"
    assert isinstance(stream, MultipartStream)  # a file object: read as the body is sent
    body = b"".join(stream)
    assert headers["Content-Length"] == str(len(body))
    parts = _parse_multipart(headers, body)
    summary = [
        (
            p.get_param("name", header="content-disposition"),
            p.get_filename(),
            p.get_content_type(),
            p.get_payload(decode=True),
        )
        for p in parts
    ]
    assert summary == [
        ("field", None, "text/plain", b"value"),
        ("many", None, "text/plain", b"1"),
        ("many", None, "text/plain", b"2"),
        ("upload", "report.csv", "text/csv", b"a,b\n1,2\n"),
        ("blob", "data.bin", "application/x-custom", b"\x00\x01"),
    ]


def test_multipart_names_cannot_break_the_part_header() -> None:
    headers, stream = encode_request(
        files={'evil"\r\nX-Injected: 1': ("a.txt", b"x")}, boundary=b"b"
    )
    assert isinstance(stream, BytesStream)
    assert b"X-Injected: 1\r\n" not in stream.data
    assert b'name="evil%22%0D%0AX-Injected: 1"' in stream.data
    with pytest.raises(LocalProtocolError):
        encode_request(files={"f": ("a.txt", b"x", "text/plain\r\nX: 1")})


def test_encode_response() -> None:
    headers, stream = encode_response(content=b"")
    assert headers == {"Content-Length": "0"}
    headers, stream = encode_response(text="héllo")
    assert headers == {"Content-Length": "6", "Content-Type": "text/plain; charset=utf-8"}
    assert isinstance(stream, BytesStream) and stream.data == "héllo".encode()
    headers, stream = encode_response(html="<p>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    headers, stream = encode_response(json=[1])
    assert headers == {"Content-Length": "3", "Content-Type": "application/json"}
    assert encode_response()[0] == {}
