"""The words of HTTPie request items: the separators (``:``, ``==``, ``=``, ``:=``, ``@`` and
their ``@file`` and empty forms), backslash escapes that make a separator character literal,
and ``_Item``, a word cut at its first separator into key, separator and value (the longest
separator when several start at the same place).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import CellSyntaxError

__all__ = [
    "DATA",
    "DATA_FILE",
    "HEADER",
    "HEADER_EMPTY",
    "HEADER_FILE",
    "JSON_FILE",
    "JSON_RAW",
    "QUERY",
    "QUERY_FILE",
    "UPLOAD",
    "_Item",
    "_parse_item",
    "_split_item",
]

# Item separators, as HTTPie names them.
HEADER = ":"
HEADER_EMPTY = ";"
HEADER_FILE = ":@"
QUERY = "=="
QUERY_FILE = "==@"
DATA = "="
DATA_FILE = "=@"
JSON_RAW = ":="
JSON_FILE = ":=@"
UPLOAD = "@"

_SEPARATORS = (HEADER, HEADER_EMPTY, HEADER_FILE, QUERY, QUERY_FILE, DATA, DATA_FILE, JSON_RAW, JSON_FILE, UPLOAD)
#: Characters a backslash makes literal in an item (and the backslash itself).
_ESCAPABLE = frozenset("".join(_SEPARATORS)) | {"\\"}


@dataclass(frozen=True)
class _Item:
    """One request item: ``key``, separator and ``value`` with backslash escapes resolved."""

    key: str
    sep: str
    value: str
    orig: str

    def error(self, message: str) -> CellSyntaxError:
        return CellSyntaxError(f"item {self.orig!r}: {message}")


def _item_tokens(word: str) -> list[tuple[str, bool]]:
    """``word`` cut into text runs and escaped characters: ``a\\=b`` is ``a``, ``=`` (escaped), ``b``.

    A backslash before a character that is not part of a separator stays as it is
    (``C:\\path``); ``\\\\`` is one literal backslash.
    """
    tokens: list[tuple[str, bool]] = []
    run: list[str] = []
    chars = iter(word)
    for char in chars:
        if char != "\\":
            run.append(char)
            continue
        escaped = next(chars, "")
        if escaped and escaped in _ESCAPABLE:
            tokens.append(("".join(run), False))
            tokens.append((escaped, True))
            run = []
        else:
            run.append("\\" + escaped)
    tokens.append(("".join(run), False))
    return tokens


def _first_separator(text: str) -> tuple[int, str] | None:
    """The separator that starts first in ``text`` (the longest of those starting there)."""
    found: tuple[int, str] | None = None
    for sep in _SEPARATORS:
        pos = text.find(sep)
        if pos < 0:
            continue
        if found is None or pos < found[0] or (pos == found[0] and len(sep) > len(found[1])):
            found = (pos, sep)
    return found


def _split_item(word: str) -> _Item | None:
    """``word`` as a request item, or ``None`` when it has no (unescaped) separator."""
    tokens = _item_tokens(word)
    for index, (text, escaped) in enumerate(tokens):
        found = None if escaped else _first_separator(text)
        if found is None:
            continue
        pos, sep = found
        key = "".join(t for t, _ in tokens[:index]) + text[:pos]
        value = text[pos + len(sep) :] + "".join(t for t, _ in tokens[index + 1 :])
        return _Item(key, sep, value, word)
    return None


def _parse_item(word: str) -> _Item:
    item = _split_item(word)
    if item is None:
        raise CellSyntaxError(
            f"item {word!r} has no separator: expected Header:value, name==value, field=value, "
            "field:=json or field@file (a backslash makes a separator character literal)"
        )
    return item
