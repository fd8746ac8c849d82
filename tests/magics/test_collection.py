"""``.http`` collections: chaining, assertions, captures, saves and GRAPHQL, parsed and run.

The parser's part is checked on text; the runs go to real servers: the demo server (httpbin)
and a GraphQL ASGI app served by hypercorn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from extras import needs
from kclient.magics._collection import CollectionRun, check_cycles
from kclient.magics._errors import CellSyntaxError
from kclient.magics._headless import Sender
from kclient.magics._httpfile import parse_http_templates

pytestmark = needs("httpbin")


@pytest.fixture(scope="module")
def base() -> str:
    from kclient import demo

    return demo.serve()


@pytest.fixture
def sender() -> Iterator[Sender]:
    sender = Sender("CIO")
    yield sender
    sender.close()


def run(text: str, sender: Sender, folder: Path | None = None, **options: Any) -> CollectionRun:
    runner = CollectionRun(parse_http_templates(text), sender, folder=folder, **options)
    runner.run()
    return runner


# -- parsing ----------------------------------------------------------------------------------


def test_assertions_captures_and_saves_are_not_part_of_the_request() -> None:
    (template,) = parse_http_templates(
        "# @name t\n# @capture id = body $.json.id\nPOST http://a.test/\n?? status == 200\n"
        'Content-Type: application/json\n\n{"id": 1}\n\n?? body $.json.id == {{want}}\n>> out/t.json\n'
    )
    assert [line.check.subject for line in template.checks] == ["status", "body $.json.id"]
    assert template.captures[0][0] == "id" and template.captures[0][1].argument == "$.json.id"
    assert template.save is not None and not template.save.overwrite
    spec = template.render({"want": 1})
    assert spec.content == b'{"id": 1}'  # nothing of the ?? or >> lines is sent
    assert template.expected_values({"want": 1}) == ["200", "1"]
    assert template.references() == {"want"}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("GET http://a.test/\n\n> {% client.test() %}", 3, "JavaScript, which kclient does not run"),
        ("GET http://a.test/\n\n> ./check.js", 3, "handler files ('./check.js') are not supported"),
        ("< {% request.variables.set('a', 1) %}\nGET http://a.test/", 1, "pre-request scripts"),
        ("GET http://a.test/\n?? js response.parsedBody.id == 1", 2, "JavaScript or XPath"),
        ("GET http://a.test/\n\n>> a.json\n>> b.json", 4, "a second '>>' save"),
        ("?? status == 200\n", 1, "without a request line"),
        ("# @capture token body\nGET http://a.test/", 1, "expected '# @capture NAME = FIELD'"),
        ("GET http://a.test/{{login.response.body.//token}}", 1, "XPath is not supported"),
        ("GET http://a.test/{{login.response.body.token}}", 1, "expected a JSONPath after '.body.'"),
        ("GET http://a.test/{{login.response.headers}}", 1, "expected a header name after '.headers.'"),
        ("GRAPHQL http://a.test/graphql\n", 1, "needs a query"),
        ("GRPC a.test:9000/Books/Get\n", 1, "gRPC requests"),
        ("run #login\n", 1, "'run' lines"),
    ],
)
def test_what_is_refused_names_the_feature(text: str, line: int, message: str) -> None:
    with pytest.raises(CellSyntaxError, match=re.escape(message)) as caught:
        parse_http_templates(text)
    assert caught.value.line == line


def test_graphql_requests_are_posted_as_json() -> None:
    (template,) = parse_http_templates(
        "GRAPHQL http://a.test/graphql\n\nquery Book($id: Int!) {\n  book(id: $id) { title }\n}\n\n"
        '{"id": {{book_id}}}\n'
    )
    spec = template.render({"book_id": 2})
    assert spec.method == "POST" and ("Content-Type", "application/json") in spec.headers
    assert json.loads(spec.content or b"") == {
        "query": "query Book($id: Int!) {\n  book(id: $id) { title }\n}",
        "variables": {"id": 2},
        "operationName": "Book",
    }
    (spaced,) = parse_http_templates('GRAPHQL http://a.test/graphql\n\n{ books { id } }\n\n{\n\n  "a": 1\n}\n')
    assert json.loads(spaced.render({}).content or b"")["variables"] == {"a": 1}
    (bare,) = parse_http_templates("GRAPHQL http://a.test/graphql\n\n{ books { id } }\n")
    assert json.loads(bare.render({}).content or b"") == {"query": "{ books { id } }"}


def test_cycles_are_refused_before_anything_is_sent() -> None:
    templates = parse_http_templates(
        "# @name a\nGET http://a.test/{{b.response.body.$.x}}\n###\n# @name b\nGET http://a.test/{{c.json.y}}\n"
        "###\n# @name c\n@via = {{a.response.headers.Location}}\nGET http://a.test/{{via}}\n"
    )
    with pytest.raises(CellSyntaxError, match="need each other's answers cannot run: a -> b -> c -> a"):
        check_cycles(templates)
    with pytest.raises(CellSyntaxError, match="me -> me"):
        CollectionRun(parse_http_templates("# @name me\nGET http://a.test/{{me.response.body.*}}\n"), print)


# -- running against the demo server ----------------------------------------------------------

CHAIN = """
@base = {{host}}

# @name login
POST {{base}}/anything
Content-Type: application/json

{"user": "ada", "token": "tok-{{$randomInt 100 999}}"}

?? status == 200
?? body $.json.user == ada

###
# @name profile
# @capture user = body $.args.user
GET {{base}}/anything?token={{login.response.body.$.json.token}}&user=ada
Authorization: Bearer {{login.response.body.$.json.token}}

?? header content-type includes json
?? body $.headers.Authorization startsWith Bearer tok-

###
# @name orders
GET {{base}}/anything/{{user}}/orders
X-Type: {{profile.response.headers.Content-Type}}
X-Token: {{login.request.body.$.token}}

?? body $.url endsWith /anything/ada/orders
?? body $.headers.X-Type == application/json
?? duration < 60000
>> saved/orders.json
"""


def test_three_chained_requests_pass_their_assertions(base: str, sender: Sender, tmp_path: Path) -> None:
    stored: dict[str, Any] = {}
    runner = run(CHAIN, sender, tmp_path, namespace={"host": base}, store=stored.__setitem__)
    login, profile, orders = runner.results
    assert [outcome.passed for outcome in runner.results] == [True, True, True], [o.summary() for o in runner.results]
    token = login.response.json()["json"]["token"]
    assert profile.response.json()["args"]["token"] == token
    assert orders.response.json()["headers"]["X-Token"] == token
    assert stored["user"] == "ada" and stored["login"] is login.response  # captures and answers, for the notebook
    assert orders.saved == tmp_path / "saved" / "orders.json"
    assert json.loads(orders.saved.read_bytes())["url"].endswith("/anything/ada/orders")
    again = run(CHAIN, sender, tmp_path, namespace={"host": base})  # '>>' never overwrites
    assert again.results[2].saved == tmp_path / "saved" / "orders-1.json"


def test_a_failing_assertion_shows_expected_and_actual_masked(base: str, sender: Sender) -> None:
    secret = "tok-very-secret-98765"
    text = (
        f"GET {base}/anything?x=1\nAuthorization: Bearer {secret}\n\n"
        "?? status == 201\n?? body $.headers.Authorization == nope\n?? header content-type includes json\n"
    )
    (outcome,) = run(text, sender).results
    assert not outcome.passed and outcome.error is None
    status, auth = outcome.failures
    assert (status.expected, status.actual) == ("201", "200")
    assert auth.expected == "nope" and secret not in auth.actual and "***" in auth.actual
    assert secret not in outcome.summary()


def test_a_request_needed_later_runs_first_once(base: str, sender: Sender) -> None:
    text = (
        f"# @name orders\nGET {base}/anything/{{{{login.response.body.$.json.user}}}}\n\n"
        "?? body $.url endsWith /ada\n"
        f'###\n# @name login\nPOST {base}/anything\nContent-Type: application/json\n\n{{"user": "ada"}}\n'
    )
    runner = run(text, sender)
    assert [o.template.name for o in runner.results] == ["login", "orders"]  # login ran first, and once
    assert runner.results[0].needed_by == "orders" and "run first: orders needs it" in runner.results[0].summary()
    assert all(outcome.passed for outcome in runner.results)


def test_a_request_whose_dependency_failed_is_not_sent(base: str, sender: Sender) -> None:
    text = (
        "# @name login\nGET http://127.0.0.1:9/unreachable\n"
        f"###\n# @name me\nGET {base}/anything?t={{{{login.response.body.$.token}}}}\n"
        f"###\nGET {base}/status/204\n\n?? status == 204\n"
    )
    login, me, last = run(text, sender, stop="never").results
    assert login.error is not None and "failed" in login.error
    assert me.error == "not sent: it needs login, which failed" and me.spec is None
    assert last.passed  # the rest of the collection still runs
    stopped = run(text, sender, stop="failure")
    assert len(stopped.results) == 1


# -- GraphQL ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graphql_url() -> Iterator[str]:
    pytest.importorskip("graphql", reason="needs graphql-core: pip install 'kclient[test]'")
    from graphql_app import make_app
    from servers import Hypercorn

    with Hypercorn(make_app()) as server:
        yield f"{server.url}/graphql"


def test_graphql_requests_reach_a_graphql_server(graphql_url: str, sender: Sender) -> None:
    text = (
        f"# @name added\nGRAPHQL {graphql_url}\n\nmutation Add($title: String!) {{\n"
        '  addBook(title: $title) { id title }\n}\n\n{"title": "{{title}}"}\n\n'
        "?? body $.data.addBook.title == Ulysses\n"
        f"###\nGRAPHQL {graphql_url}\n\nquery Get($id: Int!) {{ book(id: $id) {{ title }} }}\n\n"
        '{"id": {{added.response.body.$.data.addBook.id}}}\n\n'
        "?? body $.data.book.title == Ulysses\n"
        f"###\nGRAPHQL {graphql_url}\n\n{{ nothing }}\n\n?? body $.errors isArray\n"
    )
    runner = run(text, sender, namespace={"title": "Ulysses"})
    assert [o.passed for o in runner.results] == [True, True, True], [o.summary() for o in runner.results]


def test_multipart_bodies_with_files_reach_the_server_as_parts(base: str, sender: Sender, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"first line\nsecond\n")
    (tmp_path / "meta.json").write_text('{"owner": "{{owner}}"}')
    text = (
        f"POST {base}/post\nContent-Type: multipart/form-data; boundary=KBoundary\n\n"
        '--KBoundary\nContent-Disposition: form-data; name="title"\n\nMy {{owner}} notes\n'
        '--KBoundary\nContent-Disposition: form-data; name="meta"; filename="meta.json"\n\n<@ ./meta.json\n'
        '--KBoundary\nContent-Disposition: form-data; name="notes"; filename="notes.txt"\n'
        "Content-Type: text/plain\n\n< ./notes.txt\n--KBoundary--\n\n"
        "?? body $.form.title == My ada notes\n"
        '?? body $.files.notes == "first line\\nsecond\\n"\n'
        '?? body $.files.meta == {"owner": "ada"}\n'
    )
    (outcome,) = run(text, sender, tmp_path, namespace={"owner": "ada"}).results
    assert outcome.passed, outcome.summary()


def test_a_chain_of_thousands_of_requests_runs_without_recursion() -> None:
    from multidict import CIMultiDict
    from yarl import URL

    from kclient import Request, Response

    def answer(spec: Any) -> Response:
        request = Request(spec.method, URL(spec.url))
        return Response(200, request=request, headers=CIMultiDict({"X-Next": "n"}), content=b"{}")

    count = 3000
    blocks = ["# @name r0\nGET http://a.test/0\n"]
    blocks += [
        f"# @name r{i}\nGET http://a.test/{{{{r{i - 1}.response.headers.X-Next}}}}{i}\n" for i in range(1, count)
    ]
    templates = parse_http_templates("###\n".join(blocks))
    last = CollectionRun(templates, answer)
    outcome = last.run_one(templates[-1])  # the whole chain runs first, deepest first
    assert outcome.passed and len(last.results) == count
    assert [o.template.name for o in last.results[:2]] == ["r0", "r1"] and last.results[0].needed_by == "r1"
    circle = "###\n".join([*blocks, f"# @name r0x\nGET http://a.test/{{{{r{count - 1}.json}}}}\n"]).replace(
        "GET http://a.test/0\n", f"GET http://a.test/{{{{r{count - 1}.json}}}}\n", 1
    )
    with pytest.raises(CellSyntaxError, match=r"cannot run: r0 -> r2999 -> r2998"):
        check_cycles(parse_http_templates(circle))
