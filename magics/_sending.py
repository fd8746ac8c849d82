"""Sending one request of the magics (``_Sending``, a mixin of ``KClientMagics``): through the
kernel client or the client of ``--engine``, as curl with ``--curl``, live for Server-Sent Events
and WebSockets, then displayed (``-v``, ``--html``), extracted (``-e``), captured (``<< var``,
``# @name``) and recorded in the history; a failure becomes one short ``RequestFailed``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from yarl import URL

import kclient
from kclient import ClientClosedError, HttpClient, KClientError, Response, ResponseError
from kclient._redact import mask_url_text

from ._curl import to_curl
from ._display import HistoryEntry, ResponseView, display_bundle
from ._errors import KClientMagicError, RequestFailed
from ._extract import extract
from ._kernel_client import KernelClient
from ._options import MagicOptions
from ._spec import RequestSpec
from ._views import _display, _Quiet

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["_Sending"]


class _Sending:
    """How the magics send a request; ``KClientMagics`` defines the configuration and state
    declared here."""

    shell: InteractiveShell | None
    kernel: KernelClient
    history: list[HistoryEntry]
    timeout: float | None
    display_limit: int
    masked_headers: list[str]
    history_size: int
    stream_keep: int
    ws_idle: float

    # -- sending -----------------------------------------------------------------------------
    def _send(self, spec: RequestSpec, options: MagicOptions, *, capture: bool = True) -> Any:
        if options.curl:
            print(self._curl(spec, options))
            if not options.sends:
                return None
        if spec.is_websocket:
            return self._websocket(spec, options, capture=capture)
        if options.stream or spec.asks_for_events:
            return self._watch(spec, options, capture=capture)
        response = self._exchange(self._client(options), spec, options)
        if spec.name:
            self._user_ns()[spec.name] = response
        value: Any = response
        if options.verbose or options.html:  # a display of its own: the exchange, or HTML rendered
            _display(ResponseView(response, verbose=options.verbose, **self._display_options(options)))
            value = _Quiet(response)
        if options.extract is not None:
            try:
                value = extract(response.json(), options.extract)
            except KClientError as error:  # the body is not JSON
                raise KClientMagicError(f"-e {options.extract}: {error}") from error
        return self._capture(value, options) if capture else value

    def _client(self, options: MagicOptions) -> HttpClient:
        """The client a request goes through: the kernel client, or the one of ``--engine``."""
        return self.kernel.for_engine(options.engine) if options.engine else self.kernel.get()

    def _curl(self, spec: RequestSpec, options: MagicOptions) -> str:
        """``spec`` as a curl command; a /path is resolved against the client's base URL (curl needs it whole)."""
        if spec.url.startswith("/"):  # only then is a client needed (made on first use)
            base = self._client(options).base_url
            if base is not None:
                spec = dataclasses.replace(spec, url=str(base.join(URL(spec.url))))
        masked = None if options.show_secrets else frozenset(self.masked_headers)
        return to_curl(spec, masked=masked, mask_secrets=not options.show_secrets)

    def _exchange(self, client: HttpClient, spec: RequestSpec, options: MagicOptions) -> Response:
        request_options = self._request_options(spec, options)
        if not options.follow:
            request_options["follow_redirects"] = False
        started = datetime.datetime.now()
        try:
            response = kclient.run(client.request(spec.method, spec.url, **request_options))
        except KClientError as error:
            raise self._failed(client, spec, started, error) from error
        self._record(spec, started, response, None)
        if options.check and not response.is_success:
            try:
                response.raise_for_status()
            except ResponseError as error:
                raise RequestFailed(f"--check: {error}") from error
        return response

    def _watch(self, spec: RequestSpec, options: MagicOptions, *, capture: bool) -> Any:
        """A Server-Sent Events stream shown live; its ``EventLog`` is the result."""
        from ._live import watch_events

        return self._live(
            spec,
            options,
            capture,
            lambda client: watch_events(
                client, spec.method, spec.url, self._request_options(spec, options), keep=self.stream_keep
            ),
        )

    def _websocket(self, spec: RequestSpec, options: MagicOptions, *, capture: bool) -> Any:
        """A WebSocket session run live (``WEBSOCKET`` or a ``ws://`` URL); its ``MessageLog`` is the result."""
        from ._live_ws import split_messages, watch_websocket

        messages = split_messages(spec.content)
        if spec.has_json:  # a line's JSON items: one message
            messages = [(False, json.dumps(spec.json, ensure_ascii=False))]
        request_options = {
            name: value
            for name, value in self._request_options(spec, options).items()
            if name not in ("json", "content", "data", "files")
        }
        return self._live(
            spec,
            options,
            capture,
            lambda client: watch_websocket(
                client, spec.url, request_options, messages, keep=self.stream_keep, idle=self.ws_idle
            ),
        )

    def _live(self, spec: RequestSpec, options: MagicOptions, capture: bool, watch: Callable[[HttpClient], Any]) -> Any:
        """A stream shown live by ``watch(client)``: a failure recorded and shortened, the log kept
        under the request's ``# @name`` and captured."""
        client = self._client(options)
        started = datetime.datetime.now()
        try:
            log = watch(client)
        except KClientError as error:
            raise self._failed(client, spec, started, error) from error
        self._record(spec, started, None, None)
        if spec.name:
            self._user_ns()[spec.name] = log
        return self._capture(log, options) if capture else log

    def _request_options(self, spec: RequestSpec, options: MagicOptions) -> dict[str, Any]:
        """The spec's options, and the timeout of the line (else of the magics' configuration)."""
        request_options = spec.options()
        timeout = options.timeout if options.timeout is not None else self.timeout
        if timeout is not None:
            request_options["timeout"] = timeout
        return request_options

    def _failed(
        self, client: HttpClient, spec: RequestSpec, started: datetime.datetime, error: KClientError
    ) -> RequestFailed:
        """The short error of a failed request, recorded in the history."""
        self._record(spec, started, None, error)
        if isinstance(error, ClientClosedError):
            return RequestFailed(
                f"The kernel client is {client.state.name}: %kclient use ENGINE (or %kclient use "
                f"{client.engine.name}) creates a new one."
            )
        return RequestFailed(f"{spec.method} {mask_url_text(spec.url)} failed: {type(error).__name__}: {error}")

    def _capture(self, value: Any, options: MagicOptions) -> Any:
        if options.capture is not None:
            self._user_ns()[options.capture] = value.response if isinstance(value, _Quiet) else value
        return value

    def _record(
        self, spec: RequestSpec, when: datetime.datetime, response: Response | None, error: Exception | None
    ) -> None:
        self.history.append(
            HistoryEntry(
                method=spec.method,
                url=str(response.url) if response is not None else spec.url,
                status=response.status if response is not None else None,
                elapsed=response.elapsed if response is not None else None,
                error=f"{type(error).__name__}: {error}" if error is not None else None,
                when=when,
                spec=spec,
                source=response.source if response is not None else None,
            )
        )
        del self.history[: -self.history_size or None]

    # -- helpers -----------------------------------------------------------------------------
    def _user_ns(self) -> dict[str, Any]:
        if self.shell is None:
            raise KClientMagicError("The kclient magics run in an IPython shell: %load_ext kclient.")
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def _display_options(self, options: MagicOptions | None = None) -> dict[str, Any]:
        return {
            "limit_bytes": self.display_limit,
            "masked_headers": frozenset(name.lower() for name in self.masked_headers),
            "render_html": bool(options and options.html),
        }

    def response_bundle(self, response: Response) -> dict[str, str]:
        """The display of ``response`` in a notebook (IPython's formatter for every Response)."""
        return display_bundle(response, **self._display_options())
