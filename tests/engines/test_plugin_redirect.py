"""HttpRedirect (a default plugin) on every engine, against httpbin and a second origin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from kclient import HttpClient, TooManyRedirectsError
from kclient.plugins.redirect import HttpRedirect

from .faults import FaultServer
from .support import HANG_GUARD

pytestmark = pytest.mark.anyio

SECRETS = {"Authorization": "Bearer t0ken-secret", "Cookie": "session=c00kie-secret", "X-Trace": "42"}


@pytest.mark.parametrize("path", ["/redirect/3", "/relative-redirect/3", "/absolute-redirect/3"])
async def test_redirect_chains_are_followed(client: HttpClient, httpbin: Any, path: str) -> None:
    response = await client.get(httpbin.url + path)
    assert response.status == 200
    assert str(response.url) == httpbin.url + "/get"
    assert response.json()["url"].endswith("/get")


@pytest.mark.parametrize(
    ("status", "method", "keeps_body"),
    [(301, "GET", False), (302, "GET", False), (303, "GET", False), (307, "POST", True), (308, "POST", True)],
)
async def test_post_after_a_redirect(
    client: HttpClient, httpbin: Any, status: int, method: str, keeps_body: bool
) -> None:
    response = await client.post(
        httpbin.url + "/redirect-to", params={"url": "/anything", "status_code": status}, json={"order": 7}
    )
    seen = response.json()
    assert seen["method"] == method
    assert seen["json"] == ({"order": 7} if keeps_body else None)
    assert ("Content-Type" in seen["headers"]) is keeps_body


async def test_same_origin_redirect_keeps_credentials(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/redirect-to", params={"url": "/headers"}, headers=SECRETS)
    headers = response.json()["headers"]
    assert headers["Authorization"] == SECRETS["Authorization"]
    assert headers["Cookie"] == SECRETS["Cookie"]


async def test_cross_origin_redirect_drops_credentials(
    client: HttpClient, httpbin: Any, fault_server_factory: Callable[[], FaultServer]
) -> None:
    other = fault_server_factory()  # another port: another origin
    response = await client.get(httpbin.url + "/redirect-to", params={"url": other.url + "/echo"}, headers=SECRETS)
    seen = {name.lower(): value for name, value in response.json()["headers"]}
    assert "authorization" not in seen and "cookie" not in seen
    assert seen["x-trace"] == "42"
    assert str(response.url) == other.url + "/echo"


async def test_too_many_redirects(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(lambda c: c.install(HttpRedirect, max_redirects=2))
    with pytest.raises(TooManyRedirectsError) as caught:
        await client.get(httpbin.url + "/redirect/5")
    assert caught.value.status == 302
    assert client.status().in_flight == 0
    assert (await client.get(httpbin.url + "/redirect/2")).status == 200


async def test_streamed_redirects_release_every_hop(client: HttpClient, httpbin: Any) -> None:
    with anyio.fail_after(HANG_GUARD):
        for _ in range(3):  # more rounds than a small pool has connections: hops must be released
            async with client.stream("GET", httpbin.url + "/redirect/3") as response:
                assert response.status == 200
                assert b'"url"' in await response.aread()
    assert client.status().in_flight == 0
