"""The Urllib3 engine: ``send`` runs "send the request, read the head" on a worker thread under the
engine's limiter (once more on a new connection after the keep-alive race), through one urllib3 pool
manager per way out (direct, the configured proxy, each proxy from the environment) made on first use;
``aclose`` interrupts running steps, aborts open streams and closes every pool."""

from __future__ import annotations

import importlib.util
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread
import urllib3
import urllib3.exceptions as u3
from multidict import CIMultiDict

from ..._decoding import accept_encoding
from ..._describe import describe
from ..._engine import Capabilities, Engine, EngineConfig, require_module
from ..._errors import TransportError
from ..._models import IDEMPOTENT_METHODS, Request, Response
from ..._proxy import EnvironmentProxies, ProxyConfig, ProxyKind
from ..._syntax import has_line_break, is_token
from ..._tls import create_ssl_context
from ..._version import __version__
from .._errors import unsendable_header, unsendable_method
from ._config import DEFAULT_THREAD_COUNT, Urllib3Config
from ._exceptions import _wrapped, map_exceptions
from ._logging import _mask_urllib3_log
from ._pools import _POOLS, _socks_pools
from ._request_body import _close_iterator, _pull
from ._stream import _close_opened, _Opened, _settle, _Stream
from ._worker import _BodyFailed, _Call, _current_call, _in_worker, _install_audit_hook

if TYPE_CHECKING:
    from yarl import URL

__all__ = ["Urllib3"]

T = TypeVar("T")

_USER_AGENT = f"kclient/{__version__}"


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _latin1(value: str) -> str:
    """``value`` as http.client can send it (Latin-1): text outside Latin-1 goes out as UTF-8 bytes."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8").decode("latin-1")
    return value


def _http_version(native: urllib3.HTTPResponse) -> str:
    version = native.version
    return f"HTTP/{version // 10}.{version % 10}" if version else "HTTP/1.1"


def _unanswered(exc: BaseException) -> bool:
    """The server closed the connection before any byte of the answer (FIN or RST while waiting)."""
    inner = _wrapped(exc) if isinstance(exc, u3.ProtocolError) else exc
    return isinstance(inner, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError))


class Urllib3(Engine):
    """Requests through urllib3's connection pools on worker threads: TLS, HTTP and SOCKS proxies.

    ``thread_count`` (10 when not set) worker threads: at most that many requests run at once.
    """

    name = "Urllib3"
    capabilities = Capabilities(streaming=True, worker_threads=True, proxies=frozenset({"http", "socks"}))
    config_class = Urllib3Config
    config: Urllib3Config

    def __init__(self, config: Urllib3Config | dict[str, Any] | None = None, /, **settings: Any) -> None:
        super().__init__(config, **settings)
        cfg = self.config
        self._thread_count = cfg.thread_count or DEFAULT_THREAD_COUNT
        self._lock = threading.Lock()
        self._managers: dict[ProxyConfig | None, urllib3.PoolManager] = {}
        self._context: ssl.SSLContext | None = None
        kinds: set[ProxyKind] = {"http", "socks"} if _available("socks") else {"http"}
        env = EnvironmentProxies(kinds, fall_back_to_all=True) if cfg.trust_env and cfg.proxy is None else None
        self._env_proxies = env
        proxies = [cfg.proxy, *(env.proxies.values() if env is not None else ())]
        self._secrets = tuple({p.url.password for p in proxies if p is not None and p.url.password})
        self._accept_encoding = accept_encoding()
        self._limiter: anyio.CapacityLimiter | None = None
        self._limiter_loop: object = None
        self._calls: set[_Call] = set()
        self._streams: set[_Stream] = set()
        self._closed = False
        _mask_urllib3_log()
        _install_audit_hook()

    @classmethod
    def check_capabilities(cls, config: EngineConfig) -> None:
        super().check_capabilities(config)
        if config.proxy is not None and config.proxy.kind == "socks":
            require_module(cls.name, "socks", "a SOCKS proxy", "socks", package="PySocks")

    @property
    def thread_count(self) -> int:
        """Worker threads: the most requests that run at once."""
        return self._thread_count

    def pool_stats(self) -> dict[str, int]:
        """Steps running on worker threads, open streamed bodies and idle pooled connections (tests, displays)."""
        with self._lock:
            managers = list(self._managers.values())
        idle = 0
        for manager in managers:
            for key in manager.pools.keys():  # noqa: SIM118 - RecentlyUsedContainer iterates only through keys()
                pool = manager.pools.get(key)
                queue = pool.pool if pool is not None else None
                if queue is not None:
                    idle += sum(1 for conn in list(queue.queue) if conn is not None and not conn.is_closed)
        return {"running": len(self._calls), "streams": len(self._streams), "idle": idle}

    # -- sending ------------------------------------------------------------------------------
    async def send(self, request: Request) -> Response:
        if self._closed:
            raise TransportError(f"Engine {self.name} is closed; {describe(request)} was not sent.")
        headers = self._headers(request)
        t = request.timeouts
        timeout = urllib3.Timeout(connect=t.connect, read=t.socket)
        proxy = self._proxy_for(request.url)
        content = request.content
        call = _Call(_close_opened)
        iterator: AsyncIterator[bytes] | None = None
        if isinstance(content, bytes):
            body: bytes | Iterator[bytes] | None = content or None
            retry = request.method in IDEMPOTENT_METHODS
        else:
            iterator = content.__aiter__()
            body, retry = _pull(call, iterator), False
        options: dict[str, Any] = {
            "body": body,
            "headers": headers,
            "retries": False,  # kclient's plugins retry and follow redirects, the same on every engine
            "redirect": False,
            "preload_content": False,
            "decode_content": False,
            "timeout": timeout,
            "chunked": iterator is not None,
        }
        # Without user-info: urllib3 would write it into the absolute-form target sent to a proxy.
        url = str(request.url.with_user(None)) if request.url.raw_user is not None else str(request.url)
        step = partial(self._open, request, url, proxy, options, retry)
        body_error: Exception | None = None
        try:
            with map_exceptions(request, secrets=self._secrets):
                opened = await self._run(call, step)
        except _BodyFailed as failed:
            body_error = failed.error
        finally:
            if iterator is not None:
                await _close_iterator(iterator)
        if body_error is not None:
            raise body_error  # the request body's own error, as the caller's code raised it
        if self._closed:
            _close_opened(opened)
            raise TransportError(f"Engine {self.name} was closed while {describe(request)} was in flight.")
        return self._response(request, opened)

    def _open(
        self, request: Request, url: str, proxy: ProxyConfig | None, options: dict[str, Any], retry: bool
    ) -> _Opened:
        """On a worker thread: send the request and read the head of the answer (and a small body)."""
        call = _current_call()
        assert call is not None
        manager, method = self._manager(proxy), request.method
        try:
            native = manager.urlopen(method, url, **options)
        except u3.ProtocolError as exc:
            if not (retry and call.reused and not call.abandoned and _unanswered(exc)):
                raise
            call.fresh = True  # the keep-alive race: the server closed a reused connection; once more, on a new one
            native = manager.urlopen(method, url, **options)
        return _settle(native, request)

    async def _run(self, call: _Call, step: Callable[[], T]) -> T:
        """Run ``step`` on a worker thread under the engine's limiter; a cancelled wait abandons it."""
        limiter = self._current_limiter()
        self._calls.add(call)
        handed = False
        try:
            result = await anyio.to_thread.run_sync(_in_worker, call, step, limiter=limiter, abandon_on_cancel=True)
            handed = True
        finally:
            self._calls.discard(call)
            if not handed:
                call.abandon()
        return result

    def _current_limiter(self) -> anyio.CapacityLimiter:
        """The engine's limiter, made again when the engine moves to another event loop."""
        loop = anyio.lowlevel.current_token()
        if self._limiter is None or self._limiter_loop != loop:
            self._limiter = anyio.CapacityLimiter(self._thread_count)
            self._limiter_loop = loop
        return self._limiter

    def _response(self, request: Request, opened: _Opened) -> Response:
        native = opened.native
        headers = CIMultiDict(native.headers.items())
        stream: _Stream | None = None
        if opened.content is None:
            stream = _Stream(self, request, native, opened.decoder)
            self._streams.add(stream)
        return Response(
            native.status,
            request=request,
            headers=headers,
            reason=native.reason or None,
            http_version=_http_version(native),
            content=opened.content,
            stream=stream,
        )

    def _headers(self, request: Request) -> urllib3.HTTPHeaderDict:
        """The request's headers and this engine's defaults; refused before anything is sent when unsendable."""
        if not is_token(request.method):
            raise unsendable_method(request)
        headers = urllib3.HTTPHeaderDict()
        for name, value in request.headers.items():
            if not is_token(name) or has_line_break(value):  # http.client would send them, split or not
                raise unsendable_header(request, name)
            headers.add(name, _latin1(value))
        if "User-Agent" not in headers:
            headers["User-Agent"] = _USER_AGENT
        if "Accept" not in headers:
            headers["Accept"] = "*/*"
        if "Accept-Encoding" not in headers:
            headers["Accept-Encoding"] = self._accept_encoding
        return headers

    # -- pool managers ------------------------------------------------------------------------
    def _proxy_for(self, url: URL) -> ProxyConfig | None:
        if self.config.proxy is not None:
            return self.config.proxy
        return self._env_proxies.for_url(url) if self._env_proxies is not None else None

    def _manager(self, proxy: ProxyConfig | None) -> urllib3.PoolManager:
        """The pool manager for a way out (direct or a proxy), made on first use (on a worker thread:
        loading certificate files blocks)."""
        with self._lock:
            if self._closed:
                raise TransportError(f"Engine {self.name} is closed.")
            manager = self._managers.get(proxy)
            if manager is None:
                manager = self._managers[proxy] = self._new_manager(proxy)
            return manager

    def _new_manager(self, proxy: ProxyConfig | None) -> urllib3.PoolManager:
        if self._context is None:
            self._context = create_ssl_context(self.config.https, engine=self.name)
        context = self._context
        options: dict[str, Any] = {
            "num_pools": self.config.max_routes,
            "maxsize": self.config.max_connections_per_route,
            "ssl_context": context,
        }
        manager: urllib3.PoolManager
        if proxy is None:
            manager = urllib3.PoolManager(**options)
            pools = _POOLS
        elif proxy.kind == "socks":
            from urllib3.contrib.socks import SOCKSProxyManager

            url = proxy.url
            manager = SOCKSProxyManager(str(url.with_user(None)), username=url.user, password=url.password, **options)
            pools = _socks_pools()
        else:
            url = proxy.url
            authorization = proxy.basic_authorization
            credentials = None if authorization is None else {"Proxy-Authorization": authorization}
            manager = urllib3.ProxyManager(
                str(url.with_user(None)),
                proxy_headers=credentials,
                proxy_ssl_context=context if url.scheme == "https" else None,
                **options,
            )
            pools = _POOLS
        manager.pool_classes_by_scheme = pools
        return manager

    async def aclose(self) -> None:
        self._closed = True
        for call in list(self._calls):
            call.interrupt()
        for stream in list(self._streams):
            stream.abort()
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
        for manager in managers:
            # urllib3 2 closes a pool's connections only when the pool is garbage collected (a
            # weakref.finalize; PoolManager.clear() merely forgets the pools), and a worker thread may
            # still hold the last response, and through it the pool: close each pool now. Connections
            # in use are closed when given back to a closed pool.
            for key in manager.pools.keys():  # noqa: SIM118 - RecentlyUsedContainer iterates only through keys()
                pool = manager.pools.get(key)
                if pool is not None:
                    pool.close()
            manager.clear()
