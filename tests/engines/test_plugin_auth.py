"""Auth on every engine: Basic and Bearer against httpbin, and a token refresh against a scripted API."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request as WsgiRequest
from werkzeug.wrappers import Response as WsgiResponse

from kclient import HttpClient, HttpClientConfig
from kclient.plugins.auth import Auth, AuthProvider, BasicAuth, BearerAuth, BearerTokens, basic_authorization

from .support import HANG_GUARD, chunked_body

pytestmark = pytest.mark.anyio

STALE = BearerTokens("stale-0", "refresh-0")
GOOD_BASIC = basic_authorization("user", "passwd")


def auth(*providers: AuthProvider) -> Callable[[HttpClientConfig], None]:
    return lambda c: c.install(Auth, providers=list(providers))


# -- a scripted API ---------------------------------------------------------------------------


class ScriptedApi:
    """An API on 127.0.0.1 that records the ``Authorization`` of every request.

    ``GET /api`` wants ``Bearer fresh-1`` (a 401 with a Bearer challenge otherwise; requests
    with the stale token are held until ``stale_together`` of them arrived, so that they are
    all refused together). ``POST /token`` exchanges ``refresh-0`` for ``fresh-1`` (400 when
    ``refuse_refresh``). ``/basic`` wants ``user:passwd`` (a Basic challenge otherwise).
    """

    def __init__(self, *, stale_together: int = 1) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.refuse_refresh = False
        self._barrier = threading.Barrier(stale_together, timeout=HANG_GUARD)
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def seen_at(self, path: str) -> list[str | None]:
        """The ``Authorization`` of each request to ``path``, in order of arrival."""
        with self._lock:
            return [authorization for where, authorization in self.seen if where == path]

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = WsgiRequest(environ)
        body = request.get_data()  # read whole, even when refused
        authorization = request.headers.get("Authorization")
        with self._lock:
            self.seen.append((request.path, authorization))
        response = self._answer(request.path, authorization, body)
        return response(environ, start_response)

    def _answer(self, path: str, authorization: str | None, body: bytes) -> WsgiResponse:
        if path == "/api":
            if authorization == "Bearer fresh-1":
                return _json({"token": "fresh-1"})
            if authorization == f"Bearer {STALE.access_token}":
                try:
                    self._barrier.wait()
                except threading.BrokenBarrierError:
                    return _json({"error": "the stale requests did not arrive together"}, 500)
            return _json({"error": "invalid_token"}, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if path == "/token":
            form = dict(item.split("=", 1) for item in body.decode().split("&") if "=" in item)
            if self.refuse_refresh or form.get("refresh_token") != STALE.refresh_token:
                return _json({"error": "invalid_grant"}, 400)
            return _json({"access_token": "fresh-1", "refresh_token": "refresh-1"})
        if path == "/basic":
            if authorization == GOOD_BASIC:
                return _json({"user": "user", "body_size": len(body)})
            return _json({"error": "who are you"}, 401, {"WWW-Authenticate": 'Basic realm="scripted"'})
        return _json({"error": "not found"}, 404)

    def start(self) -> ScriptedApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._barrier.abort()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _json(value: object, status: int = 200, headers: dict[str, str] | None = None) -> WsgiResponse:
    return WsgiResponse(json.dumps(value), status=status, headers=headers, content_type="application/json")


@pytest.fixture
def scripted_api() -> Iterator[Callable[..., ScriptedApi]]:
    """``scripted_api(stale_together=1)``: a ScriptedApi of the test's own, stopped at the end."""
    started: list[ScriptedApi] = []

    def start(**options: Any) -> ScriptedApi:
        started.append(ScriptedApi(**options).start())
        return started[-1]

    yield start
    for api in started:
        api.stop()


class TokenStore:
    """Bearer callbacks that count their calls; the refresh posts to the API's token endpoint
    through the very client being refreshed."""

    def __init__(self, api: ScriptedApi) -> None:
        self.api = api
        self.client: HttpClient | None = None
        self.loads = 0
        self.refreshes: list[BearerTokens | None] = []

    def load(self) -> BearerTokens:
        self.loads += 1
        return STALE

    async def refresh(self, old: BearerTokens | None) -> BearerTokens | None:
        self.refreshes.append(old)
        assert self.client is not None and old is not None and old.refresh_token is not None
        response = await self.client.post(self.api.url + "/token", data={"refresh_token": old.refresh_token})
        if response.status != 200:
            return None
        answer = response.json()
        return BearerTokens(answer["access_token"], answer["refresh_token"])


# -- Basic ------------------------------------------------------------------------------------


async def test_basic_up_front(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(auth(BasicAuth("user", "passwd")))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/basic-auth/user/passwd")
        hidden = await client.get(httpbin.url + "/hidden-basic-auth/user/passwd")
    assert response.status == 200
    assert response.json() == {"authenticated": True, "user": "user"}
    assert hidden.status == 200


async def test_basic_non_ascii_credentials_are_utf8(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(auth(BasicAuth("j\u00fcrgen", "p\u00e4ss\u20ac")))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/basic-auth/j\u00fcrgen/p\u00e4ss\u20ac")
    assert response.status == 200
    assert response.json()["user"] == "j\u00fcrgen"


@pytest.mark.parametrize(("realm", "status"), [(None, 200), ("Fake Realm", 200), ("Another Realm", 401)])
async def test_basic_answers_a_challenge(
    make_client: Callable[..., HttpClient], httpbin: Any, realm: str | None, status: int
) -> None:
    client = make_client(auth(BasicAuth("user", "passwd", send_without_request=False, realm=realm)))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/basic-auth/user/passwd")
    assert response.status == status


async def test_basic_after_a_challenge_cannot_find_a_hidden_resource(
    make_client: Callable[..., HttpClient], httpbin: Any
) -> None:
    client = make_client(auth(BasicAuth("user", "passwd", send_without_request=False)))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/hidden-basic-auth/user/passwd")
    assert response.status == 404  # no challenge to answer


@pytest.mark.parametrize(("up_front", "expected"), [(True, ["wrong"]), (False, [None, "wrong"])])
async def test_wrong_password_returns_the_401_without_a_loop(
    make_client: Callable[..., HttpClient],
    scripted_api: Callable[..., ScriptedApi],
    up_front: bool,
    expected: list[str | None],
) -> None:
    api = scripted_api()
    client = make_client(auth(BasicAuth("user", "wrong", send_without_request=up_front)))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(api.url + "/basic")
    assert response.status == 401
    assert response.json() == {"error": "who are you"}
    wrong = basic_authorization("user", "wrong")
    assert api.seen_at("/basic") == [wrong if e == "wrong" else e for e in expected]


async def test_a_streamed_upload_is_not_sent_again(
    make_client: Callable[..., HttpClient], scripted_api: Callable[..., ScriptedApi]
) -> None:
    api = scripted_api()
    client = make_client(auth(BasicAuth("user", "passwd", send_without_request=False)))
    with anyio.fail_after(HANG_GUARD):
        streamed = await client.post(api.url + "/basic", content=chunked_body([b"a" * 1000, b"b" * 1000]))
        buffered = await client.post(api.url + "/basic", content=b"a" * 2000)
    assert streamed.status == 401
    assert buffered.status == 200 and buffered.json()["body_size"] == 2000
    assert api.seen_at("/basic") == [None, None, GOOD_BASIC]


# -- Bearer -----------------------------------------------------------------------------------


async def test_bearer_against_httpbin(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(auth(BearerAuth(lambda: BearerTokens("abc.def-ghi"))))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/bearer")
    assert response.status == 200
    assert response.json() == {"authenticated": True, "token": "abc.def-ghi"}


async def test_bearer_after_httpbin_challenge(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    loads: list[int] = []

    async def load() -> BearerTokens:
        loads.append(1)
        return BearerTokens("t0k3n")

    client = make_client(auth(BearerAuth(load, send_without_request=False)))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(httpbin.url + "/bearer")
    assert response.json()["token"] == "t0k3n"
    assert loads == [1]


async def test_bearer_refreshed_once_for_ten_concurrent_401s(
    make_client: Callable[..., HttpClient], scripted_api: Callable[..., ScriptedApi]
) -> None:
    api = scripted_api(stale_together=10)
    store = TokenStore(api)
    client = store.client = make_client(auth(BearerAuth(store.load, store.refresh)))
    bodies: list[Any] = []

    async def call() -> None:
        response = await client.get(api.url + "/api")
        bodies.append((response.status, response.json()))

    with anyio.fail_after(HANG_GUARD):
        async with anyio.create_task_group() as tasks:
            for _ in range(10):
                tasks.start_soon(call)
    assert bodies == [(200, {"token": "fresh-1"})] * 10
    assert store.loads == 1
    assert store.refreshes == [STALE]
    assert sorted(api.seen_at("/api"), key=str) == ["Bearer fresh-1"] * 10 + ["Bearer stale-0"] * 10
    assert api.seen_at("/token") == [None]  # the refresh request went without the stale token


async def test_bearer_refresh_refused_returns_the_401(
    make_client: Callable[..., HttpClient], scripted_api: Callable[..., ScriptedApi]
) -> None:
    api = scripted_api()
    api.refuse_refresh = True
    store = TokenStore(api)
    provider = BearerAuth(store.load, store.refresh)
    client = store.client = make_client(auth(provider))
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(api.url + "/api")
    assert response.status == 401
    assert response.json() == {"error": "invalid_token"}
    assert api.seen_at("/api") == ["Bearer stale-0"]
    assert len(store.refreshes) == 1
    assert provider.tokens is None  # given up: the next request loads the tokens again


async def test_bearer_refresh_in_a_stream(
    make_client: Callable[..., HttpClient], scripted_api: Callable[..., ScriptedApi]
) -> None:
    api = scripted_api()
    store = TokenStore(api)
    client = store.client = make_client(auth(BearerAuth(store.load, store.refresh)))
    with anyio.fail_after(HANG_GUARD):
        async with client.stream("GET", api.url + "/api") as response:
            assert response.status == 200
            assert json.loads(await response.aread()) == {"token": "fresh-1"}
        again = await client.get(api.url + "/api")  # the connection of the 401 was released
    assert again.status == 200
    assert api.seen_at("/api") == ["Bearer stale-0", "Bearer fresh-1", "Bearer fresh-1"]
