"""The Httpx engine: requests run on ``httpx.AsyncClient`` (asyncio or trio).

httpx's exceptions are translated in one place, ``_translate`` (also behind
:func:`map_exceptions`), through :data:`EXCEPTION_MAP` (an :class:`~._errors.ErrorMap`) into
kclient's tree, with the original kept as ``__cause__``; a failed TLS handshake becomes a
``TLSError`` naming the host. Redirects, cookies and
retries are the client's plugins, not httpx's, so they behave the same on every engine.
HTTP/2 (``http2=True``) needs the ``http2`` extra (h2) and SOCKS proxies the ``socks``
extra (socksio); both are checked when the engine is created.

httpcore does not send a request again when the server closed a reused keep-alive
connection before answering ("Server disconnected without sending a response"): this
engine does, once, for idempotent requests whose body is plain bytes.

The pool's bookkeeping pass is kclient's own (:mod:`._httpcore_pool`, setting
``kclient_pool``): httpcore's leaks the connections of cancelled requests, hands one idle
connection to many queued requests, and grows quadratically with the pool.
"""

from __future__ import annotations

import http.cookiejar
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, cast

import httpx
from multidict import CIMultiDict

from .. import _errors as errors
from .._decoding import Decoder, accept_encoding, decoder_for
from .._describe import describe
from .._engine import Capabilities, Engine, EngineConfig, require_module
from .._errors import InvalidRequestError, KClientError, ReadError, TransportError
from .._models import IDEMPOTENT_METHODS, Request, Response
from .._redact import mask_credentials, mask_url
from .._settings import setting
from .._tls import HttpsConfig, create_ssl_context, find_ssl_error
from ._errors import ErrorMap, failure
from ._httpcore_pool import keep_pool

__all__ = ["EXCEPTION_MAP", "Httpx", "HttpxConfig", "map_exceptions"]

#: httpx exception -> kclient exception; the most specific type wins (see ``ErrorMap``).
EXCEPTION_MAP = ErrorMap(
    (
        (httpx.ConnectTimeout, errors.ConnectTimeout),
        (httpx.PoolTimeout, errors.PoolTimeout),
        (httpx.ReadTimeout, errors.SocketTimeout),
        (httpx.WriteTimeout, errors.SocketTimeout),
        (httpx.TimeoutException, errors.KClientTimeoutError),
        (httpx.ProxyError, errors.ProxyError),
        (httpx.ConnectError, errors.ConnectError),
        (httpx.ReadError, errors.ReadError),
        (httpx.WriteError, errors.WriteError),
        (httpx.CloseError, errors.ReadError),
        (httpx.NetworkError, errors.TransportError),
        (httpx.UnsupportedProtocol, errors.InvalidRequestError),
        (httpx.LocalProtocolError, errors.InvalidRequestError),
        (httpx.RemoteProtocolError, errors.ProtocolError),
        (httpx.ProtocolError, errors.ProtocolError),
        (httpx.DecodingError, errors.DecodingError),
        (httpx.TooManyRedirects, errors.ProtocolError),
        (httpx.TransportError, errors.TransportError),
        (httpx.HTTPStatusError, errors.ProtocolError),
        (httpx.InvalidURL, errors.InvalidRequestError),
        (httpx.CookieConflict, errors.InvalidRequestError),
        (httpx.StreamError, errors.ReadError),
        (httpx.HTTPError, errors.TransportError),
    )
)
_NATIVE = cast("tuple[type[Exception], ...]", EXCEPTION_MAP.native)
#: The timeout of requests that set none (one object, not one per request).
_NO_TIMEOUT = httpx.Timeout(None)


def kclient_error_for(exc: Exception) -> type[KClientError]:
    """The kclient exception class that stands for the httpx exception ``exc``."""
    return EXCEPTION_MAP.error_for(exc)


@contextmanager
def map_exceptions(request: Request) -> Iterator[None]:
    """Re-raise httpx's exceptions as kclient's, naming the request (secrets masked)."""
    try:
        yield
    except _NATIVE as exc:
        raise _translate(exc, request) from exc


def _translate(exc: Exception, request: Request) -> KClientError:
    """kclient's exception for httpx's ``exc`` (the hot paths raise it from a plain ``try``: a
    generator-based context manager costs a few microseconds each time, several per request)."""
    ssl_error = find_ssl_error(exc)
    error_class = EXCEPTION_MAP.error_for(exc)
    if isinstance(exc, httpx.RemoteProtocolError) and _unanswered(exc):
        error_class = ReadError  # closed before answering: a read that failed (as on every engine), not bad HTTP
    return failure(error_class, exc, request, ssl_error=ssl_error)


@dataclass(frozen=True, kw_only=True)
class HttpxConfig(EngineConfig):
    max_connections: int | None = setting(100, "Most connections open at once (None: no limit).", minimum=1)
    max_keepalive_connections: int | None = setting(
        20, "Most idle connections kept for reuse (None: no limit).", minimum=0
    )
    keepalive_expiry: float | None = setting(5.0, "Seconds an idle connection is kept.", minimum=0.0)
    kclient_pool: bool = setting(
        True,
        "kclient's pool bookkeeping: linear, one request per idle HTTP/1.1 connection, "
        "connections of cancelled requests reclaimed (False: httpcore's own, flaws included).",
    )
    http2: bool = setting(False, "Offer HTTP/2 over TLS (ALPN); needs the http2 extra: pip install 'kclient[http2]'.")
    trust_env: bool = setting(True, "Use HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY from the environment.")
    https: HttpsConfig = setting(default_factory=HttpsConfig)


def _unanswered(exc: httpx.TransportError) -> bool:
    """The server closed the connection before any byte of the answer (FIN or RST while waiting)."""
    if isinstance(exc, httpx.RemoteProtocolError):
        # By its message: httpcore raises one RemoteProtocolError for this and for broken HTTP alike.
        return "without sending a response" in str(exc)
    return find_ssl_error(exc) is None


class _HttpxStream:
    """The body of an httpx response, closed explicitly (no generator left to the GC).

    httpx hands over the raw bytes and kclient's decoders decode them, as on every engine:
    httpx's own decoders expand a whole chunk at once, with no guard against a bomb.
    """

    def __init__(self, response: httpx.Response, request: Request) -> None:
        self._response = response
        self._request = request
        self._chunks: AsyncIterator[bytes] | None = None
        self._decoder: Decoder | None = decoder_for(response.headers.get("Content-Encoding"), request)
        self._done = False

    def __aiter__(self) -> _HttpxStream:
        if self._chunks is None:  # once: a second aiter_bytes() goes on where the first stopped
            self._chunks = self._response.aiter_raw()
        return self

    async def __anext__(self) -> bytes:
        self.__aiter__()
        assert self._chunks is not None
        decoder = self._decoder
        while True:
            if self._done:
                raise StopAsyncIteration
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                if decoder is None:
                    raise
                self._done = True
                chunk = decoder.flush()
            except _NATIVE as exc:
                raise _translate(exc, self._request) from exc
            else:
                if decoder is not None:
                    chunk = decoder.decode(chunk)
            if chunk:
                return chunk

    async def aclose(self) -> None:
        chunks, self._chunks = self._chunks, None
        try:
            closer = getattr(chunks, "aclose", None)
            if closer is not None:
                await closer()
            await self._response.aclose()
        except _NATIVE as exc:
            raise _translate(exc, self._request) from exc


class _RequestBody(httpx.AsyncByteStream):
    """An async-iterable request body handed to httpx as it is, and closed once the exchange is over.

    httpx would wrap it in an async generator of its own (``AsyncIteratorByteStream.__aiter__``),
    which httpcore leaves unfinished when the upload is cancelled or fails: trio then reports it,
    and the caller's generator, as garbage collected before being exhausted. This stream has no
    generator of its own, and ``aclose()`` closes the caller's iterator (shielded, as ``send`` may
    be unwinding from a cancellation).
    """

    def __init__(self, source: AsyncIterable[bytes]) -> None:
        self._source = source
        self._iterator: AsyncIterator[bytes] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._iterator = self._source.__aiter__()
        return self

    async def __anext__(self) -> bytes:
        if self._iterator is None:
            self.__aiter__()
        assert self._iterator is not None
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        iterator, self._iterator = self._iterator, None
        closer = getattr(iterator, "aclose", None)
        if closer is not None:
            import anyio

            with anyio.CancelScope(shield=True), suppress(RuntimeError):  # RuntimeError: still running elsewhere
                await closer()


class Httpx(Engine):
    """Requests through ``httpx.AsyncClient``: connection pooling, TLS, HTTP proxies."""

    name = "Httpx"
    capabilities = Capabilities(http2=True, streaming=True, proxies=frozenset({"http", "socks"}))
    config_class = HttpxConfig
    config: HttpxConfig

    def __init__(self, config: HttpxConfig | dict[str, Any] | None = None, /, **settings: Any) -> None:
        super().__init__(config, **settings)
        self._client: httpx.AsyncClient | None = None
        self._closed = False
        _mask_httpx_log()

    @classmethod
    def check_capabilities(cls, config: EngineConfig) -> None:
        super().check_capabilities(config)
        assert isinstance(config, HttpxConfig)
        if config.http2:
            require_module(cls.name, "h2", "http2=True", "http2")
        if config.proxy is not None and config.proxy.kind == "socks":
            require_module(cls.name, "socksio", "a SOCKS proxy", "socks")

    def _ssl_context(self) -> ssl.SSLContext:
        # ALPN is left to httpcore, which offers h2 only when http2=True.
        return create_ssl_context(self.config.https, engine=self.name, alpn=())

    def _async_client(self) -> httpx.AsyncClient:
        if self._client is None:
            cfg = self.config
            self._client = httpx.AsyncClient(
                limits=httpx.Limits(
                    max_connections=cfg.max_connections,
                    max_keepalive_connections=cfg.max_keepalive_connections,
                    keepalive_expiry=cfg.keepalive_expiry,
                ),
                proxy=str(cfg.proxy.url) if cfg.proxy is not None else None,
                verify=self._ssl_context(),
                http2=cfg.http2,
                trust_env=cfg.trust_env,
                follow_redirects=False,
                timeout=None,
                cookies=_NoCookieJar(),
                headers={"Accept-Encoding": accept_encoding()},  # what kclient's decoders decode
            )
            if cfg.kclient_pool:
                for transport in (self._client._transport, *self._client._mounts.values()):
                    keep_pool(getattr(transport, "_pool", None))
        return self._client

    async def send(self, request: Request) -> Response:
        if self._closed:
            raise TransportError(f"Engine {self.name} is closed; {describe(request)} was not sent.")
        client = self._async_client()
        t = request.timeouts
        if t.connect is None and t.socket is None:
            timeout = _NO_TIMEOUT
        else:
            timeout = httpx.Timeout(connect=t.connect, read=t.socket, write=t.socket, pool=t.connect)
        retry = request.method in IDEMPOTENT_METHODS and isinstance(request.content, bytes)
        try:
            headers: list[tuple[str, str]] | list[tuple[bytes, bytes]] = list(request.headers.items())
            if not all(value.isascii() for _, value in headers):
                # httpx encodes str values as ASCII (UnicodeEncodeError otherwise): sent as UTF-8 bytes instead
                headers = [(name.encode(), value.encode()) for name, value in request.headers.items()]
            try:
                native_request = client.build_request(
                    request.method, str(request.url), headers=headers, content=request.content, timeout=timeout
                )
            except UnicodeError as exc:  # the idna package refuses a host yarl took (IDNA 2008 is stricter)
                raise InvalidRequestError(f"{describe(request)} was not sent: {mask_credentials(str(exc))}") from exc
            body = None if isinstance(request.content, bytes) else _RequestBody(request.content)
            if body is not None:
                native_request.stream = body  # httpx set the framing headers (chunked); the body is sent from ours
            try:
                native = await client.send(native_request, stream=True)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if not (retry and _unanswered(exc)):
                    raise
                native = await client.send(native_request, stream=True)  # the keep-alive race: once more
            finally:
                if body is not None:
                    await body.aclose()
        except _NATIVE as exc:
            raise _translate(exc, request) from exc
        return Response(
            native.status_code,
            request=request,
            headers=CIMultiDict(native.headers.multi_items()),
            reason=native.reason_phrase,
            http_version=native.http_version,
            stream=_HttpxStream(native, request),
        )

    async def aclose(self) -> None:
        self._closed = True
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


class _NoCookieJar(http.cookiejar.CookieJar):
    """A jar that keeps nothing: httpx would otherwise store response cookies and send them
    again behind kclient's back (every engine hands cookies over; the HttpCookies plugin keeps them)."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        """Keep nothing from a response."""

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        """Keep nothing set directly."""


def _mask_httpx_log() -> None:
    """Mask the URLs httpx writes to its own ``httpx`` logger ("HTTP Request: GET <url> ...").

    httpx logs every request at INFO with the URL as it is, password and tokens included:
    a notebook that turns on INFO logging would print them. A filter on that logger
    replaces each URL argument with its masked text (once per process).
    """
    import logging

    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _MaskedUrls) for f in logger.filters):
        logger.addFilter(_MaskedUrls())


class _MaskedUrls:
    """A ``logging`` filter: URL arguments of a record are replaced by their masked text."""

    def filter(self, record: Any) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(arg, httpx.URL) for arg in args):
            record.args = tuple(mask_url(str(arg)) if isinstance(arg, httpx.URL) else arg for arg in args)
        return True
