"""The threaded backend: blocking sockets, one OS thread per concurrent operation.

Timeouts are socket timeouts, recomputed before each operation from the operation's own limit and
the ``timeout()`` blocks in force (see :mod:`httpwire._timeouts`).
"""

from __future__ import annotations

import errno
import os
import select
import selectors
import socket
import ssl
import struct
import time
import typing
from collections.abc import Iterable
from typing import Any, NoReturn

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from .._timeouts import remaining
from ._addresses import (
    HAPPY_EYEBALLS_DELAY,
    apply_socket_options,
    bind_local,
    connect_failure,
    format_addr,
    interleave_addresses,
)
from .base import (
    DEFAULT_READ_SIZE,
    SOCKET_OPTION,
    NetworkBackendInterface,
    NetworkStreamInterface,
    tls_hostname,
)

__all__ = ["NetworkBackend", "NetworkStream"]

_UNSET: Any = object()
_TIMEVAL = struct.Struct("@ll")  # struct timeval {time_t tv_sec; suseconds_t tv_usec}


class NetworkStream(NetworkStreamInterface):
    """A blocking socket (TCP or UNIX, optionally TLS). Repr: ``<NetworkStream ["127.0.0.1:8443" TLS]>``."""

    __slots__ = (
        "_sock",
        "_timeout",
        "_rcvtimeo",
        "_sndtimeo",
        "_kernel_timeouts",
        "_closed",
        "_label",
        "_poller",
    )

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._timeout: float | None = _UNSET
        self._rcvtimeo: float | None = None
        self._sndtimeo: float | None = None
        # Plain sockets stay in blocking mode with the kernel enforcing the timeouts
        # (SO_RCVTIMEO / SO_SNDTIMEO): one syscall per read or write. Python's own socket
        # timeouts poll() before every recv and send, doubling the syscalls. TLS sockets keep
        # Python's timeouts: OpenSSL retries a blocking read that the kernel timed out.
        self._kernel_timeouts = not isinstance(sock, ssl.SSLSocket)
        if self._kernel_timeouts:
            sock.settimeout(None)
            self._timeout = None
        self._closed = False
        # For "is_readable", asked before every reuse of a pooled connection: a poll object
        # registered once costs half of a select.select() call.
        self._poller: Any = None
        try:
            self._label = format_addr(sock.getpeername())
        except OSError:
            self._label = "?"

    def _settimeout(self, seconds: float | None) -> None:
        if seconds != self._timeout:
            self._sock.settimeout(seconds)
            self._timeout = seconds

    def _set_kernel_timeout(self, option: int, seconds: float | None) -> None:
        if seconds is None:
            sec = usec = 0  # 0 means "no timeout" to the kernel
        else:
            sec = int(seconds)
            usec = max(1, int((seconds - sec) * 1e6)) if sec == 0 else int((seconds - sec) * 1e6)
        self._sock.setsockopt(socket.SOL_SOCKET, option, _TIMEVAL.pack(sec, usec))
        if option == socket.SO_RCVTIMEO:
            self._rcvtimeo = seconds
        else:
            self._sndtimeo = seconds

    def _set_send_timeout(self, seconds: float | None) -> None:
        if self._kernel_timeouts:
            if seconds != self._sndtimeo:
                self._set_kernel_timeout(socket.SO_SNDTIMEO, seconds)
        elif seconds != self._timeout:
            self._settimeout(seconds)

    def _read_timeout(self, timeout: float | None) -> float | None:
        """Arm the read timeout (seconds left of ``timeout``); raise if none is left."""
        t = remaining(timeout)
        if t is not None and t <= 0.0:
            raise ReadTimeout("timed out before reading the response (deadline already passed)")
        if self._kernel_timeouts:
            if t != self._rcvtimeo:
                self._set_kernel_timeout(socket.SO_RCVTIMEO, t)
        elif t != self._timeout:
            self._settimeout(t)
        return t

    def _read_failed(self, exc: BaseException, t: float | None) -> NoReturn:
        if isinstance(exc, TimeoutError | BlockingIOError):
            raise ReadTimeout(f"no bytes arrived from {self._label} within {t:.3g} s") from None
        if self._closed:
            raise ReadError("read from a closed stream") from None
        raise ReadError(f"reading from {self._label} failed: {exc}") from exc

    def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        t = self._read_timeout(timeout)
        try:
            return self._sock.recv(max_bytes or DEFAULT_READ_SIZE)
        except (OSError, ValueError) as exc:
            self._read_failed(exc, t)

    def read_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """``recv_into`` ``buffer``: the kernel copies straight into it (big bodies, issue 14)."""
        t = self._read_timeout(timeout)
        try:
            return self._sock.recv_into(buffer)
        except (OSError, ValueError) as exc:
            self._read_failed(exc, t)

    def write(self, data: bytes, timeout: float | None = None) -> None:
        if not data:
            return
        t = remaining(timeout)
        if t is not None and t <= 0.0:
            raise WriteTimeout("timed out before writing the request (deadline already passed)")
        limit = t
        try:
            if t is None:
                self._set_send_timeout(None)
                self._sock.sendall(data)
                return
            # One deadline for the whole write: each send() waits at most until it (the socket
            # timeout alone would restart with every partial send to a server that reads
            # slowly, or that stops reading after each small window).
            deadline = time.monotonic() + t
            view = memoryview(data)
            while True:
                self._set_send_timeout(t)
                sent = self._sock.send(view)
                if sent >= len(view):
                    return
                view = view[sent:]
                t = deadline - time.monotonic()
                if t <= 0.0:
                    raise TimeoutError
        except (TimeoutError, BlockingIOError):
            raise WriteTimeout(f"could not write to {self._label} within {limit:.3g} s") from None
        except (OSError, ValueError) as exc:
            if self._closed:
                raise WriteError("write to a closed stream") from None
            raise WriteError(f"writing to {self._label} failed: {exc}") from exc

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        hostname: str | bytes | None = None,
        timeout: float | None = None,
        *,
        server_hostname: str | bytes | None = None,
    ) -> NetworkStream:
        """TLS handshake over this socket; the stream is upgraded in place and returned."""
        server_hostname = tls_hostname(hostname, server_hostname)
        t = remaining(timeout)
        if t is not None and t <= 0.0:
            raise ConnectTimeout("timed out before the TLS handshake (deadline already passed)")
        if self._kernel_timeouts:
            # Hand the socket to Python's timeouts (non-blocking fd + poll) for TLS.
            if self._rcvtimeo is not None:
                self._set_kernel_timeout(socket.SO_RCVTIMEO, None)
            if self._sndtimeo is not None:
                self._set_kernel_timeout(socket.SO_SNDTIMEO, None)
            self._timeout = _UNSET
        self._settimeout(t)
        try:
            tls = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except TimeoutError:
            self.close()
            raise ConnectTimeout(
                f"TLS handshake with {self._label} timed out after {t:.3g} s"
            ) from None
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise ConnectError(f"TLS handshake with {self._label} failed: {exc}") from exc
        # In place: the plain socket was detached into ``tls``; this object is now the TLS stream.
        self._sock = tls
        self._kernel_timeouts = False
        self._poller = None
        return self

    def get_extra_info(self, info: str) -> Any:
        sock = self._sock
        if info == "is_readable":
            if self._closed:
                return True
            if isinstance(sock, ssl.SSLSocket) and sock.pending():
                return True
            try:
                poller = self._poller
                if poller is None:
                    poller = self._poller = select.poll()
                    poller.register(sock, select.POLLIN)
                return bool(poller.poll(0))
            except (OSError, ValueError):
                return True
        if info == "ssl_object":
            return sock if isinstance(sock, ssl.SSLSocket) else None
        if info == "socket":
            return sock
        try:
            if info == "client_addr":
                return sock.getsockname()
            if info == "server_addr":
                return sock.getpeername()
        except OSError:
            return None
        return None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._sock.close()
            except OSError:
                pass

    def __repr__(self) -> str:
        tls = " TLS" if isinstance(self._sock, ssl.SSLSocket) else ""
        closed = " CLOSED" if self._closed else ""
        return f'<NetworkStream ["{self._label}"{tls}{closed}]>'


class NetworkBackend(NetworkBackendInterface):
    """Opens blocking TCP / UNIX sockets. Repr: ``<NetworkBackend [threaded]>``.

    ``connect`` resolves the host with ``getaddrinfo``. One address (the common case, and any IP
    literal) is connected to directly. Several addresses race per RFC 8305 ("Happy Eyeballs"):
    IPv6 and IPv4 interleaved, the next attempt starting after :data:`HAPPY_EYEBALLS_DELAY`
    seconds or as soon as the previous one fails, the first to connect winning and the others
    closed. The race runs in the calling thread on non-blocking sockets (no extra threads). The
    connect ``timeout`` bounds everything together; errors name each address tried.
    TCP_NODELAY is set: requests are written in one piece, so Nagle only adds latency.
    """

    def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        t = remaining(timeout)
        if t is not None and t <= 0.0:
            raise ConnectTimeout(f"timed out before connecting to {host}:{port}")
        deadline = None if t is None else time.monotonic() + t
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ConnectError(f"could not resolve {host!r}: {exc}") from exc
        errors: list[str] = []
        if len(infos) > 1:
            sock = _race(
                interleave_addresses(infos), deadline, local_address, socket_options, errors
            )
        else:
            sock = _connect_one(infos, deadline, local_address, socket_options, errors)
        if sock is not None:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return NetworkStream(sock)
        if deadline is not None and deadline - time.monotonic() <= 0.0:
            raise ConnectTimeout(
                f"connecting to {host}:{port} timed out after {t:.3g} s"
                f" ({'; '.join(errors) or 'no address tried'})"
            )
        raise ConnectError(connect_failure(host, port, errors))

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        t = remaining(timeout)
        if t is not None and t <= 0.0:
            raise ConnectTimeout(f"timed out before connecting to {path}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            apply_socket_options(sock, socket_options)
            sock.settimeout(t)
            sock.connect(path)
        except TimeoutError:
            sock.close()
            raise ConnectTimeout(f"connecting to UNIX socket {path} timed out") from None
        except OSError as exc:
            sock.close()
            raise ConnectError(f"could not connect to UNIX socket {path}: {exc}") from exc
        return NetworkStream(sock)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def __repr__(self) -> str:
        return "<NetworkBackend [threaded]>"


def _connect_one(
    infos: list[Any],
    deadline: float | None,
    local_address: str | None,
    socket_options: Iterable[SOCKET_OPTION] | None,
    errors: list[str],
) -> socket.socket | None:
    """The plain path: a blocking connect to each address in turn (one address in practice)."""
    for family, type_, proto, _canon, addr in infos:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0.0:
            break
        sock = socket.socket(family, type_, proto)
        try:
            apply_socket_options(sock, socket_options)
            if local_address is not None:
                bind_local(sock, family, local_address)
            sock.settimeout(left)
            sock.connect(addr)
        except TimeoutError:
            sock.close()
            errors.append(f"{format_addr(addr)}: timed out")
            continue
        except OSError as exc:
            sock.close()
            errors.append(f"{format_addr(addr)}: {exc.strerror or exc}")
            continue
        except BaseException:
            sock.close()
            raise
        sock.settimeout(None)
        return sock
    return None


def _start_attempt(
    info: Any,
    local_address: str | None,
    socket_options: Iterable[SOCKET_OPTION] | None,
    errors: list[str],
) -> tuple[socket.socket, bool] | None:
    """Start one non-blocking connect to ``info`` (a ``getaddrinfo`` entry): ``(socket, True)``
    when it connected at once, ``(socket, False)`` while it is in progress, None when it failed
    (the reason appended to ``errors``, the socket closed)."""
    family, type_, proto, _canon, addr = info
    sock = socket.socket(family, type_, proto)
    try:
        sock.setblocking(False)
        apply_socket_options(sock, socket_options)
        if local_address is not None:
            bind_local(sock, family, local_address)
        err = sock.connect_ex(addr)
    except OSError as exc:
        sock.close()
        errors.append(f"{format_addr(addr)}: {exc.strerror or exc}")
        return None
    except BaseException:
        sock.close()
        raise
    if err == 0:
        return sock, True
    if err not in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY):
        sock.close()
        errors.append(f"{format_addr(addr)}: {os.strerror(err)}")
        return None
    return sock, False


def _race(
    infos: list[Any],
    deadline: float | None,
    local_address: str | None,
    socket_options: Iterable[SOCKET_OPTION] | None,
    errors: list[str],
) -> socket.socket | None:
    """Happy Eyeballs (RFC 8305 section 5) on non-blocking sockets in the calling thread.

    Returns the first socket to connect (blocking mode again) or None when every attempt failed
    or the deadline passed; every other socket is closed before returning, whatever happens
    (exceptions and KeyboardInterrupt included). Failures are appended to ``errors``.
    """
    selector = selectors.DefaultSelector()
    attempts: dict[socket.socket, Any] = {}  # in flight -> its address
    pending = list(infos)
    next_start = 0.0  # monotonic time when the next attempt may start
    winner: socket.socket | None = None
    try:
        while winner is None:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                for addr in attempts.values():
                    errors.append(f"{format_addr(addr)}: timed out")
                return None
            if pending and (now >= next_start or not attempts):
                info = pending.pop(0)
                started = _start_attempt(info, local_address, socket_options, errors)
                if started is None:
                    next_start = 0.0  # start the next attempt at once
                    continue
                sock, connected = started
                if connected:
                    winner = sock
                    break
                attempts[sock] = info[4]
                selector.register(sock, selectors.EVENT_WRITE)
                next_start = time.monotonic() + HAPPY_EYEBALLS_DELAY
            if not attempts:
                if not pending:
                    return None
                continue
            wait = None if deadline is None else deadline - time.monotonic()
            if pending:
                until_next = next_start - time.monotonic()
                wait = until_next if wait is None else min(wait, until_next)
            for key, _events in selector.select(None if wait is None else max(0.0, wait)):
                sock = typing.cast(socket.socket, key.fileobj)
                addr = attempts.pop(sock)
                selector.unregister(sock)
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err == 0 and winner is None:
                    winner = sock
                    continue
                sock.close()
                if err:
                    errors.append(f"{format_addr(addr)}: {os.strerror(err)}")
                    # RFC 8305 section 5: a failure starts the next attempt without delay.
                    next_start = 0.0
                # else: a second success in the same round; the first one won.
    finally:
        for sock in attempts:
            sock.close()
        selector.close()
    winner.setblocking(True)
    return winner
