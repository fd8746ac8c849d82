"""kclient's ipywidgets, driven from Python with a recording comm instead of a front end.

Every widget's comm records the state updates sent to the front end, so the tests assert
what a browser would have been told, in order: the lifecycle badge going ACTIVE -> CLOSING
-> CLOSED while requests are in flight, the counts, the errors beside the fields. Async
tests run on asyncio (widget callbacks run in the kernel's asyncio loop); handlers of the
Mock engine wait on an ``asyncio.Event`` to keep requests in flight.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint, distribution
from types import SimpleNamespace
from typing import Any, ClassVar, Literal

import ipywidgets
import pytest
from headless import recording_comms
from kclient.magics._kernel_client import KernelClient
from kclient.magics._spec import NO_JSON, RequestSpec
from kclient.magics._widgets import (
    ComposeError,
    ConfigForm,
    EnginePicker,
    LifecyclePanel,
    RequestComposer,
    ResponseViewer,
    Workbench,
    badge_html,
    parse_body,
    parse_headers,
    setting_named,
    workbench_for_magics,
)

import kclient
from kclient import ClientState, Engine, EngineConfig, EngineRegistry, HttpClient, ProxyConfig, Request, respond
from kclient._settings import setting

SECRET = "s3cr3t-t0ken-value"


# -- a recording comm --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with recording_comms(monkeypatch):
        yield


@pytest.fixture
def anyio_backend() -> str:
    """Widget callbacks run in the kernel's asyncio loop: asyncio only."""
    return "asyncio"


def sent(widget: Any, name: str = "value") -> list[Any]:
    """The values of ``name`` sent to the front end, in order."""
    return [
        message["state"][name]
        for message in widget.comm.messages
        if message.get("method") == "update" and name in message["state"]
    ]


def badge_states(panel: LifecyclePanel) -> list[str]:
    """The state names the badge showed, in order (the text of its span)."""
    return [value.rsplit('">', 1)[1].removesuffix("</span>") for value in sent(panel.badge)]


def counts(panel: LifecyclePanel) -> list[str]:
    return [html.unescape(value.split(">", 1)[1].removesuffix("</span>")) for value in sent(panel.counts)]


def text(widget: Any) -> str:
    """A widget's HTML value as text: tags dropped, entities resolved, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", widget.value)).split())


async def settle(turns: int = 20) -> None:
    """Let the loop run scheduled tasks and callbacks."""
    for _ in range(turns):
        await asyncio.sleep(0)


async def finish(*clients: HttpClient) -> None:
    for client in clients:
        client.close()
        await client.join()


class Gate:
    """Mock handlers that wait until ``open()``: requests stay in flight until then."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.seen: list[Request] = []

    async def handler(self, request: Request) -> Any:
        self.seen.append(request)
        await self.event.wait()
        return respond({"ok": True})

    def open(self) -> None:
        self.event.set()


def mock_client(*handlers: Any, **settings: Any) -> HttpClient:
    return HttpClient("Mock", engine_config={"handlers": handlers, **settings})


def composer_for(client: HttpClient, url: str = "http://api.test/items", **fields: Any) -> RequestComposer:
    composer = RequestComposer(client)
    composer.url.value = url
    for name, value in fields.items():
        getattr(composer, name).value = value
    return composer


# -- parsing the composer's fields -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", []),
        ("Accept: application/json", [("Accept", "application/json")]),
        ("X-A:1\n\n  # a comment\nX-B:  two words ", [("X-A", "1"), ("X-B", "two words")]),
        ("Authorization: Bearer a:b", [("Authorization", "Bearer a:b")]),
        ("X-Empty:", [("X-Empty", "")]),
    ],
)
def test_parse_headers(typed: str, expected: list[tuple[str, str]]) -> None:
    assert parse_headers(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Accept application/json", "Headers, line 1: expected Name: value, not 'Accept application/json'."),
        ("X-A: 1\nbad name: 2", "Headers, line 2: expected Name: value, not 'bad name: 2'."),
        (": no name", "Headers, line 1: expected Name: value, not ': no name'."),
    ],
)
def test_parse_headers_errors_name_the_line(typed: str, message: str) -> None:
    with pytest.raises(ComposeError) as caught:
        parse_headers(typed)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("typed", "kind", "field", "expected"),
    [
        ('{"a": [1, 2]}', "JSON", "json", {"a": [1, 2]}),
        ("null", "JSON", "json", None),
        ("  \n ", "JSON", "json", NO_JSON),
        ("a=1\nb = two\na=3", "form", "form", {"a": ["1", "3"], "b": "two"}),
        ("x=", "form", "form", {"x": ""}),
        ("{not json}", "raw", "content", b"{not json}"),
        ("", "raw", "content", None),
    ],
)
def test_parse_body(typed: str, kind: str, field: str, expected: Any) -> None:
    spec = RequestSpec("POST", "http://x")
    parse_body(typed, kind, spec)
    assert getattr(spec, field) == expected


TRAILING_COMMA = '{"a": 1,}'


def _json_error(text: str) -> str:
    """This Python's json error for ``text``, with its place (3.13 words and places a trailing comma its own way)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    raise AssertionError(f"{text!r} is valid JSON")


@pytest.mark.parametrize(
    ("typed", "kind", "message"),
    [
        (
            TRAILING_COMMA,
            "JSON",
            "The body is not valid JSON: " + _json_error(TRAILING_COMMA) + ". Choose form or raw for other bodies.",
        ),
        ("a=1\nnot a field", "form", "Form body, line 2: expected name=value, not 'not a field'."),
        ("=1", "form", "Form body, line 1: expected name=value, not '=1'."),
        ("x", "yaml", "The body kind is one of JSON, form, raw, not 'yaml'."),
    ],
)
def test_parse_body_errors(typed: str, kind: str, message: str) -> None:
    with pytest.raises(ComposeError) as caught:
        parse_body(typed, kind, RequestSpec("POST", "http://x"))
    assert str(caught.value) == message


# -- which field a ConfigError is about --------------------------------------------------------------

NAMES = ["max_connections", "endpoint.max_connections_per_route", "endpoint.connect_timeout", "proxy", "pipelining"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Unknown setting 'max_conections' for engine CIO. Did you mean max_connections? "
            "Valid settings: endpoint.connect_timeout, max_connections, pipelining, proxy.",
            "max_connections",
        ),
        ("Unknown setting 'foo' for engine CIO. Valid settings: max_connections, proxy.", None),
        (
            "Setting endpoint.max_connections_per_route of engine CIO must be at least 1, not 0.",
            "endpoint.max_connections_per_route",
        ),
        ("Setting max_connections of engine CIO must be at least 1, not 0.", "max_connections"),
        (
            "Setting endpoint.connect_timeout of engine CIO must be between 0.001 and 3600, not 0.",
            "endpoint.connect_timeout",
        ),
        ("Engine Mock cannot do pipelining=True; engines that can: CIO.", "pipelining"),
        ("Setting proxy of engine CIO: not a proxy URL.", "proxy"),
        ("Invalid settings for engine CIO: something else.", None),
    ],
)
def test_setting_named(message: str, expected: str | None) -> None:
    assert setting_named(message, NAMES) == expected


# -- the settings form -------------------------------------------------------------------------------


def _ignore(request: Request) -> Any:
    return respond()


@dataclasses.dataclass(frozen=True, kw_only=True)
class KindsConfig(EngineConfig):
    count: int = setting(3, "A bounded integer.", minimum=1, maximum=9)
    ratio: float = setting(0.5, "A number.", minimum=0.0)
    limit: int | None = setting(None, "An integer or None.", minimum=1)
    flag: bool = setting(True, "A switch.")
    maybe: bool | None = setting(None, "True, False or None.")
    mode: Literal["fast", "safe"] = setting("safe", "A choice.")
    label: str = setting("x", "Text.")
    path: str | None = setting(None, "Text or None.")
    callbacks: tuple[Any, ...] = setting((), "Functions: not for a form.")


class KindsEngine(Engine):
    name: ClassVar[str] = "Kinds"
    config_class: ClassVar[type[EngineConfig]] = KindsConfig

    async def send(self, request: Request) -> Any:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize(
    ("name", "widget", "bounds"),
    [
        ("count", "BoundedIntText", (1, 9)),
        ("ratio", "BoundedFloatText", None),
        ("limit", "Text", None),
        ("flag", "Checkbox", None),
        ("maybe", "Dropdown", None),
        ("mode", "Dropdown", None),
        ("label", "Text", None),
        ("path", "Text", None),
        ("thread_count", "Text", None),
        ("pipelining", "Checkbox", None),
        ("proxy", "Text", None),
    ],
)
def test_form_has_one_widget_per_setting_by_type(name: str, widget: str, bounds: tuple[int, int] | None) -> None:
    form = ConfigForm(KindsEngine)
    control = form.fields[name].control
    assert type(control).__name__ == widget
    if bounds is not None:
        assert (control.min, control.max) == bounds
    assert form.fields[name].row.children[0].value == name  # its label


def test_form_lists_settings_it_cannot_hold() -> None:
    form = ConfigForm(KindsEngine)
    assert [info.name for info in form.skipped] == ["callbacks"]
    assert "not editable here: callbacks" in "".join(child.value for child in form.children if hasattr(child, "value"))
    mock_form = ConfigForm(kclient.engines.registry().get("Mock"))
    assert [info.name for info in mock_form.skipped] == ["handlers"]


def test_form_choices_and_defaults() -> None:
    form = ConfigForm(KindsEngine)
    assert form.fields["mode"].control.options == (("fast", "fast"), ("safe", "safe"))
    assert form.fields["mode"].control.value == "safe"
    assert [label for label, _ in form.fields["maybe"].control.options] == ["True", "False", "None"]
    assert form.fields["maybe"].value() is None
    assert form.fields["limit"].control.placeholder == "empty: None, or an integer, at least 1"
    assert form.changed_settings() == {}


def test_form_sends_changed_settings_only() -> None:
    form = ConfigForm(KindsEngine)
    form.fields["count"].control.value = 5
    form.fields["limit"].control.value = " 1_000 "
    form.fields["maybe"].control.value = False
    form.fields["mode"].control.value = "fast"
    form.fields["path"].control.value = "/tmp/x"
    form.fields["proxy"].control.value = ""
    assert form.changed_settings() == {"count": 5, "limit": 1000, "maybe": False, "mode": "fast", "path": "/tmp/x"}


def test_create_client_builds_the_chosen_engine_with_the_changes() -> None:
    form = ConfigForm(kclient.engines.registry().get("CIO"))
    created: list[HttpClient] = []
    form.on_client(created.append)
    form.fields["max_connections"].control.value = 7
    form.fields["endpoint.connect_timeout"].control.value = "2.5"
    form.create_button.click()
    client = form.client
    assert client is not None and created == [client]
    try:
        assert client.engine.name == "CIO"
        assert client.engine.config.max_connections == 7
        assert client.engine.config.endpoint.connect_timeout == 2.5
        assert client.engine.config.endpoint.keep_alive_time == 5.0  # untouched
        assert "created" in text(form.message) and "max_connections=7" in text(form.message)
    finally:
        client.close()
        kclient.run(client.join())


def test_config_error_appears_beside_the_field_it_names() -> None:
    form = ConfigForm(kclient.engines.registry().get("CIO"))
    assert form.create_client(max_conections=5) is None
    beside = sent(form.fields["max_connections"].error)
    assert len(beside) == 1
    assert "Unknown setting 'max_conections'" in html.unescape(beside[0])
    assert "Did you mean max_connections?" in html.unescape(beside[0])
    assert form.errors.messages == []
    assert all(field.error.value == "" for name, field in form.fields.items() if name != "max_connections")
    assert form.client is None


def test_range_error_of_a_typed_number_appears_beside_it() -> None:
    form = ConfigForm(kclient.engines.registry().get("CIO"))
    form.fields["request_timeout"].control.value = "0"
    form.create_button.click()
    assert (
        text(form.fields["request_timeout"].error)
        == "Setting request_timeout of engine CIO must be between 0.001 and 86400.0, not 0.0."
    )
    assert form.client is None


def test_text_that_is_not_a_number_is_marked_before_anything_is_built() -> None:
    form = ConfigForm(kclient.engines.registry().get("CIO"))
    form.fields["endpoint.connect_timeout"].control.value = "soon"
    form.create_button.click()
    assert text(form.fields["endpoint.connect_timeout"].error) == (
        "endpoint.connect_timeout must be a number between 0.001 and 3600.0, or empty for None; not 'soon'."
    )
    assert form.errors.messages == ["Fix the settings marked above: endpoint.connect_timeout."]
    assert form.client is None


def test_an_error_of_no_field_goes_to_the_general_line() -> None:
    form = ConfigForm(kclient.engines.registry().get("Mock"))
    assert form.create_client(handlers=[42]) is None  # handlers is not in the form
    assert len(form.errors.messages) == 1
    assert "handlers" in form.errors.messages[0]
    assert "handlers" in text(form.errors.widget)


def test_capability_error_appears_beside_its_field() -> None:
    form = ConfigForm(kclient.engines.registry().get("Mock"))
    form.fields["pipelining"].control.value = True
    form.create_button.click()
    assert "pipelining" in text(form.fields["pipelining"].error)
    assert form.client is None


def test_a_new_attempt_clears_the_old_errors() -> None:
    form = ConfigForm(kclient.engines.registry().get("Mock"))
    form.fields["pipelining"].control.value = True
    form.create_button.click()
    form.fields["pipelining"].control.value = False
    form.create_button.click()
    assert form.fields["pipelining"].error.value == ""
    assert form.client is not None
    form.client.close()
    kclient.run(form.client.join())


# -- the engine picker -------------------------------------------------------------------------------


def registry_with_a_missing_engine() -> EngineRegistry:
    dist = distribution("kclient")
    ghost = EntryPoint("Ghost", "kclient_no_such_module_here:Ghost [ghost]", "kclient.engines")._for(dist)
    mock = EntryPoint("Mock", "kclient.engines.mock:Mock", "kclient.engines")._for(dist)
    return EngineRegistry([ghost, mock])


def test_picker_labels_missing_engines_with_their_install_line() -> None:
    picker = EnginePicker(registry_with_a_missing_engine())
    assert [label for label, _ in picker.dropdown.options] == ["Ghost (missing: pip install 'kclient[ghost]')", "Mock"]
    assert picker.value == "Mock"  # the only available one
    assert picker.note.value == ""
    picked: list[str] = []
    picker.on_pick(lambda info: picked.append(info.name))
    picker.value = "ghost"
    assert picked == ["Ghost"]
    assert picker.missing == "pip install 'kclient[ghost]'"
    assert text(picker.note) == "Ghost is not installed: pip install 'kclient[ghost]'"


def test_picker_starts_on_the_default_engine() -> None:
    picker = EnginePicker()
    assert picker.value == kclient.engines.registry().default().name


@pytest.mark.anyio
async def test_choosing_a_missing_engine_shows_the_install_line_instead_of_a_form() -> None:
    bench = Workbench(registry=registry_with_a_missing_engine(), engine="Mock")
    assert isinstance(bench.form, ConfigForm)
    assert bench.picker.children == (bench.picker.dropdown,)  # the line is said once, in the settings area
    bench.picker.value = "Ghost"
    assert bench.form is None
    [note] = bench.settings_area.children
    assert text(note) == "Ghost is not installed: pip install 'kclient[ghost]'"
    bench.composer.url.value = "http://api.test/"
    bench.composer.send_button.click()
    assert bench.composer.errors.messages == ["Engine Ghost is not installed: pip install 'kclient[ghost]'."]
    assert bench.client is None
    bench.picker.value = "Mock"
    assert isinstance(bench.form, ConfigForm) and bench.settings_area.children == (bench.form,)


# -- the lifecycle panel -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_badge_goes_active_closing_closed_while_requests_are_in_flight() -> None:
    gate = Gate()
    client = mock_client(gate.handler)
    panel = LifecyclePanel(client)
    composer = composer_for(client, concurrent=3)
    try:
        composer.send_button.click()
        await settle()
        assert len(gate.seen) == 3
        assert client.state is ClientState.ACTIVE
        assert counts(panel)[-1] == "in flight 3 · completed 0 · failed 0"

        panel.close_button.click()
        assert badge_states(panel) == ["ACTIVE", "CLOSING"]
        assert panel.close_button.disabled

        gate.open()
        await settle()
        await client.join()
        assert badge_states(panel) == ["ACTIVE", "CLOSING", "CLOSED"]
        assert counts(panel) == [
            "in flight 0 · completed 0 · failed 0",
            "in flight 1 · completed 0 · failed 0",
            "in flight 2 · completed 0 · failed 0",
            "in flight 3 · completed 0 · failed 0",
            "in flight 2 · completed 1 · failed 0",
            "in flight 1 · completed 2 · failed 0",
            "in flight 0 · completed 3 · failed 0",
        ]
        assert composer.errors.messages == []
        assert text(composer.status) == "sent 3 · ok 3 · errors 0"
        assert panel.cancel_button.disabled and not panel.join_button.disabled
    finally:
        await finish(client)


@pytest.mark.anyio
async def test_badge_shows_exactly_the_state_name_in_a_stable_element() -> None:
    client = mock_client(_ignore)
    panel = LifecyclePanel(client)
    try:
        assert panel.badge.value.startswith('<span class="kclient-state kclient-state-ACTIVE" ')
        assert panel.badge.value.endswith(">ACTIVE</span>")
        for state in ClientState:
            assert badge_html(state).endswith(f">{state.name}</span>")
            assert f'class="kclient-state kclient-state-{state.name}"' in badge_html(state)
    finally:
        await finish(client)


@pytest.mark.anyio
async def test_the_state_view_shows_the_same_badge_as_the_panel() -> None:
    from kclient.magics._views import StatusView

    client = mock_client(_ignore)
    try:
        assert badge_html(ClientState.ACTIVE) in StatusView(client)._repr_mimebundle_()["text/html"]
        client.close()
        await client.join()
        assert badge_html(ClientState.CLOSED) in StatusView(client)._repr_mimebundle_()["text/html"]
    finally:
        await finish(client)


@pytest.mark.anyio
async def test_cancel_shows_cancelled_at_once_and_the_in_flight_requests_fail() -> None:
    gate = Gate()
    client = mock_client(gate.handler)
    panel = LifecyclePanel(client)
    composer = composer_for(client, concurrent=3)
    try:
        composer.send_button.click()
        await settle()
        panel.cancel_button.click()
        assert badge_states(panel) == ["ACTIVE", "CANCELLED"]  # before the loop ran again
        await settle()
        assert counts(panel)[-1] == "in flight 0 · completed 0 · failed 3"
        assert text(composer.status) == "sent 3 · ok 0 · errors 3"
        [shown] = composer.errors.messages[:1]
        assert shown.startswith("GET http://api.test/items failed: ClientCancelledError:")
        assert text(composer.errors.widget).startswith("3x GET http://api.test/items failed: ClientCancelledError")
        assert panel.close_button.disabled and panel.cancel_button.disabled

        task = panel.join()
        assert task is not None
        await task
        assert text(panel.message) == "joined"
        assert badge_states(panel) == ["ACTIVE", "CANCELLED"]
    finally:
        await finish(client)


@pytest.mark.anyio
async def test_join_waits_for_close_and_then_says_joined() -> None:
    gate = Gate()
    client = mock_client(gate.handler)
    panel = LifecyclePanel(client)
    composer = composer_for(client)
    try:
        composer.send_button.click()
        await settle()
        panel.join_button.click()
        await settle()
        assert text(panel.message) == "joining… (waits for Close or Cancel)"
        panel.close_button.click()
        await settle()
        assert text(panel.message) == "joining… (waits for Close or Cancel)"  # a request is still in flight
        gate.open()
        await settle(40)
        assert text(panel.message) == "joined"
        assert sent(panel.message)[-1] == '<span class="kclient-joined">joined</span>'
        assert badge_states(panel)[-1] == "CLOSED"
    finally:
        await finish(client)


@pytest.mark.anyio
async def test_panel_unsubscribes_when_its_client_is_replaced_or_it_is_closed() -> None:
    first, second = mock_client(_ignore), mock_client(_ignore)
    panel = LifecyclePanel(first)
    try:
        panel.client = second
        first.close()
        await first.join()
        assert badge_states(panel) == ["ACTIVE"]  # first's CLOSING/CLOSED were not shown
        assert "HttpClient" in text(panel.title) and "Mock" in text(panel.title)
        panel.close()
        second.cancel()
        assert panel.badge.value.endswith(">ACTIVE</span>")
    finally:
        await finish(first, second)


def test_panel_without_a_client_says_so() -> None:
    panel = LifecyclePanel()
    assert text(panel.badge) == "no client"
    assert panel.close_button.disabled and panel.join_button.disabled and panel.cancel_button.disabled
    panel.close_button.click()  # disabled in a browser; from code it says what is missing
    assert text(panel.message) == "No client yet: create one (Create client) or send a request."


def test_join_without_a_running_loop() -> None:
    client = mock_client(_ignore)
    panel = LifecyclePanel(client)
    panel.join_button.click()
    assert text(panel.message) == "Join waits until the client is closed: press Close or Cancel first."
    panel.close_button.click()
    panel.join_button.click()
    assert text(panel.message) == "joined"
    assert client.state is ClientState.CLOSED


# -- the composer's errors ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_bad_json_body_is_shown_not_raised_and_nothing_is_sent() -> None:
    client = mock_client(_ignore)
    composer = composer_for(client, method="POST", body='{"name": ')
    try:
        composer.send_button.click()
        await settle()
        assert composer.errors.messages == [
            "The body is not valid JSON: Expecting value at line 1, column 10. Choose form or raw for other bodies."
        ]
        assert "The body is not valid JSON" in text(composer.errors.widget)
        assert client.status().completed == client.status().failed == 0
        composer.body.value = '{"name": "x"}'
        composer.send_button.click()
        await settle()
        assert composer.errors.messages == []  # a new Send starts afresh
        assert client.status().completed == 1
    finally:
        await finish(client)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "  "}, "Enter a URL, such as https://example.org/get or :8000/path."),
        ({"headers": "X-Ok: 1\nnope"}, "Headers, line 2: expected Name: value, not 'nope'."),
        ({"body_kind": "form", "body": "a"}, "Form body, line 1: expected name=value, not 'a'."),
    ],
)
def test_field_errors_are_shown(fields: dict[str, Any], message: str) -> None:
    client = mock_client(_ignore)
    composer = composer_for(client, **fields)
    assert composer.send() == []
    assert composer.errors.messages == [message]
    assert client.status().completed == 0
    client.close()
    kclient.run(client.join())


@pytest.mark.anyio
async def test_a_failing_request_is_shown_in_the_error_area() -> None:
    client = HttpClient("Mock", engine_config={"reuse_handlers": False})  # no handler answers
    panel = LifecyclePanel(client)
    composer = composer_for(client, url="http://user:pw@api.test/x?token=abc")
    try:
        tasks = composer.send()
        await asyncio.gather(*tasks)  # the tasks end normally: the error was taken care of
        [message] = composer.errors.messages
        assert message.startswith("GET http://user:***@api.test/x?token=*** failed: UnhandledRequestError:")
        assert "pw" not in text(composer.errors.widget) and "abc" not in text(composer.errors.widget)
        assert text(composer.status) == "sent 1 · ok 0 · errors 1"
        assert counts(panel)[-1] == "in flight 0 · completed 0 · failed 1"
    finally:
        await finish(client)


@pytest.mark.anyio
async def test_a_request_to_a_closed_client_is_shown() -> None:
    client = mock_client(_ignore)
    composer = composer_for(client)
    client.close()
    await client.join()
    await asyncio.gather(*composer.send())
    [message] = composer.errors.messages
    assert "ClientClosedError" in message and "CLOSED" in message


@pytest.mark.anyio
async def test_an_error_of_a_response_callback_is_shown() -> None:
    client = mock_client(_ignore)

    def broken(response: Any) -> None:
        raise RuntimeError("viewer broke")

    composer = RequestComposer(client, on_response=broken)
    composer.url.value = "http://api.test/"
    try:
        await asyncio.gather(*composer.send())
        assert composer.errors.messages == ["Showing the response failed: RuntimeError: viewer broke"]
    finally:
        await finish(client)


@pytest.mark.anyio
async def test_send_schedules_tasks_and_returns_at_once() -> None:
    gate = Gate()
    client = mock_client(gate.handler)
    composer = composer_for(client, concurrent=4)
    try:
        tasks = composer.send()
        assert len(tasks) == 4 and composer.tasks == frozenset(tasks)
        assert not any(task.done() for task in tasks)
        gate.open()
        await asyncio.gather(*tasks)
        assert composer.tasks == frozenset()
    finally:
        await finish(client)


@pytest.mark.anyio
async def test_a_send_passes_on_its_first_response_at_once_and_its_last_at_the_end() -> None:
    gate = asyncio.Event()
    numbers = iter(range(1, 100))

    async def numbered(request: Request) -> Any:
        number = next(numbers)
        if number > 1:
            await gate.wait()
        return respond({"n": number})

    client = mock_client(numbered)
    shown: list[int] = []
    composer = RequestComposer(client, on_response=lambda response: shown.append(response.json()["n"]))
    composer.url.value = "http://api.test/"
    composer.concurrent.value = 4
    try:
        tasks = composer.send()
        await settle()
        assert shown == [1]  # the first, at once
        gate.set()
        await asyncio.gather(*tasks)
        assert shown == [1, 4]  # then only the last one of the Send
        composer.concurrent.value = 1
        await asyncio.gather(*composer.send())
        assert shown == [1, 4, 5]
    finally:
        await finish(client)


def test_send_without_a_running_loop_runs_through_kclient_run() -> None:
    client = mock_client(lambda request: respond({"method": request.method, "body": request.content.decode()}))
    viewer = ResponseViewer()
    composer = RequestComposer(client, on_response=viewer.show)
    composer.url.value = ":8000/things"
    composer.method.value = "PUT"
    composer.body_kind.value = "form"
    composer.body.value = "a=1\nb=2"
    composer.concurrent.value = 2
    assert composer.send() == []
    assert text(composer.status) == "sent 2 · ok 2 · errors 0"
    assert viewer.response is not None
    assert viewer.response.json() == {"method": "PUT", "body": "a=1&b=2"}
    assert str(viewer.response.url) == "http://localhost:8000/things"
    client.close()
    kclient.run(client.join())


def test_concurrent_is_bounded() -> None:
    composer = RequestComposer()
    assert (composer.concurrent.min, composer.concurrent.max) == (1, 500)
    assert composer.send() == []
    assert composer.errors.messages == ["Enter a URL, such as https://example.org/get or :8000/path."]
    composer.url.value = "http://x"
    composer.send()
    assert composer.errors.messages == ["No client to send with: create one first."]


# -- the response viewer -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_viewer_masks_authorization_and_shows_status_and_timing() -> None:
    def echo(request: Request) -> Any:
        return respond(
            {"seen": True},
            headers={"Authorization": request.headers["Authorization"], "Set-Cookie": f"sid={SECRET}; Path=/"},
        )

    client = mock_client(echo)
    viewer = ResponseViewer()
    composer = RequestComposer(client, on_response=viewer.show)
    composer.url.value = "http://api.test/me"
    composer.headers.value = f"Authorization: Bearer {SECRET}"
    try:
        await asyncio.gather(*composer.send())
        assert viewer.response is not None and viewer.response.status == 200
        shown = html.unescape(viewer.output.value)
        assert SECRET not in shown
        assert "Bearer ***" in shown and "sid=***; Path=/" in shown
        assert text(viewer.summary).startswith("200 OK · ")
        assert text(viewer.summary).endswith(" ms")
        viewer.show_request.value = True  # the request that was sent, masked as well
        shown = html.unescape(viewer.output.value)
        assert "GET http://api.test/me" in shown
        assert SECRET not in shown and shown.count("Bearer ***") == 2
        assert all(SECRET not in value for value in sent(viewer.output))
    finally:
        await finish(client)


def test_viewer_cuts_a_large_body_at_its_limit() -> None:
    client = mock_client(lambda request: respond("x" * 100_000))
    viewer = ResponseViewer(limit_bytes=1024, masked_headers=["X-Api-Key"])
    viewer.show(client.blocking.get("http://api.test/big"))
    assert "showing first 1 KiB of" in html.unescape(viewer.output.value)
    assert len(viewer.output.value) < 10_000
    viewer.clear()
    assert viewer.response is None and text(viewer.summary) == "no response yet"
    client.close()
    kclient.run(client.join())


# -- the workbench -----------------------------------------------------------------------------------


def buttons(widget: Any) -> list[str]:
    found = [widget.description] if isinstance(widget, ipywidgets.Button) else []
    for child in getattr(widget, "children", ()):
        found.extend(buttons(child))
    return found


@pytest.mark.anyio
async def test_workbench_parts_and_button_texts() -> None:
    client = mock_client(_ignore)
    bench = Workbench(client)
    try:
        assert bench.client is client
        assert bench.panel.client is client
        assert bench.picker.value == "Mock"
        assert isinstance(bench.form, ConfigForm) and isinstance(bench.composer, RequestComposer)
        assert isinstance(bench.viewer, ResponseViewer) and isinstance(bench.panel, LifecyclePanel)
        assert buttons(bench) == ["Create client", "Send", "Close", "Join", "Cancel"]
        bundle = bench._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
    finally:
        await finish(client)


@pytest.mark.anyio
async def test_workbench_sends_with_the_given_client_and_shows_the_response() -> None:
    client = mock_client(lambda request: respond({"hello": "world"}))
    bench = Workbench(client)
    bench.composer.url.value = "http://api.test/"
    try:
        await asyncio.gather(*bench.composer.send())
        assert bench.viewer.response is not None and bench.viewer.response.json() == {"hello": "world"}
        assert counts(bench.panel)[-1] == "in flight 0 · completed 1 · failed 0"
        bench.close()
        assert client.state is ClientState.ACTIVE  # closing the widget leaves the client open
        assert bench.comm is None and bench.composer.send_button.comm is None  # every part closed
        client.close()
        assert bench.panel.badge.value.endswith(">ACTIVE</span>")  # and no longer following the client
    finally:
        await finish(client)


@pytest.mark.anyio
async def test_workbench_creates_a_client_on_first_send_and_replaces_it_from_the_form() -> None:
    bench = Workbench(engine="Mock")
    assert bench.client is None and text(bench.panel.badge) == "no client"
    bench.composer.url.value = "http://api.test/"
    await asyncio.gather(*bench.composer.send())
    first = bench.client
    assert first is not None and first.engine.name == "Mock" and first.name == "workbench client"
    assert bench.panel.client is first and badge_states(bench.panel) == ["ACTIVE"]
    assert "UnhandledRequestError" in bench.composer.errors.messages[0]  # Mock without handlers

    assert bench.form is not None
    bench.form.fields["reuse_handlers"].control.value = False
    bench.form.create_button.click()
    second = bench.client
    assert second is not None and second is not first
    assert second.engine.config.reuse_handlers is False
    assert first.state is ClientState.CLOSING or first.state is ClientState.CLOSED  # made here: closed
    assert bench.panel.client is second
    await finish(first, second)


@pytest.mark.anyio
async def test_workbench_send_reports_a_form_error() -> None:
    bench = Workbench(engine="Mock")
    assert bench.form is not None
    bench.form.fields["pipelining"].control.value = True
    bench.composer.url.value = "http://api.test/"
    assert bench.composer.send() == []
    assert bench.composer.errors.messages == ["The client could not be created: see the settings above."]
    assert "pipelining" in text(bench.form.fields["pipelining"].error)
    assert bench.client is None


@pytest.mark.anyio
async def test_workbench_for_magics_uses_and_replaces_the_kernel_client() -> None:
    kernel = KernelClient(lambda: "Mock", lambda config: None)
    magics = SimpleNamespace(kernel=kernel, display_limit=2048, masked_headers=["X-Api-Key"])
    bench = workbench_for_magics(magics)
    first = kernel.get()
    assert bench.client is first and bench.panel.client is first
    assert bench.viewer.limit_bytes == 2048 and bench.viewer.masked_headers == frozenset({"x-api-key"})
    assert bench.form is not None
    bench.form.create_button.click()
    second = bench.client
    assert second is not None and second is not first
    assert kernel.current is second and second.name == "kernel client"  # the kernel client now
    assert first.state is not ClientState.ACTIVE  # closed by the kernel client's adopt
    bench.close()
    assert second.state is ClientState.ACTIVE  # the kernel's, not the widget's, to close
    await finish(first, second)


def test_workbench_for_the_real_magics() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "kclient")
    try:
        magics = shell.magics_manager.registry["KClientMagics"]
        magics.engine = "Mock"
        magics.masked_headers = ["X-Api-Key"]
        bench = workbench_for_magics(magics)
        assert bench.client is magics.kernel.get() and bench.client.engine.name == "Mock"
        assert bench.picker.value == "Mock"
        assert bench.viewer.masked_headers == frozenset({"x-api-key"})
        assert bench.viewer.limit_bytes == magics.display_limit
    finally:
        shell.run_line_magic("unload_ext", "kclient")  # closes and joins the kernel client


# -- the public shim ---------------------------------------------------------------------------------


def test_kclient_widgets_reexports_the_widgets() -> None:
    from kclient.magics import _stream_widgets, _widgets

    import kclient.widgets as public

    for name in public.__all__:
        home = _stream_widgets if name in ("EventViewer", "WebSocketConsole") else _widgets
        assert getattr(public, name) is getattr(home, name)
    assert set(public.__all__) <= set(dir(public))
    with pytest.raises(AttributeError):
        _ = public.NoSuchWidget


def test_import_kclient_does_not_import_ipywidgets() -> None:
    code = (
        "import sys, kclient, kclient.widgets\n"
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'\n"
        "from kclient.widgets import Workbench\n"
        "assert 'ipywidgets' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_kclient_widgets_without_ipywidgets_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['ipywidgets'] = None\n"
        "import kclient.widgets\n"
        "try:\n"
        "    kclient.widgets.Workbench\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, timeout=60, capture_output=True, text=True)
    assert done.stdout.strip() == (
        "kclient's widgets need ipywidgets 8 (ipywidgets is missing): pip install 'kclient[jupyter]'"
    )


def test_proxy_setting_is_typed_as_a_url() -> None:
    form = ConfigForm(kclient.engines.registry().get("Httpx"))
    form.fields["proxy"].control.value = "http://proxy.test:3128"
    client = form.create_client()
    assert client is not None
    try:
        assert isinstance(client.engine.config.proxy, ProxyConfig)
    finally:
        client.close()
        kclient.run(client.join())


# -- reprs: a notebook's text/plain (the stored output where widgets do not render) -----------------


@pytest.mark.anyio
async def test_reprs_say_what_the_widgets_show_not_every_child() -> None:
    client = mock_client(lambda request: respond({"ok": True}))
    client_name = repr(client.name)
    try:
        bench = Workbench(client, engine="Mock")
        assert repr(bench) == (
            f"<Workbench engine=Mock client: {client_name} ACTIVE, in flight 0 · completed 0 · failed 0>"
        )
        assert repr(bench.panel).startswith(f"<LifecyclePanel {client_name} ACTIVE")
        assert repr(bench.viewer) == "<ResponseViewer (no response yet)>"
        bench.composer.url.value = "http://user:pw-9z8y@api.test/items?token=t-7x6w"
        bench.composer.send_button.click()
        await settle()
        assert repr(bench.composer) == "<RequestComposer sent 1 · ok 1 · errors 0>"
        assert repr(bench.viewer) == "<ResponseViewer 200 GET http://user:***@api.test/items?token=***>"
        assert repr(LifecyclePanel()) == "<LifecyclePanel none yet>"
    finally:
        await finish(client)
