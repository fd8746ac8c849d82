"""Turns what a person typed (method, URL and keyword options) into a validated ``Request``."""

from __future__ import annotations

import json as jsonlib
import secrets
from collections.abc import AsyncIterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from multidict import CIMultiDict
from yarl import URL

from ._errors import InvalidRequestError
from ._limits import DEFAULT_LIMITS, BodyLimits
from ._models import NO_TIMEOUTS, Request, Timeouts
from ._redact import mask_credentials, mask_url, mask_url_text
from ._request_options import PLUGIN_OPTIONS, RequestOptions
from ._syntax import has_control, is_host, is_request_target, is_token

if TYPE_CHECKING:
    from ._request_options import FileSpec

__all__ = ["build_request"]

#: The options the builder reads itself; every other option is a plugin's (``Request.attributes``),
#: checked by the client against the options its installed plugins declare.
CORE_OPTIONS = frozenset(RequestOptions.__annotations__) - frozenset(PLUGIN_OPTIONS)


def build_request(method: str, url: str | URL, options: RequestOptions, base: URL | None = None) -> Request:
    """Validate and assemble a request; raises ``InvalidRequestError`` on bad input.

    ``base`` (DefaultRequest's URL) resolves a relative ``url`` as a browser would (RFC 3986).
    Options that are not the builder's own go to ``request.attributes`` for the plugins.
    """
    method = (isinstance(method, str) and _METHODS.get(method)) or _method(method)
    if not options:  # the most common call, client.get(url): nothing but the URL to check
        return Request(method, _url(url, None, base), CIMultiDict(), b"", NO_TIMEOUTS)
    target = _url(url, options.get("params"), base)
    headers = _headers(options.get("headers"))
    content = _body(options, headers)
    request = Request(method, target, headers, content, _timeouts(options.get("timeout")))
    if "max_body_size" in options:
        request.limits = _limits(options["max_body_size"])
    if not CORE_OPTIONS.issuperset(options):
        request.attributes = _plugin_options(options)
    return request


def _plugin_options(options: RequestOptions) -> dict[str, Any]:
    given: dict[str, Any] = {name: value for name, value in options.items() if name not in CORE_OPTIONS}
    for name in ("follow_redirects", "expect_success"):
        if name in given and not isinstance(given[name], bool):
            raise InvalidRequestError(f"{name}= is True or False, not {given[name]!r}.")
    for name in ("on_upload", "on_download"):
        if name in given and not callable(given[name]):
            raise InvalidRequestError(f"{name}= is a function called with (bytes_so_far, total), not {given[name]!r}.")
    return given


def _method(method: str) -> str:
    if not isinstance(method, str) or not is_token(method):
        raise InvalidRequestError(f"Invalid HTTP method {method!r}: use a word such as GET, POST or PATCH.")
    if len(_METHODS) < 64:
        _METHODS[method] = method.upper()
    return method.upper()


#: Methods seen before, validated and upper-cased (a request's method is looked up, not re-checked).
_METHODS: dict[str, str] = {}
#: Recently parsed URL strings (URLs are immutable, so a parse can be shared): notebooks and
#: loops send to the same few URLs again and again.
_PARSED: dict[str, URL] = {}
_PARSED_MAX = 512
#: Absolute URL strings that passed every check of ``_url`` (with no base and no params): the
#: checks are not repeated when a loop sends to the same URL again.
_CHECKED: dict[str, URL] = {}


def _parse(url: str | URL) -> URL:
    if isinstance(url, URL):
        return url
    parsed = _PARSED.get(url)
    if parsed is None:
        parsed = URL(url)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[url] = parsed
    return parsed


def _url(url: str | URL, params: Any, base: URL | None = None) -> URL:
    remembered = type(url) is str and base is None and not params
    if remembered:
        checked = _CHECKED.get(url)  # type: ignore[arg-type]
        if checked is not None:
            return checked
    try:
        target = _parse(url)
        if base is not None and not target.absolute:
            target = base.join(target)
        host = target.host  # decodes IDNA, which fails on a host such as xn-- (UnicodeError, a ValueError)
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"Invalid URL {mask_url_text(str(url))!r}: {mask_credentials(str(exc))}") from exc
    if target.scheme not in ("http", "https") or not host:
        hint = "." if target.absolute else ", or relative to a base URL set by c.install(DefaultRequest, url=...)."
        raise InvalidRequestError(
            f"URL {mask_url(target)!r} must be absolute with an http or https scheme, "
            f"for example http://127.0.0.1:8000/get{hint}"
        )
    # yarl keeps what it cannot encode (a space or NUL in the host; anything in a URL built with
    # encoded=True): refused here, as it would put a malformed Host header or request line on the wire.
    if not is_host(target.raw_host or ""):
        raise InvalidRequestError(f"Invalid URL {mask_url_text(str(url))!r}: {target.raw_host!r} is not a valid host.")
    if not is_request_target(target.raw_path_qs):
        raise InvalidRequestError(
            f"Invalid URL {mask_url_text(str(url))!r}: its path or query holds spaces or control characters "
            "that are not percent-encoded."
        )
    if remembered:
        if len(_CHECKED) >= _PARSED_MAX:
            _CHECKED.clear()
        _CHECKED[url] = target  # type: ignore[index]
    if params:
        try:
            target = target.extend_query(params)
        except (TypeError, ValueError) as exc:
            # Name the parameters, never their values: they may be tokens.
            raise InvalidRequestError(f"Invalid query parameters ({_param_names(params)}): {exc}") from exc
    return target


def _param_names(params: Any) -> str:
    if isinstance(params, Mapping):
        return ", ".join(map(str, params))
    if isinstance(params, (list, tuple)):
        return ", ".join(str(item[0]) for item in params if isinstance(item, tuple) and item)
    return type(params).__name__


def _headers(given: Any) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    if not given:
        return headers
    items = given.items() if isinstance(given, Mapping) else given
    for name, value in items:
        if not isinstance(name, str) or not is_token(name):
            raise InvalidRequestError(f"Invalid header name {name!r}: letters, digits and -_.!#$%&'*+^`|~ only.")
        if not isinstance(value, str):
            raise InvalidRequestError(f"Header {name} must be a string, not {type(value).__name__}.")
        if has_control(value):
            raise InvalidRequestError(
                f"Header {name} contains a line break, NUL or other control character, which HTTP does not allow "
                "(a line break would split the request)."
            )
        headers.add(name, value)
    return headers


def _body(options: RequestOptions, headers: CIMultiDict[str]) -> bytes | AsyncIterable[bytes]:
    given = [name for name in ("json", "data", "files", "content") if options.get(name) is not None]
    if len(given) > 1 and set(given) != {"data", "files"}:
        raise InvalidRequestError(f"Give one body at most, not {' and '.join(given)} (data may come with files).")
    if "json" in given:
        return _json_body(options["json"], headers)
    if "files" in given:
        return _multipart_body(options.get("data") or {}, options["files"], headers)
    if "data" in given:
        return _form_body(options["data"], headers)
    if "content" in given:
        return _raw_body(options["content"])
    return b""


def _json_body(value: Any, headers: CIMultiDict[str]) -> bytes:
    """``value`` as compact UTF-8 JSON; dataclass instances and pydantic-style models (``model_dump``)
    are converted, at any depth, on a second pass that plain dicts and lists never take."""
    try:
        try:
            encoded = jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        except TypeError:
            from .plugins.content import jsonable

            encoded = jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":"), default=jsonable).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"The json body cannot be encoded as JSON: {exc}") from exc
    headers.setdefault("Content-Type", "application/json")
    return encoded


def _form_body(data: Any, headers: CIMultiDict[str]) -> bytes:
    if not isinstance(data, Mapping):
        raise InvalidRequestError(
            f"data= is a form (a dict of fields), not {type(data).__name__}; send raw bytes or text with content=."
        )
    headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return urlencode(list(_form_pairs(data))).encode()


def _form_pairs(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, bool) or item is None:
                text = {True: "true", False: "false", None: ""}[item]
            elif isinstance(item, (str, int, float)):
                text = str(item)
            else:
                raise InvalidRequestError(f"Form field {key!r} must be text or a number, not {type(item).__name__}.")
            pairs.append((str(key), text))
    return pairs


def _raw_body(content: Any) -> bytes | AsyncIterable[bytes]:
    if isinstance(content, bytes):
        return content
    if isinstance(content, (bytearray, memoryview)):
        return bytes(content)
    if isinstance(content, str):
        return content.encode()
    if isinstance(content, AsyncIterable):
        return content
    raise InvalidRequestError(
        f"content= takes bytes, text or an async iterable of bytes, not {type(content).__name__}."
    )


def _multipart_body(data: Any, files: Any, headers: CIMultiDict[str]) -> bytes:
    if not isinstance(files, Mapping):
        raise InvalidRequestError("files= maps field names to files, for example {'upload': open('a.png', 'rb')}.")
    boundary = secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in _form_pairs(data if isinstance(data, Mapping) else {}):
        parts.append(_part(boundary, name, None, None, value.encode()))
    for name, spec in files.items():
        filename, payload, ctype = _file_spec(str(name), spec)
        parts.append(_part(boundary, str(name), filename, ctype, payload))
    headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def _file_spec(name: str, spec: FileSpec) -> tuple[str | None, bytes, str]:
    if isinstance(spec, tuple):
        if len(spec) not in (2, 3):
            raise InvalidRequestError(f"File {name!r}: use (filename, content) or (filename, content, content_type).")
        filename, content = spec[0], spec[1]
        ctype = spec[2] if len(spec) == 3 else "application/octet-stream"
    else:
        content = spec
        # As httpx does: an open file keeps its name, bare content is called "upload".
        filename = getattr(spec, "name", "upload") if not isinstance(spec, (bytes, str)) else "upload"
        ctype = "application/octet-stream"
    if isinstance(content, str):
        payload = content.encode()
    elif isinstance(content, bytes):
        payload = content
    elif hasattr(content, "read"):
        payload = content.read()
    else:
        raise InvalidRequestError(f"File {name!r} must be bytes, text or an open binary file.")
    if filename is not None:
        filename = str(filename).replace("\\", "/").rsplit("/", 1)[-1]
    return filename, payload, ctype


def _part(boundary: str, name: str, filename: str | None, ctype: str | None, payload: bytes) -> bytes:
    quoted = name.replace('"', "%22")
    disposition = f'form-data; name="{quoted}"'
    if filename is not None:
        disposition += f'; filename="{filename.replace(chr(34), "%22")}"'
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    if ctype is not None:
        head += f"Content-Type: {ctype}\r\n"
    return head.encode() + b"\r\n" + payload + b"\r\n"


def _limits(value: Any) -> BodyLimits:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return BodyLimits(
            max_body_size=value,
            max_decompression_ratio=DEFAULT_LIMITS.max_decompression_ratio,
            decompression_floor=DEFAULT_LIMITS.decompression_floor,
        )
    raise InvalidRequestError(f"max_body_size= is a number of bytes (0 or more) or None for no limit, not {value!r}.")


def _timeouts(value: Any) -> Timeouts:
    if value is None:
        return NO_TIMEOUTS
    if isinstance(value, Timeouts):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return Timeouts(request=float(value))
    raise InvalidRequestError(f"timeout= is a positive number of seconds or a kclient.Timeouts, not {value!r}.")
