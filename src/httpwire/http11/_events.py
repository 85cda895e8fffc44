"""The events of an HTTP/1.1 conversation (h11-compatible).

Events are immutable, slotted objects; fields are ``bytes`` after normalisation (``str`` input
is encoded as ASCII, like h11).  The parser builds them through ``_make_*`` helpers that skip
re-validating what it has already validated.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from operator import attrgetter
from typing import Any

from ._abnf import HTTP_VERSION_RE, TCHAR, VCHAR
from ._headers import (
    EMPTY_HEADERS,
    F_HOST,
    F_MULTI_HOST,
    HeaderInput,
    Headers,
    normalize_and_validate,
)
from ._util import LocalProtocolError, bytesify

__all__ = [
    "Event",
    "Request",
    "InformationalResponse",
    "Response",
    "Data",
    "EndOfMessage",
    "ConnectionClosed",
]

_setattr = object.__setattr__
_new = object.__new__


class _ReadOnly(property):
    """A read-only event field: reads are C-level; assigning or deleting raises
    ``FrozenInstanceError`` like a frozen dataclass."""

    def __set__(self, obj: Any, value: Any) -> None:
        raise FrozenInstanceError("cannot assign to field")

    def __delete__(self, obj: Any) -> None:
        raise FrozenInstanceError("cannot delete field")


class Event:
    """Base class of every event; do not subclass the concrete events."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({fields})"


# str methods callers commonly pass (httpwire's connection layer passes str), pre-encoded.
_METHODS = {
    m: m.encode() for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT")
}
_METHOD_BYTES = frozenset(_METHODS.values())


def _check_version(http_version: bytes) -> None:
    if HTTP_VERSION_RE.fullmatch(http_version) is None:
        raise LocalProtocolError(f"Illegal HTTP version {http_version!r}")


class _Frozen(Event):
    # Refuses every assignment; fields are set through the slot descriptors.  (Data does
    # without this: see there.)
    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


class Request(_Frozen):
    """The start of a request: ``method``, ``target``, ``headers``, ``http_version`` (bytes).

    Raises :class:`LocalProtocolError` for a method that is not a token, a target with bytes
    outside VCHAR (RFC 9112 §3.2), an HTTP/1.1 request without exactly one Host field
    (RFC 9112 §3.2), or bad headers (see :func:`normalize_and_validate`).
    """

    __slots__ = ("method", "headers", "target", "http_version")
    _fields = ("method", "headers", "target", "http_version")

    method: bytes
    headers: Headers
    target: bytes
    http_version: bytes

    def __init__(
        self,
        *,
        method: bytes | str,
        headers: Headers | HeaderInput,
        target: bytes | str,
        http_version: bytes | str = b"1.1",
        _parsed: bool = False,
    ) -> None:
        h = headers if type(headers) is Headers else normalize_and_validate(headers)
        if type(method) is not bytes:
            m = _METHODS.get(method) if type(method) is str else None
            method = m if m is not None else bytesify(method)
        if type(target) is not bytes:
            target = bytesify(target)
        if type(http_version) is not bytes:
            http_version = bytesify(http_version)
        if method not in _METHOD_BYTES and (not method or method.translate(None, TCHAR)):
            raise LocalProtocolError("Illegal method characters")
        if not target or target.translate(None, VCHAR):
            raise LocalProtocolError("Illegal target characters")
        if http_version != b"1.1":
            _check_version(http_version)
        flags = h._flags
        if flags & (F_HOST | F_MULTI_HOST) != F_HOST:
            if flags & F_MULTI_HOST:
                raise LocalProtocolError("Found multiple Host: headers")
            if http_version == b"1.1":
                raise LocalProtocolError("Missing mandatory Host: header")
        _set_req_method(self, method)
        _set_req_headers(self, h)
        _set_req_target(self, target)
        _set_req_version(self, http_version)


class _ResponseBase(_Frozen):
    __slots__ = ("headers", "http_version", "reason", "status_code")
    _fields = ("headers", "http_version", "reason", "status_code")

    headers: Headers
    http_version: bytes
    reason: bytes
    status_code: int

    def __init__(
        self,
        *,
        headers: Headers | HeaderInput,
        status_code: int,
        http_version: bytes | str = b"1.1",
        reason: bytes | str = b"",
        _parsed: bool = False,
    ) -> None:
        h = headers if type(headers) is Headers else normalize_and_validate(headers)
        if type(reason) is not bytes:
            reason = bytesify(reason)
        if type(http_version) is not bytes:
            http_version = bytesify(http_version)
        if http_version != b"1.1":
            _check_version(http_version)
        if type(status_code) is not int:
            if not isinstance(status_code, int):
                raise LocalProtocolError("status code must be integer")
            # IntEnum (http.HTTPStatus) is an int but reprs differently; store a plain int.
            status_code = int(status_code)
        self._check_status(status_code)
        _set_resp_headers(self, h)
        _set_resp_version(self, http_version)
        _set_resp_reason(self, reason)
        _set_resp_status(self, status_code)

    @staticmethod
    def _check_status(status_code: int) -> None:
        pass


class InformationalResponse(_ResponseBase):
    """A 1xx response: ``status_code`` in [100, 200), ``headers``, ``http_version``, ``reason``.

    Raises :class:`LocalProtocolError` for a status code outside [100, 200).
    """

    __slots__ = ()

    @staticmethod
    def _check_status(status_code: int) -> None:
        if not 100 <= status_code < 200:
            raise LocalProtocolError(
                f"InformationalResponse status_code should be in range [100, 200), not {status_code}"
            )


class Response(_ResponseBase):
    """The start of a final response: ``status_code`` in [200, 1000), ``headers``,
    ``http_version``, ``reason`` (bytes, may be empty).

    Raises :class:`LocalProtocolError` for a status code outside [200, 1000).
    """

    __slots__ = ()

    @staticmethod
    def _check_status(status_code: int) -> None:
        if not 200 <= status_code < 1000:
            raise LocalProtocolError(
                f"Response status_code should be in range [200, 1000), not {status_code}"
            )


class Data(Event):
    """A piece of a message body.

    ``data`` is ``bytes`` when produced by the parser (h11 gives a ``bytearray``); when sending,
    any object with ``len()`` is passed through untouched (see
    ``Connection.send_with_data_passthrough``).  ``chunk_start`` / ``chunk_end`` mark chunk
    boundaries of a chunked body on receive and are ignored on send.
    """

    # The most frequent event, so built the cheapest way: the values live in private slots
    # that the parser fills with plain stores (no __setattr__ override anywhere in the class
    # hierarchy, so those stores stay on CPython's fast path), and the public names are
    # read-only properties: assigning to them raises FrozenInstanceError all the same.
    __slots__ = ("_data", "_chunk_start", "_chunk_end")
    _fields = ("data", "chunk_start", "chunk_end")

    data: bytes = _ReadOnly(attrgetter("_data"))  # type: ignore[assignment]
    chunk_start: bool = _ReadOnly(attrgetter("_chunk_start"))  # type: ignore[assignment]
    chunk_end: bool = _ReadOnly(attrgetter("_chunk_end"))  # type: ignore[assignment]

    def __init__(self, data: bytes, chunk_start: bool = False, chunk_end: bool = False) -> None:
        self._data = data
        self._chunk_start = chunk_start
        self._chunk_end = chunk_end


class EndOfMessage(_Frozen):
    """The end of a message; ``headers`` holds the trailer fields (empty unless chunked)."""

    __slots__ = ("headers",)
    _fields = ("headers",)

    headers: Headers

    def __init__(
        self, *, headers: Headers | HeaderInput | None = None, _parsed: bool = False
    ) -> None:
        _set_eom_headers(
            self, EMPTY_HEADERS if headers is None else normalize_and_validate(headers)
        )


class ConnectionClosed(_Frozen):
    """The peer closed its sending side (or we are about to close ours)."""

    __slots__ = ()


# -- fast constructors for the parser: the inputs are already validated ----------------------
# Events refuse attribute assignment, so fields are stored through the slots' own descriptors
# (cheaper than object.__setattr__, which looks the name up first).

_set_req_method = Request.__dict__["method"].__set__
_set_req_headers = Request.__dict__["headers"].__set__
_set_req_target = Request.__dict__["target"].__set__
_set_req_version = Request.__dict__["http_version"].__set__
_set_resp_headers = _ResponseBase.__dict__["headers"].__set__
_set_resp_version = _ResponseBase.__dict__["http_version"].__set__
_set_resp_reason = _ResponseBase.__dict__["reason"].__set__
_set_resp_status = _ResponseBase.__dict__["status_code"].__set__
_set_eom_headers = EndOfMessage.__dict__["headers"].__set__


def _make_request(method: bytes, headers: Headers, target: bytes, http_version: bytes) -> Request:
    e = _new(Request)
    _set_req_method(e, method)
    _set_req_headers(e, headers)
    _set_req_target(e, target)
    _set_req_version(e, http_version)
    return e


def _make_response(
    cls: type[_ResponseBase], headers: Headers, http_version: bytes, reason: bytes, status: int
) -> Any:
    e = _new(cls)
    _set_resp_headers(e, headers)
    _set_resp_version(e, http_version)
    _set_resp_reason(e, reason)
    _set_resp_status(e, status)
    return e


def _make_data(data: bytes, chunk_start: bool = False, chunk_end: bool = False) -> Data:
    e = _new(Data)
    e._data = data
    e._chunk_start = chunk_start
    e._chunk_end = chunk_end
    return e


def _make_eom(headers: Headers) -> EndOfMessage:
    e = _new(EndOfMessage)
    _set_eom_headers(e, headers)
    return e


#: EndOfMessage without trailers; immutable, so one instance serves every message.
EOM_NO_TRAILERS = _make_eom(EMPTY_HEADERS)
