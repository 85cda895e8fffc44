"""Differential tests against h11 *and* httptools (llhttp), in both roles (issue 3, item 4).

The same messages go through ``httpwire.http11`` (strict and, in the client role, the
default tolerant mode), h11 (the API we copy) and httptools' ``HttpRequestParser`` /
``HttpResponseParser`` (llhttp, the C parser behind uvicorn and Node.js), cut at random points
and at every split point.  Results are compared as (outcome, messages): outcome "ok" or
"error", each message its start-line, lowercased (name, value) fields, body and trailers.

- Valid messages (hypothesis): all three must give exactly the same messages.
- Invalid and borderline messages (``CASES``): each row says what each engine does; where
  httpwire differs from an oracle the row names the deliberate difference listed in
  docs/http11.md ("Deliberate differences").  A change in any engine's behaviour fails here.

Read-until-close responses and HEAD are left out of the llhttp comparison (httptools has no
way to signal EOF, nor to learn the request method); ``test_http11_differential.py`` covers
them against h11.
"""

from __future__ import annotations

from typing import Any

import h11 as real
import httptools
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import httpwire.http11 as hw


def run_h11like(mod: Any, role: str, pieces: list[bytes], **kw: Any) -> Any:
    """Feed ``pieces`` to an h11-API engine; as a server, answer each request so that
    pipelined requests are read too."""
    if role == "server":
        conn = mod.Connection(mod.SERVER, **kw)
    else:
        conn = mod.Connection(mod.CLIENT, **kw)
        conn.send(mod.Request(method=b"GET", target=b"/", headers=[(b"Host", b"h")]))
        conn.send(mod.EndOfMessage())
    msgs: list[Any] = []
    cur: dict[str, Any] | None = None
    try:
        for piece in pieces:
            conn.receive_data(piece)
            while True:
                ev = conn.next_event()
                if ev is mod.NEED_DATA or ev is mod.PAUSED:
                    break
                t = type(ev).__name__
                if t == "Request":
                    cur = {
                        "head": (ev.method, ev.target, ev.http_version),
                        "headers": [(n.lower(), v) for n, v in ev.headers.raw_items()],
                        "body": b"",
                    }
                elif t in ("Response", "InformationalResponse"):
                    cur = {
                        "head": (ev.status_code, ev.http_version),
                        "headers": [(n.lower(), v) for n, v in ev.headers.raw_items()],
                        "body": b"",
                    }
                    if t == "InformationalResponse":
                        cur["trailers"] = []
                        msgs.append(cur)
                        cur = None
                elif t == "Data":
                    assert cur is not None
                    cur["body"] += bytes(ev.data)
                elif t == "EndOfMessage":
                    assert cur is not None
                    cur["trailers"] = list(ev.headers)
                    msgs.append(cur)
                    cur = None
                    if role == "server":
                        if conn.our_state is mod.SEND_RESPONSE and ev is not None:
                            if msgs[-1]["head"][0] == b"CONNECT":
                                return ("ok", msgs, False)
                            conn.send(
                                mod.Response(status_code=200, headers=[("Content-Length", "0")])
                            )
                            conn.send(mod.EndOfMessage())
                        if conn.our_state is mod.DONE and conn.their_state is mod.DONE:
                            conn.start_next_cycle()
                        else:
                            return ("ok", msgs, cur is not None)
                    else:
                        return ("ok", msgs, False)
    except mod.RemoteProtocolError:
        return ("error", msgs)
    return ("ok", msgs, cur is not None)


class _Cb:
    def __init__(self) -> None:
        self.msgs: list[Any] = []
        self.cur: dict[str, Any] | None = None
        self.in_body = False
        self.parser: Any = None

    def on_message_begin(self) -> None:
        self.cur = {"head": None, "headers": [], "body": b"", "url": b""}
        self.in_body = False

    def on_url(self, url: bytes) -> None:
        self.cur["url"] += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.in_body:
            self.cur.setdefault("trailers", []).append((name.lower(), value))
        else:
            self.cur["headers"].append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.in_body = True

    def on_body(self, body: bytes) -> None:
        self.cur["body"] += body

    def on_message_complete(self) -> None:
        self.cur.setdefault("trailers", [])
        self.msgs.append(self.cur)
        self.cur = None


def run_llhttp(role: str, pieces: list[bytes]) -> Any:
    """Feed ``pieces`` to httptools (llhttp) with callbacks that record the same shape."""
    cb = _Cb()
    heads: list[Any] = []
    orig = cb.on_headers_complete

    def hc() -> None:
        if role == "server":
            heads.append((p.get_method(), cb.cur["url"], p.get_http_version().encode()))
        else:
            heads.append((p.get_status_code(), p.get_http_version().encode()))
        orig()

    cb.on_headers_complete = hc  # type: ignore[method-assign]
    p = httptools.HttpRequestParser(cb) if role == "server" else httptools.HttpResponseParser(cb)
    try:
        for piece in pieces:
            p.feed_data(piece)
    except httptools.HttpParserUpgrade:
        pass
    except httptools.HttpParserError:
        return ("error", _fix(cb.msgs, heads))
    return ("ok", _fix(cb.msgs, heads), cb.cur is not None)


def _fix(msgs: list[Any], heads: list[Any]) -> list[Any]:
    out = []
    for m, h in zip(msgs, heads, strict=False):
        m = dict(m)
        m.pop("url", None)
        m["head"] = h
        out.append(m)
    return out


def engines(role: str, pieces: list[bytes]) -> dict[str, Any]:
    out = {
        "httpwire": run_h11like(hw, role, pieces, tolerant=False),
        "h11": run_h11like(real, role, pieces),
        "llhttp": run_llhttp(role, pieces),
    }
    if role == "client":
        out["httpwire-tolerant"] = run_h11like(hw, role, pieces)
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in points:
        out.append(data[last:p])
        last = p
    out.append(data[last:])
    return [p for p in out if p]


# -- valid messages ---------------------------------------------------------------------------

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
FRAMING = {"content-length", "transfer-encoding", "connection", "upgrade", "expect", "host"}
names = st.text(alphabet=TCHAR, min_size=1, max_size=10).filter(lambda n: n.lower() not in FRAMING)
values = st.one_of(st.just(""), st.from_regex(r"[!-~]([ !-~\t]{0,16}[!-~])?", fullmatch=True))
fields = st.lists(st.tuples(names, values), max_size=5)
METHODS = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
targets = st.sampled_from(["/", "/a/b?c=d&e", "*", "http://example.com/x", "/%20~"])


@st.composite
def body_part(draw: Any, headers: list[tuple[bytes, bytes]], allow_none: bool) -> bytes:
    body = draw(st.binary(max_size=200))
    kinds = ["cl", "chunked"] + (["none"] if allow_none else [])
    kind = draw(st.sampled_from(kinds))
    pos = draw(st.integers(0, len(headers)))
    if kind == "cl":
        headers.insert(pos, (b"Content-Length", b"%d" % len(body)))
        wire = body
    elif kind == "chunked":
        headers.insert(pos, (b"Transfer-Encoding", b"chunked"))
        wire = b""
        rest = body
        for size in draw(st.lists(st.integers(1, 64), max_size=4)):
            piece, rest = rest[:size], rest[size:]
            if piece:
                ext = draw(st.sampled_from([b"", b";a=b", b";x"]))
                wire += b"%x%s\r\n%s\r\n" % (len(piece), ext, piece)
        if rest:
            wire += b"%X\r\n%s\r\n" % (len(rest), rest)
        wire += b"0\r\n"
        for n, v in draw(fields):
            wire += f"{n}: {v}\r\n".encode()
        wire += b"\r\n"
    else:
        wire = b""
    head = b"".join(n + b": " + v + b"\r\n" for n, v in headers) + b"\r\n"
    return head + wire


@st.composite
def requests(draw: Any) -> bytes:
    """One to three pipelined requests."""
    out = b""
    for _ in range(draw(st.integers(1, 3))):
        method = draw(st.sampled_from(METHODS))
        target = draw(targets)
        if target == "*":
            method = "OPTIONS"
        headers = [(b"Host", b"example.com")] + [(n.encode(), v.encode()) for n, v in draw(fields)]
        out += f"{method} {target} HTTP/1.1\r\n".encode()
        out += draw(body_part(headers, allow_none=True))
    return out


@st.composite
def responses(draw: Any) -> bytes:
    out = b""
    for _ in range(draw(st.integers(0, 2))):
        out += b"HTTP/1.1 %d Info\r\n" % draw(st.sampled_from([100, 102, 103]))
        out += b"".join(f"{n}: {v}\r\n".encode() for n, v in draw(fields)) + b"\r\n"
    status = draw(st.sampled_from([200, 201, 206, 301, 404, 500, 599, 999]))
    reason = draw(st.sampled_from([b" OK", b" Not Found", b" ", b""]))
    version = draw(st.sampled_from([b"1.1", b"1.1", b"1.0"]))
    out += b"HTTP/" + version + b" %d%s\r\n" % (status, reason)
    headers = [(n.encode(), v.encode()) for n, v in draw(fields)]
    if version == b"1.0":
        body = draw(st.binary(max_size=100))
        headers.append((b"Content-Length", b"%d" % len(body)))
        return out + b"".join(n + b": " + v + b"\r\n" for n, v in headers) + b"\r\n" + body
    return out + draw(body_part(headers, allow_none=False))


def assert_all_same(role: str, pieces: list[bytes]) -> None:
    got = engines(role, pieces)
    assert got["h11"][0] == "ok" and got["h11"][1], got["h11"]
    for name, result in got.items():
        assert result == got["h11"], (name, result, got["h11"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), st.lists(st.integers(0, 10_000), max_size=6))
def test_valid_requests_same_in_all_three(data: bytes, cuts: list[int]) -> None:
    assert_all_same("server", split(data, cuts))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses(), st.lists(st.integers(0, 10_000), max_size=6))
def test_valid_responses_same_in_all_three(data: bytes, cuts: list[int]) -> None:
    assert_all_same("client", split(data, cuts))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(requests().map(lambda d: ("server", d)), responses().map(lambda d: ("client", d))))
def test_valid_messages_at_every_split_point(case: tuple[str, bytes]) -> None:
    role, data = case
    for i in range(len(data) + 1):
        assert_all_same(role, [p for p in (data[:i], data[i:]) if p])


# -- invalid and borderline messages ----------------------------------------------------------

OK, ERR = "ok", "error"
R = b"POST /x HTTP/1.1\r\nHost: h\r\n"
S = b"HTTP/1.1 200 OK\r\n"

#: (name, role, message, httpwire strict, h11, llhttp, httpwire tolerant (client) or None,
#:  the docs/http11.md item that explains each difference ("" when all agree)).
CASES: list[tuple[str, str, bytes, str, str, str, str | None, str]] = [
    # Framing: RFC 9112 §6.  Every engine refuses what smuggling needs, except where noted.
    (
        "te+cl request",
        "server",
        R + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ERR,
        OK,
        ERR,
        None,
        "TE+CL",
    ),
    (
        "te+cl response",
        "client",
        S + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ERR,
        OK,
        ERR,
        ERR,
        "TE+CL",
    ),
    (
        "differing cl",
        "server",
        R + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        ERR,
        ERR,
        ERR,
        None,
        "",
    ),
    ("cl with sign", "server", R + b"Content-Length: +3\r\n\r\nabc", ERR, ERR, ERR, None, ""),
    (
        "identical cl twice",
        "server",
        R + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        OK,
        OK,
        ERR,
        None,
        "identical CL",
    ),
    (
        "identical cl list",
        "client",
        S + b"Content-Length: 3, 3\r\n\r\nabc",
        OK,
        OK,
        ERR,
        OK,
        "identical CL",
    ),
    (
        "te gzip, chunked",
        "server",
        R + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        ERR,
        ERR,
        OK,
        None,
        "other codings",
    ),
    (
        "te chunked twice",
        "server",
        R + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        None,
        "",
    ),
    (
        "te gzip",
        "client",
        S + b"Transfer-Encoding: gzip\r\n\r\n",
        ERR,
        ERR,
        OK,
        ERR,
        "other codings",
    ),
    (
        "te in http/1.0 request",
        "server",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ERR,
        OK,
        OK,
        None,
        "TE in 1.0",
    ),
    (
        "te in http/1.0 response",
        "client",
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ERR,
        OK,
        OK,
        ERR,
        "TE in 1.0",
    ),
    ("204 with cl", "client", b"HTTP/1.1 204 No\r\nContent-Length: 5\r\n\r\n", OK, OK, OK, OK, ""),
    # Chunks: RFC 9112 §7.1.
    (
        "chunk size not hex",
        "server",
        R + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        ERR,
        ERR,
        ERR,
        None,
        "",
    ),
    (
        "chunk size 0x",
        "client",
        S + b"Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        ERR,
        "",
    ),
    (
        "chunk data without crlf",
        "server",
        R + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        None,
        "",
    ),
    (
        "chunk line bare lf",
        "server",
        R + b"Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        None,
        "",
    ),
    (
        "chunk size 17 digits",
        "server",
        R + b"Transfer-Encoding: chunked\r\n\r\n11111111111111111\r\n",
        ERR,
        OK,
        ERR,
        None,
        "chunk size",
    ),
    (
        "chunk extension",
        "client",
        S + b"Transfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\n\r\n",
        OK,
        OK,
        OK,
        OK,
        "",
    ),
    (
        "space after chunk size",
        "server",
        R + b"Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n",
        OK,
        OK,
        ERR,
        None,
        "chunk BWS",
    ),
    (
        "bad trailer line",
        "server",
        R + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX A: 1\r\n\r\n",
        ERR,
        ERR,
        ERR,
        None,
        "",
    ),
    # Field lines: RFC 9112 §5, RFC 9110 §5.
    (
        "space before colon",
        "server",
        R + b"X-A : 1\r\nContent-Length: 0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        None,
        "",
    ),
    (
        "space before colon, response",
        "client",
        S + b"X-A : 1\r\nContent-Length: 0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        OK,
        "tolerant",
    ),
    (
        "name not a token",
        "server",
        R + b"X(A): 1\r\nContent-Length: 0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        None,
        "",
    ),
    (
        "name not a token, response",
        "client",
        S + b"A/B: 1\r\nContent-Length: 0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        OK,
        "tolerant",
    ),
    (
        "line without colon, response",
        "client",
        S + b"junk\r\nContent-Length: 0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        OK,
        "tolerant",
    ),
    (
        "framing name with space",
        "client",
        S + b"Content-Length : 0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        ERR,
        "",
    ),
    (
        "nul in value",
        "server",
        R + b"X-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        None,
        "",
    ),
    (
        "bare cr in value",
        "client",
        S + b"X-A: a\rb\r\nContent-Length: 0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        ERR,
        "",
    ),
    (
        "ctl in value",
        "server",
        R + b"X-A: a\x01b\r\nContent-Length: 0\r\n\r\n",
        OK,
        OK,
        ERR,
        None,
        "CTL in values",
    ),
    (
        "del in value",
        "client",
        S + b"X-A: a\x7fb\r\nContent-Length: 0\r\n\r\n",
        OK,
        OK,
        ERR,
        OK,
        "CTL in values",
    ),
    (
        "vt in value",
        "server",
        R + b"X-A: a\x0bb\r\nContent-Length: 0\r\n\r\n",
        OK,
        ERR,
        ERR,
        None,
        "CTL in values",
    ),
    (
        "obs-text in value",
        "server",
        R + b"X-A: a\xe9b\r\nContent-Length: 0\r\n\r\n",
        OK,
        OK,
        OK,
        None,
        "",
    ),
    ("empty value", "client", S + b"Server:\r\nContent-Length: 0\r\n\r\n", OK, OK, OK, OK, ""),
    (
        "obs-fold",
        "server",
        R + b"X-A: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        OK,
        OK,
        ERR,
        None,
        "obs-fold",
    ),
    (
        "bare lf line ends",
        "client",
        S + b"X-A: a\nContent-Length: 0\n\n",
        OK,
        OK,
        ERR,
        OK,
        "bare LF",
    ),
    # Start-lines: RFC 9112 §2-§4.
    ("no host", "server", b"GET / HTTP/1.1\r\n\r\n", ERR, ERR, OK, None, "Host"),
    (
        "two hosts",
        "server",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        ERR,
        ERR,
        OK,
        None,
        "Host",
    ),
    (
        "two spaces in request line",
        "server",
        b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        ERR,
        ERR,
        OK,
        None,
        "request line",
    ),
    (
        "unregistered method",
        "server",
        b"FOO-BAR / HTTP/1.1\r\nHost: a\r\n\r\n",
        OK,
        OK,
        ERR,
        None,
        "methods",
    ),
    (
        "lowercase method",
        "server",
        b"get / HTTP/1.1\r\nHost: a\r\n\r\n",
        OK,
        OK,
        ERR,
        None,
        "methods",
    ),
    (
        "http/1.2 request",
        "server",
        b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
        OK,
        OK,
        ERR,
        None,
        "HTTP/1.x",
    ),
    (
        "http/2.0 request",
        "server",
        b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        ERR,
        OK,
        OK,
        None,
        "HTTP/2.0",
    ),
    (
        "http/2.0 response",
        "client",
        b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        ERR,
        OK,
        OK,
        ERR,
        "HTTP/2.0",
    ),
    ("ctl in target", "server", b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", ERR, ERR, ERR, None, ""),
    (
        "empty line before request",
        "server",
        b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        OK,
        ERR,
        OK,
        None,
        "leading CRLF",
    ),
    (
        "empty line before response",
        "client",
        b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        OK,
        ERR,
        OK,
        OK,
        "leading CRLF",
    ),
    ("status 600", "client", b"HTTP/1.1 600 X\r\nContent-Length: 0\r\n\r\n", OK, OK, OK, OK, ""),
    (
        "status 099",
        "client",
        b"HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n",
        ERR,
        ERR,
        OK,
        ERR,
        "status < 100",
    ),
    (
        "two-digit status",
        "client",
        b"HTTP/1.1 20 X\r\nContent-Length: 0\r\n\r\n",
        ERR,
        ERR,
        ERR,
        ERR,
        "",
    ),
    (
        "no reason phrase",
        "client",
        b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
        OK,
        OK,
        OK,
        OK,
        "",
    ),
]

ORDER = ("httpwire", "h11", "llhttp", "httpwire-tolerant")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_invalid_and_borderline_messages_at_every_split_point(case: Any) -> None:
    name, role, data, *expected, why = case
    want = dict(zip(ORDER, expected, strict=True))
    if role == "server":
        del want["httpwire-tolerant"]
    disagree = {k for k, v in want.items() if v != want["httpwire"]}
    assert bool(disagree) == bool(why), "a difference must name its docs/http11.md entry"
    whole = engines(role, [data])
    for i in range(len(data) + 1):
        pieces = [p for p in (data[:i], data[i:]) if p]
        got = engines(role, pieces)
        assert {k: v[0] for k, v in got.items()} == want, (name, i, got)
        # Where they agree on success they agree on every message, field and byte.
        for k in got:
            if want[k] == OK and want["httpwire"] == OK:
                assert got[k] == got["httpwire"] or k == "httpwire-tolerant", (name, i, k, got)
            assert got[k] == whole[k], (name, i, k)  # split points never change the result
