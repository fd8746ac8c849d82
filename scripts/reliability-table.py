"""Print docs/reliability.md's table from a report of ``pytest -m reliability --reliability-report=PATH``.

Usage: ``python scripts/reliability-table.py reliability.json``

One row per scenario (in the order the report first names them), one column per engine (in the
same order), and an "all engines" column for the tests that run without an engine (engine "-").
A cell merges the scenario's tests on that engine over both backends:

* ``✅ ProtocolError``: passed on every backend it ran on (the notes the tests recorded, joined);
* ``✅ ReadError (asyncio only; trio: skip)``: passed on some backends, skipped on the others;
* ``❌ xfail: <reason>``: a known bug (strict xfail); ``❌ failed``: a failure;
* ``skip: <reason>``: skipped everywhere; ``—``: not run.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: The column of the tests that have no engine (engine "-" in the report).
ALL_ENGINES = "all engines"
#: The longest reason shown in a cell; longer ones are cut with an ellipsis.
REASON_LENGTH = 90
#: What tests/engines/conftest.py puts before an engine_bug's reason: "Httpx bug: ", "Httpx bug on trio: ".
_BUG_PREFIX = re.compile(r"^\S+ bug(?: on \S+)?: ")


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _short(reason: str) -> str:
    """The reason without the conftest's "<Engine> bug: " prefix, cut to ``REASON_LENGTH``."""
    reason = " ".join(_BUG_PREFIX.sub("", reason).split())
    return reason if len(reason) <= REASON_LENGTH else reason[: REASON_LENGTH - 1].rstrip() + "…"


def _backend_outcome(entries: Sequence[dict[str, Any]]) -> str:
    """One backend's outcome: failed beats xfailed beats passed beats skipped."""
    outcomes = {e["outcome"] for e in entries}
    for outcome in ("failed", "xfailed", "passed", "skipped"):
        if outcome in outcomes:
            return outcome
    raise ValueError(f"unknown outcomes {sorted(outcomes)}")


def cell(entries: Sequence[dict[str, Any]]) -> str:
    """The text of one (scenario, engine) cell from that pair's report entries."""
    if not entries:
        return "—"
    backends: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:  # a test without an async backend ("-") ran synchronously
        backends.setdefault(entry["backend"] if entry["backend"] != "-" else "sync", []).append(entry)
    outcomes = {backend: _backend_outcome(group) for backend, group in backends.items()}

    def named(outcome: str) -> list[str]:
        return [b for b, o in outcomes.items() if o == outcome]

    def notes(outcome: str) -> str:
        return ", ".join(_unique(n for e in entries if e["outcome"] == outcome for n in e["notes"]))

    def reasons(outcome: str) -> str:
        return "; ".join(_unique(_short(e["reason"]) for e in entries if e["outcome"] == outcome))

    def on(backend_names: list[str]) -> str:
        """ " on trio" when other backends ran (were not skipped) and fared differently; else ""."""
        ran = [b for b, o in outcomes.items() if o != "skipped"]
        return "" if len(backend_names) >= len(ran) else f" on {', '.join(backend_names)}"

    if named("failed"):
        text = f"❌ failed{on(named('failed'))}"
        reason = reasons("failed")
        return f"{text}: {reason}" if reason else text
    if named("xfailed"):
        seen = notes("xfailed")
        text = f"❌ xfail{on(named('xfailed'))}" + (f" ({seen})" if seen else "") + f": {reasons('xfailed')}"
        if named("passed"):
            text = f"✅ {', '.join(named('passed'))}; {text}"
        return text
    if named("passed"):
        text = " ".join(part for part in ("✅", notes("passed")) if part)
        skipped = named("skipped")
        if skipped:
            text += f" ({', '.join(named('passed'))} only; {', '.join(skipped)}: skip)"
        return text
    return f"skip: {reasons('skipped')}"


def table(report: Sequence[dict[str, Any]]) -> str:
    """The Markdown table of a report (the list ``tests/conftest.py`` writes)."""
    scenarios = _unique(e["scenario"] for e in report)
    engines = _unique(e["engine"] for e in report if e["engine"] != "-")
    columns = [*engines, *([ALL_ENGINES] if any(e["engine"] == "-" for e in report) else [])]
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in report:
        column = ALL_ENGINES if entry["engine"] == "-" else entry["engine"]
        by_pair.setdefault((entry["scenario"], column), []).append(entry)

    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [row(["Scenario", *columns]), row(["---"] * (len(columns) + 1))]
    lines += [row([s, *(cell(by_pair.get((s, c), [])) for c in columns)]) for s in scenarios]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    report = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
