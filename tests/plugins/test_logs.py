"""Logging's formatting, table-driven without a network, and the plugin on the Mock engine."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from multidict import CIMultiDict
from yarl import URL

from kclient import ConfigError, ConnectError, HttpClient, Mock, Request, RequestTimeout, Response, respond
from kclient.plugins.logs import (
    Logging,
    LoggingConfig,
    LogLevel,
    describe_body,
    format_failure,
    format_request,
    format_response,
    is_text_type,
    mask_headers,
    mask_log_url,
    scrub,
    secret_values,
)

SECRETS = ("s3cr3t-token", "hunter22pw", "cookie-v4lue", "x-s3ssion", "q-t0ken-v", "sid-v4lue")


def make_request(
    url: str = "http://127.0.0.1:8000/path",
    method: str = "GET",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    content: bytes | AsyncIterator[bytes] = b"",
) -> Request:
    return Request(method, URL(url), CIMultiDict(headers or {}), content)


def make_response(
    request: Request,
    status: int = 200,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    content: bytes = b"",
) -> Response:
    return Response(status, request=request, headers=CIMultiDict(headers or {}), content=content)


class UnreadStream:
    """A response stream that records whether anyone iterated it."""

    def __init__(self) -> None:
        self.iterated = False
        self.closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        self.iterated = True
        raise AssertionError("the logger consumed a streamed body")

    async def aclose(self) -> None:
        self.closed = True


# -- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (LogLevel.BODY, LogLevel.BODY),
        ("info", LogLevel.INFO),
        ("HEADERS", LogLevel.HEADERS),
        (" All ", LogLevel.ALL),
        ("none", LogLevel.NONE),
    ],
)
def test_level_takes_the_enum_or_its_name(given: Any, expected: LogLevel) -> None:
    plugin = Logging.create(level=given)
    assert isinstance(plugin.config, LoggingConfig)
    assert plugin.config.level is expected


@pytest.mark.parametrize("given", ["verbose", "", 20, None, logging.INFO])
def test_a_bad_level_names_the_allowed_ones(given: Any) -> None:
    with pytest.raises(ConfigError, match=r"level .*NONE, INFO, HEADERS, BODY, ALL"):
        Logging.create(level=given)


def test_default_config_is_headers_to_the_kclient_logger() -> None:
    plugin = Logging.create()
    assert isinstance(plugin, Logging)
    assert plugin.config.level is LogLevel.HEADERS
    assert plugin.logger is logging.getLogger("kclient")
    assert plugin.config.body_limit == 4096


def test_logger_by_name_or_instance() -> None:
    by_name = Logging.create(logger="my.app.http")
    assert isinstance(by_name, Logging)
    assert by_name.logger is logging.getLogger("my.app.http")
    mine = logging.getLogger("tests.logs.mine")
    by_instance = Logging.create(logger=mine)
    assert isinstance(by_instance, Logging)
    assert by_instance.logger is mine
    adapter = logging.LoggerAdapter(mine, {"request_id": 1})
    by_adapter = Logging.create(logger=adapter)
    assert isinstance(by_adapter, Logging)
    assert by_adapter.logger is adapter


@pytest.mark.parametrize("given", [42, "", "   ", object(), print])
def test_a_bad_logger_says_what_is_allowed(given: Any) -> None:
    with pytest.raises(ConfigError, match=r"logger .*logger name"):
        Logging.create(logger=given)


@pytest.mark.parametrize(
    ("option", "given", "expected"),
    [
        ("masked_headers", "X-Session", frozenset({"x-session"})),
        ("masked_headers", ["X-One", "x-TWO"], frozenset({"x-one", "x-two"})),
        ("masked_headers", ("X-One",), frozenset({"x-one"})),
        ("masked_headers", [], frozenset()),
        ("masked_query_params", "Session", frozenset({"session"})),
        ("masked_query_params", {"code", "state"}, frozenset({"code", "state"})),
    ],
)
def test_name_lists_are_lower_cased_sets(option: str, given: Any, expected: frozenset[str]) -> None:
    plugin = Logging.create(**{option: given})
    assert getattr(plugin.config, option) == expected


@pytest.mark.parametrize(
    ("option", "given", "message"),
    [
        ("masked_headers", "Bad Name", "not a valid header name"),
        ("masked_headers", ["X-Ok", "X:No"], "not a valid header name"),
        # what kclient._syntax.is_token refuses: control characters and non-ASCII letters
        ("masked_headers", "X\x01Session", "not a valid header name"),
        ("masked_headers", "X-Séssion", "not a valid header name"),
        ("masked_headers", 3, "header name"),
        ("masked_headers", [""], "non-empty"),
        ("masked_query_params", 7, "query parameter name"),
        ("masked_query_params", [None], "non-empty"),
        ("body_limit", -1, "between 0 and"),
        ("body_limit", 1 << 30, "between 0 and"),
        ("body_limit", "4k", "integer"),
    ],
)
def test_bad_options_are_refused_with_what_is_allowed(option: str, given: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Logging.create(**{option: given})


def test_a_misspelt_option_gets_the_nearest_one() -> None:
    with pytest.raises(ConfigError, match="Did you mean masked_headers"):
        Logging.create(masked_header=["X-Session"])


@pytest.mark.parametrize(
    ("level", "intercepts"),
    [("NONE", False), ("INFO", True), ("HEADERS", True), ("BODY", True), ("ALL", True)],
)
def test_the_plugin_leaves_the_chain_at_none(level: str, intercepts: bool) -> None:
    assert Logging.create(level=level).intercepts_send() is intercepts


def test_send_order_is_logging() -> None:
    from kclient import SendOrder

    assert Logging.send_order == SendOrder.LOGGING
    assert Logging.name == "Logging"


# -- masking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "names", "expected"),
    [
        ("http://h.test/a?q=1", (), "http://h.test/a?q=1"),
        ("http://user:hunter22pw@h.test/a", (), "http://user:***@h.test/a"),
        ("http://h.test/a?token=abc&q=1", (), "http://h.test/a?token=***&q=1"),
        ("http://h.test/a?API_KEY=abc", (), "http://h.test/a?API_KEY=***"),
        ("http://h.test/a?session=abc&code=x", ("Session",), "http://h.test/a?session=***&code=x"),
        ("http://h.test/a?x=1&x=2", ("x",), "http://h.test/a?x=***&x=***"),
        ("http://h.test/a?access_token=abc", ("session",), "http://h.test/a?access_token=***"),
        ("https://u@h.test:8443/p#frag", (), "https://u@h.test:8443/p#frag"),
    ],
)
def test_mask_log_url(url: str, names: tuple[str, ...], expected: str) -> None:
    assert mask_log_url(URL(url), names) == expected


@pytest.mark.parametrize(
    ("headers", "names", "expected"),
    [
        ([("Accept", "*/*")], (), [("Accept", "*/*")]),
        ([("Authorization", "Bearer x")], (), [("Authorization", "***")]),
        ([("authorization", "Bearer x")], (), [("authorization", "***")]),
        (
            [("Cookie", "a=b"), ("Proxy-Authorization", "Basic x")],
            (),
            [("Cookie", "***"), ("Proxy-Authorization", "***")],
        ),
        ([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], (), [("Set-Cookie", "***"), ("Set-Cookie", "***")]),
        ([("X-Api-Key", "k"), ("X-Auth-Token", "t")], (), [("X-Api-Key", "***"), ("X-Auth-Token", "***")]),
        ([("X-Session", "v"), ("X-Other", "w")], ("x-SESSION",), [("X-Session", "***"), ("X-Other", "w")]),
        # the always-masked headers stay masked whatever names are given
        ([("Authorization", "Bearer x")], ("X-Session",), [("Authorization", "***")]),
        ([("Location", "http://u:pw@h.test/x?token=t&q=1")], (), [("Location", "http://u:***@h.test/x?token=***&q=1")]),
        ([("Location", "/next?code=c")], (), [("Location", "/next?code=c")]),
        ([("Referer", "https://h.test/?secret=s")], (), [("Referer", "https://h.test/?secret=***")]),
    ],
)
def test_mask_headers(headers: list[tuple[str, str]], names: tuple[str, ...], expected: list[tuple[str, str]]) -> None:
    assert mask_headers(CIMultiDict(headers), names) == expected


def test_mask_headers_masks_url_headers_with_the_extra_query_names() -> None:
    shown = mask_headers(CIMultiDict({"Location": "/next?code=c&x=1"}), masked_query_params=("code",))
    assert shown == [("Location", "/next?code=***&x=1")]


@pytest.mark.parametrize(
    ("request_args", "response_headers", "expected"),
    [
        ({"headers": {"Accept": "x"}}, None, ()),
        ({"headers": {"Authorization": "Bearer s3cr3t-token"}}, None, ("Bearer s3cr3t-token", "s3cr3t-token")),
        ({"headers": {"Cookie": "a=cookie-v4lue; b=xy"}}, None, ("a=cookie-v4lue; b=xy", "cookie-v4lue")),
        ({"url": "http://u:hunter22pw@h.test/"}, None, ("dTpodW50ZXIyMnB3", "hunter22pw")),
        ({"url": "http://h.test/?token=q-t0ken-v&q=plain"}, None, ("q-t0ken-v",)),
        ({"url": "http://h.test/?token=a%20b%2Bcd"}, None, ("a%20b%2Bcd", "a+b%2Bcd", "a b+cd")),
        (
            {},
            {"Set-Cookie": "sid=sid-v4lue; Path=/; Domain=h.test"},
            ("sid=sid-v4lue; Path=/; Domain=h.test", "sid-v4lue"),
        ),
        ({"headers": {"Authorization": "abc"}}, None, ()),  # too short to search for
    ],
)
def test_secret_values(
    request_args: dict[str, Any], response_headers: dict[str, str] | None, expected: tuple[str, ...]
) -> None:
    found = secret_values(make_request(**request_args), response_headers=CIMultiDict(response_headers or {}))
    assert sorted(found) == sorted(expected)
    assert [len(s) for s in found] == sorted((len(s) for s in found), reverse=True)


def test_secret_values_of_custom_names() -> None:
    request = make_request(url="http://h.test/?sess=x-s3ssion-q", headers={"X-Session": "x-s3ssion"})
    assert secret_values(request) == ()
    assert set(secret_values(request, ("x-session",), ("SESS",))) == {"x-s3ssion", "x-s3ssion-q"}


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("nothing here", ("s3cr3t",), "nothing here"),
        ('{"Authorization": "Bearer s3cr3t"}', ("Bearer s3cr3t", "s3cr3t"), '{"Authorization": "***"}'),
        ("s3cr3t and s3cr3t", ("s3cr3t",), "*** and ***"),
        ("token=abcd-efgh", ("abcd-efgh", "abcd"), "token=***"),
    ],
)
def test_scrub(text: str, secrets: tuple[str, ...], expected: str) -> None:
    assert scrub(text, secrets) == expected


# -- bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (None, None),
        ("", None),
        ("text/plain", True),
        ("text/html; charset=utf-8", True),
        ("application/json", True),
        ("Application/JSON", True),
        ("application/problem+json", True),
        ("application/atom+xml", True),
        ("application/x-www-form-urlencoded", True),
        ("application/octet-stream", False),
        ("image/png", False),
        ("multipart/form-data; boundary=x", False),
        ("application/vnd.custom; charset=utf-8", True),
    ],
)
def test_is_text_type(content_type: str | None, expected: bool | None) -> None:
    assert is_text_type(content_type) is expected


@pytest.mark.parametrize(
    ("content", "content_type", "limit", "expected"),
    [
        (b"", "text/plain", 4096, ["body: empty"]),
        (b"hello", "text/plain", 4096, ["body: 5 bytes (text/plain)", "hello"]),
        (b"a\nb\n", None, 4096, ["body: 4 bytes", "a", "b"]),
        (b"0123456789", "text/plain", 4, ["body: 10 bytes (text/plain), first 4 bytes shown", "0123", "…"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", 4096, ["body: 10 bytes (image/png), binary, not logged"]),
        (b"\x00\x01\x02\xff", None, 4096, ["body: 4 bytes, binary, not logged"]),
        (b"caf\xe9", "text/plain; charset=latin-1", 4096, ["body: 4 bytes (text/plain; charset=latin-1)", "café"]),
        # a two-byte character cut by the limit is dropped, not shown as garbage
        ("abé".encode(), "text/plain", 3, ["body: 4 bytes (text/plain), first 3 bytes shown", "ab", "…"]),
        (b'{"a": 1}', "application/json", 0, ["body: 8 bytes (application/json), not logged (body_limit is 0)"]),
        (
            b"user=me&password=hunter22pw&Token=t",
            "application/x-www-form-urlencoded",
            4096,
            ["body: 35 bytes (application/x-www-form-urlencoded)", "user=me&password=***&Token=***"],
        ),
    ],
)
def test_describe_body(content: bytes, content_type: str | None, limit: int, expected: list[str]) -> None:
    assert describe_body(content, content_type, body_limit=limit) == expected


def test_describe_body_masks_custom_form_fields_and_secrets() -> None:
    lines = describe_body(
        b"code=abc&echo=Bearer+x&note=s3cr3t-token",
        "application/x-www-form-urlencoded",
        masked_query_params=("CODE",),
        secrets=("s3cr3t-token",),
    )
    assert lines == ["body: 40 bytes (application/x-www-form-urlencoded)", "code=***&echo=Bearer+x&note=***"]


def test_a_long_body_gives_its_total_size() -> None:
    content = b"x" * 10_000
    lines = describe_body(content, "text/plain", body_limit=4096)
    assert lines[0] == "body: 10000 bytes (text/plain), first 4096 bytes shown"
    assert lines[1] == "x" * 4096


# -- requests and responses -------------------------------------------------------------------


def sample_request() -> Request:
    return make_request(
        "http://user:hunter22pw@h.test/a?token=q-t0ken-v&q=1",
        "POST",
        [
            ("Authorization", "Bearer s3cr3t-token"),
            ("Cookie", "c=cookie-v4lue"),
            ("X-Session", "x-s3ssion"),
            ("Content-Type", "application/json"),
        ],
        b'{"echo": "Bearer s3cr3t-token", "n": 1}',
    )


LINE = "--> POST http://user:***@h.test/a?token=***&q=1"
HEADERS = [
    "Authorization: ***",
    "Cookie: ***",
    "X-Session: ***",
    "Content-Type: application/json",
]
BODY = ["body: 39 bytes (application/json)", '{"echo": "***", "n": 1}']


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (LogLevel.NONE, []),
        (LogLevel.INFO, [LINE]),
        (LogLevel.HEADERS, [LINE, *HEADERS]),
        (LogLevel.BODY, [LINE, *BODY]),
        (LogLevel.ALL, [LINE, *HEADERS, *BODY]),
    ],
)
def test_format_request_by_level(level: LogLevel, expected: list[str]) -> None:
    assert format_request(sample_request(), level, masked_headers=("x-session",)) == expected


def sample_response(request: Request) -> Response:
    return make_response(
        request,
        200,
        [
            ("Content-Type", "text/plain"),
            ("Set-Cookie", "sid=sid-v4lue; Path=/"),
            ("Location", "http://u:hunter22pw@h.test/next?token=q-t0ken-v"),
        ],
        b"you sent Bearer s3cr3t-token and cookie-v4lue, your session is sid-v4lue",
    )


STATUS = "<-- 200 OK POST http://user:***@h.test/a?token=***&q=1 (12 ms)"
RESPONSE_HEADERS = ["Content-Type: text/plain", "Set-Cookie: ***", "Location: http://u:***@h.test/next?token=***"]
RESPONSE_BODY = ["body: 72 bytes (text/plain)", "you sent *** and ***, your session is ***"]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (LogLevel.NONE, []),
        (LogLevel.INFO, [STATUS]),
        (LogLevel.HEADERS, [STATUS, *RESPONSE_HEADERS]),
        (LogLevel.BODY, [STATUS, *RESPONSE_BODY]),
        (LogLevel.ALL, [STATUS, *RESPONSE_HEADERS, *RESPONSE_BODY]),
    ],
)
def test_format_response_by_level(level: LogLevel, expected: list[str]) -> None:
    response = sample_response(sample_request())
    assert format_response(response, level, 0.012) == expected


@pytest.mark.parametrize("level", list(LogLevel))
def test_no_secret_in_any_line_at_any_level(level: LogLevel) -> None:
    request = sample_request()
    text = "\n".join(
        format_request(request, level, masked_headers=("X-Session",))
        + format_response(sample_response(request), level, 0.5, masked_headers=("X-Session",))
    )
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0.0004, "(0.4 ms)"), (0.0123, "(12 ms)"), (1.5, "(1500 ms)"), (0.00999, "(10.0 ms)")]
)
def test_elapsed_in_milliseconds(seconds: float, shown: str) -> None:
    line = format_response(make_response(make_request()), LogLevel.INFO, seconds)[0]
    assert line == f"<-- 200 OK GET http://127.0.0.1:8000/path {shown}"


def test_a_status_without_reason() -> None:
    response = Response(599, request=make_request(), reason="", content=b"")
    assert format_response(response, LogLevel.INFO, 0.02) == ["<-- 599 GET http://127.0.0.1:8000/path (20 ms)"]


def test_a_streamed_request_body_is_described_not_consumed() -> None:
    consumed: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        consumed.append(b"x")
        yield b"x"

    chunks = body()
    request = make_request(method="PUT", headers={"Content-Type": "application/octet-stream"}, content=chunks)
    lines = format_request(request, LogLevel.ALL)
    assert lines[-1] == "body: streamed, not logged (application/octet-stream)"
    assert consumed == []
    assert format_request(make_request(method="PUT", content=body()), LogLevel.BODY)[-1] == "body: streamed, not logged"


def test_a_streamed_response_body_is_described_not_consumed() -> None:
    stream = UnreadStream()
    response = Response(200, request=make_request(), headers=CIMultiDict({"Content-Type": "text/plain"}), stream=stream)
    lines = format_response(response, LogLevel.ALL, 0.001)
    assert lines[-1] == "body: streamed, not logged (text/plain)"
    assert not stream.iterated
    assert not response.is_closed


def test_a_closed_unread_response_body() -> None:
    class Closed:
        def __aiter__(self) -> AsyncIterator[bytes]:
            raise AssertionError("not iterated")

        async def aclose(self) -> None:
            pass

    response = Response(200, request=make_request(), stream=Closed())
    response._closed = True  # closed by someone before it was read
    assert format_response(response, LogLevel.BODY, 0.001)[-1] == "body: not read"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ConnectError("Cannot connect to http://user:hunter22pw@h.test/a"),
            "<-- GET http://user:***@h.test/a?token=*** failed after 3.0 ms: ConnectError: "
            "Cannot connect to http://***@h.test/a",
        ),
        (
            ValueError("server said: Bearer s3cr3t-token is wrong, token q-t0ken-v"),
            "<-- GET http://user:***@h.test/a?token=*** failed after 3.0 ms: ValueError: server said: *** is wrong, "
            "token ***",
        ),
        (TimeoutError(), "<-- GET http://user:***@h.test/a?token=*** failed after 3.0 ms: TimeoutError"),
    ],
)
def test_format_failure(error: BaseException, expected: str) -> None:
    request = make_request(
        "http://user:hunter22pw@h.test/a?token=q-t0ken-v", headers={"Authorization": "Bearer s3cr3t-token"}
    )
    assert format_failure(request, error, 0.003) == expected


# -- the plugin, on the Mock engine -----------------------------------------------------------


def records_of(caplog: pytest.LogCaptureFixture, name: str = "kclient") -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


@pytest.mark.anyio
async def test_none_logs_nothing_and_is_not_in_the_chain(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="kclient")
    mock = Mock(lambda r: respond("ok"))
    async with HttpClient(mock, lambda c: c.install(Logging, level="NONE")) as client:
        assert (await client.get("http://h.test/")).text == "ok"
    assert records_of(caplog) == []


@pytest.mark.anyio
async def test_one_record_for_the_request_and_one_for_the_response(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kclient")
    mock = Mock(lambda r: respond("pong"))
    async with HttpClient(mock, lambda c: c.install(Logging, level="INFO")) as client:
        await client.post("http://h.test/ping", content=b"ping")
    records = records_of(caplog)
    assert [r.levelno for r in records] == [logging.INFO, logging.INFO]
    assert records[0].getMessage() == "--> POST http://h.test/ping"
    assert records[1].getMessage().startswith("<-- 200 OK POST http://h.test/ping (")


@pytest.mark.anyio
async def test_a_logger_that_is_off_gets_no_record(caplog: pytest.LogCaptureFixture) -> None:
    quiet = logging.getLogger("tests.logs.quiet")
    quiet.setLevel(logging.ERROR)
    mock = Mock(lambda r: respond("ok"))
    async with HttpClient(mock, lambda c: c.install(Logging, level="ALL", logger=quiet)) as client:
        await client.get("http://h.test/")
    assert records_of(caplog, "tests.logs.quiet") == []


@pytest.mark.anyio
async def test_a_failure_is_a_warning_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kclient")

    def refuse(request: Request) -> Response:
        raise ConnectError(f"refused {request.headers['Authorization']} at {request.url}")

    async with HttpClient(Mock(refuse), lambda c: c.install(Logging, level="ALL")) as client:
        with pytest.raises(ConnectError):
            await client.get("http://u:hunter22pw@h.test/", headers={"Authorization": "Bearer s3cr3t-token"})
    warning = records_of(caplog)[-1]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage().startswith("<-- GET http://u:***@h.test/ failed after ")
    assert "ConnectError: refused *** at http://***@h.test/" in warning.getMessage()
    for record in records_of(caplog):
        assert "s3cr3t-token" not in record.getMessage()
        assert "hunter22pw" not in record.getMessage()
        assert record.exc_info is None


@pytest.mark.anyio
async def test_a_response_in_stream_is_not_read_by_the_logger(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kclient")
    mock = Mock(lambda r: respond("streamed body"))
    async with HttpClient(mock, lambda c: c.install(Logging, level="ALL")) as client:
        async with client.stream("GET", "http://h.test/s") as response:
            assert not response.is_closed
            logged = records_of(caplog)[-1].getMessage()
            assert await response.aread() == b"streamed body"
    assert logged.endswith("body: streamed, not logged (text/plain; charset=utf-8)")
    assert "streamed body" not in logged


@pytest.mark.anyio
async def test_a_request_timeout_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kclient")

    async def hang(request: Request) -> Any:
        await anyio.sleep(30)

    async with HttpClient(Mock(hang), lambda c: c.install(Logging, level="INFO")) as client:
        with anyio.fail_after(10), pytest.raises(RequestTimeout):
            await client.get("http://h.test/slow", timeout=0.05)
    records = records_of(caplog)
    assert [r.levelno for r in records] == [logging.INFO, logging.WARNING]
    assert records[1].getMessage().startswith("<-- GET http://h.test/slow failed after ")
    assert "RequestTimeout: GET http://h.test/slow took longer than the request timeout" in records[1].getMessage()


@pytest.mark.anyio
async def test_a_stream_cancelled_from_outside_is_logged_as_interrupted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kclient")

    async def hang(request: Request) -> Any:
        await anyio.sleep(30)

    async with HttpClient(Mock(hang), lambda c: c.install(Logging, level="INFO")) as client:
        with anyio.fail_after(10), pytest.raises(RequestTimeout):
            async with client.stream("GET", "http://h.test/slow?token=t0ken-v", timeout=0.05):
                pass
    records = records_of(caplog)
    assert [r.levelno for r in records] == [logging.INFO, logging.INFO]
    message = records[1].getMessage()
    assert message.startswith("<-- GET http://h.test/slow?token=*** interrupted after ")
    assert message.endswith((" (CancelledError)", " (Cancelled)"))
