"""The public surface of ``kclient``: pinned, importable, listed by ``dir``, nothing leaking."""

from __future__ import annotations

import importlib

import pytest

import kclient

#: The public names, pinned: adding or removing one is a deliberate change made here too.
PUBLIC = [
    "AcceptAllCookiesStorage",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "BearerTokens",
    "BlockingClient",
    "BodyLimits",
    "BodyProgress",
    "CIO",
    "CIOConfig",
    "Capabilities",
    "CassetteError",
    "ClientCancelledError",
    "ClientClosedError",
    "ClientResponseError",
    "ClientState",
    "ClientStatus",
    "Codec",
    "ConfigError",
    "ConnectError",
    "ConnectTimeout",
    "ConstantCookiesStorage",
    "ContentNegotiation",
    "Cookie",
    "DEFAULT_PLUGINS",
    "DecodingError",
    "DefaultRequest",
    "Engine",
    "EngineConfig",
    "EngineInfo",
    "EngineNotFoundError",
    "EngineRegistry",
    "EventSource",
    "EventSourceOptions",
    "EventStreamError",
    "HttpCallValidator",
    "HttpClient",
    "HttpClientConfig",
    "HttpCookies",
    "HttpRedirect",
    "HttpRequestRetry",
    "HttpTimeout",
    "Httpx",
    "HttpxConfig",
    "InvalidRequestError",
    "JsonCodec",
    "KClientError",
    "KClientTimeoutError",
    "LogLevel",
    "Logging",
    "Mock",
    "MockAnswer",
    "MockConfig",
    "Plugin",
    "PluginConfig",
    "PoolTimeout",
    "ProtocolError",
    "ProxyBuilder",
    "ProxyConfig",
    "ProxyError",
    "ReadError",
    "Reconnection",
    "RedirectResponseError",
    "Request",
    "RequestTimeout",
    "Response",
    "ResponseError",
    "ResponseNotReadError",
    "ResponseTooLargeError",
    "SendOrder",
    "ServerResponseError",
    "ServerSentEvent",
    "SettingInfo",
    "SocketTimeout",
    "TLSError",
    "Timeouts",
    "TooManyRedirectsError",
    "TransportError",
    "UnhandledRequestError",
    "UnrecordedRequestError",
    "UnsupportedSettingError",
    "UserAgent",
    "WebSocketChannel",
    "WebSocketClosedError",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WebSocketOptions",
    "WebSocketProtocolError",
    "WebSocketSession",
    "WebSocketSettings",
    "WriteError",
    "__version__",
    "describe_settings",
    "respond",
    "respond_bad_request",
    "respond_error",
    "respond_events",
    "respond_ok",
    "respond_redirect",
    "run",
    "setting",
]


def test_all_is_pinned() -> None:
    assert kclient.__all__ == PUBLIC


def test_all_is_sorted_and_unique() -> None:
    assert kclient.__all__ == sorted(kclient.__all__)
    assert len(set(kclient.__all__)) == len(kclient.__all__)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from kclient import {name}", namespace)
    assert namespace[name] is getattr(kclient, name)
    assert namespace[name] is not None


def test_dir_lists_exactly_the_public_names() -> None:
    assert dir(kclient) == sorted(PUBLIC)


def test_star_import_gives_exactly_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from kclient import *", namespace)
    namespace.pop("__builtins__")
    assert sorted(namespace) == sorted(PUBLIC)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = kclient.Nope  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from kclient import Nope", {})


def test_lazy_names_are_the_engine_modules_objects() -> None:
    mock = importlib.import_module("kclient.engines.mock")
    httpx_engine = importlib.import_module("kclient.engines.httpx")
    assert kclient.Mock is mock.Mock
    assert kclient.respond is mock.respond
    assert kclient.MockAnswer is mock.MockAnswer
    assert kclient.Httpx is httpx_engine.Httpx
    assert kclient.HttpxConfig is httpx_engine.HttpxConfig


def test_public_classes_say_they_are_public() -> None:
    for name in PUBLIC:
        value = getattr(kclient, name)
        if isinstance(value, type):
            assert value.__module__.startswith("kclient"), name
            assert value.__doc__, name


def test_version() -> None:
    assert isinstance(kclient.__version__, str)
    assert kclient.__version__.count(".") >= 1


def test_engines_with_extras_are_attributes_but_not_in_all() -> None:
    from kclient.engines import registry

    for name in ("Aiohttp", "Urllib3"):
        assert name not in kclient.__all__  # from kclient import * never needs an extra
        info = registry().info(name)
        if info.available:
            assert getattr(kclient, name) is info.load()
        else:
            with pytest.raises(kclient.EngineNotFoundError, match=r"pip install"):
                getattr(kclient, name)


#: Former public names: each still resolves, with a DeprecationWarning naming its successor.
DEPRECATED = {"ClientRequestError": "ClientResponseError"}


@pytest.mark.parametrize(("old", "new"), DEPRECATED.items())
def test_a_former_name_still_works_with_a_deprecation_warning(old: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"kclient\.{old} is now kclient\.{new}"):
        value = getattr(kclient, old)
    assert value is getattr(kclient, new)  # ``except kclient.ClientRequestError`` still catches the new class
    assert old not in kclient.__all__ and old not in dir(kclient)
    with pytest.warns(DeprecationWarning):
        exec(f"from kclient import {old}", {})
