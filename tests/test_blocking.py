"""``client.blocking``: the synchronous face of the client, with no loop and inside a running asyncio loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from servers import KeepAliveServer
from yarl import URL

import kclient
from kclient import (
    ClientCancelledError,
    ClientClosedError,
    ClientState,
    HttpClient,
    Httpx,
    Mock,
    Request,
    TransportError,
    respond,
)

#: Engine settings for every test: no proxy or certificate settings from the environment.
NO_ENV = {"trust_env": False}


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as running:
        yield running


def no_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


# -- no event loop ----------------------------------------------------------------------------


def test_blocking_get_without_a_loop(httpbin: Any) -> None:
    assert no_running_loop()
    client = HttpClient(Httpx, engine_config=NO_ENV)
    try:
        response = client.blocking.get(httpbin.url + "/get", params={"q": "sync"}, headers={"X-Trace": "7"})
        assert response.status == 200
        assert response.json()["args"] == {"q": "sync"}
        assert response.json()["headers"]["X-Trace"] == "7"
        posted = client.blocking.post(httpbin.url + "/post", json={"a": 1})
        assert posted.json()["json"] == {"a": 1}
        assert client.blocking.head(httpbin.url + "/get").content == b""
        assert "blocking view of" in repr(client.blocking)
    finally:
        client.close()
        client.blocking.join(timeout=10)
    assert client.state is ClientState.CLOSED
    assert client.status().completed == 3
    assert no_running_loop()


def test_two_blocking_calls_reuse_one_connection(server: KeepAliveServer) -> None:
    with HttpClient(Httpx, engine_config=NO_ENV) as client:
        assert client.blocking.get(server.url + "/one").content == b"ok"
        assert client.blocking.get(server.url + "/two").content == b"ok"
    assert server.requests == 2
    assert server.connections == 1


def test_blocking_calls_after_close_are_refused() -> None:
    with HttpClient(Mock(lambda request: respond("hi"))) as client:
        assert client.blocking.get("http://kclient.test/").text == "hi"
    with pytest.raises(ClientClosedError):
        client.blocking.get("http://kclient.test/")


def test_with_closes_and_joins_without_a_loop(server: KeepAliveServer) -> None:
    with HttpClient(Httpx, engine_config=NO_ENV) as client:
        client.blocking.get(server.url)
    assert client.state is ClientState.CLOSED
    with pytest.raises(TransportError, match="closed"):
        kclient.run(client.engine.send(Request("GET", URL(server.url))))
    client.engine.close()  # closing again does nothing


def test_blocking_join_times_out_on_an_active_client() -> None:
    client = HttpClient(Mock(lambda request: respond("hi")))
    assert client.blocking.get("http://kclient.test/").text == "hi"
    with pytest.raises(TimeoutError):
        client.blocking.join(timeout=0.2)  # nobody closed it: join waits for that
    assert client.state is ClientState.ACTIVE
    client.close()
    client.blocking.join(timeout=10)
    assert client.state is ClientState.CLOSED


# -- inside a running asyncio loop ------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_sync_with_inside_a_running_loop_closes_and_joins(server: KeepAliveServer) -> None:
    loop = asyncio.get_running_loop()
    with HttpClient(Httpx, engine_config=NO_ENV) as client:
        assert client.blocking.get(server.url + "/sync").content == b"ok"
        assert (await client.get(server.url + "/await")).content == b"ok"
    assert asyncio.get_running_loop() is loop
    assert client.state is ClientState.CLOSED
    with pytest.raises(TransportError, match="closed"):
        await client.engine.send(Request("GET", URL(server.url)))
    assert (server.connections, server.requests) == (1, 2)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_blocking_join_times_out_while_a_request_is_in_flight(server: KeepAliveServer) -> None:
    client = HttpClient(Httpx, engine_config=NO_ENV)
    outcome: list[BaseException] = []

    async def hanging() -> None:
        try:
            await client.get(server.url + "/hang")
        except ClientCancelledError as exc:
            outcome.append(exc)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(hanging)
            while client.status().in_flight < 1 or server.requests < 1:
                await anyio.sleep(0.01)
            client.close()
            assert client.state is ClientState.CLOSING
            with pytest.raises(TimeoutError):
                client.blocking.join(timeout=0.3)
            assert client.state is ClientState.CLOSING
            assert client.status().in_flight == 1
            client.cancel()
        client.blocking.join(timeout=10)
    assert len(outcome) == 1
    assert client.state is ClientState.CANCELLED
    assert client.status().in_flight == 0
