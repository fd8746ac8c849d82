"""The hot path of CIO's WebSockets: whole data frames read and written without wsproto's machinery.

wsproto stays the authority on the protocol: it does the handshake, control frames (ping,
pong, close), fragmented messages, compressed frames (RSV1) and every frame that is not
plainly valid. What it cannot do fast is the common case, and the common case is most of a
session: a server's unfragmented, uncompressed text or binary frame, and a client's whole
message on a session without extensions. Its pure-Python frame parser costs about 8 µs a
message, several times what the rest of a session does (see bench/ws.py); these few lines
cost under 1 µs.

``next_frame`` finds one complete frame at a position of a buffer (RFC 6455, 5.2);
``encode_frame`` writes a masked client frame (5.3). The caller hands wsproto, whole, every
frame ``next_frame`` does not call plain.
"""

from __future__ import annotations

import os
from typing import NamedTuple

__all__ = ["Frame", "encode_frame", "next_frame"]

TEXT, BINARY = 0x1, 0x2


class Frame(NamedTuple):
    """A complete frame at ``buffer[start:end]``, its payload at ``buffer[payload:end]``.

    ``plain``: final, no RSV bits, unmasked, text or binary: a whole message the caller may
    take as it is. The others go to wsproto.
    """

    start: int
    payload: int
    end: int
    opcode: int
    plain: bool


def next_frame(buffer: bytes, start: int) -> Frame | int:
    """The frame beginning at ``start``, or (when it has not all arrived) the size it declares
    (header included; 0 while even that is unknown), so the caller can refuse an oversized one
    before buffering it."""
    available = len(buffer) - start
    if available < 2:
        return 0
    first, second = buffer[start], buffer[start + 1]
    length = second & 0x7F
    header = 2
    if length == 126:
        if available < 4:
            return 0
        length, header = int.from_bytes(buffer[start + 2 : start + 4], "big"), 4
    elif length == 127:
        if available < 10:
            return 0
        length, header = int.from_bytes(buffer[start + 2 : start + 10], "big"), 10
    if second & 0x80:
        header += 4  # masked: a server must not, and wsproto will say so
    end = start + header + length
    if end > len(buffer):
        return header + length
    opcode = first & 0x0F
    plain = (first & 0xF0) == 0x80 and not second & 0x80 and opcode in (TEXT, BINARY)
    return Frame(start, start + header, end, opcode, plain)


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A final client frame of ``payload``, masked with a fresh key."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        head = bytes((0x80 | opcode, 0xFE)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0xFF)) + size.to_bytes(8, "big")
    key = os.urandom(4)
    if not size:
        return head + key
    stream = (key * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(size, "little")
    return head + key + masked
