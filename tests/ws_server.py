"""The ``websockets`` library's server on 127.0.0.1, in a thread of its own, with the routes the tests use.

Routes (the path; ``?tag=`` names a session so that a test can read what the server saw):

* ``/echo``: every message back; ``/headers``: first the handshake's headers as JSON, then echo
  (``?close=1``: then close);
* ``/subprotocol``: the chosen subprotocol (``chat`` or ``json`` are offered), then echo;
* ``/close?code=4001&reason=bye``: closes at once with that code;
* ``/drop``: drops the TCP connection without a close frame;
* ``/big?size=N``: one binary message of N bytes, then echo;
* ``/flood?n=N&size=S``: N binary messages of S bytes, then closes with 1000; ``sent[tag]`` counts them;
* ``/bad-frame``: a frame with a reserved opcode (a protocol violation);
* ``/reject``: 403 with a text body; ``/auth``: 401 unless the request has ``Authorization``.

``closes[tag]`` holds the close code the server received (1006: none).

``WsServerProcess`` runs the same routes in a process of its own, for tests that count the
process's descriptors (an in-process server's sockets would be counted with the client's).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import sys
import threading
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol


class WsServer:
    """``with WsServer() as server: server.url``; ``ssl_context`` for ``wss://``."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ws-server", daemon=True)
        self._server: Server | None = None
        self.port = 0
        #: The close code the server received, by tag.
        self.closes: dict[str, int] = {}
        #: Messages the flood route managed to send, by tag.
        self.sent: dict[str, int] = {}
        #: Sessions open now.
        self.open = 0
        #: The tags of the sessions that opened.
        self.opened: set[str] = set()

    @property
    def url(self) -> str:
        return f"{'wss' if self._ssl else 'ws'}://127.0.0.1:{self.port}"

    def __enter__(self) -> WsServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc_info: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> Server:
        return await serve(
            self._handle,
            "127.0.0.1",
            0,
            ssl=self._ssl,
            select_subprotocol=_select_subprotocol,
            process_request=self._process_request,
            max_size=None,
            ping_interval=None,
        )

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path == "/reject":
            return connection.respond(HTTPStatus.FORBIDDEN, "no WebSockets for you\n")
        if path == "/auth" and "Authorization" not in request.headers:
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "credentials, please\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="ws"'
            return response
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        parts = urlsplit(ws.request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        tag = query.get("tag", "")
        self.open += 1
        self.opened.add(tag)
        try:
            await self._route(ws, parts.path, query, tag)
        except ConnectionClosed:
            pass
        finally:
            await ws.wait_closed()
            self.open -= 1
            if tag:
                self.closes[tag] = ws.close_code if ws.close_code is not None else 1006

    async def _route(self, ws: ServerConnection, path: str, query: dict[str, str], tag: str) -> None:
        assert ws.request is not None
        if path == "/headers":
            await ws.send(json.dumps(dict(ws.request.headers.raw_items())))
            if "close" in query:
                await ws.close()
                return
        elif path == "/subprotocol":
            await ws.send(ws.subprotocol or "")
        elif path == "/close":
            await ws.close(int(query.get("code", "1000")), query.get("reason", ""))
            return
        elif path == "/drop":
            ws.transport.abort()
            return
        elif path == "/big":
            await ws.send(b"x" * int(query["size"]))
        elif path == "/flood":
            payload = b"f" * int(query.get("size", "1024"))
            self.sent[tag] = 0
            for _ in range(int(query["n"])):
                await ws.send(payload)
                self.sent[tag] += 1
            await ws.close()
            return
        elif path == "/bad-frame":
            ws.transport.write(b"\x83\x00")  # FIN, opcode 3 (reserved), no payload
            await ws.wait_closed()
            return
        await self._echo(ws)

    @staticmethod
    async def _echo(ws: ServerConnection) -> None:
        message: Any
        async for message in ws:
            await ws.send(message)


def _select_subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """The first of ``chat`` and ``json`` the client offered; none when it offered neither (not an error)."""
    return next((name for name in offered if name in ("chat", "json")), None)


class WsServerProcess:
    """``WsServer``'s routes in a child process: ``with WsServerProcess() as server: server.url``."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> WsServerProcess:
        self._process = subprocess.Popen([sys.executable, __file__], stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        self.port = int(self._process.stdout.readline())
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._process is not None
        self._process.terminate()
        self._process.wait(10)
        if self._process.stdout is not None:
            self._process.stdout.close()


if __name__ == "__main__":
    with WsServer() as server:
        print(server.port, flush=True)
        threading.Event().wait()
