"""Shared fixtures: real servers on 127.0.0.1, a local CA, and fault-injection servers.

Session-scoped (started once, stopped at the end of the run):

- ``ca``                 a ``trustme.CA``; ``ca_cert_path``: its certificate as a PEM file path.
- ``client_ssl_context`` an ``ssl.SSLContext`` that trusts ``ca`` (pass as ``verify=``).
- ``http_server``        uvicorn (httptools parser) serving ``tests/app.py`` over plain HTTP.
- ``https_server``       uvicorn (h11 parser) serving the same app over TLS (cert for 127.0.0.1).
- ``nginx_server``       Debian nginx serving ``/small``, ``/1m``, ``/16m``, ``/gzip/text.txt``,
                         ``/client-port``.

Each server object has ``.url`` (``"http://127.0.0.1:PORT"``, no trailing slash), ``.host``,
``.port``; the uvicorn ones also ``.scheme`` and ``.verify`` (the trusting SSLContext for TLS,
True for plain HTTP), so ``Client(verify=server.verify)`` works for both.

Function-scoped:

- ``live_server``        parametrized over ``http_server`` and ``https_server``: a test using it
                         runs once per scheme.
- ``fault_server``       a :class:`servers.FaultServer` with fresh counters (see its docstring for
                         the paths: ``/ok``, ``/ok-then-close``, ``/silent``, ``/close``,
                         ``/reset``, ``/truncated``, ``/truncated-chunked``, ``/first-only``,
                         ``/flaky``).
- ``full_backlog_url``   ``http://127.0.0.1:PORT`` where a TCP connect never completes
                         (provokes ``ConnectTimeout`` without leaving the machine).
- ``refused_url``        ``http://127.0.0.1:PORT`` where a TCP connect is refused at once.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from app import HELLO, pattern
from servers import (
    FaultServer,
    FullBacklogListener,
    NginxServer,
    RefusedPort,
    UvicornServer,
)


def _self_check(
    host: str, port: int, path: str, want: bytes, context: ssl.SSLContext | None
) -> None:
    """Fetch ``path`` with the standard library and insist on ``want``: proves the fixture works
    independently of the library under test."""
    conn: http.client.HTTPConnection
    if context is None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
    else:
        conn = http.client.HTTPSConnection(host, port, timeout=10, context=context)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status != 200 or body != want:
        raise RuntimeError(f"self-check of {host}:{port}{path} failed: {resp.status} {body[:80]!r}")


#: The proxy variables Client(trust_env=True) reads (urllib's names, both cases).
PROXY_ENV_VARS = [
    f"{name}_{'proxy' if name.islower() else 'PROXY'}"
    for name in ("http", "https", "all", "no", "HTTP", "HTTPS", "ALL", "NO")
]


@pytest.fixture(autouse=True)
def _pool_rules_checked_on_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every connection pool a test closes checks the rules between its structures
    (``check()``, issue 11) just before closing and just after: so every stress, cancellation
    and fault scenario ends with the pool's bookkeeping verified, in every flavour."""
    from httpwire._async._pool import AsyncConnectionPool
    from httpwire._sync._pool import ConnectionPool

    async_close = AsyncConnectionPool.aclose
    sync_close = ConnectionPool.close

    async def aclose(self: AsyncConnectionPool) -> None:
        self.check()
        await async_close(self)
        self.check()

    def close(self: ConnectionPool) -> None:
        self.check()
        sync_close(self)
        self.check()

    monkeypatch.setattr(AsyncConnectionPool, "aclose", aclose)
    monkeypatch.setattr(ConnectionPool, "close", close)


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without proxy variables, whatever the caller's environment has: a
    Client reads them by default, and a set HTTP_PROXY would route the tests through it."""
    for name in PROXY_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_cert_path(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def client_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


@pytest.fixture(scope="session")
def _server_cert_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    directory = tmp_path_factory.mktemp("server-cert")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    key_path = directory / "server.key"
    chain_path = directory / "server.pem"
    cert.private_key_pem.write_to_path(str(key_path))
    cert.cert_chain_pems[0].write_to_path(str(chain_path))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(chain_path), append=True)
    return str(chain_path), str(key_path)


@pytest.fixture(scope="session")
def http_server() -> Iterator[UvicornServer]:
    server = UvicornServer(http="httptools").start()
    try:
        _self_check(server.host, server.port, "/", HELLO, None)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def https_server(
    _server_cert_files: tuple[str, str], client_ssl_context: ssl.SSLContext
) -> Iterator[UvicornServer]:
    certfile, keyfile = _server_cert_files
    server = UvicornServer(
        certfile=certfile, keyfile=keyfile, client_ssl_context=client_ssl_context, http="h11"
    ).start()
    try:
        _self_check(server.host, server.port, "/", HELLO, client_ssl_context)
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["http", "https"])
def live_server(request: pytest.FixtureRequest) -> UvicornServer:
    server: UvicornServer = request.getfixturevalue(f"{request.param}_server")
    return server


@pytest.fixture(scope="session")
def nginx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxServer]:
    # NginxServer raises (it does not skip) when nginx is missing: the failure names the fix.
    server = NginxServer(Path(tmp_path_factory.mktemp("nginx"))).start()
    try:
        _self_check(server.host, server.port, "/small", pattern(100), None)
        yield server
    finally:
        server.stop()


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def full_backlog_url() -> Iterator[str]:
    listener = FullBacklogListener().start()
    try:
        yield listener.url
    finally:
        listener.stop()


@pytest.fixture
def refused_url() -> Iterator[str]:
    port = RefusedPort()
    try:
        yield port.url
    finally:
        port.stop()
