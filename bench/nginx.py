"""A private nginx for the benchmarks: temp dir, free port, static files, stopped by its PID.

``NginxServer`` writes a config and three static files (``/small``, ``/1m``, ``/16m``) into a
fresh temporary directory, starts Debian's ``/usr/sbin/nginx`` in the foreground as a single
process (``daemon off; master_process off``) on ``127.0.0.1:<free port>``, waits until the port
accepts connections, and on ``stop()`` terminates exactly the process it started and removes the
directory. A single nginx process means one server core; on a 2-core machine the client under
test gets the other.

With ``trustme`` installed, the same server also listens with TLS on a second free port
(``tls_base_url``), with a certificate for ``127.0.0.1`` issued by a throw-away ``trustme`` CA
whose PEM file is ``ca_file`` (scenario ``tls_small``, issue 14's S5).

``/status`` is nginx's ``stub_status``: its ``accepts`` counter tells how many TCP connections a
client opened during a run (see :meth:`NginxServer.accepted_connections`).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

NGINX = "/usr/sbin/nginx"

# name -> size in bytes. /small is the "tiny JSON answer" case; /1m and /16m are bulk downloads.
FILES: dict[str, int] = {"small": 100, "1m": 1 << 20, "16m": 16 << 20}

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
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    # One connection must be able to carry a whole run: never close it for request count.
    keepalive_requests 1000000000;
    keepalive_timeout 75s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
{tls_listen}        root {tmp}/www;
        location = /status {{
            stub_status;
        }}
        # The upload benchmark's sink (bench/upload.py): the body is read and discarded.
        location = /sink {{
            client_max_body_size 0;
            return 204;
        }}
    }}
}}
"""


# The TLS listener of the same server block (one worker serves both ports). TLS 1.2 and 1.3 with
# nginx's default ciphers; a keep-alive connection does one handshake per run, so session caching
# does not matter.
_TLS_LISTEN = """\
        listen 127.0.0.1:{port} ssl backlog=4096;
        ssl_certificate {tmp}/cert.pem;
        ssl_certificate_key {tmp}/key.pem;
"""


def body_bytes(name: str) -> bytes:
    """The exact content served at ``/<name>``: deterministic pseudo-random bytes.

    Random content (rather than a repeated byte) makes a client that mixes up or truncates
    buffers fail the byte-for-byte check in the worker.
    """
    size = FILES[name]
    return random.Random(f"httpwire-bench-{name}").randbytes(size)


def nginx_version() -> str:
    """``nginx/1.22.1``-style version string of :data:`NGINX` (``"unknown"`` if it cannot run)."""
    try:
        out = subprocess.run([NGINX, "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stderr or out.stdout).strip()
    return text.rsplit(" ", 1)[-1] if text else "unknown"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class NginxError(RuntimeError):
    """nginx could not be started (the message carries the tail of its error log)."""


class NginxServer:
    """One nginx process serving the benchmark files; use as a context manager.

    Attributes after ``start()``: ``port`` (int), ``base_url`` (``"http://127.0.0.1:<port>"``),
    ``docroot`` (Path of the served directory), ``pid`` (int).
    Raises :class:`NginxError` if nginx does not accept connections within ``start_timeout``
    seconds (three ports are tried, in case another process takes the free port first).
    """

    def __init__(self, start_timeout: float = 10.0) -> None:
        self.start_timeout = start_timeout
        self.tmp: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.base_url = ""
        self.docroot = Path()
        self.pid = 0
        self.tls_port = 0
        self.tls_base_url = ""
        self.ca_file = ""

    def __enter__(self) -> NginxServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="httpwire-bench-"))
        # nginx may read files as another user; the tree holds nothing secret.
        os.chmod(self.tmp, 0o755)
        self.docroot = self.tmp / "www"
        self.docroot.mkdir()
        for name in FILES:
            path = self.docroot / name
            path.write_bytes(body_bytes(name))
            os.chmod(path, 0o644)
        tls = self._write_tls_files()
        last_error = ""
        for _attempt in range(3):
            port = _free_port()
            tls_port = _free_port() if tls else 0
            tls_listen = _TLS_LISTEN.format(tmp=self.tmp, port=tls_port) if tls else ""
            conf = self.tmp / "nginx.conf"
            conf.write_text(_CONFIG.format(tmp=self.tmp, port=port, tls_listen=tls_listen))
            self.proc = subprocess.Popen(
                [NGINX, "-p", f"{self.tmp}/", "-e", f"{self.tmp}/error.log", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                # Own session: a Ctrl-C in the terminal reaches us, and we stop nginx ourselves.
                start_new_session=True,
            )
            if self._wait_ready(port) and (not tls or self._wait_ready(tls_port)):
                self.port = port
                self.pid = self.proc.pid
                self.base_url = f"http://127.0.0.1:{port}"
                if tls:
                    self.tls_port = tls_port
                    self.tls_base_url = f"https://127.0.0.1:{tls_port}"
                    self.ca_file = str(self.tmp / "ca.pem")
                return
            last_error = self._stop_proc()
        self.stop()
        raise NginxError(f"nginx did not start: {last_error}")

    def _write_tls_files(self) -> bool:
        """Write ``ca.pem``, ``cert.pem`` and ``key.pem``; False when trustme is missing."""
        assert self.tmp is not None
        try:
            import trustme
        except ImportError:
            return False
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca.cert_pem.write_to_path(str(self.tmp / "ca.pem"))
        cert.private_key_pem.write_to_path(str(self.tmp / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(self.tmp / "cert.pem"))
        for extra in cert.cert_chain_pems[1:]:
            extra.write_to_path(str(self.tmp / "cert.pem"), append=True)
        os.chmod(self.tmp / "key.pem", 0o644)
        return True

    def _wait_ready(self, port: int) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def _stop_proc(self) -> str:
        """Stop the nginx we started (SIGTERM, then SIGKILL); return the tail of its errors."""
        proc, self.proc = self.proc, None
        if proc is None:
            return ""
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        log = ""
        if self.tmp is not None and (self.tmp / "error.log").exists():
            log = (self.tmp / "error.log").read_text(errors="replace")
        tail = (stderr + log).strip().splitlines()
        return tail[-1] if tail else f"exit code {proc.returncode}"

    def stop(self) -> None:
        """Stop nginx (if running) and delete the temp dir. Safe to call more than once."""
        self._stop_proc()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def accepted_connections(self) -> int:
        """nginx's running count of accepted TCP connections (``stub_status`` ``accepts``).

        The status request itself opens one connection, which is included in the count.
        Raises OSError or ValueError if the status page cannot be read.
        """
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
        text = b"".join(chunks).decode("latin-1")
        # Body: "Active connections: N \nserver accepts handled requests\n A H R \n..."
        lines = text.split("\r\n\r\n", 1)[1].splitlines()
        for i, line in enumerate(lines):
            if line.startswith("server accepts"):
                return int(lines[i + 1].split()[0])
        raise ValueError("no 'server accepts' line in nginx stub_status output")
