"""Fixtures for the HTTP/2 tests (import them into a test module: ``from conftest_h2 import *``).

- ``hypercorn_h2``        hypercorn over TLS (ALPN ``h2``), serving ``tests/app.py``; session.
- ``hypercorn_h2c``       hypercorn over cleartext (HTTP/2 with prior knowledge); session.
- ``nginx_h2``            nginx with ``listen ... ssl http2``, serving ``servers.NGINX_FILES``.
- ``h2_fault``            a fresh :class:`h2servers.H2FaultServer` (100 streams, no GOAWAY).
- ``h2_fault_factory``    ``h2_fault_factory(**options)`` starts one with options; all are stopped
                          at the end of the test.
- ``open_h2_sync`` / ``open_h2_async``: connect to a server and return a standalone
  ``HTTP2Connection`` (sync) / ``AsyncHTTP2Connection`` (inside a running loop), TLS with ALPN
  ``h2`` for https URLs (and an error if the server did not pick ``h2``), prior knowledge for http.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from h2servers import H2FaultServer, HypercornServer, NginxH2Server

import httpwire
from httpwire._async._http2 import AsyncHTTP2Connection
from httpwire._backends.auto import AsyncNetworkBackend
from httpwire._backends.sync import NetworkBackend
from httpwire._sync._http2 import HTTP2Connection
from httpwire._urls import URL

__all__ = [
    "h2_ssl_context",
    "h2_cert_files",
    "hypercorn_h2",
    "hypercorn_h2c",
    "nginx_h2",
    "h2_fault",
    "h2_fault_factory",
    "open_h2_sync",
    "open_h2_async",
]


@pytest.fixture(scope="session")
def h2_cert_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    directory = tmp_path_factory.mktemp("h2-cert")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    key_path = directory / "server.key"
    chain_path = directory / "server.pem"
    cert.private_key_pem.write_to_path(str(key_path))
    cert.cert_chain_pems[0].write_to_path(str(chain_path))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(chain_path), append=True)
    return str(chain_path), str(key_path)


@pytest.fixture(scope="session")
def h2_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    """Trusts the test CA and offers ALPN ``h2`` then ``http/1.1``."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


@pytest.fixture(scope="session")
def hypercorn_h2(
    h2_cert_files: tuple[str, str], h2_ssl_context: ssl.SSLContext
) -> Iterator[HypercornServer]:
    certfile, keyfile = h2_cert_files
    server = HypercornServer(
        certfile=certfile, keyfile=keyfile, client_ssl_context=h2_ssl_context
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def hypercorn_h2c() -> Iterator[HypercornServer]:
    server = HypercornServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nginx_h2(
    h2_cert_files: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxH2Server]:
    certfile, keyfile = h2_cert_files
    server = NginxH2Server(Path(tmp_path_factory.mktemp("nginx-h2")), certfile, keyfile).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def h2_fault_factory() -> Iterator[Callable[..., H2FaultServer]]:
    started: list[H2FaultServer] = []

    def factory(**options: Any) -> H2FaultServer:
        server = H2FaultServer(**options).start()
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def h2_fault(h2_fault_factory: Callable[..., H2FaultServer]) -> H2FaultServer:
    return h2_fault_factory()


def _origin(url: str) -> tuple[str, str, int]:
    u = URL(url)
    assert u.port is not None
    return (u.scheme, u.host, u.port)


@pytest.fixture
def open_h2_sync() -> Iterator[Callable[..., HTTP2Connection]]:
    opened: list[HTTP2Connection] = []

    def open_(url: str, ssl_context: ssl.SSLContext | None = None) -> HTTP2Connection:
        origin = _origin(url)
        stream: Any = NetworkBackend().connect(origin[1], origin[2], timeout=10)
        if origin[0] == "https":
            assert ssl_context is not None
            stream = stream.start_tls(ssl_context, server_hostname=origin[1], timeout=10)
            alpn = stream.get_extra_info("ssl_object").selected_alpn_protocol()
            if alpn != "h2":
                raise httpwire.UnsupportedProtocol(f"the server picked {alpn!r}, not h2")
        conn = HTTP2Connection(origin, stream)
        opened.append(conn)
        return conn

    try:
        yield open_
    finally:
        for conn in opened:
            conn.close()


async def _open_async(url: str, ssl_context: ssl.SSLContext | None = None) -> AsyncHTTP2Connection:
    origin = _origin(url)
    stream: Any = await AsyncNetworkBackend().connect(origin[1], origin[2], timeout=10)
    if origin[0] == "https":
        assert ssl_context is not None
        stream = await stream.start_tls(ssl_context, server_hostname=origin[1], timeout=10)
        alpn = stream.get_extra_info("ssl_object").selected_alpn_protocol()
        if alpn != "h2":
            raise httpwire.UnsupportedProtocol(f"the server picked {alpn!r}, not h2")
    return AsyncHTTP2Connection(origin, stream)


@pytest.fixture
def open_h2_async() -> Callable[..., Any]:
    """``await open_h2_async(url, ctx)`` inside asyncio or trio; close it in the test."""
    return _open_async
