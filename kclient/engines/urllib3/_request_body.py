"""Streamed request bodies: an async iterable is sent chunked, never buffered, the worker thread pulling
each piece from the event loop with ``anyio.from_thread.run``; an error of the body comes back as
``_BodyFailed`` and a cancelled request stops at its next piece."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import anyio
import anyio.from_thread

from ._worker import _Abandoned, _BodyFailed, _Call

__all__ = ["_close_iterator", "_pull"]


async def _next_piece(call: _Call, iterator: AsyncIterator[bytes]) -> bytes | None:
    try:
        piece = await iterator.__anext__()
    except StopAsyncIteration:
        return None
    if call.abandoned:
        # The request was cancelled while this piece was being made: its task could not close the
        # body then (aclose() of a running generator raises), so it is closed here (trio would report
        # a generator left to the garbage collector).
        await _close_iterator(iterator)
    return piece


def _pull(call: _Call, iterator: AsyncIterator[bytes]) -> Iterator[bytes]:
    """A request body for urllib3 (on the worker thread), each piece pulled from the event loop."""
    while True:
        if call.abandoned:
            raise _Abandoned("the request was cancelled while its body was being sent")
        try:
            piece = anyio.from_thread.run(_next_piece, call, iterator)
        except Exception as exc:
            raise _BodyFailed(exc) from exc
        if piece is None:
            return
        if piece:
            yield bytes(piece)


async def _close_iterator(iterator: AsyncIterator[bytes]) -> None:
    closer = getattr(iterator, "aclose", None)
    if closer is not None:
        with anyio.CancelScope(shield=True), contextlib.suppress(RuntimeError):
            await closer()
