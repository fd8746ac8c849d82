"""kclient's notebook widgets (ipywidgets 8: ``pip install 'kclient[jupyter]'``).

::

    from kclient.widgets import Workbench
    Workbench()          # pick an engine, configure it, send requests, watch close/join/cancel
    Workbench(client)    # the same around a client of yours

``EnginePicker``, ``ConfigForm``, ``RequestComposer``, ``ResponseViewer`` and ``LifecyclePanel``
are the workbench's parts, usable alone. ``EventViewer(client, url)`` shows Server-Sent Events as
they arrive and ``WebSocketConsole(client, url)`` runs a WebSocket session (connect, send, the
messages both ways, close). They live in ``kclient.magics._widgets`` and
``kclient.magics._stream_widgets`` and are loaded on first use, so importing this module (and
``import kclient``) never imports ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import Any

# Defined by __getattr__ below, on first use.
__all__ = [  # noqa: F822
    "ConfigForm",
    "EnginePicker",
    "EventViewer",
    "LifecyclePanel",
    "RequestComposer",
    "ResponseViewer",
    "WebSocketConsole",
    "Workbench",
]
_STREAMS = frozenset({"EventViewer", "WebSocketConsole"})


def _implementation(name: str) -> Any:
    """The module of widget ``name``, imported by name (``kclient.magics`` is mapped from the magics/ folder)."""
    module = "kclient.magics._stream_widgets" if name in _STREAMS else "kclient.magics._widgets"
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if error.name in ("ipywidgets", "IPython", "traitlets", "comm"):
            raise ImportError(
                f"kclient's widgets need ipywidgets 8 ({error.name} is missing): pip install 'kclient[jupyter]'",
                name=error.name,
            ) from error
        raise


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(_implementation(name), name)
        globals()[name] = value  # looked up once
        return value
    raise AttributeError(f"module 'kclient.widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
