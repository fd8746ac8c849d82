"""Server-Sent Events on every engine and backend, against hypercorn serving ``sse_app``."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import anyio
import pytest
from servers import Hypercorn

from kclient import (
    ClientCancelledError,
    EventStreamError,
    HttpClient,
    ProtocolError,
    ReadError,
    Reconnection,
    ServerResponseError,
    SocketTimeout,
    Timeouts,
)

from .sse_app import SseApp
from .support import HANG_GUARD

pytestmark = pytest.mark.anyio

_tags = itertools.count()


@pytest.fixture(scope="module")
def sse_server() -> Iterator[tuple[str, SseApp]]:
    app = SseApp()
    with Hypercorn(app) as server:
        yield server.url, app


def tagged(sse_server: tuple[str, SseApp], path: str) -> tuple[str, str]:
    """The URL of ``path`` with a tag of its own, and the tag."""
    tag = f"t{next(_tags)}"
    separator = "&" if "?" in path else "?"
    return f"{sse_server[0]}{path}{separator}tag={tag}", tag


async def test_events_arrive_in_order(make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]) -> None:
    client = make_client()
    url, _ = tagged(sse_server, "/events?n=3")
    with anyio.fail_after(HANG_GUARD):
        async with client.sse(url, max_reconnects=0) as events:
            received = [event async for event in events]
            assert client.status().in_flight == 0  # the stream ended with its last event
    assert [(e.event, e.data, e.id) for e in received] == [("message", f"event {i}", str(i)) for i in (1, 2, 3)]
    assert events.events == 3 and events.reconnects == 0 and events.last_event_id == "3"
    assert events.response is not None and events.response.request.headers["Accept"] == "text/event-stream"


async def test_reconnects_with_last_event_id_and_stops_at_204(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    client = make_client()
    url, tag = tagged(sse_server, "/resume")
    seen: list[Reconnection] = []
    with anyio.fail_after(HANG_GUARD):
        async with client.sse(url, on_reconnect=seen.append) as events:
            data = [event.data async for event in events]
    assert data == ["event 1", "event 2", "event 3", "event 4"]
    assert sse_server[1].seen[tag] == [None, "2", "4"]  # what each connection sent
    assert events.reconnects == 2 and [r.count for r in seen] == [1, 2]
    assert [(r.attempt, r.delay, r.last_event_id, r.error) for r in seen] == [
        (1, 0.02, "2", None),
        (1, 0.02, "4", None),
    ]
    assert client.status().in_flight == 0
    assert (await client.get(sse_server[0] + "/no-content")).status == 204  # the client goes on


async def test_a_cut_stream_reconnects_and_the_partial_event_is_dropped(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    client = make_client()
    url, tag = tagged(sse_server, "/cut")
    seen: list[Reconnection] = []
    with anyio.fail_after(HANG_GUARD):
        async with client.sse(url, on_reconnect=seen.append) as events:
            data = [event.data async for event in events]
    assert data == ["event 1", "event 2"]  # "never dispatch" was cut before its blank line
    assert sse_server[1].seen[tag] == [None, "1", "2"]
    assert isinstance(seen[0].error, (ProtocolError, ReadError)), seen[0].error
    assert seen[0].error.__cause__ is not None or isinstance(seen[0].error, ProtocolError)


async def test_reconnections_in_a_row_without_an_event_give_up(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    client = make_client()
    url, tag = tagged(sse_server, "/empty")
    with anyio.fail_after(HANG_GUARD), pytest.raises(EventStreamError, match="2 reconnections in a row"):
        async with client.sse(url, max_reconnects=2) as events:
            async for _ in events:
                pass
    assert len(sse_server[1].seen[tag]) == 3  # the first connection and two reconnections
    assert events.reconnects == 2
    assert client.status().in_flight == 0


async def test_reconnection_off_ends_at_the_end_of_the_stream(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    client = make_client()
    url, tag = tagged(sse_server, "/resume")
    with anyio.fail_after(HANG_GUARD):
        async with client.sse(url, max_reconnects=0) as events:
            assert [event.data async for event in events] == ["event 1", "event 2"]
    assert sse_server[1].seen[tag] == [None]


async def test_a_silent_stream_ends_in_socket_timeout(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    client = make_client()
    url, tag = tagged(sse_server, "/silent")
    with anyio.fail_after(HANG_GUARD), pytest.raises(SocketTimeout):
        async with client.sse(url, timeout=Timeouts(socket=0.5)) as events:
            async for _ in events:
                pass
    assert sse_server[1].seen[tag] == [None]  # a timeout does not reconnect
    assert client.status().in_flight == 0


async def test_the_request_timeout_does_not_end_a_live_stream(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    """``timeout`` bounds connecting and the head: a stream may outlast it, event by event."""
    client = make_client()
    url, _ = tagged(sse_server, "/trickle?n=5")
    with anyio.fail_after(HANG_GUARD):
        async with client.sse(url, timeout=0.25, max_reconnects=0) as events:
            assert [event.data async for event in events] == ["1", "2", "3", "4", "5"]


async def test_not_an_event_stream_is_an_event_stream_error(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD), pytest.raises(EventStreamError, match="application/json"):
        async with client.sse(sse_server[0] + "/not-sse"):
            pass
    assert client.status().in_flight == 0


async def test_an_error_status_is_its_response_error(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD), pytest.raises(ServerResponseError) as caught:
        async with client.sse(sse_server[0] + "/error"):
            pass
    assert caught.value.response.status == 503
    assert client.status().in_flight == 0


async def test_no_content_is_an_empty_stream(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD):
        async with client.sse(sse_server[0] + "/no-content") as events:
            assert [event async for event in events] == []


async def test_an_open_stream_counts_as_in_flight_and_cancel_ends_it(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    client = make_client()
    url, _ = tagged(sse_server, "/silent")
    with anyio.fail_after(HANG_GUARD), pytest.raises(ClientCancelledError):
        async with client.sse(url) as events:
            assert client.status().in_flight == 1
            client.cancel()
            async for _ in events:
                pass
    assert client.status().in_flight == 0


async def test_close_lets_the_stream_finish_without_reconnecting(
    make_client: Callable[..., HttpClient], sse_server: tuple[str, SseApp]
) -> None:
    client = make_client()
    url, tag = tagged(sse_server, "/resume")
    with anyio.fail_after(HANG_GUARD):
        async with client.sse(url) as events:
            client.close()
            assert [event.data async for event in events] == ["event 1", "event 2"]
        await client.join()
    assert sse_server[1].seen[tag] == [None]
