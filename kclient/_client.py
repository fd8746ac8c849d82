"""``HttpClient``: the client core. It owns a lifecycle, a plugin chain and an engine.

A request goes through named stages: build (``_request_builder``), prepare (plugins'
``on_request``), register (lifecycle: refused unless ACTIVE, cancellable by ``cancel()``),
the send chain (plugins' ``on_send`` around the engine, with the client's own read stage
at ``SendOrder.READ``), release (response closed, lifecycle told). The sync face is
``client.blocking``, which runs the same coroutines through ``kclient.run``.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from ._blocking import BlockingClient
from ._client_config import HttpClientConfig
from ._describe import describe
from ._engine import Engine
from ._engine_choice import EngineChoice, client_config, make_engine
from ._errors import ClientCancelledError, ConfigError, InvalidRequestError, RequestTimeout
from ._lifecycle import ClientStatus, Lifecycle, StatusListener
from ._limits import DEFAULT_LIMITS, BodyLimits, body_too_large
from ._models import Request, Response, Timeouts
from ._plugin import Plugin, Send, SendOrder, compose, overrides_send
from ._registry import EngineRegistry, default_registry
from ._request_options import PLUGIN_OPTIONS
from ._runner import run
from ._states import ClientState

if TYPE_CHECKING:
    import asyncio

    from yarl import URL

    from ._cancel import DeadlineScope
    from ._event_source import EventSource, EventSourceOptions
    from ._request_options import RequestOptions, URLInput
    from ._websocket import WebSocketOptions, WebSocketSession
    from .plugins.cookies import Cookie

__all__ = ["HttpClient"]

P = TypeVar("P", bound=Plugin)
_numbers = itertools.count(1)
#: The variable that records or replays every client of the process (``kclient.plugins.record``,
#: imported only when it is set).
CASSETTE_VARIABLE = "KCLIENT_CASSETTE"


class HttpClient:
    """An HTTP client that hands every request to a pluggable engine.

    ``HttpClient(CIO)`` creates and owns a ``CIO`` engine; ``HttpClient(engine)`` borrows an
    engine instance and never closes it; ``HttpClient()`` picks the first available engine
    in alphabetical order (never Mock). ``engine_config={...}`` sets engine settings and
    ``configure(c)`` settings, plugins and ``expect_success``; invalid ones raise ``ConfigError``.
    (``engine={...}``, the former name of ``engine_config``, still works with a ``DeprecationWarning``.)

    The client is a scope: ``close()`` refuses new requests and lets in-flight ones finish,
    ``await join()`` waits for that, ``cancel()`` halts everything; ``async with`` and
    ``with`` close and join on exit.
    """

    def __init__(
        self,
        engine_choice: EngineChoice = None,
        configure: Callable[[HttpClientConfig], None] | None = None,
        /,
        *,
        engine_config: Mapping[str, Any] | None = None,
        name: str | None = None,
        registry: EngineRegistry | None = None,
        engine: Mapping[str, Any] | None = None,
    ) -> None:
        config = client_config(engine_config, engine, configure)
        self.name = name or f"HttpClient#{next(_numbers)}"
        self._engine, self._owns_engine, self._chosen_by_default = make_engine(
            engine_choice, config.engine_settings, registry or default_registry()
        )
        if CASSETTE_VARIABLE in os.environ:
            from .plugins.record import install_from_environment

            install_from_environment(config, self._engine.name)
        self._plugins: dict[type[Plugin], Plugin] = config.installed_plugins()
        plugins = tuple(self._plugins.values())
        self._preparers = tuple(p for p in plugins if p.prepares_request())
        self._compose_chains()
        self._handled_options = frozenset(option for p in plugins for option in p.request_options)
        self._base_url = config.base_url(self._plugins)
        self._limits = config.body_limits
        engine_timeouts = self._engine.default_timeouts()
        self._engine_timeouts = engine_timeouts if engine_timeouts != Timeouts() else None
        self._lifecycle = Lifecycle(self.name, self._release)

    def _compose_chains(self) -> None:
        """The plugins' ``on_send`` chains: one for requests without per-request options, and one
        for requests with them, which also passes through the plugins that read those options
        but have nothing to do for the others (HttpCallValidator without ``expect_success``)."""
        installed = self._plugins.values()
        lean = [p for p in installed if p.intercepts_send()]
        full = [p for p in installed if p.intercepts_send() or (p.request_options and overrides_send(p))]
        self._call = self._read_chain(lean)
        self._call_with_options = self._read_chain(full)
        self._stream_call = compose(lean, self._engine.send)
        self._stream_call_with_options = compose(full, self._engine.send)
        self._send_plugins = (lean, full)

    def _read_chain(self, plugins: list[Plugin]) -> Send:
        """``plugins`` above the READ stage, around the READ stage, around those below it and the engine."""
        below = compose([p for p in plugins if p.send_order > SendOrder.READ], self._engine.send)
        return compose([p for p in plugins if p.send_order < SendOrder.READ], partial(self._read_attempt, below))

    # -- what the client is -----------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """The engine in use; ``client.engine.config`` holds its typed settings."""
        return self._engine

    @property
    def base_url(self) -> URL | None:
        """The URL relative request URLs resolve against (``DefaultRequest``'s ``url``), or None."""
        return self._base_url

    @property
    def limits(self) -> BodyLimits:
        """The bounds on response bodies (``max_body_size``, the decompression guard); set with ``c.limits(...)``."""
        return self._limits

    @property
    def owns_engine(self) -> bool:
        """True when the client created the engine and closes it; False for a lent engine."""
        return self._owns_engine

    @property
    def state(self) -> ClientState:
        """ACTIVE, CLOSING, CLOSED or CANCELLED."""
        return self._lifecycle.state

    def status(self) -> ClientStatus:
        """State plus in-flight, completed and failed request counts, as one snapshot."""
        return self._lifecycle.status()

    def on_state_change(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener(status)`` on every change of state or counts; returns ``unsubscribe()``.

        Listeners run in the event loop's thread, synchronously: keep them short.
        """
        return self._lifecycle.subscribe(listener)

    def plugin(self, plugin: type[P]) -> P:
        """The installed instance of ``plugin``; ``ConfigError`` says how to install it."""
        found = self._plugins.get(plugin)
        if found is None:
            raise ConfigError(
                f"Plugin {plugin.__name__} is not installed on {self.name}: create the client with "
                f"HttpClient(engine, lambda c: c.install({plugin.__name__}, ...))."
            )
        return found  # type: ignore[return-value]

    def cookies(self, url: URLInput) -> list[Cookie]:
        """The cookies a request to ``url`` (absolute) would carry now, in Cookie-header order.

        Needs the HttpCookies plugin; ``ConfigError`` says how to install it.
        """
        from .plugins.cookies import HttpCookies

        return self.plugin(HttpCookies).cookies(url)

    @property
    def plugins(self) -> tuple[Plugin, ...]:
        """The installed plugins, default ones included, in the order they were installed."""
        return tuple(self._plugins.values())

    @property
    def expect_success(self) -> bool:
        """True when non-2xx responses raise ``ResponseError`` (HttpCallValidator's ``expect_success``)."""
        from .plugins.validator import HttpCallValidator

        validator = self._plugins.get(HttpCallValidator)
        return isinstance(validator, HttpCallValidator) and validator.config.expect_success

    @expect_success.setter
    def expect_success(self, value: bool) -> None:
        import dataclasses

        from .plugins.validator import HttpCallValidator

        if not isinstance(value, bool):
            raise ConfigError(f"expect_success must be True or False, not {value!r}.")
        validator = self._plugins.get(HttpCallValidator)
        if not isinstance(validator, HttpCallValidator):
            raise ConfigError(f"expect_success needs the plugin HttpCallValidator, not installed on {self.name}.")
        validator.config = dataclasses.replace(validator.config, expect_success=value)
        self._compose_chains()  # the validator joins or leaves the chain of plain requests

    @property
    def blocking(self) -> BlockingClient:
        """The same client for synchronous code: ``client.blocking.get(url)``."""
        return BlockingClient(self)

    # -- requests ---------------------------------------------------------------------------
    async def request(self, method: str, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        """Send a request and return the response with its body read.

        Raises ``InvalidRequestError`` for bad input, ``ClientClosedError`` after ``close()``,
        ``ClientCancelledError`` when ``cancel()`` interrupts it, ``TransportError`` subclasses
        for network failures and, with ``expect_success``, ``ResponseError`` subclasses.
        """
        # The same stages as stream() below, written out flat: this is the measured hot path,
        # and a shared generator-based context manager costs several microseconds a request.
        request = self._prepare(_build_request(method, url, options, self._base_url))
        scope = self._lifecycle.begin(lambda: describe(request))
        ok = False
        try:
            with scope:
                call = self._call if request.attributes is None else self._call_with_options
                response = await call(request)
            if scope.cancelled_caught:
                raise self._cancelled(request)
            ok = True
            return response
        finally:
            if self._lifecycle.end(scope, ok=ok):
                await self._lifecycle.release()

    async def get(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        """Send a GET request (see ``request``)."""
        return await self.request("GET", url, **options)

    async def post(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        """Send a POST request (see ``request``)."""
        return await self.request("POST", url, **options)

    async def put(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        """Send a PUT request (see ``request``)."""
        return await self.request("PUT", url, **options)

    async def patch(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        """Send a PATCH request (see ``request``)."""
        return await self.request("PATCH", url, **options)

    async def delete(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        """Send a DELETE request (see ``request``)."""
        return await self.request("DELETE", url, **options)

    async def head(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        """Send a HEAD request (see ``request``)."""
        return await self.request("HEAD", url, **options)

    async def options(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        """Send an OPTIONS request (see ``request``)."""
        return await self.request("OPTIONS", url, **options)

    @asynccontextmanager
    async def stream(self, method: str, url: URLInput, **options: Unpack[RequestOptions]) -> AsyncIterator[Response]:
        """``async with client.stream("GET", url) as response:`` with the body not yet read.

        Read it with ``async for chunk in response.aiter_bytes()`` or ``await response.aread()``;
        the connection is released when the block exits. Raises as ``request`` does. A request
        timeout bounds connecting, sending, the head and the reads of the body together, never
        the caller's code between reads; ``max_body_size`` bounds ``aread()`` only.
        """
        async with self._stream(_build_request(method, url, options, self._base_url)) as response:
            yield response

    def sse(self, url: URLInput, **options: Unpack[EventSourceOptions]) -> EventSource:
        """``async with client.sse(url) as events: async for event in events:`` Server-Sent Events.

        A GET with ``Accept: text/event-stream``, read as the HTML standard's event stream, and
        reconnected when it drops (see ``EventSource`` and ``EventSourceOptions``). The request
        options are those of ``get``; ``timeout`` bounds connecting and the head, and the socket
        timeout each wait for the next bytes (``SocketTimeout``).
        """
        from ._event_source import EventSource

        return EventSource(self, url, options)

    def websocket(
        self, url: URLInput, **options: Unpack[WebSocketOptions]
    ) -> AbstractAsyncContextManager[WebSocketSession]:
        """``async with client.websocket("wss://...") as ws:`` a WebSocket session (``WebSocketSession``).

        The handshake is a GET through the client's plugins (auth, cookies, default request),
        bounded by the request timeout; ``WebSocketHandshakeError`` when the server refuses
        it. The session counts as in flight; leaving the block closes it (see
        ``WebSocketOptions`` for its bounds). Engines without WebSockets raise
        ``UnsupportedSettingError`` naming those that have them.
        """
        from ._websocket import open_session

        return open_session(self, url, options)

    def _upgrade_call(self, request: Request, upgrade: Send) -> Awaitable[Response]:
        """The plugins' send chain around ``upgrade`` (a WebSocket handshake) instead of the engine's ``send``."""
        lean, full = self._send_plugins
        return compose(lean if request.attributes is None else full, upgrade)(request)

    @asynccontextmanager
    async def _stream(self, request: Request, *, read_budget: bool = True) -> AsyncIterator[Response]:
        """``stream`` for a built request; ``read_budget=False`` leaves the body's reads unbounded
        by the request timeout (a Server-Sent Events stream lasts as long as the server wants)."""
        import anyio

        request = self._prepare(request)
        scope = self._lifecycle.begin(lambda: describe(request))
        ok = False
        try:
            with scope:
                limit = request.timeouts.request
                started = time.perf_counter()
                with anyio.move_on_after(limit if limit is not None else math.inf) as deadline:
                    call = self._stream_call if request.attributes is None else self._stream_call_with_options
                    response = await call(request)
                if deadline.cancelled_caught:
                    raise self._timed_out(request)
                response.read_as_stream()
                if limit is not None and read_budget:  # the rest of the timeout bounds the reads, not the caller's code
                    response.limit_reads(limit - (time.perf_counter() - started), partial(self._timed_out, request))
                try:
                    yield response
                finally:
                    await response.aclose()
                    response.elapsed = time.perf_counter() - started
            if scope.cancelled_caught:
                raise self._cancelled(request)
            ok = True
        finally:
            if self._lifecycle.end(scope, ok=ok):
                await self._lifecycle.release()

    # -- the stages of a request ------------------------------------------------------------
    def _prepare(self, request: Request) -> Request:
        if request.attributes is not None:
            self._check_request_options(request.attributes)
        for plugin in self._preparers:
            request = plugin.on_request(request)
        if request.limits is not DEFAULT_LIMITS or self._limits is not DEFAULT_LIMITS:
            request.limits = self._request_limits(request.limits)
        if self._engine_timeouts is not None:
            request.timeouts = request.timeouts.merged_over(self._engine_timeouts)
        return request

    def _request_limits(self, given: BodyLimits) -> BodyLimits:
        """The client's limits, with the request's own ``max_body_size`` when it set one."""
        if given is DEFAULT_LIMITS:
            return self._limits
        import dataclasses

        return dataclasses.replace(self._limits, max_body_size=given.max_body_size)

    def _check_request_options(self, attributes: Mapping[str, Any], also: frozenset[str] = frozenset()) -> None:
        """Every plugin option must be declared by an installed plugin (``Plugin.request_options``);
        ``also`` names the options of the caller (``client.sse``'s own), offered as guesses."""
        for option in attributes:
            if option in self._handled_options:
                continue
            plugin = PLUGIN_OPTIONS.get(option)
            if plugin is not None:
                raise InvalidRequestError(
                    f"{option}= is read by the plugin {plugin}, which is not installed on {self.name}: "
                    f"create the client with HttpClient(engine, lambda c: c.install({plugin}))."
                )
            raise InvalidRequestError(self._unknown_option(option, also))

    def _unknown_option(self, option: str, also: frozenset[str] = frozenset()) -> str:
        import difflib

        from ._request_builder import CORE_OPTIONS

        valid = sorted(CORE_OPTIONS | self._handled_options | also)
        guess = difflib.get_close_matches(option, [*valid, *PLUGIN_OPTIONS], n=1, cutoff=0.6)
        hint = f" (did you mean {guess[0]}=?)" if guess else ""
        return f"Unknown request option {option}={hint}; valid options on {self.name}: {', '.join(valid)}."

    def _read_attempt(self, send: Send, request: Request) -> Awaitable[Response]:
        """The READ stage: one attempt sent through ``send`` and its body read, within the request timeout.

        A plain function: without a timeout it hands over ``_send_and_read``'s coroutine, with
        no coroutine of its own around it.
        """
        timeout = request.timeouts.request
        if timeout is None:
            return self._send_and_read(send, request)
        return self._read_within(send, request, timeout)

    async def _read_within(self, send: Send, request: Request, timeout: float) -> Response:
        loop = _asyncio_loop()
        if loop is not None:
            with _deadline_scope(loop, timeout):
                return await self._send_and_read(send, request)
        else:
            import anyio

            with anyio.move_on_after(timeout):
                return await self._send_and_read(send, request)
        raise self._timed_out(request)  # reached only when the deadline cancelled the exchange

    async def _send_and_read(self, send: Send, request: Request) -> Response:
        started = time.perf_counter()
        response = await send(request)
        try:
            if not response.is_closed:
                await response.aread()
            else:  # an engine may hand over a body already read: it is bounded all the same
                limit = request.limits.max_body_size
                if limit is not None and len(response.content) > limit:
                    raise body_too_large(request, len(response.content))
        finally:
            if not response.is_closed:
                await response.aclose()
            response.elapsed = time.perf_counter() - started
        return response

    def _cancelled(self, request: Request) -> ClientCancelledError:
        return ClientCancelledError(f"{self.name} was cancelled while {describe(request)} was in flight.")

    @staticmethod
    def _timed_out(request: Request) -> RequestTimeout:
        return RequestTimeout(
            f"{describe(request)} took longer than the request timeout of {request.timeouts.request} s."
        )

    # -- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        """Stop accepting requests; in-flight ones finish, then the engine is released. Returns at once."""
        self._lifecycle.close()

    async def join(self) -> None:
        """Wait until the client is CLOSED or CANCELLED and its engine released.

        On an ACTIVE client this waits for someone to ``close()`` or ``cancel()`` it.
        """
        await self._lifecycle.join()

    def cancel(self) -> None:
        """Halt now: in-flight requests raise ``ClientCancelledError``, the engine is released."""
        self._lifecycle.cancel()

    async def _release(self) -> None:
        try:
            for plugin in self._plugins.values():
                await plugin.on_close()
        finally:
            if self._owns_engine:
                await self._engine.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
        await self.join()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
        run(self.join())

    def __repr__(self) -> str:
        status = self.status()
        how = "chosen by default" if self._chosen_by_default else ("owned" if self._owns_engine else "lent")
        return (
            f"<{self.name} engine={self._engine.name} ({how}) state={status.state} "
            f"in_flight={status.in_flight} completed={status.completed} failed={status.failed}>"
        )


def _asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop, or None (trio). Imported on first use: ``import kclient`` must
    not import asyncio; then the module global is replaced by the real functions."""
    global _asyncio_loop, _deadline_scope
    from asyncio import _get_running_loop

    from ._cancel import DeadlineScope

    _asyncio_loop, _deadline_scope = _get_running_loop, DeadlineScope
    return _get_running_loop()


def _deadline_scope(loop: asyncio.AbstractEventLoop, seconds: float) -> DeadlineScope:
    from ._cancel import DeadlineScope

    return DeadlineScope(loop, seconds)


def _build_request(method: str, url: URLInput, options: RequestOptions, base: URL | None) -> Request:
    """``_request_builder.build_request``, imported on the first request (it loads yarl and multidict)."""
    global _build_request  # noqa: PLW0603 - replaced by the real builder once loaded
    from ._request_builder import build_request

    _build_request = build_request
    return build_request(method, url, options, base)
