"""``%kclient cache``: the kernel client's HTTP cache in memory or in a folder, its state, its
answers marked in the display and the history, cleared and turned off; against the demo server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from extras import needs
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from .test_magics import magics, run

pytestmark = needs("httpbin", "hishel")


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    from headless import kclient_shell

    with kclient_shell() as ip:
        yield ip


@pytest.fixture
def base() -> Iterator[str]:
    from kclient.demo import DemoServer

    with DemoServer() as server:
        yield server.url


def test_the_kernel_cache_answers_again_and_says_so(shell: InteractiveShell, base: str, tmp_path: Path) -> None:
    assert "The HTTP cache is off" in repr(run(shell, "%kclient cache"))
    started = run(shell, "%kclient cache memory --max-size 1000000")
    assert "HTTP cache in memory, at most 1,000,000 bytes: 0 URL(s) held" in repr(started)
    first = run(shell, f"%kclient {base}/cache/60")
    again = run(shell, f"%kclient {base}/cache/60")
    assert first.source is None and again.source == "cache"
    assert "· from cache" in magics(shell).response_bundle(again)["text/plain"]
    assert "200 (cache)" in repr(run(shell, "%kclient history"))
    assert "1 hit(s)" in repr(run(shell, "%kclient cache"))
    validated = run(shell, f"%kclient {base}/cache/60 Cache-Control:no-cache")
    assert validated.source is None  # no validator to send: asked again, and stored anew
    assert "The HTTP cache is empty now" in repr(run(shell, "%kclient cache clear"))
    assert run(shell, f"%kclient {base}/cache/60").source is None
    assert "is off" in repr(run(shell, "%kclient cache off"))
    assert run(shell, f"%kclient {base}/cache/60").source is None

    folder = tmp_path / "http-cache"
    run(shell, f"%kclient cache {folder}")
    run(shell, f"%kclient {base}/etag/v1")  # no freshness, a validator: validated each time
    run(shell, "%kclient cache off")  # the client closes: what waits is written
    assert any(folder.glob("*.kcache"))
    run(shell, f"%kclient cache {folder}")  # a new client (as after a kernel restart) on the folder
    assert run(shell, f"%kclient {base}/etag/v1").source == "cache"
    assert "1 revalidated" in repr(run(shell, "%kclient cache"))
    run(shell, "%kclient cache off")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%kclient cache", "is off"),
        ("%kclient cache clear", "The HTTP cache is off"),
        ("%kclient cache memory --max-size lots", "--max-size takes a number of bytes"),
        ("%kclient cache memory elsewhere", "One place for the cache"),
        ("%kclient cache --fast", "Unknown option '--fast'"),
        ("%kclient cache --max-size 10", "Say where the cache lives"),
    ],
)
def test_bad_cache_lines_say_what_to_write(shell: InteractiveShell, line: str, message: str) -> None:
    if line == "%kclient cache":
        assert message in repr(run(shell, line))
        return
    with pytest.raises(UsageError, match=message):
        run(shell, line)
