"""httpwire._h2glue, the I/O-free half of HTTP/2 (issue 11 item 2): one StreamRefused for both
flavours, the h2 versions and internals we rely on pinned (and failing loudly when they
change), and send()'s steps traced with an end event even when the request is cancelled."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import Any

import h2
import h2.connection
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


def test_the_installed_h2_is_in_the_supported_range_and_has_the_internals() -> None:
    low, high = h2glue.SUPPORTED_H2
    version = tuple(int(part) for part in h2.__version__.split(".")[:2])
    assert low <= version < high, h2.__version__
    h2glue.check_h2_internals(h2.connection.H2Connection, h2.__version__)
    # The http2 extra asks for the same range.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    spec = f"h2>={low[0]}.{low[1]},<{high[0]}"
    assert spec in extras["http2"], extras["http2"]


def test_an_h2_without_the_internals_we_use_fails_loudly() -> None:
    class Machine:
        pass  # no _transitions table

    class Renamed:
        def __init__(self) -> None:
            self.state_machine = Machine()  # and no _data_to_send

    with pytest.raises(RuntimeError, match=r"supports h2 >= 4.1, < 5.0") as info:
        h2glue.check_h2_internals(Renamed, "4.3.0")
    assert "_data_to_send is gone" in str(info.value)
    assert "_transitions table is gone" in str(info.value)
    with pytest.raises(RuntimeError, match="version 5.0.0 is outside the supported range"):
        h2glue.check_h2_internals(h2.connection.H2Connection, "5.0.0")


def test_the_goaway_workaround_is_applied_to_each_connection_only() -> None:
    conn = h2glue.new_h2_connection()
    machine = conn.state_machine
    state, inputs = h2glue.H2.ConnectionState, h2glue.H2.ConnectionInputs
    key = (state.CLIENT_OPEN, inputs.RECV_GOAWAY)
    assert machine._transitions[key] == (None, state.CLIENT_OPEN)
    assert type(machine)._transitions[key] != (None, state.CLIENT_OPEN)  # h2's own untouched


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
