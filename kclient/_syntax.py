"""What HTTP allows in a header name, a method and a header value: checked in one place.

The request builder, the plugins that take headers in their config (DefaultRequest,
UserAgent) and the magics' parsers all ask these; only ``re`` is imported, so plugins that
load with ``import kclient`` stay cheap.
"""

from __future__ import annotations

import re

__all__ = ["has_line_break", "is_token"]

#: RFC 9110 ``token``: what a method and a header name are made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: What would split a request line or a header into two: CR, LF, and NUL.
_LINE_BREAK = re.compile(r"[\r\n\x00]")


def is_token(text: str) -> bool:
    """True when ``text`` is an RFC 9110 token (a valid method or header name)."""
    return _TOKEN.fullmatch(text) is not None


def has_line_break(text: str) -> bool:
    """True when ``text`` holds CR, LF or NUL, which would split the request it is put in."""
    return _LINE_BREAK.search(text) is not None
