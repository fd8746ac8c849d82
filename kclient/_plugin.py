"""Client plugins (Ktor's client plugins): a name, a typed config and hooks.

A plugin is installed in the configure block with ``c.install(Plugin, **options)``; its
options are validated like engine settings. Two hooks run around every request, on
every engine:

* ``on_request(request)`` runs once, before anything is sent, and returns the request to
  send (default headers, timeouts, a base URL...).
* ``on_send(request, proceed)`` wraps each exchange: it calls ``await proceed(request)``
  (zero, one or several times) and returns a response. Redirects, retries, auth refresh,
  cookies, logging and progress are written this way. Plugins sit in the chain by their
  ``send_order``, outermost first (see ``SendOrder``), not by the order of installation,
  so that a redirect is always followed inside the validator and retried attempts are
  each logged.

``on_close()`` runs when the client releases its engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar

from ._settings import build_settings

if TYPE_CHECKING:
    from yarl import URL

    from ._models import Request, Response

__all__ = ["Plugin", "PluginConfig", "Send", "SendOrder", "compose", "overrides_send"]

#: What ``on_send`` calls to hand the request to the rest of the chain.
Send = Callable[["Request"], Awaitable["Response"]]


class SendOrder(IntEnum):
    """Where a plugin's ``on_send`` sits, outermost (first to see the request) first.

    ``READ`` is the client's own stage: for ``client.request`` it reads the body within the
    request timeout, so the stages above it see responses whose body is read, and each
    attempt below a retry or a redirect gets its own timeout. ``client.stream`` has no
    ``READ`` stage: the body is read by the caller.
    """

    VALIDATE = 100
    AUTH = 200
    REDIRECT = 300
    RETRY = 400
    COOKIES = 500
    CUSTOM = 550
    LOGGING = 600
    READ = 700
    CACHE = 720
    RECORD = 750
    PROGRESS = 800


@dataclass(frozen=True, kw_only=True)
class PluginConfig:
    """Base of plugin configs (plugins without options use it as is)."""


class Plugin:
    """Base class of plugins. Subclasses set ``name`` and ``config_class`` and override hooks."""

    name: ClassVar[str]
    config_class: ClassVar[type[PluginConfig]] = PluginConfig
    #: Where ``on_send`` sits in the chain (ignored unless the plugin overrides ``on_send``).
    send_order: ClassVar[int] = SendOrder.CUSTOM
    #: Per-request options this plugin reads from ``request.attributes`` (``follow_redirects``...).
    request_options: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config: PluginConfig) -> None:
        self.config = config

    @classmethod
    def create(cls, **options: Any) -> Plugin:
        """Validate ``options`` (``ConfigError`` names the nearest valid one) and build the plugin."""
        return cls(build_settings(cls.config_class, options, owner=f"plugin {cls.name}"))

    def on_request(self, request: Request) -> Request:
        """Called once before a request is sent; return the request to send."""
        return request

    async def on_send(self, request: Request, proceed: Send) -> Response:
        """Called for each exchange: send with ``await proceed(request)`` and return a response."""
        return await proceed(request)

    def intercepts_send(self) -> bool:
        """True when ``on_send`` must be in the chain (a plugin may opt out for its config).

        A plugin that opts out but reads ``request_options`` is still called for the requests
        that carry per-request options (``request.attributes``).
        """
        return overrides_send(self)

    @property
    def base(self) -> URL | None:
        """The base URL this plugin resolves relative request URLs against, or None (most plugins).

        The client takes the first plugin's that is not None (``DefaultRequest``'s ``url``).
        """
        return None

    def prepares_request(self) -> bool:
        """True when ``on_request`` must run."""
        return type(self).on_request is not Plugin.on_request

    async def on_close(self) -> None:
        """Called once when the client releases its engine."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"


def overrides_send(plugin: Plugin) -> bool:
    """True when ``plugin``'s class has an ``on_send`` of its own."""
    return type(plugin).on_send is not Plugin.on_send


def compose(plugins: Iterable[Plugin], innermost: Send) -> Send:
    """The chain of ``plugins``' ``on_send`` hooks around ``innermost``, outermost first by ``send_order``."""
    send = innermost
    for plugin in sorted(plugins, key=lambda p: p.send_order, reverse=True):
        send = _bind(plugin, send)
    return send


def _bind(plugin: Plugin, proceed: Send) -> Send:
    hook = plugin.on_send

    def send(request: Request) -> Awaitable[Response]:
        # A plain function that hands over the hook's coroutine: no coroutine of its own, so a
        # request does not pay a frame per plugin each time the task resumes.
        return hook(request, proceed)

    send.__qualname__ = f"{plugin.name}.on_send"
    return send
