"""The Mock engine: handlers, answers, history — through HttpClient and the public helpers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
import pytest

import kclient
from kclient import (
    HttpClient,
    KClientError,
    Mock,
    MockAnswer,
    MockConfig,
    Request,
    Response,
    UnhandledRequestError,
    respond,
    respond_bad_request,
    respond_error,
    respond_ok,
    respond_redirect,
)

URL = "http://mock.test/thing"


# -- handlers ---------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_sync_handler() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> MockAnswer:
        seen.append(request)
        return respond(f"{request.method} {request.url.path}")

    client = HttpClient(Mock(handler))
    response = await client.put("http://mock.test/a/b", content=b"x")
    assert response.status == 200
    assert response.text == "PUT /a/b"
    assert [r.method for r in seen] == ["PUT"]


@pytest.mark.anyio
async def test_async_handler() -> None:
    async def handler(request: Request) -> MockAnswer:
        await anyio.sleep(0)
        return respond({"path": request.url.path, "q": request.url.query.get("q")})

    client = HttpClient(Mock(handler))
    response = await client.get("http://mock.test/search", params={"q": "kclient"})
    assert response.json() == {"path": "/search", "q": "kclient"}


@pytest.mark.anyio
async def test_handler_may_return_a_response() -> None:
    def handler(request: Request) -> Response:
        from multidict import CIMultiDict

        return Response(201, request=request, headers=CIMultiDict({"X-Made": "by hand"}), content=b"made")

    client = HttpClient(Mock(handler))
    response = await client.post(URL)
    assert (response.status, response.reason, response.content) == (201, "Created", b"made")
    assert response.headers["x-made"] == "by hand"


@pytest.mark.anyio
async def test_a_handler_returning_something_else_is_a_type_error() -> None:
    client = HttpClient(Mock(lambda request: "not an answer"))  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"respond\(\.\.\.\)"):
        await client.get(URL)
    assert client.status().failed == 1


def test_handlers_must_be_callable() -> None:
    with pytest.raises(kclient.ConfigError, match="a handler is a function of the request"):
        Mock(handlers=[1])
    with pytest.raises(kclient.ConfigError, match="a handler is a function of the request"):
        Mock("respond")  # type: ignore[arg-type]


# -- respond and its helpers ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "body", "content_type"),
    [
        (b"\x00raw", b"\x00raw", None),
        ("héllo", "héllo".encode(), "text/plain; charset=utf-8"),
        ({"a": [1, 2]}, b'{"a": [1, 2]}', "application/json"),
        ([1, "two"], b'[1, "two"]', "application/json"),
        (b"", b"", None),
    ],
)
@pytest.mark.anyio
async def test_respond_with_bytes_text_or_json(content: object, body: bytes, content_type: str | None) -> None:
    client = HttpClient(Mock(lambda request: respond(content)))  # type: ignore[arg-type]
    response = await client.get(URL)
    assert response.status == 200
    assert response.content == body
    assert response.headers.get("Content-Type") == content_type
    assert response.headers["Content-Length"] == str(len(body))
    if content_type == "application/json":
        assert response.json() == content


@pytest.mark.anyio
async def test_respond_with_status_and_headers() -> None:
    answer = respond("nope", status=418, headers={"X-Tea": "earl grey", "Content-Type": "text/x-tea"})
    assert isinstance(answer, MockAnswer)
    client = HttpClient(Mock(lambda request: answer))
    response = await client.get(URL)
    assert response.status == 418
    assert response.reason == "I'm a Teapot"
    assert response.headers["x-tea"] == "earl grey"
    assert response.headers["Content-Type"] == "text/x-tea"  # the given type wins
    assert response.text == "nope"


def test_respond_helpers() -> None:
    assert respond_ok("fine") == respond("fine", 200)
    assert respond_ok().status == 200
    assert respond_error().status == 500
    assert respond_error(503, {"retry": True}) == respond({"retry": True}, 503)
    assert respond_bad_request("bad").status == 400
    assert respond_bad_request("bad").content == b"bad"
    redirect = respond_redirect("http://mock.test/next")
    assert redirect.status == 302
    assert ("Location", "http://mock.test/next") in redirect.headers
    assert respond_redirect("/moved", status=301).status == 301


@pytest.mark.parametrize("status", [700, 99, 600, 0, -200, True, "200", 200.0])
def test_respond_refuses_a_status_that_is_not_http(status: object) -> None:
    with pytest.raises(ValueError, match="100 to 599"):
        respond("x", status=status)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [200, 299, 400, 600])
def test_respond_redirect_refuses_a_status_that_is_not_3xx(status: int) -> None:
    with pytest.raises(ValueError, match="300 to 399"):
        respond_redirect("/x", status=status)


@pytest.mark.anyio
async def test_respond_helpers_through_a_client() -> None:
    client = HttpClient(
        Mock(
            lambda r: respond_ok({"ok": 1}),
            lambda r: respond_error(),
            lambda r: respond_bad_request("missing field"),
            lambda r: respond_redirect("http://mock.test/other", status=307),
        )
    )
    ok, error, bad, redirect = [await client.get(URL, follow_redirects=False) for _ in range(4)]
    assert (ok.status, ok.json()) == (200, {"ok": 1})
    assert (error.status, error.reason) == (500, "Internal Server Error")
    assert (bad.status, bad.text) == (400, "missing field")
    assert (redirect.status, redirect.headers["Location"]) == (307, "http://mock.test/other")


# -- order, reuse and exhaustion --------------------------------------------------------------
@pytest.mark.anyio
async def test_handlers_are_used_in_order_and_the_last_keeps_answering() -> None:
    engine = Mock(lambda r: respond("first"), lambda r: respond("second"), lambda r: respond("last"))
    assert engine.config.reuse_handlers is True
    client = HttpClient(engine)
    texts = [(await client.get(URL)).text for _ in range(5)]
    assert texts == ["first", "second", "last", "last", "last"]


@pytest.mark.anyio
async def test_without_reuse_the_request_after_the_last_handler_is_unhandled() -> None:
    engine = Mock(lambda r: respond("one"), lambda r: respond("two"), reuse_handlers=False)
    client = HttpClient(engine)
    assert (await client.get(URL)).text == "one"
    assert (await client.get(URL)).text == "two"
    with pytest.raises(UnhandledRequestError) as info:
        await client.delete("http://user:pw-secret@mock.test/gone", params={"token": "t-secret"})
    error = info.value
    assert isinstance(error, KClientError)
    assert isinstance(error, LookupError)
    message = str(error)
    assert "DELETE" in message
    assert "mock.test/gone" in message
    assert "2 handler(s) are used up" in message
    assert "pw-secret" not in message
    assert "t-secret" not in message
    assert client.status().failed == 1
    # The unanswered request is recorded all the same.
    assert [r.method for r in engine.request_history] == ["GET", "GET", "DELETE"]
    assert len(engine.response_history) == 2


@pytest.mark.anyio
async def test_no_handlers_means_every_request_is_unhandled() -> None:
    client = HttpClient(Mock())
    with pytest.raises(UnhandledRequestError) as info:
        await client.post("http://mock.test/nobody-home")
    assert "POST http://mock.test/nobody-home" in str(info.value)
    assert "no handlers" in str(info.value)
    with pytest.raises(UnhandledRequestError):
        await client.get(URL)


@pytest.mark.anyio
async def test_add_handler_appends_after_the_configured_ones() -> None:
    engine = Mock(lambda r: respond("configured"), reuse_handlers=False)
    client = HttpClient(engine)
    assert (await client.get(URL)).text == "configured"
    engine.add_handler(lambda r: respond("added"))
    assert (await client.get(URL)).text == "added"
    assert len(engine.config.handlers) == 2
    with pytest.raises(UnhandledRequestError):
        await client.get(URL)


@pytest.mark.anyio
async def test_add_handler_to_an_empty_mock() -> None:
    engine = Mock()
    engine.add_handler(lambda r: respond("late"))
    client = HttpClient(engine)
    assert (await client.get(URL)).text == "late"
    assert (await client.get(URL)).text == "late"
    with pytest.raises(kclient.ConfigError):
        engine.add_handler("not callable")  # type: ignore[arg-type]


def test_handlers_given_positionally_and_as_a_setting_are_combined() -> None:
    def a(r: Request) -> MockAnswer:
        return respond("a")

    def b(r: Request) -> MockAnswer:
        return respond("b")

    assert Mock(b, handlers=[a]).config.handlers == (a, b)
    assert Mock(MockConfig(handlers=(a,)), b).config.handlers == (a, b)
    assert Mock({"handlers": [a], "reuse_handlers": False}, b).config == MockConfig(
        handlers=(a, b), reuse_handlers=False
    )


# -- history ----------------------------------------------------------------------------------
async def chunks() -> AsyncIterator[bytes]:
    for part in (b"streamed ", b"in ", b"parts"):
        await anyio.sleep(0)
        yield part


@pytest.mark.anyio
async def test_history_records_requests_and_responses() -> None:
    engine = Mock(lambda request: respond({"echo": request.content.decode()}))  # type: ignore[union-attr]
    client = HttpClient(engine)
    first = await client.post("http://mock.test/json", json={"k": "v"}, headers={"X-Trace": "1"})
    second = await client.put("http://mock.test/stream", content=chunks())
    third = await client.get("http://mock.test/plain", params={"page": 2})

    assert [r.method for r in engine.request_history] == ["POST", "PUT", "GET"]
    assert [str(r.url) for r in engine.request_history] == [
        "http://mock.test/json",
        "http://mock.test/stream",
        "http://mock.test/plain?page=2",
    ]
    json_request, stream_request, get_request = engine.request_history
    assert json.loads(json_request.content) == {"k": "v"}  # type: ignore[arg-type]
    assert json_request.headers["X-Trace"] == "1"
    assert json_request.headers["Content-Type"] == "application/json"
    # A streamed (async-iterable) body is recorded as the bytes that were sent.
    assert stream_request.content == b"streamed in parts"
    assert isinstance(stream_request.content, bytes)
    assert get_request.content == b""

    assert [r.status for r in engine.response_history] == [200, 200, 200]
    assert engine.response_history[0] is first
    assert engine.response_history[1] is second
    assert engine.response_history[2] is third
    assert second.json() == {"echo": "streamed in parts"}
    assert first.request is json_request


@pytest.mark.anyio
async def test_reset_history_forgets_and_starts_the_handlers_again() -> None:
    engine = Mock(lambda r: respond("first"), lambda r: respond("then"), reuse_handlers=False)
    client = HttpClient(engine)
    await client.get(URL)
    await client.get(URL)
    engine.reset_history()
    assert engine.request_history == []
    assert engine.response_history == []
    assert (await client.get(URL)).text == "first"
    assert len(engine.request_history) == 1


@pytest.mark.anyio
async def test_one_mock_serves_concurrent_requests() -> None:
    async def handler(request: Request) -> MockAnswer:
        await anyio.sleep(0)
        return respond(request.url.path)

    engine = Mock(handler)
    client = HttpClient(engine)
    texts: list[str] = []

    async def fetch(i: int) -> None:
        texts.append((await client.get(f"http://mock.test/{i}")).text)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(fetch, i)
    assert sorted(texts) == sorted(f"/{i}" for i in range(20))
    assert len(engine.request_history) == 20


# -- the engine itself ------------------------------------------------------------------------
def test_mock_is_never_chosen_by_default() -> None:
    assert Mock.auto_select is False
    client = HttpClient()
    assert client.engine.name != "Mock"
    assert "chosen by default" in repr(client)


def test_mock_capabilities_and_repr() -> None:
    assert Mock.capabilities.streaming is True
    assert Mock.capabilities.pipelining is False
    assert Mock.capabilities.proxies == frozenset()
    assert Mock.name == "Mock"
    assert repr(Mock(reuse_handlers=False)) == "Mock(reuse_handlers=False)"


@pytest.mark.anyio
async def test_mock_engine_used_directly() -> None:
    engine = Mock(lambda request: respond("direct"))
    from yarl import URL as YURL

    response = await engine.send(Request("GET", YURL(URL)))
    assert await response.aread() == b"direct"
    await response.aclose()
    await engine.aclose()  # nothing to release, and idempotent
    await engine.aclose()


@pytest.mark.anyio
async def test_leaving_aiter_bytes_early_leaves_nothing_to_finalize():
    # aiter_bytes() is an iterator object, not an async generator: breaking out of the loop
    # leaves no generator for the GC (trio reports those as ResourceWarning, an error here).
    chunks = [b"a" * 10, b"b" * 10, b"c" * 10]

    async def body():
        for chunk in chunks:
            yield chunk

    engine = Mock(lambda request: kclient.Response(200, request=request, stream=_Stream(body())))
    async with HttpClient(engine) as client:
        async with client.stream("GET", "http://mock.test/") as response:
            async for chunk in response.aiter_bytes():
                assert chunk == chunks[0]
                break
        assert response.is_closed


class _Stream:
    def __init__(self, chunks):
        self._chunks = chunks

    def __aiter__(self):
        return self._chunks

    async def aclose(self):
        await self._chunks.aclose()


@pytest.mark.anyio
async def test_a_streamed_body_handed_over_read_is_given_once_across_iterators():
    # Engines hand a body that came with the head over read (Aiohttp, Mock, the cache): inside
    # client.stream it must read as a body on the wire does, a second iterator going on where the
    # first stopped, not giving the body again (which doubled it for a caller that iterated twice).
    handed_over_read = Mock(lambda request: kclient.Response(200, request=request, content=b"whole body"))
    for engine in (Mock(lambda request: kclient.respond(b"whole body")), handed_over_read):
        async with HttpClient(engine) as client, client.stream("GET", "http://mock.test/") as response:
            first = await anext(response.aiter_bytes())
            rest = [chunk async for chunk in response.aiter_bytes()]
            assert (first, rest) == (b"whole body", [])
    async with HttpClient(handed_over_read) as client:
        read = await client.get("http://mock.test/")
        assert [chunk async for chunk in read.aiter_bytes()] == [b"whole body"]
        assert [chunk async for chunk in read.aiter_bytes()] == [b"whole body"]  # a read body, every time
