"""``import kclient`` loads none of the heavy libraries; engines load theirs on first use.

Checked on ``sys.modules`` in a fresh interpreter; the timing comparison is bench/import_time.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["IPython", "ipywidgets", "aiohttp", "urllib3", "httpx", "anyio", "asyncio"]


def modules_after(statement: str) -> list[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def loaded(modules: list[str], package: str) -> list[str]:
    return [name for name in modules if name == package or name.startswith(package + ".")]


def test_baseline_interpreter_has_none_of_them() -> None:
    # Guards the test below: the interpreter itself (site, .pth files) must not load them.
    modules = modules_after("pass")
    assert not [name for package in HEAVY for name in loaded(modules, package)]


@pytest.mark.parametrize("package", HEAVY)
def test_import_kclient_does_not_import(package: str) -> None:
    modules = modules_after("import kclient")
    assert "kclient" in modules
    assert not loaded(modules, package), f"import kclient imported {loaded(modules, package)}"


def test_import_kclient_loads_nothing_heavy_at_all() -> None:
    modules = modules_after("import kclient\nkclient.HttpClient; kclient.Timeouts; kclient.EngineRegistry")
    found = {package: loaded(modules, package) for package in HEAVY if loaded(modules, package)}
    assert not found
    assert not loaded(modules, "kclient.magics")
    assert not loaded(modules, "kclient.engines.httpx")


@pytest.mark.parametrize("module", ["auth", "content", "cookies", "logs", "progress", "retry"])
def test_plugins_that_are_not_default_load_on_first_use(module: str) -> None:
    assert f"kclient.plugins.{module}" not in modules_after("import kclient\nkclient.HttpClient()")
    from kclient.plugins import LAZY

    name = next(name for name, holder in LAZY.items() if holder == module)
    assert f"kclient.plugins.{module}" in modules_after(f"import kclient\nkclient.{name}")


def test_importing_httpx_engine_imports_httpx() -> None:
    modules = modules_after("from kclient import Httpx\nassert Httpx.name == 'Httpx'")
    assert "httpx" in modules
    assert "kclient.engines.httpx" in modules
