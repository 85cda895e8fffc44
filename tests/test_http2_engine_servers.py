"""httpwire.http2 driven over a plain socket against real HTTP/2 servers: hypercorn (h2c, prior
knowledge, and TLS), nginx (TLS, ALPN ``h2``) and nghttpd (nghttp2's server: h2c and TLS), 100
concurrent streams on one connection, every body checked, flow control exercised both ways (small windows: many WINDOW_UPDATEs from us; uploads
bigger than the server's windows: we wait for its WINDOW_UPDATEs)."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app import pattern
from conftest_h2 import *  # noqa: F403
from h2servers import HypercornServer, NghttpdServer, NginxH2Server
from servers import NGINX_FILES

from httpwire import http2

DEADLINE = 30.0


def _connect(server: Any, context: ssl.SSLContext | None = None) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    if context is None:
        return sock
    tls = context.wrap_socket(sock, server_hostname="127.0.0.1")
    assert tls.selected_alpn_protocol() == "h2"
    return tls


def exchange(
    sock: socket.socket,
    conn: http2.Connection,
    requests: list[tuple[list[tuple[bytes, bytes]], bytes | None]],
) -> dict[int, tuple[list[tuple[bytes, bytes]], bytes]]:
    """Send every request at once (a body with flow control), read until every stream ended;
    returns {stream_id: (response headers, body)}."""
    conn.initiate_connection()
    uploads: dict[int, memoryview] = {}
    for headers, body in requests:
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, headers, end_stream=body is None)
        if body is not None:
            uploads[sid] = memoryview(body)
    sock.sendall(conn.data_to_send())
    heads: dict[int, list[tuple[bytes, bytes]]] = {}
    bodies: dict[int, bytearray] = {}
    ended: set[int] = set()
    deadline = time.monotonic() + DEADLINE
    while len(ended) < len(requests):
        assert time.monotonic() < deadline, "the exchange did not finish in time"
        for sid, rest in list(uploads.items()):  # as much as the windows allow
            n = min(len(rest), conn.local_flow_control_window(sid))
            if n or not rest:
                conn.send_data(sid, rest[:n].tobytes(), end_stream=n == len(rest))
                uploads[sid] = rest[n:]
                if n == len(rest):
                    del uploads[sid]
        if conn.has_data_to_send:
            sock.sendall(conn.data_to_send())
        data = sock.recv(65536)
        assert data, "the server closed the connection"
        for event in conn.receive_data(data):
            kind = type(event)
            if kind is http2.ResponseReceived:
                heads[event.stream_id] = event.headers  # type: ignore[attr-defined]
                bodies[event.stream_id] = bytearray()  # type: ignore[attr-defined]
            elif kind is http2.DataReceived:
                bodies[event.stream_id] += event.data  # type: ignore[attr-defined]
                conn.acknowledge_received_data(
                    event.flow_controlled_length,  # type: ignore[attr-defined]
                    event.stream_id,  # type: ignore[attr-defined]
                )
            elif kind is http2.StreamEnded:
                ended.add(event.stream_id)  # type: ignore[attr-defined]
            elif kind in (http2.StreamReset, http2.ConnectionTerminated):
                raise AssertionError(f"unexpected {event!r}")
        if conn.has_data_to_send:
            sock.sendall(conn.data_to_send())
    conn.close_connection()
    sock.sendall(conn.data_to_send())
    return {sid: (heads[sid], bytes(bodies[sid])) for sid in heads}


def _get(authority: str, path: str) -> list[tuple[bytes, bytes]]:
    return [
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (b":authority", authority.encode()),
        (b":path", path.encode()),
    ]


@pytest.mark.parametrize(
    "windows",
    [{}, {"initial_window_size": 65535, "connection_window_size": 65535}],
    ids=["default-windows", "small-windows"],
)
def test_hypercorn_h2c_100_concurrent_gets(
    hypercorn_h2c: HypercornServer, windows: dict[str, int]
) -> None:
    authority = f"127.0.0.1:{hypercorn_h2c.port}"
    sizes = [i * 997 + i % 7 for i in range(99)] + [3 << 20]  # one beyond every window
    conn = http2.Connection(**windows)
    with _connect(hypercorn_h2c) as sock:
        results = exchange(sock, conn, [(_get(authority, f"/bytes/{n}"), None) for n in sizes])
    assert len(results) == 100
    for i, n in enumerate(sizes):
        headers, body = results[1 + 2 * i]
        assert headers[0] == (b":status", b"200")
        assert (b"content-length", str(n).encode()) in headers
        assert body == pattern(n), (i, n, len(body))
    assert conn.remote_settings[http2.SettingCodes.MAX_CONCURRENT_STREAMS] == 100


def test_hypercorn_h2c_uploads_beyond_the_servers_windows(hypercorn_h2c: HypercornServer) -> None:
    authority = f"127.0.0.1:{hypercorn_h2c.port}"
    bodies = [pattern(200_000 + i) for i in range(5)]  # 1 MB: beyond 65,535 both ways
    requests = [([(b":method", b"POST"), *_get(authority, "/echo")[1:]], body) for body in bodies]
    conn = http2.Connection()
    with _connect(hypercorn_h2c) as sock:
        results = exchange(sock, conn, requests)
    for i, body in enumerate(bodies):
        headers, echoed = results[1 + 2 * i]
        assert (b"x-received-length", str(len(body)).encode()) in headers
        assert echoed == body


def test_nginx_tls_100_concurrent_gets(
    nginx_h2: NginxH2Server, h2_ssl_context: ssl.SSLContext
) -> None:
    authority = f"127.0.0.1:{nginx_h2.port}"
    paths = ["/small"] * 98 + ["/1m", "/16m"]
    conn = http2.Connection()
    with _connect(nginx_h2, h2_ssl_context) as sock:
        requests = [([(n, b"https" if n == b":scheme" else v) for n, v in _get(authority, p)], None)
                    for p in paths]  # fmt: skip
        results = exchange(sock, conn, requests)
    assert len(results) == 100
    for i, path in enumerate(paths):
        headers, body = results[1 + 2 * i]
        assert headers[0] == (b":status", b"200")
        assert (b"server", b"nginx") in [(n, v[:5]) for n, v in headers]
        assert body == NGINX_FILES[path[1:]], (i, path)


def test_hypercorn_tls_100_concurrent_gets(
    hypercorn_h2: HypercornServer, h2_ssl_context: ssl.SSLContext
) -> None:
    authority = f"127.0.0.1:{hypercorn_h2.port}"
    sizes = [i * 313 for i in range(100)]
    requests = [
        ([(n, b"https" if n == b":scheme" else v) for n, v in _get(authority, f"/bytes/{s}")], None)
        for s in sizes
    ]
    conn = http2.Connection()
    with _connect(hypercorn_h2, h2_ssl_context) as sock:
        results = exchange(sock, conn, requests)
    assert [results[1 + 2 * i][1] for i in range(100)] == [pattern(n) for n in sizes]


@pytest.fixture(params=["h2c", "tls"])
def nghttpd(
    request: pytest.FixtureRequest, tmp_path: Path, h2_cert_files: tuple[str, str]
) -> Iterator[NghttpdServer]:
    certfile, keyfile = h2_cert_files if request.param == "tls" else (None, None)
    server = NghttpdServer(tmp_path, certfile, keyfile).start()
    try:
        yield server
    finally:
        server.stop()


def test_nghttpd_100_concurrent_gets(
    nghttpd: NghttpdServer, h2_ssl_context: ssl.SSLContext
) -> None:
    authority = f"127.0.0.1:{nghttpd.port}"
    tls = nghttpd.url.startswith("https")
    paths = ["/small"] * 97 + ["/1m", "/16m", "/small"]
    scheme = b"https" if tls else b"http"
    requests = [([(n, scheme if n == b":scheme" else v) for n, v in _get(authority, p)], None)
                for p in paths]  # fmt: skip
    conn = http2.Connection(initial_window_size=65535, connection_window_size=65535)
    with _connect(nghttpd, h2_ssl_context if tls else None) as sock:
        results = exchange(sock, conn, requests)
    assert len(results) == 100
    for i, path in enumerate(paths):
        headers, body = results[1 + 2 * i]
        assert headers[0] == (b":status", b"200")
        assert body == NGINX_FILES[path[1:]], (i, path)
