"""The secrets audit: credentials sent every way kclient takes them never show anywhere, on every engine.

One test per engine. It sends distinctive secrets (each contains ``9f8e7d``) through an
``Authorization`` header, ``X-Api-Key`` and ``Cookie`` headers, URL user-info, secret query
values (``token``, ``api_key``), a form ``password`` field, proxy URLs with credentials
(tinyproxy with auth: right, wrong, and a proxy that is not there), and the Auth plugin
(Basic, and Bearer with a refresh), on every backend the engine runs on. Requests succeed
and fail: refused connection, timeout, 4xx and 5xx with ``expect_success``, a proxy that
refuses the credentials. The Logging plugin logs everything (``ALL``), the Record plugin records
every exchange into a cassette, and every logger
(kclient's and the libraries': httpx, httpcore, aiohttp, urllib3, asyncio) is at DEBUG.

Then it gathers everything a person could see and checks that no secret is in it, nor the
base64 of any ``user:password`` pair: ``repr``/``str`` of clients, engines, configs,
plugins, requests, responses and exceptions (with the whole ``__cause__``/``__context__``
chain); the cassettes' text; every log record (message and arguments); the magics' displays (``-v`` exchange,
history table, ``--curl`` without ``--show-secrets``, error messages, the client summary)
run in a real IPython shell; and the widgets' values and every state update they sent to
the front end, after a Send that worked and one that failed.

What is *not* checked, on purpose: the fields a person typed the secret into (the
workbench composer's URL and headers boxes). They show what was typed, as any text box
does; masking them would garble the user's own input while editing it. Response bodies are
the server's words (the fault server's ``/echo`` repeats the request): they are only
looked at through the Logging plugin, which masks the secrets it knows in logged bodies.
"""

from __future__ import annotations

import base64
import logging
import shutil
import socket
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from headless import kclient_shell, recording_comms
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kclient import Engine, HttpClient, KClientError, ProxyBuilder, Response
from kclient.plugins.auth import Auth, BasicAuth, BearerAuth, BearerTokens
from kclient.plugins.logs import Logging
from kclient.plugins.record import Record

from .support import HANG_GUARD, PROXY_PASSWORD, PROXY_USER, hermetic_settings, setting_names

#: Every secret of the audit, by where it goes. All contain the marker ``9f8e7d``.
SECRETS = {
    "authorization": "s3cr3t-authz-9f8e7d",
    "api_key_header": "s3cr3t-apikey-9f8e7d",
    "cookie": "s3cr3t-cookie-9f8e7d",
    "userinfo": "s3cr3t-userinfo-9f8e7d",
    "token_query": "s3cr3t-token-9f8e7d",
    "api_key_query": "s3cr3t-qkey-9f8e7d",
    "form_password": "s3cr3t-formpw-9f8e7d",
    "basic": "s3cr3t-basic-9f8e7d",
    "bearer": "s3cr3t-bearer-9f8e7d",
    "refresh": "s3cr3t-refresh-9f8e7d",
    "refreshed": "s3cr3t-refreshed-9f8e7d",
    "wrong_proxy": "s3cr3t-wrongproxy-9f8e7d",
    "dead_proxy": "s3cr3t-deadproxy-9f8e7d",
    "proxy": PROXY_PASSWORD,
}
#: ``user:password`` pairs: their base64 (Basic and Proxy-Authorization values) is a secret too.
PAIRS = {
    "basic": f"ada:{SECRETS['basic']}",
    "userinfo": f"alice:{SECRETS['userinfo']}",
    "proxy": f"{PROXY_USER}:{PROXY_PASSWORD}",
    "wrong_proxy": f"{PROXY_USER}:{SECRETS['wrong_proxy']}",
    "dead_proxy": f"{PROXY_USER}:{SECRETS['dead_proxy']}",
}
FORBIDDEN = {
    **SECRETS,
    **{f"base64({name})": base64.b64encode(pair.encode()).decode() for name, pair in PAIRS.items()},
}
#: Loggers of the test's servers (httpbin runs on werkzeug), not of anything on the client's side.
SERVER_LOGGERS = ("werkzeug", "httpbin")
#: The loggers of kclient and of the libraries under the engines.
LOGGERS = ("", "kclient", "httpx", "httpcore", "hpack", "aiohttp", "urllib3", "asyncio", "trio")


@dataclass
class Evidence:
    """Every text a person could see, with where it came from."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    #: What the exchanges ended in: status codes and error types.
    outcomes: set[str] = field(default_factory=set)

    def add(self, where: str, text: object) -> None:
        self.texts.append((where, text if isinstance(text, str) else repr(text)))

    def obj(self, where: str, value: object) -> None:
        self.add(f"repr({where})", repr(value))
        self.add(f"str({where})", str(value))

    def error(self, where: str, exc: BaseException) -> None:
        """The exception and every exception of its chain: message, repr, args, as a traceback shows them."""
        seen: set[int] = set()
        current: BaseException | None = exc
        depth = 0
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            label = f"{where} chain[{depth}] {type(current).__name__}"
            self.obj(label, current)
            self.add(f"{label}.args", repr(current.args))
            self.add(f"{label} (traceback line)", "".join(traceback.format_exception_only(current)))
            response = getattr(current, "response", None)
            if isinstance(response, Response):
                self.response(f"{label}.response", response)
            current = current.__cause__ or current.__context__
            depth += 1

    def response(self, where: str, response: Response) -> None:
        from kclient.magics._display import ResponseView, display_bundle

        self.obj(where, response)
        self.obj(f"{where}.request", response.request)
        if response.request.url.path == "/echo":
            return  # the server's words (it repeats the request): only the Logging plugin's view of them is checked
        for verbose in (False, True):
            for mime, text in display_bundle(response, verbose=verbose).items():
                self.add(f"display_bundle({where}, verbose={verbose}) {mime}", text)
            view = ResponseView(response, verbose=verbose)
            self.obj(f"ResponseView({where}, verbose={verbose})", view)
            for mime, text in view._repr_mimebundle_().items():
                self.add(f"ResponseView({where}, verbose={verbose}) {mime}", text)

    def client(self, where: str, client: HttpClient) -> None:
        self.obj(where, client)
        self.obj(f"{where}.engine", client.engine)
        self.obj(f"{where}.engine.config", getattr(client.engine, "config", None))
        self.obj(f"{where}.status()", client.status())
        for plugin in client.plugins:
            self.obj(f"{where} plugin {plugin.name}", plugin)
            self.obj(f"{where} plugin {plugin.name}.config", plugin.config)

    def leaks(self) -> list[str]:
        found = []
        for where, text in self.texts:
            for name, secret in FORBIDDEN.items():
                if secret in text:
                    at = text.index(secret)
                    found.append(f"{name} in {where}: ...{text[max(0, at - 80) : at + 40]!r}...")
        return found


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Servers:
    fault: str
    fault_host: str  # host:port
    httpbin: str
    tls: str
    ca_file: str
    proxy: str  # tinyproxy with auth, without credentials
    closed: int


def with_userinfo(host_port: str) -> str:
    return f"http://alice:{SECRETS['userinfo']}@{host_port}"


SECRET_QUERY = {"token": SECRETS["token_query"], "api_key": SECRETS["api_key_query"], "page": "2"}
#: Sent with URLs that carry user-info: an Authorization header beside URL credentials is refused by
#: Aiohttp (InvalidRequestError) while the other engines send one or the other, so they go apart.
KEY_HEADERS = {"X-Api-Key": SECRETS["api_key_header"], "Cookie": f"session={SECRETS['cookie']}"}
SECRET_HEADERS = {"Authorization": f"Bearer {SECRETS['authorization']}", **KEY_HEADERS}


def proxy_url(servers: Servers, password: str, port: int | None = None) -> str:
    host_port = servers.proxy.split("://", 1)[1] if port is None else f"127.0.0.1:{port}"
    return f"http://{PROXY_USER}:{password}@{host_port}"


# -- the exchanges, on one backend --------------------------------------------------------------


async def exchanges(engine: type[Engine], servers: Servers, evidence: Evidence, backend: str) -> None:
    base = hermetic_settings(engine)
    tls = {"https": {"ca_file": servers.ca_file}} if "https.ca_file" in setting_names(engine) else {}
    proxied = "http" in engine.capabilities.proxies

    cassettes = Path(tempfile.mkdtemp(prefix="kclient-audit-"))

    def logged(c: Any) -> None:
        c.install(Logging, level="ALL")
        # Every exchange is recorded too: the cassette is text a person reads and commits.
        c.install(Record, cassette=cassettes / f"{len(list(cassettes.iterdir()))}-{id(c)}.yaml", mode="all")

    def basic(c: Any) -> None:
        logged(c)
        c.install(Auth, providers=[BasicAuth("ada", SECRETS["basic"])])

    async def refresh(old: BearerTokens) -> BearerTokens:
        return BearerTokens(SECRETS["refreshed"], SECRETS["refresh"])

    def bearer(c: Any) -> None:
        logged(c)
        c.install(Auth, providers=[BearerAuth(lambda: BearerTokens(SECRETS["bearer"], SECRETS["refresh"]), refresh)])

    clients = {
        "plain": HttpClient(engine, logged, engine_config=base),
        "basic": HttpClient(engine, basic, engine_config=base),
        "bearer": HttpClient(engine, bearer, engine_config=base),
    }
    if proxied:
        clients["proxy"] = HttpClient(
            engine,
            logged,
            engine_config={**base, **tls, "proxy": ProxyBuilder.http(proxy_url(servers, PROXY_PASSWORD))},
        )
        clients["wrong proxy"] = HttpClient(
            engine,
            logged,
            engine_config={**base, **tls, "proxy": ProxyBuilder.http(proxy_url(servers, SECRETS["wrong_proxy"]))},
        )
        clients["dead proxy"] = HttpClient(
            engine,
            logged,
            engine_config={
                **base,
                "proxy": ProxyBuilder.http(proxy_url(servers, SECRETS["dead_proxy"], servers.closed)),
            },
        )

    secret_url = with_userinfo(servers.fault_host)
    closed_url = with_userinfo(f"127.0.0.1:{servers.closed}")
    httpbin_url = with_userinfo(servers.httpbin.split("://", 1)[1])
    fault, httpbin = servers.fault, servers.httpbin
    keyed = {"params": SECRET_QUERY, "headers": KEY_HEADERS}  # with user-info in the URL
    full = {"params": SECRET_QUERY, "headers": SECRET_HEADERS}  # with an Authorization header
    form = {"user": "ada", "password": SECRETS["form_password"]}
    attempts: list[tuple[str, str, str, str, dict[str, Any]]] = [
        ("plain", "ok", "GET", f"{secret_url}/ok", keyed),
        ("plain", "ok, Authorization", "GET", f"{fault}/ok", full),
        ("plain", "echo", "POST", f"{secret_url}/echo", {**keyed, "data": form}),
        ("plain", "echo, Authorization", "POST", f"{fault}/echo", {**full, "data": form}),
        ("plain", "404", "GET", f"{secret_url}/no-such-path", {**keyed, "expect_success": True}),
        ("plain", "404, Authorization", "GET", f"{fault}/no-such-path", {**full, "expect_success": True}),
        ("plain", "500", "GET", f"{httpbin_url}/status/500", {**keyed, "expect_success": True}),
        ("plain", "500, Authorization", "GET", f"{httpbin}/status/500", {**full, "expect_success": True}),
        ("plain", "refused", "GET", f"{closed_url}/x", keyed),
        ("plain", "refused, Authorization", "GET", f"http://127.0.0.1:{servers.closed}/x", full),
        ("plain", "timeout", "GET", f"{secret_url}/never", {**keyed, "timeout": 0.5}),
        ("plain", "timeout, Authorization", "GET", f"{fault}/never", {**full, "timeout": 0.5}),
        ("basic", "ok", "GET", f"{fault}/ok", {"params": SECRET_QUERY}),
        ("basic", "refused", "GET", f"http://127.0.0.1:{servers.closed}/x", {}),
        ("basic", "401", "GET", f"{httpbin}/status/401", {"expect_success": True}),
        ("bearer", "ok", "GET", f"{fault}/ok", {}),
        ("bearer", "401 and refresh", "GET", f"{httpbin}/status/401", {"expect_success": True}),
        ("bearer", "timeout", "GET", f"{fault}/never", {"timeout": 0.5}),
    ]
    if proxied:
        attempts += [
            ("proxy", "ok", "GET", f"{secret_url}/ok", keyed),
            ("proxy", "ok, Authorization", "GET", f"{fault}/ok", full),
            ("proxy", "tunnel", "GET", f"{servers.tls}/ok", full),
            ("wrong proxy", "refused credentials", "GET", f"{secret_url}/ok", {**keyed, "expect_success": True}),
            ("wrong proxy", "refused tunnel", "GET", f"{servers.tls}/ok", full),
            ("dead proxy", "no proxy", "GET", f"{secret_url}/ok", keyed),
        ]
    outcomes: dict[str, int] = {}
    try:
        for name, what, method, url, options in attempts:
            where = f"{backend} {name} client, {what}"
            with anyio.fail_after(HANG_GUARD):
                try:
                    response = await clients[name].request(method, url, **options)
                except KClientError as error:
                    evidence.error(where, error)
                    outcomes[type(error).__name__] = outcomes.get(type(error).__name__, 0) + 1
                else:
                    evidence.response(where, response)
                    outcomes[str(response.status)] = outcomes.get(str(response.status), 0) + 1
        for name, client in clients.items():
            evidence.client(f"{backend} {name} client", client)
    finally:
        for client in clients.values():
            client.close()
            await client.join()
    recorded = sorted(cassettes.glob("*.yaml"))
    for cassette in recorded:
        evidence.add(f"{backend} cassette {cassette.name}", cassette.read_text())
    shutil.rmtree(cassettes)
    assert recorded, "the audit recorded no cassette"
    # The audit did reach every kind of failure it claims to check.
    assert {"ConnectError", "ClientResponseError", "ServerResponseError"} <= set(outcomes), outcomes
    assert any(kind.endswith("Timeout") for kind in outcomes), outcomes
    if proxied:
        assert "ProxyError" in outcomes, outcomes  # the tunnel with refused proxy credentials
    evidence.outcomes.update(outcomes)


# -- the magics and the widgets (synchronous, as in a notebook) --------------------------------


@pytest.fixture
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with recording_comms(monkeypatch):
        yield


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    with kclient_shell() as ip:
        try:
            yield ip
        finally:
            client = ip.user_ns.pop("t_audit_client", None)
            if client is not None:
                client.close()
                kclient_run_join(client)
            ip.user_ns.pop("t_audit_token", None)


def magics_part(ip: InteractiveShell, engine: type[Engine], servers: Servers, evidence: Evidence) -> None:
    def logged(c: Any) -> None:  # no Auth plugin: its header would meet the URL's user-info (see KEY_HEADERS)
        c.install(Logging, level="ALL")

    settings = hermetic_settings(engine)
    if "http" in engine.capabilities.proxies:
        settings["proxy"] = ProxyBuilder.http(proxy_url(servers, PROXY_PASSWORD))
    ip.user_ns["t_audit_client"] = HttpClient(engine, logged, engine_config=settings)
    ip.user_ns["t_audit_token"] = SECRETS["bearer"]
    ip.run_line_magic("kclient", "use t_audit_client")
    secret_url = with_userinfo(servers.fault_host)
    query = f"token=={SECRETS['token_query']} api_key=={SECRETS['api_key_query']}"
    headers = (
        f"'Authorization:Bearer {SECRETS['authorization']}' X-Api-Key:{SECRETS['api_key_header']} "
        f"Cookie:session={SECRETS['cookie']}"
    )
    key_headers = f"X-Api-Key:{SECRETS['api_key_header']} Cookie:session={SECRETS['cookie']}"
    lines = [
        f"-v GET {servers.fault}/ok {query} {headers}",
        f"-v GET {secret_url}/ok {query} {key_headers}",
        f"--curl GET {secret_url}/ok {query} {headers}",
        f"--curl --send --form POST {secret_url}/ok password={SECRETS['form_password']} {query}",
        f"-v --form POST {secret_url}/ok password={SECRETS['form_password']}",
        f"--check GET {secret_url}/no-such-path {query} {key_headers}",
        f"--check GET {servers.fault}/no-such-path {query} {headers}",
        f"GET {with_userinfo(f'127.0.0.1:{servers.closed}')}/x {query} {key_headers}",
        f"GET http://127.0.0.1:{servers.closed}/x {query} {headers}",
        f"--timeout 0.5 GET {secret_url}/never {query} {key_headers}",
        f"curl -u alice:{SECRETS['userinfo']} -H 'X-Api-Key: {SECRETS['api_key_header']}' "
        f"-b 'session={SECRETS['cookie']}' '{servers.fault}/ok?api_key={SECRETS['api_key_query']}'",
        "history",
        "",
    ]
    for line in lines:
        where = f"%kclient {line.split(' ', 1)[0] or '(alone)'} {lines.index(line)}"
        try:
            value = ip.run_line_magic("kclient", line)
        except UsageError as error:
            evidence.error(where, error)
            continue
        evidence.obj(where, value)
        data, _ = ip.display_formatter.format(value)
        for mime, text in data.items():
            evidence.add(f"{where} display {mime}", text)
    cell = (
        f"@token = {{{{t_audit_token}}}}\n"
        f"GET {secret_url}/ok?token={{{{token}}}}\n"
        f"Authorization: Bearer {{{{t_audit_token}}}}\n"
        f"X-Api-Key: {SECRETS['api_key_header']}\n"
    )
    for options in ("-v", "--curl", "--check -v"):
        try:
            value = ip.run_cell_magic("kclient", options, cell)
        except UsageError as error:
            evidence.error(f"%%kclient {options}", error)
            continue
        data, _ = ip.display_formatter.format(value)
        for mime, text in data.items():
            evidence.add(f"%%kclient {options} display {mime}", text)
    magics = ip.magics_manager.registry["KClientMagics"]
    for index, entry in enumerate(magics.history):
        evidence.add(f"history entry {index} error", entry.error or "")
    evidence.client("kernel client", ip.user_ns["t_audit_client"])


def widget_texts(widget: Any, skip: set[int]) -> Iterator[tuple[str, str]]:
    """Every state a widget tree sent to the front end, and its current string values."""
    if id(widget) not in skip:
        name = type(widget).__name__
        for message in getattr(widget.comm, "messages", []) if widget.comm is not None else []:
            yield f"{name} comm message", repr(message)
        for attribute in ("value", "description", "placeholder", "tooltip", "options"):
            value = getattr(widget, attribute, None)
            if value is not None:
                yield f"{name}.{attribute}", repr(value)
    for child in getattr(widget, "children", ()):
        yield from widget_texts(child, skip)


def widgets_part(engine: type[Engine], servers: Servers, evidence: Evidence) -> None:
    from kclient.magics._widgets import Workbench

    def basic(c: Any) -> None:
        c.install(Auth, providers=[BasicAuth("ada", SECRETS["basic"])])

    settings = hermetic_settings(engine)
    if "http" in engine.capabilities.proxies:  # a workbench on a client with proxy credentials: only shown
        proxied = HttpClient(
            engine, engine_config={**settings, "proxy": ProxyBuilder.http(proxy_url(servers, PROXY_PASSWORD))}
        )
        try:
            for where, text in widget_texts(Workbench(proxied), set()):
                evidence.add(f"proxied widget {where}", text)
        finally:
            proxied.close()
            kclient_run_join(proxied)
    client = HttpClient(engine, basic, engine_config=settings)
    try:
        bench = Workbench(client)
        composer = bench.composer
        typed = {id(composer.url), id(composer.headers), id(composer.body)}  # what the user typed: shown as typed
        composer.headers.value = "\n".join(f"{name}: {value}" for name, value in SECRET_HEADERS.items())
        composer.url.value = f"{servers.fault}/ok?token={SECRETS['token_query']}"
        composer.send()
        assert bench.viewer.response is not None and bench.viewer.response.status == 200, composer.errors.messages
        bench.viewer.show_request.value = True  # the request as sent, with its headers
        composer.url.value = f"{with_userinfo(f'127.0.0.1:{servers.closed}')}/x?api_key={SECRETS['api_key_query']}"
        composer.send()
        assert composer.errors.messages, "the refused request shows an error"
        composer.body_kind.value = "form"
        composer.body.value = f"password={SECRETS['form_password']}"
        composer.method.value = "POST"
        composer.url.value = f"{with_userinfo(servers.fault_host)}/ok"
        composer.send()
        for where, text in widget_texts(bench, typed):
            evidence.add(f"widget {where}", text)
        evidence.obj("workbench error messages", composer.errors.messages)
    finally:
        client.close()
        kclient_run_join(client)


def kclient_run_join(client: HttpClient) -> None:
    import kclient

    kclient.run(client.join())


# -- the audit ---------------------------------------------------------------------------------


@pytest.mark.reliability("Secrets never shown")
def test_no_secret_is_ever_shown(
    engine_name: str,
    engine: type[Engine],
    fault_server: Any,
    httpbin: Any,
    tls_origin: Any,
    tinyproxy_with_auth: Any,
    shell: InteractiveShell,
    recording_comm: None,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    reliability_note: Callable[[str], None],
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    servers = Servers(
        fault=fault_server.url,
        fault_host=fault_server.url.split("://", 1)[1],
        httpbin=httpbin.url,
        tls=tls_origin.server.url,
        ca_file=tls_origin.ca_file,
        proxy=tinyproxy_with_auth.url,
        closed=closed_port(),
    )
    evidence = Evidence()
    for backend in ("asyncio", "trio"):
        if backend in engine.capabilities.backends:
            anyio.run(exchanges, engine, servers, evidence, backend, backend=backend)
    magics_part(shell, engine, servers, evidence)
    widgets_part(engine, servers, evidence)

    for record in caplog.records:
        if record.name.startswith(SERVER_LOGGERS):
            continue  # the test's own servers log what they received, as any server does
        where = f"log record {record.name}:{record.levelname}"
        evidence.add(f"{where} message", record.getMessage())
        evidence.add(f"{where} args", repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            evidence.error(f"{where} exc_info", record.exc_info[1])
    out, err = capsys.readouterr()
    evidence.add("stdout", out)
    evidence.add("stderr", err)

    assert len(caplog.records) > 20, "the audit logs every exchange"
    assert any("***" in text for _, text in evidence.texts), "secrets are shown masked"
    leaks = evidence.leaks()
    assert not leaks, f"{len(leaks)} secret(s) shown on {engine_name}:\n" + "\n".join(leaks[:40])
    reliability_note(f"0 of {len(FORBIDDEN)} secrets shown in {len(evidence.texts)} texts checked")
    reliability_note("exchanges ended in " + ", ".join(sorted(evidence.outcomes)))
