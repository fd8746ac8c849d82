"""The request composer: method, URL, headers, a JSON / form / raw body and N concurrent copies,
sent by a "Send" button as tasks on the kernel's loop (``RequestComposer``), with the parsers of
its header and body text (``parse_headers``, ``parse_body``) that say in a ``ComposeError``
which line is wrong.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets  # type: ignore[import-untyped]

import kclient
from kclient import HttpClient, Response
from kclient._redact import mask_url_text

from .._items import add_form_field, expand_url, is_header_name
from .._spec import RequestSpec
from ._common import ComposeError, _describe_error, _ErrorArea, _guarded, _running_loop

__all__ = ["BODY_KINDS", "MAX_CONCURRENT", "METHODS", "ClientSource", "RequestComposer", "parse_body", "parse_headers"]

#: The methods the composer offers.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

#: How the composer reads its body text.
BODY_KINDS = ("JSON", "form", "raw")

#: Most concurrent copies of one request the composer sends at once.
MAX_CONCURRENT = 500


def parse_headers(text: str) -> list[tuple[str, str]]:
    """``Name: value`` lines as header pairs; blank lines and ``#`` comments are skipped."""
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not is_header_name(name):
            raise ComposeError(f"Headers, line {number}: expected Name: value, not {line.strip()!r}.")
        headers.append((name, value.strip()))
    return headers


def parse_body(text: str, kind: str, spec: RequestSpec) -> None:
    """Put the body ``text`` into ``spec`` as ``kind`` says: JSON, form (``name=value`` lines) or raw.

    Empty text (only spaces) is no body at all.
    """
    if not text.strip():
        return
    if kind == "JSON":
        try:
            spec.json = json.loads(text)
        except json.JSONDecodeError as error:
            raise ComposeError(
                f"The body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}. "
                "Choose form or raw for other bodies."
            ) from None
    elif kind == "form":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            name, equals, value = line.partition("=")
            if not equals or not name.strip():
                raise ComposeError(f"Form body, line {number}: expected name=value, not {line.strip()!r}.")
            add_form_field(spec.form, name.strip(), value.strip())
    elif kind == "raw":
        spec.content = text.encode("utf-8")
    else:
        raise ComposeError(f"The body kind is one of {', '.join(BODY_KINDS)}, not {kind!r}.")


ClientSource = HttpClient | Callable[[], HttpClient]


@dataclass
class _Batch:
    """The copies sent by one Send: how many have ended, the last response, the one passed on."""

    total: int
    finished: int = 0
    last: Response | None = None
    shown: Response | None = None


class RequestComposer(widgets.VBox):  # type: ignore[misc]
    """Method, URL, headers, a body and a "Send" button that sends ``concurrent`` copies at once.

    ``client`` is the client to use, or a function returning it (the workbench creates one on
    first use). Sending schedules one asyncio task per copy on the running loop and returns;
    each error goes to the error area. Responses go to the ``on_response`` callbacks: the first
    of a Send as soon as it arrives and, with several copies, the last one when all have ended
    (a viewer is not redrawn hundreds of times by one Send).
    """

    def __repr__(self) -> str:  # the notebook's text/plain, instead of every child widget
        return f"<RequestComposer sent {self.sent} · ok {self.succeeded} · errors {self.failed}>"

    def __init__(
        self,
        client: ClientSource | None = None,
        *,
        on_response: Callable[[Response], None] | None = None,
    ) -> None:
        self._client_source = client
        self._callbacks: list[Callable[[Response], None]] = [on_response] if on_response is not None else []
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = self.succeeded = self.failed = 0
        wide = widgets.Layout(width="100%")
        self.method = widgets.Dropdown(options=list(METHODS), value="GET", description="Method")
        self.url = widgets.Text(value="", placeholder="https://example.org/get or :8000/path", description="URL")
        self.url.layout = widgets.Layout(width="40em")
        self.headers = widgets.Textarea(
            value="", placeholder="Name: value, one a line", description="Headers", layout=wide
        )
        self.body_kind = widgets.ToggleButtons(options=list(BODY_KINDS), value="JSON", description="Body")
        self.body = widgets.Textarea(value="", placeholder='{"name": "value"}', layout=wide)
        self.concurrent = widgets.BoundedIntText(value=1, min=1, max=MAX_CONCURRENT, description="concurrent")
        self.concurrent.layout = widgets.Layout(width="12em")
        self.send_button = widgets.Button(description="Send", button_style="success", icon="paper-plane")
        self.status = widgets.HTML(value="")
        self.status.add_class("kclient-send-status")
        self.errors = _ErrorArea("kclient-send-error")
        self.send_button.on_click(_guarded(self.errors.add, self.send))
        super().__init__(
            children=[
                widgets.HBox([self.method, self.url]),
                self.headers,
                self.body_kind,
                self.body,
                widgets.HBox([self.concurrent, self.send_button, self.status]),
                self.errors.widget,
            ]
        )
        self.add_class("kclient-composer")

    def on_response(self, callback: Callable[[Response], None]) -> None:
        """Call ``callback(response)`` with the first and the last response of every Send."""
        self._callbacks.append(callback)

    @property
    def tasks(self) -> frozenset[asyncio.Task[None]]:
        """The requests still running (kept here: asyncio holds tasks only weakly)."""
        return frozenset(self._tasks)

    def build_spec(self) -> RequestSpec:
        """The request the fields describe; ``ComposeError`` says which field is wrong."""
        url = self.url.value.strip()
        if not url:
            raise ComposeError("Enter a URL, such as https://example.org/get or :8000/path.")
        spec = RequestSpec(method=self.method.value, url=expand_url(url), headers=parse_headers(self.headers.value))
        parse_body(self.body.value, self.body_kind.value, spec)
        return spec

    def _client(self) -> HttpClient:
        source = self._client_source
        if source is None:
            raise ComposeError("No client to send with: create one first.")
        return source if isinstance(source, HttpClient) else source()

    def send(self) -> list[asyncio.Task[None]]:
        """Send ``concurrent`` copies of the request; returns their tasks (none when no loop runs,
        where the requests were sent and awaited through ``kclient.run``)."""
        self.errors.clear()
        try:
            spec = self.build_spec()
            client = self._client()
        except Exception as error:
            self.errors.add(_describe_error(error))
            return []
        count = int(self.concurrent.value)
        self.sent += count
        self._show_status()
        loop = _running_loop()
        if loop is None:
            self._run_blocking(client, spec, count)
            return []
        batch = _Batch(count)
        tasks = [loop.create_task(self._exchange(client, spec, batch)) for _ in range(count)]
        for task in tasks:
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._task_done, batch))
        return tasks

    def _run_blocking(self, client: HttpClient, spec: RequestSpec, count: int) -> None:
        """No loop runs here (plain Python): the copies run together, to the end, through ``kclient.run``."""
        batch = _Batch(count)

        async def all_copies() -> None:
            await asyncio.gather(*(self._exchange(client, spec, batch) for _ in range(count)))

        try:
            kclient.run(all_copies())
        except Exception as error:  # inside trio, for one: kclient.run cannot block there
            self.failed += count
            self._show_status()
            self.errors.add(_describe_error(error))

    async def _exchange(self, client: HttpClient, spec: RequestSpec, batch: _Batch) -> None:
        try:
            response = await client.request(spec.method, spec.url, **spec.options())
        except Exception as error:
            self.failed += 1
            self._show_status()
            self.errors.add(f"{spec.method} {mask_url_text(spec.url)} failed: {_describe_error(error)}")
            self._finished(batch, None)
            return
        self.succeeded += 1
        self._show_status()
        self._finished(batch, response)

    def _finished(self, batch: _Batch, response: Response | None) -> None:
        """Count one copy of ``batch`` as ended; pass on its first response and, at the end, its last."""
        batch.finished += 1
        if response is not None:
            batch.last = response
            if batch.shown is None:
                self._deliver(batch, response)
                return
        if batch.finished == batch.total and batch.last is not None and batch.last is not batch.shown:
            self._deliver(batch, batch.last)

    def _deliver(self, batch: _Batch, response: Response) -> None:
        batch.shown = response
        for callback in list(self._callbacks):
            try:
                callback(response)
            except Exception as error:
                self.errors.add(f"Showing the response failed: {_describe_error(error)}")

    def _task_done(self, batch: _Batch, task: asyncio.Task[None]) -> None:
        """Forget a finished task; a cancellation or an error that escaped is shown, never lost."""
        self._tasks.discard(task)
        if task.cancelled():  # cancelled from outside (a cancelled cell, a kernel shutting down)
            self.failed += 1
            self._show_status()
            self.errors.add("A request's task was cancelled before it finished.")
            self._finished(batch, None)
            return
        error = task.exception()
        if error is not None:
            self.errors.add(f"A request's task failed: {_describe_error(error)}")

    def _show_status(self) -> None:
        self.status.value = (
            f'<span class="kclient-sent">sent {self.sent} · ok {self.succeeded} · errors {self.failed}</span>'
        )
