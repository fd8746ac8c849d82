"""One request on a CIO connection and the answer to it: futures, buffered body chunks, finish and fail.

The connection creates an ``Exchange`` for every request it writes and queues it; its
parser callbacks fill the one at the head of the queue (``headers_future`` resolves with
the head, body bytes are buffered in ``chunks``, ``finish`` marks the end, ``fail`` an
error), while the reader awaits the head, then takes the body whole (``take_body``) or
chunk by chunk (``next_chunk``, which pauses and resumes reading on the connection around
``limits.read_buffer_bytes``). Re-exported by ``kclient.engines.cio._connection``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from ..._errors import KClientError

if TYPE_CHECKING:
    from ._connection import Connection

__all__ = ["Exchange"]


class Exchange:
    """One request on a connection and the answer to it, as the parser delivers it."""

    __slots__ = (
        "body_done",
        "buffered",
        "chunks",
        "connection",
        "error",
        "got_bytes",
        "head_only",
        "header_bytes",
        "headers",
        "headers_done",
        "headers_future",
        "http_version",
        "informational",
        "keep_alive",
        "method",
        "reason",
        "sent",
        "status",
        "waiter",
    )

    def __init__(self, connection: Connection, method: str) -> None:
        self.connection = connection
        self.method = method
        self.head_only = method == "HEAD"
        self.headers_future: asyncio.Future[None] = connection.loop.create_future()
        self.status = 0
        self.reason = ""
        self.http_version = "HTTP/1.1"
        #: As received (name and value bytes): decoded only if someone reads them.
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        self.headers_done = False
        self.informational = False
        self.keep_alive = True
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.body_done = False
        self.waiter: asyncio.Future[None] | None = None
        self.error: KClientError | None = None
        self.got_bytes = False
        self.sent = False

    # -- filled by the connection -------------------------------------------------------------
    def push(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        self._wake()
        if self.buffered > self.connection.limits.read_buffer_bytes:
            self.connection.pause_reading()

    def finish(self) -> None:
        self.body_done = True
        self._wake()

    def fail(self, error: KClientError) -> None:
        if (self.body_done and self.headers_done) or self.error is not None:
            return
        self.error = error
        if not self.headers_future.done():
            self.headers_future.set_exception(error)
            self.headers_future.exception()  # retrieved: the sender may have been cancelled already
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- used by the reader -------------------------------------------------------------------
    async def next_chunk(self, socket_timeout: float | None) -> bytes:
        """The next piece of the body, or ``b""`` at its end."""
        while not self.chunks:
            if self.error is not None:
                raise self.error
            if self.body_done:
                return b""
            self.waiter = self.connection.loop.create_future()
            try:
                await self.connection.wait(self.waiter, socket_timeout, self)
            finally:
                self.waiter = None
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        if self.buffered < self.connection.limits.read_buffer_bytes // 2:
            self.connection.resume_reading()
        return chunk

    def take_body(self) -> bytes:
        """The whole buffered body once ``body_done`` (the fast path for small answers)."""
        body = b"".join(self.chunks)
        self.chunks.clear()
        self.buffered = 0
        return body
