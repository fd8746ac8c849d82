"""Bodies kept aside and given back: a response whose stream keeps what it gives (``teed``),
and a response answered from kept chunks (``kept_response``). The Record plugin (cassettes) and
the HttpCache plugin share them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence

from ._errors import ResponseNotReadError
from ._models import Request, Response, ResponseStream

__all__ = ["STREAM_MEDIA", "TRANSFER_HEADERS", "Kept", "is_stream", "kept_response", "teed"]

#: Headers of the transfer, not of the body kept (which is decoded): left out of what is kept.
TRANSFER_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"})
#: Media types of bodies that are streams of items (events, JSON lines): kept chunk by chunk
#: by a cassette, never by a cache.
STREAM_MEDIA = frozenset({"text/event-stream", "application/x-ndjson", "application/jsonl", "application/json-seq"})

#: Told once the body is complete: the whole body and its chunks (seconds since the start, piece).
Kept = Callable[[bytes, list[tuple[float, bytes]]], None]


def is_stream(response: Response) -> bool:
    """Is ``response``'s body a stream of items (``STREAM_MEDIA``)?"""
    return (response.headers.get("Content-Type") or "").partition(";")[0].strip().lower() in STREAM_MEDIA


def kept_response(
    request: Request,
    status: int,
    headers: Iterable[tuple[str, str]],
    chunks: Sequence[tuple[float, bytes]],
    *,
    reason: str | None,
    http_version: str,
    source: str,
    timing: bool = False,
) -> Response:
    """A response to ``request`` built from kept parts (decoded body, so without the transfer
    headers), its body given chunk by chunk (with the kept pauses when ``timing``)."""
    from multidict import CIMultiDict

    with_length = CIMultiDict(headers)
    with_length["Content-Length"] = str(sum(len(piece) for _, piece in chunks))
    response = Response(
        status,
        request=request,
        headers=with_length,
        reason=reason or None,
        http_version=http_version,
        stream=_Chunks(chunks, timing=timing),
    )
    response.source = source
    return response


class _Chunks:
    """A kept body as a response stream: its chunks, optionally at their kept times."""

    def __init__(self, chunks: Iterable[tuple[float, bytes]], *, timing: bool) -> None:
        self._chunks = list(chunks)
        self._timing = timing

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        started = time.monotonic()
        for at, piece in self._chunks:
            if self._timing:
                wait = at - (time.monotonic() - started)
                if wait > 0:
                    import anyio

                    await anyio.sleep(wait)
            if piece:
                yield piece

    async def aclose(self) -> None:
        self._chunks = []


def teed(response: Response, done: Kept, *, keep_up_to: int | None = None, whole_only: bool = False) -> Response:
    """``response``, its stream now keeping what it gives and telling ``done`` once, at the end
    of the body or when it is closed first (a stream the caller stopped: what came is kept).

    With ``keep_up_to``, a body that grows past that many bytes is let go (memory stays bounded)
    and ``done`` is not told; with ``whole_only``, nor is it for a body closed before its end.
    A body handed over already read is told at once."""
    if not response.wrap_stream(lambda stream: _Tee(stream, done, keep_up_to, whole_only)) and response.is_closed:
        try:
            body = response.content
        except ResponseNotReadError:  # closed before it was read: nothing whole to keep
            return response
        if keep_up_to is None or len(body) <= keep_up_to:
            done(body, [(0.0, body)])
    return response


class _Tee:
    """An engine's stream that keeps what it gives (an iterator of its own, not a generator:
    leaving early leaves nothing for the garbage collector to finalize)."""

    def __init__(self, stream: ResponseStream, done: Kept, keep_up_to: int | None, whole_only: bool) -> None:
        self._stream = stream
        self._source: AsyncIterator[bytes] | None = None
        self._done: Kept | None = done
        self._chunks: list[tuple[float, bytes]] = []
        self._kept = 0
        self._keep_up_to = keep_up_to
        self._whole_only = whole_only
        self._closed = False
        self._started = time.perf_counter()

    def __aiter__(self) -> _Tee:
        self._source = self._stream.__aiter__()
        return self

    async def __anext__(self) -> bytes:
        assert self._source is not None
        try:
            piece = await self._source.__anext__()
        except StopAsyncIteration:
            self._whole_only = False  # the body is whole
            self._finish()
            raise
        if self._done is not None:
            self._kept += len(piece)
            if self._keep_up_to is not None and self._kept > self._keep_up_to:
                self._done = None
                self._chunks = []
            else:
                self._chunks.append((time.perf_counter() - self._started, piece))
        return piece

    def _finish(self) -> None:
        done, self._done = self._done, None
        if done is not None:
            done(b"".join(piece for _, piece in self._chunks), self._chunks)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            source, self._source = self._source, None
            closer = getattr(source, "aclose", None)
            if closer is not None:
                await closer()
            await self._stream.aclose()
        finally:
            if self._whole_only:
                self._done = None
            self._finish()
