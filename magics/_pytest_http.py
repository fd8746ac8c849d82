"""The collector of the ``kclient.http`` pytest plugin: a ``.http`` file's requests as test items.

One ``CollectionRun`` per file, set up with the file's first item and torn down after its last
(the client closed), so chained items share the answers of the ones before them. An item that
needs a request not yet run (deselected, or later in the file) runs it first; an item whose
request another item already ran (as a dependency) reports that outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._collection import CollectionRun, Outcome
from ._errors import KClientMagicError
from ._headless import HttpFile, Sender, load_http_file
from ._httpfile import HttpRequestTemplate

__all__ = ["HttpFileCollector", "HttpItem"]


class HttpRequestFailed(Exception):
    """An item's request failed or one of its assertions did not hold."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.summary())
        self.outcome = outcome


class HttpFileCollector(pytest.File):
    """A ``.http`` file: one item per request."""

    loaded: HttpFile | None = None
    runner: CollectionRun | None = None
    sender: Sender | None = None

    def collect(self) -> Iterator[HttpItem]:
        try:
            self.loaded = load_http_file(Path(self.path), _option(self.config, "http_env", "kclient_http_env"))
        except KClientMagicError as error:
            raise self.CollectError(str(error)) from None
        seen: dict[str, int] = {}
        for template in self.loaded.templates:
            name = template.name or f"{template.method} line {template.line}"
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name} [{seen[name]}]"
            yield HttpItem.from_parent(self, name=name, template=template)

    def setup(self) -> None:
        assert self.loaded is not None
        engine = _option(self.config, "http_engine", "kclient_http_engine")
        self.sender = Sender(engine, timeout=self.config.getoption("http_timeout"))
        self.runner = CollectionRun(
            self.loaded.templates,
            self.sender,
            environment=self.loaded.environment,
            folder=Path(self.path).resolve().parent,
        )

    def teardown(self) -> None:
        if self.sender is not None:
            self.sender.close()
        self.sender = self.runner = None


class HttpItem(pytest.Item):
    """One request of a ``.http`` file."""

    def __init__(self, *, template: HttpRequestTemplate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.template = template

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, HttpFileCollector) and parent.runner is not None
        outcome = parent.runner.run_one(self.template)
        if not outcome.passed:
            raise HttpRequestFailed(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, HttpRequestFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(self.path), self.template.line - 1, self.name


def _option(config: pytest.Config, option: str, ini: str) -> str | None:
    value = config.getoption(option) or config.getini(ini)
    return str(value) if value else None
