from __future__ import annotations

import pytest

from httpwire._exceptions import LocalProtocolError
from httpwire._headers import Headers


def test_raw_keeps_order_case_and_bytes() -> None:
    h = Headers([("Content-Type", "text/plain"), (b"X-Custom", b"1"), ("x-custom", "2")])
    assert h.raw == [(b"Content-Type", b"text/plain"), (b"X-Custom", b"1"), (b"x-custom", b"2")]


def test_case_insensitive_lookup_and_joining() -> None:
    h = Headers([("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("Host", "example.com")])
    assert h["SET-COOKIE"] == "a=1, b=2"
    assert h.get_list("Set-Cookie") == ["a=1", "b=2"]
    assert h["host"] == "example.com"
    assert h.get("missing") is None
    assert h.get("missing", "x") == "x"
    assert "HOST" in h and b"host" in h and "nope" not in h and 3 not in h
    with pytest.raises(KeyError):
        h["nope"]


def test_views() -> None:
    h = Headers([("A", "1"), ("B", "2"), ("a", "3")])
    assert list(h.keys()) == ["a", "b"]
    assert list(h.values()) == ["1, 3", "2"]
    assert list(h.items()) == [("a", "1, 3"), ("b", "2")]
    assert h.multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]
    assert list(h) == ["a", "b"]
    assert len(h) == 2
    assert dict(h) == {"a": "1, 3", "b": "2"}


def test_get_list_split_commas() -> None:
    h = Headers([("Accept-Encoding", "gzip, br"), ("accept-encoding", "zstd")])
    assert h.get_list("accept-encoding", split_commas=True) == ["gzip", "br", "zstd"]


def test_setitem_replaces_every_field_of_that_name() -> None:
    h = Headers([("A", "1"), ("B", "2"), ("a", "3")])
    h["a"] = "x"
    assert h.raw == [(b"a", b"x"), (b"B", b"2")]
    h["C"] = "new"
    assert h.raw[-1] == (b"C", b"new")


def test_add_keeps_existing_fields() -> None:
    h = Headers({"A": "1"})
    h.add("a", "2")
    assert h.get_list("a") == ["1", "2"]


def test_delitem_and_pop() -> None:
    h = Headers([("A", "1"), ("B", "2"), ("a", "3")])
    del h["A"]
    assert h.raw == [(b"B", b"2")]
    with pytest.raises(KeyError):
        del h["A"]
    assert h.pop("b") == "2"
    assert not h


def test_update_replaces_named_fields() -> None:
    h = Headers([("A", "1"), ("B", "2"), ("a", "3")])
    h.update({"a": "9", "C": "4"})
    assert h.raw == [(b"B", b"2"), (b"a", b"9"), (b"C", b"4")]
    h.update(Headers([("d", "1"), ("D", "2")]))
    assert h.get_list("d") == ["1", "2"]


def test_copy_is_independent() -> None:
    h = Headers({"A": "1"})
    c = h.copy()
    c["A"] = "2"
    assert h["a"] == "1" and c["a"] == "2"
    assert Headers(h) == h and Headers(h) is not h


def test_equality() -> None:
    assert Headers({"A": "1", "B": "2"}) == Headers([("b", "2"), ("a", "1")])
    assert Headers({"A": "1"}) == {"a": "1"}
    assert Headers({"A": "1"}) == [("A", "1")]
    assert Headers({"A": "1"}) != Headers({"A": "2"})
    assert Headers({"A": "1"}) != {"a b": "1"}  # not headers at all: unequal, no exception
    assert Headers({"A": "1"}) != 5


def test_repr_hides_credentials() -> None:
    h = Headers({"Host": "x", "Authorization": "Bearer secret", "Proxy-Authorization": "p"})
    text = repr(h)
    assert "secret" not in text and "'p'" not in text
    assert text == (
        # lower-case names, as httpx's repr
        "Headers({'host': 'x', 'authorization': '[secure]', 'proxy-authorization': '[secure]'})"
    )
    assert repr(Headers([("a", "1"), ("a", "2")])) == "Headers([('a', '1'), ('a', '2')])"


def test_latin1_and_encodings() -> None:
    h = Headers({"X": "café"})
    assert h.raw == [(b"X", b"caf\xe9")]
    assert h["x"] == "café"
    assert h.encoding == "iso-8859-1"
    utf8 = Headers({"X": "café".encode()})
    assert utf8.encoding == "utf-8"
    assert utf8["x"] == "café"
    assert Headers({"X": "plain"}).encoding == "ascii"
    explicit = Headers({"X": b"caf\xc3\xa9"}, encoding="latin-1")
    assert explicit["x"] == "cafÃ©"


def test_value_outside_latin1_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="X-Emoji.*latin-1"):
        Headers({"X-Emoji": "☃"})


@pytest.mark.parametrize(
    "value",
    [
        "a\r\nX-Injected: 1",
        "a\nb",
        "a\rb",
        "a\x00b",
        b"a\r\n\r\nGET / HTTP/1.1",
        b"\x00",
    ],
)
def test_header_injection_in_values_is_refused(value: str | bytes) -> None:
    with pytest.raises(LocalProtocolError, match="X-Test.*CR, LF or NUL"):
        Headers({"X-Test": value})
    h = Headers()
    with pytest.raises(LocalProtocolError):
        h["X-Test"] = value
    with pytest.raises(LocalProtocolError):
        h.add("X-Test", value)
    assert h.raw == []


@pytest.mark.parametrize(
    "name", ["X Test", "X:Test", "X-Test\r\n", "X\x00", "", "Tést", b"X\nY", "(x)", "a/b"]
)
def test_invalid_names_are_refused(name: str | bytes) -> None:
    with pytest.raises(LocalProtocolError, match="Invalid header name"):
        Headers({name: "1"})  # type: ignore[dict-item]
    with pytest.raises(LocalProtocolError):
        Headers()[name] = "1"  # type: ignore[index]


def test_other_types_are_refused() -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        Headers({"X": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="str or bytes"):
        Headers({1: "x"})  # type: ignore[dict-item]
    # httpx's message first (code written for httpx matches it), then the header's name
    with pytest.raises(
        TypeError,
        match=r"^Header value must be str or bytes, not <class 'NoneType'> \(header 'foo'\)$",
    ):
        Headers({"foo": None})  # type: ignore[dict-item]


def test_allowed_odd_but_valid_values() -> None:
    h = Headers({"X": "tab\there", "Y": b"\x80\xff obs-text", "Z": ""})
    assert h.raw == [(b"X", b"tab\there"), (b"Y", b"\x80\xff obs-text"), (b"Z", b"")]


def test_setdefault() -> None:
    h = Headers({"A": "1"})
    assert h.setdefault("a", "2") == "1"
    assert h.setdefault("b", "2") == "2"
    assert h.raw == [(b"A", b"1"), (b"b", b"2")]
