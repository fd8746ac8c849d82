"""What ``HttpClient(...)`` was given, checked: the engine it names and the settings it sets.

The constructor takes an engine (a class, an instance, a registered name or nothing), a
configure function and ``engine_config={...}``; this module turns them into the client's
``HttpClientConfig`` and its engine, with a ``ConfigError`` that says what to write instead
for anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._client_config import HttpClientConfig
from ._engine import Engine
from ._errors import ConfigError
from ._registry import EngineRegistry

__all__ = ["EngineChoice", "client_config", "make_engine"]

#: What ``HttpClient``'s first argument may be.
EngineChoice = type[Engine] | Engine | str | None


def client_config(
    engine_config: Mapping[str, Any] | None,
    engine: Mapping[str, Any] | None,
    configure: Callable[[HttpClientConfig], None] | None,
) -> HttpClientConfig:
    """The configure block's result: ``engine_config`` (or its former name ``engine``), then ``configure(c)``."""
    config = HttpClientConfig()
    if isinstance(engine, Engine | str) or (isinstance(engine, type) and issubclass(engine, Engine)):
        shown = engine.__name__ if isinstance(engine, type) else repr(engine) if isinstance(engine, str) else "engine"
        raise ConfigError(
            f"Pass the engine first, HttpClient({shown}): engine= is the former name of engine_config={{...}}, "
            "the engine's settings."
        )
    if engine is not None:
        from ._deprecation import ENGINE_MEANS_THE_ENGINE, renamed

        renamed("HttpClient(engine={...})", "HttpClient(engine_config={...})", ENGINE_MEANS_THE_ENGINE, stacklevel=4)
        if engine_config is not None:
            raise ConfigError("Give the engine settings once, as engine_config={...} (engine= is its former name).")
        engine_config = engine
    if engine_config is not None:
        if not isinstance(engine_config, Mapping):
            raise ConfigError(f"engine_config= takes a dict of engine settings, not {type(engine_config).__name__}.")
        for key in engine_config:
            if not isinstance(key, str):
                raise ConfigError(f"Engine setting names are strings such as 'thread_count', not {key!r}.")
        config.engine_config(**engine_config)
    if configure is not None:
        if not callable(configure):
            raise ConfigError("The second argument of HttpClient is a configure function: def configure(c): ...")
        configure(config)
    return config


def make_engine(
    choice: EngineChoice, settings: Mapping[str, Any], registry: EngineRegistry
) -> tuple[Engine, bool, bool]:
    """Return (engine, owned, chosen_by_default) for what the user passed."""
    if isinstance(choice, Engine):
        if settings:
            raise ConfigError(
                f"Engine {choice.name} is lent to the client, so settings {', '.join(settings)} cannot be applied: "
                f"pass them when creating it, {type(choice).__name__}({', '.join(f'{k}=...' for k in settings)})."
            )
        return choice, False, False
    if choice is None:
        return registry.default()(**settings), True, True
    if isinstance(choice, str):
        return registry.get(choice)(**settings), True, False
    if isinstance(choice, type) and issubclass(choice, Engine):
        return choice(**settings), True, False
    hint = (
        " A configure function comes second: HttpClient(None, configure) or HttpClient('CIO', configure)."
        if callable(choice) and not isinstance(choice, type)
        else ""
    )
    raise ConfigError(
        f"HttpClient takes an engine class (HttpClient(CIO)), an engine instance, an engine name or nothing, "
        f"not {choice!r}.{hint} Available engines: {', '.join(registry.names())}."
    )
