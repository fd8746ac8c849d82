"""WebSockets on every engine that has them, against the ``websockets`` library's server (``ws_server``).

Engines without WebSockets are checked to refuse with the names of those that have them.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
from collections.abc import Callable, Iterator

import anyio
import pytest
from servers import SilentServer, Tinyproxy
from ws_server import WsServer

from kclient import (
    ClientCancelledError,
    ConfigError,
    DefaultRequest,
    Engine,
    HttpClient,
    InvalidRequestError,
    KClientTimeoutError,
    Logging,
    LogLevel,
    ProtocolError,
    ProxyBuilder,
    ResponseTooLargeError,
    TLSError,
    UnsupportedSettingError,
    WebSocketClosedError,
    WebSocketHandshakeError,
    WebSocketProtocolError,
    WebSocketSession,
)
from kclient.plugins.auth import Auth, BasicAuth

from .support import HANG_GUARD, Pki

pytestmark = pytest.mark.anyio

_tags = itertools.count()


@pytest.fixture(scope="module")
def ws_server() -> Iterator[WsServer]:
    with WsServer() as server:
        yield server


@pytest.fixture
def ws_engine(engine: type[Engine], engine_name: str) -> type[Engine]:
    """The engine under test, when it has WebSockets (the others have their own test below)."""
    if not engine.capabilities.websockets:
        pytest.skip(f"Engine {engine_name} has no WebSockets (test_engines_without_websockets_refuse checks it).")
    return engine


def tagged(server: WsServer, path: str) -> tuple[str, str]:
    tag = f"t{next(_tags)}"
    separator = "&" if "?" in path else "?"
    return f"{server.url}{path}{separator}tag={tag}", tag


async def wait_for(condition: Callable[[], bool]) -> None:
    while not condition():
        await anyio.sleep(0.005)


async def test_messages_go_both_ways(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    url, tag = tagged(ws_server, "/echo")
    with anyio.fail_after(HANG_GUARD):
        async with client.websocket(url) as ws:
            assert isinstance(ws, WebSocketSession) and ws.response.status == 101
            assert client.status().in_flight == 1
            await ws.send("héllo")
            assert await ws.receive() == "héllo"
            await ws.send(b"\x00\xff")
            assert await ws.receive_bytes() == b"\x00\xff"
            await ws.send_json({"n": 1, "list": [1, 2]})
            assert await ws.receive_json() == {"n": 1, "list": [1, 2]}
            big = "z" * 300_000  # several frames and a deflated message
            await ws.send(big)
            assert await ws.receive_text() == big
            assert await ws.ping() > 0
            assert ws.extensions == ("permessage-deflate",)
            assert (ws.sent, ws.received) == (4, 4)
        assert ws.closed and ws.close_code == 1000
        await wait_for(lambda: tag in ws_server.closes)
    assert ws_server.closes[tag] == 1000
    assert client.status().in_flight == 0 and client.status().completed == 1
    assert "ws://127.0.0.1" in repr(ws) and "closed 1000" in repr(ws)


async def test_subprotocols_and_compression_are_negotiated(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD):
        async with client.websocket(ws_server.url + "/subprotocol", subprotocols=["json", "chat"]) as ws:
            assert ws.subprotocol == "json"
            assert await ws.receive() == "json"
        async with client.websocket(ws_server.url + "/subprotocol", compression=False) as ws:
            assert ws.subprotocol is None and ws.extensions == ()
            assert await ws.receive() == ""
            await ws.send("plain")
            assert await ws.receive() == "plain"


async def test_the_handshake_carries_the_clients_headers_auth_and_default_request(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client(
        lambda c: (
            c.install(DefaultRequest, headers={"X-Team": "kclient"}),
            c.install(Auth, providers=[BasicAuth("ada", "s3cret")]),
        )
    )
    with anyio.fail_after(HANG_GUARD):
        async with client.websocket(ws_server.url + "/headers", headers={"X-Trace": "42"}, params={"q": "1"}) as ws:
            seen = {k.lower(): v for k, v in json.loads(await ws.receive_text()).items()}
    assert seen["x-team"] == "kclient" and seen["x-trace"] == "42"
    assert seen["authorization"] == "Basic " + base64.b64encode(b"ada:s3cret").decode()
    assert seen["upgrade"].lower() == "websocket" and seen["sec-websocket-version"] == "13"
    assert seen["user-agent"].startswith("kclient/")


async def test_a_401_challenge_is_answered_by_the_auth_plugin(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client(lambda c: c.install(Auth, providers=[BasicAuth("ada", "s3cret", send_without_request=False)]))
    with anyio.fail_after(HANG_GUARD):
        async with client.websocket(ws_server.url + "/auth") as ws:
            await ws.send("in")
            assert await ws.receive() == "in"


async def test_a_refused_handshake_is_a_typed_error_with_the_status_and_a_masked_url(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    url = ws_server.url.replace("ws://", "ws://ada:s3cret@") + "/reject?token=hidden"
    with anyio.fail_after(HANG_GUARD), pytest.raises(WebSocketHandshakeError) as caught:
        async with client.websocket(url):
            pytest.fail("the session opened")
    error = caught.value
    assert error.status == 403 and error.url.startswith("ws://")
    assert "s3cret" not in str(error) and "hidden" not in str(error) and "403" in str(error)
    assert client.status().in_flight == 0 and client.status().failed == 1
    async with client.websocket(ws_server.url + "/echo") as ws:  # the client goes on
        await ws.send("again")
        assert await ws.receive() == "again"


async def test_the_servers_close_code_and_reason_are_reported(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD):
        async with client.websocket(ws_server.url + "/close?code=4001&reason=bye") as ws:
            with pytest.raises(WebSocketClosedError) as caught:
                async for _ in ws:
                    pytest.fail("no message was sent")
            assert (caught.value.code, caught.value.reason) == (4001, "bye")
            assert ws.closed and (ws.close_code, ws.close_reason) == (4001, "bye")
            with pytest.raises(WebSocketClosedError):
                await ws.send("late")
        async with client.websocket(ws_server.url + "/close?code=1000") as ws:
            assert [m async for m in ws] == []  # a normal close ends the loop quietly


async def test_a_dropped_connection_is_1006(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD):
        async with client.websocket(ws_server.url + "/drop") as ws:
            with pytest.raises(WebSocketClosedError) as caught:
                await ws.receive()
    assert caught.value.code == 1006 and ws.close_code == 1006


async def test_a_message_past_max_message_size_is_refused_and_closes_with_1009(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    url, tag = tagged(ws_server, "/big?size=5000")
    with anyio.fail_after(HANG_GUARD):
        async with client.websocket(url, max_message_size=4096) as ws:
            with pytest.raises(ResponseTooLargeError) as caught:
                await ws.receive()
            assert caught.value.limit_name == "max_message_size" and caught.value.limit == 4096
            assert "max_message_size" in str(caught.value)
            with pytest.raises(WebSocketClosedError):
                await ws.receive()
        await wait_for(lambda: tag in ws_server.closes)
    assert ws_server.closes[tag] == 1009


async def test_an_unread_session_holds_a_bounded_queue_and_the_server_waits(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    n = 40_000  # 40 MiB: more than the socket buffers hold
    url, tag = tagged(ws_server, f"/flood?n={n}&size=1024")
    with anyio.fail_after(HANG_GUARD * 2):
        async with client.websocket(url, receive_queue=8, compression=False) as ws:
            await wait_for(lambda: ws_server.sent.get(tag, 0) > 0)
            await anyio.sleep(0.3)
            assert ws_server.sent[tag] < n // 2  # the server is held back by the unread session
            count = 0
            async for message in ws:
                assert len(message) == 1024
                count += 1
    assert count == n and ws_server.sent[tag] == n


async def test_a_protocol_violation_is_a_typed_error(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    url, tag = tagged(ws_server, "/bad-frame")
    with anyio.fail_after(HANG_GUARD):
        async with client.websocket(url) as ws:
            with pytest.raises(WebSocketProtocolError) as caught:
                await ws.receive()
            assert isinstance(caught.value, ProtocolError)
            assert ws.close_code == 1002
        await wait_for(lambda: tag in ws_server.closes)


async def test_receive_with_a_timeout(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD):
        async with client.websocket(ws_server.url + "/echo") as ws:
            with pytest.raises(KClientTimeoutError, match="No message"):
                await ws.receive(timeout=0.05)
            await ws.send("still there")
            assert await ws.receive(timeout=5) == "still there"


async def test_a_silent_server_ends_the_handshake_in_the_request_timeout(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient]
) -> None:
    client = make_client()
    with SilentServer() as silent, anyio.fail_after(HANG_GUARD), pytest.raises(KClientTimeoutError):
        async with client.websocket(silent.url.replace("http://", "ws://"), timeout=0.3):
            pytest.fail("the session opened")
    assert client.status().in_flight == 0


async def test_close_lets_an_open_session_run_and_join_waits_for_it(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    with anyio.fail_after(HANG_GUARD):
        async with client.websocket(ws_server.url + "/echo") as ws:
            client.close()
            await ws.send("after close()")
            assert await ws.receive() == "after close()"
            assert client.status().in_flight == 1
        await client.join()
    assert client.state.name == "CLOSED"


async def test_cancel_closes_sessions_with_1001_and_their_readers_raise(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    errors: list[BaseException] = []
    tags = [f"c{next(_tags)}" for _ in range(3)]
    open_here: list[str] = []

    async def owner(tag: str) -> None:
        try:
            async with client.websocket(f"{ws_server.url}/echo?tag={tag}") as ws:
                open_here.append(tag)
                await ws.receive()
        except ClientCancelledError as exc:
            errors.append(exc)

    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as group:
            for tag in tags:
                group.start_soon(owner, tag)
            # Open on the client's side too: the server counts a session open once it has sent its
            # 101, before the client has read it, and a cancel() then drops a handshake (1006).
            await wait_for(lambda: ws_server.opened.issuperset(tags) and len(open_here) == len(tags))
            client.cancel()
        await client.join()
        await wait_for(lambda: all(tag in ws_server.closes for tag in tags))
    assert len(errors) == 3
    assert [ws_server.closes[tag] for tag in tags] == [1001] * 3


async def test_a_reader_task_gets_client_cancelled_error(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    readers: list[BaseException] = []
    owners: list[BaseException] = []
    sessions: list[WebSocketSession] = []
    opened = anyio.Event()

    async def owner() -> None:
        try:
            async with client.websocket(ws_server.url + "/echo") as ws:
                sessions.append(ws)
                opened.set()
                await anyio.sleep(HANG_GUARD)
        except ClientCancelledError as exc:
            owners.append(exc)

    async def reader() -> None:
        await opened.wait()
        try:
            await sessions[0].receive()
        except ClientCancelledError as exc:
            readers.append(exc)

    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as group:
            group.start_soon(owner)
            group.start_soon(reader)
            await opened.wait()
            await anyio.sleep(0.05)
            client.cancel()
    assert len(owners) == 1 and len(readers) == 1 and "WebSocket" in str(readers[0])
    with pytest.raises(ClientCancelledError):
        await sessions[0].send("after cancel()")


async def test_wss_uses_the_clients_tls_settings(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], pki: Pki
) -> None:
    with WsServer(pki.server_context("127.0.0.1")) as secure, anyio.fail_after(HANG_GUARD):
        client = make_client(https={"ca_file": pki.ca_file})
        async with client.websocket(secure.url + "/echo") as ws:
            await ws.send("secret")
            assert await ws.receive() == "secret"
        untrusting = make_client()
        with pytest.raises(TLSError):
            async with untrusting.websocket(secure.url + "/echo"):
                pytest.fail("an unknown CA was trusted")


async def test_ws_through_an_http_proxy(
    ws_engine: type[Engine],
    engine_name: str,
    make_client: Callable[..., HttpClient],
    ws_server: WsServer,
    tinyproxy: Tinyproxy,
) -> None:
    client = make_client(proxy=ProxyBuilder.http(tinyproxy.url))
    url, _ = tagged(ws_server, "/echo")
    with anyio.fail_after(HANG_GUARD):
        if engine_name == "Aiohttp":  # aiohttp would send it in absolute form, which proxies do not upgrade
            with pytest.raises(UnsupportedSettingError, match="wss:// or the CIO engine"):
                async with client.websocket(url):
                    pytest.fail("the session opened")
            return
        async with client.websocket(url) as ws:
            await ws.send("via the proxy")
            assert await ws.receive() == "via the proxy"
    assert f"CONNECT 127.0.0.1:{ws_server.port}" in tinyproxy.log_text()


async def test_wss_through_an_http_proxy(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], pki: Pki, tinyproxy: Tinyproxy
) -> None:
    with WsServer(pki.server_context("127.0.0.1")) as secure, anyio.fail_after(HANG_GUARD):
        client = make_client(proxy=ProxyBuilder.http(tinyproxy.url), https={"ca_file": pki.ca_file})
        async with client.websocket(secure.url + "/echo") as ws:
            await ws.send("tunnelled")
            assert await ws.receive() == "tunnelled"
    assert f"CONNECT 127.0.0.1:{secure.port}" in tinyproxy.log_text()


async def test_bad_arguments_are_refused_before_connecting(
    ws_engine: type[Engine], make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    client = make_client()
    with pytest.raises(InvalidRequestError, match="has no body"):
        async with client.websocket(ws_server.url, json={"a": 1}):  # type: ignore[call-arg]
            pass
    with pytest.raises(InvalidRequestError, match="did you mean subprotocols"):
        async with client.websocket(ws_server.url, subprotocol=["chat"]):  # type: ignore[call-arg]
            pass
    with pytest.raises(ConfigError, match="receive_queue"):
        async with client.websocket(ws_server.url, receive_queue=0):
            pass
    async with client.websocket(ws_server.url + "/echo") as ws:
        with pytest.raises(InvalidRequestError, match="Close code"):
            await ws.close(1006)
        with pytest.raises(InvalidRequestError, match="str"):
            await ws.send(42)  # type: ignore[arg-type]
    assert client.status().in_flight == 0


async def test_engines_without_websockets_refuse(
    engine: type[Engine], engine_name: str, make_client: Callable[..., HttpClient], ws_server: WsServer
) -> None:
    if engine.capabilities.websockets:
        pytest.skip(f"Engine {engine_name} has WebSockets (the tests above check them).")
    client = make_client()
    with pytest.raises(UnsupportedSettingError, match=r"does not support WebSockets.*CIO") as caught:
        async with client.websocket(ws_server.url + "/echo"):
            pass
    assert engine_name in str(caught.value)
    assert client.status().in_flight == 0


async def test_the_logging_plugin_logs_the_handshake_with_its_secrets_masked(
    ws_engine: type[Engine],
    make_client: Callable[..., HttpClient],
    ws_server: WsServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "s3cr3t-t0ken-value"
    client = make_client(lambda c: c.install(Logging, level=LogLevel.ALL, logger="kclient.test.ws"))
    with caplog.at_level(logging.INFO, logger="kclient.test.ws"), anyio.fail_after(HANG_GUARD):
        async with client.websocket(
            f"{ws_server.url}/echo?token={secret}", headers={"Authorization": f"Bearer {secret}"}
        ) as ws:
            await ws.send("logged?")
            assert await ws.receive() == "logged?"
    assert "101" in caplog.text and "/echo" in caplog.text
    assert secret not in caplog.text
