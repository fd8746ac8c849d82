"""Load: 10,000 GETs to nginx at 500 concurrent on every engine, with zero errors and nothing leaked.

On asyncio only, which every engine runs on (the trio runs of Httpx and Urllib3 cost a minute
more and found nothing asyncio did not).

500 tasks share the 10,000 requests; every connection limit of the engine is raised to 500 (and
``thread_count`` for an engine that runs requests on worker threads), so up to 500 connections
are open at once (the nginx of the suite allows 4096, ``worker_connections`` in tests/servers.py).
Every answer is checked (status and body). Afterwards the pool holds no busy connection and no
waiter, and once the client is closed the process holds no more file descriptors and no more
threads than before (as in test_leaks).

Memory: the peak resident set size during the run, above the RSS before it (the kernel's
``VmHWM``, reset just before the run through ``/proc/self/clear_refs``; where that is not
allowed, ``ru_maxrss``, which only shows growth past the process's earlier peak). It is
reported (printed, and in the reliability table), never asserted: RSS depends on the machine, and
memory that earlier tests of the process freed is reused without showing as growth.

Httpx keeps its default ``max_keepalive_connections`` (20): with 500 idle connections kept,
httpcore's pool, which scans every connection for every queued request, is several times slower.
"""

from __future__ import annotations

import hashlib
import re
import resource
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from kclient import Engine, HttpClient

from .support import HANG_GUARD, Site, hermetic_settings
from .test_churn import pool_state, settled, small_pool
from .test_leaks import Snapshot

pytestmark = pytest.mark.anyio

REQUESTS = 10_000
CONCURRENCY = 500


def _status_kib(field: str) -> int | None:
    try:
        found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(found.group(1)) if found else None


def reset_peak_rss() -> bool:
    """Make the kernel's peak RSS (VmHWM) start again from the current RSS, where allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def peak_rss_kib(exact: bool) -> int:
    if exact:
        return _status_kib("VmHWM") or 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@pytest.mark.reliability("10,000 requests at 500 concurrent")
@pytest.mark.slow  # Httpx alone takes 50-70 s on a 2-core machine (httpcore's pool at 500 concurrent); CIO 3 s
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # every engine runs there; on trio Httpx alone takes 45 s more
async def test_10000_requests_at_500_concurrent(
    engine_name: str, engine: type[Engine], nginx: Site, reliability_note: Callable[[str], None]
) -> None:
    expected = nginx.files["1KiB"]
    url = nginx.url + expected.path
    before = Snapshot.take()
    client = HttpClient(engine_name, engine_config={**hermetic_settings(engine), **small_pool(engine, CONCURRENCY)})
    answers: dict[tuple[int, str], int] = {}
    errors: list[BaseException] = []
    shared = iter(range(REQUESTS))

    async def worker() -> None:
        for _ in shared:
            try:
                response = await client.get(url)
            except Exception as exc:
                errors.append(exc)
                continue
            key = (response.status, hashlib.sha256(response.content).hexdigest())
            answers[key] = answers.get(key, 0) + 1

    rss_before = _status_kib("VmRSS") or 0
    exact = reset_peak_rss()
    started = anyio.current_time()
    try:
        with anyio.fail_after(HANG_GUARD * 3):
            async with anyio.create_task_group() as tasks:
                for _ in range(CONCURRENCY):
                    tasks.start_soon(worker)
        seconds = anyio.current_time() - started
        growth_mib = (peak_rss_kib(exact) - rss_before) / 1024
        await settled(lambda: pool_state(client)["busy"] == 0 and pool_state(client)["waiters"] == 0)
        state = pool_state(client)
        status = client.status()
    finally:
        client.close()
        await client.join()

    assert not errors, f"{len(errors)} of {REQUESTS:,} requests failed, e.g. {errors[:3]!r}"
    assert answers == {(200, expected.sha256): REQUESTS}
    assert (status.in_flight, status.completed, status.failed) == (0, REQUESTS, 0)
    assert (state["busy"], state["waiters"]) == (0, 0), f"after the load the pool still holds {state}"

    left = Snapshot.take().left_since(before, {nginx_port(nginx)})
    with anyio.move_on_after(HANG_GUARD):
        while any(left.values()):
            await anyio.sleep(0.05)
            left = Snapshot.take().left_since(before, {nginx_port(nginx)})
    assert not any(left.values()), f"left after the client was closed: { {k: v[:5] for k, v in left.items()} }"

    measure = "peak RSS" if exact else "ru_maxrss"
    reliability_note(f"0 errors, {measure} +{growth_mib:.0f} MiB")
    rate = REQUESTS / seconds
    print(f"{engine_name}: {REQUESTS:,} requests in {seconds:.1f} s ({rate:,.0f}/s), {measure} +{growth_mib:.1f} MiB")


def nginx_port(nginx: Site) -> int:
    return int(nginx.url.rpartition(":")[2])
