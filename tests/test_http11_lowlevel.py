"""The lower-level receive path, ``Connection.next_body()``: bodies as coalesced bytes.

The differential tests feed the same messages, valid and invalid, cut at every split point,
through ``next_event()`` and through ``next_body()`` on two fresh connections, and require the
same heads, the same body bytes (the concatenated ``Data.data`` against the concatenated
bytes), the same trailers, the same final states and the same error type and status hint.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

import httpwire.http11 as h

GET = h.Request(method=b"GET", target=b"/", headers=[(b"Host", b"example.com")])


def _chunked(*chunks: bytes, trailers: bytes = b"") -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n" + trailers + b"\r\n"


RESPONSES = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(b"abc", b"defg", b"h" * 40),
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    + _chunked(b"abc", b"de", trailers=b"X-Sum: 5\r\nX-Other: y\r\n"),
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2 \r\nde\r\n0\r\n\r\n",
    # chunks of one size in a row (one comparison per repeated chunk line), then others
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    + _chunked(b"ab", b"cd", b"ef", b"g", b"h", b"ij", b"kl", trailers=b"X-T: 1\r\n"),
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd2\r\nef\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n2\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n10\r\n0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\nread until close",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    # invalid: errors after some body bytes, in the body framing, in trailers, in heads
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\nxx\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\nde\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n11112222333344445\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nBad Name: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",  # then EOF
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # then EOF
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    b"HTTP/2.0 200 OK\r\n\r\n",
]

REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    + _chunked(b"ab", b"cde", trailers=b"X-T: 1\r\n"),
    b"POST /x HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n-1\r\n",
    b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",  # no Host
]


def _drive(role: Any, pieces: list[bytes], eof: bool, lowlevel: bool) -> tuple[Any, ...]:
    """Feed ``pieces`` (then EOF if asked); return what came out, normalised for comparing."""
    conn = h.Connection(role)
    if role is h.CLIENT:
        conn.send(GET)
        conn.send(h.EndOfMessage())
    heads: list[Any] = []
    body = bytearray()
    trailers: list[Any] = []
    error: tuple[Any, ...] = ()
    finished = False
    feed = [*pieces, b""] if eof else list(pieces)
    for piece in feed:
        conn.receive_data(piece)
        while not finished:
            try:
                ev = conn.next_body() if lowlevel else conn.next_event()
            except h.RemoteProtocolError as exc:
                error = (type(exc), exc.error_status_hint)
                finished = True
                break
            if ev is h.NEED_DATA:
                break
            if lowlevel:
                assert type(ev) is not h.Data
            if type(ev) is bytes:
                assert ev, "next_body() never returns empty bytes"
                body += ev
            elif type(ev) is h.Data:
                body += ev.data
            elif type(ev) is h.EndOfMessage:
                trailers = list(ev.headers)
                finished = True
            elif ev is h.PAUSED or type(ev) is h.ConnectionClosed:
                heads.append(ev)
                finished = True
            else:
                heads.append(ev)
        if finished:
            break
    return heads, bytes(body), trailers, error, conn.states


def _splits(msg: bytes) -> list[list[bytes]]:
    out = [[msg], [msg[i : i + 1] for i in range(len(msg))]]
    out += [[msg[:i], msg[i:]] for i in range(1, len(msg))]
    return out


@pytest.mark.parametrize(
    ("role", "msg"),
    [(h.CLIENT, m) for m in RESPONSES] + [(h.SERVER, m) for m in REQUESTS],
)
@pytest.mark.parametrize("eof", [False, True])
def test_same_as_event_path_at_every_split_point(role: Any, msg: bytes, eof: bool) -> None:
    for pieces in _splits(msg):
        expected = _drive(role, pieces, eof, lowlevel=False)
        got = _drive(role, pieces, eof, lowlevel=True)
        assert got == expected, pieces


def test_coalesces_chunks_into_one_piece() -> None:
    conn = h.Connection(h.CLIENT)
    conn.send(GET)
    conn.send(h.EndOfMessage())
    chunks = [bytes([65 + i]) * 1024 for i in range(8)]
    conn.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(*chunks))
    assert type(conn.next_event()) is h.Response
    assert conn.next_body() == b"".join(chunks)
    eom = conn.next_body()
    assert type(eom) is h.EndOfMessage and list(eom.headers) == []
    assert conn.states == {h.CLIENT: h.DONE, h.SERVER: h.DONE}
    conn.start_next_cycle()


def test_chunked_body_from_a_bytearray_buffer_and_partial_chunks() -> None:
    conn = h.Connection(h.CLIENT)
    conn.send(GET)
    conn.send(h.EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
    assert type(conn.next_event()) is h.Response
    assert conn.next_body() == b"ab"
    assert conn.next_body() is h.NEED_DATA
    conn.receive_data(bytearray(b"cde\r\n3\r\nfgh\r\n2\r\nij"))
    got = conn.next_body()
    assert type(got) is bytes and got == b"cdefghij"
    conn.receive_data(b"\r\n0\r\nX-A: 1\r\n\r\n")
    eom = conn.next_body()
    assert type(eom) is h.EndOfMessage and list(eom.headers) == [(b"x-a", b"1")]


def test_whole_piece_of_content_length_body_is_the_callers_object() -> None:
    conn = h.Connection(h.CLIENT)
    conn.send(GET)
    conn.send(h.EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n")
    assert type(conn.next_event()) is h.Response
    piece = b"12345678"
    conn.receive_data(piece)
    assert conn.next_body() is piece
    assert type(conn.next_body()) is h.EndOfMessage


def test_error_is_raised_after_the_bytes_before_it_and_state_is_error() -> None:
    conn = h.Connection(h.CLIENT)
    conn.send(GET)
    conn.send(h.EndOfMessage())
    conn.receive_data(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\nzz\r\n"
    )
    conn.next_event()
    assert conn.next_body() == b"abcde"
    with pytest.raises(h.RemoteProtocolError) as info:
        conn.next_body()
    assert info.value.error_status_hint == 400
    assert conn.their_state is h.ERROR
    with pytest.raises(h.RemoteProtocolError):
        conn.next_body()


def test_paused_and_next_event_outside_a_body() -> None:
    conn = h.Connection(h.SERVER)
    conn.receive_data(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
        b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    assert conn.next_body() == h.Request(
        method=b"POST", target=b"/", headers=[(b"Host", b"a"), (b"Content-Length", b"2")]
    )
    assert conn.next_body() == b"hi"
    assert type(conn.next_body()) is h.EndOfMessage
    assert conn.next_body() is h.PAUSED
    conn.send(h.Response(status_code=200, headers=[(b"Content-Length", b"0")]))
    conn.send(h.EndOfMessage())
    conn.start_next_cycle()
    req = conn.next_body()
    assert type(req) is h.Request and req.target == b"/2"
    assert type(conn.next_body()) is h.EndOfMessage
    assert conn.next_body() is h.NEED_DATA
    assert conn.states == {h.CLIENT: h.DONE, h.SERVER: h.SEND_RESPONSE}


def test_read_until_close_body_ends_at_eof() -> None:
    conn = h.Connection(h.CLIENT)
    conn.send(GET)
    conn.send(h.EndOfMessage())
    conn.receive_data(b"HTTP/1.0 200 OK\r\n\r\nab")
    conn.next_event()
    assert conn.next_body() == b"ab"
    assert conn.next_body() is h.NEED_DATA
    conn.receive_data(b"cd")
    conn.receive_data(b"")
    assert conn.next_body() == b"cd"
    assert type(conn.next_body()) is h.EndOfMessage
    assert type(conn.next_body()) is h.ConnectionClosed


@pytest.mark.parametrize(
    "tail",
    [
        b"3\r\nabc\r\n" + b"1" + b";x" * 40,  # an endless chunk-size line
        b"3\r\nabc\r\n0\r\nX-Long: " + b"v" * 100,  # an endless trailer section
    ],
)
def test_max_incomplete_event_size_bounds_chunk_lines_and_trailers(tail: bytes) -> None:
    conn = h.Connection(h.CLIENT, max_incomplete_event_size=64)
    conn.send(GET)
    conn.send(h.EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + tail)
    conn.next_event()
    assert conn.next_body() == b"abc"
    with pytest.raises(h.RemoteProtocolError) as info:
        conn.next_body()
    assert info.value.error_status_hint == 431
    assert conn.their_state is h.ERROR


def test_one_reader_per_connection_starts_clean_for_each_message() -> None:
    # The chunked reader is reused across keep-alive cycles and remembers the last chunk line;
    # nothing else may leak from one message into the next.
    first = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(b"ab", b"cd")
    second = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nef\r\n2\r\ngh"
    for lowlevel in (False, True):
        conn = h.Connection(h.CLIENT)
        bodies: list[bytes] = []
        for msg in (first, second):
            conn.send(GET)
            conn.send(h.EndOfMessage())
            conn.receive_data(msg)
            assert type(conn.next_event()) is h.Response
            body = b""
            while True:
                ev = conn.next_body() if lowlevel else conn.next_event()
                if ev is h.NEED_DATA or type(ev) is h.EndOfMessage:
                    break
                body += ev if type(ev) is bytes else ev.data
            bodies.append(body)
            if type(ev) is h.EndOfMessage:
                conn.start_next_cycle()
        assert bodies == [b"abcd", b"efgh"]
        assert conn.their_state is h.SEND_BODY
        conn.receive_data(b"X\r\n0\r\n\r\n")  # chunk data not followed by CRLF
        with pytest.raises(h.RemoteProtocolError):
            for _ in range(3):
                conn.next_body() if lowlevel else conn.next_event()


def test_same_as_event_path_on_mutated_bodies() -> None:
    # Seeded random mutations of chunked and Content-Length messages (bytes replaced,
    # inserted or deleted near the framing), cut at random points, both roles.
    rng = random.Random(20261123)
    alphabet = b"0123456789abcdefABCDEF;=\r\n \t\x00xX"
    seeds = [(h.CLIENT, m) for m in RESPONSES[:12]] + [(h.SERVER, m) for m in REQUESTS[:4]]
    for _ in range(3000):
        role, msg = rng.choice(seeds)
        data = bytearray(msg)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(data))
            op = rng.randrange(3)
            if op == 0:
                data[i] = rng.choice(alphabet)
            elif op == 1:
                data.insert(i, rng.choice(alphabet))
            elif len(data) > 1:
                del data[i]
        raw = bytes(data)
        cuts = sorted(rng.sample(range(1, len(raw)), k=min(3, len(raw) - 1)))
        pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
        eof = rng.random() < 0.5
        assert _drive(role, pieces, eof, lowlevel=True) == _drive(
            role, pieces, eof, lowlevel=False
        ), (raw, pieces, eof)
