"""HTTP semantics against httpbin: methods, statuses, redirects (the engine itself never follows them),
headers, cookies, empty bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from kclient import HttpClient, InvalidRequestError

from .faults import FaultServer
from .support import HANG_GUARD

pytestmark = pytest.mark.anyio


# -- methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
async def test_method_is_sent(client: HttpClient, httpbin: Any, method: str) -> None:
    response = await client.request(method, httpbin.url + "/anything/x", params={"q": "1"})
    assert response.status == 200
    echoed = response.json()
    assert echoed["method"] == method
    assert echoed["args"] == {"q": "1"}
    assert echoed["url"].endswith("/anything/x?q=1")


async def test_options(client: HttpClient, httpbin: Any) -> None:
    response = await client.options(httpbin.url + "/anything")
    assert response.status == 200
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} <= allowed


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"])
async def test_every_method_reaches_the_server(client: HttpClient, fault_server: FaultServer, method: str) -> None:
    body = b"payload" if method in ("POST", "PUT", "PATCH") else b""
    with anyio.fail_after(HANG_GUARD):
        response = await client.request(method, fault_server.url + "/echo", content=body)
        after = await client.get(fault_server.url + "/ok")
    assert response.status == 200
    if method == "HEAD":
        assert response.content == b""
        assert int(response.headers["Content-Length"]) > 0
    else:
        assert response.json()["method"] == method
        assert response.json()["body"] == body.decode()
    assert after.content == b"ok"


# -- statuses and empty bodies ----------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 400, 401, 404, 418, 500, 502, 503])
async def test_status_codes(client: HttpClient, httpbin: Any, status: int) -> None:
    response = await client.get(httpbin.url + f"/status/{status}")
    assert response.status == status
    assert response.is_success == (200 <= status < 300)
    assert response.reason


async def test_head_has_no_body_and_the_next_request_works(client: HttpClient, httpbin: Any) -> None:
    response = await client.head(httpbin.url + "/bytes/2048")
    assert response.status == 200
    assert response.content == b""
    assert int(response.headers["Content-Length"]) == 2048
    after = await client.get(httpbin.url + "/bytes/10")
    assert len(after.content) == 10


@pytest.mark.parametrize("status", [204, 304])
async def test_bodiless_statuses_and_the_next_request(client: HttpClient, httpbin: Any, status: int) -> None:
    for _ in range(3):  # on one keep-alive connection: a body-less answer must not desynchronize it
        response = await client.get(httpbin.url + f"/status/{status}")
        assert response.status == status
        assert response.content == b""
        after = await client.get(httpbin.url + "/get")
        assert after.status == 200
        assert after.json()["url"].endswith("/get")


async def test_head_with_content_length_but_no_body(client: HttpClient, fault_server: FaultServer) -> None:
    with anyio.fail_after(HANG_GUARD):
        response = await client.head(fault_server.url + "/head-with-length")
        after = await client.get(fault_server.url + "/ok")
    assert response.status == 200
    assert response.headers["Content-Length"] == "12345"
    assert response.content == b""
    assert after.content == b"ok"
    assert after.headers["X-Conn"] == response.headers["X-Conn"], "the connection was not reused after HEAD"


# -- the engine hands redirects over (HttpRedirect follows them; tests/plugins) ---------------


async def test_redirect_is_returned_not_followed(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/redirect/1", follow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].endswith("/get")
    assert str(response.url) == httpbin.url + "/redirect/1"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_to(client: HttpClient, httpbin: Any, status: int) -> None:
    target = "http://example.invalid/elsewhere"
    response = await client.get(
        httpbin.url + "/redirect-to", params={"url": target, "status_code": status}, follow_redirects=False
    )
    assert response.status == status
    assert response.headers["Location"] == target


# -- headers and cookies ----------------------------------------------------------------------


async def test_request_headers_are_sent(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(
        httpbin.url + "/headers", headers={"X-Trace": "42", "Accept": "application/json", "X-Empty": ""}
    )
    headers = response.json()["headers"]
    assert headers["X-Trace"] == "42"
    assert headers["Accept"] == "application/json"
    assert headers["Host"] == httpbin.url.removeprefix("http://")


async def test_repeated_request_headers(client: HttpClient, fault_server: FaultServer) -> None:
    response = await client.get(fault_server.url + "/echo", headers=[("X-Multi", "one"), ("X-Multi", "two")])
    sent = [value for name, value in response.json()["headers"] if name.lower() == "x-multi"]
    assert sent in (["one", "two"], ["one, two"])


async def test_multi_valued_response_headers(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/response-headers?X-A=1&X-A=2&X-B=three")
    assert response.headers.getall("X-A") == ["1", "2"]
    assert response.headers["x-b"] == "three"  # case-insensitive


async def test_cookies_are_echoed(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/cookies", headers={"Cookie": "a=1; b=two"})
    assert response.json()["cookies"] == {"a": "1", "b": "two"}


async def test_set_cookie_headers_are_kept(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/cookies/set?first=1&second=2", follow_redirects=False)
    assert response.status == 302
    cookies = sorted(value.split(";")[0] for value in response.headers.getall("Set-Cookie"))
    assert cookies == ["first=1", "second=2"]


@pytest.mark.parametrize("bad", ["a\r\nInjected: yes", "a\nb", "a\rb", "a\x00b"])
async def test_header_with_line_break_or_nul_is_refused_before_sending(
    make_client: Callable[..., HttpClient], fault_server_factory: Callable[[], FaultServer], bad: str
) -> None:
    server = fault_server_factory()
    client = make_client()
    with pytest.raises(InvalidRequestError):
        await client.get(server.url + "/echo", headers={"X-Bad": bad})
    with pytest.raises(InvalidRequestError):
        await client.get(server.url + "/echo", headers=[("X-Good", "ok"), ("X-Bad" + bad, "value")])
    assert server.accepted == 0, "a byte of the refused request reached the server"
    assert (await client.get(server.url + "/ok")).content == b"ok"
    assert server.accepted == 1
