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

The exception mapping lives in ``kclient.engines._aiohttp_errors`` (re-exported here) and the
responses and their streamed bodies in ``kclient.engines._aiohttp_response``.
"""

from __future__ import annotations

import asyncio
import io
import ssl
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import aiohttp
from yarl import URL

from .._decoding import accept_encoding
from .._describe import describe
from .._engine import Capabilities, Engine, EngineConfig, leave_loop, require_module
from .._errors import (
    ConfigError,
    InvalidRequestError,
    KClientError,
    TransportError,
    UnsupportedSettingError,
    WebSocketProtocolError,
)
from .._models import Request, Response
from .._proxy import EnvironmentProxies, ProxyConfig
from .._redact import mask_credentials
from .._settings import setting
from .._tls import HttpsConfig, create_ssl_context
from .._ws_channel import WebSocketChannel, WebSocketSettings, handshake_headers, ws_url
from ._aiohttp_errors import _NATIVE, EXCEPTION_MAP, _translate, kclient_error_for, map_exceptions
from ._aiohttp_response import _response

__all__ = ["EXCEPTION_MAP", "Aiohttp", "AiohttpConfig", "kclient_error_for", "map_exceptions"]


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
