"""kclient.demo: httpbin on 127.0.0.1 for notebooks, started once per process, quiet, stoppable."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from kclient import ConfigError, HttpClient, demo
from kclient.demo import DemoServer


@pytest.fixture
def shared() -> Iterator[None]:
    demo.stop()
    yield
    demo.stop()


def test_serve_returns_a_local_base_url_and_the_same_one_again(shared: None) -> None:
    url = demo.serve()
    assert url.startswith("http://127.0.0.1:")
    assert demo.serve() == url  # re-running a notebook's first cell
    with HttpClient("CIO") as client:
        response = client.blocking.get(f"{url}/get", params={"q": "demo"})
    assert response.status == 200
    assert response.json()["args"] == {"q": "demo"}


def test_httpbin_endpoints_the_notebooks_use(shared: None) -> None:
    url = demo.serve()
    with HttpClient("CIO") as client:
        assert client.blocking.get(f"{url}/status/418").status == 418
        assert client.blocking.get(f"{url}/gzip").json()["gzipped"] is True
        assert client.blocking.get(f"{url}/basic-auth/ada/pw", headers={"Authorization": "Basic YWRhOnB3"}).is_success
        assert client.blocking.get(f"{url}/redirect/2").url.path == "/get"
        assert len(client.blocking.get(f"{url}/bytes/1000").content) == 1000


def test_requests_are_not_printed(shared: None, capfd: pytest.CaptureFixture[str]) -> None:
    url = demo.serve()
    with HttpClient("CIO") as client:
        client.blocking.get(f"{url}/get")
    out, err = capfd.readouterr()
    assert "GET /get" not in out + err


def test_stop_frees_the_port_and_serve_starts_a_new_server(shared: None) -> None:
    url = demo.serve()
    port = int(url.rsplit(":", 1)[1])
    demo.stop()
    demo.stop()  # twice is fine
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # free again
    assert demo.serve().startswith("http://127.0.0.1:")


def test_another_port_while_running_is_an_error(shared: None) -> None:
    url = demo.serve()
    port = int(url.rsplit(":", 1)[1])
    assert demo.serve(port) == url
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        busy = other.getsockname()[1]
    with pytest.raises(ConfigError, match="already runs"):
        demo.serve(busy)


def test_server_object_as_a_context_manager() -> None:
    server = DemoServer()
    assert "stopped" in repr(server)
    with pytest.raises(ConfigError, match="not running"):
        _ = server.url
    with server:
        assert server.running and server.url in repr(server)
        with HttpClient("CIO") as client:
            assert client.blocking.get(f"{server.url}/uuid").status == 200
    assert not server.running


@pytest.mark.parametrize("port", [-1, 65536, "8000", True, 1.5])
def test_bad_port(port: object) -> None:
    with pytest.raises(ConfigError, match="port must be"):
        DemoServer(port)  # type: ignore[arg-type]


def test_a_busy_port_is_a_config_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigError, match="cannot listen"):
            DemoServer(taken.getsockname()[1]).start()


def test_without_httpbin_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpbin", None)
    with pytest.raises(ConfigError, match=r"pip install 'kclient\[demo\]'"):
        DemoServer().start()


def test_command_line_serves_until_interrupted() -> None:
    process = subprocess.Popen([sys.executable, "-m", "kclient.demo", "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split()[2]
        assert url.startswith("http://127.0.0.1:")
        with HttpClient("CIO") as client:
            assert client.blocking.get(f"{url}/get").status == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_the_demo_streams_server_sent_events(shared: None) -> None:
    url = demo.serve()
    with HttpClient("CIO") as client:
        with client.blocking.sse(f"{url}/sse/tokens?delay=0", reconnect_delay=0) as events:
            received = list(events)
        assert "".join(e.json()["token"] for e in received if e.event == "token").startswith("Server-Sent Events are")
        assert (received[-1].event, received[-1].data, events.reconnects) == ("done", "[DONE]", 1)  # then a 204
        with client.blocking.sse(f"{url}/sse/ticks?n=4&delay=0", last_event_id="2", reconnect_delay=0) as events:
            assert [e.data for e in events] == ["tick 3 of 4", "tick 4 of 4"]
        assert client.blocking.get(f"{url}/sse/nothing").status == 404
        assert client.blocking.get(f"{url}/get").status == 200  # httpbin behind it


def test_websocket_routes_the_notebooks_use(shared: None) -> None:
    import kclient

    base = demo.ws_url()
    assert base.startswith("ws://127.0.0.1:") and demo.ws_url() == base

    async def session() -> tuple[list[str | bytes], list[object], int]:
        async with HttpClient("CIO") as client:
            async with client.websocket(f"{base}/ws/ticks?n=3&delay=0") as ws:
                ticks = [message async for message in ws]
            async with client.websocket(f"{base}/ws/chat") as ws:
                await ws.send("two words")
                tokens = [await ws.receive_json() for _ in range(3)]
            try:
                async with client.websocket(f"{base}/ws/nowhere"):
                    pass
            except kclient.WebSocketHandshakeError as error:
                return ticks, tokens, error.status
        raise AssertionError("/ws/nowhere opened")

    ticks, tokens, status = kclient.run(session())
    assert ticks == [f'{{"tick": {i}, "of": 3}}' for i in (1, 2, 3)]
    assert tokens == [{"token": "two"}, {"token": "words"}, {"done": True}]
    assert status == 404
    demo.stop()
    with pytest.raises(ConfigError, match="not running"):
        DemoServer().ws_url
