"""HttpCallValidator: ``expect_success`` and custom checks of every final response."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._models import Request, Response
from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .._settings import setting

__all__ = ["HttpCallValidator", "HttpCallValidatorConfig", "Validator"]

#: A custom check: called with each final response (body read, except in ``client.stream``);
#: it raises to refuse the response. It may be a coroutine function.
Validator = Callable[[Response], Any]

#: In ``client.stream``, an error body up to this size is read for the error's excerpt.
_EXCERPT_READ_LIMIT = 64 * 1024


def _validators(value: Any) -> tuple[Validator, ...]:
    items = (value,) if callable(value) else tuple(value) if isinstance(value, (list, tuple)) else None
    if items is None or not all(callable(item) for item in items):
        raise ValueError("it is a function (or a list of functions) called with each response")
    return items


@dataclass(frozen=True, kw_only=True)
class HttpCallValidatorConfig(PluginConfig):
    expect_success: bool = setting(False, "Raise a ResponseError for every 3xx, 4xx and 5xx final response.")
    validators: tuple[Validator, ...] = setting(
        (), "Functions called with each final response; they raise to refuse it.", convert=_validators
    )


class HttpCallValidator(Plugin):
    """Checks each final response (after redirects and retries); installed by default.

    With ``expect_success`` (or ``c.expect_success = True``, or a request's
    ``expect_success=True``) a 3xx, 4xx or 5xx status raises ``RedirectResponseError``,
    ``ClientResponseError`` or ``ServerResponseError``. Each error carries the response,
    its ``status`` and a ``body_excerpt`` (the first 200 characters). ``validators`` run
    after that, in order; the response is released when one raises.
    """

    name = "HttpCallValidator"
    config_class = HttpCallValidatorConfig
    config: HttpCallValidatorConfig
    send_order = SendOrder.VALIDATE
    request_options = frozenset({"expect_success"})

    def intercepts_send(self) -> bool:
        # Nothing to check without expect_success or validators: out of the chain of plain
        # requests (a request's own expect_success=True still passes through on_send).
        return self.config.expect_success or bool(self.config.validators)

    async def on_send(self, request: Request, proceed: Send) -> Response:
        response = await proceed(request)
        expect = self.config.expect_success
        if request.attributes is not None:
            expect = request.attributes.get("expect_success", expect)
        if not (expect and response.status >= 300) and not self.config.validators:
            return response
        try:
            if expect and response.status >= 300:
                await _read_small_body(response)
                response.raise_for_status()
            for validator in self.config.validators:
                outcome = validator(response)
                if inspect.isawaitable(outcome):
                    await outcome
        except BaseException:
            await response.aclose()
            raise
        return response


async def _read_small_body(response: Response) -> None:
    """Read a streamed error body when it is small, so the error can quote it."""
    if response.is_closed:
        return
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) <= _EXCERPT_READ_LIMIT:
        await response.aread()
