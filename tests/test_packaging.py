"""The wheel and the editable wheel: kclient.magics ships inside kclient, and no top-level ``magics`` exists.

Builds run in subprocesses with TMPDIR inside tmp_path, so nothing is written outside it
(the editable build hook writes its finder into a temporary folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]


def build_env(tmp_path: Path) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(TMPDIR=str(tmp), PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return env


def run(args: list[str], tmp_path: Path) -> str:
    result = subprocess.run(
        args, cwd=tmp_path, env=build_env(tmp_path), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def only_wheel(directory: Path) -> Path:
    wheels = list(directory.glob("kclient-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("wheel")
    out = tmp_path / "dist"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)]
    run(pip_wheel, tmp_path)
    return only_wheel(out)


@pytest.fixture(scope="module")
def editable_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # pip builds editable wheels only to install them; hatchling's builder makes one on its own.
    tmp_path = tmp_path_factory.mktemp("editable")
    out = tmp_path / "dist"
    build = textwrap.dedent(
        """
        import sys
        from hatchling.builders.wheel import WheelBuilder

        for path in WheelBuilder(sys.argv[1]).build(directory=sys.argv[2], versions=["editable"]):
            print(path)
        """
    )
    run([sys.executable, "-c", build, str(ROOT), str(out)], tmp_path)
    return only_wheel(out)


def test_wheel_ships_magics_inside_kclient(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = next(name.split("/")[0] for name in names if name.endswith(".dist-info/METADATA"))
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    assert "kclient/magics/__init__.py" in names
    assert "kclient/py.typed" in names
    assert "kclient/__init__.py" in names and "kclient/engines/httpx.py" in names
    top_level = {name.split("/")[0] for name in names}
    assert "magics" not in top_level, sorted(top_level)
    assert top_level == {"kclient", dist_info}, sorted(top_level)
    lines = [line.replace(" ", "") for line in entry_points.splitlines()]
    assert "[kclient.engines]" in lines
    assert "Httpx=kclient.engines.httpx:Httpx" in lines
    assert "Mock=kclient.engines.mock:Mock" in lines


def test_editable_wheel_maps_kclient_magics_to_the_source_tree(editable_wheel: Path, tmp_path: Path) -> None:
    site_dir = tmp_path / "site"
    with zipfile.ZipFile(editable_wheel) as archive:
        assert not any(name.startswith("magics/") for name in archive.namelist())
        archive.extractall(site_dir)
    assert list(site_dir.glob("*.pth")), "the editable wheel has no .pth file"

    deps = sysconfig.get_paths()["purelib"]  # this venv's site-packages, for anyio, httpx, editables...
    check = textwrap.dedent(
        """
        import os, site, sys

        site_dir, deps, root = sys.argv[1:4]
        # Only this wheel's folder (with its .pth files run) and the dependencies (as a plain
        # folder: the venv's own .pth files, among them its editable kclient, are not run).
        sys.path.insert(0, site_dir)
        sys.path.append(deps)
        site.addsitedir(site_dir)

        def inside(path, folder):
            return os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep)

        import _kclient_magics_editable
        assert inside(_kclient_magics_editable.__file__, site_dir), _kclient_magics_editable.__file__

        import kclient
        import kclient.magics
        assert os.path.realpath(kclient.__file__) == os.path.realpath(os.path.join(root, "kclient", "__init__.py"))
        assert os.path.realpath(kclient.magics.__file__) == os.path.realpath(
            os.path.join(root, "magics", "__init__.py")
        ), kclient.magics.__file__
        assert kclient.magics.__name__ == "kclient.magics"

        try:
            import magics
        except ModuleNotFoundError as exc:
            assert exc.name == "magics", exc
        else:
            raise AssertionError(f"a top-level magics module is importable: {magics!r}")
        print("ok")
        """
    )
    # -I: no PYTHON* variables, no user site, no script folder; -S: no site-packages of the venv.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", check, str(site_dir), deps, str(ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def _extras() -> list[str]:
    import tomllib

    return sorted(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def test_every_extra_in_one_step_gives_a_working_demo_server(wheel: Path, tmp_path: Path) -> None:
    """``pip install 'kclient[every,extra]'`` in one command, on this Python, into a new environment: it
    resolves, and the demo server it installs answers (httpbin 0.10.0 would fail at import)."""
    import venv

    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    extras = ",".join(_extras())
    run([python, "-m", "pip", "install", "-q", f"kclient[{extras}] @ {wheel.as_uri()}"], tmp_path)
    check = textwrap.dedent(
        """
        import json, urllib.request
        import kclient, kclient.demo

        url = kclient.demo.serve()
        with urllib.request.urlopen(url + "/get?demo=1", timeout=30) as answer:
            assert json.load(answer)["args"] == {"demo": "1"}
        request = urllib.request.Request(url + "/basic-auth/u/p", headers={"Authorization": "Basic dTpw"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert json.load(answer)["authenticated"] is True
        with kclient.HttpClient() as client:
            assert client.blocking.get(url + "/gzip").json()["gzipped"] is True
        kclient.demo.stop()
        print("ok")
        """
    )
    assert run([python, "-c", check], tmp_path).strip().endswith("ok")
