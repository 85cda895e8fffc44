"""``Headers``: an ordered, case-insensitive multi-dict that keeps the raw bytes.

Field names and values are stored as the bytes that go on the wire, with the name's original case
(``headers.raw``). Lookups are case-insensitive (RFC 9110 §5.1). Names must be tokens
(RFC 9110 §5.1) and values may not contain CR, LF or NUL (RFC 9110 §5.5): both are checked when a
field is added, so a header can never smuggle a second header or a second request.
"""

from __future__ import annotations

import re
import typing
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, MutableMapping

from ._exceptions import LocalProtocolError

__all__ = ["Headers", "HeaderTypes"]

HeaderTypes: typing.TypeAlias = (
    "Headers | Mapping[str, str] | Mapping[bytes, bytes] | Mapping[str, str | bytes] "
    "| Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]] "
    "| Iterable[tuple[str | bytes, str | bytes]] | None"
)

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SECURE = frozenset({b"authorization", b"proxy-authorization"})

# Validated names: most programs use a handful of header names, so each is checked once.
_NAME_CACHE: dict[str | bytes, tuple[bytes, bytes]] = {}
_NAME_CACHE_MAX = 4096


def _name(key: str | bytes) -> tuple[bytes, bytes]:
    """``key`` -> ``(raw, lowercased)``; raises ``LocalProtocolError`` for a non-token."""
    try:
        return _NAME_CACHE[key]
    except KeyError:
        pass
    except TypeError:
        raise TypeError(f"header names must be str or bytes, not {type(key).__name__}") from None
    if isinstance(key, str):
        try:
            raw = key.encode("ascii")
        except UnicodeEncodeError:
            raise LocalProtocolError(f"Invalid header name {key!r}: not ASCII") from None
    elif isinstance(key, bytes | bytearray):
        raw = bytes(key)
    else:
        raise TypeError(f"header names must be str or bytes, not {type(key).__name__}")
    if not _TOKEN.fullmatch(raw):
        raise LocalProtocolError(
            f"Invalid header name {key!r}: names are tokens (RFC 9110 §5.1) and may not contain "
            "spaces, ':', CR, LF, NUL or other separators"
        )
    result = (raw, raw.lower())
    if len(_NAME_CACHE) < _NAME_CACHE_MAX:
        _NAME_CACHE[key if isinstance(key, str) else raw] = result
    return result


def _value(value: str | bytes, name: bytes) -> bytes:
    """Encode ``value`` (ASCII, else latin-1) and refuse CR, LF and NUL."""
    if isinstance(value, str):
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            try:
                raw = value.encode("latin-1")
            except UnicodeEncodeError:
                raise LocalProtocolError(
                    f"Invalid value for header {name.decode('ascii')!r}: {value!r} cannot be "
                    "encoded as latin-1; encode it yourself and pass bytes"
                ) from None
    elif isinstance(value, bytes):
        raw = value
    elif isinstance(value, bytearray | memoryview):
        raw = bytes(value)
    else:
        raise TypeError(
            # httpx's words first (code matches them), then which header it was
            f"Header value must be str or bytes, not {type(value)} "
            f"(header {name.decode('ascii')!r})"
        )
    # Integer membership is a memchr; CR (13), LF (10) and NUL (0) end a field or a message.
    if 13 in raw or 10 in raw or 0 in raw:
        raise LocalProtocolError(
            f"Invalid value for header {name.decode('ascii')!r}: {value!r} contains CR, LF or "
            "NUL (RFC 9110 §5.5); this would allow header injection"
        )
    return raw


def _lookup(key: str | bytes) -> bytes:
    """The lowercased wire form of a name used for lookups (never raises for odd input)."""
    if isinstance(key, str):
        return key.lower().encode("latin-1", errors="replace")
    return bytes(key).lower()


class Headers(MutableMapping[str, str]):
    """Ordered, case-insensitive HTTP header fields, possibly repeated.

    ``Headers({"Accept": "*/*"})``, ``Headers([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])``
    or ``Headers(other_headers)``. Keys and values may be ``str`` or ``bytes``; ``str`` values
    are encoded as ASCII, else latin-1.

    * ``headers.raw`` -> ``[(b"Set-Cookie", b"a=1"), ...]`` in order, names in original case;
    * ``headers["set-cookie"]`` -> ``"a=1, b=2"`` (repeated fields joined with ``", "``),
      ``KeyError`` when absent; ``get_list("set-cookie")`` -> ``["a=1", "b=2"]``;
    * ``keys()``, ``items()``, ``multi_items()`` give lowercased names;
    * ``headers[name] = value`` replaces every field of that name; ``add(name, value)`` appends.

    Raises ``LocalProtocolError`` for a name that is not a token or a value containing CR, LF or
    NUL, and ``TypeError`` for a name or value that is neither ``str`` nor ``bytes``.
    """

    __slots__ = ("_list", "_encoding")

    _list: list[tuple[bytes, bytes, bytes]]  # (raw name, lowercased name, value)
    _encoding: str | None

    def __init__(self, headers: HeaderTypes = None, encoding: str | None = None) -> None:
        self._encoding = encoding
        if headers is None:
            self._list = []
        elif isinstance(headers, Headers):
            self._list = list(headers._list)
            if encoding is None:
                self._encoding = headers._encoding
        else:
            # Exact-type checks first: an ABC isinstance() check costs more than the rest.
            items: Iterable[typing.Any]
            if type(headers) is list or type(headers) is tuple:
                items = headers
            elif type(headers) is dict or isinstance(headers, Mapping):
                items = headers.items()
            else:
                items = headers
            entries = []
            for key, value in items:
                raw, lower = _name(key)
                entries.append((raw, lower, _value(value, raw)))
            self._list = entries

    @classmethod
    def _from_validated(
        cls, raw: Iterable[tuple[bytes, bytes]], lowered: Iterable[tuple[bytes, bytes]]
    ) -> Headers:
        """Build from fields a parser has already validated (``httpwire.http11`` events give
        ``raw_items()`` and the lowercased pairs): no re-validation, one pass. Internal."""
        self = cls.__new__(cls)
        self._encoding = None
        self._list = [(r, n, v) for (r, v), (n, _) in zip(raw, lowered, strict=True)]
        return self

    # -- encoding of values as str ---------------------------------------------------------------

    @property
    def encoding(self) -> str:
        """How values are decoded to ``str``: ``"ascii"`` if they all are, else ``"utf-8"`` if they
        all decode as such, else ``"iso-8859-1"``. Can be set explicitly."""
        if self._encoding is not None:
            return self._encoding
        for encoding in ("ascii", "utf-8"):
            try:
                for _, _, value in self._list:
                    value.decode(encoding)
            except UnicodeDecodeError:
                continue
            return encoding
        return "iso-8859-1"

    @encoding.setter
    def encoding(self, value: str) -> None:
        self._encoding = value

    # -- views -----------------------------------------------------------------------------------

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """``[(name, value), ...]`` as bytes, in order, names in their original case."""
        return [(raw, value) for raw, _, value in self._list]

    def _joined(self) -> dict[str, str]:
        encoding = self.encoding
        merged: dict[str, str] = {}
        for _, lower, value in self._list:
            key = lower.decode("ascii")
            text = value.decode(encoding)
            merged[key] = merged[key] + ", " + text if key in merged else text
        return merged

    def keys(self) -> KeysView[str]:
        """Distinct lowercased names, in order of first appearance."""
        return {lower.decode("ascii"): None for _, lower, _ in self._list}.keys()

    def values(self) -> typing.ValuesView[str]:
        """One value per distinct name (repeated fields joined with ``", "``)."""
        return self._joined().values()

    def items(self) -> ItemsView[str, str]:
        """``(lowercased name, joined value)`` per distinct name."""
        return self._joined().items()

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(lowercased name, value)`` field, in order, repeats included."""
        encoding = self.encoding
        return [(lower.decode("ascii"), value.decode(encoding)) for _, lower, value in self._list]

    def get_list(self, key: str, split_commas: bool = False) -> list[str]:
        """All values of ``key`` (``[]`` when absent); with ``split_commas``, each value is also
        split on commas and stripped (for list-valued fields such as ``Accept-Encoding``)."""
        lower = _lookup(key)
        encoding = self.encoding
        values = [value.decode(encoding) for _, name, value in self._list if name == lower]
        if not split_commas:
            return values
        return [part.strip() for value in values for part in value.split(",")]

    def get(self, key: str, default: typing.Any = None) -> typing.Any:
        """The joined value of ``key``, or ``default``."""
        try:
            return self[key]
        except KeyError:
            return default

    # -- mutation --------------------------------------------------------------------------------

    def add(self, key: str | bytes, value: str | bytes) -> None:
        """Append a field, keeping any existing fields of the same name."""
        raw, lower = _name(key)
        self._list.append((raw, lower, _value(value, raw)))

    def update(self, headers: HeaderTypes = None, /, **kwargs: str) -> None:  # type: ignore[override]
        """Replace the fields named in ``headers`` (all of their values) and append the new ones."""
        other = Headers(headers)
        if kwargs:
            other._list.extend(Headers(kwargs)._list)
        names = {lower for _, lower, _ in other._list}
        self._list = [entry for entry in self._list if entry[1] not in names] + other._list

    def copy(self) -> Headers:
        """An independent copy."""
        return Headers(self)

    # -- mapping protocol ------------------------------------------------------------------------

    def __getitem__(self, key: str) -> str:
        lower = _lookup(key)
        values = [value for _, name, value in self._list if name == lower]
        if not values:
            raise KeyError(key)
        encoding = self.encoding
        if len(values) == 1:
            return values[0].decode(encoding)
        return ", ".join(value.decode(encoding) for value in values)

    def __setitem__(self, key: str | bytes, value: str | bytes) -> None:
        raw, lower = _name(key)
        entry = (raw, lower, _value(value, raw))
        for index, (_, name, _) in enumerate(self._list):
            if name == lower:
                self._list[index] = entry
                self._list[index + 1 :] = [e for e in self._list[index + 1 :] if e[1] != lower]
                return
        self._list.append(entry)

    def __delitem__(self, key: str | bytes) -> None:
        lower = _lookup(key)
        kept = [entry for entry in self._list if entry[1] != lower]
        if len(kept) == len(self._list):
            raise KeyError(key)
        self._list = kept

    def __contains__(self, key: object) -> bool:
        # Shortcut (issue 14): a str name, the usual case (the client asks "set-cookie" of
        # every response), is lowered here without the union isinstance() and the _lookup()
        # call: 0.40 -> 0.30 us for a miss among 8 fields (timeit, min of 7). Cost: _lookup's
        # str branch written twice.
        if type(key) is str:
            lower = key.lower().encode("latin-1", errors="replace")
        elif isinstance(key, str | bytes):
            lower = _lookup(key)
        else:
            return False
        for entry in self._list:
            if entry[1] == lower:
                return True
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __bool__(self) -> bool:
        return bool(self._list)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            try:
                other = Headers(other)  # type: ignore[arg-type]
            except (TypeError, ValueError, LocalProtocolError):
                return False
        mine = sorted((lower, value) for _, lower, value in self._list)
        theirs = sorted((lower, value) for _, lower, value in other._list)
        return mine == theirs

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        name = type(self).__name__
        encoding = self.encoding
        # Lower-case names, as httpx's repr (code and tests written for httpx compare it).
        pairs = [
            (
                lower.decode("ascii"),
                "[secure]" if lower in _SECURE else value.decode(encoding),
            )
            for _, lower, value in self._list
        ]
        suffix = (
            "" if self._encoding is None and encoding == "ascii" else f", encoding={encoding!r}"
        )
        if len({lower for _, lower, _ in self._list}) == len(self._list):
            return f"{name}({dict(pairs)!r}{suffix})"
        return f"{name}({pairs!r}{suffix})"
