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
import os
import signal
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from app import HELLO
from servers import HOST, UvicornServer, free_port, wait_for_port

import ahttpwire
import httpwire
from httpwire import http11

TINYPROXY = "/usr/bin/tinyproxy"
RUNTIMES = ["asyncio", "trio"]

TINYPROXY_CONF = """\
Port {port}
Listen {host}
Timeout 30
MaxClients 20
LogLevel Info
LogFile "{root}/tinyproxy.log"
PidFile "{root}/tinyproxy.pid"
Allow {host}
DisableViaHeader Yes
{user}
"""
# No ConnectPort line: tinyproxy then allows CONNECT to any port (the default config allows
# only 443 and 563; the TLS server here listens on a random port).


class TinyProxy:
    """tinyproxy in the foreground (``-d``) on 127.0.0.1; ``url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, root: Path) -> None:
        if not os.path.exists(TINYPROXY):
            raise RuntimeError(
                f"{TINYPROXY} is missing: install it with `apt-get install -y tinyproxy-bin` "
                "(scripts/test does this) to run the CONNECT tunnel tests"
            )
        self.root = root
        self.host = HOST
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> TinyProxy:
        # It binds the port itself: retry on the rare race where another process takes it.
        user = "User root\nGroup root" if os.geteuid() == 0 else ""
        for _attempt in range(3):
            self.port = free_port()
            self.url = f"http://{HOST}:{self.port}"
            conf = self.root / "tinyproxy.conf"
            conf.write_text(
                TINYPROXY_CONF.format(port=self.port, host=HOST, root=self.root, user=user)
            )
            with open(self.root / "stderr.log", "wb") as log:
                self.proc = subprocess.Popen(
                    [TINYPROXY, "-d", "-c", str(conf)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            proc = self.proc
            try:
                wait_for_port(self.port, alive=lambda p=proc: p.poll() is None)  # type: ignore[misc]
                return self
            except RuntimeError:
                self.stop()
        raise RuntimeError(f"tinyproxy did not start; its log says:\n{self.log()}")

    def log(self) -> str:
        parts = []
        for name in ("stderr.log", "tinyproxy.log"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyProxy]:
    server = TinyProxy(tmp_path_factory.mktemp("tinyproxy")).start()
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
    proxy: TinyProxy, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
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
    proxy: TinyProxy,
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


def test_a_refused_connect_is_a_proxy_error(proxy: TinyProxy) -> None:
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
    proxy: TinyProxy, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
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
    proxy: TinyProxy,
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
