"""Header lists: normalisation, validation, and the facts the framing rules need.

A :class:`Headers` is a read-only sequence of ``(lowercased_name, value)`` pairs (both
``bytes``) that also remembers the original-case names (:meth:`Headers.raw_items`).  While the
list is built, the fields that drive framing and connection management (Content-Length,
Transfer-Encoding, Connection, Upgrade, Expect, Host) are summarised once into ``_flags`` and
``_clen`` so that the connection never scans the list again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from ._abnf import (
    FIELD_VALUE_RE,
    MAX_CONTENT_LENGTH,
    MAX_CONTENT_LENGTH_DIGITS,
    TCHAR,
)
from ._util import BoundedCache, LocalProtocolError, ProtocolError, RemoteProtocolError, bytesify

__all__ = ["Headers", "normalize_and_validate", "get_comma_header", "set_comma_header"]

# Facts gathered while normalising (bit flags in Headers._flags).
F_CHUNKED = 1  # Transfer-Encoding: chunked
F_CLOSE = 2  # Connection: ... close ...
F_UPGRADE = 4  # a non-empty Upgrade field
F_EXPECT_100 = 8  # Expect: 100-continue
F_HOST = 16  # at least one Host field
F_MULTI_HOST = 32  # more than one Host field
F_CONTENT_LENGTH = 64  # a Content-Length field (value in Headers._clen)
F_TRANSFER_ENCODING = 128  # any Transfer-Encoding field

_SPECIAL = frozenset(
    [b"content-length", b"transfer-encoding", b"connection", b"upgrade", b"expect", b"host"]
)

HeaderInput = Iterable[tuple[bytes | str, bytes | str]]


class Headers(Sequence[tuple[bytes, bytes]]):
    """A read-only list of ``(lowercased_name, value)`` pairs, h11-compatible.

    Iterating, indexing and ``len()`` see the lowercased names; :meth:`raw_items` gives the
    names as they were written (sent or received).  Compares equal to any sequence of the same
    pairs, e.g. ``headers == [(b"host", b"example.com")]``.
    """

    __slots__ = ("_items", "_raw", "_flags", "_clen", "_wire")

    _items: list[tuple[bytes, bytes]]
    _raw: list[tuple[bytes, bytes]]
    _flags: int
    _clen: int
    #: The field lines exactly as they are to be sent (``name: value CRLF``...), when known.
    _wire: bytes | None

    def __init__(self, full_items: Iterable[tuple[bytes, bytes, bytes]] = ()) -> None:
        # h11's constructor shape: (raw_name, lowercased_name, value) triples, trusted as is.
        triples = list(full_items)
        self._raw = [(r, v) for r, _, v in triples]
        self._items = [(n, v) for _, n, v in triples]
        self._flags, self._clen = _summarise(self._items, RemoteProtocolError)
        self._wire = None

    def __bool__(self) -> bool:
        return bool(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._items == other._items
        try:
            return bool(self._items == list(other))  # type: ignore[call-overload]
        except TypeError:
            return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"<Headers({self._items!r})>"

    @overload
    def __getitem__(self, idx: int) -> tuple[bytes, bytes]: ...

    @overload
    def __getitem__(self, idx: slice) -> list[tuple[bytes, bytes]]: ...

    def __getitem__(self, idx: int | slice) -> Any:
        return self._items[idx]

    def raw_items(self) -> list[tuple[bytes, bytes]]:
        """The ``(name, value)`` pairs with names in their original case, in order."""
        return list(self._raw)

    @property
    def _full_items(self) -> list[tuple[bytes, bytes, bytes]]:
        # h11 keeps (raw_name, name, value) triples under this name; some code peeks at it.
        return [(r, n, v) for (r, v), (n, _) in zip(self._raw, self._items, strict=True)]


_new = object.__new__


def _new_headers(
    raw: list[tuple[bytes, bytes]], items: list[tuple[bytes, bytes]], flags: int, clen: int
) -> Headers:
    h = object.__new__(Headers)
    h._raw = raw
    h._items = items
    h._flags = flags
    h._clen = clen
    h._wire = None
    return h


EMPTY_HEADERS = _new_headers([], [], 0, -1)


def _comma_tokens(value: bytes) -> list[bytes]:
    return [t for t in (p.strip(b" \t") for p in value.lower().split(b",")) if t]


def _content_length(value: bytes, error: type[ProtocolError]) -> bytes:
    # RFC 9112 §6.3 (5): a list of identical valid values is accepted as that value; anything
    # else is an unrecoverable framing error.
    # (bytes.find, not "in": "in" on bytes first tries the operand as an int, and the
    # TypeError it swallows costs more than the search.)
    if value.find(b",") >= 0:
        values = {v.strip(b" \t") for v in value.split(b",")}
        if len(values) != 1:
            raise error("conflicting Content-Length headers")
        value = values.pop()
    check_content_length(value, error)
    return value


def check_content_length(value: bytes, error: type[Exception]) -> int:
    """One Content-Length value (RFC 9110 §8.6) as an int; raises ``error`` when it is not
    1*DIGIT or is over :data:`MAX_CONTENT_LENGTH` (2**63-1, a size no buffer can hold)."""
    if not value or not value.isdigit():
        raise error("bad Content-Length")
    if len(value) > MAX_CONTENT_LENGTH_DIGITS or int(value) > MAX_CONTENT_LENGTH:
        raise error(
            f"Content-Length too large: {value[:40]!r}{'...' if len(value) > 40 else ''} "
            "is over 2**63-1 bytes (RFC 9110 §8.6)"
        )
    return int(value)


def _summarise(items: list[tuple[bytes, bytes]], error: type[ProtocolError]) -> tuple[int, int]:
    flags = 0
    clen = -1
    for name, value in items:
        if name in _SPECIAL:
            flags, clen, _ = _special(name, value, flags, clen, error)
    return flags, clen


def _special(
    name: bytes, value: bytes, flags: int, clen: int, error: type[ProtocolError]
) -> tuple[int, int, bytes | None]:
    """Fold one framing-relevant field into (flags, clen); returns the value to keep or None.

    Raises ``error`` for a malformed or conflicting Content-Length (RFC 9112 §6.3) and for a
    Transfer-Encoding other than a single ``chunked`` (RFC 9112 §6.1; we implement no other
    transfer coding, so 501 as RFC 9112 §6.1 suggests for unknown codings).
    """
    if name == b"content-length":
        value = _content_length(value, error)
        n = int(value)
        if flags & F_CONTENT_LENGTH:
            if n != clen:
                raise error("conflicting Content-Length headers")
            return flags, clen, None  # an identical repeat is dropped, as h11 does
        return flags | F_CONTENT_LENGTH, n, value
    if name == b"transfer-encoding":
        if flags & F_TRANSFER_ENCODING:
            raise error("multiple Transfer-Encoding headers", error_status_hint=501)
        value = value.lower()
        if value != b"chunked":
            raise error("Only Transfer-Encoding: chunked is supported", error_status_hint=501)
        return flags | F_TRANSFER_ENCODING | F_CHUNKED, clen, value
    if name == b"connection":
        low = value.lower()
        if low == b"close" or (low != b"keep-alive" and b"close" in _comma_tokens(low)):
            flags |= F_CLOSE
    elif name == b"upgrade":
        if _comma_tokens(value):
            flags |= F_UPGRADE
    elif name == b"expect":
        if b"100-continue" in _comma_tokens(value):
            flags |= F_EXPECT_100
    elif name == b"host":
        flags |= F_MULTI_HOST if flags & F_HOST else F_HOST
    return flags, clen, value


_value_ok = FIELD_VALUE_RE.fullmatch

#: Bytes a field value we send may never hold anywhere (RFC 9110 §5.5, and h11's rule that only
#: SP / HTAB may appear as whitespace inside a value).
_FORBIDDEN_IN_VALUES = b"\r\n\x00\x0b\x0c"

#: Field names seen before, mapped to their lowercase form.  A name only gets in after it was
#: checked to be a token, so a hit both validates and lowercases it with one dict lookup, and the
#: lowercased object is shared (its hash is cached, which makes the ``_SPECIAL`` test cheap).
#: Bounded in entries and name length so a peer sending random names cannot grow it.
_NAME_CACHE_MAX = 2048
_NAME_CACHE: BoundedCache[bytes, bytes] = BoundedCache(_NAME_CACHE_MAX, max_key_size=64)


#: Received field lines seen before (other than the framing fields) -> their (raw, lowercased)
#: pairs.  Servers repeat most of their field lines verbatim (Server, Content-Type, Vary...),
#: and a hit replaces the split, strip and name lookup with one dict lookup.  Only lines that
#: passed every check get in; cleared when full, so lines that vary (Date) cannot grow it.
#: (Every line cache here keeps lines of up to 128 bytes.)
_FIELD_LINE_MAX_LEN = 128
_LINE_CACHE_MAX = 1024
_LINE_CACHE: BoundedCache[bytes, tuple[tuple[bytes, bytes], tuple[bytes, bytes]]] = BoundedCache(
    _LINE_CACHE_MAX, _FIELD_LINE_MAX_LEN
)


#: Sent (name, value) pairs seen before -> (pair, lowercased pair, wire line, tag).  Clients send
#: the same fields again and again (Host, User-Agent, Accept...); a hit skips every check.
#: The tag is _TAG_PLAIN, _TAG_HOST, or for a Content-Length its value (>= 0).
_SENT_CACHE: BoundedCache[
    tuple[bytes, bytes], tuple[tuple[bytes, bytes], tuple[bytes, bytes], bytes, int]
] = BoundedCache(1024, _FIELD_LINE_MAX_LEN)
#: Received Host lines and Content-Length lines with a valid value seen before ->
#: (pair, item, the length, or -1 for Host).  Consulted only for lines not in _LINE_CACHE;
#: a Content-Length after the first takes the full check.  Cleared when full.
_SPECIAL_LINES: BoundedCache[bytes, tuple[tuple[bytes, bytes], tuple[bytes, bytes], int]] = (
    BoundedCache(256, _FIELD_LINE_MAX_LEN)
)

#: Whole header lists (tuples of (bytes, bytes) pairs) seen before -> their Headers.  The key
#: size is the number of fields: lists of up to 32 are kept.
_HEADERS_CACHE: BoundedCache[tuple[Any, ...], Headers] = BoundedCache(256, max_key_size=32)
_TAG_PLAIN = -1
_TAG_HOST = -2

#: Field names whose values usually differ on every message: not worth remembering lines of.
_VOLATILE = frozenset([b"date", b"age", b"expires", b"last-modified", b"etag", b"set-cookie"])


def lower_token(name: bytes) -> bytes | None:
    """The lowercase form of ``name`` if it is a non-empty token (RFC 9110 §5.6.2), else None."""
    if not name or name.translate(None, TCHAR):
        return None
    lname = name.lower()
    _NAME_CACHE.put(name, lname, len(name))
    return lname


def normalize_and_validate(headers: Headers | HeaderInput, _parsed: bool = False) -> Headers:
    """Turn user-supplied ``(name, value)`` pairs into :class:`Headers`.

    Names and values may be ``bytes``, bytes-like or ASCII ``str``.  Raises
    :class:`LocalProtocolError` for a name that is not a token (RFC 9110 §5.1), a value with
    CR, LF, NUL, VT, FF or surrounding whitespace (RFC 9110 §5.5; that is header injection), a
    bad or conflicting Content-Length, or a Transfer-Encoding other than ``chunked``.
    """
    htype = type(headers)
    # (Headers is an ABC subclass: isinstance() on it is slow, so exact types first.)
    if htype is Headers or (
        htype is not list and htype is not tuple and isinstance(headers, Headers)
    ):
        return headers  # type: ignore[return-value]
    # Callers send the same header lists again and again (a client's default fields, a
    # server's fixed response fields): a whole list of (bytes, bytes) or (str, str) pairs
    # checked before gives back its Headers (read-only, so it can be shared) with one lookup.
    key: Any = None
    if htype is list or htype is tuple:
        try:
            key = tuple(headers)
            hit_all = _HEADERS_CACHE.get(key)
        except TypeError:  # unhashable members (bytearray, memoryview, lists)
            key = hit_all = None
        if hit_all is not None:
            return hit_all
    h = _validate(headers)
    if key is not None and len(key) <= _HEADERS_CACHE.max_key_size:
        for pair in key:
            if type(pair) is not tuple or not _plain_pair(pair):
                break
        else:
            _HEADERS_CACHE.put(key, h, len(key))
    return h


def _plain_pair(pair: tuple[Any, ...]) -> bool:
    # A (bytes, bytes) or (str, str) pair: hashable, immutable, and (for str) turned into bytes
    # the same way every time, so it can be a cache key.
    t = type(pair[0])
    return (t is bytes or t is str) and type(pair[1]) is t and len(pair) == 2


def _validate(headers: Any) -> Headers:
    raw: list[tuple[bytes, bytes]] = []
    items: list[tuple[bytes, bytes]] = []
    wire: list[bytes] = []
    flags = 0
    clen = -1
    sent_get = _SENT_CACHE.get
    raw_append = raw.append
    items_append = items.append
    wire_append = wire.append
    unchecked = False
    # (str pairs given, index of their checked bytes pair): remembered under the str pair too
    str_pairs: list[tuple[Any, int]] = []
    pairs: Iterable[Any] = headers
    for pair in pairs:
        if type(pair) is tuple:
            try:
                hit = sent_get(pair)
            except TypeError:  # a bytearray in it
                hit = None
            if hit is not None:
                # The cached pair, not the given one: an equal pair may hold memoryviews.
                pair, item, line, tag = hit
                if tag != _TAG_PLAIN:
                    if tag == _TAG_HOST:
                        flags |= F_MULTI_HOST if flags & F_HOST else F_HOST
                    elif flags & F_CONTENT_LENGTH:
                        # A repeat: identical values are merged, differing ones refused.
                        if tag != clen:
                            raise LocalProtocolError("conflicting Content-Length headers")
                        continue
                    else:
                        flags |= F_CONTENT_LENGTH
                        clen = tag
                raw_append(pair)
                items_append(item)
                wire_append(line)
                continue
        given = pair
        pair, item, line, flags, clen = _sent_field(pair, flags, clen)
        if pair is None:
            continue  # a repeated, identical Content-Length: merged
        if type(given) is tuple and type(given[0]) is str and _plain_pair(given):
            str_pairs.append((given, len(raw)))
        raw_append(pair)
        items_append(item)
        wire_append(line)
        # Remembered only once checked (below), so a hit is a line known to be valid.
        unchecked = True
    block = b"".join(wire)
    if unchecked:
        _check_values_and_remember(block, raw, items, wire, str_pairs)
    h = _new(Headers)
    h._raw = raw
    h._items = items
    h._flags = flags
    h._clen = clen
    # RFC 9110 §7.2: Host goes first (the writer reorders otherwise), so only then is this the
    # exact block to send.
    h._wire = block if not flags & F_HOST or items[0][0] == b"host" else None
    return h


def _sent_field(pair: Any, flags: int, clen: int) -> tuple[Any, Any, bytes, int, int]:
    """:func:`_validate` for a field not sent before: ``(pair, item, wire line, flags, clen)``,
    pair None when the field is dropped.  Raises :class:`LocalProtocolError` for a name that is
    not a token, a value with surrounding whitespace, or bad framing fields (the other bytes no
    value may hold are refused for the whole block, by :func:`_check_values_and_remember`)."""
    name, value = pair
    if type(name) is not bytes or type(value) is not bytes:
        name = bytesify(name)
        value = bytesify(value)
        pair = (name, value)
    elif type(pair) is not tuple:
        pair = (name, value)
    lname = _NAME_CACHE.get(name)
    if lname is None:
        lname = lower_token(name)
        if lname is None:
            raise LocalProtocolError(f"Illegal header name {name!r}")
    # strip() hands back the very object when there is nothing to strip.
    if value.strip(b" \t") is not value:
        raise LocalProtocolError(f"Illegal header value {value!r}")
    line = name + b": " + value + b"\r\n"
    item = (lname, value)
    if lname in _SPECIAL:
        if lname == b"host":
            flags |= F_MULTI_HOST if flags & F_HOST else F_HOST
        else:
            flags, clen, kept = _special(lname, value, flags, clen, LocalProtocolError)
            if kept is None:
                return None, None, b"", flags, clen
            if kept is not value:
                value = kept
                pair = (name, value)
                item = (lname, value)
                line = name + b": " + value + b"\r\n"
    return pair, item, line, flags, clen


def _check_values_and_remember(
    block: bytes,
    raw: list[tuple[bytes, bytes]],
    items: list[tuple[bytes, bytes]],
    wire: list[bytes],
    str_pairs: list[tuple[Any, int]],
) -> None:
    """The rest of :func:`_validate` when some field was not sent before: refuse CR, LF, NUL,
    VT, FF in any value (RFC 9110 §5.5), then remember each checked pair in ``_SENT_CACHE``
    (and under the ``(str, str)`` pair it was given as, for ``str_pairs``: ``(given pair,
    index in raw)``)."""
    # Checking the whole block in one pass for the bytes no value may hold is cheaper than a
    # check per value.  Each line ends in exactly one CRLF, so any other CR, LF, NUL, VT or FF
    # shows up as a longer deletion.
    if len(block) - len(block.translate(None, _FORBIDDEN_IN_VALUES)) != 2 * len(raw):
        for _, value in raw:
            if _value_ok(value) is None:
                raise LocalProtocolError(f"Illegal header value {value!r}")
        raise LocalProtocolError("Illegal header values")  # pragma: no cover
    for pair, item, line in zip(raw, items, wire, strict=True):
        tag = _TAG_PLAIN
        if item[0] in _SPECIAL:
            if item[0] == b"host":
                tag = _TAG_HOST
            elif item[0] == b"content-length" and pair[1].isdigit():
                # (a plain digit string, already checked by _special: its only effect is the
                # length, which the tag carries)
                tag = int(pair[1])
            else:
                continue
        if type(pair) is tuple:
            _SENT_CACHE.put(pair, (pair, item, line, tag), len(line))
    for given, i in str_pairs:
        entry = _SENT_CACHE.get(raw[i])
        if entry is not None:
            _SENT_CACHE.put(given, entry, len(wire[i]))


def headers_from_field_section(block: bytes, error: type[ProtocolError]) -> Headers:
    """Build :class:`Headers` from a field section already checked by ``FIELD_SECTION_FULL_RE``.

    ``block`` is the lines after the start-line, each ending in CRLF.  Values are stripped of
    surrounding SP/HTAB (RFC 9112 §5.1).  Raises ``error`` for framing fields that are
    malformed or conflict (see :func:`_special`).
    """
    lines = block.split(b"\r\n")
    lines.pop()
    h = fields_from_lines(lines, 0, error)
    assert h is not None
    return h


def fields_from_lines(lines: list[bytes], start: int, error: type[ProtocolError]) -> Headers | None:
    """Build :class:`Headers` from ``lines[start:]`` (field lines without their CRLF).

    Returns None, without raising, when a line has no colon or its name is not a token (the
    caller then tries the lenient path and explains the error); the caller has already made sure
    that no line holds CR, LF or NUL.  Raises ``error`` for framing fields that are malformed
    or conflict (see :func:`_special`).
    """
    raw: list[tuple[bytes, bytes]] = []
    items: list[tuple[bytes, bytes]] = []
    flags = 0
    clen = -1
    cache_get = _NAME_CACHE.get
    raw_append = raw.append
    items_append = items.append
    line_get = _LINE_CACHE.get
    special_get = _SPECIAL_LINES.get
    for line in lines[start:] if start else lines:
        hit = line_get(line)
        if hit is not None:
            pair, item = hit
            raw_append(pair)
            items_append(item)
            continue
        sp = special_get(line)
        if sp is not None:
            # A Host or Content-Length line seen before: its only effect is a flag or the
            # length.  (A second Content-Length takes the full path, which compares them.)
            n = sp[2]
            if n < 0:
                flags |= F_MULTI_HOST if flags & F_HOST else F_HOST
                raw_append(sp[0])
                items_append(sp[1])
                continue
            if not flags & F_CONTENT_LENGTH:
                flags |= F_CONTENT_LENGTH
                clen = n
                raw_append(sp[0])
                items_append(sp[1])
                continue
        name, colon, value = line.partition(b":")
        lname = cache_get(name)
        if lname is None:
            lname = lower_token(name)
            if lname is None:
                return None
        if not colon:
            return None
        value = value.strip(b" \t")
        if lname in _SPECIAL:
            flags, clen, kept, plain = _received_special(
                line, name, lname, value, flags, clen, error
            )
            if kept is None:
                continue
            if not plain:
                raw_append((name, kept))
                items_append((lname, kept))
                continue
        pair = (name, value)
        item = (lname, value)
        raw_append(pair)
        items_append(item)
        if lname not in _VOLATILE:
            _LINE_CACHE.put(line, (pair, item), len(line))
    h = _new(Headers)
    h._raw = raw
    h._items = items
    h._flags = flags
    h._clen = clen
    h._wire = None
    return h


def _received_special(
    line: bytes,
    name: bytes,
    lname: bytes,
    value: bytes,
    flags: int,
    clen: int,
    error: type[ProtocolError],
) -> tuple[int, int, bytes | None, bool]:
    """:func:`fields_from_lines` for a field in ``_SPECIAL`` whose line is in no cache:
    ``(flags, clen, value to keep or None to drop the field, whether the line may be
    remembered as a plain line)``.  Raises ``error`` as :func:`_special` does."""
    if lname == b"content-length":
        if (
            not flags & F_CONTENT_LENGTH
            and value.isdigit()
            and len(value) < MAX_CONTENT_LENGTH_DIGITS  # (19 digits: full check)
        ):
            clen = int(value)
            _SPECIAL_LINES.put(line, ((name, value), (lname, value), clen), len(line))
            return flags | F_CONTENT_LENGTH, clen, value, False
        flags, clen, kept = _special(lname, value, flags, clen, error)
        return flags, clen, kept, False
    if lname == b"host":
        # (every request has one: folded here rather than through _special)
        _SPECIAL_LINES.put(line, ((name, value), (lname, value), -1), len(line))
        return flags | (F_MULTI_HOST if flags & F_HOST else F_HOST), clen, value, False
    if lname != b"connection" or value.lower() != b"keep-alive":
        flags, clen, _ = _special(lname, value, flags, clen, error)
        if lname == b"transfer-encoding":
            value = value.lower()
        return flags, clen, value, False
    # "Connection: keep-alive" changes nothing, so it can be remembered like any other line.
    return flags, clen, value, True


def get_comma_header(headers: Headers, name: bytes) -> list[bytes]:
    """All comma-separated, lowercased, stripped tokens of the fields called ``name``.

    Only meaningful for list-valued fields whose members are case-insensitive tokens
    (Connection, Transfer-Encoding, Expect, Upgrade, Content-Length).
    """
    out: list[bytes] = []
    for found_name, value in headers._items:
        if found_name == name:
            out.extend(_comma_tokens(value))
    return out


def set_comma_header(headers: Headers, name: bytes, new_values: list[bytes]) -> Headers:
    """A copy of ``headers`` with every ``name`` field replaced by one field per new value.

    New fields go at the end, with a title-cased name (``Content-Length``, ``Connection``).
    """
    new: list[tuple[bytes, bytes]] = [
        (raw_name, value)
        for (raw_name, value), (found, _) in zip(headers._raw, headers._items, strict=True)
        if found != name
    ]
    title = name.title()
    for value in new_values:
        new.append((title, value))
    return normalize_and_validate(new)
