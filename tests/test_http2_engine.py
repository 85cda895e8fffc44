"""httpwire.http2.Connection, frame by frame: the RFC 9113 section 4-8 rules a client can meet
or break, each with the error type (connection or stream) and code the RFC assigns, and the
flood defences.  Server frames are built by hand here (``frame()``); the differential tests
against h2 are in test_http2_engine_differential.py."""

from __future__ import annotations

import struct

import pytest

from httpwire import http2
from httpwire.http2 import ErrorCodes, SettingCodes
from httpwire.http2._hpack import Encoder

E = ErrorCodes
GET = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"a"), (b":path", b"/")]
OK = [(b":status", b"200")]


def frame(ftype: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return struct.pack(">BHBBL", n >> 16, n & 0xFFFF, ftype, flags, sid) + payload


def settings(**values: int) -> bytes:
    payload = b"".join(struct.pack(">HL", SettingCodes[k], v) for k, v in values.items())
    return frame(4, 0, 0, payload)


def data(sid: int, payload: bytes, end: bool = False) -> bytes:
    return frame(0, 1 if end else 0, sid, payload)


def u32(value: int) -> bytes:
    return struct.pack(">L", value)


def parse_frames(raw: bytes) -> list[tuple[int, int, int, bytes]]:
    """(type, flags, stream id, payload) of every frame in ``raw`` (after the preface)."""
    if raw.startswith(http2.PREFACE):
        raw = raw[len(http2.PREFACE) :]
    out = []
    pos = 0
    while pos < len(raw):
        hi, lo, ftype, flags, sid = struct.unpack_from(">BHBBL", raw, pos)
        n = hi << 16 | lo
        out.append((ftype, flags, sid & 0x7FFFFFFF, raw[pos + 9 : pos + 9 + n]))
        pos += 9 + n
    return out


class Peer:
    """The server side of a test: its HPACK encoder and helpers for header blocks."""

    def __init__(self) -> None:
        self.encoder = Encoder()

    def headers(
        self, sid: int, fields: list[tuple[bytes, bytes]], end: bool = False, flags: int = 0
    ) -> bytes:
        return frame(1, 4 | (1 if end else 0) | flags, sid, self.encoder.encode(fields))


def connect(**kwargs: object) -> tuple[http2.Connection, Peer]:
    conn = http2.Connection(**kwargs)  # type: ignore[arg-type]
    conn.initiate_connection()
    conn.data_to_send()
    events = conn.receive_data(settings() + frame(4, 1, 0))
    assert [type(e) for e in events] == [http2.RemoteSettingsChanged, http2.SettingsAcknowledged]
    assert parse_frames(conn.data_to_send()) == [(4, 1, 0, b"")]  # our ACK
    return conn, Peer()


def open_stream(conn: http2.Connection, end: bool = True, fields: list | None = None) -> int:
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, fields or GET, end_stream=end)
    conn.data_to_send()
    return sid


def connection_error(conn: http2.Connection, raw: bytes, code: int) -> http2.RemoteProtocolError:
    with pytest.raises(http2.RemoteProtocolError) as info:
        conn.receive_data(raw)
    assert info.value.error_code == code
    frames = parse_frames(conn.data_to_send())
    assert frames[-1][0] == 7 and struct.unpack(">LL", frames[-1][3][:8])[1] == code  # GOAWAY
    assert conn.closed and conn.receive_data(b"anything") == []
    return info.value


def stream_error(conn: http2.Connection, raw: bytes, sid: int, code: int) -> list[http2.Event]:
    events = conn.receive_data(raw)
    assert events[-1] == http2.StreamReset(sid, code, False)
    assert (3, 0, sid, u32(code)) in parse_frames(conn.data_to_send())
    assert conn.stream_state(sid) == "CLOSED"
    return events


# -------------------------------------------------------------------------------------------
# Preface and SETTINGS (sections 3.4, 6.5)
# -------------------------------------------------------------------------------------------


def test_preface_settings_and_connection_window() -> None:
    conn = http2.Connection(initial_window_size=1 << 20, connection_window_size=1 << 24)
    conn.initiate_connection()
    raw = conn.data_to_send()
    assert raw.startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    frames = parse_frames(raw)
    assert frames[0][:3] == (4, 0, 0)
    sent = dict(struct.iter_unpack(">HL", frames[0][3]))
    assert sent[SettingCodes.ENABLE_PUSH] == 0 and sent[SettingCodes.INITIAL_WINDOW_SIZE] == 1 << 20
    assert frames[1] == (8, 0, 0, u32((1 << 24) - 65535))
    assert conn.outstanding_settings == 1
    with pytest.raises(http2.LocalProtocolError):
        conn.initiate_connection()


def test_server_preface_must_start_with_settings() -> None:
    conn = http2.Connection()
    conn.initiate_connection()
    connection_error(conn, frame(6, 0, 0, b"12345678"), E.PROTOCOL_ERROR)
    conn = http2.Connection()
    conn.initiate_connection()
    connection_error(conn, frame(4, 1, 0), E.PROTOCOL_ERROR)  # an ACK first
    conn = http2.Connection()
    conn.initiate_connection()
    conn.send_headers(1, GET, end_stream=True)
    connection_error(conn, Peer().headers(1, OK), E.PROTOCOL_ERROR)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (frame(4, 0, 1, b""), E.PROTOCOL_ERROR),  # SETTINGS on a stream
        (frame(4, 0, 0, b"\x00\x01\x00\x00\x10"), E.FRAME_SIZE_ERROR),  # not a multiple of 6
        (frame(4, 1, 0, b"\x00" * 6), E.FRAME_SIZE_ERROR),  # ACK with a payload
        (settings(ENABLE_PUSH=1), E.PROTOCOL_ERROR),  # a server cannot enable push
        (settings(ENABLE_PUSH=2), E.PROTOCOL_ERROR),
        (settings(INITIAL_WINDOW_SIZE=2**31), E.FLOW_CONTROL_ERROR),
        (settings(MAX_FRAME_SIZE=16383), E.PROTOCOL_ERROR),
        (settings(MAX_FRAME_SIZE=2**24), E.PROTOCOL_ERROR),
        (settings(ENABLE_CONNECT_PROTOCOL=2), E.PROTOCOL_ERROR),
    ],
)
def test_bad_settings_are_connection_errors(raw: bytes, code: int) -> None:
    conn, _ = connect()
    connection_error(conn, raw, code)


def test_unknown_settings_are_ignored_and_acknowledged() -> None:
    conn, _ = connect()
    events = conn.receive_data(frame(4, 0, 0, struct.pack(">HL", 0x99, 7)))
    assert events == [http2.RemoteSettingsChanged({0x99: 7})]
    assert parse_frames(conn.data_to_send()) == [(4, 1, 0, b"")]


def test_initial_window_size_change_adjusts_open_streams() -> None:
    # Section 6.9.2: the change applies to every open stream's window, even below zero.
    conn, _ = connect()
    sid = open_stream(conn, end=False)
    conn.send_data(sid, b"x" * 60000)
    assert conn.local_flow_control_window(sid) == 5535
    conn.receive_data(settings(INITIAL_WINDOW_SIZE=1000))
    assert conn.remote_settings[SettingCodes.INITIAL_WINDOW_SIZE] == 1000
    with pytest.raises(http2.FlowControlError):
        conn.send_data(sid, b"x")
    conn.receive_data(frame(8, 0, sid, u32(59001)))
    assert conn.local_flow_control_window(sid) == 1
    sid2 = open_stream(conn, end=False)
    assert conn.local_flow_control_window(sid2) == 1000


def test_initial_window_size_change_overflowing_a_window() -> None:
    conn, _ = connect()
    sid = open_stream(conn, end=False)
    conn.receive_data(frame(8, 0, sid, u32(2**31 - 1 - 65535)))
    connection_error(conn, settings(INITIAL_WINDOW_SIZE=65536), E.FLOW_CONTROL_ERROR)


def test_max_frame_size_splits_what_we_send() -> None:
    conn, _ = connect()
    sid = open_stream(conn, end=False)
    conn.receive_data(frame(8, 0, 0, u32(100000)) + frame(8, 0, sid, u32(100000)))
    conn.data_to_send()
    conn.send_data(sid, b"x" * 40000, end_stream=True)
    frames = parse_frames(conn.data_to_send())
    assert [(f[0], f[1], len(f[3])) for f in frames] == [(0, 0, 16384), (0, 0, 16384), (0, 1, 7232)]
    conn.receive_data(settings(MAX_FRAME_SIZE=20000))
    conn.data_to_send()
    big = [*GET, (b"x-big", b"v" * 50000)]
    sid = open_stream(conn, fields=big)
    conn.send_headers(conn.get_next_available_stream_id(), big, end_stream=True)
    frames = parse_frames(conn.data_to_send())
    assert [f[0] for f in frames] == [1, 9, 9] and [f[1] for f in frames] == [1, 0, 4]
    assert max(len(f[3]) for f in frames) == 20000


def test_max_concurrent_streams_is_enforced_on_us() -> None:
    conn, _ = connect()
    conn.receive_data(settings(MAX_CONCURRENT_STREAMS=2))
    open_stream(conn)
    open_stream(conn)
    assert conn.open_outbound_streams == 2
    with pytest.raises(http2.TooManyStreamsError):
        conn.send_headers(conn.get_next_available_stream_id(), GET, end_stream=True)


def test_header_table_size_change_makes_our_encoder_signal_it() -> None:
    # RFC 7541 section 4.2: the next block starts with a dynamic table size update.
    conn, _ = connect()
    conn.receive_data(settings(HEADER_TABLE_SIZE=0))
    conn.data_to_send()
    conn.send_headers(1, GET, end_stream=True)
    block = parse_frames(conn.data_to_send())[0][3]
    assert block[0] == 0x20


def test_lower_local_settings_apply_when_acknowledged() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    conn.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 100})
    assert conn.remote_flow_control_window(sid) == 1 << 20  # not yet acknowledged
    assert conn.receive_data(frame(4, 1, 0)) == [
        http2.SettingsAcknowledged({SettingCodes.INITIAL_WINDOW_SIZE: 100})
    ]
    assert conn.remote_flow_control_window(sid) == 100
    conn.receive_data(peer.headers(sid, OK))
    stream_error(conn, data(sid, b"x" * 101), sid, E.FLOW_CONTROL_ERROR)


def test_frame_larger_than_our_max_frame_size_is_refused_from_its_header() -> None:
    # The 9-octet header is enough: the payload is never waited for (nor buffered).
    conn, _ = connect()
    header = struct.pack(">BHBBL", 0, 16385, 0, 0, 1)
    connection_error(conn, header, E.FRAME_SIZE_ERROR)


# -------------------------------------------------------------------------------------------
# Responses (section 8.1, 8.3.2)
# -------------------------------------------------------------------------------------------


def test_response_data_trailers() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    raw = (
        peer.headers(sid, [(b":status", b"200"), (b"content-length", b"5")])
        + data(sid, b"hel")
        + data(sid, b"lo")
        + peer.headers(sid, [(b"x-checksum", b"1")], end=True)
    )
    events = conn.receive_data(raw)
    assert events == [
        http2.ResponseReceived(sid, [(b":status", b"200"), (b"content-length", b"5")], False),
        http2.DataReceived(sid, b"hel", 3, False),
        http2.DataReceived(sid, b"lo", 2, False),
        http2.TrailersReceived(sid, [(b"x-checksum", b"1")]),
        http2.StreamEnded(sid),
    ]
    assert conn.stream_state(sid) == "CLOSED" and conn.open_outbound_streams == 0


def test_informational_responses() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    events = conn.receive_data(
        peer.headers(sid, [(b":status", b"103"), (b"link", b"</a>")])
        + peer.headers(sid, OK, end=True)
    )
    assert events == [
        http2.InformationalResponseReceived(sid, [(b":status", b"103"), (b"link", b"</a>")]),
        http2.ResponseReceived(sid, OK, True),
        http2.StreamEnded(sid),
    ]


@pytest.mark.parametrize(
    ("fields", "end"),
    [
        ([(b":status", b"101")], False),  # section 8.6: no 101 in HTTP/2
        ([(b":status", b"100")], True),  # an interim response cannot end the stream
        ([(b"x-a", b"1")], False),  # no :status
        ([(b"x-a", b"1"), (b":status", b"200")], False),  # pseudo-header after a regular one
        ([(b":status", b"200"), (b":status", b"200")], False),
        ([(b":status", b"200"), (b":path", b"/")], False),  # a request pseudo-header
        ([(b":status", b"20")], False),
        ([(b":status", b"abc")], False),
        ([(b":status", b"200"), (b"Content-Type", b"x")], False),  # uppercase (8.2.1)
        ([(b":status", b"200"), (b"connection", b"close")], False),  # 8.2.2
        ([(b":status", b"200"), (b"x", b"a\nb")], False),
        ([(b":status", b"200"), (b"x", b" a")], False),
        ([(b":status", b"200"), (b"content-length", b"x")], False),
        ([(b":status", b"200"), (b"content-length", b"1"), (b"content-length", b"2")], False),
        ([(b":status", b"200"), (b"content-length", b"3")], True),  # no DATA, length 3
    ],
)
def test_malformed_responses_are_stream_errors(fields: list, end: bool) -> None:
    # Section 8.1.1: malformed = stream error PROTOCOL_ERROR; the connection goes on, with
    # HPACK in step (the next response on the connection decodes).
    conn, peer = connect()
    sid = open_stream(conn)
    stream_error(conn, peer.headers(sid, fields, end=end), sid, E.PROTOCOL_ERROR)
    sid2 = open_stream(conn)
    assert conn.receive_data(peer.headers(sid2, OK, end=True))[0] == (
        http2.ResponseReceived(sid2, OK, True)
    )


def test_content_length_must_match_the_data() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    conn.receive_data(peer.headers(sid, [(b":status", b"200"), (b"content-length", b"2")]))
    stream_error(conn, data(sid, b"abc"), sid, E.PROTOCOL_ERROR)
    sid = open_stream(conn)
    conn.receive_data(peer.headers(sid, [(b":status", b"200"), (b"content-length", b"2")]))
    stream_error(conn, data(sid, b"a", end=True), sid, E.PROTOCOL_ERROR)


def test_head_and_304_may_carry_content_length_without_data() -> None:
    conn, peer = connect()
    sid = open_stream(conn, fields=[(b":method", b"HEAD"), *GET[1:]])
    events = conn.receive_data(
        peer.headers(sid, [(b":status", b"200"), (b"content-length", b"10")], end=True)
    )
    assert type(events[0]) is http2.ResponseReceived and events[-1] == http2.StreamEnded(sid)
    sid = open_stream(conn)
    events = conn.receive_data(
        peer.headers(sid, [(b":status", b"304"), (b"content-length", b"10")], end=True)
    )
    assert events[-1] == http2.StreamEnded(sid)


def test_trailers_must_end_the_stream_and_carry_no_pseudo_header() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    conn.receive_data(peer.headers(sid, OK))
    stream_error(conn, peer.headers(sid, [(b"x", b"1")]), sid, E.PROTOCOL_ERROR)
    sid = open_stream(conn)
    conn.receive_data(peer.headers(sid, OK))
    stream_error(conn, peer.headers(sid, [(b":status", b"200")], end=True), sid, E.PROTOCOL_ERROR)


def test_data_before_the_response_is_malformed() -> None:
    conn, _ = connect()
    sid = open_stream(conn)
    stream_error(conn, data(sid, b"x"), sid, E.PROTOCOL_ERROR)


def test_hpack_bomb_resets_the_stream_only() -> None:
    conn, peer = connect(max_header_list_size=16384)
    sid = open_stream(conn)
    big = (b"x-big", b"v" * 2000)
    conn.receive_data(peer.headers(sid, [*OK, big]))
    sid2 = open_stream(conn)
    # The entry is in the table: 1 octet per reference, 2 KB each.
    block = peer.encoder.encode([*OK, *[big] * 10])
    assert len(block) < 20
    stream_error(conn, frame(1, 5, sid2, block), sid2, E.ENHANCE_YOUR_CALM)
    sid3 = open_stream(conn)
    assert conn.receive_data(peer.headers(sid3, [*OK, big], end=True))[0] == (
        http2.ResponseReceived(sid3, [*OK, big], True)
    )


def test_undecodable_header_block_is_a_compression_error() -> None:
    conn, _ = connect()
    sid = open_stream(conn)
    connection_error(conn, frame(1, 5, sid, b"\xbf"), E.COMPRESSION_ERROR)


# -------------------------------------------------------------------------------------------
# HEADERS, CONTINUATION, PUSH_PROMISE (sections 6.2, 6.6, 6.10, 5.1)
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (frame(1, 4, 0, b"\x88"), E.PROTOCOL_ERROR),  # HEADERS on stream 0
        (frame(1, 4, 2, b"\x88"), E.PROTOCOL_ERROR),  # the server opens a stream
        (frame(1, 4, 5, b"\x88"), E.PROTOCOL_ERROR),  # an idle stream
        (frame(5, 4, 1, u32(2) + b"\x82"), E.PROTOCOL_ERROR),  # PUSH_PROMISE (push is off)
        (frame(9, 4, 1, b"\x88"), E.PROTOCOL_ERROR),  # CONTINUATION out of nowhere
        (frame(1, 0, 1, b"\x88") + frame(6, 0, 0, b"x" * 8), E.PROTOCOL_ERROR),  # interrupted
        (frame(1, 0, 1, b"\x88") + frame(9, 4, 3, b""), E.PROTOCOL_ERROR),  # other stream
        (frame(1, 0, 1, b"\x88") + frame(0xEE, 0, 0, b""), E.PROTOCOL_ERROR),  # unknown type
        (frame(1, 0x8 | 4, 1, b"\x05\x88"), E.PROTOCOL_ERROR),  # padding longer than payload
        (frame(1, 0x20 | 4, 1, b"\x00\x00"), E.PROTOCOL_ERROR),  # too short for priority
        (frame(0, 0, 0, b"x"), E.PROTOCOL_ERROR),  # DATA on stream 0
        (frame(0, 0x8, 1, b"\x05x"), E.PROTOCOL_ERROR),  # DATA padding too long
    ],
)
def test_frame_level_connection_errors(raw: bytes, code: int) -> None:
    conn, _ = connect()
    open_stream(conn)
    connection_error(conn, raw, code)


def test_continuation_reassembles_and_padding_priority_are_stripped() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    block = peer.encoder.encode([*OK, (b"x-a", b"b" * 300)])
    raw = (
        frame(1, 0x8 | 0x20, sid, b"\x03" + u32(0) + b"\x10" + block[:100] + b"\0\0\0")
        + frame(9, 0, sid, block[100:200])
        + frame(9, 0, sid, b"")
        + frame(9, 4, sid, block[200:])
    )
    assert conn.receive_data(raw) == [
        http2.ResponseReceived(sid, [*OK, (b"x-a", b"b" * 300)], False)
    ]


def test_continuation_flood_is_stopped() -> None:
    # The 2024 CONTINUATION flood: endless (empty) CONTINUATION frames, never END_HEADERS.
    conn, _ = connect(max_continuation_frames=64)
    sid = open_stream(conn)
    raw = frame(1, 0, sid, b"\x88") + frame(9, 0, sid) * 65
    connection_error(conn, raw, E.ENHANCE_YOUR_CALM)
    conn, _ = connect(max_header_block_size=10000)
    sid = open_stream(conn)
    raw = frame(1, 0, sid, b"\x88") + frame(9, 0, sid, b"x" * 5000) * 2
    connection_error(conn, raw, E.ENHANCE_YOUR_CALM)


def test_self_dependent_priority_is_a_stream_error() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    conn.receive_data(frame(2, 0, sid, u32(3) + b"\x10"))  # PRIORITY: accepted, ignored
    stream_error(conn, frame(2, 0, sid, u32(sid) + b"\x10"), sid, E.PROTOCOL_ERROR)
    sid = open_stream(conn)
    block = peer.encoder.encode(OK)
    stream_error(conn, frame(1, 0x24, sid, u32(sid) + b"\x10" + block), sid, E.PROTOCOL_ERROR)
    sid = open_stream(conn)  # the same, the header block continued
    raw = frame(1, 0x20, sid, u32(sid) + b"\x10") + frame(9, 4, sid, peer.encoder.encode(OK))
    stream_error(conn, raw, sid, E.PROTOCOL_ERROR)
    sid = open_stream(conn)
    stream_error(conn, frame(2, 0, sid, b"\x00" * 4), sid, E.FRAME_SIZE_ERROR)
    connection_error(conn, frame(2, 0, 0, u32(1) + b"\x10"), E.PROTOCOL_ERROR)


def test_unknown_frame_types_are_ignored() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    raw = frame(0xEE, 0xFF, sid, b"whatever") + peer.headers(sid, OK, end=True)
    assert conn.receive_data(raw)[0] == http2.ResponseReceived(sid, OK, True)


# -------------------------------------------------------------------------------------------
# Stream states (section 5.1)
# -------------------------------------------------------------------------------------------


def test_frames_after_end_stream_are_a_connection_error() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    conn.receive_data(peer.headers(sid, OK, end=True))
    assert conn.stream_state(sid) == "CLOSED"
    connection_error(conn, data(sid, b"x"), E.STREAM_CLOSED)


def test_data_on_half_closed_remote_is_a_stream_error() -> None:
    conn, peer = connect()
    sid = open_stream(conn, end=False)  # we still send
    conn.receive_data(peer.headers(sid, OK, end=True))
    assert conn.stream_state(sid) == "HALF_CLOSED_REMOTE"
    conn.send_data(sid, b"upload")  # we may still send
    stream_error(conn, data(sid, b"x"), sid, E.STREAM_CLOSED)


def test_frames_after_our_reset_are_ignored_and_their_data_given_back() -> None:
    conn, peer = connect(connection_window_size=65535)
    sid = open_stream(conn)
    conn.reset_stream(sid)
    assert parse_frames(conn.data_to_send()) == [(3, 0, sid, u32(E.CANCEL))]
    raw = peer.headers(sid, OK) + data(sid, b"x" * 16384) * 2
    assert conn.receive_data(raw) == []
    # Nobody will read those 32 KiB: the engine credits the connection window itself.
    assert parse_frames(conn.data_to_send()) == [(8, 0, 0, u32(32768))]
    assert conn.remote_flow_control_window(0) == 65535


def test_frames_after_the_peers_reset() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    assert conn.receive_data(frame(3, 0, sid, u32(E.CANCEL))) == [
        http2.StreamReset(sid, E.CANCEL, True)
    ]
    conn.receive_data(frame(8, 0, sid, u32(5)))  # WINDOW_UPDATE: ignored
    assert conn.receive_data(data(sid, b"x")) == []  # stream error STREAM_CLOSED: RST sent
    assert parse_frames(conn.data_to_send())[-1] == (3, 0, sid, u32(E.STREAM_CLOSED))


def test_stream_state_table_and_local_errors() -> None:
    conn, peer = connect()
    assert conn.stream_state(1) == "IDLE"
    sid = open_stream(conn, end=False)
    assert conn.stream_state(sid) == "OPEN"
    conn.send_data(sid, b"a", end_stream=True)
    assert conn.stream_state(sid) == "HALF_CLOSED_LOCAL"
    with pytest.raises(http2.StreamClosedError):
        conn.send_data(sid, b"b")
    with pytest.raises(http2.StreamClosedError):
        conn.send_headers(sid, [(b"x", b"1")], end_stream=True)
    conn.receive_data(peer.headers(sid, OK, end=True))
    assert conn.stream_state(sid) == "CLOSED"
    with pytest.raises(http2.StreamClosedError):
        conn.send_headers(sid, GET)  # stream ids are not reused
    with pytest.raises(http2.LocalProtocolError):
        conn.send_headers(4, GET)  # even ids are the server's
    with pytest.raises(http2.LocalProtocolError):
        conn.reset_stream(99)  # idle


@pytest.mark.parametrize(
    "fields",
    [
        GET[1:],  # no :method
        [(b":method", b"GET"), (b":authority", b"a"), (b":path", b"/")],  # no :scheme
        [*GET[:3], (b":path", b"")],  # empty :path
        [(b"x-a", b"1"), *GET],  # pseudo-header after a regular field
        [*GET, (b":status", b"200")],
        [*GET, (b"Host", b"a")],  # uppercase
        [*GET, (b"connection", b"keep-alive")],
        [*GET, (b"te", b"gzip")],
        [*GET, (b"x", b"a\r\nb")],
        [(b":method", b"CONNECT"), *GET[1:]],  # CONNECT with :scheme and :path
        [*GET, (b"host", b"b")],  # Host differing from :authority
    ],
)
def test_outbound_request_fields_are_checked(fields: list) -> None:
    conn, _ = connect()
    with pytest.raises(http2.LocalProtocolError):
        conn.send_headers(1, fields, end_stream=True)
    assert not conn.has_data_to_send and conn.open_outbound_streams == 0


def test_a_host_field_equal_to_authority_is_allowed() -> None:
    conn, _ = connect()
    conn.send_headers(1, [*GET, (b"host", b"a")], end_stream=True)
    assert conn.stream_state(1) == "HALF_CLOSED_LOCAL"


def test_trailers_we_send_must_end_the_stream() -> None:
    conn, _ = connect()
    sid = open_stream(conn, end=False)
    with pytest.raises(http2.LocalProtocolError):
        conn.send_headers(sid, [(b"x", b"1")], end_stream=False)
    conn.send_headers(sid, [(b"x", b"1")], end_stream=True)
    assert conn.stream_state(sid) == "HALF_CLOSED_LOCAL"


# -------------------------------------------------------------------------------------------
# Flow control (sections 5.2, 6.9)
# -------------------------------------------------------------------------------------------


def test_receive_windows_and_window_updates() -> None:
    conn, peer = connect(initial_window_size=1000, connection_window_size=65535)
    conn.receive_data(frame(4, 1, 0))  # the ACK of our SETTINGS (window 1000 in force)
    sid = open_stream(conn)
    conn.receive_data(peer.headers(sid, OK))
    events = conn.receive_data(frame(0, 0x8, sid, b"\x09" + b"x" * 390 + b"\0" * 9))
    assert events == [http2.DataReceived(sid, b"x" * 390, 400, False)]  # padding counts
    assert conn.remote_flow_control_window(sid) == 600
    conn.acknowledge_received_data(400, sid)  # below half the window: nothing yet
    assert not conn.has_data_to_send
    conn.receive_data(data(sid, b"y" * 200))
    conn.acknowledge_received_data(200, sid)
    assert parse_frames(conn.data_to_send()) == [(8, 0, sid, u32(600))]
    stream_error(conn, data(sid, b"z" * 1001), sid, E.FLOW_CONTROL_ERROR)


def test_connection_window_overrun_is_a_connection_error() -> None:
    conn, peer = connect(connection_window_size=65535, initial_window_size=1 << 20)
    sid = open_stream(conn)
    conn.receive_data(peer.headers(sid, OK) + data(sid, b"x" * 16384) * 3)
    connection_error(conn, data(sid, b"x" * 16384), E.FLOW_CONTROL_ERROR)


def test_window_update_rules() -> None:
    conn, _ = connect()
    sid = open_stream(conn, end=False)
    assert conn.receive_data(frame(8, 0, sid, u32(10))) == [http2.WindowUpdated(sid, 10)]
    assert conn.receive_data(frame(8, 0, 0, u32(10))) == [http2.WindowUpdated(0, 10)]
    stream_error(conn, frame(8, 0, sid, u32(0)), sid, E.PROTOCOL_ERROR)
    sid = open_stream(conn, end=False)
    stream_error(conn, frame(8, 0, sid, u32(2**31 - 1)), sid, E.FLOW_CONTROL_ERROR)
    for raw, code in [
        (frame(8, 0, 0, u32(0)), E.PROTOCOL_ERROR),
        (frame(8, 0, 0, u32(2**31 - 1)), E.FLOW_CONTROL_ERROR),
        (frame(8, 0, 0, b"\0\0\0"), E.FRAME_SIZE_ERROR),
        (frame(8, 0, 99, u32(1)), E.PROTOCOL_ERROR),  # idle stream
    ]:
        conn, _ = connect()
        connection_error(conn, raw, code)


def test_send_data_respects_both_windows() -> None:
    conn, _ = connect()
    sid = open_stream(conn, end=False)
    assert conn.local_flow_control_window(sid) == 65535
    with pytest.raises(http2.FlowControlError):
        conn.send_data(sid, b"x" * 65536)
    assert not conn.has_data_to_send
    conn.send_data(sid, b"x" * 65535)
    assert conn.local_flow_control_window(sid) == 0
    conn.receive_data(frame(8, 0, sid, u32(100)))
    assert conn.local_flow_control_window(sid) == 0  # the connection window is still empty
    conn.receive_data(frame(8, 0, 0, u32(50)))
    assert conn.local_flow_control_window(sid) == 50


# -------------------------------------------------------------------------------------------
# RST_STREAM, PING, GOAWAY (sections 6.4, 6.7, 6.8)
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (frame(3, 0, 0, u32(0)), E.PROTOCOL_ERROR),
        (frame(3, 0, 1, b"\0\0\0"), E.FRAME_SIZE_ERROR),
        (frame(3, 0, 7, u32(0)), E.PROTOCOL_ERROR),  # idle
        (frame(6, 0, 1, b"x" * 8), E.PROTOCOL_ERROR),
        (frame(6, 0, 0, b"x" * 7), E.FRAME_SIZE_ERROR),
        (frame(7, 0, 1, u32(0) * 2), E.PROTOCOL_ERROR),
        (frame(7, 0, 0, u32(0)), E.FRAME_SIZE_ERROR),
    ],
)
def test_control_frame_errors(raw: bytes, code: int) -> None:
    conn, _ = connect()
    open_stream(conn)
    connection_error(conn, raw, code)


def test_ping_is_answered() -> None:
    conn, _ = connect()
    assert conn.receive_data(frame(6, 0, 0, b"12345678")) == [http2.PingReceived(b"12345678")]
    assert parse_frames(conn.data_to_send()) == [(6, 1, 0, b"12345678")]
    conn.ping(b"abcdefgh")
    assert parse_frames(conn.data_to_send()) == [(6, 0, 0, b"abcdefgh")]
    assert conn.receive_data(frame(6, 1, 0, b"abcdefgh")) == [http2.PingAckReceived(b"abcdefgh")]


def test_goaway_last_stream_id_and_graceful_drain() -> None:
    conn, peer = connect()
    s1, s3, s5 = open_stream(conn), open_stream(conn), open_stream(conn)
    events = conn.receive_data(frame(7, 0, 0, u32(s3) + u32(0) + b"bye"))
    assert events == [http2.ConnectionTerminated(E.NO_ERROR, s3, b"bye")]
    assert conn.goaway_received and conn.stream_state(s5) == "CLOSED"
    assert conn.open_outbound_streams == 2  # s5 was not processed: forgotten (retry it)
    with pytest.raises(http2.TooManyStreamsError):
        conn.send_headers(conn.get_next_available_stream_id(), GET, end_stream=True)
    # A second GOAWAY cannot raise the last stream id.
    assert conn.receive_data(frame(7, 0, 0, u32(99) + u32(0)))[0].last_stream_id == s3
    # Streams up to last_stream_id complete.
    events = conn.receive_data(peer.headers(s1, OK, end=True) + peer.headers(s3, OK, end=True))
    assert [type(e) for e in events] == [http2.ResponseReceived, http2.StreamEnded] * 2
    assert conn.closed
    assert conn.receive_data(data(s5, b"late")) == []  # ignored


def test_close_connection_sends_goaway() -> None:
    conn, _ = connect()
    conn.close_connection(E.NO_ERROR, b"done")
    assert parse_frames(conn.data_to_send()) == [(7, 0, 0, u32(0) + u32(0) + b"done")]
    with pytest.raises(http2.TooManyStreamsError):
        conn.send_headers(1, GET)


# -------------------------------------------------------------------------------------------
# Floods (2019: ping, settings, empty frames, reset; 2023: Rapid Reset)
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "one",
    [
        frame(6, 0, 0, b"12345678"),  # PING flood: each one queues an ACK
        settings(),  # SETTINGS flood: each one queues an ACK
        frame(2, 0, 1, u32(3) + b"\x10"),  # PRIORITY flood
        frame(8, 0, 0, u32(1)),  # tiny WINDOW_UPDATEs
        frame(0xEE, 0, 0, b""),  # unknown frames
        frame(3, 0, 1, u32(0)),  # RST_STREAM for a stream already gone
    ],
)
def test_no_progress_floods_end_with_enhance_your_calm(one: bytes) -> None:
    conn, _ = connect(max_control_frames=100)
    sid = open_stream(conn)
    conn.reset_stream(sid)
    conn.data_to_send()
    connection_error(conn, one * 101, E.ENHANCE_YOUR_CALM)


def test_empty_data_flood() -> None:
    conn, peer = connect(max_control_frames=100)
    sid = open_stream(conn)
    conn.receive_data(peer.headers(sid, OK))
    connection_error(conn, data(sid, b"") * 101, E.ENHANCE_YOUR_CALM)


def test_progress_keeps_the_budget() -> None:
    # A PING per response, many responses: no false alarm.
    conn, peer = connect(max_control_frames=10)
    for _ in range(50):
        sid = open_stream(conn)
        conn.receive_data(frame(6, 0, 0, b"12345678") * 5 + peer.headers(sid, OK, end=True))
    assert not conn.closed


def test_received_bytes_split_anywhere() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    raw = peer.headers(sid, [(b":status", b"200"), (b"x", b"y" * 50)]) + data(sid, b"abc", True)
    events: list[http2.Event] = []
    for i in range(len(raw)):
        events += conn.receive_data(raw[i : i + 1])
    assert events == [
        http2.ResponseReceived(sid, [(b":status", b"200"), (b"x", b"y" * 50)], False),
        http2.DataReceived(sid, b"abc", 3, True),
        http2.StreamEnded(sid),
    ]


def test_uploads_with_a_window_update_per_frame_are_progress() -> None:
    # A server that answers each of our DATA frames with WINDOW_UPDATEs is not a flood.
    conn, _ = connect(max_control_frames=10)
    sid = open_stream(conn, end=False)
    for _ in range(200):
        conn.send_data(sid, b"x" * 100)
        conn.receive_data(frame(8, 0, sid, u32(100)) + frame(8, 0, 0, u32(100)))
    assert not conn.closed and conn.local_flow_control_window(sid) == 65535


def test_connection_error_keeps_the_events_before_it() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    error = connection_error(conn, peer.headers(sid, OK) + frame(6, 0, 0, b"x"), E.FRAME_SIZE_ERROR)
    assert error.events == [http2.ResponseReceived(sid, OK, False)]


def test_unknown_error_codes_are_passed_on() -> None:
    # Section 7: unknown error codes trigger nothing special.
    conn, _ = connect()
    sid = open_stream(conn)
    assert conn.receive_data(frame(3, 0, sid, u32(0xABC))) == [http2.StreamReset(sid, 0xABC, True)]
    events = conn.receive_data(frame(7, 0, 0, u32(0) + u32(0xDEF)))
    assert events == [http2.ConnectionTerminated(0xDEF, 0, b"")]


def test_the_peer_cannot_make_our_encoder_hold_more_than_4096_octets() -> None:
    conn, _ = connect()
    conn.receive_data(settings(HEADER_TABLE_SIZE=2**32 - 1))
    assert conn.remote_settings[SettingCodes.HEADER_TABLE_SIZE] == 2**32 - 1
    for i in range(100):
        conn.send_headers(conn.get_next_available_stream_id(), [*GET, (b"x-a", b"%d" % i * 50)])
    assert conn._encoder.header_table_size == 4096 and conn._encoder._size <= 4096


def test_a_frame_trickled_in_is_kept_in_pieces_and_bounded() -> None:
    conn, peer = connect()
    sid = open_stream(conn)
    conn.receive_data(peer.headers(sid, OK))
    raw = data(sid, bytes(range(256)) * 64, end=True)  # 16 KiB + 9
    for i in range(len(raw) - 1):
        assert conn.receive_data(raw[i : i + 1]) == []
        assert conn.buffered == i + 1 <= 9 + 16384
    events = conn.receive_data(raw[-1:])
    assert events[0] == http2.DataReceived(sid, bytes(range(256)) * 64, 16384, True)
    assert conn.buffered == 0
    # A frame header announcing more than our MAX_FRAME_SIZE ends it at once, however fed.
    sid = open_stream(conn)
    head = struct.pack(">BHBBL", 0x01, 0, 0, 0, sid)  # 65,536 octets
    assert conn.receive_data(head[:5]) == []
    connection_error(conn, head[5:], E.FRAME_SIZE_ERROR)
