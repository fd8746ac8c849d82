"""BodyProgress on every engine: download and upload counts, totals, per-request callbacks, the bar."""

from __future__ import annotations

import gc
import hashlib
import io
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from extras import needs

from kclient import HttpClient
from kclient.plugins.progress import BodyProgress

from .faults import FaultServer
from .support import HANG_GUARD, HTTPX_TRIO_ABANDONS_GENERATORS, Site, chunked_body, pattern_bytes

pytestmark = pytest.mark.anyio

Call = tuple[int, int | None]


class Recorder:
    """A progress callback that records its calls."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def __call__(self, so_far: int, total: int | None) -> None:
        self.calls.append((so_far, total))


class Boom(Exception):
    """Raised by a callback of these tests."""


def _progress(**options: Any) -> Callable[[Any], None]:
    return lambda c: c.install(BodyProgress, **options)


def assert_counts(calls: list[Call], size: int, total: int | None) -> None:
    """Counts grow with every call and end at ``(size, size)``; every call before the last reports ``total``.

    With no total, the last call repeats the count of the one before, with the total now known.
    """
    assert calls, "no progress was reported"
    assert calls[-1] == (size, size)
    counts = [so_far for so_far, _ in calls[:-1]]
    assert counts == sorted(set(counts)), f"counts do not grow: {counts}"
    assert all(count < size for count in counts) or (total is None and counts[-1] == size), calls
    assert all(reported == total for _, reported in calls[:-1]), calls


# -- downloads --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["0B", "1B", "64KiB", "1MiB", "10MiB"])
async def test_download_counts_add_up(make_client: Callable[..., HttpClient], nginx: Site, name: str) -> None:
    downloads = Recorder()
    client = make_client(_progress(on_download=downloads))
    expected = nginx.files[name]
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(nginx.url + expected.path)
    assert len(response.content) == expected.size
    assert hashlib.sha256(response.content).hexdigest() == expected.sha256
    assert_counts(downloads.calls, expected.size, expected.size)  # the total is the Content-Length


@pytest.mark.parametrize("name", ["64KiB", "1MiB"])
async def test_download_counts_follow_the_stream(
    make_client: Callable[..., HttpClient], nginx: Site, name: str
) -> None:
    downloads = Recorder()
    client = make_client(_progress(on_download=downloads))
    expected = nginx.files[name]
    received = 0
    with anyio.fail_after(HANG_GUARD):
        async with client.stream("GET", nginx.url + expected.path) as response:
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                assert downloads.calls[-1] == (received, expected.size)  # reported as the chunk arrives
    assert received == expected.size
    assert_counts(downloads.calls, expected.size, expected.size)


async def test_download_of_unknown_size(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    downloads = Recorder()
    client = make_client(_progress(on_download=downloads))
    response = await client.get(httpbin.url + "/stream-bytes/50000", params={"chunk_size": 1000})
    assert "Content-Length" not in response.headers
    assert len(response.content) == 50000
    assert_counts(downloads.calls, 50000, None)


async def test_download_content_encoded_has_no_total(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    downloads = Recorder()
    client = make_client(_progress(on_download=downloads))
    response = await client.get(httpbin.url + "/gzip", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Content-Length" in response.headers  # of the compressed body: not the total of what is read
    assert_counts(downloads.calls, len(response.content), None)


@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_download_closed_early_has_no_final_call(make_client: Callable[..., HttpClient], nginx: Site) -> None:
    downloads = Recorder()
    client = make_client(_progress(on_download=downloads))
    size = nginx.files["10MiB"].size
    with anyio.fail_after(HANG_GUARD):
        async with client.stream("GET", nginx.url + "/files/10MiB") as response:
            async for _chunk in response.aiter_bytes():
                break
    assert downloads.calls
    assert all(so_far < size and total == size for so_far, total in downloads.calls)
    gc.collect()  # what the engine abandoned is reported now, in this test


# -- uploads ----------------------------------------------------------------------------------


async def test_upload_of_an_async_iterable_is_counted_chunk_by_chunk(
    make_client: Callable[..., HttpClient], fault_server: FaultServer
) -> None:
    uploads = Recorder()
    client = make_client(_progress(on_upload=uploads))
    parts = [b"a" * 1000, b"", b"b" * 5000, pattern_bytes(70_000)]
    with anyio.fail_after(HANG_GUARD):
        response = await client.post(fault_server.url + "/echo", content=chunked_body(parts))
    echoed = response.json()
    assert echoed["framing"]["transfer_encoding"] == "chunked"
    assert echoed["body_length"] == 76_000
    assert uploads.calls == [(1000, None), (6000, None), (76_000, None), (76_000, 76_000)]


async def test_upload_of_bytes_before_and_after(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    events: list[tuple[str, int, int | None]] = []
    client = make_client(
        _progress(
            on_upload=lambda n, t: events.append(("up", n, t)),
            on_download=lambda n, t: events.append(("down", n, t)),
        )
    )
    body = pattern_bytes(100_000)
    response = await client.post(httpbin.url + "/post", content=body)
    assert response.status == 200
    assert events[:2] == [("up", 0, 100_000), ("up", 100_000, 100_000)]  # before sending, at the response head
    assert all(kind == "down" for kind, _, _ in events[2:])
    assert events[-1] == ("down", len(response.content), len(response.content))


async def test_a_request_without_a_body_reports_no_upload(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    uploads = Recorder()
    client = make_client(_progress(on_upload=uploads))
    response = await client.get(httpbin.url + "/bytes/10")
    assert len(response.content) == 10
    assert uploads.calls == []


# -- per-request callbacks --------------------------------------------------------------------


async def test_per_request_callbacks_replace_the_configured_ones(
    make_client: Callable[..., HttpClient], fault_server: FaultServer
) -> None:
    configured_up, configured_down = Recorder(), Recorder()
    own_up, own_down = Recorder(), Recorder()
    client = make_client(_progress(on_upload=configured_up, on_download=configured_down))
    with anyio.fail_after(HANG_GUARD):
        first = await client.post(
            fault_server.url + "/echo", content=chunked_body([b"12345"]), on_upload=own_up, on_download=own_down
        )
        assert configured_up.calls == configured_down.calls == []
        assert own_up.calls == [(5, None), (5, 5)]
        assert own_down.calls[-1] == (len(first.content), len(first.content))
        second = await client.post(fault_server.url + "/echo", content=b"abc")
    assert configured_up.calls == [(0, 3), (3, 3)]
    assert configured_down.calls[-1] == (len(second.content), len(second.content))
    assert own_up.calls == [(5, None), (5, 5)]  # the first request's callbacks are not kept


async def test_per_request_callback_without_configured_ones(
    make_client: Callable[..., HttpClient], nginx: Site
) -> None:
    client = make_client(_progress())
    downloads = Recorder()
    response = await client.get(nginx.url + "/files/64KiB", on_download=downloads)
    assert_counts(downloads.calls, len(response.content), 64 << 10)


# -- callback errors --------------------------------------------------------------------------


def _fail_after(limit: int) -> Callable[[int, int | None], None]:
    def callback(so_far: int, total: int | None) -> None:
        if so_far > limit:
            raise Boom(f"stopped at {so_far}")

    return callback


@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_a_download_callback_error_fails_the_request(make_client: Callable[..., HttpClient], nginx: Site) -> None:
    client = make_client(_progress(on_download=_fail_after(100_000)))
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(Boom, match="stopped at"):
            await client.get(nginx.url + "/files/1MiB")
        with pytest.raises(Boom, match="stopped at"):
            async with client.stream("GET", nginx.url + "/files/1MiB") as response:
                await response.aread()
        after = await client.get(nginx.url + "/files/1KiB")  # the client goes on
    assert len(after.content) == 1024
    assert client.status().failed == 2
    gc.collect()  # what the engine abandoned is reported now, in this test


async def test_an_upload_callback_error_fails_the_request_on_every_engine(
    make_client: Callable[..., HttpClient], fault_server: FaultServer
) -> None:
    client = make_client(_progress(on_upload=_fail_after(1500)))
    parts = [b"x" * 1000] * 5
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(Boom, match="stopped at 2000"):  # as raised, not wrapped in an engine's WriteError
            await client.post(fault_server.url + "/echo", content=chunked_body(parts))
        with pytest.raises(Boom, match="stopped at 5000"):
            await client.post(fault_server.url + "/echo", content=b"y" * 5000)  # at the response head
        after = await client.get(fault_server.url + "/ok")
    assert after.content == b"ok"


# -- the bar ----------------------------------------------------------------------------------


@needs("tqdm")
async def test_progress_bar_for_big_downloads_only(make_client: Callable[..., HttpClient], nginx: Site) -> None:
    out = io.StringIO()
    client = make_client(_progress(progress_bar=True, progress_file=out, min_size=64 << 10))
    with anyio.fail_after(HANG_GUARD):
        big = await client.get(nginx.url + "/files/1MiB")
        shown = out.getvalue()
        small = await client.get(nginx.url + "/files/12B")
    assert len(big.content) == 1 << 20
    assert "1MiB: 100%" in shown
    assert "1.00M/1.00M" in shown
    assert len(small.content) == 12
    assert out.getvalue() == shown  # below min_size: no bar


@needs("tqdm")
async def test_progress_bar_and_callback_together(make_client: Callable[..., HttpClient], nginx: Site) -> None:
    out = io.StringIO()
    downloads = Recorder()
    client = make_client(_progress(progress_bar=True, progress_file=out, min_size=0, on_download=downloads))
    with anyio.fail_after(HANG_GUARD):
        async with client.stream("GET", nginx.url + "/files/64KiB") as response:
            await response.aread()
    assert_counts(downloads.calls, 64 << 10, 64 << 10)
    assert "64KiB: 100%" in out.getvalue()
