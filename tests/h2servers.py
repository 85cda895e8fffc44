"""HTTP/2 servers for the HTTP/2 tests, all on 127.0.0.1 and all stopped by the tests.

- :class:`HypercornServer`: the ASGI test app (``tests/app.py``) under hypercorn in a background
  thread: TLS with ALPN ``h2``/``http/1.1``, or cleartext where hypercorn accepts HTTP/2 with
  prior knowledge (RFC 9113 section 3.3).
- :class:`NginxH2Server`: Debian's nginx with ``listen ... ssl http2`` (nginx 1.22 syntax) serving
  :data:`servers.NGINX_FILES`.
- :class:`NghttpdServer`: nghttpd (nghttp2's server), cleartext (prior knowledge) or TLS.
- :class:`H2FaultServer`: a hand-written server on the ``h2`` library (cleartext, prior
  knowledge) for faults real servers do not produce on demand; behaviour by path and by
  constructor options, see its docstring.

Every wait here is bounded; every thread and process started here is stopped by ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from app import app, pattern
from hyperframe.frame import GoAwayFrame
from servers import HOST, NGINX, NGINX_FILES, STARTUP_TIMEOUT, free_port, wait_for_port

# -- hypercorn ------------------------------------------------------------------------------------


class HypercornServer:
    """The test app under hypercorn; ``url`` is ``http(s)://127.0.0.1:PORT``.

    TLS when ``certfile`` is given (ALPN offers ``h2`` first); cleartext otherwise, where
    hypercorn speaks HTTP/1.1 or, to a client that starts with the HTTP/2 preface, HTTP/2.
    ``port`` 0 (the default, and the only value tests use) picks a free port; ``scripts/serve``
    asks for a fixed one.
    """

    def __init__(
        self,
        *,
        certfile: str | None = None,
        keyfile: str | None = None,
        client_ssl_context: ssl.SSLContext | None = None,
        max_concurrent_streams: int = 100,
        keep_alive_timeout: float = 30.0,
        port: int = 0,
    ) -> None:
        from hypercorn.config import Config

        self.scheme = "https" if certfile else "http"
        self.host = HOST
        self.client_ssl_context = client_ssl_context
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((HOST, port))
        self._sock.listen(512)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"{self.scheme}://{HOST}:{self.port}"
        config = Config()
        if certfile:
            config.certfile = certfile
            config.keyfile = keyfile
            config.alpn_protocols = ["h2", "http/1.1"]
            config.bind = []
            config.insecure_bind = []
        config.bind = [f"fd://{self._sock.fileno()}"]
        config.accesslog = None
        config.errorlog = None
        config.loglevel = "WARNING"
        config.graceful_timeout = 1.0
        config.h2_max_concurrent_streams = max_concurrent_streams
        config.keep_alive_timeout = keep_alive_timeout
        self._config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"hypercorn-{self.port}", daemon=True
        )

    @property
    def verify(self) -> ssl.SSLContext | bool:
        return self.client_ssl_context if self.client_ssl_context is not None else True

    def _run(self) -> None:
        from hypercorn.asyncio import serve

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            self._started.set()
            await serve(app, self._config, shutdown_trigger=self._stop_event.wait)  # type: ignore[arg-type]

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by start(); a thread cannot raise to the test
            self._error = exc
            self._started.set()

    def start(self) -> HypercornServer:
        self._thread.start()
        if not self._started.wait(STARTUP_TIMEOUT) or self._error is not None:
            self.stop()
            raise RuntimeError(f"hypercorn did not start on {self.url}: {self._error!r}")
        wait_for_port(self.port, alive=self._thread.is_alive)
        return self

    def stop(self) -> None:
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)
        self._thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self._sock.close()

    def __repr__(self) -> str:
        return f"<HypercornServer {self.url}>"


# -- nginx with http2 ------------------------------------------------------------------------------

NGINX_H2_CONF = """\
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
    default_type application/octet-stream;
    keepalive_requests 100000;
    keepalive_timeout {keepalive_timeout};
    http2_max_concurrent_streams {streams};
    server {{
        listen {host}:{port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {root}/www;
    }}
}}
"""


class NginxH2Server:
    """nginx serving :data:`servers.NGINX_FILES` over TLS with HTTP/2 (ALPN ``h2``)."""

    def __init__(
        self,
        root: Path,
        certfile: str,
        keyfile: str,
        max_concurrent_streams: int = 128,
        keepalive_timeout: str = "60s",
    ) -> None:
        if not os.path.exists(NGINX):
            raise RuntimeError(f"{NGINX} is missing: install it with `apt-get install nginx-light`")
        self.root = root
        self.host = HOST
        self.port = 0
        self.url = ""
        self.certfile = certfile
        self.keyfile = keyfile
        self.streams = max_concurrent_streams
        # nginx >= 1.19.7 closes idle HTTP/2 connections after keepalive_timeout (GOAWAY first).
        self.keepalive_timeout = keepalive_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        for name, body in NGINX_FILES.items():
            path = root / "www" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        (root / "tmp").mkdir(exist_ok=True)
        self.user = "user root;" if os.geteuid() == 0 else ""

    def start(self) -> NginxH2Server:
        for _attempt in range(3):
            self.port = free_port()
            self.url = f"https://{HOST}:{self.port}"
            conf = self.root / "nginx.conf"
            conf.write_text(
                NGINX_H2_CONF.format(
                    root=self.root,
                    host=HOST,
                    port=self.port,
                    user=self.user,
                    cert=self.certfile,
                    key=self.keyfile,
                    streams=self.streams,
                    keepalive_timeout=self.keepalive_timeout,
                )
            )
            with open(self.root / "stderr.log", "wb") as log:
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
            proc = self.proc

            def alive(p: subprocess.Popen[bytes] = proc) -> bool:
                return p.poll() is None

            try:
                wait_for_port(self.port, alive=alive)
                return self
            except RuntimeError:
                self.stop()
        log_text = (self.root / "error.log").read_text(errors="replace")
        raise RuntimeError(f"nginx (http2) did not start; its log says:\n{log_text}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


NGHTTPD = "/usr/sbin/nghttpd"


class NghttpdServer:
    """nghttpd (nghttp2's reference server, Debian's ``nghttp2-server``) serving
    :data:`servers.NGINX_FILES` from ``root``: cleartext HTTP/2 with prior knowledge, or TLS
    (ALPN ``h2``) when ``certfile`` is given.  ``url`` is ``http(s)://127.0.0.1:PORT``.

    Raises RuntimeError (never skips) when nghttpd is missing: ``scripts/test`` installs it.
    """

    def __init__(self, root: Path, certfile: str | None = None, keyfile: str | None = None):
        if not os.path.exists(NGHTTPD):
            raise RuntimeError(f"{NGHTTPD} is missing: `apt-get install nghttp2-server`")
        self.root = root
        self.host = HOST
        self.port = 0
        self.url = ""
        self.certfile = certfile
        self.keyfile = keyfile
        self.proc: subprocess.Popen[bytes] | None = None
        for name, body in NGINX_FILES.items():
            path = root / "www" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)

    def start(self) -> NghttpdServer:
        for _attempt in range(3):  # nghttpd binds by itself: a free port may be taken meanwhile
            self.port = free_port()
            scheme = "https" if self.certfile else "http"
            self.url = f"{scheme}://{HOST}:{self.port}"
            args = [NGHTTPD, "-a", HOST, "-d", str(self.root / "www"), str(self.port)]
            if self.certfile and self.keyfile:
                args += [self.keyfile, self.certfile]
            else:
                args.insert(1, "--no-tls")
            with open(self.root / "nghttpd.log", "wb") as log:
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            proc = self.proc

            def alive(p: subprocess.Popen[bytes] = proc) -> bool:
                return p.poll() is None

            try:
                wait_for_port(self.port, alive=alive)
                return self
            except RuntimeError:
                self.stop()
        log_text = (self.root / "nghttpd.log").read_text(errors="replace")
        raise RuntimeError(f"nghttpd did not start; its log says:\n{log_text}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# -- fault injection with h2 -------------------------------------------------------------------------


class H2FaultServer:
    """A cleartext HTTP/2 server (prior knowledge) on the ``h2`` library, one thread per connection.

    Paths (the response body is ``b"ok <path>"`` unless said otherwise):

    - ``/bytes/N``     ``N`` bytes of :func:`app.pattern`, sent as the client's windows allow.
    - ``/echo``        the request body back (after reading all of it; the server's receive window
                       is the default 64 KiB, so a large upload waits for WINDOW_UPDATE).
    - ``/trailers``    a body then trailers ``x-checksum: abc`` and ``x-count: 2``.
    - ``/reset``       ``RST_STREAM(INTERNAL_ERROR)`` instead of a response.
    - ``/refuse``      ``RST_STREAM(REFUSED_STREAM)`` instead of a response.
    - ``/refuse-reused``  answers stream 1 (the connection's first request); every later stream
                       of the connection gets ``RST_STREAM(REFUSED_STREAM)``.
    - ``/drop``        the response head and 10 body bytes, then the TCP connection is closed.
    - ``/settings/N``  sends ``SETTINGS_MAX_CONCURRENT_STREAMS = N``, then responds.
    - ``/ping``        sends a PING first (the client must acknowledge it), then responds.
    - ``/hold``        the response head and 10 bytes, then nothing until the client resets it.
    - ``/overlong``    Content-Length 5 and 10 bytes of body: a malformed response.
    - ``/wait/S``      responds after ``S`` seconds (other streams proceed meanwhile).
    - ``/bye``         responds, then closes the TCP connection without GOAWAY (a server that
                       drops an idle connection: the client finds out on its next request).

    Options: ``max_concurrent_streams`` (the SETTINGS value sent first); ``goaway_after=N``: on
    each connection, once ``N`` requests have arrived, a GOAWAY with the ``N``-th stream as
    ``last_stream_id`` is sent *before* the answers to those ``N`` streams (RFC 9113 section 6.8:
    they still complete); later streams are never answered, and the connection is closed once the
    first ``N`` are answered.

    Counters (read them after the client is done): ``connections``, ``requests``, ``resets``
    (list of ``(stream_id, error_code)`` the client sent), ``max_open`` (most streams open at once
    on one connection), ``pings_acked``.
    """

    def __init__(
        self, *, max_concurrent_streams: int = 100, goaway_after: int | None = None
    ) -> None:
        self.max_concurrent_streams = max_concurrent_streams
        self.goaway_after = goaway_after
        self.host = HOST
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((HOST, 0))
        self._sock.listen(128)
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}"
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self.connections = 0
        self.requests = 0
        self.resets: list[tuple[int, int]] = []
        self.max_open = 0
        self.pings_acked = 0
        self.errors: list[str] = []
        self._accept_thread = threading.Thread(
            target=self._accept, name=f"h2fault-{self.port}", daemon=True
        )

    def start(self) -> H2FaultServer:
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._accept_thread.join(timeout=5)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()
        for thread in list(self._threads):
            thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    # One connection: a loop that sends whatever the windows allow, then reads.
    def _serve(self, sock: socket.socket) -> None:
        try:
            _Conn(self, sock).run()
        except (OSError, h2.exceptions.ProtocolError) as exc:
            if not self._stop.is_set():
                self.errors.append(repr(exc))
        finally:
            with contextlib.suppress(OSError):
                sock.close()


# A stream the client already reset (and h2 forgot): answering it raises one of these.
_GONE = (h2.exceptions.StreamClosedError, h2.exceptions.StreamIDTooLowError)


class _Conn:
    def __init__(self, server: H2FaultServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        sock.settimeout(10.0)
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config=config)
        self.h2.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: server.max_concurrent_streams
            },
        )
        self.h2.initiate_connection()
        self.requests: dict[int, dict[str, Any]] = {}
        # stream id -> [remaining body (memoryview), trailers or None]
        self.outgoing: dict[int, list[Any]] = {}
        self.delayed: list[tuple[float, int]] = []
        self.seen = 0
        self.goaway_last: int | None = None
        self.closing = False
        self.bye = False

    def send(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def run(self) -> None:
        self.send()
        server = self.server
        while not server._stop.is_set():
            self.pump_outgoing()
            self.send()
            now = time.monotonic()
            for due, sid in list(self.delayed):
                if due <= now:
                    self.delayed.remove((due, sid))
                    if sid in self.requests:  # not reset by the client meanwhile
                        try:
                            self.respond_body(sid, b"ok waited")
                        except _GONE:
                            self.requests.pop(sid, None)
            if self.closing and not self.outgoing and self.goaway_done():
                self.linger()
                return
            if self.bye and not self.outgoing:
                # The server's delay under test, not a settle: the client reads the response and
                # reuses the connection within it, so the close hits its next request (see
                # test_an_idle_connection_dropped_by_the_server_is_retried_for_idempotent_requests;
                # waiting for the client's EOF instead lets it drop the connection while idle).
                time.sleep(0.05)
                return
            if not self.outgoing or self.delayed:
                readable, _, _ = select.select([self.sock], [], [], 0.05)
                if not readable:
                    continue
            elif not select.select([self.sock], [], [], 0.05)[0]:
                continue
            data = self.sock.recv(65536)
            if not data:
                return
            events = self.h2.receive_data(data)
            for event in events:
                self.handle(event)
            open_now = sum(1 for s in self.h2.streams.values() if not s.closed)
            with server._lock:
                server.max_open = max(server.max_open, open_now)
            self.send()

    def linger(self) -> None:
        """Close gracefully: stop sending, then read (and drop) what the client still sends until
        it closes or 2 s pass, so its late frames do not turn into a TCP reset that would destroy
        the responses it has not read yet (what real servers do too)."""
        self.sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not self.server._stop.is_set():
            if select.select([self.sock], [], [], 0.05)[0] and not self.sock.recv(65536):
                return

    def goaway_done(self) -> bool:
        last = self.goaway_last or 0
        return not any(sid <= last for sid in self.requests)

    def handle(self, event: Any) -> None:
        server = self.server
        if isinstance(event, h2.events.RequestReceived):
            headers = dict(event.headers)
            self.requests[event.stream_id] = {
                "path": headers[b":path"].decode(),
                "body": bytearray(),
            }
            self.seen += 1
            with server._lock:
                server.requests += 1
            if server.goaway_after is not None and self.seen == server.goaway_after:
                # GOAWAY first (raw frame: h2 itself would refuse to send anything after it), then
                # the answers for the streams up to this one.
                frame = GoAwayFrame(0)
                frame.last_stream_id = event.stream_id
                frame.error_code = 0
                self.sock.sendall(self.h2.data_to_send() + frame.serialize())
                self.goaway_last = event.stream_id
                self.closing = True
                for sid in list(self.requests):
                    if sid > event.stream_id:
                        del self.requests[sid]
            elif self.goaway_last is not None and event.stream_id > self.goaway_last:
                del self.requests[event.stream_id]  # above last_stream_id: never processed
                return
        elif isinstance(event, h2.events.DataReceived):
            req = self.requests.get(event.stream_id)
            if req is not None:
                req["body"] += event.data
            self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            if event.stream_id in self.requests:
                try:
                    self.dispatch(event.stream_id)
                except _GONE:
                    # The client reset it in the same read (a cancelled request): forget it.
                    self.requests.pop(event.stream_id, None)
                    self.outgoing.pop(event.stream_id, None)
        elif isinstance(event, h2.events.StreamReset):
            with server._lock:
                server.resets.append((event.stream_id, int(event.error_code)))
            self.requests.pop(event.stream_id, None)
            self.outgoing.pop(event.stream_id, None)
        elif isinstance(event, h2.events.PingAckReceived):
            with server._lock:
                server.pings_acked += 1

    def dispatch(self, sid: int) -> None:
        req = self.requests[sid]
        path: str = req["path"]
        if path.startswith("/bytes/"):
            self.respond_body(sid, pattern(int(path.split("/")[2])))
        elif path == "/echo":
            body = bytes(req["body"])
            self.respond_body(sid, body, [(b"x-received-length", str(len(body)).encode())])
        elif path == "/trailers":
            self.respond_body(sid, b"body", trailers=[(b"x-checksum", b"abc"), (b"x-count", b"2")])
        elif path == "/reset":
            self.h2.reset_stream(sid, 2)
            del self.requests[sid]
        elif path == "/refuse" or (path == "/refuse-reused" and sid != 1):
            self.h2.reset_stream(sid, 7)
            del self.requests[sid]
        elif path == "/drop":
            self.h2.send_headers(sid, [(b":status", b"200")])
            self.h2.send_data(sid, b"0123456789")
            self.send()
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
            raise OSError("dropped on purpose")
        elif path.startswith("/settings/"):
            n = int(path.split("/")[2])
            self.h2.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: n})
            self.respond_body(sid, f"ok settings {n}".encode())
        elif path == "/overlong":
            # Content-Length 5, then 10 octets: a malformed response (RFC 9113 section 8.1.1).
            self.h2.send_headers(sid, [(b":status", b"200"), (b"content-length", b"5")])
            self.outgoing[sid] = [memoryview(b"0123456789"), None]
        elif path == "/ping":
            self.h2.ping(b"httpwire")
            self.respond_body(sid, b"ok ping")
        elif path == "/hold":
            self.h2.send_headers(sid, [(b":status", b"200")])
            self.h2.send_data(sid, b"0123456789")
        elif path == "/bye":
            self.respond_body(sid, b"ok bye")
            self.bye = True
        elif path.startswith("/wait/"):
            self.delayed.append((time.monotonic() + float(path.split("/")[2]), sid))
        else:
            self.respond_body(sid, b"ok " + path.encode())

    def respond_body(
        self,
        sid: int,
        body: bytes,
        headers: list[tuple[bytes, bytes]] | None = None,
        trailers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        fields = [(b":status", b"200"), (b"content-length", str(len(body)).encode())]
        if trailers:
            fields = [(b":status", b"200")]
        self.h2.send_headers(sid, fields + (headers or []), end_stream=False)
        self.outgoing[sid] = [memoryview(body), trailers]

    def pump_outgoing(self) -> None:
        for sid in list(self.outgoing):
            body, trailers = self.outgoing[sid]
            try:
                while body:
                    window = min(
                        self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size
                    )
                    if window <= 0:
                        break
                    self.h2.send_data(sid, body[:window].tobytes())
                    body = body[window:]
                self.outgoing[sid][0] = body
                if not body:
                    if trailers:
                        self.h2.send_headers(sid, trailers, end_stream=True)
                    else:
                        self.h2.end_stream(sid)
                    del self.outgoing[sid]
                    self.requests.pop(sid, None)
            except _GONE:
                del self.outgoing[sid]
                self.requests.pop(sid, None)
