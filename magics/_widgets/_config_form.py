"""The settings form: one field per engine setting (``describe_settings``), each read back as a
value of the setting's type, and a "Create client" button (``ConfigForm``). ``_Field`` and the
``_*_control`` helpers map a setting's type to its ipywidgets control; ``setting_named`` finds
the setting a ``ConfigError`` is about, so the error is shown beside its field.
"""

from __future__ import annotations

import html
import re
import sys
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

from kclient import ConfigError, Engine, HttpClient, HttpClientConfig, SettingInfo, describe_settings
from kclient._redact import mask_credentials

from ._common import _DIM_STYLE, _error_html, _ErrorArea, _guarded

__all__ = ["ConfigForm", "setting_named"]

_LABEL_WIDTH = "21em"

#: Bounds given to number fields whose setting has no minimum or maximum (what JavaScript keeps exactly).
_JS_INT = 2**53 - 1


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

    "Create client" builds ``HttpClient(engine_class, configure, engine_config={changed settings})``;
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
            client = HttpClient(self.engine_class, self._configure, engine_config=settings, name=self._client_name)
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
