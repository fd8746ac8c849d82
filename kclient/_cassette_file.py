"""The cassette file: its interactions as readable YAML, written and read back.

The shape (see ``kclient._cassette`` for the whole story)::

    kclient_cassette: 1
    interactions:
    - recorded_at: "2026-12-07T12:00:00Z"
      request:
        method: "GET"
        url: "https://api.example.com/items?page=2&token=***"
        headers:
        - ["Authorization", "Bearer ***"]
        body: null
      response:
        status: 200
        ...
        body:
          text: |-
            {"items": [1, 2]}

``dump`` writes it with a small emitter of its own (the interactions come last, so that
``dump_items`` can append new ones); ``load_document`` reads a kclient cassette or VCR.py's.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import CassetteError
from ._redact import mask_header_value, mask_url_text
from ._stored_body import TRANSFER_HEADERS

__all__ = [
    "FORMAT",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "dump",
    "dump_items",
    "header_pairs",
    "load_document",
]

FORMAT = 1
#: Headers an engine sets for its own transfer: not recorded (replay sets Content-Length itself).


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


def header_pairs(items: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    """Header pairs as plain strings (multidict's names are a ``str`` subclass YAML does not know)."""
    return tuple((str(name), str(value)) for name, value in items)


def load_document(text: str, file: Path) -> tuple[list[Interaction], bool]:
    """The interactions of a cassette's text, and whether it is VCR.py's (replayed only)."""
    document = _yaml_load(text, file)
    if isinstance(document, Mapping) and "kclient_cassette" in document:
        return _read_kclient(document, file), False
    if isinstance(document, Mapping) and "interactions" in document:
        return _read_vcr(document, file), True
    raise CassetteError(f"{file} is not a cassette: expected 'kclient_cassette: 1' or VCR.py's 'interactions'.")


def dump(interactions: Sequence[Interaction]) -> str:
    """The YAML text of a kclient cassette: a header, then the interactions, last in the file so
    that new ones can be appended (``_dump_items``)."""
    header = (
        "# A kclient cassette: recorded HTTP exchanges, replayed by kclient.plugins.record.Record.\n"
        f"kclient_cassette: {FORMAT}\n"
    )
    if not interactions:
        return header + "interactions: []\n"
    return header + "interactions:\n" + dump_items(interactions)


def dump_items(interactions: Sequence[Interaction]) -> str:
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
                        header_pairs(request.get("headers") or []),
                        _body_in(request.get("body")),
                    ),
                    RecordedResponse(
                        int(response["status"]),
                        str(response.get("reason") or ""),
                        str(response.get("http_version") or "HTTP/1.1"),
                        header_pairs(response.get("headers") or []),
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
                        tuple(
                            (n, mask_header_value(n, v, keep_structure=True))
                            for n, v in _vcr_headers(request.get("headers") or {})
                        ),
                        _vcr_body(request.get("body")),
                    ),
                    RecordedResponse(
                        int(status["code"]),
                        str(status.get("message") or ""),
                        "HTTP/1.1",
                        tuple((n, v) for n, v in headers if n.lower() not in TRANSFER_HEADERS),
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
