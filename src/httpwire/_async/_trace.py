"""The ``trace`` request extension and DEBUG logging of the same events.

A request's ``trace`` extension is a callable ``trace(event_name, info)`` (an ``async def`` in
``ahttpwire``) called around each operation of an exchange: ``<name>.started`` with the
operation's arguments, then ``<name>.complete`` with ``{"return_value": ...}`` or ``<name>.failed``
with ``{"exception": ...}`` (a cancellation included: every ``.started`` gets its end). Names
follow httpcore's:

- connecting: ``connection.connect_tcp``, ``connection.connect_unix_socket``,
  ``connection.start_tls``, and ``setup_socks5_connection`` through a SOCKS5 proxy;
- HTTP/1.1: ``http11.send_request_headers``, ``http11.send_request_body``,
  ``http11.receive_response_headers``, ``http11.receive_response_body``,
  ``http11.response_closed``;
- HTTP/2: ``http2.send_connection_init`` (the connection preface, once per connection),
  ``http2.send_request_headers`` (returns the stream id), ``http2.send_request_body`` (only
  when there is a body), ``http2.receive_response_headers`` (returns ``(status, fields)``),
  ``http2.receive_response_body``, ``http2.response_closed``.

The same events go to the ``httpwire`` logger at DEBUG. When neither is in use, no tracer is
made and each traced operation costs one ``is None`` test.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .._models import Request

__all__ = ["AsyncTracer", "tracer_for"]

logger = logging.getLogger("httpwire")
_DEBUG = logging.DEBUG


class AsyncTracer:
    """Emits the trace events of one request."""

    __slots__ = ("_trace", "_log")

    def __init__(
        self, trace: Callable[[str, dict[str, Any]], Awaitable[None]] | None, log: bool
    ) -> None:
        self._trace = trace
        self._log = log

    async def emit(self, name: str, info: dict[str, Any]) -> None:
        """Log ``name`` at DEBUG (when enabled) and call the request's trace callable."""
        if self._log:
            logger.debug("%s %s", name, ", ".join(f"{k}={v!r}" for k, v in info.items()))
        if self._trace is not None:
            await self._trace(name, info)

    async def call(
        self, name: str, info: dict[str, Any], fn: Callable[..., Awaitable[Any]], *args: Any
    ) -> Any:
        """``await fn(*args)`` between ``name.started`` and ``name.complete`` / ``name.failed``."""
        await self.emit(name + ".started", info)
        try:
            result = await fn(*args)
        except BaseException as exc:
            await self.emit(name + ".failed", {"exception": exc})
            raise
        await self.emit(name + ".complete", {"return_value": result})
        return result


def tracer_for(request: Request) -> AsyncTracer | None:
    """The tracer for ``request``, or None when it has no ``trace`` and DEBUG logging is off."""
    trace = request.extensions.get("trace")
    log = logger.isEnabledFor(_DEBUG)
    if trace is None and not log:
        return None
    return AsyncTracer(trace, log)
