"""The ``.http`` cell format: requests, names, headers, bodies, files, ``{{...}}`` and its errors."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Any

import pytest
from kclient.magics._errors import CellSyntaxError
from kclient.magics._httpfile import format_value, parse_http_cell, parse_http_templates
from kclient.magics._spec import NO_JSON, RequestSpec


class FakeResponse:
    """What matters of a kclient Response here: a ``json()`` method and some attributes."""

    def __init__(self, body: Any, status: int = 200) -> None:
        self.body = body
        self.status = status
        self.headers = {"X-Token": "from-header"}
        self.json_calls = 0

    def json(self) -> Any:
        self.json_calls += 1
        if isinstance(self.body, Exception):
            raise self.body
        return self.body

    @property
    def broken(self) -> str:
        raise RuntimeError("boom")


class Indexable:
    """Not a Mapping nor a Sequence, but indexable (like a DataFrame)."""

    def __getitem__(self, key: Any) -> str:
        if key == "col":
            return "column"
        raise KeyError(key)


NAMESPACE: dict[str, Any] = {
    "login": FakeResponse({"token": "t0k", "user": {"id": 7, "roles": ["admin", "dev"]}}),
    "broken": FakeResponse(ValueError("not JSON")),
    "token": "abc",
    "host": "notebook.example",
    "port": 8080,
    "ratio": 0.5,
    "flag": True,
    "off": False,
    "nothing": None,
    "obj": {"a": [1, None], "weird key": "w", "a.b": "dotted", "0": "zero"},
    "items": ["first", "second", "third"],
    "pair": (1, "two"),
    "raw": b"bytes \xc3\xa9",
    "binary": b"\xff\xfe",
    "ordered": OrderedDict([("b", 1), ("a", 2)]),
    "multiline": "a\r\nb",
    "table": Indexable(),
    "_private": 1,
}


def files(mapping: dict[str, bytes]):
    """A fake ``read_file`` reading from ``mapping`` (a missing path is FileNotFoundError)."""

    def read(path: str) -> bytes:
        if path not in mapping:
            raise FileNotFoundError(2, "No such file or directory", path)
        return mapping[path]

    return read


FILES = files(
    {
        "./data.json": b'{"from": "file"}\n',
        "./photo.png": b"\x89PNG\r\n\x00\xff",
        "./template.json": b'{"token": "{{token}}", "n": {{port}}}',
        "./latin1.txt": b"caf\xe9",
        "./bad-template.txt": b"{{nope}}",
        "./unclosed.txt": b"{{token",
        "./notebook.example.json": b"[1]",
    }
)


def summary(spec: RequestSpec) -> tuple[Any, ...]:
    return (spec.method, spec.url, spec.headers, spec.content)


def parse(cell: str, namespace: dict[str, Any] | None = None, **options: Any) -> list[RequestSpec]:
    options.setdefault("read_file", FILES)
    return parse_http_cell(cell, NAMESPACE if namespace is None else namespace, **options)


# --- request lines, URLs, headers, blocks ------------------------------------------------------

JSON_TYPE = ("Content-Type", "application/json")

REQUESTS = [
    ("url only", "https://example.com/a", [("GET", "https://example.com/a", [], None)]),
    ("method", "POST https://example.com/a", [("POST", "https://example.com/a", [], None)]),
    ("lower-case method", "delete https://example.com/a", [("DELETE", "https://example.com/a", [], None)]),
    ("http version", "PUT https://example.com/a HTTP/1.1", [("PUT", "https://example.com/a", [], None)]),
    ("url and version", "https://example.com/a HTTP/2", [("GET", "https://example.com/a", [], None)]),
    ("indented request line", "   GET https://example.com/a   ", [("GET", "https://example.com/a", [], None)]),
    ("custom method", "PURGE http://cache/x", [("PURGE", "http://cache/x", [], None)]),
    ("localhost port", ":3000/path?q=1", [("GET", "http://localhost:3000/path?q=1", [], None)]),
    ("localhost no port", ":/path", [("GET", "http://localhost/path", [], None)]),
    ("localhost bare", ":", [("GET", "http://localhost", [], None)]),
    ("localhost port only", ":8000", [("GET", "http://localhost:8000", [], None)]),
    ("no scheme", "example.com/x", [("GET", "http://example.com/x", [], None)]),
    ("no scheme with port", "localhost:8000/x", [("GET", "http://localhost:8000/x", [], None)]),
    ("relative stays relative", "GET /users/1", [("GET", "/users/1", [], None)]),
    (
        "relative with Host header",
        "GET /users/1 HTTP/1.1\nHost: api.example:8443\nAccept: */*",
        [("GET", "http://api.example:8443/users/1", [("Accept", "*/*")], None)],
    ),
    (
        "query continuation lines",
        "GET https://example.com/search\n    ?q=kotlin\n    &page=2\n\t&size=10\nAccept: text/html",
        [("GET", "https://example.com/search?q=kotlin&page=2&size=10", [("Accept", "text/html")], None)],
    ),
    (
        "headers",
        "GET https://example.com/\nAccept: application/json\nX-Empty:\n  X-Spaced  :   a b  \nX-Dup: 1\nx-dup: 2",
        [
            (
                "GET",
                "https://example.com/",
                [("Accept", "application/json"), ("X-Empty", ""), ("X-Spaced", "a b"), ("X-Dup", "1"), ("x-dup", "2")],
                None,
            )
        ],
    ),
    (
        "header value with colons",
        "GET https://example.com/\nX-Time: 12:30:00",
        [("GET", "https://example.com/", [("X-Time", "12:30:00")], None)],
    ),
    (
        "comments around and among headers",
        "# a comment\n// another\n\nGET https://example.com/\n# not a header\nAccept: */*\n// nor this\n",
        [("GET", "https://example.com/", [("Accept", "*/*")], None)],
    ),
    (
        "two requests",
        "GET https://a.example/\n###\nDELETE https://b.example/x",
        [("GET", "https://a.example/", [], None), ("DELETE", "https://b.example/x", [], None)],
    ),
    (
        "three requests with titles, comments and empty blocks",
        "### first\nGET https://a.example/\n\n### second ###\n# only a comment\n###\n\n"
        "POST https://b.example/\n\nbody\n###\nGET https://c.example/\n###\n",
        [
            ("GET", "https://a.example/", [], None),
            ("POST", "https://b.example/", [], b"body"),
            ("GET", "https://c.example/", [], None),
        ],
    ),
    (
        "CRLF line endings",
        "POST https://a.example/\r\nContent-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n",
        [("POST", "https://a.example/", [("Content-Type", "text/plain")], b"line 1\nline 2")],
    ),
]


@pytest.mark.parametrize(("cell", "expected"), [case[1:] for case in REQUESTS], ids=[case[0] for case in REQUESTS])
def test_requests(cell: str, expected: list[tuple[Any, ...]]) -> None:
    assert [summary(spec) for spec in parse(cell)] == expected


def test_default_scheme_applies_to_schemeless_and_localhost_urls() -> None:
    specs = parse("example.com/x\n###\n:3000/y\n###\nhttp://plain.example/", default_scheme="https")
    assert [spec.url for spec in specs] == [
        "https://example.com/x",
        "https://localhost:3000/y",
        "http://plain.example/",
    ]


NAMES = [
    ("# @name", "# @name login\nGET https://a.example/", "login"),
    ("// @name", "// @name login\nGET https://a.example/", "login"),
    ("# @name=", "# @name=login\nGET https://a.example/", "login"),
    ("# @name =", "#   @name = login  \nGET https://a.example/", "login"),
    ("no name", "# login\nGET https://a.example/", None),
    ("name among comments", "### t\n# a\n# @name first_user\n// b\nGET https://a.example/", "first_user"),
]


@pytest.mark.parametrize(("cell", "name"), [case[1:] for case in NAMES], ids=[case[0] for case in NAMES])
def test_request_names(cell: str, name: str | None) -> None:
    (spec,) = parse(cell)
    assert spec.name == name


def test_names_lines_titles_and_directives_of_each_request() -> None:
    cell = (
        "@host = a.example\n"
        "### Log in\n"
        "# @name login\n"
        "# @no-redirect\n"
        "// @timeout 5\n"
        "# @note = careful\n"
        "POST https://{{host}}/login\n"
        "###\n"
        "\n"
        "GET https://{{host}}/me\n"
    )
    first, second = parse_http_templates(cell)
    assert (first.name, first.title, first.line, first.method) == ("login", "Log in", 7, "POST")
    assert first.directives == {"no-redirect": "", "timeout": "5", "note": "careful"}
    assert (second.name, second.title, second.line, second.directives) == (None, None, 10, {})
    specs = parse(cell)
    assert [(spec.name, spec.line) for spec in specs] == [("login", 7), (None, 10)]


# --- bodies ------------------------------------------------------------------------------------

BODIES = [
    (
        "JSON body gets a JSON Content-Type",
        'POST https://a.example/\n\n{"a": 1,\n "b": [true, null]}',
        [JSON_TYPE],
        b'{"a": 1,\n "b": [true, null]}',
    ),
    ("JSON array", "POST https://a.example/\n\n[1, 2]", [JSON_TYPE], b"[1, 2]"),
    (
        "explicit Content-Type is kept",
        'POST https://a.example/\nContent-Type: application/vnd.api+json\n\n{"a": 1}',
        [("Content-Type", "application/vnd.api+json")],
        b'{"a": 1}',
    ),
    (
        "content-type in any case counts",
        'POST https://a.example/\ncontent-type: text/plain\n\n{"a": 1}',
        [("content-type", "text/plain")],
        b'{"a": 1}',
    ),
    ("invalid JSON is plain", "POST https://a.example/\n\n{oops}", [], b"{oops}"),
    ("a JSON scalar is plain", "POST https://a.example/\n\n42", [], b"42"),
    ("plain text", "POST https://a.example/\n\nhello\nworld", [], b"hello\nworld"),
    (
        "blank lines around the body dropped, inside kept",
        "POST https://a.example/\n\n\n\n  indented\n\n  line\n\n\n",
        [],
        b"  indented\n\n  line",
    ),
    (
        "body ends at ###",
        "POST https://a.example/\n\nfirst\n\n###\nGET https://b.example/",
        [],
        b"first",
    ),
    (
        "comment-like lines in a body are body",
        "POST https://a.example/\n\n# not a comment\n// nor this",
        [],
        b"# not a comment\n// nor this",
    ),
    (
        "form body joined without line breaks",
        "POST https://a.example/\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\n\n"
        "name=ada\n    &password={{token}}\n&x=1",
        [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
        b"name=ada&password=abc&x=1",
    ),
    ("unicode body is UTF-8", "POST https://a.example/\n\ncafé ☕", [], "café ☕".encode()),
    (
        "file body",
        "POST https://a.example/\nContent-Type: application/json\n\n< ./data.json",
        [("Content-Type", "application/json")],
        b'{"from": "file"}\n',
    ),
    ("file body, JSON detected", "POST https://a.example/\n\n<   ./data.json  ", [JSON_TYPE], b'{"from": "file"}\n'),
    ("binary file unchanged", "POST https://a.example/\n\n< ./photo.png", [], b"\x89PNG\r\n\x00\xff"),
    ("< file is not interpolated", "POST https://a.example/\n\n< ./template.json", [], FILES("./template.json")),
    (
        "<@ file is interpolated",
        "POST https://a.example/\n\n<@ ./template.json",
        [JSON_TYPE],
        b'{"token": "abc", "n": 8080}',
    ),
    ("interpolated file path", "POST https://a.example/\n\n< ./{{host}}.json", [JSON_TYPE], b"[1]"),
    (
        "text and files mixed (multipart by hand: lines joined with CRLF, the file's bytes unchanged)",
        "POST https://a.example/\nContent-Type: multipart/form-data; boundary=B\n\n"
        '--B\nContent-Disposition: form-data; name="f"\n\n< ./data.json\n--B--',
        [("Content-Type", "multipart/form-data; boundary=B")],
        b'--B\r\nContent-Disposition: form-data; name="f"\r\n\r\n{"from": "file"}\n\r\n--B--',
    ),
    ("<> response references skipped", "POST https://a.example/\n\nbody\n<> 2024-01-01T000000.200.json", [], b"body"),
    (
        "xml body is not a file",
        "POST https://a.example/\n\n<?xml version='1.0'?>\n<a/>",
        [],
        b"<?xml version='1.0'?>\n<a/>",
    ),
    ("headers but no body", "POST https://a.example/\nX-A: 1\n\n\n", [("X-A", "1")], None),
]


@pytest.mark.parametrize(
    ("cell", "headers", "content"), [case[1:] for case in BODIES], ids=[case[0] for case in BODIES]
)
def test_bodies(cell: str, headers: list[tuple[str, str]], content: bytes | None) -> None:
    spec = parse(cell)[0]
    assert (spec.headers, spec.content) == (headers, content)
    assert spec.has_json is False
    assert spec.json is NO_JSON
    assert spec.options().get("content") == content


def test_default_read_file_reads_relative_to_the_current_directory(tmp_path: Any, monkeypatch: Any) -> None:
    (tmp_path / "body.txt").write_bytes(b"on disk")
    monkeypatch.chdir(tmp_path)
    (spec,) = parse_http_cell("POST https://a.example/\n\n< ./body.txt", {})
    assert spec.content == b"on disk"


# --- interpolation -----------------------------------------------------------------------------

INTERPOLATIONS = [
    ("name", "{{token}}", "abc"),
    ("spaces inside braces", "{{  token }}", "abc"),
    ("json() of a response", "{{login.json.token}}", "t0k"),
    ("nested keys", "{{login.json.user.id}}", "7"),
    ("attribute", "{{login.status}}", "200"),
    ("mapping attribute then key", "{{login.headers.X-Token}}", "from-header"),
    ("index", "{{items[0]}}", "first"),
    ("negative index", "{{items[-1]}}", "third"),
    ("index after keys", "{{login.json.user.roles[1]}}", "dev"),
    ("quoted key", "{{obj['weird key']}}", "w"),
    ("double-quoted key with a dot", '{{obj["a.b"]}}', "dotted"),
    ("string key that looks like a number", "{{obj['0']}}", "zero"),
    ("index into a string", "{{token[1]}}", "b"),
    ("tuple index", "{{pair[1]}}", "two"),
    ("generic __getitem__", "{{table['col']}}", "column"),
    ("int", "{{port}}", "8080"),
    ("float", "{{ratio}}", "0.5"),
    ("True as JSON", "{{flag}}", "true"),
    ("False as JSON", "{{off}}", "false"),
    ("None as JSON", "{{nothing}}", "null"),
    ("dict as compact JSON", "{{obj.a}}", "[1,null]"),
    ("list as JSON", "{{login.json.user.roles}}", '["admin","dev"]'),
    ("tuple as JSON", "{{pair}}", '[1,"two"]'),
    ("non-dict mapping as JSON", "{{ordered}}", '{"b":1,"a":2}'),
    ("bytes as UTF-8", "{{raw}}", "bytes é"),
    ("two in a row", "{{token}}{{port}}", "abc8080"),
    ("inserted text is not interpolated again", "{{braces}}", "{{token}}"),
    ("escaped braces", "\\{{token}}", "{{token}}"),
    ("escaped then real", "\\{{ {{token}}", "{{ abc"),
    ("triple braces: innermost pair", "{{{token}}}", "{abc}"),
    ("single braces literal", "{token} {", "{token} {"),
    ("lone closing braces literal", "}} a }}", "}} a }}"),
]


@pytest.mark.parametrize(
    ("template", "expected"), [case[1:] for case in INTERPOLATIONS], ids=[case[0] for case in INTERPOLATIONS]
)
def test_interpolation_in_a_text_body(template: str, expected: str) -> None:
    namespace = {**NAMESPACE, "braces": "{{token}}"}
    (spec,) = parse(f"POST https://a.example/\nContent-Type: text/plain\n\n{template}", namespace)
    assert spec.content == expected.encode()


JSON_BODIES = [
    ("string inside quotes", '{"t": "{{token}}"}', {"t": "abc"}),
    ("number", '{"n": {{port}}}', {"n": 8080}),
    ("no spaces around braces", '{"n":{{port}}}', {"n": 8080}),
    ("nested literal braces", '{"a": {"b": {{flag}}}, "c": {"d": {}}}', {"a": {"b": True}, "c": {"d": {}}}),
    ("dict value", '{"o": {{obj.a}}, "r": {{login.json.user.roles}}}', {"o": [1, None], "r": ["admin", "dev"]}),
    ("null", '{"x": {{nothing}}}', {"x": None}),
    (
        "array of values",
        "[{{port}}, {{flag}}, {{nothing}}, {{items}}]",
        [8080, True, None, ["first", "second", "third"]],
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [case[1:] for case in JSON_BODIES], ids=[case[0] for case in JSON_BODIES]
)
def test_interpolation_next_to_literal_json_braces(body: str, expected: Any) -> None:
    (spec,) = parse(f"POST https://a.example/\n\n{body}")
    assert spec.content is not None
    assert json.loads(spec.content) == expected
    assert ("Content-Type", "application/json") in spec.headers


def test_interpolation_in_url_headers_and_header_names() -> None:
    cell = (
        "POST https://{{host}}:{{port}}/users/{{login.json.user.id}}?debug={{flag}}\n"
        "    &tag={{items[0]}}\n"
        "Authorization: Bearer {{login.json.token}}\n"
        "X-{{items[1]}}: {{ratio}}\n"
    )
    (spec,) = parse(cell)
    assert spec.url == "https://notebook.example:8080/users/7?debug=true&tag=first"
    assert spec.headers == [("Authorization", "Bearer t0k"), ("X-second", "0.5")]


def test_a_url_made_entirely_of_a_variable_gets_the_shorthands() -> None:
    namespace = {"base": "api.example/v1", "local": ":3000"}
    specs = parse("GET {{base}}/x\n###\n{{local}}/y", namespace)
    assert [spec.url for spec in specs] == ["http://api.example/v1/x", "http://localhost:3000/y"]


def test_cell_variables() -> None:
    cell = (
        "@host = cell.example\n"
        "@base=https://{{host}}/api\n"
        "@token = {{login.json.token}}\n"
        "@empty =\n"
        "\n"
        "GET {{base}}/a\n"
        "X-Token: {{token}}\n"
        "X-Empty: [{{empty}}]\n"
        "###\n"
        "@host = other.example\n"
        "GET {{base}}/b\n"
    )
    first, second = parse(cell)
    # cell variables come before the notebook's (host, token), and are interpolated when used
    assert first.url == "https://cell.example/api/a"
    assert first.headers == [("X-Token", "t0k"), ("X-Empty", "[]")]
    # a variable redefined further down applies from there on
    assert second.url == "https://other.example/api/b"


def test_a_variable_defined_after_a_request_does_not_apply_to_it() -> None:
    first, second = parse("GET {{host}}/a\n###\n@host = later.example\nGET {{host}}/b")
    assert (first.url, second.url) == ("http://notebook.example/a", "http://later.example/b")


def test_json_of_a_response_is_parsed_once_per_request() -> None:
    response = FakeResponse({"a": "1", "b": "2"})
    parse("POST https://x.example/{{r.json.a}}\nX-B: {{r.json.b}}\n\n{{r.json.a}}", {"r": response})
    assert response.json_calls == 1


def test_system_variables() -> None:
    cell = (
        "GET https://a.example/\nX-Id: {{$uuid}}\nX-Guid: {{$guid}}\n"
        "X-T: {{$timestamp}}\nX-Iso: {{$isoTimestamp}}\nX-R: {{$randomInt}}"
    )
    headers = dict(parse(cell)[0].headers)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", headers["X-Id"])
    assert headers["X-Guid"] != headers["X-Id"]
    assert re.fullmatch(r"\d{10,}", headers["X-T"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", headers["X-Iso"])
    assert 0 <= int(headers["X-R"]) <= 1000


def test_dollar_and_single_brace_text_is_never_expanded() -> None:
    (spec,) = parse("POST https://a.example/?q=$token\nX-A: {token}\n\n$token {token} ${token}")
    assert spec.url == "https://a.example/?q=$token"
    assert spec.headers == [("X-A", "{token}")]
    assert spec.content == b"$token {token} ${token}"


def test_templates_render_one_request_at_a_time_so_a_later_one_uses_an_earlier_response() -> None:
    cell = (
        "# @name login\nPOST https://a.example/login\n"
        "###\nGET https://a.example/me\nAuthorization: Bearer {{login.json.token}}"
    )
    first, second = parse_http_templates(cell)
    namespace: dict[str, Any] = {}
    assert first.render(namespace).url == "https://a.example/login"
    namespace["login"] = FakeResponse({"token": "fresh"})
    assert second.render(namespace).headers == [("Authorization", "Bearer fresh")]


def test_syntax_is_checked_for_the_whole_cell_before_any_rendering() -> None:
    with pytest.raises(CellSyntaxError) as caught:
        parse_http_templates("GET https://a.example/{{undefined_is_fine_here}}\n###\nGET https://b.example/\nbad")
    assert caught.value.line == 4


FORMATS = [
    ("a", "a"),
    (3, "3"),
    (2.5, "2.5"),
    (True, "true"),
    (None, "null"),
    ({"k": [1, "é"]}, '{"k":[1,"é"]}'),
    ([{"when": __import__("datetime").date(2024, 1, 2)}], '[{"when":"2024-01-02"}]'),
    (b"x", "x"),
    (bytearray(b"y"), "y"),
    (__import__("datetime").date(2024, 1, 2), "2024-01-02"),
]


@pytest.mark.parametrize(("value", "expected"), FORMATS)
def test_format_value(value: Any, expected: str) -> None:
    assert format_value(value) == expected


# --- errors ------------------------------------------------------------------------------------

ERRORS = [
    # (id, cell, line, message)
    ("empty cell", "", 0, "no request in the cell: expected a request line such as 'GET https://example.com/'"),
    ("only comments", "# a\n\n// b\n###\n", 0, "no request in the cell"),
    ("name without request", "GET https://a.example/\n###\n# @name x", 3, "'@name' names no request"),
    ("empty name", "# @name\nGET https://a.example/", 1, "expected a name after '@name', as in '# @name login'"),
    (
        "name not an identifier",
        "# @name get-user\nGET https://a.example/",
        1,
        "request name 'get-user' is not a Python identifier",
    ),
    ("two names", "# @name a\n# @name b\nGET https://a.example/", 2, "a second '@name' (the first is on line 1)"),
    (
        "bad variable",
        "@host example.com\nGET https://a.example/",
        1,
        "expected a cell variable '@name = value', as in '@host = example.com'",
    ),
    ("variable with NUL", "@host = a\x00b\nGET https://a.example/", 1, "a variable contains a NUL character"),
    ("request line with NUL", "GET https://a.example/\x00", 1, "the request line contains a NUL character"),
    (
        "not a method",
        "G3T https://a.example/",
        1,
        "expected '[METHOD] URL [HTTP/1.1]': 'G3T' is not a method such as GET or POST",
    ),
    (
        "too many words",
        "GET https://a.example/a b",
        1,
        "expected '[METHOD] URL [HTTP/1.1]', found 3 words (write a space in a URL as %20)",
    ),
    (
        "header without colon",
        "GET https://a.example/\nAccept */*",
        2,
        "expected 'Name: value' (a header), or a blank line before the body",
    ),
    (
        "body without blank line",
        'POST https://a.example/\nX-A: 1\n{"a": 1}',
        3,
        "'{\"a\"' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)",
    ),
    ("header name with space", "GET https://a.example/\nX A: 1", 2, "'X A' is not a header name"),
    ("empty header name", "GET https://a.example/\n: 1", 2, "'' is not a header name"),
    ("header with NUL", "GET https://a.example/\nX-A: a\x00", 2, "header X-A contains a NUL character"),
    (
        "response handler",
        "GET https://a.example/\n\n> {% client.global.set('a', 1) %}",
        3,
        "response handler scripts ('> {% ... %}') are not supported",
    ),
    (
        "unclosed braces",
        "GET https://a.example/{{token",
        1,
        "'{{' without a closing '}}' (write \\{{ for literal braces)",
    ),
    ("empty braces", "GET https://a.example/\n\n{{ }}", 3, "expected a variable name in '{{ }}'"),
    (
        "an expression",
        "GET https://a.example/{{1 + 2}}",
        1,
        "expected a variable name in '{{1 + 2}}', as in {{login.json.token}} or {{items[0]}} (no expressions",
    ),
    (
        "a call",
        "GET https://a.example/{{login.json()}}",
        1,
        "{{login.json()}}: expected .attribute, [index] or ['key'] after 'login.json', found '()'",
    ),
    (
        "an operator",
        "GET https://a.example/{{port + 1}}",
        1,
        "{{port + 1}}: expected .attribute, [index] or ['key'] after 'port', found '+ 1'",
    ),
    (
        "unknown name",
        "GET https://a.example/\nX-A: {{tokn}}",
        2,
        "{{tokn}}: 'tokn' is not defined (not a notebook variable, a cell @variable or an environment variable); "
        "did you mean 'token'?",
    ),
    (
        "unknown name, nothing close",
        "GET https://a.example/{{zzzzzz}}",
        1,
        "{{zzzzzz}}: 'zzzzzz' is not defined (not a notebook variable, a cell @variable or an environment variable)",
    ),
    (
        "private names are not suggested",
        "GET https://a.example/{{_privat}}",
        1,
        "'_privat' is not defined (not a notebook variable, a cell @variable or an environment variable)",
    ),
    (
        "response of a request not sent",
        "# @name me\nGET https://a.example/\n###\nGET https://a.example/{{me.json.id}}",
        4,
        "{{me.json.id}}: 'me' is not defined yet: "
        "it names the response of the request on line 2, which has not been sent",
    ),
    (
        "missing key",
        "GET https://a.example/{{login.json.tokn}}",
        1,
        "{{login.json.tokn}}: 'tokn' not found; keys: token, user",
    ),
    (
        "missing nested key",
        "POST https://a.example/\n\n{{login.json.user.mail}}",
        3,
        "{{login.json.user.mail}}: 'mail' not found; keys: id, roles",
    ),
    (
        "missing attribute",
        "GET https://a.example/{{port.real.nope}}",
        1,
        "{{port.real.nope}}: 'nope' not found: 'port.real' is an int without 'nope'",
    ),
    (
        "attribute that raises",
        "GET https://a.example/{{login.broken}}",
        1,
        "{{login.broken}}: reading login.broken failed: RuntimeError: boom",
    ),
    (
        "json() that raises",
        "GET https://a.example/{{broken.json.a}}",
        1,
        "{{broken.json.a}}: broken.json() failed: not JSON",
    ),
    (
        "index out of range",
        "GET https://a.example/{{items[3]}}",
        1,
        "{{items[3]}}: [3] is out of range: 'items' has 3 items",
    ),
    (
        "negative index out of range",
        "GET https://a.example/{{pair[-3]}}",
        1,
        "{{pair[-3]}}: [-3] is out of range: 'pair' has 2 items",
    ),
    (
        "index into an empty list",
        "GET https://a.example/{{empty[0]}}",
        1,
        "{{empty[0]}}: [0] is out of range: 'empty' is empty",
    ),
    (
        "index into a number",
        "GET https://a.example/{{port[0]}}",
        1,
        "{{port[0]}}: [0] not found: 'port' is an int, not a list",
    ),
    (
        "key of a list",
        "GET https://a.example/{{items['a']}}",
        1,
        "{{items['a']}}: ['a'] not found: 'items' is a list, not a mapping",
    ),
    (
        "missing quoted key",
        "GET https://a.example/{{obj['nope']}}",
        1,
        "{{obj['nope']}}: ['nope'] not found; keys: 0, a, a.b, weird key",
    ),
    (
        "key in an empty mapping",
        "GET https://a.example/{{nothing_here.x}}",
        1,
        "{{nothing_here.x}}: 'x' not found; the object is empty",
    ),
    (
        "generic __getitem__ failing",
        "GET https://a.example/{{table['row']}}",
        1,
        "{{table['row']}}: ['row'] not found: KeyError: 'row'",
    ),
    (
        "dot after index path in message",
        "GET https://a.example/{{login.json.user.roles[0].x}}",
        1,
        "'x' not found: 'login.json.user.roles[0]' is a str without 'x'",
    ),
    (
        "unknown dynamic variable",
        "GET https://a.example/{{$processEnvs}}",
        1,
        "{{$processEnvs}}: unknown dynamic variable $processEnvs; did you mean $processEnv? known: $datetime,",
    ),
    (
        "dynamic variable without its argument",
        "GET https://a.example/{{$processEnv}}",
        1,
        "{{$processEnv}}: $processEnv takes one variable name, as in {{$processEnv API_TOKEN}}",
    ),
    (
        "unset environment variable",
        "GET https://a.example/{{$processEnv KCLIENT_TEST_NOT_SET}}",
        1,
        "{{$processEnv KCLIENT_TEST_NOT_SET}}: the environment variable KCLIENT_TEST_NOT_SET is not set",
    ),
    (
        "bytes not UTF-8",
        "POST https://a.example/\n\n{{binary}}",
        3,
        "{{binary}}: the bytes are not UTF-8 text (send binary data as a '< file' body)",
    ),
    (
        "header name not a token after interpolation",
        "GET https://a.example/\n{{host}}/x: 1",
        2,
        "the header name 'notebook.example/x' is not a token after interpolation",
    ),
    (
        "line break inserted into a header",
        "GET https://a.example/\nX-A: {{multiline}}",
        2,
        "the value of header X-A contains a line break or NUL after interpolation",
    ),
    (
        "line break inserted into the URL",
        "GET https://a.example/{{multiline}}",
        1,
        "the URL contains a line break or NUL after interpolation",
    ),
    ("bad localhost shorthand", ":abc/x", 1, "expected ':PORT/path' (localhost), found ':abc/x'"),
    (
        "invalid URL",
        "GET https://a.example:99999/",
        1,
        "invalid URL 'https://a.example:99999/': Port out of range 0-65535",
    ),
    ("not http", "GET ftp://a.example/", 1, "expected an http://, https://, ws:// or wss:// URL, not ftp://"),
    ("no host", "GET http:///path", 1, "the URL 'http:///path' has no host"),
    (
        "missing file",
        "POST https://a.example/\n\n< ./missing.json",
        3,
        "cannot read './missing.json': No such file or directory",
    ),
    (
        "<@ file not UTF-8",
        "POST https://a.example/\n\n<@ ./latin1.txt",
        3,
        "'./latin1.txt' is not UTF-8 text: send it unchanged with '< ./latin1.txt'",
    ),
    (
        "<@ file with an unknown name",
        "POST https://a.example/\n\n<@ ./bad-template.txt",
        3,
        "in './bad-template.txt': {{nope}}: 'nope' is not defined",
    ),
    (
        "<@ file with unclosed braces",
        "POST https://a.example/\n\n<@ ./unclosed.txt",
        3,
        "in './unclosed.txt': '{{' without a closing '}}'",
    ),
    (
        "error in a variable",
        "@base = https://{{nohost}}\nGET {{base}}/x",
        2,
        "{{base}}: in @base on line 1: {{nohost}}: 'nohost' is not defined",
    ),
    ("variable cycle", "@a = {{b}}\n@b = x{{a}}\nGET https://a.example/{{a}}", 3, "@a refers to itself (a -> b -> a)"),
    ("variable referring to itself", "@a = {{a}}\nGET https://a.example/{{a}}", 2, "@a refers to itself (a -> a)"),
    (
        "error in the second request",
        "GET https://a.example/\n###\nGET https://a.example/\nX-Bad",
        4,
        "expected 'Name: value'",
    ),
    (
        "error line counts comment lines",
        "# one\n// two\n\nGET https://a.example/\n\n{{items[9]}}",
        6,
        "[9] is out of range",
    ),
]


@pytest.mark.parametrize(("cell", "line", "message"), [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_errors(cell: str, line: int, message: str) -> None:
    namespace = {**NAMESPACE, "empty": [], "nothing_here": {}}
    with pytest.raises(CellSyntaxError) as caught:
        parse(cell, namespace)
    assert caught.value.line == line
    assert message in str(caught.value)
    if line:
        assert str(caught.value).startswith(f"line {line}: ")


def test_an_error_shows_the_line_with_secret_header_values_masked() -> None:
    with pytest.raises(CellSyntaxError) as caught:
        parse("GET https://a.example/\nAuthorization: Bearer {{secret_tokn}}", {"secret_token": "s3cr3t"})
    assert "Authorization: ***" in str(caught.value)
    assert "Bearer" not in str(caught.value)


def test_an_error_in_a_plain_line_shows_it() -> None:
    with pytest.raises(CellSyntaxError) as caught:
        parse("GET https://a.example/\nAccept */*")
    assert str(caught.value) == (
        "line 2: expected 'Name: value' (a header), or a blank line before the body\n    Accept */*"
    )
    assert caught.value.text == "Accept */*"


def test_errors_do_not_show_interpolated_secret_values() -> None:
    with pytest.raises(CellSyntaxError) as caught:
        parse("GET https://a.example/\nX-A: {{secret}}", {"secret": "s3cr3t\nx"})
    assert "s3cr3t" not in str(caught.value)


def test_private_names_are_never_suggested() -> None:
    with pytest.raises(CellSyntaxError) as caught:
        parse("GET https://a.example/{{_privat}}")
    assert "did you mean" not in str(caught.value)


def test_a_real_kclient_response() -> None:
    from multidict import CIMultiDict
    from yarl import URL

    from kclient._models import Request, Response

    login = Response(
        201,
        request=Request("POST", URL("https://a.example/login")),
        headers=CIMultiDict({"Content-Type": "application/json", "X-Request-Id": "r-1"}),
        content=b'{"token": "t0k", "scopes": ["read"]}',
    )
    cell = "GET https://a.example/?s={{login.status}}&id={{login.headers.x-request-id}}\nX-T: {{login.json.token}}"
    (spec,) = parse(cell, {"login": login})
    assert spec.url == "https://a.example/?s=201&id=r-1"
    assert spec.headers == [("X-T", "t0k")]
    with pytest.raises(CellSyntaxError) as caught:
        parse("GET https://a.example/{{login.json.scope}}", {"login": login})
    assert "{{login.json.scope}}: 'scope' not found; keys: scopes, token" in str(caught.value)
