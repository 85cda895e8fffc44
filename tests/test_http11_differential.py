"""Differential tests: valid responses through httpwire.http11 and real h11, same events.

Hypothesis generates responses (status, reason, headers, Content-Length / chunked /
read-until-close framing, bodies, optional 1xx responses first, optional trailers) and feeds
them in random pieces (plus every single split point for a few fixed messages).  Body Data is
compared concatenated: where h11 splits Data events (and its chunk_start flag after a split) is
an artefact of its buffering, not protocol.
"""

from __future__ import annotations

from typing import Any

import h11 as real
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import httpwire.http11 as hw

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
FRAMING = {"content-length", "transfer-encoding", "connection", "upgrade", "expect", "host"}

names = st.text(alphabet=TCHAR, min_size=1, max_size=12).filter(lambda n: n.lower() not in FRAMING)
values = st.one_of(
    st.just(""),
    st.from_regex(r"[!-~]([ !-~\t]{0,20}[!-~])?", fullmatch=True),
)
header_lists = st.lists(st.tuples(names, values), max_size=6)
reasons = st.from_regex(r"([!-~]([ !-~]{0,15}[!-~])?)?", fullmatch=True)
bodies = st.binary(max_size=300)


@st.composite
def responses(draw: Any) -> tuple[bytes, bytes, bool]:
    """(wire bytes, request method, ends with EOF)"""
    method = draw(st.sampled_from([b"GET", b"GET", b"HEAD"]))
    out = b""
    for _ in range(draw(st.integers(0, 2))):
        code = draw(st.sampled_from([100, 102, 103]))
        out += b"HTTP/1.1 %d %s\r\n" % (code, draw(reasons).encode())
        for n, v in draw(header_lists):
            out += f"{n}: {v}\r\n".encode()
        out += b"\r\n"
    version = draw(st.sampled_from([b"1.1", b"1.1", b"1.0"]))
    status = draw(st.sampled_from([200, 201, 204, 206, 301, 304, 404, 500, 599]))
    reason = draw(reasons).encode()
    sp = draw(st.booleans()) or bool(reason)
    out += b"HTTP/" + version + b" %d" % status + (b" " + reason if sp else b"") + b"\r\n"
    headers = [(n.encode(), v.encode()) for n, v in draw(header_lists)]
    body = draw(bodies)
    no_body = method == b"HEAD" or status in (204, 304)
    framing = draw(st.sampled_from(["cl", "chunked", "close"]))
    if version == b"1.0" and framing == "chunked":
        framing = "cl"  # Transfer-Encoding in HTTP/1.0 is rejected on purpose (documented)
    eof = False
    if framing == "cl":
        headers.insert(draw(st.integers(0, len(headers))), (b"Content-Length", b"%d" % len(body)))
    elif framing == "chunked":
        headers.insert(draw(st.integers(0, len(headers))), (b"Transfer-Encoding", b"chunked"))
    if draw(st.booleans()):
        headers.append((b"Connection", draw(st.sampled_from([b"close", b"keep-alive"]))))
    for n, v in headers:
        out += n + b": " + v + b"\r\n"
    out += b"\r\n"
    if no_body:
        return out, method, False
    if framing == "cl":
        out += body
    elif framing == "chunked":
        pieces = draw(st.lists(st.integers(1, 64), max_size=5))
        rest = body
        for size in pieces:
            piece, rest = rest[:size], rest[size:]
            if piece:
                ext = draw(st.sampled_from([b"", b";a=b", b";x"]))
                out += b"%x%s\r\n%s\r\n" % (len(piece), ext, piece)
        if rest:
            out += b"%X\r\n%s\r\n" % (len(rest), rest)
        out += b"0\r\n"
        for n, v in draw(header_lists):
            out += f"{n}: {v}\r\n".encode()
        out += b"\r\n"
    else:
        out += body
        eof = True
    return out, method, eof


def normalise(ev: Any) -> Any:
    t = type(ev).__name__
    if t in ("Response", "InformationalResponse"):
        return (
            t,
            ev.status_code,
            list(ev.headers),
            ev.headers.raw_items(),
            ev.http_version,
            ev.reason,
        )
    if t == "Data":
        return ("Data", bytes(ev.data))
    if t == "EndOfMessage":
        return (t, list(ev.headers))
    return (t,)


def run(mod: Any, pieces: list[bytes], method: bytes, eof: bool) -> list[Any]:
    conn = mod.Connection(mod.CLIENT)
    conn.send(mod.Request(method=method, target=b"/", headers=[(b"Host", b"example.com")]))
    conn.send(mod.EndOfMessage())
    events: list[Any] = []
    feeds = list(pieces) + ([b""] if eof else [])
    for piece in feeds:
        conn.receive_data(piece)
        while True:
            ev = conn.next_event()
            if ev is mod.NEED_DATA or ev is mod.PAUSED:
                break
            events.append(normalise(ev))
            if type(ev) is mod.ConnectionClosed:
                break
    # merge adjacent Data
    merged: list[Any] = []
    for e in events:
        if e[0] == "Data" and merged and merged[-1][0] == "Data":
            merged[-1] = ("Data", merged[-1][1] + e[1])
        elif e != ("Data", b""):
            merged.append(e)
    states = {repr(k): repr(v) for k, v in conn.states.items()}
    return [merged, states, conn.their_http_version]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in points:
        out.append(data[last:p])
        last = p
    out.append(data[last:])
    return [p for p in out if p]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses(), st.lists(st.integers(0, 10_000), max_size=8))
def test_same_events_as_h11_at_random_splits(
    resp: tuple[bytes, bytes, bool], cuts: list[int]
) -> None:
    data, method, eof = resp
    pieces = split(data, cuts)
    expected = run(real, pieces, method, eof)
    assert expected[0], "h11 produced no events"
    assert run(hw, pieces, method, eof) == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses())
def test_same_events_as_h11_byte_by_byte(resp: tuple[bytes, bytes, bool]) -> None:
    data, method, eof = resp
    pieces = [data[i : i + 1] for i in range(len(data))]
    assert run(hw, pieces, method, eof) == run(real, pieces, method, eof)


FIXED = [
    (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        b"GET",
        False,
    ),
    (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n",
        b"GET",
        False,
    ),
    (b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil close", b"GET", True),
    (b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n', b"GET", False),
]


def test_every_single_split_point_of_fixed_messages() -> None:
    for data, method, eof in FIXED:
        whole = run(real, [data], method, eof)
        for i in range(len(data) + 1):
            pieces = [p for p in (data[:i], data[i:]) if p]
            assert run(hw, pieces, method, eof) == whole, (data, i)
