"""httpwire benchmark harness: httpwire against raw sockets, http.client, urllib3, httpx, aiohttp.

Usage (from the repository root)::

    .venv/bin/python bench/run.py [--quick] [--scenarios a,b] [--clients x,y] [--rounds R]
                                  [--write-docs] [--json FILE]

Starts a private nginx on 127.0.0.1 (bench/nginx.py), then runs every (client, scenario) pair
in a fresh child process (``python -m bench.clients``), interleaved round-robin across clients
and repeated ``R`` times, and prints a Markdown table of medians to stdout (progress goes to
stderr). ``--write-docs`` also rewrites the results section of docs/benchmarks.md. A client
whose run fails is reported as ``failed: <one line>`` and is not retried in later rounds; the
run always goes on. nginx is stopped by its PID at the end, on errors and on Ctrl-C.

See bench/README.md and docs/benchmarks.md for the method and how to read the ratios.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import http.client
import json
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.clients import (  # noqa: E402
    ANCHORS,
    ASYNC_CLIENTS,
    COMPILED,
    SCENARIOS,
    SHAPES,
    SYNC_CLIENTS,
    TRIO_CLIENTS,
)
from bench.nginx import FILES, NginxServer, nginx_version  # noqa: E402

DOCS = REPO / "docs" / "benchmarks.md"
BEGIN = "<!-- results:begin (written by bench/run.py --write-docs) -->"
END = "<!-- results:end -->"


@dataclass(frozen=True)
class Params:
    """Bounds of one measured run: at most ``n`` requests and at most ``seconds`` of wall time."""

    n: int
    seconds: float
    warmup: int


# scenario -> (default, --quick). Warm-up is also bounded to max(0.5, seconds / 2) seconds
# (async: max(1, seconds / 2)).
PARAMS: dict[str, tuple[Params, Params]] = {
    "seq_small": (Params(30_000, 1.2, 500), Params(10_000, 0.5, 200)),
    "tls_small": (Params(30_000, 1.2, 500), Params(10_000, 0.5, 200)),
    "get_1m": (Params(1_000, 0.8, 10), Params(200, 0.4, 5)),
    "get_16m": (Params(40, 0.8, 2), Params(10, 0.4, 1)),
    "async_100": (Params(30_000, 1.2, 200), Params(10_000, 0.5, 100)),
    # The deeper-queue and trio runs are shorter: at least 1,000 requests are still in flight
    # at the deadline (a slow client takes seconds to finish them), and 0.8 s gives several
    # thousand requests per run for every client but httpx.
    "async_1000": (Params(30_000, 0.8, 200), Params(10_000, 0.4, 100)),
    "trio_100": (Params(30_000, 0.8, 200), Params(10_000, 0.4, 100)),
    "trio_1000": (Params(30_000, 0.8, 200), Params(10_000, 0.4, 100)),
}
# (fewer tasks, more tasks) on the same pool size: the per-request CPU of the second over the
# first is issue 4's "no quadratic pool" figure (target: within 20% for ahttpwire).
SCALING = [("async_100", "async_1000"), ("trio_100", "trio_1000")]
SCALING_TARGET = 1.20
DEFAULT_ROUNDS = 5
QUICK_ROUNDS = 2
# Where nginx and the client run (see docs/benchmarks.md, "CPU placement"). A sequential
# request/response ping-pong is fastest and steadiest with both on one CPU (no cross-CPU wake-up
# per request); bulk transfers and 100 concurrent tasks keep both busy, so they get one each.
SAME_CPU = {"seq_small", "tls_small"}
# Scenarios over nginx's TLS port.
TLS = {"tls_small"}
# Scenarios whose main figure is a byte rate (MB/s) rather than a request rate.
BYTE_RATE = {"get_1m", "get_16m"}
TITLES = {
    "seq_small": "seq_small: sync, 1 keep-alive connection, sequential GET /small (100 B)",
    "tls_small": "tls_small: sync TLS, 1 keep-alive connection, sequential GET /small (100 B)",
    "get_1m": "get_1m: sync, GET /1m (1 MiB) repeatedly on one connection, body in memory",
    "get_16m": "get_16m: sync, GET /16m (16 MiB) repeatedly, body in memory, peak RSS",
    "async_100": "async_100: asyncio, 100 tasks sharing one client (pool of 100), GET /small",
    "async_1000": "async_1000: asyncio, 1,000 tasks sharing one client (pool of 100), GET /small",
    "trio_100": "trio_100: trio, 100 tasks sharing one client (pool of 100), GET /small",
    "trio_1000": "trio_1000: trio, 1,000 tasks sharing one client (pool of 100), GET /small",
}


@dataclass
class Outcome:
    """All runs of one client in one scenario."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    failed: str | None = None
    skipped: str | None = None
    version: str = ""


def clients_for(scenario: str) -> list[str]:
    kind = SCENARIOS[scenario][1]
    if kind == "sync":
        return SYNC_CLIENTS
    return TRIO_CLIENTS if kind == "trio" else ASYNC_CLIENTS


def _digest(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # Measure the working tree's httpwire, installed or not.
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONASYNCIODEBUG", None)
    env.pop("PYTHONDEVMODE", None)
    return env


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def placement(scenario: str, mode: str) -> tuple[set[int], set[int]] | None:
    """``(nginx CPUs, client CPUs)`` for ``scenario``, or None to leave both to the scheduler."""
    cpus = sorted(os.sched_getaffinity(0))
    if mode == "none" or len(cpus) < 2:
        return None
    if scenario in SAME_CPU:
        return {cpus[-1]}, {cpus[-1]}
    return {cpus[-1]}, {cpus[-2]}


class StatusSampler:
    """nginx's ``stub_status`` around one child run: connections opened, and the peak open.

    One keep-alive connection to ``/status`` is opened before the child starts (so it is in
    the first ``accepts`` reading and is not counted as the client's). With ``interval`` set, a
    thread reads ``Active connections`` every ``interval`` seconds while the child runs, pinned
    to ``cpus`` (nginx's CPUs, so it does not take the client's). Without it, only the counts
    before and after are read. Every method raises OSError or ValueError if the status page
    cannot be read.
    """

    def __init__(self, port: int, interval: float | None, cpus: set[int] | None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        self.interval = interval
        self.cpus = cpus
        self.accepts0, _active = self.sample()
        self.peak = 0
        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        if interval is not None:
            self.thread = threading.Thread(target=self._poll, name="stub_status", daemon=True)
            self.thread.start()

    def sample(self) -> tuple[int, int]:
        """``(accepts, active)``: connections accepted so far and open now, this one included."""
        self.conn.request("GET", "/status")
        text = self.conn.getresponse().read().decode("latin-1")
        # "Active connections: N \nserver accepts handled requests\n A H R \n..."
        lines = text.splitlines()
        active = int(lines[0].split(":", 1)[1])
        for i, line in enumerate(lines):
            if line.startswith("server accepts"):
                return int(lines[i + 1].split()[0]), active
        raise ValueError("no 'server accepts' line in nginx stub_status output")

    def _poll(self) -> None:
        assert self.interval is not None
        if self.cpus:
            # On Linux this pins only the calling thread.
            os.sched_setaffinity(0, self.cpus)
        try:
            while not self.stopping.wait(self.interval):
                _accepts, active = self.sample()
                self.peak = max(self.peak, active - 1)
        except (OSError, ValueError) as exc:
            self.error = exc

    def finish(self) -> tuple[int, int | None]:
        """Stop polling; return ``(connections opened, peak open or None)`` since the start.

        The peak is the highest sampled count of open connections other than the sampler's
        own; None without polling or if polling failed. It would include a previous child's
        connections that nginx had not yet seen closed, so it can only err upwards.
        """
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
        try:
            accepts, _active = self.sample()
        finally:
            self.conn.close()
        peak = None
        if self.thread is not None and self.error is None:
            peak = self.peak
        return accepts - self.accepts0, peak


def run_child(
    server: NginxServer,
    client: str,
    scenario: str,
    params: Params,
    files: dict[str, tuple[int, str]],
    affinity: str,
) -> dict[str, Any]:
    """Run one measurement in a fresh process; return its result dict (``ok`` tells success).

    The child is killed if it outlives ``2 * seconds + 20`` seconds of wall time.
    """
    path = SCENARIOS[scenario][0]
    length, sha = files[path.lstrip("/")]
    tls = scenario in TLS
    if tls and not server.tls_base_url:
        return {"ok": False, "skip": "no TLS listener (trustme is not installed)"}
    cmd = [
        sys.executable,
        "-m",
        "bench.clients",
        "--client",
        client,
        "--scenario",
        scenario,
        "--url",
        (server.tls_base_url if tls else server.base_url) + path,
        "--length",
        str(length),
        "--sha256",
        sha,
        "--n",
        str(params.n),
        "--seconds",
        str(params.seconds),
        "--warmup",
        str(params.warmup),
    ]
    where = placement(scenario, affinity)
    all_cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(server.pid, where[0] if where else all_cpus)
    if tls:
        cmd += ["--ca", server.ca_file]
    if where:
        cmd += ["--cpus", ",".join(map(str, sorted(where[1])))]
    limit = 2 * params.seconds + 20
    try:
        # Concurrent scenarios: also sample how many connections are open at once (50 Hz).
        interval = 0.02 if scenario in SHAPES else None
        sampler: StatusSampler | None = StatusSampler(
            server.port, interval, where[0] if where else None
        )
    except (OSError, ValueError):
        sampler = None
    try:
        proc = subprocess.run(
            cmd, cwd=REPO, env=_child_env(), capture_output=True, text=True, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {limit:.0f} s"}
    finally:
        counts: tuple[int, int | None] | None = None
        if sampler is not None:
            try:
                counts = sampler.finish()
            except (OSError, ValueError):
                pass
    result: dict[str, Any] | None = None
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            result = json.loads(line[len("BENCH-RESULT ") :])
    if result is None:
        why = _last_line(proc.stderr) or _last_line(proc.stdout) or "no output"
        return {"ok": False, "error": f"exit code {proc.returncode}: {why}"}
    if result.get("ok") and counts is not None:
        result["connections"] = counts[0]
        if counts[1] is not None:
            result["peak_open"] = counts[1]
    return result


P1 = "p1"
P1_TITLE = "p1: h11-compatible API, new Connection + GET + 200/8 headers/100 B, vs h11 (in-process)"


def run_p1(quick: bool, affinity: str) -> dict[str, Any]:
    """Issue 14's P1 in a fresh process (``bench/http11.py --p1-json``), on the client's CPU."""
    cmd = [sys.executable, str(REPO / "bench" / "http11.py"), "--p1-json"]
    if quick:
        cmd.append("--quick")
    where = placement("get_1m", affinity)
    preexec = None
    if where:
        cpus = where[1]

        def preexec() -> None:
            os.sched_setaffinity(0, cpus)

    try:
        proc = subprocess.run(
            cmd,
            cwd=REPO,
            env=_child_env(),
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=preexec,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "timed out after 120 s"}
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            result: dict[str, Any] = json.loads(line[len("BENCH-RESULT ") :])
            return result
    why = _last_line(proc.stderr) or _last_line(proc.stdout) or "no output"
    return {"ok": False, "error": f"exit code {proc.returncode}: {why}"}


def p1_table(out: Outcome) -> str:
    """The P1 section: medians over the rounds of each round's best µs per iteration."""
    lines = [f"### {P1_TITLE}", ""]
    if out.failed or not out.runs:
        lines.append(f"failed: {out.failed or 'no runs'}")
        return "\n".join(lines)
    med = {k: _median(out.runs, k) for k in ("httpwire", "h11", "httpwire_send", "h11_send")}
    ratio = _median(out.runs, "ratio")
    lines += [
        "| part | httpwire µs | h11 µs | h11 ÷ httpwire |",
        "|---|---|---|---|",
        f"| whole cycle | {med['httpwire']:.2f} | {med['h11']:.2f} | {ratio:.2f}x |",
        f"| send side (new Connection, Request, EndOfMessage) | {med['httpwire_send']:.2f} "
        f"| {med['h11_send']:.2f} | {med['h11_send'] / med['httpwire_send']:.2f}x |",
        f"| receive side (the rest) | {med['httpwire'] - med['httpwire_send']:.2f} "
        f"| {med['h11'] - med['h11_send']:.2f} "
        f"| {(med['h11'] - med['h11_send']) / (med['httpwire'] - med['httpwire_send']):.2f}x |",
        "",
        f"{len(out.runs)} process(es); each reports the best of 7 interleaved rounds of 2,000 "
        "iterations (CPU time); the table gives the median of those bests.",
    ]
    return "\n".join(lines)


# Issue 14's table: (row label, scenario, the httpwire client, figure). "cpu" rows give CPU
# µs/req; "xraw" rows give MB/s as a multiple of the raw client's.
SUMMARY_ROWS = [
    ("S1 sync, small GET, keep-alive", "seq_small", "httpwire", "cpu"),
    ("S5 sync TLS, small GET", "tls_small", "httpwire", "cpu"),
    ("S3 asyncio, 100 tasks, small GET", "async_100", "ahttpwire", "cpu"),
    ("S2 sync 1 MiB body, MB/s (x raw)", "get_1m", "httpwire", "xraw"),
    ("S2b 16 MiB body, MB/s (x raw)", "get_16m", "httpwire", "xraw"),
]
SUMMARY_COLUMNS = ["http.client", "aiohttp", "pyreqwest", "pycurl", "raw"]


def key_ratios(results: dict[str, dict[str, Outcome]]) -> dict[str, float]:
    """The ratios scripts/bench-check guards, all "higher is better", from one run's medians.

    ``S1.speed`` = httpwire req/s ÷ http.client's, ``S1.cpu`` = http.client CPU/req ÷
    httpwire's (so 2.0 means half the CPU); the same for S5 (``tls_small``), S2 (``get_1m``) and
    S2b (``get_16m``); S3 (``async_100``) compares ahttpwire with aiohttp; ``P1`` is h11's µs
    per iteration ÷ httpwire's. A ratio whose clients did not both run is left out.
    """
    out: dict[str, float] = {}
    pairs = [
        ("S1", "seq_small", "httpwire", "http.client"),
        ("S5", "tls_small", "httpwire", "http.client"),
        ("S3", "async_100", "ahttpwire", "aiohttp"),
        ("S2", "get_1m", "httpwire", "http.client"),
        ("S2b", "get_16m", "httpwire", "http.client"),
    ]
    for label, sc, ours, theirs in pairs:
        if sc not in results:
            continue
        st = summarise(sc, results[sc])
        if ours in st and theirs in st:
            out[f"{label}.speed"] = st[ours]["rate"] / st[theirs]["rate"]
            out[f"{label}.cpu"] = st[theirs]["cpu_us"] / st[ours]["cpu_us"]
    p1 = results.get(P1, {}).get("httpwire")
    if p1 is not None and p1.runs and not p1.failed:
        out["P1"] = _median(p1.runs, "ratio")
    return out


def _summary_cell(
    client: str, kind: str, st: dict[str, dict[str, float]], outs: dict[str, Outcome]
) -> str:
    if client in st:
        if kind == "cpu":
            return f"{st[client]['cpu_us']:.1f}"
        raw = st.get("raw")
        return f"{st[client]['rate'] / raw['rate']:.2f}x" if raw else "?"
    out = outs.get(client)
    if out is not None and out.skipped:
        return "n/a"
    if out is not None and out.failed:
        return "failed"
    return "-"


def summary_table(results: dict[str, dict[str, Outcome]]) -> str:
    """Issue 14's table, refilled from this run: CPU µs/req, or MB/s as a multiple of raw's."""
    head = ["scenario", "httpwire", *SUMMARY_COLUMNS]
    lines = [
        "### Issue 14's table (client CPU µs per request, lower is better; bodies: MB/s ÷ raw's)",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for label, sc, ours, kind in SUMMARY_ROWS:
        if sc not in results:
            continue
        st = summarise(sc, results[sc])
        outs = results[sc]

        lines.append(
            "| "
            + " | ".join(
                [label, *(_summary_cell(c, kind, st, outs) for c in (ours, *SUMMARY_COLUMNS))]
            )
            + " |"
        )
    p1 = results.get(P1, {}).get("httpwire")
    if p1 is not None and p1.runs:
        cells = ["-"] * len(SUMMARY_COLUMNS)
        lines.append(
            f"| P1 h11 API, parse a response (x h11) | {_median(p1.runs, 'ratio'):.2f}x | "
            + " | ".join(cells)
            + " |"
        )
    extra = []
    if "get_16m" in results:
        st = summarise("get_16m", results["get_16m"])
        rss = ", ".join(
            f"{c} {st[c]['rss_mib']:.0f}" for c in ("httpwire", *SUMMARY_COLUMNS) if c in st
        )
        extra.append(f"Peak RSS in S2b (MiB): {rss}.")
    ratios = key_ratios(results)
    if ratios:
        extra.append(
            "Ratios guarded by scripts/bench-check (higher is better): "
            + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items())
            + "."
        )
    for sc, ours in (
        ("seq_small", "httpwire"),
        ("tls_small", "httpwire"),
        ("async_100", "ahttpwire"),
    ):
        if sc in results:
            st = summarise(sc, results[sc])
            if ours in st and "pyreqwest" in st:
                extra.append(
                    f"`{sc}`: {ours} CPU/req ÷ pyreqwest's = "
                    f"{st[ours]['cpu_us'] / st['pyreqwest']['cpu_us']:.2f}."
                )
    if extra:
        lines += ["", *extra]
    return "\n".join(lines)


def _fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def _fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


def summarise(scenario: str, outcomes: dict[str, Outcome]) -> dict[str, dict[str, float]]:
    """Medians per client: ``rate`` (req/s or MB/s), ``cpu_us`` (CPU µs per request), etc."""
    stats: dict[str, dict[str, float]] = {}
    for client, out in outcomes.items():
        if out.failed or out.skipped or not out.runs:
            continue
        if scenario in BYTE_RATE:
            rates = [r["bytes"] / r["wall"] / 1e6 for r in out.runs]
        else:
            rates = [r["requests"] / r["wall"] for r in out.runs]
        med = statistics.median(rates)
        s = {
            "rate": med,
            "spread": (max(rates) - min(rates)) / med if med else 0.0,
            "cpu_us": statistics.median(1e6 * r["cpu"] / r["requests"] for r in out.runs),
            "rss_mib": _median(out.runs, "maxrss_kib") / 1024,
            "requests": _median(out.runs, "requests"),
            "runs": float(len(out.runs)),
        }
        if all("connections" in r for r in out.runs):
            s["connections"] = _median(out.runs, "connections")
        if all("peak_open" in r for r in out.runs):
            # A bound, not a typical value: the highest over the rounds.
            s["peak_open"] = max(float(r["peak_open"]) for r in out.runs)
        stats[client] = s
    return stats


def table(scenario: str, outcomes: dict[str, Outcome]) -> str:
    """One Markdown section for ``scenario``: a line naming the best anchors, then the table."""
    stats = summarise(scenario, outcomes)
    unit = "MB/s" if scenario in BYTE_RATE else "req/s"
    raw = stats.get("raw")
    # The best anchor is the best Python client; the compiled ones (pyreqwest, pycurl) are
    # shown in their own rows and in the issue 14 table (see summary_table()).
    anchors = {c: s for c, s in stats.items() if c in ANCHORS and c not in COMPILED}
    best_speed = max(anchors, key=lambda c: anchors[c]["rate"]) if anchors else None
    best_cpu = min(anchors, key=lambda c: anchors[c]["cpu_us"]) if anchors else None
    lines = [f"### {TITLES[scenario]}", ""]
    if best_speed and best_cpu:
        lines.append(f"Best anchor: **{best_speed}** by speed, **{best_cpu}** by CPU.")
        lines.append("")
    show_rss = scenario == "get_16m"
    head = [
        "client",
        unit,
        "CPU µs/req",
        "speed ÷ raw",
        "speed ÷ best anchor",
        "CPU ÷ raw",
        "CPU ÷ best anchor",
    ]
    head += ["peak RSS MiB"] if show_rss else []
    head += ["conns"]
    shape = SHAPES.get(scenario)
    head += ["peak open"] if shape else []
    head += ["spread", "runs"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for client in clients_for(scenario):
        if client not in outcomes:
            continue
        out = outcomes[client]
        name = client if not out.version else f"{client} {out.version}"
        if out.failed or out.skipped:
            note = f"failed: {out.failed}" if out.failed else f"n/a: {out.skipped}"
            lines.append(f"| {name} | {note.replace('|', '/')} |" + " |" * (len(head) - 2))
            continue
        s = stats[client]
        rate = f"{s['rate']:,.0f}"
        cells = [
            name,
            rate,
            _fmt_int(s["cpu_us"]),
            _fmt_ratio(s["rate"] / raw["rate"] if raw else None),
            _fmt_ratio(s["rate"] / anchors[best_speed]["rate"] if best_speed else None),
            _fmt_ratio(s["cpu_us"] / raw["cpu_us"] if raw else None),
            _fmt_ratio(s["cpu_us"] / anchors[best_cpu]["cpu_us"] if best_cpu else None),
        ]
        if show_rss:
            cells.append(f"{s['rss_mib']:.0f}")
        cells.append(_fmt_int(s["connections"]) if "connections" in s else "?")
        if shape:
            cells.append(_fmt_int(s["peak_open"]) if "peak_open" in s else "?")
        cells.append(f"±{100 * s['spread'] / 2:.0f}%")
        cells.append(f"{s['runs']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    if shape:
        lines.append("")
        lines.append(pool_check(shape[1], stats))
    return "\n".join(lines)


def pool_check(limit: int, stats: dict[str, dict[str, float]]) -> str:
    """One sentence: did any client hold more than ``limit`` connections open at once?"""
    over = [c for c, s in stats.items() if s.get("peak_open", 0) > limit]
    unknown = [c for c, s in stats.items() if "peak_open" not in s]
    churn = [c for c, s in stats.items() if s.get("connections", 0) > limit]
    if over:
        text = f"**Over the pool limit of {limit}**: " + ", ".join(
            f"{c} (peak {stats[c]['peak_open']:.0f} open)" for c in over
        )
    else:
        text = f"Pool limit {limit}: no client had more than {limit} connections open at once"
    if unknown:
        text += " (not sampled: " + ", ".join(unknown) + ")"
    text += "."
    if churn:
        text += (
            " Opened more than "
            + str(limit)
            + " in all (closed and reopened connections): "
            + ", ".join(f"{c} ({stats[c]['connections']:.0f})" for c in churn)
            + "."
        )
    return text


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu or "unknown",
        "python": platform.python_version(),
        "nginx": nginx_version(),
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def report(
    scenarios: list[str],
    results: dict[str, dict[str, Outcome]],
    info: dict[str, str],
    command: str,
    elapsed: float,
    quick: bool,
    rounds: int,
) -> str:
    versions: dict[str, str] = {}
    for outs in results.values():
        for client, out in outs.items():
            if out.version and client not in ("raw", "http.client"):
                versions[client.removesuffix("-pool")] = out.version
    parts = [
        f"Run on {info['date']}: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"{info['nginx']} (one process), load average at start {info['load']}; "
        f"{elapsed:.0f} s in all.",
        "",
        "Command: `" + command + "`",
        "",
    ]
    load = float(info["load"].split()[0])
    if load > 0.5 * int(info["nproc"]):
        parts.append(
            f"**The machine was busy** (load average {load:.1f} on {info['nproc']} CPUs): "
            "wall-clock rates and their ratios are noisy (see the spread column); CPU µs/req "
            "and its ratios are the steadier figures."
        )
        parts.append("")
    bounds = []
    for sc in scenarios:
        if sc == P1:
            continue
        p = PARAMS[sc][1 if quick else 0]
        bounds.append(f"`{sc}` {p.n:,} requests or {p.seconds:g} s")
    parts.append(
        f"{rounds} interleaved round(s); each measured run stops at "
        + "; ".join(bounds)
        + ", whichever comes first. Figures are medians over the rounds."
    )
    parts.append("")
    if versions:
        parts.append(
            "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + "."
        )
        parts.append("")
    if any(row[1] in scenarios for row in SUMMARY_ROWS) or P1 in scenarios:
        parts.append(summary_table(results))
        parts.append("")
    for scenario in scenarios:
        if scenario == P1:
            parts.append(p1_table(results[P1]["httpwire"]))
        else:
            parts.append(table(scenario, results[scenario]))
        parts.append("")
    for few, many in SCALING:
        if few in scenarios and many in scenarios:
            parts.append(scaling(few, many, results))
            parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def scaling(few: str, many: str, results: dict[str, dict[str, Outcome]]) -> str:
    """Section comparing each client's per-request CPU and rate in ``many`` with ``few``.

    The CPU ratio is the "no quadratic pool" figure: the pool allows the same connections in
    both, so a ratio near 1.00 means a deeper queue of waiting tasks costs nothing per request.
    On asyncio it also compares ahttpwire with aiohttp in both scenarios.
    """
    a, b = summarise(few, results[few]), summarise(many, results[many])
    ta, tb = SHAPES[few][0], SHAPES[many][0]
    runtime = "trio" if SCENARIOS[many][1] == "trio" else "asyncio"
    lines = [
        f"### {runtime}: {tb:,} tasks vs {ta:,} tasks on {SHAPES[many][1]} connections",
        "",
        f"CPU ratio = CPU µs/req in `{many}` ÷ in `{few}` (target for ahttpwire: at most "
        f"{SCALING_TARGET:.2f}, i.e. the cost per request stays within "
        f"{100 * (SCALING_TARGET - 1):.0f}% with a queue {tb // SHAPES[many][1]}x deeper "
        "than the pool).",
        "",
        f"| client | CPU µs/req {few} | CPU µs/req {many} | CPU ratio | req/s {few} "
        f"| req/s {many} | speed ratio | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for client in clients_for(many):
        if client not in a or client not in b:
            continue
        cpu_ratio = b[client]["cpu_us"] / a[client]["cpu_us"]
        target = ""
        if client.startswith("ahttpwire"):
            # Judged on the ratio as printed, so that 1.20 never reads "missed".
            target = "met" if round(cpu_ratio, 2) <= SCALING_TARGET else "**missed**"
        lines.append(
            f"| {client} | {a[client]['cpu_us']:,.0f} | {b[client]['cpu_us']:,.0f} "
            f"| {cpu_ratio:.2f} | {a[client]['rate']:,.0f} | {b[client]['rate']:,.0f} "
            f"| {b[client]['rate'] / a[client]['rate']:.2f} | {target} |"
        )
    if runtime == "asyncio":
        versus = []
        for sc, st in ((few, a), (many, b)):
            for client in ("ahttpwire", "ahttpwire-pool"):
                if client in st and "aiohttp" in st:
                    speed = st[client]["rate"] / st["aiohttp"]["rate"]
                    cpu = st[client]["cpu_us"] / st["aiohttp"]["cpu_us"]
                    verdict = "met" if round(speed, 2) >= 1.0 else "**missed**"
                    versus.append(
                        f"`{sc}` {client}: {speed:.2f}x aiohttp's req/s ({verdict}), "
                        f"{cpu:.2f}x its CPU per request"
                    )
        if versus:
            lines.append("")
            lines.append(
                "ahttpwire against aiohttp (target: at least as fast): " + "; ".join(versus) + "."
            )
    return "\n".join(lines)


def write_docs(text: str) -> None:
    """Replace what lies between the BEGIN and END markers of docs/benchmarks.md with ``text``.

    Raises SystemExit if the file or its markers are missing (nothing is written then).
    """
    if not DOCS.exists():
        raise SystemExit(f"{DOCS} does not exist")
    doc = DOCS.read_text()
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(doc):
        raise SystemExit(f"{DOCS} has no results markers ({BEGIN!r} ... {END!r})")
    new = pattern.sub(lambda _m: BEGIN + "\n\n" + text + "\n" + END, doc, count=1)
    DOCS.write_text(new)


def _split(value: str | None, allowed: list[str], what: str) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return names


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwind through the finally blocks, so nginx and the current child are stopped.
    raise KeyboardInterrupt


def measure(
    plan: dict[str, list[str]], rounds: int, quick: bool, affinity: str
) -> dict[str, dict[str, Outcome]]:
    """Start nginx and run every planned (client, scenario) ``rounds`` times, interleaved.

    Raises KeyboardInterrupt (Ctrl-C, SIGTERM) after stopping nginx and the current child.
    """
    results = {sc: {c: Outcome() for c in clients} for sc, clients in plan.items()}
    with NginxServer() as server:
        files = {name: _digest(server.docroot / name) for name in FILES}
        print(f"nginx pid {server.pid} on {server.base_url}", file=sys.stderr)
        for rnd in range(rounds):
            for sc, order in plan.items():
                params = PARAMS[sc][1 if quick else 0] if sc != P1 else PARAMS["seq_small"][0]
                # Rotate the order each round so no client always runs first or last.
                k = rnd % len(order) if order else 0
                for client in order[k:] + order[:k]:
                    out = results[sc][client]
                    if out.failed or out.skipped:
                        continue
                    if sc == P1:
                        res = run_p1(quick, affinity)
                        out = results[sc][client]
                        if res.get("ok"):
                            out.runs.append(res)
                            msg = f"h11/httpwire {res['ratio']:.2f}x"
                        else:
                            out.failed = str(res.get("error", "unknown error"))
                            msg = "failed: " + out.failed
                        print(f"[{rnd + 1}/{rounds}] {sc:9} {client:14} {msg}", file=sys.stderr)
                        continue
                    res = run_child(server, client, sc, params, files, affinity)
                    if res.get("ok"):
                        out.runs.append(res)
                        out.version = str(res.get("version", ""))
                        msg = f"{res['requests']} req in {res['wall']:.2f} s"
                    elif "skip" in res:
                        out.skipped = str(res["skip"])
                        msg = "n/a: " + out.skipped
                    else:
                        out.failed = str(res.get("error", "unknown error"))
                        msg = "failed: " + out.failed
                    print(f"[{rnd + 1}/{rounds}] {sc:9} {client:14} {msg}", file=sys.stderr)
    return results


def _command(argv: list[str]) -> str:
    """The command line that produced the figures, without the options that only write files."""
    shown: list[str] = []
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif arg in ("--json", "--from-json"):
            skip_next = True
        elif arg == "--write-docs" or arg.startswith(("--json=", "--from-json=")):
            pass
        else:
            shown.append(arg)
    return " ".join([".venv/bin/python bench/run.py", *map(shlex.quote, shown)])


def main(argv: list[str] | None = None) -> int:
    all_clients = list(dict.fromkeys(SYNC_CLIENTS + ASYNC_CLIENTS))
    parser = argparse.ArgumentParser(
        description="Benchmark httpwire against raw sockets and the usual Python HTTP clients."
    )
    parser.add_argument("--quick", action="store_true", help="short runs, two rounds (~70 s)")
    parser.add_argument("--scenarios", help="comma-separated: " + ", ".join([*SCENARIOS, P1]))
    parser.add_argument(
        "--clients", help="comma-separated: " + ", ".join(all_clients) + " (raw is always run)"
    )
    parser.add_argument(
        "--rounds", type=int, help=f"repetitions (default {DEFAULT_ROUNDS}, --quick {QUICK_ROUNDS})"
    )
    parser.add_argument(
        "--affinity",
        choices=["auto", "none"],
        default="auto",
        help="auto: pin nginx and the client to CPUs per scenario (default); none: do not pin",
    )
    parser.add_argument("--write-docs", action="store_true", help="rewrite docs/benchmarks.md")
    parser.add_argument("--json", type=Path, help="also write every run's raw figures here")
    parser.add_argument(
        "--from-json", type=Path, help="measure nothing: report a file written by --json"
    )
    args = parser.parse_args(argv)

    if args.from_json:
        dump = json.loads(args.from_json.read_text())
        results = {
            sc: {c: Outcome(**o) for c, o in outs.items()} for sc, outs in dump["results"].items()
        }
        text = report(
            list(results), results, dump["info"], dump["command"], dump["elapsed"],
            dump["quick"], dump["rounds"],
        )  # fmt: skip
    else:
        all_scenarios = [*SCENARIOS, P1]
        scenarios = _split(args.scenarios, all_scenarios, "scenario") or all_scenarios
        wanted = _split(args.clients, all_clients, "client")
        rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
        if not 1 <= rounds <= 20:
            raise SystemExit("--rounds must be between 1 and 20")
        plan = {
            sc: (
                ["httpwire"]
                if sc == P1
                else [c for c in clients_for(sc) if wanted is None or c in wanted or c == "raw"]
            )
            for sc in scenarios
        }
        command = _command(argv if argv is not None else sys.argv[1:])
        signal.signal(signal.SIGTERM, _on_sigterm)
        # Python leaves SIGINT ignored when it starts ignored (a background job of a script);
        # take it anyway, so that Ctrl-C or kill -INT always stops nginx and the current child.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        info = machine_info()
        started = time.monotonic()
        try:
            results = measure(plan, rounds, args.quick, args.affinity)
        except KeyboardInterrupt:
            print("interrupted; nginx stopped", file=sys.stderr)
            return 130
        elapsed = time.monotonic() - started
        text = report(scenarios, results, info, command, elapsed, args.quick, rounds)
        if args.json:
            dump = {
                "info": info,
                "command": command,
                "elapsed": elapsed,
                "quick": args.quick,
                "rounds": rounds,
                "results": {
                    sc: {c: vars(o) for c, o in outs.items()} for sc, outs in results.items()
                },
            }
            args.json.write_text(json.dumps(dump, indent=1))
    print(text)
    if args.write_docs:
        write_docs(text)
        print(f"wrote {DOCS.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
