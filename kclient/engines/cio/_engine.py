"""The CIO engine: kclient's own HTTP/1.1 engine on asyncio, with the httptools parser.

A request goes through named stages: route (direct, through an HTTP proxy, or through a
CONNECT tunnel), serialize the head, acquire a connection from the pool, write, wait for
the head of the answer, then hand the body over, already complete for small answers or
as a stream. A request that found its reused keep-alive connection closed before any
byte of the answer is sent once more on a fresh connection when its method is idempotent.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from ..._decoding import Decoder, accept_encoding, decoder_for
from ..._describe import describe
from ..._engine import Capabilities, Engine, leave_loop, require_module
from ..._errors import (
    ConfigError,
    ConnectError,
    ConnectTimeout,
    KClientError,
    ProxyError,
    ReadError,
    TLSError,
    TransportError,
)
from ..._models import IDEMPOTENT_METHODS, Request, Response, Timeouts
from ..._proxy import EnvironmentProxies, ProxyConfig
from ..._redact import SECRET_HEADERS, mask_url
from ..._syntax import has_line_break, is_token
from ..._tls import create_ssl_context, tls_error
from ..._version import __version__
from .._errors import unsendable_header, unsendable_method
from ._config import CIOConfig
from ._connection import Connection, Exchange, RouteKey, Unanswered, header_value, host_value
from ._pool import ConnectionPool

if TYPE_CHECKING:
    from yarl import URL

    from ..._ws_channel import WebSocketChannel, WebSocketSettings

__all__ = ["CIO"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_USER_AGENT = f"kclient/{__version__}"


class CIO(Engine):
    """kclient's own engine: HTTP/1.1 keep-alive pools, pipelining, TLS, HTTP proxies; asyncio only."""

    name = "CIO"
    capabilities = Capabilities(
        pipelining=True,
        proxies=frozenset({"http"}),
        streaming=True,
        worker_threads=True,
        websockets=True,
        backends=frozenset({"asyncio"}),
    )
    config_class = CIOConfig
    config: CIOConfig

    def __init__(self, config: CIOConfig | dict[str, Any] | None = None, /, **settings: Any) -> None:
        super().__init__(config, **settings)
        cfg = self.config
        self._pool = self._new_pool()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._ssl_context: ssl.SSLContext | None = None
        self._env_proxies = _environment_proxies(cfg.trust_env and cfg.proxy is None)
        self._accept_encoding = accept_encoding()
        self._agent_lines: dict[str, str] = {}
        #: The header lines of header sets sent before (DefaultRequest's, an API's fixed headers), checked once.
        self._header_blocks: dict[tuple[tuple[str, str], ...], str] = {}
        self._default_headers = self._agent_headers(_USER_AGENT)
        self._closed = False

    def default_timeouts(self) -> Timeouts:
        cfg = self.config
        return Timeouts(
            request=cfg.request_timeout, connect=cfg.endpoint.connect_timeout, socket=cfg.endpoint.socket_timeout
        )

    def pool_stats(self) -> dict[str, int]:
        """Open, idle and busy connections and waiting requests (for tests and displays)."""
        return self._pool.stats()

    # -- sending ------------------------------------------------------------------------------
    async def send(self, request: Request) -> Response:
        self._check_loop()
        key, target, proxy_auth = self._route(request.url)
        head = self._serialize(request, target, proxy_auth)
        body = request.content
        socket_timeout, connect_timeout = self._timeouts(request)
        pipelinable = self.config.pipelining and isinstance(body, bytes) and request.method != "HEAD"
        for attempt in (1, 2):
            connection = self._pool.take_idle(key) or await self._pool.acquire(
                key, pipelinable=pipelinable, connect_timeout=connect_timeout
            )
            exchange: Exchange | None = None
            try:
                if isinstance(body, bytes):
                    exchange = _write(connection, request.method, head, body)
                else:
                    exchange = await connection.send_streaming(
                        request.method, head, body, describe(request), socket_timeout
                    )
                headers = exchange.headers_future
                if not headers.done():  # the usual case, awaited here to save a coroutine per request
                    if socket_timeout is None:
                        await headers
                    else:
                        await connection.wait(headers, socket_timeout, exchange)
                headers.result()
            except Unanswered as exc:
                if attempt == 1 and request.method in IDEMPOTENT_METHODS and isinstance(body, bytes):
                    continue  # the keep-alive race: the server closed a reused connection; send again
                raise ReadError(
                    f"{exc} {describe(request)} was not sent again: "
                    + ("it was already sent twice." if attempt == 2 else f"{request.method} is not idempotent.")
                ) from exc
            except BaseException:
                if exchange is not None:
                    connection.abandon(exchange)
                elif not connection.closed and connection.idle:
                    self._pool.connection_idle(connection)
                raise
            return self._response(request, exchange, socket_timeout)
        raise AssertionError("unreachable")  # pragma: no cover

    async def websocket(
        self, request: Request, settings: WebSocketSettings
    ) -> tuple[Response, WebSocketChannel | None]:
        """A WebSocket on a connection of its own (never pooled), through a CONNECT tunnel when
        a proxy is set for the URL; wsproto speaks the protocol (``_websocket``)."""
        require_module(self.name, "wsproto", "WebSockets", "websocket")
        from ._websocket import CIOWebSocket

        self._check_loop()
        url = request.url
        env = self._env_proxies
        proxy = self.config.proxy or (env.for_url(url) if env is not None else None)
        port = url.port or (443 if url.scheme == "https" else 80)
        socket_timeout, connect_timeout = self._timeouts(request)
        connection = await self._connect((url.scheme, url.raw_host or "", port, proxy), connect_timeout)
        assert connection.transport is not None
        channel = CIOWebSocket(request, settings, connection.loop, connection.transport)
        try:
            response = await channel.handshake(socket_timeout)
        except BaseException:
            channel.abort()
            raise
        return response, channel if response.status == 101 else None

    def _timeouts(self, request: Request) -> tuple[float | None, float | None]:
        """Socket and connect timeouts: the request's, else the endpoint's (for direct ``send`` calls;
        the client has already merged ``default_timeouts()`` into the request)."""
        timeouts, endpoint = request.timeouts, self.config.endpoint
        return (
            endpoint.socket_timeout if timeouts.socket is None else timeouts.socket,
            endpoint.connect_timeout if timeouts.connect is None else timeouts.connect,
        )

    def _response(self, request: Request, exchange: Exchange, socket_timeout: float | None) -> Response:
        raw = exchange.headers
        decoder = decoder_for(header_value(raw, b"content-encoding"), request)
        content: bytes | None = None
        stream: _Body | None = None
        if exchange.body_done:
            content = exchange.take_body()
            if decoder is not None:
                content = decoder.decode(content) + decoder.flush()
        else:
            stream = _Body(exchange, decoder, socket_timeout)
        return Response(
            exchange.status,
            request=request,
            raw_headers=raw,
            reason=exchange.reason,
            http_version=exchange.http_version,
            content=content,
            stream=stream,
        )

    # -- routes and request heads -------------------------------------------------------------
    def _route(self, url: URL) -> tuple[RouteKey, str, str | None]:
        scheme = url.scheme
        host = url.raw_host or ""
        port = url.port or (443 if scheme == "https" else 80)
        env = self._env_proxies
        proxy = self.config.proxy or (env.for_url(url) if env is not None else None)
        target = url.raw_path_qs or "/"
        if proxy is None:
            return (scheme, host, port, None), target, None
        if scheme == "http":  # absolute-form request to the proxy
            proxy_url = proxy.url
            key = (proxy_url.scheme, proxy_url.raw_host or "", proxy_url.port or 80, None)
            # absolute-form without user-info (RFC 9110 4.2.4), which the proxy must not see
            return key, str(url.with_user(None).with_fragment(None)), proxy.basic_authorization
        return (scheme, host, port, proxy), target, None  # a CONNECT tunnel carries the request

    def _serialize(self, request: Request, target: str, proxy_auth: str | None) -> bytes:
        """The request head: request line, Host, the request's headers, defaults and body framing."""
        headers = request.headers
        method = request.method
        if not is_token(method):
            raise unsendable_method(request)  # it would split the request line: refused before anything is sent
        lines = [f"{method} {target} HTTP/1.1"]
        if "Host" not in headers:
            lines.append(_host_line(request.url))
        if not headers:
            lines.append(self._default_headers)
        elif len(headers) == 1 and (agent := headers.get("User-Agent")) is not None and not has_line_break(agent):
            lines.append(self._agent_headers(agent))  # the usual request: only the UserAgent plugin's header
        else:
            lines.append(self._header_block(request))
        body = request.content
        if isinstance(body, bytes):
            if (body or request.method in _BODY_METHODS) and "Content-Length" not in headers:
                lines.append(f"Content-Length: {len(body)}")
        elif "Transfer-Encoding" not in headers:
            lines.append("Transfer-Encoding: chunked")
        if proxy_auth is not None:
            lines.append(f"Proxy-Authorization: {proxy_auth}")
        lines.append("\r\n")
        text = "\r\n".join(lines)
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            return text.encode("utf-8")

    def _agent_headers(self, agent: str) -> str:
        """The default header lines with ``agent`` as the User-Agent, made once per agent."""
        found = self._agent_lines.get(agent)
        if found is None:
            found = f"User-Agent: {agent}\r\nAccept: */*\r\nAccept-Encoding: {self._accept_encoding}"
            if len(self._agent_lines) < 16:
                self._agent_lines[agent] = found
        return found

    def _header_block(self, request: Request) -> str:
        """The header lines of ``request`` with the defaults it lacks, made once per set of headers.

        Sets carrying a secret header (``SECRET_HEADERS``: Authorization, Cookie, X-Api-Key...)
        are never kept: they change from request to request, and a secret is not held longer
        than its request.
        """
        headers = request.headers
        items = tuple(headers.items())
        found = self._header_blocks.get(items)
        if found is None:
            lines: list[str] = []
            self._add_headers(request, lines)
            found = "\r\n".join(lines)
            if len(self._header_blocks) < 64 and not any(name.lower() in SECRET_HEADERS for name, _ in items):
                self._header_blocks[items] = found
        return found

    def _add_headers(self, request: Request, lines: list[str]) -> None:
        headers = request.headers
        for name, value in headers.items():
            if not is_token(name) or has_line_break(value):  # refused before anything is sent
                raise unsendable_header(request, name)
            lines.append(f"{name}: {value}")
        if "User-Agent" not in headers:
            lines.append(f"User-Agent: {_USER_AGENT}")
        if "Accept" not in headers:
            lines.append("Accept: */*")
        if "Accept-Encoding" not in headers:
            lines.append(f"Accept-Encoding: {self._accept_encoding}")

    # -- connecting ---------------------------------------------------------------------------
    async def _connect(self, key: RouteKey, timeout: float | None) -> Connection:
        """Open a connection to ``key``: ``endpoint.connect_attempts`` tries of ``timeout`` seconds each."""
        last: KClientError | None = None
        for _ in range(self.config.endpoint.connect_attempts):
            try:
                if timeout is None:
                    return await self._open_connection(key)
                return await asyncio.wait_for(self._open_connection(key), timeout)
            except TimeoutError as exc:
                last = ConnectTimeout(
                    f"Connecting to {_origin(key)} took longer than the connect timeout of {timeout} s "
                    "(endpoint.connect_timeout, or a request's Timeouts(connect=...))."
                )
                last.__cause__ = exc
            except (ProxyError, TLSError):
                raise  # another attempt would fail the same way
            except ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    async def _open_connection(self, key: RouteKey) -> Connection:
        loop = asyncio.get_running_loop()
        scheme, host, port, tunnel = key
        connection = Connection(key, self.config.limits, loop, self._pool.connection_idle, self._pool.connection_closed)
        if tunnel is None:
            context = await self._context() if scheme == "https" else None
            await self._open_socket(connection, host, port, context, server_name=host)
            return connection
        proxy_url = tunnel.url
        proxy_host, proxy_port = proxy_url.raw_host or "", proxy_url.port or 80
        proxy_context = await self._context() if proxy_url.scheme == "https" else None
        await self._open_socket(connection, proxy_host, proxy_port, proxy_context, server_name=proxy_host)
        try:
            await self._tunnel(connection, host, port, tunnel)
            if scheme != "https":
                return connection  # a plain tunnel: a ws:// session through an HTTP proxy
            context = await self._context()
            assert connection.transport is not None
            transport = await loop.start_tls(connection.transport, connection, context, server_hostname=host)
        except ssl.SSLError as exc:
            connection.abort()
            raise tls_error(host, exc) from exc
        except BaseException:
            connection.abort()
            raise
        assert transport is not None  # uvloop's transports are not asyncio.Transport subclasses: no isinstance
        connection.transport = transport
        return connection

    async def _open_socket(
        self, connection: Connection, host: str, port: int, context: ssl.SSLContext | None, *, server_name: str
    ) -> None:
        loop = connection.loop
        address = host.strip("[]")
        try:
            ipaddress.ip_address(address)
            addresses = [address]
        except ValueError:
            addresses = await self._resolve(loop, address, port)
        error: BaseException | None = None
        for candidate in addresses:
            try:
                await loop.create_connection(
                    lambda: connection,
                    candidate,
                    port,
                    ssl=context,
                    server_hostname=server_name if context is not None else None,
                )
                return
            except ssl.SSLError as exc:
                raise tls_error(server_name, exc) from exc
            except OSError as exc:
                error = exc
        raise ConnectError(f"Cannot connect to {host}:{port}: {error}.") from error

    async def _resolve(self, loop: asyncio.AbstractEventLoop, host: str, port: int) -> list[str]:
        try:
            infos = await loop.run_in_executor(self._workers(), socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        except OSError as exc:
            raise ConnectError(f"Cannot resolve {host}: {exc}.") from exc
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    async def _tunnel(self, connection: Connection, host: str, port: int, proxy: ProxyConfig) -> None:
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}", f"User-Agent: {_USER_AGENT}"]
        auth = proxy.basic_authorization
        if auth is not None:
            lines.append(f"Proxy-Authorization: {auth}")
        answer = await connection.open_tunnel(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ProxyError(f"The proxy {mask_url(proxy.url)} answered CONNECT with {status_line!r}.")
        if parts[1] != "200":
            raise ProxyError(
                f"The proxy {mask_url(proxy.url)} refused CONNECT {authority}: {status_line}"
                + (" (check the proxy credentials)." if parts[1] == "407" else ".")
            )

    async def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            loop = asyncio.get_running_loop()
            build = partial(create_ssl_context, self.config.https, engine="CIO")
            self._ssl_context = await loop.run_in_executor(self._workers(), build)
        return self._ssl_context

    def _workers(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.config.thread_count or 2, thread_name_prefix="kclient-cio"
            )
        return self._executor

    def _check_loop(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigError(
                "The CIO engine runs on asyncio only; under trio use the Httpx engine: HttpClient('Httpx')."
            ) from None
        if self._closed:
            raise TransportError("Engine CIO is closed; create a new engine or client.")
        if self._loop is not loop:
            if leave_loop(self.name, self._loop, holds_connections=bool(self._pool.stats()["open"])):
                self._pool.close()
                self._pool = self._new_pool()
            self._loop = loop

    def _new_pool(self) -> ConnectionPool:
        cfg = self.config
        return ConnectionPool(
            max_connections=cfg.max_connections,
            max_per_route=cfg.endpoint.max_connections_per_route,
            keep_alive_time=cfg.endpoint.keep_alive_time,
            pipeline_max_size=cfg.endpoint.pipeline_max_size if cfg.pipelining else None,
            connect=self._connect,
        )

    async def aclose(self) -> None:
        self._closed = True
        self._pool.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # not on asyncio (a CIO client closed under trio): it never opened anything
        await asyncio.sleep(0)  # let the transports report their closing


class _Body:
    """The streamed body of one answer: chunks from the connection, decoded."""

    __slots__ = ("_decoder", "_exchange", "_flushed", "_socket_timeout")

    def __init__(self, exchange: Exchange, decoder: Decoder | None, socket_timeout: float | None) -> None:
        self._exchange = exchange
        self._decoder = decoder
        self._socket_timeout = socket_timeout
        self._flushed = False

    def __aiter__(self) -> _Body:
        return self

    async def __anext__(self) -> bytes:
        while True:
            chunk = await self._exchange.next_chunk(self._socket_timeout)
            if not chunk:
                if self._decoder is not None and not self._flushed:
                    self._flushed = True
                    tail = self._decoder.flush()
                    if tail:
                        return tail
                raise StopAsyncIteration
            if self._decoder is not None:
                chunk = self._decoder.decode(chunk)
                if not chunk:
                    continue
            return chunk

    async def aclose(self) -> None:
        self._exchange.connection.abandon(self._exchange)


def _write(connection: Connection, method: str, head: bytes, body: bytes) -> Exchange:
    """Write a request whose body is in memory: with its head in one piece, unless it is large."""
    if len(body) <= 1 << 20:
        return connection.send(method, head + body)
    exchange = connection.send(method, head)
    assert connection.transport is not None
    connection.transport.write(body)  # a large body is written as it is, not copied after the head
    return exchange


def _host_line(url: URL) -> str:
    return f"Host: {host_value(url)}"


def _origin(key: RouteKey) -> str:
    scheme, host, port, _ = key
    return f"{scheme}://{host}:{port}"


def _environment_proxies(trusted: bool) -> EnvironmentProxies | None:
    """The HTTP proxies of the environment, or ``None`` when there is none to use (the hot path checks that)."""
    if not trusted:
        return None
    found = EnvironmentProxies({"http"})
    return found if found.proxies else None
