"""Running ``.http`` text from the magics (``_Running``, a mixin of ``KClientMagics``): a
``%%kclient`` cell or the file of ``%kclient run``, parsed whole before anything is sent, run
through a ``CollectionRun`` in its environment (``--env``, whose private values are declared
secret), all requests or the one of ``--name``, with a ``RunReport`` shown live for a file and
after the run for a cell with assertions; a failure or a failed assertion fails the cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kclient._redact import declare_secrets

from ._collection import CollectionRun, Outcome
from ._environments import Environment, load_environment
from ._errors import KClientMagicError, RequestFailed
from ._httpfile import HttpRequestTemplate, parse_http_templates
from ._options import MagicOptions
from ._run_table import RunReport
from ._sending import _Sending
from ._views import Responses, _display, _Quiet

__all__ = ["_Running"]


class _Running(_Sending):
    """How the magics run ``.http`` text; ``KClientMagics`` defines the configuration and state
    declared here."""

    env: str
    last_run: RunReport | None
    _secret_names: dict[str, str]

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
