"""CPU cost per message of httpwire.http11 vs h11 vs httptools (llhttp), in one process run.

Run: ``.venv/bin/python bench/http11.py [--quick]``; ``--p1-json`` measures only issue 14's P1
(a new Connection per request through the h11-compatible API, against h11; see
:func:`measure_p1`) and prints one ``BENCH-RESULT {json}`` line, for bench/run.py.  Bounded (about 5 s; ``--quick`` about
1 s, on the 2-core build VM).  Each scenario is run in short rounds, interleaving the
implementations, and the best round is kept (the least disturbed by other processes); CPU time
(``time.process_time``).

Responses in (1), (3) and (4) come from a pool of about a thousand that differ in their Date
and X-Request-Id values, requests in (2) and (6) from one whose targets differ, as consecutive
real responses do, so that httpwire's caches of field lines seen before hit only where they
would in practice.

Scenarios (the cases of issue 3, item 6), each through four columns: httpwire's
h11-compatible API (``next_event``), httpwire's lower-level path (client role: a head from
``next_event``, then the body as coalesced bytes from ``next_body``; server role:
``next_request`` and ``send_response``), h11, and httptools (llhttp):
  (1) head only, client role: send a pre-built GET, receive a 200 with 8 headers and
      ``Content-Length: 0``, read up to EndOfMessage, ``start_next_cycle()``;
  (2) head only, server role: receive a GET with 6 headers, read Request and EndOfMessage,
      send a small Response (2 headers, ``Content-Length: 0``) and EndOfMessage,
      ``start_next_cycle()``; httptools: one request parser per connection, the response
      built with one ``bytes.join``;
  (3) client cycle: build and send a GET with 4 headers, send EndOfMessage, receive a 200
      response with 8 headers and a 100-byte Content-Length body in one piece, read events up
      to EndOfMessage (the headers with ``raw_items()``, the body from each Data),
      ``start_next_cycle()``;
  (4) a 12-header response with a 1 KiB Content-Length body (a pre-built GET is sent first);
  (5) a response with a chunked body of 8 x 1 KiB chunks (same);
  (6) 10 pipelined GETs in one buffer, server role, as (2) for each request; per request;
  (7) a 16 MiB Content-Length body fed in 64 KiB pieces (MB/s);
  (8) the send path alone (issue 14): a new Connection, build a GET with 4 headers, send it
      and its EndOfMessage (httptools: the same bytes with one ``bytes.join``); (8s) the same
      with method, target and headers given as ``str`` (what httpwire's connection layer
      passes);
  (9) issue 14's P1, harness style: a new Connection, send a GET, parse a 200 with 8 headers
      and a 100-byte body up to EndOfMessage (httptools: as in (3)).
(8), (8s) and (9) have no lower-level column (there is no other send path for a client).
Parity: in every case each column does the same work.  h11's state machine (and so
httpwire's) must send a request before it can receive a response, so in (1), (3), (4) and (5)
httptools builds the same GET's bytes too, with one ``bytes.join`` of its lines; in (2) and
(6) it builds the response bytes the same way.  httptools is given no state machine, header
validation or event objects, which the other columns pay for.  The ratio columns: h11 /
h11-compatible API, and the faster of httpwire's two paths / httptools (both CPU time ratios; for (7), of throughputs
inverted, so below 1 means httpwire is faster).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import h11
import httptools

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
import httpwire.http11 as hw  # noqa: E402

REQ_HEADERS = [
    (b"Host", b"example.com"),
    (b"User-Agent", b"httpwire-bench/1.0"),
    (b"Accept", b"*/*"),
    (b"Accept-Encoding", b"gzip, deflate"),
]
RESP_8 = (
    b"HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: nginx/1.22.1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 100\r\nConnection: keep-alive\r\n"
    b"Cache-Control: no-cache\r\nX-Request-Id: 5f2b7c9e-1a3d\r\nVary: Accept-Encoding\r\n\r\n"
) + b"x" * 100
RESP_12 = (
    b"HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: nginx/1.22.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 1024\r\nConnection: keep-alive\r\n"
    b"Cache-Control: private, max-age=0\r\nX-Request-Id: 5f2b7c9e-1a3d\r\nVary: Accept-Encoding\r\n"
    b'ETag: "33a64df551425fcc55e4d42a148795d9f25f89d4"\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n'
    b"Strict-Transport-Security: max-age=63072000\r\nX-Content-Type-Options: nosniff\r\n\r\n"
) + b"y" * 1024
RESP_CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"".join(b"400\r\n" + b"z" * 1024 + b"\r\n" for _ in range(8))
    + b"0\r\n\r\n"
)


def _variants(template: bytes, count: int = 997) -> list[bytes]:
    """``count`` copies of a response whose Date and X-Request-Id values differ, as they do
    between real responses (so per-line caches cannot hit on every line)."""
    out = []
    for i in range(count):
        date = b"Mon, 01 Jan 2024 %02d:%02d:%02d GMT" % (i // 3600 % 24, i // 60 % 60, i % 60)
        rid = b"%08x-%04x" % (i * 2654435761 % 2**32, i)
        v = template.replace(b"Mon, 01 Jan 2024 00:00:00 GMT", date, 1)
        out.append(v.replace(b"5f2b7c9e-1a3d", rid[:13]))
    assert all(len(v) == len(template) for v in out)
    return out


RESP_8_VARIANTS = _variants(RESP_8)
RESP_12_VARIANTS = _variants(RESP_12)
BIG_SIZE = 16 * 1024 * 1024
PIECE = 64 * 1024
BIG_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG_SIZE
BIG_PIECES = [bytes([65 + i % 26]) * PIECE for i in range(BIG_SIZE // PIECE)]
RESP_HEAD = (
    b"HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: nginx/1.22.1\r\n"
    b"Content-Type: text/html\r\nContent-Length: 0\r\nConnection: keep-alive\r\n"
    b"Cache-Control: no-cache\r\nX-Request-Id: 5f2b7c9e-1a3d\r\nVary: Accept-Encoding\r\n\r\n"
)
RESP_HEAD_VARIANTS = _variants(RESP_HEAD)


def _request_variants(count: int = 997) -> list[bytes]:
    """GETs with 6 headers whose targets differ (as a server sees them)."""
    return [
        b"GET /articles/%d?page=%d HTTP/1.1\r\nHost: example.com\r\n"
        b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
        b"Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\n"
        b"Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\n\r\n" % (i, i % 7)
        for i in range(count)
    ]


REQUEST_VARIANTS = _request_variants()
PIPELINED = [b"".join(REQUEST_VARIANTS[i : i + 10]) for i in range(0, 990, 10)]
RESP_SMALL_HEADERS = [(b"Content-Type", b"text/plain"), (b"Content-Length", b"0")]


def h11_like_cycle(mod: Any) -> Callable[[], None]:
    conn = mod.Connection(mod.CLIENT)
    payloads = itertools.cycle(RESP_8_VARIANTS)
    Request, EOM, EndOfMessage, Response, Data = (
        mod.Request,
        mod.EndOfMessage,
        mod.EndOfMessage,
        mod.Response,
        mod.Data,
    )
    body: list[bytes] = []

    def cycle() -> None:
        conn.send(Request(method=b"GET", target=b"/index.html", headers=REQ_HEADERS))
        conn.send(EOM())
        conn.receive_data(next(payloads))
        while True:
            ev = conn.next_event()
            t = type(ev)
            if t is Data:
                body.append(ev.data)
            elif t is Response:
                ev.headers.raw_items()
            elif t is EndOfMessage:
                break
        conn.start_next_cycle()
        body.clear()

    return cycle


def h11_like_parse(mod: Any, variants: list[bytes]) -> Callable[[], None]:
    conn = mod.Connection(mod.CLIENT)
    payloads = itertools.cycle(variants)
    req = mod.Request(method=b"GET", target=b"/", headers=REQ_HEADERS)
    EOM, EndOfMessage, Response = mod.EndOfMessage(), mod.EndOfMessage, mod.Response
    Data = mod.Data
    body: list[bytes] = []

    def parse() -> None:
        conn.send(req)
        conn.send(EOM)
        conn.receive_data(next(payloads))
        while True:
            ev = conn.next_event()
            t = type(ev)
            if t is Data:
                body.append(ev.data)
            elif t is Response:
                ev.headers.raw_items()
            elif t is EndOfMessage:
                break
        conn.start_next_cycle()
        body.clear()

    return parse


class _Proto:
    __slots__ = ("headers", "body", "done")

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True


def httptools_cycle() -> Callable[[], None]:
    payloads = itertools.cycle(RESP_8_VARIANTS)

    def cycle() -> None:
        b"".join(
            [b"GET /index.html HTTP/1.1\r\n"]
            + [n + b": " + v + b"\r\n" for n, v in REQ_HEADERS]
            + [b"\r\n"]
        )
        p = _Proto()
        parser = httptools.HttpResponseParser(p)
        parser.feed_data(next(payloads))
        parser.get_status_code()
        assert p.done

    return cycle


def httptools_parse(variants: list[bytes]) -> Callable[[], None]:
    """Parse a response; first build the GET's bytes (as httpwire and h11 serialise theirs)."""
    payloads = itertools.cycle(variants)

    def parse() -> None:
        b"".join(
            [b"GET / HTTP/1.1\r\n"] + [n + b": " + v + b"\r\n" for n, v in REQ_HEADERS] + [b"\r\n"]
        )
        p = _Proto()
        parser = httptools.HttpResponseParser(p)
        parser.feed_data(next(payloads))
        parser.get_status_code()
        assert p.done

    return parse


def h11_like_send(mod: Any, text: bool = False) -> Callable[[], None]:
    """Send only, harness style: a new Connection, build a GET with 4 headers (targets vary),
    send it and its EndOfMessage.  ``text``: method, target and headers as ``str``, as
    httpwire's connection layer passes them."""
    Connection, CLIENT = mod.Connection, mod.CLIENT
    Request, EndOfMessage = mod.Request, mod.EndOfMessage
    if text:
        targets: Any = itertools.cycle([f"/item/{i}" for i in range(997)])
        headers: Any = [(n.decode(), v.decode()) for n, v in REQ_HEADERS]
        method: Any = "GET"
    else:
        targets = itertools.cycle([b"/item/%d" % i for i in range(997)])
        headers = REQ_HEADERS
        method = b"GET"

    def send() -> None:
        c = Connection(CLIENT)
        c.send(Request(method=method, target=next(targets), headers=headers))
        c.send(EndOfMessage())

    return send


def httptools_send() -> Callable[[], None]:
    targets = itertools.cycle([b"/item/%d" % i for i in range(997)])

    def send() -> None:
        b"".join(
            [b"GET ", next(targets), b" HTTP/1.1\r\n"]
            + [n + b": " + v + b"\r\n" for n, v in REQ_HEADERS]
            + [b"\r\n"]
        )

    return send


def h11_like_p1(mod: Any) -> Callable[[], None]:
    """Issue 14's P1, harness style: a new Connection, build and send a GET, parse a 200 with
    8 headers and a 100-byte body up to EndOfMessage."""
    Connection, CLIENT = mod.Connection, mod.CLIENT
    Request, EndOfMessage, Response, Data = mod.Request, mod.EndOfMessage, mod.Response, mod.Data
    payloads = itertools.cycle(RESP_8_VARIANTS)
    body: list[bytes] = []

    def p1() -> None:
        conn = Connection(CLIENT)
        conn.send(Request(method=b"GET", target=b"/index.html", headers=REQ_HEADERS))
        conn.send(EndOfMessage())
        conn.receive_data(next(payloads))
        while True:
            ev = conn.next_event()
            t = type(ev)
            if t is Data:
                body.append(ev.data)
            elif t is Response:
                ev.headers.raw_items()
            elif t is EndOfMessage:
                break
        body.clear()

    return p1


def h11_like_big(mod: Any) -> Callable[[], None]:
    conn = mod.Connection(mod.CLIENT)
    req = mod.Request(method=b"GET", target=b"/", headers=REQ_HEADERS)
    Data, EndOfMessage = mod.Data, mod.EndOfMessage

    def run() -> None:
        conn.send(req)
        conn.send(mod.EndOfMessage())
        conn.receive_data(BIG_HEAD)
        conn.next_event()
        got = 0
        for piece in BIG_PIECES:
            conn.receive_data(piece)
            ev = conn.next_event()
            assert type(ev) is Data
            got += len(ev.data)
        assert type(conn.next_event()) is EndOfMessage and got == BIG_SIZE
        conn.start_next_cycle()

    return run


def httptools_big() -> Callable[[], None]:
    def run() -> None:
        p = _Proto()
        parser = httptools.HttpResponseParser(p)
        parser.feed_data(BIG_HEAD)
        for piece in BIG_PIECES:
            parser.feed_data(piece)
        assert p.done

    return run


def lowlevel_parse(mod: Any, variants: list[bytes]) -> Callable[[], None]:
    """As h11_like_parse, through ``next_body()`` after the head."""
    conn = mod.Connection(mod.CLIENT)
    payloads = itertools.cycle(variants)
    req = mod.Request(method=b"GET", target=b"/", headers=REQ_HEADERS)
    EOM, EndOfMessage = mod.EndOfMessage(), mod.EndOfMessage
    body: list[bytes] = []

    def parse() -> None:
        conn.send(req)
        conn.send(EOM)
        conn.receive_data(next(payloads))
        conn.next_event().headers.raw_items()
        while True:
            got = conn.next_body()
            if type(got) is bytes:
                body.append(got)
            elif type(got) is EndOfMessage:
                break
        conn.start_next_cycle()
        body.clear()

    return parse


def lowlevel_cycle(mod: Any) -> Callable[[], None]:
    """As h11_like_cycle, through ``next_body()`` after the head."""
    conn = mod.Connection(mod.CLIENT)
    payloads = itertools.cycle(RESP_8_VARIANTS)
    Request, EOM, EndOfMessage = mod.Request, mod.EndOfMessage, mod.EndOfMessage
    body: list[bytes] = []

    def cycle() -> None:
        conn.send(Request(method=b"GET", target=b"/index.html", headers=REQ_HEADERS))
        conn.send(EOM())
        conn.receive_data(next(payloads))
        conn.next_event().headers.raw_items()
        while True:
            got = conn.next_body()
            if type(got) is bytes:
                body.append(got)
            elif type(got) is EndOfMessage:
                break
        conn.start_next_cycle()
        body.clear()

    return cycle


def lowlevel_big(mod: Any) -> Callable[[], None]:
    conn = mod.Connection(mod.CLIENT)
    req = mod.Request(method=b"GET", target=b"/", headers=REQ_HEADERS)
    EndOfMessage = mod.EndOfMessage

    def run() -> None:
        conn.send(req)
        conn.send(mod.EndOfMessage())
        conn.receive_data(BIG_HEAD)
        conn.next_event()
        got = 0
        for piece in BIG_PIECES:
            conn.receive_data(piece)
            got += len(conn.next_body())
        assert type(conn.next_body()) is EndOfMessage and got == BIG_SIZE
        conn.start_next_cycle()

    return run


def server_requests(mod: Any, buffers: list[bytes], per: int, lowlevel: bool) -> Callable[[], None]:
    """Server role: each buffer holds ``per`` requests; answer each with a small response."""
    conn = mod.Connection(mod.SERVER)
    payloads = itertools.cycle(buffers)
    Request, Response, EOM = mod.Request, mod.Response, mod.EndOfMessage
    NEED_DATA = mod.NEED_DATA
    targets: list[bytes] = []

    def serve() -> None:
        conn.receive_data(next(payloads))
        for _ in range(per):
            req = conn.next_event()
            assert type(req) is Request, req
            targets.append(req.target)
            eom = conn.next_event()
            assert type(eom) is EOM, eom
            conn.send(Response(status_code=200, headers=RESP_SMALL_HEADERS))
            conn.send(EOM())
            conn.start_next_cycle()
        assert conn.next_event() is NEED_DATA
        targets.clear()

    def serve_lowlevel() -> None:
        # next_request() reads a bodiless request with its EndOfMessage; send_response()
        # sends head + end of message and starts the next cycle.
        conn.receive_data(next(payloads))
        for _ in range(per):
            req = conn.next_request()
            assert type(req) is Request, req
            targets.append(req.target)
            conn.send_response(200, RESP_SMALL_HEADERS)
        assert conn.next_request() is NEED_DATA
        targets.clear()

    return serve_lowlevel if lowlevel else serve


class _ReqProto:
    __slots__ = ("url", "headers", "done")

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.done = 0

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_message_complete(self) -> None:
        self.done += 1


def httptools_server(buffers: list[bytes], per: int) -> Callable[[], None]:
    p = _ReqProto()
    parser = httptools.HttpRequestParser(p)
    payloads = itertools.cycle(buffers)
    status = b"HTTP/1.1 200 OK\r\n"
    lines = [n + b": " + v + b"\r\n" for n, v in RESP_SMALL_HEADERS]

    def serve() -> None:
        p.done = 0
        parser.feed_data(next(payloads))
        assert p.done == per
        for _ in range(per):
            b"".join([status, *lines, b"\r\n"])

    return serve


# --- P1 (issue 14): the h11-compatible API, harness style -----------------------------------


def p1_cycle(mod: Any, send_only: bool = False) -> Callable[[], None]:
    """One P1 iteration: a NEW client ``Connection``, send a GET with 4 headers and
    EndOfMessage, feed one 200 response (8 headers, 100-byte body), read events up to
    EndOfMessage. ``send_only`` stops after the two sends (the send side's share)."""
    payloads = itertools.cycle(RESP_8_VARIANTS)
    Connection, CLIENT, Request, EndOfMessage = (
        mod.Connection,
        mod.CLIENT,
        mod.Request,
        mod.EndOfMessage,
    )
    NEED_DATA = mod.NEED_DATA

    def cycle() -> None:
        conn = Connection(CLIENT)
        conn.send(Request(method=b"GET", target=b"/index.html", headers=REQ_HEADERS))
        conn.send(EndOfMessage())
        if send_only:
            return
        conn.receive_data(next(payloads))
        while True:
            ev = conn.next_event()
            if type(ev) is EndOfMessage or ev is NEED_DATA:
                break

    return cycle


def measure_p1(number: int = 2000, rounds: int = 7) -> dict[str, float]:
    """P1 in this process: best CPU µs per iteration for httpwire and h11, whole cycle and
    send side only, interleaved; ``ratio`` = h11 / httpwire for the whole cycle."""
    res = best_time(
        {
            "httpwire": p1_cycle(hw),
            "h11": p1_cycle(h11),
            "httpwire_send": p1_cycle(hw, send_only=True),
            "h11_send": p1_cycle(h11, send_only=True),
        },
        number=number,
        rounds=rounds,
    )
    out = {k: v * 1e6 for k, v in res.items()}
    out["ratio"] = out["h11"] / out["httpwire"]
    out["send_ratio"] = out["h11_send"] / out["httpwire_send"]
    recv_hw = out["httpwire"] - out["httpwire_send"]
    recv_h11 = out["h11"] - out["h11_send"]
    out["receive_ratio"] = recv_h11 / recv_hw if recv_hw > 0 else float("nan")
    return out


def best_time(funcs: dict[str, Callable[[], None]], number: int, rounds: int) -> dict[str, float]:
    """Best CPU seconds per call over ``rounds`` interleaved rounds of ``number`` calls."""
    best = {name: float("inf") for name in funcs}
    for f in funcs.values():
        f()  # warm up
    for _ in range(rounds):
        for name, f in funcs.items():
            t0 = time.process_time()
            for _ in range(number):
                f()
            best[name] = min(best[name], (time.process_time() - t0) / number)
    return best


def main() -> None:
    if "--p1-json" in sys.argv:
        # One P1 measurement for bench/run.py and scripts/bench-check (a child process each).
        import json

        quick = "--quick" in sys.argv
        res = measure_p1(number=500 if quick else 2000, rounds=5 if quick else 7)
        print("BENCH-RESULT " + json.dumps({"ok": True, **res}), flush=True)
        return
    quick = "--quick" in sys.argv
    rounds = 5 if quick else 15
    n = 300 if quick else 1000
    rows: list[tuple[str, dict[str, float], str]] = []

    def case(title: str, funcs: dict[str, Callable[[], None]], number: int, per: int = 1) -> None:
        res = best_time(funcs, number=number, rounds=rounds)
        rows.append((title, {k: v / per for k, v in res.items()}, "us"))

    case(
        "(1) head only: 200, 8 headers (client)",
        {
            "compat": h11_like_parse(hw, RESP_HEAD_VARIANTS),
            "lowlevel": lowlevel_parse(hw, RESP_HEAD_VARIANTS),
            "h11": h11_like_parse(h11, RESP_HEAD_VARIANTS),
            "httptools": httptools_parse(RESP_HEAD_VARIANTS),
        },
        n,
    )
    case(
        "(2) head only: GET, 6 headers (server)",
        {
            "compat": server_requests(hw, REQUEST_VARIANTS, 1, False),
            "lowlevel": server_requests(hw, REQUEST_VARIANTS, 1, True),
            "h11": server_requests(h11, REQUEST_VARIANTS, 1, False),
            "httptools": httptools_server(REQUEST_VARIANTS, 1),
        },
        n,
    )
    case(
        "(3) client cycle: GET + 200/8 headers/100 B",
        {
            "compat": h11_like_cycle(hw),
            "lowlevel": lowlevel_cycle(hw),
            "h11": h11_like_cycle(h11),
            "httptools": httptools_cycle(),
        },
        n,
    )
    case(
        "(4) 12-header response, 1 KiB body",
        {
            "compat": h11_like_parse(hw, RESP_12_VARIANTS),
            "lowlevel": lowlevel_parse(hw, RESP_12_VARIANTS),
            "h11": h11_like_parse(h11, RESP_12_VARIANTS),
            "httptools": httptools_parse(RESP_12_VARIANTS),
        },
        n,
    )
    case(
        "(5) chunked body, 8 x 1 KiB",
        {
            "compat": h11_like_parse(hw, [RESP_CHUNKED]),
            "lowlevel": lowlevel_parse(hw, [RESP_CHUNKED]),
            "h11": h11_like_parse(h11, [RESP_CHUNKED]),
            "httptools": httptools_parse([RESP_CHUNKED]),
        },
        n // 2,
    )
    case(
        "(6) 10 pipelined GETs (server), per request",
        {
            "compat": server_requests(hw, PIPELINED, 10, False),
            "lowlevel": server_requests(hw, PIPELINED, 10, True),
            "h11": server_requests(h11, PIPELINED, 10, False),
            "httptools": httptools_server(PIPELINED, 10),
        },
        n // 10,
        per=10,
    )
    case(
        "(8) send only: new conn, GET/4 headers + EOM",
        {
            "compat": h11_like_send(hw),
            "h11": h11_like_send(h11),
            "httptools": httptools_send(),
        },
        n,
    )
    case(
        "(8s) send only, str method/target/headers",
        {
            "compat": h11_like_send(hw, text=True),
            "h11": h11_like_send(h11, text=True),
            "httptools": httptools_send(),
        },
        n,
    )
    case(
        "(9) P1: new conn, send GET, parse 200/8h/100 B",
        {
            "compat": h11_like_p1(hw),
            "h11": h11_like_p1(h11),
            "httptools": httptools_cycle(),
        },
        n,
    )
    rows.append(
        (
            "(7) 16 MiB body in 64 KiB pieces",
            best_time(
                {
                    "compat": h11_like_big(hw),
                    "lowlevel": lowlevel_big(hw),
                    "h11": h11_like_big(h11),
                    "httptools": httptools_big(),
                },
                number=1,
                rounds=max(3, rounds // 3),
            ),
            "MB/s",
        )
    )
    names = ["compat", "lowlevel", "h11", "httptools"]
    heads = ["h11-compat", "lower-level", "h11", "httptools"]
    print(
        f"{'scenario':45s} "
        + " ".join(f"{n:>12s}" for n in heads)
        + f" {'h11/compat':>11s} {'fastest/httptools':>18s}"
    )
    for title, res, unit in rows:
        if unit == "MB/s":
            cells = [BIG_SIZE / 1e6 / res[n] for n in names]
            ratio, ratio2 = cells[0] / cells[2], cells[3] / max(cells[0], cells[1])
            txt = " ".join(f"{c:>7.0f} MB/s" for c in cells)
        else:
            cells = [res.get(n, float("inf")) * 1e6 for n in names]
            ratio, ratio2 = cells[2] / cells[0], min(cells[0], cells[1]) / cells[3]
            txt = " ".join(f"{c:>9.2f} us" if c != float("inf") else f"{'-':>12s}" for c in cells)
        print(f"{title:45s} {txt} {ratio:>10.1f}x {ratio2:>17.2f}x")
    if hasattr(os, "getloadavg"):
        one, five, fifteen = os.getloadavg()
        print(f"load average (1, 5, 15 min): {one:.2f} {five:.2f} {fifteen:.2f}")


if __name__ == "__main__":
    main()
