"""CPU cost of the HTTP/2 engine alone: httpwire.http2 vs h2 + hpack vs a minimal frame loop.

Run: ``.venv/bin/python bench/http2_engine.py [--quick] [--rounds N]``.  No network: the server's
byte stream is precomputed, in memory.  About 10 s (``--quick``: 2 s).

The work (issue 13's "Done when"): the responses of 100 concurrent GETs.  A client opens 100
streams (GET, 4 request fields, END_STREAM) on a fresh connection after the preface; an ``h2``
server (``client_side=False``) answers each with a 200, 7 response fields and a 100-byte body
(HEADERS, then DATA with END_STREAM), after its SETTINGS and the ACK of the client's.  That byte
stream is fed to each client in 16 KiB pieces (as TLS records arrive); every DATA event is
acknowledged (``acknowledge_received_data``), every body checked at the end.

Columns (CPU time per response, best round of N; ``time.process_time``):

- ``httpwire.http2``: :class:`httpwire.http2.Connection`;
- ``no block cache``: the same with ``header_block_cache=0`` (every header block decoded, as
  if no two responses had the same header bytes);
- ``h2``: ``h2.connection.H2Connection`` configured as httpwire's HTTP/2 connection configures
  it (``header_encoding=None``, inbound validation and normalisation on, outbound off);
- ``minimal``: a hand-written loop: frame headers with ``struct``, DATA payloads sliced out,
  END_STREAM counted; no HPACK, no validation, no flow control, no events: the floor.

Two measures: ``receive``: ``receive_data`` and the acknowledgements only (clients prepared
outside the timing); ``round``: the whole exchange: connection, preface, 100 requests encoded,
then ``receive``.

Scenarios (server header blocks):

- ``indexed``: h2's HPACK encoder, the same 7 fields on every response (after the first they
  are all indexed: how hypercorn and most h2-based servers answer);
- ``unique``: the same plus an ``x-request-id`` that differs on every response (a literal with
  incremental indexing and a table insertion per response: nothing repeats);
- ``literal``: every field a never-indexed Huffman-coded literal, the same on every response
  (how nginx answers: it does not use the dynamic table for responses).
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402
from hpack import NeverIndexedHeaderTuple  # noqa: E402

from httpwire import http2  # noqa: E402

STREAMS = 100
BODY = bytes(range(100))
PIECE = 16384
FIELDS = [
    ("server", "nginx/1.22.1"),
    ("date", "Sat, 05 Dec 2026 20:15:00 GMT"),
    ("content-type", "application/octet-stream"),
    ("content-length", str(len(BODY))),
    ("last-modified", "Thu, 03 Dec 2026 10:00:00 GMT"),
    ("etag", '"6930e9a0-64"'),
    ("accept-ranges", "bytes"),
]
REQUEST = [
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":authority", b"127.0.0.1:8443"),
    (b":path", b"/small"),
]


def server_stream(scenario: str) -> bytes:
    """The server's bytes answering a client that sent the preface and 100 GETs."""
    client = http2.Connection()
    client.initiate_connection()
    for _ in range(STREAMS):
        client.send_headers(client.get_next_available_stream_id(), REQUEST, end_stream=True)
    server = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=False, header_encoding=None)
    )
    server.initiate_connection()
    answered = 0
    for event in server.receive_data(client.data_to_send()):
        if isinstance(event, h2.events.RequestReceived):
            fields: list[Any] = [(":status", "200"), *FIELDS]
            if scenario == "unique":
                fields.append(("x-request-id", f"{event.stream_id * 7919:016x}"))
            elif scenario == "literal":
                fields = [(":status", "200")] + [NeverIndexedHeaderTuple(*f) for f in FIELDS]
            server.send_headers(event.stream_id, fields)
            server.send_data(event.stream_id, BODY, end_stream=True)
            answered += 1
    assert answered == STREAMS
    return server.data_to_send()


def _pieces(data: bytes) -> list[bytes]:
    return [data[i : i + PIECE] for i in range(0, len(data), PIECE)]


def ours_client(cache: int = 256) -> http2.Connection:
    conn = http2.Connection(validate_outbound_headers=False, header_block_cache=cache)
    conn.initiate_connection()
    for _ in range(STREAMS):
        conn.send_headers(conn.get_next_available_stream_id(), REQUEST, end_stream=True)
    conn.data_to_send()
    return conn


def ours_receive(conn: http2.Connection, pieces: list[bytes]) -> int:
    done = 0
    bodies = 0
    data_received = http2.DataReceived
    stream_ended = http2.StreamEnded
    for piece in pieces:
        for event in conn.receive_data(piece):
            cls = type(event)
            if cls is data_received:
                bodies += len(event.data)  # type: ignore[attr-defined]
                conn.acknowledge_received_data(
                    event.flow_controlled_length,  # type: ignore[attr-defined]
                    event.stream_id,  # type: ignore[attr-defined]
                )
            elif cls is stream_ended:
                done += 1
        conn.data_to_send()
    assert done == STREAMS and bodies == STREAMS * len(BODY), (done, bodies)
    return done


_H2_CONFIG = dict(
    client_side=True,
    header_encoding=None,
    validate_outbound_headers=False,
    normalize_outbound_headers=False,
    validate_inbound_headers=True,
    normalize_inbound_headers=True,
)


def h2_client() -> h2.connection.H2Connection:
    conn = h2.connection.H2Connection(h2.config.H2Configuration(**_H2_CONFIG))
    conn.initiate_connection()
    for _ in range(STREAMS):
        conn.send_headers(conn.get_next_available_stream_id(), REQUEST, end_stream=True)
    conn.data_to_send()
    return conn


def h2_receive(conn: h2.connection.H2Connection, pieces: list[bytes]) -> int:
    done = 0
    bodies = 0
    for piece in pieces:
        for event in conn.receive_data(piece):
            cls = type(event)
            if cls is h2.events.DataReceived:
                bodies += len(event.data)
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif cls is h2.events.StreamEnded:
                done += 1
        conn.data_to_send()
    assert done == STREAMS and bodies == STREAMS * len(BODY), (done, bodies)
    return done


_FRAME = struct.Struct(">BHBBL")


def minimal_receive(_conn: object, pieces: list[bytes]) -> int:
    unpack = _FRAME.unpack_from
    buf = b""
    done = 0
    bodies = 0
    for piece in pieces:
        buf = buf + piece if buf else piece
        pos = 0
        n = len(buf)
        while n - pos >= 9:
            hi, lo, ftype, flags, _sid = unpack(buf, pos)
            end = pos + 9 + (hi << 16 | lo)
            if end > n:
                break
            if ftype == 0:
                bodies += len(buf[pos + 9 : end])
                if flags & 1:
                    done += 1
            pos = end
        buf = buf[pos:]
    assert done == STREAMS and bodies == STREAMS * len(BODY), (done, bodies)
    return done


CLIENTS: dict[str, tuple[Callable[[], Any], Callable[[Any, list[bytes]], int]]] = {
    "httpwire.http2": (ours_client, ours_receive),
    "no-cache": (lambda: ours_client(0), ours_receive),
    "h2": (h2_client, h2_receive),
    "minimal": (lambda: None, minimal_receive),
}


def measure(scenario: str, rounds: int, batch: int) -> dict[str, dict[str, float]]:
    """{client: {"receive": s per response, "round": s per response}} (best round)."""
    pieces = _pieces(server_stream(scenario))
    results: dict[str, dict[str, float]] = {name: {} for name in CLIENTS}
    best_receive = {name: float("inf") for name in CLIENTS}
    best_round = {name: float("inf") for name in CLIENTS}
    for _ in range(rounds):
        for name, (make, receive) in CLIENTS.items():  # interleaved: same disturbances
            clients = [make() for _ in range(batch)]
            t0 = time.process_time()
            for conn in clients:
                receive(conn, pieces)
            t1 = time.process_time()
            best_receive[name] = min(best_receive[name], (t1 - t0) / batch)
            t0 = time.process_time()
            for _ in range(batch):
                receive(make(), pieces)
            t1 = time.process_time()
            best_round[name] = min(best_round[name], (t1 - t0) / batch)
    for name in CLIENTS:
        results[name]["receive"] = best_receive[name] / STREAMS
        results[name]["round"] = best_round[name] / STREAMS
    return results


def huffman(rounds: int) -> tuple[float, float]:
    """µs to Huffman-decode the 7 response values and 4 request values (ours, hpack's),
    without our decoder's string cache (the function itself)."""
    from hpack.huffman_table import decode_huffman

    from httpwire.http2._hpack import huffman_decode, huffman_encode

    strings = [huffman_encode(v.encode()) for _, v in FIELDS] + [
        huffman_encode(v) for _, v in REQUEST
    ]
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for i, fn in enumerate((huffman_decode, decode_huffman)):
            t0 = time.process_time()
            for _ in range(1000):
                for raw in strings:
                    fn(raw)
            best[i] = min(best[i], (time.process_time() - t0) / 1000 * 1e6)
    return best[0], best[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 10)
    batch = 5 if args.quick else 10
    print(f"HTTP/2 engine alone: responses of {STREAMS} concurrent GETs, CPU µs per response")
    print(f"(best of {rounds} rounds of {batch} connections; Python {sys.version.split()[0]})\n")
    print(
        "| scenario | measure | httpwire.http2 | (no block cache) | h2 | minimal "
        "| h2 / ours | h2 / ours without cache | ours / minimal |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for scenario in ("indexed", "unique", "literal"):
        res = measure(scenario, rounds, batch)
        for measure_name in ("receive", "round"):
            ours = res["httpwire.http2"][measure_name] * 1e6
            bare = res["no-cache"][measure_name] * 1e6
            theirs = res["h2"][measure_name] * 1e6
            floor = res["minimal"][measure_name] * 1e6
            print(
                f"| {scenario} | {measure_name} | {ours:.2f} | {bare:.2f} | {theirs:.2f} "
                f"| {floor:.2f} | {theirs / ours:.1f}x | {theirs / bare:.1f}x "
                f"| {ours / floor:.1f}x |"
            )
    ours_h, theirs_h = huffman(rounds)
    print(
        f"\nHuffman decoding of the 11 field values above: {ours_h:.1f} µs (ours), "
        f"{theirs_h:.1f} µs (hpack), {theirs_h / ours_h:.1f}x"
    )


if __name__ == "__main__":
    main()
