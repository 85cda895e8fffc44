"""The command's terminal output, checked in a real terminal: tmux runs it, ``capture-pane``
reads the screen back with its colour codes (SGR sequences).

Each test starts its own tmux server on a private socket, runs the commands in one pane and
waits (bounded) for a marker line; the server is killed at the end. ``scripts/test`` installs
tmux when it is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_server import DemoServer
from test_cli_flags import demo  # noqa: F401 - a fixture

CLI = str(Path(sys.executable).parent / "httpwire")
TMUX = shutil.which("tmux") or "/usr/bin/tmux"
WAIT = 30.0
SGR = re.compile(r"\x1b\[[0-9;]*m")


class Terminal:
    """A tmux server with one 140 x 50 pane."""

    def __init__(self, tmp_path: Path) -> None:
        self.socket = str(tmp_path / "tmux.sock")
        self.tmp_path = tmp_path

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            [TMUX, "-S", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return result.stdout

    def run(self, script: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TMUX")}
        env.pop("FORCE_COLOR", None)
        script_path = self.tmp_path / "script.sh"
        # The pane stays up (sleep) until the server is killed, so the screen can be read.
        script_path.write_text(f"{script}\necho __DONE__\nsleep {int(WAIT)}\n")
        subprocess.run(
            [TMUX, "-S", self.socket, "-f", "/dev/null", "new-session", "-d", "-x", "140",
             "-y", "50", f"TERM=xterm-256color bash --noprofile --norc {script_path}"],
            env=env,
            timeout=10,
            check=True,
        )  # fmt: skip

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-e", "-S", "-200")

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in SGR.sub("", screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(
            [TMUX, "-S", self.socket, "kill-server"], capture_output=True, timeout=10, check=False
        )


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path)
    try:
        yield term
    finally:
        term.close()


def _styled_line(screen: str, text: str) -> str:
    """The raw line (with SGR codes) whose visible text starts with ``text``."""
    for line in screen.splitlines():
        if SGR.sub("", line).startswith(text):
            return line
    raise AssertionError(f"no line starting with {text!r}:\n{screen}")


def _colour_codes(line: str, text: str) -> set[str]:
    """The SGR parameters in force where ``text`` starts on ``line``."""
    at = line.index(text[0]) if not line.startswith(text) else 0
    codes: set[str] = set()
    for match in SGR.finditer(line[:at]):
        codes.update(p for p in match.group(0)[2:-1].split(";") if p)
    return codes


def test_status_line_coloured_by_class(terminal: Terminal, demo: DemoServer) -> None:  # noqa: F811
    url = demo.http_url
    terminal.run(
        f"{CLI} {url}/json\n{CLI} {url}/redirect/1\n{CLI} {url}/status/404\n"
        f"{CLI} {url}/status/503\n{CLI} 127.0.0.1:1"
    )
    screen = terminal.wait_for("__DONE__")
    expected = {
        "HTTP/1.1 200 OK": "32",  # green
        "HTTP/1.1 302 Found": "33",  # yellow
        "HTTP/1.1 404 Not Found": "31",  # red
        "HTTP/1.1 503 Service Unavailable": "31",
    }
    for status, colour in expected.items():
        line = _styled_line(screen, status)
        assert colour in _colour_codes(line, "H"), (status, line)
    # The JSON body is pretty-printed (indented) and coloured.
    assert '    "message": "hello",' in SGR.sub("", screen)
    assert SGR.search(_styled_line(screen, '    "message"'))
    # The error is one line, plain.
    plain = SGR.sub("", screen).splitlines()
    errors = [line for line in plain if line.startswith("httpwire: error:")]
    assert errors == [
        "httpwire: error: ConnectError: could not connect to 127.0.0.1:1: connection refused "
        "(is a server listening on that port?)"
    ]


def test_progress_bars_for_download_and_upload(
    terminal: Terminal,
    demo: DemoServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    upload = tmp_path / "upload.bin"
    upload.write_bytes(os.urandom(3 << 20))
    url = demo.http_url
    terminal.run(
        f"cd {tmp_path}\n"
        f"{CLI} -o slow.txt '{url}/slow?seconds=5&size=1000'\n"
        f"{CLI} -o big.bin {url}/big\n"
        f"{CLI} -o /dev/null -F up=@upload.bin {url}/echo"
    )
    # While the slow body trickles in, a live bar is on the screen and nothing is saved yet.
    live = SGR.sub("", terminal.wait_for("downloading"))
    assert "saved" not in live
    screen = terminal.wait_for("__DONE__")
    plain = SGR.sub("", screen)
    assert "httpwire: saved 4194304 bytes to big.bin" in plain
    bars = [line for line in plain.splitlines() if line.startswith(("downloading", "uploading"))]
    assert any(line.startswith("uploading") and "3.1/3.1 MB" in line for line in bars), bars
    assert any(line.startswith("downloading") and "4.2/4.2 MB" in line for line in bars), bars
    assert "━" in plain  # the bar itself (rich's box-drawing bar)
    assert SGR.search(_styled_line(screen, "uploading"))
