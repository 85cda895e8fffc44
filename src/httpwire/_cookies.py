"""The client's cookie jar, shared by both flavours (``httpwire.Cookies is ahttpwire.Cookies``).

RFC 6265 rules over an :class:`http.cookiejar.CookieJar` (httpx's shape): ``Set-Cookie``
name=value with Domain, Path, Secure, Expires and Max-Age, sent back to matching requests. It
costs nothing while empty or when a response sets no cookie.
"""

from __future__ import annotations

import collections.abc
import copy
import itertools
import time
import typing
from collections.abc import Iterable, Mapping, MutableMapping
from email.utils import parsedate_to_datetime
from http.cookiejar import Cookie, CookieJar
from typing import Any

from ._exceptions import CookieConflict
from ._urls import URL

__all__ = ["Cookies", "CookieTypes"]

CookieTypes: typing.TypeAlias = (
    "Cookies | CookieJar | Mapping[str, str] | Iterable[tuple[str, str]]"
)


def _domain_match(host: str, domain: str) -> bool:
    # RFC 6265 section 5.1.3; an IP address only matches itself.
    return host == domain or (
        host.endswith(domain) and host[-len(domain) - 1] == "." and not _is_ip(host)
    )


def _is_ip(host: str) -> bool:
    return ":" in host or host.replace(".", "").isdigit()


def _path_match(request_path: str, cookie_path: str) -> bool:
    # RFC 6265 section 5.1.4.
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    )


def _default_path(request_path: str) -> str:
    # RFC 6265 section 5.1.4: the directory of the request path.
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


_creation = itertools.count()


def _make_cookie(
    name: str,
    value: str,
    domain: str,
    host_only: bool,
    path: str,
    secure: bool = False,
    expires: float | None = None,
    http_only: bool = False,
    set_cookie: bool = True,
) -> Cookie:
    """An ``http.cookiejar.Cookie`` as ``CookieJar.extract_cookies`` would make it: a host-only
    cookie has ``domain_specified=False``; a ``Domain`` cookie ``".domain"``. With
    ``set_cookie=False`` (``Cookies.set``) the domain is stored as given, as httpx does."""
    specified = bool(domain) and not host_only
    if specified and set_cookie and not domain.startswith("."):
        domain = "." + domain  # as CookieJar.extract_cookies stores a Domain attribute
    cookie = Cookie(
        version=0,
        name=name,
        value=value,
        port=None,
        port_specified=False,
        domain=domain,
        domain_specified=specified,
        domain_initial_dot=domain.startswith("."),
        path=path,
        path_specified=True,
        secure=secure,
        expires=None if expires is None else int(expires),
        discard=expires is None,
        comment=None,
        comment_url=None,
        rest={"HttpOnly": ""} if http_only else {},
        rfc2109=False,
    )
    cookie._httpwire_creation = next(_creation)  # type: ignore[attr-defined]
    return cookie


def _same_domain(cookie: Cookie, domain: str) -> bool:
    return cookie.domain.lstrip(".").lower() == domain.lstrip(".").lower()


class Cookies(MutableMapping[str, str]):
    """A cookie jar: what ``Set-Cookie`` responses stored, sent back on later requests.

    The cookies live in an :class:`http.cookiejar.CookieJar`, ``cookies.jar``:
    ``Cookies(jar)`` (and ``Client(cookies=jar)``) reads and updates the jar you give, so a
    :class:`http.cookiejar.MozillaCookieJar` can be ``load()``-ed before and ``save()``-d after
    (session cookies need ``save(ignore_discard=True)``, as always with that class).
    ``Cookies(mapping)`` / ``Cookies([(name, value), ...])`` / ``Cookies(other_cookies)`` fill a
    new jar (the last copies ``other_cookies``' entries, domains included).

    Storing and sending follow RFC 6265 (sections 5.2 to 5.4: Domain, host-only cookies, Path,
    Secure, Max-Age, Expires; longer paths first, then older cookies) with no public-suffix
    list: a ``Domain`` attribute naming a single label (``Domain=com``) is refused, nothing
    finer. HttpOnly and SameSite do not apply to a non-browser client. The jar's
    ``CookiePolicy`` is not consulted: these rules decide (httpx defers to the policy).

    One jar may be used from several threads (a sync client shared by threads): every change
    goes through the jar's own lock, and readers work on a snapshot taken under it.

    As a mapping it is keyed by cookie name, as httpx's is: ``jar[name]`` raises
    :class:`CookieConflict` when several cookies (of several domains or paths) have that name,
    ``len()`` counts cookies and iteration yields each cookie's name. Cookies set through the
    mapping (``jar["k"] = "v"``, or ``Client(cookies={...})``) have no domain and are sent to
    every host.
    """

    jar: CookieJar

    def __init__(self, cookies: CookieTypes | None = None) -> None:
        if isinstance(cookies, CookieJar):
            self.jar = cookies
            return
        self.jar = CookieJar()
        if cookies is None:
            return
        if isinstance(cookies, Cookies):
            for cookie in cookies._snapshot():
                self.jar.set_cookie(copy.copy(cookie))
            return
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, value in items:
            self.set(name, value)

    def _snapshot(self) -> list[Cookie]:
        lock = getattr(self.jar, "_cookies_lock", None)
        if lock is None:
            return list(self.jar)
        with lock:
            return list(self.jar)

    # -- httpx's interface
    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        """Store a cookie; ``domain=""`` sends it to every host, a domain to it and its
        subdomains."""
        self.jar.set_cookie(_make_cookie(name, value, domain, False, path, set_cookie=False))

    def get(
        self,
        name: str,
        default: Any = None,
        domain: str | None = None,
        path: str | None = None,
    ) -> Any:
        """The value of the cookie ``name`` (of that ``domain`` and ``path`` when given; a
        leading dot and case do not matter in ``domain``), or ``default``. Raises
        :class:`CookieConflict` when several cookies match."""
        value: str | None = None
        found = False
        for cookie in self._snapshot():
            if (
                cookie.name == name
                and (domain is None or _same_domain(cookie, domain))
                and (path is None or cookie.path == path)
            ):
                if found:
                    raise CookieConflict(
                        f"multiple cookies exist with name={name}: give domain= and path="
                    )
                found = True
                value = cookie.value
        return value if found else default

    def delete(self, name: str, domain: str | None = None, path: str | None = None) -> None:
        """Remove the cookies called ``name`` (only those of ``domain`` / ``path`` if given)."""
        for cookie in self._snapshot():
            if (
                cookie.name == name
                and (domain is None or _same_domain(cookie, domain))
                and (path is None or cookie.path == path)
            ):
                self._discard(cookie)

    def _discard(self, cookie: Cookie) -> None:
        try:
            self.jar.clear(cookie.domain, cookie.path, cookie.name)
        except KeyError:
            pass  # another thread removed it first

    def clear(self, domain: str | None = None, path: str | None = None) -> None:
        """Remove every cookie, or those of one ``domain`` (and ``path``)."""
        if domain is None:
            if path is not None:
                raise ValueError("clear(path=...) needs domain= as well")
            self.jar.clear()
            return
        for cookie in self._snapshot():
            if _same_domain(cookie, domain) and (path is None or cookie.path == path):
                self._discard(cookie)

    def update(self, cookies: CookieTypes | None = None, **kwargs: str) -> None:  # type: ignore[override]
        """Add the cookies of ``cookies`` (a :class:`Cookies` or ``CookieJar`` keeps each
        cookie's domain and path) and of ``kwargs`` (no domain)."""
        for cookie in Cookies(cookies)._snapshot():
            self.jar.set_cookie(cookie)
        for name, value in kwargs.items():
            self.set(name, value)

    def __getitem__(self, name: str) -> str:
        value: str | None = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        found = [c for c in self._snapshot() if c.name == name]
        if not found:
            raise KeyError(name)
        for cookie in found:
            self._discard(cookie)

    def __iter__(self) -> collections.abc.Iterator[str]:
        return (cookie.name for cookie in self._snapshot())

    def __len__(self) -> int:
        return len(self._snapshot())

    def __bool__(self) -> bool:
        return bool(self._snapshot())

    def __repr__(self) -> str:
        cells = ", ".join(f"<Cookie {c.name}={c.value} for {c.domain} />" for c in self._snapshot())
        return f"<Cookies[{cells}]>"

    def extract_cookies(self, response: Any) -> None:
        """Store the cookies of a :class:`Response`'s ``Set-Cookie`` headers (for its
        request's URL). Raises ``RuntimeError`` when the response has no request."""
        values = response.headers.get_list("set-cookie")
        if values:
            self.extract(values, response.request.url)

    def set_cookie_header(self, request: Any) -> None:
        """Set the ``Cookie`` header of a :class:`Request` from the jar (when any matches)."""
        value = self.header_for(request.url)
        if value is not None:
            request.headers["Cookie"] = value

    # -- HTTP side (the client's fast paths)
    def _maybe_nonempty(self) -> bool:
        """False when the jar is surely empty (cheap; may say True for an emptied jar)."""
        return bool(getattr(self.jar, "_cookies", True))

    def extract(self, set_cookie_values: list[str], url: URL) -> None:
        """Store the cookies of ``Set-Cookie`` header values received for ``url``."""
        host = url.raw_host.decode("ascii").lower()
        path = url.path or "/"
        now = time.time()
        for header in set_cookie_values:
            cookie = _parse_set_cookie(header, host, path, now)
            if cookie is None:
                continue
            if cookie.expires is not None and cookie.expires <= now:
                self._discard(cookie)  # RFC 6265 5.3 step 11: an expired cookie deletes
            else:
                self.jar.set_cookie(cookie)

    def header_for(self, url: URL) -> str | None:
        """The ``Cookie`` header value for a request to ``url`` (RFC 6265 5.4), or None."""
        host = url.raw_host.decode("ascii").lower()
        path = url.path or "/"
        secure = url.scheme == "https"
        now = time.time()
        found: list[Cookie] = []
        for c in self._snapshot():
            if c.expires is not None and c.expires <= now:
                self._discard(c)
                continue
            domain = c.domain
            if domain:
                if c.domain_specified or domain[0] == ".":
                    if not _domain_match(host, domain.lstrip(".").lower()):
                        continue
                elif host != domain.lower():
                    continue
            if (c.secure and not secure) or not _path_match(path, c.path):
                continue
            found.append(c)
        if not found:
            return None
        # RFC 6265 5.4 step 2: longer paths first, then earlier creation (a cookie loaded from
        # a file counts as the oldest).
        found.sort(key=lambda c: (-len(c.path), getattr(c, "_httpwire_creation", -1)))
        return "; ".join(c.name if c.value is None else f"{c.name}={c.value}" for c in found)


def _parse_set_cookie(header: str, host: str, request_path: str, now: float) -> Cookie | None:
    """One ``Set-Cookie`` value parsed as RFC 6265 section 5.2 says; None when it is ignored."""
    pair, _, attrs = header.partition(";")
    name, eq, value = pair.partition("=")
    name, value = name.strip(), value.strip()
    if not eq or not name:
        return None
    domain = ""
    path = ""
    secure = False
    http_only = False
    expires: float | None = None
    max_age_seen = False
    for attr in attrs.split(";"):
        key, _, val = attr.partition("=")
        key = key.strip().lower()
        val = val.strip()
        if key == "max-age":
            try:
                seconds = int(val)
            except ValueError:
                continue
            expires = now + seconds if seconds > 0 else 0.0
            max_age_seen = True
        elif key == "expires" and not max_age_seen:  # Max-Age wins (5.3 step 3)
            try:
                expires = parsedate_to_datetime(val).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
        elif key == "domain" and val:
            domain = val.lstrip(".").lower()
        elif key == "path":
            path = val
        elif key == "secure":
            secure = True
        elif key == "httponly":
            http_only = True
    if not path.startswith("/"):
        path = _default_path(request_path)
    if domain:
        # 5.3 step 6: the response's host must domain-match; a bare single label other than the
        # host itself is the public-suffix case we can recognise without a suffix list.
        if not _domain_match(host, domain) or ("." not in domain and domain != host):
            return None
        return _make_cookie(name, value, domain, False, path, secure, expires, http_only)
    return _make_cookie(name, value, host, True, path, secure, expires, http_only)
