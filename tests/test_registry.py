"""Engine discovery: the built-in registry, hand-made entry points and a real third-party distribution."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import kclient.engines
from kclient import ConfigError, EngineNotFoundError, EngineRegistry, HttpClient, Httpx, Mock

GROUP = "kclient.engines"


def entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


HTTPX = entry_point("Httpx", "kclient.engines.httpx:Httpx")
MOCK = entry_point("Mock", "kclient.engines.mock:Mock")


# -- the built-in registry --------------------------------------------------------------------


def test_builtin_registry_lists_httpx_and_mock() -> None:
    registry = kclient.engines.registry()
    assert registry is kclient.engines.registry()  # read once per process
    assert {"Httpx", "Mock"} <= set(registry.names())
    assert registry.names() == sorted(registry.names(), key=str.casefold)
    assert registry.get("Httpx") is Httpx
    assert registry.get("Mock") is Mock
    httpx_info = registry.info("Httpx")
    assert httpx_info.available
    assert httpx_info.missing_reason is None
    assert httpx_info.distribution == "kclient"
    assert httpx_info.install_hint == "pip install 'kclient'"
    assert [info.name for info in registry] == registry.names()
    assert len(registry) == len(registry.names())


def test_default_client_picks_the_first_available_engine_alphabetically_never_mock() -> None:
    registry = kclient.engines.registry()
    expected = next(info.load() for info in registry if info.available and info.load().auto_select)
    assert expected.name.casefold() == min(
        info.name.casefold() for info in registry if info.available and info.name != "Mock"
    )
    assert registry.default() is expected
    # Aiohttp sorts first when its extra is installed; otherwise CIO (before Httpx and Urllib3).
    assert expected.name in ("Aiohttp", "CIO")
    with HttpClient() as client:
        assert type(client.engine) is expected
        assert client.owns_engine
        assert f"engine={expected.name} (chosen by default)" in repr(client)
    with HttpClient(Httpx) as named:
        assert "(owned)" in repr(named)
        assert "chosen by default" not in repr(named)


def test_mock_is_never_chosen_by_default_even_when_it_sorts_first() -> None:
    registry = EngineRegistry(entry_points=[entry_point("AAA-Mock", "kclient.engines.mock:Mock"), HTTPX, MOCK])
    assert registry.names() == ["AAA-Mock", "Httpx", "Mock"]
    assert registry.default() is Httpx
    with HttpClient(registry=registry) as client:
        assert type(client.engine) is Httpx
    only_mock = EngineRegistry(entry_points=[MOCK])
    with pytest.raises(EngineNotFoundError, match="No HTTP engine is available"):
        only_mock.default()
    with pytest.raises(EngineNotFoundError):
        HttpClient(registry=only_mock)
    with HttpClient("Mock", registry=only_mock) as named:  # by name it is fine
        assert type(named.engine) is Mock


def test_unavailable_engines_are_skipped_by_default() -> None:
    registry = EngineRegistry(entry_points=[entry_point("Aaa", "kclient_test_no_such_module:Aaa [aaa]"), HTTPX])
    info = registry.info("Aaa")
    assert not info.available
    assert "kclient_test_no_such_module" in (info.missing_reason or "")
    assert info.extras == ("aaa",)
    assert registry.default() is Httpx


def test_missing_engines_name_the_pip_install_line_with_extras() -> None:
    registry = EngineRegistry(
        entry_points=[
            entry_point("Fast", "kclient_test_no_such_fast:Fast [fast]"),
            entry_point("Slow", "kclient_test_no_such_slow.engine:Slow [slow,tls]"),
            entry_point("Plain", "kclient_test_no_such_plain:Plain"),
        ]
    )
    with pytest.raises(EngineNotFoundError) as caught:
        registry.default()
    message = str(caught.value)
    assert "pip install" in message
    assert "Fast: pip install '" in message and "[fast]'" in message
    assert "Slow: pip install '" in message and "[slow,tls]'" in message
    assert "Plain: pip install '" in message

    with pytest.raises(EngineNotFoundError) as named:
        registry.get("fast")
    assert "pip install '" in str(named.value) and "[fast]'" in str(named.value)
    assert isinstance(named.value.__cause__, ImportError)
    with pytest.raises(EngineNotFoundError, match=r"\[slow,tls\]"):
        HttpClient("Slow", registry=registry)


def test_unknown_engine_name_suggests_and_lists() -> None:
    registry = EngineRegistry(entry_points=[HTTPX, MOCK])
    with pytest.raises(EngineNotFoundError) as caught:
        registry.get("Htpx")
    assert "Did you mean Httpx?" in str(caught.value)
    assert "Available engines: Httpx, Mock" in str(caught.value)
    assert isinstance(caught.value, LookupError) and isinstance(caught.value, ConfigError)

    with pytest.raises(EngineNotFoundError) as far:
        registry.get("Curl")
    assert "Did you mean" not in str(far.value)
    assert "Available engines: Httpx, Mock" in str(far.value)

    with pytest.raises(EngineNotFoundError, match="Did you mean Httpx"):
        HttpClient("httpxx")
    with pytest.raises(EngineNotFoundError, match="Available engines: none"):
        EngineRegistry(entry_points=[]).get("Httpx")


def test_engine_names_are_case_insensitive() -> None:
    registry = EngineRegistry(entry_points=[MOCK, HTTPX])
    assert registry.names() == ["Httpx", "Mock"]
    assert registry.get("httpx") is Httpx
    assert registry.get("HTTPX") is Httpx
    assert registry.get("mOcK") is Mock
    assert registry.info("MOCK").name == "Mock"
    for name in ("httpx", "HTTPX", "HttpX"):
        with HttpClient(name) as client:
            assert type(client.engine) is Httpx
            assert "(owned)" in repr(client)
    # The same name twice, in any case: the first registration wins.
    doubled = EngineRegistry(entry_points=[HTTPX, entry_point("HTTPX", "kclient.engines.mock:Mock")])
    assert doubled.names() == ["Httpx"]
    assert doubled.get("httpx") is Httpx


@pytest.mark.parametrize("value", ["kclient:HttpClient", "os.path:join", "kclient.engines.httpx:HttpxConfig"])
def test_entry_point_that_is_not_an_engine_is_a_config_error(value: str) -> None:
    registry = EngineRegistry(entry_points=[entry_point("Bogus", value), HTTPX])
    for _ in range(2):  # the same answer every time it is asked
        with pytest.raises(ConfigError, match=r"not a kclient\.Engine subclass") as caught:
            registry.get("Bogus")
        assert not isinstance(caught.value, EngineNotFoundError)
        assert value in str(caught.value)
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"not a kclient\.Engine subclass"):
            registry.default()  # Bogus sorts first: a broken package is reported, not skipped
    with pytest.raises(ConfigError, match=r"not a kclient\.Engine subclass"):
        HttpClient(registry=registry)


# -- a real third-party distribution ----------------------------------------------------------

AARDVARK_ENGINE = '''
"""A third-party engine, written only against kclient's public Engine contract."""

from kclient import Capabilities, Engine, Request, Response


class _Body:
    def __init__(self, content):
        self._content = content

    async def __aiter__(self):
        yield self._content

    async def aclose(self):
        self._content = b""


class Aardvark(Engine):
    """Answers every request with 200 and b"aardvark"."""

    name = "Aardvark"
    capabilities = Capabilities(streaming=True)

    def __init__(self, *args, **settings):
        super().__init__(*args, **settings)
        self.sent = []
        self.closed = False

    async def send(self, request: Request) -> Response:
        if self.closed:
            raise RuntimeError("closed")
        self.sent.append(request)
        return Response(
            200, request=request, headers={"Content-Length": "8"}, stream=_Body(b"aardvark")
        )

    async def aclose(self) -> None:
        self.closed = True
'''

CHECK_DISCOVERY = """
import importlib.metadata

import kclient
import kclient.engines
from kclient import EngineNotFoundError, HttpClient

registry = kclient.engines.registry()
names = registry.names()
assert "Aardvark" in names and "Httpx" in names and "Mock" in names, names
assert names[0] == "Aardvark", names
info = registry.info("Aardvark")
assert info.available and info.distribution == "aardvark-engine", (info.available, info.distribution)
assert importlib.metadata.version("aardvark-engine") == "1.0"

with HttpClient() as client:
    assert type(client.engine).__name__ == "Aardvark", repr(client)
    assert type(client.engine).__module__ == "aardvark_engine"
    assert "engine=Aardvark (chosen by default)" in repr(client), repr(client)
    response = client.blocking.get("http://aardvark.test/anything")
    assert response.status == 200 and response.content == b"aardvark", (response, response.content)
    engine = client.engine
assert engine.closed, "the client owns the engine it picked and closes it"

for name in ("Aardvark", "aardvark"):
    with HttpClient(name) as client:
        assert type(client.engine).__name__ == "Aardvark"
        assert "(owned)" in repr(client)
        assert client.blocking.post("http://aardvark.test/", json={"a": 1}).content == b"aardvark"

# The same distribution's engine with missing dependencies: the hint names the distribution and extra.
zebra = registry.info("Zebra")
assert not zebra.available
assert zebra.install_hint == "pip install 'aardvark-engine[zebra]'", zebra.install_hint
try:
    HttpClient("Zebra")
except EngineNotFoundError as exc:
    assert "pip install 'aardvark-engine[zebra]'" in str(exc), str(exc)
else:
    raise AssertionError("HttpClient('Zebra') should fail")
print("discovered", ", ".join(names))
"""


def test_third_party_engine_is_discovered_from_a_real_distribution(tmp_path: Path) -> None:
    (tmp_path / "aardvark_engine.py").write_text(AARDVARK_ENGINE)
    dist_info = tmp_path / "aardvark_engine-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: aardvark-engine\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        "[kclient.engines]\nAardvark = aardvark_engine:Aardvark\nZebra = aardvark_zebra_missing:Zebra [zebra]\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHECK_DISCOVERY)],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "discovered Aardvark, Aiohttp, CIO, Httpx, Mock, Urllib3, Zebra"


def test_third_party_engine_is_not_seen_without_its_distribution() -> None:
    # This process has no aardvark_engine on its path: the registry is exactly what is installed.
    assert "Aardvark" not in kclient.engines.registry().names()
