"""Authentication with httpx's flow model, shared by both flavours.

An authentication scheme is an :class:`Auth`: its :meth:`Auth.auth_flow` is a generator that
receives the request, may edit it, yields it, receives the response to it, and may yield the
request again (edited) to answer a challenge. The client drives the flow
(:meth:`Auth.sync_auth_flow` in ``httpwire``, :meth:`Auth.async_auth_flow` in ``ahttpwire``);
the responses a flow answers are kept in ``response.history``.

An ``auth=`` setting (on a client or on one request) is one of:

- ``(username, password)``: HTTP Basic authentication (RFC 7617), as :class:`BasicAuth`;
- an :class:`Auth`: :class:`BasicAuth`, :class:`DigestAuth` (RFC 7616), :class:`NetRCAuth`, or
  a subclass of your own;
- any callable ``auth(request) -> request | None`` that edits the request before it is sent
  (sets a header, signs the URL, ...). It is a plain function in both flavours;
- ``None``: no authentication.

An auth flow runs around the redirects of its request: requests of a redirect chain copy the
headers the flow set, except that ``Authorization`` is dropped when the redirect leaves the
origin (scheme, host, port), so credentials are never sent to another site.

Without ``auth=``, credentials in the URL (``http://user:pass@host/``) are sent as Basic
authentication, as browsers and httpx do; failing those, with ``trust_env=True`` (the default),
the ``.netrc`` entry for the request's host (the file named by ``$NETRC``, else ``~/.netrc``,
else ``~/_netrc``) is sent as Basic authentication, as curl ``-n``, requests and httpx before
0.24 do.
"""

from __future__ import annotations

import base64
import hashlib
import netrc
import os
import threading
import time
import typing
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any
from urllib.request import parse_http_list

from ._exceptions import ProtocolError

if TYPE_CHECKING:  # pragma: no cover
    from ._models import Request, Response
    from ._urls import URL

__all__ = [
    "Auth",
    "BasicAuth",
    "DigestAuth",
    "FunctionAuth",
    "NetRCAuth",
    "AuthCallable",
    "AuthTypes",
    "EnvNetrc",
    "build_auth",
    "basic_auth_header",
    "url_auth",
]

AuthCallable = Callable[["Request"], Any]
"""A callable auth hook: receives the :class:`Request`, edits it, returns it or None."""

AuthTypes = typing.Union[tuple[str | bytes, str | bytes], AuthCallable, "Auth", None]


def _to_bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        # RFC 7617 section 2.1 / RFC 7616 section 4: the only charset a server may announce is
        # UTF-8, and every server seen in the wild that handles non-ASCII credentials expects it.
        return value.encode("utf-8")
    raise TypeError(f"auth {what} must be str or bytes, not {type(value).__name__}")


def basic_auth_header(username: str | bytes, password: str | bytes) -> bytes:
    """The ``Authorization`` value for Basic authentication (RFC 7617 section 2), as bytes.

    ``b"Basic " + base64(username ":" password)``. Raises ``ValueError`` when the user name
    contains a colon (RFC 7617 forbids it: the server could not split the pair) and ``TypeError``
    when either part is neither ``str`` nor ``bytes``.
    """
    user = _to_bytes(username, "username")
    if b":" in user:
        raise ValueError("a basic auth username may not contain ':' (RFC 7617 section 2)")
    pair = user + b":" + _to_bytes(password, "password")
    return b"Basic " + base64.b64encode(pair)


class Auth:
    """The base of authentication schemes (httpx's ``Auth``).

    Override :meth:`auth_flow`; set ``requires_request_body = True`` when the flow needs
    ``request.content`` (the body is read into memory first) and ``requires_response_body =
    True`` when it needs ``response.content`` of the responses it receives. A flow that does
    I/O of its own overrides :meth:`sync_auth_flow` and :meth:`async_auth_flow` instead.

    The base class itself sends the request unchanged (no authentication).
    """

    requires_request_body = False
    requires_response_body = False

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        """Yield the request to send (edited as needed); receive its response from the yield;
        yield again to send another request (a challenge's answer), or return to stop with the
        last response."""
        yield request

    def sync_auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        """:meth:`auth_flow` as the sync client runs it: reads the bodies the flow requires."""
        if self.requires_request_body:
            request.read()
        flow = self.auth_flow(request)
        request = next(flow)
        while True:
            response = yield request
            if self.requires_response_body:
                response.read()
            try:
                request = flow.send(response)
            except StopIteration:
                break

    async def async_auth_flow(self, request: Request) -> AsyncGenerator[Request, Response]:
        """:meth:`auth_flow` as the async client runs it: reads the bodies the flow requires."""
        if self.requires_request_body:
            await request.aread()
        flow = self.auth_flow(request)
        request = next(flow)
        while True:
            response = yield request
            if self.requires_response_body:
                await response.aread()
            try:
                request = flow.send(response)
            except StopIteration:
                break


class FunctionAuth(Auth):
    """A callable ``auth(request) -> request | None`` as an :class:`Auth` (runs it once)."""

    __slots__ = ("_func",)

    def __init__(self, func: AuthCallable) -> None:
        self._func = func

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        yield self._func(request) or request

    def __repr__(self) -> str:
        return f"FunctionAuth({self._func!r})"


class BasicAuth(Auth):
    """HTTP Basic authentication (RFC 7617): sets ``Authorization: Basic <base64(user:pass)>``.

    The header value is computed once, here, not on every request. Raises as
    :func:`basic_auth_header` does. Also callable as ``auth(request)`` (the older hook form).
    """

    __slots__ = ("username", "_value")

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self.username = username
        self._value = basic_auth_header(username, password).decode("latin-1")

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        request.headers["Authorization"] = self._value
        yield request

    def __call__(self, request: Request) -> Request:
        request.headers["Authorization"] = self._value
        return request

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=***)"


class NetRCAuth(Auth):
    """Basic authentication with the credentials of a ``.netrc`` file for the request's host.

    ``file``: the path; None reads ``~/.netrc`` (Python's :class:`netrc.netrc` rules, which
    refuse a default file readable by others). The file is parsed once, here: raises
    ``FileNotFoundError`` when it is missing and :class:`netrc.NetrcParseError` when malformed.
    A host without an entry (and no ``default`` entry), or an entry without a password, is sent
    without ``Authorization``.
    """

    def __init__(self, file: str | os.PathLike[str] | None = None) -> None:
        self._netrc_info = netrc.netrc(os.fspath(file) if file is not None else None)

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        auth_info = self._netrc_info.authenticators(request.url.raw_host.decode("ascii"))
        if auth_info is not None and auth_info[2]:
            request.headers["Authorization"] = basic_auth_header(auth_info[0], auth_info[2]).decode(
                "latin-1"
            )
        yield request


class EnvNetrc:
    """The ``.netrc`` of the environment, for ``trust_env=True`` clients (read on first use).

    The file is ``$NETRC`` when set, else the first of ``~/.netrc`` and ``~/_netrc`` that
    exists. A missing, unreadable or malformed file counts as empty (it never breaks a request).
    """

    __slots__ = ("_info", "_loaded", "_lock")

    def __init__(self) -> None:
        self._info: netrc.netrc | None = None
        self._loaded = False
        self._lock = threading.Lock()

    def _load(self) -> netrc.netrc | None:
        with self._lock:
            if not self._loaded:
                self._loaded = True
                candidates = [os.environ.get("NETRC", "")] + [
                    os.path.expanduser(name) for name in ("~/.netrc", "~/_netrc")
                ]
                for path in candidates:
                    if path and os.path.isfile(path):
                        try:
                            self._info = netrc.netrc(path)
                        except (OSError, netrc.NetrcParseError, UnicodeDecodeError):
                            self._info = None
                        break
            return self._info

    def auth_for(self, url: URL) -> BasicAuth | None:
        """Basic auth from the entry for ``url``'s host, or None."""
        info = self._info if self._loaded else self._load()
        if info is None or not url.raw_host:
            return None
        entry = info.authenticators(url.raw_host.decode("ascii"))
        if entry is None or not entry[2]:
            return None
        return BasicAuth(entry[0], entry[2])


# -- Digest (RFC 7616) ----------------------------------------------------------------------------

_DIGEST_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA": hashlib.sha1,  # RFC 2617 era servers; not in RFC 7616, accepted as httpx does
    "SHA-256": hashlib.sha256,
    "SHA-512-256": lambda data: hashlib.new("sha512_256", data),
    "SHA-512": hashlib.sha512,
}


class _DigestChallenge:
    __slots__ = ("realm", "nonce", "algorithm", "opaque", "qop", "userhash", "charset_utf8")

    def __init__(
        self,
        realm: bytes,
        nonce: bytes,
        algorithm: str,
        opaque: bytes | None,
        qop: bytes | None,
        userhash: bool,
        charset_utf8: bool,
    ) -> None:
        self.realm = realm
        self.nonce = nonce
        self.algorithm = algorithm
        self.opaque = opaque
        self.qop = qop
        self.userhash = userhash
        self.charset_utf8 = charset_utf8


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
        # RFC 9110 section 5.6.4: a quoted-pair stands for the character after the backslash.
        out: list[str] = []
        escaped = False
        for char in value:
            if escaped or char != "\\":
                out.append(char)
                escaped = False
            else:
                escaped = True
        return "".join(out)
    return value


def _quote(value: bytes) -> str:
    text = value.decode("utf-8", errors="replace")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestAuth(Auth):
    """HTTP Digest authentication (RFC 7616).

    The first request goes without credentials; a ``401`` with a ``WWW-Authenticate: Digest``
    challenge is answered once, by sending the request again with ``Authorization: Digest ...``.
    The challenge is kept: later requests through the same :class:`DigestAuth` answer it at once
    (counting the nonce uses, ``nc``, from 00000001) and only go through a ``401`` again when
    the server refuses it (a ``stale`` nonce, say).

    Algorithms: ``MD5``, ``SHA-256``, ``SHA-512-256`` and their ``-sess`` forms (``SHA`` and
    ``SHA-512`` too, as httpx accepts them); qop ``auth`` (preferred when offered, as httpx
    does) and ``auth-int``, or none (RFC 2069); ``userhash`` and UTF-8 user names
    (``username*``, RFC 7616 section 3.4.4). ``auth-int`` hashes the request body, so it needs
    the body in memory: ``RequestNotRead`` for a streaming body not read first.

    Raises ``ProtocolError`` for a challenge without ``realm`` or ``nonce``, or with an
    algorithm or qop it does not know. The same object may be shared by threads and tasks.
    """

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self._username = _to_bytes(username, "username")
        self._password = _to_bytes(password, "password")
        self._last_challenge: _DigestChallenge | None = None
        self._nonce_count = 1
        self._lock = threading.Lock()

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        challenge = self._last_challenge
        if challenge is not None:
            request.headers["Authorization"] = self._build_auth_header(request, challenge)
        response = yield request
        if response.status_code != 401 or "www-authenticate" not in response.headers:
            return
        for header in response.headers.get_list("www-authenticate"):
            if header[:7].lower() == "digest ":
                break
        else:
            return
        challenge = self._parse_challenge(header)
        with self._lock:
            self._last_challenge = challenge
            self._nonce_count = 1
        request.headers["Authorization"] = self._build_auth_header(request, challenge)
        if "cookie" not in request.headers:
            # Cookies the 401 set go with the answer (as httpx does); a Cookie header the
            # client's jar set is recomputed by the client, 401's cookies included.
            cookies = response.cookies
            if cookies:
                cookies.set_cookie_header(request)
        yield request

    @staticmethod
    def _parse_challenge(header: str) -> _DigestChallenge:
        """One ``Digest`` challenge (RFC 7616 section 3.3), parsed."""
        fields: dict[str, str] = {}
        for item in parse_http_list(header[7:]):
            key, eq, value = item.strip().partition("=")
            if eq:
                fields[key.strip().lower()] = _unquote(value)
        if "realm" not in fields or "nonce" not in fields:
            raise ProtocolError(
                "malformed Digest WWW-Authenticate challenge: realm and nonce are required "
                "(RFC 7616 section 3.3)"
            )
        algorithm = fields.get("algorithm", "MD5")  # echoed as the server wrote it
        if algorithm.upper().removesuffix("-SESS") not in _DIGEST_HASHES:
            raise ProtocolError(f"unsupported Digest algorithm {fields['algorithm']!r}")
        qop = fields.get("qop")
        return _DigestChallenge(
            realm=fields["realm"].encode("utf-8"),
            nonce=fields["nonce"].encode("utf-8"),
            algorithm=algorithm,
            opaque=fields["opaque"].encode("utf-8") if "opaque" in fields else None,
            qop=qop.encode("utf-8") if qop is not None else None,
            userhash=fields.get("userhash", "").lower() == "true",
            charset_utf8=fields.get("charset", "").upper() == "UTF-8",
        )

    def _get_client_nonce(self, nonce_count: int, nonce: bytes) -> bytes:
        """A fresh cnonce: 16 hex digits, unpredictable (RFC 7616 section 3.4)."""
        seed = b"%d:%b:%b:%b" % (nonce_count, nonce, time.ctime().encode(), os.urandom(8))
        return hashlib.sha1(seed).hexdigest()[:16].encode("ascii")

    @staticmethod
    def _resolve_qop(qop: bytes | None) -> bytes | None:
        if qop is None:
            return None
        options = {item.strip() for item in qop.split(b",")}
        if b"auth" in options:
            return b"auth"
        if b"auth-int" in options:
            return b"auth-int"
        raise ProtocolError(f"unsupported Digest qop {qop.decode('latin-1')!r}")

    def _build_auth_header(self, request: Request, challenge: _DigestChallenge) -> str:
        """The ``Authorization`` value answering ``challenge`` (RFC 7616 section 3.4)."""
        algorithm = challenge.algorithm.upper()
        hash_func = _DIGEST_HASHES[algorithm.removesuffix("-SESS")]

        def digest(data: bytes) -> bytes:
            return hash_func(data).hexdigest().encode("ascii")  # type: ignore[no-any-return]

        with self._lock:
            nonce_count = self._nonce_count
            self._nonce_count += 1
        nc_value = b"%08x" % nonce_count
        cnonce = self._get_client_nonce(nonce_count, challenge.nonce)
        qop = self._resolve_qop(challenge.qop)

        uri = request.url.raw_path  # request-target in origin form (section 3.4.6)
        a2 = request.method.encode("ascii") + b":" + uri
        if qop == b"auth-int":
            a2 += b":" + digest(request.content)
        ha1 = digest(b":".join((self._username, challenge.realm, self._password)))
        if algorithm.endswith("-SESS"):
            ha1 = digest(b":".join((ha1, challenge.nonce, cnonce)))
        ha2 = digest(a2)
        if qop is None:  # RFC 2069
            response = digest(b":".join((ha1, challenge.nonce, ha2)))
        else:
            response = digest(b":".join((ha1, challenge.nonce, nc_value, cnonce, qop, ha2)))

        parts: list[str] = []
        if challenge.userhash:
            parts.append("username=" + _quote(digest(self._username + b":" + challenge.realm)))
        elif challenge.charset_utf8 and not self._username.isascii():
            # RFC 7616 section 3.4.4 with RFC 8187's ext-value.
            quoted = "".join(
                chr(b) if chr(b).isalnum() or chr(b) in "!#$&+-.^_`|~" else f"%{b:02X}"
                for b in self._username
            )
            parts.append("username*=UTF-8''" + quoted)
        else:
            parts.append("username=" + _quote(self._username))
        parts += [
            "realm=" + _quote(challenge.realm),
            "nonce=" + _quote(challenge.nonce),
            "uri=" + _quote(uri),
            "response=" + _quote(response),
            "algorithm=" + challenge.algorithm,
        ]
        if challenge.opaque is not None:
            parts.append("opaque=" + _quote(challenge.opaque))
        if qop is not None:
            parts += [
                "qop=" + qop.decode("ascii"),
                "nc=" + nc_value.decode("ascii"),
                "cnonce=" + _quote(cnonce),
            ]
        if challenge.userhash:
            parts.append("userhash=true")
        return "Digest " + ", ".join(parts)

    def __repr__(self) -> str:
        return f"DigestAuth(username={self._username.decode('utf-8', 'replace')!r}, password=***)"


def build_auth(auth: Any) -> Auth | None:
    """Turn an ``auth=`` setting into an :class:`Auth` (or None); see the module docstring.

    Raises ``TypeError`` for anything else, naming the type received.
    """
    if auth is None or isinstance(auth, Auth):
        return auth
    if isinstance(auth, tuple):
        if len(auth) != 2:
            raise TypeError(f"auth=(username, password) needs 2 items, got {len(auth)}")
        return BasicAuth(auth[0], auth[1])
    if callable(auth):
        return FunctionAuth(auth)
    raise TypeError(
        "auth must be (username, password), an Auth (BasicAuth, DigestAuth, NetRCAuth, ...) or a"
        f" callable, not {type(auth).__name__}"
    )


def url_auth(username: str, password: str) -> BasicAuth | None:
    """Basic auth from a URL's (already percent-decoded) user name and password, or None."""
    if not username and not password:
        return None
    return BasicAuth(username, password)
