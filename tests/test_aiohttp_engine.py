"""The Aiohttp engine: settings, capabilities, its exception map, and what only it does.

Real servers on 127.0.0.1 (ports the OS picks): httpbin, a silent server, the fault server
(plain and TLS, with a trustme CA), tinyproxy and microsocks. Behaviour every engine shares
is in tests/engines (the conformance suite); this file covers what is particular to Aiohttp.
The engine runs on asyncio only, so the async tests run on asyncio.
"""

from __future__ import annotations

import pytest

# The Urllib3 and Aiohttp engines are extras: without one, its tests skip naming it.
pytest.importorskip("aiohttp", reason="needs aiohttp: pip install 'kclient[aiohttp]'")

import asyncio
import contextlib
import ssl
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
from engines.faults import FaultServer
from engines.support import HANG_GUARD
from error_maps import all_subclasses, assert_all_decided, assert_catches_unmapped
from error_maps import mapping_problems as check_mapping
from extras import needs
from servers import SilentServer, Tinyproxy, running_microsocks, running_tinyproxy
from yarl import URL

from kclient import (
    Capabilities,
    ConfigError,
    ConnectError,
    ConnectTimeout,
    DecodingError,
    HttpClient,
    InvalidRequestError,
    ProtocolError,
    ProxyBuilder,
    ProxyError,
    ReadError,
    Request,
    SocketTimeout,
    Timeouts,
    TLSError,
    TransportError,
    UnsupportedSettingError,
    WriteError,
    describe_settings,
)
from kclient.engines.aiohttp import EXCEPTION_MAP, Aiohttp, AiohttpConfig, kclient_error_for, map_exceptions

#: Engine settings for every test: no proxy settings from the environment.
NO_ENV = {"trust_env": False}
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def anyio_backend() -> str:
    """Aiohttp runs on asyncio only (trio is refused: see test_trio_is_refused_naming_an_engine_for_it)."""
    return "asyncio"


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    async with HttpClient(Aiohttp, engine_config=NO_ENV) as c:
        yield c


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- settings and capabilities ----------------------------------------------------------------


def test_config_defaults() -> None:
    config = Aiohttp().config
    assert isinstance(config, AiohttpConfig)
    assert config.max_connections == 100
    assert config.max_connections_per_route is None
    assert config.keepalive_timeout == 15.0
    assert config.trust_env is True
    assert config.https.verify is True
    assert config.proxy is None
    assert repr(Aiohttp()) == "Aiohttp()"
    names = {info.name for info in describe_settings(AiohttpConfig)}
    assert {
        "max_connections",
        "max_connections_per_route",
        "keepalive_timeout",
        "trust_env",
        "https.verify",
        "https.ca_file",
        "https.cert_file",
        "https.key_file",
        "proxy",
    } <= names
    assert all(info.doc for info in describe_settings(AiohttpConfig))


def test_settings_are_validated_and_shown_when_changed() -> None:
    engine = Aiohttp(max_connections=None, max_connections_per_route=4, keepalive_timeout=2, **NO_ENV)
    assert engine.config.max_connections is None
    assert engine.config.keepalive_timeout == 2.0 and isinstance(engine.config.keepalive_timeout, float)
    text = repr(engine)
    assert "max_connections=None" in text and "max_connections_per_route=4" in text, text
    nested = Aiohttp({"https.verify": False})
    assert nested.config.https.verify is False


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"max_conections": 4}, "Did you mean max_connections?"),
        ({"keepalive_timout": 4}, "Did you mean keepalive_timeout?"),
        ({"https.verfy": False}, "Did you mean https.verify?"),
        ({"verify": False}, "Did you mean https.verify?"),
        ({"max_connections": 0}, "at least 1"),
        ({"max_connections_per_route": 0}, "at least 1"),
        ({"keepalive_timeout": -1}, "between 0.0 and 3600.0"),
        ({"trust_env": "yes"}, "True or False"),
        ({"proxy": 3128}, "A proxy must be"),
    ],
)
def test_invalid_settings_are_config_errors(settings: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        HttpClient("Aiohttp", engine_config=settings)
    assert expected in str(caught.value), str(caught.value)


def test_capabilities() -> None:
    caps = Aiohttp.capabilities
    assert caps == Capabilities(
        streaming=True, proxies=frozenset({"http", "socks"}), websockets=True, backends=frozenset({"asyncio"})
    )
    assert not caps.http2 and not caps.pipelining and not caps.worker_threads
    assert caps.describe() == "proxies: http, socks, streaming, WebSockets"
    assert Aiohttp.name == "Aiohttp"
    assert Aiohttp.config_class is AiohttpConfig


@pytest.mark.parametrize(("settings", "what"), [({"pipelining": True}, "pipelining"), ({"thread_count": 2}, "thread")])
def test_what_aiohttp_cannot_do_is_refused_at_creation(settings: dict[str, Any], what: str) -> None:
    with pytest.raises(UnsupportedSettingError, match=f"Aiohttp does not support {what}"):
        Aiohttp(**settings)


@needs("aiohttp_socks")
def test_socks_proxy_needs_aiohttp_socks(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = ProxyBuilder.socks("127.0.0.1", 1080, username="user", password="s3cret-socks")
    assert Aiohttp(proxy=proxy).config.proxy == proxy  # installed here: accepted
    monkeypatch.setitem(sys.modules, "aiohttp_socks", None)  # now it cannot be imported
    with pytest.raises(ConfigError) as caught:
        HttpClient(Aiohttp, engine_config={"proxy": proxy})
    message = str(caught.value)
    assert "aiohttp_socks" in message and "pip install 'kclient[socks]'" in message, message
    assert "s3cret-socks" not in message
    assert Aiohttp(proxy=ProxyBuilder.http("http://127.0.0.1:3128")).config.proxy is not None  # HTTP needs nothing


def test_trio_is_refused_naming_an_engine_for_it() -> None:
    found: list[BaseException] = []

    async def main() -> None:
        async with HttpClient(Aiohttp, engine_config=NO_ENV) as client:
            try:
                await client.get(f"http://127.0.0.1:{closed_port()}/")
            except ConfigError as exc:
                found.append(exc)

    anyio.run(main, backend="trio")
    assert len(found) == 1
    message = str(found[0])
    assert "asyncio only" in message and "Httpx" in message, message


# -- the exception map ------------------------------------------------------------------------

#: aiohttp's root, an entry of its own in EXCEPTION_MAP as the catch-all of the client's errors.
GENERIC = (aiohttp.ClientError,)


def aiohttp_exception_classes() -> list[type[BaseException]]:
    """Every exception class of aiohttp's public namespace and every ClientError subclass, the root excluded."""
    public = [getattr(aiohttp, name) for name in aiohttp.__all__]
    classes = [obj for obj in public if isinstance(obj, type) and issubclass(obj, BaseException)]
    classes.extend(all_subclasses(aiohttp.ClientError))
    return [cls for cls in dict.fromkeys(classes) if cls not in GENERIC]


def mapping_problems(classes: list[type[BaseException]]) -> list[str]:
    """What is wrong with the mapping of each of ``classes`` (nothing, when each has a decided one).

    In aiohttp nearly every base class is raised itself too (ClientConnectionError("Connection
    closed"), ClientOSError, ClientResponseError...), so each has an entry, and an entry of a
    base cannot be told from a catch-all: a class is decided only when it has an entry of its own.
    """
    return check_mapping(
        classes,
        EXCEPTION_MAP,
        lambda cls: kclient_error_for(cls.__new__(cls)),  # isinstance is all the map looks at
        generic=GENERIC,
        own_entry=True,
    )


def test_every_aiohttp_exception_has_a_deliberate_mapping() -> None:
    expected = (
        aiohttp.ClientConnectorCertificateError,
        aiohttp.ServerDisconnectedError,
        aiohttp.ClientPayloadError,
        aiohttp.WebSocketError,
        aiohttp.ClientConnectionError,
    )
    assert_all_decided(aiohttp_exception_classes(), expected, mapping_problems, "aiohttp")


def test_the_mapping_check_catches_a_class_only_a_catch_all_maps() -> None:
    # What a future aiohttp could add.
    assert_catches_unmapped(
        mapping_problems,
        {aiohttp.ClientError: "ClientError", aiohttp.ClientConnectionError: "ClientConnectionError"},
        [aiohttp.ClientOSError],
        subclass_decided=False,  # a class is decided by an entry of its own, see mapping_problems
    )


@needs("aiohttp_socks")
def test_aiohttp_socks_errors_are_mapped() -> None:
    import aiohttp_socks

    assert kclient_error_for(aiohttp_socks.ProxyTimeoutError("slow")) is ConnectTimeout
    assert kclient_error_for(aiohttp_socks.ProxyConnectionError("refused")) is ProxyError
    assert kclient_error_for(aiohttp_socks.ProxyError("auth failed", error_code=1)) is ProxyError


def test_phase_and_cause_refine_the_mapping() -> None:
    from aiohttp.http_exceptions import ContentEncodingError, TransferEncodingError

    decoding = aiohttp.ClientPayloadError("Response payload is not completed")
    decoding.__cause__ = ContentEncodingError("gzip")
    framing = aiohttp.ClientPayloadError("Response payload is not completed")
    framing.__cause__ = TransferEncodingError("bad chunk")
    assert kclient_error_for(decoding) is DecodingError
    assert kclient_error_for(framing) is ProtocolError
    # A bare TimeoutError: while reading a body it is a socket timeout.
    assert kclient_error_for(TimeoutError(), reading=True) is SocketTimeout
    assert kclient_error_for(aiohttp.ConnectionTimeoutError()) is ConnectTimeout
    assert kclient_error_for(aiohttp.ServerDisconnectedError()) is ReadError


def test_map_exceptions_keeps_the_native_error_and_masks_credentials() -> None:
    request = Request("GET", URL("http://user:pa55word@127.0.0.1:1/x?token=t0ken"))
    native = aiohttp.ClientConnectionError("proxy http://user:pa55word@127.0.0.1:3128 went away")
    with pytest.raises(ReadError) as caught:
        with map_exceptions(request):
            raise native
    assert caught.value.__cause__ is native
    message = str(caught.value)
    assert message.startswith("GET http://user:***@127.0.0.1:1/x?token=*** failed:"), message
    assert "pa55word" not in message and "t0ken" not in message
    with map_exceptions(request):  # anything else passes through
        pass
    with pytest.raises(KeyError):
        with map_exceptions(request):
            raise KeyError("not aiohttp's")


# -- native errors from real exchanges --------------------------------------------------------


@pytest.mark.anyio
async def test_connect_error_keeps_aiohttps_exception(client: HttpClient) -> None:
    url = f"http://127.0.0.1:{closed_port()}/get"
    with anyio.fail_after(HANG_GUARD), pytest.raises(ConnectError) as caught:
        await client.get(url)
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)
    assert str(caught.value).startswith(f"GET {url} failed: ")


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


@pytest.mark.anyio
async def test_socket_timeout_keeps_aiohttps_exception(client: HttpClient, silent_server: SilentServer) -> None:
    with anyio.fail_after(HANG_GUARD), pytest.raises(SocketTimeout) as caught:
        await client.get(silent_server.url + "/never", timeout=Timeouts(socket=0.3))
    assert isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value.__cause__, aiohttp.SocketTimeoutError)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    import trustme

    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("aiohttp-tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return ca, str(ca_file)


@pytest.fixture(scope="module")
def tls_server(pki: tuple[Any, str]) -> Iterator[FaultServer]:
    ca, _ = pki
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FaultServer(ssl_context=context) as server:
        yield server


@pytest.mark.anyio
async def test_untrusted_certificate_is_a_tls_error_naming_the_host(tls_server: FaultServer) -> None:
    async with HttpClient(Aiohttp, engine_config=NO_ENV) as client:
        with anyio.fail_after(HANG_GUARD), pytest.raises(TLSError) as caught:
            await client.get(tls_server.url + "/ok")
    message = str(caught.value)
    assert "127.0.0.1" in message and "could not be verified" in message, message
    assert isinstance(caught.value, ConnectError)
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorCertificateError)


@pytest.mark.anyio
async def test_test_ca_and_verify_false(tls_server: FaultServer, pki: tuple[Any, str]) -> None:
    async with HttpClient(Aiohttp, engine_config={**NO_ENV, "https.ca_file": pki[1]}) as trusting:
        with anyio.fail_after(HANG_GUARD):
            assert (await trusting.get(tls_server.url + "/ok")).content == b"ok"
    async with HttpClient(Aiohttp, engine_config={**NO_ENV, "https": {"verify": False}}) as unverified:
        with anyio.fail_after(HANG_GUARD):
            assert (await unverified.get(tls_server.url + "/ok")).content == b"ok"


@pytest.mark.anyio
async def test_unreadable_ca_file_is_a_config_error(tmp_path: Path, tls_server: FaultServer) -> None:
    async with HttpClient(Aiohttp, engine_config={**NO_ENV, "https.ca_file": str(tmp_path / "missing.pem")}) as client:
        for _ in range(2):  # a failed build is reported again, not cached as a success
            with anyio.fail_after(HANG_GUARD), pytest.raises(ConfigError, match="ca_file"):
                await client.get(tls_server.url + "/ok")


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.mark.anyio
async def test_broken_chunk_framing_after_the_head_fails_the_streamed_body(client: HttpClient) -> None:
    """The head first, then (once the body is being read) broken chunked framing.

    aiohttp's C parser closes the connection without telling the body, so the engine has to
    (a reader would otherwise wait forever, since aiohttp also drops the socket timeout then).
    """
    reading = asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()
        await reading.wait()
        await asyncio.sleep(0.1)  # the reader is waiting for the next chunk by now
        writer.write(b"zz\r\nnot a chunk\r\n0\r\n\r\n")
        await writer.drain()
        with contextlib.suppress(ConnectionError):
            while await reader.read(1024):
                pass
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    received = b""
    try:
        with anyio.fail_after(HANG_GUARD), pytest.raises(ProtocolError) as caught:
            async with client.stream("GET", f"http://127.0.0.1:{port}/", timeout=Timeouts(socket=5)) as response:
                async for chunk in response.aiter_bytes():
                    received += chunk
                    reading.set()
    finally:
        server.close()
        await server.wait_closed()
    assert received == b"hello"
    assert isinstance(caught.value.__cause__, aiohttp.ClientPayloadError)
    assert client.status().in_flight == 0


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["fin", "rst"])
async def test_stale_connection_is_retried_for_idempotent_methods_only(
    client: HttpClient, fault_server: FaultServer, how: str
) -> None:
    """aiohttp's own retry (kept on) sends a GET once more; a POST, which may have had effects, is not."""
    url = f"{fault_server.url}/stale-{how}"
    with anyio.fail_after(HANG_GUARD):
        assert (await client.get(url)).content == b"fresh connection"
        assert (await client.get(url)).content == b"fresh connection"  # sent again on a new connection
        with pytest.raises((ReadError, WriteError)) as caught:
            await client.post(url, content=b"once")  # on the kept-alive connection of the retried GET
    assert isinstance(caught.value.__cause__, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError))
    assert [seen.method for seen in fault_server.seen_on(f"/stale-{how}")] == ["GET", "GET", "GET", "POST"]


@pytest.mark.anyio
async def test_a_failing_request_body_is_a_write_error(client: HttpClient, fault_server: FaultServer) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"first part"
        await anyio.sleep(0)
        raise ValueError("the body's source failed")

    with anyio.fail_after(HANG_GUARD), pytest.raises(WriteError) as caught:
        await client.post(fault_server.url + "/echo", content=body())
    assert "the body's source failed" in str(caught.value)
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectionError)
    assert (await client.get(fault_server.url + "/ok")).content == b"ok"


@pytest.mark.anyio
async def test_a_request_aiohttp_refuses_to_build_is_an_invalid_request(
    client: HttpClient, fault_server: FaultServer
) -> None:
    url = fault_server.url.replace("http://", "http://user:pa55word@") + "/echo"
    with pytest.raises(InvalidRequestError) as caught:  # credentials in the URL and an Authorization header
        await client.get(url, headers={"Authorization": "Bearer x"})
    assert isinstance(caught.value.__cause__, ValueError)
    assert "pa55word" not in str(caught.value)
    assert fault_server.accepted == 0


# -- headers and bodies -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_accept_encoding_is_what_the_engine_decodes_unless_the_caller_sets_it(
    client: HttpClient, httpbin: Any
) -> None:
    from kclient._decoding import accept_encoding

    default = (await client.get(httpbin.url + "/headers")).json()["headers"]
    assert default["Accept-Encoding"] == accept_encoding()
    chosen = (await client.get(httpbin.url + "/headers", headers={"Accept-Encoding": "identity"})).json()["headers"]
    assert chosen["Accept-Encoding"] == "identity"
    assert "Cookie" not in chosen


@pytest.mark.anyio
async def test_cookies_are_not_kept_by_the_engine(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/cookies/set?kept=no", follow_redirects=False)
    assert response.status == 302  # not followed
    assert (await client.get(httpbin.url + "/cookies")).json()["cookies"] == {}


@pytest.mark.anyio
async def test_large_bytes_body_is_sent_without_warnings(client: HttpClient, httpbin: Any) -> None:
    body = b"x" * (3 << 20)  # over aiohttp's 1 MiB "large body" threshold
    response = await client.put(httpbin.url + "/anything", content=body)
    assert response.json()["headers"]["Content-Length"] == str(len(body))


# -- connections, cancellation and closing ----------------------------------------------------


@pytest.mark.anyio
async def test_cancelled_send_and_cancelled_read_release_their_connection(
    silent_server: SilentServer, httpbin: Any
) -> None:
    # One connection in the pool: a connection not given back would make the next request wait forever.
    async with HttpClient(Aiohttp, engine_config={**NO_ENV, "max_connections": 1}) as client:
        with anyio.fail_after(HANG_GUARD):
            with anyio.move_on_after(0.2):
                await client.get(silent_server.url + "/never")  # cancelled while waiting for the head
            async with client.stream("GET", httpbin.url + "/drip?numbytes=5&duration=5&delay=0") as response:
                with anyio.move_on_after(0.2):
                    async for _ in response.aiter_bytes():  # cancelled while waiting for the body
                        pass
            after = await client.get(httpbin.url + "/get", timeout=Timeouts(connect=5))
        assert after.status == 200
        assert client.status().in_flight == 0


@pytest.mark.anyio
async def test_owned_engine_is_closed_with_the_client(httpbin: Any) -> None:
    async with HttpClient(Aiohttp, engine_config=NO_ENV) as client:
        assert client.owns_engine
        assert (await client.get(httpbin.url + "/get")).status == 200
    with pytest.raises(TransportError, match="closed"):
        await client.engine.send(Request("GET", URL(httpbin.url + "/get")))
    await client.engine.aclose()  # idempotent


@pytest.mark.anyio
async def test_lent_engine_outlives_the_client(httpbin: Any) -> None:
    engine = Aiohttp(**NO_ENV)
    try:
        async with HttpClient(engine) as client:
            assert not client.owns_engine
            assert (await client.get(httpbin.url + "/get")).status == 200
        response = await engine.send(Request("GET", URL(httpbin.url + "/get")))
        try:
            assert response.status == 200
            assert response.http_version == "HTTP/1.1"
            assert await response.aread()
        finally:
            await response.aclose()
    finally:
        await engine.aclose()
        await engine.aclose()
    with pytest.raises(TransportError, match="Engine Aiohttp is closed"):
        await engine.send(Request("GET", URL(httpbin.url + "/get")))


def test_engine_that_never_sent_closes_anywhere() -> None:
    engine = Aiohttp(**NO_ENV)
    engine.close()  # synchronously, through kclient.run
    asyncio.run(engine.aclose())


# -- proxies from the environment -------------------------------------------------------------


@pytest.fixture
def proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[Callable[..., Tinyproxy]]:
    """``start(auth=None)`` runs tinyproxy on 127.0.0.1 (stopped at the end of the test)."""
    with contextlib.ExitStack() as running:

        def start(auth: tuple[str, str] | None = None) -> Tinyproxy:
            folder = Path(tempfile.mkdtemp(prefix="tinyproxy-", dir=tmp_path))
            return running.enter_context(running_tinyproxy(folder, auth=auth))

        yield start


async def via_of(client: HttpClient, httpbin: Any) -> str:
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/headers", params={"show_env": "1"})
    assert response.status == 200
    return str(response.json()["headers"].get("Via", ""))


@pytest.mark.anyio
async def test_environment_proxy_is_honoured_or_ignored_with_trust_env(
    proxy_environment: pytest.MonkeyPatch, tinyproxy: Callable[..., Tinyproxy], httpbin: Any
) -> None:
    proxy = tinyproxy()
    proxy_environment.setenv("HTTP_PROXY", proxy.url)
    async with HttpClient(Aiohttp) as client:
        assert "tinyproxy" in await via_of(client, httpbin)
    async with HttpClient(Aiohttp, engine_config={"trust_env": False}) as client:
        assert await via_of(client, httpbin) == ""
    async with HttpClient(Aiohttp, engine_config={"proxy": None}) as client:  # an explicit "no proxy" still reads it
        assert "tinyproxy" in await via_of(client, httpbin)
    proxy_environment.setenv("NO_PROXY", "127.0.0.1")
    async with HttpClient(Aiohttp) as client:
        assert await via_of(client, httpbin) == ""


@pytest.mark.anyio
async def test_environment_proxy_is_read_when_the_engine_is_created(
    proxy_environment: pytest.MonkeyPatch, tinyproxy: Callable[..., Tinyproxy], httpbin: Any
) -> None:
    engine = Aiohttp()
    proxy_environment.setenv("HTTP_PROXY", tinyproxy().url)
    try:
        async with HttpClient(engine) as client:
            assert await via_of(client, httpbin) == ""
    finally:
        await engine.aclose()


@pytest.mark.anyio
async def test_an_explicit_proxy_wins_over_the_environment(
    proxy_environment: pytest.MonkeyPatch, tinyproxy: Callable[..., Tinyproxy], httpbin: Any
) -> None:
    proxy_environment.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    explicit = tinyproxy()
    async with HttpClient(Aiohttp, engine_config={"proxy": explicit.url}) as client:
        assert "tinyproxy" in await via_of(client, httpbin)


# -- credentials are never shown --------------------------------------------------------------


@pytest.mark.anyio
async def test_proxy_credentials_never_appear_in_messages_or_reprs(
    tinyproxy: Callable[..., Tinyproxy], httpbin: Any, pki: tuple[Any, str], tls_server: FaultServer
) -> None:
    user, password = "proxyuser", "pr0xy-S3CRET-pw"
    proxy = tinyproxy(auth=(user, password))
    shown: list[str] = []

    def credentials(url: str, secret: str = password) -> str:
        return url.replace("http://", f"http://{user}:{secret}@")

    settings = {**NO_ENV, "https.ca_file": pki[1]}
    async with HttpClient(
        Aiohttp, engine_config={**settings, "proxy": ProxyBuilder.http(credentials(proxy.url))}
    ) as client:
        with anyio.fail_after(HANG_GUARD):
            plain = await client.get(httpbin.url + "/headers", params={"show_env": "1"})
            tunnelled = await client.get(tls_server.url + "/ok")
        assert "tinyproxy" in plain.json()["headers"].get("Via", "")
        assert "Proxy-Authorization" not in plain.json()["headers"]  # the proxy took it, the origin never saw it
        assert tunnelled.content == b"ok"
        shown += [repr(client), repr(client.engine), str(client.engine), repr(client.engine.config)]
        assert "***" in repr(client.engine)

    wrong = credentials(proxy.url, password + "-wrong")
    async with HttpClient(Aiohttp, engine_config={**settings, "proxy": ProxyBuilder.http(wrong)}) as refused:
        with anyio.fail_after(HANG_GUARD), pytest.raises(ProxyError) as connect_refused:
            await refused.get(tls_server.url + "/ok")  # CONNECT answered 401/407
        shown += [str(connect_refused.value), repr(connect_refused.value), repr(connect_refused.value.__cause__)]

    gone = credentials(f"http://127.0.0.1:{closed_port()}")
    async with HttpClient(Aiohttp, engine_config={**settings, "proxy": ProxyBuilder.http(gone)}) as nowhere:
        with anyio.fail_after(HANG_GUARD), pytest.raises(ProxyError) as unreachable:
            await nowhere.get(httpbin.url + "/get")
        shown += [str(unreachable.value), repr(unreachable.value), repr(unreachable.value.__cause__), repr(nowhere)]

    leaks = [text for text in shown if password in text]
    assert not leaks, f"the proxy password is shown in: {leaks}"


@needs("aiohttp_socks")
@pytest.mark.anyio
async def test_socks_proxy_with_wrong_credentials_is_a_proxy_error_without_them(httpbin: Any) -> None:
    with running_microsocks(auth=("socksuser", "s0cks-pw")) as socks:
        right = ProxyBuilder.socks(socks.host, socks.port, username="socksuser", password="s0cks-pw")
        wrong = ProxyBuilder.socks(socks.host, socks.port, username="socksuser", password="wr0ng-s0cks-pw")
        async with HttpClient(Aiohttp, engine_config={**NO_ENV, "proxy": right}) as client:
            with anyio.fail_after(HANG_GUARD):
                assert (await client.get(httpbin.url + "/ip")).json()["origin"] == socks.bind_address
        async with HttpClient(Aiohttp, engine_config={**NO_ENV, "proxy": wrong}) as refused:
            with anyio.fail_after(HANG_GUARD), pytest.raises(ProxyError) as caught:
                await refused.get(httpbin.url + "/ip")
            shown = str(caught.value) + repr(caught.value.__cause__) + repr(refused.engine)
    assert caught.value.__cause__ is not None
    assert "wr0ng-s0cks-pw" not in shown
