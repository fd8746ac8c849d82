"""The Aiohttp engine's responses: aiohttp's ``ClientResponse`` as kclient's, its body decoded here.

:func:`_response` hands a response over already read when its whole body came with the head,
else with an :class:`_AiohttpStream`, which reads raw chunks from the connection, decodes
them with kclient's decoders (not aiohttp's), hands the connection back to the pool when the
body was read to its end and closes it otherwise, and fails the body when its connection is
closed under it (which aiohttp's C parser would leave waiting forever).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any

import aiohttp

from .._decoding import Decoder, decoder_for
from .._describe import describe
from .._errors import DecodingError
from .._models import Request, Response
from ._aiohttp_errors import _NATIVE, _translate

#: aiohttp's version tuples as kclient's ``http_version`` (None: aiohttp has not seen a status line).
_VERSIONS: dict[object, str] = {
    aiohttp.HttpVersion11: "HTTP/1.1",
    aiohttp.HttpVersion10: "HTTP/1.0",
    None: "HTTP/1.1",
}


async def _response(native: aiohttp.ClientResponse, request: Request) -> Response:
    """kclient's response for aiohttp's: already read when the whole body came with the head."""
    version = native.version
    http_version = _VERSIONS.get(version) or f"HTTP/{version.major}.{version.minor}"  # type: ignore[union-attr]
    encoding = native.headers.get("Content-Encoding")
    decoder = decoder_for(encoding, request) if encoding else None
    content: bytes | None = None
    stream: _AiohttpStream | None = None
    if native.content.is_eof():  # the whole body came with the head: hand it over read, no stream
        try:
            content = await native.read()  # from the buffer, without waiting
        except _NATIVE as exc:
            raise _translate(exc, request, reading=True) from exc
        finally:
            native.release()
        if decoder is not None:
            content = _decoded(decoder, content, request)
    else:
        stream = _AiohttpStream(native, request, decoder)
    return Response(
        native.status,
        request=request,
        headers=native.headers,
        reason=native.reason,
        http_version=http_version,
        content=content,
        stream=stream,
    )


def _decoding_step(step: Callable[[], bytes], request: Request) -> bytes:
    """``step()`` (a decoder call), its ``DecodingError`` naming the request."""
    try:
        return bytes(step())
    except DecodingError as exc:
        raise DecodingError(f"{describe(request)} failed: {exc}") from (exc.__cause__ or exc)


def _decoded(decoder: Decoder, content: bytes, request: Request) -> bytes:
    """A whole body, decoded."""
    return _decoding_step(lambda: decoder.decode(content) + decoder.flush(), request)


class _AiohttpStream:
    """The body of an aiohttp response: raw chunks from the connection, decoded here.

    ``aclose()`` hands the connection back to the pool when the body was read to its end,
    and closes it otherwise (a half-read connection cannot be reused).

    While the body is incomplete the stream watches its connection: aiohttp's C parser,
    meeting broken chunked framing after the head was handed over, closes the connection
    but never tells the body, whose reader would then wait forever (even past a socket
    timeout). A connection closed under an unfinished body fails the body instead.
    """

    __slots__ = ("_closed", "_decoder", "_done", "_protocol", "_request", "_response")

    def __init__(self, response: aiohttp.ClientResponse, request: Request, decoder: Decoder | None) -> None:
        self._response = response
        self._request = request
        self._decoder = decoder
        self._done = False
        self._closed: asyncio.Future[None] | None = None
        self._protocol: Any = None
        if not response.content.is_eof():
            self._watch_connection()

    def __aiter__(self) -> _AiohttpStream:
        return self

    async def __anext__(self) -> bytes:
        while True:
            if self._done:
                raise StopAsyncIteration
            try:
                chunk = await self._response.content.readany()
            except _NATIVE as exc:
                raise _translate(exc, self._request, reading=True) from exc
            decoder = self._decoder
            if not chunk:
                self._done = True
                if decoder is None:
                    raise StopAsyncIteration
                chunk = self._decode(decoder.flush)
            elif decoder is not None:
                chunk = self._decode(partial(decoder.decode, chunk))
            if chunk:
                return chunk

    def _decode(self, step: Callable[[], bytes]) -> bytes:
        return _decoding_step(step, self._request)

    def _watch_connection(self) -> None:
        connection = self._response.connection
        protocol = connection.protocol if connection is not None else None
        if protocol is None:
            return
        closed = protocol.closed
        if closed is None:  # already lost
            self._connection_closed(protocol)
            return
        if closed not in _RETRIEVED:  # once per connection: its close error, if any, is retrieved
            _RETRIEVED.add(closed)
            closed.add_done_callback(_retrieve)
        self._closed, self._protocol = closed, protocol
        closed.add_done_callback(self._on_closed)

    def _on_closed(self, closed: asyncio.Future[None]) -> None:
        self._connection_closed(self._protocol)

    def _connection_closed(self, protocol: Any) -> None:
        content = self._response.content
        if content.is_eof() or content.exception() is not None:
            return  # the body ended, or aiohttp already reported why it did not
        cause = protocol.exception() if protocol is not None else None
        error = aiohttp.ClientPayloadError(
            f"Response payload is not completed: the connection was closed ({cause or 'no reason given'})"
        )
        error.__cause__ = cause
        content.set_exception(error)

    async def aclose(self) -> None:
        closed, self._closed, self._protocol = self._closed, None, None
        if closed is not None:
            closed.remove_done_callback(self._on_closed)
        response = self._response
        if self._done or response.content.at_eof():
            response.release()
        else:
            response.close()  # part of the body is still to come: the connection is dropped


#: The close futures of connections that already have a ``_retrieve`` callback.
_RETRIEVED: weakref.WeakSet[asyncio.Future[None]] = weakref.WeakSet()


def _retrieve(closed: asyncio.Future[None]) -> None:
    """Mark a connection's close error as seen (asyncio logs futures whose exception nobody retrieved)."""
    if not closed.cancelled():
        closed.exception()
