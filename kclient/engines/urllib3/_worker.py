"""Worker-thread steps and their cancellation: each blocking step of an exchange is a ``_Call`` run by
``_in_worker``, which shows it to the pools through a thread-local; when the awaiting task is cancelled,
the call's socket (or the one it is connecting, shown by an audit hook) is shut down to wake the thread,
and exactly one side, the task or the thread, cleans up what the step got."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from urllib3._base_connection import BaseHTTPConnection

__all__ = ["_Abandoned", "_BodyFailed", "_Call", "_current_call", "_in_worker", "_install_audit_hook"]

T = TypeVar("T")

# -- one blocking step on a worker thread -----------------------------------------------------

_PENDING, _RUNNING, _DONE, _ABANDONED = range(4)

_local = threading.local()


class _Abandoned(OSError):
    """Raised on a worker thread whose awaiting task has gone: the exchange stops there."""


class _BodyFailed(Exception):
    """The request body (an async iterable) raised ``error``: re-raised as it is on the event loop."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _current_call() -> _Call | None:
    return cast("_Call | None", getattr(_local, "call", None))


def _shutdown(conn: object, connecting: socket.socket | None = None) -> None:
    """Shut a connection's socket down for reading and writing: a thread blocked on it wakes up.

    ``connecting`` is the socket the thread is connecting, before urllib3 gives it to ``conn``
    (shut down, it ends a blocked ``connect()`` too). The socket is not closed here (its thread
    still uses it; urllib3 closes it there).
    """
    sock = getattr(conn, "sock", None)
    while sock is not None and not isinstance(sock, socket.socket):
        sock = getattr(sock, "socket", None)  # TLS inside TLS (an HTTPS proxy) wraps the socket
    for each in (sock, connecting):
        if each is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(each, socket.SHUT_RDWR)  # not SSLSocket.shutdown, which drops its state


def _on_audit_event(event: str, args: tuple[Any, ...]) -> None:
    """The audit hook that shows a worker thread's call each socket just before it connects.

    urllib3 creates and connects a socket in one function, so nothing else reaches a socket
    whose ``connect()`` may block for minutes (a host that drops SYNs, no connect timeout): a
    cancelled request could not wake its thread, which would hold its worker thread (and, on
    trio, its place under ``thread_count``) until the OS gives up. Only worker threads running
    a call of this engine do anything here.
    """
    if event == "socket.connect":
        call = getattr(_local, "call", None)
        if call is not None:
            call.connecting(args[0])


@cache
def _install_audit_hook() -> None:
    """Install ``_on_audit_event`` once per process (audit hooks cannot be removed; were two threads to
    install it at once, each connect would be shown twice, which changes nothing)."""
    sys.addaudithook(_on_audit_event)


class _Call:
    """One blocking step of an exchange, run on a worker thread, and who cleans up after it.

    PENDING -> RUNNING (the thread began) -> DONE (the result is handed over), or ABANDONED
    when the awaiting task went away: before the thread began, the task cleans up (the thread
    will do nothing); while it runs, its socket is shut down and the thread cleans up what it
    got; once done, the task cleans the result up.
    """

    __slots__ = ("_cleanup", "_conn", "_connecting", "_lock", "_result", "_state", "fresh", "reused")

    def __init__(self, cleanup: Callable[[Any], None], conn: object = None) -> None:
        self._lock = threading.Lock()
        self._state = _PENDING
        self._result: Any = None
        self._cleanup = cleanup
        self._conn = conn
        #: The socket the thread is connecting, before urllib3 hands it to the connection.
        self._connecting: socket.socket | None = None
        #: Set on the worker: take a new connection, never a pooled one (the keep-alive retry).
        self.fresh = False
        #: Set on the worker: the connection came from the pool, already connected.
        self.reused = False

    @property
    def abandoned(self) -> bool:
        return self._state == _ABANDONED

    # -- on the worker thread -------------------------------------------------------------------
    def begin(self) -> bool:
        with self._lock:
            if self._state != _PENDING:
                return False
            self._state = _RUNNING
            return True

    def took(self, conn: BaseHTTPConnection) -> None:
        """The pool handed ``conn`` over (urllib3 has already dropped it if the server closed it)."""
        reused = not conn.is_closed
        if reused and self.fresh:
            conn.close()  # the same object connects again, to a new connection
            reused = False
        self.reused = reused
        try:
            self.connected(conn)
        except _Abandoned:
            conn.close()  # urllib3 never got hold of it (it gives the pool back an empty slot)
            raise

    def connected(self, conn: BaseHTTPConnection) -> None:
        with self._lock:
            self._conn = conn
            abandoned = self._state == _ABANDONED
        if abandoned:
            raise _Abandoned("the request was cancelled")

    def connecting(self, sock: socket.socket) -> None:
        """``sock`` is about to connect (the audit hook): known now, a cancellation can wake a blocked connect."""
        with self._lock:
            self._connecting = sock
            abandoned = self._state == _ABANDONED
        if abandoned:
            raise _Abandoned("the request was cancelled")

    def released(self, conn: BaseHTTPConnection) -> None:
        """``conn`` goes back to its pool (its answer was read to the end): another request may take it
        now, so a cancellation of this call must no longer shut its socket down."""
        with self._lock:
            if self._conn is conn:
                self._conn = self._connecting = None

    def end(self, result: object) -> bool:
        """The thread is done: True when ``result`` goes to the awaiting task, False when it was cleaned up."""
        with self._lock:
            if self._state == _RUNNING:
                self._state = _DONE
                self._result = result
                return True
        self._cleanup(result)
        return False

    # -- on the event loop ----------------------------------------------------------------------
    def abandon(self) -> None:
        """The awaiting task has gone (cancelled): make sure someone cleans up, once."""
        with self._lock:
            state, result = self._state, self._result
            self._result = None
            if state in (_PENDING, _RUNNING):
                self._state = _ABANDONED
            if state == _RUNNING:
                # Under the lock: once released() has run, the connection may already serve another request.
                _shutdown(self._conn, self._connecting)
        if state in (_PENDING, _DONE):
            self._cleanup(result)

    def interrupt(self) -> None:
        """Wake a running thread by shutting its socket down (the engine is closing)."""
        with self._lock:
            if self._state == _RUNNING:
                _shutdown(self._conn, self._connecting)


def _in_worker(call: _Call, step: Callable[[], T]) -> T:
    """Run ``step`` on this worker thread as ``call`` (pools find the call in a thread-local)."""
    if not call.begin():
        return cast(T, None)  # abandoned before the thread began: the task has cleaned up
    _local.call = call
    try:
        result = step()
    except BaseException:
        call.end(None)
        raise
    finally:
        _local.call = None
    return result if call.end(result) else cast(T, None)
