"""Tests of the ``httpwire`` command (``httpwire._cli.main``).

Most tests swap the client's transport for an in-test double (so they check what the command
sends and prints, not the network); a few run the real stack: against a refused port on
127.0.0.1, against the uvicorn test server, and ``python -m httpwire`` in a subprocess.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_client_unit import MockTransport, Reply

import httpwire._sync._client as client_module
from httpwire._cli import _Printer, main
from httpwire._exceptions import ConnectError, ReadTimeout
from httpwire._models import Request
from httpwire._ssl import create_ssl_context
from httpwire._version import __version__


class Capture:
    """The requests the command sent, through a patched Client."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, handler: Any) -> None:
        self.transport = MockTransport(handler)
        self.client_kwargs: dict[str, Any] = {}
        original = client_module.Client
        capture = self

        class PatchedClient(original):  # type: ignore[valid-type, misc]
            def __init__(self, **kwargs: Any) -> None:
                capture.client_kwargs = dict(kwargs)
                # Build the TLS context as the real default transport would (bad files fail).
                create_ssl_context(kwargs.pop("verify", True), cert=kwargs.pop("cert", None))
                kwargs.pop("http2", None)
                super().__init__(transport=capture.transport, **kwargs)

        monkeypatch.setattr(client_module, "Client", PatchedClient)

    @property
    def request(self) -> Request:
        return self.transport.requests[-1]


JSON_BODY = b'{"name": "httpwire", "tags": ["a", "b"], "n": 1}'


def json_reply(request: Request, body: bytes) -> Reply:
    return 200, [("Content-Type", "application/json"), ("X-Server", "mock")], JSON_BODY


def test_piped_output_is_the_raw_body(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    cap = Capture(monkeypatch, json_reply)
    assert main(["example.org/path?q=1"]) == 0
    out, err = capsysbinary.readouterr()
    assert out == JSON_BODY  # no head, no reformatting
    assert err == b""
    assert cap.request.method == "GET"
    assert str(cap.request.url) == "http://example.org/path?q=1"


def test_pretty_output(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    Capture(monkeypatch, json_reply)
    assert main(["--pretty", "http://h/"]) == 0
    out = capsys.readouterr().out
    head, _, body = out.partition("\n\n")
    assert head.splitlines()[0] == "HTTP/1.1 200 OK"
    assert "X-Server: mock" in head.splitlines()
    assert json.loads(body) == json.loads(JSON_BODY)
    assert '\n    "name": "httpwire"' in body  # indented


def test_pretty_binary_body_is_not_dumped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def binary(request: Request, body: bytes) -> Reply:
        return 200, [("Content-Type", "application/octet-stream")], b"\x00\x01\x02" * 10

    Capture(monkeypatch, binary)
    assert main(["--pretty", "http://h/"]) == 0
    out = capsys.readouterr().out
    assert "binary body, 30 bytes" in out and "\x00" not in out


def test_coloured_json_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    printer = _Printer(stream, colour=True)
    printer.head(["HTTP/1.1 200 OK", "content-type: application/json"], status=200)
    printer.body_json({"key": [1, 2]})
    text = stream.getvalue()
    assert "\x1b[" in text  # ANSI colour codes
    assert "key" in text and "HTTP/1.1 200 OK" in text


def test_method_headers_and_data(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    cap = Capture(monkeypatch, json_reply)
    data_file = tmp_path / "body.txt"
    data_file.write_bytes(b"from-file")
    assert (
        main(["-H", "X-One: 1", "-H", "User-Agent:", "-d", "a=1", "-d", f"@{data_file}", "h"]) == 0
    )
    request = cap.request
    assert request.method == "POST"  # a body without a method means POST
    assert cap.transport.bodies[-1] == b"a=1&from-file"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["x-one"] == "1"
    assert "user-agent" not in request.headers  # "Name:" removes a default header

    assert (
        main(["put", "h", "--json", '{"k": true}', "-H", "Content-Type: application/x+json"]) == 0
    )
    request = cap.request
    assert request.method == "PUT"
    assert cap.transport.bodies[-1] == b'{"k": true}'
    assert request.headers.get_list("content-type") == ["application/x+json"]
    assert request.headers["accept"] == "application/json"
    capsysbinary.readouterr()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-H", "no colon", "h"], "invalid header"),
        (["--json", "{not json", "h"], "not valid JSON"),
        (["-d", "@/nonexistent/file", "h"], "cannot read --data file"),
        (["-X", "GE T", "h"], "invalid HTTP method"),
        (["h", "not-an-item"], "not a request item"),
        (["--timeout", "0", "h"], "--timeout"),
        (["-d", "a", "--json", "{}", "h"], "use only one of"),
        (["-d", "a", "-F", "f=1", "h"], "use only one of"),
        (["http://exa mple.org/"], "InvalidURL"),
        (["--cacert", "/nonexistent/ca.pem", "h"], "TLS setup failed"),
    ],
)
def test_usage_errors_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    cap = Capture(monkeypatch, json_reply)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert cap.transport.requests == []


@pytest.mark.parametrize(
    ("exc", "name", "message"),
    [
        (ConnectError("refused"), "ConnectError", "refused"),
        (ReadTimeout("slow"), "ReadTimeout", "timed out waiting for data from h:80"),
    ],
)
def test_transport_error_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: Exception,
    name: str,
    message: str,
) -> None:
    def fail(request: Request, body: bytes) -> Reply:
        raise exc

    Capture(monkeypatch, fail)
    assert main(["h"]) == 1
    err = capsys.readouterr().err
    assert err == f"httpwire: error: {name}: {message}\n"


def test_check_status(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    status = {"code": 404}

    def reply(request: Request, body: bytes) -> Reply:
        return status["code"], [], b"nope"

    Capture(monkeypatch, reply)
    assert main(["h"]) == 0  # an HTTP error response is a successful exchange
    assert main(["--check-status", "h"]) == 4
    assert "HTTP 404 Not Found" in capsys.readouterr().err
    status["code"] = 503
    assert main(["--check-status", "h"]) == 5
    status["code"] = 301
    assert main(["--check-status", "h"]) == 3
    status["code"] = 204
    assert main(["--check-status", "h"]) == 0


def test_options_reach_the_client(monkeypatch: pytest.MonkeyPatch, ca_cert_path: str) -> None:
    cap = Capture(monkeypatch, json_reply)
    ca = ca_cert_path
    assert main(["--raw", "--follow", "--max-redirects", "3", "--timeout", "2.5", "h"]) == 0
    kwargs = cap.client_kwargs
    assert kwargs["follow_redirects"] is True and kwargs["max_redirects"] == 3
    assert kwargs["timeout"] == 2.5 and kwargs["verify"] is True
    assert cap.request.extensions["timeout"]["read"] == 2.5
    assert main(["-k", "h"]) == 0
    assert cap.client_kwargs["verify"] is False
    assert main(["--cacert", str(ca), "h"]) == 0
    verify_setting = cap.client_kwargs.get("verify")
    assert verify_setting == str(ca)


def test_follow_and_too_many_redirects(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    def loop(request: Request, body: bytes) -> Reply:
        if request.url.path == "/end":
            return 200, [], b"arrived"
        return 302, [("Location", "/end" if request.url.path == "/start" else "/loop")], b""

    Capture(monkeypatch, loop)
    assert main(["--follow", "h/start"]) == 0
    assert capsysbinary.readouterr().out == b"arrived"
    assert main(["--follow", "--max-redirects", "2", "h/loop"]) == 6
    assert b"TooManyRedirects" in capsysbinary.readouterr().err


def test_verbose_heads_go_to_stderr_when_piped(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    Capture(monkeypatch, json_reply)
    assert main(["-v", "-H", "X-Trace: 7", "http://h/v"]) == 0
    out, err = capsysbinary.readouterr()
    assert out == JSON_BODY
    lines = err.decode().splitlines()
    assert lines[0] == "> GET /v HTTP/1.1"
    assert "> X-Trace: 7" in lines and "> Host: h" in lines
    assert "< HTTP/1.1 200 OK" in lines


def test_output_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    payload = bytes(range(256)) * 100

    def big(request: Request, body: bytes) -> Reply:
        return 200, [("Content-Length", str(len(payload)))], payload

    Capture(monkeypatch, big)
    target = tmp_path / "download.bin"
    assert main(["-o", str(target), "h"]) == 0
    assert target.read_bytes() == payload
    out, err = capsys.readouterr()
    assert out == ""
    assert f"saved {len(payload)} bytes" in err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"httpwire {__version__}"
    assert main(["--help"]) == 0
    assert "[METHOD] URL" in capsys.readouterr().out
    assert main([]) == 2


# -- the real stack ----------------------------------------------------------------------------


def test_refused_connection(refused_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([refused_url + "/", "--timeout", "5"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("httpwire: error: ConnectError: ")
    assert err.count("\n") == 1


def test_against_uvicorn(http_server: Any, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main([http_server.url + "/json", "--timeout", "10"]) == 0
    out = capsysbinary.readouterr().out
    assert json.loads(out)["message"] == "hello"
    assert main(["POST", http_server.url + "/echo", "-d", "ping", "--timeout", "10"]) == 0
    assert capsysbinary.readouterr().out == b"ping"
    assert main([http_server.url + "/gzip", "--timeout", "10"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"line 00000: the quick brown fox")


def test_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "httpwire", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"httpwire {__version__}"
    result = subprocess.run(
        [sys.executable, "-m", "httpwire", "-H", "bad", "h"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid header" in result.stderr


@pytest.mark.parametrize(
    ("argv", "method", "url"),
    [
        (["GET", "h/?a=b"], "GET", "http://h/?a=b"),
        (["delete", "h/items/1"], "DELETE", "http://h/items/1"),
        (["PATCH", "h", "a=1"], "PATCH", "http://h"),
        (["localhost", "q==1"], "GET", "http://localhost?q=1"),
        (["localhost:8000/x", "a=1"], "POST", "http://localhost:8000/x"),
        (["h/search?q=a", "X-A:1"], "GET", "http://h/search?q=a"),
        (["-X", "put", "h"], "PUT", "http://h"),
    ],
)
def test_method_url_and_items_are_told_apart(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], method: str, url: str
) -> None:
    cap = Capture(monkeypatch, json_reply)
    assert main(["--raw", *argv]) == 0
    assert cap.request.method == method
    assert str(cap.request.url) == url
