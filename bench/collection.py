"""What running requests as a ``.http`` collection costs beside sending them from code, in one run.

The server is ``loopback.py``'s small asyncio process: on any request it answers a 40-byte JSON
body with an ``X-Id`` header, on a kept-alive connection. Two ways to send ``--requests`` GETs through
one CIO client, synchronously (as ``kclient run`` and the pytest plugin send):

* ``code``: ``kclient.run(client.get(url))`` in a loop;
* ``collection``: a ``CollectionRun`` over a parsed file of as many requests, each named, each
  using the previous answer's header (``{{rN.response.headers.X-Id}}``) and a JSONPath of its
  body, with two ``??`` assertions (status and a JSONPath), through the console runner's
  ``Sender``.

Rounds alternate between the two (their order rotates); each figure is the median of the rounds.
It also reports the parse time of the file per request. No target is set: the figure says what
chaining, rendering and checking add per request.

Run: ``.venv/bin/python bench/collection.py [--requests 2000] [--rounds 9]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import start_server


def collection_text(base: str, count: int) -> str:
    blocks = [f"# @name r0\nGET {base}/items/0\n\n?? status == 200\n?? body $.name == ada\n"]
    for index in range(1, count):
        blocks.append(
            f"# @name r{index}\nGET {base}/items/{{{{r{index - 1}.response.headers.X-Id}}}}"
            f"?tag={{{{r{index - 1}.response.body.$.tags[0]}}}}\n\n?? status == 200\n?? body $.id == 1\n"
        )
    return "###\n".join(blocks)


def measure(args: argparse.Namespace, base: str) -> dict[str, float]:
    import kclient

    collection = importlib.import_module("kclient.magics._collection")
    headless = importlib.import_module("kclient.magics._headless")
    httpfile = importlib.import_module("kclient.magics._httpfile")

    text = collection_text(base, args.requests)
    sender = headless.Sender("CIO")
    client = sender.client
    url = f"{base}/items/7?tag=a"

    def code() -> None:
        for _ in range(args.requests):
            response = kclient.run(client.get(url))
            assert response.status == 200

    def run_collection() -> None:
        templates = httpfile.parse_http_templates(text)
        outcomes = collection.CollectionRun(templates, sender).run()
        assert len(outcomes) == args.requests and all(outcome.passed for outcome in outcomes), outcomes[0].summary()

    ways: dict[str, Any] = {"code": code, "collection": run_collection}
    for way in ways.values():  # warm-up, and both work
        way()
    samples: dict[str, list[float]] = {name: [] for name in ways}
    names = list(ways)
    parse: list[float] = []
    try:
        for round_ in range(args.rounds):
            for name in names[round_ % 2 :] + names[: round_ % 2]:
                started = time.perf_counter()
                ways[name]()
                samples[name].append(args.requests / (time.perf_counter() - started))
            started = time.perf_counter()
            httpfile.parse_http_templates(text)
            parse.append((time.perf_counter() - started) / args.requests * 1e6)
    finally:
        sender.close()
    rates = {name: statistics.median(values) for name, values in samples.items()}
    rates["parse_us_per_request"] = statistics.median(parse)
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests a round")
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds; each figure is their median")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    process, base = start_server()
    try:
        rates = measure(args, base)
    finally:
        process.terminate()
        process.wait(10)
    ratio = rates["collection"] / rates["code"]
    if args.json:
        print(json.dumps({**rates, "collection_vs_code": ratio}))
        return 0
    print(f".http collection: {args.requests} chained, checked requests a round, median of {args.rounds} rounds")
    print(f"  code        {rates['code']:>10,.0f} requests/s")
    print(f"  collection  {rates['collection']:>10,.0f} requests/s   {ratio:5.2f}x code")
    print(f"  parsing     {rates['parse_us_per_request']:>10.1f} µs per request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
