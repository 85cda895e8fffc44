"""Upload benchmark: a 100 MB file sent with ``content=`` and with ``files=``, httpwire beside httpx.

Usage (from the repository root)::

    .venv/bin/python bench/upload.py [--size-mb 100] [--rounds 3] [--repeat 5]
                                     [--clients a,b] [--modes m,n]

Writes a file of ``--size-mb`` MB (10^6 bytes) of pseudo-random bytes to a temporary directory,
starts the benchmark nginx (bench/nginx.py), whose ``/sink`` reads and discards any request
body and answers 204, and POSTs the file there once per run, each run in a fresh child process
(``bench/upload.py --child ...``) so that its peak RSS (``VmHWM``: interpreter, imports and
the upload together) is its own. One small request first opens the connection; the timed part
is the upload alone: wall time, CPU time (user + system) of the client process, and throughput
in MB/s. Runs are interleaved across clients and repeated ``--rounds`` times; medians are
printed as a Markdown table (the CPU and peak RSS columns too).

Clients: ``httpwire`` (sync), ``ahttpwire-asyncio``, ``ahttpwire-trio``, ``httpx`` (sync) and
``httpx-async`` (asyncio). Each child uploads ``--repeat`` times (default 5) on its connection
and reports its median upload; a single 100 MB upload takes tens of milliseconds, too short to
measure alone on a shared machine. Modes: ``content`` (``content=open(path, "rb")``) and ``files``
(``files={"upload": open(path, "rb")}``). A client that fails shows as ``failed: ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CLIENTS = ["httpwire", "ahttpwire-asyncio", "ahttpwire-trio", "httpx", "httpx-async"]
MODES = ["content", "files"]


def _body_kwargs(mode: str, f: Any) -> dict[str, Any]:
    return {"content": f} if mode == "content" else {"files": {"upload": f}}


def child(client: str, mode: str, url: str, path: str, repeat_text: str) -> dict[str, Any]:
    """``repeat`` uploads in this process, one after the other on one connection; returns the
    median figures of one upload (seconds, cpu) and the process's peak RSS and last status."""
    size = os.path.getsize(path)
    repeat = int(repeat_text)
    timing: dict[str, Any] = {}

    walls: list[float] = []
    cpus: list[float] = []

    def start() -> None:
        timing["t0"] = time.perf_counter()
        timing["c0"] = time.process_time()

    def stop(status: int) -> None:
        walls.append(time.perf_counter() - timing["t0"])
        cpus.append(time.process_time() - timing["c0"])
        timing["status"] = status

    if client in ("httpwire", "httpx"):
        if client == "httpwire":
            import httpwire as lib
        else:
            import httpx as lib  # type: ignore[no-redef]
        with lib.Client(timeout=120) as c:  # type: ignore[attr-defined]
            c.get(url.replace("/sink", "/small"))
            for _ in range(repeat):
                with open(path, "rb") as f:
                    start()
                    response = c.post(url, **_body_kwargs(mode, f))
                    stop(response.status_code)
    else:
        flavour, _, runtime = client.partition("-")

        async def main() -> None:
            if flavour == "ahttpwire":
                import ahttpwire

                c: Any = ahttpwire.Client(timeout=120)
            else:
                import httpx

                c = httpx.AsyncClient(timeout=120)
            async with c:
                await c.get(url.replace("/sink", "/small"))
                for _ in range(repeat):
                    with open(path, "rb") as f:
                        start()
                        response = await c.post(url, **_body_kwargs(mode, f))
                        stop(response.status_code)

        if runtime == "trio":
            import trio

            trio.run(main)
        else:
            import asyncio

            asyncio.run(main())
    seconds = statistics.median(walls)
    return {
        "seconds": seconds,
        "cpu": statistics.median(cpus),
        "mb_per_s": size / 1e6 / seconds,
        "peak_rss_mib": _peak_rss_mib(),
        "status": timing["status"],
    }


def _peak_rss_mib() -> float:
    """This process's peak RSS (``VmHWM``): unlike ``ru_maxrss``, not inherited from the
    parent across ``execve`` on Linux."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_child(client: str, mode: str, url: str, path: str, repeat: int) -> dict[str, Any] | str:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    argv = [sys.executable, str(Path(__file__)), "--child", client, mode, url, path, str(repeat)]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    except subprocess.TimeoutExpired:
        return "failed: timed out after 600 s"
    for line in out.stdout.splitlines():
        if line.startswith("UPLOAD-RESULT "):
            result: dict[str, Any] = json.loads(line.split(" ", 1)[1])
            if result["status"] != 204:
                return f"failed: HTTP {result['status']}"
            return result
    tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
    return f"failed: {tail[:120]}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        result = child(*argv[1:6])
        print("UPLOAD-RESULT " + json.dumps(result), flush=True)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args(argv)
    clients = [c for c in args.clients.split(",") if c]
    modes = [m for m in args.modes.split(",") if m]

    from bench.nginx import NginxServer

    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    failures: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory(prefix="httpwire-upload-") as tmp, NginxServer() as nginx:
        path = os.path.join(tmp, "upload.bin")
        block = os.urandom(1 << 20)
        with open(path, "wb") as f:
            remaining = args.size_mb * 1_000_000
            while remaining:
                n = min(remaining, len(block))
                f.write(block[:n])
                remaining -= n
        url = nginx.base_url + "/sink"
        for round_no in range(args.rounds):
            for mode in modes:
                for client in clients:
                    if (client, mode) in failures:
                        continue
                    outcome = _run_child(client, mode, url, path, args.repeat)
                    if isinstance(outcome, str):
                        failures[(client, mode)] = outcome
                        print(f"round {round_no + 1} {mode} {client}: {outcome}", file=sys.stderr)
                        continue
                    results.setdefault((client, mode), []).append(outcome)
                    print(
                        f"round {round_no + 1} {mode} {client}: {outcome['mb_per_s']:.0f} MB/s, "
                        f"{outcome['peak_rss_mib']:.1f} MiB",
                        file=sys.stderr,
                    )

    print(
        f"Upload of a {args.size_mb} MB file to nginx's /sink: medians of {args.rounds} child "
        f"processes x {args.repeat} uploads"
    )
    print()
    print("| mode | client | MB/s | wall s | CPU s | peak RSS MiB |")
    print("|---|---|---:|---:|---:|---:|")
    for mode in modes:
        for client in clients:
            if (client, mode) in failures and (client, mode) not in results:
                print(f"| {mode} | {client} | {failures[(client, mode)]} | | | |")
                continue
            runs = results.get((client, mode), [])
            if not runs:
                continue

            def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
                return statistics.median(r[key] for r in runs)

            print(
                f"| {mode} | {client} | {med('mb_per_s'):.0f} | {med('seconds'):.3f} | "
                f"{med('cpu'):.3f} | {med('peak_rss_mib'):.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
