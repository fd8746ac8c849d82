"""The Aiohttp engine: requests run on one ``aiohttp.ClientSession`` per engine (asyncio only).

The session is opened on the first ``send``, on the running event loop (the SSL context is
built once, on a worker thread), and closed by ``aclose()``, which waits until its
connections are closed. Under trio ``send`` raises ``ConfigError`` naming the engines that
run there. aiohttp is used as a transport only: redirects, cookies and retries stay
kclient's plugins (``allow_redirects=False``, a ``DummyCookieJar``), and aiohttp's own
timeouts are off except the request's connect timeout (``connect`` and ``sock_connect``)
and socket timeout (``sock_read``); the request timeout is the client's.

Response bodies are decoded here with the decoders CIO uses (gzip, deflate, and br and
zstd when brotli and zstandard are installed), not by aiohttp: aiohttp decodes zstd only
with ``backports.zstd`` (before Python 3.14), and one decoder keeps the engines alike.
``Accept-Encoding`` names those codings unless the caller sets it; aiohttp adds its other
default headers (User-Agent, Host...). A streamed body hands its connection back to the
pool when read to the end and closes it otherwise.

Proxies: an HTTP proxy through aiohttp's ``proxy=`` (plain requests in absolute form,
HTTPS through ``CONNECT``); its credentials become a Proxy-Authorization header and never
reach aiohttp inside the URL, which aiohttp would show in its errors. A SOCKS proxy goes
through ``aiohttp_socks.ProxyConnector`` (the ``socks`` extra, checked when the engine is
created; ``socks5h``/``socks4a`` let the proxy resolve host names). With ``trust_env`` the
engine reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY when it is created, as CIO does;
aiohttp's own ``trust_env`` is not used, as it would also read ``~/.netrc`` into
Authorization headers and look the environment up on a worker thread for every request.

aiohttp's exceptions are translated in one place, :data:`EXCEPTION_MAP` (an :class:`~._errors.ErrorMap`) read by
:func:`map_exceptions`, with the original kept as ``__cause__`` and the message naming
the request (secrets masked). A request whose reused keep-alive connection was closed
before any byte of the answer is sent once more by aiohttp itself when its method is
idempotent (aiohttp retries ``ServerDisconnectedError`` and ``ClientOSError`` once, and
a bytes body with them), so the engine adds no retry of its own.
"""

from __future__ import annotations

import asyncio
import io
import ssl
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import aiohttp
import aiohttp.client_exceptions
import aiohttp.http
from yarl import URL

from .. import _errors as errors
from .._decoding import Decoder, accept_encoding, decoder_for
from .._describe import describe
from .._engine import Capabilities, Engine, EngineConfig, leave_loop, require_module
from .._errors import (
    ConfigError,
    ConnectTimeout,
    DecodingError,
    InvalidRequestError,
    KClientError,
    ProtocolError,
    TLSError,
    TransportError,
    UnsupportedSettingError,
    WebSocketProtocolError,
    WriteError,
    find_cause,
)
from .._models import Request, Response
from .._proxy import EnvironmentProxies, ProxyConfig
from .._redact import mask_credentials, mask_header, mask_url
from .._settings import setting
from .._tls import HttpsConfig, create_ssl_context, find_ssl_error
from .._ws_channel import WebSocketChannel, WebSocketSettings, handshake_headers, ws_url
from ._errors import ErrorMap, failure

__all__ = ["EXCEPTION_MAP", "Aiohttp", "AiohttpConfig", "kclient_error_for", "map_exceptions"]


def _aiohttp_entries(*pairs: tuple[str, type[KClientError]]) -> tuple[tuple[type[Exception], type[KClientError]], ...]:
    """``(aiohttp.<name>, kclient class)`` for the names this aiohttp version has (some are recent)."""
    found = []
    for name, mapped in pairs:
        native = getattr(aiohttp, name, None) or getattr(aiohttp.client_exceptions, name, None)
        if native is not None:
            found.append((native, mapped))
    return tuple(found)


def _socks_entries() -> tuple[tuple[type[Exception], type[KClientError]], ...]:
    """aiohttp_socks' errors, raised while the SOCKS connector opens a connection (when it is installed)."""
    try:
        import aiohttp_socks
    except ImportError:
        return ()
    return (
        (aiohttp_socks.ProxyTimeoutError, errors.ConnectTimeout),
        (aiohttp_socks.ProxyConnectionError, errors.ProxyError),
        (aiohttp_socks.ProxyError, errors.ProxyError),
    )


#: aiohttp (and aiohttp_socks) exception -> kclient exception; the most specific type wins (see
#: ``ErrorMap``). ``aiohttp.ClientError`` is the catch-all; a bare ``TimeoutError`` is a ConnectTimeout when
#: it was raised while connecting, else a SocketTimeout (see :func:`kclient_error_for`), and a
#: ``ClientPayloadError`` caused by a content-encoding error is a DecodingError.
EXCEPTION_MAP = ErrorMap(
    (
        *_aiohttp_entries(
            # timeouts (all of them are ServerTimeoutErrors, which are TimeoutErrors)
            ("ConnectionTimeoutError", errors.ConnectTimeout),
            ("SocketTimeoutError", errors.SocketTimeout),
            ("ServerTimeoutError", errors.SocketTimeout),
            # TLS (aiohttp's SSL errors are ssl.SSLError subclasses themselves)
            ("ClientConnectorCertificateError", errors.TLSError),
            ("ClientConnectorSSLError", errors.TLSError),
            ("ClientSSLError", errors.TLSError),
            ("ServerFingerprintMismatch", errors.TLSError),
            # opening a connection
            ("ClientProxyConnectionError", errors.ProxyError),
            ("ClientConnectorDNSError", errors.ConnectError),
            ("UnixClientConnectorError", errors.ConnectError),
            ("ClientConnectorError", errors.ConnectError),
            # an open connection that failed
            ("ClientConnectionResetError", errors.WriteError),
            ("ClientOSError", errors.ReadError),
            ("ServerDisconnectedError", errors.ReadError),
            ("ServerConnectionError", errors.ReadError),
            ("ClientConnectionError", errors.ReadError),
            ("UploadAbortedError", errors.WriteError),
            # answers that break HTTP
            ("ClientPayloadError", errors.ProtocolError),
            ("ClientHttpProxyError", errors.ProxyError),
            ("ContentTypeError", errors.DecodingError),
            ("WSServerHandshakeError", errors.ProtocolError),
            ("TooManyRedirects", errors.ProtocolError),
            ("ClientResponseError", errors.ProtocolError),
            ("InvalidUrlRedirectClientError", errors.ProtocolError),
            ("NonHttpUrlRedirectClientError", errors.ProtocolError),
            ("RedirectClientError", errors.ProtocolError),
            # requests that cannot be sent
            ("InvalidUrlClientError", errors.InvalidRequestError),
            ("InvalidURL", errors.InvalidRequestError),
            ("NonHttpUrlClientError", errors.InvalidRequestError),
            # the catch-all of the client's errors
            ("ClientError", errors.TransportError),
            # exported, outside ClientError (websockets, multipart, stream internals)
            ("WebSocketError", errors.ProtocolError),
            ("WSMessageTypeError", errors.ProtocolError),
            ("EofStream", errors.ReadError),
            ("BadContentDispositionHeader", errors.ProtocolError),
            ("BadContentDispositionParam", errors.ProtocolError),
        ),
        (aiohttp.http.HttpProcessingError, errors.ProtocolError),
        *_socks_entries(),
        (asyncio.TimeoutError, errors.SocketTimeout),
    )
)
_NATIVE = EXCEPTION_MAP.native
#: aiohttp's exceptions for a failed TLS handshake, whose native ``ssl`` error names the reason.
_TLS_CLASSES = tuple(native for native, mapped in EXCEPTION_MAP.items() if mapped is TLSError)


def kclient_error_for(exc: BaseException, *, reading: bool = False) -> type[KClientError]:
    """The kclient exception class that stands for the aiohttp exception ``exc``.

    ``reading`` is true while a response body is read (a bare timeout is then a socket timeout).
    """
    native, mapped = EXCEPTION_MAP.entry(exc)
    if native is None:
        return mapped
    if native is asyncio.TimeoutError and not reading and _raised_while_connecting(exc):
        return ConnectTimeout
    if mapped is ProtocolError and _decoding_failed(exc):
        return DecodingError
    if type(exc) in _WRITE_FAILURE_CLASSES and str(exc).startswith(_WRITE_FAILURES):
        return WriteError
    return mapped


#: How aiohttp's messages begin when writing the request body failed. Matched by text because
#: aiohttp has no type for it: it raises the ClientOSError and ClientConnectionError it raises
#: for reading too (``ClientRequest._write_bytes``), the OSError behind either being the same.
_WRITE_FAILURES = ("Can not write request body", "Failed to send bytes")
_WRITE_FAILURE_CLASSES = (aiohttp.ClientOSError, aiohttp.ClientConnectionError)


def _raised_while_connecting(exc: BaseException) -> bool:
    """True when the traceback of ``exc`` goes through aiohttp's (or aiohttp_socks') connector."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("aiohttp.connector", "aiohttp_socks")):
            return True
        tb = tb.tb_next
    return False


def _decoding_failed(exc: BaseException) -> bool:
    """True for a payload error caused by a content-encoding (decompression) error."""
    from aiohttp.http_exceptions import ContentEncodingError

    return find_cause(exc, ContentEncodingError) is not None


def _native_ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The ``ssl`` module's error behind an aiohttp TLS error (which is an SSLError subclass itself)."""
    current: BaseException | None = exc
    while isinstance(current, aiohttp.ClientError):
        current = current.__cause__ or current.__context__
    return None if current is None else find_ssl_error(current)


def _translate(exc: BaseException, request: Request, *, reading: bool = False) -> KClientError:
    """The kclient error for ``exc``, its message naming the request (credentials masked).

    The caller raises it ``from exc``.
    """
    _scrub_request_info(exc)
    ssl_error = _native_ssl_error(exc) if isinstance(exc, _TLS_CLASSES) else None
    return failure(kclient_error_for(exc, reading=reading), exc, request, ssl_error=ssl_error)


@contextmanager
def map_exceptions(request: Request, *, reading: bool = False) -> Iterator[None]:
    """Re-raise aiohttp's exceptions as kclient's, naming the request (secrets masked)."""
    try:
        yield
    except _NATIVE as exc:
        raise _translate(exc, request, reading=reading) from exc


def _scrub_request_info(exc: BaseException) -> None:
    """Mask the request aiohttp keeps in a response error (the ``__cause__`` kept): its URL's
    secrets, and secret headers such as Proxy-Authorization, which its repr would show."""
    if not isinstance(exc, aiohttp.ClientResponseError) or exc.request_info is None:
        return
    from multidict import CIMultiDict, CIMultiDictProxy

    info = exc.request_info
    headers = CIMultiDictProxy(CIMultiDict((name, mask_header(name, value)) for name, value in info.headers.items()))
    masked = aiohttp.RequestInfo(URL(mask_url(info.url)), info.method, headers, URL(mask_url(info.real_url)))
    exc.request_info = masked
    exc.args = (masked, exc.history)


@dataclass(frozen=True, kw_only=True)
class AiohttpConfig(EngineConfig):
    """The Aiohttp engine's settings: its connection pool (aiohttp's ``TCPConnector``), proxies and TLS."""

    max_connections: int | None = setting(
        100, "Most connections open at once, all origins together (None: no limit).", minimum=1
    )
    max_connections_per_route: int | None = setting(
        None, "Most connections open to one origin (None: max_connections only).", minimum=1
    )
    keepalive_timeout: float = setting(
        15.0, "Seconds an idle connection is kept for reuse (0: never reused).", minimum=0.0, maximum=3600.0
    )
    trust_env: bool = setting(
        True, "Use HTTP_PROXY, HTTPS_PROXY and NO_PROXY from the environment (read when the engine is created)."
    )
    https: HttpsConfig = setting(default_factory=HttpsConfig)


#: Bytes bodies larger than this are handed to aiohttp as a BytesIO (aiohttp's own threshold).
_LARGE_BODY = 1 << 20


class _HttpProxy(NamedTuple):
    """An HTTP proxy as aiohttp is given it: its URL without credentials (aiohttp shows it in its
    errors) and the Proxy-Authorization value made of them."""

    url: URL
    authorization: str | None

    @classmethod
    def of(cls, proxy: ProxyConfig) -> _HttpProxy:
        authorization = proxy.basic_authorization
        return cls(proxy.url if authorization is None else proxy.url.with_user(None), authorization)


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


class Aiohttp(Engine):
    """Requests through ``aiohttp.ClientSession``: connection pooling, TLS, HTTP and SOCKS proxies; asyncio only."""

    name = "Aiohttp"
    capabilities = Capabilities(
        streaming=True, proxies=frozenset({"http", "socks"}), websockets=True, backends=frozenset({"asyncio"})
    )
    config_class = AiohttpConfig
    config: AiohttpConfig

    def __init__(self, config: AiohttpConfig | dict[str, Any] | None = None, /, **settings: Any) -> None:
        super().__init__(config, **settings)
        cfg = self.config
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ssl_context: ssl.SSLContext | None = None
        self._ssl_pending: asyncio.Future[ssl.SSLContext] | None = None
        env = EnvironmentProxies({"http"}) if cfg.trust_env and cfg.proxy is None else None
        self._env_proxies = env if env is not None and env.proxies else None
        #: The environment's proxies as aiohttp is given them, made once.
        self._env_http = {proxy: _HttpProxy.of(proxy) for proxy in env.proxies.values()} if env is not None else {}
        self._proxy = _HttpProxy.of(cfg.proxy) if cfg.proxy is not None and cfg.proxy.kind == "http" else None
        self._closed = False

    @classmethod
    def check_capabilities(cls, config: EngineConfig) -> None:
        super().check_capabilities(config)
        if config.proxy is not None and config.proxy.kind == "socks":
            require_module(cls.name, "aiohttp_socks", "a SOCKS proxy", "socks")

    # -- sending ------------------------------------------------------------------------------
    async def send(self, request: Request) -> Response:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigError(_not_on_asyncio()) from None
        session = self._session
        if session is None or self._loop is not loop:
            session = await self._open_session(request, loop)
        headers, options = self._options(request)
        content = request.content
        data: Any = content
        if isinstance(content, bytes):
            # aiohttp warns (ResourceWarning) about bodies over 1 MiB given as bytes; as a BytesIO they
            # are written in pieces, yielding to the loop in between, and can still be sent again.
            data = None if not content else io.BytesIO(content) if len(content) > _LARGE_BODY else content
        try:
            native = await session.request(
                request.method,
                request.url,
                headers=headers or None,  # none of the request's own: aiohttp's quicker path
                data=data,
                allow_redirects=False,
                **options,
            )
        except _NATIVE as exc:
            raise _translate(exc, request) from exc
        except ValueError as exc:  # a request aiohttp refuses to build (URL credentials and Authorization...)
            if isinstance(exc, KClientError):
                raise
            raise InvalidRequestError(f"{describe(request)} was not sent: {mask_credentials(str(exc))}") from exc
        return await _response(native, request)

    async def websocket(
        self, request: Request, settings: WebSocketSettings
    ) -> tuple[Response, WebSocketChannel | None]:
        """A WebSocket through aiohttp's own client (``ws_connect``), on the engine's session."""
        from ._aiohttp_ws import AiohttpWebSocket, handshake_options, refused

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigError(_not_on_asyncio()) from None
        session = self._session
        if session is None or self._loop is not loop:
            session = await self._open_session(request, loop)
        headers, options = self._options(request)
        options.pop("timeout", None)  # the client's request timeout bounds the handshake
        if "proxy" in options and request.url.scheme == "http":
            raise UnsupportedSettingError(
                f"Engine {self.name} cannot open {ws_url(request)} through an HTTP proxy: aiohttp sends a ws:// "
                "handshake to the proxy in absolute form, which proxies do not upgrade. Use wss:// or the CIO engine."
            )
        try:
            native = await session.ws_connect(
                request.url,
                headers=handshake_headers(request if headers is request.headers else request.copy(headers=headers)),
                **options,
                **handshake_options(settings),
            )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status == 101:  # a 101 with a wrong Sec-WebSocket-Accept or Upgrade
                message = f"{ws_url(request)} answered the handshake wrongly: {exc.message}."
                raise WebSocketProtocolError(message) from exc
            return refused(exc, request), None
        except _NATIVE as exc:
            raise _translate(exc, request) from exc
        channel = AiohttpWebSocket(request, settings, native)
        return channel.response(), channel

    def _options(self, request: Request) -> tuple[Any, dict[str, Any]]:
        """The headers to send and aiohttp's options for ``request``: timeouts, proxy, proxy credentials."""
        t = request.timeouts
        options: dict[str, Any] = {}
        if t.connect is not None or t.socket is not None:
            options["timeout"] = aiohttp.ClientTimeout(connect=t.connect, sock_connect=t.connect, sock_read=t.socket)
        headers = request.headers
        proxy = self._proxy or (self._env_proxy(request.url) if self._env_proxies is not None else None)
        if proxy is not None:
            options["proxy"] = proxy.url
            if proxy.authorization is not None:
                if request.url.scheme == "https":  # on the CONNECT request
                    options["proxy_headers"] = {"Proxy-Authorization": proxy.authorization}
                elif "Proxy-Authorization" not in headers:  # an absolute-form request goes to the proxy itself
                    headers = headers.copy()
                    headers["Proxy-Authorization"] = proxy.authorization
        return headers, options

    def _env_proxy(self, url: URL) -> _HttpProxy | None:
        assert self._env_proxies is not None
        found = self._env_proxies.for_url(url)
        return None if found is None else self._env_http[found]

    # -- the session --------------------------------------------------------------------------
    async def _open_session(self, request: Request, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        """The session of ``loop`` (the running one), opened on first use."""
        if self._closed:
            raise TransportError(f"Engine {self.name} is closed; {describe(request)} was not sent.")
        if self._session is not None and self._loop is not loop:
            leave_loop(self.name, self._loop, holds_connections=True)
            _discard(self._session)  # its loop is gone, and its connections with it
            self._session = None
        context = self._ssl_context or await self._build_ssl_context(loop)
        if self._closed:
            raise TransportError(f"Engine {self.name} is closed; {describe(request)} was not sent.")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=self._connector(context),
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"Accept-Encoding": accept_encoding()},
                timeout=aiohttp.ClientTimeout(),
                auto_decompress=False,
                trust_env=False,
            )
            self._loop = loop
        return self._session

    async def _build_ssl_context(self, loop: asyncio.AbstractEventLoop) -> ssl.SSLContext:
        """The SSL context, built once on a worker thread (loading certificates blocks for tens of ms).

        Requests that start together share one build; ``ConfigError`` for unreadable files.
        """
        pending = self._ssl_pending
        if pending is None or pending.get_loop() is not loop:
            build = partial(create_ssl_context, self.config.https, engine=self.name)
            pending = self._ssl_pending = loop.run_in_executor(None, build)
        try:
            context = await asyncio.shield(pending)  # one cancelled request does not cancel the others' build
        except BaseException:
            if pending.done() and self._ssl_pending is pending:
                self._ssl_pending = None  # a failed build is tried again by the next request
            raise
        self._ssl_context = context
        return context

    def _connector(self, context: ssl.SSLContext) -> aiohttp.TCPConnector:
        cfg = self.config
        pool: dict[str, Any] = {
            "limit": cfg.max_connections or 0,
            "limit_per_host": cfg.max_connections_per_route or 0,
            "keepalive_timeout": cfg.keepalive_timeout,
            "ssl": context,
        }
        proxy = cfg.proxy
        if proxy is None or proxy.kind != "socks":
            return aiohttp.TCPConnector(**pool)
        from aiohttp_socks import ProxyConnector, ProxyType

        url = proxy.url
        scheme = url.scheme
        return ProxyConnector(
            proxy_type=ProxyType.SOCKS4 if scheme.startswith("socks4") else ProxyType.SOCKS5,
            host=url.raw_host or "",
            port=url.port or 1080,
            username=url.user,
            password=url.password,
            rdns=scheme in ("socks5h", "socks4a"),  # socks5h/socks4a: the proxy resolves host names
            **pool,
        )

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is None:
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is None or running is not self._loop:
            _discard(session)  # another loop's session: closed without waiting for it
            return
        await session.close()  # waits until its connections are closed
        await asyncio.sleep(0)  # let the transports report their closing


def _discard(session: aiohttp.ClientSession) -> None:
    """Close a session whose loop does not run here: its transports are closed, nothing is awaited."""
    connector = session.connector
    session.detach()  # the session counts as closed: no "Unclosed client session" warning
    if connector is not None and not connector.closed:
        connector._close()  # the synchronous part of connector.close() (its waiters need the loop)


def _not_on_asyncio() -> str:
    """Why ``send`` refuses to run outside asyncio, naming the installed engines that run on trio."""
    from .._registry import default_registry

    try:
        able = [name for name in default_registry().names_where(lambda c: "trio" in c.backends) if name != "Mock"]
    except ConfigError:  # a broken third-party engine must not hide this message
        able = []
    if not able:
        return "The Aiohttp engine runs on asyncio only, and no installed engine runs on trio."
    return f"The Aiohttp engine runs on asyncio only; under trio use {', '.join(able)}: HttpClient({able[0]!r})."
