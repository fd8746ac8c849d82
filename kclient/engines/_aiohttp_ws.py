"""The Aiohttp engine's WebSockets: aiohttp's own client (``ClientSession.ws_connect``) as a channel.

aiohttp parses frames (in C where it is built so) and compresses (``compress=15``); this
module translates. A reader task moves messages from aiohttp into a queue of
``receive_queue`` messages: when it is full the task waits, aiohttp's own buffer fills and
aiohttp stops reading the socket. Pings are answered here (``autoping=False``), so that a pong
can complete ``ping()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING, Any

import aiohttp

from .._errors import KClientError, ReadError, WebSocketProtocolError
from .._models import Response
from .._ws_channel import ABNORMAL_CLOSURE, MESSAGE_TOO_BIG, WebSocketChannel, WebSocketSettings, ws_url

if TYPE_CHECKING:
    from .._models import Request

__all__ = ["AiohttpWebSocket", "handshake_options", "refused"]

_CLOSING = frozenset({aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED})
#: Seconds a close without waiting gives the close frame to go out.
_NO_WAIT = 0.05
#: What the queue holds after the last message: the session is closed, or this error.
_END = object()


def handshake_options(settings: WebSocketSettings) -> dict[str, Any]:
    """``ws_connect``'s options for ``settings``."""
    return {
        "protocols": settings.subprotocols,
        "autoclose": True,
        "autoping": False,
        "compress": 15 if settings.compression else 0,
        "max_msg_size": settings.max_message_size or 0,
        "timeout": aiohttp.ClientWSTimeout(ws_receive=None, ws_close=settings.close_timeout),
    }


def refused(exc: aiohttp.WSServerHandshakeError, request: Request) -> Response:
    """The server's answer other than 101, as aiohttp reports it (status and headers; its body is gone)."""
    from multidict import CIMultiDict

    return Response(exc.status, request=request, headers=CIMultiDict(exc.headers or {}), content=b"")


class AiohttpWebSocket(WebSocketChannel):
    """A session on ``aiohttp.ClientWebSocketResponse``."""

    def __init__(self, request: Request, settings: WebSocketSettings, native: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__(request, settings)
        self._native = native
        self.subprotocol = native.protocol
        self.extensions = ("permessage-deflate",) if native.compress else ()
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=settings.receive_queue)
        self._pings: dict[bytes, asyncio.Future[None]] = {}
        self._ended = False
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="kclient-aiohttp-websocket")

    def response(self) -> Response:
        """The 101 answer, as aiohttp kept it."""
        native = self._native._response
        return Response(101, request=self.request, headers=native.headers.copy(), content=b"")

    # -- the reader task --------------------------------------------------------------------
    async def _read(self) -> None:
        native = self._native
        end: Any = _END
        try:
            while True:
                message = await native.receive()
                kind = message.type
                if kind is aiohttp.WSMsgType.TEXT or kind is aiohttp.WSMsgType.BINARY:
                    await self._queue.put(message.data)
                elif kind is aiohttp.WSMsgType.PING:
                    await native.pong(message.data)
                elif kind is aiohttp.WSMsgType.PONG:
                    waiter = self._pings.pop(bytes(message.data), None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(None)
                elif kind in _CLOSING:
                    self._closed_by(native.close_code, message.extra if kind is aiohttp.WSMsgType.CLOSE else "")
                    return
                else:  # ERROR: a frame aiohttp refused, or the connection failed
                    end = self._error(message.data)
                    self._closed_by(native.close_code, "")
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the connection failed under aiohttp: the session ends
            end = self._error(exc)
            self._closed_by(None, "")
        finally:
            self._ended = True
            for ping in self._pings.values():
                if not ping.done():
                    ping.set_exception(self.closed_error())
            self._pings.clear()
            self._put_end(end)

    def _put_end(self, end: Any) -> None:
        while True:
            try:
                self._queue.put_nowait(end)
                return
            except asyncio.QueueFull:  # room for the end: the unread messages go, the session is over
                self._queue.get_nowait()

    def _closed_by(self, code: int | None, reason: Any) -> None:
        if self.close_code is None or self.close_code == ABNORMAL_CLOSURE:
            self.close_code = code if code is not None else ABNORMAL_CLOSURE
            self.close_reason = reason if isinstance(reason, str) else ""

    def _error(self, exc: object) -> KClientError:
        code = getattr(exc, "code", None)
        if code == MESSAGE_TOO_BIG:
            return self.too_large((self.settings.max_message_size or 0) + 1)
        if isinstance(exc, aiohttp.WebSocketError):
            return WebSocketProtocolError(
                f"{ws_url(self.request)} broke the WebSocket protocol: {exc} (closed with {code})."
            )
        error = ReadError(f"The WebSocket to {ws_url(self.request)} failed: {exc}.")
        if isinstance(exc, BaseException):
            error.__cause__ = exc
        return error

    # -- the channel ------------------------------------------------------------------------
    async def receive(self) -> str | bytes:
        item = await self._queue.get()
        if isinstance(item, (str, bytes)):
            return item
        self._put_end(_END)  # the next receive() says closed as well
        if isinstance(item, KClientError):
            raise item
        raise self.closed_error()

    async def send(self, data: str | bytes) -> None:
        native = self._native
        if native.closed or self._ended:
            raise self.closed_error()
        try:
            if isinstance(data, str):
                await native.send_str(data)
            else:
                await native.send_bytes(data)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            raise self.closed_error() from exc

    async def ping(self, payload: bytes) -> None:
        if self._native.closed or self._ended:
            raise self.closed_error()
        key = bytes(payload) or os.urandom(4)
        waiter = self._pings.get(key)
        if waiter is None:
            waiter = self._pings[key] = asyncio.get_running_loop().create_future()
            try:
                await self._native.ping(key)
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
                raise self.closed_error() from exc
        await asyncio.shield(waiter)

    async def close(self, code: int, reason: str, *, wait: bool = True) -> None:
        native = self._native
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        if not native.closed:
            if wait:  # aiohttp sends the close frame and waits close_timeout at most for the peer's
                await native.close(code=code, message=reason.encode())
                if native.close_code is not None:
                    self.close_code = native.close_code
            else:  # the close frame goes out, the answer is not awaited
                with contextlib.suppress(TimeoutError, aiohttp.ClientError, ConnectionError, RuntimeError):
                    await asyncio.wait_for(native.close(code=code, message=reason.encode()), _NO_WAIT)
                self.abort()
        self._reader.cancel()  # it may wait for room in a full queue nobody reads any more
        await asyncio.gather(self._reader, return_exceptions=True)

    def abort(self) -> None:
        self._reader.cancel()
        response = self._native._response
        connection = response.connection
        if connection is not None:
            connection.close()
        response.close()
        if self.close_code is None:
            self.close_code = ABNORMAL_CLOSURE
