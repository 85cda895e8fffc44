"""Cookies with httpx's shape: ``Response.cookies``, per-request ``cookies=``, a
``http.cookiejar.CookieJar`` behind ``Cookies`` and ``Client(cookies=jar)`` (MozillaCookieJar
saved and loaded), ``update`` keeping domains, ``get(name, domain=, path=)``, ``CookieConflict``.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from test_client_unit import AsyncMockTransport, MockTransport, Reply

import ahttpwire
import httpwire
from httpwire import CookieConflict, Cookies, Request, Response


def run(runtime: str, main: Callable[[], Awaitable[Any]]) -> Any:
    if runtime == "trio":
        return trio.run(main)

    async def wrapper() -> Any:
        return await main()

    return asyncio.run(wrapper())


def setter(request: Request, body: bytes) -> Reply:
    """Sets two cookies on /login; elsewhere answers with the Cookie header it got."""
    if request.url.path == "/login":
        return (
            200,
            [("Set-Cookie", "session=abc; Path=/"), ("Set-Cookie", "wide=1; Domain=example.org")],
            b"",
        )
    return 200, [], request.headers.get("cookie", "").encode()


def test_response_cookies() -> None:
    request = Request("GET", "https://www.example.org/dir/page")
    response = Response(
        200,
        headers=[
            ("Set-Cookie", "a=1; Domain=example.org; Path=/"),
            ("Set-Cookie", "b=2; Secure"),
            ("Set-Cookie", "bad=3; Domain=other.org"),
        ],
        request=request,
    )
    assert dict(response.cookies) == {"a": "1", "b": "2"}
    assert response.cookies.get("a", domain="example.org") == "1"
    assert response.cookies.get("b", domain="www.example.org", path="/dir") == "2"
    assert dict(Response(200, request=request).cookies) == {}


def test_response_cookies_through_the_client() -> None:
    transport = MockTransport(setter)
    with httpwire.Client(transport=transport) as client:
        response = client.get("http://www.example.org/login")
    assert dict(response.cookies) == {"session": "abc", "wide": "1"}


def test_per_request_cookies_sync() -> None:
    transport = MockTransport(setter)
    with httpwire.Client(transport=transport, cookies={"client": "c"}) as client:
        client.get("http://www.example.org/login")
        with pytest.warns(DeprecationWarning, match="per-request cookies"):  # httpx 0.28's
            one = client.get("http://www.example.org/x", cookies={"extra": "e"})
        two = client.get("http://www.example.org/x")
    assert one.text == "client=c; session=abc; wide=1; extra=e"
    assert two.text == "client=c; session=abc; wide=1"  # the jar did not keep "extra"
    assert "extra" not in client.cookies


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
def test_per_request_cookies_async(runtime: str) -> None:
    async def main() -> tuple[str, str, str]:
        transport = AsyncMockTransport(setter)
        async with ahttpwire.Client(transport=transport) as client:
            await client.post("http://www.example.org/login")
            jar = http.cookiejar.CookieJar()
            other = Cookies(jar)
            other.set("k", "v", domain="example.org")
            with pytest.warns(DeprecationWarning, match="per-request cookies"):  # httpx 0.28's
                one = await client.get("http://www.example.org/x", cookies=other)
                two = await client.get("http://api.example.org/x", cookies={"x": "y"})
                three = await client.get("http://www.example.com/x", cookies=other)
        return one.text, two.text, three.text

    assert run(runtime, main) == ("session=abc; wide=1; k=v", "wide=1; x=y", "")


def test_client_uses_and_updates_a_cookiejar() -> None:
    jar = http.cookiejar.CookieJar()
    Cookies(jar).set("preset", "p", domain="www.example.org")
    transport = MockTransport(setter)
    with httpwire.Client(transport=transport, cookies=jar) as client:
        assert client.cookies.jar is jar
        client.get("http://www.example.org/login")
        response = client.get("http://www.example.org/x")
    assert response.text == "preset=p; session=abc; wide=1"
    stored = {(c.name, c.domain, c.domain_specified) for c in jar}
    assert stored == {
        ("preset", "www.example.org", True),  # Cookies.set keeps the domain as given
        ("session", "www.example.org", False),  # host-only, as CookieJar itself stores it
        ("wide", ".example.org", True),
    }


def test_mozilla_cookiejar_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    later = int(time.time()) + 3600

    def handler(request: Request, body: bytes) -> Reply:
        if request.url.path == "/login":
            return (
                200,
                [
                    ("Set-Cookie", f"kept=1; Path=/; Max-Age={later - int(time.time())}"),
                    ("Set-Cookie", "sub=2; Domain=example.org; Path=/app; Max-Age=3600"),
                    ("Set-Cookie", "session=3; Path=/"),
                ],
                b"",
            )
        return 200, [], request.headers.get("cookie", "").encode()

    saved = http.cookiejar.MozillaCookieJar(str(path))
    with httpwire.Client(transport=MockTransport(handler), cookies=saved) as client:
        client.get("http://www.example.org/login")
    saved.save()  # session cookies are not saved (MozillaCookieJar's rule)

    loaded = http.cookiejar.MozillaCookieJar(str(path))
    loaded.load()
    assert sorted(c.name for c in loaded) == ["kept", "sub"]

    async def main() -> list[str]:
        transport = AsyncMockTransport(handler)
        async with ahttpwire.Client(transport=transport, cookies=loaded) as client:
            urls = ["http://www.example.org/app/x", "http://api.example.org/app", "http://x.org/"]
            return [(await client.get(url)).text for url in urls]

    # The host-only cookie stays host-only after the round trip; the Domain one stays wide.
    assert run("trio", main) == ["sub=2; kept=1", "sub=2", ""]


def test_cookies_update_keeps_domains_and_get_chooses() -> None:
    more = Cookies()
    more.set("name", "a", domain="example.com")
    more.set("name", "b", domain="example.org", path="/x")
    cookies = Cookies()
    cookies.update(more)
    assert len(cookies) == 2 and list(cookies) == ["name", "name"]
    assert cookies.get("name", domain="example.com") == "a"
    assert cookies.get("name", domain=".example.org") == "b"
    assert cookies.get("name", path="/x") == "b"
    assert cookies.get("missing", "dflt") == "dflt"
    with pytest.raises(CookieConflict):
        cookies.get("name")
    with pytest.raises(CookieConflict):
        cookies["name"]
    url = httpwire.URL("http://www.example.com/")
    assert cookies.header_for(url) == "name=a"
    cookies.delete("name", domain="example.org")
    assert dict(cookies) == {"name": "a"}
    cookies.clear(domain="example.com")
    assert not cookies and len(cookies) == 0
    # Copying a Cookies copies its entries; the original is not shared.
    copy = Cookies(more)
    copy.clear()
    assert len(more) == 2


def test_cookies_repr_and_mapping_of_a_jar() -> None:
    cookies = Cookies()
    cookies.set(name="foo", value="bar", domain="blah.com")
    cookies["k"] = "v"
    assert repr(cookies) == "<Cookies[<Cookie foo=bar for blah.com />, <Cookie k=v for  />]>"
    del cookies["k"]
    with pytest.raises(KeyError):
        del cookies["k"]
    cookies.update({"a": "1"}, b="2")
    assert dict(cookies) == {"foo": "bar", "a": "1", "b": "2"}


def test_cookies_against_a_real_server(http_server: Any, tmp_path: Path) -> None:
    jar = http.cookiejar.MozillaCookieJar(str(tmp_path / "jar.txt"))
    with httpwire.Client(cookies=jar) as client:
        client.get(http_server.url + "/set-cookie?a=1&b=2")
        with pytest.warns(DeprecationWarning, match="per-request cookies"):
            got = client.get(http_server.url + "/cookies", cookies={"c": "3"}).json()
    assert got == {"a": "1", "b": "2", "c": "3"}
    assert sorted(c.name for c in jar) == ["a", "b"]

    async def main() -> Any:
        async with ahttpwire.Client(cookies=jar) as client:
            return (await client.get(http_server.url + "/cookies")).json()

    assert run("asyncio", main) == {"a": "1", "b": "2"}
