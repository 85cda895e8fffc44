"""Turning ``content=`` / ``data=`` / ``json=`` arguments into a body stream and its headers.

:func:`encode_request` returns ``(headers, stream)``: the headers the body implies
(``Content-Length`` or ``Transfer-Encoding: chunked``, and ``Content-Type`` for form and JSON
bodies) and a :class:`~httpwire._streams.BytesStream`, :class:`IteratorByteStream` or
:class:`AsyncIteratorByteStream`. The caller adds a header only when the user did not set it.
"""

from __future__ import annotations

import json as jsonlib
import mimetypes
import os
import typing
from collections.abc import AsyncIterable, Iterable, Mapping
from urllib.parse import urlencode

from ._exceptions import LocalProtocolError
from ._streams import (
    AsyncByteStream,
    AsyncIteratorByteStream,
    BytesStream,
    ByteStream,
    IteratorByteStream,
)

__all__ = ["encode_request", "encode_response", "encode_json", "encode_multipart", "RequestContent"]

RequestContent: typing.TypeAlias = (
    "str | bytes | bytearray | memoryview | Iterable[bytes] | AsyncIterable[bytes]"
)


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
    elif isinstance(content, Iterable):
        return {"Transfer-Encoding": "chunked"}, IteratorByteStream(content)
    elif isinstance(content, AsyncIterable):
        return {"Transfer-Encoding": "chunked"}, AsyncIteratorByteStream(content)
    else:
        raise TypeError(
            "content must be bytes, str, an iterable of bytes or an async iterable of bytes, "
            f"not {type(content).__name__}"
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
    raise TypeError(f"form values must be str, int, float, bool or None, not {value!r}")


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
      ``True``/``False``/``None`` -> ``true``/``false``/empty). ``bytes``/``str`` ``data`` is
      treated as ``content``.
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
        if isinstance(data, str | bytes | bytearray | memoryview):
            return _encode_content(data)
        if not isinstance(data, Mapping):
            raise TypeError(f"data must be a mapping of form fields, not {type(data).__name__}")
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


def _quote_param(value: str) -> bytes:
    """A ``name=""`` / ``filename=""`` parameter as browsers write it (WHATWG HTML, form data):
    ``"``, CR and LF are percent-encoded so a name can never end the header line."""
    escaped = value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return b'"' + escaped.encode("utf-8") + b'"'


def _read_file(value: typing.Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if hasattr(value, "read"):
        chunk = value.read()
        return chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
    raise TypeError(f"a file must be bytes, str or a file object, not {type(value).__name__}")


def encode_multipart(
    data: Mapping[str, typing.Any],
    files: typing.Any,
    boundary: bytes | None = None,
) -> tuple[dict[str, str], BytesStream]:
    """A ``multipart/form-data`` body (RFC 7578), built in memory.

    ``files`` maps field names (or is a list of ``(name, file)`` pairs) to a file object,
    ``bytes``, or a tuple ``(filename, file)``, ``(filename, file, content_type)`` or
    ``(filename, file, content_type, headers)``. The content type defaults to a guess from the
    file name, else ``application/octet-stream``. ``data`` fields come first. File objects are
    read whole (open them in binary mode).
    """
    if boundary is None:
        boundary = os.urandom(16).hex().encode("ascii")
    parts: list[bytes] = []
    for key, value in data.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            text = item if isinstance(item, bytes) else _form_value(item).encode("utf-8")
            parts.append(
                b"--%b\r\nContent-Disposition: form-data; name=%b\r\n\r\n%b\r\n"
                % (boundary, _quote_param(str(key)), text)
            )
    file_items = files.items() if isinstance(files, Mapping) else files
    for key, value in file_items:
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
        if content_type is None:
            guessed = mimetypes.guess_type(filename)[0] if filename else None
            content_type = guessed or "application/octet-stream"
        header = b"Content-Disposition: form-data; name=%b" % _quote_param(str(key))
        if filename is not None:
            header += b"; filename=%b" % _quote_param(filename)
        header += b"\r\nContent-Type: %b" % _header_value(content_type)
        for extra_name, extra_value in extra.items():
            header += b"\r\n%b: %b" % (_header_value(extra_name), _header_value(extra_value))
        body = _read_file(fileobj)
        parts.append(b"--%b\r\n%b\r\n\r\n%b\r\n" % (boundary, header, body))
    parts.append(b"--%b--\r\n" % boundary)
    payload = b"".join(parts)
    headers = {
        "Content-Type": "multipart/form-data; boundary=" + boundary.decode("ascii"),
        "Content-Length": str(len(payload)),
    }
    return headers, BytesStream(payload)


def _header_value(value: str) -> bytes:
    raw = value.encode("utf-8")
    if 13 in raw or 10 in raw or 0 in raw:
        raise LocalProtocolError(f"multipart header {value!r} contains CR, LF or NUL")
    return raw
