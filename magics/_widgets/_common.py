"""What the workbench's widgets share: how an error is worded and shown, and how work is run.

``ComposeError`` (fields that do not make a request), the red error line (``_error_html``, URL
credentials masked), ``_describe_error``'s ``TypeName: message``, the ``_ErrorArea`` listing a
widget's errors, ``_guarded`` button handlers that show what they raise instead of logging it,
``_running_loop`` (the kernel's loop inside a widget callback, None in plain Python), and the
request counts (``counts_text``, ``_client_words``) that reprs and panels print.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from kclient import ClientStatus, ConfigError, HttpClient
from kclient._redact import mask_credentials

__all__ = ["MAX_ERRORS", "ComposeError", "counts_text"]

#: Errors kept by an error area (the oldest are dropped; repeated messages are counted).
MAX_ERRORS = 50

_ERROR_STYLE = "color:#cf222e"
_DIM_STYLE = "opacity:0.7"


class ComposeError(ValueError):
    """The composer's fields do not make a request (a bad header line, a body that is not JSON...)."""


# -- small helpers -----------------------------------------------------------------------------------


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio loop running in this thread (a kernel's, inside a widget callback), or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _error_html(message: str) -> str:
    """``message`` as a red line, escaped, with URL credentials masked."""
    return f'<span class="kclient-error" style="{_ERROR_STYLE}">{html.escape(mask_credentials(message))}</span>'


def _describe_error(error: BaseException) -> str:
    """``TypeName: message`` for an error shown to a person."""
    if isinstance(error, (ComposeError, ConfigError)):
        return str(error)
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class _ErrorArea:
    """An ``HTML`` widget listing errors, newest last, a repeated message counted (``3x ...``)."""

    def __init__(self, css_class: str) -> None:
        self.widget = widgets.HTML(value="")
        self.widget.add_class(css_class)
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)
        del self.messages[:-MAX_ERRORS]
        self._render()

    def clear(self) -> None:
        self.messages.clear()
        self._render()

    def _render(self) -> None:
        counts: dict[str, int] = {}
        for message in self.messages:
            counts[message] = counts.get(message, 0) + 1
        lines = [f"{count}x {message}" if count > 1 else message for message, count in counts.items()]
        self.widget.value = "<br>".join(_error_html(line) for line in lines)


def _guarded(errors: Callable[[str], None], action: Callable[[], object]) -> Callable[[Any], None]:
    """A button handler running ``action``; whatever it raises goes to ``errors``, not the kernel log."""

    def handler(_button: Any = None) -> None:
        try:
            action()
        except Exception as error:
            errors(_describe_error(error))

    return handler


def _client_words(client: HttpClient | None) -> str:
    """``'name' STATE, in flight 1 · completed 2 · failed 0`` for reprs (``none yet`` without a client)."""
    if client is None:
        return "none yet"
    status = client.status()
    return f"{client.name!r} {status.state.name}, {counts_text(status)}"


def counts_text(status: ClientStatus) -> str:
    """``in flight N · completed N · failed N``."""
    return f"in flight {status.in_flight} · completed {status.completed} · failed {status.failed}"
