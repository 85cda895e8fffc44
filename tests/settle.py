"""``await until(condition, what)``: wait for what a test needs to have happened, not for a time.

Replaces fixed sleeps that "let things settle" (issue 11): the other tasks run one event-loop
turn at a time (asyncio or trio; each turn also polls the network) until ``condition()`` is true.
Bounded in turns, not seconds, and it fails naming ``what`` when the bound is reached.
"""

from __future__ import annotations

from collections.abc import Callable

from httpwire._synchronization import AsyncCheckpoint

# About a second or two of spinning on a loaded machine; far more than any condition here needs.
MAX_TURNS = 200_000


async def until(condition: Callable[[], object], what: str, max_turns: int = MAX_TURNS) -> None:
    checkpoint = AsyncCheckpoint()
    for _ in range(max_turns):
        if condition():
            return
        await checkpoint()
    raise AssertionError(f"never happened within {max_turns} event-loop turns: {what}")
