"""Built-in engines. Each is imported on first use, so ``import kclient`` stays cheap.

``kclient.engines.registry()`` lists every registered engine (built-in and third-party).
"""

from __future__ import annotations

from .._registry import EngineRegistry, default_registry

__all__ = ["registry"]


def registry() -> EngineRegistry:
    """The engines registered through the ``kclient.engines`` entry points."""
    return default_registry()
