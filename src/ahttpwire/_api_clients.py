"""The client of each module-level ``await ahttpwire.get(url)`` and friends (async flavour;
the functions themselves are in ``_api.py``, the source of ``httpwire/_api.py``).

Each call runs a fresh :class:`AsyncClient` and closes it before returning. This is a
deliberate choice: an async client and its pooled connections belong to one event loop (and one
runtime: asyncio or trio), and a process may run several loops one after the other (each
``asyncio.run``) or at once (in threads). A client shared across calls would have to be keyed by
loop and would be left with open sockets when its loop ends, as asyncio has no hook to close
them then. The price is one new connection per call: for more than a handful of requests, use
``async with ahttpwire.Client() as client:`` and reuse connections.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from httpwire._async._client import AsyncClient

__all__ = ["_client"]


def _client(
    cookies: Any,
    auth: Any,
    follow_redirects: bool,
    timeout: Any,
    verify: Any,
    cert: Any,
    http2: bool,
    proxy: Any,
    trust_env: bool,
) -> tuple[AsyncClient, Callable[[], Awaitable[None]]]:
    """A fresh client for one call, and what closes it when the call is done."""
    # One client per call: its connections belong to the running event loop (docs/clients.md).
    client = AsyncClient(
        cookies=cookies,
        auth=auth,
        follow_redirects=follow_redirects,
        timeout=timeout,
        verify=verify,
        cert=cert,
        http2=http2,
        proxy=proxy,
        trust_env=trust_env,
    )
    return client, client.aclose
