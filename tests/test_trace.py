"""The ``trace`` request extension: event names, order and payloads, in both flavours."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from servers import UvicornServer

import ahttpwire
import httpwire

EXPECTED_HTTP = [
    "connection.connect_tcp.started",
    "connection.connect_tcp.complete",
    "http11.send_request_headers.started",
    "http11.send_request_headers.complete",
    "http11.send_request_body.started",
    "http11.send_request_body.complete",
    "http11.receive_response_headers.started",
    "http11.receive_response_headers.complete",
    "http11.receive_response_body.started",
    "http11.receive_response_body.complete",
    "http11.response_closed.started",
    "http11.response_closed.complete",
]


def test_sync_trace_reports_every_step_of_a_first_request(http_server: UvicornServer) -> None:
    events: list[tuple[str, dict[str, Any]]] = []

    def trace(name: str, info: dict[str, Any]) -> None:
        events.append((name, info))

    with httpwire.ConnectionPool() as pool:
        r = pool.request("GET", http_server.url + "/", extensions={"trace": trace})
        assert r.status_code == 200
    assert [name for name, _ in events] == EXPECTED_HTTP
    started = dict(events)["connection.connect_tcp.started"]
    assert started["host"] == "127.0.0.1" and started["port"] == http_server.port
    assert isinstance(
        dict(events)["connection.connect_tcp.complete"]["return_value"], httpwire.NetworkStream
    )


def test_sync_trace_on_a_reused_connection_skips_connecting(http_server: UvicornServer) -> None:
    names: list[str] = []
    with httpwire.ConnectionPool() as pool:
        pool.request("GET", http_server.url + "/")
        pool.request(
            "GET", http_server.url + "/", extensions={"trace": lambda n, i: names.append(n)}
        )
    assert names == EXPECTED_HTTP[2:]


def test_async_trace_is_awaited_and_includes_tls(
    https_server: UvicornServer, client_ssl_context: Any
) -> None:
    names: list[str] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        names.append(name)

    async def main() -> None:
        async with ahttpwire.ConnectionPool(ssl_context=client_ssl_context) as pool:
            r = await pool.request("GET", https_server.url + "/", extensions={"trace": trace})
            assert r.status_code == 200

    asyncio.run(main())
    assert names[:4] == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
        "connection.start_tls.complete",
    ]
    assert names[4:] == EXPECTED_HTTP[2:]


def test_a_failed_step_is_traced_with_its_exception(refused_url: str) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    with httpwire.ConnectionPool() as pool, pytest.raises(httpwire.ConnectError):
        pool.request("GET", refused_url, extensions={"trace": lambda n, i: events.append((n, i))})
    assert [n for n, _ in events] == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
    ]
    assert isinstance(events[1][1]["exception"], httpwire.ConnectError)


def test_debug_logging_shows_the_same_events(
    http_server: UvicornServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="httpwire"), httpwire.ConnectionPool() as pool:
        pool.request("GET", http_server.url + "/")
    messages = [r.getMessage().split(" ")[0] for r in caplog.records if r.name == "httpwire"]
    assert messages == EXPECTED_HTTP
