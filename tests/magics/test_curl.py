"""curl import (``parse_curl``, ``shell_words``) and export (``to_curl``)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest
from kclient.magics._curl import IGNORED_OPTIONS, parse_curl, shell_words, to_curl
from kclient.magics._errors import CellSyntaxError
from kclient.magics._spec import RequestSpec

FILES = {
    "body.txt": b"a=1\r\nb=2\n",
    "photo.png": b"\x89PNG\r\n\x1a\n",
    "my;doc.txt": b"doc",
    "bio.txt": b"I write code.",
    "payload.json": b'{"from": "file"}',
    "up/file.bin": b"\x00\x01\x02",
}


def fake_read(path: str) -> bytes:
    try:
        return FILES[path]
    except KeyError:
        raise FileNotFoundError(2, "No such file or directory", path) from None


def spec(method: str, url: str, **fields: Any) -> RequestSpec:
    return RequestSpec(method=method, url=url, **fields)


FORM = ("Content-Type", "application/x-www-form-urlencoded")
UA_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
UA_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"

# --- shell words ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("curl http://x", ["curl", "http://x"]),
        ('curl \'a b\'  "c \\"d\\"" e\\ f', ["curl", "a b", 'c "d"', "e f"]),
        ("'it'\"'\"'s'", ["it's"]),  # what shlex.quote writes for a single quote
        ("a\\\n  b \\\r\n c", ["a", "b", "c"]),  # line continuations, also with CRLF
        ("'line one\nline two'", ["line one\nline two"]),
        ('"a\\$b \\`c\\` \\\\ \\n"', ["a$b `c` \\ \\n"]),  # in "...", \ escapes only $ ` " \ and newline
        ("$HOME ~/x *.txt", ["$HOME", "~/x", "*.txt"]),  # nothing is expanded
        ('$"hi"', ["hi"]),
        ("$'it\\'s\\n\\t\\\\ \\x41\\u00e9\\U0001F600'", ["it's\n\t\\ Aé😀"]),
        ("$'\\ud83d\\ude00 done\\u0021'", ["😀 done!"]),  # Chrome's UTF-16 escapes
        ("$'Z\\xfcrich'", ["Zürich"]),  # Firefox writes Latin-1 characters as \xHH
        ("$'\\xc3\\xa9t\\xc3\\xa9'", ["été"]),  # \xHH bytes that are UTF-8
        ("$'\\101\\0\\cA\\e\\z'", ["A\x00\x01\x1b\\z"]),
        ("pre$'\\n'post", ["pre\npost"]),
        ("# a comment\ncurl x # another\n", ["curl", "x"]),
        ("a#b", ["a#b"]),
        ("", []),
    ],
)
def test_shell_words(command: str, words: list[str]) -> None:
    assert [w.text for w in shell_words(command)] == words


def test_shell_words_know_their_line() -> None:
    words = shell_words("curl \\\n  -H 'X: a\nb' \\\n  http://x")
    assert [(w.text, w.line) for w in words] == [("curl", 1), ("-H", 2), ("X: a\nb", 2), ("http://x", 4)]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("curl 'http://x", "a ' quote is not closed"),
        ('curl "http://x', 'a " quote is not closed'),
        ("curl $'http://x", "a $' quote is not closed"),
        ("curl $'\\ud83d'", "a $'...' string has a \\u escape that is half a character"),
    ],
)
def test_shell_errors(command: str, message: str) -> None:
    with pytest.raises(CellSyntaxError, match=message.replace("$", r"\$").replace("\\u", r"\\u")):
        shell_words(command)


# --- importing: commands copied from browsers ---------------------------------------------------

CHROME_POST_JSON = (
    """curl 'https://api.example.com/v1/orders?draft=true' \\
  -H 'accept: application/json, text/plain, */*' \\
  -H 'accept-language: en-GB,en-US;q=0.9,en;q=0.8' \\
  -H 'authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc' \\
  -H 'content-type: application/json' \\
  -b '_ga=GA1.1.123; session=s%3Aabc' \\
  -H 'origin: https://app.example.com' \\
  -H 'priority: u=1, i' \\
  -H 'referer: https://app.example.com/orders/new' \\
  -H 'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"' \\
  -H 'sec-ch-ua-mobile: ?0' \\
  -H 'sec-ch-ua-platform: "macOS"' \\
  -H 'sec-fetch-dest: empty' \\
  -H 'sec-fetch-mode: cors' \\
  -H 'sec-fetch-site: same-site' \\
  -H 'user-agent: """
    + UA_CHROME
    + """' \\
  --data-raw '{"items":[{"sku":"A-1","qty":2}],"note":null}'
"""
)

CHROME_PUT_ANSI = """curl 'https://api.example.com/v1/notes/7' \\
  -X 'PUT' \\
  -H 'accept: */*' \\
  -H 'content-type: application/json;charset=UTF-8' \\
  --data-raw $'{\\n  "text": "it\\'s done\\u0021",\\n  "by": "Zo\\u00eb \\ud83d\\ude00"\\n}' \\
  --compressed
"""

CHROME_GET = (
    """curl 'https://example.com/search?q=kclient&page=2' \\
  -H 'accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' \\
  -H 'cache-control: no-cache' \\
  -H 'upgrade-insecure-requests: 1' \\
  -H 'user-agent: """
    + UA_CHROME
    + """'"""
)

CHROME_FORM = """curl 'https://example.com/login' \\
  -H 'content-type: application/x-www-form-urlencoded' \\
  -H 'origin: https://example.com' \\
  --data-raw 'username=ada&password=s3cr%21t&remember=on'"""

CHROME_MULTIPART = """curl 'https://example.com/upload' \\
  -H 'content-type: multipart/form-data; boundary=----WebKitFormBoundaryX1' \\
  --data-raw $'------WebKitFormBoundaryX1\\r\\nContent-Disposition: form-data; name="title"\\r\\n\\r\\nhello\\r\\n\
------WebKitFormBoundaryX1--\\r\\n'"""

FIREFOX_POST = (
    "curl 'https://api.example.com/graphql' -X POST -H 'User-Agent: " + UA_FIREFOX + "' -H 'Accept: */*' "
    "-H 'Accept-Language: en-US,en;q=0.5' -H 'Accept-Encoding: gzip, deflate, br' "
    "-H 'Referer: https://app.example.com/' -H 'content-type: application/json' "
    "-H 'Origin: https://app.example.com' -H 'Connection: keep-alive' -H 'Cookie: sid=abc123' "
    "-H 'Sec-Fetch-Dest: empty' -H 'Sec-Fetch-Mode: cors' -H 'Sec-Fetch-Site: same-site' -H 'TE: trailers' "
    """--data-raw '{"query":"{ me { id } }","variables":{}}'"""
)

FIREFOX_LATIN1 = (
    "curl 'https://example.com/api/cities' -X POST -H 'Content-Type: application/json' "
    """--data-raw $'{"city":"Z\\xfcrich","note":"l\\'\\xe9t\\xe9"}'"""
)

FIREFOX_GET_AUTH = (
    """curl 'https://example.com/private/report.csv' \\
-H 'User-Agent: """
    + UA_FIREFOX
    + """' \\
-H 'Accept: text/csv' \\
-H 'Authorization: Basic YWRhOnMzY3JldA==' \\
-H 'DNT: 1'"""
)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            CHROME_POST_JSON,
            spec(
                "POST",
                "https://api.example.com/v1/orders?draft=true",
                headers=[
                    ("accept", "application/json, text/plain, */*"),
                    ("accept-language", "en-GB,en-US;q=0.9,en;q=0.8"),
                    ("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc"),
                    ("Cookie", "_ga=GA1.1.123; session=s%3Aabc"),
                    ("origin", "https://app.example.com"),
                    ("priority", "u=1, i"),
                    ("referer", "https://app.example.com/orders/new"),
                    ("sec-ch-ua", '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'),
                    ("sec-ch-ua-mobile", "?0"),
                    ("sec-ch-ua-platform", '"macOS"'),
                    ("sec-fetch-dest", "empty"),
                    ("sec-fetch-mode", "cors"),
                    ("sec-fetch-site", "same-site"),
                    ("user-agent", UA_CHROME),
                ],
                json={"items": [{"sku": "A-1", "qty": 2}], "note": None},
            ),
        ),
        (
            CHROME_PUT_ANSI,
            spec(
                "PUT",
                "https://api.example.com/v1/notes/7",
                headers=[("accept", "*/*"), ("content-type", "application/json;charset=UTF-8")],
                json={"text": "it's done!", "by": "Zoë 😀"},
            ),
        ),
        (
            CHROME_GET,
            spec(
                "GET",
                "https://example.com/search?q=kclient&page=2",
                headers=[
                    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                    ("cache-control", "no-cache"),
                    ("upgrade-insecure-requests", "1"),
                    ("user-agent", UA_CHROME),
                ],
            ),
        ),
        (
            CHROME_FORM,
            spec(
                "POST",
                "https://example.com/login",
                headers=[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("origin", "https://example.com"),
                ],
                content=b"username=ada&password=s3cr%21t&remember=on",
            ),
        ),
        (
            CHROME_MULTIPART,
            spec(
                "POST",
                "https://example.com/upload",
                headers=[("content-type", "multipart/form-data; boundary=----WebKitFormBoundaryX1")],
                content=b'------WebKitFormBoundaryX1\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
                b"hello\r\n------WebKitFormBoundaryX1--\r\n",
            ),
        ),
        (
            FIREFOX_POST,
            spec(
                "POST",
                "https://api.example.com/graphql",
                headers=[
                    ("User-Agent", UA_FIREFOX),
                    ("Accept", "*/*"),
                    ("Accept-Language", "en-US,en;q=0.5"),
                    ("Accept-Encoding", "gzip, deflate, br"),
                    ("Referer", "https://app.example.com/"),
                    ("Origin", "https://app.example.com"),
                    ("Connection", "keep-alive"),
                    ("Cookie", "sid=abc123"),
                    ("Sec-Fetch-Dest", "empty"),
                    ("Sec-Fetch-Mode", "cors"),
                    ("Sec-Fetch-Site", "same-site"),
                    ("TE", "trailers"),
                ],
                json={"query": "{ me { id } }", "variables": {}},
            ),
        ),
        (
            FIREFOX_LATIN1,
            spec("POST", "https://example.com/api/cities", json={"city": "Zürich", "note": "l'été"}),
        ),
        (
            FIREFOX_GET_AUTH,
            spec(
                "GET",
                "https://example.com/private/report.csv",
                headers=[
                    ("User-Agent", UA_FIREFOX),
                    ("Accept", "text/csv"),
                    ("Authorization", "Basic YWRhOnMzY3JldA=="),
                    ("DNT", "1"),
                ],
            ),
        ),
    ],
    ids=[
        "chrome-post-json",
        "chrome-put-ansi-c",
        "chrome-get",
        "chrome-form",
        "chrome-multipart",
        "firefox-post",
        "firefox-latin1",
        "firefox-get-auth",
    ],
)
def test_browser_copies_parse(command: str, expected: RequestSpec) -> None:
    assert parse_curl(command, read_file=fake_read) == expected


# --- importing: options -------------------------------------------------------------------------

BASIC = "Basic " + base64.b64encode(b"ada:s3:cret").decode()


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("curl http://x/", spec("GET", "http://x/")),
        ("http://x/", spec("GET", "http://x/")),  # the curl word is optional
        ("curl example.com/x", spec("GET", "http://example.com/x")),
        ("curl --url https://x/y", spec("GET", "https://x/y")),
        ("curl -I http://x", spec("HEAD", "http://x")),
        ("curl --head http://x", spec("HEAD", "http://x")),
        ("curl -X DELETE http://x/1", spec("DELETE", "http://x/1")),
        ("curl -XPATCH -d a=1 http://x", spec("PATCH", "http://x", headers=[FORM], content=b"a=1")),
        ("curl --request OPTIONS http://x", spec("OPTIONS", "http://x")),
        # flags that do not change the request
        (
            "curl -sSLk --compressed -m 5 --connect-timeout 2 -o /dev/null -w '%{http_code}' --http2 "
            "--no-keepalive --retry 3 -v -i -# --fail-with-body http://x",
            spec("GET", "http://x"),
        ),
        ("curl -vo out.txt http://x", spec("GET", "http://x")),  # a bundled flag, then one with a value
        # headers made by options
        ("curl -u ada:s3:cret http://x", spec("GET", "http://x", headers=[("Authorization", BASIC)])),
        ("curl --user ada:s3:cret --basic http://x", spec("GET", "http://x", headers=[("Authorization", BASIC)])),
        ("curl --oauth2-bearer t0k http://x", spec("GET", "http://x", headers=[("Authorization", "Bearer t0k")])),
        (
            "curl -A 'kc/1' -e 'https://ref/;auto' -r 0-99 http://x",
            spec(
                "GET",
                "http://x",
                headers=[("User-Agent", "kc/1"), ("Referer", "https://ref/"), ("Range", "bytes=0-99")],
            ),
        ),
        ("curl -b 'a=1' -b 'b=2' http://x", spec("GET", "http://x", headers=[("Cookie", "a=1; b=2")])),
        # a -H header wins over curl's own, wherever it is
        (
            "curl -A other -H 'User-Agent: mine' -u a:b -H 'authorization: Bearer x' http://x",
            spec("GET", "http://x", headers=[("User-Agent", "mine"), ("authorization", "Bearer x")]),
        ),
        (
            "curl -H 'X-Empty;' -H 'X-A:  spaced  ' http://x",
            spec("GET", "http://x", headers=[("X-Empty", ""), ("X-A", "spaced")]),
        ),
        (
            "curl -H 'X-Twice: 1' -H 'X-Twice: 2' http://x",
            spec("GET", "http://x", headers=[("X-Twice", "1"), ("X-Twice", "2")]),
        ),
        ("curl -H 'User-Agent:' -A ua http://x", spec("GET", "http://x")),  # 'Name:' removes curl's header
        # data
        ("curl -d a=1 -d b=2 http://x", spec("POST", "http://x", headers=[FORM], content=b"a=1&b=2")),
        (
            "curl --data-ascii a=1 --data-binary b=2 --data-raw c=3 http://x",
            spec("POST", "http://x", headers=[FORM], content=b"a=1&b=2&c=3"),
        ),
        (
            "curl -d @body.txt http://x",
            spec("POST", "http://x", headers=[FORM], content=b"a=1b=2"),
        ),  # -d drops line breaks
        ("curl --data-binary @body.txt http://x", spec("POST", "http://x", headers=[FORM], content=b"a=1\r\nb=2\n")),
        ("curl --data-raw @body.txt http://x", spec("POST", "http://x", headers=[FORM], content=b"@body.txt")),
        ("curl -d '' http://x", spec("POST", "http://x", headers=[FORM], content=b"")),
        (
            "curl -H 'Content-Type: text/plain' -d 'hello' http://x",
            spec("POST", "http://x", headers=[("Content-Type", "text/plain")], content=b"hello"),
        ),
        ("curl -H 'Content-Type:' -d 'raw' http://x", spec("POST", "http://x", content=b"raw")),
        # --data-urlencode name=value options alone give a form
        (
            "curl --data-urlencode 'name=Ada L' --data-urlencode 'tag=a&b' --data-urlencode tag=c "
            "--data-urlencode 'bio@bio.txt' http://x",
            spec("POST", "http://x", form={"name": "Ada L", "tag": ["a&b", "c"], "bio": "I write code."}),
        ),
        ("curl --data-urlencode 'a%20b=1' http://x", spec("POST", "http://x", form={"a b": "1"})),
        (
            "curl --data-urlencode 'just text' http://x",
            spec("POST", "http://x", headers=[FORM], content=b"just%20text"),
        ),
        ("curl --data-urlencode '=a&b' http://x", spec("POST", "http://x", headers=[FORM], content=b"a%26b")),
        (
            "curl --data-urlencode @bio.txt http://x",
            spec("POST", "http://x", headers=[FORM], content=b"I%20write%20code."),
        ),
        (
            "curl -d a=1 --data-urlencode 'b=2 3' http://x",
            spec("POST", "http://x", headers=[FORM], content=b"a=1&b=2%203"),
        ),
        # JSON
        (
            "curl --json '{\"a\": 1}' http://x",
            spec("POST", "http://x", headers=[("Accept", "application/json")], json={"a": 1}),
        ),
        (
            "curl --json '{\"a\":' --json ' [1, 2]}' http://x",
            spec("POST", "http://x", headers=[("Accept", "application/json")], json={"a": [1, 2]}),
        ),
        (
            "curl --json @payload.json http://x",
            spec("POST", "http://x", headers=[("Accept", "application/json")], json={"from": "file"}),
        ),
        (
            "curl --json '[1]' -H 'Accept: text/plain' http://x",
            spec("POST", "http://x", headers=[("Accept", "text/plain")], json=[1]),
        ),
        ("curl -H 'Content-Type: application/json' -d '{\"a\": 1}' http://x", spec("POST", "http://x", json={"a": 1})),
        ("curl -H 'Content-Type: application/json' -d 'null' http://x", spec("POST", "http://x", json=None)),
        (
            "curl -H 'Content-Type: application/merge-patch+json' -X PATCH -d '{\"a\": null}' http://x",
            spec("PATCH", "http://x", headers=[("Content-Type", "application/merge-patch+json")], json={"a": None}),
        ),
        # JSON that re-encoding could change stays as bytes
        (
            "curl -H 'Content-Type: application/json' -d '{\"a\": 1, \"a\": 2}' http://x",
            spec("POST", "http://x", headers=[("Content-Type", "application/json")], content=b'{"a": 1, "a": 2}'),
        ),
        (
            "curl -H 'Content-Type: application/json' -d '{\"n\": NaN}' http://x",
            spec("POST", "http://x", headers=[("Content-Type", "application/json")], content=b'{"n": NaN}'),
        ),
        (
            "curl -H 'Content-Type: application/json' -d 'not json' http://x",
            spec("POST", "http://x", headers=[("Content-Type", "application/json")], content=b"not json"),
        ),
        ("curl -d '{\"a\": 1}' http://x", spec("POST", "http://x", headers=[FORM], content=b'{"a": 1}')),
        # -G puts the data in the query
        ("curl -G -d q=a -d page=2 http://x/s", spec("GET", "http://x/s?q=a&page=2")),
        ("curl -G --data-urlencode 'q=a b' 'http://x/s?x=1#top'", spec("GET", "http://x/s?x=1&q=a%20b#top")),
        ("curl -G -X POST -d q=1 http://x/s", spec("POST", "http://x/s?q=1")),
        # multipart
        (
            "curl -F title=Hi -F 'file=@photo.png' -F 'doc=@\"my;doc.txt\";type=text/markdown;filename=notes.md' "
            "-F 'bio=<bio.txt' -F 'n=1;type=text/plain' --form-string 'at=@literal' -F title=again http://x/up",
            spec(
                "POST",
                "http://x/up",
                form={"title": ["Hi", "again"], "bio": "I write code.", "n": "1", "at": "@literal"},
                files={
                    "file": ("photo.png", b"\x89PNG\r\n\x1a\n", "image/png"),
                    "doc": ("notes.md", b"doc", "text/markdown"),
                },
            ),
        ),
        (
            "curl -H 'Content-Type: multipart/form-data' -F a=1 http://x",
            spec("POST", "http://x", form={"a": "1"}),  # the client writes the boundary
        ),
        # upload
        ("curl -T up/file.bin http://x/in/", spec("PUT", "http://x/in/file.bin", content=b"\x00\x01\x02")),
        ("curl -X POST -T up/file.bin http://x/in", spec("POST", "http://x/in", content=b"\x00\x01\x02")),
    ],
)
def test_curl_options(command: str, expected: RequestSpec) -> None:
    assert parse_curl(command, read_file=fake_read) == expected


def test_ignored_options_include_the_common_ones() -> None:
    for option in ("--compressed", "--location", "--insecure", "--silent", "--verbose", "--include", "--max-time"):
        assert option in IGNORED_OPTIONS


def test_parse_curl_keeps_the_cell_line() -> None:
    assert parse_curl("curl http://x", first_line=3).line == 3


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("curl", "the curl command has no URL"),
        ("curl -s", "the curl command has no URL"),
        ("curl http://a http://b", "the curl command has 2 URLs (http://a, http://b): give one"),
        ("curl --bogus http://x", "unknown curl option --bogus"),
        ("curl -sQ http://x", "unknown curl option -Q"),
        ("curl --data=x http://x", "unknown curl option --data=x"),
        (
            "curl -x http://proxy:3128 http://x",
            "the curl option -x (--proxy) is not supported: set a proxy on the client",
        ),
        ("curl --proxy http://proxy:3128 http://x", "the curl option --proxy is not supported"),
        ("curl --digest -u a:b http://x", "the curl option --digest is not supported: only Basic authentication"),
        ("curl -K cfg http://x", "the curl option -K (--config) is not supported"),
        ("curl http://x -H", "the curl option -H needs a value"),
        ("curl http://x --data-raw", "the curl option --data-raw needs a value"),
        ("curl http://x -m", "the curl option -m needs a value"),
        ("curl -H 'NoColon' http://x", "-H 'NoColon': a header is written 'Name: value' (or 'Name;' for an empty one)"),
        ("curl -H 'Bad Name: v' http://x", "-H 'Bad Name: v': 'Bad Name' is not a header name"),
        ("curl -H @headers.txt http://x", "-H @file: reading headers from a file is not supported"),
        ("curl -H $'X-A: a\\r\\nInjected: 1' http://x", "-H X-A: a header value cannot contain a line break or NUL"),
        ("curl -u ada http://x", "-u needs user:password (curl would ask for the password)"),
        ("curl -b cookies.txt http://x", "-b 'cookies.txt': cookies from a file are not read"),
        ("curl -d @- http://x", "--data @-: reading from standard input is not supported"),
        ("curl -d @missing.txt http://x", "--data: cannot read the file 'missing.txt' (No such file or directory)"),
        ("curl -F f=@missing.png http://x", "-F: cannot read the file 'missing.png'"),
        ("curl -F novalue http://x", "-F 'novalue': a form part is name=value or name=@file"),
        ("curl -F 'a=@photo.png' -F 'a=@bio.txt' http://x", "the field 'a' already has a file"),
        ("curl -d a=1 -F b=2 http://x", "the curl command gives several bodies (-d/--data and -F/--form): give one"),
        ("curl -d a=1 -T up/file.bin http://x", "several bodies (-d/--data and -T/--upload-file)"),
        ("curl -I -d a=1 http://x", "-I/--head sends no body, but the command has -d/--data"),
        ("curl -G -F a=1 http://x", "-G/--get puts -d data in the URL; it does not work with -F/--form"),
        ("curl ftp://x/file", "only http:// and https:// URLs are supported, not 'ftp://x/file'"),
        ("curl 'http://x", "a ' quote is not closed"),
    ],
)
def test_curl_errors(command: str, message: str) -> None:
    with pytest.raises(CellSyntaxError) as info:
        parse_curl(command, read_file=fake_read)
    assert message in str(info.value)
    assert info.value.line == 0


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("curl \\\n  -H 'X: 1' \\\n  --bogus \\\n  http://x", 7),
        ("curl http://x \\\n  -d 'a\nb' \\\n  -d @missing.txt", 8),
        ("curl \\\n  'http://x", 6),
        ("curl \\\n  -s", 5),  # no option at fault: the line where the command starts
    ],
)
def test_curl_errors_in_a_cell_name_the_line(command: str, line: int) -> None:
    with pytest.raises(CellSyntaxError) as info:
        parse_curl(command, read_file=fake_read, first_line=5)
    assert info.value.line == line
    assert str(info.value).startswith(f"line {line}: ")


# --- exporting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_spec", "command"),
    [
        (spec("GET", "http://x/a"), "curl http://x/a"),
        (spec("GET", "http://x/a", params=[("q", "a b"), ("tag", "x&y")]), "curl 'http://x/a?q=a+b&tag=x%26y'"),
        (spec("GET", "http://x/a?page=2", params=[("q", "é")]), "curl 'http://x/a?page=2&q=%C3%A9'"),
        (spec("HEAD", "http://x"), "curl http://x --head"),
        (spec("DELETE", "http://x/1"), "curl http://x/1 -X DELETE"),
        (spec("GET", "http://x", content=b"body"), "curl http://x -X GET -H 'Content-Type:' --data-raw body"),
        (
            spec("POST", "http://x", json={"a": "it's"}),
            """curl http://x -H 'Content-Type: application/json' --data-raw '{"a":"it'"'"'s"}'""",
        ),
        (
            spec("PUT", "http://x", headers=[("Accept", "application/json")], json=[1, None]),
            "curl http://x -X PUT --json '[1,null]'",
        ),
        (spec("POST", "http://x", headers=[("X-E", "")]), "curl http://x -X POST -H 'X-E;'"),
        (
            spec("POST", "http://x", form={"a b": "c d", "t": ["1", "2"]}),
            "curl http://x --data-urlencode 'a+b=c d' --data-urlencode t=1 --data-urlencode t=2".replace(
                " --", " \\\n  --"
            ),
        ),
        (spec("POST", "http://x", form={"": "v w"}), "curl http://x --data-raw =v+w"),
        (
            spec("POST", "http://x", content=b"line1\r\nline2", headers=[("Content-Type", "text/plain")]),
            "curl http://x -H 'Content-Type: text/plain' --data-raw $'line1\\r\\nline2'",
        ),
        (
            spec("POST", "http://x", content=b"\xff\x00binary", headers=[("Content-Type", "image/gif")]),
            "# save the 8-byte request body as body.bin, then:\n"
            "curl http://x -H 'Content-Type: image/gif' --data-binary @body.bin",
        ),
        (
            spec("POST", "http://x/up", form={"t": "@x"}, files={"f": ("my doc;1.txt", b"x", "text/plain")}),
            "curl http://x/up --form-string t=@x -F 'f=@\"my doc;1.txt\";type=text/plain'",
        ),
    ],
)
def test_to_curl_short_commands(request_spec: RequestSpec, command: str) -> None:
    assert to_curl(request_spec) == command


def test_to_curl_puts_long_commands_one_option_a_line() -> None:
    request_spec = spec(
        "PATCH",
        "https://api.example.com/v1/users/42",
        headers=[("X-Request-Id", "abc-123"), ("Content-Type", "application/merge-patch+json")],
        json={"name": "Ada"},
    )
    assert to_curl(request_spec) == (
        "curl https://api.example.com/v1/users/42 \\\n"
        "  -X PATCH \\\n"
        "  -H 'X-Request-Id: abc-123' \\\n"
        "  -H 'Content-Type: application/merge-patch+json' \\\n"
        """  --data-raw '{"name":"Ada"}'"""
    )


SECRET_SPEC = spec(
    "GET",
    "https://ada:pa55@example.com/v1?token=abc&page=2",
    params=[("api_key", "k3y"), ("q", "x"), ("session", "s1")],
    headers=[
        ("Authorization", "Bearer abc"),
        ("cookie", "sid=1"),
        ("Proxy-Authorization", "Basic xyz"),
        ("X-Api-Key", "k"),
        ("X-Custom", "mine"),
        ("Accept", "*/*"),
    ],
)


def test_to_curl_masks_secrets_by_default() -> None:
    command = to_curl(SECRET_SPEC)
    assert "https://ada:***@example.com/v1?token=***&page=2&api_key=***&q=x&session=s1" in command
    for header in ("Authorization: ***", "cookie: ***", "Proxy-Authorization: ***", "X-Api-Key: ***"):
        assert f"-H '{header}'" in command
    assert "-H 'X-Custom: mine'" in command
    for secret in ("pa55", "abc", "k3y", "sid=1", "xyz"):
        assert secret not in command


def test_to_curl_masks_the_names_it_is_given() -> None:
    command = to_curl(SECRET_SPEC, masked=frozenset({"X-Custom", "SESSION"}))
    assert "-H 'X-Custom: ***'" in command
    assert "session=***" in command
    assert "-H 'Accept: */*'" in command


def test_to_curl_shows_secrets_when_asked() -> None:
    command = to_curl(SECRET_SPEC, masked=frozenset({"x-custom"}), mask_secrets=False)
    assert "https://ada:pa55@example.com/v1?token=abc&page=2&api_key=k3y&q=x&session=s1" in command
    assert "-H 'Authorization: Bearer abc'" in command
    assert "-H 'X-Custom: mine'" in command
    assert "***" not in command


# --- round trips --------------------------------------------------------------------------------


def _form_pairs(form: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    return [(k, item) for k, v in form.items() for item in (v if isinstance(v, list) else [v])]


def _is(value: str | None, media_type: str) -> bool:
    return (value or "").strip().lower() == media_type


def sent(request_spec: RequestSpec) -> tuple[Any, ...]:
    """What the server receives, comparable: method, URL, query pairs, headers, body.

    Query strings compare decoded (the spec's params are part of the query); header names
    compare without case and in order per name; a Content-Type header the client would set
    anyway is left out (and ignored for multipart, whose boundary the client writes); JSON
    bodies compare as JSON values, even when a spec holds them as bytes.
    """
    parts = urlsplit(request_spec.url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(request_spec.params)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", parts.fragment))
    ctype = next((v for n, v in request_spec.headers if n.lower() == "content-type"), None)
    body: Any
    if request_spec.has_json:
        body, keep_ctype = ("json", request_spec.json), not _is(ctype, "application/json")
    elif request_spec.files:
        body, keep_ctype = ("multipart", _form_pairs(request_spec.form), request_spec.files), False
    elif request_spec.form:
        body, keep_ctype = ("form", _form_pairs(request_spec.form)), not _is(ctype, "application/x-www-form-urlencoded")
    elif request_spec.content is not None and _is(ctype, "application/json"):
        body, keep_ctype = ("json", json.loads(request_spec.content)), False
    else:
        body, keep_ctype = ("bytes", request_spec.content), True
    headers = sorted(
        ((n.lower(), v) for n, v in request_spec.headers if keep_ctype or n.lower() != "content-type"),
        key=lambda header: header[0],
    )
    return request_spec.method, base, query, headers, body


def files_of(request_spec: RequestSpec) -> Any:
    """A read_file that finds the spec's uploads by name, and a binary body in body.bin."""
    stored = {filename: content for filename, content, _ in request_spec.files.values()}
    if request_spec.content is not None:
        stored["body.bin"] = request_spec.content
    return stored.__getitem__


ROUND_TRIP_EXACT = [
    spec("GET", "http://localhost:3000/x"),
    spec("GET", "https://example.com/a?b=1#frag", headers=[("Accept", "text/csv"), ("X-Empty", "")]),
    spec("HEAD", "http://x/h"),
    spec("DELETE", "http://x/1", headers=[("Authorization", "Bearer t"), ("Cookie", "a=b; c=d")]),
    spec("POST", "http://x", json={"name": "Ada", "tags": ["a", "b"], "nested": {"quote": 'it\'s "x"'}}),
    spec("PUT", "http://x", json=[1, 2.5, True, None]),
    spec("POST", "http://x", json=None),
    spec("POST", "http://x", json="text with\nnewline and \r carriage"),
    spec("PATCH", "http://x", headers=[("Content-Type", "application/merge-patch+json")], json={"a": None}),
    spec("POST", "http://x", form={"name": "Ada L", "tags": ["a&b", "c=d"], "emoji": "😀", "a[b]": "1"}),
    spec("POST", "http://x/up", form={"title": "Hi", "at": "@x"}, files={"f": ("photo.png", b"\x89PNG", "image/png")}),
    spec(
        "PUT",
        "http://x/up",
        files={"f": ("my;doc.txt", b"doc", "text/plain"), "g": ("b.bin", b"\x00", "application/octet-stream")},
    ),
    spec("POST", "http://x", headers=[("Content-Type", "text/plain; charset=utf-8")], content="héllo\nwörld".encode()),
    spec("POST", "http://x", content=b"no content type"),
    spec("POST", "http://x", content=b""),
    spec("POST", "http://x", headers=[("Content-Type", "application/octet-stream")], content=b"\xff\x00\x01"),
    spec("GET", "http://x", content=b"get with a body", headers=[("Content-Type", "text/plain")]),
    spec("OPTIONS", "http://x", headers=[("Origin", "https://a.example"), ("Access-Control-Request-Method", "PUT")]),
]


@pytest.mark.parametrize("request_spec", ROUND_TRIP_EXACT)
def test_round_trip_gives_back_the_same_spec(request_spec: RequestSpec) -> None:
    command = to_curl(request_spec, mask_secrets=False)
    assert parse_curl(command, read_file=files_of(request_spec)) == request_spec


ROUND_TRIP_EQUIVALENT = [
    # parameters end up in the URL
    spec("GET", "http://x/s", params=[("q", "a b&c"), ("q", "2"), ("e", "é"), ("empty", "")]),
    spec("GET", "http://x/s?x=1", params=[("token", "t0k")]),
    # Accept: application/json with a JSON body prints as --json
    spec("POST", "http://x", headers=[("Accept", "application/json"), ("X-A", "1")], json={"a": 1}),
    spec("POST", "http://x", headers=[("Content-Type", "application/json"), ("Accept", "application/json")], json=[]),
    # an explicit Content-Type the client would set anyway
    spec("POST", "http://x", headers=[("content-type", "application/json")], json={"a": 1}),
    spec("POST", "http://x", headers=[("Content-Type", "application/x-www-form-urlencoded")], form={"a": "1"}),
    # JSON held as bytes (a .http cell body) becomes a JSON body
    spec("POST", "http://x", headers=[("Content-Type", "application/json")], content=b'{\n  "a": [1, 2]\n}'),
    # a multipart Content-Type is the client's to write
    spec(
        "POST",
        "http://x",
        headers=[("Content-Type", "multipart/form-data")],
        files={"f": ("a.txt", b"a", "text/plain")},
    ),
]


@pytest.mark.parametrize("request_spec", ROUND_TRIP_EQUIVALENT)
def test_round_trip_gives_back_an_equivalent_spec(request_spec: RequestSpec) -> None:
    command = to_curl(request_spec, mask_secrets=False)
    assert sent(parse_curl(command, read_file=files_of(request_spec))) == sent(request_spec)


@pytest.mark.parametrize(
    "command",
    [CHROME_POST_JSON, CHROME_PUT_ANSI, CHROME_GET, CHROME_FORM, CHROME_MULTIPART, FIREFOX_POST, FIREFOX_LATIN1],
)
def test_browser_copies_survive_export_and_import(command: str) -> None:
    imported = parse_curl(command)
    assert parse_curl(to_curl(imported, mask_secrets=False)) == imported


@pytest.mark.parametrize(
    ("body", "quoted"),
    [
        (b"line1\nline2", "'line1\nline2'"),  # tab and LF show as they are in single quotes
        (b"a\tb", "'a\tb'"),
        (b"a\x0cb", "$'a\\x0cb'"),  # any other control character needs $'...'
        (b"a\x1b[0mb", "$'a\\x1b[0mb'"),
    ],
)
def test_to_curl_quotes_control_characters_by_kclient_syntax(body: bytes, quoted: str) -> None:
    command = to_curl(spec("POST", "http://x", content=body, headers=[("Content-Type", "text/plain")]))
    assert command.endswith(f"--data-raw {quoted}")
