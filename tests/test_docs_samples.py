"""Every Python sample of the manual runs: the docs cannot drift from the code.

Each ```python block of ``docs/**/*.md``, ``README.md`` and ``CONTRIBUTING.md`` runs, in
page order, in one namespace per page (as the cells of a notebook do). A block with an
``await`` at its top level runs on the page's event loop; one without runs as a script
would, with no loop running. The samples talk to the demo server as
``http://127.0.0.1:8000``, the address its command line serves; here that address is the
demo server this test starts on a port the OS picked. A sample that prints says what it
prints in a ``# comment`` after the call; the comments are for the reader and are not
compared (the values are dates, ports, timings).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*ROOT.glob("docs/**/*.md"), ROOT / "README.md", ROOT / "CONTRIBUTING.md"])
PAGES = [page for page in PAGES if page.exists() and "_build" not in page.parts]
_BLOCK = re.compile(r"^```python\n(.*?)^```\n", re.DOTALL | re.MULTILINE)
#: Any fence that opens Python, however written: each must be one ``_BLOCK`` finds.
_ANY_PYTHON_FENCE = re.compile(r"^\s*(```|~~~)\s*\{?(python|py|python3|ipython)\b", re.MULTILINE)
#: The demo server's address in the samples (``python -m kclient.demo --port 8000``), with or
#: without user-info before it.
_SAMPLE_HOST = re.compile(r"(?<=[/@])(127\.0\.0\.1|localhost):8000\b")


def samples(page: Path) -> list[tuple[int, str]]:
    """The Python blocks of ``page``, each with the line it starts on."""
    text = page.read_text()
    return [(text.count("\n", 0, match.start()) + 2, match.group(1)) for match in _BLOCK.finditer(text)]


PAGES_WITH_SAMPLES = [page for page in PAGES if samples(page)]


def test_the_manual_has_samples_to_run() -> None:
    assert len(PAGES_WITH_SAMPLES) >= 15  # the guard of the parametrization below: a glob that finds nothing fails


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_python_fence_is_a_sample_that_runs(page: Path) -> None:
    # An indented fence, ```py or a trailing space would be skipped by the runner: refuse them.
    assert len(_ANY_PYTHON_FENCE.findall(page.read_text())) == len(samples(page))


@pytest.fixture(scope="module")
def demo_base() -> Any:
    pytest.importorskip("httpbin", reason="the demo server needs the demo extra: pip install 'kclient[demo]'")
    from kclient import demo

    base = demo.serve()
    yield base
    demo.stop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("page", PAGES_WITH_SAMPLES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_sample_of_the_page_runs(
    page: Path, demo_base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a sample that writes a file (a cassette, a cache folder) writes it here
    monkeypatch.setenv("HOME", str(tmp_path))
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    warnings.simplefilter("error", DeprecationWarning)  # a sample that uses a former name is out of date
    host = demo_base.removeprefix("http://")
    loop = asyncio.new_event_loop()
    try:
        for line, text in samples(page):
            code = _SAMPLE_HOST.sub(host, text)
            assert ":8000" not in code, f"{page}:{line}: a demo address this test does not replace"
            source = "\n" * (line - 1) + code  # tracebacks name the page's lines
            compiled = compile(source, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
            if compiled.co_flags & inspect.CO_COROUTINE:
                loop.run_until_complete(eval(compiled, namespace))
            else:
                exec(compiled, namespace)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
