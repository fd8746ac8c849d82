"""Client CPU instructions per request, counted by valgrind: kclient's engines beside their peers.

``engines.py`` measures requests per second, which is what a user sees, but on a shared
2-core machine its ratios move by 10-20 % from run to run: the speed of the whole process
drifts, and nginx shares the cores. This script measures what the client itself does per
request, which does not drift: each client runs in a child process under valgrind's
cachegrind tool (``--cache-sim=no``: it only counts the instructions executed), against a
local nginx outside valgrind, once with N requests and once with 2N after the same warm-up;
the difference divided by N is the client's instructions per request, start-up and
warm-up taken out. Hash randomization is fixed (``PYTHONHASHSEED=0``), so two runs agree
within about 1 %.

It reports instructions per request per client and scenario, and the ratios
baseline/kclient-engine, which read like requests/s ratios (2.0: kclient does half the
work). The network's own cost (syscalls, nginx) is not counted; on a machine where the
client is the bottleneck these ratios are what requests/s ratios converge to, and they
are the steady figure to compare one version of kclient with another.

Scenarios: ``seq`` and ``c50`` as in ``engines.py`` (12-byte keep-alive GETs, one after
another or by 50 concurrent workers). Needs valgrind (``scripts/install-system-deps.sh
valgrind``). Under valgrind a client runs about 50 times slower: httpx's requests, at
2-5 million instructions each, take most of the time.

``--layers`` also counts each engine alone: ``engine.send`` with a request built once per
URL, as the lean loop builds its heads. kclient's count minus that one is what the
client's layers cost (builder, lifecycle, plugins, READ stage); the engine's minus the
lean loop's is what the engine does beyond writing bytes and parsing the answer.
Run: ``.venv/bin/python bench/instructions.py [--engines CIO,Aiohttp] [--requests 200] [--layers]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines import CONCURRENCY, Site, chosen_engines, prepare_files, run_requests
from peers import PEERS, BenchClient, EngineAloneBench, KclientBench

from tests.servers import Nginx

SCENARIOS = {"seq": ("12 B GET, sequential", 1), "c50": (f"12 B GET, {CONCURRENCY} concurrent", CONCURRENCY)}
#: The peers counted beside kclient: the lean loop is the floor of a request's cost in Python here.
BASELINES = ("aiohttp", "httpx", "lean loop")
#: ``--layers``: the engine counted alone too (``EngineAloneBench``), apart from the client's layers.
ENGINE_ALONE = " engine alone"
_COLLECTED = re.compile(r"I\s+refs:\s+([\d,]+)")


def make_client(label: str) -> BenchClient:
    if label in PEERS:
        return PEERS[label][1]()
    if label.endswith(ENGINE_ALONE):
        return EngineAloneBench(label.removeprefix("kclient[").removesuffix("]" + ENGINE_ALONE))
    return KclientBench(label.removeprefix("kclient[").removesuffix("]"))


async def child(label: str, scenario: str, count: int, warm_up: int, base: str) -> None:
    """The measured process: ``warm_up`` requests, then ``count`` requests."""
    client = make_client(label)
    await client.start()
    one = Site(base).request(client, scenario)
    concurrency = SCENARIOS[scenario][1]
    try:
        await run_requests(one, warm_up, concurrency)
        await run_requests(one, count, concurrency)
    finally:
        await client.aclose()


def count_instructions(valgrind: str, label: str, scenario: str, count: int, warm_up: int, base: str) -> int:
    """Instructions executed by a child process that sends ``count`` requests after the warm-up."""
    command = [
        valgrind,
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        label,
        scenario,
        str(count),
        str(warm_up),
        base,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}, check=False
    )
    found = _COLLECTED.search(result.stderr)
    if result.returncode != 0 or found is None:
        raise RuntimeError(
            f"{label} {scenario} under valgrind failed (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return int(found.group(1).replace(",", ""))


def measure(args: argparse.Namespace, labels: list[str], base: str) -> dict[str, dict[str, float]]:
    valgrind = shutil.which("valgrind")
    assert valgrind is not None
    per_request: dict[str, dict[str, float]] = {s: {} for s in args.scenarios}
    for scenario in args.scenarios:
        for label in labels:
            started = time.perf_counter()
            small = count_instructions(valgrind, label, scenario, args.requests, args.warm_up, base)
            large = count_instructions(valgrind, label, scenario, 2 * args.requests, args.warm_up, base)
            per_request[scenario][label] = (large - small) / args.requests
            print(
                f"{label} {scenario}: {per_request[scenario][label]:,.0f} instructions/request "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    return per_request


def report(engines: list[str], per_request: dict[str, dict[str, float]]) -> dict[str, Any]:
    labels = list(next(iter(per_request.values())))
    width = max(len(label) for label in labels) + 2
    print("\nclient instructions per request (thousands)")
    print(f"{'scenario':<26}" + "".join(f"{label:>{width}}" for label in labels))
    for scenario, by_client in per_request.items():
        print(f"{SCENARIOS[scenario][0]:<26}" + "".join(f"{by_client[label] / 1000:>{width}.1f}" for label in labels))
    ratios: dict[str, dict[str, dict[str, float]]] = {}
    print("\nratios baseline/engine (higher: kclient does less work per request)")
    print(f"{'scenario':<26}{'engine':<10}" + "".join(f"{'/' + b:>12}" for b in BASELINES))
    for engine in engines:
        ratios[engine] = {}
        for scenario, by_client in per_request.items():
            mine = by_client[f"kclient[{engine}]"]
            ratios[engine][scenario] = {b: by_client[b] / mine for b in BASELINES}
            row = "".join(f"{ratios[engine][scenario][b]:>12.2f}" for b in BASELINES)
            print(f"{SCENARIOS[scenario][0]:<26}{engine:<10}{row}")
    return {"instructions_per_request": per_request, "ratios": ratios}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="N: requests of the shorter run (the longer has 2N)")
    parser.add_argument("--warm-up", type=int, default=200, help="untimed requests before the counted ones")
    parser.add_argument(
        "--engines", default=None, help="comma-separated kclient engines (default: every available one)"
    )
    parser.add_argument("--scenarios", default="seq,c50", help="comma-separated, of seq, c50")
    parser.add_argument(
        "--layers",
        action="store_true",
        help="also count each engine alone (engine.send with a request built once), apart from the client's layers",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results to PATH")
    parser.add_argument(
        "--child", nargs=5, metavar=("CLIENT", "SCENARIO", "COUNT", "WARM_UP", "URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown or not args.scenarios:
        parser.error(f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SCENARIOS)}")
    if args.requests < 1 or args.warm_up < 0:
        parser.error("--requests must be at least 1 and --warm-up at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        label, scenario, count, warm_up, base = args.child
        asyncio.run(child(label, scenario, int(count), int(warm_up), base))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: scripts/install-system-deps.sh valgrind", file=sys.stderr)
        return 2
    engines = chosen_engines(args.engines, "count")
    if engines is None:
        return 2
    labels = [f"kclient[{name}]" for name in engines]
    if args.layers:
        labels += [f"kclient[{name}]{ENGINE_ALONE}" for name in engines]
    labels += list(BASELINES)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kclient-bench-") as tmp:
        prepare_files(Path(tmp) / "root")
        with Nginx(Path(tmp) / "root", Path(tmp) / "nginx") as nginx:
            per_request = measure(args, labels, nginx.url)
    results = report(engines, per_request)
    elapsed = time.perf_counter() - started
    print(f"\ntotal {elapsed:.1f} s")
    if args.json is not None:
        settings = {"requests": args.requests, "warm_up": args.warm_up, "engines": engines, "scenarios": args.scenarios}
        document = {"settings": settings}
        args.json.write_text(json.dumps({**document, **results, "seconds": elapsed}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
