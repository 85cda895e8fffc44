"""CONNECT tunnels (RFC 9110 section 9.3.6) through a real HTTP proxy, Debian's ``tinyproxy``:
``Connection.upgrade("CONNECT", authority)`` returns the raw stream once the proxy answers 2xx;
``start_tls`` then runs the TLS handshake with the HTTPS uvicorn server behind the proxy, and an
HTTP/1.1 exchange is driven over that TLS stream with the sans-I/O ``httpwire.http11``. The same
through ``client.stream("CONNECT", ...)`` and the ``network_stream`` response extension.

``tinyproxy`` is started by the tests on 127.0.0.1 (``scripts/test`` installs Debian's
``tinyproxy-bin`` when ``/usr/bin/tinyproxy`` is missing); a missing binary is a failure that
names the fix, not a skip.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trio
from app import HELLO
from servers import Tinyproxy, UvicornServer, free_port

import ahttpwire
import httpwire
from httpwire import http11

RUNTIMES = ["asyncio", "trio"]

# No ConnectPort line: tinyproxy then allows CONNECT to any port (the default config allows
# only 443 and 563; the TLS server here listens on a random port).


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tinyproxy]:
    server = Tinyproxy(tmp_path_factory.mktemp("tinyproxy"), "DisableViaHeader Yes").start()
    try:
        yield server
    finally:
        server.stop()


def authority(server: UvicornServer) -> str:
    return f"{server.host}:{server.port}"


# -- one HTTP/1.1 exchange over a TLS stream, with the sans-I/O engine ---------------------------


def _request_bytes(conn: http11.Connection, host: str) -> bytes:
    head = conn.send(
        http11.Request(
            method="GET",
            target="/",
            headers=[("Host", host), ("Connection", "close"), ("Accept-Encoding", "identity")],
        )
    )
    return (head or b"") + (conn.send(http11.EndOfMessage()) or b"")


def get_over_sync(stream: Any, host: str) -> tuple[int, bytes]:
    conn = http11.Connection(http11.CLIENT)
    stream.write(_request_bytes(conn, host), timeout=5)
    status, body = 0, b""
    while True:
        event = conn.next_event()
        if event is http11.NEED_DATA:
            conn.receive_data(stream.read(timeout=5))
        elif isinstance(event, http11.Response):
            status = event.status_code
        elif isinstance(event, http11.Data):
            body += bytes(event.data)
        elif isinstance(event, http11.EndOfMessage):
            return status, body
        else:
            raise AssertionError(f"unexpected {event!r}")


async def get_over_async(stream: Any, host: str) -> tuple[int, bytes]:
    conn = http11.Connection(http11.CLIENT)
    await stream.write(_request_bytes(conn, host), timeout=5)
    status, body = 0, b""
    while True:
        event = conn.next_event()
        if event is http11.NEED_DATA:
            conn.receive_data(await stream.read(timeout=5))
        elif isinstance(event, http11.Response):
            status = event.status_code
        elif isinstance(event, http11.Data):
            body += bytes(event.data)
        elif isinstance(event, http11.EndOfMessage):
            return status, body
        else:
            raise AssertionError(f"unexpected {event!r}")


def run(runtime: str, fn: Any) -> Any:
    return asyncio.run(fn()) if runtime == "asyncio" else trio.run(fn)


# -- Connection.upgrade("CONNECT", ...) ------------------------------------------------------


def test_sync_connect_tunnel_then_tls_then_http11(
    proxy: Tinyproxy, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    conn = httpwire.open_connection(proxy.url, timeout=5)
    stream = conn.upgrade("CONNECT", authority(https_server))
    tls = stream.start_tls(client_ssl_context, server_hostname="127.0.0.1", timeout=5)
    try:
        assert tls.get_extra_info("ssl_object") is not None
        # The TLS peer is the server behind the proxy; the TCP peer is still the proxy.
        assert tls.get_extra_info("server_addr")[1] == proxy.port
        assert get_over_sync(tls, authority(https_server)) == (200, HELLO)
    finally:
        tls.close()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_async_connect_tunnel_then_tls_then_http11(
    runtime: str,
    proxy: Tinyproxy,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    async def main() -> tuple[int, bytes]:
        conn = await ahttpwire.open_connection(proxy.url, timeout=5)
        stream = await conn.upgrade("CONNECT", authority(https_server))
        tls = await stream.start_tls(client_ssl_context, server_hostname="127.0.0.1", timeout=5)
        try:
            assert tls.get_extra_info("ssl_object") is not None
            return await get_over_async(tls, authority(https_server))
        finally:
            await tls.aclose()

    assert run(runtime, main) == (200, HELLO)


def test_a_refused_connect_is_a_proxy_error(proxy: Tinyproxy) -> None:
    # Nothing listens on this port: tinyproxy answers CONNECT with an error status.
    closed_port = free_port()
    conn = httpwire.open_connection(proxy.url, timeout=5)
    try:
        with pytest.raises(httpwire.ProxyError, match=f"127.0.0.1:{closed_port}"):
            conn.upgrade("CONNECT", f"127.0.0.1:{closed_port}")
    finally:
        conn.close()


# -- client.stream("CONNECT", ...) + response.extensions["network_stream"] --------------------


def test_sync_connect_tunnel_through_client_stream(
    proxy: Tinyproxy, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    target = authority(https_server)
    pool = httpwire.ConnectionPool(max_connections=1)
    with httpwire.Client(transport=pool) as client:
        for _ in range(2):  # twice: the tunnelled connection must not keep the only slot
            with client.stream(
                "CONNECT",
                proxy.url,
                headers={"Host": target},
                timeout={"connect": 5, "read": 5, "write": 5, "pool": 5},
                extensions={"target": target.encode()},
            ) as response:
                assert response.status_code == 200
                stream = response.extensions["network_stream"]
                tls = stream.start_tls(client_ssl_context, server_hostname="127.0.0.1", timeout=5)
                try:
                    assert get_over_sync(tls, target) == (200, HELLO)
                finally:
                    tls.close()
            assert pool.connections == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_async_connect_tunnel_through_client_stream(
    runtime: str,
    proxy: Tinyproxy,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    target = authority(https_server)

    async def main() -> list[tuple[int, bytes]]:
        results = []
        pool = ahttpwire.ConnectionPool(max_connections=1)
        async with ahttpwire.Client(transport=pool) as client:
            for _ in range(2):
                async with client.stream(
                    "CONNECT",
                    proxy.url,
                    headers={"Host": target},
                    timeout={"connect": 5, "read": 5, "write": 5, "pool": 5},
                    extensions={"target": target.encode()},
                ) as response:
                    assert response.status_code == 200
                    stream = response.extensions["network_stream"]
                    tls = await stream.start_tls(
                        client_ssl_context, server_hostname="127.0.0.1", timeout=5
                    )
                    try:
                        results.append(await get_over_async(tls, target))
                    finally:
                        await tls.aclose()
                assert pool.connections == []
        return results

    assert run(runtime, main) == [(200, HELLO), (200, HELLO)]
