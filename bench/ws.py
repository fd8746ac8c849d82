"""WebSocket messages per second: kclient's ``client.websocket`` on its engines beside aiohttp's and
the ``websockets`` library's clients, in one run.

The server is a lean asyncio process of its own (no WebSocket library: it parses the handshake
and frames itself, so that it costs little beside the clients). Three scenarios, compression off:

* ``echo``: one session sends a 64-byte text message and waits for it to come back, ``--echoes``
  times (round trips per second: the latency of a session);
* ``echo x50``: 50 such sessions at once, one task each (round trips per second under load,
  where the client's own cost shows: a lone session's round trip is mostly the two processes
  waking each other, which no client can shorten);
* ``flood``: the server sends ``--messages`` 64-byte text messages in one go, then closes; the
  client reads them all (messages per second: what a session can take in).

A "lean ceiling" row is the least a client can do: an asyncio protocol that writes ready-made
frames and counts the bytes that come back, parsing nothing: what Python can do here at all.

Each measurement is one session; rounds alternate between the clients and their order rotates,
and each figure is the median of the rounds. Target: CIO >= 1.5x raw aiohttp in round trips
(``--check`` makes a missed target the exit status).

Run: ``.venv/bin/python bench/ws.py [--rounds 9] [--echoes 5000] [--messages 50000]``.
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
PAYLOAD = "m" * 64
#: Sessions at once in the concurrent echo scenario.
CONCURRENT = 50

SERVER = r"""
import asyncio, base64, hashlib, socket, sys
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
count = int(sys.argv[1])
flood = (b"\x81\x40" + b"m" * 64) * count + b"\x88\x02\x03\xe8"

class Peer(asyncio.Protocol):
    # The handshake, then client frames parsed from one buffer as they come (data_received):
    # text and binary echoed unmasked, pings answered, a close answered and the socket closed.
    def connection_made(self, transport):
        self.transport, self.buffer, self.open = transport, bytearray(), False

    def data_received(self, data):
        buffer = self.buffer
        buffer += data
        if not self.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = buffer[:end].decode("latin-1").split("\r\n")
            del buffer[: end + 4]
            key = next(l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("sec-websocket-key:"))
            accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
            self.transport.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                  f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            self.open = True
            if lines[0].split(" ")[1].startswith("/flood"):
                self.transport.write(flood)
        out = []
        while len(buffer) >= 6:
            size, start = buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 8:
                    break
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 14:
                    break
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + 4 + size:
                break
            opcode, mask = buffer[0] & 0x0F, bytes(buffer[start : start + 4])
            data = bytes(buffer[start + 4 : start + 4 + size])
            del buffer[: start + 4 + size]
            if size:
                key = (mask * (size // 4 + 1))[:size]
                data = (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
            length = bytes([size]) if size < 126 else b"\x7e" + size.to_bytes(2, "big")
            if opcode == 8:
                out.append(b"\x88" + length + data)
                self.transport.write(b"".join(out))
                self.transport.close()
                return
            if opcode in (1, 2):
                out.append(bytes([0x80 | opcode]) + length + data)
            elif opcode == 9:
                out.append(b"\x8a" + length + data)
        if out:
            self.transport.write(b"".join(out))

async def main():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = await asyncio.get_running_loop().create_server(Peer, sock=listener)
    print(listener.getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""


def start_server(messages: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(messages)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    port = int(process.stdout.readline())
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    return process, f"ws://127.0.0.1:{port}"


#: One session of a scenario: returns how many messages it moved.
Session = Callable[[str, int], Awaitable[int]]


def sessions(engines: list[str]) -> tuple[dict[str, tuple[Session, Session]], list[Any]]:
    """For each client, its (echo, flood) sessions, and what must be closed at the end."""
    import aiohttp
    from websockets.asyncio.client import connect

    from kclient import HttpClient

    made: dict[str, tuple[Session, Session]] = {}
    owned: list[Any] = []
    for name in engines:
        client = HttpClient(name)
        owned.append(client)

        async def echo(url: str, n: int, client: HttpClient = client) -> int:
            async with client.websocket(url + "/echo", compression=False) as ws:
                for _ in range(n):
                    await ws.send(PAYLOAD)
                    await ws.receive()
            return n

        async def flood(url: str, n: int, client: HttpClient = client) -> int:
            async with client.websocket(url + "/flood", compression=False) as ws:
                return sum([1 async for _ in ws])

        made[f"kclient[{name}]"] = (echo, flood)

    holder: list[aiohttp.ClientSession] = []

    async def session() -> aiohttp.ClientSession:
        if not holder:
            holder.append(aiohttp.ClientSession())
            owned.append(holder[0])
        return holder[0]

    async def aiohttp_echo(url: str, n: int) -> int:
        async with (await session()).ws_connect(url + "/echo") as ws:
            for _ in range(n):
                await ws.send_str(PAYLOAD)
                await ws.receive()
        return n

    async def aiohttp_flood(url: str, n: int) -> int:
        count = 0
        async with (await session()).ws_connect(url + "/flood") as ws:
            async for message in ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    count += 1
        return count

    made["aiohttp"] = (aiohttp_echo, aiohttp_flood)

    async def websockets_echo(url: str, n: int) -> int:
        async with connect(url + "/echo", compression=None, ping_interval=None) as ws:
            for _ in range(n):
                await ws.send(PAYLOAD)
                await ws.recv()
        return n

    async def websockets_flood(url: str, n: int) -> int:
        async with connect(url + "/flood", compression=None, ping_interval=None, max_queue=64) as ws:
            return sum([1 async for _ in ws])

    made["websockets"] = (websockets_echo, websockets_flood)
    made["lean ceiling"] = (lean_echo, lean_flood)
    return made, owned


class _Lean(asyncio.Protocol):
    """The least a client can do: write ready frames, count the server's bytes, wake one waiter."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiter: asyncio.Future[None] = loop.create_future()
        self.want = 0  # bytes that complete what the waiter waits for
        self.got = 0
        self.opened = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.opened:  # the 101: its head is all the server sends before frames, in one piece
            self.opened = True
            data = data[data.index(b"\r\n\r\n") + 4 :]
            self.waiter.set_result(None)
        self.got += len(data)
        if self.got >= self.want and not self.waiter.done():
            self.waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.waiter.done():
            self.waiter.set_result(None)


async def _lean_open(url: str, path: str) -> _Lean:
    import base64
    import os

    loop = asyncio.get_running_loop()
    host, port = url.removeprefix("ws://").split(":")
    peer = _Lean(loop)
    await loop.create_connection(lambda: peer, host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    assert peer.transport is not None
    peer.transport.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    await peer.waiter
    return peer


_LEAN_FRAME = b"\x81\xc0" + bytes(4) + PAYLOAD.encode()  # masked with a zero key: the payload as it is
_ECHOED = 2 + len(PAYLOAD)


async def lean_echo(url: str, n: int) -> int:
    peer = await _lean_open(url, "/echo")
    assert peer.transport is not None
    for _ in range(n):
        peer.waiter = peer.loop.create_future()
        peer.want = peer.got + _ECHOED
        peer.transport.write(_LEAN_FRAME)
        await peer.waiter
    peer.transport.close()
    return n


async def lean_flood(url: str, n: int) -> int:
    peer = await _lean_open(url, "/flood")
    peer.waiter = peer.loop.create_future()
    peer.want = n * _ECHOED + 4  # the messages and the close frame
    if peer.got < peer.want:
        await peer.waiter
    assert peer.transport is not None
    peer.transport.close()
    return n


def concurrently(echo: Session) -> Session:
    """``CONCURRENT`` echo sessions at once, sharing the round trips: one task per session."""

    async def run(url: str, n: int) -> int:
        share = n // CONCURRENT
        done = await asyncio.gather(*(echo(url, share) for _ in range(CONCURRENT)))
        return sum(done)

    return run


async def run(args: argparse.Namespace, url: str) -> dict[str, dict[str, float]]:
    from kclient import HttpClient

    made2, owned = sessions(args.engines.split(","))
    made = {name: (echo, concurrently(echo), flood) for name, (echo, flood) in made2.items()}
    counts = {"echo": args.echoes, f"echo x{CONCURRENT}": args.echoes * 4, "flood": args.messages}
    samples: dict[str, dict[str, list[float]]] = {s: {name: [] for name in made} for s in counts}
    names = list(made)
    try:
        for name, pair in made.items():  # warm-up, and every client moves every message
            for scenario, session in zip(counts, pair, strict=True):
                got = await session(url, counts[scenario])
                if got != counts[scenario]:
                    raise SystemExit(f"{name} moved {got} messages in {scenario}, not {counts[scenario]}")
        for round_ in range(args.rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                for scenario, session in zip(counts, made[name], strict=True):
                    started = time.perf_counter()
                    await session(url, counts[scenario])
                    samples[scenario][name].append(counts[scenario] / (time.perf_counter() - started))
    finally:
        for thing in owned:
            if isinstance(thing, HttpClient):
                thing.close()
                await thing.join()
            else:
                await thing.close()
    return {s: {name: statistics.median(v) for name, v in by.items()} for s, by in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--echoes", type=int, default=5_000, help="round trips in one echo session")
    parser.add_argument("--messages", type=int, default=50_000, help="messages in one flood session")
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds; each figure is their median")
    parser.add_argument("--engines", default="CIO,Aiohttp", help="kclient engines, comma-separated")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when CIO < {TARGET}x raw aiohttp")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    process, url = start_server(args.messages)
    try:
        rates = asyncio.run(run(args, url))
    finally:
        process.terminate()
        process.wait(10)
    if args.json:
        print(json.dumps(rates, indent=2))
    else:
        for scenario, by in rates.items():
            unit = "round trips/s" if scenario.startswith("echo") else "messages/s"
            print(f"{scenario} ({unit}, median of {args.rounds} rounds; ratio to raw aiohttp):")
            for name, rate in sorted(by.items(), key=lambda item: -item[1]):
                print(f"  {name:20} {rate:12,.0f}   {rate / by['aiohttp']:.2f}x")
    if args.check:
        missed = [
            s
            for s, by in rates.items()
            if s.startswith("echo") and "kclient[CIO]" in by and by["kclient[CIO]"] < TARGET * by["aiohttp"]
        ]
        if missed:
            print(f"CIO is below {TARGET}x raw aiohttp in: {', '.join(missed)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
