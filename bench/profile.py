"""Profile httpwire in one of issue 14's small-request scenarios, in this process.

Usage (from the repository root)::

    .venv/bin/python -m bench.profile --scenario seq_small --cprofile bench/profiles/s1.pstats
    .venv/bin/py-spy record -r 997 -f speedscope -o bench/profiles/s1.speedscope.json -- \\
        .venv/bin/python -m bench.profile --scenario seq_small --n 60000
    .venv/bin/python -m bench.profile --layers bench/profiles/s1.pstats   # layer breakdown

Scenarios: ``seq_small`` (S1: ``httpwire.Client().get()`` of a 100-byte body on one keep-alive
connection), ``tls_small`` (S5: the same over TLS) and ``async_100`` (S3: 100 asyncio tasks
sharing one ``ahttpwire.Client`` with a pool of 100). It starts its own nginx (bench/nginx.py),
pins nginx and this process to CPUs as bench/run.py does (S1/S5 on one CPU, S3 one each), warms
up, then runs ``--n`` requests, under ``cProfile`` when ``--cprofile FILE`` is given (the stats
are dumped there, with the request count in ``FILE.json``). Without ``--cprofile`` it runs
unprofiled, for a sampling profiler started around it (py-spy, pyinstrument).

``--layers FILE`` prints where the time of a saved cProfile run goes, per request, by layer
(see :data:`LAYERS` for how a function is attributed to a layer).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for p in (str(REPO / "src"), str(REPO)):
    if p not in sys.path:
        sys.path.insert(0, p)

from bench.nginx import NginxServer  # noqa: E402

# (layer, test on the function's file name and function name). First match wins. The file name
# is the path cProfile records; built-in functions have "~" and a name like
# "<method 'recv_into' of '_socket.socket' objects>".
LAYERS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    # (layer, substrings of the file path, substrings of the function name)
    ("client", ("/httpwire/_sync/_client.py", "/httpwire/_async/_client.py", "/httpwire/_auth.py",
                "/httpwire/_cookies.py", "/httpwire/_config.py", "/httpwire/_api.py",
                "/ahttpwire/_api.py", "/httpwire/_trace.py", "/httpwire/_async/_trace.py",
                "/httpwire/_sync/_trace.py"), ()),
    ("models", ("/httpwire/_models.py", "/httpwire/_headers.py", "/httpwire/_urls.py",
                "/httpwire/_content.py", "/httpwire/_decoders.py", "/httpwire/_streams.py",
                "/httpwire/_status_codes.py", "/httpwire/_timeouts.py",
                "/httpwire/_stream_context.py", "/httpwire/_exceptions.py"), ()),
    ("pool", ("/httpwire/_sync/_pool.py", "/httpwire/_async/_pool.py",
              "/httpwire/_synchronization.py"), ()),
    ("connection", ("/httpwire/_sync/_connection.py", "/httpwire/_async/_connection.py",
                    "/httpwire/_sync/_interfaces.py", "/httpwire/_async/_interfaces.py"), ()),
    ("http11", ("/httpwire/http11/",), ()),
    ("backend", ("/httpwire/_backends/",), ()),
    ("syscalls", ("~",), ("recv", "send", "_ssl._SSLSocket", "select", "poll", "epoll",
                          "getsockopt", "setsockopt")),
    ("event loop", ("/asyncio/",), ()),
    ("ssl module", ("/ssl.py",), ()),
    ("socket module", ("/socket.py", "/selectors.py"), ()),
]  # fmt: skip


def layer_of(filename: str, funcname: str) -> str:
    """The layer a function belongs to (see :data:`LAYERS`); builtins not matched: "builtins"."""
    for layer, files, funcs in LAYERS:
        if any(f in filename for f in files) and (not funcs or any(f in funcname for f in funcs)):
            return layer
    if filename == "~":
        return "builtins (str/bytes/dict ops, isinstance, len, ...)"
    if "/httpwire/" in filename:
        return "httpwire (other)"
    return "stdlib / other"


def layers_report(path: Path, measured_us: float | None) -> str:
    """Markdown: per-layer self time per request from a cProfile dump (``path.json``: requests).

    Self time ("tottime") is summed per layer, so the rows add up to the total. Under cProfile
    every Python call costs extra (about 1 µs here), while a system call costs what it costs,
    so the last column scales every layer but "syscalls" by one factor that makes the total
    equal ``measured_us`` (CPU µs per request measured without the profiler), when given.
    """
    meta = json.loads(Path(str(path) + ".json").read_text())
    requests = int(meta["requests"])
    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    per_layer: dict[str, float] = {}
    calls: dict[str, int] = {}
    funcs: list[tuple[float, float, int, str, str]] = []
    total = 0.0
    for (filename, _line, funcname), (_cc, nc, tt, ct, _callers) in raw.items():
        layer = layer_of(filename, funcname)
        per_layer[layer] = per_layer.get(layer, 0.0) + tt
        calls[layer] = calls.get(layer, 0) + nc
        total += tt
        short = filename.split("/src/")[-1] if "/src/" in filename else filename.split("/")[-1]
        funcs.append((tt, ct, nc, f"{short}:{funcname}", layer))
    sys_us = 1e6 * per_layer.get("syscalls", 0.0) / requests
    total_us = 1e6 * total / requests
    scale = (measured_us - sys_us) / (total_us - sys_us) if measured_us else None
    lines = [
        f"{requests:,} requests; profiled total {1e6 * total / requests:.1f} µs/req"
        + (f"; unprofiled {measured_us:.1f} µs/req (scale {scale:.2f})" if scale else ""),
        "",
        "| layer | self µs/req (profiled) | share | calls/req |"
        + (" µs/req scaled to unprofiled |" if scale else ""),
        "|---|---|---|---|" + ("---|" if scale else ""),
    ]
    for layer, tt in sorted(per_layer.items(), key=lambda kv: -kv[1]):
        us = 1e6 * tt / requests
        row = f"| {layer} | {us:.1f} | {100 * tt / total:.0f}% | {calls[layer] / requests:.1f} |"
        if scale:
            row += f" {us if layer == 'syscalls' else us * scale:.1f} |"
        lines.append(row)
    lines += ["", "Top functions by self time (µs/req, profiled; cumulative in brackets):", ""]
    for tt, ct, nc, name, layer in sorted(funcs, reverse=True)[:30]:
        lines.append(
            f"- {1e6 * tt / requests:.2f} ({1e6 * ct / requests:.2f}) {name} "
            f"[{layer}, {nc / requests:.1f} calls/req]"
        )
    return "\n".join(lines)


def sampled_layers(
    path: Path, loop_markers: tuple[str, ...] = ("run_sync (", "run_forever (")
) -> str:
    """Markdown: share of py-spy samples (``--format raw``) per layer, by leaf Python frame.

    Only stacks that pass through the request loop (a frame named in ``loop_markers``: the sync
    loop, or the asyncio event loop) are counted, so nginx's start and the imports are left out
    (the warm-up is counted; it is small against ``--n``), and so are imports. py-spy sees Python frames only: the time of a
    system call (``sock.send``, ``recv_into``, ``SSLSocket.read``) lands on the Python function
    that made it (mostly the backend's ``write`` / ``read``), so "backend" here includes the
    syscalls that cProfile lists separately.
    """
    per_layer: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not any(m in stack for m in loop_markers) or "importlib" in stack:
            continue
        leaf = stack.split(";")[-1]
        # "func (path/to/file.py:123)"
        name, _, where = leaf.rpartition(" (")
        filename = where.rsplit(":", 1)[0]
        layer = layer_of("/" + filename.lstrip("/"), name)
        if filename.endswith("bench/profile.py"):
            layer = "benchmark loop"
        per_layer[layer] = per_layer.get(layer, 0) + int(count)
        total += int(count)
    lines = [f"{total:,} samples in the measured loop", "", "| layer | share of samples |"]
    lines.append("|---|---|")
    for layer, n in sorted(per_layer.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {layer} | {100 * n / total:.0f}% |")
    return "\n".join(lines)


def _pin(server: NginxServer, same_cpu: bool) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return
    os.sched_setaffinity(server.pid, {cpus[-1]})
    os.sched_setaffinity(0, {cpus[-1]} if same_cpu else {cpus[-2]})


def run_sync(url: str, ca: str, n: int, prof: cProfile.Profile | None) -> tuple[int, float]:
    import ssl

    import httpwire

    verify: Any = ssl.create_default_context(cafile=ca) if ca else True
    with httpwire.Client(verify=verify) as client:
        for _ in range(500):
            _ = client.get(url).content
        cpu0 = time.process_time()
        if prof:
            prof.enable()
        for _ in range(n):
            _ = client.get(url).content
        if prof:
            prof.disable()
        return n, time.process_time() - cpu0


async def run_async(url: str, n: int, prof: cProfile.Profile | None) -> tuple[int, float]:
    import ahttpwire

    tasks = 100
    async with ahttpwire.Client(limits=ahttpwire.Limits(max_connections=tasks)) as client:
        left = 0

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                _ = (await client.get(url)).content

        left = 2000
        await asyncio.gather(*(worker() for _ in range(tasks)))
        left = n
        cpu0 = time.process_time()
        if prof:
            prof.enable()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        if prof:
            prof.disable()
        return n, time.process_time() - cpu0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--scenario", choices=["seq_small", "tls_small", "async_100"])
    parser.add_argument("--n", type=int, default=20_000, help="measured requests")
    parser.add_argument("--cprofile", type=Path, help="profile with cProfile, dump stats here")
    parser.add_argument("--layers", type=Path, help="report a saved cProfile dump by layer")
    parser.add_argument("--measured-us", type=float, help="unprofiled CPU µs/req (--layers)")
    parser.add_argument("--sampled", type=Path, help="report py-spy --format raw output by layer")
    args = parser.parse_args(argv)
    if args.layers or args.sampled:
        if args.layers:
            print(layers_report(args.layers, args.measured_us))
        if args.sampled:
            print(sampled_layers(args.sampled))
        return 0
    if not args.scenario:
        parser.error("--scenario is required")
    prof = cProfile.Profile() if args.cprofile else None
    with NginxServer() as server:
        _pin(server, same_cpu=args.scenario != "async_100")
        if args.scenario == "async_100":
            done, cpu = asyncio.run(run_async(server.base_url + "/small", args.n, prof))
        else:
            tls = args.scenario == "tls_small"
            base = server.tls_base_url if tls else server.base_url
            done, cpu = run_sync(base + "/small", server.ca_file if tls else "", args.n, prof)
    print(f"{args.scenario}: {done} requests, {1e6 * cpu / done:.1f} CPU µs/req", file=sys.stderr)
    if prof and args.cprofile:
        prof.dump_stats(str(args.cprofile))
        Path(str(args.cprofile) + ".json").write_text(
            json.dumps({"scenario": args.scenario, "requests": done, "cpu_us": 1e6 * cpu / done})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
