"""The ``kclient_cassette`` pytest fixture (``kclient.testing``), run by pytest itself on a user's
test module: the first run records against the demo server, the second replays with it stopped,
``--kclient-record-mode none`` fails a request that was not recorded, and the marker names a file."""

from __future__ import annotations

import pytest
from extras import needs

pytestmark = needs("httpbin", "yaml")
pytest_plugins = ["pytester"]

USER_TESTS = """
import os

import pytest

from kclient import HttpClient
from kclient.plugins.record import Record

BASE = os.environ["DEMO_BASE"]


def test_items(kclient_cassette):
    with HttpClient("CIO", kclient_cassette) as client:
        response = client.blocking.get(BASE + "/anything/items", params={"page": "1"})
        assert response.status == 200
        print("SOURCE", response.source, client.plugin(Record).cassette.path.name)


@pytest.mark.kclient_cassette("shared/cassette.yaml", match_on=("method", "path"))
def test_shared(kclient_cassette):
    with HttpClient("CIO", kclient_cassette.install) as client:
        assert client.blocking.get(BASE + "/anything/shared?x=1").status == 200
    assert kclient_cassette.path.name == "cassette.yaml"
"""


def test_the_fixture_records_then_replays(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    from kclient.demo import DemoServer

    pytester.makepyfile(test_user=USER_TESTS)
    with DemoServer() as server:
        monkeypatch.setenv("DEMO_BASE", server.url)
        first = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
        first.assert_outcomes(passed=2)
        first.stdout.fnmatch_lines(["*SOURCE None test_items.yaml*"])
    assert (pytester.path / "cassettes" / "test_user" / "test_items.yaml").is_file()
    assert (pytester.path / "shared" / "cassette.yaml").is_file()
    replayed = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")  # the server is stopped
    replayed.assert_outcomes(passed=2)
    replayed.stdout.fnmatch_lines(["*SOURCE cassette test_items.yaml*"])
    (pytester.path / "cassettes" / "test_user" / "test_items.yaml").unlink()
    strict = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--kclient-record-mode", "none")
    strict.assert_outcomes(passed=1, failed=1)
    strict.stdout.fnmatch_lines(["*UnrecordedRequestError*was not recorded in*"])
