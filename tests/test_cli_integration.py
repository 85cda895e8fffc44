"""The ``httpwire`` command, run as a subprocess (no TTY, no colours) against the uvicorn app.

The console script is the one installed next to the running interpreter (``.venv/bin/httpwire``
after ``pip install -e .``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app import HELLO, pattern
from servers import UvicornServer

CLI = Path(sys.executable).parent / "httpwire"
CLI_TIMEOUT = 60


def run_cli(*args: str, module: bool = False) -> subprocess.CompletedProcess[str]:
    if module:
        command = [sys.executable, "-m", "httpwire", *args]
    else:
        assert CLI.exists(), f"{CLI} is missing: install the project (pip install -e '.[cli]')"
        command = [str(CLI), *args]
    env = dict(os.environ, NO_COLOR="1", TERM="dumb", COLUMNS="120")
    return subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        env=env,
        check=False,
    )


def test_cli_get_prints_the_body(http_server: UvicornServer) -> None:
    result = run_cli(f"{http_server.url}/")
    assert result.returncode == 0, result.stderr
    assert HELLO.decode() in result.stdout


def test_cli_python_dash_m(http_server: UvicornServer) -> None:
    result = run_cli(f"{http_server.url}/", module=True)
    assert result.returncode == 0, result.stderr
    assert HELLO.decode() in result.stdout


def test_cli_explicit_method(http_server: UvicornServer) -> None:
    result = run_cli("PUT", f"{http_server.url}/anything")
    assert result.returncode == 0, result.stderr
    assert '"PUT"' in result.stdout


def test_cli_verbose_shows_request_and_response_heads(http_server: UvicornServer) -> None:
    result = run_cli("-v", f"{http_server.url}/")
    assert result.returncode == 0, result.stderr
    output = (result.stdout + result.stderr).lower()
    assert "get /" in output  # the request line
    assert "200" in output  # the status line
    assert "content-type" in output and "text/plain" in output  # a response header
    assert HELLO.decode().lower() in output


def test_cli_output_file(http_server: UvicornServer, tmp_path: Path) -> None:
    target = tmp_path / "body.bin"
    result = run_cli("-o", str(target), f"{http_server.url}/bytes/100000")
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == pattern(100000)
    # The body went to the file, not to standard output.
    assert len(result.stdout.encode()) < 100000


def test_cli_json_body(http_server: UvicornServer) -> None:
    result = run_cli("POST", f"{http_server.url}/echo", "--json", '{"a": 1, "b": [true, null]}')
    assert result.returncode == 0, result.stderr
    # /echo answers with the request's body and Content-Type, so the output is that JSON.
    assert json.loads(result.stdout) == {"a": 1, "b": [True, None]}


def test_cli_json_sets_the_content_type(http_server: UvicornServer) -> None:
    result = run_cli("POST", f"{http_server.url}/anything", "--json", '{"a": 1}')
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["method"] == "POST"
    assert info["headers"]["content-type"].startswith("application/json")
    assert json.loads(info["body"]) == {"a": 1}


def test_cli_https_with_unknown_ca_fails(https_server: UvicornServer) -> None:
    # The server's CA is local (trustme), so the default verification must refuse it.
    refused = run_cli(f"{https_server.url}/")
    assert refused.returncode != 0
    assert refused.stderr.strip()


def test_cli_refused_port_exits_non_zero(refused_url: str) -> None:
    result = run_cli(f"{refused_url}/")
    assert result.returncode != 0
    assert result.stderr.strip(), "an error message is expected on standard error"
    assert "Traceback" not in result.stderr


def test_cli_bad_url_exits_non_zero() -> None:
    result = run_cli("http://[not-a-host/")
    assert result.returncode != 0
    assert result.stderr.strip()


def test_cli_proxy_option_forwards_through_a_real_proxy(
    http_server: UvicornServer, tmp_path: Path
) -> None:
    from servers import Tinyproxy

    proxy = Tinyproxy(tmp_path).start()
    try:
        result = run_cli("-x", proxy.url, f"{http_server.url}/echo-headers")
    finally:
        proxy.stop()
    assert result.returncode == 0, result.stderr
    # The origin saw the request as tinyproxy forwarded it.
    assert "tinyproxy" in json.loads(result.stdout)["via"]


def test_cli_bad_proxy_is_a_usage_error(http_server: UvicornServer) -> None:
    result = run_cli("--proxy", "ftp://127.0.0.1:21", f"{http_server.url}/")
    assert result.returncode == 2, result.stderr
    assert "unsupported proxy URL scheme 'ftp'" in result.stderr
    assert "Traceback" not in result.stderr
