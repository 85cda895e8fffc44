"""Network backends (threaded and asyncio) against a real server (uvicorn), plus a custom
backend that records the bytes each way, plugged into a real pool."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import pytest

import ahttpwire
import httpwire
from httpwire._backends.asyncio import AsyncioBackend
from httpwire._backends.sync import NetworkBackend

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def _read_all_sync(stream: Any) -> bytes:
    chunks = []
    while chunk := stream.read():
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_all_async(stream: Any) -> bytes:
    chunks = []
    while chunk := await stream.read():
        chunks.append(chunk)
    return b"".join(chunks)


def test_threaded_backend_exchanges_bytes_and_shows_state_in_repr(http_server: Any) -> None:
    backend = NetworkBackend()
    assert repr(backend) == "<NetworkBackend [threaded]>"
    with backend.connect(http_server.host, http_server.port, timeout=5) as stream:
        assert repr(stream) == f'<NetworkStream ["127.0.0.1:{http_server.port}"]>'
        assert stream.get_extra_info("server_addr")[1] == http_server.port
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
        sock = stream.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert stream.get_extra_info("ssl_object") is None
        stream.write(REQUEST)
        response = _read_all_sync(stream)
    assert response.startswith(b"HTTP/1.1 200 ")
    assert repr(stream).endswith(" CLOSED]>")
    with pytest.raises(httpwire.ReadError, match="closed stream"):
        stream.read()


def test_threaded_backend_tls(https_server: Any, client_ssl_context: ssl.SSLContext) -> None:
    stream = NetworkBackend().connect(https_server.host, https_server.port, timeout=5)
    tls = stream.start_tls(client_ssl_context, server_hostname="127.0.0.1", timeout=5)
    try:
        assert repr(tls) == f'<NetworkStream ["127.0.0.1:{https_server.port}" TLS]>'
        assert tls.get_extra_info("ssl_object") is not None
        tls.write(REQUEST)
        assert _read_all_sync(tls).startswith(b"HTTP/1.1 200 ")
    finally:
        tls.close()


def test_threaded_tls_with_an_untrusted_certificate_is_a_connect_error(https_server: Any) -> None:
    stream = NetworkBackend().connect(https_server.host, https_server.port, timeout=5)
    with pytest.raises(httpwire.ConnectError, match="TLS handshake"):
        stream.start_tls(ssl.create_default_context(), server_hostname="127.0.0.1", timeout=5)


def test_threaded_connect_refused_names_the_address() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(httpwire.ConnectError, match=f"127.0.0.1:{port}"):
            NetworkBackend().connect("127.0.0.1", port, timeout=5)


def test_threaded_read_timeout_on_a_silent_peer(http_server: Any) -> None:
    with NetworkBackend().connect(http_server.host, http_server.port, timeout=5) as stream:
        with pytest.raises(httpwire.ReadTimeout):
            stream.read(timeout=0.05)
        with httpwire.timeout(0.05), pytest.raises(httpwire.ReadTimeout):
            stream.read(timeout=30)


def test_threaded_backend_tries_every_address_dns_returns(
    http_server: Any, monkeypatch: Any
) -> None:
    # "localhost" may give ::1 first; whatever the order, the IPv4 listener must be reached.
    real = socket.getaddrinfo

    def both(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        v6 = (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", port, 0, 0))
        return [v6, *real("127.0.0.1", port, *args, **kwargs)]

    monkeypatch.setattr(socket, "getaddrinfo", both)
    with NetworkBackend().connect("localhost", http_server.port, timeout=5) as stream:
        assert stream.get_extra_info("server_addr")[0] == "127.0.0.1"


def test_asyncio_backend_exchanges_bytes(http_server: Any) -> None:
    async def main() -> bytes:
        backend = AsyncioBackend()
        assert repr(backend) == "<NetworkBackend [asyncio]>"
        stream = await backend.connect(http_server.host, http_server.port, timeout=5)
        async with stream:
            assert repr(stream) == f'<NetworkStream ["127.0.0.1:{http_server.port}"]>'
            await stream.write(REQUEST)
            data = await _read_all_async(stream)
        assert repr(stream).endswith(" CLOSED]>")
        with pytest.raises(httpwire.ReadError):
            await stream.read()
        return data

    assert asyncio.run(main()).startswith(b"HTTP/1.1 200 ")


def test_asyncio_backend_tls_and_read_timeout(
    https_server: Any, client_ssl_context: ssl.SSLContext
) -> None:
    async def main() -> None:
        stream = await AsyncioBackend().connect(https_server.host, https_server.port, timeout=5)
        tls = await stream.start_tls(client_ssl_context, server_hostname="127.0.0.1", timeout=5)
        try:
            assert repr(tls).endswith(" TLS]>")
            with pytest.raises(httpwire.ReadTimeout):
                await tls.read(timeout=0.05)
            with ahttpwire.timeout(0.05), pytest.raises(httpwire.ReadTimeout):
                await tls.read()
            await tls.write(REQUEST)
            assert (await _read_all_async(tls)).startswith(b"HTTP/1.1 200 ")
        finally:
            await tls.aclose()

    asyncio.run(main())


def test_default_async_backend_repr_names_the_runtime() -> None:
    async def main() -> str:
        return repr(ahttpwire.NetworkBackend())

    assert asyncio.run(main()) == "<NetworkBackend [asyncio]>"


# -- a custom backend: record every byte each way -----------------------------------------------


class RecordingStream(httpwire.NetworkStreamInterface):
    def __init__(
        self, inner: httpwire.NetworkStreamInterface, log: list[tuple[str, bytes]]
    ) -> None:
        self.inner = inner
        self.log = log

    def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        data = self.inner.read(max_bytes, timeout)
        self.log.append(("recv", data))
        return data

    def write(self, data: bytes, timeout: float | None = None) -> None:
        self.log.append(("send", data))
        self.inner.write(data, timeout)

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> RecordingStream:
        return RecordingStream(
            self.inner.start_tls(ssl_context, server_hostname, timeout), self.log
        )

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)

    def close(self) -> None:
        self.inner.close()


class RecordingBackend(httpwire.NetworkBackendInterface):
    def __init__(self) -> None:
        self.inner = httpwire.NetworkBackend()
        self.log: list[tuple[str, bytes]] = []
        self.connects = 0

    def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> RecordingStream:
        self.connects += 1
        return RecordingStream(
            self.inner.connect(host, port, timeout, local_address, socket_options), self.log
        )

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def test_custom_recording_backend_sees_the_wire_bytes(http_server: Any) -> None:
    backend = RecordingBackend()
    with httpwire.ConnectionPool(backend=backend) as pool:
        for _ in range(3):
            response = pool.request("GET", http_server.url + "/bytes/10")
            assert response.status_code == 200
            assert len(response.content) == 10
    assert backend.connects == 1  # keep-alive: three requests, one connection
    sent = b"".join(data for kind, data in backend.log if kind == "send")
    received = b"".join(data for kind, data in backend.log if kind == "recv")
    assert sent.count(b"GET /bytes/10 HTTP/1.1\r\n") == 3
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 3


def test_asyncio_a_read_without_timeout_is_not_failed_by_an_earlier_reads_timer(
    http_server: Any,
) -> None:
    # The asyncio stream re-arms one timer lazily; a later read with no limit must not inherit
    # the deadline of an earlier, shorter one.
    async def main() -> bytes:
        stream = await AsyncioBackend().connect(http_server.host, http_server.port, timeout=5)
        async with stream:
            await stream.write(
                b"GET /stall?seconds=0.5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            head = await stream.read(timeout=0.3)  # the head comes at once
            assert head.startswith(b"HTTP/1.1 200")
            rest = b""
            while chunk := await stream.read():  # the body after 0.5 s: longer than 0.3
                rest += chunk
            return rest

    assert len(asyncio.run(main())) > 0


def test_asyncio_a_later_shorter_timeout_still_fires(http_server: Any) -> None:
    async def main() -> None:
        stream = await AsyncioBackend().connect(http_server.host, http_server.port, timeout=5)
        async with stream:
            await stream.write(b"GET /slow-head?seconds=2 HTTP/1.1\r\nHost: x\r\n\r\n")
            with pytest.raises(httpwire.ReadTimeout):
                await stream.read(timeout=0.05)
            await stream.write(b"")
            with pytest.raises(httpwire.ReadTimeout):
                await stream.read(timeout=0.05)

    asyncio.run(main())


@pytest.mark.parametrize("runtime", ["sync", "asyncio", "trio"])
def test_a_refused_connection_is_worded_alike_in_every_backend(runtime: str) -> None:
    # One line, the address once, the operating system's reason without an errno prefix: the
    # backends used to say "127.0.0.1:P: 127.0.0.1:P: Connection refused", "[Errno 111] Connect
    # call failed ('127.0.0.1', P)" and "[Errno 111] Error connecting to ('127.0.0.1', P): ...".
    async def main(port: int) -> str:
        try:
            await ahttpwire.NetworkBackend().connect("127.0.0.1", port)
        except ahttpwire.ConnectError as exc:
            return str(exc)
        return "connected"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        expected = f"could not connect to 127.0.0.1:{port}: Connection refused"
        if runtime == "sync":
            with pytest.raises(httpwire.ConnectError) as info:
                httpwire.NetworkBackend().connect("127.0.0.1", port)
            assert str(info.value) == expected
        elif runtime == "asyncio":
            assert asyncio.run(main(port)) == expected
        else:
            import trio

            assert trio.run(main, port) == expected
