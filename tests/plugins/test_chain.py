"""The plugin architecture: default plugins, install/uninstall, the send chain's order,
per-request options, on_close; and the small default plugins (UserAgent, DefaultRequest,
HttpCallValidator) on the Mock engine."""

from __future__ import annotations

import pytest

import kclient
from kclient import (
    ClientResponseError,
    ConfigError,
    DefaultRequest,
    HttpCallValidator,
    HttpClient,
    HttpRedirect,
    InvalidRequestError,
    Mock,
    Plugin,
    Request,
    Response,
    SendOrder,
    ServerResponseError,
    UserAgent,
    respond,
)
from kclient.plugins import Send


def echo(request: Request) -> object:
    return respond({"url": str(request.url), "headers": dict(request.headers)})


def echo_client(configure: object = None) -> HttpClient:
    return HttpClient(Mock(echo, reuse_handlers=True), configure)  # type: ignore[arg-type]


# -- defaults, install, uninstall -------------------------------------------------------------


def test_default_plugins_are_listed_in_one_place_and_installed() -> None:
    assert (HttpRedirect, HttpCallValidator, UserAgent) == kclient.DEFAULT_PLUGINS
    client = echo_client()
    assert [type(p) for p in client.plugins] == list(kclient.DEFAULT_PLUGINS)
    assert client.plugin(HttpRedirect).config.max_redirects == 20


def test_installing_a_default_plugin_replaces_its_options_and_uninstall_removes_it() -> None:
    def configure(c: kclient.HttpClientConfig) -> None:
        c.install(HttpRedirect, max_redirects=2)
        c.uninstall(UserAgent)

    client = echo_client(configure)
    assert client.plugin(HttpRedirect).config.max_redirects == 2
    with pytest.raises(ConfigError, match=r"UserAgent is not installed.*c\.install\(UserAgent"):
        client.plugin(UserAgent)


def test_uninstall_takes_a_plugin_class() -> None:
    with pytest.raises(ConfigError, match="plugin class"):
        echo_client(lambda c: c.uninstall("HttpRedirect"))


def test_expect_success_needs_the_validator() -> None:
    def configure(c: kclient.HttpClientConfig) -> None:
        c.uninstall(HttpCallValidator)
        c.expect_success = True

    with pytest.raises(ConfigError, match="HttpCallValidator"):
        echo_client(configure)


# -- the chain's order ------------------------------------------------------------------------


def tracer(label: str, order: int, trace: list[str]) -> type[Plugin]:
    class Tracer(Plugin):
        name = f"Tracer{label}"
        send_order = order

        async def on_send(self, request: Request, proceed: Send) -> Response:
            trace.append(f"{label}>")
            response = await proceed(request)
            trace.append(f"<{label}{'+body' if response.is_closed else ''}")
            return response

    return Tracer


@pytest.mark.anyio
async def test_hooks_run_by_send_order_not_installation_order() -> None:
    trace: list[str] = []
    inner = tracer("progress", SendOrder.PROGRESS, trace)
    outer = tracer("auth", SendOrder.AUTH, trace)
    middle = tracer("logging", SendOrder.LOGGING, trace)

    def configure(c: kclient.HttpClientConfig) -> None:
        for plugin in (inner, outer, middle):
            c.install(plugin)

    async with echo_client(configure) as client:
        await client.get("http://mock.test/")
        # Above READ a response's body is read; below it (PROGRESS) it is still streaming.
        assert trace == ["auth>", "logging>", "progress>", "<progress", "<logging+body", "<auth+body"]
        trace.clear()
        async with client.stream("GET", "http://mock.test/") as response:
            assert not response.is_closed  # client.stream has no READ stage
        assert trace == ["auth>", "logging>", "progress>", "<progress", "<logging", "<auth"]


@pytest.mark.anyio
@pytest.mark.parametrize("order", [SendOrder.VALIDATE, SendOrder.PROGRESS], ids=["above-read", "below-read"])
async def test_a_plugin_out_of_the_chain_still_sees_requests_with_its_options(order: SendOrder) -> None:
    seen: list[str] = []

    class OnlyWithOption(Plugin):
        name = "OnlyWithOption"
        send_order = order
        request_options = frozenset({"on_download"})

        def intercepts_send(self) -> bool:
            return False  # nothing to do for requests without the option

        async def on_send(self, request: Request, proceed: Send) -> Response:
            seen.append(request.url.path)
            return await proceed(request)

    async with echo_client(lambda c: c.install(OnlyWithOption)) as client:
        await client.get("http://mock.test/plain")
        await client.get("http://mock.test/with", on_download=lambda done, total: None)
        async with client.stream("GET", "http://mock.test/plain-stream"):
            pass
        async with client.stream("GET", "http://mock.test/with-stream", on_download=lambda done, total: None):
            pass
    assert seen == ["/with", "/with-stream"]


@pytest.mark.anyio
async def test_expect_success_turned_on_and_off_after_creation() -> None:
    async with HttpClient(failing(404, b"no")) as client:
        client.expect_success = True
        with pytest.raises(ClientResponseError):
            await client.get("http://mock.test/")
        with pytest.raises(ClientResponseError):
            async with client.stream("GET", "http://mock.test/"):
                raise AssertionError("the block is not entered")
        client.expect_success = False
        assert (await client.get("http://mock.test/")).status == 404
        async with client.stream("GET", "http://mock.test/") as response:
            assert response.status == 404


@pytest.mark.anyio
async def test_on_close_runs_once_when_the_client_releases() -> None:
    closed: list[str] = []

    class Closing(Plugin):
        name = "Closing"

        async def on_close(self) -> None:
            closed.append(self.name)

    async with echo_client(lambda c: c.install(Closing)):
        pass
    assert closed == ["Closing"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("option", "value", "plugin"),
    [
        ("follow_redirects", False, "HttpRedirect"),
        ("expect_success", True, "HttpCallValidator"),
        ("retry", 2, "HttpRequestRetry"),
        ("on_download", print, "BodyProgress"),
    ],
)
async def test_a_request_option_without_its_plugin_is_refused(option: str, value: object, plugin: str) -> None:
    async with echo_client(lambda c: [c.uninstall(p) for p in kclient.DEFAULT_PLUGINS]) as client:
        with pytest.raises(InvalidRequestError, match=rf"{option}= is read by the plugin {plugin}.*c\.install"):
            await client.get("http://mock.test/", **{option: value})  # type: ignore[arg-type]


class Tagger(Plugin):
    """A plugin kclient does not ship: it reads its own per-request option ``tag``."""

    name = "Tagger"
    request_options = frozenset({"tag"})

    async def on_send(self, request: Request, proceed: Send) -> Response:
        tag = request.attribute("tag")
        if tag is not None:
            request.headers["X-Tag"] = str(tag)
        return await proceed(request)


@pytest.mark.anyio
async def test_a_third_party_plugins_options_are_accepted_and_delivered() -> None:
    async with echo_client(lambda c: c.install(Tagger)) as client:
        tagged = await client.get("http://mock.test/", tag="blue")  # type: ignore[call-arg]
        plain = await client.get("http://mock.test/")
        both = await client.get("http://mock.test/", tag=7, follow_redirects=False)  # type: ignore[call-arg]
    assert tagged.json()["headers"]["X-Tag"] == "blue"
    assert "X-Tag" not in plain.json()["headers"]
    assert both.json()["headers"]["X-Tag"] == "7"


@pytest.mark.anyio
async def test_a_misspelt_plugin_option_names_the_nearest_one() -> None:
    async with echo_client(lambda c: c.install(Tagger)) as client:
        with pytest.raises(InvalidRequestError, match=r"option tagg= \(did you mean tag=\?\)") as caught:
            await client.get("http://mock.test/", tagg="blue")  # type: ignore[call-arg]
    assert "tag, timeout" in str(caught.value)  # the installed plugin's option is listed with the core ones
    async with echo_client() as client:
        with pytest.raises(InvalidRequestError, match="Unknown request option tag="):
            await client.get("http://mock.test/", tag="blue")  # type: ignore[call-arg]


@pytest.mark.anyio
async def test_a_third_party_plugin_can_give_the_base_url() -> None:
    """``Plugin.base`` is the extension point DefaultRequest's ``url`` stands on."""
    from yarl import URL

    class Tenant(Plugin):
        name = "Tenant"

        @property
        def base(self) -> URL | None:
            return URL("http://tenant.test/v2/")

    async with echo_client(lambda c: c.install(Tenant)) as client:
        response = await client.get("users")
    assert client.base_url == URL("http://tenant.test/v2/")
    assert response.json()["url"] == "http://tenant.test/v2/users"


# -- UserAgent --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_user_agent_default_configured_and_overridden() -> None:
    async with echo_client() as client:
        assert (await client.get("http://mock.test/")).json()["headers"][
            "User-Agent"
        ] == f"kclient/{kclient.__version__}"
        mine = await client.get("http://mock.test/", headers={"user-agent": "mine/2"})
        assert mine.json()["headers"]["user-agent"] == "mine/2"
    async with echo_client(lambda c: c.install(UserAgent, agent="probe/1.0")) as client:
        assert (await client.get("http://mock.test/")).json()["headers"]["User-Agent"] == "probe/1.0"


@pytest.mark.parametrize("agent", ["", "  ", "a\r\nX-Injected: 1", 42])
def test_user_agent_refuses_bad_values(agent: object) -> None:
    with pytest.raises(ConfigError, match="agent"):
        echo_client(lambda c: c.install(UserAgent, agent=agent))


# -- DefaultRequest ---------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("base", "given", "expected"),
    [
        ("http://api.test/v1/", "users", "http://api.test/v1/users"),
        ("http://api.test/v1/", "/users", "http://api.test/users"),
        ("http://api.test/v1", "users", "http://api.test/users"),
        ("http://api.test/v1/", "users?page=2", "http://api.test/v1/users?page=2"),
        ("http://api.test/v1/", "http://other.test/x", "http://other.test/x"),
        ("http://api.test/v1/", "", "http://api.test/v1/"),
    ],
)
async def test_default_request_resolves_relative_urls(base: str, given: str, expected: str) -> None:
    async with echo_client(lambda c: c.install(DefaultRequest, url=base)) as client:
        assert (await client.get(given)).json()["url"] == expected


@pytest.mark.anyio
async def test_default_request_headers_and_params_lose_to_the_requests_own() -> None:
    def configure(c: kclient.HttpClientConfig) -> None:
        c.install(DefaultRequest, headers={"X-Team": "core", "Accept": "text/plain"}, params={"v": 2, "lang": "en"})

    async with echo_client(configure) as client:
        seen = (await client.get("http://mock.test/p?lang=fr", headers={"Accept": "application/json"})).json()
    assert seen["headers"]["X-Team"] == "core"
    assert seen["headers"]["Accept"] == "application/json"
    assert seen["url"] == "http://mock.test/p?lang=fr&v=2"


@pytest.mark.anyio
async def test_a_relative_url_without_a_base_says_how_to_set_one() -> None:
    async with echo_client() as client:
        with pytest.raises(InvalidRequestError, match=r"DefaultRequest, url="):
            await client.get("/users")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"url": "api.test/v1"}, "absolute http"),
        ({"url": "ftp://api.test/"}, "absolute http"),
        ({"headers": {"Bad Name": "x"}}, "header name"),
        ({"headers": {"X": "a\nb"}}, "line breaks"),
        ({"params": {"p": [1]}}, "string or a number"),
        ({"ulr": "http://api.test/"}, "Did you mean url"),
    ],
)
def test_default_request_refuses_bad_options(options: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        echo_client(lambda c: c.install(DefaultRequest, **options))


# -- HttpCallValidator ------------------------------------------------------------------------


def failing(status: int, body: bytes) -> Mock:
    return Mock(lambda r: respond(body, status=status, headers={"Content-Type": "text/plain"}), reuse_handlers=True)


@pytest.mark.anyio
async def test_expect_success_errors_carry_status_and_a_bounded_excerpt() -> None:
    async with HttpClient(
        failing(503, b"down for maintenance " + b"x" * 5000), lambda c: setattr(c, "expect_success", True)
    ) as client:
        with pytest.raises(ServerResponseError) as caught:
            await client.get("http://mock.test/status")
    error = caught.value
    assert error.status == 503
    assert error.body_excerpt.startswith("down for maintenance")
    assert len(error.body_excerpt) == 200
    assert "down for maintenance" in str(error)
    assert len(str(error)) < 400


@pytest.mark.anyio
async def test_expect_success_per_request_both_ways() -> None:
    async with HttpClient(failing(404, b"no")) as client:
        assert (await client.get("http://mock.test/")).status == 404
        with pytest.raises(ClientResponseError):
            await client.get("http://mock.test/", expect_success=True)
    async with HttpClient(failing(404, b"no"), lambda c: setattr(c, "expect_success", True)) as client:
        assert (await client.get("http://mock.test/", expect_success=False)).status == 404


@pytest.mark.anyio
async def test_expect_success_in_a_stream_reads_a_small_error_body_and_releases_it() -> None:
    async with HttpClient(failing(500, b"boom"), lambda c: setattr(c, "expect_success", True)) as client:
        with pytest.raises(ServerResponseError) as caught:
            async with client.stream("GET", "http://mock.test/"):
                raise AssertionError("the block is not entered")
        assert caught.value.body_excerpt == "boom"
        assert caught.value.response.is_closed
        assert client.status().in_flight == 0


@pytest.mark.anyio
async def test_custom_validators_run_in_order_sync_and_async() -> None:
    seen: list[str] = []

    def first(response: Response) -> None:
        seen.append(f"first {response.status}")

    async def second(response: Response) -> None:
        seen.append("second")
        if response.headers.get("X-Deprecated"):
            raise RuntimeError("this endpoint is deprecated")

    engine = Mock(
        lambda r: respond(b"", headers={"X-Deprecated": "1"} if r.url.path == "/old" else {}), reuse_handlers=True
    )
    async with HttpClient(engine, lambda c: c.install(HttpCallValidator, validators=[first, second])) as client:
        await client.get("http://mock.test/new")
        with pytest.raises(RuntimeError, match="deprecated"):
            await client.get("http://mock.test/old")
    assert seen == ["first 200", "second", "first 200", "second"]


def test_validators_must_be_callables() -> None:
    with pytest.raises(ConfigError, match="validators"):
        echo_client(lambda c: c.install(HttpCallValidator, validators=["not a function"]))


@pytest.mark.anyio
async def test_stream_with_validators_reads_nothing_itself() -> None:
    async with echo_client(lambda c: c.install(HttpCallValidator, validators=[lambda r: None])) as client:
        async with client.stream("GET", "http://mock.test/") as response:
            assert not response.is_closed
            assert await response.aread()
