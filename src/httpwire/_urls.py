"""``URL`` and ``QueryParams``: parsing and normalising URLs (RFC 3986, IDNA via UTS 46).

A :class:`URL` is parsed and normalised once, when it is built; afterwards every attribute the
connection layer reads (``scheme``, ``host``, ``raw_host``, ``port``, ``raw_path``, ``netloc``)
is a plain attribute. Normalisation follows RFC 3986 §6.2.2 and §6.2.3:

* the scheme and host are lowercased, a non-ASCII host is IDNA-encoded (UTS 46, non-transitional);
* the scheme's default port is dropped (``http://h:80/`` is ``http://h/``);
* dot-segments are removed from the path of a URL that has a scheme (§5.2.4);
* characters not allowed in a component are percent-encoded as UTF-8, while valid ``%XX``
  escapes are kept as they are (so encoding an already-encoded URL changes nothing).

A URL that is already valid, normalised ASCII (the common ``http://127.0.0.1:8080/path?q=1``)
takes a fast path: one precompiled regular expression, no re-encoding.
"""

from __future__ import annotations

import ipaddress
import re
import typing
from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import parse_qsl, quote_plus, unquote

import idna

from ._exceptions import InvalidURL

__all__ = ["URL", "QueryParams", "DEFAULT_PORTS", "MAX_URL_LENGTH"]

#: Ports dropped from URLs of these schemes (RFC 9110 §4.2, RFC 6455 §3).
DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}

#: Longest URL accepted, in characters (httpx uses the same limit).
MAX_URL_LENGTH = 65536

# The keywords of URL(...) and URL.copy_with(...).
_COMPONENTS = frozenset(
    {
        "scheme", "userinfo", "username", "password", "host", "port", "netloc",
        "path", "query", "raw_path", "fragment", "params",
    }
)  # fmt: skip

# -- character sets (RFC 3986 §2 and §3) ---------------------------------------------------------
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCHAR = _UNRESERVED + _SUB_DELIMS + ":@"
_PATH_CHARS = _PCHAR + "/"
_QUERY_CHARS = _PCHAR + "/?"
# What a path, query or fragment keeps as given: every visible ASCII character (RFC 5234 VCHAR,
# what an HTTP/1.1 request-target may carry), '%' included, so that signed URLs and servers that
# read '[', ']', '{', '}', '|', '^', '"', '<', '>' or a lone '%' literally get exactly the bytes
# written. Only space, control characters and non-ASCII are percent-encoded (as UTF-8), plus the
# delimiter that would end the component ('?' and '#' in a path, '#' in a query).
_VCHAR = "".join(chr(c) for c in range(0x21, 0x7F))
_PATH_KEEP = re.escape(_VCHAR.replace("?", "").replace("#", ""))
_QUERY_KEEP = re.escape(_VCHAR.replace("#", ""))
_FRAGMENT_KEEP = re.escape(_VCHAR)
# Special schemes (WHATWG URL): their hosts are domains or IP addresses. Other schemes have an
# "opaque host", which may hold percent-escapes and more punctuation.
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file", ""})
# An opaque host: VCHAR except the WHATWG "forbidden host code points" ('%' is allowed).
_OPAQUE_HOST = re.compile(
    "[" + re.escape("".join(c for c in _VCHAR if c not in "#/:<>?@[\\]^|")) + "]*"
)
_USERINFO_CHARS = _UNRESERVED + _SUB_DELIMS + ":"
_USER_CHARS = _UNRESERVED + _SUB_DELIMS  # username / password alone: ':' must be escaped

# The fast path: an absolute http(s)/ws(s) URL that is already in normal form and ASCII, with no
# userinfo and no '%' anywhere (so the decoded path equals the raw path). Hosts are a dotted-quad
# IPv4 address or a lowercase name containing at least one non-digit.
_IPV4_STRICT = r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_FAST_URL = re.compile(
    r"(https?|wss?)://"
    r"(" + _IPV4_STRICT + r"|(?=[a-z0-9._-]*[a-z_-])[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?)"
    r"(?::([1-9][0-9]{0,4}))?"
    r"(/[" + _PATH_CHARS + r"]*)?"
    r"(?:\?([" + _QUERY_CHARS + r"]*))?"
    r"(?:#([" + _QUERY_CHARS + r"]*))?"
)

# RFC 3986 Appendix B: splits any string into the five components.
_SPLIT = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.DOTALL)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_PORT = re.compile(r"[0-9]{1,5}")
_ASCII_HOST = re.compile(r"[A-Za-z0-9\-._~" + _SUB_DELIMS + r"]*")
_DIGITS_AND_DOTS = re.compile(r"[0-9.]*[0-9][0-9.]*")
# Control characters (C0, including TAB, CR, LF, NUL, and DEL) are refused anywhere.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PCT_HEX = re.compile(r"%[0-9A-Fa-f]{2}")


def _component_checker(chars: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    valid = re.compile(r"(?:[" + chars + r"]|%[0-9A-Fa-f]{2})*")
    escape = re.compile(r"%[0-9A-Fa-f]{2}|[^" + chars + r"]")
    return valid, escape


_PATH_RE = _component_checker(_PATH_KEEP)
_QUERY_RE = _component_checker(_QUERY_KEEP)
_FRAGMENT_RE = _component_checker(_FRAGMENT_KEEP)
# A lone '%' in a user name or password is kept as given too (WHATWG, httpx).
_USERINFO_RE = _component_checker(_USERINFO_CHARS + "%")
_USER_RE = _component_checker(_USER_CHARS + "%")


def _escape_match(match: re.Match[str]) -> str:
    text = match.group(0)
    if len(text) == 3 and text[0] == "%":
        return text  # an already valid escape is kept
    return "".join(f"%{byte:02X}" for byte in text.encode("utf-8"))


def _quote(value: str, checker: tuple[re.Pattern[str], re.Pattern[str]], part: str) -> str:
    """Percent-encode what is not allowed in ``part``; keep valid ``%XX`` escapes (RFC 3986 §2.1)."""
    valid, escape = checker
    if valid.fullmatch(value):
        return value
    try:
        return escape.sub(_escape_match, value)
    except UnicodeEncodeError:
        raise InvalidURL(
            f"Invalid character in URL {part}: {value!r} cannot be encoded as UTF-8"
        ) from None


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, done segment by segment."""
    segments = path.split("/")
    output: list[str] = []
    for segment in segments:
        if segment == ".":
            continue
        if segment == "..":
            if output and output != [""]:
                output.pop()
            continue
        output.append(segment)
    if segments[-1] in (".", ".."):
        output.append("")
    result = "/".join(output)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result


def _has_dot_segment(path: str) -> bool:
    return "/." in path or path.startswith(".")


def _check_ace_label(label: str, host: str, url: str) -> None:
    """An ``xn--`` label must be valid Punycode. IDNA 2008 (the ``idna`` package) is asked
    first; a label it refuses but that decodes as Punycode (``xn--n3h``, a snowman: allowed by
    UTS 46 and by browsers) is accepted as it is, since it is ASCII already."""
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError) as exc:
        try:
            label[4:].encode("ascii").decode("punycode")
        except UnicodeError:
            raise InvalidURL(
                f"Invalid IDNA label {label!r} in host {host!r} of URL {url!r}: {exc}"
            ) from None


def _encode_host(host: str, url: str, scheme: str = "") -> str:
    """Validate and normalise a host (without brackets); return the ASCII form, lowercased.

    Hosts of special schemes (http, https, ws, wss, ftp, file, or none) are domain names or
    IPv4 addresses; other schemes' hosts are WHATWG "opaque hosts", which may also carry
    percent-escapes and punctuation such as ``"``, ``{`` or ``%``."""
    if host.isascii():
        lowered = host.lower()
        if _DIGITS_AND_DOTS.fullmatch(lowered):
            # An all-numeric host can only be an IPv4 address; refusing "1.2.3" or "999.1.1.1"
            # avoids the ambiguous shorthand forms that browsers and resolvers read differently.
            try:
                ipaddress.IPv4Address(lowered)
            except ValueError:
                raise InvalidURL(f"Invalid IPv4 address {host!r} in URL {url!r}") from None
            return lowered
        if not _ASCII_HOST.fullmatch(lowered) and (
            scheme in _SPECIAL_SCHEMES or not _OPAQUE_HOST.fullmatch(lowered)
        ):
            allowed = _ASCII_HOST if scheme in _SPECIAL_SCHEMES else _OPAQUE_HOST
            bad = next(c for c in lowered if not allowed.fullmatch(c))
            raise InvalidURL(f"Invalid character {bad!r} in host {host!r} of URL {url!r}")
        if "xn--" in lowered:
            for label in lowered.split("."):
                if label.startswith("xn--"):
                    _check_ace_label(label, host, url)
        return lowered
    try:
        encoded: bytes = idna.encode(host, uts46=True)
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidURL(f"Invalid IDNA host name {host!r} in URL {url!r}: {exc}") from None
    return encoded.decode("ascii")


def _unicode_host(ascii_host: str) -> str:
    """The host for display and ``URL.host``: ``xn--`` labels decoded (``"xn--fa-hia.de"`` ->
    ``"faß.de"``); anything else as it is."""
    if "xn--" not in ascii_host:
        return ascii_host
    labels = []
    for label in ascii_host.split("."):
        if label.startswith("xn--"):
            try:
                label = idna.decode(label)
            except (idna.IDNAError, UnicodeError):
                try:
                    label = label[4:].encode("ascii").decode("punycode")
                except UnicodeError:  # pragma: no cover - validated when parsed
                    pass
        labels.append(label)
    return ".".join(labels)


def _encode_ipv6(literal: str, url: str) -> str:
    """Validate ``literal`` (the text between the brackets); return it lowercased."""
    address, _, zone = literal.partition("%25")
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        raise InvalidURL(f"Invalid IPv6 address {literal!r} in URL {url!r}") from None
    if zone:
        if not re.fullmatch("[" + _UNRESERVED + "]+", zone):
            raise InvalidURL(f"Invalid IPv6 zone identifier {zone!r} in URL {url!r}")
        return address.lower() + "%" + zone
    if "%" in literal:
        raise InvalidURL(f"Invalid IPv6 address {literal!r} in URL {url!r}: zone must be '%25'")
    return address.lower()


def _parse_port(port: str | int | None, url: str) -> int | None:
    if port is None or port == "":
        return None
    if isinstance(port, int) and not isinstance(port, bool):
        value = port
    elif isinstance(port, str) and _PORT.fullmatch(port):
        value = int(port)
    else:
        raise InvalidURL(f"Invalid port {port!r} in URL {url!r}")
    if not 0 <= value <= 65535:
        raise InvalidURL(f"Invalid port {port!r} in URL {url!r}: must be 0-65535")
    return value


def _encode_any_host(host: str, ipv6: bool, source: str, scheme: str) -> str:
    """``host`` (an IPv6 literal without brackets when ``ipv6``) in its ASCII form, as
    ``_encode_ipv6`` / ``_encode_host`` make it; ``InvalidURL`` for a space in it."""
    if " " in host:
        raise InvalidURL(f"Invalid character ' ' in host {host!r} of URL {source!r}")
    if ipv6:
        return _encode_ipv6(host, source)
    if host:
        return _encode_host(host, source, scheme)
    return host


def _check_path(scheme: str, authority: bool, path: str) -> None:
    """``InvalidURL`` for a (quoted) path that would read differently once the URL is written
    out: after an authority it must be empty or start with '/'; without one it must not start
    with '//' (an authority) or, without a scheme, with ':' (RFC 3986 section 4.2)."""
    if authority and path and not path.startswith("/"):
        # httpx's words (only copy_with() / keywords can get here: a parsed path after a
        # host always starts with '/').
        raise InvalidURL("For absolute URLs, path must be empty or begin with '/'")
    if not authority and path.startswith("//"):
        # httpx's words, as below (parsed, '//' would start an authority: only keywords
        # get here; a leading ':' can be parsed too, as in "::x")
        raise InvalidURL("Relative URLs cannot have a path starting with '//'")
    if not scheme and not authority and path.startswith(":"):
        # RFC 3986 section 4.2: it would read as a scheme once written out
        raise InvalidURL("Relative URLs cannot have a path starting with ':'")


def _checked_components(caller: str, kwargs: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """``URL.copy_with()``'s keywords, bytes decoded: ``TypeError`` for an unknown one,
    ``InvalidURL`` for one too long or holding a control character (never percent-encoded)."""
    for name in kwargs:
        if name not in _COMPONENTS:
            # httpx's words
            raise TypeError(f"{name!r} is an invalid keyword argument for {caller}")
    parts: dict[str, typing.Any] = {
        k: (v.decode("ascii") if isinstance(v, bytes) else v) for k, v in kwargs.items()
    }
    for name, value in parts.items():
        if isinstance(value, str) and len(value) > MAX_URL_LENGTH:
            raise InvalidURL(f"URL component {name!r} too long")  # httpx's words
        # As in a parsed URL, control characters are refused, never percent-encoded.
        control = _CONTROL.search(value) if isinstance(value, str) else None
        if control is not None:
            raise InvalidURL(
                f"Invalid control character {control.group(0)!r} at position "
                f"{control.start()} in URL {name} component {value!r}"
            )
    return parts


def _userinfo_with(userinfo: str, parts: dict[str, typing.Any]) -> str:
    """``userinfo`` with ``copy_with()``'s ``userinfo``, ``username`` and ``password``
    keywords (``parts``) applied, the latter two quoted."""
    if "userinfo" in parts:
        userinfo = parts["userinfo"]
    if "username" in parts or "password" in parts:
        old_user, _, old_password = userinfo.partition(":")
        user = _quote(parts.get("username") or "", _USER_RE, "username")
        if "username" not in parts:
            user = old_user
        password = _quote(parts.get("password") or "", _USER_RE, "password")
        if "password" not in parts:
            password = old_password
        userinfo = user + (":" + password if password else "")
    return userinfo


class URL:
    """A parsed, normalised URL (RFC 3986). Treat instances as immutable.

    ``URL("https://example.com:443/a/../b?x=1")`` -> ``URL('https://example.com/b?x=1')``.
    ``URL(url, **components)`` is ``URL(url).copy_with(**components)``.

    Attributes (all computed when the URL is built):

    * ``scheme``: ``str``, lowercase (``""`` for a relative reference);
    * ``host``: ``str``, lowercase, IPv6 without brackets, in Unicode: IDNA labels decoded
      (``URL("https://xn--fa-hia.de").host == "faß.de"``, as in httpx);
    * ``raw_host``: ``bytes``, the ASCII (IDNA-encoded) host that goes to DNS, TLS SNI and the
      ``Host`` header (``b"xn--fa-hia.de"``);
    * ``port``: ``int``, or ``None`` when absent or the scheme's default;
    * ``netloc``: ``bytes`` ``host[:port]`` as sent in a ``Host`` header (IPv6 in brackets);
    * ``raw_path``: ``bytes`` path plus ``?query``; ``b"/"`` when the path is empty (the
      request-target in origin-form, RFC 9112 §3.2.1) in http(s), ws(s), ftp and file URLs
      (other schemes keep an empty path empty, as the WHATWG URL standard does). Sent as given: visible ASCII
      (``[ ] { } | ^ " < > %`` included) is never re-encoded; only spaces, control characters
      and non-ASCII are percent-encoded (UTF-8);
    * ``path``: ``str``, percent-decoded (``"/"`` when empty, the URL has a host and a scheme
      of those);
    * ``query``: ``bytes``, percent-encoded, without the ``?``;
    * ``fragment``: ``str``, percent-decoded;
    * ``userinfo``: ``bytes``, percent-encoded; ``username`` / ``password``: decoded ``str``.

    Raises :class:`~httpwire.InvalidURL` naming the part at fault: bad scheme, bad port,
    invalid characters, bad IDNA label, control characters (CR, LF, TAB, NUL...) anywhere,
    leading or trailing spaces, longer than ``MAX_URL_LENGTH`` characters; ``TypeError`` for a
    keyword that is not a component. An empty host (``"http://"``, ``"https://:443/"``) parses,
    as in httpx: such a URL is relative (``is_relative_url``), and sending it raises
    ``UnsupportedProtocol`` (RFC 9110 section 4.2.1: an http URI needs a host).
    """

    __slots__ = (
        "scheme",
        "userinfo",
        "host",
        "raw_host",
        "port",
        "netloc",
        "raw_path",
        "path",
        "query",
        "fragment",
        "_path",
        "_query",
        "_fragment",
        "_authority",
        "_str",
    )

    scheme: str
    userinfo: bytes
    host: str
    raw_host: bytes
    port: int | None
    netloc: bytes
    raw_path: bytes
    path: str
    query: bytes
    fragment: str
    _path: str  # percent-encoded path, possibly empty
    _query: str | None  # percent-encoded, None when there is no '?'
    _fragment: str | None  # percent-encoded, None when there is no '#'
    _authority: bool  # whether the URL has a '//' authority part
    _str: str

    def __init__(self, url: URL | str = "", **kwargs: typing.Any) -> None:
        if isinstance(url, str):
            match = _FAST_URL.fullmatch(url)
            if match is not None and "xn--" not in url:
                scheme, host, port_text, path, query, fragment = match.groups()
                port = int(port_text) if port_text is not None else None
                if (
                    (port is None or (port <= 65535 and port != DEFAULT_PORTS[scheme]))
                    and (path is None or "/." not in path)
                    and len(url) <= MAX_URL_LENGTH
                ):
                    raw_host = host.encode("ascii")
                    self.scheme = scheme
                    self.userinfo = b""
                    self.host = host
                    self.raw_host = raw_host
                    self.port = port
                    self.netloc = raw_host if port is None else b"%b:%d" % (raw_host, port)
                    if path is None:
                        path = ""
                        self.path = "/"
                    else:
                        self.path = path
                    if query is None:
                        self.query = b""
                        self.raw_path = path.encode("ascii") if path else b"/"
                    else:
                        self.query = query.encode("ascii")
                        self.raw_path = (path or "/").encode("ascii") + b"?" + self.query
                    self.fragment = fragment or ""
                    self._path = path
                    self._query = query
                    self._fragment = fragment
                    self._authority = True
                    self._str = url
                    if kwargs:
                        self._copy_from(self._copy_with("URL()", kwargs))
                    return
            self._parse(url)
        elif isinstance(url, URL):
            self._copy_from(url)
        else:
            raise TypeError(f"URL must be a str or URL, not {type(url).__name__}")
        if kwargs:
            self._copy_from(self._copy_with("URL()", kwargs))

    # -- building --------------------------------------------------------------------------------

    def _copy_from(self, other: URL) -> None:
        for name in URL.__slots__:
            object.__setattr__(self, name, getattr(other, name))

    def _parse(self, url: str) -> None:
        if len(url) > MAX_URL_LENGTH:
            raise InvalidURL(f"URL too long: {len(url)} characters (the limit is {MAX_URL_LENGTH})")
        control = _CONTROL.search(url)
        if control is not None:
            raise InvalidURL(
                f"Invalid control character {control.group(0)!r} at position {control.start()} "
                f"in URL {url!r}"
            )
        if url != url.strip(" "):
            raise InvalidURL(f"URL {url!r} has leading or trailing spaces")
        # A leading ':' is an empty scheme, as httpx reads it: "://example.com" is the host
        # example.com with no scheme (a relative URL, which a client joins to its base_url).
        match = _SPLIT.fullmatch(url[1:] if url.startswith(":") else url)
        assert match is not None  # the pattern matches every string
        scheme, authority, path, query, fragment = match.groups()
        if scheme is not None and not _SCHEME.fullmatch(scheme):
            raise InvalidURL(
                f"Invalid URL scheme {scheme!r} in URL {url!r} (did you forget 'http://'?)"
            )
        userinfo, host, port, ipv6 = "", "", "", False
        if authority is not None:
            userinfo, host, port, ipv6 = _split_authority(authority, url)
        self._build(
            url,
            scheme or "",
            userinfo,
            host,
            ipv6,
            port,
            path,
            query,
            fragment,
            authority is not None,
        )

    def _build(
        self,
        source: str,
        scheme: str,
        userinfo: str,
        host: str,
        ipv6: bool,
        port: str | int | None,
        path: str,
        query: str | None,
        fragment: str | None,
        authority: bool,
    ) -> None:
        scheme = scheme.lower()
        if scheme and not _SCHEME.fullmatch(scheme):
            where = f" in URL {source!r}" if source else ""  # URL(scheme=...) has no text yet
            raise InvalidURL(f"Invalid URL scheme {scheme!r}{where}")
        host = _encode_any_host(host, ipv6, source, scheme)
        port_number = _parse_port(port, source)
        if port_number is not None and DEFAULT_PORTS.get(scheme) == port_number:
            port_number = None
        authority = authority or bool(host) or bool(userinfo) or port_number is not None
        userinfo = _quote(userinfo, _USERINFO_RE, "userinfo")
        path = _quote(path, _PATH_RE, "path")
        _check_path(scheme, authority, path)
        if scheme and _has_dot_segment(path):
            path = _remove_dot_segments(path)
        if query is not None:
            query = _quote(query, _QUERY_RE, "query")
        if fragment is not None:
            fragment = _quote(fragment, _FRAGMENT_RE, "fragment")

        raw_host = host.encode("ascii")
        bracketed = b"[" + raw_host.replace(b"%", b"%25") + b"]" if ipv6 else raw_host
        self.scheme = scheme
        self.userinfo = userinfo.encode("ascii")
        self.host = _unicode_host(host)
        self.raw_host = raw_host
        self.port = port_number
        self.netloc = bracketed if port_number is None else b"%b:%d" % (bracketed, port_number)
        # An empty path is "/" in origin-form for the special schemes (RFC 9112 section 3.2.1,
        # WHATWG URL); other schemes keep it empty, as the WHATWG URL standard does.
        origin_path = path or ("/" if scheme in _SPECIAL_SCHEMES else "")
        self.raw_path = origin_path.encode("ascii")
        self.query = b"" if query is None else query.encode("ascii")
        if query is not None:
            self.raw_path += b"?" + self.query
        self.path = unquote(origin_path if authority else path)
        self.fragment = "" if fragment is None else unquote(fragment)
        self._path = path
        self._query = query
        self._fragment = fragment
        self._authority = authority

        parts = []
        if scheme:
            parts.append(scheme + ":")
        if authority:
            parts.append("//")
            if userinfo:
                parts.append(userinfo + "@")
            parts.append(self.netloc.decode("ascii"))
        parts.append(path)
        if query is not None:
            parts.append("?" + query)
        if fragment is not None:
            parts.append("#" + fragment)
        self._str = "".join(parts)
        if len(self._str) > MAX_URL_LENGTH:
            raise InvalidURL(f"URL too long: {len(self._str)} characters once encoded")

    # -- derived properties ----------------------------------------------------------------------

    @property
    def username(self) -> str:
        """The decoded user name from the userinfo (``""`` when absent)."""
        return unquote(self.userinfo.decode("ascii").partition(":")[0])

    @property
    def password(self) -> str:
        """The decoded password from the userinfo (``""`` when absent)."""
        return unquote(self.userinfo.decode("ascii").partition(":")[2])

    @property
    def effective_port(self) -> int | None:
        """``port``, or the scheme's default port (80, 443, ...), or ``None`` if neither."""
        return self.port if self.port is not None else DEFAULT_PORTS.get(self.scheme)

    @property
    def origin(self) -> tuple[str, str, int | None]:
        """``(scheme, ASCII host, effective_port)``: the key a connection pool groups
        connections by."""
        return (self.scheme, self.raw_host.decode("ascii"), self.effective_port)

    @property
    def unicode_host(self) -> str:
        """The host with IDNA labels decoded (``"xn--fiqs8s"`` -> ``"中国"``): ``host``."""
        return self.host

    @property
    def params(self) -> QueryParams:
        """The query string parsed into :class:`QueryParams`."""
        return QueryParams(self.query.decode("ascii"))

    @property
    def is_absolute_url(self) -> bool:
        """True when the URL has both a scheme and a host (it can be requested)."""
        return bool(self.scheme and self.host)

    @property
    def is_relative_url(self) -> bool:
        """The opposite of :attr:`is_absolute_url`."""
        return not self.is_absolute_url

    # -- derived URLs ----------------------------------------------------------------------------

    def copy_with(self, **kwargs: typing.Any) -> URL:
        """A new URL with some components replaced.

        Keywords: ``scheme``, ``userinfo``, ``username``, ``password``, ``host``, ``port``,
        ``netloc`` (``host[:port]``), ``path``, ``query`` (str or bytes, without ``?``),
        ``raw_path`` (path plus ``?query``), ``fragment``, ``params`` (replaces the query).
        Values are encoded as in the constructor (valid ``%XX`` escapes are kept).
        Raises ``TypeError`` for an unknown keyword, ``InvalidURL`` for a bad value.
        """
        return self._copy_with("copy_with()", kwargs)

    def _copy_with(self, caller: str, kwargs: dict[str, typing.Any]) -> URL:
        parts = _checked_components(caller, kwargs)
        scheme = parts.get("scheme", self.scheme)
        userinfo = _userinfo_with(self.userinfo.decode("ascii"), parts)
        host = self.raw_host.decode("ascii")
        ipv6 = ":" in host
        if ipv6 and "%" in host:
            host = host.replace("%", "%25")
        port: str | int | None = self.port
        if "netloc" in parts:
            _, host, port, ipv6 = _split_authority(parts["netloc"], str(self))
        if "host" in parts:
            host = parts["host"]
            ipv6 = host.startswith("[")
            if ipv6:
                if not host.endswith("]"):
                    raise InvalidURL(f"Invalid IPv6 host {host!r}: missing ']'")
                host = host[1:-1]
            elif ":" in host:
                ipv6 = True
        if "port" in parts:
            port = parts["port"]
        path, query, fragment = self._path, self._query, self._fragment
        if "raw_path" in parts:
            path, question, query_text = parts["raw_path"].partition("?")
            query = query_text if question else None
        if "path" in parts:
            path = parts["path"]
        if "query" in parts:
            query = parts["query"]
        if "params" in parts:
            query = str(QueryParams(parts["params"])) or None
        if "fragment" in parts:
            fragment = parts["fragment"]
        url = URL.__new__(URL)
        url._build(
            str(self),
            scheme,
            userinfo,
            host,
            ipv6,
            port,
            path,
            query,
            fragment,
            self._authority or "host" in parts or "netloc" in parts,
        )
        return url

    def copy_set_param(self, key: str, value: typing.Any = None) -> URL:
        """A new URL with the query parameter ``key`` set to ``value`` (other values removed)."""
        return self.copy_with(params=self.params.set(key, value))

    def copy_add_param(self, key: str, value: typing.Any = None) -> URL:
        """A new URL with ``key=value`` appended to the query."""
        return self.copy_with(params=self.params.add(key, value))

    def copy_remove_param(self, key: str) -> URL:
        """A new URL without the query parameter ``key``."""
        return self.copy_with(params=self.params.remove(key))

    def copy_merge_params(self, params: QueryParamTypes) -> URL:
        """A new URL with ``params`` merged into the query (their keys replace existing ones)."""
        return self.copy_with(params=self.params.merge(params))

    def join(self, url: URL | str) -> URL:
        """Resolve the reference ``url`` against this URL (RFC 3986 §5.2.2).

        ``URL("http://a/b/c/d;p?q").join("../g")`` -> ``URL('http://a/b/g')``. A reference with
        the same scheme and no authority (``"http:g"``) is read as relative, as browsers do
        (the "non-strict" rule of §5.2.2), since ``http:g`` alone has no host.
        """
        ref = url if isinstance(url, str) else str(url)
        if _CONTROL.search(ref):
            URL(ref)  # raises with the precise message
        match = _SPLIT.fullmatch(ref)
        assert match is not None
        r_scheme, r_authority, r_path, r_query, r_fragment = match.groups()
        if r_scheme is not None and r_scheme.lower() == self.scheme and r_authority is None:
            r_scheme = None  # non-strict: "http:g" is "g"
        if r_scheme is not None:
            return URL(ref)
        base_authority = self._authority
        if r_authority is not None:
            authority: str | None = r_authority
            path, query = r_path, r_query
        else:
            authority = None
            if r_path == "":
                path = self._path
                query = r_query if r_query is not None else self._query
            else:
                if r_path.startswith("/"):
                    path = r_path
                elif base_authority and self._path == "":
                    path = "/" + r_path
                else:
                    path = self._path[: self._path.rfind("/") + 1] + r_path
                query = r_query
        path = _remove_dot_segments(path) if _has_dot_segment(path) else path
        parts: list[str] = []
        if self.scheme:
            parts.append(self.scheme + ":")
        if authority is not None:
            parts.append("//" + authority)
        elif base_authority:
            parts.append("//")
            if self.userinfo:
                parts.append(self.userinfo.decode("ascii") + "@")
            parts.append(self.netloc.decode("ascii"))
        parts.append(path)
        if query is not None:
            parts.append("?" + query)
        if r_fragment is not None:
            parts.append("#" + r_fragment)
        return URL("".join(parts))

    # -- dunder ----------------------------------------------------------------------------------

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        text = self._str
        if b":" in self.userinfo:
            user = self.userinfo.partition(b":")[0].decode("ascii")
            text = text.replace(self.userinfo.decode("ascii") + "@", user + ":[secure]@", 1)
        return f"URL({text!r})"

    def __hash__(self) -> int:
        return hash(self._str)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URL):
            return self._str == other._str
        if isinstance(other, str):
            if other == self._str:
                return True
            try:
                return self._str == URL(other)._str
            except InvalidURL:
                return False
        return NotImplemented


def _split_authority(authority: str, url: str) -> tuple[str, str, str, bool]:
    """``"user:pw@host:port"`` -> ``(userinfo, host, port, is_ipv6)``; brackets removed."""
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        userinfo = ""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end == -1:
            raise InvalidURL(f"Invalid IPv6 host in URL {url!r}: missing ']'")
        host, rest = hostport[1:end], hostport[end + 1 :]
        if rest and not rest.startswith(":"):
            raise InvalidURL(f"Invalid characters {rest!r} after IPv6 host in URL {url!r}")
        return userinfo, host, rest[1:], True
    host, _, port = hostport.partition(":")
    return userinfo, host, port, False


# -- QueryParams ---------------------------------------------------------------------------------

PrimitiveData: typing.TypeAlias = str | int | float | bool | None


def _primitive(value: typing.Any) -> str:
    """Query values as httpx writes them: ``True`` -> ``"true"``, ``None`` -> ``""``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    raise TypeError(f"query parameter values must be str, int, float, bool or None, not {value!r}")


class QueryParams(Mapping[str, str]):
    """An immutable, ordered multi-dict of query parameters.

    Built from a query string (``"a=1&b=2"``, ``+`` and ``%XX`` decoded), a mapping (values may
    be lists), a list of pairs, or another ``QueryParams``. ``params["a"]`` is the first value;
    ``get_list("a")`` all of them. ``set``/``add``/``remove``/``merge`` return new instances.
    ``str(params)`` is ``application/x-www-form-urlencoded`` (spaces as ``+``), like httpx.
    """

    __slots__ = ("_dict",)

    _dict: dict[str, list[str]]

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        if len(args) > 1:
            raise TypeError("QueryParams() takes at most one positional argument")
        value = args[0] if args else kwargs
        if args and kwargs:
            raise TypeError("QueryParams() takes either a positional argument or keywords")
        items: dict[str, list[str]] = {}
        if value is None or (isinstance(value, str | bytes) and not value):
            pass
        elif isinstance(value, QueryParams):
            items = {k: list(v) for k, v in value._dict.items()}
        elif isinstance(value, str | bytes):
            text = value.decode("ascii") if isinstance(value, bytes) else value
            for key, item in parse_qsl(text, keep_blank_values=True):
                items.setdefault(key, []).append(item)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(item, list | tuple):
                    items[str(key)] = [_primitive(v) for v in item]
                else:
                    items[str(key)] = [_primitive(item)]
        else:
            for key, item in value:
                items.setdefault(str(key), []).append(_primitive(item))
        self._dict = items

    def keys(self) -> typing.KeysView[str]:
        return self._dict.keys()

    def values(self) -> typing.ValuesView[str]:
        return {k: v[0] for k, v in self._dict.items()}.values()

    def items(self) -> typing.ItemsView[str, str]:
        return {k: v[0] for k, v in self._dict.items()}.items()

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(key, value)`` pair, in order, repeated keys included."""
        return [(k, v) for k, values in self._dict.items() for v in values]

    def get_list(self, key: str) -> list[str]:
        """All values for ``key`` (``[]`` when absent)."""
        return list(self._dict.get(key, []))

    def set(self, key: str, value: typing.Any = None) -> QueryParams:
        """A copy where ``key`` has the single value ``value``."""
        q = QueryParams(self)
        q._dict[str(key)] = [_primitive(value)]
        return q

    def add(self, key: str, value: typing.Any = None) -> QueryParams:
        """A copy with ``value`` appended to the values of ``key``."""
        q = QueryParams(self)
        q._dict.setdefault(str(key), []).append(_primitive(value))
        return q

    def remove(self, key: str) -> QueryParams:
        """A copy without ``key``."""
        q = QueryParams(self)
        q._dict.pop(str(key), None)
        return q

    def merge(self, params: typing.Any = None) -> QueryParams:
        """A copy updated with ``params``: keys present in ``params`` replace ours."""
        other = QueryParams(params)
        q = QueryParams(self)
        q._dict.update(other._dict)
        return q

    def __getitem__(self, key: str) -> str:
        return self._dict[key][0]

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __bool__(self) -> bool:
        return bool(self._dict)

    def __hash__(self) -> int:
        return hash(str(self))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueryParams):
            try:
                other = QueryParams(other)
            except (TypeError, ValueError):
                return NotImplemented
        return sorted(self.multi_items()) == sorted(other.multi_items())

    def __str__(self) -> str:
        return "&".join(
            quote_plus(k, safe="") + "=" + quote_plus(v, safe="") for k, v in self.multi_items()
        )

    def __repr__(self) -> str:
        return f"QueryParams({str(self)!r})"

    def update(self, params: typing.Any = None) -> None:
        raise RuntimeError(
            "QueryParams is immutable: use q = q.merge(...) to build an updated copy"
        )

    def __setitem__(self, key: str, value: str) -> None:
        raise RuntimeError("QueryParams is immutable: use q = q.set(key, value) to build a copy")


QueryParamTypes: typing.TypeAlias = (
    QueryParams
    | Mapping[str, PrimitiveData | Sequence[PrimitiveData]]
    | Sequence[tuple[str, PrimitiveData]]
    | str
    | bytes
    | None
)
