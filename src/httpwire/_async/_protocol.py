"""``AsyncConnectionProtocol``: what HTTP/1.1 and HTTP/2 connections have in common.

A connection (``_connection.AsyncConnection``) connects, runs TLS and picks the protocol (ALPN,
or prior knowledge); from then on it hands every request to a protocol object that speaks over
the connected stream: ``_http11.AsyncHTTP11Connection`` (one exchange at a time) or
``_http2.AsyncHTTP2Connection`` (many streams at once). Both implement the interface below, and
the pool sees nothing else (as httpcore's ``connection.py`` -> ``http11.py`` / ``http2.py``).

This module also holds what both protocols share: the connection states, the read size, and
RFC 9110's rule for which requests may be sent again. It imports neither protocol module nor
``_connection``: they import it (no import circle).
"""

from __future__ import annotations

import typing

from .._backends.base import DEFAULT_READ_SIZE
from .._models import Request, Response
from .._origins import Origin
from .._streams import BytesStream
from ._interfaces import AsyncRequestInterface

__all__ = [
    "AsyncConnectionProtocol",
    "NEW",
    "ACTIVE",
    "IDLE",
    "CLOSED",
    "READ_SIZE",
    "IDEMPOTENT_METHODS",
    "is_replayable",
]

#: Connection states, shared by both protocols: ``NEW`` (not connected yet), ``ACTIVE`` (an
#: exchange or stream is in flight), ``IDLE`` (connected, nothing in flight), ``CLOSED``.
NEW, ACTIVE, IDLE, CLOSED = "NEW", "ACTIVE", "IDLE", "CLOSED"

#: Bytes asked for per network read (64 KiB), the backends' default too.
READ_SIZE = DEFAULT_READ_SIZE

#: RFC 9110 section 9.2.2: methods whose repetition is harmless.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


def is_replayable(request: Request) -> bool:
    """True when ``request`` may be sent again after its connection failed before any byte of
    the response arrived: an idempotent method (RFC 9110 section 9.2.2) whose body is in memory
    (a streamed body cannot be read twice)."""
    return request.method in IDEMPOTENT_METHODS and isinstance(request.stream, BytesStream)


class AsyncConnectionProtocol(AsyncRequestInterface):
    """One HTTP protocol over one connected network stream, to one ``origin``.

    ``send(request)`` returns the response once its head has arrived (the body is read through
    ``response.stream``); ``state`` is one of ``ACTIVE``, ``IDLE``, ``CLOSED`` and agrees with
    ``is_idle`` / ``is_closed`` for both protocols. A multiplexed protocol (HTTP/2) lets a caller
    ``reserve_stream()`` a stream before ``send(request, reserved=True)``; HTTP/1.1 has no such
    reservation (its pool hands a connection to one request at a time).
    """

    #: ``(scheme, host, port)``.
    origin: Origin
    #: True for HTTP/2: ``send()`` may be called concurrently.
    is_multiplexed: typing.ClassVar[bool] = False
    #: ``"HTTP/1.1"`` or ``"HTTP/2"``.
    http_version: typing.ClassVar[str] = ""
    #: Exchanges (streams) that ended normally, their response read to its end.
    requests_completed: int = 0
    #: Whether any byte of the current response has arrived (HTTP/1.1's safe-retry rule).
    response_started: bool = False
    #: ``time.monotonic()`` when the protocol last became idle.
    idle_since: float = 0.0

    @property
    def state(self) -> str:
        raise NotImplementedError  # pragma: no cover

    @property
    def is_idle(self) -> bool:
        """Connected, nothing in flight."""
        raise NotImplementedError  # pragma: no cover

    @property
    def is_closed(self) -> bool:
        raise NotImplementedError  # pragma: no cover

    @property
    def is_available(self) -> bool:
        """True when one more request can start on it now."""
        raise NotImplementedError  # pragma: no cover

    @property
    def is_going_away(self) -> bool:
        """True once the server announced it will take no new request (HTTP/2 GOAWAY)."""
        return False

    @property
    def limits_known(self) -> bool:
        """True once the server's limits are known (HTTP/2: its first SETTINGS frame)."""
        return True

    def has_expired(self, now: float) -> bool:
        """True when idle for longer than its ``keepalive_expiry`` (``now``: monotonic s)."""
        raise NotImplementedError  # pragma: no cover

    def is_stale(self) -> bool:
        """True when an idle connection can no longer be trusted (the server closed it, or sent
        bytes nobody asked for): it must be discarded before reuse."""
        raise NotImplementedError  # pragma: no cover

    def reserve_stream(self) -> bool:
        """Reserve a stream for a coming ``send(request, reserved=True)`` (multiplexed only)."""
        return False

    def unreserve_stream(self) -> None:
        """Give back a reservation that will not be used (multiplexed only)."""

    async def send(self, request: Request, *, reserved: bool = False) -> Response:
        raise NotImplementedError  # pragma: no cover

    async def aclose(self) -> None:
        raise NotImplementedError  # pragma: no cover
