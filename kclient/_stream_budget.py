"""The request timeout of a streamed response: a budget spent inside the exchange only.

``client.get(url, timeout=t)`` bounds connecting, sending, the head and reading the body by
``t`` seconds together. ``client.stream(...)`` gives the same bound to the same steps, but
the caller's own code runs between them (between reads of the body): its time is not the
exchange's, so the clock runs only while kclient waits for the server. ``TimedBody`` wraps
the engine's body stream and runs each read under what is left of the budget.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from ._errors import KClientError
from ._models import ResponseStream

__all__ = ["TimedBody"]


class TimedBody:
    """An engine's body stream whose reads share ``seconds`` of budget; past it, ``timed_out()`` is raised."""

    __slots__ = ("_chunks", "_closed", "_left", "_source", "_timed_out")

    def __init__(self, source: ResponseStream, seconds: float, timed_out: Callable[[], KClientError]) -> None:
        self._source = source
        self._left = seconds
        self._timed_out = timed_out
        self._chunks: AsyncIterator[bytes] | None = None
        self._closed = False

    def __aiter__(self) -> TimedBody:
        if self._chunks is None:
            self._chunks = self._source.__aiter__()
        return self

    async def __anext__(self) -> bytes:
        import anyio

        chunks = self._chunks
        if chunks is None:
            chunks = self._chunks = self._source.__aiter__()
        started = time.perf_counter()
        with anyio.move_on_after(max(self._left, 0.0)) as deadline:
            try:
                return await chunks.__anext__()
            finally:
                self._left -= time.perf_counter() - started
        assert deadline.cancelled_caught
        raise self._timed_out()

    async def aclose(self) -> None:
        """Close the engine's iterator and stream, once (the response closes both through here)."""
        if self._closed:
            return
        self._closed = True
        chunks, self._chunks = self._chunks, None
        closer = getattr(chunks, "aclose", None)
        if closer is not None and chunks is not self._source:  # type: ignore[comparison-overlap]
            await closer()
        await self._source.aclose()
