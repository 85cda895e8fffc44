"""Happy Eyeballs (RFC 8305) in the three network backends, against real sockets on loopback.

DNS is faked (``socket.getaddrinfo`` monkeypatched for the name ``happy.test``) so that one name
resolves to several loopback addresses that behave differently: a port where connecting hangs
(:class:`servers.FullBacklogListener`), a port that refuses (:class:`servers.RefusedPort`), the
real uvicorn server, and a listener on ``::1``. Every socket the backend creates in the test's
thread is recorded, so the tests can check that the race's losers are closed when ``connect``
returns, fails or is cancelled.

No timing assertions: "the working address wins quickly" is proven by a connect timeout that a
one-address-after-the-other strategy could not meet (the hanging address would use all of it).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trio
from servers import HOST, FullBacklogListener, RefusedPort, UvicornServer

import httpwire
from httpwire._backends import asyncio as asyncio_backend
from httpwire._backends import sync as sync_backend
from httpwire._backends.asyncio import AsyncioBackend
from httpwire._backends.sync import NetworkBackend, interleave_addresses
from httpwire._backends.trio import TrioBackend

NAME = "happy.test"
REQUEST = b"GET / HTTP/1.1\r\nHost: happy.test\r\nConnection: close\r\n\r\n"
FLAVOURS = ["threaded", "asyncio", "trio"]

Addr = tuple[socket.AddressFamily, tuple[Any, ...]]


# -- fixtures ------------------------------------------------------------------------------------


class Recorded:
    """The TCP sockets created in the test's thread, in creation order."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        #: Recording starts here, so the test's own listeners are not counted.
        self.armed = False

    def open(self) -> list[socket.socket]:
        return [s for s in self.sockets if s.fileno() != -1]

    def families(self) -> list[int]:
        return [s.family for s in self.sockets]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    record = Recorded()
    real = socket.socket
    me = threading.get_ident()

    class RecordingSocket(real):  # type: ignore[misc, valid-type]
        def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: Any = None):
            super().__init__(family, type, proto, fileno)
            if (
                record.armed
                and fileno is None
                and threading.get_ident() == me
                and self.family in (socket.AF_INET, socket.AF_INET6)
            ):
                record.sockets.append(self)

    monkeypatch.setattr(socket, "socket", RecordingSocket)
    return record


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[Addr]], None]:
    real = socket.getaddrinfo

    def install(addrs: list[Addr]) -> None:
        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host in (NAME, NAME.encode()):
                return [(family, socket.SOCK_STREAM, 6, "", sockaddr) for family, sockaddr in addrs]
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return install


@pytest.fixture
def hanging() -> Iterator[Callable[[], tuple[str, int]]]:
    """Makes addresses where a TCP connect neither completes nor fails."""
    listeners: list[FullBacklogListener] = []

    def make() -> tuple[str, int]:
        listener = FullBacklogListener().start()
        listeners.append(listener)
        return (HOST, listener.port)

    yield make
    for listener in listeners:
        listener.stop()


@pytest.fixture
def refused() -> Iterator[Callable[[], tuple[str, int]]]:
    """Makes addresses where a TCP connect is refused at once."""
    ports: list[RefusedPort] = []

    def make() -> tuple[str, int]:
        port = RefusedPort()
        ports.append(port)
        return (HOST, port.port)

    yield make
    for port in ports:
        port.stop()


@pytest.fixture
def v6_listener() -> Iterator[tuple[str, int, int, int]]:
    """A listening socket on ``::1`` (the kernel completes connects to it without accept())."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        sock.bind(("::1", 0))
    except OSError as exc:  # pragma: no cover - a machine without IPv6 loopback
        sock.close()
        pytest.fail(f"no IPv6 loopback on this machine: {exc}")
    sock.listen(16)
    yield ("::1", sock.getsockname()[1], 0, 0)
    sock.close()


# -- running one connect in each flavour ----------------------------------------------------------


class Outcome:
    """What one ``connect`` left behind, observed before the winning stream was closed."""

    def __init__(self, server_addr: Any, winner_fd: int, open_fds: list[int], reply: bytes) -> None:
        self.server_addr = server_addr
        self.winner_fd = winner_fd
        self.open_fds = open_fds
        self.reply = reply


def _connect(flavour: str, recorded: Recorded, timeout: float, exchange: bool = False) -> Outcome:
    """Connect to ``happy.test`` with ``flavour``'s backend; returns the Outcome or raises."""

    def outcome(stream: Any, reply: bytes) -> Outcome:
        return Outcome(
            stream.get_extra_info("server_addr"),
            stream.get_extra_info("socket").fileno(),
            [s.fileno() for s in recorded.open()],
            reply,
        )

    recorded.armed = True
    if flavour == "threaded":
        with NetworkBackend().connect(NAME, 80, timeout=timeout) as stream:
            reply = b""
            if exchange:
                stream.write(REQUEST, timeout=5)
                reply = stream.read(timeout=5)
            return outcome(stream, reply)

    async def run(backend: Any) -> Outcome:
        stream = await backend.connect(NAME, 80, timeout=timeout)
        async with stream:
            reply = b""
            if exchange:
                await stream.write(REQUEST, timeout=5)
                reply = await stream.read(timeout=5)
            return outcome(stream, reply)

    if flavour == "asyncio":
        return asyncio.run(run(AsyncioBackend()))
    result: Outcome = trio.run(run, TrioBackend())
    return result


# -- the race ----------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_hanging_first_address_loses_to_a_working_second_one(
    flavour: str,
    recorded: Recorded,
    fake_dns: Callable[[list[Addr]], None],
    hanging: Callable[[], tuple[str, int]],
    http_server: UvicornServer,
) -> None:
    fake_dns([(socket.AF_INET, hanging()), (socket.AF_INET, (HOST, http_server.port))])
    # Trying one address after the other would spend the whole 10 s on the hanging one and
    # raise ConnectTimeout: reaching the server proves the second attempt ran alongside.
    result = _connect(flavour, recorded, timeout=10, exchange=True)
    assert result.server_addr[1] == http_server.port
    assert result.reply.startswith(b"HTTP/1.1 200 ")
    assert len(recorded.sockets) == 2
    # The hanging attempt was closed before connect() returned; only the winner is open.
    assert result.open_fds == [result.winner_fd]
    assert recorded.open() == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_refused_first_address_gives_way_to_the_next_one(
    flavour: str,
    recorded: Recorded,
    fake_dns: Callable[[list[Addr]], None],
    refused: Callable[[], tuple[str, int]],
    http_server: UvicornServer,
) -> None:
    fake_dns([(socket.AF_INET, refused()), (socket.AF_INET, (HOST, http_server.port))])
    result = _connect(flavour, recorded, timeout=10, exchange=True)
    assert result.server_addr[1] == http_server.port
    assert result.reply.startswith(b"HTTP/1.1 200 ")
    assert len(recorded.sockets) == 2
    assert result.open_fds == [result.winner_fd]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_when_every_address_fails_the_connect_error_names_each(
    flavour: str,
    recorded: Recorded,
    fake_dns: Callable[[list[Addr]], None],
    refused: Callable[[], tuple[str, int]],
) -> None:
    first, second, third = refused(), refused(), refused()
    fake_dns([(socket.AF_INET, first), (socket.AF_INET, second), (socket.AF_INET, third)])
    with pytest.raises(httpwire.ConnectError) as info:
        _connect(flavour, recorded, timeout=10)
    message = str(info.value)
    for _host, port in (first, second, third):
        assert f"{port}" in message
    assert len(recorded.sockets) == 3
    assert recorded.open() == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_connect_timeout_bounds_the_whole_race(
    flavour: str,
    recorded: Recorded,
    fake_dns: Callable[[list[Addr]], None],
    hanging: Callable[[], tuple[str, int]],
) -> None:
    fake_dns([(socket.AF_INET, hanging()), (socket.AF_INET, hanging())])
    with pytest.raises(httpwire.ConnectTimeout):
        _connect(flavour, recorded, timeout=1.0)
    # Both attempts were started (the second one 0.25 s after the first) and both are closed.
    assert len(recorded.sockets) == 2
    assert recorded.open() == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_ipv6_and_ipv4_are_interleaved_and_ipv6_wins_here(
    flavour: str,
    recorded: Recorded,
    fake_dns: Callable[[list[Addr]], None],
    hanging: Callable[[], tuple[str, int]],
    v6_listener: tuple[str, int, int, int],
) -> None:
    # The resolver lists two (hanging) IPv4 addresses before the IPv6 one.
    fake_dns(
        [
            (socket.AF_INET, hanging()),
            (socket.AF_INET, hanging()),
            (socket.AF_INET6, v6_listener),
        ]
    )
    result = _connect(flavour, recorded, timeout=10)
    assert result.server_addr[0] == "::1"
    assert result.open_fds == [result.winner_fd]
    if flavour == "trio":
        # trio keeps the resolver's first family first and moves the other family's first
        # address to second place (RFC 6555 section 5.4): IPv4, then IPv6.
        assert recorded.families()[:2] == [socket.AF_INET, socket.AF_INET6]
    else:
        # Ours puts IPv6 first (RFC 8305 section 4): the ::1 attempt starts first and wins.
        assert recorded.families()[0] == socket.AF_INET6
        assert len(recorded.sockets) == 1


def test_interleave_puts_ipv6_first_and_alternates_families() -> None:
    def info(family: socket.AddressFamily, name: str) -> Any:
        return (family, socket.SOCK_STREAM, 6, "", (name, 80))

    v4 = [info(socket.AF_INET, f"192.0.2.{i}") for i in (1, 2, 3)]
    v6 = [info(socket.AF_INET6, f"2001:db8::{i}") for i in (1, 2)]
    ordered = interleave_addresses([*v4, *v6])
    assert [i[4][0] for i in ordered] == [
        "2001:db8::1",
        "192.0.2.1",
        "2001:db8::2",
        "192.0.2.2",
        "192.0.2.3",
    ]
    assert interleave_addresses(v4) == v4
    assert interleave_addresses([]) == []


# -- the single-address path stays as it was ----------------------------------------------------


def test_one_address_never_enters_the_race(
    monkeypatch: pytest.MonkeyPatch,
    fake_dns: Callable[[list[Addr]], None],
    http_server: UvicornServer,
) -> None:
    def no_race(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a single address must be connected to without a race")

    monkeypatch.setattr(sync_backend, "_race", no_race)
    monkeypatch.setattr(asyncio_backend, "_race", no_race)
    fake_dns([(socket.AF_INET, (HOST, http_server.port))])
    with NetworkBackend().connect(NAME, 80, timeout=5) as stream:
        assert stream.get_extra_info("server_addr")[1] == http_server.port
    with NetworkBackend().connect(HOST, http_server.port, timeout=5) as stream:
        assert stream.get_extra_info("server_addr")[1] == http_server.port

    async def main() -> None:
        for host, port in ((NAME, 80), (HOST, http_server.port)):
            stream = await AsyncioBackend().connect(host, port, timeout=5)
            async with stream:
                assert stream.get_extra_info("server_addr")[1] == http_server.port

    asyncio.run(main())


# -- cancellation in the middle of a race -------------------------------------------------------


def test_cancelling_an_asyncio_race_closes_every_attempt(
    recorded: Recorded,
    fake_dns: Callable[[list[Addr]], None],
    hanging: Callable[[], tuple[str, int]],
) -> None:
    fake_dns([(socket.AF_INET, hanging()), (socket.AF_INET, hanging())])
    recorded.armed = True

    async def main() -> None:
        task = asyncio.create_task(AsyncioBackend().connect(NAME, 80, timeout=30))
        for _ in range(500):  # until both attempts are under way (0.25 s apart)
            await asyncio.sleep(0.01)
            if len(recorded.sockets) == 2:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert len(recorded.sockets) == 2
    assert recorded.open() == []


def test_cancelling_a_trio_race_closes_every_attempt(
    recorded: Recorded,
    fake_dns: Callable[[list[Addr]], None],
    hanging: Callable[[], tuple[str, int]],
) -> None:
    fake_dns([(socket.AF_INET, hanging()), (socket.AF_INET, hanging())])
    recorded.armed = True

    async def main() -> None:
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(TrioBackend().connect, NAME, 80, 30.0)
                for _ in range(500):
                    await trio.sleep(0.01)
                    if len(recorded.sockets) == 2:
                        break
                scope.cancel()
        assert scope.cancelled_caught

    trio.run(main)
    assert len(recorded.sockets) == 2
    assert recorded.open() == []


# -- through the pool ----------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_pool_reaches_a_host_whose_first_address_hangs(
    flavour: str,
    fake_dns: Callable[[list[Addr]], None],
    hanging: Callable[[], tuple[str, int]],
    http_server: UvicornServer,
) -> None:
    import ahttpwire

    fake_dns([(socket.AF_INET, hanging()), (socket.AF_INET, (HOST, http_server.port))])
    url = f"http://{NAME}/"
    extensions = {"timeout": {"connect": 10}}
    if flavour == "threaded":
        with httpwire.ConnectionPool() as pool:
            assert pool.request("GET", url, extensions=extensions).status_code == 200
        return

    async def main() -> int:
        async with ahttpwire.ConnectionPool() as pool:
            response = await pool.request("GET", url, extensions=extensions)
            return response.status_code

    status = asyncio.run(main()) if flavour == "asyncio" else trio.run(main)
    assert status == 200
