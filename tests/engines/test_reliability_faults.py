"""The reliability matrix of faulty servers: every scenario of docs/reliability.md's table, on every engine.

Each scenario provokes one fault (faults.py's raw server, or a TLS server with a bad certificate) and
asserts, on every engine and backend:

* the request fails with the kclient error the error tree (docs/errors.md) promises for that fault;
* within the configured timeouts: every request here has short ``Timeouts``, so an engine that waits
  instead of failing ends in a (wrong) typed timeout; ``HANG_GUARD`` only catches a hang;
* the native cause is kept: on a wrapping engine, its library's exception is the ``__cause__``; on
  CIO, which parses HTTP itself, the cause is what CIO met (the OS's reset, httptools' parser error,
  ``ssl``'s verification error), and nothing where CIO found the fault itself (a body cut short by a
  clean close, its own header limits, its own socket timer): ``Fault.cio_cause`` says which;
* the client goes on: nothing is left in flight, and the next request to the same server works.

``RequestTimeout`` is raised by kclient's core when the request's deadline passes: it translates
no engine error, so it has no cause on any engine. ``test_faults.py`` and ``test_tls.py`` check the
same servers in more detail (streaming, retries, messages); this file is the one place that covers
the whole list, and ``--reliability-report`` builds that table from it.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httptools
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
    TLSError,
)

from .faults import FaultServer
from .support import HANG_GUARD, Pki, TlsOrigin, engine_bug, setting_names

pytestmark = pytest.mark.anyio

#: Timeouts of every faulty request: short, yet far above what a correct engine needs to fail.
SHORT = Timeouts(connect=5, request=10, socket=2)

#: The library whose exceptions a wrapping engine keeps as ``__cause__`` (top-level modules).
#: An engine not listed here must keep some exception that is not kclient's.
LIBRARIES: dict[str, tuple[str, ...]] = {
    "Httpx": ("httpx",),
    "Aiohttp": ("aiohttp",),
    "Urllib3": ("urllib3",),
}

#: What CIO meets when the server resets the connection.
RESET = ConnectionResetError


@dataclass(frozen=True)
class Fault:
    """One row of the table: how to provoke the fault and what every engine must answer."""

    name: str
    #: Fault server path (with ``params``), or ``tls:KIND`` for a TLS server with a bad certificate.
    path: str
    expected: tuple[type[KClientError], ...]
    #: The native cause CIO keeps (``None``: CIO found the fault itself; there is no exception to keep).
    cio_cause: type[BaseException] | None
    timeouts: Timeouts = SHORT
    params: dict[str, str] = field(default_factory=dict)
    #: A word the message must contain (any case), where engines agree on one.
    says: str | None = None
    marks: tuple[pytest.MarkDecorator, ...] = ()

    @property
    def no_cause(self) -> bool:
        """The error is kclient's own on every engine (the core's request deadline)."""
        return self.expected == (RequestTimeout,)


#: A reset is a ReadError wherever it comes ("reading from the connection failed"); a clean close in
#: the middle of a message cuts it short, a ProtocolError ("the peer broke HTTP"); a clean close
#: before any answer is a ReadError.
FAULTS = [
    Fault("Reset before headers", "/reset-before-response", (ReadError,), RESET),
    Fault("Reset during headers", "/reset-after-status-line", (ReadError,), RESET),
    Fault(
        "Reset after headers (mid-body)",
        "/reset-mid-body",
        (ReadError,),
        RESET,
        marks=(
            engine_bug(
                "Aiohttp",
                "aiohttp reports a reset in the body as a body cut short (ContentLengthError)",
                raises=AssertionError,
            ),
        ),
    ),
    Fault("Invalid status line", "/invalid-status-line", (ProtocolError,), httptools.HttpParserInvalidStatusError),
    Fault("Body shorter than Content-Length", "/short-body", (ProtocolError,), None),
    Fault("Chunked body cut short", "/truncated-chunked", (ProtocolError,), None),
    Fault("Invalid chunk size (not hex)", "/invalid-chunk-size", (ProtocolError,), httptools.HttpParserError),
    Fault(
        "Negative chunk size",
        "/invalid-chunk-size",
        (ProtocolError,),
        httptools.HttpParserError,
        params={"size": "-1"},
        marks=(
            engine_bug(
                "Urllib3",
                "urllib3 parses chunk sizes with int(line, 16): takes -1, waits for the connection's end",
                raises=AssertionError,
            ),
        ),
    ),
    Fault(
        "Chunk size over 2**64",
        "/invalid-chunk-size",
        (ProtocolError,),
        httptools.HttpParserError,
        params={"size": "f" * 20},
        marks=(
            engine_bug(
                "Httpx",
                "h11 takes chunk sizes of up to 20 hex digits and waits for 2**80 bytes",
                raises=AssertionError,
            ),
            engine_bug(
                "Urllib3",
                "urllib3 parses chunk sizes with int(line, 16), unbounded: waits for 2**80 bytes",
                raises=AssertionError,
            ),
        ),
    ),
    Fault("1 MiB header line", "/huge-header", (ProtocolError,), None),
    Fault("10,000 headers", "/many-headers", (ProtocolError,), None),
    Fault(
        "Server accepts and never answers",
        "/never",
        (SocketTimeout,),
        None,
        timeouts=Timeouts(connect=5, request=10, socket=0.5),
        params={"tag": "reliability"},
    ),
    Fault(
        "Server trickles one byte a second",
        "/trickle-head",
        (RequestTimeout,),
        None,
        timeouts=Timeouts(connect=5, request=1.5, socket=5),  # each byte comes before the socket timeout
        says="request timeout",
    ),
    Fault("Keep-alive connection dropped (FIN) as the next request arrives", "/stale-fin", (ReadError,), None),
    Fault("Keep-alive connection dropped (RST) as the next request arrives", "/stale-rst", (ReadError,), RESET),
    Fault("TLS: expired certificate", "tls:expired", (TLSError,), ssl.SSLCertVerificationError, says="expired"),
    Fault(
        "TLS: certificate for another host",
        "tls:wrong-host",
        (TLSError,),
        ssl.SSLCertVerificationError,
        says="mismatch",
    ),
    Fault(
        "TLS: self-signed certificate", "tls:self-signed", (TLSError,), ssl.SSLCertVerificationError, says="self-signed"
    ),
]


# -- TLS servers with bad certificates --------------------------------------------------------


def _self_signed_files(folder: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and localhost that is its own issuer (no CA vouches for it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "self-signed.pem", folder / "self-signed.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


def _server_context() -> ssl.SSLContext:
    return ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)


@pytest.fixture(scope="module")
def bad_certificates(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, FaultServer]]:
    """TLS fault servers by kind: an expired certificate and one for another host (both signed by the
    test CA, which the clients trust), and a self-signed one."""
    expired = _server_context()
    pki.ca.issue_cert(
        "127.0.0.1",
        "localhost",
        not_before=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        not_after=datetime.datetime(2020, 2, 1, tzinfo=datetime.UTC),
    ).configure_cert(expired)
    self_signed = _server_context()
    self_signed.load_cert_chain(*_self_signed_files(tmp_path_factory.mktemp("self-signed")))
    contexts = {"expired": expired, "wrong-host": pki.server_context("other.example"), "self-signed": self_signed}
    servers = {kind: FaultServer(ssl_context=context) for kind, context in contexts.items()}
    for server in servers.values():
        server.start()
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


# -- the matrix -------------------------------------------------------------------------------


def _native_cause(exc: BaseException) -> BaseException | None:
    """The first exception in ``exc``'s ``__cause__`` chain that is not kclient's (CIO may keep an
    internal kclient error in between, which keeps the OS's error as its own cause)."""
    cause = exc.__cause__
    while isinstance(cause, KClientError):
        cause = cause.__cause__
    return cause


def assert_cause(exc: KClientError, fault: Fault, engine: str) -> None:
    """Check the cause ``fault`` promises on ``engine``."""
    cause = _native_cause(exc)
    if fault.no_cause:
        assert exc.__cause__ is None, f"{type(exc).__name__} of the core has a cause: {exc.__cause__!r}"
        return
    if engine == "CIO":
        if fault.cio_cause is None:
            assert cause is None, f"CIO found {fault.name!r} itself, yet the error has a native cause {cause!r}"
        else:
            assert isinstance(cause, fault.cio_cause), f"CIO kept {cause!r}, not a {fault.cio_cause.__name__}"
        return
    assert cause is not None, f"{type(exc).__name__} lost the native error it translated: {exc}"
    library = type(cause).__module__.partition(".")[0]
    if engine in LIBRARIES:
        assert library in LIBRARIES[engine], f"the cause {cause!r} is not from {LIBRARIES[engine]}"


async def _provoke(
    client: HttpClient, fault: Fault, server: FaultServer, bad: dict[str, FaultServer], notes: list[str]
) -> None:
    """Send the request(s) that end in the fault (the last one raises); ``notes`` gets what went before."""
    if fault.path.startswith("tls:"):
        await client.get(bad[fault.path.partition(":")[2]].url + "/ok", timeout=fault.timeouts)
        return
    if fault.path.startswith("/stale-"):
        # A first answer on a keep-alive connection, then the server drops it as the next request arrives:
        # a GET is sent again on a new connection; a POST (not idempotent) may not be, and fails.
        url = server.url + fault.path
        first = await client.get(url, timeout=fault.timeouts)
        second = await client.get(url, timeout=fault.timeouts)
        assert first.content == second.content == b"fresh connection"
        assert second.headers["X-Conn"] != first.headers["X-Conn"], "the GET was not re-sent on a new connection"
        notes.append("GET re-sent")
        await client.post(url, content=b"not idempotent", timeout=fault.timeouts)
        return
    await client.get(server.url + fault.path, params=fault.params, timeout=fault.timeouts)


@pytest.mark.parametrize(
    "fault", [pytest.param(f, id=f.name, marks=[pytest.mark.reliability(f.name), *f.marks]) for f in FAULTS]
)
async def test_fault(
    fault: Fault,
    engine_name: str,
    engine: type[Engine],
    make_client: Callable[..., HttpClient],
    fault_server: FaultServer,
    tls_origin: TlsOrigin,
    bad_certificates: dict[str, FaultServer],
    reliability_note: Callable[[str], None],
) -> None:
    tls = fault.path.startswith("tls:")
    if tls and "https.ca_file" not in setting_names(engine):
        pytest.skip(f"{engine_name} has no https settings block")
    settings: dict[str, Any] = {"https": {"ca_file": tls_origin.ca_file}} if tls else {}
    client = make_client(**settings)
    before: list[str] = []
    with anyio.fail_after(HANG_GUARD):
        with pytest.raises(KClientError) as caught:
            await _provoke(client, fault, fault_server, bad_certificates, before)
        error = caught.value
        reliability_note(", ".join([*before, f"POST {type(error).__name__}" if before else type(error).__name__]))
        assert isinstance(error, fault.expected), (
            f"expected {' or '.join(e.__name__ for e in fault.expected)}, got {type(error).__name__}: {error} "
            f"(cause {error.__cause__!r})"
        )
        assert_cause(error, fault, engine_name)
        if fault.says is not None:
            assert fault.says in str(error).lower(), str(error)
        assert client.status().in_flight == 0
        # The client goes on: the next request to the same server (for TLS: its trusted twin) works.
        good = tls_origin.server if tls else fault_server
        response = await client.get(good.url + "/ok", timeout=SHORT)
    assert response.status == 200
    assert response.content == b"ok"
