"""The tutorials that ship a cassette (``notebooks/cassettes/NAME.yaml``) run from it with no
server at all: ``KCLIENT_CASSETTE`` with ``KCLIENT_RECORD_MODE=none`` makes every client of the
kernel replay, and ``kclient.demo.serve()`` start nothing (its URL names a port nothing listens
on). nbval compares every output with the one stored in the notebook, so each answer came from
the cassette as it came from the server when recorded; the marks of a replayed answer
(``(from cassette)``) are the only difference allowed.

Re-record with ``scripts/record-notebook-cassettes.py`` after changing such a notebook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from extras import needs

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = sorted((ROOT / "notebooks" / "cassettes").glob("*.yaml"))
#: What replaying changes in the outputs: the marks of an answer from a cassette, and the
#: Record plugin in a client's list of plugins.
REPLAY_MARKS = (
    "\n[replayed-marks]\n"
    "regex: ( \\(from cassette\\)| · from cassette| \\(cassette\\)|, Record\\b)\n"
    "replace: \n"  # nbval skips a section whose replace is empty without the space
)

pytestmark = [needs("yaml", "httpbin", "nbval"), pytest.mark.timeout(300)]


def test_some_tutorials_ship_a_cassette() -> None:
    assert [path.stem for path in CASSETTES] == ["01-engines-and-clients", "03-configuring-engines"]


@pytest.mark.parametrize("cassette", CASSETTES, ids=[path.stem for path in CASSETTES])
def test_a_tutorial_runs_from_its_cassette_with_no_server(cassette: Path, tmp_path: Path) -> None:
    notebook = ROOT / "notebooks" / f"{cassette.stem}.ipynb"
    sanitize = tmp_path / "sanitize.cfg"
    sanitize.write_text((ROOT / "tests" / "nbval-sanitize.cfg").read_text() + REPLAY_MARKS)
    replayed = tmp_path / cassette.name
    replayed.write_bytes(cassette.read_bytes())  # replaying writes nothing, but never to the source tree
    env = {**os.environ, "KCLIENT_CASSETTE": str(replayed), "KCLIENT_RECORD_MODE": "none"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(sanitize),
            "-p",
            "no:cacheprovider",
            "-q",
            str(notebook),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert replayed.read_bytes() == cassette.read_bytes()
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_every_client_of_the_process_shares_the_environment_cassette(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kclient import ConfigError, HttpClient, UnrecordedRequestError, demo
    from kclient.demo import DemoServer
    from kclient.engines.mock import Mock, respond
    from kclient.plugins.record import Record

    cassette = tmp_path / "notebook.yaml"
    monkeypatch.setenv("KCLIENT_CASSETTE", str(cassette))
    monkeypatch.setenv("KCLIENT_RECORD_MODE", "all")
    with DemoServer() as server:
        recorded_at = server.url
        with HttpClient("CIO") as first, HttpClient("Httpx") as second:
            assert first.blocking.get(f"{server.url}/get?n=1").source is None
            assert second.blocking.get(f"{server.url}/get?n=2").source is None
        with HttpClient(Mock(lambda request: respond("mocked"))) as mocked:
            assert mocked.blocking.get("http://mock.test/").text == "mocked" and not any(
                isinstance(p, Record) for p in mocked.plugins
            )
    assert cassette.read_text().count("- recorded_at:") == 2  # one file, both clients, no clobbering
    monkeypatch.setenv("KCLIENT_RECORD_MODE", "none")
    base = demo.serve()  # no server: the port is one nothing listens on
    assert base != recorded_at
    with HttpClient("CIO") as again:
        assert again.blocking.get(f"{base}/get?n=2").source == "cassette"  # another port: matched on the path
        assert again.blocking.get(f"{base}/get?n=1").json()["args"] == {"n": "1"}
        with pytest.raises(UnrecordedRequestError):
            again.blocking.get(f"{base}/get?n=3")
    monkeypatch.setenv("KCLIENT_RECORD_MODE", "sometimes")
    with pytest.raises(ConfigError, match="KCLIENT_RECORD_MODE"):
        HttpClient("CIO")
