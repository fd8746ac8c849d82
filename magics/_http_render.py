"""Rendering a parsed ``.http`` request: its ``{{...}}`` looked up and inserted, its URL made
absolute, its body read (files) and joined, a GRAPHQL query wrapped as JSON.

``Renderer`` looks names up in the cell's ``@variables``, then the environment, then the
notebook's namespace, follows ``.attribute`` / ``[index]`` steps and ``.response.body.$.x``
references, and generates ``{{$dynamic}}`` values. The syntax is described in ``_httpfile``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from yarl import URL

from kclient._redact import mask_url_text
from kclient._syntax import has_line_break, is_token

from ._assertions import response_field
from ._dynamic import DynamicContext, generate
from ._environments import DOTENV, Environment
from ._errors import CellSyntaxError
from ._extract import extract, list_keys
from ._http_text import Expr, Failure, FileBody, Header, Text, Variable, compile_text
from ._items import LOCALHOST, expand_url, read_disk

__all__ = [
    "ReadFile",
    "Renderer",
    "absolute_url",
    "format_value",
    "graphql_body",
    "header_value",
    "is_json",
    "read_from_disk",
    "render_body",
    "render_header",
]

ReadFile = Callable[[str], bytes]
_FORM = "application/x-www-form-urlencoded"


class Renderer:
    """Looks up the ``{{...}}`` of one request: cell variables, then the notebook's namespace."""

    def __init__(
        self,
        namespace: Mapping[str, Any],
        variables: Mapping[str, Variable],
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

    def text(self, text: Text) -> str:
        """``text`` interpolated; a failure is a ``CellSyntaxError`` at its line."""
        try:
            return self.join(text.parts)
        except Failure as failure:
            raise CellSyntaxError(str(failure), text.line, text.source) from None

    def join(self, parts: Sequence[str | Expr]) -> str:
        return "".join(part if isinstance(part, str) else self.insert(part) for part in parts)

    def insert(self, expr: Expr) -> str:
        value = self.value(expr)
        try:
            return format_value(value)
        except UnicodeDecodeError:
            raise Failure(f"{expr}: the bytes are not UTF-8 text (send binary data as a '< file' body)") from None

    def value(self, expr: Expr) -> Any:
        value = self.lookup(expr)
        if expr.reference is not None:
            return _follow(value, expr)
        done = expr.name
        for kind, key in expr.steps:
            value = self.step(value, kind, key, expr, done)
            done += f".{key}" if kind == "attr" else f"[{key!r}]"
        return value

    def lookup(self, expr: Expr) -> Any:
        name = expr.name
        if expr.dynamic is not None:
            try:
                return generate(expr.dynamic, self.context)
            except LookupError as exc:
                raise Failure(f"{expr}: {exc.args[0]}") from None
        if name in self.variables:
            return self.variable(expr, self.variables[name])
        if name in self.environment:
            return self.environment[name]
        if name in self.namespace:
            return self.namespace[name]
        raise Failure(f"{expr}: {name!r} is not defined{self.hint(name)}")

    def hint(self, name: str) -> str:
        """Why a name may be missing, and a close match if there is one."""
        if name in self.earlier:
            return f" yet: it names the response of the request on line {self.earlier[name]}, which has not been sent"
        names = (*self.variables, *self.environment, *self.namespace)
        known = [key for key in names if isinstance(key, str) and not key.startswith("_")]
        close = difflib.get_close_matches(name, known, n=1)
        guess = f"; did you mean {close[0]!r}?" if close else ""
        return f" (not a notebook variable, a cell @variable or an environment variable){guess}"

    def variable(self, expr: Expr, variable: Variable) -> str:
        """A cell variable's value, itself interpolated (once per request); cycles are errors."""
        name = variable.name
        if name in self.resolved:
            return self.resolved[name]
        if name in self.resolving:
            cycle = " -> ".join([*self.resolving[self.resolving.index(name) :], name])
            raise Failure(f"{expr}: @{name} refers to itself ({cycle})")
        self.resolving.append(name)
        try:
            value = self.join(variable.value.parts)
        except Failure as failure:
            raise Failure(f"{expr}: in @{name} on line {variable.value.line}: {failure}") from None
        finally:
            self.resolving.pop()
        self.resolved[name] = value
        return value

    def step(self, value: Any, kind: str, key: str | int, expr: Expr, done: str) -> Any:
        if kind == "attr":
            assert isinstance(key, str)
            return self.attribute(value, key, expr, done)
        return _item(value, key, expr, done)

    def attribute(self, value: Any, key: str, expr: Expr, done: str) -> Any:
        """``.key``: a mapping's key, ``.json`` as a call of ``json()``, else an attribute."""
        if isinstance(value, Mapping):
            if key in value:
                return value[key]
            raise Failure(f"{expr}: {key!r} not found; {list_keys(value)}")
        try:
            found = getattr(value, key)  # a property of a notebook object may raise anything
        except AttributeError:
            raise Failure(f"{expr}: {key!r} not found: {done!r} is {_a(value)} without {key!r}") from None
        except Exception as exc:
            raise Failure(f"{expr}: reading {done}.{key} failed: {type(exc).__name__}: {exc}") from None
        if key == "json" and callable(found):
            return self.json(value, expr, done)
        return found

    def json(self, value: Any, expr: Expr, done: str) -> Any:
        """``value.json()``, parsed once per request however often it is used."""
        cached = self.parsed_json.get(id(value))
        if cached is not None and cached[0] is value:
            return cached[1]
        try:
            parsed = value.json()
        except Exception as exc:
            raise Failure(f"{expr}: {done}.json() failed: {exc}") from None
        self.parsed_json[id(value)] = (value, parsed)
        return parsed


def _follow(value: Any, expr: Expr) -> Any:
    """``{{name.response.body.$.x}}``: a part of the response (or its request) named ``name``."""
    assert expr.reference is not None
    part, kind, argument = expr.reference
    if not (hasattr(value, "status") and hasattr(value, "request") and hasattr(value, "headers")):
        raise Failure(f"{expr}: {expr.name!r} is {_a(value)}, not a response (name a request with '# @name')")
    field_name = "header" if kind == "headers" else "body"
    try:
        if part == "response":
            return response_field(value, field_name, argument)
        return _request_field(value.request, field_name, argument)
    except LookupError as exc:
        raise Failure(f"{expr}: {exc.args[0]}") from None


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


def _item(value: Any, key: str | int, expr: Expr, done: str) -> Any:
    """``[0]`` or ``['key']``: a mapping's key, a sequence's index, else ``value[key]``."""
    shown = f"[{key!r}]"
    if isinstance(value, Mapping):
        if key in value:
            return value[key]
        raise Failure(f"{expr}: {shown} not found; {list_keys(value)}")
    if isinstance(value, Sequence) and isinstance(key, int):
        if -len(value) <= key < len(value):
            return value[key]
        size = f"has {len(value)} item{'' if len(value) == 1 else 's'}" if value else "is empty"
        raise Failure(f"{expr}: {shown} is out of range: {done!r} {size}")
    if isinstance(value, Sequence) or not hasattr(value, "__getitem__"):
        wanted = "a list" if isinstance(key, int) else "a mapping"
        raise Failure(f"{expr}: {shown} not found: {done!r} is {_a(value)}, not {wanted}")
    try:
        return value[key]
    except Exception as exc:
        raise Failure(f"{expr}: {shown} not found: {type(exc).__name__}: {exc}") from None


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


def render_header(renderer: Renderer, header: Header) -> tuple[str, str]:
    name, value = renderer.text(header.name), renderer.text(header.value)
    line, source = header.name.line, header.name.source
    if not is_token(name):
        raise CellSyntaxError(f"the header name {name!r} is not a token after interpolation", line, source)
    if has_line_break(value):
        raise CellSyntaxError(
            f"the value of header {name} contains a line break or NUL after interpolation", line, source
        )
    return name, value


def absolute_url(
    url: str, where: Text, headers: list[tuple[str, str]], default_scheme: str
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
        host = header_value(headers, "host")
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


def render_body(
    renderer: Renderer, body: Sequence[Text | FileBody], headers: list[tuple[str, str]], read_file: ReadFile
) -> bytes | None:
    """The body bytes (``None`` without a body); form bodies are joined without line breaks,
    multipart bodies with CRLF (RFC 2046; a ``< file`` part's bytes stay as they are)."""
    if not body:
        return None
    content_type = header_value(headers, "content-type")
    form = content_type is not None and content_type.split(";")[0].strip().lower() == _FORM
    pieces: list[bytes] = []
    for item in body:
        if isinstance(item, FileBody):
            pieces.append(_render_file(renderer, item, read_file))
        else:
            text = renderer.text(item)
            pieces.append((text.strip() if form else text).encode())
    multipart = content_type is not None and content_type.split(";")[0].strip().lower().startswith("multipart/")
    return (b"" if form else b"\r\n" if multipart else b"\n").join(pieces)


def _render_file(renderer: Renderer, item: FileBody, read_file: ReadFile) -> bytes:
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
        return renderer.join(compile_text(text)).encode()
    except UnicodeDecodeError:
        message = f"{path!r} is not UTF-8 text: send it unchanged with '< {path}'"
    except Failure as failure:
        message = f"in {path!r}: {failure}"
    raise CellSyntaxError(message, line, source)


def read_from_disk(path: str) -> bytes:
    return read_disk(path)  # the lines' reader: a path with NUL is an OSError there too


def header_value(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (lower case), or ``None``."""
    return next((value for key, value in headers if key.lower() == name), None)


def is_json(content: bytes) -> bool:
    """Whether ``content`` is a JSON object or array (the only bodies given a JSON Content-Type)."""
    if content.lstrip()[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(content)
    except ValueError:
        return False
    return True


_OPERATION = re.compile(r"^\s*(?:query|mutation|subscription)\s+([_A-Za-z]\w*)", re.MULTILINE)


def graphql_body(content: bytes | None, line: int, source: str) -> bytes:
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
