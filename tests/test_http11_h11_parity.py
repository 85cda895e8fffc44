"""The server role of httpwire.http11 next to h11, where real servers depend on it (issue 9,
items 8 and 10): each case runs through both engines and compares bytes, events and states.

- a 204 or 304 response carrying both Transfer-Encoding and Content-Length is sent as given
  (uvicorn relays such responses; our engine refused them and uvicorn then sent nothing);
- ``PRI * HTTP/2.0`` (the HTTP/2 connection preface) parses as a Request, the rest of the
  preface staying in ``trailing_data`` (hypercorn's switch to HTTP/2 prior knowledge; the real
  hypercorn run is in test_http11_realsoftware.py);
- ``PRODUCT_ID`` and ``__version__`` exist;
- a method that upper-cases to a token ("\\ufb01x" -> "FIX") is refused by both.
"""

from __future__ import annotations

from typing import Any

import h11 as real
import pytest

import httpwire
import httpwire.http11 as hw

ENGINES = [real, hw]


def _events(lib: Any, conn: Any) -> list[Any]:
    out = []
    while True:
        event = conn.next_event()
        if event is lib.NEED_DATA or event is lib.PAUSED:
            out.append(event.__name__ if hasattr(event, "__name__") else repr(event))
            return out
        out.append(event)
        if type(event) is lib.ConnectionClosed:
            return out


def _same(a: Any, b: Any) -> None:
    assert repr(a) == repr(b)


def _serve(lib: Any, request: bytes, status: int, headers: list[tuple[str, str]]) -> Any:
    conn = lib.Connection(lib.SERVER)
    conn.receive_data(request)
    _events(lib, conn)
    try:
        data = conn.send(lib.Response(status_code=status, headers=headers))
        data += conn.send(lib.EndOfMessage())
    except lib.LocalProtocolError as exc:
        return ("LocalProtocolError", str(exc)[:0])
    return data, conn.our_state, conn.their_state


GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
HEAD = b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
BOTH = [("Transfer-Encoding", "chunked"), ("Content-Length", "10")]


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [(GET, 204), (GET, 304), (HEAD, 200), (HEAD, 204), (GET, 200)],
)
def test_bodiless_response_with_te_and_cl_is_sent_as_h11_sends_it(
    request_bytes: bytes, status: int
) -> None:
    results = [_serve(lib, request_bytes, status, BOTH) for lib in ENGINES]
    _same(*results)
    if status in (204, 304):
        data = results[1][0]
        assert b"Transfer-Encoding: chunked\r\n" in data and b"Content-Length: 10\r\n" in data


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_response_with_te_and_cl_is_received_as_h11_receives_it(status: int) -> None:
    results = []
    for lib in ENGINES:
        conn = lib.Connection(lib.CLIENT)
        conn.send(lib.Request(method="GET", target="/", headers=[("Host", "a")]))
        conn.send(lib.EndOfMessage())
        conn.receive_data(
            f"HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n"
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".encode()
        )
        results.append((_events(lib, conn), conn.their_state, conn.trailing_data))
    _same(*results)


@pytest.mark.parametrize("split", [None, 1, 5])
def test_http2_preface_parses_as_a_request_as_in_h11(split: int | None) -> None:
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x12\x04\x00\x00\x00\x00\x00"
    results = []
    for lib in ENGINES:
        conn = lib.Connection(lib.SERVER)
        events: list[Any] = []
        pieces = [preface] if split is None else [preface[:split], preface[split:]]
        for piece in pieces:
            conn.receive_data(piece)
            events += _events(lib, conn)
        results.append((events, conn.their_state, conn.our_state, conn.trailing_data))
    _same(*results)
    request = next(e for e in results[1][0] if type(e) is hw.Request)
    assert (request.method, request.target, request.http_version) == (b"PRI", b"*", b"2.0")
    # What hypercorn hands to its HTTP/2 protocol: the whole preface and what followed it.
    assert b"PRI * HTTP/2.0\r\n\r\n" + results[1][3][0] == preface


def test_other_http2_request_lines_stay_refused() -> None:
    """Only the preface's exact request line is special: other HTTP/2.0 requests are 505."""
    conn = hw.Connection(hw.SERVER)
    conn.receive_data(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n")
    with pytest.raises(hw.RemoteProtocolError) as info:
        conn.next_event()
    assert info.value.error_status_hint == 505


def test_product_id_and_version_exist_as_in_h11() -> None:
    assert real.PRODUCT_ID.startswith("python-h11/")
    assert hw.PRODUCT_ID == f"python-httpwire/{httpwire.__version__}"
    assert hw.__version__ == httpwire.__version__
    assert {"PRODUCT_ID", "__version__"} <= set(hw.__all__)


@pytest.mark.parametrize("method", ["\ufb01x", "stra\xdfe", "\u0131"])
def test_method_that_upper_cases_to_a_token_is_refused_as_in_h11(method: str) -> None:
    """Sending: a str method must be ASCII (UnicodeEncodeError, as h11), its UTF-8 bytes are
    not a token (LocalProtocolError); receiving such a request line is a RemoteProtocolError."""
    for lib in ENGINES:
        with pytest.raises(UnicodeEncodeError):
            lib.Request(method=method, target="/", headers=[("Host", "a")])
        with pytest.raises(lib.LocalProtocolError):
            lib.Request(method=method.encode(), target="/", headers=[("Host", "a")])
        conn = lib.Connection(lib.SERVER)
        conn.receive_data(method.encode() + b" / HTTP/1.1\r\nHost: a\r\n\r\n")
        with pytest.raises(lib.RemoteProtocolError):
            conn.next_event()
