"""httpwire._h2glue, the I/O-free half of HTTP/2 (issue 11 item 2): one StreamRefused for both
flavours, the SETTINGS a new connection announces (read by h2, the oracle), the extras, and
send()'s steps traced with an end event even when the request is cancelled."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest
import trio
from conftest_h2 import *  # noqa: F403
from h2servers import H2FaultServer

import ahttpwire
from httpwire import _h2glue as h2glue
from httpwire._async import _http2 as async_http2
from httpwire._sync import _http2 as sync_http2

ROOT = Path(__file__).resolve().parent.parent


def test_stream_refused_is_one_class_for_both_flavours() -> None:
    assert sync_http2.StreamRefused is async_http2.StreamRefused is h2glue.StreamRefused


def test_the_http2_extra_needs_nothing_and_h2_stays_a_test_oracle() -> None:
    """HTTP/2 runs on httpwire.http2 (issue 13): the ``http2`` extra is empty (kept so that
    ``pip install 'httpwire[http2]'`` still works); ``h2`` and ``hpack`` are in ``dev`` only,
    as the oracles of the engine's tests. (Before, this pinned the h2 range and internals.)"""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert extras["http2"] == []
    dev = " ".join(extras["dev"])
    assert "h2>=" in dev and "hpack>=" in dev


def test_a_new_connection_announces_our_settings_and_windows() -> None:
    """The preface our engine queues, read by h2's server side (the oracle): our SETTINGS (no
    push, 1,000 streams, 4 MiB stream window, 64 KiB header list) and the connection window
    raised to 16 MiB (RFC 9113 sections 3.4, 6.5.2, 6.9.2)."""
    conn = h2glue.new_h2_connection(max_control_frames=1000)
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    events = server.receive_data(conn.data_to_send())
    settings = next(e for e in events if isinstance(e, h2.events.RemoteSettingsChanged))
    codes = h2.settings.SettingCodes
    assert {code: s.new_value for code, s in settings.changed_settings.items()} == {
        codes.ENABLE_PUSH: 0,
        codes.MAX_CONCURRENT_STREAMS: 1000,
        codes.INITIAL_WINDOW_SIZE: h2glue.STREAM_WINDOW,
        codes.MAX_HEADER_LIST_SIZE: 65536,
    }
    window = next(e for e in events if isinstance(e, h2.events.WindowUpdated))
    assert window.stream_id == 0 and window.delta == h2glue.CONNECTION_WINDOW - 65535
    assert conn.max_control_frames == 1000


def _ended(events: list[str]) -> list[str]:
    """The ``.started`` events without a matching ``.complete`` or ``.failed``."""
    open_ = []
    for name in events:
        base, _, phase = name.rpartition(".")
        if phase == "started":
            open_.append(base)
        elif base in open_:
            open_.remove(base)
    return open_


@pytest.mark.parametrize("runtime", ["asyncio", "trio"])
@pytest.mark.parametrize("path", ["/wait/5", "/hold"])
def test_a_cancelled_http2_request_ends_every_trace_event_it_started(
    runtime: str, path: str, h2_fault: H2FaultServer
) -> None:
    """Cancelled while waiting for the response head (/wait/5) or for the body (/hold): the
    event that was running gets its ``.failed`` (it was left open: only ``Exception`` was
    reported)."""
    events: list[str] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    async def request(pool: Any) -> None:
        response = await pool.request(
            "GET", h2_fault.url + path, extensions={"trace": trace, "timeout": {"read": 10.0}}
        )
        raise AssertionError(f"not cancelled: {response}")

    async def main() -> None:
        async with ahttpwire.ConnectionPool(http1=False, http2=True) as pool:
            if runtime == "asyncio":
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await request(pool)
            else:
                with trio.move_on_after(0.5):
                    await request(pool)

    if runtime == "asyncio":
        asyncio.run(main())
    else:
        trio.run(main)
    assert events, "no trace event"
    assert _ended(events) == [], events
    failed = [name for name in events if name.endswith(".failed")]
    expected = "receive_response_headers" if path == "/wait/5" else "receive_response_body"
    assert failed == [f"http2.{expected}.failed"], events
