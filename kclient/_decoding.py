"""Content decoders for response bodies: gzip and deflate always, br and zstd when installed."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Protocol

from ._errors import DecodingError

__all__ = ["Decoder", "accept_encoding", "decoder_for"]


class Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Zlib:
    __slots__ = ("_first", "_obj", "_raw_fallback")

    def __init__(self, wbits: int, raw_fallback: bool = False) -> None:
        self._obj = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback
        self._first = True

    def decode(self, data: bytes) -> bytes:
        try:
            out = self._obj.decompress(data)
        except zlib.error as exc:
            if self._first and self._raw_fallback:  # "deflate" sent without its zlib header, as some servers do
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                self._raw_fallback = False
                return self.decode(data)
            raise DecodingError(f"The response body is not valid compressed data: {exc}") from exc
        self._first = False
        return out

    def flush(self) -> bytes:
        return self._obj.flush()


class _Streaming:
    """A decoder from an optional library's streaming decompressor (brotli, zstandard)."""

    __slots__ = ("_decompress", "_name")

    def __init__(self, decompress: Callable[[bytes], bytes], name: str) -> None:
        self._decompress = decompress
        self._name = name

    def decode(self, data: bytes) -> bytes:
        try:
            return bytes(self._decompress(data))
        except Exception as exc:
            raise DecodingError(f"The response body is not valid {self._name} data: {exc}") from exc

    def flush(self) -> bytes:
        return b""


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


_OPTIONAL = {"br": "brotli", "zstd": "zstandard"}


def accept_encoding() -> str:
    """The Accept-Encoding value CIO sends: what it can decode here."""
    codings = ["gzip", "deflate"] + [name for name, module in _OPTIONAL.items() if _available(module)]
    return ", ".join(codings)


def decoder_for(content_encoding: str | None) -> Decoder | None:
    """A decoder for a Content-Encoding value, or ``None`` when the body is sent as is."""
    if not content_encoding:
        return None
    coding = content_encoding.strip().lower()
    if coding in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return _Zlib(zlib.MAX_WBITS, raw_fallback=True)
    if coding == "br" and _available("brotli"):
        import brotli

        return _Streaming(brotli.Decompressor().process, "brotli")
    if coding == "zstd" and _available("zstandard"):
        import zstandard

        return _Streaming(zstandard.ZstdDecompressor().decompressobj().decompress, "zstd")
    return None
