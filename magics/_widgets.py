"""Widgets for kclient in a notebook: pick an engine, configure it, send requests, and watch the
client's lifecycle (close, join, cancel) live.

- :class:`EnginePicker`: the registered engines; a missing one says what to ``pip install``.
- :class:`ConfigForm`: one field per engine setting (``describe_settings``), a "Create client"
  button, and each ``ConfigError`` shown beside the field it names.
- :class:`RequestComposer`: method, URL, headers, a JSON / form / raw body, N concurrent copies
  and a "Send" button. Sending never blocks the kernel: requests run as tasks on its loop.
- :class:`ResponseViewer`: the last response, shown by ``display_bundle`` (secrets masked, body
  cut at the display limit).
- :class:`LifecyclePanel`: the client's state as a coloured badge, its request counts, and
  "Close" / "Join" / "Cancel" buttons, all driven by ``client.on_state_change`` (no polling).
- :class:`Workbench`: all of them together; :func:`workbench_for_magics` makes one for
  ``%kclient widget`` around the kernel client.

Widget callbacks run in the kernel's event-loop thread with the loop running, so work that
awaits is started as an asyncio task on that loop and the callback returns at once. Without a
running loop (plain Python, tests) it runs to completion through ``kclient.run``. Every error of
a callback or a task is shown in the widget's error area: nothing is raised into the kernel's
log, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import functools
import html
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

import kclient
from kclient import (
    ClientState,
    ClientStatus,
    ConfigError,
    Engine,
    EngineInfo,
    EngineRegistry,
    HttpClient,
    HttpClientConfig,
    KClientError,
    Response,
    SettingInfo,
    describe_settings,
)
from kclient._redact import mask_credentials, mask_url_text

from ._display import DEFAULT_LIMIT_BYTES, display_bundle, format_elapsed
from ._items import add_form_field, expand_url, is_header_name
from ._spec import RequestSpec
from ._views import STATE_COLOURS, badge_html

__all__ = [
    "BODY_KINDS",
    "METHODS",
    "STATE_COLOURS",
    "ComposeError",
    "ConfigForm",
    "EnginePicker",
    "LifecyclePanel",
    "RequestComposer",
    "ResponseViewer",
    "Workbench",
    "badge_html",
    "counts_text",
    "missing_engine_html",
    "parse_body",
    "parse_headers",
    "setting_named",
    "workbench_for_magics",
]

#: The methods the composer offers.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

#: How the composer reads its body text.
BODY_KINDS = ("JSON", "form", "raw")

#: Most concurrent copies of one request the composer sends at once.
MAX_CONCURRENT = 500

#: Errors kept by an error area (the oldest are dropped; repeated messages are counted).
MAX_ERRORS = 50

_ERROR_STYLE = "color:#cf222e"
_DIM_STYLE = "opacity:0.7"
_LABEL_WIDTH = "21em"

#: Bounds given to number fields whose setting has no minimum or maximum (what JavaScript keeps exactly).
_JS_INT = 2**53 - 1


class ComposeError(ValueError):
    """The composer's fields do not make a request (a bad header line, a body that is not JSON...)."""


# -- small helpers -----------------------------------------------------------------------------------


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio loop running in this thread (a kernel's, inside a widget callback), or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _error_html(message: str) -> str:
    """``message`` as a red line, escaped, with URL credentials masked."""
    return f'<span class="kclient-error" style="{_ERROR_STYLE}">{html.escape(mask_credentials(message))}</span>'


def _describe_error(error: BaseException) -> str:
    """``TypeName: message`` for an error shown to a person."""
    if isinstance(error, (ComposeError, ConfigError)):
        return str(error)
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class _ErrorArea:
    """An ``HTML`` widget listing errors, newest last, a repeated message counted (``3x ...``)."""

    def __init__(self, css_class: str) -> None:
        self.widget = widgets.HTML(value="")
        self.widget.add_class(css_class)
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)
        del self.messages[:-MAX_ERRORS]
        self._render()

    def clear(self) -> None:
        self.messages.clear()
        self._render()

    def _render(self) -> None:
        counts: dict[str, int] = {}
        for message in self.messages:
            counts[message] = counts.get(message, 0) + 1
        lines = [f"{count}x {message}" if count > 1 else message for message, count in counts.items()]
        self.widget.value = "<br>".join(_error_html(line) for line in lines)


def _guarded(errors: Callable[[str], None], action: Callable[[], object]) -> Callable[[Any], None]:
    """A button handler running ``action``; whatever it raises goes to ``errors``, not the kernel log."""

    def handler(_button: Any = None) -> None:
        try:
            action()
        except Exception as error:
            errors(_describe_error(error))

    return handler


# -- engine picker -----------------------------------------------------------------------------------


def _missing_line(info: EngineInfo) -> str | None:
    """Why ``info`` cannot be used (its ``pip install`` line, or what is broken), or None when it can."""
    try:
        return None if info.available else info.install_hint
    except ConfigError as error:  # an entry point that names no engine class
        return str(error)


def _engine_label(info: EngineInfo) -> str:
    missing = _missing_line(info)
    return info.name if missing is None else f"{info.name} (missing: {missing})"


def _default_engine_name(registry: EngineRegistry) -> str | None:
    """The engine ``HttpClient()`` would pick, else the first available one, else the first one."""
    try:
        return registry.default().name
    except KClientError:
        pass
    names = [info.name for info in registry if _missing_line(info) is None] or registry.names()
    return names[0] if names else None


class EnginePicker(widgets.VBox):  # type: ignore[misc]
    """A dropdown of the registered engines; an unavailable one is labelled with its install line.

    ``value`` is the chosen engine's name, ``info`` its ``EngineInfo``; ``missing`` is its install
    line (None when the engine imports), also shown below the dropdown unless ``note=False``.
    ``on_pick(callback)`` calls ``callback(info)`` when another engine is chosen.
    """

    def __init__(self, registry: EngineRegistry | None = None, *, value: str | None = None, note: bool = True) -> None:
        self.registry = registry if registry is not None else kclient.engines.registry()
        self._infos = {info.name: info for info in self.registry}
        self._callbacks: list[Callable[[EngineInfo], None]] = []
        initial = self._find(value) if value is not None else _default_engine_name(self.registry)
        self.dropdown = widgets.Dropdown(
            options=[(_engine_label(info), info.name) for info in self.registry],
            value=initial,
            description="Engine",
        )
        self.note = widgets.HTML(value="")
        self.note.add_class("kclient-engine-note")
        super().__init__(children=[self.dropdown, self.note] if note else [self.dropdown])
        self.add_class("kclient-engine-picker")
        self.dropdown.observe(self._changed, names="value")
        self._show_note()

    def _find(self, name: str) -> str:
        """The registered spelling of ``name`` (engine names are case-insensitive)."""
        return self.registry.info(name).name

    @property
    def value(self) -> str | None:
        """The chosen engine's name (None when no engine is registered)."""
        name: str | None = self.dropdown.value
        return name

    @value.setter
    def value(self, name: str) -> None:
        self.dropdown.value = self._find(name)

    @property
    def info(self) -> EngineInfo | None:
        """The chosen engine's ``EngineInfo``."""
        return self._infos.get(self.value) if self.value is not None else None

    @property
    def missing(self) -> str | None:
        """The chosen engine's install line when it cannot be imported, else None."""
        info = self.info
        return _missing_line(info) if info is not None else None

    def on_pick(self, callback: Callable[[EngineInfo], None]) -> None:
        """Call ``callback(info)`` whenever another engine is chosen."""
        self._callbacks.append(callback)

    def _changed(self, _change: Any) -> None:
        self._show_note()
        info = self.info
        if info is not None:
            for callback in list(self._callbacks):
                callback(info)

    def _show_note(self) -> None:
        missing = self.missing
        self.note.value = "" if missing is None else missing_engine_html(self.value or "", missing)


def missing_engine_html(name: str, install: str) -> str:
    """What is shown instead of a settings form when engine ``name`` is not installed."""
    return (
        f'<div class="kclient-missing">{html.escape(name)} is not installed: <code>{html.escape(install)}</code></div>'
    )


# -- settings form -----------------------------------------------------------------------------------


def _split_optional(annotation: Any) -> tuple[Any, bool]:
    """``int | None`` as ``(int, True)``; a union of several types is returned as it is."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        rest = [arg for arg in args if arg is not type(None)]
        optional = len(rest) < len(args)
        if len(rest) == 1:
            return rest[0], optional
        return annotation, optional
    return annotation, False


def _parses_text(kind: Any) -> bool:
    """A class whose setting accepts text and parses it itself (``ProxyConfig.parse``: a proxy URL)."""
    return isinstance(kind, type) and callable(getattr(kind, "parse", None))


class _NoneChoice:
    """The "None" entry of a dropdown (a dropdown's own ``None`` means "nothing selected")."""

    def __repr__(self) -> str:
        return "None"


_NONE_CHOICE = _NoneChoice()


@dataclass
class _Field:
    """One setting in the form: its control, how to read a value from it, and its error line."""

    info: SettingInfo
    control: Any
    read: Callable[[], Any]
    error: Any
    row: Any

    def value(self) -> Any:
        """The setting's value as typed (``ValueError`` when the text is not a value of its type)."""
        return self.read()

    def changed(self) -> bool:
        """True when the typed value differs from the setting's default."""
        value = self.value()
        default = self.info.default
        if isinstance(value, bool) or isinstance(default, bool):
            return value is not default
        return bool(value != default)

    def show_error(self, message: str) -> None:
        self.error.value = _error_html(message)

    def clear_error(self) -> None:
        self.error.value = ""


def _placeholder(info: SettingInfo, what: str) -> str:
    parts = [what]
    if info.range_text:
        parts.append(info.range_text)
    return ", ".join(parts)


def _number_control(info: SettingInfo, kind: type) -> tuple[Any, Callable[[], Any]]:
    """A number field: ``IntText``/``FloatText``, bounded by the setting's minimum and maximum."""
    low = info.minimum
    high = info.maximum
    if kind is int:
        lo = int(low) if low is not None else -_JS_INT
        hi = int(high) if high is not None else _JS_INT
        control = widgets.BoundedIntText(value=info.default, min=lo, max=hi)
        return control, lambda: int(control.value)
    flo = float(low) if low is not None else -sys.float_info.max
    fhi = float(high) if high is not None else sys.float_info.max
    control = widgets.BoundedFloatText(value=info.default, min=flo, max=fhi)
    return control, lambda: float(control.value)


def _optional_number_control(info: SettingInfo, kind: type) -> tuple[Any, Callable[[], Any]]:
    """A number that may be None: a text field, empty for None (an out-of-range value is the
    engine's ``ConfigError``, shown beside the field)."""
    what = "an integer" if kind is int else "a number"
    default = "" if info.default is None else str(info.default)
    control = widgets.Text(value=default, placeholder=_placeholder(info, f"empty: None, or {what}"))

    def read() -> Any:
        text = control.value.strip().replace("_", "")
        if not text:
            return None
        try:
            return int(text) if kind is int else float(text)
        except ValueError:
            range_text = f" {info.range_text}" if info.range_text else ""
            raise ValueError(f"{info.name} must be {what}{range_text}, or empty for None; not {text!r}.") from None

    return control, read


def _text_control(info: SettingInfo, optional: bool, what: str) -> tuple[Any, Callable[[], Any]]:
    """A text field; empty means None when the setting may be None."""
    default = "" if info.default is None else str(info.default)
    control = widgets.Text(value=default, placeholder=what + (" (empty: None)" if optional else ""))

    def read() -> Any:
        text: str = control.value
        return None if optional and not text.strip() else text

    return control, read


def _choice_control(info: SettingInfo, choices: Iterable[Any], optional: bool) -> tuple[Any, Callable[[], Any]]:
    """A dropdown of the allowed values (a ``Literal``, or True/False for ``bool | None``)."""
    options: list[tuple[str, Any]] = [(str(choice), choice) for choice in choices]
    if optional:
        options.append(("None", _NONE_CHOICE))
    default = _NONE_CHOICE if info.default is None else info.default
    control = widgets.Dropdown(options=options, value=default if default in [v for _, v in options] else None)

    def read() -> Any:
        value = control.value
        return None if value is _NONE_CHOICE else value

    return control, read


def _control_for(info: SettingInfo) -> tuple[Any, Callable[[], Any]] | None:
    """The control for ``info`` and how to read its value, or None when it cannot be typed in a form."""
    kind, optional = _split_optional(info.type)
    if typing.get_origin(kind) is typing.Literal:
        return _choice_control(info, typing.get_args(kind), optional)
    if kind is bool:
        if optional:
            return _choice_control(info, (True, False), optional)
        control = widgets.Checkbox(value=bool(info.default), indent=False)
        return control, lambda: bool(control.value)
    if kind in (int, float):
        if optional or info.default is None:
            return _optional_number_control(info, kind)
        return _number_control(info, kind)
    if kind is str:
        return _text_control(info, optional, "text")
    if _parses_text(kind):
        return _text_control(info, optional, f"{kind.__name__} as text, such as a URL")
    return None


def _field_for(info: SettingInfo) -> _Field | None:
    made = _control_for(info)
    if made is None:
        return None
    control, read = made
    control.layout = widgets.Layout(width="16em", flex="0 0 auto")
    tooltip = " ".join(filter(None, [info.doc, f"({info.range_text})" if info.range_text else ""]))
    label = widgets.Label(value=info.name, tooltip=tooltip, layout=widgets.Layout(width=_LABEL_WIDTH, flex="0 0 auto"))
    error = widgets.HTML(value="")
    error.add_class("kclient-field-error")
    row = widgets.HBox([label, control, error], layout=widgets.Layout(flex="0 0 auto"))  # scrolled, not squeezed
    row.add_class("kclient-setting")
    return _Field(info=info, control=control, read=read, error=error, row=row)


def setting_named(message: str, names: Iterable[str]) -> str | None:
    """The setting a ``ConfigError`` message is about: the name of ``names`` it mentions first.

    ``Unknown setting 'max_conections' ... Did you mean max_connections? Valid settings: ...``
    names ``max_connections`` (the listing after "Valid settings:" is not read). A name counts
    only as a whole dotted word: ``max_connections`` is not found in ``max_connections_per_route``
    nor in ``endpoint.max_connections``.
    """
    text = message.split("Valid settings:", 1)[0]
    best: tuple[int, int, str] | None = None
    for name in names:
        match = re.search(rf"(?<![\w.]){re.escape(name)}(?!\w|\.\w)", text)
        if match is not None:
            key = (match.start(), -len(name), name)  # earliest, then longest
            if best is None or key < best:
                best = key
    return best[2] if best is not None else None


class ConfigForm(widgets.VBox):  # type: ignore[misc]
    """The settings of ``engine_class`` as a form, and a "Create client" button.

    One field per setting of ``describe_settings(engine_class.config_class)``: numbers are
    ``BoundedIntText``/``BoundedFloatText`` (a number that may be None is a text field, empty for
    None), booleans ``Checkbox``, ``Literal`` types a ``Dropdown``, strings and proxy URLs ``Text``.
    Settings no form can hold (functions, handler tuples) are listed as "not editable here".

    "Create client" builds ``HttpClient(engine_class, configure, engine={changed settings})``;
    a ``ConfigError`` appears beside the field it names, or in the general error line. The new
    client is ``form.client`` and is handed to every ``on_client`` callback; closing it is theirs.
    """

    def __init__(
        self,
        engine_class: type[Engine],
        *,
        configure: Callable[[HttpClientConfig], None] | None = None,
        client_name: str | None = None,
        on_client: Callable[[HttpClient], None] | None = None,
    ) -> None:
        self.engine_class = engine_class
        self.client: HttpClient | None = None
        self._configure = configure
        self._client_name = client_name
        self._callbacks: list[Callable[[HttpClient], None]] = [on_client] if on_client is not None else []
        self.fields: dict[str, _Field] = {}
        self.skipped: list[SettingInfo] = []
        for info in describe_settings(engine_class.config_class):
            field = _field_for(info)
            if field is None:
                self.skipped.append(info)
            else:
                self.fields[info.name] = field
        self.create_button = widgets.Button(description="Create client", button_style="primary", icon="plus")
        self.errors = _ErrorArea("kclient-form-error")
        self.message = widgets.HTML(value="")
        self.message.add_class("kclient-form-message")
        self.create_button.on_click(_guarded(self.errors.add, self.create_client))
        title = widgets.HTML(value=f"<b>{html.escape(engine_class.name)} settings</b>")
        # The fields scroll; the button below them stays in sight.
        self.fields_box = widgets.VBox(
            [field.row for field in self.fields.values()],
            layout=widgets.Layout(max_height="20em", overflow="auto", flex="0 0 auto"),
        )
        super().__init__(
            children=[
                title,
                self.fields_box,
                self._skipped_note(),
                widgets.HBox([self.create_button, self.message]),
                self.errors.widget,
            ]
        )
        self.add_class("kclient-config-form")

    @property
    def engine_name(self) -> str:
        return self.engine_class.name

    def _skipped_note(self) -> Any:
        if not self.skipped:
            return widgets.HTML(value="")
        names = ", ".join(info.name for info in self.skipped)
        return widgets.HTML(
            value=f'<div class="kclient-not-editable" style="{_DIM_STYLE}">not editable here: '
            f"{html.escape(names)} (set them in code)</div>"
        )

    def on_client(self, callback: Callable[[HttpClient], None]) -> None:
        """Call ``callback(client)`` with every client the form creates."""
        self._callbacks.append(callback)

    def changed_settings(self) -> dict[str, Any]:
        """The settings whose fields differ from their defaults, by dotted name.

        A field whose text is not a value of its type shows its error and raises ``ConfigError``.
        """
        settings: dict[str, Any] = {}
        bad: list[str] = []
        for name, field in self.fields.items():
            try:
                if field.changed():
                    settings[name] = field.value()
            except ValueError as error:
                field.show_error(str(error))
                bad.append(name)
        if bad:
            raise ConfigError(f"Fix the settings marked above: {', '.join(bad)}.")
        return settings

    def clear_errors(self) -> None:
        for field in self.fields.values():
            field.clear_error()
        self.errors.clear()

    def show_config_error(self, error: Exception) -> None:
        """Show ``error`` beside the field whose setting it names, else in the general error line."""
        message = str(error)
        name = setting_named(message, [*self.fields, *(info.name for info in self.skipped)])
        if name is not None and name in self.fields:
            self.fields[name].show_error(message)
        else:
            self.errors.add(message)

    def create_client(self, **extra: Any) -> HttpClient | None:
        """Build a client from the changed settings (plus ``extra`` ones given in code, such as
        Mock's ``handlers``); on a ``ConfigError`` show it and return None."""
        self.clear_errors()
        self.message.value = ""
        try:
            settings = self.changed_settings()
        except ConfigError as error:
            self.errors.add(str(error))
            return None
        settings.update(extra)
        try:
            client = HttpClient(self.engine_class, self._configure, engine=settings, name=self._client_name)
        except ConfigError as error:
            self.show_config_error(error)
            return None
        except (TypeError, ValueError) as error:  # refused by the engine's constructor itself
            self.show_config_error(ConfigError(f"Engine {self.engine_name}: {error}"))
            return None
        self.client = client
        described = ", ".join(f"{name}={value!r}" for name, value in settings.items() if name not in extra)
        self.message.value = (
            f'<span class="kclient-created">created {html.escape(client.name)} ({html.escape(self.engine_name)})'
            f"{': ' + html.escape(mask_credentials(described)) if described else ''}</span>"
        )
        for callback in list(self._callbacks):
            callback(client)
        return client


# -- request composer --------------------------------------------------------------------------------


def parse_headers(text: str) -> list[tuple[str, str]]:
    """``Name: value`` lines as header pairs; blank lines and ``#`` comments are skipped."""
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not is_header_name(name):
            raise ComposeError(f"Headers, line {number}: expected Name: value, not {line.strip()!r}.")
        headers.append((name, value.strip()))
    return headers


def parse_body(text: str, kind: str, spec: RequestSpec) -> None:
    """Put the body ``text`` into ``spec`` as ``kind`` says: JSON, form (``name=value`` lines) or raw.

    Empty text (only spaces) is no body at all.
    """
    if not text.strip():
        return
    if kind == "JSON":
        try:
            spec.json = json.loads(text)
        except json.JSONDecodeError as error:
            raise ComposeError(
                f"The body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}. "
                "Choose form or raw for other bodies."
            ) from None
    elif kind == "form":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            name, equals, value = line.partition("=")
            if not equals or not name.strip():
                raise ComposeError(f"Form body, line {number}: expected name=value, not {line.strip()!r}.")
            add_form_field(spec.form, name.strip(), value.strip())
    elif kind == "raw":
        spec.content = text.encode("utf-8")
    else:
        raise ComposeError(f"The body kind is one of {', '.join(BODY_KINDS)}, not {kind!r}.")


ClientSource = HttpClient | Callable[[], HttpClient]


@dataclass
class _Batch:
    """The copies sent by one Send: how many have ended, the last response, the one passed on."""

    total: int
    finished: int = 0
    last: Response | None = None
    shown: Response | None = None


def _client_words(client: HttpClient | None) -> str:
    """``'name' STATE, in flight 1 · completed 2 · failed 0`` for reprs (``none yet`` without a client)."""
    if client is None:
        return "none yet"
    status = client.status()
    return f"{client.name!r} {status.state.name}, {counts_text(status)}"


class RequestComposer(widgets.VBox):  # type: ignore[misc]
    """Method, URL, headers, a body and a "Send" button that sends ``concurrent`` copies at once.

    ``client`` is the client to use, or a function returning it (the workbench creates one on
    first use). Sending schedules one asyncio task per copy on the running loop and returns;
    each error goes to the error area. Responses go to the ``on_response`` callbacks: the first
    of a Send as soon as it arrives and, with several copies, the last one when all have ended
    (a viewer is not redrawn hundreds of times by one Send).
    """

    def __repr__(self) -> str:  # the notebook's text/plain, instead of every child widget
        return f"<RequestComposer sent {self.sent} · ok {self.succeeded} · errors {self.failed}>"

    def __init__(
        self,
        client: ClientSource | None = None,
        *,
        on_response: Callable[[Response], None] | None = None,
    ) -> None:
        self._client_source = client
        self._callbacks: list[Callable[[Response], None]] = [on_response] if on_response is not None else []
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = self.succeeded = self.failed = 0
        wide = widgets.Layout(width="100%")
        self.method = widgets.Dropdown(options=list(METHODS), value="GET", description="Method")
        self.url = widgets.Text(value="", placeholder="https://example.org/get or :8000/path", description="URL")
        self.url.layout = widgets.Layout(width="40em")
        self.headers = widgets.Textarea(
            value="", placeholder="Name: value, one a line", description="Headers", layout=wide
        )
        self.body_kind = widgets.ToggleButtons(options=list(BODY_KINDS), value="JSON", description="Body")
        self.body = widgets.Textarea(value="", placeholder='{"name": "value"}', layout=wide)
        self.concurrent = widgets.BoundedIntText(value=1, min=1, max=MAX_CONCURRENT, description="concurrent")
        self.concurrent.layout = widgets.Layout(width="12em")
        self.send_button = widgets.Button(description="Send", button_style="success", icon="paper-plane")
        self.status = widgets.HTML(value="")
        self.status.add_class("kclient-send-status")
        self.errors = _ErrorArea("kclient-send-error")
        self.send_button.on_click(_guarded(self.errors.add, self.send))
        super().__init__(
            children=[
                widgets.HBox([self.method, self.url]),
                self.headers,
                self.body_kind,
                self.body,
                widgets.HBox([self.concurrent, self.send_button, self.status]),
                self.errors.widget,
            ]
        )
        self.add_class("kclient-composer")

    def on_response(self, callback: Callable[[Response], None]) -> None:
        """Call ``callback(response)`` with the first and the last response of every Send."""
        self._callbacks.append(callback)

    @property
    def tasks(self) -> frozenset[asyncio.Task[None]]:
        """The requests still running (kept here: asyncio holds tasks only weakly)."""
        return frozenset(self._tasks)

    def build_spec(self) -> RequestSpec:
        """The request the fields describe; ``ComposeError`` says which field is wrong."""
        url = self.url.value.strip()
        if not url:
            raise ComposeError("Enter a URL, such as https://example.org/get or :8000/path.")
        spec = RequestSpec(method=self.method.value, url=expand_url(url), headers=parse_headers(self.headers.value))
        parse_body(self.body.value, self.body_kind.value, spec)
        return spec

    def _client(self) -> HttpClient:
        source = self._client_source
        if source is None:
            raise ComposeError("No client to send with: create one first.")
        return source if isinstance(source, HttpClient) else source()

    def send(self) -> list[asyncio.Task[None]]:
        """Send ``concurrent`` copies of the request; returns their tasks (none when no loop runs,
        where the requests were sent and awaited through ``kclient.run``)."""
        self.errors.clear()
        try:
            spec = self.build_spec()
            client = self._client()
        except Exception as error:
            self.errors.add(_describe_error(error))
            return []
        count = int(self.concurrent.value)
        self.sent += count
        self._show_status()
        loop = _running_loop()
        if loop is None:
            self._run_blocking(client, spec, count)
            return []
        batch = _Batch(count)
        tasks = [loop.create_task(self._exchange(client, spec, batch)) for _ in range(count)]
        for task in tasks:
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._task_done, batch))
        return tasks

    def _run_blocking(self, client: HttpClient, spec: RequestSpec, count: int) -> None:
        """No loop runs here (plain Python): the copies run together, to the end, through ``kclient.run``."""
        batch = _Batch(count)

        async def all_copies() -> None:
            await asyncio.gather(*(self._exchange(client, spec, batch) for _ in range(count)))

        try:
            kclient.run(all_copies())
        except Exception as error:  # inside trio, for one: kclient.run cannot block there
            self.failed += count
            self._show_status()
            self.errors.add(_describe_error(error))

    async def _exchange(self, client: HttpClient, spec: RequestSpec, batch: _Batch) -> None:
        try:
            response = await client.request(spec.method, spec.url, **spec.options())
        except Exception as error:
            self.failed += 1
            self._show_status()
            self.errors.add(f"{spec.method} {mask_url_text(spec.url)} failed: {_describe_error(error)}")
            self._finished(batch, None)
            return
        self.succeeded += 1
        self._show_status()
        self._finished(batch, response)

    def _finished(self, batch: _Batch, response: Response | None) -> None:
        """Count one copy of ``batch`` as ended; pass on its first response and, at the end, its last."""
        batch.finished += 1
        if response is not None:
            batch.last = response
            if batch.shown is None:
                self._deliver(batch, response)
                return
        if batch.finished == batch.total and batch.last is not None and batch.last is not batch.shown:
            self._deliver(batch, batch.last)

    def _deliver(self, batch: _Batch, response: Response) -> None:
        batch.shown = response
        for callback in list(self._callbacks):
            try:
                callback(response)
            except Exception as error:
                self.errors.add(f"Showing the response failed: {_describe_error(error)}")

    def _task_done(self, batch: _Batch, task: asyncio.Task[None]) -> None:
        """Forget a finished task; a cancellation or an error that escaped is shown, never lost."""
        self._tasks.discard(task)
        if task.cancelled():  # cancelled from outside (a cancelled cell, a kernel shutting down)
            self.failed += 1
            self._show_status()
            self.errors.add("A request's task was cancelled before it finished.")
            self._finished(batch, None)
            return
        error = task.exception()
        if error is not None:
            self.errors.add(f"A request's task failed: {_describe_error(error)}")

    def _show_status(self) -> None:
        self.status.value = (
            f'<span class="kclient-sent">sent {self.sent} · ok {self.succeeded} · errors {self.failed}</span>'
        )


# -- response viewer ---------------------------------------------------------------------------------


class ResponseViewer(widgets.VBox):  # type: ignore[misc]
    """The last response: a summary line (status, timing) and ``display_bundle``'s HTML, with
    secrets masked and at most ``limit_bytes`` of the body shown. "show the request" adds the
    request that was sent above it (its Authorization and other secrets masked too)."""

    def __repr__(self) -> str:
        response = self.response
        if response is None:
            return "<ResponseViewer (no response yet)>"
        return f"<ResponseViewer {response.status} {response.request.method} {mask_url_text(str(response.url))}>"

    def __init__(
        self,
        *,
        limit_bytes: int = DEFAULT_LIMIT_BYTES,
        masked_headers: Iterable[str] = frozenset(),
        render_html: bool = False,
        show_request: bool = False,
    ) -> None:
        self.limit_bytes = limit_bytes
        self.masked_headers = frozenset(name.lower() for name in masked_headers)
        self.render_html = render_html
        self.response: Response | None = None
        self.summary = widgets.HTML(value=_NO_RESPONSE)
        self.summary.add_class("kclient-response-summary")
        self.show_request = widgets.Checkbox(value=show_request, description="show the request", indent=False)
        self.output = widgets.HTML(value="")
        self.output.add_class("kclient-response-view")
        self.show_request.observe(self._redraw, names="value")
        super().__init__(children=[widgets.HBox([self.summary, self.show_request]), self.output])
        self.add_class("kclient-viewer")

    def show(self, response: Response) -> None:
        """Show ``response`` (replacing the one shown)."""
        self.response = response
        timing = f" · {format_elapsed(response.elapsed)}" if response.elapsed > 0 else ""
        self.summary.value = (
            f'<b class="kclient-response-status">{response.status} {html.escape(response.reason)}</b>'
            f"{html.escape(timing)}"
        )
        self._redraw()

    def clear(self) -> None:
        self.response = None
        self.summary.value = _NO_RESPONSE
        self.output.value = ""

    def _redraw(self, _change: Any = None) -> None:
        if self.response is None:
            return
        bundle = display_bundle(
            self.response,
            limit_bytes=self.limit_bytes,
            masked_headers=self.masked_headers,
            render_html=self.render_html,
            verbose=bool(self.show_request.value),
        )
        self.output.value = bundle["text/html"]


_NO_RESPONSE = f'<span style="{_DIM_STYLE}">no response yet</span>'


# -- lifecycle panel ---------------------------------------------------------------------------------


def counts_text(status: ClientStatus) -> str:
    """``in flight N · completed N · failed N``."""
    return f"in flight {status.in_flight} · completed {status.completed} · failed {status.failed}"


class LifecyclePanel(widgets.VBox):  # type: ignore[misc]
    """A client's state badge, its live request counts, and "Close", "Join", "Cancel" buttons.

    Driven by ``client.on_state_change`` alone: every change of state or counts updates the
    badge and counts at once. Setting ``panel.client`` (or closing the widget) unsubscribes
    from the previous client. "Join" awaits ``client.join()`` in a task and says "joined".
    """

    def __repr__(self) -> str:
        return f"<LifecyclePanel {_client_words(self.client)}>"

    def __init__(self, client: HttpClient | None = None) -> None:
        self._client: HttpClient | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._joins: set[asyncio.Task[None]] = set()
        self.badge = widgets.HTML(value=badge_html(None))
        self.badge.add_class("kclient-badge")
        self.counts = widgets.HTML(value="")
        self.counts.add_class("kclient-counts")
        self.title = widgets.HTML(value="")
        self.close_button = widgets.Button(
            description="Close", icon="stop", tooltip="close(): in-flight requests finish"
        )
        self.join_button = widgets.Button(description="Join", icon="hourglass", tooltip="await join()")
        self.cancel_button = widgets.Button(
            description="Cancel", button_style="danger", icon="times", tooltip="cancel(): halt every request now"
        )
        self.message = widgets.HTML(value="")
        self.message.add_class("kclient-lifecycle-message")
        self.close_button.on_click(_guarded(self._say_error, self._close_client))
        self.join_button.on_click(_guarded(self._say_error, self.join))
        self.cancel_button.on_click(_guarded(self._say_error, self._cancel_client))
        super().__init__(
            children=[
                widgets.HBox([self.title, self.badge, self.counts]),
                widgets.HBox([self.close_button, self.join_button, self.cancel_button, self.message]),
            ]
        )
        self.add_class("kclient-lifecycle")
        self.client = client

    @property
    def client(self) -> HttpClient | None:
        return self._client

    @client.setter
    def client(self, client: HttpClient | None) -> None:
        if client is self._client and self._unsubscribe is not None:
            return
        self._detach()
        self._client = client
        self.message.value = ""
        if client is not None:
            self._unsubscribe = client.on_state_change(self._on_status)
            self.title.value = f"<b>{html.escape(client.name)}</b> · {html.escape(client.engine.name)}"
            self._on_status(client.status())
        else:
            self.title.value = ""
            self.badge.value = badge_html(None)
            self.counts.value = ""
            self._enable(None)

    def _detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def close(self) -> None:
        """Stop following the client and close the widget (the client itself is left as it is)."""
        self._detach()
        super().close()

    def _on_status(self, status: ClientStatus) -> None:
        """The client's listener: runs in its loop's thread at every change, so it stays short."""
        self.badge.value = badge_html(status.state)
        self.counts.value = f'<span class="kclient-count-text">{counts_text(status)}</span>'
        self._enable(status.state)

    def _enable(self, state: ClientState | None) -> None:
        self.close_button.disabled = state is not ClientState.ACTIVE
        self.cancel_button.disabled = state is None or state.is_terminal
        self.join_button.disabled = state is None

    def _say(self, text: str, css: str = "kclient-lifecycle-note") -> None:
        self.message.value = f'<span class="{css}">{html.escape(text)}</span>'

    def _say_error(self, message: str) -> None:
        self.message.value = _error_html(message)

    def _need_client(self) -> HttpClient:
        if self._client is None:
            raise ComposeError("No client yet: create one (Create client) or send a request.")
        return self._client

    def _close_client(self) -> None:
        self._need_client().close()

    def _cancel_client(self) -> None:
        self._need_client().cancel()

    def join(self) -> asyncio.Task[None] | None:
        """Wait for the client to finish (``client.join()``) without blocking; says "joined" then.

        Returns the task awaiting it (None when no loop runs: then it was awaited here, unless the
        client is ACTIVE, which would wait forever).
        """
        client = self._need_client()
        waits = "waits for Close or Cancel" if client.state is ClientState.ACTIVE else "waits for in-flight requests"
        loop = _running_loop()
        if loop is None:
            if client.state is ClientState.ACTIVE:
                self._say("Join waits until the client is closed: press Close or Cancel first.")
                return None
            kclient.run(client.join())
            self._joined(client)
            return None
        self._say(f"joining… ({waits})")
        task = loop.create_task(self._join(client))
        self._joins.add(task)
        task.add_done_callback(self._join_done)
        return task

    async def _join(self, client: HttpClient) -> None:
        await client.join()
        self._joined(client)

    def _joined(self, client: HttpClient) -> None:
        if client is self._client:
            self._say("joined", "kclient-joined")

    def _join_done(self, task: asyncio.Task[None]) -> None:
        self._joins.discard(task)
        if task.cancelled():
            self._say_error("Join was interrupted.")
        elif (error := task.exception()) is not None:
            self._say_error(f"Join failed: {_describe_error(error)}")


# -- workbench ---------------------------------------------------------------------------------------


class Workbench(widgets.VBox):  # type: ignore[misc]
    """Engine picker, settings form, request composer, lifecycle panel and response viewer.

    A given ``client`` is used as it is. Otherwise the first "Send" creates one from the form
    (the default engine, settings as typed), as does "Create client". A client made here
    replaces the previous one, which is closed if the workbench made it; with ``on_client``
    the callback receives each new client and owns it (``%kclient widget`` makes it the kernel
    client). Parts: ``picker``, ``form`` (None while a missing engine is chosen), ``composer``,
    ``viewer``, ``panel``; ``client`` is the client in use.
    """

    def __repr__(self) -> str:
        return f"<Workbench engine={self.picker.value} client: {_client_words(self.client)}>"

    def __init__(
        self,
        client: HttpClient | None = None,
        *,
        registry: EngineRegistry | None = None,
        engine: str | None = None,
        configure: Callable[[HttpClientConfig], None] | None = None,
        on_client: Callable[[HttpClient], None] | None = None,
        client_name: str = "workbench client",
        limit_bytes: int = DEFAULT_LIMIT_BYTES,
        masked_headers: Iterable[str] = frozenset(),
    ) -> None:
        self._client = client
        self._owns_client = False
        self._configure = configure
        self._on_client = on_client
        self._client_name = client_name
        # A lent engine of the given client may be unregistered: then the default engine is shown.
        chosen = engine if engine is not None else _registered(registry, client.engine.name if client else None)
        self.picker = EnginePicker(registry, value=chosen, note=False)  # the settings area says it
        self.form: ConfigForm | None = None
        self.settings_area = widgets.VBox()
        self.viewer = ResponseViewer(limit_bytes=limit_bytes, masked_headers=masked_headers)
        self.composer = RequestComposer(self._client_for_send, on_response=self.viewer.show)
        self.panel = LifecyclePanel(client)
        self.picker.on_pick(self._show_engine)
        self._show_engine(self.picker.info)
        super().__init__(
            children=[
                widgets.HTML(value="<b>kclient workbench</b>"),
                self.picker,
                self.settings_area,
                self.composer,
                self.panel,
                self.viewer,
            ]
        )
        self.add_class("kclient-workbench")

    @property
    def client(self) -> HttpClient | None:
        """The client requests are sent with (None until one is given or created)."""
        return self._client

    def use(self, client: HttpClient) -> None:
        """Send with ``client`` from now on (not owned: the workbench never closes it)."""
        self._replace(client, owned=False)

    def _show_engine(self, info: EngineInfo | None) -> None:
        """The settings form of the chosen engine, or its install line when it is missing."""
        if self.form is not None:
            _close_tree(self.form)
            self.form = None
        missing = "no engine is registered" if info is None else _missing_line(info)
        if info is None or missing is not None:
            note = missing_engine_html(self.picker.value or "", missing or "")
            self.settings_area.children = [widgets.HTML(value=note)]
            return
        try:
            self.form = ConfigForm(
                info.load(), configure=self._configure, client_name=self._client_name, on_client=self._created
            )
        except Exception as error:  # an engine whose settings cannot be listed: said, not raised
            message = f"The settings of {info.name} cannot be shown: {_describe_error(error)}"
            self.settings_area.children = [widgets.HTML(value=_error_html(message))]
            return
        self.settings_area.children = [self.form]

    def _created(self, client: HttpClient) -> None:
        if self._on_client is not None:
            self._on_client(client)
            self._replace(client, owned=False)
        else:
            self._replace(client, owned=True)

    def _replace(self, client: HttpClient, *, owned: bool) -> None:
        old, old_owned = self._client, self._owns_client
        self._client, self._owns_client = client, owned
        self.panel.client = client
        if old is not None and old is not client and old_owned:
            old.close()  # its requests in flight finish

    def _client_for_send(self) -> HttpClient:
        if self._client is not None:
            return self._client
        if self.form is None:
            raise ComposeError(f"Engine {self.picker.value} is not installed: {self.picker.missing}.")
        client = self.form.create_client()
        if client is None:
            raise ComposeError("The client could not be created: see the settings above.")
        return client

    def close(self) -> None:
        """Close the widgets and stop following the client; the client is left open (Close or
        ``client.close()`` ends it)."""
        for child in list(self.children):
            _close_tree(child)
        super().close()


def _close_tree(widget: Any) -> None:
    """Close ``widget`` and every widget inside it (closing a box leaves its children open)."""
    for child in list(getattr(widget, "children", ())):
        _close_tree(child)
    widget.close()


def _registered(registry: EngineRegistry | None, name: str | None) -> str | None:
    """``name`` when ``registry`` knows it (a lent engine may not be registered), else None."""
    if name is None:
        return None
    known = (registry if registry is not None else kclient.engines.registry()).names()
    return next((known_name for known_name in known if known_name.casefold() == name.casefold()), None)


def workbench_for_magics(magics: Any) -> Workbench:
    """The workbench of ``%kclient widget``: sends with the kernel client, and a client created in
    it becomes the kernel client (the previous one is closed, as ``%kclient use`` does); a later
    ``%kclient use`` is followed."""
    workbench = Workbench(
        magics.kernel.get(),
        configure=getattr(magics, "_configure_client", None),
        on_client=magics.kernel.adopt,
        client_name="kernel client",
        limit_bytes=magics.display_limit,
        masked_headers=magics.masked_headers,
    )
    on_replace = getattr(magics.kernel, "on_replace", None)
    if on_replace is not None:
        import weakref

        followed = weakref.ref(workbench)  # the kernel client must not keep old workbenches alive

        def follow(client: HttpClient) -> None:
            bench = followed()
            if bench is None:
                unsubscribe()
            elif bench.client is not client:
                bench.use(client)

        unsubscribe = on_replace(follow)
    return workbench
