"""``??`` assertions and ``# @capture`` fields: parsed (errors say what is wrong) and evaluated
against a response, table-tested; failures show expected against actual, masked."""

from __future__ import annotations

import json

import pytest
from kclient.magics._assertions import CheckSyntaxError, evaluate, parse_capture, parse_check
from multidict import CIMultiDict
from yarl import URL

from kclient import Request, Response

BODY = {"id": 42, "name": "ada", "tags": ["a", "b"], "active": True, "none": None, "score": 9.5}


def answer(body: object = BODY, *, status: int = 200, **headers: str) -> Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    all_headers = CIMultiDict({"Content-Type": "application/json", **extra})
    response = Response(status, request=Request("GET", URL("http://api.test/x")), headers=all_headers, content=content)
    response.elapsed = 0.120
    return response


def check(line: str, response: Response | None = None) -> bool:
    parsed = parse_check(line)
    return evaluate(parsed, parsed.expected, response or answer()).passed


@pytest.mark.parametrize(
    "line",
    [
        "?? status == 200",
        "?? status equals 200",
        "?? status != 201",
        "?? status >= 200",
        "?? status < 300",
        "?? status startsWith 2",
        "?? status endsWith 00",
        "?? status isNumber",
        "?? duration < 500",
        "?? duration > 100",
        "?? header content-type includes json",
        "?? header Content-Type == application/json",
        "?? header content-type exists",
        "?? header x-missing isFalse",
        "?? body $.id == 42",
        "?? body $.id > 41",
        "?? body $.name == ada",
        '?? body $.name == "ada"',
        "?? body $.name isString",
        "?? body $.name matches ^a.a$",
        "?? body $.tags includes a",
        '?? body $.tags == ["a","b"]',
        "?? body $.tags isArray",
        "?? body $.active == true",
        "?? body $.active isBoolean",
        "?? body $.active isTrue",
        "?? body $.none == null",
        "?? body $.score == 9.5",
        "?? body $.missing isFalse",
        '?? body includes "name"',
        "?? body startsWith {",
    ],
)
def test_assertions_that_hold(line: str) -> None:
    assert check(line), line


@pytest.mark.parametrize(
    "line",
    [
        "?? status == 201",
        "?? status > 200",
        "?? duration < 100",
        "?? header content-type includes xml",
        "?? header x-missing exists",
        "?? body $.id == 43",
        "?? body $.id == forty-two",
        "?? body $.name == bob",
        "?? body $.name > 3",
        "?? body $.tags includes c",
        "?? body $.active isFalse",
        "?? body $.missing exists",
        "?? body $.id isString",
        "?? body includes nothing-like-this",
    ],
)
def test_assertions_that_fail(line: str) -> None:
    assert not check(line), line


def test_digests_of_the_body() -> None:
    import base64
    import hashlib

    response = answer(b"hello")
    digest = base64.b64encode(hashlib.sha256(b"hello").digest()).decode()
    assert check(f"?? body sha256 {digest}", response)
    assert not check("?? body md5 AAAA", response)


def test_a_failure_shows_expected_against_actual() -> None:
    parsed = parse_check("?? body $.id == 43")
    result = evaluate(parsed, "43", answer())
    assert not result.passed
    assert (result.expected, result.actual) == ("43", "42")
    assert str(result) == "✗ ?? body $.id == 43: expected 43, actual 42"
    missing = evaluate(parse_check("?? body $.nope == 1"), "1", answer())
    assert "no key 'nope'" in missing.actual and "keys: active, id" in missing.actual
    not_json = evaluate(parse_check("?? body $.id == 1"), "1", answer(b"<html>"))
    assert "not JSON" in not_json.actual


def test_secrets_are_masked_in_results() -> None:
    token = "secret-token-123456"
    response = answer({"token": token}, set_cookie=f"sid={token}")
    result = evaluate(parse_check("?? body $.token == other"), "other", response, (token,))
    assert token not in str(result) and "***" in result.actual
    cookie = evaluate(parse_check("?? header set-cookie == x"), "x", response)
    assert token not in str(cookie)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("??", "expected an assertion such as"),
        ("?? js response.parsedBody.id == 1", "JavaScript or XPath"),
        ("?? xpath //id == 1", "JavaScript or XPath"),
        ("?? size == 1", "unknown assertion field 'size'"),
        ("?? status", "needs a condition"),
        ("?? status is 200", "unknown condition 'is'"),
        ("?? status ==", "needs a value"),
        ("?? status exists 200", "takes no value"),
        ("?? header == 1", "needs a header name"),
        ("?? body matches (", "not a regular expression"),
    ],
)
def test_malformed_assertions_say_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(CheckSyntaxError, match=message.replace("(", r"\(")):
        parse_check(line)


def test_captures_name_a_field() -> None:
    name, capture = parse_capture("token = body $.token")
    assert (name, capture.field, capture.argument) == ("token", "body", "$.token")
    assert parse_capture("where = header Location")[1].argument == "Location"
    for bad, message in [("token body", "expected '# @capture NAME = FIELD'"), ("t = size", "unknown capture field")]:
        with pytest.raises(CheckSyntaxError, match=message):
            parse_capture(bad)
    with pytest.raises(CheckSyntaxError, match="compares nothing"):
        parse_capture("t = status == 200")


def test_ordering_compares_numbers_as_numbers_and_text_as_text() -> None:
    response = answer({"when": "2026-12-07", "n": "12"}, content_length="512")
    assert check("?? header content-length > 100", response)  # a header's text, read as a number
    assert check("?? body $.n > 9", response)
    assert check("?? body $.when < 2027-01-01", response)
    assert not check("?? body $.when < 5", response)
