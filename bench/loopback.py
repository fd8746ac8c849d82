"""What the loopback benchmarks share (``collection.py``, ``record.py``, ``cache.py``): a small
asyncio server in a process of its own, the alternating rounds, and the table beside the
default client.

The server answers any request with a 40-byte JSON body and an ``X-Id`` header (and the
headers it is given), on a kept-alive connection, in microseconds: what a plugin costs shows.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping

SERVER = r"""
import asyncio, socket
body = b'{"id": 1, "name": "ada", "tags": ["a", "b"]}'
head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Id: 7\r\n" + EXTRA
answer = head + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)

async def serve(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()

async def main():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(serve, sock=listener)
    print(listener.getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""


def start_server(headers: str = "") -> tuple[subprocess.Popen[str], str]:
    """The server in a process of its own, answering ``headers`` (``"Name: value\\r\\n"``...) too."""
    code = SERVER.replace("EXTRA", repr(headers.encode()))
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    port = int(process.stdout.readline())
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    return process, f"http://127.0.0.1:{port}"


async def alternating(
    ways: Mapping[str, Callable[[int], Awaitable[float]]], rounds: int, requests: int
) -> dict[str, float]:
    """The median requests/s of each way (a function of the round giving the seconds its
    ``requests`` took) over ``rounds``, after a warm-up round; their order rotates each round."""
    samples: dict[str, list[float]] = {name: [] for name in ways}
    names = list(ways)
    for round_ in range(rounds + 1):  # the first round warms up
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            seconds = await ways[name](round_)
            if round_:
                samples[name].append(requests / seconds)
    return {name: statistics.median(values) for name, values in samples.items()}


def options(argv: list[str] | None, description: str, target: float) -> argparse.Namespace:
    """The command line of a benchmark measured beside the default client."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--requests", type=int, default=2000, help="requests a round")
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds; each figure is their median")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when a miss is below {target}x default")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser.parse_args(argv)


def report(title: str, rates: Mapping[str, float], args: argparse.Namespace, misses: list[str], target: float) -> int:
    """Print ``rates`` beside ``rates["default"]`` (a table, or JSON with ``--json``); the exit
    status: 1 with ``--check`` when one of ``misses`` is below ``target`` times the default."""
    default = rates["default"]
    if args.json:
        print(
            json.dumps({name: {"requests_per_s": rate, "vs_default": rate / default} for name, rate in rates.items()})
        )
    else:
        width = max(map(len, rates))
        print(f"{title}: {args.requests} sequential GETs a round on CIO, median of {args.rounds} rounds")
        for name, rate in rates.items():
            print(f"  {name:<{width}} {rate:>10,.0f} requests/s   {rate / default:5.2f}x default")
    met = min(rates[name] for name in misses) / default >= target
    if not args.json:
        print(f"target miss >= {target}x default: {'met' if met else 'MISSED'}")
    return 0 if met or not args.check else 1
