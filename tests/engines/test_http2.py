"""HTTP/2 on the engines that declare it, against hypercorn over TLS (ALPN h2) on 127.0.0.1.

The app answers ``/together?n=N`` only once N requests are being handled at the same time
(or after a bound, saying so), and reports the HTTP version and the client's port: N answers
that were together, all from one client port, are N streams multiplexed on one connection.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from servers import Hypercorn

from kclient import Engine, HttpClient

from .support import HANG_GUARD, Pki, require, setting_names

pytestmark = pytest.mark.anyio

STREAMS = 6


class TogetherApp:
    """An ASGI app: ``/together?n=N`` waits (at most 10 s) until N requests are in it at once."""

    def __init__(self) -> None:
        self.waiting = 0
        self.arrived: asyncio.Event | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        together = True
        if scope["path"] == "/together":
            wanted = int(dict(p.split("=") for p in scope["query_string"].decode().split("&"))["n"])
            if self.arrived is None or self.arrived.is_set():
                self.arrived, self.waiting = asyncio.Event(), 0
            arrived = self.arrived
            self.waiting += 1
            if self.waiting >= wanted:
                arrived.set()
            try:
                await asyncio.wait_for(arrived.wait(), 10)
            except TimeoutError:
                together = False
        body = json.dumps(
            {"http_version": scope["http_version"], "client_port": scope["client"][1], "together": together}
        ).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def h2_server(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hypercorn]:
    folder = tmp_path_factory.mktemp("hypercorn")
    cert = pki.ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    with Hypercorn(TogetherApp(), str(cert_file), str(key_file)) as server:
        yield server


def h2_settings(engine: type[Engine], pki: Pki) -> dict[str, Any]:
    require(engine, "http2", "HTTP/2")
    assert "http2" in setting_names(engine), f"{engine.name} declares HTTP/2 but has no http2 setting"
    return {"http2": True, "https": {"ca_file": pki.ca_file}}


async def test_http2_multiplexes_concurrent_requests_on_one_connection(
    make_client: Callable[..., HttpClient], engine: type[Engine], h2_server: Hypercorn, pki: Pki
) -> None:
    client = make_client(**h2_settings(engine, pki))
    answers: list[Any] = []

    async def one() -> None:
        answers.append(await client.get(f"{h2_server.url}/together?n={STREAMS}"))

    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as tg:
            for _ in range(STREAMS):
                tg.start_soon(one)
    assert {r.http_version for r in answers} == {"HTTP/2"}
    seen = [r.json() for r in answers]
    assert all(s["http_version"] == "2" for s in seen), seen
    assert all(s["together"] for s in seen), f"the {STREAMS} requests were not in flight at once: {seen}"
    assert len({s["client_port"] for s in seen}) == 1, f"more than one connection: {seen}"


async def test_without_http2_the_same_server_speaks_http1(
    make_client: Callable[..., HttpClient], engine: type[Engine], h2_server: Hypercorn, pki: Pki
) -> None:
    settings = h2_settings(engine, pki)
    client = make_client(**{**settings, "http2": False})
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(f"{h2_server.url}/plain")
    assert response.http_version == "HTTP/1.1"
    assert response.json()["http_version"] == "1.1"


def test_http2_without_the_extra_names_it(
    engine: type[Engine], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``http2=True`` without the h2 package fails at creation with the pip line (h2 hidden here)."""
    require(engine, "http2", "HTTP/2")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "h2" else real(name, *a))
    from kclient import ConfigError

    with pytest.raises(ConfigError, match=r"kclient\[http2\]"):
        engine(http2=True)
