"""The table of ``%kclient history``: ``HistoryEntry``, one request the magics sent (what, when,
the status or the error, and where the answer came from), and ``history_table``, the
mimebundle with one row per request in plain text and HTML, URLs and errors masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kclient._redact import mask_credentials, mask_url_text

from ._markup import _DIM, _MONO, _escape, format_elapsed
from ._spec import RequestSpec

if TYPE_CHECKING:
    from yarl import URL

__all__ = ["HistoryEntry", "history_table"]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One request sent by the magics: ``status`` and ``elapsed`` are None when it failed with ``error``."""

    method: str
    url: str | URL
    status: int | None
    elapsed: float | None
    error: str | None
    when: datetime
    #: What was sent (for ``%kclient history --http``).
    spec: RequestSpec | None = None
    #: ``Response.source``: ``"cassette"`` or ``"cache"`` for an answer not from the network.
    source: str | None = None


def _history_row(index: int, entry: HistoryEntry) -> tuple[str, ...]:
    status = str(entry.status) if entry.status is not None else "failed"
    if entry.source is not None:
        status += f" ({entry.source})"
    elapsed = format_elapsed(entry.elapsed) if entry.elapsed is not None else "-"
    error = mask_credentials(entry.error) if entry.error else ""
    return (
        str(index),
        entry.when.strftime("%H:%M:%S"),
        entry.method,
        status,
        elapsed,
        mask_url_text(str(entry.url)),
        error,
    )


def history_table(entries: Sequence[HistoryEntry]) -> dict[str, str]:
    """The mimebundle of ``%kclient history``: one row per request, URLs and errors masked."""
    if not entries:
        return {"text/plain": "no requests yet", "text/html": f'<div style="{_DIM}">no requests yet</div>'}
    header = ("#", "time", "method", "status", "elapsed", "url", "error")
    rows = [_history_row(i, entry) for i, entry in enumerate(entries, 1)]
    has_errors = any(row[-1] for row in rows)
    columns = len(header) if has_errors else len(header) - 1
    return {
        "text/plain": _plain_table(header[:columns], [r[:columns] for r in rows]),
        "text/html": _html_table(header[:columns], [r[:columns] for r in rows]),
    }


def _plain_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cell = "text-align:left;padding:0 0.8em 0 0"
    head = "".join(f'<th style="{cell}">{_escape(name)}</th>' for name in header)
    body = "".join(
        "<tr>" + "".join(f'<td style="{cell}">{_escape(value)}</td>' for value in row) + "</tr>" for row in rows
    )
    return (
        f'<table class="kclient-history" style="border-collapse:collapse;{_MONO}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
