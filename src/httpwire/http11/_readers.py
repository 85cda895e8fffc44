"""Parsing: bytes from a :class:`ReceiveBuffer` into events (RFC 9112 §2-§7).

Every reader returns an event, or ``None`` for "need more data", or raises
:class:`RemoteProtocolError`.  Heads are parsed optimistically first (CRLF line endings, no
obs-fold: one ``find`` for the end, one ``split`` into lines, one ``translate`` proving no
line holds a bare CR, LF or NUL, then cached or ``partition``-ed field lines); only if that fails is the head normalised the lenient way RFC 9112
allows (bare LF line endings, §2.2; obs-fold replaced by SP, §5.2) and checked again, and only
then is an error raised, with a message naming the offending line.
"""

from __future__ import annotations

import re
from typing import Any

from ._abnf import (
    FIELD_SECTION_FULL_RE,
    FIELD_SECTION_RE,
    HEXDIG,
    MAX_CHUNK_SIZE_DIGITS,
    STATUS_LINE_RE,
    TCHAR,
    VCHAR,
)
from ._events import (
    EOM_NO_TRAILERS,
    Data,
    InformationalResponse,
    Request,
    Response,
    _make_data,
    _make_eom,
    _make_request,
    _make_response,
    _new,
    _set_resp_headers,
    _set_resp_reason,
    _set_resp_status,
    _set_resp_version,
)
from ._headers import (
    F_HOST,
    F_MULTI_HOST,
    Headers,
    fields_from_lines,
    headers_from_field_section,
)
from ._receivebuffer import ReceiveBuffer
from ._util import BoundedCache, RemoteProtocolError

__all__ = [
    "read_response_head",
    "read_request_head",
    "expect_nothing",
    "ContentLengthReader",
    "ChunkedReader",
    "Http10Reader",
    "read_response_head_tolerant",
    "read_request_head_tolerant",
]

_HTTP_VERSION_RE = re.compile(rb"HTTP/(1\.[0-9])")
_ANY_HTTP_VERSION_RE = re.compile(rb"HTTP/[0-9]+\.[0-9]+")
_CHUNK_EXT_BAD_RE = re.compile(rb"[\r\n\x00]")
_fields_ok = FIELD_SECTION_FULL_RE.fullmatch
_status_ok = STATUS_LINE_RE.fullmatch


def _too_big(size: int, limit: int) -> RemoteProtocolError:
    return RemoteProtocolError(
        f"message head is {size} bytes, over the limit of {limit} (max_incomplete_event_size)",
        error_status_hint=431,
    )


def find_head(buf: ReceiveBuffer, max_size: int, skip_blank_lines: bool) -> bytes | None:
    """Cut the next head (start-line and fields, or a trailer section) out of ``buf``.

    Returns the lines up to and including the last line's terminator, without the blank line,
    and consumes through the blank line; ``None`` when the blank line has not arrived.  Bare LF
    counts as a line end (RFC 9112 §2.2).  With ``skip_blank_lines``, empty lines before the
    start-line are dropped (RFC 9112 §2.2 robustness).  Raises :class:`RemoteProtocolError`
    (431) for a head longer than ``max_size`` bytes.
    """
    data = buf.data
    pos = buf.pos
    if skip_blank_lines:
        while True:
            if data.startswith(b"\r\n", pos):
                pos += 2
            elif data.startswith(b"\n", pos):
                pos += 1
            else:
                break
        buf.pos = pos
    elif data.startswith(b"\r\n", pos) or data.startswith(b"\n", pos):
        # An empty section (a chunked body without trailers).
        buf.pos = pos + (1 if data[pos] == 10 else 2)
        return b""
    # A blank line is "\n" followed by "\r\n" or by "\n"; take whichever comes first.
    end = data.find(b"\n\r\n", pos)
    if end >= 0:
        lf = data.find(b"\n\n", pos, end)
        if lf >= 0:
            end, after = lf, lf + 2
        else:
            after = end + 3
    else:
        end = data.find(b"\n\n", pos)
        if end < 0:
            return None
        after = end + 2
    if after - pos > max_size:
        raise _too_big(after - pos, max_size)
    head = data[pos : end + 1]
    buf.pos = after
    return head if type(head) is bytes else bytes(head)


def _lenient(head: bytes) -> bytes | None:
    """Rewrite bare-LF line ends as CRLF and unfold obs-fold; None if nothing changes."""
    lines = head.split(b"\n")
    lines.pop()  # head ends with "\n"
    out: list[bytes] = []
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        if line[:1] in (b" ", b"\t") and out:
            if len(out) == 1:
                raise RemoteProtocolError("continuation line at start of headers")
            # RFC 9112 §5.2: replace each obs-fold with SP before interpreting the value.
            out[-1] = out[-1].rstrip(b" \t") + b" " + line.lstrip(b" \t")
        else:
            out.append(line)
    new = b"".join(line + b"\r\n" for line in out)
    return None if new == head else new


def _explain_fields(block: bytes) -> RemoteProtocolError:
    for line in block.split(b"\r\n"):
        if not line or FIELD_SECTION_RE.fullmatch(line + b"\r\n"):
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            why = "no colon"
        elif not name:
            why = "empty field name"
        elif name.rstrip(b" \t") != name:
            why = "whitespace between field name and colon (RFC 9112 §5.1)"
        elif name.translate(None, TCHAR):
            why = "field name is not a token (RFC 9110 §5.1)"
        else:
            why = "CR, LF or NUL in field value (RFC 9110 §5.5)"
        return RemoteProtocolError(f"illegal header line: {why}: {line!r}")
    return RemoteProtocolError("illegal header section")  # pragma: no cover


def _fields(head: bytes, start: int) -> Headers | None:
    if _fields_ok(head, start) is None:
        return None
    return headers_from_field_section(head[start:], RemoteProtocolError)


# -- responses --------------------------------------------------------------------------------


def _try_response(head: bytes) -> InformationalResponse | Response | None:
    nl = head.find(b"\r\n")
    m = _status_ok(head, 0, nl)
    if m is None:
        return None
    headers = _fields(head, nl + 2)
    if headers is None:
        return None
    version, code, reason = m.groups()
    status = int(code)
    if status >= 200:
        return _make_response(Response, headers, version, reason or b"", status)  # type: ignore[no-any-return]
    if status < 100:
        raise RemoteProtocolError(f"status code {status} is not a valid response status")
    return _make_response(InformationalResponse, headers, version, reason or b"", status)  # type: ignore[no-any-return]


def parse_response_head(head: bytes) -> InformationalResponse | Response:
    """Parse a status-line and field section (RFC 9112 §4, §5) into an event."""
    event = _try_response(head)
    if event is None:
        norm = _lenient(head)
        if norm is not None:
            event = _try_response(norm)
            head = norm
        if event is None:
            nl = head.find(b"\r\n")
            line = head[:nl]
            if _status_ok(line) is None:
                if line.startswith(b"HTTP/") and _ANY_HTTP_VERSION_RE.match(line):
                    raise RemoteProtocolError(
                        f"unsupported HTTP version in status line: {line!r}", error_status_hint=505
                    )
                raise RemoteProtocolError(f"illegal status line: {line!r}")
            raise _explain_fields(head[nl + 2 :])
    return event


#: Status lines seen before -> (version, status code, reason).  Bounded like the name cache.
_STATUS_CACHE: BoundedCache[bytes, tuple[bytes, int, bytes]] = BoundedCache(256, max_key_size=64)


def _status_line(line: bytes) -> tuple[bytes, int, bytes] | None:
    st = _STATUS_CACHE.get(line)
    if st is not None:
        return st
    m = _status_ok(line)
    if m is None:
        return None
    version, code, reason = m.groups()
    st = (version, int(code), reason or b"")
    _STATUS_CACHE.put(line, st, len(line))
    return st


def _make_response_head_reader(parse: Any) -> Any:
    """The head reader whose slow path (anything but the common case) ends in ``parse``.

    Made once per mode (strict, tolerant) as a closure, not through ``functools.partial`` or
    a default argument: the tolerant mode then costs nothing per call on the common path
    (its retry is inside ``parse``, reached only when the strict parse has failed).
    """

    def read_response_head(
        buf: ReceiveBuffer, max_size: int
    ) -> InformationalResponse | Response | None:
        # The common case first: a complete head within the limit, every line ending in CRLF
        # (split() removes len(lines) - 1 CRLFs; any other CR, LF or NUL shows up as an extra
        # deletion in translate()), a status line seen before.
        data = buf.data
        pos = buf.pos
        if pos >= len(data):
            return None
        end = data.find(b"\r\n\r\n", pos)
        if end >= 0 and end + 4 - pos <= max_size:
            block = data[pos:end]
            if type(block) is not bytes:
                block = bytes(block)
            lines = block.split(b"\r\n")
            if len(block) - len(block.translate(None, b"\r\n\x00")) == 2 * len(lines) - 2:
                st = _STATUS_CACHE.get(lines[0]) or _status_line(lines[0])
                if st is not None:
                    headers = fields_from_lines(lines, 1, RemoteProtocolError)
                    if headers is not None:
                        version, status, reason = st
                        if status >= 200:
                            buf.pos = end + 4
                            e = _new(Response)
                            _set_resp_headers(e, headers)
                            _set_resp_version(e, version)
                            _set_resp_reason(e, reason)
                            _set_resp_status(e, status)
                            return e
                        if status >= 100:
                            buf.pos = end + 4
                            return _make_response(  # type: ignore[no-any-return]
                                InformationalResponse, headers, version, reason, status
                            )
        head = find_head(buf, max_size, True)
        if head is None:
            first = buf.data[buf.pos : buf.pos + 1]
            # (a lone CR may be the start of an empty line before the status line, RFC 9112 §2.2)
            if first not in (b"", b"H") and not (first == b"\r" and len(buf) == 1):
                # Not HTTP at all (for instance a TLS record): fail now rather than wait for a
                # blank line that may never come.
                raise RemoteProtocolError("illegal status line (does not start with HTTP/)")
            return None
        if not head:
            raise RemoteProtocolError("no response line received")  # pragma: no cover
        return parse(head)  # type: ignore[no-any-return]

    return read_response_head


read_response_head = _make_response_head_reader(parse_response_head)


# -- requests ---------------------------------------------------------------------------------


def _try_request(head: bytes) -> Request | None:
    nl = head.find(b"\r\n")
    parts = head[:nl].split(b" ")
    if len(parts) != 3:
        return None
    method, target, version = parts
    if not method or method.translate(None, TCHAR) or not target or target.translate(None, VCHAR):
        return None
    m = _HTTP_VERSION_RE.fullmatch(version)
    if m is None:
        return None
    headers = _fields(head, nl + 2)
    if headers is None:
        return None
    http_version = m.group(1)
    # RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request, at most one otherwise.
    if headers._flags & F_MULTI_HOST:
        raise RemoteProtocolError("Found multiple Host: headers")
    if http_version == b"1.1" and not headers._flags & F_HOST:
        raise RemoteProtocolError("Missing mandatory Host: header")
    return _make_request(method, headers, target, http_version)


def parse_request_head(head: bytes) -> Request:
    """Parse a request-line and field section (RFC 9112 §3, §5) into a :class:`Request`."""
    event = _try_request(head)
    if event is None:
        norm = _lenient(head)
        if norm is not None:
            event = _try_request(norm)
            head = norm
        if event is None:
            nl = head.find(b"\r\n")
            line = head[:nl]
            parts = line.split(b" ")
            if line == b"PRI * HTTP/2.0":
                # The start of the HTTP/2 connection preface (RFC 9113 §3.4) parses as a
                # request, as in h11: a server seeing it switches to HTTP/2 with prior
                # knowledge (hypercorn does, from this event and ``trailing_data``).
                headers = _fields(head, nl + 2)
                if headers is not None:
                    return _make_request(b"PRI", headers, b"*", b"2.0")
            if len(parts) == 3 and _ANY_HTTP_VERSION_RE.fullmatch(parts[2]):
                if not _HTTP_VERSION_RE.fullmatch(parts[2]):
                    raise RemoteProtocolError(
                        f"unsupported HTTP version in request line: {line!r}",
                        error_status_hint=505,
                    )
                if parts[0] and not parts[0].translate(None, TCHAR):
                    if parts[1] and not parts[1].translate(None, VCHAR):
                        raise _explain_fields(head[nl + 2 :])
            raise RemoteProtocolError(f"illegal request line: {line!r}")
    return event


_REQUEST_VERSIONS = {b"HTTP/1.1": b"1.1", b"HTTP/1.0": b"1.0"}

#: Field sections of requests parsed before (the bytes after the request line's CRLF up to
#: and including the last field line's CRLF) -> their Headers (read-only, so shared).  A
#: client on a keep-alive connection tends to repeat its field section exactly from one
#: request to the next (only the target changes); a hit replaces the split, the CR/LF/NUL
#: check and the per-line work by one lookup.  Filled only after the full parse succeeded;
#: bounded in entries and key length, emptied when full.
_SECTIONS: BoundedCache[bytes, Headers] = BoundedCache(128, max_key_size=2048)


def _make_request_head_reader(parse: Any) -> Any:
    """The head reader whose slow path (anything but the common case) ends in ``parse``.

    Made once per mode (strict, tolerant) as a closure, not through ``functools.partial`` or
    a default argument: the tolerant mode then costs nothing per call on the common path
    (its retry is inside ``parse``, reached only when the strict parse has failed).
    """

    def read_request_head(buf: ReceiveBuffer, max_size: int) -> Request | None:
        # The common case first: a complete head within the limit, every line ending in CRLF,
        # no other CR, LF or NUL (checked as in the response reader).
        data = buf.data
        pos = buf.pos
        if pos >= len(data):
            return None  # nothing buffered (what a server sees after each request)
        end = data.find(b"\r\n\r\n", pos)
        lines: list[bytes] = []
        section = b""
        if end >= 0 and end + 4 - pos <= max_size:
            nl = data.find(b"\r\n", pos, end + 2)
            cut = data[nl + 2 : end + 2]
            section = cut if type(cut) is bytes else bytes(cut)
            hit = _SECTIONS.get(section)
            if hit is not None:
                # A field section seen before (fully checked then); the request line alone
                # is new: the same checks as below (a target or method with CR, LF or NUL
                # fails them, being neither VCHAR nor tchar).
                cut = data[pos:nl]
                parts = (cut if type(cut) is bytes else bytes(cut)).split(b" ")
                if len(parts) == 3:
                    method, target, version = parts
                    http_version = _REQUEST_VERSIONS.get(version)
                    if (
                        http_version is not None
                        and method
                        and not method.translate(None, TCHAR)
                        and target
                        and not target.translate(None, VCHAR)
                    ):
                        flags = hit._flags
                        if not flags & F_MULTI_HOST and (flags & F_HOST or http_version != b"1.1"):
                            buf.pos = end + 4
                            return _make_request(method, hit, target, http_version)
            block = data[pos:end]
            if type(block) is not bytes:
                block = bytes(block)
            lines = block.split(b"\r\n")
            if len(block) - len(block.translate(None, b"\r\n\x00")) != 2 * len(lines) - 2:
                lines = []
        if lines:
            after = end + 4
            parts = lines[0].split(b" ")
            if len(parts) == 3:
                method, target, version = parts
                http_version = _REQUEST_VERSIONS.get(version)
                if (
                    http_version is not None
                    and method
                    and not method.translate(None, TCHAR)
                    and target
                    and not target.translate(None, VCHAR)
                ):
                    headers = fields_from_lines(lines, 1, RemoteProtocolError)
                    if headers is not None:
                        flags = headers._flags
                        if not flags & F_MULTI_HOST and (flags & F_HOST or http_version != b"1.1"):
                            buf.pos = after
                            _SECTIONS.put(section, headers, len(section))
                            return _make_request(method, headers, target, http_version)
        return _request_head_slow(buf, max_size, parse)

    return read_request_head


def _request_head_slow(buf: ReceiveBuffer, max_size: int, parse: Any) -> Request | None:
    """A request head reader's general path: an incomplete head (None, or an error when it
    cannot be a request line at all), else the head through ``parse``."""
    head = find_head(buf, max_size, True)
    if head is None:
        first = buf.data[buf.pos : buf.pos + 1]
        if first and first[0] < 0x21 and not (first == b"\r" and len(buf) == 1):
            # A request line never starts with a control byte or space (a TLS ClientHello
            # starts with 0x16): fail now rather than wait for a blank line.
            raise RemoteProtocolError("illegal request line")
        return None
    if not head:
        raise RemoteProtocolError("no request line received")  # pragma: no cover
    return parse(head)  # type: ignore[no-any-return]


read_request_head = _make_request_head_reader(parse_request_head)


# -- bodies -----------------------------------------------------------------------------------


def expect_nothing(buf: ReceiveBuffer, max_size: int = 0) -> None:
    """The reader for states in which the peer may send nothing but EOF."""
    if buf:
        raise RemoteProtocolError("Got data when expecting EOF")
    return None


class ContentLengthReader:
    """A body of exactly ``length`` bytes (RFC 9112 §6.2)."""

    __slots__ = ("_length", "_remaining")

    def __init__(self, length: int) -> None:
        self._length = length
        self._remaining = length

    def reset(self, length: int) -> None:
        """Make this reader ready for a new body of ``length`` bytes (one reader serves a
        whole connection)."""
        self._length = self._remaining = length

    def read(self, buf: ReceiveBuffer, max_size: int = 0) -> object:
        remaining = self._remaining
        if not remaining:
            return EOM_NO_TRAILERS
        data = buf.data
        pos = buf.pos
        avail = len(data) - pos
        if avail <= 0:
            return None
        n = avail if avail < remaining else remaining
        if type(data) is bytes and pos == 0 and n == avail:
            chunk = data  # the caller's own object: no copy at all
        elif type(data) is bytes:
            chunk = data[pos : pos + n]
        else:
            chunk = bytes(memoryview(data)[pos : pos + n])
        buf.pos = pos + n
        self._remaining = remaining - n
        e = _new(Data)
        e._data = chunk
        e._chunk_start = False
        e._chunk_end = False
        return e

    def read_bytes(self, buf: ReceiveBuffer, max_size: int = 0) -> object:
        """As :meth:`read`, but the body bytes come as ``bytes`` instead of a Data event."""
        remaining = self._remaining
        if not remaining:
            return EOM_NO_TRAILERS
        data = buf.data
        pos = buf.pos
        avail = len(data) - pos
        if avail <= 0:
            return None
        n = avail if avail < remaining else remaining
        if type(data) is bytes:
            chunk = data if pos == 0 and n == avail else data[pos : pos + n]
        else:
            chunk = bytes(memoryview(data)[pos : pos + n])
        buf.pos = pos + n
        self._remaining = remaining - n
        return chunk

    def read_eof(self) -> object:
        raise RemoteProtocolError(
            "peer closed connection without sending complete message body "
            f"(received {self._length - self._remaining} bytes, expected {self._length})"
        )


#: Chunk-size lines seen before -> size.  Bounded like the other caches.
_CHUNK_SIZES: BoundedCache[bytes, int] = BoundedCache(256, max_key_size=20)


def _chunk_size(line: bytes) -> int:
    """The size on a chunk line (without its CRLF), RFC 9112 §7.1: 1 to 16 hex digits, then
    optional whitespace and chunk extensions (ignored, but with no bare CR, LF or NUL)."""
    size, _, ext = line.partition(b";")
    size = size.rstrip(b" \t")
    if (
        not size
        or len(size) > MAX_CHUNK_SIZE_DIGITS
        or size.translate(None, HEXDIG)
        or (ext and _CHUNK_EXT_BAD_RE.search(ext) is not None)
    ):
        raise RemoteProtocolError(f"illegal chunk header: {line!r} (RFC 9112 §7.1)")
    n = int(size, 16)
    if not ext:
        _CHUNK_SIZES.put(line, n, len(line))
    return n


def _joined_spans(data: bytes | bytearray, spans: list[tuple[int, int]]) -> bytes:
    """``data[a:b]`` for each ``(a, b)`` of ``spans``, as one ``bytes``."""
    mv = memoryview(data)
    if len(spans) == 1:
        a, b = spans[0]
        return bytes(mv[a:b])
    return b"".join([mv[a:b] for a, b in spans])


class ChunkedReader:
    """A chunked body (RFC 9112 §7.1): chunk extensions are ignored, trailers are returned in
    :class:`EndOfMessage.headers`.

    Raises :class:`RemoteProtocolError` for a chunk-size that is not 1 to 16 hex digits, a
    chunk line with a bare CR, LF or NUL, chunk data not followed by CRLF, or a bad trailer
    section.
    """

    __slots__ = (
        "_remaining",
        "_need_crlf",
        "_in_trailer",
        "_chunk_start",
        "_max_size",
        "_last_line",
        "_last_size",
        "_last_rep",
        "_ended",
    )

    def __init__(self, max_size: int) -> None:
        self._remaining = 0
        self._need_crlf = False
        self._in_trailer = False
        self._chunk_start = False
        self._max_size = max_size
        # The last valid non-zero chunk line with its CRLF, and its size: senders tend to
        # repeat one chunk size, and one startswith() then replaces find, slice and lookup.
        # (It starts as a genuine pair, so that a match is always right.)
        self._last_line = b"1\r\n"
        self._last_size = 1
        # CRLF + _last_line: what ends one chunk's data and starts the next of the same size.
        self._last_rep = b"\r\n1\r\n"
        # The last chunk and an empty trailer section were consumed with the bytes before
        # them: the next read returns EndOfMessage.
        self._ended = False

    def reset(self) -> None:
        """Make this reader ready for a new body (one reader serves a whole connection)."""
        self._remaining = 0
        self._need_crlf = False
        self._in_trailer = False
        self._chunk_start = False
        self._ended = False

    def read(self, buf: ReceiveBuffer, max_size: int = 0) -> object:
        data = buf.data
        pos = buf.pos
        end = len(data)
        remaining = self._remaining
        if not remaining:
            if self._need_crlf:
                if not self._consume_crlf(buf):
                    return None
                pos = buf.pos
            if self._in_trailer:
                if self._ended:
                    return EOM_NO_TRAILERS
                return self._read_trailer(buf)
            last = self._last_line
            if data.startswith(last, pos):
                remaining = self._last_size
                pos += len(last)
            else:
                got = self._new_chunk_line(buf, data, pos, False)
                if type(got) is not int:
                    return got  # the last chunk: the trailer section's result
                if got < 0:
                    return None
                remaining = self._last_size
                pos = got
            start = True
        else:
            start = self._chunk_start
        avail = end - pos
        if avail < remaining:
            if avail <= 0:
                buf.pos = pos
                self._remaining = remaining
                self._chunk_start = start
                return None
            self._remaining = remaining - avail
            self._chunk_start = False
            buf.pos = end
            if type(data) is bytes:
                chunk = data if pos == 0 else data[pos:]
            else:
                chunk = bytes(memoryview(data)[pos:])
            e = _new(Data)
            e._data = chunk
            e._chunk_start = start
            e._chunk_end = False
            return e
        stop = pos + remaining
        chunk = data[pos:stop] if type(data) is bytes else bytes(memoryview(data)[pos:stop])
        self._remaining = 0
        # Consume the CRLF that ends the chunk's data now when it is already here (if it is
        # wrong, the next read reports it, after this Data).
        if end - stop >= 2 and data[stop] == 13 and data[stop + 1] == 10:
            buf.pos = stop + 2
        else:
            buf.pos = stop
            self._need_crlf = True
        e = _new(Data)
        e._data = chunk
        e._chunk_start = start
        e._chunk_end = True
        return e

    def read_bytes(self, buf: ReceiveBuffer, max_size: int = 0) -> object:
        """As :meth:`read`, but returns every body byte available, across chunk boundaries, as
        one ``bytes`` (or EndOfMessage, or None for "need more data").

        When an error follows body bytes, those bytes are returned and the error is left in
        the buffer for the next call (which re-reads it and raises), so the bytes delivered
        before an error are the same as :meth:`read`'s.
        """
        if self._in_trailer:
            if self._ended:
                return EOM_NO_TRAILERS
            return self._read_trailer(buf)
        if self._need_crlf and not self._consume_crlf(buf):
            return None
        data = buf.data
        pos = buf.pos
        end = len(data)
        spans: list[tuple[int, int]] = []
        remaining = self._remaining
        start = self._chunk_start
        if remaining:
            got = self._rest_of_chunk(buf, spans)
            if type(got) is not int:
                return got  # all that is here belongs to this chunk (None: nothing is)
            pos = got
            remaining = 0
            start = False
        is_bytes = type(data) is bytes
        while not self._need_crlf:
            # At a chunk line: size, data, CRLF, as many times as they are all here.
            last = self._last_line
            if data.startswith(last, pos):
                # The same line as the last chunk's: already validated.
                size = self._last_size
                first = pos + len(last)
            else:
                # A chunk line other than the last one: its size, or where to stop.
                got = self._new_chunk_line(buf, data, pos, bool(spans))
                if type(got) is not int:
                    return got  # the trailer section's result
                if got < 0:
                    if got < -1:
                        pos = -got - 2  # after the last chunk's line: see _new_chunk_line
                    break
                size = self._last_size
                first = got
            stop = first + size
            if stop > end:
                # Part of this chunk's data is here (or none of it).
                if first < end:
                    spans.append((first, end))
                    start = False
                else:
                    start = True
                remaining = stop - end
                pos = end
                break
            spans.append((first, stop))
            stop = self._same_size_run(data, stop, end, size, spans)
            pos = self._after_chunk_data(data, stop)
        buf.pos = pos
        self._remaining = remaining
        self._chunk_start = start
        if not spans:
            return None
        if len(spans) == 1 and is_bytes:
            a, b = spans[0]
            return data if a == 0 and b == end else data[a:b]
        return _joined_spans(data, spans)

    def _same_size_run(
        self, data: Any, stop: int, end: int, size: int, spans: list[tuple[int, int]]
    ) -> int:
        # Chunks of one size tend to follow each other: while the chunk's data that ends at
        # ``stop`` is followed by CRLF, the very chunk line just validated and all of the next
        # chunk's data, one comparison takes the next chunk (its span added to ``spans``).
        # Returns where the last chunk's data taken ends.  (Split out of read_bytes: measured
        # +0.07 us on bench/http11.py case (5) lower-level.)
        rep = self._last_rep
        step = len(rep) + size
        while stop + step <= end and data.startswith(rep, stop):
            stop += step
            spans.append((stop - size, stop))
        return stop

    def _rest_of_chunk(self, buf: ReceiveBuffer, spans: list[tuple[int, int]]) -> Any:
        # read_bytes in the middle of a chunk's data: the bytes when all that is buffered
        # belongs to it (None when nothing is), else where the next chunk line starts, the
        # chunk's span added to ``spans``.
        data = buf.data
        pos = buf.pos
        end = len(data)
        stop = pos + self._remaining
        if stop > end:
            if end <= pos:
                return None
            self._remaining = stop - end
            self._chunk_start = False
            buf.pos = end
            return data if pos == 0 and type(data) is bytes else bytes(memoryview(data)[pos:])
        spans.append((pos, stop))
        return self._after_chunk_data(data, stop)

    def _after_chunk_data(self, data: Any, stop: int) -> int:
        # Where the next chunk line starts, after the CRLF that ends a chunk's data at
        # ``stop``; when that CRLF is not (all) here, or is wrong, the next call checks it.
        if data.startswith(b"\r\n", stop):
            return stop + 2
        self._need_crlf = True
        return stop

    def _consume_crlf(self, buf: ReceiveBuffer) -> bool:
        """The CRLF after a chunk's data that did not fit in the buffer last time: True once
        consumed, False when it is not all here yet.  Raises :class:`RemoteProtocolError` when
        something else is there (RFC 9112 §7.1)."""
        data = buf.data
        pos = buf.pos
        if len(data) - pos < 2:
            if len(data) > pos and data[pos] != 13:
                raise RemoteProtocolError("chunk data not followed by CRLF (RFC 9112 §7.1)")
            return False
        if data[pos] != 13 or data[pos + 1] != 10:
            raise RemoteProtocolError("chunk data not followed by CRLF (RFC 9112 §7.1)")
        buf.pos = pos + 2
        self._need_crlf = False
        return True

    def _new_chunk_line(self, buf: ReceiveBuffer, data: Any, pos: int, after_bytes: bool) -> Any:
        """:meth:`read` / :meth:`read_bytes` at a chunk line unlike the last one, at ``pos``
        (``after_bytes``: read_bytes has gathered body bytes before it).

        Returns the offset of the chunk's data (its size in ``_last_size``); -1 to stop here
        (the line is not all here, or, with ``after_bytes``, it is invalid: the next call
        raises, after the bytes already gathered); ``-(p + 2)`` after the last chunk's line
        with ``after_bytes`` (``p``: where the trailer section starts, or after it when it is
        empty and here); or, at the last chunk with nothing gathered, the trailer section's
        result.  Raises :class:`RemoteProtocolError` for an invalid line otherwise.
        """
        nl = data.find(b"\r\n", pos)
        if nl < 0:
            if not after_bytes and data.find(b"\n", pos) >= 0:
                raise RemoteProtocolError("chunk line not terminated by CRLF (RFC 9112 §7.1)")
            return -1
        line = data[pos:nl] if type(data) is bytes else bytes(data[pos:nl])
        size = _CHUNK_SIZES.get(line)
        if size is None:
            try:
                size = _chunk_size(line)
            except RemoteProtocolError:
                if after_bytes:
                    return -1  # raised again by the next call, after these bytes
                raise
        if not size:
            if after_bytes:
                # The last chunk: its line is valid, so it is consumed now; the trailer section
                # (and EndOfMessage) is the next call's.  When the section is empty and here, it
                # is consumed too (nothing in it can be wrong), and the next call only returns
                # EndOfMessage.
                self._in_trailer = True
                if data.startswith(b"\r\n", nl + 2):
                    self._ended = True
                    return -(nl + 4 + 2)
                return -(nl + 2 + 2)
            buf.pos = nl + 2
            self._remaining = 0
            self._in_trailer = True
            return self._read_trailer(buf)
        self._last_line = line + b"\r\n"
        self._last_rep = b"\r\n" + self._last_line
        self._last_size = size
        return nl + 2

    def _read_trailer(self, buf: ReceiveBuffer) -> object:
        head = find_head(buf, self._max_size, False)
        if head is None:
            return None
        if not head:
            return EOM_NO_TRAILERS
        headers = _fields(head, 0)
        if headers is None:
            norm = _lenient(head)
            headers = _fields(norm, 0) if norm is not None else None
            if headers is None:
                raise _explain_fields(norm or head)
        return _make_eom(headers)

    def read_eof(self) -> object:
        raise RemoteProtocolError(
            "peer closed connection without sending complete message body (incomplete chunked read)"
        )


class Http10Reader:
    """A response body delimited by the end of the connection (RFC 9112 §6.3, item 8)."""

    __slots__ = ()

    def read(self, buf: ReceiveBuffer, max_size: int = 0) -> object:
        n = len(buf)
        if not n:
            return None
        return _make_data(buf.take(n))

    def read_bytes(self, buf: ReceiveBuffer, max_size: int = 0) -> object:
        """As :meth:`read`, but the body bytes come as ``bytes`` instead of a Data event."""
        n = len(buf)
        if not n:
            return None
        return buf.take(n)

    def read_eof(self) -> object:
        return EOM_NO_TRAILERS


# -- the tolerant mode ------------------------------------------------------------------------

#: Names whose fields decide where a message ends: a line that mentions them is never dropped
#: or repaired, whatever the mode (a guess about framing is how smuggling starts).
_FRAMING_NAMES = (b"content-length", b"transfer-encoding")


def _repair_field_lines(head: bytes) -> tuple[bytes, int] | None:
    """The tolerant mode's repair of a head (start-line plus field lines, CRLF-terminated):
    field lines that are not ``token ":" value`` are dropped, and whitespace between a field
    name and its colon is removed (what RFC 9112 §5.1 asks a proxy to do to a response).

    Returns (the repaired head, how many lines were dropped or repaired), or None when nothing
    may be repaired: a line with NUL or a bare CR (browsers disagree on those, RFC 9110 §5.5),
    a repaired or dropped line that mentions Content-Length or Transfer-Encoding, or a head
    with nothing to repair.
    """
    lines = head.split(b"\r\n")
    lines.pop()  # head ends with CRLF
    out = [lines[0]]
    changed = 0
    for line in lines[1:]:
        if line.find(b"\r") >= 0 or line.find(b"\x00") >= 0:
            return None
        name, colon, value = line.partition(b":")
        if colon and name and not name.translate(None, TCHAR):
            out.append(line)
            continue
        low = line.lower()
        if any(low.find(f) >= 0 for f in _FRAMING_NAMES):
            return None
        trimmed = name.rstrip(b" \t")
        if colon and trimmed and not trimmed.translate(None, TCHAR):
            out.append(trimmed + b":" + value)
        changed += 1
    if not changed:
        return None
    return b"".join(line + b"\r\n" for line in out), changed


def _tolerant(parse: Any) -> Any:
    def parse_tolerant(head: bytes) -> object:
        try:
            return parse(head)
        except RemoteProtocolError:
            norm = _lenient(head)
            repaired = _repair_field_lines(norm if norm is not None else head)
            if repaired is None:
                raise
            # Anything else wrong (start-line, framing values, Host) still raises.
            return parse(repaired[0])

    return parse_tolerant


#: ``read_response_head`` that drops or repairs bad field lines (see _repair_field_lines).
read_response_head_tolerant = _make_response_head_reader(_tolerant(parse_response_head))
#: ``read_request_head`` likewise (off by default: servers should refuse, RFC 9112 §5.1).
read_request_head_tolerant = _make_request_head_reader(_tolerant(parse_request_head))
