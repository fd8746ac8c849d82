"""kclient's exception tree: every error kclient raises has one root, ``KClientError``.

::

    KClientError
    ├── ClientClosedError            (RuntimeError)   request sent to a closing/closed client
    ├── ClientCancelledError                          the client was cancelled under the request
    ├── ConfigError                  (ValueError)     bad setting, bad plugin option, bad engine
    │   ├── EngineNotFoundError      (LookupError)    no engine of that name, or none installed
    │   └── UnsupportedSettingError                   the engine cannot do what was asked
    ├── InvalidRequestError          (ValueError)     a request that cannot be sent (URL, body, headers)
    ├── TransportError               (OSError)        the exchange with the server failed
    │   ├── ConnectError             (ConnectionError)
    │   │   └── TLSError                                  TLS handshake or certificate verification failed
    │   ├── ProxyError
    │   ├── ProtocolError                             the peer broke HTTP
    │   ├── ReadError / WriteError
    │   └── KClientTimeoutError      (TimeoutError)
    │       ├── ConnectTimeout
    │       │   └── PoolTimeout                      no pooled connection came free in time (Httpx)
    │       ├── RequestTimeout
    │       └── SocketTimeout
    ├── ResponseError                                 raised by ``raise_for_status()`` / ``expect_success``
    │   ├── RedirectResponseError                     3xx
    │   │   └── TooManyRedirectsError                 more redirects than ``max_redirects``
    │   ├── ClientResponseError                        4xx
    │   └── ServerResponseError                       5xx
    ├── ResponseNotReadError         (RuntimeError)   body of a streamed response used before reading
    ├── ResponseTooLargeError                         a body past max_body_size, or a decompression bomb
    ├── EventStreamError                              a Server-Sent Events stream that cannot go on
    ├── WebSocketError                                a WebSocket session failed
    │   ├── WebSocketHandshakeError                   the server refused the upgrade (status, masked URL)
    │   ├── WebSocketClosedError                      the session is closed: the peer's code, 1006 when it dropped
    │   └── WebSocketProtocolError   (ProtocolError)  the peer broke RFC 6455
    ├── DecodingError                (ValueError)     body is not valid JSON / text
    ├── UnhandledRequestError        (LookupError)    the Mock engine has no handler for a request
    └── CassetteError                                 a cassette cannot be read or written, or cannot replay
        └── UnrecordedRequestError   (LookupError)    replaying, a request that was not recorded

Engines translate their library's exceptions into this tree and keep the original
as ``__cause__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ._models import Response

__all__ = [
    "CassetteError",
    "ClientCancelledError",
    "ClientClosedError",
    "ClientResponseError",
    "ConfigError",
    "ConnectError",
    "ConnectTimeout",
    "DecodingError",
    "EngineNotFoundError",
    "EventStreamError",
    "InvalidRequestError",
    "KClientError",
    "KClientTimeoutError",
    "PoolTimeout",
    "ProtocolError",
    "ProxyError",
    "ReadError",
    "RedirectResponseError",
    "RequestTimeout",
    "ResponseError",
    "ResponseNotReadError",
    "ResponseTooLargeError",
    "ServerResponseError",
    "SocketTimeout",
    "TLSError",
    "TooManyRedirectsError",
    "TransportError",
    "UnhandledRequestError",
    "UnrecordedRequestError",
    "UnsupportedSettingError",
    "WebSocketClosedError",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WebSocketProtocolError",
    "WriteError",
]

E = TypeVar("E", bound=BaseException)


class KClientError(Exception):
    """Root of every error kclient raises: ``except KClientError`` catches them all."""


class ClientClosedError(KClientError, RuntimeError):
    """A request was started on a client that is closing or closed: create a new client."""


class ClientCancelledError(KClientError):
    """The client was cancelled (``client.cancel()``) while this request was in flight."""


class ConfigError(KClientError, ValueError):
    """A setting, plugin option or engine choice is invalid; the message says what is allowed."""


class EngineNotFoundError(ConfigError, LookupError):
    """No engine of that name is registered, or no engine's dependencies are installed."""


class UnsupportedSettingError(ConfigError):
    """The chosen engine cannot do what a setting asks (HTTP/2, pipelining, a proxy kind...)."""


class InvalidRequestError(KClientError, ValueError):
    """The request cannot be sent as given (bad URL, conflicting body arguments, bad header)."""


class TransportError(KClientError, OSError):
    """The exchange with the server failed below HTTP: connecting, sending or receiving."""

    def __init__(self, message: str = "") -> None:
        # OSError's constructor interprets two arguments as (errno, strerror); keep one message.
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConnectError(TransportError, ConnectionError):
    """The connection to the server (or proxy) could not be opened."""


class TLSError(ConnectError):
    """The TLS handshake failed or the server's certificate could not be verified (the message says why)."""


class ProxyError(TransportError):
    """The proxy refused the request or answered with an error."""


class ProtocolError(TransportError):
    """The peer sent something that is not valid HTTP."""


class ReadError(TransportError):
    """Reading from the connection failed (reset, closed early)."""


class WriteError(TransportError):
    """Writing to the connection failed."""


class KClientTimeoutError(TransportError, TimeoutError):
    """A timeout configured on the client, the engine or the request expired."""


class ConnectTimeout(KClientTimeoutError):
    """The connection was not established within the connect timeout."""


class PoolTimeout(ConnectTimeout):
    """No connection of the engine's pool came free within the connect timeout (Httpx's pool
    timeout): every connection was busy, and none could be opened beside them. It is a
    ``ConnectTimeout`` for code that catches those; raise ``max_connections`` or send fewer
    requests at once. The other engines report a busy pool as a plain ``ConnectTimeout``
    (aiohttp's connect timeout counts the wait for a pooled connection too)."""


class RequestTimeout(KClientTimeoutError):
    """The whole request (send and receive) took longer than the request timeout."""


class SocketTimeout(KClientTimeoutError):
    """No data moved on the connection for longer than the socket timeout."""


class ResponseError(KClientError):
    """The server answered with a status that was not expected (see ``expect_success``)."""

    def __init__(self, message: str, *, response: Response, body_excerpt: str = "") -> None:
        super().__init__(message)
        #: The response, body included when it was read.
        self.response = response
        #: The start of the body as text (bounded), for messages and displays.
        self.body_excerpt = body_excerpt

    @property
    def status(self) -> int:
        """The response's status code."""
        return self.response.status


class RedirectResponseError(ResponseError):
    """The server answered 3xx and the redirect was not followed."""


class TooManyRedirectsError(RedirectResponseError):
    """More redirects in a row than ``HttpRedirect``'s ``max_redirects``; ``response`` is the last one."""


class ClientResponseError(ResponseError):
    """The server answered 4xx, RFC 9110's client-error class: it refused the request as sent (or unauthorized).

    Its former name, ``ClientRequestError``, read as bad input beside ``InvalidRequestError``; it
    still works, with a ``DeprecationWarning``.
    """


class ServerResponseError(ResponseError):
    """The server answered 5xx: the server failed."""


class ResponseNotReadError(KClientError, RuntimeError):
    """A streamed response's body was used before ``await response.aread()``."""


class ResponseTooLargeError(KClientError):
    """A body grew past a limit of the client's (``max_body_size``, ``max_decompression_ratio``).

    The message says how to read the body in chunks or raise the limit; the connection was
    released or closed, so the client goes on.
    """

    def __init__(self, message: str, *, limit_name: str, limit: float | None, url: str) -> None:
        super().__init__(message)
        #: The name of the limit that was passed (``"max_body_size"`` or ``"max_decompression_ratio"``).
        self.limit_name = limit_name
        #: Its value.
        self.limit = limit
        #: The request's URL, secrets masked.
        self.url = url


class EventStreamError(KClientError):
    """A Server-Sent Events stream that cannot go on: the answer is not ``text/event-stream``,
    or it dropped and ``max_reconnects`` reconnections in a row brought no event."""


class WebSocketError(KClientError):
    """A WebSocket session could not open or go on (``client.websocket``)."""


class WebSocketHandshakeError(WebSocketError):
    """The server answered the upgrade request with something other than ``101 Switching Protocols``.

    ``response`` is its answer (its ``status``, headers and the start of its body); ``url`` the
    request's URL with secrets masked.
    """

    def __init__(self, message: str, *, response: Response, url: str) -> None:
        super().__init__(message)
        #: The server's answer to the upgrade request.
        self.response = response
        #: The request's URL, secrets masked.
        self.url = url

    @property
    def status(self) -> int:
        """The status of the server's answer."""
        return self.response.status


class WebSocketClosedError(WebSocketError):
    """The session is closed: ``code`` is the peer's close code (1006 when the connection dropped
    without a close frame), ``reason`` its text. Raised by ``receive()`` and ``send()`` after the
    close, and by ``async for`` when the close code is not a normal one (1000, 1001)."""

    def __init__(self, message: str, *, code: int, reason: str = "") -> None:
        super().__init__(message)
        #: The close code (RFC 6455, 7.4): 1000 normal, 1001 going away, 1006 dropped...
        self.code = code
        #: The close reason the peer sent.
        self.reason = reason


class WebSocketProtocolError(WebSocketError, ProtocolError):
    """The peer broke the WebSocket protocol (a bad frame, invalid UTF-8 in a text message...);
    the session was closed with the matching close code."""


class DecodingError(KClientError, ValueError):
    """The response body could not be decoded as asked (JSON, text)."""


class UnhandledRequestError(KClientError, LookupError):
    """The Mock engine has no handler left for a request."""


class CassetteError(KClientError):
    """A cassette (``kclient.plugins.record``) cannot be read or written, or cannot replay a request."""


class UnrecordedRequestError(CassetteError, LookupError):
    """Replaying, a request that the cassette does not hold; ``request`` is it (``METHOD url``,
    masked) and ``closest`` the recorded request most like it (``None`` for an empty cassette)."""

    def __init__(self, message: str, *, request: str, closest: str | None) -> None:
        super().__init__(message)
        self.request = request
        self.closest = closest


def find_cause(exc: BaseException, kind: type[E] | tuple[type[E], ...]) -> E | None:
    """The first exception of ``kind`` in ``exc``'s chain: itself, then its ``__cause__`` or ``__context__``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
