"""``client.sse`` on the Mock engine and through ``client.blocking``: no network, same rules."""

from __future__ import annotations

from typing import Any

import pytest

from kclient import (
    ConfigError,
    EventStreamError,
    HttpClient,
    Mock,
    Reconnection,
    ServerSentEvent,
    UnhandledRequestError,
    respond,
    respond_events,
)

pytestmark = pytest.mark.anyio


async def test_events_from_a_mock() -> None:
    engine = Mock(lambda r: respond_events("Hello", {"token": "world"}, ServerSentEvent("done", "[DONE]", "9")))
    async with HttpClient(engine) as client, client.sse("https://api.test/stream", max_reconnects=0) as events:
        received = [event async for event in events]
    assert [e.data for e in received] == ["Hello", '{"token": "world"}', "[DONE]"]
    assert received[1].json() == {"token": "world"}
    assert (received[2].event, received[2].id) == ("done", "9")
    request = engine.request_history[0]
    assert (request.method, request.headers["Accept"], request.headers["Cache-Control"]) == (
        "GET",
        "text/event-stream",
        "no-store",
    )
    assert "Last-Event-ID" not in request.headers


async def test_reconnection_on_a_mock_sends_the_last_event_id() -> None:
    engine = Mock(
        lambda r: respond_events(ServerSentEvent(data="a", id="1"), retry=0),
        lambda r: respond_events(ServerSentEvent(data="b", id="2")),
        lambda r: respond(status=204),
    )
    seen: list[Reconnection] = []
    async with HttpClient(engine) as client, client.sse("https://api.test/s", on_reconnect=seen.append) as events:
        assert [event.data async for event in events] == ["a", "b"]
    assert [r.headers.get("Last-Event-ID") for r in engine.request_history] == [None, "1", "2"]
    assert [(r.count, r.delay) for r in seen] == [(1, 0.0), (2, 0.0)]  # retry: 0 carries over


async def test_resume_from_a_given_last_event_id_and_headers_are_kept() -> None:
    engine = Mock(lambda r: respond_events("x"))
    async with (
        HttpClient(engine) as client,
        client.sse(
            "https://api.test/s", last_event_id="41", headers={"Authorization": "Bearer t"}, max_reconnects=0
        ) as events,
    ):
        assert [e.id async for e in events] == ["41"]
    assert engine.request_history[0].headers["Last-Event-ID"] == "41"
    assert engine.request_history[0].headers["Authorization"] == "Bearer t"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"reconnect_delay": -1}, "reconnect_delay= is a number of seconds"),
        ({"max_reconnects": 1.5}, "max_reconnects= is a whole number"),
        ({"max_event_size": True}, "max_event_size= is a whole number"),
        ({"last_event_id": "a\nb"}, "last_event_id= is a string without NUL"),
        ({"on_reconnect": 3}, "on_reconnect= is a function"),
        ({"reconect_delay": 1}, "reconnect_delay"),  # a misspelling: did you mean
    ],
)
async def test_bad_options_are_config_errors(options: dict[str, object], message: str) -> None:
    from kclient import KClientError

    async with HttpClient(Mock(lambda r: respond_events("x"))) as client:
        with pytest.raises(KClientError, match=message):
            async with client.sse("https://api.test/s", **options):  # type: ignore[arg-type]
                pass


async def test_a_handler_failure_is_not_swallowed() -> None:
    async with HttpClient(Mock(reuse_handlers=False)) as client:
        with pytest.raises(UnhandledRequestError):
            async with client.sse("https://api.test/s"):
                pass


async def test_html_is_not_an_event_stream() -> None:
    async with HttpClient(Mock(lambda r: respond("<html>", headers={"Content-Type": "text/html"}))) as client:
        with pytest.raises(EventStreamError, match="'text/html', not text/event-stream"):
            async with client.sse("https://api.test/s"):
                pass
        assert client.status().in_flight == 0


def test_the_blocking_twin() -> None:
    engine = Mock(lambda r: respond_events("one", "two"))
    with HttpClient(engine) as client:
        with client.blocking.sse("https://api.test/s", max_reconnects=0) as events:
            assert [event.data for event in events] == ["one", "two"]
            assert events.events == 2 and events.reconnects == 0
        assert client.status().in_flight == 0
        assert "ended" in repr(events)


def test_encode_event_refuses_line_ends_in_names() -> None:
    from kclient._sse import encode_event

    assert encode_event("a\nb", event="e", id="1", retry=5) == b"event: e\nid: 1\nretry: 5\ndata: a\ndata: b\n\n"
    with pytest.raises(ValueError, match="line end"):
        encode_event("x", event="a\nb")
    with pytest.raises(ValueError, match="NUL"):
        encode_event("x", id="a\0")


async def test_a_post_with_a_json_body_is_sent_again_on_reconnection() -> None:
    engine = Mock(lambda r: respond_events({"token": "Hi"}, retry=0), lambda r: respond(status=204))
    async with (
        HttpClient(engine) as client,
        client.sse("https://api.test/v1/chat", method="post", json={"stream": True}) as events,
    ):
        assert [e.json()["token"] async for e in events] == ["Hi"]
    assert [(r.method, r.content) for r in engine.request_history] == [("POST", b'{"stream":true}')] * 2


async def test_a_streamed_body_cannot_be_sent_again() -> None:
    async def body() -> Any:
        yield b"x"

    async with HttpClient(Mock(lambda r: respond_events("x"))) as client:
        with pytest.raises(ConfigError, match="bytes or str here, not async_generator"):
            client.sse("https://api.test/s", method="POST", content=body())
