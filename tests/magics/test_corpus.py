"""Every request of a corpus of ``.http`` files in the syntax of three other tools (``corpus/``).

The corpus holds our own requests, one for each request syntax that JetBrains' spec and HTTP
Client documentation, VS Code REST Client's README and httpyac's documentation describe (written
from that documentation, none of its text copied: see ``corpus/LICENSES.md``), one request per
``###`` block, numbered in the block's title. ``EXPECTED`` says, for each ``(file, number)``, what
kclient does with it:

* ``ok(method, url, ...)``: it parses, and rendered with ``NAMESPACE`` and ``ENVIRONMENT`` it is
  that request (headers are a subset; a body is exact text, a regular expression or a GraphQL
  document), with those ``??`` checks and that ``>>`` save;
* ``chained(method, "login")``: it parses, and uses the response of another request, so
  rendering without that name in the namespace fails with an error naming it;
* ``refused("...")``: ``CellSyntaxError`` matching that, when parsed (or rendered, with
  ``stage="render"``).

Each request is parsed on its own (``corpus_requests``), so that one refusal hides no other: its
block is kept, every other line is blanked (line numbers stay those of the file), except the
``@variables`` of earlier blocks that hold only variables (REST Client's file variables).

``note`` explains an expectation where the tool whose syntax the request uses does something
else: "Not supported:" for a feature kclient lacks, "Differs:" where it does the thing its own
way. Both record today's behaviour, so that a change shows up here as a failing test to update.
``test_counts`` pins how many requests there are and how they end, so none is dropped silently.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from kclient.magics._environments import Environment
from kclient.magics._errors import CellSyntaxError
from kclient.magics._httpfile import HttpRequestTemplate, parse_http_templates
from kclient.magics._spec import RequestSpec

CORPUS = Path(__file__).parent / "corpus"
FILES = ("jetbrains_spec.http", "rest_client.http", "httpyac.http")

# --- the corpus, one request at a time ---------------------------------------------------------


@dataclass(frozen=True)
class CorpusRequest:
    """One numbered ``###`` block of a corpus file, ready to parse on its own (``text``)."""

    file: str
    number: int
    title: str
    #: 1-based lines of the file: the block's ``###`` line and its last line.
    first: int
    last: int
    text: str


def _is_request_block(lines: list[str]) -> bool:
    """Whether a block holds more than blank, comment and ``@variable`` lines."""
    return any(line.strip() and not line.strip().startswith(("#", "//", "@")) for line in lines)


def corpus_requests(file: str) -> list[CorpusRequest]:
    """The requests of ``corpus/<file>``; a ``###`` title must start with the request's number."""
    lines = (CORPUS / file).read_text(encoding="utf-8").split("\n")
    starts = [index for index, line in enumerate(lines) if line.startswith("###")]
    bounds = list(zip([0, *starts], [*starts, len(lines)], strict=True))
    requests: list[CorpusRequest] = []
    file_variables: set[int] = set()  # indexes of the lines of earlier variable-only blocks
    for start, end in bounds:
        body = lines[start + 1 : end] if start in starts else lines[start:end]
        title = lines[start][3:].strip() if start in starts else ""
        numbered = re.match(r"(\d+)\. ", title)
        if not _is_request_block(body):
            assert numbered is None, f"{file} line {start + 1}: a numbered block without a request"
            if start in starts:
                file_variables.update(i for i in range(start + 1, end) if lines[i].strip().startswith("@"))
            continue
        number = len(requests) + 1
        assert numbered is not None and int(numbered.group(1)) == number, (
            f"{file} line {start + 1}: expected '### {number}. title', found {lines[start]!r}"
        )
        kept = [line if start <= i < end or i in file_variables else "" for i, line in enumerate(lines)]
        requests.append(CorpusRequest(file, number, title, start + 1, end, "\n".join(kept)))
    return requests


REQUESTS = {(request.file, request.number): request for file in FILES for request in corpus_requests(file)}

# --- what the requests use ---------------------------------------------------------------------

NAMESPACE: dict[str, Any] = {
    "host": "example.net",
    "token": "T0K3N",
    "itemId": 7,
    "item-id": 8,
    # REST Client's prompt variables, as the user would answer them.
    "member": "grace",
    "ticket": "L-204",
    "pin": "2468",
    # REST Client's request variables are file-wide; this stands for the one block 18 defines.
    "session": "S-from-sign-in",
    "loanId": 55,
}

ENVIRONMENT = Environment(
    name="dev",
    folder=CORPUS,
    # REST Client's environment settings: 'keyVariable' names a variable of the machine's environment.
    variables={"apiVersion": "v3", "keyVariable": "SHELF_API_KEY"},
    dotenv={"REVIEWER": "dotenv-grace"},
)

PROCESS_ENV = {"HOME": "/home/grace", "SHELF_EDITOR": "grace", "SHELF_API_KEY": "k-3141"}

BODY_FILES = {"./shelf-template.xml": b"<shelf><owner>{{token}}</owner></shelf>"}


def read_file(path: str) -> bytes:
    """Files named by ``< path`` bodies: ``BODY_FILES``, else ``[path]`` as a stand-in."""
    return BODY_FILES.get(path, f"[{path}]".encode())


# --- expectations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphQL:
    """A GraphQL JSON body: its ``query`` starts with ``query``, its ``variables`` and
    ``operationName`` are these (``None``: absent)."""

    query: str
    variables: Mapping[str, Any] | None = None
    operation: str | None = None


Body = None | str | re.Pattern[str] | GraphQL
#: A ``??`` line as (field, argument, condition, expected).
CheckTuple = tuple[str, str | None, str, str | None]


@dataclass(frozen=True)
class Ok:
    method: str
    url: str | re.Pattern[str]
    headers: Mapping[str, str | re.Pattern[str]] = field(default_factory=dict)
    #: Header names the request must not have.
    absent: tuple[str, ...] = ()
    body: Body = None
    name: str | None = None
    directives: Mapping[str, str] | None = None
    #: The template's ``??`` checks.
    checks: tuple[CheckTuple, ...] = ()
    #: The ``>>`` path (interpolated) and whether it is ``>>!`` (overwrite).
    save: tuple[str, bool] | None = None
    note: str = ""


@dataclass(frozen=True)
class Chained:
    method: str
    missing: str
    note: str = ""


@dataclass(frozen=True)
class Refused:
    match: str
    stage: Literal["parse", "render"] = "parse"
    note: str = ""


Expectation = Ok | Chained | Refused


def ok(method: str, url: str | re.Pattern[str], **details: Any) -> Ok:
    return Ok(method, url, **details)


def chained(method: str, missing: str, **details: Any) -> Chained:
    return Chained(method, missing, **details)


def refused(match: str, **details: Any) -> Refused:
    return Refused(match, **details)


def rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)


def crlf(text: str) -> str:
    """``text`` with CRLF line breaks (how multipart bodies are sent)."""
    return text.replace("\n", "\r\n")


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
RFC1123 = r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d (?:GMT|[+-]\d{4})"

# --- the table ---------------------------------------------------------------------------------

JB, RC, YAC = FILES

JS = "JavaScript"
HANDLER = r"response handler scripts \('> \{% \.\.\. %\}'\) are not supported: they are JavaScript"
NOT_A_HEADER = r"expected 'Name: value' \(a header\)"
NOT_A_VARIABLE = "expected a cell variable '@name = value'"

EXPECTED: dict[tuple[str, int], Expectation] = {
    # --- JetBrains' spec and HTTP Client documentation ---
    (JB, 1): ok(
        "POST",
        "http://example.com/api/items",
        headers={"Content-Type": "application/json"},
        body='{\n  "title": "notebook",\n  "price": 12\n}',
    ),
    (JB, 2): ok("GET", "http://example.com/api/ping", absent=("Host",)),
    (JB, 3): ok(
        "OPTIONS",
        "http://*",
        headers={"Host": "http://api.example.test:8443"},
        note="Not supported: the asterisk form becomes the URL http://*, and the Host header (with a scheme) "
        "is sent as typed",
    ),
    (JB, 4): ok("GET", "http://[::1]:8080/health"),
    (JB, 5): ok("GET", "http://example.com:8080/api/orders?id=42"),
    (JB, 6): ok("GET", "http://example.com/api/search?q=lamp&limit=5"),
    (JB, 7): ok("GET", "http://example.com/docs/intro#installation", note="the fragment stays in the URL"),
    (JB, 8): ok("GET", "http://example.com/städte/zürich?straße=bahnhofstraße"),
    (JB, 9): ok(
        "GET",
        "http://example.com/api/profile",
        headers={"From": "editor@example.test", "Accept-Language": "de-CH"},
    ),
    (JB, 10): refused(
        NOT_A_HEADER,
        note="Not supported: a header value continued on an indented line (spec 3.2.2) is read as a header line",
    ),
    (JB, 11): ok("POST", "http://example.com/api/notes", body="plain note text"),
    (JB, 12): ok(
        "POST",
        "http://example.com/api/upload",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        body=crlf(
            '--xyz\nContent-Disposition: form-data; name="caption"\n\nHoliday\n'
            '--xyz\nContent-Disposition: form-data; name="photo"; filename="beach.txt"\n\n[./beach.txt]\n--xyz--'
        ),
        note="multipart lines are joined with CRLF, as MIME wants",
    ),
    (JB, 13): refused(HANDLER),
    (JB, 14): refused(r"handler files \('\./handlers/store-session\.js'\) are not supported: they are JavaScript"),
    (JB, 15): refused(r"pre-request scripts \('< \{% \.\.\. %\}'\) are not supported: they are JavaScript"),
    (JB, 16): ok("GET", "http://example.com/api/report"),
    (JB, 17): refused(HANDLER),
    (JB, 18): ok("GET", "http://example.net/catalogue/8/reviews"),
    (JB, 19): ok("GET", "http://example.net/api/items/7", headers={"Authorization": "Bearer T0K3N"}),
    (JB, 20): ok(
        "GET",
        "http://example.com/api/ping",
        name="ping",
        directives={"no-redirect": "", "timeout": "5", "no-log": ""},
    ),
    (JB, 21): ok(
        "POST",
        "http://example.com/api/events",
        headers={"Content-Type": "application/json", "X-Request-Id": rx(UUID)},
        body=rx(
            rf'\{{\n  "id": "{UUID}",\n  "at": \d{{10}},\n  "iso": "{ISO}",\n  "any": \d{{1,4}},\n'
            r'  "dice": [1-6],\n  "ratio": [0-9.e-]+,\n  "code": "[A-Za-z]{5}",\n  "tag": "[A-Za-z0-9]{8}",\n'
            r'  "hex": "[0-9a-f]{6}",\n  "mail": "[a-z]+@example\.com"\n\}'
        ),
    ),
    (JB, 22): ok(
        "POST",
        "http://example.com/graphql",
        headers={"Content-Type": "application/json"},
        body=GraphQL("query Book($id: ID!) {", {"id": "42"}, "Book"),
    ),
    (JB, 23): ok(
        "WEBSOCKET",
        "ws://example.com/ws/echo",
        body='{"message": "Hello"}\n===\n{"message": "World"}\n=== wait-for-server\n{"message": "after the answer"}',
    ),
    (JB, 24): refused(r"gRPC requests \('GRPC host/Service/Method'\) are not supported"),
    (JB, 25): ok("GET", "http://example.com/api/report", save=("./responses/report.json", False)),
    (JB, 26): refused(r"JetBrains' 'import' lines \(running requests of other files\) are not supported"),
    (JB, 27): refused(r"JetBrains' 'run' lines \(running requests of other files\) are not supported"),
    # --- VS Code REST Client's README ---
    (RC, 1): ok("GET", "https://api.example.test/books/3"),
    (RC, 2): ok(
        "PATCH",
        "https://api.example.test/books/3",
        headers={"content-type": "application/json"},
        body='{\n    "shelf": "poetry",\n    "copies": 4\n}',
    ),
    (RC, 3): ok("GET", "https://api.example.test/books?author=woolf&sort=year"),
    (RC, 4): ok("GET", "https://api.example.test/books?author=woolf&sort=year"),
    (RC, 5): ok(
        "PUT",
        "https://api.example.test/shelves/7",
        headers={"Content-Type": "application/xml", "X-Api-Key": "shelf-key-1"},
        body="<shelf>\n    <label>Travel</label>\n    <capacity>40</capacity>\n</shelf>",
    ),
    (RC, 6): ok("PUT", "https://api.example.test/shelves/7", body="[D:\\fixtures\\shelves\\travel.xml]"),
    (RC, 7): ok("PUT", "https://api.example.test/shelves/7", body="<shelf><owner>T0K3N</owner></shelf>"),
    (RC, 8): ok(
        "PUT",
        "https://api.example.test/shelves/7",
        body="<@latin1 ./shelf-template.xml",
        note="Not supported: '<@ENCODING path' is not read as a file, so the line itself is sent as the body",
    ),
    (RC, 9): ok(
        "POST",
        "https://files.example.test/v1/covers",
        headers={"Content-Type": "multipart/form-data; boundary=cover-part"},
        body=crlf(
            '--cover-part\nContent-Disposition: form-data; name="isbn"\n\n978-0-00-000000-2\n'
            '--cover-part\nContent-Disposition: form-data; name="cover"; filename="front.jpg"\n'
            "Content-Type: image/jpeg\n\n[./front.jpg]\n--cover-part--"
        ),
    ),
    (RC, 10): ok(
        "POST",
        "https://api.example.test/session",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="member=grace&pin=2468",
    ),
    (RC, 11): ok(
        "POST",
        "https://graph.example.test/v1",
        headers={"X-REQUEST-TYPE": "GraphQL", "Content-Type": "application/json"},
        body=rx(r"query Shelf\(\$label: String!, \$first: Int\) \{\n.*\n\}\n\n\{\n.*\"first\": 3\n\}"),
        note="Differs: REST Client sends this as a GraphQL JSON document; kclient sends the text as typed "
        "(write GRAPHQL as the method for the JSON document)",
    ),
    (RC, 12): ok(
        "GET",
        "https://api.example.test/private/loans",
        headers={"Authorization": "Basic reader:open-sesame"},
        note="Differs: REST Client base64-encodes 'name:password'; kclient sends the header as typed",
    ),
    (RC, 13): ok("GET", "https://example.net/v3/loans/12", headers={"Authorization": "T0K3N"}),
    (RC, 14): refused(
        r"\{\{%series\}\}", note="Not supported: REST Client's {{%name}} (the value percent-encoded) is refused"
    ),
    (RC, 15): ok(
        "PATCH",
        "https://lending.example.test:8443/series/teatime",
        headers={"Content-Type": "application/json"},
        body=rx(rf'\{{\n    "edited_at": "{ISO}",\n    "edited_by": "grace"\n\}}'),
    ),
    (RC, 16): ok(
        "POST",
        "https://lending.example.test:8443/renewals/L-204",
        directives={"prompt": "pin Four digits, sent to your phone"},
        body='{\n    "member": "grace",\n    "pin": "2468"\n}',
        note="Differs: directives are a dict, so of three '# @prompt' lines only the last is kept",
    ),
    (RC, 17): ok(
        "POST",
        "https://lending.example.test/v1/sign-in",
        name="signIn",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="member=grace&pin=2468",
    ),
    (RC, 18): chained("POST", "signIn"),
    (RC, 19): chained("GET", "borrow"),
    (RC, 20): refused(r"reminders\.response\.body\.//reminder\[1\]/@id\}\}: XPath is not supported"),
    (RC, 21): ok(
        "GET",
        "https://lending.example.test:8443/v3/reports/daily?by=grace",
        headers={"X-Api-Key": "k-3141"},
    ),
    (RC, 22): refused(
        "the environment variable keyVariable is not set",
        stage="render",
        note="Not supported: '$processEnv %keyVariable' reads keyVariable itself, not the variable the "
        "environment's keyVariable names (SHELF_API_KEY)",
    ),
    (RC, 23): ok(
        "POST",
        "https://api.example.test/reviews",
        headers={"Content-Type": "application/xml", "Date": rx(RFC1123)},
        body=rx(
            rf'\{{\n    "reviewer": "dotenv-grace",\n    "review_id": "{UUID}",\n    "sent": "\d{{10}}",\n'
            r'    "read": "\d{10}",\n    "stars": "[1-5]"\n\}'
        ),
    ),
    (RC, 24): refused("custom formats are not supported"),
    (RC, 25): refused(r"unknown dynamic variable \$aadToken"),
    (RC, 26): ok(
        "DELETE",
        "https://api.example.test/loans/12",
        directives={"note": "", "no-redirect": "", "no-cookie-jar": ""},
    ),
    # --- httpyac's documentation ---
    (YAC, 1): ok("GET", "https://api.example.test/v2/health"),
    (YAC, 2): ok("POST", "https://api.example.test/imports", body="[./fixtures/batch-7.json]"),
    (YAC, 3): ok(
        "POST",
        "https://graph.example.test/v1",
        headers={"Content-Type": "application/json"},
        body=rx(r"query Orders\(\$status: String!\) \{\n.*\n\}\n\n\{\n    \"status\": \"open\"\n\}"),
        note="Differs: httpyac makes a GraphQL JSON document of it; kclient sends the text as typed "
        "(write GRAPHQL as the method for the JSON document)",
    ),
    (YAC, 4): ok(
        "POST",
        "https://graph.example.test/v1",
        body=rx(r"gql Orders < \./orders\.graphql\n\n\{\n.*\}"),
        note="Not supported: httpyac's 'gql NAME < file' import is sent as typed",
    ),
    (YAC, 5): ok("GET", "https://api.example.test/orders/31", checks=(("status", None, "==", "200"),)),
    (YAC, 6): ok(
        "GET",
        "https://api.example.test/orders/31",
        checks=(("duration", None, "<", "750"), ("body", None, "includes", "delivered")),
    ),
    (YAC, 7): refused(r"'\?\? js' assertions run JavaScript or XPath, which kclient does not"),
    (YAC, 8): refused(
        "'{{' without a closing '}}'",
        note="Not supported: an httpyac script block is JavaScript; it is refused as an unclosed '{{'",
    ),
    (YAC, 9): ok("GET", "https://api.example.test/exports/orders.csv", save=("./exports/orders.csv", False)),
    (YAC, 10): ok("GET", "https://api.example.test/exports/orders.csv", save=("./exports/orders.csv", True)),
    (YAC, 11): refused(
        NOT_A_HEADER, note="Differs: httpyac lets a body follow the request line without a blank line; kclient does not"
    ),
    (YAC, 12): refused(NOT_A_VARIABLE, note="Not supported: httpyac's lazy '@name := value'"),
    (YAC, 13): ok("GET", "https://api.example.test/orders/31"),
    (YAC, 14): ok(
        "POST",
        "https://api.example.test/templates",
        body='{\n  "subject": "Order \\{\\{number\\}\\} has shipped"\n}',
        note="Differs: httpyac's \\{\\{ escape is sent as typed (kclient's escape is \\{{)",
    ),
    (YAC, 15): ok(
        "GET",
        rx(
            rf"https://api\.example\.test/echo\?ts=\d{{10}}&id={UUID}&rid={UUID}&n=\d{{1,4}}&at={ISO}"
            r"&roll=1\d&f=[0-9.e-]+&word=[A-Za-z]{12}&mail=[a-z]+@example\.com&hex=[0-9a-f]{4}"
        ),
    ),
    (YAC, 16): ok("GET", rx(rf"https://api\.example\.test/echo\?n=-?\d&t=\d{{10}}&d={ISO}&l={RFC1123}")),
    (YAC, 17): refused(
        "'process' is not defined",
        stage="render",
        note="Not supported: 'process.env.NAME' is a JavaScript expression; '$processEnv NAME' works",
    ),
    (YAC, 18): refused(HANDLER),
    (YAC, 19): refused(r"handler files \('\./check-orders\.js'\) are not supported: they are JavaScript"),
    (YAC, 20): refused(r"pre-request scripts \('< \{% \.\.\. %\}'\) are not supported: they are JavaScript"),
    (YAC, 21): ok("WS", "wss://push.example.test/orders", body='{\n  "subscribe": "order-31"\n}'),
    (YAC, 22): refused(
        "found 3 words",
        note="Not supported: httpyac's 'proto < file' line is taken for a request line (and GRPC is refused)",
    ),
    (YAC, 23): refused(
        r"expected an http://, https://, ws:// or wss:// URL, not tcp://",
        stage="render",
        note="Not supported: MQTT",
    ),
    (YAC, 24): refused(r"requests over Unix sockets \('unix:/path'\) are not supported", stage="render"),
    (YAC, 25): ok(
        "DELETE",
        "https://api.example.test/orders/31",
        body='HTTP/1.1 204 - No Content\nx-trace: abc\n\n{\n  "deleted": true\n}',
        note="Differs: httpyac's documented response after a request is sent as the request's body",
    ),
    (YAC, 26): refused(
        NOT_A_HEADER,
        note="Not supported: a /* block comment */: '/*' is taken for a request line and the comment for headers",
    ),
    (YAC, 27): ok("BASELINE-CONTROL", "https://dav.example.test/repository/trunk"),
}

# --- the tests ---------------------------------------------------------------------------------


def _parse(request: CorpusRequest) -> HttpRequestTemplate:
    templates = parse_http_templates(request.text)
    assert len(templates) == 1, f"{len(templates)} requests in one block"
    template = templates[0]
    assert request.first < template.line <= request.last
    return template


def _render(template: HttpRequestTemplate) -> RequestSpec:
    return template.render(NAMESPACE, environment=ENVIRONMENT, read_file=read_file)


def _checks(template: HttpRequestTemplate) -> tuple[CheckTuple, ...]:
    return tuple(
        (line.check.field, line.check.argument, line.check.condition, line.check.expected) for line in template.checks
    )


def _matches(expected: str | re.Pattern[str], actual: str) -> bool:
    return expected.fullmatch(actual) is not None if isinstance(expected, re.Pattern) else expected == actual


def _check_body(expected: Body, spec: RequestSpec) -> None:
    if expected is None:
        assert spec.content is None and not spec.has_json, f"unexpected body {spec.content!r}"
        return
    if isinstance(expected, GraphQL):
        document = spec.json if spec.has_json else json.loads(spec.content or b"")
        assert document["query"].startswith(expected.query), document
        assert document.get("variables") == expected.variables, document
        assert document.get("operationName") == expected.operation, document
        return
    assert spec.content is not None, "no body"
    text = spec.content.decode("utf-8")
    assert _matches(expected, text), f"body {text!r} is not {expected!r}"


def _check_ok(expected: Ok, template: HttpRequestTemplate) -> None:
    assert template.name == expected.name
    if expected.directives is not None:
        assert dict(template.directives) == dict(expected.directives)
    assert _checks(template) == expected.checks
    assert template.captures == ()
    if expected.save is None:
        assert template.save is None
    else:
        assert template.save is not None
        saved = (template.save_path(NAMESPACE, environment=ENVIRONMENT), template.save.overwrite)
        assert saved == expected.save
    spec = _render(template)
    assert spec.method == expected.method
    assert _matches(expected.url, spec.url), f"URL {spec.url!r} is not {expected.url!r}"
    headers = [(name.lower(), value) for name, value in spec.headers]
    for name, value in expected.headers.items():
        values = [v for n, v in headers if n == name.lower()]
        assert any(_matches(value, v) for v in values), f"{name}: {values} (expected {value!r})"
    for name in expected.absent:
        assert name.lower() not in dict(headers), f"unexpected header {name}"
    _check_body(expected.body, spec)


@pytest.fixture
def process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PROCESS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("keyVariable", raising=False)


@pytest.mark.usefixtures("process_env")
@pytest.mark.parametrize(("key", "expected"), [pytest.param(k, e, id=f"{k[0]}#{k[1]}") for k, e in EXPECTED.items()])
def test_corpus_request(key: tuple[str, int], expected: Expectation) -> None:
    request = REQUESTS[key]
    if isinstance(expected, Refused):
        if expected.stage == "render":
            template = _parse(request)
            with pytest.raises(CellSyntaxError, match=expected.match) as caught:
                _render(template)
        else:
            with pytest.raises(CellSyntaxError, match=expected.match) as caught:
                parse_http_templates(request.text)
        assert request.first < caught.value.line <= request.last, f"the error points at line {caught.value.line}"
        return
    template = _parse(request)
    if isinstance(expected, Chained):
        assert template.method == expected.method
        with pytest.raises(CellSyntaxError, match=f"'{re.escape(expected.missing)}'"):
            _render(template)
        return
    _check_ok(expected, template)


# --- nothing dropped ---------------------------------------------------------------------------

#: Requests in the corpus, those that parse (``ok`` and ``chained``), those refused.
TOTAL, PARSED, REFUSED = 80, 55, 25


def test_the_table_has_every_request_of_the_corpus_and_no_other() -> None:
    assert sorted(REQUESTS) == sorted(EXPECTED)


def test_counts() -> None:
    kinds = Counter("refused" if isinstance(e, Refused) else "parsed" for e in EXPECTED.values())
    assert (len(REQUESTS), kinds["parsed"], kinds["refused"]) == (TOTAL, PARSED, REFUSED)
    assert {file: sum(1 for key in REQUESTS if key[0] == file) for file in FILES} == {JB: 27, RC: 26, YAC: 27}
