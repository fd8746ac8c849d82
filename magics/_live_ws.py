"""WebSocket sessions run live in a cell: ``%kclient ws://host/path`` or a ``WEBSOCKET`` request.

The ``.http`` form is JetBrains' HTTP Client's: the request line ``WEBSOCKET ws://host/path``,
headers, then the messages to send, each after a line ``===``; ``=== wait-for-server`` sends
the next message only once the server has sent one::

    WEBSOCKET ws://localhost:8000/ws/echo
    Content-Type: application/json

    ===
    {"message": "first"}
    === wait-for-server
    {"message": "second"}

A body without ``===`` lines is one message (a line request's JSON body, too). One display is
updated in place (at most ten times a second): the last ``keep`` messages each way, the counts,
the elapsed time. With messages to send, the session ends once the server has been quiet for
``idle`` seconds after the last one; without, when the server closes it. An interrupt closes it
cleanly. The messages are returned as a ``MessageLog``. Secrets are masked as in the SSE view.
"""

from __future__ import annotations

import html
import re
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from kclient import HttpClient, KClientError, SocketTimeout, WebSocketClosedError
from kclient._redact import mask_json_text, mask_url_text, scrub, secret_values

from ._display import format_elapsed
from ._live import REFRESH, _run_interruptible
from ._views import _LEFT

__all__ = ["LiveMessages", "MessageLog", "split_messages", "watch_websocket"]

_SEPARATOR = re.compile(r"^===[ \t]*(wait-for-server)?[ \t]*$", re.MULTILINE)
SENT, RECEIVED = "sent", "received"


def split_messages(content: bytes | None) -> list[tuple[bool, str]]:
    """The messages of a ``WEBSOCKET`` request's body: ``(wait_for_server, text)`` in order."""
    if not content:
        return []
    text = content.decode("utf-8")
    pieces = _SEPARATOR.split(text)
    messages: list[tuple[bool, str]] = []
    if pieces[0].strip():  # text before the first ===, or a body without any: one message
        messages.append((False, pieces[0].strip("\r\n")))
    for index in range(1, len(pieces), 2):
        wait, body = pieces[index] is not None, pieces[index + 1].strip("\r\n")
        if body or wait:
            messages.append((wait, body))
    return messages


class MessageLog(list[tuple[str, str | bytes]]):
    """The messages of one session, in order, as ``(direction, message)`` with direction ``"sent"``
    or ``"received"``; ``outcome`` says how it ended, ``close_code`` with which code."""

    outcome: str = "closed"
    close_code: int | None = None

    def __repr__(self) -> str:
        code = f" {self.close_code}" if self.close_code is not None else ""
        return f"<MessageLog: {len(self.sent())} sent, {len(self.received())} received, {self.outcome}{code}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        # The messages were shown live: the cell's result is one line, not the list again.
        return {"text/plain": repr(self)}

    def sent(self) -> list[str | bytes]:
        """The messages sent, in order."""
        return [message for direction, message in self if direction == SENT]

    def received(self) -> list[str | bytes]:
        """The messages received, in order."""
        return [message for direction, message in self if direction == RECEIVED]

    def json(self) -> list[Any]:
        """The messages received, parsed as JSON (``ValueError`` at the first that is not)."""
        import json

        return [json.loads(message) for message in self.received()]


class LiveMessages:
    """What the cell shows of a session: the last ``keep`` messages, the counts, the time."""

    def __init__(self, url: str, keep: int, secrets: Iterable[str] = ()) -> None:
        self.title = f"WEBSOCKET {mask_url_text(url)}"
        self.recent: deque[tuple[str, str | bytes]] = deque(maxlen=keep)
        self.counts = {SENT: 0, RECEIVED: 0}
        self.started = time.perf_counter()
        self.elapsed = 0.0
        self.state = "connecting"
        self.subprotocol: str | None = None
        self.secrets = list(secrets)

    def add(self, direction: str, message: str | bytes) -> None:
        self.recent.append((direction, message))
        self.counts[direction] += 1

    def _shown(self, message: str | bytes) -> str:
        if isinstance(message, bytes):
            preview = message[:32].hex(" ")
            return f"<{len(message)} bytes: {preview}{' …' if len(message) > 32 else ''}>"
        return scrub(mask_json_text(message), self.secrets)

    def _summary(self) -> str:
        if self.state in ("connecting", "open"):  # else the time it took, fixed when it ended
            self.elapsed = time.perf_counter() - self.started
        protocol = f" ({self.subprotocol})" if self.subprotocol else ""
        return (
            f"{self.title}{protocol}: {self.state}, {self.counts[SENT]} sent, {self.counts[RECEIVED]} received "
            f"in {format_elapsed(self.elapsed)}"
        )

    def _earlier(self) -> int:
        return sum(self.counts.values()) - len(self.recent)

    def __repr__(self) -> str:
        lines = [self._summary()]
        if self._earlier():
            lines.append(f"  ... {self._earlier()} earlier message(s)")
        lines += [f"  {'→' if d == SENT else '←'} {self._shown(m)}" for d, m in self.recent]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = "".join(
            f"<tr><td {_LEFT}>{'→ sent' if d == SENT else '← received'}</td>"
            f"<td {_LEFT}><pre style='margin:0;white-space:pre-wrap'>{html.escape(self._shown(m))}</pre></td></tr>"
            for d, m in self.recent
        )
        note = f"<div>... {self._earlier()} earlier message(s)</div>" if self._earlier() else ""
        body = (
            f"<div class='kclient-messages'><strong>{html.escape(self._summary())}</strong>{note}"
            f"<table><tr><th {_LEFT}>way</th><th {_LEFT}>message</th></tr>{rows}</table></div>"
        )
        return {"text/plain": repr(self), "text/html": body}


def watch_websocket(
    client: HttpClient,
    url: str,
    options: dict[str, Any],
    messages: list[tuple[bool, str]],
    *,
    keep: int = 20,
    idle: float = 1.0,
) -> MessageLog:
    """Open ``client.websocket``, send ``messages`` and show the session live until it ends."""
    from IPython.display import display

    log = MessageLog()
    view = LiveMessages(url, keep)
    handle = display(view, display_id=True)  # type: ignore[no-untyped-call]
    shown_at = [0.0]

    def refresh(now: bool = True) -> None:
        if handle is not None and (now or time.perf_counter() - shown_at[0] >= REFRESH):
            shown_at[0] = time.perf_counter()
            handle.update(view)

    def note(direction: str, message: str | bytes) -> None:
        log.append((direction, message))
        view.add(direction, message)
        refresh(now=False)

    async def run() -> None:
        async with client.websocket(url, **options) as ws:
            view.secrets = sorted(secret_values(ws.response.request), key=len, reverse=True)
            view.subprotocol = ws.subprotocol
            view.state = "open"
            refresh()
            try:
                for wait, text in messages:
                    if wait:
                        note(RECEIVED, await ws.receive())
                    await ws.send(text)
                    note(SENT, text)
                while True:
                    note(RECEIVED, await ws.receive(timeout=idle if messages else None))
            except SocketTimeout:
                pass  # quiet for `idle` seconds after the last message: done
            except WebSocketClosedError:
                pass  # the server closed it: the code is on the session
            finally:
                log.close_code = ws.close_code
        log.close_code = ws.close_code

    log.outcome = "interrupted"  # until it ends otherwise
    try:
        if not _run_interruptible(run):
            log.outcome = "closed"
    except KClientError as error:
        log.outcome = f"{type(error).__name__}: {scrub(str(error), view.secrets)}"
        raise
    finally:
        view.elapsed = time.perf_counter() - view.started
        view.state = log.outcome + (f" {log.close_code}" if log.close_code is not None else "")
        refresh()
    return log
