"""Logging: every exchange written to a standard ``logging`` logger, secrets masked.

The formatting is plain functions (``format_request``, ``format_response``,
``format_failure``, ``mask_headers``, ``mask_log_url``, ``describe_body``) in
``kclient._log_format``, re-exported here and tested without a network. The plugin sits at
``SendOrder.LOGGING``, below redirects and retries, so each attempt actually sent is logged
(every redirect hop, every retry); in ``client.request()`` it sits above the client's read
stage and sees responses whose body is read, in ``client.stream()`` it sees the response
before its body is read.

The module is named ``logs`` so that it does not shadow the standard library's
``logging``, which it imports only when the plugin is installed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from .._log_format import (
    LogLevel,
    _milliseconds,
    describe_body,
    format_failure,
    format_request,
    format_response,
    is_text_type,
    mask_headers,
    mask_log_url,
)
from .._models import Request, Response
from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .._redact import SECRET_HEADERS, SECRET_QUERY_KEYS, scrub, secret_values
from .._settings import setting
from .._syntax import is_token

__all__ = [
    "DEFAULT_LOGGER",
    "LogLevel",
    "LoggerLike",
    "Logging",
    "LoggingConfig",
    "describe_body",
    "format_failure",
    "format_request",
    "format_response",
    "is_text_type",
    "mask_headers",
    "mask_log_url",
    "scrub",
    "secret_values",
]

#: The logger used unless ``logger=`` names another one.
DEFAULT_LOGGER = "kclient"

#: ``logging.INFO`` and ``logging.WARNING`` (fixed by the standard library), so that
#: ``import kclient`` does not import ``logging``.
_INFO = 20
_WARNING = 30


class LoggerLike(Protocol):
    """What the plugin needs of a logger: ``logging.Logger`` and ``logging.LoggerAdapter`` fit."""

    def isEnabledFor(self, level: int) -> bool: ...

    def log(self, level: int, msg: object, *args: object) -> None: ...


# -- settings ---------------------------------------------------------------------------------


def _level(value: Any) -> LogLevel:
    if isinstance(value, LogLevel):
        return value
    if isinstance(value, str) and value.strip().upper() in LogLevel.__members__:
        return LogLevel[value.strip().upper()]
    raise ValueError(f"it is one of {', '.join(LogLevel.__members__)} (a LogLevel or its name, any case)")


def _logger(value: Any) -> str | LoggerLike:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("it is a logger name such as 'kclient' or a logging.Logger")
        return value
    import logging

    if isinstance(value, (logging.Logger, logging.LoggerAdapter)):
        return value
    raise ValueError("it is a logger name such as 'kclient', a logging.Logger or a logging.LoggerAdapter")


def _header_names(value: Any) -> frozenset[str]:
    names = _names(value, "a header name or a list of header names such as ['X-Session']")
    for name in names:
        if not is_token(name):
            raise ValueError(f"{name!r} is not a valid header name")
    return names


def _query_names(value: Any) -> frozenset[str]:
    return _names(value, "a query parameter name or a list of them such as ['session', 'code']")


def _names(value: Any, what: str) -> frozenset[str]:
    """Lower-cased names from one string or a list, tuple or set of strings."""
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple, set, frozenset)):
        raise ValueError(f"it is {what}")
    if not all(isinstance(item, str) and item.strip() for item in items):
        raise ValueError(f"it is {what} (non-empty strings)")
    return frozenset(item.strip().lower() for item in items)


def _listing(names: frozenset[str]) -> str:
    return ", ".join(sorted(names))


@dataclass(frozen=True, kw_only=True)
class LoggingConfig(PluginConfig):
    level: LogLevel = setting(
        LogLevel.HEADERS, "NONE, INFO, HEADERS, BODY or ALL (a LogLevel or its name).", convert=_level
    )
    logger: str | LoggerLike = setting(
        DEFAULT_LOGGER, "A logger name or a logging.Logger; exchanges are logged at INFO.", convert=_logger
    )
    masked_headers: frozenset[str] = setting(
        frozenset(),
        f"Header names shown as *** besides {_listing(SECRET_HEADERS)} (case-insensitive).",
        convert=_header_names,
    )
    masked_query_params: frozenset[str] = setting(
        frozenset(),
        f"Query parameter (and form field) names shown as *** besides {_listing(SECRET_QUERY_KEYS)} "
        "(case-insensitive).",
        convert=_query_names,
    )
    body_limit: int = setting(
        4096, "Bytes of a text body logged at BODY and ALL; longer bodies are cut.", minimum=0, maximum=1 << 20
    )


# -- the plugin -------------------------------------------------------------------------------


def _resolve_logger(logger: str | LoggerLike) -> LoggerLike:
    if isinstance(logger, str):
        import logging

        return logging.getLogger(logger)
    return logger


class Logging(Plugin):
    """Logs each exchange to a standard logger (default ``"kclient"``), secrets masked.

    Each attempt sent is logged: one INFO record for the request (``--> GET url``) and one for
    the response (``<-- 200 OK GET url (12 ms)``), with headers and bodies as ``level`` says
    (``LogLevel``, default HEADERS as in Ktor). An exchange that raises gets one WARNING record
    with the error's type and message. Authorization, Proxy-Authorization, Cookie, Set-Cookie,
    X-Api-Key, X-Auth-Token and ``masked_headers`` show as ``***``; so do URL passwords and
    secret query parameters, and their values are masked wherever they appear in a logged body
    or message. Bodies are logged up to ``body_limit`` bytes when they are text, described
    otherwise; streamed bodies are never consumed. ``level=NONE`` removes the plugin from the
    chain. Records are formatted only when the logger is enabled for INFO.
    """

    name = "Logging"
    config_class = LoggingConfig
    config: LoggingConfig
    send_order = SendOrder.LOGGING

    def __init__(self, config: LoggingConfig) -> None:
        super().__init__(config)
        self._logger = _resolve_logger(config.logger)
        self._options: dict[str, Any] = {
            "masked_headers": config.masked_headers,
            "masked_query_params": config.masked_query_params,
        }

    @property
    def logger(self) -> LoggerLike:
        """The logger records go to."""
        return self._logger

    def intercepts_send(self) -> bool:
        return self.config.level is not LogLevel.NONE

    async def on_send(self, request: Request, proceed: Send) -> Response:
        logger, level = self._logger, self.config.level
        enabled = logger.isEnabledFor(_INFO)
        if enabled:
            lines = format_request(request, level, body_limit=self.config.body_limit, **self._options)
            logger.log(_INFO, "%s", "\n".join(lines))
        started = time.perf_counter()
        try:
            response = await proceed(request)
        except Exception as error:
            self._log_failure(request, error, time.perf_counter() - started)
            raise
        except BaseException as interruption:  # cancelled: not an error of the exchange
            if enabled:
                self._log_interruption(request, interruption, time.perf_counter() - started)
            raise
        if enabled:
            try:
                lines = format_response(
                    response, level, time.perf_counter() - started, body_limit=self.config.body_limit, **self._options
                )
                logger.log(_INFO, "%s", "\n".join(lines))
            except BaseException:
                await response.aclose()
                raise
        return response

    def _log_failure(self, request: Request, error: Exception, elapsed: float) -> None:
        """One WARNING record: the request, the time and the error's type and message, no traceback."""
        if self._logger.isEnabledFor(_WARNING):
            self._logger.log(_WARNING, "%s", format_failure(request, error, elapsed, **self._options))

    def _log_interruption(self, request: Request, interruption: BaseException, elapsed: float) -> None:
        """One INFO record for an exchange cancelled from outside (a timeout of ``client.stream()``...)."""
        url = mask_log_url(request.url, self.config.masked_query_params)
        line = f"<-- {request.method} {url} interrupted after {_milliseconds(elapsed)} ({type(interruption).__name__})"
        self._logger.log(_INFO, "%s", line)
