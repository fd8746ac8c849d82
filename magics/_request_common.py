"""What every way of writing a request shares: how a file named in the request is read
(``ReadFile``, ``read_disk``), what a header name is, an upload's media type, repeated form
fields, and the short URLs of HTTPie and curl (``:3000/path``, ``example.com/x``). Used by the
``%kclient`` line (``_items``), curl import (``_curl_parse``, ``_curl_options``), ``.http``
rendering (``_http_render``) and the composer widget.
"""

from __future__ import annotations

import errno
import mimetypes
import re
from collections.abc import Callable
from pathlib import Path

from kclient._syntax import is_token

__all__ = [
    "LOCALHOST",
    "SCHEME",
    "ReadFile",
    "add_form_field",
    "expand_url",
    "guess_content_type",
    "is_header_name",
    "read_disk",
]

#: How the parsers read a file named in request text: ``read_file(path) -> bytes``.
ReadFile = Callable[[str], bytes]

SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9.+-]*://")
#: curl's and HTTPie's shorthand for localhost: ``:3000/path``, ``:/path``, ``:``.
LOCALHOST = re.compile(r":(\d*)([/?#].*)?\Z", re.DOTALL)


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
