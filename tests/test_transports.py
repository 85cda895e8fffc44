"""Transports with httpx's shapes: ``BaseTransport`` / ``AsyncBaseTransport`` (``handle_request`` /
``handle_async_request`` or ``send``), ``MockTransport``, ``HTTPTransport``, ``mounts=`` with
httpx's pattern rules and precedence (a proxy per pattern included), the client options passed
to the default pool, and transports entered and exited with the client. Sync, asyncio, trio.
The ASGI / WSGI transports against real apps are in tests/test_asgi_wsgi.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from servers import Tinyproxy, UvicornServer
from test_connection_options import uds_server  # noqa: F401 - a fixture

import ahttpwire
import httpwire
from httpwire import Request, Response
from httpwire._config import MountPattern

Run = Callable[[Callable[[], Awaitable[Any]]], Any]


@pytest.fixture(params=["asyncio", "trio"])
def run(request: pytest.FixtureRequest) -> Run:
    if request.param == "asyncio":
        return lambda fn: asyncio.run(fn())
    return lambda fn: trio.run(fn)


def hello(request: Request) -> Response:
    return Response(200, json={"url": str(request.url), "body": request.content.decode()})


# -- the base classes ---------------------------------------------------------------------------


def test_sync_transports_by_handle_request_send_or_duck_typing() -> None:
    class ByHandle(httpwire.BaseTransport):
        def handle_request(self, request: Request) -> Response:
            return Response(200, text="handle")

    class BySend(httpwire.BaseTransport):
        def send(self, request: Request) -> Response:
            return Response(200, text="send")

    class Duck:  # httpx-style, not a subclass: only handle_request
        def handle_request(self, request: Request) -> Response:
            return Response(200, text="duck")

        def close(self) -> None:
            pass

    for transport, text in ((ByHandle(), "handle"), (BySend(), "send"), (Duck(), "duck")):
        with httpwire.Client(transport=transport) as client:
            assert client.get("http://h/").text == text
    # each name defaults to the other on the base class
    assert BySend().handle_request(Request("GET", "http://h/")).status_code == 200
    assert ByHandle().send(Request("GET", "http://h/")).status_code == 200
    with pytest.raises(NotImplementedError, match="neither"):
        httpwire.BaseTransport().handle_request(Request("GET", "http://h/"))
    with pytest.raises(TypeError, match="handle_request"):
        httpwire.Client(transport=object())


def test_async_transports_by_handle_async_request_send_or_duck_typing(run: Run) -> None:
    class ByHandle(ahttpwire.BaseTransport):
        async def handle_async_request(self, request: Request) -> Response:
            return Response(200, text="handle")

    class BySend(ahttpwire.BaseTransport):
        async def send(self, request: Request) -> Response:
            return Response(200, text="send")

    class Duck:
        async def handle_async_request(self, request: Request) -> Response:
            return Response(200, text="duck")

    async def main() -> list[str]:
        texts = []
        for transport in (ByHandle(), BySend(), Duck()):
            async with ahttpwire.Client(transport=transport) as client:
                texts.append((await client.get("http://h/")).text)
        return texts

    assert run(main) == ["handle", "send", "duck"]
    assert httpwire.AsyncBaseTransport is ahttpwire.BaseTransport


def test_client_enters_and_exits_its_transports_and_mounts() -> None:
    class Transport(httpwire.BaseTransport):
        def __init__(self, name: str) -> None:
            self.name = name
            self.events: list[str] = []

        def close(self) -> None:
            self.events.append("close")

        def __enter__(self) -> Transport:
            self.events.append("enter")
            return self

        def __exit__(self, *args: object) -> None:
            super().__exit__(*args)
            self.events.append("exit")

    transport, mounted = Transport("t"), Transport("m")
    with httpwire.Client(transport=transport, mounts={"http://www.example.org": mounted}):
        pass
    assert transport.events == mounted.events == ["enter", "close", "exit"]
    # without a with-block, close() closes each once
    transport, mounted = Transport("t"), Transport("m")
    client = httpwire.Client(transport=transport, mounts={"all://": mounted, "http://": mounted})
    client.close()
    assert transport.events == mounted.events == ["close"]


# -- MockTransport --------------------------------------------------------------------------------


def test_mock_transport_sync() -> None:
    with httpwire.Client(transport=httpwire.MockTransport(hello)) as client:
        response = client.post("http://h/x", content=b"payload")
    assert response.json() == {"url": "http://h/x", "body": "payload"}
    assert response.request.url == "http://h/x"


def test_mock_transport_rejects_what_it_cannot_serve() -> None:
    with httpwire.Client(transport=httpwire.MockTransport(lambda r: "nope")) as client:
        with pytest.raises(TypeError, match="must return a Response"):
            client.get("http://h/")

    async def async_handler(request: Request) -> Response:
        return Response(200)  # pragma: no cover - never awaited

    with httpwire.Client(transport=httpwire.MockTransport(async_handler)) as client:
        with pytest.raises(TypeError, match="async client"):
            client.get("http://h/")


def test_mock_transport_handler_errors_reach_the_caller_with_the_request() -> None:
    def refuse(request: Request) -> Response:
        raise httpwire.ConnectError("refused")

    with httpwire.Client(transport=httpwire.MockTransport(refuse)) as client:
        with pytest.raises(httpwire.ConnectError) as info:
            client.get("http://h/down")
    assert info.value.request.url == "http://h/down"


def test_mock_transport_async_with_sync_and_async_handlers(run: Run) -> None:
    async def async_hello(request: Request) -> Response:
        await ahttpwire_sleep0()
        return hello(request)

    async def chunks() -> Any:
        yield b"str"
        yield b"eamed"

    async def main() -> list[Any]:
        out = []
        for handler in (hello, async_hello):
            transport = ahttpwire.MockTransport(handler)
            async with ahttpwire.Client(transport=transport) as client:
                out.append((await client.post("http://h/a", content=b"one")).json())
                out.append((await client.put("http://h/b", content=chunks())).json())
        return out

    assert (
        run(main)
        == [
            {"url": "http://h/a", "body": "one"},
            {"url": "http://h/b", "body": "streamed"},
        ]
        * 2
    )


async def ahttpwire_sleep0() -> None:
    """A real suspension point under either runtime (proves the handler was awaited there)."""
    import sniffio

    if sniffio.current_async_library() == "trio":
        await trio.sleep(0)
    else:
        await asyncio.sleep(0)


# -- mounts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "url", "matches"),
    [
        ("all://", "http://example.org", True),
        ("all://", "https://example.org:8443/x", True),
        ("http://", "http://example.org", True),
        ("http://", "https://example.org", False),
        ("all://example.org", "https://example.org", True),
        ("all://example.org", "https://www.example.org", False),
        ("all://*.example.org", "https://www.example.org", True),
        ("all://*.example.org", "https://example.org", False),
        ("all://*example.org", "https://example.org", True),
        ("all://*example.org", "https://www.example.org", True),
        ("all://*example.org", "https://badexample.org", False),
        ("https://example.org:8443", "https://example.org:8443/", True),
        ("https://example.org:8443", "https://example.org/", False),
        ("http://example.org:80", "http://example.org/", True),
        ("all://EXAMPLE.org", "http://example.org/", True),
        ("all://[::1]:8080", "http://[::1]:8080/", True),
        ("all://*", "http://anything/", True),
    ],
)
def test_mount_pattern_rules(pattern: str, url: str, matches: bool) -> None:
    assert MountPattern(pattern).matches(httpwire.URL(url)) is matches


def test_mount_pattern_rejects_plain_schemes() -> None:
    with pytest.raises(ValueError, match="'http://'"):
        MountPattern("http")
    with pytest.raises(ValueError, match="bad port"):
        MountPattern("http://h:99999")


def named(name: str) -> httpwire.MockTransport:
    return httpwire.MockTransport(lambda request: Response(200, text=name))


def test_mounts_route_by_the_most_specific_pattern() -> None:
    mounts = {
        "all://": named("all"),
        "https://": named("https"),
        "all://*.example.org": named("subdomains"),
        "all://www.example.org": named("www"),
        "https://www.example.org:8443": named("www-8443"),
        "http://direct.example.org": None,  # None: the client's own transport
    }
    with httpwire.Client(transport=named("default"), mounts=mounts) as client:
        got = {
            url: client.get(url).text
            for url in (
                "http://other.test/",
                "https://other.test/",
                "http://api.example.org/",
                "https://www.example.org/",
                "https://www.example.org:8443/",
                "http://direct.example.org/",
            )
        }
    assert got == {
        "http://other.test/": "all",
        "https://other.test/": "https",
        "http://api.example.org/": "subdomains",
        "https://www.example.org/": "www",
        "https://www.example.org:8443/": "www-8443",
        "http://direct.example.org/": "default",
    }


def test_mounts_follow_redirects_across_patterns() -> None:
    def first(request: Request) -> Response:
        return Response(302, headers={"Location": "https://b.example.org/done"})

    mounts = {
        "all://a.example.org": httpwire.MockTransport(first),
        "all://b.example.org": named("b"),
    }
    with httpwire.Client(mounts=mounts, follow_redirects=True) as client:
        response = client.get("http://a.example.org/")
    assert response.text == "b" and [r.status_code for r in response.history] == [302]


def test_mounts_async(run: Run) -> None:
    async def main() -> list[str]:
        mounts = {"all://*.example.org": ahttpwire.MockTransport(lambda r: Response(200, text="m"))}
        async with ahttpwire.Client(
            transport=ahttpwire.MockTransport(lambda r: Response(200, text="d")), mounts=mounts
        ) as client:
            return [
                (await client.get("http://x.example.org/")).text,
                (await client.get("http://example.org/")).text,
            ]

    assert run(main) == ["m", "d"]


def test_a_mount_beats_a_proxy_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", refused_url)
    with httpwire.Client(mounts={"all://example.org": named("mounted")}) as client:
        assert client.get("http://example.org/").text == "mounted"
        with pytest.raises(httpwire.ConnectError):  # not mounted: the (refusing) env proxy
            client.get("http://elsewhere.test/")


@pytest.fixture(scope="module")
def forward_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tinyproxy]:
    server = Tinyproxy(tmp_path_factory.mktemp("tinyproxy-mounts")).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_proxy_per_pattern(http_server: UvicornServer, forward_proxy: Tinyproxy) -> None:
    proxied = f"http://127.0.0.1:{http_server.port}"
    direct = f"http://localhost:{http_server.port}"
    mounts = {
        f"all://127.0.0.1:{http_server.port}": httpwire.HTTPTransport(proxy=forward_proxy.url)
    }
    with httpwire.Client(mounts=mounts, trust_env=False) as client:
        via_proxy = client.get(proxied + "/echo-headers").json()
        not_via = client.get(direct + "/echo-headers").json()
    assert "tinyproxy" in via_proxy.get("via", "")
    assert "via" not in not_via

    async def main() -> dict[str, str]:
        amounts = {
            f"all://127.0.0.1:{http_server.port}": ahttpwire.HTTPTransport(proxy=forward_proxy.url)
        }
        async with ahttpwire.Client(mounts=amounts, trust_env=False) as client:
            return (await client.get(proxied + "/echo-headers")).json()  # type: ignore[no-any-return]

    assert "tinyproxy" in asyncio.run(main()).get("via", "")
    assert "tinyproxy" in trio.run(main).get("via", "")


# -- client options passed to the default pool ----------------------------------------------------


def test_client_uds(uds_server: str) -> None:  # noqa: F811
    with httpwire.Client(uds=uds_server) as client:
        assert client.get("http://localhost/json").status_code == 200

    async def main() -> int:
        async with ahttpwire.Client(uds=uds_server) as client:
            return (await client.get("http://localhost/json")).status_code

    assert asyncio.run(main()) == 200
    assert trio.run(main) == 200


def test_client_local_address(http_server: UvicornServer) -> None:
    with httpwire.Client(local_address="127.0.0.2") as client:
        with client.stream("GET", http_server.url + "/") as response:
            stream = response.extensions["network_stream"]
            assert stream.get_extra_info("client_addr")[0] == "127.0.0.2"


def test_client_retries(refused_url: str) -> None:
    names: list[str] = []
    trace = {"trace": lambda name, info: names.append(name)}
    with httpwire.Client(retries=1) as client:
        started = time.monotonic()
        with pytest.raises(httpwire.ConnectError):
            client.get(refused_url, extensions=trace)
    # two connect attempts, half a second of back-off between them
    assert names.count("connection.connect_tcp.started") == 2
    assert time.monotonic() - started >= 0.5


def test_client_http1_false_needs_http2() -> None:
    with pytest.raises(httpwire.UnsupportedProtocol, match="http1=False and http2=False"):
        httpwire.Client(http1=False)


def test_default_transport_is_an_http_transport() -> None:
    with httpwire.Client() as client:
        assert isinstance(client.transport, httpwire.HTTPTransport)
        assert isinstance(client.transport, httpwire.ConnectionPool)
        assert isinstance(client.transport, httpwire.BaseTransport)


def test_client_options_properties() -> None:
    with httpwire.Client(trust_env=False) as client:
        assert client.trust_env is False
        client.base_url = "https://www.example.org/path"  # type: ignore[assignment]
        assert client.base_url == httpwire.URL("https://www.example.org/path/")
        client.event_hooks = {"request": [print]}
        assert client.event_hooks == {"request": [print], "response": []}


def test_sslkeylogfile_is_honoured_under_trust_env(
    https_server: UvicornServer, ca_cert_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keylog = tmp_path / "keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))
    with httpwire.Client(verify=ca_cert_path, trust_env=False) as client:
        assert client.get(https_server.url + "/").status_code == 200
    assert not keylog.exists()
    with httpwire.Client(verify=ca_cert_path) as client:
        assert client.get(https_server.url + "/").status_code == 200
    assert "CLIENT_" in keylog.read_text()  # NSS key log lines (CLIENT_RANDOM / ..._SECRET)
    context = httpwire.create_ssl_context()
    assert context.keylog_filename == str(keylog)
    assert context is not httpwire.create_ssl_context()  # not the shared default


def test_a_subclass_of_http_transport_wrapping_handle_request(http_server: UvicornServer) -> None:
    """httpx's idiom for logging / retrying transports: override handle_request and call
    super(); the request then goes to the network through the pool."""
    seen: list[str] = []

    class Logging(httpwire.HTTPTransport):
        def handle_request(self, request: Request) -> Response:
            seen.append(request.method)
            return super().handle_request(request)

    class AsyncLogging(ahttpwire.HTTPTransport):
        async def handle_async_request(self, request: Request) -> Response:
            seen.append(request.method)
            return await super().handle_async_request(request)

    with httpwire.Client(transport=Logging()) as client:
        assert client.get(http_server.url + "/").status_code == 200

    async def main() -> int:
        async with ahttpwire.Client(transport=AsyncLogging()) as client:
            return (await client.head(http_server.url + "/")).status_code

    assert asyncio.run(main()) == 200
    assert trio.run(main) == 200
    assert seen == ["GET", "HEAD", "HEAD"]
