"""``RunReport``: the table of a ``.http`` run, shown live while it runs and kept as its result.

One row per request as it finishes: the request (its ``# @name``, else method and URL), the
status, the time, the assertions (``3/3``, or each failed one with expected and actual,
masked), and notes (run first because another request needed it, where the body was saved).
"""

from __future__ import annotations

import html
from typing import Any

from ._collection import Outcome
from ._display import format_elapsed

__all__ = ["RunReport"]


class RunReport(list[Outcome]):
    """The outcomes of a run, in the order the requests ran; ``total`` is how many were asked for."""

    def __init__(self, title: str, total: int) -> None:
        super().__init__()
        self.title = title
        self.total = total

    @property
    def passed(self) -> bool:
        return all(outcome.passed for outcome in self)

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self if not outcome.passed]

    @property
    def responses(self) -> list[Any]:
        """The responses (``None`` for requests that failed), in order."""
        return [outcome.response for outcome in self]

    def headline(self) -> str:
        checks = sum(len(outcome.checks) for outcome in self)
        failed_checks = sum(len(outcome.failures) for outcome in self)
        noun = "request" if max(len(self), self.total) == 1 else "requests"
        running = f"{len(self)}/{self.total} {noun}" if len(self) < self.total else f"{len(self)} {noun}"
        verdict = "passed" if self.passed else f"{len(self.failed)} failed"
        assertions = f", {checks - failed_checks}/{checks} assertions" if checks else ""
        return f"{self.title}: {running}, {verdict}{assertions}"

    def __repr__(self) -> str:
        return "\n".join([self.headline(), *(outcome.summary() for outcome in self)])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = "".join(_row(outcome) for outcome in self)
        table = (
            "<table class='kclient-run'><thead><tr><th></th><th>request</th><th>status</th><th>time</th>"
            f"<th>assertions</th><th>notes</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        return {"text/plain": repr(self), "text/html": f"<strong>{_e(self.headline())}</strong>{table}"}


def _row(outcome: Outcome) -> str:
    mark = "✓" if outcome.passed else "✗"
    color = "#1a7f37" if outcome.passed else "#cf222e"
    status = "" if outcome.status is None else str(outcome.status)
    checks = ""
    if outcome.checks:
        passed = len(outcome.checks) - len(outcome.failures)
        checks = f"{passed}/{len(outcome.checks)}" + "".join(f"<br>{_e(str(check))}" for check in outcome.failures)
    notes = []
    if outcome.needed_by:
        notes.append(f"run first: {outcome.needed_by} needs it")
    if outcome.saved is not None:
        notes.append(f"saved to {outcome.saved.name}")
    if outcome.error:
        notes.append(outcome.error)
    return (
        f"<tr><td style='color:{color}'>{mark}</td><td><code>{_e(outcome.label)}</code></td><td>{status}</td>"
        f"<td>{format_elapsed(outcome.seconds)}</td><td>{checks}</td><td>{'<br>'.join(map(_e, notes))}</td></tr>"
    )


def _e(text: str) -> str:
    return html.escape(text, quote=False)
