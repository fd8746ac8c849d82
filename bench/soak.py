"""Soak: a steady mix of requests for many minutes, watching memory and open sockets over time.

One process, one asyncio event loop, one client per engine, all running at once against a
local nginx that this script starts (with the files of ``bench/engines.py``, in a temporary
folder). Each engine's ``--concurrency`` workers loop over a seeded random mix: small GETs,
1 MiB GETs read whole, 1 MiB streams left after their first piece, 64 KiB uploads, and
requests cancelled after a random 0-5 ms (``anyio.move_on_after``). Every ``--every`` seconds a
line shows the elapsed time, requests done, errors, cancellations, RSS, open file descriptors
and sockets, and each engine's pool (``pool_stats()`` where the engine has it, else the
client's requests in flight).

Verdict (the exit status; a script's judgement, not a unit test): 1 when, between the second
quarter of the run and the last one (medians of the samples in each), RSS grew by more than
``--max-rss-growth`` MiB (20) or open file descriptors by more than ``--max-fd-growth`` (20);
when a request failed (cancellations are not failures); or when, after the clients are
closed, more descriptors are open than before they were created. A leak grows steadily, so
it shows between the two quarters; warm-up (pools filling, caches, allocator arenas) happens
before. Run: ``.venv/bin/python bench/soak.py [--minutes 30] [--engines CIO,Httpx]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.engines import LARGE_SIZE, SMALL_BODY, chosen_engines, prepare_files  # one way to start nginx
from tests.servers import Nginx

UPLOAD = b"u" * (64 * 1024)
#: (kind, weight) of the mix every worker draws from.
MIX = [("small", 60), ("large", 10), ("half-read", 10), ("upload", 10), ("cancelled", 10)]


@dataclass
class Counts:
    requests: int = 0
    errors: int = 0
    cancelled: int = 0
    first_errors: list[str] = field(default_factory=list)


@dataclass
class Sample:
    elapsed: float
    rss_mib: float
    fds: int
    sockets: int


def rss_mib() -> float:
    found = re.search(r"^VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def open_fds() -> tuple[int, int]:
    """(open file descriptors, of which sockets)."""
    fds = sockets = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        fds += 1
        sockets += target.startswith("socket:")
    return fds, sockets


def pool_text(name: str, client: Any) -> str:
    stats = getattr(client.engine, "pool_stats", None)
    if stats is not None:
        return f"{name} " + " ".join(f"{k}={v}" for k, v in stats().items())
    return f"{name} in_flight={client.status().in_flight}"


async def one(client: Any, kind: str, base: str, rng: random.Random, counts: Counts) -> None:
    import anyio

    try:
        if kind == "small":
            response = await client.get(f"{base}/small.txt")
            ok = response.content == SMALL_BODY
        elif kind == "large":
            ok = len((await client.get(f"{base}/large.bin")).content) == LARGE_SIZE
        elif kind == "half-read":
            async with client.stream("GET", f"{base}/large.bin") as response:
                ok = len(await response.aiter_bytes().__anext__()) > 0
        elif kind == "upload":
            ok = (await client.post(f"{base}/upload", content=UPLOAD)).status == 200
        else:
            with anyio.move_on_after(rng.uniform(0, 0.005)) as scope:
                await client.get(f"{base}/large.bin")
            counts.cancelled += scope.cancelled_caught
            ok = True
        if not ok:
            raise RuntimeError(f"{kind}: wrong answer")
    except Exception as exc:
        counts.errors += 1
        if len(counts.first_errors) < 5:
            counts.first_errors.append(f"{kind}: {type(exc).__name__}: {exc}")
    counts.requests += 1


async def soak(args: argparse.Namespace, engines: list[str], base: str) -> int:
    import kclient

    started = time.monotonic()
    deadline = started + args.minutes * 60
    fds_before, _ = open_fds()
    clients = {name: kclient.HttpClient(name) for name in engines}
    counts = Counts()
    samples: list[Sample] = []
    kinds, weights = [k for k, _ in MIX], [w for _, w in MIX]

    async def worker(client: Any, seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            await one(client, rng.choices(kinds, weights)[0], base, rng, counts)

    def report() -> None:
        fds, sockets = open_fds()
        sample = Sample(time.monotonic() - started, rss_mib(), fds, sockets)
        samples.append(sample)
        pools = " | ".join(pool_text(name, client) for name, client in clients.items())
        print(
            f"{sample.elapsed:>8.0f}s {counts.requests:>10} {counts.errors:>7} {counts.cancelled:>10} "
            f"{sample.rss_mib:>8.1f} {fds:>6} {sockets:>8}   {pools}",
            flush=True,
        )

    async def reporter() -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(min(args.every, max(0.0, deadline - time.monotonic())))
            report()

    print(f"soak: {', '.join(engines)}, {args.concurrency} workers each, {args.minutes:g} min, nginx at {base}")
    columns = ("requests", 10), ("errors", 7), ("cancelled", 10), ("RSS MiB", 8), ("fds", 6), ("sockets", 8)
    print(f"{'elapsed':>9} " + " ".join(f"{name:>{width}}" for name, width in columns) + "   pools")
    try:
        tasks = [
            worker(client, 1000 * i + w) for i, client in enumerate(clients.values()) for w in range(args.concurrency)
        ]
        await asyncio.gather(reporter(), *tasks)
    finally:
        for client in clients.values():
            client.close()
        for client in clients.values():
            await client.join()
    await asyncio.sleep(0.5)  # let the last transports finish closing
    fds_after, sockets_after = open_fds()
    return verdict(args, samples, counts, fds_before, fds_after, sockets_after)


def verdict(
    args: argparse.Namespace, samples: list[Sample], counts: Counts, fds_before: int, fds_after: int, sockets: int
) -> int:
    total = args.minutes * 60
    second = [s for s in samples if total / 4 <= s.elapsed <= total / 2]
    last = [s for s in samples if s.elapsed >= total * 3 / 4]
    problems = []
    print(f"\n{counts.requests} requests, {counts.errors} errors, {counts.cancelled} cancelled")
    if second and last:
        rss_growth = statistics.median(s.rss_mib for s in last) - statistics.median(s.rss_mib for s in second)
        fd_growth = statistics.median(s.fds for s in last) - statistics.median(s.fds for s in second)
        print(f"growth from the second quarter to the last: RSS {rss_growth:+.1f} MiB, open fds {fd_growth:+.0f}")
        if rss_growth > args.max_rss_growth:
            problems.append(f"RSS grew by {rss_growth:.1f} MiB (limit {args.max_rss_growth:g})")
        if fd_growth > args.max_fd_growth:
            problems.append(f"open fds grew by {fd_growth:.0f} (limit {args.max_fd_growth})")
    else:
        print("too few samples to compare the quarters of the run (raise --minutes or lower --every)")
    print(f"after closing the clients: {fds_after} fds open ({sockets} sockets), {fds_before} before they were created")
    if fds_after > fds_before:
        problems.append(f"{fds_after - fds_before} file descriptors left open after the clients were closed")
    if counts.errors:
        problems.append(f"{counts.errors} requests failed, e.g. {counts.first_errors}")
    print("verdict: " + ("PASS" if not problems else "FAIL: " + "; ".join(problems)))
    return 1 if problems else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to run (default 30)")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between two report lines (default 10)")
    parser.add_argument("--engines", default=None, help="comma-separated engines (default: every available but Mock)")
    parser.add_argument("--concurrency", type=int, default=20, help="workers per engine (default 20)")
    parser.add_argument("--max-rss-growth", type=float, default=20.0, help="MiB allowed, 2nd to last quarter (20)")
    parser.add_argument("--max-fd-growth", type=int, default=20, help="open fds allowed, 2nd to last quarter (20)")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.every <= 0 or args.concurrency < 1:
        parser.error("--minutes and --every must be positive, --concurrency at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engines = chosen_engines(args.engines, "run")
    if engines is None:
        return 2
    with tempfile.TemporaryDirectory(prefix="kclient-soak-") as tmp:
        prepare_files(Path(tmp) / "root")
        with Nginx(Path(tmp) / "root", Path(tmp) / "nginx") as nginx:
            return asyncio.run(soak(args, engines, nginx.url))


if __name__ == "__main__":
    raise SystemExit(main())
