"""Helpers of the conformance suite: which engines to test, what they can do, how to build clients.

Everything about an engine is discovered at run time (registry, ``capabilities``,
``describe_settings``); nothing here names a particular engine.
"""

from __future__ import annotations

import hashlib
import os
import random
import ssl
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from extras import skip_without_socks

from kclient import Engine, KClientError, describe_settings
from kclient.engines import registry

__all__ = [
    "HANG_GUARD",
    "HTTPX_TRIO_ABANDONS_GENERATORS",
    "BLOCK",
    "PROXY_PASSWORD",
    "PROXY_USER",
    "Pki",
    "ENGINES_VARIABLE",
    "Site",
    "StaticFile",
    "TlsOrigin",
    "assert_transport_error",
    "ca_file_setting",
    "chunked_body",
    "conformance_engines",
    "engine_bug",
    "engine_class",
    "hermetic_settings",
    "pattern_bytes",
    "require",
    "setting_names",
    "with_setting",
]

#: Seconds after which a test is considered hung (anyio.fail_after). Never a timing assertion:
#: the configured timeouts of the tests are far below it.
HANG_GUARD = 30.0

#: The 1 MiB block every static file and upload is cut from (deterministic, incompressible).
BLOCK = random.Random(20_240_601).randbytes(1 << 20)


def pattern_bytes(size: int) -> bytes:
    """``size`` bytes of the repeating 1 MiB block."""
    repeats, rest = divmod(size, len(BLOCK))
    return BLOCK * repeats + BLOCK[:rest]


# -- engines ----------------------------------------------------------------------------------


#: Environment variable that narrows the suite to some engines: ``KCLIENT_TEST_ENGINES=CIO,Httpx``.
#: (``-k CIO`` would also select every ``asyncio`` test, whose id contains "cio".)
ENGINES_VARIABLE = "KCLIENT_TEST_ENGINES"


def conformance_engines() -> list[str]:
    """Names of the registered engines that are installed and may be auto-selected (real network engines).

    ``KCLIENT_TEST_ENGINES`` (comma-separated names, any case) keeps only those; naming an engine
    that is not among them is an error, so that a typo cannot silently test nothing.
    """
    names = [info.name for info in registry() if info.available and info.load().auto_select]
    wanted = [name.strip() for name in os.environ.get(ENGINES_VARIABLE, "").split(",") if name.strip()]
    if not wanted:
        return names
    by_key = {name.casefold(): name for name in names}
    unknown = [name for name in wanted if name.casefold() not in by_key]
    if unknown:
        raise pytest.UsageError(
            f"{ENGINES_VARIABLE} names {', '.join(unknown)}, but the installed network engines are "
            f"{', '.join(names) or 'none'}."
        )
    return [by_key[name.casefold()] for name in wanted]


def engine_class(name: str) -> type[Engine]:
    return registry().get(name)


def engine_bug(
    engine: str,
    reason: str,
    *,
    backend: str | None = None,
    raises: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    intermittent: bool = False,
) -> pytest.MarkDecorator:
    """Mark a test as a known bug of one engine (optionally on one backend only).

    The conftest turns it into ``xfail(strict=True, raises=raises)`` on that engine's
    parameter only: the test keeps running on every other engine, must fail with ``raises``
    (any other failure is reported as a failure), and fails again once the engine is fixed,
    so that the mark is removed. ``intermittent=True`` (a bug that shows in some runs only)
    makes it ``strict=False``: a pass is reported as XPASS, a failure still needs ``raises``.
    """
    return pytest.mark.engine_bug(engine, reason=reason, backend=backend, raises=raises, intermittent=intermittent)


#: Leaving a partly read stream on Httpx under trio (the caller stops, a decoding error, a limit):
#: httpx's and httpcore's async generators are left to the garbage collector, and trio reports them.
HTTPX_TRIO_ABANDONS_GENERATORS = engine_bug(
    "Httpx",
    "leaving a partly read stream abandons httpx's and httpcore's async generators (aiter_raw, "
    "PoolByteStream.__aiter__, _receive_response_body...), which trio reports as ResourceWarning when "
    "they are garbage collected (encode/httpx#3686)",
    backend="trio",
    raises=(pytest.PytestUnraisableExceptionWarning, ExceptionGroup),
)


def require(engine: type[Engine], capability: str, what: str | None = None) -> None:
    """Skip (visibly, naming the engine) unless ``engine`` has ``capability``.

    ``capability`` is a boolean field of ``Capabilities`` (``streaming``, ``pipelining``),
    or ``proxies:KIND`` for a proxy kind (``proxies:http``, ``proxies:socks``).
    """
    caps = engine.capabilities
    if capability.startswith("proxies:"):
        kind = capability.partition(":")[2]
        if kind not in caps.proxies:
            pytest.skip(f"{engine.name} does not support {what or kind.upper() + ' proxies'}")
        if kind == "socks":
            skip_without_socks(engine.name)
        return
    if not getattr(caps, capability):
        pytest.skip(f"{engine.name} does not support {what or capability}")


def setting_names(engine: type[Engine]) -> dict[str, Any]:
    """The engine's settings by name (nested ones dotted, ``https.ca_file``)."""
    return {info.name: info for info in describe_settings(engine.config_class)}


def hermetic_settings(engine: type[Engine]) -> dict[str, Any]:
    """Settings that keep the machine's environment out of the tests, where the engine has them."""
    settings: dict[str, Any] = {}
    if "trust_env" in setting_names(engine):
        settings["trust_env"] = False  # no HTTP_PROXY / SSL_CERT_FILE from the environment
    return settings


def with_setting(engine: type[Engine], name: str, value: Any) -> dict[str, Any]:
    """``{name: value}`` when the engine has that setting (clamped to its range), else ``{}``."""
    info = setting_names(engine).get(name)
    if info is None:
        return {}
    if isinstance(value, int) and not isinstance(value, bool):
        if info.maximum is not None:
            value = min(value, int(info.maximum))
        if info.minimum is not None:
            value = max(value, int(info.minimum))
    return {name: value}


def ca_file_setting(engine: type[Engine]) -> str | None:
    """The name of the setting that points the engine at a CA bundle (``ca_file``, ``https.ca_file``...)."""
    names = [name for name in setting_names(engine) if name == "ca_file" or name.endswith(".ca_file")]
    return min(names, key=len) if names else None


# -- errors -----------------------------------------------------------------------------------


def assert_transport_error(
    exc: BaseException, expected: type[KClientError] | tuple[type[KClientError], ...], *, native_cause: bool
) -> None:
    """``exc`` is one of ``expected`` (kclient types) and, when ``native_cause``, keeps the engine's own error.

    The native cause is the library's or the OS's exception the engine translated: set as
    ``__cause__`` and not itself a kclient error.
    """
    assert isinstance(exc, KClientError), f"not a kclient error: {exc!r}"
    assert isinstance(exc, expected), f"expected {expected}, got {type(exc).__name__}: {exc} (cause {exc.__cause__!r})"
    if native_cause:
        cause = exc.__cause__
        assert cause is not None, f"{type(exc).__name__} lost the native error it translated: {exc}"
        assert not isinstance(cause, KClientError), f"the cause is not native: {cause!r}"


# -- bodies -----------------------------------------------------------------------------------


async def chunked_body(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    """An async-iterable request body (sent chunked), yielding to the event loop between parts."""
    import anyio

    for part in parts:
        await anyio.sleep(0)
        yield part


@dataclass(frozen=True)
class StaticFile:
    """One file nginx serves: its URL path, size and sha256."""

    name: str
    size: int
    sha256: str

    @property
    def path(self) -> str:
        return f"/files/{self.name}"

    @classmethod
    def of(cls, name: str, content: bytes) -> StaticFile:
        return cls(name, len(content), hashlib.sha256(content).hexdigest())


# -- servers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """nginx and what it serves: ``files`` under /files/, ``compressible`` under /gzip/."""

    url: str
    files: dict[str, StaticFile]
    compressible: dict[str, bytes]


#: Credentials of the proxies that ask for them (tinyproxy, microsocks); never in any message.
PROXY_USER, PROXY_PASSWORD = "kclient-user", "S3cret-proxy-pw"


@dataclass(frozen=True)
class Pki:
    """A trustme CA (its PEM in ``ca_file``) and a client certificate it issued (``cert_file``, ``key_file``)."""

    ca: Any
    ca_file: str
    cert_file: str
    key_file: str

    @classmethod
    def create(cls, folder: Path) -> Pki:
        """A new trustme CA and a client certificate it issued, written as PEM files into ``folder``."""
        import trustme

        ca = trustme.CA()
        ca_file, cert_file, key_file = folder / "ca.pem", folder / "client.pem", folder / "client.key"
        ca.cert_pem.write_to_path(str(ca_file))
        client = ca.issue_cert("client@example")
        client.cert_chain_pems[0].write_to_path(str(cert_file))
        client.private_key_pem.write_to_path(str(key_file))
        return cls(ca, str(ca_file), str(cert_file), str(key_file))

    def server_context(self, *hosts: str, client_auth: bool = False) -> ssl.SSLContext:
        """A server context with a certificate for ``hosts``; ``client_auth`` requires a client certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*hosts).configure_cert(context)
        if client_auth:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        return context


@dataclass(frozen=True)
class TlsOrigin:
    """The fault server over TLS (``server``), with the PEM file of the CA that signed its certificate."""

    server: Any
    ca_file: str
