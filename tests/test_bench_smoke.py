"""The benchmark scripts run end to end with tiny counts and print their tables.

Smoke tests only: no timing is asserted (that is what the scripts themselves are for).
Run them with ``pytest -m bench``; they need nginx (scripts/install-system-deps.sh).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from extras import needs

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


def has_nginx() -> bool:
    if str(ROOT) not in sys.path:  # the bench scripts import tests.servers the same way
        sys.path.insert(0, str(ROOT))
    from tests.servers import nginx_binary

    try:
        nginx_binary()
    except RuntimeError:
        return False
    return True


needs_nginx = pytest.mark.skipif(not has_nginx(), reason="nginx is not installed")


def run_script(name: str, *args: str, timeout: float = 110) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / name), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@needs_nginx
def test_engines_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "engines.json"
    result = run_script("engines.py", "--requests", "50", "--rounds", "1", "--json", str(out))
    assert result.returncode == 0, result.stderr
    for text in ("requests/s", "aiohttp", "httpx", "kclient[", "ratios", "targets"):
        assert text in result.stdout
    document = json.loads(out.read_text())
    (run,) = document["runs"]
    medians = run["asyncio"]["medians"]
    assert set(medians) == {"seq", "c50", "1mib", "upload", "typical"}
    for scenario, by_client in medians.items():
        assert all(rate > 0 for rate in by_client.values())
        if scenario == "typical":  # kclient's alone, read against its default client
            assert set(by_client) == {f"kclient[{name}]" for name in document["settings"]["engines"]}
        else:
            assert {"aiohttp", "httpx", "lean loop"} <= set(by_client)
    assert "pycurl" not in medians["c50"]  # one blocking handle: sequential scenarios only
    ratio = run["asyncio"]["ratios"]["CIO"]["typical"]["default"]
    assert ratio == pytest.approx(medians["typical"]["kclient[CIO]"] / medians["c50"]["kclient[CIO]"])
    assert {target["loop"] for target in document["targets"]} <= {"asyncio", "uvloop"}
    assert all(target["median"] is not None for target in document["targets"] if target["engine"] == "CIO"
               and target["loop"] in document["settings"]["loops"] and target["baseline"] in
               [*document["settings"]["peers"], "kclient[CIO]"])  # fmt: skip


@needs_nginx
@needs("pyreqwest", "pycurl", "uvloop")
def test_engines_measures_the_rust_and_c_peers_and_the_uvloop_table(tmp_path: Path) -> None:
    out = tmp_path / "engines.json"
    args = ("--requests", "20", "--rounds", "1", "--scenarios", "seq,c50", "--engines", "CIO", "--runs", "2")
    result = run_script("engines.py", *args, "--json", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert len(document["runs"]) == 2
    for run in document["runs"]:
        assert set(run) == {"asyncio", "uvloop"}
        assert {"pyreqwest", "pycurl", "lean loop"} <= set(run["asyncio"]["medians"]["seq"])
        assert "pycurl" not in run["uvloop"]["medians"]["seq"]  # blocking: its own loop, on the first table only
        assert {"pyreqwest", "aiohttp", "kclient[CIO]"} <= set(run["uvloop"]["medians"]["c50"])
    uvloop_targets = [t for t in document["targets"] if t["loop"] == "uvloop"]
    assert uvloop_targets and all(len(t["ratios"]) == 2 for t in uvloop_targets)
    assert "held in the median and in at least 2 of 2" in result.stdout


@needs_nginx
def test_engines_control_measures_twin_raw_clients(tmp_path: Path) -> None:
    out = tmp_path / "engines.json"
    args = ("--requests", "20", "--rounds", "1", "--scenarios", "seq", "--engines", "CIO", "--control")
    result = run_script("engines.py", *args, "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "controls" in result.stdout
    run = json.loads(out.read_text())["runs"][0]["asyncio"]
    medians = run["medians"]["seq"]
    assert {"aiohttp (control)", "httpx (control)"} <= set(medians)
    for name in ("aiohttp", "httpx"):
        assert run["controls"]["seq"][name] == pytest.approx(medians[f"{name} (control)"] / medians[name])


@needs_nginx
def test_engines_check_fails_when_cio_is_not_measured() -> None:
    result = run_script("engines.py", "--requests", "20", "--rounds", "1", "--scenarios", "seq", "--engines", "Httpx")
    assert result.returncode == 0, result.stderr
    assert "NOT MEASURED" in result.stdout
    checked = run_script(
        "engines.py", "--requests", "20", "--rounds", "1", "--scenarios", "seq", "--engines", "Httpx", "--check"
    )
    assert checked.returncode == 1, checked.stderr


@needs_nginx
def test_engines_plugin_cost_measures_the_bare_and_typical_clients(tmp_path: Path) -> None:
    out = tmp_path / "plugins.json"
    result = run_script(
        "engines.py", "--requests", "30", "--rounds", "1", "--scenarios", "seq", "--engines", "CIO",
        "--plugin-cost", "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "plugin cost" in result.stdout
    run = json.loads(out.read_text())["runs"][0]["asyncio"]
    assert {"kclient[CIO] none plugins", "kclient[CIO] typical plugins"} <= set(run["medians"]["seq"])
    cost = run["plugin_cost"]["CIO"]["seq"]
    assert set(cost) == {"default/none", "typical/default"}
    assert all(ratio > 0 for ratio in cost.values())


@needs_nginx
def test_engines_passes_a_setting_to_the_engines_that_have_it(tmp_path: Path) -> None:
    out = tmp_path / "settings.json"
    result = run_script(
        "engines.py", "--requests", "20", "--rounds", "1", "--scenarios", "c50", "--engines", "Httpx,CIO",
        "--setting", "kclient_pool=false", "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "kclient_pool" in result.stderr
    assert json.loads(out.read_text())["settings"]["engine_settings"] == {"kclient_pool": False}


def test_engines_rejects_a_setting_no_engine_has() -> None:
    result = run_script("engines.py", "--engines", "CIO", "--setting", "kclient_pool=false", "--rounds", "1")
    assert result.returncode == 2
    assert "kclient_pool" in result.stderr
    malformed = run_script("engines.py", "--engines", "CIO", "--setting", "kclient_pool", "--rounds", "1")
    assert malformed.returncode == 2
    assert "NAME=VALUE" in malformed.stderr


def test_engines_rejects_an_unknown_engine() -> None:
    result = run_script("engines.py", "--engines", "NoSuchEngine", "--requests", "1", "--rounds", "1")
    assert result.returncode == 2
    assert "NoSuchEngine" in result.stderr


@needs_nginx
def test_stream_memory_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "stream.json"
    result = run_script("stream_memory.py", "--size", "8", "--json", str(out))
    assert result.returncode == 0, result.stderr
    for text in ("peak RSS growth", "aiohttp", "httpx", "kclient[", "target"):
        assert text in result.stdout
    document = json.loads(out.read_text())
    assert len(document["results"]) == 3
    assert all(run["bytes"] == 8 * 1024 * 1024 for runs in document["samples"].values() for run in runs)


def test_plugin_overhead_prints_every_variant() -> None:
    result = run_script("plugin_overhead.py", "--requests", "200", "--rounds", "1")
    assert result.returncode == 0, result.stderr
    for text in ("µs/request", "none", "default", "HttpTimeout", "typical (all of them)"):
        assert text in result.stdout


def test_import_time_prints_the_costs() -> None:
    result = run_script("import_time.py", "--rounds", "1")
    assert result.returncode in (0, 1), result.stderr  # 1 only means the timing target was missed
    assert "kclient / httpx" in result.stdout


@needs_nginx
def test_soak_prints_samples_and_a_verdict() -> None:
    result = run_script("soak.py", "--minutes", "0.05", "--every", "1", "--engines", "CIO", "--concurrency", "4")
    assert result.returncode in (0, 1), result.stderr  # 1 is the verdict (a few seconds are all warm-up)
    for text in ("elapsed", "RSS MiB", "sockets", "CIO open=", "requests,", "after closing the clients", "verdict:"):
        assert text in result.stdout
    assert ", 0 errors," in result.stdout


def test_soak_rejects_an_unknown_engine() -> None:
    result = run_script("soak.py", "--engines", "NoSuchEngine", "--minutes", "0.01")
    assert result.returncode == 2
    assert "NoSuchEngine" in result.stderr


@needs_nginx
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.timeout(420)
def test_instructions_counts_every_client_and_prints_ratios(tmp_path: Path) -> None:
    # Ten child processes under valgrind (about a minute here): python, httpx and aiohttp start 50x slower.
    out = tmp_path / "instructions.json"
    result = run_script(
        "instructions.py", "--requests", "5", "--warm-up", "2", "--engines", "CIO", "--scenarios", "seq",
        "--layers", "--json", str(out), timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for text in ("instructions per request", "kclient[CIO]", "aiohttp", "httpx", "ratios"):
        assert text in result.stdout
    document = json.loads(out.read_text())
    counts = document["instructions_per_request"]["seq"]
    assert set(counts) == {"kclient[CIO]", "kclient[CIO] engine alone", "aiohttp", "httpx", "lean loop"}
    assert all(count > 0 for count in counts.values())
    for peer in ("aiohttp", "lean loop"):
        assert document["ratios"]["CIO"]["seq"][peer] == pytest.approx(counts[peer] / counts["kclient[CIO]"])


def test_instructions_rejects_an_unknown_scenario() -> None:
    result = run_script("instructions.py", "--scenarios", "upload")
    assert result.returncode == 2
    assert "unknown scenario" in result.stderr


def test_reentrant_tasks_prints_the_three_modes() -> None:
    result = run_script("reentrant_tasks.py", "--rounds", "1", "--tasks", "200")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    assert set(lines) == {"stock", "await", "blocking"}
    assert lines["stock"].endswith(" C") and lines["await"].endswith(" C")
    if sys.version_info < (3, 14):
        assert lines["blocking"].endswith("pure Python")


@needs("httpx_sse", "aiohttp")
def test_sse_bench_reads_every_event_and_prints_ratios() -> None:
    done = run_script("sse.py", "--events", "300", "--rounds", "2", "--json")
    assert done.returncode == 0, done.stderr
    rates = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(rates) == {"kclient[CIO]", "kclient[Httpx]", "kclient[Aiohttp]", "httpx-sse"}
    assert rates["httpx-sse"]["vs_httpx_sse"] == 1.0 and all(r["events_per_s"] > 0 for r in rates.values())


def test_ws_bench_moves_every_message_and_prints_ratios() -> None:
    done = run_script("ws.py", "--echoes", "100", "--messages", "300", "--rounds", "1", "--json")
    assert done.returncode == 0, done.stderr
    rates = json.loads(done.stdout[done.stdout.index("{") :])
    assert set(rates) == {"echo", "echo x50", "flood"}
    for by_client in rates.values():
        assert set(by_client) == {"kclient[CIO]", "kclient[Aiohttp]", "aiohttp", "websockets", "lean ceiling"}
        assert all(rate > 0 for rate in by_client.values())


@needs("hishel")
def test_cache_bench_measures_misses_and_hits_beside_the_default_client() -> None:
    done = run_script("cache.py", "--requests", "50", "--rounds", "1", "--json")
    assert done.returncode == 0, done.stderr
    rates = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(rates) == {"default", "miss, memory", "miss, folder", "uncacheable", "hit, memory", "hit, folder"}
    assert rates["default"]["vs_default"] == 1.0 and all(r["requests_per_s"] > 0 for r in rates.values())


@needs("yaml")
def test_record_bench_measures_a_miss_and_a_hit() -> None:
    done = run_script("record.py", "--requests", "50", "--rounds", "1", "--json")
    assert done.returncode == 0, done.stderr
    rates = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(rates) == {"default", "record (miss)", "replay (hit)"}
    assert all(r["requests_per_s"] > 0 for r in rates.values())


def test_collection_bench_runs_a_chained_collection() -> None:
    done = run_script("collection.py", "--requests", "50", "--rounds", "1")
    assert done.returncode == 0, done.stderr
    assert "collection" in done.stdout and "requests/s" in done.stdout
