"""The Httpx engine against real servers: httpbin, a chunked-body echo server, a silent server, tinyproxy.

Every server binds 127.0.0.1 on a port the OS picks and stops when its fixture ends.
"""

from __future__ import annotations

import contextlib
import json
import socket
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from error_maps import all_subclasses, assert_all_decided, assert_catches_unmapped
from error_maps import make_instance as make_instance_of
from error_maps import mapping_problems as check_mapping
from servers import SilentServer, running_tinyproxy
from werkzeug.serving import make_server
from yarl import URL

import kclient
from kclient import (
    ClientCancelledError,
    ClientResponseError,
    ConnectError,
    HttpClient,
    Httpx,
    ProxyBuilder,
    Request,
    RequestTimeout,
    ServerResponseError,
    SocketTimeout,
    Timeouts,
    TransportError,
)
from kclient.engines.httpx import EXCEPTION_MAP, kclient_error_for

pytestmark = pytest.mark.anyio

#: Engine settings for every test: no proxy or certificate settings from the environment.
NO_ENV = {"trust_env": False}


@pytest.fixture
async def client(anyio_backend: str) -> AsyncIterator[HttpClient]:
    async with HttpClient(Httpx, engine_config=NO_ENV) as c:
        yield c


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- plain requests ---------------------------------------------------------------------------


async def test_get_with_params_and_headers(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(
        httpbin.url + "/get", params={"q": "kclient", "n": 2}, headers={"X-Trace": "42", "Accept": "application/json"}
    )
    assert response.status == 200
    echoed = response.json()
    assert echoed["args"] == {"q": "kclient", "n": "2"}
    assert echoed["headers"]["X-Trace"] == "42"
    assert echoed["headers"]["Accept"] == "application/json"
    assert response.url.query["q"] == "kclient"


async def test_post_json(client: HttpClient, httpbin: Any) -> None:
    body = {"name": "Ada", "tags": ["a", "b"], "n": 1, "unicode": "é"}
    response = await client.post(httpbin.url + "/post", json=body)
    echoed = response.json()
    assert echoed["json"] == body
    assert echoed["headers"]["Content-Type"] == "application/json"


async def test_post_form(client: HttpClient, httpbin: Any) -> None:
    response = await client.post(httpbin.url + "/post", data={"name": "Ada", "lang": ["en", "fr"]})
    echoed = response.json()
    assert echoed["form"] == {"name": "Ada", "lang": ["en", "fr"]}
    assert echoed["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


async def test_post_multipart(client: HttpClient, httpbin: Any) -> None:
    response = await client.post(
        httpbin.url + "/post",
        data={"title": "report"},
        files={"upload": ("r.csv", b"a,b\n1,2\n", "text/csv"), "notes": ("notes.txt", "text notes")},
    )
    echoed = response.json()
    assert echoed["form"] == {"title": "report"}
    assert echoed["files"] == {"upload": "a,b\n1,2\n", "notes": "text notes"}
    assert echoed["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


async def test_content_bytes(client: HttpClient, httpbin: Any) -> None:
    response = await client.put(httpbin.url + "/put", content=b"raw \x00 bytes", headers={"Content-Type": "x/raw"})
    echoed = response.json()
    assert echoed["data"] == "raw \x00 bytes"
    assert echoed["headers"]["Content-Length"] == str(len(b"raw \x00 bytes"))


@pytest.fixture(scope="module")
def echo_server() -> Iterator[str]:
    """Echoes a request's body and framing headers as JSON (werkzeug dechunks; httpbin refuses chunked)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = environ["wsgi.input"].read()
        answer = json.dumps(
            {
                "transfer_encoding": environ.get("HTTP_TRANSFER_ENCODING"),
                "content_length": environ.get("CONTENT_LENGTH") or None,
                "body": body.decode("latin-1"),
            }
        ).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
        return [answer]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_async_iterable_body_is_sent_chunked(client: HttpClient, echo_server: str) -> None:
    async def body() -> AsyncIterator[bytes]:
        for part in (b"first,", b"second,", b"", b"third"):
            await anyio.sleep(0)
            yield part

    response = await client.post(echo_server + "/upload", content=body())
    echoed = response.json()
    assert echoed["body"] == "first,second,third"
    assert echoed["transfer_encoding"] == "chunked"
    assert echoed["content_length"] is None


# -- streaming --------------------------------------------------------------------------------


async def test_stream_bytes(client: HttpClient, httpbin: Any) -> None:
    size = 100_000
    async with client.stream("GET", httpbin.url + f"/stream-bytes/{size}?chunk_size=4096&seed=7") as response:
        assert response.status == 200
        assert not response.is_closed
        chunks = [chunk async for chunk in response.aiter_bytes()]
    assert sum(len(chunk) for chunk in chunks) == size
    assert response.is_closed


async def test_stream_drip(client: HttpClient, httpbin: Any) -> None:
    async with client.stream("GET", httpbin.url + "/drip?numbytes=5&duration=0.2&delay=0&code=200") as response:
        received = b""
        async for chunk in response.aiter_bytes():
            received += chunk
    assert received == b"*****"


async def test_early_exit_from_stream_releases_the_connection(httpbin: Any) -> None:
    # One connection in the pool: a connection not given back would make the next request
    # wait for the pool, and fail with ConnectTimeout (pool timeout) instead of answering.
    big = httpbin.url + "/stream-bytes/500000?chunk_size=1024"
    async with HttpClient(Httpx, engine_config={**NO_ENV, "max_connections": 1}) as client:
        with anyio.fail_after(20):
            async with client.stream("GET", big) as response:
                assert response.status == 200  # the body is left unread
            with pytest.raises(RuntimeError, match="user code"):
                async with client.stream("GET", big):
                    raise RuntimeError("user code failed inside the stream block")
            after = await client.get(httpbin.url + "/get", timeout=Timeouts(connect=5))
        assert after.status == 200
        status = client.status()
        assert (status.in_flight, status.completed, status.failed) == (0, 2, 1)


async def test_waiting_for_a_busy_pool_is_a_pool_timeout(httpbin: Any) -> None:
    # httpx's pool timeout is no failure to connect: every connection was busy. It used to be
    # reported as a plain ConnectTimeout; PoolTimeout names it and is still a ConnectTimeout.
    big = httpbin.url + "/stream-bytes/500000?chunk_size=1024"
    async with HttpClient(Httpx, engine_config={**NO_ENV, "max_connections": 1}) as client:
        with anyio.fail_after(20):
            async with client.stream("GET", big) as response:  # holds the only connection
                assert response.status == 200
                with pytest.raises(kclient.PoolTimeout, match="/get") as waited:
                    await client.get(httpbin.url + "/get", timeout=Timeouts(connect=0.2))
                assert isinstance(waited.value, kclient.ConnectTimeout)
                assert isinstance(waited.value.__cause__, httpx.PoolTimeout)
            assert (await client.get(httpbin.url + "/get")).status == 200  # the pool is free again


# Breaking out of aiter_bytes abandons async generators (kclient's and httpx's own chain down
# to httpcore); trio reports each one with a ResourceWarning when it is garbage collected
# (httpx upstream: encode/httpx#3686), which this suite turns into errors. So on asyncio only.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_break_out_of_a_stream_releases_the_connection(httpbin: Any) -> None:
    big = httpbin.url + "/stream-bytes/500000?chunk_size=1024"
    async with HttpClient(Httpx, engine_config={**NO_ENV, "max_connections": 1}) as client:
        with anyio.fail_after(20):
            for _ in range(2):
                async with client.stream("GET", big) as response:
                    async for chunk in response.aiter_bytes():
                        assert chunk
                        break
                assert response.is_closed
            after = await client.get(httpbin.url + "/get", timeout=Timeouts(connect=5))
        assert after.status == 200
        assert client.status().in_flight == 0


# -- response details -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 204, 302, 404, 418, 500, 503])
async def test_status_codes(client: HttpClient, httpbin: Any, status: int) -> None:
    response = await client.get(httpbin.url + f"/status/{status}", follow_redirects=False)
    assert response.status == status
    assert response.is_success == (200 <= status < 300)
    if status == 302:
        assert "Location" in response.headers  # redirects are not followed by the engine
    if 400 <= status < 500:
        with pytest.raises(ClientResponseError) as caught:
            response.raise_for_status()
        assert caught.value.response is response
    elif status >= 500:
        with pytest.raises(ServerResponseError):
            response.raise_for_status()


async def test_http_version_reason_elapsed(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/get")
    assert response.http_version == "HTTP/1.1"
    assert response.reason == "OK"
    assert response.elapsed > 0
    missing = await client.get(httpbin.url + "/status/404")
    assert missing.reason.upper() == "NOT FOUND"


async def test_gzip_is_decoded(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/gzip")
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json()["gzipped"] is True


async def test_head(client: HttpClient, httpbin: Any) -> None:
    response = await client.head(httpbin.url + "/get")
    assert response.status == 200
    assert response.content == b""
    assert int(response.headers["Content-Length"]) > 0


# -- timeouts and errors ----------------------------------------------------------------------


async def test_request_timeout(client: HttpClient, httpbin: Any) -> None:
    with anyio.fail_after(10):
        with pytest.raises(RequestTimeout) as caught:
            await client.get(httpbin.url + "/delay/2", timeout=0.3)
    assert isinstance(caught.value, TimeoutError)
    assert "/delay/2" in str(caught.value)
    assert client.status().failed == 1


async def test_socket_timeout(client: HttpClient, httpbin: Any) -> None:
    with anyio.fail_after(10):
        with pytest.raises(SocketTimeout) as caught:
            await client.get(httpbin.url + "/delay/2", timeout=Timeouts(socket=0.3))
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


async def test_connect_error_to_a_closed_port(client: HttpClient) -> None:
    url = f"http://127.0.0.1:{closed_port()}/get"
    with anyio.fail_after(10):
        with pytest.raises(ConnectError) as caught:
            await client.get(url)
    assert isinstance(caught.value, ConnectionError)
    assert isinstance(caught.value.__cause__, httpx.HTTPError)
    assert url in str(caught.value)


#: httpx's generic bases. Their EXCEPTION_MAP entries are catch-alls: a class mapped only through
#: them has no decided mapping. RequestError sits between the catch-alls HTTPError and
#: TransportError, so an entry for it would be one more catch-all (and would hide new classes).
GENERIC = (httpx.HTTPError, httpx.RequestError, httpx.TransportError)
#: The roots of httpx's exception classes (InvalidURL, CookieConflict and StreamError are not HTTPErrors).
ROOTS = (httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError)


def httpx_exception_classes() -> list[type[Exception]]:
    """Every subclass of httpx's roots (recursively), the roots included, except the generic bases."""
    classes: list[type[Exception]] = list(ROOTS)
    for root in ROOTS:
        classes.extend(all_subclasses(root))
    return [cls for cls in dict.fromkeys(classes) if cls not in GENERIC]


def make_instance(cls: type[Exception]) -> Exception:
    """An instance of ``cls``, whatever its constructor needs (message, request=, response=, nothing)."""
    request = httpx.Request("GET", "http://127.0.0.1/x")
    attempts: list[Callable[[Any], Exception]] = [
        lambda cls: cls("message"),
        lambda cls: cls("message", request=request),
        lambda cls: cls("message", request=request, response=httpx.Response(500, request=request)),
        lambda cls: cls(),
    ]
    return make_instance_of(cls, attempts)


def mapping_problems(classes: list[type[Exception]]) -> list[str]:
    """What is wrong with the mapping of each of ``classes`` (nothing, when each has a decided one)."""
    return check_mapping(classes, EXCEPTION_MAP, lambda cls: kclient_error_for(make_instance(cls)), generic=GENERIC)


def test_every_public_httpx_exception_is_under_a_known_root() -> None:
    public = [getattr(httpx, name) for name in httpx.__all__]
    exceptions = [obj for obj in public if isinstance(obj, type) and issubclass(obj, BaseException)]
    assert exceptions
    outside = [cls.__name__ for cls in exceptions if not issubclass(cls, ROOTS)]
    assert not outside, f"httpx exceptions outside {ROOTS}: add them to ROOTS and EXCEPTION_MAP: {outside}"


def test_every_httpx_exception_has_a_deliberate_mapping() -> None:
    expected = (httpx.ConnectTimeout, httpx.ResponseNotRead, httpx.InvalidURL, httpx.HTTPStatusError)
    assert_all_decided(httpx_exception_classes(), expected, mapping_problems, "httpx")


def test_the_mapping_check_catches_a_class_only_the_catch_alls_map() -> None:
    # What a future httpx could add (RequestError has no entry: its nearest is HTTPError's).
    assert_catches_unmapped(
        mapping_problems, {httpx.TransportError: "TransportError", httpx.RequestError: "HTTPError"}, [httpx.ReadError]
    )


# -- engine ownership -------------------------------------------------------------------------


async def test_owned_engine_is_closed_with_the_client(httpbin: Any) -> None:
    async with HttpClient(Httpx, engine_config=NO_ENV) as client:
        assert client.owns_engine
        assert (await client.get(httpbin.url + "/get")).status == 200
    with pytest.raises(TransportError, match="closed"):
        await client.engine.send(Request("GET", URL(httpbin.url + "/get")))


async def test_owned_engine_is_closed_by_close_and_join(httpbin: Any) -> None:
    client = HttpClient(Httpx, engine_config=NO_ENV)
    assert (await client.get(httpbin.url + "/get")).status == 200
    client.close()
    await client.join()
    with pytest.raises(TransportError, match="closed"):
        await client.engine.send(Request("GET", URL(httpbin.url + "/get")))


async def test_lent_engine_outlives_the_client(httpbin: Any) -> None:
    engine = Httpx(**NO_ENV)
    try:
        async with HttpClient(engine) as client:
            assert not client.owns_engine
            assert "(lent)" in repr(client)
            assert (await client.get(httpbin.url + "/get")).status == 200
        response = await engine.send(Request("GET", URL(httpbin.url + "/get")))
        try:
            assert response.status == 200
            assert await response.aread()
        finally:
            await response.aclose()
        async with HttpClient(engine) as again:
            assert (await again.get(httpbin.url + "/get")).status == 200
    finally:
        await engine.aclose()
    with pytest.raises(TransportError, match="closed"):
        await engine.send(Request("GET", URL(httpbin.url + "/get")))


# -- cancelling a thousand requests -----------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


async def test_cancel_a_thousand_in_flight_requests(silent_server: SilentServer) -> None:
    count = 1000
    client = HttpClient(Httpx, engine_config={**NO_ENV, "max_connections": None})
    outcomes: list[BaseException | str] = []

    async def one(i: int) -> None:
        try:
            await client.get(f"{silent_server.url}/delay/3?i={i}")
        except BaseException as exc:
            outcomes.append(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            outcomes.append("answered")

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            for i in range(count):
                tasks.start_soon(one, i)
            while client.status().in_flight < count or len(silent_server.accepted) < count:
                await anyio.sleep(0.01)
            client.cancel()
        await client.join()

    assert len(outcomes) == count
    wrong = [o for o in outcomes if not isinstance(o, ClientCancelledError)]
    assert not wrong, f"{len(wrong)} requests did not raise ClientCancelledError, e.g. {wrong[:3]!r}"
    status = client.status()
    assert status.state == kclient.ClientState.CANCELLED
    assert (status.in_flight, status.failed) == (0, count)


# -- tinyproxy --------------------------------------------------------------------------------


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """``start(auth=None)`` runs tinyproxy on 127.0.0.1 and returns its URL (credentials excluded)."""
    with contextlib.ExitStack() as running:

        def start(auth: tuple[str, str] | None = None) -> str:
            folder = Path(tempfile.mkdtemp(prefix="tinyproxy-", dir=tmp_path))
            return running.enter_context(running_tinyproxy(folder, auth=auth)).url

        yield start


async def test_http_proxy(tinyproxy: Callable[..., str], httpbin: Any) -> None:
    proxy_url = tinyproxy()
    async with HttpClient(Httpx, engine_config={**NO_ENV, "proxy": ProxyBuilder.http(proxy_url)}) as client:
        response = await client.get(httpbin.url + "/headers", params={"show_env": "1"})
    assert response.status == 200
    via = response.json()["headers"].get("Via", "")
    assert "tinyproxy" in via, f"the request did not go through tinyproxy: {response.json()['headers']}"


async def test_http_proxy_with_basic_auth_never_shows_the_password(tinyproxy: Callable[..., str], httpbin: Any) -> None:
    user, password = "proxyuser", "pr0xy-S3CRET-pw"
    proxy_url = tinyproxy(auth=(user, password))
    with_credentials = proxy_url.replace("http://", f"http://{user}:{password}@")
    shown: list[str] = []

    async with HttpClient(Httpx, engine_config={**NO_ENV, "proxy": ProxyBuilder.http(with_credentials)}) as client:
        response = await client.get(httpbin.url + "/headers", params={"show_env": "1"})
        assert response.status == 200
        assert "tinyproxy" in response.json()["headers"].get("Via", "")
        shown += [repr(client), repr(client.engine), str(client.engine), repr(client.engine.config)]
        assert "***" in repr(client.engine)
        with pytest.raises(RequestTimeout) as timeout:
            await client.get(httpbin.url + "/delay/2", timeout=0.3)
        shown += [str(timeout.value), repr(timeout.value)]
    shown.append(repr(client))

    # Without credentials, or with wrong ones, tinyproxy refuses: the proxy does check them.
    async with HttpClient(Httpx, engine_config={**NO_ENV, "proxy": ProxyBuilder.http(proxy_url)}) as anonymous:
        assert (await anonymous.get(httpbin.url + "/headers", params={"show_env": "1"})).status == 407
    wrong_password = password + "-wrong"
    wrong = proxy_url.replace("http://", f"http://{user}:{wrong_password}@")
    async with HttpClient(Httpx, engine_config={**NO_ENV, "proxy": ProxyBuilder.http(wrong)}) as refused:
        refusal = await refused.get(httpbin.url + "/headers", params={"show_env": "1"})
        assert refusal.status in (401, 407)  # tinyproxy 1.11 answers wrong credentials with 401
        with pytest.raises(ClientResponseError) as rejected:
            refusal.raise_for_status()
        shown += [str(rejected.value), repr(rejected.value), repr(refused), repr(refused.engine)]

    # A proxy that is not there: the connect error names the request, never the proxy's password.
    gone = f"http://{user}:{password}@127.0.0.1:{closed_port()}"
    async with HttpClient(Httpx, engine_config={**NO_ENV, "proxy": ProxyBuilder.http(gone)}) as nowhere:
        with pytest.raises(TransportError) as unreachable:
            await nowhere.get(httpbin.url + "/headers", params={"show_env": "1"})
        shown += [str(unreachable.value), repr(unreachable.value), repr(nowhere), repr(nowhere.engine)]

    leaks = [text for text in shown if password in text]
    assert not leaks, f"the proxy password is shown in: {leaks}"
