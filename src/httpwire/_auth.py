"""Authentication: HTTP Basic and the callable-auth hook, shared by both flavours.

An ``auth=`` setting (on a client or on one request) is one of:

- ``(username, password)``: HTTP Basic authentication (RFC 7617);
- a :class:`BasicAuth`;
- any callable ``auth(request) -> request | None`` that edits the request before it is sent
  (sets a header, signs the URL, ...). It is a plain function in both flavours. It runs once,
  on the request you send, before the request hooks; requests of a redirect chain copy its
  headers, except that ``Authorization`` is dropped when the redirect leaves the origin
  (scheme, host, port), so credentials are never sent to another site.
- ``None``: no authentication.

Credentials in the URL (``http://user:pass@host/``) are sent as Basic authentication when no
``auth=`` is given, as browsers and httpx do.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ._models import Request

__all__ = ["BasicAuth", "AuthCallable", "AuthTypes", "build_auth", "basic_auth_header", "url_auth"]

AuthCallable = Callable[["Request"], Any]
"""A callable auth hook: receives the :class:`Request`, edits it, returns it or None."""

AuthTypes = tuple[str | bytes, str | bytes] | AuthCallable | None


def _to_bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        # RFC 7617 section 2.1: the only charset a server may announce is UTF-8, and every
        # server seen in the wild that handles non-ASCII credentials expects it.
        return value.encode("utf-8")
    raise TypeError(f"basic auth {what} must be str or bytes, not {type(value).__name__}")


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


class BasicAuth:
    """HTTP Basic authentication (RFC 7617): sets ``Authorization: Basic <base64(user:pass)>``.

    The header value is computed once, here, not on every request. Raises as
    :func:`basic_auth_header` does.
    """

    __slots__ = ("username", "_value")

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self.username = username
        self._value = basic_auth_header(username, password)

    def __call__(self, request: Request) -> Request:
        request.headers["Authorization"] = self._value.decode("ascii")
        return request

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=***)"


def build_auth(auth: Any) -> AuthCallable | None:
    """Turn an ``auth=`` setting into a callable (or None); see the module docstring.

    Raises ``TypeError`` for anything else, naming the type received.
    """
    if auth is None:
        return None
    if isinstance(auth, tuple):
        if len(auth) != 2:
            raise TypeError(f"auth=(username, password) needs 2 items, got {len(auth)}")
        return BasicAuth(auth[0], auth[1])
    if callable(auth):
        return auth  # type: ignore[no-any-return]
    raise TypeError(
        f"auth must be (username, password), a BasicAuth or a callable, not {type(auth).__name__}"
    )


def url_auth(username: str, password: str) -> BasicAuth | None:
    """Basic auth from a URL's (already percent-decoded) user name and password, or None."""
    if not username and not password:
        return None
    return BasicAuth(username, password)
