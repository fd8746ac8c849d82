"""The response viewer: the last response as a summary line (status, timing) and
``display_bundle``'s HTML, secrets masked and the body cut at the display limit, optionally
with the request that was sent (``ResponseViewer``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from kclient import Response
from kclient._redact import mask_url_text

from .._display import DEFAULT_LIMIT_BYTES, display_bundle, format_elapsed
from ._common import _DIM_STYLE

__all__ = ["ResponseViewer"]


class ResponseViewer(widgets.VBox):  # type: ignore[misc]
    """The last response: a summary line (status, timing) and ``display_bundle``'s HTML, with
    secrets masked and at most ``limit_bytes`` of the body shown. "show the request" adds the
    request that was sent above it (its Authorization and other secrets masked too)."""

    def __repr__(self) -> str:
        response = self.response
        if response is None:
            return "<ResponseViewer (no response yet)>"
        return f"<ResponseViewer {response.status} {response.request.method} {mask_url_text(str(response.url))}>"

    def __init__(
        self,
        *,
        limit_bytes: int = DEFAULT_LIMIT_BYTES,
        masked_headers: Iterable[str] = frozenset(),
        render_html: bool = False,
        show_request: bool = False,
    ) -> None:
        self.limit_bytes = limit_bytes
        self.masked_headers = frozenset(name.lower() for name in masked_headers)
        self.render_html = render_html
        self.response: Response | None = None
        self.summary = widgets.HTML(value=_NO_RESPONSE)
        self.summary.add_class("kclient-response-summary")
        self.show_request = widgets.Checkbox(value=show_request, description="show the request", indent=False)
        self.output = widgets.HTML(value="")
        self.output.add_class("kclient-response-view")
        self.show_request.observe(self._redraw, names="value")
        super().__init__(children=[widgets.HBox([self.summary, self.show_request]), self.output])
        self.add_class("kclient-viewer")

    def show(self, response: Response) -> None:
        """Show ``response`` (replacing the one shown)."""
        self.response = response
        timing = f" · {format_elapsed(response.elapsed)}" if response.elapsed > 0 else ""
        self.summary.value = (
            f'<b class="kclient-response-status">{response.status} {html.escape(response.reason)}</b>'
            f"{html.escape(timing)}"
        )
        self._redraw()

    def clear(self) -> None:
        self.response = None
        self.summary.value = _NO_RESPONSE
        self.output.value = ""

    def _redraw(self, _change: Any = None) -> None:
        if self.response is None:
            return
        bundle = display_bundle(
            self.response,
            limit_bytes=self.limit_bytes,
            masked_headers=self.masked_headers,
            render_html=self.render_html,
            verbose=bool(self.show_request.value),
        )
        self.output.value = bundle["text/html"]


_NO_RESPONSE = f'<span style="{_DIM_STYLE}">no response yet</span>'
