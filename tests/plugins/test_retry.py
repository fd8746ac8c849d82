"""HttpRequestRetry's decisions, table-driven without a network or an event loop, and the
plugin on the Mock engine (what the engines cannot show deterministically: delays, notes,
callbacks, cancellation while waiting)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, cast

import anyio
import pytest

from kclient import (
    ClientCancelledError,
    ConfigError,
    ConnectError,
    ConnectTimeout,
    HttpClient,
    HttpClientConfig,
    InvalidRequestError,
    KClientError,
    Mock,
    MockAnswer,
    ProtocolError,
    ProxyError,
    ReadError,
    Request,
    RequestTimeout,
    Response,
    ServerResponseError,
    SocketTimeout,
    TLSError,
    UnhandledRequestError,
    WriteError,
    respond,
)
from kclient.plugins import retry as retry_module
from kclient.plugins.retry import (
    HttpRequestRetry,
    HttpRequestRetryConfig,
    config_for_option,
    parse_retry_after,
    retry_delay,
    should_retry_exception,
    should_retry_response,
)

DEFAULTS = HttpRequestRetryConfig()
#: A fixed "now" for Retry-After dates: 2024-06-01 12:00:00 UTC.
NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC).timestamp()


def config(**options: Any) -> HttpRequestRetryConfig:
    return cast(HttpRequestRetryConfig, HttpRequestRetry.create(**options).config)


def http_date(seconds_after_now: float) -> str:
    return format_datetime(datetime.fromtimestamp(NOW + seconds_after_now, tz=UTC), usegmt=True)


# -- the config -------------------------------------------------------------------------------


def test_defaults() -> None:
    assert DEFAULTS.max_retries == 3
    assert DEFAULTS.retry_on_server_errors and DEFAULTS.retry_on_exceptions and DEFAULTS.respect_retry_after
    assert not DEFAULTS.retry_non_idempotent
    assert (DEFAULTS.base_delay, DEFAULTS.max_delay, DEFAULTS.jitter) == (0.5, 30.0, 0.1)
    assert DEFAULTS.modify_request is None and DEFAULTS.retry_if is None
    plugin = HttpRequestRetry.create()
    assert plugin.name == "HttpRequestRetry"
    assert plugin.request_options == frozenset({"retry"})
    assert plugin.intercepts_send() and not plugin.prepares_request()


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_retries": 101}, "max_retries .* between 0 and 100"),
        ({"max_retries": -1}, "max_retries .* between 0 and 100"),
        ({"max_retries": 2.5}, "max_retries .* an integer"),
        ({"max_retrys": 2}, "Did you mean max_retries"),
        ({"jitter": 1.5}, r"jitter .* between 0.0 and 1.0"),
        ({"base_delay": -0.1}, "base_delay"),
        ({"max_delay": "30"}, "max_delay .* a number"),
        ({"retry_non_idempotent": "yes"}, "retry_non_idempotent .* True or False"),
        ({"modify_request": "add a header"}, "modify_request .* a function"),
        ({"retry_if": 3}, "retry_if .* a function"),
    ],
)
def test_invalid_config_is_refused(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        HttpRequestRetry.create(**options)


# -- which responses and exceptions are retried -----------------------------------------------


@pytest.mark.parametrize(
    ("method", "status", "options", "expected"),
    [
        ("GET", 503, {}, True),
        ("GET", 500, {}, True),
        ("GET", 599, {}, True),
        ("GET", 429, {}, True),
        ("HEAD", 502, {}, True),
        ("PUT", 504, {}, True),
        ("DELETE", 500, {}, True),
        ("OPTIONS", 503, {}, True),
        ("GET", 200, {}, False),
        ("GET", 304, {}, False),
        ("GET", 404, {}, False),
        ("GET", 428, {}, False),
        ("GET", 600, {}, False),
        ("POST", 503, {}, False),
        ("PATCH", 429, {}, False),
        ("POST", 503, {"retry_non_idempotent": True}, True),
        ("PATCH", 429, {"retry_non_idempotent": True}, True),
        ("POST", 200, {"retry_non_idempotent": True}, False),
        ("GET", 503, {"retry_on_server_errors": False}, False),
        ("GET", 429, {"retry_on_server_errors": False}, False),
    ],
)
def test_should_retry_response(method: str, status: int, options: dict[str, Any], expected: bool) -> None:
    assert should_retry_response(method, status, config(**options)) is expected


@pytest.mark.parametrize(
    ("method", "exc", "options", "expected"),
    [
        ("GET", ConnectError("refused"), {}, True),
        ("GET", ReadError("reset"), {}, True),
        ("GET", WriteError("broken pipe"), {}, True),
        ("GET", ProtocolError("bad status line"), {}, True),
        ("GET", ProxyError("proxy said 502"), {}, True),
        ("GET", RequestTimeout("slow"), {}, True),
        ("GET", ConnectTimeout("slow"), {}, True),
        ("PUT", SocketTimeout("silent"), {}, True),
        ("GET", TLSError("certificate verify failed"), {}, False),
        ("GET", TLSError("certificate verify failed"), {"retry_non_idempotent": True}, False),
        ("GET", ClientCancelledError("cancelled"), {}, False),
        ("GET", asyncio.CancelledError(), {}, False),
        ("GET", InvalidRequestError("bad header"), {}, False),
        ("GET", UnhandledRequestError("no handler"), {}, False),
        ("GET", KClientError("other"), {}, False),
        ("GET", ValueError("a bug"), {}, False),
        ("GET", OSError("not a kclient error"), {}, False),
        ("POST", ReadError("reset"), {}, False),
        ("POST", RequestTimeout("slow"), {}, False),
        ("POST", ReadError("reset"), {"retry_non_idempotent": True}, True),
        ("GET", ReadError("reset"), {"retry_on_exceptions": False}, False),
        ("GET", RequestTimeout("slow"), {"retry_on_exceptions": False}, False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_should_retry_exception(method: str, exc: BaseException, options: dict[str, Any], expected: bool) -> None:
    assert should_retry_exception(method, exc, config(**options)) is expected


# -- Retry-After and the delays ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 5 ", 5.0),
        ("1.5", 1.5),
        (http_date(30), 30.0),
        (http_date(-30), 0.0),
        ("Sat, 01 Jun 2024 12:00:45 GMT", 45.0),
        ("Saturday, 01-Jun-24 12:01:00 GMT", 60.0),  # RFC 850
        ("Sat Jun  1 12:00:10 2024", 10.0),  # asctime
        ("", None),
        ("   ", None),
        ("-1", None),
        ("1e3", None),
        ("inf", None),
        ("nan", None),
        ("soon", None),
        ("12 seconds", None),
        ("\uff11\uff12", None),  # full-width digits
        ("Sat, 32 Jun 2024 12:00:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("attempt", "options", "retry_after", "random_value", "expected"),
    [
        # exponential: base_delay * 2 ** (attempt - 1)
        (1, {"jitter": 0}, None, 0.5, 0.5),
        (2, {"jitter": 0}, None, 0.5, 1.0),
        (3, {"jitter": 0}, None, 0.5, 2.0),
        (4, {"jitter": 0}, None, 0.5, 4.0),
        (2, {"jitter": 0, "base_delay": 0.01}, None, 0.0, 0.02),
        (1, {"jitter": 0, "base_delay": 0}, None, 0.0, 0.0),
        # capped at max_delay
        (4, {"jitter": 0, "max_delay": 3}, None, 0.0, 3.0),
        (100, {"jitter": 0}, None, 0.0, 30.0),
        (100_000, {"jitter": 0}, None, 0.0, 30.0),
        (1, {"jitter": 0, "base_delay": 60}, None, 0.0, 30.0),
        # jitter takes up to its fraction off, as random_value says
        (1, {}, None, 0.0, 0.5),
        (1, {}, None, 0.5, 0.5 * 0.95),
        (3, {"jitter": 0.5}, None, 0.5, 2.0 * 0.75),
        (1, {"jitter": 1.0}, None, 0.25, 0.375),
        (10, {"jitter": 0.2, "max_delay": 10}, None, 0.5, 9.0),
        # Retry-After: waited for when longer, capped at max_delay
        (1, {"jitter": 0}, "10", 0.0, 10.0),
        (1, {"jitter": 0}, "1", 0.0, 1.0),
        (1, {"jitter": 0}, "0", 0.0, 0.5),
        (4, {"jitter": 0}, "1", 0.0, 4.0),
        (1, {"jitter": 0}, "3600", 0.0, 30.0),
        (1, {"jitter": 0.5}, "2", 0.9, 2.0),
        (1, {"jitter": 0}, http_date(20), 0.0, 20.0),
        (1, {"jitter": 0}, http_date(-20), 0.0, 0.5),
        (1, {"jitter": 0}, "whenever", 0.0, 0.5),
        (1, {"jitter": 0, "respect_retry_after": False}, "10", 0.0, 0.5),
    ],
)
def test_retry_delay(
    attempt: int, options: dict[str, Any], retry_after: str | None, random_value: float, expected: float
) -> None:
    assert retry_delay(attempt, config(**options), retry_after, NOW, random_value) == pytest.approx(expected)


@pytest.mark.parametrize("random_value", [0.0, 0.1, 0.5, 0.999999])
@pytest.mark.parametrize("attempt", [1, 2, 5, 8, 50])
def test_retry_delay_stays_within_its_bounds(attempt: int, random_value: float) -> None:
    settings = config(base_delay=0.2, max_delay=10, jitter=0.3)
    delay = retry_delay(attempt, settings, None, NOW, random_value)
    backoff = min(0.2 * 2 ** (attempt - 1), 10)
    assert backoff * 0.7 <= delay <= backoff <= 10


# -- the per-request retry= option ------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (0, {"max_retries": 0}),
        (1, {"max_retries": 1}),
        (100, {"max_retries": 100}),
        ({}, {}),
        ({"max_retries": 5, "base_delay": 2}, {"max_retries": 5, "base_delay": 2.0}),
        ({"retry_non_idempotent": True}, {"retry_non_idempotent": True}),
        ({"jitter": 0, "respect_retry_after": False}, {"jitter": 0.0, "respect_retry_after": False}),
    ],
)
def test_config_for_option(option: Any, expected: dict[str, Any]) -> None:
    base = config(max_retries=2, base_delay=0.1)
    resolved = config_for_option(option, base)
    for name in ("max_retries", "base_delay", "retry_non_idempotent", "jitter", "respect_retry_after"):
        assert getattr(resolved, name) == expected.get(name, getattr(base, name)), name


def test_config_for_option_none_is_the_plugins_config() -> None:
    base = config(max_retries=2)
    assert config_for_option(None, base) is base


@pytest.mark.parametrize(
    ("option", "error", "match"),
    [
        (True, InvalidRequestError, "retry= is a number of retries .* or a dict"),
        ("3", InvalidRequestError, "not '3'"),
        (2.0, InvalidRequestError, "not 2.0"),
        ([1], InvalidRequestError, "retry="),
        (101, ConfigError, "max_retries of request option retry must be between 0 and 100, not 101"),
        (-1, ConfigError, "between 0 and 100"),
        ({"max_retrys": 1}, ConfigError, "request option retry.*Did you mean max_retries"),
        ({"jitter": 2}, ConfigError, "jitter of request option retry"),
        ({"retry_if": "always"}, ConfigError, "retry_if"),
    ],
)
def test_config_for_option_refuses(option: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        config_for_option(option, DEFAULTS)


# -- the plugin on the Mock engine ------------------------------------------------------------

URL = "http://mock.test/resource"
FAST = {"base_delay": 0.001, "jitter": 0.0}


def answers(*steps: object) -> Mock:
    """A Mock engine answering with ``steps`` in order (the last repeats): a status, or an exception to raise."""

    def handler_for(step: object) -> Callable[[Request], MockAnswer]:
        def handle(request: Request) -> MockAnswer:
            if isinstance(step, BaseException):
                raise step
            assert isinstance(step, int)
            return respond(f"answer {step}", status=step)

        return handle

    return Mock(*(handler_for(step) for step in steps), reuse_handlers=True)


def retrying(**options: Any) -> Callable[[HttpClientConfig], None]:
    return lambda c: c.install(HttpRequestRetry, **{**FAST, **options})


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the plugin waits, recorded instead of slept."""
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)
        await anyio.sleep(0)

    monkeypatch.setattr(retry_module, "_pause", record)
    return waited


@pytest.mark.anyio
async def test_server_errors_are_retried_with_a_fresh_copy_each_time(delays: list[float]) -> None:
    engine = answers(503, 429, 200)
    async with HttpClient(engine, retrying(base_delay=0.01)) as client:
        response = await client.get(URL, headers={"X-Mine": "1"})
    assert (response.status, response.text) == (200, "answer 200")
    sent = engine.request_history
    assert len(sent) == 3
    assert len({id(request) for request in sent}) == 3
    assert all(request.headers["X-Mine"] == "1" for request in sent)
    assert [r.is_closed for r in engine.response_history] == [True, True, True]
    assert delays == pytest.approx([0.01, 0.02])


@pytest.mark.anyio
async def test_attempts_run_out_and_the_last_response_is_returned(delays: list[float]) -> None:
    engine = answers(500, 502, 503)
    async with HttpClient(engine, retrying(max_retries=2)) as client:
        response = await client.get(URL)
    assert (response.status, response.text) == (503, "answer 503")
    assert len(engine.request_history) == 3
    assert len(delays) == 2


@pytest.mark.anyio
async def test_expect_success_sees_only_the_last_response(delays: list[float]) -> None:
    engine = answers(500, 503)

    def configure(c: HttpClientConfig) -> None:
        retrying(max_retries=1)(c)
        c.expect_success = True

    async with HttpClient(engine, configure) as client:
        with pytest.raises(ServerResponseError) as caught:
            await client.get(URL)
    assert caught.value.status == 503
    assert caught.value.body_excerpt == "answer 503"
    assert len(engine.request_history) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_non_idempotent_methods_only_when_asked(method: str, delays: list[float]) -> None:
    engine = answers(503, 200)
    async with HttpClient(engine, retrying()) as client:
        assert (await client.request(method, URL, content=b"order")).status == 503
    assert len(engine.request_history) == 1
    engine = answers(503, 200)
    async with HttpClient(engine, retrying(retry_non_idempotent=True)) as client:
        assert (await client.request(method, URL, content=b"order")).status == 200
    assert [r.content for r in engine.request_history] == [b"order", b"order"]


@pytest.mark.anyio
async def test_a_streamed_body_is_never_sent_twice(delays: list[float]) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"part"

    engine = answers(503, 200)
    async with HttpClient(engine, retrying(retry_non_idempotent=True)) as client:
        assert (await client.put(URL, content=body())).status == 503
    assert len(engine.request_history) == 1
    assert delays == []


@pytest.mark.anyio
async def test_transport_errors_are_retried(delays: list[float]) -> None:
    engine = answers(ReadError("reset by peer"), RequestTimeout("too slow"), 200)
    async with HttpClient(engine, retrying()) as client:
        assert (await client.get(URL)).status == 200
    assert len(engine.request_history) == 3


@pytest.mark.anyio
async def test_giving_up_raises_the_last_exception_as_it_is_with_a_note(delays: list[float]) -> None:
    errors = []
    for number in range(3):
        error = ReadError(f"reset {number}")
        error.__cause__ = ConnectionResetError(f"native {number}")
        errors.append(error)
    engine = answers(*errors)
    async with HttpClient(engine, retrying(max_retries=2)) as client:
        with pytest.raises(ReadError) as caught:
            await client.get(URL)
    assert caught.value is errors[2]
    assert isinstance(caught.value.__cause__, ConnectionResetError)
    assert str(caught.value.__cause__) == "native 2"
    assert caught.value.__notes__ == ["HttpRequestRetry gave up after 3 attempts."]
    assert errors[0].__traceback__ is not None and not hasattr(errors[0], "__notes__")


@pytest.mark.anyio
@pytest.mark.parametrize("error", [TLSError("certificate verify failed"), InvalidRequestError("bad")])
async def test_errors_that_would_fail_again_are_raised_at_once(error: KClientError, delays: list[float]) -> None:
    engine = answers(error, 200)
    async with HttpClient(engine, retrying()) as client:
        with pytest.raises(type(error)) as caught:
            await client.get(URL)
    assert caught.value is error
    assert not hasattr(error, "__notes__")
    assert len(engine.request_history) == 1


@pytest.mark.anyio
async def test_modify_request_changes_each_retry_and_not_the_original(delays: list[float]) -> None:
    seen: list[tuple[str | None, str]] = []

    def tag(request: Request, attempt: int) -> None:
        request.headers["X-Retry"] = str(attempt)

    def record(request: Request) -> MockAnswer:
        seen.append((request.headers.get("X-Retry"), request.url.path))
        return respond(status=503 if len(seen) < 3 else 200)

    async with HttpClient(Mock(record, reuse_handlers=True), retrying(modify_request=tag)) as client:
        assert (await client.get(URL)).status == 200
    assert seen == [(None, "/resource"), ("1", "/resource"), ("2", "/resource")]


@pytest.mark.anyio
async def test_modify_request_may_return_another_request(delays: list[float]) -> None:
    def to_mirror(request: Request, attempt: int) -> Request:
        return request.copy(url=request.url.with_host("mirror.test"))

    engine = answers(503, 200)
    async with HttpClient(engine, retrying(modify_request=to_mirror)) as client:
        assert (await client.get(URL)).status == 200
    assert [r.url.host for r in engine.request_history] == ["mock.test", "mirror.test"]


@pytest.mark.anyio
async def test_modify_request_returning_something_else_is_an_error(delays: list[float]) -> None:
    engine = answers(503, 200)
    async with HttpClient(engine, retrying(modify_request=lambda request, attempt: "oops")) as client:
        with pytest.raises(TypeError, match="modify_request returns a Request or None, not str"):
            await client.get(URL)
    assert engine.response_history[0].is_closed


@pytest.mark.anyio
async def test_retry_if_replaces_the_default_decision(delays: list[float]) -> None:
    calls: list[tuple[str, int | None, str | None]] = []

    def retry_if(request: Request, response: Response | None, exc: Exception | None) -> bool:
        calls.append((request.method, response.status if response else None, type(exc).__name__ if exc else None))
        if response is not None:
            return response.status == 404 or (response.status == 200 and response.json()["state"] == "pending")
        return isinstance(exc, ValueError)

    engine = Mock(
        lambda r: respond(status=404),
        lambda r: respond({"state": "pending"}),
        lambda r: respond({"state": "done"}),
        lambda r: respond(status=503),
    )
    async with HttpClient(engine, retrying(retry_if=retry_if)) as client:
        first = await client.post(URL)  # a POST: retry_if decides alone
        assert first.json() == {"state": "done"}
        second = await client.get(URL)  # 503, which retry_if does not retry
        assert second.status == 503
    assert calls == [("POST", 404, None), ("POST", 200, None), ("POST", 200, None), ("GET", 503, None)]
    assert len(engine.request_history) == 4


@pytest.mark.anyio
async def test_retry_if_may_be_async_and_sees_exceptions(delays: list[float]) -> None:
    async def retry_if(request: Request, response: Response | None, exc: Exception | None) -> bool:
        await anyio.sleep(0)
        return isinstance(exc, TLSError)  # the default decision would not retry it

    engine = answers(TLSError("handshake"), 200)
    async with HttpClient(engine, retrying(retry_if=retry_if)) as client:
        assert (await client.get(URL)).status == 200
    assert len(engine.request_history) == 2


@pytest.mark.anyio
async def test_a_failing_retry_if_releases_the_response(delays: list[float]) -> None:
    def retry_if(request: Request, response: Response | None, exc: Exception | None) -> bool:
        raise RuntimeError("broken predicate")

    engine = answers(503)
    async with HttpClient(engine, retrying(retry_if=retry_if)) as client:
        with pytest.raises(RuntimeError, match="broken predicate"):
            async with client.stream("GET", URL):
                raise AssertionError("the block is not entered")
        assert client.status().in_flight == 0
    assert engine.response_history[0].is_closed


@pytest.mark.anyio
async def test_retry_after_is_waited_for(delays: list[float]) -> None:
    engine = Mock(
        lambda r: respond(status=429, headers={"Retry-After": "2"}),
        lambda r: respond(status=503, headers={"Retry-After": "600"}),
        lambda r: respond(status=503, headers={"Retry-After": "0"}),
        lambda r: respond(status=200),
    )
    async with HttpClient(engine, retrying(base_delay=0.01, max_delay=5)) as client:
        assert (await client.get(URL)).status == 200
    assert delays == pytest.approx([2.0, 5.0, 0.04])


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("option", "attempts"),
    [(0, 1), (1, 2), ({"max_retries": 2}, 3), ({"retry_on_server_errors": False}, 1)],
)
async def test_the_retry_option_overrides_the_config(option: Any, attempts: int, delays: list[float]) -> None:
    engine = answers(503)
    async with HttpClient(engine, retrying(max_retries=4)) as client:
        assert (await client.get(URL, retry=option)).status == 503
    assert len(engine.request_history) == attempts


@pytest.mark.anyio
async def test_the_retry_option_with_other_request_options(delays: list[float]) -> None:
    engine = answers(503, 200)
    async with HttpClient(engine, retrying()) as client:
        assert (await client.get(URL, follow_redirects=False)).status == 200
    assert len(engine.request_history) == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("option", "error", "match"),
    [
        ("3", InvalidRequestError, "retry= is a number of retries"),
        (500, ConfigError, "max_retries of request option retry"),
        ({"max_retry": 1}, ConfigError, "Did you mean max_retries"),
    ],
)
async def test_an_invalid_retry_option_sends_nothing(option: Any, error: type[Exception], match: str) -> None:
    engine = answers(200)
    async with HttpClient(engine, retrying()) as client:
        with pytest.raises(error, match=match):
            await client.get(URL, retry=option)
    assert engine.request_history == []


@pytest.mark.anyio
async def test_a_stream_gets_the_last_response_and_the_retried_ones_are_closed(delays: list[float]) -> None:
    engine = answers(503, 503, 200)
    async with HttpClient(engine, retrying()) as client:
        async with client.stream("GET", URL) as response:
            assert response.status == 200
            assert not response.is_closed
            assert await response.aread() == b"answer 200"
        assert client.status().in_flight == 0
    assert [r.is_closed for r in engine.response_history] == [True, True, True]


@pytest.mark.anyio
async def test_cancelling_the_client_while_waiting_stops_retrying() -> None:
    sent = anyio.Event()

    def first(request: Request) -> MockAnswer:
        sent.set()
        return respond(status=503)

    engine = Mock(first, lambda r: respond(status=200))
    client = HttpClient(engine, lambda c: c.install(HttpRequestRetry, base_delay=60, jitter=0))
    outcome: list[BaseException] = []

    async def call() -> None:
        try:
            await client.get(URL)
        except ClientCancelledError as exc:
            outcome.append(exc)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(call)
            await sent.wait()
            await anyio.sleep(0.01)  # the plugin is now waiting its 60 seconds
            client.cancel()
        await client.join()
    assert len(outcome) == 1
    assert len(engine.request_history) == 1
    assert engine.response_history[0].is_closed


@pytest.mark.anyio
async def test_the_wait_is_cancellable_from_outside() -> None:
    engine = answers(503, 200)
    async with HttpClient(engine, lambda c: c.install(HttpRequestRetry, base_delay=60, jitter=0)) as client:
        with anyio.move_on_after(0.05) as scope:
            await client.get(URL)
        assert scope.cancelled_caught
        assert client.status().in_flight == 0
    assert len(engine.request_history) == 1
