"""Authentication: httpx's flow model (``Auth``), Basic, Digest (RFC 7616) and .netrc.

Digest runs against two independent servers started here: Apache httpd's ``mod_auth_digest``
(MD5, qop auth, nonce counts checked) and lighttpd's ``mod_auth`` (SHA-256), in every flavour
(sync, asyncio, trio). The RFC 7616 section 3.9.1 vectors, ``-sess``, ``auth-int`` and nonce
counting are checked on the header values themselves.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from collections.abc import Awaitable, Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from authservers import (
    PASSWORD,
    SECRET,
    USER,
    ApacheDigestServer,
    LighttpdDigestServer,
)
from test_client_unit import AsyncMockTransport, MockTransport, Reply

import ahttpwire
import httpwire
from httpwire import Auth, BasicAuth, DigestAuth, NetRCAuth, ProtocolError, Request, Response

RUNTIMES = ["asyncio", "trio"]


def run(runtime: str, main: Callable[[], Awaitable[Any]]) -> Any:
    """``main()`` under asyncio or trio."""
    if runtime == "trio":
        return trio.run(main)

    async def wrapper() -> Any:
        return await main()

    return asyncio.run(wrapper())


@pytest.fixture(scope="module")
def apache() -> Iterator[ApacheDigestServer]:
    server = ApacheDigestServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def lighttpd() -> Iterator[LighttpdDigestServer]:
    server = LighttpdDigestServer("SHA-256").start()
    try:
        yield server
    finally:
        server.stop()


def _params(header: str) -> dict[str, str]:
    """The parameters of a ``Digest ...`` Authorization value (quotes removed)."""
    assert header.startswith("Digest ")
    out = {}
    for item in header[7:].split(", "):
        key, _, value = item.partition("=")
        out[key] = value.strip('"')
    return out


# -- against real servers -------------------------------------------------------------------------


def _check_digest_exchange(responses: list[Response], algorithm: str) -> None:
    first, second, third, wrong = responses
    # The first request meets the challenge once, then is answered.
    assert first.status_code == 200 and first.content == SECRET
    assert [r.status_code for r in first.history] == [401]
    sent = _params(first.request.headers["authorization"])
    assert sent["algorithm"] == algorithm and sent["nc"] == "00000001" and sent["qop"] == "auth"
    # Later requests reuse the challenge: no 401 in between, the nonce count goes up.
    assert second.status_code == 200 and second.history == []
    assert third.status_code == 200 and third.history == []
    assert _params(third.request.headers["authorization"])["nc"] == "00000003"
    assert _params(third.request.headers["authorization"])["nonce"] == sent["nonce"]
    # A wrong password: answered once, refused, and the 401 is returned.
    assert wrong.status_code == 401 and [r.status_code for r in wrong.history] == [401]


def _sync_exchange(url: str) -> list[Response]:
    with httpwire.Client(auth=DigestAuth(USER, PASSWORD)) as client:
        responses = [client.get(url + "/private/secret.txt") for _ in range(3)]
    responses.append(httpwire.get(url + "/private/secret.txt", auth=DigestAuth(USER, "nope")))
    return responses


async def _async_exchange(url: str) -> list[Response]:
    async with ahttpwire.Client(auth=DigestAuth(USER, PASSWORD)) as client:
        responses = [await client.get(url + "/private/secret.txt") for _ in range(3)]
    responses.append(
        await ahttpwire.get(url + "/private/secret.txt", auth=DigestAuth(USER, "nope"))
    )
    return responses


def test_digest_apache_md5_sync(apache: ApacheDigestServer) -> None:
    _check_digest_exchange(_sync_exchange(apache.url), "MD5")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_digest_apache_md5_async(apache: ApacheDigestServer, runtime: str) -> None:
    _check_digest_exchange(run(runtime, lambda: _async_exchange(apache.url)), "MD5")


def test_digest_lighttpd_sha256_sync(lighttpd: LighttpdDigestServer) -> None:
    _check_digest_exchange(_sync_exchange(lighttpd.url), "SHA-256")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_digest_lighttpd_sha256_async(lighttpd: LighttpdDigestServer, runtime: str) -> None:
    _check_digest_exchange(run(runtime, lambda: _async_exchange(lighttpd.url)), "SHA-256")


def test_digest_apache_checks_the_nonce_count(apache: ApacheDigestServer) -> None:
    # Apache (AuthDigestNcCheck On) refuses a nonce count that does not go up: proof that it
    # checks ours. A replayed count is refused with a fresh challenge, which the flow answers.
    auth = DigestAuth(USER, PASSWORD)
    with httpwire.Client(auth=auth) as client:
        url = apache.url + "/private/secret.txt"
        assert [client.get(url).status_code for _ in range(2)] == [200, 200]
        auth._nonce_count = 2  # replay nc=00000002
        replayed = client.get(url)
    assert replayed.status_code == 200
    assert [r.status_code for r in replayed.history] == [401]
    assert _params(replayed.request.headers["authorization"])["nc"] == "00000001"
    assert "nonce-count check failed" in apache.log()


def test_digest_apache_resends_the_body(apache: ApacheDigestServer) -> None:
    # A POST answered after the challenge carries its body again (Apache serves the static
    # file to an authorised POST).
    with httpwire.Client(auth=DigestAuth(USER, PASSWORD)) as client:
        response = client.post(apache.url + "/private/secret.txt", content=b"x" * 1000)
    assert response.status_code == 200 and response.content == SECRET
    assert [r.status_code for r in response.history] == [401]
    assert response.request.headers["content-length"] == "1000"


# -- RFC 7616 vectors and header details ---------------------------------------------------------

RFC_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


def _answer(
    auth: DigestAuth, challenge: str, request: Request | None = None
) -> tuple[Request, Generator[Request, Response, None]]:
    """Run ``auth``'s flow on a 401 with ``challenge``; return the answering request."""
    if request is None:
        request = Request("GET", "http://www.example.org/dir/index.html")
    flow = auth.auth_flow(request)
    first = next(flow)
    answer = flow.send(Response(401, headers={"WWW-Authenticate": challenge}))
    assert answer is first
    return answer, flow


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_digest_rfc7616_vectors(
    monkeypatch: pytest.MonkeyPatch, algorithm: str, expected: str
) -> None:
    """RFC 7616 section 3.9.1: the same request answered with MD5 and with SHA-256."""
    monkeypatch.setattr(
        DigestAuth, "_get_client_nonce", lambda self, nc, nonce: RFC_CNONCE.encode()
    )
    challenge = (
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
        f'nonce="{RFC_NONCE}", opaque="{RFC_OPAQUE}"'
    )
    request, _ = _answer(DigestAuth("Mufasa", "Circle of Life"), challenge)
    sent = _params(request.headers["authorization"])
    assert sent == {
        "username": "Mufasa",
        "realm": "http-auth@example.org",
        "nonce": RFC_NONCE,
        "uri": "/dir/index.html",
        "response": expected,
        "algorithm": algorithm,
        "opaque": RFC_OPAQUE,
        "qop": "auth",
        "nc": "00000001",
        "cnonce": RFC_CNONCE,
    }


def _h(algorithm: str, text: bytes) -> str:
    return hashlib.new(algorithm.lower().replace("-", ""), text).hexdigest()


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_digest_sess_and_auth_int(monkeypatch: pytest.MonkeyPatch, algorithm: str) -> None:
    """``-sess`` (HA1 over nonce and cnonce) and ``auth-int`` (A2 over the body's hash), as
    RFC 7616 section 3.4.2 and 3.4.3 define them, computed here independently."""
    monkeypatch.setattr(DigestAuth, "_get_client_nonce", lambda self, nc, nonce: b"0a4f113b")
    challenge = f'Digest realm="r", nonce="n1", qop="auth-int", algorithm={algorithm}-sess'
    request = Request("PUT", "http://h/a%20b?x=1", content=b"the body")
    answer, _ = _answer(DigestAuth("u", "p"), challenge, request)
    sent = _params(answer.headers["authorization"])
    ha1 = _h(algorithm, _h(algorithm, b"u:r:p").encode() + b":n1:0a4f113b")
    ha2 = _h(algorithm, b"PUT:/a%20b?x=1:" + _h(algorithm, b"the body").encode())
    want = _h(algorithm, f"{ha1}:n1:00000001:0a4f113b:auth-int:{ha2}".encode())
    assert sent["response"] == want
    assert sent["algorithm"] == f"{algorithm}-sess" and sent["qop"] == "auth-int"
    assert sent["uri"] == "/a%20b?x=1"


def test_digest_nonce_count_and_new_challenge() -> None:
    auth = DigestAuth("u", "p")
    challenge = 'Digest realm="r", nonce="n1", qop="auth"'
    first, _ = _answer(auth, challenge)
    assert _params(first.headers["authorization"])["nc"] == "00000001"
    counts = []
    for _ in range(2):  # the challenge is reused on the next requests, counting up
        flow = auth.auth_flow(Request("GET", "http://www.example.org/"))
        counts.append(_params(next(flow).headers["authorization"])["nc"])
        with pytest.raises(StopIteration):
            flow.send(Response(200))
    assert counts == ["00000002", "00000003"]
    # A new challenge (a stale nonce) starts counting again.
    again, _ = _answer(auth, 'Digest realm="r", nonce="n2", qop="auth", stale=true')
    sent = _params(again.headers["authorization"])
    assert sent["nonce"] == "n2" and sent["nc"] == "00000001"


def test_digest_without_qop_and_userhash() -> None:
    # RFC 2069 style (no qop): response = H(HA1:nonce:HA2), no nc/cnonce sent.
    request, _ = _answer(DigestAuth("u", "p"), 'Digest realm="r", nonce="n"')
    sent = _params(request.headers["authorization"])
    want = _h("MD5", f"{_h('MD5', b'u:r:p')}:n:{_h('MD5', b'GET:/dir/index.html')}".encode())
    assert sent["response"] == want and "nc" not in sent and "qop" not in sent
    # userhash=true (RFC 7616 section 3.4.4): the user name is sent hashed.
    request, _ = _answer(
        DigestAuth("u", "p"), 'Digest realm="r", nonce="n", qop="auth", userhash=true'
    )
    sent = _params(request.headers["authorization"])
    assert sent["username"] == _h("MD5", b"u:r") and sent["userhash"] == "true"


def test_digest_ignores_other_responses_and_refuses_malformed_challenges() -> None:
    flow = DigestAuth("u", "p").auth_flow(Request("GET", "http://h/"))
    next(flow)
    with pytest.raises(StopIteration):  # a Basic challenge is not Digest's to answer
        flow.send(Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}))
    for bad in ('Digest realm="r"', 'Digest realm="r", nonce="n", algorithm=ROT13'):
        flow = DigestAuth("u", "p").auth_flow(Request("GET", "http://h/"))
        next(flow)
        with pytest.raises(ProtocolError):
            flow.send(Response(401, headers={"WWW-Authenticate": bad}))


# -- the flow model through the clients (sync, asyncio, trio) ------------------------------------


class TokenAuth(Auth):
    """A challenge/response flow: fetch a token on 401, from the 401's body, and retry."""

    requires_response_body = True

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        response = yield request
        if response.status_code == 401:
            request.headers["X-Token"] = response.json()["token"]
            yield request


def token_server(request: Request, body: bytes) -> Reply:
    if request.headers.get("x-token") == "t0k3n":
        return 200, [], b"welcome " + body
    return 401, [("Content-Type", "application/json")], b'{"token": "t0k3n"}'


def test_custom_auth_flow_sync() -> None:
    transport = MockTransport(token_server)
    with httpwire.Client(transport=transport, auth=TokenAuth()) as client:
        response = client.post("http://h/", content=b"body")
    assert response.content == b"welcome body"
    assert [r.status_code for r in response.history] == [401]
    assert response.history[0].content == b'{"token": "t0k3n"}'
    assert transport.bodies == [b"body", b"body"]
    assert all(s.closed for s in transport.streams)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_custom_auth_flow_async(runtime: str) -> None:
    transport = AsyncMockTransport(token_server)

    async def main() -> Response:
        async with ahttpwire.Client(transport=transport, auth=TokenAuth()) as client:
            return await client.post("http://h/", content=b"body")

    response = run(runtime, main)
    assert response.content == b"welcome body"
    assert [r.status_code for r in response.history] == [401]
    assert transport.bodies == [b"body", b"body"]
    assert all(s.closed for s in transport.streams)


def test_auth_flow_request_body_required() -> None:
    seen: list[bytes] = []

    class Signing(Auth):
        requires_request_body = True

        def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
            seen.append(request.content)
            request.headers["X-Sig"] = hashlib.sha256(request.content).hexdigest()
            yield request

    def chunks() -> Iterator[bytes]:
        yield b"ab"
        yield b"cd"

    transport = MockTransport(lambda request, body: (200, [], request.headers["x-sig"].encode()))
    with httpwire.Client(transport=transport, auth=Signing()) as client:
        response = client.post("http://h/", content=chunks())
    assert seen == [b"abcd"] and transport.bodies == [b"abcd"]
    assert response.text == hashlib.sha256(b"abcd").hexdigest()


# -- .netrc ---------------------------------------------------------------------------------------


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def netrc_file(tmp_path: Path) -> Path:
    path = tmp_path / "netrc"
    path.write_text("machine netrc.example login alice password s3cret\n")
    os.chmod(path, 0o600)
    return path


def _auth_headers(client_kwargs: dict[str, Any], urls: list[str], **kw: Any) -> list[str | None]:
    transport = MockTransport(lambda request, body: (200, [], b""))
    with httpwire.Client(transport=transport, **client_kwargs) as client:
        for url in urls:
            client.get(url, **kw)
    return [r.headers.get("authorization") for r in transport.requests]


def test_netrc_auth_class(netrc_file: Path) -> None:
    got = _auth_headers(
        {"auth": NetRCAuth(netrc_file)}, ["http://netrc.example/", "http://other.example/"]
    )
    assert got == [_basic("alice", "s3cret"), None]
    with pytest.raises(FileNotFoundError):
        NetRCAuth(netrc_file.parent / "missing")


def test_netrc_from_the_environment(netrc_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRC", str(netrc_file))
    urls = ["http://netrc.example/", "http://other.example/", "http://bob:pw@netrc.example/"]
    assert _auth_headers({}, urls) == [_basic("alice", "s3cret"), None, _basic("bob", "pw")]
    assert _auth_headers({"trust_env": False}, urls[:1]) == [None]
    assert _auth_headers({"auth": ("carol", "x")}, urls[:1]) == [_basic("carol", "x")]

    async def main() -> str | None:
        transport = AsyncMockTransport(lambda request, body: (200, [], b""))
        async with ahttpwire.Client(transport=transport) as client:
            response = await client.get("http://netrc.example/")
        return response.request.headers.get("authorization")

    assert run("trio", main) == _basic("alice", "s3cret")


def test_missing_or_broken_netrc_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken"
    broken.write_text("machine\n")
    for path in (broken, tmp_path / "missing"):
        monkeypatch.setenv("NETRC", str(path))
        monkeypatch.setenv("HOME", str(tmp_path))
        assert _auth_headers({}, ["http://netrc.example/"]) == [None]


def test_older_auth_forms_still_work() -> None:
    def sign(request: Request) -> None:
        request.headers["X-Signature"] = "signed"

    transport = MockTransport(lambda request, body: (200, [], b""))
    with httpwire.Client(transport=transport) as client:
        client.get("http://h/", auth=("u", "p"))
        client.get("http://h/", auth=sign)
        client.get("http://h/", auth=BasicAuth("v", "q"))
    basic, signed, basic2 = transport.requests
    assert basic.headers["authorization"] == _basic("u", "p")
    assert signed.headers["x-signature"] == "signed"
    assert basic2.headers["authorization"] == _basic("v", "q")


def test_netrc_with_the_module_level_functions(
    http_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine 127.0.0.1 login alice password s3cret\n")
    monkeypatch.setenv("NETRC", str(path))
    url = http_server.url + "/echo-headers"
    assert httpwire.get(url).json()["authorization"] == _basic("alice", "s3cret")
    assert "authorization" not in httpwire.get(url, trust_env=False).json()

    async def main() -> tuple[dict[str, str], dict[str, str]]:
        with_env = await ahttpwire.get(url)
        without = await ahttpwire.get(url, trust_env=False)
        return with_env.json(), without.json()

    with_env, without = run("asyncio", main)
    assert with_env["authorization"] == _basic("alice", "s3cret")
    assert "authorization" not in without


def test_digest_retry_carries_the_cookies_the_401_set() -> None:
    def handler(request: Request, body: bytes) -> Reply:
        if "authorization" not in request.headers:
            challenge = 'Digest realm="r", qop="auth", nonce="n", algorithm=MD5-SESS'
            return 401, [("Set-Cookie", "session=s1"), ("WWW-Authenticate", challenge)], b""
        return 200, [], request.headers.get("cookie", "").encode()

    transport = MockTransport(handler)
    with httpwire.Client(transport=transport, auth=DigestAuth("u", "p")) as client:
        alone = client.get("http://h/")
    assert alone.text == "session=s1"
    # The algorithm is echoed as the server wrote it (httpx does the same).
    assert _params(alone.request.headers["authorization"])["algorithm"] == "MD5-SESS"

    transport = MockTransport(handler)
    with httpwire.Client(
        transport=transport, auth=DigestAuth("u", "p"), cookies={"pref": "1"}
    ) as client:
        both = client.get("http://h/")
    assert both.text == "pref=1; session=s1"  # the jar's cookies and the 401's
