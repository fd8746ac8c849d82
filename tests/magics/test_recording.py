"""``%kclient record`` / ``%kclient replay`` / ``%kclient record off``: a notebook's exchanges
recorded against the demo server, then replayed with the server stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from extras import needs
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from .test_magics import magics, run

pytestmark = needs("httpbin", "yaml")


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    from headless import kclient_shell

    with kclient_shell() as ip:
        try:
            yield ip
        finally:
            for name in [name for name in ip.user_ns if name.startswith("t_")]:
                del ip.user_ns[name]


def test_a_notebook_records_then_replays_with_the_server_stopped(
    shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kclient.demo import DemoServer

    cassette = tmp_path / "notebook.yaml"
    server = DemoServer().start()
    shell.user_ns["t_base"] = base = server.url
    try:
        run(shell, "%kclient use CIO")
        started = run(shell, f"%kclient record {cassette}")
        assert f"Recording into {cassette} (mode once): 0 interaction(s) held" in repr(started)
        live = run(shell, f"%kclient {base}/get page==2")
        run(shell, '%%kclient\n# @name t_posted\nPOST {{t_base}}/post\nContent-Type: application/json\n\n{"a": 1}\n')
        assert live.source is None
        assert "0 replayed, 2 recorded" in repr(run(shell, "%kclient record"))
        run(shell, "%kclient record off")
        assert cassette.read_text().count("- recorded_at:") == 2
    finally:
        server.stop()
    replaying = run(shell, f"%kclient replay {cassette}")
    assert "Replaying" in repr(replaying) and "(mode none)" in repr(replaying)
    again = run(shell, f"%kclient {base}/get page==2")
    assert again.source == "cassette" and again.json() == live.json()
    answer = run(shell, '%%kclient\nPOST {{t_base}}/post\nContent-Type: application/json\n\n{"a": 1}\n')
    assert answer.json()["json"] == {"a": 1}
    assert "· from cassette" in magics(shell).response_bundle(answer)["text/plain"]
    history = repr(run(shell, "%kclient history"))
    assert "200 (cassette)" in history
    with pytest.raises(UsageError, match=r"was not recorded in .*the closest recorded is GET"):
        run(shell, f"%kclient {base}/get page==3")
    run(shell, "%kclient record off")
    assert "Nothing is recorded" in repr(run(shell, "%kclient record"))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%kclient record", None),
        ("%kclient record off", "Nothing is recorded or replayed"),
        ("%kclient record --mode", "--mode needs a value"),
        ("%kclient record a.yaml b.yaml", "One cassette file"),
        ("%kclient record a.yaml --loud", "Unknown option '--loud'"),
        ("%kclient replay", "Name the cassette"),
        ("%kclient replay a.yaml --mode all", "takes no --mode"),
        ("%kclient record a.yaml --mode sometimes", "mode"),
        ("%kclient record a.yaml --match method,nose", "match_on takes"),
    ],
)
def test_mistakes_say_what_to_write(shell: InteractiveShell, tmp_path: Path, line: str, message: str | None) -> None:
    line = line.replace("a.yaml", str(tmp_path / "a.yaml")).replace("b.yaml", str(tmp_path / "b.yaml"))
    if message is None:
        assert "Nothing is recorded" in repr(run(shell, line))
        return
    with pytest.raises(UsageError, match=message):
        run(shell, line)
    assert "Nothing is recorded" in repr(run(shell, "%kclient record"))  # a refused start changes nothing
