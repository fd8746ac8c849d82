"""Proxies and TLS: tinyproxy (plain requests and CONNECT), a SOCKS5 proxy, a TLS origin signed by a trustme CA."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from servers import Tinyproxy

from kclient import Engine, HttpClient, ProxyBuilder

from .faults import Socks5Server
from .support import HANG_GUARD, Site, TlsOrigin, ca_file_setting, require

pytestmark = pytest.mark.anyio


def trusting(engine: type[Engine], origin: TlsOrigin) -> dict[str, Any]:
    """The engine's setting that makes it trust the origin's CA; skips when it has none."""
    name = ca_file_setting(engine)
    if name is None:
        pytest.skip(f"{engine.name} does not support a CA file setting (ca_file), so it cannot trust a test CA")
    return {name: origin.ca_file}


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


async def test_https_origin_with_a_test_ca(
    make_client: Callable[..., HttpClient], engine: type[Engine], tls_origin: TlsOrigin
) -> None:
    client = make_client(**trusting(engine, tls_origin))
    with anyio.fail_after(HANG_GUARD):
        response = await client.post(tls_origin.server.url + "/echo", content=b"over tls")
        again = await client.get(tls_origin.server.url + "/ok")
    assert response.json()["body"] == "over tls"
    assert again.content == b"ok"
    assert again.headers["X-Conn"] == response.headers["X-Conn"]


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


async def test_socks5_proxy(
    make_client: Callable[..., HttpClient], engine: type[Engine], socks_proxy: Socks5Server, nginx: Site
) -> None:
    require(engine, "proxies:socks")
    port = int(nginx.url.rpartition(":")[2])
    expected = nginx.files["64KiB"]
    client = make_client(proxy=ProxyBuilder.socks("127.0.0.1", socks_proxy.port))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(nginx.url + expected.path)
    assert hashlib.sha256(response.content).hexdigest() == expected.sha256
    assert ("127.0.0.1", port) in socks_proxy.connects
