"""Every fenced example in README.md and docs/*.md runs against the demo server.

Collected when the tests are collected (so examples added to any page are picked up):

- ```` ```python ```` / ```` ```py ````: run as a script by this interpreter. An async example
  that ends in ``asyncio.run(main())`` and uses asyncio for nothing else runs twice: as written
  and under trio (``trio.run(main)``), since ``ahttpwire`` picks the runtime at run time.
- ```` ```sh ```` / ```` ```shell ```` / ```` ```bash ````: run by ``bash -e``; must exit 0.
- ```` ```console ```` (or a shell block whose lines start with ``$ ``): each ``$ command`` runs
  and its output (stdout then stderr) must match the lines that follow it; a line ``...``
  matches any number of lines. The exit status is not checked (errors are shown this way).

A fence preceded by the line ``<!-- doctest: skip (reason) -->`` is not run (an HTML comment:
invisible on the rendered page). Unmarked fences of other languages (plain ```` ``` ````, text
and output blocks) are not examples.

Python examples are often fragments of a page's tour of an API, so each runs after a prelude
(:data:`PRELUDE`, as Sphinx's ``doctest_global_setup``): ``import httpwire, ahttpwire``, every
public name of ``httpwire`` (``URL``, ``Headers``, ...), ``url`` (the demo's ``/json``) and
``client`` (a ``httpwire.Client``). An example with top-level ``await`` / ``async with`` runs as
in ``python -m asyncio``, with ``client`` an ``ahttpwire.Client``. The working directory holds
``big.bin``, ``a.png`` and ``item.json`` for the examples that upload a file.

The examples' ``127.0.0.1:8080`` / ``localhost:8080`` are rewritten to the demo server's
cleartext port and ``127.0.0.1:8443`` / ``localhost:8443`` to its TLS port (both picked free:
port 8080 is never bound here). Each example runs in a fresh temporary directory holding
``.demo/ca.pem`` (the demo CA, as ``scripts/serve`` writes it), with ``SSL_CERT_FILE`` pointing
at it so the default ``verify=True`` trusts the demo server, the ``httpwire`` command on
``PATH``, and ``NO_COLOR=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from app import pattern
from demo_server import DemoServer

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP_MARKER = re.compile(r"^\s*<!--\s*doctest:\s*skip\b.*-->\s*$")
FENCE = re.compile(r"^(\s*)```+\s*([\w+-]*)\s*$")
PYTHON = {"python", "py", "python3"}
SHELL = {"sh", "shell", "bash"}
CONSOLE = {"console"}
EXAMPLE_TIMEOUT = 60
PRELUDE = """\
import asyncio, httpwire, ahttpwire
from httpwire import *
url = httpwire.URL("http://127.0.0.1:8080/json")
client = {client}
"""
RUNNER = """\
import ast, asyncio, inspect, sys
source = open(sys.argv[1], encoding="utf-8").read()
code = compile(source, sys.argv[1], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__"}
if code.co_flags & inspect.CO_COROUTINE:
    async def main():
        await eval(code, namespace)
        client = namespace.get("client")
        if hasattr(client, "aclose"):
            await client.aclose()
    asyncio.run(main())
else:
    exec(code, namespace)
"""
ASYNCIO_RUN = re.compile(r"^asyncio\.run\((\w+)\(\)\)(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    lang: str  # "python", "sh" or "console"
    source: str
    skip: bool
    runtime: str = ""  # python only: "" (as written) or "trio"

    @property
    def id(self) -> str:
        suffix = f"-{self.runtime}" if self.runtime else ""
        return f"{self.page}:{self.line}{suffix}"


def _trio_variant(source: str) -> str | None:
    """The example with ``asyncio.run(main())`` replaced by ``trio.run(main)``, or None when
    it uses asyncio for anything else (then it is an asyncio-only example)."""
    match = ASYNCIO_RUN.search(source)
    if match is None:
        return None
    rest = ASYNCIO_RUN.sub("", source).replace("import asyncio\n", "")
    if "asyncio" in rest:
        return None
    body = ASYNCIO_RUN.sub(lambda m: f"trio.run({m.group(1)}){m.group(2)}", source)
    return "import trio\n" + body


def collect(pages: list[Path] = PAGES, root: Path = ROOT) -> list[Example]:
    examples: list[Example] = []
    for page in pages:
        name = str(page.relative_to(root))
        lines = page.read_text(encoding="utf-8").splitlines()
        i = 0
        previous = ""
        while i < len(lines):
            match = FENCE.match(lines[i])
            if match is None:
                if lines[i].strip():
                    previous = lines[i]
                i += 1
                continue
            indent, lang = match.group(1), match.group(2).lower()
            start = i + 1
            j = start
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            body = "\n".join(line.removeprefix(indent) for line in lines[start:j]) + "\n"
            skip = bool(SKIP_MARKER.match(previous))
            kind = "python" if lang in PYTHON else "sh" if lang in SHELL else lang
            if kind in SHELL | {"sh"} and body.lstrip().startswith("$ "):
                kind = "console"
            if kind in ("python", "sh", "console"):
                examples.append(Example(name, start, kind, body, skip))
                if kind == "python" and not skip:
                    variant = _trio_variant(body)
                    if variant is not None:
                        examples.append(Example(name, start, kind, variant, skip, "trio"))
            previous = ""
            i = j + 1
    return examples


EXAMPLES = collect()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path_factory.mktemp("demo"), port=0, tls_port=0).start()
    try:
        yield server
    finally:
        server.stop()


def substitute(text: str, demo: DemoServer) -> str:
    for host in ("127.0.0.1", "localhost"):
        text = text.replace(f"{host}:8080", f"{host}:{demo.plain.port}")
        text = text.replace(f"{host}:8443", f"{host}:{demo.tls.port}")
    return text


def _environment(demo: DemoServer, workdir: Path) -> dict[str, str]:
    (workdir / ".demo").mkdir(exist_ok=True)
    shutil.copy(demo.ca_path, workdir / ".demo" / "ca.pem")
    (workdir / "big.bin").write_bytes(pattern(1 << 20))
    (workdir / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + pattern(1000))
    (workdir / "item.json").write_text('{"name": "x"}', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        SSL_CERT_FILE=demo.ca_path,
        NO_COLOR="1",
        TERM="dumb",
        COLUMNS="100",
        PYTHONPATH=str(ROOT / "src"),
        XDG_CONFIG_HOME=str(workdir / "config"),
    )
    return env


def _run(
    command: list[str], workdir: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=EXAMPLE_TIMEOUT,
        check=False,
    )


def _matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` lines against ``actual`` ones; an ``...`` line matches any run of lines."""
    if not expected:
        return not actual
    if expected[0].strip() == "...":
        return any(_matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return (
        bool(actual)
        and expected[0].rstrip() == actual[0].rstrip()
        and _matches(expected[1:], actual[1:])
    )


def _console(source: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in source.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_doc_example(example: Example, demo: DemoServer, tmp_path: Path) -> None:
    if example.skip:
        pytest.skip("marked <!-- doctest: skip --> in the page")
    env = _environment(demo, tmp_path)
    source = substitute(example.source, demo)
    where = f"{example.id}:\n{source}"
    if example.lang == "python":
        try:
            compile(source, "example.py", "exec")
            client = "httpwire.Client()"
        except SyntaxError:  # top-level await: as in `python -m asyncio`
            client = "ahttpwire.Client()"
        script = tmp_path / "example.py"
        script.write_text(substitute(PRELUDE.format(client=client), demo) + source, "utf-8")
        (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
        result = _run([sys.executable, "runner.py", str(script)], tmp_path, env)
        assert result.returncode == 0, f"{where}\n{result.stdout}\n{result.stderr}"
    elif example.lang == "sh":
        result = _run(["bash", "-e", "-c", source], tmp_path, env)
        assert result.returncode == 0, f"{where}\n{result.stdout}\n{result.stderr}"
    else:
        for command, expected in _console(source):
            result = _run(["bash", "-c", command], tmp_path, env)
            actual = (result.stdout + result.stderr).splitlines()
            while actual and not actual[-1].strip():
                actual.pop()
            while expected and not expected[-1].strip():
                expected.pop()
            assert _matches(expected, actual), (
                f"{where}\n$ {command}\nexpected:\n"
                + "\n".join(expected)
                + "\ngot:\n"
                + "\n".join(actual)
            )


def test_collector_sees_every_kind_and_the_marker(tmp_path: Path) -> None:
    page = tmp_path / "probe.md"
    page.write_text(
        "text\n\n```python\nprint(1)\n```\n\n<!-- doctest: skip (needs the internet) -->\n"
        "```sh\ncurl https://example.org\n```\n\n```\nplain output\n```\n\n"
        "```console\n$ echo hi\nhi\n```\n\n"
        "```python\nimport asyncio\nasync def main(): ...\nasyncio.run(main())\n```\n",
        encoding="utf-8",
    )
    found = collect([page], root=tmp_path)
    kinds = [(e.lang, e.skip, e.runtime) for e in found]
    assert kinds == [
        ("python", False, ""),
        ("sh", True, ""),
        ("console", False, ""),
        ("python", False, ""),
        ("python", False, "trio"),
    ]
    assert (
        found[-1].source == "import trio\nimport asyncio\nasync def main(): ...\ntrio.run(main)\n"
    )
    assert _matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert not _matches(["a", "d"], ["a", "b", "d"])


def test_scripts_serve_starts_the_demo_server(tmp_path: Path) -> None:
    """``bash scripts/serve`` as the README has it (free ports here), then both listeners."""
    import json
    import signal
    import ssl
    import urllib.request

    proc = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "serve"), "--port", "0", "--tls-port", "0"]
        + ["--dir", str(tmp_path), "--for", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()
        assert ready[0] == "ready", proc.stderr.read() if proc.stderr else ready
        http_url, https_url, ca_path = ready[1:]
        with urllib.request.urlopen(http_url + "/json", timeout=10) as r:
            assert json.load(r)["message"] == "hello"
        context = ssl.create_default_context(cafile=ca_path)
        with urllib.request.urlopen(https_url + "/json", timeout=10, context=context) as r:
            assert json.load(r)["message"] == "hello"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0
