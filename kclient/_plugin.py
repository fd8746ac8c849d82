"""Client plugins (Ktor's client plugins): a name, a typed config and hooks.

A plugin is installed in the configure block with ``c.install(Plugin, **options)``;
its options are validated like engine settings. Hooks run around every request on
every engine: ``on_request`` may return a changed request before it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ._models import Request, Timeouts
from ._settings import build_settings, setting

__all__ = ["HttpTimeout", "HttpTimeoutConfig", "Plugin", "PluginConfig"]


@dataclass(frozen=True, kw_only=True)
class PluginConfig:
    """Base of plugin configs (plugins without options use it as is)."""


class Plugin:
    """Base class of plugins. Subclasses set ``name`` and ``config_class`` and override hooks."""

    name: ClassVar[str]
    config_class: ClassVar[type[PluginConfig]] = PluginConfig

    def __init__(self, config: PluginConfig) -> None:
        self.config = config

    @classmethod
    def create(cls, **options: Any) -> Plugin:
        """Validate ``options`` (``ConfigError`` names the nearest valid one) and build the plugin."""
        return cls(build_settings(cls.config_class, options, owner=f"plugin {cls.name}"))

    def on_request(self, request: Request) -> Request:
        """Called before each request is sent; return the request to send."""
        return request

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"


def _seconds(doc: str) -> Any:
    return setting(None, doc, minimum=0.001, maximum=86400.0)


@dataclass(frozen=True, kw_only=True)
class HttpTimeoutConfig(PluginConfig):
    request_timeout: float | None = _seconds("Seconds for the whole request, from sending to the last body byte.")
    connect_timeout: float | None = _seconds("Seconds to open a connection.")
    socket_timeout: float | None = _seconds("Longest silence, in seconds, while sending or receiving.")


class HttpTimeout(Plugin):
    """Default timeouts for every request; a request's own ``timeout=`` wins over them.

    Expired timeouts raise ``RequestTimeout``, ``ConnectTimeout`` or ``SocketTimeout``
    (all ``TimeoutError``).
    """

    name = "HttpTimeout"
    config_class = HttpTimeoutConfig
    config: HttpTimeoutConfig

    def on_request(self, request: Request) -> Request:
        defaults = Timeouts(
            request=self.config.request_timeout,
            connect=self.config.connect_timeout,
            socket=self.config.socket_timeout,
        )
        request.timeouts = request.timeouts.merged_over(defaults)
        return request
