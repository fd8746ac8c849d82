"""A body rendered by its media type, in plain text and HTML, never touching more than the
display limit of it: ``_classify`` says what it is (JSON, raster image, SVG, HTML, text or
binary, sniffed when the type says nothing), and JSON is pretty-printed as a collapsible tree,
raster images are inlined, SVG and HTML are shown as escaped source unless asked to render
(then only as an ``<img>`` or in a sandboxed ``<iframe>``), text is decoded with its charset
and binary data gets a hex preview; secrets of the exchange are masked in what is shown.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kclient._charset import content_charset, decode_text, is_utf8_start
from kclient._redact import declared_secrets, mask_form, mask_json, mask_json_text, scrub

from ._markup import _DIM, _EMPTY, _MONO, _PRE_STYLE, _attr, _escape, _Rendered, format_size

__all__ = ["HEX_PREVIEW_BYTES", "INLINE_IMAGE_TYPES", "MAX_PRETTY_GROWTH", "MAX_TREE_DEPTH", "MAX_TREE_NODES"]

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


# -- masking -----------------------------------------------------------------------------------------


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
