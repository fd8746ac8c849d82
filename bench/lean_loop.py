"""The lean-loop ceiling: an asyncio Protocol feeding httptools, with nothing else.

What Python can do for a keep-alive HTTP/1.1 request on this loop: one pre-built request
per URL written to an idle connection, the answer parsed by llhttp (the parser CIO uses),
its body kept, the connection handed back. No URL parsing, no headers object, no timeouts,
no errors mapped, no limits checked, no plugins: a client nobody should use, measured so
that the benchmark can say how close CIO comes to the floor of the cost of a request here.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httptools


class _Connection(asyncio.Protocol):
    def __init__(self, idle: list[_Connection]) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[bytes] | None = None
        self.chunks: list[bytes] = []
        self.idle = idle

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        body = b"".join(self.chunks)
        self.chunks = []
        if self.parser.get_status_code() != 200:
            body = b""  # the caller's length check reports it
        self.idle.append(self)
        if waiter is not None:
            waiter.set_result(body)

    def connection_lost(self, exc: Exception | None) -> None:
        if self in self.idle:
            self.idle.remove(self)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"lean loop: connection lost ({exc})"))


class LeanLoop:
    """``get``/``post`` of the benchmark on connections of its own, kept alive."""

    def __init__(self) -> None:
        self.idle: list[_Connection] = []
        self.open: list[_Connection] = []
        self.heads: dict[tuple[str, str, int], tuple[str, int, bytes]] = {}

    def _head(self, method: str, url: str, size: int) -> tuple[str, int, bytes]:
        key = (method, url, size)
        head = self.heads.get(key)
        if head is None:
            parts = urlsplit(url)
            length = f"Content-Length: {size}\r\n" if method == "POST" else ""
            text = f"{method} {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n{length}\r\n"
            head = self.heads[key] = (parts.hostname or "", parts.port or 80, text.encode("ascii"))
        return head

    async def send(self, method: str, url: str, body: bytes = b"") -> bytes:
        host, port, head = self._head(method, url, len(body))
        loop = asyncio.get_running_loop()
        if self.idle:
            connection = self.idle.pop()
        else:
            _, connection = await loop.create_connection(lambda: _Connection(self.idle), host, port)
            self.open.append(connection)
        waiter = connection.waiter = loop.create_future()
        assert connection.transport is not None
        connection.transport.write(head + body if len(body) < 16384 else head)
        if len(body) >= 16384:
            connection.transport.write(body)
        return await waiter

    def close(self) -> None:
        for connection in self.open:
            if connection.transport is not None:
                connection.transport.close()
        self.open.clear()
        self.idle.clear()
