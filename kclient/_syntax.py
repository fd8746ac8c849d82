"""What HTTP allows in a header name, a method and a header value: checked in one place.

The request builder, the plugins that take headers in their config (DefaultRequest,
UserAgent) and the magics' parsers all ask these; only ``re`` is imported, so plugins that
load with ``import kclient`` stay cheap.
"""

from __future__ import annotations

import re

__all__ = ["has_control", "has_line_break", "is_host", "is_request_target", "is_token"]

#: RFC 9110 ``token``: what a method and a header name are made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: What would split a request line or a header into two: CR, LF, and NUL.
_LINE_BREAK = re.compile(r"[\r\n\x00]")
#: The control characters: C0 (NUL to US) and DEL.
_CONTROLS = "".join(map(chr, range(0x20))) + "\x7f"
#: ``allowed`` -> the control characters but those; "\t" is what RFC 9110 allows in a header value.
_CONTROL: dict[str, re.Pattern[str]] = {}
#: RFC 3986 ``reg-name`` (which covers IPv4 addresses): what a Host header may carry besides an IPv6 address.
_REG_NAME = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")
#: The zone of a scoped IPv6 address, percent-encoded as in a URL (``fe80::1%25eth0``).
_ZONE = re.compile(r"%25(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})+")
#: A request target (path and query) as it goes on the request line: visible ASCII only.
_TARGET = re.compile(r"[\x21-\x7e]*")


def is_token(text: str) -> bool:
    """True when ``text`` is an RFC 9110 token (a valid method or header name)."""
    return _TOKEN.fullmatch(text) is not None


def has_line_break(text: str) -> bool:
    """True when ``text`` holds CR, LF or NUL, which would split the request it is put in."""
    return _LINE_BREAK.search(text) is not None


def has_control(text: str, *, allowed: str = "\t") -> bool:
    """True when ``text`` holds a control character (C0 or DEL) not in ``allowed``.

    By default tab is allowed: that is what no header value may hold (CR, LF and NUL among
    them). A text body also holds line breaks and form feeds (``allowed="\t\n\r\f"``); a
    shell word shows tab and LF as they are (``allowed="\t\n"``).
    """
    pattern = _CONTROL.get(allowed)
    if pattern is None:
        banned = "".join(c for c in _CONTROLS if c not in allowed)
        pattern = _CONTROL[allowed] = re.compile(f"[{re.escape(banned)}]")
    return pattern.search(text) is not None


def is_host(text: str) -> bool:
    """True when ``text`` (a URL's host as written in it, IPv6 without brackets) can go into a Host header."""
    if ":" not in text:
        return _REG_NAME.fullmatch(text) is not None
    import ipaddress

    address, percent, zone = text.partition("%")
    if percent and _ZONE.fullmatch(percent + zone) is None:
        return False
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def is_request_target(text: str) -> bool:
    """True when ``text`` (a URL's encoded path and query) can go on a request line as it is."""
    return _TARGET.fullmatch(text) is not None
