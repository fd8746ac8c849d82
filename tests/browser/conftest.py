"""A JupyterLab server and a headless Chromium for the browser tests (marker ``browser``).

JupyterLab runs from this virtual environment on 127.0.0.1, on a port the OS picks, with
a random token and a temporary root folder; it is stopped when the session ends.
Chromium is Debian's (``scripts/install-system-deps.sh`` installs it), driven by
Playwright without downloading a browser of its own.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

_URL = re.compile(r"(http://127\.0\.0\.1:\d+)/")


@dataclass
class Lab:
    url: str
    token: str
    root: Path

    def notebook_url(self, name: str) -> str:
        # ?reset: a fresh workspace, or JupyterLab reopens the notebooks of earlier tests beside this one
        # (and their cells would be found along with its own)
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"


def chromium_path() -> str:
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    pytest.fail("Chromium is not installed: run scripts/install-system-deps.sh (make test does).")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("lab")
    token = secrets.token_hex(16)
    settings = tmp_path_factory.mktemp("lab-settings")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(settings / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings / "lab"),
        "JUPYTERLAB_WORKSPACES_DIR": str(settings / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(settings / "runtime"),
    }
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", "--port=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
            "--LabApp.news_url=", "--ServerApp.open_browser=False",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    url = _wait_for_url(process)
    try:
        yield Lab(url, token, root)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()


def _wait_for_url(process: subprocess.Popen[str]) -> str:
    """The server's address, read from its log; the rest of the log is drained in a thread."""
    assert process.stderr is not None
    deadline = time.monotonic() + 90
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            if process.poll() is not None:
                raise RuntimeError("JupyterLab stopped:\n" + "".join(seen[-30:]))
            continue
        seen.append(line)
        found = _URL.search(line)
        if found:
            threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()
            return found.group(1)
    process.kill()
    raise RuntimeError("JupyterLab did not start within 90 s:\n" + "".join(seen[-30:]))


def _drain(stream: Any) -> None:
    for _ in stream:
        pass


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where a test saves screenshots: ``$KCLIENT_ARTIFACTS`` when set (CI keeps it), else a temp folder."""
    folder = Path(os.environ.get("KCLIENT_ARTIFACTS") or tmp_path / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
