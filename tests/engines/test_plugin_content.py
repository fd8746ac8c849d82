"""ContentNegotiation on every engine, against httpbin: typed bodies in both directions, Accept, errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from kclient import DecodingError, HttpClient
from kclient.plugins.content import ContentNegotiation, JsonCodec

pytestmark = pytest.mark.anyio


@dataclass
class Slide:
    title: str
    type: str
    items: list[str] | None = None


@dataclass
class Slideshow:
    author: str
    date: str
    slides: list[Slide]
    title: str


@dataclass
class SlideshowDocument:
    slideshow: Slideshow


@dataclass
class Order:
    id: int
    item: str
    quantity: float
    tags: list[str]


@dataclass
class EchoBase:
    """What httpbin's /anything answers, but its ``json`` (every key is declared: unknown ones are errors)."""

    args: dict[str, str]
    data: str
    files: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    method: str
    origin: str
    url: str


@dataclass
class Echo(EchoBase):
    json: Order | None


@dataclass
class NamedEcho(EchoBase):
    json: list[Named]


class Named:
    """A pydantic-style model (``model_validate`` / ``model_dump``), without pydantic."""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def model_validate(cls, value: Any) -> Named:
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise ValueError("name is a required string")
        return cls(value["name"])

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {"name": self.name}


def _negotiating(**options: Any) -> Callable[[Any], None]:
    return lambda c: c.install(ContentNegotiation, **options)


async def test_json_body_as_nested_dataclasses(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(_negotiating())
    response = await client.get(httpbin.url + "/json")
    document = response.body(SlideshowDocument)
    assert isinstance(document, SlideshowDocument)
    assert document.slideshow.title == "Sample Slide Show"
    assert [slide.title for slide in document.slideshow.slides] == ["Wake up to WonderWidgets!", "Overview"]
    assert document.slideshow.slides[0].items is None
    assert document.slideshow.slides[1].items == [
        "Why <em>WonderWidgets</em> are great",
        "Who <em>buys</em> WonderWidgets",
    ]
    assert response.body() == response.json()  # Any: the decoded value as it is


async def test_posted_dataclass_is_echoed_and_decoded(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(_negotiating())
    order = Order(id=7, item="café crème", quantity=1.5, tags=["hot"])
    response = await client.post(httpbin.url + "/anything", json=order)
    echo = response.body(Echo)
    assert echo.method == "POST"
    assert echo.json == order
    assert echo.headers["Content-Type"] == "application/json"
    assert echo.headers["Accept"] == "application/json"  # set by the plugin


async def test_pydantic_style_models_both_ways(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(_negotiating())
    response = await client.post(httpbin.url + "/anything", json=[Named("a"), Named("b")])
    assert response.body()["json"] == [{"name": "a"}, {"name": "b"}]
    echo = response.body(NamedEcho)
    assert all(isinstance(item, Named) for item in echo.json)
    assert [item.name for item in echo.json] == ["a", "b"]


async def test_dataclass_json_body_without_the_plugin(client: HttpClient, httpbin: Any) -> None:
    order = Order(id=1, item="tea", quantity=2, tags=[])
    response = await client.post(httpbin.url + "/anything", json={"order": order})
    assert response.json()["json"] == {"order": {"id": 1, "item": "tea", "quantity": 2, "tags": []}}
    assert response.body(dict[str, Any])["json"]["order"]["item"] == "tea"  # body() falls back to JSON
    assert response.json()["headers"].get("Accept") != "application/json"  # no plugin, no Accept of its own


@pytest.mark.parametrize(
    ("options", "headers", "expected"),
    [
        ({}, {}, "application/json"),
        ({}, {"Accept": "text/plain"}, "text/plain"),
        ({"codecs": (JsonCodec(), JsonCodec(content_types=("application/x-ndjson",)))}, {}, None),
    ],
)
async def test_accept_header(
    make_client: Callable[..., HttpClient],
    httpbin: Any,
    options: dict[str, Any],
    headers: dict[str, str],
    expected: str | None,
) -> None:
    client = make_client(_negotiating(**options))
    response = await client.get(httpbin.url + "/headers", headers=headers)
    sent = response.body(dict[str, dict[str, str]])["headers"]
    assert sent["Accept"] == (expected or "application/json, application/x-ndjson")


async def test_accept_off_leaves_the_engine_default(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(_negotiating(accept=False))
    response = await client.get(httpbin.url + "/headers")
    assert response.body()["headers"].get("Accept") != "application/json"


async def test_a_field_that_does_not_fit_is_named(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(_negotiating())
    response = await client.get(httpbin.url + "/json")
    with pytest.raises(DecodingError, match=r"as dict\[str, Order\] .*: Unknown fields 'slideshow.author', ") as caught:
        response.body(dict[str, Order])
    assert f"GET {httpbin.url}/json" in str(caught.value)
    assert "The body starts with '{" in str(caught.value)


async def test_a_body_that_is_not_json(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(_negotiating())
    response = await client.get(httpbin.url + "/html")
    with pytest.raises(DecodingError, match="Content-Type 'text/html; charset=utf-8', which no codec reads"):
        response.body()
    assert "<html>" in response.text  # the body is still there to read as text


async def test_gzip_json_is_decoded_after_the_content_coding(
    make_client: Callable[..., HttpClient], httpbin: Any
) -> None:
    client = make_client(_negotiating())
    response = await client.get(httpbin.url + "/gzip", headers={"Accept-Encoding": "gzip"})
    assert response.body()["gzipped"] is True


async def test_body_of_a_streamed_response(make_client: Callable[..., HttpClient], httpbin: Any) -> None:
    client = make_client(_negotiating())
    async with client.stream("GET", httpbin.url + "/json") as response:
        await response.aread()
        assert response.body(SlideshowDocument).slideshow.author == "Yours Truly"
