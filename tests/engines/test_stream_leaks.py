"""Live streams leave nothing behind: a cancellation churn on Server-Sent Events streams and on
WebSocket sessions, then the process compared with a snapshot taken before (descriptors,
threads, tasks; see test_leaks)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import anyio
import pytest
from servers import Hypercorn
from ws_server import WsServerProcess

from kclient import ClientCancelledError, Engine, HttpClient, KClientError

from .sse_app import SseApp
from .support import HANG_GUARD, HTTPX_TRIO_ABANDONS_GENERATORS, hermetic_settings
from .test_leaks import Snapshot, _clean, fds_at_exit, settle

pytestmark = pytest.mark.anyio

STREAMS = 200
SESSIONS = 150


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
        async with HttpClient(engine_name, engine_config=hermetic_settings(engine)) as client:
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


@pytest.fixture(scope="module")
def ws_server() -> Iterator[WsServerProcess]:
    with WsServerProcess() as server:  # in a process of its own: its sockets are not counted as the client's
        yield server


async def one_session(client: HttpClient, url: str, rng: random.Random) -> str:
    """A session cancelled at a random point: in the handshake, waiting, between messages; or closed by
    the server, or dropped."""
    path = rng.choice(["/echo", "/echo", "/flood?n=200&size=512", "/close?code=4000", "/drop"])
    with anyio.move_on_after(rng.choice([0, 0.001, 0.005, 0.02, 0.1, 0.5])) as scope:
        try:
            async with client.websocket(url + path, receive_queue=4) as ws:
                for _ in range(rng.randint(0, 20)):
                    await ws.send("ping")
                    await ws.receive()
                    if rng.random() < 0.05:
                        return "left"
                if path == "/echo":
                    await ws.receive()  # waits until cancelled
        except KClientError:
            return "closed"  # the server closed it (4000) or dropped it (1006)
    return "cancelled" if scope.cancelled_caught else "ended"


async def test_a_churn_of_cancelled_websockets_leaves_nothing(
    engine_name: str, engine: type[Engine], ws_server: WsServerProcess
) -> None:
    if not engine.capabilities.websockets:
        pytest.skip(f"Engine {engine_name} has no WebSockets.")
    rng = random.Random(1001)
    ports = {ws_server.port}
    before = Snapshot.take()
    outcomes: dict[str, int] = {}
    with anyio.fail_after(HANG_GUARD * 4):
        async with HttpClient(engine_name, engine_config=hermetic_settings(engine)) as client:
            limiter = anyio.CapacityLimiter(8)

            async def worker() -> None:
                async with limiter:
                    outcome = await one_session(client, ws_server.url, rng)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

            async with anyio.create_task_group() as group:
                for _ in range(SESSIONS):
                    group.start_soon(worker)
            assert client.status().in_flight == 0
            async with client.websocket(ws_server.url + "/echo") as ws:  # the client goes on
                await ws.send("still here")
                assert await ws.receive() == "still here"
            errors: list[BaseException] = []

            async def holder() -> None:
                try:
                    async with client.websocket(ws_server.url + "/echo") as ws:
                        await ws.receive()
                except KClientError as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as group:
                for _ in range(3):
                    group.start_soon(holder)
                while client.status().in_flight < 3:
                    await anyio.sleep(0.01)
                await anyio.sleep(0.05)
                client.cancel()
            assert len(errors) == 3 and all(isinstance(e, ClientCancelledError) for e in errors), errors
    assert {"cancelled", "ended", "closed"} <= set(outcomes), outcomes
    at_exit = await fds_at_exit(before, ports)
    assert not at_exit["fds"], f"still open when `async with` exited: {at_exit['fds']}"
    left = await settle(before, ports)
    assert _clean(left), f"left after the churn: {left}"
