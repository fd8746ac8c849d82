"""BodyProgress without a network or an event loop: totals, counting, the bar and the config."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from extras import needs
from multidict import CIMultiDict
from yarl import URL

from kclient import ConfigError
from kclient._models import Request
from kclient.plugins import SendOrder
from kclient.plugins.progress import (
    BodyProgress,
    ProgressBar,
    ProgressCounter,
    declared_total,
    upload_total,
)

# -- totals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Content-Length": "1024"}, 1024),
        ({"Content-Length": "0"}, 0),
        ({"Content-Length": "1024", "Content-Encoding": "identity"}, 1024),
        ({"Content-Length": "1024", "Content-Encoding": "gzip"}, None),
        ({"Content-Length": "1024", "Content-Encoding": "br"}, None),
        ({"Content-Length": "-5"}, None),
        ({"Content-Length": "12, 12"}, None),
        ({"Content-Length": ""}, None),
        ({"Transfer-Encoding": "chunked"}, None),
        ({}, None),
    ],
)
def test_declared_total(headers: dict[str, str], expected: int | None) -> None:
    assert declared_total(CIMultiDict(headers)) == expected


async def _parts() -> Any:
    yield b"x"


@pytest.mark.parametrize(
    ("content", "headers", "expected"),
    [
        (b"", {}, 0),
        (b"abc", {}, 3),
        (b"abc", {"Content-Length": "3"}, 3),
        (_parts, {}, None),
        (_parts, {"Content-Length": "10"}, 10),
        (_parts, {"Content-Length": "ten"}, None),
    ],
)
def test_upload_total(content: Any, headers: dict[str, str], expected: int | None) -> None:
    body = content() if callable(content) else content
    request = Request("POST", URL("http://127.0.0.1/"), CIMultiDict(headers), body)
    assert upload_total(request) == expected
    if callable(content):
        body.aclose().close()  # never started: nothing to finalize


# -- counting ---------------------------------------------------------------------------------


class Recorder:
    """A progress callback that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []

    def __call__(self, so_far: int, total: int | None) -> None:
        self.calls.append((so_far, total))


@pytest.mark.parametrize(
    ("total", "chunks", "expected"),
    [
        # A known total: one call a chunk, the last one already the full count.
        (6, [1, 2, 3], [(1, 6), (3, 6), (6, 6)]),
        # Unknown: the final call reports the full count as the total.
        (None, [4, 4], [(4, None), (8, None), (8, 8)]),
        # Empty chunks are not reported; an empty body is still reported once.
        (3, [0, 3, 0], [(3, 3)]),
        (0, [], [(0, 0)]),
        (None, [], [(0, 0)]),
        # A total that is not what arrived: the final call says what did.
        (10, [4], [(4, 10), (4, 4)]),
    ],
)
def test_counter_reports_cumulative_counts(
    total: int | None, chunks: list[int], expected: list[tuple[int, int | None]]
) -> None:
    recorder = Recorder()
    counter = ProgressCounter([recorder], total)
    for size in chunks:
        counter.add(size)
    counter.finish()
    assert recorder.calls == expected
    assert counter.count == sum(chunks)


def test_counter_whole_body_is_one_call() -> None:
    recorder = Recorder()
    ProgressCounter([recorder], None).whole(100)
    assert recorder.calls == [(100, 100)]


def test_counter_finish_twice_reports_once() -> None:
    recorder = Recorder()
    counter = ProgressCounter([recorder], None)
    counter.add(5)
    counter.finish()
    counter.finish()
    assert recorder.calls == [(5, None), (5, 5)]


def test_counter_calls_every_callback_in_order() -> None:
    seen: list[str] = []
    counter = ProgressCounter([lambda n, t: seen.append(f"a{n}"), lambda n, t: seen.append(f"b{n}")], 2)
    counter.add(2)
    assert seen == ["a2", "b2"]


class Boom(Exception):
    pass


def test_a_callback_exception_propagates_and_is_kept() -> None:
    def fail(so_far: int, total: int | None) -> None:
        if so_far > 1:
            raise Boom(so_far)

    counter = ProgressCounter([fail], None)
    counter.add(1)
    assert counter.failure is None
    with pytest.raises(Boom):
        counter.add(1)
    assert isinstance(counter.failure, Boom)


def test_an_async_callback_is_refused() -> None:
    async def callback(so_far: int, total: int | None) -> None:
        pass

    counter = ProgressCounter([callback], 1)
    with pytest.raises(TypeError, match="returned an awaitable: on_upload and on_download are plain functions"):
        counter.add(1)  # the coroutine is closed: no "never awaited" warning


# -- the bar ----------------------------------------------------------------------------------


@needs("tqdm")
def test_bar_is_written_to_its_file() -> None:
    out = io.StringIO()
    bar = ProgressBar("data.bin", file=out)
    counter = ProgressCounter([], 2048, bar)
    counter.add(1024)
    counter.add(1024)
    counter.finish()
    text = out.getvalue()
    assert "data.bin" in text
    assert "100%" in text
    assert "2.00k" in text


@needs("tqdm")
@pytest.mark.parametrize(
    ("total", "chunks", "shown"),
    [
        (100, [100], False),  # known and below min_size: never
        (5000, [10], True),  # known and big enough: from the first report
        (None, [100, 100], False),  # unknown and never reaching min_size
        (None, [600, 600], True),  # unknown: once min_size bytes arrived
    ],
)
def test_bar_only_for_bodies_reaching_min_size(total: int | None, chunks: list[int], shown: bool) -> None:
    out = io.StringIO()
    bar = ProgressBar("x", min_size=1000, file=out)
    for count in range(1, len(chunks) + 1):
        bar(sum(chunks[:count]), total)
    assert bar.shown is shown
    bar.close()
    assert bool(out.getvalue()) is shown
    assert not bar.shown


@needs("tqdm")
def test_bar_of_unknown_size_ends_at_the_full_count() -> None:
    out = io.StringIO()
    counter = ProgressCounter([], None, ProgressBar("stream", file=out))
    counter.add(300)
    counter.add(700)
    counter.finish()
    assert "100%" in out.getvalue()  # the final (count, count) gives the bar its total
    assert "0.98k/0.98k" in out.getvalue()  # 1000 bytes in KiB


@needs("tqdm")
def test_bar_closed_early_keeps_its_state() -> None:
    out = io.StringIO()
    counter = ProgressCounter([], 4000, ProgressBar("part", file=out))
    counter.add(1000)
    counter.close()
    assert "25%" in out.getvalue()


@needs("tqdm")
def test_bar_writes_to_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    bar = ProgressBar("default")
    bar(10, 10)
    bar.close()
    captured = capsys.readouterr()
    assert "default" in captured.err
    assert captured.out == ""


# -- the plugin's config ----------------------------------------------------------------------


def test_defaults() -> None:
    plugin = BodyProgress.create()
    assert isinstance(plugin, BodyProgress)
    assert plugin.config.on_upload is None
    assert plugin.config.on_download is None
    assert plugin.config.progress_bar is False
    assert plugin.config.min_size == 1 << 20
    assert plugin.send_order == SendOrder.PROGRESS
    assert plugin.request_options == frozenset({"on_upload", "on_download"})


async def _async_callback(so_far: int, total: int | None) -> None:
    pass


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"on_download": "print"}, "on_download of plugin BodyProgress cannot be 'print': it is a plain function"),
        ({"on_upload": _async_callback}, "on_upload of plugin BodyProgress cannot be .*: it is a plain function"),
        ({"progress_bar": 1}, "it is True or False"),
        ({"min_size": -1}, "at least 0"),
        ({"min_size": 1.5}, "must be an integer"),
        ({"progress_file": "out.txt"}, "it is a text file such as sys.stderr"),
        ({"on_dowload": print}, "Did you mean on_download"),
    ],
)
def test_config_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BodyProgress.create(**options)


def test_progress_bar_without_tqdm_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    with pytest.raises(ConfigError, match=r"needs tqdm, which is not installed: pip install 'kclient\[progress\]'"):
        BodyProgress.create(progress_bar=True)
    assert isinstance(BodyProgress.create(progress_bar=False), BodyProgress)


@needs("tqdm")
def test_progress_bar_with_tqdm() -> None:
    out = io.StringIO()
    plugin = BodyProgress.create(progress_bar=True, progress_file=out, min_size=0)
    assert isinstance(plugin, BodyProgress)
    assert plugin.config.progress_file is out
