"""HTTPie 3's nested JSON paths in the field names of data items: ``user[name]=ada`` is a
member of an object, ``tags[]=a`` an item appended to an array, ``points[0]:=1`` an item at an
index, ``[]:=1`` a top-level array; ``\\[`` is a literal bracket. ``_PathReader`` reads a field
name into steps and ``_set_path`` puts a value there, saying which part of the body is in the
way when a path does not fit what earlier items built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ._item_words import _Item

__all__ = ["_PathReader", "_json_type", "_set_path"]

_INDEX = re.compile(r"-?[0-9]+\Z")
_ESCAPED_INDEX = re.compile(r"\\-?[0-9]+\Z")
_PATH_SPECIAL = frozenset("[]\\")


@dataclass(frozen=True)
class _PathToken:
    kind: str  # "[", "]", "text" or "number"
    value: str | int
    pos: int


@dataclass(frozen=True)
class _Step:
    """One step of a JSON path: ``key`` (an object member), ``index`` or ``append`` (``[]``)."""

    kind: str
    value: str | int | None = None

    def text(self, root: bool) -> str:
        if self.kind == "key":
            return str(self.value) if root else f"[{self.value}]"
        return "[]" if self.kind == "append" else f"[{self.value}]"


def _path_tokens(key: str) -> list[_PathToken]:
    """``key`` cut into brackets and names; ``\\[``, ``\\]`` and ``\\\\`` are literal characters.

    A run of digits is an index, unless escaped (``a[\\1]`` is the member ``"1"``).
    """
    tokens: list[_PathToken] = []
    run: list[str] = []
    start, escaped, i = 0, False, 0

    def flush() -> None:
        nonlocal escaped
        if run:
            text = "".join(run)
            if not escaped and _INDEX.match(text):
                tokens.append(_PathToken("number", int(text), start))
            else:
                plain = text[1:] if not escaped and _ESCAPED_INDEX.match(text) else text
                tokens.append(_PathToken("text", plain, start))
            run.clear()
        escaped = False

    while i < len(key):
        char = key[i]
        if not run:
            start = i
        if char in "[]":
            flush()
            tokens.append(_PathToken(char, char, i))
        elif char == "\\" and i + 1 < len(key):
            escaped = escaped or key[i + 1] in _PATH_SPECIAL
            run.append(key[i + 1] if key[i + 1] in _PATH_SPECIAL else key[i : i + 2])
            i += 1
        else:
            run.append(char)
        i += 1
    flush()
    return tokens


class _PathReader:
    """Reads a field name as a JSON path: ``root[key][0][]`` (the root may be ``[0]`` or ``[]``)."""

    def __init__(self, item: _Item) -> None:
        self.item = item
        self.tokens = _path_tokens(item.key)
        self.cursor = 0

    def expect(self, *kinds: str) -> _PathToken:
        if self.cursor < len(self.tokens) and self.tokens[self.cursor].kind in kinds:
            self.cursor += 1
            return self.tokens[self.cursor - 1]
        names = {"[": "'['", "]": "']'", "text": "a name", "number": "an index"}
        wanted = " or ".join(names[k] for k in kinds)
        at_end = self.cursor >= len(self.tokens)
        where = "at its end" if at_end else f"at character {self.tokens[self.cursor].pos + 1}"
        raise self.item.error(
            f"the field name {self.item.key!r} is a JSON path: expected {wanted} {where} "
            "(write a literal bracket as \\[)"
        )

    def steps(self) -> list[_Step]:
        if not self.tokens:
            return [_Step("key", "")]
        first = self.expect("text", "number", "[")
        steps = [_Step("key", str(first.value))] if first.kind != "[" else [self.bracket(root=True)]
        while self.cursor < len(self.tokens):
            self.expect("[")
            steps.append(self.bracket(root=False))
        return steps

    def bracket(self, root: bool) -> _Step:
        """What follows a ``[``: ``0]``, ``]`` or (not at the root) ``name]``."""
        inside = self.expect("number", "]") if root else self.expect("text", "number", "]")
        if inside.kind == "]":
            return _Step("append")
        self.expect("]")
        return _Step("index" if inside.kind == "number" else "key", inside.value)


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "a number" if isinstance(value, (int, float)) else "null"


def _new_container(step: _Step) -> dict[str, Any] | list[Any]:
    return {} if step.kind == "key" else []


def _check_container(item: _Item, steps: list[_Step], depth: int, target: Any) -> None:
    step = steps[depth]
    wanted = dict if step.kind == "key" else list
    if isinstance(target, wanted):
        return
    where = "".join(s.text(i == 0) for i, s in enumerate(steps[:depth])) or "the JSON body"
    needed = "an object" if wanted is dict else "an array"
    raise item.error(f"{where} is {_json_type(target)}, but {step.text(depth == 0)} needs {needed}")


def _child(target: dict[str, Any] | list[Any], slot: Any) -> Any:
    """What ``target`` holds at ``slot`` (``None`` for a missing member or a padded index)."""
    return target[slot] if isinstance(target, list) else target.get(slot)


def _set_path(root: Any, item: _Item, steps: list[_Step], value: Any) -> Any:
    """Put ``value`` at ``steps`` inside ``root`` (``None`` before the first item); return the root."""
    if root is None:
        root = _new_container(steps[0])
    target = root
    for depth, step in enumerate(steps):
        _check_container(item, steps, depth, target)
        last = depth == len(steps) - 1
        if step.kind == "append":
            target.append(value if last else _new_container(steps[depth + 1]))
            slot: Any = len(target) - 1
        else:
            slot = step.value
            if step.kind == "index":
                if slot < 0:
                    raise item.error(f"negative indexes such as [{slot}] are not supported")
                target.extend([None] * (slot + 1 - len(target)))
            if last:
                target[slot] = value
            elif _child(target, slot) is None:
                target[slot] = _new_container(steps[depth + 1])
        if last:
            break
        target = target[slot]
    return root
