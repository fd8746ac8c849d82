"""The curl writer: ``to_curl`` prints a ``RequestSpec`` as the equivalent curl command, its
words quoted for a POSIX shell, one option a line when it is long, and secrets masked unless
asked otherwise. Bodies are written so that ``parse_curl`` reads them back as the same spec
(``--json``, ``--data-urlencode`` fields, ``--form-string``/``-F`` parts, ``--data-raw``, or
``--data-binary @body.bin`` for a binary body).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

from kclient._redact import MASK, SECRET_QUERY_KEYS, mask_credentials, mask_form, mask_header_value, mask_json
from kclient._syntax import has_control

from ._curl_media import FORM_TYPE, JSON_TYPE, _media_type
from ._spec import RequestSpec

__all__ = ["to_curl"]

_MAX_ONE_LINE = 80
#: Form field names --data-urlencode takes as they are (it does not encode names).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.~\[\]-]+\Z")
#: Control characters shown as they are inside single quotes (any other needs ``$'...'``).
_QUOTABLE_CONTROLS = "\t\n"
_BINARY_NAME = "body.bin"


def _quote(text: str) -> str:
    """``text`` quoted for a POSIX shell: ``shlex.quote``, or ``$'...'`` when it holds control
    characters (a carriage return would be invisible in single quotes)."""
    if not has_control(text, allowed=_QUOTABLE_CONTROLS):
        return shlex.quote(text)
    escaped = []
    for char in text:
        if char in "\\'":
            escaped.append("\\" + char)
        elif char == "\n":
            escaped.append("\\n")
        elif char == "\r":
            escaped.append("\\r")
        elif char == "\t":
            escaped.append("\\t")
        elif has_control(char):
            escaped.append(f"\\x{ord(char):02x}")
        else:
            escaped.append(char)
    return "$'" + "".join(escaped) + "'"


def _curl_url(spec: RequestSpec, secret_keys: frozenset[str] | None) -> str:
    """The spec's URL with its query parameters merged in, secrets masked when asked."""
    extra = "&".join(f"{quote_plus(k)}={quote_plus(v, safe='/:@,')}" for k, v in spec.params)
    try:
        parts = urlsplit(spec.url)
    except ValueError:  # not a URL (an unbalanced IPv6 bracket): printed as written, credentials masked
        url = f"{spec.url}{'&' if '?' in spec.url else '?'}{extra}" if extra else spec.url
        return url if secret_keys is None else mask_credentials(url)
    query = parts.query
    if extra:
        query = f"{query}&{extra}" if query else extra
    netloc = parts.netloc
    if secret_keys is not None:
        query = mask_form(query, secret_keys)
        if parts.password is not None:
            userinfo, _, host = netloc.rpartition("@")
            netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    if query == parts.query and netloc == parts.netloc:
        return spec.url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _find_header(spec_headers: list[tuple[str, str]], name: str) -> tuple[str, str] | None:
    """The first header called ``name`` (any case), as the spec spells it."""
    lower = name.lower()
    return next((h for h in spec_headers if h[0].lower() == lower), None)


def _header_value(spec_headers: list[tuple[str, str]], name: str) -> str | None:
    found = _find_header(spec_headers, name)
    return found[1] if found else None


def _json_text(value: Any) -> str:
    """The JSON body as the client encodes it: compact UTF-8."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except TypeError:
        from kclient.plugins.content import jsonable

        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=jsonable)


@dataclass
class _CurlOut:
    """A curl command being written: its options, headers left out, and lines before it."""

    options: list[str] = field(default_factory=list)
    skip_headers: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def _json_options(spec: RequestSpec, out: _CurlOut) -> None:
    body = _quote(_json_text(spec.json))
    name, ctype = _find_header(spec.headers, "Content-Type") or ("Content-Type", JSON_TYPE)
    accept = _header_value(spec.headers, "Accept")
    out.skip_headers.add("content-type")
    if ctype.strip().lower() == JSON_TYPE and accept is not None and accept.strip().lower() == JSON_TYPE:
        out.skip_headers.add("accept")
        out.options.append(f"--json {body}")
        return
    out.options += [f"-H {_quote(f'{name}: {ctype}')}", f"--data-raw {body}"]


def _form_options(spec: RequestSpec, out: _CurlOut) -> None:
    ctype = _header_value(spec.headers, "Content-Type")
    if ctype is not None and ctype.strip().lower() == FORM_TYPE:
        out.skip_headers.add("content-type")
    for name, values in spec.form.items():
        for value in values if isinstance(values, list) else [values]:
            if name:
                pair = f"{quote_plus(name, safe='[]')}={value}"
                out.options.append(f"--data-urlencode {_quote(pair)}")
            else:  # --data-urlencode '=value' would send the value without its '='
                out.options.append(f"--data-raw {_quote('=' + quote_plus(value))}")


def _part_file_name(filename: str) -> str:
    if re.search(r'[;,"\\\s]', filename):
        return '"' + re.sub(r'(["\\])', r"\\\1", filename) + '"'
    return filename


def _multipart_options(spec: RequestSpec, out: _CurlOut) -> None:
    out.skip_headers.add("content-type")  # the client writes its own, with the boundary
    for name, values in spec.form.items():
        for value in values if isinstance(values, list) else [values]:
            out.options.append(f"--form-string {_quote(f'{name}={value}')}")
    for name, (filename, _, ctype) in spec.files.items():
        out.options.append(f"-F {_quote(f'{name}=@{_part_file_name(filename)};type={ctype}')}")


def _content_options(spec: RequestSpec, out: _CurlOut, content: bytes) -> None:
    if _header_value(spec.headers, "Content-Type") is None:
        out.options.append("-H 'Content-Type:'")  # curl would otherwise add a form Content-Type
    text = _text_or_none(content)
    if text is None:
        out.notes.append(f"# save the {len(content)}-byte request body as {_BINARY_NAME}, then:")
        out.options.append(f"--data-binary @{_BINARY_NAME}")
    else:
        out.options.append(f"--data-raw {_quote(text)}")


def _text_or_none(content: bytes) -> str | None:
    """``content`` as text a shell word can carry: UTF-8 without NUL, else ``None``."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def _body_options(spec: RequestSpec, out: _CurlOut) -> bool:
    """Add the body's options, chosen as ``RequestSpec.options`` chooses; whether there is one."""
    if spec.has_json:
        _json_options(spec, out)
    elif spec.files:
        _multipart_options(spec, out)
    elif spec.form:
        _form_options(spec, out)
    elif spec.content is not None:
        _content_options(spec, out, spec.content)
    else:
        return False
    return True


def _method_options(method: str, has_body: bool) -> list[str]:
    if method == ("POST" if has_body else "GET"):
        return []
    if method == "HEAD" and not has_body:
        return ["--head"]
    return [f"-X {_quote(method)}"]


def _masked_body(spec: RequestSpec, secret_keys: frozenset[str]) -> RequestSpec:
    """``spec`` with the values of its body's secret fields (``password``, ``token``...) as ``***``."""
    from ._display import _mask_body_text

    changes: dict[str, Any] = {}
    if spec.has_json:
        changes["json"] = mask_json(spec.json, secret_keys)
    if spec.form:
        changes["form"] = {name: MASK if name.lower() in secret_keys else value for name, value in spec.form.items()}
    if spec.content is not None:
        text = _text_or_none(spec.content)
        if text is not None:
            masked = _mask_body_text(text, _media_type(_header_value(spec.headers, "Content-Type")), secret_keys)
            changes["content"] = masked.encode()
    return dataclasses.replace(spec, **changes) if changes else spec


def to_curl(spec: RequestSpec, *, masked: frozenset[str] | None = None, mask_secrets: bool = True) -> str:
    """The curl command that sends ``spec``, one option per line when it is long.

    With ``mask_secrets`` (the default: the command lands in a shared notebook) the values of
    Authorization, Cookie and the other secret headers, of secret query parameters
    (``token``, ``key``, ``password``...) and a URL's password are ``***``; ``masked`` adds
    header or parameter names to mask. Query parameters are merged into the URL; a binary
    body is referenced as ``@body.bin`` with a note to save it there.
    """
    extra = frozenset(name.lower() for name in masked or ())
    secret_keys = SECRET_QUERY_KEYS | extra if mask_secrets else None
    out = _CurlOut()
    has_body = _body_options(spec if secret_keys is None else _masked_body(spec, secret_keys), out)
    body = out.options
    header_options = []
    for name, value in spec.headers:
        if name.lower() in out.skip_headers:
            continue
        shown = mask_header_value(name, value, extra, extra) if mask_secrets else value
        header_options.append(f"-H {_quote(f'{name}: {shown}' if shown else f'{name};')}")
    url = _quote(_curl_url(spec, secret_keys))
    parts = [f"curl {url}", *_method_options(spec.method, has_body), *header_options, *body]
    one_line = " ".join(parts)
    command = one_line if len(one_line) <= _MAX_ONE_LINE else " \\\n  ".join(parts)
    return "\n".join([*out.notes, command])
