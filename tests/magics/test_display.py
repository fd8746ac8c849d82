"""The rich display of responses: status line, masked headers, bodies by type, limits, safety."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime
from html.parser import HTMLParser

import pytest
from kclient.magics._display import (
    DEFAULT_LIMIT_BYTES,
    MAX_TREE_NODES,
    HistoryEntry,
    ResponseView,
    display_bundle,
    format_elapsed,
    format_size,
    history_table,
    mask_header_value,
)
from multidict import CIMultiDict
from yarl import URL

from kclient._models import Request, Response

KIB = 1024
MIB = 1024 * KIB


class _NeverReadStream:
    """A response stream nobody reads (the display must not touch it)."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        raise AssertionError("the display read the stream")

    async def aclose(self) -> None:
        raise AssertionError("the display closed the stream")


async def _chunks() -> AsyncIterator[bytes]:
    yield b"never sent"


def make_response(
    body: bytes | None = b"",
    *,
    content_type: str | None = None,
    headers: list[tuple[str, str]] | None = None,
    status: int = 200,
    reason: str | None = None,
    method: str = "GET",
    url: str = "http://host/path",
    request_headers: list[tuple[str, str]] | None = None,
    request_body: object = b"",
    elapsed: float = 0.0,
    http_version: str = "HTTP/1.1",
) -> Response:
    """A response built directly; ``body=None`` makes it a stream that was not read."""
    response_headers = CIMultiDict(headers or [])
    if content_type is not None:
        response_headers["Content-Type"] = content_type
    request = Request(method, URL(url), CIMultiDict(request_headers or []), request_body)  # type: ignore[arg-type]
    response = Response(
        status,
        request=request,
        headers=response_headers,
        reason=reason,
        http_version=http_version,
        content=body,
        stream=_NeverReadStream() if body is None else None,
    )
    response.elapsed = elapsed
    return response


# -- HTML checks -------------------------------------------------------------------------------------

VOID_TAGS = {"img", "hr", "br"}
ALLOWED_TAGS = {
    "div",
    "span",
    "pre",
    "details",
    "summary",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "iframe",
    "hr",
}


class _TagChecker(HTMLParser):
    """Collects the tags of a fragment and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
        else:
            self.open.pop()


def check_html(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    """Assert ``markup`` is balanced, uses only the expected tags, no handlers and only sandboxed
    iframes; return its tags."""
    checker = _TagChecker()
    checker.feed(markup)
    checker.close()
    assert checker.errors == []
    assert checker.open == []
    for tag, attrs in checker.tags:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}>"
        assert not [name for name in attrs if name.startswith("on")], f"event handler on <{tag}>"
        if tag == "iframe":
            assert attrs.get("sandbox") == ""
            assert "src" not in attrs
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/")
    return checker.tags


def response_body_html(bundle: dict[str, str]) -> str:
    """The HTML of the response body alone."""
    return bundle["text/html"].rpartition('<div class="kclient-body">')[2]


def bundle_of(response: Response, **options: object) -> dict[str, str]:
    bundle = display_bundle(response, **options)  # type: ignore[arg-type]
    assert set(bundle) == {"text/plain", "text/html"}
    check_html(bundle["text/html"])
    return bundle


# -- formatting --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1234, "1.2 KiB"),
        (64 * KIB, "64 KiB"),
        (100 * MIB, "100 MiB"),
        (int(1.5 * MIB), "1.5 MiB"),
        (3 * 1024 * MIB, "3 GiB"),
    ],
)
def test_format_size(size, expected):
    assert format_size(size) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.0123, "12.3 ms"), (0.0004, "0.4 ms"), (0.999, "999.0 ms"), (1.0, "1.00 s"), (12.345, "12.35 s")],
)
def test_format_elapsed(seconds, expected):
    assert format_elapsed(seconds) == expected


# -- header masking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "extra", "expected"),
    [
        ("Authorization", "Bearer abc.def", (), "Bearer ***"),
        ("authorization", "Basic dXNlcjpwYXNz", (), "Basic ***"),
        ("Authorization", "rawtoken123", (), "***"),
        ("Authorization", "Custom abc", (), "***"),
        ("Proxy-Authorization", 'Digest username="u", response="r"', (), "Digest ***"),
        ("Cookie", "a=1; b=2", (), "a=***; b=***"),
        ("Cookie", "lonely", (), "***"),
        ("Set-Cookie", "session=abc; Path=/; HttpOnly", (), "session=***; Path=/; HttpOnly"),
        ("set-cookie", "id=a=b=c; Max-Age=60", (), "id=***; Max-Age=60"),
        ("Set-Cookie", "flag", (), "***"),
        ("X-Api-Key", "k", (), "***"),
        ("X-Auth-Token", "t", (), "***"),
        ("X-Session", "abc", frozenset({"x-session"}), "***"),
        ("X-Session", "abc", (), "abc"),
        ("Location", "http://h/next?token=t&x=1", (), "http://h/next?token=***&x=1"),
        ("Location", "/relative?password=p", (), "/relative?password=***"),
        ("Content-Location", "http://user:pw@h/", (), "http://user:***@h/"),
        ("Referer", "http://h/?api_key=k", (), "http://h/?api_key=***"),
        ("Link", '<http://h/?page=2&key=k>; rel="next"', (), '<http://h/?page=2&key=***>; rel="next"'),
        ("Content-Type", "text/plain", (), "text/plain"),
    ],
)
def test_mask_header_value(name, value, extra, expected):
    assert mask_header_value(name, value, extra) == expected


# -- secrets never shown -----------------------------------------------------------------------------

SECRETS = [
    "auth-s3cr3t",
    "proxy-s3cr3t",
    "cookie-s3cr3t",
    "setcookie-s3cr3t",
    "other-setcookie-s3cr3t",
    "apikey-s3cr3t",
    "extra-header-s3cr3t",
    "userinfo-s3cr3t",
    "query-token-s3cr3t",
    "query-password-s3cr3t",
    "location-s3cr3t",
    "link-s3cr3t",
    "form-password-s3cr3t",
    "json-token-s3cr3t",
    "nested-secret-s3cr3t",
]


def secret_responses() -> list[Response]:
    """Responses whose headers, URLs and request bodies carry every secret above."""
    url = "http://me:userinfo-s3cr3t@host/path?token=query-token-s3cr3t&password=query-password-s3cr3t&q=1"
    request_headers = [
        ("Authorization", "Bearer auth-s3cr3t"),
        ("Proxy-Authorization", "Basic proxy-s3cr3t"),
        ("Cookie", "sid=cookie-s3cr3t; theme=dark"),
        ("X-Api-Key", "apikey-s3cr3t"),
        ("X-Extra", "extra-header-s3cr3t"),
    ]
    response_headers = [
        ("Set-Cookie", "session=setcookie-s3cr3t; Path=/; HttpOnly"),
        ("Set-Cookie", "other=other-setcookie-s3cr3t; Secure"),
        ("Location", "http://host/next?key=location-s3cr3t"),
        ("Link", '<http://host/page?sig=link-s3cr3t>; rel="next"'),
        ("X-Extra", "extra-header-s3cr3t"),
    ]
    json_body = json.dumps({"user": "me", "token": "json-token-s3cr3t", "deep": [{"secret": "nested-secret-s3cr3t"}]})
    bodies = [
        ("application/json", json_body.encode()),
        ("application/json", (json_body[:-1] + ', "pad": "' + "x" * 100 * KIB + '"}').encode()),  # over the limit
        ("application/x-www-form-urlencoded", b"user=me&password=form-password-s3cr3t&token=json-token-s3cr3t"),
        ("application/x-www-form-urlencoded", b"password=form-password-s3cr3t&pad=" + b"x" * 100 * KIB),
        (
            "application/json",
            b'{"token": "json-token-s3cr3t", "deep": {"secret": "nested-secret-s3cr3t"}, "pad": "'
            + b"x" * 100 * KIB
            + b'"}',
        ),
    ]
    responses = []
    for content_type, request_body in bodies:
        for response_type, response_body in [("text/html", b"<h1>hi</h1>"), ("application/json", b'{"ok": true}')]:
            responses.append(
                make_response(
                    response_body,
                    content_type=response_type,
                    headers=response_headers,
                    status=302,
                    method="POST",
                    url=url,
                    request_headers=[*request_headers, ("Content-Type", content_type)],
                    request_body=request_body,
                    elapsed=0.2,
                )
            )
    return responses


@pytest.mark.parametrize("verbose", [False, True])
@pytest.mark.parametrize("render_html", [False, True])
@pytest.mark.parametrize("limit_bytes", [DEFAULT_LIMIT_BYTES, 200])
def test_no_secret_in_any_bundle_entry(verbose, render_html, limit_bytes):
    for response in secret_responses():
        view = ResponseView(
            response,
            limit_bytes=limit_bytes,
            masked_headers=frozenset({"X-EXTRA"}),
            render_html=render_html,
            verbose=verbose,
        )
        bundle = view._repr_mimebundle_()
        shown = [*bundle.values(), repr(view), str(view)]
        for entry in shown:
            for secret in SECRETS:
                assert secret not in entry
        check_html(bundle["text/html"])
        assert "session=***; Path=/; HttpOnly" in bundle["text/plain"]
        if verbose:
            assert "Bearer ***" in bundle["text/plain"]
            assert "sid=***; theme=***" in bundle["text/plain"]


def test_masking_keeps_what_is_not_secret():
    response = secret_responses()[0]
    plain = display_bundle(response, verbose=True, masked_headers={"x-extra"})["text/plain"]
    assert "POST http://me:***@host/path?token=***&password=***&q=1" in plain
    assert "Location: http://host/next?key=***" in plain
    assert "X-Extra: ***" in plain
    assert '"user": "me"' in plain
    assert '"token": "***"' in plain
    assert '"secret": "***"' in plain


def test_response_bodies_are_shown_as_they_are():
    """Only request bodies (the user's own input, shown with -v) have secret fields masked: a login
    response's token is what the user asked for."""
    response = make_response(b'{"token": "abc"}', content_type="application/json")
    assert '"token": "abc"' in display_bundle(response)["text/plain"]


def test_a_body_that_echoes_the_requests_credentials_shows_them_masked():
    """httpbin's /anything answers with the request's headers: the token sent stays hidden in the answer."""
    echoed = json.dumps({"headers": {"Authorization": "Bearer tok-9f8e7d6c", "X-Api-Key": "key-5a4b3c"}}).encode()
    response = make_response(
        echoed,
        content_type="application/json",
        url="http://me:pw-1a2b3c@host/path?api_key=q-7x8y9z",
        request_headers=[("Authorization", "Bearer tok-9f8e7d6c"), ("X-Api-Key", "key-5a4b3c")],
    )
    for limit_bytes in (10, 64 << 10):
        bundle = display_bundle(response, verbose=True, limit_bytes=limit_bytes)
        for secret in ("tok-9f8e7d6c", "key-5a4b3c", "pw-1a2b3c", "q-7x8y9z"):
            assert all(secret not in value for value in bundle.values()), (secret, limit_bytes)
    assert '"Authorization": "***"' in display_bundle(response)["text/plain"]


# -- status line -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"body": b"x" * 1234, "elapsed": 0.0123},
            "HTTP/1.1 200 OK · GET http://host/path · 12.3 ms · 1.2 KiB",
        ),
        ({"body": b"", "elapsed": 0.0}, "HTTP/1.1 200 OK · GET http://host/path · 0 B"),
        (
            {"status": 404, "method": "DELETE", "url": "http://host/x?token=t", "elapsed": 1.5},
            "HTTP/1.1 404 Not Found · DELETE http://host/x?token=*** · 1.50 s · 0 B",
        ),
        ({"status": 599, "reason": "", "http_version": "HTTP/2"}, "HTTP/2 599 · GET http://host/path · 0 B"),
        ({"body": None, "elapsed": 0.002}, "HTTP/1.1 200 OK · GET http://host/path · 2.0 ms · streamed"),
    ],
)
def test_status_line(options, expected):
    bundle = bundle_of(make_response(**options))
    assert bundle["text/plain"].splitlines()[0] == expected


@pytest.mark.parametrize(("status", "color"), [(200, "#1a7f37"), (301, "#0969da"), (404, "#bc4c00"), (503, "#cf222e")])
def test_status_line_is_colored_by_class(status, color):
    assert f"color:{color}" in bundle_of(make_response(status=status))["text/html"]


def test_headers_as_lines_and_table():
    response = make_response(b"hi", content_type="text/plain", headers=[("X-A", "1"), ("X-A", "2")])
    bundle = bundle_of(response)
    assert bundle["text/plain"].splitlines()[1:4] == ["X-A: 1", "X-A: 2", "Content-Type: text/plain"]
    tags = [tag for tag, _ in check_html(bundle["text/html"])]
    assert tags.count("tr") == 3
    assert "<summary>Headers (3)</summary>" in bundle["text/html"]


# -- bodies by content type --------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><circle r="4"/></svg>'


@pytest.mark.parametrize(
    ("content_type", "body", "render_html", "in_plain", "in_html", "not_in_html"),
    [
        pytest.param(
            "application/json",
            b'{"a":[1,{"b":null}],"c":"x"}',
            False,
            '{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ],\n  "c": "x"\n}',
            '<details open><summary>"a": [ <span',
            "<pre",
            id="json-tree",
        ),
        pytest.param(
            "application/problem+json; charset=utf-8",
            b'{"title":"caf\xc3\xa9"}',
            False,
            '{\n  "title": "café"\n}',
            '"title": "café"',
            None,
            id="json-suffix-type",
        ),
        pytest.param(None, b" [1, 2]", False, "[\n  1,\n  2\n]", "<div>1,</div>", None, id="json-sniffed"),
        pytest.param("application/json", b"{not json", False, "{not json", "<pre", "<details", id="json-invalid"),
        pytest.param("application/json", b"{}", False, "{}", "<div>{}</div>", None, id="json-empty-object"),
        pytest.param(
            "image/png",
            PNG,
            False,
            "[image/png, 16 B]",
            f'<img src="data:image/png;base64,{base64.b64encode(PNG).decode()}"',
            None,
            id="png-inline",
        ),
        pytest.param(
            "image/jpeg", b"\xff\xd8\xff", False, "[image/jpeg, 3 B]", "data:image/jpeg;base64,", None, id="jpeg"
        ),
        pytest.param(
            "image/svg+xml", SVG, False, "<script>alert(1)</script>", "&lt;script&gt;", "<img", id="svg-as-source"
        ),
        pytest.param(
            "image/svg+xml",
            SVG,
            True,
            "[image/svg+xml, 86 B]",
            f'<img src="data:image/svg+xml;base64,{base64.b64encode(SVG).decode()}"',
            "<pre",
            id="svg-rendered-as-img",
        ),
        pytest.param(
            "text/html; charset=utf-8",
            b"<h1>Hi</h1>",
            False,
            "<h1>Hi</h1>",
            "&lt;h1&gt;Hi&lt;/h1&gt;</pre>",
            "iframe",
            id="html-as-source",
        ),
        pytest.param(
            "text/html",
            b'<h1 class="t">Hi & bye</h1>',
            True,
            "[text/html, 27 B, rendered]",
            '<iframe sandbox="" referrerpolicy="no-referrer" '
            'srcdoc="&lt;h1 class=&quot;t&quot;&gt;Hi &amp; bye&lt;/h1&gt;"',
            "<pre",
            id="html-rendered-in-sandbox",
        ),
        pytest.param("text/plain; charset=latin-1", b"caf\xe9", False, "café", ">café</pre>", None, id="latin-1"),
        pytest.param("text/plain", b"caf\xe9", False, "café", None, None, id="not-utf8-falls-back-to-latin-1"),
        pytest.param("text/plain; charset=zlib", b"abc", False, "abc", None, None, id="non-text-codec-ignored"),
        pytest.param("text/plain; charset=nope", b"abc", False, "abc", None, None, id="unknown-charset"),
        pytest.param("application/xml", b"<a>1</a>", False, "<a>1</a>", "&lt;a&gt;1&lt;/a&gt;", None, id="xml"),
        pytest.param(
            "application/octet-stream",
            bytes(range(100)),
            False,
            "[binary application/octet-stream, 100 B], first 64 bytes:\n"
            "00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  |................|",
            "00000030  30 31 32 33 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f  |0123456789:;&lt;=&gt;?|",
            "00000040",
            id="binary-hex-preview",
        ),
        pytest.param(
            None, b"\x00\x01AB", False, "[binary unknown type, 4 B]\n00000000  00 01 41 42", None, None, id="binary"
        ),
        pytest.param("application/octet-stream", b"plain words", False, "plain words", None, None, id="sniffed-text"),
    ],
)
def test_body_by_content_type(content_type, body, render_html, in_plain, in_html, not_in_html):
    bundle = bundle_of(make_response(body, content_type=content_type), render_html=render_html)
    plain_body = bundle["text/plain"].split("\n\n", 1)[1]
    assert in_plain in plain_body
    body_html = response_body_html(bundle)
    if in_html is not None:
        assert in_html in body_html
    if not_in_html is not None:
        assert not_in_html not in body_html


def test_empty_body_shows_no_body_section():
    bundle = bundle_of(make_response(b"", headers=[("X-A", "1")]))
    assert bundle["text/plain"] == "HTTP/1.1 200 OK · GET http://host/path · 0 B\nX-A: 1"


def test_streamed_body_is_not_read():
    bundle = bundle_of(make_response(None, content_type="application/json"))
    assert bundle["text/plain"].endswith("\n\nbody not read (streamed)")
    assert "body not read (streamed)" in bundle["text/html"]


def test_large_json_is_one_collapsible_block():
    body = json.dumps(list(range(MAX_TREE_NODES + 1))).encode()
    bundle = bundle_of(make_response(body, content_type="application/json"))
    html = bundle["text/html"]
    assert html.count("<details open>") == 2  # the headers and the whole body
    assert f"<summary>JSON, {format_size(len(body))}</summary><pre" in html
    assert "\n  2000\n]" in bundle["text/plain"]


def test_deeply_nested_json_does_not_fail():
    body = b"[" * 5000 + b"]" * 5000
    bundle = bundle_of(make_response(body, content_type="application/json"))
    assert bundle["text/plain"].endswith("\n\n" + body.decode())  # too deep to parse: shown as it is
    assert len(bundle["text/html"]) < 20 * KIB


def test_deep_but_parseable_json_is_bounded():
    body = b"[" * 500 + b"]" * 500
    bundle = bundle_of(make_response(body, content_type="application/json"), limit_bytes=2 * KIB)
    for entry in bundle.values():
        assert len(entry) < 4 * 2 * KIB + 4 * KIB


# -- nothing injected --------------------------------------------------------------------------------

PAYLOAD = '</pre></div><script>alert(1)</script><img src=x onerror="alert(2)">'


def injected_responses() -> list[tuple[str, Response]]:
    payload = PAYLOAD.encode()
    json_body = json.dumps({PAYLOAD: [PAYLOAD, {"k": PAYLOAD}]}).encode()
    return [
        ("text body", make_response(payload, content_type="text/plain")),
        ("json body", make_response(json_body, content_type="application/json")),
        ("html body", make_response(payload, content_type="text/html")),
        ("svg body", make_response(payload, content_type="image/svg+xml")),
        ("unknown body", make_response(payload)),
        ("header value", make_response(headers=[("X-Evil", PAYLOAD)])),
        ("reason", make_response(reason=PAYLOAD)),
        ("url", make_response(url="http://host/%3C/pre%3E?q=" + PAYLOAD)),
        ("content type", make_response(b"x", content_type="image/png" + PAYLOAD)),
        (
            "request",
            make_response(
                method="POST",
                request_headers=[("X-Evil", PAYLOAD), ("Content-Type", "text/plain")],
                request_body=payload,
            ),
        ),
    ]


@pytest.mark.parametrize("render_html", [False, True])
@pytest.mark.parametrize(("where", "response"), injected_responses())
def test_no_markup_injected(where, response, render_html):
    bundle = bundle_of(response, render_html=render_html, verbose=True)
    html = bundle["text/html"]
    assert "<script" not in html, where
    assert "<img src=x" not in html, where  # check_html found no tag but ours and no event handler


# -- size limit --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def huge() -> bytes:
    body = b'{"data": "' + b"a" * (100 * MIB - 12) + b'"}'
    assert len(body) == 100 * MIB
    return body


@pytest.mark.parametrize(
    ("content_type", "render_html"),
    [
        ("text/plain", False),
        ("application/json", False),
        ("text/html", False),
        ("text/html", True),
        ("image/svg+xml", False),
        (None, False),
    ],
)
def test_huge_body_shows_an_excerpt(huge, monkeypatch, content_type, render_html):
    def no_parsing(*args, **kwargs):
        raise AssertionError("a body over the limit was parsed")

    monkeypatch.setattr(json, "loads", no_parsing)
    bundle = bundle_of(make_response(huge, content_type=content_type), render_html=render_html)
    total = sum(len(entry) for entry in bundle.values())
    assert total < 2 * DEFAULT_LIMIT_BYTES + 8 * KIB
    for entry in bundle.values():
        assert "showing first 64 KiB of 100 MiB" in entry


@pytest.mark.parametrize(
    ("content_type", "in_plain", "in_html"),
    [
        ("image/png", "[image/png, 100 MiB]", "[image/png, 100 MiB] larger than the display limit of 64 KiB"),
        ("application/octet-stream", "[binary application/octet-stream, 100 MiB], first 64 bytes:", "00000030"),
    ],
)
def test_huge_image_or_binary_shows_a_summary(content_type, in_plain, in_html):
    bundle = bundle_of(make_response(b"\x89" + bytes(100 * MIB - 1), content_type=content_type))
    assert in_plain in bundle["text/plain"]
    assert in_html in bundle["text/html"]
    assert "<img" not in bundle["text/html"]
    assert sum(len(entry) for entry in bundle.values()) < 8 * KIB


def test_huge_request_body_in_verbose_mode(huge):
    response = make_response(
        b"ok",
        method="PUT",
        request_headers=[("Content-Type", "application/json")],
        request_body=huge,
    )
    bundle = bundle_of(response, verbose=True, limit_bytes=KIB)
    assert bundle["text/plain"].count("showing first 1 KiB of 100 MiB") == 1
    assert sum(len(entry) for entry in bundle.values()) < 16 * KIB


@pytest.mark.parametrize(("limit", "shown"), [(5, "éé"), (6, "ééé"), (7, "ééé")])
def test_cut_inside_a_character_drops_it(limit, shown):
    bundle = bundle_of(make_response("é".encode() * 100, content_type="text/plain"), limit_bytes=limit)
    body = bundle["text/plain"].split("\n\n", 1)[1]
    assert body.startswith(shown + "\n")
    assert "\ufffd" not in body
    assert f"showing first {limit} B of 200 B" in body


def test_body_within_the_limit_has_no_note():
    bundle = bundle_of(make_response(b"a" * 10, content_type="text/plain"), limit_bytes=10)
    assert "showing" not in bundle["text/plain"]
    assert "showing" not in bundle["text/html"]


@pytest.mark.parametrize("limit", [0, -1])
def test_limit_must_be_positive(limit):
    with pytest.raises(ValueError, match="limit_bytes must be at least 1"):
        display_bundle(make_response(), limit_bytes=limit)


# -- verbose: the whole exchange ---------------------------------------------------------------------


def test_verbose_shows_the_request_above_the_response():
    response = make_response(
        b'{"id": 7}',
        content_type="application/json",
        status=201,
        method="POST",
        url="http://host/items?key=k",
        request_headers=[("Content-Type", "application/json"), ("Accept", "*/*")],
        request_body=b'{"name": "pen"}',
        elapsed=0.01,
    )
    plain = bundle_of(response, verbose=True)["text/plain"]
    assert plain == (
        "POST http://host/items?key=***\n"
        "Content-Type: application/json\n"
        "Accept: */*\n"
        "\n"
        "{\n"
        '  "name": "pen"\n'
        "}\n"
        "\n"
        "HTTP/1.1 201 Created · POST http://host/items?key=*** · 10.0 ms · 9 B\n"
        "Content-Type: application/json\n"
        "\n"
        "{\n"
        '  "id": 7\n'
        "}"
    )
    html = bundle_of(response, verbose=True)["text/html"]
    assert html.index('class="kclient-request"') < html.index("<hr") < html.index('class="kclient-response"')


def test_not_verbose_leaves_the_request_out():
    response = make_response(b"ok", method="POST", request_headers=[("X-Req", "1")], request_body=b"sent")
    bundle = bundle_of(response)
    for entry in bundle.values():
        assert "X-Req" not in entry
        assert "sent" not in entry


def test_verbose_streamed_request_body():
    response = make_response(b"ok", method="POST", request_body=_chunks())
    assert "body streamed (not shown)" in bundle_of(response, verbose=True)["text/plain"]


# -- ResponseView ------------------------------------------------------------------------------------


def test_view_bundle_matches_display_bundle():
    response = make_response(b'{"a": 1}', content_type="application/json", url="http://host/?token=t")
    view = ResponseView(response, limit_bytes=KIB, verbose=True)
    assert view._repr_mimebundle_() == display_bundle(response, limit_bytes=KIB, verbose=True)
    assert str(view) == display_bundle(response, limit_bytes=KIB, verbose=True)["text/plain"]
    assert repr(view) == "<ResponseView [200 OK] GET http://host/?token=***>"


@pytest.mark.parametrize(
    ("include", "exclude", "keys"),
    [
        (None, None, {"text/plain", "text/html"}),
        (["text/plain"], None, {"text/plain"}),
        (None, ["text/html"], {"text/plain"}),
        (["text/html", "image/png"], None, {"text/html"}),
    ],
)
def test_view_honours_include_and_exclude(include, exclude, keys):
    view = ResponseView(make_response(b"x"))
    assert set(view._repr_mimebundle_(include=include, exclude=exclude)) == keys


def test_view_stands_in_for_its_response():
    response = make_response(b'{"a": [1, 2]}', content_type="application/json", status=201)
    view = ResponseView(response)
    assert view.response is response
    assert view.status == 201
    assert view.json() == {"a": [1, 2]}
    with pytest.raises(AttributeError):
        _ = view.no_such_attribute


def test_view_reads_a_stream_once_it_was_read():
    response = make_response(b"late", content_type="text/plain")
    view = ResponseView(response)
    assert str(view).endswith("\n\nlate")


# -- history -----------------------------------------------------------------------------------------

WHEN = datetime(2024, 5, 6, 7, 8, 9)


def test_history_table():
    entries = [
        HistoryEntry("GET", "http://host/a?token=t", 200, 0.0123, None, WHEN),
        HistoryEntry("POST", URL("http://u:pw@host/b"), None, None, "ConnectError: http://u:pw@host/b <refused>", WHEN),
    ]
    bundle = history_table(entries)
    assert bundle["text/plain"] == (
        "#  time      method  status  elapsed  url                      error\n"
        "1  07:08:09  GET     200     12.3 ms  http://host/a?token=***\n"
        "2  07:08:09  POST    failed  -        http://u:***@host/b      ConnectError: http://***@host/b <refused>"
    )
    html = bundle["text/html"]
    tags = [tag for tag, _ in check_html(html)]
    assert tags.count("tr") == 3
    assert "&lt;refused&gt;" in html
    assert "pw" not in html
    assert "token=t" not in html


def test_history_without_failures_has_no_error_column():
    bundle = history_table([HistoryEntry("GET", "http://host/", 204, 1.5, None, WHEN)])
    assert bundle["text/plain"].splitlines() == [
        "#  time      method  status  elapsed  url",
        "1  07:08:09  GET     204     1.50 s   http://host/",
    ]
    assert "<th" in bundle["text/html"]
    assert ">error<" not in bundle["text/html"]


def test_empty_history():
    bundle = history_table([])
    assert bundle["text/plain"] == "no requests yet"
    check_html(bundle["text/html"])


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (
            "application/json",
            b'{"password": "p\\"w", "token": 12, "Secret": null, "keep": "k", "pad": "' + b"x" * 300,
            '{"password": "***", "token": "***", "Secret": "***", "keep": "k", "pad": "',
        ),
        ("application/json", b'{"token": "cut-in-the-midd' + b"x" * 300, '{"token": "***"'),
        (
            "application/x-www-form-urlencoded",
            b"a=1&password=x;token=y&keyx=2&pad=" + b"x" * 300,
            "a=1&password=***;token=***&keyx=2&pad=",
        ),
        ("text/plain", b"password=x&token=y" + b"x" * 300, "password=x&token=y"),
    ],
)
def test_secret_fields_of_a_cut_request_body_are_masked(content_type, body, expected):
    """A request body over the limit is shown as text, its secret fields masked all the same."""
    response = make_response(method="POST", request_headers=[("Content-Type", content_type)], request_body=body)
    plain = bundle_of(response, verbose=True, limit_bytes=len(expected) + 10)["text/plain"]
    assert f"\n\n{expected}" in plain
