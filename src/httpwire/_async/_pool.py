"""``AsyncConnectionPool``: the transport that reuses keep-alive connections.

The pool's state is small and explicit (its rules are :meth:`AsyncConnectionPool.check`):

- ``_idle[origin]``: a stack of IDLE HTTP/1.1 connections per origin. The most recently used
  one is reused first, so a burst needs few connections and the oldest ones expire unused.
- ``_idle_order``: every idle HTTP/1.1 connection, oldest first, to enforce
  ``max_keepalive_connections`` and ``keepalive_expiry`` without scanning.
- ``_slots`` and ``_per_host``: connections that exist or are being opened, in all and per
  origin; never above ``max_connections`` / ``max_connections_per_host``. A *slot* is one of
  these; a *stream* is one request on an HTTP/2 connection (its capacity, counted by the
  connection, see ``_HTTP2Connections``).
- ``_waiters``: requests queued for a slot, first come first served. A releasing request hands
  its connection (same origin) or its slot straight to the first waiter: no waiter polls the pool.
- ``_h2``: the HTTP/2 half (``_HTTP2Connections``).

Costs per request. O(1): taking and returning an idle HTTP/1.1 connection of one origin
(expired ones are evicted oldest first, amortised O(1)), opening a connection in a free slot,
handing a connection or slot to the first waiter when it is of the same origin. Not O(1):
with ``max_connections_per_host``, finding a waiter that may take a freed slot is O(waiters);
with waiters of several origins, handing a released connection on is O(waiters); making room
by closing an idle connection of another origin is O(HTTP/2 connections) when there are any
(and O(idle) when only the request's own origin may give way); forgetting an idle connection is
O(idle connections of its origin). HTTP/2's costs are in ``_HTTP2Connections``.

When every slot is taken and some hold idle connections (HTTP/1.1, or HTTP/2 with no stream
open) that a request cannot use (another origin, or it needs a fresh connection), the oldest of
them is closed and its slot taken, instead of queueing (``_make_room``); a connection that becomes
idle while only requests of other origins wait is closed for them the same way.

With ``proxy=``, ``http://`` requests are forwarded through connections to the proxy (pooled
under the proxy's origin, shared by every target) and ``https://`` requests go through CONNECT
tunnels (pooled under their target's origin); see ``_proxy``.

Only the connection being reused is checked for liveness (is it readable while idle: then the
server closed it). A request that fails or is cancelled at any point leaves its connection
CLOSED and its slot handed on, so nothing leaks and nothing half-used is ever reused.
"""

from __future__ import annotations

import enum
import math
import time
import types
import typing
from collections import deque
from collections.abc import Callable
from typing import Any

from .._backends.base import SOCKET_OPTION, AsyncNetworkBackendInterface
from .._exceptions import (
    PoolTimeout,
    ReadError,
    RemoteProtocolError,
    UnsupportedProtocol,
    WriteError,
)
from .._models import Request, Response
from .._origins import Origin, origin_of
from .._proxies import SOCKS_SCHEMES, as_proxy, require_socksio
from .._synchronization import AsyncStateLock, AsyncWaiter
from .._timeouts import remaining
from ._connection import AsyncConnection
from ._http2 import StreamRefused
from ._interfaces import AsyncRequestInterface
from ._protocol import IDLE, is_replayable
from ._proxy import (
    AsyncSocksConnection,
    AsyncTunnelConnection,
    forward_origin,
    forward_request,
)

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

    from .._proxies import Proxy
    from .._urls import URL

__all__ = ["AsyncConnectionPool"]


class _Handoff(enum.Enum):
    """What a waiting request is handed instead of a connection."""

    #: "A slot is yours (counted already): open a connection."
    SLOT = "slot"
    #: The pool closed while the request waited.
    CLOSED = "closed"
    #: The new connection whose protocol the request waited for is connected (or gone): look
    #: again (it may be HTTP/2 with a stream free, or HTTP/1.1 and busy).
    RETRY = "retry"


#: "No limit" for max_connections and max_keepalive_connections.
_UNLIMITED = math.inf
# Times a request refused by HTTP/2 servers (GOAWAY, REFUSED_STREAM) is sent again.
_MAX_REFUSED = 5


def _may_resend(
    request: Request, exc: Exception, reused: bool, response_started: bool, refused: int
) -> bool:
    """The pool's retry rule, in one place: may ``request``, which failed with ``exc``, be sent
    again? If so, it goes on a connection opened for it (never on another idle connection, which
    may be dead for the same reason), so a retry cannot land on a stale connection again.

    - ``StreamRefused`` (HTTP/2: above GOAWAY's last-stream-id, ``REFUSED_STREAM``, nothing of
      it written, or an idempotent request on a reused connection that broke before any of its
      response): the server provably did not process it, whatever its method (RFC 9113 section
      8.7). At most ``_MAX_REFUSED`` times (``refused``: how often it was refused already).
    - HTTP/1.1: a read or write error, or the server closing, on a ``reused`` keep-alive
      connection before any byte of the response arrived (the server closed the connection as we
      reused it), for an idempotent method (RFC 9110 section 9.2.2) with an in-memory body. A
      fresh connection is never ``reused``, so this happens at most once per request.
    """
    if isinstance(exc, StreamRefused):
        return refused < _MAX_REFUSED
    return (
        reused
        and not response_started
        and isinstance(exc, ReadError | WriteError | RemoteProtocolError)
        and is_replayable(request)
    )


class _Waiter:
    __slots__ = ("origin", "fresh", "event")

    def __init__(self, origin: Origin, fresh: bool = False) -> None:
        self.origin = origin
        # It needs a connection opened for it (a retry): never hand it an idle one.
        self.fresh = fresh
        self.event = AsyncWaiter()


class _HTTP2Connections:
    """The pool's HTTP/2 half: its HTTP/2 connections by origin, the connections being opened
    whose protocol is not known yet, and the requests waiting for that protocol. Called with
    the pool's lock held. The pool counts slots (``max_connections``); the streams of a
    connection (the server's ``SETTINGS_MAX_CONCURRENT_STREAMS``) are counted by the connection
    itself (``reserve_stream``).

    A connection that may turn out HTTP/2 is registered in ``opening`` while it connects; other
    requests for its origin wait for its protocol (``waiting``) instead of opening more
    connections. Once it speaks HTTP/2 it is listed in ``by_origin[origin]``: a request takes it
    after reserving one of its streams, so the pool never hands out more streams than the
    server allows; when all are in use, one more connection is opened (within
    ``max_connections``), or the request waits. A connection that received GOAWAY leaves
    ``by_origin`` and closes when its last stream ends; its requests that the server did not
    process raise ``StreamRefused`` and are sent again on another connection.

    Costs: ``take`` is O(connections of the origin), usually one; ``sweep`` O(HTTP/2
    connections), at most twice per ``keepalive_expiry`` (at least once a second) and O(1)
    otherwise; ``opened`` O(requests waiting for that origin's protocol); ``drop`` O(connections
    of the origin); ``idle`` O(HTTP/2 connections).
    """

    __slots__ = ("by_origin", "opening", "waiting", "_next_sweep", "_keepalive_expiry")

    def __init__(self, keepalive_expiry: float | None) -> None:
        #: Per origin: HTTP/2 connections that may take more streams, oldest first.
        self.by_origin: dict[Origin, list[AsyncConnection]] = {}
        #: Per origin: connections being opened whose protocol is not known yet.
        self.opening: dict[Origin, dict[AsyncConnection, None]] = {}
        #: Per origin: requests waiting for the protocol of a connection being opened.
        self.waiting: dict[Origin, deque[_Waiter]] = {}
        # When sweep() next looks at every origin (time.monotonic() seconds): at most twice
        # per keepalive_expiry, at least once a second, so each request pays one comparison.
        self._next_sweep = 0.0
        self._keepalive_expiry = keepalive_expiry

    def start_opening(self, conn: AsyncConnection) -> None:
        """``conn`` is being opened and may turn out HTTP/2."""
        self.opening.setdefault(conn.origin, {})[conn] = None

    def add(self, conn: AsyncConnection) -> None:
        """``conn`` turned out HTTP/2: requests of its origin may take its streams."""
        self.by_origin.setdefault(conn.origin, []).append(conn)

    def wait_for_protocol(self, origin: Origin) -> _Waiter | None:
        """A queued waiter for the protocol of a connection of ``origin`` being opened; None
        when none is being opened."""
        if origin not in self.opening:
            return None
        waiter = _Waiter(origin)
        self.waiting.setdefault(origin, deque()).append(waiter)
        return waiter

    def idle(self) -> typing.Iterator[AsyncConnection]:
        """The HTTP/2 connections with no stream open or reserved."""
        for conns in self.by_origin.values():
            for conn in conns:
                if conn.is_idle:
                    yield conn

    def check(
        self,
        connections: dict[AsyncConnection, None],
        idle_order: dict[AsyncConnection, None],
        require: Callable[[object, str], None],
    ) -> None:
        """The HTTP/2 rules of :meth:`AsyncConnectionPool.check` (3 and 4)."""
        for origin, conns in self.by_origin.items():
            require(conns, "an empty HTTP/2 list")
            require(len(conns) == len(set(conns)), "an HTTP/2 connection listed twice")
            for conn in conns:
                require(conn.origin == origin, "an HTTP/2 connection under another origin")
                require(conn in connections, "an HTTP/2 connection the pool forgot")
                require(conn.is_multiplexed, "an HTTP/1.1 connection among HTTP/2 ones")
                require(conn not in idle_order, "an HTTP/2 connection in _idle")
        for opening in self.opening.values():
            require(opening, "an empty opening dict")
            require(all(c in connections for c in opening), "opening, but forgotten")
        for origin, queue in self.waiting.items():
            require(not any(w.event.is_set for w in queue), "a served waiter still queued")
            require(not queue or origin in self.opening, "waiting for no opening connection")

    def clear(self) -> list[_Waiter]:
        """Forget everything (the pool closes); return the requests that waited."""
        waiters = [waiter for queue in self.waiting.values() for waiter in queue]
        self.by_origin.clear()
        self.opening.clear()
        self.waiting.clear()
        return waiters

    def take(self, origin: Origin, expired: list[AsyncConnection]) -> AsyncConnection | None:
        """An HTTP/2 connection of ``origin`` with a stream reserved, or None."""
        conns = self.by_origin.get(origin)
        if not conns:
            return None
        now = time.monotonic()
        for i in range(len(conns) - 1, -1, -1):
            conn = conns[i]
            if conn.is_stale() or (conn.is_idle and conn.has_expired(now)):
                # Closed or going away (it leaves by itself), or idle for too long (closed here).
                del conns[i]
                if conn.is_idle:
                    # Expired, or the server sent something while it was idle (its GOAWAY or
                    # its close): closed here. A closed one or one going away with streams in
                    # flight leaves by itself.
                    expired.append(conn)
                continue
            if conn.reserve_stream():
                return conn
        if not conns:
            del self.by_origin[origin]
        return None

    def sweep(self, expired: list[AsyncConnection]) -> None:
        """Move the idle HTTP/2 connections of every origin that outlived ``keepalive_expiry``
        to ``expired`` (closed by the caller, outside the lock), when a sweep is due (lock
        held). HTTP/1.1 idle connections need none: one order across origins, oldest first,
        is checked on every acquire (the pool's ``_take_idle``)."""
        expiry = self._keepalive_expiry
        if expiry is None:
            return
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + min(1.0, expiry / 2)
        for origin, conns in list(self.by_origin.items()):
            for conn in list(conns):
                if conn.is_idle and not conn.is_stale() and conn.has_expired(now):
                    conns.remove(conn)
                    expired.append(conn)
            if not conns:
                del self.by_origin[origin]

    def opened(self, conn: AsyncConnection) -> None:
        """``conn`` is no longer being opened: wake the requests waiting for its protocol."""
        origin = conn.origin
        opening = self.opening.get(origin)
        if opening is None or conn not in opening:
            return
        del opening[conn]
        if not opening:
            del self.opening[origin]
        waiters = self.waiting.pop(origin, None)
        if waiters:
            for waiter in waiters:
                waiter.event.set(_Handoff.RETRY)

    def hand_streams(self, conn: AsyncConnection, waiters: deque[_Waiter]) -> None:
        """Give streams of ``conn`` to requests of its origin waiting for its protocol, then to
        those in the pool's ``waiters`` (except retries, which need a new connection)."""
        origin = conn.origin
        proto_waiters = self.waiting.get(origin)
        while proto_waiters and conn.reserve_stream():
            proto_waiters.popleft().event.set(conn)
        if waiters:
            i = 0
            while i < len(waiters):
                waiter = waiters[i]
                if waiter.origin == origin and not waiter.fresh:
                    if not conn.reserve_stream():
                        break
                    del waiters[i]
                    waiter.event.set(conn)
                else:
                    i += 1

    def drop(self, conn: AsyncConnection) -> None:
        conns = self.by_origin.get(conn.origin)
        if conns is not None and conn in conns:
            conns.remove(conn)
            if not conns:
                del self.by_origin[conn.origin]


class AsyncConnectionPool(AsyncRequestInterface):
    """A pool of HTTP/1.1 connections, shared by concurrent requests.

    Parameters follow httpcore's where they overlap:

    - ``ssl_context``: for https origins (default: the shared verified context, see ``_ssl``).
    - ``max_connections`` (default 100): connections open or opening at once, all origins.
      When all are taken, idle connections a request cannot use (other origins) are closed for
      it, oldest first; requests beyond it wait (bounded by the ``pool`` timeout) for one to be
      released.
    - ``max_keepalive_connections`` (default None: up to ``max_connections``): idle connections
      kept; beyond it the oldest idle one is closed. Unlike httpx's 20, the default keeps every
      connection a burst opened, so the next burst reuses them instead of reconnecting; idle ones
      still expire after ``keepalive_expiry``.
    - ``max_connections_per_host`` (default None): connections per origin at once; requests
      beyond it wait for one of that origin even when the pool has room.
    - ``keepalive_expiry`` (default 5.0 s): an idle connection older than this is closed rather
      than reused (servers drop idle connections; nginx after 75 s, uvicorn after 5 s).
    - ``http1`` / ``http2``: the protocols to speak (default HTTP/1.1 only). With ``http2=True``
      an https connection uses HTTP/2 when the server picks ``h2`` in ALPN, and requests to one
      origin share it up to the server's ``SETTINGS_MAX_CONCURRENT_STREAMS`` (more connections
      are opened beyond that); ``http1=False, http2=True`` also speaks HTTP/2 over cleartext
      with prior knowledge. Requires ``h2`` (the ``http2`` extra): ``ImportError`` otherwise.
      HTTP/2 connections do not count against ``max_keepalive_connections``. See docs/http2.md.
    - ``proxy``: a forward proxy for every request: a URL (``"http://host:3128"``,
      ``"https://user:pass@host:3128"``) or a :class:`Proxy`. ``http://`` targets are forwarded
      (absolute-form request-target, RFC 9112 section 3.2.2), ``https://`` targets tunnelled with
      CONNECT (RFC 9110 section 9.3.6); a refused CONNECT raises ``ProxyError``. A
      ``socks5://`` proxy (``socksio``, the ``socks`` extra) tunnels every request. The pool does
      not read proxy environment variables (the ``Client`` does). See docs/proxies.md.
    - ``retries``: connect attempts after a failed one (exponential back-off from 0.5 s).
    - ``local_address``, ``uds``, ``socket_options``, ``backend``: see ``AsyncConnection``.

    Requests carry their limits in the ``timeout`` extension (``connect``, ``read``, ``write``,
    ``pool`` seconds); ``timeout()`` blocks apply on top. Repr: ``<ConnectionPool [1 active, 2 idle]>``.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int | None = 100,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float | None = 5.0,
        max_connections_per_host: int | None = None,
        http1: bool = True,
        http2: bool = False,
        proxy: Proxy | URL | str | None = None,
        retries: int = 0,
        local_address: str | None = None,
        uds: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
        backend: AsyncNetworkBackendInterface | None = None,
    ) -> None:
        if not http1 and not http2:
            raise UnsupportedProtocol("http1=False and http2=False: enable at least one")
        if max_connections is not None and max_connections < 1:
            raise ValueError(f"max_connections must be >= 1 or None, not {max_connections!r}")
        if max_connections_per_host is not None and max_connections_per_host < 1:
            raise ValueError(
                f"max_connections_per_host must be >= 1 or None, not {max_connections_per_host!r}"
            )
        self._ssl_context = ssl_context
        self._proxy = as_proxy(proxy)
        self._socks = self._proxy is not None and self._proxy.url.scheme in SOCKS_SCHEMES
        if self._socks:
            require_socksio()  # ImportError naming the 'socks' extra when socksio is missing
        # The pool key of connections forwarding http:// requests to an HTTP proxy (None: no
        # proxy, or a SOCKS proxy, which tunnels every request).
        self._forward_origin = forward_origin(self._proxy) if self._proxy is not None else None
        self._max_connections: float = (
            max_connections if max_connections is not None else _UNLIMITED
        )
        self._max_keepalive: float = (
            max_keepalive_connections if max_keepalive_connections is not None else _UNLIMITED
        )
        self._keepalive_expiry = keepalive_expiry
        self._max_per_host = max_connections_per_host
        # Every connection of this pool is made with these (written out once, here).
        self._connection_options: dict[str, Any] = {
            "backend": backend,
            "local_address": local_address,
            "uds": uds,
            "socket_options": socket_options,
            "retries": retries,
            "keepalive_expiry": keepalive_expiry,
            "on_release": self._release,
        }
        self._lock = AsyncStateLock()
        self._connections: dict[AsyncConnection, None] = {}
        self._idle: dict[Origin, list[AsyncConnection]] = {}
        self._idle_order: dict[AsyncConnection, None] = {}
        self._slots = 0
        self._per_host: dict[Origin, int] = {}
        self._waiters: deque[_Waiter] = deque()
        self._closed = False
        # HTTP/2. Schemes whose connections may turn out HTTP/2: https (ALPN), and http too
        # when HTTP/1.1 is off (prior knowledge). Empty for an HTTP/1.1 pool, so that its
        # requests pay one truth test for all of this.
        self._http1 = http1
        self._h2_schemes: frozenset[str] = (
            frozenset() if not http2 else frozenset({"https"} if http1 else {"https", "http"})
        )
        # Its HTTP/2 connections, those being opened, and the requests waiting for their protocol.
        self._h2 = _HTTP2Connections(keepalive_expiry)

    # -- introspection -----------------------------------------------------------------------

    @property
    def connections(self) -> list[AsyncConnection]:
        """The pool's connections (a snapshot), opening, active and idle."""
        return list(self._connections)

    def __repr__(self) -> str:
        idle = len(self._idle_order)
        if self._h2.by_origin:  # HTTP/2 connections with no stream open count as idle too
            idle += sum(1 for _ in self._h2.idle())
        active = len(self._connections) - idle
        return f"<ConnectionPool [{active} active, {idle} idle]>"

    def check(self) -> None:
        """Check the rules between the pool's structures; raise ``AssertionError`` naming the
        first one broken. O(connections + waiters): for tests (they call it after every stress
        and cancellation scenario), never called by the pool itself.

        1. Slots: ``_slots`` is the sum of ``_per_host`` (each count > 0), at most
           ``max_connections``, each at most ``max_connections_per_host``; every connection in
           ``_connections`` holds one slot of its origin (a slot may also be held by a request
           that was handed it and is opening its connection).
        2. Idle HTTP/1.1 connections: ``_idle_order`` and the ``_idle`` stacks hold the same
           connections, once each, all in ``_connections``, IDLE, not multiplexed.
        3. HTTP/2 (``_HTTP2Connections.check``): every connection in ``by_origin[origin]`` is
           in ``_connections``, multiplexed, of that origin, listed once, not in ``_idle``; no
           empty list. Every connection in ``opening`` is in ``_connections``; no empty dict.
        4. Waiters: none queued was handed anything; requests wait for a protocol only while a
           connection of their origin is being opened; after ``aclose()`` nothing is queued or
           idle.
        """
        with self._lock:
            self._check()

    def _check(self) -> None:
        def require(ok: object, rule: str) -> None:
            if not ok:
                raise AssertionError(f"{self!r}: {rule}")

        self._check_slots(require)
        stacked = [conn for stack in self._idle.values() for conn in stack]
        require(len(stacked) == len(set(stacked)), "a connection is twice in _idle")
        require(set(stacked) == set(self._idle_order), "_idle and _idle_order differ")
        for origin, stack in self._idle.items():
            for conn in stack:
                require(conn.origin == origin, "an idle connection under another origin")
                require(conn in self._connections, "an idle connection the pool forgot")
                require(conn.is_idle and not conn.is_multiplexed, "a busy connection in _idle")
        self._h2.check(self._connections, self._idle_order, require)
        require(not any(w.event.is_set for w in self._waiters), "a served waiter still queued")
        if self._closed:
            require(not self._waiters and not self._h2.waiting, "waiters after aclose()")
            require(not self._idle_order, "idle connections after aclose()")

    def _check_slots(self, require: Callable[[object, str], None]) -> None:
        per_host = self._per_host
        require(all(n > 0 for n in per_host.values()), "a per-host count is 0 or less")
        require(self._slots == sum(per_host.values()), "slots != sum of per-host counts")
        require(self._slots <= self._max_connections, "more slots than max_connections")
        if self._max_per_host is not None:
            require(max(per_host.values(), default=0) <= self._max_per_host, "per-host limit")
        by_origin: dict[Origin, int] = {}
        for conn in self._connections:
            by_origin[conn.origin] = by_origin.get(conn.origin, 0) + 1
        require(
            all(n <= per_host.get(origin, 0) for origin, n in by_origin.items()),
            "a connection holds no slot of its origin",
        )

    # -- acquiring and releasing -------------------------------------------------------------

    def _take_idle(
        self, origin: Origin, expired: list[AsyncConnection], fresh: bool = False
    ) -> AsyncConnection | None:
        """Pop the most recently used idle connection for ``origin`` (lock held); with
        ``fresh``, only move the expired ones to ``expired``."""
        stack = self._idle.get(origin)
        now = time.monotonic()
        # Evict expired connections oldest first: the check is O(1) when none has expired.
        order = self._idle_order
        while order:
            oldest = next(iter(order))
            if not oldest.has_expired(now):
                break
            self._forget_idle(oldest)
            expired.append(oldest)
        if not stack or fresh:
            return None
        conn = stack.pop()
        del order[conn]
        return conn

    def _forget_idle(self, conn: AsyncConnection) -> None:
        del self._idle_order[conn]
        self._idle[conn.origin].remove(conn)  # the stack for one origin is short
        self._connections.pop(conn, None)
        self._free_slot(conn.origin)

    # Slots (lock held): a connection that exists or is being opened holds one slot of
    # max_connections and one of its origin's max_connections_per_host.

    def _slot_allowed(self, origin: Origin) -> bool:
        """True when ``origin`` is below ``max_connections_per_host`` (O(1))."""
        limit = self._max_per_host
        return limit is None or self._per_host.get(origin, 0) < limit

    def _take_slot(self, origin: Origin) -> None:
        self._slots += 1
        self._per_host[origin] = self._per_host.get(origin, 0) + 1

    def _free_slot(self, origin: Origin) -> None:
        """A connection of ``origin`` went away: pass its slot to the first waiter that may
        open a connection (with no per-host limit, simply the first), or return it."""
        left = self._per_host[origin] - 1
        if left:
            self._per_host[origin] = left
        else:
            del self._per_host[origin]
        self._slots -= 1
        waiters = self._waiters
        if waiters and not self._closed:
            index = self._first_eligible()
            if index is not None:
                waiter = waiters[index]
                del waiters[index]
                self._take_slot(waiter.origin)
                waiter.event.set(_Handoff.SLOT)

    def _first_eligible(self, freeing: Origin | None = None) -> int | None:
        """The first waiter that may open a connection (counting one connection of ``freeing``
        as gone already), or None (lock held)."""
        if self._max_per_host is None:
            return 0 if self._waiters else None
        for i, waiter in enumerate(self._waiters):
            if waiter.origin == freeing or self._slot_allowed(waiter.origin):
                return i
        return None

    # Eviction (lock held): an idle connection the request cannot use gives up its slot.

    def _make_room(self, origin: Origin, evicted: list[AsyncConnection]) -> bool:
        """True when a connection to ``origin`` may be opened now: there is a free slot, or one
        was made by closing idle connections, oldest first (moved to ``evicted``, closed by the
        caller outside the lock). False: every useful slot is busy, the request must wait."""
        while self._slots >= self._max_connections or not self._slot_allowed(origin):
            victim = self._oldest_idle(origin)
            if victim is None:
                return False
            self._evict(victim)
            evicted.append(victim)
        return True

    def _oldest_idle(self, origin: Origin) -> AsyncConnection | None:
        """The idle connection that has been idle longest (HTTP/1.1, or HTTP/2 with no stream
        open or reserved) whose slot would let ``origin`` open a connection: any origin's, or
        only ``origin``'s own when its ``max_connections_per_host`` is reached."""
        own_only = not self._slot_allowed(origin)
        oldest = None
        for conn in self._idle_order:  # oldest first
            if not own_only or conn.origin == origin:
                oldest = conn
                break
        for conn in self._h2.idle():
            if (not own_only or conn.origin == origin) and (
                oldest is None or conn.idle_since < oldest.idle_since
            ):
                oldest = conn
        return oldest

    def _evict(self, conn: AsyncConnection) -> None:
        """Forget the idle ``conn`` and pass its slot on (the caller closes it)."""
        if not conn.is_multiplexed:
            self._forget_idle(conn)
            return
        self._h2.drop(conn)
        del self._connections[conn]
        if self._h2.opening:
            self._h2.opened(conn)
        self._free_slot(conn.origin)

    def _new_connection(self, origin: Origin) -> AsyncConnection:
        proxy = self._proxy
        if proxy is not None and origin == self._forward_origin:
            # To the proxy itself (forwarding): HTTP/1.1, TLS only if the proxy URL is https.
            conn = AsyncConnection(
                origin, ssl_context=proxy.ssl_context, **self._connection_options
            )
            self._connections[conn] = None
            return conn
        if self._h2_schemes and origin[0] in self._h2_schemes:
            return self._new_mux_connection(origin)
        conn = self._make_connection(
            origin, ssl_context=self._ssl_context, **self._connection_options
        )
        self._connections[conn] = None
        return conn

    async def _acquire(
        self, origin: Origin, pool_timeout: float | None, fresh: bool = False
    ) -> AsyncConnection:
        """A connection for a request to ``origin``: an idle or multiplexed one, else a new one
        (closing the oldest idle connections it cannot use when the pool is full), else the
        first one released to it (``PoolTimeout`` after ``pool_timeout`` seconds). ``fresh``:
        only a connection opened for this request will do (a retry, see ``_may_resend``)."""
        while True:
            expired: list[AsyncConnection] = []
            with self._lock:
                conn, waiter = self._find(origin, fresh, expired)
            if expired:
                try:
                    for old in expired:
                        await old.aclose()
                except BaseException:
                    if conn is not None:
                        await conn.aclose()
                    raise
            if conn is not None:
                # (Through the protocol directly: this runs for every request.)
                protocol = conn.protocol
                if protocol is not None and protocol.state == IDLE and protocol.is_stale():
                    # The server closed it while it sat idle: discard, try again.
                    await conn.aclose()
                    continue
                return conn
            assert waiter is not None
            value = await self._wait(waiter, pool_timeout)
            if value is _Handoff.CLOSED:
                raise RuntimeError("the connection pool was closed while this request waited")
            if value is _Handoff.RETRY:
                continue
            if value is _Handoff.SLOT:
                with self._lock:
                    return self._new_connection(origin)
            return value

    def _find(
        self, origin: Origin, fresh: bool, expired: list[AsyncConnection]
    ) -> tuple[AsyncConnection | None, _Waiter | None]:
        """``_acquire``'s locked part: a connection to use (an HTTP/2 one with a stream reserved,
        an idle one, or a new one in a free or freed slot), else a queued waiter. Connections to
        close (expired, evicted) go to ``expired``."""
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        if self._h2.by_origin:
            self._h2.sweep(expired)
        if not fresh and self._h2_schemes and origin[0] in self._h2_schemes:
            conn = self._h2.take(origin, expired)
            if conn is not None:
                return conn, None
            # A connection to this origin is being opened and may turn out HTTP/2: wait for it
            # rather than open one more.
            waiter = self._h2.wait_for_protocol(origin)
            if waiter is not None:
                return None, waiter
        conn = self._take_idle(origin, expired, fresh)
        if conn is not None:
            return conn, None
        if self._make_room(origin, expired):
            self._take_slot(origin)
            return self._new_connection(origin), None
        waiter = _Waiter(origin, fresh)
        self._waiters.append(waiter)
        return None, waiter

    async def _wait(
        self, waiter: _Waiter, pool_timeout: float | None
    ) -> AsyncConnection | _Handoff:
        try:
            got = await waiter.event.wait(remaining(pool_timeout), pool_timeout)
        except BaseException:
            await self._abandon(waiter)
            raise
        if not got:
            with self._lock:
                if not waiter.event.is_set:
                    self._forget_waiter(waiter)
                    raise PoolTimeout(
                        f"no connection became free within the pool timeout ({self._slots} in use)"
                    )
            # Handed over just as the wait expired (threads): it is ours, use it.
        value: AsyncConnection | _Handoff = waiter.event.value
        return value

    def _forget_waiter(self, waiter: _Waiter) -> None:
        """Take a waiter that was not handed anything out of its queue (lock held)."""
        try:
            self._waiters.remove(waiter)
        except ValueError:
            # It waited for a new connection's protocol (HTTP/2 pools).
            self._h2.waiting[waiter.origin].remove(waiter)

    async def _abandon(self, waiter: _Waiter) -> None:
        """A waiter gave up (timeout, cancellation): give back whatever it was handed."""
        with self._lock:
            if not waiter.event.is_set:
                self._forget_waiter(waiter)
                return
            value = waiter.event.value
            if value is _Handoff.CLOSED or value is _Handoff.RETRY:
                return
            if value is _Handoff.SLOT:
                self._free_slot(waiter.origin)
                return
        conn = value
        if conn.is_multiplexed:
            # An HTTP/2 connection with a stream reserved for this waiter: give the stream back.
            conn.unreserve_stream()
        # A connection was handed over: it is IDLE and reusable; release it to the next one.
        await self._release(conn)

    async def _release(self, conn: AsyncConnection) -> None:
        """Called by a connection when its exchange ended (IDLE) or it closed (CLOSED)."""
        if conn.is_multiplexed:
            if self._release_mux(conn):
                await conn.aclose()  # idle, and its slot went to a waiter of another origin
            return
        to_close = None
        with self._lock:
            if conn not in self._connections:
                return  # already forgotten (evicted, or released twice)
            protocol = conn.protocol
            if protocol is not None and protocol.is_idle and not self._closed:
                waiters = self._waiters
                if waiters:
                    for i, waiter in enumerate(waiters):
                        if waiter.origin == conn.origin and not waiter.fresh:
                            del waiters[i]
                            waiter.event.set(conn)
                            return
                if waiters and self._first_eligible(conn.origin) is not None:
                    # Only other origins (or retries needing a new connection) wait, and one
                    # of them may open a connection: close this one so its slot goes to them.
                    del self._connections[conn]
                    to_close = conn
                    self._free_slot(conn.origin)
                else:
                    self._idle.setdefault(conn.origin, []).append(conn)
                    self._idle_order[conn] = None
                    if len(self._idle_order) > self._max_keepalive:
                        to_close = next(iter(self._idle_order))
                        self._forget_idle(to_close)
            else:
                del self._connections[conn]
                if conn in self._idle_order:
                    del self._idle_order[conn]
                    self._idle[conn.origin].remove(conn)
                if self._h2.opening:
                    self._h2.opened(conn)  # it closed before its protocol was known
                self._free_slot(conn.origin)
        if to_close is not None:
            await to_close.aclose()

    def _make_connection(self, origin: Origin, **kwargs: Any) -> AsyncConnection:
        """A new connection to ``origin``: direct, or through a CONNECT tunnel of the proxy."""
        if self._proxy is None:
            return AsyncConnection(origin, **kwargs)
        if self._socks:
            return AsyncSocksConnection(origin, proxy=self._proxy, **kwargs)
        return AsyncTunnelConnection(origin, proxy=self._proxy, **kwargs)

    # -- HTTP/2 (the bookkeeping is _HTTP2Connections'; lock held unless said otherwise) ------

    def _new_mux_connection(self, origin: Origin) -> AsyncConnection:
        conn = self._make_connection(
            origin,
            ssl_context=self._ssl_context,
            http1=self._http1,
            http2=True,
            on_connected=self._connected,
            **self._connection_options,
        )
        self._connections[conn] = None
        self._h2.start_opening(conn)
        return conn

    async def _connected(self, conn: AsyncConnection) -> None:
        """Called by a connection once its protocol is known (not locked). An HTTP/2 connection
        stays "opening" until the server's SETTINGS arrive (``_release_mux``): until then it
        carries only the request that opened it, and the others wait for its limits."""
        with self._lock:
            if not conn.is_multiplexed:
                self._h2.opened(conn)
            elif not self._closed and conn in self._connections:
                self._h2.add(conn)

    def _release_mux(self, conn: AsyncConnection) -> bool:
        """A stream of an HTTP/2 connection ended, or the connection closed (not locked).
        True: ``conn`` was idle and gave its slot to a waiting request; the caller closes it."""
        with self._lock:
            if conn not in self._connections:
                return False
            if conn.is_closed:
                del self._connections[conn]
                self._h2.drop(conn)
                self._h2.opened(conn)
                self._free_slot(conn.origin)
            elif conn.is_going_away:
                self._h2.drop(conn)
                self._h2.opened(conn)
            elif not self._closed:
                self._h2.hand_streams(conn, self._waiters)
                if conn.is_idle and self._waiters and self._first_eligible(conn.origin) is not None:
                    # Idle, and requests it cannot serve wait for a slot: they get its slot.
                    self._evict(conn)
                    return True
                if conn.limits_known or conn.is_idle:
                    # Its limits are known (or nobody will read them): requests that waited
                    # for it and got no stream open another connection.
                    self._h2.opened(conn)
        return False

    # -- requests ----------------------------------------------------------------------------

    async def send(self, request: Request) -> Response:
        """Send ``request``; return the response with its body not read yet.

        Read the body through ``response`` (``aread()``, ``aiter_bytes()``) and close it
        (``aclose()``, or read to the end) to give the connection back. An idempotent request
        whose reused keep-alive connection fails before any response byte arrives is retried
        once on a new connection (the server closed it as we reused it); an HTTP/2 request the
        server refused (``StreamRefused``), up to 5 times, each on a new connection (see
        ``_may_resend``). Raises
        ``UnsupportedProtocol`` for a non-http(s) URL, ``PoolTimeout`` when no connection became
        free in time, and the transport errors of the connection.
        """
        origin = origin_of(request.url)
        if self._forward_origin is not None and origin[0] == "http":
            assert self._proxy is not None
            request = forward_request(request, self._proxy)
            origin = self._forward_origin
        timeouts = request.extensions.get("timeout")
        pool_timeout = timeouts.get("pool") if timeouts else None
        fresh = False
        refused = 0
        while True:
            conn = await self._acquire(origin, pool_timeout, fresh)
            # A multiplexed connection comes with a stream reserved for this request.
            multiplexed = conn.is_multiplexed
            protocol = conn.protocol
            reused = protocol is not None and not multiplexed and protocol.requests_completed > 0
            try:
                if protocol is None:  # a new connection: it connects, then sends
                    return await conn.send(request)
                return await protocol.send(request, reserved=multiplexed)
            except (ReadError, WriteError, RemoteProtocolError) as exc:
                if not _may_resend(request, exc, reused, conn.response_started, refused):
                    raise
                if isinstance(exc, StreamRefused):
                    refused += 1
                fresh = True

    async def aclose(self) -> None:
        """Close every connection; requests in flight fail on their next read or write."""
        with self._lock:
            self._closed = True
            conns = list(self._connections)
            self._idle.clear()
            self._idle_order.clear()
            waiters = list(self._waiters) + self._h2.clear()
            self._waiters.clear()
            for waiter in waiters:
                waiter.event.set(_Handoff.CLOSED)
        for conn in conns:
            await conn.aclose()

    async def __aenter__(self) -> AsyncConnectionPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> None:
        await self.aclose()
