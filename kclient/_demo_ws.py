"""The demo server's WebSockets: the ``websockets`` library's server beside httpbin.

httpbin runs on werkzeug (WSGI), which cannot hand a connection over to a WebSocket, so the
demo serves its WebSockets on a second port, from a thread with an event loop of its own:

* ``/ws/echo``: every message back, as it came (text or binary);
* ``/ws/ticks?n=5&delay=0.2``: ``n`` JSON ticks ``{"tick": i, "of": n}``, then a normal close;
* ``/ws/chat``: for each text message, its words back one message at a time as
  ``{"token": word}``, then ``{"done": true}`` (a language-model-like session).

Anything else is refused with 404 (a handshake error, as a real server would give).
"""

from __future__ import annotations

import asyncio
import json
import threading
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._errors import ConfigError

__all__ = ["DemoWebSockets"]

INSTALL_HINT = "pip install 'kclient[demo]'"
_ROUTES = ("/ws/echo", "/ws/ticks", "/ws/chat")


class DemoWebSockets:
    """The demo's WebSocket routes on 127.0.0.1, on a port the system chooses, in a daemon thread."""

    def __init__(self) -> None:
        try:
            import websockets  # noqa: F401 - checked here, used in the thread
        except ImportError as exc:
            raise ConfigError(f"the demo's WebSockets need the websockets package: {INSTALL_HINT}") from exc
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kclient-demo-ws", daemon=True)
        self._server: Any = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> DemoWebSockets:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        async def close() -> None:
            self._server.close()
            await self._server.wait_closed()

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
            self._server = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _serve(self) -> Any:
        from websockets.asyncio.server import serve

        return await serve(self._handle, "127.0.0.1", 0, process_request=_check_route, ping_interval=None)

    async def _handle(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        parts = urlsplit(ws.request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        try:
            if parts.path == "/ws/echo":
                async for message in ws:
                    await ws.send(message)
            elif parts.path == "/ws/ticks":
                n, delay = _bounded(query.get("n"), 5, 1000), min(float(query.get("delay", "0.2")), 10.0)
                for i in range(1, n + 1):
                    await ws.send(json.dumps({"tick": i, "of": n}))
                    await asyncio.sleep(delay)
                await ws.close()
            else:  # /ws/chat
                async for message in ws:
                    text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                    for word in text.split():
                        await ws.send(json.dumps({"token": word}))
                        await asyncio.sleep(0.01)
                    await ws.send(json.dumps({"done": True}))
        except ConnectionClosed:
            pass


def _check_route(connection: Any, request: Any) -> Any:
    if urlsplit(request.path).path not in _ROUTES:
        return connection.respond(HTTPStatus.NOT_FOUND, f"No WebSocket here: try {', '.join(_ROUTES)}.\n")
    return None


def _bounded(value: str | None, default: int, top: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        number = default
    return max(1, min(number, top))
