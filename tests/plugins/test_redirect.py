"""HttpRedirect's decisions, table-driven without a network, and the plugin on the Mock engine."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict
from yarl import URL

from kclient import HttpClient, Mock, RedirectResponseError, Request, TooManyRedirectsError, respond, respond_redirect
from kclient.plugins.redirect import (
    HttpRedirect,
    headers_after_redirect,
    is_downgrade,
    redirect_method,
    redirect_target,
    same_origin,
)


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("POST", 301, "GET"),
        ("POST", 302, "GET"),
        ("POST", 303, "GET"),
        ("PUT", 303, "GET"),
        ("DELETE", 303, "GET"),
        ("HEAD", 303, "HEAD"),
        ("GET", 303, "GET"),
        ("PUT", 301, "PUT"),
        ("PUT", 302, "PUT"),
        ("POST", 307, "POST"),
        ("POST", 308, "POST"),
        ("PATCH", 307, "PATCH"),
        ("GET", 302, "GET"),
    ],
)
def test_redirect_method(method: str, status: int, expected: str) -> None:
    assert redirect_method(method, status) == expected


@pytest.mark.parametrize(
    ("current", "location", "expected"),
    [
        ("http://a.test/x/y", "/z", "http://a.test/z"),
        ("http://a.test/x/y", "z", "http://a.test/x/z"),
        ("http://a.test/x/y", "../z?q=1", "http://a.test/z?q=1"),
        ("http://a.test/x", "https://b.test/p", "https://b.test/p"),
        ("https://a.test/x", "//b.test/p", "https://b.test/p"),
        ("http://a.test/x", "  /spaced  ", "http://a.test/spaced"),
        ("http://a.test/x", "ftp://b.test/file", None),
        ("http://a.test/x", "javascript:alert(1)", None),
        ("http://a.test/x", "http://", None),
    ],
)
def test_redirect_target(current: str, location: str, expected: str | None) -> None:
    target = redirect_target(URL(current), location)
    assert (str(target) if target is not None else None) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://a.test/x", "http://a.test/y?q", True),
        ("http://a.test/x", "http://A.TEST/y", True),
        ("http://a.test/x", "http://a.test:80/y", True),
        ("https://a.test/x", "https://a.test:443/y", True),
        ("http://a.test/x", "https://a.test/x", False),
        ("http://a.test/x", "http://a.test:8080/x", False),
        ("http://a.test/x", "http://b.test/x", False),
        ("http://a.test/x", "http://sub.a.test/x", False),
    ],
)
def test_same_origin(a: str, b: str, same: bool) -> None:
    assert same_origin(URL(a), URL(b)) is same


@pytest.mark.parametrize(
    ("source", "target", "downgrade"),
    [
        ("https://a.test/", "http://a.test/", True),
        ("https://a.test/", "https://b.test/", False),
        ("http://a.test/", "https://a.test/", False),
        ("http://a.test/", "http://b.test/", False),
    ],
)
def test_is_downgrade(source: str, target: str, downgrade: bool) -> None:
    assert is_downgrade(URL(source), URL(target)) is downgrade


SENT = [
    ("Authorization", "Bearer t0ken"),
    ("Cookie", "session=abc"),
    ("Proxy-Authorization", "Basic cHJveHk="),
    ("Host", "a.test"),
    ("Content-Type", "application/json"),
    ("Content-Length", "2"),
    ("X-Trace", "42"),
]


@pytest.mark.parametrize(
    ("target", "body_dropped", "kept"),
    [
        (
            "http://a.test/next",
            False,
            {"Authorization", "Cookie", "Proxy-Authorization", "Host", "Content-Type", "Content-Length", "X-Trace"},
        ),
        ("http://a.test/next", True, {"Authorization", "Cookie", "Proxy-Authorization", "Host", "X-Trace"}),
        ("http://b.test/next", False, {"Content-Type", "Content-Length", "X-Trace"}),
        ("https://a.test/next", False, {"Content-Type", "Content-Length", "X-Trace"}),
        ("http://a.test:8080/next", True, {"X-Trace"}),
    ],
)
def test_headers_after_redirect(target: str, body_dropped: bool, kept: set[str]) -> None:
    headers = CIMultiDict(SENT)
    after = headers_after_redirect(headers, URL("http://a.test/start"), URL(target), body_dropped=body_dropped)
    assert set(after) == kept
    assert len(headers) == len(SENT)  # the request's own headers are left as they were


# -- the plugin, on the Mock engine -----------------------------------------------------------


def chain(*hops: tuple[str, int, str]) -> Mock:
    """A Mock answering each path in ``hops`` with a redirect, anything else with the request seen."""
    table = {path: (status, location) for path, status, location in hops}

    def answer(request: Request) -> object:
        if request.url.path in table:
            status, location = table[request.url.path]
            return respond_redirect(location, status=status)
        content = request.content if isinstance(request.content, bytes) else b"<streamed>"
        return respond(
            {
                "method": request.method,
                "url": str(request.url),
                "headers": dict(request.headers),
                "body": content.decode(),
            }
        )

    return Mock(answer, reuse_handlers=True)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "method", "body"),
    [(301, "GET", ""), (302, "GET", ""), (303, "GET", ""), (307, "POST", '{"a":1}'), (308, "POST", '{"a":1}')],
)
async def test_post_is_redirected_by_status(status: int, method: str, body: str) -> None:
    async with HttpClient(chain(("/start", status, "/end"))) as client:
        response = await client.post("http://mock.test/start", json={"a": 1})
    seen = response.json()
    assert (seen["method"], seen["body"], seen["url"]) == (method, body, "http://mock.test/end")
    assert ("Content-Type" in seen["headers"]) is bool(body)
    assert response.url == URL("http://mock.test/end")


@pytest.mark.anyio
async def test_credentials_survive_same_origin_and_are_dropped_across_origins() -> None:
    sent = {"Authorization": "Bearer t0ken", "Cookie": "s=1", "X-Trace": "42"}
    async with HttpClient(chain(("/same", 302, "/echo"), ("/other", 302, "http://other.test/echo"))) as client:
        same = (await client.get("http://mock.test/same", headers=sent)).json()["headers"]
        other = (await client.get("http://mock.test/other", headers=sent)).json()["headers"]
    assert same["Authorization"] == "Bearer t0ken" and same["Cookie"] == "s=1"
    assert "Authorization" not in other and "Cookie" not in other
    assert other["X-Trace"] == "42"


@pytest.mark.anyio
async def test_https_to_http_is_not_followed_unless_allowed() -> None:
    engine = chain(("/secure", 302, "http://mock.test/plain"))
    async with HttpClient(engine) as client:
        response = await client.get("https://mock.test/secure")
        assert response.status == 302
        with pytest.raises(RedirectResponseError):
            await client.get("https://mock.test/secure", expect_success=True)
    async with HttpClient(engine, lambda c: c.install(HttpRedirect, allow_https_downgrade=True)) as client:
        assert (await client.get("https://mock.test/secure")).json()["url"] == "http://mock.test/plain"


@pytest.mark.anyio
async def test_too_many_redirects() -> None:
    engine = chain(("/loop", 302, "/loop"))
    async with HttpClient(engine, lambda c: c.install(HttpRedirect, max_redirects=3)) as client:
        with pytest.raises(TooManyRedirectsError) as caught:
            await client.get("http://mock.test/loop")
    assert caught.value.status == 302
    assert "More than 3 redirects" in str(caught.value)
    assert isinstance(caught.value, RedirectResponseError)
    assert len(engine.request_history) == 4  # the first request and three redirects


@pytest.mark.anyio
async def test_follow_redirects_false_and_uninstalled() -> None:
    engine = chain(("/start", 302, "/end"))
    async with HttpClient(engine) as client:
        assert (await client.get("http://mock.test/start", follow_redirects=False)).status == 302
    async with HttpClient(engine, lambda c: c.uninstall(HttpRedirect)) as client:
        assert (await client.get("http://mock.test/start")).status == 302
        with pytest.raises(Exception, match="HttpRedirect"):
            await client.get("http://mock.test/start", follow_redirects=True)


@pytest.mark.anyio
async def test_a_redirect_without_location_is_returned() -> None:
    async with HttpClient(Mock(lambda r: respond(b"", status=302), reuse_handlers=True)) as client:
        assert (await client.get("http://mock.test/")).status == 302
