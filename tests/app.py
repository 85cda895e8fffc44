"""The ASGI application the integration tests run under uvicorn (plain ASGI, no framework).

Endpoints (all bodies are deterministic so tests can compare bytes exactly):

- ``/``                      a short ``text/plain`` greeting (:data:`HELLO`).
- ``/bytes/{n}``             ``n`` bytes of :func:`pattern` with ``Content-Length``.
- ``/stream/{n}?chunk=K``    the same ``n`` bytes sent in ``K``-byte pieces without
                             ``Content-Length``, so the server uses chunked transfer coding.
- ``/echo``                  returns the request body (with the request's Content-Type, else
                             ``application/octet-stream``); response headers ``x-received-length``,
                             ``x-request-transfer-encoding`` and ``x-request-content-length`` tell
                             how the body was framed on the wire ("" when the header was absent).
- ``/echo-headers``          JSON object of the request headers (lower-case names; repeated
                             fields joined with ", ").
- ``/anything``              JSON: method, path, query, headers, body length and body text.
- ``/json``                  :data:`JSON_DOC` as ``application/json``.
- ``/status/{code}``         that status code.
- ``/redirect/{n}``          ``n`` hops of ``302`` (relative ``Location``; ``?absolute=1`` for
                             absolute URLs), then ``200``.
- ``/redirect-to?url=U&status=S``  one redirect to ``U`` with status ``S`` (default 302).
- ``/gzip``, ``/deflate`` (zlib format; ``?raw=1`` for a raw deflate stream), ``/brotli``,
  ``/zstd``                  :data:`COMPRESSIBLE` encoded with that ``Content-Encoding``.
- ``/stall?seconds=S``       sends the response head, then stalls ``S`` seconds before the body.
- ``/slow-head?seconds=S``   stalls ``S`` seconds before sending anything.
- ``/drip?n=N&delay=D&size=B``  a slow but live chunked body: ``N`` pieces of ``B`` bytes, one
                             every ``D`` seconds.
- ``/client-port``           the client's source port as text (same port = same connection).
- ``/close``                 ``200`` with ``Connection: close`` (the server then closes).
- ``/set-cookie?name=value`` one ``Set-Cookie`` per query parameter.
- ``/cookies``               JSON object of the cookies the request carried.
- ``/small``                 :func:`pattern` (100 bytes), as nginx serves it in ``servers.py``.
- ``/big`` (``/big/{n}``)    ``n`` bytes of :func:`pattern` (default :data:`BIG_SIZE`) with
                             ``ETag``, ``Last-Modified`` and ``Accept-Ranges: bytes``; honours a
                             single ``Range: bytes=A-`` / ``A-B`` (``206``, or ``416``) and
                             ``If-Range`` (a stale validator gets the whole body, ``200``).
- ``/slow?seconds=S&size=B`` a body that trickles: a ``B``-byte piece (default 1) every 0.1 s for
                             ``S`` seconds (default 3), then ``done\n``.
- ``/basic-auth/{user}/{passwd}``  ``200`` with JSON ``{"authenticated": true, "user": ...}`` for
                             the right Basic credentials, else ``401`` with a challenge.
- ``/digest-auth/{qop}/{user}/{passwd}[/{algorithm}]``  the same with Digest (RFC 7616: ``qop``
                             ``auth``, algorithm ``MD5`` (default), ``SHA-256``, or their
                             ``-sess`` forms); the server checks the response hash.

Every stall is capped at :data:`MAX_STALL` seconds and ends early when the client disconnects,
so no request handler outlives its test by much.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import functools
import gzip
import hashlib
import json
import os
import re
import zlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HELLO = b"Hello, httpwire!\n"
JSON_DOC: dict[str, Any] = {
    "message": "hello",
    "numbers": [1, 2, 3],
    "nested": {"ok": True, "none": None},
    "unicode": "h\u00e9llo \u2713",
}
COMPRESSIBLE = b"".join(
    b"line %05d: the quick brown fox jumps over the lazy dog\n" % i for i in range(400)
)
MAX_STALL = 30.0
_PERIOD = 251  # prime, so a shifted or repeated 64 KiB piece never lines up with the pattern


@functools.lru_cache(maxsize=16)
def pattern(n: int) -> bytes:
    """``n`` deterministic bytes (``i % 251`` for i in range(n)): the body of ``/bytes/{n}``."""
    unit = bytes(range(_PERIOD))
    return (unit * (n // _PERIOD + 1))[:n]


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


class _DisconnectWatch:
    """Waits for ``http.disconnect`` in the background so stalls end when the client leaves."""

    def __init__(self, receive: Receive) -> None:
        self.gone = asyncio.Event()
        self._task = asyncio.ensure_future(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.gone.set()
                return

    async def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` (capped at MAX_STALL); True if the client disconnected."""
        try:
            await asyncio.wait_for(self.gone.wait(), timeout=max(0.0, min(seconds, MAX_STALL)))
        except TimeoutError:
            return False
        return True

    def stop(self) -> None:
        self._task.cancel()


async def _start(send: Send, status: int, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})


async def _respond(
    send: Send,
    status: int,
    body: bytes = b"",
    content_type: bytes = b"text/plain; charset=utf-8",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    headers += extra or []
    await _start(send, status, headers)
    await send({"type": "http.response.body", "body": body})


async def _respond_json(send: Send, doc: Any, status: int = 200) -> None:
    body = json.dumps(doc, ensure_ascii=False).encode()
    await _respond(send, status, body, b"application/json")


def _int(text: str | None, default: int, low: int = 0, high: int = 1 << 30) -> int:
    try:
        value = int(text) if text is not None else default
    except ValueError:
        value = default
    return max(low, min(high, value))


def _float(text: str | None, default: float) -> float:
    try:
        value = float(text) if text is not None else default
    except ValueError:
        value = default
    return max(0.0, min(MAX_STALL, value))


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI 3 entry point; see the module docstring for the endpoints."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    parts = path.strip("/").split("/")
    head, arg = parts[0], (parts[1] if len(parts) > 1 else None)
    handler = _ROUTES.get(head)
    if handler is None:
        await _read_body(receive)
        await _respond(send, 404, b"not found: " + path.encode())
        return
    await handler(scope, receive, send, arg)


Handler = Callable[[Scope, Receive, Send, "str | None"], Awaitable[None]]


async def _root(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    await _respond(send, 200, HELLO)


async def _bytes(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    n = _int(arg, 0)
    data = pattern(n)
    await _start(
        send,
        200,
        [(b"content-type", b"application/octet-stream"), (b"content-length", str(n).encode())],
    )
    # Several body messages under one Content-Length, as a real app producing data would.
    step = 1 << 20
    view = memoryview(data)
    for start in range(0, n, step):
        piece = bytes(view[start : start + step])
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _stream(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    n = _int(arg, 0)
    chunk = _int(_query(scope).get("chunk"), 4096, low=1)
    data = pattern(n)
    # No Content-Length: uvicorn frames the body with chunked transfer coding.
    await _start(send, 200, [(b"content-type", b"application/octet-stream")])
    for start in range(0, n, chunk):
        piece = data[start : start + chunk]
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _echo(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    body = await _read_body(receive)
    headers = _headers(scope)
    extra = [
        (b"x-received-length", str(len(body)).encode()),
        (b"x-request-transfer-encoding", headers.get("transfer-encoding", "").encode()),
        (b"x-request-content-length", headers.get("content-length", "").encode()),
        (b"x-request-method", scope["method"].encode()),
    ]
    content_type = headers.get("content-type", "application/octet-stream").encode("latin-1")
    await _respond(send, 200, body, content_type, extra)


async def _echo_headers(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    await _respond_json(send, _headers(scope))


async def _anything(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    body = await _read_body(receive)
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    await _respond_json(
        send,
        {
            "method": scope["method"],
            "path": scope["path"],
            "query": _query(scope),
            "headers": _headers(scope),
            "body_length": len(body),
            "body": text,
            "http_version": scope.get("http_version"),
        },
    )


async def _json(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    await _respond_json(send, JSON_DOC)


async def _status(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    code = _int(arg, 200, low=0, high=999)
    if code < 200 or code > 599:
        await _respond(send, 400, b"status must be 200..599")
    elif code in (204, 304):
        await _start(send, code)
        await send({"type": "http.response.body", "body": b""})
    else:
        await _respond(send, code, b"status %d" % code)


async def _redirect(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    n = _int(arg, 0, high=1000)
    if n == 0:
        await _respond(send, 200, b"redirect done")
        return
    target = f"/redirect/{n - 1}"
    if _query(scope).get("absolute"):
        host = _headers(scope).get("host", "")
        target = f"{scope['scheme']}://{host}{target}?absolute=1"
    await _respond(send, 302, b"", extra=[(b"location", target.encode())])


async def _redirect_to(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    query = _query(scope)
    status = _int(query.get("status"), 302, low=300, high=399)
    location = query.get("url", "/")
    await _respond(send, status, b"", extra=[(b"location", location.encode())])


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


async def _encoded(scope: Scope, send: Send, coding: str) -> None:
    if coding == "gzip":
        body = gzip.compress(COMPRESSIBLE)
    elif coding == "deflate":
        body = (
            _raw_deflate(COMPRESSIBLE) if _query(scope).get("raw") else zlib.compress(COMPRESSIBLE)
        )
    elif coding == "br":
        import brotli  # type: ignore[import-not-found, unused-ignore]

        body = brotli.compress(COMPRESSIBLE)
    else:
        import zstandard  # type: ignore[import-not-found, unused-ignore]

        body = zstandard.ZstdCompressor().compress(COMPRESSIBLE)
    await _respond(send, 200, body, extra=[(b"content-encoding", coding.encode())])


async def _gzip(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    await _encoded(scope, send, "gzip")


async def _deflate(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    await _encoded(scope, send, "deflate")


async def _brotli(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    await _encoded(scope, send, "br")


async def _zstd(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    await _encoded(scope, send, "zstd")


STALL_BODY = b"finally\n"


async def _stall(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    seconds = _float(_query(scope).get("seconds"), 5.0)
    await _start(
        send,
        200,
        [(b"content-type", b"text/plain"), (b"content-length", str(len(STALL_BODY)).encode())],
    )
    watch = _DisconnectWatch(receive)
    try:
        if await watch.sleep(seconds):
            return
    finally:
        watch.stop()
    await send({"type": "http.response.body", "body": STALL_BODY})


async def _slow_head(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    seconds = _float(_query(scope).get("seconds"), 5.0)
    watch = _DisconnectWatch(receive)
    try:
        if await watch.sleep(seconds):
            return
    finally:
        watch.stop()
    await _respond(send, 200, b"slow head done\n")


async def _drip(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    query = _query(scope)
    n = _int(query.get("n"), 10, high=100_000)
    size = _int(query.get("size"), 1, low=1, high=1 << 20)
    delay = _float(query.get("delay"), 0.1)
    if delay > 0:
        n = min(n, int(MAX_STALL * 2 / delay) + 1)  # keeps the whole drip bounded in time
    await _start(send, 200, [(b"content-type", b"application/octet-stream")])
    watch = _DisconnectWatch(receive)
    try:
        for _ in range(n):
            if await watch.sleep(delay):
                return
            await send({"type": "http.response.body", "body": b"*" * size, "more_body": True})
    finally:
        watch.stop()
    await send({"type": "http.response.body", "body": b""})


async def _client_port(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    client = scope.get("client") or ("", 0)
    await _respond(send, 200, str(client[1]).encode())


async def _close(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    await _respond(send, 200, b"closing\n", extra=[(b"connection", b"close")])


async def _set_cookie(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    extra = [
        (b"set-cookie", f"{name}={value}; Path=/".encode("latin-1"))
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
    ]
    await _respond(send, 200, b"cookies set\n", extra=extra)


async def _cookies(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    jar: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name.lower() != b"cookie":
            continue
        for item in value.decode("latin-1").split(";"):
            key, _, val = item.strip().partition("=")
            if key:
                jar[key] = val
    await _respond_json(send, jar)


async def _small(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    await _respond(send, 200, pattern(100), b"application/octet-stream")


BIG_SIZE = 4 << 20
BIG_LAST_MODIFIED = b"Thu, 01 Jan 2026 00:00:00 GMT"
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


async def _big(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    n = _int(arg, BIG_SIZE, high=256 << 20)
    data = pattern(n)
    etag = b'"pattern-%d"' % n
    headers = _headers(scope)
    common = [
        (b"content-type", b"application/octet-stream"),
        (b"etag", etag),
        (b"last-modified", BIG_LAST_MODIFIED),
        (b"accept-ranges", b"bytes"),
    ]
    start, end = 0, n - 1
    status = 200
    match = _RANGE.match(headers.get("range", "").replace(" ", ""))
    if_range = headers.get("if-range")
    fresh = if_range is None or if_range.encode() in (etag, BIG_LAST_MODIFIED)
    if match and fresh:
        start = int(match.group(1))
        if match.group(2):
            end = min(end, int(match.group(2)))
        if start >= n or start > end:
            await _respond(
                send, 416, b"", extra=common[1:] + [(b"content-range", b"bytes */%d" % n)]
            )
            return
        status = 206
        common.append((b"content-range", b"bytes %d-%d/%d" % (start, end, n)))
    body = data[start : end + 1]
    await _start(send, status, common + [(b"content-length", str(len(body)).encode())])
    step = 1 << 20
    for offset in range(0, len(body), step):
        piece = body[offset : offset + step]
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _slow(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    query = _query(scope)
    seconds = _float(query.get("seconds"), 3.0)
    size = _int(query.get("size"), 1, low=1, high=1 << 16)
    await _start(send, 200, [(b"content-type", b"text/plain")])
    watch = _DisconnectWatch(receive)
    try:
        for _ in range(int(seconds / 0.1)):
            if await watch.sleep(0.1):
                return
            await send({"type": "http.response.body", "body": b"." * size, "more_body": True})
    finally:
        watch.stop()
    await send({"type": "http.response.body", "body": b"done\n"})


def _path_args(scope: Scope) -> list[str]:
    return scope["path"].strip("/").split("/")[1:]


async def _basic_auth(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    args = _path_args(scope)
    user, passwd = (args + ["user", "passwd"][len(args) :])[:2]
    want = "Basic " + base64.b64encode(f"{user}:{passwd}".encode()).decode()
    if _headers(scope).get("authorization") == want:
        await _respond_json(send, {"authenticated": True, "user": user})
        return
    challenge = [(b"www-authenticate", b'Basic realm="httpwire demo"')]
    await _respond(send, 401, b"", extra=challenge)


_DIGEST_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
_NONCES: collections.OrderedDict[str, None] = collections.OrderedDict()  # issued, bounded
_MAX_NONCES = 1024
_DIGEST_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def _digest_ok(authorization: str, method: str, user: str, passwd: str, algorithm: str) -> bool:
    """RFC 7616 section 3.4.1: recompute ``response`` from the client's parameters."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "digest":
        return False
    params = {
        m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _DIGEST_PARAM.finditer(rest)
    }
    if params.get("username") != user or params.get("nonce") not in _NONCES:
        return False
    if params.get("algorithm", "MD5").upper() != algorithm.upper():
        return False
    base = algorithm.upper().removesuffix("-SESS")
    h = _DIGEST_HASHES.get(base)
    if h is None:
        return False

    def hx(text: str) -> str:
        return h(text.encode()).hexdigest()

    ha1 = hx(f"{user}:{params.get('realm', '')}:{passwd}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = hx(f"{ha1}:{params['nonce']}:{params.get('cnonce', '')}")
    ha2 = hx(f"{method}:{params.get('uri', '')}")
    if params.get("qop"):
        data = f"{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:"
        data += f"{params['qop']}:{ha2}"
    else:
        data = f"{params['nonce']}:{ha2}"
    return params.get("response") == hx(f"{ha1}:{data}")


async def _digest_auth(scope: Scope, receive: Receive, send: Send, arg: str | None) -> None:
    await _read_body(receive)
    args = _path_args(scope)
    qop, user, passwd = (args + ["auth", "user", "passwd"][len(args) :])[:3]
    algorithm = args[3] if len(args) > 3 else "MD5"
    authorization = _headers(scope).get("authorization", "")
    if authorization and _digest_ok(authorization, scope["method"], user, passwd, algorithm):
        await _respond_json(send, {"authenticated": True, "user": user})
        return
    nonce = os.urandom(16).hex()
    _NONCES[nonce] = None
    while len(_NONCES) > _MAX_NONCES:
        _NONCES.popitem(last=False)
    challenge = (
        f'Digest realm="httpwire demo", qop="{qop}", nonce="{nonce}", '
        f'opaque="{os.urandom(8).hex()}", algorithm={algorithm}'
    )
    await _respond(send, 401, b"", extra=[(b"www-authenticate", challenge.encode())])


_ROUTES: dict[str, Handler] = {
    "small": _small,
    "big": _big,
    "slow": _slow,
    "basic-auth": _basic_auth,
    "digest-auth": _digest_auth,
    "": _root,
    "bytes": _bytes,
    "stream": _stream,
    "echo": _echo,
    "echo-headers": _echo_headers,
    "anything": _anything,
    "json": _json,
    "status": _status,
    "redirect": _redirect,
    "redirect-to": _redirect_to,
    "gzip": _gzip,
    "deflate": _deflate,
    "brotli": _brotli,
    "zstd": _zstd,
    "stall": _stall,
    "slow-head": _slow_head,
    "drip": _drip,
    "client-port": _client_port,
    "close": _close,
    "set-cookie": _set_cookie,
    "cookies": _cookies,
}
