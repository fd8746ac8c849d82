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

The item words are split by ``_item_words`` and their nested JSON paths read by ``_item_paths``;
what every request syntax shares (reading files, header names, short URLs) is ``_request_common``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kclient._redact import mask_url_text
from kclient._syntax import has_line_break

from ._errors import CellSyntaxError
from ._item_paths import _json_type, _PathReader, _set_path
from ._item_words import (
    DATA,
    DATA_FILE,
    HEADER,
    HEADER_EMPTY,
    HEADER_FILE,
    JSON_RAW,
    QUERY,
    QUERY_FILE,
    UPLOAD,
    _Item,
    _parse_item,
    _split_item,
)
from ._request_common import (
    LOCALHOST,
    ReadFile,
    add_form_field,
    expand_url,
    guess_content_type,
    is_header_name,
    read_disk,
)
from ._spec import NO_JSON, RequestSpec

__all__ = [
    "LOCALHOST",
    "ReadFile",
    "add_form_field",
    "expand_url",
    "guess_content_type",
    "is_header_name",
    "parse_line_request",
    "read_disk",
]

#: A method word: capitals, with inner dashes (``M-SEARCH``).
_METHOD = re.compile(r"[A-Z]+(?:-[A-Z]+)*\Z")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
_HOST = re.compile(r"[\w.~%!$&'()*+,-]+\Z|\[[0-9A-Fa-f:.]+\]\Z")
_UPLOAD_TYPE = ";type="


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
