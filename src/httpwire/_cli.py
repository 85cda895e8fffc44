"""The ``httpwire`` command: a curl / httpie-style client on top of :class:`httpwire.Client`.

    httpwire [METHOD] URL [REQUEST_ITEM ...] [options]

Output depends on where stdout goes (like httpie):

- a terminal: the response status line (coloured by class) and headers, a blank line, then the
  body; JSON bodies are indented (and coloured when ``rich`` is installed:
  ``pip install httpwire[cli]``); binary bodies are not dumped to the terminal;
- a pipe or a file: only the body, as raw bytes (after Content-Encoding decoding), streamed, so
  ``httpwire URL | jq`` and ``httpwire URL > file`` work (``-i`` / ``-I`` add the head first).

Most of curl's everyday flags are accepted with curl's meaning (``-X -I -i -u --digest --netrc
-F -d --data-binary --data-urlencode -G -b -c -C - --max-time --connect-timeout --retry -s -S -f
-w -o -O -L --max-redirs --http1.1 --http2 --http2-prior-knowledge --unix-socket --resolve
--cacert -k -x --compressed -A -e``), and httpie's request items after the URL
(``Header:value``, ``name==query``, ``name=value``, ``name:=json``, ``field@file``) and
``--session NAME``. docs/cli.md has the table.

Exit status: 0 on any HTTP response (a 404 is a successful exchange), 1 on a transport error
(connect, TLS, timeout, protocol), 2 on a usage error, 6 on too many redirects; 22 with
``-f/--fail`` for a final status >= 400 (curl's code); with ``--check-status``, 3 / 4 / 5 for a
final 3xx / 4xx / 5xx response (httpie's convention).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import ssl
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ._exceptions import (
    ConnectError,
    ConnectTimeout,
    HTTPError,
    InvalidURL,
    PoolTimeout,
    ProxyError,
    ReadTimeout,
    TimeoutException,
    TooManyRedirects,
    TransportError,
    WriteTimeout,
)
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from ._models import Request, Response

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TOO_MANY_REDIRECTS = 6
EXIT_HTTP_ERROR = 22  # curl's code for -f/--fail
EXIT_INTERRUPTED = 130

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_METHOD_WORD = re.compile(r"^[A-Za-z]+$")
_KNOWN_METHODS = {
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "TRACE",
    "CONNECT",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "QUERY",
}
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_CHUNK = 64 * 1024
# Statuses worth another try with --retry (curl's list: "transient" errors).
_RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
_IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"}
_MASKED = {b"authorization", b"proxy-authorization"}
# Separators of httpie's request items, longest first at one position.
_ITEM_SEPARATORS = (":=@", "=@", "==", ":=", "=", "@", ":")


class UsageError(Exception):
    """A bad command line: reported like argparse's own errors, exit status 2."""


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="httpwire",
        usage="%(prog)s [METHOD] URL [REQUEST_ITEM ...] [options]",
        description="Send one HTTP request and show the response (curl's and httpie's flags).",
        epilog=(
            "Request items: 'Header:value', 'name==query', 'name=value' (JSON field, or a form "
            "field with -F), 'name:=raw-json', 'field@file'. Examples: httpwire example.org | "
            "httpwire POST localhost:8000/items name=x count:=3 | httpwire -o file.iso "
            "https://host/file.iso | httpwire -sSf -w '%%{http_code}\\n' -o /dev/null URL"
        ),
    )
    p.add_argument(
        "positionals",
        metavar="[METHOD] URL [ITEM]",
        nargs="*",
        help="HTTP method (default GET, or POST when a body is given), the URL (http:// is "
        "assumed without a scheme), then request items",
    )
    add = p.add_argument
    add("-X", "--request", metavar="METHOD", help="the request method (curl)")
    add("-I", "--head", action="store_true", help="send HEAD and show the response head")
    add("-i", "--include", action="store_true", help="show the response head before the body")
    add(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="add a request header (repeatable); 'NAME:' with no value removes a default header",
    )
    add("-A", "--user-agent", metavar="NAME", help="the User-Agent header")
    add("-e", "--referer", metavar="URL", help="the Referer header")
    add("-u", "--user", metavar="USER[:PASSWORD]", help="Basic auth (asks for a missing password)")
    add("--digest", action="store_true", help="with -u: Digest auth (RFC 7616) instead of Basic")
    add("--basic", action="store_true", help="with -u: Basic auth (the default)")
    add("--netrc", action="store_true", help="take credentials for the host from ~/.netrc")
    add("--netrc-file", metavar="FILE", help="as --netrc, from FILE")
    add(
        "-d",
        "--data",
        action="append",
        default=[],
        metavar="DATA",
        help="request body (repeatable, joined with '&'); @FILE reads a file (CR/LF removed, "
        "as curl), @- reads stdin; Content-Type application/x-www-form-urlencoded",
    )
    add(
        "--data-binary",
        action="append",
        default=[],
        metavar="DATA",
        help="as -d, but @FILE is sent exactly as it is",
    )
    add("--data-raw", action="append", default=[], metavar="DATA", help="as -d, '@' not special")
    add(
        "--data-urlencode",
        action="append",
        default=[],
        metavar="[NAME]=CONTENT|[NAME]@FILE",
        help="as -d, with CONTENT (or FILE's content) percent-encoded",
    )
    add("--json", metavar="JSON", help="JSON request body (@FILE reads a file)")
    add(
        "-F",
        "--form",
        action="append",
        default=[],
        metavar="NAME=CONTENT",
        help="a multipart/form-data field (repeatable): NAME=value, NAME=@FILE[;type=MIME]"
        "[;filename=NAME] (a file, streamed), NAME=<FILE (a field with FILE's content)",
    )
    add("-G", "--get", action="store_true", help="put the -d data in the URL's query, use GET")
    add(
        "-o",
        "--output",
        metavar="FILE",
        help="write the body to FILE ('-' for stdout), with a progress bar on a terminal",
    )
    add("-O", "--remote-name", action="store_true", help="write to a file named as the URL's")
    add(
        "-C",
        "--continue-at",
        metavar="OFFSET|-",
        help="resume a download into -o FILE at OFFSET, '-' for the file's size (Range request, "
        "checked against the server's ETag / Last-Modified)",
    )
    add("-v", "--verbose", action="store_true", help="show what goes on the wire")
    add("-s", "--silent", action="store_true", help="no progress bar, no error messages")
    add("-S", "--show-error", action="store_true", help="with -s, still show errors")
    add("-f", "--fail", action="store_true", help="exit 22 (no body) on a status >= 400")
    add("-w", "--write-out", metavar="FORMAT", help="print FORMAT after the transfer (%%{var})")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--pretty",
        action="store_true",
        help="show head and formatted body even when stdout is not a terminal",
    )
    mode.add_argument(
        "--raw", action="store_true", help="write only the raw body even on a terminal"
    )
    add(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="limit for connecting and for each wait on the network (default: connect 10, "
        "read/write/pool 60)",
    )
    add(
        "-m",
        "--max-time",
        type=float,
        metavar="SECONDS",
        help="limit for the whole exchange, body included",
    )
    add("--connect-timeout", type=float, metavar="SECONDS", help="limit for connecting")
    add("--retry", type=int, default=0, metavar="N", help="retry transient failures N times")
    add(
        "--retry-delay",
        type=float,
        metavar="SECONDS",
        help="wait between retries (default: 1 s, doubling, or the server's Retry-After)",
    )
    add("-k", "--insecure", action="store_true", help="do not verify the server's certificate")
    add("--cacert", metavar="FILE", help="trust the CA certificates in FILE (PEM)")
    add(
        "-E",
        "--cert",
        metavar="FILE",
        help="client certificate: a PEM file with certificate and key",
    )
    add("-L", "--location", "--follow", dest="follow", action="store_true", help="follow redirects")
    add(
        "--max-redirs",
        "--max-redirects",
        dest="max_redirects",
        type=int,
        default=20,
        metavar="N",
        help="with -L, give up after N redirects (default 20)",
    )
    version = p.add_mutually_exclusive_group()
    version.add_argument("--http1.1", dest="http11", action="store_true", help="HTTP/1.1 only")
    version.add_argument("--http2", action="store_true", help="offer HTTP/2 (ALPN, over TLS)")
    version.add_argument(
        "--http2-prior-knowledge",
        dest="http2_prior",
        action="store_true",
        help="speak HTTP/2 at once, also over cleartext (RFC 9113 section 3.3)",
    )
    add("--unix-socket", metavar="PATH", help="connect to this UNIX socket instead")
    add(
        "--resolve",
        action="append",
        default=[],
        metavar="HOST:PORT:ADDRESS",
        help="connect to ADDRESS for HOST:PORT (repeatable); TLS still checks HOST",
    )
    add(
        "-x",
        "--proxy",
        metavar="URL",
        help="send the request through this proxy: http://[user:pass@]host:port, https://..., "
        "socks5://... (default: HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY, like curl)",
    )
    add(
        "--compressed",
        action="store_true",
        help="ask for a compressed response (it is always decoded; this is the default)",
    )
    add(
        "-b",
        "--cookie",
        action="append",
        default=[],
        metavar="'N=V; ...'|FILE",
        help="send cookies: a Cookie string, or a Netscape cookie file to load",
    )
    add("-c", "--cookie-jar", metavar="FILE", help="save the cookies to FILE (Netscape format)")
    add(
        "--session",
        metavar="NAME",
        help="keep headers, cookies and auth between runs in a session file "
        "(under $XDG_CONFIG_HOME/httpwire/sessions/HOST/NAME.json; a path is used as is)",
    )
    add(
        "--check-status",
        action="store_true",
        help="exit with 3, 4 or 5 when the final response is a 3xx, 4xx or 5xx",
    )
    add("--version", action="version", version=f"httpwire {__version__}")
    return p


# -- request construction -------------------------------------------------------------------


@dataclass
class _Items:
    """httpie's request items, sorted by kind."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    query: list[tuple[str, str]] = field(default_factory=list)
    fields: list[tuple[str, Any]] = field(default_factory=list)  # JSON / form fields
    raw_json: bool = False  # a name:=value item was given
    files: list[tuple[str, str, str | None]] = field(default_factory=list)  # name, path, type


def _split_item(item: str) -> tuple[str, str, str] | None:
    """``(name, separator, value)`` of a request item, or None when it is not one."""
    best: tuple[int, int, str] | None = None
    for sep in _ITEM_SEPARATORS:
        at = item.find(sep)
        if at > 0 and (best is None or at < best[0] or (at == best[0] and len(sep) > best[1])):
            best = (at, len(sep), sep)
    if best is None:
        return None
    at, size, sep = best
    return item[:at], sep, item[at + size :]


def _looks_like_item(text: str) -> bool:
    if _HAS_SCHEME.match(text):
        return False
    split = _split_item(text)
    if split is None:
        return False
    name, sep, _ = split
    if "/" in name or "?" in name:  # 'host/path?a=b' is a URL
        return False
    if sep == ":":  # a header: 'localhost:8000/x' is a URL, not a header
        return bool(_TOKEN.match(name)) and not text[len(name) + 1 :].lstrip()[:1].isdigit()
    return True


def _read_file(path: str, what: str) -> bytes:
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {what} file {path!r}: {exc.strerror or exc}") from exc


def _parse_items(raw: list[str]) -> _Items:
    items = _Items()
    for text in raw:
        split = _split_item(text)
        if split is None:
            raise UsageError(
                f"{text!r} is not a request item (Header:value, name==query, name=value, "
                "name:=json, field@file)"
            )
        name, sep, value = split
        if sep == ":":
            if not _TOKEN.match(name):
                raise UsageError(f"invalid header name in {text!r}")
            if value.strip():
                items.headers.append((name, value.strip()))
            else:
                items.remove.append(name)
        elif sep == "==":
            items.query.append((name, value))
        elif sep == "=":
            items.fields.append((name, value))
        elif sep == "=@":
            items.fields.append((name, _read_file(value, name).decode("utf-8", "replace")))
        elif sep in (":=", ":=@"):
            raw_json = _read_file(value, name) if sep == ":=@" else value.encode()
            try:
                items.fields.append((name, json.loads(raw_json)))
            except ValueError as exc:
                raise UsageError(f"{name}:= is not valid JSON: {exc}") from exc
            items.raw_json = True
        else:  # "@": a file upload
            path, _, mime = value.partition(";type=")
            items.files.append((name, path, mime or None))
    return items


def _split_positionals(args: argparse.Namespace) -> tuple[str | None, str, list[str]]:
    pos = list(args.positionals)
    if not pos:
        raise UsageError("the URL is missing")
    method: str | None = None
    if len(pos) >= 2 and _METHOD_WORD.match(pos[0]):
        # 'GET url', 'delete url'; but 'localhost a=1' is a URL and an item (httpie's rule).
        word = pos[0]
        known = word.upper() in _KNOWN_METHODS or word.isupper()
        if known and (word.isupper() or not _looks_like_item(pos[1])):
            method = word.upper()
            pos.pop(0)
    url = pos.pop(0)
    if not url:
        raise UsageError("the URL is empty")
    if not _HAS_SCHEME.match(url):
        url = "http://" + url.removeprefix("//")
    return method, url, pos


def _parse_headers(values: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Split ``-H`` values into headers to send and default header names to remove."""
    add: list[tuple[str, str]] = []
    remove: list[str] = []
    for item in values:
        name, sep, value = item.partition(":")
        name = name.strip()
        if not sep or not name or not _TOKEN.match(name):
            raise UsageError(f"invalid header {item!r}: expected 'Name: value'")
        value = value.strip()
        if value:
            add.append((name, value))
        else:
            remove.append(name)
    return add, remove


def _read_arg(value: str, what: str) -> bytes:
    if value.startswith("@"):
        return _read_file(value[1:], what)
    return value.encode("utf-8")


def _urlencode_item(item: str) -> bytes:
    """curl's --data-urlencode forms: content, =content, name=content, @file, name@file."""
    quote = urllib.parse.quote_plus
    eq, at = item.find("="), item.find("@")
    if eq != -1 and (at == -1 or eq < at):
        name, content = item[:eq], item[eq + 1 :]
        encoded = quote(content)
        return (f"{name}={encoded}" if name else encoded).encode()
    if at != -1:
        name, path = item[:at], item[at + 1 :]
        encoded = quote(_read_file(path, "--data-urlencode"))  # the bytes as they are
        return (f"{name}={encoded}" if name else encoded).encode()
    return quote(item).encode()


@dataclass
class _Body:
    """A request body: bytes, or the library's multipart stream (files read as it is sent)."""

    content: bytes | None = None
    stream: Any = None  # a MultipartStream: iterable of bytes, replayable
    length: int | None = 0
    headers: list[tuple[str, str]] = field(default_factory=list)


def _multipart(
    fields: list[tuple[str, str]], files: list[tuple[str, str, str | None, str]]
) -> _Body:
    """A multipart/form-data body (RFC 7578): ``httpwire``'s own encoder, which streams the
    files from disk with a ``Content-Length`` computed from their sizes."""
    import atexit

    from ._content import encode_multipart

    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    uploads: list[tuple[str, tuple[str, Any, str | None]]] = []
    for name, path, mime, filename in files:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed at exit, after the upload
        except OSError as exc:
            raise UsageError(f"cannot read file {path!r}: {exc.strerror or exc}") from exc
        atexit.register(handle.close)
        uploads.append((name, (filename, handle, mime)))
    headers, stream = encode_multipart(data, uploads)
    length = headers.get("Content-Length")
    return _Body(
        stream=stream,
        length=int(length) if length is not None else None,
        headers=[("Content-Type", headers["Content-Type"])],
    )


def _form_option(item: str) -> tuple[str, str | None, str | None, str | None]:
    """curl's -F NAME=CONTENT: ``(name, value, file path, type)``; filename= is folded in."""
    name, sep, content = item.partition("=")
    if not sep or not name:
        raise UsageError(f"-F {item!r}: expected NAME=CONTENT")
    if content.startswith("@"):
        path, *params = content[1:].split(";")
        mime = None
        for param in params:
            key, _, val = param.partition("=")
            if key.strip() == "type":
                mime = val.strip()
        return name, None, path, mime
    if content.startswith("<"):
        return name, _read_file(content[1:], "-F").decode("utf-8", "replace"), None, None
    return name, content, None, None


def _body(args: argparse.Namespace, items: _Items) -> _Body:
    """The request body and the headers it implies (a user's -H wins over these)."""
    kinds = [
        bool(args.json is not None),
        bool(args.data or args.data_binary or args.data_raw or args.data_urlencode),
        bool(args.form),
    ]
    if sum(kinds) > 1:
        raise UsageError("use only one of --json, -d/--data*, -F/--form")
    if args.json is not None:
        if items.fields or items.files:
            raise UsageError("--json and name=value items cannot be combined")
        raw = _read_arg(args.json, "--json")
        try:
            json.loads(raw)
        except ValueError as exc:
            raise UsageError(f"--json is not valid JSON: {exc}") from exc
        return _Body(
            content=raw,
            headers=[("Content-Type", "application/json"), ("Accept", "application/json")],
        )
    if kinds[1]:
        if items.fields or items.files:
            raise UsageError("-d and name=value items cannot be combined")
        pieces: list[bytes] = []
        for value in args.data:
            if value.startswith("@"):
                pieces.append(
                    _read_file(value[1:], "--data").replace(b"\r", b"").replace(b"\n", b"")
                )
            else:
                pieces.append(value.encode())
        pieces += [_read_arg(v, "--data-binary") for v in args.data_binary]
        pieces += [v.encode() for v in args.data_raw]
        pieces += [_urlencode_item(v) for v in args.data_urlencode]
        return _Body(
            content=b"&".join(pieces),
            headers=[("Content-Type", "application/x-www-form-urlencoded")],
        )
    if args.form or items.files:
        fields = [(n, str(v) if not isinstance(v, str) else v) for n, v in items.fields]
        files = [(n, p, m, os.path.basename(p)) for n, p, m in items.files]
        for option in args.form:
            name, value, path, mime = _form_option(option)
            if path is None:
                fields.append((name, value or ""))
            else:
                files.append((name, path, mime, os.path.basename(path)))
        return _multipart(fields, files)
    if items.fields:
        doc = dict(items.fields)
        raw = json.dumps(doc, ensure_ascii=False).encode()
        return _Body(
            content=raw,
            headers=[("Content-Type", "application/json"), ("Accept", "application/json")],
        )
    return _Body()


# -- output ---------------------------------------------------------------------------------


def _want_colour(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR") or not _isatty(stream):
        return False
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _field_lines(raw: list[tuple[bytes, bytes]]) -> list[str]:
    lines = []
    for name, value in raw:
        if name.lower() in _MASKED:
            scheme = value.split(b" ", 1)[0]
            value = scheme + b" ****" if b" " in value else b"****"
        lines.append(f"{name.decode('latin-1')}: {value.decode('latin-1')}")
    return lines


def _request_head(request: Request, http2: bool = False) -> list[str]:
    """The request as it goes on the wire: the request-target as sent (absolute-form through
    a proxy, authority-form for CONNECT), or HTTP/2's pseudo-header fields (RFC 9113 8.3.1)."""
    if http2:
        url = request.url
        lines = [
            f":method: {request.method}",
            f":scheme: {url.scheme}",
            f":authority: {url.netloc.decode('ascii', 'replace')}",
            f":path: {url.raw_path.decode('ascii', 'replace')}",
        ]
        hop = {b"host", b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding"}
        fields = [(k.lower(), v) for k, v in request.headers.raw if k.lower() not in hop]
        return lines + _field_lines(fields)
    target = request.extensions.get("target") or request.url.raw_path
    lines = [f"{request.method} {target.decode('ascii', 'replace')} HTTP/1.1"]
    return lines + _field_lines(request.headers.raw)


def _status_line(http_version: str, status: int, reason: str) -> str:
    return f"{http_version} {status} {reason}".rstrip()


def _response_head(response: Response) -> list[str]:
    lines = [_status_line(response.http_version, response.status_code, response.reason_phrase)]
    return lines + _field_lines(response.headers.raw)


def _status_style(status: int) -> str:
    if status >= 400:
        return "bold red"
    if status >= 300:
        return "bold yellow"
    if status >= 200:
        return "bold green"
    return "bold cyan"


class _Printer:
    """Writes heads and bodies to a text stream, coloured with rich when it is a terminal."""

    def __init__(self, stream: IO[str], colour: bool) -> None:
        self.stream = stream
        self.console: Any = None
        if colour:
            from rich.console import Console

            self.console = Console(file=stream, highlight=False, soft_wrap=True)

    def head(self, lines: list[str], *, status: int | None = None, prefix: str = "") -> None:
        if self.console is None:
            self.stream.write("".join(f"{prefix}{line}\n" for line in lines) + "\n")
            self.stream.flush()
            return
        from rich.text import Text

        style = "bold cyan" if status is None else _status_style(status)
        self.console.print(Text(prefix + lines[0], style=style))
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.console.print(Text.assemble(prefix, (name, "blue"), ":", value))
        self.console.print()

    def info(self, text: str) -> None:
        if self.console is None:
            self.stream.write(f"* {text}\n")
            self.stream.flush()
        else:
            from rich.text import Text

            self.console.print(Text(f"* {text}", style="dim"))

    def body_text(self, text: str) -> None:
        if self.console is None:
            self.stream.write(text if text.endswith("\n") or not text else text + "\n")
            self.stream.flush()
        else:
            self.console.print(text, markup=False, end="" if text.endswith("\n") else "\n")

    def body_json(self, data: Any) -> None:
        formatted = json.dumps(data, indent=4, ensure_ascii=False)
        if self.console is None:
            self.body_text(formatted)
        else:
            from rich.syntax import Syntax

            self.console.print(Syntax(formatted, "json", theme="ansi_dark", word_wrap=True))

    def note(self, text: str) -> None:
        self.body_text(f"[{text}]")


def _is_json_type(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _print_body(response: Response, printer: _Printer) -> None:
    content = response.content
    if not content:
        return
    content_type = response.headers.get("content-type") or ""
    if _is_json_type(content_type):
        try:
            printer.body_json(json.loads(content))
            return
        except ValueError:
            pass  # not JSON after all: show it as text below
    textual = content_type.lower().startswith(_TEXT_TYPES) or _is_json_type(content_type)
    if not textual and b"\0" in content[:8192]:
        printer.note(f"binary body, {len(content)} bytes: use -o FILE to save it")
        return
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError, HTTPError):
        printer.note(f"binary body, {len(content)} bytes: use -o FILE to save it")
        return
    printer.body_text(text)


@contextmanager
def _progress(
    stream: IO[str], enabled: bool, label: str, total: int | None
) -> Iterator[Callable[[int], None]]:
    """Yields ``update(completed_bytes)``; draws a rich bar on ``stream`` when enabled."""
    if not enabled:
        yield lambda completed: None
        return
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
    except ImportError:
        yield lambda completed: None
        return
    columns = (
        TextColumn(f"[bold blue]{label}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream), transient=False) as bar:
        task = bar.add_task(label, total=total)
        last = [0]

        def update(completed: int) -> None:
            last[0] = completed
            bar.update(task, completed=completed)

        yield update
        bar.update(task, completed=last[0], total=total if total is not None else last[0])


# -- cookies and sessions ----------------------------------------------------------------------


def _cookie_records(cookies: Any) -> list[tuple[str, str, str, str, bool, float | None]]:
    """``(domain, path, name, value, secure, expires)`` of every cookie in the client's jar
    (``Cookies.jar``, an ``http.cookiejar.CookieJar``)."""
    return [(c.domain, c.path, c.name, c.value or "", c.secure, c.expires) for c in cookies.jar]


def _load_cookie_file(path: str, cookies: Any) -> None:
    import http.cookiejar

    jar = http.cookiejar.MozillaCookieJar(path)
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except (OSError, http.cookiejar.LoadError) as exc:
        raise UsageError(f"cannot read the cookie file {path!r}: {exc}") from exc
    now = time.time()
    for cookie in jar:
        if cookie.expires and cookie.expires < now:  # 0: a session cookie, as curl writes it
            continue
        cookies.set(
            cookie.name, cookie.value or "", domain=cookie.domain.lstrip("."), path=cookie.path
        )


def _save_cookie_file(path: str, cookies: Any) -> None:
    """The jar in the Netscape format curl and ``http.cookiejar.MozillaCookieJar`` read."""
    lines = ["# Netscape HTTP Cookie File", "# written by httpwire", ""]
    for domain, cpath, name, value, secure, expires in _cookie_records(cookies):
        subdomains = "TRUE" if domain.startswith(".") else "FALSE"
        lines.append(
            "\t".join(
                [
                    domain,
                    subdomains,
                    cpath or "/",
                    "TRUE" if secure else "FALSE",
                    str(int(expires)) if expires else "0",
                    name,
                    value,
                ]
            )
        )
    try:
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the cookie jar {path!r}: {exc.strerror or exc}") from exc


def _session_path(name: str, url: str) -> Path:
    if os.sep in name or name.endswith(".json"):
        return Path(name).expanduser()
    if not re.match(r"^[A-Za-z0-9_.-]+$", name):
        raise UsageError(f"invalid session name {name!r}: letters, digits, '_', '-', '.'")
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "localhost") + (f"_{parts.port}" if parts.port else "")
    return Path(base) / "httpwire" / "sessions" / host / f"{name}.json"


def _load_session(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read session {str(path)!r}: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _save_session(
    path: Path, old: dict[str, Any], headers: list[tuple[str, str]], auth: Any, cookies: Any
) -> None:
    skip = {"content-type", "content-length", "cookie", "host", "transfer-encoding"}
    kept = dict(old.get("headers") or {})
    for name, value in headers:
        if name.lower() not in skip and not name.lower().startswith("if-"):
            kept[name] = value
    data = {
        "__meta__": {"about": "httpwire session file", "httpwire": __version__},
        "headers": kept,
        "cookies": [
            {"domain": d, "path": p, "name": n, "value": v, "secure": s, "expires": e}
            for d, p, n, v, s, e in _cookie_records(cookies)
        ],
        "auth": auth if auth is not None else old.get("auth"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it may hold credentials
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=4)
        f.write("\n")
    os.replace(tmp, path)


# -- auth -------------------------------------------------------------------------------------


def _credentials(args: argparse.Namespace, url: str) -> dict[str, str] | None:
    """``{"type": "basic"|"digest", "username", "password"}`` from -u or .netrc, or None."""
    kind = "digest" if args.digest else "basic"
    if args.user is not None:
        user, sep, password = args.user.partition(":")
        if not sep:
            password = getpass.getpass(f"password for {user}: ")
        return {"type": kind, "username": user, "password": password}
    if args.netrc or args.netrc_file:
        import netrc

        host = urllib.parse.urlsplit(url).hostname or ""
        try:
            found = netrc.netrc(args.netrc_file).authenticators(host)
        except FileNotFoundError:
            found = None
        except (OSError, netrc.NetrcParseError) as exc:
            raise UsageError(f"cannot read the netrc file: {exc}") from exc
        if found is None:
            return None
        login, _, password = found
        return {"type": kind, "username": login or "", "password": password or ""}
    return None


def _auth_object(creds: dict[str, str] | None) -> Any:
    if creds is None:
        return None
    if creds.get("type") == "digest":
        from ._auth import DigestAuth

        return DigestAuth(creds["username"], creds["password"])
    return (creds["username"], creds["password"])


# -- transport --------------------------------------------------------------------------------


def _parse_resolve(values: list[str]) -> dict[tuple[str, int], str]:
    table: dict[tuple[str, int], str] = {}
    for value in values:
        host, sep1, rest = value.partition(":")
        port, sep2, address = rest.partition(":")
        if not (sep1 and sep2 and host and port.isdigit() and address):
            raise UsageError(f"--resolve {value!r}: expected HOST:PORT:ADDRESS")
        table[(host.lower(), int(port))] = address.strip("[]")
    return table


def _check_numbers(args: argparse.Namespace) -> None:
    """``UsageError`` for a negative --max-redirs or --retry, or a time limit that is not > 0
    (--retry-delay may be 0)."""
    if args.max_redirects < 0:
        raise UsageError("--max-redirs must be >= 0")
    for name in ("timeout", "max_time", "connect_timeout", "retry_delay"):
        value = getattr(args, name)
        if value is not None and not value > 0 and not (name == "retry_delay" and value == 0):
            raise UsageError(f"--{name.replace('_', '-')} must be a number of seconds > 0")
    if args.retry < 0:
        raise UsageError("--retry must be >= 0")


def _method_and_query(
    args: argparse.Namespace, method: str | None, items: _Items, body: _Body
) -> tuple[str, list[tuple[str, str]], _Body]:
    """The request method (-X, -I, -G, else POST with a body and GET without), the query items
    to add (``name==value`` items, and the body's with -G), and the body (none with -G)."""
    if args.request:
        if not _TOKEN.match(args.request):
            raise UsageError(f"invalid HTTP method {args.request!r}")
        method = args.request.upper()
    if args.head:
        method = method or "HEAD"
    query = list(items.query)
    if args.get:
        if body.content:
            query += urllib.parse.parse_qsl(body.content.decode(), keep_blank_values=True)
        body = _Body()
        method = method or "GET"
    has_body = body.content is not None or body.stream is not None
    if method is None:
        method = "POST" if has_body else "GET"
    return method, query, body


def _user_headers(
    args: argparse.Namespace, items: _Items
) -> tuple[list[tuple[str, str]], list[str]]:
    """The headers the user set (-H, ``Header:value`` items, -A, -e, --compressed), and the
    names of those to remove (``Header:`` with no value)."""
    user_headers, remove = _parse_headers(args.header)
    user_headers += items.headers
    remove += items.remove
    if args.user_agent is not None:
        user_headers.append(("User-Agent", args.user_agent))
    if args.referer is not None:
        user_headers.append(("Referer", args.referer))
    if args.compressed:
        from ._decoders import ACCEPT_ENCODING

        user_headers.append(("Accept-Encoding", ACCEPT_ENCODING))
    return user_headers, remove


def _merged_headers(
    body: _Body,
    session: dict[str, Any],
    user_headers: list[tuple[str, str]],
    remove: list[str],
) -> list[tuple[str, str]]:
    """The request's headers: the body's, then the session's, then the user's; a name set (or
    removed) later drops the earlier ones of that name."""
    user_names = {name.lower() for name, _ in user_headers} | {n.lower() for n in remove}
    session_headers = [
        (n, v) for n, v in (session.get("headers") or {}).items() if n.lower() not in user_names
    ]
    names = user_names | {n.lower() for n, _ in session_headers}
    headers = [(n, v) for n, v in body.headers if n.lower() not in names]
    return headers + session_headers + user_headers


def _make_client(
    args: argparse.Namespace, hooks: dict[str, list[Callable[..., Any]]], auth: Any
) -> Any:
    """The sync ``Client`` for the command line's TLS, timeout, proxy and redirect options;
    ``UsageError`` for an unreadable --cacert / --cert or a bad proxy."""
    from ._sync._client import Client

    verify: Any = True
    if args.insecure:
        verify = False
    elif args.cacert:
        verify = args.cacert
    timeout_config: Any = args.timeout  # seconds for every limit, or None: the defaults
    if args.connect_timeout is not None:
        from ._config import DEFAULT_TIMEOUT

        base = _timeout_dict(DEFAULT_TIMEOUT if args.timeout is None else args.timeout)
        timeout_config = {**base, "connect": args.connect_timeout}
    options: dict[str, Any] = {} if timeout_config is None else {"timeout": timeout_config}
    try:
        transport = _make_transport(args, verify)
        if transport is not None:
            options["transport"] = transport
        return Client(
            verify=verify,
            cert=args.cert,
            http2=bool(args.http2),
            follow_redirects=args.follow,
            max_redirects=args.max_redirects,
            event_hooks=hooks,
            proxy=args.proxy,
            auth=auth,
            **options,
        )
    except OSError as exc:  # --cacert / --cert: missing or unreadable file, bad PEM (SSLError)
        raise UsageError(f"TLS setup failed: {exc}") from exc
    except (ValueError, ImportError) as exc:  # a bad --proxy or proxy variable
        raise UsageError(str(exc)) from exc


def _resume_from(
    args: argparse.Namespace,
    to_stdout: bool,
    output_path: str | None,
    headers: list[tuple[str, str]],
) -> int:
    """-C's byte offset (``-``: the output file's size), adding ``Range`` (and ``If-Range``
    from the file's saved validator) to ``headers`` when it is not 0."""
    if args.continue_at is None:
        return 0
    if to_stdout or output_path is None:
        raise UsageError("-C needs -o FILE (or -O)")
    resume_from = 0
    if args.continue_at == "-":
        try:
            resume_from = os.path.getsize(output_path)
        except OSError:
            resume_from = 0
    elif args.continue_at.isdigit():
        resume_from = int(args.continue_at)
    else:
        raise UsageError("-C takes a byte offset or '-'")
    if resume_from:
        headers.append(("Range", f"bytes={resume_from}-"))
        validator = _read_validator(output_path)
        if validator:
            headers.append(("If-Range", validator))
    return resume_from


def _make_transport(args: argparse.Namespace, verify: Any) -> Any:
    """A pool of our own when a flag needs what ``Client`` does not expose; else None."""
    if not (args.http2_prior or args.unix_socket or args.resolve):
        return None
    from ._backends.sync import NetworkBackend
    from ._ssl import create_ssl_context
    from ._sync._pool import ConnectionPool

    table = _parse_resolve(args.resolve)
    backend = None
    if table:

        class _Resolving(NetworkBackend):
            def connect(self, host: str, port: int, *rest: Any, **kw: Any) -> Any:
                return super().connect(table.get((host.lower(), port), host), port, *rest, **kw)

        backend = _Resolving()
    http2 = bool(args.http2 or args.http2_prior)
    return ConnectionPool(
        ssl_context=create_ssl_context(verify, cert=args.cert, http2=http2),
        http1=not args.http2_prior,
        http2=http2,
        uds=args.unix_socket,
        proxy=args.proxy,
        backend=backend,
    )


# -- errors -----------------------------------------------------------------------------------


def _root_cause(exc: BaseException) -> BaseException:
    seen = 0
    while seen < 10:
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            return exc
        exc = nxt
        seen += 1
    return exc


def _describe(exc: BaseException, host: str, port: int, max_time: float | None) -> str:
    """One line: what failed, naming the host the user typed, with a hint where one helps."""
    where = f"{host}:{port}"
    cause = _root_cause(exc)
    if isinstance(cause, ssl.SSLCertVerificationError) or (
        isinstance(cause, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(cause)
    ):
        reason = getattr(cause, "verify_message", "") or "verification failed"
        return (
            f"TLS: the certificate of {host} is not trusted ({reason}); "
            "pass its CA with --cacert FILE, or skip the check with -k"
        )
    if isinstance(exc, TimeoutException):
        if max_time is not None and isinstance(exc, ReadTimeout | WriteTimeout | ConnectTimeout):
            return f"{type(exc).__name__}: gave up on {where} after --max-time {max_time:g} s"
        kind = {
            ConnectTimeout: "connecting to",
            ReadTimeout: "waiting for data from",
            WriteTimeout: "sending to",
            PoolTimeout: "waiting for a connection to",
        }.get(type(exc), "talking to")
        return f"{type(exc).__name__}: timed out {kind} {where}"
    if isinstance(exc, ProxyError):
        return f"ProxyError: {exc}"
    if isinstance(exc, ConnectError):
        text = str(exc)
        match = re.match(r"^could not connect to \S+: (?:\S+:\d+: )*(.*)$", text)
        reason = match.group(1) if match else ""
        if isinstance(cause, ConnectionRefusedError) or "refused" in reason.lower():
            return (
                f"ConnectError: could not connect to {where}: connection refused "
                "(is a server listening on that port?)"
            )
        import socket

        if isinstance(cause, socket.gaierror):
            return f"ConnectError: could not resolve host {host!r}: {cause.strerror or cause}"
        if isinstance(cause, ssl.SSLError):
            return f"ConnectError: TLS with {host} failed: {cause.reason or cause}"
        if isinstance(cause, OSError) and cause.strerror:
            return f"ConnectError: could not connect to {where}: {cause.strerror}"
        if reason:
            return f"ConnectError: could not connect to {where}: {reason}"
    message = str(exc)
    # The layers below may repeat the address ("...to h:p: h:p: ..."): say it once.
    message = re.sub(r"(\S+:\d+): \1: ", r"\1: ", message)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


# -- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = _build_parser()
    try:
        args = parser.parse_intermixed_args(argv)
    except SystemExit as exc:  # argparse: --help / --version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    stderr = sys.stderr
    quiet = args.silent and not args.show_error
    run = _Run(args)
    try:
        return run.execute()
    except UsageError as exc:
        parser.print_usage(stderr)
        stderr.write(f"httpwire: error: {exc}\n")
        return EXIT_USAGE
    except InvalidURL as exc:
        if not quiet:
            stderr.write(f"httpwire: error: InvalidURL: {exc}\n")
        return EXIT_USAGE
    except TooManyRedirects as exc:
        if not quiet:
            stderr.write(f"httpwire: error: TooManyRedirects: {exc}\n")
        return EXIT_TOO_MANY_REDIRECTS
    except (TransportError, HTTPError) as exc:
        run.write_out(None)
        if not quiet:
            stderr.write(f"httpwire: error: {_describe(exc, run.host, run.port, args.max_time)}\n")
        stderr.flush()
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (``httpwire URL | head``): point stdout at devnull so the
        # interpreter's final flush does not raise again, and stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_ERROR
    except KeyboardInterrupt:
        stderr.write("\n")
        return EXIT_INTERRUPTED


class _Run:
    """One invocation: builds the request, sends it (with retries), writes the output."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.host = ""
        self.port = 0
        self.started = time.monotonic()
        self.response: Response | None = None
        self.url_effective = ""
        self.size_upload = 0
        self.size_download = 0
        self.num_redirects = 0
        self.pending_request: Request | None = None  # -v: a request head not yet shown

    # -- -w ---------------------------------------------------------------------------------

    def write_out(self, response: Response | None) -> None:
        fmt = self.args.write_out
        if fmt is None:
            return
        total = time.monotonic() - self.started
        version = ""
        if response is not None:
            version = response.http_version.removeprefix("HTTP/")
            version = "2" if version == "2.0" else version
        values = {
            "http_code": f"{response.status_code:03d}" if response is not None else "000",
            "response_code": f"{response.status_code:03d}" if response is not None else "000",
            "time_total": f"{total:.6f}",
            "size_download": str(self.size_download),
            "size_upload": str(self.size_upload),
            "speed_download": f"{self.size_download / total:.0f}" if total > 0 else "0",
            "http_version": version or "0",
            "url_effective": self.url_effective,
            "content_type": (response.headers.get("content-type") or "") if response else "",
            "num_redirects": str(self.num_redirects),
            "method": response.request.method if response is not None else "",
        }

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            return values.get(name, match.group(0))

        text = fmt.replace("%%", "\0")
        text = re.sub(r"%\{(\w+)\}", sub, text)
        text = text.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")
        sys.stdout.write(text.replace("\0", "%"))
        sys.stdout.flush()

    # -- the request ---------------------------------------------------------------------------

    def execute(self) -> int:
        from ._urls import URL

        args = self.args
        stdout, stderr = sys.stdout, sys.stderr
        method, url, raw_items = _split_positionals(args)
        items = _parse_items(raw_items)
        body = _body(args, items)
        _check_numbers(args)
        method, query, body = _method_and_query(args, method, items, body)

        parsed = URL(url)
        self.host = parsed.host
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if query:
            parsed = parsed.copy_merge_params(query)

        user_headers, remove = _user_headers(args, items)
        session_path = _session_path(args.session, str(parsed)) if args.session else None
        session = _load_session(session_path) if session_path is not None else {}
        creds = _credentials(args, str(parsed))
        if creds is None and isinstance(session.get("auth"), dict):
            creds = session["auth"]
        headers = _merged_headers(body, session, user_headers, remove)

        output_path = args.output
        if args.remote_name and output_path is None:
            output_path = os.path.basename(urllib.parse.unquote(parsed.path)) or "index.html"
        to_stdout = output_path in (None, "-")
        if args.raw:
            pretty = False
        elif args.pretty:
            pretty = True
        else:
            pretty = to_stdout and _isatty(stdout) and output_path is None
        out = _Printer(stdout, _want_colour(stdout) and pretty)
        # Heads shown with -v go where they cannot corrupt a piped body.
        meta = out if pretty else _Printer(stderr, _want_colour(stderr))
        show_bars = _isatty(stderr) and not args.silent

        extensions, hooks = self._extensions_and_hooks(meta)
        client = _make_client(args, hooks, _auth_object(creds))
        resume_from = _resume_from(args, to_stdout, output_path, headers)

        with client:
            self._fill_client(client, remove, session)

            def exchange(may_retry: bool) -> int | None:
                return self._exchange(
                    client,
                    method,
                    parsed,
                    headers,
                    body,
                    extensions,
                    output_path,
                    to_stdout,
                    pretty,
                    out,
                    show_bars,
                    resume_from,
                    may_retry,
                )

            self._with_retries(method, exchange)
            response = self.response
            assert response is not None
            if args.cookie_jar:
                _save_cookie_file(args.cookie_jar, client.cookies)
            if session_path is not None:
                _save_session(session_path, session, user_headers, creds, client.cookies)

        self.write_out(response)
        return self._exit_code(response)

    def _extensions_and_hooks(
        self, meta: _Printer
    ) -> tuple[dict[str, Any], dict[str, list[Callable[..., Any]]]]:
        """The request extensions (``trace`` with -v) and event hooks: -v's heads, and the
        redirect count of ``%{num_redirects}``."""
        extensions: dict[str, Any] = {}
        hooks: dict[str, list[Callable[..., Any]]] = {"request": [], "response": []}
        if self.args.verbose:
            extensions["trace"] = self._tracer(meta)

            def on_request(request: Request) -> None:
                self.pending_request = request

            def on_response(response: Response) -> None:
                if self.pending_request is not None:  # a transport that does not trace
                    meta.head(_request_head(self.pending_request), prefix="> ")
                    self.pending_request = None
                meta.head(_response_head(response), status=response.status_code, prefix="< ")

            hooks["request"].append(on_request)
            hooks["response"].append(on_response)

        def count_redirect(response: Response) -> None:
            if response.is_redirect:
                self.num_redirects += 1

        hooks["response"].append(count_redirect)
        return extensions, hooks

    def _fill_client(self, client: Any, remove: list[str], session: dict[str, Any]) -> None:
        """Drop the default headers named by ``Header:`` / ``-H 'Header:'``, and load the
        session's cookies and -b's (``a=1; b=2`` or a cookie file) into the client's jar."""
        for name in remove:
            if name in client.headers:
                del client.headers[name]
        for cookie in session.get("cookies") or []:
            if isinstance(cookie, dict) and "name" in cookie:
                client.cookies.set(
                    cookie["name"],
                    cookie.get("value", ""),
                    domain=cookie.get("domain", ""),
                    path=cookie.get("path", "/"),
                )
        for value in self.args.cookie:
            if "=" in value:  # 'a=1; b=2': into the jar, so a cookie file's merge with it
                for pair in value.split(";"):
                    name, _, cookie_value = pair.strip().partition("=")
                    if name:
                        client.cookies.set(name, cookie_value, domain=self.host, path="/")
            else:
                _load_cookie_file(value, client.cookies)

    def _with_retries(self, method: str, exchange: Callable[[bool], int | None]) -> None:
        """Run ``exchange(may_retry)`` under --max-time's deadline, again after a transport
        error (a failed connect always; once sent, only an idempotent method) or a retryable
        status it returns, up to --retry times."""
        from ._timeouts import timeout as deadline

        args = self.args
        attempt = 0
        while True:
            limit = None
            if args.max_time is not None:  # counts from the start of the command
                limit = max(0.0, args.max_time - (time.monotonic() - self.started))
            try:
                with deadline(limit):
                    status = exchange(attempt < args.retry)
            except TransportError as exc:
                sent = not isinstance(exc, ConnectError | ConnectTimeout)
                if attempt >= args.retry or (sent and method not in _IDEMPOTENT):
                    raise
                if isinstance(exc, TimeoutException) and args.max_time is not None:
                    raise
                attempt += 1
                self._wait_retry(attempt, None, f"{type(exc).__name__}")
                continue
            if status is not None:
                attempt += 1
                self._wait_retry(attempt, self.response, f"HTTP {status}")
                continue
            return

    def _exit_code(self, response: Response) -> int:
        """The exit status for the final response (--fail, --check-status), with its message."""
        args = self.args
        final = response.status_code
        if args.fail and final >= 400:
            if not (args.silent and not args.show_error):
                sys.stderr.write(
                    f"httpwire: error: the server answered {final} {response.reason_phrase}"
                    f" for {self.url_effective}\n"
                )
            return EXIT_HTTP_ERROR
        if args.check_status and final >= 300:
            code = final // 100
            sys.stderr.write(f"httpwire: warning: HTTP {final} {response.reason_phrase}\n")
            return code if code in (3, 4, 5) else EXIT_ERROR
        return EXIT_OK

    def _wait_retry(self, attempt: int, response: Response | None, what: str) -> None:
        delay = self.args.retry_delay
        if delay is None:
            delay = min(2.0 ** (attempt - 1), 600.0)
            after = response.headers.get("retry-after") if response is not None else None
            if after is not None and after.strip().isdigit():
                delay = min(float(after), 600.0)
        if self.args.max_time is not None:  # the deadline covers the waits too
            left = self.args.max_time - (time.monotonic() - self.started)
            delay = max(0.0, min(delay, left))
        if not self.args.silent:
            sys.stderr.write(
                f"httpwire: warning: {what}; retrying in {delay:.3g} s "
                f"({attempt} of {self.args.retry})\n"
            )
            sys.stderr.flush()
        time.sleep(delay)

    def _upload(self, body: _Body, show_bars: bool) -> Any:
        """The content to send: bytes or the multipart stream as they are, or (when the upload
        bar is drawn) a generator over them that moves the bar."""
        size = len(body.content) if body.content is not None else body.length
        self.size_upload = size or 0
        if not show_bars or (body.stream is None and (size or 0) < _CHUNK):
            return body.content if body.stream is None else body.stream
        source = body.stream
        content = body.content

        def pieces() -> Iterator[bytes]:
            done = 0
            with _progress(sys.stderr, show_bars, "uploading", size) as update:
                if source is not None:
                    chunks: Iterator[bytes] = iter(source)
                else:
                    assert content is not None
                    chunks = (content[i : i + _CHUNK] for i in range(0, len(content), _CHUNK))
                for chunk in chunks:
                    yield chunk
                    done += len(chunk)
                    update(done)

        return pieces()

    def _exchange(
        self,
        client: Any,
        method: str,
        url: Any,
        headers: list[tuple[str, str]],
        body: _Body,
        extensions: dict[str, Any],
        output_path: str | None,
        to_stdout: bool,
        pretty: bool,
        out: _Printer,
        show_bars: bool,
        resume_from: int,
        may_retry: bool,
    ) -> int | None:
        """One attempt; returns a status worth retrying (before any output), else None."""
        args = self.args
        stdout = sys.stdout
        send_headers = list(headers)
        content = self._upload(body, show_bars)
        streamed = content is not None and not isinstance(content, bytes)
        if streamed and body.length is not None:  # known from the files' sizes: not chunked
            send_headers.append(("Content-Length", str(self.size_upload)))
        with client.stream(
            method,
            url,
            content=content,
            headers=send_headers,
            extensions=dict(extensions),
        ) as response:
            self.response = response
            self.url_effective = str(response.url)
            status: int = response.status_code
            if status in _RETRY_STATUSES and may_retry:
                response.read()
                return status
            if args.fail and status >= 400:
                return None
            prefix = b""
            if pretty and not args.verbose:
                out.head(_response_head(response), status=status)
            elif (args.include or args.head) and not args.verbose:
                head = "\r\n".join(_response_head(response)) + "\r\n\r\n"
                prefix = head.encode("latin-1", "replace")  # into -o FILE too, as curl does
            if to_stdout and prefix:
                stdout.buffer.write(prefix)
                stdout.flush()
            if not to_stdout and (method != "HEAD" or prefix):
                assert output_path is not None
                self._download(response, output_path, show_bars, resume_from, prefix)
            elif method == "HEAD":
                return None
            elif pretty:
                response.read()
                self.size_download = response.num_bytes_downloaded
                _print_body(response, out)
            else:
                stdout.flush()
                sink = stdout.buffer
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                sink.flush()
                self.size_download = response.num_bytes_downloaded
        return None

    def _download(
        self, response: Response, path: str, show_bars: bool, resume_from: int, prefix: bytes
    ) -> None:
        args = self.args
        status = response.status_code
        mode = "wb"
        if resume_from:
            if status == 416 and _complete(response, resume_from):
                if not args.silent:
                    sys.stderr.write(f"httpwire: {path} is already complete\n")
                return
            if status == 206:
                start = _content_range_start(response)
                if start != resume_from:
                    raise UsageError(
                        f"the server resumed at byte {start}, not {resume_from}: {path} kept as is"
                    )
                mode = "ab"
            elif not args.silent:
                sys.stderr.write(
                    f"httpwire: the server sent the whole body ({status}): {path} starts over\n"
                )
        _write_validator(path, response)
        try:
            f = open(path, mode)  # noqa: SIM115 - closed below, after the stream
        except OSError as exc:
            raise UsageError(f"cannot write {path!r}: {exc.strerror or exc}") from exc
        length = response.headers.get("content-length")
        total = int(length) if length is not None and length.isdigit() else None
        size = 0
        if prefix and mode == "wb":
            f.write(prefix)
        with f, _progress(sys.stderr, show_bars, "downloading", total) as update:
            for chunk in response.iter_bytes():
                f.write(chunk)
                size += len(chunk)
                update(response.num_bytes_downloaded)
        self.size_download = response.num_bytes_downloaded
        _clear_validator(path)
        if not args.silent and response.request.method != "HEAD":
            sys.stderr.write(f"httpwire: saved {size} bytes to {path}\n")

    def _tracer(self, meta: _Printer) -> Callable[[str, dict[str, Any]], None]:
        """The ``trace`` extension for -v: what went on the wire, as it went."""
        state: dict[str, Any] = {"connect": None}

        def trace(name: str, info: dict[str, Any]) -> None:
            if name == "connection.connect_tcp.started":
                meta.info(f"connecting to {info.get('host')}:{info.get('port')}")
            elif name == "connection.connect_unix_socket.started":
                meta.info(f"connecting to UNIX socket {info.get('path')}")
            elif name == "connection.start_tls.started":
                meta.info(f"TLS handshake with {info.get('server_hostname')}")
            elif name == "connection.start_tls.complete":
                stream = info.get("return_value")
                tls = stream.get_extra_info("ssl_object") if stream is not None else None
                if tls is not None:
                    alpn = tls.selected_alpn_protocol() or "none"
                    meta.info(f"TLS {tls.version()}, {tls.cipher()[0]}, ALPN {alpn}")
            elif name == "http11.send_request_headers.started":
                request = info["request"]
                self.pending_request = None
                state["connect"] = request if request.method == "CONNECT" else None
                meta.head(_request_head(request), prefix="> ")
            elif name == "http2.send_request_headers.started":
                self.pending_request = None
                meta.head(_request_head(info["request"], http2=True), prefix="> ")
            elif name == "http11.receive_response_headers.complete" and state["connect"]:
                event = info.get("return_value")
                state["connect"] = None
                if event is not None:
                    version = "HTTP/" + bytes(event.http_version).decode()
                    reason = bytes(event.reason).decode("latin-1")
                    lines = [_status_line(version, event.status_code, reason)]
                    raw = [(bytes(k), bytes(v)) for k, v in event.headers]
                    meta.head(lines + _field_lines(raw), status=event.status_code, prefix="< ")

        return trace


def _timeout_dict(value: Any) -> dict[str, Any]:
    from ._timeouts import normalize_timeout

    return dict(normalize_timeout(value))


def _complete(response: Response, size: int) -> bool:
    unsatisfied = response.headers.get("content-range") or ""
    return unsatisfied.strip() == f"bytes */{size}"


def _content_range_start(response: Response) -> int | None:
    match = re.match(
        r"^\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*$", response.headers.get("content-range", "")
    )
    return int(match.group(1)) if match else None


def _validator_path(path: str) -> str:
    return path + ".httpwire-resume"


def _read_validator(path: str) -> str | None:
    try:
        with open(_validator_path(path), encoding="utf-8") as f:
            value = f.read().strip()
    except OSError:
        return None
    return value or None


def _write_validator(path: str, response: Response) -> None:
    """Remembers the body's validator while it downloads, for a later -C - (If-Range)."""
    validator = response.headers.get("etag")
    if validator is None or validator.startswith("W/"):  # If-Range needs a strong ETag
        validator = response.headers.get("last-modified")
    if validator is None or response.status_code not in (200, 206):
        return
    try:
        with open(_validator_path(path), "w", encoding="utf-8") as f:
            f.write(validator + "\n")
    except OSError:
        pass


def _clear_validator(path: str) -> None:
    try:
        os.unlink(_validator_path(path))
    except OSError:
        pass
