"""The ``{{...}}`` of ``.http`` text and the pieces a parsed request is made of.

``compile_text`` splits text into literal strings and ``Expr`` expressions (a name and its
``.attribute`` / ``[index]`` / ``['key']`` steps, a ``{{$dynamic}}`` variable, or a
``{{name.response.body.$.path}}`` reference); ``compile_line`` does it for one line of a cell,
turning a mistake into a ``CellSyntaxError`` at that line. The parser (``_httpfile``) builds
requests from these pieces and the renderer (``_http_render``) interpolates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from kclient._syntax import is_token

from ._assertions import Check
from ._dynamic import DynamicVariable, parse_dynamic
from ._errors import CellSyntaxError

__all__ = [
    "BRACES_HINT",
    "CheckLine",
    "Expr",
    "Failure",
    "FileBody",
    "Header",
    "SaveTarget",
    "Text",
    "Variable",
    "compile_line",
    "compile_text",
]

_OPEN = re.compile(r"\\\{\{|\{\{(?!\{)")
_EXPR_NAME = re.compile(r"\s*(\$?[^\W\d][\w-]*)")
_EXPR_STEP = re.compile(r"""\.([\w-]+)|\[\s*(-?\d+)\s*\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]""")
#: ``{{login.response.body.$.token}}``, ``{{login.response.headers.Location}}`` (JetBrains, REST Client).
_REFERENCE = re.compile(r"([^\W\d]\w*)\.(request|response)\.(body|headers)(?:\.(.+))?", re.DOTALL)
BRACES_HINT = "write \\{{ for literal braces"


class Failure(Exception):
    """An interpolation that failed; the caller turns it into a ``CellSyntaxError`` at its line."""


@dataclass(frozen=True)
class Expr:
    """A ``{{...}}``: a name and the steps after it (``("attr", "json")``, ``("item", 0)``)."""

    source: str
    name: str
    steps: tuple[tuple[Literal["attr", "item"], str | int], ...]
    #: A ``{{$...}}``: generated, never looked up.
    dynamic: DynamicVariable | None = None
    #: ``{{name.response.body.$.x}}``: ("response" or "request", "body" or "headers", the rest).
    reference: tuple[str, str, str | None] | None = None

    def __str__(self) -> str:
        return "{{" + self.source + "}}"


@dataclass(frozen=True)
class Text:
    """Text of the cell with its ``{{...}}`` located: literal strings and expressions, and where
    it was (``line``, and ``source``, the line as shown in errors)."""

    parts: tuple[str | Expr, ...]
    line: int
    source: str


@dataclass(frozen=True)
class Header:
    name: Text
    value: Text


@dataclass(frozen=True)
class FileBody:
    """A ``< path`` (``interpolate`` false) or ``<@ path`` body line."""

    path: Text
    interpolate: bool


@dataclass(frozen=True)
class Variable:
    name: str
    value: Text


@dataclass(frozen=True)
class CheckLine:
    """A ``??`` assertion of a request: the check and its expected value (``None``: unary)."""

    check: Check
    expected: Text | None


@dataclass(frozen=True)
class SaveTarget:
    """A ``>> path`` (``overwrite`` false: a new name when the file exists) or ``>>! path`` line."""

    path: Text
    overwrite: bool


# --- {{...}} -----------------------------------------------------------------------------------


def compile_line(text: str, number: int, source: str) -> Text:
    try:
        return Text(compile_text(text), number, source)
    except Failure as failure:
        raise CellSyntaxError(str(failure), number, source) from None


def compile_text(text: str) -> tuple[str | Expr, ...]:
    """Split ``text`` into literal strings and ``{{...}}`` expressions (``\\{{`` is a literal ``{{``)."""
    parts: list[str | Expr] = []
    literal: list[str] = []
    position = 0
    while (match := _OPEN.search(text, position)) is not None:
        literal.append(text[position : match.start()])
        if match.group() != "{{":
            literal.append("{{")
            position = match.end()
            continue
        close = text.find("}}", match.end())
        if close < 0:
            raise Failure(f"'{{{{' without a closing '}}}}' ({BRACES_HINT})")
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(_parse_expr(text[match.end() : close]))
        position = close + 2
    literal.append(text[position:])
    if "".join(literal):
        parts.append("".join(literal))
    return tuple(parts)


def _parse_expr(inner: str) -> Expr:
    """``name``, then ``.attr``, ``[index]`` and ``['key']`` steps; nothing else. Or a ``$`` dynamic variable."""
    source = inner.strip()
    if source.startswith("$"):
        try:
            dynamic = parse_dynamic(source)
        except ValueError as exc:
            raise Failure(f"{{{{{source}}}}}: {exc}") from None
        return Expr(source, "$" + dynamic.kind, (), dynamic)
    reference = _REFERENCE.fullmatch(source)
    if reference is not None:
        name, part, kind, rest = reference.groups()
        return Expr(source, name, (), reference=(part, kind, _reference_argument(source, kind, rest)))
    name = _EXPR_NAME.match(inner)
    if not source or name is None:
        raise Failure(
            f"expected a variable name in '{{{{{inner}}}}}', as in {{{{login.json.token}}}} or {{{{items[0]}}}} "
            f"(no expressions; {BRACES_HINT})"
        )
    steps: list[tuple[Literal["attr", "item"], str | int]] = []
    position = name.end()
    rest = inner.rstrip()
    while position < len(rest):
        step = _EXPR_STEP.match(rest, position)
        if step is None:
            raise Failure(
                f"{{{{{source}}}}}: expected .attribute, [index] or ['key'] after {rest[:position].strip()!r}, "
                f"found {rest[position:].strip()!r} (no expressions; {BRACES_HINT})"
            )
        attr, index, single, double = step.groups()
        if attr is not None:
            steps.append(("attr", attr))
        elif index is not None:
            steps.append(("item", int(index)))
        else:
            steps.append(("item", single if single is not None else double))
        position = step.end()
    return Expr(source, name.group(1), tuple(steps))


def _reference_argument(source: str, kind: str, rest: str | None) -> str | None:
    """What follows ``.body.`` (a JSONPath, or ``*`` for the whole body) or ``.headers.`` (a name)."""
    if kind == "headers":
        if rest is None or not is_token(rest):
            raise Failure(
                f"{{{{{source}}}}}: expected a header name after '.headers.', as in login.response.headers.Location"
            )
        return rest
    if rest is None or rest == "*":
        return None
    if rest.startswith("$"):
        return rest
    if rest.startswith("/"):
        raise Failure(f"{{{{{source}}}}}: XPath is not supported: use a JSONPath such as .body.$.token")
    raise Failure(f"{{{{{source}}}}}: expected a JSONPath after '.body.' ($.token), or * for the whole body")
