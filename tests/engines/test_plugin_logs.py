"""Logging on every engine against httpbin: what each level logs, secrets in no record, redirects and streams."""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from kclient import ConnectError, Engine, HttpClient
from kclient.plugins.logs import Logging

from .faults import FaultServer
from .support import HANG_GUARD, Site, chunked_body, require

pytestmark = pytest.mark.anyio

MakeClient = Callable[..., HttpClient]

#: The logger the plugin writes to in these tests.
LOGGER = "tests.kclient.logs"

#: Loggers of the test servers, which log what they received (the query string included).
SERVER_LOGGERS = ("werkzeug",)

TOKEN, COOKIE, PASSWORD, SESSION, QUERY_TOKEN, SET_COOKIE = (
    "s3cr3t-bearer",
    "c00kie-v4lue",
    "hunter22pw",
    "x-s3ssion-v",
    "q-t0ken-v",
    "set-c00kie-v",
)
#: Every secret the tests send, with the Basic credentials an engine may derive from ``user:pass@``.
SECRETS = (
    TOKEN,
    COOKIE,
    PASSWORD,
    SESSION,
    QUERY_TOKEN,
    SET_COOKIE,
    base64.b64encode(f"user:{PASSWORD}".encode()).decode(),
)


def logging_client(make_client: MakeClient, level: str, **options: Any) -> HttpClient:
    return make_client(lambda c: c.install(Logging, level=level, logger=LOGGER, **options))


def plugin_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in plugin_records(caplog)]


def lower_lines(message: str) -> list[str]:
    """The lines of a record in lower case: engines differ in the case of header names (h11 lowers them)."""
    return message.lower().splitlines()


def plugin_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER]


def client_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Every record but the test servers': the plugin's, the engines' and their libraries'."""
    return [record for record in caplog.records if record.name.partition(".")[0] not in SERVER_LOGGERS]


def assert_no_secret_in(records: list[logging.LogRecord]) -> None:
    """No record shows a secret, formatted or in its args."""
    assert any(r.name == LOGGER for r in records), "the plugin logged nothing"
    for record in records:
        texts = [record.getMessage(), str(record.msg), *(repr(arg) for arg in _args(record))]
        for secret in SECRETS:
            for text in texts:
                assert secret not in text, f"{secret!r} logged by {record.name}: {text}"


def _args(record: logging.LogRecord) -> tuple[Any, ...]:
    args = record.args
    if args is None:
        return ()
    return tuple(args.values()) if isinstance(args, dict) else tuple(args)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- levels -----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["INFO", "HEADERS", "BODY", "ALL"])
async def test_each_level_logs_what_it_promises(
    make_client: MakeClient, httpbin: Any, caplog: pytest.LogCaptureFixture, level: str
) -> None:
    caplog.set_level(logging.INFO)
    client = logging_client(make_client, level)
    url = httpbin.url + "/anything/levels?q=1"
    with anyio.fail_after(HANG_GUARD):
        response = await client.post(url, json={"greeting": "hello"}, headers={"X-Trace": "trace-42"})
    assert response.status == 200
    sent, received = plugin_messages(caplog)
    sent_lines, received_lines = sent.splitlines(), received.splitlines()
    assert sent_lines[0] == f"--> POST {url}"
    assert received_lines[0].startswith(f"<-- 200 OK POST {url} (")
    assert received_lines[0].endswith(" ms)")
    headers = level in ("HEADERS", "ALL")
    bodies = level in ("BODY", "ALL")
    assert ("x-trace: trace-42" in lower_lines(sent)) is headers
    assert ("content-type: application/json" in lower_lines(received)) is headers
    assert ('{"greeting":"hello"}' in sent_lines) is bodies
    assert any(line.startswith("body: ") and "(application/json)" in line for line in sent_lines) is bodies
    assert any(line.startswith("body: ") for line in received_lines) is bodies
    echoed = any('"method": "POST"' in line for line in received_lines)  # httpbin's echo, read by request()
    assert echoed is bodies
    if level == "INFO":
        assert sent_lines == [f"--> POST {url}"]
        assert len(received_lines) == 1


async def test_none_logs_nothing(make_client: MakeClient, httpbin: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = logging_client(make_client, "NONE")
    with anyio.fail_after(HANG_GUARD):
        assert (await client.get(httpbin.url + "/get")).status == 200
    assert plugin_messages(caplog) == []


# -- secrets ----------------------------------------------------------------------------------


async def send_secrets(client: HttpClient, httpbin: Any) -> None:
    """Three exchanges full of secrets; httpbin echoes each request (headers, query, URL) in its body.

    URL credentials and an Authorization header go in separate requests: aiohttp refuses both at once.
    """
    authority = httpbin.url.replace("http://", f"http://user:{PASSWORD}@")
    with anyio.fail_after(HANG_GUARD):
        in_url = await client.get(authority + "/anything/url", params={"token": QUERY_TOKEN, "q": "plain"})
        in_headers = await client.get(
            httpbin.url + "/anything/headers",
            headers={"Authorization": f"Bearer {TOKEN}", "Cookie": f"c={COOKIE}", "X-Session": SESSION},
        )
        set_cookie = await client.get(
            httpbin.url + "/cookies/set", params={"token": SET_COOKIE}, follow_redirects=False
        )
    # the secrets were really sent and received
    assert in_url.json()["args"]["token"] == QUERY_TOKEN
    assert in_headers.json()["headers"]["X-Session"] == SESSION
    assert SET_COOKIE in set_cookie.headers["Set-Cookie"]


@pytest.mark.parametrize("level", ["INFO", "HEADERS", "BODY", "ALL"])
async def test_secrets_are_in_no_record_of_the_plugin(
    make_client: MakeClient, httpbin: Any, caplog: pytest.LogCaptureFixture, level: str
) -> None:
    caplog.set_level(logging.INFO)
    await send_secrets(logging_client(make_client, level, masked_headers=["X-Session"]), httpbin)
    messages = plugin_messages(caplog)
    assert len(messages) == 6
    host = httpbin.url.removeprefix("http://")
    assert messages[0].startswith(f"--> GET http://user:***@{host}/anything/url?token=***&q=plain")
    assert messages[4].startswith(f"--> GET http://{host}/cookies/set?token=***")
    if level in ("HEADERS", "ALL"):
        assert {"authorization: ***", "cookie: ***", "x-session: ***"} <= set(lower_lines(messages[2]))
        assert "set-cookie: ***" in lower_lines(messages[5])
    if level in ("BODY", "ALL"):
        assert '"X-Session": "***"' in messages[3]  # httpbin's echo, masked
        assert '"token": "***"' in messages[1]
    assert_no_secret_in(plugin_records(caplog))


async def test_secrets_are_in_no_record_of_the_client(
    make_client: MakeClient, httpbin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The plugin's records and those of the engines and their libraries: a user who turns on
    INFO logging gets them all."""
    caplog.set_level(logging.INFO)
    await send_secrets(logging_client(make_client, "ALL", masked_headers=["X-Session"]), httpbin)
    assert_no_secret_in(client_records(caplog))


async def test_a_followed_set_cookie_redirect_logs_both_hops_without_the_cookie(
    make_client: MakeClient, httpbin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = logging_client(make_client, "ALL")
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/cookies/set", params={"token": SET_COOKIE})
    assert response.status == 200
    messages = plugin_messages(caplog)
    assert [m.splitlines()[0].split(" (")[0] for m in messages] == [
        f"--> GET {httpbin.url}/cookies/set?token=***",
        f"<-- 302 FOUND GET {httpbin.url}/cookies/set?token=***",
        f"--> GET {httpbin.url}/cookies",
        f"<-- 200 OK GET {httpbin.url}/cookies",
    ]
    assert "set-cookie: ***" in lower_lines(messages[1])
    assert_no_secret_in(plugin_records(caplog))


async def test_a_failed_exchange_is_one_warning_without_secrets(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = logging_client(make_client, "ALL")
    url = f"http://user:{PASSWORD}@127.0.0.1:{closed_port()}/nowhere?token={QUERY_TOKEN}"
    with anyio.fail_after(HANG_GUARD), pytest.raises(ConnectError):
        await client.get(url, headers={"Cookie": f"c={COOKIE}", "X-Api-Key": TOKEN})
    records = plugin_records(caplog)
    assert [r.levelno for r in records] == [logging.INFO, logging.WARNING]
    warning = records[1].getMessage()
    assert warning.startswith("<-- GET http://user:***@127.0.0.1:")
    assert "/nowhere?token=*** failed after " in warning
    assert ": ConnectError" in warning
    assert records[1].exc_info is None
    assert_no_secret_in(client_records(caplog))


# -- hops and bodies --------------------------------------------------------------------------


async def test_a_redirect_logs_both_hops(
    make_client: MakeClient, httpbin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = logging_client(make_client, "INFO")
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/redirect-to", params={"url": "/get?hop=2"})
    assert response.status == 200
    messages = plugin_messages(caplog)
    assert [m.split(" (")[0] for m in messages] == [
        f"--> GET {httpbin.url}/redirect-to?url=/get?hop%3D2",
        f"<-- 302 FOUND GET {httpbin.url}/redirect-to?url=/get?hop%3D2",
        f"--> GET {httpbin.url}/get?hop=2",
        f"<-- 200 OK GET {httpbin.url}/get?hop=2",
    ]


async def test_a_binary_body_is_described(
    make_client: MakeClient, httpbin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = logging_client(make_client, "BODY")
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/bytes/2048")
    assert len(response.content) == 2048
    received = plugin_messages(caplog)[1].splitlines()
    assert received[1:] == ["body: 2048 bytes (application/octet-stream), binary, not logged"]


async def test_a_long_text_body_is_cut_with_its_size(
    make_client: MakeClient, httpbin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = logging_client(make_client, "BODY", body_limit=16)
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/get")
    received = plugin_messages(caplog)[1].splitlines()
    assert received[1] == f"body: {len(response.content)} bytes (application/json), first 16 bytes shown"
    assert received[2:] == [*response.text[:16].splitlines(), "…"]


async def test_streamed_bodies_are_described_not_consumed(
    make_client: MakeClient,
    engine: type[Engine],
    nginx: Site,
    fault_server: FaultServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    require(engine, "streaming")
    caplog.set_level(logging.INFO)
    client = logging_client(make_client, "ALL")
    big = nginx.files["1MiB"]  # engines may hand over a small body already read; a megabyte is streamed
    with anyio.fail_after(HANG_GUARD):
        uploaded = await client.post(  # the fault server reads chunked uploads (werkzeug does not)
            fault_server.url + "/echo",
            content=chunked_body([b"part one, ", b"part two"]),
            headers={"Content-Type": "text/plain"},
        )
        async with client.stream("GET", nginx.url + big.path) as response:
            streamed_log = plugin_messages(caplog)[-1]
            body = await response.aread()
    assert uploaded.json()["body"] == "part one, part two"  # the logger left the upload to the engine
    assert len(body) == big.size  # and the download to the caller
    sent = plugin_messages(caplog)[0].splitlines()
    assert sent[-1] == "body: streamed, not logged (text/plain)"
    assert streamed_log.splitlines()[0].startswith(f"<-- 200 OK GET {nginx.url}{big.path} (")
    assert streamed_log.splitlines()[-1] == "body: streamed, not logged (application/octet-stream)"
