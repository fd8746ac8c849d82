"""The ``WWW-Authenticate`` challenges a server sends with a 401 (RFC 9110 section 11), parsed.

``parse_challenges`` turns one or several header values into :class:`Challenge` objects
(scheme lower-cased, parameters unquoted, or a ``token68``), skipping malformed parts
instead of raising, since the header comes from a server; ``challenge_matches`` tells
whether a challenge asks for a given scheme and realm. Plain functions without a network,
used by the Auth plugin (:mod:`kclient.plugins.auth`, which re-exports them) and its providers.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Challenge", "challenge_matches", "parse_challenges"]

# -- challenges (RFC 9110 section 11: WWW-Authenticate) ---------------------------------------------

_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
_TOKEN68_CHARS = frozenset(string.ascii_letters + string.digits + "-._~+/")
_SPACES = " \t"


@dataclass(frozen=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header: ``Basic realm="api"``.

    ``scheme`` is lower-cased (schemes are case-insensitive), so are parameter names;
    parameter values are unquoted and unescaped. ``token68`` is the single token some
    schemes send instead of parameters (``Negotiate abc==``).
    """

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)
    token68: str | None = None


def parse_challenges(values: str | Iterable[str]) -> list[Challenge]:
    """The challenges of one or several ``WWW-Authenticate`` header values, in order.

    A header may hold several comma-separated challenges, each with comma-separated
    parameters (``Newauth realm="apps", type=1, Basic realm="simple"``). Malformed parts are
    skipped, never raised: the header comes from a server.
    """
    if isinstance(values, str):
        values = (values,)
    challenges: list[Challenge] = []
    for value in values:
        challenges.extend(_parse_header(value))
    return challenges


def _parse_header(text: str) -> list[Challenge]:
    challenges: list[Challenge] = []
    pos = 0
    while (pos := _skip(text, pos, _SPACES + ",")) < len(text):
        start = pos
        scheme, pos = _token(text, pos)
        if not scheme or (pos < len(text) and text[pos] not in _SPACES + ","):
            pos = _after_comma(text, max(pos, start + 1))  # not a scheme: skip this list element
            continue
        pos = _skip(text, pos, _SPACES)
        word, end = _token68(text, pos)
        params: dict[str, str] = {}
        token68: str | None = None
        if word and _at_element_end(text, end) and not _param_starts(text, pos):
            token68, pos = word, end
        else:
            pos = _parse_params(text, pos, params)
        challenges.append(Challenge(scheme.lower(), params, token68))
    return challenges


def _parse_params(text: str, pos: int, params: dict[str, str]) -> int:
    """Read ``name=value`` pairs from ``pos``; returns where the next challenge starts."""
    while _param_starts(text, pos):
        name, pos = _token(text, pos)
        pos = _skip(text, pos, _SPACES) + 1  # the "="
        pos = _skip(text, pos, _SPACES)
        value, pos = _quoted(text, pos) if text[pos] == '"' else _token(text, pos)
        params.setdefault(name.lower(), value)
        pos = _skip(text, pos, _SPACES)
        if pos < len(text) and text[pos] != ",":
            pos = _after_comma(text, pos)  # junk after a value
        pos = _skip(text, pos, _SPACES + ",")
    return pos


def _param_starts(text: str, pos: int) -> bool:
    """True when ``token BWS "=" BWS (token / quoted-string)`` starts at ``pos``."""
    name, pos = _token(text, pos)
    if not name:
        return False
    pos = _skip(text, pos, _SPACES)
    if pos >= len(text) or text[pos] != "=":
        return False
    pos = _skip(text, pos + 1, _SPACES)
    return pos < len(text) and (text[pos] == '"' or text[pos] in _TOKEN_CHARS)


def _token(text: str, pos: int) -> tuple[str, int]:
    end = pos
    while end < len(text) and text[end] in _TOKEN_CHARS:
        end += 1
    return text[pos:end], end


def _token68(text: str, pos: int) -> tuple[str, int]:
    end = pos
    while end < len(text) and text[end] in _TOKEN68_CHARS:
        end += 1
    if end == pos:
        return "", pos
    while end < len(text) and text[end] == "=":
        end += 1
    return text[pos:end], end


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """The unescaped content of the quoted-string at ``pos`` (an unterminated one runs to the end)."""
    chars: list[str] = []
    pos += 1
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return "".join(chars), pos + 1
        if char == "\\" and pos + 1 < len(text):
            pos += 1
            char = text[pos]
        chars.append(char)
        pos += 1
    return "".join(chars), pos


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _after_comma(text: str, pos: int) -> int:
    comma = text.find(",", pos)
    return len(text) if comma < 0 else comma + 1


def _at_element_end(text: str, pos: int) -> bool:
    pos = _skip(text, pos, _SPACES)
    return pos >= len(text) or text[pos] == ","


def challenge_matches(challenge: Challenge, scheme: str, realm: str | None) -> bool:
    """True when ``challenge`` asks for ``scheme`` (any case) and, when ``realm`` is given, names it."""
    if challenge.scheme != scheme.lower():
        return False
    return realm is None or challenge.params.get("realm") == realm
