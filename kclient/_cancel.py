"""A cancel scope for one request on asyncio: what ``cancel()`` uses to halt a request there.

``anyio.CancelScope`` is general (nested scopes, shielding, deadlines) and costs a few
microseconds to create, enter and leave, on every request. A request needs much less:
``cancel()`` must interrupt the one task that runs it, and the request must tell its own
cancellation apart from any other. ``TaskScope`` does that with asyncio's own counting
(``Task.cancel`` / ``Task.uncancel``, Python 3.11): it swallows the ``CancelledError`` it
caused, and only when nobody else cancelled the task too, so an outer cancellation
(a task group, ``asyncio.timeout``, a cancelled cell) always propagates. Under trio the
lifecycle keeps using ``anyio.CancelScope``.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

__all__ = ["DeadlineScope", "TaskScope"]


class TaskScope:
    """Enter it in the task that runs the request; ``cancel()`` from the same event loop's thread.

    ``cancel()`` from another task or a callback interrupts the request's task where it waits,
    which is inside the scope. From the request's own task, the interruption is delivered on
    the next turn of the loop, and only if the task is still inside the scope then: a
    cancellation asked for but never delivered would otherwise hit the task later, outside.
    """

    __slots__ = ("_issued", "_task", "cancel_called", "cancelled_caught")

    def __init__(self) -> None:
        self._task: asyncio.Task[object] | None = None
        self._issued = False
        self.cancel_called = False
        self.cancelled_caught = False

    def __enter__(self) -> TaskScope:
        self._task = asyncio.current_task()
        if self.cancel_called:  # cancelled before it began
            self._interrupt()
        return self

    def cancel(self) -> None:
        if self.cancel_called:
            return
        self.cancel_called = True
        if self._task is not None:
            self._interrupt()

    def _interrupt(self) -> None:
        current = asyncio.current_task()
        if current is None or current is not self._task:
            self._deliver()
            return
        current.get_loop().call_soon(self._deliver)

    def _deliver(self) -> None:
        task = self._task
        if task is not None and not self._issued:  # still inside the scope, waiting
            self._issued = True
            task.cancel()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> bool:
        task, self._task = self._task, None
        if not self._issued or task is None:
            return False
        # Our cancellation was delivered: take it back.
        others = task.uncancel()
        if isinstance(exc, asyncio.CancelledError) and others == 0:
            self.cancelled_caught = True
            return True  # the request was cancelled by us, and only by us
        return False


class DeadlineScope(TaskScope):
    """A ``TaskScope`` that cancels itself ``seconds`` after it is created: a request timeout.

    One ``loop.call_later`` handle (cancelled on exit) instead of an ``anyio`` cancel scope
    with a deadline: the timeout costs about a microsecond a request instead of ten. After
    the ``with`` block, ``cancelled_caught`` tells that the deadline interrupted it.
    """

    __slots__ = ("_handle",)

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        super().__init__()
        self._handle = loop.call_later(seconds, self.cancel)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> bool:
        self._handle.cancel()
        return super().__exit__(exc_type, exc, traceback)
