"""httpwire.http11 in the CLIENT role: the cycle the connection layer drives, and its edges."""

from __future__ import annotations

from typing import Any

import pytest

import httpwire.http11 as h11
from httpwire._exceptions import LocalProtocolError as HWLocal
from httpwire._exceptions import RemoteProtocolError as HWRemote

GET = dict(method=b"GET", target=b"/", headers=[(b"Host", b"example.com")])


def events(conn: h11.Connection) -> list[object]:
    out: list[object] = []
    while True:
        ev = conn.next_event()
        out.append(ev)
        if ev is h11.NEED_DATA or ev is h11.PAUSED or type(ev) is h11.ConnectionClosed:
            return out


def body_of(evs: list[object]) -> bytes:
    return b"".join(bytes(e.data) for e in evs if type(e) is h11.Data)


def client_after_get(**req: object) -> h11.Connection:
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(**{**GET, **req}))  # type: ignore[arg-type]
    c.send(h11.EndOfMessage())
    return c


def test_exports_are_httpwire_exceptions() -> None:
    assert h11.LocalProtocolError is HWLocal
    assert h11.RemoteProtocolError is HWRemote
    assert issubclass(h11.LocalProtocolError, h11.ProtocolError)


def test_sentinel_reprs_and_types() -> None:
    for s in (h11.CLIENT, h11.SERVER, h11.IDLE, h11.SEND_BODY, h11.DONE, h11.NEED_DATA, h11.PAUSED):
        assert type(s) is s
    assert repr(h11.NEED_DATA) == "NEED_DATA"
    assert repr(h11.MIGHT_SWITCH_PROTOCOL) == "MIGHT_SWITCH_PROTOCOL"


def test_full_client_cycle_with_keepalive() -> None:
    c = h11.Connection(h11.CLIENT)
    data = c.send(
        h11.Request(
            method="GET", target="/p?q=1", headers=[("Host", "a.example"), ("Accept", "*/*")]
        )
    )
    assert data == b"GET /p?q=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n"
    assert c.send(h11.EndOfMessage()) == b""
    assert c.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.SEND_RESPONSE}
    c.receive_data(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
    resp = c.next_event()
    assert type(resp) is h11.Response
    assert resp.status_code == 200 and resp.reason == b"OK" and resp.http_version == b"1.1"
    assert resp.headers == [(b"content-type", b"text/plain"), (b"content-length", b"5")]
    assert resp.headers.raw_items() == [(b"Content-Type", b"text/plain"), (b"Content-Length", b"5")]
    data_ev = c.next_event()
    assert type(data_ev) is h11.Data and data_ev.data == b"hello" and type(data_ev.data) is bytes
    assert type(c.next_event()) is h11.EndOfMessage
    assert c.next_event() is h11.NEED_DATA
    assert c.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}
    c.start_next_cycle()
    assert c.states == {h11.CLIENT: h11.IDLE, h11.SERVER: h11.IDLE}
    assert c.their_http_version == b"1.1"


def test_host_header_is_written_first() -> None:
    c = h11.Connection(h11.CLIENT)
    out = c.send(h11.Request(method="GET", target="/", headers=[("Accept", "x"), ("Host", "h")]))
    assert out == b"GET / HTTP/1.1\r\nHost: h\r\nAccept: x\r\n\r\n"


def test_request_body_content_length_and_overrun() -> None:
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="POST", target="/", headers=[("Host", "h"), ("Content-Length", "5")]))
    assert c.send(h11.Data(data=b"hel")) == b"hel"
    with pytest.raises(h11.LocalProtocolError, match="Too much data"):
        c.send(h11.Data(data=b"lo!"))
    assert c.our_state is h11.ERROR


def test_request_body_too_short_is_refused() -> None:
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="POST", target="/", headers=[("Host", "h"), ("Content-Length", "5")]))
    c.send(h11.Data(data=b"hel"))
    with pytest.raises(h11.LocalProtocolError, match="Too little data"):
        c.send(h11.EndOfMessage())


def test_request_body_chunked_with_trailers() -> None:
    c = h11.Connection(h11.CLIENT)
    c.send(
        h11.Request(
            method="POST", target="/", headers=[("Host", "h"), ("Transfer-Encoding", "chunked")]
        )
    )
    assert c.send(h11.Data(data=b"hello")) == b"5\r\nhello\r\n"
    assert c.send(h11.Data(data=b"")) == b""
    assert c.send(h11.EndOfMessage(headers=[("X-Sum", "1")])) == b"0\r\nX-Sum: 1\r\n\r\n"


def test_send_with_data_passthrough_keeps_object() -> None:
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="POST", target="/", headers=[("Host", "h"), ("Content-Length", "3")]))
    payload: Any = bytearray(b"abc")  # any object with len() passes through
    parts = c.send_with_data_passthrough(h11.Data(data=payload))
    assert parts is not None and any(p is payload for p in parts)


def test_response_body_in_many_pieces_and_slices_are_bytes() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 200 OK\r\nContent-Len")
    assert c.next_event() is h11.NEED_DATA
    c.receive_data(b"gth: 10\r\n\r\n0123")
    assert type(c.next_event()) is h11.Response
    d = c.next_event()
    assert d.data == b"0123"
    c.receive_data(bytearray(b"456789EXTRA"))
    d = c.next_event()
    assert d.data == b"456789" and type(d.data) is bytes
    assert type(c.next_event()) is h11.EndOfMessage
    assert c.next_event() is h11.PAUSED
    assert c.trailing_data == (b"EXTRA", False)


def test_chunked_response_with_extensions_and_trailers() -> None:
    c = client_after_get()
    c.receive_data(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    evs = events(c)
    assert body_of(evs) == b"hello world"
    eom = evs[-2]
    assert type(eom) is h11.EndOfMessage and eom.headers == [(b"x-trailer", b"yes")]
    datas = [e for e in evs if type(e) is h11.Data]
    assert [(d.chunk_start, d.chunk_end) for d in datas] == [(True, True), (True, True)]


def test_chunk_flags_survive_a_split_after_the_chunk_line() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n")
    assert type(c.next_event()) is h11.Response
    assert c.next_event() is h11.NEED_DATA
    c.receive_data(b"ab")
    d1 = c.next_event()
    c.receive_data(b"cd\r\n0\r\n\r\n")
    d2 = c.next_event()
    assert (d1.chunk_start, d1.chunk_end, d2.chunk_start, d2.chunk_end) == (
        True,
        False,
        False,
        True,
    )
    assert type(c.next_event()) is h11.EndOfMessage


def test_read_until_close_body() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 200 OK\r\n\r\nsome")
    c.receive_data(b" body")
    evs = events(c)
    assert body_of(evs) == b"some body" and evs[-1] is h11.NEED_DATA
    c.receive_data(b"")
    assert type(c.next_event()) is h11.EndOfMessage
    assert type(c.next_event()) is h11.ConnectionClosed
    assert c.their_state is h11.CLOSED and c.our_state is h11.MUST_CLOSE


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n" % status)
    evs = events(c)
    assert [type(e) for e in evs[:2]] == [h11.Response, h11.EndOfMessage]


def test_head_response_has_no_body() -> None:
    c = client_after_get(method=b"HEAD")
    c.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    evs = events(c)
    assert [type(e) for e in evs[:2]] == [h11.Response, h11.EndOfMessage]
    c.start_next_cycle()


def test_informational_responses_then_final() -> None:
    c = h11.Connection(h11.CLIENT)
    c.send(
        h11.Request(
            method="POST",
            target="/",
            headers=[("Host", "h"), ("Content-Length", "1"), ("Expect", "100-continue")],
        )
    )
    assert c.client_is_waiting_for_100_continue
    c.receive_data(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
    e1, e2 = c.next_event(), c.next_event()
    assert type(e1) is h11.InformationalResponse and e1.status_code == 100
    assert type(e2) is h11.InformationalResponse and e2.headers == [(b"link", b"</a>")]
    assert not c.client_is_waiting_for_100_continue


def test_connection_close_makes_must_close() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    events(c)
    assert c.states == {h11.CLIENT: h11.MUST_CLOSE, h11.SERVER: h11.MUST_CLOSE}
    with pytest.raises(h11.LocalProtocolError):
        c.start_next_cycle()


def test_http10_response_disables_keepalive() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    evs = events(c)
    assert evs[0].http_version == b"1.0"  # type: ignore[attr-defined]
    assert c.our_state is h11.MUST_CLOSE
    assert c.their_http_version == b"1.0"


def test_request_connection_close_disables_keepalive() -> None:
    c = client_after_get(headers=[(b"Host", b"h"), (b"Connection", b"close")])
    assert c.our_state is h11.MUST_CLOSE


def test_upgrade_101_switches_protocol() -> None:
    c = client_after_get(
        headers=[(b"Host", b"h"), (b"Connection", b"upgrade"), (b"Upgrade", b"websocket")]
    )
    assert c.our_state is h11.MIGHT_SWITCH_PROTOCOL
    c.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello")
    ev = c.next_event()
    assert type(ev) is h11.InformationalResponse and ev.status_code == 101
    assert c.states == {h11.CLIENT: h11.SWITCHED_PROTOCOL, h11.SERVER: h11.SWITCHED_PROTOCOL}
    assert c.next_event() is h11.PAUSED
    assert c.trailing_data == (b"\x81\x05hello", False)


def test_upgrade_refused_goes_back_to_done() -> None:
    c = client_after_get(headers=[(b"Host", b"h"), (b"Upgrade", b"h2c")])
    c.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    events(c)
    assert c.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}


def test_connect_2xx_switches_without_body() -> None:
    c = client_after_get(method=b"CONNECT", target=b"example.com:443")
    assert c.our_state is h11.MIGHT_SWITCH_PROTOCOL
    c.receive_data(b"HTTP/1.1 200 Connection established\r\nContent-Length: 99\r\n\r\n\x16\x03")
    assert type(c.next_event()) is h11.Response
    assert c.states == {h11.CLIENT: h11.SWITCHED_PROTOCOL, h11.SERVER: h11.SWITCHED_PROTOCOL}
    assert c.trailing_data == (b"\x16\x03", False)


def test_connect_refused_reads_body() -> None:
    c = client_after_get(method=b"CONNECT", target=b"example.com:443")
    c.receive_data(b"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 2\r\n\r\nno")
    evs = events(c)
    assert body_of(evs) == b"no"
    assert c.states == {h11.CLIENT: h11.DONE, h11.SERVER: h11.DONE}


def test_eof_in_the_middle_of_a_body() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    events(c)
    c.receive_data(b"")
    with pytest.raises(h11.RemoteProtocolError, match="received 3 bytes, expected 10"):
        c.next_event()
    assert c.their_state is h11.ERROR
    with pytest.raises(h11.RemoteProtocolError):
        c.next_event()


def test_eof_in_the_middle_of_a_head() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 200 OK\r\n")
    assert c.next_event() is h11.NEED_DATA
    c.receive_data(b"")
    with pytest.raises(h11.RemoteProtocolError, match="unexpectedly closed"):
        c.next_event()


def test_eof_before_any_response() -> None:
    c = client_after_get()
    c.receive_data(b"")
    with pytest.raises(h11.RemoteProtocolError):
        c.next_event()


def test_data_after_eof_is_a_runtime_error() -> None:
    c = h11.Connection(h11.CLIENT)
    c.receive_data(b"")
    c.receive_data(b"")
    with pytest.raises(RuntimeError):
        c.receive_data(b"x")


def test_closed_idle_connection_reports_connection_closed() -> None:
    c = h11.Connection(h11.CLIENT)
    c.receive_data(b"")
    assert type(c.next_event()) is h11.ConnectionClosed
    assert c.their_state is h11.CLOSED and c.our_state is h11.MUST_CLOSE


def test_send_in_wrong_state_is_local_error() -> None:
    c = h11.Connection(h11.CLIENT)
    with pytest.raises(h11.LocalProtocolError):
        c.send(h11.Data(data=b"x"))
    assert c.our_state is h11.ERROR
    with pytest.raises(h11.LocalProtocolError):
        c.send(h11.Request(**GET))  # type: ignore[arg-type]


def test_send_failed_sets_error() -> None:
    c = h11.Connection(h11.CLIENT)
    c.send_failed()
    assert c.our_state is h11.ERROR


def test_send_connection_closed_returns_none() -> None:
    c = h11.Connection(h11.CLIENT)
    assert c.send(h11.ConnectionClosed()) is None
    assert c.our_state is h11.CLOSED


def test_data_after_done_is_paused_then_after_cycle_parsed() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 204 No\r\n\r\n")
    evs = events(c)
    assert evs[-1] is h11.PAUSED
    c.start_next_cycle()
    c.send(h11.Request(**GET))  # type: ignore[arg-type]
    c.send(h11.EndOfMessage())
    r = c.next_event()
    assert type(r) is h11.Response and r.status_code == 204


def test_bare_lf_heads_and_obs_fold_are_accepted() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 200 OK\nX-A: 1\n  folded\nContent-Length: 2\n\nok")
    evs = events(c)
    assert evs[0].headers == [(b"x-a", b"1 folded"), (b"content-length", b"2")]  # type: ignore[attr-defined]
    assert body_of(evs) == b"ok"


def test_missing_reason_phrase_and_big_status() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 299\r\nContent-Length: 0\r\n\r\n")
    r = c.next_event()
    assert r.status_code == 299 and r.reason == b""
    c2 = client_after_get()
    c2.receive_data(b"HTTP/1.1 799 Custom\r\nContent-Length: 0\r\n\r\n")
    assert c2.next_event().status_code == 799


def test_empty_header_value_is_accepted() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Sp:   \r\nContent-Length: 0\r\n\r\n")
    r = c.next_event()
    assert r.headers == [(b"x-empty", b""), (b"x-sp", b""), (b"content-length", b"0")]


def test_duplicate_equal_content_length_is_merged() -> None:
    c = client_after_get()
    c.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc")
    evs = events(c)
    assert evs[0].headers == [(b"content-length", b"3")]  # type: ignore[attr-defined]
    assert body_of(evs) == b"abc"


def test_events_are_frozen_and_compare_by_value() -> None:
    a = h11.Request(**GET)  # type: ignore[arg-type]
    b = h11.Request(method="GET", target="/", headers=[("Host", "example.com")])
    assert a == b
    with pytest.raises(AttributeError):
        a.method = b"POST"
    assert h11.Data(data=b"x") != h11.Data(data=b"y")
    assert h11.EndOfMessage() == h11.EndOfMessage(headers=[])
    assert repr(h11.Data(data=b"x")) == "Data(data=b'x', chunk_start=False, chunk_end=False)"
    r = h11.Response(status_code=200, headers=[], reason="OK")
    assert repr(r) == (
        "Response(headers=<Headers([])>, http_version=b'1.1', reason=b'OK', status_code=200)"
    )


def test_event_validation_like_h11() -> None:
    with pytest.raises(h11.LocalProtocolError):
        h11.Request(method="GET", target="/", headers=[])  # no Host
    with pytest.raises(h11.LocalProtocolError):
        h11.Request(method="GET", target="/", headers=[("Host", "a"), ("Host", "b")])
    h11.Request(method="GET", target="/", headers=[], http_version="1.0")
    with pytest.raises(h11.LocalProtocolError):
        h11.Request(method="G T", target="/", headers=[("Host", "a")])
    with pytest.raises(h11.LocalProtocolError):
        h11.Request(method="GET", target="/a b", headers=[("Host", "a")])
    with pytest.raises(h11.LocalProtocolError):
        h11.Response(status_code=100, headers=[])
    with pytest.raises(h11.LocalProtocolError):
        h11.InformationalResponse(status_code=200, headers=[])
    with pytest.raises(h11.LocalProtocolError):
        h11.Response(status_code="200", headers=[])  # type: ignore[arg-type]
    with pytest.raises(UnicodeEncodeError):
        h11.Request(method="GET", target="/é", headers=[("Host", "a")])


def test_head_size_limit_in_one_piece_and_in_many() -> None:
    big = b"HTTP/1.1 200 OK\r\n" + b"X-Big: " + b"a" * 2000 + b"\r\n\r\n"
    c = h11.Connection(h11.CLIENT, max_incomplete_event_size=1000)
    c.send(h11.Request(**GET))  # type: ignore[arg-type]
    c.send(h11.EndOfMessage())
    c.receive_data(big)
    with pytest.raises(h11.RemoteProtocolError) as exc:
        c.next_event()
    assert exc.value.error_status_hint == 431

    c = h11.Connection(h11.CLIENT, max_incomplete_event_size=1000)
    c.send(h11.Request(**GET))  # type: ignore[arg-type]
    c.send(h11.EndOfMessage())
    with pytest.raises(h11.RemoteProtocolError) as exc:
        for i in range(0, len(big), 100):
            c.receive_data(big[i : i + 100])
            c.next_event()
    assert exc.value.error_status_hint == 431


def test_invalid_role() -> None:
    with pytest.raises(ValueError):
        h11.Connection(h11.IDLE)
