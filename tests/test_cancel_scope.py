"""TaskScope: the cheap per-request cancel scope on asyncio (kclient/_cancel.py)."""

from __future__ import annotations

import asyncio

import pytest

from kclient._cancel import TaskScope

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
