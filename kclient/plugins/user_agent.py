"""UserAgent: the User-Agent header every request carries unless it sets its own."""

from __future__ import annotations

from dataclasses import dataclass

from .._models import Request
from .._plugin import Plugin, PluginConfig
from .._settings import setting
from .._syntax import has_control
from .._version import __version__

__all__ = ["DEFAULT_AGENT", "UserAgent", "UserAgentConfig"]

#: What kclient says it is, on every engine, unless configured otherwise.
DEFAULT_AGENT = f"kclient/{__version__}"


def _agent(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("it is a non-empty string such as 'my-tool/1.0'")
    if has_control(value):
        raise ValueError("it contains a line break, NUL or other control character, which would split the request")
    return value


@dataclass(frozen=True, kw_only=True)
class UserAgentConfig(PluginConfig):
    agent: str = setting(DEFAULT_AGENT, "The User-Agent header sent when a request sets none.", convert=_agent)


class UserAgent(Plugin):
    """Sets ``User-Agent`` (default ``kclient/<version>``) on requests that do not set one.

    Installed by default, so that every engine introduces itself the same way; a request's
    own ``User-Agent`` header wins.
    """

    name = "UserAgent"
    config_class = UserAgentConfig
    config: UserAgentConfig

    def on_request(self, request: Request) -> Request:
        headers = request.headers
        if "User-Agent" not in headers:
            headers["User-Agent"] = self.config.agent
        return request
