"""The configure block (Ktor's ``HttpClient(CIO) { ... }``): engine settings, plugins, expect_success."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import kclient
from kclient import (
    ClientResponseError,
    ConfigError,
    HttpClient,
    HttpClientConfig,
    HttpTimeout,
    Mock,
    MockConfig,
    Plugin,
    PluginConfig,
    RedirectResponseError,
    Request,
    ResponseError,
    ServerResponseError,
    respond,
    respond_error,
    respond_redirect,
    setting,
)

URL = "http://mock.test/resource"


def answer_by_path(request: Request) -> kclient.MockAnswer:
    """``/status/404`` answers 404, ``/redirect`` answers 302, anything else 200."""
    if request.url.path.startswith("/status/"):
        return respond_error(int(request.url.path.rsplit("/", 1)[1]), {"error": True})
    if request.url.path == "/redirect":
        return respond_redirect("http://mock.test/elsewhere")
    return respond({"ok": True})


def test_configure_block_sets_engine_plugins_and_expect_success() -> None:
    def configure(c: HttpClientConfig) -> None:
        c.engine_config(handlers=[answer_by_path], reuse_handlers=True)
        c.install(HttpTimeout, request_timeout=5)
        c.expect_success = True

    client = HttpClient(Mock, configure)
    assert isinstance(client.engine, Mock)
    assert client.engine.config.handlers == (answer_by_path,)
    assert client.plugin(HttpTimeout).config.request_timeout == 5.0
    assert client.expect_success is True


def test_configure_receives_a_client_config() -> None:
    received: list[object] = []
    HttpClient(Mock, received.append)
    (config,) = received
    assert isinstance(config, HttpClientConfig)
    assert config.expect_success is False
    assert config.engine_settings == {}
    assert list(config.plugins) == list(kclient.DEFAULT_PLUGINS)


def test_engine_calls_add_to_earlier_ones_and_the_block_comes_after_engine_kwarg() -> None:
    def configure(c: HttpClientConfig) -> None:
        c.engine_config(handlers=[answer_by_path])
        c.engine_config(reuse_handlers=False)

    client = HttpClient(Mock, configure, engine_config={"reuse_handlers": True})
    config = client.engine.config
    assert isinstance(config, MockConfig)
    assert config.handlers == (answer_by_path,)
    assert config.reuse_handlers is False


def test_engine_settings_from_the_block_are_validated() -> None:
    def configure(c: HttpClientConfig) -> None:
        c.engine_config(treadCount=2)

    with pytest.raises(ConfigError, match="Did you mean thread_count"):
        HttpClient(Mock, configure)


def test_engine_by_name_with_a_configure_block() -> None:
    def configure(c: HttpClientConfig) -> None:
        c.engine_config(max_connections=4)

    client = HttpClient("Httpx", configure)
    assert client.engine.name == "Httpx"
    assert client.engine.config.max_connections == 4  # type: ignore[attr-defined]


def test_a_configure_that_is_not_callable_is_refused() -> None:
    with pytest.raises(ConfigError, match="configure function"):
        HttpClient(Mock, {"expect_success": True})  # type: ignore[arg-type]


def test_a_misspelt_attribute_in_the_block_is_refused_with_the_nearest() -> None:
    def configure(c: HttpClientConfig) -> None:
        c.expect_sucess = True  # type: ignore[attr-defined]

    with pytest.raises(ConfigError) as info:
        HttpClient(Mock, configure)
    assert "expect_sucess" in str(info.value)
    assert "Did you mean c.expect_success?" in str(info.value)


def test_expect_success_must_be_a_bool() -> None:
    def configure(c: HttpClientConfig) -> None:
        c.expect_success = "yes"  # type: ignore[assignment]

    with pytest.raises(ConfigError, match="True or False"):
        HttpClient(Mock, configure)


# -- expect_success ---------------------------------------------------------------------------
def expecting(c: HttpClientConfig) -> None:
    c.expect_success = True


@pytest.mark.anyio
async def test_expect_success_raises_client_request_error_for_404() -> None:
    client = HttpClient(Mock(answer_by_path), expecting)
    with pytest.raises(ClientResponseError) as info:
        await client.get("http://mock.test/status/404")
    error = info.value
    assert isinstance(error, ResponseError)
    assert isinstance(error, kclient.KClientError)
    assert error.response.status == 404
    assert error.response.json() == {"error": True}  # the body was read before raising
    assert "404" in str(error)
    assert "Not Found" in str(error)
    assert "GET http://mock.test/status/404" in str(error)


@pytest.mark.anyio
async def test_expect_success_raises_server_response_error_for_500() -> None:
    client = HttpClient(Mock(answer_by_path), expecting)
    with pytest.raises(ServerResponseError) as info:
        await client.post("http://mock.test/status/500", json={})
    assert info.value.response.status == 500
    assert "POST" in str(info.value)


@pytest.mark.anyio
async def test_expect_success_raises_redirect_response_error_for_302() -> None:
    client = HttpClient(Mock(answer_by_path), expecting)
    with pytest.raises(RedirectResponseError) as info:
        await client.get("http://mock.test/redirect", follow_redirects=False)
    assert info.value.response.status == 302
    assert info.value.response.headers["Location"] == "http://mock.test/elsewhere"


@pytest.mark.anyio
async def test_expect_success_lets_2xx_through() -> None:
    client = HttpClient(Mock(answer_by_path), expecting)
    response = await client.get(URL)
    assert response.status == 200
    assert response.json() == {"ok": True}


@pytest.mark.anyio
async def test_without_expect_success_error_statuses_are_returned() -> None:
    client = HttpClient(Mock(answer_by_path))
    assert client.expect_success is False
    for path, status in (("/status/404", 404), ("/status/503", 503), ("/redirect", 302)):
        response = await client.get(f"http://mock.test{path}", follow_redirects=False)
        assert response.status == status
    with pytest.raises(ServerResponseError):
        (await client.get("http://mock.test/status/503")).raise_for_status()


@pytest.mark.anyio
async def test_expect_success_can_be_turned_on_after_creation() -> None:
    client = HttpClient(Mock(answer_by_path))
    client.expect_success = True
    with pytest.raises(ClientResponseError):
        await client.get("http://mock.test/status/418")


# -- plugins ----------------------------------------------------------------------------------
def test_plugin_returns_the_installed_instance() -> None:
    client = HttpClient(Mock, lambda c: c.install(HttpTimeout, request_timeout=5, connect_timeout=2))
    plugin = client.plugin(HttpTimeout)
    assert isinstance(plugin, HttpTimeout)
    assert plugin.config.request_timeout == 5.0
    assert plugin.config.connect_timeout == 2.0
    assert plugin.config.socket_timeout is None
    assert client.plugin(HttpTimeout) is plugin


def test_plugin_that_is_not_installed_says_how_to_install_it() -> None:
    client = HttpClient(Mock, name="plain-client")
    with pytest.raises(ConfigError) as info:
        client.plugin(HttpTimeout)
    message = str(info.value)
    assert "HttpTimeout is not installed" in message
    assert "plain-client" in message
    assert "c.install(HttpTimeout" in message


def test_installing_again_replaces_the_options() -> None:
    def configure(c: HttpClientConfig) -> None:
        c.install(HttpTimeout, request_timeout=5)
        c.install(HttpTimeout, socket_timeout=1)

    plugin = HttpClient(Mock, configure).plugin(HttpTimeout)
    assert plugin.config.request_timeout is None
    assert plugin.config.socket_timeout == 1.0


@pytest.mark.parametrize(
    ("typed", "nearest"),
    [
        ("request_timout", "request_timeout"),
        ("requestTimeout", "request_timeout"),
        ("connect_timout", "connect_timeout"),
        ("socket_timeot", "socket_timeout"),
    ],
)
def test_misspelt_plugin_options_name_the_nearest(typed: str, nearest: str) -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient(Mock, lambda c: c.install(HttpTimeout, **{typed: 5}))
    message = str(info.value)
    assert f"Did you mean {nearest}?" in message
    assert "plugin HttpTimeout" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "between 0.001 and 86400.0"), (-1, "between 0.001 and 86400.0"), ("5", "a number")],
)
def test_plugin_option_values_are_checked(value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient(Mock, lambda c: c.install(HttpTimeout, request_timeout=value))
    assert expected in str(info.value)
    assert "request_timeout" in str(info.value)


@pytest.mark.parametrize("thing", [int, "HttpTimeout", object()])
def test_install_takes_a_plugin_class(thing: object) -> None:
    with pytest.raises(ConfigError, match="plugin class"):
        HttpClient(Mock, lambda c: c.install(thing))  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class StampConfig(PluginConfig):
    value: str = setting("kclient", "The value of the X-Stamp header.")


class Stamp(Plugin):
    """A third-party plugin: adds ``X-Stamp`` to every request."""

    name = "Stamp"
    config_class = StampConfig
    config: StampConfig

    def on_request(self, request: Request) -> Request:
        request.headers["X-Stamp"] = self.config.value
        return request


@pytest.mark.anyio
async def test_a_third_party_plugin_sees_every_request() -> None:
    engine = Mock(lambda request: respond("ok"))
    client = HttpClient(engine, lambda c: c.install(Stamp, value="stamped"))
    await client.get(URL)
    await client.post(URL, content=b"x")
    assert [r.headers["X-Stamp"] for r in engine.request_history] == ["stamped", "stamped"]
    assert client.plugin(Stamp).config.value == "stamped"
    with pytest.raises(ConfigError, match="Did you mean value"):
        HttpClient(Mock, lambda c: c.install(Stamp, valeu="x"))


@pytest.mark.anyio
async def test_http_timeout_defaults_reach_the_engine_and_the_request_wins() -> None:
    engine = Mock(lambda request: respond("ok"))
    client = HttpClient(engine, lambda c: c.install(HttpTimeout, request_timeout=5, socket_timeout=2))
    await client.get(URL)
    await client.get(URL, timeout=1)
    await client.get(URL, timeout=kclient.Timeouts(socket=0.5))
    first, second, third = (r.timeouts for r in engine.request_history)
    assert (first.request, first.connect, first.socket) == (5.0, None, 2.0)
    assert (second.request, second.socket) == (1.0, 2.0)
    assert (third.request, third.socket) == (5.0, 0.5)


def test_the_former_engine_keyword_still_sets_engine_settings_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"HttpClient\(engine=\{\.\.\.\}\) is now HttpClient\(engine_config="):
        client = HttpClient(Mock, engine={"reuse_handlers": False})
    with client:
        assert isinstance(client.engine.config, MockConfig) and client.engine.config.reuse_handlers is False
    with pytest.warns(DeprecationWarning), pytest.raises(ConfigError, match="once, as engine_config"):
        HttpClient(Mock, engine={"reuse_handlers": False}, engine_config={"reuse_handlers": True})


def test_the_former_configure_block_call_still_sets_engine_settings_with_a_deprecation_warning() -> None:
    def configure(c: HttpClientConfig) -> None:
        with pytest.warns(DeprecationWarning, match=r"c\.engine\(\*\*settings\) is now c\.engine_config"):
            c.engine(reuse_handlers=False)

    with HttpClient(Mock, configure) as client:
        assert isinstance(client.engine.config, MockConfig) and client.engine.config.reuse_handlers is False


def test_a_configure_function_given_first_is_told_where_it_goes() -> None:
    def configure(c: HttpClientConfig) -> None:
        c.expect_success = True

    with pytest.raises(ConfigError, match=r"A configure function comes second: HttpClient\(None, configure\)"):
        HttpClient(configure)  # type: ignore[arg-type]
    with HttpClient(None, configure, registry=kclient.EngineRegistry()) as client:  # where it goes: it works
        assert client.expect_success is True


@pytest.mark.parametrize("engine", [Mock, "Mock", Mock()], ids=["class", "name", "instance"])
def test_an_engine_given_as_engine_is_told_to_go_first(engine: object) -> None:
    # engine= was the settings keyword: HttpClient(engine=Mock) is the likely slip after the rename
    with pytest.raises(ConfigError, match=r"Pass the engine first, HttpClient\((Mock|'Mock'|engine)\)"):
        HttpClient(engine=engine)  # type: ignore[arg-type]
