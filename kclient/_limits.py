"""How much a response body may make kclient hold: bounds set by the client, never by the server.

Two bounds, both in ``BodyLimits``:

* ``max_body_size``: the most bytes a *buffered* body may have after decoding (``client.get``,
  ``response.aread()``, hence ``.content``, ``.text``, ``.json()``). A streamed body read with
  ``aiter_bytes()`` is not capped: the caller holds only one chunk at a time.
* the decompression guard: a body whose decoded size passes ``decompression_floor`` and
  ``max_decompression_ratio`` times the compressed bytes consumed so far is a decompression
  bomb, and its read stops, streamed or not. Decoders produce their output in bounded pieces
  (``_decoding``), so the guard stops a bomb before it is expanded in memory.

A Content-Length is only a server's word: a buffer is never sized from it beyond
``PRESIZE_LIMIT`` (growth follows the bytes that arrive), and a declared length over
``max_body_size`` fails at once. Either bound raises ``ResponseTooLargeError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._describe import describe
from ._errors import ResponseTooLargeError
from ._redact import mask_url
from ._settings import setting

if TYPE_CHECKING:
    from ._models import Request

__all__ = ["DEFAULT_LIMITS", "PRESIZE_LIMIT", "BodyLimits", "DecompressionGuard", "body_too_large"]

MiB = 1024 * 1024

#: The largest buffer presized from a declared Content-Length (a larger body grows as it arrives).
PRESIZE_LIMIT = 4 * MiB


@dataclass(frozen=True, slots=True, kw_only=True)
class BodyLimits:
    """Bounds on response bodies: set with ``c.limits(...)`` in the configure block.

    ``max_body_size`` is also a per-request option: ``client.get(url, max_body_size=2**30)``.
    """

    max_body_size: int | None = setting(
        256 * MiB,
        "Most bytes of a buffered body (.content, .text, .json(), aread()), after decoding; None: no limit. "
        "Streamed bodies (aiter_bytes) are not capped.",
        minimum=0,
    )
    max_decompression_ratio: float | None = setting(
        100.0,
        "Most decoded bytes per compressed byte once past decompression_floor; None: no guard.",
        minimum=1.0,
    )
    decompression_floor: int = setting(
        16 * MiB, "Decoded bytes below which the decompression ratio is not checked.", minimum=0
    )


#: The limits of a client that sets none (shared: ``BodyLimits`` is immutable).
DEFAULT_LIMITS = BodyLimits()


def body_too_large(request: Request, size: int, *, declared: bool = False) -> ResponseTooLargeError:
    """The error for a buffered body past ``max_body_size`` (``size``: what arrived, or what was declared)."""
    limit = request.limits.max_body_size
    what = f"declares a body of {size:,} bytes" if declared else f"sent more than {limit:,} bytes of body"
    return ResponseTooLargeError(
        f"The answer to {describe(request)} {what}, over max_body_size={limit:,}. Read it in chunks with "
        "`async with client.stream(...) as r: async for chunk in r.aiter_bytes()`, or raise the limit: "
        "max_body_size=... on the request, or c.limits(max_body_size=...) in the configure block (None: no limit).",
        limit_name="max_body_size",
        limit=limit,
        url=mask_url(request.url),
    )


class DecompressionGuard:
    """Counts a body's compressed and decoded bytes and stops a decompression bomb."""

    __slots__ = ("_consumed", "_floor", "_produced", "_ratio", "_request")

    def __init__(self, request: Request) -> None:
        limits = request.limits
        self._request = request
        self._ratio = limits.max_decompression_ratio
        self._floor = limits.decompression_floor
        self._consumed = 0
        self._produced = 0

    def count(self, consumed: int, produced: int) -> None:
        """Add ``consumed`` compressed and ``produced`` decoded bytes; raise when past the bounds."""
        self._consumed += consumed
        total = self._produced = self._produced + produced
        ratio = self._ratio
        if ratio is not None and total > self._floor and total > ratio * self._consumed:
            raise ResponseTooLargeError(
                f"The body of {describe(self._request)} expands from {self._consumed:,} compressed bytes to over "
                f"{total:,} (more than max_decompression_ratio={ratio:g} past {self._floor:,} bytes): "
                "it looks like a decompression bomb, so the read was stopped. If the data is genuine, raise the "
                "limit with c.limits(max_decompression_ratio=...) in the configure block (None: no guard).",
                limit_name="max_decompression_ratio",
                limit=ratio,
                url=mask_url(self._request.url),
            )
