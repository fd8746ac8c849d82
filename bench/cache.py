"""What the HttpCache plugin costs on a miss and what a hit buys, beside the default client, in one run.

The server is ``loopback.py``'s small asyncio process (a 40-byte JSON answer, kept alive),
answering ``Cache-Control: max-age=600`` and an ``ETag``, so that every answer is stored. CIO
clients send ``--requests`` sequential GETs, each to its own URL (``/items/N``):

* ``default``: no HttpCache;
* ``miss, memory`` / ``miss, folder``: HttpCache on an empty store (in memory, or in a fresh
  folder): every request misses, goes to the server, and its answer is stored (the worst case);
* ``uncacheable``: HttpCache (in memory) against a second server whose answers carry no caching
  headers (what most APIs send): the cost of deciding, every time, that there is nothing to do;
* ``hit, memory`` / ``hit, folder``: HttpCache on a store holding those answers: every request
  is answered from it, without the network.

Clients are made before the clock starts and closed after it stops. Rounds alternate (their
order rotates); each figure is the median of the rounds. Targets: a miss at >= 0.9 of the
default client, a hit several times faster than the network.

Run: ``.venv/bin/python bench/cache.py [--requests 2000] [--rounds 9]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import alternating, options, report, start_server

MISS_TARGET = 0.9
HEADERS = 'Cache-Control: max-age=600\r\nETag: "v1"\r\n'


async def measure(args: argparse.Namespace, base: str, plain: str, folder: Path) -> dict[str, float]:
    from kclient import HttpClient
    from kclient.plugins import HttpCache

    urls = [f"{base}/items/{index}" for index in range(args.requests)]
    plain_urls = [f"{plain}/items/{index}" for index in range(args.requests)]

    async def timed(configure: Any, expected: str | None, warm: bool = False, on: list[str] = urls) -> float:
        client = HttpClient("CIO", configure)
        try:
            if warm:  # the store filled before the clock starts
                for url in on:
                    await client.get(url)
            started = time.perf_counter()
            for url in on:
                response = await client.get(url)
                assert response.status == 200 and response.source == expected
            return time.perf_counter() - started
        finally:
            client.close()
            await client.join()

    filled = folder / "filled"

    def cached(**options: Any) -> Callable[[Any], None]:
        return lambda c: c.install(HttpCache, **options)

    ways: dict[str, Callable[[int], Awaitable[float]]] = {
        "default": lambda round_: timed(None, None),
        "miss, memory": lambda round_: timed(cached(), None),
        "miss, folder": lambda round_: timed(cached(folder=folder / f"miss-{round_}"), None),
        "uncacheable": lambda round_: timed(cached(), None, on=plain_urls),
        "hit, memory": lambda round_: timed(cached(), "cache", warm=True),
        "hit, folder": lambda round_: timed(cached(folder=filled), "cache", warm=not filled.exists()),
    }
    return await alternating(ways, args.rounds, args.requests)


def main(argv: list[str] | None = None) -> int:
    args = options(argv, __doc__.splitlines()[0], MISS_TARGET)
    process, base = start_server(HEADERS)
    plain_process, plain = start_server()
    try:
        with tempfile.TemporaryDirectory(prefix="kclient-bench-cache-") as folder:
            rates = asyncio.run(measure(args, base, plain, Path(folder)))
    finally:
        for running in (process, plain_process):
            running.terminate()
            running.wait(10)
    return report("HttpCache", rates, args, ["miss, memory", "miss, folder", "uncacheable"], MISS_TARGET)


if __name__ == "__main__":
    raise SystemExit(main())
