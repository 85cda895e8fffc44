"""Turning ``content=`` / ``data=`` / ``json=`` arguments into a body stream and its headers.

:func:`encode_request` returns ``(headers, stream)``: the headers the body implies
(``Content-Length`` or ``Transfer-Encoding: chunked``, and ``Content-Type`` for form and JSON
bodies) and a :class:`~httpwire._streams.BytesStream`, :class:`IteratorByteStream` or
:class:`AsyncIteratorByteStream`. The caller adds a header only when the user did not set it.
"""

from __future__ import annotations

import io
import json as jsonlib
import mimetypes
import os
import re
import stat
import typing
import warnings
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from urllib.parse import urlencode

from ._exceptions import LocalProtocolError, StreamConsumed
from ._streams import (
    AsyncByteStream,
    AsyncIteratorByteStream,
    BytesStream,
    ByteStream,
    IteratorByteStream,
)

__all__ = [
    "encode_request",
    "encode_response",
    "encode_json",
    "encode_multipart",
    "FileByteStream",
    "MultipartStream",
    "RequestContent",
    "CHUNK_SIZE",
]

RequestContent: typing.TypeAlias = (
    "str | bytes | bytearray | memoryview | typing.BinaryIO | Iterable[bytes] "
    "| AsyncIterable[bytes]"
)

CHUNK_SIZE = 65536
"""Bytes read from a file (or any readable stream) per block of a request body."""


def _refuse_text(file: typing.Any, what: str) -> None:
    if isinstance(file, io.TextIOBase):
        raise TypeError(
            f"{what} must be opened in binary mode ('rb'), not text mode: a text file's "
            "characters have no byte length to announce"
        )


def _remaining_length(file: typing.Any, start: int | None) -> int | None:
    """Bytes from ``start`` (the current position when None) to the end of ``file``: from
    ``os.fstat`` for a regular file, else from ``seek``/``tell``; None when neither works."""
    try:
        fd = file.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    try:
        if start is None:
            start = file.tell()
        if fd is not None:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode):
                return max(info.st_size - start, 0)
        if file.seekable():
            here = file.tell()
            end = file.seek(0, os.SEEK_END)
            file.seek(here)
            return max(int(end) - start, 0)
    except (AttributeError, OSError, ValueError):
        pass
    return None


def _start_position(file: typing.Any) -> int | None:
    """Where a replay of ``file`` starts (its position now), or None when it cannot seek."""
    try:
        if file.seekable():
            return int(file.tell())
    except (AttributeError, OSError, ValueError):
        pass
    return None


def _read_blocks(file: typing.Any) -> Iterator[bytes]:
    read = file.read
    while True:
        chunk = read(CHUNK_SIZE)
        if not chunk:
            return
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError(
                f"a request body file must return bytes from read(), not {type(chunk).__name__}"
                " (open it in binary mode)"
            )
        yield chunk if type(chunk) is bytes else bytes(chunk)


class FileByteStream(ByteStream, AsyncByteStream):
    """A request body read from a binary file object (anything with ``read(n) -> bytes``) in
    :data:`CHUNK_SIZE` blocks, from its position when given.

    ``replayable`` when the file can seek: each iteration starts from that position again (a
    redirect or an auth challenge sends the body again). Otherwise the second iteration raises
    :class:`StreamConsumed`. The async iteration reads the (local) file in the event loop, as
    httpx does: a block read from the page cache takes microseconds.
    """

    def __init__(self, file: typing.Any) -> None:
        _refuse_text(file, "a file given as content=")
        self._file = file
        self._start = _start_position(file)
        self._consumed = False

    @property
    def replayable(self) -> bool:
        return self._start is not None

    def length(self) -> int | None:
        """The bytes one iteration sends, or None when unknown."""
        return _remaining_length(self._file, self._start)

    def _begin(self) -> None:
        if self._consumed:
            if self._start is None:
                raise StreamConsumed(
                    "the request body is a one-shot stream that was already sent: give a "
                    "seekable file or bytes to send it again"
                )
            self._file.seek(self._start)
        self._consumed = True

    def __iter__(self) -> Iterator[bytes]:
        self._begin()
        return _read_blocks(self._file)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self._begin()
        for chunk in _read_blocks(self._file):
            yield chunk


def encode_json(value: typing.Any) -> bytes:
    """Compact UTF-8 JSON (no spaces, non-ASCII kept, NaN/Infinity refused with ``ValueError``)."""
    return jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def _encode_content(
    content: typing.Any,
) -> tuple[dict[str, str], ByteStream | AsyncByteStream]:
    if isinstance(content, bytes):
        body = content
    elif isinstance(content, str):
        body = content.encode("utf-8")
    elif isinstance(content, bytearray | memoryview):
        body = bytes(content)
    elif isinstance(content, BytesStream):
        return {"Content-Length": str(len(content.data))} if content.data else {}, content
    elif isinstance(content, ByteStream | AsyncByteStream):
        return {"Transfer-Encoding": "chunked"}, content
    elif isinstance(content, Mapping):
        raise TypeError(
            "content must be bytes, str, a binary file or an iterable of bytes, not a "
            f"{type(content).__name__}: use data= for a form or json= for JSON"
        )
    elif hasattr(content, "read"):
        # Before Iterable: a file iterates by lines, and its size is known.
        stream = FileByteStream(content)
        length = stream.length()
        if length is None:
            return {"Transfer-Encoding": "chunked"}, stream
        return {"Content-Length": str(length)}, stream
    elif isinstance(content, Iterable):
        return {"Transfer-Encoding": "chunked"}, IteratorByteStream(content)
    elif isinstance(content, AsyncIterable):
        return {"Transfer-Encoding": "chunked"}, AsyncIteratorByteStream(content)
    else:
        raise TypeError(
            "content must be bytes, str, a binary file, an iterable of bytes or an async "
            f"iterable of bytes, not {type(content).__name__}"
        )
    return ({"Content-Length": str(len(body))} if body else {}), BytesStream(body)


def _form_value(value: typing.Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    raise TypeError(
        f"Invalid type for value. Expected primitive type (str, int, float, bool or None), "
        f"got {type(value)}: {value!r}"
    )


def _encode_form(data: Mapping[str, typing.Any]) -> tuple[dict[str, str], BytesStream]:
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, list | tuple):
            pairs.extend((str(key), _form_value(item)) for item in value)
        else:
            pairs.append((str(key), _form_value(value)))
    body = urlencode(pairs).encode("ascii")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if body:
        headers["Content-Length"] = str(len(body))
    return headers, BytesStream(body)


def encode_request(
    content: typing.Any = None,
    data: Mapping[str, typing.Any] | None = None,
    files: typing.Any = None,
    json: typing.Any = None,
    boundary: bytes | None = None,
) -> tuple[dict[str, str], ByteStream | AsyncByteStream]:
    """The headers and stream for a request body.

    * ``content``: ``bytes`` / ``str`` (UTF-8) -> ``Content-Length``, :class:`BytesStream`;
      an iterable of ``bytes`` -> ``Transfer-Encoding: chunked``, :class:`IteratorByteStream`;
      an async iterable -> the same with :class:`AsyncIteratorByteStream`; a stream object is
      used as it is.
    * ``data``: a mapping -> ``application/x-www-form-urlencoded`` (list values repeat the key;
      ``True``/``False``/``None`` -> ``true``/``false``/empty). Anything else given as ``data``
      (``bytes``, ``str``, an iterator) is treated as ``content``, with httpx's
      ``DeprecationWarning``.
    * ``files`` (with optional ``data`` fields) -> ``multipart/form-data`` (RFC 7578).
    * ``json``: any JSON-serialisable value -> compact UTF-8 JSON, ``application/json``.

    No body gives ``({}, BytesStream(b""))``. An empty body sets no ``Content-Length``: the
    request decides (``POST``/``PUT``/``PATCH`` send ``Content-Length: 0``).
    Raises ``TypeError`` for unsupported types or for ``content`` combined with ``data``,
    ``files`` or ``json`` (and ``json`` with ``data``/``files``).
    """
    if content is not None and (data is not None or files is not None or json is not None):
        raise TypeError("pass only one of content=, data=/files= or json=")
    if json is not None and (data is not None or files is not None):
        raise TypeError("pass only one of json= or data=/files=")
    if content is not None:
        return _encode_content(content)
    if files:
        return encode_multipart(data or {}, files, boundary)
    if data is not None:
        if not isinstance(data, Mapping):
            # Raw bytes, text or a stream given as data=: sent as content=, as requests and
            # httpx do, with httpx's warning.
            warnings.warn(
                "Use 'content=<...>' to upload raw bytes/text content.",  # httpx's words
                DeprecationWarning,
                stacklevel=4,
            )
            return _encode_content(data)
        if data:
            return _encode_form(data)
    if json is not None:
        body = encode_json(json)
        return {"Content-Length": str(len(body)), "Content-Type": "application/json"}, BytesStream(
            body
        )
    return {}, BytesStream(b"")


def encode_response(
    content: typing.Any = None,
    text: str | None = None,
    html: str | None = None,
    json: typing.Any = None,
) -> tuple[dict[str, str], ByteStream | AsyncByteStream]:
    """The headers and stream for a response built in memory (mocks, tests, ASGI/WSGI apps).

    ``content`` as in :func:`encode_request`; ``text`` -> ``text/plain; charset=utf-8``;
    ``html`` -> ``text/html; charset=utf-8``; ``json`` -> ``application/json``. Unlike a
    request, an empty in-memory body states ``Content-Length: 0``.
    """
    if content is not None:
        headers, stream = _encode_content(content)
        if isinstance(stream, BytesStream) and not stream.data:
            headers = {"Content-Length": "0"}
        return headers, stream
    if text is not None:
        body = text.encode("utf-8")
        content_type = "text/plain; charset=utf-8"
    elif html is not None:
        body = html.encode("utf-8")
        content_type = "text/html; charset=utf-8"
    elif json is not None:
        body = encode_json(json)
        content_type = "application/json"
    else:
        return {}, BytesStream(b"")
    return {"Content-Length": str(len(body)), "Content-Type": content_type}, BytesStream(body)


_PARAM_ESCAPES = {'"': "%22", "\\": "\\\\"}
_PARAM_ESCAPES.update({chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B})
_PARAM_ESCAPE_RE = re.compile("|".join(re.escape(c) for c in _PARAM_ESCAPES))


def _quote_param(value: str) -> bytes:
    """A ``name=""`` / ``filename=""`` parameter as browsers write it (WHATWG HTML, form data)
    and httpx does: ``"`` and the C0 controls (CR and LF among them, ESC excepted) are
    percent-encoded and ``\\`` doubled, so a name can never end the header line."""
    escaped = _PARAM_ESCAPE_RE.sub(lambda m: _PARAM_ESCAPES[m.group(0)], value)
    return b'"' + escaped.encode("utf-8") + b'"'


def _file_payload(value: typing.Any) -> bytes | typing.Any:
    """A part's payload: ``bytes`` (``str`` encoded as UTF-8), or the binary file object."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if hasattr(value, "read"):
        _refuse_text(value, "a multipart file")
        return value
    raise TypeError(f"a file must be bytes, str or a file object, not {type(value).__name__}")


class MultipartStream(ByteStream, AsyncByteStream):
    """A ``multipart/form-data`` body whose files are read from disk as it is sent, in
    :data:`CHUNK_SIZE` blocks (never held in memory). Each file is rewound to its start
    before it is sent (as httpx does), so the body can be sent again (``replayable``) unless a
    file cannot seek: then a second iteration raises :class:`StreamConsumed`."""

    def __init__(self, items: list[bytes | typing.Any]) -> None:
        self._items = items
        self._consumed = False
        self.replayable = all(
            isinstance(item, bytes) or _start_position(item) is not None for item in items
        )

    def length(self) -> int | None:
        """The body's size in bytes, or None when a file's size is unknown."""
        total = 0
        for item in self._items:
            if isinstance(item, bytes):
                total += len(item)
            else:
                size = _remaining_length(item, 0 if _start_position(item) is not None else None)
                if size is None:
                    return None
                total += size
        return total

    def __iter__(self) -> Iterator[bytes]:
        if self._consumed and not self.replayable:
            raise StreamConsumed(
                "the multipart body has a file that cannot seek and was already sent"
            )
        self._consumed = True
        for item in self._items:
            if isinstance(item, bytes):
                yield item
                continue
            if _start_position(item) is not None:
                item.seek(0)
            yield from _read_blocks(item)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.__iter__():
            yield chunk


def _file_part_header(key: str, value: typing.Any) -> tuple[bytes, typing.Any]:
    """The header lines of one file part of ``encode_multipart`` (without the boundary), and
    the file object (or bytes) it carries; ``value`` is one of the shapes it documents."""
    filename: str | None
    extra: Mapping[str, str] = {}
    content_type: str | None = None
    if isinstance(value, tuple):
        filename, fileobj = value[0], value[1]
        if len(value) > 2:
            content_type = value[2]
        if len(value) > 3:
            extra = value[3]
    else:
        fileobj = value
        name = getattr(value, "name", None)
        filename = os.path.basename(name) if isinstance(name, str) else "upload"
    if content_type is None and filename:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    part_headers = dict(extra)
    # As httpx: a Content-Type among the part's headers wins over the tuple's third item;
    # without a file name there is none to guess from, so none is sent.
    if content_type is not None and not any(
        name.lower() == "content-type" for name in part_headers
    ):
        part_headers["Content-Type"] = content_type
    header = b"Content-Disposition: form-data; name=%b" % _quote_param(key)
    if filename:
        header += b"; filename=%b" % _quote_param(filename)
    for extra_name, extra_value in part_headers.items():
        header += b"\r\n%b: %b" % (_header_value(extra_name), _header_value(extra_value))
    return header, fileobj


def encode_multipart(
    data: Mapping[str, typing.Any],
    files: typing.Any,
    boundary: bytes | None = None,
) -> tuple[dict[str, str], BytesStream | MultipartStream]:
    """A ``multipart/form-data`` body (RFC 7578).

    ``files`` maps field names (or is a list of ``(name, file)`` pairs) to a file object,
    ``bytes``, or a tuple ``(filename, file)``, ``(filename, file, content_type)`` or
    ``(filename, file, content_type, headers)``. The content type defaults to a guess from the
    file name, else ``application/octet-stream``. ``data`` fields come first.

    With only ``bytes``/``str`` payloads the body is built in memory (a :class:`BytesStream`);
    with file objects it is a :class:`MultipartStream` that reads them as it is sent, with a
    ``Content-Length`` computed from the files' sizes (``Transfer-Encoding: chunked`` when a
    size cannot be known). Files must be opened in binary mode (``TypeError`` otherwise).
    """
    if boundary is None:
        boundary = os.urandom(16).hex().encode("ascii")
    items: list[bytes | typing.Any] = []
    pending: list[bytes] = []
    for key, value in data.items():
        if not isinstance(key, str):
            raise TypeError(f"Invalid type for name. Expected str, got {type(key)}: {key!r}")
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            text = item if isinstance(item, bytes) else _form_value(item).encode("utf-8")
            pending.append(
                b"--%b\r\nContent-Disposition: form-data; name=%b\r\n\r\n%b\r\n"
                % (boundary, _quote_param(str(key)), text)
            )
    file_items = files.items() if isinstance(files, Mapping) else files
    for key, value in file_items:
        header, fileobj = _file_part_header(str(key), value)
        payload = _file_payload(fileobj)
        pending.append(b"--%b\r\n%b\r\n\r\n" % (boundary, header))
        if isinstance(payload, bytes):
            pending.append(payload)
        else:
            items.append(b"".join(pending))
            pending = []
            items.append(payload)
        pending.append(b"\r\n")
    pending.append(b"--%b--\r\n" % boundary)
    items.append(b"".join(pending))
    headers = {"Content-Type": "multipart/form-data; boundary=" + boundary.decode("ascii")}
    if len(items) == 1:
        headers["Content-Length"] = str(len(items[0]))
        return headers, BytesStream(items[0])
    stream = MultipartStream(items)
    length = stream.length()
    if length is None:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(length)
    return headers, stream


def boundary_from_content_type(content_type: str | None) -> bytes | None:
    """The ``boundary`` parameter of a ``multipart/form-data`` Content-Type, or None."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "boundary":
            value = value.strip().strip('"')
            if value:
                return value.encode("latin-1")
    return None


def _header_value(value: str) -> bytes:
    raw = value.encode("utf-8")
    if 13 in raw or 10 in raw or 0 in raw:
        raise LocalProtocolError(f"multipart header {value!r} contains CR, LF or NUL")
    return raw
