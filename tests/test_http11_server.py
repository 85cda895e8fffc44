"""httpwire.http11 in the SERVER role (same state machine, mirrored)."""

from __future__ import annotations

import pytest

import httpwire.http11 as h11


def serve(data: bytes) -> tuple[h11.Connection, list[object]]:
    s = h11.Connection(h11.SERVER)
    s.receive_data(data)
    out: list[object] = []
    while True:
        ev = s.next_event()
        out.append(ev)
        if ev is h11.NEED_DATA or ev is h11.PAUSED or type(ev) is h11.ConnectionClosed:
            return s, out


def test_get_then_response_with_content_length() -> None:
    s, evs = serve(b"GET /x?y HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n\r\n")
    req = evs[0]
    assert type(req) is h11.Request
    assert (req.method, req.target, req.http_version) == (b"GET", b"/x?y", b"1.1")
    assert req.headers.raw_items() == [(b"Host", b"h"), (b"User-Agent", b"t")]
    assert type(evs[1]) is h11.EndOfMessage
    out = s.send(h11.Response(status_code=200, reason=b"OK", headers=[("Content-Length", "2")]))
    assert out == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    assert s.send(h11.Data(data=b"hi")) == b"hi"
    assert s.send(h11.EndOfMessage()) == b""
    s.start_next_cycle()
    assert s.states == {h11.CLIENT: h11.IDLE, h11.SERVER: h11.IDLE}


def test_response_without_length_is_chunked_for_http11() -> None:
    s, _ = serve(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert s.send(h11.Response(status_code=200, headers=[])) == (
        b"HTTP/1.1 200 \r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    assert s.send(h11.Data(data=b"abc")) == b"3\r\nabc\r\n"
    assert s.send(h11.EndOfMessage()) == b"0\r\n\r\n"


def test_response_to_http10_closes() -> None:
    s, evs = serve(b"GET / HTTP/1.0\r\n\r\n")
    assert evs[0].http_version == b"1.0"  # type: ignore[attr-defined]
    out = s.send(h11.Response(status_code=200, headers=[]))
    assert out == b"HTTP/1.1 200 \r\nConnection: close\r\n\r\n"
    assert s.send(h11.Data(data=b"body")) == b"body"
    s.send(h11.EndOfMessage())
    assert s.our_state is h11.MUST_CLOSE


def test_request_bodies_content_length_and_chunked() -> None:
    s, evs = serve(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
    assert [type(e) for e in evs] == [h11.Request, h11.Data, h11.EndOfMessage, type(h11.NEED_DATA)]
    s, evs = serve(
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n"
    )
    assert evs[1].data == b"abc"  # type: ignore[attr-defined]
    assert evs[2].headers == [(b"t", b"1")]  # type: ignore[attr-defined]


def test_expect_100_continue_flow() -> None:
    s, evs = serve(
        b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    )
    assert s.they_are_waiting_for_100_continue
    assert (
        s.send(h11.InformationalResponse(status_code=100, headers=[])) == b"HTTP/1.1 100 \r\n\r\n"
    )
    assert not s.they_are_waiting_for_100_continue


def test_expect_ignored_for_http10() -> None:
    s, _ = serve(b"PUT / HTTP/1.0\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n")
    assert not s.they_are_waiting_for_100_continue


def test_head_response_keeps_get_headers_but_no_body() -> None:
    s, _ = serve(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")
    out = s.send(h11.Response(status_code=200, headers=[]))
    assert b"Transfer-Encoding: chunked" in out
    assert s.send(h11.EndOfMessage()) == b""


def test_upgrade_accepted_by_101() -> None:
    s, evs = serve(
        b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nrest"
    )
    assert s.their_state is h11.MIGHT_SWITCH_PROTOCOL
    assert evs[-1] is h11.PAUSED
    s.send(h11.InformationalResponse(status_code=101, headers=[("Upgrade", "websocket")]))
    assert s.states == {h11.CLIENT: h11.SWITCHED_PROTOCOL, h11.SERVER: h11.SWITCHED_PROTOCOL}
    assert s.trailing_data == (b"rest", False)


def test_101_without_proposal_is_refused() -> None:
    s, _ = serve(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    with pytest.raises(h11.LocalProtocolError):
        s.send(h11.InformationalResponse(status_code=101, headers=[]))


def test_connect_accepted() -> None:
    s, _ = serve(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n")
    s.send(h11.Response(status_code=200, headers=[]))
    assert s.our_state is h11.SWITCHED_PROTOCOL


def test_leading_empty_lines_before_request_are_ignored() -> None:
    _, evs = serve(b"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert type(evs[0]) is h11.Request


def test_pipelined_requests() -> None:
    s, evs = serve(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
    assert evs[-1] is h11.PAUSED
    s.send(h11.Response(status_code=200, headers=[("Content-Length", "0")]))
    s.send(h11.EndOfMessage())
    s.start_next_cycle()
    r = s.next_event()
    assert type(r) is h11.Request and r.target == b"/2"


def test_missing_host_and_double_host() -> None:
    with pytest.raises(h11.RemoteProtocolError):
        serve(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(h11.RemoteProtocolError):
        serve(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")


def test_tls_handshake_fails_fast() -> None:
    s = h11.Connection(h11.SERVER)
    s.receive_data(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    with pytest.raises(h11.RemoteProtocolError):
        s.next_event()


def test_unsupported_http_version_gets_505_hint() -> None:
    with pytest.raises(h11.RemoteProtocolError) as exc:
        serve(b"GET / HTTP/2.0\r\nHost: h\r\n\r\n")
    assert exc.value.error_status_hint == 505


def test_error_response_before_request_read() -> None:
    s = h11.Connection(h11.SERVER)
    s.receive_data(b"GARBAGE\r\n\r\n")
    with pytest.raises(h11.RemoteProtocolError):
        s.next_event()
    out = s.send(h11.Response(status_code=400, headers=[("Content-Length", "0")]))
    assert out == b"HTTP/1.1 400 \r\nContent-Length: 0\r\n\r\n"  # as h11
    assert s.their_state is h11.ERROR
    s.send(h11.EndOfMessage())
    assert s.our_state is h11.MUST_CLOSE


def test_client_close_after_done() -> None:
    s, _ = serve(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    s.send(h11.Response(status_code=200, headers=[("Content-Length", "0")]))
    s.send(h11.EndOfMessage())
    s.start_next_cycle()
    s.receive_data(b"")
    assert type(s.next_event()) is h11.ConnectionClosed
    assert s.our_state is h11.MUST_CLOSE
