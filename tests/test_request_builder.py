"""Building requests through ``client.request`` on the Mock engine (inspected in ``request_history``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anyio
import pytest

from kclient import (
    ClientState,
    HttpClient,
    HttpTimeout,
    InvalidRequestError,
    KClientError,
    KClientTimeoutError,
    Mock,
    Request,
    RequestTimeout,
    Response,
    ResponseNotReadError,
    Timeouts,
    TransportError,
    respond,
)

URL = "http://mock.test/items"


def echo(request: Request) -> Any:
    return respond("ok")


async def sent(method: str = "GET", url: Any = URL, **options: Any) -> Request:
    """Send one request through a Mock and return the request the engine received."""
    engine = Mock(echo)
    client = HttpClient(engine)
    await client.request(method, url, **options)
    (request,) = engine.request_history
    return request


async def refused(method: str = "GET", url: Any = URL, **options: Any) -> InvalidRequestError:
    """Send one request that must be refused before reaching the engine; return the error."""
    engine = Mock(echo)
    client = HttpClient(engine)
    with pytest.raises(InvalidRequestError) as info:
        await client.request(method, url, **options)
    assert engine.request_history == []
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, KClientError)
    return info.value


# -- params -----------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_params_from_a_dict() -> None:
    request = await sent(params={"q": "a b", "page": 2, "ratio": 0.5})
    assert request.url.query_string == "q=a b&page=2&ratio=0.5"
    assert dict(request.url.query) == {"q": "a b", "page": "2", "ratio": "0.5"}


@pytest.mark.anyio
async def test_params_with_list_values_repeat_the_name() -> None:
    request = await sent(params={"tag": ["x", "y", 3], "one": "1"})
    assert request.url.query.getall("tag") == ["x", "y", "3"]
    assert request.url.query["one"] == "1"


@pytest.mark.anyio
async def test_params_from_pairs_keep_order_and_repeats() -> None:
    request = await sent(params=[("b", 1), ("a", "2"), ("b", 3)])
    assert list(request.url.query.items()) == [("b", "1"), ("a", "2"), ("b", "3")]


@pytest.mark.anyio
async def test_params_extend_the_query_of_the_url() -> None:
    request = await sent(url=f"{URL}?fixed=1", params={"extra": "2"})
    assert str(request.url) == f"{URL}?fixed=1&extra=2"


@pytest.mark.parametrize("params", [{"a": None}, {"a": object()}, [("a", b"bytes")], 5])
@pytest.mark.anyio
async def test_invalid_params_are_refused(params: Any) -> None:
    error = await refused(params=params)
    assert "query parameters" in str(error)


@pytest.mark.anyio
async def test_invalid_params_message_does_not_show_their_values() -> None:
    error = await refused(params={"token": "t-secret", "bad": None})
    assert "t-secret" not in str(error)
    assert "token" in str(error)


# -- headers ----------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_headers_from_a_dict_and_from_pairs() -> None:
    request = await sent(headers={"X-One": "1", "Accept": "text/plain"})
    assert request.headers["x-one"] == "1"
    assert request.headers["ACCEPT"] == "text/plain"
    request = await sent(headers=[("X-Many", "a"), ("X-Many", "b")])
    assert request.headers.getall("X-Many") == ["a", "b"]


@pytest.mark.parametrize(
    "value",
    ["evil\r\nInjected: yes", "line\nbreak", "carriage\rreturn", "nul\x00byte"],
    ids=["crlf", "lf", "cr", "nul"],
)
@pytest.mark.anyio
async def test_header_values_with_cr_lf_or_nul_are_refused(value: str) -> None:
    error = await refused(headers={"X-Bad": value})
    assert "X-Bad" in str(error)


@pytest.mark.parametrize("name", ["Bad Header", "", "X:Colon", "naïve", "X-New\r\nline", "(paren)"])
@pytest.mark.anyio
async def test_bad_header_names_are_refused(name: str) -> None:
    error = await refused(headers={name: "v"})
    assert "header name" in str(error)


@pytest.mark.anyio
async def test_header_values_must_be_text() -> None:
    error = await refused(headers={"X-Number": 5})
    assert "must be a string" in str(error)


# -- json and form bodies ---------------------------------------------------------------------
@pytest.mark.anyio
async def test_json_body() -> None:
    request = await sent("POST", json={"name": "日本", "n": [1, 2], "ok": True})
    assert request.headers["Content-Type"] == "application/json"
    assert isinstance(request.content, bytes)
    assert json.loads(request.content) == {"name": "日本", "n": [1, 2], "ok": True}
    assert "日本".encode() in request.content  # UTF-8, not \\u escapes


@pytest.mark.anyio
async def test_json_body_keeps_a_given_content_type() -> None:
    request = await sent("POST", json=[1], headers={"Content-Type": "application/vnd.api+json"})
    assert request.headers.getall("Content-Type") == ["application/vnd.api+json"]


@pytest.mark.anyio
async def test_json_that_cannot_be_encoded_is_refused() -> None:
    error = await refused("POST", json={"when": object()})
    assert "JSON" in str(error)


@pytest.mark.anyio
async def test_form_body() -> None:
    request = await sent("POST", data={"name": "a b&c", "n": 3, "tags": ["x", "y"], "yes": True, "none": None})
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert isinstance(request.content, bytes)
    assert parse_qsl(request.content.decode(), keep_blank_values=True) == [
        ("name", "a b&c"),
        ("n", "3"),
        ("tags", "x"),
        ("tags", "y"),
        ("yes", "true"),
        ("none", ""),
    ]


@pytest.mark.parametrize("data", [b"raw=bytes", "a=b", [("a", "b")]])
@pytest.mark.anyio
async def test_form_must_be_a_mapping(data: Any) -> None:
    error = await refused("POST", data=data)
    assert "content=" in str(error)


@pytest.mark.anyio
async def test_form_values_must_be_text_or_numbers() -> None:
    error = await refused("POST", data={"nested": {"a": 1}})
    assert "nested" in str(error)


# -- multipart --------------------------------------------------------------------------------
def parse_multipart(request: Request) -> list[EmailMessage]:
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert isinstance(request.content, bytes)
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.content
    )
    assert isinstance(message, EmailMessage)
    assert message.is_multipart()
    return list(message.iter_parts())  # type: ignore[arg-type]


def describe(part: EmailMessage) -> tuple[str | None, str | None, str, bytes]:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return (
        part.get_param("name", header="content-disposition"),  # type: ignore[return-value]
        part.get_filename(),
        part.get_content_type(),
        payload,
    )


@pytest.mark.anyio
async def test_files_are_sent_as_multipart(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n")
    with path.open("rb") as opened:
        request = await sent(
            "POST",
            data={"title": "Q1", "tags": ["x", "y"]},
            files={
                "avatar": ("me.png", b"\x89PNG\r\n\x1a\n\x00binary", "image/png"),
                "notes": ("dir/sub\\notes.txt", "text file"),
                "blob": b"just bytes",
                "report": opened,
            },
        )
    parts = [describe(part) for part in parse_multipart(request)]
    assert parts == [
        ("title", None, "text/plain", b"Q1"),
        ("tags", None, "text/plain", b"x"),
        ("tags", None, "text/plain", b"y"),
        ("avatar", "me.png", "image/png", b"\x89PNG\r\n\x1a\n\x00binary"),
        ("notes", "notes.txt", "application/octet-stream", b"text file"),
        ("blob", "upload", "application/octet-stream", b"just bytes"),
        ("report", "report.csv", "application/octet-stream", b"a,b\r\n1,2\r\n"),
    ]


@pytest.mark.anyio
async def test_each_multipart_body_has_its_own_boundary() -> None:
    first = await sent("POST", files={"f": b"1"})
    second = await sent("POST", files={"f": b"1"})
    assert first.headers["Content-Type"] != second.headers["Content-Type"]


@pytest.mark.parametrize(
    "files",
    [["not", "a", "mapping"], {"f": ("only-one",)}, {"f": ("a", b"b", "c", "d")}, {"f": 123}],
)
@pytest.mark.anyio
async def test_bad_files_are_refused(files: Any) -> None:
    await refused("POST", files=files)


# -- raw content ------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_content_bytes_and_text() -> None:
    request = await sent("PUT", content=b"\x00\x01")
    assert request.content == b"\x00\x01"
    assert "Content-Type" not in request.headers
    request = await sent("PUT", content="héllo")
    assert request.content == "héllo".encode()
    request = await sent("PUT", content=bytearray(b"ba"))
    assert request.content == b"ba"


@pytest.mark.anyio
async def test_content_async_iterable_is_streamed() -> None:
    pulled: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        for chunk in (b"one,", b"two,", b"three"):
            pulled.append(chunk)
            yield chunk

    engine = Mock(echo)
    client = HttpClient(engine)
    await client.post(URL, content=body())
    assert pulled == [b"one,", b"two,", b"three"]
    assert engine.request_history[0].content == b"one,two,three"


@pytest.mark.parametrize("content", [123, ["list"], {"a": 1}, 1.5])
@pytest.mark.anyio
async def test_content_of_another_type_is_refused(content: Any) -> None:
    error = await refused("PUT", content=content)
    assert "content=" in str(error)


@pytest.mark.parametrize(
    "bodies",
    [
        {"json": {}, "data": {"a": 1}},
        {"json": {}, "content": b"x"},
        {"json": {}, "files": {"f": b"x"}},
        {"data": {"a": 1}, "content": b"x"},
        {"files": {"f": b"x"}, "content": b"x"},
        {"json": 1, "data": {"a": 1}, "files": {"f": b"x"}},
    ],
)
@pytest.mark.anyio
async def test_conflicting_bodies_are_refused(bodies: dict[str, Any]) -> None:
    error = await refused("POST", **bodies)
    assert "one body at most" in str(error)


@pytest.mark.anyio
async def test_no_body_is_empty() -> None:
    request = await sent("DELETE")
    assert request.content == b""
    assert not request.is_streaming


# -- method, URL and options ------------------------------------------------------------------
@pytest.mark.parametrize(("given", "expected"), [("get", "GET"), ("Post", "POST"), ("PURGE", "PURGE")])
@pytest.mark.anyio
async def test_methods_are_upper_cased_tokens(given: str, expected: str) -> None:
    assert (await sent(given)).method == expected


@pytest.mark.parametrize("method", ["GE T", "", "GET\r\n", "GET/", 5, None])
@pytest.mark.anyio
async def test_bad_methods_are_refused(method: Any) -> None:
    error = await refused(method)
    assert "HTTP method" in str(error)


@pytest.mark.parametrize(
    "url",
    [
        "/relative/path",
        "mock.test/items",
        "ftp://mock.test/file",
        "file:///etc/passwd",
        "http://",
        "http:///no-host",
        "",
        "http://[::1",
        12,
    ],
)
@pytest.mark.anyio
async def test_urls_that_are_not_absolute_http_are_refused(url: Any) -> None:
    error = await refused(url=url)
    assert "URL" in str(error)


@pytest.mark.anyio
async def test_url_errors_mask_credentials() -> None:
    for url in ("ftp://user:pw-secret@mock.test/f", "http://user:pw-secret@[::1", "http://user:pw-secret@h:99999/"):
        error = await refused(url=url)
        assert "pw-secret" not in str(error)


@pytest.mark.anyio
async def test_https_and_url_objects_are_accepted() -> None:
    from yarl import URL as YURL

    assert str((await sent(url="https://mock.test/secure")).url) == "https://mock.test/secure"
    assert str((await sent(url=YURL("http://mock.test/y"))).url) == "http://mock.test/y"


@pytest.mark.anyio
async def test_a_url_sent_again_is_resolved_and_checked_as_the_first_time() -> None:
    """Checked URL strings are remembered: that must not change what a later request gets."""
    from kclient import DefaultRequest

    for _ in range(2):
        assert str((await sent(url="http://mock.test/again")).url) == "http://mock.test/again"
        assert str((await sent(url="http://mock.test/again", params={"q": "1"})).url) == "http://mock.test/again?q=1"
        assert "URL" in str(await refused(url="/again"))
        assert "URL" in str(await refused(url="http://mock test/again"))
    engine = Mock(echo, reuse_handlers=True)
    async with HttpClient(engine, lambda c: c.install(DefaultRequest, url="http://base.test/api/")) as client:
        for url in ("again", "http://mock.test/again", "again"):
            await client.get(url)
    assert [str(r.url) for r in engine.request_history] == [
        "http://base.test/api/again",
        "http://mock.test/again",
        "http://base.test/api/again",
    ]


@pytest.mark.parametrize("option", ["parmas", "allow_redirects", "auth", "body"])
@pytest.mark.anyio
async def test_unknown_options_are_refused(option: str) -> None:
    error = await refused(**{option: 1})
    assert option in str(error)
    assert "valid options" in str(error)
    assert "params" in str(error)


# -- timeouts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("timeout", [0, -1, "5", True, [1], float("nan")])
@pytest.mark.anyio
async def test_invalid_timeouts_are_refused(timeout: Any) -> None:
    error = await refused(timeout=timeout)
    assert "timeout=" in str(error)


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (None, Timeouts()),
        (2, Timeouts(request=2.0)),
        (0.25, Timeouts(request=0.25)),
        (Timeouts(connect=1), Timeouts(connect=1)),
    ],
)
@pytest.mark.anyio
async def test_valid_timeouts_reach_the_engine(timeout: Any, expected: Timeouts) -> None:
    assert (await sent(timeout=timeout)).timeouts == expected


async def never_answer(request: Request) -> Any:
    await anyio.Event().wait()
    return respond("too late")


@pytest.mark.anyio
async def test_per_request_timeout_raises_request_timeout() -> None:
    client = HttpClient(Mock(never_answer))
    with anyio.fail_after(5):
        with pytest.raises(RequestTimeout) as info:
            await client.get("http://mock.test/slow", timeout=0.05)
    error = info.value
    assert isinstance(error, TimeoutError)
    assert isinstance(error, KClientTimeoutError)
    assert isinstance(error, TransportError)
    assert isinstance(error, KClientError)
    assert "0.05" in str(error)
    assert "GET http://mock.test/slow" in str(error)
    assert client.state is ClientState.ACTIVE
    assert client.status().failed == 1


@pytest.mark.anyio
async def test_http_timeout_plugin_applies_by_default() -> None:
    client = HttpClient(Mock(never_answer), lambda c: c.install(HttpTimeout, request_timeout=0.05))
    with anyio.fail_after(5):
        with pytest.raises(RequestTimeout, match=r"0\.05 s"):
            await client.get(URL)


@pytest.mark.anyio
async def test_a_shorter_per_request_timeout_wins_over_the_plugin() -> None:
    client = HttpClient(Mock(never_answer), lambda c: c.install(HttpTimeout, request_timeout=60))
    with anyio.fail_after(5):
        with pytest.raises(RequestTimeout, match=r"0\.05 s"):
            await client.get(URL, timeout=0.05)


@pytest.mark.anyio
async def test_a_longer_per_request_timeout_wins_over_the_plugin() -> None:
    async def slowish(request: Request) -> Any:
        await anyio.sleep(0.2)
        return respond("made it")

    client = HttpClient(Mock(slowish), lambda c: c.install(HttpTimeout, request_timeout=0.05))
    with anyio.fail_after(5):
        with pytest.raises(RequestTimeout):
            await client.get(URL)
        response = await client.get(URL, timeout=30)
    assert response.text == "made it"


# -- streaming --------------------------------------------------------------------------------
class ChunkStream:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            await anyio.sleep(0)
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_stream_aiter_bytes_yields_chunks_as_they_come() -> None:
    body = ChunkStream([b"alpha ", b"", b"beta ", b"gamma"])
    client = HttpClient(Mock(lambda request: Response(200, request=request, stream=body)))
    async with client.stream("GET", URL) as response:
        assert not response.is_closed
        with pytest.raises(ResponseNotReadError) as info:
            _ = response.content
        assert isinstance(info.value, RuntimeError)
        assert "aread" in str(info.value)
        chunks = [chunk async for chunk in response.aiter_bytes()]
    assert chunks == [b"alpha ", b"beta ", b"gamma"]  # empty chunks are skipped
    assert body.closed
    assert response.is_closed
    with pytest.raises(ResponseNotReadError):
        _ = response.content  # streamed and not kept
    with pytest.raises(ResponseNotReadError):
        [chunk async for chunk in response.aiter_bytes()]
    assert client.status().completed == 1


@pytest.mark.anyio
async def test_stream_aread_keeps_the_body() -> None:
    body = ChunkStream([b'{"a": ', b"1}"])
    client = HttpClient(Mock(lambda request: Response(200, request=request, stream=body)))
    async with client.stream("POST", URL, json={"q": 1}) as response:
        assert await response.aread() == b'{"a": 1}'
        assert await response.aread() == b'{"a": 1}'
        assert response.content == b'{"a": 1}'
        assert response.json() == {"a": 1}
        assert [chunk async for chunk in response.aiter_bytes()] == [b'{"a": 1}']
    assert body.closed
    assert response.content == b'{"a": 1}'


@pytest.mark.anyio
async def test_stream_left_unread_is_closed_on_exit() -> None:
    body = ChunkStream([b"never read"])
    client = HttpClient(Mock(lambda request: Response(200, request=request, stream=body)))
    async with client.stream("GET", URL) as response:
        assert response.status == 200
    assert body.closed
    assert response.is_closed
    assert client.status().in_flight == 0


@pytest.mark.anyio
async def test_stream_validates_its_request_too() -> None:
    client = HttpClient(Mock(echo))
    with pytest.raises(InvalidRequestError):
        async with client.stream("GET", "/relative"):
            pass
