"""What ``%kclient record`` and ``%kclient replay`` read from their line and say about the cassette.

The magics install the Record plugin (``kclient.plugins.record``) on a new kernel client; these
are the two pieces of text around it: the words of the line, and the state shown back.
"""

from __future__ import annotations

from typing import Any

from kclient import HttpClient

from ._errors import KClientMagicError

__all__ = ["cassette_words", "recording_state"]


def cassette_words(command: str, words: list[str]) -> tuple[str, dict[str, Any]]:
    """``FILE [--mode M] [--match method,path]`` of ``%kclient record`` / ``replay``."""
    usage = f"%kclient {command} FILE.yaml" + (" [--mode once|new_episodes|none|all]" if command == "record" else "")
    usage += " [--match method,url,body,...]"
    rest = list(words)
    options: dict[str, Any] = {}
    path = None
    while rest:
        word = rest.pop(0)
        if word in ("--mode", "--match"):
            if not rest:
                raise KClientMagicError(f"{word} needs a value: {usage}.")
            value = rest.pop(0)
            options[word[2:] if word == "--mode" else "match_on"] = (
                tuple(value.split(",")) if word == "--match" else value
            )
        elif word.startswith("-"):
            raise KClientMagicError(f"Unknown option {word!r}: {usage}.")
        elif path is None:
            path = word
        else:
            raise KClientMagicError(f"One cassette file, not {path!r} and {word!r}: {usage}.")
    if path is None:
        raise KClientMagicError(f"Name the cassette: {usage}.")
    return path, options


def recording_state(client: HttpClient | None) -> str:
    """What ``client`` (the kernel client while recording, else None) records or replays."""
    from kclient.plugins.record import Record

    record = client.plugin(Record) if client is not None else None
    if record is None:
        return "Nothing is recorded or replayed: %kclient record FILE records, %kclient replay FILE replays."
    what = "Replaying" if not record.recording else "Recording into" if not record.replaying else "Recording"
    held = len(record.cassette.interactions)
    return (
        f"{what} {record.config.cassette} (mode {record.config.mode}): {held} interaction(s) held, "
        f"{record.replayed} replayed, {record.recorded} recorded. %kclient record off stops."
    )
