"""HPACK (RFC 7541) in httpwire.http2._hpack: the RFC's appendix C examples, the hpack-test-case
corpora (tests/data/hpack-test-case, see its README), Huffman against the ``hpack`` package,
and the limits (HPACK bomb, table size the peer can make us hold, malformed input)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import hpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httpwire.http2._hpack import (
    Decoder,
    Encoder,
    HeaderListTooLarge,
    HPACKDecodingError,
    InvalidHeaderField,
    encode_integer,
    huffman_decode,
    huffman_encode,
)

DATA = Path(__file__).resolve().parent / "data" / "hpack-test-case"

H = list[tuple[bytes, bytes]]

# RFC 7541 appendix C.3/C.4 (requests) and C.5/C.6 (responses, table size 256): the wire of
# each block, the header list, the dynamic table size after it.
REQUESTS: list[tuple[H, int]] = [
    ([(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"),
      (b":authority", b"www.example.com")], 57),
    ([(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"),
      (b":authority", b"www.example.com"), (b"cache-control", b"no-cache")], 110),
    ([(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/index.html"),
      (b":authority", b"www.example.com"), (b"custom-key", b"custom-value")], 164),
]  # fmt: skip
C3 = [
    "828684410f7777772e6578616d706c652e636f6d",
    "828684be58086e6f2d6361636865",
    "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
]
C4 = [
    "828684418cf1e3c2e5f23a6ba0ab90f4ff",
    "828684be5886a8eb10649cbf",
    "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
]
_DATE1 = b"Mon, 21 Oct 2013 20:13:21 GMT"
_LOC = b"https://www.example.com"
RESPONSES: list[tuple[H, int]] = [
    ([(b":status", b"302"), (b"cache-control", b"private"), (b"date", _DATE1),
      (b"location", _LOC)], 222),
    ([(b":status", b"307"), (b"cache-control", b"private"), (b"date", _DATE1),
      (b"location", _LOC)], 222),
    ([(b":status", b"200"), (b"cache-control", b"private"),
      (b"date", b"Mon, 21 Oct 2013 20:13:22 GMT"), (b"location", _LOC),
      (b"content-encoding", b"gzip"),
      (b"set-cookie", b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")], 215),
]  # fmt: skip
C5 = [
    "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54"
    "6e1768747470733a2f2f7777772e6578616d706c652e636f6d",
    "4803333037c1c0bf",
    "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f"
    "3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076"
    "657273696f6e3d31",
]
C6 = [
    "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f"
    "0b97c8e9ae82ae43d3",
    "4883640effc1c0bf",
    "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335df"
    "dfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
]


def test_c1_integers() -> None:
    # C.1.1-C.1.3: 10 and 1337 with a 5-bit prefix, 42 with an 8-bit prefix.
    for value, bits, wire in ((10, 5, "0a"), (1337, 5, "1f9a0a"), (42, 8, "2a")):
        out = bytearray()
        encode_integer(value, bits, 0, out)
        assert out.hex() == wire


def test_c2_literal_representations() -> None:
    d = Decoder()
    # C.2.1: literal with indexing, new name.
    assert d.decode(bytes.fromhex("400a637573746f6d2d6b65790d637573746f6d2d686561646572")) == [
        (b"custom-key", b"custom-header")
    ]
    assert d.table == [(b"custom-key", b"custom-header")] and d.table_size == 55
    # C.2.2 without indexing, C.2.3 never indexed, C.2.4 indexed: the table does not change.
    d = Decoder()
    assert d.decode(bytes.fromhex("040c2f73616d706c652f70617468")) == [(b":path", b"/sample/path")]
    assert d.decode(bytes.fromhex("100870617373776f726406736563726574")) == [
        (b"password", b"secret")
    ]
    assert d.decode(b"\x82") == [(b":method", b"GET")]
    assert d.table == [] and d.table_size == 0


@pytest.mark.parametrize(
    ("wires", "blocks", "huffman", "table_size"),
    [(C3, REQUESTS, False, 4096), (C4, REQUESTS, True, 4096),
     (C5, RESPONSES, False, 256), (C6, RESPONSES, True, 256)],
    ids=["C.3", "C.4", "C.5", "C.6"],
)  # fmt: skip
def test_appendix_c_decode_and_encode(
    wires: list[str], blocks: list[tuple[H, int]], huffman: bool, table_size: int
) -> None:
    decoder = Decoder(max_table_size=table_size)
    encoder = Encoder(huffman=huffman, header_table_size=table_size)
    for wire, (headers, size) in zip(wires, blocks, strict=True):
        assert decoder.decode(bytes.fromhex(wire)) == headers
        assert decoder.table_size == size
        # Our encoder makes the same choices as the RFC's examples, byte for byte.
        assert encoder.encode(headers).hex() == wire
    assert decoder.table == encoder.table


def _stories(encoders: bool) -> list[Path]:
    paths = sorted(DATA.glob("*/story_*.json"))
    return [p for p in paths if (p.parent.name != "raw-data") == encoders]


def _headers(case: dict[str, object]) -> H:
    return [(k.encode(), v.encode()) for h in case["headers"] for k, v in h.items()]  # type: ignore[attr-defined]


def test_the_corpus_is_there() -> None:
    assert len(_stories(True)) == 14 * 20 and len(_stories(False)) == 20


@pytest.mark.parametrize("directory", sorted({p.parent.name for p in _stories(True)}))
def test_hpack_test_case_decode_every_story(directory: str) -> None:
    cases = 0
    for path in sorted((DATA / directory).glob("story_*.json")):
        decoder = Decoder(max_header_list_size=1 << 20, validate=False)
        for case in json.loads(path.read_text())["cases"]:
            if case.get("header_table_size") is not None:
                decoder.set_max_allowed_table_size(case["header_table_size"])
            assert decoder.decode(bytes.fromhex(case["wire"])) == _headers(case), (path, case)
            cases += 1
    assert cases > 100


@pytest.mark.parametrize("huffman", [True, False])
@pytest.mark.parametrize("table_size", [4096, 256, 0])
def test_hpack_test_case_raw_data_encode_and_redecode(huffman: bool, table_size: int) -> None:
    for path in _stories(False):
        encoder = Encoder(huffman=huffman, header_table_size=table_size)
        ours = Decoder(max_table_size=table_size, max_header_list_size=1 << 20)
        theirs = hpack.Decoder(max_header_list_size=1 << 20)
        theirs.header_table_size = table_size
        for case in json.loads(path.read_text())["cases"]:
            headers = _headers(case)
            wire = encoder.encode(headers)
            assert ours.decode(wire) == headers
            assert [(bytes(n), bytes(v)) for n, v in theirs.decode(wire, raw=True)] == headers
            assert ours.table == encoder.table


def test_encoder_signals_table_size_changes() -> None:
    # RFC 7541 section 4.2: after the peer changes SETTINGS_HEADER_TABLE_SIZE the next block
    # starts with a size update; after 4096 -> 0 -> 1024 the smallest value and then the last.
    enc, dec = Encoder(), Decoder(max_table_size=4096)
    headers = [(b":method", b"GET"), (b"x-a", b"1" * 50)]
    dec.decode(enc.encode(headers))
    assert dec.table_size == 85
    enc.header_table_size = 0
    enc.header_table_size = 1024
    wire = enc.encode(headers)
    assert wire[:4] == b"\x20\x3f\xe1\x07"  # size 0, then size 1024 (31 + 993)
    assert dec.decode(wire) == headers
    assert dec.table_max_size == 1024 and dec.table == enc.table == [(b"x-a", b"1" * 50)]
    assert enc.encode(headers) == b"\x82\xbe"  # now both indexed, no size update


def test_decoder_requires_the_size_update_after_lowering_the_setting() -> None:
    enc, dec = Encoder(), Decoder()
    dec.decode(enc.encode([(b"x-a", b"b")]))
    dec.set_max_allowed_table_size(0)  # we lowered SETTINGS_HEADER_TABLE_SIZE, the peer ACKed
    with pytest.raises(HPACKDecodingError, match="missing dynamic table size update"):
        dec.decode(b"\x82")
    assert dec.decode(b"\x20\x82") == [(b":method", b"GET")]
    assert dec.table_size == 0


def test_size_update_above_our_setting_is_refused() -> None:
    # The peer cannot make us hold a bigger table than we advertised.
    dec = Decoder(max_table_size=4096)
    out = bytearray()
    encode_integer(4097, 5, 0x20, out)
    with pytest.raises(HPACKDecodingError, match="above the limit"):
        dec.decode(bytes(out))


def test_size_update_after_a_field_is_refused() -> None:
    with pytest.raises(HPACKDecodingError, match="after a field"):
        Decoder().decode(b"\x82\x20")


def test_table_never_exceeds_its_maximum() -> None:
    dec = Decoder(max_table_size=100)
    enc = Encoder(header_table_size=100)
    for i in range(50):
        dec.decode(enc.encode([(b"x-%d" % i, b"v" * (i % 40))]))
        assert dec.table_size <= 100
    # An entry larger than the table empties it (RFC 7541 section 4.4).
    wire = b"\x40\x03x-y\x7f\x00" + b"v" * 127
    assert dec.decode(wire) == [(b"x-y", b"v" * 127)]
    assert dec.table == [] and dec.table_size == 0


def test_hpack_bomb_is_stopped_at_the_limit() -> None:
    # One 4 KB entry, then a block referring to it 10,000 times (10 KB on the wire, 40 MB
    # decoded): the decoder stops keeping fields at the limit, finishes the block (its table
    # stays in step) and raises.
    dec = Decoder(max_header_list_size=65536)
    first = bytearray(b"\x40\x01a")
    encode_integer(4000, 7, 0, first)
    assert dec.decode(bytes(first) + b"x" * 4000) == [(b"a", b"x" * 4000)]
    with pytest.raises(HeaderListTooLarge):
        dec.decode(b"\xbe" * 10000)
    assert dec.table_size == 4033
    assert dec.decode(b"\xbe") == [(b"a", b"x" * 4000)]


@pytest.mark.parametrize(
    "wire",
    [
        b"\x80",  # index 0
        b"\xbe",  # dynamic index into an empty table
        b"\xff\x80\x80\x80\x80\x80\x80",  # unterminated integer
        b"\xff\xff\xff\xff\xff\x7f",  # integer too large
        b"\x04\x05/a",  # string longer than the block
        b"\x04\x81\xff",  # Huffman padding longer than 7 bits
        b"\x04\x84\xff\xff\xff\xff",  # EOS in the string
        b"\x04\x81\x00",  # padding not all ones
        b"\x0f\x2f\x01a",  # name index out of range
        b"\x04",  # a field cut after its name index
        b"\x40\x01a",  # a field cut after its name
    ],
)
def test_malformed_blocks(wire: bytes) -> None:
    with pytest.raises(HPACKDecodingError):
        Decoder().decode(wire)


def test_huffman_eos_and_padding_rules() -> None:
    assert huffman_decode(b"") == b""
    assert huffman_decode(huffman_encode(b"a")) == b"a"
    with pytest.raises(HPACKDecodingError, match="EOS"):
        huffman_decode(b"\xff\xff\xff\xfc")  # EOS (30 one-bits) then padding
    with pytest.raises(HPACKDecodingError, match="padding"):
        huffman_decode(b"\x1f\xff")  # 'a' (00011) then 11 one-bits of padding


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_huffman_matches_the_hpack_package(data: bytes) -> None:
    encoded = huffman_encode(data)
    assert encoded == hpack.huffman.HuffmanEncoder(
        hpack.huffman_constants.REQUEST_CODES, hpack.huffman_constants.REQUEST_CODES_LENGTH
    ).encode(data)
    assert huffman_decode(encoded) == data


def test_huffman_every_state_and_byte_is_consistent_with_hpack() -> None:
    # Random junk: we and hpack agree on accept/reject and on the result.
    from hpack.huffman_table import decode_huffman

    rnd = random.Random(7)
    for _ in range(3000):
        data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 8)))
        try:
            theirs: bytes | None = decode_huffman(data)
        except hpack.HPACKDecodingError:
            theirs = None
        try:
            ours: bytes | None = huffman_decode(data)
        except HPACKDecodingError:
            ours = None
        assert ours == theirs, data


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"Content-Type", b"x"),
        (b"x a", b"x"),
        (b"", b"x"),
        (b"x", b"a\r\nb"),
        (b"x", b"a\x00"),
        (b"x", b" a"),
        (b"x", b"a\t"),
        (b"connection", b"close"),
        (b"transfer-encoding", b"chunked"),
        (b"te", b"gzip"),
        (b"a:b", b"x"),
    ],
)
def test_validation_of_malformed_fields(name: bytes, value: bytes) -> None:
    wire = b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
    dec = Decoder(validate=True)
    with pytest.raises(InvalidHeaderField):
        dec.decode(wire)
    # Inserted into the table (in step with the peer) and still refused when referred to.
    with pytest.raises(InvalidHeaderField):
        dec.decode(b"\x40" + wire[1:])
    with pytest.raises(InvalidHeaderField):
        dec.decode(b"\xbe")
    assert Decoder().decode(wire) == [(name, value)]  # without validate=True: decoded as it is


def test_validation_accepts_good_fields() -> None:
    good = [(b":status", b"200"), (b"te", b"trailers"), (b"x-a", b""), (b"x", b"a b")]
    assert Decoder(validate=True).decode(Encoder().encode(good)) == good


_fields = st.lists(
    st.tuples(
        st.sampled_from([b":status", b"server", b"x-a", b"x-b", b"cookie", b"authorization",
                         b"content-length", b"set-cookie"]),
        st.binary(max_size=120),
    ),
    max_size=12,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_fields, min_size=1, max_size=8), st.sampled_from([0, 64, 256, 4096]))
def test_our_encoder_and_hpacks_decoder_agree_and_back(blocks: list[H], size: int) -> None:
    # Both directions, the dynamic tables of the two sides in step block after block.
    ours_enc, ours_dec = Encoder(header_table_size=size), Decoder(max_table_size=size)
    theirs_dec = hpack.Decoder()
    theirs_dec.header_table_size = size
    theirs_enc = hpack.Encoder()
    theirs_enc.header_table_size = size
    for block in blocks:
        wire = ours_enc.encode(block)
        assert [(bytes(n), bytes(v)) for n, v in theirs_dec.decode(wire, raw=True)] == block
        assert ours_dec.decode(theirs_enc.encode(block)) == block
