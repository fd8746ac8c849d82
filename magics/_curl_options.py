"""The curl options: which ones a command may use (``_SHORT`` letters, ``IGNORED_OPTIONS`` that
change nothing in the request, ``_UNSUPPORTED`` ones refused with a reason), the command being
read (``_CurlCommand``), and what each option does to it (the handlers registered with
``_option``). ``_curl_parse`` walks a command's words and applies these handlers.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import quote, unquote_plus

from kclient._syntax import has_line_break

from ._curl_media import JSON_TYPE
from ._errors import CellSyntaxError
from ._items import ReadFile, add_form_field, guess_content_type, is_header_name
from ._shell_words import Word

__all__ = ["IGNORED_OPTIONS"]

_SHORT = {
    "X": "--request",
    "H": "--header",
    "d": "--data",
    "F": "--form",
    "u": "--user",
    "A": "--user-agent",
    "e": "--referer",
    "b": "--cookie",
    "G": "--get",
    "I": "--head",
    "T": "--upload-file",
    "r": "--range",
    "L": "--location",
    "k": "--insecure",
    "s": "--silent",
    "S": "--show-error",
    "v": "--verbose",
    "i": "--include",
    "f": "--fail",
    "g": "--globoff",
    "N": "--no-buffer",
    "#": "--progress-bar",
    "4": "--ipv4",
    "6": "--ipv6",
    "0": "--http1.0",
    "O": "--remote-name",
    "J": "--remote-header-name",
    "R": "--remote-time",
    "q": "--disable",
    "j": "--junk-session-cookies",
    "m": "--max-time",
    "o": "--output",
    "w": "--write-out",
    "c": "--cookie-jar",
    "D": "--dump-header",
    "E": "--cert",
    "Y": "--speed-limit",
    "y": "--speed-time",
    "x": "--proxy",
    "U": "--proxy-user",
    "K": "--config",
    "Z": "--parallel",
    "C": "--continue-at",
    "z": "--time-cond",
    "n": "--netrc",
    ":": "--next",
}

#: Options that change nothing in the request itself (output, TLS checks, redirects, timing,
#: protocol version, progress...): accepted and ignored. ``--no-X`` is accepted for each flag.
IGNORED_FLAGS = frozenset(
    {
        "--compressed", "--location", "--location-trusted", "--insecure", "--silent", "--show-error",
        "--verbose", "--include", "--show-headers", "--fail", "--fail-with-body", "--fail-early", "--globoff",
        "--no-buffer", "--progress-bar", "--no-progress-meter", "--ipv4", "--ipv6", "--http1.0", "--http1.1",
        "--http2", "--http2-prior-knowledge", "--http3", "--http3-only", "--remote-name", "--remote-name-all",
        "--remote-header-name", "--remote-time", "--create-dirs", "--disable", "--junk-session-cookies",
        "--raw", "--tr-encoding", "--path-as-is", "--styled-output", "--keepalive", "--tcp-nodelay",
        "--tcp-fastopen", "--ssl", "--ssl-reqd", "--ssl-no-revoke", "--ssl-allow-beast", "--ssl-revoke-best-effort",
        "--tlsv1", "--tlsv1.0", "--tlsv1.1", "--tlsv1.2", "--tlsv1.3", "--sslv2", "--sslv3", "--basic",
        "--sessionid", "--alpn", "--npn", "--epsv", "--eprt", "--disable-epsv", "--disable-eprt", "--xattr",
        "--suppress-connect-headers", "--buffer", "--progress-meter", "--cert-status", "--false-start",
        "--proxy-insecure", "--doh-insecure", "--no-clobber", "--remove-on-error", "--retry-connrefused",
    }
)  # fmt: skip
IGNORED_WITH_VALUE = frozenset(
    {
        "--max-time", "--connect-timeout", "--output", "--write-out", "--retry", "--retry-delay",
        "--retry-max-time", "--max-redirs", "--limit-rate", "--cacert", "--capath",
        "--cert", "--cert-type", "--key", "--key-type", "--pass", "--resolve", "--connect-to", "--interface",
        "--cookie-jar", "--dump-header", "--trace", "--trace-ascii", "--trace-config", "--stderr",
        "--expect100-timeout", "--keepalive-time", "--speed-limit", "--speed-time", "--dns-servers",
        "--ciphers", "--tls13-ciphers", "--tls-max", "--proto", "--proto-redir", "--proto-default",
        "--max-filesize", "--happy-eyeballs-timeout-ms", "--crlfile", "--pinnedpubkey", "--curves",
        "--output-dir", "--etag-save", "--rate", "--ech", "--ip-tos", "--vlan-priority",
    }
)  # fmt: skip
#: Every ignored option, with or without a value (for the documentation and the report).
IGNORED_OPTIONS = IGNORED_FLAGS | IGNORED_WITH_VALUE

_UNSUPPORTED = {
    "--proxy": "set a proxy on the client instead",
    "--proxy-user": "set a proxy on the client instead",
    "--socks5": "set a proxy on the client instead",
    "--socks5-hostname": "set a proxy on the client instead",
    "--preproxy": "set a proxy on the client instead",
    "--digest": "only Basic authentication (-u) is read",
    "--ntlm": "only Basic authentication (-u) is read",
    "--negotiate": "only Basic authentication (-u) is read",
    "--anyauth": "only Basic authentication (-u) is read",
    "--aws-sigv4": "only Basic authentication (-u) is read",
    "--netrc": "credentials from .netrc are not read: use -u user:password",
    "--netrc-file": "credentials from .netrc are not read: use -u user:password",
    "--netrc-optional": "credentials from .netrc are not read: use -u user:password",
    "--config": "config files are not read: put the options on the command",
    "--next": "one request per command",
    "--parallel": "one request per command",
    "--unix-socket": "unix sockets are not supported",
    "--abstract-unix-socket": "unix sockets are not supported",
    "--continue-at": "resuming transfers is not supported: send a Range header",
    "--time-cond": "send an If-Modified-Since header instead",
    "--variable": "curl variables are not expanded",
    "--expand-data": "curl variables are not expanded",
    "--expand-url": "curl variables are not expanded",
    "--expand-header": "curl variables are not expanded",
    "--request-target": "a custom request target is not supported",
}

_VALUE_HANDLERS: dict[str, Callable[[_CurlCommand, str, Word], None]] = {}
_FLAG_HANDLERS: dict[str, Callable[[_CurlCommand], None]] = {}


def _takes_value(option: str) -> bool:
    return option in _VALUE_HANDLERS or option in IGNORED_WITH_VALUE


# --- the command being read -------------------------------------------------------------------


@dataclass
class _Header:
    name: str
    value: str
    internal: bool  # set by curl itself (-u, -A, --json...): a -H with the same name wins


@dataclass
class _Data:
    """One piece of request data, with the ``name=value`` it is when it came from --data-urlencode."""

    content: bytes
    is_json: bool = False
    pair: tuple[str, str] | None = None


@dataclass
class _CurlCommand:
    read_file: ReadFile
    first_line: int
    method: str | None = None
    urls: list[str] = field(default_factory=list)
    headers: list[_Header] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)
    data: list[_Data] = field(default_factory=list)
    form: dict[str, str | list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    upload: bytes | None = None
    upload_name: str = ""
    get: bool = False
    head: bool = False
    json: bool = False

    def error(self, message: str, word: Word | None = None) -> CellSyntaxError:
        """An error on the line of ``word`` (the command's first line without one; 0 for a line magic)."""
        line = self.first_line + word.line - 1 if self.first_line and word else self.first_line
        return CellSyntaxError(message, line)

    def read(self, option: str, path: str, word: Word) -> bytes:
        if path == "-":
            raise self.error(f"{option} @-: reading from standard input is not supported", word)
        try:
            return self.read_file(path)
        except OSError as exc:
            raise self.error(f"{option}: cannot read the file {path!r} ({exc.strerror or exc})", word) from exc

    def add_internal(self, name: str, value: str) -> None:
        self.headers.append(_Header(name, value, internal=True))


_Handler = TypeVar("_Handler", bound=Callable[..., None])


def _option(*names: str, value: bool = True) -> Callable[[_Handler], _Handler]:
    """Register a handler for the curl options ``names`` (``value``: whether they take one)."""

    def register(handler: _Handler) -> _Handler:
        for name in names:
            (_VALUE_HANDLERS if value else _FLAG_HANDLERS)[name] = handler
        return handler

    return register


@_option("--request")
def _request(cmd: _CurlCommand, value: str, word: Word) -> None:
    cmd.method = value


@_option("--url")
def _url_option(cmd: _CurlCommand, value: str, word: Word) -> None:
    cmd.urls.append(value)


@_option("--get", value=False)
def _get(cmd: _CurlCommand) -> None:
    cmd.get = True


@_option("--head", value=False)
def _head(cmd: _CurlCommand) -> None:
    cmd.head = True


@_option("--header")
def _header(cmd: _CurlCommand, value: str, word: Word) -> None:
    if value.startswith("@"):
        raise cmd.error("-H @file: reading headers from a file is not supported", word)
    name, colon, rest = value.partition(":")
    if not colon:
        if not value.endswith(";"):
            shown = value.split(" ", 1)[0] + (" ***" if " " in value.strip() else "")  # never the value itself
            raise cmd.error(f"-H {shown!r}: a header is written 'Name: value' (or 'Name;' for an empty one)", word)
        name, rest = value[:-1], ""
    name = name.strip()
    if not is_header_name(name):
        raise cmd.error(f"-H {value!r}: {name!r} is not a header name", word)
    if has_line_break(rest):
        raise cmd.error(f"-H {name}: a header value cannot contain a line break or NUL", word)
    rest = rest.strip(" \t")
    if colon and not rest:  # "Name:" removes a header curl would add
        cmd.removed.add(name.lower())
        return
    cmd.headers.append(_Header(name, rest, internal=False))


@_option("--user-agent")
def _user_agent(cmd: _CurlCommand, value: str, word: Word) -> None:
    if value:
        cmd.add_internal("User-Agent", value)
    else:
        cmd.removed.add("user-agent")


@_option("--referer")
def _referer(cmd: _CurlCommand, value: str, word: Word) -> None:
    referer = value.removesuffix(";auto")
    if referer:
        cmd.add_internal("Referer", referer)


@_option("--cookie")
def _cookie(cmd: _CurlCommand, value: str, word: Word) -> None:
    if "=" not in value:
        raise cmd.error(f"-b {value!r}: cookies from a file are not read; write them as -b 'name=value; ...'", word)
    previous = next((h for h in cmd.headers if h.internal and h.name == "Cookie"), None)
    if previous:
        previous.value = f"{previous.value}; {value}"
    else:
        cmd.add_internal("Cookie", value)


@_option("--user")
def _user(cmd: _CurlCommand, value: str, word: Word) -> None:
    if ":" not in value:
        raise cmd.error("-u needs user:password (curl would ask for the password)", word)
    token = base64.b64encode(value.encode()).decode("ascii")
    cmd.add_internal("Authorization", f"Basic {token}")


@_option("--oauth2-bearer")
def _bearer(cmd: _CurlCommand, value: str, word: Word) -> None:
    cmd.add_internal("Authorization", f"Bearer {value}")


@_option("--range")
def _range(cmd: _CurlCommand, value: str, word: Word) -> None:
    cmd.add_internal("Range", f"bytes={value}")


@_option("--data", "--data-ascii")
def _data(cmd: _CurlCommand, value: str, word: Word) -> None:
    if value.startswith("@"):  # as curl does, a file given to --data loses its line breaks
        content = cmd.read("--data", value[1:], word).replace(b"\r", b"").replace(b"\n", b"")
    else:
        content = value.encode()
    cmd.data.append(_Data(content))


@_option("--data-binary")
def _data_binary(cmd: _CurlCommand, value: str, word: Word) -> None:
    content = cmd.read("--data-binary", value[1:], word) if value.startswith("@") else value.encode()
    cmd.data.append(_Data(content))


@_option("--data-raw")
def _data_raw(cmd: _CurlCommand, value: str, word: Word) -> None:
    cmd.data.append(_Data(value.encode()))


@_option("--json")
def _json(cmd: _CurlCommand, value: str, word: Word) -> None:
    content = cmd.read("--json", value[1:], word) if value.startswith("@") else value.encode()
    cmd.data.append(_Data(content, is_json=True))
    if not cmd.json:
        cmd.json = True
        cmd.add_internal("Content-Type", JSON_TYPE)
        cmd.add_internal("Accept", JSON_TYPE)


@_option("--data-urlencode")
def _data_urlencode(cmd: _CurlCommand, value: str, word: Word) -> None:
    """curl's forms: ``content``, ``=content``, ``name=content``, ``@file``, ``name@file``."""
    equals, at = value.find("="), value.find("@")
    sep = equals if equals >= 0 else at
    name = value[:sep] if sep > 0 else ""
    raw = value[sep + 1 :] if sep >= 0 else value
    content = cmd.read("--data-urlencode", raw, word) if sep >= 0 and value[sep] == "@" else raw.encode()
    encoded = quote(content, safe="")
    if not name:
        cmd.data.append(_Data(encoded.encode()))
        return
    try:
        pair: tuple[str, str] | None = (unquote_plus(name), content.decode("utf-8"))
    except UnicodeDecodeError:
        pair = None
    cmd.data.append(_Data(f"{name}={encoded}".encode(), pair=pair))


@_option("--form", "--form-string")
def _form(cmd: _CurlCommand, value: str, word: Word) -> None:
    option = "--form-string" if word.text == "--form-string" else "-F"
    name, equals, content = value.partition("=")
    if not equals or not name:
        raise cmd.error(f"{option} {value!r}: a form part is name=value or name=@file", word)
    if option == "-F" and content.startswith("@"):
        _form_file(cmd, name, content[1:], word)
        return
    if option == "-F" and content.startswith("<"):
        try:
            text = cmd.read("-F", content[1:], word).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise cmd.error(f"-F {value!r}: the file is not UTF-8 text (send it as name=@file)", word) from exc
    else:
        text = _strip_part_type(content) if option == "-F" else content
    add_form_field(cmd.form, name, text)


def _strip_part_type(content: str) -> str:
    """A text part's value without curl's ``;type=...`` suffix (the part type is not kept)."""
    return re.sub(r";type=[\w.+-]+/[\w.+-]+\Z", "", content)


def _form_file(cmd: _CurlCommand, name: str, spec: str, word: Word) -> None:
    """``-F name=@path[;type=mime][;filename=name]``; the path may be in double quotes."""
    path, params = _part_params(spec)
    if name in cmd.files:
        raise cmd.error(f"-F {name}=@...: the field {name!r} already has a file: one file per field name", word)
    content = cmd.read("-F", path, word)
    filename = params.get("filename") or path.replace("\\", "/").rsplit("/", 1)[-1]
    cmd.files[name] = (filename, content, params.get("type") or guess_content_type(filename))


def _part_params(spec: str) -> tuple[str, dict[str, str]]:
    """The path and ``;key=value`` parameters of a ``-F`` file part; values may be ``"quoted"``."""
    fields = [m.group(1) for m in re.finditer(r'((?:"(?:\\.|[^"\\])*"|[^;])*)(?:;|\Z)', spec) if m.group(0)]
    unquoted = [_unquote_part(f) for f in fields] or [""]
    params: dict[str, str] = {}
    for param in fields[1:]:
        key, _, val = param.partition("=")
        params[key.strip().lower()] = _unquote_part(val.strip())
    return unquoted[0], params


def _unquote_part(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


@_option("--upload-file")
def _upload_file(cmd: _CurlCommand, value: str, word: Word) -> None:
    cmd.upload = cmd.read("-T", value, word)
    cmd.upload_name = value.replace("\\", "/").rsplit("/", 1)[-1]
