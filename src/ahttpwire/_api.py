"""Module-level ``await ahttpwire.get(url)`` and friends (async flavour).

Each call runs a fresh :class:`AsyncClient` inside ``async with`` and closes it before
returning. This is a deliberate choice: an async client and its pooled connections belong to
one event loop (and one runtime: asyncio or trio), and a process may run several loops one after
the other (each ``asyncio.run``) or at once (in threads). A client shared across calls would
have to be keyed by loop and would be left with open sockets when its loop ends, as asyncio has
no hook to close them then. The price is one new connection per call: for more than a handful of
requests, use ``async with ahttpwire.Client() as client:`` and reuse connections.

Redirects are not followed unless ``follow_redirects=True`` (as ``Client`` and httpx).
"""

from __future__ import annotations

from typing import Any

from httpwire._async._client import AsyncClient
from httpwire._config import DEFAULT_TIMEOUT
from httpwire._models import Response
from httpwire._stream_context import AsyncClosingStream, AsyncStreamContext
from httpwire._streams import AsyncByteStream

__all__ = ["request", "stream", "get", "options", "head", "post", "put", "patch", "delete"]


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
) -> AsyncClient:
    # One client per call: its connections belong to the running event loop (docs/clients.md).
    return AsyncClient(
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


async def request(
    method: str,
    url: Any,
    *,
    params: Any = None,
    content: Any = None,
    data: Any = None,
    files: Any = None,
    json: Any = None,
    headers: Any = None,
    cookies: Any = None,
    auth: Any = None,
    follow_redirects: bool = False,
    timeout: Any = DEFAULT_TIMEOUT,
    verify: Any = True,
    cert: Any = None,
    http2: bool = False,
    proxy: Any = None,
    trust_env: bool = True,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """Send one request and read the response body: ``await ahttpwire.request("GET", url)``.

    Arguments are those of :meth:`AsyncClient.request` plus the client settings ``cookies``,
    ``auth``, ``follow_redirects`` (default False), ``timeout`` (default connect 10 s,
    read/write/pool 60 s), ``verify``, ``cert``, ``http2``, ``proxy`` and ``trust_env`` (default
    True: proxies from ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY``, see
    docs/proxies.md). Raises as :meth:`AsyncClient.request` does. The response body is read
    before the client is closed.
    """
    async with _client(
        cookies, auth, follow_redirects, timeout, verify, cert, http2, proxy, trust_env
    ) as client:
        return await client.request(
            method,
            url,
            params=params,
            content=content,
            data=data,
            files=files,
            json=json,
            headers=headers,
            extensions=extensions,
        )


def stream(
    method: str,
    url: Any,
    *,
    params: Any = None,
    content: Any = None,
    data: Any = None,
    files: Any = None,
    json: Any = None,
    headers: Any = None,
    cookies: Any = None,
    auth: Any = None,
    follow_redirects: bool = False,
    timeout: Any = DEFAULT_TIMEOUT,
    verify: Any = True,
    cert: Any = None,
    http2: bool = False,
    proxy: Any = None,
    trust_env: bool = True,
    extensions: dict[str, Any] | None = None,
) -> AsyncStreamContext:
    """``async with ahttpwire.stream("GET", url) as response:`` (or ``async with await
    ahttpwire.stream(...)``, the seed's form) a response not read yet.

    Iterate ``response.aiter_bytes()``; the response and its one-off client are closed when the
    block ends (or when an awaited response is closed). Arguments as :func:`request`.
    """

    async def send() -> Response:
        client = _client(
            cookies, auth, follow_redirects, timeout, verify, cert, http2, proxy, trust_env
        )
        try:
            request = client.build_request(
                method,
                url,
                params=params,
                content=content,
                data=data,
                files=files,
                json=json,
                headers=headers,
                extensions=extensions,
            )
            response = await client.send(request, stream=True)
        except BaseException:
            await client.aclose()
            raise
        assert isinstance(response.stream, AsyncByteStream)
        response.stream = AsyncClosingStream(response.stream, client.aclose)
        return response

    return AsyncStreamContext(send)


async def get(
    url: Any,
    *,
    params: Any = None,
    headers: Any = None,
    cookies: Any = None,
    auth: Any = None,
    follow_redirects: bool = False,
    timeout: Any = DEFAULT_TIMEOUT,
    verify: Any = True,
    cert: Any = None,
    http2: bool = False,
    proxy: Any = None,
    trust_env: bool = True,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """``GET url``; see :func:`request`."""
    return await request(
        "GET",
        url,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        follow_redirects=follow_redirects,
        timeout=timeout,
        verify=verify,
        cert=cert,
        http2=http2,
        proxy=proxy,
        trust_env=trust_env,
        extensions=extensions,
    )


async def options(
    url: Any,
    *,
    params: Any = None,
    headers: Any = None,
    cookies: Any = None,
    auth: Any = None,
    follow_redirects: bool = False,
    timeout: Any = DEFAULT_TIMEOUT,
    verify: Any = True,
    cert: Any = None,
    http2: bool = False,
    proxy: Any = None,
    trust_env: bool = True,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """``OPTIONS url``; see :func:`request`."""
    return await request(
        "OPTIONS",
        url,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        follow_redirects=follow_redirects,
        timeout=timeout,
        verify=verify,
        cert=cert,
        http2=http2,
        proxy=proxy,
        trust_env=trust_env,
        extensions=extensions,
    )


async def head(
    url: Any,
    *,
    params: Any = None,
    headers: Any = None,
    cookies: Any = None,
    auth: Any = None,
    follow_redirects: bool = False,
    timeout: Any = DEFAULT_TIMEOUT,
    verify: Any = True,
    cert: Any = None,
    http2: bool = False,
    proxy: Any = None,
    trust_env: bool = True,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """``HEAD url``; see :func:`request`."""
    return await request(
        "HEAD",
        url,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        follow_redirects=follow_redirects,
        timeout=timeout,
        verify=verify,
        cert=cert,
        http2=http2,
        proxy=proxy,
        trust_env=trust_env,
        extensions=extensions,
    )


async def delete(
    url: Any,
    *,
    params: Any = None,
    headers: Any = None,
    cookies: Any = None,
    auth: Any = None,
    follow_redirects: bool = False,
    timeout: Any = DEFAULT_TIMEOUT,
    verify: Any = True,
    cert: Any = None,
    http2: bool = False,
    proxy: Any = None,
    trust_env: bool = True,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """``DELETE url``; see :func:`request`."""
    return await request(
        "DELETE",
        url,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        follow_redirects=follow_redirects,
        timeout=timeout,
        verify=verify,
        cert=cert,
        http2=http2,
        proxy=proxy,
        trust_env=trust_env,
        extensions=extensions,
    )


async def post(
    url: Any,
    *,
    content: Any = None,
    data: Any = None,
    files: Any = None,
    json: Any = None,
    params: Any = None,
    headers: Any = None,
    cookies: Any = None,
    auth: Any = None,
    follow_redirects: bool = False,
    timeout: Any = DEFAULT_TIMEOUT,
    verify: Any = True,
    cert: Any = None,
    http2: bool = False,
    proxy: Any = None,
    trust_env: bool = True,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """``POST url`` with a body; see :func:`request`."""
    return await request(
        "POST",
        url,
        content=content,
        data=data,
        files=files,
        json=json,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        follow_redirects=follow_redirects,
        timeout=timeout,
        verify=verify,
        cert=cert,
        http2=http2,
        proxy=proxy,
        trust_env=trust_env,
        extensions=extensions,
    )


async def put(
    url: Any,
    *,
    content: Any = None,
    data: Any = None,
    files: Any = None,
    json: Any = None,
    params: Any = None,
    headers: Any = None,
    cookies: Any = None,
    auth: Any = None,
    follow_redirects: bool = False,
    timeout: Any = DEFAULT_TIMEOUT,
    verify: Any = True,
    cert: Any = None,
    http2: bool = False,
    proxy: Any = None,
    trust_env: bool = True,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """``PUT url`` with a body; see :func:`request`."""
    return await request(
        "PUT",
        url,
        content=content,
        data=data,
        files=files,
        json=json,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        follow_redirects=follow_redirects,
        timeout=timeout,
        verify=verify,
        cert=cert,
        http2=http2,
        proxy=proxy,
        trust_env=trust_env,
        extensions=extensions,
    )


async def patch(
    url: Any,
    *,
    content: Any = None,
    data: Any = None,
    files: Any = None,
    json: Any = None,
    params: Any = None,
    headers: Any = None,
    cookies: Any = None,
    auth: Any = None,
    follow_redirects: bool = False,
    timeout: Any = DEFAULT_TIMEOUT,
    verify: Any = True,
    cert: Any = None,
    http2: bool = False,
    proxy: Any = None,
    trust_env: bool = True,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """``PATCH url`` with a body; see :func:`request`."""
    return await request(
        "PATCH",
        url,
        content=content,
        data=data,
        files=files,
        json=json,
        params=params,
        headers=headers,
        cookies=cookies,
        auth=auth,
        follow_redirects=follow_redirects,
        timeout=timeout,
        verify=verify,
        cert=cert,
        http2=http2,
        proxy=proxy,
        trust_env=trust_env,
        extensions=extensions,
    )
