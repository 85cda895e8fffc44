"""Strictness where RFC 9112 / RFC 9110 say MUST: one test per rule, named by its clause."""

from __future__ import annotations

import pytest

import httpwire.http11 as h11


def client_reading(data: bytes, method: bytes = b"GET") -> list[object]:
    # The strict mode: the client role's default tolerant mode is tested in test_http11_tolerant.
    c = h11.Connection(h11.CLIENT, tolerant=False)
    c.send(h11.Request(method=method, target=b"/", headers=[(b"Host", b"h")]))
    c.send(h11.EndOfMessage())
    c.receive_data(data)
    out: list[object] = []
    while True:
        ev = c.next_event()
        out.append(ev)
        if ev is h11.NEED_DATA or ev is h11.PAUSED or type(ev) is h11.EndOfMessage:
            return out


def server_reading(data: bytes) -> list[object]:
    s = h11.Connection(h11.SERVER)
    s.receive_data(data)
    out: list[object] = []
    while True:
        ev = s.next_event()
        out.append(ev)
        if ev is h11.NEED_DATA or ev is h11.PAUSED or type(ev) is h11.EndOfMessage:
            return out


OK = b"HTTP/1.1 200 OK\r\n"


def test_rfc9112_6_1_transfer_encoding_with_content_length_is_rejected() -> None:
    with pytest.raises(h11.RemoteProtocolError, match="Transfer-Encoding and Content-Length"):
        client_reading(
            OK + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        )
    with pytest.raises(h11.RemoteProtocolError):
        server_reading(
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        )


def test_rfc9112_6_2_sender_must_not_send_content_length_with_transfer_encoding() -> None:
    c = h11.Connection(h11.CLIENT)
    req = h11.Request(
        method="POST",
        target="/",
        headers=[("Host", "h"), ("Content-Length", "3"), ("Transfer-Encoding", "chunked")],
    )
    with pytest.raises(h11.LocalProtocolError):
        c.send(req)
    assert c.our_state is h11.ERROR


def test_rfc9112_6_3_differing_content_lengths_are_rejected() -> None:
    with pytest.raises(h11.RemoteProtocolError, match="conflicting"):
        client_reading(OK + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
    with pytest.raises(h11.RemoteProtocolError, match="conflicting"):
        client_reading(OK + b"Content-Length: 3, 4\r\n\r\nabcd")


@pytest.mark.parametrize(
    "value", [b"-1", b"+3", b"3a", b"0x3", b"1_0", b"", b" ", b"1 2", b"9" * 21]
)
def test_rfc9112_6_3_malformed_content_length_is_rejected(value: bytes) -> None:
    with pytest.raises(h11.RemoteProtocolError):
        client_reading(OK + b"Content-Length: " + value + b"\r\n\r\nabc")


@pytest.mark.parametrize(
    "te",
    [b"gzip", b"gzip, chunked", b"chunked, gzip", b"identity", b"chunked, chunked", b"xchunked"],
)
def test_rfc9112_6_1_only_a_single_final_chunked_coding(te: bytes) -> None:
    with pytest.raises(h11.RemoteProtocolError) as exc:
        client_reading(OK + b"Transfer-Encoding: " + te + b"\r\n\r\n0\r\n\r\n")
    assert exc.value.error_status_hint == 501


def test_rfc9112_6_1_repeated_transfer_encoding_fields_are_rejected() -> None:
    with pytest.raises(h11.RemoteProtocolError):
        client_reading(
            OK + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        )


def test_rfc9112_6_1_transfer_encoding_in_http10_is_faulty_framing() -> None:
    with pytest.raises(h11.RemoteProtocolError, match="HTTP/1.0"):
        client_reading(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")


def test_rfc9112_5_1_whitespace_between_field_name_and_colon_is_rejected() -> None:
    with pytest.raises(h11.RemoteProtocolError, match="whitespace between field name and colon"):
        client_reading(OK + b"Content-Length : 3\r\n\r\nabc")
    with pytest.raises(h11.RemoteProtocolError):
        server_reading(b"GET / HTTP/1.1\r\nHost\t: h\r\n\r\n")


@pytest.mark.parametrize("name", [b"X(a)", b"X/a", b"X\x7fa", b"X\xe9", b'X"', b"X@a", b"X[a]"])
def test_rfc9110_5_1_field_name_must_be_a_token(name: bytes) -> None:
    with pytest.raises(h11.RemoteProtocolError, match="token"):
        client_reading(OK + name + b": v\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize("value", [b"a\x00b", b"a\rb"])
def test_rfc9110_5_5_nul_and_bare_cr_in_field_values_are_rejected(value: bytes) -> None:
    with pytest.raises(h11.RemoteProtocolError):
        client_reading(OK + b"X-A: " + value + b"\r\nContent-Length: 0\r\n\r\n")


def test_rfc9112_5_line_without_colon_is_rejected() -> None:
    with pytest.raises(h11.RemoteProtocolError, match="no colon"):
        client_reading(OK + b"NoColonHere\r\nContent-Length: 0\r\n\r\n")


def test_rfc9112_5_2_obs_fold_at_start_of_fields_is_rejected() -> None:
    with pytest.raises(h11.RemoteProtocolError, match="continuation"):
        client_reading(OK + b" folded: x\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize(
    "chunk_line",
    [
        b"x\r\n",
        b"\r\n",
        b" 5\r\n",
        b"-5\r\n",
        b"0x5\r\n",
        b"1_0\r\n",
        b"+5\r\n",
        b"1" * 17 + b"\r\n",
    ],
)
def test_rfc9112_7_1_bad_chunk_size_is_rejected(chunk_line: bytes) -> None:
    with pytest.raises(h11.RemoteProtocolError, match="chunk"):
        client_reading(
            OK + b"Transfer-Encoding: chunked\r\n\r\n" + chunk_line + b"hello\r\n0\r\n\r\n"
        )


def test_rfc9112_7_1_chunk_data_must_be_followed_by_crlf() -> None:
    with pytest.raises(h11.RemoteProtocolError, match="not followed by CRLF"):
        client_reading(OK + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n")
    with pytest.raises(h11.RemoteProtocolError, match="not followed by CRLF"):
        client_reading(OK + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n")


def test_rfc9112_7_1_chunk_line_needs_crlf_not_bare_lf() -> None:
    with pytest.raises(h11.RemoteProtocolError):
        client_reading(OK + b"Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n")


def test_rfc9112_7_1_1_chunk_extension_with_bare_lf_is_rejected() -> None:
    with pytest.raises(h11.RemoteProtocolError):
        client_reading(OK + b"Transfer-Encoding: chunked\r\n\r\n3;a=\nb\r\nabc\r\n0\r\n\r\n")


def test_rfc9112_4_status_line_must_be_http_1x_with_three_digits() -> None:
    for line in (
        b"HTTP/1.1 20 OK",
        b"HTTP/1.1 2000 OK",
        b"http/1.1 200 OK",
        b"HTTP/1.1  200 OK",
        b"ICY 200 OK",
    ):
        with pytest.raises(h11.RemoteProtocolError):
            client_reading(line + b"\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(h11.RemoteProtocolError) as exc:
        client_reading(b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert exc.value.error_status_hint == 505


def test_rfc9112_4_status_below_100_is_rejected() -> None:
    with pytest.raises(h11.RemoteProtocolError):
        client_reading(b"HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n")


def test_rfc9112_3_request_line_needs_single_spaces_and_token_method() -> None:
    for line in (
        b"GET  / HTTP/1.1",
        b"GET /a b HTTP/1.1",
        b"G(T / HTTP/1.1",
        b"GET / HTTP/1.1 extra",
    ):
        with pytest.raises(h11.RemoteProtocolError):
            server_reading(line + b"\r\nHost: h\r\n\r\n")


def test_rfc9112_3_2_request_needs_exactly_one_host() -> None:
    with pytest.raises(h11.RemoteProtocolError, match="Host"):
        server_reading(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(h11.RemoteProtocolError, match="multiple Host"):
        server_reading(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"X-A", b"a\r\nInjected: yes"),
        (b"X-A", b"a\nb"),
        (b"X-A", b"a\rb"),
        (b"X-A", b"a\x00b"),
        (b"X-A", b" leading"),
        (b"X-A", b"trailing "),
        (b"X A", b"v"),
        (b"X-A:", b"v"),
        (b"X-A\r\nInjected", b"v"),
        (b"", b"v"),
    ],
)
def test_rfc9110_5_5_no_header_injection_on_send(name: bytes, value: bytes) -> None:
    with pytest.raises(h11.LocalProtocolError):
        h11.Request(method="GET", target="/", headers=[("Host", "h"), (name, value)])


def test_rfc9112_3_2_no_target_injection_on_send() -> None:
    for target in (b"/ HTTP/1.1\r\nX: y", b"/a b", b"", b"/\x00"):
        with pytest.raises(h11.LocalProtocolError):
            h11.Request(method="GET", target=target, headers=[("Host", "h")])


def test_rfc9112_4_no_reason_injection_on_send() -> None:
    s = h11.Connection(h11.SERVER)
    s.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    s.next_event()
    with pytest.raises(h11.LocalProtocolError):
        s.send(h11.Response(status_code=200, headers=[], reason=b"OK\r\nX: y"))


def test_rfc9112_6_2_sent_body_must_match_content_length() -> None:
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="PUT", target="/", headers=[("Host", "h"), ("Content-Length", "2")]))
    with pytest.raises(h11.LocalProtocolError):
        c.send(h11.Data(data=b"abc"))
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="PUT", target="/", headers=[("Host", "h"), ("Content-Length", "2")]))
    with pytest.raises(h11.LocalProtocolError):
        c.send(h11.EndOfMessage())


def test_rfc9112_6_2_request_without_length_has_no_body() -> None:
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="POST", target="/", headers=[("Host", "h")]))
    with pytest.raises(h11.LocalProtocolError):
        c.send(h11.Data(data=b"x"))


def test_rfc9112_7_1_2_no_trailers_with_content_length() -> None:
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="PUT", target="/", headers=[("Host", "h"), ("Content-Length", "0")]))
    with pytest.raises(h11.LocalProtocolError):
        c.send(h11.EndOfMessage(headers=[("X", "y")]))


def test_rfc9112_2_2_head_size_limit_431() -> None:
    c = h11.Connection(h11.CLIENT, max_incomplete_event_size=100)
    c.send(h11.Request(method="GET", target="/", headers=[("Host", "h")]))
    c.send(h11.EndOfMessage())
    c.receive_data(OK + b"X: " + b"a" * 200 + b"\r\n\r\n")
    with pytest.raises(h11.RemoteProtocolError) as exc:
        c.next_event()
    assert exc.value.error_status_hint == 431


def test_rfc9112_7_1_chunk_line_size_limit() -> None:
    c = h11.Connection(h11.CLIENT, max_incomplete_event_size=100)
    c.send(h11.Request(method="GET", target="/", headers=[("Host", "h")]))
    c.send(h11.EndOfMessage())
    c.receive_data(OK + b"Transfer-Encoding: chunked\r\n\r\n")
    c.next_event()
    c.receive_data(b"5;" + b"e" * 200)
    with pytest.raises(h11.RemoteProtocolError):
        c.next_event()


def test_rfc9112_6_3_data_after_close_delimited_state_is_rejected() -> None:
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="GET", target="/", headers=[("Host", "h"), ("Connection", "close")]))
    c.send(h11.EndOfMessage())
    c.receive_data(OK + b"Content-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
    c.next_event()
    c.next_event()
    with pytest.raises(h11.RemoteProtocolError, match="expecting EOF"):
        c.next_event()
