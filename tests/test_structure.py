"""The layering issue 11 asks for, checked on the source: the protocol modules import the
interface, never the connection; no import circle among the modules of src/ (imports under
``typing.TYPE_CHECKING`` aside); the pool reads no protocol-private attribute; and the state of
a connection is its protocol's, HTTP/2 included (an idle HTTP/2 connection is IDLE)."""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import trio
from conftest_h2 import *  # noqa: F403
from h2servers import HypercornServer

import ahttpwire
import httpwire

SRC = Path(__file__).resolve().parent.parent / "src" / "httpwire"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_imports(path: Path) -> set[str]:
    """The httpwire modules ``path`` imports when it runs (not under ``TYPE_CHECKING``, not
    inside functions: those are lazy imports, taken when called)."""
    tree = ast.parse(path.read_text())
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.If | ast.Try):
                for block in (
                    node.body,
                    getattr(node, "orelse", []),
                    getattr(node, "finalbody", []),
                ):
                    visit(block)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("httpwire"))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                if not module.startswith("httpwire"):
                    continue
                found.add(module)
                for alias in node.names:  # ``from . import x`` may import a module x
                    candidate = f"{module}.{alias.name}"
                    if _path_of(candidate) is not None:
                        found.add(candidate)

    visit(tree.body)
    return found


def _path_of(module: str) -> Path | None:
    base = SRC.parent.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in SRC.rglob("*.py"):
        graph[_module_name(path)] = {m for m in _runtime_imports(path) if _path_of(m)}
    return graph


def test_no_import_circle_among_src_modules() -> None:
    graph = _graph()
    # A package imports its submodules' names on purpose (``httpwire`` re-exports); a cycle
    # through a package's own __init__ is how Python packages work, not a circle between modules.
    for module, deps in graph.items():
        graph[module] = {d for d in deps if d != module and not module.startswith(d + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep) :] + [dep]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if dep not in state:
                walk(dep)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)


@pytest.mark.parametrize("flavour", ["_async", "_sync"])
def test_the_protocol_modules_import_the_interface_not_the_connection(flavour: str) -> None:
    for name in ("_http11", "_http2", "_protocol"):
        imports = _runtime_imports(SRC / flavour / f"{name}.py")
        assert f"httpwire.{flavour}._connection" not in imports, name
    for name in ("_http11", "_http2"):
        imports = _runtime_imports(SRC / flavour / f"{name}.py")
        assert f"httpwire.{flavour}._protocol" in imports, name


@pytest.mark.parametrize("flavour", ["_async", "_sync"])
def test_the_pool_reads_no_protocol_private_attribute(flavour: str) -> None:
    text = (SRC / flavour / "_pool.py").read_text()
    # conn._h2conn, conn._protocol, conn._h11, conn._stream ...: only the connection modules
    # look inside a connection.
    assert not re.findall(r"\bconn\w*\._(?!_)\w+", text)
    assert "_h2conn" not in text


def _run(runtime: str, fn: Any) -> Any:
    return asyncio.run(fn()) if runtime == "asyncio" else trio.run(fn)


def test_sync_an_idle_http2_connection_is_idle(
    hypercorn_h2: HypercornServer, h2_ssl_context: Any
) -> None:
    with httpwire.ConnectionPool(ssl_context=h2_ssl_context, http2=True) as pool:
        assert pool.request("GET", hypercorn_h2.url + "/").http_version == "HTTP/2"
        (conn,) = pool.connections
        assert (conn.state, conn.is_idle, conn.http_version) == ("IDLE", True, "HTTP/2")
        with pool.stream("GET", hypercorn_h2.url + "/") as response:
            assert (conn.state, conn.is_idle) == ("ACTIVE", False)
            response.read()
        assert conn.state == "IDLE"
    assert (conn.state, conn.is_closed) == ("CLOSED", True)


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
def test_async_an_idle_http2_connection_is_idle(
    runtime: str, hypercorn_h2: HypercornServer, h2_ssl_context: Any
) -> None:
    async def main() -> None:
        async with ahttpwire.ConnectionPool(ssl_context=h2_ssl_context, http2=True) as pool:
            response = await pool.request("GET", hypercorn_h2.url + "/")
            assert response.http_version == "HTTP/2"
            (conn,) = pool.connections
            assert (conn.state, conn.is_idle, conn.http_version) == ("IDLE", True, "HTTP/2")
            async with pool.stream("GET", hypercorn_h2.url + "/") as streamed:
                assert (conn.state, conn.is_idle) == ("ACTIVE", False)
                await streamed.aread()
            assert conn.state == "IDLE"
        assert (conn.state, conn.is_closed) == ("CLOSED", True)

    _run(runtime, main)


def test_the_pools_check_names_the_rule_a_broken_pool_breaks(http_server: Any) -> None:
    with httpwire.ConnectionPool() as pool:
        pool.request("GET", http_server.url + "/")
        pool.check()  # a healthy pool passes
        (conn,) = pool.connections
        pool._idle_order.pop(conn)
        with pytest.raises(AssertionError, match="_idle and _idle_order differ"):
            pool.check()
        pool._idle_order[conn] = None
        pool._slots += 1
        with pytest.raises(AssertionError, match="slots != sum of per-host counts"):
            pool.check()
        pool._slots -= 1
        pool.check()


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
def test_the_async_pools_check_names_the_rule_a_broken_pool_breaks(
    runtime: str, http_server: Any
) -> None:
    async def main() -> None:
        async with ahttpwire.ConnectionPool() as pool:
            await pool.request("GET", http_server.url + "/")
            pool.check()
            (conn,) = pool.connections
            pool._per_host.clear()
            with pytest.raises(AssertionError, match="slots != sum"):
                pool.check()
            pool._per_host[conn.origin] = 1
            pool.check()

    _run(runtime, main)


# Issue 11: no hand-written function in src/ over 80 lines (scripts/test checks their
# complexity with ruff's C901 too). Generated code is not checked: _sync/ (scripts/unasync) and
# _api.py (generated from the client's signatures).
LONG_FUNCTION_LINES = 80
# The exceptions, each with its reason; (file, function): its length today, so that it does not
# grow unnoticed either.
LONG_FUNCTION_EXCEPTIONS = {
    # The CLI's argument table: one add_argument() per option, nothing to split.
    ("_cli.py", "_build_parser"): 192,
    # The HTTP/2 engine's and HPACK's hot loops, inline on purpose: a split costs speed (the
    # measured costs are in the comments above them, with their noqa: C901).
    ("http2/_connection.py", "receive_data"): 128,
    ("http2/_hpack.py", "decode"): 104,
}


def _hand_written() -> list[str]:
    names = (path.relative_to(SRC).as_posix() for path in SRC.rglob("*.py"))
    return sorted(n for n in names if not n.startswith("_sync/") and n != "_api.py")


@pytest.mark.parametrize("name", _hand_written())
def test_no_function_over_80_lines(name: str) -> None:
    tree = ast.parse((SRC / name).read_text())
    long = {
        (name, node.name): node.end_lineno - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > LONG_FUNCTION_LINES
    }
    allowed = {key: n for key, n in LONG_FUNCTION_EXCEPTIONS.items() if key[0] == name}
    assert {key: n for key, n in long.items() if n > allowed.get(key, LONG_FUNCTION_LINES)} == {}
