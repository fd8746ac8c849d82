"""``RequestSpec``: one request as the magics parsed it, before it is sent.

Every way of writing a request (HTTPie items on a ``%kclient`` line, a ``.http`` cell, a
curl command) produces a ``RequestSpec``; it is sent with ``client.request(spec.method,
spec.url, **spec.options())`` and printed back as curl with ``to_curl(spec)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["NO_JSON", "RequestSpec"]


class _NoJson:
    """The absence of a JSON body (``None`` is a valid JSON body: ``null``)."""

    def __repr__(self) -> str:
        return "NO_JSON"


NO_JSON: Any = _NoJson()


@dataclass
class RequestSpec:
    """A request to send: method, URL, headers, query parameters and at most one body.

    Bodies: ``json`` (any JSON value; ``NO_JSON`` when absent), ``form`` (urlencoded
    fields), ``files`` (multipart parts, with ``form`` fields beside them) or ``content``
    (raw bytes). ``name`` is the ``# @name`` of a ``.http`` request; ``line`` the 1-based
    line of the cell where it starts (0 for a line magic).
    """

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    json: Any = NO_JSON
    form: dict[str, str | list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    content: bytes | None = None
    name: str | None = None
    line: int = 0

    @property
    def has_json(self) -> bool:
        return self.json is not NO_JSON

    @property
    def is_websocket(self) -> bool:
        """A ``WEBSOCKET`` request (JetBrains' method), or a ``ws://`` / ``wss://`` URL."""
        return self.method == "WEBSOCKET" or self.url.startswith(("ws://", "wss://"))

    @property
    def asks_for_events(self) -> bool:
        """The request's ``Accept`` is ``text/event-stream``: its answer is a stream of events."""
        return any(
            name.lower() == "accept" and value.partition(";")[0].strip().lower() == "text/event-stream"
            for name, value in self.headers
        )

    def options(self) -> dict[str, Any]:
        """Keyword options for ``client.request(method, url, **options)``."""
        options: dict[str, Any] = {}
        if self.headers:
            options["headers"] = list(self.headers)
        if self.params:
            options["params"] = list(self.params)
        if self.has_json:
            options["json"] = self.json
        elif self.files:
            options["files"] = dict(self.files)
            if self.form:
                options["data"] = dict(self.form)
        elif self.form:
            options["data"] = dict(self.form)
        elif self.content is not None:
            options["content"] = self.content
        return options
