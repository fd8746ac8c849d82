"""Cancellation churn: 10,000 requests, each cancelled at a random point, then the pool must be clean.

The requests go to nginx (small files, and a 1 MiB file read as a stream), to the fault server
(an answer that never comes, a head trickled one byte a second, an upload sent slowly) and to a
port whose accept queue is full (a connection that is never established). Each one is
cancelled after a seeded random delay, from none (before its first step) through 0.2-50 ms to
150 ms, by its own deadline (``move_on_after``) or by a sibling task (``CancelScope.cancel``);
half of the bodies sent or read are instead cancelled from inside, after a random number of
pieces. 24 tasks share a pool of 16 connections, so requests are also cancelled while waiting
for a slot. The test checks that cancellation landed at every stage it can see: sending a body,
waiting for the head (the fault server read the request), reading the head, reading the body.

Afterwards, on every engine: no busy connection and no waiter in the pool (see
``pool_state``), nothing in flight on the client, every connection that never got its answer
closed on the server's side, and a fresh request answered.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from kclient import Engine, HttpClient

from .faults import FaultServer
from .support import HANG_GUARD, Site, engine_bug, setting_names, with_setting

pytestmark = pytest.mark.anyio

REQUESTS = 10_000
#: Tasks sending requests at once: more than the pool's connections, so some wait for a slot.
WORKERS = 24
#: Connections (and, for an engine running requests on worker threads, threads) of the client.
POOL = 16
#: (stage, weight): what each request does before its cancellation lands.
STAGES = [("slot", 40), ("never", 15), ("trickle-head", 10), ("body", 15), ("upload", 17), ("connect", 3)]

_tags = itertools.count(1)


def small_pool(engine: type[Engine], size: int) -> dict[str, Any]:
    """Every connection limit of the engine (``max_connections``, ``endpoint.max_connections_per_route``...)
    set to ``size``, and ``thread_count`` too for an engine that runs requests on worker threads."""
    settings: dict[str, Any] = {}
    for name in setting_names(engine):
        if name.rpartition(".")[2].startswith("max_connections"):
            settings.update(with_setting(engine, name, size))
    if engine.capabilities.worker_threads:
        settings.update(with_setting(engine, "thread_count", size))
    return settings


def pool_state(client: HttpClient) -> dict[str, Any]:
    """``busy`` connections (or running exchanges) and ``waiters`` in the client's engine, however it shows them.

    CIO and Urllib3 have ``pool_stats()``. Httpx and Aiohttp expose nothing public, so this reads
    their libraries' pools: httpcore's ``AsyncConnectionPool`` (``connections`` is public, its list of
    requests queued or in progress ``_requests`` is not) and aiohttp's ``TCPConnector`` (``_acquired``,
    ``_waiters``). ``open`` is informative only.
    """
    engine: Any = client.engine
    if hasattr(engine, "pool_stats"):
        stats = engine.pool_stats()
        if "busy" in stats:  # CIO: open, idle, busy, waiters, reserved (slots taken by connections being made)
            return {"busy": stats["busy"] + stats["reserved"], "waiters": stats["waiters"], "open": stats["open"]}
        # Urllib3: exchanges running on worker threads, open streamed bodies, idle pooled connections; the
        # requests waiting for a thread wait on the engine's CapacityLimiter (private: no public accessor).
        limiter = engine._limiter
        waiting = limiter.statistics().tasks_waiting if limiter is not None else 0
        borrowed = limiter.borrowed_tokens if limiter is not None else 0
        busy = stats["running"] + stats["streams"] + borrowed
        return {"busy": busy, "waiters": waiting, "open": stats["idle"], **stats, "borrowed": borrowed}
    native = getattr(engine, "_client", None)  # Httpx: the httpx.AsyncClient (private attribute of the engine)
    if native is not None:
        pool = native._transport._pool  # httpcore.AsyncConnectionPool behind httpx's AsyncHTTPTransport
        connections = list(pool.connections)
        stuck = [repr(c) for c in connections if not (c.is_idle() or c.is_closed())]
        state: dict[str, Any] = {"busy": len(stuck), "waiters": len(pool._requests), "open": len(connections)}
        return {**state, "connections": stuck} if stuck else state
    session = getattr(engine, "_session", None)  # Aiohttp: the aiohttp.ClientSession (private attribute)
    if session is not None:
        connector = session.connector
        waiters = sum(len(queue) for queue in connector._waiters.values())
        idle = sum(len(conns) for conns in connector._conns.values())
        return {"busy": len(connector._acquired), "waiters": waiters, "open": len(connector._acquired) + idle}
    if hasattr(engine, "_session") or hasattr(engine, "_client"):
        return {"busy": 0, "waiters": 0, "open": 0}  # the library's client is not open (yet, or any more)
    raise AssertionError(f"pool_state does not know how to look into {type(engine).__name__}")


async def slow_body(
    parts: int, cut: int | None, scope: anyio.CancelScope, reached: dict[str, int]
) -> AsyncIterator[bytes]:
    """An upload sent slowly, 1 KiB at a time a millisecond apart; cancelled from inside after ``cut`` parts."""
    for part in range(parts):
        await anyio.sleep(0.001)
        if part == 1:
            reached["sending"] += 1  # the engine took the first part: this upload is being sent
        if part == cut:
            scope.cancel()
        yield b"u" * 1024


class Churn:
    """10,000 requests, each cancelled at a seeded random point, shared by ``WORKERS`` tasks."""

    def __init__(self, client: HttpClient, nginx: Site, fault_server: FaultServer, port: int, tag: str) -> None:
        self.client = client
        self.small = nginx.url + nginx.files["1KiB"].path
        self.big = nginx.url + nginx.files["1MiB"].path
        self.fault = fault_server.url
        self.unanswered = f"http://127.0.0.1:{port}/"
        self.tag = tag
        self.outcomes: dict[str, int] = {"completed": 0, "cancelled": 0}
        self.errors: list[tuple[str, BaseException]] = []
        self.stages: dict[str, int] = {}
        #: How far requests got before they were cancelled (or answered), as seen by the test.
        self.reached = {"sending": 0, "reading body": 0}

    async def request(self, stage: str, scope: anyio.CancelScope, cut: int | None) -> None:
        """One request of ``stage``; ``cut``: cancel ``scope`` from inside after that many pieces of a body."""
        client = self.client
        if stage == "slot":  # mostly waiting for one of the few connections, some connecting or reading
            await client.get(self.small)
        elif stage == "never":  # sent, then waiting for an answer that never comes
            await client.get(self.fault + "/never", params={"tag": self.tag})
        elif stage == "trickle-head":  # reading a head that comes one byte a second
            await client.get(self.fault + "/trickle-head", params={"tag": self.tag})
        elif stage == "body":  # reading a 1 MiB body
            async with client.stream("GET", self.big) as response:
                self.reached["reading body"] += 1
                chunks = 0
                async for _ in response.aiter_bytes():
                    chunks += 1
                    if chunks == cut:
                        scope.cancel()
        elif stage == "upload":  # sending a body that is still being produced
            await client.post(self.fault + "/echo", content=slow_body(64, cut, scope, self.reached))
        else:  # "connect": a connection that is never established
            await client.get(self.unanswered)

    async def one(self, rng: random.Random) -> None:
        stage = rng.choices([s for s, _ in STAGES], weights=[w for _, w in STAGES])[0]
        self.stages[stage] = self.stages.get(stage, 0) + 1
        # 5% cancelled before their first step; most after 0.2 to 50 ms (log-uniform: as many between
        # 0.2 and 2 ms as between 5 and 50 ms); 4% after 50 to 150 ms, which on a slow engine or a busy
        # machine still lands after the request was sent. Half of the bodies (sent or read) are instead
        # cancelled from inside, after a random number of pieces.
        draw = rng.random()
        delay = 0.0 if draw < 0.05 else rng.uniform(0.05, 0.15) if draw > 0.96 else 0.0002 * 250 ** rng.random()
        cut = rng.randint(1, 16) if stage in ("body", "upload") and rng.random() < 0.5 else None
        try:
            if cut is None and rng.random() < 0.5:
                with anyio.move_on_after(delay) as scope:
                    await self.request(stage, scope, cut)
                cancelled = scope.cancelled_caught
            else:  # CancelScope.cancel(), by a sibling task after the delay or by the request's own body
                finished = False
                async with anyio.create_task_group() as tasks:
                    if cut is None:
                        tasks.start_soon(self.cancel_later, tasks.cancel_scope, delay)
                    await self.request(stage, tasks.cancel_scope, cut)
                    finished = True
                    tasks.cancel_scope.cancel()  # the answer came first: the canceller is not needed
                cancelled = not finished
        except Exception as exc:
            self.errors.append((stage, exc))
            return
        self.outcomes["cancelled" if cancelled else "completed"] += 1

    @staticmethod
    async def cancel_later(scope: anyio.CancelScope, delay: float) -> None:
        if delay:
            await anyio.sleep(delay)
        scope.cancel()

    async def run(self, seed: int) -> None:
        shared = iter(range(REQUESTS))

        async def worker(number: int) -> None:
            rng = random.Random(seed * 1000 + number)
            for _ in shared:
                await self.one(rng)

        async with anyio.create_task_group() as tasks:
            for number in range(WORKERS):
                tasks.start_soon(worker, number)


async def settled(check: Callable[[], bool]) -> bool:
    """Wait (within the hang guard) until ``check()``; False when it never became true."""
    try:
        with anyio.fail_after(HANG_GUARD):
            while not check():
                await anyio.sleep(0.02)
    except TimeoutError:
        return False
    return True


@pytest.mark.reliability("Cancellation churn, 10,000 requests")
@engine_bug(
    "Httpx",
    "now and then (1 of 3 full runs) httpcore's pool keeps one connection neither idle nor closed after "
    "the churn on trio. Not diagnosed yet: the assertion message lists that connection's state",
    backend="trio",
    raises=AssertionError,
    intermittent=True,
)
async def test_cancellation_churn(
    make_client: Callable[..., HttpClient],
    engine: type[Engine],
    nginx: Site,
    fault_server: FaultServer,
    unanswered_port: int,
    reliability_note: Callable[[str], None],
) -> None:
    client = make_client(**small_pool(engine, POOL))
    tag = f"churn-{next(_tags)}"
    churn = Churn(client, nginx, fault_server, unanswered_port, tag)
    with anyio.fail_after(HANG_GUARD * 4):
        await churn.run(seed=20_261_126)

    assert not churn.errors, f"{len(churn.errors)} requests failed instead of being cancelled: {churn.errors[:5]!r}"
    assert sum(churn.outcomes.values()) == REQUESTS
    assert set(churn.stages) == {stage for stage, _ in STAGES}
    reached = {
        **churn.reached,
        "waiting for headers": len(fault_server.seen_on("/never", tag)),
        "reading headers": len(fault_server.seen_on("/trickle-head", tag)),
    }
    print(f"\nstages {churn.stages}, outcomes {churn.outcomes}, reached {reached}")
    assert all(reached.values()), f"cancellation never landed at some stage: {reached}"

    # Some engines finish cleaning up a cancelled exchange a moment later (a worker thread woken up, a
    # transport closed on the next loop iteration): the hang guard bounds that wait.
    await settled(lambda: pool_state(client)["busy"] == 0 and pool_state(client)["waiters"] == 0)
    state = pool_state(client)
    assert (state["busy"], state["waiters"]) == (0, 0), f"after the churn the pool still holds {state}"
    assert client.status().in_flight == 0
    # Every connection that was waiting for /never was closed, not left open.
    assert await settled(lambda: fault_server.waiting[tag] == 0), f"{fault_server.waiting[tag]} /never left open"

    with anyio.fail_after(HANG_GUARD):
        response = await client.get(churn.small)
    assert response.status == 200
    assert hashlib.sha256(response.content).hexdigest() == nginx.files["1KiB"].sha256
    status = client.status()
    assert status.in_flight == 0
    assert status.failed == churn.outcomes["cancelled"]  # a cancelled request counts as failed, nothing else did
    reliability_note(f"{REQUESTS:,} requests, {churn.outcomes['cancelled']:,} cancelled, pool clean")
