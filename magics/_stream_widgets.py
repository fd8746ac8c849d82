"""Widgets for live streams: ``EventViewer`` (Server-Sent Events) and ``WebSocketConsole``.

Both run their stream in a task of the kernel's event loop (widget callbacks run there), so the
notebook stays free while events and messages arrive. Each shows the client's in-flight count
from ``client.on_state_change``, as the lifecycle panel does: an open stream is one request in
flight, and the client's Close, Join and Cancel apply to it. What they show is masked as the
cell views are: URLs' passwords and secret query values, secret JSON fields, the values the
request sent as secrets (a token echoed back).
"""

from __future__ import annotations

import asyncio
import datetime
import html
from collections import deque
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from kclient import HttpClient, KClientError, WebSocketSession
from kclient._redact import mask_json_text, mask_url_text, scrub, secret_values

from ._widgets import _describe_error, _error_html, _running_loop, counts_text

__all__ = ["EventViewer", "WebSocketConsole"]

#: Lines each log keeps (the count covers them all).
KEEP = 200


class _StreamWidget(widgets.VBox):  # type: ignore[misc]
    """What both share: a URL box, a start and a stop button, a status line, a log, the client's counts."""

    what = "stream"

    def __init__(self, client: HttpClient | None, url: str, start: str) -> None:
        self.client = client if client is not None else HttpClient()
        self._owns = client is None
        self.url = widgets.Text(value=url, placeholder="URL", layout=widgets.Layout(width="32em"))
        self.start_button = widgets.Button(description=start, icon="play", button_style="primary")
        self.stop_button = widgets.Button(description="Close", icon="stop", disabled=True)
        self.status = widgets.HTML(value="idle")
        self.counts = widgets.HTML(value="")
        self.entries = widgets.HTML(value="")
        self.entries.add_class(f"kclient-{self.what}-log")
        self.lines: deque[str] = deque(maxlen=KEEP)
        self.count = 0
        self.secrets: list[str] = []
        self.task: asyncio.Task[None] | None = None
        self.start_button.on_click(lambda _b: self._connect())
        self.stop_button.on_click(lambda _b: self._disconnect())
        self._unsubscribe: Callable[[], None] = self.client.on_state_change(
            lambda status: setattr(self.counts, "value", f"client: {counts_text(status)}")
        )
        self.counts.value = f"client: {counts_text(self.client.status())}"
        super().__init__(children=self._rows())

    def _rows(self) -> list[Any]:
        return [widgets.HBox([self.url, self.start_button, self.stop_button]), self.status, self.counts, self.entries]

    def _connect(self) -> None:
        loop = _running_loop()
        if loop is None:
            self._say_error("No event loop runs here: use the widget in a notebook (or inside async code).")
            return
        if self.task is not None and not self.task.done():
            return
        self.lines.clear()
        self.count = 0
        self._render_entries()
        self.task = loop.create_task(self._guarded_run(self.url.value.strip()))

    def _disconnect(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _guarded_run(self, url: str) -> None:
        self.start_button.disabled, self.stop_button.disabled = True, False
        self._say(f"connecting to {html.escape(mask_url_text(url))}")
        try:
            await self._run(url)
            self._say(self._ended())
        except asyncio.CancelledError:
            self._say("closed")
        except KClientError as error:
            self._say_error(scrub(_describe_error(error), self.secrets))
        finally:
            self.start_button.disabled, self.stop_button.disabled = False, True

    async def _run(self, url: str) -> None:
        raise NotImplementedError

    def _ended(self) -> str:
        return "ended"

    def _shown(self, text: str) -> str:
        return scrub(mask_json_text(text), self.secrets)

    def _add_entry(self, line: str) -> None:
        self.count += 1
        self.lines.append(line)
        self._render_entries()

    def _render_entries(self) -> None:
        earlier = self.count - len(self.lines)
        note = f"<div>… {earlier} earlier</div>" if earlier else ""
        self.entries.value = f"{note}<table>{''.join(self.lines)}</table>"

    def _say(self, text: str) -> None:
        self.status.value = text

    def _say_error(self, message: str) -> None:
        self.status.value = _error_html(message)

    def close(self) -> None:
        """Stop the stream and close the widget (a client it created is closed too)."""
        self._disconnect()
        self._unsubscribe()
        if self._owns:
            self.client.close()
        super().close()


def _now() -> str:
    return datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3]


def _cell(text: str) -> str:
    return f"<td style='text-align:left'><code>{html.escape(text)}</code></td>"


class EventViewer(_StreamWidget):
    """Server-Sent Events of a URL as they arrive: time, event type, id and data, newest last."""

    what = "events"

    def __init__(self, client: HttpClient | None = None, url: str = "", **sse_options: Any) -> None:
        self.sse_options = sse_options
        super().__init__(client, url, "Connect")
        self.add_class("kclient-event-viewer")

    async def _run(self, url: str) -> None:
        async with self.client.sse(url, **self.sse_options) as source:
            if source.response is not None:
                self.secrets = sorted(secret_values(source.response.request), key=len, reverse=True)
            self._say("streaming")
            async for event in source:
                self._add_entry(
                    f"<tr>{_cell(_now())}{_cell(event.event)}{_cell(event.id)}"
                    f"<td style='text-align:left'><pre style='margin:0'>{html.escape(self._shown(event.data))}</pre>"
                    "</td></tr>"
                )
                self._say(f"streaming: {self.count} event(s), {source.reconnects} reconnection(s)")

    def _ended(self) -> str:
        return f"ended: {self.count} event(s)"


class WebSocketConsole(_StreamWidget):
    """A WebSocket session: connect, send text, read the messages both ways with their time, close."""

    what = "messages"

    def __init__(self, client: HttpClient | None = None, url: str = "", **ws_options: Any) -> None:
        self.ws_options = ws_options
        self.session: WebSocketSession | None = None
        self.message = widgets.Textarea(placeholder="message to send", layout=widgets.Layout(width="32em"))
        self.send_button = widgets.Button(description="Send", icon="paper-plane", disabled=True)
        self.send_button.on_click(lambda _b: self._send_message())
        self._sending: set[asyncio.Task[None]] = set()
        super().__init__(client, url, "Connect")
        self.add_class("kclient-websocket-console")

    def _rows(self) -> list[Any]:
        first, *rest = super()._rows()
        return [first, widgets.HBox([self.message, self.send_button]), *rest]

    async def _run(self, url: str) -> None:
        try:
            async with self.client.websocket(url, **self.ws_options) as ws:
                self.session = ws
                self.secrets = sorted(secret_values(ws.response.request), key=len, reverse=True)
                self.send_button.disabled = False
                self._say("open" + (f" ({html.escape(ws.subprotocol)})" if ws.subprotocol else ""))
                async for message in ws:
                    self._line("←", message)
        finally:
            self.send_button.disabled = True

    def _ended(self) -> str:
        ws = self.session
        code = f" {ws.close_code}" if ws is not None and ws.close_code is not None else ""
        return f"closed{code}: {self._sent()} sent, {self._received()} received"

    def _sent(self) -> int:
        return self.session.sent if self.session is not None else 0

    def _received(self) -> int:
        return self.session.received if self.session is not None else 0

    def _line(self, way: str, message: str | bytes) -> None:
        shown = f"<{len(message)} bytes>" if isinstance(message, bytes) else self._shown(message)
        self._add_entry(
            f"<tr>{_cell(_now())}{_cell(way)}<td style='text-align:left'><pre style='margin:0'>"
            f"{html.escape(shown)}</pre></td></tr>"
        )

    def _send_message(self) -> None:
        ws, loop = self.session, _running_loop()
        if ws is None or ws.closed or loop is None:
            self._say_error("Not connected: press Connect first.")
            return
        text = self.message.value

        async def send() -> None:
            try:
                await ws.send(text)
                self._line("→", text)
            except KClientError as error:
                self._say_error(scrub(_describe_error(error), self.secrets))

        task = loop.create_task(send())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
