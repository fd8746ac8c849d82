"""Cassettes: recorded HTTP exchanges in a readable YAML file, read back for replay.

A cassette is one exchange after another, diff-friendly::

    kclient_cassette: 1
    interactions:
    - recorded_at: '2026-12-07T12:00:00Z'
      request:
        method: GET
        url: https://api.example.com/items?page=2&token=***
        headers:
        - [Accept, '*/*']
        - [Authorization, Bearer ***]
        body: null
      response:
        status: 200
        reason: OK
        http_version: HTTP/1.1
        elapsed: 0.0123
        headers:
        - [Content-Type, application/json]
        body:
          text: |-
            {"items": [1, 2]}

Bodies are ``text`` when they are UTF-8 text, else ``base64``; they are stored decoded, once
(a gzip answer is written as its text, without its ``Content-Encoding``). A streamed answer
(Server-Sent Events) also keeps its ``chunks`` as they came, each with the seconds since the
head (``at``), so that replay can give them one by one, with their timing if asked.

Secrets never reach the file (``scrub``): the secret headers (Authorization, Cookie,
Set-Cookie, Proxy-Authorization, X-Api-Key...) keep only their structure (``Bearer ***``,
``session=***; Path=/``), URLs lose their passwords and secret query values, the request's
secret form and JSON fields are masked, and the exchange's own credentials repeated in a body
(an echo) become ``***``, as every display of kclient masks them. The same scrubbing applies
to a live request before it is matched, so a masked recording still matches.

Cassettes written by VCR.py (its YAML format, ``version: 1``) are read too, for replay:
bodies given as ``string`` or ``!!binary``, and gzip or deflate bodies decoded once.

This module holds the cassette in use (what was played, the index of match keys, when the file
is written), the recording of live exchanges, their scrubbing and matching; the file's text,
written and read, is ``kclient._cassette_file``'s.
"""

from __future__ import annotations

import datetime
import difflib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cassette_file import (
    FORMAT,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    dump,
    dump_items,
    header_pairs,
    load_document,
)
from ._errors import CassetteError
from ._redact import (
    mask_form,
    mask_header_value,
    mask_json_text,
    mask_url_text,
    scrub,
    secret_values,
)
from ._stored_body import TRANSFER_HEADERS, is_stream

if TYPE_CHECKING:
    from ._models import Request, Response

__all__ = [
    "FORMAT",
    "MATCH_PARTS",
    "Cassette",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "dump",
    "match_key",
    "now",
    "raw_request",
    "recorded_request",
    "recorded_response",
    "scrub_interaction",
]

#: Media types whose chunks are kept, to replay them one by one.


_SHARED: dict[Path, Cassette] = {}
_SHARED_LOCK = threading.Lock()


@dataclass
class Cassette:
    """The interactions of one file, and which of them this session has played.

    ``load(path)`` reads it (an absent file is an empty cassette, ``exists`` false); ``find``
    matches a request; ``append`` and ``save`` record. A VCR.py cassette is ``read_only``.
    """

    path: Path
    interactions: list[Interaction] = field(default_factory=list)
    exists: bool = False
    read_only: bool = False
    played: set[int] = field(default_factory=set)
    dirty: bool = False
    _indexes: dict[tuple[str, ...], dict[tuple[Any, ...], list[int]]] = field(default_factory=dict, repr=False)
    #: How many of the interactions the file holds (what ``save`` appends after).
    _written: int = 0
    #: Whether the file was there when the cassette was loaded (``exists`` turns true once saved).
    found: bool = False
    #: Emptied already by a ``mode="all"`` client (a shared cassette is renewed once).
    renewed: bool = False

    @classmethod
    def shared(cls, path: str | os.PathLike[str]) -> Cassette:
        """The cassette of ``path`` that this process's clients share (loaded on first use): one
        file for a whole notebook, its interactions played in the order they were recorded."""
        file = Path(path).resolve()
        with _SHARED_LOCK:
            cassette = _SHARED.get(file)
            if cassette is None:
                cassette = _SHARED[file] = cls.load(file)
            return cassette

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cassette:
        file = Path(path)
        if not file.exists():
            return cls(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CassetteError(f"Cannot read the cassette {file}: {exc}") from exc
        interactions, read_only = load_document(text, file)
        written = 0 if read_only else len(interactions)
        return cls(file, interactions, exists=True, read_only=read_only, _written=written, found=True)

    def find(self, request: RecordedRequest, match_on: Sequence[str], *, repeat: bool = True) -> Interaction | None:
        """The first unplayed interaction that matches ``request``; with ``repeat``, when all
        matching ones were played, the last of them again (a re-run notebook cell)."""
        candidates = self._index(tuple(match_on)).get(match_key(request, match_on), [])
        for index in candidates:
            if index not in self.played:
                self.played.add(index)
                return self.interactions[index]
        return self.interactions[candidates[-1]] if repeat and candidates else None

    def _index(self, match_on: tuple[str, ...]) -> dict[tuple[Any, ...], list[int]]:
        """The interactions' positions by their match key (built once for each ``match_on``)."""
        index = self._indexes.get(match_on)
        if index is None:
            index = self._indexes[match_on] = {}
            for position, interaction in enumerate(self.interactions):
                index.setdefault(match_key(interaction.request, match_on), []).append(position)
        return index

    def closest(self, request: RecordedRequest) -> str | None:
        """The recorded request most like ``request`` (for the error of a request not recorded)."""
        recorded = [str(interaction.request) for interaction in self.interactions]
        close = difflib.get_close_matches(str(request), recorded, n=1, cutoff=0.0)
        return close[0] if close else None

    def append(self, interaction: Interaction) -> None:
        position = len(self.interactions)
        self.interactions.append(interaction)
        self.played.add(position)
        for match_on, index in self._indexes.items():
            index.setdefault(match_key(interaction.request, match_on), []).append(position)
        self.dirty = True

    def clear(self) -> None:
        """Forget every interaction (mode ``all`` records them anew)."""
        self.interactions.clear()
        self.played.clear()
        self._indexes.clear()
        self._written = 0
        self.dirty = True

    def save(self) -> None:
        """Write what was recorded since the last save. The first write (and the one after
        ``clear``) writes the whole file atomically; later ones append the new interactions, so a
        long recording never rewrites what is already on disk."""
        if not self.dirty:
            return
        if self.read_only:
            raise CassetteError(f"{self.path} is a VCR.py cassette, replayed only: record into a new file.")
        if not self.exists or self._written == 0:
            self._write_whole()
        else:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(dump_items(self.interactions[self._written :]))
        self._written = len(self.interactions)
        self.exists, self.dirty = True, False

    def _write_whole(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(dump(self.interactions))
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


# --- from live requests and answers ---------------------------------------------------------


def raw_request(request: Request) -> RecordedRequest:
    """``request`` as it was sent (no body, or a streamed one, is ``None``), not yet scrubbed."""
    content = request.content if isinstance(request.content, bytes) and request.content else None
    return RecordedRequest(request.method, str(request.url), header_pairs(request.headers.items()), content)


def recorded_request(request: Request, *, masked_headers: Iterable[str] = ()) -> RecordedRequest:
    """``request`` as a cassette holds it, scrubbed (see the module docstring): what is matched."""
    return _scrub_request(raw_request(request), secret_values(request, masked_headers), masked_headers)


def recorded_response(
    request: Request, response: Response, body: bytes, chunks: Sequence[tuple[float, bytes]] | None, elapsed: float
) -> RecordedResponse:
    """The answer to ``request`` as recorded: decoded body, transfer headers left out (not yet
    scrubbed). The chunks are kept for streams only (``text/event-stream``, JSON lines)."""
    headers = header_pairs(
        (name, value) for name, value in response.headers.items() if name.lower() not in TRANSFER_HEADERS
    )
    if not is_stream(response):
        chunks = None
    return RecordedResponse(
        response.status,
        response.reason,
        response.http_version,
        headers,
        body,
        tuple(chunks) if chunks is not None else None,
        round(elapsed, 6),
    )


def scrub_interaction(
    interaction: Interaction,
    secrets: Sequence[str],
    masked_headers: Iterable[str] = (),
    *,
    request_scrubbed: bool = False,
) -> Interaction:
    """``interaction`` with its secrets replaced (headers, URL, bodies, chunks); with
    ``request_scrubbed`` its request is already (``recorded_request``)."""
    response = interaction.response
    headers = tuple((name, scrub(_header(name, value, masked_headers), secrets)) for name, value in response.headers)
    body = _scrub_bytes(response.body, secrets)
    chunks = (
        None if response.chunks is None else tuple((at, _scrub_bytes(piece, secrets)) for at, piece in response.chunks)
    )
    request = interaction.request
    if request_scrubbed:  # masked already: only the answer's secrets (a Set-Cookie value) may be left
        request = RecordedRequest(
            request.method,
            scrub(request.url, secrets),
            tuple((name, scrub(value, secrets)) for name, value in request.headers),
            None if request.body is None else _scrub_bytes(request.body, secrets),
        )
    else:
        request = _scrub_request(request, secrets, masked_headers)
    scrubbed = RecordedResponse(
        response.status, response.reason, response.http_version, headers, body, chunks, response.elapsed
    )
    return Interaction(request, scrubbed, interaction.recorded_at)


def match_key(request: RecordedRequest, match_on: Sequence[str]) -> tuple[Any, ...]:
    """What two requests must share to match (VCR.py's parts): ``method``; ``url`` (``scheme``,
    ``host``, ``port``, ``path`` and ``query``, the query in any order), or any of those alone;
    ``body`` (JSON compared as parsed); ``headers:NAME`` for one header's value."""
    from yarl import URL

    url = URL(request.url)
    parts: dict[str, Any] = {
        "scheme": url.scheme,
        "host": url.host,
        "port": url.port,
        "path": url.path,
        "query": tuple(sorted(url.query.items())),
    }
    key: list[Any] = []
    for part in match_on:
        if part == "method":
            key.append(request.method.upper())
        elif part == "url":
            key.extend(parts.values())
        elif part in parts:
            key.append(parts[part])
        elif part == "body":
            key.append(_comparable_body(request.body))
        elif part.startswith("headers:"):
            key.append(request.header(part.removeprefix("headers:")))
        else:  # the plugin's settings are checked: this is a programming error
            raise ValueError(f"unknown match part {part!r}")
    return tuple(key)


#: The parts ``match_on`` takes (and ``headers:NAME``).
MATCH_PARTS = frozenset({"method", "url", "scheme", "host", "port", "path", "query", "body"})


def _comparable_body(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.dumps(json.loads(body), sort_keys=True)
    except ValueError:
        return body


def _scrub_request(request: RecordedRequest, secrets: Sequence[str], masked_headers: Iterable[str]) -> RecordedRequest:
    headers = tuple((name, scrub(_header(name, value, masked_headers), secrets)) for name, value in request.headers)
    body = request.body
    if body:
        body = _scrub_body(body, request.header("content-type") or "", secrets)
    return replace(request, url=scrub(mask_url_text(request.url), secrets), headers=headers, body=body)


def _header(name: str, value: str, masked_headers: Iterable[str]) -> str:
    return mask_header_value(name, value, masked_headers, keep_structure=True)


def _scrub_body(body: bytes, content_type: str, secrets: Sequence[str]) -> bytes:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    media = content_type.partition(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        text = mask_form(text)
    elif media.endswith("json") or text.lstrip()[:1] in ("{", "["):
        text = mask_json_text(text)
    return scrub(text, secrets).encode("utf-8")


def _scrub_bytes(data: bytes, secrets: Sequence[str]) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return scrub(text, secrets).encode("utf-8")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
