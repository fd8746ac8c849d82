"""Masking of secrets before anything is shown: reprs, messages, logs and displays.

The one home of what is secret and how it is hidden. The Logging plugin, the notebook
display and the magics' curl export all ask it: secret headers (``SECRET_HEADERS`` and the
names a caller adds), URLs in ``Location``-like and ``Link`` headers, URL passwords, secret
query parameters and form or JSON fields (``SECRET_QUERY_KEYS`` and added names), and the
values of all of these wherever a body or a message repeats them (``secret_values``,
``scrub``). Only ``re`` is imported up front, so ``import kclient`` stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yarl import URL

    from ._models import Request

__all__ = [
    "MASK",
    "MIN_SECRET",
    "SECRET_HEADERS",
    "SECRET_QUERY_KEYS",
    "URL_HEADERS",
    "mask_credentials",
    "mask_form",
    "mask_header",
    "mask_header_value",
    "mask_json",
    "mask_json_text",
    "mask_url",
    "mask_url_text",
    "declare_secrets",
    "declared_secrets",
    "scrub",
    "secret_values",
]

MASK = "***"

#: Header names whose values are never shown (case-insensitive).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)

#: Query parameter (and form or JSON field) names whose values are never shown (case-insensitive).
SECRET_QUERY_KEYS = frozenset(
    {"access_token", "api_key", "apikey", "key", "password", "secret", "token", "sig", "signature"}
)

#: Headers whose value is a URL: shown with its password and secret query values masked.
URL_HEADERS = frozenset({"location", "content-location", "referer"})

#: Secrets shorter than this are masked where they stand (a header, a query value) but not
#: searched for in bodies and messages, where replacing "1" or "ok" would garble everything.
MIN_SECRET = 4

#: Authorization schemes kept in front of the masked credentials (``Bearer ***``) when asked.
_AUTH_SCHEMES = frozenset({"basic", "bearer", "digest", "token", "negotiate", "ntlm", "hoba", "mutual"})


#: Values declared secret for the rest of the process (a private ``.http`` environment's), longest
#: first: every function here masks them, so displays, logs, histories and curl exports do.
_DECLARED: list[str] = []


def declare_secrets(values: Iterable[str]) -> None:
    """Mask ``values`` wherever kclient shows text, from now on (shorter than ``MIN_SECRET``: left out).

    For values that are secret by where they come from rather than by name, such as a private
    environment's: kclient cannot tell them from other text otherwise.
    """
    from urllib.parse import quote, quote_plus

    found = {*_DECLARED}
    for value in values:
        if isinstance(value, str) and len(value) >= MIN_SECRET:
            found.update({value, quote(value, safe=""), quote_plus(value)})
    _DECLARED[:] = sorted(found, key=len, reverse=True)


def declared_secrets() -> tuple[str, ...]:
    """The values ``declare_secrets`` declared (and their percent-encoded forms), longest first."""
    return tuple(_DECLARED)


def _declared(text: str) -> str:
    for secret in _DECLARED:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _secret_keys(extra: Iterable[str]) -> frozenset[str]:
    return SECRET_QUERY_KEYS.union(name.lower() for name in extra) if extra else SECRET_QUERY_KEYS


# -- URLs and messages ------------------------------------------------------------------------


def mask_url(url: URL | str, extra_query_keys: Iterable[str] = ()) -> str:
    """Return ``url`` as text with its password and secret query values replaced by ``***``.

    Secret parameters are ``SECRET_QUERY_KEYS`` and ``extra_query_keys`` (case-insensitive);
    the user name is kept.
    """
    from yarl import URL

    u = url if isinstance(url, URL) else URL(url)
    keys = _secret_keys(extra_query_keys)
    if u.password is not None:
        u = u.with_password(MASK)
    if u.query and any(k.lower() in keys for k in u.query):
        u = u.with_query([(k, MASK if k.lower() in keys else v) for k, v in u.query.items()])
    return _declared(str(u))


#: The user-info part of a URL: ``//user:password@``.
_USERINFO = re.compile(r"//[^@]*@")


def mask_url_text(text: str, extra_query_keys: Iterable[str] = ()) -> str:
    """``mask_url`` for text that may not parse as a URL: its user-info is masked all the same."""
    try:
        return mask_url(text, extra_query_keys)
    except (TypeError, ValueError):
        return mask_credentials(text)


def mask_credentials(text: str) -> str:
    """Mask anything in free ``text`` (an error message) that looks like URL credentials:
    user-info, and the values of secret query parameters (``token=...``)."""
    return _declared(_SECRET_PARAM.sub(rf"\1={MASK}", _USERINFO.sub(f"//{MASK}@", text)))


_KEYS_PATTERN = "|".join(sorted(map(re.escape, SECRET_QUERY_KEYS), key=len, reverse=True))
#: ``name=value`` of a secret query parameter inside free text.
_SECRET_PARAM = re.compile(rf"(?i)\b({_KEYS_PATTERN})=[^&\s'\"#]*")


# -- headers ----------------------------------------------------------------------------------


def mask_header(name: str, value: str) -> str:
    """Return ``value``, or ``***`` when ``name`` carries a secret."""
    return MASK if name.lower() in SECRET_HEADERS else _declared(value)


_LINK_TARGET = re.compile(r"<([^>]*)>")


def mask_header_value(
    name: str,
    value: str,
    extra_headers: Iterable[str] = (),
    extra_query_keys: Iterable[str] = (),
    *,
    keep_structure: bool = False,
) -> str:
    """``value`` of header ``name`` as it may be shown.

    Secret headers (``SECRET_HEADERS`` and ``extra_headers``, any case) become ``***``; with
    ``keep_structure`` cookies keep their names and Set-Cookie its attributes
    (``session=***; Path=/``) and Authorization a known scheme (``Bearer ***``). URLs in
    ``URL_HEADERS`` and the targets of ``Link`` lose their passwords and secret query values
    (``SECRET_QUERY_KEYS`` and ``extra_query_keys``).
    """
    lower = name.lower()
    if lower in SECRET_HEADERS or lower in {header.lower() for header in extra_headers}:
        if not keep_structure:
            return MASK
        if lower in ("cookie", "set-cookie"):
            return _mask_cookies(value, keep_attributes=lower == "set-cookie")
        if lower in ("authorization", "proxy-authorization"):
            return _mask_authorization(value)
        return MASK
    if lower in URL_HEADERS:
        return mask_url_text(value.strip(), extra_query_keys)
    if lower == "link":
        return _LINK_TARGET.sub(lambda m: f"<{mask_url_text(m.group(1), extra_query_keys)}>", value)
    return _declared(value)


def _mask_cookies(value: str, *, keep_attributes: bool) -> str:
    """``a=1; b=2`` as ``a=***; b=***``; with ``keep_attributes`` (Set-Cookie) only the first pair is
    the cookie, the rest (``Path=/; HttpOnly``) are attributes and shown as they are."""
    parts = value.split(";")
    cookies = parts[:1] if keep_attributes else parts
    masked = []
    for part in cookies:
        name, sep, _ = part.partition("=")
        lead = part[: len(part) - len(part.lstrip())]
        masked.append(f"{name}={MASK}" if sep else lead + MASK)
    if keep_attributes:
        masked.extend(parts[1:])
    return ";".join(masked)


def _mask_authorization(value: str) -> str:
    """``Bearer abc`` as ``Bearer ***``: a known scheme stays, everything after it is masked."""
    scheme, sep, _ = value.strip().partition(" ")
    if sep and scheme.lower() in _AUTH_SCHEMES:
        return f"{scheme} {MASK}"
    return MASK


# -- bodies -----------------------------------------------------------------------------------

#: What separates the fields of a form body or a query string.
_FORM_SEPARATOR = re.compile(r"([&;])")


def mask_form(text: str, extra_keys: Iterable[str] = ()) -> str:
    """A form-encoded body or query string with the values of secret fields as ``***``.

    Fields are split at ``&`` and ``;``; a field is secret when its name, percent-decoded, is
    in ``SECRET_QUERY_KEYS`` or ``extra_keys`` (any case). The rest is kept as it is.
    """
    from urllib.parse import unquote_plus

    keys = _secret_keys(extra_keys)
    pieces = _FORM_SEPARATOR.split(text)
    for index in range(0, len(pieces), 2):  # the separators are at the odd indexes
        key, eq, _ = pieces[index].partition("=")
        if eq and unquote_plus(key).lower() in keys:
            pieces[index] = f"{key}={MASK}"
    return _declared("".join(pieces))


def mask_json(value: Any, extra_keys: Iterable[str] = ()) -> Any:
    """A copy of parsed JSON whose secret keys (``password``, ``token``... and ``extra_keys``) hold ``***``."""
    keys = _secret_keys(extra_keys)

    def masked(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: MASK if isinstance(k, str) and k.lower() in keys else masked(v) for k, v in item.items()}
        if isinstance(item, list):
            return [masked(v) for v in item]
        return _declared(item) if isinstance(item, str) else item

    return masked(value)


def _json_secret(keys: frozenset[str]) -> re.Pattern[str]:
    names = "|".join(sorted(map(re.escape, keys), key=len, reverse=True))
    return re.compile(rf'(?i)("(?:{names})"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^\s,\]}}{{\[][^\s,\]}}]*)')


_JSON_SECRET = _json_secret(SECRET_QUERY_KEYS)


def mask_json_text(text: str, extra_keys: Iterable[str] = ()) -> str:
    """JSON text (possibly cut, so not parsed) with the values of secret keys as ``"***"``."""
    keys = _secret_keys(extra_keys)
    pattern = _JSON_SECRET if keys is SECRET_QUERY_KEYS else _json_secret(keys)
    return _declared(pattern.sub(lambda m: f'{m.group(1)}"{MASK}"', text))


# -- secrets repeated elsewhere ---------------------------------------------------------------


def secret_values(
    request: Request,
    masked_headers: Iterable[str] = (),
    masked_query_params: Iterable[str] = (),
    response_headers: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """The secrets of an exchange, longest first, to be searched for in bodies and messages.

    They are the values of masked headers (with the credentials after an ``Authorization``
    scheme and each cookie value), the URL's password (as typed, percent-encoded and inside
    Basic credentials) and the values of secret query parameters and form fields. Secrets
    shorter than ``MIN_SECRET`` characters are left out: masking every "1" of a body would make
    it unreadable.
    """
    header_names = SECRET_HEADERS.union(name.lower() for name in masked_headers)
    found: set[str] = set()
    for headers in (request.headers, response_headers or {}):
        for name, value in headers.items():
            key = name.lower()
            if key in header_names:
                found.update(_header_secrets(key, value))
    query_names = _secret_keys(masked_query_params)
    found.update(_url_secrets(request.url, query_names))
    found.update(_form_secrets(request, query_names))
    return tuple(sorted((s for s in found if len(s) >= MIN_SECRET), key=len, reverse=True))


def _form_secrets(request: Request, names: frozenset[str]) -> list[str]:
    """The values of a form body's secret fields (``password=...``): an echo may repeat them."""
    content = request.content
    if not isinstance(content, bytes) or not content:
        return []
    media = (request.headers.get("Content-Type") or "").partition(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return []
    from urllib.parse import parse_qsl, quote, quote_plus

    pairs = parse_qsl(content.decode("latin-1"), keep_blank_values=False)
    secrets = [value for key, value in pairs if key.lower() in names]
    return [*secrets, *(quote(value, safe="") for value in secrets), *(quote_plus(value) for value in secrets)]


def _header_secrets(name: str, value: str) -> list[str]:
    """A secret header's value and the parts of it an echo or an error page may quote alone."""
    value = value.strip()
    found = [value]
    if name == "set-cookie":
        found.append(value.split(";", 1)[0].partition("=")[2].strip().strip('"'))
    elif name == "cookie":
        found.extend(pair.partition("=")[2].strip().strip('"') for pair in value.split(";"))
    elif " " in value:
        found.append(value.partition(" ")[2].strip())  # "Bearer <token>", "Basic <credentials>"
    return found


def _url_secrets(url: URL, query_names: frozenset[str]) -> list[str]:
    import base64
    from urllib.parse import quote, quote_plus

    found: list[str] = []
    if url.password:
        credentials = f"{url.user or ''}:{url.password}".encode()
        found += [url.password, url.raw_password or "", base64.b64encode(credentials).decode("ascii")]
    for key, value in url.query.items():
        if key.lower() in query_names and value:
            found += [value, quote(value, safe=""), quote_plus(value, safe="")]
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***`` (longest secrets first),
    and of each value ``declare_secrets`` declared."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _declared(text)
