"""binder/ alone builds an environment that runs the notebooks (what mybinder.org does).

A fresh virtual environment gets ``binder/requirements.txt``, then ``binder/postBuild`` runs
in a copy of the repository, then every notebook of ``notebooks/`` is executed there, with no
other package than those. It downloads from the package index (as the set-up does), so it is
marked slow. Everything it writes stays in tmp_path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
import venv
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]
BINDER = ROOT / "binder"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_binder_files_agree_with_the_project() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    minimum = re.search(r">=\s*3\.(\d+)", project["requires-python"])
    assert minimum is not None and int(runtime.split(".")[1]) >= int(minimum.group(1))
    post_build = (BINDER / "postBuild").read_text()
    assert os.access(BINDER / "postBuild", os.X_OK), "mybinder runs postBuild as a program"
    [extras] = re.findall(r"-e '\.\[([\w,]+)\]'", post_build)
    assert set(extras.split(",")) <= set(project["optional-dependencies"])
    assert {"jupyter", "demo"} <= set(extras.split(","))
    requirements = (BINDER / "requirements.txt").read_text()
    assert "jupyterlab" in requirements and "ipykernel" in requirements


def test_notebooks_are_stored_executed_and_start_the_demo_server() -> None:
    assert len(NOTEBOOKS) == 10
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert "demo.serve()" in code[0].source, f"{path.name}: the first code cell starts the demo server"
        assert all(cell.execution_count is not None for cell in code), f"{path.name}: store a full run"
        assert not [o for cell in code for o in cell.outputs if o.output_type == "error"], path.name


def _copy_repository(target: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".*_cache", "*.egg-info", "build", "dist", "node_modules"
    )
    shutil.copytree(ROOT, target, ignore=ignore)
    return target


@pytest.mark.slow
@pytest.mark.timeout(1800)  # downloads and installs JupyterLab and kclient's dependencies
def test_a_fresh_environment_from_binder_files_runs_every_notebook(tmp_path: Path) -> None:
    repository = _copy_repository(tmp_path / "repository")
    environment = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(environment)
    bin_dir = environment / "bin"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "PYTHON", "JUPYTER"))}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(environment),
        TMPDIR=str(scratch),
        PIP_CACHE_DIR=str(scratch / "pip-cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        JUPYTER_DATA_DIR=str(scratch / "jupyter-data"),
        JUPYTER_CONFIG_DIR=str(scratch / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(scratch / "jupyter-runtime"),
        IPYTHONDIR=str(scratch / "ipython"),
        MPLCONFIGDIR=str(scratch / "mpl"),
    )

    def step(*args: str, timeout: float = 900) -> None:
        result = subprocess.run(
            args, cwd=repository, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"

    step(str(bin_dir / "python"), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt")
    step("bash", "binder/postBuild")
    step(str(bin_dir / "python"), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3")
    executed = tmp_path / "executed"
    step(
        str(bin_dir / "python"), "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
        "--ExecutePreprocessor.timeout=180", "--output-dir", str(executed),
        *[str(repository / "notebooks" / p.name) for p in NOTEBOOKS],
    )  # fmt: skip
    for path in NOTEBOOKS:
        notebook = nbformat.read(executed / path.name, as_version=4)
        outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
        assert outputs and not [o for o in outputs if o.output_type == "error"], path.name
    # kclient came from the copy of the repository, not from anywhere else.
    probe = "import kclient, pathlib; print(pathlib.Path(kclient.__file__).resolve())"
    located = subprocess.run(
        [str(bin_dir / "python"), "-c", probe],
        cwd=scratch, env=env, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    assert Path(located).is_relative_to(repository.resolve()), located
