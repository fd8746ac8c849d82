"""The curl parser: ``parse_curl`` reads a curl command line (as browsers' "Copy as cURL" gives
it) into a ``RequestSpec``. It splits the command into shell words, applies each option's
handler from ``_curl_options`` to a ``_CurlCommand``, then builds the spec: URL, method,
headers curl would send, and the body as ``json``, ``form``, ``content`` or multipart
``files`` (see the ``_curl`` module docstring for how bodies are chosen).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ._curl_media import FORM_TYPE, JSON_TYPE, _media_type, is_json_type
from ._curl_options import (
    _FLAG_HANDLERS,
    _SHORT,
    _UNSUPPORTED,
    _VALUE_HANDLERS,
    IGNORED_FLAGS,
    _CurlCommand,
    _Header,
    _takes_value,
)
from ._items import ReadFile, add_form_field, read_disk
from ._shell_words import Word, shell_words
from ._spec import NO_JSON, RequestSpec

__all__ = ["parse_curl"]

# --- reading the command ----------------------------------------------------------------------


def _long_option(cmd: _CurlCommand, words: list[Word], index: int) -> int:
    """Apply the long option at ``words[index]``; return the index of the next word."""
    word = words[index]
    option = word.text
    if option in _UNSUPPORTED:
        raise cmd.error(f"the curl option {option} is not supported: {_UNSUPPORTED[option]}", word)
    plain = option.removeprefix("--no-")
    if option in IGNORED_FLAGS or (plain != option and "--" + plain in IGNORED_FLAGS):
        return index + 1
    if option in _FLAG_HANDLERS:
        _FLAG_HANDLERS[option](cmd)
        return index + 1
    if not _takes_value(option):
        raise cmd.error(f"unknown curl option {option}", word)
    if index + 1 >= len(words):
        raise cmd.error(f"the curl option {option} needs a value", word)
    if option in _VALUE_HANDLERS:
        _VALUE_HANDLERS[option](cmd, words[index + 1].text, word)
    return index + 2


def _short_options(cmd: _CurlCommand, words: list[Word], index: int) -> int:
    """Apply ``-sSL`` / ``-XPOST`` / ``-H value`` at ``words[index]``; return the next index."""
    word = words[index]
    letters = word.text[1:]
    for at, letter in enumerate(letters):
        option = _SHORT.get(letter)
        if option is None:
            raise cmd.error(f"unknown curl option -{letter}", word)
        if not _takes_value(option) and option not in _UNSUPPORTED:
            _long_option(cmd, [Word(option, word.line)], 0)
            continue
        attached = letters[at + 1 :]
        if option in _UNSUPPORTED:
            raise cmd.error(f"the curl option -{letter} ({option}) is not supported: {_UNSUPPORTED[option]}", word)
        if attached:
            values = [Word(option, word.line), Word(attached, word.line)]
            _long_option(cmd, values, 0)
            return index + 1
        if index + 1 >= len(words):
            raise cmd.error(f"the curl option -{letter} needs a value", word)
        _long_option(cmd, [Word(option, word.line), words[index + 1]], 0)
        return index + 2
    return index + 1


def _read_command(cmd: _CurlCommand, words: list[Word]) -> None:
    index = 1 if words and words[0].text in ("curl", "curl.exe") else 0
    while index < len(words):
        text = words[index].text
        if text.startswith("--"):
            index = _long_option(cmd, words, index)
        elif text.startswith("-") and len(text) > 1:
            index = _short_options(cmd, words, index)
        else:
            cmd.urls.append(text)
            index += 1


# --- building the spec ------------------------------------------------------------------------


def _strict_json(content: bytes) -> Any:
    """``content`` as JSON, or ``NO_JSON`` when re-encoding it could change its meaning
    (not UTF-8, not JSON, NaN, or an object with a repeated key)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            raise ValueError("repeated key")
        return result

    def constant(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(content.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
    except ValueError:
        return NO_JSON


def _url(cmd: _CurlCommand) -> str:
    if not cmd.urls:
        raise cmd.error("the curl command has no URL")
    if len(cmd.urls) > 1:
        raise cmd.error(f"the curl command has {len(cmd.urls)} URLs ({', '.join(cmd.urls)}): give one")
    url = cmd.urls[0]
    if "://" not in url:
        url = "http://" + url
    if cmd.upload_name and url.endswith("/"):  # curl -T appends the file name to a URL ending in /
        url += quote(cmd.upload_name)
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise cmd.error(f"only http:// and https:// URLs are supported, not {cmd.urls[0]!r}")
    return url


def _joined_data(cmd: _CurlCommand) -> bytes:
    """The data pieces as curl joins them: ``&`` between pieces, nothing before a --json piece."""
    out = bytearray()
    for index, piece in enumerate(cmd.data):
        if index and not piece.is_json:
            out += b"&"
        out += piece.content
    return bytes(out)


def _method(cmd: _CurlCommand, has_body: bool) -> str:
    if cmd.method:
        return cmd.method
    if cmd.head:
        return "HEAD"
    if cmd.upload is not None:
        return "PUT"
    return "POST" if has_body else "GET"


def _check_bodies(cmd: _CurlCommand) -> None:
    """Refuse the combinations curl refuses (several kinds of body, a body with -I)."""
    kinds = [
        name
        for name, present in (
            ("-d/--data", bool(cmd.data) and not cmd.get),
            ("-F/--form", bool(cmd.form or cmd.files)),
            ("-T/--upload-file", cmd.upload is not None),
        )
        if present
    ]
    if len(kinds) > 1:
        raise cmd.error(f"the curl command gives several bodies ({' and '.join(kinds)}): give one")
    if cmd.head and kinds:
        raise cmd.error(f"-I/--head sends no body, but the command has {kinds[0]}")
    if cmd.get and (cmd.form or cmd.files):
        raise cmd.error("-G/--get puts -d data in the URL; it does not work with -F/--form")


def _effective_headers(cmd: _CurlCommand) -> list[_Header]:
    """The headers curl would send: -H ones, and curl's own unless a -H names or removes them."""
    custom = {h.name.lower() for h in cmd.headers if not h.internal}
    return [h for h in cmd.headers if not h.internal or (h.name.lower() not in custom | cmd.removed)]


def _apply_data(cmd: _CurlCommand, spec: RequestSpec, headers: list[_Header]) -> list[_Header]:
    """Set the body from -d/--json/--data-urlencode data; return the headers left to send."""
    content = _joined_data(cmd)
    ctype_header = next((h for h in headers if h.name.lower() == "content-type"), None)
    if ctype_header is None and "content-type" not in cmd.removed:
        ctype_header = _Header("Content-Type", FORM_TYPE, internal=True)
        headers = [*headers, ctype_header]
    ctype = ctype_header.value if ctype_header else None
    value = _strict_json(content) if is_json_type(ctype) else NO_JSON
    exact = (ctype or "").strip().lower()
    if value is not NO_JSON:
        spec.json = value
        implied = exact == JSON_TYPE
    elif _media_type(ctype) == FORM_TYPE and all(piece.pair for piece in cmd.data):
        for piece in cmd.data:
            if piece.pair:
                add_form_field(spec.form, *piece.pair)
        implied = exact == FORM_TYPE
    else:
        spec.content = content
        implied = False
    return [h for h in headers if not (implied and h is ctype_header)]


def _query_url(url: str, query: bytes) -> str:
    """``url`` with ``query`` appended as -G does (bytes that are not UTF-8 percent-encoded)."""
    try:
        text = query.decode("utf-8")
    except UnicodeDecodeError:
        text = quote(query, safe="!$&'()*+,/:;=?@[]~%")
    base, hash_mark, fragment = url.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}{text}" if text else base
    return joined + hash_mark + fragment


def parse_curl(command: str, *, read_file: ReadFile | None = None, first_line: int = 0) -> RequestSpec:
    """The request of a curl command line (the ``curl`` word is optional).

    Options that do not change the request (``--compressed``, ``-L``, ``-k``, ``-s``, ``-v``,
    ``--max-time``... see ``IGNORED_OPTIONS``) are accepted and ignored; any other unknown
    option is a ``CellSyntaxError`` naming it. Files (``-d @file``, ``-F name=@file``) are
    read with ``read_file``. ``first_line`` is the cell line where the command starts (0 for
    a line magic): error messages then name the line of the option at fault.
    """
    cmd = _CurlCommand(read_file=read_file or read_disk, first_line=first_line)
    _read_command(cmd, shell_words(command, first_line))
    _check_bodies(cmd)
    url = _url(cmd)
    has_body = bool(cmd.data or cmd.form or cmd.files) or cmd.upload is not None
    if cmd.get and cmd.data:
        url = _query_url(url, _joined_data(cmd))
        has_body = False
    spec = RequestSpec(method=_method(cmd, has_body), url=url, line=first_line)
    headers = _effective_headers(cmd)
    if cmd.data and not cmd.get:
        headers = _apply_data(cmd, spec, headers)
    elif cmd.form or cmd.files:
        spec.form, spec.files = cmd.form, cmd.files
        headers = [h for h in headers if h.name.lower() != "content-type"]  # the client sets the boundary
    elif cmd.upload is not None:
        spec.content = cmd.upload
    spec.headers = [(h.name, h.value) for h in headers]
    return spec
