"""httpwire.http2 against h2 (the oracle): the same server byte streams, the same events.

Server byte streams are written by h2's server side (``client_side=False``) answering the
requests our engine sent; both clients (ours and an ``h2.connection.H2Connection`` that sent the
same requests) are fed them, whole and cut at every point (or at random points), and their
events are compared after normalisation (:func:`normalise`: the same facts, h2's
``stream_ended`` links become a flag).  The scenarios: hand-written ones (every frame type a
server sends, both orders of interleaved streams) and hypothesis-generated ones (responses,
interim responses, bodies, padding, trailers, resets, PINGs, WINDOW_UPDATEs, SETTINGS changes,
interleaved in any order).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpwire import http2

GET = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"a"), (b":path", b"/")]


@dataclass
class Response:
    """What the server does on one stream, as a list of operations run in order."""

    status: int = 200
    interim: int = 0  # 103 responses before the final one
    fields: list[tuple[str, str]] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)
    padding: int = 0
    trailers: list[tuple[str, str]] = field(default_factory=list)
    reset: bool = False  # reset by the server after its response headers
    content_length: bool = False
    big: int = 0  # a field this long: a header block beyond 16 KiB goes on in CONTINUATION

    def ops(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [("interim", None)] * self.interim
        headers = [(":status", str(self.status)), *self.fields]
        if self.big:
            headers.append(("x-big", "b" * self.big))
        if self.content_length:
            headers.append(("content-length", str(sum(map(len, self.body)))))
        ends_here = not self.body and not self.trailers and not self.reset
        out.append(("headers", (headers, ends_here)))
        for i, chunk in enumerate(self.body):
            last = i == len(self.body) - 1 and not self.trailers and not self.reset
            out.append(("data", (chunk, last)))
        if self.reset:
            out.append(("reset", None))
        elif self.trailers:
            out.append(("trailers", self.trailers))
        return out


@dataclass
class Scenario:
    responses: list[Response]
    order: list[int]  # which stream acts next (stream index, one entry per operation)
    extras: dict[int, list[str]] = field(default_factory=dict)  # before operation i
    goaway: bool | int = False  # an int: GOAWAY's last stream id is that stream's (index)


def server_bytes(scenario: Scenario, client_preface: bytes) -> bytes:
    server = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=False, header_encoding=None)
    )
    server.initiate_connection()
    stream_ids = [
        e.stream_id
        for e in server.receive_data(client_preface)
        if isinstance(e, h2.events.RequestReceived)
    ]
    assert len(stream_ids) == len(scenario.responses)
    pending = [r.ops() for r in scenario.responses]
    position = [0] * len(pending)
    out = []
    for step, index in enumerate(scenario.order):
        for extra in scenario.extras.get(step, []):
            if extra == "ping":
                server.ping(b"%08d" % step)
            elif extra == "window":
                server.increment_flow_control_window(1000 + step)
            elif extra == "settings":
                server.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 50 + step})
            elif extra == "window-size":
                server.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000 + step})
            elif extra == "priority":  # h2 servers do not send PRIORITY: by hand
                out.append(server.data_to_send())
                out.append(struct.pack(">BHBBL", 0, 5, 2, 0, stream_ids[0]) + b"\0\0\0\0\x14")
            elif extra == "unknown":  # an extension frame type (section 5.5)
                out.append(server.data_to_send())
                out.append(struct.pack(">BHBBL", 0, 3, 0xEE, 0xFF, 0) + b"abc")
        if position[index] >= len(pending[index]):
            continue
        op, arg = pending[index][position[index]]
        position[index] += 1
        sid = stream_ids[index]
        response = scenario.responses[index]
        if op == "interim":
            server.send_headers(sid, [(":status", "103"), ("link", "</s.css>")])
        elif op == "headers":
            headers, end = arg
            server.send_headers(sid, headers, end_stream=end)
        elif op == "data":
            chunk, end = arg
            server.send_data(sid, chunk, end_stream=end, pad_length=response.padding or None)
        elif op == "trailers":
            server.send_headers(sid, arg, end_stream=True)
        elif op == "reset":
            server.reset_stream(sid, 8)
    if scenario.goaway is not False:
        last = len(stream_ids) - 1 if scenario.goaway is True else scenario.goaway
        server.close_connection(last_stream_id=stream_ids[last % len(stream_ids)])
    out.append(server.data_to_send())
    return b"".join(out)


def ops_count(responses: Sequence[Response]) -> list[int]:
    return [len(r.ops()) for r in responses]


def normalise(events: list[Any]) -> list[tuple[Any, ...]]:
    """Events of either library as comparable tuples."""
    out: list[tuple[Any, ...]] = []
    for e in events:
        name = type(e).__name__
        if name in ("SettingsAcknowledged", "PriorityUpdated", "UnknownFrameReceived"):
            continue
        if name == "ResponseReceived":
            ended = getattr(e, "end_stream", None)
            if ended is None:
                ended = e.stream_ended is not None
            out.append((name, e.stream_id, [(bytes(n), bytes(v)) for n, v in e.headers], ended))
        elif name in ("InformationalResponseReceived", "TrailersReceived"):
            out.append((name, e.stream_id, [(bytes(n), bytes(v)) for n, v in e.headers]))
        elif name == "DataReceived":
            ended = getattr(e, "end_stream", None)
            if ended is None:
                ended = e.stream_ended is not None
            out.append((name, e.stream_id, bytes(e.data), e.flow_controlled_length, ended))
        elif name == "StreamEnded":
            out.append((name, e.stream_id))
        elif name == "StreamReset":
            remote = getattr(e, "remote", None)
            if remote is None:
                remote = e.remote_reset
            out.append((name, e.stream_id, int(e.error_code), remote))
        elif name == "WindowUpdated":
            out.append((name, e.stream_id, e.delta))
        elif name == "RemoteSettingsChanged":
            changed = e.changed_settings
            values = {
                int(k): (v.new_value if hasattr(v, "new_value") else v) for k, v in changed.items()
            }
            out.append((name, values))
        elif name in ("PingReceived", "PingAckReceived"):
            out.append((name, bytes(e.ping_data)))
        elif name == "ConnectionTerminated":
            out.append((name, int(e.error_code), e.last_stream_id, e.additional_data or b""))
        else:  # pragma: no cover - a new event type would need a rule here
            raise AssertionError(f"unexpected event {e!r}")
    return out


def ours(n: int) -> tuple[http2.Connection, bytes]:
    conn = http2.Connection()
    conn.initiate_connection()
    for _ in range(n):
        conn.send_headers(conn.get_next_available_stream_id(), GET, end_stream=True)
    return conn, conn.data_to_send()


def theirs(n: int) -> h2.connection.H2Connection:
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    conn.initiate_connection()
    for _ in range(n):
        conn.send_headers(conn.get_next_available_stream_id(), GET, end_stream=True)
    conn.data_to_send()
    return conn


def feed(conn: Any, pieces: list[bytes]) -> list[Any]:
    events: list[Any] = []
    for piece in pieces:
        got = conn.receive_data(piece)
        for e in got:
            if type(e).__name__ == "DataReceived":
                conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        events += got
        conn.data_to_send()
    return events


def cut(raw: bytes, points: Sequence[int]) -> list[bytes]:
    bounds = [0, *sorted({p % (len(raw) + 1) for p in points}), len(raw)]
    return [raw[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def compare(scenario: Scenario, splits: str | Sequence[int] = "all") -> list[tuple[Any, ...]]:
    n = len(scenario.responses)
    _, preface = ours(n)
    raw = server_bytes(scenario, preface)
    expected = normalise(feed(theirs(n), [raw]))
    assert normalise(feed(ours(n)[0], [raw])) == expected
    if splits == "all":
        points: list[Sequence[int]] = [[i] for i in range(1, len(raw))]
    else:
        points = [splits]  # type: ignore[list-item]
    for at in points:
        pieces = cut(raw, at)
        assert normalise(feed(ours(n)[0], pieces)) == expected, at
        if splits != "all" or at[0] % 17 == 0:
            assert normalise(feed(theirs(n), pieces)) == expected, at
    return expected


def test_every_frame_type_a_server_sends_at_every_split_point() -> None:
    scenario = Scenario(
        responses=[
            Response(interim=1, fields=[("server", "x"), ("x-a", "b")], body=[b"hello", b"!"],
                     trailers=[("x-checksum", "abc")], content_length=True),
            Response(status=404, body=[b"x" * 300], padding=10),
            Response(status=500, reset=True),
            Response(status=204),
        ],
        order=[0, 1, 2, 3, 0, 1, 2, 0, 0, 0, 3],
        extras={0: ["settings", "ping"], 3: ["window", "priority"], 6: ["ping", "unknown"]},
        goaway=True,
    )  # fmt: skip
    expected = compare(scenario)
    names = {e[0] for e in expected}
    assert names >= {
        "RemoteSettingsChanged", "InformationalResponseReceived", "ResponseReceived",
        "DataReceived", "TrailersReceived", "StreamEnded", "StreamReset", "PingReceived",
        "WindowUpdated", "ConnectionTerminated",
    }  # fmt: skip


@pytest.mark.parametrize("first", [0, 1])
def test_interleaved_streams_in_both_orders(first: int) -> None:
    a = Response(fields=[("x-s", "a")], body=[b"a1", b"a2", b"a3"])
    b = Response(fields=[("x-s", "b")], body=[b"b1", b"b2"], trailers=[("x-t", "1")])
    order = [first, 1 - first] * 4
    expected = compare(Scenario([a, b], order))
    streams = [e[1] for e in expected if e[0] == "DataReceived"]
    assert streams[0] == 1 + 2 * first and len(set(streams[:2])) == 2  # really interleaved


def test_large_header_block_in_continuation_frames() -> None:
    big = [(f"x-big-{i}", "v" * 1000) for i in range(40)]  # > 16 KiB: CONTINUATION
    expected = compare(Scenario([Response(fields=big, body=[b"ok"])], [0, 0]), splits=[9, 16400])
    assert expected[1][0] == "ResponseReceived" and len(expected[1][2]) == 41


def test_hundred_concurrent_responses() -> None:
    responses = [Response(fields=[("server", "s"), ("x-id", str(i))], body=[b"%d" % i] * 2,
                          content_length=True) for i in range(100)]  # fmt: skip
    order = [i for _ in range(3) for i in range(100)]
    rnd = random.Random(5)
    expected = compare(Scenario(responses, order), splits=[rnd.randrange(20000) for _ in range(40)])
    assert sum(1 for e in expected if e[0] == "StreamEnded") == 100


_names = st.sampled_from(["server", "x-a", "x-b", "content-type", "etag", "vary", "x-long"])
_values = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
_responses = st.builds(
    Response,
    status=st.sampled_from([200, 201, 404, 500]),
    interim=st.integers(0, 2),
    fields=st.lists(st.tuples(_names, _values), max_size=5),
    body=st.lists(st.binary(max_size=200), max_size=3),
    padding=st.sampled_from([0, 0, 1, 9]),
    trailers=st.lists(st.tuples(st.sampled_from(["x-t", "x-u"]), _values), max_size=2),
    reset=st.booleans(),
    content_length=st.booleans(),
    big=st.sampled_from([0, 0, 0, 0, 20000]),
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Scenario, list[int]]:
    responses = draw(st.lists(_responses, min_size=1, max_size=5))
    tickets = [i for i, n in enumerate(ops_count(responses)) for _ in range(n)]
    order = draw(st.permutations(tickets))
    extras = draw(
        st.dictionaries(
            st.integers(0, max(0, len(order) - 1)),
            st.lists(
                st.sampled_from(
                    ["ping", "window", "settings", "window-size", "priority", "unknown"]
                ),
                max_size=2,
            ),
            max_size=3,
        )
    )
    goaway = draw(st.one_of(st.booleans(), st.integers(0, 4)))
    points = draw(st.lists(st.integers(0, 30000), max_size=8))
    return Scenario(responses, list(order), extras, goaway), points


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_generated_streams_match_h2(case: tuple[Scenario, list[int]]) -> None:
    scenario, points = case
    compare(scenario, splits=points)


def _frame(ftype: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return struct.pack(">BHBBL", n >> 16, n & 0xFFFF, ftype, flags, sid) + payload


def _u32(value: int) -> bytes:
    return struct.pack(">L", value)


_OK = b"\x88"  # :status 200
# (name, server bytes after its SETTINGS, our error code, h2's error code when it differs:
# the RFC's word on each difference in the comment)
CONNECTION_ERRORS: list[tuple[str, bytes, int, int | None]] = [
    ("ping-length", _frame(6, 0, 0, b"x" * 7), 6, None),
    ("ping-on-stream", _frame(6, 0, 1, b"x" * 8), 1, None),
    ("settings-length", _frame(4, 0, 0, b"\0" * 5), 6, None),
    # RFC 9113 section 6.5: an ACK with a payload is a FRAME_SIZE_ERROR (h2: PROTOCOL_ERROR).
    ("settings-ack-length", _frame(4, 1, 0, b"\0" * 6), 6, 1),
    ("settings-on-stream", _frame(4, 0, 1), 1, None),
    ("enable-push-1", _frame(4, 0, 0, struct.pack(">HL", 2, 1)), 1, None),
    ("enable-push-2", _frame(4, 0, 0, struct.pack(">HL", 2, 2)), 1, None),
    ("initial-window", _frame(4, 0, 0, struct.pack(">HL", 4, 2**31)), 3, None),
    ("max-frame-low", _frame(4, 0, 0, struct.pack(">HL", 5, 100)), 1, None),
    ("max-frame-high", _frame(4, 0, 0, struct.pack(">HL", 5, 2**24)), 1, None),
    ("window-update-length", _frame(8, 0, 0, b"\0" * 3), 6, None),
    ("window-update-0", _frame(8, 0, 0, _u32(0)), 1, None),
    ("window-overflow", _frame(8, 0, 0, _u32(2**31 - 1)), 3, None),
    ("window-update-idle", _frame(8, 0, 9, _u32(1)), 1, None),
    ("rst-stream-0", _frame(3, 0, 0, _u32(0)), 1, None),
    ("rst-stream-length", _frame(3, 0, 1, b"\0" * 3), 6, None),
    # RFC 9113 section 6.4: RST_STREAM on an idle stream is a connection error (h2: accepted).
    ("rst-stream-idle", _frame(3, 0, 9, _u32(0)), 1, 0),
    ("data-stream-0", _frame(0, 0, 0, b"x"), 1, None),
    ("data-padding", _frame(0, 8, 1, b"\x05x"), 1, None),
    ("headers-stream-0", _frame(1, 4, 0, _OK), 1, None),
    ("headers-idle", _frame(1, 4, 9, _OK), 1, None),
    ("headers-even", _frame(1, 4, 2, _OK), 1, None),
    ("push-promise", _frame(5, 4, 1, _u32(2) + _OK), 1, None),
    ("continuation-alone", _frame(9, 4, 1, _OK), 1, None),
    ("continuation-interrupted", _frame(1, 0, 1, _OK) + _frame(6, 0, 0, b"x" * 8), 1, None),
    ("goaway-on-stream", _frame(7, 0, 1, _u32(0) * 2), 1, None),
    ("goaway-length", _frame(7, 0, 0, _u32(0)), 6, None),
    ("priority-stream-0", _frame(2, 0, 0, _u32(1) + b"\x10"), 1, None),
    # RFC 9113 section 4.3: an undecodable field block is a COMPRESSION_ERROR (h2: PROTOCOL).
    ("bad-hpack", _frame(1, 4, 1, b"\xbf"), 9, 1),
    ("too-big", struct.pack(">BHBBL", 0, 16385, 0, 0, 1) + b"x" * 16385, 6, None),
]


@pytest.mark.parametrize(
    ("raw", "code", "h2_code"),
    [case[1:] for case in CONNECTION_ERRORS],
    ids=[case[0] for case in CONNECTION_ERRORS],
)
def test_connection_errors_agree_with_h2(raw: bytes, code: int, h2_code: int | None) -> None:
    import h2.exceptions

    conn, _ = ours(1)
    conn.receive_data(_frame(4, 0, 0))
    with pytest.raises(http2.RemoteProtocolError) as info:
        conn.receive_data(raw)
    assert info.value.error_code == code
    oracle = theirs(1)
    oracle.receive_data(_frame(4, 0, 0))
    try:
        oracle.receive_data(raw)
        theirs_code = 0  # accepted
    except h2.exceptions.ProtocolError as exc:
        theirs_code = exc.error_code
    assert theirs_code == (code if h2_code is None else h2_code)
