"""kclient: an interactive HTTP client with pluggable engines, after Ktor's client.

Quick start::

    from kclient import HttpClient
    async with HttpClient() as client:
        response = await client.get("http://127.0.0.1:8000/get")

``import kclient`` is cheap: engines that wrap other libraries (``Httpx``) are imported
on first use, and nothing from IPython is imported here (see ``kclient.magics``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._blocking import BlockingClient
from ._client import HttpClient
from ._client_config import HttpClientConfig
from ._engine import Capabilities, Engine, EngineConfig
from ._errors import (
    CassetteError,
    ClientCancelledError,
    ClientClosedError,
    ClientResponseError,
    ConfigError,
    ConnectError,
    ConnectTimeout,
    DecodingError,
    EngineNotFoundError,
    EventStreamError,
    InvalidRequestError,
    KClientError,
    KClientTimeoutError,
    PoolTimeout,
    ProtocolError,
    ProxyError,
    ReadError,
    RedirectResponseError,
    RequestTimeout,
    ResponseError,
    ResponseNotReadError,
    ResponseTooLargeError,
    ServerResponseError,
    SocketTimeout,
    TLSError,
    TooManyRedirectsError,
    TransportError,
    UnhandledRequestError,
    UnrecordedRequestError,
    UnsupportedSettingError,
    WebSocketClosedError,
    WebSocketError,
    WebSocketHandshakeError,
    WebSocketProtocolError,
    WriteError,
)
from ._lifecycle import ClientStatus
from ._limits import BodyLimits
from ._models import Request, Response, Timeouts
from ._plugin import Plugin, PluginConfig, SendOrder
from ._proxy import ProxyBuilder, ProxyConfig
from ._registry import EngineInfo, EngineRegistry
from ._runner import run
from ._settings import SettingInfo, describe_settings, setting
from ._states import ClientState
from ._version import __version__
from .plugins import (
    DEFAULT_PLUGINS,
    DefaultRequest,
    HttpCallValidator,
    HttpRedirect,
    HttpTimeout,
    UserAgent,
)

if TYPE_CHECKING:
    from ._event_source import EventSource, EventSourceOptions, Reconnection
    from ._sse import ServerSentEvent
    from ._websocket import WebSocketOptions, WebSocketSession
    from ._ws_channel import WebSocketChannel, WebSocketSettings
    from .engines.cio import CIO, CIOConfig
    from .engines.httpx import Httpx, HttpxConfig
    from .engines.mock import (
        Mock,
        MockAnswer,
        MockConfig,
        respond,
        respond_bad_request,
        respond_error,
        respond_events,
        respond_ok,
        respond_redirect,
    )
    from .plugins import (
        AcceptAllCookiesStorage,
        Auth,
        BasicAuth,
        BearerAuth,
        BearerTokens,
        BodyProgress,
        Codec,
        ConstantCookiesStorage,
        ContentNegotiation,
        Cookie,
        HttpCookies,
        HttpRequestRetry,
        JsonCodec,
        Logging,
        LogLevel,
    )


__all__ = [
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

#: Engines are imported on first access: their libraries are not cheap to import, and a
#: session that never uses an engine should not pay for it.
_LAZY = {
    # Server-Sent Events: imported with the first client.sse().
    "EventSource": "kclient._event_source",
    "EventSourceOptions": "kclient._event_source",
    "Reconnection": "kclient._event_source",
    "ServerSentEvent": "kclient._sse",
    # WebSockets: imported with the first client.websocket().
    "WebSocketOptions": "kclient._websocket",
    "WebSocketSession": "kclient._websocket",
    "WebSocketChannel": "kclient._ws_channel",
    "WebSocketSettings": "kclient._ws_channel",
    "CIO": "kclient.engines.cio",
    "CIOConfig": "kclient.engines.cio",
    "Httpx": "kclient.engines.httpx",
    "HttpxConfig": "kclient.engines.httpx",
    **dict.fromkeys(
        [
            "Mock",
            "MockAnswer",
            "MockConfig",
            "respond",
            "respond_bad_request",
            "respond_error",
            "respond_events",
            "respond_ok",
            "respond_redirect",
        ],
        "kclient.engines.mock",
    ),
    # Plugins that are not default ones (kclient.plugins.LAZY says which module holds each).
    **dict.fromkeys(
        [
            "AcceptAllCookiesStorage",
            "Auth",
            "BasicAuth",
            "BearerAuth",
            "BearerTokens",
            "BodyProgress",
            "Codec",
            "ConstantCookiesStorage",
            "ContentNegotiation",
            "Cookie",
            "HttpCookies",
            "HttpRequestRetry",
            "JsonCodec",
            "LogLevel",
            "Logging",
        ],
        "kclient.plugins",
    ),
}


#: Engines whose libraries come with an extra: ``kclient.Aiohttp`` works once it is installed,
#: else raises ``EngineNotFoundError`` with the pip line. Not in ``__all__``, so that
#: ``from kclient import *`` never needs them.
_WITH_EXTRAS = ("Aiohttp", "Urllib3")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext kclient``: register the ``%kclient`` magics (see ``kclient.magics``)."""
    import importlib  # kclient.magics is mapped from the magics/ folder: imported by name

    importlib.import_module("kclient.magics").load_ipython_extension(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext kclient``: close the kernel client and unregister the magics."""
    import importlib

    importlib.import_module("kclient.magics").unload_ipython_extension(ipython)


#: Former names, kept working with a ``DeprecationWarning``: old name -> (new name, why it changed).
_DEPRECATED = {
    "ClientRequestError": ("ClientResponseError", "a 4xx answer, not a request kclient refused to send"),
}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        from ._deprecation import renamed

        new, why = _DEPRECATED[name]
        renamed(f"kclient.{name}", f"kclient.{new}", why)
        return globals()[new]
    if name == "engines":  # the subpackage, for kclient.engines.registry()
        import importlib

        return importlib.import_module("kclient.engines")
    if name in _WITH_EXTRAS:
        from .engines import registry

        return registry().get(name)
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'kclient' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
