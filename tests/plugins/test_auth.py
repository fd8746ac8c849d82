"""Auth's decisions, table-driven without a network, and the plugin on the Mock engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
from yarl import URL

from kclient import ConfigError, HttpClient, Mock, MockAnswer, Request, respond
from kclient.plugins.auth import (
    Auth,
    AuthProvider,
    BasicAuth,
    BearerAuth,
    BearerTokens,
    Challenge,
    basic_authorization,
    challenge_matches,
    host_allowed,
    may_answer_challenge,
    parse_challenges,
    select_provider,
)

# -- WWW-Authenticate -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('Basic realm="Fake Realm"', [Challenge("basic", {"realm": "Fake Realm"})]),
        ("Bearer", [Challenge("bearer")]),
        ("BASIC REALM=api", [Challenge("basic", {"realm": "api"})]),
        ('Basic realm="api", charset="UTF-8"', [Challenge("basic", {"realm": "api", "charset": "UTF-8"})]),
        (
            'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
            [
                Challenge(
                    "bearer",
                    {"realm": "example", "error": "invalid_token", "error_description": "The access token expired"},
                )
            ],
        ),
        # RFC 9110's example: two challenges in one header, one with parameters that look alike.
        (
            'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
            [
                Challenge("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}),
                Challenge("basic", {"realm": "simple"}),
            ],
        ),
        ("Negotiate abc+/9==, Basic", [Challenge("negotiate", {}, "abc+/9=="), Challenge("basic")]),
        ("Negotiate", [Challenge("negotiate")]),
        ("Basic, Bearer realm=x", [Challenge("basic"), Challenge("bearer", {"realm": "x"})]),
        ("Basic realm=a,,, Bearer", [Challenge("basic", {"realm": "a"}), Challenge("bearer")]),
        ('Basic realm = "spaced" ,  Bearer', [Challenge("basic", {"realm": "spaced"}), Challenge("bearer")]),
        ('Basic realm=""', [Challenge("basic", {"realm": ""})]),
        ('Basic realm="first", realm="second"', [Challenge("basic", {"realm": "first"})]),
        ('Basic realm="a,b"', [Challenge("basic", {"realm": "a,b"})]),
        # malformed parts are skipped, never raised
        ("", []),
        (",, ,", []),
        ('realm="no scheme"', []),
        ('"quoted", Basic', [Challenge("basic")]),
        ('Basic realm="unterminated', [Challenge("basic", {"realm": "unterminated"})]),
        ('Basic realm="x" junk, charset=UTF-8', [Challenge("basic", {"realm": "x", "charset": "UTF-8"})]),
        ('Basic "x"', [Challenge("basic")]),
        ("Basic=, Bearer", [Challenge("bearer")]),
    ],
)
def test_parse_challenges(header: str, expected: list[Challenge]) -> None:
    assert parse_challenges(header) == expected


def test_parse_challenges_of_several_headers_keeps_their_order() -> None:
    assert parse_challenges(['Basic realm="a"', "Bearer, Digest nonce=1"]) == [
        Challenge("basic", {"realm": "a"}),
        Challenge("bearer"),
        Challenge("digest", {"nonce": "1"}),
    ]


@pytest.mark.parametrize(
    ("challenge", "scheme", "realm", "matches"),
    [
        (Challenge("basic", {"realm": "api"}), "Basic", None, True),
        (Challenge("basic", {"realm": "api"}), "Basic", "api", True),
        (Challenge("basic", {"realm": "api"}), "Basic", "API", False),
        (Challenge("basic", {"realm": "api"}), "Basic", "other", False),
        (Challenge("basic"), "Basic", "api", False),
        (Challenge("basic"), "Basic", None, True),
        (Challenge("bearer"), "Basic", None, False),
        (Challenge("bearer", {"realm": "api"}), "Bearer", "api", True),
        (Challenge("negotiate", {}, "abc=="), "Bearer", None, False),
    ],
)
def test_challenge_matches(challenge: Challenge, scheme: str, realm: str | None, matches: bool) -> None:
    assert challenge_matches(challenge, scheme, realm) is matches


# -- Basic credentials ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("Aladdin", "open sesame", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),  # RFC 7617, 2
        ("test", "123\u00a3", "Basic dGVzdDoxMjPCow=="),  # RFC 7617, 2.1: UTF-8
        ("", "", "Basic Og=="),
        ("user", "pa:ss", "Basic dXNlcjpwYTpzcw=="),  # a colon is allowed in the password
        ("j\u00fcrgen", "\u00fc", "Basic asO8cmdlbjrDvA=="),
    ],
)
def test_basic_authorization(username: str, password: str, expected: str) -> None:
    assert basic_authorization(username, password) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("us:er", "p"), "cannot contain ':'"),
        (("user", "p\r\nX-Evil: 1"), "control characters"),
        (("user\x00", "p"), "control characters"),
        (("user", "p\x7f"), "control characters"),
        (("us\ter", "p"), "control characters"),  # RFC 7617: no CTL at all, tab included
        (("user", "p\t"), "control characters"),
        ((b"user", "p"), "two strings"),
        (("user", None), "two strings"),
    ],
)
def test_basic_auth_refuses_bad_credentials(args: tuple[Any, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        BasicAuth(*args)
    assert "X-Evil" not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"send_without_request": "yes"}, "True or False"),
        ({"realm": 1}, "realm must be a string"),
        ({"only_hosts": []}, "host names such as"),
        ({"only_hosts": [1]}, "host names such as"),
        ({"only_hosts": "http://api.test/"}, "not URLs"),
        ({"only_hosts": "api.test:8080"}, "not URLs or ports"),
        ({"only_hosts": "bad host"}, "not a valid host name"),
    ],
)
def test_provider_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BasicAuth("u", "p", **options)


# -- secrets never shown ----------------------------------------------------------------------


def test_reprs_hide_secrets() -> None:
    basic = BasicAuth("alice", "s3cr3t-pw", realm="api", only_hosts={"api.test"})
    tokens = BearerTokens("acc3ss-t0ken", "refr3sh-t0ken")
    bearer = BearerAuth(lambda: tokens)
    shown = [repr(basic), str(basic), repr(tokens), str(tokens), repr(bearer), repr(Auth.create(providers=[basic]))]
    for text in shown:
        assert "s3cr3t-pw" not in text and "acc3ss-t0ken" not in text and "refr3sh-t0ken" not in text
    assert repr(basic) == (
        "BasicAuth(username='alice', password='***', send_without_request=True, realm='api', only_hosts=['api.test'])"
    )
    assert repr(tokens) == "BearerTokens(access_token='***', refresh_token='***')"
    assert repr(BearerTokens("t")) == "BearerTokens(access_token='***', refresh_token=None)"
    assert "BasicAuth(username='alice', password='***'" in repr(Auth.create(providers=[basic]))


@pytest.mark.parametrize(
    ("token", "refresh", "message"),
    [
        ("", None, "non-empty string"),
        (None, None, "non-empty string"),
        ("t0k en", None, "printable ASCII"),
        ("t0ken\r\nX-Evil: 1", None, "printable ASCII"),
        ("t\u00f6ken", None, "printable ASCII"),
        ("t0ken", 5, "refresh_token must be a string"),
    ],
)
def test_bearer_tokens_are_checked_without_showing_them(token: Any, refresh: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        BearerTokens(token, refresh)
    assert "t0k" not in str(caught.value) and "X-Evil" not in str(caught.value)


def test_bearer_callbacks_are_checked() -> None:
    with pytest.raises(ConfigError, match="load_tokens is a function"):
        BearerAuth(BearerTokens("t"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="refresh_tokens is None or a function"):
        BearerAuth(lambda: None, "refresh")  # type: ignore[arg-type]


# -- which provider, which host, which response -----------------------------------------------

BASIC = BasicAuth("u", "p")
BASIC_API = BasicAuth("u", "p", realm="api")
BEARER = BearerAuth(lambda: None)
BEARER_API = BearerAuth(lambda: None, realm="api")


@pytest.mark.parametrize(
    ("providers", "header", "chosen"),
    [
        ([BASIC], 'Basic realm="x"', BASIC),
        ([BASIC_API], 'Basic realm="x"', None),
        ([BASIC_API, BASIC], 'Basic realm="x"', BASIC),
        ([BASIC, BASIC_API], 'Basic realm="api"', BASIC),
        ([BASIC_API, BASIC], 'Basic realm="api"', BASIC_API),
        ([BASIC, BEARER], "Bearer", BEARER),
        ([BASIC, BEARER], 'Bearer, Basic realm="x"', BEARER),  # the server's first challenge wins
        ([BASIC, BEARER], 'Negotiate abc, Basic realm="x"', BASIC),
        ([BASIC, BEARER], "Negotiate abc", None),
        # a 401 without a challenge: a Bearer provider without a realm answers it, Basic never
        ([BASIC], None, None),
        ([BEARER], None, BEARER),
        ([BEARER_API], None, None),
        ([BASIC, BEARER], None, BEARER),
        ([], "Basic", None),
    ],
)
def test_select_provider(providers: list[AuthProvider], header: str | None, chosen: AuthProvider | None) -> None:
    challenges = parse_challenges(header) if header is not None else []
    assert select_provider(providers, challenges) is chosen


@pytest.mark.parametrize(
    ("only_hosts", "url", "allowed"),
    [
        (None, "http://anything.test/", True),
        ("api.test", "http://api.test/x", True),
        ("api.test", "https://API.test:8443/x", True),
        ("API.TEST.", "http://api.test/x", True),
        ({"api.test"}, "http://api.test./x", True),
        ({"api.test"}, "http://evil.test/x", False),
        ({"api.test"}, "http://sub.api.test/x", False),
        ({"api.test"}, "http://api.test.evil/x", False),
        ({"b\u00fccher.test"}, "http://xn--bcher-kva.test/", True),
        ({"xn--bcher-kva.test"}, "http://b\u00fccher.test/", True),
        ({"127.0.0.1", "[::1]"}, "http://[::1]:8000/", True),
        ({"127.0.0.1"}, "http://127.0.0.1:8000/", True),
        ({"127.0.0.1"}, "http://localhost:8000/", False),
    ],
)
def test_host_allowed(only_hosts: Any, url: str, allowed: bool) -> None:
    provider = BasicAuth("u", "p", only_hosts=only_hosts)
    assert host_allowed(provider.only_hosts, URL(url)) is allowed
    assert provider.serves(URL(url)) is allowed


@pytest.mark.parametrize(
    ("status", "request_url", "response_url", "streaming", "answer"),
    [
        (401, "http://a.test/x", "http://a.test/x", False, True),
        (401, "http://a.test/x", "http://a.test/elsewhere", False, True),  # a same-origin redirect
        (401, "http://a.test/x", "http://b.test/x", False, False),  # a redirect led to another origin
        (401, "https://a.test/x", "http://a.test/x", False, False),
        (401, "http://a.test/x", "http://a.test/x", True, False),  # the streamed body is gone
        (403, "http://a.test/x", "http://a.test/x", False, False),
        (407, "http://a.test/x", "http://a.test/x", False, False),
        (200, "http://a.test/x", "http://a.test/x", False, False),
    ],
)
def test_may_answer_challenge(status: int, request_url: str, response_url: str, streaming: bool, answer: bool) -> None:
    assert may_answer_challenge(status, URL(request_url), URL(response_url), streaming=streaming) is answer


# -- configuration ----------------------------------------------------------------------------


def test_one_provider_or_a_list_of_them() -> None:
    basic = BasicAuth("u", "p")
    bearer = BearerAuth(lambda: None)
    for given, expected in [(basic, (basic,)), ([basic, bearer], (basic, bearer)), ((bearer,), (bearer,))]:
        plugin = Auth.create(providers=given)
        assert isinstance(plugin, Auth)
        assert plugin.providers == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, r"at least one provider: c.install\(Auth, providers=\[BasicAuth"),
        ({"providers": []}, "non-empty list"),
        ({"providers": BasicAuth}, r"instances, not classes"),
        ({"providers": [("user", "password")]}, r"BasicAuth\('user', 'password'\)"),
        ({"providers": "user:password"}, "such as BasicAuth"),
        ({"provider": BasicAuth("u", "p")}, "Did you mean providers?"),
    ],
)
def test_config_errors_say_what_is_allowed(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        HttpClient(Mock(), lambda c: c.install(Auth, **options))


def test_plugin_identity() -> None:
    assert Auth.name == "Auth"
    assert Auth.send_order == 200
    assert Auth.create(providers=BASIC).intercepts_send()


# -- the plugin, on the Mock engine -----------------------------------------------------------


def guarded(valid: Callable[[str | None], bool], challenge: str | None = 'Basic realm="api"') -> Mock:
    """A Mock answering 200 with the Authorization seen when ``valid`` accepts it, else 401 + ``challenge``."""

    def answer(request: Request) -> MockAnswer:
        authorization = request.headers.get("Authorization")
        if valid(authorization):
            return respond({"authorization": authorization})
        return respond(b"denied", status=401, headers={"WWW-Authenticate": challenge} if challenge else None)

    return Mock(answer, reuse_handlers=True)


GOOD_BASIC = basic_authorization("user", "passwd")
WRONG_BASIC = basic_authorization("user", "wrong")


def seen(engine: Mock) -> list[str | None]:
    """The Authorization header of every request the Mock engine answered."""
    return [request.headers.get("Authorization") for request in engine.request_history]


@pytest.mark.anyio
async def test_basic_up_front() -> None:
    engine = guarded(lambda a: a == GOOD_BASIC)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=BasicAuth("user", "passwd"))) as client:
        response = await client.get("http://api.test/")
    assert response.status == 200
    assert seen(engine) == [GOOD_BASIC]


@pytest.mark.anyio
async def test_basic_after_a_challenge() -> None:
    engine = guarded(lambda a: a == GOOD_BASIC)
    provider = BasicAuth("user", "passwd", send_without_request=False)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        response = await client.get("http://api.test/")
    assert response.status == 200
    assert seen(engine) == [None, GOOD_BASIC]
    assert engine.response_history[0].is_closed


@pytest.mark.parametrize(
    ("provider", "challenge", "expected"),
    [
        (BasicAuth("user", "wrong"), 'Basic realm="api"', [WRONG_BASIC]),
        (BasicAuth("user", "wrong", send_without_request=False), 'Basic realm="api"', [None, WRONG_BASIC]),
        (BasicAuth("user", "passwd", send_without_request=False, realm="other"), 'Basic realm="api"', [None]),
        (BasicAuth("user", "passwd", send_without_request=False), "Bearer", [None]),
        (BasicAuth("user", "passwd", send_without_request=False), None, [None]),
    ],
)
@pytest.mark.anyio
async def test_basic_refused_or_not_asked_returns_the_401(
    provider: BasicAuth, challenge: str | None, expected: list[str | None]
) -> None:
    engine = guarded(lambda a: a == GOOD_BASIC, challenge)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        response = await client.get("http://api.test/")
    assert response.status == 401
    assert response.content == b"denied"
    assert seen(engine) == expected  # sent at most twice: no loop


@pytest.mark.anyio
async def test_a_request_with_its_own_authorization_is_left_alone() -> None:
    engine = guarded(lambda a: a == "Bearer mine")
    load_calls: list[int] = []

    def load() -> BearerTokens:
        load_calls.append(1)
        return BearerTokens("theirs")

    async with HttpClient(engine, lambda c: c.install(Auth, providers=[BearerAuth(load)])) as client:
        assert (await client.get("http://api.test/", headers={"Authorization": "Bearer mine"})).status == 200
        assert (await client.get("http://api.test/", headers={"Authorization": "Bearer bad"})).status == 401
    assert seen(engine) == ["Bearer mine", "Bearer bad"]
    assert load_calls == []


@pytest.mark.anyio
async def test_only_hosts_keeps_credentials_to_their_host() -> None:
    engine = guarded(lambda a: a == GOOD_BASIC)
    provider = BasicAuth("user", "passwd", only_hosts={"api.test"})
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        assert (await client.get("http://api.test/")).status == 200
        assert (await client.get("http://evil.test/")).status == 401
    assert seen(engine) == [GOOD_BASIC, None]


@pytest.mark.anyio
async def test_credentials_do_not_follow_a_redirect_to_another_origin_nor_answer_its_401() -> None:
    def answer(request: Request) -> MockAnswer:
        if request.url.host == "api.test":
            return respond(b"", status=302, headers={"Location": "http://other.test/"})
        return respond(b"", status=401, headers={"WWW-Authenticate": 'Basic realm="other"'})

    engine = Mock(answer, reuse_handlers=True)
    provider = BasicAuth("user", "passwd", send_without_request=False)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        response = await client.get("http://api.test/")
    assert response.status == 401
    assert seen(engine) == [None, None]


@pytest.mark.anyio
async def test_a_streamed_body_is_not_sent_again() -> None:
    engine = guarded(lambda a: a == GOOD_BASIC)
    provider = BasicAuth("user", "passwd", send_without_request=False)

    async def body() -> AsyncIterator[bytes]:
        yield b"part"

    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        streamed = await client.post("http://api.test/", content=body())
        buffered = await client.post("http://api.test/", content=b"part")
    assert (streamed.status, buffered.status) == (401, 200)
    assert seen(engine) == [None, None, GOOD_BASIC]
    assert engine.request_history[2].content == b"part"


# -- Bearer -----------------------------------------------------------------------------------


class Tokens:
    """Bearer callbacks that count their calls: tokens ``t0``, ``t1``... and a valid one on the server."""

    def __init__(self, *, first: str | None = "t0", refreshed: list[str | None] | None = None) -> None:
        self.first = first
        self.refreshed = list(refreshed) if refreshed is not None else ["t1"]
        self.loads = 0
        self.refreshes: list[BearerTokens | None] = []

    def load(self) -> BearerTokens | None:
        self.loads += 1
        return BearerTokens(self.first, f"r-{self.first}") if self.first is not None else None

    async def refresh(self, old: BearerTokens | None) -> BearerTokens | None:
        self.refreshes.append(old)
        await anyio.sleep(0.01)  # let the other requests pile up on the lock
        access = self.refreshed.pop(0)
        return BearerTokens(access, f"r-{access}") if access is not None else None


@pytest.mark.anyio
async def test_bearer_loads_once_and_refreshes_once_for_concurrent_401s() -> None:
    tokens = Tokens()
    engine = guarded(lambda a: a == "Bearer t1", challenge='Bearer error="invalid_token"')
    provider = BearerAuth(tokens.load, tokens.refresh)
    results: list[int] = []
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:

        async def call() -> None:
            results.append((await client.get("http://api.test/")).status)

        async with anyio.create_task_group() as tasks:
            for _ in range(10):
                tasks.start_soon(call)
        assert (await client.get("http://api.test/")).status == 200
    assert results == [200] * 10
    assert tokens.loads == 1
    assert len(tokens.refreshes) == 1
    assert tokens.refreshes[0] is not None and tokens.refreshes[0].refresh_token == "r-t0"
    assert seen(engine).count("Bearer t0") == 10
    assert seen(engine).count("Bearer t1") == 11
    assert provider.tokens is not None and provider.tokens.access_token == "t1"


@pytest.mark.anyio
async def test_bearer_refresh_giving_up_returns_the_401_and_forgets_the_tokens() -> None:
    tokens = Tokens(refreshed=[None, "t1"])
    engine = guarded(lambda a: a == "Bearer t1", challenge="Bearer")
    provider = BearerAuth(tokens.load, tokens.refresh)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        statuses = []
        async with anyio.create_task_group() as tasks:

            async def call() -> None:
                statuses.append((await client.get("http://api.test/")).status)

            for _ in range(5):
                tasks.start_soon(call)
        assert statuses == [401] * 5  # the others did not refresh again
        assert provider.tokens is None
        assert (await client.get("http://api.test/")).status == 200  # loads t0 again, refreshes to t1
    assert tokens.loads == 2
    assert len(tokens.refreshes) == 2
    assert all(response.is_closed for response in engine.response_history)


@pytest.mark.anyio
async def test_bearer_refresh_raising_propagates_once() -> None:
    class RefreshFailed(Exception):
        pass

    refreshes = 0

    async def refresh(old: BearerTokens | None) -> BearerTokens | None:
        nonlocal refreshes
        refreshes += 1
        await anyio.sleep(0.01)
        raise RefreshFailed("token endpoint down")

    engine = guarded(lambda a: False, challenge="Bearer")
    provider = BearerAuth(lambda: BearerTokens("t0"), refresh)
    outcomes: list[object] = []
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:

        async def call() -> None:
            try:
                outcomes.append((await client.get("http://api.test/")).status)
            except RefreshFailed as exc:
                outcomes.append(exc)

        async with anyio.create_task_group() as tasks:
            for _ in range(4):
                tasks.start_soon(call)
        # the tokens are kept: the next 401 tries again
        with pytest.raises(RefreshFailed, match="token endpoint down"):
            await client.get("http://api.test/")
    assert refreshes == 2
    assert sorted(map(str, outcomes)) == ["401", "401", "401", "token endpoint down"]
    assert provider.tokens is not None


@pytest.mark.anyio
async def test_bearer_sync_callbacks_and_a_bare_401() -> None:
    engine = guarded(lambda a: a == "Bearer fresh", challenge=None)
    provider = BearerAuth(lambda: BearerTokens("stale"), lambda old: BearerTokens("fresh"))
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        assert (await client.get("http://api.test/")).status == 200
    assert seen(engine) == ["Bearer stale", "Bearer fresh"]


@pytest.mark.anyio
async def test_bearer_does_not_refresh_for_another_scheme() -> None:
    refreshes: list[object] = []
    engine = guarded(lambda a: False, challenge="Negotiate")
    provider = BearerAuth(lambda: BearerTokens("t0"), refreshes.append)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        assert (await client.get("http://api.test/")).status == 401
    assert refreshes == []


@pytest.mark.anyio
async def test_bearer_without_tokens_refreshes_from_none() -> None:
    tokens = Tokens(first=None)
    engine = guarded(lambda a: a == "Bearer t1", challenge="Bearer")
    async with HttpClient(
        engine, lambda c: c.install(Auth, providers=[BearerAuth(tokens.load, tokens.refresh)])
    ) as client:
        assert (await client.get("http://api.test/")).status == 200
    assert tokens.refreshes == [None]
    assert seen(engine) == [None, "Bearer t1"]


@pytest.mark.anyio
async def test_bearer_after_a_challenge_loads_without_refreshing() -> None:
    tokens = Tokens()
    engine = guarded(lambda a: a == "Bearer t0", challenge="Bearer")
    provider = BearerAuth(tokens.load, tokens.refresh, send_without_request=False)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        assert (await client.get("http://api.test/")).status == 200
        assert (await client.get("http://api.test/")).status == 200
    assert seen(engine) == [None, "Bearer t0", None, "Bearer t0"]
    assert (tokens.loads, tokens.refreshes) == (1, [])


@pytest.mark.anyio
async def test_clear_tokens_loads_them_again() -> None:
    tokens = Tokens()
    engine = guarded(lambda a: a is not None)
    provider = BearerAuth(tokens.load)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        await client.get("http://api.test/")
        client.plugin(Auth).clear_tokens()
        assert provider.tokens is None
        await client.get("http://api.test/")
        provider.clear_token()
        await client.get("http://api.test/")
    assert tokens.loads == 3


@pytest.mark.anyio
async def test_a_callback_returning_something_else_is_a_type_error() -> None:
    engine = guarded(lambda a: True)
    provider = BearerAuth(lambda: "a-token")  # type: ignore[arg-type,return-value]
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        with pytest.raises(TypeError, match=r"load_tokens must return BearerTokens\(access_token, refresh_token\)"):
            await client.get("http://api.test/")
    assert engine.request_history == []


@pytest.mark.anyio
async def test_refresh_may_use_the_same_client() -> None:
    """The token endpoint is called through the client being refreshed: no deadlock, no stale token sent to it."""

    def answer(request: Request) -> MockAnswer:
        if request.url.path == "/token":
            return respond({"access_token": "t1"})
        if request.headers.get("Authorization") == "Bearer t1":
            return respond(b"ok")
        return respond(b"", status=401, headers={"WWW-Authenticate": "Bearer"})

    engine = Mock(answer, reuse_handlers=True)
    holder: list[HttpClient] = []

    async def refresh(old: BearerTokens | None) -> BearerTokens:
        response = await holder[0].post("http://api.test/token", data={"grant_type": "refresh_token"})
        return BearerTokens(response.json()["access_token"])

    provider = BearerAuth(lambda: BearerTokens("t0"), refresh)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        holder.append(client)
        with anyio.fail_after(10):
            assert (await client.get("http://api.test/data")).content == b"ok"
    assert [(r.url.path, r.headers.get("Authorization")) for r in engine.request_history] == [
        ("/data", "Bearer t0"),
        ("/token", None),
        ("/data", "Bearer t1"),
    ]


@pytest.mark.anyio
async def test_stream_closes_the_401_it_answers() -> None:
    engine = guarded(lambda a: a == GOOD_BASIC)
    provider = BasicAuth("user", "passwd", send_without_request=False)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        async with client.stream("GET", "http://api.test/") as response:
            assert response.status == 200
            assert engine.response_history[0].is_closed
            await response.aread()
    assert seen(engine) == [None, GOOD_BASIC]


@pytest.mark.anyio
async def test_stream_keeps_a_small_401_body_it_returns() -> None:
    engine = guarded(lambda a: False, challenge="Bearer")
    provider = BearerAuth(lambda: BearerTokens("t0"), lambda old: None)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        async with client.stream("GET", "http://api.test/") as response:
            assert response.status == 401
            assert await response.aread() == b"denied"


@pytest.mark.anyio
async def test_the_first_provider_with_credentials_sends_them() -> None:
    engine = guarded(lambda a: a == GOOD_BASIC)
    empty = BearerAuth(lambda: None)
    basic = BasicAuth("user", "passwd")
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[empty, basic])) as client:
        assert (await client.get("http://api.test/")).status == 200
    assert seen(engine) == [GOOD_BASIC]


@pytest.mark.anyio
async def test_a_request_started_during_a_refresh_waits_for_its_token() -> None:
    started, release = anyio.Event(), anyio.Event()

    async def refresh(old: BearerTokens | None) -> BearerTokens:
        started.set()
        await release.wait()
        return BearerTokens("t1")

    engine = guarded(lambda a: a == "Bearer t1", challenge="Bearer")
    provider = BearerAuth(lambda: BearerTokens("t0"), refresh)
    statuses: list[int] = []
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:

        async def call() -> None:
            statuses.append((await client.get("http://api.test/")).status)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(call)
                await started.wait()
                tasks.start_soon(call)
                await anyio.sleep(0.05)  # the second request reaches the provider while the refresh runs
                release.set()
    assert statuses == [200, 200]
    assert seen(engine) == ["Bearer t0", "Bearer t1", "Bearer t1"]


@pytest.mark.anyio
async def test_the_401_is_released_before_the_refresh_runs() -> None:
    """In client.stream the 401's connection is given back first: a refresh may need it."""
    engine = guarded(lambda a: a == "Bearer t1", challenge="Bearer")
    closed_during_refresh: list[bool] = []

    def refresh(old: BearerTokens | None) -> BearerTokens:
        closed_during_refresh.append(engine.response_history[-1].is_closed)
        return BearerTokens("t1")

    provider = BearerAuth(lambda: BearerTokens("t0"), refresh)
    async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
        async with client.stream("GET", "http://api.test/") as response:
            assert response.status == 200
    assert closed_during_refresh == [True]


def test_a_provider_moves_between_event_loops() -> None:
    """The provider's lock belongs to the loop that runs: one provider serves asyncio, then trio."""
    refreshed: list[str] = []

    def refresh(old: BearerTokens | None) -> BearerTokens:
        refreshed.append("t1")
        return BearerTokens("t1")

    provider = BearerAuth(lambda: BearerTokens("t0"), refresh)
    engine = guarded(lambda a: a == "Bearer t1", challenge="Bearer")

    async def main() -> int:
        provider.clear_token()
        async with HttpClient(engine, lambda c: c.install(Auth, providers=[provider])) as client:
            return (await client.get("http://api.test/")).status

    assert [anyio.run(main, backend=backend) for backend in ("asyncio", "trio", "asyncio")] == [200, 200, 200]
    assert refreshed == ["t1"] * 3


def test_the_provider_base_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        AuthProvider()  # type: ignore[abstract]
