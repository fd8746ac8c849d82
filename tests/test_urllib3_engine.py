"""The Urllib3 engine: settings, worker threads, cancellation, errors, proxies.

Everything that every engine must do is in the conformance suite (tests/engines); this file
covers what is particular to this engine. Every server binds 127.0.0.1 on a port the OS
picks and stops when its test ends. Nothing here asserts on time: waits are bounded by a
hang guard only.
"""

from __future__ import annotations

import pytest

# The Urllib3 and Aiohttp engines are extras: without one, its tests skip naming it.
pytest.importorskip("urllib3", reason="needs urllib3: pip install 'kclient[urllib3]'")

import contextlib
import http.client
import socket
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import urllib3.exceptions as u3
from error_maps import assert_all_decided, assert_catches_unmapped
from error_maps import make_instance as make_instance_of
from error_maps import mapping_problems as check_mapping
from extras import needs
from servers import KeepAliveServer, SilentServer, running_tinyproxy
from yarl import URL

from kclient import (
    ClientCancelledError,
    ClientResponseError,
    ConfigError,
    ConnectError,
    DecodingError,
    HttpClient,
    KClientError,
    ProtocolError,
    ProxyBuilder,
    ProxyError,
    ReadError,
    Request,
    RequestTimeout,
    SocketTimeout,
    Timeouts,
    TLSError,
    TransportError,
    UnsupportedSettingError,
    describe_settings,
)
from kclient.engines.urllib3 import (
    DEFAULT_THREAD_COUNT,
    EXCEPTION_MAP,
    Urllib3,
    Urllib3Config,
    kclient_error_for,
    translate,
)

pytestmark = pytest.mark.anyio

#: Engine settings for every test: no proxy from the environment.
NO_ENV = {"trust_env": False}
#: Bounds every wait on something that should happen; never a timing assertion.
HANG_GUARD = 20.0


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(HANG_GUARD):
        while not condition():
            await anyio.sleep(0.01)


def engine_of(client: HttpClient) -> Urllib3:
    engine = client.engine
    assert isinstance(engine, Urllib3)
    return engine


# -- settings and capabilities ----------------------------------------------------------------


def test_config_defaults() -> None:
    config = Urllib3Config()
    assert config.thread_count is None
    assert config.max_connections_per_route == 10
    assert config.max_routes == 10
    assert config.trust_env is True
    assert config.https.verify is True
    assert config.proxy is None
    engine = Urllib3()
    assert engine.thread_count == DEFAULT_THREAD_COUNT == 10
    assert Urllib3(thread_count=3).thread_count == 3
    assert repr(Urllib3()) == "Urllib3()"
    assert "thread_count=3" in repr(Urllib3(thread_count=3))


def test_every_setting_is_documented() -> None:
    infos = {info.name: info for info in describe_settings(Urllib3Config)}
    assert set(infos) >= {
        "thread_count",
        "max_connections_per_route",
        "max_routes",
        "trust_env",
        "proxy",
        "https.verify",
        "https.ca_file",
        "https.cert_file",
        "https.key_file",
    }
    assert all(info.doc for info in infos.values())
    assert infos["max_connections_per_route"].range_text == "at least 1"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"thread_count": 0}, ["thread_count", "between 1 and 512"]),
        ({"max_connections_per_route": 0}, ["max_connections_per_route", "at least 1"]),
        ({"max_routes": "10"}, ["max_routes", "an integer"]),
        ({"trust_env": "no"}, ["trust_env", "True or False"]),
        ({"https": {"verify": "no"}}, ["https.verify", "True or False"]),
        ({"max_conections_per_route": 3}, ["Did you mean max_connections_per_route?"]),
    ],
)
def test_invalid_settings_say_what_is_allowed(settings: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        Urllib3(**settings)
    for text in expected:
        assert text in str(caught.value)


def test_capabilities() -> None:
    caps = Urllib3.capabilities
    assert caps.worker_threads and caps.streaming
    assert not caps.http2 and not caps.pipelining
    assert caps.proxies == frozenset({"http", "socks"})
    assert caps.backends == frozenset({"asyncio", "trio"})
    with pytest.raises(UnsupportedSettingError, match="pipelining"):
        Urllib3(pipelining=True)


def test_socks_proxy_needs_pysocks(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "socks-S3CRET"
    monkeypatch.setitem(sys.modules, "socks", None)  # PySocks cannot be imported
    with pytest.raises(ConfigError) as caught:
        Urllib3(proxy=ProxyBuilder.socks("127.0.0.1", 1080, username="user", password=secret))
    message = str(caught.value)
    assert "PySocks" in message and "pip install 'kclient[socks]'" in message, message
    assert secret not in message


@needs("socks")
def test_socks_proxy_is_accepted_with_pysocks() -> None:
    secret = "socks-S3CRET"
    engine = Urllib3(proxy=ProxyBuilder.socks("127.0.0.1", 1080, username="user", password=secret))
    assert secret not in repr(engine)


# -- worker threads bound the requests that run at once ---------------------------------------


class ConcurrencyServer:
    """Counts how many requests it handles at the same time (``peak``).

    Each request is held until ``expected`` requests are held together, or for ``hold``
    seconds, then answered; so six requests sent together meet on the server whenever the
    engine lets them, without the test depending on how fast threads start.
    """

    def __init__(self, expected: int, hold: float = 1.0) -> None:
        self.expected = expected
        self.hold = hold
        self.now = 0
        self.peak = 0
        self.handled = 0
        self._condition = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.enter()
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def enter(self) -> None:
        with self._condition:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self._condition.notify_all()
            self._condition.wait_for(lambda: self.peak >= self.expected, timeout=self.hold)
            self.now -= 1
            self.handled += 1

    def __enter__(self) -> ConcurrencyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


#: (thread_count, hold): six requests meet on the server and are answered at once when the engine lets
#: them all run, so their hold can be long (a loaded machine may start threads late); with two threads
#: they never all meet, and every pair waits for its hold (about 0.3 s).
@pytest.mark.parametrize(("thread_count", "hold"), [(6, HANG_GUARD / 2), (2, 0.3)])
async def test_thread_count_bounds_the_requests_that_run_at_once(thread_count: int, hold: float) -> None:
    with ConcurrencyServer(expected=6, hold=hold) as server:
        async with HttpClient(Urllib3, engine_config={**NO_ENV, "thread_count": thread_count}) as client:
            with anyio.fail_after(HANG_GUARD):
                async with anyio.create_task_group() as tasks:
                    for i in range(6):
                        tasks.start_soon(client.get, f"{server.url}/slow?i={i}")
            assert client.status().completed == 6
    assert server.handled == 6
    assert server.peak == thread_count


# -- cancellation ---------------------------------------------------------------------------


def assert_closed_by_the_client(connections: list[socket.socket]) -> None:
    """Each server-side connection reaches its end: the client closed (or reset) it."""
    for conn in connections:
        conn.settimeout(HANG_GUARD)
        with contextlib.suppress(ConnectionResetError):
            while conn.recv(65536):
                pass


async def test_cancelled_requests_return_at_once_and_leave_no_connection_behind() -> None:
    count = 40
    with SilentServer() as server:
        async with HttpClient(Urllib3, engine_config={**NO_ENV, "thread_count": count}) as client:
            engine = engine_of(client)
            with anyio.fail_after(HANG_GUARD):
                async with anyio.create_task_group() as tasks:
                    for i in range(count):
                        tasks.start_soon(client.get, f"{server.url}/never?i={i}")
                    await wait_until(lambda: len(server.accepted) == count and engine.pool_stats()["running"] == count)
                    tasks.cancel_scope.cancel()  # the requests are blocked on their threads, waiting for answers
            assert engine.pool_stats()["running"] == 0
            assert client.status().in_flight == 0
            # Every abandoned thread woke up (its socket shut down) and closed its connection.
            await anyio.to_thread.run_sync(assert_closed_by_the_client, list(server.accepted))
            assert engine.pool_stats() == {"running": 0, "streams": 0, "idle": 0}


async def test_client_cancel_with_enough_threads_reaches_every_request() -> None:
    """What the conformance suite's cancel test does, with ``thread_count`` raised so every request runs."""
    count = 200
    with SilentServer() as server:
        client = HttpClient(Urllib3, engine_config={**NO_ENV, "thread_count": count})
        outcomes: list[BaseException | str] = []

        async def one(i: int) -> None:
            try:
                await client.get(f"{server.url}/never?i={i}")
            except Exception as exc:
                outcomes.append(exc)
            else:
                outcomes.append("answered")

        with anyio.fail_after(HANG_GUARD):
            async with anyio.create_task_group() as tasks:
                for i in range(count):
                    tasks.start_soon(one, i)
                await wait_until(lambda: len(server.accepted) == count and client.status().in_flight == count)
                client.cancel()
            await client.join()
        assert len(outcomes) == count
        assert all(isinstance(o, ClientCancelledError) for o in outcomes), outcomes[:3]
        await anyio.to_thread.run_sync(assert_closed_by_the_client, list(server.accepted))
        assert engine_of(client).pool_stats()["running"] == 0


class StallingBodyServer:
    """Answers every request with a 1 MiB Content-Length, sends 64 KiB of it and stalls (one connection)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            conn, _ = self._listener.accept()
            self.connections.append(conn)
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + b"x" * 65536)

    def __enter__(self) -> StallingBodyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()
        self._thread.join(5)
        for conn in self.connections:
            conn.close()


async def test_cancelled_body_read_closes_the_connection() -> None:
    with StallingBodyServer() as server:
        async with HttpClient(Urllib3, engine_config=NO_ENV) as client:
            engine = engine_of(client)
            with anyio.fail_after(HANG_GUARD):
                async with client.stream("GET", server.url + "/big") as response:
                    received = 0
                    with anyio.move_on_after(0.3) as waiting:
                        async for chunk in response.aiter_bytes():
                            received += len(chunk)  # 64 KiB arrive, then the read blocks on its thread
                    assert waiting.cancelled_caught
                    assert 0 < received <= 65536
            assert response.is_closed
            await wait_until(lambda: engine.pool_stats()["running"] == 0)
            assert engine.pool_stats()["streams"] == 0
            await anyio.to_thread.run_sync(assert_closed_by_the_client, list(server.connections))


async def test_request_timeout_releases_the_thread_and_the_connection(httpbin: Any) -> None:
    async with HttpClient(Urllib3, engine_config={**NO_ENV, "thread_count": 1}) as client:
        with anyio.fail_after(HANG_GUARD):
            with pytest.raises(RequestTimeout):
                await client.get(httpbin.url + "/delay/3", timeout=0.3)
            # One thread only: the abandoned request does not hold it.
            assert (await client.get(httpbin.url + "/get")).status == 200
        assert engine_of(client).pool_stats()["running"] == 0


# -- the keep-alive race ----------------------------------------------------------------------


class StaleServer:
    """Answers the first request of each connection (kept alive); drops later ones unanswered."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.connections = 0
        self.requests = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        with conn:
            conn.settimeout(HANG_GUARD)
            for index in (1, 2):
                head = b""
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in head:
                        data = conn.recv(65536)
                        if not data:
                            return
                        head += data
                self.requests += 1
                if index == 2:
                    return  # closed without an answer
                body = f"connection {number}".encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    def __enter__(self) -> StaleServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._acceptor.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)


async def test_stale_connection_is_retried_for_get_only() -> None:
    with StaleServer() as server:
        async with HttpClient(Urllib3, engine_config=NO_ENV) as client:
            with anyio.fail_after(HANG_GUARD):
                first = await client.get(server.url + "/a")
                second = await client.get(server.url + "/b")  # reused connection dropped: sent again
                assert (first.content, second.content) == (b"connection 1", b"connection 2")
                assert (server.connections, server.requests) == (2, 3)
                with pytest.raises(ReadError) as caught:
                    await client.post(server.url + "/c", content=b"not twice")  # never sent twice
            assert server.requests == 4
            assert isinstance(caught.value.__cause__, u3.ProtocolError)
            assert "POST" in str(caught.value)


# -- errors -----------------------------------------------------------------------------------


async def test_connect_error_keeps_the_native_cause() -> None:
    url = f"http://127.0.0.1:{closed_port()}/get"
    async with HttpClient(Urllib3, engine_config=NO_ENV) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(ConnectError) as caught:
            await client.get(url)
    assert isinstance(caught.value, ConnectionError)
    assert isinstance(caught.value.__cause__, u3.NewConnectionError)
    assert f"GET {url} failed" in str(caught.value)


async def test_socket_timeout_keeps_the_native_cause(httpbin: Any) -> None:
    async with HttpClient(Urllib3, engine_config=NO_ENV) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(SocketTimeout) as caught:
            await client.get(httpbin.url + "/delay/2", timeout=Timeouts(socket=0.3))
    assert isinstance(caught.value.__cause__, u3.ReadTimeoutError)
    assert "/delay/2" in str(caught.value)


async def test_error_of_an_async_iterable_body_is_raised_as_it_is(httpbin: Any) -> None:
    class BodyError(Exception):
        pass

    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        raise BodyError("the body failed")

    async with HttpClient(Urllib3, engine_config=NO_ENV) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(BodyError):
            await client.post(httpbin.url + "/post", content=body())
        assert (await client.get(httpbin.url + "/get")).status == 200
        assert engine_of(client).pool_stats()["running"] == 0


def request_for(url: str = "http://user:pw@127.0.0.1:8080/path?token=abc") -> Request:
    return Request("GET", URL(url))


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        (u3.ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed")), ReadError),
        (u3.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")), ReadError),
        (u3.ProtocolError("Connection aborted.", http.client.BadStatusLine("2OO")), ProtocolError),
        (u3.ProtocolError("Connection aborted.", http.client.LineTooLong("header line")), ProtocolError),
        (u3.ProtocolError("Connection aborted.", TimeoutError("timed out")), SocketTimeout),
        (u3.ProtocolError("Response ended prematurely"), ProtocolError),
        (u3.MaxRetryError(None, "/x", reason=u3.NewConnectionError(None, "refused")), ConnectError),  # type: ignore[arg-type]
        (u3.ProxyError("Unable to connect to proxy", OSError("Tunnel connection failed: 407")), ProxyError),
        (u3.DecodeError("bad gzip"), DecodingError),
        (http.client.RemoteDisconnected("closed"), ReadError),
        (ConnectionRefusedError(111, "refused"), ConnectError),
    ],
)
def test_wrapped_errors_are_translated_by_what_they_wrap(native: Exception, expected: type[KClientError]) -> None:
    assert kclient_error_for(native) is expected
    error = translate(native, request_for())
    assert type(error) is expected
    text = str(error)
    assert text.startswith("GET http://user:***@127.0.0.1:8080/path?token=***")
    assert ":pw@" not in text and "abc" not in text


def test_tls_error_names_the_host_and_the_reason() -> None:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "unable to get local issuer certificate"
    native = u3.SSLError(cause)
    error = translate(native, request_for("https://example.test/x"))
    assert isinstance(error, TLSError)
    assert "GET https://example.test/x" in str(error)
    assert "example.test could not be verified: unable to get local issuer certificate" in str(error)


def test_secrets_never_reach_a_message() -> None:
    native = u3.ProxyError("Unable to connect to proxy", OSError("proxy said hunter2-pw is wrong"))
    error = translate(native, request_for("http://127.0.0.1/x"), ("hunter2-pw",))
    assert "hunter2-pw" not in str(error)


#: urllib3's generic bases: their EXCEPTION_MAP entries are catch-alls, so a class mapped only
#: through them has no decided mapping.
GENERIC = (u3.HTTPError, u3.HTTPWarning, u3.PoolError, u3.RequestError)


def urllib3_exception_classes() -> list[type[BaseException]]:
    """Every exception class in urllib3.exceptions (warnings and re-exported ones too), but the generic bases."""
    found = [obj for obj in vars(u3).values() if isinstance(obj, type) and issubclass(obj, BaseException)]
    return [cls for cls in dict.fromkeys(found) if cls not in GENERIC]


def make_instance(cls: type[BaseException]) -> BaseException:
    """An instance of ``cls``, whatever its constructor needs."""
    response = SimpleNamespace(tell=lambda: 0, length_remaining=1)
    attempts: list[Callable[[Any], BaseException]] = [
        lambda cls: cls("message"),
        lambda cls: cls(None, "message"),
        lambda cls: cls(None, "http://127.0.0.1/x", "message"),
        lambda cls: cls(response, b"zz"),
        lambda cls: cls(),
    ]
    return make_instance_of(cls, attempts)


def mapping_problems(classes: list[type[BaseException]]) -> list[str]:
    """What is wrong with the mapping of each of ``classes`` (nothing, when each has a decided one)."""
    return check_mapping(classes, EXCEPTION_MAP, lambda cls: kclient_error_for(make_instance(cls)), generic=GENERIC)


def test_every_urllib3_exception_has_a_deliberate_mapping() -> None:
    expected = (
        u3.SSLError,
        u3.NameResolutionError,
        u3.ResponseNotChunked,
        u3.BodyNotHttplibCompatible,
        u3.InsecureRequestWarning,
        http.client.IncompleteRead,  # urllib3.exceptions re-exports it
    )
    assert_all_decided(urllib3_exception_classes(), expected, mapping_problems, "urllib3")


def test_the_mapping_check_catches_a_class_only_the_catch_alls_map() -> None:
    # What a future urllib3 could add (PoolError has no entry: its nearest is HTTPError's).
    assert_catches_unmapped(
        mapping_problems, {u3.HTTPError: "HTTPError", u3.PoolError: "HTTPError"}, [u3.ProtocolError]
    )


# -- engine ownership -------------------------------------------------------------------------


async def test_owned_engine_is_closed_with_the_client() -> None:
    with KeepAliveServer() as server:
        async with HttpClient(Urllib3, engine_config=NO_ENV) as client:
            assert client.owns_engine
            assert (await client.get(server.url + "/ok")).content == b"ok"
            assert engine_of(client).pool_stats()["idle"] == 1  # kept alive, in its pool
        assert engine_of(client).pool_stats() == {"running": 0, "streams": 0, "idle": 0}
        with pytest.raises(TransportError, match="closed"):
            await client.engine.send(Request("GET", URL(server.url + "/ok")))
    assert server.connections == 1


async def test_lent_engine_outlives_the_client_and_closes_open_streams(httpbin: Any) -> None:
    engine = Urllib3(**NO_ENV)
    try:
        async with HttpClient(engine) as client:
            assert not client.owns_engine
            assert (await client.get(httpbin.url + "/get")).status == 200
        response = await engine.send(Request("GET", URL(httpbin.url + "/stream-bytes/200000?chunk_size=1000")))
        assert response.status == 200
        assert engine.pool_stats()["streams"] == 1
    finally:
        await engine.aclose()  # closes the stream left open
    assert engine.pool_stats() == {"running": 0, "streams": 0, "idle": 0}
    with pytest.raises(ReadError, match="closed"):
        await response.aread()
    await response.aclose()
    with pytest.raises(TransportError, match="closed"):
        await engine.send(Request("GET", URL(httpbin.url + "/get")))


# -- proxies ----------------------------------------------------------------------------------


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """``start(auth=None)`` runs tinyproxy on 127.0.0.1 and returns its URL (credentials excluded)."""
    with contextlib.ExitStack() as running:
        made = 0

        def start(auth: tuple[str, str] | None = None) -> str:
            nonlocal made
            made += 1
            folder = tmp_path / f"tinyproxy-{made}"
            folder.mkdir()
            return running.enter_context(running_tinyproxy(folder, auth=auth)).url

        yield start


@pytest.fixture
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


async def via(client: HttpClient, httpbin: Any) -> str:
    response = await client.get(httpbin.url + "/headers", params={"show_env": "1"})
    assert response.status == 200
    return str(response.json()["headers"].get("Via", ""))


async def test_environment_proxy_is_used_unless_trust_env_is_off(
    tinyproxy: Callable[..., str], httpbin: Any, no_proxy_environment: pytest.MonkeyPatch
) -> None:
    no_proxy_environment.setenv("HTTP_PROXY", tinyproxy())
    with anyio.fail_after(HANG_GUARD):
        async with HttpClient(Urllib3) as client:
            assert "tinyproxy" in await via(client, httpbin)
        async with HttpClient(Urllib3, engine_config={"trust_env": False}) as client:
            assert await via(client, httpbin) == ""
        no_proxy_environment.setenv("NO_PROXY", "127.0.0.1")
        async with HttpClient(Urllib3) as client:
            assert await via(client, httpbin) == ""


async def test_proxy_credentials_never_show(tinyproxy: Callable[..., str], httpbin: Any) -> None:
    user, password = "proxyuser", "pr0xy-S3CRET-pw"
    proxy_url = tinyproxy(auth=(user, password))
    shown: list[str] = []
    with anyio.fail_after(HANG_GUARD):
        good = proxy_url.replace("http://", f"http://{user}:{password}@")
        async with HttpClient(Urllib3, engine_config={**NO_ENV, "proxy": ProxyBuilder.http(good)}) as client:
            assert "tinyproxy" in await via(client, httpbin)
            shown += [repr(client), repr(client.engine), repr(client.engine.config)]
            with pytest.raises(RequestTimeout) as timeout:
                await client.get(httpbin.url + "/delay/2", timeout=0.3)
            shown += [str(timeout.value), repr(timeout.value)]

        wrong = proxy_url.replace("http://", f"http://{user}:{password}-wrong@")
        async with HttpClient(Urllib3, engine_config={**NO_ENV, "proxy": ProxyBuilder.http(wrong)}) as refused:
            refusal = await refused.get(httpbin.url + "/get")
            assert refusal.status in (401, 407)
            with pytest.raises(ClientResponseError) as rejected:
                refusal.raise_for_status()
            shown += [str(rejected.value), repr(refused.engine)]

        gone = f"http://{user}:{password}@127.0.0.1:{closed_port()}"
        async with HttpClient(Urllib3, engine_config={**NO_ENV, "proxy": ProxyBuilder.http(gone)}) as nowhere:
            with pytest.raises(ProxyError) as unreachable:
                await nowhere.get(httpbin.url + "/get")
            shown += [str(unreachable.value), repr(unreachable.value), repr(nowhere.engine)]
    leaks = [text for text in shown if password in text]
    assert not leaks, f"the proxy password is shown in: {leaks}"
