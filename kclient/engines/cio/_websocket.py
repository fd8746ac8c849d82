"""CIO's WebSockets: a connection of CIO's own, handed to wsproto after it is open.

The engine opens the connection as for a request (resolution, TLS, a CONNECT tunnel through
an HTTP proxy, connect attempts and timeout) and hands its transport to a ``CIOWebSocket``,
an asyncio protocol that feeds wsproto (the sans-IO WebSocket library of h11's authors). It
never returns to the pool. Messages are assembled here (``max_message_size``), queued
(``receive_queue``: past it the transport stops reading, so the server's writes wait), pings
answered, and the close handshake bounded by ``close_timeout``.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from typing import TYPE_CHECKING

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    TextMessage,
)
from wsproto.events import (
    Request as Handshake,
)
from wsproto.extensions import PerMessageDeflate
from wsproto.utilities import ProtocolError as WsprotoError

from ..._errors import KClientError, ReadError, SocketTimeout, WebSocketProtocolError
from ..._models import Response
from ..._ws_channel import (
    ABNORMAL_CLOSURE,
    MESSAGE_TOO_BIG,
    REJECTED_BODY_LIMIT,
    WebSocketChannel,
    WebSocketSettings,
    handshake_headers,
    ws_url,
)
from ._connection import host_value
from ._ws_frames import BINARY, TEXT, encode_frame, next_frame

if TYPE_CHECKING:
    from ..._models import Request

__all__ = ["CIOWebSocket"]

#: The longest handshake answer head read.
_MAX_HEAD = 64 * 1024
#: The longest frame header (2 bytes, 8 of length, 4 of mask).
_MAX_FRAME_HEAD = 14


class CIOWebSocket(asyncio.Protocol, WebSocketChannel):
    """One WebSocket on a CIO connection: the asyncio protocol and the session's channel."""

    def __init__(
        self,
        request: Request,
        settings: WebSocketSettings,
        loop: asyncio.AbstractEventLoop,
        transport: asyncio.Transport,
    ) -> None:
        WebSocketChannel.__init__(self, request, settings)
        self._loop = loop
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._transport: asyncio.Transport | None = transport
        self._opened: asyncio.Future[Response] = loop.create_future()
        self._rejected: RejectConnection | None = None
        self._rejected_body = bytearray()
        self._messages: deque[str | bytes] = deque()
        self._parts: list[str | bytes | bytearray] = []
        self._size = 0
        self._waiter: asyncio.Future[None] | None = None
        self._error: KClientError | None = None
        self._pings: dict[bytes, asyncio.Future[None]] = {}
        self._lost: asyncio.Future[None] = loop.create_future()
        self._replied: asyncio.Future[None] = loop.create_future()
        self._reading_paused = False
        self._writing_paused = False
        self._drain: asyncio.Future[None] | None = None
        #: The handshake answer's head, until it is whole.
        self._head = bytearray()
        #: Frames are read by ``_frames`` (the session is open and not closing).
        self._framing = False
        #: Bytes of a frame that has not all arrived.
        self._buffer = b""
        #: wsproto is in the middle of a fragmented message: every frame goes to it until it ends.
        self._fragmented = False
        #: Messages are written by ``encode_frame`` (no extension was negotiated).
        self._plain_sends = False
        transport.set_protocol(self)

    # -- the handshake ----------------------------------------------------------------------
    async def handshake(self, socket_timeout: float | None) -> Response:
        """Send the upgrade request and wait for the answer: ``101`` (the channel is open) or another."""
        request = self.request
        url = request.url
        host = request.headers.get("Host") or host_value(url)
        extensions = [PerMessageDeflate()] if self.settings.compression else []
        head = self._ws.send(
            Handshake(
                host=host,
                target=url.raw_path_qs or "/",
                subprotocols=list(self.settings.subprotocols),
                extensions=extensions,
                extra_headers=[(n.encode("latin-1"), v.encode("latin-1")) for n, v in handshake_headers(request)],
            )
        )
        self._write(head)
        if socket_timeout is None:
            return await self._opened
        try:
            return await asyncio.wait_for(asyncio.shield(self._opened), socket_timeout)
        except TimeoutError:
            raise SocketTimeout(
                f"{ws_url(request)} did not answer the WebSocket handshake within the socket timeout "
                f"of {socket_timeout} s."
            ) from None

    # -- asyncio.Protocol -------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._framing:
            self._frames(data)
            return
        if self._opened.done():  # a refused handshake's body, or after a failure: wsproto takes it all
            self._feed(data)
            return
        head = self._head
        head += data
        end = head.find(b"\r\n\r\n")
        if end < 0:
            if len(head) > _MAX_HEAD:
                self._fail(WebSocketProtocolError(f"{ws_url(self.request)} sent a handshake answer over 64 KiB."))
            return
        rest = bytes(head[end + 4 :])
        self._feed(bytes(head[: end + 4]))  # the answer's head: wsproto checks it (AcceptConnection or not)
        del head[:]
        if self._framing:
            if rest:
                self._frames(rest)
        elif rest:
            self._feed(rest)

    def _feed(self, data: bytes) -> None:
        """Bytes for wsproto, and the events they make."""
        ws = self._ws
        try:
            ws.receive_data(data)
            for event in ws.events():
                self._on_event(event)
        except WsprotoError as exc:  # a handshake answer that breaks RFC 6455 (a bad Sec-WebSocket-Accept...)
            self._fail(WebSocketProtocolError(f"{ws_url(self.request)} answered the handshake wrongly: {exc}."))

    def _frames(self, data: bytes) -> None:
        """Frames of an open session: plain ones taken here (``_ws_frames``), the rest given to wsproto whole."""
        buffer = self._buffer + data if self._buffer else data
        position = 0
        limit = self.settings.max_message_size
        while True:
            frame = next_frame(buffer, position)
            if isinstance(frame, int):  # not all here yet
                if limit is not None and frame > limit + _MAX_FRAME_HEAD:
                    self._refuse(frame)
                    return
                break
            position = frame.end
            if frame.plain and not self._fragmented:
                payload = buffer[frame.payload : frame.end]
                if limit is not None and len(payload) > limit:
                    self._refuse(len(payload))
                    return
                if frame.opcode == BINARY:
                    self._deliver(payload)
                    continue
                try:
                    self._deliver(payload.decode("utf-8"))
                    continue
                except UnicodeDecodeError:
                    pass  # wsproto closes with 1007, as the standard asks
            first = buffer[frame.start]
            if first & 0x0F in (0x0, TEXT, BINARY):  # a data frame: is a fragmented message open after it?
                self._fragmented = not first & 0x80
            self._feed(buffer[frame.start : frame.end])
            if not self._framing:  # closed, or failed: what follows is wsproto's
                if position < len(buffer):
                    self._feed(buffer[position:])
                self._buffer = b""
                return
        self._buffer = buffer[position:]

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self.close_code is None:
            self.close_code = ABNORMAL_CLOSURE
        if not self._opened.done():
            error = ReadError(f"{ws_url(self.request)} closed the connection during the WebSocket handshake.")
            error.__cause__ = exc
            self._opened.set_exception(error)
        for future in (self._lost, self._replied):
            if not future.done():
                future.set_result(None)
        for ping in self._pings.values():
            if not ping.done():
                ping.set_exception(self.closed_error())
        self._pings.clear()
        self._wake()
        self._wake_drain()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake_drain()

    # -- wsproto's events -------------------------------------------------------------------
    def _on_event(self, event: object) -> None:
        if isinstance(event, (TextMessage, BytesMessage)):
            self._on_message(event)
        elif isinstance(event, Ping):
            self._write(self._ws.send(event.response()))
        elif isinstance(event, Pong):
            waiter = self._pings.pop(bytes(event.payload), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        elif isinstance(event, CloseConnection):
            self._on_close(event)
        elif isinstance(event, AcceptConnection):
            self.subprotocol = event.subprotocol
            self.extensions = tuple(extension.name for extension in event.extensions)
            self._framing = True
            self._plain_sends = not self.extensions  # a compressed session's messages go through wsproto
            raw = [(bytes(name), bytes(value)) for name, value in event.extra_headers]
            self._answer(Response(101, request=self.request, raw_headers=raw, content=b""))
        elif isinstance(event, RejectConnection):
            self._rejected = event
            if not event.has_body:
                self._answer_rejected()
        elif isinstance(event, RejectData):
            room = REJECTED_BODY_LIMIT - len(self._rejected_body)
            self._rejected_body += event.data[: max(room, 0)]
            if event.body_finished or room <= 0:
                self._answer_rejected()

    def _on_message(self, event: TextMessage | BytesMessage) -> None:
        self._parts.append(event.data)
        self._size += len(event.data)
        limit = self.settings.max_message_size
        if limit is not None and self._size > limit:
            self._refuse(self._size)
            return
        if not event.message_finished:
            return
        parts, self._parts, self._size = self._parts, [], 0
        if isinstance(event, TextMessage):
            message: str | bytes = parts[0] if len(parts) == 1 else "".join(parts)  # type: ignore[arg-type,assignment]
        else:
            assert isinstance(event, BytesMessage)
            message = bytes(parts[0]) if len(parts) == 1 else b"".join(parts)  # type: ignore[arg-type]
        self._deliver(message)

    def _deliver(self, message: str | bytes) -> None:
        messages = self._messages
        messages.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if len(messages) >= self.settings.receive_queue and not self._reading_paused:
            self._reading_paused = True
            if self._transport is not None:
                self._transport.pause_reading()

    def _refuse(self, size: int) -> None:
        """A message past ``max_message_size``: the session closes with 1009 and the reader gets the error."""
        self._parts.clear()
        self._framing = False
        self._error = self.too_large(size)
        self._send_close(MESSAGE_TOO_BIG, "message too big")
        self._shut()
        self._wake()

    def _on_close(self, event: CloseConnection) -> None:
        self._framing = False
        state = self._ws.state
        if state is ConnectionState.REMOTE_CLOSING:  # the server closes: answer, then release
            self.close_code, self.close_reason = event.code, event.reason or ""
            self._write(self._ws.send(event.response()))
            self._shut()
        elif state is ConnectionState.CLOSED:  # the answer to our close
            if self.close_code is None or self.close_code == ABNORMAL_CLOSURE:
                self.close_code, self.close_reason = event.code, event.reason or ""
            if not self._replied.done():
                self._replied.set_result(None)
            self._shut()
        else:  # wsproto found a broken frame: it reports the close code the violation calls for
            self._error = WebSocketProtocolError(
                f"{ws_url(self.request)} broke the WebSocket protocol: {event.reason} (closed with {event.code})."
            )
            self._send_close(event.code, event.reason or "")
            self.close_code, self.close_reason = event.code, event.reason or ""
            self._shut()
        self._wake()

    def _answer(self, response: Response) -> None:
        if not self._opened.done():
            self._opened.set_result(response)

    def _answer_rejected(self) -> None:
        event = self._rejected
        assert event is not None
        raw = [(bytes(name), bytes(value)) for name, value in event.headers]
        body = bytes(self._rejected_body)
        self._answer(Response(event.status_code, request=self.request, raw_headers=raw, content=body))
        self.abort()

    def _fail(self, error: KClientError) -> None:
        self._framing = False
        if not self._opened.done():
            self._opened.set_exception(error)
        else:
            self._error = error
        self.abort()

    # -- the channel ------------------------------------------------------------------------
    async def receive(self) -> str | bytes:
        messages = self._messages
        while not messages:
            error = self._error
            if error is not None:
                self._error = None
                raise error
            if self.close_code is not None:
                raise self.closed_error()
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        message = messages.popleft()
        if self._reading_paused and len(messages) <= self.settings.receive_queue // 2:
            self._reading_paused = False
            if self._transport is not None:
                self._transport.resume_reading()
        return message

    async def send(self, data: str | bytes) -> None:
        if self.close_code is not None or self._ws.state is not ConnectionState.OPEN:
            raise self.closed_error()
        if self._plain_sends:
            frame = encode_frame(TEXT, data.encode()) if isinstance(data, str) else encode_frame(BINARY, data)
        else:
            frame = self._ws.send(TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data))
        self._write(frame)
        if self._writing_paused:
            await self._drained()

    async def ping(self, payload: bytes) -> None:
        if self.close_code is not None or self._ws.state is not ConnectionState.OPEN:
            raise self.closed_error()
        key = bytes(payload) or os.urandom(4)
        waiter = self._pings.get(key)
        if waiter is None:
            waiter = self._pings[key] = self._loop.create_future()
            self._write(self._ws.send(Ping(payload=key)))
        await asyncio.shield(waiter)

    async def close(self, code: int, reason: str, *, wait: bool = True) -> None:
        if self._transport is None:
            return
        if self._ws.state is ConnectionState.OPEN:
            self._send_close(code, reason)
            if self.close_code is None:
                self.close_code, self.close_reason = code, reason
        if wait and not self._replied.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._replied), self.settings.close_timeout)
            except TimeoutError:
                self.abort()  # the server never answered the close: drop the connection
                return
        self._shut()
        if wait:
            try:
                await asyncio.wait_for(asyncio.shield(self._lost), self.settings.close_timeout)
            except TimeoutError:
                self.abort()

    def abort(self) -> None:
        transport = self._transport
        if transport is not None:
            transport.abort()
        if self.close_code is None:
            self.close_code = ABNORMAL_CLOSURE
        self._wake()

    # -- helpers ----------------------------------------------------------------------------
    def _send_close(self, code: int, reason: str) -> None:
        if self._ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            self._write(self._ws.send(CloseConnection(code=code, reason=reason or None)))

    def _shut(self) -> None:
        """Close the socket once what was written has gone out."""
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.close()

    def _write(self, data: bytes) -> None:
        transport = self._transport
        if transport is not None and data:
            transport.write(data)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_drain(self) -> None:
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    async def _drained(self) -> None:
        while self._writing_paused and self._transport is not None:
            self._drain = self._loop.create_future()
            await self._drain
        if self._transport is None:
            raise self.closed_error()
