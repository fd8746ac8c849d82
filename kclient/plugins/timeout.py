"""HttpTimeout: default request, connect and socket timeouts for every request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._models import Request, Timeouts
from .._plugin import Plugin, PluginConfig
from .._settings import setting

__all__ = ["HttpTimeout", "HttpTimeoutConfig"]


def _seconds(doc: str) -> Any:
    return setting(None, doc, minimum=0.001, maximum=86400.0)


@dataclass(frozen=True, kw_only=True)
class HttpTimeoutConfig(PluginConfig):
    request_timeout: float | None = _seconds("Seconds for each attempt, from sending to the last body byte.")
    connect_timeout: float | None = _seconds("Seconds to open a connection.")
    socket_timeout: float | None = _seconds("Longest silence, in seconds, while sending or receiving.")


class HttpTimeout(Plugin):
    """Default timeouts for every request; a request's own ``timeout=`` wins over them.

    Expired timeouts raise ``RequestTimeout``, ``ConnectTimeout`` or ``SocketTimeout``
    (all ``TimeoutError`` and ``KClientError``). The request timeout bounds each attempt:
    a retried or redirected request gets it again for every exchange.
    """

    name = "HttpTimeout"
    config_class = HttpTimeoutConfig
    config: HttpTimeoutConfig

    def __init__(self, config: HttpTimeoutConfig) -> None:
        super().__init__(config)
        self._defaults = Timeouts(
            request=config.request_timeout, connect=config.connect_timeout, socket=config.socket_timeout
        )

    def on_request(self, request: Request) -> Request:
        request.timeouts = request.timeouts.merged_over(self._defaults)
        return request
