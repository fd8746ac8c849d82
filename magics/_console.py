"""``kclient run FILE.http ...`` (also ``python -m kclient run``): ``.http`` collections as tests.

Each file runs as a ``CollectionRun`` (chained requests in order, ``??`` assertions checked),
printing a line per request as it finishes (``[3/40] ✓ login 200 12 ms``) and a summary.
Exit status: 0 when every request was sent and every assertion held, 1 when one failed, 2 when
the command or a file is wrong (unreadable, a syntax error, an unknown environment).

Options: ``--env NAME``, ``--name REQUEST`` (one request, and what it needs), ``--engine NAME``,
``--timeout SECONDS``, ``--repeat N`` (the whole run N times), ``--fail-fast`` (stop at the first
failure), ``--junit-xml PATH`` (a JUnit report: one test case per request and repetition),
``-q`` (the summary only).
"""

from __future__ import annotations

import argparse
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ._collection import CollectionRun, Outcome
from ._errors import KClientMagicError
from ._headless import HttpFile, Sender, load_http_file

__all__ = ["main"]

PASSED, FAILED, USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """The console command; returns the exit status."""
    stream = out or sys.stdout
    arguments = _parser().parse_args(argv)
    if arguments.repeat < 1:
        print("kclient run: --repeat takes a count of 1 or more", file=sys.stderr)
        return USAGE
    try:
        files = [load_http_file(path, arguments.env) for path in arguments.files]
        for file in files:
            _check_name(file, arguments.name)
    except KClientMagicError as error:
        print(f"kclient run: {error}", file=sys.stderr)
        return USAGE
    started = time.perf_counter()
    runs: list[tuple[HttpFile, int, list[Outcome]]] = []
    sender = Sender(arguments.engine, timeout=arguments.timeout)
    try:
        for repetition in range(1, arguments.repeat + 1):
            for file in files:
                outcomes = _run_file(file, sender, arguments, repetition, stream)
                runs.append((file, repetition, outcomes))
                if arguments.fail_fast and not all(outcome.passed for outcome in outcomes):
                    break
            else:
                continue
            break
    finally:
        sender.close()
    outcomes = [outcome for _, _, done in runs for outcome in done]
    print(_summary(outcomes, time.perf_counter() - started), file=stream)
    if arguments.junit_xml is not None:
        _write_junit(arguments.junit_xml, runs, arguments.repeat)
    return PASSED if all(outcome.passed for outcome in outcomes) else FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kclient", description="kclient's console commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run .http files as tests", description=__doc__.split("\n\n")[0])
    run.add_argument("files", nargs="+", type=Path, metavar="FILE.http")
    run.add_argument("--env", help="the environment (http-client.env.json beside the file)")
    run.add_argument("--name", help="run only this named request, and the requests it needs")
    run.add_argument("--engine", help="the engine (default: kclient's default engine)")
    run.add_argument("--timeout", type=float, help="each request's timeout, in seconds")
    run.add_argument("--repeat", type=int, default=1, help="run everything N times")
    run.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    run.add_argument("--junit-xml", type=Path, metavar="PATH", help="write a JUnit XML report")
    run.add_argument("-q", "--quiet", action="store_true", help="print the summary only")
    return parser


def _check_name(file: HttpFile, name: str | None) -> None:
    if name is not None and not any(template.name == name for template in file.templates):
        names = ", ".join(t.name for t in file.templates if t.name) or "no named requests"
        raise KClientMagicError(f"{file.path.name}: no request is named {name!r} (there are: {names})")


def _run_file(
    file: HttpFile, sender: Sender, arguments: argparse.Namespace, repetition: int, stream: TextIO
) -> list[Outcome]:
    selected = [t for t in file.templates if arguments.name is None or t.name == arguments.name]
    count = len(selected)
    if not arguments.quiet:
        env = f" (env {file.environment.name})" if file.environment.name else ""
        again = f", run {repetition}" if arguments.repeat > 1 else ""
        print(f"{file.path}{env}{again}", file=stream)
    done: list[Outcome] = []

    def progress(outcome: Outcome) -> None:
        done.append(outcome)
        if not arguments.quiet:
            lines = outcome.summary().replace("\n    ", "\n" + " " * 10)  # under the request's mark
            print(f"  [{len(done)}/{max(count, len(done))}] {lines}", file=stream, flush=True)

    runner = CollectionRun(
        file.templates,
        sender,
        environment=file.environment,
        folder=file.path.resolve().parent,
        on_outcome=progress,
        stop="failure" if arguments.fail_fast else "never",
    )
    runner.run(selected)
    return done


def _summary(outcomes: list[Outcome], seconds: float) -> str:
    failed = sum(not outcome.passed for outcome in outcomes)
    checks = sum(len(outcome.checks) for outcome in outcomes)
    held = checks - sum(len(outcome.failures) for outcome in outcomes)
    verdict = "all passed" if not failed else f"{len(outcomes) - failed} passed, {failed} failed"
    assertions = f", {held}/{checks} assertions held" if checks else ""
    noun = "request" if len(outcomes) == 1 else "requests"
    return f"{len(outcomes)} {noun}: {verdict}{assertions} in {seconds:.2f} s"


def _write_junit(path: Path, runs: list[tuple[HttpFile, int, list[Outcome]]], repeat: int) -> None:
    """A JUnit XML report: a test suite per file and repetition, a test case per request."""
    suites = ET.Element("testsuites", name="kclient run")
    for file, repetition, outcomes in runs:
        name = file.path.name if repeat == 1 else f"{file.path.name} [{repetition}]"
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=name,
            tests=str(len(outcomes)),
            failures=str(sum(bool(o.failures) and o.error is None for o in outcomes)),
            errors=str(sum(o.error is not None for o in outcomes)),
            time=f"{sum(o.seconds for o in outcomes):.3f}",
        )
        for outcome in outcomes:
            case = ET.SubElement(
                suite, "testcase", classname=file.path.stem, name=outcome.label, time=f"{outcome.seconds:.3f}"
            )
            if outcome.error is not None:
                ET.SubElement(case, "error", message=outcome.error).text = outcome.summary()
            elif outcome.failures:
                message = "; ".join(str(check) for check in outcome.failures)
                ET.SubElement(case, "failure", message=message).text = outcome.summary()
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
