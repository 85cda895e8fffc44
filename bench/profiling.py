"""Profile httpwire in one of issue 14's small-request scenarios, in this process.

Usage (from the repository root)::

    .venv/bin/python -m bench.profiling --scenario seq_small --cprofile bench/profiles/s1.pstats
    .venv/bin/py-spy record -r 997 -f speedscope -o bench/profiles/s1.speedscope.json -- \\
        .venv/bin/python -m bench.profiling --scenario seq_small --n 60000
    .venv/bin/python -m bench.profiling --layers bench/profiles/s1.pstats   # layer breakdown

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
from collections.abc import Callable
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
    ("benchmark loop", ("/bench/profiling.py",), ()),
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
    ("TLS (ssl read/write: record crypto + syscalls)", ("~",), ("_ssl._SSLSocket",)),
    ("syscalls", ("~",), ("recv", "send", "select", "poll", "epoll", "getsockopt",
                          "setsockopt")),
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
    every call costs extra (a CPU-time reading per event), so the profiled total is several
    times the real one. When ``measured_us`` (CPU µs per request measured without the
    profiler) is given, the last column removes the same overhead ``c`` from every call,
    ``c = (profiled total - measured_us) / calls per request``, clamped at zero per layer: the
    calibration the ``profile`` module documents, applied to layers rather than functions. A
    layer of many cheap calls (builtins) is then approximate; the order of the big layers and
    the syscall figures are robust.
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
    total_us = 1e6 * total / requests
    calls_per_req = sum(calls.values()) / requests
    scale = (total_us - measured_us) / calls_per_req if measured_us else None
    lines = [
        f"{requests:,} requests; profiled total {1e6 * total / requests:.1f} µs/req"
        + (
            f"; unprofiled {measured_us:.1f} µs/req; profiler overhead {scale:.2f} µs per call"
            if scale is not None
            else ""
        ),
        "",
        "| layer | self µs/req (profiled) | share | calls/req |"
        + (" µs/req, overhead removed |" if scale is not None else ""),
        "|---|---|---|---|" + ("---|" if scale is not None else ""),
    ]
    for layer, tt in sorted(per_layer.items(), key=lambda kv: -kv[1]):
        us = 1e6 * tt / requests
        row = f"| {layer} | {us:.1f} | {100 * tt / total:.0f}% | {calls[layer] / requests:.1f} |"
        if scale is not None:
            row += f" {max(0.0, us - scale * calls[layer] / requests):.1f} |"
        lines.append(row)
    lines += ["", "Top functions by self time (µs/req, profiled; cumulative in brackets):", ""]
    for tt, ct, nc, name, layer in sorted(funcs, reverse=True)[:30]:
        lines.append(
            f"- {1e6 * tt / requests:.2f} ({1e6 * ct / requests:.2f}) {name} "
            f"[{layer}, {nc / requests:.1f} calls/req]"
        )
    return "\n".join(lines)


TLS_LAYER = "TLS (ssl read/write: record crypto + syscalls)"

# Source lines that are (mostly) a system call or TLS record work, for sampled stacks: py-spy
# sees Python frames only, so the time of ``sock.send`` lands on the line that calls it.
_TLS_LINE = ("_sslobj.",)
_SYSCALL_LINE = ("_sock.send", "_sock.recv", "sock.send(", "sock.recv", "sendall(", "recv_into(",
                 "selector.poll(", ".select(", "epoll", "_sock.setsockopt")  # fmt: skip


def _sampled_layer(leaf: str) -> str:
    """The layer of one py-spy leaf frame ``func (/abs/path/file.py:LINE)``."""
    import linecache

    name, _, where = leaf.rpartition(" (")
    filename, _, line = where.rstrip(")").rpartition(":")
    if filename.endswith("bench/profiling.py"):
        return "benchmark loop"
    text = linecache.getline(filename, int(line)) if line.isdigit() else ""
    # The whole of ssl.py's SSLSocket.send/recv and selectors.py's select() is inside the calls
    # that --io-times measures, so their Python lines belong to those rows too.
    if any(t in text for t in _TLS_LINE) or filename.endswith("/ssl.py"):
        return TLS_LAYER
    if filename.endswith("/selectors.py"):
        return "syscalls"
    if any(t in text for t in _SYSCALL_LINE):
        return "syscalls"
    return layer_of(filename, name)


def sampled_shares(
    path: Path, loop_markers: tuple[str, ...] = ("run_sync (", "run_forever (")
) -> tuple[dict[str, int], int]:
    """Samples per layer (by leaf frame) of a py-spy ``--format raw --full-filenames`` file,
    counting only stacks through the request loop (see :func:`sampled_layers`)."""
    per_layer: dict[str, int] = {}
    total = 0
    if path.suffix == ".gz":
        import gzip

        text = gzip.decompress(path.read_bytes()).decode()
    else:
        text = path.read_text()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not any(m in stack for m in loop_markers) or "importlib" in stack:
            continue
        layer = _sampled_layer(stack.split(";")[-1])
        per_layer[layer] = per_layer.get(layer, 0) + int(count)
        total += int(count)
    return per_layer, total


def combined_report(io_path: Path, raw_path: Path, measured_us: float) -> str:
    """Markdown: µs per request by layer, from the I/O timings, py-spy and the unprofiled CPU.

    The syscall and TLS layers come from an ``--io-times`` run (each socket / TLS call timed
    in CPU time, the wrapper's own cost per call subtracted); the rest of ``measured_us`` is
    split among the Python layers in proportion to py-spy's samples (a sampler adds no
    per-call cost, and a builtin such as ``dict.get`` counts toward the layer that called it).
    """
    io = json.loads(io_path.read_text())
    requests = int(io["requests"])
    overhead = float(io["overhead_ns_per_call"])
    exact: dict[str, float] = {}
    details: list[str] = []
    for key, v in io["calls"].items():
        layer = TLS_LAYER if key.startswith("SSLSocket.") else "syscalls"
        us = max(0.0, (v["ns"] - overhead * v["calls"]) / 1e3 / requests)
        exact[layer] = exact.get(layer, 0.0) + us
        details.append(f"`{key}` {us:.1f} µs ({v['calls'] / requests:.2f} calls)")
    shares, total = sampled_shares(raw_path)
    rest = {k: v for k, v in shares.items() if k not in exact}
    rest_total = sum(rest.values())
    left = measured_us - sum(exact.values())
    rows = [(k, v) for k, v in exact.items()]
    rows += [(k, left * v / rest_total) for k, v in rest.items()]
    lines = [
        f"CPU per request {measured_us:.1f} µs (unprofiled); {total:,} samples; I/O calls per "
        "request: " + ", ".join(details) + f" (wrapper cost {overhead:.0f} ns/call removed)",
        "",
        "| layer | µs/req | share |",
        "|---|---|---|",
    ]
    for k, v in sorted(rows, key=lambda kv: -kv[1]):
        lines.append(f"| {k} | {v:.1f} | {100 * v / measured_us:.0f}% |")
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
    per_layer, total = sampled_shares(path, loop_markers)
    lines = [f"{total:,} samples in the measured loop", "", "| layer | share of samples |"]
    lines.append("|---|---|")
    for layer, n in sorted(per_layer.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {layer} | {100 * n / total:.0f}% |")
    return "\n".join(lines)


# Called when the measured loop starts (after the warm-up): --io-times resets its counts here.
_ON_MEASURE: list[Callable[[], None]] = []


def _io_methods() -> list[tuple[Any, str]]:
    """Socket and TLS methods timed by --io-times: the calls that end in a system call (and,
    for TLS, record encryption or decryption). SSLSocket.sendall is left out: it calls send."""
    import selectors
    import socket
    import ssl

    return [
        (selectors.EpollSelector, "select"),
        (socket.socket, "send"),
        (socket.socket, "sendall"),
        (socket.socket, "recv"),
        (socket.socket, "recv_into"),
        (ssl.SSLSocket, "send"),
        (ssl.SSLSocket, "recv"),
        (ssl.SSLSocket, "recv_into"),
    ]


def time_io_calls(acc: dict[str, list[int]]) -> float:
    """Wrap the socket and TLS I/O methods so each call's CPU time (``thread_time_ns``) and
    count are added to ``acc["<class>.<method>"]`` (``[ns, calls]``); return the wrapper's own
    cost per call, in ns.

    Far lighter than cProfile (two clock readings per I/O call instead of per Python call),
    which matters: under cProfile the same TLS calls measured 8.5 + 5.5 µs per request, here
    5.6 + 3.1, because cProfile's clock system calls (hundreds per request) slow the
    surrounding kernel and OpenSSL work down too. The wrapper's own cost, subtracted by
    :func:`combined_report`, is measured here on a trivial call.
    """
    clock = time.thread_time_ns

    def wrap(cls: Any, name: str) -> None:
        orig = getattr(cls, name)
        key = f"{cls.__name__}.{name}"

        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return orig(self, *args, **kwargs)
            finally:
                slot = acc.get(key)
                if slot is None:
                    slot = acc[key] = [0, 0]
                slot[0] += clock() - t0
                slot[1] += 1

        setattr(cls, name, timed)

    for cls, name in _io_methods():
        wrap(cls, name)

    class Probe:
        def nop(self) -> None:
            return None

    wrap(Probe, "nop")
    probe = Probe()
    for _ in range(1000):
        probe.nop()
    acc.pop("Probe.nop", None)
    n = 20000
    for _ in range(n):
        probe.nop()
    return acc.pop("Probe.nop")[0] / n


def _pin(server: NginxServer, same_cpu: bool) -> None:
    """nginx on the last CPU; this process on the same one or the one before."""
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
        for hook in _ON_MEASURE:
            hook()
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
        for hook in _ON_MEASURE:
            hook()
        if prof:
            prof.enable()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        if prof:
            prof.disable()
        return n, time.process_time() - cpu0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--scenario", choices=["seq_small", "tls_small", "async_100"])
    parser.add_argument(
        "--split-cpus",
        action="store_true",
        help="nginx and this process on different CPUs even in S1/S5 (for wall-clock samplers)",
    )
    parser.add_argument("--n", type=int, default=20_000, help="measured requests")
    parser.add_argument("--cprofile", type=Path, help="profile with cProfile, dump stats here")
    parser.add_argument(
        "--io-times",
        type=Path,
        help="time only the socket/TLS I/O calls (see time_io_calls); write µs/req JSON here",
    )
    parser.add_argument("--layers", type=Path, help="report a saved cProfile dump by layer")
    parser.add_argument("--measured-us", type=float, help="unprofiled CPU µs/req (--layers)")
    parser.add_argument("--sampled", type=Path, help="report py-spy --format raw output by layer")
    parser.add_argument(
        "--combined",
        nargs=2,
        type=Path,
        metavar=("IO_JSON", "RAW"),
        help="µs/req by layer from an --io-times file and a py-spy raw file (needs --measured-us)",
    )
    args = parser.parse_args(argv)
    if args.combined:
        if args.measured_us is None:
            parser.error("--combined needs --measured-us")
        print(combined_report(args.combined[0], args.combined[1], args.measured_us))
        return 0
    if args.layers or args.sampled:
        if args.layers:
            print(layers_report(args.layers, args.measured_us))
        if args.sampled:
            print(sampled_layers(args.sampled))
        return 0
    if not args.scenario:
        parser.error("--scenario is required")
    # CPU time, not wall time: with nginx on the same CPU (S1, S5) a send() that wakes nginx
    # is often preempted until nginx has answered, and a wall clock would charge nginx's work
    # to sock.send. thread_time costs a system call per event (the profiled total grows more
    # than with the default timer); --layers scales the Python layers back (see layers_report).
    prof = cProfile.Profile(time.thread_time_ns, 1e-9) if args.cprofile else None
    io_acc: dict[str, list[int]] = {}
    io_overhead_ns = time_io_calls(io_acc) if args.io_times else 0.0
    _ON_MEASURE.append(io_acc.clear)
    with NginxServer() as server:
        _pin(server, same_cpu=args.scenario != "async_100" and not args.split_cpus)
        if args.scenario == "async_100":
            done, cpu = asyncio.run(run_async(server.base_url + "/small", args.n, prof))
        else:
            tls = args.scenario == "tls_small"
            base = server.tls_base_url if tls else server.base_url
            done, cpu = run_sync(base + "/small", server.ca_file if tls else "", args.n, prof)
    print(f"{args.scenario}: {done} requests, {1e6 * cpu / done:.1f} CPU µs/req", file=sys.stderr)
    if args.io_times:
        # The counts cover the measured loop and the final body check only.
        args.io_times.write_text(
            json.dumps(
                {
                    "scenario": args.scenario,
                    "requests": done,
                    "cpu_us": 1e6 * cpu / done,
                    "overhead_ns_per_call": io_overhead_ns,
                    "calls": {k: {"ns": v[0], "calls": v[1]} for k, v in io_acc.items()},
                },
                indent=1,
            )
        )
    if prof and args.cprofile:
        prof.dump_stats(str(args.cprofile))
        Path(str(args.cprofile) + ".json").write_text(
            json.dumps({"scenario": args.scenario, "requests": done, "cpu_us": 1e6 * cpu / done})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
