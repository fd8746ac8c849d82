"""TLS on every engine: the ``https`` settings block, a trustme CA, bad certificates, client certificates.

Every network engine has the same ``https`` block (``verify``, ``ca_file``, ``cert_file``,
``key_file``); a certificate that fails verification is a ``TLSError`` (a ``ConnectError``)
that names the host and the reason, with the native error kept as its cause.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from kclient import ConfigError, Engine, HttpClient, TLSError, TransportError

from .faults import FaultServer
from .support import HANG_GUARD, Pki, TlsOrigin, assert_transport_error, setting_names

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _has_https_settings(engine: type[Engine]) -> None:
    if "https.ca_file" not in setting_names(engine):
        pytest.skip(f"{engine.name} has no https settings block")


async def test_https_origin_with_a_test_ca(make_client: Callable[..., HttpClient], tls_origin: TlsOrigin) -> None:
    client = make_client(https={"ca_file": tls_origin.ca_file})
    with anyio.fail_after(HANG_GUARD):
        response = await client.post(tls_origin.server.url + "/echo", content=b"over tls")
        again = await client.get(tls_origin.server.url + "/ok")
    assert response.json()["body"] == "over tls"
    assert again.content == b"ok"
    assert again.headers["X-Conn"] == response.headers["X-Conn"]


async def test_untrusted_certificate_is_a_tls_error(
    make_client: Callable[..., HttpClient], tls_origin: TlsOrigin
) -> None:
    client = make_client()  # the system's CAs, which never signed the test CA
    with anyio.fail_after(HANG_GUARD), pytest.raises(TLSError) as caught:
        await client.get(tls_origin.server.url + "/ok")
    assert_transport_error(caught.value, TLSError, native_cause=True)
    message = str(caught.value)
    assert "127.0.0.1" in message, message
    assert "could not be verified" in message and "local issuer certificate" in message, message
    # The same engine settings with the CA trusted: the failure left nothing behind.
    trusting = make_client(https={"ca_file": tls_origin.ca_file})
    with anyio.fail_after(HANG_GUARD):
        assert (await trusting.get(tls_origin.server.url + "/ok")).content == b"ok"


async def test_certificate_for_another_host_is_a_tls_error(make_client: Callable[..., HttpClient], pki: Pki) -> None:
    with FaultServer(ssl_context=pki.server_context("other.example")) as server:
        client = make_client(https={"ca_file": pki.ca_file})
        with anyio.fail_after(HANG_GUARD), pytest.raises(TLSError) as caught:
            await client.get(server.url + "/ok")
        assert_transport_error(caught.value, TLSError, native_cause=True)
        message = str(caught.value)
        assert "127.0.0.1" in message and "mismatch" in message.lower(), message
        # verify=False accepts it (and would accept an untrusted CA too).
        unverified = make_client(https={"verify": False})
        with anyio.fail_after(HANG_GUARD):
            assert (await unverified.get(server.url + "/ok")).content == b"ok"


async def test_client_certificate(make_client: Callable[..., HttpClient], pki: Pki) -> None:
    with FaultServer(ssl_context=pki.server_context("127.0.0.1", client_auth=True)) as server:
        client = make_client(https={"ca_file": pki.ca_file, "cert_file": pki.cert_file, "key_file": pki.key_file})
        with anyio.fail_after(HANG_GUARD):
            response = await client.post(server.url + "/echo", content=b"mutual")
        assert response.json()["body"] == "mutual"
        # Without the certificate the server refuses the exchange (during or just after the handshake).
        anonymous = make_client(https={"ca_file": pki.ca_file})
        with anyio.fail_after(HANG_GUARD), pytest.raises(TransportError):
            await anonymous.get(server.url + "/ok")


async def test_unreadable_ca_file_is_a_config_error(
    make_client: Callable[..., HttpClient], tls_origin: TlsOrigin, tmp_path: Path
) -> None:
    """A missing CA file fails when the engine first needs it, as a ConfigError naming the setting."""
    missing = str(tmp_path / "missing.pem")
    with anyio.fail_after(HANG_GUARD), pytest.raises(ConfigError, match="ca_file"):
        client = make_client(https={"ca_file": missing})
        await client.get(tls_origin.server.url + "/ok")
