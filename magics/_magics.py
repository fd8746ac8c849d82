"""``%kclient`` and ``%%kclient``: requests from a notebook, sent by the kernel client.

``%kclient`` with a subcommand manages the kernel client (``use``, ``engines``, ``close``,
``join``, ``cancel``, ``state``, ``history``, ``run``, ``curl``, ``widget``, ``record``,
``replay``, ``cache``); with anything else it is a request in HTTPie's item syntax.
``%%kclient`` runs a cell of requests in the ``.http`` format. Request text is never
expanded by IPython (``$var``, ``{var}``): ``{{name}}`` is kclient's own interpolation, so
JSON bodies stay as typed. Every request goes through
``kclient.run``, the reentrant runner, so the magics work inside the kernel's running
loop and share connections with ``await`` code.

The class puts together its configuration, the entry point and three mixins: the subcommands
(``_subcommands``), the run of ``.http`` text (``_http_run``) and the sending of one request
(``_sending``).
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Float, Int, List, Unicode

import kclient
from kclient import HttpClientConfig

from ._display import HistoryEntry
from ._errors import KClientMagicError
from ._items import parse_line_request
from ._kernel_client import KernelClient
from ._options import USAGE, split_options
from ._recording import KernelPlugins
from ._run_table import RunReport
from ._subcommands import _Subcommands
from ._views import ClientSummary

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
class KClientMagics(Magics, _Subcommands):
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

    # -- helpers -----------------------------------------------------------------------------
    def _configure_client(self, c: HttpClientConfig) -> None:
        """The default plugins (redirects, validation off, the User-Agent), and Record and
        HttpCache while ``%kclient record``, ``replay`` or ``cache`` has them on."""
        self.plugins.configure(c)

    def shutdown(self) -> None:
        """Close every client of the magics and wait for them (on ``%unload_ext kclient``)."""
        for client in self.kernel.close_all():
            with contextlib.suppress(RuntimeError):  # inside trio: the clients finish on their own
                kclient.run(client.join())
