"""``client.blocking``: the same client for synchronous code (scripts, REPLs, magics, callbacks).

Each call runs the client's coroutine through ``kclient.run``, so it works with no loop
running and inside a running Jupyter kernel, sharing the client's connections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from ._runner import run

if TYPE_CHECKING:
    from types import TracebackType

    from ._client import HttpClient
    from ._event_source import EventSource, EventSourceOptions
    from ._models import Response
    from ._request_options import RequestOptions, URLInput
    from ._sse import ServerSentEvent

__all__ = ["BlockingClient", "BlockingEventSource"]


class BlockingClient:
    """Synchronous view of an ``HttpClient``: same methods, results returned directly."""

    __slots__ = ("client",)

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def request(self, method: str, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        """Send a request and return the read response (see ``HttpClient.request``)."""
        return run(self.client.request(method, url, **options))

    def get(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("GET", url, **options)

    def post(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("POST", url, **options)

    def put(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("PUT", url, **options)

    def patch(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("PATCH", url, **options)

    def delete(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("DELETE", url, **options)

    def head(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("HEAD", url, **options)

    def options(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("OPTIONS", url, **options)

    def sse(self, url: URLInput, **options: Unpack[EventSourceOptions]) -> BlockingEventSource:
        """``with client.blocking.sse(url) as events: for event in events:`` (see ``HttpClient.sse``)."""
        return BlockingEventSource(self.client.sse(url, **options))

    def join(self, timeout: float | None = None) -> None:
        """Wait for the client to finish closing; ``TimeoutError`` after ``timeout`` seconds."""

        import anyio

        async def join_within() -> None:
            with anyio.fail_after(timeout):
                await self.client.join()

        run(join_within())

    def __repr__(self) -> str:
        return f"<blocking view of {self.client!r}>"


class BlockingEventSource:
    """``client.blocking.sse(url)``: an ``EventSource`` for synchronous code, event by event.

    Its attributes (``events``, ``reconnects``, ``last_event_id``, ``response``) are the
    source's; each event is read by ``kclient.run``, so the stream stays on one loop.
    """

    __slots__ = ("source",)

    def __init__(self, source: EventSource) -> None:
        self.source = source

    def __enter__(self) -> BlockingEventSource:
        run(self.source.__aenter__())
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        run(self.source.__aexit__(exc_type, exc, tb))

    def __iter__(self) -> BlockingEventSource:
        return self

    def __next__(self) -> ServerSentEvent:
        async def next_event() -> ServerSentEvent | None:
            try:
                return await self.source.__anext__()
            except StopAsyncIteration:
                return None

        event = run(next_event())
        if event is None:
            raise StopIteration
        return event

    def close(self) -> None:
        """End the stream (``with`` does it on exit)."""
        run(self.source.aclose())

    def __getattr__(self, name: str) -> object:
        return getattr(self.source, name)

    def __repr__(self) -> str:
        return f"<blocking view of {self.source!r}>"
