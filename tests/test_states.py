"""The lifecycle table: every (state, event) pair of ``kclient._states.next_state``.

``_states`` is a pure module (no I/O, no client), so these tests import it directly.
"""

from __future__ import annotations

import itertools

import pytest

import kclient
from kclient._states import ClientState, LifecycleEvent, next_state

S, E = ClientState, LifecycleEvent

#: The whole table, written out: (state, event) -> next state. Nothing is left implicit.
EXPECTED: dict[tuple[ClientState, LifecycleEvent], ClientState] = {
    (S.ACTIVE, E.CLOSE): S.CLOSING,
    (S.ACTIVE, E.CANCEL): S.CANCELLED,
    (S.ACTIVE, E.RELEASED): S.ACTIVE,
    (S.CLOSING, E.CLOSE): S.CLOSING,
    (S.CLOSING, E.CANCEL): S.CANCELLED,
    (S.CLOSING, E.RELEASED): S.CLOSED,
    (S.CLOSED, E.CLOSE): S.CLOSED,
    (S.CLOSED, E.CANCEL): S.CLOSED,
    (S.CLOSED, E.RELEASED): S.CLOSED,
    (S.CANCELLED, E.CLOSE): S.CANCELLED,
    (S.CANCELLED, E.CANCEL): S.CANCELLED,
    (S.CANCELLED, E.RELEASED): S.CANCELLED,
}


def test_the_expected_table_covers_every_pair() -> None:
    assert set(EXPECTED) == set(itertools.product(ClientState, LifecycleEvent))
    assert len(ClientState) == 4
    assert len(LifecycleEvent) == 3


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [(state, event, after) for (state, event), after in EXPECTED.items()],
    ids=[f"{state.name}-{event.name}" for state, event in EXPECTED],
)
def test_next_state(state: ClientState, event: LifecycleEvent, expected: ClientState) -> None:
    assert next_state(state, event) is expected


@pytest.mark.parametrize("state", [S.CLOSED, S.CANCELLED])
@pytest.mark.parametrize("event", list(LifecycleEvent))
def test_terminal_states_absorb_every_event(state: ClientState, event: LifecycleEvent) -> None:
    assert state.is_terminal
    assert next_state(state, event) is state


@pytest.mark.parametrize("state", list(ClientState))
def test_cancel_reaches_a_terminal_state_from_anywhere(state: ClientState) -> None:
    assert next_state(state, E.CANCEL).is_terminal


@pytest.mark.parametrize("state", list(ClientState))
def test_cancel_never_revives_or_rewrites_a_terminal_state(state: ClientState) -> None:
    after = next_state(state, E.CANCEL)
    expected = state if state.is_terminal else S.CANCELLED
    assert after is expected


@pytest.mark.parametrize(
    "events",
    [
        [E.CLOSE, E.RELEASED],
        [E.CLOSE, E.CLOSE, E.RELEASED, E.CLOSE],
        [E.RELEASED, E.CLOSE, E.RELEASED],
    ],
)
def test_close_then_release_ends_closed(events: list[LifecycleEvent]) -> None:
    state = S.ACTIVE
    for event in events:
        state = next_state(state, event)
    assert state is S.CLOSED


@pytest.mark.parametrize(
    "events",
    [
        [E.CANCEL],
        [E.CLOSE, E.CANCEL],
        [E.CLOSE, E.CANCEL, E.RELEASED],
        [E.CANCEL, E.CLOSE, E.RELEASED, E.CANCEL],
    ],
)
def test_cancel_before_release_ends_cancelled(events: list[LifecycleEvent]) -> None:
    state = S.ACTIVE
    for event in events:
        state = next_state(state, event)
    assert state is S.CANCELLED


def test_every_sequence_of_events_only_moves_forward() -> None:
    """States only move forward: ACTIVE -> CLOSING -> (CLOSED | CANCELLED), never back."""
    rank = {S.ACTIVE: 0, S.CLOSING: 1, S.CLOSED: 2, S.CANCELLED: 2}
    for events in itertools.product(LifecycleEvent, repeat=4):
        state = S.ACTIVE
        for event in events:
            after = next_state(state, event)
            assert rank[after] >= rank[state], (state, event, after)
            if state.is_terminal:
                assert after is state
            state = after


@pytest.mark.parametrize(
    ("state", "accepts", "terminal"),
    [
        (S.ACTIVE, True, False),
        (S.CLOSING, False, False),
        (S.CLOSED, False, True),
        (S.CANCELLED, False, True),
    ],
)
def test_state_properties(state: ClientState, accepts: bool, terminal: bool) -> None:
    assert state.accepts_requests is accepts
    assert state.is_terminal is terminal


@pytest.mark.parametrize("state", list(ClientState))
def test_state_text_is_its_name(state: ClientState) -> None:
    assert str(state) == state.name
    assert state.value == state.name
    assert f"{state}" == state.name
    assert ClientState(state.name) is state


def test_client_state_is_the_public_one() -> None:
    assert kclient.ClientState is ClientState
    assert [s.name for s in ClientState] == ["ACTIVE", "CLOSING", "CLOSED", "CANCELLED"]


def test_events_are_named() -> None:
    assert {e.value for e in LifecycleEvent} == {"close", "cancel", "released"}
