"""DefaultRequest: a base URL, headers and query parameters for every request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._models import Request
from .._plugin import Plugin, PluginConfig
from .._settings import setting
from .._syntax import has_control, is_token

if TYPE_CHECKING:
    from yarl import URL

__all__ = ["DefaultRequest", "DefaultRequestConfig"]


def _base_url(value: Any) -> str | None:
    if value is None:
        return None
    from yarl import URL

    if not isinstance(value, (str, URL)):
        raise ValueError("it is an absolute http(s) URL such as 'http://127.0.0.1:8000/api/'")
    url = URL(value) if isinstance(value, str) else value
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("it is an absolute http(s) URL such as 'http://127.0.0.1:8000/api/'")
    return str(url)


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError("it is a dict of header names to values")
    for name, text in value.items():
        if not isinstance(name, str) or not is_token(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if not isinstance(text, str) or has_control(text):
            raise ValueError(f"header {name} must be a string without line breaks, NUL or other control characters")
    return dict(value)


def _params(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError("it is a dict of parameter names to values")
    result: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(name, str) or isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValueError(f"parameter {name!r} must be a string or a number")
        result[name] = str(item)
    return result


@dataclass(frozen=True, kw_only=True)
class DefaultRequestConfig(PluginConfig):
    url: str | None = setting(
        None, "Base URL: relative request URLs are resolved against it (end it with /).", convert=_base_url
    )
    headers: dict[str, str] = setting(
        default_factory=dict, doc="Headers added to requests that do not set them.", convert=_headers
    )
    params: dict[str, str] = setting(
        default_factory=dict, doc="Query parameters added to requests that do not set them.", convert=_params
    )


class DefaultRequest(Plugin):
    """Defaults for every request: a base URL, headers and query parameters.

    Relative URLs resolve as in a browser (RFC 3986): with ``url="http://api.test/v1/"``,
    ``client.get("users")`` asks for ``/v1/users`` and ``client.get("/users")`` for ``/users``.
    End the base with ``/``: ``http://api.test/v1`` + ``users`` is ``/users``. A request's
    own headers and query parameters win over the defaults.
    """

    name = "DefaultRequest"
    config_class = DefaultRequestConfig
    config: DefaultRequestConfig

    def __init__(self, config: DefaultRequestConfig) -> None:
        super().__init__(config)
        self._base: URL | None = None

    @property
    def base(self) -> URL | None:
        """The base URL, parsed, or None."""
        if self._base is None and self.config.url is not None:
            from yarl import URL

            self._base = URL(self.config.url)
        return self._base

    def prepares_request(self) -> bool:
        return bool(self.config.headers or self.config.params)

    def on_request(self, request: Request) -> Request:
        headers = request.headers
        for name, value in self.config.headers.items():
            if name not in headers:
                headers[name] = value
        if self.config.params:
            query = request.url.query
            missing = [(name, value) for name, value in self.config.params.items() if name not in query]
            if missing:
                request.url = request.url.extend_query(missing)
        return request
