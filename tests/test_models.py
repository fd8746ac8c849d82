"""Response and Request models: text decoding, JSON, status checks and masked reprs."""

from __future__ import annotations

import json

import pytest

from kclient import (
    ClientResponseError,
    DecodingError,
    HttpClient,
    KClientError,
    Mock,
    RedirectResponseError,
    Response,
    ResponseError,
    ServerResponseError,
    Timeouts,
    respond,
)

URL = "http://mock.test/doc"


async def fetch(
    content: bytes | str | dict[str, object] = b"",
    status: int = 200,
    headers: dict[str, str] | None = None,
    url: str = URL,
    method: str = "GET",
) -> Response:
    client = HttpClient(Mock(lambda request: respond(content, status, headers)))
    return await client.request(method, url)


# -- text -------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_text_uses_the_declared_charset() -> None:
    body = "café \u2013 naïve".encode("cp1252")
    response = await fetch(body, headers={"Content-Type": "text/plain; charset=windows-1252"})
    assert response.charset == "cp1252"
    assert response.text == "café \u2013 naïve"


@pytest.mark.anyio
async def test_text_with_a_quoted_charset_and_other_parameters() -> None:
    body = "grüße".encode("iso-8859-1")
    response = await fetch(body, headers={"Content-Type": 'text/html; format=flowed; Charset="ISO-8859-1"'})
    assert response.charset == "iso8859-1"
    assert response.text == "grüße"


@pytest.mark.anyio
async def test_declared_charset_wins_over_utf8_even_for_utf8_bytes() -> None:
    response = await fetch("é".encode(), headers={"Content-Type": "text/plain; charset=latin-1"})
    assert response.text == "Ã©"


@pytest.mark.anyio
async def test_declared_charset_replaces_undecodable_bytes() -> None:
    response = await fetch(b"ok \xff", headers={"Content-Type": "text/plain; charset=utf-8"})
    assert response.text == "ok \ufffd"


@pytest.mark.anyio
async def test_unknown_charset_falls_back_to_utf8() -> None:
    response = await fetch("snow ☃".encode(), headers={"Content-Type": "text/plain; charset=x-no-such-charset"})
    assert response.charset is None
    assert response.text == "snow ☃"


@pytest.mark.anyio
@pytest.mark.parametrize("codec", ["zlib", "base64", "rot13", "hex"])
async def test_a_codec_that_is_not_a_text_encoding_is_ignored(codec: str) -> None:
    response = await fetch(b'{"a": 1}', headers={"Content-Type": f"application/json; charset={codec}"})
    assert response.charset is None
    assert response.json() == {"a": 1}
    assert response.excerpt() == '{"a": 1}'


@pytest.mark.anyio
async def test_unknown_charset_and_invalid_utf8_fall_back_to_latin1() -> None:
    response = await fetch(b"caf\xe9", headers={"Content-Type": "text/plain; charset=bogus"})
    assert response.text == "café"


@pytest.mark.anyio
async def test_no_charset_decodes_utf8() -> None:
    response = await fetch("日本語 €".encode())
    assert response.headers.get("Content-Type") is None
    assert response.charset is None
    assert response.text == "日本語 €"


@pytest.mark.anyio
async def test_no_charset_and_invalid_utf8_fall_back_to_latin1() -> None:
    response = await fetch(b"na\xefve \xa0\xff", headers={"Content-Type": "text/plain"})
    assert response.text == "na\xefve \xa0\xff"
    assert response.text == b"na\xefve \xa0\xff".decode("latin-1")


@pytest.mark.anyio
async def test_empty_body() -> None:
    response = await fetch(b"")
    assert response.content == b""
    assert response.text == ""


# -- json -------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_json_parses_the_body() -> None:
    response = await fetch({"items": [1, 2.5, None, "x"], "ok": True})
    assert response.json() == {"items": [1, 2.5, None, "x"], "ok": True}
    from decimal import Decimal

    assert response.json(parse_float=Decimal)["items"][1] == Decimal("2.5")


@pytest.mark.parametrize("body", [b"<html>not json</html>", b"", b"{'single': 'quotes'}", b"[1, 2"])
@pytest.mark.anyio
async def test_json_errors_are_decoding_errors(body: bytes) -> None:
    response = await fetch(body, headers={"Content-Type": "text/html"})
    with pytest.raises(DecodingError) as info:
        response.json()
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, KClientError)
    assert isinstance(error.__cause__, json.JSONDecodeError)
    assert "not JSON" in str(error)
    assert "text/html" in str(error)
    assert URL in str(error)


@pytest.mark.anyio
async def test_json_error_message_masks_secrets_in_the_url() -> None:
    response = await fetch(b"nope", url="http://user:pw-secret@mock.test/x?api_key=k-secret&page=1")
    with pytest.raises(DecodingError) as info:
        response.json()
    assert "pw-secret" not in str(info.value)
    assert "k-secret" not in str(info.value)
    assert "page=1" in str(info.value)


# -- status -----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [100, 101, 103, 200, 201, 204, 299])
@pytest.mark.anyio
async def test_raise_for_status_returns_the_response_for_1xx_and_2xx(status: int) -> None:
    response = await fetch(status=status)
    assert response.raise_for_status() is response


@pytest.mark.parametrize(
    ("status", "error_class", "kind"),
    [
        (300, RedirectResponseError, "Redirect"),
        (301, RedirectResponseError, "Redirect"),
        (304, RedirectResponseError, "Redirect"),
        (399, RedirectResponseError, "Redirect"),
        (400, ClientResponseError, "Client error"),
        (404, ClientResponseError, "Client error"),
        (429, ClientResponseError, "Client error"),
        (499, ClientResponseError, "Client error"),
        (500, ServerResponseError, "Server error"),
        (503, ServerResponseError, "Server error"),
        (599, ServerResponseError, "Server error"),
    ],
)
@pytest.mark.anyio
async def test_raise_for_status_raises_by_class(status: int, error_class: type[ResponseError], kind: str) -> None:
    response = await fetch(status=status, method="PATCH")
    with pytest.raises(error_class) as info:
        response.raise_for_status()
    error = info.value
    assert isinstance(error, ResponseError)
    assert isinstance(error, KClientError)
    assert error.response is response
    assert str(error).startswith(f"{kind} {status}")
    assert f"PATCH {URL}" in str(error)
    for other in {RedirectResponseError, ClientResponseError, ServerResponseError} - {error_class}:
        assert not isinstance(error, other)


@pytest.mark.parametrize(("status", "success"), [(199, False), (200, True), (299, True), (300, False), (404, False)])
@pytest.mark.anyio
async def test_is_success(status: int, success: bool) -> None:
    assert (await fetch(status=status)).is_success is success


@pytest.mark.anyio
async def test_reason_phrases() -> None:
    assert (await fetch(status=404)).reason == "Not Found"
    assert (await fetch(status=299)).reason == ""  # no standard phrase


# -- the rest of a response -------------------------------------------------------------------
@pytest.mark.anyio
async def test_response_fields() -> None:
    response = await fetch("body", status=201, headers={"X-Thing": "1"})
    assert response.status == 201
    assert response.http_version == "HTTP/1.1"
    assert str(response.url) == URL
    assert response.request.method == "GET"
    assert str(response.request.url) == URL
    assert response.headers["x-thing"] == response.headers["X-THING"] == "1"
    assert response.is_closed
    assert response.elapsed >= 0
    assert response.content == b"body"


@pytest.mark.anyio
async def test_headers_are_read_only() -> None:
    response = await fetch("x")
    with pytest.raises(TypeError):
        response.headers["X-New"] = "1"  # type: ignore[index]


# -- secrets in reprs -------------------------------------------------------------------------
@pytest.mark.anyio
async def test_reprs_mask_passwords_and_token_query_params() -> None:
    url = "http://alice:pw-secret@mock.test/data?token=t-secret&access_token=a-secret&Signature=s-secret&page=2"
    response = await fetch("x", status=404, url=url)
    for text in (repr(response), repr(response.request)):
        assert "pw-secret" not in text
        assert "t-secret" not in text
        assert "a-secret" not in text
        assert "s-secret" not in text
        assert "alice:***@mock.test" in text
        assert "token=***" in text
        assert "page=2" in text
    assert repr(response).startswith("<Response [404 Not Found] GET ")
    assert repr(response.request).startswith("<Request GET ")
    with pytest.raises(ClientResponseError) as info:
        response.raise_for_status()
    assert "pw-secret" not in str(info.value)
    assert "t-secret" not in str(info.value)
    # The real values are still used.
    assert response.request.url.password == "pw-secret"
    assert response.request.url.query["token"] == "t-secret"


# -- timeouts ---------------------------------------------------------------------------------
def test_timeouts_merge_over_defaults() -> None:
    defaults = Timeouts(request=10, connect=2, socket=5)
    assert Timeouts(request=1).merged_over(defaults) == Timeouts(request=1, connect=2, socket=5)
    assert Timeouts().merged_over(defaults) == defaults
    assert Timeouts(socket=0.5).merged_over(Timeouts()) == Timeouts(socket=0.5)
    with pytest.raises(AttributeError):
        Timeouts().request = 3  # type: ignore[misc]


@pytest.mark.parametrize("changes", [{}, {"method": "PUT"}], ids=["no changes", "with a change"])
def test_request_copy_keeps_every_field_and_copies_the_headers(changes: dict[str, object]) -> None:
    from kclient._limits import BodyLimits
    from kclient._request_builder import build_request

    original = build_request("POST", "http://mock.test/doc", {"headers": {"X-A": "1"}, "content": b"body"})
    original.timeouts = Timeouts(request=3.0)
    original.attributes = {"retry": 2}
    original.limits = BodyLimits(max_body_size=10)
    copy = original.copy(**changes)  # type: ignore[arg-type]
    assert copy is not original
    assert copy.method == changes.get("method", "POST")
    assert (copy.url, copy.content, copy.timeouts, copy.attributes, copy.limits) == (
        original.url, b"body", Timeouts(request=3.0), {"retry": 2}, BodyLimits(max_body_size=10),
    )  # fmt: skip
    copy.headers["X-A"] = "changed"  # a plugin changing the copy's headers leaves the original's alone
    assert original.headers["X-A"] == "1"
