"""Errors of the magics: IPython ``UsageError``s, so a failing cell shows one short message
(no wall of traceback) and "Run all" stops there.

Without IPython (the console runner and the pytest plugin need only the ``.http`` parser) they
are plain exceptions of the same names.
"""

from __future__ import annotations

try:
    from IPython.core.error import UsageError
except ImportError:  # pragma: no cover - the jupyter extra is missing

    class UsageError(Exception):  # type: ignore[no-redef]
        """IPython's short error, when IPython is not installed."""


__all__ = ["CellSyntaxError", "KClientMagicError", "RequestFailed"]


class KClientMagicError(UsageError):
    """A ``%kclient`` / ``%%kclient`` line or cell that cannot be run as written."""


class CellSyntaxError(KClientMagicError):
    """Request text that does not parse; ``line`` is its 1-based line number in the cell (or 0)."""

    def __init__(self, message: str, line: int = 0, text: str = "") -> None:
        where = f"line {line}: " if line else ""
        shown = f"\n    {text.strip()}" if text.strip() else ""
        super().__init__(f"{where}{message}{shown}")
        self.line = line
        self.text = text


class RequestFailed(KClientMagicError):
    """A request sent by a magic failed (network error, timeout, or ``--check`` on a non-2xx).

    The kclient error is kept as ``__cause__``.
    """
