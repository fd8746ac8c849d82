"""WebSocket sessions in the notebook: ``%kclient ws://...`` and ``WEBSOCKET`` requests in ``%%kclient``
cells (JetBrains' ``===`` and ``=== wait-for-server``), against the ``websockets`` library's server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from kclient.magics._errors import RequestFailed
from kclient.magics._live_ws import MessageLog, split_messages
from ws_server import WsServer

from . import test_magics
from .test_magics import run

shell = test_magics.shell  # the fixture: a shell with the magics loaded

SECRET = "s3cr3t-t0ken-value"


@pytest.fixture(scope="module")
def ws_server() -> Iterator[WsServer]:
    with WsServer() as server:
        yield server


@pytest.fixture
def cio(shell: InteractiveShell) -> Iterator[InteractiveShell]:
    run(shell, "%kclient use CIO")
    shell.run_line_magic("config", "KClientMagics.ws_idle = 0.2")
    yield shell
    shell.run_line_magic("config", "KClientMagics.ws_idle = 1.0")


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        (None, []),
        (b"", []),
        (b"one message", [(False, "one message")]),
        (b"===\nfirst\n===\nsecond", [(False, "first"), (False, "second")]),
        (b'===\n{"a": 1}\n=== wait-for-server\nsecond\n', [(False, '{"a": 1}'), (True, "second")]),
        (b"=== wait-for-server\n===", [(True, "")]),
        (b"before\n===\nafter", [(False, "before"), (False, "after")]),
        (b"===\nline 1\nline 2\n", [(False, "line 1\nline 2")]),
        (b"not === a separator", [(False, "not === a separator")]),
    ],
)
def test_messages_split_as_jetbrains_writes_them(body: bytes | None, messages: list[tuple[bool, str]]) -> None:
    assert split_messages(body) == messages


def test_a_websocket_cell_sends_its_messages_and_shows_the_answers(
    cio: InteractiveShell, ws_server: WsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cell = f"""%%kclient << t_log
WEBSOCKET {ws_server.url}/echo

===
{{"message": "first"}}
=== wait-for-server
second
"""
    log = run(cio, cell)
    assert isinstance(log, MessageLog) and cio.user_ns["t_log"] is log
    assert log.sent() == ['{"message": "first"}', "second"]
    assert log.received() == ['{"message": "first"}', "second"]
    assert [direction for direction, _ in log] == ["sent", "received", "sent", "received"]
    assert json.loads(log.received()[0]) == {"message": "first"} and log.close_code == 1000
    assert repr(log) == "<MessageLog: 2 sent, 2 received, closed 1000>"
    shown = capsys.readouterr().out
    assert f"WEBSOCKET {ws_server.url}/echo" in shown and "2 sent, 2 received" in shown
    assert '→ {"message": "first"}' in shown and "← second" in shown


def test_wait_for_server_waits_for_the_servers_first_message(cio: InteractiveShell, ws_server: WsServer) -> None:
    log = run(cio, f"%%kclient\nWEBSOCKET {ws_server.url}/subprotocol\n\n=== wait-for-server\nhi\n")
    assert [direction for direction, _ in log] == ["received", "sent", "received"]
    assert log.received() == ["", "hi"]


def test_a_line_opens_a_session_and_sends_its_json_items(cio: InteractiveShell, ws_server: WsServer) -> None:
    log = run(cio, f"%kclient {ws_server.url}/echo msg=hi n:=2")
    assert log.sent() == ['{"msg": "hi", "n": 2}'] and log.json() == [{"msg": "hi", "n": 2}]


def test_a_session_the_server_closes_ends_with_its_code(
    cio: InteractiveShell, ws_server: WsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    log = run(cio, f"%kclient {ws_server.url}/close?code=4001&reason=bye")
    assert log.close_code == 4001 and log.outcome == "closed" and len(log) == 0
    assert "closed 4001" in capsys.readouterr().out


def test_a_refused_handshake_fails_the_cell_with_the_status(cio: InteractiveShell, ws_server: WsServer) -> None:
    with pytest.raises(RequestFailed, match=r"WebSocketHandshakeError.*403"):
        run(cio, f"%kclient WEBSOCKET {ws_server.url}/reject")
    history = run(cio, "%kclient history")
    assert "403" in repr(history) or "WebSocketHandshakeError" in repr(history)


def test_secrets_the_request_sent_are_masked_in_what_is_shown(
    cio: InteractiveShell, ws_server: WsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    log = run(cio, f"%kclient {ws_server.url}/headers?close=1 Authorization:'Bearer {SECRET}' X-Api-Key:{SECRET}")
    assert SECRET in str(log.received()[0])  # the log holds what the server sent
    shown = capsys.readouterr().out
    assert "authorization" in shown.lower() and SECRET not in shown
