"""``-e/--extract PATH``: a JSONPath-like path into a decoded JSON body.

Grammar (a small, predictable subset of JSONPath, with a few shorthands)::

    $.user.email          a key; the leading ``$`` is optional: ``user.email``, ``.user``
    items[0].id           an index into a list; negative indexes count from the end: ``items[-1]``
    items.0.id            a bare number after a dot indexes a list too (on an object it is the key "0")
    ['weird key']         a quoted key, for keys with dots, spaces or brackets (``["a.b"]``);
                          a backslash escapes the next character inside quotes
    items[*].id  items.*  every item of a list (or every value of an object): the result is a list
    ..id                  recursive descent: every ``id`` at any depth, in document order (a list)

A path without ``*`` or ``..`` returns one value; with them it returns a list of the matches.
After a wildcard, items that lack the next step are skipped (as JSONPath does); it is an error
only when no item has it. Slices (``[0:2]``), unions (``['a','b']``) and filters (``[?(...)]``)
are not supported.

Errors are ``CellSyntaxError`` (line 0) naming the part of the path that failed and what was
there instead: ``'items[3]': the list has 2 items``, ``'user.mail': no key 'mail'; keys: email, id``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import CellSyntaxError

__all__ = ["extract", "list_keys", "type_name"]

#: How many keys an error message lists before "and N more".
_MAX_KEYS = 20

_StepKind = Literal["key", "index", "wildcard", "descend"]


@dataclass(frozen=True)
class _Step:
    """One step of a parsed path; ``end`` is where it ends in the path text (for messages)."""

    kind: _StepKind
    key: str | int | None
    start: int
    end: int


class _Miss(Exception):
    """A step that does not apply to a value (internal: becomes a ``CellSyntaxError``)."""


def extract(value: Any, path: str) -> Any:
    """The part of ``value`` (a decoded JSON value) that ``path`` names; see the module docstring.

    ``""`` and ``"$"`` return ``value`` itself. With ``*`` or ``..`` in the path the result is a
    list of every match.
    """
    text = path.strip()
    steps = _parse(text)
    nodes = [value]
    many = False
    for step in steps:
        if step.kind == "descend":
            nodes = [node for root in nodes for node in _walk(root)]
            many = True
        elif many:
            nodes = _apply_to_all(nodes, step, text)
        else:
            nodes = _apply_to_one(nodes[0], step, text)
            many = step.kind == "wildcard"
    return nodes if many else nodes[0]


# --- evaluation --------------------------------------------------------------------------------


def _apply_to_one(node: Any, step: _Step, path: str) -> list[Any]:
    """Apply ``step`` to the single current value; a miss is an error."""
    try:
        return _select(node, step, path)
    except _Miss as miss:
        raise _error(path, step, str(miss)) from None


def _apply_to_all(nodes: list[Any], step: _Step, path: str) -> list[Any]:
    """Apply ``step`` to every match, skipping those it does not apply to (an error if none)."""
    found: list[Any] = []
    first_miss: _Miss | None = None
    for node in nodes:
        try:
            found.extend(_select(node, step, path))
        except _Miss as miss:
            first_miss = first_miss or miss
    if not found and first_miss is not None:
        if path[: step.start].endswith(".."):
            raise _error(path, step, _nowhere(step)) from None
        raise _error(path, step, f"none of the {len(nodes)} matches has it; the first: {first_miss}") from None
    return found


def _select(node: Any, step: _Step, path: str) -> list[Any]:
    """The values ``step`` selects in ``node`` (one, or all children for a wildcard)."""
    where = _where(path, step)
    if step.kind == "wildcard":
        if _is_list(node):
            return list(node)
        if isinstance(node, Mapping):
            return list(node.values())
        raise _Miss(f"{where} is {_describe(node)}, not a list or an object")
    if step.kind == "index":
        assert isinstance(step.key, int)
        return [_index(node, step.key, where)]
    assert isinstance(step.key, str)
    return [_key(node, step.key, where)]


def _index(node: Any, index: int, where: str) -> Any:
    if _is_list(node):
        if -len(node) <= index < len(node):
            return node[index]
        raise _Miss(_list_size(node))
    if isinstance(node, Mapping):
        if index in node:
            return node[index]
        raise _Miss(f"{where} is an object, not a list; {list_keys(node)}")
    raise _Miss(f"{where} is {_describe(node)}, not a list")


def _key(node: Any, key: str, where: str) -> Any:
    if isinstance(node, Mapping):
        if key in node:
            return node[key]
        raise _Miss(f"no key {key!r}; {list_keys(node)}")
    if _is_list(node):
        if re.fullmatch(r"-?\d+", key):
            return _index(node, int(key), where)
        raise _Miss(
            f"{where} is a list ({_count(len(node), 'item')}), not an object: "
            "pick an item with [0] or every item with [*]"
        )
    raise _Miss(f"{where} is {_describe(node)}, not an object")


def _walk(node: Any) -> Iterator[Any]:
    """``node`` and everything below it, depth first in document order (for ``..``)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Mapping):
            stack.extend(reversed(list(current.values())))
        elif _is_list(current):
            stack.extend(reversed(current))


def _nowhere(step: _Step) -> str:
    """The message for ``..step`` matching nothing."""
    if step.kind == "key":
        return f"no key {step.key!r} at any depth"
    if step.kind == "index":
        return f"no list with an item [{step.key}] at any depth"
    return "no list or object at any depth"


# --- messages ----------------------------------------------------------------------------------


def _error(path: str, step: _Step, message: str) -> CellSyntaxError:
    return CellSyntaxError(f"{path[: step.end]!r}: {message}")


def _where(path: str, step: _Step) -> str:
    """What the step applies to, for messages: ``'user.name'``, or ``the value`` at the root."""
    before = path[: step.start]
    if before.endswith(".."):
        return "the value"
    if before in ("", "$"):
        return "the value"
    return repr(before)


def _list_size(items: Sequence[Any]) -> str:
    return "the list is empty" if not items else f"the list has {_count(len(items), 'item')}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _describe(value: Any) -> str:
    """``a string ('Ada')``, ``a number (3)``, ``null``: what stands where a container was expected."""
    kind = type_name(value)
    if value is None:
        return "null"
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    article = "an" if kind[0] in "aeiou" else "a"
    return f"{article} {kind} ({shown})"


def type_name(value: Any) -> str:
    """The JSON name of ``value``'s type: object, list, string, number, boolean, null (else the
    Python type name)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if _is_list(value):
        return "list"
    return type(value).__name__


def list_keys(mapping: Mapping[Any, Any]) -> str:
    """``keys: a, b, c`` (sorted, at most 20 then ``and N more``), or ``the object is empty``."""
    if not mapping:
        return "the object is empty"
    keys = sorted(map(str, mapping))
    shown = ", ".join(keys[:_MAX_KEYS])
    more = f" and {len(keys) - _MAX_KEYS} more" if len(keys) > _MAX_KEYS else ""
    return f"keys: {shown}{more}"


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


# --- parsing -----------------------------------------------------------------------------------

#: An unquoted key: anything up to the next ``.``, ``[``, ``]`` or whitespace.
_NAME = re.compile(r"[^.\[\]\s'\"]+")
_INDEX = re.compile(r"\s*(-?\d+)\s*\]")
_WILDCARD = re.compile(r"\s*\*\s*\]")


def _parse(path: str) -> list[_Step]:
    """The steps of ``path`` (already stripped); a ``CellSyntaxError`` says what was expected where."""
    position = 1 if path.startswith("$") else 0
    steps: list[_Step] = []
    if position == 0 and path and path[0] not in ".[":
        step, position = _parse_name(path, 0)
        steps.append(step)
    while position < len(path):
        char = path[position]
        if path.startswith("..", position):
            steps.append(_Step("descend", None, position, position + 2))
            position += 2
            step, position = _parse_selector(path, position, after="..")
        elif char == ".":
            step, position = _parse_name(path, position + 1, start=position)
        elif char == "[":
            step, position = _parse_bracket(path, position)
        else:
            raise _syntax(path, position, "'.key', '[index]' or '['key']'")
        steps.append(step)
    return steps


def _parse_selector(path: str, position: int, after: str) -> tuple[_Step, int]:
    """What follows ``..``: a name, ``*`` or a bracket."""
    if path.startswith("[", position):
        return _parse_bracket(path, position)
    if position >= len(path) or path[position] == ".":
        raise _syntax(path, position, f"a key, '*' or '[...]' after {after!r}")
    return _parse_name(path, position)


def _parse_name(path: str, position: int, start: int | None = None) -> tuple[_Step, int]:
    """``name`` or ``*`` at ``position`` (``start`` is where the step's ``.`` was)."""
    begin = position if start is None else start
    match = _NAME.match(path, position)
    if match is None:
        raise _syntax(path, position, "a key (quote unusual keys: ['a key'])")
    name = match.group()
    if name == "*":
        return _Step("wildcard", None, begin, match.end()), match.end()
    return _Step("key", name, begin, match.end()), match.end()


def _parse_bracket(path: str, position: int) -> tuple[_Step, int]:
    """``[3]``, ``[-1]``, ``[*]``, ``['key']`` or ``["key"]`` at ``position`` (the ``[``)."""
    inner = position + 1
    if match := _INDEX.match(path, inner):
        return _Step("index", int(match.group(1)), position, match.end()), match.end()
    if match := _WILDCARD.match(path, inner):
        return _Step("wildcard", None, position, match.end()), match.end()
    quote_at = inner + len(path[inner:]) - len(path[inner:].lstrip())
    if quote_at < len(path) and path[quote_at] in "'\"":
        key, after = _parse_quoted(path, quote_at)
        close = re.compile(r"\s*\]").match(path, after)
        if close is None:
            raise _syntax(path, after, "']' after the quoted key")
        return _Step("key", key, position, close.end()), close.end()
    raise _syntax(path, inner, "an index, '*' or a quoted key inside '[...]'")


def _parse_quoted(path: str, position: int) -> tuple[str, int]:
    """The quoted string at ``position``; a backslash escapes the next character."""
    quote = path[position]
    chars: list[str] = []
    index = position + 1
    while index < len(path):
        char = path[index]
        if char == "\\" and index + 1 < len(path):
            chars.append(path[index + 1])
            index += 2
            continue
        if char == quote:
            return "".join(chars), index + 1
        chars.append(char)
        index += 1
    raise _syntax(path, position, f"a closing {quote} for the key")


def _syntax(path: str, position: int, expected: str) -> CellSyntaxError:
    found = repr(path[position]) if position < len(path) else "the end"
    return CellSyntaxError(f"bad path {path!r}: expected {expected} at character {position + 1}, found {found}")
