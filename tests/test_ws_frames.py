"""CIO's WebSocket frames: the hot path's codec (``_ws_frames``) and how a session splits the byte
stream between it and wsproto, whatever the chunks the network cuts it into."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("wsproto", reason="CIO's WebSockets need wsproto: pip install 'kclient[websocket]'")

from yarl import URL

from kclient import Request
from kclient._ws_channel import WebSocketSettings
from kclient.engines.cio._websocket import CIOWebSocket
from kclient.engines.cio._ws_frames import BINARY, TEXT, Frame, encode_frame, next_frame


def unmask(frame: bytes) -> tuple[int, bytes]:
    """The opcode and payload of a masked client frame, as a server reads it."""
    found = next_frame(frame, 0)
    assert isinstance(found, Frame) and found.end == len(frame)
    key = frame[found.payload - 4 : found.payload]
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(frame[found.payload :]))
    return found.opcode, payload


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_client_frames_are_masked_and_read_back(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    frame = encode_frame(BINARY, payload)
    assert frame[0] == 0x82 and frame[1] & 0x80  # final, binary, masked
    assert unmask(frame) == (BINARY, payload)
    assert encode_frame(BINARY, payload) != frame or size == 0  # a fresh key each time


def server_frame(opcode: int, payload: bytes, *, final: bool = True, rsv: int = 0) -> bytes:
    size = len(payload)
    length = bytes([size]) if size < 126 else b"\x7e" + size.to_bytes(2, "big")
    return bytes([(0x80 if final else 0) | rsv | opcode]) + length + payload


def test_next_frame_says_what_is_plain_and_what_is_missing() -> None:
    text = server_frame(TEXT, b"hi")
    assert next_frame(text, 0) == Frame(0, 2, 4, TEXT, True)
    assert next_frame(text[:1], 0) == 0 and next_frame(text[:3], 0) == 4  # the size it declares
    assert not next_frame(server_frame(TEXT, b"x", final=False), 0).plain  # type: ignore[union-attr]
    assert not next_frame(server_frame(TEXT, b"x", rsv=0x40), 0).plain  # type: ignore[union-attr]  # compressed
    assert not next_frame(server_frame(0x9, b"p"), 0).plain  # type: ignore[union-attr]  # a ping
    long = server_frame(BINARY, b"z" * 300)
    assert next_frame(long[:3], 0) == 0 and next_frame(long[:4], 0) == 304


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False
        self.protocol: Any = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def accept_for(handshake: bytes) -> bytes:
    key = next(
        line.split(b":", 1)[1].strip()
        for line in handshake.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key")
    )
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
        + accept
        + b"\r\n\r\n"
    )


#: What a server sends after its 101, and the messages a reader must get from it.
STREAM = b"".join(
    [
        server_frame(TEXT, "héllo".encode()),
        server_frame(BINARY, b"\x00\x01"),
        server_frame(TEXT, b"frag", final=False),  # a fragmented message, with a ping inside
        server_frame(0x9, b"ping!"),
        server_frame(0x0, b"mented"),
        server_frame(TEXT, b"x" * 300),
        server_frame(BINARY, b""),
    ]
)
MESSAGES = ["héllo", b"\x00\x01", "fragmented", "x" * 300, b""]


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12), with_head=st.booleans())
def test_the_stream_gives_the_same_messages_however_it_is_cut(cuts: list[int], with_head: bool) -> None:
    async def scenario() -> list[str | bytes]:
        transport = FakeTransport()
        request = Request("GET", URL("http://127.0.0.1:9/ws"))
        channel = CIOWebSocket(request, WebSocketSettings(compression=False), asyncio.get_running_loop(), transport)
        opening = asyncio.ensure_future(channel.handshake(None))
        await asyncio.sleep(0)
        head = accept_for(bytes(transport.written))
        transport.written.clear()
        data = head + STREAM if with_head else STREAM
        if not with_head:
            channel.data_received(head)
        points = sorted({min(cut, len(data)) for cut in cuts})
        for start, end in zip([0, *points], [*points, len(data)], strict=True):
            if end > start:
                channel.data_received(data[start:end])
        response = await opening
        assert response.status == 101
        got = [await channel.receive() for _ in MESSAGES]
        assert b"ping!" in unmask_all(bytes(transport.written))  # the ping was answered with a pong
        return got

    assert asyncio.run(scenario()) == MESSAGES


def unmask_all(data: bytes) -> bytes:
    payloads = b""
    position = 0
    while position < len(data):
        found = next_frame(data, position)
        assert isinstance(found, Frame)
        payloads += unmask(data[found.start : found.end])[1]
        position = found.end
    return payloads


def test_invalid_utf8_in_a_plain_frame_is_a_protocol_error() -> None:
    async def scenario() -> int | None:
        transport = FakeTransport()
        channel = CIOWebSocket(
            Request("GET", URL("http://127.0.0.1:9/ws")), WebSocketSettings(), asyncio.get_running_loop(), transport
        )
        opening = asyncio.ensure_future(channel.handshake(None))
        await asyncio.sleep(0)
        channel.data_received(accept_for(bytes(transport.written)) + server_frame(TEXT, b"\xff\xfe"))
        await opening
        from kclient import WebSocketProtocolError

        with pytest.raises(WebSocketProtocolError):
            await channel.receive()
        return channel.close_code

    assert asyncio.run(scenario()) == 1007
