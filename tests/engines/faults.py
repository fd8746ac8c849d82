"""The raw server written for the conformance suite: a hostile HTTP/1.1 server.

``FaultServer`` is an asyncio server in a background thread on 127.0.0.1 (port 0, optionally
TLS). It parses requests itself (Content-Length and chunked bodies, ``Expect: 100-continue``)
and answers according to the path, one scenario per path (see ``SCENARIOS``). Every answer
carries ``X-Conn`` (the connection's number) and ``X-Conn-Request`` (the request's number on
that connection), so tests can see connection reuse without timing anything. ``/echo``
answers with a JSON description of the request, which stands in for httpbin where werkzeug
cannot read chunked request bodies.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import ssl
import struct
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from .support import pattern_bytes

__all__ = ["FaultServer", "Seen", "UNTIL_CLOSE_BODY"]

T = TypeVar("T")

#: The body of the read-until-close scenarios (neither Content-Length nor chunked framing).
UNTIL_CLOSE_BODY = pattern_bytes(100_000)
#: The body of the chunked scenario, and how it is cut into chunks.
CHUNKED_PARTS = [b"a", b"bc", b"", b"0123456789" * 100, pattern_bytes(70_000), b"z"]

_IGNORED = (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ssl.SSLError, OSError)


@dataclass(frozen=True)
class Seen:
    """A request the fault server read: on which connection, its number there, method and path."""

    conn: int
    index: int
    method: str
    path: str
    query: dict[str, str]


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    framing: dict[str, str | None] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query))

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class _LoopThread:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


class _TrackedServer:
    """A listening asyncio server in a background thread whose connections are closed on ``stop()``."""

    name = "server"

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context
        self._runner = _LoopThread(self.name)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._lock = threading.Lock()
        self.accepted = 0
        #: Numbers of the connections still open on the server's side.
        self.open: set[int] = set()
        self.port = 0

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> Any:
        self._runner.start()
        self.port = self._runner.call(self._listen())
        return self

    def stop(self) -> None:
        self._runner.call(self._shutdown())
        self._runner.stop()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", 0, ssl=self._ssl, backlog=1024, limit=1 << 20
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        with self._lock:
            self.accepted += 1
            conn = self.accepted
            self.open.add(conn)
        try:
            await self._serve(conn, reader, writer)
        except (*_IGNORED, asyncio.CancelledError):  # cancelled: the server stops (ends the task quietly)
            pass
        finally:
            self._writers.discard(writer)
            try:
                await _close(writer)
            finally:
                with self._lock:
                    self.open.discard(conn)
                self._tasks.discard(task)

    async def _serve(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close gracefully (what was written is still sent), or abort when that does not finish."""
    if not writer.transport.is_closing():
        writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 5)
    except asyncio.CancelledError:
        writer.transport.abort()
        raise
    except Exception:
        writer.transport.abort()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0), as a crashed server would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _head(status: str, headers: list[tuple[str, str]], version: str = "HTTP/1.1") -> bytes:
    lines = [f"{version} {status}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


Scenario = Callable[["FaultServer", _Request, int, int, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
#: path -> coroutine answering it; returns True to keep the connection for the next request.
SCENARIOS: dict[str, Scenario] = {}


def scenario(path: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[path] = fn
        return fn

    return register


class FaultServer(_TrackedServer):
    """The hostile HTTP/1.1 server; ``seen`` lists the requests it read, ``accepted`` counts connections."""

    name = "fault-server"

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(ssl_context)
        self.seen: list[Seen] = []
        #: Open connections that asked /never, by their ``tag`` query parameter.
        self.waiting: Counter[str] = Counter()

    def seen_on(self, path: str, tag: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path and (tag is None or s.query.get("tag") == tag)]

    async def _serve(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = 0
        while True:
            request = await _read_request(reader, writer)
            if request is None:
                return
            index += 1
            with self._lock:
                self.seen.append(Seen(conn, index, request.method, request.path, request.query))
            handler = SCENARIOS.get(request.path, _not_found)
            if not await handler(self, request, conn, index, reader, writer):
                return

    @staticmethod
    def ids(conn: int, index: int) -> list[tuple[str, str]]:
        return [("X-Conn", str(conn)), ("X-Conn-Request", str(index))]


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> _Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head[:-4].decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    request = _Request(method, target, version, headers)
    length = request.header("content-length")
    encoding = request.header("transfer-encoding")
    request.framing = {"content_length": length, "transfer_encoding": encoding}
    if (length or encoding) and (request.header("expect") or "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if encoding is not None and "chunked" in encoding.lower():
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        request.body = b"".join(parts)
    elif length:
        request.body = await reader.readexactly(int(length))
    return request


async def _respond(
    writer: asyncio.StreamWriter,
    conn: int,
    index: int,
    body: bytes,
    *,
    status: str = "200 OK",
    headers: list[tuple[str, str]] | None = None,
    send_body: bool = True,
) -> bool:
    head = [*FaultServer.ids(conn, index), ("Content-Length", str(len(body))), *(headers or [])]
    writer.write(_head(status, head) + (body if send_body else b""))
    await writer.drain()
    return True


async def _drain_until_closed(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


# -- well-behaved answers ---------------------------------------------------------------------


async def _not_found(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    return await _respond(writer, conn, index, b"no such scenario\n", status="404 Not Found")


@scenario("/ok")
async def _ok(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    return await _respond(writer, conn, index, b"ok", headers=[("Content-Type", "text/plain")])


@scenario("/echo")
async def _echo(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    described = {
        "method": req.method,
        "path": req.path,
        "query": req.query,
        "version": req.version,
        "headers": req.headers,
        "framing": req.framing,
        "body_length": len(req.body),
        "body_sha256": hashlib.sha256(req.body).hexdigest(),
        "body": req.body.decode("latin-1") if len(req.body) <= 65536 else None,
    }
    body = json.dumps(described).encode()
    return await _respond(
        writer, conn, index, body, headers=[("Content-Type", "application/json")], send_body=req.method != "HEAD"
    )


@scenario("/chunked")
async def _chunked(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """A valid chunked body: chunk extensions, one-byte chunks, a 70 kB chunk, and trailers."""
    writer.write(_head("200 OK", [*FaultServer.ids(conn, index), ("Transfer-Encoding", "chunked")]))
    for i, part in enumerate(p for p in CHUNKED_PARTS if p):
        extension = ';name="value"' if i % 2 else ""
        writer.write(f"{len(part):x}{extension}\r\n".encode() + part + b"\r\n")
        await writer.drain()
    writer.write(b"0\r\nX-Trailer: done\r\n\r\n")
    await writer.drain()
    return True


@scenario("/informational")
async def _informational(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """100 Continue and 103 Early Hints (unasked for) before the real answer."""
    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    writer.write(_head("103 Early Hints", [("Link", "</style.css>; rel=preload; as=style")]))
    await writer.drain()
    return await _respond(writer, conn, index, b"final answer")


@scenario("/head-with-length")
async def _head_with_length(
    server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any
) -> bool:
    """Content-Length of the body a GET would get; to HEAD, no body at all."""
    return await _respond(writer, conn, index, b"x" * 12345, send_body=req.method != "HEAD")


@scenario("/connection-close")
async def _connection_close(
    server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any
) -> bool:
    await _respond(writer, conn, index, b"closing", headers=[("Connection", "close")])
    writer.close()
    return False


@scenario("/until-close-http10")
async def _until_close_10(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    writer.write(_head("200 OK", FaultServer.ids(conn, index), version="HTTP/1.0") + UNTIL_CLOSE_BODY)
    await writer.drain()
    writer.close()
    return False


@scenario("/until-close-http11")
async def _until_close_11(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    writer.write(_head("200 OK", FaultServer.ids(conn, index)) + UNTIL_CLOSE_BODY)
    await writer.drain()
    writer.close()
    return False


@scenario("/close-after-response")
async def _close_after(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """A keep-alive answer (no Connection: close), then the server closes the idle connection."""
    await _respond(writer, conn, index, b"ok")
    writer.close()
    return False


async def _stale(writer: asyncio.StreamWriter, conn: int, index: int, *, rst: bool) -> bool:
    """First request of a connection: answered, kept alive. Later ones: the connection is dropped unanswered.

    That is the keep-alive race made deterministic: the server closed the idle connection just
    as the client reused it, and the request never reached an application.
    """
    if index == 1:
        return await _respond(writer, conn, index, b"fresh connection")
    if rst:
        _reset(writer)
    else:
        writer.close()
    return False


@scenario("/stale-fin")
async def _stale_fin(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    return await _stale(writer, conn, index, rst=False)


@scenario("/stale-rst")
async def _stale_rst(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    return await _stale(writer, conn, index, rst=True)


# -- hostile answers --------------------------------------------------------------------------


@scenario("/reset-before-response")
async def _reset_before(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    _reset(writer)
    return False


@scenario("/reset-after-status-line")
async def _reset_after_status(
    server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any
) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\n")
    await writer.drain()
    await asyncio.sleep(0.1)  # let the client read the status line first
    _reset(writer)
    return False


@scenario("/reset-mid-body")
async def _reset_mid_body(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    writer.write(_head("200 OK", [*FaultServer.ids(conn, index), ("Content-Length", str(1 << 20))]))
    writer.write(pattern_bytes(65536))
    await writer.drain()
    await asyncio.sleep(0.1)  # let the client read part of the body first
    _reset(writer)
    return False


@scenario("/invalid-status-line")
async def _invalid_status(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    writer.write(b"HTTP/1.1 2OO Almost OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()
    writer.close()
    return False


@scenario("/short-body")
async def _short_body(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """Content-Length 1000, 10 bytes, then the server closes."""
    writer.write(_head("200 OK", [*FaultServer.ids(conn, index), ("Content-Length", "1000")]) + b"0123456789")
    await writer.drain()
    writer.close()
    return False


@scenario("/truncated-chunked")
async def _truncated_chunked(
    server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any
) -> bool:
    """A chunk announced as 16 bytes, 3 sent, then the server closes (no last chunk)."""
    writer.write(_head("200 OK", [*FaultServer.ids(conn, index), ("Transfer-Encoding", "chunked")]))
    writer.write(b"5\r\nhello\r\n10\r\nabc")
    await writer.drain()
    writer.close()
    return False


@scenario("/invalid-chunk-size")
async def _invalid_chunk(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """A valid chunk, then one whose size line is ``?size=`` (default ``zz``: not hexadecimal)."""
    size = req.query.get("size", "zz").encode("latin-1")
    writer.write(_head("200 OK", [*FaultServer.ids(conn, index), ("Transfer-Encoding", "chunked")]))
    writer.write(b"5\r\nhello\r\n" + size + b"\r\nnot a chunk\r\n0\r\n\r\n")
    await writer.drain()
    await _drain_until_closed(reader)  # the framing is broken: the client must give the connection up
    return False


@scenario("/huge-header")
async def _huge_header(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """One header line of 1 MiB."""
    writer.write(_head("200 OK", [("Content-Length", "2"), ("X-Huge", "h" * (1 << 20))]) + b"ok")
    await writer.drain()
    await _drain_until_closed(reader)
    return False


@scenario("/many-headers")
async def _many_headers(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """10,000 header lines (about 230 kB of header)."""
    headers = [("Content-Length", "2"), *((f"X-Header-{i:05d}", f"value-{i:05d}") for i in range(10_000))]
    writer.write(_head("200 OK", headers) + b"ok")
    await writer.drain()
    await _drain_until_closed(reader)
    return False


@scenario("/never")
async def _never(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """Reads the request and never answers, until the client closes the connection."""
    tag = req.query.get("tag", "")
    with server._lock:
        server.waiting[tag] += 1
    try:
        await _drain_until_closed(reader)
    finally:
        with server._lock:
            server.waiting[tag] -= 1
    return False


async def _trickle(writer: asyncio.StreamWriter, data: bytes) -> None:
    for i in range(len(data)):
        if writer.transport.is_closing():
            return
        writer.write(data[i : i + 1])
        await writer.drain()
        await asyncio.sleep(1.0)


@scenario("/trickle-head")
async def _trickle_head(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """The status line and headers, one byte per second."""
    await _trickle(writer, _head("200 OK", [("Content-Length", "2")]) + b"ok")
    return False


@scenario("/trickle-body")
async def _trickle_body(server: FaultServer, req: _Request, conn: int, index: int, reader: Any, writer: Any) -> bool:
    """Headers at once, then a 20-byte body one byte per second."""
    writer.write(_head("200 OK", [*FaultServer.ids(conn, index), ("Content-Length", "20")]))
    await _trickle(writer, b"0123456789abcdefghij")
    return False
