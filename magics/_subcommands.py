"""The subcommands of ``%kclient`` (``_Subcommands``, a mixin of ``KClientMagics``, each
``_do_<name>(words)``): the kernel client's lifecycle (``use``, ``engines``, ``close``, ``join``,
``cancel``, ``state``), ``widget``, ``history`` (``--http`` writes it as a ``.http`` file), ``run``
of a ``.http`` file, ``record``, ``replay`` and ``cache`` (the plugins of the kernel client), and
``curl`` (a pasted curl command, sent).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import anyio

import kclient
from kclient import Engine, HttpClient

from ._curl import parse_curl
from ._display import history_table
from ._errors import KClientMagicError
from ._http_run import _Running
from ._kernel_client import parse_settings
from ._options import MagicOptions, split_options
from ._recording import KernelPlugins
from ._views import ClientSummary, EngineTable, StatusView, _Bundle

__all__ = ["_Subcommands"]


class _Subcommands(_Running):
    """The subcommands of ``%kclient``; ``KClientMagics`` defines the configuration and state
    declared here."""

    engine: str
    plugins: KernelPlugins

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


def _no_arguments(name: str, words: list[str]) -> None:
    if words:
        raise KClientMagicError(f"%kclient {name} takes no arguments, not {' '.join(words)!r}.")
