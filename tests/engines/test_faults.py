"""Hostile and unusual servers (faults.py): every failure is a typed kclient error, and the client goes on.

Each hostile request has configured timeouts, so an engine that waits instead of failing
ends in a (wrong) typed timeout rather than a hang; ``anyio.fail_after`` is only a hang guard.
After every failure the next request on the same client must succeed.
"""

from __future__ import annotations

import anyio
import pytest

from kclient import (
    Engine,
    HttpClient,
    KClientError,
    ProtocolError,
    ReadError,
    RequestTimeout,
    SocketTimeout,
    Timeouts,
)

from .faults import CHUNKED_PARTS, FaultServer
from .support import HANG_GUARD, assert_transport_error, require

pytestmark = pytest.mark.anyio

#: Timeouts of every hostile request: far above what a correct engine needs to fail.
BOUNDED = Timeouts(request=15, socket=5)

#: path -> (the kclient errors the failure may be, whether the engine's native error must be kept).
#: A connection that breaks is a ReadError, or a ProtocolError when the engine reports the peer as
#: having broken HTTP ("closed before the end of the message"); malformed HTTP is a ProtocolError.
HOSTILE: dict[str, tuple[tuple[type[KClientError], ...], bool]] = {
    "/reset-before-response": ((ReadError, ProtocolError), True),
    "/reset-after-status-line": ((ReadError, ProtocolError), True),
    "/reset-mid-body": ((ReadError, ProtocolError), True),
    "/invalid-status-line": ((ProtocolError,), True),
    "/short-body": ((ProtocolError, ReadError), False),
    "/truncated-chunked": ((ProtocolError, ReadError), False),
    "/invalid-chunk-size": ((ProtocolError,), True),
    "/huge-header": ((ProtocolError,), False),
    "/many-headers": ((ProtocolError,), False),
}

#: The scenarios whose failure comes in the body, after the headers: also checked while streaming.
BODY_FAILURES = ["/reset-mid-body", "/short-body", "/truncated-chunked", "/invalid-chunk-size"]


async def assert_next_request_works(client: HttpClient, server: FaultServer) -> None:
    response = await client.get(server.url + "/ok", timeout=BOUNDED)
    assert response.status == 200
    assert response.content == b"ok"


@pytest.mark.parametrize("path", list(HOSTILE))
async def test_hostile_response(client: HttpClient, fault_server: FaultServer, path: str) -> None:
    expected, native = HOSTILE[path]
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(KClientError) as caught:
            await client.get(fault_server.url + path, timeout=BOUNDED)
        assert_transport_error(caught.value, expected, native_cause=native)
        assert client.status().in_flight == 0
        await assert_next_request_works(client, fault_server)


@pytest.mark.parametrize("path", BODY_FAILURES)
async def test_hostile_body_while_streaming(
    client: HttpClient, engine: type[Engine], fault_server: FaultServer, path: str
) -> None:
    require(engine, "streaming")
    expected, native = HOSTILE[path]
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(KClientError) as caught:
            async with client.stream("GET", fault_server.url + path, timeout=BOUNDED) as response:
                assert response.status == 200
                async for _ in response.aiter_bytes():
                    pass
        assert_transport_error(caught.value, expected, native_cause=native)
        await assert_next_request_works(client, fault_server)


# -- timeouts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/trickle-head", "/trickle-body", "/never"])
async def test_socket_timeout(client: HttpClient, fault_server: FaultServer, path: str) -> None:
    """One byte a second (or nothing at all) against a socket timeout of 0.5 s."""
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(SocketTimeout) as caught:
            await client.get(fault_server.url + path, params={"tag": "socket-timeout"}, timeout=Timeouts(socket=0.5))
        assert isinstance(caught.value, TimeoutError)
        await assert_next_request_works(client, fault_server)


async def test_socket_timeout_while_streaming(
    client: HttpClient, engine: type[Engine], fault_server: FaultServer
) -> None:
    require(engine, "streaming")
    received = b""
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(SocketTimeout):
            async with client.stream("GET", fault_server.url + "/trickle-body", timeout=Timeouts(socket=0.5)) as r:
                async for chunk in r.aiter_bytes():
                    received += chunk
        assert received == b"0123456789abcdefghij"[: len(received)]
        await assert_next_request_works(client, fault_server)


async def test_request_timeout_while_bytes_trickle(client: HttpClient, fault_server: FaultServer) -> None:
    """Data keeps coming (so no socket timeout), but the whole request takes too long."""
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(RequestTimeout):
            await client.get(fault_server.url + "/trickle-body", timeout=Timeouts(request=1.5, socket=5))
        await assert_next_request_works(client, fault_server)


async def test_stream_timeout_does_not_count_the_callers_code(
    client: HttpClient, engine: type[Engine], fault_server: FaultServer
) -> None:
    """A stream's request timeout bounds the exchange (head and reads), not the code between reads."""
    require(engine, "streaming")
    with anyio.fail_after(HANG_GUARD):
        async with client.stream("GET", fault_server.url + "/chunked", timeout=0.5) as response:
            first = await anext(response.aiter_bytes())
            await anyio.sleep(0.8)  # the caller's own time, longer than the timeout
            rest = b"".join([chunk async for chunk in response.aiter_bytes()])
        # However the loop cut the body (uvloop may hand it over in one read), all of it arrived.
        assert first and first + rest == b"".join(CHUNKED_PARTS)
        async with client.stream("GET", fault_server.url + "/ok", timeout=0.2) as response:
            assert await response.aread() == b"ok"
            await anyio.sleep(0.5)
        assert response.content == b"ok"
        await assert_next_request_works(client, fault_server)


async def test_stream_timeout_bounds_the_reads_together(
    client: HttpClient, engine: type[Engine], fault_server: FaultServer
) -> None:
    """Each read spends from one budget: a body trickling a byte a second fails within the request timeout."""
    require(engine, "streaming")
    received = b""
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(RequestTimeout) as caught:
            async with client.stream(
                "GET", fault_server.url + "/trickle-body", timeout=Timeouts(request=2.5, socket=5)
            ) as response:
                async for chunk in response.aiter_bytes():
                    received += chunk
        assert "request timeout" in str(caught.value)
        assert len(received) < 20  # Urllib3 reads a body this small with the head: then nothing arrived
        assert client.status().in_flight == 0
        await assert_next_request_works(client, fault_server)


# -- keep-alive connections the server closes -------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_idle_connection_closed_by_the_server(client: HttpClient, fault_server: FaultServer, method: str) -> None:
    """The server closed an idle keep-alive connection: the engine notices before reusing it.

    Even a POST, which may not be sent twice, must go out on a new connection.
    """
    with anyio.fail_after(HANG_GUARD):
        first = await client.get(fault_server.url + "/close-after-response", timeout=BOUNDED)
        assert first.content == b"ok"
        await anyio.sleep(0.1)  # the server has closed the idle keep-alive connection by now
        second = await client.request(method, fault_server.url + "/echo", content=b"body", timeout=BOUNDED)
    assert second.json()["method"] == method
    assert second.json()["body"] == "body"
    assert second.headers["X-Conn"] != first.headers["X-Conn"]


@pytest.mark.parametrize("how", ["fin", "rst"])
async def test_stale_keep_alive_connection_is_retried(client: HttpClient, fault_server: FaultServer, how: str) -> None:
    """The keep-alive race, made deterministic: the server drops a reused connection without answering.

    The request never reached an application, so an idempotent request is sent again on a new
    connection and succeeds.
    """
    url = f"{fault_server.url}/stale-{how}"
    with anyio.fail_after(HANG_GUARD):
        first = await client.get(url, timeout=BOUNDED)
        assert first.content == b"fresh connection"
        second = await client.get(url, timeout=BOUNDED)
    assert second.content == b"fresh connection"
    assert second.headers["X-Conn"] != first.headers["X-Conn"]
    assert second.headers["X-Conn-Request"] == "1"


async def test_connection_close_response(client: HttpClient, fault_server: FaultServer) -> None:
    with anyio.fail_after(HANG_GUARD):
        first = await client.get(fault_server.url + "/connection-close", timeout=BOUNDED)
        second = await client.get(fault_server.url + "/connection-close", timeout=BOUNDED)
        third = await client.get(fault_server.url + "/ok", timeout=BOUNDED)
    assert first.content == second.content == b"closing"
    assert first.headers["Connection"] == "close"
    assert len({first.headers["X-Conn"], second.headers["X-Conn"], third.headers["X-Conn"]}) == 3
    assert third.content == b"ok"


async def test_informational_responses_before_the_real_one(client: HttpClient, fault_server: FaultServer) -> None:
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(fault_server.url + "/informational", timeout=BOUNDED)
        assert response.status == 200
        assert response.content == b"final answer"
        after = await client.get(fault_server.url + "/ok", timeout=BOUNDED)
    assert after.content == b"ok"
    assert after.headers["X-Conn"] == response.headers["X-Conn"]
