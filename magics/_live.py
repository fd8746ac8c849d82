"""Server-Sent Events watched live in a cell: ``%kclient --stream GET url``.

One display is updated in place while events arrive (at most ten times a second): the last
``keep`` events, the count and the elapsed time. The events are returned as an ``EventLog``
when the stream ends, when it fails, or when the user interrupts the cell: the interrupt
ends the stream cleanly (its connection closed), with no traceback.

Secrets are masked in what is shown: the URL's password and secret query values, secret JSON
fields of the data, and any value the request sent as a secret (a token echoed back).
"""

from __future__ import annotations

import contextlib
import html
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import kclient
from kclient import HttpClient, KClientError, ServerSentEvent
from kclient._redact import mask_json_text, mask_url_text, scrub, secret_values

from ._display import format_elapsed
from ._views import _LEFT

__all__ = ["EventLog", "LiveEvents", "watch_events"]

#: Seconds between two updates of the display, at most.
REFRESH = 0.1


class EventLog(list[ServerSentEvent]):
    """The events of one stream, in order; ``outcome`` says how it ended (``ended``,
    ``interrupted`` or the error), ``reconnects`` how many reconnections it took."""

    outcome: str = "ended"
    reconnects: int = 0

    def __repr__(self) -> str:
        more = f", {self.reconnects} reconnection(s)" if self.reconnects else ""
        return f"<EventLog: {len(self)} event(s), {self.outcome}{more}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        # The events were shown live: the cell's result is one line, not the list again.
        return {"text/plain": repr(self)}

    def data(self) -> list[str]:
        """The data of each event."""
        return [event.data for event in self]

    def json(self) -> list[Any]:
        """The data of each event parsed as JSON (``DecodingError`` at the first that is not)."""
        return [event.json() for event in self]


class LiveEvents:
    """What the cell shows of a stream: the last ``keep`` events, the count, the time."""

    def __init__(self, method: str, url: str, keep: int, secrets: Iterable[str] = ()) -> None:
        self.title = f"{method} {mask_url_text(url)}"
        self.recent: deque[ServerSentEvent] = deque(maxlen=keep)
        self.count = 0
        self.reconnects = 0
        self.started = time.perf_counter()
        self.elapsed = 0.0
        self.state = "connecting"
        self.secrets = list(secrets)

    def add(self, event: ServerSentEvent) -> None:
        self.recent.append(event)
        self.count += 1

    def _shown(self, event: ServerSentEvent) -> tuple[str, str, str]:
        data = scrub(mask_json_text(event.data), self.secrets)
        return event.event, event.id, data

    def _summary(self) -> str:
        if self.state in ("connecting", "streaming"):  # else the time it took, fixed when it ended
            self.elapsed = time.perf_counter() - self.started
        more = f", {self.reconnects} reconnection(s)" if self.reconnects else ""
        return f"{self.title}: {self.state}, {self.count} event(s) in {format_elapsed(self.elapsed)}{more}"

    def __repr__(self) -> str:
        lines = [self._summary()]
        if self.count > len(self.recent):
            lines.append(f"  ... {self.count - len(self.recent)} earlier event(s)")
        lines += [f"  [{kind}{' #' + id if id else ''}] {data}" for kind, id, data in map(self._shown, self.recent)]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = "".join(
            f"<tr><td {_LEFT}><code>{html.escape(kind)}</code></td><td {_LEFT}>{html.escape(id)}</td>"
            f"<td {_LEFT}><pre style='margin:0;white-space:pre-wrap'>{html.escape(data)}</pre></td></tr>"
            for kind, id, data in map(self._shown, self.recent)
        )
        earlier = self.count - len(self.recent)
        note = f"<div>... {earlier} earlier event(s)</div>" if earlier else ""
        body = (
            f"<div class='kclient-events'><strong>{html.escape(self._summary())}</strong>{note}"
            f"<table><tr><th {_LEFT}>event</th><th {_LEFT}>id</th><th {_LEFT}>data</th></tr>{rows}</table></div>"
        )
        return {"text/plain": repr(self), "text/html": body}


def watch_events(client: HttpClient, method: str, url: str, options: dict[str, Any], *, keep: int = 20) -> EventLog:
    """Open ``client.sse`` and show its events live until the stream ends or the cell is interrupted."""
    from IPython.display import display

    log = EventLog()
    view = LiveEvents(method, url, keep)
    handle = display(view, display_id=True)  # type: ignore[no-untyped-call]

    def refresh() -> None:
        if handle is not None:
            handle.update(view)

    async def consume() -> None:
        shown_at = 0.0
        async with client.sse(url, method=method, **options) as source:
            if source.response is not None:  # the request as sent, with what the plugins added (auth)
                view.secrets = sorted(secret_values(source.response.request), key=len, reverse=True)
            view.state = "streaming"
            refresh()
            async for event in source:
                log.append(event)
                view.add(event)
                view.reconnects = log.reconnects = source.reconnects
                if time.perf_counter() - shown_at >= REFRESH:
                    shown_at = time.perf_counter()
                    refresh()
            log.reconnects = view.reconnects = source.reconnects

    log.outcome = "interrupted"  # until it ends otherwise
    try:
        if not _run_interruptible(consume):
            log.outcome = "ended"
    except KClientError as error:
        log.outcome = f"{type(error).__name__}: {scrub(str(error), view.secrets)}"
        raise
    finally:
        view.elapsed = time.perf_counter() - view.started
        view.state = log.outcome
        refresh()
    return log


def _run_interruptible(make: Callable[[], Coroutine[Any, Any, None]]) -> bool:
    """Run ``make()`` with ``kclient.run``; on Ctrl-C (KeyboardInterrupt) cancel it, let it close
    what it opened, and return True."""
    import asyncio

    tasks: list[asyncio.Task[Any]] = []

    async def main() -> None:
        task = asyncio.current_task()
        if task is not None:
            tasks.append(task)
        await make()

    try:
        kclient.run(main())
    except KeyboardInterrupt:
        for task in tasks:
            if not task.done():
                task.cancel()

                async def settle(task: asyncio.Task[Any] = task) -> None:
                    with contextlib.suppress(BaseException):
                        await task

                kclient.run(settle())
        return True
    return False
