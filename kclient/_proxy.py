"""Proxy settings: ``ProxyBuilder.http(url)`` and ``ProxyBuilder.socks(host, port)``.

Credentials given in a proxy URL are used by the engine and never shown: the repr
and every message print the URL with its password replaced by ``***``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ._errors import ConfigError
from ._redact import mask_credentials, mask_url, mask_url_text

if TYPE_CHECKING:
    from yarl import URL

__all__ = ["EnvironmentProxies", "ProxyBuilder", "ProxyConfig", "ProxyKind"]

ProxyKind = Literal["http", "socks"]

_HTTP_SCHEMES = ("http", "https")
_SOCKS_SCHEMES = ("socks5", "socks5h", "socks4", "socks4a")


def _parse_url(value: object, what: str) -> URL:
    """``URL(value)``, or ``ConfigError`` with credentials masked (never the bare ``ValueError``)."""
    from yarl import URL

    try:
        return URL(str(value))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Invalid {what} {mask_url_text(str(value))!r}: {mask_credentials(str(exc))}") from None


@dataclass(frozen=True, slots=True, repr=False)
class ProxyConfig:
    """A proxy to send requests through: its kind and its URL (credentials included)."""

    kind: ProxyKind
    url: URL

    def __repr__(self) -> str:
        return f"ProxyConfig({self.kind}, {mask_url(self.url)!r})"

    __str__ = __repr__

    @property
    def basic_authorization(self) -> str | None:
        """The ``Proxy-Authorization`` value made of the URL's credentials (``None`` without any)."""
        url = self.url
        if url.user is None and url.password is None:
            return None
        import base64

        token = base64.b64encode(f"{url.user or ''}:{url.password or ''}".encode()).decode("ascii")
        return f"Basic {token}"

    @classmethod
    def parse(cls, value: object) -> ProxyConfig:
        """Accept a ``ProxyConfig`` or a URL string (``http://``, ``https://``, ``socks5://``...)."""
        from yarl import URL

        if isinstance(value, ProxyConfig):
            return value
        if isinstance(value, (str, URL)):
            url = _parse_url(value, "proxy URL")
            if url.scheme in _SOCKS_SCHEMES:
                return ProxyBuilder.socks(
                    url.host or "", url.port or 1080, username=url.user, password=url.password, scheme=url.scheme
                )
            return ProxyBuilder.http(url)
        raise ConfigError(
            f"A proxy must be ProxyBuilder.http(url), ProxyBuilder.socks(host, port) or a URL string, "
            f"not {type(value).__name__}."
        )


class ProxyBuilder:
    """Builds proxy settings, as Ktor's ``ProxyBuilder`` does."""

    @staticmethod
    def http(url: str | URL) -> ProxyConfig:
        """An HTTP proxy: plain requests in absolute form, HTTPS through ``CONNECT``.

        ``url`` is ``http://[user:password@]host:port``; raises ``ConfigError`` when it is not.
        """
        parsed = _parse_url(url, "HTTP proxy URL")
        if parsed.scheme not in _HTTP_SCHEMES or not parsed.host:
            raise ConfigError(
                f"An HTTP proxy URL looks like http://host:port (got {mask_url(parsed)!r}); "
                "for a SOCKS proxy use ProxyBuilder.socks(host, port)."
            )
        return ProxyConfig("http", parsed)

    @staticmethod
    def socks(
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        scheme: str = "socks5",
    ) -> ProxyConfig:
        """A SOCKS proxy at ``host:port`` (SOCKS5 by default), with optional credentials."""
        if not host or not isinstance(host, str):
            raise ConfigError("A SOCKS proxy needs a host name, for example ProxyBuilder.socks('127.0.0.1', 1080).")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigError(f"A SOCKS proxy port must be between 1 and 65535, not {port!r}.")
        if scheme not in _SOCKS_SCHEMES:
            raise ConfigError(f"A SOCKS proxy scheme is one of {', '.join(_SOCKS_SCHEMES)}, not {scheme!r}.")
        from yarl import URL

        try:
            url = URL.build(scheme=scheme, host=host, port=port, user=username, password=password)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"Invalid SOCKS proxy {host!r}:{port}: {mask_credentials(str(exc))}") from None
        return ProxyConfig("socks", url)


class EnvironmentProxies:
    """The proxy variables, read once (when an engine is created): which proxy a URL goes through.

    ``HTTP_PROXY`` and ``HTTPS_PROXY`` by URL scheme (``ALL_PROXY`` standing in with
    ``fall_back_to_all``), of the ``kinds`` the engine takes; ``NO_PROXY`` exempts hosts. A value
    kclient cannot use is ignored, as curl does.
    """

    __slots__ = ("proxies", "settings")

    def __init__(self, kinds: Collection[ProxyKind], *, fall_back_to_all: bool = False) -> None:
        import urllib.request

        #: The variables as urllib reads them: ``{"http": ..., "no": ...}``.
        self.settings: dict[str, str] = urllib.request.getproxies_environment()
        #: The usable proxy for each URL scheme that has one.
        self.proxies: dict[str, ProxyConfig] = {}
        for scheme in ("http", "https"):
            value = self.settings.get(scheme) or (self.settings.get("all") if fall_back_to_all else None)
            if not value:
                continue
            try:
                proxy = ProxyConfig.parse(value if "://" in value else f"http://{value}")
            except ConfigError:
                continue
            if proxy.kind in kinds:
                self.proxies[scheme] = proxy

    def for_url(self, url: URL) -> ProxyConfig | None:
        """The proxy for ``url``, or ``None`` (no variable for its scheme, or its host is in NO_PROXY)."""
        found = self.proxies.get(url.scheme)
        if found is None:
            return None
        import urllib.request

        if urllib.request.proxy_bypass_environment(url.raw_host or "", self.settings):  # type: ignore[attr-defined]
            return None
        return found
