"""What ``%kclient`` shows besides responses: the kernel client, its state, the engines, and a
cell's list of responses. Each is a small object with ``_repr_mimebundle_`` (plain text and
HTML), so a notebook renders it and a terminal prints it."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from kclient import Capabilities, ClientState, EngineRegistry, HttpClient, Response, describe_settings
from kclient._redact import MASK

__all__ = [
    "STATE_COLOURS",
    "ClientSummary",
    "EngineTable",
    "Responses",
    "StatusView",
    "badge_html",
    "capabilities_text",
]

_LEFT = "style='text-align:left'"

#: The colours of a client's state badge, here and in the widgets: green, amber, grey, red.
STATE_COLOURS = {
    ClientState.ACTIVE: "#1a7f37",
    ClientState.CLOSING: "#9a6700",
    ClientState.CLOSED: "#57606a",
    ClientState.CANCELLED: "#cf222e",
}


def badge_html(state: ClientState | None) -> str:
    """The state badge: the state's name as the only text of ``span.kclient-state``."""
    if state is None:
        return '<span class="kclient-state kclient-state-NONE" style="opacity:0.7">no client</span>'
    colour = STATE_COLOURS[state]
    return (
        f'<span class="kclient-state kclient-state-{state.name}" style="background:{colour};color:white;'
        f'border-radius:8px;padding:1px 8px;font-weight:bold">{state.name}</span>'
    )


def capabilities_text(caps: Capabilities) -> str:
    """An engine's capabilities for listings: ``Capabilities.describe()`` and its async backends."""
    return f"{caps.describe()}; runs on {', '.join(sorted(caps.backends))}"


class _View:
    def _rows(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _title(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._html()}

    def __repr__(self) -> str:
        width = max((len(name) for name, _ in self._rows()), default=0)
        return "\n".join([self._title(), *(f"  {name:<{width}}  {value}" for name, value in self._rows())])

    def _html(self) -> str:
        rows = "".join(
            f"<tr><th {_LEFT}>{html.escape(name)}</th><td {_LEFT}>{html.escape(value)}</td></tr>"
            for name, value in self._rows()
        )
        return f"<div class='kclient-view'><strong>{html.escape(self._title())}</strong><table>{rows}</table></div>"


class StatusView(_View):
    """A client's state and counts, as ``%kclient state`` (and close/join/cancel) show them."""

    def __init__(self, client: HttpClient) -> None:
        self.client = client
        self.status = client.status()

    def _title(self) -> str:
        return f"{self.client.name}: {self.status.state.name}"

    def _rows(self) -> list[tuple[str, str]]:
        s = self.status
        return [
            ("engine", self.client.engine.name),
            ("state", s.state.name),
            ("in flight", str(s.in_flight)),
            ("completed", str(s.completed)),
            ("failed", str(s.failed)),
        ]

    def _html(self) -> str:
        badge = badge_html(self.status.state)
        return (
            super()
            ._html()
            .replace(
                f"<td style='text-align:left'>{html.escape(self.status.state.name)}</td>",
                f"<td style='text-align:left'>{badge}</td>",
                1,
            )
        )


class ClientSummary(StatusView):
    """``%kclient`` alone: the kernel client's engine, settings, plugins, state and counts."""

    def __init__(self, client: HttpClient, given: dict[str, Any]) -> None:
        super().__init__(client)
        self.given = given

    def _title(self) -> str:
        return f"kernel client: {self.client.engine.name}, {self.status.state.name}"

    def _rows(self) -> list[tuple[str, str]]:
        rows = super()._rows()
        rows.append(("plugins", ", ".join(plugin.name for plugin in self.client.plugins) or "none"))
        config = self.client.engine.config
        for info in describe_settings(type(config)):
            value: Any = config
            for part in info.name.split("."):
                value = getattr(value, part, None)
            if info.name in self.given or value != info.default:
                rows.append((info.name, _setting_text(info.name, value)))
        return rows


def _setting_text(name: str, value: Any) -> str:
    if any(word in name.lower() for word in ("password", "secret", "token")):
        return MASK
    return repr(value)  # ProxyConfig and the like mask their own credentials


class EngineTable(_View):
    """``%kclient engines``: every registered engine, whether it is usable, how to install it."""

    def __init__(self, registry: EngineRegistry) -> None:
        self.entries: list[tuple[str, str, str, str]] = []
        for info in registry:
            available = "yes" if info.available else f"no: {info.install_hint}"
            capabilities = capabilities_text(info.load().capabilities) if info.available else "-"
            extras = ", ".join(info.extras) or "-"
            self.entries.append((info.name, available, extras, capabilities))

    def _title(self) -> str:
        return "kclient engines (%kclient use NAME)"

    def _rows(self) -> list[tuple[str, str]]:
        return [(name, f"{available} | extras: {extras} | {caps}") for name, available, extras, caps in self.entries]

    def _html(self) -> str:
        head = "".join(f"<th>{title}</th>" for title in ("engine", "available", "extras", "capabilities"))
        rows = "".join(
            "<tr>" + "".join(f"<td {_LEFT}>{html.escape(cell)}</td>" for cell in entry) + "</tr>"
            for entry in self.entries
        )
        title = html.escape(self._title())
        return f"<div class='kclient-view'><strong>{title}</strong><table><tr>{head}</tr>{rows}</table></div>"


class Responses(list[Any]):
    """The responses of a cell with several requests: a list, displayed one after another."""

    def __init__(self, items: Iterable[Any], bundle: Any = None) -> None:
        super().__init__(items)
        self._bundle = bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        parts = [self._one(item) for item in self]
        return {
            "text/plain": "\n\n".join(part.get("text/plain", "") for part in parts),
            "text/html": "<hr>".join(part.get("text/html", html.escape(part.get("text/plain", ""))) for part in parts),
        }

    def _one(self, item: Any) -> dict[str, str]:
        if isinstance(item, Response) and self._bundle is not None:
            bundle: dict[str, str] = self._bundle(item)
            return bundle
        method = getattr(item, "_repr_mimebundle_", None)
        if method is not None:
            found: dict[str, str] = method()
            return found
        return {"text/plain": repr(item)}


class _Quiet:
    """A response already displayed (``-v``): the cell's result shows nothing more, and
    ``<< var`` and ``_`` still get the response."""

    def __init__(self, response: Response) -> None:
        self.response = response

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": ""}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.response, name)


class _Bundle:
    """A ready mimebundle, displayed as it is."""

    def __init__(self, bundle: dict[str, str]) -> None:
        self._bundle = bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return self._bundle

    def __repr__(self) -> str:
        return self._bundle.get("text/plain", "")


def _display(view: Any, *, live: bool = False) -> Any:
    """Show ``view``; with ``live``, return the handle that updates it in place."""
    from IPython.display import display

    return display(view, display_id=live or None)  # type: ignore[no-untyped-call]
