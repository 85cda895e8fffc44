"""The ``httpwire`` command: a small curl / httpie-style client on top of :class:`httpwire.Client`.

    httpwire [METHOD] URL [options]

Output depends on where stdout goes (like httpie):

- a terminal: the response status line and headers, a blank line, then the body; JSON bodies are
  indented (and coloured when ``rich`` is installed: ``pip install httpwire[cli]``); binary
  bodies are not dumped to the terminal;
- a pipe or a file: only the body, as raw bytes (after Content-Encoding decoding), streamed, so
  ``httpwire URL | jq`` and ``httpwire URL > file`` work.

``--pretty`` / ``--raw`` force one mode or the other. ``-v`` also shows the request head and
the head of every response of a redirect chain (on stderr when stdout is not a terminal, as
``curl -v`` does).

Exit status: 0 on any HTTP response (a 404 is a successful exchange), 1 on a transport error
(connect, TLS, timeout, protocol), 2 on a usage error, 6 on too many redirects; with
``--check-status``, 3 / 4 / 5 for a final 3xx / 4xx / 5xx response (httpie's convention).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from ._exceptions import HTTPError, InvalidURL, TooManyRedirects, TransportError
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from ._models import Request, Response

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TOO_MANY_REDIRECTS = 6
EXIT_INTERRUPTED = 130

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


class UsageError(Exception):
    """A bad command line: reported like argparse's own errors, exit status 2."""


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="httpwire",
        usage="%(prog)s [METHOD] URL [options]",
        description="Send one HTTP request and show the response.",
        epilog=(
            "Examples: httpwire example.org | httpwire POST localhost:8000/items --json "
            "'{\"a\": 1}' | httpwire -o file.iso https://host/file.iso"
        ),
    )
    p.add_argument(
        "method_or_url",
        metavar="METHOD",
        help="HTTP method (default GET, or POST when a body is given); may be left out",
    )
    p.add_argument(
        "url",
        metavar="URL",
        nargs="?",
        help="the URL; http:// is assumed when no scheme is given",
    )
    p.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="add a request header (repeatable); 'NAME:' with no value removes a default header",
    )
    body = p.add_mutually_exclusive_group()
    body.add_argument(
        "-d",
        "--data",
        action="append",
        metavar="DATA",
        help="request body (repeatable, joined with '&'); @FILE reads a file, @- reads stdin; "
        "Content-Type defaults to application/x-www-form-urlencoded, as in curl",
    )
    body.add_argument(
        "--json",
        metavar="JSON",
        help="JSON request body (@FILE reads a file); sets Content-Type and Accept to "
        "application/json",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the body to FILE (with a progress bar on a terminal)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print the request head and every response head",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--pretty",
        action="store_true",
        help="show head and formatted body even when stdout is not a terminal",
    )
    mode.add_argument(
        "--raw",
        action="store_true",
        help="write only the raw body even on a terminal",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="limit for connecting and for each wait on the network (default: connect 10, "
        "read/write/pool 60)",
    )
    p.add_argument(
        "-k",
        "--insecure",
        action="store_true",
        help="do not verify the server's TLS certificate",
    )
    p.add_argument("--cacert", metavar="FILE", help="trust the CA certificates in FILE (PEM)")
    p.add_argument(
        "--cert",
        metavar="FILE",
        help="client certificate: a PEM file holding the certificate and its key",
    )
    p.add_argument(
        "-L",
        "--follow",
        action="store_true",
        help="follow redirects",
    )
    p.add_argument(
        "--max-redirects",
        type=int,
        default=20,
        metavar="N",
        help="with --follow, give up after N redirects (default 20)",
    )
    p.add_argument("--http2", action="store_true", help="offer HTTP/2 (needs the h2 package)")
    p.add_argument(
        "-x",
        "--proxy",
        metavar="URL",
        help="send the request through this proxy: http://[user:pass@]host:port, https://..., "
        "socks5://... (default: HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY, like curl)",
    )
    p.add_argument(
        "--check-status",
        action="store_true",
        help="exit with 3, 4 or 5 when the final response is a 3xx, 4xx or 5xx",
    )
    p.add_argument("--version", action="version", version=f"httpwire {__version__}")
    return p


# -- request construction -------------------------------------------------------------------


def _resolve_method_url(args: argparse.Namespace, has_body: bool) -> tuple[str, str]:
    if args.url is None:
        method, url = ("POST" if has_body else "GET"), args.method_or_url
    else:
        method, url = args.method_or_url.upper(), args.url
        if not _TOKEN.match(method):
            raise UsageError(f"invalid HTTP method {args.method_or_url!r}")
    if not url:
        raise UsageError("the URL is empty")
    if not _HAS_SCHEME.match(url):
        url = "http://" + url.removeprefix("//")
    return method, url


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
        path = value[1:]
        try:
            if path == "-":
                return sys.stdin.buffer.read()
            with open(path, "rb") as f:
                return f.read()
        except OSError as exc:
            raise UsageError(f"cannot read {what} file {path!r}: {exc.strerror or exc}") from exc
    return value.encode("utf-8")


def _body(args: argparse.Namespace) -> tuple[bytes | None, list[tuple[str, str]]]:
    """The request body and the headers it implies (a user's -H wins over these)."""
    if args.json is not None:
        raw = _read_arg(args.json, "--json")
        try:
            json.loads(raw)
        except ValueError as exc:
            raise UsageError(f"--json is not valid JSON: {exc}") from exc
        return raw, [("Content-Type", "application/json"), ("Accept", "application/json")]
    if args.data:
        raw = b"&".join(_read_arg(d, "--data") for d in args.data)
        return raw, [("Content-Type", "application/x-www-form-urlencoded")]
    return None, []


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


def _request_head(request: Request) -> list[str]:
    target = request.url.raw_path.decode("ascii", "replace")
    lines = [f"{request.method} {target} HTTP/1.1"]
    lines += [f"{k.decode('latin-1')}: {v.decode('latin-1')}" for k, v in request.headers.raw]
    return lines


def _response_head(response: Response) -> list[str]:
    status = f"{response.http_version} {response.status_code} {response.reason_phrase}".rstrip()
    lines = [status]
    lines += [f"{k.decode('latin-1')}: {v.decode('latin-1')}" for k, v in response.headers.raw]
    return lines


class _Printer:
    """Writes heads and bodies to a text stream, coloured with rich when it is a terminal."""

    def __init__(self, stream: IO[str], colour: bool) -> None:
        self.stream = stream
        self.console: Any = None
        if colour:
            from rich.console import Console

            self.console = Console(file=stream, highlight=False, soft_wrap=True)

    def head(self, lines: list[str], *, request: bool) -> None:
        if self.console is None:
            self.stream.write("\n".join(lines) + "\n\n")
            self.stream.flush()
            return
        from rich.text import Text

        first = Text(lines[0], style="bold cyan" if request else "bold green")
        self.console.print(first)
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.console.print(Text.assemble((name, "blue"), ":", value))
        self.console.print()

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


def _write_raw(response: Response, out: IO[bytes]) -> None:
    for chunk in response.iter_bytes():
        out.write(chunk)
    out.flush()


@contextmanager
def _progress(response: Response, enabled: bool, stream: IO[str]) -> Iterator[Callable[[], None]]:
    """Yields an ``update()`` to call after each chunk; draws a rich bar on stderr if enabled."""
    if not enabled:
        yield lambda: None
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
        yield lambda: None
        return
    total: int | None = None
    length = response.headers.get("content-length")
    if length is not None and length.isdigit():
        total = int(length)  # counts wire bytes, so compare with num_bytes_downloaded
    columns = (
        TextColumn("[bold blue]downloading"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream), transient=False) as bar:
        task = bar.add_task("download", total=total)

        def update() -> None:
            bar.update(task, completed=response.num_bytes_downloaded)

        yield update
        update()


def _download(response: Response, path: str, stderr: IO[str]) -> None:
    show = _isatty(stderr)
    try:
        f = open(path, "wb")  # noqa: SIM115 - closed below, after the stream
    except OSError as exc:
        raise UsageError(f"cannot write {path!r}: {exc.strerror or exc}") from exc
    size = 0
    with f, _progress(response, show, stderr) as update:
        for chunk in response.iter_bytes():
            f.write(chunk)
            size += len(chunk)
            update()
    stderr.write(f"httpwire: saved {size} bytes to {path}\n")


# -- main -----------------------------------------------------------------------------------


def _error(stderr: IO[str], exc: BaseException) -> None:
    message = str(exc)
    name = type(exc).__name__
    stderr.write(
        f"httpwire: error: {name}: {message}\n" if message else f"httpwire: error: {name}\n"
    )
    stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help / --version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    stderr = sys.stderr
    try:
        return _run(args)
    except UsageError as exc:
        parser.print_usage(stderr)
        stderr.write(f"httpwire: error: {exc}\n")
        return EXIT_USAGE
    except InvalidURL as exc:
        _error(stderr, exc)
        return EXIT_USAGE
    except TooManyRedirects as exc:
        _error(stderr, exc)
        return EXIT_TOO_MANY_REDIRECTS
    except (TransportError, HTTPError) as exc:
        _error(stderr, exc)
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


def _run(args: argparse.Namespace) -> int:
    from ._sync._client import Client

    stdout, stderr = sys.stdout, sys.stderr
    content, body_headers = _body(args)
    method, url = _resolve_method_url(args, content is not None)
    user_headers, remove = _parse_headers(args.header)
    if args.max_redirects < 0:
        raise UsageError("--max-redirects must be >= 0")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError("--timeout must be a number of seconds > 0")

    user_names = {name.lower() for name, _ in user_headers} | {n.lower() for n in remove}
    headers = [(n, v) for n, v in body_headers if n.lower() not in user_names] + user_headers

    if args.raw:
        pretty = False
    elif args.pretty:
        pretty = True
    else:
        pretty = _isatty(stdout)
    out = _Printer(stdout, _want_colour(stdout) and pretty)
    # Heads shown with -v go where they cannot corrupt a piped body.
    meta = out if pretty else _Printer(stderr, _want_colour(stderr))

    def on_request(request: Request) -> None:
        meta.head(_request_head(request), request=True)

    def on_response(response: Response) -> None:
        meta.head(_response_head(response), request=False)

    hooks: dict[str, list[Callable[..., Any]]] = {"request": [], "response": []}
    if args.verbose:
        hooks = {"request": [on_request], "response": [on_response]}

    verify: bool | str = True
    if args.insecure:
        verify = False
    elif args.cacert:
        verify = args.cacert
    timeout_option: dict[str, Any] = {} if args.timeout is None else {"timeout": args.timeout}

    try:
        client = Client(
            verify=verify,
            cert=args.cert,
            http2=args.http2,
            follow_redirects=args.follow,
            max_redirects=args.max_redirects,
            event_hooks=hooks,
            proxy=args.proxy,
            **timeout_option,
        )
    except OSError as exc:  # --cacert / --cert: missing or unreadable file, bad PEM (SSLError)
        raise UsageError(f"TLS setup failed: {exc}") from exc
    except (ValueError, ImportError) as exc:  # a bad --proxy or proxy variable
        raise UsageError(str(exc)) from exc
    with client:
        for name in remove:
            if name in client.headers:
                del client.headers[name]
        with client.stream(method, url, content=content, headers=headers) as response:
            if pretty and not args.verbose:
                out.head(_response_head(response), request=False)
            if args.output:
                _download(response, args.output, stderr)
            elif pretty:
                response.read()
                _print_body(response, out)
            else:
                stdout.flush()
                _write_raw(response, stdout.buffer)
            status = response.status_code

    if args.check_status and status >= 300:
        code = status // 100
        stderr.write(f"httpwire: warning: HTTP {status} {response.reason_phrase}\n")
        return code if code in (3, 4, 5) else EXIT_ERROR
    return EXIT_OK
