"""Connection options and request extensions against real servers: ``uds``,
``local_address``, ``socket_options``, ``retries``, ``sni_hostname``, ``target``, and the response
extensions ``http_version``, ``reason_phrase``, ``network_stream``."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from app import app
from servers import UvicornServer

import ahttpwire
import httpwire


@pytest.fixture
def uds_server(tmp_path: Path) -> Iterator[str]:
    """uvicorn serving the test app on a UNIX domain socket."""
    path = str(tmp_path / "app.sock")
    server = uvicorn.Server(uvicorn.Config(app, uds=path, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start on the UNIX socket"
        time.sleep(0.02)
    yield path
    server.should_exit = True
    thread.join(10)


def test_sync_requests_over_a_unix_socket(uds_server: str) -> None:
    names: list[str] = []
    with httpwire.ConnectionPool(uds=uds_server) as pool:
        r = pool.request(
            "GET", "http://localhost/json", extensions={"trace": lambda n, i: names.append(n)}
        )
        assert r.status_code == 200 and r.json()
        assert pool.request("GET", "http://localhost/").status_code == 200
        assert len(pool.connections) == 1
    assert names[0] == "connection.connect_unix_socket.started"


def test_async_requests_over_a_unix_socket(uds_server: str) -> None:
    async def main() -> int:
        async with ahttpwire.ConnectionPool(uds=uds_server) as pool:
            return (await pool.request("GET", "http://localhost/")).status_code

    assert asyncio.run(main()) == 200


def test_local_address_binds_the_source_address(http_server: UvicornServer) -> None:
    with (
        httpwire.ConnectionPool(local_address="127.0.0.2") as pool,
        pool.stream("GET", http_server.url + "/") as r,
    ):
        stream = r.extensions["network_stream"]
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.2"


def test_socket_options_are_applied(http_server: UvicornServer) -> None:
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]

    async def main() -> int:
        async with (
            ahttpwire.ConnectionPool(socket_options=options) as pool,
            pool.stream("GET", http_server.url + "/") as r,
        ):
            sock = r.extensions["network_stream"].get_extra_info("socket")
            return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))

    assert asyncio.run(main()) == 1
    with (
        httpwire.ConnectionPool(socket_options=options) as pool,
        pool.stream("GET", http_server.url + "/") as r,
    ):
        sock = r.extensions["network_stream"].get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1


class _CountingBackend(httpwire.NetworkBackendInterface):
    def __init__(self) -> None:
        self.attempts = 0
        self.sleeps: list[float] = []

    def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpwire.NetworkStreamInterface:
        self.attempts += 1
        return httpwire.NetworkBackend().connect(host, port, timeout, local_address, socket_options)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)  # recorded, not slept: the back-off schedule is what we check


def test_retries_reattempt_a_failed_connect_with_exponential_backoff(refused_url: str) -> None:
    backend = _CountingBackend()
    with (
        httpwire.ConnectionPool(retries=3, backend=backend) as pool,
        pytest.raises(httpwire.ConnectError),
    ):
        pool.request("GET", refused_url)
    assert backend.attempts == 4
    assert backend.sleeps == [0.5, 1.0, 2.0]


def test_sni_hostname_is_sent_in_the_tls_handshake(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    with httpwire.ConnectionPool(ssl_context=client_ssl_context) as pool:
        with pool.stream(
            "GET", https_server.url + "/", extensions={"sni_hostname": "localhost"}
        ) as r:
            ssl_object = r.extensions["network_stream"].get_extra_info("ssl_object")
            assert ssl_object.server_hostname == "localhost"
        with pytest.raises(httpwire.ConnectError, match="TLS handshake"):
            pool.request(
                "GET",
                https_server.url + "/",
                extensions={"sni_hostname": "not-in-the-cert.example"},
            )


def test_target_extension_overrides_the_request_target(http_server: UvicornServer) -> None:
    with httpwire.ConnectionPool() as pool:
        r = pool.request(
            "GET", http_server.url + "/", extensions={"target": b"/anything?via=target"}
        )
    doc = r.json()
    assert doc["path"] == "/anything" and doc["query"] == {"via": "target"}


def test_response_extensions(http_server: UvicornServer) -> None:
    async def main() -> httpwire.Response:
        async with ahttpwire.ConnectionPool() as pool:
            return await pool.request("GET", http_server.url + "/status/404")

    r = asyncio.run(main())
    assert r.status_code == 404
    assert r.extensions["http_version"] == b"HTTP/1.1"
    assert r.extensions["reason_phrase"] == b"Not Found"
    assert r.http_version == "HTTP/1.1" and r.reason_phrase == "Not Found"
    assert isinstance(r.extensions["network_stream"], ahttpwire.NetworkStreamInterface)


def test_a_client_works_across_event_loops(http_server: UvicornServer) -> None:
    client = ahttpwire.Client()

    async def one() -> int:
        return (await client.get(http_server.url + "/")).status_code

    assert [asyncio.run(one()) for _ in range(3)] == [200, 200, 200]
