"""The request/response state machine (the same automaton as h11's, as lookup tables).

Two per-role machines (client, server) move on events; three small ones ride along:
keep-alive (True until a ``Connection: close`` or an HTTP/1.0 peer), and the pending CONNECT /
Upgrade proposals.  State-triggered transitions couple them (for instance client DONE with
keep-alive off becomes MUST_CLOSE); :meth:`ConnectionState._settle` applies those until nothing
changes.  This module knows nothing about which role we play.

Every change of state goes through :class:`ConnectionState` (h11's rule: everything that
affects the state machine lives in one place).  Besides the general :meth:`~ConnectionState.
process_event`, it has precomputed steps for the transitions of a keep-alive cycle (the
``*_step`` methods): each is exactly what ``process_event`` does for one event when keep-alive
is on, no protocol switch is pending and no state-triggered transition can follow, and returns
False, having changed nothing, when that does not hold -- the caller then takes the general
path.  The caller decides only what the event is (a request that keeps the connection alive
and proposes no switch, ...), as it does for ``process_event``.
"""

from __future__ import annotations

from typing import NoReturn

from ._events import ConnectionClosed, Data, EndOfMessage, InformationalResponse, Request, Response
from ._util import LocalProtocolError, Sentinel

__all__ = [
    "CLIENT",
    "SERVER",
    "IDLE",
    "SEND_RESPONSE",
    "SEND_BODY",
    "DONE",
    "MUST_CLOSE",
    "CLOSED",
    "ERROR",
    "MIGHT_SWITCH_PROTOCOL",
    "SWITCHED_PROTOCOL",
    "ConnectionState",
]


class CLIENT(Sentinel, metaclass=Sentinel):
    pass


class SERVER(Sentinel, metaclass=Sentinel):
    pass


class IDLE(Sentinel, metaclass=Sentinel):
    pass


class SEND_RESPONSE(Sentinel, metaclass=Sentinel):
    pass


class SEND_BODY(Sentinel, metaclass=Sentinel):
    pass


class DONE(Sentinel, metaclass=Sentinel):
    pass


class MUST_CLOSE(Sentinel, metaclass=Sentinel):
    pass


class CLOSED(Sentinel, metaclass=Sentinel):
    pass


class ERROR(Sentinel, metaclass=Sentinel):
    pass


class MIGHT_SWITCH_PROTOCOL(Sentinel, metaclass=Sentinel):
    pass


class SWITCHED_PROTOCOL(Sentinel, metaclass=Sentinel):
    pass


class _SWITCH_UPGRADE(Sentinel, metaclass=Sentinel):
    pass


class _SWITCH_CONNECT(Sentinel, metaclass=Sentinel):
    pass


_T = type[Sentinel]

# (role, state, event type or (event type, switch kind)) -> new state.  The server machine also
# sees the client's Request, keyed (SERVER, state, (Request, CLIENT)).
EVENT_TRIGGERED_TRANSITIONS: dict[tuple[object, object, object], _T] = {
    (CLIENT, IDLE, Request): SEND_BODY,
    (CLIENT, IDLE, ConnectionClosed): CLOSED,
    (CLIENT, SEND_BODY, Data): SEND_BODY,
    (CLIENT, SEND_BODY, EndOfMessage): DONE,
    (CLIENT, DONE, ConnectionClosed): CLOSED,
    (CLIENT, MUST_CLOSE, ConnectionClosed): CLOSED,
    (CLIENT, CLOSED, ConnectionClosed): CLOSED,
    (SERVER, IDLE, ConnectionClosed): CLOSED,
    (SERVER, IDLE, Response): SEND_BODY,
    (SERVER, IDLE, (Request, CLIENT)): SEND_RESPONSE,
    (SERVER, SEND_RESPONSE, InformationalResponse): SEND_RESPONSE,
    (SERVER, SEND_RESPONSE, Response): SEND_BODY,
    (SERVER, SEND_RESPONSE, (InformationalResponse, _SWITCH_UPGRADE)): SWITCHED_PROTOCOL,
    (SERVER, SEND_RESPONSE, (Response, _SWITCH_CONNECT)): SWITCHED_PROTOCOL,
    (SERVER, SEND_BODY, Data): SEND_BODY,
    (SERVER, SEND_BODY, EndOfMessage): DONE,
    (SERVER, DONE, ConnectionClosed): CLOSED,
    (SERVER, MUST_CLOSE, ConnectionClosed): CLOSED,
    (SERVER, CLOSED, ConnectionClosed): CLOSED,
}

# (client state, server state) -> (new client state, new server state)
STATE_TRIGGERED_TRANSITIONS: dict[tuple[_T, _T], tuple[_T, _T]] = {
    (MIGHT_SWITCH_PROTOCOL, SWITCHED_PROTOCOL): (SWITCHED_PROTOCOL, SWITCHED_PROTOCOL),
    (CLOSED, DONE): (CLOSED, MUST_CLOSE),
    (CLOSED, IDLE): (CLOSED, MUST_CLOSE),
    (ERROR, DONE): (ERROR, MUST_CLOSE),
    (DONE, CLOSED): (MUST_CLOSE, CLOSED),
    (IDLE, CLOSED): (MUST_CLOSE, CLOSED),
    (DONE, ERROR): (MUST_CLOSE, ERROR),
}

# States in which _settle() might have something to do even with keep-alive on and no
# pending switch proposal; anything else is the common fast path.
_UNSETTLED = frozenset([CLOSED, ERROR, MIGHT_SWITCH_PROTOCOL, SWITCHED_PROTOCOL])


class ConnectionState:
    """The joint state of both roles plus keep-alive and pending protocol switches."""

    __slots__ = ("client", "server", "keep_alive", "pending_switch_proposals")

    def __init__(self) -> None:
        self.client: _T = IDLE
        self.server: _T = IDLE
        self.keep_alive = True
        self.pending_switch_proposals: set[_T] = set()

    @property
    def states(self) -> dict[_T, _T]:
        return {CLIENT: self.client, SERVER: self.server}

    def process_error(self, role: _T) -> None:
        if role is CLIENT:
            self.client = ERROR
        else:
            self.server = ERROR
        self._settle()

    def process_keep_alive_disabled(self) -> None:
        self.keep_alive = False
        self._settle()

    def process_client_switch_proposal(self, switch_event: _T) -> None:
        self.pending_switch_proposals.add(switch_event)
        self._settle()

    def process_event(
        self, role: _T, event_type: type, server_switch_event: _T | None = None
    ) -> None:
        """Apply one event; raises :class:`LocalProtocolError` if it is not allowed now."""
        if event_type is EndOfMessage:
            # The table's only EndOfMessage entries: SEND_BODY -> DONE, for either role.
            if role is CLIENT:
                if self.client is not SEND_BODY:
                    self._refuse(role, event_type)
                self.client = DONE
            else:
                if self.server is not SEND_BODY:
                    self._refuse(role, event_type)
                self.server = DONE
            if (
                not self.keep_alive
                or self.pending_switch_proposals
                or self.client in _UNSETTLED
                or self.server in _UNSETTLED
            ):
                self._settle()
            return
        key: object = event_type
        if server_switch_event is not None:
            assert role is SERVER
            if server_switch_event not in self.pending_switch_proposals:
                raise LocalProtocolError(
                    "Received server _SWITCH_UPGRADE event without a pending proposal"
                )
            key = (event_type, server_switch_event)
        elif event_type is Response and self.pending_switch_proposals:
            # A plain final response turns every pending switch proposal down.
            self.pending_switch_proposals = set()
        if role is CLIENT:
            new = EVENT_TRIGGERED_TRANSITIONS.get((CLIENT, self.client, key))
            if new is None:
                self._refuse(role, event_type)
            self.client = new
            if event_type is Request:
                new = EVENT_TRIGGERED_TRANSITIONS.get((SERVER, self.server, (Request, CLIENT)))
                if new is None:
                    self._refuse(SERVER, event_type)
                self.server = new
        else:
            new = EVENT_TRIGGERED_TRANSITIONS.get((SERVER, self.server, key))
            if new is None:
                self._refuse(role, event_type)
            self.server = new
        if (
            not self.keep_alive
            or self.pending_switch_proposals
            or self.client in _UNSETTLED
            or self.server in _UNSETTLED
        ):
            self._settle()

    def _refuse(self, role: _T, event_type: type) -> NoReturn:
        state = self.client if role is CLIENT else self.server
        raise LocalProtocolError(
            f"can't handle event type {event_type.__name__} when role={role} and state={state}"
        )

    def _settle(self) -> None:
        # Apply the state-triggered transitions until a fixed point.
        while True:
            client, server = start = (self.client, self.server)
            # Both "DONE -> MIGHT_SWITCH_PROTOCOL" and "DONE -> MUST_CLOSE" can be enabled (an
            # HTTP/1.0 CONNECT); the switch wins, and if it is refused the client returns to
            # DONE and then closes.
            if self.pending_switch_proposals:
                if client is DONE:
                    client = MIGHT_SWITCH_PROTOCOL
            elif client is MIGHT_SWITCH_PROTOCOL:
                client = DONE
            if not self.keep_alive:
                if client is DONE:
                    client = MUST_CLOSE
                if server is DONE:
                    server = MUST_CLOSE
            client, server = STATE_TRIGGERED_TRANSITIONS.get((client, server), (client, server))
            self.client, self.server = client, server
            if (client, server) == start:
                return

    def start_next_cycle(self) -> None:
        """DONE/DONE -> IDLE/IDLE; raises :class:`LocalProtocolError` from any other state."""
        if self.client is not DONE or self.server is not DONE:
            raise LocalProtocolError(f"not in a reusable state. self.states={self.states}")
        # (Both DONE implies keep-alive on and no switch pending: _settle() would have moved
        # either role to MUST_CLOSE or MIGHT_SWITCH_PROTOCOL otherwise.)
        self.client = self.server = IDLE

    # -- precomputed steps of a keep-alive cycle (see the module docstring) -------------------

    def request_step(self) -> bool:
        """``process_event(CLIENT, Request)`` for a request that keeps the connection alive and
        proposes no switch: IDLE/IDLE -> SEND_BODY/SEND_RESPONSE.  False (nothing done) from
        any other state, or with keep-alive off or a switch pending."""
        if (
            self.client is IDLE
            and self.server is IDLE
            and self.keep_alive
            and not self.pending_switch_proposals
        ):
            self.client = SEND_BODY
            self.server = SEND_RESPONSE
            return True
        return False

    def response_step(self) -> bool:
        """``process_event(SERVER, Response)`` for a final response that keeps the connection
        alive and is no switch: server SEND_RESPONSE -> SEND_BODY.  False (nothing done) unless
        keep-alive is on, no switch is pending and the client's state needs no settling."""
        if (
            self.server is SEND_RESPONSE
            and self.keep_alive
            and not self.pending_switch_proposals
            and self.client not in _UNSETTLED
        ):
            self.server = SEND_BODY
            return True
        return False

    def end_of_message_step(self, role: _T) -> bool:
        """``process_event(role, EndOfMessage)`` when nothing follows: ``role`` SEND_BODY ->
        DONE.  False (nothing done) unless ``role`` is in SEND_BODY, keep-alive is on, no
        switch is pending, and the other role is neither MUST_CLOSE nor in a state that needs
        settling."""
        if not self.keep_alive or self.pending_switch_proposals:
            return False
        if role is CLIENT:
            other = self.server
            if self.client is not SEND_BODY or other is MUST_CLOSE or other in _UNSETTLED:
                return False
            self.client = DONE
        else:
            other = self.client
            if self.server is not SEND_BODY or other is MUST_CLOSE or other in _UNSETTLED:
                return False
            self.server = DONE
        return True

    def whole_response_step(self) -> bool | None:
        """A whole final response from the server (:meth:`response_step`, then
        :meth:`end_of_message_step` for ``SERVER``), then :meth:`start_next_cycle` if the
        client is DONE.  Returns None (nothing done) when :meth:`response_step` would refuse,
        True when both roles are IDLE again, False when the server is DONE and the client is
        still sending."""
        if (
            self.server is not SEND_RESPONSE
            or not self.keep_alive
            or self.pending_switch_proposals
            or self.client in _UNSETTLED
        ):
            return None
        # (keep-alive on and the client not unsettled: the client cannot be MUST_CLOSE)
        if self.client is DONE:
            self.client = self.server = IDLE
            return True
        self.server = DONE
        return False
