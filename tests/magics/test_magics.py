"""``%kclient`` and ``%%kclient`` in a real IPython shell, against httpbin and the Mock engine.

``run`` executes a cell with ``InteractiveShell.run_cell`` and re-raises what the cell
raised; ``run_async`` does it the way ipykernel does, with ``run_cell_async`` awaited
inside a running asyncio loop, so the magics must re-enter that loop.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headless import kclient_shell
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import kclient
from kclient import HttpClient, Mock, Request, Response, respond

SECRET = "s3cr3t-t0ken-value"


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    with kclient_shell() as ip:
        try:
            yield ip
        finally:
            for name in [name for name in ip.user_ns if name.startswith("t_")]:
                del ip.user_ns[name]


def run(ip: InteractiveShell, code: str) -> Any:
    result = ip.run_cell(code, store_history=False)
    result.raise_error()
    return result.result


async def run_async(ip: InteractiveShell, code: str) -> Any:
    result = await ip.run_cell_async(code, store_history=False, transformed_cell=ip.transform_cell(code))
    result.raise_error()
    return result.result


def magics(ip: InteractiveShell) -> Any:
    return ip.magics_manager.registry["KClientMagics"]


def bundle(ip: InteractiveShell, value: Any) -> dict[str, str]:
    data, _ = ip.display_formatter.format(value)
    return dict(data)


def use_mock(ip: InteractiveShell, *handlers: Any) -> Mock:
    engine = Mock(*handlers, reuse_handlers=True)
    ip.user_ns["t_client"] = HttpClient(engine)
    run(ip, "%kclient use t_client")
    return engine


def echo(request: Request) -> Any:
    body = request.content if isinstance(request.content, bytes) else b""
    return respond(
        {
            "method": request.method,
            "url": str(request.url),
            "headers": dict(request.headers),
            "body": body.decode("utf-8", "replace"),
        }
    )


# -- loading ----------------------------------------------------------------------------------


def test_nothing_registers_at_import_time() -> None:
    ip = InteractiveShell.instance()
    if "KClientMagics" in ip.magics_manager.registry:
        pytest.skip("another test left the extension loaded")
    import kclient.magics  # noqa: F401

    assert "kclient" not in ip.magics_manager.magics["line"]


def test_load_ext_registers_line_and_cell_magics_and_unload_removes_them(shell: InteractiveShell) -> None:
    assert "kclient" in shell.magics_manager.magics["line"]
    assert "kclient" in shell.magics_manager.magics["cell"]
    run(shell, "%unload_ext kclient")
    assert "kclient" not in shell.magics_manager.magics["line"]
    run(shell, "%load_ext kclient")


# -- line requests against httpbin ------------------------------------------------------------


def test_line_request_with_items(shell: InteractiveShell, httpbin: Any) -> None:
    response = run(
        shell, f'%kclient POST {httpbin.url}/anything X-Trace:42 page==2 name=tea count:=3 tags:=\'["a","b"]\''
    )
    assert isinstance(response, Response)
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["args"] == {"page": "2"}
    assert seen["headers"]["X-Trace"] == "42"
    assert seen["json"] == {"name": "tea", "count": 3, "tags": ["a", "b"]}
    assert shell.user_ns["_"] is response or run(shell, "_") is response


def test_localhost_shorthand(shell: InteractiveShell, httpbin: Any) -> None:
    port = httpbin.url.rsplit(":", 1)[1]
    response = run(shell, f"%kclient :{port}/get")
    assert response.status == 200
    assert response.json()["url"] == f"http://localhost:{port}/get"


def test_a_path_is_relative_to_the_kernel_clients_base_url(
    shell: InteractiveShell, httpbin: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns["base"] = httpbin.url
    run(shell, "from kclient import DefaultRequest, HttpClient")
    run(shell, "api = HttpClient('CIO', lambda c: c.install(DefaultRequest, url=base + '/'))")
    run(shell, "%kclient use api")
    response = run(shell, "%kclient /get q==1")
    assert response.status == 200
    assert response.json()["url"] == f"{httpbin.url}/get?q=1"
    run(shell, "%kclient --curl /anything/x")
    assert f"curl {httpbin.url}/anything/x" in capsys.readouterr().out
    run(shell, "%kclient use CIO")  # no base URL: the error says how to set one
    with pytest.raises(UsageError, match="DefaultRequest"):
        run(shell, "%kclient /get")


def test_dollar_and_braces_are_never_expanded(shell: InteractiveShell) -> None:
    engine = use_mock(shell, echo)
    shell.user_ns["t_name"] = "expanded"
    run(shell, "%kclient POST http://mock.test/x note='$t_name {t_name}'")
    assert json.loads(engine.request_history[-1].content) == {"note": "$t_name {t_name}"}


def test_options_timeout_no_follow_extract_check(shell: InteractiveShell, httpbin: Any) -> None:
    redirect = run(shell, f"%kclient --no-follow {httpbin.url}/redirect/1")
    assert redirect.status == 302
    assert run(shell, f"%kclient -e headers.Host {httpbin.url}/get") == httpbin.url.removeprefix("http://")
    with pytest.raises(UsageError, match=r"--check: Client error 404"):
        run(shell, f"%kclient --check {httpbin.url}/status/404")
    with pytest.raises(UsageError, match=r"failed: RequestTimeout"):
        run(shell, f"%kclient --timeout 0.2 {httpbin.url}/delay/3")


def test_engine_option_uses_another_engine(shell: InteractiveShell, httpbin: Any) -> None:
    response = run(shell, f"%kclient --engine Httpx {httpbin.url}/get")
    assert response.status == 200
    assert magics(shell).kernel.for_engine("Httpx").engine.name == "Httpx"


# -- cells in the .http format ----------------------------------------------------------------


def test_cell_with_several_requests_names_and_capture(shell: InteractiveShell, httpbin: Any) -> None:
    cell = f"""%%kclient << t_results
# @name t_login
POST {httpbin.url}/anything
Content-Type: application/json

{{"user": "ada", "nested": {{"keep": "braces"}}}}

###
GET {httpbin.url}/anything?user={{{{t_login.json.json.user}}}}
X-Literal: {{not a template}}
"""
    results = run(shell, cell)
    assert isinstance(results, list) and len(results) == 2
    assert shell.user_ns["t_results"] is results
    first, second = results
    assert first.json()["json"] == {"user": "ada", "nested": {"keep": "braces"}}
    assert shell.user_ns["t_login"] is first
    assert second.json()["args"] == {"user": "ada"}
    assert second.json()["headers"]["X-Literal"] == "{not a template}"


def test_cell_interpolates_notebook_variables_with_index_access(shell: InteractiveShell) -> None:
    engine = use_mock(shell, echo)
    shell.user_ns["t_items"] = [{"id": 7}, {"id": 8}]
    shell.user_ns["t_payload"] = {"a": [1, 2]}
    run(shell, '%%kclient\nPOST http://mock.test/items/{{t_items[1].id}}\n\n{"raw": {{t_payload}}, "x": {"y": 1}}\n')
    sent = engine.request_history[-1]
    assert str(sent.url) == "http://mock.test/items/8"
    assert json.loads(sent.content) == {"raw": {"a": [1, 2]}, "x": {"y": 1}}


def test_a_malformed_cell_points_at_the_line(shell: InteractiveShell) -> None:
    use_mock(shell, echo)
    with pytest.raises(UsageError, match=r"line 3: .*Name: value"):
        run(shell, "%%kclient\nGET http://mock.test/\nthis is not a header\n")
    with pytest.raises(UsageError, match=r"t_missing"):
        run(shell, "%%kclient\nGET http://mock.test/{{t_missing}}\n")


def test_run_sends_a_http_file(shell: InteractiveShell, tmp_path: Path) -> None:
    engine = use_mock(shell, echo)
    path = tmp_path / "requests.http"
    path.write_text("GET http://mock.test/one\n\n###\nDELETE http://mock.test/two\n")
    assert run(shell, f"%kclient run {path} << t_report") is None  # the table was shown live
    report = shell.user_ns["t_report"]
    assert [r.request.method for r in report.responses] == ["GET", "DELETE"]
    assert report.passed and magics(shell).last_run is report
    assert len(engine.request_history) == 2
    with pytest.raises(UsageError, match="Cannot read"):
        run(shell, f"%kclient run {tmp_path / 'missing.http'}")


# -- curl -------------------------------------------------------------------------------------


def test_curl_import_sends_it(shell: InteractiveShell) -> None:
    engine = use_mock(shell, echo)
    run(shell, """%kclient curl 'curl -X PUT http://mock.test/p -H "X-A: 1" --data-raw "{\\"k\\": 2}"'""")
    sent = engine.request_history[-1]
    assert (sent.method, sent.headers["X-A"]) == ("PUT", "1")


def test_curl_option_prints_instead_of_sending_and_masks_secrets(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = use_mock(shell, echo)
    capsys.readouterr()
    assert run(shell, f"%kclient --curl POST http://mock.test/x Authorization:'Bearer {SECRET}' a=1") is None
    printed = capsys.readouterr().out
    assert printed.startswith("curl http://mock.test/x")
    assert SECRET not in printed and "***" in printed
    assert engine.request_history == []
    run(shell, f"%kclient --curl --send --show-secrets GET http://mock.test/x Authorization:'Bearer {SECRET}'")
    assert SECRET in capsys.readouterr().out
    assert len(engine.request_history) == 1


# -- the kernel client and its subcommands ----------------------------------------------------


def test_summary_engines_state_and_use(shell: InteractiveShell) -> None:
    run(shell, "%kclient use CIO max_connections=7")
    summary = run(shell, "%kclient")
    text = repr(summary)
    assert "CIO" in text and "ACTIVE" in text and "max_connections" in text and "7" in text
    engines = repr(run(shell, "%kclient engines"))
    for name in ("CIO", "Httpx", "Mock", "Aiohttp", "Urllib3"):
        assert name in engines
    assert "ACTIVE" in repr(run(shell, "%kclient state"))
    with pytest.raises(UsageError, match="Did you mean max_connections"):
        run(shell, "%kclient use CIO max_conections=7")
    with pytest.raises(UsageError, match="NoSuchEngine"):
        run(shell, "%kclient use NoSuchEngine")


def test_close_join_cancel_and_the_closed_client_message(shell: InteractiveShell) -> None:
    use_mock(shell, echo)
    run(shell, "%kclient GET http://mock.test/")
    assert "CLOSING" in repr(run(shell, "%kclient close")) or "CLOSED" in repr(run(shell, "%kclient state"))
    assert "CLOSED" in repr(run(shell, "%kclient join --timeout 5"))
    with pytest.raises(UsageError, match=r"is CLOSED: %kclient use ENGINE"):
        run(shell, "%kclient GET http://mock.test/")
    use_mock(shell, echo)
    assert "CANCELLED" in repr(run(shell, "%kclient cancel"))


def test_join_timeout_on_an_active_client(shell: InteractiveShell) -> None:
    use_mock(shell, echo)
    with pytest.raises(UsageError, match=r"did not finish within 0.1 s: it is ACTIVE"):
        run(shell, "%kclient join --timeout 0.1")


def test_history_lists_requests_with_status(shell: InteractiveShell) -> None:
    use_mock(shell, echo, lambda r: respond(b"", status=503))
    run(shell, "%kclient GET http://mock.test/first?token=" + SECRET)
    run(shell, "%kclient GET http://mock.test/second")
    text = repr(run(shell, "%kclient history"))
    assert "first" in text and "second" in text and "503" in text
    assert SECRET not in text
    assert "second" in repr(run(shell, "%kclient history 1")) and "first" not in repr(run(shell, "%kclient history 1"))


def test_config_sets_defaults(shell: InteractiveShell) -> None:
    run(shell, "%config KClientMagics.engine = 'Httpx'")
    try:
        for each in magics(shell).kernel.close_all():
            kclient.run(each.join())
        assert "Httpx" in repr(run(shell, "%kclient"))
    finally:
        run(shell, "%config KClientMagics.engine = ''")


def test_bad_usage_messages(shell: InteractiveShell) -> None:
    use_mock(shell, echo)
    for line, message in [
        ("%kclient --bogus http://mock.test/", "Unknown option '--bogus'"),
        ("%kclient --timeout soon http://mock.test/", "positive number of seconds"),
        ("%kclient history many", "history \\[N\\]"),
        ("%kclient close now", "takes no arguments"),
        ("%kclient use", "name an engine"),
        ("%kclient curl", "give the curl command"),
        ("%kclient GET http://mock.test/ << 1x", "variable name"),
    ]:
        with pytest.raises(UsageError, match=message):
            run(shell, line)


def test_failed_request_is_a_short_usage_error_with_the_cause(shell: InteractiveShell) -> None:
    use_mock(shell)  # no handler: the Mock engine refuses the request
    with pytest.raises(UsageError) as caught:
        run(shell, "%kclient GET http://mock.test/")
    assert "UnhandledRequestError" in str(caught.value)
    assert isinstance(caught.value.__cause__, kclient.KClientError)


# -- display and masking ----------------------------------------------------------------------


def test_every_display_path_masks_secrets(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    def secret_echo(request: Request) -> Any:
        return respond(
            {"ok": True},
            headers={"Set-Cookie": f"session={SECRET}; Path=/", "X-Api-Key": SECRET},
        )

    use_mock(shell, secret_echo)
    cell = f"%kclient GET http://mock.test/x?token={SECRET} Authorization:'Bearer {SECRET}' Cookie:'a={SECRET}'"
    response = run(shell, cell)
    for shown in (bundle(shell, response), bundle(shell, run(shell, "%kclient history"))):
        for text in shown.values():
            assert SECRET not in text
    capsys.readouterr()
    verbose = run(shell, cell.replace("%kclient ", "%kclient -v "))
    shown_verbose = capsys.readouterr().out
    assert "GET http://mock.test/x?token=***" in shown_verbose  # the request side is shown too
    assert SECRET not in shown_verbose
    assert verbose.response.status == 200  # _ and << var still get the response


def test_a_100_mib_body_is_shown_in_part(shell: InteractiveShell) -> None:
    big = b"x" * (100 << 20)
    use_mock(shell, lambda r: respond(big, headers={"Content-Type": "text/plain"}))
    response = run(shell, "%kclient GET http://mock.test/big")
    shown = bundle(shell, response)
    assert "showing first 64 KiB of 100 MiB" in shown["text/plain"]
    assert all(len(text) < 300_000 for text in shown.values())


# -- inside a running loop, as ipykernel runs cells -------------------------------------------

#: Runs in a fresh interpreter: making the loop reentrant (nest-asyncio2) patches asyncio for
#: the whole process, as it does in a kernel, which must not leak into the other tests.
IN_LOOP = """
import asyncio, json, sys
from IPython.core.interactiveshell import InteractiveShell

base = sys.argv[1]

async def cell(ip, code):
    result = await ip.run_cell_async(code, store_history=False, transformed_cell=ip.transform_cell(code))
    result.raise_error()
    return result.result

async def main():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "kclient")
    first = await cell(ip, f"%kclient GET {base}/get")
    magics = ip.magics_manager.registry["KClientMagics"]
    ip.user_ns["kc"] = magics.kernel.get()
    again = await cell(ip, f"await kc.get('{base}/get')")
    several = await cell(ip, f"%%kclient\\nGET {base}/get\\n###\\nGET {base}/uuid\\n")
    status = ip.user_ns["kc"].status()
    for client in magics.kernel.close_all():
        await client.join()
    print(json.dumps({
        "first": first.status, "again": again.status, "several": [r.status for r in several],
        "completed": status.completed,  # the magics and the await went through one client
    }))

asyncio.run(main())
"""


def test_magics_inside_the_running_kernel_loop_share_the_client(httpbin: Any, tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "in_loop.py"
    script.write_text(IN_LOOP)
    done = subprocess.run(
        [sys.executable, "-W", "error::ResourceWarning", str(script), httpbin.url],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"first": 200, "again": 200, "several": [200, 200], "completed": 4}


def test_widget_subcommand_shows_the_workbench_on_the_kernel_client(shell: InteractiveShell) -> None:
    use_mock(shell, echo)
    workbench = run(shell, "%kclient widget")
    assert workbench.client is magics(shell).kernel.get()
    assert workbench.panel.badge.value.count("ACTIVE") >= 1
    use_mock(shell, echo)  # %kclient use: the workbench follows the new kernel client
    assert workbench.client is magics(shell).kernel.get()
    assert workbench.panel.client is workbench.client
    workbench.close()


def test_review_cases_secrets_in_errors_non_json_extract_dead_client_and_dash_items(shell: InteractiveShell) -> None:
    engine = use_mock(shell, echo)
    for line in (
        f"%kclient GET 'http://u:pw-{SECRET}@e.test:99999/?token={SECRET}'",
        f"%kclient curl 'curl http://u:{SECRET}@[bad/?token={SECRET}'",
        f"%kclient curl 'curl http://e.test/ -H \"Authorization Bearer {SECRET}\"'",
    ):
        with pytest.raises(UsageError) as caught:
            run(shell, line)
        assert SECRET not in str(caught.value)
    use_mock(shell, lambda r: respond("<p>not json</p>", headers={"Content-Type": "text/html"}))
    with pytest.raises(UsageError, match="-e a: "):
        run(shell, "%kclient GET http://mock.test/ -e a")
    shell.user_ns["t_dead"] = closed = HttpClient(Mock(echo))
    closed.close()
    kernel = magics(shell).kernel.get()
    with pytest.raises(UsageError, match="must be ACTIVE"):
        run(shell, "%kclient use t_dead")
    assert magics(shell).kernel.get() is kernel and kernel.state.name == "ACTIVE"
    engine = use_mock(shell, echo)
    run(shell, "%kclient GET http://mock.test/x -sort==name")
    assert engine.request_history[-1].url.query["-sort"] == "name"
    kclient.run(closed.join())


def test_mask_credentials_masks_secret_query_values_in_free_text() -> None:
    from kclient._redact import mask_credentials

    text = f"Invalid URL 'http://a:b@[bad/?token={SECRET}&page=2&api_key={SECRET}'"
    masked = mask_credentials(text)
    assert SECRET not in masked
    assert "page=2" in masked and "token=***" in masked


def test_verbose_cell_captures_responses_and_curl_cell_returns_nothing(shell: InteractiveShell) -> None:
    engine = use_mock(shell, echo)
    run(shell, "%%kclient -v << t_pair\nGET http://mock.test/a\n###\nGET http://mock.test/b\n")
    assert [type(item) for item in shell.user_ns["t_pair"]] == [Response, Response]
    assert run(shell, "%%kclient --curl\nGET http://mock.test/a\n###\nGET http://mock.test/b\n") is None
    assert len(engine.request_history) == 2
