"""The ``kclient.http`` pytest plugin, run by pytest itself (pytester, in a subprocess) on sample collections
against the demo server: off unless asked, an item per request, chained items in order, a failing
assertion failing its item with expected and actual."""

from __future__ import annotations

import json

import pytest
from extras import needs

pytestmark = needs("httpbin")
pytest_plugins = ["pytester"]

COLLECTION = """
# @name login
POST {{base}}/anything
Content-Type: application/json

{"user": "ada"}

?? status == 200

###
# @name profile
GET {{base}}/anything/{{login.response.body.$.json.user}}

?? body $.url endsWith /anything/ada

###
# @name teapot
GET {{base}}/status/418

?? status == 200
"""


@pytest.fixture
def collection(pytester: pytest.Pytester) -> pytest.Pytester:
    from kclient import demo

    pytester.makefile(".http", api=COLLECTION)
    (pytester.path / "http-client.env.json").write_text(json.dumps({"local": {"base": demo.serve()}}))
    return pytester


def test_off_unless_asked(collection: pytest.Pytester) -> None:
    result = collection.runpytest_subprocess("--collect-only", "-q")
    assert "api.http" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_each_request_is_an_item_and_a_failed_assertion_fails_it(collection: pytest.Pytester) -> None:
    result = collection.runpytest_subprocess("-p", "kclient.http", "--http-env", "local", "-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*api.http::login PASSED*",
            "*api.http::profile PASSED*",
            "*api.http::teapot FAILED*",
            "*✗ ?? status == 200: expected 200, actual 418*",
        ]
    )


def test_a_selected_item_runs_what_it_needs_first(collection: pytest.Pytester) -> None:
    result = collection.runpytest_subprocess("-p", "kclient.http", "--http-env", "local", "-k", "profile")
    result.assert_outcomes(passed=1, deselected=2)


def test_the_ini_option_turns_it_on(collection: pytest.Pytester) -> None:
    collection.makeini("[pytest]\nkclient_http = true\nkclient_http_env = local\nkclient_http_engine = Httpx\n")
    result = collection.runpytest_subprocess()
    result.assert_outcomes(passed=2, failed=1)


def test_a_syntax_error_is_a_collection_error_at_its_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".http", broken="GET http://a.test/\nnot a header\n")
    result = pytester.runpytest_subprocess("-p", "kclient.http")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*broken.http: line 2: expected 'Name: value'*"])
