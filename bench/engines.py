"""Requests per second of kclient's engines beside raw aiohttp and raw httpx, in one run.

Everything runs in one process, on one asyncio event loop, against a local nginx that
this script starts (its files live in a temporary folder). Rounds alternate between the
clients, and the order of the clients rotates from round to round, so machine noise hits
all of them alike; each figure is the median of the rounds. The rounds are many and short
(500 requests by default): on a shared 2-core machine the speed of the whole process drifts
by tens of percent over seconds, and long rounds let one client take a slow stretch alone,
while the median of many short ones keeps the ratios within a few percent from run to run.
Every client is warmed up before it is measured, and its connections are kept across rounds.

Scenarios: ``seq`` small keep-alive GETs (a 12-byte file) one after another; ``c50`` the
same requests shared by 50 concurrent workers; ``1mib`` 1 MiB downloads; ``upload``
64 KiB POSTs to ``/upload``. kclient goes through its public API
(``await HttpClient(engine).get(url)``); aiohttp through one ``ClientSession``; httpx
through one ``AsyncClient``. Each is allowed 100 connections, all of them kept alive.

Targets: CIO 1.3x aiohttp sequential, 2x aiohttp and 10x httpx at 50 concurrent; the
wrapping engines lose at most 10% to the library they wrap (kclient[Httpx] >= 0.9x raw
httpx, kclient[Aiohttp] >= 0.9x raw aiohttp, sequential and at 50 concurrent). ``--check``
makes a missed target the exit status (CIO's targets count as missed when CIO is not measured).
``--plugin-cost`` also measures each engine with no plugins at all (``c.uninstall`` of the
default ones) and with a typical set on top of the defaults (``typical_plugins()``), and
prints their ratios to the default client: the per-request price of the plugin chain.
``--control`` also measures a second raw aiohttp and a second raw httpx client, and prints
how far each differs from its twin: the resolution of the run (for httpx at 50 concurrent,
whose pool makes its speed depend on how requests interleave, it is coarse).
``--setting NAME=VALUE`` passes an engine setting to every measured kclient engine that has
it (``--setting kclient_pool=false`` measures Httpx on httpcore's own pool bookkeeping).
Run: ``.venv/bin/python bench/engines.py [--engines CIO,Httpx] [--rounds 5] [--plugin-cost]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import Nginx  # the repository root is on sys.path now

SMALL_BODY = b"hello world\n"  # 12 bytes
LARGE_SIZE = 1024 * 1024
UPLOAD_BODY = b"u" * (64 * 1024)
CONCURRENCY = 50
#: The label suffix of ``--control``'s second raw clients.
CONTROL = " (control)"
CONNECTIONS = 100

#: name -> (title, requests per measurement from --requests, concurrent workers, untimed warm-up requests)
SCENARIOS: dict[str, tuple[str, Callable[[argparse.Namespace], int], int, int]] = {
    "seq": ("12 B GET, sequential", lambda a: a.requests, 1, 50),
    "c50": (f"12 B GET, {CONCURRENCY} concurrent", lambda a: a.requests, CONCURRENCY, 2 * CONCURRENCY),
    "1mib": ("1 MiB GET, sequential", lambda a: a.downloads, 1, 3),
    "upload": ("64 KiB POST, sequential", lambda a: a.uploads, 1, 10),
}

#: (kclient engine, scenario, baseline client, minimum ratio engine/baseline)
TARGETS = [
    ("CIO", "seq", "aiohttp", 1.3),
    ("CIO", "c50", "aiohttp", 2.0),
    ("CIO", "c50", "httpx", 10.0),
    ("Httpx", "seq", "httpx", 0.9),
    ("Httpx", "c50", "httpx", 0.9),
    ("Aiohttp", "seq", "aiohttp", 0.9),
    ("Aiohttp", "c50", "aiohttp", 0.9),
]


class BenchClient:
    """One HTTP client under test: ``get`` and ``post`` return the length of the body read."""

    label: str

    async def start(self) -> None:
        raise NotImplementedError

    async def get(self, url: str) -> int:
        raise NotImplementedError

    async def post(self, url: str, body: bytes) -> int:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError


def configure_plugins(variant: str) -> Callable[[Any], None] | None:
    """The configure block of a plugin variant: "default" (none needed), "none" or "typical"."""
    import kclient

    def no_plugins(c: Any) -> None:
        for plugin in kclient.DEFAULT_PLUGINS:
            c.uninstall(plugin)

    def typical(c: Any) -> None:
        for plugin, options in typical_plugins():
            c.install(plugin, **options)

    return {"default": None, "none": no_plugins, "typical": typical}[variant]


def typical_plugins() -> list[tuple[Any, dict[str, Any]]]:
    """What a notebook user typically adds to the defaults (all of them doing work on every request)."""
    import kclient

    return [
        (kclient.HttpTimeout, {"request_timeout": 30, "connect_timeout": 10}),
        (kclient.HttpRequestRetry, {}),
        (kclient.HttpCookies, {}),
        (kclient.DefaultRequest, {"headers": {"X-Client": "bench"}}),
        (kclient.Logging, {"level": "HEADERS"}),  # the logger is not enabled for INFO: nothing is formatted
    ]


def setting_names(engine_name: str) -> set[str]:
    """The names of the settings of a kclient engine's typed configuration."""
    import kclient
    from kclient.engines import registry

    return {info.name for info in kclient.describe_settings(registry().get(engine_name).config_class)}


class KclientBench(BenchClient):
    def __init__(self, engine_name: str, plugins: str = "default", extra: dict[str, Any] | None = None) -> None:
        self.engine_name = engine_name
        self.plugins = plugins
        self.label = f"kclient[{engine_name}]" + ("" if plugins == "default" else f" {plugins} plugins")
        names = setting_names(engine_name)
        pool_settings = ("max_connections", "max_keepalive_connections")
        self.settings = {name: CONNECTIONS for name in pool_settings if name in names}
        self.settings.update({name: value for name, value in (extra or {}).items() if name in names})
        self.client: Any = None

    async def start(self) -> None:
        import kclient

        self.client = kclient.HttpClient(self.engine_name, configure_plugins(self.plugins), engine=self.settings)

    async def get(self, url: str) -> int:
        response = await self.client.get(url)
        if response.status != 200:
            raise RuntimeError(f"{self.label}: GET {url} answered {response.status}")
        return len(response.content)

    async def post(self, url: str, body: bytes) -> int:
        response = await self.client.post(url, content=body)
        if response.status != 200:
            raise RuntimeError(f"{self.label}: POST {url} answered {response.status}")
        return len(response.content)

    async def aclose(self) -> None:
        self.client.close()
        await self.client.join()


class AiohttpBench(BenchClient):
    label = "aiohttp"

    def __init__(self, suffix: str = "") -> None:
        self.label = f"aiohttp{suffix}"

    async def start(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS))

    async def get(self, url: str) -> int:
        async with self.session.get(url) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"aiohttp: GET {url} answered {response.status}")
            return len(body)

    async def post(self, url: str, body: bytes) -> int:
        async with self.session.post(url, data=body) as response:
            answer = await response.read()
            if response.status != 200:
                raise RuntimeError(f"aiohttp: POST {url} answered {response.status}")
            return len(answer)

    async def aclose(self) -> None:
        await self.session.close()


class HttpxBench(BenchClient):
    label = "httpx"

    def __init__(self, suffix: str = "") -> None:
        self.label = f"httpx{suffix}"

    async def start(self) -> None:
        import httpx

        # Keep-alive pool as large as the connection limit (httpx keeps only 20 by default),
        # so that at 50 concurrent it reuses connections as aiohttp does instead of reconnecting.
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
        self.client = httpx.AsyncClient(limits=limits)

    async def get(self, url: str) -> int:
        response = await self.client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"httpx: GET {url} answered {response.status_code}")
        return len(response.content)

    async def post(self, url: str, body: bytes) -> int:
        response = await self.client.post(url, content=body)
        if response.status_code != 200:
            raise RuntimeError(f"httpx: POST {url} answered {response.status_code}")
        return len(response.content)

    async def aclose(self) -> None:
        await self.client.aclose()


@dataclass
class Site:
    base: str

    def request(self, client: BenchClient, scenario: str) -> Callable[[], Awaitable[None]]:
        """One request of ``scenario`` by ``client``, checking the length of the answer."""
        if scenario in ("seq", "c50"):
            url, expected, call = f"{self.base}/small.txt", len(SMALL_BODY), client.get
        elif scenario == "1mib":
            url, expected, call = f"{self.base}/large.bin", LARGE_SIZE, client.get
        else:
            url, expected = f"{self.base}/upload", 3

            def call(url: str) -> Awaitable[int]:
                return client.post(url, UPLOAD_BODY)

        async def one() -> None:
            got = await call(url)
            if got != expected:
                raise RuntimeError(f"{client.label}: {url} gave {got} bytes, expected {expected}")

        return one


async def run_requests(one: Callable[[], Awaitable[None]], count: int, concurrency: int) -> None:
    if concurrency == 1:
        for _ in range(count):
            await one()
        return
    shared = iter(range(count))  # the workers take requests from one iterator until it runs out

    async def worker() -> None:
        for _ in shared:
            await one()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(one: Callable[[], Awaitable[None]], count: int, concurrency: int, warm_up: int) -> float:
    """Requests per second of ``count`` requests, after ``warm_up`` untimed ones."""
    await run_requests(one, warm_up, concurrency)
    gc.collect()
    started = time.perf_counter()
    await run_requests(one, count, concurrency)
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


async def run_bench(args: argparse.Namespace, engines: list[str], base: str) -> dict[str, dict[str, list[float]]]:
    clients: list[BenchClient] = [KclientBench(name, extra=args.settings) for name in engines]
    clients += [AiohttpBench(), HttpxBench()]
    if args.plugin_cost:
        clients += [KclientBench(name, variant, args.settings) for name in engines for variant in ("none", "typical")]
    if args.control:
        clients += [AiohttpBench(CONTROL), HttpxBench(CONTROL)]
    site = Site(base)
    samples: dict[str, dict[str, list[float]]] = {s: {c.label: [] for c in clients} for s in args.scenarios}
    for client in clients:
        await client.start()
    try:
        for client in clients:  # warm-up: every code path and the whole connection pool, once
            for scenario in args.scenarios:
                _, _, concurrency, warm_up = SCENARIOS[scenario]
                await run_requests(site.request(client, scenario), warm_up, concurrency)
        for round_number in range(args.rounds):
            order = clients[round_number % len(clients) :] + clients[: round_number % len(clients)]
            for scenario in args.scenarios:
                _, count_of, concurrency, warm_up = SCENARIOS[scenario]
                for client in order:
                    rate = await measure(site.request(client, scenario), count_of(args), concurrency, warm_up)
                    samples[scenario][client.label].append(rate)
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    finally:
        for client in clients:
            await client.aclose()
    return samples


def report(args: argparse.Namespace, engines: list[str], samples: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    medians = {s: {label: statistics.median(v) for label, v in by_client.items()} for s, by_client in samples.items()}
    labels = list(next(iter(medians.values())))
    width = max(len(label) for label in labels) + 2
    print(f"\nrequests/s, median of {args.rounds} round(s)")
    print(f"{'scenario':<26}{'requests':>9}" + "".join(f"{label:>{width}}" for label in labels))
    for scenario, by_client in medians.items():
        title, count_of, _, _ = SCENARIOS[scenario]
        print(f"{title:<26}{count_of(args):>9}" + "".join(f"{by_client[label]:>{width}.0f}" for label in labels))

    ratios: dict[str, dict[str, dict[str, float]]] = {}
    print("\nratios")
    print(f"{'scenario':<26}{'engine':<10}{'/aiohttp':>10}{'/httpx':>10}")
    for engine in engines:
        ratios[engine] = {}
        for scenario, by_client in medians.items():
            mine = by_client[f"kclient[{engine}]"]
            ratios[engine][scenario] = {"aiohttp": mine / by_client["aiohttp"], "httpx": mine / by_client["httpx"]}
            r = ratios[engine][scenario]
            print(f"{SCENARIOS[scenario][0]:<26}{engine:<10}{r['aiohttp']:>10.2f}{r['httpx']:>10.2f}")

    plugin_cost: dict[str, dict[str, dict[str, float]]] = {}
    if args.plugin_cost:
        print("\nplugin cost: default plugins / none, typical / default (1.00 = free)")
        for engine in engines:
            plugin_cost[engine] = {}
            for scenario, by_client in medians.items():
                default = by_client[f"kclient[{engine}]"]
                cost = {
                    "default/none": default / by_client[f"kclient[{engine}] none plugins"],
                    "typical/default": by_client[f"kclient[{engine}] typical plugins"] / default,
                }
                plugin_cost[engine][scenario] = cost
                print(
                    f"{SCENARIOS[scenario][0]:<26}{engine:<10}"
                    f"{cost['default/none']:>10.2f}{cost['typical/default']:>10.2f}"
                )

    targets = []
    print("\ntargets")
    for engine, scenario, baseline, minimum in TARGETS:
        title = SCENARIOS[scenario][0]
        if engine != "CIO" and engine not in ratios:
            continue  # only CIO's targets must always be measured
        if engine not in ratios or scenario not in ratios[engine]:
            print(f"  {engine} / {baseline}, {title}: >= {minimum:g}x  NOT MEASURED")
            targets.append(
                {
                    "engine": engine,
                    "scenario": scenario,
                    "baseline": baseline,
                    "minimum": minimum,
                    "ratio": None,
                    "passed": False,
                }
            )
            continue
        ratio = ratios[engine][scenario][baseline]
        passed = ratio >= minimum
        print(f"  {engine} / {baseline}, {title}: {ratio:.2f}x, target >= {minimum:g}x  {'PASS' if passed else 'FAIL'}")
        targets.append(
            {
                "engine": engine,
                "scenario": scenario,
                "baseline": baseline,
                "minimum": minimum,
                "ratio": ratio,
                "passed": passed,
            }
        )
    controls: dict[str, dict[str, float]] = {}
    if args.control:
        print("\ncontrols: a second, identical raw client / the first (1.00 = the bench tells them apart not at all)")
        for scenario, by_client in medians.items():
            controls[scenario] = {b: by_client[f"{b}{CONTROL}"] / by_client[b] for b in ("aiohttp", "httpx")}
            row = "".join(f"{controls[scenario][b]:>10.2f}" for b in ("aiohttp", "httpx"))
            print(f"{SCENARIOS[scenario][0]:<26}{row}")
    return {
        "medians": medians,
        "ratios": ratios,
        "plugin_cost": plugin_cost,
        "controls": controls,
        "targets": targets,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="small GETs per measurement (seq, c50)")
    parser.add_argument(
        "--downloads", type=int, default=None, help="1 MiB GETs per measurement (default: --requests / 25, so 20)"
    )
    parser.add_argument(
        "--uploads", type=int, default=None, help="64 KiB POSTs per measurement (default: --requests / 5, so 100)"
    )
    parser.add_argument("--rounds", type=int, default=25, help="alternating rounds; each figure is their median")
    parser.add_argument(
        "--engines",
        default=None,
        help="comma-separated kclient engines, e.g. CIO,Httpx (default: every available non-Mock one)",
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument(
        "--plugin-cost", action="store_true", help="also measure each engine with no plugins and with typical ones"
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="also measure a second raw aiohttp and raw httpx client: how far two identical clients differ",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an engine setting for every measured kclient engine that has it (VALUE read as JSON, else text);"
        " repeatable, e.g. --setting kclient_pool=false",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed, or CIO not measured")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results to PATH")
    args = parser.parse_args(argv)
    args.downloads = args.downloads if args.downloads is not None else max(2, args.requests // 25)
    args.uploads = args.uploads if args.uploads is not None else max(2, args.requests // 5)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown or not args.scenarios:
        parser.error(f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SCENARIOS)}")
    if min(args.requests, args.downloads, args.uploads, args.rounds) < 1:
        parser.error("--requests, --downloads, --uploads and --rounds must be at least 1")
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
    with tempfile.TemporaryDirectory(prefix="kclient-bench-") as tmp:
        prepare_files(Path(tmp) / "root")
        with Nginx(Path(tmp) / "root", Path(tmp) / "nginx") as nginx:
            samples = asyncio.run(run_bench(args, engines, nginx.url))
    results = report(args, engines, samples)
    elapsed = time.perf_counter() - started
    print(f"\ntotal {elapsed:.1f} s")
    if args.json is not None:
        import platform

        import aiohttp
        import httpx

        document = {
            "settings": {
                "requests": args.requests,
                "downloads": args.downloads,
                "uploads": args.uploads,
                "rounds": args.rounds,
                "concurrency": CONCURRENCY,
                "engines": engines,
                "scenarios": args.scenarios,
                "engine_settings": args.settings,
            },
            "versions": {
                "python": platform.python_version(),
                "aiohttp": aiohttp.__version__,
                "httpx": httpx.__version__,
            },
            "samples": samples,
            **results,
            "seconds": elapsed,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    if args.check and not all(t["passed"] for t in results["targets"]):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
