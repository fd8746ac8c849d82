"""The Mock engine: answers requests from handler functions and records the exchange.

For tests and offline notebooks; ``HttpClient()`` never picks it by itself::

    engine = Mock(lambda request: respond({"ok": True}))
    client = HttpClient(engine)

Handlers (sync or async functions of the ``Request``) are used in order, one per
request. When they run out, the last one keeps answering (``reuse_handlers=True``,
the default) or the request fails with ``UnhandledRequestError`` naming it.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._describe import describe
from .._engine import Capabilities, Engine, EngineConfig
from .._errors import ConfigError, UnhandledRequestError
from .._models import Request, Response
from .._settings import setting

if TYPE_CHECKING:
    from .._sse import ServerSentEvent

__all__ = [
    "Mock",
    "MockAnswer",
    "MockConfig",
    "respond",
    "respond_bad_request",
    "respond_error",
    "respond_events",
    "respond_ok",
    "respond_redirect",
]


@dataclass(frozen=True, slots=True)
class MockAnswer:
    """What a handler answers: status, headers and body, turned into a ``Response`` by the engine."""

    status: int = 200
    content: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


MockHandler = Callable[[Request], "MockAnswer | Response | Awaitable[MockAnswer | Response]"]


def _handlers(value: Any) -> tuple[MockHandler, ...]:
    items = (value,) if callable(value) else tuple(value)
    for item in items:
        if not callable(item):
            raise ConfigError(f"a handler is a function of the request, not {item!r}")
    return items


@dataclass(frozen=True, kw_only=True)
class MockConfig(EngineConfig):
    handlers: tuple[MockHandler, ...] = setting(
        (), "Functions of the request that answer it, used in order.", convert=_handlers
    )
    reuse_handlers: bool = setting(True, "When handlers run out, keep using the last one (else fail).")


def respond(
    content: bytes | str | dict[str, Any] | list[Any] = b"",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> MockAnswer:
    """An answer with ``content`` (a dict or list is sent as JSON), ``status`` and ``headers``."""
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"A mock status must be an integer from 100 to 599, not {status!r}.")
    head = dict(headers or {})
    if isinstance(content, (dict, list)):
        body = jsonlib.dumps(content).encode()
        head.setdefault("Content-Type", "application/json")
    elif isinstance(content, str):
        body = content.encode()
        head.setdefault("Content-Type", "text/plain; charset=utf-8")
    else:
        body = bytes(content)
    return MockAnswer(status, body, tuple(head.items()))


def respond_ok(content: bytes | str | dict[str, Any] | list[Any] = b"") -> MockAnswer:
    """A 200 OK answer."""
    return respond(content, 200)


def respond_error(status: int = 500, content: bytes | str | dict[str, Any] | list[Any] = b"") -> MockAnswer:
    """An error answer (500 unless told otherwise)."""
    return respond(content, status)


def respond_bad_request(content: bytes | str | dict[str, Any] | list[Any] = b"") -> MockAnswer:
    """A 400 Bad Request answer."""
    return respond(content, 400)


def respond_redirect(location: str, status: int = 302) -> MockAnswer:
    """A redirect to ``location`` (302 unless told otherwise)."""
    if not 300 <= status <= 399:
        raise ValueError(f"A redirect status is from 300 to 399, not {status!r}.")
    return respond(b"", status, {"Location": location})


def respond_events(
    *events: ServerSentEvent | str | dict[str, Any] | list[Any],
    retry: int | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> MockAnswer:
    """A ``text/event-stream`` answer: each event a ``ServerSentEvent``, a string (its data) or a
    dict or list (its data as JSON); ``retry`` (milliseconds) first when given. The stream then
    ends, so ``client.sse`` reconnects unless told not to (``max_reconnects=0``)."""
    from .._sse import ServerSentEvent, encode_event

    body = [b"" if retry is None else f"retry: {retry}\n\n".encode()]
    for item in events:
        if isinstance(item, ServerSentEvent):
            body.append(encode_event(item.data, event=item.event, id=item.id or None, retry=item.retry))
        else:
            body.append(encode_event(item if isinstance(item, str) else jsonlib.dumps(item)))
    head = {"Content-Type": "text/event-stream", "Cache-Control": "no-store", **(headers or {})}
    return respond(b"".join(body), status, head)


class _BytesStream:
    def __init__(self, content: bytes) -> None:
        self._content = content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # Once across iterators, as a body on the wire: a second aiter_bytes() goes on from the first.
        content, self._content = self._content, b""
        if content:
            yield content

    async def aclose(self) -> None:
        self._content = b""


class Mock(Engine):
    """Answers from handlers; ``request_history`` and ``response_history`` record every exchange."""

    name = "Mock"
    capabilities = Capabilities(streaming=True)
    config_class = MockConfig
    auto_select = False
    config: MockConfig

    def __init__(self, *handlers: MockHandler | MockConfig | Mapping[str, Any], **settings: Any) -> None:
        # Mock(handler, ...) as well as the engine contract's Mock(config, **settings).
        config = handlers[0] if handlers and isinstance(handlers[0], (EngineConfig, Mapping)) else None
        functions = handlers[1:] if config is not None else handlers
        super().__init__(config, **settings)
        if functions:  # after the configured handlers
            self._add_handlers(functions)
        self.request_history: list[Request] = []
        self.response_history: list[Response] = []
        self._answered = 0

    def add_handler(self, handler: MockHandler) -> None:
        """Append a handler after the configured ones."""
        self._add_handlers((handler,))

    def _add_handlers(self, handlers: tuple[Any, ...]) -> None:
        config = type(self).make_config(self.config, handlers=(*self.config.handlers, *handlers))
        assert isinstance(config, MockConfig)
        self.config = config

    async def send(self, request: Request) -> Response:
        if not isinstance(request.content, bytes):
            request.content = b"".join([chunk async for chunk in request.content])
        self.request_history.append(request)
        handler = self._next_handler(request)
        answer = handler(request)
        if isinstance(answer, Awaitable):
            answer = await answer
        response = self._to_response(request, answer)
        self.response_history.append(response)
        return response

    def _next_handler(self, request: Request) -> MockHandler:
        handlers = self.config.handlers
        index = self._answered
        self._answered += 1
        if index < len(handlers):
            return handlers[index]
        if handlers and self.config.reuse_handlers:
            return handlers[-1]
        why = "it has no handlers" if not handlers else f"its {len(handlers)} handler(s) are used up"
        raise UnhandledRequestError(
            f"Mock engine cannot answer {describe(request)}: {why}. "
            "Add one with Mock(handler) or engine.add_handler(handler)."
        )

    @staticmethod
    def _to_response(request: Request, answer: Any) -> Response:
        if isinstance(answer, Response):
            return answer
        if not isinstance(answer, MockAnswer):
            raise TypeError(f"A Mock handler must return respond(...) or a Response, not {type(answer).__name__}.")
        from multidict import CIMultiDict

        headers = CIMultiDict(answer.headers)
        headers.setdefault("Content-Length", str(len(answer.content)))
        return Response(answer.status, request=request, headers=headers, stream=_BytesStream(answer.content))

    def reset_history(self) -> None:
        """Forget recorded requests and responses (handlers start again from the first)."""
        self.request_history.clear()
        self.response_history.clear()
        self._answered = 0
