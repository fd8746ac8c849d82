"""The Httpx engine's pool bookkeeping (kclient.engines._httpcore_pool) against a real keep-alive server.

The server counts the connections it accepted: a test sees which connections the pool kept,
reused or opened, not the pool's insides. Each test also runs with ``kclient_pool=False``
(httpcore's own pass) where that shows the flaw the keeper mends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpcore
import pytest
from servers import KeepAliveServer

from kclient import HttpClient, Httpx
from kclient.engines import _httpcore_pool
from kclient.engines._httpcore_pool import PoolKeeper, keep_pool, verified

pytestmark = pytest.mark.anyio

GUARD = 30  # seconds: no test here should come near it


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as running:
        yield running


def httpx_client(**settings: Any) -> HttpClient:
    return HttpClient(Httpx, engine_config={"trust_env": False, **settings})


@pytest.fixture
def requeues(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Each time a request given a connection finds it taken and queues again (httpcore's ConnectionNotAvailable)."""
    seen: list[object] = []
    original = httpcore._async.connection_pool.AsyncPoolRequest.clear_connection

    def clear_connection(self: Any) -> None:
        seen.append(self)
        original(self)

    monkeypatch.setattr(httpcore._async.connection_pool.AsyncPoolRequest, "clear_connection", clear_connection)
    return seen


async def test_the_engine_runs_the_keeper_on_its_pool(server: KeepAliveServer) -> None:
    async with httpx_client() as client:
        await client.get(server.url)
        pool = client.engine._client._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool._assign_requests_to_connections, PoolKeeper)
    async with httpx_client(kclient_pool=False) as client:
        await client.get(server.url)
        pool = client.engine._client._transport._pool  # type: ignore[attr-defined]
        assert not isinstance(pool._assign_requests_to_connections, PoolKeeper)


@pytest.fixture
def warn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keeper warns once per process; each test here sees its own first time."""
    monkeypatch.setattr(_httpcore_pool, "_warned", [])


def test_a_pool_it_does_not_know_is_left_alone_with_a_warning(warn_again: None) -> None:
    class Unknown:
        def _assign_requests_to_connections(self) -> list[Any]:
            return []

    pool = Unknown()
    assert keep_pool(None) is False
    with pytest.warns(RuntimeWarning, match="httpcore's own pool bookkeeping runs"):
        assert keep_pool(pool) is False
    assert not isinstance(pool._assign_requests_to_connections, PoolKeeper)


def test_verified_versions() -> None:
    low, high = _httpcore_pool.VERIFIED_HTTPCORE
    assert verified(".".join(map(str, low))) and verified(".".join(map(str, high)))
    for version in ("0.18.0", "1.1.0", "2.0.0", "1.0", "unknown", f"{high[0]}.{high[1]}.{high[2] + 1}"):
        assert not verified(version), version


async def test_an_unverified_httpcore_runs_its_own_pass_and_the_engine_still_works(
    server: KeepAliveServer, monkeypatch: pytest.MonkeyPatch, warn_again: None
) -> None:
    monkeypatch.setattr(_httpcore_pool, "_httpcore_version", lambda: "1.1.0")
    with pytest.warns(RuntimeWarning, match=r"httpcore 1\.1\.0"):
        async with httpx_client() as client:
            for _ in range(3):
                assert (await client.get(server.url)).status == 200
            pool = client.engine._client._transport._pool  # type: ignore[attr-defined]
            assert not isinstance(pool._assign_requests_to_connections, PoolKeeper)


async def test_one_idle_connection_goes_to_one_queued_request(server: KeepAliveServer, requeues: list[object]) -> None:
    """40 concurrent requests on 4 connections: each request is given a connection once, and it is free."""
    statuses: list[int] = []

    async def fetch(client: HttpClient, i: int) -> None:
        statuses.append((await client.get(f"{server.url}/{i}")).status)

    with anyio.fail_after(GUARD):
        async with httpx_client(max_connections=4) as client, anyio.create_task_group() as tg:
            for i in range(40):
                tg.start_soon(fetch, client, i)
    assert statuses == [200] * 40
    assert server.connections == 4
    assert requeues == []


async def test_the_stock_pass_gives_one_connection_to_many(server: KeepAliveServer, requeues: list[object]) -> None:
    """What the previous test guards against: httpcore's own pass, on the same load, requeues requests."""
    async with httpx_client(max_connections=4, kclient_pool=False) as client, anyio.create_task_group() as tg:
        for i in range(40):
            tg.start_soon(client.get, f"{server.url}/{i}")
    assert requeues


async def hold(client: HttpClient, url: str, opened: list[int], release: anyio.Event) -> None:
    """Open a response and keep it, unread (its connection busy), until ``release`` is set."""
    async with client.stream("GET", url) as response:
        opened.append(response.status)
        await release.wait()


async def get_two_at_once(client: HttpClient, url: str) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(client.get, url)
        tg.start_soon(client.get, url)


@pytest.mark.parametrize("kclient_pool", [True, False])
async def test_idle_connections_count_against_max_keepalive_not_busy_ones(
    server: KeepAliveServer, kclient_pool: bool
) -> None:
    """With 3 responses open and 2 connections idle, ``max_keepalive_connections=2`` keeps the idle ones.

    httpcore's pass compares all 5 connections with the limit and closes idle ones.
    """
    opened: list[int] = []
    release = anyio.Event()
    with anyio.fail_after(GUARD):
        async with httpx_client(max_keepalive_connections=2, kclient_pool=kclient_pool) as client:
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(hold, client, server.url, opened, release)
                while len(opened) < 3:
                    await anyio.sleep(0.01)
                await get_two_at_once(client, server.url)
                assert server.connections == 5
                await get_two_at_once(client, server.url)  # on the two idle connections, if they were kept
                if kclient_pool:
                    assert server.connections == 5
                else:
                    assert server.connections > 5
                release.set()
    assert opened == [200] * 3


async def test_idle_connections_over_max_keepalive_are_closed(server: KeepAliveServer) -> None:
    """4 requests at once with ``max_keepalive_connections=1``: one connection is kept, 3 are closed."""
    with anyio.fail_after(GUARD):
        async with httpx_client(max_keepalive_connections=1) as client:
            async with anyio.create_task_group() as tg:
                for i in range(4):
                    tg.start_soon(client.get, f"{server.url}/{i}")
            assert server.connections == 4
            async with anyio.create_task_group() as tg:
                for i in range(4):
                    tg.start_soon(client.get, f"{server.url}/{i}")
            assert server.connections == 4 + 3


async def test_an_expired_connection_is_not_reused(server: KeepAliveServer) -> None:
    with anyio.fail_after(GUARD):
        async with httpx_client(keepalive_expiry=0.1) as client:
            await client.get(server.url)
            await client.get(server.url)
            assert server.connections == 1
            await anyio.sleep(0.3)
            assert (await client.get(server.url)).status == 200
            assert server.connections == 2
