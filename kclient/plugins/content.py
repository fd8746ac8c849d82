"""ContentNegotiation: typed request and response bodies through pluggable codecs (JSON by default).

``response.body(Model)`` decodes a response with the codec that matches its Content-Type
and builds ``Model`` from it: a dataclass (recursively), a pydantic-style class (anything
with ``model_validate``), ``list[Model]``, ``dict``... The pieces are plain functions,
tested without a network: ``codec_for`` (which codec reads a Content-Type),
``media_type_matches``, ``accept_header``, ``to_model`` (JSON-like data to a model) and
``jsonable`` (dataclasses and models to JSON-like data).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .._errors import DecodingError
from .._models import Request, Response
from .._plugin import Plugin, PluginConfig
from .._redact import mask_url
from .._settings import setting

__all__ = [
    "Codec",
    "ContentNegotiation",
    "ContentNegotiationConfig",
    "JsonCodec",
    "accept_header",
    "codec_for",
    "decode_body",
    "display_model",
    "jsonable",
    "media_type",
    "media_type_matches",
    "to_model",
]

#: Where the plugin keeps itself in ``request.attributes``, for ``response.body()`` to find it.
ATTRIBUTE = "content_negotiation"

#: Characters of the body quoted in a ``DecodingError``.
_PREVIEW = 80


# -- codecs -----------------------------------------------------------------------------------


@runtime_checkable
class Codec(Protocol):
    """Turns values into bodies and bodies into values, for some media types.

    ``content_types`` are ``type/subtype`` names (``"application/json"``); a codec for
    ``application/json`` also reads ``+json`` types such as ``application/problem+json``.
    ``decode(data, model)`` returns ``model`` built from the body (``to_model`` does that
    for JSON-like data) and raises ``ValueError`` (``DecodingError``) when it cannot.
    """

    @property
    def content_types(self) -> tuple[str, ...]: ...

    def encode(self, value: Any) -> bytes: ...

    def decode(self, data: bytes, model: Any) -> Any: ...


@dataclass(frozen=True, kw_only=True)
class JsonCodec:
    """JSON with the standard library: UTF-8, compact, dataclasses and pydantic-style models encoded.

    ``ensure_ascii`` escapes every non-ASCII character; ``default`` is called for values
    JSON cannot hold (as ``json.dumps``'s ``default``), after dataclasses and models.
    """

    content_types: tuple[str, ...] = ("application/json",)
    ensure_ascii: bool = False
    default: Callable[[Any], Any] | None = None

    def encode(self, value: Any) -> bytes:
        """``value`` as compact JSON bytes; ``TypeError`` names a value JSON cannot hold."""
        import json

        return json.dumps(value, ensure_ascii=self.ensure_ascii, separators=(",", ":"), default=self._default).encode()

    def decode(self, data: bytes, model: Any) -> Any:
        """The JSON ``data`` as ``model`` (see ``to_model``); ``ValueError`` when it is not JSON."""
        import json

        return to_model(json.loads(data), model)

    def _default(self, value: Any) -> Any:
        converted = _jsonable_or_missing(value)
        if converted is not _MISSING:
            return converted
        if self.default is not None:
            return self.default(value)
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_MISSING: Any = object()


def _jsonable_or_missing(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)
    if dump is not None and not isinstance(value, type) and callable(dump):
        return dump(mode="json")
    return _MISSING


def jsonable(value: Any) -> Any:
    """``json.dumps``'s ``default`` for dataclass instances and pydantic-style models.

    A dataclass becomes ``dataclasses.asdict(value)``, an object with ``model_dump`` its
    ``model_dump(mode="json")``; anything else raises ``TypeError`` as ``json.dumps`` does.
    """
    converted = _jsonable_or_missing(value)
    if converted is _MISSING:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    return converted


def _codecs(value: Any) -> tuple[Codec, ...]:
    """The ``codecs`` setting: one codec or a non-empty list of them, each a ``Codec``."""
    items = (value,) if isinstance(value, Codec) else tuple(value) if isinstance(value, (list, tuple)) else None
    if not items:
        raise ValueError("it is a non-empty tuple of codecs such as (JsonCodec(),)")
    for item in items:
        if not isinstance(item, Codec):
            raise ValueError(f"{item!r} is not a codec: it needs content_types, encode(value) and decode(data, model)")
        types_ = item.content_types
        if not isinstance(types_, tuple) or not types_ or not all(_is_media_type(t) for t in types_):
            raise ValueError(
                f"the content_types of {item!r} must be a non-empty tuple of 'type/subtype' names, not {types_!r}"
            )
    return items


def _is_media_type(name: Any) -> bool:
    if not isinstance(name, str):
        return False
    kind, slash, subtype = name.partition("/")
    return bool(slash and kind.strip() and subtype.strip()) and ";" not in name


# -- negotiation ------------------------------------------------------------------------------


def media_type(content_type: str | None) -> str | None:
    """The bare, lower-case media type of a Content-Type value (parameters dropped), or None."""
    if not content_type:
        return None
    bare = content_type.partition(";")[0].strip().lower()
    return bare if "/" in bare else None


def media_type_matches(received: str, accepted: str) -> bool:
    """True when the media type ``received`` is ``accepted``, or a ``+suffix`` type of it.

    ``application/problem+json`` matches ``application/json`` (RFC 6839 suffixes); the
    comparison ignores case and parameters.
    """
    got, want = media_type(received), media_type(accepted)
    if got is None or want is None:
        return False
    if got == want:
        return True
    want_subtype = want.partition("/")[2]
    return "+" not in want_subtype and got.rpartition("+")[2] == want_subtype and "+" in got


def codec_for(content_type: str | None, codecs: Iterable[Codec]) -> Codec | None:
    """The first codec that reads ``content_type``; with no Content-Type, the first codec.

    None when the response declares a type that no codec reads.
    """
    candidates = tuple(codecs)
    received = media_type(content_type)
    if received is None:
        return candidates[0] if candidates else None
    for codec in candidates:
        if any(media_type_matches(received, accepted) for accepted in codec.content_types):
            return codec
    return None


def accept_header(codecs: Iterable[Codec]) -> str:
    """The Accept value listing the codecs' media types, each once, in order."""
    seen: dict[str, None] = {}
    for codec in codecs:
        for name in codec.content_types:
            seen.setdefault(name, None)
    return ", ".join(seen)


# -- models -----------------------------------------------------------------------------------


def to_model(value: Any, model: Any, path: str = "") -> Any:
    """Build ``model`` from JSON-like ``value`` (dicts, lists, strings, numbers, booleans, None).

    ``model`` may be ``Any`` or ``object`` (``value`` as it is), ``dict``, ``list``, a scalar
    type, ``list[X]``, ``tuple[X, ...]``, ``dict[str, X]``, ``X | None`` and other unions,
    ``Literal[...]``, an ``Enum``, a dataclass (its fields built recursively; a missing or
    unknown key is an error) or a class with ``model_validate`` (pydantic). Raises
    ``DecodingError`` naming the field (``slides[1].title``) that does not fit;
    ``TypeError`` when ``model`` is not something it can build.
    """
    if model is Any or model is object:
        return value
    origin = typing.get_origin(model)
    if origin is not None:
        return _generic(value, model, origin, path)
    if not isinstance(model, type):
        raise TypeError(f"Cannot build {model!r}: give a class, a dataclass, list[...], dict[...] or Any.")
    if dataclasses.is_dataclass(model):
        return _dataclass(value, model, path)
    validate = getattr(model, "model_validate", None)
    if callable(validate):
        return _validated(value, validate, model, path)
    if issubclass(model, enum.Enum):
        return _enum(value, model, path)
    return _scalar(value, model, path)


def _generic(value: Any, model: Any, origin: Any, path: str) -> Any:
    args = typing.get_args(model)
    if origin in (typing.Union, types.UnionType):
        return _union(value, model, args, path)
    if origin is typing.Literal:
        if not any(value == arg and type(value) is type(arg) for arg in args):
            raise _mismatch(path, f"one of {', '.join(map(repr, args))}", value)
        return value
    if origin is list:
        items = _expect(value, list, path, "a list")
        item_model = args[0] if args else Any
        return [to_model(item, item_model, f"{path}[{i}]") for i, item in enumerate(items)]
    if origin is tuple:
        return _tuple(value, args, path)
    if origin is dict:
        mapping = _expect(value, dict, path, "an object")
        value_model = args[1] if len(args) == 2 else Any
        return {key: to_model(item, value_model, _join(path, str(key))) for key, item in mapping.items()}
    raise TypeError(f"Cannot build {model!r}: list[...], tuple[...], dict[...], unions and Literal[...] are supported.")


def _tuple(value: Any, args: tuple[Any, ...], path: str) -> tuple[Any, ...]:
    items = _expect(value, list, path, "a list")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(to_model(item, args[0], f"{path}[{i}]") for i, item in enumerate(items))
    if args and len(items) != len(args):
        raise DecodingError(f"{_where(path)} has {len(items)} items, expected {len(args)}.")
    models = args or (Any,) * len(items)
    pairs = enumerate(zip(items, models, strict=True))
    return tuple(to_model(item, item_model, f"{path}[{i}]") for i, (item, item_model) in pairs)


def _union(value: Any, model: Any, args: tuple[Any, ...], path: str) -> Any:
    if value is None and type(None) in args:
        return None
    arms = [arm for arm in args if arm is not type(None)]
    if len(arms) == 1:  # X | None: X's own error names the field that does not fit
        return to_model(value, arms[0], path)
    errors: list[DecodingError] = []
    for arm in arms:
        try:
            return to_model(value, arm, path)
        except DecodingError as exc:
            errors.append(exc)
    raise _mismatch(path, _type_name(model), value) from (errors[-1] if errors else None)


def _dataclass(value: Any, model: type[Any], path: str) -> Any:
    mapping = _expect(value, dict, path, f"an object for {model.__name__}")
    hints = _hints(model)
    fields = {f.name: f for f in dataclasses.fields(model) if f.init}
    unknown = [key for key in mapping if key not in fields]
    if unknown:
        raise DecodingError(
            f"Unknown field{'s' if len(unknown) > 1 else ''} {', '.join(repr(_join(path, str(k))) for k in unknown)} "
            f"({model.__name__} has {', '.join(fields) or 'no fields'})."
        )
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name in mapping:
            kwargs[name] = to_model(mapping[name], hints[name], _join(path, name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise DecodingError(f"Field {_join(path, name)!r} of {model.__name__} is missing.")
    try:
        return model(**kwargs)
    except (TypeError, ValueError) as exc:
        raise DecodingError(f"{_where(path)} is not a valid {model.__name__}: {exc}") from exc


def _validated(value: Any, validate: Callable[[Any], Any], model: type[Any], path: str) -> Any:
    try:
        return validate(value)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise DecodingError(f"{_where(path)} is not a valid {model.__name__}: {exc}") from exc


def _enum(value: Any, model: type[enum.Enum], path: str) -> Any:
    try:
        return model(value)
    except ValueError as exc:
        choices = ", ".join(repr(member.value) for member in model)
        raise DecodingError(f"{_where(path)} must be one of {choices} ({model.__name__}), not {value!r}.") from exc


def _scalar(value: Any, model: type[Any], path: str) -> Any:
    if model is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if model is type(None):
        if value is not None:
            raise _mismatch(path, "null", value)
        return None
    if isinstance(value, bool) and model is not bool and model in (int, float):
        raise _mismatch(path, _type_name(model), value)
    if not isinstance(value, model):
        raise _mismatch(path, _type_name(model), value)
    return value


def _expect(value: Any, kind: type[Any], path: str, what: str) -> Any:
    if not isinstance(value, kind):
        raise _mismatch(path, what, value)
    return value


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(model: type[Any]) -> dict[str, Any]:
    """The resolved field annotations of a dataclass (cached: classes do not change)."""
    hints = _HINTS.get(model)
    if hints is None:
        try:
            hints = typing.get_type_hints(model)
        except NameError as exc:
            raise TypeError(
                f"Cannot resolve the field types of {model.__name__} ({exc}): define it, and the classes its "
                f"fields name, at the top level of a module."
            ) from exc
        _HINTS[model] = hints
    return hints


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _where(path: str) -> str:
    return f"Field {path!r}" if path else "The body"


def _type_name(model: Any) -> str:
    """What a value of ``model`` is, in words for scalars (``an integer``), else the model's short name."""
    return _SCALAR_NAMES.get(model) or display_model(model)


_SCALAR_NAMES: dict[Any, str] = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def display_model(model: Any) -> str:
    """``model`` as written in code, with short class names: ``list[Point]``, ``Label | None``."""
    origin = typing.get_origin(model)
    args = typing.get_args(model)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(display_model(arg) for arg in args)
    if origin is typing.Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin is not None:
        shown = ", ".join("..." if arg is Ellipsis else display_model(arg) for arg in args)
        return f"{getattr(origin, '__name__', str(origin))}[{shown}]"
    if model is type(None):
        return "None"
    if model is Any:
        return "Any"
    return getattr(model, "__name__", repr(model))


def _mismatch(path: str, expected: str, value: Any) -> DecodingError:
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:39] + "…"
    return DecodingError(f"{_where(path)} must be {expected}, not {shown}.")


# -- responses --------------------------------------------------------------------------------


def _default_codecs() -> tuple[Codec, ...]:
    return (JsonCodec(),)


_DEFAULT_CODECS = _default_codecs()


def decode_body(response: Response, model: Any = Any) -> Any:
    """``response.body(model)``: the body decoded by the codec for its Content-Type, as ``model``.

    The codecs are those of the ContentNegotiation plugin that sent the request, else JSON.
    Raises ``DecodingError`` (a ``ValueError``; URL, Content-Type and the start of the body in
    the message, the codec's error as ``__cause__``), ``ResponseNotReadError`` for a streamed
    body not read yet, ``TypeError`` for a ``model`` it cannot build.
    """
    data = response.content
    plugin = response.request.attribute(ATTRIBUTE)
    codecs = plugin.config.codecs if isinstance(plugin, ContentNegotiation) else _DEFAULT_CODECS
    declared = response.headers.get("Content-Type")
    codec = codec_for(declared, codecs)
    if codec is None:
        readable = ", ".join(accepted for c in codecs for accepted in c.content_types)
        raise DecodingError(
            f"{_describe(response)} has Content-Type {declared!r}, which no codec reads "
            f"(codecs for {readable}): use response.text or response.content, or install a codec for it "
            f"with c.install(ContentNegotiation, codecs=(...))."
        )
    try:
        return codec.decode(data, model)
    except ValueError as exc:
        detail = str(exc) if isinstance(exc, DecodingError) else f"{type(exc).__name__}: {exc}"
        target = "" if model is Any else f" as {display_model(model)}"
        raise DecodingError(
            f"{_describe(response)} cannot be decoded{target} (Content-Type: {declared or 'none'}): "
            f"{detail.rstrip('.')}. The body starts with {response.excerpt(_PREVIEW)!r}."
        ) from exc


def _describe(response: Response) -> str:
    return f"The body of {response.request.method} {mask_url(response.url)}"


# -- the plugin -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ContentNegotiationConfig(PluginConfig):
    codecs: tuple[Codec, ...] = setting(
        default_factory=_default_codecs,
        doc="Codecs, first preferred: response.body() uses the one for the Content-Type.",
        convert=_codecs,
    )
    accept: bool = setting(True, "Send an Accept header listing the codecs' media types when a request sets none.")


class ContentNegotiation(Plugin):
    """Typed bodies: ``response.body(Model)`` decodes with the codec for the response's Content-Type.

    JSON (``JsonCodec``) by default; ``codecs=(...)`` replaces the codecs (list
    ``JsonCodec()`` among them to keep JSON), first preferred. Requests that set no
    ``Accept`` header get one listing the codecs' types (``accept=False`` turns that off).
    ``json=`` bodies are encoded by the request builder (dataclasses and pydantic-style
    models included, with or without this plugin); ``encode(value)`` encodes with a codec
    of this plugin, for ``content=``.
    """

    name = "ContentNegotiation"
    config_class = ContentNegotiationConfig
    config: ContentNegotiationConfig

    def __init__(self, config: ContentNegotiationConfig) -> None:
        super().__init__(config)
        self._accept = accept_header(config.codecs) if config.accept else None

    def on_request(self, request: Request) -> Request:
        if request.attributes is None:
            request.attributes = {}
        request.attributes[ATTRIBUTE] = self
        if self._accept is not None and "Accept" not in request.headers:
            request.headers["Accept"] = self._accept
        return request

    def encode(self, value: Any, content_type: str | None = None) -> bytes:
        """``value`` encoded by the codec for ``content_type`` (default: the first codec).

        For bodies ``json=`` does not cover: ``client.post(url, content=cn.encode(value, "application/cbor"),
        headers={"Content-Type": "application/cbor"})``. ``ConfigError`` when no codec writes that type.
        """
        codec = self.config.codecs[0] if content_type is None else codec_for(content_type, self.config.codecs)
        if codec is None:
            from .._errors import ConfigError

            raise ConfigError(
                f"No codec of ContentNegotiation writes {content_type!r}; it has codecs for "
                f"{accept_header(self.config.codecs)}."
            )
        return codec.encode(value)
