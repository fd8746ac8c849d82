"""Content-Encoding on every engine: gzip, deflate (with and without its zlib header), br, zstd.

A small WSGI server on 127.0.0.1 answers with bodies compressed here, so the test knows the
exact bytes; brotli and zstandard come with the ``compression`` extra (in the test set).
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from extras import has_module, needs
from werkzeug.serving import make_server

from kclient import DecodingError, Engine, HttpClient

from .support import engine_bug, pattern_bytes

pytestmark = pytest.mark.anyio

ORIGINAL = pattern_bytes(300_000)


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


ENCODED: dict[str, tuple[str, bytes]] = {
    "gzip": ("gzip", gzip.compress(ORIGINAL)),
    "deflate": ("deflate", zlib.compress(ORIGINAL)),
    "raw-deflate": ("deflate", _raw_deflate(ORIGINAL)),
}
if has_module("brotli"):
    import brotli

    ENCODED["br"] = ("br", brotli.compress(ORIGINAL))
if has_module("zstandard"):
    import zstandard

    ENCODED["zstd"] = ("zstd", zstandard.ZstdCompressor().compress(ORIGINAL))

#: Every coding the test knows; br and zstd skip, naming the extra, where it is missing.
NAMES = [
    *(name for name in ENCODED if name not in ("br", "zstd")),
    pytest.param("br", marks=needs("brotli")),
    pytest.param("zstd", marks=needs("zstandard")),
]


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    name = environ["PATH_INFO"].strip("/")
    if name == "broken-gzip":
        body = b"\x1f\x8b\x08\x00 this is not gzip at all"
        start_response("200 OK", [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))])
        return [body]
    coding, body = ENCODED[name]
    start_response("200 OK", [("Content-Encoding", coding), ("Content-Length", str(len(body)))])
    # Several writes, so the compressed stream reaches the client in pieces.
    return [body[i : i + 7000] for i in range(0, len(body), 7000)]


@pytest.fixture(scope="module")
def compressed_site() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("name", NAMES)
async def test_body_is_decoded(client: HttpClient, engine: type[Engine], compressed_site: str, name: str) -> None:
    url = f"{compressed_site}/{name}"
    response = await client.get(url)
    assert response.status == 200
    assert response.headers["Content-Encoding"] == ENCODED[name][0]
    assert response.content == ORIGINAL
    if engine.capabilities.streaming:
        async with client.stream("GET", url) as streamed:
            assert b"".join([chunk async for chunk in streamed.aiter_bytes()]) == ORIGINAL


@engine_bug(
    "Httpx",
    "a decoding error mid-body abandons httpx's async generators (aiter_raw...), which trio reports as "
    "ResourceWarning when they are garbage collected (encode/httpx#3686)",
    backend="trio",
    raises=(pytest.PytestUnraisableExceptionWarning, ExceptionGroup),
)
async def test_corrupt_compressed_body_is_a_decoding_error(client: HttpClient, compressed_site: str) -> None:
    with pytest.raises(DecodingError) as caught:
        await client.get(f"{compressed_site}/broken-gzip")
    assert isinstance(caught.value, ValueError)
    response = await client.get(f"{compressed_site}/gzip")  # the client goes on
    assert response.content == ORIGINAL
