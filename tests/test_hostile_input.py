"""Hostile input, engine-independent: whatever a person (or a pasted command) hands kclient either
works or raises a typed error, never another exception, never a hang, never a malformed request.

Property tests with hypothesis over URLs (schemes, hosts, ports, IPv6, unicode and IDNA,
percent-encoding, user-info, fragments), methods, header names and values (CR, LF, NUL and
the other controls), query parameters, engine settings and plugin options, and the magics'
parsers: ``.http`` cells (``parse_http_templates`` then ``render``), HTTPie items
(``parse_line_request``), curl commands (``parse_curl``) and ``%kclient`` lines in a real
IPython shell. Typed errors are ``KClientError`` subclasses for the client, and the magics'
documented ``KClientMagicError`` (an IPython ``UsageError``) for the magics.

Everything is sent with the Mock engine, whose handler checks that the ``Request`` an engine
would get can be put on the wire as valid HTTP/1.1: a token method, an http(s) URL with a
well-formed host, an origin-form target of visible ASCII, token header names and values
without CR, LF or NUL. What real engines put on the wire for such requests is checked byte by
byte in ``tests/engines/test_hostile_requests.py``.

Examples hypothesis found that crashed once are kept as ``@example``s.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import anyio
import pytest
from engines.support import HANG_GUARD
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from kclient.magics._curl import parse_curl, to_curl
from kclient.magics._errors import KClientMagicError
from kclient.magics._httpfile import parse_http_templates
from kclient.magics._items import parse_line_request
from kclient.magics._magics import SUBCOMMANDS
from kclient.magics._spec import RequestSpec

import kclient
from kclient import HttpClient, KClientError, Mock, Request, Response, describe_settings, respond
from kclient._redact import mask_url
from kclient._syntax import has_line_break, is_token
from kclient.engines import registry

T = TypeVar("T")

#: ``KCLIENT_FUZZ_SCALE=20`` multiplies the examples of every property (a longer hunt, not for CI).
SCALE = int(os.environ.get("KCLIENT_FUZZ_SCALE", "1"))
FUZZ = settings(
    max_examples=300 * SCALE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
FEWER = settings(
    max_examples=120 * SCALE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

#: What may not appear in a request target or a host on the wire: controls, space, and non-ASCII.
_NOT_VISIBLE_ASCII = re.compile(r"[^\x21-\x7e]")
#: A host as it goes into the Host header: a reg-name or IPv4 (RFC 3986), or an IPv6 address (unbracketed).
_REG_NAME = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]+(?:%25[\w.~-]+)?")


# -- what "sendable" means --------------------------------------------------------------------


def assert_sendable(request: Request) -> None:
    """``request`` can be written as a valid HTTP/1.1 request head by any engine."""
    assert is_token(request.method), request.method
    url = request.url
    assert url.scheme in ("http", "https"), url
    host = url.raw_host or ""
    if ":" in host:
        assert _IPV6.fullmatch(host), f"host {host!r}"
    else:
        assert _REG_NAME.fullmatch(host), f"host {host!r}"
    target = url.raw_path_qs or "/"
    assert target.startswith("/"), target
    assert not _NOT_VISIBLE_ASCII.search(target), f"target {target!r}"
    for name, value in request.headers.items():
        assert is_token(name), f"header name {name!r}"
        assert not has_line_break(value), f"header {name}: {value!r}"
    repr(request)  # never raises, whatever the URL
    mask_url(url)


def checked_echo(request: Request) -> Response:
    """The Mock handler: refuses (by failing the test) anything that could not go on the wire."""
    try:
        assert_sendable(request)
    except AssertionError:
        outcome("malformed")
        raise
    return respond("ok")


#: What the examples of the running test ended in: "sent", "parsed", or an error type's name.
_OUTCOMES: set[str] = set()


@pytest.fixture(autouse=True)
def outcomes_noted(reliability_note: Callable[[str], None]) -> Iterator[None]:
    """Note what the test's examples ended in, for the reliability table (kinds, not counts:
    hypothesis draws different examples from run to run)."""
    _OUTCOMES.clear()
    yield
    bad = sorted(kind for kind in _OUTCOMES if kind.startswith(("crash", "malformed")))
    verdict = ", ".join(bad) if bad else "no crash, no malformed request"
    reliability_note(f"{verdict}; outcomes: {', '.join(sorted(_OUTCOMES - set(bad)))}")


def outcome(kind: str) -> None:
    _OUTCOMES.add(kind)


@pytest.fixture
def client() -> Iterator[HttpClient]:
    with HttpClient(Mock(checked_echo)) as c:
        yield c


def guarded(make: Callable[[], Awaitable[T]]) -> T:
    """Run ``make()`` in kclient's loop under the hang guard."""

    async def run() -> T:
        with anyio.fail_after(HANG_GUARD):
            return await make()

    return kclient.run(run())


def send(client: HttpClient, method: Any, url: Any, **options: Any) -> Response | KClientError:
    """Send, returning the response or the typed error; any other exception fails the test."""
    try:
        response = guarded(lambda: client.request(method, url, **options))
    except KClientError as error:
        str(error), repr(error)  # a message that can be shown
        outcome(type(error).__name__)
        return error
    except Exception as error:
        outcome(f"crash: {type(error).__name__}")
        raise
    outcome("sent")
    return response


def send_spec(client: HttpClient, spec: RequestSpec) -> Response | KClientError:
    """Send a parsed magic request as the magics do; it also prints back as curl without failing."""
    to_curl(spec)
    to_curl(spec, mask_secrets=False)
    return send(client, spec.method, spec.url, **spec.options())


# -- strategies -------------------------------------------------------------------------------

#: Any text, controls and surrogates included.
anything = st.text(max_size=24)
controls = st.sampled_from(["\r", "\n", "\r\n", "\x00", "\t", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028", " "])
#: Text salted with control characters.
salted = st.lists(st.one_of(anything, controls), max_size=5).map("".join)

percent = st.sampled_from(
    ["%", "%2", "%zz", "%00", "%0d%0a", "%0A", "%2F", "%25", "%E2%82%AC", "%ff", "%C0%AF", "%u002F"]
)
schemes = st.sampled_from(
    ["http", "https", "HTTP", "HtTpS", "ftp", "file", "javascript", "ws", "", "h ttp", "http+unix"]
)
separators = st.sampled_from(["://", "://", "://", ":", ":/", ":///", "//", ""])
hosts = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda address: f"[{address}]"),
    st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,12}){0,3}", fullmatch=True),
    st.text(st.characters(categories=["L", "N", "M"]), min_size=1, max_size=12),  # unicode, IDNA
    salted,
    st.sampled_from(
        [
            "xn--",
            "xn--a",
            "xn--zz-",
            "localhost",
            "[::1",
            "[::g]",
            "[::1]x",
            "a..b",
            ".",
            "%zz",
            "%41",
            "[fe80::1%25eth0]",
            "[v1.x]",
            "ex\x00ample",
            "h\r\nX-Injected: 1",
            "a b",
            "a\tb",
            "ab\u200b",
            "\uff21\uff22\uff23.com",  # fullwidth letters, NFKC-folded by IDNA
            "ß.de",
            "a" * 64,
            "x." * 130,
            "999.1.1.1",
            "1.2.3.4.5",
            "0x7f.1",
        ]
    ),
)
userinfo = st.one_of(
    st.just(""),
    salted.map(lambda text: text + "@"),
    st.tuples(salted, salted).map(lambda pair: f"{pair[0]}:{pair[1]}@"),
    st.just("a@b@"),
)
ports = st.one_of(
    st.just(""),
    st.integers(-5, 70_000).map(lambda port: f":{port}"),
    salted.map(lambda text: ":" + text),
)
segments = st.lists(st.one_of(salted, percent), max_size=4).map("".join)
paths = st.lists(segments, max_size=4).map(lambda parts: "/" + "/".join(parts) if parts else "")
queries = st.one_of(st.just(""), st.lists(segments, max_size=3).map(lambda parts: "?" + "&".join(parts)))
fragments = st.one_of(st.just(""), segments.map(lambda text: "#" + text))
structured_urls = st.builds(
    lambda *parts: "".join(parts), schemes, separators, userinfo, hosts, ports, paths, queries, fragments
)
urls = st.one_of(structured_urls, structured_urls, anything, salted)

methods = st.one_of(
    st.sampled_from(
        ["GET", "get", "POST", "M-SEARCH", "PROPFIND", "BREW", "GET ", " GET", "G\rET", "GET\x00", "", "Ä"]
    ),
    anything,
    salted,
    st.none(),
    st.integers(),
    st.binary(max_size=5),
)
header_names = st.one_of(
    st.sampled_from(["X-Ok", "Content-Type", "Host", "Transfer-Encoding", "Content-Length", "X:y", "X y", "", "Ä"]),
    st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}", fullmatch=True),
    salted,
)
header_values = st.one_of(
    salted,
    st.sampled_from(
        ["ok", "", " padded ", "a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b", "\x01\x7f", "é", "€", "x" * 9000]
    ),
    st.integers(),
    st.none(),
    st.binary(max_size=5),
)
headers = st.one_of(
    st.dictionaries(header_names, header_values, max_size=4),
    st.lists(st.tuples(header_names, header_values), max_size=4),
)
param_values = st.one_of(salted, st.integers(), st.floats(), st.booleans(), st.none(), st.lists(salted, max_size=2))
params = st.one_of(
    st.dictionaries(salted, param_values, max_size=3),
    st.lists(st.tuples(salted, param_values), max_size=3),
    salted,
)
hostile_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**80), 2**80),
    st.floats(),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308]),
    salted,
    st.binary(max_size=4),
    st.lists(st.one_of(st.integers(), salted), max_size=3),
    st.dictionaries(salted, st.one_of(st.integers(), salted), max_size=2),
    st.sampled_from([object(), (), ("a",), {"verify": "yes"}, frozenset({1})]),
)


# -- URLs, methods, headers, query parameters -------------------------------------------------


@pytest.mark.reliability("Hostile input: URLs")
@FUZZ
@given(url=urls)
@example(url="http://xn--/")  # yarl's IDNA decoding raised UnicodeError outside the builder's guard
@example(url="http://exa mple.com/")  # a space in the host went into the Host header
@example(url="http://ex\x00ample/")  # a NUL in the host went into the Host header
@example(url="http://[::g]/")  # not an IPv6 address, yet accepted
@example(url="http://h/\r\nX-Injected: 1")
@example(url="http://user:pa ss@[::1]:8080/a%zz?q=%00#frag")
def test_urls_are_sent_well_formed_or_refused(client: HttpClient, url: str) -> None:
    sent = send(client, "GET", url)
    if isinstance(sent, Response):
        assert sent.status == 200
    else:
        assert isinstance(sent, kclient.InvalidRequestError), repr(sent)


@pytest.mark.reliability("Hostile input: URLs")
def test_a_url_object_that_would_split_the_request_line_is_refused(client: HttpClient) -> None:
    """yarl URLs built with ``encoded=True`` are taken as given: kclient must still check them."""
    from yarl import URL

    for url in (
        URL("http://h/a b", encoded=True),
        URL("http://h/a\r\nX: y", encoded=True),
        URL("http://h/\x00", encoded=True),
    ):
        sent = send(client, "GET", url)
        assert isinstance(sent, kclient.InvalidRequestError), f"{url!r}: {sent!r}"


class Redirector:
    """A Mock handler that answers /start with a 302 to ``location`` and checks every other request."""

    def __init__(self) -> None:
        self.location = ""

    def __call__(self, request: Request) -> Response:
        if request.url.host == "start.test":
            return respond("", 302, {"Location": self.location})
        return checked_echo(request)


@pytest.mark.reliability("Hostile input: URLs")
@FUZZ
@given(location=st.one_of(urls, paths, st.builds(lambda host, path: f"//{host}{path}", hosts, paths)))
@example(location="http://exa mple.test/")  # the redirect plugin followed it: a space in the Host header
@example(location="http://xn--/")  # UnicodeError out of the redirect plugin
@example(location="//ex\x00ample/x")
def test_redirect_locations_are_followed_well_formed_or_not_at_all(location: str) -> None:
    """A server's ``Location`` is hostile input too: followed only when it makes a well-formed request."""
    handler = Redirector()
    handler.location = location
    with HttpClient(Mock(handler)) as redirected:
        sent = send(redirected, "GET", "http://start.test/start")
    if isinstance(sent, Response):
        assert sent.status in (200, 302), sent
    else:
        assert isinstance(sent, kclient.TooManyRedirectsError), repr(sent)  # a Location that points back


@pytest.mark.reliability("Hostile input: methods and headers")
@FUZZ
@given(method=methods, hdrs=headers, query=params)
def test_methods_headers_and_params_are_sent_well_formed_or_refused(
    client: HttpClient, method: Any, hdrs: Any, query: Any
) -> None:
    sent = send(client, method, "http://api.test/path", headers=hdrs, params=query)
    if isinstance(sent, Response):
        assert sent.request.method == method.upper()
    else:
        assert isinstance(sent, kclient.InvalidRequestError), repr(sent)


@pytest.mark.reliability("Hostile input: methods and headers")
@FEWER
@given(options=st.dictionaries(st.sampled_from(["json", "data", "files", "content", "timeout"]), hostile_values))
def test_body_and_timeout_options_work_or_raise_typed_errors(client: HttpClient, options: dict[str, Any]) -> None:
    sent = send(client, "POST", "http://api.test/upload", **options)
    assert isinstance(sent, (Response, kclient.InvalidRequestError)), repr(sent)


# -- configuration ----------------------------------------------------------------------------


def _engine_settings() -> list[tuple[str, str]]:
    return [
        (info.name, setting.name)
        for info in registry()
        if info.available
        for setting in describe_settings(info.load().config_class)
    ]


def _plugins() -> list[type[kclient.Plugin]]:
    from kclient.plugins.auth import Auth
    from kclient.plugins.content import ContentNegotiation
    from kclient.plugins.cookies import HttpCookies
    from kclient.plugins.logs import Logging
    from kclient.plugins.progress import BodyProgress
    from kclient.plugins.retry import HttpRequestRetry

    return [
        kclient.DefaultRequest,
        kclient.HttpRedirect,
        kclient.HttpTimeout,
        kclient.UserAgent,
        kclient.HttpCallValidator,
        Auth,
        HttpCookies,
        Logging,
        ContentNegotiation,
        BodyProgress,
        HttpRequestRetry,
    ]


def _nested(name: str, value: Any) -> dict[str, Any]:
    head, _, rest = name.partition(".")
    return {head: _nested(rest, value) if rest else value}


@pytest.mark.reliability("Hostile input: settings and plugin options")
@FEWER
@given(target=st.sampled_from(_engine_settings()), value=hostile_values, how=st.sampled_from(["engine=", "configure"]))
def test_engine_settings_are_accepted_or_refused_with_config_error(
    target: tuple[str, str], value: Any, how: str
) -> None:
    engine, name = target
    settings_ = _nested(name, value)
    try:
        if how == "engine=":
            made = HttpClient(engine, engine_config=settings_)
        else:
            made = HttpClient(engine, lambda c: c.engine_config(**settings_))
    except KClientError as error:
        assert isinstance(error, kclient.ConfigError), repr(error)
        str(error)
        outcome(type(error).__name__)
        return
    outcome("accepted")
    with made:
        repr(made), repr(made.engine)


@pytest.mark.reliability("Hostile input: settings and plugin options")
@FEWER
@given(plugin=st.sampled_from(_plugins()), data=st.data())
def test_plugin_options_are_accepted_or_refused_with_config_error(
    client: HttpClient, plugin: type[kclient.Plugin], data: st.DataObject
) -> None:
    names = [info.name for info in describe_settings(plugin.config_class)]
    options = data.draw(st.dictionaries(st.sampled_from([*names, "no_such_option"]), hostile_values, max_size=3))
    try:
        made = HttpClient(Mock(checked_echo), lambda c: c.install(plugin, **options))
    except KClientError as error:
        assert isinstance(error, kclient.ConfigError), repr(error)
        str(error)
        outcome(type(error).__name__)
        return
    with made:
        repr(made)
        sent = send(made, "GET", "http://api.test/", timeout=5)
        # A plugin configured with odd but accepted values still answers or fails typed.
        assert isinstance(sent, (Response, KClientError))


@pytest.mark.reliability("Hostile input: settings and plugin options")
@FEWER
@given(value=hostile_values)
def test_expect_success_takes_a_bool_or_raises_config_error(value: Any) -> None:
    def configure(c: kclient.HttpClientConfig) -> None:
        c.expect_success = value

    try:
        made = HttpClient(Mock(checked_echo), configure)
    except KClientError as error:
        assert isinstance(error, kclient.ConfigError), repr(error)
        outcome(type(error).__name__)
        return
    outcome("accepted")
    made.close()


# -- the magics' parsers ----------------------------------------------------------------------

FILES = {"body.json": b'{"a": 1}', "text.txt": "héllo {{name}}\r\n".encode(), "bin.dat": bytes(range(256))}


def fake_read(path: str) -> bytes:
    """The files the parsers may read; any other path does not exist."""
    try:
        return FILES[path.removeprefix("./")]
    except KeyError:
        raise FileNotFoundError(2, "No such file or directory", path) from None


def parse_or_magic_error(parse: Callable[[], T]) -> T | None:
    """``parse()``, or None when it raised the magics' documented error type."""
    try:
        parsed = parse()
    except KClientMagicError as error:
        str(error)
        outcome(type(error).__name__)
        return None
    except Exception as error:
        outcome(f"crash: {type(error).__name__}")
        raise
    outcome("parsed")
    return parsed


class Broken:
    """A notebook value whose attributes raise."""

    @property
    def json(self) -> Any:
        raise RuntimeError("boom")


NAMESPACE: dict[str, Any] = {
    "name": "ada",
    "token": "t0ken",
    "n": 3,
    "flag": True,
    "nothing": None,
    "items": [1, {"id": "x"}],
    "data": {"a key": {"b": [1, 2]}},
    "raw": b"\xff\xfe",
    "broken": Broken(),
    "crlf": "a\r\nX-Injected: 1",
}

http_pieces = st.one_of(
    salted,
    st.sampled_from(
        [
            "GET ",
            "POST ",
            "get ",
            "M-SEARCH ",
            "http://api.test/",
            ":8000/x",
            "/relative",
            " HTTP/1.1",
            " HTTP/2",
            "\n",
            "\r\n",
            "\n\n",
            "###",
            "### title\n",
            "# @name ",
            "// @name=",
            "# @no-redirect\n",
            "@v = ",
            "@api = http://api.test\n",
            "{{",
            "}}",
            "{{name}}",
            "{{ token }}",
            "{{crlf}}",
            "{{items[1].id}}",
            "{{items[9]}}",
            "{{data['a key'].b[-1]}}",
            "{{broken.json}}",
            "{{raw}}",
            "{{nothing}}",
            "{{$uuid}}",
            "{{$nope}}",
            "{{missing}}",
            "{{a(1)}}",
            "\\{{",
            "{{{name}}}",
            "Content-Type: application/json\n",
            "Content-Type: application/x-www-form-urlencoded\n",
            "Host: api.test\n",
            "X-Bad Name: 1\n",
            ": empty\n",
            "    ?q=1\n",
            "    &r=2\n",
            "< ./body.json\n",
            "<@ ./text.txt\n",
            "< ./missing.bin\n",
            "<> previous.json\n",
            "> {% client.test() %}\n",
            '{"a": {{n}}, "b": [1, 2]}',
            "a=1\n&b=2",
        ]
    ),
)
http_cells = st.one_of(st.lists(http_pieces, max_size=14).map("".join), anything)


@pytest.mark.reliability("Hostile input: magics")
@FUZZ
@given(cell=http_cells)
@example(cell="GET http://api.test/{{crlf}}\n")
@example(cell="GET http://api.test/\nX-A: {{crlf}}\n")
@example(cell="GET http://api.test/\nX-A: {{broken.json}}\n")
def test_http_cells_parse_render_and_send_or_raise_magic_errors(client: HttpClient, cell: str) -> None:
    templates = parse_or_magic_error(lambda: parse_http_templates(cell))
    if templates is None:
        return
    assert templates, "a cell that parses holds at least one request"
    for template in templates:
        spec = parse_or_magic_error(lambda: template.render(NAMESPACE, read_file=fake_read))
        if spec is not None:
            send_spec(client, spec)


item_pieces = st.one_of(
    salted,
    st.sampled_from(
        [
            "X-A:",
            "X-A;",
            "X-A:@",
            "q==",
            "q==@",
            "f=",
            "f=@",
            "n:=",
            "n:=@",
            "up@",
            "body.json",
            "text.txt",
            "bin.dat",
            "missing",
            "[]",
            "[0]",
            "[a]",
            "\\",
            "\\:",
            "1",
            "true",
            '{"a"',
            "\r\n",
            "\x00",
        ]
    ),
)
item_words = st.lists(item_pieces, min_size=1, max_size=4).map("".join)
line_words = st.builds(
    lambda method, url, items: [*method, url, *items],
    st.one_of(st.just([]), st.sampled_from([["GET"], ["POST"], ["M-SEARCH"], ["get"], ["PUT"]])),
    st.one_of(urls, st.sampled_from([":8000/x", ":", ":/", "api.test", "://api.test/x", "localhost:99999"])),
    st.lists(item_words, max_size=5),
)


@pytest.mark.reliability("Hostile input: magics")
@FUZZ
@given(words=st.one_of(line_words, st.lists(anything, max_size=4)), form=st.booleans())
@example(words=["http://api.test/", "X-A:a\r\nX-Injected: 1"], form=False)
@example(words=["http://api.test/", "n:=1e999999"], form=False)
@example(words=["http://api.test/", "[0]:=1", "a=1"], form=False)
def test_httpie_items_parse_and_send_or_raise_magic_errors(client: HttpClient, words: list[str], form: bool) -> None:
    spec = parse_or_magic_error(lambda: parse_line_request(words, read_file=fake_read, form=form))
    if spec is not None:
        send_spec(client, spec)


curl_pieces = st.one_of(
    salted,
    st.sampled_from(
        [
            "curl ",
            "http://api.test/x ",
            "'http://api.test/?token=a b' ",
            "-X ",
            "--request ",
            "PATCH ",
            "-H ",
            "'X-A: 1' ",
            "$'X-A: a\\r\\nX-Injected: 1' ",
            "'Cookie: a=b' ",
            "-d ",
            "--data-raw ",
            "--data-binary ",
            "--data-urlencode ",
            "--json ",
            "-F ",
            "'f=@body.json;type=text/plain' ",
            "@body.json ",
            "@missing ",
            "-u ",
            "user:pw ",
            "-G ",
            "-I ",
            "-T ",
            "-b ",
            "-A ",
            "-e ",
            "--oauth2-bearer ",
            "--compressed ",
            "-sSL ",
            "--no-such-option ",
            "-- ",
            "\\\n",
            "'",
            '"',
            "$'\\x00' ",
            "$'\\u12' ",
            "`id` ",
            "$(id) ",
            "a=b&c ",
        ]
    ),
)
curl_commands = st.one_of(st.lists(curl_pieces, max_size=10).map("".join), anything)


@pytest.mark.reliability("Hostile input: magics")
@FUZZ
@given(command=curl_commands)
@example(command="curl -H $'X-A: a\\r\\nX-Injected: 1' http://api.test/")
@example(command="curl http://api.test/ -d @missing")
def test_curl_commands_parse_and_send_or_raise_magic_errors(client: HttpClient, command: str) -> None:
    spec = parse_or_magic_error(lambda: parse_curl(command, read_file=fake_read))
    if spec is not None:
        send_spec(client, spec)


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "kclient")
    ip.user_ns["t_hostile_client"] = HttpClient(Mock(checked_echo))
    ip.run_line_magic("kclient", "use t_hostile_client")
    try:
        yield ip
    finally:
        ip.run_line_magic("unload_ext", "kclient")
        ip.user_ns.pop("t_hostile_client").close()


@pytest.mark.reliability("Hostile input: magics")
@FEWER
@given(line=st.one_of(st.lists(st.one_of(curl_pieces, item_pieces, urls), max_size=6).map(" ".join), anything))
@example(line="http://api.test/ up@a\x00b")  # open() raised ValueError (embedded null byte) out of the magic
@example(line="curl http://api.test/ -d @a\x00b")
@example(line="run a\x00b.http")  # a subcommand, but one that only reads: ValueError out of %kclient run
@example(line="curl 'http://api.test/")
@example(line="--timeout nan http://api.test/")
@example(line="--timeout -1 http://api.test/")
@example(line="-e '$..' http://api.test/")
def test_kclient_line_magic_works_or_raises_a_usage_error(shell: InteractiveShell, line: str) -> None:
    """The ``%kclient`` line as typed (options, HTTPie items or curl), in a real IPython shell.

    Subcommands are left out: they act on the kernel client (``close``, ``use``...) or on files.
    """
    words = line.split()
    if words and words[0] in SUBCOMMANDS and not line.startswith("run a\x00b"):
        return
    try:
        shell.run_line_magic("kclient", line)
    except UsageError as error:  # KClientMagicError and IPython's own usage errors
        str(error)
        outcome(type(error).__name__)
    else:
        outcome("ran")
