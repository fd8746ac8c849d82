"""kclient's bookkeeping for the httpcore connection pool under the Httpx engine.

httpcore (1.0.9) runs ``AsyncConnectionPool._assign_requests_to_connections`` whenever a
request enters or leaves the pool. Three flaws of that pass reach kclient's users:

* Cancelled requests leave connections behind (encode/httpcore#1093): a queued request is
  given a new connection that is opened only when its task runs again; if the task is
  cancelled in between, the connection is never opened, closed or reused, and holds one of
  the ``max_connections`` slots for good. Once all are taken, every request waits forever.
* One idle HTTP/1.1 connection is handed to every queued request in a pass (the connection
  stays idle until the first of them starts on it); the others wake up, find it taken, queue
  again and run another pass. Many concurrent requests thus cost many passes each.
* The pass grows with the pool: it asks every idle connection whether it has expired, a
  ``poll()`` of its socket each time, and its surplus keep-alive check counts every
  connection once per idle connection (comparing all of them, not the idle ones, with
  ``max_keepalive_connections``: it closes connections that the setting should keep).

After 50 concurrent requests the pool holds 50 connections, and the pass was most of
httpx's time per request, even for requests sent one at a time. :func:`keep_pool` replaces
the pass of one pool with a :class:`PoolKeeper`, which keeps httpcore's decisions (oldest
connection first, expired and closed ones dropped, a new connection while under
``max_connections``, else an idle one closed to make room) and mends the flaws: a connection
never opened and held by no request is dropped; a reserved HTTP/1.1 connection is not
offered again (HTTP/2 ones are, to multiplex); idle connections are counted once, reserved
ones are neither counted nor closed; a connection is asked whether it has expired when it
is about to be reused, and all idle ones at most once a second.

This reads httpcore's private attributes, so it runs only on the httpcore releases it was
verified with (:data:`VERIFIED_HTTPCORE`, through the newest the registry served when it was
last checked). On any other release, or a pool without those attributes, :func:`keep_pool`
leaves the pool as it is and warns once: httpx then runs with httpcore's own pass, slower
and with its flaws, but as httpcore meant it.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

__all__ = ["PoolKeeper", "keep_pool"]

#: The attributes of ``AsyncConnectionPool`` that :class:`PoolKeeper` reads.
_POOL_ATTRIBUTES = ("_connections", "_requests", "_max_connections", "_max_keepalive_connections", "create_connection")
#: The httpcore releases (major, minor, patch), inclusive, the keeper was verified with by
#: tests/test_httpcore_pool.py and tests/engines (the Httpx engine).
VERIFIED_HTTPCORE = ((1, 0, 0), (1, 0, 9))
#: Seconds between two checks of every idle connection for expiry (keep-alive time, closed by the server).
SWEEP_INTERVAL = 1.0


def keep_pool(pool: Any) -> bool:
    """Make ``pool`` (an httpcore ``AsyncConnectionPool``) run a :class:`PoolKeeper` as its pass.

    Returns whether it did: a pool without the attributes the keeper reads (another httpcore)
    keeps its own pass.
    """
    if pool is None:
        return False
    if not verified(_httpcore_version()) or not all(
        hasattr(pool, a) for a in ("_assign_requests_to_connections", *_POOL_ATTRIBUTES)
    ):
        _warn_once(_httpcore_version())
        return False
    pool._assign_requests_to_connections = PoolKeeper(pool)
    return True


def verified(version: str) -> bool:
    """Whether ``version`` (httpcore's ``__version__``) is one the keeper was verified with."""
    try:
        number = tuple(int(part) for part in version.split(".")[:3])
    except ValueError:
        return False
    low, high = VERIFIED_HTTPCORE
    return len(number) == 3 and low <= number <= high


def _httpcore_version() -> str:
    import httpcore

    return str(getattr(httpcore, "__version__", "unknown"))


_warned: list[bool] = []


def _warn_once(version: str) -> None:
    if _warned:
        return
    _warned.append(True)
    low, high = (".".join(map(str, v)) for v in VERIFIED_HTTPCORE)
    warnings.warn(
        f"kclient's Httpx engine keeps httpcore's connection pool on httpcore {low} to {high} only; "
        f"httpcore {version} (or this pool) is not one of them, so httpcore's own pool bookkeeping runs "
        "(slower under concurrency, and subject to encode/httpcore#1093). Install 'httpcore<=1.0.9' "
        "or a kclient that knows this release.",
        RuntimeWarning,
        stacklevel=3,
    )


class PoolKeeper:
    """The bookkeeping pass of one pool: tidy it, give queued requests connections.

    Called like the pass it replaces, under the pool's lock and without awaiting; returns the
    connections to close. Linear in the number of connections and requests, with one scan of
    the connections per queued request until that request's origin can be given nothing more.
    """

    __slots__ = ("pool", "swept")

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.swept = time.monotonic()

    def __call__(self) -> list[Any]:
        held: set[int] = set()  # ids of connections given to a request in the pool (running or about to)
        for request in self.pool._requests:
            if request.connection is not None:
                held.add(id(request.connection))
        closing: list[Any] = []
        idle = self._tidy(held, closing)
        self._assign(held, idle, closing)
        return closing

    def _tidy(self, held: set[int], closing: list[Any]) -> list[Any]:
        """Drop closed, orphaned, expired (once a second) and surplus idle connections; return the idle ones."""
        pool = self.pool
        connections: list[Any] = pool._connections
        now = time.monotonic()
        sweep = now - self.swept >= SWEEP_INTERVAL
        if sweep:
            self.swept = now
        idle: list[Any] = []  # idle and not held, oldest first
        for connection in list(connections):
            if connection.is_closed():
                connections.remove(connection)
            elif id(connection) in held:
                continue
            elif _never_opened(connection):  # left by a cancelled request: nothing to close
                connections.remove(connection)
            elif sweep and connection.has_expired():
                connections.remove(connection)
                closing.append(connection)
            elif connection.is_idle():
                idle.append(connection)
        surplus = len(idle) - pool._max_keepalive_connections
        if surplus > 0:
            for connection in idle[:surplus]:
                connections.remove(connection)
                closing.append(connection)
            del idle[:surplus]
        return idle

    def _assign(self, held: set[int], idle: list[Any], closing: list[Any]) -> None:
        """Give each queued request a connection: a free one, a new one, or one made room for."""
        pool = self.pool
        connections: list[Any] = pool._connections
        unserved: list[Any] = []  # origins given nothing in this pass (httpcore's Origin is unhashable)
        for request in pool._requests:
            if request.connection is not None:
                continue
            origin = request.request.url.origin
            if origin in unserved:
                continue
            connection = _available(connections, held, origin, idle, closing)
            if connection is None:
                if len(connections) >= pool._max_connections:
                    if not idle:
                        unserved.append(origin)
                        continue
                    spare = idle.pop(0)  # httpcore's choice too: close an idle connection to make room
                    connections.remove(spare)
                    closing.append(spare)
                connection = pool.create_connection(origin)
                connections.append(connection)
            request.assign_to_connection(connection)
            held.add(id(connection))


def _available(connections: list[Any], held: set[int], origin: Any, idle: list[Any], closing: list[Any]) -> Any:
    """The oldest connection that can take a request to ``origin`` now, or None.

    An expired connection met on the way is taken out of the pool and added to ``closing``;
    the one returned is taken out of ``idle``.
    """
    for connection in list(connections):
        if not (connection.can_handle_request(origin) and connection.is_available()):
            continue
        if id(connection) in held:
            if _one_request_at_a_time(connection):
                continue  # reserved by a request that has not started on it yet
            return connection  # HTTP/2: one more stream
        if connection.has_expired():
            connections.remove(connection)
            closing.append(connection)
            if connection in idle:
                idle.remove(connection)
            continue
        if connection in idle:
            idle.remove(connection)
        return connection
    return None


def _never_opened(connection: Any) -> bool:
    """A connection that was given to a request but never opened, nor failed to open."""
    return getattr(connection, "_connection", True) is None and getattr(connection, "_connect_failed", True) is False


def _one_request_at_a_time(connection: Any) -> bool:
    """Whether ``connection`` is HTTP/1.1 (one request at a time), through proxy wrappers."""
    from httpcore._async.http11 import AsyncHTTP11Connection

    inner = connection
    for _ in range(3):  # AsyncHTTPConnection, or a proxy connection around one
        inner = getattr(inner, "_connection", None)
        if inner is None:
            return False  # not open yet: with http2=True it may become HTTP/2
        if isinstance(inner, AsyncHTTP11Connection):
            return True
    return False
