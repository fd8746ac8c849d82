"""The demo server's live streams: Server-Sent Events under ``/sse/`` (a WSGI app before httpbin).

* ``/sse/tokens?prompt=...&delay=0.05``: a language-model-like completion, one
  ``{"token": ...}`` JSON event per word (``event: token``), then ``data: [DONE]`` with
  ``id: done``; a reconnection that sends ``Last-Event-ID: done`` gets a 204, so
  ``client.sse`` ends there;
* ``/sse/ticks?n=10&delay=0.5``: ``retry: 200``, then ``n`` numbered events (``id: i``),
  resumed after ``Last-Event-ID``; asked again after the last one, a 204 (the stream is over).

Each stream waits ``delay`` seconds (at most 5) between events; the werkzeug server sends
each one as it is yielded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

from ._sse import encode_event

__all__ = ["with_streams"]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_ANSWER = (
    "Server-Sent Events are a plain HTTP response that never quite ends: the server writes an "
    "event whenever it has one, and the client reads them as they arrive."
)


def _number(query: dict[str, list[str]], name: str, default: float, top: float) -> float:
    try:
        value = float(query.get(name, [default])[0])
    except ValueError:
        return default
    return min(max(value, 0.0), top)


def _tokens(prompt: str, delay: float) -> Iterator[bytes]:
    import json

    for i, word in enumerate(_ANSWER.split(" ")):
        time.sleep(delay)
        token = word if i == 0 else " " + word
        yield encode_event(json.dumps({"token": token, "prompt": prompt}), event="token")
    yield encode_event("[DONE]", event="done", id="done")


def _ticks(first: int, n: int, delay: float) -> Iterator[bytes]:
    yield b"retry: 200\n\n"  # reconnect after 0.2 s (the standard's default is the client's: 3 s in kclient)
    for i in range(first, n + 1):
        if i > first:
            time.sleep(delay)
        yield encode_event(f"tick {i} of {n}", id=str(i))


def with_streams(app: WsgiApp) -> WsgiApp:
    """``app`` with the ``/sse/`` streams in front of it."""

    def streams(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/sse/"):
            return app(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        delay = _number(query, "delay", 0.05 if path == "/sse/tokens" else 0.5, 5.0)
        head = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")]
        if path == "/sse/tokens":
            if environ.get("HTTP_LAST_EVENT_ID") == "done":  # a reconnection after the end
                start_response("204 No Content", [])
                return []
            start_response("200 OK", head)
            return _tokens(query.get("prompt", ["Tell me about SSE"])[0], delay)
        if path == "/sse/ticks":
            n = int(_number(query, "n", 10, 1000))
            last = environ.get("HTTP_LAST_EVENT_ID", "")
            first = int(last) + 1 if last.isdigit() else 1
            if first > n:
                start_response("204 No Content", [])
                return []
            start_response("200 OK", head)
            return _ticks(first, n, delay)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"No such stream: try /sse/tokens or /sse/ticks\n"]

    return streams
