"""The network layer as the seed writes it (issue 9, items 1 and 4), in every flavour.

- ``start_tls(ctx, hostname)`` (positional, ``hostname=``, the ``server_hostname=`` alias, bytes)
  upgrades the stream in place: the same object then speaks TLS, and its repr says ``TLS``.
- async streams close with ``close()`` as well as ``aclose()``.
- a custom backend with exactly the seed's interface (``connect(self, host, port)``, no
  ``timeout`` parameters, ``start_tls`` returning nothing, ``close()``) works inside
  ``ConnectionPool(backend=...)`` and ``Client(transport=...)``, over http and https; options are
  passed by keyword only when set, and one the backend cannot take is a clear ``TypeError``;
  timeouts still apply to it (as ``timeout()`` blocks).
- ``client.stream()`` is both awaitable and an async context manager.
- ``ConnectionPool(ssl_context=ctx, http2=True)`` offers ``h2`` by ALPN on ``ctx``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import trio
import trustme
from app import HELLO
from conftest_h2 import *  # noqa: F403
from h2servers import HypercornServer, NginxH2Server
from servers import UvicornServer

import ahttpwire
import httpwire

Runner = Callable[[Callable[[], Coroutine[Any, Any, Any]]], Any]

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


@pytest.fixture(params=["asyncio", "trio"])
def run(request: pytest.FixtureRequest) -> Runner:
    if request.param == "asyncio":
        return lambda fn: asyncio.run(fn())
    return lambda fn: trio.run(fn)


def _tls_kwargs(form: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return {
        "positional": (("127.0.0.1",), {}),
        "hostname": ((), {"hostname": "127.0.0.1"}),
        "server_hostname": ((), {"server_hostname": "127.0.0.1"}),
        "bytes": ((), {"hostname": b"127.0.0.1"}),
    }[form]


TLS_FORMS = ["positional", "hostname", "server_hostname", "bytes"]


# -- start_tls in place, repr, close() -------------------------------------------------------


@pytest.mark.parametrize("form", TLS_FORMS)
def test_sync_start_tls_upgrades_the_stream_in_place(
    form: str, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    args, kwargs = _tls_kwargs(form)
    address = f"127.0.0.1:{https_server.port}"
    net = httpwire.NetworkBackend()
    with net.connect("127.0.0.1", https_server.port) as stream:
        assert repr(stream) == f'<NetworkStream ["{address}"]>'
        result = stream.start_tls(client_ssl_context, *args, **kwargs)
        assert result is stream
        assert repr(stream) == f'<NetworkStream ["{address}" TLS]>'
        assert stream.get_extra_info("ssl_object") is not None
        stream.write(REQUEST)
        data = b""
        while part := stream.read():
            data += part
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(HELLO)
    assert repr(stream) == f'<NetworkStream ["{address}" TLS CLOSED]>'


@pytest.mark.parametrize("form", TLS_FORMS)
def test_async_start_tls_upgrades_the_stream_in_place(
    run: Runner, form: str, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    args, kwargs = _tls_kwargs(form)
    address = f"127.0.0.1:{https_server.port}"

    async def main() -> None:
        net = ahttpwire.NetworkBackend()
        stream = await net.connect("127.0.0.1", https_server.port)
        try:
            assert repr(stream) == f'<NetworkStream ["{address}"]>'
            result = await stream.start_tls(client_ssl_context, *args, **kwargs)
            assert result is stream
            assert repr(stream) == f'<NetworkStream ["{address}" TLS]>'
            await stream.write(REQUEST)
            data = b""
            while part := await stream.read():
                data += part
        finally:
            await stream.close()  # the seed's name for aclose()
        assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(HELLO)
        assert repr(stream) == f'<NetworkStream ["{address}" TLS CLOSED]>'

    run(main)


def test_async_close_and_aclose_both_close(run: Runner, http_server: UvicornServer) -> None:
    async def main() -> None:
        net = ahttpwire.NetworkBackend()
        for method in ("close", "aclose"):
            stream = await net.connect("127.0.0.1", http_server.port)
            await getattr(stream, method)()
            assert repr(stream).endswith(" CLOSED]>")
            with pytest.raises(httpwire.WriteError):
                await stream.write(b"x")

    run(main)


# -- a custom backend with exactly the seed's interface --------------------------------------


class SeedBackend(httpwire.NetworkBackendInterface):
    """The seed's RecordingBackend, minus the printing: ``connect(self, host, port)``."""

    def __init__(self) -> None:
        self._backend = httpwire.NetworkBackend()
        self.streams: list[SeedStream] = []

    def connect(self, host, port):  # type: ignore[no-untyped-def, override]
        stream = SeedStream(self._backend.connect(host, port))
        self.streams.append(stream)
        return stream


class SeedStream(httpwire.NetworkStreamInterface):
    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.sent = b""

    def read(self, max_bytes: int = None):  # type: ignore[no-untyped-def, override]
        return self._stream.read(max_bytes)

    def write(self, data):  # type: ignore[no-untyped-def, override]
        self.sent += data
        self._stream.write(data)

    def start_tls(self, ctx, hostname):  # type: ignore[no-untyped-def, override]
        self._stream.start_tls(ctx, hostname)  # returns nothing

    def get_extra_info(self, key):  # type: ignore[no-untyped-def, override]
        return self._stream.get_extra_info(key)

    def close(self):  # type: ignore[no-untyped-def, override]
        self._stream.close()


class AsyncSeedBackend(ahttpwire.NetworkBackendInterface):
    def __init__(self) -> None:
        self._backend = ahttpwire.NetworkBackend()
        self.streams: list[AsyncSeedStream] = []

    async def connect(self, host, port):  # type: ignore[no-untyped-def, override]
        stream = AsyncSeedStream(await self._backend.connect(host, port))
        self.streams.append(stream)
        return stream


class AsyncSeedStream(ahttpwire.NetworkStreamInterface):
    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.sent = b""

    async def read(self, max_bytes: int = None):  # type: ignore[no-untyped-def, override]
        return await self._stream.read(max_bytes)

    async def write(self, data):  # type: ignore[no-untyped-def, override]
        self.sent += data
        await self._stream.write(data)

    async def start_tls(self, ctx, hostname):  # type: ignore[no-untyped-def, override]
        await self._stream.start_tls(ctx, hostname)  # returns nothing

    def get_extra_info(self, key):  # type: ignore[no-untyped-def, override]
        return self._stream.get_extra_info(key)

    async def close(self):  # type: ignore[no-untyped-def, override]
        await self._stream.close()


def _check_seed_streams(streams: list[Any], scheme: str) -> None:
    assert streams, "the pool never used the custom backend"
    for stream in streams:
        assert stream.sent.startswith(b"GET / HTTP/1.1\r\n")
        shown = repr(stream._stream)
        assert shown.endswith(" TLS CLOSED]>" if scheme == "https" else '" CLOSED]>'), shown


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_sync_seed_backend_in_pool_and_client(
    scheme: str, request: pytest.FixtureRequest, client_ssl_context: ssl.SSLContext
) -> None:
    live_server: UvicornServer = request.getfixturevalue(f"{scheme}_server")
    backend = SeedBackend()
    pool = httpwire.ConnectionPool(backend=backend, ssl_context=client_ssl_context)
    with pool:
        assert pool.request("GET", live_server.url + "/").read() == HELLO
    with httpwire.Client(
        transport=httpwire.ConnectionPool(backend=backend, ssl_context=client_ssl_context)
    ) as cli:
        assert cli.get(live_server.url + "/").content == HELLO
        assert cli.get(live_server.url + "/").content == HELLO  # the connection is reused
    assert len(backend.streams) == 2
    _check_seed_streams(backend.streams, scheme)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_async_seed_backend_in_pool_and_client(
    run: Runner,
    scheme: str,
    request: pytest.FixtureRequest,
    client_ssl_context: ssl.SSLContext,
) -> None:
    live_server: UvicornServer = request.getfixturevalue(f"{scheme}_server")

    async def main() -> None:
        backend = AsyncSeedBackend()
        pool = ahttpwire.ConnectionPool(backend=backend, ssl_context=client_ssl_context)
        async with pool:
            response = await pool.request("GET", live_server.url + "/")
            assert await response.aread() == HELLO
        transport = ahttpwire.ConnectionPool(backend=backend, ssl_context=client_ssl_context)
        async with ahttpwire.Client(transport=transport) as cli:
            assert (await cli.get(live_server.url + "/")).content == HELLO
            assert (await cli.get(live_server.url + "/")).content == HELLO
        assert len(backend.streams) == 2
        _check_seed_streams(backend.streams, scheme)

    run(main)


class KeywordBackend(httpwire.NetworkBackendInterface):
    """Records how ``connect`` is called; takes every option by keyword."""

    def __init__(self) -> None:
        self.inner = httpwire.NetworkBackend()
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def connect(self, host: str, port: int, **options: Any) -> Any:  # type: ignore[override]
        self.calls.append(((host, port), options))
        return self.inner.connect(host, port, **options)


def test_sync_options_are_passed_by_keyword_only_when_set(http_server: UvicornServer) -> None:
    url = http_server.url + "/"
    backend = KeywordBackend()
    with httpwire.ConnectionPool(backend=backend) as pool:
        pool.request("GET", url).read()
        pool.request("GET", url + "?2", extensions={"timeout": {"connect": 3.0}}).read()
    option = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with httpwire.ConnectionPool(
        backend=backend, local_address="127.0.0.1", socket_options=[option], max_connections=1
    ) as pool:
        pool.request("GET", url).read()
    assert backend.calls[0] == (("127.0.0.1", http_server.port), {})
    assert backend.calls[-1] == (
        ("127.0.0.1", http_server.port),
        {"local_address": "127.0.0.1", "socket_options": [option]},
    )
    # The second request reused the idle connection: no connect call, so only two in all.
    assert len(backend.calls) == 2


def test_sync_an_option_the_seed_backend_cannot_take_is_a_clear_error(
    http_server: UvicornServer,
) -> None:
    with httpwire.ConnectionPool(backend=SeedBackend(), local_address="127.0.0.1") as pool:
        with pytest.raises(TypeError, match=r"local_address=.*SeedBackend\.connect\(\)"):
            pool.request("GET", http_server.url + "/")


def test_async_an_option_the_seed_backend_cannot_take_is_a_clear_error(
    run: Runner, http_server: UvicornServer
) -> None:
    option = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def main() -> None:
        pool = ahttpwire.ConnectionPool(backend=AsyncSeedBackend(), socket_options=[option])
        async with pool:
            with pytest.raises(TypeError, match=r"socket_options=.*AsyncSeedBackend\.connect"):
                await pool.request("GET", http_server.url + "/")

    run(main)


def test_sync_timeouts_bound_a_seed_stream_without_timeout_parameters(
    http_server: UvicornServer,
) -> None:
    # The seed's streams take no timeout: the pool's read timeout becomes a timeout() block,
    # which the default backend inside honours.
    with httpwire.ConnectionPool(backend=SeedBackend()) as pool:
        with pytest.raises(httpwire.ReadTimeout):
            pool.request(
                "GET",
                http_server.url + "/slow-head?seconds=5",
                extensions={"timeout": {"read": 0.3}},
            )


def test_async_timeouts_bound_a_seed_stream_without_timeout_parameters(
    run: Runner, http_server: UvicornServer
) -> None:
    async def main() -> None:
        async with ahttpwire.ConnectionPool(backend=AsyncSeedBackend()) as pool:
            with pytest.raises(httpwire.ReadTimeout):
                await pool.request(
                    "GET",
                    http_server.url + "/slow-head?seconds=5",
                    extensions={"timeout": {"read": 0.3}},
                )

    run(main)


# -- stream(): awaitable and an async context manager ------------------------------------------


def test_async_stream_is_awaitable_and_an_async_context_manager(
    run: Runner, http_server: UvicornServer
) -> None:
    url = http_server.url + "/"

    async def main() -> None:
        async with ahttpwire.Client() as cli:
            async with await cli.stream("GET", url) as r:  # the seed's form
                assert not r.is_closed
                assert b"".join([chunk async for chunk in r.stream]) == HELLO
            assert r.is_closed
            async with cli.stream("GET", url) as r:  # httpx's form
                assert await r.aread() == HELLO
            assert r.is_closed
            async with await cli.stream(url) as r:  # one argument: a GET, as the seed writes it
                assert r.request.method == "GET" and await r.aread() == HELLO
            context = cli.stream("GET", url)
            async with context:
                pass
            with pytest.raises(RuntimeError, match="already been used"):
                await context
        async with await ahttpwire.stream("GET", url) as r:
            assert await r.aread() == HELLO
        assert r.is_closed
        async with ahttpwire.stream("GET", url) as r:
            assert await r.aread() == HELLO
        assert r.is_closed

    run(main)


def test_sync_stream_takes_the_seeds_one_argument_form(http_server: UvicornServer) -> None:
    with httpwire.Client() as cli:
        with cli.stream(http_server.url + "/") as r:
            assert r.request.method == "GET"
            assert b"".join(r.stream) == HELLO
        assert r.is_closed
        with cli.stream("GET", http_server.url + "/") as r:
            assert r.read() == HELLO


# -- item 4: http2=True offers h2 by ALPN on the caller's context ------------------------------


def _bare_context(ca: trustme.CA) -> ssl.SSLContext:
    """A caller's context that trusts the test CA and sets no ALPN of its own."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


@pytest.mark.parametrize("http1", [True, False])
def test_sync_callers_context_negotiates_h2(
    http1: bool, ca: trustme.CA, hypercorn_h2: HypercornServer, nginx_h2: NginxH2Server
) -> None:
    context = _bare_context(ca)
    with httpwire.ConnectionPool(ssl_context=context, http2=True, http1=http1) as pool:
        for url in (hypercorn_h2.url + "/", nginx_h2.url + "/small"):
            response = pool.request("GET", url)
            response.read()
            assert response.http_version == "HTTP/2", url
    with httpwire.Client(verify=_bare_context(ca), http2=True) as cli:
        assert cli.get(hypercorn_h2.url + "/").http_version == "HTTP/2"


@pytest.mark.parametrize("http1", [True, False])
def test_async_callers_context_negotiates_h2(
    run: Runner, http1: bool, ca: trustme.CA, hypercorn_h2: HypercornServer
) -> None:
    async def main() -> None:
        context = _bare_context(ca)
        pool = ahttpwire.ConnectionPool(ssl_context=context, http2=True, http1=http1)
        async with pool:
            response = await pool.request("GET", hypercorn_h2.url + "/")
            assert await response.aread() == HELLO
            assert response.http_version == "HTTP/2"
        async with ahttpwire.Client(verify=_bare_context(ca), http2=True) as cli:
            assert (await cli.get(hypercorn_h2.url + "/")).http_version == "HTTP/2"

    run(main)


def test_callers_context_without_http2_is_left_alone(
    ca: trustme.CA, hypercorn_h2: HypercornServer
) -> None:
    context = _bare_context(ca)
    with httpwire.ConnectionPool(ssl_context=context) as pool:
        response = pool.request("GET", hypercorn_h2.url + "/")
        response.read()
        assert response.http_version == "HTTP/1.1"


def test_sync_connect_retries_with_a_seed_backend_that_has_no_sleep(refused_url: str) -> None:
    # The seed's backend has no sleep(): the back-off between connect attempts uses the default
    # backend's instead of failing with NotImplementedError.
    backend = SeedBackend()
    with httpwire.ConnectionPool(backend=backend, retries=1) as pool:
        with pytest.raises(httpwire.ConnectError):
            pool.request("GET", refused_url)


def test_async_connect_retries_with_a_seed_backend_that_has_no_sleep(
    run: Runner, refused_url: str
) -> None:
    async def main() -> None:
        async with ahttpwire.ConnectionPool(backend=AsyncSeedBackend(), retries=1) as pool:
            with pytest.raises(httpwire.ConnectError):
                await pool.request("GET", refused_url)

    run(main)


class DuckBackend:
    """Subclasses nothing: ``connect(host, port)``; its streams close only with ``close()``."""

    def __init__(self) -> None:
        self._backend = ahttpwire.NetworkBackend()
        self.streams: list[DuckStream] = []

    async def connect(self, host: str, port: int) -> DuckStream:
        stream = DuckStream(await self._backend.connect(host, port))
        self.streams.append(stream)
        return stream


class DuckStream:
    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.closed = False

    async def read(self, max_bytes: int | None = None) -> bytes:
        data: bytes = await self._stream.read(max_bytes)
        return data

    async def write(self, data: bytes) -> None:
        await self._stream.write(data)

    async def start_tls(self, ctx: ssl.SSLContext, hostname: str) -> None:
        await self._stream.start_tls(ctx, hostname)

    def get_extra_info(self, key: str) -> Any:
        return self._stream.get_extra_info(key)

    async def close(self) -> None:
        self.closed = True
        await self._stream.close()


def test_async_a_duck_typed_stream_is_closed_with_close(
    run: Runner, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    async def main() -> None:
        backend = DuckBackend()
        duck: Any = backend  # not a subclass of the interface: that is the point
        pool = ahttpwire.ConnectionPool(backend=duck, ssl_context=client_ssl_context)
        async with pool:
            response = await pool.request("GET", https_server.url + "/")
            assert await response.aread() == HELLO
        assert [s.closed for s in backend.streams] == [True]
        assert repr(backend.streams[0]._stream).endswith(" TLS CLOSED]>")

    run(main)
