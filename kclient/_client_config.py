"""The configure block: ``HttpClient(CIO, configure)`` calls ``configure(c)`` with this object."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ._errors import ConfigError
from ._limits import DEFAULT_LIMITS, BodyLimits
from ._plugin import Plugin
from ._settings import build_settings

if TYPE_CHECKING:
    from yarl import URL

__all__ = ["HttpClientConfig"]


class HttpClientConfig:
    """What a configure block may set: engine settings, plugins and ``expect_success``.

    ``c.engine_config(thread_count=2)`` adds engine settings (later calls add to earlier ones),
    ``c.limits(max_body_size=2**30)`` bounds response bodies (``BodyLimits``),
    ``c.install(HttpTimeout, request_timeout=5)`` installs a plugin, ``c.uninstall(HttpRedirect)``
    removes one (the default plugins are in ``kclient.DEFAULT_PLUGINS``), and
    ``c.expect_success = True`` makes every non-2xx response raise a ``ResponseError``.
    """

    _ATTRIBUTES = ("engine_settings", "plugins", "expect_success", "body_limits")

    def __init__(self) -> None:
        from .plugins import DEFAULT_PLUGINS

        self.engine_settings: dict[str, Any] = {}
        #: Bounds on response bodies, set with ``c.limits(...)``.
        self.body_limits: BodyLimits = DEFAULT_LIMITS
        self.plugins: dict[type[Plugin], Plugin] = {plugin: plugin.create() for plugin in DEFAULT_PLUGINS}
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
                "c.engine_config(**settings), c.limits(**settings), c.install(Plugin, **options) and "
                "c.uninstall(Plugin)."
            )
        if name == "expect_success" and not isinstance(value, bool):
            raise ConfigError(f"c.expect_success must be True or False, not {value!r}.")
        object.__setattr__(self, name, value)

    def engine_config(self, **settings: Any) -> None:
        """Add engine settings (``client.engine.config`` is built from them), validated when the engine is created."""
        self.engine_settings.update(settings)

    def engine(self, **settings: Any) -> None:
        """Former name of ``engine_config``, kept working with a ``DeprecationWarning``."""
        from ._deprecation import ENGINE_MEANS_THE_ENGINE, renamed

        renamed("c.engine(**settings)", "c.engine_config(**settings)", ENGINE_MEANS_THE_ENGINE)
        self.engine_config(**settings)

    def limits(self, **settings: Any) -> None:
        """Set bounds on response bodies: ``max_body_size`` (bytes of a buffered body, after decoding;
        None: no limit), ``max_decompression_ratio`` and ``decompression_floor`` (see ``BodyLimits``)."""
        self.body_limits = build_settings(BodyLimits, settings, owner="c.limits", base=self.body_limits)

    def install(self, plugin: type[Plugin], **options: Any) -> None:
        """Install ``plugin`` with ``options``; installing it again (or a default one) replaces its options."""
        plugin_class = _plugin_class(plugin, "install")
        self.plugins[plugin_class] = plugin_class.create(**options)

    def uninstall(self, plugin: type[Plugin]) -> None:
        """Remove ``plugin`` (a default one such as ``HttpRedirect``, or one installed before)."""
        self.plugins.pop(_plugin_class(plugin, "uninstall"), None)

    def installed_plugins(self) -> dict[type[Plugin], Plugin]:
        """The plugins the client gets, with ``expect_success`` applied to HttpCallValidator."""
        from .plugins.validator import HttpCallValidator

        plugins = dict(self.plugins)
        if self.expect_success:
            validator = plugins.get(HttpCallValidator)
            if not isinstance(validator, HttpCallValidator):
                raise ConfigError(
                    "c.expect_success = True needs the HttpCallValidator plugin, which this block uninstalled."
                )
            plugins[HttpCallValidator] = HttpCallValidator(dataclasses.replace(validator.config, expect_success=True))
        return plugins

    @staticmethod
    def base_url(plugins: dict[type[Plugin], Plugin]) -> URL | None:
        """The base URL relative request URLs resolve against: the first plugin's ``base`` (DefaultRequest's)."""
        return next((base for plugin in plugins.values() if (base := plugin.base) is not None), None)


def _plugin_class(plugin: Any, verb: str) -> type[Plugin]:
    if not (isinstance(plugin, type) and issubclass(plugin, Plugin)):
        raise ConfigError(f"{verb}() takes a plugin class such as kclient.HttpTimeout, not {plugin!r}.")
    return plugin
