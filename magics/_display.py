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

The body is rendered by its media type in ``_body_render``, and ``%kclient history``'s table is
``_history``; their names the other modules use are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from kclient._redact import mask_header_value as _mask_header
from kclient._redact import mask_url_text, secret_values

from ._body_render import MAX_TREE_NODES, _mask_body_text, _Options, _render_body
from ._history import HistoryEntry, history_table
from ._markup import _EMPTY, _MONO, _escape, _Rendered, format_elapsed, format_size

if TYPE_CHECKING:
    from kclient._models import Request, Response

__all__ = [
    "DEFAULT_LIMIT_BYTES",
    "HistoryEntry",
    "MAX_TREE_NODES",
    "ResponseView",
    "display_bundle",
    "format_elapsed",
    "format_size",
    "history_table",
    "mask_header_value",
    # Re-exported for the curl export, which masks a request body as the verbose view does.
    "_mask_body_text",
]

#: How much of a body is decoded and shown unless the caller says otherwise.
DEFAULT_LIMIT_BYTES = 64 * 1024

_STATUS_COLORS = {1: "#555", 2: "#1a7f37", 3: "#0969da", 4: "#bc4c00", 5: "#cf222e"}

# -- masking -----------------------------------------------------------------------------------------


def mask_header_value(name: str, value: str, extra: Iterable[str] = frozenset()) -> str:
    """``value`` of header ``name`` as it may be shown (``kclient._redact.mask_header_value``).

    Secret headers (``kclient._redact.SECRET_HEADERS`` and the names in ``extra``) are masked:
    cookies keep their names (``session=***; Path=/``), Authorization keeps a known scheme
    (``Bearer ***``), the rest become ``***``. URLs in ``Location``-like and ``Link`` headers lose
    their passwords and secret query values.
    """
    return _mask_header(name, value, extra, keep_structure=True)


def _response_bytes(response: Response) -> bytes | None:
    """The body of ``response``, or None when it was not read (a stream)."""
    from kclient import ResponseNotReadError

    try:
        return response.content
    except ResponseNotReadError:
        return None


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
