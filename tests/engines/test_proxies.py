"""Proxies on every engine: tinyproxy (plain requests, CONNECT, credentials), microsocks (SOCKS5),
and the proxy environment variables.

An engine without a proxy kind refuses it when created, naming the engines that have it.
tinyproxy adds ``Via`` to the requests it forwards; microsocks connects from 127.0.0.2, so
httpbin's ``/ip`` tells whether a request went through it.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from servers import Microsocks, Tinyproxy

from kclient import Engine, HttpClient, ProxyBuilder, ProxyError, UnsupportedSettingError
from kclient.engines import registry

from .support import (
    HANG_GUARD,
    PROXY_PASSWORD,
    PROXY_USER,
    Site,
    TlsOrigin,
    assert_transport_error,
    engine_bug,
    hermetic_settings,
    require,
    setting_names,
)

pytestmark = pytest.mark.anyio

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def trusting(engine: type[Engine], origin: TlsOrigin) -> dict[str, Any]:
    """The engine's setting that makes it trust the origin's CA; skips when it has none."""
    if "https.ca_file" not in setting_names(engine):
        pytest.skip(f"{engine.name} has no https.ca_file setting, so it cannot trust a test CA")
    return {"https": {"ca_file": origin.ca_file}}


def with_credentials(url: str, password: str = PROXY_PASSWORD) -> str:
    return url.replace("://", f"://{PROXY_USER}:{password}@", 1)


async def via_of(client: HttpClient, httpbin: Any) -> str:
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/headers", params={"show_env": "1"})
    assert response.status == 200
    return str(response.json()["headers"].get("Via", ""))


# -- HTTP proxies -----------------------------------------------------------------------------


async def test_http_proxy_adds_via(
    make_client: Callable[..., HttpClient], engine: type[Engine], tinyproxy: Tinyproxy, httpbin: Any
) -> None:
    require(engine, "proxies:http")
    client = make_client(proxy=ProxyBuilder.http(tinyproxy.url))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/headers", params={"show_env": "1"})
        # PUT, idempotent: tinyproxy closes each connection after its answer (without Connection: close).
        again = await client.put(httpbin.url + "/anything", params={"show_env": "1"}, json={"through": "proxy"})
    assert response.status == 200
    via = response.json()["headers"].get("Via", "")
    assert "tinyproxy" in via, f"the request did not go through tinyproxy: {response.json()['headers']}"
    assert again.json()["json"] == {"through": "proxy"}
    assert "tinyproxy" in again.json()["headers"].get("Via", "")


async def test_http_proxy_streams_a_large_body(
    make_client: Callable[..., HttpClient], engine: type[Engine], tinyproxy: Tinyproxy, nginx: Site
) -> None:
    require(engine, "proxies:http")
    expected = nginx.files["10MiB"]
    client = make_client(proxy=ProxyBuilder.http(tinyproxy.url))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(nginx.url + expected.path)
    assert "tinyproxy" in response.headers.get("Via", "")
    assert hashlib.sha256(response.content).hexdigest() == expected.sha256


async def test_https_through_http_proxy_connect(
    make_client: Callable[..., HttpClient], engine: type[Engine], tinyproxy: Tinyproxy, tls_origin: TlsOrigin
) -> None:
    require(engine, "proxies:http")
    client = make_client(proxy=ProxyBuilder.http(tinyproxy.url), **trusting(engine, tls_origin))
    with anyio.fail_after(HANG_GUARD):
        response = await client.post(tls_origin.server.url + "/echo", content=b"tunnelled")
    assert response.status == 200
    assert response.json()["body"] == "tunnelled"
    # Inside a CONNECT tunnel the proxy cannot add Via; its log shows the tunnel instead.
    assert f"CONNECT 127.0.0.1:{tls_origin.server.port}" in tinyproxy.log_text()


async def test_proxy_credentials_plain_and_through_connect(
    make_client: Callable[..., HttpClient],
    engine: type[Engine],
    tinyproxy_with_auth: Tinyproxy,
    httpbin: Any,
    tls_origin: TlsOrigin,
) -> None:
    """Credentials in the proxy URL authenticate absolute-form requests and CONNECT tunnels, and never show."""
    require(engine, "proxies:http")
    client = make_client(
        proxy=ProxyBuilder.http(with_credentials(tinyproxy_with_auth.url)), **trusting(engine, tls_origin)
    )
    with anyio.fail_after(HANG_GUARD):
        plain = await client.get(httpbin.url + "/headers", params={"show_env": "1"})
        tunnelled = await client.get(tls_origin.server.url + "/ok")
    assert plain.status == 200
    assert "tinyproxy" in plain.json()["headers"].get("Via", "")
    assert tunnelled.content == b"ok"
    assert PROXY_PASSWORD not in repr(client) + repr(client.engine)

    wrong = make_client(
        proxy=ProxyBuilder.http(with_credentials(tinyproxy_with_auth.url, "wrong-pw")), **trusting(engine, tls_origin)
    )
    with anyio.fail_after(HANG_GUARD):
        refused_plain = await wrong.get(httpbin.url + "/get")
    assert refused_plain.status in (401, 407)  # the proxy's own answer (tinyproxy says 401)
    with anyio.fail_after(HANG_GUARD), pytest.raises(ProxyError) as refused:
        await wrong.get(tls_origin.server.url + "/ok")
    assert "wrong-pw" not in str(refused.value) + repr(refused.value.__cause__)


# -- SOCKS5 -----------------------------------------------------------------------------------


def proxied_origin(response_json: dict[str, Any]) -> str:
    return str(response_json["origin"])


async def test_socks5_proxy(
    make_client: Callable[..., HttpClient], engine: type[Engine], microsocks: Microsocks, nginx: Site, httpbin: Any
) -> None:
    require(engine, "proxies:socks")
    expected = nginx.files["1MiB"]
    client = make_client(proxy=ProxyBuilder.socks(microsocks.host, microsocks.port))
    with anyio.fail_after(HANG_GUARD):
        seen = await client.get(httpbin.url + "/ip")
        response = await client.get(nginx.url + expected.path)
    assert proxied_origin(seen.json()) == microsocks.bind_address, "the request did not go through microsocks"
    assert hashlib.sha256(response.content).hexdigest() == expected.sha256


async def test_socks5_proxy_with_credentials(
    make_client: Callable[..., HttpClient], engine: type[Engine], microsocks_with_auth: Microsocks, httpbin: Any
) -> None:
    require(engine, "proxies:socks")
    proxy = microsocks_with_auth
    client = make_client(proxy=ProxyBuilder.socks(proxy.host, proxy.port, username=PROXY_USER, password=PROXY_PASSWORD))
    with anyio.fail_after(HANG_GUARD):
        seen = await client.get(httpbin.url + "/ip")
    assert proxied_origin(seen.json()) == proxy.bind_address
    assert PROXY_PASSWORD not in repr(client) + repr(client.engine)


@engine_bug(
    "Httpx",
    "httpcore leaves the proxy socket open when the SOCKS5 handshake fails (its socks_proxy.py never closes "
    "the stream), a ResourceWarning when it is garbage collected",
    raises=(pytest.PytestUnraisableExceptionWarning, ExceptionGroup),
)
async def test_socks5_proxy_with_wrong_credentials(
    make_client: Callable[..., HttpClient], engine: type[Engine], microsocks_with_auth: Microsocks, httpbin: Any
) -> None:
    require(engine, "proxies:socks")
    proxy = microsocks_with_auth
    wrong = make_client(proxy=ProxyBuilder.socks(proxy.host, proxy.port, username=PROXY_USER, password="wrong-pw"))
    with anyio.fail_after(HANG_GUARD), pytest.raises(ProxyError) as refused:
        await wrong.get(httpbin.url + "/ip")
    assert_transport_error(refused.value, ProxyError, native_cause=True)
    assert "wrong-pw" not in str(refused.value)
    del refused  # its traceback holds the frames that hold what the engine opened
    gc.collect()  # what the engine abandoned is reported now, in this test


def test_socks_proxy_is_refused_by_an_engine_without_socks(engine: type[Engine]) -> None:
    if "socks" in engine.capabilities.proxies:
        pytest.skip(f"{engine.name} supports SOCKS proxies")
    with pytest.raises(UnsupportedSettingError) as caught:
        engine(proxy=ProxyBuilder.socks("127.0.0.1", 1080, username=PROXY_USER, password=PROXY_PASSWORD))
    message = str(caught.value)
    assert f"{engine.name} does not support SOCKS proxies" in message, message
    able = [info.name for info in registry() if info.available and "socks" in info.load().capabilities.proxies]
    for name in able:
        assert name in message.partition("Engines that support it:")[2], message
    assert PROXY_PASSWORD not in message


# -- the proxy environment variables ----------------------------------------------------------


@pytest.fixture
def proxy_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The process environment with no proxy variable set (the test sets its own)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    yield monkeypatch


def env_client(engine_name: str, engine: type[Engine], **settings: Any) -> HttpClient:
    """A client that reads the environment (``trust_env`` left at its default unless given)."""
    if "trust_env" not in setting_names(engine):
        pytest.skip(f"{engine.name} has no trust_env setting")
    base = {k: v for k, v in hermetic_settings(engine).items() if k != "trust_env"}
    return HttpClient(engine_name, engine_config={**base, **settings})


async def test_http_proxy_from_the_environment(
    engine_name: str, engine: type[Engine], proxy_environment: pytest.MonkeyPatch, tinyproxy: Tinyproxy, httpbin: Any
) -> None:
    require(engine, "proxies:http")
    proxy_environment.setenv("HTTP_PROXY", tinyproxy.url)
    async with env_client(engine_name, engine) as client:
        assert "tinyproxy" in await via_of(client, httpbin), "HTTP_PROXY is not honoured by default"
    async with env_client(engine_name, engine, trust_env=False) as client:
        assert await via_of(client, httpbin) == "", "trust_env=False still used HTTP_PROXY"
    proxy_environment.setenv("NO_PROXY", "127.0.0.1")
    async with env_client(engine_name, engine) as client:
        assert await via_of(client, httpbin) == "", "NO_PROXY is not honoured"


async def test_https_proxy_from_the_environment_tunnels(
    engine_name: str,
    engine: type[Engine],
    proxy_environment: pytest.MonkeyPatch,
    tinyproxy_with_auth: Tinyproxy,
    tls_origin: TlsOrigin,
) -> None:
    require(engine, "proxies:http")
    proxy_environment.setenv("HTTPS_PROXY", with_credentials(tinyproxy_with_auth.url))
    async with env_client(engine_name, engine, **trusting(engine, tls_origin)) as client:
        with anyio.fail_after(HANG_GUARD):
            response = await client.post(tls_origin.server.url + "/echo", content=b"tunnelled")
    assert response.json()["body"] == "tunnelled"
    assert f"CONNECT 127.0.0.1:{tls_origin.server.port}" in tinyproxy_with_auth.log_text()
