"""HPACK (RFC 7541): header compression for HTTP/2, decoder and encoder.

Header fields are ``(name, value)`` tuples of ``bytes``.  The decoder counts the decoded header
list as it goes (RFC 9113 section 6.5.2: name + value + 32 octets per field) and stops keeping
fields once past ``max_header_list_size`` (the "HPACK bomb": a few wire bytes that reference a
large table entry many times), while still processing the whole block so that its dynamic table
stays in step with the peer's encoder; then it raises :class:`HeaderListTooLarge`.  The dynamic
table the peer can make us hold is bounded by the ``max_table_size`` we advertise
(``SETTINGS_HEADER_TABLE_SIZE``); a larger size update is a :class:`HPACKDecodingError`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable

__all__ = [
    "STATIC_TABLE",
    "Decoder",
    "Encoder",
    "HPACKError",
    "HPACKDecodingError",
    "HeaderListTooLarge",
    "InvalidHeaderField",
    "huffman_decode",
    "huffman_encode",
]

Header = tuple[bytes, bytes]


class HPACKError(Exception):
    """Base class of the HPACK errors."""


class HPACKDecodingError(HPACKError):
    """The header block cannot be decoded (RFC 9113 section 4.3: a connection error of type
    COMPRESSION_ERROR): bad integer, truncated string, bad Huffman code, index out of range,
    table size update above the limit or after a field."""


class HeaderListTooLarge(HPACKError):
    """The decoded header list is larger than ``max_header_list_size``.  The block was decoded to
    its end (the dynamic table is in step): the connection stays usable; the stream is not."""


class InvalidHeaderField(HPACKError):
    """A field is malformed per RFC 9113 section 8.2.1 (raised only by a decoder made with
    ``validate=True``, after the whole block was decoded: the dynamic table is in step)."""


#: RFC 7541 appendix A; index 1 is ``STATIC_TABLE[1]`` (index 0 is unused).
STATIC_TABLE: tuple[Header, ...] = (
    (b"", b""),
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
)
_STATIC_LEN = len(STATIC_TABLE) - 1  # 61

#: RFC 7541 appendix B: (code, bit length) for symbols 0-255 and EOS (256).
HUFFMAN_CODES: tuple[tuple[int, int], ...] = (
    (0x1FF8, 13),
    (0x7FFFD8, 23),
    (0xFFFFFE2, 28),
    (0xFFFFFE3, 28),
    (0xFFFFFE4, 28),
    (0xFFFFFE5, 28),
    (0xFFFFFE6, 28),
    (0xFFFFFE7, 28),
    (0xFFFFFE8, 28),
    (0xFFFFEA, 24),
    (0x3FFFFFFC, 30),
    (0xFFFFFE9, 28),
    (0xFFFFFEA, 28),
    (0x3FFFFFFD, 30),
    (0xFFFFFEB, 28),
    (0xFFFFFEC, 28),
    (0xFFFFFED, 28),
    (0xFFFFFEE, 28),
    (0xFFFFFEF, 28),
    (0xFFFFFF0, 28),
    (0xFFFFFF1, 28),
    (0xFFFFFF2, 28),
    (0x3FFFFFFE, 30),
    (0xFFFFFF3, 28),
    (0xFFFFFF4, 28),
    (0xFFFFFF5, 28),
    (0xFFFFFF6, 28),
    (0xFFFFFF7, 28),
    (0xFFFFFF8, 28),
    (0xFFFFFF9, 28),
    (0xFFFFFFA, 28),
    (0xFFFFFFB, 28),
    (0x14, 6),
    (0x3F8, 10),
    (0x3F9, 10),
    (0xFFA, 12),
    (0x1FF9, 13),
    (0x15, 6),
    (0xF8, 8),
    (0x7FA, 11),
    (0x3FA, 10),
    (0x3FB, 10),
    (0xF9, 8),
    (0x7FB, 11),
    (0xFA, 8),
    (0x16, 6),
    (0x17, 6),
    (0x18, 6),
    (0x0, 5),
    (0x1, 5),
    (0x2, 5),
    (0x19, 6),
    (0x1A, 6),
    (0x1B, 6),
    (0x1C, 6),
    (0x1D, 6),
    (0x1E, 6),
    (0x1F, 6),
    (0x5C, 7),
    (0xFB, 8),
    (0x7FFC, 15),
    (0x20, 6),
    (0xFFB, 12),
    (0x3FC, 10),
    (0x1FFA, 13),
    (0x21, 6),
    (0x5D, 7),
    (0x5E, 7),
    (0x5F, 7),
    (0x60, 7),
    (0x61, 7),
    (0x62, 7),
    (0x63, 7),
    (0x64, 7),
    (0x65, 7),
    (0x66, 7),
    (0x67, 7),
    (0x68, 7),
    (0x69, 7),
    (0x6A, 7),
    (0x6B, 7),
    (0x6C, 7),
    (0x6D, 7),
    (0x6E, 7),
    (0x6F, 7),
    (0x70, 7),
    (0x71, 7),
    (0x72, 7),
    (0xFC, 8),
    (0x73, 7),
    (0xFD, 8),
    (0x1FFB, 13),
    (0x7FFF0, 19),
    (0x1FFC, 13),
    (0x3FFC, 14),
    (0x22, 6),
    (0x7FFD, 15),
    (0x3, 5),
    (0x23, 6),
    (0x4, 5),
    (0x24, 6),
    (0x5, 5),
    (0x25, 6),
    (0x26, 6),
    (0x27, 6),
    (0x6, 5),
    (0x74, 7),
    (0x75, 7),
    (0x28, 6),
    (0x29, 6),
    (0x2A, 6),
    (0x7, 5),
    (0x2B, 6),
    (0x76, 7),
    (0x2C, 6),
    (0x8, 5),
    (0x9, 5),
    (0x2D, 6),
    (0x77, 7),
    (0x78, 7),
    (0x79, 7),
    (0x7A, 7),
    (0x7B, 7),
    (0x7FFE, 15),
    (0x7FC, 11),
    (0x3FFD, 14),
    (0x1FFD, 13),
    (0xFFFFFFC, 28),
    (0xFFFE6, 20),
    (0x3FFFD2, 22),
    (0xFFFE7, 20),
    (0xFFFE8, 20),
    (0x3FFFD3, 22),
    (0x3FFFD4, 22),
    (0x3FFFD5, 22),
    (0x7FFFD9, 23),
    (0x3FFFD6, 22),
    (0x7FFFDA, 23),
    (0x7FFFDB, 23),
    (0x7FFFDC, 23),
    (0x7FFFDD, 23),
    (0x7FFFDE, 23),
    (0xFFFFEB, 24),
    (0x7FFFDF, 23),
    (0xFFFFEC, 24),
    (0xFFFFED, 24),
    (0x3FFFD7, 22),
    (0x7FFFE0, 23),
    (0xFFFFEE, 24),
    (0x7FFFE1, 23),
    (0x7FFFE2, 23),
    (0x7FFFE3, 23),
    (0x7FFFE4, 23),
    (0x1FFFDC, 21),
    (0x3FFFD8, 22),
    (0x7FFFE5, 23),
    (0x3FFFD9, 22),
    (0x7FFFE6, 23),
    (0x7FFFE7, 23),
    (0xFFFFEF, 24),
    (0x3FFFDA, 22),
    (0x1FFFDD, 21),
    (0xFFFE9, 20),
    (0x3FFFDB, 22),
    (0x3FFFDC, 22),
    (0x7FFFE8, 23),
    (0x7FFFE9, 23),
    (0x1FFFDE, 21),
    (0x7FFFEA, 23),
    (0x3FFFDD, 22),
    (0x3FFFDE, 22),
    (0xFFFFF0, 24),
    (0x1FFFDF, 21),
    (0x3FFFDF, 22),
    (0x7FFFEB, 23),
    (0x7FFFEC, 23),
    (0x1FFFE0, 21),
    (0x1FFFE1, 21),
    (0x3FFFE0, 22),
    (0x1FFFE2, 21),
    (0x7FFFED, 23),
    (0x3FFFE1, 22),
    (0x7FFFEE, 23),
    (0x7FFFEF, 23),
    (0xFFFEA, 20),
    (0x3FFFE2, 22),
    (0x3FFFE3, 22),
    (0x3FFFE4, 22),
    (0x7FFFF0, 23),
    (0x3FFFE5, 22),
    (0x3FFFE6, 22),
    (0x7FFFF1, 23),
    (0x3FFFFE0, 26),
    (0x3FFFFE1, 26),
    (0xFFFEB, 20),
    (0x7FFF1, 19),
    (0x3FFFE7, 22),
    (0x7FFFF2, 23),
    (0x3FFFE8, 22),
    (0x1FFFFEC, 25),
    (0x3FFFFE2, 26),
    (0x3FFFFE3, 26),
    (0x3FFFFE4, 26),
    (0x7FFFFDE, 27),
    (0x7FFFFDF, 27),
    (0x3FFFFE5, 26),
    (0xFFFFF1, 24),
    (0x1FFFFED, 25),
    (0x7FFF2, 19),
    (0x1FFFE3, 21),
    (0x3FFFFE6, 26),
    (0x7FFFFE0, 27),
    (0x7FFFFE1, 27),
    (0x3FFFFE7, 26),
    (0x7FFFFE2, 27),
    (0xFFFFF2, 24),
    (0x1FFFE4, 21),
    (0x1FFFE5, 21),
    (0x3FFFFE8, 26),
    (0x3FFFFE9, 26),
    (0xFFFFFFD, 28),
    (0x7FFFFE3, 27),
    (0x7FFFFE4, 27),
    (0x7FFFFE5, 27),
    (0xFFFEC, 20),
    (0xFFFFF3, 24),
    (0xFFFED, 20),
    (0x1FFFE6, 21),
    (0x3FFFE9, 22),
    (0x1FFFE7, 21),
    (0x1FFFE8, 21),
    (0x7FFFF3, 23),
    (0x3FFFEA, 22),
    (0x3FFFEB, 22),
    (0x1FFFFEE, 25),
    (0x1FFFFEF, 25),
    (0xFFFFF4, 24),
    (0xFFFFF5, 24),
    (0x3FFFFEA, 26),
    (0x7FFFF4, 23),
    (0x3FFFFEB, 26),
    (0x7FFFFE6, 27),
    (0x3FFFFEC, 26),
    (0x3FFFFED, 26),
    (0x7FFFFE7, 27),
    (0x7FFFFE8, 27),
    (0x7FFFFE9, 27),
    (0x7FFFFEA, 27),
    (0x7FFFFEB, 27),
    (0xFFFFFFE, 28),
    (0x7FFFFEC, 27),
    (0x7FFFFED, 27),
    (0x7FFFFEE, 27),
    (0x7FFFFEF, 27),
    (0x7FFFFF0, 27),
    (0x3FFFFEE, 26),
    (0x3FFFFFFF, 30),
)

# ---------------------------------------------------------------------------------------------
# Huffman
# ---------------------------------------------------------------------------------------------


def _build_tree() -> tuple[list[list[int]], frozenset[int]]:
    """The decoding tree: node 0 is the root; a child >= 0 is a node, -1 - sym is a leaf."""
    nodes: list[list[int]] = [[0, 0]]
    for sym, (code, length) in enumerate(HUFFMAN_CODES):
        node = 0
        for i in range(length - 1, -1, -1):
            bit = (code >> i) & 1
            if i == 0:
                nodes[node][bit] = -1 - sym
            else:
                nxt = nodes[node][bit]
                if nxt <= 0:
                    nodes.append([0, 0])
                    nxt = len(nodes) - 1
                    nodes[node][bit] = nxt
                node = nxt
    # States where decoding may stop: reached from the root by at most 7 one-bits (padding is
    # the most significant bits of EOS, which are all ones; RFC 7541 section 5.2).
    accept = {0}
    node = 0
    for _ in range(7):
        node = nodes[node][1]
        accept.add(node)
    return nodes, frozenset(accept)


_TREE, _ACCEPT = _build_tree()
_N_STATES = len(_TREE)  # 256 internal nodes
_FAIL = (-1, b"")
#: Byte-at-a-time decoding automaton, filled lazily: ``_ROWS[state][byte]`` is (next state,
#: decoded bytes) or ``_FAIL`` (EOS decoded).  At most 256 x 256 entries.
_ROWS: list[list[tuple[int, bytes] | None]] = [[None] * 256 for _ in range(_N_STATES)]


def _fill(state: int, byte: int) -> tuple[int, bytes]:
    node = state
    out = bytearray()
    tree = _TREE
    for i in range(7, -1, -1):
        child = tree[node][(byte >> i) & 1]
        if child < 0:
            sym = -1 - child
            if sym == 256:
                _ROWS[state][byte] = _FAIL
                return _FAIL
            out.append(sym)
            node = 0
        else:
            node = child
    entry = (node, bytes(out))
    _ROWS[state][byte] = entry
    return entry


def huffman_decode(data: bytes) -> bytes:
    """Decode a Huffman-coded string (RFC 7541 section 5.2).

    Raises :class:`HPACKDecodingError` on EOS in the data, padding longer than 7 bits or
    padding that is not the most significant bits of EOS.
    """
    state = 0
    rows = _ROWS
    parts: list[bytes] = []
    append = parts.append
    for byte in data:
        entry = rows[state][byte]
        if entry is None:
            entry = _fill(state, byte)
        state, out = entry
        if state < 0:
            raise HPACKDecodingError("EOS symbol in a Huffman-coded string")
        if out:
            append(out)
    if state not in _ACCEPT:
        raise HPACKDecodingError("invalid padding in a Huffman-coded string")
    return b"".join(parts)


_HUFF_BITS = bytes(length for _code, length in HUFFMAN_CODES[:256])


def huffman_encoded_length(data: bytes) -> int:
    """Octets the Huffman coding of ``data`` takes."""
    return (sum(data.translate(_HUFF_BITS)) + 7) >> 3


def huffman_encode(data: bytes) -> bytes:
    """Huffman-code ``data`` (RFC 7541 section 5.2), padded with the high bits of EOS."""
    codes = HUFFMAN_CODES
    out = bytearray()
    acc = 0
    bits = 0
    for byte in data:
        code, length = codes[byte]
        acc = (acc << length) | code
        bits += length
        if bits >= 32:
            bits -= 32
            out += (acc >> bits).to_bytes(4, "big")
            acc &= (1 << bits) - 1
    if bits:
        pad = (8 - bits) & 7
        acc = (acc << pad) | ((1 << pad) - 1)
        out += acc.to_bytes((bits + pad) >> 3, "big")
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# Integers and strings
# ---------------------------------------------------------------------------------------------

#: Integers above this are refused (no field, index or size in HTTP/2 is near it).
MAX_INTEGER = 2**32 - 1


def _decode_int(data: bytes, pos: int, prefix_max: int) -> tuple[int, int]:
    """The integer whose prefix (already known to be all ones: ``prefix_max``) ends just before
    ``pos``: add the continuation octets (RFC 7541 section 5.1)."""
    value = prefix_max
    shift = 0
    n = len(data)
    while True:
        if pos >= n:
            raise HPACKDecodingError("truncated integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        if value > MAX_INTEGER:
            raise HPACKDecodingError("integer too large")
        if not byte & 0x80:
            return value, pos
        shift += 7


def encode_integer(value: int, prefix_bits: int, first: int, out: bytearray) -> None:
    """Append ``value`` with an N-bit prefix (RFC 7541 section 5.1); ``first`` holds the bits
    above the prefix in the first octet."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        out.append(first | value)
        return
    out.append(first | limit)
    value -= limit
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _encode_string(value: bytes, out: bytearray, huffman: bool) -> None:
    if huffman and len(value) > 1:
        hlen = huffman_encoded_length(value)
        if hlen <= len(value):
            encode_integer(hlen, 7, 0x80, out)
            out += huffman_encode(value)
            return
    encode_integer(len(value), 7, 0, out)
    out += value


# ---------------------------------------------------------------------------------------------
# Field validation (RFC 9113 section 8.2.1 and 8.2.2)
# ---------------------------------------------------------------------------------------------

_NAME_OK = re.compile(rb":?[!#$%&'*+\-.^_`|~0-9a-z]+\Z").match
_VALUE_BAD = re.compile(rb"[\x00\r\n]|\A[ \t]|[ \t]\Z").search
#: Connection-specific fields (RFC 9113 section 8.2.2); ``te`` is allowed with ``trailers``.
CONNECTION_SPECIFIC = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade")
)


def field_error(name: bytes, value: bytes) -> str | None:
    """Why ``(name, value)`` is malformed in HTTP/2, or None (RFC 9113 sections 8.2.1, 8.2.2)."""
    if _NAME_OK(name) is None:
        return f"invalid field name {name!r}"
    if value and _VALUE_BAD(value) is not None:
        return f"invalid value for field {name!r}"
    if name in CONNECTION_SPECIFIC:
        return f"connection-specific field {name!r}"
    if name == b"te" and value != b"trailers":
        return "te field other than 'trailers'"
    return None


class _BadField(tuple[bytes, bytes]):
    """A dynamic-table entry that failed validation when it was inserted."""

    __slots__ = ()


# ---------------------------------------------------------------------------------------------
# Decoder
# ---------------------------------------------------------------------------------------------


class Decoder:
    """HPACK decoder (RFC 7541 section 3): one per connection, fed every header block in order.

    ``max_table_size``: the SETTINGS_HEADER_TABLE_SIZE we advertised; a dynamic table size
    update above it is a decoding error.  ``max_header_list_size``: octets (RFC 9113 section
    6.5.2) past which :meth:`decode` raises :class:`HeaderListTooLarge`.  ``validate``: check
    every literal field against RFC 9113 section 8.2.1 (raises :class:`InvalidHeaderField`).

    After each :meth:`decode`, ``last_pure`` says the block changed nothing in the dynamic table
    and ``last_dynamic`` that it referred to it: a pure block decodes to the same list as long as
    ``version`` (bumped by every table change) is the same, or always if not ``last_dynamic``.
    """

    __slots__ = (
        "_table",
        "_size",
        "_max_size",
        "max_allowed_table_size",
        "max_header_list_size",
        "validate",
        "version",
        "last_pure",
        "last_dynamic",
        "_required_update",
        "_strings",
        "_valid",
    )

    def __init__(
        self,
        max_table_size: int = 4096,
        max_header_list_size: int = 65536,
        *,
        validate: bool = False,
    ) -> None:
        self._table: deque[Header] = deque()
        self._size = 0
        self._max_size = max_table_size
        self.max_allowed_table_size = max_table_size
        self.max_header_list_size = max_header_list_size
        self.validate = validate
        self.version = 0
        self.last_pure = False
        self.last_dynamic = False
        self._required_update: int | None = None
        self._strings: dict[bytes, bytes] = {}
        self._valid: set[Header] = set()  # literal fields seen valid (bounded)

    @property
    def table_size(self) -> int:
        """Octets the dynamic table holds now (RFC 7541 section 4.1)."""
        return self._size

    @property
    def table_max_size(self) -> int:
        """The dynamic table's current maximum size (the last size update, or the setting)."""
        return self._max_size

    @property
    def table(self) -> list[Header]:
        """The dynamic table, newest entry first (index 62 is ``table[0]``)."""
        return [(bytes(n), bytes(v)) for n, v in self._table]

    def set_max_allowed_table_size(self, size: int) -> None:
        """Our SETTINGS_HEADER_TABLE_SIZE changed to ``size`` (call when the peer ACKed it).  If
        it went below the table's size, the next block must start with a size update to at most
        ``size`` (RFC 7541 section 4.2)."""
        self.max_allowed_table_size = size
        if size < self._max_size:
            self._required_update = size

    def _resize(self, size: int) -> None:
        self._max_size = size
        table = self._table
        while self._size > size:
            name, value = table.pop()
            self._size -= len(name) + len(value) + 32
        self.version += 1

    def _insert(self, field: Header) -> None:
        size = len(field[0]) + len(field[1]) + 32
        table = self._table
        if size > self._max_size:
            table.clear()
            self._size = 0
        else:
            self._size += size
            while self._size > self._max_size:
                name, value = table.pop()
                self._size -= len(name) + len(value) + 32
            table.appendleft(field)
        self.version += 1

    def _string(self, data: bytes, pos: int, n: int) -> tuple[bytes, int]:
        if pos >= n:
            raise HPACKDecodingError("truncated field")
        byte = data[pos]
        length = byte & 0x7F
        pos += 1
        if length == 0x7F:
            length, pos = _decode_int(data, pos, 0x7F)
        end = pos + length
        if end > n:
            raise HPACKDecodingError("string literal longer than the header block")
        raw = data[pos:end]
        if byte & 0x80:
            strings = self._strings
            value = strings.get(raw)
            if value is None:
                value = huffman_decode(raw)
                if len(strings) >= 512:
                    strings.clear()
                strings[raw] = value
            return value, end
        return raw, end

    # noqa below, measured (bench/http2_engine.py's work with header_block_cache=0, CPU us per
    # response, best of 40 x 10 connections, 3 alternating runs): a trial split reading the two
    # literal forms' name and value in a method cost "literal" 8.1 -> 8.5 us (+0.4 us, +5%) and
    # "unique" +0.1 us, and still left 23. The field loop stays inline: it is the hot path.
    def decode(self, data: bytes) -> list[Header]:  # noqa: C901
        """Decode one complete header block (RFC 7541 section 3.2) to a list of fields.

        Raises :class:`HPACKDecodingError` (the connection is unusable: COMPRESSION_ERROR),
        :class:`HeaderListTooLarge` or :class:`InvalidHeaderField` (both after decoding the
        whole block: only this header list is lost).
        """
        if type(data) is not bytes:
            data = bytes(data)
        out: list[Header] = []
        append = out.append
        table = self._table
        static = STATIC_TABLE
        limit = self.max_header_list_size
        total = 0
        pos = 0
        n = len(data)
        pure = True
        dynamic = False
        problem: str | None = None
        too_large = False
        validate = self.validate
        valid = self._valid
        if self._required_update is not None:
            if n == 0 or data[0] & 0xE0 != 0x20:
                raise HPACKDecodingError("missing dynamic table size update")
        while pos < n:
            byte = data[pos]
            pos += 1
            if byte & 0x80:  # indexed field (section 6.1)
                index = byte & 0x7F
                if index == 0x7F:
                    index, pos = _decode_int(data, pos, 0x7F)
                if index <= _STATIC_LEN:
                    if index == 0:
                        raise HPACKDecodingError("index 0")
                    field = static[index]
                else:
                    try:
                        field = table[index - 62]
                    except IndexError:
                        raise HPACKDecodingError(f"index {index} out of range") from None
                    dynamic = True
                    if field.__class__ is _BadField and problem is None:
                        problem = field_error(*field) or "invalid field"
            elif byte & 0x40:  # literal with incremental indexing (section 6.2.1)
                index = byte & 0x3F
                if index == 0x3F:
                    index, pos = _decode_int(data, pos, 0x3F)
                if index:
                    name = self._name(index)
                    if index > _STATIC_LEN:
                        dynamic = True
                else:
                    name, pos = self._string(data, pos, n)
                value, pos = self._string(data, pos, n)
                field = (name, value)
                if validate and field not in valid:
                    err = field_error(name, value)
                    if err is not None:
                        problem = problem or err
                        field = _BadField(field)
                    else:
                        self._valid_field(field)
                self._insert(field)
                pure = False
            elif byte & 0x20:  # dynamic table size update (section 6.3)
                if total:  # only at the start of a block (section 4.2), possibly twice
                    raise HPACKDecodingError("table size update after a field")
                pos = self._size_update(byte, data, pos)
                pure = False
                continue
            else:  # literal without indexing / never indexed (sections 6.2.2, 6.2.3)
                index = byte & 0x0F
                if index == 0x0F:
                    index, pos = _decode_int(data, pos, 0x0F)
                if index:
                    name = self._name(index)
                    if index > _STATIC_LEN:
                        dynamic = True
                else:
                    name, pos = self._string(data, pos, n)
                value, pos = self._string(data, pos, n)
                field = (name, value)
                if validate and field not in valid:
                    err = field_error(name, value)
                    if err is not None:
                        problem = problem or err
                    else:
                        self._valid_field(field)
            total += len(field[0]) + len(field[1]) + 32
            if total > limit:
                too_large = True
            else:
                append(field)
        self.last_pure = pure
        self.last_dynamic = dynamic
        if too_large:
            raise HeaderListTooLarge(
                f"header list larger than {limit} octets (RFC 9113 section 6.5.2)"
            )
        if problem is not None:
            raise InvalidHeaderField(problem)
        return out

    def _size_update(self, byte: int, data: bytes, pos: int) -> int:
        """Apply a dynamic table size update (section 6.3) whose first octet ``byte`` was read;
        the position after it. ``HPACKDecodingError`` above our SETTINGS_HEADER_TABLE_SIZE."""
        size = byte & 0x1F
        if size == 0x1F:
            size, pos = _decode_int(data, pos, 0x1F)
        if size > self.max_allowed_table_size:
            raise HPACKDecodingError(
                f"table size update to {size} above the limit {self.max_allowed_table_size}"
            )
        self._required_update = None
        self._resize(size)
        return pos

    def _valid_field(self, field: Header) -> None:
        valid = self._valid
        if len(valid) >= 1024:
            valid.clear()
        valid.add(field)

    def _name(self, index: int) -> bytes:
        if index <= _STATIC_LEN:
            return STATIC_TABLE[index][0]
        try:
            return self._table[index - 62][0]
        except IndexError:
            raise HPACKDecodingError(f"index {index} out of range") from None


# ---------------------------------------------------------------------------------------------
# Encoder
# ---------------------------------------------------------------------------------------------

_STATIC_FULL: dict[Header, int] = {}
_STATIC_NAME: dict[bytes, int] = {}
for _i, _f in enumerate(STATIC_TABLE[1:], 1):
    _STATIC_FULL.setdefault(_f, _i)
    _STATIC_NAME.setdefault(_f[0], _i)
del _i, _f

#: Fields never added to the dynamic table and sent as "never indexed" (RFC 7541 section 7.1.3).
SENSITIVE = frozenset((b"authorization", b"proxy-authorization"))


class Encoder:
    """HPACK encoder: one per connection, for every header block we send, in order.

    ``header_table_size`` (the constructor's is where both ends start, 4096 in HTTP/2) is the
    peer's SETTINGS_HEADER_TABLE_SIZE: setting it makes the next
    block start with the dynamic table size update(s) RFC 7541 section 4.2 requires (the
    smallest value since the last block, then the final one).  Strategy: exact matches (static
    or dynamic) are indexed; other fields are added to the dynamic table, except the sensitive
    ones (``authorization``, ``proxy-authorization``, short ``cookie`` values), sent as never
    indexed, and fields bigger than 3/4 of the table.  Strings are Huffman-coded when shorter.
    """

    __slots__ = (
        "_table",
        "_size",
        "_max_size",
        "_full",
        "_names",
        "_inserted",
        "_evicted",
        "_pending_min",
        "huffman",
    )

    def __init__(self, *, huffman: bool = True, header_table_size: int = 4096) -> None:
        self._table: deque[Header] = deque()
        self._size = 0
        self._max_size = header_table_size
        self._full: dict[Header, int] = {}
        self._names: dict[bytes, int] = {}
        self._inserted = 0
        self._evicted = 0
        self._pending_min: tuple[int, int] | None = None
        self.huffman = huffman

    @property
    def header_table_size(self) -> int:
        """The dynamic table's maximum size, octets."""
        return self._max_size

    @header_table_size.setter
    def header_table_size(self, size: int) -> None:
        if self._pending_min is None:
            self._pending_min = (size, size)
        else:
            self._pending_min = (min(self._pending_min[0], size), size)
        self._max_size = size
        self._evict()

    @property
    def table(self) -> list[Header]:
        """The dynamic table, newest entry first."""
        return list(self._table)

    def _evict(self) -> None:
        table = self._table
        while self._size > self._max_size:
            name, value = table.pop()
            self._size -= len(name) + len(value) + 32
            self._evicted += 1

    def _dynamic_index(self, number: int) -> int:
        return 62 + self._inserted - 1 - number

    def encode(self, headers: Iterable[Header]) -> bytes:
        """Encode a header list into one header block (the dynamic table is updated)."""
        out = bytearray()
        if self._pending_min is not None:
            low, final = self._pending_min
            if low < final:
                encode_integer(low, 5, 0x20, out)
            encode_integer(final, 5, 0x20, out)
            self._pending_min = None
        huffman = self.huffman
        full = self._full
        names = self._names
        evicted = self._evicted
        for field in headers:
            index = _STATIC_FULL.get(field)
            if index is not None:
                encode_integer(index, 7, 0x80, out)
                continue
            number = full.get(field)
            if number is not None and number >= evicted:
                encode_integer(self._dynamic_index(number), 7, 0x80, out)
                continue
            name, value = field
            name_index = _STATIC_NAME.get(name)
            if name_index is None:
                number = names.get(name)
                if number is not None and number >= evicted:
                    name_index = self._dynamic_index(number)
            size = len(name) + len(value) + 32
            if name in SENSITIVE or (name == b"cookie" and len(value) < 20):
                encode_integer(name_index or 0, 4, 0x10, out)
            elif size * 4 > self._max_size * 3:
                encode_integer(name_index or 0, 4, 0x00, out)
            else:
                encode_integer(name_index or 0, 6, 0x40, out)
                if not name_index:
                    _encode_string(name, out, huffman)
                _encode_string(value, out, huffman)
                self._add(field, size)
                evicted = self._evicted
                continue
            if not name_index:
                _encode_string(name, out, huffman)
            _encode_string(value, out, huffman)
        return bytes(out)

    def _add(self, field: Header, size: int) -> None:
        self._size += size
        self._table.appendleft(field)
        number = self._inserted
        self._inserted += 1
        self._full[field] = number
        self._names[field[0]] = number
        self._evict()
        if len(self._full) > 4 * len(self._table) + 64:  # drop stale lookups now and then
            evicted = self._evicted
            self._full = {k: v for k, v in self._full.items() if v >= evicted}
            self._names = {k: v for k, v in self._names.items() if v >= evicted}
