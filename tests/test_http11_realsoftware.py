"""Real software on httpwire.http11 (issue 3, item 7).

- uvicorn's own h11 protocol (``--http h11``, ``H11Protocol``), unmodified, serves
  ``tests/app.py`` with ``httpwire.http11`` installed as ``h11`` (``tests/realsoftware/``:
  a shim module and a launcher, in a subprocess so this process keeps the real h11).  The
  requests come from clients nobody here wrote: ``http.client`` and httpx.
- An h11-style client (``tests/realsoftware/h11_example_client.py``, h11's public API only)
  runs with the shim against nginx and against the shimmed uvicorn.

Every uvicorn check also runs against the same launcher on the real h11, so a check that
cannot tell the two apart would be visible as such.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from app import HELLO, JSON_DOC, pattern

import httpwire

HERE = Path(__file__).resolve().parent / "realsoftware"
PYTHON = sys.executable
TIMEOUT = 10.0


class Uvicorn:
    """``run_uvicorn.py`` (or another launcher of ``tests/realsoftware/`` with the same
    options and output) in a subprocess; ``port`` once it listens."""

    def __init__(self, real_h11: bool, launcher: str = "run_uvicorn.py") -> None:
        args = [PYTHON, str(HERE / launcher)] + (["--real-h11"] if real_h11 else [])
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("LISTENING "):
            self.stop()
            raise RuntimeError(f"launcher failed: {line!r} {self.stderr!r}")
        _, port, module = line.split()
        self.port = int(port)
        self.module = module.removeprefix("h11=")
        self.stderr = ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=TIMEOUT)
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read().decode(errors="replace")
        self.proc.stderr.close()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def _launched(param: str, launcher: str) -> Iterator[Uvicorn]:
    """The server of ``launcher`` on httpwire.http11 (``param`` "httpwire") or the real h11
    ("real-h11"), for a fixture; checks its stderr once stopped."""
    server = Uvicorn(real_h11=param == "real-h11", launcher=launcher)
    expected = "h11" if param == "real-h11" else "httpwire.http11"
    try:
        assert server.module == expected
        yield server
    finally:
        server.stop()
    # Nothing went wrong inside the server (an h11 API we lack or get wrong shows up here).
    assert "Traceback" not in server.stderr, server.stderr
    assert "Exception in ASGI application" not in server.stderr, server.stderr


@pytest.fixture(scope="module", params=["httpwire", "real-h11"])
def uvicorn_server(request: pytest.FixtureRequest) -> Iterator[Uvicorn]:
    yield from _launched(request.param, "run_uvicorn.py")


def conn_to(server: Uvicorn) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)


def test_get_and_keep_alive(uvicorn_server: Uvicorn) -> None:
    c = conn_to(uvicorn_server)
    ports = set()
    for _ in range(3):
        c.request("GET", "/")
        r = c.getresponse()
        assert (r.status, r.read()) == (200, HELLO)
        c.request("GET", "/client-port")
        r = c.getresponse()
        assert r.status == 200
        ports.add(r.read())
    assert ports == {str(c.sock.getsockname()[1]).encode()}  # one connection throughout
    c.request("GET", "/bytes/100000")
    r = c.getresponse()
    assert r.getheader("content-length") == "100000"
    assert r.read() == pattern(100000)
    c.request("GET", "/stream/5000?chunk=700")
    r = c.getresponse()
    assert r.getheader("transfer-encoding") == "chunked"
    assert r.read() == pattern(5000)
    c.request("HEAD", "/bytes/10")
    r = c.getresponse()
    assert (r.status, r.getheader("content-length"), r.read()) == (200, "10", b"")
    c.close()


def test_post_content_length_and_chunked(uvicorn_server: Uvicorn) -> None:
    c = conn_to(uvicorn_server)
    body = pattern(70000)
    c.request("POST", "/echo", body=body, headers={"Content-Type": "application/x-test"})
    r = c.getresponse()
    assert r.status == 200
    assert r.getheader("x-request-content-length") == "70000"
    assert r.getheader("x-request-transfer-encoding") == ""
    assert r.read() == body
    pieces = [pattern(1000), b"x" * 3, pattern(17)]
    c.request("POST", "/echo", body=iter(pieces), encode_chunked=True)
    r = c.getresponse()
    assert r.getheader("x-request-transfer-encoding") == "chunked"
    assert r.getheader("x-request-content-length") == ""
    assert r.read() == b"".join(pieces)
    c.close()


class _KeepOpen:
    """A file whose close() does nothing (HTTPResponse closes its file after each body)."""

    def __init__(self, fp: Any) -> None:
        self._fp = fp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fp, name)

    def close(self) -> None:
        pass


class _OneFile:
    """Gives http.client.HTTPResponse one shared buffered reader, so that consecutive
    responses read from the same socket do not lose each other's buffered bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.fp = _KeepOpen(sock.makefile("rb"))

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> Any:
        return self.fp


def read_responses(
    sock: socket.socket, methods: list[str]
) -> list[tuple[int, dict[str, str], bytes]]:
    shared = _OneFile(sock)
    out = []
    for method in methods:
        r = http.client.HTTPResponse(shared, method=method)  # type: ignore[arg-type]
        r.begin()
        out.append((r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()))
    return out


def test_pipelined_requests(uvicorn_server: Uvicorn) -> None:
    with socket.create_connection(("127.0.0.1", uvicorn_server.port), timeout=TIMEOUT) as s:
        s.sendall(
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
            b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            b"GET /json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
        got = read_responses(s, ["GET", "POST", "POST", "GET"])
        assert s.recv(1) == b""  # closed after the Connection: close one
    assert [(status, body) for status, _, body in got[:3]] == [
        (200, HELLO),
        (200, b"hello"),
        (200, b"abcde"),
    ]
    assert (got[3][0], json.loads(got[3][2])) == (200, JSON_DOC)
    assert got[2][1]["x-request-transfer-encoding"] == "chunked"
    assert got[3][1]["connection"] == "close"


BAD_FOR_BOTH = [
    b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",  # not a token (RFC 9110 §5.1)
    b"GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n",  # space before colon (RFC 9112 §5.1)
    b"GET / HTTP/1.1\r\n\r\n",  # no Host (RFC 9112 §3.2)
    b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
]
# h11 lets Transfer-Encoding win over Content-Length; httpwire refuses (RFC 9112 §6.1).
BAD_FOR_HTTPWIRE_ONLY = [
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n",
]


def bad_request(port: int, data: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(data)
        [(status, _, body)] = read_responses(s, ["GET"])
        assert s.recv(1) == b""  # uvicorn closes after a 400
    return status, body


def test_bad_requests_answered_400(uvicorn_server: Uvicorn) -> None:
    for data in BAD_FOR_BOTH:
        assert bad_request(uvicorn_server.port, data) == (400, b"Invalid HTTP request received."), (
            data
        )
    for data in BAD_FOR_HTTPWIRE_ONLY:
        status, _ = bad_request(uvicorn_server.port, data)
        assert status == (400 if uvicorn_server.module == "httpwire.http11" else 200)


def test_httpx_client(uvicorn_server: Uvicorn) -> None:
    base = f"http://127.0.0.1:{uvicorn_server.port}"
    with httpx.Client(base_url=base, timeout=TIMEOUT) as client:
        assert client.get("/").content == HELLO
        assert client.get("/json").json() == JSON_DOC
        r = client.post("/echo", content=b"payload")
        assert (r.status_code, r.content) == (200, b"payload")
        r = client.post("/echo", content=iter([b"ab", b"cd"]))  # chunked: no length known
        assert r.headers["x-request-transfer-encoding"] == "chunked"
        assert r.content == b"abcd"
        assert client.get("/status/404").status_code == 404
        ports = {client.get("/client-port").text for _ in range(3)}
        assert len(ports) == 1  # keep-alive
        r = client.get("/anything?q=1", headers={"X-Odd": "v\x7fal"})
        assert r.json()["query"] == {"q": "1"}
        assert client.get("/gzip").content.startswith(b"line 00000")


def run_example_client(port: int, *specs: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [PYTHON, str(HERE / "h11_example_client.py"), "--shim", "127.0.0.1", str(port), *specs],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[-1] == {"module": "httpwire.http11._connection"}
    return lines[:-1]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_h11_example_client_against_nginx(nginx_server: Any) -> None:
    got = run_example_client(
        nginx_server.port, "GET:/small", "GET:/1m", "HEAD:/1m", "GET:/client-port", "GET:/nothing"
    )
    assert [(g["status"], g["length"], g["sha256"]) for g in got[:3]] == [
        (200, 100, sha(pattern(100))),
        (200, 1 << 20, sha(pattern(1 << 20))),
        (200, 0, sha(b"")),
    ]
    assert got[2]["headers"]["content-length"] == str(1 << 20)
    assert got[3]["length"] == len(str(got[3]["local_port"]))
    assert got[4]["status"] == 404
    assert {g["local_port"] for g in got} == {got[0]["local_port"]}  # one connection
    assert got[-1]["states"] == ["DONE", "DONE"]


def test_h11_example_client_against_shimmed_uvicorn() -> None:
    server = Uvicorn(real_h11=False)
    try:
        got = run_example_client(
            server.port, "GET:/", "POST:/echo:some body", "GET:/stream/5000", "GET:/close"
        )
    finally:
        server.stop()
    assert [(g["status"], g["sha256"]) for g in got] == [
        (200, sha(HELLO)),
        (200, sha(b"some body")),
        (200, sha(pattern(5000))),
        (200, sha(b"closing\n")),
    ]
    assert got[2]["headers"]["transfer-encoding"] == "chunked"
    assert got[3]["states"] == ["MUST_CLOSE", "MUST_CLOSE"]
    assert "Traceback" not in server.stderr, server.stderr


def test_expect_100_continue(uvicorn_server: Uvicorn) -> None:
    # uvicorn answers 100 Continue only when the app reads the body while the client waits
    # (they_are_waiting_for_100_continue).
    with socket.create_connection(("127.0.0.1", uvicorn_server.port), timeout=TIMEOUT) as s:
        s.sendall(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            piece = s.recv(1)
            assert piece, interim
            interim += piece
        assert interim.startswith(b"HTTP/1.1 100 ")
        s.sendall(b"body")
        [(status, _, body)] = read_responses(s, ["POST"])
    assert (status, body) == (200, b"body")


# -- hypercorn: HTTP/2 with prior knowledge (issue 9, item 8) ------------------------------------


@pytest.fixture(scope="module", params=["httpwire", "real-h11"])
def hypercorn_server(request: pytest.FixtureRequest) -> Iterator[Uvicorn]:
    yield from _launched(request.param, "run_hypercorn.py")


def test_hypercorn_switches_to_http2_prior_knowledge(hypercorn_server: Uvicorn) -> None:
    """hypercorn reads a cleartext connection's first bytes with h11 and switches to HTTP/2
    when they parse as the request ``PRI * HTTP/2.0`` (RFC 9113 section 3.3). On
    httpwire.http11 that request was a 505, so an HTTP/2 client got no HTTP/2 at all."""
    url = f"http://127.0.0.1:{hypercorn_server.port}"
    pool = httpwire.ConnectionPool(http1=False, http2=True)
    with httpwire.Client(transport=pool) as client:
        responses = [client.get(f"{url}/"), client.get(f"{url}/bytes/100000")]
    assert [(r.http_version, r.status_code) for r in responses] == [("HTTP/2", 200)] * 2
    assert responses[0].content == HELLO
    assert responses[1].content == pattern(100000)
    # The same server still speaks HTTP/1.1 through the engine.
    with httpx.Client() as client:
        response = client.get(f"{url}/")
    assert (response.http_version, response.content) == ("HTTP/1.1", HELLO)
