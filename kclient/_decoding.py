"""Content decoders for response bodies: gzip and deflate always, br and zstd when installed.

Every engine decodes with these (none lets its library decode), so every engine has the same
codings and the same guard: a decoder makes its output in pieces of at most ``_PIECE`` bytes
and counts each against the request's ``DecompressionGuard`` before making the next, so a
decompression bomb is stopped after a few MiB, not after it filled the memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from ._errors import DecodingError, ResponseTooLargeError
from ._limits import DecompressionGuard

if TYPE_CHECKING:
    from ._models import Request

__all__ = ["Decoder", "accept_encoding", "decoder_for"]

#: The most decoded bytes made in one step, before the guard counts them.
_PIECE = 1 << 20
#: Compressed bytes fed to a decoder that cannot bound its output by itself (zstd) in one step:
#: zstd expands a block of a few bytes to at most 128 KiB, so a step makes at most a few MiB.
_ZSTD_FEED = 512


class Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Zlib:
    """gzip and deflate: zlib bounds each step's output (``max_length``) and says what it consumed."""

    __slots__ = ("_first", "_guard", "_obj", "_raw_fallback")

    def __init__(self, wbits: int, guard: DecompressionGuard, raw_fallback: bool = False) -> None:
        self._obj = zlib.decompressobj(wbits)
        self._guard = guard
        self._raw_fallback = raw_fallback
        self._first = True

    def decode(self, data: bytes) -> bytes:
        try:
            return self._decode(data)
        except zlib.error as exc:
            if self._first and self._raw_fallback:  # "deflate" sent without its zlib header, as some servers do
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                self._raw_fallback = False
                return self.decode(data)
            raise DecodingError(f"The response body is not valid compressed data: {exc}") from exc

    def _decode(self, data: bytes) -> bytes:
        obj, guard = self._obj, self._guard
        pieces = []
        while True:
            piece = obj.decompress(data, _PIECE)
            self._first = False
            rest = obj.unconsumed_tail
            guard.count(len(data) - len(rest), len(piece))
            pieces.append(piece)
            if not rest and len(piece) < _PIECE:
                break
            data = rest
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def flush(self) -> bytes:
        try:
            tail = self._decode(b"")  # what zlib still holds, in bounded pieces
        except zlib.error as exc:
            raise DecodingError(f"The response body is not valid compressed data: {exc}") from exc
        return tail + self._obj.flush()


class _Brotli:
    """br: brotli takes the input whole and gives its output in bounded pieces (brotli >= 1.2)."""

    __slots__ = ("_guard", "_obj")

    def __init__(self, guard: DecompressionGuard) -> None:
        import brotli

        self._obj = brotli.Decompressor()
        self._guard = guard

    def decode(self, data: bytes) -> bytes:
        obj, guard = self._obj, self._guard
        pieces = []
        try:
            # Fed in steps of at most _PIECE so that what the guard counts as consumed is close to the truth.
            for start in range(0, len(data), _PIECE):
                chunk = data[start : start + _PIECE]
                piece = obj.process(chunk, output_buffer_limit=_PIECE)
                guard.count(len(chunk), len(piece))
                pieces.append(piece)
                self._drain(pieces)
        except (DecodingError, ResponseTooLargeError):
            raise
        except Exception as exc:
            raise DecodingError(f"The response body is not valid brotli data: {exc}") from exc
        return b"".join(pieces)

    def _drain(self, pieces: list[bytes]) -> None:
        """Take the output brotli holds back past ``output_buffer_limit``, a bounded piece at a time."""
        obj, guard = self._obj, self._guard
        while not obj.is_finished():
            piece = obj.process(b"", output_buffer_limit=_PIECE)
            if not piece:
                return  # it needs more input
            guard.count(0, len(piece))
            pieces.append(piece)

    def flush(self) -> bytes:
        return b""


class _Zstd:
    """zstd: zstandard's streaming decompressor, fed small steps (it has no output bound of its own)."""

    __slots__ = ("_decompress", "_guard")

    def __init__(self, guard: DecompressionGuard) -> None:
        import zstandard

        self._decompress: Callable[[bytes], bytes] = zstandard.ZstdDecompressor().decompressobj().decompress
        self._guard = guard

    def decode(self, data: bytes) -> bytes:
        decompress, guard = self._decompress, self._guard
        pieces = []
        try:
            for start in range(0, len(data), _ZSTD_FEED):
                chunk = data[start : start + _ZSTD_FEED]
                piece = decompress(chunk)
                guard.count(len(chunk), len(piece))
                pieces.append(piece)
        except (DecodingError, ResponseTooLargeError):
            raise
        except Exception as exc:
            raise DecodingError(f"The response body is not valid zstd data: {exc}") from exc
        return b"".join(pieces)

    def flush(self) -> bytes:
        return b""


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _brotli_bounded() -> bool:
    """True when brotli is installed and can bound its output (1.2 and newer); older ones are not used."""
    if not _available("brotli"):
        return False
    import brotli

    return hasattr(brotli.Decompressor, "can_accept_more_data")


_OPTIONAL: dict[str, Callable[[], bool]] = {"br": _brotli_bounded, "zstd": lambda: _available("zstandard")}


def accept_encoding() -> str:
    """The Accept-Encoding value every engine sends: what kclient can decode here."""
    codings = ["gzip", "deflate"] + [name for name, present in _OPTIONAL.items() if present()]
    return ", ".join(codings)


def decoder_for(content_encoding: str | None, request: Request) -> Decoder | None:
    """A decoder for a Content-Encoding value, guarded by ``request``'s limits; ``None`` for a body sent as is."""
    if not content_encoding:
        return None
    coding = content_encoding.strip().lower()
    if coding in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS, DecompressionGuard(request))
    if coding == "deflate":
        return _Zlib(zlib.MAX_WBITS, DecompressionGuard(request), raw_fallback=True)
    if coding == "br" and _brotli_bounded():
        return _Brotli(DecompressionGuard(request))
    if coding == "zstd" and _available("zstandard"):
        return _Zstd(DecompressionGuard(request))
    return None
