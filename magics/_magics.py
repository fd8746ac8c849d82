"""``%kclient`` and ``%%kclient``: requests from a notebook, sent by the kernel client.

``%kclient`` with a subcommand manages the kernel client (``use``, ``engines``, ``close``,
``join``, ``cancel``, ``state``, ``history``, ``run``, ``curl``, ``widget``, ``record``,
``replay``, ``cache``); with anything else it is a request in HTTPie's item syntax.
``%%kclient`` runs a cell of requests in the ``.http`` format. Request text is never
expanded by IPython (``$var``, ``{var}``): ``{{name}}`` is kclient's own interpolation, so
JSON bodies stay as typed. Every request goes through
``kclient.run``, the reentrant runner, so the magics work inside the kernel's running
loop and share connections with ``await`` code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Float, Int, List, Unicode
from yarl import URL

import kclient
from kclient import (
    ClientClosedError,
    Engine,
    HttpClient,
    HttpClientConfig,
    KClientError,
    Response,
    ResponseError,
)
from kclient._redact import declare_secrets, mask_url_text

from ._collection import CollectionRun, Outcome
from ._curl import parse_curl, to_curl
from ._display import HistoryEntry, ResponseView, display_bundle, history_table
from ._environments import Environment, load_environment
from ._errors import KClientMagicError, RequestFailed
from ._extract import extract
from ._httpfile import HttpRequestTemplate, parse_http_templates
from ._items import parse_line_request
from ._kernel_client import KernelClient, parse_settings
from ._options import USAGE, MagicOptions, split_options
from ._recording import KernelPlugins
from ._run_table import RunReport
from ._spec import RequestSpec
from ._views import ClientSummary, EngineTable, Responses, StatusView

__all__ = ["KClientMagics"]

#: Dispatched to ``_do_<name>(words)``; ``curl`` is taken before the line is split into words.
SUBCOMMANDS = (
    "use",
    "engines",
    "close",
    "join",
    "cancel",
    "state",
    "history",
    "run",
    "widget",
    "record",
    "replay",
    "cache",
)


@magics_class
class KClientMagics(Magics):
    """The ``%kclient`` line magic and the ``%%kclient`` cell magic (``%load_ext kclient``)."""

    engine = Unicode("", help="Engine of the kernel client; empty: kclient's default engine.").tag(config=True)
    timeout = Float(None, allow_none=True, help="Request timeout in seconds for magic requests; None: no limit.").tag(
        config=True
    )
    display_limit = Int(64 * 1024, help="Bytes of a body shown in a notebook; the rest is counted.").tag(config=True)
    masked_headers = List(
        Unicode(), help="Header names masked in displays, besides Authorization, Cookie and the like."
    ).tag(config=True)
    history_size = Int(200, help="Requests kept by %kclient history.").tag(config=True)
    stream_keep = Int(20, help="Events of a live stream shown at once (the count covers them all).").tag(config=True)
    env = Unicode(
        "", help="Environment of .http requests, from http-client.env.json and its private twin; empty: $shared only."
    ).tag(config=True)
    ws_idle = Float(
        1.0, help="Seconds a WebSocket cell waits for more after its last message is sent and answered."
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.kernel = KernelClient(lambda: self.engine, self._configure_client)
        self.history: list[HistoryEntry] = []
        #: The table of the last cell or file run (``RunReport``).
        self.last_run: RunReport | None = None
        #: Private environment values by their names: ``%kclient history --http`` writes the names.
        self._secret_names: dict[str, str] = {}
        #: Record and HttpCache on the kernel client (``%kclient record``, ``replay``, ``cache``).
        self.plugins = KernelPlugins(self._restart_kernel_client, lambda: self.kernel.current)

    # -- entry point --------------------------------------------------------------------------
    @no_var_expand
    @line_cell_magic
    def kclient(self, line: str, cell: str | None = None) -> Any:
        """Send HTTP requests and manage the kernel client (``%kclient`` alone shows it).

        Line: ``%kclient [METHOD] URL [Header:value] [param==value] [field=value] [field:=json]
        [field@file]``, or a subcommand: use, engines, close, join, cancel, state, history,
        run, curl, widget, record, replay, cache. Cell: ``%%kclient [options] [<< var]`` and requests in the
        .http format.
        """
        stripped = line.strip()
        if stripped == "curl" or stripped.startswith("curl "):
            if cell is not None:
                return self._do_curl(cell, first_line=2)
            return self._do_curl(stripped.removeprefix("curl"))
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise KClientMagicError(f"The line does not split into words: {error}.") from error
        if cell is not None:
            return self._cell(words, cell)
        if not words:
            return ClientSummary(self.kernel.get(), self.kernel.settings)
        if words[0] in SUBCOMMANDS:
            handler: Callable[[list[str]], Any] = getattr(self, f"_do_{words[0]}")
            return handler(words[1:])
        options = split_options(words)
        spec = parse_line_request(options.words, form=options.form)
        return self._send(spec, options)

    def _cell(self, words: list[str], cell: str) -> Any:
        options = split_options(words)
        if options.words:
            raise KClientMagicError(
                f"%%kclient takes options on its line, not {' '.join(options.words)!r}: the requests go in the cell. "
                + USAGE
            )
        # Line numbers count the %%kclient line, as the notebook shows the cell.
        return self._send_http_text("\n" + cell, options)

    # -- subcommands -------------------------------------------------------------------------
    def _do_use(self, words: list[str]) -> ClientSummary:
        if not words:
            raise KClientMagicError("%kclient use ENGINE [setting=value ...]: name an engine (see %kclient engines).")
        given = self._user_ns().get(words[0]) if words[0].isidentifier() else None
        if isinstance(given, (HttpClient, Engine)):  # %kclient use my_client: a client or engine of the notebook
            if len(words) > 1:
                raise KClientMagicError(f"{words[0]} is an object of the notebook: configure it there, not here.")
            client = self.kernel.adopt(given if isinstance(given, HttpClient) else HttpClient(given))
        else:
            client = self.kernel.use(words[0], parse_settings(words[1:]))
        return ClientSummary(client, self.kernel.settings)

    def _do_engines(self, words: list[str]) -> EngineTable:
        _no_arguments("engines", words)
        return EngineTable(kclient.engines.registry())

    def _do_close(self, words: list[str]) -> StatusView:
        _no_arguments("close", words)
        client = self.kernel.get()
        client.close()
        return StatusView(client)

    def _do_join(self, words: list[str]) -> StatusView:
        options = split_options(words)
        _no_arguments("join [--timeout S]", options.words)
        client = self.kernel.get()

        async def join() -> None:
            with anyio.fail_after(options.timeout if options.timeout is not None else float("inf")):
                await client.join()

        try:
            kclient.run(join())
        except TimeoutError as error:
            raise KClientMagicError(
                f"The kernel client did not finish within {options.timeout} s: it is {client.state.name} "
                f"with {client.status().in_flight} request(s) in flight. "
                "%kclient cancel halts them; an ACTIVE client waits for %kclient close."
            ) from error
        return StatusView(client)

    def _do_cancel(self, words: list[str]) -> StatusView:
        _no_arguments("cancel", words)
        client = self.kernel.get()
        client.cancel()
        return StatusView(client)

    def _do_state(self, words: list[str]) -> StatusView:
        _no_arguments("state", words)
        return StatusView(self.kernel.get())

    def _do_widget(self, words: list[str]) -> Any:
        """The widgets workbench on the kernel client (see ``kclient.widgets``)."""
        _no_arguments("widget", words)
        from ._widgets import workbench_for_magics

        return workbench_for_magics(self)

    def _do_history(self, words: list[str]) -> Any:
        """``%kclient history [N]``: the last requests; ``--http [FILE.http]``: them as a ``.http``
        file (shown, or written), with secrets as ``{{variables}}``."""
        as_http = "--http" in words
        words = [word for word in words if word != "--http"]
        path = words.pop() if as_http and words and not words[-1].isdigit() else None
        count = len(self.history)
        if words:
            if len(words) > 1 or not words[0].isdigit():
                raise KClientMagicError(
                    "%kclient history [N] [--http [FILE.http]]: N is how many of the last requests to show."
                )
            count = int(words[0])
        entries = self.history[-count:] if count else []
        if not as_http:
            return _Bundle(history_table(entries))
        from ._http_export import history_as_http

        text = history_as_http(entries, masked_headers=self.masked_headers, secret_names=self._secret_names)
        if path is None:
            return _Bundle({"text/plain": text})
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as error:
            raise KClientMagicError(f"Cannot write {path}: {error.strerror or error}.") from error
        return _Bundle({"text/plain": f"{len(entries)} request(s) written to {path}: run it with %kclient run {path}"})

    def _do_run(self, words: list[str]) -> Any:
        """Run a ``.http`` file (``--env NAME``, ``--name REQUEST``) with a live table of outcomes."""
        options = split_options(words)
        if len(options.words) != 1:
            raise KClientMagicError("%kclient run FILE.http [--env NAME] [--name REQUEST]: name one .http file.")
        path = Path(options.words[0])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, ValueError) as error:  # ValueError: a path with NUL, or a file that is not UTF-8
            raise KClientMagicError(f"Cannot read {path}: {getattr(error, 'strerror', None) or error}.") from error
        return self._send_http_text(text, options, path.resolve().parent, title=path.name)

    def _do_record(self, words: list[str]) -> Any:
        """``%kclient record FILE [--mode M] [--match PARTS]`` (see ``KernelPlugins.record``)."""
        return _Bundle({"text/plain": self.plugins.record(words)})

    def _do_replay(self, words: list[str]) -> Any:
        """``%kclient replay FILE [--match PARTS]``: answers from the cassette only."""
        return _Bundle({"text/plain": self.plugins.replay(words)})

    def _do_cache(self, words: list[str]) -> Any:
        """``%kclient cache memory|FOLDER``, ``clear``, ``off`` (see ``KernelPlugins.cache``)."""
        return _Bundle({"text/plain": self.plugins.cache(words)})

    def _restart_kernel_client(self) -> HttpClient:
        """A new kernel client of the same engine and settings (the configure block changed)."""
        current = self.kernel.current
        engine = current.engine.name if current is not None else (self.engine or None)
        return self.kernel.use(engine, self.kernel.settings)

    def _environment(self, options: MagicOptions, folder: Path) -> Environment:
        """The environment of ``.http`` requests (``--env``, else ``%config KClientMagics.env``) from
        ``folder``'s files; its private values are declared secret, so every display masks them."""
        environment = load_environment(folder, options.env or self.env or None)
        declare_secrets(environment.secrets)
        secrets = set(environment.secrets)
        for name, value in environment.variables.items():
            if isinstance(value, str) and value in secrets:
                self._secret_names[value] = name
        return environment

    def _do_curl(self, command: str, *, first_line: int = 0) -> Any:
        """Send a curl command (as copied with the browser's "Copy as cURL"); its text is parsed
        as a shell would, so it is never split into the magic's own options."""
        text = command.strip()
        if not text:
            raise KClientMagicError("%kclient curl 'curl https://...': give the curl command, quoted.")
        try:
            words = shlex.split(text)
        except ValueError:
            words = []
        if len(words) == 1 and words[0].lstrip().startswith("curl"):  # the whole command quoted as one word
            text = words[0]
        return self._send(parse_curl(text, first_line=first_line), MagicOptions())

    # -- sending -----------------------------------------------------------------------------
    def _send_http_text(self, text: str, options: MagicOptions, folder: Path | None = None, *, title: str = "") -> Any:
        """Run the requests of ``.http`` text (a cell, or a file for ``%kclient run`` when ``title``
        names it) through a ``CollectionRun``: chained and checked; a file's table is shown live,
        a cell's after it ran when it has assertions."""
        templates = parse_http_templates(text)  # the whole cell is checked before anything is sent
        folder = folder or Path.cwd()
        environment = self._environment(options, folder)
        selected = _selected(templates, options.name)
        if not options.sends:  # --curl alone: print the commands, send nothing
            for template in selected:
                self._send(template.render(self._user_ns(), environment=environment), options, capture=False)
            return None
        report = RunReport(title or "cell", len(selected))
        # A file's table is live (it grows as requests finish); a cell's is shown once it ran,
        # above its responses, when the cell has assertions.
        handle = _display(report, live=True) if title else None

        def shown(outcome: Outcome) -> None:
            report.append(outcome)
            if handle is not None:
                handle.update(report)

        runner = CollectionRun(
            templates,
            lambda spec: self._send(spec, options, capture=False),
            namespace=self._user_ns(),
            environment=environment,
            folder=folder,
            store=self._user_ns().__setitem__,
            on_outcome=shown,
            stop="never" if title else "error",
        )
        runner.run(selected)
        self.last_run = report
        if title:
            return self._finish_run(report, options)
        if any(outcome.template.checks for outcome in report):
            _display(report)
        failed = next((outcome.exception for outcome in report if outcome.exception is not None), None)
        if failed is not None:
            raise failed
        results = [item.response if isinstance(item, _Quiet) else item for item in (o.value for o in report)]
        value: Any = results[0] if len(results) == 1 else Responses(results, self.response_bundle)
        self._capture(value, options)
        _raise_for_checks(report)
        return value

    def _finish_run(self, report: RunReport, options: MagicOptions) -> RunReport | None:
        """The report of ``%kclient run`` (already on screen: the cell's result is not shown
        again); a failure raises once the table is complete."""
        self._capture(report, options)
        if not report.passed:
            lines = "\n".join(outcome.summary() for outcome in report.failed)
            raise RequestFailed(f"{report.headline()}\n{lines}")
        return None

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

    def _configure_client(self, c: HttpClientConfig) -> None:
        """The default plugins (redirects, validation off, the User-Agent), and Record and
        HttpCache while ``%kclient record``, ``replay`` or ``cache`` has them on."""
        self.plugins.configure(c)

    def _display_options(self, options: MagicOptions | None = None) -> dict[str, Any]:
        return {
            "limit_bytes": self.display_limit,
            "masked_headers": frozenset(name.lower() for name in self.masked_headers),
            "render_html": bool(options and options.html),
        }

    def response_bundle(self, response: Response) -> dict[str, str]:
        """The display of ``response`` in a notebook (IPython's formatter for every Response)."""
        return display_bundle(response, **self._display_options())

    def shutdown(self) -> None:
        """Close every client of the magics and wait for them (on ``%unload_ext kclient``)."""
        for client in self.kernel.close_all():
            with contextlib.suppress(RuntimeError):  # inside trio: the clients finish on their own
                kclient.run(client.join())


class _Quiet:
    """A response already displayed (``-v``): the cell's result shows nothing more, and
    ``<< var`` and ``_`` still get the response."""

    def __init__(self, response: Response) -> None:
        self.response = response

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": ""}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.response, name)


class _Bundle:
    """A ready mimebundle, displayed as it is."""

    def __init__(self, bundle: dict[str, str]) -> None:
        self._bundle = bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return self._bundle

    def __repr__(self) -> str:
        return self._bundle.get("text/plain", "")


def _display(view: Any, *, live: bool = False) -> Any:
    """Show ``view``; with ``live``, return the handle that updates it in place."""
    from IPython.display import display

    return display(view, display_id=live or None)  # type: ignore[no-untyped-call]


def _selected(templates: list[HttpRequestTemplate], name: str | None) -> list[HttpRequestTemplate]:
    """The requests to run: all, or the one ``--name`` names (what it needs runs first)."""
    if name is None:
        return templates
    found = [template for template in templates if template.name == name]
    if not found:
        names = ", ".join(template.name for template in templates if template.name) or "no named requests"
        raise KClientMagicError(f"--name {name}: no request is named {name!r} (there are: {names}).")
    return found


def _raise_for_checks(report: RunReport) -> None:
    """A failed assertion fails the cell, once its table shows every outcome."""
    if not report.passed:
        lines = "\n".join(str(check) for outcome in report for check in outcome.failures)
        raise RequestFailed(f"{report.headline()}\n{lines}")


def _no_arguments(name: str, words: list[str]) -> None:
    if words:
        raise KClientMagicError(f"%kclient {name} takes no arguments, not {' '.join(words)!r}.")
