"""``ASGITransport``: send requests to an ASGI application in-process (async flavour).

``ahttpwire.Client(transport=ASGITransport(app))`` calls a FastAPI / Starlette / any ASGI 3 app
directly, without a server or a socket, on asyncio and on trio. Unlike httpx's, which collects
the whole response body before returning, the body streams: the app runs in a task of its own
and the client reads each ``http.response.body`` message as the app sends it (one message in
flight at a time, so a fast app waits for a slow reader; nothing is buffered beyond that).
The request body streams the same way: each ``receive()`` takes the next chunk of it.

No lifespan events are sent (as httpx): an app that needs its startup to have run must be
started by the test (e.g. ``asgi-lifespan``'s ``LifespanManager``).

The app's task: under asyncio an ``asyncio`` task; under trio a system task (trio allows a
task to outlive the call that started it only there). It ends when the app returns, or is
cancelled when the response is closed before its end (``http.disconnect`` is what the app's
``receive()`` then sees, if it is still listening).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from ._async._transports import AsyncBaseTransport
from ._backends.auto import current_async_library
from ._exceptions import ReadTimeout
from ._models import Request, Response
from ._streams import AsyncByteStream, ByteStream
from ._timeouts import remaining

__all__ = ["ASGITransport"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_TIMED_OUT = "the ASGI app sent nothing within the read timeout"


def _read_limit(request: Request) -> float | None:
    limits = request.extensions.get("timeout")
    return limits.get("read") if isinstance(limits, dict) else None


class _AsyncioBridge:
    """A one-slot hand-off from the app's task to the reader, and the app's task (asyncio)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=1)
        self.response_complete = asyncio.Event()
        self.receive_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self, fn: Callable[[], Awaitable[None]]) -> None:
        async def run() -> None:
            await fn()

        self._task = asyncio.get_running_loop().create_task(run())

    async def put(self, item: tuple[str, Any]) -> None:
        await self._queue.put(item)

    async def get(self, timeout: float | None) -> tuple[str, Any]:
        if timeout is None:
            return await self._queue.get()
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            raise ReadTimeout(_TIMED_OUT) from None

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


class _TrioBridge:
    """The same on trio: a memory channel of one slot and a system task in a cancel scope."""

    def __init__(self) -> None:
        import trio

        self._trio = trio
        self._send, self._receive = trio.open_memory_channel[tuple[str, Any]](1)
        self.response_complete = trio.Event()
        self.receive_lock = trio.Lock()
        self._scope = trio.CancelScope()

    def start(self, fn: Callable[[], Awaitable[None]]) -> None:
        async def run() -> None:
            with self._scope:
                await fn()

        self._trio.lowlevel.spawn_system_task(run, name="ASGITransport app")

    async def put(self, item: tuple[str, Any]) -> None:
        await self._send.send(item)

    async def get(self, timeout: float | None) -> tuple[str, Any]:
        if timeout is None:
            item: tuple[str, Any] = await self._receive.receive()
            return item
        with self._trio.move_on_after(timeout):
            item = await self._receive.receive()
            return item
        raise ReadTimeout(_TIMED_OUT)

    def cancel(self) -> None:
        self._scope.cancel()


class ASGITransport(AsyncBaseTransport):
    """Send requests to the ASGI 3 application ``app`` in-process (``ahttpwire.Client`` only).

    - ``raise_app_exceptions`` (default True): an exception the app raises reaches the caller
      (from ``send`` before the response starts, from reading the body after). With False, the
      caller gets a 500 response instead when the response had not started, or the body as
      far as the app sent it.
    - ``root_path``: the ASGI ``root_path`` (where the app is mounted).
    - ``client``: the ASGI ``client`` ``(host, port)`` (default ``("127.0.0.1", 123)``, httpx's).

    Deadlines apply as over the network: the ``read`` limit of the request's ``timeout``
    extension bounds each wait for the app's next message, and ``timeout()`` blocks bound the
    whole exchange; either raises ``ReadTimeout`` and cancels the app's task.

    The scope is HTTP/1.1 with the request's method, headers (names lower-cased), scheme,
    ``path`` (percent-decoded), ``raw_path`` (as sent, without the query), ``query_string`` and
    ``server`` (host, port; the scheme's default port when the URL has none).
    Works under asyncio and trio. Raises ``RuntimeError`` when the app returns without starting
    a response (with ``raise_app_exceptions``; else a 500 response).
    """

    def __init__(
        self,
        app: ASGIApp,
        raise_app_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] = ("127.0.0.1", 123),
    ) -> None:
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions
        self.root_path = root_path
        self.client = client

    async def handle_async_request(self, request: Request) -> Response:
        """Start the app on ``request``; return the response once the app has started it."""
        url = request.url
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(name.lower(), value) for name, value in request.headers.raw],
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "server": (url.host, url.port or _DEFAULT_PORTS.get(url.scheme)),
            "client": self.client,
            "root_path": self.root_path,
        }
        bridge: _AsyncioBridge | _TrioBridge = (
            _TrioBridge() if current_async_library() == "trio" else _AsyncioBridge()
        )
        exchange = _Exchange(self.app, scope, request, bridge)
        bridge.start(exchange.run_app)
        read_limit = _read_limit(request)
        try:
            kind, value = await bridge.get(remaining(read_limit))
        except BaseException:
            bridge.cancel()
            raise
        if kind == "start":
            stream = _ASGIResponseStream(bridge, self.raise_app_exceptions, read_limit)
            status, headers = value
            return Response(status, headers=headers, stream=stream)
        # The app ended (returned or raised) before it started a response.
        if kind == "error" and self.raise_app_exceptions:
            raise value
        if kind == "end" and self.raise_app_exceptions:
            raise RuntimeError("the ASGI app returned without sending 'http.response.start'")
        return Response(500)


class _Exchange:
    """One request's ``receive`` and ``send`` callables, and the app run around them."""

    def __init__(
        self,
        app: ASGIApp,
        scope: dict[str, Any],
        request: Request,
        bridge: _AsyncioBridge | _TrioBridge,
    ) -> None:
        self.app = app
        self.scope = scope
        self.bridge = bridge
        self.is_head = request.method == "HEAD"
        self.body = _body_chunks(request)
        self.request_complete = False
        self.response_started = False

    async def run_app(self) -> None:
        bridge = self.bridge
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception as exc:
            bridge.response_complete.set()
            await bridge.put(("error", exc))
            return
        bridge.response_complete.set()
        await bridge.put(("end", None))

    async def receive(self) -> Message:
        # Apps may call receive() from two tasks at once (Starlette listens for a disconnect
        # while an endpoint reads the body): one at a time takes from the request body.
        async with self.bridge.receive_lock:
            return await self._receive()

    async def _receive(self) -> Message:
        if self.request_complete:
            # The whole request body was received: the next event is the client going away,
            # which is once the response is complete (ASGI: "http.disconnect").
            await self.bridge.response_complete.wait()
            return {"type": "http.disconnect"}
        chunk = await anext(self.body, None)
        if chunk is None:
            self.request_complete = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.response_started:
                raise RuntimeError("ASGI app sent 'http.response.start' twice")
            self.response_started = True
            headers = [(_bytes(k), _bytes(v)) for k, v in message.get("headers", [])]
            await self.bridge.put(("start", (int(message["status"]), headers)))
        elif kind == "http.response.body":
            if not self.response_started:
                raise RuntimeError("ASGI app sent a body before 'http.response.start'")
            if self.bridge.response_complete.is_set():
                return  # after the last body message: nothing more is sent
            body = bytes(message.get("body", b""))
            more_body = bool(message.get("more_body", False))
            if not more_body:
                self.bridge.response_complete.set()
            if body and not self.is_head:
                await self.bridge.put(("body", body))


def _bytes(value: Any) -> bytes:
    # ASGI says bytes; apps in the wild (httpx's own tests among them) also send str.
    return value.encode("latin-1") if isinstance(value, str) else bytes(value)


async def _body_chunks(request: Request) -> AsyncIterator[bytes]:
    stream = request.stream
    if isinstance(stream, AsyncByteStream):
        async for chunk in stream:
            if chunk:
                yield chunk
    elif isinstance(stream, ByteStream):  # a sync body given to the async client
        for chunk in stream:
            if chunk:
                yield chunk


class _ASGIResponseStream(AsyncByteStream):
    """The response body, message by message as the app sends it."""

    def __init__(
        self,
        bridge: _AsyncioBridge | _TrioBridge,
        raise_app_exceptions: bool,
        read_limit: float | None,
    ) -> None:
        self._bridge = bridge
        self._raise = raise_app_exceptions
        self._read_limit = read_limit
        self._finished = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self._finished:
            try:
                kind, value = await self._bridge.get(remaining(self._read_limit))
            except BaseException:
                await self.aclose()
                raise
            if kind == "body":
                yield value
            else:
                self._finished = True
                if kind == "error" and self._raise:
                    raise value

    async def aclose(self) -> None:
        if not self._finished:
            self._finished = True
            self._bridge.cancel()
