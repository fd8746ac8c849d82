"""Typed engine settings: names, types, ranges, capabilities, proxies and secrets in messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from extras import needs

import kclient
from kclient import (
    ConfigError,
    Engine,
    EngineConfig,
    EngineNotFoundError,
    HttpClient,
    Httpx,
    HttpxConfig,
    Mock,
    MockConfig,
    ProxyBuilder,
    ProxyConfig,
    Request,
    Response,
    SettingInfo,
    UnsupportedSettingError,
    describe_settings,
    respond,
    setting,
)

SECRET = "s3cret-Pa55"


# -- a third-party engine with a nested settings block (public Engine contract) --------------
@dataclass(frozen=True, kw_only=True)
class EndpointConfig:
    connect_timeout: float = setting(10.0, "Seconds to open a connection.", minimum=0.1, maximum=60)
    connect_attempts: int = setting(1, "Connection attempts before giving up.", minimum=1, maximum=10)


@dataclass(frozen=True, kw_only=True)
class BlockConfig(EngineConfig):
    endpoint: EndpointConfig = setting(default_factory=EndpointConfig)
    max_connections: int = setting(1000, "Most connections open at once.", minimum=1)


class BlockEngine(Engine):
    name = "Block"
    config_class = BlockConfig
    config: BlockConfig

    async def send(self, request: Request) -> Response:
        return Response(204, request=request)


# -- unknown and misspelt names ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "nearest"),
    [
        ("treadCount", "thread_count"),
        ("threadCount", "thread_count"),
        ("thread_cont", "thread_count"),
        ("pipelinning", "pipelining"),
        ("reuse_handler", "reuse_handlers"),
        ("handler", "handlers"),
        ("proxi", "proxy"),
    ],
)
def test_misspelt_mock_setting_names_the_nearest(typed: str, nearest: str) -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient(Mock, engine_config={typed: 2})
    message = str(info.value)
    assert repr(typed) in message
    assert f"Did you mean {nearest}?" in message
    assert "engine Mock" in message


def test_misspelt_setting_fails_the_same_way_in_every_entry_point() -> None:
    def configure(c: kclient.HttpClientConfig) -> None:
        c.engine_config(treadCount=2)

    for attempt in (
        lambda: HttpClient(Mock, engine_config={"treadCount": 2}),
        lambda: HttpClient("Mock", configure),
        lambda: HttpClient(Mock, configure),
        lambda: Mock(treadCount=2),
        lambda: Mock.make_config(treadCount=2),
    ):
        with pytest.raises(ConfigError, match="Did you mean thread_count"):
            attempt()


@pytest.mark.parametrize(
    ("typed", "nearest"),
    [
        ("max_conections", "max_connections"),
        ("maxConnections", "max_connections"),
        ("max_keepalive_conections", "max_keepalive_connections"),
        ("keepalive_expirey", "keepalive_expiry"),
        ("verfy", "https.verify"),
        ("ca_fle", "https.ca_file"),
        ("trustEnv", "trust_env"),
        ("treadCount", "thread_count"),
    ],
)
def test_misspelt_httpx_setting_names_the_nearest(typed: str, nearest: str) -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient("Httpx", engine_config={typed: 3})
    assert f"Did you mean {nearest}?" in str(info.value)
    assert "engine Httpx" in str(info.value)


def test_unknown_setting_lists_the_valid_ones_without_a_wild_guess() -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient(Mock, engine_config={"zzzz": 1})
    message = str(info.value)
    assert "Did you mean" not in message
    assert "Valid settings: handlers, pipelining, proxy, reuse_handlers, thread_count." in message


def test_httpx_settings_listing_names_every_setting() -> None:
    with pytest.raises(ConfigError) as info:
        Httpx(max_conections=3)
    for name in (
        "http2",
        "https.ca_file",
        "https.cert_file",
        "https.key_file",
        "https.verify",
        "keepalive_expiry",
        "kclient_pool",
        "max_connections",
        "max_keepalive_connections",
        "pipelining",
        "proxy",
        "thread_count",
        "trust_env",
    ):
        assert name in str(info.value)


# -- types and ranges -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("engine", "settings", "expected"),
    [
        (Mock, {"thread_count": "2"}, ["thread_count", "an integer", "between 1 and 512", "'2'"]),
        (Mock, {"thread_count": 2.0}, ["thread_count", "an integer", "between 1 and 512"]),
        (Mock, {"thread_count": True}, ["thread_count", "an integer", "between 1 and 512"]),
        (Mock, {"pipelining": 1}, ["pipelining", "True or False", "not 1"]),
        (Mock, {"pipelining": "yes"}, ["pipelining", "True or False"]),
        (Mock, {"reuse_handlers": None}, ["reuse_handlers", "True or False"]),
        ("Httpx", {"max_connections": 2.5}, ["max_connections", "an integer", "at least 1"]),
        ("Httpx", {"max_connections": "10"}, ["max_connections", "an integer", "at least 1"]),
        ("Httpx", {"keepalive_expiry": "5"}, ["keepalive_expiry", "a number", "at least 0.0"]),
        ("Httpx", {"https.verify": "no"}, ["https.verify", "True or False"]),
        ("Httpx", {"https": {"ca_file": 5}}, ["https.ca_file", "a string"]),
        ("Httpx", {"http2": "yes"}, ["http2", "True or False"]),
    ],
)
def test_wrong_types_say_what_is_allowed(engine: Any, settings: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient(engine, engine_config=settings)
    assert not isinstance(info.value, UnsupportedSettingError)
    for text in expected:
        assert text in str(info.value)


@pytest.mark.parametrize(
    ("engine", "settings", "allowed"),
    [
        (Mock, {"thread_count": 0}, "between 1 and 512"),
        (Mock, {"thread_count": 513}, "between 1 and 512"),
        (Mock, {"thread_count": -4}, "between 1 and 512"),
        ("Httpx", {"max_connections": 0}, "at least 1"),
        ("Httpx", {"max_keepalive_connections": -1}, "at least 0"),
        ("Httpx", {"keepalive_expiry": -0.5}, "at least 0.0"),
    ],
)
def test_out_of_range_values_say_the_allowed_range(engine: Any, settings: dict[str, Any], allowed: str) -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient(engine, engine_config=settings)
    assert allowed in str(info.value)
    ((name, value),) = settings.items()
    assert name in str(info.value)
    assert f"not {value!r}" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, kclient.KClientError)


def test_valid_settings_take_effect_and_are_typed() -> None:
    client = HttpClient(
        "Httpx", engine_config={"max_connections": 3, "keepalive_expiry": 2, "max_keepalive_connections": None}
    )
    config = client.engine.config
    assert isinstance(config, HttpxConfig)
    assert config.max_connections == 3
    assert config.keepalive_expiry == 2.0
    assert isinstance(config.keepalive_expiry, float)
    assert config.max_keepalive_connections is None
    assert config.https.verify is True  # untouched settings keep their defaults
    assert "max_connections=3" in repr(client.engine)


def test_engine_takes_a_config_object_and_overrides() -> None:
    base = HttpxConfig(max_connections=5)
    engine = Httpx(base, keepalive_expiry=1)
    assert engine.config.max_connections == 5
    assert engine.config.keepalive_expiry == 1.0
    assert Httpx({"max_connections": 7}).config.max_connections == 7

    handler = lambda request: respond("x")  # noqa: E731
    mock = Mock(MockConfig(handlers=(handler,), reuse_handlers=False))
    assert mock.config.handlers == (handler,)
    assert mock.config.reuse_handlers is False


def test_engine_refuses_the_config_of_another_engine() -> None:
    with pytest.raises(ConfigError, match="Engine Httpx takes a HttpxConfig, not a MockConfig"):
        Httpx(MockConfig())


def test_engine_settings_must_be_a_mapping_with_string_names() -> None:
    with pytest.raises(ConfigError, match="engine_config= takes a dict"):
        HttpClient(Mock, engine_config=[("thread_count", 2)])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="strings"):
        HttpClient(Mock, engine_config={1: 2})  # type: ignore[dict-item]


# -- capabilities -----------------------------------------------------------------------------
@pytest.mark.parametrize("engine", [Mock, "Httpx"])
def test_pipelining_on_an_engine_without_it_is_unsupported(engine: Any) -> None:
    with pytest.raises(UnsupportedSettingError) as info:
        HttpClient(engine, engine_config={"pipelining": True})
    assert isinstance(info.value, ConfigError)
    assert "pipelining" in str(info.value)
    assert "does not support" in str(info.value)


@pytest.mark.parametrize("engine", [Mock, "Httpx"])
def test_thread_count_on_an_event_loop_engine_is_unsupported(engine: Any) -> None:
    with pytest.raises(UnsupportedSettingError) as info:
        HttpClient(engine, engine_config={"thread_count": 2})
    assert "thread_count" in str(info.value)
    assert "does not support" in str(info.value)


def test_defaults_of_unsupported_settings_are_accepted() -> None:
    client = HttpClient(Mock, engine_config={"pipelining": False, "thread_count": None, "proxy": None})
    assert client.engine.config.pipelining is False
    assert client.engine.config.thread_count is None


def test_settings_with_a_lent_engine_are_refused() -> None:
    engine = Mock(lambda request: respond("x"))
    with pytest.raises(ConfigError) as info:
        HttpClient(engine, engine_config={"reuse_handlers": False})
    message = str(info.value)
    assert "lent" in message
    assert "reuse_handlers" in message
    assert "Mock(reuse_handlers=...)" in message

    def configure(c: kclient.HttpClientConfig) -> None:
        c.engine_config(reuse_handlers=False)

    with pytest.raises(ConfigError, match="lent"):
        HttpClient(engine, configure)


# -- engine choice ----------------------------------------------------------------------------
def test_an_unknown_engine_name_suggests_the_nearest() -> None:
    with pytest.raises(EngineNotFoundError) as info:
        HttpClient("Mokc")
    assert "Did you mean Mock?" in str(info.value)
    assert isinstance(info.value, ConfigError)
    assert isinstance(info.value, LookupError)


def test_an_engine_name_is_case_insensitive() -> None:
    assert isinstance(HttpClient("mock").engine, Mock)


def test_something_that_is_not_an_engine_is_refused() -> None:
    with pytest.raises(ConfigError, match="engine class"):
        HttpClient(42)  # type: ignore[arg-type]


# -- nested blocks (a third-party engine's settings) ------------------------------------------
def test_nested_settings_by_dotted_name_or_block() -> None:
    assert BlockEngine(**{"endpoint.connect_timeout": 5}).config.endpoint.connect_timeout == 5.0
    engine = BlockEngine(endpoint={"connect_attempts": 3})
    assert engine.config.endpoint.connect_attempts == 3
    assert engine.config.endpoint.connect_timeout == 10.0
    client = HttpClient(BlockEngine, engine_config={"endpoint": {"connect_timeout": 1}, "endpoint.connect_attempts": 2})
    assert client.engine.config.endpoint == EndpointConfig(connect_timeout=1.0, connect_attempts=2)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("typed", "nearest"),
    [
        ("endpoint.conect_timeout", "endpoint.connect_timeout"),
        ("endpont.connect_timeout", "endpoint.connect_timeout"),
        ("connect_timeout", "endpoint.connect_timeout"),
        ("endpoint.connectAttempts", "endpoint.connect_attempts"),
        ("maxConnections", "max_connections"),
    ],
)
def test_misspelt_nested_setting_names_the_nearest_full_name(typed: str, nearest: str) -> None:
    with pytest.raises(ConfigError) as info:
        BlockEngine(**{typed: 1})
    message = str(info.value)
    assert repr(typed) in message
    assert f"Did you mean {nearest}?" in message


def test_nested_values_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"endpoint\.connect_timeout .*between 0\.1 and 60"):
        BlockEngine(**{"endpoint.connect_timeout": 100})
    with pytest.raises(ConfigError, match="is a block"):
        BlockEngine(endpoint=5)
    with pytest.raises(ConfigError, match="both as a value and as a block"):
        BlockEngine(**{"max_connections": 5, "max_connections.x": 2})


# -- describe_settings ------------------------------------------------------------------------
def test_describe_settings_lists_every_setting_with_docs_and_ranges() -> None:
    infos = {info.name: info for info in describe_settings(HttpxConfig)}
    assert list(infos) == [
        "thread_count",
        "pipelining",
        "proxy",
        "max_connections",
        "max_keepalive_connections",
        "keepalive_expiry",
        "kclient_pool",
        "http2",
        "trust_env",
        "https.verify",
        "https.ca_file",
        "https.cert_file",
        "https.key_file",
    ]
    assert all(isinstance(info, SettingInfo) for info in infos.values())
    assert all(info.doc for info in infos.values())
    thread_count = infos["thread_count"]
    assert (thread_count.minimum, thread_count.maximum, thread_count.default) == (1, 512, None)
    assert thread_count.range_text == "between 1 and 512"
    assert infos["max_connections"].range_text == "at least 1"
    assert infos["max_connections"].default == 100
    assert infos["pipelining"].range_text == ""
    assert infos["pipelining"].type is bool
    assert infos["https.verify"].default is True
    assert infos["http2"].default is False
    assert infos["kclient_pool"].default is True


def test_describe_settings_of_mock_and_nested_blocks() -> None:
    mock = [info.name for info in describe_settings(MockConfig)]
    assert mock == ["thread_count", "pipelining", "proxy", "handlers", "reuse_handlers"]
    nested = {info.name: info for info in describe_settings(BlockConfig)}
    assert "endpoint.connect_timeout" in nested
    assert nested["endpoint.connect_timeout"].range_text == "between 0.1 and 60"
    assert nested["endpoint.connect_timeout"].doc == "Seconds to open a connection."
    assert nested["endpoint.connect_attempts"].default == 1
    assert "endpoint" not in nested  # blocks are flattened, not listed themselves
    hi_only = SettingInfo("x", int, 0, "doc", None, 9)
    assert hi_only.range_text == "at most 9"


# -- proxies ----------------------------------------------------------------------------------
def test_proxy_builder_http() -> None:
    proxy = ProxyBuilder.http("http://127.0.0.1:3128")
    assert isinstance(proxy, ProxyConfig)
    assert proxy.kind == "http"
    assert str(proxy.url) == "http://127.0.0.1:3128"
    assert ProxyBuilder.http("https://proxy.example:8443").kind == "http"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1:21",
        "socks5://127.0.0.1:1080",
        "127.0.0.1:3128",
        "http://",
        "/just/a/path",
        "http://[::1",
        "http://127.0.0.1:99999",
    ],
)
def test_proxy_builder_http_refuses_what_is_not_an_http_proxy_url(url: str) -> None:
    with pytest.raises(ConfigError):
        ProxyBuilder.http(url)


def test_proxy_builder_socks() -> None:
    proxy = ProxyBuilder.socks("127.0.0.1", 1080)
    assert proxy.kind == "socks"
    assert str(proxy.url) == "socks5://127.0.0.1:1080"
    socks4 = ProxyBuilder.socks("proxy.example", 9050, scheme="socks4a")
    assert str(socks4.url) == "socks4a://proxy.example:9050"


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (("", 1080), {}, "host"),
        ((None, 1080), {}, "host"),
        (("127.0.0.1", 0), {}, "between 1 and 65535"),
        (("127.0.0.1", 65536), {}, "between 1 and 65535"),
        (("127.0.0.1", "1080"), {}, "between 1 and 65535"),
        (("127.0.0.1", True), {}, "between 1 and 65535"),
        (("127.0.0.1", 1080), {"scheme": "socks6"}, "socks5"),
        (("bad host", 1080), {}, "bad host"),
    ],
)
def test_proxy_builder_socks_validation(args: tuple[Any, ...], kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        ProxyBuilder.socks(*args, **kwargs)
    assert expected in str(info.value)


def test_proxy_setting_accepts_urls_and_builders() -> None:
    client = HttpClient("Httpx", engine_config={"proxy": "http://127.0.0.1:3128"})
    proxy = client.engine.config.proxy
    assert proxy is not None
    assert proxy.kind == "http"
    assert str(proxy.url) == "http://127.0.0.1:3128"
    given = ProxyBuilder.http("http://127.0.0.1:8888")
    assert HttpClient("Httpx", engine_config={"proxy": given}).engine.config.proxy is given


def test_proxy_setting_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ConfigError, match="ProxyBuilder"):
        HttpClient("Httpx", engine_config={"proxy": 3128})


def test_http_proxy_on_an_engine_without_proxies_is_unsupported() -> None:
    with pytest.raises(UnsupportedSettingError) as info:
        HttpClient(Mock, engine_config={"proxy": f"http://user:{SECRET}@127.0.0.1:3128"})
    message = str(info.value)
    assert "HTTP proxies" in message
    assert "Httpx" in message  # names an engine that can
    assert SECRET not in message


# -- credentials never shown ------------------------------------------------------------------
def test_proxy_credentials_are_masked_in_reprs() -> None:
    proxy = ProxyBuilder.http(f"http://user:{SECRET}@127.0.0.1:3128")
    assert proxy.url.password == SECRET  # used...
    assert SECRET not in repr(proxy)  # ...never shown
    assert SECRET not in str(proxy)
    assert "user:***@127.0.0.1:3128" in repr(proxy)

    socks = ProxyBuilder.socks("127.0.0.1", 1080, username="user", password=SECRET)
    assert socks.url.password == SECRET
    assert SECRET not in repr(socks)

    engine = Httpx(proxy=proxy)
    assert SECRET not in repr(engine)
    assert SECRET not in repr(engine.config)
    assert SECRET not in engine.settings_text()
    client = HttpClient("Httpx", engine_config={"proxy": f"http://user:{SECRET}@127.0.0.1:3128"})
    assert SECRET not in repr(client)
    assert SECRET not in repr(client.engine)
    assert client.engine.config.proxy is not None
    assert client.engine.config.proxy.url.password == SECRET


def test_socks_proxy_on_an_engine_without_socks_is_refused_and_keeps_the_password_secret() -> None:
    socks = ProxyBuilder.socks("127.0.0.1", 1080, username="user", password=SECRET)
    with pytest.raises(UnsupportedSettingError) as info:
        HttpClient("CIO", engine_config={"proxy": socks})
    assert "SOCKS" in str(info.value)
    assert "Httpx" in str(info.value)  # names an engine that supports it
    assert SECRET not in str(info.value)

    with pytest.raises(UnsupportedSettingError) as info:
        HttpClient("CIO", engine_config={"proxy": f"socks5://user:{SECRET}@127.0.0.1:1080"})
    assert SECRET not in str(info.value)


@needs("socksio")
def test_httpx_takes_a_socks_proxy_and_keeps_the_password_secret() -> None:
    socks = ProxyBuilder.socks("127.0.0.1", 1080, username="user", password=SECRET)
    engine = HttpClient("Httpx", engine_config={"proxy": socks}).engine  # the socks extra
    assert SECRET not in repr(engine)


@pytest.mark.parametrize(
    "attempt",
    [
        lambda: ProxyBuilder.http(f"http://user:{SECRET}@[::1"),
        lambda: ProxyBuilder.http(f"http://user:{SECRET}@127.0.0.1:99999"),
        lambda: ProxyBuilder.http(f"http://user:{SECRET}@proxy:port"),
        lambda: ProxyBuilder.http(f"ftp://user:{SECRET}@127.0.0.1:21"),
        lambda: ProxyBuilder.socks("bad host", 1080, username="user", password=SECRET),
        lambda: ProxyBuilder.socks("127.0.0.1", 0, username="user", password=SECRET),
        lambda: HttpClient("Httpx", engine_config={"proxy": f"http://user:{SECRET}@[::1"}),
        lambda: HttpClient("Httpx", engine_config={"proxy": f"http://user:{SECRET}@127.0.0.1:99999"}),
        lambda: HttpClient("Httpx", engine_config={"proxy": f"socks5://user:{SECRET}@127.0.0.1:99999"}),
        lambda: HttpClient("Httpx", engine_config={"proxy": f"ftp://user:{SECRET}@127.0.0.1:21"}),
        lambda: HttpClient("CIO", engine_config={"proxy": f"socks5://user:{SECRET}@127.0.0.1:1080"}),
        lambda: HttpClient(Mock, engine_config={"proxy": f"http://user:{SECRET}@127.0.0.1:3128"}),
        lambda: HttpClient(Mock(), engine_config={"proxy": f"http://user:{SECRET}@127.0.0.1:3128"}),
    ],
    ids=[
        "http-ipv6",
        "http-port",
        "http-port-word",
        "http-ftp",
        "socks-host",
        "socks-port",
        "setting-ipv6",
        "setting-port",
        "setting-socks-port",
        "setting-ftp",
        "setting-socks-on-cio",
        "setting-http-on-mock",
        "setting-lent",
    ],
)
def test_no_config_error_shows_proxy_credentials(attempt: Any) -> None:
    with pytest.raises(ConfigError) as info:
        attempt()
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


@dataclass(frozen=True, kw_only=True)
class TimeoutBlock:
    socket_timeout: float = setting(5.0, "Seconds of silence on a connection of the endpoint.", minimum=0.1)


@dataclass(frozen=True, kw_only=True)
class ShadowConfig(EngineConfig):
    socket_timeout: float = setting(10.0, "Seconds of silence on any connection.", minimum=0.1)
    endpoint: TimeoutBlock = setting(default_factory=TimeoutBlock)


class ShadowEngine(Engine):
    name = "Shadow"
    config_class = ShadowConfig

    async def send(self, request: Request) -> Response:
        return Response(204, request=request)


def test_a_top_level_name_is_suggested_before_a_nested_one_with_the_same_short_name() -> None:
    with pytest.raises(ConfigError, match=r"Did you mean socket_timeout\?"):
        ShadowEngine(socket_timout=1)
    with pytest.raises(ConfigError, match=r"Did you mean endpoint\.socket_timeout\?"):
        ShadowEngine(**{"endpoint.socket_timout": 1})
