"""``-e/--extract PATH``: JSONPath-like paths into decoded JSON, and what their errors say."""

from __future__ import annotations

from typing import Any

import pytest
from kclient.magics._errors import CellSyntaxError, KClientMagicError
from kclient.magics._extract import extract, list_keys, type_name

DOC: dict[str, Any] = {
    "user": {"id": 7, "email": "ada@example.com", "name": "Ada", "tags": [], "manager": None},
    "items": [
        {"id": 1, "name": "pen", "tags": ["red", "blue"], "price": {"amount": 3}},
        {"id": 2, "name": "ink", "tags": [], "price": {"amount": 5}},
        {"id": 3, "tags": ["green"]},
    ],
    "weird key": {"a.b": "dotted", "it's": "quoted", "x]": "bracket"},
    "0": "zero",
    "count": 3,
    "ok": True,
}

PATHS = [
    ("root with $", "$", DOC),
    ("empty path", "", DOC),
    ("spaces around", "  $.count  ", 3),
    ("$.key", "$.count", 3),
    ("bare key", "count", 3),
    ("leading dot", ".count", 3),
    ("nested keys", "$.user.email", "ada@example.com"),
    ("bare nested keys", "user.name", "Ada"),
    ("null value", "user.manager", None),
    ("boolean", "ok", True),
    ("empty list", "user.tags", []),
    ("index", "$.items[0].name", "pen"),
    ("bare index path", "items[1].price.amount", 5),
    ("index at the root", "[0]", "first"),
    ("negative index", "items[-1].id", 3),
    ("index with spaces", "items[ -2 ].id", 2),
    ("dot number indexes a list", "items.0.name", "pen"),
    ("dot number is a key in an object", "$.0", "zero"),
    ("quoted key", "$['weird key']['a.b']", "dotted"),
    ("double-quoted key", '["weird key"]["a.b"]', "dotted"),
    ("escaped quote in a key", "['weird key']['it\\'s']", "quoted"),
    ("bracket inside a quoted key", "['weird key']['x]']", "bracket"),
    ("quoted key with spaces in brackets", "[ 'count' ]", 3),
    ("quoted key then dot", "['user'].id", 7),
    ("wildcard on a list", "items[*].id", [1, 2, 3]),
    ("dot wildcard", "items.*.id", [1, 2, 3]),
    ("wildcard on an object", "user.*", [7, "ada@example.com", "Ada", [], None]),
    ("wildcard at the end", "items[0].tags[*]", ["red", "blue"]),
    ("wildcard then wildcard flattens", "items[*].tags[*]", ["red", "blue", "green"]),
    ("wildcard skips items without the key", "items[*].name", ["pen", "ink"]),
    ("wildcard then index skips short lists", "items[*].tags[0]", ["red", "green"]),
    ("wildcard on an empty list", "user.tags[*].x", []),
    ("recursive descent", "$..amount", [3, 5]),
    ("recursive descent without $", "..id", [7, 1, 2, 3]),
    ("recursive descent then more", "items..tags[0]", ["red", "green"]),
    ("recursive descent with a quoted key", "..['a.b']", ["dotted"]),
    ("recursive descent with an index", "items..[2]", [{"id": 3, "tags": ["green"]}]),
    ("recursive wildcard", "user..*", [7, "ada@example.com", "Ada", [], None]),
    ("single match of a wildcard is still a list", "user.tags[*]", []),
]


@pytest.mark.parametrize(("path", "expected"), [case[1:] for case in PATHS], ids=[case[0] for case in PATHS])
def test_paths(path: str, expected: Any) -> None:
    value = ["first"] if path == "[0]" else DOC
    assert extract(value, path) == expected


def test_the_value_is_returned_not_copied() -> None:
    assert extract(DOC, "items[0]") is DOC["items"][0]


def test_tuples_and_other_sequences_work_like_lists() -> None:
    assert extract({"a": ({"b": 1}, {"b": 2})}, "a[*].b") == [1, 2]
    assert extract({"a": ({"b": 1},)}, "a[-1].b") == 1


ERRORS = [
    # path errors: what failed, and what was there instead
    ("missing key", "user.mail", "'user.mail': no key 'mail'; keys: email, id, manager, name, tags"),
    ("missing key at the root", "$.nope", "'$.nope': no key 'nope'; keys: 0, count, items, ok, user, weird key"),
    ("index out of range", "items[3]", "'items[3]': the list has 3 items"),
    ("negative index out of range", "items[-4].id", "'items[-4]': the list has 3 items"),
    ("index into an empty list", "user.tags[0]", "'user.tags[0]': the list is empty"),
    ("one item", "items[2].tags[1]", "'items[2].tags[1]': the list has 1 item"),
    ("key of a string", "user.name.first", "'user.name.first': 'user.name' is a string ('Ada'), not an object"),
    ("key of null", "user.manager.name", "'user.manager.name': 'user.manager' is null, not an object"),
    ("key of a number", "count.x", "'count.x': 'count' is a number (3), not an object"),
    ("key of a boolean", "ok.x", "'ok.x': 'ok' is a boolean (True), not an object"),
    (
        "key of a list",
        "items.name",
        "'items.name': 'items' is a list (3 items), not an object: pick an item with [0] or every item with [*]",
    ),
    ("index into an object", "user[0]", "'user[0]': 'user' is an object, not a list; keys: email, id, manager, name"),
    ("index into a string", "user.name[0]", "'user.name[0]': 'user.name' is a string ('Ada'), not a list"),
    ("index at the root of an object", "[0]", "'[0]': the value is an object, not a list; keys: 0, count"),
    ("wildcard on a scalar", "count[*]", "'count[*]': 'count' is a number (3), not a list or an object"),
    ("long values are cut", "user.email.x", "'user.email' is a string ('ada@example.com'), not an object"),
    (
        "wildcard where no item has the key",
        "items[*].mail",
        "'items[*].mail': none of the 3 matches has it; the first: no key 'mail'; keys: id, name, price, tags",
    ),
    ("wildcard where no item has the index", "items[*].tags[5]", "'items[*].tags[5]': none of the 3 matches has it"),
    ("recursive descent finds nothing", "$..mail", "'$..mail': no key 'mail' at any depth"),
    ("recursive index finds nothing", "..[9]", "'..[9]': no list with an item [9] at any depth"),
    ("recursive wildcard under a scalar", "count..*", "'count..*': no list or object at any depth"),
    # syntax errors: where, and what was expected
    ("$ then a name", "$user", "bad path '$user': expected '.key', '[index]' or '['key']' at character 2, found 'u'"),
    (
        "unclosed bracket",
        "items[0",
        "bad path 'items[0': expected an index, '*' or a quoted key inside '[...]' at character 7",
    ),
    ("empty bracket", "items[]", "expected an index, '*' or a quoted key inside '[...]' at character 7, found ']'"),
    ("slice", "items[0:2]", "expected an index, '*' or a quoted key inside '[...]' at character 7, found '0'"),
    ("filter", "items[?(@.id)]", "expected an index, '*' or a quoted key inside '[...]' at character 7, found '?'"),
    (
        "trailing dot",
        "user.",
        "bad path 'user.': expected a key (quote unusual keys: ['a key']) at character 6, found the end",
    ),
    ("double dot at the end", "user..", "expected a key, '*' or '[...]' after '..' at character 7, found the end"),
    ("triple dot", "user...id", "expected a key, '*' or '[...]' after '..' at character 7, found '.'"),
    ("unclosed quote", "['weird", "bad path \"['weird\": expected a closing ' for the key at character 2"),
    ("quoted key without ]", "['a'x", "expected ']' after the quoted key at character 5, found 'x'"),
    ("space inside a path", "user name", "expected '.key', '[index]' or '['key']' at character 5, found ' '"),
    ("stray ]", "user]", "expected '.key', '[index]' or '['key']' at character 5, found ']'"),
    (
        "quote where a key starts",
        "'user'",
        "expected a key (quote unusual keys: ['a key']) at character 1, found \"'\"",
    ),
]


@pytest.mark.parametrize(("path", "message"), [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_errors(path: str, message: str) -> None:
    with pytest.raises(CellSyntaxError) as caught:
        extract(DOC, path)
    assert message in str(caught.value)
    assert caught.value.line == 0
    assert isinstance(caught.value, KClientMagicError)


def test_the_failing_part_is_named_exactly() -> None:
    with pytest.raises(CellSyntaxError) as caught:
        extract({"items": [1, 2]}, "items[3]")
    assert str(caught.value) == "'items[3]': the list has 2 items"
    with pytest.raises(CellSyntaxError) as caught:
        extract({"user": {"email": "e", "id": 1}}, "user.mail")
    assert str(caught.value) == "'user.mail': no key 'mail'; keys: email, id"


def test_long_key_lists_are_cut() -> None:
    many = {f"k{number:02}": number for number in range(25)}
    assert list_keys(many) == "keys: " + ", ".join(f"k{number:02}" for number in range(20)) + " and 5 more"
    assert list_keys({}) == "the object is empty"


def test_long_values_are_cut_in_messages() -> None:
    with pytest.raises(CellSyntaxError) as caught:
        extract({"text": "x" * 100}, "text.a")
    assert "'text' is a string ('" + "x" * 36 + "...), not an object" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ({}, "object"),
        ([], "list"),
        ((), "list"),
        ("", "string"),
        (1, "number"),
        (1.5, "number"),
        (False, "boolean"),
        (None, "null"),
        (b"", "bytes"),
    ],
)
def test_type_names(value: Any, name: str) -> None:
    assert type_name(value) == name
