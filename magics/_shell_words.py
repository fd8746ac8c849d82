"""Shell words: a curl command line split as a POSIX shell would split it, with the line each
word starts on. Single and double quotes, ``$'...'`` ANSI-C strings as Chrome and Firefox write
them, backslash line continuations and ``#`` comments are read; nothing is expanded (``$HOME``
stays as it is written). Windows ``^`` escapes and PowerShell quoting are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._errors import CellSyntaxError

__all__ = ["Word", "shell_words"]


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
