"""Peak memory of streaming a 1 GiB body with a kclient engine, beside aiohttp and httpx.

A local nginx (started by this script) serves a sparse 1 GiB file from a temporary
folder. Each measurement runs in a fresh interpreter: it opens the client, streams a
small file once (so code and buffers are in place), resets the peak RSS
(``/proc/self/clear_refs``, falling back to ``ru_maxrss`` where that is not allowed), then
streams the large body chunk by chunk, counting bytes and keeping none, and reports how
far the peak RSS rose above the RSS before the download. kclient streams with
``async with client.stream("GET", url) as r: async for chunk in r.aiter_bytes()``.

The target: the kclient engine's peak grows by less than 50 MiB. ``--check`` makes a
missed target the exit status. Run: ``.venv/bin/python bench/stream_memory.py [--engine CIO]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import Nginx  # the repository root is on sys.path now

MIB = 1024 * 1024
TARGET_MIB = 50.0


# -- the child: one measurement -------------------------------------------------------------
def _status_kib(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else None


def _reset_peak() -> bool:
    """Make the kernel's peak RSS (VmHWM) start again from the current RSS, where allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def _peak_kib() -> int:
    hwm = _status_kib("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _stream_kclient(engine: str, small_url: str, url: str, around: Any) -> int:
    from kclient import HttpClient

    async with HttpClient(engine) as client:

        async def download(target: str) -> int:
            total = 0
            async with client.stream("GET", target) as response:
                if response.status != 200:
                    raise RuntimeError(f"GET {target} answered {response.status}")
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
            return total

        await download(small_url)
        return await around(download(url))


async def _stream_aiohttp(small_url: str, url: str, around: Any) -> int:
    import aiohttp

    async with aiohttp.ClientSession() as session:

        async def download(target: str) -> int:
            total = 0
            async with session.get(target) as response:
                if response.status != 200:
                    raise RuntimeError(f"GET {target} answered {response.status}")
                async for chunk in response.content.iter_any():
                    total += len(chunk)
            return total

        await download(small_url)
        return await around(download(url))


async def _stream_httpx(small_url: str, url: str, around: Any) -> int:
    import httpx

    async with httpx.AsyncClient() as client:

        async def download(target: str) -> int:
            total = 0
            async with client.stream("GET", target) as response:
                if response.status_code != 200:
                    raise RuntimeError(f"GET {target} answered {response.status_code}")
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
            return total

        await download(small_url)
        return await around(download(url))


def child(client: str, base: str, size: int) -> int:
    """Measure one download and print its result as one JSON line."""
    result: dict[str, Any] = {}

    async def around(download: Any) -> int:
        result["precise"] = _reset_peak()
        result["rss_before_kib"] = _status_kib("VmRSS") or 0
        peak_before = _peak_kib()
        started = time.perf_counter()
        total = await download
        result["seconds"] = time.perf_counter() - started
        peak_after = _peak_kib()
        baseline = result["rss_before_kib"] if result["precise"] else peak_before
        result["growth_kib"] = max(0, peak_after - baseline)
        return int(total)

    small_url, url = f"{base}/small.bin", f"{base}/big.bin"
    if client.startswith("kclient:"):
        total = asyncio.run(_stream_kclient(client.partition(":")[2], small_url, url, around))
    elif client == "aiohttp":
        total = asyncio.run(_stream_aiohttp(small_url, url, around))
    else:
        total = asyncio.run(_stream_httpx(small_url, url, around))
    if total != size:
        raise RuntimeError(f"{client} read {total} bytes, expected {size}")
    result["bytes"] = total
    print(json.dumps(result))
    return 0


# -- the parent: nginx, the subprocesses, the table -----------------------------------------
def measure(client: str, base: str, size: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", client, "--url", base, "--size-bytes", str(size)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the measurement of {client} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def default_engine() -> str:
    from kclient.engines import registry

    names = {name.casefold(): name for name in registry().names()}
    return names.get("cio", "Httpx")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default=None, help="kclient engine (default: CIO if registered, else Httpx)")
    parser.add_argument("--size", type=int, default=1024, help="MiB to download (default 1024)")
    parser.add_argument("--rounds", type=int, default=1, help="measurements per client; the median is reported")
    parser.add_argument("--check", action="store_true", help="exit 1 when the kclient engine misses the target")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results to PATH")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--size-bytes", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(args.child, args.url, args.size_bytes)
    if args.size < 1 or args.rounds < 1:
        parser.error("--size and --rounds must be at least 1")

    from kclient import EngineNotFoundError
    from kclient.engines import registry

    engine = args.engine or default_engine()
    try:
        engine = registry().info(engine).name
        registry().get(engine)
    except EngineNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = args.size * MIB
    clients = [f"kclient:{engine}", "aiohttp", "httpx"]
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in clients}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kclient-stream-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        (root / "small.bin").write_bytes(b"x" * 4096)
        with open(root / "big.bin", "wb") as big:
            os.truncate(big.fileno(), size)  # sparse: no disk space used, nginx serves zeros
        with Nginx(root, Path(tmp) / "nginx") as nginx:
            for _ in range(args.rounds):  # alternating, a fresh interpreter per measurement
                for name in clients:
                    samples[name].append(measure(name, nginx.url, size))

    print(f"\npeak RSS growth while streaming {args.size} MiB, median of {args.rounds} run(s)")
    print(f"{'client':<18}{'growth MiB':>12}{'seconds':>10}{'MiB/s':>10}")
    results: dict[str, dict[str, Any]] = {}
    for name in clients:
        growth = statistics.median(s["growth_kib"] for s in samples[name]) / 1024
        seconds = statistics.median(s["seconds"] for s in samples[name])
        label = f"kclient[{engine}]" if name.startswith("kclient:") else name
        results[label] = {"growth_mib": growth, "seconds": seconds, "mib_per_s": args.size / seconds}
        print(f"{label:<18}{growth:>12.1f}{seconds:>10.2f}{args.size / seconds:>10.0f}")
    mine = results[f"kclient[{engine}]"]["growth_mib"]
    passed = mine < TARGET_MIB
    print(f"\ntarget: kclient[{engine}] grows by < {TARGET_MIB:g} MiB: {mine:.1f} MiB  {'PASS' if passed else 'FAIL'}")
    if not all(s["precise"] for runs in samples.values() for s in runs):
        print("(VmHWM could not be reset: growth measured from ru_maxrss, which may understate it)")
    elapsed = time.perf_counter() - started
    print(f"total {elapsed:.1f} s")
    if args.json is not None:
        document = {
            "settings": {"engine": engine, "size_mib": args.size, "rounds": args.rounds},
            "results": results,
            "samples": samples,
            "target_mib": TARGET_MIB,
            "passed": passed,
            "seconds": elapsed,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    raise SystemExit(main())
