"""Record and replay on every engine: exchanges recorded against the demo server (httpbin and its
Server-Sent Events) are replayed with the server stopped, through Auth, cookies, redirects and
retries; secrets never reach the file; misses, modes, matching and VCR.py cassettes."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kclient import CassetteError, ConfigError, HttpClient, HttpClientConfig, UnrecordedRequestError
from kclient.demo import DemoServer
from kclient.plugins.auth import Auth, BasicAuth
from kclient.plugins.cookies import HttpCookies
from kclient.plugins.record import Record
from kclient.plugins.retry import HttpRequestRetry

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("needs_demo")]

MakeClient = Callable[..., HttpClient]


@pytest.fixture
def needs_demo() -> None:
    pytest.importorskip("httpbin", reason="needs httpbin: pip install 'kclient[demo]'")
    pytest.importorskip("yaml", reason="needs PyYAML: pip install 'kclient[record]'")


@pytest.fixture
def server() -> Iterator[DemoServer]:
    """A demo server of the test's own, which the test stops to prove replay needs no network."""
    with DemoServer() as demo:
        yield demo


def recording(cassette: Path, **options: Any) -> Callable[[HttpClientConfig], None]:
    def configure(c: HttpClientConfig) -> None:
        c.install(Record, cassette=cassette, **options)

    return configure


async def test_recorded_exchanges_replay_with_the_server_stopped(
    make_client: MakeClient, server: DemoServer, tmp_path: Path
) -> None:
    base = server.url
    cassette = tmp_path / "api.yaml"
    client = make_client(recording(cassette))
    first = await client.get(f"{base}/get", params={"page": "2", "lang": "en"})
    posted = await client.post(f"{base}/post", json={"name": "ada"})
    gzipped = await client.get(f"{base}/gzip")
    assert first.source is None and first.status == 200
    client.close()
    await client.join()
    server.stop()
    text = cassette.read_text()
    assert text.count("- recorded_at:") == 3 and "Content-Encoding" not in text  # gzip stored decoded, once
    again = make_client(recording(cassette))
    replayed = await again.get(f"{base}/get?lang=en&page=2")  # the query in another order
    assert replayed.source == "cassette" and "(from cassette)" in repr(replayed)
    assert replayed.status == 200 and replayed.json() == first.json()
    assert (await again.post(f"{base}/post", json={"name": "ada"})).json()["json"] == posted.json()["json"]
    assert (await again.get(f"{base}/gzip")).json() == gzipped.json()
    record = again.plugin(Record)
    assert (record.replayed, record.recorded) == (3, 0)


async def test_a_request_not_recorded_names_the_closest_recording(
    make_client: MakeClient, server: DemoServer, tmp_path: Path
) -> None:
    base = server.url
    cassette = tmp_path / "api.yaml"
    client = make_client(recording(cassette))
    await client.get(f"{base}/anything/items/1")
    client.close()
    await client.join()
    replaying = make_client(recording(cassette, mode="none"))
    with pytest.raises(UnrecordedRequestError) as caught:
        await replaying.get(f"{base}/anything/items/2")
    assert caught.value.closest == f"GET {base}/anything/items/1"
    assert "was not recorded in" in str(caught.value) and "mode='new_episodes'" in str(caught.value)
    once = make_client(recording(cassette))  # "once" with a cassette: replay only too
    with pytest.raises(UnrecordedRequestError):
        await once.delete(f"{base}/anything/items/1")


async def test_new_episodes_adds_and_all_records_anew(
    make_client: MakeClient, server: DemoServer, tmp_path: Path
) -> None:
    base = server.url
    cassette = tmp_path / "api.yaml"
    client = make_client(recording(cassette))
    await client.get(f"{base}/anything/a")
    client.close()
    await client.join()
    adding = make_client(recording(cassette, mode="new_episodes"))
    assert (await adding.get(f"{base}/anything/a")).source == "cassette"
    assert (await adding.get(f"{base}/anything/b")).source is None
    adding.close()
    await adding.join()
    assert cassette.read_text().count("- recorded_at:") == 2
    anew = make_client(recording(cassette, mode="all"))
    assert (await anew.get(f"{base}/anything/c")).source is None
    anew.close()
    await anew.join()
    assert cassette.read_text().count("- recorded_at:") == 1 and "/anything/c" in cassette.read_text()


async def test_matching_on_the_body_and_repeats(make_client: MakeClient, server: DemoServer, tmp_path: Path) -> None:
    base = server.url
    cassette = tmp_path / "api.yaml"
    client = make_client(recording(cassette, match_on=("method", "url", "body")))
    one = await client.post(f"{base}/anything", json={"n": 1, "k": "x"})
    two = await client.post(f"{base}/anything", json={"n": 2})
    client.close()
    await client.join()
    server.stop()
    again = make_client(recording(cassette, match_on=("method", "url", "body")))
    assert (await again.post(f"{base}/anything", json={"n": 2})).json()["json"] == two.json()["json"]
    assert (await again.post(f"{base}/anything", json={"k": "x", "n": 1})).json()["json"] == one.json()["json"]
    assert (await again.post(f"{base}/anything", json={"n": 2})).json()["json"] == {"n": 2}  # a repeat
    with pytest.raises(UnrecordedRequestError):
        await again.post(f"{base}/anything", json={"n": 3})
    strict = make_client(recording(cassette, match_on=("method", "url", "body"), allow_repeats=False))
    await strict.post(f"{base}/anything", json={"n": 2})
    with pytest.raises(UnrecordedRequestError):
        await strict.post(f"{base}/anything", json={"n": 2})


async def test_secrets_never_reach_the_file_and_still_match(
    make_client: MakeClient, server: DemoServer, tmp_path: Path
) -> None:
    base = server.url
    cassette = tmp_path / "api.yaml"
    secrets = ["authz-1f2e3d4c", "cookie-1f2e3d4c", "token-1f2e3d4c", "pw-1f2e3d4c", "user:pass-1f2e3d4c"]
    client = make_client(recording(cassette))
    url = f"{base}/anything?token=token-1f2e3d4c&page=1"
    headers = {"Authorization": "Bearer authz-1f2e3d4c", "Cookie": "sid=cookie-1f2e3d4c"}
    echoed = await client.post(url, headers=headers, data={"password": "pw-1f2e3d4c", "user": "ada"})
    assert "authz-1f2e3d4c" in echoed.text  # the server echoes every secret
    set_cookie = await client.get(f"{base}/response-headers", params={"Set-Cookie": "sid=cookie-1f2e3d4c; Path=/"})
    assert set_cookie.status == 200
    client.close()
    await client.join()
    text = cassette.read_text()
    assert not [secret for secret in secrets if secret in text], text
    assert "Bearer ***" in text and "sid=***" in text and "token=***" in text
    server.stop()
    again = make_client(recording(cassette, mode="none"))
    replayed = await again.post(url, headers=headers, data={"password": "pw-1f2e3d4c", "user": "ada"})
    assert replayed.json()["form"] == {"password": "***", "user": "ada"}


async def test_before_record_changes_or_drops_interactions(
    make_client: MakeClient, server: DemoServer, tmp_path: Path
) -> None:
    base = server.url
    import dataclasses

    def hook(interaction: Any) -> Any:
        if "/anything/skip" in interaction.request.url:
            return None
        body = interaction.response.body.replace(b"ada", b"[name]")
        return dataclasses.replace(interaction, response=dataclasses.replace(interaction.response, body=body))

    cassette = tmp_path / "api.yaml"
    client = make_client(recording(cassette, before_record=hook))
    await client.get(f"{base}/anything/keep?name=ada")
    await client.get(f"{base}/anything/skip")
    client.close()
    await client.join()
    text = cassette.read_text()
    assert "/anything/skip" not in text and "[name]" in text


async def test_replay_goes_through_auth_cookies_redirects_and_retries(
    make_client: MakeClient, server: DemoServer, tmp_path: Path
) -> None:
    base = server.url
    cassette = tmp_path / "plugins.yaml"

    def configure(mode: str) -> Callable[[HttpClientConfig], None]:
        def apply(c: HttpClientConfig) -> None:
            c.install(Auth, providers=[BasicAuth("user", "passwd-1f2e3d4c")])
            c.install(HttpCookies)
            c.install(HttpRequestRetry, max_retries=2, base_delay=0.0, jitter=0.0)
            c.install(Record, cassette=cassette, mode=mode)

        return apply

    async def scenario(client: HttpClient) -> list[Any]:
        authed = await client.get(f"{base}/basic-auth/user/passwd-1f2e3d4c")  # a 401 answered
        cookies = await client.get(f"{base}/cookies/set?flavour=oat")  # a 302 that sets a cookie
        sent_back = await client.get(f"{base}/cookies")
        redirected = await client.get(f"{base}/redirect/2")
        failing = await client.get(f"{base}/status/503")  # retried twice
        return [
            authed.status,
            authed.json(),
            cookies.json(),
            sent_back.json(),
            str(redirected.url).removeprefix(base),
            failing.status,
        ]

    client = make_client(configure("once"))
    recorded = await scenario(client)
    assert client.plugin(Record).recorded == 10  # 401+200, 302+200, 200, 302+302+200, 503 x3
    client.close()
    await client.join()
    server.stop()
    text = cassette.read_text()
    assert base64.b64encode(b"user:passwd-1f2e3d4c").decode() not in text
    assert '["Authorization", "Basic ***"]' in text
    again = make_client(configure("none"))
    assert await scenario(again) == recorded
    assert again.plugin(Record).replayed == 10
    assert [cookie.name for cookie in again.plugin(HttpCookies).cookies(f"{base}/")] == ["flavour"]


async def test_a_stream_replays_event_by_event(make_client: MakeClient, server: DemoServer, tmp_path: Path) -> None:
    base = server.url
    cassette = tmp_path / "events.yaml"
    client = make_client(recording(cassette))
    url = f"{base}/sse/ticks?n=4&delay=0.05"
    async with client.sse(url, reconnect_delay=0) as events:
        recorded = [event.data async for event in events]
    client.close()
    await client.join()
    server.stop()
    text = cassette.read_text()
    assert "chunks:" in text and "at:" in text
    again = make_client(recording(cassette, mode="none", replay_timing=True))
    async with again.sse(url, reconnect_delay=0) as events:
        replayed = [event.data async for event in events]
    assert replayed == recorded and len(recorded) == 4


async def test_websockets_are_refused_while_replaying(make_client: MakeClient, tmp_path: Path) -> None:
    cassette = tmp_path / "empty.yaml"
    cassette.write_text("kclient_cassette: 1\ninteractions: []\n")
    client = make_client(recording(cassette))
    if not client.engine.capabilities.websockets:
        pytest.skip(f"{client.engine.name} has no WebSockets")
    with pytest.raises(CassetteError, match="WebSocket sessions are not recorded"):
        async with client.websocket("ws://127.0.0.1:9/ws"):
            pass


async def test_vcr_py_cassettes_replay(make_client: MakeClient, tmp_path: Path) -> None:
    body = gzip.compress(b'{"hello": "from vcr"}')
    cassette = tmp_path / "vcr.yaml"
    cassette.write_text(
        "interactions:\n"
        "- request:\n"
        "    body: null\n"
        "    headers:\n"
        "      Accept: ['*/*']\n"
        "    method: GET\n"
        "    uri: https://api.example.test/hello?b=2&a=1\n"
        "  response:\n"
        "    body:\n"
        f"      string: !!binary |\n        {base64.b64encode(body).decode()}\n"
        "    headers:\n"
        "      Content-Encoding: [gzip]\n"
        "      Content-Type: [application/json]\n"
        "    status: {code: 201, message: Created}\n"
        "version: 1\n"
    )
    client = make_client(recording(cassette, mode="none"))
    response = await client.get("https://api.example.test/hello?a=1&b=2")
    assert (response.status, response.reason, response.json()) == (201, "Created", {"hello": "from vcr"})
    with pytest.raises(ConfigError, match=r"VCR\.py cassette, replayed only"):
        make_client(recording(cassette, mode="new_episodes"))


def test_bad_cassettes_and_settings_say_what_is_wrong(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("kclient_cassette: 1\ninteractions:\n- request: {}\n")
    with pytest.raises(CassetteError, match="interaction 1 is malformed"):
        HttpClient("CIO", recording(broken))
    other = tmp_path / "other.yaml"
    other.write_text("just: text\n")
    with pytest.raises(CassetteError, match="is not a cassette"):
        HttpClient("CIO", recording(other))
    with pytest.raises(ConfigError, match="match_on takes"):
        HttpClient("CIO", recording(tmp_path / "x.yaml", match_on=("method", "nose")))
    with pytest.raises(ConfigError, match="mode"):
        HttpClient("CIO", recording(tmp_path / "x.yaml", mode="sometimes"))


async def test_the_logging_plugin_says_an_answer_was_replayed(
    make_client: MakeClient, server: DemoServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from kclient.plugins.logs import Logging

    base = server.url
    cassette = tmp_path / "api.yaml"

    def configure(c: HttpClientConfig) -> None:
        c.install(Logging, level="INFO", logger="kclient.test-record")
        c.install(Record, cassette=cassette)

    client = make_client(configure)
    with caplog.at_level(logging.INFO, logger="kclient.test-record"):
        await client.get(f"{base}/get")
    client.close()
    await client.join()
    server.stop()
    again = make_client(configure)
    with caplog.at_level(logging.INFO, logger="kclient.test-record"):
        await again.get(f"{base}/get")
    answers = [record.getMessage() for record in caplog.records if record.getMessage().startswith("<--")]
    assert len(answers) == 2 and "from cassette" not in answers[0] and answers[1].endswith(", from cassette)")
