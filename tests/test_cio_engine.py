"""The CIO engine beyond the engine-agnostic suite: its pool, pipelining, TLS, environment, settings, limits.

CIO runs on asyncio only, so every async test here runs on asyncio (``anyio_backend``
below); one sync test drives it under trio on purpose. Servers bind 127.0.0.1 on ports the
OS picks and stop when their fixture ends: the fault server and the raw servers of
``tests/engines/faults.py`` (asyncio servers in a background thread) and httpbin. TLS and
proxies on every engine, CIO included, are in ``tests/engines/test_tls.py`` and ``test_proxies.py``.
Nothing here measures time: ``anyio.fail_after`` / ``move_on_after(HANG_GUARD)`` only guard
against hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import ssl
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from engines.faults import FaultServer, _head, _read_request, _Request, _TrackedServer
from engines.support import HANG_GUARD, Pki, pattern_bytes

import kclient
from kclient import (
    ClientCancelledError,
    ConfigError,
    ConnectError,
    HttpClient,
    ProtocolError,
    ProxyBuilder,
    ReadError,
    Response,
    SocketTimeout,
    TLSError,
    TransportError,
    UnsupportedSettingError,
)
from kclient.engines.cio import CIO


@pytest.fixture
def anyio_backend() -> str:
    """CIO runs on asyncio only."""
    return "asyncio"


#: Settings of every client here: the machine's HTTP_PROXY / NO_PROXY kept out (tests of the environment opt in).
HERMETIC: dict[str, Any] = {"trust_env": False}
MIB = pattern_bytes(1 << 20)


def cio(**settings: Any) -> HttpClient:
    """A client owning a CIO engine with ``settings`` (dotted names allowed), the environment kept out."""
    return HttpClient("CIO", engine_config={**HERMETIC, **settings})


def pool(client: HttpClient) -> dict[str, int]:
    engine = client.engine
    assert isinstance(engine, CIO)
    return engine.pool_stats()


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (bounded by the hang guard, never a timing assertion)."""
    with anyio.fail_after(HANG_GUARD):
        while not condition():
            await anyio.sleep(0.005)


def quiet(stats: dict[str, int]) -> bool:
    return stats["busy"] == 0 and stats["waiters"] == 0 and stats["reserved"] == 0


async def settled(client: HttpClient) -> dict[str, int]:
    """The pool's counts once nothing is busy, waiting or reserved (aborted sockets report their closing
    on a later turn of the loop), or as they are when the hang guard runs out."""
    with anyio.move_on_after(HANG_GUARD):
        while not quiet(pool(client)):
            await anyio.sleep(0.005)
    return pool(client)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- raw servers --------------------------------------------------------------------------------

Handler = Callable[["RawServer", int, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer(_TrackedServer):
    """An asyncio server in a background thread (the fault server's machinery) running ``handler`` per connection.

    ``log`` lists (connection number, request target) in the order the server read them.
    """

    name = "cio-raw-server"

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(ssl_context)
        self._handler = handler
        self.log: list[tuple[int, str]] = []
        self.notes: dict[str, Any] = {}
        self.released = asyncio.Event()  # set on the server's loop by release()

    def record(self, conn: int, target: str) -> None:
        with self._lock:
            self.log.append((conn, target))

    def targets(self, conn: int | None = None) -> list[str]:
        with self._lock:
            return [t for c, t in self.log if conn is None or c == conn]

    def release(self) -> None:
        self._runner.loop.call_soon_threadsafe(self.released.set)

    async def _serve(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._handler(self, conn, reader, writer)


@pytest.fixture
def start_server() -> Iterator[Callable[..., RawServer]]:
    """``start_server(handler, ssl_context=None)``: a raw server of the test's own, stopped at the end."""
    started: list[RawServer] = []

    def start(handler: Handler, ssl_context: ssl.SSLContext | None = None) -> RawServer:
        started.append(RawServer(handler, ssl_context).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


def answer_bytes(conn: int, request: _Request, extra: list[tuple[str, str]] | None = None) -> bytes:
    """200 with the request's method and target as the body (and the connection's number)."""
    body = f"{request.method} {request.target}".encode()
    return _head("200 OK", [("X-Conn", str(conn)), ("Content-Length", str(len(body))), *(extra or [])]) + body


async def answer(
    writer: asyncio.StreamWriter, conn: int, request: _Request, *, extra: list[tuple[str, str]] | None = None
) -> None:
    writer.write(answer_bytes(conn, request, extra))
    await writer.drain()


async def silent(server: RawServer, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accepts and never answers: reads and drops what comes (a TLS ClientHello too) until the client leaves."""
    while await reader.read(65536):
        pass


async def not_reading(server: RawServer, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accepts, never reads and never answers: what the client writes backs up."""
    writer.transport.pause_reading()
    await asyncio.Event().wait()  # until the server stops


async def app(server: RawServer, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A small HTTP/1.1 application, requests answered in order as they come.

    ``/hold`` waits for ``server.release()``; ``?close=1`` answers with Connection: close and closes;
    ``/many-headers`` sends 20 header fields; ``/big-header`` one 4 KiB header field;
    ``/continue-big-header`` a 100 Continue then a 4 KiB header field, in one write.
    """
    while (request := await _read_request(reader, writer)) is not None:
        server.record(conn, request.target)
        path = request.path
        extra: list[tuple[str, str]] = []
        if path == "/hold":
            await server.released.wait()
        elif path == "/many-headers":
            extra = [(f"X-Field-{i:02d}", f"value {i}") for i in range(20)]
        elif path == "/big-header":
            extra = [("X-Big", "b" * 4096)]
        elif path == "/continue-big-header":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            extra = [("X-Big", "b" * 4096)]
        close = request.query.get("close") == "1"
        if close:
            extra.append(("Connection", "close"))
        await answer(writer, conn, request, extra=extra)
        if close:
            return


# -- session-wide servers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fault_server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.create(tmp_path_factory.mktemp("cio-pki"))


@pytest.fixture(scope="module")
def tls_origin(pki: Pki) -> Iterator[FaultServer]:
    """The fault server over TLS, its certificate (for 127.0.0.1 and localhost) signed by the test CA."""
    with FaultServer(ssl_context=pki.server_context("127.0.0.1", "localhost")) as server:
        yield server


# == 1. the pool under cancellation =================================================================


async def slow_upload() -> AsyncIterator[bytes]:
    """1 MiB in 64 KiB chunks, with a pause before each: a request body that takes a while to send."""
    for start in range(0, len(MIB), 65536):
        await anyio.sleep(0.004)
        yield MIB[start : start + 65536]


@dataclass
class Stages:
    """Requests that stop at a given stage of an exchange, and stay there until cancelled."""

    fault: FaultServer  # /never: head read (body too), never answered; /trickle-body: a body at 1 byte/s
    silent: RawServer  # https:// to it: the TLS handshake never completes (connecting)
    stuck: RawServer  # never reads: a request body backs up (sending)
    tag: str

    KINDS = ("head", "upload", "stuck-upload", "stream-upload", "connect", "slow-body", "ok")

    def request(self, client: HttpClient, kind: str) -> Awaitable[Response]:
        never = self.fault.url + "/never"
        if kind == "head":
            return client.get(never, params={"tag": self.tag})
        if kind == "upload":
            return client.post(never, params={"tag": self.tag}, content=MIB)
        if kind == "stuck-upload":
            return client.post(self.stuck.url + "/upload", content=MIB)
        if kind == "stream-upload":
            return client.post(self.stuck.url + "/stream", content=slow_upload())
        if kind == "connect":
            return client.get(f"https://127.0.0.1:{self.silent.port}/")
        if kind == "slow-body":
            return client.get(self.fault.url + "/trickle-body")
        return client.get(self.fault.url + "/ok")


_tags = iter(range(1, 1_000_000))


@pytest.fixture
def stages(fault_server: FaultServer, start_server: Callable[..., RawServer]) -> Stages:
    return Stages(fault_server, start_server(silent), start_server(not_reading), f"cio-cancel-{next(_tags)}")


DELAYS = (0.0, 0.0005, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


async def cancel_at_random(
    client: HttpClient, stages: Stages, count: int, seed: int
) -> tuple[Counter[str], Counter[str]]:
    """``count`` concurrent requests of random kinds, each under ``move_on_after`` of a random small delay.

    Returns what happened to them, and the highest pool counts seen meanwhile (to show every stage was reached).
    """
    rng = random.Random(seed)
    kinds = Stages.KINDS
    plan = [(kinds[i % len(kinds)], rng.choice(DELAYS) + rng.random() * 0.003) for i in range(count)]
    rng.shuffle(plan)
    outcomes: Counter[str] = Counter()
    peaks: Counter[str] = Counter()

    async def one(kind: str, delay: float) -> None:
        with anyio.move_on_after(delay) as scope:
            try:
                await stages.request(client, kind)
            except TransportError as exc:
                outcomes[f"{kind}: {type(exc).__name__}: {exc}"] += 1
            else:
                outcomes["answered"] += 1
        if scope.cancelled_caught:
            outcomes["cancelled"] += 1

    async def watch() -> None:
        while True:
            for name, value in pool(client).items():
                peaks[name] = max(peaks[name], value)
            await anyio.sleep(0.001)

    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as watching:
            watching.start_soon(watch)
            async with anyio.create_task_group() as tasks:
                for kind, delay in plan:
                    tasks.start_soon(one, kind, delay)
            watching.cancel_scope.cancel()
    return outcomes, peaks


async def check_cancelled_pool(client: HttpClient, stages: Stages, count: int, outcomes: Counter[str]) -> None:
    errors = {k: v for k, v in outcomes.items() if k not in ("answered", "cancelled")}
    assert not errors, f"requests failed instead of being cancelled or answered: {errors}"
    assert outcomes["answered"] + outcomes["cancelled"] == count
    stats = await settled(client)
    assert quiet(stats), f"the pool kept something after cancellations: {stats}"
    status = client.status()
    assert status.in_flight == 0, status
    # Every connection the cancelled requests used was closed: the servers see them go.
    await wait_until(lambda: stages.fault.waiting[stages.tag] == 0)
    await wait_until(lambda: not stages.silent.open)
    # The route whose two slots the cancelled requests held serves a fresh request at once.
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(stages.fault.url + "/ok")
    assert response.content == b"ok"
    assert quiet(pool(client)), pool(client)


def stage_reached(stages: Stages, client: HttpClient, kind: str, before: dict[str, int]) -> bool:
    """Both of the route's connections are at ``kind``'s stage (counted from ``before``), three requests wait."""
    fault, silent, stuck = stages.fault, stages.silent, stages.stuck
    if pool(client)["waiters"] != 3:
        return False
    if kind in ("head", "upload"):
        return fault.waiting[stages.tag] == 2
    if kind in ("stuck-upload", "stream-upload"):
        return stuck.accepted - before["stuck"] == 2
    if kind == "connect":
        return silent.accepted - before["silent"] == 2 and pool(client)["reserved"] == 2
    assert kind == "slow-body"
    return len(fault.seen_on("/trickle-body")) - before["trickle"] == 2


@pytest.mark.anyio
@pytest.mark.parametrize("kind", [k for k in Stages.KINDS if k != "ok"])
async def test_cancel_requests_at_one_stage(stages: Stages, kind: str) -> None:
    """Two requests at ``kind``'s stage (the route's two connections), three waiting for a slot: all cancelled."""
    before = {
        "stuck": stages.stuck.accepted,
        "silent": stages.silent.accepted,
        "trickle": len(stages.fault.seen_on("/trickle-body")),
    }
    async with cio(**{"endpoint.max_connections_per_route": 2}) as client:
        with anyio.fail_after(HANG_GUARD):
            async with anyio.create_task_group() as tasks:
                for _ in range(5):
                    tasks.start_soon(stages.request, client, kind)
                await wait_until(lambda: stage_reached(stages, client, kind, before))
                tasks.cancel_scope.cancel()
        await check_cancelled_pool(client, stages, 0, Counter())


@pytest.mark.anyio
async def test_random_cancellation_leaves_the_pool_clean(stages: Stages) -> None:
    count = 50
    async with cio(**{"endpoint.max_connections_per_route": 2}) as client:
        outcomes, peaks = await cancel_at_random(client, stages, count, seed=1)
        # The stages were reached: requests waited for a slot, connects were in progress.
        assert peaks["waiters"] > 0, peaks
        assert peaks["reserved"] > 0, peaks
        assert outcomes["cancelled"] > 0
        await check_cancelled_pool(client, stages, count, outcomes)


@pytest.mark.anyio
@pytest.mark.parametrize("seed", [2, 3])
async def test_a_thousand_randomly_cancelled_requests(stages: Stages, seed: int) -> None:
    count = 1000
    async with cio(**{"endpoint.max_connections_per_route": 2}) as client:
        outcomes, peaks = await cancel_at_random(client, stages, count, seed=seed)
        assert peaks["waiters"] > 0, peaks
        await check_cancelled_pool(client, stages, count, outcomes)


@pytest.mark.anyio
@pytest.mark.parametrize("seed", [4, 5, 6])
async def test_client_cancel_with_requests_at_every_stage(stages: Stages, seed: int) -> None:
    count = 50
    rng = random.Random(seed)
    client = cio(**{"endpoint.max_connections_per_route": 2})
    outcomes: Counter[str] = Counter()

    async def one(kind: str) -> None:
        try:
            await stages.request(client, kind)
        except ClientCancelledError:
            outcomes["cancelled"] += 1
        except TransportError as exc:
            outcomes[f"{kind}: {type(exc).__name__}: {exc}"] += 1
        else:
            outcomes["answered"] += 1

    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as tasks:
            for _ in range(count):
                tasks.start_soon(one, rng.choice(Stages.KINDS))
            await wait_until(lambda: pool(client)["waiters"] > 0)
            await anyio.sleep(rng.choice(DELAYS))
            client.cancel()
        await client.join()

    errors = {k: v for k, v in outcomes.items() if k not in ("answered", "cancelled")}
    assert not errors, f"requests failed instead of being cancelled or answered: {errors}"
    assert outcomes["answered"] + outcomes["cancelled"] == count
    stats = await settled(client)
    assert quiet(stats), f"the pool kept something after client.cancel(): {stats}"
    assert stats["open"] == 0, stats
    await wait_until(lambda: stages.fault.waiting[stages.tag] == 0)
    await wait_until(lambda: not stages.silent.open)


# == 2. fair waiting ================================================================================


@pytest.mark.anyio
@pytest.mark.parametrize("close", [False, True], ids=["keep-alive", "connection-close"])
async def test_waiters_are_served_in_fifo_order(start_server: Callable[..., RawServer], close: bool) -> None:
    server = start_server(app)
    suffix = "&close=1" if close else ""
    finished: list[int] = []
    async with cio(**{"endpoint.max_connections_per_route": 1}) as client:

        async def one(i: int) -> None:
            response = await client.get(f"{server.url}/queued?i={i}{suffix}")
            assert response.content == f"GET /queued?i={i}{suffix}".encode()
            finished.append(i)

        with anyio.fail_after(HANG_GUARD):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(client.get, server.url + "/hold" + ("?close=1" if close else ""))
                await wait_until(lambda: len(server.targets()) == 1)
                for i in range(10):
                    tasks.start_soon(one, i)
                    await wait_until(lambda i=i: pool(client)["waiters"] == i + 1)
                server.release()
    seen = [t for t in server.targets() if t.startswith("/queued")]
    assert seen == [f"/queued?i={i}{suffix}" for i in range(10)], "waiters were not served in FIFO order"
    assert finished == list(range(10))
    assert server.accepted == (11 if close else 1)


# == 3. pipelining ==================================================================================


def pipeline_server(expected: int, answer_first: int | None) -> Handler:
    """The first connection answers one warm-up request, then reads ``expected`` request heads before answering
    any (``notes["pipelined"]`` counts how many it got); it answers them in order, or only the first
    ``answer_first`` and closes. Later connections answer each request as it comes."""

    async def handler(server: RawServer, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if conn == 1:
            warm_up = await _read_request(reader, writer)
            assert warm_up is not None
            server.record(conn, warm_up.target)
            await answer(writer, conn, warm_up)
            heads: list[_Request] = []
            with contextlib.suppress(TimeoutError):  # a client that does not pipeline: answer what came
                async with asyncio.timeout(HANG_GUARD / 3):
                    while len(heads) < expected and (request := await _read_request(reader, writer)) is not None:
                        heads.append(request)
                        server.record(conn, request.target)
            server.notes["pipelined"] = len(heads)
            # In one write, so that answers share reads; ?big=1 asks for a 4 KiB header field.
            writer.write(
                b"".join(
                    answer_bytes(conn, r, [("X-Big", "b" * 4096)] if r.query.get("big") else None)
                    for r in heads[:answer_first]
                )
            )
            await writer.drain()
            if answer_first is not None:
                return  # closed with the rest unanswered
        while (request := await _read_request(reader, writer)) is not None:
            server.record(conn, request.target)
            await answer(writer, conn, request)

    return handler


@pytest.mark.anyio
async def test_ten_gets_pipelined_on_one_connection(start_server: Callable[..., RawServer]) -> None:
    server = start_server(pipeline_server(10, None))
    results: dict[int, Response] = {}
    async with cio(pipelining=True, **{"endpoint.max_connections_per_route": 1}) as client:

        async def one(i: int) -> None:
            results[i] = await client.get(f"{server.url}/p/{i}")

        with anyio.fail_after(HANG_GUARD):
            # CIO pipelines on a connection that has served an answer (so it is known to stay open).
            assert (await client.get(server.url + "/warm-up")).status == 200
            async with anyio.create_task_group() as tasks:
                for i in range(10):
                    tasks.start_soon(one, i)
    assert server.notes["pipelined"] == 10, "the server answered before all 10 requests arrived: not pipelined"
    assert len(results) == 10
    assert server.accepted == 1
    assert sorted(server.targets(1)[1:]) == sorted(f"/p/{i}" for i in range(10))
    for i, response in results.items():
        assert response.content == f"GET /p/{i}".encode(), f"answer {i} matched to the wrong request"
        assert response.headers["X-Conn"] == "1"


@pytest.mark.anyio
@pytest.mark.parametrize("with_posts", [False, True], ids=["gets", "gets-and-posts"])
async def test_pipeline_broken_after_three_answers(start_server: Callable[..., RawServer], with_posts: bool) -> None:
    server = start_server(pipeline_server(10, 3))
    outcomes: dict[str, Response | BaseException] = {}

    def method_of(i: int) -> str:
        return "POST" if with_posts and i % 2 else "GET"

    async with cio(pipelining=True, **{"endpoint.max_connections_per_route": 1}) as client:

        async def one(i: int) -> None:
            method = method_of(i)
            target = f"/p/{i}"
            try:
                outcomes[target] = await client.request(
                    method, server.url + target, content=b"payload" if method == "POST" else None
                )
            except TransportError as exc:
                outcomes[target] = exc

        with anyio.fail_after(HANG_GUARD):
            assert (await client.get(server.url + "/warm-up")).status == 200
            async with anyio.create_task_group() as tasks:
                for i in range(10):
                    tasks.start_soon(one, i)
        assert quiet(await settled(client))

    assert server.notes["pipelined"] == 10
    assert len(outcomes) == 10
    on_first = server.targets(1)[1:]
    answered, unanswered = on_first[:3], on_first[3:]
    later = [t for c, t in server.log if c > 1]
    for target in answered:
        response = outcomes[target]
        assert isinstance(response, Response), f"{target} was answered, yet failed: {response!r}"
        assert response.headers["X-Conn"] == "1"
    for target in unanswered:
        i = int(target.rpartition("/")[2])
        outcome = outcomes[target]
        if method_of(i) == "GET":
            assert isinstance(outcome, Response), f"the unanswered GET {target} was not re-sent: {outcome!r}"
            assert outcome.content == f"GET {target}".encode()
            assert outcome.headers["X-Conn"] != "1"
            assert later.count(target) == 1, f"{target} should have been re-sent once on a new connection"
        else:
            assert isinstance(outcome, ReadError), f"the unanswered POST {target} did not fail: {outcome!r}"
            message = str(outcome)
            assert "not sent again" in message and "POST is not idempotent" in message, message
            assert target not in later, f"the POST {target} was re-sent"
    failed = [t for t, o in outcomes.items() if not isinstance(o, Response)]
    assert all(method_of(int(t.rpartition("/")[2])) == "POST" and t in unanswered for t in failed), failed


@pytest.mark.anyio
async def test_pipelined_answer_over_the_header_limit(start_server: Callable[..., RawServer]) -> None:
    """The second answer of a pipeline, read together with the first, is held to limits.max_header_bytes too."""
    server = start_server(pipeline_server(2, None))
    outcomes: dict[str, Response | BaseException] = {}
    settings = {"endpoint.max_connections_per_route": 1, "limits.max_header_bytes": 1024}
    async with cio(pipelining=True, **settings) as client:

        async def one(target: str) -> None:
            try:
                outcomes[target] = await client.get(server.url + target)
            except TransportError as exc:
                outcomes[target] = exc

        with anyio.fail_after(HANG_GUARD):
            assert (await client.get(server.url + "/warm-up")).status == 200
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(one, "/p/small")
                tasks.start_soon(one, "/p/big?big=1")
            after = await client.get(server.url + "/after")
    assert server.notes["pipelined"] == 2
    small, big = outcomes["/p/small"], outcomes["/p/big?big=1"]
    assert isinstance(small, Response) and small.content == b"GET /p/small"
    assert isinstance(big, ProtocolError), f"a 4 KiB header block passed limits.max_header_bytes=1024: {big!r}"
    assert "max_header_bytes" in str(big)
    assert after.content == b"GET /after"


# == 4. TLS =========================================================================================


@pytest.mark.anyio
async def test_untrusted_certificate_is_a_tls_error(tls_origin: FaultServer) -> None:
    async with cio() as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(TLSError) as caught:
            await client.get(tls_origin.url + "/ok")
        stats = pool(client)
    error = caught.value
    assert isinstance(error, ConnectError)
    message = str(error)
    assert "127.0.0.1" in message, message
    assert "could not be verified" in message and "local issuer certificate" in message, message
    assert isinstance(error.__cause__, ssl.SSLCertVerificationError)
    assert quiet(stats) and stats["open"] == 0, stats


@pytest.mark.anyio
async def test_unreadable_ca_file_is_a_config_error(tmp_path: Any, tls_origin: FaultServer) -> None:
    async with cio(https={"ca_file": str(tmp_path / "missing.pem")}) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(ConfigError, match="ca_file"):
            await client.get(tls_origin.url + "/ok")
        assert quiet(pool(client)), pool(client)


# == 5. thread_count ================================================================================


@pytest.mark.anyio
async def test_one_worker_thread_resolves_host_names(start_server: Callable[..., RawServer]) -> None:
    server = start_server(app)

    def workers() -> set[int | None]:
        return {t.ident for t in threading.enumerate() if t.name.startswith("kclient-cio")}

    before = workers()  # other engines' workers may still be winding down
    async with cio(thread_count=1) as client:
        assert client.engine.config.thread_count == 1
        assert not workers() - before, "CIO started a worker thread before it needed one"
        with anyio.fail_after(HANG_GUARD):
            response = await client.get(f"http://localhost:{server.port}/named")
        started = workers() - before
    assert response.content == b"GET /named"
    assert len(started) == 1, "the host name was not resolved on one CIO worker thread"


def test_thread_count_zero_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        HttpClient("CIO", engine_config={"thread_count": 0})
    assert "thread_count" in str(caught.value)
    assert "between 1 and 512" in str(caught.value)


# == 6. settings errors =============================================================================


def test_misspelt_nested_setting_gets_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        HttpClient("CIO", engine_config={"endpoint.max_conections_per_route": 4})
    assert "Did you mean endpoint.max_connections_per_route" in str(caught.value)


def test_negative_keep_alive_time_names_the_range() -> None:
    with pytest.raises(ConfigError) as caught:
        HttpClient("CIO", engine_config={"endpoint.keep_alive_time": -1})
    message = str(caught.value)
    assert "endpoint.keep_alive_time" in message and "between 0.0 and 3600.0" in message, message


def test_socks_proxy_is_unsupported() -> None:
    with pytest.raises(UnsupportedSettingError) as caught:
        HttpClient("CIO", engine_config={"proxy": ProxyBuilder.socks("127.0.0.1", 1080)})
    message = str(caught.value)
    assert "CIO does not support SOCKS proxies" in message, message
    able = message.partition("Engines that support it:")[2]
    assert "No installed engine supports it" in message or (able and "CIO" not in able), message


def test_cio_under_trio_says_to_use_httpx(caplog: pytest.LogCaptureFixture) -> None:
    found: list[BaseException] = []

    async def main() -> None:
        async with cio() as client:
            try:
                await client.get(f"http://127.0.0.1:{closed_port()}/")
            except ConfigError as exc:
                found.append(exc)

    with caplog.at_level(logging.ERROR, logger="kclient"):
        anyio.run(main, backend="trio")
    assert len(found) == 1
    message = str(found[0])
    assert "asyncio only" in message and "Httpx" in message, message
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not problems, f"closing the CIO client under trio failed: {problems}"


# == 7. keep-alive expiry ===========================================================================


@pytest.mark.anyio
async def test_idle_connection_expires_after_keep_alive_time(start_server: Callable[..., RawServer]) -> None:
    server = start_server(app)
    async with cio(**{"endpoint.keep_alive_time": 0.2}) as client:
        with anyio.fail_after(HANG_GUARD):
            first = await client.get(server.url + "/one")
            assert pool(client)["open"] == 1
            await wait_until(lambda: pool(client)["open"] == 0)
            await wait_until(lambda: not server.open)  # the server saw it closed
            second = await client.get(server.url + "/two")
    assert first.headers["X-Conn"] == "1"
    assert second.headers["X-Conn"] == "2"
    assert server.accepted == 2


@pytest.mark.anyio
async def test_idle_connection_is_reused_within_keep_alive_time(start_server: Callable[..., RawServer]) -> None:
    server = start_server(app)
    async with cio() as client:
        with anyio.fail_after(HANG_GUARD):
            for _ in range(3):
                await client.get(server.url + "/again")
    assert server.accepted == 1


# == 8. 100-continue and limits =====================================================================


@pytest.mark.anyio
async def test_expect_100_continue(fault_server: FaultServer) -> None:
    async with cio() as client:
        with anyio.fail_after(HANG_GUARD):
            response = await client.post(
                fault_server.url + "/echo", content=b"after continue", headers={"Expect": "100-continue"}
            )
            after = await client.get(fault_server.url + "/ok")
    assert response.status == 200
    assert response.json()["body"] == "after continue"
    assert after.headers["X-Conn"] == response.headers["X-Conn"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("settings", "path", "named"),
    [
        ({"limits": {"max_headers": 10}}, "/many-headers", "max_headers"),
        ({"limits.max_header_bytes": 1024}, "/big-header", "max_header_bytes"),
        ({"limits.max_header_bytes": 1024}, "/continue-big-header", "max_header_bytes"),
    ],
    ids=["max_headers", "max_header_bytes", "max_header_bytes-after-100"],
)
async def test_response_head_limits(
    start_server: Callable[..., RawServer], settings: dict[str, Any], path: str, named: str
) -> None:
    server = start_server(app)
    async with cio(**settings) as client:
        with anyio.fail_after(HANG_GUARD):
            with pytest.raises(ProtocolError) as caught:
                await client.get(server.url + path)
            assert named in str(caught.value), str(caught.value)
            assert quiet(await settled(client))
            response = await client.get(server.url + "/after")
    assert response.content == b"GET /after"


@pytest.mark.anyio
async def test_socket_timeout_applies_while_a_streamed_upload_is_blocked(stages: Stages) -> None:
    """A server that stops reading: the upload blocks, and endpoint.socket_timeout ends it."""

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield MIB

    async with cio(**{"endpoint.socket_timeout": 0.3}) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(SocketTimeout) as caught:
            await client.post(stages.stuck.url + "/stream", content=endless())
        assert "socket_timeout" in str(caught.value)
        assert quiet(await settled(client))
        response = await client.get(stages.fault.url + "/ok")  # the client goes on
        assert response.content == b"ok"


@pytest.mark.anyio
async def test_a_requests_connect_timeout_wins_over_the_endpoints(stages: Stages) -> None:
    """Timeouts(connect=...) on a request (or from HttpTimeout) bounds CIO's connect, not only the endpoint's."""
    async with cio(**{"endpoint.connect_timeout": 30}) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(kclient.ConnectTimeout) as caught:
            # The TLS handshake with the silent server never completes: the connect phase hangs.
            await client.get(f"https://127.0.0.1:{stages.silent.port}/", timeout=kclient.Timeouts(connect=0.2))
        assert "0.2 s" in str(caught.value)
        assert quiet(await settled(client))


def _recording_heads(heads: list[list[tuple[str, str]]]) -> Callable[..., Awaitable[None]]:
    """A raw server's handler that answers every request and appends its head's headers to ``heads``."""

    async def record_heads(
        server: RawServer, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (request := await _read_request(reader, writer)) is not None:
            heads.append(request.headers)
            await answer(writer, conn, request)

    return record_heads


def _injecting(header: str, value: str) -> type[kclient.Plugin]:
    """A plugin that sets ``header`` to ``value`` plus a smuggled line on requests to ``/inject``,
    after the request builder's checks: what CIO itself must refuse."""

    class Inject(kclient.Plugin):
        name = "Inject"

        def on_request(self, request: kclient.Request) -> kclient.Request:
            if request.url.path == "/inject":
                request.headers[header] = f"{value}\r\nX-Injected: 1"
            return request

    return Inject


@pytest.mark.anyio
async def test_request_heads_with_the_user_agent_alone_and_with_more_headers(
    start_server: Callable[..., RawServer],
) -> None:
    """The head written for the usual request (only the UserAgent plugin's header) is the same as
    the one built field by field, and a User-Agent with a line break set after validation is refused."""
    heads: list[list[tuple[str, str]]] = []
    server = start_server(_recording_heads(heads))

    Inject = _injecting("User-Agent", "agent")

    def configure(c: kclient.HttpClientConfig) -> None:
        c.install(kclient.UserAgent, agent="probe/1")
        c.install(Inject)

    async with HttpClient(CIO, configure) as client:
        await client.get(f"{server.url}/plain")
        await client.get(f"{server.url}/more", headers={"X-Extra": "1"})
        with pytest.raises(kclient.InvalidRequestError, match="User-Agent"):
            await client.get(f"{server.url}/inject")
    plain, more = ({name.lower(): value for name, value in head} for head in heads)
    assert plain["user-agent"] == more["user-agent"] == "probe/1"
    assert plain["accept"] == more["accept"] == "*/*"
    assert plain["accept-encoding"] == more["accept-encoding"]
    assert more["x-extra"] == "1" and "x-extra" not in plain
    assert len(heads) == 2  # nothing of the refused request reached the server


@pytest.mark.anyio
async def test_header_sets_sent_again_are_written_the_same_and_secrets_are_not_kept(
    start_server: Callable[..., RawServer],
) -> None:
    """CIO keeps the header lines of a header set it has sent (DefaultRequest's, an API's fixed
    headers) and writes them again unchecked: the same bytes as the first time, a bad header
    refused every time, and no set carrying a secret header kept once its request is sent."""
    heads: list[list[tuple[str, str]]] = []
    server = start_server(_recording_heads(heads))

    Inject = _injecting("X-Api", "v1")
    engine = CIO()
    async with HttpClient(engine, lambda c: c.install(Inject)) as client:
        for _ in range(2):
            await client.get(f"{server.url}/a", headers={"X-Api": "v1", "Accept": "application/json"})
            with pytest.raises(kclient.InvalidRequestError, match="X-Api"):
                await client.get(f"{server.url}/inject", headers={"X-Api": "v1"})
        await client.get(f"{server.url}/a", headers={"X-Api": "v1", "Authorization": "Bearer secret-token"})
        await client.get(f"{server.url}/a", headers={"X-Api": "v1", "cookie": "session=secret-cookie"})
        await client.get(f"{server.url}/a", headers={"X-Api": "v1", "X-API-Key": "secret-key"})
    await engine.aclose()  # lent to the client, so its own to close
    first, second, with_token, with_cookie, with_key = heads
    assert first == second
    assert ("Accept", "application/json") in first and ("X-Api", "v1") in first
    assert ("Authorization", "Bearer secret-token") in with_token
    assert ("cookie", "session=secret-cookie") in with_cookie
    assert ("X-API-Key", "secret-key") in with_key
    kept = repr(engine._header_blocks)
    assert "X-Api" in kept and "secret" not in kept
