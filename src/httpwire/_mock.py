"""``MockTransport``: answer requests in-process with a function (both flavours).

The basis of most test suites written for httpx (and of respx): ``Client(transport=
MockTransport(handler))`` sends every request to ``handler(request) -> Response`` instead of the
network.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ._async._transports import AsyncBaseTransport
from ._models import Request, Response
from ._streams import AsyncByteStream
from ._sync._transports import BaseTransport

__all__ = ["MockTransport"]


class MockTransport(BaseTransport, AsyncBaseTransport):  # type: ignore[misc]
    """A transport that calls ``handler(request)`` and returns the :class:`Response` it gives.

    The request body is read first (``request.content`` works in the handler). With
    ``httpwire.Client`` the handler is a plain function; with ``ahttpwire.Client`` it may be a
    plain function or an ``async def`` (its result is awaited). The response is returned as the
    handler made it; the client reads its body. Raises ``TypeError`` when the handler returns
    something other than a ``Response``; exceptions the handler raises propagate to the caller
    (raise ``httpwire.ConnectError(...)`` to simulate a network failure).
    """

    def __init__(self, handler: Callable[[Request], Any]) -> None:
        self.handler = handler

    def handle_request(self, request: Request) -> Response:
        """Read the request body, call the handler, return its response."""
        request.read()
        response = self.handler(request)
        if inspect.isawaitable(response):
            close = getattr(response, "close", None)
            if close is not None:
                close()  # never awaited: silence "coroutine was never awaited"
            raise TypeError(
                "MockTransport: an async handler needs the async client (ahttpwire.Client)"
            )
        return _checked(response)

    async def handle_async_request(self, request: Request) -> Response:
        """Read the request body, call the handler (awaiting it if async), return its response."""
        if isinstance(request.stream, AsyncByteStream):
            await request.aread()
        else:  # a sync body (an iterator of bytes) given to the async client
            request.read()
        response = self.handler(request)
        if inspect.isawaitable(response):
            response = await response
        return _checked(response)

    def __repr__(self) -> str:
        return f"<MockTransport {getattr(self.handler, '__qualname__', self.handler)!r}>"


def _checked(response: Any) -> Response:
    if not isinstance(response, Response):
        raise TypeError(
            f"MockTransport: the handler must return a Response, not {type(response).__name__}"
        )
    return response
