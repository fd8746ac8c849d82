"""HttpCache decisions, table-tested from RFC 9111's rules through the public API (the Mock
engine answers, so each row controls its headers and its Date exactly), and the stores.

Each row: the stored response's headers, the second request's headers and the cache's options,
and what the second request must do: ``hit`` (answered from the cache, no network),
``validated`` (a conditional request, answered ``304``, then from the cache) or ``network``
(sent on unconditionally: nothing stored fit to answer).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from kclient import ConfigError, HttpClient, Request
from kclient.engines.mock import Mock, MockAnswer, respond

pytest.importorskip("hishel", reason="needs hishel: pip install 'kclient[cache]'")

from kclient._cache_store import CachedResponse, FolderStore, MemoryStore
from kclient.plugins.cache import HttpCache

pytestmark = pytest.mark.anyio
URL = "http://mock.test/resource"


def ago(seconds: float) -> str:
    return formatdate(time.time() - seconds, usegmt=True)


class Origin:
    """Answers ``headers`` (values may be functions, called at answer time) and ``304`` to a
    conditional request; keeps what it was sent."""

    def __init__(self, headers: dict[str, Any], status: int = 200) -> None:
        self.headers = headers
        self.status = status
        self.sent: list[Request] = []

    def __call__(self, request: Request) -> MockAnswer:
        self.sent.append(request)
        headers = {name: value() if callable(value) else value for name, value in self.headers.items()}
        headers.setdefault("Date", ago(0))
        if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
            return respond(b"", 304, headers)
        return respond(f"answer {len(self.sent)}", self.status, headers)


def outcome(origin: Origin, before: int, response: Any) -> str:
    if len(origin.sent) == before:
        return "hit"
    conditional = "If-None-Match" in origin.sent[-1].headers or "If-Modified-Since" in origin.sent[-1].headers
    if conditional and response.source == "cache":
        return "validated"
    return "network"


TEN_DAYS = 864_000
ROWS: list[tuple[str, dict[str, Any], dict[str, str], dict[str, Any], str]] = [
    # (RFC 9111 section: rule, stored headers, second request's headers, options, outcome)
    ("4.2.1 max-age fresh", {"Cache-Control": "max-age=60"}, {}, {}, "hit"),
    ("4.2.1 max-age stale, no validator", {"Cache-Control": "max-age=60", "Date": lambda: ago(120)}, {}, {}, "network"),
    (
        "4.3.1 max-age stale, ETag",
        {"Cache-Control": "max-age=60", "Date": lambda: ago(120), "ETag": '"v1"'},
        {},
        {},
        "validated",
    ),
    ("5.3 Expires ahead", {"Expires": lambda: ago(-60)}, {}, {}, "hit"),
    ("5.3 Expires behind, ETag", {"Expires": lambda: ago(60), "ETag": '"v1"'}, {}, {}, "validated"),
    ("5.3 Expires invalid: stale", {"Expires": "0", "ETag": '"v1"'}, {}, {}, "validated"),
    ("5.2.2.1 max-age wins over Expires", {"Cache-Control": "max-age=60", "Expires": lambda: ago(60)}, {}, {}, "hit"),
    ("5.2.2.10 s-maxage ignored by a private cache", {"Cache-Control": "s-maxage=60"}, {}, {}, "network"),
    ("5.2.2.10 s-maxage in a shared cache", {"Cache-Control": "s-maxage=60"}, {}, {"shared": True}, "hit"),
    ("5.2.2.4 no-cache validates", {"Cache-Control": "no-cache", "ETag": '"v1"'}, {}, {}, "validated"),
    ("5.2.2.5 no-store is not stored", {"Cache-Control": "no-store, max-age=60", "ETag": '"v1"'}, {}, {}, "network"),
    ("5.2.2.2 must-revalidate fresh", {"Cache-Control": "max-age=60, must-revalidate"}, {}, {}, "hit"),
    (
        "5.2.2.2 must-revalidate stale",
        {"Cache-Control": "max-age=60, must-revalidate", "Date": lambda: ago(120), "ETag": '"v1"'},
        {},
        {"allow_stale": True},
        "validated",
    ),
    ("5.2.2.7 private in a private cache", {"Cache-Control": "private, max-age=60"}, {}, {}, "hit"),
    ("5.2.2.7 private in a shared cache", {"Cache-Control": "private, max-age=60"}, {}, {"shared": True}, "network"),
    ("4.2.2 heuristic freshness", {"Last-Modified": lambda: ago(TEN_DAYS)}, {}, {}, "hit"),
    (
        "4.3.1 Last-Modified validates",
        {"Last-Modified": lambda: ago(5), "Cache-Control": "max-age=0"},
        {},
        {},
        "validated",
    ),
    (
        "5.2.1.4 request no-cache",
        {"Cache-Control": "max-age=60", "ETag": '"v1"'},
        {"Cache-Control": "no-cache"},
        {},
        "validated",
    ),
    # no-store forbids storing this request's answer, not answering it from what is stored
    ("5.2.1.5 request no-store", {"Cache-Control": "max-age=60"}, {"Cache-Control": "no-store"}, {}, "hit"),
    ("4.1 Vary matches", {"Cache-Control": "max-age=60", "Vary": "Accept"}, {"Accept": "text/a"}, {}, "hit"),
    ("4.1 Vary differs", {"Cache-Control": "max-age=60", "Vary": "Accept"}, {"Accept": "text/b"}, {}, "network"),
    ("4.1 Vary: * never matches", {"Cache-Control": "max-age=60", "Vary": "*", "ETag": '"v1"'}, {}, {}, "validated"),
    ("3.5 Authorization, private cache", {"Cache-Control": "max-age=60"}, {"Authorization": "Bearer t"}, {}, "hit"),
    (
        "3.5 Authorization, shared cache",
        {"Cache-Control": "max-age=60"},
        {"Authorization": "Bearer t"},
        {"shared": True},
        "network",
    ),
    (
        "3.5 Authorization, shared cache, public",
        {"Cache-Control": "public, max-age=60"},
        {"Authorization": "Bearer t"},
        {"shared": True},
        "hit",
    ),
]


@pytest.mark.parametrize(("rule", "stored", "asked", "options", "expected"), ROWS, ids=[row[0] for row in ROWS])
async def test_rfc_9111_rules(
    rule: str, stored: dict[str, Any], asked: dict[str, str], options: dict[str, Any], expected: str
) -> None:
    origin = Origin(stored)
    first_headers = {"Accept": "text/a", "Authorization": "Bearer t"} if asked else {}
    if "Cache-Control" in asked:
        first_headers = {}
    async with HttpClient(Mock(origin), lambda c: c.install(HttpCache, **options)) as client:
        await client.get(URL, headers=first_headers)
        before = len(origin.sent)
        response = await client.get(URL, headers=asked or first_headers)
        assert outcome(origin, before, response) == expected, rule
        assert response.status == 200


@pytest.mark.parametrize("status", [203, 204, 300, 301, 308, 404, 405, 410, 414, 501])
async def test_heuristically_cacheable_statuses_are_stored(status: int) -> None:
    origin = Origin({"Cache-Control": "max-age=60"}, status=status)
    async with HttpClient(Mock(origin), lambda c: c.install(HttpCache)) as client:
        await client.get(URL, follow_redirects=False) if 300 <= status < 400 else await client.get(URL)
        again = await client.get(URL, follow_redirects=False)
        assert again.source == "cache" and again.status == status and len(origin.sent) == 1


@pytest.mark.parametrize("status", [206, 500, 502, 503, 504])
async def test_partial_answers_and_server_errors_are_not_stored(status: int) -> None:
    origin = Origin({"Cache-Control": "max-age=60"}, status=status)
    async with HttpClient(Mock(origin), lambda c: c.install(HttpCache)) as client:
        await client.get(URL)
        assert (await client.get(URL)).source is None and len(origin.sent) == 2


async def test_a_304_freshens_the_stored_headers() -> None:
    """RFC 9111 §4.3.4: the 304's headers replace the stored ones, so the response is fresh again."""
    origin = Origin({"Cache-Control": "max-age=0", "ETag": '"v1"', "X-Version": "1"})
    async with HttpClient(Mock(origin), lambda c: c.install(HttpCache)) as client:
        first = await client.get(URL)
        origin.headers = {"Cache-Control": "max-age=60", "ETag": '"v1"', "X-Version": "2"}
        validated = await client.get(URL)
        assert validated.source == "cache" and validated.text == first.text == "answer 1"
        assert validated.headers["X-Version"] == "2"
        assert (await client.get(URL)).source == "cache" and len(origin.sent) == 2  # fresh again


async def test_unsafe_methods_invalidate_on_success_only() -> None:
    """RFC 9111 §4.4: a non-error answer to an unsafe method invalidates the target URI."""
    origin = Origin({"Cache-Control": "max-age=60"})
    async with HttpClient(Mock(origin), lambda c: c.install(HttpCache)) as client:
        await client.get(URL)
        origin.status = 500
        await client.delete(URL)
        assert (await client.get(URL)).source == "cache"  # a failed DELETE changed nothing
        origin.status = 200
        await client.delete(URL)
        assert (await client.get(URL)).source is None


async def test_only_if_cached_answers_504_without_the_network() -> None:
    origin = Origin({"Cache-Control": "max-age=60"})
    async with HttpClient(Mock(origin), lambda c: c.install(HttpCache)) as client:
        response = await client.get(URL, cache="only-if-cached")
        assert (response.status, response.source, len(origin.sent)) == (504, "cache", 0)
        assert "only-if-cached" in response.text


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="folder="):
        HttpCache.create(folder=3)
    with pytest.raises(ConfigError, match="methods"):
        HttpCache.create(methods=["GET", "no such"])
    with pytest.raises(ConfigError, match="max_size"):
        HttpCache.create(max_size=0)
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(ConfigError, match="cannot be created"):
        HttpCache.create(folder=blocked / "cache")


# -- the stores -------------------------------------------------------------------------------
def entry(body: bytes, url: str = URL) -> CachedResponse:
    return CachedResponse(
        id=CachedResponse.new_id(),
        method="GET",
        url=url,
        vary=(),
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        headers=(("Content-Type", "text/plain"),),
        body=body,
        stored_at=time.time(),
    )


StoreFactory = Callable[[Path, int], Any]
STORES: list[StoreFactory] = [lambda folder, size: MemoryStore(size), FolderStore]


@pytest.mark.parametrize("make", STORES, ids=["memory", "folder"])
def test_stores_keep_replace_remove_and_clear(make: StoreFactory, tmp_path: Path) -> None:
    store = make(tmp_path / "cache", 1 << 20)
    first = entry(b"one")
    store.put("k", first)
    store.put("k", entry(b"two"))
    assert [kept.body for kept in store.entries("k")] == [b"one", b"two"]
    store.put("k", dataclasses.replace(first, body=b"uno"))  # the same id: replaced
    assert sorted(kept.body for kept in store.entries("k")) == [b"two", b"uno"]
    store.remove("k", {first.id})
    assert [kept.body for kept in store.entries("k")] == [b"two"]
    assert store.entries("other") == [] and len(store) == 1
    store.clear()
    assert store.entries("k") == [] and len(store) == 0


@pytest.mark.parametrize("make", STORES, ids=["memory", "folder"])
def test_stores_stay_under_their_bound_and_forget_the_least_recently_used(make: StoreFactory, tmp_path: Path) -> None:
    store = make(tmp_path / "cache", 50_000)
    for index in range(40):
        store.put(f"k{index}", entry(bytes(2_000), url=f"{URL}/{index}"))
        if index >= 1:
            store.entries("k0")  # used again and again: kept
            if isinstance(store, FolderStore):
                time.sleep(0.002)  # distinct modification times
    if isinstance(store, FolderStore):
        store.close()  # what waits written, and evicted past the bound
    assert store.entries("k0") and not store.entries("k1")
    if isinstance(store, FolderStore):
        size = sum(path.stat().st_size for path in (tmp_path / "cache").glob("*.kcache"))
        assert size <= 50_000
    else:
        assert store.size <= 50_000


def test_the_folder_store_survives_torn_and_foreign_files(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    store = FolderStore(folder, 1 << 20)
    store.put("k", entry(b"kept"))
    store.close()  # written now
    (path,) = folder.glob("*.kcache")
    path.write_bytes(path.read_bytes()[:10])  # torn by a disk fault
    assert store.entries("k") == [] and not path.exists()
    (folder / ".left.kcache.1.x.tmp").write_bytes(b"x")  # a writer that died
    old = time.time() - 3600
    import os

    os.utime(folder / ".left.kcache.1.x.tmp", (old, old))
    FolderStore(folder, 1 << 20)  # a new kernel: the scan removes it
    assert not (folder / ".left.kcache.1.x.tmp").exists()


def test_two_stores_on_one_folder_see_each_other(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    one, two = FolderStore(folder, 1 << 20), FolderStore(folder, 1 << 20)
    one.put("k", entry(b"from one"))
    assert [kept.body for kept in one.entries("k")] == [b"from one"]  # read before it is written
    one.flush()
    assert [kept.body for kept in two.entries("k")] == [b"from one"]
    two.put("k", entry(b"from two"))
    two.close()
    assert [kept.body for kept in one.entries("k")] == [b"from one", b"from two"]


def test_the_folder_store_warns_once_when_it_cannot_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FolderStore(tmp_path / "cache", 1 << 20)
    store.close()  # written at once from now on: the warning comes from this thread

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("kclient._cache_store.os.replace", full)
    with pytest.warns(RuntimeWarning, match="No space left"):
        store.put("k", entry(b"x"))
    store.put("k", entry(b"y"))  # no second warning (pytest's filter would fail on one)
    assert store.entries("k") == [] and not list((tmp_path / "cache").glob("*.tmp"))
