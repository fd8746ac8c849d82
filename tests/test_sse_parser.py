"""The event-stream parser against the WHATWG HTML standard's rules and examples (9.2.6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kclient import DecodingError, ResponseTooLargeError, ServerSentEvent
from kclient._sse import EventStreamParser


def parse(stream: bytes, **options: object) -> list[tuple[str, str, str, int | None]]:
    parser = EventStreamParser(**options)  # type: ignore[arg-type]
    return [(e.event, e.data, e.id, e.retry) for e in parser.feed(stream)]


M = "message"

# (name, stream, events as (event, data, id, retry))
TABLE = [
    # The standard's examples.
    ("stock ticker: multi-line data", b"data: YHOO\ndata: +2\ndata: 10\n\n", [(M, "YHOO\n+2\n10", "", None)]),
    (
        "comments, ids and an id that resets",
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
        [(M, "first event", "1", None), (M, "second event", "", None), (M, " third event", "", None)],
    ),
    (
        "fields without a colon; the unfinished last event is dropped",
        b"data\n\ndata\ndata\n\ndata:",
        [(M, "", "", None), (M, "\n", "", None)],
    ),
    ("one space after the colon is dropped, no more", b"data:test\n\ndata: test\n\n", [(M, "test", "", None)] * 2),
    # Line ends.
    ("CR line ends", b"data: a\rdata: b\r\r", [(M, "a\nb", "", None)]),
    ("CRLF line ends", b"data: a\r\ndata: b\r\n\r\n", [(M, "a\nb", "", None)]),
    ("mixed line ends", b"data: a\r\ndata: b\rdata: c\n\r\n", [(M, "a\nb\nc", "", None)]),
    # The encoding.
    ("a leading BOM is dropped", b"\xef\xbb\xbfdata: x\n\n", [(M, "x", "", None)]),
    ("a second BOM is not", b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n", []),  # the field is named "\ufeffdata"
    ("undecodable bytes become U+FFFD", b"data: \xff\xfe ok\n\n", [(M, "\ufffd\ufffd ok", "", None)]),
    ("UTF-8 text", "data: żółw 🐢\n\n".encode(), [(M, "żółw 🐢", "", None)]),
    # Fields.
    (
        "event sets the type for one event",
        b"event: add\ndata: 1\n\ndata: 2\n\n",
        [("add", "1", "", None), (M, "2", "", None)],
    ),
    ("an empty event name is message", b"event\ndata: 1\n\n", [(M, "1", "", None)]),
    ("the id is kept for later events", b"id: 7\ndata: a\n\ndata: b\n\n", [(M, "a", "7", None), (M, "b", "7", None)]),
    (
        "an id with NUL is ignored",
        b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
        [(M, "a", "1", None), (M, "b", "1", None)],
    ),
    ("retry of digits only", b"retry: 2500\ndata: a\n\n", [(M, "a", "", 2500)]),
    (
        "retry with anything else is ignored",
        b"retry: 25s\ndata: a\n\nretry: -1\ndata: b\n\nretry: 1.5\ndata: c\n\n",
        [(M, "a", "", None), (M, "b", "", None), (M, "c", "", None)],
    ),
    ("retry of non-ASCII digits is ignored", "retry: ١٢\ndata: a\n\n".encode(), [(M, "a", "", None)]),
    ("unknown fields are ignored", b"foo: bar\ndata: a\nDATA: b\n\n", [(M, "a", "", None)]),
    ("no data, no event", b"event: ping\n\nid: 3\n\n: just a comment\n\n", []),
    ("a colon in the value is kept", b"data: a: b:c\n\n", [(M, "a: b:c", "", None)]),
    ("a field name is not trimmed", b" data: x\n\n", []),
]


@pytest.mark.parametrize(("stream", "expected"), [pytest.param(s, e, id=n) for n, s, e in TABLE])
def test_the_standard_rules(stream: bytes, expected: list[tuple[str, str, str, int | None]]) -> None:
    assert parse(stream) == expected


@pytest.mark.parametrize(("stream", "expected"), [pytest.param(s, e, id=n) for n, s, e in TABLE])
def test_byte_by_byte_gives_the_same_events(stream: bytes, expected: list[tuple[str, str, str, int | None]]) -> None:
    """A CRLF, a UTF-8 sequence and a BOM may be split across chunks."""
    parser = EventStreamParser()
    events = [e for i in range(len(stream)) for e in parser.feed(stream[i : i + 1])]
    assert [(e.event, e.data, e.id, e.retry) for e in events] == expected


@given(st.lists(st.sampled_from([s for _, s, _ in TABLE])), st.data())
def test_any_split_gives_the_same_events(streams: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(streams)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    whole = EventStreamParser().feed(stream)
    parser = EventStreamParser()
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert [e for piece in pieces for e in parser.feed(piece)] == whole


def test_a_cr_at_the_end_of_a_chunk_pairs_with_the_next_lf() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n\r") == [ServerSentEvent("message", "a", "", None)]
    assert parser.feed(b"\ndata: b\n\n") == [ServerSentEvent("message", "b", "", None)]  # CR then LF: two lines


def test_last_event_id_and_retry_follow_the_stream() -> None:
    parser = EventStreamParser(last_event_id="41")
    assert parser.feed(b"data: a\n\n") == [ServerSentEvent("message", "a", "41")]
    parser.feed(b"id: 42\nretry: 100\n\n")  # no data: no event, but the id and retry count
    assert (parser.last_event_id, parser.retry) == ("42", 100)


def test_an_unfinished_line_or_event_is_bounded() -> None:
    parser = EventStreamParser(max_event_size=10, url="http://h/events")
    with pytest.raises(ResponseTooLargeError, match="line from http://h/events passed max_event_size=10") as caught:
        parser.feed(b"data: " + b"x" * 20)
    assert caught.value.limit_name == "max_event_size" and caught.value.limit == 10
    parser = EventStreamParser(max_event_size=10)
    with pytest.raises(ResponseTooLargeError, match="event"):
        parser.feed(b"data: 123456\ndata: 123456\n")


def test_json_data() -> None:
    assert ServerSentEvent(data='{"token": "Hi", "n": [1]}').json() == {"token": "Hi", "n": [1]}
    with pytest.raises(DecodingError, match="'delta' event is not JSON"):
        ServerSentEvent(event="delta", data="not json").json()
