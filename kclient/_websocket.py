"""``client.websocket(url)``: a WebSocket session with the client's plugins and lifecycle.

The handshake is a GET of the client's: it goes through ``_prepare`` (default request,
user agent, timeouts) and the plugins' send chain (auth, cookies, logging, redirects,
retries), with the engine's ``websocket`` in place of ``send`` at its core. ``ws://`` and
``wss://`` URLs are sent as ``http://`` and ``https://`` (RFC 6455, 3), so cookies, proxies
and TLS settings apply as to any request. The request timeout bounds the handshake.

An open session counts as in flight: ``close()`` lets it run until it ends, ``cancel()``
closes it at once with 1001 (going away) and its readers raise ``ClientCancelledError``.
Leaving ``async with`` closes it with 1000, or 1001 when the block raised.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ._errors import (
    ClientCancelledError,
    DecodingError,
    InvalidRequestError,
    SocketTimeout,
    WebSocketClosedError,
    WebSocketError,
    WebSocketHandshakeError,
)
from ._request_options import RequestOptions
from ._states import ClientState
from ._ws_channel import GOING_AWAY, HANDSHAKE_ATTRIBUTE, NORMAL_CLOSURE, WebSocketChannel, WebSocketSettings, ws_url

if TYPE_CHECKING:
    import asyncio

    from ._client import HttpClient
    from ._lifecycle import ClientStatus
    from ._models import Request, Response
    from ._request_options import URLInput

__all__ = ["WebSocketOptions", "WebSocketSession", "open_session"]


class WebSocketOptions(RequestOptions, total=False):
    """``client.websocket(url, **options)``: the request options of ``get`` (``headers``,
    ``params``, ``timeout`` for the handshake, plugins' options) without a body, and the
    session's own: ``subprotocols`` offered, ``max_message_size`` bytes of one received message
    (``ResponseTooLargeError`` beyond, None: no limit), ``receive_queue`` messages held unread
    before the engine stops reading, ``close_timeout`` seconds for the close handshake,
    ``compression`` (offer permessage-deflate; True)."""

    subprotocols: Sequence[str] | str
    receive_queue: int
    close_timeout: float
    compression: bool
    max_message_size: int | None


_OWN = frozenset({"subprotocols", "max_message_size", "receive_queue", "close_timeout", "compression"})
_BODIES = ("json", "data", "files", "content")
#: Close codes after which ``async for`` ends quietly (the others raise ``WebSocketClosedError``).
_NORMAL_ENDS = frozenset({NORMAL_CLOSURE, GOING_AWAY})


class WebSocketSession:
    """An open WebSocket: ``await ws.send("hi")``, ``await ws.receive()``, ``async for message in ws``.

    A message is a ``str`` (text) or ``bytes`` (binary). ``subprotocol`` is the server's pick,
    ``response`` its ``101`` answer, ``sent`` and ``received`` count messages; once closed,
    ``close_code`` and ``close_reason`` say how.
    """

    def __init__(self, channel: WebSocketChannel, response: Response) -> None:
        self._channel = channel
        #: The server's answer to the handshake (``101 Switching Protocols``, its headers).
        self.response = response
        #: The session's URL (``ws://`` or ``wss://``), secrets masked.
        self.url = ws_url(channel.request)
        self.sent = 0
        self.received = 0
        self.opened_at = time.monotonic()
        self._cancelled = False
        self._closing: set[asyncio.Task[None]] = set()

    # -- what it is -------------------------------------------------------------------------
    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose among those offered, or None."""
        return self._channel.subprotocol

    @property
    def extensions(self) -> tuple[str, ...]:
        """The negotiated extensions (``("permessage-deflate",)`` when compressed)."""
        return self._channel.extensions

    @property
    def closed(self) -> bool:
        """True once the session is closed (by either side, or dropped)."""
        return self._channel.close_code is not None

    @property
    def close_code(self) -> int | None:
        """The close code once closed (1006: dropped without a close frame), else None."""
        return self._channel.close_code

    @property
    def close_reason(self) -> str:
        """The close reason once closed."""
        return self._channel.close_reason

    @property
    def settings(self) -> WebSocketSettings:
        """The session's bounds: ``max_message_size``, ``receive_queue``, ``close_timeout``..."""
        return self._channel.settings

    # -- sending ----------------------------------------------------------------------------
    async def send(self, data: str | bytes | bytearray | memoryview) -> None:
        """Send one message: text for ``str``, binary for bytes. ``WebSocketClosedError`` once closed."""
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if not isinstance(data, (str, bytes)):
            raise InvalidRequestError(
                f"A WebSocket message is str (text) or bytes (binary), not {type(data).__name__}: "
                "use send_json() for other values."
            )
        try:
            await self._channel.send(data)
        except WebSocketClosedError as exc:
            if self._cancelled:
                raise self._cancelled_error() from exc
            raise
        self.sent += 1

    async def send_json(self, value: Any) -> None:
        """Send ``value`` as JSON text."""
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidRequestError(f"This value cannot be sent as JSON: {exc}.") from exc
        await self.send(text)

    async def ping(self, payload: bytes = b"") -> float:
        """Send a ping, wait for its pong; returns the round trip in seconds."""
        started = time.perf_counter()
        try:
            await self._channel.ping(payload)
        except WebSocketClosedError as exc:
            if self._cancelled:
                raise self._cancelled_error() from exc
            raise
        return time.perf_counter() - started

    # -- receiving --------------------------------------------------------------------------
    async def receive(self, *, timeout: float | None = None) -> str | bytes:
        """The next message. ``WebSocketClosedError`` once closed, ``SocketTimeout`` after
        ``timeout`` seconds without one, ``ClientCancelledError`` when the client was cancelled."""
        try:
            if timeout is None:
                message = await self._channel.receive()
            else:
                import anyio

                with anyio.move_on_after(timeout) as scope:
                    message = await self._channel.receive()
                if scope.cancelled_caught:
                    raise SocketTimeout(f"No message from {self.url} within {timeout} s.")
        except WebSocketClosedError as exc:
            if self._cancelled:
                raise self._cancelled_error() from exc
            raise
        self.received += 1
        return message

    async def receive_text(self, *, timeout: float | None = None) -> str:
        """The next message, which must be text (``WebSocketError`` for a binary one)."""
        message = await self.receive(timeout=timeout)
        if not isinstance(message, str):
            raise WebSocketError(f"{self.url} sent a binary message of {len(message)} bytes where text was expected.")
        return message

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """The next message, which must be binary (``WebSocketError`` for a text one)."""
        message = await self.receive(timeout=timeout)
        if not isinstance(message, bytes):
            raise WebSocketError(f"{self.url} sent a text message where binary was expected: {_excerpt(message)!r}")
        return message

    async def receive_json(self, *, timeout: float | None = None) -> Any:
        """The next message parsed as JSON (text or UTF-8 binary); ``DecodingError`` when it is not."""
        message = await self.receive(timeout=timeout)
        try:
            return json.loads(message)
        except ValueError as exc:
            shown = message if isinstance(message, str) else repr(message[:80])
            raise DecodingError(f"A message from {self.url} is not JSON ({exc}): {_excerpt(shown)!r}") from exc

    def __aiter__(self) -> WebSocketSession:
        return self

    async def __anext__(self) -> str | bytes:
        """Messages until the session closes: quietly on 1000 or 1001, else ``WebSocketClosedError``."""
        try:
            return await self.receive()
        except WebSocketClosedError as exc:
            if exc.code in _NORMAL_ENDS:
                raise StopAsyncIteration from None
            raise

    # -- closing ----------------------------------------------------------------------------
    async def close(self, code: int = NORMAL_CLOSURE, reason: str = "") -> None:
        """Close with ``code`` and ``reason`` (the close handshake, ``close_timeout`` at most)."""
        _check_close(code, reason)
        await self._channel.close(code, reason)

    def _on_status(self, status: ClientStatus) -> None:
        """The client's listener: a cancelled client closes the session now, with 1001."""
        if status.state is not ClientState.CANCELLED or self._cancelled:
            return
        self._cancelled = True
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._channel.abort()
            return
        task = loop.create_task(self._channel.close(GOING_AWAY, "client cancelled", wait=False))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _cancelled_error(self) -> ClientCancelledError:
        return ClientCancelledError(f"The client was cancelled while the WebSocket to {self.url} was open.")

    def __repr__(self) -> str:
        state = "open" if not self.closed else f"closed {self.close_code}"
        protocol = f" subprotocol={self.subprotocol!r}" if self.subprotocol else ""
        return f"<WebSocketSession {self.url} {state}{protocol} sent={self.sent} received={self.received}>"


def _check_close(code: int, reason: str) -> None:
    # RFC 6455, 7.4: 1000, 1001-1003, 1007-1014 and 3000-4999 may be sent; 1004-1006 and 1015 never.
    sendable = code == NORMAL_CLOSURE or 1001 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
    if isinstance(code, bool) or not isinstance(code, int) or not sendable:
        raise InvalidRequestError(
            f"Close code {code!r} cannot be sent: use 1000 (normal), 1001 (going away), 1002-1003, "
            "1007-1014, or 3000-4999 for your own."
        )
    if not isinstance(reason, str) or len(reason.encode()) > 123:
        raise InvalidRequestError("A close reason is text of at most 123 bytes in UTF-8.")


def _excerpt(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"


def _websocket_settings(own: dict[str, Any]) -> WebSocketSettings:
    from ._settings import build_settings

    return build_settings(WebSocketSettings, own, owner="client.websocket")


def _http_url(url: URLInput) -> URLInput:
    """``ws://`` as ``http://`` and ``wss://`` as ``https://``: the handshake is an HTTP request."""
    from yarl import URL

    target = url if isinstance(url, URL) else URL(url) if isinstance(url, str) else None
    if target is None:
        return url
    scheme = {"ws": "http", "wss": "https"}.get(target.scheme)
    return target.with_scheme(scheme) if scheme is not None else url


def _handshake_request(
    client: HttpClient, url: URLInput, options: WebSocketOptions
) -> tuple[Request, WebSocketSettings]:
    given: dict[str, Any] = dict(options)
    own = {name: given.pop(name) for name in _OWN & set(given)}
    body = [name for name in _BODIES if name in given]
    if body:
        raise InvalidRequestError(
            f"A WebSocket handshake has no body: {body[0]}= is not taken; send messages once it is open."
        )
    from ._client import _build_request
    from ._request_builder import CORE_OPTIONS

    client._check_request_options({k: v for k, v in given.items() if k not in CORE_OPTIONS}, also=_OWN)
    settings = _websocket_settings(own)
    return _build_request("GET", _http_url(url), given, client.base_url), settings  # type: ignore[arg-type]


@asynccontextmanager
async def open_session(client: HttpClient, url: URLInput, options: WebSocketOptions) -> AsyncIterator[WebSocketSession]:
    """The body of ``client.websocket``: handshake, session, close, lifecycle."""
    request, settings = _handshake_request(client, url, options)
    request = client._prepare(request)
    request.attributes = {**(request.attributes or {}), HANDSHAKE_ATTRIBUTE: True}
    lifecycle = client._lifecycle
    from ._describe import describe

    scope = lifecycle.begin(lambda: f"the WebSocket {describe(request)}")
    ok = False
    try:
        with scope:
            session = await _handshake(client, request, settings)
            unsubscribe = client.on_state_change(session._on_status)
            failed = True
            try:
                yield session
                failed = False
            finally:
                unsubscribe()
                if failed or scope.cancel_called:
                    await session._channel.close(GOING_AWAY, "", wait=False)
                else:
                    await _close_shielded(session)
        if scope.cancelled_caught:
            url = ws_url(request)
            raise ClientCancelledError(f"{client.name} was cancelled while the WebSocket to {url} was open.")
        ok = True
    finally:
        if lifecycle.end(scope, ok=ok):
            await lifecycle.release()


async def _close_shielded(session: WebSocketSession) -> None:
    import anyio

    with anyio.CancelScope(shield=True):
        await session._channel.close(NORMAL_CLOSURE, "")


async def _handshake(client: HttpClient, request: Request, settings: WebSocketSettings) -> WebSocketSession:
    """Send the handshake through the plugins, within the request timeout; the session on 101."""
    import math

    import anyio

    opened: dict[int, WebSocketChannel] = {}
    engine = client.engine

    async def upgrade(attempt: Request) -> Response:
        response, channel = await engine.websocket(attempt, settings)
        if channel is not None:
            opened[id(response)] = channel
        return response

    limit = request.timeouts.request
    try:
        with anyio.move_on_after(limit if limit is not None else math.inf) as deadline:
            response = await client._upgrade_call(request, upgrade)
        if deadline.cancelled_caught:
            raise client._timed_out(request)
        channel = opened.pop(id(response), None)
    finally:
        for stray in opened.values():  # answers the plugins did not hand back (a retried attempt)
            stray.abort()
    if channel is None or response.status != 101:
        if channel is not None:
            channel.abort()
        await response.aclose()
        raise _refused(response)
    return WebSocketSession(channel, response)


def _refused(response: Response) -> WebSocketHandshakeError:
    url = ws_url(response.request)
    excerpt = ""
    if response.is_closed and response.content:
        from ._charset import decode_text

        excerpt = _excerpt(" ".join(decode_text(response.content[:400], None).split()))
    detail = f": {excerpt}" if excerpt else ""
    hint = " (check the URL's path: the server has no WebSocket there)" if response.status in (200, 404) else ""
    return WebSocketHandshakeError(
        f"The server refused the WebSocket handshake for {url}: {response.status} {response.reason}{hint}{detail}",
        response=response,
        url=url,
    )
