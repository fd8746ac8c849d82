"""The data engines see: a lean ``Request`` and a ``Response`` whose body may still be streaming.

URLs are ``yarl.URL`` and headers ``multidict.CIMultiDict``: both C-accelerated, so building
a request costs little. Engines never see the client, only these objects. yarl and
multidict are imported on first use, which keeps ``import kclient`` cheap.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ._charset import content_charset, decode_text
from ._errors import (
    ClientResponseError,
    DecodingError,
    KClientError,
    RedirectResponseError,
    ResponseError,
    ResponseNotReadError,
    ServerResponseError,
)
from ._limits import DEFAULT_LIMITS, PRESIZE_LIMIT, BodyLimits, body_too_large
from ._redact import mask_url

if TYPE_CHECKING:
    from multidict import CIMultiDict, CIMultiDictProxy
    from yarl import URL

__all__ = ["Request", "Response", "ResponseStream", "Timeouts"]

#: Methods that may be sent twice with the same effect (RFC 9110): an engine sends one of them
#: once more when the server closed a reused keep-alive connection before answering.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})

#: A request body: bytes sent as they are, or an async iterable sent chunked.
Body = bytes | AsyncIterable[bytes]


def raw_header_values(headers: list[tuple[bytes, bytes]], name: bytes) -> list[str]:
    """Every value of header ``name`` (lower-case bytes) in a raw header list (as received), decoded."""
    if name not in b"\n".join([key for key, _ in headers]).lower():  # one pass in C: usually the answer
        return []
    size = len(name)
    return [value.decode("latin-1") for key, value in headers if len(key) == size and key.lower() == name]


def _empty_headers() -> CIMultiDict[str]:
    from multidict import CIMultiDict

    return CIMultiDict()


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Timeouts in seconds for one request; ``None`` means no limit.

    ``request``: the whole exchange, ``connect``: opening the connection,
    ``socket``: the longest wait for data while sending or receiving.
    """

    request: float | None = None
    connect: float | None = None
    socket: float | None = None

    def merged_over(self, defaults: Timeouts) -> Timeouts:
        """Return these timeouts with unset values taken from ``defaults``."""
        if self is NO_TIMEOUTS:
            return defaults
        return Timeouts(
            request=self.request if self.request is not None else defaults.request,
            connect=self.connect if self.connect is not None else defaults.connect,
            socket=self.socket if self.socket is not None else defaults.socket,
        )


#: The timeouts of a request that sets none (shared: ``Timeouts`` is immutable).
NO_TIMEOUTS = Timeouts()


@dataclass(slots=True, eq=False)
class Request:
    """One HTTP request, as an engine sends it."""

    method: str
    url: URL
    headers: CIMultiDict[str] = field(default_factory=_empty_headers)
    content: Body = b""
    timeouts: Timeouts = NO_TIMEOUTS
    #: Per-request plugin options (``follow_redirects``, ``retry``...), or None when there are none.
    attributes: dict[str, Any] | None = None
    #: Bounds on the response body (``max_body_size``, the decompression guard).
    limits: BodyLimits = DEFAULT_LIMITS

    def attribute(self, name: str, default: Any = None) -> Any:
        """The per-request option ``name``, or ``default`` when the request does not set it."""
        attributes = self.attributes
        if attributes is None:
            return default
        return attributes.get(name, default)

    def copy(self, **changes: Any) -> Request:
        """A new request with ``changes`` (``method``, ``url``, ``headers``...); headers are copied."""
        if not changes:  # a retry's or an auth's attempt: built directly, without a dict of fields
            return Request(
                self.method, self.url, self.headers.copy(), self.content, self.timeouts, self.attributes, self.limits
            )
        values: dict[str, Any] = {
            "method": self.method,
            "url": self.url,
            "headers": self.headers.copy(),
            "content": self.content,
            "timeouts": self.timeouts,
            "attributes": self.attributes,
            "limits": self.limits,
        }
        values.update(changes)
        return Request(**values)

    @property
    def is_streaming(self) -> bool:
        """True when the body is an async iterable, sent without a Content-Length."""
        return not isinstance(self.content, bytes)

    def __repr__(self) -> str:
        return f"<Request {self.method} {mask_url(self.url)}>"


class ResponseStream(Protocol):
    """What an engine hands over for a response body: async chunks, then ``aclose()``."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class Response:
    """An HTTP response: status line, headers and a body read at once or streamed.

    Responses returned by ``client.get(...)`` and friends are fully read. Inside
    ``async with client.stream(...) as response`` the body is read incrementally with
    ``response.aiter_bytes()`` or at once with ``await response.aread()``.
    """

    __slots__ = (
        "_closed",
        "_content",
        "_headers",
        "_iterators",
        "_one_pass",
        "_proxy",
        "_raw_headers",
        "_stream",
        "elapsed",
        "http_version",
        "reason",
        "request",
        "source",
        "status",
        "url",
    )

    def __init__(
        self,
        status: int,
        *,
        request: Request,
        headers: CIMultiDict[str] | CIMultiDictProxy[str] | None = None,
        reason: str | None = None,
        http_version: str = "HTTP/1.1",
        content: bytes | None = None,
        stream: ResponseStream | None = None,
        url: URL | None = None,
        raw_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """``raw_headers`` (name and value bytes, as received) lets an engine skip decoding
        headers nobody reads: ``headers`` is built from them on first access."""
        self.status = status
        self.reason = reason if reason is not None else _phrase(status)
        self._headers = headers
        self._raw_headers = raw_headers
        self._proxy: CIMultiDictProxy[str] | None = None
        self.url: URL = url if url is not None else request.url
        self.http_version = http_version
        self.request = request
        #: Seconds from sending the request until the body was read or the stream closed (set by the client).
        self.elapsed: float = 0.0
        #: Where the answer came from when not from the network: ``"cassette"`` (replayed by the
        #: Record plugin) or ``"cache"``; ``None`` for an answer of the server.
        self.source: str | None = None
        self._stream = stream
        self._content = content if stream is None else None
        self._closed = stream is None
        self._iterators: list[_BodyChunks] | None = None
        #: None: a read body, every ``aiter_bytes()`` gives all of it. False/True: a body handed over
        #: read inside a ``client.stream`` block, not yet / already given by an iterator.
        self._one_pass: bool | None = None

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The response headers: case-insensitive, several values per name allowed."""
        proxy = self._proxy
        if proxy is None:
            proxy = self._proxy = self._build_headers()
        return proxy

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name``, as ``headers.getall(name, [])``; the plugins that look for one
        header on every answer (Set-Cookie) use it so that headers nobody reads are never decoded."""
        raw = self._raw_headers
        if raw is not None and self._proxy is None:
            return raw_header_values(raw, name.lower().encode("latin-1"))
        return self.headers.getall(name, [])

    def _build_headers(self) -> CIMultiDictProxy[str]:
        import multidict  # on first access only: engines may hand over raw bytes nobody reads

        headers = self._headers
        self._headers = None
        if isinstance(headers, multidict.CIMultiDictProxy):
            return headers
        if self._raw_headers is not None:
            headers = multidict.CIMultiDict([(n.decode("latin-1"), v.decode("latin-1")) for n, v in self._raw_headers])
            self._raw_headers = None
        return multidict.CIMultiDictProxy(multidict.CIMultiDict(headers or {}))

    # -- body -------------------------------------------------------------------------------
    @property
    def is_closed(self) -> bool:
        """True once the body is fully read or the stream was closed."""
        return self._closed

    @property
    def content(self) -> bytes:
        """The body as bytes. For a streamed response, ``await response.aread()`` first."""
        if self._content is None:
            raise ResponseNotReadError(
                "The body of this streamed response has not been read: call `await response.aread()` "
                "inside `async with client.stream(...)` first, or use `client.get(...)`."
            )
        return self._content

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Iterate over the body in chunks as they arrive (streamed responses), or at once."""
        if self._content is not None:
            return _BodyChunks(self, None, self._content)
        if self._stream is None or self._closed:
            raise ResponseNotReadError("The stream of this response is closed and its body was not kept.")
        chunks = _BodyChunks(self, self._stream.__aiter__(), None)
        if self._iterators is None:
            self._iterators = []
        self._iterators.append(chunks)
        return chunks

    def read_as_stream(self) -> None:
        """Inside ``client.stream``: iterators share one position over a body the engine handed over
        read (it came with the head), as they do over a body still on the wire, so that a second
        ``aiter_bytes()`` goes on where the first stopped instead of giving the body again."""
        if self._stream is None and self._content is not None and self._one_pass is None:
            self._one_pass = False

    def wrap_stream(self, wrap: Callable[[ResponseStream], ResponseStream]) -> bool:
        """Put ``wrap(stream)`` in place of the body's stream before anyone reads it (a plugin
        that keeps a copy of the body: Record, HttpCache); False when there is no stream to wrap
        (the body was handed over read, or reading has begun)."""
        if self._stream is None or self._closed or self._iterators:
            return False
        self._stream = wrap(self._stream)
        return True

    def limit_reads(self, seconds: float, timed_out: Callable[[], KClientError]) -> None:
        """Bound the reads of a streamed body to ``seconds`` in all; past them a read raises ``timed_out()``.

        The time between reads (the caller's) is not counted. Used by ``client.stream`` for the request timeout.
        """
        if self._stream is not None and not self._closed:
            from ._stream_budget import TimedBody

            self._stream = TimedBody(self._stream, seconds, timed_out)

    async def aread(self) -> bytes:
        """Read the whole body, keep it in ``.content`` and return it.

        Raises ``ResponseTooLargeError`` when the body passes the request's ``max_body_size``
        (counted after decoding); the stream is closed then.
        """
        content = self._content
        limit = self.request.limits.max_body_size
        if content is None:
            try:
                content = self._content = await self._read_body(limit)
            except BaseException:
                await self.aclose()
                raise
        elif limit is not None and len(content) > limit:
            raise body_too_large(self.request, len(content))
        return content

    async def _read_body(self, limit: int | None) -> bytes:
        size = self._declared_size()
        if size is not None and limit is not None and size > limit:
            raise body_too_large(self.request, size, declared=True)
        chunks = self.aiter_bytes()
        first = await anext(chunks, b"")
        if limit is not None and len(first) > limit:
            raise body_too_large(self.request, len(first))
        # One buffer, presized from a declared length up to PRESIZE_LIMIT and grown as pieces arrive
        # (BytesIO grows in place and hands its buffer over without a copy when it fits): joining a
        # list of pieces would keep twice the body alive, and at a MiB or more the allocator gives
        # those pages back and faults them in again every time.
        buffer: io.BytesIO | None = None
        async for chunk in chunks:
            if buffer is None:
                buffer = io.BytesIO()
                if size is not None and size >= _PRESIZE_FROM:
                    buffer.seek(min(size, PRESIZE_LIMIT) - 1)
                    buffer.write(b"\0")
                    buffer.seek(0)
                buffer.write(first)
            buffer.write(chunk)
            if limit is not None and buffer.tell() > limit:
                raise body_too_large(self.request, buffer.tell())
        if buffer is None:
            return first
        buffer.truncate()
        return buffer.getvalue()

    def _declared_size(self) -> int | None:
        """Content-Length when it is also the size of the body read (no content coding)."""
        headers = self.headers
        length = headers.get("Content-Length")
        if length is None or not length.isdigit() or headers.get("Content-Encoding", "identity") != "identity":
            return None
        return int(length)

    async def aclose(self) -> None:
        """Release the connection behind a streamed response; idempotent."""
        if self._closed:
            return
        self._closed = True
        import anyio

        # Shielded: a cancelled reader must still hand its connection back.
        with anyio.CancelScope(shield=True):
            try:
                for chunks in self._iterators or ():
                    await chunks.close_source()
            finally:
                if self._stream is not None:
                    await self._stream.aclose()

    # -- decoded views ----------------------------------------------------------------------
    @property
    def charset(self) -> str | None:
        """The text encoding named by the Content-Type header, if any and usable (``kclient._charset``)."""
        return content_charset(self.headers.get("Content-Type"))

    @property
    def text(self) -> str:
        """The body as text: the declared charset, else UTF-8, else Latin-1 (never fails)."""
        return decode_text(self.content, self.charset)

    def json(self, **loads_options: Any) -> Any:
        """The body parsed as JSON; raises ``DecodingError`` (a ``ValueError``) when it is not JSON."""
        import json

        try:
            return json.loads(self.text, **loads_options)
        except ValueError as exc:
            preview = self.text[:80]
            raise DecodingError(
                f"The body of {self.request.method} {mask_url(self.url)} is not JSON "
                f"(Content-Type: {self.headers.get('Content-Type', 'none')}, starts with {preview!r})."
            ) from exc

    def body(self, model: Any = Any) -> Any:
        """The body decoded by the codec for its Content-Type and built as ``model``.

        The codecs are those of the client's ContentNegotiation plugin, else JSON. ``model``
        is ``Any`` (the decoded value as it is), ``dict``, ``list``, a dataclass (built
        recursively, ``list[Item]`` too) or a class with ``model_validate`` (pydantic).
        Raises ``DecodingError`` (a ``ValueError``) naming the field that does not fit.
        """
        from .plugins.content import decode_body

        return decode_body(self, model)

    # -- status -----------------------------------------------------------------------------
    @property
    def is_success(self) -> bool:
        """True for 2xx statuses."""
        return 200 <= self.status < 300

    def raise_for_status(self) -> Response:
        """Return the response when its status is 1xx/2xx, else raise the matching ``ResponseError``.

        The error carries the response and, when the body was read, its first characters.
        """
        if self.status < 300:
            return self
        error_class: type[ResponseError]
        if self.status < 400:
            error_class, kind = RedirectResponseError, "Redirect"
        elif self.status < 500:
            error_class, kind = ClientResponseError, "Client error"
        else:
            error_class, kind = ServerResponseError, "Server error"
        raise self.error(error_class, f"{kind} {self.status} {self.reason}")

    def error(self, error_class: type[ResponseError], what: str) -> ResponseError:
        """``error_class`` for this response: ``what``, the request, and a bounded body excerpt."""
        excerpt = self.excerpt()
        message = f"{what} for {self.request.method} {mask_url(self.url)}"
        if excerpt:
            message += f": {excerpt!r}"
        return error_class(message, response=self, body_excerpt=excerpt)

    def excerpt(self, limit: int = 200) -> str:
        """The start of the body as text, at most ``limit`` characters ("" when it was not read)."""
        if self._content is None or not self._content:
            return ""
        # Cut in bytes first (a huge body is never decoded whole); a cut character becomes U+FFFD.
        text = decode_text(self._content[: limit * 4], self.charset or "utf-8").strip()
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def __repr__(self) -> str:
        source = f" (from {self.source})" if self.source is not None else ""
        return f"<Response [{self.status} {self.reason}] {self.request.method} {mask_url(self.url)}{source}>"


class _BodyChunks:
    """The iterator ``aiter_bytes()`` returns: an object, not an async generator.

    Leaving an ``async for`` early then leaves no generator for the garbage collector to
    finalize (trio reports those as ``ResourceWarning``); the response's ``aclose()``
    closes the engine's iterator explicitly.
    """

    __slots__ = ("_content", "_response", "_source")

    def __init__(self, response: Response, source: AsyncIterator[bytes] | None, content: bytes | None) -> None:
        self._response = response
        self._source = source
        self._content = content

    def __aiter__(self) -> _BodyChunks:
        return self

    async def __anext__(self) -> bytes:
        if self._source is None:
            content, self._content = self._content, None
            response = self._response
            if response._one_pass is not None:  # read_as_stream: the first iterator takes the body
                if response._one_pass:
                    content = None
                response._one_pass = True
            if not content:
                raise StopAsyncIteration
            return content
        chunk = b""
        try:
            while not chunk:
                chunk = await self._source.__anext__()
        except StopAsyncIteration:
            await self._response.aclose()
            raise
        return chunk

    async def close_source(self) -> None:
        source, self._source = self._source, None
        closer = getattr(source, "aclose", None)
        if closer is not None:
            await closer()


#: Bodies at least this large (with a known length) are read into a buffer presized up to ``PRESIZE_LIMIT``.
_PRESIZE_FROM = 256 * 1024

_PHRASES: dict[int, str] = {}


def _phrase(status: int) -> str:
    phrase = _PHRASES.get(status)
    if phrase is None:
        import http

        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        _PHRASES[status] = phrase
    return phrase
