"""Masking of secrets before anything is shown: reprs, messages, logs and displays."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yarl import URL

__all__ = [
    "MASK",
    "SECRET_HEADERS",
    "SECRET_QUERY_KEYS",
    "mask_credentials",
    "mask_header",
    "mask_url",
    "mask_url_text",
]

MASK = "***"

#: Header names whose values are never shown (case-insensitive).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)

#: Query parameter names whose values are never shown (case-insensitive).
SECRET_QUERY_KEYS = frozenset(
    {"access_token", "api_key", "apikey", "key", "password", "secret", "token", "sig", "signature"}
)


def mask_url(url: URL | str) -> str:
    """Return ``url`` as text with its password and secret query values replaced by ``***``."""
    from yarl import URL

    u = url if isinstance(url, URL) else URL(url)
    if u.password is not None:
        u = u.with_password(MASK)
    if u.query and any(k.lower() in SECRET_QUERY_KEYS for k in u.query):
        u = u.with_query([(k, MASK if k.lower() in SECRET_QUERY_KEYS else v) for k, v in u.query.items()])
    return str(u)


#: The user-info part of a URL: ``//user:password@``.
_USERINFO = re.compile(r"//[^@]*@")


def mask_url_text(text: str) -> str:
    """``mask_url`` for text that may not parse as a URL: its user-info is masked all the same."""
    try:
        return mask_url(text)
    except (TypeError, ValueError):
        return mask_credentials(text)


def mask_credentials(text: str) -> str:
    """Mask anything in free ``text`` (an error message) that looks like URL credentials:
    user-info, and the values of secret query parameters (``token=...``)."""
    return _SECRET_PARAM.sub(rf"\1={MASK}", _USERINFO.sub(f"//{MASK}@", text))


#: ``name=value`` of a secret query parameter inside free text.
_SECRET_PARAM = re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_QUERY_KEYS, key=len, reverse=True)) + r")=[^&\s'\"#]*")


def mask_header(name: str, value: str) -> str:
    """Return ``value``, or ``***`` when ``name`` carries a secret."""
    return MASK if name.lower() in SECRET_HEADERS else value
