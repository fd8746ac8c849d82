"""Assertions and captures of ``.http`` requests, without JavaScript (httpyac's ``??`` lines).

An assertion is ``?? FIELD [ARGUMENT] CONDITION [EXPECTED]``::

    ?? status == 200
    ?? header content-type includes json
    ?? body $.id == 42                      <- a JSONPath into the JSON body (see ``_extract``)
    ?? body includes "ok"                   <- the whole body as text
    ?? duration < 500                       <- milliseconds from sending until the body was read

Fields: ``status``, ``header NAME``, ``body`` (the text) or ``body PATH`` (a JSONPath starting with
``$``), ``duration``. Conditions (httpyac's): ``==``/``equals``, ``!=``, ``<``, ``<=``, ``>``,
``>=``, ``startsWith``, ``endsWith``, ``includes``/``contains``, ``matches`` (a regular
expression, searched), ``exists``/``isTrue``, ``isFalse``, ``isNumber``, ``isBoolean``,
``isString``, ``isArray``, and ``sha256``/``sha512``/``md5`` (the base64 digest of the value).
The expected value may hold ``{{...}}``; it is compared as the actual value's kind: a number to
a number, a JSON value (``true``, ``null``, ``[1]``) to JSON, text to text (``"quoted"`` or not).
httpyac's ``?? js ...`` and ``?? xpath ...`` are refused with what to write instead.

A capture (Hurl's ``[Captures]``, written as a directive before the request line) stores a part
of the answer under a name for the requests after it: ``# @capture token = body $.token``.

``response_field(response, field, argument)`` is the one place that reads a part of a response,
for assertions, captures and ``{{login.response.body.$.token}}`` references alike.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kclient._redact import SECRET_HEADERS, mask_header, scrub

from ._errors import CellSyntaxError
from ._extract import extract

__all__ = ["CONDITIONS", "Check", "CheckResult", "evaluate", "parse_capture", "parse_check", "response_field"]

_FIELDS = ("status", "header", "body", "duration")
#: Conditions that take no expected value.
_UNARY = {"exists", "isTrue", "isFalse", "isNumber", "isBoolean", "isString", "isArray"}
_BINARY = {
    "==",
    "equals",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "startsWith",
    "endsWith",
    "includes",
    "contains",
    "matches",
    "sha256",
    "sha512",
    "md5",
}
CONDITIONS = frozenset(_UNARY | _BINARY)
_CHECK = re.compile(r"\?\?\s*(.*)")
_CAPTURE = re.compile(r"([^\W\d]\w*)\s*=\s*(.+)")


class CheckSyntaxError(ValueError):
    """A ``??`` or ``@capture`` line that does not parse (the parser adds the line)."""


@dataclass(frozen=True)
class Check:
    """One ``??`` line: what to read (``field``, ``argument``), the ``condition`` and the expected
    text (``None`` for a unary condition), not yet interpolated."""

    field: str
    argument: str | None
    condition: str
    expected: str | None
    line: int = 0
    source: str = ""

    @property
    def subject(self) -> str:
        """What is checked, as written: ``status``, ``header content-type``, ``body $.id``."""
        return f"{self.field} {self.argument}" if self.argument else self.field


@dataclass(frozen=True)
class CheckResult:
    """An assertion's outcome: ``text`` is the line as written, ``actual`` and ``expected`` as
    shown (masked)."""

    text: str
    passed: bool
    actual: str
    expected: str | None
    line: int = 0

    def __str__(self) -> str:
        if self.passed:
            return f"✓ {self.text}"
        wanted = f"expected {self.expected}, " if self.expected is not None else ""
        return f"✗ {self.text}: {wanted}actual {self.actual}"


def parse_check(text: str, line: int = 0, source: str = "") -> Check:
    """A ``?? ...`` line as a ``Check``; ``CheckSyntaxError`` says what is wrong."""
    match = _CHECK.fullmatch(text.strip())
    if match is None or not match.group(1):
        raise CheckSyntaxError("expected an assertion such as '?? status == 200'")
    words = match.group(1).split(None)
    field = words[0]
    if field in ("js", "xpath"):
        raise CheckSyntaxError(
            f"'?? {field}' assertions run JavaScript or XPath, which kclient does not: "
            "write '?? body $.path == value' (a JSONPath), '?? header NAME ...' or '?? status ...'"
        )
    if field not in _FIELDS:
        raise CheckSyntaxError(f"unknown assertion field {field!r}: expected one of {', '.join(_FIELDS)}")
    rest = match.group(1)[len(field) :].strip()
    argument, rest = _argument(field, rest)
    condition, _, expected = rest.partition(" ")
    if not condition:
        raise CheckSyntaxError(f"'?? {field}' needs a condition such as == or includes")
    if condition not in CONDITIONS:
        raise CheckSyntaxError(f"unknown condition {condition!r}: expected one of {', '.join(sorted(CONDITIONS))}")
    expected = expected.strip()
    if condition in _UNARY:
        if expected:
            raise CheckSyntaxError(f"{condition!r} takes no value, found {expected!r}")
        return Check(field, argument, condition, None, line, source)
    if not expected:
        raise CheckSyntaxError(f"{condition!r} needs a value to compare with")
    if condition == "matches":
        try:
            re.compile(expected)
        except re.error as exc:
            raise CheckSyntaxError(f"'matches {expected}' is not a regular expression: {exc}") from None
    return Check(field, argument, condition, expected, line, source)


def _argument(field: str, rest: str) -> tuple[str | None, str]:
    """The header name after ``header``, the JSONPath after ``body`` (when it starts with ``$``)."""
    if field == "header":
        name, _, rest = rest.partition(" ")
        if not name or name in CONDITIONS:
            raise CheckSyntaxError("'?? header' needs a header name, as in '?? header content-type includes json'")
        return name, rest.strip()
    if field == "body" and rest.startswith("$"):
        path, _, rest = rest.partition(" ")
        return path, rest.strip()
    return None, rest


def parse_capture(text: str) -> tuple[str, Check]:
    """``NAME = FIELD [ARGUMENT]`` (the value of ``# @capture``) as the name and what to read."""
    match = _CAPTURE.fullmatch(text.strip())
    if match is None:
        raise CheckSyntaxError("expected '# @capture NAME = FIELD', as in '# @capture token = body $.token'")
    field, _, rest = match.group(2).strip().partition(" ")
    if field not in _FIELDS:
        raise CheckSyntaxError(f"unknown capture field {field!r}: expected one of {', '.join(_FIELDS)}")
    argument, rest = _argument(field, rest.strip())
    if rest:
        raise CheckSyntaxError(f"a capture reads a field and compares nothing: remove {rest!r}")
    return match.group(1), Check(field, argument, "exists", None)


# --- reading the response ----------------------------------------------------------------------


def response_field(response: Any, field: str, argument: str | None) -> Any:
    """The part of ``response`` (a kclient ``Response``) that ``field`` and ``argument`` name.

    ``status`` (int), ``header NAME`` (its values joined with ``, ``; ``LookupError`` when
    absent), ``body`` (the text), ``body $.path`` (from the JSON body), ``duration`` (ms).
    """
    if field == "status":
        return response.status
    if field == "duration":
        return round(response.elapsed * 1000, 1)
    if field == "header":
        assert argument is not None
        values = response.headers.getall(argument, [])
        if not values:
            present = ", ".join(sorted({name.lower() for name in response.headers})) or "none"
            raise LookupError(f"no {argument} header (headers: {present})")
        return ", ".join(values)
    if argument is None:
        return response.text
    try:
        body = response.json()
    except Exception as exc:
        raise LookupError(f"the body is not JSON ({exc})") from None
    try:
        return extract(body, argument)
    except CellSyntaxError as exc:
        raise LookupError(str(exc)) from None


def evaluate(check: Check, expected: str | None, response: Any, secrets: tuple[str, ...] = ()) -> CheckResult:
    """Check ``response``; ``expected`` is the check's value interpolated. Shown values are masked
    (``secrets``: the exchange's own; declared secrets always)."""
    text = _shown(f"?? {check.subject} {check.condition}" + (f" {expected}" if expected is not None else ""), secrets)
    try:
        actual = response_field(response, check.field, check.argument)
    except LookupError as exc:  # absent: only isFalse holds
        shown = _shown(str(exc.args[0]), secrets)
        return CheckResult(text, check.condition == "isFalse", shown, _expected(expected, secrets), check.line)
    passed = _holds(check.condition, actual, expected)
    return CheckResult(text, passed, _actual(check, actual, secrets), _expected(expected, secrets), check.line)


def _holds(condition: str, actual: Any, expected: str | None) -> bool:
    """Whether ``actual`` meets ``condition`` with ``expected`` (text, read as ``actual``'s kind)."""
    if condition in _UNARY:
        return _unary(condition, actual)
    assert expected is not None
    if condition in ("sha256", "sha512", "md5"):
        data = actual if isinstance(actual, bytes) else _text(actual).encode()
        return base64.b64encode(hashlib.new(condition, data).digest()).decode() == expected
    if condition == "matches":
        return re.search(expected, _text(actual)) is not None
    if condition in ("startsWith", "endsWith", "includes", "contains"):
        return _contains(condition, actual, expected)
    if condition in ("==", "equals", "!="):
        wanted = _as_kind(expected, actual)
        return bool(actual == wanted) == (condition != "!=")
    return _ordered(condition, actual, expected)


def _unary(condition: str, actual: Any) -> bool:
    if condition in ("exists", "isTrue"):
        return bool(actual) if condition == "isTrue" else actual is not None
    if condition == "isFalse":
        return not actual
    if condition == "isNumber":
        return isinstance(actual, (int, float)) and not isinstance(actual, bool)
    if condition == "isBoolean":
        return isinstance(actual, bool)
    if condition == "isString":
        return isinstance(actual, str)
    return isinstance(actual, list)  # isArray


def _contains(condition: str, actual: Any, expected: str) -> bool:
    if isinstance(actual, list) and condition in ("includes", "contains"):
        return _as_json(expected) in actual or expected in actual
    text = _text(actual)
    if condition == "startsWith":
        return text.startswith(_unquoted(expected))
    if condition == "endsWith":
        return text.endswith(_unquoted(expected))
    return _unquoted(expected) in text


def _ordered(condition: str, actual: Any, expected: str) -> bool:
    """``<``, ``<=``, ``>``, ``>=``: as numbers when both are numbers (a header's ``"512"`` too),
    as text when both are text (ISO dates order so); anything else does not hold."""
    left: Any = _number(actual)
    right: Any = _number(expected)
    if left is None or right is None:
        if not isinstance(actual, str) or right is not None:
            return False
        left, right = actual, _unquoted(expected)
    if condition == "<":
        return bool(left < right)
    if condition == "<=":
        return bool(left <= right)
    if condition == ">":
        return bool(left > right)
    return bool(left >= right)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _as_kind(expected: str, actual: Any) -> Any:
    """``expected`` read as what ``actual`` is: a number, a JSON value, or text."""
    if isinstance(actual, bool) or actual is None or isinstance(actual, (list, Mapping)):
        return _as_json(expected)
    if isinstance(actual, (int, float)):
        try:
            return float(expected) if "." in expected or "e" in expected.lower() else int(expected)
        except ValueError:
            return _as_json(expected)
    return _unquoted(expected)


def _as_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _unquoted(text: str) -> str:
    """``"ok"`` as ``ok`` (a JSON string); other text as it is."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        value = _as_json(text)
        if isinstance(value, str):
            return value
    return text


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _actual(check: Check, actual: Any, secrets: tuple[str, ...]) -> str:
    if check.field == "header" and check.argument and check.argument.lower() in SECRET_HEADERS:
        return mask_header(check.argument, str(actual))
    shown = _text(actual) if not isinstance(actual, str) else json.dumps(actual, ensure_ascii=False)
    if len(shown) > 200:
        shown = shown[:197] + "..."
    return _shown(shown, secrets)


def _expected(expected: str | None, secrets: tuple[str, ...]) -> str | None:
    return None if expected is None else _shown(expected, secrets)


def _shown(text: str, secrets: tuple[str, ...]) -> str:
    return scrub(text, secrets)
