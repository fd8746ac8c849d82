"""The client is a scope: close / join / cancel, observed through the public API on the Mock engine.

Ordering is asserted with events and ``wait_all_tasks_blocked``, never with timing:
``fail_after`` only guards against hangs.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from anyio import wait_all_tasks_blocked

import kclient
from kclient import (
    ClientCancelledError,
    ClientClosedError,
    ClientState,
    ClientStatus,
    ConnectError,
    HttpClient,
    KClientError,
    Mock,
    Request,
    ServerResponseError,
    respond,
    respond_error,
)

URL = "http://mock.test/item"
GUARD = 5  # seconds: a hang guard only, never an assertion about speed


class RecordingMock(Mock):
    """A Mock that counts ``aclose()`` calls (a public Engine subclass, not a patch)."""

    def __init__(self, *handlers: Any, **settings: Any) -> None:
        super().__init__(*handlers, **settings)
        self.aclose_calls = 0

    async def aclose(self) -> None:
        self.aclose_calls += 1
        await super().aclose()


class Gate:
    """An async handler that holds every request until ``open()``; counts arrivals."""

    def __init__(self, expected: int = 1, body: str = "done") -> None:
        self.expected = expected
        self.body = body
        self.arrived = 0
        self.all_arrived = anyio.Event()
        self.opened = anyio.Event()

    def open(self) -> None:
        self.opened.set()

    async def handler(self, request: Request) -> kclient.MockAnswer:
        self.arrived += 1
        if self.arrived >= self.expected:
            self.all_arrived.set()
        await self.opened.wait()
        return respond(self.body)


# -- close ------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_in_flight_requests_finish_after_close_and_new_ones_are_refused() -> None:
    gate = Gate(expected=2)
    client = HttpClient(Mock(gate.handler), name="closing-client")
    bodies: list[str] = []

    async def fetch(path: str) -> None:
        response = await client.get(f"http://mock.test/{path}")
        bodies.append(response.text)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(fetch, "a")
            tg.start_soon(fetch, "b")
            await gate.all_arrived.wait()

            assert client.close() is None
            assert client.state is ClientState.CLOSING
            assert client.status().in_flight == 2

            with pytest.raises(ClientClosedError) as info:
                await client.post("http://mock.test/late", json={"x": 1})
            message = str(info.value)
            assert "closing-client" in message
            assert "POST" in message
            assert "http://mock.test/late" in message
            assert isinstance(info.value, KClientError)
            assert isinstance(info.value, RuntimeError)

            gate.open()
        await client.join()

    assert bodies == ["done", "done"]
    assert client.state is ClientState.CLOSED
    status = client.status()
    assert (status.in_flight, status.completed, status.failed) == (0, 2, 0)


@pytest.mark.anyio
async def test_refused_request_message_masks_secrets() -> None:
    client = HttpClient(Mock(lambda request: respond("x")), name="secretive")
    client.close()
    with pytest.raises(ClientClosedError) as info:
        await client.get("http://user:hunter2@mock.test/x", params={"token": "tok-123"})
    message = str(info.value)
    assert "secretive" in message
    assert "hunter2" not in message
    assert "tok-123" not in message
    with anyio.fail_after(GUARD):
        await client.join()


@pytest.mark.anyio
async def test_close_is_idempotent_and_returns_at_once() -> None:
    gate = Gate()
    client = HttpClient(Mock(gate.handler))
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.get, URL)
            await gate.all_arrived.wait()
            # close() is synchronous: it returns while the request is still held by the gate.
            client.close()
            client.close()
            assert client.state is ClientState.CLOSING
            assert client.status().in_flight == 1
            gate.open()
        await client.join()
    assert client.state is ClientState.CLOSED
    client.close()  # closing a CLOSED client is harmless too
    assert client.state is ClientState.CLOSED


@pytest.mark.anyio
async def test_close_with_nothing_in_flight_releases_the_engine() -> None:
    client = HttpClient(RecordingMock, engine_config={"handlers": [lambda request: respond("x")]})
    assert (await client.get(URL)).text == "x"
    client.close()
    with anyio.fail_after(GUARD):
        await client.join()
        await client.join()  # joining again returns at once
    assert client.state is ClientState.CLOSED
    assert isinstance(client.engine, RecordingMock)
    assert client.engine.aclose_calls == 1


# -- join -------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_join_returns_only_after_the_last_in_flight_request() -> None:
    first_open, second_open = anyio.Event(), anyio.Event()
    arrived: list[str] = []
    order: list[str] = []

    async def handler(request: Request) -> kclient.MockAnswer:
        arrived.append(request.url.path)
        await (first_open if request.url.path == "/1" else second_open).wait()
        order.append(f"answered {request.url.path}")
        return respond("ok")

    client = HttpClient(RecordingMock(handler))

    async def joiner() -> None:
        await client.join()
        status = client.status()
        order.append(f"joined in_flight={status.in_flight} completed={status.completed}")

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.get, "http://mock.test/1")
            tg.start_soon(client.get, "http://mock.test/2")
            await wait_all_tasks_blocked()
            assert sorted(arrived) == ["/1", "/2"]

            client.close()
            tg.start_soon(joiner)
            await wait_all_tasks_blocked()
            assert order == []

            first_open.set()
            await wait_all_tasks_blocked()
            assert order == ["answered /1"]
            assert client.state is ClientState.CLOSING

            second_open.set()
    assert order == ["answered /1", "answered /2", "joined in_flight=0 completed=2"]
    assert client.state is ClientState.CLOSED
    assert client.engine.aclose_calls == 0  # lent engine: never closed by the client


@pytest.mark.anyio
async def test_join_on_an_active_client_waits_for_close() -> None:
    client = HttpClient(Mock(lambda request: respond("x")))
    joined = anyio.Event()

    async def joiner() -> None:
        await client.join()
        joined.set()

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(joiner)
            await wait_all_tasks_blocked()
            assert not joined.is_set()
            assert client.state is ClientState.ACTIVE
            client.close()
            await joined.wait()
    assert client.state is ClientState.CLOSED


# -- cancel -----------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_cancel_halts_a_thousand_in_flight_requests() -> None:
    count = 1000
    gate = Gate(expected=count)  # never opened: only cancel() can end these requests
    client = HttpClient(RecordingMock, engine_config={"handlers": [gate.handler]}, name="bulk-client")
    errors: list[ClientCancelledError] = []

    async def fetch(i: int) -> None:
        try:
            await client.get(f"http://mock.test/slow/{i}")
        except ClientCancelledError as exc:
            errors.append(exc)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for i in range(count):
                tg.start_soon(fetch, i)
            await gate.all_arrived.wait()
            assert client.status().in_flight == count
            client.cancel()
            assert client.state is ClientState.CANCELLED
        await client.join()

    assert len(errors) == count
    for exc in errors:
        assert isinstance(exc, KClientError)
        assert not isinstance(exc, anyio.get_cancelled_exc_class())
        assert "bulk-client" in str(exc)
    assert any("/slow/999" in str(exc) for exc in errors)
    status = client.status()
    assert status.state is ClientState.CANCELLED
    assert (status.in_flight, status.completed, status.failed) == (0, 0, count)
    assert isinstance(client.engine, RecordingMock)
    assert client.engine.aclose_calls == 1


@pytest.mark.anyio
async def test_callers_own_cancel_scope_propagates_as_a_normal_cancellation() -> None:
    gate = Gate()
    client = HttpClient(Mock(gate.handler, lambda request: respond("after")))
    outcome: list[object] = []
    scope = anyio.CancelScope()

    async def fetch() -> None:
        with scope:
            try:
                await client.get(URL)
            except anyio.get_cancelled_exc_class():
                outcome.append("cancelled")
                raise
            except Exception as exc:
                outcome.append(exc)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(fetch)
            await gate.all_arrived.wait()
            scope.cancel()

        assert outcome == ["cancelled"]
        assert scope.cancelled_caught
        assert client.state is ClientState.ACTIVE
        status = client.status()
        assert (status.in_flight, status.completed, status.failed) == (0, 0, 1)

        # The client still serves requests.
        assert (await client.get(URL)).text == "after"
        assert client.status().completed == 1
        client.close()
        await client.join()


@pytest.mark.anyio
async def test_move_on_after_around_a_request_is_a_plain_timeout_of_the_caller() -> None:
    gate = Gate()  # never opened
    client = HttpClient(Mock(gate.handler))
    with anyio.fail_after(GUARD):
        with anyio.move_on_after(0.05) as scope:
            await client.get(URL)
        assert scope.cancelled_caught
        assert client.state is ClientState.ACTIVE

        with pytest.raises(TimeoutError) as info:
            with anyio.fail_after(0.05):
                await client.get(URL)
        # anyio's own TimeoutError, not one of kclient's (no client or request timeout was set).
        assert not isinstance(info.value, KClientError)
        assert client.state is ClientState.ACTIVE
        assert client.status().failed == 2
        client.close()
        await client.join()
    assert client.state is ClientState.CLOSED


@pytest.mark.anyio
async def test_cancel_on_a_closed_client_keeps_it_closed() -> None:
    client = HttpClient(Mock(lambda request: respond("x")))
    transitions: list[tuple[ClientState, ClientState]] = []
    client.on_state_change(lambda s: transitions.append((s.previous, s.state)) if s.state_changed else None)
    client.close()
    with anyio.fail_after(GUARD):
        await client.join()
    client.cancel()
    assert client.state is ClientState.CLOSED
    assert client.status().state is ClientState.CLOSED
    assert transitions == [
        (ClientState.ACTIVE, ClientState.CLOSING),
        (ClientState.CLOSING, ClientState.CLOSED),
    ]


@pytest.mark.anyio
async def test_cancel_while_closing_ends_cancelled() -> None:
    gate = Gate()
    client = HttpClient(Mock(gate.handler), name="closing-then-cancelled")
    errors: list[Exception] = []

    async def fetch() -> None:
        try:
            await client.get(URL)
        except ClientCancelledError as exc:
            errors.append(exc)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(fetch)
            await gate.all_arrived.wait()
            client.close()
            client.cancel()
        await client.join()
    assert len(errors) == 1
    assert client.state is ClientState.CANCELLED


@pytest.mark.anyio
async def test_requests_after_cancel_get_client_closed_error() -> None:
    client = HttpClient(RecordingMock(lambda request: respond("x")), name="cancelled-client")
    client.cancel()
    assert client.state is ClientState.CANCELLED
    with pytest.raises(ClientClosedError) as info:
        await client.get("http://mock.test/after-cancel")
    message = str(info.value)
    assert "cancelled-client" in message
    assert "CANCELLED" in message
    assert "GET http://mock.test/after-cancel" in message
    with anyio.fail_after(GUARD):
        await client.join()
    assert client.state is ClientState.CANCELLED
    assert client.engine.request_history == []  # type: ignore[attr-defined]
    client.close()
    assert client.state is ClientState.CANCELLED


# -- failures count as failed -----------------------------------------------------------------
@pytest.mark.anyio
async def test_a_request_whose_handler_raises_counts_as_failed() -> None:
    def handler(request: Request) -> kclient.MockAnswer:
        if request.url.path == "/down":
            raise ConnectError("connection refused by mock")
        return respond("up")

    client = HttpClient(Mock(handler))
    with pytest.raises(ConnectError, match="connection refused by mock"):
        await client.get("http://mock.test/down")
    assert (await client.get("http://mock.test/up")).text == "up"
    status = client.status()
    assert (status.in_flight, status.completed, status.failed) == (0, 1, 1)
    assert client.state is ClientState.ACTIVE


@pytest.mark.anyio
async def test_an_error_status_with_expect_success_counts_as_failed() -> None:
    def configure(c: kclient.HttpClientConfig) -> None:
        c.expect_success = True

    client = HttpClient(Mock(lambda request: respond_error(503, "busy")), configure)
    with pytest.raises(ServerResponseError) as info:
        await client.get(URL)
    assert info.value.response.status == 503
    status = client.status()
    assert (status.completed, status.failed) == (0, 1)


@pytest.mark.anyio
async def test_an_error_status_without_expect_success_is_a_completed_exchange() -> None:
    client = HttpClient(Mock(lambda request: respond_error(500)))
    response = await client.get(URL)
    assert response.status == 500
    status = client.status()
    assert (status.completed, status.failed) == (1, 0)


# -- observation ------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_states_and_counts_are_observed_in_order() -> None:
    gate = Gate()

    async def handler(request: Request) -> kclient.MockAnswer:
        if request.url.path == "/fail":
            raise ConnectError("refused")
        return await gate.handler(request)

    client = HttpClient(RecordingMock(handler), name="watched")
    seen: list[ClientStatus] = []
    client.on_state_change(seen.append)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.get, URL)
            await gate.all_arrived.wait()
            with pytest.raises(ConnectError):
                await client.get("http://mock.test/fail")
            client.close()
            gate.open()
        await client.join()

    assert all(isinstance(s, ClientStatus) for s in seen)
    states: list[ClientState] = []
    for s in seen:
        if not states or states[-1] is not s.state:
            states.append(s.state)
    assert states == [ClientState.ACTIVE, ClientState.CLOSING, ClientState.CLOSED]

    changes = [s for s in seen if s.state_changed]
    assert [(s.previous, s.state) for s in changes] == [
        (ClientState.ACTIVE, ClientState.CLOSING),
        (ClientState.CLOSING, ClientState.CLOSED),
    ]
    closing, closed = changes
    assert (closing.in_flight, closing.completed, closing.failed) == (1, 0, 1)
    assert (closed.in_flight, closed.completed, closed.failed) == (0, 1, 1)
    assert seen[-1] == closed
    # Count-only notifications keep the state and say so.
    assert all(s.previous is s.state for s in seen if s not in changes)
    assert max(s.in_flight for s in seen) == 2
    assert seen[0].state is ClientState.ACTIVE
    assert seen[0].in_flight == 1


@pytest.mark.anyio
async def test_cancel_is_observed() -> None:
    gate = Gate()
    client = HttpClient(Mock(gate.handler))
    seen: list[ClientStatus] = []
    client.on_state_change(seen.append)

    async def fetch() -> None:
        with pytest.raises(ClientCancelledError):
            await client.get(URL)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(fetch)
            await gate.all_arrived.wait()
            client.cancel()
        await client.join()
    changes = [(s.previous, s.state) for s in seen if s.state_changed]
    assert changes == [(ClientState.ACTIVE, ClientState.CANCELLED)]
    assert (seen[-1].in_flight, seen[-1].completed, seen[-1].failed) == (0, 0, 1)


@pytest.mark.anyio
async def test_unsubscribe_stops_notifications() -> None:
    client = HttpClient(Mock(lambda request: respond("x")))
    seen: list[ClientStatus] = []
    unsubscribe = client.on_state_change(seen.append)
    await client.get(URL)
    count = len(seen)
    assert count > 0
    unsubscribe()
    unsubscribe()  # a second call is harmless
    await client.get(URL)
    client.close()
    with anyio.fail_after(GUARD):
        await client.join()
    assert len(seen) == count
    assert client.status().completed == 2


@pytest.mark.anyio
async def test_a_listener_that_raises_does_not_break_the_client() -> None:
    client = HttpClient(Mock(lambda request: respond("x")))
    calls: list[ClientStatus] = []

    def broken(status: ClientStatus) -> None:
        raise RuntimeError("listener bug")

    client.on_state_change(broken)
    client.on_state_change(calls.append)

    assert (await client.get(URL)).text == "x"
    client.close()
    with anyio.fail_after(GUARD):
        await client.join()
    assert client.state is ClientState.CLOSED
    assert [s.state for s in calls if s.state_changed] == [ClientState.CLOSING, ClientState.CLOSED]
    assert calls[-1].completed == 1


# -- the seed's timeout pattern ---------------------------------------------------------------
@pytest.mark.anyio
async def test_seed_pattern_when_join_finishes_in_time() -> None:
    async def handler(request: Request) -> kclient.MockAnswer:
        await anyio.sleep(0.01)
        return respond("ok")

    client = HttpClient(RecordingMock, engine_config={"handlers": [handler]})
    bodies: list[str] = []
    cancelled = False

    async def fetch() -> None:
        bodies.append((await client.get(URL)).text)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(fetch)
        await wait_all_tasks_blocked()

        try:
            with anyio.fail_after(GUARD):
                client.close()
                await client.join()
        except TimeoutError:
            client.cancel()
            cancelled = True

    assert not cancelled
    assert bodies == ["ok", "ok", "ok"]
    assert client.state is ClientState.CLOSED
    assert client.engine.aclose_calls == 1  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_seed_pattern_when_join_times_out_and_cancel_follows() -> None:
    gate = Gate(expected=3)  # never opened: join cannot finish in time
    client = HttpClient(RecordingMock, engine_config={"handlers": [gate.handler]}, name="seed-client")
    errors: list[ClientCancelledError] = []
    timed_out = False

    async def fetch() -> None:
        try:
            await client.get(URL)
        except ClientCancelledError as exc:
            errors.append(exc)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(fetch)
            await gate.all_arrived.wait()

            try:
                with anyio.fail_after(0.05):
                    client.close()
                    await client.join()
            except TimeoutError:
                client.cancel()
                timed_out = True

        await client.join()

    assert timed_out
    assert len(errors) == 3
    assert all("seed-client" in str(exc) for exc in errors)
    assert client.state is ClientState.CANCELLED
    status = client.status()
    assert (status.in_flight, status.completed, status.failed) == (0, 0, 3)
    assert client.engine.aclose_calls == 1  # type: ignore[attr-defined]


# -- context managers -------------------------------------------------------------------------
@pytest.mark.anyio
async def test_async_with_closes_and_joins_on_exit() -> None:
    gate = Gate()
    with anyio.fail_after(GUARD):
        async with HttpClient(RecordingMock, engine_config={"handlers": [gate.handler]}) as client:
            assert client.state is ClientState.ACTIVE
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.get, URL)
                await gate.all_arrived.wait()
                gate.open()
    assert client.state is ClientState.CLOSED
    assert client.engine.aclose_calls == 1  # type: ignore[attr-defined]
    assert client.status().completed == 1


@pytest.mark.anyio
async def test_async_with_waits_for_requests_still_in_flight() -> None:
    opened = anyio.Event()
    order: list[str] = []

    async def handler(request: Request) -> kclient.MockAnswer:
        order.append("arrived")
        await opened.wait()
        order.append("answered")
        return respond("late")

    async def open_when_all_wait() -> None:
        await wait_all_tasks_blocked()
        order.append("opening")
        opened.set()

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            async with HttpClient(Mock(handler)) as client:
                tg.start_soon(client.get, URL)
                await wait_all_tasks_blocked()
                assert order == ["arrived"]
                tg.start_soon(open_when_all_wait)
            order.append("exited")
            status = client.status()
            assert client.state is ClientState.CLOSED
            assert (status.in_flight, status.completed, status.failed) == (0, 1, 0)
    assert order == ["arrived", "opening", "answered", "exited"]


def test_sync_with_closes_and_joins_on_exit_without_a_running_loop() -> None:
    with HttpClient(RecordingMock, engine_config={"handlers": [lambda request: respond("sync")]}) as client:
        assert client.state is ClientState.ACTIVE
        assert client.blocking.get(URL).text == "sync"
    assert client.state is ClientState.CLOSED
    assert client.engine.aclose_calls == 1  # type: ignore[attr-defined]
    assert client.status().completed == 1


def test_sync_with_lends_and_keeps_the_engine() -> None:
    engine = RecordingMock(lambda request: respond("lent"))
    with HttpClient(engine) as client:
        assert client.blocking.get(URL).text == "lent"
    assert client.state is ClientState.CLOSED
    assert engine.aclose_calls == 0


# -- lent and owned engines -------------------------------------------------------------------
@pytest.mark.anyio
async def test_a_lent_engine_survives_close_and_serves_another_client() -> None:
    engine = RecordingMock(lambda request: respond(request.url.path))
    first = HttpClient(engine)
    assert not first.owns_engine
    assert first.engine is engine
    assert (await first.get("http://mock.test/one")).text == "/one"
    first.close()
    with anyio.fail_after(GUARD):
        await first.join()
    assert first.state is ClientState.CLOSED
    assert engine.aclose_calls == 0

    second = HttpClient(engine)
    assert (await second.get("http://mock.test/two")).text == "/two"
    second.cancel()
    with anyio.fail_after(GUARD):
        await second.join()
    assert engine.aclose_calls == 0
    assert [str(r.url) for r in engine.request_history] == ["http://mock.test/one", "http://mock.test/two"]
    await engine.aclose()
    assert engine.aclose_calls == 1


@pytest.mark.anyio
async def test_an_owned_engine_is_closed_exactly_once() -> None:
    client = HttpClient(RecordingMock, engine_config={"handlers": [lambda request: respond("owned")]})
    assert client.owns_engine
    engine = client.engine
    assert isinstance(engine, RecordingMock)
    assert (await client.get(URL)).text == "owned"
    client.close()
    client.cancel()  # before the release ran: CLOSING -> CANCELLED, and still one release
    with anyio.fail_after(GUARD):
        await client.join()
        await client.join()
    assert engine.aclose_calls == 1
    assert client.state is ClientState.CANCELLED


@pytest.mark.anyio
async def test_cancel_releases_an_owned_engine() -> None:
    client = HttpClient(RecordingMock, engine_config={"handlers": [lambda request: respond("x")]})
    client.cancel()
    with anyio.fail_after(GUARD):
        await client.join()
    assert client.state is ClientState.CANCELLED
    assert client.engine.aclose_calls == 1  # type: ignore[attr-defined]


def test_repr_says_whether_the_engine_is_owned_or_lent() -> None:
    lent = HttpClient(Mock(), name="lender")
    owned = HttpClient(Mock, name="owner")
    assert "lent" in repr(lent)
    assert "lender" in repr(lent)
    assert "owned" in repr(owned)
    assert "state=ACTIVE" in repr(owned)


class EndlessStream:
    """A response body that sends one chunk and then never another."""

    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self) -> Any:
        yield b"first"
        await anyio.Event().wait()

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_cancel_interrupts_a_streamed_body_being_read() -> None:
    stream = EndlessStream()
    client = HttpClient(
        Mock(lambda request: kclient.Response(200, request=request, stream=stream)), name="streaming-client"
    )
    chunks: list[bytes] = []
    errors: list[ClientCancelledError] = []

    async def reader() -> None:
        try:
            async with client.stream("GET", URL) as response:
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
        except ClientCancelledError as exc:
            errors.append(exc)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(reader)
            await wait_all_tasks_blocked()
            assert chunks == [b"first"]
            assert client.status().in_flight == 1
            client.cancel()
        await client.join()
    assert len(errors) == 1
    assert "streaming-client" in str(errors[0])
    assert stream.closed
    assert client.state is ClientState.CANCELLED


def test_sync_with_closes_even_when_the_block_raises() -> None:
    with pytest.raises(LookupError, match="from the block"):
        with HttpClient(RecordingMock, engine_config={"handlers": [lambda request: respond("x")]}) as client:
            raise LookupError("from the block")
    assert client.state is ClientState.CLOSED
    assert client.engine.aclose_calls == 1  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_async_with_closes_even_when_the_block_raises() -> None:
    with pytest.raises(LookupError, match="from the block"):
        async with HttpClient(RecordingMock, engine_config={"handlers": [lambda request: respond("x")]}) as client:
            await client.get(URL)
            raise LookupError("from the block")
    assert client.state is ClientState.CLOSED
    assert client.engine.aclose_calls == 1  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_several_tasks_may_join_at_once() -> None:
    gate = Gate()
    client = HttpClient(Mock(gate.handler))
    joined: list[int] = []

    async def joiner(i: int) -> None:
        await client.join()
        joined.append(i)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.get, URL)
            await gate.all_arrived.wait()
            for i in range(3):
                tg.start_soon(joiner, i)
            client.close()
            await wait_all_tasks_blocked()
            assert joined == []
            gate.open()
    assert sorted(joined) == [0, 1, 2]
    assert client.state is ClientState.CLOSED


@pytest.mark.anyio
async def test_cancel_wins_over_a_pending_request_timeout() -> None:
    gate = Gate()  # never opened
    client = HttpClient(Mock(gate.handler), lambda c: c.install(kclient.HttpTimeout, request_timeout=60))
    errors: list[Exception] = []

    async def fetch() -> None:
        try:
            await client.get(URL, timeout=30)
        except KClientError as exc:
            errors.append(exc)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(fetch)
            await gate.all_arrived.wait()
            client.cancel()
        await client.join()
    assert len(errors) == 1
    assert type(errors[0]) is ClientCancelledError
