"""Former names kept working for a while: one warning, worded the same everywhere."""

from __future__ import annotations

import warnings

__all__ = ["ENGINE_MEANS_THE_ENGINE", "renamed"]

#: Why ``HttpClient(engine={...})`` and ``c.engine(...)`` became ``engine_config``.
ENGINE_MEANS_THE_ENGINE = "engine names the engine itself, as in HttpClient(engine) and client.engine"


def renamed(old: str, new: str, why: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is now ``new`` (``why`` says what the old name got wrong).

    ``stacklevel`` points at the caller's caller: the user's line that used the old name.
    """
    warnings.warn(
        f"{old} is now {new} ({why}); the old name will be removed.", DeprecationWarning, stacklevel=stacklevel
    )
