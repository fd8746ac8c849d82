"""HttpCookies on every engine, against httpbin: cookies set by a redirect hop, deleted, kept to
their host, path and scheme, merged with a caller's Cookie header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from yarl import URL

from kclient import HttpClient, HttpClientConfig
from kclient.plugins.cookies import ConstantCookiesStorage, Cookie, HttpCookies

pytestmark = pytest.mark.anyio

MakeClient = Callable[..., HttpClient]


#: httpx.AsyncClient keeps a cookie jar of its own: it stores Set-Cookie and sends those cookies
#: whenever the request has no Cookie header, behind the plugin's back.
def with_cookies(c: HttpClientConfig, **options: Any) -> None:
    c.install(HttpCookies, **options)


async def server_cookies(client: HttpClient, url: str) -> dict[str, str]:
    """The cookies httpbin received, by name."""
    response = await client.get(url)
    assert response.status == 200
    cookies: dict[str, str] = response.json()["cookies"]
    return cookies


def names(client: HttpClient, url: str) -> list[str]:
    return [cookie.name for cookie in client.plugin(HttpCookies).cookies(url)]


async def test_a_cookie_set_by_a_redirect_is_sent_to_its_target(make_client: MakeClient, httpbin: Any) -> None:
    client = make_client(with_cookies)
    response = await client.get(httpbin.url + "/cookies/set?a=1")  # 302 to /cookies
    assert response.status == 200
    assert response.url.path == "/cookies"
    assert response.json()["cookies"] == {"a": "1"}
    assert await server_cookies(client, httpbin.url + "/cookies") == {"a": "1"}
    assert names(client, httpbin.url + "/anything") == ["a"]


async def test_several_cookies_in_one_response(make_client: MakeClient, httpbin: Any) -> None:
    client = make_client(with_cookies)
    await client.get(httpbin.url + "/response-headers", params=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert await server_cookies(client, httpbin.url + "/cookies") == {"a": "1", "b": "2"}


async def test_a_cookie_is_stored_without_following_the_redirect(make_client: MakeClient, httpbin: Any) -> None:
    client = make_client(with_cookies)
    response = await client.get(httpbin.url + "/cookies/set?a=1", follow_redirects=False)
    assert response.status == 302
    assert await server_cookies(client, httpbin.url + "/cookies") == {"a": "1"}


async def test_a_deleted_cookie_is_no_longer_sent(make_client: MakeClient, httpbin: Any) -> None:
    client = make_client(with_cookies)
    await client.get(httpbin.url + "/cookies/set?a=1&b=2")
    response = await client.get(httpbin.url + "/cookies/delete?a")
    assert response.json()["cookies"] == {"b": "2"}
    assert await server_cookies(client, httpbin.url + "/cookies") == {"b": "2"}
    assert names(client, httpbin.url + "/") == ["b"]


async def test_cookies_of_another_host_are_not_sent(make_client: MakeClient, httpbin: Any) -> None:
    client = make_client(with_cookies)
    await client.get(httpbin.url + "/cookies/set?a=1")
    other_host = str(URL(httpbin.url).with_host("localhost"))  # the same server under another name
    assert await server_cookies(client, other_host + "/cookies") == {}
    assert await server_cookies(client, httpbin.url + "/cookies") == {"a": "1"}


async def test_cookies_of_another_domain_are_not_sent(make_client: MakeClient, httpbin: Any) -> None:
    jar = ConstantCookiesStorage(Cookie("elsewhere", "1", "example.com"), Cookie("here", "2", "127.0.0.1"))
    client = make_client(lambda c: with_cookies(c, storage=jar))
    assert await server_cookies(client, httpbin.url + "/cookies") == {"here": "2"}


async def test_cookies_of_another_path_are_not_sent(make_client: MakeClient, httpbin: Any) -> None:
    client = make_client(with_cookies)
    await client.get(httpbin.url + "/response-headers", params={"Set-Cookie": "p=1; Path=/anything"})
    assert await server_cookies(client, httpbin.url + "/cookies") == {}
    echoed = (await client.get(httpbin.url + "/anything/deeper")).json()
    assert echoed["headers"]["Cookie"] == "p=1"


async def test_a_secure_cookie_is_not_sent_over_http(make_client: MakeClient, httpbin: Any) -> None:
    jar = ConstantCookiesStorage(Cookie("s", "1", "127.0.0.1", secure=True), Cookie("plain", "2", "127.0.0.1"))
    client = make_client(lambda c: with_cookies(c, storage=jar))
    assert await server_cookies(client, httpbin.url + "/cookies") == {"plain": "2"}


async def test_a_secure_cookie_set_over_http_is_refused(make_client: MakeClient, httpbin: Any) -> None:
    client = make_client(with_cookies)
    await client.get(httpbin.url + "/response-headers", params=[("Set-Cookie", "s=1; Secure"), ("Set-Cookie", "p=2")])
    assert names(client, httpbin.url + "/") == ["p"]
    assert await server_cookies(client, httpbin.url + "/cookies") == {"p": "2"}


async def test_an_explicit_cookie_header_is_merged(make_client: MakeClient, httpbin: Any) -> None:
    client = make_client(with_cookies)
    await client.get(httpbin.url + "/cookies/set?a=1&b=2")
    mine = await client.get(httpbin.url + "/cookies", headers={"Cookie": "mine=x"})
    assert mine.json()["cookies"] == {"mine": "x", "a": "1", "b": "2"}
    theirs = await client.get(httpbin.url + "/cookies", headers={"Cookie": "a=user"})
    assert theirs.json()["cookies"] == {"a": "user", "b": "2"}


async def test_a_streamed_response_stores_its_cookies(make_client: MakeClient, httpbin: Any) -> None:
    client = make_client(with_cookies)
    async with client.stream("GET", httpbin.url + "/cookies/set?a=1") as response:
        assert response.status == 200
        await response.aread()
    assert await server_cookies(client, httpbin.url + "/cookies") == {"a": "1"}


async def test_a_constant_storage_ignores_cookies_set_on_the_wire(make_client: MakeClient, httpbin: Any) -> None:
    jar = ConstantCookiesStorage(Cookie("elsewhere", "1", "example.com"))
    client = make_client(lambda c: with_cookies(c, storage=jar))
    response = await client.get(httpbin.url + "/cookies/set?a=1")
    assert response.json()["cookies"] == {}
    assert await server_cookies(client, httpbin.url + "/cookies") == {}


async def test_without_the_plugin_no_cookie_is_kept(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/cookies/set?a=1")
    assert response.json()["cookies"] == {}
    assert await server_cookies(client, httpbin.url + "/cookies") == {}
