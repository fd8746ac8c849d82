"""HTTPie's request items on a ``%kclient`` line: ``parse_line_request``."""

from __future__ import annotations

from typing import Any

import pytest
from kclient.magics._errors import CellSyntaxError
from kclient.magics._items import expand_url, parse_line_request
from kclient.magics._spec import NO_JSON, RequestSpec

FILES = {
    "a.txt": b"hello",
    "bio.txt": b"I write code.\n",
    "token.txt": b"s3cret\n",
    "q.txt": b"kclient\r\n",
    "cfg.json": b'{"debug": true, "level": 3}',
    "bad.json": b"{debug}",
    "photo.png": b"\x89PNG...",
    "dir/sub/report.json": b"{}",
    "blob.weird-extension": b"\x00\x01",
    "binary.dat": b"\xff\xfe\x00",
    "my doc.txt": b"doc",
}


def fake_read(path: str) -> bytes:
    try:
        return FILES[path]
    except KeyError:
        raise FileNotFoundError(2, "No such file or directory", path) from None


def parse(*words: str, **kwargs: Any) -> RequestSpec:
    return parse_line_request(list(words), read_file=fake_read, **kwargs)


def spec(method: str, url: str, **fields: Any) -> RequestSpec:
    return RequestSpec(method=method, url=url, **fields)


# --- URLs and methods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "scheme", "url"),
    [
        (":3000/path", "http", "http://localhost:3000/path"),
        (":/path", "http", "http://localhost/path"),
        (":3000", "http", "http://localhost:3000"),
        (":", "http", "http://localhost"),
        (":8080?x=1", "http", "http://localhost:8080?x=1"),
        (":3000/path", "https", "https://localhost:3000/path"),
        ("localhost:8000/x", "http", "http://localhost:8000/x"),
        ("example.com/x", "http", "http://example.com/x"),
        ("example.com/x", "https", "https://example.com/x"),
        ("127.0.0.1:5000", "http", "http://127.0.0.1:5000"),
        ("https://example.com/x?a=1#top", "http", "https://example.com/x?a=1#top"),
        ("HTTP://example.com", "https", "HTTP://example.com"),
        ("://pie.dev/get", "http", "http://pie.dev/get"),
        ("https://[::1]:8443/v1", "http", "https://[::1]:8443/v1"),
    ],
)
def test_urls_expand_like_httpie(word: str, scheme: str, url: str) -> None:
    assert expand_url(word, scheme) == url
    assert parse(word, default_scheme=scheme).url == url


@pytest.mark.parametrize("word", ["/get", "/anything/a?b=1", "/"])
def test_a_path_stays_relative_for_the_clients_base_url(word: str) -> None:
    assert parse(word).url == word
    assert parse(word, "x==1").params == [("x", "1")]


@pytest.mark.parametrize(
    ("words", "method"),
    [
        ((":3000",), "GET"),
        ((":3000", "X-A:1", "q==1"), "GET"),  # headers and parameters are not a body
        ((":3000", "a=1"), "POST"),
        ((":3000", "n:=1"), "POST"),
        ((":3000", "f@a.txt"), "POST"),
        ((":3000", "bio=@bio.txt"), "POST"),
        (("GET", ":3000", "a=1"), "GET"),  # an explicit method stays
        (("PATCH", ":3000/x"), "PATCH"),
        (("DELETE", ":3000/x"), "DELETE"),
        (("OPTIONS", ":3000"), "OPTIONS"),
        (("PROPFIND", ":3000/dav"), "PROPFIND"),
        (("M-SEARCH", ":1900"), "M-SEARCH"),
    ],
)
def test_method_is_the_capitalised_first_word_or_guessed(words: tuple[str, ...], method: str) -> None:
    assert parse(*words).method == method


# --- items --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (
            ("POST", ":3000/users", "X-Trace:abc", "q==a b", "name=Ada", "age:=36"),
            spec(
                "POST",
                "http://localhost:3000/users",
                headers=[("X-Trace", "abc")],
                params=[("q", "a b")],
                json={"name": "Ada", "age": 36},
            ),
        ),
        # headers: the value is trimmed; "Name;" is empty; a value may hold ":" "=" and ";"
        (
            (":3000", "Accept: application/json ", "X-Empty;", "Cookie:a=b; c=d", "X-Time:12:30"),
            spec(
                "GET",
                "http://localhost:3000",
                headers=[("Accept", "application/json"), ("X-Empty", ""), ("Cookie", "a=b; c=d"), ("X-Time", "12:30")],
            ),
        ),
        (
            (":3000", "Authorization:@token.txt"),
            spec("GET", "http://localhost:3000", headers=[("Authorization", "s3cret")]),
        ),
        # query parameters: repeated, with separators in the value, from a file
        (
            (":3000", "tag==a", "tag==b", "next==http://x/?y=1", "q==@q.txt", "==empty-name"),
            spec(
                "GET",
                "http://localhost:3000",
                params=[("tag", "a"), ("tag", "b"), ("next", "http://x/?y=1"), ("q", "kclient"), ("", "empty-name")],
            ),
        ),
        # raw JSON values
        (
            (":3000", "n:=3", "pi:=3.14", "ok:=true", "none:=null", 'tags:=["a", 1]', 'meta:={"x": {"y": []}}'),
            spec(
                "POST",
                "http://localhost:3000",
                json={"n": 3, "pi": 3.14, "ok": True, "none": None, "tags": ["a", 1], "meta": {"x": {"y": []}}},
            ),
        ),
        # the first separator wins: "=" before ":" and the other way round
        (
            (":3000", "url=http://example.com", "X-Eq:a=b"),
            spec("POST", "http://localhost:3000", headers=[("X-Eq", "a=b")], json={"url": "http://example.com"}),
        ),
        # at the same place the longest separator wins
        (
            (":3000", "a:=1", "b==2", "c=@bio.txt", "d:=@cfg.json"),
            spec(
                "POST",
                "http://localhost:3000",
                params=[("b", "2")],
                json={"a": 1, "c": "I write code.\n", "d": {"debug": True, "level": 3}},
            ),
        ),
        # a string value stays a string even when it looks like JSON
        ((":3000", "n=3", "t=true"), spec("POST", "http://localhost:3000", json={"n": "3", "t": "true"})),
        # backslash escapes make separator characters literal
        (
            (":3000", "field\\=x=1", "a\\:b=2", "email\\@home=3", "path=C:\\dir", "v=a\\\\b", "msg=x\\=y"),
            spec(
                "POST",
                "http://localhost:3000",
                json={"field=x": "1", "a:b": "2", "email@home": "3", "path": "C:\\dir", "v": "a\\b", "msg": "x=y"},
            ),
        ),
        ((":3000", "X-Handle:\\@ada"), spec("GET", "http://localhost:3000", headers=[("X-Handle", "@ada")])),
        # a later value for the same field replaces the earlier one (HTTPie 3)
        ((":3000", "a=1", "a=2"), spec("POST", "http://localhost:3000", json={"a": "2"})),
        ((":3000", "=x"), spec("POST", "http://localhost:3000", json={"": "x"})),
        ((":3000", "empty="), spec("POST", "http://localhost:3000", json={"empty": ""})),
    ],
)
def test_items(words: tuple[str, ...], expected: RequestSpec) -> None:
    assert parse(*words) == expected


@pytest.mark.parametrize(
    ("words", "body"),
    [
        (("user[name]=Ada", "user[age]:=36"), {"user": {"name": "Ada", "age": 36}}),
        (("tags[]=a", "tags[]=b", "tags[]:=3"), {"tags": ["a", "b", 3]}),
        (("points[2]:=5",), {"points": [None, None, 5]}),
        (("a[0][b]=1", "a[0][c]=2", "a[1][b]=3"), {"a": [{"b": "1", "c": "2"}, {"b": "3"}]}),
        (("a[b][c][]=x",), {"a": {"b": {"c": ["x"]}}}),
        (("[]:=1", "[]=two"), [1, "two"]),  # a top-level array
        (("[1]=b", "[0]=a"), ["a", "b"]),
        (("[0][name]=x",), [{"name": "x"}]),
        (('obj:={"x": 1}', "obj[y]:=2"), {"obj": {"x": 1, "y": 2}}),
        (("a[]=1", "a[0]=replaced"), {"a": ["replaced"]}),
        (("list:=[]", "list[]=x"), {"list": ["x"]}),
        (("a:=null", "a[b]=1"), {"a": {"b": "1"}}),  # null is a free slot, like a padded index
        (("a\\[b\\]=1",), {"a[b]": "1"}),  # escaped brackets are text
        (("a[\\1]=x",), {"a": {"1": "x"}}),  # an escaped number is a key
        (("a[1b]=x",), {"a": {"1b": "x"}}),
        (("0=x", "1[]=y"), {"0": "x", "1": ["y"]}),
        (("a\\b=1",), {"a\\b": "1"}),  # a backslash before an ordinary character stays
    ],
)
def test_nested_json_paths_follow_httpie_3(words: tuple[str, ...], body: Any) -> None:
    assert parse(":3000", *words).json == body


def test_form_mode_makes_data_items_form_fields() -> None:
    result = parse(":3000", "a=1", "n:=2", "ok:=true", "pi:=1.5", "a=3", "x[y]=z", "b=@bio.txt", form=True)
    assert result == spec(
        "POST",
        "http://localhost:3000",
        form={"a": ["1", "3"], "n": "2", "ok": "true", "pi": "1.5", "x[y]": "z", "b": "I write code.\n"},
    )
    assert result.json is NO_JSON


def test_form_mode_without_data_sends_no_body() -> None:
    assert parse(":3000", "X-A:1", form=True) == spec("GET", "http://localhost:3000", headers=[("X-A", "1")])


@pytest.mark.parametrize(
    ("item", "upload"),
    [
        ("f@a.txt", ("a.txt", b"hello", "text/plain")),
        ("f@photo.png", ("photo.png", b"\x89PNG...", "image/png")),
        ("f@photo.png;type=image/x-custom", ("photo.png", b"\x89PNG...", "image/x-custom")),
        ("f@dir/sub/report.json", ("report.json", b"{}", "application/json")),
        ("f@blob.weird-extension", ("blob.weird-extension", b"\x00\x01", "application/octet-stream")),
        ("f@my doc.txt", ("my doc.txt", b"doc", "text/plain")),
    ],
)
def test_file_uploads(item: str, upload: tuple[str, bytes, str]) -> None:
    assert parse(":3000", item).files == {"f": upload}


def test_a_file_upload_makes_the_data_items_multipart_fields() -> None:
    result = parse("PUT", ":3000/up", "title=Hi", "n:=2", "file@a.txt", "img@photo.png", "X-A:1")
    assert result == spec(
        "PUT",
        "http://localhost:3000/up",
        headers=[("X-A", "1")],
        form={"title": "Hi", "n": "2"},
        files={"file": ("a.txt", b"hello", "text/plain"), "img": ("photo.png", b"\x89PNG...", "image/png")},
    )


def test_files_are_read_from_disk_by_default(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "note.txt").write_text("from disk")
    monkeypatch.chdir(tmp_path)
    result = parse_line_request([":3000", "note=@note.txt", "up@note.txt"])
    assert result.form == {"note": "from disk"}
    assert result.files == {"up": ("note.txt", b"from disk", "text/plain")}


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "kwargs", "message"),
    [
        ((), {}, "expected a URL: %kclient [METHOD] URL"),
        (("POST",), {}, "expected a URL after POST"),
        (("post", ":3000"), {}, "write the method in capitals: POST, not post"),
        (("Get", ":3000"), {}, "write the method in capitals: GET, not Get"),
        (
            ("a=1",),
            {},
            "expected a URL such as :3000/path or example.com/path, got 'a=1' (it looks like a request item",
        ),
        (("POST", "name=x"), {}, "got 'name=x' (it looks like a request item: the URL comes first)"),
        ((":abc",), {}, "expected a URL such as :3000/path"),
        (("http://",), {}, "expected a URL such as :3000/path"),
        (("http://host:port/",), {}, "path, got 'http://host:port/' (Port could not be cast to integer value"),
        ((":3000", "plainword"), {}, "item 'plainword' has no separator: expected Header:value, name==value"),
        ((":3000", "a\\=b"), {}, "item 'a\\\\=b' has no separator"),
        ((":3000", "n:=abc"), {}, "item 'n:=abc': the value is not valid JSON (Expecting value)"),
        ((":3000", "n:=NaN"), {}, "item 'n:=NaN': the value is not valid JSON (NaN is not JSON)"),
        ((":3000", "n:=[1,"), {}, "item 'n:=[1,': the value is not valid JSON"),
        ((":3000", "c:=@bad.json"), {}, "item 'c:=@bad.json': the file 'bad.json' is not valid JSON"),
        ((":3000", "X Y:1"), {}, "item 'X Y:1': 'X Y' is not a header name"),
        ((":3000", ":value"), {}, "item ':value': '' is not a header name"),
        ((":3000", "X-A:a\nb"), {}, "a header value cannot contain a line break or NUL"),
        ((":3000", "X-A:a\rb"), {}, "a header value cannot contain a line break or NUL"),
        ((":3000", "Accept:"), {}, "item 'Accept:': the header has no value: write Accept; to send it empty"),
        ((":3000", "X-A;b"), {}, "item 'X-A;b': expected X-A:value, or X-A; alone for an empty header"),
        ((":3000", "@a.txt"), {}, "a file upload needs a field name: name@path"),
        ((":3000", "f@"), {}, "item 'f@': expected a file path after the @"),
        ((":3000", "f@nope.txt"), {}, "item 'f@nope.txt': cannot read the file 'nope.txt' (No such file or directory)"),
        ((":3000", "t=@binary.dat"), {}, "item 't=@binary.dat': the file 'binary.dat' is not UTF-8 text"),
        ((":3000", "f@a.txt", "f@photo.png"), {}, "the field 'f' already has a file"),
        ((":3000", "a:=[1]"), {"form": True}, "item 'a:=[1]': a form field is text, and this value is an array"),
        ((":3000", "f@a.txt", 'a:={"x": 1}'), {}, "a form field is text, and this value is an object"),
        ((":3000", "a:=null"), {"form": True}, "a form field is text, and this value is null"),
        # nested JSON paths
        ((":3000", "a[b=1"), {}, "item 'a[b=1': the field name 'a[b' is a JSON path: expected ']' at its end"),
        ((":3000", "a]=1"), {}, "the field name 'a]' is a JSON path: expected '[' at character 2"),
        ((":3000", "a[b]c=1"), {}, "expected '[' at character 5"),
        ((":3000", "[x]=1"), {}, "expected an index or ']' at character 2"),
        ((":3000", "a=1", "a[b]=2"), {}, "item 'a[b]=2': a is a string, but [b] needs an object"),
        ((":3000", "a[]=1", "a[x]=2"), {}, "item 'a[x]=2': a is an array, but [x] needs an object"),
        ((":3000", "a[x]=1", "a[]=2"), {}, "item 'a[]=2': a is an object, but [] needs an array"),
        ((":3000", "a[x][0]=1", "a[x][y]=2"), {}, "a[x] is an array, but [y] needs an object"),
        ((":3000", "a=1", "[]=2"), {}, "item '[]=2': the JSON body is an object, but [] needs an array"),
        ((":3000", "[]=1", "a=2"), {}, "item 'a=2': the JSON body is an array, but a needs an object"),
        ((":3000", "a[-1]=x"), {}, "negative indexes such as [-1] are not supported"),
    ],
)
def test_errors_say_what_was_expected(words: tuple[str, ...], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(CellSyntaxError) as info:
        parse(*words, **kwargs)
    assert message in str(info.value)
    assert info.value.line == 0
