"""The reentrant runner: run kclient's coroutines from synchronous code, anywhere.

Three situations, one function (:func:`run`):

* no event loop runs in this thread (a script, a plain REPL): the coroutine runs on
  a private asyncio loop kept per thread, so connections pooled by one call serve
  the next;
* an asyncio loop runs in this thread (a Jupyter kernel, a widget callback, a magic):
  the loop is made reentrant with nest-asyncio2 and the coroutine runs on it, sharing
  the connections of ``await`` code in the same kernel (``asyncio.run`` and
  ``get_event_loop`` keep their stock behaviour);
* a trio run is active: synchronous calls cannot re-enter trio; ``RuntimeError`` says
  to ``await`` instead.

``asyncio.run`` is never called: it would create a new loop inside a running one.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import weakref
from collections.abc import Awaitable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

__all__ = ["run"]

T = TypeVar("T")

_local = threading.local()
# asyncio is imported on first use: it costs more than all of kclient's other imports.
_private_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
_reentrant_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
_ABSENT = object()


def run(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to completion from synchronous code and return its result.

    Works with no loop running (private per-thread loop) and inside a running asyncio
    loop (made reentrant). Raises ``RuntimeError`` inside trio, where ``await`` is needed.
    """
    import asyncio

    coro = _as_coroutine(awaitable)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None:
        if _in_trio():
            coro.close()
            raise RuntimeError("kclient's blocking calls cannot run inside trio: use `await client.get(...)`.")
        return _private_loop().run_until_complete(coro)
    try:
        _make_reentrant(loop)
    except RuntimeError:
        coro.close()  # never started: no "coroutine was never awaited" warning beside the error
        raise
    return loop.run_until_complete(coro)


def _as_coroutine(awaitable: Awaitable[T]) -> Coroutine[Any, Any, T]:
    if isinstance(awaitable, Coroutine):
        return awaitable

    async def wrapper() -> T:
        return await awaitable

    return wrapper()


def _in_trio() -> bool:
    import sniffio

    try:
        return sniffio.current_async_library() == "trio"
    except sniffio.AsyncLibraryNotFoundError:
        return False


class _PrivateLoop:
    """Holds a thread's private loop in ``_local`` and closes it when the thread ends.

    A thread's ``threading.local`` data is dropped when the thread ends; without this the
    loop would be garbage collected unclosed (``ResourceWarning: unclosed event loop``).
    The closing is a ``weakref.finalize`` of the holder, which keeps the loop alive until it
    has run: were it the holder's ``__del__``, a garbage collection that takes both could
    finalize the loop first. The main thread's loop is closed at exit by ``_close_private_loops``.
    """

    __slots__ = ("__weakref__", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        import weakref

        self.loop = loop
        weakref.finalize(self, _close_idle_loop, loop)


def _close_idle_loop(loop: asyncio.AbstractEventLoop) -> None:
    if not loop.is_closed() and not loop.is_running():
        loop.close()


def _private_loop() -> asyncio.AbstractEventLoop:
    import asyncio

    holder: _PrivateLoop | None = getattr(_local, "private", None)
    if holder is None or holder.loop.is_closed():
        holder = _PrivateLoop(asyncio.new_event_loop())
        _local.private = holder
        _private_loops.add(holder.loop)
    return holder.loop


def _make_reentrant(loop: asyncio.AbstractEventLoop) -> None:
    import asyncio

    if loop in _reentrant_loops:
        return
    if not isinstance(loop, asyncio.BaseEventLoop):
        kind = f"{type(loop).__module__}.{type(loop).__qualname__}"
        raise RuntimeError(
            f"kclient's blocking calls cannot run inside a running {kind} loop: only asyncio's own loops can be "
            "re-entered (uvloop's cannot). Use `await client.get(...)` in this loop, or make the blocking call "
            "from a thread where no loop runs."
        )
    import nest_asyncio2

    with _asyncio_entry_points_kept():
        nest_asyncio2.apply(loop)
    _reentrant_loops.add(loop)


@contextlib.contextmanager
def _asyncio_entry_points_kept() -> Iterator[None]:
    """Undo nest-asyncio2's process-wide changes to ``asyncio.run`` and ``get_event_loop``.

    Reentrancy needs only the patched loop class and asyncio's Python tasks. nest-asyncio2
    also replaces ``asyncio.run`` (on Python 3.11 it then reuses the thread's current loop
    and never closes it) and makes ``get_event_loop()`` create loops in any thread: after
    one nested call, a script's or a thread's later ``asyncio.run`` would leave an unclosed
    loop behind. Those entry points keep their stock behaviour.
    """
    import asyncio
    from asyncio import events

    policy_class = type(events.get_event_loop_policy())
    entries = [(asyncio, "run"), (asyncio, "get_event_loop"), (events, "get_event_loop"), (events, "_get_event_loop")]
    module_entries = [(module, name, getattr(module, name, _ABSENT)) for module, name in entries]
    policy_entry = policy_class.__dict__.get("get_event_loop")
    try:
        yield
    finally:
        for module, name, value in module_entries:
            if value is _ABSENT:
                module.__dict__.pop(name, None)
            else:
                setattr(module, name, value)
        if policy_entry is None:
            with contextlib.suppress(AttributeError):
                delattr(policy_class, "get_event_loop")
        else:
            policy_class.get_event_loop = policy_entry  # type: ignore[method-assign]


@atexit.register
def _close_private_loops() -> None:
    for loop in list(_private_loops):
        if not loop.is_closed() and not loop.is_running():
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
