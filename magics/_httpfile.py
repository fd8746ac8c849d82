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

The parser is here; ``_http_text`` holds the ``{{...}}`` compiler and the parsed pieces, and
``_http_render`` the interpolation (``HttpRequestTemplate.render`` calls it).

Errors are ``CellSyntaxError`` with the 1-based line in the cell and what was expected there.
Syntax is checked for the whole cell before anything is sent (``parse_http_templates``);
interpolation happens per request (``HttpRequestTemplate.render``), so a request can use the
response of an earlier request of the same cell once the caller has stored it under its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kclient._redact import SECRET_HEADERS, mask_header
from kclient._syntax import is_token

from ._assertions import Check, CheckSyntaxError, parse_capture, parse_check
from ._environments import Environment
from ._errors import CellSyntaxError
from ._http_render import (
    ReadFile,
    Renderer,
    absolute_url,
    format_value,
    graphql_body,
    header_value,
    is_json,
    read_from_disk,
    render_body,
    render_header,
)
from ._http_text import (
    CheckLine,
    Expr,
    FileBody,
    Header,
    SaveTarget,
    Text,
    Variable,
    compile_line,
)
from ._spec import RequestSpec

__all__ = ["CheckLine", "HttpRequestTemplate", "SaveTarget", "format_value", "parse_http_cell", "parse_http_templates"]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DIRECTIVE = re.compile(r"(?:#|//)\s*@([\w-]+)(?:\s*=\s*|\s+|$)(.*)")
_VARIABLE = re.compile(r"@([^\W\d][\w-]*)\s*=\s*(.*)")
_METHOD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_HTTP_VERSION = re.compile(r"HTTP/\d(?:\.\d)?", re.IGNORECASE)
_WORD = re.compile(r"(?:\{\{.*?\}\}|\S)+")
_BRACES = re.compile(r"\{\{.*?\}\}")
_FILE_LINE = re.compile(r"<(@?)\s+(.*\S)\s*")
_SAVE_LINE = re.compile(r">>(!?)\s+(.*\S)\s*")
#: JetBrains request kinds that are not HTTP requests kclient can send.
_UNSUPPORTED_METHODS = {"GRPC": "gRPC requests ('GRPC host/Service/Method')"}
_JS = "not supported: they are JavaScript, which kclient does not run"

# --- the parsed cell ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequestTemplate:
    """One request of a ``.http`` cell, checked but not yet interpolated.

    ``render(namespace)`` interpolates it into a ``RequestSpec``. ``name`` is its ``# @name``,
    ``title`` the text after its ``###``, ``line`` the line of its request line,
    ``directives`` its other ``# @directives`` (``{"no-redirect": ""}``), which the parser ignores.
    """

    method: str
    url: tuple[Text, ...]
    headers: tuple[Header, ...]
    body: tuple[Text | FileBody, ...]
    line: int
    name: str | None = None
    title: str | None = None
    directives: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, Variable] = field(default_factory=dict, repr=False)
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
        renderer = Renderer(namespace, self.variables, self.earlier_names, environment)
        url = "".join(renderer.text(part) for part in self.url)
        headers = [render_header(renderer, header) for header in self.headers]
        url, headers = absolute_url(url, self.url[0], headers, default_scheme)
        content = render_body(renderer, self.body, headers, read_file or read_from_disk)
        method = self.method
        if method == "GRAPHQL":
            method, content = "POST", graphql_body(content, self.line, self.url[0].source)
            headers = [(name, value) for name, value in headers if name.lower() != "content-type"]
            headers.append(("Content-Type", "application/json"))
        elif content is not None and header_value(headers, "content-type") is None and is_json(content):
            headers.append(("Content-Type", "application/json"))
        return RequestSpec(method, url, headers=headers, content=content, name=self.name, line=self.line)

    def expected_values(
        self, namespace: Mapping[str, Any], *, environment: Environment | None = None
    ) -> list[str | None]:
        """The expected values of the ``??`` assertions, interpolated (``None`` for unary ones)."""
        renderer = Renderer(namespace, self.variables, self.earlier_names, environment)
        return [None if line.expected is None else renderer.text(line.expected) for line in self.checks]

    def save_path(self, namespace: Mapping[str, Any], *, environment: Environment | None = None) -> str | None:
        """The ``>>`` path, interpolated (``None`` without one)."""
        if self.save is None:
            return None
        return Renderer(namespace, self.variables, self.earlier_names, environment).text(self.save.path)

    def references(self) -> frozenset[str]:
        """The names this request's ``{{...}}`` use (through its cell variables too): the
        requests of a collection it needs answered first."""
        return self._references

    @cached_property
    def _references(self) -> frozenset[str]:
        texts: list[Text] = [*self.url]
        texts += [part for header in self.headers for part in (header.name, header.value)]
        texts += [item.path if isinstance(item, FileBody) else item for item in self.body]
        texts += [line.expected for line in self.checks if line.expected is not None]
        if self.save is not None:
            texts.append(self.save.path)
        found: set[str] = set()
        seen: set[str] = set()
        while texts:
            for part in texts.pop().parts:
                if isinstance(part, Expr) and part.dynamic is None:
                    variable = self.variables.get(part.name)
                    if variable is None:
                        found.add(part.name)
                    elif part.name not in seen:
                        seen.add(part.name)
                        texts.append(variable.value)
        return frozenset(found)


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
    variables: dict[str, Variable] = {}
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
    block: list[_Line], title: str | None, variables: dict[str, Variable], names: Mapping[str, int]
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
        url.append(compile_line(block[position][1].strip(), *block[position]))
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
    block: list[_Line], variables: dict[str, Variable], extras: _Extras
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
    expected = None if check.expected is None else compile_line(check.expected, number, line)
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


def _parse_variable(stripped: str, number: int, line: str) -> Variable:
    match = _VARIABLE.fullmatch(stripped)
    if match is None:
        raise CellSyntaxError("expected a cell variable '@name = value', as in '@host = example.com'", number, line)
    _check_safe(stripped, "a variable", number, line)
    return Variable(match.group(1), compile_line(match.group(2).strip(), number, line))


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
