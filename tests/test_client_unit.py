"""Unit tests of the client layer (Client / AsyncClient), the module-level functions and auth.

The transport is a small in-test double (an object with ``send(request) -> Response`` whose body
is a stream that records how it was consumed), so these tests look only at what the client adds:
default headers, base_url and params merging, bodies, redirects, cookies, auth, hooks, timeouts,
errors. Tests against real servers live elsewhere.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

import ahttpwire._api as async_api
import ahttpwire._api_clients as async_api_clients
import httpwire._api as sync_api
import httpwire._api_clients as sync_api_clients
from httpwire._async._client import AsyncClient
from httpwire._auth import BasicAuth, basic_auth_header, build_auth
from httpwire._config import DEFAULT_TIMEOUT, Limits
from httpwire._cookies import Cookies
from httpwire._exceptions import (
    ConnectError,
    InvalidURL,
    LocalProtocolError,
    RemoteProtocolError,
    ResponseNotRead,
    StreamConsumed,
    TooManyRedirects,
    UnsupportedProtocol,
)
from httpwire._models import Request, Response
from httpwire._streams import AsyncByteStream, ByteStream
from httpwire._sync._client import Client
from httpwire._sync._pool import ConnectionPool
from httpwire._version import __version__

# -- test doubles -------------------------------------------------------------------------------


class RecordingBody(ByteStream, AsyncByteStream):
    """A response body in pieces; records whether it was read to the end and closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read_to_end = False
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        self.read_to_end = True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        self.read_to_end = True

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


Reply = tuple[int, list[tuple[str, str]], bytes]
Handler = Callable[[Request, bytes], Reply]


def _body_of(request: Request) -> bytes:
    stream = request.stream
    if isinstance(stream, ByteStream):
        return b"".join(stream)
    raise AssertionError("the sync mock got an async body")


class MockTransport:
    """Sync transport double: ``handler(request, body) -> (status, headers, body)``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.bodies: list[bytes] = []
        self.responses: list[Response] = []
        self.streams: list[RecordingBody] = []
        self.closed = False

    def send(self, request: Request) -> Response:
        body = _body_of(request)
        self.requests.append(request)
        self.bodies.append(body)
        status, headers, content = self.handler(request, body)
        stream = RecordingBody([content[:3], content[3:]] if content else [])
        self.streams.append(stream)
        response = Response(status, headers=headers, stream=stream)
        self.responses.append(response)
        return response

    def close(self) -> None:
        self.closed = True


class AsyncMockTransport(MockTransport):
    """The async twin: ``async def send``; async bodies are read with ``async for``."""

    async def send(self, request: Request) -> Response:  # type: ignore[override]
        stream = request.stream
        if isinstance(stream, AsyncByteStream):
            body = b"".join([chunk async for chunk in stream])
        else:
            body = _body_of(request)
        self.requests.append(request)
        self.bodies.append(body)
        status, headers, content = self.handler(request, body)
        rec = RecordingBody([content] if content else [])
        self.streams.append(rec)
        response = Response(status, headers=headers, stream=rec)
        self.responses.append(response)
        return response

    async def aclose(self) -> None:
        self.closed = True


def ok(request: Request, body: bytes) -> Reply:
    return 200, [("Content-Type", "text/plain")], b"hello"


def echo(request: Request, body: bytes) -> Reply:
    doc = {
        "method": request.method,
        "url": str(request.url),
        "headers": [[k.decode(), v.decode()] for k, v in request.headers.raw],
        "body": body.decode("latin-1"),
    }
    return 200, [("Content-Type", "application/json")], json.dumps(doc).encode()


def routes(table: dict[str, Reply]) -> Handler:
    def handler(request: Request, body: bytes) -> Reply:
        key = request.url.raw_path.decode()
        if key not in table:
            key = f"{request.url.host}{key}"
        return table[key]

    return handler


# -- defaults, URL, params, headers -----------------------------------------------------------


def test_default_headers() -> None:
    transport = MockTransport(ok)
    with Client(transport=transport) as client:
        client.get("http://example.org/")
    headers = transport.requests[0].headers
    assert headers["User-Agent"] == f"python-httpwire/{__version__}"
    assert headers["Accept"] == "*/*"
    codings = headers.get_list("accept-encoding", split_commas=True)
    assert "gzip" in codings and "deflate" in codings
    assert headers["Host"] == "example.org"


def test_header_override_and_removal() -> None:
    transport = MockTransport(ok)
    with Client(transport=transport, headers={"User-Agent": "mine/1", "X-Client": "a"}) as client:
        client.get("http://h/", headers={"X-Client": "b", "X-Req": "c"})
        del client.headers["Accept-Encoding"]
        client.get("http://h/")
    first, second = transport.requests
    assert first.headers["User-Agent"] == "mine/1"
    assert first.headers.get_list("x-client") == ["b"]
    assert first.headers["X-Req"] == "c"
    assert "accept-encoding" not in second.headers
    assert "x-req" not in second.headers
    # The client's own headers were not changed by the per-request ones.
    assert client.headers["X-Client"] == "a"


@pytest.mark.parametrize(
    ("base", "url", "expected"),
    [
        ("http://h/api/v1", "items", "http://h/api/v1/items"),
        ("http://h/api/v1", "/items", "http://h/api/v1/items"),
        ("http://h/api/v1/", "/items?x=1", "http://h/api/v1/items?x=1"),
        ("http://h/api", "", "http://h/api/"),
        ("http://h", "a/b", "http://h/a/b"),
        ("http://h/api", "https://other/x", "https://other/x"),
    ],
)
def test_base_url_merge(base: str, url: str, expected: str) -> None:
    transport = MockTransport(ok)
    with Client(transport=transport, base_url=base) as client:
        response = client.get(url)
        response2 = client.get(url)  # second time through the URL cache
    assert str(response.request.url) == expected
    assert str(response2.request.url) == expected


def test_relative_url_without_base_url() -> None:
    with Client(transport=MockTransport(ok)) as client:
        with pytest.raises(UnsupportedProtocol, match="no scheme"):
            client.get("/items")
        with pytest.raises(InvalidURL):
            client.get("http://exa mple.org/")


def test_params_merge() -> None:
    transport = MockTransport(ok)
    with Client(transport=transport, params={"a": "1", "b": "2"}) as client:
        client.get("http://h/p?q=0", params={"b": "3", "c": "4"})
        client.get("http://h/p")
    first, second = transport.requests
    assert dict(first.url.params) == {"q": "0", "a": "1", "b": "3", "c": "4"}
    assert dict(second.url.params) == {"a": "1", "b": "2"}


def test_default_transport_is_one_pool_per_client() -> None:
    client = Client()
    other = Client(limits={"max_connections": 5})
    try:
        assert isinstance(client.transport, ConnectionPool)
        assert client.transport is client.transport
        assert client.transport is not other.transport
    finally:
        client.close()
        other.close()


def test_limits_validation() -> None:
    with pytest.raises(ValueError, match="unknown limits"):
        Client(limits={"max_conns": 3})
    with pytest.raises(TypeError, match="limits"):
        Client(limits=7)
    assert Limits(max_connections=3) == Limits(max_connections=3)
    assert Limits(max_connections=3) != Limits()


# -- bodies ------------------------------------------------------------------------------------


def test_bodies() -> None:
    transport = MockTransport(echo)
    with Client(transport=transport) as client:
        client.post("http://h/", content=b"raw")
        client.post("http://h/", content=iter([b"ab", b"cd"]))
        client.post("http://h/", data={"k": "v w"})
        client.put("http://h/", json={"a": [1, 2]})
        client.patch("http://h/", content="text")
    raw, chunked, form, js, text = transport.requests
    assert transport.bodies == [b"raw", b"abcd", b"k=v+w", b'{"a":[1,2]}', b"text"]
    assert raw.headers["Content-Length"] == "3"
    assert chunked.headers["Transfer-Encoding"] == "chunked"
    assert "content-length" not in chunked.headers
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert js.headers["Content-Type"] == "application/json"
    assert js.method == "PUT" and text.method == "PATCH"


def test_response_read_and_decoded() -> None:
    payload = b"compressed text " * 50

    def handler(request: Request, body: bytes) -> Reply:
        return 200, [("Content-Encoding", "gzip")], gzip.compress(payload)

    transport = MockTransport(handler)
    with Client(transport=transport) as client:
        response = client.get("http://h/")
    assert response.content == payload
    assert transport.streams[0].read_to_end and transport.streams[0].closed
    assert response.elapsed.total_seconds() >= 0
    assert response.request is transport.requests[0]


def test_stream_reads_lazily_and_closes() -> None:
    transport = MockTransport(ok)
    with Client(transport=transport) as client:
        with client.stream("GET", "http://h/") as response:
            assert not transport.streams[0].read_to_end
            assert b"".join(response.iter_bytes()) == b"hello"
        with client.stream("GET", "http://h/") as response:
            pass  # body never read: the block's end must still close it
    assert transport.streams[0].closed
    assert transport.streams[1].closed and not transport.streams[1].read_to_end
    assert response.elapsed.total_seconds() >= 0


def test_send_stream_true() -> None:
    transport = MockTransport(ok)
    with Client(transport=transport) as client:
        request = client.build_request("GET", "http://h/x")
        response = client.send(request, stream=True)
        assert not transport.streams[0].closed
        assert response.read() == b"hello"
    assert transport.streams[0].closed


# -- timeouts ----------------------------------------------------------------------------------


def test_timeout_extension() -> None:
    transport = MockTransport(ok)
    with Client(transport=transport) as client:
        client.get("http://h/")
        client.get("http://h/", timeout=2.5)
        client.get("http://h/", timeout=None)
        client.get("http://h/", timeout={"read": 1})
        client.get("http://h/", extensions={"timeout": {"connect": 1.0}})
    got = [r.extensions["timeout"] for r in transport.requests]
    assert got[0] == DEFAULT_TIMEOUT.as_dict()
    assert got[0] == {"connect": 10.0, "read": 60.0, "write": 60.0, "pool": 60.0}
    assert got[1] == dict.fromkeys(("connect", "read", "write", "pool"), 2.5)
    assert got[2] == dict.fromkeys(("connect", "read", "write", "pool"))
    assert got[3] == {"connect": None, "read": 1.0, "write": None, "pool": None}
    assert got[4] == {"connect": 1.0}
    # Each request gets its own dict: mutating one does not leak into the client.
    got[0]["read"] = 0.0
    assert client.timeout.read == 60.0


def test_client_timeout_setting() -> None:
    transport = MockTransport(ok)
    with Client(transport=transport, timeout=3) as client:
        client.get("http://h/")
    assert transport.requests[0].extensions["timeout"]["connect"] == 3.0


# -- redirects ---------------------------------------------------------------------------------


def test_redirect_history_and_closing() -> None:
    transport = MockTransport(
        routes(
            {
                "/a": (301, [("Location", "/b")], b"moved a"),
                "/b": (302, [("Location", "http://h/c")], b"moved b"),
                "/c": (200, [], b"done"),
            }
        )
    )
    with Client(transport=transport, follow_redirects=True) as client:
        response = client.get("http://h/a")
    assert response.text == "done"
    assert [r.status_code for r in response.history] == [301, 302]
    assert [str(r.request.url) for r in response.history] == ["http://h/a", "http://h/b"]
    # Redirect responses were read to the end (connection reusable) and closed.
    assert all(s.read_to_end and s.closed for s in transport.streams)
    # ... and dropped undecoded: a redirect body is never held (it could be a bomb).
    with pytest.raises(ResponseNotRead):
        response.history[0].content  # noqa: B018


def test_post_302_becomes_get_without_body() -> None:
    transport = MockTransport(
        routes({"/form": (302, [("Location", "/next")], b""), "/next": (200, [], b"ok")})
    )
    with Client(transport=transport, follow_redirects=True) as client:
        client.post("http://h/form", data={"a": "1"}, headers={"Content-Encoding": "identity"})
    second = transport.requests[1]
    assert second.method == "GET"
    assert transport.bodies[1] == b""
    for name in ("content-length", "content-type", "transfer-encoding", "content-encoding"):
        assert name not in second.headers


def test_head_stays_head_on_303() -> None:
    transport = MockTransport(
        routes({"/x": (303, [("Location", "/y")], b""), "/y": (200, [], b"")})
    )
    with Client(transport=transport, follow_redirects=True) as client:
        client.head("http://h/x")
    assert [r.method for r in transport.requests] == ["HEAD", "HEAD"]


@pytest.mark.parametrize("status", [307, 308])
def test_307_308_keep_method_and_body(status: int) -> None:
    transport = MockTransport(
        routes({"/x": (status, [("Location", "/y")], b""), "/y": (200, [], b"ok")})
    )
    with Client(transport=transport, follow_redirects=True) as client:
        client.post("http://h/x", json={"k": 1})
    assert [r.method for r in transport.requests] == ["POST", "POST"]
    assert transport.bodies == [b'{"k":1}', b'{"k":1}']
    assert transport.requests[1].headers["Content-Type"] == "application/json"


def test_307_with_one_shot_body_is_a_clear_error() -> None:
    transport = MockTransport(
        routes({"/x": (307, [("Location", "/y")], b""), "/y": (200, [], b"ok")})
    )
    with Client(transport=transport, follow_redirects=True) as client:
        with pytest.raises(StreamConsumed, match="cannot be replayed"):
            client.post("http://h/x", content=iter([b"once"]))
    assert len(transport.requests) == 1
    assert transport.streams[0].closed


def test_too_many_redirects() -> None:
    def loop(request: Request, body: bytes) -> Reply:
        return 302, [("Location", "/again")], b"x"

    transport = MockTransport(loop)
    with Client(transport=transport, follow_redirects=True, max_redirects=3) as client:
        with pytest.raises(TooManyRedirects, match="max_redirects=3"):
            client.get("http://h/")
    assert len(transport.requests) == 4  # the first request and 3 redirects
    assert all(s.closed for s in transport.streams)


def test_redirects_not_followed_by_default() -> None:
    transport = MockTransport(
        routes({"/x": (302, [("Location", "/y?z=1")], b""), "/y?z=1": (200, [], b"ok")})
    )
    with Client(transport=transport) as client:
        response = client.get("http://h/x")
        assert response.status_code == 302
        assert response.next_request is not None
        assert str(response.next_request.url) == "http://h/y?z=1"
        followed = client.get("http://h/x", follow_redirects=True)
    assert followed.status_code == 200
    assert len(transport.requests) == 3


def test_redirect_drops_authorization_across_origins() -> None:
    transport = MockTransport(
        routes(
            {
                "/start": (302, [("Location", "/same")], b""),
                "/same": (302, [("Location", "https://h/upgraded")], b""),
                "/upgraded": (302, [("Location", "https://other.example/x")], b""),
                "other.example/x": (200, [], b"ok"),
            }
        )
    )
    with Client(transport=transport, follow_redirects=True, auth=("user", "pw")) as client:
        client.get("http://h/start")
    auths = [r.headers.get("authorization") for r in transport.requests]
    expected = "Basic " + base64.b64encode(b"user:pw").decode()
    assert auths == [expected, expected, expected, None]
    assert [r.headers["host"] for r in transport.requests] == ["h", "h", "h", "other.example"]


def test_redirect_location_edge_cases() -> None:
    transport = MockTransport(
        routes(
            {
                "/frag": (302, [("Location", "/target")], b""),
                "/target": (200, [], b""),
                "/ftp": (302, [("Location", "ftp://h/file")], b""),
                "/bad": (302, [("Location", "http://exa mple.org/")], b""),
            }
        )
    )
    with Client(transport=transport, follow_redirects=True) as client:
        response = client.get("http://h/frag#part")
        assert response.url.fragment == "part"
        with pytest.raises(UnsupportedProtocol, match="ftp"):
            client.get("http://h/ftp")
        with pytest.raises(RemoteProtocolError, match="Location"):
            client.get("http://h/bad")
        # Not followed: a bad Location is returned as it is, without next_request.
        response = client.get("http://h/bad", follow_redirects=False)
        assert response.status_code == 302 and response.next_request is None


# -- cookies -----------------------------------------------------------------------------------


def test_cookies_stored_and_sent_back() -> None:
    transport = MockTransport(
        routes(
            {
                "/login": (
                    302,
                    [
                        ("Set-Cookie", "session=abc; Path=/; HttpOnly"),
                        ("Set-Cookie", "pref=dark; Path=/app"),
                        ("Location", "/app/home"),
                    ],
                    b"",
                ),
                "/app/home": (200, [], b"home"),
                "/other": (200, [], b"other"),
                "elsewhere.org/": (200, [], b""),
            }
        )
    )
    with Client(transport=transport, follow_redirects=True) as client:
        client.get("http://site.org/login")
        client.get("http://site.org/other")
        client.get("http://elsewhere.org/")
    login, home, other, elsewhere = transport.requests
    assert "cookie" not in login.headers
    assert home.headers["cookie"] == "pref=dark; session=abc"  # longer path first
    assert other.headers["cookie"] == "session=abc"
    assert "cookie" not in elsewhere.headers
    assert client.cookies["session"] == "abc"


def test_cookie_attributes() -> None:
    jar = Cookies()
    from httpwire._urls import URL

    url = URL("https://www.example.com/dir/page")
    jar.extract(
        [
            "host=1",
            "dom=2; Domain=example.com",
            "sec=3; Secure",
            "gone=4; Max-Age=0",
            "old=5; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
            "tld=6; Domain=com",
            "foreign=7; Domain=other.org",
            "noequals",
        ],
        url,
    )
    assert set(jar) == {"host", "dom", "sec"}
    assert jar.header_for(URL("https://www.example.com/dir/x")) == "host=1; dom=2; sec=3"
    assert jar.header_for(URL("https://api.example.com/dir/x")) == "dom=2"
    assert jar.header_for(URL("http://www.example.com/dir/x")) == "host=1; dom=2"
    # Default path is the request's directory: /dir, not sent to /elsewhere.
    assert jar.header_for(URL("https://www.example.com/elsewhere")) is None
    # A later Max-Age=0 deletes a stored cookie.
    jar.extract(["host=x; Max-Age=0"], url)
    assert "host" not in jar


def test_client_cookies_sent_everywhere_and_no_set_cookie_is_free() -> None:
    transport = MockTransport(ok)
    with Client(transport=transport, cookies={"token": "t1"}) as client:
        client.get("http://a.example/")
        client.get("https://b.example/deep/path")
        client.get("http://c.example/", headers={"Cookie": "mine=1"})
    cookies = [r.headers.get("cookie") for r in transport.requests]
    assert cookies == ["token=t1", "token=t1", "mine=1"]
    assert dict(client.cookies) == {"token": "t1"}


def test_cookies_mapping_interface() -> None:
    jar = Cookies({"a": "1"})
    jar["b"] = "2"
    assert dict(jar) == {"a": "1", "b": "2"} and len(jar) == 2
    del jar["a"]
    with pytest.raises(KeyError):
        del jar["a"]
    jar.clear()
    assert not jar


# -- auth --------------------------------------------------------------------------------------


def test_basic_auth_header_values() -> None:
    assert basic_auth_header("Aladdin", "open sesame") == b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    assert basic_auth_header("t\u00e9st", "p\u00e4ss") == b"Basic " + base64.b64encode(
        "t\u00e9st:p\u00e4ss".encode()
    )
    with pytest.raises(ValueError, match="':'"):
        BasicAuth("a:b", "c")
    with pytest.raises(TypeError):
        build_auth(42)
    with pytest.raises(TypeError, match="2 items"):
        build_auth(("a", "b", "c"))
    assert "secret" not in repr(BasicAuth("u", "secret"))


def test_auth_forms() -> None:
    transport = MockTransport(ok)

    def sign(request: Request) -> None:
        request.headers["X-Signature"] = "signed"

    with Client(transport=transport, auth=("u", "p")) as client:
        client.get("http://h/")
        client.get("http://h/", auth=sign)
        client.get("http://h/", auth=None)
        client.get("http://x:y@h/")  # the client auth wins over the URL's
    with Client(transport=transport) as client:
        client.get("http://x%40a:y%3A@h/")
    basic, signed, none, client_wins, from_url = transport.requests
    assert basic.headers["authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    assert signed.headers["x-signature"] == "signed" and "authorization" not in signed.headers
    assert "authorization" not in none.headers
    assert client_wins.headers["authorization"] == basic.headers["authorization"]
    assert from_url.headers["authorization"] == "Basic " + base64.b64encode(b"x@a:y:").decode()


# -- hooks, errors, lifetime -------------------------------------------------------------------


def test_event_hooks_see_every_hop() -> None:
    seen: list[str] = []
    transport = MockTransport(
        routes({"/a": (302, [("Location", "/b")], b""), "/b": (200, [], b"ok")})
    )

    def on_request(request: Request) -> None:
        seen.append(f"request {request.url.path}")

    def on_response(response: Response) -> None:
        seen.append(f"response {response.status_code} {response.request.url.path}")

    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [on_request],
        "response": [on_response],
    }
    with Client(transport=transport, follow_redirects=True, event_hooks=hooks) as client:
        client.get("http://h/a")
    assert seen == ["request /a", "response 302 /a", "request /b", "response 200 /b"]
    with pytest.raises(ValueError, match="unknown event hook"):
        Client(transport=transport, event_hooks={"requests": []})


def test_response_hook_exception_closes_response() -> None:
    transport = MockTransport(ok)

    def boom(response: Response) -> None:
        raise RuntimeError("hook failed")

    with Client(transport=transport, event_hooks={"response": [boom]}) as client:
        with pytest.raises(RuntimeError, match="hook failed"):
            client.get("http://h/")
    assert transport.streams[0].closed


def test_transport_error_propagates() -> None:
    def refuse(request: Request, body: bytes) -> Reply:
        raise ConnectError("[Errno 111] Connection refused")

    with Client(transport=MockTransport(refuse)) as client:
        with pytest.raises(ConnectError, match="refused"):
            client.get("http://h/")


def test_closed_client() -> None:
    transport = MockTransport(ok)
    with Client(transport=transport) as client:
        pass
    assert transport.closed and client.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        client.get("http://h/")
    client.close()  # twice is fine
    assert "CLOSED" in repr(client)


def test_build_request_does_not_send() -> None:
    transport = MockTransport(ok)
    with Client(transport=transport, base_url="http://h/api/") as client:
        request = client.build_request("DELETE", "thing/1", params={"force": "1"})
        assert transport.requests == []
        assert str(request.url) == "http://h/api/thing/1?force=1"
        client.send(request)
    assert transport.requests == [request]


# -- the async flavour -------------------------------------------------------------------------


def test_async_client_end_to_end() -> None:
    seen: list[str] = []

    async def on_request(request: Request) -> None:
        seen.append(request.method)

    async def body() -> AsyncIterator[bytes]:
        yield b"par"
        yield b"ts"

    transport = AsyncMockTransport(
        routes(
            {
                "/a": (307, [("Location", "/b"), ("Set-Cookie", "k=v")], b""),
                "/b": (200, [("Content-Type", "text/plain")], b"streamed body"),
                "/up": (200, [], b"up"),
            }
        )
    )

    async def main() -> tuple[Response, list[bytes]]:
        async with AsyncClient(
            transport=transport,
            base_url="http://h",
            follow_redirects=True,
            event_hooks={"request": [on_request]},
        ) as client:
            response = await client.post("/a", content=b"payload")
            chunks = []
            async with client.stream("GET", "/b") as streamed:
                async for chunk in streamed.aiter_bytes():
                    chunks.append(chunk)
            await client.put("/up", content=body())
            return response, chunks

    response, chunks = asyncio.run(main())
    assert response.text == "streamed body"
    assert [r.status_code for r in response.history] == [307]
    assert transport.bodies[:2] == [b"payload", b"payload"]
    assert chunks == [b"streamed body"]
    assert transport.requests[2].headers["cookie"] == "k=v"
    assert transport.bodies[3] == b"parts"
    assert transport.requests[3].headers["transfer-encoding"] == "chunked"
    assert seen == ["POST", "POST", "GET", "PUT"]
    assert transport.closed


# -- module-level functions --------------------------------------------------------------------


def test_module_functions_share_a_pool_but_not_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: Request, body: bytes) -> Reply:
        return 200, [("Set-Cookie", "leak=1")], request.headers.get("cookie", "").encode()

    transport = MockTransport(handler)
    calls: list[tuple[Any, ...]] = []

    def fake_shared_pool(verify: Any, cert: Any, http2: bool, proxy: Any) -> Any:
        calls.append((verify, cert, http2, proxy))
        return transport

    monkeypatch.setattr(sync_api_clients, "_shared_pool", fake_shared_pool)
    first = sync_api.get("http://h/", params={"q": "1"})
    second = sync_api.post("http://h/", json={"a": 1}, cookies={"mine": "x"})
    third = sync_api.get("http://h/")
    assert first.text == "" and third.text == ""  # the Set-Cookie of a call is not kept
    assert second.text == "mine=x"
    assert [r.method for r in transport.requests] == ["GET", "POST", "GET"]
    assert str(transport.requests[0].url) == "http://h/?q=1"
    assert not transport.closed  # the shared pool stays open between calls
    assert calls == [(True, None, False, None)] * 3
    with sync_api.stream("GET", "http://h/") as response:
        assert response.read() == b""


def test_module_pool_keys() -> None:
    assert sync_api_clients._pool_key(True, None, False, None) == (True, None, False, None)
    assert sync_api_clients._pool_key("/ca.pem", None, False, None) is not None
    assert sync_api_clients._pool_key(ssl.create_default_context(), None, False, None) is None


def test_module_shared_pool_is_created_once() -> None:
    key_args = ("/nonexistent-key-for-test.pem", None, False, None)
    sync_api_clients._pools.pop(sync_api_clients._pool_key(*key_args) or (), None)
    created: list[Any] = []
    original = sync_api_clients._new_pool

    def counting(*args: Any) -> Any:
        created.append(args)
        return MockTransport(ok)

    setattr(sync_api_clients, "_new_pool", counting)  # noqa: B010 - a test double for one call
    try:
        a = sync_api_clients._shared_pool(*key_args)
        b = sync_api_clients._shared_pool(*key_args)
    finally:
        setattr(sync_api_clients, "_new_pool", original)  # noqa: B010
        sync_api_clients._pools.pop(sync_api_clients._pool_key(*key_args) or (), None)
    assert a is b and len(created) == 1


def test_async_module_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    transports: list[AsyncMockTransport] = []

    class PatchedClient(AsyncClient):
        def __init__(self, **kwargs: Any) -> None:
            for name in ("verify", "cert", "http2", "proxy"):
                kwargs.pop(name)
            transport = AsyncMockTransport(echo)
            transports.append(transport)
            super().__init__(transport=transport, **kwargs)

    monkeypatch.setattr(async_api_clients, "AsyncClient", PatchedClient)

    async def main() -> list[Any]:
        got: list[Any] = [await async_api.get("http://h/x", params={"a": "b"})]
        got.append(await async_api.post("http://h/y", json=[1], auth=("u", "p")))
        async with async_api.stream("GET", "http://h/z") as response:
            got.append(await response.aread())
        return got

    get_response, post_response, streamed = asyncio.run(main())
    assert get_response.json()["url"] == "http://h/x?a=b"
    assert post_response.json()["body"] == "[1]"
    assert ["Authorization", "Basic dTpw"] in post_response.json()["headers"]
    assert json.loads(streamed)["method"] == "GET"
    assert len(transports) == 3 and all(t.closed for t in transports)


def test_module_functions_reuse_connections_across_calls(http_server: Any) -> None:
    # Real stack: two calls through the shared pool ride the same keep-alive connection
    # (the server reports the client's source port), while a one-off pool does not leak.
    first = sync_api.get(http_server.url + "/client-port")
    second = sync_api.get(http_server.url + "/client-port")
    assert first.status_code == second.status_code == 200
    assert first.text == second.text
    context = ssl.create_default_context()
    third = sync_api.get(http_server.url + "/client-port", verify=context)
    assert third.text != first.text  # its own pool, so its own connection


def test_a_bad_proxy_url_is_refused_when_the_client_is_built_naming_what_is_wrong() -> None:
    import ahttpwire
    import httpwire

    for flavour in (httpwire, ahttpwire):
        with pytest.raises(ValueError, match="unsupported proxy URL scheme 'ftp'"):
            flavour.Client(proxy="ftp://127.0.0.1:21")
        with pytest.raises(ValueError, match="has no host"):
            flavour.Client(proxy="http://")


@pytest.mark.parametrize("runtime", ["sync", "asyncio", "trio"])
def test_method_that_upper_cases_to_a_token_is_refused_before_sending(runtime: str) -> None:
    """A method like "\ufb01x" (upper-cases to "FIX") is a LocalProtocolError from every
    client, and nothing reaches the transport (issue 9, item 10)."""
    if runtime == "sync":
        transport = MockTransport(routes({}))
        with Client(transport=transport) as client, pytest.raises(LocalProtocolError):
            client.request("\ufb01x", "http://h/")
    else:
        transport = AsyncMockTransport(routes({}))

        async def main() -> None:
            async with AsyncClient(transport=transport) as client:
                with pytest.raises(LocalProtocolError):
                    await client.request("\ufb01x", "http://h/")

        if runtime == "trio":
            import trio

            trio.run(main)
        else:
            asyncio.run(main())
    assert transport.requests == []


# -- httpx's behaviours at send time (issue 10, the httpx suite) ---------------------------------


def _run(runtime: str, main: Callable[[], Any]) -> None:
    if runtime == "trio":
        import trio

        trio.run(main)
    else:
        asyncio.run(main())


@pytest.mark.parametrize("runtime", ["sync", "asyncio", "trio"])
def test_url_without_host_is_built_and_refused_by_the_transport_when_sent(runtime: str) -> None:
    """As httpx: "http://" parses (and can be built into a request); the default transport
    refuses it with UnsupportedProtocol, before any connection."""
    urls = ["http://", "https://:8443/x", "http:///path"]
    if runtime == "sync":
        with Client() as client:
            for url in urls:
                assert client.build_request("GET", url).url.host == ""
                with pytest.raises(UnsupportedProtocol, match="no host"):
                    client.get(url)
        return

    async def main() -> None:
        async with AsyncClient() as client:
            for url in urls:
                assert client.build_request("GET", url).url.host == ""
                with pytest.raises(UnsupportedProtocol, match="no host"):
                    await client.get(url)

    _run(runtime, main)


@pytest.mark.parametrize("runtime", ["sync", "asyncio", "trio"])
def test_redirect_to_a_location_without_host_goes_to_the_request_host(runtime: str) -> None:
    """A malformed absolute Location ("https://:443/"): the request's host, as httpx does."""
    table = {
        "/malformed": (303, [("Location", "https://:443/done")], b""),
        "h/done": (200, [], b"ok"),
    }
    if runtime == "sync":
        with Client(transport=MockTransport(routes(table)), follow_redirects=True) as client:
            response = client.get("http://h/malformed")
    else:

        async def main() -> None:
            nonlocal response
            transport = AsyncMockTransport(routes(table))
            async with AsyncClient(transport=transport, follow_redirects=True) as client:
                response = await client.get("http://h/malformed")

        response: Response | None = None
        _run(runtime, main)
        assert response is not None
    assert response.status_code == 200
    assert str(response.url) == "https://h/done"
    assert len(response.history) == 1


@pytest.mark.parametrize("runtime", ["sync", "asyncio", "trio"])
def test_a_body_iterator_of_the_other_flavour_is_a_runtime_error(runtime: str) -> None:
    """httpx's RuntimeError, raised before the transport sees the request; a file object
    (both flavours) still works in the async client."""

    def sync_body() -> Iterator[bytes]:
        yield b"x"  # pragma: no cover

    async def async_body() -> AsyncIterator[bytes]:
        yield b"x"  # pragma: no cover

    if runtime == "sync":
        transport = MockTransport(echo)
        with Client(transport=transport) as client:
            with pytest.raises(RuntimeError, match="AsyncIteratorByteStream body"):
                client.post("http://h/", content=async_body())
        assert transport.requests == []
        return
    transport = AsyncMockTransport(echo)

    async def main() -> None:
        import io

        async with AsyncClient(transport=transport) as client:
            with pytest.raises(RuntimeError, match="IteratorByteStream body with an ahttpwire"):
                await client.post("http://h/", content=sync_body())
            assert transport.requests == []
            response = await client.post("http://h/", content=io.BytesIO(b"file body"))
            assert response.json()["body"] == "file body"

    _run(runtime, main)


@pytest.mark.parametrize("runtime", ["sync", "asyncio", "trio"])
def test_per_request_cookies_warn_as_in_httpx(runtime: str) -> None:
    """httpx 0.28's DeprecationWarning on request() and the verbs; the cookie is still sent.
    build_request() and stream() do not warn (nor does httpx)."""

    def cookie_of(response: Response) -> Any:
        return dict(response.json()["headers"]).get("Cookie")

    if runtime == "sync":
        with Client(transport=MockTransport(echo)) as client:
            with pytest.warns(DeprecationWarning, match="per-request cookies"):
                assert cookie_of(client.get("http://h/", cookies={"a": "1"})) == "a=1"
            with pytest.warns(DeprecationWarning, match="per-request cookies"):
                client.request("GET", "http://h/", cookies={"a": "1"})
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("error")
                client.build_request("GET", "http://h/", cookies={"a": "1"})
                with client.stream("GET", "http://h/", cookies={"a": "1"}) as response:
                    response.read()
        return

    async def main() -> None:
        import warnings

        async with AsyncClient(transport=AsyncMockTransport(echo)) as client:
            with pytest.warns(DeprecationWarning, match="per-request cookies"):
                assert cookie_of(await client.get("http://h/", cookies={"a": "1"})) == "a=1"
            with pytest.warns(DeprecationWarning, match="per-request cookies"):
                await client.post("http://h/", cookies={"a": "1"})
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                async with client.stream("GET", "http://h/", cookies={"a": "1"}) as response:
                    await response.aread()

    _run(runtime, main)
