"""The clients the benchmarks measure, each behind one small interface (``BenchClient``).

kclient through its public API (``await HttpClient(engine).get(url)``), and its peers
through theirs: raw aiohttp (one ``ClientSession``), raw httpx (one ``AsyncClient``),
pyreqwest (Rust: reqwest on hyper and tokio), pycurl (C: libcurl, one easy handle, blocking,
so it runs its own sequential loop) and the lean-loop ceiling (``lean_loop.py``). Each is
allowed ``CONNECTIONS`` connections, all kept alive. A peer that is not installed is left
out of the run with the reason (``missing_peers``): pyreqwest, pycurl and uvloop come with
``pip install 'kclient[bench]'``.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from typing import Any

from lean_loop import LeanLoop

CONNECTIONS = 100
#: Scenarios every asyncio client runs (the typical-plugin one is kclient's alone).
ASYNC_SCENARIOS = frozenset({"seq", "c50", "1mib", "upload"})


class BenchClient:
    """One HTTP client under test: ``get`` and ``post`` return the length of the body read.

    ``scenarios`` are those it runs; ``blocking`` clients (pycurl) are driven by a plain loop
    of ``get_blocking``/``post_blocking`` calls instead, and only on the stock asyncio table.
    """

    label: str
    scenarios: frozenset[str] = ASYNC_SCENARIOS
    blocking = False

    async def start(self) -> None:
        raise NotImplementedError

    async def get(self, url: str) -> int:
        raise NotImplementedError

    async def post(self, url: str, body: bytes) -> int:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError


def configure_plugins(variant: str) -> Callable[[Any], None] | None:
    """The configure block of a plugin variant: "default" (none needed), "none" or "typical"."""
    import kclient

    def no_plugins(c: Any) -> None:
        for plugin in kclient.DEFAULT_PLUGINS:
            c.uninstall(plugin)

    def typical(c: Any) -> None:
        for plugin, options in typical_plugins():
            c.install(plugin, **options)

    return {"default": None, "none": no_plugins, "typical": typical}[variant]


def typical_plugins() -> list[tuple[Any, dict[str, Any]]]:
    """What a notebook user typically adds to the defaults (all of them doing work on every request)."""
    import kclient

    return [
        (kclient.HttpTimeout, {"request_timeout": 30, "connect_timeout": 10}),
        (kclient.HttpRequestRetry, {}),
        (kclient.HttpCookies, {}),
        (kclient.DefaultRequest, {"headers": {"X-Client": "bench"}}),
        (kclient.Logging, {"level": "HEADERS"}),  # the logger is not enabled for INFO: nothing is formatted
    ]


def setting_names(engine_name: str) -> set[str]:
    """The names of the settings of a kclient engine's typed configuration."""
    import kclient
    from kclient.engines import registry

    return {info.name for info in kclient.describe_settings(registry().get(engine_name).config_class)}


def pool_settings(names: set[str]) -> dict[str, Any]:
    """The pool limits a kclient engine with settings ``names`` gets: ``CONNECTIONS``, kept alive."""
    return {name: CONNECTIONS for name in ("max_connections", "max_keepalive_connections") if name in names}


class KclientBench(BenchClient):
    scenarios = ASYNC_SCENARIOS | {"typical"}

    def __init__(self, engine_name: str, plugins: str = "default", extra: dict[str, Any] | None = None) -> None:
        self.engine_name = engine_name
        self.plugins = plugins
        self.label = f"kclient[{engine_name}]" + ("" if plugins == "default" else f" {plugins} plugins")
        names = setting_names(engine_name)
        self.settings = pool_settings(names)
        self.settings.update({name: value for name, value in (extra or {}).items() if name in names})
        if plugins != "default":
            self.scenarios = ASYNC_SCENARIOS  # the typical scenario is read against the default client alone
        self.client: Any = None
        self.typical: Any = None

    async def start(self) -> None:
        import kclient

        self.client = kclient.HttpClient(self.engine_name, configure_plugins(self.plugins), engine_config=self.settings)
        if "typical" in self.scenarios:  # the same small GETs through the typical plugin set, on a client of its own
            self.typical = kclient.HttpClient(
                self.engine_name, configure_plugins("typical"), engine_config=self.settings
            )

    async def get(self, url: str) -> int:
        response = await self.client.get(url)
        if response.status != 200:
            raise RuntimeError(f"{self.label}: GET {url} answered {response.status}")
        return len(response.content)

    async def post(self, url: str, body: bytes) -> int:
        response = await self.client.post(url, content=body)
        if response.status != 200:
            raise RuntimeError(f"{self.label}: POST {url} answered {response.status}")
        return len(response.content)

    async def get_typical(self, url: str) -> int:
        response = await self.typical.get(url)
        if response.status != 200:
            raise RuntimeError(f"{self.label} typical plugins: GET {url} answered {response.status}")
        return len(response.content)

    async def aclose(self) -> None:
        for client in (self.client, self.typical):
            if client is not None:
                client.close()
                await client.join()


class EngineAloneBench(BenchClient):
    """A kclient engine without the client around it: ``engine.send`` with a request built once
    per URL (as the lean loop builds its heads), the body read. For ``instructions.py --layers``:
    what the engine costs apart from the client's layers (builder, lifecycle, plugins, READ stage)."""

    scenarios = frozenset({"seq", "c50"})

    def __init__(self, engine_name: str) -> None:
        self.engine_name = engine_name
        self.label = f"kclient[{engine_name}] engine alone"
        self.requests: dict[str, Any] = {}
        self.engine: Any = None

    async def start(self) -> None:
        from kclient.engines import registry

        settings = pool_settings(setting_names(self.engine_name))
        self.engine = registry().get(self.engine_name)(**settings)

    async def get(self, url: str) -> int:
        request = self.requests.get(url)
        if request is None:
            from kclient._request_builder import build_request

            request = self.requests[url] = build_request("GET", url, {})
            request.headers["User-Agent"] = "kclient"  # what the UserAgent plugin adds
        response = await self.engine.send(request)
        if not response.is_closed:
            await response.aread()
        if response.status != 200:
            raise RuntimeError(f"{self.label}: GET {url} answered {response.status}")
        return len(response.content)

    async def aclose(self) -> None:
        await self.engine.aclose()


class AiohttpBench(BenchClient):
    label = "aiohttp"

    def __init__(self, suffix: str = "") -> None:
        self.label = f"aiohttp{suffix}"

    async def start(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS))

    async def get(self, url: str) -> int:
        async with self.session.get(url) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"aiohttp: GET {url} answered {response.status}")
            return len(body)

    async def post(self, url: str, body: bytes) -> int:
        async with self.session.post(url, data=body) as response:
            answer = await response.read()
            if response.status != 200:
                raise RuntimeError(f"aiohttp: POST {url} answered {response.status}")
            return len(answer)

    async def aclose(self) -> None:
        await self.session.close()


class HttpxBench(BenchClient):
    label = "httpx"

    def __init__(self, suffix: str = "") -> None:
        self.label = f"httpx{suffix}"

    async def start(self) -> None:
        import httpx

        # Keep-alive pool as large as the connection limit (httpx keeps only 20 by default),
        # so that at 50 concurrent it reuses connections as aiohttp does instead of reconnecting.
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
        self.client = httpx.AsyncClient(limits=limits)

    async def get(self, url: str) -> int:
        response = await self.client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"httpx: GET {url} answered {response.status_code}")
        return len(response.content)

    async def post(self, url: str, body: bytes) -> int:
        response = await self.client.post(url, content=body)
        if response.status_code != 200:
            raise RuntimeError(f"httpx: POST {url} answered {response.status_code}")
        return len(response.content)

    async def aclose(self) -> None:
        await self.client.aclose()


class PyreqwestBench(BenchClient):
    """pyreqwest: reqwest (hyper, tokio) behind a Python API; its futures complete on the running loop."""

    label = "pyreqwest"

    async def start(self) -> None:
        from pyreqwest.client import ClientBuilder

        builder = ClientBuilder().max_connections(CONNECTIONS).pool_max_idle_per_host(CONNECTIONS)
        self.client = builder.build()

    async def get(self, url: str) -> int:
        response = await self.client.get(url).build().send()
        body = await response.bytes()
        if response.status != 200:
            raise RuntimeError(f"pyreqwest: GET {url} answered {response.status}")
        return len(body)

    async def post(self, url: str, body: bytes) -> int:
        response = await self.client.post(url).body_bytes(body).build().send()
        answer = await response.bytes()
        if response.status != 200:
            raise RuntimeError(f"pyreqwest: POST {url} answered {response.status}")
        return len(answer)

    async def aclose(self) -> None:
        await self.client.close()


class PycurlBench(BenchClient):
    """pycurl: one libcurl easy handle reused (its connection kept alive), blocking calls in a plain loop."""

    label = "pycurl"
    scenarios = frozenset({"seq", "1mib", "upload"})  # one handle is one request at a time
    blocking = True

    async def start(self) -> None:
        import pycurl

        self.pycurl = pycurl
        self.curl = pycurl.Curl()
        self.curl.setopt(pycurl.NOSIGNAL, 1)

    def _perform(self, url: str, body: bytes | None) -> int:
        pycurl, curl = self.pycurl, self.curl
        buffer = io.BytesIO()
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.WRITEDATA, buffer)
        if body is None:
            curl.setopt(pycurl.HTTPGET, 1)
        else:
            curl.setopt(pycurl.POSTFIELDS, body)
            curl.setopt(pycurl.HTTPHEADER, ["Expect:"])  # no 100-continue round trip, as the other clients
        curl.perform()
        status = curl.getinfo(pycurl.RESPONSE_CODE)
        if body is not None:
            curl.setopt(pycurl.HTTPHEADER, [])
        if status != 200:
            raise RuntimeError(f"pycurl: {url} answered {status}")
        return len(buffer.getvalue())

    def get_blocking(self, url: str) -> int:
        return self._perform(url, None)

    def post_blocking(self, url: str, body: bytes) -> int:
        return self._perform(url, body)

    async def aclose(self) -> None:
        self.curl.close()


class LeanLoopBench(BenchClient):
    label = "lean loop"

    async def start(self) -> None:
        self.lean = LeanLoop()

    async def get(self, url: str) -> int:
        return len(await self.lean.send("GET", url))

    async def post(self, url: str, body: bytes) -> int:
        return len(await self.lean.send("POST", url, body))

    async def aclose(self) -> None:
        self.lean.close()


#: The peers of kclient, by label: the module each needs, and how to make it.
PEERS: dict[str, tuple[str, Callable[[], BenchClient]]] = {
    "aiohttp": ("aiohttp", AiohttpBench),
    "httpx": ("httpx", HttpxBench),
    "pyreqwest": ("pyreqwest", PyreqwestBench),
    "pycurl": ("pycurl", PycurlBench),
    "lean loop": ("httptools", LeanLoopBench),
}


def missing_peers() -> dict[str, str]:
    """The peers that cannot run here, with the reason."""
    return {
        label: f"{module} is not installed (pip install 'kclient[bench]')"
        for label, (module, _) in PEERS.items()
        if importlib.util.find_spec(module) is None
    }
