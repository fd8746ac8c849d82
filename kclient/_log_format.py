"""The lines the Logging plugin writes for an exchange, secrets masked: plain functions.

``format_request``, ``format_response`` and ``format_failure`` build the lines of a request,
a response and a failed exchange at a ``LogLevel`` (defined here, as the formatting takes it);
``describe_body`` shows a body (text cut at a limit, binary described), ``mask_headers`` and
``mask_log_url`` mask headers and URLs through ``kclient._redact``, the one home of masking.
They need no network and no logger, so they are tested on their own; the plugin,
``kclient.plugins.logs``, writes them to a logger and re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import TYPE_CHECKING

from ._charset import content_charset, decode_text, is_utf8_start
from ._errors import ResponseNotReadError
from ._models import Request, Response
from ._redact import mask_credentials, mask_form, mask_header_value, mask_url, scrub, secret_values
from ._syntax import has_control

if TYPE_CHECKING:
    from yarl import URL

__all__ = [
    "LogLevel",
    "describe_body",
    "format_failure",
    "format_request",
    "format_response",
    "is_text_type",
    "mask_headers",
    "mask_log_url",
]

#: Content types shown as text besides ``text/*`` (and any type that declares a charset).
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/ld+json",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "application/graphql",
        "application/yaml",
        "application/x-yaml",
        "application/x-ndjson",
        "application/ndjson",
        "application/csv",
        "image/svg+xml",
    }
)

_FORM = "application/x-www-form-urlencoded"

#: Control characters a text body holds; any other makes an unlabelled body binary.
_TEXT_CONTROLS = "\t\n\r\f"


class LogLevel(Enum):
    """What is logged for each exchange, as in Ktor.

    ``INFO``: the request line, and the response status line with the time taken.
    ``HEADERS``: that and the headers. ``BODY``: the lines and the bodies (no headers).
    ``ALL``: lines, headers and bodies. ``NONE``: nothing (the plugin leaves the chain).
    """

    NONE = "none"
    INFO = "info"
    HEADERS = "headers"
    BODY = "body"
    ALL = "all"

    @property
    def logs_headers(self) -> bool:
        """True for HEADERS and ALL."""
        return self in (LogLevel.HEADERS, LogLevel.ALL)

    @property
    def logs_body(self) -> bool:
        """True for BODY and ALL."""
        return self in (LogLevel.BODY, LogLevel.ALL)


# -- masking ----------------------------------------------------------------------------------


def mask_log_url(url: URL, masked_query_params: Iterable[str] = ()) -> str:
    """``url`` as text with its password and the values of secret query parameters as ``***``.

    Secret parameters are those of ``kclient._redact.SECRET_QUERY_KEYS`` and ``masked_query_params``
    (case-insensitive). The user name is kept. (``kclient._redact.mask_url``.)
    """
    return mask_url(url, masked_query_params)


def mask_headers(
    headers: Mapping[str, str], names: Iterable[str] = (), *, masked_query_params: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Every header as (name, value), the values of secret headers replaced by ``***``.

    Secret headers are ``kclient._redact.SECRET_HEADERS`` (Authorization, Proxy-Authorization,
    Cookie, Set-Cookie, X-Api-Key, X-Auth-Token), which cannot be unmasked, and ``names``
    (case-insensitive). Location, Content-Location and Referer are URLs, and so are the targets
    of Link: their credentials and secret query values are masked as in ``mask_log_url``
    (``kclient._redact.mask_header_value``).
    """
    names, query_names = frozenset(name.lower() for name in names), tuple(masked_query_params)
    return [(name, mask_header_value(name, value, names, query_names)) for name, value in headers.items()]


# -- bodies -----------------------------------------------------------------------------------


def is_text_type(content_type: str | None) -> bool | None:
    """True for a text media type, False for another one, None when there is none (sniffed then)."""
    if not content_type or not content_type.strip():
        return None
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml")):
        return True
    return "charset=" in params.lower()


def _looks_like_text(sample: bytes) -> bool:
    """A body without a content type is text when its start is UTF-8 without control characters
    (tab, line breaks and form feed are text)."""
    # Control characters are ASCII, and UTF-8 holds ASCII bytes only as ASCII characters.
    return is_utf8_start(sample) and not has_control(sample.decode("latin-1"), allowed=_TEXT_CONTROLS)


def describe_body(
    content: bytes,
    content_type: str | None,
    *,
    body_limit: int = 4096,
    masked_query_params: Iterable[str] = (),
    secrets: Iterable[str] = (),
) -> list[str]:
    """The lines that show a body that was read: a summary line, then the text when it is text.

    Text is decoded with its charset (UTF-8 by default, undecodable bytes replaced) and cut
    at ``body_limit`` bytes; binary bodies get their size and type only. In a form-encoded
    body the fields named like secret query parameters are masked, and ``secrets`` are
    masked everywhere.
    """
    if not content:
        return ["body: empty"]
    size = f"{len(content)} bytes" + (f" ({content_type})" if content_type else "")
    text_type = is_text_type(content_type)
    shown = content[:body_limit]
    if not (text_type if text_type is not None else _looks_like_text(shown)):
        return [f"body: {size}, binary, not logged"]
    if body_limit == 0:
        return [f"body: {size}, not logged (body_limit is 0)"]
    # Undecodable bytes are replaced (UTF-8 by default); a character cut at the limit is dropped.
    text = decode_text(shown, content_charset(content_type) or "utf-8", final=len(shown) == len(content))
    media = (content_type or "").partition(";")[0].strip().lower()
    if media == _FORM:
        text = mask_form(text, masked_query_params)
    text = scrub(text, secrets)
    if len(shown) < len(content):
        return [f"body: {size}, first {len(shown)} bytes shown", *text.splitlines(), "…"]
    return [f"body: {size}", *text.splitlines()]


# -- lines ------------------------------------------------------------------------------------


def format_request(
    request: Request,
    level: LogLevel,
    *,
    masked_headers: Iterable[str] = (),
    masked_query_params: Iterable[str] = (),
    body_limit: int = 4096,
) -> list[str]:
    """The lines logged for a request about to be sent at ``level`` (none for NONE).

    ``--> METHOD url``, then at HEADERS and ALL one ``Name: value`` line per header, then at
    BODY and ALL the body (see ``describe_body``); a streamed body is described as
    "streamed, not logged" and never consumed. Secrets are masked (see ``mask_headers``,
    ``mask_log_url`` and ``secret_values``).
    """
    if level is LogLevel.NONE:
        return []
    masked_headers, masked_query_params = tuple(masked_headers), tuple(masked_query_params)
    secrets = secret_values(request, masked_headers, masked_query_params)
    lines = [f"--> {request.method} {mask_log_url(request.url, masked_query_params)}"]
    if level.logs_headers:
        lines += _header_lines(request.headers, masked_headers, masked_query_params)
    if level.logs_body:
        content_type = request.headers.get("Content-Type")
        if isinstance(request.content, bytes):
            lines += describe_body(
                request.content,
                content_type,
                body_limit=body_limit,
                masked_query_params=masked_query_params,
                secrets=secrets,
            )
        else:
            lines.append(_streamed(content_type))
    return [scrub(line, secrets) for line in lines]


def format_response(
    response: Response,
    level: LogLevel,
    elapsed: float,
    *,
    masked_headers: Iterable[str] = (),
    masked_query_params: Iterable[str] = (),
    body_limit: int = 4096,
) -> list[str]:
    """The lines logged for a response at ``level`` (none for NONE); ``elapsed`` is in seconds.

    ``<-- STATUS REASON METHOD url (N ms)`` (``N ms, from cassette`` for an answer that did not
    come from the network), then the headers and the body as for
    ``format_request``. A response whose body is still open (``client.stream()``) is
    described as "streamed, not logged": it is the caller's to read.
    """
    if level is LogLevel.NONE:
        return []
    masked_headers, masked_query_params = tuple(masked_headers), tuple(masked_query_params)
    request = response.request
    secrets = secret_values(request, masked_headers, masked_query_params, response.headers)
    status = f"{response.status} {response.reason}".strip()
    url = mask_log_url(response.url, masked_query_params)
    source = f", from {response.source}" if response.source is not None else ""
    lines = [f"<-- {status} {request.method} {url} ({_milliseconds(elapsed)}{source})"]
    if level.logs_headers:
        lines += _header_lines(response.headers, masked_headers, masked_query_params)
    if level.logs_body:
        lines += _response_body_lines(response, body_limit, masked_query_params, secrets)
    return [scrub(line, secrets) for line in lines]


def format_failure(
    request: Request,
    error: BaseException,
    elapsed: float,
    *,
    masked_headers: Iterable[str] = (),
    masked_query_params: Iterable[str] = (),
) -> str:
    """The line logged when an exchange raises: the request, the time, the error's type and message.

    The message has URL credentials and the exchange's secrets masked; no traceback is logged
    (the causes' messages may quote what the engine saw).
    """
    masked_query_params = tuple(masked_query_params)
    secrets = secret_values(request, masked_headers, masked_query_params)
    url = mask_log_url(request.url, masked_query_params)
    message = scrub(mask_credentials(str(error)), secrets)
    what = type(error).__name__ + (f": {message}" if message else "")
    return f"<-- {request.method} {url} failed after {_milliseconds(elapsed)}: {what}"


def _header_lines(headers: Mapping[str, str], names: Iterable[str], query_names: Iterable[str]) -> list[str]:
    return [f"{name}: {value}" for name, value in mask_headers(headers, names, masked_query_params=query_names)]


def _response_body_lines(
    response: Response, body_limit: int, query_names: Iterable[str], secrets: Iterable[str]
) -> list[str]:
    content_type = response.headers.get("Content-Type")
    if not response.is_closed:
        return [_streamed(content_type)]
    try:
        content = response.content
    except ResponseNotReadError:
        return ["body: not read"]
    return describe_body(content, content_type, body_limit=body_limit, masked_query_params=query_names, secrets=secrets)


def _streamed(content_type: str | None) -> str:
    return "body: streamed, not logged" + (f" ({content_type})" if content_type else "")


def _milliseconds(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"
