"""Import cost of kclient beside httpx (and aiohttp when installed), in one run.

Each sample is a fresh interpreter; the cost of an import is the median wall time of
``python -c "import X"`` minus that of ``python -c "pass"``, rounds alternating between
modules so machine noise hits all of them alike. The target (issue 2): kclient costs at
most half of httpx. Run: ``.venv/bin/python bench/import_time.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time


def sample(statement: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True)
    return time.perf_counter() - started


def measure(modules: list[str], rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in ["(baseline)", *modules]}
    for _ in range(rounds):
        samples["(baseline)"].append(sample("pass"))
        for name in modules:
            samples[name].append(sample(f"import {name}"))
    baseline = statistics.median(samples["(baseline)"])
    return {name: statistics.median(values) - baseline for name, values in samples.items() if name != "(baseline)"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    modules = ["kclient", "httpx"] + [m for m in ("aiohttp",) if importlib.util.find_spec(m)]
    costs = measure(modules, args.rounds)
    for name, cost in costs.items():
        print(f"import {name:<8} {cost * 1000:7.1f} ms")
    ratio = costs["kclient"] / costs["httpx"]
    print(f"kclient / httpx = {ratio:.2f} (target <= 0.50)")
    return 0 if ratio <= 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
