"""The engine picker: a dropdown of the registered engines, each unavailable one labelled with
the ``pip install`` line it needs (``EnginePicker``), and ``missing_engine_html``, what is shown
instead of a settings form when the chosen engine is not installed.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

import kclient
from kclient import ConfigError, EngineInfo, EngineRegistry, KClientError

__all__ = ["EnginePicker", "missing_engine_html"]


def _missing_line(info: EngineInfo) -> str | None:
    """Why ``info`` cannot be used (its ``pip install`` line, or what is broken), or None when it can."""
    try:
        return None if info.available else info.install_hint
    except ConfigError as error:  # an entry point that names no engine class
        return str(error)


def _engine_label(info: EngineInfo) -> str:
    missing = _missing_line(info)
    return info.name if missing is None else f"{info.name} (missing: {missing})"


def _default_engine_name(registry: EngineRegistry) -> str | None:
    """The engine ``HttpClient()`` would pick, else the first available one, else the first one."""
    try:
        return registry.default().name
    except KClientError:
        pass
    names = [info.name for info in registry if _missing_line(info) is None] or registry.names()
    return names[0] if names else None


class EnginePicker(widgets.VBox):  # type: ignore[misc]
    """A dropdown of the registered engines; an unavailable one is labelled with its install line.

    ``value`` is the chosen engine's name, ``info`` its ``EngineInfo``; ``missing`` is its install
    line (None when the engine imports), also shown below the dropdown unless ``note=False``.
    ``on_pick(callback)`` calls ``callback(info)`` when another engine is chosen.
    """

    def __init__(self, registry: EngineRegistry | None = None, *, value: str | None = None, note: bool = True) -> None:
        self.registry = registry if registry is not None else kclient.engines.registry()
        self._infos = {info.name: info for info in self.registry}
        self._callbacks: list[Callable[[EngineInfo], None]] = []
        initial = self._find(value) if value is not None else _default_engine_name(self.registry)
        self.dropdown = widgets.Dropdown(
            options=[(_engine_label(info), info.name) for info in self.registry],
            value=initial,
            description="Engine",
        )
        self.note = widgets.HTML(value="")
        self.note.add_class("kclient-engine-note")
        super().__init__(children=[self.dropdown, self.note] if note else [self.dropdown])
        self.add_class("kclient-engine-picker")
        self.dropdown.observe(self._changed, names="value")
        self._show_note()

    def _find(self, name: str) -> str:
        """The registered spelling of ``name`` (engine names are case-insensitive)."""
        return self.registry.info(name).name

    @property
    def value(self) -> str | None:
        """The chosen engine's name (None when no engine is registered)."""
        name: str | None = self.dropdown.value
        return name

    @value.setter
    def value(self, name: str) -> None:
        self.dropdown.value = self._find(name)

    @property
    def info(self) -> EngineInfo | None:
        """The chosen engine's ``EngineInfo``."""
        return self._infos.get(self.value) if self.value is not None else None

    @property
    def missing(self) -> str | None:
        """The chosen engine's install line when it cannot be imported, else None."""
        info = self.info
        return _missing_line(info) if info is not None else None

    def on_pick(self, callback: Callable[[EngineInfo], None]) -> None:
        """Call ``callback(info)`` whenever another engine is chosen."""
        self._callbacks.append(callback)

    def _changed(self, _change: Any) -> None:
        self._show_note()
        info = self.info
        if info is not None:
            for callback in list(self._callbacks):
                callback(info)

    def _show_note(self) -> None:
        missing = self.missing
        self.note.value = "" if missing is None else missing_engine_html(self.value or "", missing)


def missing_engine_html(name: str, install: str) -> str:
    """What is shown instead of a settings form when engine ``name`` is not installed."""
    return (
        f'<div class="kclient-missing">{html.escape(name)} is not installed: <code>{html.escape(install)}</code></div>'
    )
