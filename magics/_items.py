"""HTTPie's request items on a ``%kclient`` line, parsed into a ``RequestSpec``.

``%kclient [METHOD] URL [ITEM ...]`` reads as HTTPie's ``http`` command does:

- ``METHOD`` is a word in capitals (``GET``, ``POST``, ``M-SEARCH``); without it the request is
  a GET, or a POST when there are body items.
- ``URL`` may be short: ``:3000/path`` is ``http://localhost:3000/path``, ``:/x`` is
  ``http://localhost/x`` and ``example.com/x`` gets the default scheme.
- Items, told apart by their separator (the first one in the word; the longest one when
  several start at the same place; a separator character escaped with a backslash is text):

  ==================  =====================================================================
  ``Header:value``    a request header (``Header;`` sends it empty, ``Header:@file`` reads it)
  ``name==value``     a query parameter (``name==@file`` reads the value from a file)
  ``field=value``     a string field of the JSON body (a form field with ``form=True``)
  ``field:=json``     a raw JSON value: ``n:=3``, ``ok:=true``, ``tags:='["a"]'``
  ``field=@file``     a text file's content as a string field
  ``field:=@file``    a JSON file's content as a value
  ``field@file``      a file upload, which makes the body ``multipart/form-data``
  ==================  =====================================================================

JSON is the default body, and its field names are HTTPie 3's nested JSON paths:
``user[name]=ada``, ``tags[]=a``, ``points[0]:=1``, ``[]:=1`` (a top-level array); a literal
bracket is written ``\\[``. Form and multipart field names are taken as written.

Files are read through a ``read_file(path) -> bytes`` callable (the disk by default), so
tests and the notebook layer decide where files come from.
"""

from __future__ import annotations

import errno
import json
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kclient._redact import mask_url_text
from kclient._syntax import has_line_break, is_token

from ._errors import CellSyntaxError
from ._spec import NO_JSON, RequestSpec

__all__ = [
    "ReadFile",
    "add_form_field",
    "expand_url",
    "guess_content_type",
    "is_header_name",
    "parse_line_request",
    "read_disk",
]

#: How the parsers read a file named in request text: ``read_file(path) -> bytes``.
ReadFile = Callable[[str], bytes]

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

#: A method word: capitals, with inner dashes (``M-SEARCH``).
_METHOD = re.compile(r"[A-Z]+(?:-[A-Z]+)*\Z")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9.+-]*://")
#: curl's and HTTPie's shorthand for localhost: ``:3000/path``, ``:/path``, ``:``.
LOCALHOST = re.compile(r":(\d*)([/?#].*)?\Z", re.DOTALL)
_HOST = re.compile(r"[\w.~%!$&'()*+,-]+\Z|\[[0-9A-Fa-f:.]+\]\Z")
_UPLOAD_TYPE = ";type="


def read_disk(path: str) -> bytes:
    """The default ``read_file``: the bytes of ``path`` on disk (``~`` is the home folder).

    A path no file can have (one with a NUL, which ``open`` refuses with a ValueError) is an
    ``OSError`` like any missing file, so that the parsers report it as such.
    """
    try:
        return Path(path).expanduser().read_bytes()
    except ValueError as exc:
        raise FileNotFoundError(errno.ENOENT, f"not a valid file path: {exc}", path) from exc


def is_header_name(name: str) -> bool:
    """Whether ``name`` is a valid header name (an RFC 9110 token)."""
    return is_token(name)


def guess_content_type(filename: str) -> str:
    """The media type of an uploaded file from its extension, ``application/octet-stream`` if unknown."""
    return mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"


def add_form_field(form: dict[str, str | list[str]], name: str, value: str) -> None:
    """Add a field to a ``RequestSpec.form``: a repeated name holds a list of its values, in order."""
    previous = form.get(name)
    if previous is None:
        form[name] = value
    elif isinstance(previous, list):
        previous.append(value)
    else:
        form[name] = [previous, value]


def expand_url(word: str, default_scheme: str = "http") -> str:
    """``word`` as a full URL: HTTPie's ``:3000/x`` shorthand for localhost and a default scheme.

    ``://host`` (a pasted URL with the scheme cut off) loses its ``://``; a URL with a scheme
    is kept as it is.
    """
    url = word[3:] if word.startswith("://") else word
    if SCHEME.match(url):
        return url
    local = LOCALHOST.match(url)
    if local:
        port, rest = local.group(1), local.group(2) or ""
        return f"{default_scheme}://localhost{':' + port if port else ''}{rest}"
    return f"{default_scheme}://{url}"


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


# --- method and URL ---------------------------------------------------------------------------


def _split_method(words: list[str]) -> tuple[str | None, list[str]]:
    """The method word (if the line starts with one) and the words after it."""
    first = words[0]
    if _METHOD.match(first):
        return first, words[1:]
    if first.upper() in _KNOWN_METHODS:
        raise CellSyntaxError(
            f"write the method in capitals: {first.upper()}, not {first} (a lowercase word is read as a host name)"
        )
    return None, words


def _url(word: str, default_scheme: str) -> str:
    """The request URL from its word, checked to have a host; ``/path`` stays relative.

    A relative URL is resolved by the client against its base URL (``DefaultRequest``).
    """
    if word.startswith("/") and not word.startswith("//"):
        if has_line_break(word) or any(c.isspace() for c in word):
            raise CellSyntaxError(f"expected a path such as /get, got {mask_url_text(word)!r}")
        return word
    url = expand_url(word, default_scheme)
    expected = f"expected a URL such as :3000/path or example.com/path, got {mask_url_text(word)!r}"
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise CellSyntaxError(f"{expected} ({exc})") from exc
    host = parts.hostname
    if not host or not _HOST.match(host if ":" not in host else f"[{host}]"):
        hint = " (it looks like a request item: the URL comes first)" if _split_item(word) else ""
        raise CellSyntaxError(expected + hint)
    return url


# --- headers and query parameters -------------------------------------------------------------


def _header(item: _Item, value: str) -> tuple[str, str]:
    if not is_header_name(item.key):
        raise item.error(f"{item.key!r} is not a header name (letters, digits and !#$%&'*+-.^_`|~)")
    if has_line_break(value):
        raise item.error("a header value cannot contain a line break or NUL")
    return item.key, value.strip(" \t")


def _header_item(item: _Item, read_file: ReadFile) -> tuple[str, str]:
    if item.sep == HEADER_EMPTY:
        if item.value:
            raise item.error(f"expected {item.key}:value, or {item.key}; alone for an empty header")
        return _header(item, "")
    if item.sep == HEADER_FILE:
        return _header(item, _read_text(item, item.value, read_file).rstrip("\r\n"))
    if not item.value.strip(" \t"):
        raise item.error(
            f"the header has no value: write {item.key}; to send it empty "
            "(HTTPie's 'Header:' to unset a default header is not supported here)"
        )
    return _header(item, item.value)


def _query_item(item: _Item, read_file: ReadFile) -> tuple[str, str]:
    if item.sep == QUERY_FILE:
        return item.key, _read_text(item, item.value, read_file).rstrip("\r\n")
    return item.key, item.value


# --- files ------------------------------------------------------------------------------------


def _read(item: _Item, path: str, read_file: ReadFile) -> bytes:
    if not path:
        raise item.error("expected a file path after the @")
    try:
        return read_file(path)
    except OSError as exc:
        raise item.error(f"cannot read the file {path!r} ({exc.strerror or exc})") from exc


def _read_text(item: _Item, path: str, read_file: ReadFile) -> str:
    try:
        return _read(item, path, read_file).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise item.error(f"the file {path!r} is not UTF-8 text") from exc


def _upload(item: _Item, read_file: ReadFile) -> tuple[str, bytes, str]:
    """A ``field@path[;type=mime]`` upload: (file name, content, content type)."""
    if not item.key:
        raise item.error(
            "a file upload needs a field name: name@path (a file as the whole body is a cell's '< path' line)"
        )
    path, _, ctype = item.value.partition(_UPLOAD_TYPE)
    content = _read(item, path, read_file)
    filename = path.replace("\\", "/").rsplit("/", 1)[-1]
    return filename, content, ctype.strip() or guess_content_type(filename)


# --- data values ------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _load_json(item: _Item, text: str, source: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise item.error(
            f"{source} is not valid JSON ({reason}): write numbers, true, false, null, "
            "[arrays] or {objects} after :=, and text as field=value"
        ) from exc


def _data_value(item: _Item, read_file: ReadFile) -> Any:
    """The value of a data item: text for ``=``/``=@``, any JSON value for ``:=``/``:=@``."""
    if item.sep == DATA:
        return item.value
    if item.sep == DATA_FILE:
        return _read_text(item, item.value, read_file)
    if item.sep == JSON_RAW:
        return _load_json(item, item.value, "the value")
    return _load_json(item, _read_text(item, item.value, read_file), f"the file {item.value!r}")


def _form_text(item: _Item, value: Any) -> str:
    """A form field's text: JSON scalars are allowed as HTTPie allows them (``n:=3``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    kind = "null" if value is None else _json_type(value)
    raise item.error(f"a form field is text, and this value is {kind}: drop --form and the file uploads to send JSON")


# --- nested JSON paths (HTTPie 3) ---------------------------------------------------------------

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


# --- the line ---------------------------------------------------------------------------------


@dataclass
class _Body:
    """The body items of a line, gathered before knowing whether they make JSON or a form."""

    data: list[tuple[_Item, Any]]
    files: dict[str, tuple[str, bytes, str]]


def _json_body(data: list[tuple[_Item, Any]]) -> Any:
    root: Any = None
    for item, value in data:
        root = _set_path(root, item, _PathReader(item).steps(), value)
    return NO_JSON if root is None else root


def _form_body(data: list[tuple[_Item, Any]]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {}
    for item, value in data:
        add_form_field(form, item.key, _form_text(item, value))
    return form


def parse_line_request(
    words: list[str],
    *,
    default_scheme: str = "http",
    read_file: ReadFile | None = None,
    form: bool = False,
) -> RequestSpec:
    """The request of a ``%kclient`` line: ``[METHOD] URL [ITEM ...]``, already split with ``shlex``.

    ``form=True`` (``--form``) makes data items form fields instead of JSON members; a file
    upload (``field@path``) makes the body multipart either way. Errors are
    ``CellSyntaxError``s (line 0) naming the word at fault.
    """
    read = read_file or read_disk
    if not words:
        raise CellSyntaxError("expected a URL: %kclient [METHOD] URL [Header:value name==value field=value ...]")
    method, rest = _split_method(words)
    if not rest:
        raise CellSyntaxError(f"expected a URL after {method}")
    spec = RequestSpec(method=method or "GET", url=_url(rest[0], default_scheme))
    body = _Body(data=[], files={})
    for word in rest[1:]:
        _add_item(spec, body, _parse_item(word), read)
    if method is None and (body.data or body.files):
        spec.method = "POST"
    if body.files or form:
        spec.form = _form_body(body.data)
        spec.files = body.files
    else:
        spec.json = _json_body(body.data)
    return spec


def _add_item(spec: RequestSpec, body: _Body, item: _Item, read_file: ReadFile) -> None:
    """Put one item where it belongs: headers, query parameters, files or the body's data."""
    if item.sep in (HEADER, HEADER_EMPTY, HEADER_FILE):
        spec.headers.append(_header_item(item, read_file))
    elif item.sep in (QUERY, QUERY_FILE):
        spec.params.append(_query_item(item, read_file))
    elif item.sep == UPLOAD:
        if item.key in body.files:
            raise item.error(f"the field {item.key!r} already has a file: one file per field name")
        body.files[item.key] = _upload(item, read_file)
    else:
        body.data.append((item, _data_value(item, read_file)))
