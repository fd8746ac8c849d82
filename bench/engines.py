"""Requests per second of kclient's engines beside their peers, in one run, on stock asyncio and on uvloop.

The peers (``peers.py``): raw aiohttp, raw httpx, pyreqwest (Rust: reqwest, hyper, tokio),
pycurl (C: libcurl; blocking, so sequential and in a plain loop of its own) and the
lean-loop ceiling (``lean_loop.py``: an asyncio Protocol feeding httptools and nothing
else, what Python can do here). Everything runs in one process against a local nginx that
this script starts (its files live in a temporary folder), first on a stock asyncio loop
(what a Jupyter kernel runs), then on a uvloop loop for the clients that run there.

Rounds alternate between the clients, and the order of the clients rotates from round to
round, so machine noise hits all of them alike; each figure is the median of the rounds.
The rounds are many and short (500 requests by default): on a shared 2-core machine the
speed of the whole process drifts by tens of percent over seconds, and long rounds let one
client take a slow stretch alone, while the median of many short ones keeps the ratios
within a few percent from run to run. Every client is warmed up before it is measured, and
its connections are kept across rounds. Concurrency is one worker task per connection,
taking requests from one shared iterator (no semaphore around a gather to dilute the ratios).

Scenarios: ``seq`` small keep-alive GETs (a 12-byte file) one after another; ``c50`` the
same requests shared by 50 concurrent workers; ``1mib`` 1 MiB downloads; ``upload``
64 KiB POSTs to ``/upload``; ``typical`` the c50 GETs through the typical plugin set
(timeout, retry, cookies, default request, logging off: ``peers.typical_plugins``), kclient's
alone and read against its default client. ``--runs N`` repeats the whole measurement N
times (new clients each time) and reports each target in every run, their median, and
whether it held in the median and in at least 4 of 5 runs (80 %).

``--check`` makes a missed target the exit status (CIO's targets count as missed when CIO
or a peer is not measured). ``--plugin-cost`` also measures each engine with no plugins at
all and with the typical set in every scenario, and prints their ratios to the default
client. ``--control`` also measures a second raw aiohttp and a second raw httpx client, and
prints how far each differs from its twin: the resolution of the run. ``--setting
NAME=VALUE`` passes an engine setting to every measured kclient engine that has it.
Run: ``.venv/bin/python bench/engines.py [--engines CIO] [--runs 5] [--loops asyncio,uvloop]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from peers import (
    PEERS,
    AiohttpBench,
    BenchClient,
    HttpxBench,
    KclientBench,
    missing_peers,
    setting_names,
)

from tests.servers import Nginx

SMALL_BODY = b"hello world\n"  # 12 bytes
LARGE_SIZE = 1024 * 1024
UPLOAD_BODY = b"u" * (64 * 1024)
CONCURRENCY = 50
#: The label suffix of ``--control``'s second raw clients.
CONTROL = " (control)"

#: name -> (title, requests per measurement from --requests, concurrent workers, untimed warm-up requests)
SCENARIOS: dict[str, tuple[str, Callable[[argparse.Namespace], int], int, int]] = {
    "seq": ("12 B GET, sequential", lambda a: a.requests, 1, 50),
    "c50": (f"12 B GET, {CONCURRENCY} concurrent", lambda a: a.requests, CONCURRENCY, 2 * CONCURRENCY),
    "1mib": ("1 MiB GET, sequential", lambda a: a.downloads, 1, 3),
    "upload": ("64 KiB POST, sequential", lambda a: a.uploads, 1, 10),
    "typical": (f"typical plugins, {CONCURRENCY} conc.", lambda a: a.requests, CONCURRENCY, 2 * CONCURRENCY),
}

#: A loop name -> the module it needs (its loop factory is found when the loop is used).
LOOPS = {"asyncio": "asyncio", "uvloop": "uvloop"}


@dataclass(frozen=True)
class Target:
    """kclient[engine] in ``scenario`` on ``loop`` is at least ``minimum`` x ``baseline`` (in ``versus``)."""

    loop: str
    engine: str
    scenario: str
    baseline: str
    minimum: float
    versus: str | None = None  # the baseline's scenario, when not the same

    def title(self) -> str:
        against = f"{self.baseline} {SCENARIOS[self.versus][0]}" if self.versus else self.baseline
        return f"{self.loop}: {self.engine} / {against}, {SCENARIOS[self.scenario][0]} >= {self.minimum:g}x"

    def ratio(self, medians: dict[str, dict[str, dict[str, float]]]) -> float | None:
        by_client = medians.get(self.loop, {})
        mine = by_client.get(self.scenario, {}).get(f"kclient[{self.engine}]")
        theirs = by_client.get(self.versus or self.scenario, {}).get(self.baseline)
        return None if mine is None or theirs is None else mine / theirs


TARGETS = [
    Target("asyncio", "CIO", "seq", "aiohttp", 1.5),
    Target("asyncio", "CIO", "c50", "aiohttp", 2.5),
    Target("asyncio", "CIO", "c50", "httpx", 10.0),
    Target("asyncio", "CIO", "seq", "pyreqwest", 1.5),
    Target("asyncio", "CIO", "c50", "pyreqwest", 2.0),
    Target("asyncio", "CIO", "seq", "lean loop", 0.85),
    Target("asyncio", "CIO", "c50", "lean loop", 0.9),
    Target("asyncio", "CIO", "typical", "kclient[CIO]", 0.85, versus="c50"),
    Target("uvloop", "CIO", "c50", "pyreqwest", 1.5),
    Target("uvloop", "CIO", "c50", "aiohttp", 2.0),
    Target("asyncio", "Httpx", "seq", "httpx", 0.9),
    Target("asyncio", "Httpx", "c50", "httpx", 0.9),
    Target("asyncio", "Aiohttp", "seq", "aiohttp", 0.9),
    Target("asyncio", "Aiohttp", "c50", "aiohttp", 0.9),
]


@dataclass
class Site:
    base: str

    def request(self, client: BenchClient, scenario: str) -> Callable[[], Any]:
        """One request of ``scenario`` by ``client``, checking the length of the answer: a
        coroutine function, or a plain function for a blocking client."""
        post = client.post_blocking if client.blocking else client.post  # type: ignore[attr-defined]
        get: Callable[[str], Any] = client.get_blocking if client.blocking else client.get  # type: ignore[attr-defined]
        if scenario == "typical":
            get = client.get_typical  # type: ignore[attr-defined]
        if scenario in ("seq", "c50", "typical"):
            url, expected, call = f"{self.base}/small.txt", len(SMALL_BODY), get
        elif scenario == "1mib":
            url, expected, call = f"{self.base}/large.bin", LARGE_SIZE, get
        else:
            url, expected = f"{self.base}/upload", 3

            def call(url: str) -> Any:
                return post(url, UPLOAD_BODY)

        def checked(got: int) -> None:
            if got != expected:
                raise RuntimeError(f"{client.label}: {url} gave {got} bytes, expected {expected}")

        if client.blocking:
            return lambda: checked(call(url))

        async def one() -> None:
            checked(await call(url))

        return one


async def run_requests(one: Callable[[], Any], count: int, concurrency: int, blocking: bool = False) -> None:
    if blocking:
        for _ in range(count):
            one()
        return
    if concurrency == 1:
        for _ in range(count):
            await one()
        return
    shared = iter(range(count))  # one worker per connection, taking requests from one iterator until it runs out

    async def worker() -> None:
        for _ in shared:
            await one()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(client: BenchClient, one: Callable[[], Awaitable[None]], count: int, scenario: str) -> float:
    """Requests per second of ``count`` requests, after the scenario's untimed warm-up."""
    _, _, concurrency, warm_up = SCENARIOS[scenario]
    await run_requests(one, warm_up, concurrency, client.blocking)
    gc.collect()
    started = time.perf_counter()
    await run_requests(one, count, concurrency, client.blocking)
    return count / (time.perf_counter() - started)


def kclient_engines(requested: str | None) -> list[str]:
    """The kclient engines to measure: those named, or every available non-Mock engine."""
    from kclient.engines import registry

    engines = registry()
    if requested is None:
        return [info.name for info in engines if info.name.casefold() != "mock" and info.available]
    chosen = []
    for name in filter(None, (part.strip() for part in requested.split(","))):
        info = engines.info(name)  # EngineNotFoundError names the registered engines
        info.load()  # EngineNotFoundError says what to install
        chosen.append(info.name)
    return chosen


def chosen_engines(requested: str | None, purpose: str) -> list[str] | None:
    """``kclient_engines(requested)``, or None after printing why there is none to ``purpose``."""
    from kclient import EngineNotFoundError

    try:
        engines = kclient_engines(requested)
    except EngineNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    if not engines:
        print(f"error: no kclient engine to {purpose}", file=sys.stderr)
        return None
    return engines


def prepare_files(root: Path) -> None:
    root.mkdir()
    (root / "small.txt").write_bytes(SMALL_BODY)
    (root / "large.bin").write_bytes(bytes(range(256)) * (LARGE_SIZE // 256))


def make_clients(args: argparse.Namespace, engines: list[str]) -> list[BenchClient]:
    clients: list[BenchClient] = [KclientBench(name, extra=args.settings) for name in engines]
    clients += [make() for label, (_, make) in PEERS.items() if label in args.peers]
    if args.plugin_cost:
        clients += [KclientBench(name, variant, args.settings) for name in engines for variant in ("none", "typical")]
    if args.control:
        clients += [AiohttpBench(CONTROL), HttpxBench(CONTROL)]
    return clients


async def run_bench(
    args: argparse.Namespace, engines: list[str], base: str, loop: str
) -> dict[str, dict[str, list[float]]]:
    clients = [c for c in make_clients(args, engines) if loop == "asyncio" or not c.blocking]
    site = Site(base)
    plan = {s: [c for c in clients if s in c.scenarios] for s in args.scenarios}
    samples: dict[str, dict[str, list[float]]] = {s: {c.label: [] for c in plan[s]} for s in args.scenarios}
    for client in clients:
        await client.start()
    try:
        for scenario, taking_part in plan.items():  # warm-up: every code path and the whole connection pool, once
            for client in taking_part:
                _, _, concurrency, warm_up = SCENARIOS[scenario]
                await run_requests(site.request(client, scenario), warm_up, concurrency, client.blocking)
        for round_number in range(args.rounds):
            for scenario, taking_part in plan.items():
                turn = round_number % len(taking_part)
                for client in taking_part[turn:] + taking_part[:turn]:
                    rate = await measure(client, site.request(client, scenario), SCENARIOS[scenario][1](args), scenario)
                    samples[scenario][client.label].append(rate)
            print(f"{loop}: round {round_number + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    finally:
        for client in clients:
            await client.aclose()
    return samples


def loop_factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop]:
    if loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop  # type: ignore[no-any-return]
    return asyncio.new_event_loop


def report_loop(
    args: argparse.Namespace, engines: list[str], loop: str, medians: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """Print one loop's tables: requests/s, CIO's ratios to each peer, plugin cost and controls."""
    labels = list(dict.fromkeys(label for by_client in medians.values() for label in by_client))
    width = max(len(label) for label in labels) + 2
    print(f"\n{loop}: requests/s, median of {args.rounds} round(s)")
    print(f"{'scenario':<30}{'requests':>9}" + "".join(f"{label:>{width}}" for label in labels))
    for scenario, by_client in medians.items():
        title, count_of, _, _ = SCENARIOS[scenario]
        cells = "".join(
            f"{by_client[label]:>{width}.0f}" if label in by_client else f"{'-':>{width}}" for label in labels
        )
        print(f"{title:<30}{count_of(args):>9}{cells}")
    peers = [label for label in PEERS if any(label in by_client for by_client in medians.values())]
    ratios: dict[str, dict[str, dict[str, float]]] = {}
    print(f"\n{loop}: ratios kclient / peer (higher: kclient faster)")
    print(f"{'scenario':<30}{'engine':<10}" + "".join(f"{'/' + p:>12}" for p in peers))
    for engine in engines:
        ratios[engine] = {}
        for scenario, by_client in medians.items():
            mine = by_client.get(f"kclient[{engine}]")
            if mine is None or scenario == "typical":
                continue
            ratios[engine][scenario] = {p: mine / by_client[p] for p in peers if p in by_client}
            row = "".join(
                f"{ratios[engine][scenario][p]:>12.2f}" if p in ratios[engine][scenario] else f"{'-':>12}"
                for p in peers
            )
            print(f"{SCENARIOS[scenario][0]:<30}{engine:<10}{row}")
    if "typical" in medians and "c50" in medians:
        for engine in engines:
            typical, default = medians["typical"].get(f"kclient[{engine}]"), medians["c50"].get(f"kclient[{engine}]")
            if typical and default:
                ratios[engine]["typical"] = {"default": typical / default}
                print(
                    f"{SCENARIOS['typical'][0]:<30}{engine:<10}{typical / default:>12.2f}  (of its default client, c50)"
                )
    plugin_cost: dict[str, dict[str, dict[str, float]]] = {}
    if args.plugin_cost:
        print(f"\n{loop}: plugin cost: default plugins / none, typical / default (1.00 = free)")
        for engine in engines:
            plugin_cost[engine] = {}
            for scenario, by_client in medians.items():
                default = by_client.get(f"kclient[{engine}]")
                if default is None or f"kclient[{engine}] none plugins" not in by_client:
                    continue
                cost = {
                    "default/none": default / by_client[f"kclient[{engine}] none plugins"],
                    "typical/default": by_client[f"kclient[{engine}] typical plugins"] / default,
                }
                plugin_cost[engine][scenario] = cost
                print(
                    f"{SCENARIOS[scenario][0]:<30}{engine:<10}{cost['default/none']:>10.2f}{cost['typical/default']:>10.2f}"
                )
    controls: dict[str, dict[str, float]] = {}
    if args.control:
        print(f"\n{loop}: controls: a second, identical raw client / the first (1.00 = told apart not at all)")
        for scenario, by_client in medians.items():
            if "aiohttp" not in by_client:
                continue
            controls[scenario] = {b: by_client[f"{b}{CONTROL}"] / by_client[b] for b in ("aiohttp", "httpx")}
            print(
                f"{SCENARIOS[scenario][0]:<30}"
                + "".join(f"{controls[scenario][b]:>10.2f}" for b in ("aiohttp", "httpx"))
            )
    return {"medians": medians, "ratios": ratios, "plugin_cost": plugin_cost, "controls": controls}


def judge(args: argparse.Namespace, engines: list[str], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target in every run, their median, and whether it held (in the median and in 80 % of the runs)."""
    needed = math.ceil(0.8 * len(runs))
    print(f"\ntargets over {len(runs)} run(s): held in the median and in at least {needed} of {len(runs)}")
    verdicts = []
    for target in TARGETS:
        if target.engine != "CIO" and target.engine not in engines:
            continue  # only CIO's targets must always be measured
        measured = [target.ratio({loop: run[loop]["medians"] for loop in run}) for run in runs]
        found = [r for r in measured if r is not None]
        if len(found) < len(runs):
            print(f"  {target.title()}  NOT MEASURED")
            verdicts.append({**asdict(target), "ratios": measured, "median": None, "passed": False})
            continue
        median = statistics.median(found)
        held = sum(r >= target.minimum for r in found)
        passed = median >= target.minimum and held >= needed
        shown = " ".join(f"{r:.2f}" for r in found)
        print(
            f"  {target.title()}: {shown}; median {median:.2f}, held {held}/{len(runs)}  {'PASS' if passed else 'FAIL'}"
        )
        verdicts.append({**asdict(target), "ratios": found, "median": median, "held": held, "passed": passed})
    return verdicts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="small GETs per measurement (seq, c50, typical)")
    parser.add_argument(
        "--downloads", type=int, default=None, help="1 MiB GETs per measurement (default: --requests / 25)"
    )
    parser.add_argument(
        "--uploads", type=int, default=None, help="64 KiB POSTs per measurement (default: --requests / 5)"
    )
    parser.add_argument("--rounds", type=int, default=25, help="alternating rounds; each figure is their median")
    parser.add_argument("--runs", type=int, default=1, help="whole measurements, each with new clients (report 5)")
    parser.add_argument(
        "--engines", default=None, help="comma-separated kclient engines (default: every available non-Mock one)"
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--loops", default=None, help="comma-separated, of asyncio, uvloop (default: those installed)")
    parser.add_argument(
        "--peers", default=None, help=f"comma-separated, of {', '.join(PEERS)} (default: those installed)"
    )
    parser.add_argument(
        "--plugin-cost", action="store_true", help="also measure each engine with no plugins and with typical ones"
    )
    parser.add_argument("--control", action="store_true", help="also measure twin raw aiohttp and httpx clients")
    parser.add_argument(
        "--setting", action="append", default=[], metavar="NAME=VALUE",
        help="an engine setting for every measured kclient engine that has it (VALUE read as JSON, else text)",
    )  # fmt: skip
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed, or not measured")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results to PATH")
    args = parser.parse_args(argv)
    args.downloads = args.downloads if args.downloads is not None else max(2, args.requests // 25)
    args.uploads = args.uploads if args.uploads is not None else max(2, args.requests // 5)
    args.scenarios = _choice(parser, "scenario", args.scenarios, SCENARIOS)
    missing = missing_peers()
    args.peers = _choice(parser, "peer", args.peers, PEERS) if args.peers else [p for p in PEERS if p not in missing]
    for peer in set(args.peers) & set(missing):
        parser.error(f"peer {peer}: {missing[peer]}")
    for peer in set(PEERS) - set(args.peers):
        if peer in missing:
            print(f"left out: {peer} ({missing[peer]})", file=sys.stderr)
    if args.control and not {"aiohttp", "httpx"} <= set(args.peers):
        parser.error("--control needs the aiohttp and httpx peers")
    installed = [loop for loop, module in LOOPS.items() if importlib.util.find_spec(module) is not None]
    args.loops = _choice(parser, "loop", args.loops, LOOPS) if args.loops else installed
    for loop in set(args.loops) - set(installed):
        parser.error(f"loop {loop}: {LOOPS[loop]} is not installed (pip install 'kclient[bench]')")
    if "uvloop" not in installed:
        print("left out: the uvloop table (uvloop is not installed: pip install 'kclient[bench]')", file=sys.stderr)
    if min(args.requests, args.downloads, args.uploads, args.rounds, args.runs) < 1:
        parser.error("--requests, --downloads, --uploads, --rounds and --runs must be at least 1")
    args.settings = {}
    for item in args.setting:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            parser.error(f"--setting {item!r}: expected NAME=VALUE")
        try:
            args.settings[name.strip()] = json.loads(text)
        except ValueError:
            args.settings[name.strip()] = text
    return args


def _choice(parser: argparse.ArgumentParser, what: str, given: str, known: dict[str, Any]) -> list[str]:
    chosen = [part.strip() for part in given.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in known]
    if unknown or not chosen:
        parser.error(f"unknown {what}(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}")
    return chosen


def versions() -> dict[str, str]:
    import importlib.metadata
    import platform

    found = {"python": platform.python_version()}
    for name in ("kclient", "aiohttp", "httpx", "pyreqwest", "pycurl", "uvloop", "httptools"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engines = chosen_engines(args.engines, "measure")
    if engines is None:
        return 2
    unused = set(args.settings) - set().union(*(setting_names(name) for name in engines))
    if unused:
        print(f"error: no measured engine has the setting(s) {', '.join(sorted(unused))}", file=sys.stderr)
        return 2
    if args.settings:
        print(f"kclient engine settings: {args.settings}", file=sys.stderr)
    started = time.perf_counter()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kclient-bench-") as tmp:
        prepare_files(Path(tmp) / "root")
        with Nginx(Path(tmp) / "root", Path(tmp) / "nginx") as nginx:
            for number in range(args.runs):
                run: dict[str, Any] = {}
                for loop in args.loops:
                    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
                        samples = runner.run(run_bench(args, engines, nginx.url, loop))
                    medians = {s: {c: statistics.median(v) for c, v in by.items()} for s, by in samples.items()}
                    if args.runs > 1:
                        print(f"\n=== run {number + 1} of {args.runs}")
                    run[loop] = {"samples": samples, **report_loop(args, engines, loop, medians)}
                runs.append(run)
    verdicts = judge(args, engines, runs)
    elapsed = time.perf_counter() - started
    print(f"\ntotal {elapsed:.1f} s")
    if args.json is not None:
        settings = {
            "requests": args.requests, "downloads": args.downloads, "uploads": args.uploads, "rounds": args.rounds,
            "runs": args.runs, "concurrency": CONCURRENCY, "engines": engines, "scenarios": args.scenarios,
            "loops": args.loops, "peers": args.peers, "engine_settings": args.settings,
        }  # fmt: skip
        document = {"settings": settings, "versions": versions(), "runs": runs, "targets": verdicts, "seconds": elapsed}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    if args.check and not all(v["passed"] for v in verdicts):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
