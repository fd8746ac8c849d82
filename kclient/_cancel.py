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
import math
import sys
import weakref
from types import TracebackType

__all__ = ["DeadlineScope", "DeadlineWatch", "TaskScope"]

if sys.version_info >= (3, 12):
    _current_task = asyncio.current_task  # implemented in C
else:
    from asyncio.tasks import _current_tasks  # type: ignore[attr-defined]

    def _current_task() -> asyncio.Task[object] | None:
        """``asyncio.current_task()`` without its Python-level call of ``get_running_loop`` (3.11)."""
        loop = asyncio._get_running_loop()
        return None if loop is None else _current_tasks.get(loop)


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
        self._task = _current_task()
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

    The deadline is kept by the loop's ``DeadlineWatch`` (one timer for every request of the
    loop) rather than by a timer or an ``anyio`` cancel scope of its own: a timeout then costs
    a dict insert and delete per request instead of several microseconds. After the ``with``
    block, ``cancelled_caught`` tells that the deadline interrupted it.
    """

    __slots__ = ("_watch",)

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        super().__init__()
        watch = _WATCHES.get(loop)
        if watch is None:
            watch = _WATCHES[loop] = DeadlineWatch(loop)
        self._watch = watch
        watch.add(self, loop.time() + seconds)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> bool:
        self._watch.discard(self)
        return super().__exit__(exc_type, exc, traceback)


class DeadlineWatch:
    """The deadlines of one event loop's requests, behind a single timer.

    The timer is set for the earliest deadline. A new request moves it only when its
    deadline is earlier (with one timeout for every request, it never is); a request that
    ends just leaves the table, and the timer stays until it fires. When it fires it
    cancels the scopes whose deadline has passed and is set again for the earliest one
    left: one scan of the requests in flight per timer, not one timer per request.
    """

    __slots__ = ("__weakref__", "_deadlines", "_handle", "_loop", "_when")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # A weak reference: ``_WATCHES`` is keyed by the loop weakly, and a watch holding its loop
        # would keep every loop that ever ran a request with a timeout alive.
        self._loop = weakref.ref(loop)
        self._deadlines: dict[TaskScope, float] = {}
        self._handle: weakref.ref[asyncio.TimerHandle] | None = None
        self._when = math.inf

    def add(self, scope: TaskScope, deadline: float) -> None:
        self._deadlines[scope] = deadline
        if deadline < self._when:
            self._arm(deadline)

    def discard(self, scope: TaskScope) -> None:
        # The timer stays set even when nothing is left to watch: the next request (usually
        # with a later deadline) then finds it armed, and a timer that fires on an empty table
        # costs one call. Cancelling and re-arming it for every sequential request would not.
        self._deadlines.pop(scope, None)

    def _arm(self, when: float) -> None:
        loop = self._loop()
        handle = self._handle() if self._handle is not None else None
        if handle is not None:
            handle.cancel()
        self._handle = None
        if loop is None or loop.is_closed():
            return
        # Weak as well: a timer handle refers to its loop.
        self._handle = weakref.ref(loop.call_at(when, self._fire))
        self._when = when

    def _fire(self) -> None:
        self._handle, self._when = None, math.inf
        loop = self._loop()
        if loop is None:
            return
        # asyncio runs a timer up to its clock resolution early: a deadline that close counts as
        # reached, or the timer would be set again for the same instant, over and over.
        now = loop.time() + _EARLY
        expired = [scope for scope, deadline in self._deadlines.items() if deadline <= now]
        for scope in expired:
            del self._deadlines[scope]
            scope.cancel()
        if self._deadlines:
            self._arm(min(self._deadlines.values()))


#: How early (seconds) a deadline may be taken as reached: above asyncio's clock resolution.
_EARLY = 1e-6

#: One watch per event loop (a loop that is garbage collected takes its watch with it).
_WATCHES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, DeadlineWatch] = weakref.WeakKeyDictionary()
