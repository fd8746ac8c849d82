"""One HTTP/1.1 connection: an asyncio protocol that feeds httptools, answers matched in order.

Theory of operation. Every request written on a connection becomes an ``Exchange``,
queued in the order it was sent (several at once when pipelining). Bytes from the
socket go straight from ``data_received`` into the httptools (llhttp) parser, whose
callbacks fill the exchange at the head of the queue: status and headers resolve
``exchange.headers``, body bytes are buffered on the exchange (reading pauses past
``limits.read_buffer_bytes`` until the reader catches up), and the end of the message
pops it. A connection whose queue is empty and that may be kept alive is handed back
to the pool at once, even while its last body is still being read from the buffer.

When the connection is lost, each queued exchange fails. One that received no byte of
its answer on a connection that had already served a response (or behind another
request in a pipeline) fails with ``Unanswered``: the engine may send it again on a
fresh connection when its method is idempotent.

The ``Exchange`` lives in ``kclient.engines.cio._exchange`` and the header helpers in
``kclient.engines.cio._headers``; they are re-exported here.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import httptools

from ..._errors import KClientError, ProtocolError, ReadError, SocketTimeout, WriteError
from ._config import LimitsConfig
from ._exchange import Exchange
from ._headers import header_value, host_value

__all__ = ["Connection", "Exchange", "Unanswered", "header_value", "host_value"]

RouteKey = tuple[str, str, int, Any]


class Unanswered(ReadError):
    """The connection closed before any byte of the answer arrived (the request may be re-sent)."""


class _Abort(Exception):
    """Raised inside a parser callback to stop parsing with ``error``."""

    def __init__(self, error: KClientError) -> None:
        super().__init__(str(error))
        self.error = error


class Connection(asyncio.BufferedProtocol):
    """An HTTP/1.1 connection to one route, owned by the pool.

    A buffered protocol: the socket reads into one buffer kept for the connection's life,
    which goes straight to the parser, instead of a new bytes object per read.
    """

    READ_BUFFER = 256 * 1024

    def __init__(
        self,
        key: RouteKey,
        limits: LimitsConfig,
        loop: asyncio.AbstractEventLoop,
        on_idle: Callable[[Connection], None],
        on_closed: Callable[[Connection], None],
    ) -> None:
        self.key = key
        self.limits = limits
        self.loop = loop
        self._on_idle = on_idle
        self._on_closed = on_closed
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.queue: deque[Exchange] = deque()
        self._current: Exchange | None = None
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self.reused = False
        self.closed = False
        self.keep_alive = True
        self.exclusive = False
        self.idle_since = 0.0
        self.last_data = loop.time()
        self._reading_paused = False
        self._writing_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._read_buffer = memoryview(bytearray(self.READ_BUFFER))
        self._tunnel_buffer: bytearray | None = None
        self._tunnel_waiter: asyncio.Future[bytes] | None = None

    # -- what the pool asks -------------------------------------------------------------------
    @property
    def idle(self) -> bool:
        return not self.queue and self.keep_alive and not self.closed and not self.exclusive

    def can_pipeline(self, max_size: int) -> bool:
        return self.keep_alive and not self.closed and not self.exclusive and len(self.queue) < max_size

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast("asyncio.Transport", transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._read_buffer[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        self.last_data = self.loop.time()
        if self._tunnel_buffer is not None:
            self._tunnel_data(data)
            return
        if not self.queue:
            self._abort(ProtocolError(f"{self._origin()} sent {len(data)} bytes nobody asked for."))
            return
        head = self.queue[0]
        head.got_bytes = True
        if not head.headers_done:
            head.header_bytes += len(data)
            if head.header_bytes > self.limits.max_header_bytes and not self._headers_end_within(head, data):
                self._abort(
                    ProtocolError(
                        f"{self._origin()} sent a header block larger than limits.max_header_bytes "
                        f"({self.limits.max_header_bytes} bytes)."
                    )
                )
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            self._abort(cause.error if isinstance(cause, _Abort) else ProtocolError(f"{self._origin()}: {exc}"))
        except httptools.HttpParserError as exc:
            error = ProtocolError(f"{self._origin()} sent an invalid HTTP response: {exc}.")
            error.__cause__ = exc
            self._abort(error)

    def _headers_end_within(self, head: Exchange, data: bytes | memoryview) -> bool:
        # The block may end inside this chunk, followed by body bytes: count only up to its end.
        end = bytes(data).find(b"\r\n\r\n")
        return end != -1 and head.header_bytes - len(data) + end + 4 <= self.limits.max_header_bytes

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.transport = None
        self._wake_drain(exc)
        if self._tunnel_waiter is not None and not self._tunnel_waiter.done():
            self._tunnel_waiter.set_exception(ReadError(f"{self._origin()} closed the connection during CONNECT."))
        first = True
        while self.queue:
            exchange = self.queue.popleft()
            if exchange.headers_done and not exchange.body_done and self._ends_at_close(exchange) and first:
                exchange.finish()  # a body delimited by the end of the connection
            else:
                error = self._lost_error(exchange, exc, first)
                error.__cause__ = exc  # the native error (a reset, ...) stays visible
                exchange.fail(error)
            first = False
        self._on_closed(self)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake_drain(None)

    # -- httptools callbacks ------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._current = self.queue[0] if self.queue else None
        self._raw_headers = []
        if self._current is None:
            raise _Abort(ProtocolError(f"{self._origin()} sent a response nobody asked for."))

    def on_status(self, status: bytes) -> None:
        if self._current is not None:
            self._current.reason += status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        # The hot path: only collect. The header block is bounded by limits.max_header_bytes
        # (checked in data_received), so the checks can wait for the end of the block.
        self._raw_headers.append((name, value))

    def _take_headers(self) -> list[tuple[bytes, bytes]]:
        raw = self._raw_headers
        self._raw_headers = []
        limits = self.limits
        if len(raw) > limits.max_headers:
            raise _Abort(
                ProtocolError(
                    f"{self._origin()} sent more than limits.max_headers ({limits.max_headers}) header fields."
                )
            )
        head = self._current
        counted = head.header_bytes if head is not None else 0
        # data_received counts a read against the answer at the head of the queue, up to the first blank line
        # in it: not this block alone when an interim 1xx answer came first in the read (its blank line ended
        # the check), or when the answer before it in a pipeline took the read (count 0). Measure the block.
        if (counted == 0 or counted > limits.max_header_bytes) and sum(
            len(name) + len(value) + 4 for name, value in raw
        ) > limits.max_header_bytes:
            raise _Abort(
                ProtocolError(
                    f"{self._origin()} sent a header block larger than limits.max_header_bytes "
                    f"({limits.max_header_bytes} bytes)."
                )
            )
        # No line can be longer than the whole block: check lines only for a long block.
        if (counted == 0 or counted > limits.max_line_bytes) and any(
            len(name) + len(value) > limits.max_line_bytes for name, value in raw
        ):
            raise _Abort(
                ProtocolError(
                    f"{self._origin()} sent a header line longer than limits.max_line_bytes "
                    f"({limits.max_line_bytes} bytes)."
                )
            )
        return raw

    def on_headers_complete(self) -> None:
        current = self._current
        if current is None:
            return
        current.headers = self._take_headers()
        status = self.parser.get_status_code()
        if status < 200:
            if status == 101:
                raise _Abort(ProtocolError(f"{self._origin()} switched protocols (101), which CIO does not support."))
            current.headers.clear()
            current.reason = ""
            current.informational = True
            return
        current.status = status
        current.http_version = "HTTP/" + self.parser.get_http_version()
        current.keep_alive = self.parser.should_keep_alive()
        current.headers_done = True
        if not current.keep_alive:
            self.keep_alive = False
        if current.head_only:
            # llhttp cannot be told that a HEAD answer has no body: end it here and start a fresh
            # parser for the next answer (nothing is pipelined behind a HEAD request).
            self.parser = httptools.HttpResponseParser(self)
            self._complete(current)
        if not current.headers_future.done():
            current.headers_future.set_result(None)

    def on_body(self, body: bytes) -> None:
        current = self._current
        if current is not None and not current.body_done:
            current.push(body)

    def on_message_complete(self) -> None:
        current = self._current
        if current is None:
            return
        if current.informational:
            current.informational = False
            return
        if not current.body_done:
            self._complete(current)

    def _complete(self, exchange: Exchange) -> None:
        exchange.finish()
        if self.queue and self.queue[0] is exchange:
            self.queue.popleft()
        self._current = None
        self.reused = True
        if exchange.head_only:
            self.exclusive = False
        if not exchange.sent:  # answered before the request was fully written: do not reuse
            self.keep_alive = False
        if not self.queue:
            if self.keep_alive and not self.exclusive:
                self.idle_since = self.loop.time()
                self._on_idle(self)
            elif not self.keep_alive:
                self.close()

    # -- sending ------------------------------------------------------------------------------
    def send(self, method: str, data: bytes) -> Exchange:
        """Write a whole request (head and body) and queue its exchange."""
        exchange = Exchange(self, method)
        if exchange.head_only:
            self.exclusive = True
        self.queue.append(exchange)
        assert self.transport is not None
        self.transport.write(data)
        exchange.sent = True
        return exchange

    async def send_streaming(
        self, method: str, head: bytes, body: Any, what: str, socket_timeout: float | None = None
    ) -> Exchange:
        """Write a request head, then its async-iterable body with chunked framing."""
        exchange = Exchange(self, method)
        self.exclusive = True
        self.queue.append(exchange)
        transport = self.transport
        assert transport is not None
        transport.write(head)
        try:
            async for chunk in body:
                if self.closed or exchange.error is not None:
                    break
                if chunk:
                    transport.write(b"%x\r\n%b\r\n" % (len(chunk), bytes(chunk)))
                    if self._writing_paused:
                        await self.drain(what, socket_timeout)
            else:
                if not self.closed:
                    transport.write(b"0\r\n\r\n")
        except KClientError:
            self.abort()  # the request was left half-written: the connection cannot carry another one
            raise
        except Exception as exc:
            self.abort()  # half-written: drop it (a graceful close could wait on a server that stopped reading)
            raise WriteError(f"Reading the body of {what} failed: {exc!r}; the request was not completed.") from exc
        except BaseException:
            self.abort()  # cancelled while sending the body: as above (else it stays busy, its slot lost)
            raise
        exchange.sent = True
        self.exclusive = False
        if exchange.body_done and not self.queue and self.keep_alive:
            self.idle_since = self.loop.time()
            self._on_idle(self)
        return exchange

    async def drain(self, what: str, socket_timeout: float | None = None) -> None:
        """Wait until the socket takes more data; ``SocketTimeout`` when it takes none for too long."""
        if not self._writing_paused:
            return
        if self.closed:
            raise WriteError(f"The connection closed while sending {what}.")
        waiter = self._drain_waiter = self.loop.create_future()
        if socket_timeout is None:
            await waiter
            return
        handle = self.loop.call_later(socket_timeout, self._drain_timed_out, waiter, what, socket_timeout)
        try:
            await waiter
        finally:
            handle.cancel()

    def _drain_timed_out(self, waiter: asyncio.Future[None], what: str, timeout: float) -> None:
        if not waiter.done():
            waiter.set_exception(
                SocketTimeout(
                    f"{self._origin()} took no data for {timeout} s while {what} was being sent "
                    "(endpoint.socket_timeout)."
                )
            )

    def _wake_drain(self, exc: Exception | None) -> None:
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(WriteError(f"The connection to {self._origin()} was lost while sending: {exc}"))

    # -- waiting with a socket timeout --------------------------------------------------------
    async def wait(self, future: asyncio.Future[None], socket_timeout: float | None, exchange: Exchange) -> None:
        """Await ``future``; when nothing arrives for ``socket_timeout`` seconds, fail the exchange."""
        if socket_timeout is None:
            await future
            return
        handle = self.loop.call_later(socket_timeout, self._check_silence, future, socket_timeout, exchange)
        try:
            await future
        finally:
            handle.cancel()

    def _check_silence(self, future: asyncio.Future[None], timeout: float, exchange: Exchange) -> None:
        if future.done():
            return
        silent_for = self.loop.time() - self.last_data
        if silent_for < timeout:
            self.loop.call_later(timeout - silent_for, self._check_silence, future, timeout, exchange)
            return
        error = SocketTimeout(f"{self._origin()} sent nothing for {timeout} s (endpoint.socket_timeout).")
        exchange.fail(error)
        if not future.done():
            future.set_exception(error)
        self.close()

    # -- CONNECT tunnels ----------------------------------------------------------------------
    async def open_tunnel(self, request_head: bytes) -> bytes:
        """Send a CONNECT request and return the proxy's answer head (status line and headers)."""
        self._tunnel_buffer = bytearray()
        self._tunnel_waiter = self.loop.create_future()
        assert self.transport is not None
        self.transport.write(request_head)
        try:
            return await self._tunnel_waiter
        finally:
            self._tunnel_buffer = None
            self._tunnel_waiter = None

    def _tunnel_data(self, data: bytes | memoryview) -> None:
        buffer = self._tunnel_buffer
        assert buffer is not None
        buffer += data
        end = buffer.find(b"\r\n\r\n")
        waiter = self._tunnel_waiter
        if waiter is None or waiter.done():
            return
        if end != -1:
            waiter.set_result(bytes(buffer[: end + 4]))
        elif len(buffer) > self.limits.max_header_bytes:
            waiter.set_exception(ProtocolError(f"The proxy {self._origin()} sent an oversized CONNECT answer."))

    # -- closing ------------------------------------------------------------------------------
    def pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        """Close the socket; queued exchanges fail when the loss is reported."""
        self.keep_alive = False
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the socket at once (cancellation, protocol errors)."""
        self.keep_alive = False
        if self.transport is not None:
            self.transport.abort()
        elif not self.closed:
            self.connection_lost(None)

    def _abort(self, error: KClientError) -> None:
        for exchange in list(self.queue):
            exchange.fail(error)
        self.abort()

    def abandon(self, exchange: Exchange) -> None:
        """The reader gave up on ``exchange`` (cancelled, timed out): the connection cannot be reused."""
        if not (exchange.body_done and exchange.headers_done):
            self.abort()

    # -- messages -----------------------------------------------------------------------------
    def _origin(self) -> str:
        scheme, host, port, _ = self.key
        return f"{scheme}://{host}:{port}"

    @staticmethod
    def _ends_at_close(exchange: Exchange) -> bool:
        names = {name.lower() for name, _ in exchange.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def _lost_error(self, exchange: Exchange, exc: Exception | None, first: bool) -> KClientError:
        why = f": {exc}" if exc else ""
        if not exchange.got_bytes and (self.reused or not first):
            return Unanswered(f"{self._origin()} closed the connection before answering{why}.")
        if not exchange.got_bytes:
            return ReadError(f"{self._origin()} closed the connection without sending a response{why}.")
        # A reset (an OS error) is a read that failed; a clean close in the middle of a message cuts it short.
        error_class = ReadError if isinstance(exc, OSError) else ProtocolError
        if not exchange.headers_done:
            return error_class(f"{self._origin()} closed the connection in the middle of the response head{why}.")
        declared = header_value(exchange.headers, b"content-length")
        detail = f" (Content-Length: {declared})" if declared else ""
        return error_class(f"{self._origin()} closed the connection before the end of the body{detail}{why}.")
