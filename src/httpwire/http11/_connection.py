"""The :class:`Connection`: one HTTP/1.1 connection's protocol state, with no I/O.

Bytes go in with :meth:`Connection.receive_data` and come out as events from
:meth:`Connection.next_event`; events go in with :meth:`Connection.send` and come out as bytes.
The API and the semantics follow h11 (0.14 to 0.16); the differences are listed in
``docs/http11.md``.
"""

from __future__ import annotations

from typing import Any, overload

from ._events import (
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    InformationalResponse,
    Request,
    Response,
)
from ._headers import (
    F_CHUNKED,
    F_CLOSE,
    F_CONTENT_LENGTH,
    F_EXPECT_100,
    F_TRANSFER_ENCODING,
    F_UPGRADE,
    HeaderInput,
    Headers,
    get_comma_header,
    normalize_and_validate,
    set_comma_header,
)
from ._readers import (
    ChunkedReader,
    ContentLengthReader,
    Http10Reader,
    expect_nothing,
    read_request_head,
    read_request_head_tolerant,
    read_response_head,
    read_response_head_tolerant,
)
from ._receivebuffer import ReceiveBuffer
from ._state import (
    _SWITCH_CONNECT,
    _SWITCH_UPGRADE,
    _UNSETTLED,
    CLIENT,
    CLOSED,
    DONE,
    ERROR,
    IDLE,
    MIGHT_SWITCH_PROTOCOL,
    MUST_CLOSE,
    SEND_BODY,
    SEND_RESPONSE,
    SERVER,
    SWITCHED_PROTOCOL,
    ConnectionState,
)
from ._util import (
    BoundedCache,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    Sentinel,
)
from ._writers import (
    ChunkedWriter,
    ContentLengthWriter,
    Http10Writer,
    _field_lines,
    write_any_response,
    write_request,
)

#: (status code, reason) of responses sent before -> their checked status line.  The key size
#: is the reason's length.
_STATUS_LINES: BoundedCache[tuple[int, bytes], bytes] = BoundedCache(256, max_key_size=64)

__all__ = ["Connection", "NEED_DATA", "PAUSED", "DEFAULT_MAX_INCOMPLETE_EVENT_SIZE"]


class NEED_DATA(Sentinel, metaclass=Sentinel):
    pass


class PAUSED(Sentinel, metaclass=Sentinel):
    pass


#: The default limit, in bytes, on a head (start-line plus fields) or any other incomplete event.
DEFAULT_MAX_INCOMPLETE_EVENT_SIZE = 16 * 1024

_HEAD_EVENTS = (Request, InformationalResponse, Response)

# Request flags that need the general path when sending (closing, switching, or refused).
_SLOW_REQUEST_FLAGS = F_CLOSE | F_UPGRADE
# The writer of an empty body (stateless at length 0, so shared).
_NO_BODY_WRITER = ContentLengthWriter(0)
# Received request flags that need the general path (closing, switching, chunked or refused
# framing).
_SLOW_RECEIVED_REQUEST_FLAGS = F_CLOSE | F_UPGRADE | F_TRANSFER_ENCODING | F_CHUNKED
# Response flags that need the general path when sending (no declared length, closing,
# switching).
_SLOW_RESPONSE_FLAGS = F_CLOSE | F_UPGRADE | F_TRANSFER_ENCODING | F_CHUNKED
# The flags that decide how a response body is framed (F_CONTENT_LENGTH alone: the simple case).
_FRAMING_FLAGS = F_TRANSFER_ENCODING | F_CHUNKED | F_CONTENT_LENGTH | F_UPGRADE
# Framing flags of a body framed by "Transfer-Encoding: chunked" alone.
_CHUNKED_ONLY = F_TRANSFER_ENCODING | F_CHUNKED

#: A receiver: the receive side of a connection, set whole in one slot (``Connection._rx``) so
#: it can never be half-switched: ``(reader, body read, body read_bytes, read_eof)``.
#: ``reader(buf, max_size)`` parses what the peer sends next (a head reader,
#: ``expect_nothing``, or None while a protocol switch is pending); for a body reader it is the
#: reader's ``read``, repeated as the second item (the fast path of next_event), with its
#: ``read_bytes`` (next_body) and ``read_eof`` (what EOF means mid-body); otherwise those three
#: are None.
_Receiver = tuple[Any, Any, Any, Any]
_RX_NOTHING: _Receiver = (expect_nothing, None, None, None)
_RX_NONE: _Receiver = (None, None, None, None)
_RX_HEADS: dict[Any, _Receiver] = {
    r: (r, None, None, None)
    for r in (
        read_response_head,
        read_response_head_tolerant,
        read_request_head,
        read_request_head_tolerant,
    )
}


def _body_receiver(reader: Any) -> _Receiver:
    read = reader.read
    return (read, read, reader.read_bytes, reader.read_eof)


#: The receiver of an empty body (Content-Length: 0, or a request without one): a reader at
#: length 0 never changes, so one serves every connection.
_RX_EMPTY_BODY = _body_receiver(ContentLengthReader(0))


def _body_framing(
    request_method: bytes | None,
    event: Request | Response,
    error: type[ProtocolError] | None,
) -> tuple[str, int]:
    """How the body after ``event`` is delimited (RFC 9112 §6.3).

    Returns ``("content-length", n)``, ``("chunked", 0)`` or ``("http/1.0", 0)`` (read until
    close).  Raises ``error`` when Transfer-Encoding and Content-Length are both present
    (RFC 9112 §6.1 and §6.3: a smuggling vector, handled as an error) or when an HTTP/1.0
    message carries Transfer-Encoding (RFC 9112 §6.1: faulty framing).
    """
    flags = event.headers._flags
    if type(event) is Response:
        status = event.status_code
        # RFC 9112 §6.3 (1) and (2): no body, whatever the headers say -- so a 204 or 304
        # carrying both Transfer-Encoding and Content-Length is sent and received as given,
        # as h11 does (uvicorn relays such a response; refusing it sent nothing at all).
        if (
            status == 204
            or status == 304
            or request_method == b"HEAD"
            or (request_method == b"CONNECT" and 200 <= status < 300)
        ):
            return ("content-length", 0)
    if flags & F_TRANSFER_ENCODING and error is not None:
        if flags & F_CONTENT_LENGTH:
            raise error("both Transfer-Encoding and Content-Length (RFC 9112 §6.1)")
        if event.http_version < b"1.1":
            raise error("Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1)")
    if flags & F_CHUNKED:
        return ("chunked", 0)
    if flags & F_CONTENT_LENGTH:
        return ("content-length", event.headers._clen)
    if type(event) is Request:
        return ("content-length", 0)
    return ("http/1.0", 0)


class Connection:
    """The state of one HTTP/1.1 connection, seen from ``our_role`` (``CLIENT`` or ``SERVER``).

    ``max_incomplete_event_size`` (bytes) bounds a head (start-line and fields), a chunk line
    and a trailer section, whether it arrives in one piece or many; beyond it
    :meth:`next_event` raises :class:`RemoteProtocolError` with ``error_status_hint=431``.

    ``tolerant`` (keyword only; not in h11) is the tolerant receive mode: field lines of a
    received head that are not ``token ":" value`` are dropped, and whitespace before a colon
    is removed, instead of raising, unless the line holds NUL or a bare CR or mentions
    Content-Length or Transfer-Encoding (see ``docs/http11.md``, "Tolerant receive mode").
    The default, None, means on for ``CLIENT`` and off for ``SERVER`` (a server must refuse
    such requests, RFC 9112 §5.1).  Raises ``ValueError`` for a role other than ``CLIENT`` /
    ``SERVER``.
    """

    __slots__ = (
        "our_role",
        "their_role",
        "their_http_version",
        "client_is_waiting_for_100_continue",
        "_cstate",
        "_max_incomplete_event_size",
        "_buf",
        "_closed",
        "_request_method",
        "_writer",
        "_body_writer",
        "_rx",
        "_rx_head",
        "_rx_cl",
        "_rx_ch",
        "_we_are_client",
        "_cl_reader",
        "_ch_reader",
        "tolerant",
    )

    def __init__(
        self,
        our_role: type[Sentinel],
        max_incomplete_event_size: int = DEFAULT_MAX_INCOMPLETE_EVENT_SIZE,
        *,
        tolerant: bool | None = None,
    ) -> None:
        if our_role is not CLIENT and our_role is not SERVER:
            raise ValueError(f"expected CLIENT or SERVER, not {our_role!r}")
        if tolerant is None:
            tolerant = our_role is CLIENT
        #: Whether the tolerant receive mode is on (see the class docstring).
        self.tolerant: bool = bool(tolerant)
        if our_role is CLIENT:
            head = read_response_head_tolerant if tolerant else read_response_head
        else:
            head = read_request_head_tolerant if tolerant else read_request_head
        #: The receiver for a head from the peer (see _Receiver).
        self._rx_head: _Receiver = _RX_HEADS[head]
        #: The receive side, always set whole (see _Receiver): what the peer may send next.
        self._rx: _Receiver = self._rx_head
        self.our_role: type[Sentinel] = our_role
        self.their_role: type[Sentinel] = SERVER if our_role is CLIENT else CLIENT
        self._we_are_client = our_role is CLIENT
        self._max_incomplete_event_size = max_incomplete_event_size
        self._cstate = ConnectionState()
        self._buf = ReceiveBuffer()
        self._closed = False
        #: The HTTP version of the last head the peer sent (``b"1.1"``), or None.
        self.their_http_version: bytes | None = None
        self._request_method: bytes | None = None
        #: True between a request with ``Expect: 100-continue`` and the first response or body.
        self.client_is_waiting_for_100_continue = False
        #: How our next head is written (None in states where we send no head), and our
        #: body's writer while we are in SEND_BODY.
        self._writer: Any = write_request if our_role is CLIENT else write_any_response
        self._body_writer: Any = None
        #: This connection's Content-Length and chunked readers (made on first use, reset for
        #: each message) and their receivers.
        self._cl_reader: ContentLengthReader | None = None
        self._ch_reader: ChunkedReader | None = None
        self._rx_cl: _Receiver | None = None
        self._rx_ch: _Receiver | None = None

    # -- state --------------------------------------------------------------------------------

    @property
    def states(self) -> dict[type[Sentinel], type[Sentinel]]:
        """``{CLIENT: <client state>, SERVER: <server state>}`` (a copy)."""
        return self._cstate.states

    @property
    def our_state(self) -> type[Sentinel]:
        """The state of the role we play."""
        return self._cstate.client if self._we_are_client else self._cstate.server

    @property
    def their_state(self) -> type[Sentinel]:
        """The state of the peer's role."""
        return self._cstate.server if self._we_are_client else self._cstate.client

    @property
    def they_are_waiting_for_100_continue(self) -> bool:
        """True when we are the server and the client waits for a 100 Continue."""
        return self.their_role is CLIENT and self.client_is_waiting_for_100_continue

    @property
    def trailing_data(self) -> tuple[bytes, bool]:
        """``(unprocessed received bytes, whether EOF was received)``: after a protocol switch,
        the bytes that belong to the new protocol."""
        return (bytes(self._buf), self._closed)

    def start_next_cycle(self) -> None:
        """Reset both roles from DONE to IDLE for the next request/response on this connection.

        Raises :class:`LocalProtocolError` unless both roles are DONE (keep-alive in force).
        """
        self._cstate.start_next_cycle()  # raises LocalProtocolError unless both are DONE
        self._request_method = None
        assert not self.client_is_waiting_for_100_continue
        self._body_writer = None
        self._rx = self._rx_head
        self._writer = write_request if self._we_are_client else write_any_response

    # -- reader / writer selection ------------------------------------------------------------

    def _set_writer(self, event: Any) -> None:
        cs = self._cstate
        state = cs.client if self._we_are_client else cs.server
        if state is SEND_BODY:
            kind, n = _body_framing(self._request_method, event, LocalProtocolError)
            if kind == "content-length":
                w: Any = ContentLengthWriter(n)
            elif kind == "chunked":
                w = ChunkedWriter()
            else:
                w = Http10Writer()
            self._body_writer = w
            self._writer = None
            return
        self._body_writer = None
        if state is IDLE:
            self._writer = write_request if self._we_are_client else write_any_response
        elif state is SEND_RESPONSE:
            self._writer = write_any_response
        else:
            self._writer = None

    def _set_reader(self, event: Any) -> None:
        cs = self._cstate
        state = cs.server if self._we_are_client else cs.client
        if state is SEND_BODY:
            kind, n = _body_framing(self._request_method, event, RemoteProtocolError)
            if kind == "content-length":
                self._rx = self._content_length_receiver(n)
            elif kind == "chunked":
                self._rx = self._chunked_receiver()
            else:
                self._rx = _body_receiver(Http10Reader())
        elif state is DONE or state is MUST_CLOSE or state is CLOSED:
            self._rx = _RX_NOTHING
        elif state is IDLE or state is SEND_RESPONSE:
            self._rx = self._rx_head
        else:
            self._rx = _RX_NONE

    def _content_length_receiver(self, length: int) -> _Receiver:
        # One reader per connection, reset for each message: no allocation per cycle.  (The
        # fast paths use _RX_EMPTY_BODY directly for length 0.)
        if not length:
            return _RX_EMPTY_BODY
        clr = self._cl_reader
        if clr is None:
            clr = self._cl_reader = ContentLengthReader(length)
            self._rx_cl = _body_receiver(clr)
        else:
            clr.reset(length)
        return self._rx_cl  # type: ignore[return-value]

    def _chunked_receiver(self) -> _Receiver:
        # One chunked reader per connection, like the Content-Length one (it also remembers
        # the last chunk-size line across messages).
        r = self._ch_reader
        if r is None:
            r = self._ch_reader = ChunkedReader(self._max_incomplete_event_size)
            self._rx_ch = _body_receiver(r)
        else:
            r.reset()
        return self._rx_ch  # type: ignore[return-value]

    # -- the state machine --------------------------------------------------------------------

    def _server_switch_event(self, event: Event) -> type[Sentinel] | None:
        if type(event) is InformationalResponse and event.status_code == 101:
            return _SWITCH_UPGRADE
        if type(event) is Response:
            if (
                _SWITCH_CONNECT in self._cstate.pending_switch_proposals
                and 200 <= event.status_code < 300
            ):
                return _SWITCH_CONNECT
        return None

    def _process_event(self, role: type[Sentinel], event: Any) -> None:
        cs = self._cstate
        old_client = cs.client
        old_server = cs.server
        etype = type(event)
        if etype is EndOfMessage:
            # The common end of a body: SEND_BODY -> DONE, no other bookkeeping.
            cs.process_event(role, etype)
            if role is CLIENT:
                self.client_is_waiting_for_100_continue = False
        else:
            self._process_other_event(role, event, etype)
        if self._we_are_client:
            if cs.client is not old_client:
                self._set_writer(event)
            if cs.server is not old_server:
                self._set_reader(event)
        else:
            if cs.server is not old_server:
                self._set_writer(event)
            if cs.client is not old_client:
                self._set_reader(event)

    def _process_other_event(self, role: type[Sentinel], event: Any, etype: type) -> None:
        # _process_event for anything but EndOfMessage: what the event means to the state
        # machine (switch proposals, keep-alive, the request method, the peer's version,
        # 100-continue), then the transition itself.
        cs = self._cstate
        if etype is Request and role is CLIENT:
            if event.method == b"CONNECT":
                cs.process_client_switch_proposal(_SWITCH_CONNECT)
            if event.headers._flags & F_UPGRADE:
                cs.process_client_switch_proposal(_SWITCH_UPGRADE)
        switch = self._server_switch_event(event) if role is SERVER else None
        cs.process_event(role, etype, switch)

        if etype is Request:
            self._request_method = event.method
        if role is self.their_role and etype in _HEAD_EVENTS:
            self.their_http_version = event.http_version

        if etype is Request or etype is Response:
            # h11's keep-alive rule: Connection: close, or an HTTP/1.0 peer, ends the
            # connection after this cycle (no HTTP/1.0 keep-alive).
            if event.headers._flags & F_CLOSE or event.http_version < b"1.1":
                cs.process_keep_alive_disabled()
            if etype is Request:
                # RFC 9110 §10.1.1: ignore 100-continue in an HTTP/1.0 request.
                if event.headers._flags & F_EXPECT_100 and event.http_version >= b"1.1":
                    self.client_is_waiting_for_100_continue = True
            else:
                self.client_is_waiting_for_100_continue = False
        elif etype is InformationalResponse:
            self.client_is_waiting_for_100_continue = False
        elif role is CLIENT and etype is Data:
            self.client_is_waiting_for_100_continue = False

    def _process_error(self, role: type[Sentinel]) -> None:
        cs = self._cstate
        old_client, old_server = cs.client, cs.server
        cs.process_error(role)
        ours_changed = cs.client is not old_client
        theirs_changed = cs.server is not old_server
        if not self._we_are_client:
            ours_changed, theirs_changed = theirs_changed, ours_changed
        # After an error no state is SEND_BODY, so no framing is needed here.
        if ours_changed:
            self._set_writer(None)
        if theirs_changed:
            self._set_reader(None)

    # -- receiving ----------------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Add received bytes to the buffer; ``b""`` means the peer closed (EOF).

        Nothing is parsed until :meth:`next_event`.  Raises ``RuntimeError`` for data after EOF.
        """
        if data:
            if self._closed:
                raise RuntimeError("received close, then received more data?")
            buf = self._buf
            if buf.pos >= len(buf.data) and type(data) is bytes:
                # Nothing left over: keep the caller's object as the buffer (no copy).
                buf.data = data
                buf.pos = 0
            else:
                buf.add(data)
        else:
            self._closed = True

    # Complexity 16 (above the limit of 15): the body path's end-of-message step is inline.
    # Splitting it out (through _received) measured +0.14 us on bench/http11.py case (1)
    # (4.9 -> 5.1 us, 3.6%), +0.26 us on (3) and +0.10 us on (2) lower-level.
    def next_event(self) -> Any:  # noqa: C901 (see above)
        """Parse and return the next event, or ``NEED_DATA``, or ``PAUSED``.

        ``PAUSED`` means the peer finished its part of this cycle (or a protocol switch is
        pending) and :meth:`start_next_cycle` (or reading :attr:`trailing_data`) comes next.
        Raises :class:`RemoteProtocolError` if the peer broke the protocol; after any exception
        :attr:`their_state` is ``ERROR``.
        """
        rx = self._rx
        read = rx[1]
        if read is not None:
            # The peer is sending a body: the common case, checked first and kept short.
            try:
                event = read(self._buf, self._max_incomplete_event_size)
                if type(event) is Data:
                    # Data never changes state (SEND_BODY -> SEND_BODY).
                    if not self._we_are_client:
                        self.client_is_waiting_for_100_continue = False
                    return event
                if event is not None:
                    # The end of the body (_received's first step, inline: one call less
                    # per message).
                    if self._cstate.end_of_message_step(self.their_role):
                        if not self._we_are_client:
                            self.client_is_waiting_for_100_continue = False
                        self._rx = _RX_NOTHING
                        return event
                    return self._received(event, SEND_BODY)
            except BaseException as exc:
                self._receive_failed(exc)
                raise
        cs = self._cstate
        state = cs.server if self._we_are_client else cs.client
        if state is ERROR:
            raise RemoteProtocolError("Can't receive data when peer state is ERROR")
        buf = self._buf
        try:
            # (buffered bytes computed inline: ReceiveBuffer.__bool__/__len__ are Python calls)
            if state is DONE and buf.pos < len(buf.data):
                return PAUSED
            if state is MIGHT_SWITCH_PROTOCOL or state is SWITCHED_PROTOCOL:
                return PAUSED
            event = rx[0](buf, self._max_incomplete_event_size)
            if event is None:
                event = self._nothing_complete(rx[3])
                if event is NEED_DATA:
                    return event
            if type(event) is Data:
                if not self._we_are_client:
                    self.client_is_waiting_for_100_continue = False
                return event
            return self._received(event, state)
        except BaseException as exc:
            self._receive_failed(exc)
            raise

    def next_body(self) -> Any:
        """The lower-level receive path (not in h11): like :meth:`next_event`, except that while
        the peer sends a body, the body comes out as plain bytes, all that is available at once.

        Returns, while the peer is in ``SEND_BODY``:

        - ``bytes``: every body byte received and not yet returned (never empty), coalesced
          across chunk boundaries of a chunked body (RFC 9112 §7.1; chunk-size lines, chunk
          extensions and the CRLFs after chunk data are removed) and up to the end of a
          Content-Length body (RFC 9112 §6.2) or to the last byte received of a
          read-until-close body (§6.3 item 8).  When a whole received piece is body, it is the
          very object passed to :meth:`receive_data`;
        - :class:`EndOfMessage` (trailers of a chunked body in its ``headers``), with the same
          state transitions as from :meth:`next_event`;
        - ``NEED_DATA``.

        Otherwise it is :meth:`next_event` (a head, ``ConnectionClosed``, ``NEED_DATA``,
        ``PAUSED``); it never returns :class:`Data`.  The two may be mixed freely on one
        connection: the same parser and state are behind both, so the bytes, trailers, states
        and errors are the same as the concatenated ``Data.data`` of the event path.  When
        something invalid follows body bytes in one read (a bad chunk-size line, chunk data not
        followed by CRLF), the bytes before it are returned first and the
        :class:`RemoteProtocolError` is raised by the next call, as the event path raises after
        the ``Data`` events before the error.  Raises :class:`RemoteProtocolError` (with
        ``error_status_hint``) as :meth:`next_event` does; afterwards :attr:`their_state` is
        ``ERROR``.
        """
        rx = self._rx
        read = rx[2]
        if read is None:
            return self.next_event()
        buf = self._buf
        try:
            got = read(buf, self._max_incomplete_event_size)
            if type(got) is bytes:
                if not self._we_are_client:
                    self.client_is_waiting_for_100_continue = False
                return got
            if got is None:
                got = self._nothing_complete(rx[3])
                if got is NEED_DATA:
                    return got
            return self._received(got, SEND_BODY)
        except BaseException as exc:
            self._receive_failed(exc)
            raise

    def body_bytes_wanted(self) -> int:
        """The lower-level receive path for big bodies (not in h11): how many bytes of a body
        framed by Content-Length (RFC 9112 §6.2) the peer still owes, when nothing received is
        waiting to be parsed; else 0 (then :meth:`receive_data` and :meth:`next_body` as usual).

        A caller may read up to that many bytes into a buffer of its own (``recv_into``) and
        report them with :meth:`body_received_directly`: the body then never passes through
        this parser's buffer, nor through a ``bytes`` object of its own.
        """
        rx = self._rx
        if rx is not self._rx_cl or rx is None or self._closed:
            return 0
        buf = self._buf
        if buf.pos < len(buf.data):
            return 0
        clr = self._cl_reader
        assert clr is not None
        return clr._remaining

    def body_received_directly(self, n: int) -> None:
        """Count ``n`` body bytes the caller read itself (``0 < n <= body_bytes_wanted()``), as
        if they had been given to :meth:`receive_data` and returned by :meth:`next_body`; the
        next :meth:`next_body` returns :class:`EndOfMessage` once the body is complete. Raises
        ``RuntimeError`` for a count the body does not want (nothing is changed then)."""
        if not 0 < n <= self.body_bytes_wanted():
            raise RuntimeError(f"{n} body bytes were not wanted now")
        clr = self._cl_reader
        assert clr is not None
        clr._remaining -= n
        if not self._we_are_client:
            self.client_is_waiting_for_100_continue = False

    def _nothing_complete(self, eof: Any) -> Any:
        """next_event / next_body when the reader found no complete event: the event EOF
        means now (``eof()`` of a body reader, else ConnectionClosed) when the peer closed and
        nothing is left; else NEED_DATA.  Raises :class:`RemoteProtocolError` when more than
        ``max_incomplete_event_size`` bytes wait (hint 431) or the peer closed mid-event."""
        buf = self._buf
        buffered = len(buf.data) - buf.pos
        if self._closed and not buffered:
            return eof() if eof is not None else ConnectionClosed()
        if buffered > self._max_incomplete_event_size:
            raise RemoteProtocolError("Receive buffer too long", error_status_hint=431)
        if self._closed:
            raise RemoteProtocolError("peer unexpectedly closed connection")
        return NEED_DATA

    def _receive_failed(self, exc: BaseException) -> None:
        self._process_error(self.their_role)
        if isinstance(exc, LocalProtocolError):
            # The state machine refuses with LocalProtocolError; here the peer is at fault.
            exc.__class__ = RemoteProtocolError  # type: ignore[assignment]

    def _received(self, event: Any, state: type[Sentinel]) -> Any:
        """Apply an event other than Data that the peer sent while in ``state``."""
        cs = self._cstate
        etype = type(event)
        # The steps of every keep-alive cycle first (ConnectionState's *_step methods, which
        # refuse anything unusual: a close, a protocol switch, an error state); the rest takes
        # the general path.
        if etype is EndOfMessage:
            if cs.end_of_message_step(self.their_role):
                if not self._we_are_client:
                    self.client_is_waiting_for_100_continue = False
                self._rx = _RX_NOTHING
                return event
        elif etype is Response:
            flags = event.headers._flags
            if (
                state is SEND_RESPONSE
                and event.http_version == b"1.1"
                and not flags & F_CLOSE
                and cs.response_step()
            ):
                framing = flags & _FRAMING_FLAGS
                method = self._request_method
                status = event.status_code
                if (
                    status == 204
                    or status == 304
                    or method == b"HEAD"
                    or method == b"CONNECT"
                    or (framing != F_CONTENT_LENGTH and framing != _CHUNKED_ONLY)
                ):
                    self._set_reader(event)
                elif framing == _CHUNKED_ONLY:
                    # "Transfer-Encoding: chunked" alone: this connection's chunked reader.
                    self._rx = self._chunked_receiver()
                else:
                    # Content-Length alone: this connection's Content-Length reader.
                    clen = event.headers._clen
                    self._rx = self._content_length_receiver(clen) if clen else _RX_EMPTY_BODY
                self.their_http_version = b"1.1"
                self.client_is_waiting_for_100_continue = False
                return event
        elif etype is Request:
            flags = event.headers._flags
            if (
                not flags & _SLOW_RECEIVED_REQUEST_FLAGS
                and event.http_version == b"1.1"
                and event.method != b"CONNECT"
                and cs.request_step()
            ):
                # A keep-alive request without Transfer-Encoding: its body framed by
                # Content-Length (or none).
                clen = event.headers._clen
                self._rx = (
                    self._content_length_receiver(clen)
                    if clen > 0  # (-1: no Content-Length)
                    else _RX_EMPTY_BODY
                )
                self._request_method = event.method
                self.their_http_version = b"1.1"
                if flags & F_EXPECT_100:
                    self.client_is_waiting_for_100_continue = True
                self._writer = write_any_response
                self._body_writer = None
                return event
        elif etype is InformationalResponse:
            if (
                state is SEND_RESPONSE
                and event.status_code != 101
                and cs.keep_alive
                and not cs.pending_switch_proposals
                and cs.client not in _UNSETTLED
            ):
                # SEND_RESPONSE -> SEND_RESPONSE: no state changes.
                self.their_http_version = event.http_version
                self.client_is_waiting_for_100_continue = False
                return event
        self._process_event(self.their_role, event)
        return event

    # -- sending ------------------------------------------------------------------------------

    @overload
    def send(self, event: ConnectionClosed) -> None: ...

    @overload
    def send(
        self, event: Request | InformationalResponse | Response | Data | EndOfMessage
    ) -> bytes: ...

    @overload
    def send(self, event: Event) -> bytes | None: ...

    def send(self, event: Event) -> bytes | None:
        """Serialise ``event`` and advance our state; returns the bytes to write (None for
        :class:`ConnectionClosed`).

        Raises :class:`LocalProtocolError` if the event is not allowed now or would put invalid
        bytes on the wire (wrong state, body longer or shorter than its Content-Length, both
        Transfer-Encoding and Content-Length, ...); then nothing is returned and
        :attr:`our_state` is ``ERROR``.
        """
        etype = type(event)
        if etype is Request and self._we_are_client:
            data = self._send_request_fast(event)  # type: ignore[arg-type]
            if data is not None:
                return data
        elif etype is Response and not self._we_are_client:
            data = self._send_response_fast(event)  # type: ignore[arg-type]
            if data is not None:
                return data
        elif etype is EndOfMessage:
            bw = self._body_writer
            if bw is not None:
                if (
                    bw is _NO_BODY_WRITER
                    and not event.headers._items  # type: ignore[attr-defined]
                    and self._we_are_client
                    and self._cstate.end_of_message_step(CLIENT)
                ):
                    # The end of a GET: client DONE, nothing to write.
                    self.client_is_waiting_for_100_continue = False
                    self._body_writer = None
                    return b""
                data = self._send_eom_fast(bw, event)  # type: ignore[arg-type]
                if data is not None:
                    return data
        elif etype is Data:
            bw = self._body_writer
            if bw is not None:
                return self._send_data_fast(bw, event)  # type: ignore[arg-type]
        parts = self.send_with_data_passthrough(event)
        if parts is None:
            return None
        if len(parts) == 1 and type(parts[0]) is bytes:
            return parts[0]
        return b"".join(parts)

    def _send_data_fast(self, bw: Any, event: Data) -> bytes:
        # A piece of our body (SEND_BODY -> SEND_BODY: no state change).
        try:
            parts = bw.data(event.data)
        except BaseException:
            self._process_error(self.our_role)
            raise
        if self._we_are_client:
            self.client_is_waiting_for_100_continue = False
        if len(parts) == 1:
            d = parts[0]
            return d if type(d) is bytes else bytes(d)
        return b"".join(parts)

    def _send_request_fast(self, event: Request) -> bytes | None:
        # A plain keep-alive HTTP/1.1 request (ConnectionState.request_step).  Returns None
        # (nothing done) when the general path must handle it.
        headers = event.headers
        flags = headers._flags
        if (
            flags & _SLOW_REQUEST_FLAGS
            or (flags & F_TRANSFER_ENCODING and flags & F_CONTENT_LENGTH)
            or event.method == b"CONNECT"
            or event.http_version != b"1.1"
            or not self._cstate.request_step()
        ):
            return None
        # (The reader is already the head reader: IDLE/IDLE is only reached through __init__
        # and start_next_cycle, which install it.)
        self._request_method = event.method
        if flags & F_EXPECT_100:
            self.client_is_waiting_for_100_continue = True
        self._writer = None
        if flags & F_CHUNKED:
            self._body_writer = ChunkedWriter()
        elif flags & F_CONTENT_LENGTH and headers._clen:
            self._body_writer = ContentLengthWriter(headers._clen)
        else:
            self._body_writer = _NO_BODY_WRITER
        wire = headers._wire
        if wire is None:
            wire = _field_lines(headers)
        # (what write_request makes; it cannot fail for an HTTP/1.1 request)
        return b"".join((event.method, b" ", event.target, b" HTTP/1.1\r\n", wire, b"\r\n"))

    def _send_response_fast(self, event: Response) -> bytes | None:
        # A keep-alive HTTP/1.1 response with a declared Content-Length to an HTTP/1.1 GET or
        # POST (not HEAD / CONNECT), nothing pending (ConnectionState.response_step), with none
        # of the header rewriting the general path may do.  Returns None (nothing done) when
        # the general path must handle it.
        headers = event.headers
        flags = headers._flags
        method = self._request_method
        status = event.status_code
        if (
            not flags & F_CONTENT_LENGTH
            or flags & _SLOW_RESPONSE_FLAGS
            or event.http_version != b"1.1"
            or self.their_http_version != b"1.1"
            or status == 204
            or status == 304
            or method == b"HEAD"
            or method == b"CONNECT"
            or not self._cstate.response_step()
        ):
            return None
        status_line = _STATUS_LINES.get((status, event.reason))
        if status_line is None:
            try:
                status_line = write_any_response(event)
            except BaseException:
                # (our state becomes ERROR, as if the step had been refused)
                self._process_error(SERVER)
                raise
            status_line = status_line[: status_line.find(b"\r\n") + 2]
            _STATUS_LINES.put((status, event.reason), status_line, len(event.reason))
        wire = headers._wire
        if wire is None:
            wire = _field_lines(headers)
        self.client_is_waiting_for_100_continue = False
        self._writer = None
        clen = headers._clen
        self._body_writer = ContentLengthWriter(clen) if clen else _NO_BODY_WRITER
        return b"".join((status_line, wire, b"\r\n"))

    def _send_eom_fast(self, bw: Any, event: EndOfMessage) -> bytes | None:
        # The end of our body on a keep-alive connection with nothing pending.  Returns None
        # (nothing done) when the general path must handle it.
        if bw is _NO_BODY_WRITER and not event.headers._items:
            data = b""  # the end of a GET: nothing to write
        else:
            try:
                parts = bw.eom(event.headers)  # (no side effects: the general path may redo it)
            except BaseException:
                self._process_error(self.our_role)
                raise
            data = parts[0] if len(parts) == 1 else b"".join(parts)
        if not self._cstate.end_of_message_step(self.our_role):
            return None
        if self._we_are_client:
            self.client_is_waiting_for_100_continue = False
        self._body_writer = None
        self._writer = None
        return data

    def send_with_data_passthrough(self, event: Event) -> list[Any] | None:
        """Like :meth:`send`, but returns a list of bytes-like pieces, and for :class:`Data`
        the list holds the very object passed as ``event.data`` (for ``sendfile``-style
        writes)."""
        cs = self._cstate
        if (cs.client if self._we_are_client else cs.server) is ERROR:
            raise LocalProtocolError("Can't send data when our state is ERROR")
        try:
            etype = type(event)
            if etype is Response:
                event = self._clean_up_response_headers_for_sending(event)  # type: ignore[arg-type]
            # The writer is picked before the state changes: it is the one for the state the
            # event is sent from.
            writer = self._writer
            body_writer = self._body_writer
            if etype is Request and self._we_are_client:
                flags = event.headers._flags  # type: ignore[attr-defined]
                if flags & F_TRANSFER_ENCODING and flags & F_CONTENT_LENGTH:
                    raise LocalProtocolError(
                        "both Transfer-Encoding and Content-Length (RFC 9112 §6.2)"
                    )
            self._process_event(self.our_role, event)
            if etype is ConnectionClosed:
                return None
            if etype is Data:
                assert body_writer is not None
                return body_writer.data(event.data)  # type: ignore[no-any-return,attr-defined]
            if etype is EndOfMessage:
                assert body_writer is not None
                return body_writer.eom(event.headers)  # type: ignore[no-any-return,attr-defined]
            assert writer is not None
            return [writer(event)]
        except BaseException:
            self._process_error(self.our_role)
            raise

    # -- the lower-level server path (not in h11) --------------------------------------------

    def next_request(self) -> Any:
        """Server role (not in h11): :meth:`next_event`, except that a request without a body
        comes with its :class:`EndOfMessage` already consumed.

        Returns what :meth:`next_event` returns (a :class:`Request`, ``NEED_DATA``,
        ``PAUSED``, ``ConnectionClosed``...).  After a :class:`Request` framed with no body
        (no Content-Length, or ``Content-Length: 0``, and no Transfer-Encoding; RFC 9112 §6.3
        item 6) :attr:`their_state` is already what reading its ``EndOfMessage`` gives
        (``DONE``, or ``MIGHT_SWITCH_PROTOCOL`` after a CONNECT or Upgrade request); after a
        request with a body it is ``SEND_BODY``, and :meth:`next_body` or :meth:`next_event`
        reads the body.  The parser, the states and the errors (:class:`RemoteProtocolError`,
        with ``error_status_hint``; :attr:`their_state` ``ERROR`` afterwards) are those of
        ``next_event()`` followed by ``next_event()``; in the client role it is
        :meth:`next_event`.
        """
        event = self.next_event()
        if type(event) is Request and self._rx is _RX_EMPTY_BODY:
            # A request framed by no or a zero Content-Length (RFC 9112 §6.3): its
            # EndOfMessage, which next_event() would return next.
            if self._cstate.end_of_message_step(CLIENT):
                # next_event()'s own step for it (see _received).
                self.client_is_waiting_for_100_continue = False
                self._rx = _RX_NOTHING
            else:
                self.next_event()
        return event

    def send_response(
        self,
        status_code: int,
        headers: Headers | HeaderInput,
        body: bytes | bytearray | memoryview = b"",
        *,
        reason: bytes | str = b"",
    ) -> bytes:
        """Server role (not in h11): send a whole final response, head, body and end of
        message, in one call; returns the bytes to write.

        ``status_code`` is 200-999, ``headers`` are ``(name, value)`` pairs as for
        :class:`Response`, ``body`` the whole body (bytes-like; ``b""`` for none) and
        ``reason`` the reason phrase.  It is exactly
        ``send(Response(status_code=status_code, headers=headers, reason=reason))``, then
        ``send(Data(data=body))`` if ``body`` is not empty, then ``send(EndOfMessage())``,
        joined, with the same checks and the same header handling: the framing must agree with
        the request and status (no body after HEAD, 204, 304; exactly ``Content-Length``
        bytes when one is given; chunked to an HTTP/1.1 peer and close-delimited with
        ``Connection: close`` to an HTTP/1.0 one when none is; ``Connection: close`` added
        when keep-alive is off).  Then, when the request has been read to its end and the
        connection stays open (both states ``DONE``), it calls :meth:`start_next_cycle`, so
        the next request can be read at once; otherwise the states are those the three
        ``send`` calls leave (``DONE`` while the request body is still unread, ``MUST_CLOSE``
        when the connection will close).

        Raises :class:`LocalProtocolError`, with :attr:`our_state` ``ERROR`` and nothing to
        write, when any of the three ``send`` calls would (wrong state or role, a body that
        does not match its framing, a response after which the connection cannot go on); for
        invalid arguments (a field name that is not a token, a value with CR/LF/NUL, a
        status code outside 200-999), as the :class:`Response` constructor does, before
        anything changes.
        """
        h = headers if type(headers) is Headers else normalize_and_validate(headers)
        cs = self._cstate
        flags = h._flags
        method = self._request_method
        if (
            type(status_code) is int
            and 200 <= status_code < 1000
            and type(reason) is bytes
            and type(body) is bytes
            and not self._we_are_client
            and flags & F_CONTENT_LENGTH
            and not flags & _SLOW_RESPONSE_FLAGS
            and h._clen == len(body)
            and self.their_http_version == b"1.1"
            and status_code != 204
            and status_code != 304
            and method != b"HEAD"
            and method != b"CONNECT"
        ):
            # The common keep-alive response, with a status line sent (and so checked)
            # before: the state steps of send(Response), send(Data), send(EndOfMessage) and
            # start_next_cycle() are known in advance.
            status_line = _STATUS_LINES.get((status_code, reason))
            if status_line is not None:
                restarted = cs.whole_response_step()
                if restarted is not None:
                    wire = h._wire
                    if wire is None:
                        wire = _field_lines(h)
                    self.client_is_waiting_for_100_continue = False
                    self._body_writer = None
                    if restarted:
                        self._request_method = None
                        self._rx = self._rx_head
                        self._writer = write_any_response
                    else:
                        self._writer = None
                    return b"".join((status_line, wire, b"\r\n", body))
        event = Response(status_code=status_code, headers=h, reason=reason)
        out = [self.send(event)]
        if body:
            out.append(self.send(Data(data=body)))  # type: ignore[arg-type]
        out.append(self.send(EndOfMessage()))
        if cs.client is DONE and cs.server is DONE:
            self.start_next_cycle()
        return b"".join(out)

    def send_failed(self) -> None:
        """Tell the state machine the bytes from :meth:`send` could not be written; our state
        becomes ``ERROR``."""
        self._process_error(self.our_role)

    def _clean_up_response_headers_for_sending(self, response: Response) -> Response:
        # As h11: a response whose length the caller did not declare is sent chunked to an
        # HTTP/1.1 peer and close-delimited to an HTTP/1.0 one (or when we never saw a valid
        # request), and "Connection: close" is added whenever the connection will close.
        headers: Headers = response.headers
        need_close = False
        method = self._request_method
        if method == b"HEAD":
            method = b"GET"  # a HEAD response carries the headers a GET response would
        kind, _ = _body_framing(method, response, None)
        if kind != "content-length":
            headers = set_comma_header(headers, b"content-length", [])
            if self.their_http_version is None or self.their_http_version < b"1.1":
                headers = set_comma_header(headers, b"transfer-encoding", [])
                if self._request_method != b"HEAD":
                    need_close = True
            else:
                headers = set_comma_header(headers, b"transfer-encoding", [b"chunked"])
        if not self._cstate.keep_alive or need_close:
            connection = set(get_comma_header(headers, b"connection"))
            connection.discard(b"keep-alive")
            connection.add(b"close")
            headers = set_comma_header(headers, b"connection", sorted(connection))
        if headers is response.headers:
            return response
        return Response(
            headers=headers,
            status_code=response.status_code,
            http_version=response.http_version,
            reason=response.reason,
        )
