"""Request bodies that scale: files as ``content=`` (Content-Length, 64 KiB blocks, replay),
``files=`` multipart streamed from disk, the boundary of a given Content-Type, text-mode files
refused, one-shot bodies that raise ``StreamConsumed`` when sent twice. Sync, asyncio, trio.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from authservers import PASSWORD, SECRET, USER, ApacheDigestServer
from test_client_unit import AsyncMockTransport, MockTransport, Reply

import ahttpwire
import httpwire
from httpwire import DigestAuth, Request, StreamConsumed
from httpwire._content import CHUNK_SIZE, FileByteStream, MultipartStream


def run(runtime: str, main: Callable[[], Awaitable[Any]]) -> Any:
    if runtime == "trio":
        return trio.run(main)

    async def wrapper() -> Any:
        return await main()

    return asyncio.run(wrapper())


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    """1 MiB + 7 bytes of short lines (a line-by-line sender would make 100k+ chunks)."""
    path = tmp_path / "big.txt"
    line = b"0123456789\n"
    data = line * ((1 << 20) // len(line) + 1)
    path.write_bytes(data[: (1 << 20) + 7])
    return path


# -- content= a file ------------------------------------------------------------------------------


def test_file_content_length_and_blocks(big_file: Path) -> None:
    size = big_file.stat().st_size
    with open(big_file, "rb") as f:
        request = Request("POST", "http://h/", content=f)
        assert request.headers["content-length"] == str(size)
        assert "transfer-encoding" not in request.headers
        assert isinstance(request.stream, FileByteStream)
        chunks = list(request.stream)
        assert [len(c) for c in chunks[:-1]] == [CHUNK_SIZE] * (size // CHUNK_SIZE)
        assert b"".join(chunks) == big_file.read_bytes()
        # Sent again (a redirect, an auth challenge): the same bytes, from the start.
        assert b"".join(request.stream) == big_file.read_bytes()


def test_stream_content_from_its_position() -> None:
    buf = io.BytesIO(b"headerBODY")
    buf.seek(6)
    request = Request("PUT", "http://h/", content=buf)
    assert request.headers["content-length"] == "4"
    assert b"".join(request.stream) == b"BODY"
    assert b"".join(request.stream) == b"BODY"


def test_unseekable_stream_is_chunked_and_one_shot() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"piped body")
    os.close(write_fd)
    with open(read_fd, "rb") as pipe:
        request = Request("POST", "http://h/", content=pipe)
        assert request.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in request.headers
        assert b"".join(request.stream) == b"piped body"
        with pytest.raises(StreamConsumed):
            list(request.stream)


def test_text_mode_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("text")
    with open(path) as text:
        with pytest.raises(TypeError, match="binary mode"):
            Request("POST", "http://h/", content=text)
        with pytest.raises(TypeError, match="binary mode"):
            Request("POST", "http://h/", files={"f": text})
    with pytest.raises(TypeError, match="binary mode"):
        Request("POST", "http://h/", content=io.StringIO("x"))


def test_generator_body_sent_twice_raises_stream_consumed() -> None:
    def gen() -> Iterator[bytes]:
        yield b"once"

    request = Request("POST", "http://h/", content=gen())
    assert b"".join(request.stream) == b"once"
    with pytest.raises(StreamConsumed):
        list(request.stream)
    # A list can be sent again.
    again = Request("POST", "http://h/", content=[b"a", b"b"])
    assert b"".join(again.stream) == b"".join(again.stream) == b"ab"

    # An auth challenge that needs the body again: StreamConsumed, before anything is sent.
    def challenge(request: Request, body: bytes) -> Reply:
        return 401, [("WWW-Authenticate", 'Digest realm="r", nonce="n", qop="auth"')], b""

    transport = MockTransport(challenge)
    with httpwire.Client(transport=transport, auth=DigestAuth("u", "p")) as client:
        with pytest.raises(StreamConsumed, match="one-shot"):
            client.post("http://h/", content=gen())
    assert len(transport.requests) == 1


def test_file_body_follows_a_307_redirect(big_file: Path) -> None:
    def handler(request: Request, body: bytes) -> Reply:
        if request.url.path == "/old":
            return 307, [("Location", "/new")], b""
        return 200, [], str(len(body)).encode()

    transport = MockTransport(handler)
    with open(big_file, "rb") as f, httpwire.Client(transport=transport) as client:
        response = client.post("http://h/old", content=f, follow_redirects=True)
    assert response.text == str(big_file.stat().st_size)
    assert transport.bodies[0] == transport.bodies[1] == big_file.read_bytes()


def test_file_body_answers_a_digest_challenge(apache: ApacheDigestServer, big_file: Path) -> None:
    with open(big_file, "rb") as f, httpwire.Client(auth=DigestAuth(USER, PASSWORD)) as client:
        response = client.post(apache.url + "/private/secret.txt", content=f)
    assert response.status_code == 200 and response.content == SECRET
    assert [r.status_code for r in response.history] == [401]


@pytest.fixture(scope="module")
def apache() -> Iterator[ApacheDigestServer]:
    server = ApacheDigestServer().start()
    try:
        yield server
    finally:
        server.stop()


def test_file_content_against_a_server_sync(http_server: Any, big_file: Path) -> None:
    with open(big_file, "rb") as f:
        response = httpwire.post(http_server.url + "/echo", content=f)
    assert response.headers["x-request-content-length"] == str(big_file.stat().st_size)
    assert response.headers["x-request-transfer-encoding"] == ""
    assert response.content == big_file.read_bytes()


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
def test_plain_file_content_in_ahttpwire(http_server: Any, big_file: Path, runtime: str) -> None:
    async def main() -> httpwire.Response:
        with open(big_file, "rb") as f:
            async with ahttpwire.Client() as client:
                return await client.put(http_server.url + "/echo", content=f)

    response = run(runtime, main)
    assert response.headers["x-request-content-length"] == str(big_file.stat().st_size)
    assert response.content == big_file.read_bytes()


# -- files= ---------------------------------------------------------------------------------------


def _parts(content_type: str, body: bytes) -> list[tuple[str | None, str | None, bytes]]:
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + body
    message = email.message_from_bytes(raw, policy=email.policy.HTTP)
    assert message.is_multipart()
    return [
        (
            p.get_param("name", header="content-disposition"),
            p.get_filename(),
            p.get_payload(decode=True),
        )
        for p in message.iter_parts()  # type: ignore[attr-defined]
    ]


class ReadRecorder(io.BufferedReader):
    """A binary file that records the sizes asked of read()."""

    asked: list[int]

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


def test_multipart_streams_files_from_disk(big_file: Path) -> None:
    raw = open(big_file, "rb", buffering=0)  # noqa: SIM115 - closed by the reader
    with ReadRecorder(raw) as f:
        f.asked = []
        f.read(100)  # a file already read from is rewound before it is sent
        request = Request("POST", "http://h/", data={"a": "1"}, files={"up": f})
        assert isinstance(request.stream, MultipartStream)
        assert f.asked == [100]  # nothing read while building the request
        body = b"".join(request.stream)
        assert request.headers["content-length"] == str(len(body))
        assert max(f.asked[1:]) == CHUNK_SIZE and -1 not in f.asked  # blocks, never whole
        content_type = request.headers["content-type"]
        assert _parts(content_type, body) == [
            ("a", None, b"1"),
            ("up", "big.txt", big_file.read_bytes()),
        ]
        assert b"".join(request.stream) == body  # rewound again when sent again


def test_boundary_of_the_content_type_header_is_used() -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=my-own-boundary"}
    request = Request("POST", "http://h/", headers=headers, files={"f": ("a.txt", b"x")})
    assert request.headers["content-type"] == headers["Content-Type"]
    body = b"".join(request.stream)
    assert body.startswith(b"--my-own-boundary\r\n") and body.endswith(b"--my-own-boundary--\r\n")
    quoted = {"Content-Type": 'multipart/form-data; boundary="q b"'}
    body = b"".join(Request("POST", "http://h/", headers=quoted, files={"f": b"x"}).stream)
    assert body.startswith(b"--q b\r\n")


def test_multipart_unknown_size_is_chunked() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"from a pipe")
    os.close(write_fd)
    with open(read_fd, "rb") as pipe:
        request = Request("POST", "http://h/", files={"p": ("p.bin", pipe)})
        assert request.headers["transfer-encoding"] == "chunked"
        body = b"".join(request.stream)
        assert _parts(request.headers["content-type"], body) == [("p", "p.bin", b"from a pipe")]
        with pytest.raises(StreamConsumed):
            list(request.stream)


def test_multipart_from_disk_against_a_server_sync(http_server: Any, big_file: Path) -> None:
    with open(big_file, "rb") as f, httpwire.Client() as client:
        response = client.post(
            http_server.url + "/echo",
            files={"up": f},
            headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        )
    assert response.headers["x-request-content-length"] == response.headers["x-received-length"]
    assert response.content.startswith(b"--xyz\r\n")
    assert _parts("multipart/form-data; boundary=xyz", response.content) == [
        ("up", "big.txt", big_file.read_bytes())
    ]


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
def test_multipart_from_disk_in_ahttpwire(http_server: Any, big_file: Path, runtime: str) -> None:
    async def main() -> httpwire.Response:
        with open(big_file, "rb") as f:
            async with ahttpwire.Client() as client:
                return await client.post(http_server.url + "/echo", files={"up": f})

    response = run(runtime, main)
    assert response.headers["x-request-content-length"] == str(len(response.content))
    parts = _parts(response.headers["content-type"], response.content)
    assert parts == [("up", "big.txt", big_file.read_bytes())]


def test_async_mock_transport_reads_file_bodies(big_file: Path) -> None:
    transport = AsyncMockTransport(lambda request, body: (200, [], str(len(body)).encode()))

    async def main() -> str:
        with open(big_file, "rb") as f:
            async with ahttpwire.Client(transport=transport) as client:
                return (await client.post("http://h/", content=f)).text

    assert run("trio", main) == str(big_file.stat().st_size)


# -- httpx's multipart and content details ---------------------------------------------------------


def test_multipart_part_headers_as_httpx() -> None:
    boundary = {"Content-Type": "multipart/form-data; boundary=B"}
    files: Any = {
        "a": (None, b"x"),  # no file name: no filename= and no Content-Type
        "b": ("b.txt", b"y", None, {"X-Extra": "1"}),  # Content-Type after the given headers
        "c": ("c.bin", b"z", "text/plain", {"content-type": "image/png"}),  # headers win
        "d": ('q"\\\r\n\x1a\x1b.txt', b"w"),  # escaped as browsers and httpx do
    }
    body = b"".join(Request("POST", "http://h/", headers=boundary, files=files).stream)
    assert body == (
        b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n'
        b'--B\r\nContent-Disposition: form-data; name="b"; filename="b.txt"\r\n'
        b"X-Extra: 1\r\nContent-Type: text/plain\r\n\r\ny\r\n"
        b'--B\r\nContent-Disposition: form-data; name="c"; filename="c.bin"\r\n'
        b"content-type: image/png\r\n\r\nz\r\n"
        b'--B\r\nContent-Disposition: form-data; name="d"; filename="q%22\\\\%0D%0A%1A\x1b.txt"'
        b"\r\nContent-Type: text/plain\r\n\r\nw\r\n"
        b"--B--\r\n"
    )
    with pytest.raises(TypeError, match="Invalid type for name"):
        Request("POST", "http://h/", data={1: "x"}, files={"f": b"x"})
    with pytest.raises(TypeError, match="Invalid type for value"):
        Request("POST", "http://h/", data={"k": object()}, files={"f": b"x"})


def test_raw_data_is_content_with_httpx_warning_and_mappings_are_not_content() -> None:
    with pytest.warns(DeprecationWarning, match="content="):
        request = Request("POST", "http://h/", data=b"raw")
    assert request.content == b"raw"

    def gen() -> Iterator[bytes]:
        yield b"streamed"

    with pytest.warns(DeprecationWarning):
        request = Request("POST", "http://h/", data=gen())
    assert request.headers["transfer-encoding"] == "chunked"
    with pytest.raises(TypeError, match="data= for a form"):
        Request("POST", "http://h/", content={"a": "b"})
