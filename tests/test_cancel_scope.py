"""TaskScope: the cheap per-request cancel scope on asyncio (kclient/_cancel.py)."""

from __future__ import annotations

import asyncio

import pytest

from kclient._cancel import DeadlineScope, TaskScope

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # TaskScope is asyncio's (under trio the lifecycle uses anyio.CancelScope)


async def test_cancel_inside_the_scope_is_swallowed_and_reported() -> None:
    scope = TaskScope()
    with scope:
        asyncio.get_running_loop().call_soon(scope.cancel)
        await asyncio.sleep(10)
    task = asyncio.current_task()
    assert task is not None
    assert scope.cancelled_caught
    assert task.cancelling() == 0


async def test_cancelled_before_it_is_entered_cancels_at_the_first_await() -> None:
    scope = TaskScope()
    scope.cancel()
    with scope:
        await asyncio.sleep(10)
    assert scope.cancelled_caught


async def test_an_outer_cancellation_as_well_propagates() -> None:
    """The task was cancelled by someone else too: the scope must not swallow it."""

    async def inner(scope: TaskScope, started: asyncio.Event) -> None:
        with scope:
            started.set()
            await asyncio.sleep(10)

    scope, started = TaskScope(), asyncio.Event()
    task = asyncio.create_task(inner(scope, started))
    await started.wait()
    scope.cancel()
    task.cancel()  # an outer cancellation (a task group, a cancelled cell...)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert not scope.cancelled_caught


async def test_cancel_after_the_scope_is_left_does_nothing() -> None:
    scope = TaskScope()
    with scope:
        await asyncio.sleep(0)
    scope.cancel()
    await asyncio.sleep(0.01)  # not interrupted: a CancelledError here would fail the test
    assert not scope.cancelled_caught


async def test_another_error_while_cancelling_propagates_and_the_cancel_is_taken_back() -> None:
    scope = TaskScope()
    with pytest.raises(KeyError), scope:
        scope.cancel()
        raise KeyError("boom")
    task = asyncio.current_task()
    assert task is not None
    await asyncio.sleep(0)  # the cancellation asked for was taken back: no CancelledError here
    assert task.cancelling() == 0


# -- DeadlineScope: the request timeout on asyncio ----------------------------------------------


async def test_deadline_interrupts_and_is_reported() -> None:
    loop = asyncio.get_running_loop()
    with DeadlineScope(loop, 0.05) as scope:
        await asyncio.sleep(10)
    task = asyncio.current_task()
    assert task is not None
    assert scope.cancelled_caught
    assert task.cancelling() == 0


async def test_deadline_not_reached_leaves_no_timer_behind() -> None:
    loop = asyncio.get_running_loop()
    with DeadlineScope(loop, 0.05) as scope:
        await asyncio.sleep(0)
    await asyncio.sleep(0.1)  # past the deadline: the cancelled timer must not fire into the task
    assert not scope.cancelled_caught
    assert not scope.cancel_called


async def test_an_outer_timeout_wins_over_a_longer_deadline() -> None:
    loop = asyncio.get_running_loop()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            with DeadlineScope(loop, 10) as scope:
                await asyncio.sleep(10)
    assert not scope.cancelled_caught


async def test_one_watch_serves_concurrent_deadlines_in_their_order() -> None:
    loop = asyncio.get_running_loop()
    fired: list[str] = []

    async def wait(label: str, seconds: float) -> None:
        with DeadlineScope(loop, seconds) as scope:
            await asyncio.sleep(10)
        assert scope.cancelled_caught
        fired.append(label)

    async def finish_early() -> None:
        with DeadlineScope(loop, 0.05) as scope:
            await asyncio.sleep(0)
        assert not scope.cancelled_caught
        fired.append("early")

    # The long deadline arms the timer first; the shorter ones must move it earlier.
    await asyncio.gather(wait("slow", 0.3), wait("fast", 0.1), wait("medium", 0.2), finish_early())
    assert fired == ["early", "fast", "medium", "slow"]


def test_a_closed_loop_is_not_kept_alive_by_its_deadlines() -> None:
    import gc
    import weakref

    async def one_request_with_a_timeout() -> None:
        with DeadlineScope(asyncio.get_running_loop(), 100):
            await asyncio.sleep(0)

    refs = []
    for _ in range(3):
        loop = asyncio.new_event_loop()
        loop.run_until_complete(one_request_with_a_timeout())
        loop.close()
        refs.append(weakref.ref(loop))
        del loop
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]
