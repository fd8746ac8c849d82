"""Engine discovery through the ``kclient.engines`` entry-point group.

This is the Python counterpart of Ktor's ServiceLoader: a package adds an engine by
declaring one entry point, ``MyEngine = "mypkg.engine:MyEngine [extra]"``, with no change
to kclient. The entry point's name is the engine's name; its extras name what to
install when the engine's dependencies are missing. An engine is *available* when its
module imports. ``HttpClient()`` picks the first available engine in case-insensitive
alphabetical order of name, skipping engines that opt out (Mock).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._errors import ConfigError, EngineNotFoundError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from ._engine import Capabilities, Engine

__all__ = ["ENTRY_POINT_GROUP", "EngineInfo", "EngineRegistry", "default_registry"]

ENTRY_POINT_GROUP = "kclient.engines"


@dataclass(eq=False)
class EngineInfo:
    """One registered engine: its name, where it comes from and whether it imports."""

    entry_point: EntryPoint
    _loaded: type[Engine] | None = field(default=None, repr=False)
    _import_error: ImportError | None = field(default=None, repr=False)
    _not_an_engine: str | None = field(default=None, repr=False)
    _tried: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        return self.entry_point.name

    @property
    def extras(self) -> tuple[str, ...]:
        """The extras of the distribution that provide this engine's dependencies."""
        return tuple(self.entry_point.extras)

    @property
    def distribution(self) -> str:
        dist = self.entry_point.dist
        return dist.name if dist is not None else "unknown"

    @property
    def install_hint(self) -> str:
        """The ``pip install`` line that makes this engine available."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"pip install '{self.distribution}{extras}'"

    @property
    def available(self) -> bool:
        """True when the engine's module and dependencies import."""
        self._try_load()
        return self._loaded is not None

    @property
    def missing_reason(self) -> str | None:
        """Why the engine is not available (the import error), or ``None``."""
        self._try_load()
        return None if self._import_error is None else str(self._import_error)

    def load(self) -> type[Engine]:
        """Import and return the engine class; ``EngineNotFoundError`` says what to install."""
        self._try_load()
        if self._loaded is None:
            raise EngineNotFoundError(
                f"Engine {self.name} is registered but its dependencies are missing "
                f"({self._import_error}). Install them with: {self.install_hint}"
            ) from self._import_error
        return self._loaded

    def _try_load(self) -> None:
        if self._not_an_engine is not None:  # asked again: the same answer, not "dependencies missing"
            raise ConfigError(self._not_an_engine)
        if self._tried:
            return
        self._tried = True
        try:
            loaded = self.entry_point.load()
        except ImportError as exc:
            self._import_error = exc
            return
        except AttributeError as exc:  # the module imports but lacks the named class: a broken package
            self._not_an_engine = (
                f"Entry point {self.name} = {self.entry_point.value!r} of {self.distribution} names "
                f"something its module does not define ({exc}); fix or uninstall that package."
            )
            raise ConfigError(self._not_an_engine) from exc
        from ._engine import Engine

        if not (isinstance(loaded, type) and issubclass(loaded, Engine)):
            self._not_an_engine = (
                f"Entry point {self.name} = {self.entry_point.value!r} of {self.distribution} is not a "
                "kclient.Engine subclass; fix or uninstall that package."
            )
            raise ConfigError(self._not_an_engine)
        self._loaded = loaded


class EngineRegistry:
    """The registered engines, sorted by name (case-insensitive).

    ``EngineRegistry()`` reads the installed distributions' entry points; tests and tools
    may pass their own ``entry_points``.
    """

    def __init__(self, entry_points: Iterable[EntryPoint] | None = None) -> None:
        if entry_points is None:
            from importlib.metadata import entry_points as installed  # imported here: it is slow to import

            entry_points = installed(group=ENTRY_POINT_GROUP)
        found = entry_points
        by_name: dict[str, EngineInfo] = {}
        for ep in found:
            by_name.setdefault(ep.name.casefold(), EngineInfo(ep))
        self._engines = [by_name[key] for key in sorted(by_name)]

    def __iter__(self) -> Iterator[EngineInfo]:
        return iter(self._engines)

    def __len__(self) -> int:
        return len(self._engines)

    def names(self) -> list[str]:
        """Registered engine names in selection order."""
        return [info.name for info in self._engines]

    def info(self, name: str) -> EngineInfo:
        """The registered engine called ``name`` (case-insensitive), or ``EngineNotFoundError``."""
        for info in self._engines:
            if info.name.casefold() == name.casefold():
                return info
        import difflib

        guess = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.5)
        hint = f" Did you mean {guess[0]}?" if guess else ""
        raise EngineNotFoundError(
            f"No engine named {name!r} is registered.{hint} Available engines: {', '.join(self.names()) or 'none'}."
        )

    def get(self, name: str) -> type[Engine]:
        """The engine class called ``name``; raises ``EngineNotFoundError`` naming what to install."""
        return self.info(name).load()

    def default(self) -> type[Engine]:
        """The engine ``HttpClient()`` uses: the first available one that allows auto-selection."""
        for info in self._engines:
            if info.available and info.load().auto_select:
                return info.load()
        hints = "; ".join(f"{info.name}: {info.install_hint}" for info in self._engines if not info.available)
        raise EngineNotFoundError(
            "No HTTP engine is available: install kclient with an engine's extra, for example "
            f"pip install 'kclient[aiohttp]'.{(' Registered but missing: ' + hints + '.') if hints else ''}"
        )

    def names_where(self, predicate: Callable[[Capabilities], bool]) -> list[str]:
        """Names of the available engines whose capabilities satisfy ``predicate``."""
        return [info.name for info in self._engines if info.available and predicate(info.load().capabilities)]


@functools.cache
def default_registry() -> EngineRegistry:
    """The registry of installed engines, read once per process."""
    return EngineRegistry()
