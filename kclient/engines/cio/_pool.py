"""The connection pool: keep-alive connections per route, fair waiting, bounded totals.

Theory of operation. A route is where connections go (scheme, host, port and, for
tunnels, the proxy). ``acquire`` returns, in this order: an idle connection of the route
(newest first, expired ones closed), a busy one with room in its pipeline (when
pipelining), a new one when the route and the whole pool are under their limits, or it
waits in the route's FIFO queue. A connection that becomes idle is handed to the first
waiter of its route; a closed connection frees a slot for the first waiter of its route,
else of any route. Every path is cancellation-safe: a waiter cancelled after it was handed
a connection or a slot gives it back, and a cancelled connect frees its slot.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from ._connection import Connection, RouteKey

__all__ = ["ConnectionPool"]

#: What a waiter receives: a connection to use, or None meaning "a slot is reserved for you: connect".
_Grant = Connection | None


class _Route:
    __slots__ = ("connections", "idle", "key", "waiters")

    def __init__(self, key: RouteKey) -> None:
        self.key = key
        self.connections: set[Connection] = set()
        self.idle: list[Connection] = []
        self.waiters: deque[asyncio.Future[_Grant]] = deque()


class ConnectionPool:
    """Connections of one engine, shared by all its requests."""

    def __init__(
        self,
        *,
        max_connections: int,
        max_per_route: int,
        keep_alive_time: float,
        pipeline_max_size: int | None,
        connect: Callable[[RouteKey, float | None], Awaitable[Connection]],
    ) -> None:
        self._max_connections = max_connections
        self._max_per_route = max_per_route
        self._keep_alive_time = keep_alive_time
        self._pipeline_max_size = pipeline_max_size
        self._connect = connect
        self._routes: dict[RouteKey, _Route] = {}
        self._total = 0  # open connections plus slots reserved for connects in progress
        self._reserved: dict[RouteKey, int] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False

    # -- acquiring ----------------------------------------------------------------------------
    def take_idle(self, key: RouteKey) -> Connection | None:
        """An idle connection to ``key`` at once, or ``None`` (then ``await acquire(...)``)."""
        route = self._routes.get(key)
        return self._take_idle(route) if route is not None else None

    async def acquire(self, key: RouteKey, *, pipelinable: bool, connect_timeout: float | None) -> Connection:
        """A connection to ``key`` ready for one more request (a new one gets ``connect_timeout``)."""
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = _Route(key)
        connection = self._take_idle(route)
        if connection is not None:
            return connection
        if pipelinable and self._pipeline_max_size is not None:
            for candidate in route.connections:
                if candidate.reused and candidate.can_pipeline(self._pipeline_max_size):
                    return candidate
        if self._has_room(route):
            return await self._open(route, connect_timeout)
        grant = await self._wait(route)
        return grant if grant is not None else await self._open(route, connect_timeout, reserved=True)

    def _take_idle(self, route: _Route) -> Connection | None:
        idle = route.idle
        while idle:
            connection = idle.pop()
            if connection.idle and connection.loop.time() - connection.idle_since < self._keep_alive_time:
                return connection
            connection.close()
        return None

    def _has_room(self, route: _Route) -> bool:
        in_route = len(route.connections) + self._reserved.get(route.key, 0)
        return in_route < self._max_per_route and self._total < self._max_connections

    async def _open(self, route: _Route, timeout: float | None, *, reserved: bool = False) -> Connection:
        if not reserved:
            self._reserve(route.key)
        try:
            connection = await self._connect(route.key, timeout)
        except BaseException:
            self._unreserve(route.key)
            self._total -= 1
            self._grant_slot(route)
            raise
        self._unreserve(route.key)
        route.connections.add(connection)
        return connection

    def _reserve(self, key: RouteKey) -> None:
        self._reserved[key] = self._reserved.get(key, 0) + 1
        self._total += 1

    def _unreserve(self, key: RouteKey) -> None:
        self._reserved[key] -= 1

    async def _wait(self, route: _Route) -> _Grant:
        waiter: asyncio.Future[_Grant] = asyncio.get_running_loop().create_future()
        route.waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            if waiter in route.waiters:
                route.waiters.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                self._give_back(route, waiter.result())
            raise

    def _give_back(self, route: _Route, grant: _Grant) -> None:
        if grant is None:  # a reserved slot nobody will use
            self._unreserve(route.key)
            self._total -= 1
            self._grant_slot(route)
        else:
            self.connection_idle(grant)

    # -- what connections report --------------------------------------------------------------
    def connection_idle(self, connection: Connection) -> None:
        """``connection`` can take a request: hand it to a waiter or keep it idle."""
        route = self._routes.get(connection.key)
        if route is None or self._closed:
            connection.close()
            return
        while route.waiters:
            waiter = route.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        route.idle.append(connection)
        if self._sweeper is None:
            self._sweeper = connection.loop.call_later(self._keep_alive_time, self._sweep, connection.loop)

    def connection_closed(self, connection: Connection) -> None:
        route = self._routes.get(connection.key)
        if route is None or connection not in route.connections:
            return
        route.connections.discard(connection)
        if connection in route.idle:
            route.idle.remove(connection)
        self._total -= 1
        self._grant_slot(route)

    def _grant_slot(self, preferred: _Route) -> None:
        """A slot is free: reserve it for the first waiter (of ``preferred``, else of any route)."""
        if self._closed:
            return
        for route in (preferred, *self._routes.values()):
            while route.waiters and self._has_room(route):
                waiter = route.waiters.popleft()
                if not waiter.done():
                    self._reserve(route.key)
                    waiter.set_result(None)
                    return

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sweeper = None
        now = loop.time()
        remaining = False
        for route in self._routes.values():
            for connection in list(route.idle):
                if now - connection.idle_since >= self._keep_alive_time:
                    route.idle.remove(connection)
                    connection.close()
                else:
                    remaining = True
        if remaining and not self._closed:
            self._sweeper = loop.call_later(self._keep_alive_time, self._sweep, loop)

    # -- introspection and closing ------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        """Counts for tests and displays: open, idle and busy connections, waiters."""
        open_ = sum(len(r.connections) for r in self._routes.values())
        idle = sum(len(r.idle) for r in self._routes.values())
        waiters = sum(sum(1 for w in r.waiters if not w.done()) for r in self._routes.values())
        return {"open": open_, "idle": idle, "busy": open_ - idle, "waiters": waiters, "reserved": self._total - open_}

    def close(self) -> None:
        """Close every connection and fail every waiter."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for route in self._routes.values():
            for waiter in route.waiters:
                if not waiter.done():
                    waiter.cancel()
            route.waiters.clear()
            for connection in list(route.connections):
                connection.abort()
