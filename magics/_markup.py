"""The pieces every display of the magics is written with: sizes and durations for people
(``format_size``, ``format_elapsed``), HTML escaping for element content and attributes, the
shared inline styles (monospace, preformatted, dimmed), and ``_Rendered``, one part of a
display in both its forms (plain text and HTML).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

__all__ = ["format_elapsed", "format_size"]

_MONO = "font-family:var(--jp-code-font-family,monospace);font-size:var(--jp-code-font-size,12px)"
_PRE_STYLE = f"{_MONO};white-space:pre-wrap;word-break:break-all;margin:0.3em 0"
_DIM = "opacity:0.65"


# -- formatting --------------------------------------------------------------------------------------


def format_size(size: int) -> str:
    """``size`` bytes for people: ``512 B``, ``1.2 KiB``, ``64 KiB``, ``100 MiB`` (no decimal when exact)."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    if value == int(value):
        return f"{int(value)} {unit}"
    return f"{value:.1f} {unit}"


def format_elapsed(seconds: float) -> str:
    """A duration for people: ``12.3 ms`` under a second, else ``1.23 s``."""
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def _escape(text: str) -> str:
    """Escape ``text`` for element content (``<``, ``>``, ``&``; quotes need no escaping there)."""
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    """Escape ``text`` for a double-quoted attribute value."""
    return html.escape(text, quote=True)


@dataclass(frozen=True, slots=True)
class _Rendered:
    """One part of the display in both forms."""

    text: str
    html: str


_EMPTY = _Rendered("", "")
