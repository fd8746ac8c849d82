"""``.http`` files outside a notebook: what the console command and the pytest plugin share.

``load_http_file(path, env)`` reads and checks a file and its environment (from the file's
folder; private values declared secret, so every message masks them). ``Sender`` sends a
rendered request through one ``HttpClient`` (any engine) from synchronous code, with
``kclient.run``. Streams (Server-Sent Events, WebSockets) are watched live in a notebook; here
they are refused with a message that says so rather than left to run for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kclient
from kclient import HttpClient, KClientError, Response
from kclient._redact import declare_secrets, mask_url_text

from ._environments import Environment, load_environment
from ._errors import CellSyntaxError, KClientMagicError, RequestFailed
from ._httpfile import HttpRequestTemplate, parse_http_templates
from ._spec import RequestSpec

__all__ = ["HttpFile", "Sender", "load_http_file"]


@dataclass(frozen=True)
class HttpFile:
    """A checked ``.http`` file: its requests and the environment they run in."""

    path: Path
    templates: list[HttpRequestTemplate]
    environment: Environment


def load_http_file(path: Path, env: str | None) -> HttpFile:
    """Read ``path`` and its environment ``env``; ``KClientMagicError`` (a ``CellSyntaxError``
    with the line) says what is wrong, prefixed with the file's name."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as error:  # ValueError: not UTF-8
        raise KClientMagicError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from error
    try:
        templates = parse_http_templates(text)
    except CellSyntaxError as error:
        raise CellSyntaxError(f"{path.name}: {error}") from error
    environment = load_environment(path.resolve().parent, env)
    declare_secrets(environment.secrets)
    return HttpFile(path, templates, environment)


class Sender:
    """Sends rendered requests through one client (``engine``: a registered name, or the
    default engine); ``timeout`` is each request's, in seconds. ``close()`` when done."""

    def __init__(self, engine: str | None = None, *, timeout: float | None = None) -> None:
        self.client = HttpClient(engine or None, name="kclient run")
        self.timeout = timeout

    def __call__(self, spec: RequestSpec) -> Response:
        if spec.is_websocket or spec.asks_for_events:
            kind = "WebSocket sessions" if spec.is_websocket else "Server-Sent Events streams"
            raise KClientMagicError(f"{kind} are watched live in a notebook (%%kclient), not run here")
        options: dict[str, Any] = spec.options()
        if self.timeout is not None:
            options["timeout"] = self.timeout
        try:
            return kclient.run(self.client.request(spec.method, spec.url, **options))
        except KClientError as error:
            raise RequestFailed(
                f"{spec.method} {mask_url_text(spec.url)} failed: {type(error).__name__}: {error}"
            ) from error

    def close(self) -> None:
        """Close the client and wait for its connections to be released."""
        self.client.close()
        kclient.run(self.client.join())
