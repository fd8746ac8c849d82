"""Rich, safe display of responses in a notebook: ``ResponseView`` and its mimebundle.

A response is shown as a status line with timing, a headers table and a body rendered by
its content type (JSON pretty-printed and collapsible, images inline, text, escaped HTML,
a hex preview of binary data). Two promises hold in every path:

- **Secrets are masked**: Authorization, Proxy-Authorization and Cookie values, ``Set-Cookie``
  values (the cookie name and attributes stay), secret query parameters and URL passwords in
  every URL shown (status line, request line, ``Location``, ``Link``...), header names the
  caller adds, and secret fields of a request body in the verbose view.
- **Nothing is injected or frozen**: all text is HTML-escaped, server HTML is rendered only on
  request and then inside a sandboxed ``<iframe>``, and at most ``limit_bytes`` of a body is
  ever decoded, parsed, pretty-printed or escaped, so a 100 MiB body displays at once.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kclient._charset import content_charset, decode_text, is_utf8_start
from kclient._redact import (
    declared_secrets,
    mask_credentials,
    mask_form,
    mask_json,
    mask_json_text,
    mask_url_text,
    scrub,
    secret_values,
)
from kclient._redact import mask_header_value as _mask_header

from ._spec import RequestSpec

if TYPE_CHECKING:
    from yarl import URL

    from kclient._models import Request, Response

__all__ = [
    "DEFAULT_LIMIT_BYTES",
    "HistoryEntry",
    "ResponseView",
    "display_bundle",
    "format_elapsed",
    "format_size",
    "history_table",
    "mask_header_value",
]

#: How much of a body is decoded and shown unless the caller says otherwise.
DEFAULT_LIMIT_BYTES = 64 * 1024

#: Bytes of a binary body shown as hex.
HEX_PREVIEW_BYTES = 64

#: Raster images shown inline as ``<img>`` (SVG is apart: it can carry scripts).
INLINE_IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif", "image/x-icon"}
)

#: JSON bodies with more values than this (or nested deeper) are shown as one collapsible block.
MAX_TREE_NODES = 2000
MAX_TREE_DEPTH = 32

#: A pretty-printed JSON body may grow to this many times the limit before the raw text is shown instead.
MAX_PRETTY_GROWTH = 4

#: Text media types outside ``text/*``.
_TEXT_TYPES = frozenset(
    {
        "application/xml",
        "application/javascript",
        "application/ecmascript",
        "application/x-www-form-urlencoded",
        "application/graphql",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/x-ndjson",
        "application/sql",
    }
)

_FORM_TYPE = "application/x-www-form-urlencoded"

_STATUS_COLORS = {1: "#555", 2: "#1a7f37", 3: "#0969da", 4: "#bc4c00", 5: "#cf222e"}

_MONO = "font-family:var(--jp-code-font-family,monospace);font-size:var(--jp-code-font-size,12px)"
_PRE_STYLE = f"{_MONO};white-space:pre-wrap;word-break:break-all;margin:0.3em 0"
_DIM = "opacity:0.65"


# -- formatting --------------------------------------------------------------------------------------


def format_size(size: int) -> str:
    """``size`` bytes for people: ``512 B``, ``1.2 KiB``, ``64 KiB``, ``100 MiB`` (no decimal when exact)."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    if value == int(value):
        return f"{int(value)} {unit}"
    return f"{value:.1f} {unit}"


def format_elapsed(seconds: float) -> str:
    """A duration for people: ``12.3 ms`` under a second, else ``1.23 s``."""
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def _escape(text: str) -> str:
    """Escape ``text`` for element content (``<``, ``>``, ``&``; quotes need no escaping there)."""
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    """Escape ``text`` for a double-quoted attribute value."""
    return html.escape(text, quote=True)


# -- masking -----------------------------------------------------------------------------------------


def mask_header_value(name: str, value: str, extra: Iterable[str] = frozenset()) -> str:
    """``value`` of header ``name`` as it may be shown (``kclient._redact.mask_header_value``).

    Secret headers (``kclient._redact.SECRET_HEADERS`` and the names in ``extra``) are masked:
    cookies keep their names (``session=***; Path=/``), Authorization keeps a known scheme
    (``Bearer ***``), the rest become ``***``. URLs in ``Location``-like and ``Link`` headers lose
    their passwords and secret query values.
    """
    return _mask_header(name, value, extra, keep_structure=True)


def _mask_body_text(text: str, media_type: str, extra_keys: Iterable[str] = ()) -> str:
    """Mask secret fields (``password=``, ``"token": ...`` and ``extra_keys``) of a request body shown as text."""
    if media_type == _FORM_TYPE:
        return mask_form(text, extra_keys)
    if _is_json_type(media_type):
        return mask_json_text(text, extra_keys)
    return scrub(text, declared_secrets())  # a private environment's values, wherever they are


# -- options -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Options:
    """How a response is displayed (see ``display_bundle``)."""

    limit_bytes: int
    masked_headers: frozenset[str]
    render_html: bool
    verbose: bool

    @classmethod
    def build(cls, limit_bytes: int, masked_headers: Iterable[str], render_html: bool, verbose: bool) -> _Options:
        if limit_bytes < 1:
            raise ValueError(f"limit_bytes must be at least 1, got {limit_bytes}")
        return cls(limit_bytes, frozenset(name.lower() for name in masked_headers), render_html, verbose)


@dataclass(frozen=True, slots=True)
class _Rendered:
    """One part of the display in both forms."""

    text: str
    html: str


_EMPTY = _Rendered("", "")


# -- content types -----------------------------------------------------------------------------------


def _media_type(content_type: str) -> str:
    """``text/html; charset=utf-8`` as ``text/html``."""
    return content_type.split(";", 1)[0].strip().lower()


def _is_json_type(media_type: str) -> bool:
    return media_type in ("application/json", "text/json") or media_type.endswith("+json")


def _is_text_type(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type in _TEXT_TYPES or media_type.endswith("+xml")


def _looks_textual(sample: bytes) -> bool:
    """True when ``sample`` (the start of a body of unknown type) reads as UTF-8 text."""
    head = sample[:4096]
    return b"\0" not in head and is_utf8_start(head)


def _classify(media_type: str, sample: bytes) -> str:
    """What kind of body this is: ``json``, ``image``, ``svg``, ``html``, ``text`` or ``binary``."""
    if _is_json_type(media_type):
        return "json"
    if media_type in INLINE_IMAGE_TYPES:
        return "image"
    if media_type == "image/svg+xml":
        return "svg"
    if media_type in ("text/html", "application/xhtml+xml"):
        return "html"
    if _is_text_type(media_type):
        return "text"
    if _looks_textual(sample):
        return "json" if not media_type and sample.lstrip()[:1] in (b"{", b"[") else "text"
    return "binary"


# -- bodies ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Excerpt:
    """The first ``limit`` bytes of a body (a slice: the rest is never touched) and its full size."""

    data: bytes
    total: int
    media_type: str
    charset: str | None
    #: Secrets of the exchange (``secret_values``): shown as ``***`` wherever the text repeats them.
    secrets: tuple[str, ...] = ()

    @property
    def truncated(self) -> bool:
        return len(self.data) < self.total

    def decode(self) -> str:
        """The excerpt as text, secrets masked; a character cut at the limit is dropped, not shown as U+FFFD."""
        text = decode_text(self.data, self.charset, final=not self.truncated)
        return scrub(text, self.secrets) if self.secrets else text

    def note(self) -> _Rendered:
        """``showing first 64 KiB of 100 MiB`` when the body is cut, else nothing."""
        if not self.truncated:
            return _EMPTY
        text = f"showing first {format_size(len(self.data))} of {format_size(self.total)}"
        return _Rendered(f"… ({text})", f'<div style="{_DIM};font-style:italic">{_escape(text)}</div>')


def _text_block(text: str) -> str:
    return f'<pre style="{_PRE_STYLE}">{_escape(text)}</pre>'


def _render_text(excerpt: _Excerpt, mask_secrets: bool) -> _Rendered:
    text = excerpt.decode()
    if mask_secrets:
        text = _mask_body_text(text, excerpt.media_type)
    note = excerpt.note()
    return _Rendered(text + ("\n" + note.text if note.text else ""), note.html + _text_block(text))


def _render_html_page(excerpt: _Excerpt, options: _Options, mask_secrets: bool) -> _Rendered:
    """HTML as escaped source; with ``render_html`` rendered in an ``<iframe sandbox>`` (no scripts,
    no forms, no same-origin access) from ``srcdoc``, so nothing it holds reaches the notebook."""
    if not options.render_html:
        return _render_text(excerpt, mask_secrets)
    source = excerpt.decode()
    frame = (
        f'<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{_attr(source)}" '
        'style="width:100%;height:24em;border:1px solid #ccc;background:#fff"></iframe>'
    )
    note = excerpt.note()
    plain = f"[{excerpt.media_type}, {format_size(excerpt.total)}, rendered]"
    return _Rendered(plain + ("\n" + note.text if note.text else ""), note.html + frame)


def _image_summary(excerpt: _Excerpt) -> str:
    return f"[{excerpt.media_type}, {format_size(excerpt.total)}]"


def _render_image(excerpt: _Excerpt, options: _Options) -> _Rendered:
    """A raster image inline as a base64 ``<img>``; an image over the limit as its summary only."""
    summary = _image_summary(excerpt)
    if excerpt.truncated:
        why = f"{summary} larger than the display limit of {format_size(options.limit_bytes)}: not shown"
        return _Rendered(summary, f'<div style="{_DIM}">{_escape(why)}</div>')
    return _Rendered(summary, _img_tag(excerpt.media_type, excerpt.data, summary))


def _img_tag(media_type: str, data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img src="data:{_attr(media_type)};base64,{encoded}" alt="{_attr(alt)}" style="max-width:100%">'


def _render_svg(excerpt: _Excerpt, options: _Options, mask_secrets: bool) -> _Rendered:
    """SVG as escaped source (it can carry scripts); with ``render_html`` as an ``<img>``, where
    browsers run no script of it."""
    if not options.render_html or excerpt.truncated:
        return _render_text(excerpt, mask_secrets)
    summary = _image_summary(excerpt)
    return _Rendered(summary, _img_tag("image/svg+xml", excerpt.data, summary))


def _hexdump(data: bytes) -> str:
    """``00000000  89 50 4e 47 ...  |.PNG....|``, 16 bytes a line."""
    lines = []
    for offset in range(0, len(data), 16):
        row = data[offset : offset + 16]
        hexes = " ".join(f"{b:02x}" for b in row)
        chars = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{offset:08x}  {hexes:<47}  |{chars}|")
    return "\n".join(lines)


def _render_binary(excerpt: _Excerpt) -> _Rendered:
    kind = excerpt.media_type or "unknown type"
    summary = f"[binary {kind}, {format_size(excerpt.total)}]"
    preview = excerpt.data[:HEX_PREVIEW_BYTES]
    dump = _hexdump(preview)
    if len(preview) < excerpt.total:
        summary += f", first {len(preview)} bytes:"
    return _Rendered(f"{summary}\n{dump}", f'<div style="{_DIM}">{_escape(summary)}</div>{_text_block(dump)}')


def _parse_json(excerpt: _Excerpt) -> tuple[bool, Any]:
    """``(True, value)`` for a whole JSON body within the limit, else ``(False, None)``: a cut body
    is never parsed, and invalid, too deep or too long-numbered JSON is shown as text."""
    if excerpt.truncated:
        return False, None
    try:
        return True, json.loads(excerpt.decode())
    except (ValueError, RecursionError):
        return False, None


def _render_json(excerpt: _Excerpt, options: _Options, mask_secrets: bool) -> _Rendered:
    """JSON pretty-printed (indent 2); in HTML nested objects and arrays are ``<details open>``."""
    parsed, value = _parse_json(excerpt)
    if not parsed:
        return _render_text(excerpt, mask_secrets)
    if mask_secrets:
        value = mask_json(value)
    try:
        pretty = json.dumps(value, indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return _render_text(excerpt, mask_secrets)
    if len(pretty) > MAX_PRETTY_GROWTH * options.limit_bytes:
        return _render_text(excerpt, mask_secrets)
    return _Rendered(pretty, _json_html(value, pretty, excerpt.total))


def _tree_fits(value: Any) -> bool:
    """True when ``value`` has at most ``MAX_TREE_NODES`` values nested at most ``MAX_TREE_DEPTH`` deep."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_TREE_NODES or depth > MAX_TREE_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return True


def _json_html(value: Any, pretty: str, size: int) -> str:
    """The HTML of a JSON body: a tree of ``<details open>``, or one collapsible block when large."""
    if not _tree_fits(value):
        summary = f"JSON, {format_size(size)}"
        return f"<details open><summary>{_escape(summary)}</summary>{_text_block(pretty)}</details>"
    style = f"{_MONO};white-space:pre-wrap;word-break:break-all;margin:0.3em 0"
    return f'<div class="kclient-json" style="{style}">{_json_node(value, "", "", 0)}</div>'


def _json_node(value: Any, key: str, comma: str, depth: int) -> str:
    """One JSON value as HTML lines; ``key`` is the escaped ``"name": `` prefix (or empty)."""
    if not isinstance(value, dict | list) or not value:
        leaf = _escape(json.dumps(value, ensure_ascii=False))
        return f"<div>{key}{leaf}{comma}</div>"
    if isinstance(value, dict):
        opening, closing, count = "{", "}", f"{len(value)} key{'s' if len(value) != 1 else ''}"
        children = [(_escape(json.dumps(k, ensure_ascii=False)) + ": ", v) for k, v in value.items()]
    else:
        opening, closing, count = "[", "]", f"{len(value)} item{'s' if len(value) != 1 else ''}"
        children = [("", v) for v in value]
    last = len(children) - 1
    body = "".join(_json_node(v, k, "," if i < last else "", depth + 1) for i, (k, v) in enumerate(children))
    inner = f'<div style="padding-left:2ch">{body}</div><div>{closing}{comma}</div>'
    if depth == 0:
        return f"<div>{key}{opening}</div>{inner}"
    return f'<details open><summary>{key}{opening} <span style="{_DIM}">{count}</span></summary>{inner}</details>'


def _response_bytes(response: Response) -> bytes | None:
    """The body of ``response``, or None when it was not read (a stream)."""
    from kclient import ResponseNotReadError

    try:
        return response.content
    except ResponseNotReadError:
        return None


def _render_body(
    content: bytes | None,
    content_type: str,
    options: _Options,
    *,
    mask_secrets: bool,
    missing: str = "body not read (streamed)",
    secrets: tuple[str, ...] = (),
) -> _Rendered:
    """A body as its content type asks, never touching more than ``options.limit_bytes`` of it.

    ``mask_secrets`` masks secret fields of form and JSON bodies (for the request of ``-v``);
    ``secrets`` are masked wherever the text repeats them (a server echoing the request's
    token); ``missing`` is what is shown when ``content`` is None.
    """
    if content is None:
        note = missing
        return _Rendered(note, f'<div style="{_DIM};font-style:italic">{_escape(note)}</div>')
    if not content:
        return _EMPTY
    media_type = _media_type(content_type)
    excerpt = _Excerpt(content[: options.limit_bytes], len(content), media_type, content_charset(content_type), secrets)
    kind = _classify(media_type, excerpt.data)
    if kind == "json":
        return _render_json(excerpt, options, mask_secrets)
    if kind == "image":
        return _render_image(excerpt, options)
    if kind == "svg":
        return _render_svg(excerpt, options, mask_secrets)
    if kind == "html":
        return _render_html_page(excerpt, options, mask_secrets)
    if kind == "text":
        return _render_text(excerpt, mask_secrets)
    return _render_binary(excerpt)


# -- headers and status ------------------------------------------------------------------------------


def _render_headers(headers: Mapping[str, str], options: _Options) -> _Rendered:
    """Headers as ``Name: value`` lines and an HTML table, secret values masked."""
    rows = [(name, mask_header_value(name, value, options.masked_headers)) for name, value in headers.items()]
    if not rows:
        return _EMPTY
    text = "\n".join(f"{name}: {value}" for name, value in rows)
    cells = "".join(
        f'<tr><th style="text-align:left;padding:0 1em 0 0;vertical-align:top">{_escape(name)}</th>'
        f'<td style="text-align:left;word-break:break-all">{_escape(value)}</td></tr>'
        for name, value in rows
    )
    summary = f"Headers ({len(rows)})"
    return _Rendered(
        text,
        f"<details open><summary>{_escape(summary)}</summary>"
        f'<table style="border-collapse:collapse;margin:0.2em 0 0.5em 0;{_MONO}">{cells}</table></details>',
    )


def _status_line(response: Response) -> _Rendered:
    """``HTTP/1.1 200 OK · GET http://host/path · 12.3 ms · 1.2 KiB`` (no timing when unmeasured;
    ``· from cassette`` or ``· from cache`` for an answer that did not come from the network)."""
    status = f"{response.http_version} {response.status} {response.reason}".strip()
    content = _response_bytes(response)
    parts = [f"{response.request.method} {mask_url_text(str(response.url))}"]
    if response.elapsed > 0:
        parts.append(format_elapsed(response.elapsed))
    parts.append("streamed" if content is None else format_size(len(content)))
    if response.source is not None:
        parts.append(f"from {response.source}")
    rest = " · ".join(parts)
    color = _STATUS_COLORS.get(response.status // 100, "#555")
    return _Rendered(
        f"{status} · {rest}",
        f'<div style="{_MONO};font-weight:bold;margin-bottom:0.3em">'
        f'<span style="color:{color}">{_escape(status)}</span> · {_escape(rest)}</div>',
    )


def _request_part(request: Request, options: _Options) -> _Rendered:
    """The request of the exchange: its line, headers and body (secrets masked)."""
    line = f"{request.method} {mask_url_text(str(request.url))}"
    headers = _render_headers(request.headers, options)
    body = _render_body(
        request.content if isinstance(request.content, bytes) else None,
        request.headers.get("Content-Type", ""),
        options,
        mask_secrets=True,
        missing="body streamed (not shown)",
    )
    head = _Rendered(line, f'<div style="{_MONO};font-weight:bold;margin-bottom:0.3em">{_escape(line)}</div>')
    text = "\n".join(filter(None, [head.text, headers.text])) + (f"\n\n{body.text}" if body.text else "")
    body_html = f'<div class="kclient-body">{body.html}</div>' if body.html else ""
    return _Rendered(text, f'<div class="kclient-request">{head.html}{headers.html}{body_html}</div>')


def _response_part(response: Response, options: _Options) -> _Rendered:
    status = _status_line(response)
    headers = _render_headers(response.headers, options)
    # A server may echo the request's credentials (httpbin's /anything does): they stay masked.
    secrets = secret_values(response.request, options.masked_headers, response_headers=response.headers)
    body = _render_body(
        _response_bytes(response),
        response.headers.get("Content-Type", ""),
        options,
        mask_secrets=False,
        secrets=secrets,
    )
    text = "\n".join(filter(None, [status.text, headers.text])) + (f"\n\n{body.text}" if body.text else "")
    body_html = f'<div class="kclient-body">{body.html}</div>' if body.html else ""
    return _Rendered(text, f'<div class="kclient-response">{status.html}{headers.html}{body_html}</div>')


def _render(response: Response, options: _Options) -> _Rendered:
    part = _response_part(response, options)
    if not options.verbose:
        return _Rendered(part.text, f'<div class="kclient">{part.html}</div>')
    request = _request_part(response.request, options)
    separator = '<hr style="margin:0.5em 0">'
    return _Rendered(
        f"{request.text}\n\n{part.text}", f'<div class="kclient">{request.html}{separator}{part.html}</div>'
    )


def _select(bundle: dict[str, str], include: Iterable[str] | None, exclude: Iterable[str] | None) -> dict[str, str]:
    """The entries of ``bundle`` IPython asked for."""
    wanted = set(include) if include is not None else None
    unwanted = set(exclude) if exclude is not None else set()
    return {k: v for k, v in bundle.items() if (wanted is None or k in wanted) and k not in unwanted}


def display_bundle(
    response: Response,
    *,
    limit_bytes: int = DEFAULT_LIMIT_BYTES,
    masked_headers: Iterable[str] = frozenset(),
    render_html: bool = False,
    verbose: bool = False,
) -> dict[str, str]:
    """The mimebundle (``text/plain`` and ``text/html``) showing ``response``.

    ``limit_bytes``: how much of the body is decoded and shown (the rest is only counted);
    ``masked_headers``: header names masked besides the built-in secret ones (any case);
    ``render_html``: render an HTML body in a sandboxed iframe (and SVG as an image) instead of
    showing its source; ``verbose``: show the request (line, headers, body) above the response.
    """
    rendered = _render(response, _Options.build(limit_bytes, masked_headers, render_html, verbose))
    return {"text/plain": rendered.text, "text/html": rendered.html}


class ResponseView:
    """A response as a notebook shows it: the rich display of ``display_bundle``.

    Attributes the view does not have are read from the response (``view.status``,
    ``view.json()``), so a view stands in for its response in most code.
    """

    __slots__ = ("options", "response")

    def __init__(
        self,
        response: Response,
        *,
        limit_bytes: int = DEFAULT_LIMIT_BYTES,
        masked_headers: Iterable[str] = frozenset(),
        render_html: bool = False,
        verbose: bool = False,
    ) -> None:
        self.response = response
        self.options = _Options.build(limit_bytes, masked_headers, render_html, verbose)

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, str]:
        rendered = _render(self.response, self.options)
        return _select({"text/plain": rendered.text, "text/html": rendered.html}, include, exclude)

    def __getattr__(self, name: str) -> Any:
        if name in ResponseView.__slots__:  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.response, name)

    def __str__(self) -> str:
        return _render(self.response, self.options).text

    def __repr__(self) -> str:
        response = self.response
        url = mask_url_text(str(response.url))
        return f"<ResponseView [{response.status} {response.reason}] {response.request.method} {url}>"


# -- history -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One request sent by the magics: ``status`` and ``elapsed`` are None when it failed with ``error``."""

    method: str
    url: str | URL
    status: int | None
    elapsed: float | None
    error: str | None
    when: datetime
    #: What was sent (for ``%kclient history --http``).
    spec: RequestSpec | None = None
    #: ``Response.source``: ``"cassette"`` or ``"cache"`` for an answer not from the network.
    source: str | None = None


def _history_row(index: int, entry: HistoryEntry) -> tuple[str, ...]:
    status = str(entry.status) if entry.status is not None else "failed"
    if entry.source is not None:
        status += f" ({entry.source})"
    elapsed = format_elapsed(entry.elapsed) if entry.elapsed is not None else "-"
    error = mask_credentials(entry.error) if entry.error else ""
    return (
        str(index),
        entry.when.strftime("%H:%M:%S"),
        entry.method,
        status,
        elapsed,
        mask_url_text(str(entry.url)),
        error,
    )


def history_table(entries: Sequence[HistoryEntry]) -> dict[str, str]:
    """The mimebundle of ``%kclient history``: one row per request, URLs and errors masked."""
    if not entries:
        return {"text/plain": "no requests yet", "text/html": f'<div style="{_DIM}">no requests yet</div>'}
    header = ("#", "time", "method", "status", "elapsed", "url", "error")
    rows = [_history_row(i, entry) for i, entry in enumerate(entries, 1)]
    has_errors = any(row[-1] for row in rows)
    columns = len(header) if has_errors else len(header) - 1
    return {
        "text/plain": _plain_table(header[:columns], [r[:columns] for r in rows]),
        "text/html": _html_table(header[:columns], [r[:columns] for r in rows]),
    }


def _plain_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cell = "text-align:left;padding:0 0.8em 0 0"
    head = "".join(f'<th style="{cell}">{_escape(name)}</th>' for name in header)
    body = "".join(
        "<tr>" + "".join(f'<td style="{cell}">{_escape(value)}</td>' for value in row) + "</tr>" for row in rows
    )
    return (
        f'<table class="kclient-history" style="border-collapse:collapse;{_MONO}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
