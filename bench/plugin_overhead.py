"""Microseconds of client CPU per request that each plugin adds, with the network taken out.

``engines.py --plugin-cost`` measures the plugin chain against nginx, where a request costs
60-150 µs and the machine's noise is several microseconds. This script measures the chain
alone: an engine that answers at once (no socket, no parsing), one client per plugin
variant, rounds alternating between them, CPU time (``time.process_time``) of N sequential
``await client.get(url)`` calls, median of the rounds. It reports each variant's cost per
request and its difference to the client with no plugins at all.

Run: ``.venv/bin/python bench/plugin_overhead.py [--requests 20000] [--rounds 7]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import configure_plugins, typical_plugins

import kclient
from kclient import Capabilities, Engine, EngineConfig, HttpClient, Request, Response


class Instant(Engine):
    """Answers every request at once with a 2-byte body: what is left is the client's own work."""

    name = "Instant"
    capabilities = Capabilities()
    config_class = EngineConfig
    auto_select = False

    async def send(self, request: Request) -> Response:
        return Response(200, request=request, content=b"ok", raw_headers=[(b"Content-Length", b"2")])

    async def aclose(self) -> None:
        pass


def variants() -> dict[str, Callable[[Any], None] | None]:
    """none, default, each typical plugin on top of the defaults, and all of them together."""
    chosen: dict[str, Callable[[Any], None] | None] = {"none": configure_plugins("none"), "default": None}
    for plugin, options in typical_plugins():
        chosen[f"default + {plugin.__name__}"] = lambda c, p=plugin, o=options: c.install(p, **o)
    chosen["typical (all of them)"] = configure_plugins("typical")
    return chosen


async def measure(requests: int, rounds: int) -> dict[str, float]:
    clients = {label: HttpClient(Instant(), configure) for label, configure in variants().items()}
    url = "http://bench.test/item"
    samples: dict[str, list[float]] = {label: [] for label in clients}
    for client in clients.values():
        for _ in range(1000):
            await client.get(url)
    for _ in range(rounds):
        for label, client in clients.items():
            gc.collect()
            started = time.process_time()
            for _ in range(requests):
                await client.get(url)
            samples[label].append((time.process_time() - started) / requests * 1e6)
    for client in clients.values():
        client.close()
        await client.join()
    return {label: statistics.median(values) for label, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds; each figure is their median")
    args = parser.parse_args(argv)
    if min(args.requests, args.rounds) < 1:
        parser.error("--requests and --rounds must be at least 1")
    costs = asyncio.run(measure(args.requests, args.rounds))
    bare = costs["none"]
    print(f"client CPU per request (kclient {kclient.__version__}, median of {args.rounds} rounds)")
    print(f"{'plugins':<40}{'µs/request':>12}{'vs none':>10}")
    for label, cost in costs.items():
        print(f"{label:<40}{cost:>12.2f}{cost - bare:>+10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
