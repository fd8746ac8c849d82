"""curl commands in and out: ``parse_curl`` imports one (as browsers' "Copy as cURL" gives
it) into a ``RequestSpec``; ``to_curl`` prints a spec as the equivalent curl command.

Import reads the command as a POSIX shell would split it (single and double quotes, ``$'...'``
ANSI-C strings as Chrome and Firefox write them, backslash line continuations, ``#``
comments), without expanding anything: ``$HOME`` stays as it is written. Windows "Copy as
cURL (cmd)" (``^`` escapes) and PowerShell commands are not read.

Bodies, so that ``parse_curl(to_curl(spec))`` gives back an equivalent spec:

- a JSON Content-Type (``--json``, ``application/json``, ``*/*+json``) with valid JSON data
  gives ``json``; a plain ``Content-Type: application/json`` header is then left out (the
  client sets it for a JSON body), any other one is kept;
- data given only as ``--data-urlencode name=value`` options gives ``form`` (what ``to_curl``
  prints for forms);
- any other data is ``content``: the exact bytes curl would send, with curl's default
  ``Content-Type: application/x-www-form-urlencoded`` as a header unless one is given
  (``-H 'Content-Type:'`` removes it, as in curl);
- ``-F``/``--form-string`` give ``files`` and ``form`` (a multipart body).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

from kclient._redact import MASK, SECRET_QUERY_KEYS, mask_credentials, mask_form, mask_header_value, mask_json
from kclient._syntax import has_control, has_line_break

from ._errors import CellSyntaxError
from ._items import ReadFile, add_form_field, guess_content_type, is_header_name, read_disk
from ._spec import NO_JSON, RequestSpec

__all__ = ["IGNORED_OPTIONS", "Word", "is_json_type", "parse_curl", "shell_words", "to_curl"]

FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"

# --- shell words ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """A shell word and the 1-based line of the command where it starts."""

    text: str
    line: int


_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_ANSI_NUMERIC = {
    "x": (re.compile(r"[0-9A-Fa-f]{1,2}"), 16),
    "u": (re.compile(r"[0-9A-Fa-f]{1,4}"), 16),
    "U": (re.compile(r"[0-9A-Fa-f]{1,8}"), 16),
}
_OCTAL = re.compile(r"[0-7]{1,3}")


class _ShellReader:
    """Splits a command into words as a POSIX shell does, expanding nothing."""

    def __init__(self, command: str, first_line: int) -> None:
        self.text = command
        self.pos = 0
        self.line = 1
        self.first_line = first_line
        self.words: list[Word] = []
        self.current: list[str] | None = None
        self.word_line = 1

    def error(self, message: str, line: int) -> CellSyntaxError:
        return CellSyntaxError(message, self.first_line + line - 1 if self.first_line else 0)

    def read(self) -> list[Word]:
        while self.pos < len(self.text):
            self.step(self.text[self.pos])
        self.end_word()
        return self.words

    def start_word(self) -> list[str]:
        if self.current is None:
            self.current = []
            self.word_line = self.line
        return self.current

    def end_word(self) -> None:
        if self.current is not None:
            self.words.append(Word("".join(self.current), self.word_line))
            self.current = None

    def step(self, char: str) -> None:
        text, pos = self.text, self.pos
        if char == "\\":
            self.backslash()
        elif char in " \t\r\n":
            self.end_word()
            self.line += char == "\n"
            self.pos += 1
        elif char == "#" and self.current is None:
            end = text.find("\n", pos)
            self.pos = len(text) if end < 0 else end
        elif char == "'":
            self.start_word().append(self.until_quote(pos + 1, "'"))
        elif char == '"' or text.startswith('$"', pos):
            self.start_word().append(self.double_quoted(pos + 1 + (char == "$")))
        elif text.startswith("$'", pos):
            self.start_word().append(self.ansi_c(pos + 2))
        else:
            self.start_word().append(char)
            self.pos += 1

    def backslash(self) -> None:
        """``\\`` + newline joins lines; ``\\x`` is ``x`` outside quotes."""
        rest = self.text[self.pos + 1 : self.pos + 3]
        if rest.startswith("\n") or rest == "\r\n":
            self.pos += 1 + (2 if rest == "\r\n" else 1)
            self.line += 1
            return
        self.start_word().append(rest[:1] or "\\")
        self.pos += 2

    def until_quote(self, start: int, quote_char: str) -> str:
        end = self.text.find(quote_char, start)
        if end < 0:
            raise self.error(f"a {quote_char} quote is not closed", self.line)
        self.line += self.text.count("\n", start, end)
        self.pos = end + 1
        return self.text[start:end]

    def double_quoted(self, start: int) -> str:
        """A ``"..."`` string: a backslash escapes only ``$ ` " \\`` and a newline."""
        out: list[str] = []
        pos, opened = start, self.line
        while pos < len(self.text) and self.text[pos] != '"':
            char = self.text[pos]
            following = self.text[pos + 1 : pos + 2]
            if char == "\\" and following in ("$", "`", '"', "\\", "\n"):
                out.append("" if following == "\n" else following)
                pos += 2
            else:
                out.append(char)
                pos += 1
            self.line += (char if char != "\\" else following) == "\n"
        if pos >= len(self.text):
            raise self.error('a " quote is not closed', opened)
        self.pos = pos + 1
        return "".join(out)

    def ansi_c(self, start: int) -> str:
        """A ``$'...'`` string with C escapes: ``\\n``, ``\\'``, ``\\xHH``, ``\\uHHHH``...

        Bytes written as ``\\xHH`` or octal are UTF-8 when they decode as such, else Latin-1
        (Firefox writes ``é`` as ``\\xe9``); ``\\u`` surrogate pairs (Chrome) make one character.
        """
        pieces: list[str] = []
        raw = bytearray()
        pos, opened = start, self.line
        while pos < len(self.text) and self.text[pos] != "'":
            char = self.text[pos]
            if char != "\\":
                pieces.append(_bytes_text(raw) + char)
                self.line += char == "\n"
                pos += 1
                continue
            pos = self.ansi_escape(pos + 1, pieces, raw)
        if pos >= len(self.text):
            raise self.error("a $' quote is not closed", opened)
        pieces.append(_bytes_text(raw))
        self.pos = pos + 1
        try:
            return "".join(pieces).encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        except UnicodeError as exc:
            raise self.error("a $'...' string has a \\u escape that is half a character", opened) from exc

    def ansi_escape(self, pos: int, pieces: list[str], raw: bytearray) -> int:
        """Read the escape after a backslash at ``pos``; return where the string goes on."""
        kind = self.text[pos : pos + 1]
        if kind in _ANSI_SIMPLE:
            pieces.append(_bytes_text(raw) + _ANSI_SIMPLE[kind])
            return pos + 1
        if kind == "c" and pos + 1 < len(self.text):
            pieces.append(_bytes_text(raw) + chr(ord(self.text[pos + 1]) & 0x1F))
            return pos + 2
        octal = _OCTAL.match(self.text, pos)
        if octal:
            raw.append(int(octal.group(), 8) & 0xFF)
            return octal.end()
        if kind in _ANSI_NUMERIC:
            pattern, base = _ANSI_NUMERIC[kind]
            digits = pattern.match(self.text, pos + 1)
            if digits:
                if kind == "x":
                    raw.append(int(digits.group(), base))
                else:
                    pieces.append(_bytes_text(raw) + chr(int(digits.group(), base)))
                return digits.end()
        pieces.append(_bytes_text(raw) + "\\" + kind)
        return pos + len(kind)


def _bytes_text(raw: bytearray) -> str:
    """Flush the bytes of ``\\xHH`` escapes: UTF-8 if they are, else one character per byte."""
    if not raw:
        return ""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    raw.clear()
    return text


def shell_words(command: str, first_line: int = 0) -> list[Word]:
    """``command`` split into words as a POSIX shell would, with the line each word starts on.

    Nothing is expanded (no variables, globs or ``~``). ``first_line`` is the cell line where
    the command starts, for error messages (0: report no line).
    """
    return _ShellReader(command, first_line).read()


# --- curl options -----------------------------------------------------------------------------

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


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def is_json_type(value: str | None) -> bool:
    """Whether a Content-Type value is JSON (``application/json`` or a ``+json`` type)."""
    media = _media_type(value)
    return media == JSON_TYPE or (media.startswith("application/") and media.endswith("+json"))


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


# --- printing a spec as curl ------------------------------------------------------------------

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
