"""The cookie and RFC 6265's rules for it, as plain functions tested without a network.

``Cookie`` is one stored cookie (its ``repr`` masks the value). ``parse_set_cookie`` says
what a ``Set-Cookie`` header stores (with ``parse_cookie_date`` for ``Expires``);
``domain_match``, ``path_match`` and ``default_path`` are the matching rules of section
5.1; ``cookies_for`` picks what a URL is sent, in header order, and ``cookie_header`` and
``merge_cookie_header`` write the ``Cookie`` header. Used by the storages
(:mod:`kclient.plugins._cookie_jar`) and the HttpCookies plugin
(:mod:`kclient.plugins.cookies`, which re-exports the public names).
"""

from __future__ import annotations

import calendar
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._redact import MASK
from .._syntax import has_control

if TYPE_CHECKING:
    from yarl import URL

__all__ = [
    "Cookie",
    "cookie_header",
    "cookies_for",
    "default_path",
    "domain_match",
    "merge_cookie_header",
    "parse_cookie_date",
    "parse_set_cookie",
    "path_match",
]

#: Schemes whose requests may carry Secure cookies.
SECURE_SCHEMES = frozenset({"https", "wss"})

#: SameSite values as stored (the attribute is matched case-insensitively).
SAME_SITE_VALUES = ("Strict", "Lax", "None")

#: Longest name plus value accepted from a server (what browsers keep, RFC 6265 section 6.1).
MAX_NAME_VALUE_SIZE = 4096


# -- the cookie ------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Cookie:
    """One stored cookie.

    ``domain`` is the host it belongs to (lowercase, without a leading dot); with
    ``host_only`` it is sent to that host only, else to its subdomains too. ``expires`` is
    in epoch seconds (None: kept for the life of the jar). ``created`` orders cookies of
    equal path length in the ``Cookie`` header. ``repr`` masks the value.
    """

    name: str
    value: str
    domain: str
    path: str = "/"
    expires: float | None = None
    secure: bool = False
    http_only: bool = False
    host_only: bool = True
    same_site: str | None = None
    created: float = 0.0

    def __post_init__(self) -> None:
        _check_cookie(self)

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies a cookie in a jar: (name, domain, path); a new one with the same key replaces it."""
        return (self.name, self.domain, self.path)

    def is_expired(self, now: float) -> bool:
        """True once the expiry time is reached (never for a cookie without one)."""
        return self.expires is not None and self.expires <= now

    def __repr__(self) -> str:
        flags = "".join(f", {name}" for name, on in (("secure", self.secure), ("http_only", self.http_only)) if on)
        scope = self.domain if self.host_only else f"*.{self.domain}"
        return f"<Cookie {self.name}={MASK} for {scope}{self.path}{flags} expires={self.expires}>"


def _check_cookie(cookie: Cookie) -> None:
    """Refuse a cookie that could not be sent in a ``Cookie`` header as it is."""
    if not isinstance(cookie.name, str) or not cookie.name or any(c in cookie.name for c in ";="):
        raise ValueError(f"A cookie name is a non-empty string without ';' or '=', not {cookie.name!r}.")
    if not isinstance(cookie.value, str) or ";" in cookie.value:
        raise ValueError(f"The value of cookie {cookie.name} must be a string without ';'.")
    if has_control(cookie.name + cookie.value):
        raise ValueError(f"Cookie {cookie.name}: the name and value must not contain control characters.")
    if not isinstance(cookie.domain, str) or not cookie.domain or cookie.domain.startswith("."):
        raise ValueError(
            f"The domain of cookie {cookie.name} is a host name such as 'example.com' (no leading dot), "
            f"not {cookie.domain!r}."
        )
    if not isinstance(cookie.path, str) or not cookie.path.startswith("/"):
        raise ValueError(f"The path of cookie {cookie.name} starts with '/', not {cookie.path!r}.")
    if cookie.same_site is not None and cookie.same_site not in SAME_SITE_VALUES:
        raise ValueError(f"same_site of cookie {cookie.name} is one of {SAME_SITE_VALUES} or None.")


# -- matching (RFC 6265 section 5.1) ---------------------------------------------------------


def _is_ip_address(host: str) -> bool:
    """True when ``host`` is an IPv4 or IPv6 address (without brackets) rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def domain_match(host: str, domain: str) -> bool:
    """True when ``host`` is ``domain`` or a subdomain of it (RFC 6265 5.1.3).

    An IP address matches only itself: ``1.2.3.4`` is not a subdomain of ``3.4``.
    """
    host, domain = host.lower(), domain.lower()
    if host == domain:
        return True
    return bool(domain) and host.endswith("." + domain) and not _is_ip_address(host)


def default_path(url_path: str) -> str:
    """The path a cookie gets when ``Set-Cookie`` names none: the request path up to, not
    including, its last ``/`` ("/" for "", "/" and "/page"), RFC 6265 5.1.4."""
    if not url_path.startswith("/") or url_path.count("/") == 1:
        return "/"
    return url_path[: url_path.rindex("/")]


def path_match(request_path: str, cookie_path: str) -> bool:
    """True when a cookie for ``cookie_path`` is sent to ``request_path`` (RFC 6265 5.1.4):
    the same path, or a prefix ending at a ``/`` ("/docs" matches "/docs/a", not "/docsx")."""
    if request_path == cookie_path:
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"


# -- dates (RFC 6265 section 5.1.1) ----------------------------------------------------------

_DATE_TOKEN = re.compile(r"[^\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
# ASCII digits only: int() would also take other scripts' digits.
_TIME = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?", re.DOTALL | re.ASCII)
_DAY = re.compile(r"(\d{1,2})(?:\D.*)?", re.DOTALL | re.ASCII)
_YEAR = re.compile(r"(\d{2,4})(?:\D.*)?", re.DOTALL | re.ASCII)
_MAX_AGE = re.compile(r"-?[0-9]+")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_cookie_date(text: str) -> float | None:
    """Epoch seconds of an ``Expires`` date, or None when it is not a date (RFC 6265 5.1.1).

    The RFC's lenient algorithm: RFC 1123 (``Wed, 21 Oct 2015 07:28:00 GMT``), RFC 850
    (``Wednesday, 21-Oct-15 07:28:00 GMT``), asctime (``Wed Oct 21 07:28:00 2015``) and
    the usual mixtures all parse; two-digit years 70-99 are 19xx, 00-69 are 20xx.
    """
    hms: tuple[int, int, int] | None = None
    day = month = year = None
    for token in _DATE_TOKEN.findall(text):
        if hms is None and (found := _TIME.fullmatch(token)):
            hms = (int(found[1]), int(found[2]), int(found[3]))
        elif day is None and (found := _DAY.fullmatch(token)):
            day = int(found[1])
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS.index(token[:3].lower()) + 1
        elif year is None and (found := _YEAR.fullmatch(token)):
            year = int(found[1])
    if hms is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = hms
    if year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None  # a date that does not exist (31 Feb)
    return float(calendar.timegm((year, month, day, hour, minute, second)))


# -- Set-Cookie (RFC 6265 sections 5.2 and 5.3) ----------------------------------------------


def parse_set_cookie(header_value: str, request_url: URL | str, now: float) -> Cookie | None:
    """The cookie one ``Set-Cookie`` header stores, or None when it must be ignored.

    ``request_url`` is the URL the response answered (each redirect hop has its own).
    Ignored: no ``name=value``, an empty name, control characters, name and value over
    4096 bytes, a ``Domain`` the request host does not domain-match (or a one-label
    domain such as ``com`` for another host: no public-suffix list is used), a ``Secure``
    cookie set over plain http, and ``__Secure-``/``__Host-`` names whose rules are not
    met. ``Max-Age`` wins over ``Expires``; ``Max-Age<=0`` or a past date gives an
    expired cookie, which deletes the stored one. Cookies of an IP host are host-only.
    """
    url = _absolute_url(request_url)
    if has_control(header_value):
        return None
    pair, _, unparsed = header_value.partition(";")
    name, equals, value = pair.partition("=")
    name, value = name.strip(" \t"), value.strip(" \t")
    if not equals or not name or len(name) + len(value) > MAX_NAME_VALUE_SIZE:
        return None
    attributes = _attributes(unparsed, now)
    host = _host(url)
    domain = _cookie_domain(attributes.get("domain"), host)
    if domain is None:
        return None
    secure = "secure" in attributes
    if secure and url.scheme not in SECURE_SCHEMES:
        return None  # only a secure origin may set a Secure cookie (RFC 6265bis)
    path = attributes.get("path") or default_path(url.raw_path)
    try:
        cookie = Cookie(
            name=name,
            value=value,
            domain=domain or host,
            path=path,
            expires=attributes.get("max-age", attributes.get("expires")),
            secure=secure,
            http_only="httponly" in attributes,
            host_only=not domain,
            same_site=attributes.get("samesite"),
            created=now,
        )
    except ValueError:
        return None  # a domain a Cookie refuses (such as "..example.com"): nothing sensible to store
    return cookie if _prefix_rules_met(cookie, domain_given="domain" in attributes) else None


def _attributes(unparsed: str, now: float) -> dict[str, Any]:
    """The cookie attributes that apply, by lowercase name; the last valid one of a kind wins."""
    found: dict[str, Any] = {}
    for item in unparsed.split(";"):
        key, _, raw = item.partition("=")
        key, raw = key.strip(" \t").lower(), raw.strip(" \t")
        if key == "expires":
            expires = parse_cookie_date(raw)
            if expires is not None:
                found["expires"] = expires
        elif key == "max-age":
            if _MAX_AGE.fullmatch(raw):
                found["max-age"] = _max_age_expiry(raw, now)
        elif key == "domain":
            if raw:
                found["domain"] = raw.removeprefix(".").lower()
        elif key == "path":
            found["path"] = raw if raw.startswith("/") else None
        elif key in ("secure", "httponly"):
            found[key] = True
        elif key == "samesite":
            matching = [value for value in SAME_SITE_VALUES if value.lower() == raw.lower()]
            if matching:
                found["samesite"] = matching[0]
    return found


def _max_age_expiry(raw: str, now: float) -> float:
    """The expiry of ``Max-Age=raw``: zero or less is "already expired" (the epoch)."""
    if raw.startswith("-") or raw.strip("0") == "":
        return 0.0
    digits = raw.lstrip("0")
    delta = int(digits) if len(digits) <= 15 else 10**15  # no float overflow for absurd values
    return now + delta


def _cookie_domain(attribute: str | None, host: str) -> str | None:
    """The ``Domain`` a cookie is stored for: "" for a host-only cookie, None to ignore the cookie."""
    if attribute is None:
        return ""
    try:
        domain = attribute.encode("idna").decode("ascii") if not attribute.isascii() else attribute
    except UnicodeError:
        return None
    if _is_ip_address(host):
        return "" if domain == host else None
    if not domain_match(host, domain):
        return None
    if "." not in domain.strip("."):
        return "" if domain == host else None  # a top-level domain: would reach every site under it
    return domain


def _prefix_rules_met(cookie: Cookie, *, domain_given: bool) -> bool:
    """``__Secure-`` cookies must be Secure; ``__Host-`` ones also host-only, without Domain, for "/"."""
    lowered = cookie.name.lower()
    if lowered.startswith("__secure-"):
        return cookie.secure
    if lowered.startswith("__host-"):
        return cookie.secure and not domain_given and cookie.path == "/"
    return True


# -- what a request carries (RFC 6265 section 5.4) -------------------------------------------


def cookies_for(url: URL | str, cookies: Iterable[Cookie], now: float) -> list[Cookie]:
    """The cookies sent to ``url``, in ``Cookie`` header order: longer paths first, then
    earlier creation. A cookie is sent when its domain and path match, it has not expired,
    and, when Secure, the scheme is https. (SameSite needs a browser's notion of the
    current site: a client sends every matching cookie.)"""
    target = _absolute_url(url)
    host = _host(target)
    request_path = target.raw_path or "/"
    secure = target.scheme in SECURE_SCHEMES
    chosen = [
        cookie
        for cookie in cookies
        if not cookie.is_expired(now)
        and (secure or not cookie.secure)
        and (host == cookie.domain.lower() if cookie.host_only else domain_match(host, cookie.domain))
        and path_match(request_path, cookie.path)
    ]
    chosen.sort(key=lambda cookie: (-len(cookie.path), cookie.created))
    return chosen


def cookie_header(cookies: Iterable[Cookie]) -> str:
    """The ``Cookie`` header value for ``cookies``: ``name=value`` pairs joined by ``"; "``."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in cookies)


def merge_cookie_header(explicit: Sequence[str], cookies: Iterable[Cookie]) -> str:
    """One ``Cookie`` header: the ones the caller set (``explicit``) first, then the jar's
    ``cookies`` whose names the caller did not set (the caller's value wins)."""
    given = [part.strip() for value in explicit for part in value.split(";") if part.strip()]
    names = {part.partition("=")[0].strip() for part in given}
    added = cookie_header(cookie for cookie in cookies if cookie.name not in names)
    return "; ".join([*given, added] if added else given)


def _absolute_url(url: URL | str) -> URL:
    from yarl import URL

    parsed = URL(url) if isinstance(url, str) else url
    if not parsed.is_absolute() or not parsed.raw_host:
        raise ValueError(f"Cookies belong to absolute URLs such as 'https://example.com/', not {str(url)!r}.")
    return parsed


def _host(url: URL) -> str:
    """The canonical host of ``url``: lowercase, IDNA-encoded, without brackets."""
    return (url.raw_host or "").lower().rstrip(".")
