"""HttpCookies: a cookie jar after RFC 6265, kept across requests and redirects.

The rules are plain functions, tested without a network: ``parse_set_cookie`` (what a
``Set-Cookie`` header stores), ``domain_match``, ``path_match``, ``default_path``,
``cookies_for`` (what a URL is sent, in which order) and ``cookie_header``. The jar is a
``CookiesStorage``: ``AcceptAllCookiesStorage`` (the default) keeps what servers set,
``ConstantCookiesStorage`` sends a fixed set and ignores ``Set-Cookie``.

Cookies are secrets: ``repr(cookie)`` masks the value.

The cookie and the rules live in ``kclient.plugins._cookie_rules`` and the storages in
``kclient.plugins._cookie_jar``; their public names are re-exported here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._models import Request, Response
from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .._settings import setting
from ._cookie_jar import AcceptAllCookiesStorage, ConstantCookiesStorage, CookiesStorage
from ._cookie_rules import (
    Cookie,
    _absolute_url,
    cookie_header,
    cookies_for,
    default_path,
    domain_match,
    merge_cookie_header,
    parse_cookie_date,
    parse_set_cookie,
    path_match,
)

if TYPE_CHECKING:
    from multidict import CIMultiDict
    from yarl import URL

__all__ = [
    "AcceptAllCookiesStorage",
    "ConstantCookiesStorage",
    "Cookie",
    "CookiesStorage",
    "HttpCookies",
    "HttpCookiesConfig",
    "cookie_header",
    "cookies_for",
    "default_path",
    "domain_match",
    "merge_cookie_header",
    "parse_cookie_date",
    "parse_set_cookie",
    "path_match",
]


# -- the plugin ------------------------------------------------------------------------------


def _storage(value: Any) -> CookiesStorage:
    if not isinstance(value, CookiesStorage):
        raise ValueError(
            "it is a cookie storage such as AcceptAllCookiesStorage() or ConstantCookiesStorage(cookie, ...): "
            "an object with add(cookie, now), get(url, now), clear() and all()"
        )
    return value


@dataclass(frozen=True, kw_only=True)
class HttpCookiesConfig(PluginConfig):
    storage: CookiesStorage = setting(
        default_factory=AcceptAllCookiesStorage,
        doc="The cookie jar: AcceptAllCookiesStorage() keeps what servers set, ConstantCookiesStorage(...) is fixed.",
        convert=_storage,
    )


class HttpCookies(Plugin):
    """Sends the jar's cookies with each request and stores every ``Set-Cookie`` (RFC 6265).

    It sits below HttpRedirect, so each hop is handled: a cookie set by a 302 is sent to
    the redirect target when it matches. A ``Cookie`` header the caller set is kept and the
    jar's cookies are added to it (the caller's value wins for a name in both).
    ``plugin.cookies(url)`` lists what ``url`` would be sent; ``plugin.storage`` is the jar.
    """

    name = "HttpCookies"
    config_class = HttpCookiesConfig
    config: HttpCookiesConfig
    send_order = SendOrder.COOKIES

    @property
    def storage(self) -> CookiesStorage:
        """The cookie jar."""
        return self.config.storage

    def cookies(self, url: URL | str) -> list[Cookie]:
        """The cookies a request to ``url`` (an absolute URL) would carry now, in header order."""
        return self.storage.get(_absolute_url(url), time.time())

    async def on_send(self, request: Request, proceed: Send) -> Response:
        jar = self.storage.get(request.url, time.time())
        if jar:
            request = request.copy(headers=_with_cookies(request.headers, jar))
        response = await proceed(request)
        try:
            self._store(request.url, response)
        except BaseException:
            await response.aclose()
            raise
        return response

    def _store(self, url: URL, response: Response) -> None:
        values = response.header_values("Set-Cookie")
        if not values:
            return
        now = time.time()
        for value in values:
            cookie = parse_set_cookie(value, url, now)
            if cookie is not None:
                self.storage.add(cookie, now)


def _with_cookies(headers: CIMultiDict[str], jar: list[Cookie]) -> CIMultiDict[str]:
    """A copy of ``headers`` whose single ``Cookie`` header holds the caller's cookies and the jar's."""
    merged = headers.copy()
    explicit = merged.popall("Cookie", [])
    merged["Cookie"] = merge_cookie_header(explicit, jar)
    return merged
