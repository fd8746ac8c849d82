"""The running side of the lifecycle: in-flight requests, counts, subscribers and release.

``_states`` decides *which* state comes next; this module makes it happen. Every
in-flight request holds a cancel scope registered here (a ``TaskScope`` on asyncio, an
anyio ``CancelScope`` on trio), so ``cancel()`` can halt them all at once. The engine is
released exactly once, as soon as the client is closing or cancelled and nothing is in
flight: by the last request to finish, by a task scheduled from ``close()``/``cancel()``
when nothing was in flight, or by ``join()``.

anyio, asyncio, sniffio and logging are imported on first use, to keep ``import kclient`` cheap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import ClientClosedError
from ._states import ClientState, LifecycleEvent, next_state

if TYPE_CHECKING:
    import asyncio

    import anyio

    from ._cancel import TaskScope

    #: What holds one in-flight request, so that ``cancel()`` can halt it.
    RequestScope = TaskScope | anyio.CancelScope

__all__ = ["ClientStatus", "Lifecycle", "StatusListener"]


@dataclass(frozen=True, slots=True)
class ClientStatus:
    """A snapshot of a client: its state and its request counts, as subscribers receive it."""

    state: ClientState
    previous: ClientState
    in_flight: int
    completed: int
    failed: int

    @property
    def state_changed(self) -> bool:
        """True when this notification is a state transition (not only a count change)."""
        return self.state is not self.previous


StatusListener = Callable[[ClientStatus], None]


#: ``ClientState.ACTIVE`` for the per-request checks (an enum member lookup costs a descriptor call).
_ACTIVE = ClientState.ACTIVE
#: ``TaskScope`` and ``asyncio._get_running_loop``, imported by the first request (this is the
#: hot path, and ``import kclient`` must not import asyncio).
_task_scope: Callable[[], TaskScope]  # set with _running_loop
_running_loop: Callable[[], object] | None = None


class Lifecycle:
    """State, in-flight requests and subscribers of one client."""

    def __init__(self, owner: str, release: Callable[[], Awaitable[None]]) -> None:
        self._owner = owner
        self._release_engine = release
        self._state = ClientState.ACTIVE
        self._scopes: set[RequestScope] = set()
        self._completed = 0
        self._failed = 0
        self._listeners: list[StatusListener] = []
        self._release_started = False
        self._released = False
        self._waiters: list[anyio.Event] = []
        self._background: set[asyncio.Task[None]] = set()

    # -- observation ------------------------------------------------------------------------
    @property
    def state(self) -> ClientState:
        return self._state

    @property
    def released(self) -> bool:
        """True once the engine was released (the client holds no resources any more)."""
        return self._released

    def status(self, previous: ClientState | None = None) -> ClientStatus:
        return ClientStatus(
            state=self._state,
            previous=previous if previous is not None else self._state,
            in_flight=len(self._scopes),
            completed=self._completed,
            failed=self._failed,
        )

    def subscribe(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener(status)`` on every change of state or counts; returns an unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _notify(self, previous: ClientState) -> None:
        status = self.status(previous)
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:
                _log_exception("A state listener of %s raised; the client goes on.", self._owner)

    def _apply(self, event: LifecycleEvent) -> None:
        previous = self._state
        self._state = next_state(previous, event)
        if self._state is not previous:
            self._notify(previous)

    # -- requests ---------------------------------------------------------------------------
    def begin(self, what: Callable[[], str]) -> RequestScope:
        """Register a request about to start; raises ``ClientClosedError`` unless ACTIVE.

        ``what()`` names the request in that error (called only then: this is the hot path).
        """
        if self._state is not _ACTIVE:
            raise ClientClosedError(
                f"{self._owner} is {self._state} and accepts no new requests, so {what()} was not sent. "
                "Create a new HttpClient for new requests."
            )
        scope = self._new_scope()
        self._scopes.add(scope)
        if self._listeners:
            self._notify(self._state)
        return scope

    def _new_scope(self) -> RequestScope:
        """A ``TaskScope`` on asyncio (cheap: see ``_cancel``), else (trio) an ``anyio.CancelScope``."""
        global _task_scope, _running_loop
        if _running_loop is None:
            from asyncio import _get_running_loop

            from ._cancel import TaskScope

            _task_scope, _running_loop = TaskScope, _get_running_loop
        if _running_loop() is not None:
            return _task_scope()
        import anyio

        return anyio.CancelScope()

    def end(self, scope: RequestScope, *, ok: bool) -> bool:
        """Unregister a finished request. True when it was the last one out of a closing client:
        the caller then releases the engine with ``await lifecycle.release()``.

        Synchronous, so that the hot path does not make a coroutine per request for the rare release.
        """
        self._scopes.discard(scope)
        if ok:
            self._completed += 1
        else:
            self._failed += 1
        if self._listeners:
            self._notify(self._state)
        return self._state is not _ACTIVE and self._must_release()

    # -- lifecycle calls --------------------------------------------------------------------
    def close(self) -> None:
        """Refuse new requests; in-flight ones finish, then the engine is released."""
        self._apply(LifecycleEvent.CLOSE)
        if self._must_release():
            self._schedule_release()

    def cancel(self) -> None:
        """Cancel every in-flight request now and release the engine."""
        self._apply(LifecycleEvent.CANCEL)
        for scope in list(self._scopes):
            scope.cancel()
        if self._must_release():
            self._schedule_release()

    async def join(self) -> None:
        """Wait until the client is CLOSED or CANCELLED and its engine released."""
        import anyio

        while not (self._released and self._state.is_terminal):
            if self._must_release():
                await self.release()
                continue
            event = anyio.Event()
            self._waiters.append(event)
            await event.wait()

    # -- release ----------------------------------------------------------------------------
    def _must_release(self) -> bool:
        return (
            self._state in (ClientState.CLOSING, ClientState.CANCELLED)
            and not self._scopes
            and not self._release_started
        )

    def _schedule_release(self) -> None:
        """Start the release from synchronous code: as a task where a loop runs, else now."""
        import sniffio

        try:
            library = sniffio.current_async_library()
        except sniffio.AsyncLibraryNotFoundError:
            library = None
        if library == "asyncio":
            import asyncio

            task = asyncio.get_running_loop().create_task(self.release())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        elif library == "trio":
            import trio

            trio.lowlevel.spawn_system_task(self.release)
        else:
            from ._runner import run

            run(self.release())

    async def release(self) -> None:
        """Release the engine (once; later calls return at once)."""
        if self._release_started:
            return
        self._release_started = True
        import anyio

        try:
            with anyio.CancelScope(shield=True):
                await self._release_engine()
        except Exception:
            _log_exception("Releasing the engine of %s failed; its resources may leak.", self._owner)
        finally:
            self._released = True
            self._apply(LifecycleEvent.RELEASED)
            waiters, self._waiters = self._waiters, []
            for event in waiters:
                event.set()


def _log_exception(message: str, *args: object) -> None:
    import logging

    logging.getLogger("kclient").exception(message, *args)
