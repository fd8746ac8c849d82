"""Hostile input on every engine: what reaches the socket is valid HTTP/1.1, or nothing is sent.

hypothesis generates methods, paths, queries, header names and values (CR, LF, NUL and the
other controls, non-ASCII) and bodies; each request goes to ``WireChecker``, a raw server on
127.0.0.1 that reads the bytes as received and checks them strictly (request line, header
syntax, no bare CR or LF, field values without controls, one Host, consistent framing, a
chunked body that parses). It answers with the problems it found, so the test asserts there
are none. Hostile hosts (spaces, NUL, IDNA, IPv6) need no DNS: the checker also acts as the
engines' HTTP proxy, so it sees the absolute-form target and the Host header the engine built.

Engine settings get the same treatment: each hostile value is refused with a ``ConfigError``
when the client is created, or the client fails typed on its first requests.

Outcome per request: a response from a checker that found nothing wrong, or a typed
``KClientError`` (``InvalidRequestError`` for input refused before sending). The broad,
engine-independent part (thousands of examples with the Mock engine) is
``tests/test_hostile_input.py``; here fewer examples per engine.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kclient import (
    ConfigError,
    Engine,
    HttpClient,
    InvalidRequestError,
    KClientError,
    ProxyBuilder,
    Response,
    describe_settings,
)

from .faults import _TrackedServer
from .support import HANG_GUARD, chunked_body, engine_bug, hermetic_settings, setting_names

#: ``KCLIENT_FUZZ_SCALE=20`` multiplies the examples of every property (a longer hunt, not for CI).
SCALE = int(os.environ.get("KCLIENT_FUZZ_SCALE", "1"))
PER_ENGINE = settings(
    max_examples=40 * SCALE, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ORIGIN_FORM = re.compile(rb"/[\x21-\x7e]*")
_ABSOLUTE_FORM = re.compile(rb"http://([\x21-\x2e\x30-\x7e]+)(/[\x21-\x7e]*)?")
#: RFC 9110 field-value: visible ASCII, obs-text, space and tab (no other controls).
_FIELD_VALUE = re.compile(rb"[\x20-\x7e\x80-\xff\t]*")
_HOST = re.compile(
    rb"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+(?::\d+)?|\[[0-9A-Fa-f:.]+(?:%25[\w.~-]+)?\](?::\d+)?"
)


class WireChecker(_TrackedServer):
    """A raw HTTP/1.1 server that validates every request's bytes and answers with what it found."""

    name = "wire-checker"

    def __init__(self) -> None:
        super().__init__()
        self.checked = 0

    async def _serve(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            problems, described, framing = check_head(head)
            body = b""
            if not problems:
                more, body = await read_body(reader, framing)
                problems += more
            described["body"] = body.decode("latin-1")
            with self._lock:
                self.checked += 1
            answer = json.dumps({"problems": problems, **described}).encode()
            keep = not problems
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(answer)}\r\n".encode()
                + (b"" if keep else b"Connection: close\r\n")
                + b"\r\n"
                + answer
            )
            await writer.drain()
            if not keep:
                return


def check_head(head: bytes) -> tuple[list[str], dict[str, Any], tuple[str, int]]:
    """Problems of a request head, what it said, and its body framing ("none", "length", "chunked")."""
    problems: list[str] = []
    lines = head[:-4].split(b"\r\n")
    if re.search(rb"\r(?!\n)|(?<!\r)\n", head[:-4]):
        problems.append("bare CR or LF in the head")
    method, _, rest = lines[0].partition(b" ")
    target, _, version = rest.partition(b" ")
    if not _TOKEN.fullmatch(method):
        problems.append(f"method {method!r}")
    authority = None
    absolute = _ABSOLUTE_FORM.fullmatch(target)
    if absolute:
        authority = absolute.group(1)
    elif not _ORIGIN_FORM.fullmatch(target):
        problems.append(f"request target {target!r}")
    if version != b"HTTP/1.1":
        problems.append(f"version {version!r}")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            problems.append(f"header line {line!r}")
            continue
        value = value.strip(b" \t")
        if not _FIELD_VALUE.fullmatch(value):
            problems.append(f"header {name!r} value {value!r}")
        headers.append((name.lower(), value))
    hosts = [value for name, value in headers if name == b"host"]
    if len(hosts) != 1 or not _HOST.fullmatch(hosts[0]):
        problems.append(f"Host headers {hosts!r}")
    elif authority is not None and b"@" in authority:  # RFC 9110 4.2.4: never sent, it would leak credentials
        problems.append(f"user-info in the request target {target!r}")
    elif authority is not None and hosts[0] != authority:
        problems.append(f"Host {hosts[0]!r} is not the target's authority {authority!r}")
    lengths = [value for name, value in headers if name == b"content-length"]
    encodings = [value for name, value in headers if name == b"transfer-encoding"]
    framing: tuple[str, int] = ("none", 0)
    if lengths and encodings:
        problems.append("both Content-Length and Transfer-Encoding")
    elif encodings:
        if len(encodings) != 1 or encodings[0].lower() != b"chunked":
            problems.append(f"Transfer-Encoding {encodings!r}")
        framing = ("chunked", 0)
    elif lengths:
        if len(set(lengths)) != 1 or not lengths[0].isdigit():
            problems.append(f"Content-Length {lengths!r}")
        else:
            framing = ("length", int(lengths[0]))
    described = {
        "method": method.decode("latin-1"),
        "target": target.decode("latin-1"),
        "headers": [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers],
    }
    return problems, described, framing


async def read_body(reader: asyncio.StreamReader, framing: tuple[str, int]) -> tuple[list[str], bytes]:
    """Read the body as framed: problems if the chunked framing does not parse, and the body."""
    kind, length = framing
    if kind == "length":
        return [], await reader.readexactly(length)
    parts: list[bytes] = []
    if kind == "chunked":
        while True:
            line = await reader.readuntil(b"\r\n")
            size_text = line[:-2].split(b";", 1)[0]
            if not re.fullmatch(rb"[0-9A-Fa-f]+", size_text):
                return [f"chunk size line {line!r}"], b"".join(parts)
            size = int(size_text, 16)
            if size == 0:
                while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                    if b":" not in trailer:
                        return [f"trailer {trailer!r}"], b"".join(parts)
                break
            parts.append(await reader.readexactly(size))
            if await reader.readexactly(2) != b"\r\n":
                return ["chunk data not followed by CRLF"], b"".join(parts)
    return [], b"".join(parts)


@pytest.fixture(scope="module")
def wire_checker() -> Any:
    with WireChecker() as server:
        yield server


# -- strategies -------------------------------------------------------------------------------

controls = st.sampled_from(["\r", "\n", "\r\n", "\x00", "\t", "\x01", "\x0b", "\x1b", "\x7f", "\x85", " ", "é", "€"])
salted = st.lists(st.one_of(st.text(max_size=8), controls), max_size=4).map("".join)
percent = st.sampled_from(["%", "%zz", "%00", "%0d%0a", "%2F", "%E2%82%AC", "%ff"])
paths = st.lists(st.one_of(salted, percent), max_size=4).map(lambda parts: "/" + "/".join(parts))
queries = st.lists(st.tuples(salted, salted), max_size=3)
methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "M-SEARCH", "PROPFIND", "get", "BREW"]),
    salted,
)
header_names = st.one_of(
    st.from_regex(r"X-[A-Za-z0-9!#$%&'*+.^_`|~-]{1,10}", fullmatch=True),
    salted,
    st.sampled_from(["X y", "X:y", "", "Ä"]),
)
header_values = st.one_of(
    salted, st.sampled_from(["ok", "", " padded\t", "a\r\nX-Injected: 1", "a\rb", "a\x00b", "\x01", "é€"])
)
hostile_headers = st.lists(st.tuples(header_names, header_values), max_size=4)
bodies = st.one_of(st.none(), st.binary(max_size=64), salted)


#: What the examples of the running test ended in: "well-formed" or the error type's name.
_OUTCOMES: set[str] = set()


@pytest.fixture
def outcomes_noted(reliability_note: Callable[[str], None]) -> Any:
    """Note what the examples ended in, for the reliability table (kinds, not counts)."""
    _OUTCOMES.clear()
    yield
    if _OUTCOMES:
        verdict = "MALFORMED request on the wire" if "malformed" in _OUTCOMES else "0 malformed on the wire"
        reliability_note(f"{verdict}; outcomes: {', '.join(sorted(_OUTCOMES - {'malformed'}))}")


async def exchange(client: HttpClient, method: str, url: str, **options: Any) -> Response | KClientError:
    with anyio.fail_after(HANG_GUARD):
        try:
            response = await client.request(method, url, **options)
        except KClientError as error:
            str(error)
            _OUTCOMES.add(type(error).__name__)
            return error
    _OUTCOMES.add("well-formed")
    return response


def assert_clean(outcome: Response | KClientError, method: str | None = None, body: bytes | None = None) -> None:
    """A typed refusal, or a response from a checker that found the request well-formed."""
    if isinstance(outcome, KClientError):
        if not isinstance(outcome, InvalidRequestError):
            _OUTCOMES.add("malformed")  # the engine sent something the server could not take
        assert isinstance(outcome, InvalidRequestError), f"{type(outcome).__name__}: {outcome}"
        return
    seen = outcome.json()
    if seen["problems"]:
        _OUTCOMES.add("malformed")
    assert seen["problems"] == [], f"malformed request on the wire: {seen}"
    if method is not None:
        assert seen["method"] == method.upper()
    if body is not None:  # the whole body, framed right: an early last chunk would cut it
        assert seen["body"].encode("latin-1") == body


# -- tests ------------------------------------------------------------------------------------


@pytest.mark.reliability("Hostile input: request bytes on the wire")
@PER_ENGINE
@given(method=methods, path=paths, query=queries, hdrs=hostile_headers, body=bodies, streamed=st.booleans())
@example(
    method="GET", path="/a b", query=[("q", "\r\n")], hdrs=[("X-A", "a\r\nX-Injected: 1")], body=None, streamed=False
)
@example(method="POST", path="/", query=[], hdrs=[("X-Ctl", "\x01")], body=b"x", streamed=False)
@example(method="PUT", path="/", query=[], hdrs=[("X-Ctl", "a\x7fb")], body="é", streamed=False)
@example(method="GET", path="/", query=[], hdrs=[("X-Sp", " padded\t")], body=None, streamed=False)
@example(method="POST", path="/", query=[], hdrs=[], body=b"abcdef", streamed=True)  # chunked, an empty chunk inside
@pytest.mark.anyio
async def test_hostile_requests_reach_the_wire_well_formed_or_are_refused(
    make_client: Callable[..., HttpClient],
    wire_checker: WireChecker,
    outcomes_noted: None,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    hdrs: list[tuple[str, str]],
    body: bytes | str | None,
    streamed: bool,
) -> None:
    client = make_client()
    content: Any = body
    raw = body.encode() if isinstance(body, str) else body
    if streamed and raw is not None:  # sent chunked, cut in three with an empty part between
        content = chunked_body([raw[:3], b"", raw[3:]])
    outcome = await exchange(client, method, wire_checker.url + path, params=query, headers=hdrs, content=content)
    assert_clean(outcome, method, raw)


hosts = st.one_of(
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=10),  # IDNA
    salted,
    st.sampled_from(["exa mple.test", "ex\x00ample.test", "h\r\nX-Injected: 1", "[::g]", "xn--", "a..b", "%41.test"]),
)


@pytest.mark.reliability("Hostile input: request bytes on the wire")
@PER_ENGINE
@given(host=hosts, userinfo=st.sampled_from(["", "user:pw@", "us er@"]), port=st.sampled_from(["", ":81", ":65535"]))
@example(host="exa mple.test", userinfo="", port="")  # kclient sent "Host: exa mple.test"
@example(host="ex\x00ample.test", userinfo="", port="")
@example(host="0", userinfo="user:pw@", port="")  # CIO and Urllib3 sent the user-info to the proxy
@example(host="bücher.test", userinfo="", port="")
@pytest.mark.anyio
async def test_hostile_hosts_reach_a_proxy_well_formed_or_are_refused(
    make_client: Callable[..., HttpClient],
    wire_checker: WireChecker,
    outcomes_noted: None,
    host: str,
    userinfo: str,
    port: str,
) -> None:
    """Through an HTTP proxy (the checker), the absolute-form target and the Host header carry the host.

    IPv6 literals are checked on their own below (httpcore drops their brackets).
    """
    client = make_client(proxy=ProxyBuilder.http(wire_checker.url))
    outcome = await exchange(client, "GET", f"http://{userinfo}{host}{port}/path?q=1")
    assert_clean(outcome, "GET")


@pytest.mark.reliability("Hostile input: request bytes on the wire")
@engine_bug(
    "Httpx",
    "httpcore writes a proxied request's absolute-form target with the IPv6 host unbracketed "
    "(GET http://::1:81/path, httpcore._models.URL.__bytes__)",
    raises=AssertionError,
)
@pytest.mark.parametrize("host", ["[::1]", "[2001:db8::7]:8080"])
@pytest.mark.anyio
async def test_ipv6_hosts_reach_a_proxy_bracketed(
    make_client: Callable[..., HttpClient],
    wire_checker: WireChecker,
    reliability_note: Callable[[str], None],
    host: str,
) -> None:
    client = make_client(proxy=ProxyBuilder.http(wire_checker.url))
    outcome = await exchange(client, "GET", f"http://{host}/path?q=1")
    assert isinstance(outcome, Response), repr(outcome)
    assert_clean(outcome, "GET")
    reliability_note("IPv6 host bracketed in the target and the Host header")


# -- settings ---------------------------------------------------------------------------------

setting_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2**40),
    st.floats(allow_nan=True),
    salted,
    st.sampled_from(
        ["/nonexistent.pem", "/dev/null", "/tmp", "a\x00b", "http://[::1", "socks5://127.0.0.1:1", "ftp://127.0.0.1:1"]
    ),
    st.sampled_from(["http://user:pw@127.0.0.1:1", "http://127.0.0.1:1"]).map(ProxyBuilder.http),
    st.dictionaries(st.sampled_from(["verify", "ca_file", "nope"]), salted, max_size=2),
)


@pytest.mark.reliability("Hostile input: settings on every engine")
@settings(
    max_examples=30 * SCALE, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
@pytest.mark.anyio
async def test_hostile_settings_fail_typed_when_created_or_at_the_first_request(
    engine_name: str, engine: type[Engine], reliability_note: Callable[[str], None], data: st.DataObject
) -> None:
    """A setting is refused with a ConfigError, or the client works or fails typed on its first requests."""
    names = [info.name for info in describe_settings(engine.config_class)]
    name = data.draw(st.sampled_from(names), label="setting")
    value = data.draw(setting_values, label="value")
    head, _, rest = name.partition(".")
    settings_ = {**hermetic_settings(engine), head: {rest: value} if rest else value}
    try:
        client = HttpClient(engine_name, engine_config=settings_)
    except KClientError as error:
        assert isinstance(error, ConfigError), repr(error)
        reliability_note("ConfigError when created, or typed errors at the first requests")
        return
    try:
        for url in ("http://127.0.0.1:1/x", "https://127.0.0.1:1/x"):  # nothing listens on port 1
            outcome = await exchange(client, "GET", url, timeout=5)
            assert isinstance(outcome, KClientError), outcome
        reliability_note("ConfigError when created, or typed errors at the first requests")
    finally:
        client.close()
        with anyio.fail_after(HANG_GUARD):
            await client.join()


@pytest.mark.reliability("Hostile input: settings on every engine")
@pytest.mark.parametrize("name", ["ca_file", "cert_file"])
@pytest.mark.anyio
async def test_a_tls_file_path_with_nul_is_a_config_error(
    make_client: Callable[..., HttpClient], engine: type[Engine], name: str, reliability_note: Callable[[str], None]
) -> None:
    """Found by the test above: ``ssl`` raised ValueError ("embedded null byte") out of the first https request."""
    if f"https.{name}" not in setting_names(engine):
        pytest.skip(f"{engine.name} has no https.{name} setting")
    client = make_client(https={name: "a\x00b.pem"})
    with anyio.fail_after(HANG_GUARD), pytest.raises(ConfigError, match="https settings cannot be loaded"):
        await client.get("https://127.0.0.1:1/x")
    reliability_note("ConfigError")
