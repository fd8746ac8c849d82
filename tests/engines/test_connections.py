"""Connections: keep-alive, concurrency, early exit from streams, cancellation, closing, timeouts, pipelining."""

from __future__ import annotations

import gc
import hashlib
import itertools
import socket
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from yarl import URL

from kclient import (
    ClientCancelledError,
    ClientClosedError,
    ClientState,
    ConnectError,
    Engine,
    HttpClient,
    Request,
    RequestTimeout,
    TransportError,
)

from .faults import FaultServer
from .support import (
    HANG_GUARD,
    HTTPX_TRIO_ABANDONS_GENERATORS,
    Site,
    assert_transport_error,
    hermetic_settings,
    require,
    setting_names,
    with_setting,
)

pytestmark = pytest.mark.anyio

_tags = itertools.count(1)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connection_limits(engine: type[Engine], value: int) -> dict[str, Any]:
    """Every connection-count limit of the engine set to ``value`` (clamped to its range).

    A limit is a setting whose last name starts with ``max_connections``: ``max_connections``,
    ``endpoint.max_connections_per_route``...
    """
    settings: dict[str, Any] = {}
    for name in setting_names(engine):
        if name.rpartition(".")[2].startswith("max_connections"):
            settings.update(with_setting(engine, name, value))
    return settings


def concurrency_limits(engine: type[Engine], value: int) -> dict[str, Any]:
    """Every limit on requests in flight at once set to ``value``: the connection counts and, for
    an engine that runs requests on worker threads, ``thread_count``."""
    settings = connection_limits(engine, value)
    if engine.capabilities.worker_threads:
        settings.update(with_setting(engine, "thread_count", value))
    return settings


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (a hang guard bounds it, never a timing assertion)."""
    with anyio.fail_after(HANG_GUARD):
        while not condition():
            await anyio.sleep(0.01)


# -- keep-alive and concurrency ---------------------------------------------------------------


async def test_100_sequential_requests_on_one_client(client: HttpClient, nginx: Site) -> None:
    expected = nginx.files["1KiB"]
    with anyio.fail_after(HANG_GUARD):
        for _ in range(100):
            response = await client.get(nginx.url + expected.path)
            assert response.status == 200
            assert hashlib.sha256(response.content).hexdigest() == expected.sha256
    assert client.status().completed == 100


async def test_sequential_requests_reuse_one_connection(client: HttpClient, fault_server: FaultServer) -> None:
    with anyio.fail_after(HANG_GUARD):
        responses = [await client.get(fault_server.url + "/ok") for _ in range(100)]
    assert {r.content for r in responses} == {b"ok"}
    connections = {r.headers["X-Conn"] for r in responses}
    assert len(connections) == 1, f"100 sequential keep-alive requests used {len(connections)} connections"
    numbers = [int(r.headers["X-Conn-Request"]) for r in responses]
    assert numbers == list(range(numbers[0], numbers[0] + 100))


async def test_200_concurrent_requests(client: HttpClient, nginx: Site) -> None:
    names = ["12B", "1KiB", "64KiB"]
    results: dict[int, tuple[int, str]] = {}

    async def one(i: int) -> None:
        response = await client.get(nginx.url + nginx.files[names[i % 3]].path)
        results[i] = (response.status, hashlib.sha256(response.content).hexdigest())

    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as tasks:
            for i in range(200):
                tasks.start_soon(one, i)
    assert len(results) == 200
    wrong = [
        i for i, (status, digest) in results.items() if (status, digest) != (200, nginx.files[names[i % 3]].sha256)
    ]
    assert not wrong, f"{len(wrong)} of 200 concurrent requests got a wrong answer"
    status = client.status()
    assert (status.in_flight, status.completed, status.failed) == (0, 200, 0)


# -- early exit from a stream -----------------------------------------------------------------


async def leave_stream(client: HttpClient, url: str, how: str) -> None:
    if how == "unread":
        async with client.stream("GET", url) as response:
            assert response.status == 200
    elif how == "one-chunk":
        async with client.stream("GET", url) as response:
            assert await response.aiter_bytes().__anext__()
    elif how == "break":
        async with client.stream("GET", url) as response:
            async for chunk in response.aiter_bytes():
                assert chunk
                break
    elif how == "error":
        with pytest.raises(RuntimeError, match="user code"):
            async with client.stream("GET", url) as response:
                assert await response.aiter_bytes().__anext__()
                raise RuntimeError("user code failed inside the stream block")
    assert response.is_closed


async def exit_streams_early_then_request(client: HttpClient, nginx: Site, how: str) -> None:
    """Leave four streams of a 10 MiB file early, then 50 requests must get their answers."""
    big = nginx.url + nginx.files["10MiB"].path
    small = nginx.files["1KiB"]
    with anyio.fail_after(HANG_GUARD):
        for _ in range(4):
            await leave_stream(client, big, how)
        for _ in range(50):
            response = await client.get(nginx.url + small.path)
            assert hashlib.sha256(response.content).hexdigest() == small.sha256
    status = client.status()
    assert status.in_flight == 0
    assert status.completed == 50 + (0 if how == "error" else 4)


async def test_unread_stream_releases_the_connection(
    make_client: Callable[..., HttpClient], engine: type[Engine], nginx: Site
) -> None:
    require(engine, "streaming")
    # A small pool, where the engine has one: a connection not given back would starve it.
    client = make_client(**with_setting(engine, "max_connections", 2))
    await exit_streams_early_then_request(client, nginx, "unread")


@pytest.mark.parametrize("how", ["one-chunk", "break", "error"])
@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_partly_read_stream_releases_the_connection(
    make_client: Callable[..., HttpClient], engine: type[Engine], nginx: Site, how: str
) -> None:
    require(engine, "streaming")
    client = make_client(**with_setting(engine, "max_connections", 2))
    await exit_streams_early_then_request(client, nginx, how)
    gc.collect()  # what the engine abandoned is reported now, in this test


# -- cancellation and closing -----------------------------------------------------------------


async def test_cancel_200_in_flight_requests(
    make_client: Callable[..., HttpClient], engine: type[Engine], fault_server: FaultServer, nginx: Site
) -> None:
    count = 200
    limits = concurrency_limits(engine, 256)
    client = make_client(**limits)
    tag = f"cancel-{next(_tags)}"
    # Wait for every request to reach the server, or as many as the engine's limits let through.
    reachable = min([count, *limits.values()])
    outcomes: list[BaseException | str] = []

    async def one(i: int) -> None:
        try:
            await client.get(fault_server.url + "/never", params={"tag": tag, "i": i})
        except BaseException as exc:
            outcomes.append(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            outcomes.append("answered")

    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as tasks:
            for i in range(count):
                tasks.start_soon(one, i)
            await wait_until(
                lambda: client.status().in_flight == count and len(fault_server.seen_on("/never", tag)) >= reachable
            )
            client.cancel()
        await client.join()

    assert len(outcomes) == count
    wrong = [o for o in outcomes if not isinstance(o, ClientCancelledError)]
    assert not wrong, f"{len(wrong)} requests did not raise ClientCancelledError, e.g. {wrong[:3]!r}"
    status = client.status()
    assert status.state is ClientState.CANCELLED
    assert (status.in_flight, status.failed) == (0, count)
    # The engine was released: the server sees every connection closed.
    await wait_until(lambda: fault_server.waiting[tag] == 0)

    fresh = make_client()
    with anyio.fail_after(HANG_GUARD):
        response = await fresh.get(nginx.url + nginx.files["1KiB"].path)
    assert response.status == 200


async def test_engine_is_closed_when_the_client_exits(
    engine_name: str, engine: type[Engine], fault_server_factory: Callable[[], FaultServer]
) -> None:
    server = fault_server_factory()
    url = server.url + "/ok"
    with anyio.fail_after(HANG_GUARD):
        async with HttpClient(engine_name, engine_config=hermetic_settings(engine)) as client:
            assert (await client.get(url)).content == b"ok"
            assert server.accepted == 1
        assert client.state is ClientState.CLOSED
        with pytest.raises(ClientClosedError):
            await client.get(url)
        with pytest.raises(TransportError):
            response = await client.engine.send(Request("GET", URL(url)))
            await response.aclose()
        # Its keep-alive connection was closed, and nothing new was opened.
        await wait_until(lambda: not server.open)
    assert server.accepted == 1


# -- timeouts and connection errors -----------------------------------------------------------


async def test_request_timeout(client: HttpClient, httpbin: Any, fault_server: FaultServer) -> None:
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(RequestTimeout) as caught:
            await client.get(httpbin.url + "/delay/2", timeout=0.3)
        assert isinstance(caught.value, TimeoutError)
        assert "/delay/2" in str(caught.value)
        with pytest.raises(RequestTimeout):
            await client.get(fault_server.url + "/never", params={"tag": "request-timeout"}, timeout=0.3)
        after = await client.get(httpbin.url + "/get")
    assert after.status == 200
    assert client.status().failed == 2


async def test_connect_error_to_a_closed_port(client: HttpClient, nginx: Site) -> None:
    url = f"http://127.0.0.1:{closed_port()}/get"
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(ConnectError) as caught:
            await client.get(url)
        assert_transport_error(caught.value, ConnectError, native_cause=True)
        assert isinstance(caught.value, ConnectionError)
        assert (await client.get(nginx.url + nginx.files["1B"].path)).status == 200


# -- pipelining -------------------------------------------------------------------------------


async def test_pipelining(
    make_client: Callable[..., HttpClient], engine: type[Engine], fault_server: FaultServer, nginx: Site
) -> None:
    require(engine, "pipelining")
    client = make_client(pipelining=True, **connection_limits(engine, 2))
    expected = nginx.files["64KiB"]
    results: list[tuple[bytes, str]] = []

    async def one(i: int) -> None:
        response = await client.get(fault_server.url + "/ok", params={"i": i})
        results.append((response.content, response.headers["X-Conn"]))
        response = await client.get(nginx.url + expected.path)
        assert hashlib.sha256(response.content).hexdigest() == expected.sha256

    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as tasks:
            for i in range(50):
                tasks.start_soon(one, i)
    assert [content for content, _ in results] == [b"ok"] * 50
    assert client.status().completed == 100
