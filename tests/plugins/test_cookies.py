"""HttpCookies: RFC 6265's rules table-driven without a network, the storages, and the plugin on the Mock engine."""

from __future__ import annotations

import calendar
from dataclasses import replace
from typing import Any

import pytest

from kclient import ConfigError, HttpClient, Mock, Request, respond
from kclient.engines.mock import MockAnswer
from kclient.plugins.cookies import (
    AcceptAllCookiesStorage,
    ConstantCookiesStorage,
    Cookie,
    CookiesStorage,
    HttpCookies,
    cookie_header,
    cookies_for,
    default_path,
    domain_match,
    merge_cookie_header,
    parse_cookie_date,
    parse_set_cookie,
    path_match,
)

NOW = 1_700_000_000.0
OCT_21_2015 = float(calendar.timegm((2015, 10, 21, 7, 28, 0)))


def cookie(name: str = "a", value: str = "1", **changes: Any) -> Cookie:
    """A cookie as ``parse_set_cookie`` stores ``a=1`` from ``http://example.com/`` at ``NOW``."""
    fields: dict[str, Any] = {"domain": "example.com", "path": "/", "created": NOW}
    fields.update(changes)
    return Cookie(name, value, **fields)


# -- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("/page", "/"),
        ("/docs/", "/docs"),
        ("/docs/page", "/docs"),
        ("/a/b/c", "/a/b"),
        ("relative/x", "/"),
    ],
)
def test_default_path(url_path: str, expected: str) -> None:
    assert default_path(url_path) == expected


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "expected"),
    [
        ("/", "/", True),
        ("/anything", "/", True),
        ("/docs", "/docs", True),
        ("/docs/a", "/docs", True),
        ("/docs/a", "/docs/", True),
        ("/docs/a/b", "/docs", True),
        ("/docsx", "/docs", False),
        ("/doc", "/docs", False),
        ("/", "/docs", False),
        ("/Docs/a", "/docs", False),
    ],
)
def test_path_match(request_path: str, cookie_path: str, expected: bool) -> None:
    assert path_match(request_path, cookie_path) is expected


@pytest.mark.parametrize(
    ("host", "domain", "expected"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("a.b.example.com", "example.com", True),
        ("EXAMPLE.com", "example.COM", True),
        ("badexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
        ("127.0.0.1", "127.0.0.1", True),
        ("1.2.3.4", "3.4", False),
        ("example.com", "", False),
    ],
)
def test_domain_match(host: str, domain: str, expected: bool) -> None:
    assert domain_match(host, domain) is expected


# -- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed, 21 Oct 2015 07:28:00 GMT", OCT_21_2015),  # RFC 1123
        ("Wednesday, 21-Oct-15 07:28:00 GMT", OCT_21_2015),  # RFC 850
        ("Wed Oct 21 07:28:00 2015", OCT_21_2015),  # asctime
        ("Wed, 21-Oct-2015 07:28:00 GMT", OCT_21_2015),  # Netscape
        ("21 October 2015 7:28:0", OCT_21_2015),
        ("Thu, 01-Jan-1970 00:00:00 GMT", 0.0),
        ("Thu, 01 Jan 1970 00:00:01 GMT", 1.0),
        ("Sun, 06 Nov 94 08:49:37 GMT", float(calendar.timegm((1994, 11, 6, 8, 49, 37)))),
        ("Sat, 01 Jan 2000 00:00:00 GMT", float(calendar.timegm((2000, 1, 1, 0, 0, 0)))),
        ("Fri, 31 Dec 9999 23:59:59 GMT", float(calendar.timegm((9999, 12, 31, 23, 59, 59)))),
        ("Mon, 29 Feb 2016 12:00:00 GMT", float(calendar.timegm((2016, 2, 29, 12, 0, 0)))),
        ("", None),
        ("not a date", None),
        ("Wed, 21 Oct 2015 GMT", None),  # no time
        ("Wed, Oct 2015 07:28:00 GMT", None),  # no day
        ("Wed, 21 Foo 2015 07:28:00 GMT", None),  # no month
        ("Wed, 31 Feb 2015 07:28:00 GMT", None),  # a day that does not exist
        ("Sun, 29 Feb 2015 12:00:00 GMT", None),
        ("Wed, 21 Oct 1600 07:28:00 GMT", None),  # before 1601
        ("Wed, 21 Oct 2015 24:00:00 GMT", None),
        ("Wed, 21 Oct 2015 07:60:00 GMT", None),
        ("Wed, 21 Oct 2015 07:28:60 GMT", None),
        ("Wed, \u0662\u0661 Oct 2015 07:28:00 GMT", None),  # digits of another script
    ],
)
def test_parse_cookie_date(text: str, expected: float | None) -> None:
    assert parse_cookie_date(text) == expected


# -- Set-Cookie -------------------------------------------------------------------------------

EXPIRES = "Expires=Wed, 21 Oct 2015 07:28:00 GMT"


@pytest.mark.parametrize(
    ("header", "url", "expected"),
    [
        # name=value and the default path
        ("a=1", "http://example.com/", cookie()),
        ("a=1", "http://example.com/docs/page", cookie(path="/docs")),
        ("a=1", "http://EXAMPLE.com:8080/", cookie()),
        ("  a = 1 ; Path=/", "http://example.com/", cookie()),
        ("a=", "http://example.com/", cookie(value="")),
        ("a=b=c", "http://example.com/", cookie(value="b=c")),
        ('a="quoted"', "http://example.com/", cookie(value='"quoted"')),
        ("=1", "http://example.com/", None),
        ("novalue", "http://example.com/", None),
        ("", "http://example.com/", None),
        ("a=1\x00", "http://example.com/", None),
        ("a=1\x01", "http://example.com/", None),
        ("a=1\x7f", "http://example.com/", None),
        ("a=1\t", "http://example.com/", cookie()),  # a tab is no control character here (RFC 6265 5.2)
        ("a=1\r\nX-Injected: 1", "http://example.com/", None),
        ("a=" + "x" * 4096, "http://example.com/", None),
        # Path
        ("a=1; Path=/", "http://example.com/docs/page", cookie()),
        ("a=1; path=/docs/", "http://example.com/", cookie(path="/docs/")),
        ("a=1; Path=relative", "http://example.com/x/y", cookie(path="/x")),
        ("a=1; Path=", "http://example.com/x/y", cookie(path="/x")),
        ("a=1; Path=/p; Path=/q", "http://example.com/", cookie(path="/q")),
        # Domain
        ("a=1; Domain=example.com", "http://www.example.com/", cookie(host_only=False)),
        ("a=1; Domain=.Example.COM", "http://www.example.com/", cookie(host_only=False)),
        ("a=1; Domain=example.com", "http://example.com/", cookie(host_only=False)),
        ("a=1; Domain=", "http://example.com/", cookie()),
        ("a=1; Domain=other.com", "http://example.com/", None),
        ("a=1; Domain=www.example.com", "http://example.com/", None),
        ("a=1; Domain=ample.com", "http://example.com/", None),
        ("a=1; Domain=..example.com", "http://www.example.com/", None),
        ("a=1; Domain=com", "http://example.com/", None),  # a top-level domain
        ("a=1; Domain=localhost", "http://localhost/", cookie(domain="localhost")),
        ("a=1; Domain=127.0.0.1", "http://127.0.0.1:8000/", cookie(domain="127.0.0.1")),
        ("a=1", "http://127.0.0.1:8000/", cookie(domain="127.0.0.1")),
        ("a=1; Domain=0.0.1", "http://127.0.0.1/", None),
        ("a=1", "http://[::1]:8000/", cookie(domain="::1")),
        ("a=1", "http://bücher.de/", cookie(domain="xn--bcher-kva.de")),
        ("a=1; Domain=bücher.de", "http://www.bücher.de/", cookie(domain="xn--bcher-kva.de", host_only=False)),
        # Expires and Max-Age
        (f"a=1; {EXPIRES}", "http://example.com/", cookie(expires=OCT_21_2015)),
        ("a=1; Expires=garbage", "http://example.com/", cookie()),
        ("a=1; Max-Age=60", "http://example.com/", cookie(expires=NOW + 60)),
        ("a=1; max-age=0060", "http://example.com/", cookie(expires=NOW + 60)),
        (f"a=1; Max-Age=60; {EXPIRES}", "http://example.com/", cookie(expires=NOW + 60)),
        (f"a=1; {EXPIRES}; Max-Age=60", "http://example.com/", cookie(expires=NOW + 60)),
        ("a=1; Max-Age=0", "http://example.com/", cookie(expires=0.0)),
        ("a=1; Max-Age=-5", "http://example.com/", cookie(expires=0.0)),
        ("a=1; Max-Age=abc", "http://example.com/", cookie()),
        ("a=1; Max-Age=\u0666\u0660", "http://example.com/", cookie()),  # digits of another script
        (f"a=1; Max-Age=1.5; {EXPIRES}", "http://example.com/", cookie(expires=OCT_21_2015)),
        ("a=1; Max-Age=60; Max-Age=120", "http://example.com/", cookie(expires=NOW + 120)),
        ("a=1; Max-Age=" + "9" * 40, "http://example.com/", cookie(expires=NOW + 10**15)),
        # Secure, HttpOnly, SameSite
        ("a=1; Secure", "https://example.com/", cookie(secure=True)),
        ("a=1; secure", "wss://example.com/", cookie(secure=True)),
        ("a=1; Secure", "http://example.com/", None),
        ("a=1; HttpOnly", "http://example.com/", cookie(http_only=True)),
        ("a=1; SameSite=lax", "http://example.com/", cookie(same_site="Lax")),
        ("a=1; SameSite=STRICT", "http://example.com/", cookie(same_site="Strict")),
        ("a=1; SameSite=None; Secure", "https://example.com/", cookie(same_site="None", secure=True)),
        ("a=1; SameSite=Bogus", "http://example.com/", cookie()),
        ("a=1; Unknown=x; Comment=y", "http://example.com/", cookie()),
        # prefixes (RFC 6265bis)
        ("__Secure-a=1", "https://example.com/", None),
        ("__Secure-a=1; Secure", "https://example.com/", cookie("__Secure-a", secure=True)),
        ("__Host-a=1; Secure; Path=/", "https://example.com/", cookie("__Host-a", secure=True)),
        ("__host-a=1; Secure; Path=/", "https://example.com/", cookie("__host-a", secure=True)),
        ("__Host-a=1; Secure; Path=/; Domain=example.com", "https://example.com/", None),
        ("__Host-a=1; Secure", "https://example.com/docs/page", None),  # default path /docs
        ("__Host-a=1; Path=/", "https://example.com/", None),
    ],
)
def test_parse_set_cookie(header: str, url: str, expected: Cookie | None) -> None:
    assert parse_set_cookie(header, url, NOW) == expected


def test_parse_set_cookie_refuses_a_relative_url() -> None:
    with pytest.raises(ValueError, match="absolute URLs"):
        parse_set_cookie("a=1", "/relative", NOW)


# -- what a request carries -------------------------------------------------------------------

STORED = [
    Cookie("host", "1", "example.com"),
    Cookie("dom", "1", "example.com", host_only=False),
    Cookie("docs", "1", "example.com", path="/docs"),
    Cookie("sec", "1", "example.com", secure=True),
    Cookie("gone", "1", "example.com", expires=NOW - 1),
    Cookie("ends_now", "1", "example.com", expires=NOW),
    Cookie("live", "1", "example.com", expires=NOW + 1),
    Cookie("other", "1", "other.com"),
    Cookie("ip", "1", "127.0.0.1"),
]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com/", ["host", "dom", "live"]),
        ("http://EXAMPLE.COM:8080/x", ["host", "dom", "live"]),
        ("http://www.example.com/", ["dom"]),
        ("https://example.com/", ["host", "dom", "sec", "live"]),
        ("https://example.com/docs/a", ["docs", "host", "dom", "sec", "live"]),
        ("http://example.com/docs", ["docs", "host", "dom", "live"]),
        ("http://example.com/docsx", ["host", "dom", "live"]),
        ("http://notexample.com/", []),
        ("http://other.com/", ["other"]),
        ("http://sub.other.com/", []),
        ("http://127.0.0.1:8000/", ["ip"]),
        ("http://localhost/", []),
    ],
)
def test_cookies_for(url: str, expected: list[str]) -> None:
    assert [c.name for c in cookies_for(url, STORED, NOW)] == expected


def test_cookies_for_orders_longer_paths_first_then_earlier_creation() -> None:
    stored = [
        Cookie("late_root", "1", "example.com", created=3),
        Cookie("early_root", "1", "example.com", created=1),
        Cookie("late_deep", "1", "example.com", path="/a/b", created=4),
        Cookie("early_mid", "1", "example.com", path="/a", created=0),
        Cookie("early_deep", "1", "example.com", path="/a/b", created=2),
    ]
    chosen = cookies_for("http://example.com/a/b/c", stored, NOW)
    assert [c.name for c in chosen] == ["early_deep", "late_deep", "early_mid", "early_root", "late_root"]


@pytest.mark.parametrize(
    ("cookies", "expected"),
    [
        ([], ""),
        ([Cookie("a", "1", "h")], "a=1"),
        ([Cookie("a", "1", "h"), Cookie("b", "", "h"), Cookie("c", '"q"', "h")], 'a=1; b=; c="q"'),
    ],
)
def test_cookie_header(cookies: list[Cookie], expected: str) -> None:
    assert cookie_header(cookies) == expected


A1, B2 = Cookie("a", "1", "h"), Cookie("b", "2", "h")


@pytest.mark.parametrize(
    ("explicit", "cookies", "expected"),
    [
        ([], [A1], "a=1"),
        ([], [A1, B2], "a=1; b=2"),
        (["x=9"], [A1], "x=9; a=1"),
        (["x=9; y=8"], [], "x=9; y=8"),
        (["x=9", "y=8"], [A1], "x=9; y=8; a=1"),
        (["a=user"], [A1, B2], "a=user; b=2"),
        (["a=user;"], [A1], "a=user"),
    ],
)
def test_merge_cookie_header(explicit: list[str], cookies: list[Cookie], expected: str) -> None:
    assert merge_cookie_header(explicit, cookies) == expected


# -- the Cookie object ------------------------------------------------------------------------


def test_repr_masks_the_value() -> None:
    secret = Cookie("session", "s3cr3t-value", "example.com", secure=True)
    assert "s3cr3t-value" not in repr(secret)
    assert "s3cr3t-value" not in str(secret)
    assert "session" in repr(secret)
    assert "s3cr3t-value" not in repr([secret])
    plugin = HttpCookies.create(storage=ConstantCookiesStorage(secret))
    assert "s3cr3t-value" not in repr(plugin)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "cookie name"),
        ({"name": "a;b"}, "cookie name"),
        ({"name": "a=b"}, "cookie name"),
        ({"value": "x;y"}, "without ';'"),
        ({"value": "x\r\nX-Injected: 1"}, "control characters"),
        ({"domain": ""}, "host name"),
        ({"domain": ".example.com"}, "no leading dot"),
        ({"path": "docs"}, "starts with '/'"),
        ({"same_site": "lax"}, "same_site"),
    ],
)
def test_cookie_refuses_what_cannot_be_sent(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(cookie(), **fields)


# -- storages ---------------------------------------------------------------------------------


def test_storages_follow_the_protocol() -> None:
    assert isinstance(AcceptAllCookiesStorage(), CookiesStorage)
    assert isinstance(ConstantCookiesStorage(), CookiesStorage)


def test_accept_all_replaces_the_same_name_domain_and_path_keeping_its_creation_time() -> None:
    jar = AcceptAllCookiesStorage()
    jar.add(cookie(value="1", created=NOW), NOW)
    jar.add(cookie("b", created=NOW + 1), NOW + 1)
    jar.add(cookie(value="2", created=NOW + 2), NOW + 2)
    assert [(c.name, c.value, c.created) for c in jar.all()] == [("a", "2", NOW), ("b", "1", NOW + 1)]
    assert [c.name for c in jar.get("http://example.com/", NOW + 3)] == ["a", "b"]


def test_accept_all_keeps_cookies_of_other_paths_and_domains_apart() -> None:
    jar = AcceptAllCookiesStorage()
    for stored in (cookie(), cookie(path="/docs"), cookie(domain="other.com"), cookie(host_only=False)):
        jar.add(stored, NOW)
    assert len(jar.all()) == 3  # host-only or not, the same (name, domain, path) is one cookie
    assert jar.all()[0].host_only is False


def test_accept_all_deletes_with_an_expired_cookie() -> None:
    jar = AcceptAllCookiesStorage()
    jar.add(cookie(), NOW)
    jar.add(cookie("b"), NOW)
    deletion = parse_set_cookie("a=; Max-Age=0; Path=/", "http://example.com/", NOW + 1)
    assert deletion is not None
    jar.add(deletion, NOW + 1)
    assert [c.name for c in jar.all()] == ["b"]
    jar.add(cookie("c", expires=NOW - 1), NOW)  # already expired: not stored
    assert [c.name for c in jar.all()] == ["b"]


def test_accept_all_drops_expired_cookies() -> None:
    jar = AcceptAllCookiesStorage()
    jar.add(cookie(expires=NOW + 10), NOW)
    jar.add(cookie("b"), NOW)
    assert [c.name for c in jar.get("http://example.com/", NOW + 5)] == ["a", "b"]
    assert [c.name for c in jar.get("http://example.com/", NOW + 10)] == ["b"]
    assert [c.name for c in jar.all()] == ["b"]


def test_accept_all_drops_the_oldest_beyond_max_cookies() -> None:
    jar = AcceptAllCookiesStorage(max_cookies=2)
    for name in ("a", "b", "c"):
        jar.add(cookie(name), NOW)
    assert [c.name for c in jar.all()] == ["b", "c"]
    jar.clear()
    assert jar.all() == []


@pytest.mark.parametrize("max_cookies", [0, -1, True, 2.5])
def test_accept_all_refuses_a_bad_max_cookies(max_cookies: Any) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        AcceptAllCookiesStorage(max_cookies=max_cookies)


def test_constant_storage_ignores_set_cookie_and_clear() -> None:
    fixed = cookie("token", "t")
    jar = ConstantCookiesStorage(fixed, cookie("docs", path="/docs"))
    jar.add(cookie("other"), NOW)
    jar.clear()
    assert [c.name for c in jar.all()] == ["token", "docs"]
    assert jar.get("http://example.com/", NOW) == [fixed]
    assert jar.get("http://other.com/", NOW) == []


def test_constant_storage_takes_cookies_only() -> None:
    with pytest.raises(TypeError, match="Cookie objects"):
        ConstantCookiesStorage("a=1")  # type: ignore[arg-type]


# -- config -----------------------------------------------------------------------------------


def test_each_plugin_gets_its_own_jar_by_default() -> None:
    first, second = HttpCookies.create(), HttpCookies.create()
    assert isinstance(first, HttpCookies) and isinstance(second, HttpCookies)
    assert isinstance(first.storage, AcceptAllCookiesStorage)
    assert first.storage is not second.storage


def test_a_storage_is_configured() -> None:
    jar = ConstantCookiesStorage(cookie())
    plugin = HttpCookies.create(storage=jar)
    assert isinstance(plugin, HttpCookies)
    assert plugin.storage is jar


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="cookie storage such as AcceptAllCookiesStorage"):
        HttpCookies.create(storage={"a": "1"})
    with pytest.raises(ConfigError, match="Did you mean storage"):
        HttpCookies.create(storag=AcceptAllCookiesStorage())


# -- the plugin on the Mock engine ------------------------------------------------------------


def answer(status: int = 200, *set_cookies: str, location: str | None = None) -> MockAnswer:
    headers = [("Set-Cookie", value) for value in set_cookies]
    if location is not None:
        headers.append(("Location", location))
    return MockAnswer(status, b"", tuple(headers))


def sent_cookies(request: Request) -> list[str]:
    return request.headers.getall("Cookie", [])


def with_cookies(c: Any, **options: Any) -> None:
    c.install(HttpCookies, **options)


@pytest.mark.anyio
async def test_cookies_set_by_each_hop_reach_the_targets_they_match() -> None:
    engine = Mock(
        lambda r: answer(302, "a=1; Path=/", "wide=1; Domain=example.test", location="https://www.example.test/b"),
        lambda r: answer(302, "b=2; Path=/", "s=3; Secure", location="https://example.test/end"),
        lambda r: respond("end"),
    )
    async with HttpClient(engine, with_cookies) as client:
        response = await client.get("http://example.test/start")
        plugin = client.plugin(HttpCookies)
        assert response.status == 200
        assert [sent_cookies(r) for r in engine.request_history] == [[], ["wide=1"], ["a=1; wide=1"]]
        assert [c.name for c in plugin.cookies("https://www.example.test/")] == ["wide", "b", "s"]
        assert [c.name for c in plugin.cookies("http://www.example.test/")] == ["wide", "b"]


@pytest.mark.anyio
async def test_an_explicit_cookie_header_is_kept_and_the_jar_added() -> None:
    engine = Mock(lambda r: answer(200, "a=1", "b=2"))
    async with HttpClient(engine, with_cookies) as client:
        await client.get("http://example.test/")
        await client.get("http://example.test/", headers={"Cookie": "mine=x"})
        await client.get("http://example.test/", headers={"Cookie": "a=user"})
        assert [sent_cookies(r) for r in engine.request_history] == [[], ["mine=x; a=1; b=2"], ["a=user; b=2"]]


@pytest.mark.anyio
async def test_the_caller_request_is_not_changed() -> None:
    engine = Mock(lambda r: answer(200, "a=1"))
    async with HttpClient(engine, with_cookies) as client:
        await client.get("http://example.test/")
        await client.get("http://example.test/")
        first, second = engine.request_history
        assert sent_cookies(first) == [] and sent_cookies(second) == ["a=1"]


@pytest.mark.anyio
async def test_constant_storage_ignores_set_cookie_on_the_wire() -> None:
    engine = Mock(lambda r: answer(200, "a=1"))
    jar = ConstantCookiesStorage(Cookie("token", "t", "example.test"))
    async with HttpClient(engine, lambda c: c.install(HttpCookies, storage=jar)) as client:
        await client.get("http://example.test/")
        await client.get("http://example.test/")
        assert [sent_cookies(r) for r in engine.request_history] == [["token=t"], ["token=t"]]


@pytest.mark.anyio
async def test_streamed_responses_store_cookies_too() -> None:
    engine = Mock(lambda r: answer(200, "a=1"))
    async with HttpClient(engine, with_cookies) as client:
        async with client.stream("GET", "http://example.test/") as response:
            assert not response.is_closed
        assert [c.name for c in client.plugin(HttpCookies).cookies("http://example.test/")] == ["a"]


class FailingStorage(AcceptAllCookiesStorage):
    def add(self, cookie: Cookie, now: float) -> None:
        raise RuntimeError("storage is down")


@pytest.mark.anyio
async def test_a_failing_storage_closes_the_response() -> None:
    engine = Mock(lambda r: answer(200, "a=1"))
    async with HttpClient(engine, lambda c: c.install(HttpCookies, storage=FailingStorage())) as client:
        with pytest.raises(RuntimeError, match="storage is down"):
            async with client.stream("GET", "http://example.test/"):
                pass
        assert engine.response_history[0].is_closed


def test_cookies_of_a_relative_url_are_refused() -> None:
    plugin = HttpCookies.create()
    assert isinstance(plugin, HttpCookies)
    with pytest.raises(ValueError, match="absolute URLs"):
        plugin.cookies("/relative")


@pytest.mark.anyio
async def test_client_cookies_shows_what_a_url_would_get() -> None:
    engine = Mock(lambda r: respond(b"", headers={"Set-Cookie": "session=abc; Path=/app"}), reuse_handlers=True)
    async with HttpClient(engine, lambda c: c.install(HttpCookies)) as client:
        await client.get("http://mock.test/app/login")
        assert [(c.name, c.value) for c in client.cookies("http://mock.test/app/x")] == [("session", "abc")]
        assert client.cookies("http://mock.test/other") == []
    with pytest.raises(ConfigError, match=r"HttpCookies is not installed.*c\.install\(HttpCookies"):
        HttpClient(engine).cookies("http://mock.test/")
