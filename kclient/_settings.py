"""Typed settings: dataclass fields with a doc, a type and a range, validated from user input.

Engine configs and plugin configs are frozen dataclasses whose fields are declared
with :func:`setting`. :func:`build_settings` turns a mapping typed by a person
(``{"thread_count": 2, "endpoint.connect_timeout": 5}``) into such a dataclass or
raises ``ConfigError``: an unknown or misspelt name gets the nearest valid one
("did you mean thread_count?"), a wrong type or an out-of-range value gets the
allowed range. :func:`describe_settings` lists the fields for forms and docs.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ._errors import ConfigError

__all__ = ["SettingInfo", "build_settings", "describe_settings", "setting"]

T = TypeVar("T")

_NO_DEFAULT: Any = dataclasses.MISSING


def setting(
    default: Any = _NO_DEFAULT,
    doc: str = "",
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    default_factory: Callable[[], Any] | None = None,
    convert: Callable[[Any], Any] | None = None,
) -> Any:
    """Declare one typed setting: its default, a one-line doc and, for numbers, its range.

    ``convert`` turns a person's input into the field's value (and raises ``ConfigError``
    or ``ValueError``/``TypeError`` when it cannot); without it the field's annotation is checked.
    """
    metadata = {"doc": doc, "minimum": minimum, "maximum": maximum, "convert": convert}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """What a form or a help page needs to know about one setting."""

    name: str
    type: Any
    default: Any
    doc: str
    minimum: float | None
    maximum: float | None

    @property
    def range_text(self) -> str:
        """The allowed range in words, or ``""`` when there is none."""
        return _range_text(self.minimum, self.maximum)

    @property
    def type_text(self) -> str:
        """The type in words, as the errors for a wrong value say it (``a number or None``)."""
        return _type_text(self.type)


def describe_settings(config_class: type[Any], prefix: str = "") -> list[SettingInfo]:
    """List the settings of a config dataclass, nested blocks flattened as ``block.name``."""
    hints = typing.get_type_hints(config_class)
    infos: list[SettingInfo] = []
    for f in dataclasses.fields(config_class):
        if not f.init or f.name.startswith("_"):
            continue
        annotation = hints[f.name]
        if _is_config_class(annotation):
            infos.extend(describe_settings(annotation, prefix=f"{prefix}{f.name}."))
            continue
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        )
        infos.append(
            SettingInfo(
                name=prefix + f.name,
                type=annotation,
                default=default,
                doc=f.metadata.get("doc", ""),
                minimum=f.metadata.get("minimum"),
                maximum=f.metadata.get("maximum"),
            )
        )
    return infos


def build_settings(config_class: type[T], values: Mapping[str, Any], *, owner: str, base: T | None = None) -> T:
    """Validate ``values`` against ``config_class`` and return a new instance.

    ``base`` is an existing instance whose values are kept where ``values`` is silent.
    ``owner`` names what is configured ("engine Httpx", "plugin HttpTimeout") in messages.
    Raises ``ConfigError`` for unknown names, wrong types and out-of-range values.
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"Settings for {owner} must be a mapping of name to value, not {type(values).__name__}.")
    nested = _unflatten(values, owner)
    return _build(config_class, nested, owner=owner, base=base, prefix="")


def _unflatten(values: Mapping[str, Any], owner: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in values.items():
        if not isinstance(key, str):
            raise ConfigError(f"Setting names for {owner} must be strings, not {key!r}.")
        head, dot, rest = key.partition(".")
        if dot:
            block = result.setdefault(head, {})
            if not isinstance(block, dict):
                raise ConfigError(f"Setting {head!r} of {owner} is given both as a value and as a block.")
            block[rest] = value
        else:
            result[key] = value
    return result


def _build(config_class: type[T], values: Mapping[str, Any], *, owner: str, base: T | None, prefix: str) -> T:
    hints = typing.get_type_hints(config_class)
    fields = {f.name: f for f in dataclasses.fields(config_class) if f.init and not f.name.startswith("_")}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in fields:
            raise ConfigError(_unknown_message(_dotted(name, raw), config_class, owner, prefix))
        f = fields[name]
        annotation = hints[name]
        if _is_config_class(annotation):
            current = getattr(base, name) if base is not None else None
            if isinstance(raw, annotation):
                kwargs[name] = raw
            elif isinstance(raw, Mapping):
                kwargs[name] = _build(
                    annotation, _unflatten(raw, owner), owner=owner, base=current, prefix=f"{prefix}{name}."
                )
            else:
                raise ConfigError(
                    f"Setting {prefix}{name!s} of {owner} is a block: give a dict such as "
                    f"{{'{describe_settings(annotation)[0].name}': ...}}, not {raw!r}."
                )
            continue
        kwargs[name] = _check_value(prefix + name, raw, annotation, f.metadata, owner)
    try:
        if base is not None:
            return dataclasses.replace(base, **kwargs)  # type: ignore[type-var]
        return config_class(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Invalid settings for {owner}: {exc}") from exc


def _check_value(name: str, value: Any, annotation: Any, metadata: Mapping[str, Any], owner: str) -> Any:
    convert = metadata.get("convert")
    if convert is not None:
        try:
            return convert(value)
        except ConfigError as exc:
            raise ConfigError(f"Setting {name} of {owner}: {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"Setting {name} of {owner} cannot be {value!r}: {exc}") from exc
    if not _matches(value, annotation):
        raise ConfigError(
            f"Setting {name} of {owner} must be {_type_text(annotation)}"
            f"{_range_suffix(metadata)}, not {value!r} ({type(value).__name__})."
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = metadata.get("minimum"), metadata.get("maximum")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ConfigError(f"Setting {name} of {owner} must be {_range_text(lo, hi)}, not {value!r}.")
        if _accepts_float(annotation) and isinstance(value, int):
            return float(value)
    return value


def _matches(value: Any, annotation: Any) -> bool:
    if annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin is not None:
        return isinstance(value, origin)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def _accepts_float(annotation: Any) -> bool:
    if annotation is float:
        return True
    return any(arg is float for arg in typing.get_args(annotation))


def _type_text(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_text(arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return "None"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    names = {bool: "True or False", int: "an integer", float: "a number", str: "a string"}
    if annotation in names:
        return names[annotation]
    return getattr(annotation, "__name__", str(annotation))


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"between {lo} and {hi}"
    if lo is not None:
        return f"at least {lo}"
    if hi is not None:
        return f"at most {hi}"
    return ""


def _range_suffix(metadata: Mapping[str, Any]) -> str:
    text = _range_text(metadata.get("minimum"), metadata.get("maximum"))
    return f" {text}" if text else ""


def _is_config_class(annotation: Any) -> bool:
    return isinstance(annotation, type) and dataclasses.is_dataclass(annotation)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).replace("-", "_").lower()


def _dotted(name: str, raw: Any) -> str:
    """The dotted name a person typed: ``endpont`` given as a block becomes ``endpont.connect_timeout``."""
    while isinstance(raw, Mapping) and len(raw) == 1:
        key, raw = next(iter(raw.items()))
        name = f"{name}.{key}"
    return name


def _unknown_message(name: str, config_class: type[Any], owner: str, prefix: str = "") -> str:
    """``Unknown setting`` naming the nearest valid one; ``name`` is relative to ``config_class``."""
    import difflib

    suggestions: dict[str, str] = {}
    for typed, valid in _suggestions(config_class, prefix):
        suggestions.setdefault(typed, valid)  # a real name wins over a nested setting's short name
    guess = difflib.get_close_matches(_snake(prefix + name), suggestions, n=1, cutoff=0.6)
    hint = f" Did you mean {suggestions[guess[0]]}?" if guess else ""
    listing = ", ".join(sorted(info.name for info in describe_settings(config_class, prefix))) or "none"
    return f"Unknown setting {prefix + name!r} for {owner}.{hint} Valid settings: {listing}."


def _suggestions(config_class: type[Any], prefix: str) -> Iterator[tuple[str, str]]:
    """(what a person may have typed, the valid name to suggest) for every setting and block."""
    infos = describe_settings(config_class, prefix)
    for info in infos:
        yield info.name, info.name
    hints = typing.get_type_hints(config_class)
    for f in dataclasses.fields(config_class):
        if f.init and not f.name.startswith("_") and _is_config_class(hints[f.name]):
            yield prefix + f.name, prefix + f.name
    for info in infos:
        yield info.name.rpartition(".")[2], info.name  # a nested setting typed without its block
