"""SOCKS5 proxies (RFC 1928, RFC 1929 username/password): ``proxy="socks5://..."``.

The proxy is ``pproxy`` (a SOCKS5 server from PyPI, test-only), started here on 127.0.0.1 with
and without credentials, behind the counting :class:`test_proxy.Relay`. pproxy answers a bad
password and an unreachable target by closing the connection; the reply codes of a proxy that
does answer (no acceptable method, rejected credentials, refused CONNECT, garbage) come from a
hand-written SOCKS5 server.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from app import HELLO
from servers import HOST, UvicornServer, free_port, wait_for_port
from test_proxy import TIMEOUTS, Relay, seen_headers

import ahttpwire
import httpwire
from httpwire._config import Proxy

T = 5.0
USER, PASSWORD = "bob", "hunter2"


class PProxy:
    """``pproxy`` serving SOCKS5 on two ports of 127.0.0.1: ``url`` without authentication,
    ``auth_url`` (no credentials in it) requiring ``USER`` / ``PASSWORD``."""

    def __init__(self, root: Path) -> None:
        exe = shutil.which("pproxy", path=str(Path(sys.executable).parent))
        if exe is None:
            raise RuntimeError(
                "pproxy is missing: install it with `.venv/bin/pip install pproxy` (a test-only "
                "dependency) to run the SOCKS5 tests"
            )
        self.exe = exe
        self.root = root
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = self.auth_port = 0

    def start(self) -> PProxy:
        for _attempt in range(3):
            self.port, self.auth_port = free_port(), free_port()
            with open(self.root / "pproxy.log", "wb") as log:
                self.proc = subprocess.Popen(
                    [
                        self.exe,
                        "-l",
                        f"socks5://{HOST}:{self.port}",
                        "-l",
                        f"socks5://{HOST}:{self.auth_port}#{USER}:{PASSWORD}",
                        "--auth",
                        "0",  # no "this IP authenticated once" cache: every connection asks
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            proc = self.proc
            try:
                for port in (self.port, self.auth_port):
                    wait_for_port(port, alive=lambda p=proc: p.poll() is None)  # type: ignore[misc]
                return self
            except RuntimeError:
                self.stop()
        raise RuntimeError(f"pproxy did not start:\n{(self.root / 'pproxy.log').read_text()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class FaultSocks:
    """A hand-written SOCKS5 server that reads each client message (methods, credentials,
    CONNECT) and answers it with the next of ``replies`` (bytes; None: close instead)."""

    def __init__(self, replies: list[bytes | None]) -> None:
        self.replies = replies
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.url = f"socks5://{HOST}:{self.port}"
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> FaultSocks:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(T)
            with conn:
                try:
                    for reply in self.replies:
                        self.received.append(conn.recv(1024))
                        if reply is None:
                            break
                        conn.sendall(reply)
                    else:
                        while conn.recv(1024):  # then silence, until the client closes
                            pass
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def pproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PProxy]:
    server = PProxy(tmp_path_factory.mktemp("pproxy")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def socks_relay(pproxy: PProxy) -> Iterator[Relay]:
    server = Relay(pproxy.port).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fault_socks() -> Iterator[Callable[[list[bytes | None]], FaultSocks]]:
    started: list[FaultSocks] = []

    def make(replies: list[bytes | None]) -> FaultSocks:
        server = FaultSocks(replies).start()
        started.append(server)
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()


def socks_url(relay: Relay) -> str:
    return f"socks5://{HOST}:{relay.port}"


def test_http_and_https_targets_through_socks5_with_reuse(
    socks_relay: Relay,
    http_server: UvicornServer,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    with httpwire.Client(
        proxy=socks_url(socks_relay), verify=client_ssl_context, timeout=T
    ) as client:
        plain = [client.get(http_server.url + "/echo-headers") for _ in range(2)]
        tls = [client.get(https_server.url + "/") for _ in range(2)]
        conns = client.transport.connections
        assert sorted(c.origin[0] for c in conns) == ["http", "https"]  # one tunnel per origin
        assert all("via socks5://" in repr(c) for c in conns)
        # The TCP peer is the proxy (the relay in front of it).
        assert tls[0].extensions["network_stream"].get_extra_info("server_addr")[1] == (
            socks_relay.port
        )
    # SOCKS relays bytes: origin-form request, no Via, the Host of the target.
    headers = seen_headers(plain[0])
    assert "via" not in headers and headers["host"] == f"{HOST}:{http_server.port}"
    assert [r.content for r in tls] == [HELLO, HELLO]
    assert socks_relay.accepted == 2


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
def test_async_socks5(
    runtime: str,
    socks_relay: Relay,
    http_server: UvicornServer,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    async def main() -> list[bytes]:
        async with ahttpwire.Client(
            proxy=socks_url(socks_relay).replace("socks5:", "socks5h:"),
            verify=client_ssl_context,
            timeout=T,
        ) as client:
            out = []
            for _ in range(2):
                out.append((await client.get(http_server.url + "/")).content)
                out.append((await client.get(https_server.url + "/")).content)
            return out

    assert (asyncio.run(main()) if runtime == "asyncio" else trio.run(main)) == [HELLO] * 4
    assert socks_relay.accepted == 2


def test_socks5_username_password(
    pproxy: PProxy, http_server: UvicornServer, https_server: UvicornServer
) -> None:
    good = f"socks5://{USER}:{PASSWORD}@{HOST}:{pproxy.auth_port}"
    assert httpwire.get(http_server.url + "/", proxy=good, timeout=T).content == HELLO
    proxy = Proxy(f"socks5://{HOST}:{pproxy.auth_port}", auth=(USER, PASSWORD))
    with httpwire.ConnectionPool(proxy=proxy) as pool:
        response = pool.request("GET", http_server.url + "/", extensions={"timeout": TIMEOUTS})
        assert response.content == HELLO
    # pproxy answers wrong credentials (or none) by closing the connection.
    for bad in (
        f"socks5://{USER}:wrong@{HOST}:{pproxy.auth_port}",
        f"socks5://{HOST}:{pproxy.auth_port}",
    ):
        with httpwire.ConnectionPool(proxy=bad) as pool:
            with pytest.raises(httpwire.RemoteProtocolError, match="SOCKS5 proxy closed"):
                pool.request("GET", http_server.url + "/", extensions={"timeout": TIMEOUTS})
            assert pool.connections == []


def test_env_all_proxy_socks5(
    monkeypatch: pytest.MonkeyPatch, socks_relay: Relay, http_server: UvicornServer
) -> None:
    monkeypatch.setenv("ALL_PROXY", socks_url(socks_relay))
    with httpwire.Client(timeout=T) as client:
        assert client.get(http_server.url + "/").content == HELLO
    assert socks_relay.accepted == 1


_OK_METHOD = b"\x05\x00"
_OK_CONNECT = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x1f\x90"


@pytest.mark.parametrize(
    ("replies", "auth", "error", "message"),
    [
        ([b"\x05\xff"], False, httpwire.ProxyError, "none of our authentication methods"),
        ([b"\x05\x02", b"\x01\x01"], True, httpwire.ProxyError, "rejected the username"),
        (
            [_OK_METHOD, b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00"],
            False,
            httpwire.ProxyError,
            "refused CONNECT example.test:443: CONNECTION_REFUSED",
        ),
        ([_OK_METHOD, b"\x05\x00\x00\x09\x00\x00"], False, httpwire.ProxyError, "malformed"),
        ([b"HTTP/1.1 400 Bad Request\r\n"], False, httpwire.ProxyError, "malformed"),
        ([_OK_METHOD, None], False, httpwire.RemoteProtocolError, "before answering CONNECT"),
    ],
)
def test_socks5_refusals_and_garbage(
    fault_socks: Callable[[list[bytes | None]], FaultSocks],
    replies: list[bytes | None],
    auth: bool,
    error: type[Exception],
    message: str,
) -> None:
    server = fault_socks(replies)
    url = server.url.replace("://", "://u:p@") if auth else server.url
    with httpwire.ConnectionPool(proxy=url, max_connections=1) as pool:
        with pytest.raises(error, match=message):
            pool.request("GET", "https://example.test/", extensions={"timeout": TIMEOUTS})
        assert pool.connections == []
    first = server.received[0]
    assert first == (b"\x05\x01\x02" if auth else b"\x05\x01\x00")  # one method offered
    if auth and len(server.received) > 1:
        assert server.received[1] == b"\x01\x01u\x01p"  # RFC 1929: VER ULEN U PLEN P
    if len(server.received) > 1 and not auth:
        # CONNECT with the host name (ATYP 3): the proxy resolves it.
        assert server.received[1] == b"\x05\x01\x00\x03\x0cexample.test\x01\xbb"


def test_socks5_stall_is_a_read_timeout(
    fault_socks: Callable[[list[bytes | None]], FaultSocks],
) -> None:
    server = fault_socks([_OK_METHOD])  # then never answers the CONNECT

    async def main() -> list[Any]:
        async with ahttpwire.ConnectionPool(proxy=server.url) as pool:
            with pytest.raises(httpwire.ReadTimeout):
                await pool.request(
                    "GET", "http://example.test/", extensions={"timeout": dict(TIMEOUTS, read=0.3)}
                )
            return pool.connections

    assert trio.run(main) == []
    with httpwire.ConnectionPool(proxy=server.url) as pool:
        with pytest.raises(httpwire.TimeoutException):
            with httpwire.timeout(0.3):
                pool.request("GET", "http://example.test/")
        assert pool.connections == []


def test_socks5_reply_with_an_ipv4_address_then_http(
    fault_socks: Callable[[list[bytes | None]], FaultSocks],
) -> None:
    # A well-formed success: the reply is read exactly, and what follows is the tunnel's.
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = fault_socks([_OK_METHOD, _OK_CONNECT, response])
    with httpwire.ConnectionPool(proxy=server.url) as pool:
        got = pool.request("GET", "http://example.test/x", extensions={"timeout": TIMEOUTS})
    assert got.content == b"ok"
    assert server.received[2].startswith(b"GET /x HTTP/1.1\r\nHost: example.test\r\n")


def test_trace_shows_the_socks5_handshake(
    socks_relay: Relay, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    with httpwire.ConnectionPool(ssl_context=client_ssl_context, proxy=socks_url(socks_relay)) as p:
        p.request(
            "GET",
            https_server.url + "/",
            extensions={"timeout": TIMEOUTS, "trace": lambda n, i: events.append((n, i))},
        )
    names = [name for name, _ in events]
    tcp = names.index("connection.connect_tcp.started")
    socks = names.index("setup_socks5_connection.started")
    tls = names.index("connection.start_tls.started")
    assert tcp < socks < names.index("setup_socks5_connection.complete") < tls
    assert events[tcp][1]["port"] == socks_relay.port
    assert events[socks][1]["port"] == https_server.port
    assert events[tls][1]["server_hostname"] == HOST
