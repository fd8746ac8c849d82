"""Server-Sent Events: the event-stream format, parsed as the WHATWG HTML standard says.

The rules (HTML, "9.2.6 Interpreting an event stream"): the stream is UTF-8 (undecodable
bytes become U+FFFD) and one leading BOM is dropped; lines end at CRLF, LF or CR; an empty
line dispatches the event; a line starting with ``:`` is a comment; ``name:value`` sets a
field (one space after the colon is dropped) and a line without a colon is a field with an
empty value. ``event`` sets the type, ``data`` appends a line to the data, ``id`` sets the
last event id unless it holds a NUL, ``retry`` sets the reconnection time when it is all
ASCII digits; other fields are ignored. An event whose data is empty is not dispatched,
and an event the stream ends in the middle of is dropped.

:class:`EventStreamParser` is sans-IO: ``feed(bytes)`` returns the events complete so far.
It holds at most ``max_event_size`` characters of an unfinished line and event.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any

from ._errors import DecodingError, ResponseTooLargeError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "EventStreamParser", "ServerSentEvent", "encode_event"]

#: The longest line or event data kept in memory, in characters, by default.
DEFAULT_MAX_EVENT_SIZE = 16 << 20

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event: its type (``"message"`` unless the stream said), its data, the
    last event id (kept from earlier events when this one set none) and the ``retry`` it set
    (milliseconds) or None."""

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None

    def json(self) -> Any:
        """The data parsed as JSON; ``DecodingError`` when it is not JSON."""
        try:
            return json.loads(self.data)
        except ValueError as exc:
            shown = self.data if len(self.data) <= 80 else self.data[:79] + "…"
            raise DecodingError(f"The data of this {self.event!r} event is not JSON ({exc}): {shown!r}") from exc


def encode_event(data: str, *, event: str = "", id: str | None = None, retry: int | None = None) -> bytes:
    """One event in the event-stream format (the parser's inverse): ``data`` line by line, then
    a blank line. ``event`` and ``id`` must not hold a line end (nor ``id`` a NUL)."""
    for name, value in (("event", event), ("id", id or "")):
        if any(c in value for c in "\r\n") or (name == "id" and "\0" in value):
            raise ValueError(
                f"An event-stream {name} cannot hold a line end{' or NUL' if name == 'id' else ''}: {value!r}"
            )
    lines = [f"event: {event}"] if event else []
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
            raise ValueError(f"retry is a whole number of milliseconds, not {retry!r}")
        lines.append(f"retry: {retry}")
    lines += [f"data: {line}" for line in _LINE_END.split(data)]
    return ("\n".join(lines) + "\n\n").encode()


class EventStreamParser:
    """Bytes of a ``text/event-stream`` in, :class:`ServerSentEvent` out.

    ``last_event_id`` starts as given (a reconnection resumes from it) and follows the
    stream's ``id`` fields; ``retry`` is the last valid ``retry`` field, in milliseconds.
    """

    __slots__ = (
        "_cr_pending",
        "_data",
        "_data_size",
        "_decoder",
        "_event",
        "_id",
        "_line",
        "_retry",
        "_started",
        "last_event_id",
        "max_event_size",
        "retry",
        "url",
    )

    def __init__(self, *, last_event_id: str = "", max_event_size: int = DEFAULT_MAX_EVENT_SIZE, url: str = "") -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._started = False  # a BOM is dropped only at the very start
        self._cr_pending = False  # the last text ended in CR: an LF first in the next text is its pair
        self._line = ""  # the unfinished line
        self._data: list[str] = []
        self._data_size = 0
        self._event = ""
        self._id = last_event_id
        self._retry: int | None = None
        self.last_event_id = last_event_id
        self.retry: int | None = None
        self.max_event_size = max_event_size
        self.url = url

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events that ``chunk`` completes, in order."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._cr_pending:
            self._cr_pending = False
            if text.startswith("\n"):
                text = text[1:]
        events: list[ServerSentEvent] = []
        start = 0
        for end in _LINE_END.finditer(text):
            line = text[start : end.start()]
            if self._line:
                line, self._line = self._line + line, ""
            start = end.end()
            event = self._take(line)
            if event is not None:
                events.append(event)
        if start < len(text):
            rest = text[start:]
            if len(self._line) + len(rest) > self.max_event_size:
                raise self._too_large("line")
            self._line += rest
        elif text.endswith("\r"):
            self._cr_pending = True
        return events

    def _take(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data_size += len(value) + 1
            if self._data_size > self.max_event_size:
                raise self._too_large("event")
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():  # else ignored
            self._retry = self.retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        self.last_event_id = self._id
        data, event, retry = self._data, self._event, self._retry
        self._data, self._event, self._retry, self._data_size = [], "", None, 0
        if not data:
            return None
        return ServerSentEvent(event or "message", "\n".join(data), self._id, retry)

    def _too_large(self, what: str) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"An event-stream {what} from {self.url or 'the server'} passed max_event_size="
            f"{self.max_event_size:,} characters. Raise it: client.sse(url, max_event_size=...).",
            limit_name="max_event_size",
            limit=self.max_event_size,
            url=self.url,
        )
