"""The ``.http`` cell format of ``%%kclient`` (that of VS Code REST Client and JetBrains HTTP files).

A cell holds one or more requests separated by lines starting with ``###`` (the rest of such a
line is a title). Each request is::

    # comments start with # or //; `# @name login` (or `// @name login`, `# @name=login`)
    # names the request, so that later cells can use its response as `login`
    @host = api.example.com                 <- a cell variable (before the request line)
    POST https://{{host}}/login HTTP/1.1    <- [METHOD] URL [HTTP/version]; the method defaults to GET
        ?lang=en                            <- indented lines starting with ? or & continue the URL
    Content-Type: application/json          <- headers, up to the first blank line
                                            <- a blank line
    {"user": "ada", "password": "{{pw}}"}   <- the body, up to the next ### (blank lines around it dropped)

URLs: ``:3000/path`` means ``http://localhost:3000/path`` (HTTPie's shorthand), a URL without a
scheme gets ``http://``, and ``/path`` stays relative (for a client with a base URL), unless a
``Host:`` header names the host, in which case the URL is built from it and the header dropped.

Bodies are sent as raw ``content``: what was typed is what is sent, byte for byte after
interpolation (lines joined with ``\\n``). ``Content-Type: application/json`` is added only when
the request has no Content-Type and the body is a valid JSON object or array. With
``Content-Type: application/x-www-form-urlencoded`` the body's lines are joined without line
breaks (REST Client), so long forms can be split over lines starting with ``&``; with a
``multipart/...`` Content-Type they are joined with CRLF, as MIME wants. A body line
``< ./path/file.json`` is replaced by that file's bytes, unchanged; ``<@ ./file.json`` by its text
with ``{{...}}`` interpolated. JetBrains ``<> previous-response`` lines are skipped.

After the request (or before its request line): ``?? status == 200`` lines are assertions and
``# @capture NAME = body $.path`` a capture (see ``_assertions``), ``>> path`` / ``>>! path``
saves the answer's body; none of them is sent. JavaScript handlers (``> {% ... %}``,
``> file.js``, ``< {% ... %}``) are refused with what to write instead, as are JetBrains'
``import``/``run`` lines, ``GRPC`` requests and ``unix:`` URLs. A ``GRAPHQL URL`` request's body
is its query, optionally followed by a blank line and a JSON object of variables; it is sent as
the JSON POST GraphQL servers take (``query``, ``variables``, ``operationName``).

Interpolation: ``{{expr}}`` anywhere in the URL, headers, body and cell variables, where ``expr``
is a name followed by ``.attribute``, ``[0]``/``[-1]`` and ``['key']``/``["key"]`` steps, with
spaces allowed inside the braces (``{{ login.json.token }}``). There is no evaluation: no calls,
operators or literals. The name is looked up in the cell's ``@variables`` (defined above the
request), then in the environment (``--env NAME``: ``http-client.env.json`` and its private twin, see
``_environments``), then in the notebook's namespace. ``{{$...}}`` are dynamic variables in
JetBrains' and VS Code's spellings (``$uuid``, ``$timestamp -1 d``, ``$random.alphabetic(8)``,
``$dotenv NAME``...: see ``_dynamic``), checked when the cell is read. A ``.key`` step on a
mapping looks up the key (never an attribute), and ``.json`` on an object with a ``json()``
method (a kclient ``Response``) calls it, so ``{{login.json.token}}`` is the ``token`` of the
JSON body of the response named ``login``. JetBrains' and REST Client's references read a
named response too: ``{{login.response.body.$.token}}`` (a JSONPath; ``.body.*`` the whole body),
``{{login.response.headers.Location}}``, and ``{{login.request.body.$.user}}`` /
``{{login.request.headers.X}}`` for what was sent. ``HttpRequestTemplate.references()`` lists the
names a request uses, so a runner (``_collection``) can send the ones it needs first.

Inserted values: strings as they are (so ``"{{token}}"`` in a JSON body needs its quotes);
``True``/``False``/``None``, dicts, lists and tuples as compact JSON (``true``, ``null``,
``{"a":1}``) everywhere, since Python's repr (``True``, ``{'a': 1}``) is never what a request
means; bytes as UTF-8 text; anything else as ``str(value)``. Inserted text is not interpolated
again. Braces that are not a well-formed ``{{...}}`` are literal, so JSON's ``{"a": {"b": 1}}``
is untouched; in ``{{{x}}}`` the innermost pair is the interpolation (``{`` + x + ``}``); ``\\{{``
is a literal ``{{``. IPython's ``$var``/``{var}`` expansion is never applied.

Directives: ``@name`` is used; every other ``# @directive`` (``@no-redirect``, ``@timeout``,
``@no-cookie-jar``, ``@prompt``, ...) is kept in ``HttpRequestTemplate.directives`` for the caller
and otherwise ignored.

Errors are ``CellSyntaxError`` with the 1-based line in the cell and what was expected there.
Syntax is checked for the whole cell before anything is sent (``parse_http_templates``);
interpolation happens per request (``HttpRequestTemplate.render``), so a request can use the
response of an earlier request of the same cell once the caller has stored it under its name.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from yarl import URL

from kclient._redact import SECRET_HEADERS, mask_header, mask_url_text
from kclient._syntax import has_line_break, is_token

from ._assertions import Check, CheckSyntaxError, parse_capture, parse_check, response_field
from ._dynamic import DynamicContext, DynamicVariable, generate, parse_dynamic
from ._environments import DOTENV, Environment
from ._errors import CellSyntaxError
from ._extract import extract, list_keys
from ._items import LOCALHOST, expand_url, read_disk
from ._spec import RequestSpec

__all__ = ["HttpRequestTemplate", "format_value", "parse_http_cell", "parse_http_templates"]

ReadFile = Callable[[str], bytes]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DIRECTIVE = re.compile(r"(?:#|//)\s*@([\w-]+)(?:\s*=\s*|\s+|$)(.*)")
_VARIABLE = re.compile(r"@([^\W\d][\w-]*)\s*=\s*(.*)")
_METHOD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_HTTP_VERSION = re.compile(r"HTTP/\d(?:\.\d)?", re.IGNORECASE)
_WORD = re.compile(r"(?:\{\{.*?\}\}|\S)+")
_BRACES = re.compile(r"\{\{.*?\}\}")
_OPEN = re.compile(r"\\\{\{|\{\{(?!\{)")
_EXPR_NAME = re.compile(r"\s*(\$?[^\W\d][\w-]*)")
_EXPR_STEP = re.compile(r"""\.([\w-]+)|\[\s*(-?\d+)\s*\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]""")
_FILE_LINE = re.compile(r"<(@?)\s+(.*\S)\s*")
_SAVE_LINE = re.compile(r">>(!?)\s+(.*\S)\s*")
#: ``{{login.response.body.$.token}}``, ``{{login.response.headers.Location}}`` (JetBrains, REST Client).
_REFERENCE = re.compile(r"([^\W\d]\w*)\.(request|response)\.(body|headers)(?:\.(.+))?", re.DOTALL)
#: JetBrains request kinds that are not HTTP requests kclient can send.
_UNSUPPORTED_METHODS = {"GRPC": "gRPC requests ('GRPC host/Service/Method')"}
_JS = "not supported: they are JavaScript, which kclient does not run"
_FORM = "application/x-www-form-urlencoded"
_BRACES_HINT = "write \\{{ for literal braces"

# --- the parsed cell ---------------------------------------------------------------------------


class _Failure(Exception):
    """An interpolation that failed; the caller turns it into a ``CellSyntaxError`` at its line."""


@dataclass(frozen=True)
class _Expr:
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
class _Text:
    """Text of the cell with its ``{{...}}`` located: literal strings and expressions, and where
    it was (``line``, and ``source``, the line as shown in errors)."""

    parts: tuple[str | _Expr, ...]
    line: int
    source: str


@dataclass(frozen=True)
class _Header:
    name: _Text
    value: _Text


@dataclass(frozen=True)
class _FileBody:
    """A ``< path`` (``interpolate`` false) or ``<@ path`` body line."""

    path: _Text
    interpolate: bool


@dataclass(frozen=True)
class _Variable:
    name: str
    value: _Text


@dataclass(frozen=True)
class CheckLine:
    """A ``??`` assertion of a request: the check and its expected value (``None``: unary)."""

    check: Check
    expected: _Text | None


@dataclass(frozen=True)
class SaveTarget:
    """A ``>> path`` (``overwrite`` false: a new name when the file exists) or ``>>! path`` line."""

    path: _Text
    overwrite: bool


@dataclass(frozen=True)
class HttpRequestTemplate:
    """One request of a ``.http`` cell, checked but not yet interpolated.

    ``render(namespace)`` interpolates it into a ``RequestSpec``. ``name`` is its ``# @name``,
    ``title`` the text after its ``###``, ``line`` the line of its request line,
    ``directives`` its other ``# @directives`` (``{"no-redirect": ""}``), which the parser ignores.
    """

    method: str
    url: tuple[_Text, ...]
    headers: tuple[_Header, ...]
    body: tuple[_Text | _FileBody, ...]
    line: int
    name: str | None = None
    title: str | None = None
    directives: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, _Variable] = field(default_factory=dict, repr=False)
    earlier_names: Mapping[str, int] = field(default_factory=dict, repr=False)
    #: The ``??`` assertions, checked against the answer by the runner.
    checks: tuple[CheckLine, ...] = ()
    #: ``# @capture NAME = FIELD``: parts of the answer stored under a name.
    captures: tuple[tuple[str, Check], ...] = ()
    #: ``>> path`` / ``>>! path``: where the answer's body is saved.
    save: SaveTarget | None = None

    def render(
        self,
        namespace: Mapping[str, Any],
        *,
        read_file: ReadFile | None = None,
        default_scheme: str = "http",
        environment: Environment | None = None,
    ) -> RequestSpec:
        """Interpolate from ``namespace`` (the notebook's variables) and ``environment`` (its
        variables, and its ``.env`` for ``$dotenv``), and read ``< file`` bodies
        (``read_file(path) -> bytes``, default: from disk, relative to the current directory)."""
        renderer = _Renderer(namespace, self.variables, self.earlier_names, environment)
        url = "".join(renderer.text(part) for part in self.url)
        headers = [_render_header(renderer, header) for header in self.headers]
        url, headers = _absolute_url(url, self.url[0], headers, default_scheme)
        content = _render_body(renderer, self.body, headers, read_file or _read_from_disk)
        method = self.method
        if method == "GRAPHQL":
            method, content = "POST", _graphql(content, self.line, self.url[0].source)
            headers = [(name, value) for name, value in headers if name.lower() != "content-type"]
            headers.append(("Content-Type", "application/json"))
        elif content is not None and _header(headers, "content-type") is None and _is_json(content):
            headers.append(("Content-Type", "application/json"))
        return RequestSpec(method, url, headers=headers, content=content, name=self.name, line=self.line)

    def expected_values(
        self, namespace: Mapping[str, Any], *, environment: Environment | None = None
    ) -> list[str | None]:
        """The expected values of the ``??`` assertions, interpolated (``None`` for unary ones)."""
        renderer = _Renderer(namespace, self.variables, self.earlier_names, environment)
        return [None if line.expected is None else renderer.text(line.expected) for line in self.checks]

    def save_path(self, namespace: Mapping[str, Any], *, environment: Environment | None = None) -> str | None:
        """The ``>>`` path, interpolated (``None`` without one)."""
        if self.save is None:
            return None
        return _Renderer(namespace, self.variables, self.earlier_names, environment).text(self.save.path)

    def references(self) -> set[str]:
        """The names this request's ``{{...}}`` use (through its cell variables too): the
        requests of a collection it needs answered first."""
        texts: list[_Text] = [*self.url]
        texts += [part for header in self.headers for part in (header.name, header.value)]
        texts += [item.path if isinstance(item, _FileBody) else item for item in self.body]
        texts += [line.expected for line in self.checks if line.expected is not None]
        if self.save is not None:
            texts.append(self.save.path)
        found: set[str] = set()
        seen: set[str] = set()
        while texts:
            for part in texts.pop().parts:
                if isinstance(part, _Expr) and part.dynamic is None:
                    variable = self.variables.get(part.name)
                    if variable is None:
                        found.add(part.name)
                    elif part.name not in seen:
                        seen.add(part.name)
                        texts.append(variable.value)
        return found


def parse_http_cell(
    text: str,
    namespace: Mapping[str, Any],
    *,
    read_file: ReadFile | None = None,
    default_scheme: str = "http",
    environment: Environment | None = None,
) -> list[RequestSpec]:
    """Every request of a ``.http`` cell, interpolated from ``namespace``.

    The whole cell is checked first, then each request is rendered. A request that uses the
    response of an earlier one in the same cell needs that response in ``namespace``: send
    such cells one request at a time with ``parse_http_templates`` and ``render``.
    """
    templates = parse_http_templates(text)
    return [
        template.render(namespace, read_file=read_file, default_scheme=default_scheme, environment=environment)
        for template in templates
    ]


def parse_http_templates(text: str) -> list[HttpRequestTemplate]:
    """The requests of a ``.http`` cell, syntax-checked; a ``CellSyntaxError`` points at the line.

    A cell without any request line is an error too.
    """
    variables: dict[str, _Variable] = {}
    names: dict[str, int] = {}
    templates: list[HttpRequestTemplate] = []
    for title, block in _blocks(text):
        template = _parse_block(block, title, variables, names)
        if template is not None:
            templates.append(template)
            if template.name:
                names[template.name] = template.line
    if not templates:
        raise CellSyntaxError("no request in the cell: expected a request line such as 'GET https://example.com/'")
    return templates


# --- splitting and parsing ---------------------------------------------------------------------

_Line = tuple[int, str]


def _blocks(text: str) -> Iterator[tuple[str | None, list[_Line]]]:
    """The ``###``-separated blocks of the cell as (title, numbered lines)."""
    title: str | None = None
    block: list[_Line] = []
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if line.startswith("###"):
            yield title, block
            title, block = line[3:].strip("# \t") or None, []
        else:
            block.append((number, line))
    yield title, block


@dataclass
class _Extras:
    """What a block holds besides the request itself: assertions, captures, a save."""

    checks: list[CheckLine] = field(default_factory=list)
    captures: list[tuple[str, Check]] = field(default_factory=list)
    save: SaveTarget | None = None


def _parse_block(
    block: list[_Line], title: str | None, variables: dict[str, _Variable], names: Mapping[str, int]
) -> HttpRequestTemplate | None:
    """The request of one block (``None`` when it has only comments and variables); cell
    variables it defines are added to ``variables`` for this request and the ones after it."""
    extras = _Extras()
    position, name, directives = _parse_preamble(block, variables, extras)
    if position == len(block):
        if name is not None:
            number, line, _ = name
            raise CellSyntaxError("'@name' names no request: expected a request line after it", number, line)
        if extras.checks or extras.captures:
            check = extras.checks[0].check if extras.checks else extras.captures[0][1]
            raise CellSyntaxError("an assertion or capture without a request line after it", check.line, check.source)
        return None
    number, line = block[position]
    method, url = _parse_request_line(number, line)
    position += 1
    while position < len(block) and _is_query_continuation(block[position][1]):
        url.append(_compile_line(block[position][1].strip(), *block[position]))
        position += 1
    headers, position = _parse_headers(block, position, extras)
    body = _parse_body(block[position:], extras)
    if method == "GRAPHQL" and not body:
        raise CellSyntaxError("a GRAPHQL request needs a query in its body", number, line)
    return HttpRequestTemplate(
        method=method,
        url=tuple(url),
        headers=tuple(headers),
        body=tuple(body),
        line=number,
        name=name[2] if name else None,
        title=title,
        directives=directives,
        variables=dict(variables),
        earlier_names=dict(names),
        checks=tuple(extras.checks),
        captures=tuple(extras.captures),
        save=extras.save,
    )


def _parse_preamble(
    block: list[_Line], variables: dict[str, _Variable], extras: _Extras
) -> tuple[int, tuple[int, str, str] | None, dict[str, str]]:
    """Skip the blank, comment, directive, variable and ``??`` lines before the request line.

    Returns the position of the request line, the ``@name`` (its line number, the line and the
    name, checked), and the other directives.
    """
    name: tuple[int, str, str] | None = None
    directives: dict[str, str] = {}
    for position, (number, line) in enumerate(block):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("??"):
            extras.checks.append(_parse_check(stripped, number, line))
            continue
        if _is_comment(stripped):
            directive = _DIRECTIVE.fullmatch(stripped)
            if directive and directive.group(1) == "name":
                if name is not None:
                    raise CellSyntaxError(f"a second '@name' (the first is on line {name[0]})", number, line)
                name = (number, line, _check_request_name(directive.group(2).strip(), number, line))
            elif directive and directive.group(1) == "capture":
                extras.captures.append(_parse_capture(directive.group(2), number, line))
            elif directive:
                directives[directive.group(1)] = directive.group(2).strip()
            continue
        if stripped.startswith("< {%"):
            raise CellSyntaxError(
                f"pre-request scripts ('< {{% ... %}}') are {_JS}; compute the value in Python and use {{{{name}}}}",
                number,
                line,
            )
        if stripped.startswith("@"):
            variable = _parse_variable(stripped, number, line)
            variables[variable.name] = variable
            continue
        return position, name, directives
    return len(block), name, directives


def _parse_check(stripped: str, number: int, line: str) -> CheckLine:
    try:
        check = parse_check(stripped, number, line)
    except CheckSyntaxError as exc:
        raise CellSyntaxError(str(exc), number, line) from None
    expected = None if check.expected is None else _compile_line(check.expected, number, line)
    return CheckLine(check, expected)


def _parse_capture(text: str, number: int, line: str) -> tuple[str, Check]:
    try:
        name, check = parse_capture(text)
    except CheckSyntaxError as exc:
        raise CellSyntaxError(str(exc), number, line) from None
    return name, Check(check.field, check.argument, check.condition, None, number, line)


def _check_request_name(name: str, number: int, line: str) -> str:
    """A request name is a Python identifier: its response is stored under it in the notebook."""
    if not name:
        raise CellSyntaxError("expected a name after '@name', as in '# @name login'", number, line)
    if not name.isidentifier():
        raise CellSyntaxError(
            f"request name {name!r} is not a Python identifier (letters, digits and _): "
            "its response is stored in a variable of that name",
            number,
            line,
        )
    return name


def _parse_variable(stripped: str, number: int, line: str) -> _Variable:
    match = _VARIABLE.fullmatch(stripped)
    if match is None:
        raise CellSyntaxError("expected a cell variable '@name = value', as in '@host = example.com'", number, line)
    _check_safe(stripped, "a variable", number, line)
    return _Variable(match.group(1), _compile_line(match.group(2).strip(), number, line))


def _parse_request_line(number: int, line: str) -> tuple[str, list[_Text]]:
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
        return "GET", [_compile_line(words[0], number, line)]
    if len(words) == 2:
        method, url = words
        if not _METHOD.fullmatch(method):
            raise CellSyntaxError(
                f"expected '[METHOD] URL [HTTP/1.1]': {method!r} is not a method such as GET or POST", number, line
            )
        return method.upper(), [_compile_line(url, number, line)]
    raise CellSyntaxError(
        f"expected '[METHOD] URL [HTTP/1.1]', found {len(words)} words (write a space in a URL as %20)",
        number,
        line,
    )


def _is_query_continuation(line: str) -> bool:
    """An indented line starting with ``/``, ``?`` or ``&`` continues the URL (JetBrains style)."""
    return line[:1].isspace() and line.lstrip()[:1] in ("/", "?", "&")


def _parse_headers(block: list[_Line], position: int, extras: _Extras) -> tuple[list[_Header], int]:
    """``Name: value`` lines up to the first blank line; returns them and where the body starts.
    ``??`` lines among them are assertions."""
    headers: list[_Header] = []
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


def _parse_header(stripped: str, number: int, line: str) -> _Header:
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
    return _Header(_compile_line(name, number, shown), _compile_line(value, number, shown))


def _parse_body(block: list[_Line], extras: _Extras) -> list[_Text | _FileBody]:
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
    body: list[_Text | _FileBody] = []
    for number, line in lines:
        file = _FILE_LINE.fullmatch(line)
        if file:
            body.append(_FileBody(_compile_line(file.group(2), number, line), interpolate=bool(file.group(1))))
        else:
            body.append(_compile_line(line, number, line))
    return body


def _ends_request(line: str) -> bool:
    """A ``> handler`` or ``>> save`` line: what follows a request, never part of its body."""
    return line.startswith(("> ", ">>")) or line.rstrip() == ">"


def _parse_handler(line: str, number: int, extras: _Extras) -> None:
    save = _SAVE_LINE.fullmatch(line)
    if save:
        if extras.save is not None:
            raise CellSyntaxError("a second '>>' save: a request's body is saved to one file", number, line)
        extras.save = SaveTarget(_compile_line(save.group(2), number, line), overwrite=bool(save.group(1)))
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


# --- {{...}} -----------------------------------------------------------------------------------


def _compile_line(text: str, number: int, source: str) -> _Text:
    try:
        return _Text(_compile(text), number, source)
    except _Failure as failure:
        raise CellSyntaxError(str(failure), number, source) from None


def _compile(text: str) -> tuple[str | _Expr, ...]:
    """Split ``text`` into literal strings and ``{{...}}`` expressions (``\\{{`` is a literal ``{{``)."""
    parts: list[str | _Expr] = []
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
            raise _Failure(f"'{{{{' without a closing '}}}}' ({_BRACES_HINT})")
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(_parse_expr(text[match.end() : close]))
        position = close + 2
    literal.append(text[position:])
    if "".join(literal):
        parts.append("".join(literal))
    return tuple(parts)


def _parse_expr(inner: str) -> _Expr:
    """``name``, then ``.attr``, ``[index]`` and ``['key']`` steps; nothing else. Or a ``$`` dynamic variable."""
    source = inner.strip()
    if source.startswith("$"):
        try:
            dynamic = parse_dynamic(source)
        except ValueError as exc:
            raise _Failure(f"{{{{{source}}}}}: {exc}") from None
        return _Expr(source, "$" + dynamic.kind, (), dynamic)
    reference = _REFERENCE.fullmatch(source)
    if reference is not None:
        name, part, kind, rest = reference.groups()
        return _Expr(source, name, (), reference=(part, kind, _reference_argument(source, kind, rest)))
    name = _EXPR_NAME.match(inner)
    if not source or name is None:
        raise _Failure(
            f"expected a variable name in '{{{{{inner}}}}}', as in {{{{login.json.token}}}} or {{{{items[0]}}}} "
            f"(no expressions; {_BRACES_HINT})"
        )
    steps: list[tuple[Literal["attr", "item"], str | int]] = []
    position = name.end()
    rest = inner.rstrip()
    while position < len(rest):
        step = _EXPR_STEP.match(rest, position)
        if step is None:
            raise _Failure(
                f"{{{{{source}}}}}: expected .attribute, [index] or ['key'] after {rest[:position].strip()!r}, "
                f"found {rest[position:].strip()!r} (no expressions; {_BRACES_HINT})"
            )
        attr, index, single, double = step.groups()
        if attr is not None:
            steps.append(("attr", attr))
        elif index is not None:
            steps.append(("item", int(index)))
        else:
            steps.append(("item", single if single is not None else double))
        position = step.end()
    return _Expr(source, name.group(1), tuple(steps))


def _reference_argument(source: str, kind: str, rest: str | None) -> str | None:
    """What follows ``.body.`` (a JSONPath, or ``*`` for the whole body) or ``.headers.`` (a name)."""
    if kind == "headers":
        if rest is None or not is_token(rest):
            raise _Failure(
                f"{{{{{source}}}}}: expected a header name after '.headers.', as in login.response.headers.Location"
            )
        return rest
    if rest is None or rest == "*":
        return None
    if rest.startswith("$"):
        return rest
    if rest.startswith("/"):
        raise _Failure(f"{{{{{source}}}}}: XPath is not supported: use a JSONPath such as .body.$.token")
    raise _Failure(f"{{{{{source}}}}}: expected a JSONPath after '.body.' ($.token), or * for the whole body")


class _Renderer:
    """Looks up the ``{{...}}`` of one request: cell variables, then the notebook's namespace."""

    def __init__(
        self,
        namespace: Mapping[str, Any],
        variables: Mapping[str, _Variable],
        earlier: Mapping[str, int],
        environment: Environment | None = None,
    ) -> None:
        self.namespace = namespace
        self.variables = variables
        self.earlier = earlier
        self.environment: Mapping[str, Any] = environment.variables if environment is not None else {}
        self.context = DynamicContext(
            environ=os.environ,
            dotenv=environment.dotenv if environment is not None else {},
            dotenv_file=str(environment.folder / DOTENV) if environment is not None else DOTENV,
        )
        self.resolving: list[str] = []
        self.resolved: dict[str, str] = {}
        self.parsed_json: dict[int, tuple[Any, Any]] = {}

    def text(self, text: _Text) -> str:
        """``text`` interpolated; a failure is a ``CellSyntaxError`` at its line."""
        try:
            return self.join(text.parts)
        except _Failure as failure:
            raise CellSyntaxError(str(failure), text.line, text.source) from None

    def join(self, parts: Sequence[str | _Expr]) -> str:
        return "".join(part if isinstance(part, str) else self.insert(part) for part in parts)

    def insert(self, expr: _Expr) -> str:
        value = self.value(expr)
        try:
            return format_value(value)
        except UnicodeDecodeError:
            raise _Failure(f"{expr}: the bytes are not UTF-8 text (send binary data as a '< file' body)") from None

    def value(self, expr: _Expr) -> Any:
        value = self.lookup(expr)
        if expr.reference is not None:
            return _follow(value, expr)
        done = expr.name
        for kind, key in expr.steps:
            value = self.step(value, kind, key, expr, done)
            done += f".{key}" if kind == "attr" else f"[{key!r}]"
        return value

    def lookup(self, expr: _Expr) -> Any:
        name = expr.name
        if expr.dynamic is not None:
            try:
                return generate(expr.dynamic, self.context)
            except LookupError as exc:
                raise _Failure(f"{expr}: {exc.args[0]}") from None
        if name in self.variables:
            return self.variable(expr, self.variables[name])
        if name in self.environment:
            return self.environment[name]
        if name in self.namespace:
            return self.namespace[name]
        raise _Failure(f"{expr}: {name!r} is not defined{self.hint(name)}")

    def hint(self, name: str) -> str:
        """Why a name may be missing, and a close match if there is one."""
        if name in self.earlier:
            return f" yet: it names the response of the request on line {self.earlier[name]}, which has not been sent"
        names = (*self.variables, *self.environment, *self.namespace)
        known = [key for key in names if isinstance(key, str) and not key.startswith("_")]
        close = difflib.get_close_matches(name, known, n=1)
        guess = f"; did you mean {close[0]!r}?" if close else ""
        return f" (not a notebook variable, a cell @variable or an environment variable){guess}"

    def variable(self, expr: _Expr, variable: _Variable) -> str:
        """A cell variable's value, itself interpolated (once per request); cycles are errors."""
        name = variable.name
        if name in self.resolved:
            return self.resolved[name]
        if name in self.resolving:
            cycle = " -> ".join([*self.resolving[self.resolving.index(name) :], name])
            raise _Failure(f"{expr}: @{name} refers to itself ({cycle})")
        self.resolving.append(name)
        try:
            value = self.join(variable.value.parts)
        except _Failure as failure:
            raise _Failure(f"{expr}: in @{name} on line {variable.value.line}: {failure}") from None
        finally:
            self.resolving.pop()
        self.resolved[name] = value
        return value

    def step(self, value: Any, kind: str, key: str | int, expr: _Expr, done: str) -> Any:
        if kind == "attr":
            assert isinstance(key, str)
            return self.attribute(value, key, expr, done)
        return _item(value, key, expr, done)

    def attribute(self, value: Any, key: str, expr: _Expr, done: str) -> Any:
        """``.key``: a mapping's key, ``.json`` as a call of ``json()``, else an attribute."""
        if isinstance(value, Mapping):
            if key in value:
                return value[key]
            raise _Failure(f"{expr}: {key!r} not found; {list_keys(value)}")
        try:
            found = getattr(value, key)  # a property of a notebook object may raise anything
        except AttributeError:
            raise _Failure(f"{expr}: {key!r} not found: {done!r} is {_a(value)} without {key!r}") from None
        except Exception as exc:
            raise _Failure(f"{expr}: reading {done}.{key} failed: {type(exc).__name__}: {exc}") from None
        if key == "json" and callable(found):
            return self.json(value, expr, done)
        return found

    def json(self, value: Any, expr: _Expr, done: str) -> Any:
        """``value.json()``, parsed once per request however often it is used."""
        cached = self.parsed_json.get(id(value))
        if cached is not None and cached[0] is value:
            return cached[1]
        try:
            parsed = value.json()
        except Exception as exc:
            raise _Failure(f"{expr}: {done}.json() failed: {exc}") from None
        self.parsed_json[id(value)] = (value, parsed)
        return parsed


def _follow(value: Any, expr: _Expr) -> Any:
    """``{{name.response.body.$.x}}``: a part of the response (or its request) named ``name``."""
    assert expr.reference is not None
    part, kind, argument = expr.reference
    if not (hasattr(value, "status") and hasattr(value, "request") and hasattr(value, "headers")):
        raise _Failure(f"{expr}: {expr.name!r} is {_a(value)}, not a response (name a request with '# @name')")
    field_name = "header" if kind == "headers" else "body"
    try:
        if part == "response":
            return response_field(value, field_name, argument)
        return _request_field(value.request, field_name, argument)
    except LookupError as exc:
        raise _Failure(f"{expr}: {exc.args[0]}") from None


def _request_field(request: Any, field_name: str, argument: str | None) -> Any:
    """``.request.headers.NAME`` or ``.request.body[.$.path]`` of a sent request."""
    if field_name == "header":
        values = request.headers.getall(argument, [])
        if not values:
            raise LookupError(f"the request had no {argument} header")
        return ", ".join(values)
    content = request.content if isinstance(request.content, bytes) else b""
    text = content.decode("utf-8", errors="replace")
    if argument is None:
        return text
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise LookupError(f"the request's body is not JSON ({exc})") from None
    try:
        return extract(body, argument)
    except CellSyntaxError as exc:
        raise LookupError(str(exc)) from None


def _item(value: Any, key: str | int, expr: _Expr, done: str) -> Any:
    """``[0]`` or ``['key']``: a mapping's key, a sequence's index, else ``value[key]``."""
    shown = f"[{key!r}]"
    if isinstance(value, Mapping):
        if key in value:
            return value[key]
        raise _Failure(f"{expr}: {shown} not found; {list_keys(value)}")
    if isinstance(value, Sequence) and isinstance(key, int):
        if -len(value) <= key < len(value):
            return value[key]
        size = f"has {len(value)} item{'' if len(value) == 1 else 's'}" if value else "is empty"
        raise _Failure(f"{expr}: {shown} is out of range: {done!r} {size}")
    if isinstance(value, Sequence) or not hasattr(value, "__getitem__"):
        wanted = "a list" if isinstance(key, int) else "a mapping"
        raise _Failure(f"{expr}: {shown} not found: {done!r} is {_a(value)}, not {wanted}")
    try:
        return value[key]
    except Exception as exc:
        raise _Failure(f"{expr}: {shown} not found: {type(exc).__name__}: {exc}") from None


def _a(value: Any) -> str:
    kind = type(value).__name__
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def format_value(value: Any) -> str:
    """How an interpolated value is written: strings as they are, ``None``/booleans/dicts/lists
    as compact JSON, bytes as UTF-8 (``UnicodeDecodeError`` if they are not), else ``str()``."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    if value is None or isinstance(value, (bool, list, tuple, Mapping)):
        plain = dict(value) if isinstance(value, Mapping) and not isinstance(value, dict) else value
        return json.dumps(plain, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


# --- rendering a request -----------------------------------------------------------------------


def _render_header(renderer: _Renderer, header: _Header) -> tuple[str, str]:
    name, value = renderer.text(header.name), renderer.text(header.value)
    line, source = header.name.line, header.name.source
    if not is_token(name):
        raise CellSyntaxError(f"the header name {name!r} is not a token after interpolation", line, source)
    if has_line_break(value):
        raise CellSyntaxError(
            f"the value of header {name} contains a line break or NUL after interpolation", line, source
        )
    return name, value


def _absolute_url(
    url: str, where: _Text, headers: list[tuple[str, str]], default_scheme: str
) -> tuple[str, list[tuple[str, str]]]:
    """The absolute URL (or a relative one for a base URL) and the headers left after ``Host``."""
    line, source = where.line, where.source
    if has_line_break(url):
        raise CellSyntaxError("the URL contains a line break or NUL after interpolation", line, source)
    if url.startswith("unix:"):
        raise CellSyntaxError("requests over Unix sockets ('unix:/path') are not supported", line, source)
    if url.startswith(":") and LOCALHOST.fullmatch(url) is None:
        raise CellSyntaxError(f"expected ':PORT/path' (localhost), found {url!r}", line, source)
    if url.startswith("/"):
        host = _header(headers, "host")
        if host is not None:
            url = f"{default_scheme}://{host}{url}"
            headers = [(name, value) for name, value in headers if name.lower() != "host"]
    else:  # HTTPie's shorthands, as on a %kclient line: :3000/path, example.com/path
        url = expand_url(url, default_scheme)
    _check_url(url, line, source)
    return url, headers


def _check_url(url: str, line: int, source: str) -> None:
    try:
        parsed = URL(url)
    except (TypeError, ValueError) as exc:
        raise CellSyntaxError(f"invalid URL {mask_url_text(url)!r}: {exc}", line, source) from None
    if parsed.scheme and parsed.scheme not in ("http", "https", "ws", "wss"):
        raise CellSyntaxError(
            f"expected an http://, https://, ws:// or wss:// URL, not {parsed.scheme}://", line, source
        )
    if parsed.scheme and not parsed.host:
        raise CellSyntaxError(f"the URL {mask_url_text(url)!r} has no host", line, source)


def _render_body(
    renderer: _Renderer, body: Sequence[_Text | _FileBody], headers: list[tuple[str, str]], read_file: ReadFile
) -> bytes | None:
    """The body bytes (``None`` without a body); form bodies are joined without line breaks,
    multipart bodies with CRLF (RFC 2046; a ``< file`` part's bytes stay as they are)."""
    if not body:
        return None
    content_type = _header(headers, "content-type")
    form = content_type is not None and content_type.split(";")[0].strip().lower() == _FORM
    pieces: list[bytes] = []
    for item in body:
        if isinstance(item, _FileBody):
            pieces.append(_render_file(renderer, item, read_file))
        else:
            text = renderer.text(item)
            pieces.append((text.strip() if form else text).encode())
    multipart = content_type is not None and content_type.split(";")[0].strip().lower().startswith("multipart/")
    return (b"" if form else b"\r\n" if multipart else b"\n").join(pieces)


def _render_file(renderer: _Renderer, item: _FileBody, read_file: ReadFile) -> bytes:
    """A ``< path`` file's bytes, or a ``<@ path`` file's text interpolated."""
    path = renderer.text(item.path)
    line, source = item.path.line, item.path.source
    try:
        data = read_file(path)
    except OSError as exc:
        raise CellSyntaxError(f"cannot read {path!r}: {exc.strerror or exc}", line, source) from None
    if not item.interpolate:
        return data
    try:
        text = data.decode("utf-8")
        return renderer.join(_compile(text)).encode()
    except UnicodeDecodeError:
        message = f"{path!r} is not UTF-8 text: send it unchanged with '< {path}'"
    except _Failure as failure:
        message = f"in {path!r}: {failure}"
    raise CellSyntaxError(message, line, source)


def _read_from_disk(path: str) -> bytes:
    return read_disk(path)  # the lines' reader: a path with NUL is an OSError there too


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (lower case), or ``None``."""
    return next((value for key, value in headers if key.lower() == name), None)


def _is_json(content: bytes) -> bool:
    """Whether ``content`` is a JSON object or array (the only bodies given a JSON Content-Type)."""
    if content.lstrip()[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(content)
    except ValueError:
        return False
    return True


_OPERATION = re.compile(r"^\s*(?:query|mutation|subscription)\s+([_A-Za-z]\w*)", re.MULTILINE)


def _graphql(content: bytes | None, line: int, source: str) -> bytes:
    """A ``GRAPHQL`` body (the query, then optionally a blank line and a JSON object of variables)
    as the JSON document GraphQL servers take: ``{"query", "variables", "operationName"}``."""
    text = (content or b"").decode("utf-8")
    query, variables = text, None
    # The variables are what follows the first blank line after which a JSON object begins
    # (a blank line may stand inside the object too).
    starts = [match.end() for match in re.finditer(r"\n[ \t]*\n", text) if text[match.end() :].lstrip()[:1] == "{"]
    if starts:
        try:
            variables = json.loads(text[starts[0] :])
        except ValueError as exc:
            raise CellSyntaxError(f"the GraphQL variables after the query are not JSON: {exc}", line, source) from None
        if not isinstance(variables, dict):
            raise CellSyntaxError("the GraphQL variables must be a JSON object", line, source)
        query = text[: starts[0]]
    document: dict[str, Any] = {"query": query.strip()}
    if variables is not None:
        document["variables"] = variables
    operations = _OPERATION.findall(query)
    if len(operations) == 1:
        document["operationName"] = operations[0]
    return json.dumps(document, ensure_ascii=False).encode()
