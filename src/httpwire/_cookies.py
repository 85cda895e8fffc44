"""The client's cookie jar, shared by both flavours (``httpwire.Cookies is ahttpwire.Cookies``).

A small RFC 6265 jar: ``Set-Cookie`` name=value with Domain, Path, Secure, Expires and Max-Age,
sent back to matching requests. It costs nothing while empty or when a response sets no cookie.
"""

from __future__ import annotations

import collections.abc
import time
from collections.abc import Iterable, Mapping, MutableMapping
from email.utils import parsedate_to_datetime
from typing import Any

from ._urls import URL

__all__ = ["Cookies"]


class _Cookie:
    __slots__ = ("name", "value", "domain", "host_only", "path", "secure", "expires")

    def __init__(
        self,
        name: str,
        value: str,
        domain: str,
        host_only: bool,
        path: str,
        secure: bool,
        expires: float | None,
    ) -> None:
        self.name = name
        self.value = value
        self.domain = domain
        self.host_only = host_only
        self.path = path
        self.secure = secure
        self.expires = expires


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


class Cookies(MutableMapping[str, str]):
    """A small cookie jar: what ``Set-Cookie`` responses stored, sent back on later requests.

    It follows the storage and matching rules of RFC 6265 (sections 5.2 to 5.4: Domain,
    host-only cookies, Path, Secure, Max-Age, Expires) but keeps no public-suffix list: a
    ``Domain`` attribute naming a single label (``Domain=com``) is refused, nothing finer.
    HttpOnly and SameSite do not apply to a non-browser client and are ignored.

    One jar may be used from several threads (a sync client shared by threads): readers work on
    a snapshot of the entries, and each store or removal is a single dict operation.

    As a mapping it is keyed by cookie name (the first one stored wins when several domains hold
    the same name). Cookies set through the mapping (``jar["k"] = "v"``, or ``Client(cookies=...)``)
    have no domain and are sent to every host.
    """

    def __init__(
        self, cookies: Mapping[str, str] | Iterable[tuple[str, str]] | None = None
    ) -> None:
        self._jar: dict[tuple[str, str, str], _Cookie] = {}
        if cookies is not None:
            items = cookies.items() if isinstance(cookies, Mapping) else cookies
            for name, value in items:
                self.set(name, value)

    # -- mapping interface
    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        """Store a cookie; ``domain=""`` sends it to every host."""
        domain = domain.lower().lstrip(".")
        self._jar[(domain, path, name)] = _Cookie(name, value, domain, False, path, False, None)

    def get(self, name: str, default: Any = None, domain: str | None = None) -> Any:
        for cookie in list(self._jar.values()):
            if cookie.name == name and (domain is None or cookie.domain == domain):
                return cookie.value
        return default

    def __getitem__(self, name: str) -> str:
        value: str | None = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        keys = [k for k, c in list(self._jar.items()) if c.name == name]
        if not keys:
            raise KeyError(name)
        for key in keys:
            del self._jar[key]

    def delete(self, name: str, domain: str | None = None, path: str | None = None) -> None:
        """Remove the cookies called ``name`` (only those of ``domain`` / ``path`` if given)."""
        for key in [
            k
            for k, c in list(self._jar.items())
            if c.name == name
            and (domain is None or c.domain == domain)
            and (path is None or c.path == path)
        ]:
            del self._jar[key]

    def clear(self, domain: str | None = None) -> None:
        """Remove every cookie, or those of one ``domain``."""
        if domain is None:
            self._jar.clear()
        else:
            for key in [k for k in list(self._jar) if k[0] == domain]:
                del self._jar[key]

    def __iter__(self) -> collections.abc.Iterator[str]:
        seen: set[str] = set()
        for cookie in list(self._jar.values()):
            if cookie.name not in seen:
                seen.add(cookie.name)
                yield cookie.name

    def __len__(self) -> int:
        return len({c.name for c in list(self._jar.values())})

    def __bool__(self) -> bool:
        return bool(self._jar)

    def __repr__(self) -> str:
        cells = ", ".join(
            f"{c.name}={c.value!r} for {c.domain or '*'}{c.path}" for c in list(self._jar.values())
        )
        return f"<Cookies [{cells}]>"

    # -- HTTP side
    def extract(self, set_cookie_values: list[str], url: URL) -> None:
        """Store the cookies of ``Set-Cookie`` header values received for ``url``."""
        host = url.host.lower()
        path = url.path or "/"
        now = time.time()
        for header in set_cookie_values:
            cookie = _parse_set_cookie(header, host, path, now)
            if cookie is None:
                continue
            key = (cookie.domain, cookie.path, cookie.name)
            if cookie.expires is not None and cookie.expires <= now:
                self._jar.pop(key, None)  # RFC 6265 5.3 step 11: an expired cookie deletes
            else:
                self._jar[key] = cookie

    def header_for(self, url: URL) -> str | None:
        """The ``Cookie`` header value for a request to ``url`` (RFC 6265 5.4), or None."""
        host = url.host.lower()
        path = url.path or "/"
        secure = url.scheme == "https"
        now = time.time()
        found: list[_Cookie] = []
        expired: list[tuple[str, str, str]] = []
        for key, c in list(self._jar.items()):
            if c.expires is not None and c.expires <= now:
                expired.append(key)
                continue
            if c.domain and not (
                host == c.domain if c.host_only else _domain_match(host, c.domain)
            ):
                continue
            if (c.secure and not secure) or not _path_match(path, c.path):
                continue
            found.append(c)
        for key in expired:
            self._jar.pop(key, None)  # another thread may have removed it already
        if not found:
            return None
        found.sort(key=lambda c: len(c.path), reverse=True)  # RFC 6265 5.4 step 2
        return "; ".join(f"{c.name}={c.value}" for c in found)


def _parse_set_cookie(header: str, host: str, request_path: str, now: float) -> _Cookie | None:
    """One ``Set-Cookie`` value parsed as RFC 6265 section 5.2 says; None when it is ignored."""
    pair, _, attrs = header.partition(";")
    name, eq, value = pair.partition("=")
    name, value = name.strip(), value.strip()
    if not eq or not name:
        return None
    domain = ""
    path = ""
    secure = False
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
    if not path.startswith("/"):
        path = _default_path(request_path)
    if domain:
        # 5.3 step 6: the response's host must domain-match; a bare single label other than the
        # host itself is the public-suffix case we can recognise without a suffix list.
        if not _domain_match(host, domain) or ("." not in domain and domain != host):
            return None
        return _Cookie(name, value, domain, False, path, secure, expires)
    return _Cookie(name, value, host, True, path, secure, expires)
