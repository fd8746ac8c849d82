"""kclient's plugins, after Ktor's client plugins; see ``kclient._plugin`` for how they work.

``DEFAULT_PLUGINS`` are installed on every client, each with its default options:
``c.install(HttpRedirect, max_redirects=5)`` changes one, ``c.uninstall(HttpRedirect)``
removes it.
"""

from __future__ import annotations

from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .auth import Auth, AuthConfig, AuthProvider, BasicAuth, BearerAuth, BearerTokens
from .content import Codec, ContentNegotiation, ContentNegotiationConfig, JsonCodec
from .cookies import (
    AcceptAllCookiesStorage,
    ConstantCookiesStorage,
    Cookie,
    CookiesStorage,
    HttpCookies,
    HttpCookiesConfig,
)
from .default_request import DefaultRequest, DefaultRequestConfig
from .logs import Logging, LoggingConfig, LogLevel
from .progress import BodyProgress, BodyProgressConfig, ProgressCallback
from .redirect import HttpRedirect, HttpRedirectConfig
from .retry import HttpRequestRetry, HttpRequestRetryConfig
from .timeout import HttpTimeout, HttpTimeoutConfig
from .user_agent import UserAgent, UserAgentConfig
from .validator import HttpCallValidator, HttpCallValidatorConfig

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
    "Codec",
    "ConstantCookiesStorage",
    "ContentNegotiation",
    "ContentNegotiationConfig",
    "Cookie",
    "CookiesStorage",
    "DEFAULT_PLUGINS",
    "DefaultRequest",
    "DefaultRequestConfig",
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
    "Send",
    "SendOrder",
    "UserAgent",
    "UserAgentConfig",
]

#: The plugins every client starts with: redirects followed, responses validated
#: (``expect_success`` off until asked), and a ``kclient/<version>`` User-Agent.
DEFAULT_PLUGINS: tuple[type[Plugin], ...] = (HttpRedirect, HttpCallValidator, UserAgent)
