"""An ASGI app that serves Server-Sent Events for the engine suite (run by hypercorn on 127.0.0.1).

Paths (``?tag=`` keeps the requests of one test apart in ``seen``):

* ``/events?n=N``: N events (``id: i``, ``data: event i``), then the stream ends;
* ``/resume``: ``retry: 20`` and events 1 and 2, then the stream ends; asked again with
  ``Last-Event-ID: 2``, events 3 and 4, then it ends; with ``Last-Event-ID: 4``, a 204;
* ``/cut``: one event, then the body is cut mid-chunk (the app fails); with ``Last-Event-ID: 1``
  one more event and a 204 on the next request;
* ``/empty``: ``retry: 10`` and nothing more, every time;
* ``/silent``: a comment, then nothing for 30 s or until the client leaves;
* ``/trickle?n=N``: N events, one every 0.1 s;
* ``/not-sse``: JSON; ``/error``: a 503; ``/no-content``: a 204.

``seen[tag]`` lists the ``Last-Event-ID`` header (or None) of each request, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

EVENT_STREAM = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")]


class SseApp:
    def __init__(self) -> None:
        self.seen: defaultdict[str, list[str | None]] = defaultdict(list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        last = headers.get("last-event-id")
        self.seen[query.get("tag", "")].append(last)
        path = scope["path"]

        async def start(status: int = 200, head: list[tuple[bytes, bytes]] = EVENT_STREAM) -> None:
            await send({"type": "http.response.start", "status": status, "headers": head})

        async def body(data: bytes, more: bool = True) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": more})

        if path == "/events":
            await start()
            for i in range(1, int(query.get("n", "3")) + 1):
                await body(f"id: {i}\ndata: event {i}\n\n".encode())
            await body(b"", more=False)
        elif path == "/resume":
            if last == "4":
                await start(204, [])
                await body(b"", more=False)
                return
            first = 3 if last == "2" else 1
            await start()
            await body(b"retry: 20\n\n")
            for i in (first, first + 1):
                await body(f"id: {i}\ndata: event {i}\n\n".encode())
            await body(b"", more=False)
        elif path == "/cut":
            if last == "2":
                await start(204, [])
                await body(b"", more=False)
                return
            event = 2 if last == "1" else 1
            await start()
            await body(f"retry: 20\nid: {event}\ndata: event {event}\n\n".encode())
            if event == 1:
                await body(b"data: never dispatch")
                raise RuntimeError("the stream is cut here")  # hypercorn closes without the last chunk
            await body(b"", more=False)
        elif path == "/empty":
            await start()
            await body(b"retry: 10\n\n", more=False)
        elif path == "/silent":
            await start()
            await body(b": hello\n\n")
            with contextlib.suppress(TimeoutError):  # until the client leaves (then hypercorn closes at once)
                async with asyncio.timeout(30):
                    while (await receive())["type"] != "http.disconnect":
                        pass
        elif path == "/trickle":
            await start()
            for i in range(1, int(query.get("n", "5")) + 1):
                await asyncio.sleep(0.1)
                await body(f"data: {i}\n\n".encode())
            await body(b"", more=False)
        elif path == "/not-sse":
            await start(200, [(b"content-type", b"application/json")])
            await body(b'{"not": "events"}', more=False)
        elif path == "/error":
            await start(503, [(b"content-type", b"text/plain")])
            await body(b"down for maintenance", more=False)
        elif path == "/no-content":
            await start(204, [])
            await body(b"", more=False)
        else:
            await start(404, [(b"content-type", b"text/plain")])
            await body(b"no such path", more=False)
