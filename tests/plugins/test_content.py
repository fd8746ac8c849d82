"""ContentNegotiation without a network: media types, codec choice, JSON encoding and models."""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from multidict import CIMultiDict
from yarl import URL

from kclient import ConfigError, DecodingError, InvalidRequestError
from kclient._models import Request, Response
from kclient._request_builder import build_request
from kclient.plugins.content import (
    ATTRIBUTE,
    Codec,
    ContentNegotiation,
    JsonCodec,
    accept_header,
    codec_for,
    decode_body,
    display_model,
    jsonable,
    media_type,
    media_type_matches,
    to_model,
)

# -- models used by the tables (module level: their annotations are resolved by name) -----------


@dataclass
class Point:
    x: int
    y: int


@dataclass
class Label:
    text: str
    size: float = 1.0
    tags: list[str] = field(default_factory=list)


@dataclass
class Shape:
    name: str
    points: list[Point]
    label: Label | None = None


@dataclass
class Positive:
    value: int

    def __post_init__(self) -> None:
        if self.value <= 0:
            raise ValueError("value must be positive")


@dataclass
class Hidden:
    shown: int
    secret: int = field(default=0, init=False)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class FakeModel:
    """A pydantic-style class: ``model_validate`` builds it, ``model_dump`` turns it into data."""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def model_validate(cls, value: Any) -> FakeModel:
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise ValueError("1 validation error for FakeModel: name is a required string")
        return cls(value["name"])

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        assert mode == "json"
        return {"name": self.name}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FakeModel) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class XmlCodec:
    """A codec of the test's own, for a second media type."""

    content_types = ("application/xml", "text/xml")

    def encode(self, value: Any) -> bytes:
        return f"<value>{value}</value>".encode()

    def decode(self, data: bytes, model: Any) -> Any:
        text = data.decode()
        if not text.startswith("<value>"):
            raise ValueError("not a <value> document")
        return text.removeprefix("<value>").removesuffix("</value>")


# -- media types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", "application/json"),
        ("Application/JSON; charset=utf-8", "application/json"),
        ("  text/html ;q=1", "text/html"),
        ("", None),
        (None, None),
        ("json", None),
    ],
)
def test_media_type(content_type: str | None, expected: str | None) -> None:
    assert media_type(content_type) == expected


@pytest.mark.parametrize(
    ("received", "accepted", "matches"),
    [
        ("application/json", "application/json", True),
        ("application/json; charset=utf-8", "application/json", True),
        ("APPLICATION/JSON", "application/json", True),
        ("application/problem+json", "application/json", True),
        ("application/vnd.api+json; charset=utf-8", "application/json", True),
        ("application/jsonx", "application/json", False),
        ("application/json", "application/problem+json", False),
        ("application/xml", "application/json", False),
        ("text/plain", "application/json", False),
        ("application/json+xml", "application/json", False),
        ("application/soap+xml", "application/xml", True),
        ("garbage", "application/json", False),
    ],
)
def test_media_type_matches(received: str, accepted: str, matches: bool) -> None:
    assert media_type_matches(received, accepted) is matches


JSON, XML = JsonCodec(), XmlCodec()


@pytest.mark.parametrize(
    ("content_type", "codecs", "expected"),
    [
        ("application/json", (JSON,), JSON),
        ("application/problem+json", (JSON,), JSON),
        (None, (JSON, XML), JSON),  # no Content-Type: the first (preferred) codec
        ("", (XML, JSON), XML),
        ("text/xml; charset=utf-8", (JSON, XML), XML),
        ("application/atom+xml", (JSON, XML), XML),
        ("text/html", (JSON, XML), None),
        ("application/json", (), None),
    ],
)
def test_codec_for(content_type: str | None, codecs: tuple[Codec, ...], expected: Codec | None) -> None:
    assert codec_for(content_type, codecs) is expected


@pytest.mark.parametrize(
    ("codecs", "expected"),
    [
        ((JSON,), "application/json"),
        ((JSON, XML), "application/json, application/xml, text/xml"),
        ((JSON, JsonCodec(content_types=("application/json", "text/json"))), "application/json, text/json"),
    ],
)
def test_accept_header(codecs: tuple[Codec, ...], expected: str) -> None:
    assert accept_header(codecs) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (Point, "Point"),
        (list[Point], "list[Point]"),
        (dict[str, list[Label | None]], "dict[str, list[Label | None]]"),
        (tuple[int, ...], "tuple[int, ...]"),
        (Literal["a", 1], "Literal['a', 1]"),
        (Any, "Any"),
        (type(None), "None"),
    ],
)
def test_display_model(model: Any, expected: str) -> None:
    assert display_model(model) == expected


# -- encoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Point(1, 2), {"x": 1, "y": 2}),
        (Shape("s", [Point(0, 1)]), {"name": "s", "points": [{"x": 0, "y": 1}], "label": None}),
        (FakeModel("m"), {"name": "m"}),
    ],
)
def test_jsonable(value: Any, expected: Any) -> None:
    assert jsonable(value) == expected


@pytest.mark.parametrize("value", [object(), Point, FakeModel, {1, 2}])
def test_jsonable_refuses_other_values(value: Any) -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsonable(value)


@pytest.mark.parametrize(
    ("codec", "value", "expected"),
    [
        (JsonCodec(), {"a": [1, "é"]}, '{"a":[1,"é"]}'.encode()),
        (JsonCodec(ensure_ascii=True), {"a": "é"}, b'{"a":"\\u00e9"}'),
        (JsonCodec(), Point(1, 2), b'{"x":1,"y":2}'),
        (JsonCodec(), [FakeModel("m"), {"p": Point(3, 4)}], b'[{"name":"m"},{"p":{"x":3,"y":4}}]'),
        (JsonCodec(default=sorted), {"s": {3, 1}}, b'{"s":[1,3]}'),
        (JsonCodec(default=str), {"p": Point(1, 2)}, b'{"p":{"x":1,"y":2}}'),  # dataclasses before default
    ],
)
def test_json_codec_encode(codec: JsonCodec, value: Any, expected: bytes) -> None:
    assert codec.encode(value) == expected


def test_json_codec_encode_refuses_unknown_values() -> None:
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        JsonCodec().encode({"x": object()})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": 1}, {"a": 1}),  # the plain path, unchanged
        (Point(1, 2), {"x": 1, "y": 2}),
        (
            {"shape": Shape("s", [Point(0, 1)], Label("l"))},
            {"shape": {"name": "s", "points": [{"x": 0, "y": 1}], "label": {"text": "l", "size": 1.0, "tags": []}}},
        ),
        ([FakeModel("m")], [{"name": "m"}]),
    ],
)
def test_json_request_body_encodes_dataclasses_and_models(value: Any, expected: Any) -> None:
    request = build_request("POST", "http://127.0.0.1/x", {"json": value})
    assert isinstance(request.content, bytes)
    assert json.loads(request.content) == expected
    assert request.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("value", [{"x": object()}, Point(1, object())])  # type: ignore[arg-type]
def test_json_request_body_still_refuses_unknown_values(value: Any) -> None:
    with pytest.raises(InvalidRequestError, match="cannot be encoded as JSON"):
        build_request("POST", "http://127.0.0.1/x", {"json": value})


# -- models -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "model", "expected"),
    [
        ({"a": [1]}, Any, {"a": [1]}),
        ([1, "x"], object, [1, "x"]),
        ({"a": 1}, dict, {"a": 1}),
        ([1, 2], list, [1, 2]),
        ("text", str, "text"),
        (3, int, 3),
        (3, float, 3.0),
        (2.5, float, 2.5),
        (True, bool, True),
        (None, None | int, None),
        (4, int | None, 4),
        ("4", int | str, "4"),
        ([1, 2], list[int], [1, 2]),
        ([1, 2], tuple[int, ...], (1, 2)),
        ([1, "a"], tuple[int, str], (1, "a")),
        ({"a": 1.5}, dict[str, float], {"a": 1.5}),
        ("red", Color, Color.RED),
        ("b", Literal["a", "b"], "b"),
        ({"x": 1, "y": 2}, Point, Point(1, 2)),
        ([{"x": 1, "y": 2}, {"x": 3, "y": 4}], list[Point], [Point(1, 2), Point(3, 4)]),
        ({"text": "t"}, Label, Label("t")),
        ({"text": "t", "size": 2, "tags": ["a"]}, Label, Label("t", 2.0, ["a"])),
        (
            {"name": "s", "points": [{"x": 0, "y": 0}], "label": {"text": "l"}},
            Shape,
            Shape("s", [Point(0, 0)], Label("l")),
        ),
        ({"name": "s", "points": [], "label": None}, Shape, Shape("s", [])),
        ({"p": {"x": 1, "y": 1}}, dict[str, Point], {"p": Point(1, 1)}),
        ({"name": "m"}, FakeModel, FakeModel("m")),
        ([{"name": "a"}], list[FakeModel], [FakeModel("a")]),
        ({"shown": 1}, Hidden, Hidden(1)),
    ],
)
def test_to_model(value: Any, model: Any, expected: Any) -> None:
    built = to_model(value, model)
    assert built == expected
    assert type(built) is type(expected)


@pytest.mark.parametrize(
    ("value", "model", "message"),
    [
        ({"x": 1}, Point, "Field 'y' of Point is missing"),
        ({"x": 1, "y": 2, "z": 3}, Point, "Unknown field 'z' \\(Point has x, y\\)"),
        ({"x": "1", "y": 2}, Point, "Field 'x' must be an integer, not '1'"),
        ({"x": True, "y": 2}, Point, "Field 'x' must be an integer, not True"),
        ([{"x": 1, "y": 2}, {"x": 1}], list[Point], r"Field '\[1\].y' of Point is missing"),
        (
            {"name": "s", "points": [{"x": 0, "y": 0}, {"x": 0, "y": "no"}]},
            Shape,
            r"Field 'points\[1\].y' must be an integer",
        ),
        (
            {"name": "s", "points": [], "label": {"txt": "l"}},
            Shape,
            "Unknown field 'label.txt' \\(Label has text, size, tags\\)",
        ),
        ({"name": "s", "points": [], "label": {"text": 5}}, Shape, "Field 'label.text' must be a string, not 5"),
        ({"name": "s", "points": [], "label": "l"}, Shape, "Field 'label' must be an object for Label"),
        ([1.5], list[int | str], r"Field '\[0\]' must be int \| str, not 1.5"),
        ([1, 2], Point, "The body must be an object for Point, not"),
        ({"a": 1}, list[int], "The body must be a list"),
        (["a"], list[int], r"Field '\[0\]' must be an integer"),
        ([1, 2, 3], tuple[int, int], "has 3 items, expected 2"),
        ({"a": "x"}, dict[str, int], "Field 'a' must be an integer"),
        ("green", Color, "must be one of 'red', 'blue'"),
        ("c", Literal["a", "b"], "must be one of 'a', 'b'"),
        (1, Literal[True], "must be one of True"),
        (1.5, int, "must be an integer"),
        (None, str, "must be a string, not None"),
        ({"value": -1}, Positive, "is not a valid Positive: value must be positive"),
        ({"shown": 1, "secret": 2}, Hidden, "Unknown field 'secret'"),
        ({"title": 1}, FakeModel, "The body is not a valid FakeModel: 1 validation error"),
        ({"m": {"title": 1}}, dict[str, FakeModel], "Field 'm' is not a valid FakeModel"),
    ],
)
def test_to_model_errors_name_the_field(value: Any, model: Any, message: str) -> None:
    with pytest.raises(DecodingError, match=message):
        to_model(value, model)


def test_to_model_keeps_the_validation_error_as_cause() -> None:
    with pytest.raises(DecodingError) as caught:
        to_model({"title": 1}, FakeModel)
    assert isinstance(caught.value.__cause__, ValueError)
    assert "validation error" in str(caught.value.__cause__)


@pytest.mark.parametrize("model", [42, "Point", set[int]])
def test_to_model_refuses_what_it_cannot_build(model: Any) -> None:
    with pytest.raises(TypeError, match="Cannot build"):
        to_model({}, model)


def test_to_model_explains_unresolvable_annotations() -> None:
    @dataclass
    class Local:
        inner: Missing  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(TypeError, match="at the top level of a module"):
        to_model({"inner": 1}, Local)


# -- response.body() --------------------------------------------------------------------------


def _response(content: bytes, content_type: str | None = "application/json", *, plugin: Any = None) -> Response:
    request = Request("GET", URL("http://user:pw@127.0.0.1:8000/items?token=secret"))
    if plugin is not None:
        request.attributes = {ATTRIBUTE: plugin}
    headers: CIMultiDict[str] = CIMultiDict()
    if content_type is not None:
        headers["Content-Type"] = content_type
    return Response(200, request=request, headers=headers, content=content)


@pytest.mark.parametrize(
    ("content", "content_type", "model", "expected"),
    [
        (b'{"x": 1, "y": 2}', "application/json", Any, {"x": 1, "y": 2}),
        (b'{"x": 1, "y": 2}', "application/json; charset=utf-8", Point, Point(1, 2)),
        (b'[{"x": 1, "y": 2}]', "application/vnd.points+json", list[Point], [Point(1, 2)]),
        (b'{"x": 1, "y": 2}', None, dict, {"x": 1, "y": 2}),
        ('{"text": "é"}'.encode(), "application/json", Label, Label("é")),
    ],
)
def test_body_decodes_with_the_default_json_codec(
    content: bytes, content_type: str | None, model: Any, expected: Any
) -> None:
    response = _response(content, content_type)
    assert response.body(model) == expected
    assert decode_body(response, model) == expected


def test_body_without_model_is_the_raw_value() -> None:
    assert _response(b"[1, 2]").body() == [1, 2]


def test_body_uses_the_codecs_of_the_plugin_that_sent_the_request() -> None:
    plugin = ContentNegotiation.create(codecs=(JsonCodec(), XmlCodec()))
    assert _response(b"<value>7</value>", "text/xml", plugin=plugin).body() == "7"
    assert _response(b'{"a": 1}', "application/json", plugin=plugin).body() == {"a": 1}


def test_body_with_a_type_no_codec_reads() -> None:
    with pytest.raises(
        DecodingError, match=r"Content-Type 'text/html', which no codec reads \(codecs for application/json\)"
    ):
        _response(b"<html></html>", "text/html").body()


@pytest.mark.parametrize(
    ("content", "model", "message", "cause"),
    [
        (
            b"<html>oops</html>",
            Any,
            r"decoded \(Content-Type: application/json\): JSONDecodeError: Expecting value",
            json.JSONDecodeError,
        ),
        (b'{"x": 1}', Point, "Field 'y' of Point is missing", DecodingError),
        (b'{"x": 1, "y": 2, "z": 0}', Point, "Unknown field 'z' \\(Point has x, y\\)", DecodingError),
    ],
)
def test_body_errors_name_the_url_and_quote_the_body(
    content: bytes, model: Any, message: str, cause: type[BaseException]
) -> None:
    response = _response(content)
    with pytest.raises(DecodingError, match=message) as caught:
        response.body(model)
    text = str(caught.value)
    assert text.startswith("The body of GET http://user:***@127.0.0.1:8000/items?token=*** cannot be decoded")
    assert "pw" not in text
    assert "secret" not in text
    assert repr(content.decode()[:20])[1:-1] in text  # the preview
    assert isinstance(caught.value.__cause__, cause)
    assert isinstance(caught.value, ValueError)


def test_body_of_a_streamed_response_not_read() -> None:
    from kclient import ResponseNotReadError

    class Stream:
        def __aiter__(self) -> Any:
            raise AssertionError("not read")

        async def aclose(self) -> None:
            pass

    response = Response(200, request=Request("GET", URL("http://127.0.0.1/")), stream=Stream())
    with pytest.raises(ResponseNotReadError):
        response.body()


# -- the plugin's config and hooks ------------------------------------------------------------


def test_defaults() -> None:
    plugin = ContentNegotiation.create()
    assert isinstance(plugin, ContentNegotiation)
    assert len(plugin.config.codecs) == 1
    assert isinstance(plugin.config.codecs[0], JsonCodec)
    assert plugin.config.accept is True


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"codecs": ()}, "non-empty tuple of codecs"),
        ({"codecs": "json"}, "non-empty tuple of codecs"),
        ({"codecs": (object(),)}, "is not a codec"),
        ({"codecs": (JsonCodec(content_types=("json",)),)}, "'type/subtype' names"),
        ({"codecs": (JsonCodec(content_types=()),)}, "'type/subtype' names"),
        ({"codecs": (JsonCodec(content_types=("application/json; charset=utf-8",)),)}, "'type/subtype' names"),
        ({"accept": "yes"}, "must be True or False"),
        ({"codec": (JsonCodec(),)}, "Did you mean codecs"),
    ],
)
def test_config_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ContentNegotiation.create(**options)


def test_a_single_codec_is_accepted() -> None:
    plugin = ContentNegotiation.create(codecs=XmlCodec())
    assert isinstance(plugin, ContentNegotiation)
    assert len(plugin.config.codecs) == 1


@pytest.mark.parametrize(
    ("options", "headers", "expected_accept"),
    [
        ({}, {}, "application/json"),
        ({"codecs": (JsonCodec(), XmlCodec())}, {}, "application/json, application/xml, text/xml"),
        ({}, {"accept": "text/csv"}, "text/csv"),
        ({"accept": False}, {}, None),
    ],
)
def test_on_request_sets_accept_and_stores_the_plugin(
    options: dict[str, Any], headers: dict[str, str], expected_accept: str | None
) -> None:
    plugin = ContentNegotiation.create(**options)
    request = build_request("GET", "http://127.0.0.1/x", {"headers": headers})
    assert request.attributes is None
    prepared = plugin.on_request(request)
    assert prepared.headers.get("Accept") == expected_accept
    assert prepared.attribute(ATTRIBUTE) is plugin


def test_on_request_keeps_the_other_attributes() -> None:
    plugin = ContentNegotiation.create()
    request = build_request("GET", "http://127.0.0.1/x", {"follow_redirects": False})
    prepared = plugin.on_request(request)
    assert prepared.attributes == {"follow_redirects": False, ATTRIBUTE: plugin}


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [(None, b'{"x":1,"y":2}'), ("application/json", b'{"x":1,"y":2}'), ("text/xml", b"<value>Point(x=1, y=2)</value>")],
)
def test_encode_with_a_codec_of_the_plugin(content_type: str | None, expected: bytes) -> None:
    plugin = ContentNegotiation.create(codecs=(JsonCodec(), XmlCodec()))
    assert isinstance(plugin, ContentNegotiation)
    assert plugin.encode(Point(1, 2), content_type) == expected


def test_encode_for_a_type_no_codec_writes() -> None:
    plugin = ContentNegotiation.create()
    assert isinstance(plugin, ContentNegotiation)
    with pytest.raises(ConfigError, match="No codec of ContentNegotiation writes 'text/csv'"):
        plugin.encode([1], "text/csv")


def test_codecs_are_frozen_dataclasses() -> None:
    codec = JsonCodec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        codec.ensure_ascii = True  # type: ignore[misc]
