"""Server-Sent Events per second: kclient's ``client.sse`` on its engines beside httpx-sse, in one run.

The server is a small asyncio process of its own (so it does not share the client's loop):
on any request it writes one ready-made ``text/event-stream`` answer of ``--events`` events
(``id``, ``event`` and a JSON ``data`` line of about 60 bytes each, like a language-model
token stream) with a Content-Length, on a kept-alive connection. Each measurement reads one
whole stream; rounds alternate between the clients and their order rotates, and each figure
is the median of the rounds.

Clients: ``HttpClient(engine).sse(url, max_reconnects=0)`` for each kclient engine, and
httpx-sse's ``aconnect_sse(httpx.AsyncClient(), "GET", url)`` with ``aiter_sse()``, the
library httpx users stream events with. Target: CIO >= 1.5x httpx-sse (``--check`` makes a
missed target the exit status).

Run: ``.venv/bin/python bench/sse.py [--events 20000] [--rounds 15] [--engines CIO,Httpx,Aiohttp]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

TARGET = 1.5

SERVER = r"""
import asyncio, json, socket, sys
count = int(sys.argv[1])
body = b"".join(
    b"id: %d\nevent: token\ndata: %s\n\n" % (i, json.dumps({"token": "word", "index": i, "logprob": -0.25}).encode())
    for i in range(count)
)
head = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
    b"Content-Length: %d\r\n\r\n" % len(body)
)

async def serve(reader, writer):
    try:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            writer.write(head + body)
            await writer.drain()
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


def start_server(events: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(events)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    port = int(process.stdout.readline())
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    return process, f"http://127.0.0.1:{port}/events"


Readers = dict[str, Callable[[], Awaitable[int]]]


async def clients(engines: list[str], url: str, events: int) -> tuple[Readers, list[Any]]:
    import httpx
    import httpx_sse

    from kclient import HttpClient

    readers: Readers = {}
    owned: list[Any] = []
    for name in engines:
        client = HttpClient(name)
        owned.append(client)

        async def read_kclient(client: HttpClient = client) -> int:
            count = 0
            async with client.sse(url, max_reconnects=0) as source:
                async for _ in source:
                    count += 1
            return count

        readers[f"kclient[{name}]"] = read_kclient
    raw = httpx.AsyncClient()
    owned.append(raw)

    async def read_httpx_sse() -> int:
        count = 0
        async with httpx_sse.aconnect_sse(raw, "GET", url) as source:
            async for _ in source.aiter_sse():
                count += 1
        return count

    readers["httpx-sse"] = read_httpx_sse
    for name, read in readers.items():  # warm-up, and every client reads every event
        got = await read()
        if got != events:
            raise SystemExit(f"{name} read {got} events, not {events}")
    return readers, owned


async def run(args: argparse.Namespace, url: str) -> dict[str, float]:
    from kclient import HttpClient

    readers, owned = await clients(args.engines.split(","), url, args.events)
    samples: dict[str, list[float]] = {name: [] for name in readers}
    names = list(readers)
    try:
        for round_ in range(args.rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                started = time.perf_counter()
                await readers[name]()
                samples[name].append(args.events / (time.perf_counter() - started))
    finally:
        for client in owned:
            if isinstance(client, HttpClient):
                client.close()
                await client.join()
            else:
                await client.aclose()
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events in one stream")
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds; each figure is their median")
    parser.add_argument("--engines", default="CIO,Httpx,Aiohttp", help="kclient engines, comma-separated")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when CIO < {TARGET}x httpx-sse")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    process, url = start_server(args.events)
    try:
        rates = asyncio.run(run(args, url))
    finally:
        process.terminate()
        process.wait(10)
    peer = rates["httpx-sse"]
    if args.json:
        print(json.dumps({name: {"events_per_s": rate, "vs_httpx_sse": rate / peer} for name, rate in rates.items()}))
    else:
        print(f"SSE: {args.events} events per stream, median of {args.rounds} rounds")
        for name, rate in sorted(rates.items(), key=lambda item: -item[1]):
            print(f"  {name:<18} {rate:>12,.0f} events/s   {rate / peer:5.2f}x httpx-sse")
    cio = rates.get("kclient[CIO]")
    met = cio is not None and cio / peer >= TARGET
    if not args.json:
        print(f"target CIO >= {TARGET}x httpx-sse: {'met' if met else 'MISSED'}")
    return 0 if met or not args.check else 1


if __name__ == "__main__":
    raise SystemExit(main())
