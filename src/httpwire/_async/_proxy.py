"""Forward proxies for :class:`AsyncConnectionPool` (``proxy=``).

Two ways through an HTTP proxy, chosen by the target's scheme, as httpcore and curl do:

- ``http://`` targets are *forwarded*: the request goes to the proxy with its target in
  absolute-form (``GET http://example.com/path HTTP/1.1``, RFC 9112 section 3.2.2) and the proxy
  headers (``Proxy-Authorization``) added. These connections lead to the proxy, not to a target,
  so they are pooled under the proxy's origin and shared by requests for every target.
- ``https://`` targets go through a *tunnel*: ``CONNECT host:port`` (RFC 9110 section 9.3.6) with
  the proxy headers, then TLS with the target over the tunnel (SNI and certificate checks name
  the target), then HTTP/1.1 or, by ALPN, HTTP/2. The proxy sees only the CONNECT; each tunnel
  is pooled under its target's origin.

A ``socks5://`` proxy tunnels every target, ``http://`` ones too (SOCKS5 CONNECT, RFC 1928, with
RFC 1929 username/password when the proxy has credentials), pooled per target origin.

The CONNECT is an ordinary HTTP/1.1 exchange on a connection of its own (so it is traced as
``connection.connect_tcp`` to the proxy, ``http11.send_request_headers`` ... with the CONNECT
request), after which the stream is handed over to the tunnelled connection.
"""

from __future__ import annotations

import ssl
import typing
from collections.abc import Callable
from typing import Any

from .._backends.base import AsyncNetworkStreamInterface, tls_hostname
from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    WriteError,
    WriteTimeout,
)
from .._headers import Headers
from .._models import Request
from .._origins import Origin
from .._proxies import Proxy
from .._synchronization import AsyncStateLock
from ._connection import AsyncConnection
from ._http11 import AsyncPrefixedStream
from ._protocol import READ_SIZE
from ._trace import AsyncTracer

__all__ = [
    "AsyncTunnelConnection",
    "AsyncSocksConnection",
    "AsyncTLSInTLSStream",
    "forward_request",
    "forward_origin",
]


def forward_origin(proxy: Proxy) -> Origin | None:
    """The pool key of the connections that forward ``http://`` requests: the proxy's origin
    (None for a SOCKS proxy, which tunnels every request)."""
    return proxy.origin if proxy.url.scheme in ("http", "https") else None


def forward_request(request: Request, proxy: Proxy) -> Request:
    """``request`` as it is sent to a forwarding proxy: absolute-form target (RFC 9112 section
    3.2.2: scheme, host, port when not the default, path and query; never userinfo or fragment),
    and the proxy's headers added unless the request sets them itself. The original request is
    left unchanged. ``sni_hostname`` is dropped: the only TLS on this path is to the proxy."""
    extensions = dict(request.extensions)
    extensions.pop("sni_hostname", None)
    if "target" not in extensions:
        url = request.url
        extensions["target"] = b"http://" + url.netloc + url.raw_path
    raw = proxy.raw_headers
    headers = request.headers
    if raw:
        headers = headers.copy()
        for name, value in raw:
            if name.decode("latin-1") not in headers:
                headers[name] = value
    return Request(
        request.method, request.url, headers=headers, stream=request.stream, extensions=extensions
    )


def _authority(origin: Origin) -> str:
    _scheme, host, port = origin
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class AsyncTunnelConnection(AsyncConnection):
    """A connection to ``origin`` (an https target) through a CONNECT tunnel of ``proxy``.

    Behaves as :class:`AsyncConnection` once connected (HTTP/1.1, or HTTP/2 by ALPN); only the
    way its stream is opened differs. Raises ``ProxyError`` when the proxy refuses the CONNECT
    (any non-2xx status, named in the message), and the usual transport errors of the hop to
    the proxy (``ConnectError``, ``ConnectTimeout``, ``ReadTimeout``, ``RemoteProtocolError``...),
    which the ``timeout`` extension and ``timeout()`` blocks bound as for a direct connection.
    """

    def __init__(self, origin: Origin, *, proxy: Proxy, **kwargs: Any) -> None:
        super().__init__(origin, **kwargs)
        self._proxy = proxy

    async def _connect(
        self, request: Request, tracer: AsyncTracer | None
    ) -> AsyncNetworkStreamInterface:
        proxy = self._proxy
        # The hop to the proxy is a connection of its own: TCP (or the pool's UNIX socket), TLS
        # when the proxy URL is https://, then the CONNECT exchange.
        hop = AsyncConnection(
            proxy.origin, ssl_context=proxy.ssl_context, **self._network_options()
        )
        extensions: dict[str, Any] = {}
        for key in ("timeout", "trace"):
            if key in request.extensions:
                extensions[key] = request.extensions[key]
        authority = _authority(self.origin)
        headers = Headers(proxy.raw_headers)
        headers["Host"] = authority
        try:
            stream = await hop.upgrade("CONNECT", authority, headers, extensions=extensions)
        except BaseException:
            await hop.aclose()
            raise
        if isinstance(stream, AsyncPrefixedStream):
            # Bytes after the 2xx head, before our TLS ClientHello: not a tunnel we can use.
            try:
                await stream.aclose()
            except Exception:  # closing is best effort: the proxy may be gone already
                pass
            raise ProxyError(
                f"the proxy sent data after accepting CONNECT {authority}, before the TLS handshake"
            )
        start_tls = None
        if proxy.url.scheme == "https":
            # TLS inside the TLS to the proxy: done here with memory BIOs, the same way in
            # every flavour (a socket-level start_tls would wrap the socket, not the stream).
            start_tls = AsyncTLSInTLSStream(stream).start_tls
        return await self._start_tls(stream, request, tracer, start_tls)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]} via {self._proxy.url}>"


class AsyncTLSInTLSStream(AsyncNetworkStreamInterface):
    """TLS over another network stream, with ``ssl.MemoryBIO`` (for https targets through an
    ``https://`` proxy, where the stream below is itself TLS to the proxy).

    ``start_tls(ssl_context, server_hostname, timeout)`` runs the handshake and returns this
    stream; ``read`` / ``write`` then carry the inner TLS session. Errors are the backends':
    ``ConnectError`` / ``ConnectTimeout`` during the handshake, ``ReadError`` / ``WriteError``
    (and the timeouts of the stream below) afterwards. ``get_extra_info("ssl_object")`` is the
    inner session's ``ssl.SSLObject``; other keys are the stream below's.
    """

    def __init__(self, stream: AsyncNetworkStreamInterface) -> None:
        self._stream = stream
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._ssl: ssl.SSLObject | None = None
        # Guards the SSLObject between threads in the sync flavour (never held across I/O).
        self._lock = AsyncStateLock()

    async def _run(self, fn: Callable[..., Any], *args: Any, timeout: float | None) -> Any:
        """Call an ``SSLObject`` method until it no longer needs bytes from the peer, writing
        out whatever TLS records it produces."""
        while True:
            want_read = False
            with self._lock:
                try:
                    result = fn(*args)
                except ssl.SSLWantReadError:
                    want_read = True
                out = self._outgoing.read()
            if out:
                await self._stream.write(out, timeout)
            if not want_read:
                return result
            data = await self._stream.read(READ_SIZE, timeout)
            with self._lock:
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        hostname: str | bytes | None = None,
        timeout: float | None = None,
        *,
        server_hostname: str | bytes | None = None,
    ) -> AsyncNetworkStreamInterface:
        server_hostname = tls_hostname(hostname, server_hostname)
        if self._ssl is not None:
            raise RuntimeError("TLS is already running on this stream")
        self._ssl = ssl_context.wrap_bio(
            self._incoming, self._outgoing, server_hostname=server_hostname
        )
        try:
            await self._run(self._ssl.do_handshake, timeout=timeout)
        except (ReadTimeout, WriteTimeout) as exc:
            await self.aclose()
            raise ConnectTimeout(f"TLS handshake through the proxy timed out: {exc}") from exc
        except (ssl.SSLError, ReadError, WriteError) as exc:
            await self.aclose()
            raise ConnectError(
                f"TLS handshake with {server_hostname} through the proxy failed: {exc}"
            ) from exc
        except BaseException:
            await self.aclose()
            raise
        return self

    async def read(self, max_bytes: int | None = None, timeout: float | None = None) -> bytes:
        assert self._ssl is not None, "start_tls() first"
        try:
            return typing.cast(
                bytes, await self._run(self._ssl.read, max_bytes or READ_SIZE, timeout=timeout)
            )
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""  # close_notify, or the peer closed without one: end of stream
        except ssl.SSLError as exc:
            raise ReadError(f"TLS error through the proxy: {exc}") from exc

    async def write(self, data: bytes, timeout: float | None = None) -> None:
        assert self._ssl is not None, "start_tls() first"
        view = memoryview(data)
        try:
            while view:
                written = await self._run(self._ssl.write, view, timeout=timeout)
                view = view[written:]
        except ssl.SSLError as exc:
            raise WriteError(f"TLS error through the proxy: {exc}") from exc

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._ssl
        if info == "is_readable":
            ssl_object = self._ssl
            if ssl_object is not None and ssl_object.pending():
                return True
        return self._stream.get_extra_info(info)

    async def aclose(self) -> None:
        await self._stream.aclose()

    def __repr__(self) -> str:
        return f"<TLS in {self._stream!r}>"


class AsyncSocksConnection(AsyncConnection):
    """A connection to ``origin`` (http or https) through a SOCKS5 proxy (RFC 1928).

    The target's host name is sent to the proxy as is (the proxy resolves it, for ``socks5://``
    and ``socks5h://`` alike, as httpx does); ``proxy.auth`` is offered as username/password
    (RFC 1929). Then TLS with the target for https, and HTTP as on a direct connection. Raises
    ``ProxyError`` when the proxy refuses (no acceptable authentication method, bad credentials,
    a failed CONNECT: the reply code is named) or answers something that is not SOCKS5,
    ``RemoteProtocolError`` when it closes the connection during the handshake, and the usual
    connect / read / write errors and timeouts of the hop.
    """

    def __init__(self, origin: Origin, *, proxy: Proxy, **kwargs: Any) -> None:
        super().__init__(origin, **kwargs)
        self._proxy = proxy

    async def _connect(
        self, request: Request, tracer: AsyncTracer | None
    ) -> AsyncNetworkStreamInterface:
        _scheme, proxy_host, proxy_port = self._proxy.origin
        # TCP to the proxy, with the pool's retries, local address and socket options.
        hop = AsyncConnection(("http", proxy_host, proxy_port), **self._network_options())
        stream = await hop._connect(request, tracer)
        try:
            timeouts = request.extensions.get("timeout") or {}
            scheme, host, port = self.origin
            if tracer is None:
                await self._handshake(stream, timeouts)
            else:
                info = {"stream": stream, "host": host, "port": port}
                await tracer.call(
                    "setup_socks5_connection", info, self._handshake, stream, timeouts
                )
        except BaseException:
            try:
                await stream.aclose()
            except Exception:  # closing is best effort: the proxy may be gone already
                pass
            raise
        if scheme != "https":
            return stream
        return await self._start_tls(stream, request, tracer)

    async def _handshake(self, stream: AsyncNetworkStreamInterface, timeouts: Any) -> None:
        from socksio import ProtocolError as SocksProtocolError
        from socksio import socks5

        read_timeout = timeouts.get("read")
        write_timeout = timeouts.get("write")

        async def read_exactly(n: int, stage: str) -> bytes:
            # socksio parses whole messages only: read exactly one, never past it (the bytes
            # after the reply belong to the tunnel).
            data = b""
            while len(data) < n:
                chunk = await stream.read(n - len(data), read_timeout)
                if not chunk:
                    raise RemoteProtocolError(f"the SOCKS5 proxy closed the connection {stage}")
                data += chunk
            return data

        conn = socks5.SOCKS5Connection()
        auth = self._proxy.auth
        method = (
            socks5.SOCKS5AuthMethod.USERNAME_PASSWORD
            if auth is not None
            else socks5.SOCKS5AuthMethod.NO_AUTH_REQUIRED
        )
        host, port = self.origin[1], self.origin[2]
        try:
            conn.send(socks5.SOCKS5AuthMethodsRequest([method]))
            await stream.write(conn.data_to_send(), write_timeout)
            reply: Any = conn.receive_data(
                await read_exactly(2, "before choosing an authentication method")
            )
            if reply.method != method:
                raise ProxyError(
                    f"the SOCKS5 proxy accepts none of our authentication methods"
                    f" (offered {method.name}, got {reply.method.name})"
                )
            if auth is not None:
                user = auth[0].encode() if isinstance(auth[0], str) else auth[0]
                password = auth[1].encode() if isinstance(auth[1], str) else auth[1]
                conn.send(socks5.SOCKS5UsernamePasswordRequest(user, password))
                await stream.write(conn.data_to_send(), write_timeout)
                reply = conn.receive_data(
                    await read_exactly(2, "after our username and password (rejected?)")
                )
                if not reply.success:
                    raise ProxyError("the SOCKS5 proxy rejected the username and password")
            conn.send(
                socks5.SOCKS5CommandRequest.from_address(socks5.SOCKS5Command.CONNECT, (host, port))
            )
            await stream.write(conn.data_to_send(), write_timeout)
            # VER REP RSV ATYP, then the bound address (its length depends on ATYP) and port.
            stage = f"before answering CONNECT {_authority(self.origin)}"
            head = await read_exactly(5, stage)
            atype = head[3]
            rest = {1: 4 - 1, 4: 16 - 1, 3: head[4]}.get(atype)
            if rest is None:
                raise ProxyError(f"malformed SOCKS5 reply from the proxy: {head!r}")
            reply = conn.receive_data(head + await read_exactly(rest + 2, stage))
            if reply.reply_code != socks5.SOCKS5ReplyCode.SUCCEEDED:
                raise ProxyError(
                    f"the SOCKS5 proxy refused CONNECT {_authority(self.origin)}:"
                    f" {reply.reply_code.name}"
                )
        except SocksProtocolError as exc:
            raise ProxyError(f"malformed SOCKS5 reply from the proxy: {exc}") from exc

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]} via {self._proxy.url}>"
