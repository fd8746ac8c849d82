"""HttpCache on every engine, against a real origin (hypercorn, ``tests/cache_app.py``) that
counts what reaches it: fresh hits with no network, validation by ETag and Last-Modified,
Vary, no-store, invalidation, per-request control, the folder store across clients, bounds,
and the cache under Auth, cookies, redirects, retries and Logging."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kclient import HttpClient, HttpClientConfig, InvalidRequestError
from kclient.plugins.auth import Auth, BasicAuth
from kclient.plugins.cache import HttpCache
from kclient.plugins.cookies import HttpCookies
from kclient.plugins.logs import Logging
from kclient.plugins.retry import HttpRequestRetry

from .support import HTTPX_TRIO_ABANDONS_GENERATORS

pytestmark = [pytest.mark.anyio]

MakeClient = Callable[..., HttpClient]


@pytest.fixture
def origin() -> Iterator[tuple[str, Any]]:
    pytest.importorskip("hishel", reason="needs hishel: pip install 'kclient[cache]'")
    pytest.importorskip("hypercorn", reason="needs hypercorn: pip install 'kclient[test]'")
    from cache_app import CacheOrigin
    from servers import Hypercorn

    app = CacheOrigin()
    with Hypercorn(app) as server:
        yield server.url, app


def caching(**options: Any) -> Callable[[HttpClientConfig], None]:
    def configure(c: HttpClientConfig) -> None:
        c.install(HttpCache, **options)

    return configure


async def test_a_fresh_response_is_answered_from_the_cache(make_client: MakeClient, origin: tuple[str, Any]) -> None:
    base, app = origin
    client = make_client(caching())
    first = await client.get(f"{base}/r/a?cc=max-age%3D60")
    again = await client.get(f"{base}/r/a?cc=max-age%3D60")
    assert first.source is None and again.source == "cache"
    assert again.text == first.text == "a v0" and again.status == 200
    assert app.hits["a"] == 1
    assert "Age" in again.headers and "(from cache)" in repr(again)
    cache = client.plugin(HttpCache)
    assert (cache.hits, cache.misses, cache.stored) == (1, 1, 1)
    assert "1 hit(s)" in repr(cache)


async def test_a_stale_response_is_validated_by_etag_and_a_304_answers_from_the_cache(
    make_client: MakeClient, origin: tuple[str, Any]
) -> None:
    base, app = origin
    client = make_client(caching())
    url = f"{base}/r/b?cc=max-age%3D60&age=120&etag=1"  # already two minutes old: stale
    await client.get(url)
    again = await client.get(url)
    assert app.requests[-1]["if-none-match"] == '"b-0"'
    assert again.source == "cache" and again.text == "b v0" and app.conditional["b"] == 1
    assert client.plugin(HttpCache).revalidated == 1
    app.change("b")
    changed = await client.get(url)
    assert changed.source is None and changed.text == "b v1"
    assert (await client.get(url)).text == "b v1"  # the new version replaced the old one


async def test_last_modified_validates_and_gives_heuristic_freshness(
    make_client: MakeClient, origin: tuple[str, Any]
) -> None:
    base, app = origin
    client = make_client(caching())
    # modified ten days ago, no explicit freshness: fresh for a tenth of that (RFC 9111 §4.2.2)
    await client.get(f"{base}/r/h?lm=864000")
    assert (await client.get(f"{base}/r/h?lm=864000")).source == "cache"
    assert app.hits["h"] == 1
    # with no-cache every use is validated, by If-Modified-Since
    url = f"{base}/r/m?lm=864000&cc=no-cache"
    await client.get(url)
    again = await client.get(url)
    assert "if-modified-since" in app.requests[-1] and again.source == "cache" and app.hits["m"] == 2


async def test_vary_keeps_one_variant_per_header_value(make_client: MakeClient, origin: tuple[str, Any]) -> None:
    base, app = origin
    client = make_client(caching())
    url = f"{base}/r/v?cc=max-age%3D60&vary=Accept-Language&echo=1"
    en = await client.get(url, headers={"Accept-Language": "en"})
    fr = await client.get(url, headers={"Accept-Language": "fr"})
    assert en.text == "v v0 en" and fr.text == "v v0 fr" and fr.source is None
    again = await client.get(url, headers={"Accept-Language": "fr"})
    assert again.source == "cache" and again.text == "v v0 fr" and app.hits["v"] == 2


async def test_what_may_not_be_stored_is_not(make_client: MakeClient, origin: tuple[str, Any]) -> None:
    base, app = origin
    client = make_client(caching())
    for _ in range(2):
        await client.get(f"{base}/r/ns?cc=no-store")
        await client.get(f"{base}/r/plain")  # no freshness and no validator: never reusable
        await client.get(f"{base}/r/req?cc=max-age%3D60", headers={"Cache-Control": "no-store"})
        await client.post(f"{base}/r/post?cc=max-age%3D60", json={})
    assert (app.hits["ns"], app.hits["plain"], app.hits["req"], app.hits["post"]) == (2, 2, 2, 2)
    assert client.plugin(HttpCache).stored == 0


async def test_an_unsafe_request_invalidates_what_is_stored_for_its_url(
    make_client: MakeClient, origin: tuple[str, Any]
) -> None:
    base, app = origin
    client = make_client(caching())
    url = f"{base}/r/u?cc=max-age%3D60"
    await client.get(url)
    assert (await client.get(url)).source == "cache"
    await client.put(url, json={"changed": True})
    assert (await client.get(url)).source is None and app.hits["u"] == 3


async def test_per_request_control(make_client: MakeClient, origin: tuple[str, Any]) -> None:
    base, app = origin
    client = make_client(caching())
    url = f"{base}/r/p?cc=max-age%3D60&etag=1"
    missing = await client.get(url, cache="only-if-cached")
    assert missing.status == 504 and missing.source == "cache" and app.hits["p"] == 0
    await client.get(url)
    assert (await client.get(url, cache="only-if-cached")).source == "cache"
    bypassed = await client.get(url, cache="bypass")
    assert bypassed.source is None and "if-none-match" not in app.requests[-1]
    refreshed = await client.get(url, cache="refresh")  # validated although fresh
    assert app.requests[-1]["if-none-match"] == '"p-0"' and refreshed.source == "cache"
    assert (await client.get(url, headers={"Cache-Control": "only-if-cached"})).source == "cache"
    assert app.hits["p"] == 3
    with pytest.raises(InvalidRequestError, match="cache= takes"):
        await client.get(url, cache="sometimes")


async def test_the_cache_option_without_the_plugin_names_it(client: HttpClient, origin: tuple[str, Any]) -> None:
    base, _ = origin
    with pytest.raises(InvalidRequestError, match="HttpCache"):
        await client.get(f"{base}/r/x", cache="bypass")


async def test_gzip_bodies_are_stored_decoded_and_heads_use_their_own_entries(
    make_client: MakeClient, origin: tuple[str, Any]
) -> None:
    base, app = origin
    client = make_client(caching())
    url = f"{base}/r/g?cc=max-age%3D60&gzip=1"
    first = await client.get(url)
    again = await client.get(url)
    assert again.source == "cache" and again.text == first.text == "g v0"
    assert "Content-Encoding" not in again.headers and again.headers["Content-Length"] == "4"
    head = await client.head(url)
    assert head.source is None and (await client.head(url)).source == "cache" and app.hits["g"] == 2


async def test_streams_keep_their_bodies_bounded(make_client: MakeClient, origin: tuple[str, Any]) -> None:
    base, app = origin
    client = make_client(caching(max_size=64 * 1024, max_entry_size=1024))
    url = f"{base}/r/big?cc=max-age%3D60&size=200000"
    async with client.stream("GET", url) as response:
        assert len(await response.aread()) == 200_000
    assert (await client.get(url)).source is None  # larger than max_entry_size: passed uncached
    assert app.hits["big"] == 2


@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_a_body_left_before_its_end_is_not_stored(make_client: MakeClient, origin: tuple[str, Any]) -> None:
    base, app = origin
    client = make_client(caching())
    # large enough to come in several pieces (a body an engine read whole with the head is stored)
    url = f"{base}/r/part?cc=max-age%3D60&size=4000000"
    async with client.stream("GET", url) as response:
        async for _ in response.aiter_bytes():
            break  # left before its end: a partial body is not stored
    assert (await client.get(url)).source is None
    again = await client.get(url)
    assert again.source == "cache" and len(again.content) == 4_000_000 and app.hits["part"] == 2


async def test_the_memory_store_forgets_the_least_recently_used(
    make_client: MakeClient, origin: tuple[str, Any]
) -> None:
    base, app = origin
    client = make_client(caching(max_size=8_000, max_entry_size=4_000))
    for index in range(10):  # ten bodies of 2000 bytes in 8000
        await client.get(f"{base}/r/e{index}?cc=max-age%3D60&size=2000")
    cache = client.plugin(HttpCache)
    assert cache.store.size <= 8_000  # type: ignore[attr-defined]
    assert (await client.get(f"{base}/r/e9?cc=max-age%3D60&size=2000")).source == "cache"
    assert (await client.get(f"{base}/r/e0?cc=max-age%3D60&size=2000")).source is None
    assert (app.hits["e9"], app.hits["e0"]) == (1, 2)


async def test_the_folder_store_outlives_the_client_and_is_shared(
    make_client: MakeClient, origin: tuple[str, Any], tmp_path: Path
) -> None:
    base, app = origin
    folder = tmp_path / "cache"
    url = f"{base}/r/f?cc=max-age%3D600&vary=Authorization"
    first = make_client(caching(folder=folder))
    await first.get(url, headers={"Authorization": "Bearer s3cret-token"})
    first.close()
    await first.join()
    second, third = make_client(caching(folder=folder)), make_client(caching(folder=folder))
    answer = await second.get(url, headers={"Authorization": "Bearer s3cret-token"})
    assert answer.source == "cache" and app.hits["f"] == 1
    other = await third.get(url, headers={"Authorization": "Bearer another"})  # another variant
    assert other.source is None and app.hits["f"] == 2
    third.plugin(HttpCache).store.close()  # written behind by now in any case; at once here
    assert (await second.get(url, headers={"Authorization": "Bearer another"})).source == "cache"
    stored = b"".join(path.read_bytes() for path in folder.iterdir() if path.is_file())
    assert b"s3cret-token" not in stored and b"another" not in stored  # digests, not credentials


async def test_the_cache_works_under_auth_cookies_redirects_and_retries(
    make_client: MakeClient, origin: tuple[str, Any]
) -> None:
    base, app = origin

    def configure(c: HttpClientConfig) -> None:
        c.install(HttpCache)
        c.install(Auth, providers=[BasicAuth("ada", "pw", send_without_request=True)])
        c.install(HttpCookies)
        c.install(HttpRequestRetry, max_retries=2, base_delay=0.0)

    client = make_client(configure)
    moved = f"{base}/moved/t?cc=max-age%3D60"
    first = await client.get(moved)  # 301 (stored) -> /r/t (heuristic freshness: no)
    assert first.status == 200 and str(first.url).endswith("/r/t")
    await client.get(moved)
    assert app.hits["t"] == 3  # the redirect answered from the cache, its target asked again
    assert app.requests[-1]["authorization"].startswith("Basic ")
    url = f"{base}/r/c?cc=max-age%3D60&cookie=flavour%3Dplain"
    await client.get(url)
    again = await client.get(url)
    assert again.source == "cache" and "Set-Cookie" not in again.headers  # never stored
    cookies = client.plugin(HttpCookies).config.storage.get(again.url, now=time.time())  # type: ignore[attr-defined]
    assert [cookie.value for cookie in cookies] == ["plain"]
    failing = f"{base}/r/503?status=503&cc=max-age%3D60"
    answer = await client.get(failing)
    assert answer.status == 503 and app.hits["503"] == 3  # each retry went to the origin


async def test_logging_says_from_cache(
    make_client: MakeClient, origin: tuple[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    base, _ = origin

    def configure(c: HttpClientConfig) -> None:
        c.install(HttpCache)
        c.install(Logging, level="INFO")

    client = make_client(configure)
    with caplog.at_level(logging.INFO):
        await client.get(f"{base}/r/l?cc=max-age%3D60")
        await client.get(f"{base}/r/l?cc=max-age%3D60")
    assert sum("from cache" in record.getMessage() for record in caplog.records) == 1
