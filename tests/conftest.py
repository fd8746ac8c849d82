"""Shared fixtures: the async backends every async test runs on, and local servers.

Servers bind 127.0.0.1 on a port chosen by the OS and stop when their fixture ends.

Also the reliability report: ``--reliability-report=PATH`` writes, for every test marked
``@pytest.mark.reliability(scenario)``, what it yielded (see ``pytest_sessionfinish``);
``scripts/reliability-table.py PATH`` turns that into the table of docs/reliability.md.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

#: What a reliability test noted (``reliability_note``), kept on its item.
_NOTES = pytest.StashKey[list[str]]()
#: The reliability entries of the run, by node id, in the order the tests ran.
_ENTRIES = pytest.StashKey[dict[str, dict[str, Any]]]()


_HYPOTHESIS_HOME = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps its files (examples, caches) in a temporary folder, not in the repository."""
    from hypothesis.configuration import set_hypothesis_home_dir

    home = tempfile.mkdtemp(prefix="kclient-hypothesis-")
    config.stash[_HYPOTHESIS_HOME] = home
    set_hypothesis_home_dir(home)


def pytest_unconfigure(config: pytest.Config) -> None:
    home = config.stash.get(_HYPOTHESIS_HOME, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reliability-report",
        metavar="PATH",
        default=None,
        help="write what every test marked reliability yielded to PATH (JSON), for scripts/reliability-table.py",
    )


@pytest.fixture
def reliability_note(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``note(text)``: record what the scenario yielded here ("ProtocolError"), shown in the reliability table."""
    notes = request.node.stash.setdefault(_NOTES, [])

    def note(text: str) -> None:
        if text not in notes:
            notes.append(text)

    return note


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    mark = item.get_closest_marker("reliability")
    if mark is None or not mark.args:
        return report
    entries = item.config.stash.setdefault(_ENTRIES, {})
    if item.nodeid not in entries:
        params = getattr(getattr(item, "callspec", None), "params", {})
        entries[item.nodeid] = {
            "scenario": str(mark.args[0]),
            "engine": str(params.get("engine_name", "-")),
            "backend": str(params.get("anyio_backend", "-")),
            "outcome": "passed",
            "reason": "",
            "notes": [],
        }
    entry = entries[item.nodeid]
    notes: list[str] = item.stash.get(_NOTES, [])
    entry["notes"] = [*notes]
    if entry["outcome"] != "passed":  # the first phase that did not pass decides
        return report
    if hasattr(report, "wasxfail"):
        if report.skipped:
            entry["outcome"], entry["reason"] = "xfailed", str(report.wasxfail).removeprefix("reason: ")
        # a non-strict xpass counts as passed
    elif report.skipped:
        entry["outcome"], entry["reason"] = "skipped", _skip_reason(report)
    elif report.failed:
        strict_xpass = str(report.longrepr).startswith("[XPASS(strict)]")
        entry["outcome"], entry["reason"] = "failed", "XPASS(strict)" if strict_xpass else f"{report.when} failed"
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--reliability-report")
    if path:
        entries = list(session.config.stash.get(_ENTRIES, {}).values())
        Path(path).write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``@pytest.mark.anyio`` test on asyncio and on trio."""
    return str(request.param)


class LocalServer:
    """A WSGI app served on 127.0.0.1 in a background thread."""

    def __init__(self, app: object) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture(scope="session")
def httpbin() -> Iterator[LocalServer]:
    """httpbin (the well-known request/response service) on 127.0.0.1; ``httpbin.url`` is its base."""
    from httpbin import app

    server = LocalServer(app).start()
    try:
        yield server
    finally:
        server.stop()
