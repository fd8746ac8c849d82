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
from typing import Any, NamedTuple

from ._errors import DecodingError, ResponseTooLargeError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "EventStreamParser", "ServerSentEvent", "encode_event"]

#: The longest line or event data kept in memory, in characters, by default.
DEFAULT_MAX_EVENT_SIZE = 16 << 20

_LINE_END = re.compile(r"\r\n|\r|\n")  # in encode_event


class ServerSentEvent(NamedTuple):
    """One dispatched event: its type (``"message"`` unless the stream said), its data, the
    last event id (kept from earlier events when this one set none) and the ``retry`` it set
    (milliseconds) or None. A named tuple: immutable, and cheap to make (a stream may carry
    hundreds of thousands a second)."""

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
        lines = self._lines(chunk)
        return self._events(lines) if lines else []

    def _lines(self, chunk: bytes) -> list[str]:
        """The lines that ``chunk`` completes; the unfinished one is kept for the next chunk."""
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
        if "\r" in text:  # CR and CRLF become LF; a CR last may pair with an LF first in the next chunk
            self._cr_pending = text.endswith("\r")
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        rest = lines.pop()  # the unfinished line ("" when the text ended with a line end)
        if not lines:
            if len(self._line) + len(rest) > self.max_event_size:
                raise self._too_large("line")
            self._line += rest
            return []
        if self._line:
            lines[0] = self._line + lines[0]
        if len(rest) > self.max_event_size:
            raise self._too_large("line")
        self._line = rest
        return lines

    def _events(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:  # the standard's steps, inline: this loop is the hot path
            if not line:  # dispatch
                self.last_event_id = self._id
                if data:
                    events.append(ServerSentEvent(self._event or "message", "\n".join(data), self._id, self._retry))
                    data = self._data = []
                self._event, self._retry, self._data_size = "", None, 0
                continue
            name, colon, value = line.partition(":")
            if not name:  # a comment
                continue
            if colon and value[:1] == " ":
                value = value[1:]
            if name == "data":
                self._data_size += len(value) + 1
                if self._data_size > self.max_event_size:
                    raise self._too_large("event")
                data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\0" not in value:
                    self._id = value
            elif name == "retry" and value.isascii() and value.isdigit():  # else ignored
                self._retry = self.retry = int(value)
        return events

    def _too_large(self, what: str) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"An event-stream {what} from {self.url or 'the server'} passed max_event_size="
            f"{self.max_event_size:,} characters. Raise it: client.sse(url, max_event_size=...).",
            limit_name="max_event_size",
            limit=self.max_event_size,
            url=self.url,
        )
