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
import functools
import json
import os
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
            return cls(file, _read_kclient(document, file), exists=True)
        if isinstance(document, Mapping) and "interactions" in document:
            return cls(file, _read_vcr(document, file), exists=True, read_only=True)
        raise CassetteError(f"{file} is not a cassette: expected 'kclient_cassette: 1' or VCR.py's 'interactions'.")

    def find(self, request: RecordedRequest, match_on: Sequence[str], *, repeat: bool = True) -> Interaction | None:
        """The first unplayed interaction that matches ``request``; with ``repeat``, when all
        matching ones were played, the last of them again (a re-run notebook cell)."""
        key = match_key(request, match_on)
        last: int | None = None
        for index, interaction in enumerate(self.interactions):
            if match_key(interaction.request, match_on) != key:
                continue
            if index not in self.played:
                self.played.add(index)
                return interaction
            last = index
        return self.interactions[last] if repeat and last is not None else None

    def closest(self, request: RecordedRequest) -> str | None:
        """The recorded request most like ``request`` (for the error of a request not recorded)."""
        recorded = [str(interaction.request) for interaction in self.interactions]
        close = difflib.get_close_matches(str(request), recorded, n=1, cutoff=0.0)
        return close[0] if close else None

    def append(self, interaction: Interaction) -> None:
        self.interactions.append(interaction)
        self.played.add(len(self.interactions) - 1)
        self.dirty = True

    def clear(self) -> None:
        """Forget every interaction (mode ``all`` records them anew)."""
        self.interactions.clear()
        self.played.clear()
        self.dirty = True

    def save(self) -> None:
        """Write the file (atomically: a reader never sees half of it) if anything was recorded."""
        if not self.dirty:
            return
        if self.read_only:
            raise CassetteError(f"{self.path} is a VCR.py cassette, replayed only: record into a new file.")
        text = dump(self.interactions)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.exists, self.dirty = True, False


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
    interaction: Interaction, secrets: Sequence[str], masked_headers: Iterable[str] = ()
) -> Interaction:
    """``interaction`` with its secrets replaced (headers, URL, bodies, chunks)."""
    response = interaction.response
    headers = tuple((name, scrub(_header(name, value, masked_headers), secrets)) for name, value in response.headers)
    body = _scrub_bytes(response.body, secrets)
    chunks = (
        None if response.chunks is None else tuple((at, _scrub_bytes(piece, secrets)) for at, piece in response.chunks)
    )
    return replace(
        interaction,
        request=_scrub_request(interaction.request, secrets, masked_headers),
        response=replace(response, headers=headers, body=body, chunks=chunks),
    )


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
    """The YAML text of a kclient cassette."""
    import yaml

    document = {
        "kclient_cassette": FORMAT,
        "interactions": [
            {
                "recorded_at": interaction.recorded_at,
                "request": {
                    "method": interaction.request.method,
                    "url": interaction.request.url,
                    "headers": [_Pair(pair) for pair in interaction.request.headers],
                    "body": _body_out(interaction.request.body),
                },
                "response": _response_out(interaction.response),
            }
            for interaction in interactions
        ],
    }
    header = "# A kclient cassette: recorded HTTP exchanges, replayed by kclient.plugins.record.Record.\n"
    text: str = yaml.dump(document, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=120)
    return header + text


def _response_out(response: RecordedResponse) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": response.status,
        "reason": response.reason,
        "http_version": response.http_version,
        "elapsed": response.elapsed,
        "headers": [_Pair(pair) for pair in response.headers],
        "body": _body_out(response.body),
    }
    if response.chunks is not None:
        out["chunks"] = [{"at": round(at, 6), **(_body_out(piece) or {"text": ""})} for at, piece in response.chunks]
    return out


def _body_out(body: bytes | None) -> dict[str, str] | None:
    if body is None:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        return {"base64": base64.b64encode(body).decode("ascii")}
    return {"text": text}


def _yaml_load(text: str, file: Path) -> Any:
    try:
        import yaml
    except ImportError as exc:
        raise CassetteError("Cassettes are YAML: pip install 'kclient[record]' (PyYAML).") from exc
    try:
        return yaml.safe_load(text)
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


@functools.cache
def _dumper() -> type[Any]:
    """The YAML dumper, built when first used (``import kclient`` does not import yaml): multi-line
    text as literal blocks (``|``), so that a body reads and diffs as it is."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    def pair(dumper: yaml.SafeDumper, value: _Pair) -> yaml.SequenceNode:
        return dumper.represent_sequence("tag:yaml.org,2002:seq", list(value), flow_style=True)

    Dumper.add_representer(str, text)
    Dumper.add_representer(_Pair, pair)
    return Dumper


class _Pair(tuple[str, str]):
    """A header (name and value), written on one line: ``[Content-Type, application/json]``."""
