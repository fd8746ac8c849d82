"""The client's lifecycle as a table: states, events and one function that applies them.

Theory of operation. A client starts ACTIVE and serves requests. ``close()`` moves it
to CLOSING: new requests are refused, in-flight ones finish. When the last one is done
and the engine is released, the ``released`` event moves it to CLOSED. ``cancel()``
moves any state that is not yet terminal to CANCELLED at once; in-flight requests are
cancelled and the engine is released afterwards (CANCELLED stays CANCELLED).
CLOSED and CANCELLED are terminal: every event leaves them as they are.
"""

from __future__ import annotations

import enum

__all__ = ["ClientState", "LifecycleEvent", "next_state"]


class ClientState(enum.Enum):
    """Where a client is in its life; ``client.state``."""

    ACTIVE = "ACTIVE"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"

    @property
    def accepts_requests(self) -> bool:
        return self is ClientState.ACTIVE

    @property
    def is_terminal(self) -> bool:
        return self in (ClientState.CLOSED, ClientState.CANCELLED)

    def __str__(self) -> str:
        return self.value


class LifecycleEvent(enum.Enum):
    """What happens to a client: a method call or the engine's release."""

    CLOSE = "close"
    CANCEL = "cancel"
    RELEASED = "released"


_S, _E = ClientState, LifecycleEvent

#: (state, event) -> next state. Pairs not listed leave the state unchanged.
TRANSITIONS: dict[tuple[ClientState, LifecycleEvent], ClientState] = {
    (_S.ACTIVE, _E.CLOSE): _S.CLOSING,
    (_S.ACTIVE, _E.CANCEL): _S.CANCELLED,
    (_S.CLOSING, _E.CANCEL): _S.CANCELLED,
    (_S.CLOSING, _E.RELEASED): _S.CLOSED,
}


def next_state(state: ClientState, event: LifecycleEvent) -> ClientState:
    """The state after ``event`` happens in ``state`` (unchanged when the table is silent)."""
    return TRANSITIONS.get((state, event), state)
