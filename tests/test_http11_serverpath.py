"""The lower-level server path, ``Connection.next_request()`` and ``send_response()``.

Differential: the same request streams (valid and invalid, one request or several pipelined),
cut at every split point, are served on two fresh connections, once with the event path
(``next_event`` for the request and its body, ``send(Response)``, ``send(Data)``,
``send(EndOfMessage)``, ``start_next_cycle`` when both states are DONE) and once with
``next_request()`` + ``send_response()``; the traces (requests, body bytes, states after each
step, bytes written, error type, message and status hint) must be identical.
"""

from __future__ import annotations

from typing import Any

import pytest

import httpwire.http11 as h

REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n",
    b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
    b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
    # invalid
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/2.0\r\nHost: a\r\n\r\n",
    # the same field section again, with a request line a cached section must not excuse
    b"GET /a HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\nGET /a\nb HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
    b"GET /a HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\nG\rT /a HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
]

# (status_code, headers, body, reason)
RESPONSES: list[tuple[Any, Any, Any, Any]] = [
    (200, [(b"Content-Type", b"text/plain"), (b"Content-Length", b"0")], b"", b""),
    (200, [(b"Content-Length", b"5")], b"hello", b"OK"),
    (200, [("Content-Length", "2")], bytearray(b"hi"), "OK"),
    (200, [(b"Content-Type", b"text/plain")], b"no length", b""),
    (200, [], b"", b""),
    (204, [], b"", b""),
    (304, [(b"ETag", b'"x"')], b"", b""),
    (201, [(b"Connection", b"close"), (b"Content-Length", b"1")], b"x", b"Created"),
    (200, [(b"Content-Length", b"5")], b"abc", b""),  # too little body
    (200, [(b"Content-Length", b"1")], b"abc", b""),  # too much body
    (200, [(b"Transfer-Encoding", b"chunked")], b"abc", b""),
    (200, [(b"Content-Length", b"0")], b"x", b""),
    (100, [], b"", b""),  # not a final response
    (1000, [], b"", b""),
    (200, [(b"Bad Name", b"x")], b"", b""),
    (200, [(b"X", b"a\r\nb")], b"", b""),
    (200, [(b"Content-Length", b"3")], b"abc", b"O\r\nK"),
]


def _err(exc: h.ProtocolError) -> tuple[Any, ...]:
    return ("error", type(exc).__name__, str(exc), exc.error_status_hint)


def _serve(pieces: list[bytes], response: tuple[Any, Any, Any, Any], low: bool) -> list[Any]:
    """Serve the request stream fed as ``pieces``; the trace of what happened."""
    status, headers, body, reason = response
    conn = h.Connection(h.SERVER)
    trace: list[Any] = []
    phase = "head"
    for piece in pieces:
        conn.receive_data(piece)
        while True:
            try:
                if phase == "head":
                    ev = conn.next_request() if low else conn.next_event()
                    if type(ev) is not h.Request:
                        trace.append(("event", repr(ev), conn.states))
                        break
                    trace.append(("request", ev))  # (states compared once the body is read)
                    phase = "body"
                elif phase == "body":
                    if conn.their_state is h.SEND_BODY:
                        ev = conn.next_event()
                        if ev is h.NEED_DATA:
                            break
                        if type(ev) is h.Data:
                            trace.append(("data", bytes(ev.data)))
                        continue
                    trace.append(("request done", conn.states))
                    if low:
                        out = conn.send_response(status, headers, body, reason=reason)
                    else:
                        event = h.Response(status_code=status, headers=headers, reason=reason)
                        out = conn.send(event)
                        if body:
                            out += conn.send(h.Data(data=body))
                        out += conn.send(h.EndOfMessage())
                        if conn.our_state is h.DONE and conn.their_state is h.DONE:
                            conn.start_next_cycle()
                    trace.append(("sent", out, conn.states))
                    if conn.our_state is not h.IDLE:
                        return trace
                    phase = "head"
            except h.ProtocolError as exc:
                trace.append(_err(exc) + (conn.states,))
                return trace
    return trace


@pytest.mark.parametrize("response", RESPONSES, ids=lambda r: f"{r[0]}-{len(r[1])}-{len(r[2])}")
@pytest.mark.parametrize("stream", REQUESTS)
def test_server_path_matches_event_path_at_every_split(stream: bytes, response: Any) -> None:
    whole_event = _serve([stream], response, low=False)
    whole_low = _serve([stream], response, low=True)
    assert whole_low == whole_event
    for i in range(1, len(stream)):
        pieces = [stream[:i], stream[i:]]
        assert _serve(pieces, response, low=True) == _serve(pieces, response, low=False), i
    bytewise = [stream[i : i + 1] for i in range(len(stream))]
    assert _serve(bytewise, response, low=True) == _serve(bytewise, response, low=False)


def test_send_response_keep_alive_starts_next_cycle() -> None:
    conn = h.Connection(h.SERVER)
    conn.receive_data(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    req = conn.next_request()
    assert type(req) is h.Request and req.target == b"/a"
    assert conn.states == {h.CLIENT: h.DONE, h.SERVER: h.SEND_RESPONSE}
    out = conn.send_response(200, [(b"Content-Length", b"2")], b"ok")
    assert out == b"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok"
    assert conn.states == {h.CLIENT: h.IDLE, h.SERVER: h.IDLE}
    req = conn.next_request()
    assert type(req) is h.Request and req.target == b"/b"
    out = conn.send_response(404, [(b"Content-Length", b"0")], reason=b"Not Found")
    assert out == b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    assert conn.next_request() is h.NEED_DATA


def test_next_request_leaves_a_body_to_read() -> None:
    conn = h.Connection(h.SERVER)
    conn.receive_data(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    req = conn.next_request()
    assert type(req) is h.Request and conn.their_state is h.SEND_BODY
    # Answering before the body is read: our side is DONE, no new cycle yet.
    conn.send_response(200, [(b"Content-Length", b"0")])
    assert conn.states == {h.CLIENT: h.SEND_BODY, h.SERVER: h.DONE}
    assert conn.next_body() == b"abc"
    assert type(conn.next_body()) is h.EndOfMessage
    conn.start_next_cycle()
    assert conn.states == {h.CLIENT: h.IDLE, h.SERVER: h.IDLE}


def test_send_response_errors() -> None:
    conn = h.Connection(h.SERVER)
    conn.receive_data(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
    conn.next_request()
    conn.send_response(200, [(b"Content-Length", b"0")])
    with pytest.raises(h.LocalProtocolError):
        conn.send_response(200, [(b"Content-Length", b"0")])  # a second response
    assert conn.our_state is h.ERROR
    conn = h.Connection(h.SERVER)
    conn.receive_data(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    conn.next_request()
    with pytest.raises(h.LocalProtocolError):
        conn.send_response(200, [(b"Content-Length", b"3")], b"abc")  # no body after HEAD
    assert conn.our_state is h.ERROR
    conn = h.Connection(h.SERVER)
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    conn.next_request()
    with pytest.raises(h.LocalProtocolError):
        conn.send_response(200, [(b"X", b"a\nb")])  # argument error: nothing changes
    assert conn.states == {h.CLIENT: h.DONE, h.SERVER: h.SEND_RESPONSE}
    client = h.Connection(h.CLIENT)
    with pytest.raises(h.LocalProtocolError):
        client.send_response(200, [(b"Content-Length", b"0")])
    assert client.our_state is h.ERROR


def test_cached_field_section_still_checks_request_line() -> None:
    section = b"Host: a\r\nAccept: text/x-section-test\r\n\r\n"
    conn = h.Connection(h.SERVER)
    conn.receive_data(b"GET /ok HTTP/1.1\r\n" + section)
    assert conn.next_request().target == b"/ok"
    conn.send_response(200, [(b"Content-Length", b"0")])
    for bad in (b"GET /a\x00 HTTP/1.1\r\n", b"G T / HTTP/1.1\r\n", b"GET / HTTP/1.2.\r\n"):
        c = h.Connection(h.SERVER)
        c.receive_data(bad + section)
        with pytest.raises(h.RemoteProtocolError):
            c.next_request()
        assert c.their_state is h.ERROR


def test_cached_field_section_without_host_refused_in_http11() -> None:
    # A section without Host is valid (and cached) after an HTTP/1.0 request line; after an
    # HTTP/1.1 one it must still be refused (RFC 9112 §3.2).
    section = b"Accept: text/x-no-host-test\r\n\r\n"
    c = h.Connection(h.SERVER)
    c.receive_data(b"GET / HTTP/1.0\r\n" + section)
    assert type(c.next_request()) is h.Request
    c = h.Connection(h.SERVER)
    c.receive_data(b"GET / HTTP/1.1\r\n" + section)
    with pytest.raises(h.RemoteProtocolError, match="Host"):
        c.next_request()
