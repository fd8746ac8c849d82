"""Dynamic variables of ``.http`` files, in both tools' spellings: parsed (errors name what exists)
and generated against a fixed clock, environment and ``.env``."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from kclient.magics._dynamic import DynamicContext, generate, parse_dynamic

#: 2026-12-07 09:55:33.250 UTC.
NOW = datetime(2026, 12, 7, 9, 55, 33, 250_000, tzinfo=UTC).timestamp()
CONTEXT = DynamicContext(environ={"API_TOKEN": "from-env"}, dotenv={"PASSWORD": "from-dotenv"}, now=lambda: NOW)


def value(source: str) -> str:
    return generate(parse_dynamic(source), CONTEXT)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("$timestamp", str(int(NOW))),
        ("$timestamp -1 d", str(int(NOW) - 86400)),
        ("$timestamp 2 h", str(int(NOW) + 7200)),
        ("$isoTimestamp", "2026-12-07T09:55:33.250Z"),
        ("$datetime iso8601", "2026-12-07T09:55:33.250Z"),
        ("$datetime rfc1123", "Mon, 07 Dec 2026 09:55:33 GMT"),
        ("$datetime iso8601 1 M", "2027-01-07T09:55:33.250Z"),
        ("$datetime iso8601 -1 y", "2025-12-07T09:55:33.250Z"),
        ("$datetime rfc1123 30 m", "Mon, 07 Dec 2026 10:25:33 GMT"),
        ("$processEnv API_TOKEN", "from-env"),
        ("$env.API_TOKEN", "from-env"),
        ("$dotenv PASSWORD", "from-dotenv"),
        ("  $dotenv   PASSWORD  ", "from-dotenv"),
    ],
)
def test_values_from_the_clock_and_the_environment(source: str, expected: str) -> None:
    assert value(source) == expected


@pytest.mark.parametrize("source", ["$uuid", "$guid", "$random.uuid"])
def test_uuids(source: str) -> None:
    first, second = value(source), value(source)
    assert uuid.UUID(first).version == 4 and first != second


@pytest.mark.parametrize(
    ("source", "low", "high"),
    [
        ("$randomInt", 0, 1000),
        ("$randomInt 5 8", 5, 7),
        ("$random.integer(10, 12)", 10, 11),
        ("$random.integer", 0, 999),
    ],
)
def test_random_integers_stay_in_their_bounds(source: str, low: int, high: int) -> None:
    seen = {int(value(source)) for _ in range(300)}
    assert min(seen) >= low and max(seen) <= high and len(seen) > 1


@pytest.mark.parametrize(
    ("source", "pattern"),
    [
        ("$random.alphabetic(12)", r"[A-Za-z]{12}"),
        ("$random.alphanumeric(7)", r"[A-Za-z0-9]{7}"),
        ("$random.hexadecimal(9)", r"[0-9a-f]{9}"),
        ("$random.email", r"[a-z]{10}@example\.com"),
        ("$random.float(1, 2)", r"1\.\d+"),
        ("$localDatetime iso8601", r"2026-12-0[67]T\d{2}:\d{2}:33\.250(Z|[+-]\d{2}:\d{2})"),
    ],
)
def test_random_text_has_its_shape(source: str, pattern: str) -> None:
    assert re.fullmatch(pattern, value(source))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("$uuids", "unknown dynamic variable $uuids; did you mean $uuid?"),
        ("$random.alphabet(3)", "did you mean $random.alphabetic?"),
        ("$nope", "known: $datetime"),
        ("$uuid 3", "$uuid takes no arguments"),
        ("$timestamp -1 days", "offset and unit"),
        ("$datetime 'DD-MM-YYYY'", "iso8601 or rfc1123"),
        ("$randomInt 8 5", "must be below"),
        ("$randomInt one two", "whole number"),
        ("$random.alphabetic", "a length from 1 to 10000"),
        ("$random.alphabetic(0)", "a length from 1 to 10000"),
        ("$processEnv", "one variable name"),
        ("$random.integer(1, 2) 3", "not both"),
        ("$", "expected a dynamic variable"),
    ],
)
def test_bad_ones_say_what_is_wrong(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_dynamic(source)


def test_unset_variables_are_errors_not_empty_strings() -> None:
    with pytest.raises(LookupError, match="the environment variable MISSING is not set"):
        value("$processEnv MISSING")
    with pytest.raises(LookupError, match=r"MISSING is not in \.env"):
        value("$dotenv MISSING")


def test_every_checked_variable_has_a_generator() -> None:
    from kclient.magics import _dynamic

    assert set(_dynamic._CHECKS) == set(_dynamic._GENERATORS)
