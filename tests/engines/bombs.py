"""The fault server's answers that try to make a client hold more memory than it should.

Registered on ``faults.SCENARIOS`` on import (``test_body_limits`` imports this module):

* ``/lying-length``: ``Content-Length: 3000000000``, 300 KB of body, then the server closes;
* ``/bomb?coding=gzip|deflate|br|zstd``: about 2 MiB (gzip, deflate) or less (br, zstd) of
  compressed zeros that expand to 2 GiB, with a valid Content-Length;
* ``/endless-chunked``: 64 KiB chunks until the client goes away.

The compressed payloads are made once per process. gzip and deflate are made fast: each
MiB of zeros is compressed with a full flush, which leaves zlib's state as it was, so the
bytes of one MiB repeat for every MiB after it (the trailer's checksum is computed apart).
"""

from __future__ import annotations

import asyncio
import functools
import struct
import zlib
from typing import Any

import pytest
from extras import needs

from .faults import FaultServer, _head, scenario

__all__ = ["BOMB_CODINGS", "BOMB_SIZE", "bomb"]

MiB = 1 << 20
#: What every bomb expands to.
BOMB_SIZE = 2048 * MiB
_ZEROS = bytes(MiB)

#: The codings a bomb is made in: gzip and deflate always; br and zstd skip, naming the extra,
#: where it is not installed.
BOMB_CODINGS = [
    "gzip",
    "deflate",
    pytest.param("br", marks=needs("brotli")),
    pytest.param("zstd", marks=needs("zstandard")),
]


def _repeated_deflate(wbits: int) -> tuple[bytes, bytes, bytes]:
    """(first MiB, every next MiB, the end) of a zlib stream of ``BOMB_SIZE`` zeros, without its trailer."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    first = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
    middle = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH) == middle
    return first, middle, compressor.flush()


@functools.cache
def bomb(coding: str) -> bytes:
    """``BOMB_SIZE`` zeros compressed in ``coding``."""
    count = BOMB_SIZE // MiB
    if coding in ("gzip", "deflate"):
        raw = -zlib.MAX_WBITS
        first, middle, end = _repeated_deflate(raw)
        body = first + middle * (count - 1) + end  # count MiB of zeros: the first, then count - 1 repeats
        if coding == "gzip":
            crc = 0
            for _ in range(count):
                crc = zlib.crc32(_ZEROS, crc)
            header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
            return header + body + struct.pack("<II", crc, BOMB_SIZE & 0xFFFFFFFF)
        adler = 1
        for _ in range(count):
            adler = zlib.adler32(_ZEROS, adler)
        return b"\x78\xda" + body + struct.pack(">I", adler)
    if coding == "br":
        import brotli

        compressor = brotli.Compressor(quality=5)
        return b"".join([compressor.process(_ZEROS) for _ in range(count)]) + compressor.finish()
    if coding == "zstd":
        import zstandard

        stream = zstandard.ZstdCompressor(level=3).compressobj()
        return b"".join([stream.compress(_ZEROS) for _ in range(count)]) + stream.flush()
    raise ValueError(f"no bomb in {coding}")


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    for start in range(0, len(data), 64 * 1024):
        writer.write(data[start : start + 64 * 1024])
        await writer.drain()


@scenario("/lying-length")
async def _lying_length(server: FaultServer, req: Any, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """Declares 3,000,000,000 bytes, sends 300 KB, closes."""
    writer.write(_head("200 OK", [*FaultServer.ids(conn, index), ("Content-Length", "3000000000")]))
    await _send(writer, b"x" * 300_000)
    writer.close()
    return False


@scenario("/bomb")
async def _bomb(server: FaultServer, req: Any, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """``BOMB_SIZE`` zeros in the ``coding`` of the query, with their Content-Length."""
    coding = req.query.get("coding", "gzip")
    body = bomb(coding)
    headers = [
        *FaultServer.ids(conn, index),
        ("Content-Type", "application/octet-stream"),
        ("Content-Encoding", coding),
        ("Content-Length", str(len(body))),
    ]
    writer.write(_head("200 OK", headers))
    await _send(writer, body)
    return True


@scenario("/endless-chunked")
async def _endless_chunked(server: FaultServer, req: Any, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """64 KiB chunks, for ever (until the client closes the connection)."""
    writer.write(_head("200 OK", [*FaultServer.ids(conn, index), ("Transfer-Encoding", "chunked")]))
    chunk = b"10000\r\n" + b"e" * 0x10000 + b"\r\n"
    while not writer.transport.is_closing():
        writer.write(chunk * 16)
        await writer.drain()
    return False
