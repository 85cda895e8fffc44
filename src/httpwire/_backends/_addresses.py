"""Helpers shared by the network backends: address formatting, socket options, and the
address ordering and binding of the Happy Eyeballs race (RFC 8305)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from typing import Any

from .base import SOCKET_OPTION

__all__ = [
    "HAPPY_EYEBALLS_DELAY",
    "apply_socket_options",
    "bind_local",
    "connect_failure",
    "format_addr",
    "os_reason",
    "interleave_addresses",
]


def format_addr(addr: Any) -> str:
    """``"127.0.0.1:8080"`` / ``"[::1]:8080"`` for a socket address tuple; ``"?"`` when unknown."""
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(addr) if addr else "?"


def os_reason(exc: BaseException) -> str:
    """The operating system's words for a socket error (``"Connection refused"``), without the
    errno prefix and the address each runtime words differently; ``str(exc)`` otherwise."""
    errno_ = getattr(exc, "errno", None)
    if isinstance(errno_, int) and errno_ > 0:
        return os.strerror(errno_)
    return str(exc)


def connect_failure(host: str, port: int, reasons: list[str]) -> str:
    """The ``ConnectError`` message, worded alike in every backend: ``"could not connect to
    127.0.0.1:1: Connection refused"``. ``reasons`` holds one ``"address: reason"`` per address
    tried; with one address that is the one the user named, so it is not repeated."""
    target = format_addr((host, port))
    if len(reasons) == 1 and reasons[0].startswith(target + ": "):
        reason = reasons[0][len(target) + 2 :]
    else:
        reason = "; ".join(reasons) or "no addresses"
    return f"could not connect to {target}: {reason}"


def apply_socket_options(sock: Any, options: Iterable[SOCKET_OPTION] | None) -> None:
    """``setsockopt(*option)`` for each option (``sock``: a socket or a trio SocketStream)."""
    if options:
        for option in options:
            sock.setsockopt(*option)


#: RFC 8305 section 8: the "Connection Attempt Delay" before the next address is tried (seconds).
HAPPY_EYEBALLS_DELAY = 0.25


def interleave_addresses(infos: list[Any]) -> list[Any]:
    """Order ``getaddrinfo`` results for a Happy Eyeballs race (RFC 8305 section 4).

    IPv6 first, then the families alternate (IPv6, IPv4, IPv6, ...); within a family the resolver's
    order (RFC 6724 preference) is kept. Shared by the threaded and asyncio backends.
    """
    v6 = [info for info in infos if info[0] == socket.AF_INET6]
    other = [info for info in infos if info[0] != socket.AF_INET6]
    ordered: list[Any] = []
    for i in range(max(len(v6), len(other))):
        if i < len(v6):
            ordered.append(v6[i])
        if i < len(other):
            ordered.append(other[i])
    return ordered


def bind_local(sock: socket.socket, family: int, local_address: str) -> None:
    """Bind ``sock`` to the source IP ``local_address`` (port 0); raises ``OSError`` as
    ``bind()`` does (an address this host does not have, or of the wrong family)."""
    # Bind the IP only and let connect() pick the port (Linux): binding a port up front would
    # forbid sharing it with connections to other peers and exhaust ports sooner.
    if family in (socket.AF_INET, socket.AF_INET6) and hasattr(socket, "IP_BIND_ADDRESS_NO_PORT"):
        try:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_BIND_ADDRESS_NO_PORT, 1)
        except OSError:
            pass
    sock.bind((local_address, 0))
