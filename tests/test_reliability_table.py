"""scripts/reliability-table.py: the reliability table of docs/reliability.md from a hand-written report."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "reliability-table.py"


@pytest.fixture(scope="module")
def renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reliability_table", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def entry(scenario: str, engine: str, backend: str, outcome: str, reason: str = "", *notes: str) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "engine": engine,
        "backend": backend,
        "outcome": outcome,
        "reason": reason,
        "notes": list(notes),
    }


REPORT = [
    entry("Reset before headers", "CIO", "asyncio", "passed", "", "ReadError"),
    entry("Reset before headers", "CIO", "trio", "skipped", "CIO does not support the trio backend"),
    entry("Reset before headers", "Httpx", "asyncio", "passed", "", "ReadError"),
    entry("Reset before headers", "Httpx", "trio", "passed", "", "ReadError"),
    entry("Negative chunk size", "Httpx", "asyncio", "passed", "", "ProtocolError"),
    entry("Negative chunk size", "Httpx", "trio", "xfailed", "Httpx bug on trio: h11 | waits", "SocketTimeout"),
    entry("Negative chunk size", "CIO", "asyncio", "xfailed", "CIO bug: takes -1 for a size"),
    entry("Negative chunk size", "CIO", "trio", "skipped", "CIO does not support the trio backend"),
    entry("Hostile URLs", "-", "asyncio", "passed", "", "500 examples"),
    entry("Hostile URLs", "-", "trio", "passed", "", "500 examples"),
    entry("TLS: expired certificate", "Httpx", "asyncio", "failed", "call failed"),
    entry("TLS: expired certificate", "Httpx", "trio", "passed", "", "TLSError"),
    entry("TLS: expired certificate", "CIO", "asyncio", "skipped", "CIO has no https settings block"),
    entry("TLS: expired certificate", "CIO", "trio", "skipped", "CIO does not support the trio backend"),
]


def test_rows_columns_and_cells(renderer: ModuleType) -> None:
    lines = renderer.table(REPORT).splitlines()
    assert lines[0] == "| Scenario | CIO | Httpx | all engines |"
    assert lines[1] == "| --- | --- | --- | --- |"
    rows = {line.split(" | ")[0].removeprefix("| "): line.removesuffix(" |").split(" | ")[1:] for line in lines[2:]}
    assert list(rows) == ["Reset before headers", "Negative chunk size", "Hostile URLs", "TLS: expired certificate"]
    assert rows["Reset before headers"] == ["✅ ReadError (asyncio only; trio: skip)", "✅ ReadError", "—"]
    assert rows["Negative chunk size"] == [
        "❌ xfail: takes -1 for a size",
        "✅ asyncio; ❌ xfail on trio (SocketTimeout): h11 \\| waits",  # a | in a cell is escaped
        "—",
    ]
    assert rows["Hostile URLs"] == ["—", "—", "✅ 500 examples"]
    assert rows["TLS: expired certificate"] == [
        "skip: CIO has no https settings block; CIO does not support the trio backend",
        "❌ failed on asyncio: call failed",
        "—",
    ]


def test_no_engine_column_without_engine_tests(renderer: ModuleType) -> None:
    table = renderer.table([entry("Reset before headers", "CIO", "asyncio", "passed", "", "ReadError")])
    assert table.splitlines() == [
        "| Scenario | CIO |",
        "| --- | --- |",
        "| Reset before headers | ✅ ReadError |",
    ]


def test_long_reasons_are_cut(renderer: ModuleType) -> None:
    reason = "Urllib3 bug: " + "word " * 40
    cell = renderer.cell([entry("S", "Urllib3", "asyncio", "xfailed", reason)])
    assert cell.startswith("❌ xfail: word word")
    assert cell.endswith("…")
    assert len(cell) < len(reason)


def test_command_line(renderer: ModuleType, tmp_path: Path) -> None:
    report = tmp_path / "reliability.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(report)], capture_output=True, text=True, check=True, encoding="utf-8"
    )
    assert done.stdout == renderer.table(REPORT) + "\n"
    usage = subprocess.run([sys.executable, str(SCRIPT)], check=False, capture_output=True, text=True, encoding="utf-8")
    assert usage.returncode == 2
    assert "reliability-table.py" in usage.stderr


# -- the report: tests/conftest.py's --reliability-report -------------------------------------

RELIABILITY_TESTS = """
import pytest

@pytest.mark.reliability("Passes")
@pytest.mark.parametrize("engine_name", ["CIO", "Httpx"])
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
def test_passes(engine_name, anyio_backend, reliability_note):
    if engine_name == "CIO" and anyio_backend == "trio":
        pytest.skip("CIO does not support the trio backend")
    reliability_note("ReadError")
    reliability_note("ReadError")

@pytest.mark.reliability("Known bug")
@pytest.mark.xfail(strict=True, reason="Httpx bug: waits")
def test_known_bug(reliability_note):
    reliability_note("SocketTimeout")
    assert False

@pytest.mark.reliability("Fixed bug")
@pytest.mark.xfail(strict=True, reason="Httpx bug: fixed since")
def test_fixed_bug():
    pass

@pytest.mark.reliability("Broken")
def test_broken():
    assert False

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown")

@pytest.mark.reliability("Teardown")
def test_teardown(broken_teardown):
    pass

def test_not_a_scenario():
    pass
"""


def test_the_report_records_every_reliability_test(tmp_path: Path) -> None:
    """Run a few marked tests with the root conftest as a plugin; the report has one entry each."""
    (tmp_path / "test_scenarios.py").write_text(RELIABILITY_TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    reliability(scenario): one scenario\n")
    report = tmp_path / "report.json"
    tests_folder = Path(__file__).parent
    options = ["-p", "conftest", "-p", "no:cacheprovider", "-q", "--strict-markers", f"--rootdir={tmp_path}"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *options, f"--reliability-report={report}", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tests_folder)},
    )
    assert done.returncode == 1, done.stdout + done.stderr  # test_broken, test_fixed_bug and the teardown fail
    entries = json.loads(report.read_text(encoding="utf-8"))
    summary = [(e["scenario"], e["engine"], e["backend"], e["outcome"], e["reason"], e["notes"]) for e in entries]
    assert summary == [
        ("Passes", "CIO", "asyncio", "passed", "", ["ReadError"]),
        ("Passes", "Httpx", "asyncio", "passed", "", ["ReadError"]),
        ("Passes", "CIO", "trio", "skipped", "CIO does not support the trio backend", []),
        ("Passes", "Httpx", "trio", "passed", "", ["ReadError"]),
        ("Known bug", "-", "-", "xfailed", "Httpx bug: waits", ["SocketTimeout"]),
        ("Fixed bug", "-", "-", "failed", "XPASS(strict)", []),
        ("Broken", "-", "-", "failed", "call failed", []),
        ("Teardown", "-", "-", "failed", "teardown failed", []),
    ]
