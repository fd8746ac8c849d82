"""The options of ``%kclient`` and ``%%kclient`` lines, picked out of the words of the line.

Options may stand anywhere on the line; what is left is the request (HTTPie items) or a
subcommand's arguments. ``<< var`` names the variable that receives the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._errors import KClientMagicError

__all__ = ["MagicOptions", "split_options"]

USAGE = (
    "options: -v/--verbose, --timeout SECONDS, --engine NAME, --no-follow, -e/--extract PATH, --check, "
    "--curl (print the curl command instead of sending; with --send, both), --show-secrets (in --curl), "
    "-f/--form (HTTPie items as a form), --html (render HTML bodies), "
    "--stream (Server-Sent Events shown live), --env NAME (the .http environment), "
    "--name REQUEST (run one named request of a .http file), << VARIABLE"
)


@dataclass
class MagicOptions:
    """What the options of one line asked for."""

    verbose: bool = False
    timeout: float | None = None
    engine: str | None = None
    follow: bool = True
    extract: str | None = None
    check: bool = False
    curl: bool = False
    send: bool = False
    show_secrets: bool = False
    form: bool = False
    html: bool = False
    stream: bool = False
    env: str | None = None
    name: str | None = None
    capture: str | None = None
    words: list[str] = field(default_factory=list)

    @property
    def sends(self) -> bool:
        """False when ``--curl`` alone asks only for the command."""
        return not self.curl or self.send


_FLAGS = {
    "-v": "verbose",
    "--verbose": "verbose",
    "--no-follow": "follow",
    "--check": "check",
    "--curl": "curl",
    "--send": "send",
    "--show-secrets": "show_secrets",
    "-f": "form",
    "--form": "form",
    "--html": "html",
    "--stream": "stream",
}
_VALUED = {
    "--timeout": "timeout",
    "--engine": "engine",
    "-e": "extract",
    "--extract": "extract",
    "--env": "env",
    "--name": "name",
}


def split_options(words: list[str]) -> MagicOptions:
    """Pick the options out of ``words``; the other words, in order, go to ``options.words``."""
    options = MagicOptions()
    index = 0
    while index < len(words):
        word = word_name = words[index]
        value: str | None = None
        if word.startswith("--") and "=" in word:
            word_name, _, value = word.partition("=")
        if word == "<<":
            options.capture = _value(words, index, "<<", "a variable name")
            if not options.capture.isidentifier():
                raise KClientMagicError(f"<< takes a Python variable name, not {options.capture!r}.")
            index += 2
            continue
        if word_name in _FLAGS and value is None:
            setattr(options, _FLAGS[word_name], word_name != "--no-follow")
        elif word_name in _VALUED:
            if value is None:
                value = _value(words, index, word_name, "a value")
                index += 1
            _set_valued(options, _VALUED[word_name], word_name, value)
        elif (
            word.startswith("-")
            and len(word) > 1
            and not word[1:2].isdigit()
            and not any(separator in word for separator in ":=@")  # an HTTPie item such as -sort==name
        ):
            raise KClientMagicError(f"Unknown option {word!r}; {USAGE}.")
        else:
            options.words.append(word)
        index += 1
    return options


def _value(words: list[str], index: int, name: str, what: str) -> str:
    if index + 1 >= len(words):
        raise KClientMagicError(f"{name} needs {what}; {USAGE}.")
    return words[index + 1]


def _set_valued(options: MagicOptions, attribute: str, name: str, value: str) -> None:
    if attribute == "timeout":
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not seconds > 0:
            raise KClientMagicError(f"{name} takes a positive number of seconds, not {value!r}.")
        options.timeout = seconds
    else:
        if not value:
            raise KClientMagicError(f"{name} needs a value; {USAGE}.")
        setattr(options, attribute, value)
