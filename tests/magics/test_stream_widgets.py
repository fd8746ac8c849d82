"""The stream widgets, against real peers: ``WebSocketConsole`` on the ``websockets`` library's
server, ``EventViewer`` on a Mock engine's event stream; both follow the client's counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import anyio
import pytest
from ws_server import WsServer

from kclient import HttpClient, Mock, respond, respond_events
from kclient.widgets import EventViewer, WebSocketConsole

SECRET = "s3cr3t-t0ken-value"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # widget callbacks run on the kernel's asyncio loop


@pytest.fixture(scope="module")
def ws_server() -> Iterator[WsServer]:
    with WsServer() as server:
        yield server


async def until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(10):
        while not condition():
            await anyio.sleep(0.005)


@pytest.mark.anyio
async def test_the_console_connects_sends_shows_both_ways_and_closes(ws_server: WsServer) -> None:
    async with HttpClient("CIO") as client:
        console = WebSocketConsole(client, ws_server.url + "/echo", subprotocols=["chat"])
        assert "in flight 0" in console.counts.value and console.send_button.disabled
        console.start_button.click()
        await until(lambda: console.status.value.startswith("open"))
        assert "(chat)" in console.status.value and "in flight 1" in console.counts.value
        assert not console.send_button.disabled and console.start_button.disabled
        for text in ('{"hello": "world"}', "second"):
            console.message.value = text
            console.send_button.click()
        await until(lambda: console.count == 4)
        shown = console.entries.value
        assert shown.count("→") == 2 and shown.count("←") == 2 and "second" in shown
        console.stop_button.click()
        await until(lambda: console.task is not None and console.task.done())
        assert console.status.value == "closed" and "in flight 0" in console.counts.value
        assert console.send_button.disabled and not console.start_button.disabled
        console.close()
        assert client.state.name == "ACTIVE"  # a lent client stays open


@pytest.mark.anyio
async def test_the_console_masks_secrets_and_reports_a_refused_handshake(ws_server: WsServer) -> None:
    async with HttpClient("CIO") as client:
        console = WebSocketConsole(client, ws_server.url + "/headers", headers={"Authorization": f"Bearer {SECRET}"})
        console.start_button.click()
        await until(lambda: console.count == 1)
        assert "Bearer" in console.entries.value or "authorization" in console.entries.value.lower()
        assert SECRET not in console.entries.value
        console.stop_button.click()
        await until(lambda: console.task is not None and console.task.done())
        console.url.value = ws_server.url + "/reject"
        console.start_button.click()
        await until(lambda: console.task is not None and console.task.done())
        assert "WebSocketHandshakeError" in console.status.value and "403" in console.status.value
        console.close()


@pytest.mark.anyio
async def test_the_event_viewer_shows_events_as_they_arrive() -> None:
    engine = Mock(
        lambda r: respond_events("Hello", {"token": SECRET}, retry=0),
        lambda r: respond(status=204),  # the reconnection: the stream is over
    )
    async with HttpClient(engine) as client:
        viewer = EventViewer(client, "https://api.test/stream", headers={"Authorization": f"Bearer {SECRET}"})
        viewer.start_button.click()
        await until(lambda: viewer.task is not None and viewer.task.done())
        assert viewer.count == 2 and "Hello" in viewer.entries.value
        assert SECRET not in viewer.entries.value
        assert viewer.status.value == "ended: 2 event(s)" and "in flight 0" in viewer.counts.value
        viewer.close()


def test_without_a_loop_the_widgets_say_so() -> None:
    viewer = EventViewer(url="https://api.test/stream")
    viewer.start_button.click()
    assert "No event loop" in viewer.status.value
    viewer.close()
    assert viewer.client.state.name in ("CLOSING", "CLOSED")  # the client it made is closed
