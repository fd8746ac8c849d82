"""HttpCallValidator (a default plugin) on every engine: expect_success with real error bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kclient import ClientResponseError, HttpClient, ServerResponseError

pytestmark = pytest.mark.anyio


async def test_expect_success_quotes_the_error_body(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(lambda c: setattr(c, "expect_success", True))
    with pytest.raises(ClientResponseError) as caught:
        await client.get(httpbin.url + "/status/418")  # httpbin answers with a teapot drawn in text
    error = caught.value
    assert error.status == 418
    assert "teapot" in error.body_excerpt
    assert 0 < len(error.body_excerpt) <= 200
    assert (await client.get(httpbin.url + "/get")).status == 200


async def test_expect_success_in_a_stream_releases_the_connection(
    make_client: Callable[..., HttpClient], httpbin: Any
) -> None:
    client = make_client()
    for _ in range(3):
        with pytest.raises(ServerResponseError):
            async with client.stream("GET", httpbin.url + "/status/503", expect_success=True):
                raise AssertionError("the block is not entered")
    assert client.status().in_flight == 0
    assert (await client.get(httpbin.url + "/get")).status == 200
