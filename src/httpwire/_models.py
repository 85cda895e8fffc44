"""``Request`` and ``Response``: what a transport is given and what it hands back.

Both flavours share these classes: a response's body is a sync :class:`~httpwire._streams.ByteStream`
(``iter_bytes``, ``read``, ``close``) or an async :class:`~httpwire._streams.AsyncByteStream`
(``aiter_bytes``, ``aread``, ``aclose``). Reading a body to its end closes its stream exactly once,
which is how a connection goes back to its pool.
"""

from __future__ import annotations

import codecs
import datetime
import io
import json as jsonlib
import re
import typing
from collections.abc import AsyncIterator, Callable, Iterator

from ._content import boundary_from_content_type, encode_request, encode_response
from ._cookies import Cookies
from ._decoders import (
    MAX_PIECE,
    ContentDecoder,
    IdentityDecoder,
    RequestContextDecoder,
    get_decoder,
)
from ._exceptions import (
    DecodingError,
    HTTPStatusError,
    LocalProtocolError,
    RequestNotRead,
    ResponseNotRead,
    ResponseTooLarge,
    StreamClosed,
    StreamConsumed,
)
from ._headers import Headers, HeaderTypes
from ._status_codes import codes
from ._streams import AsyncByteStream, BytesStream, ByteStream
from ._urls import URL, QueryParamTypes

__all__ = ["Request", "Response", "ResponseJSONDecodeError", "parse_header_links"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
# Methods whose requests are expected to carry a body, so an empty one is stated explicitly
# with "Content-Length: 0" (RFC 9110 §8.6: a user agent SHOULD send it for such requests).
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_NO_BODY: dict[str, str] = {}
_IDENTITY = IdentityDecoder()
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


_STATUS_KINDS = {
    1: "Informational response",
    3: "Redirect response",
    4: "Client error",
    5: "Server error",
}


class ResponseJSONDecodeError(DecodingError, jsonlib.JSONDecodeError):
    """``Response.json()`` failed: both a :class:`DecodingError` and a
    :class:`json.JSONDecodeError` (so ``except ValueError`` keeps working)."""


def _normalise_method(method: str | bytes) -> str:
    if isinstance(method, bytes):
        method = method.decode("ascii", errors="replace")
    # The token check comes before upper-casing: str.upper() maps some non-ASCII letters to
    # ASCII ("\ufb01x" -> "FIX", "stra\xdfe" -> "STRASSE"), which must not turn a bad method
    # into a valid token.
    upper = method.upper()
    if not method.isascii() or (upper not in _KNOWN_METHODS and not _TOKEN.fullmatch(upper)):
        raise LocalProtocolError(
            f"Invalid HTTP method {method!r}: methods are tokens (RFC 9110 §9)"
        )
    return upper


def _link_param_value(value: str, i: int) -> tuple[str, int]:
    """The value of the ``Link`` parameter whose name ends at ``value[i]`` (empty when no
    ``=`` follows), unquoted, and the index after it (``parse_header_links``' step)."""
    n = len(value)
    if i >= n or value[i] != "=":
        return "", i
    i += 1
    while i < n and value[i] in " \t":
        i += 1
    if i < n and value[i] in "\"'":
        quote = value[i]
        i += 1
        chars: list[str] = []
        while i < n and value[i] != quote:
            if value[i] == "\\" and quote == '"' and i + 1 < n:
                i += 1  # a quoted-pair (RFC 9110 section 5.6.4)
            chars.append(value[i])
            i += 1
        return "".join(chars), i + 1
    j = i
    while j < n and value[j] not in ";,":
        j += 1
    return value[i:j].strip(), j


def parse_header_links(value: str) -> list[dict[str, str]]:
    """The links of a ``Link`` header value (RFC 8288 section 3), in order.

    Each link is a dict: ``"url"`` (the URI-Reference between ``<`` and ``>``, as given, not
    resolved) and its parameters, names lowercased (RFC 8288: case-insensitive), values
    unquoted (``quoted-string`` escapes undone; single quotes accepted too, as httpx does).
    A parameter that appears twice keeps its first value (section 3.3 says so of ``rel``).
    Commas inside ``<...>`` and quoted values do not split links. Never raises.
    """
    links: list[dict[str, str]] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " \t,":
            i += 1
        if i >= n:
            break
        if value[i] == "<":
            end = value.find(">", i + 1)
            end = n if end == -1 else end
            url = value[i + 1 : end]
            i = end + 1
        else:  # lenient: a URL without its brackets ends at ';' or ','
            j = i
            while j < n and value[j] not in ";,":
                j += 1
            url = value[i:j].strip(" '\"")
            i = j
        link = {"url": url.strip()}
        while i < n:
            while i < n and value[i] in " \t":
                i += 1
            if i >= n or value[i] == ",":
                break
            if value[i] != ";":  # not a parameter: skip to the next link
                j = value.find(",", i)
                i = n if j == -1 else j
                break
            i += 1
            j = i
            while j < n and value[j] not in "=;,":
                j += 1
            key = value[i:j].strip().lower()
            i = j
            param, i = _link_param_value(value, i)
            if key and key not in link:
                link[key] = param
        links.append(link)
    return links


class _UnattachedStream(ByteStream, AsyncByteStream):
    """The body of an unpickled request or response that was not read before pickling:
    iterating it raises :class:`StreamClosed` (as httpx's ``UnattachedStream``)."""

    def __iter__(self) -> Iterator[bytes]:
        raise StreamClosed("the body was not read before the object was pickled")

    def __aiter__(self) -> AsyncIterator[bytes]:
        raise StreamClosed("the body was not read before the object was pickled")


class Request:
    """An HTTP request: ``method``, ``url``, ``headers``, ``stream``, ``extensions``.

    ``Request("POST", "https://example.com/items", params={"page": 2}, json={"a": 1})``.

    * ``method``: ``str``, uppercased; must be a token (``LocalProtocolError`` otherwise);
    * ``url``: :class:`URL` (``params``, when given, replace its query, as in httpx 0.28);
    * ``headers``: :class:`Headers`; ``Host`` is added first when missing (from ``url.netloc``);
      ``Content-Length`` or ``Transfer-Encoding: chunked`` and ``Content-Type`` are added from the
      body when missing (``POST``/``PUT``/``PATCH`` without a body get ``Content-Length: 0``;
      other methods without a body get neither);
    * ``stream``: the body, a :class:`BytesStream` for ``bytes``/``str``/``data``/``json``
      bodies (``stream.data`` is the bytes), a ``FileByteStream`` for a binary file (sent
      with ``Content-Length`` in 64 KiB blocks), a ``MultipartStream`` for ``files=`` with
      file objects (read as sent; a ``boundary`` in a ``Content-Type`` header given here is
      the one used), an ``IteratorByteStream`` or ``AsyncIteratorByteStream`` for iterables;
      or the ``stream=`` given;
    * ``content``: the body bytes; raises :class:`RequestNotRead` for a streaming body not yet
      ``read()`` / ``aread()``;
    * ``extensions``: ``dict`` (``timeout``, ``trace``, ``sni_hostname``, ``target``).
    """

    method: str
    url: URL
    headers: Headers
    stream: ByteStream | AsyncByteStream
    extensions: dict[str, typing.Any]
    _content: bytes | None

    def __init__(
        self,
        method: str | bytes,
        url: URL | str,
        *,
        params: QueryParamTypes = None,
        headers: HeaderTypes = None,
        content: typing.Any = None,
        data: typing.Any = None,
        files: typing.Any = None,
        json: typing.Any = None,
        stream: ByteStream | AsyncByteStream | None = None,
        extensions: dict[str, typing.Any] | None = None,
    ) -> None:
        if type(method) is str and method in _KNOWN_METHODS:
            self.method = method
        else:
            self.method = _normalise_method(method)
        if isinstance(url, str):
            url = URL(url)
        elif not isinstance(url, URL):
            raise TypeError(f"url must be a URL or str, not {type(url).__name__}")
        if params is not None:
            # httpx 0.28: params= replaces the URL's query (params={} removes it), as
            # URL(url, params=...) does. Client.build_request merges instead (docs/clients.md).
            url = url.copy_with(params=params)
        self.url = url
        self.headers = Headers(headers)
        self.extensions = {} if extensions is None else extensions
        body_headers: dict[str, str]
        if stream is None:
            if content is None and data is None and files is None and json is None:
                body_headers, stream = _NO_BODY, BytesStream(b"")
            else:
                # A boundary given in the Content-Type header is the one the body uses.
                boundary = (
                    boundary_from_content_type(self.headers.get("content-type"))
                    if files is not None
                    else None
                )
                body_headers, stream = encode_request(content, data, files, json, boundary)
        elif isinstance(stream, BytesStream):
            body_headers = {"Content-Length": str(len(stream.data))} if stream.data else {}
        else:
            body_headers = {"Transfer-Encoding": "chunked"}
        self.stream = stream
        self._content = stream.data if isinstance(stream, BytesStream) else None
        self._add_default_headers(body_headers)

    def _add_default_headers(self, body_headers: dict[str, str]) -> None:
        entries = self.headers._list
        if body_headers is _NO_BODY and self.method not in _BODY_METHODS:
            # Shortcut (issue 14): a request without a body (GET, HEAD...) can only get Host:
            # one scan for it instead of a set of every name (Request() with the client's 4
            # default headers: 1.24-1.36 -> 1.06-1.08 us, timeit min of 7, two runs each).
            # Cost: Host's rule written twice.
            for entry in entries:
                if entry[1] == b"host":
                    return
            if self.url.host:
                entries.insert(0, (b"Host", b"host", self.url.netloc))
            return
        present = {lower for _, lower, _ in entries} if entries else set()
        if b"content-length" not in present and b"transfer-encoding" not in present:
            if "Content-Length" in body_headers:
                entries.append(
                    (b"Content-Length", b"content-length", body_headers["Content-Length"].encode())
                )
            elif "Transfer-Encoding" in body_headers:
                entries.append((b"Transfer-Encoding", b"transfer-encoding", b"chunked"))
            elif self.method in _BODY_METHODS:
                entries.append((b"Content-Length", b"content-length", b"0"))
        content_type = body_headers.get("Content-Type")
        if content_type is not None and b"content-type" not in present:
            entries.append((b"Content-Type", b"content-type", content_type.encode("ascii")))
        if b"host" not in present and self.url.host:
            entries.insert(0, (b"Host", b"host", self.url.netloc))

    @property
    def content(self) -> bytes:
        """The body bytes. Raises ``RequestNotRead`` for a streaming body not yet read."""
        if self._content is None:
            raise RequestNotRead(
                "the request body is a stream that has not been read: call read() or aread() first"
            )
        return self._content

    def read(self) -> bytes:
        """Read a sync streaming body into memory (it can then be sent again); return it."""
        if self._content is None:
            if not isinstance(self.stream, ByteStream):
                raise RuntimeError("this request has an async body: use 'await request.aread()'")
            self._content = b"".join(self.stream)
            self.stream = BytesStream(self._content)
        return self._content

    async def aread(self) -> bytes:
        """Read an async streaming body into memory (it can then be sent again); return it."""
        if self._content is None:
            if not isinstance(self.stream, AsyncByteStream):
                raise RuntimeError("this request has a sync body: use 'request.read()'")
            self._content = b"".join([chunk async for chunk in self.stream])
            self.stream = BytesStream(self._content)
        return self._content

    def __getstate__(self) -> dict[str, typing.Any]:
        # As httpx: the body stream and the extensions (timeouts, trace callbacks, sockets)
        # do not travel; a body read into memory does.
        return {k: v for k, v in self.__dict__.items() if k not in ("extensions", "stream")}

    def __setstate__(self, state: dict[str, typing.Any]) -> None:
        self.__dict__.update(state)
        self.extensions = {}
        self.stream = _UnattachedStream() if self._content is None else BytesStream(self._content)

    def __repr__(self) -> str:
        return f"<Request({self.method!r}, {str(self.url)!r})>"


class _ByteChunker:
    """Re-slices a byte stream into pieces of exactly ``size`` bytes (the last may be shorter)."""

    __slots__ = ("_size", "_pending")

    def __init__(self, size: int) -> None:
        if size <= 0:
            raise ValueError(f"chunk_size must be a positive number of bytes, not {size}")
        self._size = size
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        data = self._pending + data if self._pending else data
        size = self._size
        end = len(data) - len(data) % size
        self._pending = data[end:]
        return [data[i : i + size] for i in range(0, end, size)]

    def flush(self) -> list[bytes]:
        pending, self._pending = self._pending, b""
        return [pending] if pending else []


class _TextChunker:
    """Like :class:`_ByteChunker`, for text (sizes in characters)."""

    __slots__ = ("_size", "_pending")

    def __init__(self, size: int | None) -> None:
        self._size = size
        self._pending = ""

    def feed(self, text: str) -> list[str]:
        if self._size is None:
            return [text] if text else []
        text = self._pending + text
        size = self._size
        end = len(text) - len(text) % size
        self._pending = text[end:]
        return [text[i : i + size] for i in range(0, end, size)]

    def flush(self) -> list[str]:
        pending, self._pending = self._pending, ""
        return [pending] if pending else []


class _LineDecoder:
    """Splits text into lines at CRLF, CR or LF (line breaks removed), across chunk boundaries."""

    __slots__ = ("_pending", "_trailing_cr")

    def __init__(self) -> None:
        self._pending = ""
        self._trailing_cr = False

    def feed(self, text: str) -> list[str]:
        if self._trailing_cr:
            text = "\r" + text
            self._trailing_cr = False
        if text.endswith("\r"):
            # Wait for the next chunk: this CR may be the first half of a CRLF.
            self._trailing_cr = True
            text = text[:-1]
        if not text:
            return []
        parts = _LINE_BREAK.split(self._pending + text)
        self._pending = parts.pop()
        return parts

    def flush(self) -> list[str]:
        lines = []
        if self._trailing_cr:
            lines.append(self._pending)
        elif self._pending:
            lines.append(self._pending)
        self._pending, self._trailing_cr = "", False
        return lines


def _collector(first: bytes, second: bytes, expected: int) -> io.BytesIO:
    """A buffer for a body that arrives in more than one piece; ``expected`` is its announced
    size in bytes (Content-Length), or -1.

    Each piece is copied in as it arrives and can be freed at once, and ``getvalue()`` hands
    over the buffer's own bytes object (CPython shares it rather than copying when nothing else
    refers to the buffer): a big body is held about once instead of twice (the pieces, then
    their ``b"".join``). A big announced size gets up to :data:`_RESERVE_MAX` bytes allocated up
    front, so the buffer is not grown piece by piece at first; never more, since the size is
    the peer's word, not bytes received (``Content-Length: 1073741824`` followed by a few bytes
    must not cost a GiB). Past that the buffer grows as bytes arrive. :func:`_body_value` trims
    it to what arrived.
    """
    buf = io.BytesIO()
    if expected >= _RESERVE_FROM and expected > len(first) + len(second):
        buf.seek(min(expected, _RESERVE_MAX) - 1)
        buf.write(b"\0")
        buf.seek(0)
    buf.write(first)
    buf.write(second)
    return buf


#: Bodies of at least this many bytes (announced) get a buffer allocated up front...
_RESERVE_FROM = 1 << 20
#: ... of at most this many bytes (4 MiB): what a peer's Content-Length alone can make us hold.
_RESERVE_MAX = 4 << 20


def _body_value(buf: io.BytesIO) -> bytes:
    """The bytes written to a :func:`_collector` buffer (no copy when it is full)."""
    buf.truncate(buf.tell())
    return buf.getvalue()


class _LimitedBody:
    """A body read into memory under a ``max_body_size`` of ``limit`` bytes: raw pieces are
    decoded as they arrive (in pieces of at most 64 KiB) and :class:`ResponseTooLarge` is raised
    as soon as the bytes received, or the bytes decoded, pass the limit, so no more than about
    ``limit`` bytes are ever held (a 1.6 KB brotli body of 1 GiB stops at the limit)."""

    __slots__ = ("_limit", "_decoder", "_buf", "received")

    def __init__(self, limit: int, decoder: ContentDecoder) -> None:
        self._limit = limit
        self._decoder = decoder
        self._buf = io.BytesIO()
        self.received = 0

    def feed(self, raw: bytes) -> None:
        self.received += len(raw)
        if self.received > self._limit:
            self._too_large(self.received, "received")
        for piece in self._decoder.decode_pieces(raw):
            self._add(piece)

    def finish(self) -> bytes:
        for piece in self._decoder.flush_pieces():
            self._add(piece)
        return self._buf.getvalue()

    def _add(self, piece: bytes) -> None:
        if self._buf.tell() + len(piece) > self._limit:
            self._too_large(self._buf.tell() + len(piece), "decoded")
        self._buf.write(piece)

    def _too_large(self, size: int, what: str) -> typing.NoReturn:
        raise ResponseTooLarge(
            f"the response body is larger than max_body_size={self._limit} bytes "
            f"({size} bytes {what} so far)",
            limit=self._limit,
            size=size,
        )


class _WholeBody:
    """The I/O-free core of ``read()``/``aread()`` without a ``max_body_size``: raw pieces are
    collected as they arrive (a big body is held about once, see :func:`_collector`) and decoded
    once at the end. ``received`` counts the raw bytes fed."""

    __slots__ = ("_response", "_decoder", "_first", "_rest", "_view", "received")

    def __init__(self, response: Response, decoder: ContentDecoder) -> None:
        self._response = response  # its Content-Length is looked up only for a second piece
        self._decoder = decoder
        self._first = b""
        self._rest: io.BytesIO | None = None
        self._view: memoryview | None = None
        self.received = 0

    def feed(self, raw: bytes) -> None:
        self.received += len(raw)
        if self._rest is not None:
            self._rest.write(raw)
        elif not self._first:
            self._first = raw
        else:
            self._rest = _collector(self._first, raw, self._response._announced_size())
            self._first = b""

    def space(self, wanted: int) -> memoryview:
        """A writable view of the buffer after the bytes received, ``wanted`` bytes long at
        most (the :class:`~._streams.BodySink` side of ``receive_into``). The buffer is the
        :func:`_collector`'s (up to :data:`_RESERVE_MAX` reserved for a big announced size);
        past the reserve it grows by at most the bytes received so far (at least 64 KiB), so a
        peer's Content-Length alone never makes it allocate more than that."""
        rest = self._rest
        if rest is None:
            rest = self._rest = _collector(self._first, b"", self._response._announced_size())
            self._first = b""
        pos = rest.tell()
        size = rest.seek(0, io.SEEK_END)
        end = pos + min(wanted, max(size - pos, pos, 65536))
        if end > size:
            rest.seek(end - 1)
            rest.write(b"\0")
        rest.seek(pos)
        whole = rest.getbuffer()
        view = self._view = whole[pos:end]  # holds the buffer's export until filled()
        whole.release()
        return view

    def filled(self, n: int) -> None:
        """``n`` bytes of the view :meth:`space` gave were read into."""
        self.received += n
        rest = self._rest
        assert rest is not None and self._view is not None
        self._view.release()  # the buffer may be resized again
        self._view = None
        rest.seek(n, io.SEEK_CUR)

    def finish(self) -> bytes:
        raw = self._first if self._rest is None else _body_value(self._rest)
        decoder = self._decoder
        if decoder is _IDENTITY:
            return raw
        return decoder.decode(raw) + decoder.flush()


class _BodyPieces:
    """The I/O-free core of ``iter_bytes``/``aiter_bytes`` (``decoder`` given) and
    ``iter_raw``/``aiter_raw`` (``decoder=None``): ``feed`` each raw piece received and then
    ``flush`` once; each returns an iterator of the pieces to hand out (re-sliced to
    ``chunk_size`` bytes when given), to be run to its end before the next call. Decoded output
    comes in pieces of at most ``chunk_size`` (or 64 KiB) bytes, so a body that decompresses
    hugely is never held at once (see ``ContentDecoder.decode_pieces``)."""

    __slots__ = ("_response", "_decoder", "_chunker", "_max")

    def __init__(
        self, response: Response, decoder: ContentDecoder | None, chunk_size: int | None
    ) -> None:
        self._response = response
        self._decoder = decoder
        self._chunker = _ByteChunker(chunk_size) if chunk_size is not None else None
        self._max = chunk_size if chunk_size is not None else MAX_PIECE

    def feed(self, raw: bytes) -> Iterator[bytes]:
        self._response._num_bytes_downloaded += len(raw)
        if self._decoder is None:
            if self._chunker is None:
                if raw:
                    yield raw
            else:
                yield from self._chunker.feed(raw)
            return
        for data in self._decoder.decode_pieces(raw, self._max):
            if self._chunker is None:
                yield data
            else:
                yield from self._chunker.feed(data)

    def flush(self) -> Iterator[bytes]:
        if self._decoder is not None:
            for data in self._decoder.flush_pieces(self._max):
                if self._chunker is None:
                    yield data
                else:
                    yield from self._chunker.feed(data)
        if self._chunker is not None:
            yield from self._chunker.flush()


class _TextPieces:
    """The I/O-free core of ``iter_text``/``aiter_text`` (``lines=False``) and
    ``iter_lines``/``aiter_lines`` (``lines=True``): decoded body bytes in, text out (errors
    replaced), re-sliced to ``chunk_size`` characters or split into lines."""

    __slots__ = ("_decoder", "_chunker", "_lines")

    def __init__(self, encoding: str, chunk_size: int | None, lines: bool) -> None:
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._chunker = _TextChunker(chunk_size)
        self._lines = _LineDecoder() if lines else None

    def feed(self, data: bytes) -> list[str]:
        return self._out(self._chunker.feed(self._decoder.decode(data)))

    def flush(self) -> list[str]:
        texts = self._chunker.feed(self._decoder.decode(b"", final=True)) + self._chunker.flush()
        out = self._out(texts)
        if self._lines is not None:
            out += self._lines.flush()
        return out

    def _out(self, texts: list[str]) -> list[str]:
        if self._lines is None:
            return texts
        return [line for text in texts for line in self._lines.feed(text)]


def _max_body_size(value: object) -> int | None:
    """A ``max_body_size`` setting checked: ``None`` (no limit) or an int >= 0 (bytes)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_body_size must be None or an int >= 0 (bytes), not {value!r}")
    return value


def _slices(data: bytes, chunk_size: int | None) -> Iterator[bytes]:
    if not data:
        return
    if chunk_size is None or chunk_size >= len(data):
        yield data
        return
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be a positive number of bytes, not {chunk_size}")
    for start in range(0, len(data), chunk_size):
        yield data[start : start + chunk_size]


def _charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` value, if it names a known codec."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
            try:
                codecs.lookup(charset)
            except LookupError:
                return None
            return charset
    return None


class Response:
    """An HTTP response.

    ``Response(200, content=b"hi")`` builds one in memory (for mocks and tests); a transport
    builds ``Response(status, headers=..., stream=..., extensions=..., request=...)`` with a body
    not read yet.

    * ``status_code``: ``int``; ``reason_phrase``: ``str`` from ``extensions["reason_phrase"]``,
      else the standard phrase; ``http_version``: ``str`` from ``extensions["http_version"]``,
      else ``"HTTP/1.1"``;
    * ``headers``: :class:`Headers`; ``request``: :class:`Request` (``RuntimeError`` when unset);
      ``url``: the request's URL;
    * body: ``content`` (``ResponseNotRead`` before ``read()`` on a streamed response), ``text``,
      ``encoding``, ``json()``, ``read()``/``aread()``, ``iter_bytes``/``aiter_bytes`` (decoded
      per ``Content-Encoding``), ``iter_raw``/``aiter_raw`` (as received), ``iter_text``,
      ``iter_lines`` and their async twins, ``close()``/``aclose()``;
    * state: ``is_closed``, ``is_stream_consumed`` (a body can be iterated once:
      ``StreamConsumed`` the second time, ``StreamClosed`` after ``close()``),
      ``num_bytes_downloaded`` (raw bytes received so far);
    * ``raise_for_status()`` raises :class:`HTTPStatusError` for 4xx and 5xx, else returns
      the response.

    Responses are context managers (``with`` / ``async with``) that close the body on exit.
    """

    status_code: int
    headers: Headers
    stream: ByteStream | AsyncByteStream
    extensions: dict[str, typing.Any]
    history: list[Response]
    next_request: Request | None
    default_encoding: str | Callable[[bytes], str | None]
    is_closed: bool
    is_stream_consumed: bool

    def __init__(
        self,
        status_code: int,
        *,
        headers: HeaderTypes = None,
        content: typing.Any = None,
        text: str | None = None,
        html: str | None = None,
        json: typing.Any = None,
        stream: ByteStream | AsyncByteStream | None = None,
        request: Request | None = None,
        extensions: dict[str, typing.Any] | None = None,
        history: list[Response] | None = None,
        default_encoding: str | Callable[[bytes], str | None] = "utf-8",
    ) -> None:
        self.status_code = status_code
        self.headers = Headers(headers)
        self._request = request
        self.extensions = {} if extensions is None else extensions
        self.history = [] if history is None else list(history)
        self.next_request = None
        self.default_encoding = default_encoding
        self.is_closed = False
        self.is_stream_consumed = False
        self._num_bytes_downloaded = 0
        self._content: bytes | None = None
        self._text: str | None = None
        self._encoding: str | None = None
        self._elapsed: datetime.timedelta | None = None
        if stream is None:
            body_headers, stream = encode_response(content, text, html, json)
            # A framing header given by the caller wins: a body of a stated Content-Length
            # gets no Transfer-Encoding as well (RFC 9112 section 6.3), and the reverse.
            framed = "content-length" in self.headers or "transfer-encoding" in self.headers
            for name, value in body_headers.items():
                if name in self.headers or (
                    framed and name in ("Content-Length", "Transfer-Encoding")
                ):
                    continue
                self.headers[name] = value
        self.stream = stream
        if isinstance(stream, BytesStream):
            # The body is already in memory: decode it now, so .content works at once.
            self.is_stream_consumed = True
            self._num_bytes_downloaded = len(stream.data)
            decoder = self._decoder()
            if isinstance(decoder, IdentityDecoder):
                self._content = stream.data
            else:
                self._content = decoder.decode(stream.data) + decoder.flush()
            self.is_closed = True
            stream.close()

    # -- metadata --------------------------------------------------------------------------------

    @property
    def request(self) -> Request:
        """The request this responds to. Raises ``RuntimeError`` when it was not set."""
        if self._request is None:
            raise RuntimeError("the request instance has not been set on this response")
        return self._request

    @request.setter
    def request(self, value: Request) -> None:
        self._request = value

    @property
    def url(self) -> URL:
        """The URL of the request (``RuntimeError`` when no request is set)."""
        return self.request.url

    @property
    def links(self) -> dict[str | None, dict[str, str]]:
        """The ``Link`` header(s) (RFC 8288) as httpx gives them: ``{rel or url: link}``,
        each link a dict with ``"url"`` and its parameters (see :func:`parse_header_links`;
        a ``rel`` of several types, ``"next last"``, is one key, as in httpx). ``{}`` when
        there is no ``Link`` header."""
        values = self.headers.get_list("link")
        if not values:
            return {}
        return {
            (link.get("rel") or link.get("url")): link
            for link in parse_header_links(", ".join(values))
        }

    @property
    def cookies(self) -> Cookies:
        """The cookies this response's ``Set-Cookie`` headers set, for its request's URL (a
        new :class:`Cookies` made on first access; RFC 6265 storage rules). Raises
        ``RuntimeError`` when no request is set and the response sets cookies."""
        cookies: Cookies | None = self.__dict__.get("_cookies")
        if cookies is None:
            cookies = Cookies()
            cookies.extract_cookies(self)
            self._cookies = cookies
        return cookies

    @property
    def http_version(self) -> str:
        """``"HTTP/1.1"``, ``"HTTP/2"``...: from ``extensions["http_version"]``."""
        version = self.extensions.get("http_version")
        if version is None:
            return "HTTP/1.1"
        return (
            version.decode("ascii", errors="ignore") if isinstance(version, bytes) else str(version)
        )

    @property
    def reason_phrase(self) -> str:
        """The reason phrase the server sent (``extensions["reason_phrase"]``), else the standard
        one for the status code, else ``""``."""
        phrase = self.extensions.get("reason_phrase")
        if phrase is None:
            return codes.get_reason_phrase(self.status_code)
        return phrase.decode("ascii", errors="ignore") if isinstance(phrase, bytes) else str(phrase)

    @property
    def elapsed(self) -> datetime.timedelta:
        """Time from sending the request to closing the response; set by the client.
        Raises ``RuntimeError`` before that."""
        if self._elapsed is None:
            raise RuntimeError("'.elapsed' is only set once the response has been read or closed")
        return self._elapsed

    @elapsed.setter
    def elapsed(self, value: datetime.timedelta) -> None:
        self._elapsed = value

    @property
    def num_bytes_downloaded(self) -> int:
        """Bytes of body received so far, before content decoding."""
        return self._num_bytes_downloaded

    @property
    def is_informational(self) -> bool:
        """1xx (RFC 9110 section 15.2)."""
        return codes.is_informational(self.status_code)

    @property
    def is_success(self) -> bool:
        """2xx (RFC 9110 section 15.3)."""
        return codes.is_success(self.status_code)

    @property
    def is_redirect(self) -> bool:
        """301, 302, 303, 307 or 308."""
        return codes.is_redirect(self.status_code)

    @property
    def is_client_error(self) -> bool:
        """4xx (RFC 9110 section 15.5)."""
        return codes.is_client_error(self.status_code)

    @property
    def is_server_error(self) -> bool:
        """5xx (RFC 9110 section 15.6)."""
        return codes.is_server_error(self.status_code)

    @property
    def is_error(self) -> bool:
        """4xx or 5xx."""
        return codes.is_error(self.status_code)

    @property
    def has_redirect_location(self) -> bool:
        """A redirect status with a ``Location`` header (304 and 300 are not followed)."""
        return self.is_redirect and "location" in self.headers

    def raise_for_status(self) -> Response:
        """Return ``self`` for a 2xx status; raise :class:`HTTPStatusError` for any other.

        As httpx: a 1xx or 3xx response is not a success either (a 3xx reaches the caller only
        when redirects are not followed, or cannot be). Raises ``RuntimeError`` if the response
        has no request.
        """
        request = self.request
        status = self.status_code
        if 200 <= status < 300:
            return self
        kind = _STATUS_KINDS.get(status // 100, "Invalid status code")
        location = ""
        if self.has_redirect_location:
            location = f"Redirect location: '{self.headers['location']}'\n"
        message = (
            f"{kind} '{status} {self.reason_phrase}' for url '{request.url}'\n{location}"
            f"For more information check: "
            f"https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/{status}"
        )
        raise HTTPStatusError(message, request=request, response=self)

    # -- body as a whole -------------------------------------------------------------------------

    @property
    def content(self) -> bytes:
        """The decoded body. Raises ``ResponseNotRead`` for a streamed body not yet read."""
        if self._content is None:
            raise ResponseNotRead(
                "the response body has not been read: call read() or aread() first"
            )
        return self._content

    @property
    def charset_encoding(self) -> str | None:
        """The ``charset`` of ``Content-Type``, when it names a codec Python knows."""
        return _charset(self.headers.get("content-type"))

    @property
    def encoding(self) -> str:
        """The text encoding: set explicitly, else ``charset`` from ``Content-Type``, else
        ``default_encoding`` (a name, or a function of the body returning one)."""
        if self._encoding is None:
            encoding = self.charset_encoding
            if encoding is None:
                if callable(self.default_encoding):
                    encoding = self.default_encoding(self.content) if self._content else None
                else:
                    encoding = self.default_encoding
            self._encoding = encoding or "utf-8"
        return self._encoding

    @encoding.setter
    def encoding(self, value: str) -> None:
        if self._text is not None:
            raise ValueError("cannot set the encoding after .text has been read")
        self._encoding = value

    @property
    def text(self) -> str:
        """The body decoded with :attr:`encoding`; undecodable bytes become U+FFFD."""
        if self._text is None:
            content = self.content
            self._text = content.decode(self.encoding, errors="replace") if content else ""
        return self._text

    def json(self, **kwargs: typing.Any) -> typing.Any:
        """The body parsed as JSON (UTF-8/16/32 detected, RFC 8259 §8.1).

        Raises :class:`ResponseJSONDecodeError` (a ``DecodingError`` and a
        ``json.JSONDecodeError``) when the body is not valid JSON.
        """
        try:
            return jsonlib.loads(self.content, **kwargs)
        except jsonlib.JSONDecodeError as exc:
            raise ResponseJSONDecodeError(exc.msg, exc.doc, exc.pos) from exc
        except UnicodeDecodeError as exc:
            raise DecodingError(f"the response body is not valid JSON text: {exc}") from exc

    def _decoder(self) -> ContentDecoder:
        # Shortcut (issue 14): one scan without building a list for the usual response that has
        # no Content-Encoding (the list comprehension cost ~0.3 us per response).
        for _, name, _ in self.headers._list:
            if name == b"content-encoding":
                break
        else:
            return _IDENTITY  # stateless, so one instance serves every response
        codings = [value for _, name, value in self.headers._list if name == b"content-encoding"]
        decoder = get_decoder(b", ".join(codings).decode("latin-1"))
        if self._request is None or isinstance(decoder, IdentityDecoder):
            return decoder
        return RequestContextDecoder(decoder, self._request)  # errors carry .request

    def _announced_size(self) -> int:
        """The body's Content-Length in bytes, or -1 when absent or unreadable."""
        value = self.headers.get("content-length")
        if value is None or not value.isdigit():
            return -1
        return int(value)

    def _body_limit(self) -> int | None:
        """The request's ``max_body_size`` extension (bytes), or None: no limit."""
        if self._request is None:
            return None
        return _max_body_size(self._request.extensions.get("max_body_size"))

    def _start(self) -> None:
        if self.is_stream_consumed:
            raise StreamConsumed(
                "the response body was already read or iterated; it can only be iterated once"
            )
        if self.is_closed:
            raise StreamClosed("the response was closed before its body was read")
        self.is_stream_consumed = True

    # The body methods below come in two flavours (sync and async) over one I/O-free core each
    # (_WholeBody/_LimitedBody, _BodyPieces, _TextPieces): the methods only loop over the stream
    # and close it; every decision (limits, decoding, chunking, counting) is in the core.

    def _read_core(self) -> _WholeBody | _LimitedBody:
        """Start reading the whole body: the core to feed. Raises StreamConsumed/StreamClosed."""
        limit = self._body_limit()
        self._start()
        if limit is not None:
            return _LimitedBody(limit, self._decoder())
        return _WholeBody(self, self._decoder())

    # -- sync body -------------------------------------------------------------------------------

    def read(self) -> bytes:
        """Read the whole body (decoded), close the stream, and return :attr:`content`.

        Raises :class:`ResponseTooLarge` when the request's ``max_body_size`` extension (bytes)
        is set and the body received or decoded passes it (the stream is then closed)."""
        if self._content is None:
            # One pass straight over the stream (not through iter_bytes' generator layers):
            # this is every non-streaming request's path.
            stream = self._sync_stream()
            body = self._read_core()
            try:
                if type(body) is _WholeBody and hasattr(stream, "receive_into"):
                    stream.receive_into(body)  # big bodies: read into body's buffer
                else:
                    for raw in stream:
                        body.feed(raw)
            finally:
                self._num_bytes_downloaded += body.received
                self.close()
            self._content = body.finish()
        return self._content

    def iter_raw(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body as received (no content decoding), in chunks of ``chunk_size`` bytes if
        given. Closes the stream at the end, or when iteration stops early or fails."""
        stream = self._sync_stream()
        self._start()
        pieces = _BodyPieces(self, None, chunk_size)
        try:
            for raw in stream:
                yield from pieces.feed(raw)
            yield from pieces.flush()
        finally:
            self.close()

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body decoded per ``Content-Encoding``, in chunks of ``chunk_size`` bytes if given
        (else as they come). Works again after ``read()``. Raises ``DecodingError``."""
        if self._content is not None:
            yield from _slices(self._content, chunk_size)
            return
        stream = self._sync_stream()
        self._start()
        pieces = _BodyPieces(self, self._decoder(), chunk_size)
        try:
            for raw in stream:
                yield from pieces.feed(raw)
            yield from pieces.flush()
        finally:
            self.close()

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        """The body decoded to text with :attr:`encoding` (errors replaced), incrementally."""
        return self._iter_text(chunk_size, lines=False)

    def iter_lines(self) -> Iterator[str]:
        """The body's lines (split at CRLF, CR or LF; line breaks removed)."""
        return self._iter_text(None, lines=True)

    def _iter_text(self, chunk_size: int | None, lines: bool) -> Iterator[str]:
        texts = _TextPieces(self.encoding, chunk_size, lines)  # the encoding at the first next()
        for data in self.iter_bytes():
            yield from texts.feed(data)
        yield from texts.flush()

    def close(self) -> None:
        """Close the body stream (once). Before the end of the body, the connection is dropped."""
        if not self.is_closed:
            if not isinstance(self.stream, ByteStream):
                raise RuntimeError("this response has an async body: use 'await response.aclose()'")
            self.is_closed = True
            self.stream.close()

    def _sync_stream(self) -> ByteStream:
        if not isinstance(self.stream, ByteStream):
            raise RuntimeError(
                "this response has an async body: use 'aread()' / 'async for ... in aiter_bytes()'"
            )
        return self.stream

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    # -- async body ------------------------------------------------------------------------------

    async def aread(self) -> bytes:
        """Async twin of :meth:`read`."""
        if self._content is None:
            stream = self._async_stream()
            body = self._read_core()
            try:
                if type(body) is _WholeBody and hasattr(stream, "receive_into"):
                    await stream.receive_into(body)  # big bodies: read into body's buffer
                else:
                    async for raw in stream:
                        body.feed(raw)
            finally:
                self._num_bytes_downloaded += body.received
                await self.aclose()
            self._content = body.finish()
        return self._content

    async def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Async twin of :meth:`iter_raw`."""
        stream = self._async_stream()
        self._start()
        pieces = _BodyPieces(self, None, chunk_size)
        try:
            async for raw in stream:
                for piece in pieces.feed(raw):
                    yield piece
            for piece in pieces.flush():
                yield piece
        finally:
            await self.aclose()

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Async twin of :meth:`iter_bytes`."""
        if self._content is not None:
            for piece in _slices(self._content, chunk_size):
                yield piece
            return
        stream = self._async_stream()
        self._start()
        pieces = _BodyPieces(self, self._decoder(), chunk_size)
        try:
            async for raw in stream:
                for piece in pieces.feed(raw):
                    yield piece
            for piece in pieces.flush():
                yield piece
        finally:
            await self.aclose()

    def aiter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """Async twin of :meth:`iter_text`."""
        return self._aiter_text(chunk_size, lines=False)

    def aiter_lines(self) -> AsyncIterator[str]:
        """Async twin of :meth:`iter_lines`."""
        return self._aiter_text(None, lines=True)

    async def _aiter_text(self, chunk_size: int | None, lines: bool) -> AsyncIterator[str]:
        texts = _TextPieces(self.encoding, chunk_size, lines)
        async for data in self.aiter_bytes():
            for text in texts.feed(data):
                yield text
        for text in texts.flush():
            yield text

    async def aclose(self) -> None:
        """Async twin of :meth:`close`."""
        if not self.is_closed:
            if not isinstance(self.stream, AsyncByteStream):
                raise RuntimeError("this response has a sync body: use 'response.close()'")
            self.is_closed = True
            await self.stream.aclose()

    def _async_stream(self) -> AsyncByteStream:
        if not isinstance(self.stream, AsyncByteStream):
            raise RuntimeError(
                "this response has a sync body: use 'read()' / 'for ... in iter_bytes()'"
            )
        return self.stream

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.aclose()

    def __getstate__(self) -> dict[str, typing.Any]:
        # As httpx: the stream (a connection), the extensions and the cookies cache do not
        # travel. An unpickled response is closed: its content if it was read, else
        # ResponseNotRead, and read() raises StreamClosed.
        skip = ("extensions", "stream", "is_closed", "_cookies")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, typing.Any]) -> None:
        self.__dict__.update(state)
        self.is_closed = True
        self.extensions = {}
        self.stream = _UnattachedStream()

    def __repr__(self) -> str:
        return f"<Response [{self.status_code} {self.reason_phrase}]>"
