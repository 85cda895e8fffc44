"""Servers the integration tests talk to, all on 127.0.0.1 and all stopped by the tests.

- :class:`UvicornServer`: the ASGI test app (``tests/app.py``) under uvicorn, in a background
  thread with its own event loop; plain HTTP or TLS (certificate from a ``trustme`` CA).
- :class:`NginxServer`: Debian's ``/usr/sbin/nginx`` started from a config written to a temporary
  directory, serving static files (``/small`` = 100 bytes, ``/1m``, ``/16m``: :func:`app.pattern`
  bytes), ``/gzip/text.txt`` (:data:`app.COMPRESSIBLE`, gzip-compressed on the fly),
  ``/client-port`` (the client's source port, as in the ASGI app) and ``/request-uri/...``
  (the request-target exactly as received).
- Fault injection (hand-written socket servers, for faults real servers will not produce on
  demand): :class:`FaultServer` (behaviour chosen by the request path: never answer, close after
  reading the request, truncated bodies, reset, close a keep-alive connection after answering)
  and :class:`FullBacklogListener` (a listening socket whose accept queue is full, so a new TCP
  connect never completes: the local way to provoke a connect timeout).

Every wait here is bounded; every thread and process started here is stopped by ``stop()``.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from app import COMPRESSIBLE, app, pattern

HOST = "127.0.0.1"
NGINX = "/usr/sbin/nginx"
STARTUP_TIMEOUT = 15.0


def wait_for_port(
    port: int, timeout: float = STARTUP_TIMEOUT, alive: Callable[[], bool] | None = None
) -> None:
    """Return once ``127.0.0.1:port`` accepts a TCP connection; raise RuntimeError on timeout.

    ``alive`` is polled between attempts: when it returns False (the server died) we stop early.
    """
    deadline = time.monotonic() + timeout
    last: OSError | None = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"server on port {port} died during startup")
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        except OSError as exc:
            last = exc
            time.sleep(0.05)
    raise RuntimeError(f"nothing accepted connections on {HOST}:{port} within {timeout}s ({last})")


def free_port() -> int:
    """A TCP port that was free a moment ago (for servers that must bind by themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class UvicornServer:
    """The test app under uvicorn in a daemon thread; ``url`` is ``http(s)://127.0.0.1:PORT``.

    The listening socket is bound here (port 0) and handed to uvicorn, so the port is known before
    the server starts and no other process can take it in between.

    ``client_ssl_context`` is an ``ssl.SSLContext`` that trusts the server's CA (TLS only);
    ``verify`` is what to pass as ``Client(verify=...)``: that context, or True for plain HTTP.
    """

    def __init__(
        self,
        *,
        certfile: str | None = None,
        keyfile: str | None = None,
        client_ssl_context: ssl.SSLContext | None = None,
        http: str = "auto",
        port: int = 0,
        **config: Any,
    ) -> None:
        self.scheme = "https" if certfile else "http"
        self.host = HOST
        self.client_ssl_context = client_ssl_context
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((HOST, port))  # 0 in tests; scripts/serve asks for 8080
        self.port = int(self._sock.getsockname()[1])
        self.url = f"{self.scheme}://{HOST}:{self.port}"
        settings: dict[str, Any] = {
            "lifespan": "off",
            "log_config": None,
            "log_level": "warning",
            "access_log": False,
            "http": http,
            "timeout_graceful_shutdown": 2,
            "backlog": 512,
        }
        settings.update(config)
        if certfile:
            settings["ssl_certfile"] = certfile
            settings["ssl_keyfile"] = keyfile
        self.server = uvicorn.Server(uvicorn.Config(app, **settings))
        self._thread = threading.Thread(
            target=self._run, name=f"uvicorn-{self.scheme}-{self.port}", daemon=True
        )
        self._error: BaseException | None = None

    @property
    def verify(self) -> ssl.SSLContext | bool:
        return self.client_ssl_context if self.client_ssl_context is not None else True

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self._sock])
        except BaseException as exc:  # reported by start(); a thread cannot raise to the test
            self._error = exc

    def start(self) -> UvicornServer:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"uvicorn did not start on {self.url}: {self._error!r}")
            time.sleep(0.02)
        wait_for_port(self.port, alive=self._thread.is_alive)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            self.server.force_exit = True
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self._sock.close()

    def __repr__(self) -> str:
        return f"<UvicornServer {self.url}>"


NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
{user}
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    types {{
        text/plain txt;
        application/json json;
    }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    server {{
        listen {host}:{port};
        root {root}/www;
        location = /client-port {{
            default_type text/plain;
            return 200 "$remote_port";
        }}
        location /request-uri/ {{
            default_type text/plain;
            return 200 "$request_uri";
        }}
        location /gzip/ {{
            gzip on;
            gzip_types text/plain application/json;
            gzip_min_length 1;
            gzip_http_version 1.0;
        }}
    }}
}}
"""

# Files nginx serves: path -> body. /gzip/text.txt is served gzip-compressed (chunked) to clients
# that send Accept-Encoding: gzip, and as-is (with Content-Length) to the others.
NGINX_FILES: dict[str, bytes] = {
    "small": pattern(100),
    "1m": pattern(1 << 20),
    "16m": pattern(16 << 20),
    "gzip/text.txt": COMPRESSIBLE,
}


class NginxServer:
    """Debian's nginx serving :data:`NGINX_FILES` from ``root``; ``url`` is ``http://127.0.0.1:PORT``.

    Raises RuntimeError (never skips) when ``/usr/sbin/nginx`` is missing: ``scripts/test``
    installs it (``apt-get install nginx-light``).
    """

    #: The configuration template (``root``, ``host``, ``port``, ``user`` are filled in).
    CONF = NGINX_CONF

    def __init__(self, root: Path) -> None:
        if not os.path.exists(NGINX):
            raise RuntimeError(
                f"{NGINX} is missing: install it with `apt-get install -y nginx-light` "
                "(scripts/test does this) to run the nginx integration tests"
            )
        self.root = root
        self.host = HOST
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        for name, body in NGINX_FILES.items():
            path = root / "www" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        (root / "tmp").mkdir(exist_ok=True)
        # Workers run as "nobody" when the master is root, and pytest's tmp dirs are 0700.
        self.user = "user root;" if os.geteuid() == 0 else ""

    def start(self) -> typing.Self:
        # nginx binds the port itself; retry on the rare race where another process takes it.
        for _attempt in range(3):
            self.port = free_port()
            self.url = f"http://{HOST}:{self.port}"
            conf = self.root / "nginx.conf"
            conf.write_text(
                self.CONF.format(root=self.root, host=HOST, port=self.port, user=self.user)
            )
            log = open(self.root / "stderr.log", "wb")  # noqa: SIM115 - closed below
            try:
                self.proc = subprocess.Popen(
                    [
                        NGINX,
                        "-p",
                        str(self.root),
                        "-c",
                        str(conf),
                        "-e",
                        str(self.root / "error.log"),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            finally:
                log.close()
            proc = self.proc
            try:
                wait_for_port(self.port, alive=lambda p=proc: p.poll() is None)
                return self
            except RuntimeError:
                self.stop()
        raise RuntimeError(f"nginx did not start; its log says:\n{self.log()}")

    def log(self) -> str:
        text = []
        for name in ("stderr.log", "error.log"):
            path = self.root / name
            if path.exists():
                text.append(path.read_text(errors="replace"))
        return "\n".join(text)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        # SIGQUIT: graceful shutdown (the master stops its worker); then harder if it lingers.
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def __repr__(self) -> str:
        return f"<NginxServer {self.url}>"


def nginx_available() -> bool:
    return shutil.which(NGINX) is not None or os.path.exists(NGINX)


# --------------------------------------------------------------------------------------------
# Fault injection


class FaultServer:
    """A hand-written HTTP/1.1 server whose behaviour is picked by the request path.

    Paths (everything else: ``404``):

    - ``/ok``                 ``200`` with body ``ok``; the connection stays open for more requests.
    - ``/ok-then-close``      ``200`` with body ``ok`` and no ``Connection: close``, then the server
                              closes the connection (a keep-alive connection dying between
                              requests, as when a server's idle timeout fires).
    - ``/silent``             reads the request and never answers (until the client leaves, the
                              server stops, or :data:`SILENT_LIMIT` seconds pass).
    - ``/no-read``            reads the request head only, never the body, and never answers: a
                              large upload fills the socket buffers and the client's writes stall.
    - ``/close``              reads the request and closes without sending a byte.
    - ``/reset``              reads the request and resets the connection (RST, SO_LINGER 0).
    - ``/truncated``          ``Content-Length: 1000`` but only :data:`TRUNCATED_SENT` bytes of
                              body, then close.
    - ``/truncated-chunked``  chunked head and one chunk, then close before the last chunk.
    - ``/first-only``         ``200`` ``ok`` to the first request of a connection; a later request
                              on it is read and the connection closed without a byte (a
                              keep-alive connection the server dropped just as it was reused:
                              nothing tells the client beforehand).
    - ``/flaky``              like ``/first-only``, but a later request is dropped only at random
                              (probability :data:`FLAKY_DROP`), and after any answer the server
                              may close the connection (probability :data:`FLAKY_CLOSE`): a
                              server that randomly drops keep-alive connections. The first request
                              of a connection is always answered. Seeded (:data:`FLAKY_SEED`).

    Counters: ``accepted`` (connections accepted) and ``server_closes`` (connections the server
    closed on purpose: ``/ok-then-close``, ``/close``, ``/reset``, ``/truncated*``);
    :meth:`wait_for_server_closes` blocks until that many happened.
    """

    SILENT_LIMIT = 30.0
    TRUNCATED_SENT = 100
    FLAKY_DROP = 0.25
    FLAKY_CLOSE = 0.125
    FLAKY_SEED = 2026

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, 0))
        self._listener.listen(128)
        self._listener.settimeout(0.2)
        self.host = HOST
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}"
        self.accepted = 0
        self.server_closes = 0
        self.paths: list[str] = []
        self._cond = threading.Condition()
        self._rng = random.Random(self.FLAKY_SEED)  # drawn under _cond
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(
            target=self._accept_loop, name="fault-accept", daemon=True
        )

    def start(self) -> FaultServer:
        self._acceptor.start()
        wait_for_port(self.port)
        # wait_for_port's own probe connection counts as accepted: start the counters after it.
        deadline = time.monotonic() + 5
        with self._cond:
            while self.accepted < 1 and time.monotonic() < deadline:
                self._cond.wait(0.05)
        self.reset_counters()
        return self

    def reset_counters(self) -> None:
        with self._cond:
            self.accepted = 0
            self.server_closes = 0
            self.paths = []

    def wait_for_server_closes(self, count: int, timeout: float = 10.0) -> None:
        """Block until the server has closed ``count`` connections on purpose (or raise)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.server_closes < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"server closed {self.server_closes} < {count} connections")
                self._cond.wait(left)

    def stop(self) -> None:
        self._stopping.set()
        self._acceptor.join(timeout=5)
        with self._cond:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._cond:
                self.accepted += 1
                self._conns.add(conn)
                self._cond.notify_all()
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _closed_on_purpose(self) -> None:
        with self._cond:
            self.server_closes += 1
            self._cond.notify_all()

    def _read_request(self, conn: socket.socket, buf: bytearray) -> str | None:
        """Read one request (head and Content-Length or chunked body); return its path."""
        while b"\r\n\r\n" not in buf:
            data = self._recv(conn)
            if not data:
                return None
            buf += data
        end = buf.index(b"\r\n\r\n") + 4
        head = bytes(buf[:end]).decode("latin-1")
        del buf[:end]
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        path = parts[1] if len(parts) > 1 else "/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if path.startswith("/no-read"):
            pass  # the body is left unread on purpose: the client's writes must stall
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            while not buf.endswith(b"0\r\n\r\n"):
                data = self._recv(conn)
                if not data:
                    return None
                buf += data
            buf.clear()
        else:
            length = int(headers.get("content-length", "0") or 0)
            while len(buf) < length:
                data = self._recv(conn)
                if not data:
                    return None
                buf += data
            del buf[:length]
        with self._cond:
            self.paths.append(path)
        return path

    def _recv(self, conn: socket.socket) -> bytes:
        # Poll so that stop() is noticed; b"" means the peer (or stop) closed the connection.
        while not self._stopping.is_set():
            ready, _, _ = select.select([conn], [], [], 0.2)
            if ready:
                try:
                    return conn.recv(65536)
                except OSError:
                    return b""
        return b""

    def _serve(self, conn: socket.socket) -> None:
        try:
            buf = bytearray()
            reused = False  # a request after the first on this connection
            while True:
                path = self._read_request(conn, buf)
                if path is None:
                    return
                if not self._answer(conn, path.split("?")[0], reused):
                    return
                reused = True
        except OSError:
            return
        finally:
            with self._cond:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _answer(self, conn: socket.socket, path: str, reused: bool = False) -> bool:
        """Act on one request; return True to keep the connection for another request.
        ``reused``: an earlier request was answered on this connection."""
        if path in ("/first-only", "/flaky"):
            with self._cond:
                drop = reused and (path == "/first-only" or self._rng.random() < self.FLAKY_DROP)
                close = not drop and path == "/flaky" and self._rng.random() < self.FLAKY_CLOSE
            if not drop:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
                )
            if drop or close:
                conn.close()
                self._closed_on_purpose()
                return False
            return True
        if path == "/ok":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
            )
            return True
        if path == "/ok-then-close":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
            )
            conn.close()
            self._closed_on_purpose()
            return False
        if path == "/no-read":
            # Not even a peek: unread bytes must pile up. stop() or the limit ends the wait.
            self._stopping.wait(self.SILENT_LIMIT)
            return False
        if path == "/silent":
            deadline = time.monotonic() + self.SILENT_LIMIT
            while time.monotonic() < deadline and not self._stopping.is_set():
                ready, _, _ = select.select([conn], [], [], 0.2)
                if ready and not conn.recv(65536):
                    return False  # the client gave up
            return False
        if path == "/close":
            conn.close()
            self._closed_on_purpose()
            return False
        if path == "/reset":
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            conn.close()
            self._closed_on_purpose()
            return False
        if path == "/truncated":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n"
                + b"x" * self.TRUNCATED_SENT
            )
            conn.shutdown(socket.SHUT_WR)
            conn.close()
            self._closed_on_purpose()
            return False
        if path == "/truncated-chunked":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                b"a\r\n0123456789\r\n"
            )
            conn.shutdown(socket.SHUT_WR)
            conn.close()
            self._closed_on_purpose()
            return False
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return True

    def __repr__(self) -> str:
        return f"<FaultServer {self.url}>"


class FullBacklogListener:
    """A listening socket (backlog 0) whose accept queue is filled and never drained.

    Linux drops the SYN of any further connection attempt while the queue is full, so a client's
    connect to ``url`` neither succeeds nor fails: it waits until its connect timeout.
    """

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((HOST, 0))
        self._listener.listen(0)
        self.host = HOST
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}"
        self._fillers: list[socket.socket] = []

    def start(self) -> FullBacklogListener:
        # Connect until an attempt no longer completes: from then on the queue is full.
        for _ in range(64):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            self._fillers.append(sock)
            sock.connect_ex((HOST, self.port))
            _, writable, _ = select.select([], [sock], [], 0.5)
            if not writable:
                return self
        self.stop()
        raise RuntimeError("could not fill the accept queue of a listen(0) socket")

    def stop(self) -> None:
        for sock in self._fillers:
            with contextlib.suppress(OSError):
                sock.close()
        self._fillers.clear()
        with contextlib.suppress(OSError):
            self._listener.close()

    def __repr__(self) -> str:
        return f"<FullBacklogListener {self.url}>"


class RefusedPort:
    """A TCP port bound but not listening: connecting to it is refused (RST) at once.

    Holding the bound socket keeps any other process from listening there during the test.
    """

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((HOST, 0))
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self._sock.close()


# --------------------------------------------------------------------------------------------
# A real HTTP proxy

TINYPROXY = "/usr/bin/tinyproxy"

TINYPROXY_CONF = """\
Port {port}
Listen {host}
Timeout 30
MaxClients 50
LogLevel Info
LogFile "{root}/tinyproxy.log"
PidFile "{root}/tinyproxy.pid"
Allow {host}
{extra}
"""


class Tinyproxy:
    """tinyproxy in the foreground on 127.0.0.1 (``url``: ``http://127.0.0.1:PORT``). ``extra``
    is appended to its config (``BasicAuth``, ``ConnectPort`` lines)."""

    def __init__(self, root: Path, extra: str = "") -> None:
        if not os.path.exists(TINYPROXY):
            raise RuntimeError(
                f"{TINYPROXY} is missing: install it with `apt-get install -y tinyproxy-bin`"
            )
        self.root = root
        self.extra = extra
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Tinyproxy:
        extra = self.extra
        if os.geteuid() == 0:
            extra += "\nUser root\nGroup root"
        for _attempt in range(3):
            self.port = free_port()
            self.url = f"http://{HOST}:{self.port}"
            conf = self.root / "tinyproxy.conf"
            conf.write_text(
                TINYPROXY_CONF.format(port=self.port, host=HOST, root=self.root, extra=extra)
            )
            with open(self.root / "stderr.log", "wb") as log:
                self.proc = subprocess.Popen(
                    [TINYPROXY, "-d", "-c", str(conf)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            proc = self.proc
            try:
                wait_for_port(self.port, alive=lambda p=proc: p.poll() is None)  # type: ignore[misc]
                return self
            except RuntimeError:
                self.stop()
        raise RuntimeError(f"tinyproxy did not start:\n{self.log()}")

    def log(self) -> str:
        return "\n".join(
            (self.root / name).read_text(errors="replace")
            for name in ("stderr.log", "tinyproxy.log")
            if (self.root / name).exists()
        )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
