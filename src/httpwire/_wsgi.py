"""``WSGITransport``: send requests to a WSGI application in-process (sync flavour).

``httpwire.Client(transport=WSGITransport(app))`` calls a Flask / Django / any PEP 3333 app
directly, in the calling thread, without a server or a socket. Both bodies stream: the app
reads ``wsgi.input`` from the request body as it is produced (64 KiB buffer), and the response
body is the app's iterable, consumed as the client reads it (``close()`` is called on it when
the response is closed, as PEP 3333 requires).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from ._models import Request, Response
from ._streams import ByteStream
from ._sync._transports import BaseTransport

__all__ = ["WSGITransport"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_BUFFER = 64 * 1024


class _RequestBody(io.RawIOBase):
    """``wsgi.input``: the request body's chunks as a readable binary file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _WSGIResponseStream(ByteStream):
    """The app's iterable as a body; bytes given to the ``write()`` callable of
    ``start_response`` (PEP 3333's legacy imperative API) come before what follows them."""

    def __init__(
        self, written: list[bytes], first: bytes, rest: Iterator[bytes], result: Iterable[bytes]
    ) -> None:
        self._written = written
        self._first = first
        self._rest = rest
        self._close = getattr(result, "close", None)

    def _drain_written(self) -> Iterator[bytes]:
        while self._written:
            chunk = self._written.pop(0)
            if chunk:
                yield bytes(chunk)

    def __iter__(self) -> Iterator[bytes]:
        yield from self._drain_written()
        if self._first:
            yield self._first
        for chunk in self._rest:
            yield from self._drain_written()
            if chunk:
                yield bytes(chunk)
        yield from self._drain_written()

    def close(self) -> None:
        close, self._close = self._close, None
        if close is not None:
            close()


def _path_info(path: str, script_name: str) -> str:
    """PEP 3333: the request path is SCRIPT_NAME + PATH_INFO, so a path under ``script_name``
    loses that prefix (httpx passes the whole path; an app mounted at ``script_name`` then
    cannot route it). WSGI strings are latin-1 decodings of the path's bytes."""
    if script_name and (path == script_name or path.startswith(script_name.rstrip("/") + "/")):
        path = path[len(script_name.rstrip("/")) :]
    return path.encode("utf-8").decode("latin-1")


class WSGITransport(BaseTransport):
    """Send requests to the WSGI application ``app`` in-process (``httpwire.Client`` only).

    - ``raise_app_exceptions`` (default True): when the app reports an error through
      ``start_response(status, headers, exc_info)``, raise it; with False, return the response
      the app gave with it. An exception the app raises itself always propagates.
    - ``script_name``: ``SCRIPT_NAME`` (where the app is mounted); a request path under it
      gives the rest as ``PATH_INFO`` (PEP 3333), others are passed whole.
    - ``remote_addr``: ``REMOTE_ADDR`` (default ``"127.0.0.1"``).
    - ``wsgi_errors``: the ``wsgi.errors`` text stream (default ``sys.stderr``).

    The environ is PEP 3333's: ``PATH_INFO`` percent-decoded (as WSGI requires: latin-1 str of
    the decoded bytes), ``QUERY_STRING``, ``SERVER_NAME``/``SERVER_PORT`` from the URL, one
    ``HTTP_*`` key per header (repeated headers joined with ``", "``), ``CONTENT_TYPE`` and
    ``CONTENT_LENGTH`` without the prefix, ``wsgi.input_terminated`` True (the input ends with
    the body, so apps may read a chunked upload to its end).
    """

    def __init__(
        self,
        app: WSGIApp,
        raise_app_exceptions: bool = True,
        script_name: str = "",
        remote_addr: str = "127.0.0.1",
        wsgi_errors: TextIO | None = None,
    ) -> None:
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions
        self.script_name = script_name
        self.remote_addr = remote_addr
        self.wsgi_errors = wsgi_errors

    def handle_request(self, request: Request) -> Response:
        """Call the app on ``request``; return the response once its first body bytes (or its
        end) are known. Raises what the app raises (see ``raise_app_exceptions``)."""
        url = request.url
        stream = request.stream
        if not isinstance(stream, ByteStream):
            raise TypeError("WSGITransport needs a sync request body (use httpwire.Client)")
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme,
            "wsgi.input": io.BufferedReader(_RequestBody(iter(stream)), _BUFFER),
            "wsgi.input_terminated": True,
            "wsgi.errors": self.wsgi_errors or sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": self.script_name,
            "PATH_INFO": _path_info(url.path, self.script_name),
            "QUERY_STRING": url.query.decode("ascii"),
            "SERVER_NAME": url.host,
            "SERVER_PORT": str(url.port or _DEFAULT_PORTS.get(url.scheme, 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": self.remote_addr,
        }
        for raw_name, raw_value in request.headers.raw:
            key = raw_name.decode("latin-1").upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            value = raw_value.decode("latin-1")
            environ[key] = f"{environ[key]}, {value}" if key in environ else value

        seen: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], Any]:
            seen["status"] = status
            seen["headers"] = response_headers
            seen["exc_info"] = exc_info
            return written.append

        result = self.app(environ, start_response)
        # A generator app calls start_response when first iterated: take its first non-empty
        # chunk (or its end) now, so that the status and headers are known.
        chunks = iter(result)
        first = b""
        try:
            for chunk in chunks:
                if chunk or written:
                    first = bytes(chunk)
                    break
        except BaseException:
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise
        body = _WSGIResponseStream(written, first, chunks, result)
        if "status" not in seen:
            body.close()
            raise RuntimeError("the WSGI app did not call start_response()")
        exc_info = seen["exc_info"]
        if exc_info and exc_info[0] and self.raise_app_exceptions:
            body.close()
            raise exc_info[1]
        status_code = int(seen["status"].split(None, 1)[0])
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in seen["headers"]]
        return Response(status_code, headers=headers, stream=body)
