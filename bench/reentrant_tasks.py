"""What a blocking call inside a running loop costs the kernel's other asyncio code.

The first blocking call (``client.blocking.get``, ``kclient.run``) inside a running asyncio
loop makes that loop reentrant with nest-asyncio2, which on Python < 3.14 swaps
``asyncio.Task`` and ``asyncio.Future`` for their pure-Python versions for the rest of the
process (the C task refuses to be entered while another runs). ``await`` never does this.

Each sample is a fresh interpreter that runs a task-heavy workload (``--tasks`` tasks, each
awaiting ``asyncio.sleep(0)`` and a future, gathered) either as shipped (``stock``), after
one ``await`` of kclient (``await``: must equal stock), or after one ``kclient.run`` inside
the loop (``blocking``). Rounds alternate so machine noise hits all three alike; the table
gives the medians and the ratios to stock.

Run: ``.venv/bin/python bench/reentrant_tasks.py [--rounds N] [--tasks N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

_WORKLOAD = """
import asyncio, json, sys, time
import kclient

async def one(future_loop):
    await asyncio.sleep(0)
    future = future_loop.create_future()
    future_loop.call_soon(future.set_result, None)
    await future

async def main(mode, tasks):
    if mode == "await":
        async with kclient.HttpClient(kclient.Mock(lambda request: kclient.respond("ok"))) as client:
            await client.get("http://example.invalid/")
    elif mode == "blocking":
        kclient.run(asyncio.sleep(0))
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    await asyncio.gather(*(one(loop) for _ in range(tasks)))
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "python_task": asyncio.Task is asyncio.tasks._PyTask}))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""

MODES = ("stock", "await", "blocking")


def sample(mode: str, tasks: int) -> dict[str, float | bool]:
    result = subprocess.run(
        [sys.executable, "-c", _WORKLOAD, mode, str(tasks)], capture_output=True, text=True, check=True
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--tasks", type=int, default=50_000)
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {mode: [] for mode in MODES}
    python_task: dict[str, bool] = {}
    for _ in range(args.rounds):
        for mode in MODES:
            measured = sample(mode, args.tasks)
            seconds[mode].append(float(measured["seconds"]))
            python_task[mode] = bool(measured["python_task"])
    medians = {mode: statistics.median(values) for mode, values in seconds.items()}
    print(f"Python {sys.version.split()[0]}, {args.tasks} tasks, median of {args.rounds} rounds")
    print(f"{'mode':<10} {'seconds':>9} {'vs stock':>9}  asyncio.Task")
    for mode in MODES:
        kind = "pure Python" if python_task[mode] else "C"
        print(f"{mode:<10} {medians[mode]:>9.4f} {medians[mode] / medians['stock']:>8.2f}x  {kind}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
