"""kclient's plugins, after Ktor's client plugins; see ``kclient._plugin`` for how they work.

``DEFAULT_PLUGINS`` are installed on every client, each with its default options:
``c.install(HttpRedirect, max_redirects=5)`` changes one, ``c.uninstall(HttpRedirect)``
removes it. The default plugins and the small ones are imported with ``kclient``; the
others (Auth, HttpCookies, Logging, ContentNegotiation, BodyProgress, HttpRequestRetry, Record,
HttpCache)
on first use, so that ``import kclient`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .default_request import DefaultRequest, DefaultRequestConfig
from .redirect import HttpRedirect, HttpRedirectConfig
from .timeout import HttpTimeout, HttpTimeoutConfig
from .user_agent import UserAgent, UserAgentConfig
from .validator import HttpCallValidator, HttpCallValidatorConfig

if TYPE_CHECKING:
    from .auth import Auth, AuthConfig, AuthProvider, BasicAuth, BearerAuth, BearerTokens
    from .cache import CacheMode, HttpCache, HttpCacheConfig
    from .content import Codec, ContentNegotiation, ContentNegotiationConfig, JsonCodec
    from .cookies import (
        AcceptAllCookiesStorage,
        ConstantCookiesStorage,
        Cookie,
        CookiesStorage,
        HttpCookies,
        HttpCookiesConfig,
    )
    from .logs import Logging, LoggingConfig, LogLevel
    from .progress import BodyProgress, BodyProgressConfig, ProgressCallback
    from .record import Record, RecordConfig
    from .retry import HttpRequestRetry, HttpRequestRetryConfig

__all__ = [
    "AcceptAllCookiesStorage",
    "Auth",
    "AuthConfig",
    "AuthProvider",
    "BasicAuth",
    "BearerAuth",
    "BearerTokens",
    "BodyProgress",
    "BodyProgressConfig",
    "CacheMode",
    "Codec",
    "ConstantCookiesStorage",
    "ContentNegotiation",
    "ContentNegotiationConfig",
    "Cookie",
    "CookiesStorage",
    "DEFAULT_PLUGINS",
    "DefaultRequest",
    "DefaultRequestConfig",
    "HttpCache",
    "HttpCacheConfig",
    "HttpCallValidator",
    "HttpCallValidatorConfig",
    "HttpCookies",
    "HttpCookiesConfig",
    "HttpRedirect",
    "HttpRedirectConfig",
    "HttpRequestRetry",
    "HttpRequestRetryConfig",
    "HttpTimeout",
    "HttpTimeoutConfig",
    "JsonCodec",
    "LogLevel",
    "Logging",
    "LoggingConfig",
    "Plugin",
    "PluginConfig",
    "ProgressCallback",
    "Record",
    "RecordConfig",
    "Send",
    "SendOrder",
    "UserAgent",
    "UserAgentConfig",
]

#: The plugins every client starts with: redirects followed, responses validated
#: (``expect_success`` off until asked), and a ``kclient/<version>`` User-Agent.
DEFAULT_PLUGINS: tuple[type[Plugin], ...] = (HttpRedirect, HttpCallValidator, UserAgent)


#: The plugins imported on first use: name -> module.
LAZY = {
    **dict.fromkeys(["Auth", "AuthConfig", "AuthProvider", "BasicAuth", "BearerAuth", "BearerTokens"], "auth"),
    **dict.fromkeys(["Codec", "ContentNegotiation", "ContentNegotiationConfig", "JsonCodec"], "content"),
    **dict.fromkeys(
        [
            "AcceptAllCookiesStorage",
            "ConstantCookiesStorage",
            "Cookie",
            "CookiesStorage",
            "HttpCookies",
            "HttpCookiesConfig",
        ],
        "cookies",
    ),
    **dict.fromkeys(["LogLevel", "Logging", "LoggingConfig"], "logs"),
    **dict.fromkeys(["BodyProgress", "BodyProgressConfig", "ProgressCallback"], "progress"),
    **dict.fromkeys(["HttpRequestRetry", "HttpRequestRetryConfig"], "retry"),
    **dict.fromkeys(["Record", "RecordConfig"], "record"),
    **dict.fromkeys(["CacheMode", "HttpCache", "HttpCacheConfig"], "cache"),
}


def __getattr__(name: str) -> Any:
    module = LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kclient.plugins' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"kclient.plugins.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
