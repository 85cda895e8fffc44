"""Benchmark worker: one (client, scenario) measurement in this fresh process.

Run by ``bench/run.py`` as ``python -m bench.clients --client NAME --scenario NAME --url URL
--length BYTES --sha256 HEX --n COUNT --seconds LIMIT --warmup COUNT [--cpus LIST]`` from the
repository root.
It prints one line ``BENCH-RESULT {json}`` on stdout and exits 0, or prints a ``BENCH-RESULT``
line with ``"ok": false`` and an ``error`` (or ``skip`` when the client's API does not exist) and
exits 1.

Every run checks one complete body byte for byte (length and SHA-256) before measuring (sync:
before the warm-up; async: after it, so that the 100 tasks meet a cold client) and once more
after measuring. Each measured response's length is checked too, so a client that returns the wrong
body cannot look fast. Loops stop at ``--n`` requests or ``--seconds`` of wall time, whichever
comes first, and the rate is computed from the requests actually done.

Figures reported (all measured in this process, around the measured loop only):
``requests``, ``bytes`` (body bytes), ``wall`` (seconds, ``time.perf_counter``), ``cpu`` (seconds
of this process's CPU, ``time.process_time``: user + system, all threads), ``rss_before_kib`` and
``maxrss_kib`` (peak resident set size before the first request and at the end, KiB).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import hashlib
import importlib
import json
import os
import resource
import socket
import sys
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, cast
from urllib.parse import urlsplit

Body = bytes | bytearray | memoryview
SyncGet = Callable[[], Body]
AsyncGet = Callable[[int], Awaitable[Body]]

SCENARIOS: dict[str, tuple[str, str]] = {
    # name: (path, kind)
    "seq_small": ("/small", "sync"),
    # The same over TLS (nginx's second, TLS port; CA from --ca): issue 14's S5.
    "tls_small": ("/small", "sync"),
    "get_1m": ("/1m", "sync"),
    "get_16m": ("/16m", "sync"),
    "async_100": ("/small", "async"),
    "async_1000": ("/small", "async"),
    "trio_100": ("/small", "trio"),
    "trio_1000": ("/small", "trio"),
}
# Concurrent scenarios: (tasks, connections the client's pool may open). 1,000 tasks on 100
# connections is a queue ten times deeper than the pool: it shows whether waiting for a
# connection costs more per request as the queue grows. Other async scenarios: 100 and 100.
SHAPES: dict[str, tuple[int, int]] = {
    "async_100": (100, 100),
    "async_1000": (1000, 100),
    "trio_100": (100, 100),
    "trio_1000": (1000, 100),
}

SYNC_CLIENTS = [
    "raw",
    "http.client",
    "urllib3",
    "httpx",
    "pyreqwest",
    "pycurl",
    "httpwire",
    "httpwire-pool",
]
ASYNC_CLIENTS = ["raw", "httpx", "aiohttp", "pyreqwest", "ahttpwire", "ahttpwire-pool"]
# Under trio.run: aiohttp is asyncio-only; httpx runs on trio through anyio.
TRIO_CLIENTS = ["raw", "httpx", "ahttpwire", "ahttpwire-pool"]
# Clients we compare against (the "anchors"); raw is the ceiling, httpwire* are under test.
ANCHORS = {"http.client", "urllib3", "httpx", "aiohttp", "pyreqwest", "pycurl"}
# Anchors written in a compiled language (issue 14): shown in the tables but not counted as the
# "best anchor", which stays the best pure-Python (or, for aiohttp, C-accelerated) client.
COMPILED = {"pyreqwest", "pycurl"}

# The CA file (PEM) that signed nginx's TLS certificate (``--ca``; https URLs only).
CA_FILE = ""

# Room for the status line and headers in front of the body in the raw clients' buffers.
_HEAD_ROOM = 64 * 1024


class Skip(Exception):
    """The client's API does not exist (yet): reported as n/a, not as a failure."""


class BadResponse(Exception):
    """The client returned a body that is not the file nginx serves."""


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def _version(module: Any) -> str:
    return str(getattr(module, "__version__", "?"))


def _dist_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def _tls_context() -> Any:
    """A client SSLContext trusting only the benchmark's CA (``--ca``)."""
    import ssl

    return ssl.create_default_context(cafile=CA_FILE)


def _is_tls(url: str) -> bool:
    return url.startswith("https:")


def _import_optional(name: str) -> Any:
    """Import an optional anchor; raise Skip (the row reads n/a) when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise Skip(f"{name} is not installed (pip install -e '.[bench]')") from exc


def _import_httpwire(name: str) -> Any:
    # Imported by name so that this file type-checks and runs while httpwire is being written.
    return importlib.import_module(name)


# --- raw socket ceiling -----------------------------------------------------------------------


def _parse_head(buf: bytearray, head_end: int) -> int:
    """Check the status is 200 and return Content-Length from ``buf[:head_end]``."""
    if buf[9:12] != b"200":
        status_line = bytes(buf[: buf.find(b"\r\n")])
        raise BadResponse(f"status line {status_line!r}")
    i = buf.find(b"\r\nContent-Length:", 0, head_end)
    if i < 0:
        # nginx spells it this way; a lower-cased search only if it ever does not.
        i = bytes(buf[:head_end]).lower().find(b"\r\ncontent-length:")
        if i < 0:
            raise BadResponse("no Content-Length")
    j = buf.find(b"\r\n", i + 2, head_end + 2)
    return int(buf[i + 17 : j])


@contextlib.contextmanager
def raw_sync(url: str, length: int) -> Iterator[tuple[SyncGet, str]]:
    """Precomputed request bytes, one socket, recv_into one preallocated buffer (the ceiling).

    For an https URL the socket is wrapped with ``ssl`` (the CA of ``--ca``) and the same loop
    runs over ``SSLSocket.sendall`` / ``recv_into``. The body is returned as a memoryview into the buffer (overwritten by the next request): the
    least work a client can do to have the whole body in memory.
    """
    host, port = _host_port(url)
    path = urlsplit(url).path
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    sock = socket.create_connection((host, port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if _is_tls(url):
        sock = _tls_context().wrap_socket(sock, server_hostname=host)
    buf = bytearray(_HEAD_ROOM + length)
    view = memoryview(buf)
    sendall = sock.sendall
    recv_into = sock.recv_into

    def get() -> Body:
        sendall(request)
        pos = 0
        start = end = -1
        while True:
            n = recv_into(view[pos:])
            if not n:
                raise ConnectionError("server closed the connection")
            pos += n
            if end < 0:
                head_end = buf.find(b"\r\n\r\n", 0, pos)
                if head_end < 0:
                    continue
                start = head_end + 4
                end = start + _parse_head(buf, head_end)
                if end > len(buf):
                    raise BadResponse("body larger than expected")
            if pos >= end:
                return view[start:end]

    try:
        yield get, "ssl socket" if _is_tls(url) else "socket"
    finally:
        view.release()
        sock.close()


class _RawProtocol(asyncio.BufferedProtocol):
    """One connection of the asyncio raw client: responses land in one preallocated buffer."""

    def __init__(self, size: int) -> None:
        self.buf = bytearray(size)
        self.view = memoryview(self.buf)
        self.pos = 0
        self.start = -1
        self.end = -1
        self.waiter: asyncio.Future[Body] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view[self.pos :]

    def buffer_updated(self, nbytes: int) -> None:
        self.pos += nbytes
        if self.end < 0:
            head_end = self.buf.find(b"\r\n\r\n", 0, self.pos)
            if head_end < 0:
                return
            self.start = head_end + 4
            try:
                self.end = self.start + _parse_head(self.buf, head_end)
            except BadResponse as exc:
                self._fail(exc)
                return
        if self.pos >= self.end and self.waiter is not None:
            waiter, self.waiter = self.waiter, None
            waiter.set_result(self.view[self.start : self.end])

    def _fail(self, exc: BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self.waiter = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionError("server closed the connection"))

    def get(self, request: bytes) -> asyncio.Future[Body]:
        assert self.transport is not None
        self.pos = 0
        self.start = self.end = -1
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter


@contextlib.asynccontextmanager
async def raw_async(
    url: str, length: int, connections: int, tasks: int
) -> AsyncIterator[tuple[AsyncGet, str]]:
    """asyncio BufferedProtocol connections opened up front (the asyncio ceiling).

    With as many tasks as connections, task ``i`` always uses connection ``i``. With more tasks,
    a task takes a free connection from a free list or waits for one in FIFO order (a future
    per waiter, handed the connection directly by the task that releases it).
    """
    host, port = _host_port(url)
    path = urlsplit(url).path
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    loop = asyncio.get_running_loop()
    size = _HEAD_ROOM + length
    conns: list[_RawProtocol] = []
    try:
        for _ in range(connections):
            _t, proto = await loop.create_connection(lambda: _RawProtocol(size), host, port)
            conns.append(proto)

        def get_own(i: int) -> Awaitable[Body]:
            return conns[i].get(request)

        free = conns[:]
        waiters: collections.deque[asyncio.Future[_RawProtocol]] = collections.deque()

        async def get_queued(i: int) -> Body:
            if free:
                conn = free.pop()
            else:
                waiter = loop.create_future()
                waiters.append(waiter)
                conn = await waiter
            try:
                return await conn.get(request)
            finally:
                while waiters:
                    waiter = waiters.popleft()
                    if not waiter.done():
                        waiter.set_result(conn)
                        break
                else:
                    free.append(conn)

        yield (get_own if tasks <= connections else get_queued), "asyncio BufferedProtocol"
    finally:
        for proto in conns:
            if proto.transport is not None:
                proto.transport.close()


@contextlib.asynccontextmanager
async def raw_trio(
    url: str, length: int, connections: int, tasks: int
) -> AsyncIterator[tuple[AsyncGet, str]]:
    """trio ``SocketStream`` connections opened up front (the trio ceiling).

    Precomputed request bytes; each response is read with ``receive_some`` into a buffer until
    Content-Length bytes of body are in. Task ``i`` uses connection ``i`` when there are as
    many tasks as connections; otherwise tasks take a free connection from a memory channel
    (FIFO; a returned connection goes straight to the longest waiter).
    """
    import trio

    host, port = _host_port(url)
    path = urlsplit(url).path
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    streams: list[trio.SocketStream] = []

    async def fetch(stream: trio.SocketStream) -> Body:
        await stream.send_all(request)
        buf = bytearray()
        end = -1
        start = 0
        while True:
            data = await stream.receive_some(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            buf += data
            if end < 0:
                head_end = buf.find(b"\r\n\r\n")
                if head_end < 0:
                    continue
                start = head_end + 4
                end = start + _parse_head(buf, head_end)
            if len(buf) >= end:
                return memoryview(buf)[start:end]

    send, receive = trio.open_memory_channel[trio.SocketStream](connections)
    try:
        for _ in range(connections):
            stream = await trio.open_tcp_stream(host, port)
            streams.append(stream)
            send.send_nowait(stream)

        async def get_own(i: int) -> Body:
            return await fetch(streams[i])

        async def get_queued(i: int) -> Body:
            try:
                # No checkpoint when a connection is free: the channel is only non-empty when
                # nobody waits, so this does not jump the queue.
                stream = receive.receive_nowait()
            except trio.WouldBlock:
                stream = await receive.receive()
            try:
                return await fetch(stream)
            finally:
                send.send_nowait(stream)

        yield (get_own if tasks <= connections else get_queued), "trio SocketStream"
    finally:
        for stream in streams:
            stream.socket.close()


# --- sync clients -------------------------------------------------------------------------


@contextlib.contextmanager
def sync_client(name: str, url: str, length: int) -> Iterator[tuple[SyncGet, str]]:
    """Yield ``(get, version)``: ``get()`` does one GET of ``url`` and returns the whole body."""
    if name == "raw":
        with raw_sync(url, length) as pair:
            yield pair
    elif name == "http.client":
        import http.client

        host, port = _host_port(url)
        path = urlsplit(url).path
        conn: http.client.HTTPConnection
        if _is_tls(url):
            conn = http.client.HTTPSConnection(host, port, timeout=30, context=_tls_context())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=30)

        def get_hc() -> Body:
            conn.request("GET", path)
            return conn.getresponse().read()

        try:
            yield get_hc, sys.version.split()[0]
        finally:
            conn.close()
    elif name == "urllib3":
        import urllib3

        tls_kw = {"ssl_context": _tls_context()} if _is_tls(url) else {}
        with urllib3.PoolManager(**tls_kw) as pm:

            def get_u3() -> Body:
                return pm.request("GET", url).data

            yield get_u3, _version(urllib3)
    elif name == "httpx":
        import httpx

        with httpx.Client(verify=_tls_context() if _is_tls(url) else True) as client:

            def get_hx() -> Body:
                return client.get(url).content

            yield get_hx, _version(httpx)
    elif name == "httpwire":
        hw = _import_httpwire("httpwire")
        client = hw.Client(verify=_tls_context() if _is_tls(url) else True)
        try:

            def get_hw() -> Body:
                body: Body = client.get(url).content
                return body

            yield get_hw, _version(hw)
        finally:
            client.close()
    elif name == "httpwire-pool":
        hw = _import_httpwire("httpwire")
        if not hasattr(hw, "ConnectionPool"):
            raise Skip("httpwire.ConnectionPool does not exist")
        pool = hw.ConnectionPool(ssl_context=_tls_context() if _is_tls(url) else None)
        try:

            def get_hwp() -> Body:
                body: Body = pool.request("GET", url).content
                return body

            yield get_hwp, _version(hw)
        finally:
            pool.close()
    elif name == "pyreqwest":
        # Rust (reqwest + hyper + tokio, rustls): the client's own threads do the I/O; their CPU
        # is in process_time like everyone's.
        _import_optional("pyreqwest")
        from pyreqwest.client import SyncClientBuilder

        builder = SyncClientBuilder()
        if _is_tls(url):
            with open(CA_FILE, "rb") as f:
                builder = builder.add_root_certificate_pem(f.read())
        with builder.build() as rq:

            def get_rq() -> Body:
                return cast(Body, rq.get(url).build().send().bytes())

            yield get_rq, _dist_version("pyreqwest")
    elif name == "pycurl":
        # C (libcurl): one easy handle reused, so its connection is kept alive.
        pycurl = _import_optional("pycurl")
        import io

        curl = pycurl.Curl()
        curl.setopt(pycurl.URL, url)
        if _is_tls(url):
            curl.setopt(pycurl.CAINFO, CA_FILE)
        try:

            def get_pc() -> Body:
                out = io.BytesIO()
                curl.setopt(pycurl.WRITEDATA, out)
                curl.perform()
                return out.getvalue()

            yield get_pc, f"{_dist_version('pycurl')} (libcurl {pycurl.version_info()[1]})"
        finally:
            curl.close()
    else:
        raise ValueError(f"no sync client named {name!r}")


# --- async clients ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def async_client(
    name: str, url: str, length: int, connections: int, tasks: int, runtime: str = "asyncio"
) -> AsyncIterator[tuple[AsyncGet, str]]:
    """Yield ``(get, version)``: ``await get(task_index)`` does one GET and returns the body.

    Every library client is one client object shared by all ``tasks`` tasks, whose pool allows
    ``connections`` connections (when there are more tasks, the rest wait in the client's pool).
    ``runtime`` is ``"asyncio"`` or ``"trio"`` (the one this is called under); it only changes
    the raw client, the library clients detect it themselves.
    """
    if name == "raw":
        raw = raw_trio if runtime == "trio" else raw_async
        async with raw(url, length, connections, tasks) as pair:
            yield pair
    elif name == "httpx":
        import httpx

        # max_connections is the scenario's pool size (100, httpx's default anyway).
        # max_keepalive_connections stays at its default of 20: raising it to 100 makes httpx
        # about 4x slower here (its pool scans every connection for every queued request).
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=20)
        async with httpx.AsyncClient(limits=limits) as client:

            async def get_hx(i: int) -> Body:
                return (await client.get(url)).content

            yield get_hx, _version(httpx)
    elif name == "aiohttp":
        if runtime != "asyncio":
            raise Skip("aiohttp runs on asyncio only")
        import aiohttp

        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def get_aio(i: int) -> Body:
                async with session.get(url) as response:
                    return await response.read()

            yield get_aio, _version(aiohttp)
    elif name == "pyreqwest":
        if runtime != "asyncio":
            raise Skip("pyreqwest's async client runs on asyncio only")
        _import_optional("pyreqwest")
        from pyreqwest.client import ClientBuilder

        async with ClientBuilder().max_connections(connections).build() as rq:

            async def get_rq(i: int) -> Body:
                return cast(Body, await (await rq.get(url).build().send()).bytes())

            yield get_rq, _dist_version("pyreqwest")
    elif name == "ahttpwire":
        ahw = _import_httpwire("ahttpwire")
        async with ahw.Client(limits=ahw.Limits(max_connections=connections)) as client:

            async def get_ahw(i: int) -> Body:
                body: Body = (await client.get(url)).content
                return body

            yield get_ahw, _version(ahw)
    elif name == "ahttpwire-pool":
        ahw = _import_httpwire("ahttpwire")
        if not hasattr(ahw, "ConnectionPool"):
            raise Skip("ahttpwire.ConnectionPool does not exist")
        async with ahw.ConnectionPool(max_connections=connections) as pool:

            async def get_ahwp(i: int) -> Body:
                body: Body = (await pool.request("GET", url)).content
                return body

            yield get_ahwp, _version(ahw)
    else:
        raise ValueError(f"no async client named {name!r}")


# --- measurement --------------------------------------------------------------------------


def _verify(body: Body, length: int, sha256: str) -> None:
    if len(body) != length:
        raise BadResponse(f"body is {len(body)} bytes, expected {length}")
    if hashlib.sha256(body).hexdigest() != sha256:
        raise BadResponse("body bytes differ from the served file")


def _maxrss_kib() -> int:
    """Peak resident set size of this process so far, KiB.

    ``VmHWM`` of the current address space. ``getrusage().ru_maxrss`` is not used: Linux carries
    it over from the parent through fork and exec, so a child of a big parent would report the
    parent's peak.
    """
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_sync(args: argparse.Namespace) -> dict[str, Any]:
    length: int = args.length
    with sync_client(args.client, args.url, length) as (get, version):
        rss_before = _maxrss_kib()
        _verify(get(), length, args.sha256)
        deadline = time.perf_counter() + max(0.5, args.seconds / 2)
        for _ in range(args.warmup):
            if len(get()) != length:
                raise BadResponse("wrong body length during warm-up")
            if time.perf_counter() > deadline:
                break
        n: int = args.n
        done = 0
        wall0 = time.perf_counter()
        cpu0 = time.process_time()
        deadline = wall0 + args.seconds
        while done < n:
            if len(get()) != length:
                raise BadResponse(f"wrong body length at request {done}")
            done += 1
            if time.perf_counter() > deadline:
                break
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        # A second full check after the loop: the last body must be right too.
        _verify(get(), length, args.sha256)
    return _result(version, done, length, wall, cpu, rss_before)


async def _run_async(args: argparse.Namespace, runtime: str) -> dict[str, Any]:
    """The concurrent scenarios, under ``asyncio.run`` or ``trio.run`` (``runtime``).

    ``tasks`` tasks share one client; each does requests one after another until the phase's
    request count or deadline is reached. A phase ends when every task has finished its last
    request; a phase still running ``seconds + 30`` s after it started is cancelled and the run
    fails (a hung client).
    """
    length: int = args.length
    tasks, conns = SHAPES.get(args.scenario, (args.concurrency, args.concurrency))
    async with async_client(args.client, args.url, length, conns, tasks, runtime) as (
        get,
        version,
    ):
        rss_before = _maxrss_kib()
        left = 0
        done = 0
        deadline = 0.0

        async def worker(i: int) -> None:
            nonlocal left, done
            while left > 0 and time.perf_counter() < deadline:
                left -= 1
                if len(await get(i)) != length:
                    raise BadResponse(f"wrong body length in task {i}")
                done += 1

        async def phase(count: int, seconds: float) -> None:
            nonlocal left, done, deadline
            left, done = count, 0
            deadline = time.perf_counter() + seconds
            # The tasks stop at the deadline by themselves; the timeout is the backstop for a
            # client that hangs inside a request.
            if runtime == "trio":
                import trio

                with trio.fail_after(seconds + 30):
                    async with trio.open_nursery() as nursery:
                        for i in range(tasks):
                            nursery.start_soon(worker, i)
            else:
                await asyncio.wait_for(
                    asyncio.gather(*(worker(i) for i in range(tasks))), timeout=seconds + 30
                )

        # Warm-up: all the tasks meet a cold client at once (at least one request each), then
        # one full body check before measuring.
        await phase(max(args.warmup, tasks), max(1.0, args.seconds / 2))
        _verify(await get(0), length, args.sha256)
        # Settle the warm-up's garbage now: a full collection it made due would otherwise land
        # at a random point of the measured phase (milliseconds with 1,000 tasks' objects
        # alive). Collections the measured requests cause are still measured.
        gc.collect()
        wall0 = time.perf_counter()
        cpu0 = time.process_time()
        await phase(args.n, args.seconds)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        _verify(await get(0), length, args.sha256)
    return _result(version, done, length, wall, cpu, rss_before)


def _result(
    version: str, done: int, length: int, wall: float, cpu: float, rss_before: int
) -> dict[str, Any]:
    return {
        "ok": True,
        "version": version,
        "requests": done,
        "bytes": done * length,
        "wall": wall,
        "cpu": cpu,
        "rss_before_kib": rss_before,
        "maxrss_kib": _maxrss_kib(),
    }


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--client", required=True)
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    parser.add_argument("--url", required=True, help="full URL of the file to GET")
    parser.add_argument("--length", type=int, required=True, help="expected body size, bytes")
    parser.add_argument("--sha256", required=True, help="expected body SHA-256, hex")
    parser.add_argument("--n", type=int, required=True, help="measured requests (upper bound)")
    parser.add_argument("--seconds", type=float, required=True, help="measured wall-time bound")
    parser.add_argument("--warmup", type=int, default=0, help="warm-up requests (upper bound)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=100,
        help="tasks and connections of an async scenario not in SHAPES",
    )
    parser.add_argument("--cpus", help="comma-separated CPU numbers to pin this process to")
    parser.add_argument("--ca", default="", help="CA file (PEM) for https URLs")
    args = parser.parse_args(argv)
    global CA_FILE
    CA_FILE = args.ca
    if args.cpus:
        os.sched_setaffinity(0, {int(c) for c in args.cpus.split(",")})
    kind = SCENARIOS[args.scenario][1]
    try:
        if kind == "sync":
            result = run_sync(args)
        elif kind == "trio":
            import trio

            result = trio.run(_run_async, args, "trio")
        else:
            result = asyncio.run(_run_async(args, "asyncio"))
    except Skip as exc:
        print("BENCH-RESULT " + json.dumps({"ok": False, "skip": str(exc)}), flush=True)
        return 1
    except Exception as exc:
        traceback.print_exc()
        print("BENCH-RESULT " + json.dumps({"ok": False, "error": _one_line(exc)}), flush=True)
        return 1
    print("BENCH-RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
