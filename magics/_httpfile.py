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

The parser is here (the ``###`` blocks, and the comments, directives, variables and assertions
before a request line); ``_http_parts`` reads the request line, headers and body,
``_http_template`` holds the parsed request (``HttpRequestTemplate``), ``_http_text`` the
``{{...}}`` compiler and the parsed pieces, and ``_http_render`` the interpolation
(``HttpRequestTemplate.render`` calls it).

Errors are ``CellSyntaxError`` with the 1-based line in the cell and what was expected there.
Syntax is checked for the whole cell before anything is sent (``parse_http_templates``);
interpolation happens per request (``HttpRequestTemplate.render``), so a request can use the
response of an earlier request of the same cell once the caller has stored it under its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ._assertions import Check, CheckSyntaxError, parse_capture
from ._environments import Environment
from ._errors import CellSyntaxError
from ._http_parts import (
    _JS,
    _check_safe,
    _Extras,
    _is_comment,
    _is_query_continuation,
    _Line,
    _parse_body,
    _parse_check,
    _parse_headers,
    _parse_request_line,
)
from ._http_render import ReadFile, format_value
from ._http_template import HttpRequestTemplate
from ._http_text import CheckLine, SaveTarget, Variable, compile_line
from ._spec import RequestSpec

__all__ = ["CheckLine", "HttpRequestTemplate", "SaveTarget", "format_value", "parse_http_cell", "parse_http_templates"]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DIRECTIVE = re.compile(r"(?:#|//)\s*@([\w-]+)(?:\s*=\s*|\s+|$)(.*)")
_VARIABLE = re.compile(r"@([^\W\d][\w-]*)\s*=\s*(.*)")


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
