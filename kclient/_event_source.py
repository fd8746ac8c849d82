"""``client.sse(url)``: a Server-Sent Events stream, reconnected as the HTML standard describes.

Each connection is a streamed request of the client's (``HttpClient._stream``; a GET unless
``method=`` says otherwise), so it has the client's engine, plugins, lifecycle and limits: it
counts as in flight, ``cancel()`` ends it with ``ClientCancelledError``, and a closing client
lets it run to its end but does not reconnect it. ``timeout`` bounds connecting and the head;
the socket timeout bounds each wait for more bytes and ends the stream with ``SocketTimeout``
(no reconnection: the server is there but silent).

When a stream drops (the server ends it, or a read fails with ``ReadError`` or
``ProtocolError``), the source waits the reconnection time (the server's last ``retry``, else
``reconnect_delay``), sends ``Last-Event-ID`` when it knows one and resumes. At most
``max_reconnects`` attempts follow one another without an event in between (0: never
reconnect); then ``EventStreamError`` says so, its ``__cause__`` the last failure. A 204
answer ends the stream; another status that is not 2xx raises its ``ResponseError``; a
``Content-Type`` other than ``text/event-stream`` raises ``EventStreamError``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Unpack

from ._errors import (
    ClientCancelledError,
    ConfigError,
    EventStreamError,
    KClientError,
    KClientTimeoutError,
    ProtocolError,
    ReadError,
    TransportError,
)
from ._request_options import RequestOptions
from ._sse import DEFAULT_MAX_EVENT_SIZE, EventStreamParser, ServerSentEvent
from ._states import ClientState

if TYPE_CHECKING:
    from ._client import HttpClient
    from ._lifecycle import ClientStatus
    from ._models import Response
    from ._request_options import URLInput

__all__ = ["EventSource", "EventSourceOptions", "Reconnection"]

#: Seconds before a reconnection until the server sends ``retry`` (the standard leaves it to
#: the user agent; browsers wait about 3 s).
DEFAULT_RECONNECT_DELAY = 3.0
#: Reconnection attempts in a row without an event, by default.
DEFAULT_MAX_RECONNECTS = 5

#: What reconnects: the stream dropped. Timeouts are not in it (the server is silent, not gone).
_DROPS = (ReadError, ProtocolError)


class EventSourceOptions(RequestOptions, total=False):
    """``client.sse(url, **options)``: the request options of ``get``, and these.

    ``method`` (GET unless told: a language-model API takes a POST with a JSON body, sent
    again on each reconnection), ``reconnect_delay`` seconds before a reconnection (the
    server's ``retry`` replaces it), ``max_reconnects`` attempts in a row without an event (0: never reconnect),
    ``on_reconnect`` called with a ``Reconnection`` before each wait, ``last_event_id`` to
    resume from, ``max_event_size`` characters of one line or event (``ResponseTooLargeError``
    beyond).
    """

    method: str
    reconnect_delay: float
    max_reconnects: int
    on_reconnect: Callable[[Reconnection], object]
    last_event_id: str
    max_event_size: int


_OWN = frozenset({"method", "reconnect_delay", "max_reconnects", "on_reconnect", "last_event_id", "max_event_size"})


@dataclass(frozen=True, slots=True)
class Reconnection:
    """One reconnection about to happen: the ``attempt`` in a row (from 1), the source's
    ``count`` of reconnections so far including this one, the ``delay`` it waits (seconds), the
    ``last_event_id`` it sends, and the ``error`` that dropped the stream (None: the server
    ended it)."""

    attempt: int
    count: int
    delay: float
    last_event_id: str
    error: KClientError | None


class EventSource:
    """An open Server-Sent Events stream: ``async for event in source`` gives each ``ServerSentEvent``.

    ``response`` is the current connection's response, ``events`` the events received,
    ``reconnects`` the reconnections made, ``last_event_id`` and ``reconnect_delay`` (seconds)
    what the next reconnection uses.
    """

    def __init__(self, client: HttpClient, url: URLInput, options: EventSourceOptions) -> None:
        given: dict[str, Any] = dict(options)
        own = {name: given.pop(name) for name in _OWN & set(given)}
        from ._request_builder import CORE_OPTIONS

        client._check_request_options({k: v for k, v in given.items() if k not in CORE_OPTIONS}, also=_OWN)
        self._client = client
        self._url = url
        self._options: dict[str, Any] = given
        self.reconnect_delay = _seconds(own.get("reconnect_delay", DEFAULT_RECONNECT_DELAY))
        self.max_reconnects = _count("max_reconnects", own.get("max_reconnects", DEFAULT_MAX_RECONNECTS))
        self.max_event_size = _count("max_event_size", own.get("max_event_size", DEFAULT_MAX_EVENT_SIZE))
        method = own.get("method", "GET")
        if not isinstance(method, str) or not method.isalpha():
            raise ConfigError(f"method= is an HTTP method such as GET or POST, not {method!r}.")
        self._method = method.upper()
        content = given.get("content")
        if content is not None and not isinstance(content, (bytes, bytearray, str)):
            raise ConfigError(
                "client.sse sends its body again on each reconnection: content= is bytes or str here, "
                f"not {type(content).__name__}."
            )
        self._on_reconnect: Callable[[Reconnection], object] | None = own.get("on_reconnect")
        if self._on_reconnect is not None and not callable(self._on_reconnect):
            raise ConfigError(f"on_reconnect= is a function of a Reconnection, not {self._on_reconnect!r}.")
        last = own.get("last_event_id", "")
        if not isinstance(last, str) or any(c in last for c in "\0\r\n"):
            raise ConfigError(f"last_event_id= is a string without NUL, CR or LF, not {last!r}.")
        self.last_event_id: str = last
        self.response: Response | None = None
        self.events = 0
        self.reconnects = 0
        self._attempts = 0  # reconnections in a row without an event
        self._pending: deque[ServerSentEvent] = deque()
        self._parser: EventStreamParser | None = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._stack: AsyncExitStack | None = None
        self._done = False

    # -- the context manager and the iterator ------------------------------------------------
    async def __aenter__(self) -> EventSource:
        await self._connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._close_stream(exc_type, exc, tb)
        self._done = True

    async def aclose(self) -> None:
        """End the stream and release its connection (``async with`` does it on exit)."""
        await self.__aexit__(None, None, None)

    def __aiter__(self) -> EventSource:
        return self

    async def __anext__(self) -> ServerSentEvent:
        while not self._pending:
            if self._done:
                raise StopAsyncIteration
            if self._chunks is None:
                await self._reconnect(None)
                continue
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                await self._reconnect(None)
                continue
            except _DROPS as exc:
                await self._reconnect(exc)
                continue
            assert self._parser is not None
            self._pending.extend(self._parser.feed(chunk))
            self.last_event_id = self._parser.last_event_id
            if self._parser.retry is not None:
                self.reconnect_delay = self._parser.retry / 1000
        self.events += 1
        self._attempts = 0
        return self._pending.popleft()

    # -- connections -------------------------------------------------------------------------
    async def _connect(self) -> None:
        """Open one connection; the source is done after a 204."""
        from multidict import CIMultiDict

        from ._client import _build_request

        headers: CIMultiDict[str] = CIMultiDict(self._options.get("headers") or {})
        headers.setdefault("Accept", "text/event-stream")
        headers.setdefault("Cache-Control", "no-store")
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        request = _build_request(self._method, self._url, {**self._options, "headers": headers}, self._client.base_url)  # type: ignore[typeddict-item]
        stack = AsyncExitStack()
        response = await stack.enter_async_context(self._client._stream(request, read_budget=False))
        self._stack, self.response = stack, response
        if response.status == 204:
            await self.aclose()
            return
        if not 200 <= response.status < 300:
            try:
                response.raise_for_status()
            finally:
                await self.aclose()
        media_type = response.headers.get("Content-Type", "").partition(";")[0].strip().lower()
        if media_type != "text/event-stream":
            await self.aclose()
            raise EventStreamError(
                f"{response.request.method} {_shown(response)} answered {response.status} with Content-Type "
                f"{response.headers.get('Content-Type', '(none)')!r}, not text/event-stream: not an event stream."
            )
        self._parser = EventStreamParser(
            last_event_id=self.last_event_id, max_event_size=self.max_event_size, url=_shown(response)
        )
        self._chunks = response.aiter_bytes().__aiter__()

    async def _reconnect(self, error: KClientError | None) -> None:
        """The stream dropped: reconnect after the delay, or end, or raise."""
        await self._close_stream(None, None, None)
        while True:
            if self.max_reconnects == 0:
                self._done = True
                if error is not None:
                    raise error
                return
            if self._client.state is not ClientState.ACTIVE:
                self._stopped(error)
                return
            if self._attempts >= self.max_reconnects:
                self._done = True
                raise EventStreamError(
                    f"The event stream from {_shown(self.response) if self.response else self._url} dropped "
                    f"and {self._attempts} reconnections in a row brought no event; giving up "
                    "(max_reconnects= sets how many)."
                ) from error
            self._attempts += 1
            self.reconnects += 1
            if self._on_reconnect is not None:
                self._on_reconnect(
                    Reconnection(self._attempts, self.reconnects, self.reconnect_delay, self.last_event_id, error)
                )
            if await self._wait(self.reconnect_delay):
                self._stopped(error)
                return
            try:
                await self._connect()
                return
            except (ClientCancelledError, KClientTimeoutError):
                raise
            except TransportError as exc:  # not there yet: the next attempt
                error = exc

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; True as soon as the client leaves ACTIVE (closing or cancelled)."""
        import anyio

        stopped = anyio.Event()

        def watch(status: ClientStatus) -> None:
            if status.state is not ClientState.ACTIVE:
                stopped.set()

        unsubscribe = self._client.on_state_change(watch)
        try:
            with anyio.move_on_after(seconds):
                await stopped.wait()
        finally:
            unsubscribe()
        return stopped.is_set()

    def _stopped(self, error: KClientError | None) -> None:
        """The client is closing (end quietly) or cancelled (raise ``ClientCancelledError``)."""
        self._done = True
        if self._client.state is ClientState.CANCELLED:
            raise ClientCancelledError(f"The event stream from {self._url} ended: its client was cancelled.") from error

    async def _close_stream(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stack, self._stack, self._chunks = self._stack, None, None
        if stack is not None:
            await stack.__aexit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        state = "ended" if self._done else "open"
        return (
            f"<EventSource {_shown(self.response) if self.response else self._url} {state} "
            f"events={self.events} reconnects={self.reconnects}>"
        )


def _shown(response: Response | None) -> str:
    from ._redact import mask_url

    return "" if response is None else str(mask_url(response.request.url))


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 86_400:
        raise ConfigError(f"reconnect_delay= is a number of seconds from 0 to 86400, not {value!r}.")
    return float(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name}= is a whole number, 0 or more, not {value!r}.")
    return value


def sse(client: HttpClient, url: URLInput, **options: Unpack[EventSourceOptions]) -> EventSource:
    """``client.sse`` as a function."""
    return EventSource(client, url, options)
