"""HttpRedirect: follows 3xx redirects, safely; installed by default.

The decisions are plain functions (``redirect_method``, ``redirect_target``,
``headers_after_redirect``, ``is_downgrade``, ``same_origin``), tested without a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._errors import TooManyRedirectsError
from .._models import Request, Response
from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .._settings import setting
from .._syntax import is_host, is_request_target

if TYPE_CHECKING:
    from multidict import CIMultiDict
    from yarl import URL

__all__ = [
    "REDIRECT_STATUSES",
    "SENSITIVE_HEADERS",
    "HttpRedirect",
    "HttpRedirectConfig",
    "headers_after_redirect",
    "is_downgrade",
    "redirect_method",
    "redirect_target",
    "same_origin",
]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

#: Credentials that never follow a redirect to another origin (scheme, host, port).
SENSITIVE_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization")

#: Headers that describe a body: dropped when a redirect turns the request into a GET.
_BODY_HEADERS = ("Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding")


def redirect_method(method: str, status: int) -> str:
    """The method of the next request: 303 turns anything but HEAD into GET, 301 and 302
    turn POST into GET (as browsers do), 307 and 308 keep the method and body."""
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


def redirect_target(current: URL, location: str) -> URL | None:
    """Where ``Location`` points, resolved against ``current``; None when it is not an http(s) URL."""
    from yarl import URL

    try:
        given = URL(location.strip())
        target = given if given.scheme else current.join(given)
        host = target.host  # decodes IDNA, which fails on a host such as xn-- (UnicodeError, a ValueError)
    except (TypeError, ValueError):
        return None
    if target.scheme not in ("http", "https") or not host:
        return None
    # What yarl keeps but HTTP cannot carry (a space or NUL in the host): not followed, as the builder refuses it.
    if not is_host(target.raw_host or "") or not is_request_target(target.raw_path_qs):
        return None
    return target


def same_origin(a: URL, b: URL) -> bool:
    """True when both URLs have the same scheme, host and port (default ports filled in)."""
    return a.scheme == b.scheme and (a.host or "").lower() == (b.host or "").lower() and a.port == b.port


def is_downgrade(source: URL, target: URL) -> bool:
    """True for a redirect from https to plain http."""
    return source.scheme == "https" and target.scheme == "http"


def headers_after_redirect(
    headers: CIMultiDict[str], source: URL, target: URL, *, body_dropped: bool
) -> CIMultiDict[str]:
    """The headers of the next request: credentials and Host dropped when the origin changes,
    body headers dropped when the body is."""
    kept = headers.copy()
    dropped: tuple[str, ...] = ()
    if not same_origin(source, target):
        dropped += (*SENSITIVE_HEADERS, "Host")
    if body_dropped:
        dropped += _BODY_HEADERS
    for name in dropped:
        kept.popall(name, None)
    return kept


@dataclass(frozen=True, kw_only=True)
class HttpRedirectConfig(PluginConfig):
    max_redirects: int = setting(
        20, "Redirects followed in a row before TooManyRedirectsError.", minimum=0, maximum=100
    )
    allow_https_downgrade: bool = setting(False, "Follow redirects from https to plain http.")


class HttpRedirect(Plugin):
    """Follows 301, 302, 303, 307 and 308 responses; installed by default.

    301/302 turn POST into GET and 303 turns anything but HEAD into GET, dropping the body;
    307/308 keep the method and body. Authorization, Cookie and Proxy-Authorization are
    dropped when the origin (scheme, host, port) changes. A redirect from https to http is
    not followed unless ``allow_https_downgrade`` (the 3xx response is returned), nor one
    that would resend a streamed body, nor one without a usable ``Location``. More than
    ``max_redirects`` in a row raise ``TooManyRedirectsError``. A request's
    ``follow_redirects=False`` returns the first response as it is.
    """

    name = "HttpRedirect"
    config_class = HttpRedirectConfig
    config: HttpRedirectConfig
    send_order = SendOrder.REDIRECT
    request_options = frozenset({"follow_redirects"})

    async def on_send(self, request: Request, proceed: Send) -> Response:
        response = await proceed(request)
        if response.status not in REDIRECT_STATUSES:
            return response
        if request.attributes is not None and not request.attributes.get("follow_redirects", True):
            return response
        hops = 0
        while response.status in REDIRECT_STATUSES:
            following = self._next_request(request, response)
            if following is None:
                return response
            hops += 1
            if hops > self.config.max_redirects:
                await response.aclose()
                raise response.error(
                    TooManyRedirectsError, f"More than {self.config.max_redirects} redirects (max_redirects)"
                )
            await response.aclose()
            request = following
            response = await proceed(request)
        return response

    def _next_request(self, request: Request, response: Response) -> Request | None:
        location = response.headers.get("Location")
        if location is None:
            return None
        target = redirect_target(request.url, location)
        if target is None or (is_downgrade(request.url, target) and not self.config.allow_https_downgrade):
            return None
        method = redirect_method(request.method, response.status)
        body_dropped = method != request.method
        if request.is_streaming and not body_dropped:
            return None  # a streamed body was consumed and cannot be sent again
        headers = headers_after_redirect(request.headers, request.url, target, body_dropped=body_dropped)
        return request.copy(
            method=method, url=target, headers=headers, content=b"" if body_dropped else request.content
        )
