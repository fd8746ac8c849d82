"""Reproducible notebooks in the kernel: ``%kclient record`` / ``replay`` (the Record plugin) and
``%kclient cache`` (HttpCache) on the kernel client.

``KernelPlugins`` keeps what is on, installs it in the kernel client's configure block, and
restarts the client when it changes; the functions read the lines and say the state back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kclient import HttpClient, HttpClientConfig

from ._errors import KClientMagicError

__all__ = ["KernelPlugins", "cache_state", "cache_words", "cassette_words", "recording_state"]

CACHE_USAGE = "%kclient cache memory|FOLDER [--max-size BYTES], %kclient cache clear, %kclient cache off"


class KernelPlugins:
    """The Record and HttpCache plugins of the kernel client, as the magics turned them on.

    ``restart`` makes a new kernel client (its configure block calls ``configure``) and returns it.
    """

    def __init__(self, restart: Callable[[], HttpClient], current: Callable[[], HttpClient | None]) -> None:
        self._restart = restart
        self._current = current
        #: The Record plugin's options while ``%kclient record`` / ``replay`` is on.
        self.recording: dict[str, Any] | None = None
        #: HttpCache's options while ``%kclient cache`` is on.
        self.caching: dict[str, Any] | None = None

    def configure(self, c: HttpClientConfig) -> None:
        if self.caching is not None:
            from kclient.plugins.cache import HttpCache

            c.install(HttpCache, **self.caching)
        if self.recording is not None:
            from kclient.plugins.record import Record

            c.install(Record, **self.recording)

    def record(self, words: list[str]) -> str:
        """``%kclient record FILE [--mode M] [--match PARTS]``: the kernel client records into (and
        replays from) a cassette; ``%kclient record off`` stops; ``%kclient record`` tells."""
        if not words:
            return self._recording_state()
        if words == ["off"]:
            if self.recording is None:
                raise KClientMagicError("Nothing is recorded or replayed: %kclient record FILE starts.")
            self.recording = None
            self._restart()
            return "Recording off: the kernel client sends to the network again."
        path, options = cassette_words("record", words)
        return self._start_recording(path, options.pop("mode", "once"), options)

    def replay(self, words: list[str]) -> str:
        """``%kclient replay FILE [--match PARTS]``: answers from the cassette only (mode none)."""
        path, options = cassette_words("replay", words)
        if "mode" in options:
            raise KClientMagicError("%kclient replay takes no --mode: it replays only (%kclient record has modes).")
        return self._start_recording(path, "none", options)

    def _start_recording(self, path: str, mode: str, options: dict[str, Any]) -> str:
        self.recording = {"cassette": Path(path), "mode": mode, **options}
        try:
            self._restart()
        except KClientMagicError:
            self.recording = None
            raise
        return self._recording_state()

    def _recording_state(self) -> str:
        return recording_state(self._current() if self.recording is not None else None)

    def cache(self, words: list[str]) -> str:
        """``%kclient cache memory|FOLDER [--max-size BYTES]`` turns the HTTP cache on (a new
        kernel client), ``clear`` forgets what it holds, ``off`` turns it off; alone, it tells."""
        from kclient.plugins.cache import HttpCache

        client = self._current()
        cache = client.plugin(HttpCache) if client is not None and self.caching is not None else None
        if not words:
            return cache_state(cache)
        if words in (["off"], ["clear"]):
            if cache is None:
                raise KClientMagicError(f"The HTTP cache is off: {CACHE_USAGE}.")
            if words == ["clear"]:
                cache.clear()
                return f"The HTTP cache is empty now. {cache_state(cache)}"
            self.caching = None
            self._restart()
            return "The HTTP cache is off: every request goes to the network."
        previous, self.caching = self.caching, cache_words(words)
        try:
            client = self._restart()
        except KClientMagicError:
            self.caching = previous
            raise
        return cache_state(client.plugin(HttpCache))


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


def cache_words(words: list[str]) -> dict[str, Any]:
    """HttpCache's options from ``memory|FOLDER [--max-size BYTES]``."""
    rest = list(words)
    options: dict[str, Any] = {}
    where = None
    while rest:
        word = rest.pop(0)
        if word == "--max-size":
            value = rest.pop(0) if rest else ""
            if not value.isdigit() or int(value) < 1:
                raise KClientMagicError(f"--max-size takes a number of bytes, not {value!r}: {CACHE_USAGE}.")
            options["max_size"] = int(value)
        elif word.startswith("-"):
            raise KClientMagicError(f"Unknown option {word!r}: {CACHE_USAGE}.")
        elif where is None:
            where = word
        else:
            raise KClientMagicError(f"One place for the cache, not {where!r} and {word!r}: {CACHE_USAGE}.")
    if where is None:
        raise KClientMagicError(f"Say where the cache lives: {CACHE_USAGE}.")
    if where != "memory":
        options["folder"] = Path(where)
    return options


def cache_state(cache: Any) -> str:
    """What the kernel client's HttpCache (or None: off) holds and did."""
    if cache is None:
        return f"The HTTP cache is off: {CACHE_USAGE}."
    where = "in memory" if cache.config.folder is None else f"in {cache.config.folder}"
    return (
        f"HTTP cache {where}, at most {cache.config.max_size:,} bytes: {len(cache.store)} URL(s) held; "
        f"{cache.hits} hit(s), {cache.revalidated} revalidated, {cache.misses} miss(es), {cache.stored} stored. "
        "A request's Cache-Control: no-cache validates, %kclient cache off stops."
    )
