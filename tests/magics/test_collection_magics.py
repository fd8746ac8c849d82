"""``.http`` collections in the notebook: assertions in cells, ``%kclient run`` with its live
table and ``--name``, and ``%kclient history --http`` exported and run again, on the demo server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from extras import needs
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from .test_magics import magics, run

pytestmark = needs("httpbin")


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    from headless import kclient_shell

    from kclient import _redact, demo

    monkeypatch.setattr(_redact, "_DECLARED", [])  # private values are declared for this test only
    with kclient_shell() as ip:
        ip.user_ns["t_base"] = demo.serve()
        run(ip, "%kclient use CIO")
        try:
            yield ip
        finally:
            for name in [name for name in ip.user_ns if name.startswith("t_")]:
                del ip.user_ns[name]


def test_a_cell_with_assertions_shows_them_and_returns_its_response(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    response = run(shell, "%%kclient\n# @name t_ok\nGET {{t_base}}/status/200\n\n?? status == 200\n")
    assert response.status == 200 and shell.user_ns["t_ok"] is response
    assert magics(shell).last_run.passed
    assert "cell: 1 request, passed, 1/1 assertions" in capsys.readouterr().out


def test_a_failing_assertion_fails_the_cell_with_expected_and_actual(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match=r"✗ \?\? status == 200: expected 200, actual 418"):
        run(shell, "%%kclient\nGET {{t_base}}/status/418\n\n?? status == 200\n")


def test_run_shows_a_live_table_and_runs_what_a_named_request_needs(
    shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "api.http"
    path.write_text(
        '# @name t_login\nPOST {{t_base}}/anything\nContent-Type: application/json\n\n{"user": "ada"}\n'
        "###\n# @name t_me\nGET {{t_base}}/anything/{{t_login.response.body.$.json.user}}\n\n"
        "?? body $.url endsWith /ada\n"
    )
    assert run(shell, f"%kclient run {path} --name t_me << t_report") is None
    report = shell.user_ns["t_report"]
    assert [outcome.label for outcome in report] == ["t_login", "t_me"] and report.passed
    assert report[0].needed_by == "t_me"
    shown = capsys.readouterr().out
    headlines = re.findall(r"api\.http: .*", shown)  # the table was shown, then updated as requests finished
    assert headlines[0] == "api.http: 0/1 request, passed"
    assert headlines[-1] == "api.http: 2 requests, passed, 1/1 assertions" and len(headlines) == 3
    assert "run first: t_me needs it" in shown
    with pytest.raises(UsageError, match="no request is named 'nobody'"):
        run(shell, f"%kclient run {path} --name nobody")


def test_history_exports_a_http_file_that_runs_again(
    shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "private-key-27182818"
    (tmp_path / "http-client.env.json").write_text(json.dumps({"dev": {"base": shell.user_ns["t_base"]}}))
    (tmp_path / "http-client.private.env.json").write_text(json.dumps({"dev": {"api_key": secret}}))
    monkeypatch.chdir(tmp_path)
    cell = "%%kclient --env dev\n# @name t_first\nGET {{base}}/anything?token=tok-1234567&page=2\n"
    cell += "X-Trace: {{api_key}}\n"
    run(shell, cell)
    base = shell.user_ns["t_base"]
    run(shell, f"%kclient POST {base}/anything Authorization:'Bearer abcdef123456' password=hunter22 user=ada")
    text = repr(run(shell, "%kclient history 2 --http"))
    assert secret not in text and "tok-1234567" not in text and "abcdef123456" not in text and "hunter22" not in text
    assert "X-Trace: {{api_key}}" in text and "token={{token}}&page=2" in text
    assert "Authorization: {{authorization}}" in text and '"password": "{{password}}"' in text
    assert "# @name t_first" in text
    run(shell, "%kclient history 2 --http exported.http")
    exported = (tmp_path / "exported.http").read_text()
    assert exported == text
    private = {"dev": {"api_key": secret, "token": "t-000", "authorization": "Bearer x", "password": "p-000"}}
    (tmp_path / "http-client.private.env.json").write_text(json.dumps(private))
    assert run(shell, "%kclient run exported.http --env dev << t_again") is None
    again = shell.user_ns["t_again"]
    assert again.passed and len(again) == 2
    assert again[0].response.json()["headers"]["X-Trace"] == secret
