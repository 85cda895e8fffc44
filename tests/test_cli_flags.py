"""The ``httpwire`` command's curl and httpie flags, run as a subprocess against the demo server.

Where curl has the flag, the same command runs with Debian's ``curl`` as the reference: the
bytes saved with ``-o`` must be identical and the exit status of the same class (0, or not 0).
``scripts/test`` installs curl when it is missing; without it those comparisons fail loudly
rather than skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app import pattern
from demo_server import DemoServer
from h2servers import HypercornServer
from servers import Tinyproxy
from test_connection_options import uds_server  # noqa: F401 - a fixture

CLI = str(Path(sys.executable).parent / "httpwire")
CURL = shutil.which("curl") or "/usr/bin/curl"
RUN_TIMEOUT = 60


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path_factory.mktemp("demo"), port=0, tls_port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def h2c() -> Iterator[HypercornServer]:
    server = HypercornServer().start()  # cleartext: HTTP/2 with prior knowledge
    try:
        yield server
    finally:
        server.stop()


def run(
    program: str, *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    environment.update(NO_COLOR="1", TERM="dumb", COLUMNS="100", HOME=str(cwd))
    environment.update(env or {})
    return subprocess.run(
        [CLI if program == "httpwire" else CURL, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=RUN_TIMEOUT,
        env=environment,
        check=False,
    )


def same_as_curl(
    tmp_path: Path, *args: str, files: tuple[str, ...] = ("out",)
) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
    """Run ``args`` with httpwire and with curl, each in its own directory (``{dir}`` in an
    argument is that directory); the ``files`` they write must be byte-identical."""
    results = []
    for program in ("httpwire", "curl"):
        where = tmp_path / program
        where.mkdir(exist_ok=True)
        for extra in tmp_path.glob("input*"):
            shutil.copy(extra, where / extra.name)
        argv = [a.replace("{dir}", str(where)) for a in args]
        results.append(run(program, *argv, cwd=where))
    ours, theirs = results
    assert (ours.returncode == 0) == (theirs.returncode == 0), (ours, theirs)
    for name in files:
        mine, reference = tmp_path / "httpwire" / name, tmp_path / "curl" / name
        assert mine.exists() == reference.exists(), name
        if reference.exists():
            assert mine.read_bytes() == reference.read_bytes(), name
    return ours, theirs


# -- curl's flags, with curl as the reference --------------------------------------------------


def test_output_file_and_stdout(demo: DemoServer, tmp_path: Path) -> None:
    same_as_curl(tmp_path, "-s", "-o", "out", f"{demo.http_url}/big/300000")
    assert (tmp_path / "httpwire" / "out").read_bytes() == pattern(300000)
    ours = run("httpwire", "-o", "-", f"{demo.http_url}/big/1000", cwd=tmp_path)
    assert ours.returncode == 0 and ours.stdout == pattern(1000)
    assert not (tmp_path / "-").exists()


def test_remote_name(demo: DemoServer, tmp_path: Path) -> None:
    same_as_curl(tmp_path, "-s", "-O", f"{demo.http_url}/big/1234", files=("1234",))


def test_location_and_max_redirs(demo: DemoServer, tmp_path: Path) -> None:
    same_as_curl(tmp_path, "-s", "-L", "-o", "out", f"{demo.http_url}/redirect/3")
    ours, theirs = same_as_curl(
        tmp_path, "-s", "-L", "--max-redirs", "1", "-o", "out", f"{demo.http_url}/redirect/3"
    )
    assert ours.returncode != 0 and theirs.returncode != 0


def test_request_and_data_flags(demo: DemoServer, tmp_path: Path) -> None:
    (tmp_path / "input.bin").write_bytes(b"line1\r\nline2\n\xffbinary\n")
    echo = f"{demo.http_url}/echo"
    same_as_curl(tmp_path, "-s", "-X", "PUT", "-d", "a=1", "-d", "b=2", "-o", "out", echo)
    same_as_curl(tmp_path, "-s", "-d", "@input.bin", "-o", "out", echo)  # CR/LF stripped
    same_as_curl(tmp_path, "-s", "--data-binary", "@input.bin", "-o", "out", echo)
    same_as_curl(tmp_path, "-s", "--data-raw", "@x", "-o", "out", echo)
    same_as_curl(
        tmp_path,
        "-s",
        "--data-urlencode",
        "q=a b&c",
        "--data-urlencode",
        "=x/y",
        "--data-urlencode",
        "f@input.bin",
        "-o",
        "out",
        echo,
    )


def test_get_puts_the_data_in_the_query(demo: DemoServer, tmp_path: Path) -> None:
    ours, theirs = same_as_curl(
        tmp_path, "-s", "-G", "-d", "a=1", "--data-urlencode", "b=x y", f"{demo.http_url}/anything"
    )
    for result in (ours, theirs):
        doc = json.loads(result.stdout)
        assert doc["method"] == "GET" and doc["query"] == {"a": "1", "b": "x y"}


def test_head_and_include(demo: DemoServer, tmp_path: Path) -> None:
    ours, theirs = same_as_curl(tmp_path, "-s", "-I", f"{demo.http_url}/json")
    assert ours.stdout.split(b"\r\n")[0] == theirs.stdout.split(b"\r\n")[0] == b"HTTP/1.1 200 OK"
    assert b"content-type: application/json" in ours.stdout.lower()
    ours, theirs = same_as_curl(tmp_path, "-s", "-i", f"{demo.http_url}/json")
    for result in (ours, theirs):
        head, _, body = result.stdout.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and json.loads(body)["message"] == "hello"


def test_include_and_head_into_a_file(demo: DemoServer, tmp_path: Path) -> None:
    for flag in ("-i", "-I"):
        for program in ("httpwire", "curl"):
            where = tmp_path / program
            where.mkdir(exist_ok=True)
            result = run(program, "-s", flag, "-o", "out", f"{demo.http_url}/json", cwd=where)
            assert result.returncode == 0 and result.stdout == b""
        mine, theirs = (
            [
                line
                for line in (tmp_path / p / "out").read_bytes().split(b"\r\n")
                if not line.lower().startswith(b"date:")
            ]
            for p in ("httpwire", "curl")
        )
        assert mine == theirs, flag


def test_user_basic(demo: DemoServer, tmp_path: Path) -> None:
    url = f"{demo.http_url}/basic-auth/alice/s3cret"
    same_as_curl(tmp_path, "-s", "-u", "alice:s3cret", "-o", "out", url)
    assert b'"authenticated": true' in (tmp_path / "httpwire" / "out").read_bytes()
    same_as_curl(tmp_path, "-s", "-f", "-u", "alice:wrong", "-o", "out", url)


def test_fail_silent_show_error(demo: DemoServer, tmp_path: Path) -> None:
    ours, theirs = same_as_curl(tmp_path, "-s", "-f", "-o", "out", f"{demo.http_url}/status/404")
    assert ours.returncode == theirs.returncode == 22
    assert ours.stderr == b""  # -s: nothing said
    ours = run("httpwire", "-sS", "-f", f"{demo.http_url}/status/503", cwd=tmp_path)
    assert ours.returncode == 22 and ours.stdout == b""
    assert ours.stderr.decode().count("\n") == 1 and "503" in ours.stderr.decode()
    ours = run("httpwire", "-s", "127.0.0.1:1", cwd=tmp_path)
    assert ours.returncode == 1 and ours.stderr == b""
    ours = run("httpwire", "-sS", "127.0.0.1:1", cwd=tmp_path)
    assert ours.returncode == 1 and b"connection refused" in ours.stderr


def test_write_out(demo: DemoServer, tmp_path: Path) -> None:
    fmt = "%{http_code} %{size_download} %{http_version} %{url_effective}\\n"
    args = ("-s", "-L", "-o", "out", "-w", fmt, f"{demo.http_url}/redirect/2")
    ours, theirs = same_as_curl(tmp_path, *args)
    assert ours.stdout == theirs.stdout == f"200 13 1.1 {demo.http_url}/redirect/0\n".encode()
    ours = run(
        "httpwire", "-s", "-o", "/dev/null", "-w", "%{time_total}", demo.http_url, cwd=tmp_path
    )
    assert 0 < float(ours.stdout) < 30
    ours, theirs = same_as_curl(tmp_path, "-s", "-w", "%{http_code}", "127.0.0.1:1")
    assert ours.stdout == theirs.stdout == b"000"


def test_cookie_string_file_and_jar_interchange_with_curl(demo: DemoServer, tmp_path: Path) -> None:
    same_as_curl(tmp_path, "-s", "-b", "a=1; b=2", "-o", "out", f"{demo.http_url}/cookies")
    (tmp_path / "input-jar.txt").write_text(
        "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tfromfile\tyes\n"
    )
    ours, theirs = same_as_curl(
        tmp_path, "-s", "-b", "a=1", "-b", "input-jar.txt", f"{demo.http_url}/cookies"
    )
    assert json.loads(ours.stdout) == json.loads(theirs.stdout) == {"a": "1", "fromfile": "yes"}
    # Each writes a jar; each reads the other's.
    set_url = f"{demo.http_url}/set-cookie?sid=42&theme=dark"
    for program in ("httpwire", "curl"):
        result = run(program, "-s", "-c", f"jar-{program}.txt", set_url, cwd=tmp_path)
        assert result.returncode == 0
    for reader in ("httpwire", "curl"):
        for writer in ("httpwire", "curl"):
            result = run(
                reader, "-s", "-b", f"jar-{writer}.txt", f"{demo.http_url}/cookies", cwd=tmp_path
            )
            assert json.loads(result.stdout) == {"sid": "42", "theme": "dark"}, (reader, writer)


def test_continue_at_resumes_with_range_and_if_range(demo: DemoServer, tmp_path: Path) -> None:
    url = f"{demo.http_url}/big/200000"
    (tmp_path / "input-part").write_bytes(pattern(200000)[:70000])
    for program in ("httpwire", "curl"):
        (tmp_path / program).mkdir(exist_ok=True)
        shutil.copy(tmp_path / "input-part", tmp_path / program / "out")
    same_as_curl(tmp_path, "-s", "-C", "-", "-o", "out", url)
    assert (tmp_path / "httpwire" / "out").read_bytes() == pattern(200000)
    # Complete already: the server answers 416 and the file stays as it is.
    result = run("httpwire", "-C", "-", "-o", "out", url, cwd=tmp_path / "httpwire")
    assert result.returncode == 0 and b"already complete" in result.stderr
    # A validator kept from an earlier download that no longer matches: If-Range makes the
    # server send the whole (new) body, and the file starts over instead of being spliced.
    target = tmp_path / "httpwire" / "stale"
    target.write_bytes(b"x" * 5000)
    (tmp_path / "httpwire" / "stale.httpwire-resume").write_text('"an-older-version"\n')
    result = run("httpwire", "-C", "-", "-o", "stale", url, cwd=tmp_path / "httpwire")
    assert result.returncode == 0, result.stderr
    assert b"starts over" in result.stderr
    assert target.read_bytes() == pattern(200000)


def test_max_time_stops_a_trickling_body(demo: DemoServer, tmp_path: Path) -> None:
    url = f"{demo.http_url}/slow?seconds=3"
    started = time.monotonic()
    ours = run("httpwire", "--max-time", "1", "-o", "out", url, cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert ours.returncode == 1 and b"--max-time 1" in ours.stderr
    assert elapsed < 2.5, elapsed  # the whole process, interpreter start-up included (the
    # 1.2 s bound of the deadline itself is measured in process, below)
    theirs = run("curl", "-s", "--max-time", "1", "-o", "out", url, cwd=tmp_path)
    assert theirs.returncode != 0
    # --timeout alone is a per-read limit: the same body arrives, slowly.
    ours = run("httpwire", "--timeout", "1", "-o", "out", url, cwd=tmp_path)
    assert ours.returncode == 0


def test_max_time_in_process_within_1_2_seconds(demo: DemoServer, tmp_path: Path) -> None:
    from httpwire._cli import main

    started = time.monotonic()
    code = main(["-s", "--max-time", "1", "-o", str(tmp_path / "out"), f"{demo.http_url}/slow"])
    elapsed = time.monotonic() - started
    assert code == 1
    assert elapsed < 1.2, elapsed


def test_connect_timeout(full_backlog_url: str, tmp_path: Path) -> None:
    started = time.monotonic()
    ours = run("httpwire", "--connect-timeout", "0.5", full_backlog_url, cwd=tmp_path)
    assert ours.returncode == 1 and b"ConnectTimeout" in ours.stderr
    assert time.monotonic() - started < 5
    theirs = run("curl", "-s", "--connect-timeout", "0.5", full_backlog_url, cwd=tmp_path)
    assert theirs.returncode != 0


def test_retry_with_back_off(demo: DemoServer, tmp_path: Path) -> None:
    ours = run("httpwire", "--retry", "2", "--retry-delay", "0.1", "127.0.0.1:1", cwd=tmp_path)
    assert ours.returncode == 1
    warnings = [line for line in ours.stderr.decode().splitlines() if "retrying" in line]
    assert len(warnings) == 2 and "(2 of 2)" in warnings[1]
    # A transient status is retried too, then the last answer is the result.
    ours = run(
        "httpwire",
        "--retry",
        "1",
        "--retry-delay",
        "0",
        f"{demo.http_url}/status/503",
        cwd=tmp_path,
    )
    assert ours.returncode == 0 and ours.stdout == b"status 503"
    assert b"HTTP 503; retrying" in ours.stderr
    # POST is not idempotent: a failure after sending is not retried (a refused connect is).
    ours = run(
        "httpwire", "--retry", "1", "--retry-delay", "0", "-d", "x", "127.0.0.1:1", cwd=tmp_path
    )
    assert b"retrying" in ours.stderr
    theirs = run("curl", "-s", "--retry", "1", "--retry-delay", "0", "127.0.0.1:1", cwd=tmp_path)
    assert theirs.returncode != 0


def test_http_versions(demo: DemoServer, h2c: HypercornServer, tmp_path: Path) -> None:
    ca = ("--cacert", demo.ca_path)
    tls = f"{demo.https_url}/json"
    for flag, want in (("--http2", b"2"), ("--http1.1", b"1.1")):
        ours, theirs = same_as_curl(
            tmp_path, "-s", *ca, flag, "-o", "out", "-w", "%{http_version}", tls
        )
        assert ours.stdout == theirs.stdout == want
    ours, theirs = same_as_curl(
        tmp_path,
        "-s",
        "--http2-prior-knowledge",
        "-o",
        "out",
        "-w",
        "%{http_version}",
        h2c.url + "/json",
    )
    assert ours.stdout == theirs.stdout == b"2"


def test_tls_flags(demo: DemoServer, tmp_path: Path) -> None:
    url = f"https://localhost:{demo.tls.port}/json"
    same_as_curl(tmp_path, "-s", "--cacert", demo.ca_path, "-o", "out", url)
    ours, theirs = same_as_curl(tmp_path, "-s", "-S", "-o", "out", url)
    assert ours.returncode == 1
    message = ours.stderr.decode()
    assert message.count("\n") == 1 and "localhost" in message
    assert "--cacert FILE" in message and "-k" in message
    same_as_curl(tmp_path, "-s", "-k", "-o", "out", url)


def test_resolve_and_unix_socket(demo: DemoServer, uds_server: str, tmp_path: Path) -> None:  # noqa: F811
    port = demo.plain.port
    same_as_curl(
        tmp_path,
        "-s",
        "--resolve",
        f"demo.test:{port}:127.0.0.1",
        "-o",
        "out",
        f"http://demo.test:{port}/json",
    )
    # TLS checks the name given, not the address connected to.
    same_as_curl(
        tmp_path,
        "-s",
        "--cacert",
        demo.ca_path,
        "--resolve",
        f"localhost:{demo.tls.port}:127.0.0.1",
        "-o",
        "out",
        f"https://localhost:{demo.tls.port}/json",
    )
    same_as_curl(tmp_path, "-s", "--unix-socket", uds_server, "-o", "out", "http://localhost/json")


def test_compressed_user_agent_referer(demo: DemoServer, tmp_path: Path) -> None:
    same_as_curl(tmp_path, "-s", "--compressed", "-o", "out", f"{demo.http_url}/gzip")
    ours, theirs = same_as_curl(
        tmp_path, "-s", "-A", "agent/1", "-e", "http://from/", f"{demo.http_url}/echo-headers"
    )
    for result in (ours, theirs):
        doc = json.loads(result.stdout)
        assert doc["user-agent"] == "agent/1" and doc["referer"] == "http://from/"


def test_form_multipart_streamed(demo: DemoServer, tmp_path: Path) -> None:
    (tmp_path / "input.bin").write_bytes(pattern(300000))
    url = f"{demo.http_url}/echo"
    results = same_as_curl(
        tmp_path, "-s", "-F", "name=x", "-F", "up=@input.bin;type=application/x-test", url
    )
    for result in results:
        body = result.stdout
        assert pattern(300000) in body
        assert b'name="up"; filename="input.bin"' in body and b"application/x-test" in body
    ours = run("httpwire", "-i", "-F", "up=@input.bin", url, cwd=tmp_path / "httpwire")
    # Sent with Content-Length (computed from the file's size), not chunked.
    assert b"x-request-transfer-encoding: \r\n" in ours.stdout.lower()


def test_proxy_verbose_shows_absolute_form_and_masked_connect(
    demo: DemoServer, tmp_path: Path
) -> None:
    extra = f"BasicAuth alice s3cret\nConnectPort {demo.tls.port}"
    proxy = Tinyproxy(tmp_path, extra).start()
    try:
        proxy_url = proxy.url.replace("http://", "http://alice:s3cret@")
        forwarded = run("httpwire", "-v", "-x", proxy_url, f"{demo.http_url}/json", cwd=tmp_path)
        tunnelled = run(
            "httpwire",
            "-v",
            "--cacert",
            demo.ca_path,
            "-x",
            proxy_url,
            f"https://localhost:{demo.tls.port}/json",
            cwd=tmp_path,
        )
    finally:
        proxy.stop()
    assert forwarded.returncode == 0, forwarded.stderr
    lines = forwarded.stderr.decode().splitlines()
    assert f"> GET {demo.http_url}/json HTTP/1.1" in lines
    assert "> Proxy-Authorization: Basic ****" in lines
    assert tunnelled.returncode == 0, tunnelled.stderr
    lines = tunnelled.stderr.decode().splitlines()
    assert f"> CONNECT localhost:{demo.tls.port} HTTP/1.1" in lines
    assert "> Proxy-Authorization: Basic ****" in lines
    assert any(line.startswith("< HTTP/1.") and " 200 " in line for line in lines)
    assert "> GET /json HTTP/1.1" in lines
    for result in (forwarded, tunnelled):
        assert b"s3cret" not in result.stderr and b"YWxpY2U6czNjcmV0" not in result.stderr


def test_verbose_http2_pseudo_headers(demo: DemoServer, tmp_path: Path) -> None:
    result = run(
        "httpwire",
        "-v",
        "--http2",
        "--cacert",
        demo.ca_path,
        f"{demo.https_url}/json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.decode().splitlines()
    assert "> :method: GET" in lines and "> :path: /json" in lines
    assert f"> :authority: 127.0.0.1:{demo.tls.port}" in lines
    assert "< HTTP/2 200 OK" in lines
    assert not any(line.endswith("HTTP/1.1") for line in lines)


def test_verbose_plain_request_line(demo: DemoServer, tmp_path: Path) -> None:
    result = run("httpwire", "-v", f"{demo.http_url}/json?x=1", cwd=tmp_path)
    lines = result.stderr.decode().splitlines()
    assert "> GET /json?x=1 HTTP/1.1" in lines and "< HTTP/1.1 200 OK" in lines


def test_error_lines(demo: DemoServer, tmp_path: Path) -> None:
    refused = run("httpwire", "127.0.0.1:1", cwd=tmp_path).stderr.decode()
    assert refused == (
        "httpwire: error: ConnectError: could not connect to 127.0.0.1:1: connection refused "
        "(is a server listening on that port?)\n"
    )
    named = run("httpwire", "--resolve", "myhost:1:127.0.0.1", "myhost:1", cwd=tmp_path)
    assert "myhost:1" in named.stderr.decode() and "127.0.0.1" not in named.stderr.decode()
    unknown = run("httpwire", "no-such-host.invalid", cwd=tmp_path).stderr.decode()
    assert unknown.startswith("httpwire: error: ConnectError: could not resolve host")
    assert unknown.count("\n") == 1


# -- netrc and digest (curl's flags; httpwire.DigestAuth comes from the client work) ----------


def test_netrc(demo: DemoServer, tmp_path: Path) -> None:
    netrc = tmp_path / "input.netrc"
    netrc.write_text("machine 127.0.0.1 login alice password s3cret\n")
    netrc.chmod(0o600)
    url = f"{demo.http_url}/basic-auth/alice/s3cret"
    ours, theirs = same_as_curl(
        tmp_path, "-s", "-f", "--netrc-file", "input.netrc", "-o", "out", url
    )
    assert ours.returncode == 0
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(netrc, home / ".netrc")
    result = run("httpwire", "-s", "-f", "--netrc", url, cwd=home)
    assert result.returncode == 0 and b'"authenticated": true' in result.stdout


# -- httpie's request items and --session ------------------------------------------------------


def test_request_items(demo: DemoServer, tmp_path: Path) -> None:
    (tmp_path / "doc.json").write_text('{"deep": [1, 2]}')
    (tmp_path / "note.txt").write_text("from a file")
    result = run(
        "httpwire",
        "POST",
        f"{demo.http_url}/anything",
        "X-Team:web",
        "User-Agent:",
        "page==2",
        "name=widget",
        "count:=3",
        "doc:=@doc.json",
        "note=@note.txt",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["query"] == {"page": "2"}
    assert doc["headers"]["x-team"] == "web" and "user-agent" not in doc["headers"]
    assert doc["headers"]["content-type"] == "application/json"
    assert json.loads(doc["body"]) == {
        "name": "widget",
        "count": 3,
        "doc": {"deep": [1, 2]},
        "note": "from a file",
    }
    # A file item makes a multipart form; plain fields go in it as form fields.
    result = run("httpwire", f"{demo.http_url}/anything", "name=x", "up@note.txt", cwd=tmp_path)
    doc = json.loads(result.stdout)
    assert doc["method"] == "POST" and "multipart/form-data" in doc["headers"]["content-type"]
    assert 'name="up"; filename="note.txt"' in doc["body"] and "from a file" in doc["body"]
    # The method word is optional; without a body it is GET.
    result = run("httpwire", f"{demo.http_url}/anything", "q==1", cwd=tmp_path)
    assert json.loads(result.stdout)["method"] == "GET"


def test_session_keeps_headers_cookies_and_auth(demo: DemoServer, tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    first = run(
        "httpwire",
        "--session",
        "dev",
        "-u",
        "alice:s3cret",
        f"{demo.http_url}/set-cookie?sid=42",
        "X-Team:web",
        cwd=tmp_path,
        env=env,
    )
    assert first.returncode == 0, first.stderr
    files = list((tmp_path / "config" / "httpwire" / "sessions").glob("*/dev.json"))
    assert len(files) == 1 and files[0].parent.name == f"127.0.0.1_{demo.plain.port}"
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    second = run("httpwire", "--session", "dev", f"{demo.http_url}/anything", cwd=tmp_path, env=env)
    headers: dict[str, Any] = json.loads(second.stdout)["headers"]
    assert headers["cookie"] == "sid=42" and headers["x-team"] == "web"
    assert headers["authorization"] == "Basic YWxpY2U6czNjcmV0"


def test_digest(demo: DemoServer, tmp_path: Path) -> None:
    url = f"{demo.http_url}/digest-auth/auth/alice/s3cret"
    theirs = run("curl", "-s", "-f", "--digest", "-u", "alice:s3cret", url, cwd=tmp_path)
    assert theirs.returncode == 0 and b'"authenticated": true' in theirs.stdout
    for algorithm in ("", "/SHA-256"):
        ours, theirs = same_as_curl(
            tmp_path, "-s", "-f", "--digest", "-u", "alice:s3cret", "-o", "out", url + algorithm
        )
        assert ours.returncode == 0
    ours, theirs = same_as_curl(tmp_path, "-s", "-f", "--digest", "-u", "alice:wrong", url)
    assert ours.returncode == 22


def test_max_time_bounds_the_retries_too(tmp_path: Path) -> None:
    started = time.monotonic()
    ours = run("httpwire", "--max-time", "1", "--retry", "5", "127.0.0.1:1", cwd=tmp_path)
    assert ours.returncode == 1
    assert time.monotonic() - started < 3.0  # not 1 + 2 + 4 + 8 + 16 s of back-off
