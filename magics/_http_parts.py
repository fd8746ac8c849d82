"""A ``.http`` request from its request line on: the request line (``[METHOD] URL
[HTTP/version]``, with JetBrains' ``import``/``run`` lines and ``GRPC`` requests refused), the
indented lines that continue its URL, its headers, and its body (``< file`` lines, the blank lines
around it dropped), with the lines after a request that are never sent: ``??`` assertions, a
``>>`` save, and JavaScript handlers, which are refused. ``_Extras`` gathers the assertions,
captures and save of a block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kclient._redact import SECRET_HEADERS, mask_header
from kclient._syntax import is_token

from ._assertions import Check, CheckSyntaxError, parse_check
from ._errors import CellSyntaxError
from ._http_text import CheckLine, FileBody, Header, SaveTarget, Text, compile_line

__all__ = [
    "_JS",
    "_Extras",
    "_Line",
    "_check_safe",
    "_is_comment",
    "_is_query_continuation",
    "_parse_body",
    "_parse_check",
    "_parse_headers",
    "_parse_request_line",
]

_METHOD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_HTTP_VERSION = re.compile(r"HTTP/\d(?:\.\d)?", re.IGNORECASE)
_WORD = re.compile(r"(?:\{\{.*?\}\}|\S)+")
_BRACES = re.compile(r"\{\{.*?\}\}")
_FILE_LINE = re.compile(r"<(@?)\s+(.*\S)\s*")
_SAVE_LINE = re.compile(r">>(!?)\s+(.*\S)\s*")
#: JetBrains request kinds that are not HTTP requests kclient can send.
_UNSUPPORTED_METHODS = {"GRPC": "gRPC requests ('GRPC host/Service/Method')"}
_JS = "not supported: they are JavaScript, which kclient does not run"

_Line = tuple[int, str]


@dataclass
class _Extras:
    """What a block holds besides the request itself: assertions, captures, a save."""

    checks: list[CheckLine] = field(default_factory=list)
    captures: list[tuple[str, Check]] = field(default_factory=list)
    save: SaveTarget | None = None


def _parse_check(stripped: str, number: int, line: str) -> CheckLine:
    try:
        check = parse_check(stripped, number, line)
    except CheckSyntaxError as exc:
        raise CellSyntaxError(str(exc), number, line) from None
    expected = None if check.expected is None else compile_line(check.expected, number, line)
    return CheckLine(check, expected)


def _parse_request_line(number: int, line: str) -> tuple[str, list[Text]]:
    """``[METHOD] URL [HTTP/version]``: the method (upper case, GET by default) and the URL."""
    _check_safe(line, "the request line", number, line)
    words = _WORD.findall(line)
    if words[0] in ("import", "run"):
        raise CellSyntaxError(
            f"JetBrains' '{words[0]}' lines (running requests of other files) are not supported: "
            "run that file with %kclient run, or copy its requests here",
            number,
            line,
        )
    if len(words) > 1 and words[0].upper() in _UNSUPPORTED_METHODS:
        raise CellSyntaxError(f"{_UNSUPPORTED_METHODS[words[0].upper()]} are not supported", number, line)
    if len(words) > 1 and _HTTP_VERSION.fullmatch(words[-1]):
        words.pop()
    if len(words) == 1:
        return "GET", [compile_line(words[0], number, line)]
    if len(words) == 2:
        method, url = words
        if not _METHOD.fullmatch(method):
            raise CellSyntaxError(
                f"expected '[METHOD] URL [HTTP/1.1]': {method!r} is not a method such as GET or POST", number, line
            )
        return method.upper(), [compile_line(url, number, line)]
    raise CellSyntaxError(
        f"expected '[METHOD] URL [HTTP/1.1]', found {len(words)} words (write a space in a URL as %20)",
        number,
        line,
    )


def _is_query_continuation(line: str) -> bool:
    """An indented line starting with ``/``, ``?`` or ``&`` continues the URL (JetBrains style)."""
    return line[:1].isspace() and line.lstrip()[:1] in ("/", "?", "&")


def _parse_headers(block: list[_Line], position: int, extras: _Extras) -> tuple[list[Header], int]:
    """``Name: value`` lines up to the first blank line; returns them and where the body starts.
    ``??`` lines among them are assertions."""
    headers: list[Header] = []
    while position < len(block):
        number, line = block[position]
        stripped = line.strip()
        position += 1
        if not stripped:
            break
        if _is_comment(stripped):
            continue
        if stripped.startswith("??"):
            extras.checks.append(_parse_check(stripped, number, line))
            continue
        if _ends_request(stripped):
            position -= 1  # a handler or a save right after the headers: the body part takes it
            break
        headers.append(_parse_header(stripped, number, line))
    return headers, position


def _parse_header(stripped: str, number: int, line: str) -> Header:
    colon = _BRACES.sub(lambda match: "_" * len(match.group()), stripped).find(":")
    expected = "expected 'Name: value' (a header), or a blank line before the body"
    if colon < 0:
        raise CellSyntaxError(expected, number, line)
    name, value = stripped[:colon].strip(), stripped[colon + 1 :].strip()
    shown = f"{name}: {mask_header(name, value)}" if name.lower() in SECRET_HEADERS else line
    if not name or ("{{" not in name and not is_token(name)):
        raise CellSyntaxError(
            f"{expected}: {name!r} is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)", number, shown
        )
    _check_safe(stripped, f"header {name}", number, shown)
    return Header(compile_line(name, number, shown), compile_line(value, number, shown))


def _parse_body(block: list[_Line], extras: _Extras) -> list[Text | FileBody]:
    """The body lines, without the blank lines around them; ``< path`` lines become files.

    ``??`` lines are assertions and a ``>> path`` line a save; JavaScript handlers are refused.
    """
    lines: list[_Line] = []
    for number, line in block:
        if _is_previous_response(line):
            continue
        if line.startswith("??"):
            extras.checks.append(_parse_check(line.strip(), number, line))
        elif _ends_request(line):
            _parse_handler(line, number, extras)
        else:
            lines.append((number, line))
    while lines and not lines[-1][1].strip():
        lines.pop()
    while lines and not lines[0][1].strip():
        lines.pop(0)
    body: list[Text | FileBody] = []
    for number, line in lines:
        file = _FILE_LINE.fullmatch(line)
        if file:
            body.append(FileBody(compile_line(file.group(2), number, line), interpolate=bool(file.group(1))))
        else:
            body.append(compile_line(line, number, line))
    return body


def _ends_request(line: str) -> bool:
    """A ``> handler`` or ``>> save`` line: what follows a request, never part of its body."""
    return line.startswith(("> ", ">>")) or line.rstrip() == ">"


def _parse_handler(line: str, number: int, extras: _Extras) -> None:
    save = _SAVE_LINE.fullmatch(line)
    if save:
        if extras.save is not None:
            raise CellSyntaxError("a second '>>' save: a request's body is saved to one file", number, line)
        extras.save = SaveTarget(compile_line(save.group(2), number, line), overwrite=bool(save.group(1)))
        return
    if line.startswith(">>"):
        raise CellSyntaxError("expected '>> path' or '>>! path' (save the body to a file)", number, line)
    handler = line[1:].strip()
    what = "response handler scripts ('> {% ... %}')" if handler.startswith("{%") else f"handler files ({handler!r})"
    raise CellSyntaxError(
        f"{what} are {_JS}; write '?? status == 200'-style assertions, '# @capture NAME = body $.path', "
        "or Python in the next cell",
        number,
        line,
    )


def _is_previous_response(line: str) -> bool:
    """JetBrains ``<> 2024-01-01T101010.200.json`` lines: references to saved responses."""
    return line.startswith("<> ")


def _is_comment(stripped: str) -> bool:
    return stripped.startswith(("#", "//"))


def _check_safe(text: str, what: str, number: int, line: str) -> None:
    if "\x00" in text:
        raise CellSyntaxError(f"{what} contains a NUL character", number, line)
