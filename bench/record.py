"""What the Record plugin costs on a miss (the exchange goes to the network and is recorded) and
what a hit (replayed from the cassette, no network) buys, beside the default client, in one run.

The server is ``loopback.py``'s small asyncio process (a 40-byte JSON answer, kept alive).
Three CIO clients send ``--requests`` sequential GETs, each to its own URL (``/items/N``):

* ``default``: no Record plugin;
* ``record (miss)``: Record with ``mode="new_episodes"`` on a fresh cassette each round: every
  request misses, goes to the server and is recorded (scrubbed, and appended to the file at most
  every half second);
* ``replay (hit)``: Record with ``mode="none"`` on a cassette of those requests: every request
  is answered from it, without the network.

Each client is made (its cassette loaded) before the clock starts and closed after it stops, so
the figures are the cost of a request. Rounds alternate (their order rotates); each figure is
the median of the rounds. Targets: a miss
at >= 0.9 of the default client, a hit several times faster than the network.

Run: ``.venv/bin/python bench/record.py [--requests 2000] [--rounds 9]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import alternating, options, report, start_server

MISS_TARGET = 0.9


async def measure(args: argparse.Namespace, base: str, folder: Path) -> dict[str, float]:
    from kclient import HttpClient
    from kclient.plugins import Record

    urls = [f"{base}/items/{index}" for index in range(args.requests)]
    replayed = folder / "replayed.yaml"
    async with HttpClient("CIO", lambda c: c.install(Record, cassette=replayed, mode="all")) as client:
        for url in urls:
            await client.get(url)

    # Clients are made (and a cassette loaded) before the clock starts and closed after it stops:
    # the figures are the cost of each request, with the file's writes while recording in them.
    async def timed(configure: Any, check: Any) -> float:
        client = HttpClient("CIO", configure)
        try:
            started = time.perf_counter()
            for url in urls:
                check(await client.get(url))
            return time.perf_counter() - started
        finally:
            client.close()
            await client.join()

    def ok(response: Any) -> None:
        assert response.status == 200

    def recorded(response: Any) -> None:
        assert response.source is None

    def replayed_answer(response: Any) -> None:
        assert response.source == "cassette"

    async def default(round_: int) -> float:
        return await timed(None, ok)

    async def miss(round_: int) -> float:
        cassette = folder / f"miss-{round_}.yaml"
        seconds = await timed(lambda c: c.install(Record, cassette=cassette, mode="new_episodes"), recorded)
        assert cassette.is_file()
        return seconds

    async def hit(round_: int) -> float:
        return await timed(lambda c: c.install(Record, cassette=replayed, mode="none"), replayed_answer)

    ways = {"default": default, "record (miss)": miss, "replay (hit)": hit}
    return await alternating(ways, args.rounds, args.requests)


def main(argv: list[str] | None = None) -> int:
    args = options(argv, __doc__.splitlines()[0], MISS_TARGET)
    process, base = start_server()
    try:
        with tempfile.TemporaryDirectory(prefix="kclient-bench-record-") as folder:
            rates = asyncio.run(measure(args, base, Path(folder)))
    finally:
        process.terminate()
        process.wait(10)
    return report("Record", rates, args, ["record (miss)"], MISS_TARGET)


if __name__ == "__main__":
    raise SystemExit(main())
