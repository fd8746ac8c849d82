"""The lifecycle panel: a client's state as a coloured badge, its live request counts and
"Close" / "Join" / "Cancel" buttons, all driven by ``client.on_state_change`` without polling
(``LifecyclePanel``).
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable

import ipywidgets as widgets  # type: ignore[import-untyped]

import kclient
from kclient import ClientState, ClientStatus, HttpClient

from .._views import badge_html
from ._common import ComposeError, _client_words, _describe_error, _error_html, _guarded, _running_loop, counts_text

__all__ = ["LifecyclePanel"]


class LifecyclePanel(widgets.VBox):  # type: ignore[misc]
    """A client's state badge, its live request counts, and "Close", "Join", "Cancel" buttons.

    Driven by ``client.on_state_change`` alone: every change of state or counts updates the
    badge and counts at once. Setting ``panel.client`` (or closing the widget) unsubscribes
    from the previous client. "Join" awaits ``client.join()`` in a task and says "joined".
    """

    def __repr__(self) -> str:
        return f"<LifecyclePanel {_client_words(self.client)}>"

    def __init__(self, client: HttpClient | None = None) -> None:
        self._client: HttpClient | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._joins: set[asyncio.Task[None]] = set()
        self.badge = widgets.HTML(value=badge_html(None))
        self.badge.add_class("kclient-badge")
        self.counts = widgets.HTML(value="")
        self.counts.add_class("kclient-counts")
        self.title = widgets.HTML(value="")
        self.close_button = widgets.Button(
            description="Close", icon="stop", tooltip="close(): in-flight requests finish"
        )
        self.join_button = widgets.Button(description="Join", icon="hourglass", tooltip="await join()")
        self.cancel_button = widgets.Button(
            description="Cancel", button_style="danger", icon="times", tooltip="cancel(): halt every request now"
        )
        self.message = widgets.HTML(value="")
        self.message.add_class("kclient-lifecycle-message")
        self.close_button.on_click(_guarded(self._say_error, self._close_client))
        self.join_button.on_click(_guarded(self._say_error, self.join))
        self.cancel_button.on_click(_guarded(self._say_error, self._cancel_client))
        super().__init__(
            children=[
                widgets.HBox([self.title, self.badge, self.counts]),
                widgets.HBox([self.close_button, self.join_button, self.cancel_button, self.message]),
            ]
        )
        self.add_class("kclient-lifecycle")
        self.client = client

    @property
    def client(self) -> HttpClient | None:
        return self._client

    @client.setter
    def client(self, client: HttpClient | None) -> None:
        if client is self._client and self._unsubscribe is not None:
            return
        self._detach()
        self._client = client
        self.message.value = ""
        if client is not None:
            self._unsubscribe = client.on_state_change(self._on_status)
            self.title.value = f"<b>{html.escape(client.name)}</b> · {html.escape(client.engine.name)}"
            self._on_status(client.status())
        else:
            self.title.value = ""
            self.badge.value = badge_html(None)
            self.counts.value = ""
            self._enable(None)

    def _detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def close(self) -> None:
        """Stop following the client and close the widget (the client itself is left as it is)."""
        self._detach()
        super().close()

    def _on_status(self, status: ClientStatus) -> None:
        """The client's listener: runs in its loop's thread at every change, so it stays short."""
        self.badge.value = badge_html(status.state)
        self.counts.value = f'<span class="kclient-count-text">{counts_text(status)}</span>'
        self._enable(status.state)

    def _enable(self, state: ClientState | None) -> None:
        self.close_button.disabled = state is not ClientState.ACTIVE
        self.cancel_button.disabled = state is None or state.is_terminal
        self.join_button.disabled = state is None

    def _say(self, text: str, css: str = "kclient-lifecycle-note") -> None:
        self.message.value = f'<span class="{css}">{html.escape(text)}</span>'

    def _say_error(self, message: str) -> None:
        self.message.value = _error_html(message)

    def _need_client(self) -> HttpClient:
        if self._client is None:
            raise ComposeError("No client yet: create one (Create client) or send a request.")
        return self._client

    def _close_client(self) -> None:
        self._need_client().close()

    def _cancel_client(self) -> None:
        self._need_client().cancel()

    def join(self) -> asyncio.Task[None] | None:
        """Wait for the client to finish (``client.join()``) without blocking; says "joined" then.

        Returns the task awaiting it (None when no loop runs: then it was awaited here, unless the
        client is ACTIVE, which would wait forever).
        """
        client = self._need_client()
        waits = "waits for Close or Cancel" if client.state is ClientState.ACTIVE else "waits for in-flight requests"
        loop = _running_loop()
        if loop is None:
            if client.state is ClientState.ACTIVE:
                self._say("Join waits until the client is closed: press Close or Cancel first.")
                return None
            kclient.run(client.join())
            self._joined(client)
            return None
        self._say(f"joining… ({waits})")
        task = loop.create_task(self._join(client))
        self._joins.add(task)
        task.add_done_callback(self._join_done)
        return task

    async def _join(self, client: HttpClient) -> None:
        await client.join()
        self._joined(client)

    def _joined(self, client: HttpClient) -> None:
        if client is self._client:
            self._say("joined", "kclient-joined")

    def _join_done(self, task: asyncio.Task[None]) -> None:
        self._joins.discard(task)
        if task.cancelled():
            self._say_error("Join was interrupted.")
        elif (error := task.exception()) is not None:
            self._say_error(f"Join failed: {_describe_error(error)}")
