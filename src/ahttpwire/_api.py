"""Module-level ``await ahttpwire.get(url)`` and friends: one request each, with a client
made for the call (``_api_clients._client``) and closed or released when it is done.

The async flavour gives each call a fresh client (its connections belong to the running event
loop); the sync flavour gives each call a fresh client over a connection pool shared by the
whole process (keyed by ``verify``, ``cert``, ``http2`` and ``proxy``), so repeated calls reuse
keep-alive connections. Either way no cookies, auth or other state pass from one call to the
next. Redirects are not followed unless ``follow_redirects=True`` (as ``Client`` and httpx).
For many requests, or to keep cookies between them, use a ``Client`` of your own.

Written once: the async flavour of this module is the source, and the sync flavour is
generated from it by ``scripts/unasync``.
"""

from __future__ import annotations

from typing import Any

from httpwire._config import DEFAULT_TIMEOUT
from httpwire._models import Response
from httpwire._stream_context import AsyncClosingStream, AsyncStreamContext
from httpwire._streams import AsyncByteStream
from httpwire._types import (
    AuthTypes,
    CertTypes,
    CookieTypes,
    HeaderTypes,
    ProxyTypes,
    QueryParamTypes,
    RequestContent,
    RequestData,
    RequestExtensions,
    RequestFiles,
    TimeoutTypes,
    URLTypes,
    VerifyTypes,
)

from ._api_clients import _client

__all__ = ["request", "stream", "get", "options", "head", "post", "put", "patch", "delete"]


async def request(
    method: str,
    url: URLTypes,
    *,
    params: QueryParamTypes = None,
    content: RequestContent | None = None,
    data: RequestData | None = None,
    files: RequestFiles | None = None,
    json: Any = None,
    headers: HeaderTypes = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    follow_redirects: bool = False,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    http2: bool = False,
    proxy: ProxyTypes | None = None,
    trust_env: bool = True,
    extensions: RequestExtensions | None = None,
) -> Response:
    """Send one request and read the response body: ``await ahttpwire.request("GET", url)``.

    Arguments are those of :meth:`AsyncClient.request` plus the client settings ``cookies`` (sent
    with this call and its redirects, then forgotten), ``auth``, ``follow_redirects`` (default
    False), ``timeout`` (default connect 10 s, read/write/pool 60 s), ``verify``, ``cert``,
    ``http2``, ``proxy`` and ``trust_env`` (default True: proxies from ``HTTP_PROXY`` /
    ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY``, see docs/proxies.md). Raises as
    :meth:`AsyncClient.request` does. The response body is read before the call's client is
    closed.
    """
    client, close = _client(
        cookies, auth, follow_redirects, timeout, verify, cert, http2, proxy, trust_env
    )
    try:
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
    finally:
        await close()


def stream(
    method: str,
    url: URLTypes,
    *,
    params: QueryParamTypes = None,
    content: RequestContent | None = None,
    data: RequestData | None = None,
    files: RequestFiles | None = None,
    json: Any = None,
    headers: HeaderTypes = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    follow_redirects: bool = False,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    http2: bool = False,
    proxy: ProxyTypes | None = None,
    trust_env: bool = True,
    extensions: RequestExtensions | None = None,
) -> AsyncStreamContext:
    """``async with ahttpwire.stream("GET", url) as response:`` a response whose body is not
    read yet. Awaiting the result instead gives the response itself, to close or use in a
    block (the seed's form; async flavour only).

    Iterate ``response.aiter_bytes()``; the response is closed when the block ends, and the
    call's client is closed or released with it. The request is sent when the result is
    entered. Arguments as :func:`request`.
    """

    async def send() -> Response:
        client, close = _client(
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
            await close()
            raise
        assert isinstance(response.stream, AsyncByteStream)
        response.stream = AsyncClosingStream(response.stream, close)
        return response

    return AsyncStreamContext(send)


async def get(
    url: URLTypes,
    *,
    params: QueryParamTypes = None,
    headers: HeaderTypes = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    follow_redirects: bool = False,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    http2: bool = False,
    proxy: ProxyTypes | None = None,
    trust_env: bool = True,
    extensions: RequestExtensions | None = None,
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
    url: URLTypes,
    *,
    params: QueryParamTypes = None,
    headers: HeaderTypes = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    follow_redirects: bool = False,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    http2: bool = False,
    proxy: ProxyTypes | None = None,
    trust_env: bool = True,
    extensions: RequestExtensions | None = None,
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
    url: URLTypes,
    *,
    params: QueryParamTypes = None,
    headers: HeaderTypes = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    follow_redirects: bool = False,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    http2: bool = False,
    proxy: ProxyTypes | None = None,
    trust_env: bool = True,
    extensions: RequestExtensions | None = None,
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
    url: URLTypes,
    *,
    params: QueryParamTypes = None,
    headers: HeaderTypes = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    follow_redirects: bool = False,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    http2: bool = False,
    proxy: ProxyTypes | None = None,
    trust_env: bool = True,
    extensions: RequestExtensions | None = None,
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
    url: URLTypes,
    *,
    content: RequestContent | None = None,
    data: RequestData | None = None,
    files: RequestFiles | None = None,
    json: Any = None,
    params: QueryParamTypes = None,
    headers: HeaderTypes = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    follow_redirects: bool = False,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    http2: bool = False,
    proxy: ProxyTypes | None = None,
    trust_env: bool = True,
    extensions: RequestExtensions | None = None,
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
    url: URLTypes,
    *,
    content: RequestContent | None = None,
    data: RequestData | None = None,
    files: RequestFiles | None = None,
    json: Any = None,
    params: QueryParamTypes = None,
    headers: HeaderTypes = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    follow_redirects: bool = False,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    http2: bool = False,
    proxy: ProxyTypes | None = None,
    trust_env: bool = True,
    extensions: RequestExtensions | None = None,
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
    url: URLTypes,
    *,
    content: RequestContent | None = None,
    data: RequestData | None = None,
    files: RequestFiles | None = None,
    json: Any = None,
    params: QueryParamTypes = None,
    headers: HeaderTypes = None,
    cookies: CookieTypes | None = None,
    auth: AuthTypes = None,
    follow_redirects: bool = False,
    timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    verify: VerifyTypes = True,
    cert: CertTypes | None = None,
    http2: bool = False,
    proxy: ProxyTypes | None = None,
    trust_env: bool = True,
    extensions: RequestExtensions | None = None,
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
