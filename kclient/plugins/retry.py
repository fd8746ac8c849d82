"""HttpRequestRetry: sends a request again after a server error or a failed exchange.

The decisions are plain functions (``should_retry_response``, ``should_retry_exception``,
``retry_delay``, ``parse_retry_after``, ``config_for_option``), tested without a network
or an event loop; the plugin only strings them together around ``proceed``.
"""

from __future__ import annotations

import inspect
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import ClientCancelledError, InvalidRequestError, TLSError, TransportError
from .._models import IDEMPOTENT_METHODS, Request, Response
from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .._settings import build_settings, setting

__all__ = [
    "RETRY_STATUSES",
    "HttpRequestRetry",
    "HttpRequestRetryConfig",
    "ModifyRequest",
    "RetryIf",
    "config_for_option",
    "parse_retry_after",
    "retry_delay",
    "should_retry_exception",
    "should_retry_response",
]

#: Statuses retried with ``retry_on_server_errors``: every 5xx, and 429 Too Many Requests.
RETRY_STATUSES = frozenset({429, *range(500, 600)})

#: Called with the fresh copy of the request for retry number ``attempt`` (1 for the first
#: retry); it changes the copy in place and returns None, or returns the request to send.
ModifyRequest = Callable[[Request, int], Request | None]

#: Called with the request and either the response (``exception`` None) or the exception
#: (``response`` None) of an attempt; returns True to retry. It may be a coroutine function.
RetryIf = Callable[[Request, Response | None, Exception | None], bool | Awaitable[bool]]

#: The largest exponent of the backoff: beyond it the delay is max_delay anyway (and 2**n stays a float).
_MAX_EXPONENT = 64


# -- decisions --------------------------------------------------------------------------------


def _may_resend(method: str, config: HttpRequestRetryConfig) -> bool:
    """True when ``method`` may be sent twice: idempotent, or ``retry_non_idempotent`` is set."""
    return config.retry_non_idempotent or method in IDEMPOTENT_METHODS


def should_retry_response(method: str, status: int, config: HttpRequestRetryConfig) -> bool:
    """True when a response with ``status`` to a ``method`` request is worth another attempt:
    a 5xx or a 429, with ``retry_on_server_errors``, for a method that may be sent again."""
    return config.retry_on_server_errors and status in RETRY_STATUSES and _may_resend(method, config)


def should_retry_exception(method: str, exc: BaseException, config: HttpRequestRetryConfig) -> bool:
    """True when an attempt that raised ``exc`` is worth another one.

    With ``retry_on_exceptions``, every ``TransportError`` is (a refused or reset connection,
    a broken response, an expired ``RequestTimeout``/``ConnectTimeout``/``SocketTimeout``)
    except ``TLSError``: a certificate that failed verification will fail again. Cancellation
    and every other error are never retried. The method must be one that may be sent again.
    """
    if not config.retry_on_exceptions or not isinstance(exc, TransportError) or isinstance(exc, TLSError):
        return False
    return _may_resend(method, config)


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: a number of seconds or an HTTP date.

    ``now`` is the current time in seconds since the epoch (``time.time()``); a date in the
    past gives 0.0. Returns None for a value that is neither (it is then ignored).
    """
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.replace(".", "", 1).isdigit():
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    from datetime import UTC
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # HTTP dates are always in GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def retry_delay(
    attempt: int, config: HttpRequestRetryConfig, retry_after: str | None, now: float, random_value: float
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry).

    The backoff is ``base_delay * 2 ** (attempt - 1)``, capped at ``max_delay``; ``jitter``
    takes up to that fraction off it, as ``random_value`` (in [0, 1)) says: with jitter 0.1
    the delay is between 90 % and 100 % of the backoff, with 1.0 anywhere up to it ("full
    jitter"). With ``respect_retry_after``, a ``Retry-After`` value (seconds or an HTTP date,
    read at ``now`` seconds since the epoch) is waited for when it asks for longer, up to
    ``max_delay``: the delay never exceeds ``max_delay``, whatever the server asks.
    """
    exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
    backoff = min(config.base_delay * 2.0**exponent, config.max_delay)
    delay = backoff * (1.0 - config.jitter * random_value)
    if config.respect_retry_after and retry_after is not None:
        asked = parse_retry_after(retry_after, now)
        if asked is not None:
            delay = max(delay, min(asked, config.max_delay))
    return delay


def config_for_option(option: Any, base: HttpRequestRetryConfig) -> HttpRequestRetryConfig:
    """The config of one request from its ``retry=`` option: ``base`` when it is None, an
    int sets ``max_retries`` (0 turns retries off), a dict sets any of the config's options.

    Raises ``ConfigError`` for an unknown option or a value out of range and
    ``InvalidRequestError`` for an option that is neither a number nor a dict.
    """
    if option is None:
        return base
    if isinstance(option, int) and not isinstance(option, bool):
        option = {"max_retries": option}
    elif not isinstance(option, Mapping):
        raise InvalidRequestError(
            "retry= is a number of retries (0 turns retries off) or a dict of HttpRequestRetry options "
            f"such as {{'max_retries': 5, 'base_delay': 1.0}}, not {option!r}."
        )
    return build_settings(HttpRequestRetryConfig, option, owner="request option retry", base=base)


# -- config and plugin ------------------------------------------------------------------------


def _optional_function(value: Any) -> Any:
    if value is not None and not callable(value):
        raise ValueError("it is a function, or None")
    return value


@dataclass(frozen=True, kw_only=True)
class HttpRequestRetryConfig(PluginConfig):
    max_retries: int = setting(3, "Retries after the first attempt (0 turns retrying off).", minimum=0, maximum=100)
    retry_on_server_errors: bool = setting(True, "Retry responses 500 to 599 and 429 Too Many Requests.")
    retry_on_exceptions: bool = setting(
        True, "Retry failed exchanges (TransportError, timeouts included; never TLSError)."
    )
    retry_non_idempotent: bool = setting(
        False, "Retry POST, PATCH and other methods that are not idempotent (they may run twice)."
    )
    base_delay: float = setting(
        0.5, "Seconds before the first retry; doubled for each next one.", minimum=0.0, maximum=3600.0
    )
    max_delay: float = setting(30.0, "Longest wait between attempts, in seconds.", minimum=0.0, maximum=86400.0)
    jitter: float = setting(
        0.1, "Fraction of each delay taken off at random (0: none, 1: full jitter).", minimum=0.0, maximum=1.0
    )
    respect_retry_after: bool = setting(True, "Wait as long as a Retry-After header asks (up to max_delay).")
    modify_request: ModifyRequest | None = setting(
        None, "Function (request, attempt) that changes a retried request.", convert=_optional_function
    )
    retry_if: RetryIf | None = setting(
        None,
        "Function (request, response or None, exception or None) -> bool that replaces the default decision.",
        convert=_optional_function,
    )


class HttpRequestRetry(Plugin):
    """Sends a request again after a 5xx or 429 response or a failed exchange, with backoff.

    By default a request is retried up to ``max_retries`` (3) times when the server answers
    500 to 599 or 429, or when the exchange fails with a ``TransportError`` (a refused or
    reset connection, a timeout; never ``TLSError``, never a cancellation), and only for
    idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) unless
    ``retry_non_idempotent``. A request with a streamed (async-iterable) body is never
    retried: its body cannot be sent twice. Each attempt sends a fresh copy of the request,
    changed by ``modify_request`` when given; ``retry_if`` replaces the default decision.

    The delay before retry n is ``base_delay * 2 ** (n - 1)``, capped at ``max_delay``, with
    up to ``jitter`` of it taken off at random; a ``Retry-After`` header (seconds or an HTTP
    date) makes it longer when it asks for more, up to ``max_delay``. The wait is cancellable.
    Each retried response is closed before the next attempt. When attempts run out the last
    response is returned, or the last exception raised as it is, with a note saying how many
    attempts were made.

    Timeouts: in ``client.request()`` the request timeout (``HttpTimeout`` or ``timeout=``)
    bounds each attempt, not the whole call, so an attempt that raises ``RequestTimeout`` is
    retried, and the worst case is about ``(max_retries + 1) * request_timeout`` plus the
    delays. In ``client.stream()`` the request timeout bounds the whole call, retries included.

    A request's ``retry=`` option overrides the config: a number sets ``max_retries`` (0 turns
    retrying off), a dict sets any of the options above.
    """

    name = "HttpRequestRetry"
    config_class = HttpRequestRetryConfig
    config: HttpRequestRetryConfig
    send_order = SendOrder.RETRY
    request_options = frozenset({"retry"})

    async def on_send(self, request: Request, proceed: Send) -> Response:
        config = self._config_for(request)
        if config.max_retries == 0 or request.is_streaming:
            return await proceed(request)
        retries = 0
        attempt = request.copy()
        while True:
            retry_after: str | None = None
            try:
                response = await proceed(attempt)
            except Exception as exc:
                if retries >= config.max_retries or not await _decide_exception(config, attempt, exc):
                    if retries:
                        exc.add_note(f"HttpRequestRetry gave up after {retries + 1} attempts.")
                    raise
            else:
                if retries >= config.max_retries:
                    return response
                if config.retry_if is None:  # the usual case, decided without another coroutine
                    if not should_retry_response(attempt.method, response.status, config):
                        return response
                elif not await _decide_response(config.retry_if, attempt, response):
                    return response
                retry_after = response.headers.get("Retry-After")
                await response.aclose()
            retries += 1
            await _pause(retry_delay(retries, config, retry_after, time.time(), random.random()))
            attempt = _next_attempt(request, retries, config)

    def _config_for(self, request: Request) -> HttpRequestRetryConfig:
        """The plugin's config, or the request's own when it sets ``retry=``."""
        if request.attributes is None:
            return self.config
        return config_for_option(request.attributes.get("retry"), self.config)


async def _decide_exception(config: HttpRequestRetryConfig, request: Request, exc: Exception) -> bool:
    """The decision for an attempt that raised ``exc``: ``retry_if``'s, or the default one."""
    if isinstance(exc, ClientCancelledError):
        return False
    if config.retry_if is None:
        return should_retry_exception(request.method, exc, config)
    return await _ask(config.retry_if, request, None, exc)


async def _decide_response(retry_if: RetryIf, request: Request, response: Response) -> bool:
    """``retry_if``'s decision for ``response`` (the default one is taken inline, on the hot
    path); the response is closed when the decision fails."""
    try:
        return await _ask(retry_if, request, response, None)
    except BaseException:
        await response.aclose()
        raise


async def _ask(retry_if: RetryIf, request: Request, response: Response | None, exc: Exception | None) -> bool:
    outcome = retry_if(request, response, exc)
    if inspect.isawaitable(outcome):
        outcome = await outcome
    return bool(outcome)


def _next_attempt(original: Request, retries: int, config: HttpRequestRetryConfig) -> Request:
    """A fresh copy of ``original`` for retry number ``retries``, through ``modify_request``."""
    attempt = original.copy()
    if config.modify_request is not None:
        changed = config.modify_request(attempt, retries)
        if changed is not None:
            if not isinstance(changed, Request):
                raise TypeError(
                    f"HttpRequestRetry's modify_request returns a Request or None, not {type(changed).__name__}."
                )
            attempt = changed
    return attempt


async def _pause(seconds: float) -> None:
    """Wait ``seconds`` before the next attempt (cancellable); anyio is imported on first use."""
    import anyio

    await anyio.sleep(seconds)
