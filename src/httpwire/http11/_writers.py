"""Serialising: events into bytes (RFC 9112 §3-§7).

Everything that reaches a writer was validated when its event was built (no CR, LF or NUL in
any field, tokens where tokens are due), so writers only concatenate.  Body writers enforce the
declared framing: too much or too little data for a Content-Length is a
:class:`LocalProtocolError` and nothing is written.
"""

from __future__ import annotations

from typing import Any

from ._abnf import REASON_RE
from ._events import InformationalResponse, Request, Response
from ._headers import Headers
from ._util import LocalProtocolError

__all__ = [
    "write_request",
    "write_any_response",
    "ContentLengthWriter",
    "ChunkedWriter",
    "Http10Writer",
]


def _field_lines(headers: Headers) -> bytes:
    wire = headers._wire
    if wire is not None:
        return wire
    raw = headers._raw
    items = headers._items
    # RFC 9110 §7.2: a user agent SHOULD send Host first; h11 moves every Host field first.
    if items and items[0][0] != b"host" and any(n == b"host" for n, _ in items):
        order = [i for i, (n, _) in enumerate(items) if n == b"host"]
        order += [i for i, (n, _) in enumerate(items) if n != b"host"]
        raw = [raw[i] for i in order]
    return b"".join([name + b": " + value + b"\r\n" for name, value in raw])


def write_request(request: Request) -> bytes:
    """request-line, fields, blank line (RFC 9112 §3).  Only HTTP/1.1 is sent."""
    if request.http_version != b"1.1":
        raise LocalProtocolError("I only send HTTP/1.1")
    wire = request.headers._wire
    if wire is None:
        wire = _field_lines(request.headers)
    return b"".join((request.method, b" ", request.target, b" HTTP/1.1\r\n", wire, b"\r\n"))


def write_any_response(response: InformationalResponse | Response) -> bytes:
    """status-line, fields, blank line (RFC 9112 §4).  Only HTTP/1.1 is sent."""
    if response.http_version != b"1.1":
        raise LocalProtocolError("I only send HTTP/1.1")
    if REASON_RE.fullmatch(response.reason) is None:
        raise LocalProtocolError(f"Illegal reason phrase {response.reason!r}")
    return b"HTTP/1.1 %d %s\r\n%s\r\n" % (
        response.status_code,
        response.reason,
        _field_lines(response.headers),
    )


class ContentLengthWriter:
    """Exactly ``length`` bytes, passed through untouched (RFC 9112 §6.2)."""

    __slots__ = ("_length",)

    def __init__(self, length: int) -> None:
        self._length = length

    def data(self, data: Any) -> list[Any]:
        n = len(data)
        if n > self._length:
            raise LocalProtocolError("Too much data for declared Content-Length")
        self._length -= n
        return [data]

    def eom(self, headers: Headers) -> list[Any]:
        if self._length:
            raise LocalProtocolError("Too little data for declared Content-Length")
        if headers._items:
            raise LocalProtocolError("Content-Length and trailers don't mix")
        return []


class ChunkedWriter:
    """One chunk per non-empty Data; the last-chunk and trailers on EndOfMessage (§7.1)."""

    __slots__ = ()

    def data(self, data: Any) -> list[Any]:
        n = len(data)
        if not n:
            return []  # an empty chunk would end the body
        return [b"%x\r\n" % n, data, b"\r\n"]

    def eom(self, headers: Headers) -> list[Any]:
        if not headers._items:
            return [b"0\r\n\r\n"]
        return [b"0\r\n" + _field_lines(headers) + b"\r\n"]


class Http10Writer:
    """A body delimited by closing the connection (responses to HTTP/1.0 peers)."""

    __slots__ = ()

    def data(self, data: Any) -> list[Any]:
        return [data]

    def eom(self, headers: Headers) -> list[Any]:
        if headers._items:
            raise LocalProtocolError("can't send trailers to HTTP/1.0 client")
        return []
