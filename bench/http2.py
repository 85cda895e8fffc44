"""HTTP/2 benchmark: many concurrent small GETs over one TLS connection to nginx (``http2``).

Usage (from the repository root)::

    .venv/bin/python bench/http2.py [--rounds R] [--seconds S] [--clients a,b] [--json FILE]

Starts a private nginx on 127.0.0.1 with ``listen ... ssl http2`` (certificate from a throw-away
``trustme`` CA) serving ``/small`` (100 bytes), then runs each client in a fresh child process
(``python bench/http2.py --child NAME ...``), round-robin, ``R`` rounds, and prints a Markdown
table of medians. nginx runs on CPU 0 and the client on CPU 1 when there are two CPUs or more.

Clients (every one keeps exactly one HTTP/2 connection; the body of every response is checked):

- ``h2-alone``: the ceiling. The ``h2`` state machine driven directly over a blocking TLS socket,
  with the same ``h2`` configuration and the same request fields as httpwire's client: 100
  streams are opened with one write, then frames are read until all 100 responses have ended;
  repeat. No tasks, no locks, no models.
- ``engine-alone``: the same loop with ``httpwire.http2`` (our engine, issue 13) in place of
  ``h2``: what the connection layer could reach once it is wired in.
- ``ahttpwire``: ``ahttpwire.Client(http2=True)``, 100 asyncio tasks each looping ``client.get``.
- ``ahttpwire-trio``: the same under ``trio.run``.
- ``httpx``: ``httpx.AsyncClient(http2=True)``, 100 asyncio tasks.
- ``httpwire-16t``: ``httpwire.Client(http2=True)`` shared by 16 threads.
- ``httpx-16t``: ``httpx.Client(http2=True)`` shared by 16 threads.

Each child warms up (one request per task, so the connection exists), then every task loops until
``--seconds`` of wall time have passed; requests per second = requests done / wall time, and CPU
seconds per request come from ``time.process_time``. ``--profile`` runs one client under cProfile
and prints the top functions (used to show where the time goes when ``h2`` is the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SMALL = bytes(range(100))
TASKS = 100
THREADS = 16
CLIENTS = [
    "h2-alone",
    "engine-alone",
    "ahttpwire",
    "ahttpwire-trio",
    "httpx",
    "httpwire-16t",
    "httpx-16t",
]

_CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type application/octet-stream;
    keepalive_requests 1000000000;
    keepalive_timeout 75s;
    http2_max_concurrent_streams 128;
    http2_max_requests 1000000000;
    server {{
        listen 127.0.0.1:{port} ssl http2 backlog=4096;
        ssl_certificate {tmp}/cert.pem;
        ssl_certificate_key {tmp}/key.pem;
        root {tmp}/www;
    }}
}}
"""


# -- the server ---------------------------------------------------------------------------------


class H2Nginx:
    """nginx over TLS with HTTP/2 in a temporary directory; stopped by its PID."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="httpwire-bench-h2-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.ca_path = str(self.tmp / "ca.pem")

    def start(self) -> H2Nginx:
        import socket

        import trustme

        os.chmod(self.tmp, 0o755)
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        cert.private_key_pem.write_to_path(str(self.tmp / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(self.tmp / "cert.pem"))
        ca.cert_pem.write_to_path(self.ca_path)
        (self.tmp / "www").mkdir()
        (self.tmp / "www" / "small").write_bytes(SMALL)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        conf = self.tmp / "nginx.conf"
        conf.write_text(_CONFIG.format(tmp=self.tmp, port=port))
        self.proc = subprocess.Popen(
            [
                "/usr/sbin/nginx",
                "-p",
                f"{self.tmp}/",
                "-e",
                f"{self.tmp}/error.log",
                "-c",
                str(conf),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("nginx (http2) did not start")
        self.url = f"https://127.0.0.1:{port}"
        if len(os.sched_getaffinity(0)) >= 2:
            os.sched_setaffinity(self.proc.pid, {sorted(os.sched_getaffinity(0))[0]})
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- the clients (children) ---------------------------------------------------------------------


def _ssl_context(ca: str) -> Any:
    import ssl

    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


def _check(body: bytes) -> None:
    if body != SMALL:
        raise RuntimeError(f"wrong body: {body[:20]!r}... ({len(body)} bytes)")


def child_h2_alone(url: str, ca: str, seconds: float) -> tuple[int, float, float]:
    import socket

    import h2.config
    import h2.connection
    import h2.events
    import h2.settings

    from httpwire._urls import URL

    u = URL(url)
    assert u.port is not None
    sock = socket.create_connection((u.host, u.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tls = _ssl_context(ca).wrap_socket(sock, server_hostname=u.host)
    assert tls.selected_alpn_protocol() == "h2"
    config = h2.config.H2Configuration(
        client_side=True,
        header_encoding=None,
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
    )
    conn = h2.connection.H2Connection(config=config)
    codes = h2.settings.SettingCodes
    conn.local_settings = h2.settings.Settings(
        client=True,
        initial_values={
            codes.ENABLE_PUSH: 0,
            codes.MAX_CONCURRENT_STREAMS: 1000,
            codes.INITIAL_WINDOW_SIZE: 4 << 20,
            codes.MAX_HEADER_LIST_SIZE: 65536,
        },
    )
    conn.initiate_connection()
    conn.increment_flow_control_window((16 << 20) - 65535)
    tls.sendall(conn.data_to_send())
    # The request the clients send (httpwire's default fields; httpx sends the same ones).
    headers = [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", u.netloc),
        (b":path", b"/small"),
        (b"user-agent", b"python-httpwire/0.1.0"),
        (b"accept", b"*/*"),
        (b"accept-encoding", b"gzip, deflate, br, zstd"),
    ]
    response_received = h2.events.ResponseReceived
    data_received = h2.events.DataReceived
    stream_ended = h2.events.StreamEnded

    def batch() -> int:
        bodies: dict[int, list[bytes]] = {}
        for _ in range(TASKS):
            sid = conn.get_next_available_stream_id()
            conn.send_headers(sid, headers, end_stream=True)
            bodies[sid] = []
        tls.sendall(conn.data_to_send())
        left = TASKS
        while left:
            data = tls.recv(65536)
            if not data:
                raise ConnectionError("nginx closed the connection")
            event: Any
            for event in conn.receive_data(data):
                kind = type(event)
                if kind is data_received:
                    bodies[event.stream_id].append(event.data)
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif kind is stream_ended:
                    _check(b"".join(bodies.pop(event.stream_id)))
                    left -= 1
                elif kind is response_received:
                    pass
            out = conn.data_to_send()
            if out:
                tls.sendall(out)
        return TASKS

    batch()
    count = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while time.perf_counter() < deadline:
        count += batch()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    tls.close()
    return count, wall, cpu


async def _async_loop(get: Any, seconds: float, sleep0: Any) -> tuple[int, float, float]:
    counts = [0] * TASKS
    stop = False

    async def worker(i: int) -> None:
        while not stop:
            _check(await get())
            counts[i] += 1

    # Warm-up: the connection and every task's first request.
    for _ in range(2):
        await _gather([get() for _ in range(TASKS)])
    cpu0 = time.process_time()
    t0 = time.perf_counter()

    async def stopper() -> None:
        nonlocal stop
        await sleep0(seconds)
        stop = True

    await _gather([worker(i) for i in range(TASKS)] + [stopper()])
    wall = time.perf_counter() - t0
    return sum(counts), wall, time.process_time() - cpu0


async def _gather(coros: list[Any]) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        import trio

        async with trio.open_nursery() as nursery:
            for coro in coros:

                async def run(c: Any = coro) -> None:
                    await c

                nursery.start_soon(run)
        return
    await asyncio.gather(*coros)


def child_async(name: str, url: str, ca: str, seconds: float) -> tuple[int, float, float]:
    ctx = _ssl_context(ca)
    target = url + "/small"
    if name == "httpx":
        import httpx

        async def main_httpx() -> tuple[int, float, float]:
            async with httpx.AsyncClient(http2=True, verify=ctx) as client:

                async def get() -> bytes:
                    r = await client.get(target)
                    assert r.http_version == "HTTP/2"
                    return r.content

                return await _async_loop(get, seconds, asyncio.sleep)

        return asyncio.run(main_httpx())
    sys.path.insert(0, str(REPO / "src"))
    import ahttpwire

    async def main_ahw() -> tuple[int, float, float]:
        async with ahttpwire.Client(http2=True, verify=ctx) as client:

            async def get() -> bytes:
                r = await client.get(target)
                assert r.http_version == "HTTP/2"
                body: bytes = r.content
                return body

            try:
                asyncio.get_running_loop()
                sleep: Any = asyncio.sleep
            except RuntimeError:
                import trio

                sleep = trio.sleep
            result = await _async_loop(get, seconds, sleep)
            conns = client._transport.connections if hasattr(client, "_transport") else None
            if conns is not None and len(conns) != 1:
                raise RuntimeError(f"expected one connection, the pool has {conns}")
            return result

    if name == "ahttpwire-trio":
        import trio

        out: tuple[int, float, float] = trio.run(main_ahw)
        return out
    return asyncio.run(main_ahw())


def child_threads(name: str, url: str, ca: str, seconds: float) -> tuple[int, float, float]:
    ctx = _ssl_context(ca)
    target = url + "/small"
    client: Any
    if name == "httpx-16t":
        import httpx

        client = httpx.Client(http2=True, verify=ctx)
    else:
        sys.path.insert(0, str(REPO / "src"))
        import httpwire

        client = httpwire.Client(http2=True, verify=ctx)
    counts = [0] * THREADS
    stop = threading.Event()
    errors: list[BaseException] = []

    def get() -> bytes:
        r = client.get(target)
        if r.http_version != "HTTP/2":
            raise RuntimeError(f"not HTTP/2: {r.http_version}")
        body: bytes = r.content
        return body

    def worker(i: int) -> None:
        try:
            while not stop.is_set():
                _check(get())
                counts[i] += 1
        except BaseException as exc:  # reported by the parent
            errors.append(exc)
            stop.set()

    _check(get())
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    client.close()
    if errors:
        raise errors[0]
    return sum(counts), wall, cpu


def child_engine_alone(url: str, ca: str, seconds: float) -> tuple[int, float, float]:
    """As ``h2-alone``, with httpwire.http2 in place of h2 (same settings, fields, loop)."""
    import socket

    from httpwire import http2
    from httpwire._urls import URL

    u = URL(url)
    assert u.port is not None
    sock = socket.create_connection((u.host, u.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tls = _ssl_context(ca).wrap_socket(sock, server_hostname=u.host)
    assert tls.selected_alpn_protocol() == "h2"
    conn = http2.Connection(
        initial_window_size=4 << 20,
        connection_window_size=16 << 20,
        max_concurrent_streams=1000,
        validate_outbound_headers=False,
    )
    conn.initiate_connection()
    tls.sendall(conn.data_to_send())
    headers = [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", u.netloc),
        (b":path", b"/small"),
        (b"user-agent", b"python-httpwire/0.1.0"),
        (b"accept", b"*/*"),
        (b"accept-encoding", b"gzip, deflate, br, zstd"),
    ]
    data_received = http2.DataReceived
    stream_ended = http2.StreamEnded

    def batch() -> int:
        bodies: dict[int, list[bytes]] = {}
        for _ in range(TASKS):
            sid = conn.get_next_available_stream_id()
            conn.send_headers(sid, headers, end_stream=True)
            bodies[sid] = []
        tls.sendall(conn.data_to_send())
        left = TASKS
        while left:
            data = tls.recv(65536)
            if not data:
                raise ConnectionError("nginx closed the connection")
            event: Any
            for event in conn.receive_data(data):
                kind = type(event)
                if kind is data_received:
                    bodies[event.stream_id].append(event.data)
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif kind is stream_ended:
                    _check(b"".join(bodies.pop(event.stream_id)))
                    left -= 1
            if conn.has_data_to_send:
                tls.sendall(conn.data_to_send())
        return TASKS

    batch()
    count = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while time.perf_counter() < deadline:
        count += batch()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    tls.close()
    return count, wall, cpu


def run_child(name: str, url: str, ca: str, seconds: float) -> tuple[int, float, float]:
    if name == "h2-alone":
        return child_h2_alone(url, ca, seconds)
    if name == "engine-alone":
        return child_engine_alone(url, ca, seconds)
    if name in ("ahttpwire", "ahttpwire-trio", "httpx"):
        return child_async(name, url, ca, seconds)
    if name in ("httpwire-16t", "httpx-16t"):
        return child_threads(name, url, ca, seconds)
    raise ValueError(f"no client named {name!r}")


# -- the parent ---------------------------------------------------------------------------------


def spawn(name: str, url: str, ca: str, seconds: float) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    cmd = [sys.executable, __file__, "--child", name, "--url", url, "--ca", ca]
    cmd += ["--seconds", str(seconds)]
    cpus = sorted(os.sched_getaffinity(0))
    preexec = None
    if len(cpus) >= 2:
        client_cpus = set(cpus[1:])

        def preexec() -> None:
            os.sched_setaffinity(0, client_cpus)

    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=seconds * 4 + 60, preexec_fn=preexec
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            result: dict[str, Any] = json.loads(line[len("BENCH-RESULT ") :])
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"ok": False, "error": tail[0]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--json")
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--ca")
    parser.add_argument("--profile", help="run this client once under cProfile")
    args = parser.parse_args(argv)

    if args.child:
        try:
            n, wall, cpu = run_child(args.child, args.url, args.ca, args.seconds)
            print("BENCH-RESULT " + json.dumps({"ok": True, "n": n, "wall": wall, "cpu": cpu}))
            return 0
        except BaseException as exc:
            print("BENCH-RESULT " + json.dumps({"ok": False, "error": repr(exc)[:300]}))
            raise

    server = H2Nginx().start()
    try:
        if args.profile:
            import cProfile
            import pstats

            sys.path.insert(0, str(REPO / "src"))
            profiler = cProfile.Profile()
            profiler.runcall(run_child, args.profile, server.url, server.ca_path, args.seconds)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            return 0
        clients = args.clients.split(",")
        runs: dict[str, list[dict[str, Any]]] = {c: [] for c in clients}
        for r in range(args.rounds):
            for name in clients:
                res = spawn(name, server.url, server.ca_path, args.seconds)
                runs[name].append(res)
                rate = f"{res['n'] / res['wall']:.0f} req/s" if res.get("ok") else res["error"]
                print(f"round {r + 1} {name}: {rate}", file=sys.stderr)
    finally:
        server.stop()

    print(
        f"100 concurrent GET /small (100 B), one HTTP/2 TLS connection, nginx; "
        f"{args.rounds} rounds x {args.seconds:g} s, medians\n"
    )
    print("| client | req/s | CPU us/req | vs h2-alone | vs httpx |")
    print("|---|---:|---:|---:|---:|")
    med: dict[str, float] = {}
    for name, results in runs.items():
        ok = [x for x in results if x.get("ok")]
        if ok:
            med[name] = statistics.median(x["n"] / x["wall"] for x in ok)
    for name, results in runs.items():
        ok = [x for x in results if x.get("ok")]
        if not ok:
            print(f"| {name} | failed: {results[0].get('error')} | | | |")
            continue
        rate = med[name]
        cpu = statistics.median(x["cpu"] / x["n"] * 1e6 for x in ok)
        base = med.get("h2-alone")
        hx = med.get("httpx-16t" if name.endswith("-16t") else "httpx")
        vs_base = f"{rate / base:.0%}" if base else ""
        vs_hx = f"{rate / hx:.2f}x" if hx else ""
        failed = [x for x in results if not x.get("ok")]
        note = (
            f" ({len(failed)} of {len(results)} runs failed: {failed[0]['error']})"
            if failed
            else ""
        )
        print(f"| {name}{note} | {rate:,.0f} | {cpu:.0f} | {vs_base} | {vs_hx} |")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
