"""Response bodies: ``_settle`` reads a body of known length up to 64 KiB with the head, on the same
worker thread; a larger one becomes a ``_Stream``, one worker-thread step per piece, and a response
closed before its end closes its connection instead of draining it."""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import urllib3

from ..._decoding import Decoder, decoder_for
from ..._describe import describe
from ..._errors import ReadError
from ..._models import Request
from ._exceptions import map_exceptions
from ._worker import _Call

if TYPE_CHECKING:
    from ._engine import Urllib3

__all__ = ["_PIECE", "_Opened", "_Stream", "_close_native", "_close_opened", "_settle"]

#: Bodies of at most this many bytes are read with the head; larger ones stream in pieces of this size.
_PIECE = 64 * 1024


def _close_native(native: urllib3.HTTPResponse, chunks: Generator[bytes] | None = None) -> None:
    """Close a response: its connection too unless the body was read to its end (then it is back in its pool)."""
    if chunks is not None:
        with contextlib.suppress(Exception):
            chunks.close()  # urllib3's chunk reader closes the connection when left before its end
    with contextlib.suppress(Exception):
        native.close()  # closes the connection while the response still holds it (body not fully read)
    with contextlib.suppress(Exception):
        native.release_conn()  # gives the pool its slot back (the connection closed, or already returned)


@dataclass(slots=True)
class _Opened:
    """What the first thread step got: the response, and its body when it was small enough to read."""

    native: urllib3.HTTPResponse
    content: bytes | None
    decoder: Decoder | None


def _close_opened(opened: _Opened | None) -> None:
    if opened is not None:
        _close_native(opened.native)


def _settle(native: urllib3.BaseHTTPResponse, request: Request) -> _Opened:
    """Read a small or empty body at once (on the worker thread); leave a larger one to stream.

    urllib3 decodes nothing (``decode_content=False``): kclient's decoders do, with its guard.
    """
    assert isinstance(native, urllib3.HTTPResponse)
    try:
        decoder = decoder_for(native.headers.get("Content-Encoding"), request)
        length = native.length_remaining
        if length is not None and length <= _PIECE:
            content = native.read(decode_content=False)
            if decoder is not None:
                content = decoder.decode(content) + decoder.flush()
            return _Opened(native, content, None)
        return _Opened(native, None, decoder)
    except BaseException:
        _close_native(native)
        raise


class _Stream:
    """The streamed body of an answer: one worker-thread step per piece, closed explicitly."""

    __slots__ = (
        "_aborted",
        "_chunks",
        "_closed",
        "_decoder",
        "_engine",
        "_eof",
        "_handed_off",
        "_native",
        "_reading",
        "_request",
    )

    def __init__(
        self, engine: Urllib3, request: Request, native: urllib3.HTTPResponse, decoder: Decoder | None
    ) -> None:
        self._engine = engine
        self._request = request
        self._native = native
        self._decoder = decoder
        chunked = native.chunked and native.supports_chunked_reads()
        self._chunks: Generator[bytes] | None = native.read_chunked(_PIECE, decode_content=False) if chunked else None
        self._eof = False
        self._closed = False
        self._aborted = False
        #: A read was abandoned (cancelled): its thread or its task closes the response, not aclose().
        self._handed_off = False
        self._reading: _Call | None = None

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> bytes:
        if self._aborted:
            raise ReadError(
                f"Engine {self._engine.name} was closed while the body of {describe(self._request)} was read."
            )
        if self._eof or self._closed:
            raise StopAsyncIteration
        call = _Call(self._cleanup_after_abandoned_read, self._native.connection)
        self._reading = call
        try:
            with map_exceptions(self._request, secrets=self._engine._secrets):
                piece = await self._engine._run(call, self._read)
        except BaseException:
            if call.abandoned:
                self._handed_off = True
            raise
        finally:
            self._reading = None
        if not piece:
            self._eof = True
            raise StopAsyncIteration
        return piece

    def _read(self) -> bytes:
        """On a worker thread: the next piece of the body, decoded; ``b""`` at its end."""
        decoder = self._decoder
        while True:
            if self._chunks is not None:
                raw = next(self._chunks, b"")
            else:
                raw = self._native.read1(_PIECE, decode_content=False)
            if decoder is None:
                return raw
            if not raw:
                return decoder.flush()
            piece = decoder.decode(raw)
            if piece:
                return piece

    def _cleanup_after_abandoned_read(self, _piece: object) -> None:
        self._close_native()

    def _close_native(self) -> None:
        chunks, self._chunks = self._chunks, None
        _close_native(self._native, chunks)

    def abort(self) -> None:
        """The engine is closing: wake a read in progress, or close the response now."""
        self._aborted = True
        reading = self._reading
        if reading is not None:
            reading.interrupt()  # the reader fails; aclose() closes the response afterwards
        elif not self._closed:
            self._closed = True
            self._engine._streams.discard(self)
            if not self._handed_off:
                self._close_native()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._engine._streams.discard(self)
        if not self._handed_off:
            self._close_native()
