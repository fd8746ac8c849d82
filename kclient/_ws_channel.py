"""The WebSocket contract between the client and an engine: settings, a channel, close codes.

An engine that can open WebSockets declares ``Capabilities(websockets=True)`` and implements
``Engine.websocket(request, settings)``: it sends ``request`` (a GET, already through the
client's plugins: auth, cookies and default headers are on it) as an upgrade handshake and
returns the server's answer. On ``101 Switching Protocols`` it hands over a ``WebSocketChannel``
too; on any other status, the answer alone (its body read, bounded), so that plugins see a
401 or a redirect as they see any other answer.

A channel moves whole messages (``str`` for text, ``bytes`` for binary). It answers pings by
itself, bounds what it holds (``max_message_size``, ``receive_queue`` messages, then it stops
reading: the server's writes wait) and ends with a close handshake bounded by ``close_timeout``.
The session the user holds (``_websocket.WebSocketSession``) adds JSON, iteration and the
client's lifecycle on top.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import ConfigError, ResponseTooLargeError, WebSocketClosedError
from ._redact import mask_url
from ._settings import setting

if TYPE_CHECKING:
    from ._models import Request

__all__ = [
    "HANDSHAKE_ATTRIBUTE",
    "ABNORMAL_CLOSURE",
    "GOING_AWAY",
    "MESSAGE_TOO_BIG",
    "NORMAL_CLOSURE",
    "PROTOCOL_ERROR",
    "WebSocketChannel",
    "WebSocketSettings",
]

#: The attribute set on a WebSocket handshake request, so that plugins can tell it from a plain GET
#: (the engine adds the Upgrade headers itself, below the plugins).
HANDSHAKE_ATTRIBUTE = "websocket_handshake"

#: Close codes (RFC 6455, 7.4.1) kclient uses.
NORMAL_CLOSURE = 1000
GOING_AWAY = 1001
PROTOCOL_ERROR = 1002
#: Never sent: what a session reports when the connection dropped without a close frame.
ABNORMAL_CLOSURE = 1006
MESSAGE_TOO_BIG = 1009

#: 16 MiB: what one message may hold by default (as ``max_event_size`` for an SSE event).
DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
#: The most of a refused handshake's body an engine reads (for the error's excerpt).
REJECTED_BODY_LIMIT = 64 * 1024


def _subprotocols(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v and v.isprintable() for v in value):
        raise ConfigError(f"subprotocols= is a list of names such as ['graphql-transport-ws'], not {value!r}.")
    return tuple(value)


@dataclass(frozen=True, kw_only=True)
class WebSocketSettings:
    """What a session may hold and how it closes: ``client.websocket(url, **settings)``."""

    subprotocols: tuple[str, ...] = setting(
        (),
        "Subprotocols offered to the server, most wanted first; session.subprotocol is its pick.",
        convert=_subprotocols,
    )
    max_message_size: int | None = setting(
        DEFAULT_MAX_MESSAGE_SIZE,
        "Bytes one received message may hold (None: no limit); past it the session closes with 1009.",
        minimum=1,
    )
    receive_queue: int = setting(
        64, "Messages received and not yet read; when full the engine stops reading.", minimum=1, maximum=1 << 20
    )
    close_timeout: float = setting(
        5.0, "Seconds the close handshake may take before the connection is dropped.", minimum=0, maximum=3600
    )
    compression: bool = setting(True, "Offer permessage-deflate (RFC 7692) where the engine supports it.")


class WebSocketChannel(abc.ABC):
    """One open WebSocket connection, as an engine hands it over after the handshake.

    ``subprotocol`` is the one the server chose (None: none), ``extensions`` the names of the
    negotiated extensions. Once closed, ``close_code`` and ``close_reason`` say how.
    """

    subprotocol: str | None = None
    extensions: tuple[str, ...] = ()
    close_code: int | None = None
    close_reason: str = ""

    def __init__(self, request: Request, settings: WebSocketSettings) -> None:
        self.request = request
        self.settings = settings

    @abc.abstractmethod
    async def receive(self) -> str | bytes:
        """The next message; ``WebSocketClosedError`` once the session is closed and drained,
        ``ResponseTooLargeError`` for a message past ``max_message_size`` (the session is then closed)."""

    @abc.abstractmethod
    async def send(self, data: str | bytes) -> None:
        """Send one message (text for ``str``, binary for ``bytes``); waits while the socket's buffer is full."""

    @abc.abstractmethod
    async def ping(self, payload: bytes) -> None:
        """Send a ping and wait for its pong."""

    @abc.abstractmethod
    async def close(self, code: int, reason: str, *, wait: bool = True) -> None:
        """The close handshake: send a close frame, wait (``close_timeout`` at most, and only with
        ``wait``) for the peer's, then release the connection. Idempotent."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Release the connection at once, without a close handshake."""

    # -- shared by the engines' channels ----------------------------------------------------
    def closed_error(self) -> WebSocketClosedError:
        """The error ``receive()`` and ``send()`` raise once the session is closed."""
        code = self.close_code if self.close_code is not None else ABNORMAL_CLOSURE
        how = "dropped without a close frame (1006)" if code == ABNORMAL_CLOSURE else f"closed with code {code}"
        reason = f": {self.close_reason}" if self.close_reason else ""
        return WebSocketClosedError(
            f"The WebSocket to {ws_url(self.request)} is {how}{reason}.", code=code, reason=self.close_reason
        )

    def too_large(self, size: int) -> ResponseTooLargeError:
        """The error for a message of ``size`` bytes (at least) past ``max_message_size``."""
        limit = self.settings.max_message_size
        url = ws_url(self.request)
        return ResponseTooLargeError(
            f"A message from {url} holds more than max_message_size={limit} bytes ({size} so far); "
            "the session was closed with 1009. Raise it with client.websocket(url, max_message_size=...).",
            limit_name="max_message_size",
            limit=limit,
            url=url,
        )


def ws_url(request: Request) -> str:
    """The handshake request's URL as a ``ws://`` or ``wss://`` URL, secrets masked."""
    url = request.url
    return mask_url(url.with_scheme("wss" if url.scheme == "https" else "ws"))


def handshake_headers(request: Request) -> list[tuple[str, str]]:
    """The request's own headers for the handshake, without those the WebSocket protocol library
    writes itself (the engines' libraries refuse or duplicate them)."""
    return [(name, value) for name, value in request.headers.items() if name.lower() not in _PROTOCOL_HEADERS]


_PROTOCOL_HEADERS = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
        "content-length",
        "transfer-encoding",
        "accept-encoding",
    }
)
