"""Forward proxies: ``proxy=`` on ``ConnectionPool`` / ``Client`` / the module API, and proxies
from the environment (``trust_env``).

The proxy is Debian's ``tinyproxy``, started here on 127.0.0.1 (one without and one with
``BasicAuth``); the origins are the uvicorn, hypercorn (HTTP/2) and nginx fixtures. A counting
:class:`Relay` in front of tinyproxy tells how many connections reached the proxy (for reuse),
and can terminate TLS in front of it (an ``https://`` proxy). Hand-written proxies are used only
for faults (a CONNECT answered by a close, by garbage, by a stall).

- ``http://`` targets are forwarded: the origin sees tinyproxy's ``Via`` header.
- ``https://`` targets go through CONNECT: the origin sees no ``Via`` (the proxy only relays
  bytes), and the TCP peer of the response's stream is the proxy.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trio
from app import HELLO, pattern
from conftest_h2 import h2_cert_files, h2_ssl_context, hypercorn_h2  # noqa: F401
from h2servers import HypercornServer
from servers import HOST, NginxServer, Tinyproxy, UvicornServer
from settle import until

import ahttpwire
import httpwire
from httpwire._config import EnvProxies, Proxy, env_proxies

RUNTIMES = ["asyncio", "trio"]
T = 5.0  # seconds: every limit in this module
TIMEOUTS = {"connect": T, "read": T, "write": T, "pool": T}

NGINX_FORWARD_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
{user}
events {{
    worker_connections 256;
}}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    keepalive_timeout 60s;
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://$http_host$request_uri;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Via "1.1 nginx-forward";
        }}
    }}
}}
"""


class NginxForwardProxy(NginxServer):
    """Debian's nginx as a forward proxy for ``http://`` targets given as IP literals (tinyproxy
    closes its client connection after every forwarded request; nginx keeps it alive)."""

    CONF = NGINX_FORWARD_CONF


class Relay:
    """A TCP relay on 127.0.0.1 in front of ``upstream_port`` that counts the connections it
    accepts; with ``tls`` (a server ``SSLContext``) it terminates TLS first (an https proxy)."""

    def __init__(self, upstream_port: int, tls: ssl.SSLContext | None = None) -> None:
        self.upstream_port = upstream_port
        self.tls = tls
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)  # accept() is not woken by close(): poll for stop()
        self.port = self._listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://{HOST}:{self.port}"
        self.accepted = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> Relay:
        thread = threading.Thread(target=self._accept_loop, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self.accepted += 1
                self._sockets.append(conn)
            thread = threading.Thread(target=self._pipe, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _pipe(self, conn: socket.socket) -> None:
        upstream = None
        try:
            if self.tls is not None:
                conn.settimeout(T)
                conn = self.tls.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
                with self._lock:
                    self._sockets.append(conn)
            upstream = socket.create_connection((HOST, self.upstream_port), timeout=T)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.append(upstream)
            peers = {conn: upstream, upstream: conn}
            while not self._stopping:
                ready = [s for s in peers if isinstance(s, ssl.SSLSocket) and s.pending()]
                if not ready:
                    ready, _, _ = select.select(list(peers), [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (conn, upstream):
                if sock is not None:
                    sock.close()

    def stop(self) -> None:
        self._stopping = True
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)


class FaultProxy:
    """A hand-written proxy that answers every request head with ``behaviour``: ``"close"``
    (close without a byte), ``"garbage"`` (bytes that are not HTTP), ``"stall"`` (nothing, until
    stopped), ``"407"`` (a keep-alive ``407`` with a body), ``"extra"`` (``200`` to CONNECT followed at once by bytes that are not TLS)."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}"
        self.heads: list[bytes] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []

    def start(self) -> FaultProxy:
        thread = threading.Thread(target=self._accept_loop, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(T)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            self.heads.append(buf.split(b"\r\n\r\n", 1)[0])
            if self.behaviour == "garbage":
                conn.sendall(b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")
            elif self.behaviour == "stall":
                self._stop.wait(30)
            elif self.behaviour == "407":
                # A keep-alive refusal with a body: the client must still drop the connection.
                body = b"credentials, please"
                conn.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="test"\r\n'
                    b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
                )
                self._stop.wait(30)
            elif self.behaviour == "extra":
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\nnot a TLS record")
                self._stop.wait(30)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        for conn in self._conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tinyproxy(
    tmp_path_factory: pytest.TempPathFactory,
    https_server: UvicornServer,
    hypercorn_h2: HypercornServer,  # noqa: F811
) -> Iterator[Tinyproxy]:
    # CONNECT only to the TLS test servers' ports (tinyproxy refuses the others with 403).
    extra = f"ConnectPort {https_server.port}\nConnectPort {hypercorn_h2.port}"
    server = Tinyproxy(tmp_path_factory.mktemp("tinyproxy"), extra).start()
    try:
        yield server
    finally:
        server.stop()


USER, PASSWORD = "alice", "s3cret"


@pytest.fixture(scope="module")
def auth_proxy(
    tmp_path_factory: pytest.TempPathFactory, https_server: UvicornServer
) -> Iterator[Tinyproxy]:
    extra = f"BasicAuth {USER} {PASSWORD}\nConnectPort {https_server.port}"
    server = Tinyproxy(tmp_path_factory.mktemp("tinyproxy-auth"), extra).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def relay(tinyproxy: Tinyproxy) -> Iterator[Relay]:
    server = Relay(tinyproxy.port).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def nginx_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxForwardProxy]:
    server = NginxForwardProxy(tmp_path_factory.mktemp("nginx-forward")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nginx_relay(nginx_proxy: NginxForwardProxy) -> Iterator[Relay]:
    server = Relay(nginx_proxy.port).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tls_relay(tinyproxy: Tinyproxy, _server_cert_files: tuple[str, str]) -> Iterator[Relay]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*_server_cert_files)
    server = Relay(tinyproxy.port, tls=context).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[str], FaultProxy]]:
    started: list[FaultProxy] = []

    def make(behaviour: str) -> FaultProxy:
        server = FaultProxy(behaviour).start()
        started.append(server)
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()


def run(runtime: str, fn: Callable[[], Any]) -> Any:
    return asyncio.run(fn()) if runtime == "asyncio" else trio.run(fn)


def seen_headers(response: httpwire.Response) -> dict[str, str]:
    """The request headers the origin received (``/echo-headers``)."""
    assert response.status_code == 200, response.text
    result: dict[str, str] = json.loads(response.content)
    return result


# -- Proxy and environment parsing (no network) --------------------------------------------------


def test_proxy_takes_credentials_from_the_url_and_hides_them() -> None:
    proxy = Proxy("http://alice:p%40ss@127.0.0.1:3128")
    assert str(proxy.url) == "http://127.0.0.1:3128"
    assert proxy.auth == ("alice", "p@ss")
    assert (b"Proxy-Authorization", b"Basic YWxpY2U6cEBzcw==") in proxy.raw_headers
    assert "p@ss" not in repr(proxy) and "alice" in repr(proxy)
    assert proxy.origin == ("http", "127.0.0.1", 3128)
    assert Proxy("https://proxy.example").origin == ("https", "proxy.example", 443)


def test_proxy_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="socks4"):
        Proxy("socks4://127.0.0.1:1080")
    with pytest.raises(TypeError, match="proxy must be"):
        httpwire.ConnectionPool(proxy=3128)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="HTTPS_PROXY"):
        env_proxies({"HTTPS_PROXY": "ftp://127.0.0.1:21"})


def _route(env: EnvProxies | None, url: str) -> str | None:
    return None if env is None else env.proxy_for(httpwire.URL(url))


def test_env_proxies_pick_by_scheme_and_prefer_lower_case() -> None:
    assert env_proxies({}) is None
    env = env_proxies(
        {"HTTP_PROXY": "upper:1", "http_proxy": "lower:2", "HTTPS_PROXY": "https://tls:3"}
    )
    assert _route(env, "http://a.example/") == "http://lower:2"  # no scheme: http://
    assert _route(env, "https://a.example/") == "https://tls:3"
    env = env_proxies({"ALL_PROXY": "http://all:4", "https_proxy": "http://s:5"})
    assert _route(env, "http://a.example/") == "http://all:4"
    assert _route(env, "https://a.example/") == "http://s:5"
    # An empty lower-case variable unsets the upper-case one (urllib's rule).
    assert env_proxies({"HTTP_PROXY": "http://p:1", "http_proxy": ""}) is None
    # Under CGI, HTTP_PROXY may come from a request header (httpoxy): ignored.
    assert env_proxies({"HTTP_PROXY": "http://p:1", "REQUEST_METHOD": "GET"}) is None


def test_no_proxy_hosts_domains_ports_ips_and_star() -> None:
    env = env_proxies(
        {
            "HTTP_PROXY": "http://p:1",
            "NO_PROXY": " example.com, .dot.org ,*.star.net,10.0.0.0/8,192.168.1.5,"
            "[::1]:8080,localhost:9000,http://only-http.test",
        }
    )
    direct = [
        "http://example.com/",
        "http://www.example.com/",
        "http://EXAMPLE.com./x",
        "http://dot.org/",
        "http://a.dot.org/",
        "http://star.net/",
        "http://a.b.star.net/",
        "http://10.1.2.3/",
        "http://192.168.1.5:81/",
        "http://[::1]:8080/",
        "http://localhost:9000/",
        "http://only-http.test/",
    ]
    proxied = [
        "http://notexample.com/",
        "http://example.com.evil/",
        "http://11.1.2.3/",
        "http://192.168.1.6/",
        "http://[::1]:8081/",
        "http://localhost/",  # localhost is not special unless NO_PROXY names it (httpx)
        "http://127.0.0.1/",
    ]
    for url in direct:
        assert _route(env, url) is None, url
    for url in proxied:
        assert _route(env, url) == "http://p:1", url
    assert env_proxies({"HTTP_PROXY": "http://p:1", "no_proxy": "a.test,*"}) is None


# -- http:// targets: forwarded --------------------------------------------------------------


def test_http_target_is_forwarded(relay: Relay, http_server: UvicornServer) -> None:
    with httpwire.Client(proxy=relay.url, timeout=T) as client:
        first = client.post(http_server.url + "/echo", content=b"x" * 100_000)
        second = client.get(http_server.url + "/echo-headers?a=1")
    assert first.content == b"x" * 100_000
    headers = seen_headers(second)
    assert "tinyproxy" in headers["via"]
    assert headers["host"] == f"{HOST}:{http_server.port}"
    # tinyproxy closes its client connection after each forwarded response (without saying
    # "Connection: close"): the GET finds it closed (or fails on it and, being idempotent, is
    # retried): either way on a second connection.
    assert relay.accepted == 2


@pytest.mark.parametrize("runtime", ["sync", *RUNTIMES])
def test_forwarding_connection_is_reused_across_targets(
    runtime: str, nginx_relay: Relay, http_server: UvicornServer, nginx_server: NginxServer
) -> None:
    urls = [http_server.url + "/echo-headers", http_server.url + "/echo-headers"]
    urls.append(nginx_server.url + "/client-port")  # another origin, the same proxy connection

    async def main() -> tuple[list[httpwire.Response], int]:
        async with ahttpwire.Client(proxy=nginx_relay.url, timeout=T) as client:
            responses = [await client.get(url) for url in urls]
            return responses, len(client.transport.connections)

    if runtime == "sync":
        with httpwire.Client(proxy=nginx_relay.url, timeout=T) as client:
            responses = [client.get(url) for url in urls]
            count = len(client.transport.connections)
    else:
        responses, count = run(runtime, main)
    assert count == 1
    assert [seen_headers(r)["via"] for r in responses[:2]] == ["1.1 nginx-forward"] * 2
    assert responses[2].status_code == 200 and responses[2].text.isdigit()
    assert nginx_relay.accepted == 1


def test_pool_forwards_absolute_form_and_proxy_headers(
    fault_proxy: Callable[[str], FaultProxy],
) -> None:
    # What goes on the wire to the proxy: RFC 9112 section 3.2.2 absolute-form, our headers.
    proxy = fault_proxy("close")
    pool = httpwire.ConnectionPool(
        proxy=Proxy(proxy.url, auth=("u", "p"), headers={"X-Proxy-Note": "1"})
    )
    with pool, pytest.raises(httpwire.RemoteProtocolError):
        pool.request(
            "GET",
            "http://user:pw@example.test:8080/a/b?x=1#frag",
            headers={"X-Mine": "2"},
            extensions={"timeout": TIMEOUTS},
        )
    assert pool.connections == []
    head = proxy.heads[0].decode()
    lines = head.split("\r\n")
    assert lines[0] == "GET http://example.test:8080/a/b?x=1 HTTP/1.1"
    assert "Host: example.test:8080" in lines
    assert "Proxy-Authorization: Basic dTpw" in lines
    assert "X-Proxy-Note: 1" in lines and "X-Mine: 2" in lines


def test_module_api_takes_proxy(relay: Relay, http_server: UvicornServer) -> None:
    response = httpwire.get(http_server.url + "/echo-headers", proxy=relay.url, timeout=T)
    assert "tinyproxy" in seen_headers(response)["via"]

    async def main() -> httpwire.Response:
        return await ahttpwire.get(http_server.url + "/echo-headers", proxy=relay.url, timeout=T)

    assert "tinyproxy" in seen_headers(asyncio.run(main()))["via"]
    assert relay.accepted == 2


# -- https:// targets: CONNECT tunnels -------------------------------------------------------


def test_https_target_goes_through_connect_and_the_tunnel_is_reused(
    relay: Relay, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    with httpwire.Client(proxy=relay.url, verify=client_ssl_context, timeout=T) as client:
        first = client.get(https_server.url + "/echo-headers")
        second = client.get(https_server.url + "/")
        stream = second.extensions["network_stream"]
        # TLS with the server behind the proxy; TCP with the relay in front of the proxy.
        assert stream.get_extra_info("ssl_object") is not None
        assert stream.get_extra_info("server_addr")[1] == relay.port
        (conn,) = client.transport.connections
        assert "via http://127.0.0.1" in repr(conn)
    assert "via" not in seen_headers(first)  # the proxy saw only the CONNECT
    assert second.content == HELLO
    assert relay.accepted == 1


def test_connect_uses_the_target_name_for_tls(
    relay: Relay, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    # The certificate names 127.0.0.1 and localhost: SNI / verification use the target, which
    # the sni_hostname extension overrides (a name the certificate lacks fails the handshake).
    with httpwire.ConnectionPool(ssl_context=client_ssl_context, proxy=relay.url) as pool:
        ok = pool.request(
            "GET",
            https_server.url + "/",
            extensions={"timeout": TIMEOUTS, "sni_hostname": "localhost"},
        )
        assert ok.content == HELLO
    with httpwire.ConnectionPool(ssl_context=client_ssl_context, proxy=relay.url) as pool:
        with pytest.raises(httpwire.ConnectError, match="certificate|hostname|match"):
            pool.request(
                "GET",
                https_server.url + "/",
                extensions={"timeout": TIMEOUTS, "sni_hostname": "wrong.example"},
            )
        assert pool.connections == []


def test_http2_through_a_tunnel(
    relay: Relay,
    hypercorn_h2: HypercornServer,  # noqa: F811
    h2_ssl_context: ssl.SSLContext,  # noqa: F811
) -> None:
    with httpwire.Client(proxy=relay.url, verify=h2_ssl_context, http2=True, timeout=T) as client:
        responses = [client.get(hypercorn_h2.url + "/") for _ in range(3)]
        (conn,) = client.transport.connections
        assert conn.is_multiplexed
    assert [r.http_version for r in responses] == ["HTTP/2"] * 3
    assert all(r.content == HELLO for r in responses)
    assert relay.accepted == 1


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_async_forward_and_tunnel(
    runtime: str,
    relay: Relay,
    http_server: UvicornServer,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    async def main() -> list[httpwire.Response]:
        async with ahttpwire.Client(
            proxy=relay.url, verify=client_ssl_context, timeout=T
        ) as client:
            results = []
            for _ in range(2):
                results.append(await client.get(http_server.url + "/echo-headers"))
                results.append(await client.get(https_server.url + "/echo-headers"))
            return results

    results = run(runtime, main)
    assert ["via" in seen_headers(r) for r in results] == [True, False, True, False]
    # tinyproxy closes forwarding connections after each response; the tunnel is reused.
    assert relay.accepted == 3


# -- proxy authentication ------------------------------------------------------------------


def test_proxy_auth_accepted_for_forwarding_and_connect(
    auth_proxy: Tinyproxy,
    http_server: UvicornServer,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    url = f"http://{USER}:s3%63ret@{HOST}:{auth_proxy.port}"  # %63 is "c"
    with httpwire.Client(proxy=url, verify=client_ssl_context, timeout=T) as client:
        forwarded = client.get(http_server.url + "/echo-headers")
        tunnelled = client.get(https_server.url + "/echo-headers")
    assert "tinyproxy" in seen_headers(forwarded)["via"]
    # Proxy credentials go to the proxy, never to the server at the end of a tunnel.
    assert "proxy-authorization" not in seen_headers(tunnelled)

    proxy = Proxy(auth_proxy.url, auth=(USER, PASSWORD))

    async def main() -> httpwire.Response:
        async with ahttpwire.Client(proxy=proxy, verify=client_ssl_context, timeout=T) as c:
            return await c.get(https_server.url + "/")

    assert asyncio.run(main()).content == HELLO


def test_proxy_auth_refused(
    auth_proxy: Tinyproxy,
    http_server: UvicornServer,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    url = f"http://{USER}:wrong@{HOST}:{auth_proxy.port}"
    with httpwire.Client(proxy=url, verify=client_ssl_context, timeout=T) as client:
        # Forwarding: the proxy's refusal is the response (as httpx returns it). For wrong
        # credentials tinyproxy 1.11 answers 401 + WWW-Authenticate (RFC 9110 would have 407).
        refused = client.get(http_server.url + "/")
        assert refused.status_code == 401
        assert refused.headers["server"].startswith("tinyproxy")
        # CONNECT: no tunnel, so no response: ProxyError naming the status (401 again).
        with pytest.raises(httpwire.ProxyError, match="401 Unauthorized"):
            client.get(https_server.url + "/")
        assert all(c.origin[0] == "http" for c in client.transport.connections)
    # No credentials at all: tinyproxy asks for them with a proper 407 + Proxy-Authenticate.
    with httpwire.Client(proxy=auth_proxy.url, verify=client_ssl_context, timeout=T) as client:
        challenge = client.get(http_server.url + "/")
        assert challenge.status_code == 407
        assert challenge.headers["proxy-authenticate"].startswith("Basic")
        with pytest.raises(httpwire.ProxyError, match="407 Proxy Authentication Required"):
            client.get(https_server.url + "/")


# -- refusals and faults ---------------------------------------------------------------------


def test_refused_connect_is_a_proxy_error_and_leaves_nothing_in_the_pool(
    tinyproxy: Tinyproxy, nginx_server: NginxServer
) -> None:
    # nginx's port is not a ConnectPort of this tinyproxy: 403 to the CONNECT.
    target = f"https://{HOST}:{nginx_server.port}/small"
    with httpwire.ConnectionPool(proxy=tinyproxy.url, max_connections=1) as pool:
        for _ in range(2):  # twice: the first must not have kept the only slot
            with pytest.raises(httpwire.ProxyError, match=rf"CONNECT {HOST}:{nginx_server.port}"):
                pool.request("GET", target, extensions={"timeout": TIMEOUTS})
            assert pool.connections == []


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [
        ("close", httpwire.RemoteProtocolError),
        ("garbage", httpwire.RemoteProtocolError),
        ("stall", httpwire.ReadTimeout),
        ("extra", httpwire.ProxyError),
        ("407", httpwire.ProxyError),
    ],
)
def test_connect_faults_raise_and_leave_the_pool_empty(
    fault_proxy: Callable[[str], FaultProxy], behaviour: str, error: type[Exception]
) -> None:
    proxy = fault_proxy(behaviour)
    timeouts = dict(TIMEOUTS, read=0.3)
    with httpwire.ConnectionPool(proxy=proxy.url, max_connections=1) as pool:
        for _ in range(2):
            with pytest.raises(error) as caught:
                pool.request("GET", "https://example.test/", extensions={"timeout": timeouts})
            assert pool.connections == []
    if behaviour == "407":
        assert str(caught.value) == (
            "the proxy refused CONNECT example.test:443: 407 Proxy Authentication Required"
        )
        assert len(proxy.heads) == 2  # the refused connection was not reused
    assert proxy.heads[0].startswith(b"CONNECT example.test:443 HTTP/1.1\r\n")
    assert b"\r\nHost: example.test:443" in proxy.heads[0]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_timeout_block_covers_the_connect(
    runtime: str, fault_proxy: Callable[[str], FaultProxy]
) -> None:
    proxy = fault_proxy("stall")

    async def main() -> list[Any]:
        async with ahttpwire.ConnectionPool(proxy=proxy.url) as pool:
            with pytest.raises(httpwire.TimeoutException):
                with ahttpwire.timeout(0.3):
                    await pool.request("GET", "https://example.test/")
            return pool.connections

    assert run(runtime, main) == []


def test_sync_timeout_block_covers_the_connect(fault_proxy: Callable[[str], FaultProxy]) -> None:
    proxy = fault_proxy("stall")
    with httpwire.ConnectionPool(proxy=proxy.url) as pool:
        with pytest.raises(httpwire.TimeoutException):
            with httpwire.timeout(0.3):
                pool.request("GET", "https://example.test/")
        assert pool.connections == []


def test_asyncio_cancellation_during_connect_leaves_the_pool_consistent(
    fault_proxy: Callable[[str], FaultProxy],
    relay: Relay,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    stalling = fault_proxy("stall")

    async def main() -> None:
        async with ahttpwire.ConnectionPool(proxy=stalling.url, max_connections=1) as pool:
            task = asyncio.ensure_future(pool.request("GET", "https://example.test/"))
            await until(lambda: stalling.heads, "the CONNECT reaches the proxy")
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert pool.connections == []
        # The same, through a working proxy: the slot came back, the next request works.
        async with ahttpwire.ConnectionPool(
            proxy=relay.url, ssl_context=client_ssl_context, max_connections=1
        ) as pool:
            task = asyncio.ensure_future(
                pool.request("GET", https_server.url + "/slow-head?seconds=5")
            )
            await until(
                lambda: pool.connections and pool.connections[0].http_version == "HTTP/1.1",
                "the tunnel is up and the request waits for its head",
            )
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert pool.connections == []
            response = await pool.request(
                "GET", https_server.url + "/", extensions={"timeout": TIMEOUTS}
            )
            assert response.content == HELLO

    asyncio.run(main())


def test_trio_cancellation_during_connect_leaves_the_pool_consistent(
    fault_proxy: Callable[[str], FaultProxy],
) -> None:
    stalling = fault_proxy("stall")

    async def main() -> list[Any]:
        async with ahttpwire.ConnectionPool(proxy=stalling.url, max_connections=1) as pool:
            for _ in range(2):
                with trio.move_on_after(0.3) as scope:
                    await pool.request("GET", "https://example.test/")
                assert scope.cancelled_caught
            return pool.connections

    assert trio.run(main) == []


# -- trace events ----------------------------------------------------------------------------


def test_trace_shows_the_proxy_hop(
    relay: Relay, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    with httpwire.ConnectionPool(ssl_context=client_ssl_context, proxy=relay.url) as pool:
        pool.request(
            "GET",
            https_server.url + "/",
            extensions={"timeout": TIMEOUTS, "trace": lambda n, i: events.append((n, i))},
        )
    names = [name for name, _ in events]
    tcp = names.index("connection.connect_tcp.started")
    assert events[tcp][1]["port"] == relay.port  # TCP goes to the proxy
    connect_head = names.index("http11.send_request_headers.started")
    assert events[connect_head][1]["request"].method == "CONNECT"
    tls = names.index("connection.start_tls.started")
    assert events[tls][1]["server_hostname"] == HOST
    assert tcp < connect_head < tls
    # Then the request itself on the tunnel.
    later = [i for i, n in enumerate(names) if n == "http11.send_request_headers.started"]
    assert len(later) == 2 and events[later[1]][1]["request"].method == "GET"


# -- an https:// proxy (TLS to the proxy itself) ---------------------------------------------


def test_https_proxy_forwards_over_tls(
    tls_relay: Relay, http_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    proxy = Proxy(tls_relay.url, ssl_context=client_ssl_context)
    with httpwire.Client(proxy=proxy, timeout=T) as client:
        response = client.get(http_server.url + "/echo-headers")
        assert response.extensions["network_stream"].get_extra_info("ssl_object") is not None
    assert "tinyproxy" in seen_headers(response)["via"]
    assert tls_relay.accepted == 1
    # The proxy's certificate is checked: the default trust store does not know the test CA.
    with httpwire.Client(proxy=tls_relay.url, timeout=T) as client:
        with pytest.raises(httpwire.ConnectError, match="certificate"):
            client.get(http_server.url + "/")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_https_proxy_tunnel_is_tls_in_tls(
    runtime: str,
    tls_relay: Relay,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    proxy = Proxy(tls_relay.url, ssl_context=client_ssl_context)

    async def main() -> list[bytes]:
        async with ahttpwire.Client(proxy=proxy, verify=client_ssl_context, timeout=T) as c:
            hello = await c.get(https_server.url + "/")
            big = await c.get(https_server.url + "/bytes/1000000")
            echoed = await c.post(https_server.url + "/echo", content=b"z" * 300_000)
            return [hello.content, big.content, echoed.content]

    assert run(runtime, main) == [HELLO, pattern(1_000_000), b"z" * 300_000]
    assert tls_relay.accepted == 1


# -- proxies from the environment ------------------------------------------------------------


def test_env_proxies_route_requests(
    monkeypatch: pytest.MonkeyPatch,
    relay: Relay,
    http_server: UvicornServer,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", relay.url)
    monkeypatch.setenv("https_proxy", relay.url)
    with httpwire.Client(verify=client_ssl_context, timeout=T) as client:
        assert "via" in seen_headers(client.get(http_server.url + "/echo-headers"))
        assert client.get(https_server.url + "/").content == HELLO
    assert relay.accepted == 2
    # trust_env=False, or an explicit proxy=None... is not "no proxy": only trust_env=False is.
    with httpwire.Client(trust_env=False, timeout=T) as client:
        assert "via" not in seen_headers(client.get(http_server.url + "/echo-headers"))
    # NO_PROXY with the target's host:port: direct.
    monkeypatch.setenv("NO_PROXY", f"example.test,{HOST}:{http_server.port}")
    with httpwire.Client(verify=client_ssl_context, timeout=T) as client:
        assert "via" not in seen_headers(client.get(http_server.url + "/echo-headers"))
        assert client.get(https_server.url + "/").content == HELLO  # still via the proxy
    assert relay.accepted == 3


def test_env_proxies_in_the_module_api(
    monkeypatch: pytest.MonkeyPatch, nginx_relay: Relay, http_server: UvicornServer
) -> None:
    monkeypatch.setenv("http_proxy", nginx_relay.url)
    url = http_server.url + "/echo-headers"
    assert "via" in seen_headers(httpwire.get(url, timeout=T))
    assert "via" in seen_headers(httpwire.get(url, timeout=T))
    assert nginx_relay.accepted == 1  # the shared pool of this proxy kept its connection
    assert "via" not in seen_headers(httpwire.get(url, timeout=T, trust_env=False))

    async def main() -> tuple[httpwire.Response, httpwire.Response]:
        proxied = await ahttpwire.get(url, timeout=T)
        direct = await ahttpwire.get(url, timeout=T, trust_env=False)
        return proxied, direct

    proxied, direct = trio.run(main)
    assert "via" in seen_headers(proxied) and "via" not in seen_headers(direct)
    monkeypatch.setenv("no_proxy", "*")
    assert "via" not in seen_headers(httpwire.get(url, timeout=T))


def test_env_proxies_follow_redirects_per_hop(
    monkeypatch: pytest.MonkeyPatch, relay: Relay, http_server: UvicornServer
) -> None:
    # The first hop is direct (NO_PROXY names localhost), the redirect target 127.0.0.1 is not.
    monkeypatch.setenv("HTTP_PROXY", relay.url)
    monkeypatch.setenv("NO_PROXY", "localhost")
    start = f"http://localhost:{http_server.port}/redirect-to?url=" + (
        http_server.url + "/echo-headers"
    )
    with httpwire.Client(timeout=T, follow_redirects=True) as client:
        response = client.get(start)
    assert "via" in seen_headers(response)
    assert relay.accepted == 1


def test_sync_https_proxy_tunnel_is_tls_in_tls(
    tls_relay: Relay, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    proxy = Proxy(tls_relay.url, ssl_context=client_ssl_context)
    with httpwire.Client(proxy=proxy, verify=client_ssl_context, timeout=T) as client:
        first = client.get(https_server.url + "/echo-headers")
        big = client.get(https_server.url + "/bytes/1000000")
        echoed = client.post(https_server.url + "/echo", content=b"y" * 300_000)
        stream = big.extensions["network_stream"]
        # The inner session is with the server: its certificate names 127.0.0.1.
        assert stream.get_extra_info("ssl_object").server_hostname == HOST
    assert "via" not in seen_headers(first)
    assert big.content == pattern(1_000_000)
    assert echoed.content == b"y" * 300_000
    assert tls_relay.accepted == 1


def test_tls_in_tls_checks_the_target_certificate(
    tls_relay: Relay, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    proxy = Proxy(tls_relay.url, ssl_context=client_ssl_context)
    with httpwire.ConnectionPool(ssl_context=client_ssl_context, proxy=proxy) as pool:
        with pytest.raises(httpwire.ConnectError, match="wrong.example through the proxy"):
            pool.request(
                "GET",
                https_server.url + "/",
                extensions={"timeout": TIMEOUTS, "sni_hostname": "wrong.example"},
            )
        assert pool.connections == []
    # The proxy hop itself is verified too, with the Proxy's ssl_context (default store here).
    with httpwire.ConnectionPool(ssl_context=client_ssl_context, proxy=tls_relay.url) as pool:
        with pytest.raises(httpwire.ConnectError, match="certificate"):
            pool.request("GET", https_server.url + "/", extensions={"timeout": TIMEOUTS})
        assert pool.connections == []
