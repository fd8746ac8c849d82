"""Response and request bodies: static files of every size, streaming, compression, chunked framing, uploads."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import anyio
import pytest

from kclient import Engine, HttpClient

from .faults import CHUNKED_PARTS, UNTIL_CLOSE_BODY, FaultServer
from .support import HANG_GUARD, Site, chunked_body, pattern_bytes, require

pytestmark = pytest.mark.anyio

#: Every size except 100 MiB, which is downloaded once, streamed (test_download_100mib_streamed).
SIZES = ["0B", "1B", "12B", "1KiB", "64KiB", "1MiB", "10MiB"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- static files from nginx ------------------------------------------------------------------


@pytest.mark.parametrize("name", SIZES)
async def test_download_read_at_once(client: HttpClient, nginx: Site, name: str) -> None:
    expected = nginx.files[name]
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(nginx.url + expected.path)
    assert response.status == 200
    assert int(response.headers["Content-Length"]) == expected.size
    assert len(response.content) == expected.size
    assert sha256(response.content) == expected.sha256
    assert response.is_closed


@pytest.mark.parametrize("name", SIZES)
async def test_download_streamed(client: HttpClient, engine: type[Engine], nginx: Site, name: str) -> None:
    require(engine, "streaming")
    expected = nginx.files[name]
    with anyio.fail_after(HANG_GUARD):
        async with client.stream("GET", nginx.url + expected.path) as response:
            assert response.status == 200
            if expected.size >= 1 << 20:
                assert not response.is_closed, "a streamed response of a megabyte or more was read before the block"
            chunks = [chunk async for chunk in response.aiter_bytes()]
    assert all(chunks), "aiter_bytes yielded an empty chunk"
    body = b"".join(chunks)
    assert len(body) == expected.size
    assert sha256(body) == expected.sha256
    assert response.is_closed


async def test_download_100mib_streamed(client: HttpClient, engine: type[Engine], nginx: Site) -> None:
    require(engine, "streaming")
    expected = nginx.files["100MiB"]
    digest = hashlib.sha256()
    size = 0
    with anyio.fail_after(HANG_GUARD):
        async with client.stream("GET", nginx.url + expected.path) as response:
            assert response.status == 200
            async for chunk in response.aiter_bytes():
                digest.update(chunk)
                size += len(chunk)
    assert size == expected.size
    assert digest.hexdigest() == expected.sha256


async def test_stream_read_at_once_with_aread(client: HttpClient, engine: type[Engine], nginx: Site) -> None:
    require(engine, "streaming")
    expected = nginx.files["1MiB"]
    async with client.stream("GET", nginx.url + expected.path) as response:
        body = await response.aread()
        assert response.content is body
    assert sha256(body) == expected.sha256


# -- compression and chunked framing ----------------------------------------------------------


@pytest.mark.parametrize("name", ["data.json", "data.txt"])
async def test_nginx_gzip_is_decoded(client: HttpClient, engine: type[Engine], nginx: Site, name: str) -> None:
    url = f"{nginx.url}/gzip/{name}"
    original = nginx.compressible[name]
    response = await client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers.get("Transfer-Encoding") == "chunked"  # nginx gzips on the fly
    assert response.content == original
    if engine.capabilities.streaming:
        async with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as streamed:
            assert b"".join([chunk async for chunk in streamed.aiter_bytes()]) == original


async def test_httpbin_gzip_is_decoded(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/gzip")
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json()["gzipped"] is True


async def test_httpbin_deflate_is_decoded(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/deflate")
    assert response.headers["Content-Encoding"] == "deflate"
    assert response.json()["deflated"] is True


async def test_chunked_body_with_extensions_and_trailers(client: HttpClient, fault_server: FaultServer) -> None:
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(fault_server.url + "/chunked")
        assert response.status == 200
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert response.content == b"".join(CHUNKED_PARTS)
        # The connection survives a body that ended with trailers.
        again = await client.get(fault_server.url + "/chunked")
    assert again.content == b"".join(CHUNKED_PARTS)
    assert again.headers["X-Conn"] == response.headers["X-Conn"]


async def test_chunked_stream_from_httpbin(client: HttpClient, engine: type[Engine], httpbin: Any) -> None:
    require(engine, "streaming")
    async with client.stream("GET", httpbin.url + "/stream/20") as response:
        assert response.status == 200
        body = await response.aread()
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert [line["id"] for line in lines] == list(range(20))


async def test_stream_bytes_streamed_equals_read(client: HttpClient, engine: type[Engine], httpbin: Any) -> None:
    require(engine, "streaming")
    url = httpbin.url + "/stream-bytes/100000?chunk_size=1000&seed=7"
    async with client.stream("GET", url) as response:
        streamed = b"".join([chunk async for chunk in response.aiter_bytes()])
    at_once = (await client.get(url)).content
    assert len(streamed) == 100_000  # httpbin caps at 100 KiB
    assert streamed == at_once


async def test_drip(client: HttpClient, engine: type[Engine], httpbin: Any) -> None:
    require(engine, "streaming")
    async with client.stream("GET", httpbin.url + "/drip?numbytes=5&duration=0.5&delay=0&code=200") as response:
        received = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert received == b"*****"


async def test_bytes(client: HttpClient, httpbin: Any) -> None:
    response = await client.get(httpbin.url + "/bytes/5000?seed=1")
    assert response.status == 200
    assert len(response.content) == 5000


@pytest.mark.parametrize("path", ["/until-close-http10", "/until-close-http11"])
async def test_read_until_close_body(client: HttpClient, fault_server: FaultServer, path: str) -> None:
    with anyio.fail_after(HANG_GUARD):
        response = await client.get(fault_server.url + path)
        assert response.status == 200
        assert "Content-Length" not in response.headers
        assert response.content == UNTIL_CLOSE_BODY
        after = await client.get(fault_server.url + "/ok")
    assert after.content == b"ok"


# -- request bodies ---------------------------------------------------------------------------

UPLOAD_SIZES = {"0B": 0, "1B": 1, "64KiB": 64 << 10, "10MiB": 10 << 20}


@pytest.mark.parametrize("name", UPLOAD_SIZES)
async def test_upload_bytes_to_nginx(client: HttpClient, nginx: Site, name: str) -> None:
    with anyio.fail_after(HANG_GUARD):
        response = await client.post(nginx.url + "/upload", content=pattern_bytes(UPLOAD_SIZES[name]))
    assert response.status == 200
    assert response.content == b"ok\n"


@pytest.mark.parametrize("name", UPLOAD_SIZES)
async def test_upload_bytes_is_received_intact(client: HttpClient, fault_server: FaultServer, name: str) -> None:
    body = pattern_bytes(UPLOAD_SIZES[name])
    with anyio.fail_after(HANG_GUARD):
        echoed = (await client.post(fault_server.url + "/echo", content=body)).json()
    assert echoed["body_length"] == len(body)
    assert echoed["body_sha256"] == sha256(body)
    assert echoed["framing"]["transfer_encoding"] is None
    if body:
        assert echoed["framing"]["content_length"] == str(len(body))
    else:
        assert echoed["framing"]["content_length"] in (None, "0")


async def test_async_iterable_body_is_sent_chunked(client: HttpClient, fault_server: FaultServer) -> None:
    parts = [b"first,", b"second,", b"", b"third", pattern_bytes(100_000)]
    with anyio.fail_after(HANG_GUARD):
        echoed = (await client.post(fault_server.url + "/echo", content=chunked_body(parts))).json()
    assert echoed["framing"]["transfer_encoding"] == "chunked"
    assert echoed["framing"]["content_length"] is None
    assert echoed["body_sha256"] == sha256(b"".join(parts))


async def test_async_iterable_10mib_to_nginx(client: HttpClient, nginx: Site) -> None:
    parts = [pattern_bytes(1 << 20)] * 10
    with anyio.fail_after(HANG_GUARD):
        response = await client.post(nginx.url + "/upload", content=chunked_body(parts))
    assert response.status == 200
    assert response.content == b"ok\n"


async def test_post_json(client: HttpClient, httpbin: Any) -> None:
    body = {"name": "Ada", "tags": ["a", "b"], "n": 1, "unicode": "é ∑ 😀"}
    for path in ("/post", "/anything"):
        echoed = (await client.post(httpbin.url + path, json=body)).json()
        assert echoed["json"] == body
        assert echoed["headers"]["Content-Type"] == "application/json"


async def test_post_form(client: HttpClient, httpbin: Any) -> None:
    for path in ("/post", "/anything"):
        echoed = (await client.post(httpbin.url + path, data={"name": "Ada", "lang": ["en", "fr"]})).json()
        assert echoed["form"] == {"name": "Ada", "lang": ["en", "fr"]}
        assert echoed["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


async def test_post_multipart(client: HttpClient, httpbin: Any) -> None:
    for path in ("/post", "/anything"):
        response = await client.post(
            httpbin.url + path,
            data={"title": "report"},
            files={"upload": ("r.csv", b"a,b\n1,2\n", "text/csv"), "notes": ("notes.txt", "text notes")},
        )
        echoed = response.json()
        assert echoed["form"] == {"title": "report"}
        assert echoed["files"] == {"upload": "a,b\n1,2\n", "notes": "text notes"}
        assert echoed["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


async def test_put_and_patch_bytes(client: HttpClient, httpbin: Any) -> None:
    for method in ("PUT", "PATCH"):
        response = await client.request(
            method, httpbin.url + "/anything", content=b"raw \x00 bytes", headers={"Content-Type": "x/raw"}
        )
        echoed = response.json()
        assert echoed["method"] == method
        assert echoed["data"] == "raw \x00 bytes"
        assert echoed["headers"]["Content-Length"] == str(len(b"raw \x00 bytes"))
