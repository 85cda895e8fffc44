"""The clients of the module-level ``httpwire.get(url)`` and friends (sync flavour; the
functions themselves are in ``_api.py``, generated from ``ahttpwire/_api.py``).

Each call uses a fresh, cheap :class:`Client` (so no cookies, auth or other state leak from one
call to the next, as with ``requests.get``) on top of a connection pool that is shared by every
call in the process, so repeated calls to the same host reuse keep-alive connections.

- The shared pool is created lazily, on first use, under a lock (safe from many threads), and
  closed at interpreter exit. A child process made by ``os.fork()`` starts with a fresh one
  (sockets inherited from the parent are never reused).
- ``verify``, ``cert``, ``http2`` and ``proxy`` select the pool: each distinct combination of
  plain values gets its own shared pool (at most a few); a combination that cannot serve as a key
  (an ``ssl.SSLContext`` for ``verify``, a ``Proxy`` object) gets a pool for that one call, closed
  after it.
- ``trust_env`` (default True): without ``proxy``, the proxy environment variables are read on
  each call (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``; docs/proxies.md) and
  each proxy they name gets its shared pool too.
- Redirects are not followed unless ``follow_redirects=True`` (as ``Client`` and httpx).

For many requests, or to keep cookies between them, use a ``Client`` of your own.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from typing import Any

from ._config import env_proxies
from ._ssl import create_ssl_context
from ._sync._client import Client
from ._sync._pool import ConnectionPool
from ._urls import URL

__all__ = ["_client"]

_MAX_SHARED_POOLS = 8

_lock = threading.Lock()
_pools: dict[tuple[Any, ...], ConnectionPool] = {}


def _pool_key(verify: Any, cert: Any, http2: bool, proxy: Any) -> tuple[Any, ...] | None:
    if not (verify is True or verify is False or isinstance(verify, str)):
        return None
    if not (cert is None or isinstance(cert, str | tuple)) or not (
        proxy is None or isinstance(proxy, str | URL)
    ):
        return None
    return (verify, cert, bool(http2), str(proxy) if proxy is not None else None)


def _new_pool(verify: Any, cert: Any, http2: bool, proxy: Any) -> ConnectionPool:
    return ConnectionPool(
        ssl_context=create_ssl_context(verify, cert=cert, http2=http2), http2=http2, proxy=proxy
    )


def _shared_pool(verify: Any, cert: Any, http2: bool, proxy: Any) -> ConnectionPool | None:
    """The shared pool for these settings, or None when the call needs a one-off pool."""
    key = _pool_key(verify, cert, http2, proxy)
    if key is None:
        return None
    pool = _pools.get(key)
    if pool is None:
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                if len(_pools) >= _MAX_SHARED_POOLS:
                    return None
                pool = _pools[key] = _new_pool(verify, cert, http2, proxy)
    return pool


def _close_pools() -> None:
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        try:
            pool.close()
        except Exception:  # noqa: BLE001 - at exit, a failing close must not hide others
            pass


def _forget_pools_after_fork() -> None:
    # The child must not share sockets with its parent: drop the pools without closing (closing
    # could send a TLS close_notify on the parent's connections); a new lock too, as the parent
    # may have held it while forking.
    global _lock
    _lock = threading.Lock()
    _pools.clear()


atexit.register(_close_pools)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_after_fork)


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
) -> tuple[Client, Callable[[], None]]:
    """A per-call client over a shared pool, and what to call when the call is done (closes
    the client when its pools are one-offs, else nothing: the shared pools stay open)."""
    env = env_proxies() if proxy is None and trust_env else None
    pool = _shared_pool(verify, cert, http2, proxy)
    proxy_pools: dict[str, ConnectionPool] = {}
    if pool is not None and env is not None:
        for url in env.urls:
            proxy_pool = _shared_pool(verify, cert, http2, url)
            if proxy_pool is None:  # too many shared pools: this call gets its own
                pool = None
                break
            proxy_pools[url] = proxy_pool
    if pool is None:
        client = Client(
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
        return client, client.close
    client = Client(
        cookies=cookies,
        auth=auth,
        follow_redirects=follow_redirects,
        timeout=timeout,
        transport=pool,
        trust_env=trust_env,  # .netrc credentials (the pool decides the proxies)
    )
    if env is not None:
        client._use_env_proxies(env, proxy_pools)
    return client, _keep_shared


def _keep_shared() -> None:
    """The end of a call over shared pools: nothing to close."""
