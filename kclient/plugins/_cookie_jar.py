"""Cookie jars: the ``CookiesStorage`` protocol HttpCookies keeps cookies in, and its two storages.

``AcceptAllCookiesStorage`` (the default) keeps in memory every cookie servers set, a new
one replacing the stored cookie with the same name, domain and path, expired ones
dropped, at most ``max_cookies``; ``ConstantCookiesStorage`` sends a fixed set and
ignores ``Set-Cookie``. Both answer ``get(url, now)`` by RFC 6265's rules
(:func:`kclient.plugins._cookie_rules.cookies_for`). Re-exported by
:mod:`kclient.plugins.cookies`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ._cookie_rules import Cookie, cookies_for

if TYPE_CHECKING:
    from yarl import URL

__all__ = ["AcceptAllCookiesStorage", "ConstantCookiesStorage", "CookiesStorage"]


# -- storages --------------------------------------------------------------------------------


@runtime_checkable
class CookiesStorage(Protocol):
    """Where HttpCookies keeps cookies. ``now`` is epoch seconds (``time.time()``).

    ``add`` stores a cookie parsed from ``Set-Cookie`` (an expired one deletes the stored
    cookie with its name, domain and path), ``get`` returns what ``url`` is sent, in
    header order (see ``cookies_for``), ``clear`` forgets everything, ``all`` lists it.
    """

    def add(self, cookie: Cookie, now: float) -> None: ...

    def get(self, url: URL | str, now: float) -> list[Cookie]: ...

    def clear(self) -> None: ...

    def all(self) -> list[Cookie]: ...


class AcceptAllCookiesStorage:
    """Keeps every cookie servers set (the default storage), in memory.

    A cookie with the same (name, domain, path) as a stored one replaces it and keeps its
    creation time; expired cookies are dropped at each ``add`` and ``get``. Beyond
    ``max_cookies`` the oldest cookie is dropped.
    """

    def __init__(self, max_cookies: int = 3000) -> None:
        if isinstance(max_cookies, bool) or not isinstance(max_cookies, int) or max_cookies < 1:
            raise ValueError(f"max_cookies is a positive integer, not {max_cookies!r}.")
        self.max_cookies = max_cookies
        self._cookies: dict[tuple[str, str, str], Cookie] = {}  # in creation order

    def add(self, cookie: Cookie, now: float) -> None:
        self._drop_expired(now)
        old = self._cookies.get(cookie.key)
        if cookie.is_expired(now):
            self._cookies.pop(cookie.key, None)
            return
        if old is not None:
            cookie = replace(cookie, created=old.created)
        self._cookies[cookie.key] = cookie
        while len(self._cookies) > self.max_cookies:
            del self._cookies[next(iter(self._cookies))]

    def get(self, url: URL | str, now: float) -> list[Cookie]:
        if not self._cookies:  # the common case before any Set-Cookie: nothing to match
            return []
        self._drop_expired(now)
        return cookies_for(url, self._cookies.values(), now)

    def clear(self) -> None:
        self._cookies.clear()

    def all(self) -> list[Cookie]:
        """The stored cookies in creation order (expired ones go at the next ``add`` or ``get``)."""
        return list(self._cookies.values())

    def _drop_expired(self, now: float) -> None:
        expired = [key for key, cookie in self._cookies.items() if cookie.is_expired(now)]
        for key in expired:
            del self._cookies[key]

    def __repr__(self) -> str:
        return f"AcceptAllCookiesStorage({len(self._cookies)} cookies)"


class ConstantCookiesStorage:
    """A fixed set of cookies, sent by the usual domain, path, expiry and Secure rules.

    ``Set-Cookie`` headers are ignored and ``clear()`` leaves the set as it is.
    """

    def __init__(self, *cookies: Cookie) -> None:
        for cookie in cookies:
            if not isinstance(cookie, Cookie):
                raise TypeError(f"ConstantCookiesStorage takes Cookie objects, not {cookie!r}.")
        self._cookies = tuple(cookies)

    def add(self, cookie: Cookie, now: float) -> None:
        """Ignored: the set is constant."""

    def get(self, url: URL | str, now: float) -> list[Cookie]:
        return cookies_for(url, self._cookies, now)

    def clear(self) -> None:
        """Ignored: the set is constant."""

    def all(self) -> list[Cookie]:
        return list(self._cookies)

    def __repr__(self) -> str:
        return f"ConstantCookiesStorage({len(self._cookies)} cookies)"
