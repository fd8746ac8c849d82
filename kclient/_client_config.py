"""The configure block: ``HttpClient(CIO, configure)`` calls ``configure(c)`` with this object."""

from __future__ import annotations

from typing import Any

from ._errors import ConfigError
from ._plugin import Plugin

__all__ = ["HttpClientConfig"]


class HttpClientConfig:
    """What a configure block may set: engine settings, plugins and ``expect_success``.

    ``c.engine(thread_count=2)`` adds engine settings (later calls add to earlier ones),
    ``c.install(HttpTimeout, request_timeout=5)`` installs a plugin, and
    ``c.expect_success = True`` makes every non-2xx response raise a ``ResponseError``.
    """

    _ATTRIBUTES = ("engine_settings", "plugins", "expect_success")

    def __init__(self) -> None:
        self.engine_settings: dict[str, Any] = {}
        self.plugins: dict[type[Plugin], Plugin] = {}
        #: When True, responses whose status is not 2xx raise ``ResponseError`` subclasses.
        self.expect_success: bool = False

    def __setattr__(self, name: str, value: Any) -> None:
        # A misspelt ``c.expect_sucess = True`` must fail, not be silently ignored.
        if name not in self._ATTRIBUTES:
            import difflib

            guess = difflib.get_close_matches(name, self._ATTRIBUTES, n=1, cutoff=0.6)
            hint = f" Did you mean c.{guess[0]}?" if guess else ""
            raise ConfigError(
                f"A configure block has no setting {name!r}.{hint} It sets c.expect_success and calls "
                "c.engine(**settings) and c.install(Plugin, **options)."
            )
        if name == "expect_success" and not isinstance(value, bool):
            raise ConfigError(f"c.expect_success must be True or False, not {value!r}.")
        object.__setattr__(self, name, value)

    def engine(self, **settings: Any) -> None:
        """Add engine settings, validated when the engine is created."""
        self.engine_settings.update(settings)

    def install(self, plugin: type[Plugin], **options: Any) -> None:
        """Install ``plugin`` with ``options``; installing it again replaces its options."""
        if not (isinstance(plugin, type) and issubclass(plugin, Plugin)):
            raise ConfigError(f"install() takes a plugin class such as kclient.HttpTimeout, not {plugin!r}.")
        self.plugins[plugin] = plugin.create(**options)
