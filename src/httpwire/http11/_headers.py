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
    MAX_CONTENT_LENGTH_DIGITS,
    TCHAR,
)
from ._util import LocalProtocolError, ProtocolError, RemoteProtocolError, bytesify

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

    __slots__ = ("_items", "_raw", "_flags", "_clen")

    _items: list[tuple[bytes, bytes]]
    _raw: list[tuple[bytes, bytes]]
    _flags: int
    _clen: int

    def __init__(self, full_items: Iterable[tuple[bytes, bytes, bytes]] = ()) -> None:
        # h11's constructor shape: (raw_name, lowercased_name, value) triples, trusted as is.
        triples = list(full_items)
        self._raw = [(r, v) for r, _, v in triples]
        self._items = [(n, v) for _, n, v in triples]
        self._flags, self._clen = _summarise(self._items, RemoteProtocolError)

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


def _new_headers(
    raw: list[tuple[bytes, bytes]], items: list[tuple[bytes, bytes]], flags: int, clen: int
) -> Headers:
    h = object.__new__(Headers)
    h._raw = raw
    h._items = items
    h._flags = flags
    h._clen = clen
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
    if not value or not value.isdigit() or len(value) > MAX_CONTENT_LENGTH_DIGITS:
        raise error("bad Content-Length")
    return value


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


def normalize_and_validate(headers: Headers | HeaderInput, _parsed: bool = False) -> Headers:
    """Turn user-supplied ``(name, value)`` pairs into :class:`Headers`.

    Names and values may be ``bytes``, bytes-like or ASCII ``str``.  Raises
    :class:`LocalProtocolError` for a name that is not a token (RFC 9110 §5.1), a value with
    CR, LF, NUL or surrounding whitespace (RFC 9110 §5.5; that is header injection), a bad or
    conflicting Content-Length, or a Transfer-Encoding other than ``chunked``.
    """
    if isinstance(headers, Headers):
        return headers
    raw: list[tuple[bytes, bytes]] = []
    items: list[tuple[bytes, bytes]] = []
    flags = 0
    clen = -1
    for name, value in headers:
        if type(name) is not bytes:
            name = bytesify(name)
        if type(value) is not bytes:
            value = bytesify(value)
        if not name or name.translate(None, TCHAR):
            raise LocalProtocolError(f"Illegal header name {name!r}")
        if _value_ok(value) is None:
            raise LocalProtocolError(f"Illegal header value {value!r}")
        lname = name.lower()
        if lname in _SPECIAL:
            flags, clen, kept = _special(lname, value, flags, clen, LocalProtocolError)
            if kept is None:
                continue
            value = kept
        raw.append((name, value))
        items.append((lname, value))
    return _new_headers(raw, items, flags, clen)


def headers_from_field_section(block: bytes, error: type[ProtocolError]) -> Headers:
    """Build :class:`Headers` from a field section already checked by ``FIELD_SECTION_FULL_RE``.

    ``block`` is the lines after the start-line, each ending in CRLF.  Values are stripped of
    surrounding SP/HTAB (RFC 9112 §5.1).  Raises ``error`` for framing fields that are
    malformed or conflict (see :func:`_special`).
    """
    lines = block.split(b"\r\n")
    lines.pop()
    raw: list[tuple[bytes, bytes]] = []
    items: list[tuple[bytes, bytes]] = []
    flags = 0
    clen = -1
    for line in lines:
        name, _, value = line.partition(b":")
        value = value.strip(b" \t")
        lname = name.lower()
        if lname in _SPECIAL:
            if (
                lname == b"content-length"
                and not flags & F_CONTENT_LENGTH
                and value.isdigit()
                and len(value) <= MAX_CONTENT_LENGTH_DIGITS
            ):
                flags |= F_CONTENT_LENGTH
                clen = int(value)
            else:
                flags, clen, kept = _special(lname, value, flags, clen, error)
                if kept is None:
                    continue
                value = kept
        raw.append((name, value))
        items.append((lname, value))
    return _new_headers(raw, items, flags, clen)


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
