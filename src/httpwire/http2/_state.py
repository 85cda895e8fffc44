"""The stream state machine of RFC 9113 section 5.1, client side, as a lookup table.

Push is off (we send SETTINGS_ENABLE_PUSH = 0), so the reserved states never occur.  Inputs are
what happens on the stream: we send HEADERS, DATA, END_STREAM or RST_STREAM, or receive them.
:data:`TRANSITIONS` maps ``state * 16 + input`` (one int: no tuple per frame) to the new state;
a missing key is a frame the state does not allow.  Who reports what when a key is missing (a
connection error, a stream error of type STREAM_CLOSED, a local usage error) is up to the caller,
as RFC 9113 section 5.1 assigns it.
"""

from __future__ import annotations

__all__ = [
    "IDLE",
    "OPEN",
    "HALF_CLOSED_LOCAL",
    "HALF_CLOSED_REMOTE",
    "CLOSED",
    "STATE_NAMES",
    "SEND_HEADERS",
    "SEND_DATA",
    "SEND_END_STREAM",
    "SEND_RST_STREAM",
    "RECV_HEADERS",
    "RECV_DATA",
    "RECV_END_STREAM",
    "RECV_RST_STREAM",
    "TRANSITIONS",
    "transition",
]

IDLE = 0
OPEN = 1
HALF_CLOSED_LOCAL = 2
HALF_CLOSED_REMOTE = 3
CLOSED = 4
STATE_NAMES = ("IDLE", "OPEN", "HALF_CLOSED_LOCAL", "HALF_CLOSED_REMOTE", "CLOSED")

SEND_HEADERS = 0
SEND_DATA = 1
SEND_END_STREAM = 2
SEND_RST_STREAM = 3
RECV_HEADERS = 4
RECV_DATA = 5
RECV_END_STREAM = 6
RECV_RST_STREAM = 7

_TABLE: dict[tuple[int, int], int] = {
    # We open the stream with HEADERS (END_STREAM is a separate input, applied right after).
    (IDLE, SEND_HEADERS): OPEN,
    (OPEN, SEND_HEADERS): OPEN,  # trailers (followed by SEND_END_STREAM)
    (OPEN, SEND_DATA): OPEN,
    (OPEN, SEND_END_STREAM): HALF_CLOSED_LOCAL,
    (OPEN, RECV_HEADERS): OPEN,
    (OPEN, RECV_DATA): OPEN,
    (OPEN, RECV_END_STREAM): HALF_CLOSED_REMOTE,
    (OPEN, SEND_RST_STREAM): CLOSED,
    (OPEN, RECV_RST_STREAM): CLOSED,
    (HALF_CLOSED_LOCAL, RECV_HEADERS): HALF_CLOSED_LOCAL,
    (HALF_CLOSED_LOCAL, RECV_DATA): HALF_CLOSED_LOCAL,
    (HALF_CLOSED_LOCAL, RECV_END_STREAM): CLOSED,
    (HALF_CLOSED_LOCAL, SEND_RST_STREAM): CLOSED,
    (HALF_CLOSED_LOCAL, RECV_RST_STREAM): CLOSED,
    (HALF_CLOSED_REMOTE, SEND_HEADERS): HALF_CLOSED_REMOTE,
    (HALF_CLOSED_REMOTE, SEND_DATA): HALF_CLOSED_REMOTE,
    (HALF_CLOSED_REMOTE, SEND_END_STREAM): CLOSED,
    (HALF_CLOSED_REMOTE, SEND_RST_STREAM): CLOSED,
    (HALF_CLOSED_REMOTE, RECV_RST_STREAM): CLOSED,
}

TRANSITIONS: dict[int, int] = {state * 16 + event: new for (state, event), new in _TABLE.items()}


def transition(state: int, event: int) -> int | None:
    """The state after ``event`` in ``state``, or None if the state does not allow it."""
    return TRANSITIONS.get(state * 16 + event)
