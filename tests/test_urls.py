from __future__ import annotations

import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httpwire._exceptions import InvalidURL
from httpwire._urls import URL, QueryParams

# -- attributes the connection layer reads --------------------------------------------------------


def test_common_url_attributes() -> None:
    url = URL("http://127.0.0.1:8080/small?x=1#frag")
    assert url.scheme == "http"
    assert url.host == "127.0.0.1"
    assert url.raw_host == b"127.0.0.1"
    assert url.port == 8080
    assert url.effective_port == 8080
    assert url.netloc == b"127.0.0.1:8080"
    assert url.raw_path == b"/small?x=1"
    assert url.path == "/small"
    assert url.query == b"x=1"
    assert url.fragment == "frag"
    assert url.userinfo == b""
    assert url.origin == ("http", "127.0.0.1", 8080)
    assert url.is_absolute_url and not url.is_relative_url
    assert str(url) == "http://127.0.0.1:8080/small?x=1#frag"
    assert repr(url) == "URL('http://127.0.0.1:8080/small?x=1#frag')"


def test_empty_path_is_slash_in_request_target() -> None:
    url = URL("https://example.com")
    assert url.raw_path == b"/"
    assert url.path == "/"
    assert str(url) == "https://example.com"
    assert url.port is None
    assert url.effective_port == 443


def test_empty_path_with_query() -> None:
    assert URL("http://example.com?a=b").raw_path == b"/?a=b"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("HTTP://EXAMPLE.COM/Path", "http://example.com/Path"),
        ("http://example.com:80/", "http://example.com/"),
        ("https://example.com:443/", "https://example.com/"),
        ("http://example.com:443/", "http://example.com:443/"),
        ("ws://example.com:80/", "ws://example.com/"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/a/b/..", "http://example.com/a/"),
        ("http://example.com/../../x", "http://example.com/x"),
        ("http://example.com/a b?c d#e f", "http://example.com/a%20b?c%20d#e%20f"),
        ("http://example.com/%7Euser/%41", "http://example.com/%7Euser/%41"),
        # Visible ASCII is kept as given (signed URLs depend on it); issue 10.
        ("http://example.com/100%", "http://example.com/100%"),
        ("http://example.com/%zz", "http://example.com/%zz"),
        ("http://example.com/é?q=ü", "http://example.com/%C3%A9?q=%C3%BC"),
        ('http://example.com/a"<>`{}|\\^', 'http://example.com/a"<>`{}|\\^'),
        ("http://example.com/?a=[1]", "http://example.com/?a=[1]"),
        ("http://example.com/a?b/c?d", "http://example.com/a?b/c?d"),
        ("http://example.com:/", "http://example.com/"),
        ("http://example.com.:8000/", "http://example.com.:8000/"),
    ],
)
def test_normalisation(given: str, expected: str) -> None:
    assert str(URL(given)) == expected


def test_decoded_path_and_fragment() -> None:
    url = URL("http://example.com/caf%C3%A9%20x#d%C3%A9j%C3%A0")
    assert url.path == "/café x"
    assert url.raw_path == b"/caf%C3%A9%20x"
    assert url.fragment == "déjà"


def test_encoding_is_idempotent() -> None:
    once = URL("http://example.com/a b/é?x=1 2&y=%41")
    assert str(URL(str(once))) == str(once)


def test_userinfo() -> None:
    url = URL("https://us%40er:p%3Ass@example.com/")
    assert url.userinfo == b"us%40er:p%3Ass"
    assert url.username == "us@er"
    assert url.password == "p:ss"
    assert url.netloc == b"example.com"
    assert repr(url) == "URL('https://us%40er:[secure]@example.com/')"
    assert "p%3Ass" in str(url)


def test_userinfo_with_unencoded_at_sign() -> None:
    url = URL("http://a@b@example.com/")
    assert url.host == "example.com"
    assert url.username == "a@b"


# -- hosts ------------------------------------------------------------------------------------


def test_ipv6_literal() -> None:
    url = URL("http://[::1]:8080/x")
    assert url.host == "::1"
    assert url.raw_host == b"::1"
    assert url.netloc == b"[::1]:8080"
    assert url.port == 8080
    assert str(url) == "http://[::1]:8080/x"


def test_ipv6_literal_default_port_and_case() -> None:
    url = URL("https://[2001:DB8::A]:443/")
    assert url.host == "2001:db8::a"
    assert url.netloc == b"[2001:db8::a]"
    assert url.port is None


def test_ipv6_zone_identifier() -> None:
    url = URL("http://[fe80::1%25eth0]/")
    assert url.host == "fe80::1%eth0"
    assert url.netloc == b"[fe80::1%25eth0]"


def test_ipv4_literal() -> None:
    assert URL("http://10.0.0.1/").host == "10.0.0.1"


@pytest.mark.parametrize(
    ("given", "host"),
    [
        ("https://Bücher.de/", "xn--bcher-kva.de"),
        ("https://BÜCHER.DE/", "xn--bcher-kva.de"),
        ("https://中国.icom.museum/", "xn--fiqs8s.icom.museum"),
        ("https://straße.de/", "xn--strae-oqa.de"),  # UTS 46 non-transitional
        ("https://例え。jp/", "xn--r8jz45g.jp"),  # ideographic full stop is a dot
        ("https://xn--bcher-kva.de/", "xn--bcher-kva.de"),
    ],
)
def test_idna_hosts(given: str, host: str) -> None:
    url = URL(given)
    assert url.raw_host == host.encode("ascii")
    assert str(url) == f"https://{host}/"
    assert url.host == idna.decode(host)  # the Unicode form (issue 10, as httpx)


def test_unicode_host() -> None:
    url = URL("https://faß.de/")
    assert url.host == url.unicode_host == "faß.de"
    assert url.raw_host == b"xn--fa-hia.de" and url.netloc == b"xn--fa-hia.de"
    assert URL("https://xn--fa-hia.de/").host == "faß.de"
    assert URL("https://Bücher.de/").unicode_host == "bücher.de"
    assert URL("https://example.com/").host == "example.com"
    # Copies keep the host (re-encoded from the ASCII form).
    assert URL("https://faß.de/a").copy_with(path="/b").raw_host == b"xn--fa-hia.de"


def test_underscore_host_is_accepted() -> None:
    # Not a valid DNS host name, but common for service names (docker-compose and the like).
    assert URL("http://my_service:8000/").host == "my_service"


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("http://example.com:99999/", "Invalid port '99999'"),
        ("http://example.com:x/", "Invalid port 'x'"),
        ("http://example.com:-1/", "Invalid port '-1'"),
        ("http://example.com:8 0/", "Invalid port '8 0'"),
        ("http://exa mple.com/", "Invalid character ' ' in host"),
        ("http://exa<mple.com/", "Invalid character '<' in host"),
        ("http://example.com/a\r\nHost: evil", "Invalid control character '\\r' at position 20"),
        ("http://example.com/a\nb", "Invalid control character '\\n'"),
        ("http://example.com/a\tb", "Invalid control character '\\t'"),
        ("http://example.com/\x00", "Invalid control character '\\x00'"),
        ("http://example.com/\x7f", "Invalid control character '\\x7f'"),
        (" http://example.com/", "leading or trailing spaces"),
        ("http://example.com/ ", "leading or trailing spaces"),
        ("http://xn--zz.com/", "Invalid IDNA label 'xn--zz'"),
        ("http://☃.com/", "Invalid IDNA host name '☃.com'"),
        ("http://999.1.1.1/", "Invalid IPv4 address '999.1.1.1'"),
        ("http://1.2.3/", "Invalid IPv4 address '1.2.3'"),
        ("http://[::g]/", "Invalid IPv6 address '::g'"),
        ("http://[::1/", "missing ']'"),
        ("http://[::1]x/", "after IPv6 host"),
        ("1.2.3.4:80", "Invalid URL scheme '1.2.3.4'"),
        ("http://example.com/" + "a" * 70000, "URL too long"),
    ],
)
def test_invalid_urls(given: str, message: str) -> None:
    with pytest.raises(InvalidURL) as info:
        URL(given)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("given", "path", "port"),
    [
        ("http://", "/", None),
        ("https://:443/", "/", None),
        ("http:///path", "/path", None),
        ("http://:8080/", "/", 8080),
        ("http:relative", "relative", None),
    ],
)
def test_an_empty_host_parses_as_in_httpx(given: str, path: str, port: int | None) -> None:
    """As httpx: a URL without a host is built (sending it is refused: UnsupportedProtocol,
    tests/test_client_unit.py), and it is relative, so a client joins it to its base_url."""
    url = URL(given)
    assert url.scheme == given.partition(":")[0]
    assert url.host == "" and url.raw_host == b""
    assert url.path == path and url.port == port
    assert url.is_relative_url and not url.is_absolute_url
    assert URL(str(url)) == url


def test_a_leading_colon_is_an_empty_scheme_as_in_httpx() -> None:
    url = URL("://example.com")
    assert url.scheme == "" and url.host == "example.com" and url.path == "/"
    assert url.is_relative_url
    assert URL(":abc").path == "abc"


def test_keyword_errors_in_httpx_words() -> None:
    with pytest.raises(TypeError) as info:
        URL(scheme="https", host="www.example.com", incorrect="/")
    assert str(info.value) == "'incorrect' is an invalid keyword argument for URL()"
    with pytest.raises(TypeError, match="'pathh' is an invalid keyword argument for copy_with"):
        URL("https://example.org").copy_with(pathh="/x")
    with pytest.raises(InvalidURL) as exc:
        URL("https://www.example.com", path="/" + "x" * 100_000)
    assert str(exc.value) == "URL component 'path' too long"
    with pytest.raises(InvalidURL) as exc:
        URL(scheme="https", host="www.example.com", path="abc")
    assert str(exc.value) == "For absolute URLs, path must be empty or begin with '/'"
    with pytest.raises(InvalidURL) as exc:
        URL(path="//abc")
    assert str(exc.value) == "Relative URLs cannot have a path starting with '//'"
    with pytest.raises(InvalidURL) as exc:
        URL(path=":abc")
    assert str(exc.value) == "Relative URLs cannot have a path starting with ':'"


def test_a_bad_scheme_given_as_a_keyword_is_named_without_an_empty_url() -> None:
    with pytest.raises(InvalidURL) as exc:
        URL(scheme="~", host="www.example.com", path="/")
    assert str(exc.value) == "Invalid URL scheme '~'"


def test_invalid_url_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        URL("http://example.com:x/")


def test_url_type_error() -> None:
    with pytest.raises(TypeError):
        URL(b"http://example.com/")  # type: ignore[arg-type]


# -- relative references and join (RFC 3986 §5.4) --------------------------------------------------

BASE = "http://a/b/c/d;p?q"

RFC3986_NORMAL = [
    ("g:h", "g:h"),
    ("g", "http://a/b/c/g"),
    ("./g", "http://a/b/c/g"),
    ("g/", "http://a/b/c/g/"),
    ("/g", "http://a/g"),
    ("//g", "http://g"),
    ("?y", "http://a/b/c/d;p?y"),
    ("g?y", "http://a/b/c/g?y"),
    ("#s", "http://a/b/c/d;p?q#s"),
    ("g#s", "http://a/b/c/g#s"),
    ("g?y#s", "http://a/b/c/g?y#s"),
    (";x", "http://a/b/c/;x"),
    ("g;x", "http://a/b/c/g;x"),
    ("g;x?y#s", "http://a/b/c/g;x?y#s"),
    ("", "http://a/b/c/d;p?q"),
    (".", "http://a/b/c/"),
    ("./", "http://a/b/c/"),
    ("..", "http://a/b/"),
    ("../", "http://a/b/"),
    ("../g", "http://a/b/g"),
    ("../..", "http://a/"),
    ("../../", "http://a/"),
    ("../../g", "http://a/g"),
]

RFC3986_ABNORMAL = [
    ("../../../g", "http://a/g"),
    ("../../../../g", "http://a/g"),
    ("/./g", "http://a/g"),
    ("/../g", "http://a/g"),
    ("g.", "http://a/b/c/g."),
    (".g", "http://a/b/c/.g"),
    ("g..", "http://a/b/c/g.."),
    ("..g", "http://a/b/c/..g"),
    ("./../g", "http://a/b/g"),
    ("./g/.", "http://a/b/c/g/"),
    ("g/./h", "http://a/b/c/g/h"),
    ("g/../h", "http://a/b/c/h"),
    ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
    ("g;x=1/../y", "http://a/b/c/y"),
    ("g?y/./x", "http://a/b/c/g?y/./x"),
    ("g?y/../x", "http://a/b/c/g?y/../x"),
    ("g#s/./x", "http://a/b/c/g#s/./x"),
    ("g#s/../x", "http://a/b/c/g#s/../x"),
    # The non-strict reading of §5.2.2 (browsers do the same): "http:g" has no host alone.
    ("http:g", "http://a/b/c/g"),
]


@pytest.mark.parametrize(("reference", "expected"), RFC3986_NORMAL + RFC3986_ABNORMAL)
def test_join_rfc3986_examples(reference: str, expected: str) -> None:
    assert str(URL(BASE).join(reference)) == expected


def test_join_with_url_object_and_absolute_reference() -> None:
    base = URL("https://example.com/a/b")
    assert base.join(URL("https://other.org/x")) == "https://other.org/x"
    assert base.join("//cdn.example.com/lib.js") == "https://cdn.example.com/lib.js"


def test_join_keeps_userinfo_and_port() -> None:
    assert str(URL("http://u:p@h:8080/a/b").join("c")) == "http://u:p@h:8080/a/c"


def test_join_on_empty_base_path() -> None:
    assert str(URL("http://h").join("x")) == "http://h/x"


def test_join_rejects_control_characters() -> None:
    with pytest.raises(InvalidURL, match="control character"):
        URL("http://h/").join("a\r\nb")


def test_relative_url() -> None:
    url = URL("../a/./b?x=1")
    assert url.is_relative_url
    assert url.scheme == "" and url.host == ""
    assert str(url) == "../a/./b?x=1"  # dot-segments stay: they matter when joined
    assert url.port is None


# -- equality, hashing, copies ------------------------------------------------------------------


def test_equality_and_hash() -> None:
    a = URL("HTTP://Example.COM:80/a/../b")
    assert a == "http://example.com/b"
    assert a == URL("http://example.com/b")
    assert hash(a) == hash(URL("http://example.com/b"))
    assert a != "http://example.com/c"
    assert a != "http://exa mple.com/"  # invalid, so unequal (no exception)
    assert a != 42
    assert len({a, URL("http://example.com/b")}) == 1


def test_copy_with() -> None:
    url = URL("https://example.com:8443/a?x=1#f")
    assert str(url.copy_with(scheme="http")) == "http://example.com:8443/a?x=1#f"
    assert str(url.copy_with(port=443)) == "https://example.com/a?x=1#f"
    assert str(url.copy_with(port=None)) == "https://example.com/a?x=1#f"
    assert str(url.copy_with(host="Bücher.de")) == "https://xn--bcher-kva.de:8443/a?x=1#f"
    assert str(url.copy_with(host="::1")) == "https://[::1]:8443/a?x=1#f"
    assert str(url.copy_with(path="/b c")) == "https://example.com:8443/b%20c?x=1#f"
    assert str(url.copy_with(query=b"y=2")) == "https://example.com:8443/a?y=2#f"
    assert str(url.copy_with(raw_path=b"/r?z=3")) == "https://example.com:8443/r?z=3#f"
    assert str(url.copy_with(fragment=None)) == "https://example.com:8443/a?x=1"
    assert str(url.copy_with(params={"a": "b c"})) == "https://example.com:8443/a?a=b+c#f"
    assert str(url.copy_with(netloc=b"other.org:81")) == "https://other.org:81/a?x=1#f"
    with_user = url.copy_with(username="me@x", password="p:w")
    assert with_user.username == "me@x" and with_user.password == "p:w"
    assert with_user.userinfo == b"me%40x:p%3Aw"
    assert str(url) == "https://example.com:8443/a?x=1#f"  # the original is unchanged


def test_copy_with_errors() -> None:
    url = URL("https://example.com/")
    with pytest.raises(InvalidURL, match="Invalid port"):
        url.copy_with(port=70000)
    assert url.copy_with(host="").is_relative_url  # as httpx: refused when sent
    with pytest.raises(TypeError, match="nope"):
        url.copy_with(nope=1)


def test_constructor_keywords() -> None:
    assert str(URL("https://example.com/a", params={"q": "1"})) == "https://example.com/a?q=1"
    assert str(URL(URL("https://example.com/a"))) == "https://example.com/a"


def test_param_helpers() -> None:
    url = URL("https://example.com/?a=1&b=2")
    assert str(url.copy_set_param("a", "3")) == "https://example.com/?a=3&b=2"
    assert str(url.copy_add_param("a", "3")) == "https://example.com/?a=1&a=3&b=2"
    assert str(url.copy_remove_param("a")) == "https://example.com/?b=2"
    assert str(url.copy_merge_params({"b": "x", "c": "y"})) == "https://example.com/?a=1&b=x&c=y"
    assert url.params["b"] == "2"


# -- the fast path agrees with the general parser --------------------------------------------------

_label = st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True)
_segment = st.text(alphabet="abcXYZ019-._~!$&'()*+,;=:@%é /", max_size=8)


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "ws", "wss", "HTTP"]),
    host=st.one_of(
        st.lists(_label, min_size=1, max_size=3).map(".".join),
        st.ip_addresses(v=4).map(str),
    ),
    port=st.one_of(st.none(), st.integers(min_value=1, max_value=65535)),
    segments=st.lists(_segment, max_size=4),
    query=st.one_of(st.none(), _segment),
    fragment=st.one_of(st.none(), _segment),
)
def test_fast_path_matches_general_parser(
    scheme: str,
    host: str,
    port: int | None,
    segments: list[str],
    query: str | None,
    fragment: str | None,
) -> None:
    text = f"{scheme}://{host}" + (f":{port}" if port is not None else "")
    text += "".join("/" + s for s in segments)
    if query is not None:
        text += "?" + query
    if fragment is not None:
        text += "#" + fragment
    try:
        fast = URL(text)
    except InvalidURL:
        return  # e.g. a '%' that is not followed by two hex digits in odd places
    slow = URL.__new__(URL)
    slow._parse(text)  # the general parser, never the fast path
    for name in URL.__slots__:
        assert getattr(fast, name) == getattr(slow, name), name
    # Normalising a normalised URL changes nothing.
    assert str(URL(str(fast))) == str(fast)


# -- QueryParams ------------------------------------------------------------------------------


def test_query_params_from_string() -> None:
    q = QueryParams("a=1&b=hello+world&a=2&c=&d&e=%26")
    assert q["a"] == "1"
    assert q.get_list("a") == ["1", "2"]
    assert q["b"] == "hello world"
    assert q["c"] == "" and q["d"] == ""
    assert q["e"] == "&"
    assert list(q.keys()) == ["a", "b", "c", "d", "e"]
    assert len(q) == 5
    assert "a" in q and "z" not in q
    assert q.get("z") is None


def test_query_params_from_mapping_and_pairs() -> None:
    q = QueryParams({"a": ["1", 2], "t": True, "f": False, "n": None, "x": 1.5})
    assert q.multi_items() == [
        ("a", "1"),
        ("a", "2"),
        ("t", "true"),
        ("f", "false"),
        ("n", ""),
        ("x", "1.5"),
    ]
    assert QueryParams([("a", "1"), ("a", "2")]).get_list("a") == ["1", "2"]
    assert QueryParams(q) == q
    assert QueryParams(a="1")["a"] == "1"


def test_query_params_str_uses_plus_for_spaces() -> None:
    q = QueryParams({"q": "a b&c=d", "é": "/"})
    assert str(q) == "q=a+b%26c%3Dd&%C3%A9=%2F"
    assert repr(q) == "QueryParams('q=a+b%26c%3Dd&%C3%A9=%2F')"
    assert QueryParams(str(q)) == q


def test_query_params_are_immutable() -> None:
    q = QueryParams("a=1")
    assert q.set("a", "2")["a"] == "2"
    assert q.add("a", "2").get_list("a") == ["1", "2"]
    assert "a" not in q.remove("a")
    assert q.merge({"b": "3"}).multi_items() == [("a", "1"), ("b", "3")]
    assert q.merge({"a": "9"}).get_list("a") == ["9"]
    assert q.multi_items() == [("a", "1")]
    with pytest.raises(RuntimeError, match="immutable"):
        q["a"] = "2"  # type: ignore[index]
    with pytest.raises(RuntimeError, match="immutable"):
        q.update({"a": "2"})


def test_query_params_equality_ignores_order() -> None:
    assert QueryParams("a=1&b=2") == QueryParams("b=2&a=1")
    assert QueryParams("a=1&b=2") != QueryParams("a=1")
    assert QueryParams("a=1") == "a=1"
    assert hash(QueryParams("a=1")) == hash(QueryParams([("a", "1")]))
    assert not QueryParams("")


def test_query_params_rejects_odd_values() -> None:
    with pytest.raises(TypeError):
        QueryParams({"a": object()})


def test_copy_with_refuses_control_characters_and_keeps_a_lone_percent() -> None:
    with pytest.raises(InvalidURL, match="control character '\\\\n' at position 1 in URL path"):
        URL("https://www.example.com", path="/\n")
    with pytest.raises(InvalidURL, match="control character"):
        URL("https://www.example.com").copy_with(query="a=\r\nb")
    url = URL("https://example.org").copy_with(username="tom@example.org", password="abc123@ %")
    assert str(url) == "https://tom%40example.org:abc123%40%20%@example.org"
    assert url.username == "tom@example.org" and url.password == "abc123@ %"
