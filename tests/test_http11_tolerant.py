"""The tolerant receive mode (issue 3, item 3): what it accepts, and what it never accepts.

On by default in the client role, off in the server role.  Each tolerance is in
docs/http11.md ("Tolerant receive mode"); none may touch framing (Content-Length,
Transfer-Encoding) or let NUL / bare CR through.
"""

from __future__ import annotations

import pytest

import httpwire.http11 as h11


def client_reads(data: bytes, tolerant: bool | None = None, method: bytes = b"GET") -> list[object]:
    kw = {} if tolerant is None else {"tolerant": tolerant}
    c = h11.Connection(h11.CLIENT, **kw)  # type: ignore[arg-type]
    c.send(h11.Request(method=method, target=b"/", headers=[(b"Host", b"h")]))
    c.send(h11.EndOfMessage())
    out: list[object] = []
    c.receive_data(data)
    while True:
        ev = c.next_event()
        out.append(ev)
        if ev is h11.NEED_DATA or ev is h11.PAUSED or type(ev) is h11.EndOfMessage:
            return out


def test_defaults_on_for_client_off_for_server() -> None:
    assert h11.Connection(h11.CLIENT).tolerant is True
    assert h11.Connection(h11.SERVER).tolerant is False
    assert h11.Connection(h11.CLIENT, tolerant=False).tolerant is False
    assert h11.Connection(h11.SERVER, tolerant=True).tolerant is True


# (received head, the headers the tolerant client reports)
TOLERATED = [
    # A field name that is not a token (seen in the wild: h11 #130, httpx #1363): dropped.
    (
        b"HTTP/1.1 200 OK\r\nget-ban-to-cache-result/forum.php: userdata not support\r\n"
        b"Content-Length: 2\r\n\r\nok",
        [(b"content-length", b"2")],
    ),
    # A line without a colon: dropped.
    (
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\nthis is not a field\r\nContent-Length: 2\r\n\r\nok",
        [(b"x-a", b"1"), (b"content-length", b"2")],
    ),
    # Whitespace between name and colon: removed (RFC 9112 §5.1, as a proxy must).
    (
        b"HTTP/1.1 200 OK\r\nServer : x\r\nX-B\t: y\r\nContent-Length: 2\r\n\r\nok",
        [(b"server", b"x"), (b"x-b", b"y"), (b"content-length", b"2")],
    ),
    # Together with the always-on relaxations (bare LF, obs-fold).
    (
        b"HTTP/1.1 200 OK\nBad Name: 1\nX-C: a\n b\nContent-Length: 2\n\nok",
        [(b"x-c", b"a b"), (b"content-length", b"2")],
    ),
    # An empty field name.
    (b"HTTP/1.1 200 OK\r\n: v\r\nContent-Length: 2\r\n\r\nok", [(b"content-length", b"2")]),
]


@pytest.mark.parametrize(("data", "headers"), TOLERATED)
def test_tolerated_in_client_role_and_refused_when_off(
    data: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    resp, body, _eom = client_reads(data)
    assert type(resp) is h11.Response and resp.status_code == 200
    assert list(resp.headers) == headers
    assert type(body) is h11.Data and body.data == b"ok"
    with pytest.raises(h11.RemoteProtocolError, match="illegal header line"):
        client_reads(data, tolerant=False)


def test_tolerance_applies_to_informational_responses_and_byte_by_byte() -> None:
    data = b"HTTP/1.1 100 Continue\r\nJunk Line\r\n\r\nHTTP/1.1 204 No\r\nA B: c\r\n\r\n"
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="GET", target="/", headers=[("Host", "h")]))
    c.send(h11.EndOfMessage())
    events = []
    for i in range(len(data)):
        c.receive_data(data[i : i + 1])
        while (ev := c.next_event()) is not h11.NEED_DATA:
            events.append(ev)
            if type(ev) is h11.EndOfMessage:
                break
    assert [type(e) for e in events] == [h11.InformationalResponse, h11.Response, h11.EndOfMessage]
    assert [list(e.headers) for e in events[:2]] == [[], []]  # type: ignore[attr-defined]


NEVER = [
    # Framing fields are never repaired or dropped (response splitting, RFC 9112 §6.3).
    b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX transfer-encoding: chunked\r\n\r\n",
    # NUL and bare CR anywhere in a field line (RFC 9110 §5.5).
    b"HTTP/1.1 200 OK\r\nBad Name: \x00\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad\rName: x\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",
    # Framing conflicts are not field-syntax problems: never tolerated.
    b"HTTP/1.1 200 OK\r\nBad Line\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Line\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Line\r\nContent-Length: +2\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Line\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    # Nor a bad status line, nor an obs-fold before the first field.
    b"HTTP/1.1 2000 OK\r\nBad Line\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n folded\r\nBad Line\r\n\r\n",
]


@pytest.mark.parametrize("data", NEVER)
def test_never_tolerated(data: bytes) -> None:
    for tolerant in (True, False):
        with pytest.raises(h11.RemoteProtocolError):
            client_reads(data, tolerant=tolerant)


def test_dropped_non_framing_line_with_space() -> None:
    # "Content Length" is not a field name anyone parses as Content-Length (it has a space,
    # so llhttp, h11 and browsers all refuse or ignore it): dropping it leaves the response
    # read until close, as every tolerant reader would.
    resp, *_ = client_reads(b"HTTP/1.1 200 OK\r\nContent Length: 5\r\n\r\nhello")
    assert type(resp) is h11.Response and list(resp.headers) == []


def test_server_role_refuses_by_default_and_keeps_framing_rules_when_on() -> None:
    bad = b"GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n"
    s = h11.Connection(h11.SERVER)
    s.receive_data(bad)
    with pytest.raises(h11.RemoteProtocolError) as info:
        s.next_event()
    assert info.value.error_status_hint == 400
    s = h11.Connection(h11.SERVER, tolerant=True)
    s.receive_data(bad)
    req = s.next_event()
    assert type(req) is h11.Request and list(req.headers) == [(b"host", b"h")]
    # Even when on, a smuggling-shaped request is refused (RFC 9112 §5.1, §6.1).
    for data in (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length : 3\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        b"POST / HTTP/1.1\r\nBad Line\r\n\r\n",  # still no Host (RFC 9112 §3.2)
    ):
        s = h11.Connection(h11.SERVER, tolerant=True)
        s.receive_data(data)
        with pytest.raises(h11.RemoteProtocolError):
            s.next_event()


def test_always_on_relaxations_in_both_roles() -> None:
    # Accepted in every mode (h11 accepts them too): status codes 600-999, no reason phrase,
    # empty field values, identical repeated Content-Length values.
    resp, body, _ = client_reads(
        b"HTTP/1.1 600\r\nServer:\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        tolerant=False,
    )
    assert type(resp) is h11.Response
    assert (resp.status_code, resp.reason) == (600, b"")
    assert list(resp.headers) == [(b"server", b""), (b"content-length", b"2")]
    assert type(body) is h11.Data and body.data == b"ok"
