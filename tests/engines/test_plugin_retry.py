"""HttpRequestRetry on every engine, against a scripted server: the n-th request to a path gets
the n-th step of that path's script (503, a reset connection, a slow answer...)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import anyio
import pytest

from kclient import (
    Engine,
    HttpClient,
    HttpClientConfig,
    HttpTimeout,
    Request,
    RequestTimeout,
    Response,
    TransportError,
)
from kclient.plugins import retry as retry_module
from kclient.plugins.retry import HttpRequestRetry

from .faults import _read_request, _reset, _respond, _TrackedServer
from .support import HANG_GUARD, setting_names, with_setting

pytestmark = pytest.mark.anyio

#: Retries that wait next to nothing, so the suite stays fast.
FAST = {"base_delay": 0.01, "jitter": 0.0}
#: The body of retried answers in streams: too large for an engine to hand over already read.
BUSY = b"busy " * 200_000

# -- the scripted server ----------------------------------------------------------------------

#: One step of a script: answers (or not) one request; returns True to keep the connection.
Step = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int, int], Awaitable[bool]]


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Step:
    """Answer ``status`` with ``body`` and ``headers``, keeping the connection open."""

    async def step(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: int, index: int) -> bool:
        status_line = f"{status} {HTTPStatus(status).phrase}"
        return await _respond(writer, conn, index, body, status=status_line, headers=list((headers or {}).items()))

    return step


def reset() -> Step:
    """Read the request, then drop the connection with a TCP RST, unanswered."""

    async def step(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: int, index: int) -> bool:
        _reset(writer)
        return False

    return step


def slow(seconds: float, body: bytes = b"late") -> Step:
    """Answer 200 only after ``seconds`` (the client has usually given up by then)."""

    async def step(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: int, index: int) -> bool:
        await asyncio.sleep(seconds)
        return await _respond(writer, conn, index, body)

    return step


@dataclass(frozen=True)
class Received:
    """A request the scripted server read."""

    method: str
    path: str
    body: bytes
    conn: int


class ScriptedServer(_TrackedServer):
    """HTTP/1.1 on 127.0.0.1: each path follows its script, the last step repeating; ``received`` lists what came."""

    name = "scripted-server"

    def __init__(self) -> None:
        super().__init__()
        self._scripts: dict[str, tuple[Step, ...]] = {}
        self.received: list[Received] = []
        self._guard = threading.Lock()

    def script(self, path: str, *steps: Step) -> str:
        """Give ``path`` its steps; returns its URL."""
        self._scripts[path] = steps
        return self.url + path

    def count(self, path: str) -> int:
        """How many requests to ``path`` the server read."""
        with self._guard:
            return sum(1 for r in self.received if r.path == path)

    def bodies(self, path: str) -> list[bytes]:
        with self._guard:
            return [r.body for r in self.received if r.path == path]

    async def _serve(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = 0
        while True:
            request = await _read_request(reader, writer)
            if request is None:
                return
            index += 1
            with self._guard:
                number = sum(1 for r in self.received if r.path == request.path)
                self.received.append(Received(request.method, request.path, request.body, conn))
            steps = self._scripts.get(request.path) or (answer(404, b"no script"),)
            if not await steps[min(number, len(steps) - 1)](reader, writer, conn, index):
                return


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    """A scripted server of the test's own, stopped at the end."""
    server = ScriptedServer().start()
    try:
        yield server
    finally:
        server.stop()


def retrying(**options: Any) -> Callable[[HttpClientConfig], None]:
    return lambda c: c.install(HttpRequestRetry, **{**FAST, **options})


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the plugin waits, recorded instead of slept."""
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)
        await anyio.sleep(0)

    monkeypatch.setattr(retry_module, "_pause", record)
    return waited


def single_connection(engine: type[Engine]) -> dict[str, Any]:
    """Every connection-count limit of the engine set to 1: a connection not given back starves the next request."""
    settings: dict[str, Any] = {}
    for name in setting_names(engine):
        if name.rpartition(".")[2].startswith("max_connections"):
            settings.update(with_setting(engine, name, 1))
    return settings


# -- server errors ----------------------------------------------------------------------------


async def test_a_flaky_server_is_retried_to_success(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer
) -> None:
    url = scripted.script("/flaky", answer(503, b"busy"), answer(503, b"busy"), answer(200, b"fine"))
    client = make_client(retrying())
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(url)
    assert (response.status, response.content) == (200, b"fine")
    assert scripted.count("/flaky") == 3
    assert client.status().completed == 1


async def test_the_last_response_is_returned_when_retries_run_out(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer
) -> None:
    url = scripted.script("/down", answer(502, b"bad gateway"))
    client = make_client(retrying(max_retries=2))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(url)
    assert (response.status, response.content) == (502, b"bad gateway")
    assert scripted.count("/down") == 3


async def test_a_post_is_retried_only_when_asked(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer
) -> None:
    once = scripted.script("/order-once", answer(503), answer(201, b"created"))
    twice = scripted.script("/order-twice", answer(503), answer(201, b"created"))
    with anyio.fail_after(HANG_GUARD):
        refused = await make_client(retrying()).post(once, content=b"order=1")
        retried = await make_client(retrying(retry_non_idempotent=True)).post(twice, content=b"order=1")
    assert refused.status == 503
    assert scripted.count("/order-once") == 1
    assert (retried.status, retried.content) == (201, b"created")
    assert scripted.bodies("/order-twice") == [b"order=1", b"order=1"]


async def test_retry_after_is_respected(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer, delays: list[float]
) -> None:
    url = scripted.script("/limited", answer(429, headers={"Retry-After": "1"}), answer(200, b"now"))
    client = make_client(retrying())
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(url)
    assert response.content == b"now"
    assert scripted.count("/limited") == 2
    assert delays == [1.0]  # not base_delay's 0.01: the server asked for a second


async def test_retry_after_zero_retries_after_the_backoff(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer
) -> None:
    url = scripted.script("/limited", answer(503, headers={"Retry-After": "0"}), answer(200, b"now"))
    client = make_client(retrying())
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(url)
    assert response.content == b"now"
    assert scripted.count("/limited") == 2


async def test_retry_zero_turns_retrying_off_for_one_request(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer
) -> None:
    off = scripted.script("/off", answer(503), answer(200))
    on = scripted.script("/on", answer(503), answer(200))
    client = make_client(retrying())
    with anyio.fail_after(HANG_GUARD):
        assert (await client.get(off, retry=0)).status == 503
        assert (await client.get(on, retry={"max_retries": 1})).status == 200
    assert scripted.count("/off") == 1
    assert scripted.count("/on") == 2


# -- failed exchanges -------------------------------------------------------------------------


async def test_a_reset_connection_is_retried(make_client: Callable[..., HttpClient], scripted: ScriptedServer) -> None:
    # Three resets: more than an engine's own single resend of an idempotent request can absorb.
    url = scripted.script("/reset", reset(), reset(), reset(), answer(200, b"back"))
    client = make_client(retrying())
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(url)
    assert response.content == b"back"
    assert scripted.count("/reset") == 4


async def test_a_reset_post_is_retried_only_when_asked(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer
) -> None:
    """No engine sends a POST twice by itself, so what reaches the server is the plugin's doing."""
    once = scripted.script("/reset-once", reset(), answer(201, b"created"))
    twice = scripted.script("/reset-twice", reset(), answer(201, b"created"))
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(TransportError):
            await make_client(retrying()).post(once, content=b"order=1")
        retried = await make_client(retrying(retry_non_idempotent=True)).post(twice, content=b"order=1")
    assert scripted.count("/reset-once") == 1
    assert retried.content == b"created"
    assert scripted.bodies("/reset-twice") == [b"order=1", b"order=1"]


# -- timeouts ---------------------------------------------------------------------------------


async def test_the_request_timeout_bounds_each_attempt(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer
) -> None:
    """A server slow the first time only: an attempt that times out is sent again and succeeds."""
    url = scripted.script("/slow-once", slow(HANG_GUARD), answer(200, b"quick"))
    client = make_client(retrying(max_retries=1))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(url, timeout=0.2)
    assert response.content == b"quick"
    assert scripted.count("/slow-once") == 2


async def test_a_timed_out_attempt_without_retries_raises_request_timeout(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer
) -> None:
    url = scripted.script("/slow-once", slow(HANG_GUARD), answer(200, b"quick"))
    client = make_client(retrying())
    with anyio.fail_after(HANG_GUARD), pytest.raises(RequestTimeout):
        await client.get(url, timeout=0.2, retry=0)
    assert scripted.count("/slow-once") == 1


async def test_http_timeout_bounds_each_attempt_and_the_last_timeout_is_raised(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer
) -> None:
    """Every attempt timing out: (max_retries + 1) attempts, each given the whole request timeout."""
    url = scripted.script("/slow", slow(HANG_GUARD))

    def configure(c: HttpClientConfig) -> None:
        c.install(HttpTimeout, request_timeout=0.2)
        retrying(max_retries=1)(c)

    client = make_client(configure)
    with anyio.fail_after(HANG_GUARD), pytest.raises(RequestTimeout) as caught:
        await client.get(url)
    assert scripted.count("/slow") == 2
    assert caught.value.__notes__ == ["HttpRequestRetry gave up after 2 attempts."]


# -- streaming --------------------------------------------------------------------------------


async def test_a_stream_closes_the_retried_responses(
    make_client: Callable[..., HttpClient], engine: type[Engine], scripted: ScriptedServer
) -> None:
    url = scripted.script("/stream", answer(503, BUSY), answer(503, BUSY), answer(200, b"streamed"))
    after = scripted.script("/after", answer(200, b"after"))
    client = make_client(retrying(), **single_connection(engine))
    with anyio.fail_after(HANG_GUARD):
        async with client.stream("GET", url) as response:
            assert response.status == 200
            assert await response.aread() == b"streamed"
        assert client.status().in_flight == 0
        # With a single connection, one the retried responses kept would starve this request.
        assert (await client.get(after)).content == b"after"
    assert scripted.count("/stream") == 3
    assert client.status().in_flight == 0


async def test_every_retried_response_is_closed_before_the_next_attempt(
    make_client: Callable[..., HttpClient], scripted: ScriptedServer
) -> None:
    """Seen through retry_if, which is handed each attempt's response: the retried ones are closed
    by the time the next attempt is decided."""
    url = scripted.script("/stream", answer(503, BUSY), answer(500, BUSY), answer(200, b"streamed"))
    seen: list[tuple[int, bool]] = []
    responses: list[Response] = []

    def observe(request: Request, response: Response | None, exc: Exception | None) -> bool:
        assert response is not None, exc
        seen.extend((r.status, r.is_closed) for r in responses)  # the earlier attempts, as they are now
        responses.append(response)
        return response.status >= 500

    client = make_client(retrying(retry_if=observe))
    with anyio.fail_after(HANG_GUARD):
        async with client.stream("GET", url) as response:
            assert await response.aread() == b"streamed"
    assert seen == [(503, True), (503, True), (500, True)]
    assert [r.is_closed for r in responses] == [True, True, True]
