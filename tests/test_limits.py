"""Body limits without a network: ``c.limits``, ``max_body_size`` on the Mock engine, and the
decompression guard of every decoder, table-tested on data made here."""

from __future__ import annotations

import gzip
import importlib.util
import random
import zlib
from collections.abc import Callable

import pytest
from yarl import URL

from kclient import BodyLimits, ConfigError, HttpClient, Mock, Request, ResponseTooLargeError, respond
from kclient._decoding import accept_encoding, decoder_for

MiB = 1 << 20


def test_limits_are_typed_settings_with_did_you_mean() -> None:
    client = HttpClient(Mock(lambda r: respond(b"")), lambda c: c.limits(max_body_size=10, max_decompression_ratio=50))
    assert client.limits == BodyLimits(max_body_size=10, max_decompression_ratio=50.0, decompression_floor=16 * MiB)
    assert HttpClient(Mock(lambda r: respond(b""))).limits.max_body_size == 256 * MiB
    with pytest.raises(ConfigError, match="Did you mean max_body_size"):
        HttpClient(Mock(lambda r: respond(b"")), lambda c: c.limits(max_body_sise=10))
    with pytest.raises(ConfigError, match=r"at least 1\.0"):
        HttpClient(Mock(lambda r: respond(b"")), lambda c: c.limits(max_decompression_ratio=0.5))


@pytest.mark.anyio
async def test_max_body_size_bounds_bodies_an_engine_hands_over_read() -> None:
    """Mock hands its bodies over already read: the client's limit and the request's apply all the same."""
    engine = Mock(lambda r: respond(b"x" * 100), reuse_handlers=True)
    async with HttpClient(engine, lambda c: c.limits(max_body_size=50)) as client:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.get("http://mock.test/big?token=s3cret")
        assert (await client.get("http://mock.test/big", max_body_size=100)).content == b"x" * 100
        assert (await client.get("http://mock.test/big", max_body_size=None)).content == b"x" * 100
        assert client.status().in_flight == 0
    assert caught.value.limit == 50
    assert "s3cret" not in str(caught.value) and "s3cret" not in caught.value.url


def _request(**limits: object) -> Request:
    request = Request("GET", URL("http://127.0.0.1/x"))
    if limits:
        request.limits = BodyLimits(**limits)  # type: ignore[arg-type]
    return request


def _compress(coding: str, data: bytes) -> bytes:
    if coding == "gzip":
        return gzip.compress(data)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "deflate-raw":
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return compressor.compress(data) + compressor.flush()
    if coding == "br":
        import brotli

        return bytes(brotli.compress(data, quality=5))
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


CODINGS = ["gzip", "deflate", "deflate-raw"] + [
    c for c, m in (("br", "brotli"), ("zstd", "zstandard")) if importlib.util.find_spec(m)
]


def _decode_in_pieces(coding: str, payload: bytes, request: Request, piece: int = 65536) -> bytes:
    decoder = decoder_for("deflate" if coding == "deflate-raw" else coding, request)
    assert decoder is not None
    parts = [decoder.decode(payload[i : i + piece]) for i in range(0, len(payload), piece)]
    return b"".join([*parts, decoder.flush()])


@pytest.mark.parametrize("coding", CODINGS)
def test_genuine_bodies_decode_whole(coding: str) -> None:
    data = random.Random(7).randbytes(3 * MiB) + b"text " * 400_000
    assert _decode_in_pieces(coding, _compress(coding, data), _request()) == data


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize(
    ("limits", "stopped"),
    [
        ({}, True),  # the defaults: 64 MiB of zeros is far past 100 to 1 and past the 16 MiB floor
        ({"max_decompression_ratio": None}, False),  # no guard
        ({"decompression_floor": 128 * MiB}, False),  # under the floor, no ratio is checked
        ({"max_decompression_ratio": 1e6}, False),  # a ratio that zeros stay under... except brotli's
    ],
)
def test_the_guard_stops_what_expands_past_ratio_and_floor(
    coding: str, limits: dict[str, object], stopped: bool
) -> None:
    data = bytes(64 * MiB)
    payload = _compress(coding, data)
    if limits.get("max_decompression_ratio") == 1e6 and len(data) > 1e6 * len(payload):
        stopped = True  # brotli packs 64 MiB of zeros in a few dozen bytes
    decode: Callable[[], bytes] = lambda: _decode_in_pieces(coding, payload, _request(**limits))  # noqa: E731
    if stopped:
        with pytest.raises(ResponseTooLargeError) as caught:
            decode()
        assert caught.value.limit_name == "max_decompression_ratio"
    else:
        assert decode() == data


def test_accept_encoding_names_what_decodes() -> None:
    offered = accept_encoding().split(", ")
    assert offered[:2] == ["gzip", "deflate"]
    for coding in offered:
        assert decoder_for(coding, _request()) is not None
