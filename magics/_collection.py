"""Running a ``.http`` collection: requests in order, chained, checked; shared by every runner.

``%%kclient`` cells, ``%kclient run FILE.http``, the console command (``kclient run``) and the
pytest plugin (``-p kclient.http``) all run requests through ``CollectionRun``:

* each request runs once per run, in file order, with ``{{...}}`` looked up in the answers and
  captures of this run first, then the caller's namespace;
* a request that uses a named request of the collection not yet run (``{{login.response...}}``)
  runs that one first, and its outcome says so (``needed_by``); a request that needs one that
  failed fails without being sent; cycles (``a`` needs ``b`` needs ``a``) are refused before
  anything is sent;
* its ``??`` assertions are checked, its ``# @capture`` values stored and its ``>>`` save written
  (next to the ``.http`` file; ``>>`` never overwrites: ``out.json`` becomes ``out-1.json``).

A failure to render or send is the outcome's ``error`` (with the exception kept); a failed
assertion is a ``CheckResult`` that did not pass. ``stop`` says when a run stops early.
"""

from __future__ import annotations

import time
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from kclient._redact import mask_url_text, secret_values

from ._assertions import CheckResult, evaluate, response_field
from ._environments import Environment
from ._errors import CellSyntaxError, KClientMagicError
from ._httpfile import HttpRequestTemplate
from ._spec import RequestSpec

__all__ = ["CollectionRun", "Outcome", "check_cycles"]

#: When a run stops before its last request: never, at a request that could not be sent, or at
#: any failure (an assertion too).
Stop = Literal["never", "error", "failure"]


@dataclass
class Outcome:
    """What became of one request of a run."""

    template: HttpRequestTemplate
    spec: RequestSpec | None = None
    #: The response (``None`` when the request failed, or for a stream, whose log is ``value``).
    response: Any = None
    #: What the request produced for its caller: the response, or a stream's log.
    value: Any = None
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None
    exception: BaseException | None = None
    #: The request that needed this one run first (``{{this.response...}}``), if any.
    needed_by: str | None = None
    saved: Path | None = None
    seconds: float = 0.0

    @property
    def label(self) -> str:
        """The request's ``# @name``, else its method and URL (as sent, masked) and its line."""
        if self.template.name:
            return self.template.name
        if self.spec is not None:
            return f"{self.spec.method} {mask_url_text(self.spec.url)} (line {self.template.line})"
        url = "".join(part if isinstance(part, str) else str(part) for part in self.template.url[0].parts)
        return f"{self.template.method} {url} (line {self.template.line})"

    @property
    def passed(self) -> bool:
        return self.error is None and all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.passed]

    @property
    def status(self) -> int | None:
        return getattr(self.response, "status", None)

    def summary(self) -> str:
        """One line: ✓/✗, the label, the status and time, and what failed."""
        mark = "✓" if self.passed else "✗"
        status = f" {self.status}" if self.status is not None else ""
        first = f" (run first: {self.needed_by} needs it)" if self.needed_by else ""
        line = f"{mark} {self.label}{status} {self.seconds * 1000:.0f} ms{first}"
        if self.error is not None:
            line += f": {self.error}"
        for check in self.failures:
            line += f"\n    {check}"
        return line


def check_cycles(templates: Iterable[HttpRequestTemplate]) -> None:
    """Refuse a collection whose named requests need each other in a circle (``CellSyntaxError``).

    A depth-first walk with its own stack: a chain of thousands of requests is no recursion.
    """
    named = {template.name: template for template in templates if template.name}
    needs = {name: sorted(template.references() & named.keys()) for name, template in named.items()}
    done: set[str] = set()
    for root, first in needs.items():
        if root in done:
            continue
        path, on_path = [root], {root}
        stack: list[Iterator[str]] = [iter(first)]
        while stack:
            other = next(stack[-1], None)
            if other is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
            elif other in on_path:
                cycle = " -> ".join([*path[path.index(other) :], other])
                template = named[path[-1]]
                raise CellSyntaxError(
                    f"requests that need each other's answers cannot run: {cycle}",
                    template.line,
                    template.url[0].source,
                )
            elif other not in done:
                path.append(other)
                on_path.add(other)
                stack.append(iter(needs[other]))


class CollectionRun:
    """One run of a collection's requests (see the module docstring).

    ``send(spec)`` sends one request and returns what it produced (a ``Response``, or for a
    stream its log); ``namespace`` is where ``{{names}}`` not answered in this run are looked
    up; ``store(name, value)``, when given, is told each named answer and capture (the
    notebook's variables). ``on_outcome`` is called after each request (a live table).
    """

    def __init__(
        self,
        templates: list[HttpRequestTemplate],
        send: Callable[[RequestSpec], Any],
        *,
        namespace: Mapping[str, Any] | None = None,
        environment: Environment | None = None,
        folder: Path | None = None,
        store: Callable[[str, Any], None] | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        stop: Stop = "never",
    ) -> None:
        check_cycles(templates)
        self.templates = templates
        self.named = {template.name: template for template in templates if template.name}
        order = {template.name: index for index, template in enumerate(templates) if template.name}
        #: The named requests of the collection each request uses, in file order.
        self._needs = {
            id(template): sorted(template.references() & self.named.keys(), key=order.__getitem__)
            for template in templates
        }
        self.send = send
        self.values: dict[str, Any] = {}
        outer = cast(MutableMapping[str, Any], namespace if namespace is not None else {})  # only read
        self.namespace: ChainMap[str, Any] = ChainMap(self.values, outer)
        self.environment = environment
        self.folder = folder or Path.cwd()
        self.store = store
        self.on_outcome = on_outcome
        self.stop = stop
        self.outcomes: dict[int, Outcome] = {}
        self.stopped = False

    @property
    def results(self) -> list[Outcome]:
        """The outcomes so far, in the order the requests ran."""
        return list(self.outcomes.values())

    def run(self, selected: Iterable[HttpRequestTemplate] | None = None) -> list[Outcome]:
        """Run ``selected`` (default: every request), and whatever they need first."""
        for template in self.templates if selected is None else selected:
            if self.stopped:
                break
            self.run_one(template)
        return self.results

    def run_one(self, template: HttpRequestTemplate, needed_by: str | None = None) -> Outcome:
        """Run ``template`` (once: a second call returns its outcome) after the requests it needs."""
        done = self.outcomes.get(id(template))
        if done is not None:
            return done
        for dependency, dependent in self._pending(template):
            self._run_single(dependency, needed_by=dependent)
        return self._run_single(template, needed_by)

    def _run_single(self, template: HttpRequestTemplate, needed_by: str | None) -> Outcome:
        """Send ``template``, whose dependencies have run; one whose dependency failed is not sent."""
        done = self.outcomes.get(id(template))
        if done is not None:
            return done
        for name in self._needs[id(template)]:
            needed = self.outcomes.get(id(self.named[name]))
            if needed is None or needed.response is None:
                outcome = Outcome(template, error=f"not sent: it needs {name}, which failed", needed_by=needed_by)
                return self._finish(outcome)
        return self._finish(self._send(template, needed_by))

    def _pending(self, template: HttpRequestTemplate) -> list[tuple[HttpRequestTemplate, str]]:
        """The requests ``template`` needs, directly or through others, that have not run, each
        after what it needs (a depth-first walk with its own stack), with who needs it."""
        order: list[tuple[HttpRequestTemplate, str]] = []
        seen: set[int] = set()
        stack = [(template, iter(self._needs[id(template)]))]
        while stack:
            current, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                if stack:
                    dependent = stack[-1][0]
                    order.append((current, dependent.name or f"line {dependent.line}"))
                continue
            needed = self.named[name]
            if id(needed) not in self.outcomes and id(needed) not in seen:
                seen.add(id(needed))
                stack.append((needed, iter(self._needs[id(needed)])))
        return order

    def _send(self, template: HttpRequestTemplate, needed_by: str | None) -> Outcome:
        outcome = Outcome(template, needed_by=needed_by)
        started = time.perf_counter()
        try:
            outcome.spec = template.render(
                self.namespace, read_file=self._read, environment=self.environment, default_scheme="http"
            )
            outcome.value = self.send(outcome.spec)
        except Exception as exc:  # a render or send failure is this request's outcome
            outcome.seconds = time.perf_counter() - started
            outcome.error, outcome.exception = _message(exc), exc
            return outcome
        outcome.seconds = time.perf_counter() - started
        response = _response_of(outcome.value)
        outcome.response = response
        if template.name:
            self._keep(template.name, response if response is not None else outcome.value)
        if response is not None:
            self._check(template, outcome, response)
        elif template.checks or template.captures:
            outcome.error = "assertions and captures need a response: this request answered with a stream"
        return outcome

    def _check(self, template: HttpRequestTemplate, outcome: Outcome, response: Any) -> None:
        secrets = secret_values(response.request, response_headers=response.headers)
        try:
            expected = template.expected_values(self.namespace, environment=self.environment)
        except CellSyntaxError as exc:
            outcome.error, outcome.exception = _message(exc), exc
            return
        pairs = zip(template.checks, expected, strict=True)
        outcome.checks = [evaluate(line.check, value, response, secrets) for line, value in pairs]
        for name, check in template.captures:
            try:
                self._keep(name, response_field(response, check.field, check.argument))
            except LookupError as exc:
                outcome.error = f"capture {name} = {check.subject}: {exc.args[0]}"
        if template.save is not None:
            try:
                outcome.saved = self._save(template, response)
            except (OSError, CellSyntaxError) as exc:
                outcome.error, outcome.exception = f"saving the body failed: {_message(exc)}", exc

    def _save(self, template: HttpRequestTemplate, response: Any) -> Path:
        assert template.save is not None
        relative = template.save_path(self.namespace, environment=self.environment)
        assert relative is not None
        path = self.folder / relative
        if not template.save.overwrite:
            path = _free_name(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(response.content)
        return path

    def _read(self, path: str) -> bytes:
        """``< path`` bodies, relative to the collection's folder."""
        return (self.folder / path).read_bytes()

    def _keep(self, name: str, value: Any) -> None:
        self.values[name] = value
        if self.store is not None:
            self.store(name, value)

    def _finish(self, outcome: Outcome) -> Outcome:
        self.outcomes[id(outcome.template)] = outcome
        if (self.stop == "error" and outcome.error is not None) or (self.stop == "failure" and not outcome.passed):
            self.stopped = True
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome


def _response_of(value: Any) -> Any:
    """The response in what a request produced: itself, or the ``.response`` of a wrapper."""
    if hasattr(value, "status") and hasattr(value, "headers") and hasattr(value, "request"):
        return value
    inner = getattr(value, "response", None)
    if hasattr(inner, "status") and hasattr(inner, "content"):
        return inner
    return None


def _message(error: BaseException) -> str:
    """A failure as a line: the magics' errors say it all, others get their type in front."""
    return str(error) if isinstance(error, KClientMagicError) else f"{type(error).__name__}: {error}"


def _free_name(path: Path) -> Path:
    """``path``, or ``name-1.ext``, ``name-2.ext``... when it exists (JetBrains' ``>>``)."""
    candidate, number = path, 0
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate
