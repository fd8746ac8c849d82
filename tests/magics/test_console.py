"""``kclient run FILE.http`` (and ``python -m kclient run``): exit codes, output, JUnit, options,
against the demo server."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from extras import needs
from kclient.magics._console import main

pytestmark = needs("httpbin")

PASSING = """
# @name login
POST {{base}}/anything
Content-Type: application/json

{"token": "{{token}}"}

?? status == 200

###
# @name me
GET {{base}}/anything?t={{login.response.body.$.json.token}}

?? body $.args.t == {{token}}
"""

FAILING = """
# @name ok
GET {{base}}/status/200

?? status == 200

###
# @name wrong
GET {{base}}/status/418

?? status == 200

###
# @name last
GET {{base}}/get
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from kclient import _redact, demo

    monkeypatch.setattr(_redact, "_DECLARED", [])  # the private value is declared for this test only
    (tmp_path / "http-client.env.json").write_text(json.dumps({"dev": {"base": demo.serve()}}))
    (tmp_path / "http-client.private.env.json").write_text(json.dumps({"dev": {"token": "private-token-3141"}}))
    (tmp_path / "passing.http").write_text(PASSING)
    (tmp_path / "failing.http").write_text(FAILING)
    return tmp_path


def kclient_run(*arguments: str | Path) -> tuple[int, str]:
    out = io.StringIO()
    status = main(["run", *map(str, arguments)], out=out)
    return status, out.getvalue()


def test_a_passing_collection_exits_0_and_masks_private_values(folder: Path) -> None:
    status, out = kclient_run(folder / "passing.http", "--env", "dev")
    assert status == 0, out
    assert "[1/2] ✓ login 200" in out and "[2/2] ✓ me 200" in out
    assert "2 requests: all passed, 2/2 assertions held" in out
    assert "private-token-3141" not in out


def test_a_failing_assertion_exits_1_and_the_rest_still_runs(folder: Path) -> None:
    status, out = kclient_run(folder / "failing.http", "--env", "dev")
    assert status == 1
    assert "✗ wrong 418" in out and "expected 200, actual 418" in out and "✓ last 200" in out
    assert "3 requests: 2 passed, 1 failed" in out


def test_fail_fast_stops_at_the_first_failure(folder: Path) -> None:
    status, out = kclient_run(folder / "failing.http", folder / "passing.http", "--env", "dev", "--fail-fast")
    assert status == 1 and "last" not in out and "passing.http" not in out


def test_usage_errors_exit_2(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "broken.http").write_text("GET http://a.test/\nnot a header\n")
    assert kclient_run(folder / "broken.http")[0] == 2
    assert "broken.http: line 2: expected 'Name: value'" in capsys.readouterr().err
    assert kclient_run(folder / "passing.http", "--env", "staging")[0] == 2
    assert "defined: dev" in capsys.readouterr().err
    assert kclient_run(folder / "passing.http", "--env", "dev", "--name", "nobody")[0] == 2
    assert "there are: login, me" in capsys.readouterr().err
    assert kclient_run(folder / "missing.http")[0] == 2
    assert kclient_run(folder / "passing.http", "--repeat", "0")[0] == 2


def test_name_runs_one_request_and_what_it_needs(folder: Path) -> None:
    status, out = kclient_run(folder / "passing.http", "--env", "dev", "--name", "me")
    assert status == 0
    assert "✓ login 200" in out and "(run first: me needs it)" in out


def test_junit_report_and_repeat(folder: Path) -> None:
    report = folder / "reports" / "junit.xml"
    status, out = kclient_run(
        folder / "failing.http", folder / "passing.http", "--env", "dev", "--repeat", "2", "--junit-xml", report, "-q"
    )
    assert status == 1 and out.count("\n") == 1  # -q: the summary only
    suites = ET.parse(report).getroot()
    assert [suite.get("name") for suite in suites] == [
        "failing.http [1]",
        "passing.http [1]",
        "failing.http [2]",
        "passing.http [2]",
    ]
    first = suites[0]
    assert (first.get("tests"), first.get("failures"), first.get("errors")) == ("3", "1", "0")
    (failure,) = first.iter("failure")
    assert failure.get("message") == "✗ ?? status == 200: expected 200, actual 418"
    assert [case.get("name") for case in first] == ["ok", "wrong", "last"]
    assert b"private-token-3141" not in report.read_bytes()


def test_the_console_commands_run_as_programs(folder: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    module = subprocess.run(
        [sys.executable, "-m", "kclient", "run", "passing.http", "--env", "dev"],
        check=False,
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert module.returncode == 0, module.stderr
    script = Path(sys.executable).with_name("kclient")
    failed = subprocess.run(
        [str(script), "run", "failing.http", "--env", "dev", "-q"],
        check=False,
        cwd=folder,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert failed.returncode == 1 and "1 failed" in failed.stdout
    usage = subprocess.run([str(script)], check=False, capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "run" in usage.stderr
