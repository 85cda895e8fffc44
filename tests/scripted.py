"""An in-memory network backend whose streams replay a scripted server (issue 11 item 6).

Each connection the pool opens takes the next :class:`Script`: the answers its server gives, one
per request. An answer is written back once the client has written a whole request head (and
``Content-Length`` body, if any); :data:`CLOSE` instead makes the server close the connection as
the request arrives (a keep-alive connection the server dropped as it was reused), and
``close_when_idle=True`` makes it close after its last answer, which the client sees as the
stream becoming readable while idle (``get_extra_info("is_readable")``). Nothing waits on a
clock: a read with nothing to return and the connection open is a bug in the test, and fails at
once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from httpwire._backends.base import (
    AsyncNetworkBackendInterface,
    AsyncNetworkStreamInterface,
    NetworkBackendInterface,
    NetworkStreamInterface,
)

#: An answer that closes the connection instead of answering.
CLOSE = None


def ok(body: bytes = b"ok") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


class Script:
    """The server of one connection: ``answers`` in order (bytes, or :data:`CLOSE`)."""

    def __init__(self, *answers: bytes | None, close_when_idle: bool = False) -> None:
        self.answers = list(answers)
        self.close_when_idle = close_when_idle
        self.requests: list[bytes] = []  # what the client wrote, one request each
        self._inbox = b""
        self._outbox = b""
        self.closed_by_server = False
        self.closed_by_client = False

    def received(self, data: bytes) -> None:
        self._inbox += data
        while True:
            head_end = self._inbox.find(b"\r\n\r\n")
            if head_end < 0:
                return
            match = re.search(rb"(?im)^content-length:\s*(\d+)", self._inbox[:head_end])
            end = head_end + 4 + (int(match.group(1)) if match else 0)
            if len(self._inbox) < end:
                return
            self.requests.append(self._inbox[:end])
            self._inbox = self._inbox[end:]
            if not self.answers:
                raise AssertionError(f"the script has no answer for {self.requests[-1]!r}")
            answer = self.answers.pop(0)
            if answer is CLOSE:
                self.closed_by_server = True
                return
            self._outbox += answer
            if not self.answers and self.close_when_idle:
                self.closed_by_server = True

    def take(self, max_bytes: int | None) -> bytes:
        if self._outbox:
            n = max_bytes or len(self._outbox)
            data, self._outbox = self._outbox[:n], self._outbox[n:]
            return data
        if self.closed_by_server:
            return b""
        raise AssertionError("the client reads, but the scripted server has nothing to send")

    def readable(self) -> bool:
        return bool(self._outbox) or self.closed_by_server


class _Backend:
    def __init__(self, scripts: Iterable[Script]) -> None:
        self.scripts = list(scripts)
        self.opened: list[Script] = []

    def _next(self, host: str, port: int) -> Script:
        if not self.scripts:
            raise AssertionError(f"no script left for a connection to {host}:{port}")
        script = self.scripts.pop(0)
        self.opened.append(script)
        return script


class ScriptedStream(NetworkStreamInterface):
    def __init__(self, script: Script) -> None:
        self.script = script

    def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        return self.script.take(max_bytes)

    def write(self, data: bytes, timeout: float | None = None) -> None:
        self.script.received(data)

    def get_extra_info(self, info: str) -> Any:
        return self.script.readable() if info == "is_readable" else None

    def close(self) -> None:
        self.script.closed_by_client = True


class ScriptedBackend(_Backend, NetworkBackendInterface):
    def connect(self, host: str, port: int, *args: Any, **kwargs: Any) -> NetworkStreamInterface:
        return ScriptedStream(self._next(host, port))

    def sleep(self, seconds: float) -> None:
        raise AssertionError("a scripted server never makes the client back off")


class AsyncScriptedStream(AsyncNetworkStreamInterface):
    def __init__(self, script: Script) -> None:
        self.script = script

    async def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        return self.script.take(max_bytes)

    async def write(self, data: bytes, timeout: float | None = None) -> None:
        self.script.received(data)

    def get_extra_info(self, info: str) -> Any:
        return self.script.readable() if info == "is_readable" else None

    async def aclose(self) -> None:
        self.script.closed_by_client = True


class AsyncScriptedBackend(_Backend, AsyncNetworkBackendInterface):
    async def connect(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> AsyncNetworkStreamInterface:
        return AsyncScriptedStream(self._next(host, port))

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("a scripted server never makes the client back off")
