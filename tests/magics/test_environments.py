"""Environments of ``.http`` requests: JetBrains' public and private files, ``$shared``, ``.env``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kclient.magics._environments import PRIVATE, PUBLIC, load_environment
from kclient.magics._errors import KClientMagicError


def write(folder: Path, name: str, data: object) -> None:
    (folder / name).write_text(json.dumps(data) if not isinstance(data, str) else data)


def test_the_private_file_overrides_and_its_values_are_secret(tmp_path: Path) -> None:
    write(tmp_path, PUBLIC, {"$shared": {"version": "v1", "host": "shared"}, "dev": {"host": "localhost:8000"}})
    write(tmp_path, PRIVATE, {"dev": {"token": "dev-secret-token", "nested": {"key": "nested-secret"}}})
    (tmp_path / ".env").write_text("PASSWORD=from-dotenv\nexport OTHER='quoted value'\n# a comment\n")
    env = load_environment(tmp_path, "dev")
    assert env.variables == {
        "version": "v1",
        "host": "localhost:8000",
        "token": "dev-secret-token",
        "nested": {"key": "nested-secret"},
    }
    assert env.secrets == ("dev-secret-token", "nested-secret")
    assert env.dotenv == {"PASSWORD": "from-dotenv", "OTHER": "quoted value"}
    assert env.files == [PUBLIC, PRIVATE, ".env"]
    assert "dev-secret-token" not in repr(env) and "2 secret value(s)" in repr(env)


def test_without_a_name_only_shared_applies(tmp_path: Path) -> None:
    write(tmp_path, PUBLIC, {"$shared": {"a": 1}, "dev": {"b": 2}})
    write(tmp_path, PRIVATE, {"$shared": {"key": "shared-secret"}})
    env = load_environment(tmp_path, None)
    assert env.variables == {"a": 1, "key": "shared-secret"} and env.secrets == ("shared-secret",)
    assert load_environment(tmp_path / "missing", None).variables == {}


def test_an_environment_only_in_the_private_file_is_found(tmp_path: Path) -> None:
    write(tmp_path, PRIVATE, {"ci": {"token": "ci-secret"}})
    assert load_environment(tmp_path, "ci").variables == {"token": "ci-secret"}


@pytest.mark.parametrize(
    ("files", "name", "message"),
    [
        ({}, "dev", "there is no http-client.env.json"),
        ({PUBLIC: {"dev": {}, "prod": {}}}, "staging", "defined: dev, prod"),
        ({PUBLIC: "{not json"}, "dev", "is not JSON: Expecting property name enclosed in double quotes at line 1"),
        ({PUBLIC: [1, 2]}, "dev", "holds list; expected an object of environments"),
        ({PRIVATE: {"dev": "oops"}}, "dev", "environment 'dev' is str; expected an object of variables"),
    ],
)
def test_mistakes_name_the_file_and_what_exists(
    tmp_path: Path, files: dict[str, object], name: str, message: str
) -> None:
    for file, data in files.items():
        write(tmp_path, file, data)
    with pytest.raises(KClientMagicError, match=message.replace("(", r"\(")):
        load_environment(tmp_path, name)


def test_a_cell_uses_the_environment_and_masks_its_private_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kclient import _redact

    monkeypatch.setattr(_redact, "_DECLARED", [])  # declared for this test only, not the whole run
    from headless import kclient_shell

    from kclient import demo

    from .test_magics import run

    base = demo.serve()
    secret = "env-private-token-42"
    write(tmp_path, PUBLIC, {"dev": {"base": base, "user": "ada"}, "prod": {"base": "http://unused.test"}})
    write(tmp_path, PRIVATE, {"dev": {"token": secret}})
    (tmp_path / ".env").write_text("REQUEST_ID=from-dotenv-77\n")
    monkeypatch.chdir(tmp_path)
    with kclient_shell() as ip:
        run(ip, "%kclient use CIO")
        cell = (
            "%%kclient --env dev << t_answer\n"
            "GET {{base}}/anything?user={{user}}&id={{$dotenv REQUEST_ID}}&n={{$randomInt 5 6}}\n"
            "X-Api-Key: {{token}}\n"
        )
        response = run(ip, cell)
        echoed = response.json()
        assert echoed["headers"]["X-Api-Key"] == secret  # sent as it is
        assert echoed["args"] == {"user": "ada", "id": "from-dotenv-77", "n": "5"}
        shown = capsys.readouterr().out + repr(run(ip, "%kclient history"))
        assert secret not in shown and "***" in shown
        run(ip, "%config KClientMagics.env = 'dev'")
        try:
            run(ip, "%%kclient --curl\nGET {{base}}/anything\nX-Api-Key: {{token}}\n")
        finally:
            run(ip, "%config KClientMagics.env = ''")
        assert secret not in capsys.readouterr().out
        with pytest.raises(KClientMagicError, match="defined: dev, prod"):
            run(ip, "%%kclient --env staging\nGET {{base}}/get\n")
