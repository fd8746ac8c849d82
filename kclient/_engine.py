"""The engine contract: what an engine is, what it can do and how it is configured.

An engine is small (as httpx's transports): ``await engine.send(request)`` returns a
``Response`` whose body may still stream, and ``await engine.aclose()`` releases what
it holds. It declares its ``capabilities`` and a typed ``config_class``; asking an
engine for something it cannot do fails when the engine is created, never silently.
Engines see plain ``Request`` / ``Response`` data, never the client.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from ._errors import ConfigError, TransportError, UnsupportedSettingError
from ._models import NO_TIMEOUTS, Request, Response, Timeouts
from ._proxy import ProxyConfig, ProxyKind
from ._settings import build_settings, setting

if TYPE_CHECKING:
    from asyncio import AbstractEventLoop

    from ._ws_channel import WebSocketChannel, WebSocketSettings

__all__ = ["Capabilities", "Engine", "EngineConfig", "leave_loop", "require_module"]


def _proxy_or_none(value: object) -> ProxyConfig | None:
    return None if value is None else ProxyConfig.parse(value)


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    """Settings every engine understands (Ktor's ``HttpClientEngineConfig``).

    An engine that cannot honour one of them rejects it when set (see ``Capabilities``).
    """

    thread_count: int | None = setting(
        None, "Worker threads that run requests (engines that use threads only).", minimum=1, maximum=512
    )
    pipelining: bool = setting(False, "Send several requests on one connection without waiting for answers.")
    proxy: ProxyConfig | None = setting(
        None,
        "Proxy for every request: ProxyBuilder.http(url), ProxyBuilder.socks(host, port) or a URL.",
        convert=_proxy_or_none,
    )


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What an engine can do; settings that need more are rejected at creation."""

    http2: bool = False
    pipelining: bool = False
    proxies: frozenset[ProxyKind] = frozenset()
    streaming: bool = True
    worker_threads: bool = False
    #: ``Engine.websocket`` opens WebSocket sessions (``client.websocket``).
    websockets: bool = False
    #: The async libraries the engine runs on (``sniffio`` names).
    backends: frozenset[str] = frozenset({"asyncio", "trio"})

    def describe(self) -> str:
        """One line for listings: ``HTTP/2, pipelining, proxies: http, socks, streaming``."""
        parts = [name for name, on in (("HTTP/2", self.http2), ("pipelining", self.pipelining)) if on]
        if self.proxies:
            parts.append("proxies: " + ", ".join(sorted(self.proxies)))
        if self.streaming:
            parts.append("streaming")
        if self.websockets:
            parts.append("WebSockets")
        if self.worker_threads:
            parts.append("worker threads")
        return ", ".join(parts) or "none"


class Engine(abc.ABC):
    """Base class of every engine. Subclasses set ``name``, ``capabilities``, ``config_class``.

    ``Engine(**settings)`` or ``Engine(config)`` validates the settings against
    ``config_class`` and ``capabilities`` and raises ``ConfigError`` on the first problem.
    """

    #: The registered name (the entry point's name), e.g. ``"Httpx"``.
    name: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    config_class: ClassVar[type[EngineConfig]] = EngineConfig
    #: False for engines that ``HttpClient()`` must never pick by itself (Mock).
    auto_select: ClassVar[bool] = True

    config: EngineConfig

    def __init__(self, config: EngineConfig | Mapping[str, Any] | None = None, /, **settings: Any) -> None:
        self.config = self.make_config(config, **settings)

    @classmethod
    def make_config(cls, config: EngineConfig | Mapping[str, Any] | None = None, /, **settings: Any) -> EngineConfig:
        """Validate settings for this engine and return its typed config (raises ``ConfigError``)."""
        owner = f"engine {cls.name}"
        if isinstance(config, EngineConfig):
            if not isinstance(config, cls.config_class):
                raise ConfigError(
                    f"Engine {cls.name} takes a {cls.config_class.__name__}, not a {type(config).__name__}."
                )
            result = build_settings(cls.config_class, settings, owner=owner, base=config)
        else:
            merged = {**dict(config or {}), **settings}
            result = build_settings(cls.config_class, merged, owner=owner)
        cls.check_capabilities(result)
        return result

    @classmethod
    def check_capabilities(cls, config: EngineConfig) -> None:
        """Raise ``UnsupportedSettingError`` when ``config`` asks for more than the engine can do."""
        caps = cls.capabilities
        if config.pipelining and not caps.pipelining:
            raise UnsupportedSettingError(_unsupported(cls.name, "pipelining=True", lambda c: c.pipelining))
        if config.thread_count is not None and not caps.worker_threads:
            raise UnsupportedSettingError(
                _unsupported(
                    cls.name,
                    "thread_count (it runs on the event loop, with no worker threads)",
                    lambda c: c.worker_threads,
                )
            )
        if config.proxy is not None and config.proxy.kind not in caps.proxies:
            kind = config.proxy.kind
            raise UnsupportedSettingError(
                _unsupported(cls.name, f"{kind.upper()} proxies", lambda c: kind in c.proxies)
            )

    @abc.abstractmethod
    async def send(self, request: Request) -> Response:
        """Send ``request`` and return the response once its headers arrived.

        The body may still stream: the caller reads it and calls ``response.aclose()``.
        Raises a ``kclient.TransportError`` subclass (native error as ``__cause__``).
        """

    async def websocket(
        self, request: Request, settings: WebSocketSettings
    ) -> tuple[Response, WebSocketChannel | None]:
        """Send ``request`` as a WebSocket handshake (see ``_ws_channel``): the answer, and the
        open channel when it is ``101 Switching Protocols``. Engines that can declare
        ``Capabilities(websockets=True)``; the others refuse with the names of those that can."""
        raise UnsupportedSettingError(_unsupported(self.name, "WebSockets", lambda c: c.websockets))

    def default_timeouts(self) -> Timeouts:
        """Timeouts from the engine's settings, used where neither the request nor a plugin set one."""
        return NO_TIMEOUTS

    async def aclose(self) -> None:  # noqa: B027 - engines without resources need not override
        """Release connections, threads and sessions; idempotent."""

    def close(self) -> None:
        """Synchronous ``aclose()`` through kclient's runner (for lent engines in sync code)."""
        from ._runner import run

        run(self.aclose())

    def settings_text(self) -> str:
        """The settings that differ from their defaults, as ``name=value`` pairs."""
        default = self.config_class()
        changed = [
            f"{f.name}={getattr(self.config, f.name)!r}"
            for f in fields(self.config)
            if getattr(self.config, f.name) != getattr(default, f.name)
        ]
        return ", ".join(changed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings_text()})"


def leave_loop(engine: str, bound: AbstractEventLoop | None, *, holds_connections: bool) -> bool:
    """An engine whose connections belong to the event loop ``bound`` is used on another one.

    Raises ``TransportError`` when ``bound`` still runs and the engine holds connections there
    (they cannot be used, nor closed, from another loop: one engine per event loop). Returns True
    when the engine must drop what it holds and start over on the running loop (``bound`` is
    closed, or nothing is open there), False when it was bound to no loop yet.
    """
    if bound is None:
        return False
    if holds_connections and not bound.is_closed():
        raise TransportError(
            f"This {engine} engine's connections belong to another running event loop; use one engine per event loop."
        )
    return True


def require_module(engine: str, module: str, what: str, extra: str, *, package: str | None = None) -> None:
    """Raise ``ConfigError`` with the pip line when ``module`` (of ``package``) is not installed.

    For engine features that need an optional library (HTTP/2, SOCKS), checked when the engine is created.
    """
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ConfigError(
            f"Engine {engine} needs the {package or module} package for {what}: pip install 'kclient[{extra}]'."
        )


def _unsupported(engine: str, what: str, predicate: Any) -> str:
    from ._registry import default_registry

    able = default_registry().names_where(predicate)
    others = f" Engines that support it: {', '.join(able)}." if able else " No installed engine supports it yet."
    return f"Engine {engine} does not support {what}.{others}"
