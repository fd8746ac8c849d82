"""Memory bounded by the client, never by the server: on every engine, with the default settings.

The fault server (``bombs.py``) declares a body far longer than it sends, sends compressed
bombs (2 MiB or less that expand to 2 GiB) and a chunked body that never ends. Each test
asserts the error (``ResponseTooLargeError``, or the ``ProtocolError`` of a body cut short),
the peak memory growth of this process while the request ran (``/proc/self``'s high-water
mark, reset before the request), that nothing is left in flight, and that the next request
on the same client works.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import anyio
import pytest

from kclient import HttpClient, KClientError, ProtocolError, ResponseTooLargeError, Timeouts

from . import bombs
from .faults import FaultServer
from .support import HANG_GUARD, HTTPX_TRIO_ABANDONS_GENERATORS

pytestmark = pytest.mark.anyio

MiB = 1 << 20
TIMEOUTS = Timeouts(connect=5, request=60, socket=10)
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _kib(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in {_STATUS}")


class PeakMemory:
    """The growth of this process's peak resident memory over a block, in bytes."""

    growth = 0


def _give_back_freed_memory() -> None:
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc keeps freed pages resident until trimmed


@contextmanager
def peak_growth() -> Iterator[PeakMemory]:
    """Reset the kernel's high-water mark of resident memory, run the block, measure how far it rose."""
    if not _CLEAR_REFS.exists():
        pytest.skip("needs Linux's /proc/self/clear_refs to reset the peak of resident memory")
    measured = PeakMemory()
    _give_back_freed_memory()  # so an earlier test's freed buffers do not hide this one's growth
    before = _kib("VmRSS")
    _CLEAR_REFS.write_text("5")  # resets VmHWM to the current resident size
    try:
        yield measured
    finally:
        measured.growth = (_kib("VmHWM") - before) * 1024


@pytest.fixture(scope="module", params=bombs.BOMB_CODINGS)
def coding(request: pytest.FixtureRequest) -> str:
    bombs.bomb(request.param)  # made before any measurement
    return str(request.param)


async def _still_works(client: HttpClient, server: FaultServer) -> None:
    assert client.status().in_flight == 0
    response = await client.get(server.url + "/ok", timeout=TIMEOUTS)
    assert response.content == b"ok"


@pytest.mark.reliability("Content-Length of 3 GB, 300 KB sent")
async def test_lying_content_length_fails_at_once(
    make_client: Callable[..., HttpClient], fault_server: FaultServer, reliability_note: Callable[[str], None]
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD), peak_growth() as memory:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.get(fault_server.url + "/lying-length", timeout=TIMEOUTS)
    reliability_note(f"ResponseTooLargeError, peak +{memory.growth / MiB:.0f} MiB")
    assert memory.growth < 64 * MiB
    error = caught.value
    assert error.limit_name == "max_body_size"
    assert "3,000,000,000" in str(error)
    assert "/lying-length" in error.url
    assert "client.stream" in str(error)
    await _still_works(client, fault_server)


async def test_lying_content_length_without_limit_grows_with_what_arrives(
    make_client: Callable[..., HttpClient], fault_server: FaultServer
) -> None:
    """With no ``max_body_size``, nothing is sized from the declared 3 GB: the body cut short fails."""
    client = make_client()
    with anyio.fail_after(HANG_GUARD), peak_growth() as memory:
        with pytest.raises(ProtocolError):
            await client.get(fault_server.url + "/lying-length", timeout=TIMEOUTS, max_body_size=None)
    assert memory.growth < 64 * MiB
    await _still_works(client, fault_server)


@pytest.mark.reliability("Compressed bomb (2 GiB of zeros)")
@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_decompression_bomb_is_stopped(
    coding: str,
    make_client: Callable[..., HttpClient],
    fault_server: FaultServer,
    reliability_note: Callable[[str], None],
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD), peak_growth() as memory:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.get(fault_server.url + "/bomb", params={"coding": coding}, timeout=TIMEOUTS)
    reliability_note(f"{coding}: ResponseTooLargeError, peak +{memory.growth / MiB:.0f} MiB")
    assert memory.growth < 400 * MiB
    assert caught.value.limit_name == "max_decompression_ratio"
    assert "decompression bomb" in str(caught.value)
    await _still_works(client, fault_server)


@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_decompression_bomb_is_stopped_when_streamed(
    make_client: Callable[..., HttpClient], fault_server: FaultServer
) -> None:
    """``max_body_size`` does not cap a stream, but the decompression guard does."""
    client = make_client()
    seen = 0
    with anyio.fail_after(HANG_GUARD), peak_growth() as memory:
        with pytest.raises(ResponseTooLargeError):
            async with client.stream("GET", fault_server.url + "/bomb", params={"coding": "gzip"}) as response:
                async for chunk in response.aiter_bytes():
                    seen += len(chunk)
    assert seen < 400 * MiB  # often 0: the first piece read is a bomb already
    assert memory.growth < 400 * MiB
    await _still_works(client, fault_server)


@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_a_raised_ratio_lets_more_through(
    make_client: Callable[..., HttpClient], fault_server: FaultServer
) -> None:
    """``c.limits(max_decompression_ratio=...)`` moves the guard: 2 GiB from 2 MiB is a ratio of about 1,000."""
    client = make_client(lambda c: c.limits(max_decompression_ratio=2000, max_body_size=64 * MiB))
    with anyio.fail_after(HANG_GUARD), pytest.raises(ResponseTooLargeError) as caught:
        await client.get(fault_server.url + "/bomb", params={"coding": "gzip"}, timeout=TIMEOUTS)
    assert caught.value.limit_name == "max_body_size"  # the ratio passed; the body size stopped it
    assert caught.value.limit == 64 * MiB


@pytest.mark.reliability("Chunked body that never ends")
@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_endless_chunked_body_stops_at_max_body_size(
    make_client: Callable[..., HttpClient], fault_server: FaultServer, reliability_note: Callable[[str], None]
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD * 2), peak_growth() as memory:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.get(fault_server.url + "/endless-chunked", timeout=TIMEOUTS)
    reliability_note(f"ResponseTooLargeError at 256 MiB, peak +{memory.growth / MiB:.0f} MiB")
    assert caught.value.limit == client.limits.max_body_size == 256 * MiB
    assert memory.growth < 400 * MiB
    await _still_works(client, fault_server)


@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_max_body_size_per_request(make_client: Callable[..., HttpClient], fault_server: FaultServer) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD), pytest.raises(ResponseTooLargeError) as caught:
        await client.get(fault_server.url + "/endless-chunked", timeout=TIMEOUTS, max_body_size=MiB)
    assert caught.value.limit == MiB
    assert "max_body_size=1,048,576" in str(caught.value)
    # A small body under a small limit, and the stream's own aread(), are bounded the same way.
    assert (await client.get(fault_server.url + "/ok", max_body_size=2)).content == b"ok"
    with pytest.raises(ResponseTooLargeError):
        await client.get(fault_server.url + "/ok", max_body_size=1)
    with pytest.raises(ResponseTooLargeError):
        async with client.stream("GET", fault_server.url + "/chunked", max_body_size=100) as response:
            await response.aread()
    await _still_works(client, fault_server)


async def test_streaming_is_not_capped_by_max_body_size(
    make_client: Callable[..., HttpClient], fault_server: FaultServer
) -> None:
    client = make_client(lambda c: c.limits(max_body_size=1024))
    async with client.stream("GET", fault_server.url + "/chunked") as response:
        total = sum([len(chunk) async for chunk in response.aiter_bytes()])
    assert total > 70_000
    await _still_works(client, fault_server)


@pytest.mark.parametrize("value", [-1, "big", 1.5, True])
async def test_invalid_max_body_size_is_refused(
    value: object, make_client: Callable[..., HttpClient], fault_server: FaultServer
) -> None:
    client = make_client()
    with pytest.raises(KClientError, match="max_body_size="):
        await client.get(fault_server.url + "/ok", max_body_size=value)  # type: ignore[arg-type]
