"""``%kclient --stream``: Server-Sent Events shown live in the cell, returned when the stream ends."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from kclient import HttpClient, Mock, Request, ServerSentEvent, respond, respond_events

from . import test_magics
from .test_magics import run

shell = test_magics.shell  # the fixture: a shell with the magics loaded

SECRET = "s3cr3t-t0ken-value"


def use(ip: InteractiveShell, *handlers: Any) -> Mock:
    engine = Mock(*handlers)
    ip.user_ns["t_client"] = HttpClient(engine)
    run(ip, "%kclient use t_client")
    return engine


def test_stream_flag_shows_events_and_returns_them(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    engine = use(
        shell,
        lambda r: respond_events("Hello", {"token": " world"}, ServerSentEvent("done", "[DONE]", "7"), retry=0),
        lambda r: respond(status=204),  # the reconnection: the stream is over
    )
    log = run(shell, "%kclient --stream GET https://api.test/chat << t_events")
    assert log.data() == ["Hello", '{"token": " world"}', "[DONE]"]
    assert shell.user_ns["t_events"] is log and log.outcome == "ended"
    assert repr(log).startswith("<EventLog: 3 event(s), ended")
    shown = capsys.readouterr().out
    assert "GET https://api.test/chat" in shown and "3 event(s)" in shown and "[done #7] [DONE]" in shown
    assert engine.request_history[0].headers["Accept"] == "text/event-stream"


def test_an_accept_header_for_events_is_enough(shell: InteractiveShell) -> None:
    use(shell, lambda r: respond_events("a", "b", retry=0), lambda r: respond(status=204))
    log = run(shell, "%kclient GET https://api.test/s Accept:text/event-stream")
    assert log.data() == ["a", "b"] and log.reconnects == 1  # the stream ended; the reconnection got a 204


def test_only_the_last_events_are_shown_but_all_are_counted(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    use(shell, lambda r: respond_events(*[f"e{i}" for i in range(50)], retry=0), lambda r: respond(status=204))
    shell.run_line_magic("config", "KClientMagics.stream_keep = 5")
    try:
        log = run(shell, "%kclient --stream GET https://api.test/s")
    finally:
        shell.run_line_magic("config", "KClientMagics.stream_keep = 20")
    assert len(log) == 50
    last = capsys.readouterr().out.split("https://api.test/s: ")[-1]
    assert "50 event(s)" in last and "45 earlier event(s)" in last and "e49" in last and "e44" not in last


def test_secrets_echoed_in_events_are_masked(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    def echo(request: Request) -> Any:
        return respond_events(
            {"token": request.headers["X-Api-Key"]}, f"key is {request.headers['Authorization']}", retry=0
        )

    use(shell, echo, lambda r: respond(status=204))
    log = run(
        shell, f"%kclient --stream GET https://u:{SECRET}@api.test/s X-Api-Key:{SECRET} 'Authorization:Bearer {SECRET}'"
    )
    assert SECRET in log[0].data  # the data itself is the user's
    assert SECRET not in capsys.readouterr().out


def test_a_failed_stream_is_a_short_error(shell: InteractiveShell) -> None:
    use(shell, lambda r: respond("<html>", headers={"Content-Type": "text/html"}))
    result = shell.run_cell("%kclient --stream GET https://api.test/s", store_history=False)
    assert "EventStreamError" in str(result.error_in_exec) and "text/html" in str(result.error_in_exec)
    assert shell.user_ns["t_client"].status().in_flight == 0


@pytest.mark.slow
def test_interrupting_the_cell_ends_the_stream_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real kernel: Ctrl-C (an interrupt) while events arrive ends the stream, no traceback."""
    from jupyter_client.manager import start_new_kernel
    from test_runner import kernel_name

    manager, client = start_new_kernel(kernel_name=kernel_name(tmp_path, monkeypatch))
    try:

        def execute(code: str, *, interrupt_after: float | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            msg_id = client.execute(code)
            if interrupt_after is not None:
                time.sleep(interrupt_after)
                manager.interrupt_kernel()
            outputs = []
            while True:
                message = client.get_iopub_msg(timeout=60)
                if message["parent_header"].get("msg_id") != msg_id:
                    continue
                if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                    break
                outputs.append(message)
            return client.get_shell_msg(timeout=60)["content"], outputs

        reply, _ = execute("%load_ext kclient\nfrom kclient import demo\nbase = demo.serve()")
        assert reply["status"] == "ok", reply
        reply, outputs = execute(
            "url = base + '/sse/ticks?n=1000&delay=0.05'\n"
            "events = get_ipython().run_line_magic('kclient', '--stream GET ' + url)",
            interrupt_after=2.0,
        )
        assert reply["status"] == "ok", reply  # no traceback
        kinds = [m["msg_type"] for m in outputs]
        assert "update_display_data" in kinds, kinds  # one display, updated in place
        reply, outputs = execute(
            "import kclient\nkc = get_ipython().magics_manager.registry['KClientMagics'].kernel.get()\n"
            "print(events.outcome, len(events) > 5, kc.status().in_flight)"
        )
        printed = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        assert printed.strip() == "interrupted True 0", printed
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
