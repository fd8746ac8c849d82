"""pytest support for code that uses kclient: the ``kclient_cassette`` fixture (record and replay).

Registered through the ``pytest11`` entry point; the fixture does nothing until a test asks
for it::

    async def test_items(kclient_cassette):
        async with HttpClient("CIO", kclient_cassette) as client:   # a configure function
            response = await client.get("https://api.example.com/items")

The first run records into ``cassettes/<test module>/<test name>.yaml`` beside the test file;
later runs replay it, with no network. ``kclient_cassette.install(c)`` adds the Record plugin to
a configure block of your own; ``.path`` is the file; ``client.plugin(Record)`` tells what was
replayed and recorded.

``@pytest.mark.kclient_cassette("shared.yaml", match_on=("method", "path"))`` names another
file (relative to the test file) or passes Record's options. ``--kclient-record-mode`` sets the
mode of every cassette (``once`` by default; ``none`` in CI makes a missing recording fail
rather than reach the network; ``all`` records everything again).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from kclient import HttpClientConfig

__all__ = ["CassetteFixture"]

MARKER = "kclient_cassette"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("kclient").addoption(
        "--kclient-record-mode",
        choices=("once", "new_episodes", "none", "all"),
        default=None,
        help="the mode of every kclient_cassette (default: once, or the marker's)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(path=None, **options): the kclient_cassette's file and Record options"
    )


class CassetteFixture:
    """What ``kclient_cassette`` gives a test: a configure function that installs Record."""

    def __init__(self, path: Path, options: dict[str, Any]) -> None:
        self.path = path
        self.options = options

    def __call__(self, c: HttpClientConfig) -> None:
        self.install(c)

    def install(self, c: HttpClientConfig) -> None:
        """Install the Record plugin on the cassette in the configure block ``c``."""
        from kclient.plugins.record import Record

        c.install(Record, cassette=self.path, **self.options)

    def __repr__(self) -> str:
        return f"<kclient_cassette {self.path} {self.options}>"


@pytest.fixture
def kclient_cassette(request: pytest.FixtureRequest) -> Iterator[CassetteFixture]:
    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    folder = Path(request.node.path).parent
    if marker is not None and marker.args:
        path = folder / str(marker.args[0])
    else:
        module = Path(request.node.path).stem
        name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
        path = folder / "cassettes" / module / f"{name}.yaml"
    mode = request.config.getoption("kclient_record_mode")
    if mode is not None:
        options["mode"] = mode
    yield CassetteFixture(path, options)
