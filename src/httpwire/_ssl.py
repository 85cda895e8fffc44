"""TLS settings: the default client context and ``verify=`` handling.

The default context trusts the operating system's store through ``truststore`` and falls back to
``certifi``'s bundle when ``truststore`` cannot be used. It is built once per process (building one
costs milliseconds: loading a CA bundle) and shared by every client and pool that does not bring
its own. ALPN offers ``http/1.1`` (and ``h2`` first for HTTP/2 contexts).
"""

from __future__ import annotations

import os
import ssl
import threading

__all__ = ["default_ssl_context", "create_ssl_context"]

_lock = threading.Lock()
_cache: dict[tuple[bool, bool], ssl.SSLContext] = {}


def _new_verified_context() -> ssl.SSLContext:
    try:
        import truststore

        ctx: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except Exception:  # truststore missing or unusable here: certifi's bundle instead
        import certifi

        ctx = ssl.create_default_context(cafile=certifi.where())
    return ctx


def _finish(ctx: ssl.SSLContext, http2: bool) -> ssl.SSLContext:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["h2", "http/1.1"] if http2 else ["http/1.1"])
    return ctx


def default_ssl_context(*, http2: bool = False, verify: bool = True) -> ssl.SSLContext:
    """The shared default client context (built on first use, then cached for the process).

    ``verify=False`` gives a context that checks neither the certificate chain nor the host name.
    """
    key = (http2, verify)
    ctx = _cache.get(key)
    if ctx is None:
        with _lock:
            ctx = _cache.get(key)
            if ctx is None:
                if verify:
                    ctx = _new_verified_context()
                else:
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                ctx = _cache[key] = _finish(ctx, http2)
    return ctx


def create_ssl_context(
    verify: bool | str | os.PathLike[str] | ssl.SSLContext = True,
    *,
    cert: str | tuple[str, str] | None = None,
    http2: bool = False,
    trust_env: bool = True,
) -> ssl.SSLContext:
    """The context for a ``verify=`` setting.

    - ``True``: the shared default context (system trust store, certifi as fallback).
    - ``False``: no certificate or host name verification (shared too).
    - a path: a CA bundle file, or a directory of hashed CA certificates, to trust instead.
    - an :class:`ssl.SSLContext`: used as it is.

    ``cert`` is a client certificate: a PEM file holding cert and key, or ``(certfile, keyfile)``.
    With ``trust_env`` (default True) and ``SSLKEYLOGFILE`` set in the environment, TLS secrets
    are logged to that file (NSS key log format, for Wireshark), as httpx and curl do; the
    context is then a new one, not the shared default (a given ``SSLContext`` gets no key log).
    Raises ``FileNotFoundError`` when a path does not exist and ``TypeError`` for other values.
    """
    keylog = os.environ.get("SSLKEYLOGFILE") if trust_env else None
    if isinstance(verify, ssl.SSLContext):
        return verify if cert is None else _with_cert(verify, cert)
    elif verify is True or verify is False:
        if cert is None and not keylog:
            return default_ssl_context(http2=http2, verify=verify)
        if verify:  # as the shared default, but a context of its own
            ctx = _finish(_new_verified_context(), http2)
        else:
            ctx = _finish(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), http2)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str | os.PathLike):
        path = os.fspath(verify)
        ctx = _finish(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), http2)
        if os.path.isdir(path):
            ctx.load_verify_locations(capath=path)
        elif os.path.isfile(path):
            ctx.load_verify_locations(cafile=path)
        else:
            raise FileNotFoundError(f"verify={path!r}: no such CA bundle file or directory")
    else:
        raise TypeError(
            f"verify must be a bool, a CA bundle path or an ssl.SSLContext, not {type(verify).__name__}"
        )
    if keylog:
        ctx.keylog_filename = keylog
    return ctx if cert is None else _with_cert(ctx, cert)


def _with_cert(ctx: ssl.SSLContext, cert: str | tuple[str, str]) -> ssl.SSLContext:
    if isinstance(cert, tuple):
        ctx.load_cert_chain(cert[0], cert[1])
    else:
        ctx.load_cert_chain(cert)
    return ctx
