"""Live streams leave nothing behind: a cancellation churn on Server-Sent Events streams, then
the process compared with a snapshot taken before (descriptors, threads, tasks; see test_leaks)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import anyio
import pytest
from servers import Hypercorn

from kclient import ClientCancelledError, Engine, HttpClient, KClientError

from .sse_app import SseApp
from .support import HANG_GUARD, HTTPX_TRIO_ABANDONS_GENERATORS, hermetic_settings
from .test_leaks import Snapshot, _clean, fds_at_exit, settle

pytestmark = pytest.mark.anyio

STREAMS = 200


@pytest.fixture(scope="module")
def sse_server() -> Iterator[Hypercorn]:
    with Hypercorn(SseApp()) as server:
        yield server


async def one_stream(client: HttpClient, url: str, rng: random.Random) -> str:
    """A stream cancelled at a random point: before it opens, while it waits, between events."""
    path = rng.choice(["/trickle?n=3", "/silent", "/events?n=50"])
    with anyio.move_on_after(rng.choice([0, 0.001, 0.01, 0.05, 0.15, 2.0])) as scope:
        async with client.sse(url + path, max_reconnects=0) as events:
            async for _ in events:
                if rng.random() < 0.02:
                    return "left"  # the caller stops reading in the middle
    return "cancelled" if scope.cancelled_caught else "ended"


@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_a_churn_of_cancelled_streams_leaves_nothing(
    engine_name: str, engine: type[Engine], sse_server: Hypercorn
) -> None:
    rng = random.Random(18)
    ports = {sse_server.port}
    before = Snapshot.take()
    outcomes: dict[str, int] = {}
    with anyio.fail_after(HANG_GUARD * 4):
        async with HttpClient(engine_name, engine=hermetic_settings(engine)) as client:
            limiter = anyio.CapacityLimiter(8)

            async def worker() -> None:
                async with limiter:
                    outcome = await one_stream(client, sse_server.url, rng)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

            async with anyio.create_task_group() as group:
                for _ in range(STREAMS):
                    group.start_soon(worker)
            assert client.status().in_flight == 0
            async with client.sse(sse_server.url + "/events?n=2", max_reconnects=0) as events:
                assert [e.data async for e in events] == ["event 1", "event 2"]  # the client goes on
            # cancel() ends the open streams at once, with ClientCancelledError in their readers
            errors: list[BaseException] = []

            async def reader() -> None:
                try:
                    async with client.sse(sse_server.url + "/silent") as events:
                        async for _ in events:
                            pass
                except KClientError as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as group:
                for _ in range(3):
                    group.start_soon(reader)
                while client.status().in_flight < 3:
                    await anyio.sleep(0.01)
                client.cancel()
            assert len(errors) == 3 and all(isinstance(e, ClientCancelledError) for e in errors), errors
    assert set(outcomes) == {"cancelled", "ended", "left"}, outcomes
    at_exit = await fds_at_exit(before, ports)
    assert not at_exit["fds"], f"still open when `async with` exited: {at_exit['fds']}"
    left = await settle(before, ports)
    assert _clean(left), f"left after the churn: {left}"
