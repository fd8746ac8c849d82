"""Parametrization and servers of the engine conformance suite.

* Every test that uses ``anyio_backend`` (every async test) runs once per engine from
  ``conformance_engines()`` — the id carries the engine's name — and once per backend of
  ``tests/conftest.py``'s ``anyio_backend``; a backend the engine does not list in
  ``capabilities.backends`` is skipped, naming the engine.
* ``KCLIENT_TEST_ENGINES=CIO`` (comma-separated) narrows the run to some engines; ``-k CIO``
  would also pick every asyncio test.
* ``@engine_bug(engine, reason)`` turns into ``xfail(strict=True)`` on that engine's
  parameter only (and on one backend only with ``backend=``); marked on one
  ``pytest.param``, on that parameter and engine only.
* Session servers, on 127.0.0.1 and stopped at the end: nginx over a folder of generated
  files, the fault server (plain and TLS, with a trustme CA), tinyproxy and microsocks
  (each also with credentials).
* Reliability scenarios (``@pytest.mark.reliability(name)``) and their ``reliability_note``
  fixture, with ``--reliability-report``, live in ``tests/conftest.py``: tests outside
  ``tests/engines`` have them too.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import Microsocks, Nginx, Tinyproxy, running_microsocks, running_tinyproxy

from kclient import Engine, HttpClient, HttpClientConfig
from kclient.engines import registry

from .faults import FaultServer
from .support import (
    BLOCK,
    PROXY_PASSWORD,
    PROXY_USER,
    Pki,
    Site,
    StaticFile,
    TlsOrigin,
    conformance_engines,
    engine_class,
    hermetic_settings,
)

ENGINES = conformance_engines()

#: The static files nginx serves under /files/, by name.
SIZES = {
    "0B": 0,
    "1B": 1,
    "12B": 12,
    "1KiB": 1 << 10,
    "64KiB": 64 << 10,
    "1MiB": 1 << 20,
    "10MiB": 10 << 20,
    "100MiB": 100 << 20,
}


# -- parametrization --------------------------------------------------------------------------


def pytest_report_header(config: pytest.Config) -> list[str]:
    missing = [f"{info.name} ({info.missing_reason})" for info in registry() if not info.available]
    lines = [f"engine conformance: {', '.join(ENGINES) or 'no engine installed'}"]
    if missing:
        lines.append(f"registered but not installed: {', '.join(missing)}")
    return lines


def _bugs(node: Any) -> list[pytest.Mark]:
    """The node's ``engine_bug`` marks; one naming an engine that is not registered is an error (a typo)."""
    marks = list(node.iter_markers("engine_bug"))
    registered = registry().names()
    for mark in marks:
        if mark.args[0] not in registered:
            raise pytest.UsageError(
                f"{node.name}: engine_bug names {mark.args[0]!r}, which is not a registered engine "
                f"({', '.join(registered)})."
            )
    return marks


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_name" not in metafunc.fixturenames:
        return
    bugs = _bugs(metafunc.definition)
    params = []
    for name in ENGINES:
        marks = [
            pytest.mark.xfail(
                strict=not mark.kwargs.get("intermittent", False),
                raises=mark.kwargs.get("raises"),
                reason=f"{name} bug: {mark.kwargs['reason']}",
            )
            for mark in bugs
            if mark.args[0] == name and mark.kwargs.get("backend") is None
        ]
        params.append(pytest.param(name, id=name, marks=marks))
    metafunc.parametrize("engine_name", params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Known bugs of one engine on one backend only: xfail on that (engine, backend) parameter pair.

    Also the bugs marked on one parameter of a test (``pytest.param(..., marks=engine_bug(...))``,
    which ``pytest_generate_tests`` does not see): xfail on that parameter and engine.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "engine_name" not in callspec.params:
            continue
        for mark in _bugs(item):
            backend = mark.kwargs.get("backend")
            if mark.args[0] != callspec.params["engine_name"]:
                continue
            if backend is not None and backend == callspec.params.get("anyio_backend"):
                reason = f"{mark.args[0]} bug on {backend}: {mark.kwargs['reason']}"
            elif backend is None and mark in callspec.marks:
                reason = f"{mark.args[0]} bug: {mark.kwargs['reason']}"
            else:
                continue
            strict = not mark.kwargs.get("intermittent", False)
            item.add_marker(pytest.mark.xfail(strict=strict, raises=mark.kwargs.get("raises"), reason=reason))


@pytest.fixture
def anyio_backend(anyio_backend: str, engine_name: str) -> str:
    """``tests/conftest.py``'s backends, each skipped for engines that do not run on it."""
    engine = engine_class(engine_name)
    if anyio_backend not in engine.capabilities.backends:
        pytest.skip(f"{engine_name} does not support the {anyio_backend} backend")
    return anyio_backend


@pytest.fixture
def engine(engine_name: str) -> type[Engine]:
    """The engine class under test."""
    return engine_class(engine_name)


@pytest.fixture
async def client(engine_name: str, engine: type[Engine]) -> AsyncIterator[HttpClient]:
    """A client that owns an engine with default settings (the environment kept out)."""
    async with HttpClient(engine_name, engine_config=hermetic_settings(engine)) as c:
        yield c


@pytest.fixture
async def make_client(engine_name: str, engine: type[Engine]) -> AsyncIterator[Callable[..., HttpClient]]:
    """``make_client(configure=None, **settings)``: more clients of the engine under test,
    closed at the end; ``configure`` is a configure block (``lambda c: c.install(...)``)."""
    made: list[HttpClient] = []

    def make(configure: Callable[[HttpClientConfig], None] | None = None, /, **settings: Any) -> HttpClient:
        made.append(HttpClient(engine_name, configure, engine_config={**hermetic_settings(engine), **settings}))
        return made[-1]

    yield make
    for c in made:
        c.close()
        await c.join()


# -- nginx ------------------------------------------------------------------------------------


def _write_pattern_file(path: Path, size: int) -> StaticFile:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            block = BLOCK[: min(left, len(BLOCK))]
            out.write(block)
            digest.update(block)
            left -= len(block)
    return StaticFile(path.name, size, digest.hexdigest())


def _compressible() -> dict[str, bytes]:
    records = [{"id": i, "name": f"record {i}", "tags": ["alpha", "beta", "gamma"][: i % 3 + 1]} for i in range(3000)]
    text = "".join(f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(3000))
    return {"data.json": json.dumps(records).encode(), "data.txt": text.encode()}


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("nginx-root")
    (root / "files").mkdir()
    files = {name: _write_pattern_file(root / "files" / name, size) for name, size in SIZES.items()}
    (root / "gzip").mkdir()
    compressible = _compressible()
    for name, content in compressible.items():
        (root / "gzip" / name).write_bytes(content)
    server = Nginx(root, tmp_path_factory.mktemp("nginx-work")).start()
    try:
        yield Site(server.url, files, compressible)
    finally:
        server.stop()


# -- raw servers ------------------------------------------------------------------------------


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port whose accept queue is full: a new connection is never established (SYNs are dropped)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    filler = socket.create_connection(("127.0.0.1", port))  # takes the one place in the queue
    try:
        yield port
    finally:
        filler.close()
        listener.close()


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def fault_server_factory() -> Iterator[Callable[[], FaultServer]]:
    """``fault_server_factory()``: a fault server of the test's own (to count what reaches it), stopped at the end."""
    started: list[FaultServer] = []

    def start() -> FaultServer:
        started.append(FaultServer().start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A trustme CA and a client certificate it issued, as PEM files."""
    return Pki.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def tls_origin(pki: Pki) -> Iterator[TlsOrigin]:
    """The fault server over TLS, its certificate (for 127.0.0.1 and localhost) signed by the test CA."""
    with FaultServer(ssl_context=pki.server_context("127.0.0.1", "localhost")) as server:
        yield TlsOrigin(server, pki.ca_file)


# -- tinyproxy --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tinyproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tinyproxy]:
    """tinyproxy on 127.0.0.1 (Via header on, CONNECT to any port), logging every request."""
    with running_tinyproxy(tmp_path_factory.mktemp("tinyproxy")) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def tinyproxy_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tinyproxy]:
    """tinyproxy that asks for Basic credentials (``PROXY_USER``, ``PROXY_PASSWORD``)."""
    with running_tinyproxy(tmp_path_factory.mktemp("tinyproxy-auth"), auth=(PROXY_USER, PROXY_PASSWORD)) as proxy:
        yield proxy


# -- microsocks -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def microsocks() -> Iterator[Microsocks]:
    """microsocks (SOCKS5) on 127.0.0.1; its outgoing connections leave from 127.0.0.2."""
    with running_microsocks() as proxy:
        yield proxy


@pytest.fixture(scope="session")
def microsocks_with_auth() -> Iterator[Microsocks]:
    """microsocks that requires username/password authentication (``PROXY_USER``, ``PROXY_PASSWORD``)."""
    with running_microsocks(auth=(PROXY_USER, PROXY_PASSWORD)) as proxy:
        yield proxy
