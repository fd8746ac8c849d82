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
"""

from __future__ import annotations

import base64
import datetime
import difflib
import json
import os
import re
import tempfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import CassetteError
from ._redact import (
    mask_form,
    mask_header_value,
    mask_json_text,
    mask_url_text,
    scrub,
    secret_values,
)

if TYPE_CHECKING:
    from ._models import Request, Response

__all__ = [
    "FORMAT",
    "Cassette",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "MATCH_PARTS",
    "match_key",
    "now",
    "raw_request",
    "recorded_request",
    "recorded_response",
    "scrub_interaction",
]

FORMAT = 1
#: Headers an engine sets for its own transfer: not recorded (replay sets Content-Length itself).
#: Media types whose chunks are kept, to replay them one by one.
_STREAMS = frozenset({"text/event-stream", "application/x-ndjson", "application/jsonl", "application/json-seq"})
_TRANSFER = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"})


@dataclass(frozen=True)
class RecordedRequest:
    """A request as recorded (scrubbed)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((value for key, value in self.headers if key.lower() == lower), None)

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


@dataclass(frozen=True)
class RecordedResponse:
    """An answer as recorded: its head, its body (decoded) and, for a stream, its chunks."""

    status: int
    reason: str = ""
    http_version: str = "HTTP/1.1"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: The body as it came, ``(seconds after the head, bytes)`` a piece; ``None`` when read at once.
    chunks: tuple[tuple[float, bytes], ...] | None = None
    elapsed: float = 0.0


@dataclass(frozen=True)
class Interaction:
    request: RecordedRequest
    response: RecordedResponse
    recorded_at: str = ""


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

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cassette:
        file = Path(path)
        if not file.exists():
            return cls(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CassetteError(f"Cannot read the cassette {file}: {exc}") from exc
        document = _yaml_load(text, file)
        if isinstance(document, Mapping) and "kclient_cassette" in document:
            interactions = _read_kclient(document, file)
            return cls(file, interactions, exists=True, _written=len(interactions))
        if isinstance(document, Mapping) and "interactions" in document:
            return cls(file, _read_vcr(document, file), exists=True, read_only=True)
        raise CassetteError(f"{file} is not a cassette: expected 'kclient_cassette: 1' or VCR.py's 'interactions'.")

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
                out.write(_dump_items(self.interactions[self._written :]))
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
    return RecordedRequest(request.method, str(request.url), _pairs(request.headers.items()), content)


def recorded_request(request: Request, *, masked_headers: Iterable[str] = ()) -> RecordedRequest:
    """``request`` as a cassette holds it, scrubbed (see the module docstring): what is matched."""
    return _scrub_request(raw_request(request), secret_values(request, masked_headers), masked_headers)


def recorded_response(
    request: Request, response: Response, body: bytes, chunks: Sequence[tuple[float, bytes]] | None, elapsed: float
) -> RecordedResponse:
    """The answer to ``request`` as recorded: decoded body, transfer headers left out (not yet
    scrubbed). The chunks are kept for streams only (``text/event-stream``, JSON lines)."""
    headers = _pairs((name, value) for name, value in response.headers.items() if name.lower() not in _TRANSFER)
    media = (response.headers.get("Content-Type") or "").partition(";")[0].strip().lower()
    if media not in _STREAMS:
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


# --- the file -------------------------------------------------------------------------------


def dump(interactions: Sequence[Interaction]) -> str:
    """The YAML text of a kclient cassette: a header, then the interactions, last in the file so
    that new ones can be appended (``_dump_items``)."""
    header = (
        "# A kclient cassette: recorded HTTP exchanges, replayed by kclient.plugins.record.Record.\n"
        f"kclient_cassette: {FORMAT}\n"
    )
    if not interactions:
        return header + "interactions: []\n"
    return header + "interactions:\n" + _dump_items(interactions)


def _dump_items(interactions: Sequence[Interaction]) -> str:
    """Interactions as the items of the YAML list ``interactions:`` (``- recorded_at: ...``).

    Written by hand for this one shape (PyYAML's emitter costs more than a loopback request):
    scalars as JSON strings, which are YAML's double-quoted scalars, and text bodies of several
    lines as literal blocks (``|``) that read and diff as the text itself. The tests read every
    kind of body back with PyYAML.
    """
    out: list[str] = []
    for interaction in interactions:
        request, response = interaction.request, interaction.response
        out.append(f"- recorded_at: {_quote(interaction.recorded_at)}\n  request:\n")
        out.append(f"    method: {_quote(request.method)}\n    url: {_quote(request.url)}\n")
        out.append(_headers_out(request.headers, "    "))
        out.append(_body_text(request.body, "    body", "      "))
        out.append(f"  response:\n    status: {response.status}\n    reason: {_quote(response.reason)}\n")
        out.append(f"    http_version: {_quote(response.http_version)}\n    elapsed: {response.elapsed:.6f}\n")
        out.append(_headers_out(response.headers, "    "))
        out.append(_body_text(response.body, "    body", "      "))
        if response.chunks is not None:
            out.append("    chunks:\n" if response.chunks else "    chunks: []\n")
            for at, piece in response.chunks:
                key, value = _body_value(piece)
                out.append(f"    - at: {at:.6f}\n      {key}: {_quote(value)}\n")
    return "".join(out)


#: Control characters other than tab and line breaks: a body holding one is written as base64.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: What YAML does not allow in a document (its printable set), and its YAML 1.1 line breaks.
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _quote(text: str) -> str:
    """``text`` as a YAML double-quoted scalar: a JSON string (JSON escapes are YAML's), with
    what YAML cannot hold as it is escaped too."""
    if text.isascii() and "\x7f" not in text:  # JSON's escapes are all YAML needs
        return json.dumps(text)
    return _UNPRINTABLE.sub(_escape, json.dumps(text, ensure_ascii=False))


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _headers_out(headers: Sequence[tuple[str, str]], indent: str) -> str:
    if not headers:
        return f"{indent}headers: []\n"
    lines = "".join(f"{indent}- [{_quote(name)}, {_quote(value)}]\n" for name, value in headers)
    return f"{indent}headers:\n{lines}"


def _body_value(body: bytes) -> tuple[str, str]:
    """``("text", ...)`` for UTF-8 text without control characters, else ``("base64", ...)``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "base64", base64.b64encode(body).decode("ascii")
    if _CONTROL.search(text) is not None:
        return "base64", base64.b64encode(body).decode("ascii")
    return "text", text


def _body_text(body: bytes | None, key: str, indent: str) -> str:
    if body is None:
        return f"{key}: null\n"
    kind, value = _body_value(body)
    if kind == "text" and _fits_block(value):
        return f"{key}:\n{indent}text: {_block(value, indent + '  ')}"
    return f"{key}:\n{indent}{kind}: {_quote(value)}\n"


def _fits_block(text: str) -> bool:
    """Whether a literal block (``|``) holds ``text`` exactly: several lines, no carriage
    return, not starting with a space or a line break, only printable characters."""
    return (
        "\n" in text.rstrip("\n")
        and "\r" not in text
        and not text.startswith((" ", "\t", "\n"))
        and text.replace("\n", "").replace("\t", "").isprintable()
    )


def _block(text: str, indent: str) -> str:
    """``text`` as a literal block, chomped as it ends: ``|-`` no final line break, ``|`` one,
    ``|+`` more."""
    body = text.rstrip("\n")
    ending = len(text) - len(body)
    indicator = "|-" if ending == 0 else "|" if ending == 1 else "|+"
    lines = "\n".join(indent + line if line else "" for line in body.split("\n"))
    return f"{indicator}\n{lines}\n" + "\n" * max(ending - 1, 0)


def _yaml_load(text: str, file: Path) -> Any:
    try:
        import yaml
    except ImportError as exc:
        raise CassetteError("Cassettes are YAML: pip install 'kclient[record]' (PyYAML).") from exc
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when PyYAML was built with it
    try:
        return yaml.load(text, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        raise CassetteError(f"{file} is not valid YAML: {exc}") from exc


def _read_kclient(document: Mapping[str, Any], file: Path) -> list[Interaction]:
    if document.get("kclient_cassette") != FORMAT:
        raise CassetteError(
            f"{file}: kclient_cassette {document.get('kclient_cassette')!r} is not a format "
            f"this kclient reads ({FORMAT})."
        )
    interactions = []
    for number, item in enumerate(document.get("interactions") or [], start=1):
        try:
            request, response = item["request"], item["response"]
            chunks = response.get("chunks")
            interactions.append(
                Interaction(
                    RecordedRequest(
                        str(request["method"]),
                        str(request["url"]),
                        _pairs(request.get("headers") or []),
                        _body_in(request.get("body")),
                    ),
                    RecordedResponse(
                        int(response["status"]),
                        str(response.get("reason") or ""),
                        str(response.get("http_version") or "HTTP/1.1"),
                        _pairs(response.get("headers") or []),
                        _body_in(response.get("body")) or b"",
                        None if chunks is None else tuple((float(c["at"]), _body_in(c) or b"") for c in chunks),
                        float(response.get("elapsed") or 0.0),
                    ),
                    str(item.get("recorded_at") or ""),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CassetteError(f"{file}: interaction {number} is malformed ({type(exc).__name__}: {exc}).") from exc
    return interactions


def _pairs(items: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    """Header pairs as plain strings (multidict's names are a ``str`` subclass YAML does not know)."""
    return tuple((str(name), str(value)) for name, value in items)


def _body_in(body: Any) -> bytes | None:
    if body is None:
        return None
    if "text" in body:
        return str(body["text"]).encode("utf-8")
    return base64.b64decode(body["base64"])


def _read_vcr(document: Mapping[str, Any], file: Path) -> list[Interaction]:
    """VCR.py's cassette: ``request`` (``method``, ``uri``, ``headers`` as lists, ``body``) and
    ``response`` (``status: {code, message}``, ``headers``, ``body: {string}``)."""
    interactions = []
    for number, item in enumerate(document.get("interactions") or [], start=1):
        try:
            request, response = item["request"], item["response"]
            headers = _vcr_headers(response.get("headers") or {})
            body = _vcr_body((response.get("body") or {}).get("string"))
            coding = next((value.lower() for name, value in headers if name.lower() == "content-encoding"), None)
            if coding is not None and body:
                body = _decompress(body, coding, file, number)
            status = response["status"]
            interactions.append(
                Interaction(
                    RecordedRequest(
                        str(request["method"]),
                        mask_url_text(str(request["uri"])),
                        tuple((n, _header(n, v, ())) for n, v in _vcr_headers(request.get("headers") or {})),
                        _vcr_body(request.get("body")),
                    ),
                    RecordedResponse(
                        int(status["code"]),
                        str(status.get("message") or ""),
                        "HTTP/1.1",
                        tuple((n, v) for n, v in headers if n.lower() not in _TRANSFER),
                        body or b"",
                    ),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CassetteError(
                f"{file}: VCR.py interaction {number} is malformed ({type(exc).__name__}: {exc})."
            ) from exc
    return interactions


def _vcr_headers(headers: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for name, values in headers.items():
        for value in values if isinstance(values, list) else [values]:
            pairs.append((str(name), str(value)))
    return pairs


def _vcr_body(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, Mapping):
        body = body.get("string")
    if isinstance(body, bytes):
        return body
    return str(body).encode("utf-8")


def _decompress(body: bytes, coding: str, file: Path, number: int) -> bytes:
    try:
        if coding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if coding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
        if coding == "br":
            import brotli

            return bytes(brotli.decompress(body))
    except (zlib.error, ImportError) as exc:
        raise CassetteError(
            f"{file}: VCR.py interaction {number}: its {coding} body cannot be decoded ({exc})."
        ) from exc
    raise CassetteError(f"{file}: VCR.py interaction {number} has a {coding} body, which kclient cannot decode.")
