"""HttpTimeout, UserAgent and DefaultRequest on every engine: the plugins that shape each request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from kclient import (
    ConnectTimeout,
    DefaultRequest,
    HttpClient,
    HttpTimeout,
    KClientError,
    RequestTimeout,
    SocketTimeout,
    Timeouts,
    UserAgent,
    __version__,
)

from .faults import FaultServer
from .support import HANG_GUARD

pytestmark = pytest.mark.anyio


async def test_request_timeout_from_the_plugin(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(lambda c: c.install(HttpTimeout, request_timeout=0.3))
    with anyio.fail_after(HANG_GUARD), pytest.raises(RequestTimeout) as caught:
        await client.get(httpbin.url + "/delay/3")
    assert isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value, KClientError)
    assert (await client.get(httpbin.url + "/get")).status == 200


async def test_a_requests_timeout_wins_over_the_plugin(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(lambda c: c.install(HttpTimeout, request_timeout=0.2))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/delay/1", timeout=10)
    assert response.status == 200


async def test_socket_timeout_from_the_plugin(
    make_client: Callable[..., HttpClient], fault_server: FaultServer
) -> None:
    client = make_client(lambda c: c.install(HttpTimeout, socket_timeout=0.3))
    with anyio.fail_after(HANG_GUARD), pytest.raises(SocketTimeout) as caught:
        await client.get(fault_server.url + "/never", params={"tag": "plugin-socket-timeout"})
    assert isinstance(caught.value, TimeoutError)


async def test_connect_timeout_from_the_plugin(make_client: Callable[..., HttpClient], unanswered_port: int) -> None:
    client = make_client(lambda c: c.install(HttpTimeout, connect_timeout=0.3))
    with anyio.fail_after(HANG_GUARD), pytest.raises(ConnectTimeout) as caught:
        await client.get(f"http://127.0.0.1:{unanswered_port}/")
    assert isinstance(caught.value, TimeoutError)
    assert client.status().in_flight == 0


async def test_a_requests_connect_timeout_wins(make_client: Callable[..., HttpClient], unanswered_port: int) -> None:
    client = make_client(lambda c: c.install(HttpTimeout, connect_timeout=60))
    with anyio.fail_after(HANG_GUARD), pytest.raises(ConnectTimeout):
        await client.get(f"http://127.0.0.1:{unanswered_port}/", timeout=Timeouts(connect=0.3))


async def test_user_agent_is_the_same_on_every_engine(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    default = make_client()
    assert (await default.get(httpbin.url + "/user-agent")).json() == {"user-agent": f"kclient/{__version__}"}
    custom = make_client(lambda c: c.install(UserAgent, agent="probe/1.0"))
    assert (await custom.get(httpbin.url + "/user-agent")).json() == {"user-agent": "probe/1.0"}


async def test_default_request_base_url_headers_and_params(
    make_client: Callable[..., HttpClient], httpbin: Any
) -> None:
    client = make_client(
        lambda c: c.install(
            DefaultRequest, url=httpbin.url + "/anything/v1/", headers={"X-Team": "core"}, params={"v": 2}
        )
    )
    seen = (await client.get("users", params={"page": 3})).json()
    assert seen["url"] == httpbin.url + "/anything/v1/users?page=3&v=2"
    assert seen["headers"]["X-Team"] == "core"
