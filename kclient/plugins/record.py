"""Record: record the exchanges a client makes into a cassette, and replay them with no network.

::

    def configure(c):
        c.install(Record, cassette="cassettes/api.yaml")            # mode "once"

    async with HttpClient("CIO", configure) as client:
        await client.get("https://api.example.com/items")          # recorded the first time,
                                                                   # replayed every time after

The modes are VCR.py's:

* ``once`` (the default): without the file, record every exchange; with it, replay, and a
  request that was not recorded is an ``UnrecordedRequestError``;
* ``new_episodes``: replay what was recorded, record what was not;
* ``none``: replay only; a request not recorded is an ``UnrecordedRequestError`` that names it
  and the closest recorded one;
* ``all``: record everything anew (the file is rewritten).

A request matches a recording by ``match_on``: method and URL by default (the query in any
order); add ``"body"`` (JSON compared as parsed) or ``"headers:NAME"``. Matching recordings
replay in the order they were recorded; with ``allow_repeats`` (the default) the last one
replays again once they are used up, so a notebook cell runs again as it ran before.

Replay answers without touching the engine's network, on any engine. The plugin sits below
the client's READ stage, so every plugin above it sees replayed answers as it sees real ones:
redirects are followed hop by hop, retries replay each attempt, cookies are set, Auth answers
a recorded 401, and Logging logs them (``from cassette``); ``response.source`` is
``"cassette"``. A recorded stream (Server-Sent Events) replays chunk by chunk, with its timing
when ``replay_timing`` is set. WebSocket sessions are not recorded: their handshake is sent
while recording and refused while replaying, with a message that says so.

Secrets never reach the file: see ``kclient._cassette`` (the format, the scrubbing, VCR.py's
cassettes). ``before_record(interaction)`` may change an interaction or drop it (``None``).
The file is written at most every half second while recording and when the client closes:
whole (atomically) the first time, then by appending what is new.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .._cassette import (
    MATCH_PARTS,
    Cassette,
    Interaction,
    RecordedRequest,
    now,
    recorded_request,
    recorded_response,
    scrub_interaction,
)
from .._client import CASSETTE_VARIABLE  # a whole notebook recorded into, or replayed from, one file
from .._errors import CassetteError, ConfigError, UnrecordedRequestError
from .._models import Request, Response
from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .._redact import secret_values
from .._settings import setting
from .._stored_body import kept_response, teed
from .._ws_channel import HANDSHAKE_ATTRIBUTE

__all__ = ["Mode", "Record", "RecordConfig", "install_from_environment", "replaying_from_environment"]

Mode = Literal["once", "new_episodes", "none", "all"]
BeforeRecord = Callable[[Interaction], "Interaction | None"]
#: Seconds between two writes of the file while recording.
SAVE_EVERY = 0.5


def _path(value: Any) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(f"cassette= takes the path of a .yaml file, not {value!r}")
    return Path(value)


def _match_on(value: Any) -> tuple[str, ...]:
    parts = (value,) if isinstance(value, str) else tuple(value)
    for part in parts:
        if part not in MATCH_PARTS and not (isinstance(part, str) and part.startswith("headers:")):
            raise ConfigError(f"match_on takes {', '.join(sorted(MATCH_PARTS))} and 'headers:NAME', not {part!r}")
    if not parts:
        raise ConfigError("match_on needs at least one part, such as ('method', 'url')")
    return parts


def _names(value: Any) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(name, str) and name for name in names):
        raise ConfigError(f"masked_headers takes header names, not {value!r}")
    return names


def _function(value: Any) -> Any:
    if value is not None and not callable(value):
        raise ConfigError(f"before_record takes a function (interaction) -> interaction or None, not {value!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class RecordConfig(PluginConfig):
    cassette: Path = setting(doc="The cassette file (YAML); created when first recorded into.", convert=_path)
    mode: Mode = setting("once", "once, new_episodes, none (replay only) or all (record anew).")
    match_on: tuple[str, ...] = setting(
        ("method", "url"),
        "What a request shares with its recording: method, url, body, headers:NAME.",
        convert=_match_on,
    )
    allow_repeats: bool = setting(True, "Replay the last matching recording again once all were used.")
    replay_timing: bool = setting(False, "Replay a recorded stream's chunks with the pauses between them.")
    masked_headers: tuple[str, ...] = setting((), "More headers whose values never reach the file.", convert=_names)
    share: bool = setting(False, "Share the file with this process's other clients on it (one cassette a notebook).")
    before_record: BeforeRecord | None = setting(
        None, "Function (interaction) -> interaction or None (not recorded), run before writing.", convert=_function
    )


class Record(Plugin):
    """Records exchanges into ``cassette`` and replays them (see the module docstring)."""

    name = "Record"
    config_class = RecordConfig
    config: RecordConfig
    send_order = SendOrder.RECORD

    def __init__(self, config: RecordConfig) -> None:
        super().__init__(config)
        self.cassette = Cassette.shared(config.cassette) if config.share else Cassette.load(config.cassette)
        existed = self.cassette.found
        self.recording = config.mode in ("all", "new_episodes") or (config.mode == "once" and not existed)
        self.replaying = config.mode in ("none", "new_episodes") or (config.mode == "once" and existed)
        if self.recording and self.cassette.read_only:
            raise ConfigError(
                f"{config.cassette} is a VCR.py cassette, replayed only: use mode='none', or record into a new file."
            )
        if config.mode == "all" and not self.cassette.renewed:  # a shared file is renewed once
            self.cassette.clear()
            self.cassette.renewed = True
        self.recorded = 0
        self.replayed = 0
        self._saved_at = 0.0
        self._pending_save: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return (
            f"<Record {self.config.cassette} mode={self.config.mode}: {len(self.cassette.interactions)} "
            f"interaction(s), {self.replayed} replayed, {self.recorded} recorded>"
        )

    async def on_send(self, request: Request, proceed: Send) -> Response:
        if request.attribute(HANDSHAKE_ATTRIBUTE):
            if not self.recording:
                raise CassetteError(
                    f"WebSocket sessions are not recorded, so {recorded_request(request)} cannot be replayed: "
                    "run it against the server, or leave it out of replayed code."
                )
            return await proceed(request)
        key = recorded_request(request, masked_headers=self.config.masked_headers)
        if self.replaying:
            found = self.cassette.find(key, self.config.match_on, repeat=self.config.allow_repeats)
            if found is not None:
                self.replayed += 1
                return _replayed(request, found, timing=self.config.replay_timing)
        if not self.recording:
            raise self._unrecorded(key)
        return await self._record(request, key, proceed)

    def _unrecorded(self, key: RecordedRequest) -> UnrecordedRequestError:
        closest = self.cassette.closest(key)
        where = f"{self.config.cassette} ({len(self.cassette.interactions)} recorded)"
        hint = f"; the closest recorded is {closest}" if closest else "; it holds no recording"
        mode = self.config.mode
        remedy = "record it with mode='new_episodes'" if mode in ("none", "once") else "record it"
        matched = " and ".join(self.config.match_on)
        return UnrecordedRequestError(
            f"{key} was not recorded in {where}{hint} (matched on {matched}): {remedy}.",
            request=str(key),
            closest=closest,
        )

    async def _record(self, request: Request, key: RecordedRequest, proceed: Send) -> Response:
        started = time.perf_counter()
        response = await proceed(request)

        def done(body: bytes, chunks: list[tuple[float, bytes]]) -> None:
            self._keep(_Exchange(request, key, response), body, chunks, time.perf_counter() - started)

        return teed(response, done)

    def _keep(self, exchange: _Exchange, body: bytes, chunks: list[tuple[float, bytes]] | None, elapsed: float) -> None:
        """Record one exchange: its request as it was matched (``key``, scrubbed already), its
        answer scrubbed with the secrets of both sides."""
        request, response = exchange.request, exchange.response
        answer = recorded_response(request, response, body, chunks, elapsed)
        secrets = secret_values(request, self.config.masked_headers, response_headers=response.headers)
        kept: Interaction | None = scrub_interaction(
            Interaction(exchange.key, answer, now()), secrets, self.config.masked_headers, request_scrubbed=True
        )
        if self.config.before_record is not None and kept is not None:
            kept = self.config.before_record(kept)
        if kept is None:
            return
        self.cassette.append(kept)
        self.recorded += 1
        self._save_soon()

    def _save_soon(self) -> None:
        """Write now if the last write was long enough ago, else soon (a burst is one write)."""
        if time.monotonic() - self._saved_at >= SAVE_EVERY:
            self.save()
            return
        if self._pending_save is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on asyncio (trio): write now
                self.save()
                return
            self._pending_save = loop.call_later(SAVE_EVERY, self.save)

    def save(self) -> None:
        """Write what was recorded to the cassette now (also done when the client closes)."""
        if self._pending_save is not None:
            self._pending_save.cancel()
            self._pending_save = None
        self.cassette.save()
        self._saved_at = time.monotonic()

    async def on_close(self) -> None:
        self.save()


#: The mode of ``KCLIENT_CASSETTE`` (``once`` by default; ``none`` also keeps the demo server down).
MODE_VARIABLE = "KCLIENT_RECORD_MODE"
#: What a request shares with its recording when a whole notebook is replayed: not the demo
#: server's port, which the OS picks anew each run.
NOTEBOOK_MATCH = ("method", "path", "query", "body")


def install_from_environment(c: Any, engine_name: str) -> None:
    """``KCLIENT_CASSETTE=notebooks/cassettes/04.yaml``: every client of the process records into
    (and replays from) that one file, so a notebook runs again with no network
    (``KCLIENT_RECORD_MODE=none``); Mock clients, which use no network, are left alone, and so
    is a client that installs Record itself."""
    file = os.environ.get(CASSETTE_VARIABLE)
    if not file or engine_name == "Mock" or Record in c.plugins:
        return
    mode = os.environ.get(MODE_VARIABLE) or "once"
    if mode not in ("once", "new_episodes", "none", "all"):
        raise ConfigError(f"{MODE_VARIABLE} takes once, new_episodes, none or all, not {mode!r}")
    c.install(Record, cassette=file, mode=mode, match_on=NOTEBOOK_MATCH, share=True)


def replaying_from_environment() -> bool:
    """True when ``KCLIENT_CASSETTE`` replays only: no server need answer."""
    return bool(os.environ.get(CASSETTE_VARIABLE)) and os.environ.get(MODE_VARIABLE) == "none"


@dataclass(frozen=True, slots=True)
class _Exchange:
    """A request being recorded: as sent, as matched (scrubbed), and its answer."""

    request: Request
    key: RecordedRequest
    response: Response


def _replayed(request: Request, interaction: Interaction, *, timing: bool) -> Response:
    """A response built from ``interaction``, its body given chunk by chunk as recorded."""
    recorded = interaction.response
    chunks = recorded.chunks if recorded.chunks is not None else ((0.0, recorded.body),)
    return kept_response(
        request,
        recorded.status,
        recorded.headers,
        chunks,
        reason=recorded.reason,
        http_version=recorded.http_version,
        source="cassette",
        timing=timing,
    )
