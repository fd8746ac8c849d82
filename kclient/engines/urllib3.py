"""The Urllib3 engine: urllib3's blocking connection pools, run on worker threads (asyncio or trio).

Threads
    urllib3 blocks, so every blocking step of an exchange runs on a worker thread through
    ``anyio.to_thread.run_sync`` (asyncio and trio alike), under one ``anyio.CapacityLimiter``
    per engine whose size is ``thread_count`` (10 when not set). That limiter really bounds the
    exchanges: with ``thread_count=2`` two requests talk to servers at once and the others
    wait on the event loop for a thread. A step is "open a connection, send the request and
    read the head of the answer" (small bodies are read in the same step), then one step per
    piece of a streamed body (at most 64 KiB, as soon as it arrives), each under the same limiter.

Cancellation
    A step is a ``_Call`` that knows the connection its thread uses. When the awaiting task is
    cancelled (``abandon_on_cancel=True``, so the task returns at once), the call is abandoned:
    its socket is shut down, which wakes the blocked thread, and whatever that thread still gets
    (a response, a piece of body) is closed by the thread itself. Exactly one side, the task or
    the thread, cleans up, decided under the call's lock, so an abandoned request never leaks a
    connection. ``aclose()`` interrupts the steps still running, closes open bodies and clears
    every pool manager, which closes their sockets.

Pools and proxies
    One urllib3 pool manager per way out: direct (``PoolManager``), the configured proxy
    (``ProxyManager`` for HTTP proxies: plain requests in absolute form, HTTPS through CONNECT,
    credentials sent as ``Proxy-Authorization``; ``SOCKSProxyManager`` for SOCKS, which needs
    PySocks), and each proxy from the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``,
    ``NO_PROXY``, read when the engine is created, unless ``trust_env=False``). Each keeps
    ``max_routes`` per-host pools of up to ``max_connections_per_route`` idle connections.
    Proxy credentials are never shown: messages print URLs through ``mask_url``.

Bodies
    Answers whose length is known and at most 64 KiB (and answers without a body: HEAD, 204,
    304) are read with their head, in the same thread step. Larger ones stream: ``read1`` for
    bodies framed by Content-Length or by the end of the connection, urllib3's chunk reader for
    chunked ones. A stream closed before its end closes its connection instead of draining it,
    so a half-read connection is never reused and a huge body is never read for nothing.
    An async-iterable request body is sent chunked and streamed, never buffered: the worker
    thread pulls each piece from the event loop with ``anyio.from_thread.run``.

What this engine adds to urllib3
    * The keep-alive race: when the server closed a reused keep-alive connection before any
      byte of the answer, an idempotent request with a bytes body is sent once more, on a new
      connection. urllib3's own retries are off (``retries=False``); so are its redirects:
      those are the client's plugins.
    * Interim 1xx answers other than 100 (103 Early Hints) are skipped: http.client only
      skips 100 Continue and would take a 103 for the answer.
    * zstd bodies are decoded with ``zstandard`` when urllib3 cannot (it wants ``backports.zstd``
      before Python 3.14).
    * ``https.verify=False`` was asked for: urllib3's InsecureRequestWarning is not emitted.

Errors
    urllib3's, http.client's and the OS's exceptions are translated in one place,
    :func:`map_exceptions`, through :data:`EXCEPTION_MAP` (an :class:`~._errors.ErrorMap`), into
    kclient's tree; the message names the request (URL masked) and the original is kept as
    ``__cause__``. A wrapped error
    (urllib3's ``ProtocolError`` around a reset or a bad status line) is translated by what it
    wraps. A failed TLS handshake becomes a ``TLSError`` naming the host.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import socket
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.errors import MessageDefect
from functools import cache, partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import urllib3
import urllib3.exceptions as u3
from multidict import CIMultiDict

from .. import _errors as errors
from .._decoding import Decoder, accept_encoding, decoder_for
from .._describe import describe
from .._engine import Capabilities, Engine, EngineConfig, require_module
from .._errors import ConnectError, KClientError, ProxyError, ReadError, TLSError, TransportError, find_cause
from .._models import IDEMPOTENT_METHODS, Request, Response
from .._proxy import EnvironmentProxies, ProxyConfig, ProxyKind
from .._redact import MASK, mask_credentials
from .._settings import setting
from .._syntax import has_line_break, is_token
from .._tls import HttpsConfig, create_ssl_context, find_ssl_error
from .._version import __version__
from ._errors import ErrorMap, failure, unsendable_header, unsendable_method

if TYPE_CHECKING:
    from urllib3._base_connection import BaseHTTPConnection
    from yarl import URL

__all__ = [
    "DEFAULT_THREAD_COUNT",
    "EXCEPTION_MAP",
    "Urllib3",
    "Urllib3Config",
    "kclient_error_for",
    "map_exceptions",
    "translate",
]

T = TypeVar("T")

#: Worker threads (requests running at once) when ``thread_count`` is not set.
DEFAULT_THREAD_COUNT = 10

#: urllib3, http.client and OS exceptions -> kclient exceptions; the most specific type wins (see
#: ``ErrorMap``). urllib3's ``ProtocolError`` and ``MaxRetryError`` are first translated by what they wrap.
EXCEPTION_MAP = ErrorMap(
    (
        # urllib3: connecting
        (u3.NameResolutionError, errors.ConnectError),
        (u3.NewConnectionError, errors.ConnectError),  # a subclass of ConnectTimeoutError, but a refusal
        (u3.ConnectTimeoutError, errors.ConnectTimeout),
        (u3.ReadTimeoutError, errors.SocketTimeout),
        (u3.TimeoutStateError, errors.KClientTimeoutError),  # a Timeout object used in the wrong state
        (u3.TimeoutError, errors.KClientTimeoutError),
        (u3.SSLError, errors.TLSError),
        (u3.ProxySchemeUnknown, errors.ConfigError),
        (u3.ProxySchemeUnsupported, errors.ConfigError),
        (u3.ProxyError, errors.ProxyError),
        (u3.EmptyPoolError, errors.ConnectTimeout),  # no connection free in a blocking pool
        (u3.ClosedPoolError, errors.TransportError),  # the engine was closed under the request
        (u3.FullPoolError, errors.ConnectError),
        (u3.HostChangedError, errors.InvalidRequestError),
        (u3.MaxRetryError, errors.TransportError),  # retries are off; translated by its reason when it has one
        # urllib3: the answer
        (u3.ResponseNotChunked, errors.ProtocolError),
        (u3.InvalidChunkLength, errors.ProtocolError),
        (u3.IncompleteRead, errors.ProtocolError),
        (u3.ProtocolError, errors.ProtocolError),  # translated by what it wraps when it wraps something
        (u3.HeaderParsingError, errors.ProtocolError),
        (u3.InvalidHeader, errors.ProtocolError),
        (u3.ResponseError, errors.ProtocolError),
        (u3.DecodeError, errors.DecodingError),
        (u3.BodyNotHttplibCompatible, errors.ReadError),
        # urllib3: the request
        (u3.UnrewindableBodyError, errors.InvalidRequestError),
        (u3.LocationParseError, errors.InvalidRequestError),
        (u3.URLSchemeUnknown, errors.InvalidRequestError),
        (u3.LocationValueError, errors.InvalidRequestError),
        # urllib3's warnings, raised only where a warnings filter turns them into errors
        (u3.SecurityWarning, errors.TLSError),
        (u3.DependencyWarning, errors.ConfigError),
        (u3.HTTPWarning, errors.TransportError),
        (u3.HTTPError, errors.TransportError),
        # http.client, which urllib3 wraps but may let through
        (http.client.RemoteDisconnected, errors.ReadError),  # a ConnectionResetError and a BadStatusLine
        (http.client.IncompleteRead, errors.ProtocolError),
        (http.client.LineTooLong, errors.ProtocolError),
        (http.client.BadStatusLine, errors.ProtocolError),
        (http.client.InvalidURL, errors.InvalidRequestError),
        (http.client.ImproperConnectionState, errors.ReadError),
        (http.client.HTTPException, errors.ProtocolError),
        (MessageDefect, errors.ProtocolError),
        # the OS and the ssl module
        (ssl.SSLError, errors.TLSError),
        (ConnectionRefusedError, errors.ConnectError),
        (BrokenPipeError, errors.WriteError),
        (ConnectionError, errors.ReadError),  # reset, aborted
        (TimeoutError, errors.SocketTimeout),  # socket.timeout
        (socket.gaierror, errors.ConnectError),
        (OSError, errors.TransportError),
        # http.client refuses a method, URL or header it cannot send
        (ValueError, errors.InvalidRequestError),
    )
)
_NATIVE = EXCEPTION_MAP.native


def _wrapped(exc: BaseException) -> BaseException | None:
    """The error a wrapping urllib3 error stands for: a ProtocolError's cause, a MaxRetryError's reason."""
    if isinstance(exc, u3.MaxRetryError):
        return exc.reason
    if (
        isinstance(exc, u3.ProtocolError)
        and not isinstance(exc, u3.ResponseNotChunked)
        and len(exc.args) > 1
        and isinstance(exc.args[1], BaseException)
    ):
        return exc.args[1]
    return None


def kclient_error_for(exc: BaseException) -> type[KClientError]:
    """The kclient exception class that stands for ``exc`` (a urllib3, http.client or OS error).

    A connection error caused by the SOCKS proxy (a refused handshake, wrong credentials, a proxy
    that is not there) is a ``ProxyError``: urllib3 reports those as ``NewConnectionError``.
    """
    original = exc
    for _ in range(8):  # wrappers are never deeply nested; the bound guards against a cycle
        inner = _wrapped(exc)
        if inner is None:
            break
        exc = inner
    mapped = EXCEPTION_MAP.error_for(exc)
    if mapped is ConnectError and _socks_error_in(original):
        return ProxyError
    return mapped


def _socks_error_in(exc: BaseException) -> bool:
    """A PySocks ``ProxyError`` is behind ``exc`` (in its cause or context chain)."""
    socks = sys.modules.get("socks")  # not imported: no SOCKS proxy was used, so none can be behind it
    socks_error = getattr(socks, "ProxyError", None)
    if not isinstance(socks_error, type):
        return False
    return find_cause(exc, socks_error) is not None


def _ssl_error_in(exc: BaseException) -> ssl.SSLError | None:
    found = find_ssl_error(exc)
    if found is None:
        found = next((arg for arg in exc.args if isinstance(arg, ssl.SSLError)), None)
    return found


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    text = mask_credentials(text)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def translate(exc: BaseException, request: Request, secrets: tuple[str, ...] = ()) -> KClientError:
    """The kclient error for ``exc`` raised by ``request``: its message names the request, secrets masked."""
    error_class = kclient_error_for(exc)
    ssl_error = _ssl_error_in(exc) if error_class is TLSError else None
    return failure(error_class, exc, request, ssl_error=ssl_error, scrub=partial(_scrub, secrets=secrets))


@contextmanager
def map_exceptions(request: Request, *, secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """Re-raise urllib3's, http.client's and the OS's exceptions as kclient's, naming the request.

    The native exception is kept as ``__cause__``; ``secrets`` (proxy passwords) never reach a message.
    """
    try:
        yield
    except (KClientError, _BodyFailed):
        raise
    except _NATIVE as exc:
        raise translate(exc, request, secrets) from exc


# -- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Urllib3Config(EngineConfig):
    """Settings of the Urllib3 engine. ``thread_count`` (10 when not set) is how many requests run at once."""

    max_connections_per_route: int = setting(
        10, "Idle connections kept per host (urllib3's maxsize); more may be open while requests run.", minimum=1
    )
    max_routes: int = setting(
        10, "Hosts whose connection pools are kept (urllib3's num_pools); the least recently used is closed.", minimum=1
    )
    trust_env: bool = setting(True, "Use HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY from the environment.")
    https: HttpsConfig = setting(default_factory=HttpsConfig)


# -- one blocking step on a worker thread -----------------------------------------------------

_PENDING, _RUNNING, _DONE, _ABANDONED = range(4)

_local = threading.local()


class _Abandoned(OSError):
    """Raised on a worker thread whose awaiting task has gone: the exchange stops there."""


class _BodyFailed(Exception):
    """The request body (an async iterable) raised ``error``: re-raised as it is on the event loop."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _current_call() -> _Call | None:
    return cast("_Call | None", getattr(_local, "call", None))


def _shutdown(conn: object, connecting: socket.socket | None = None) -> None:
    """Shut a connection's socket down for reading and writing: a thread blocked on it wakes up.

    ``connecting`` is the socket the thread is connecting, before urllib3 gives it to ``conn``
    (shut down, it ends a blocked ``connect()`` too). The socket is not closed here (its thread
    still uses it; urllib3 closes it there).
    """
    sock = getattr(conn, "sock", None)
    while sock is not None and not isinstance(sock, socket.socket):
        sock = getattr(sock, "socket", None)  # TLS inside TLS (an HTTPS proxy) wraps the socket
    for each in (sock, connecting):
        if each is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(each, socket.SHUT_RDWR)  # not SSLSocket.shutdown, which drops its state


def _on_audit_event(event: str, args: tuple[Any, ...]) -> None:
    """The audit hook that shows a worker thread's call each socket just before it connects.

    urllib3 creates and connects a socket in one function, so nothing else reaches a socket
    whose ``connect()`` may block for minutes (a host that drops SYNs, no connect timeout): a
    cancelled request could not wake its thread, which would hold its worker thread (and, on
    trio, its place under ``thread_count``) until the OS gives up. Only worker threads running
    a call of this engine do anything here.
    """
    if event == "socket.connect":
        call = getattr(_local, "call", None)
        if call is not None:
            call.connecting(args[0])


@cache
def _install_audit_hook() -> None:
    """Install ``_on_audit_event`` once per process (audit hooks cannot be removed; were two threads to
    install it at once, each connect would be shown twice, which changes nothing)."""
    sys.addaudithook(_on_audit_event)


class _Call:
    """One blocking step of an exchange, run on a worker thread, and who cleans up after it.

    PENDING -> RUNNING (the thread began) -> DONE (the result is handed over), or ABANDONED
    when the awaiting task went away: before the thread began, the task cleans up (the thread
    will do nothing); while it runs, its socket is shut down and the thread cleans up what it
    got; once done, the task cleans the result up.
    """

    __slots__ = ("_cleanup", "_conn", "_connecting", "_lock", "_result", "_state", "fresh", "reused")

    def __init__(self, cleanup: Callable[[Any], None], conn: object = None) -> None:
        self._lock = threading.Lock()
        self._state = _PENDING
        self._result: Any = None
        self._cleanup = cleanup
        self._conn = conn
        #: The socket the thread is connecting, before urllib3 hands it to the connection.
        self._connecting: socket.socket | None = None
        #: Set on the worker: take a new connection, never a pooled one (the keep-alive retry).
        self.fresh = False
        #: Set on the worker: the connection came from the pool, already connected.
        self.reused = False

    @property
    def abandoned(self) -> bool:
        return self._state == _ABANDONED

    # -- on the worker thread -------------------------------------------------------------------
    def begin(self) -> bool:
        with self._lock:
            if self._state != _PENDING:
                return False
            self._state = _RUNNING
            return True

    def took(self, conn: BaseHTTPConnection) -> None:
        """The pool handed ``conn`` over (urllib3 has already dropped it if the server closed it)."""
        reused = not conn.is_closed
        if reused and self.fresh:
            conn.close()  # the same object connects again, to a new connection
            reused = False
        self.reused = reused
        try:
            self.connected(conn)
        except _Abandoned:
            conn.close()  # urllib3 never got hold of it (it gives the pool back an empty slot)
            raise

    def connected(self, conn: BaseHTTPConnection) -> None:
        with self._lock:
            self._conn = conn
            abandoned = self._state == _ABANDONED
        if abandoned:
            raise _Abandoned("the request was cancelled")

    def connecting(self, sock: socket.socket) -> None:
        """``sock`` is about to connect (the audit hook): known now, a cancellation can wake a blocked connect."""
        with self._lock:
            self._connecting = sock
            abandoned = self._state == _ABANDONED
        if abandoned:
            raise _Abandoned("the request was cancelled")

    def released(self, conn: BaseHTTPConnection) -> None:
        """``conn`` goes back to its pool (its answer was read to the end): another request may take it
        now, so a cancellation of this call must no longer shut its socket down."""
        with self._lock:
            if self._conn is conn:
                self._conn = self._connecting = None

    def end(self, result: object) -> bool:
        """The thread is done: True when ``result`` goes to the awaiting task, False when it was cleaned up."""
        with self._lock:
            if self._state == _RUNNING:
                self._state = _DONE
                self._result = result
                return True
        self._cleanup(result)
        return False

    # -- on the event loop ----------------------------------------------------------------------
    def abandon(self) -> None:
        """The awaiting task has gone (cancelled): make sure someone cleans up, once."""
        with self._lock:
            state, result = self._state, self._result
            self._result = None
            if state in (_PENDING, _RUNNING):
                self._state = _ABANDONED
            if state == _RUNNING:
                # Under the lock: once released() has run, the connection may already serve another request.
                _shutdown(self._conn, self._connecting)
        if state in (_PENDING, _DONE):
            self._cleanup(result)

    def interrupt(self) -> None:
        """Wake a running thread by shutting its socket down (the engine is closing)."""
        with self._lock:
            if self._state == _RUNNING:
                _shutdown(self._conn, self._connecting)


def _in_worker(call: _Call, step: Callable[[], T]) -> T:
    """Run ``step`` on this worker thread as ``call`` (pools find the call in a thread-local)."""
    if not call.begin():
        return cast(T, None)  # abandoned before the thread began: the task has cleaned up
    _local.call = call
    try:
        result = step()
    except BaseException:
        call.end(None)
        raise
    finally:
        _local.call = None
    return result if call.end(result) else cast(T, None)


# -- urllib3 pools that tell the call about their connections ----------------------------------


class _InterimSkippingResponse(http.client.HTTPResponse):
    """http.client's response, which also skips interim 1xx answers (103 Early Hints...).

    http.client skips 100 Continue only and would take a 103 for the answer, leaving the real
    one unread on the connection. 101 Switching Protocols is an answer, not skipped.
    """

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if status in (100, 101) or not 100 <= status < 200:
                return version, status, reason
            http.client.parse_headers(self.fp)  # the interim answer's headers: dropped


def _new_connection(conn: T) -> T:
    cast(http.client.HTTPConnection, conn).response_class = _InterimSkippingResponse
    return conn


def _taken(conn: T) -> T:
    call = _current_call()
    if call is not None:
        call.took(cast("BaseHTTPConnection", conn))
    return conn


def _validate(conn: BaseHTTPConnection) -> None:
    """Connect now (as HTTPSConnectionPool does), then tell the call the connection's socket.

    HTTPSConnectionPool would also warn about unverified TLS, which only ``https.verify=False``
    (asked for, so not warned about) allows here.
    """
    if conn.is_closed:
        conn.connect()
    call = _current_call()
    if call is not None:
        call.connected(conn)


class _Tracked(urllib3.HTTPConnectionPool):
    """What every pool of this engine adds: interim answers skipped, its connections known to the call."""

    def _new_conn(self) -> BaseHTTPConnection:
        return _new_connection(super()._new_conn())

    def _get_conn(self, timeout: float | None = None) -> BaseHTTPConnection:
        return _taken(super()._get_conn(timeout))

    def _validate_conn(self, conn: BaseHTTPConnection) -> None:
        _validate(conn)

    def _put_conn(self, conn: BaseHTTPConnection | None) -> None:
        call = _current_call()
        if call is not None and conn is not None:
            call.released(conn)
        super()._put_conn(conn)


class _HTTPPool(_Tracked):
    pass


class _HTTPSPool(_Tracked, urllib3.HTTPSConnectionPool):  # type: ignore[misc]
    pass


_POOLS: dict[str, type[urllib3.HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


@cache
def _socks_pools() -> dict[str, type[urllib3.HTTPConnectionPool]]:
    """The SOCKS pools, defined on first use (importing urllib3.contrib.socks imports PySocks)."""
    from urllib3.contrib.socks import SOCKSHTTPConnectionPool, SOCKSHTTPSConnectionPool

    class _SOCKSHTTPPool(_Tracked, SOCKSHTTPConnectionPool):
        pass

    class _SOCKSHTTPSPool(_Tracked, SOCKSHTTPSConnectionPool):  # type: ignore[misc]
        pass

    return {"http": _SOCKSHTTPPool, "https": _SOCKSHTTPSPool}


# -- request and response details -------------------------------------------------------------

_USER_AGENT = f"kclient/{__version__}"
#: Bodies of at most this many bytes are read with the head; larger ones stream in pieces of this size.
_PIECE = 64 * 1024


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


def _close_native(native: urllib3.HTTPResponse, chunks: Generator[bytes] | None = None) -> None:
    """Close a response: its connection too unless the body was read to its end (then it is back in its pool)."""
    if chunks is not None:
        with contextlib.suppress(Exception):
            chunks.close()  # urllib3's chunk reader closes the connection when left before its end
    with contextlib.suppress(Exception):
        native.close()  # closes the connection while the response still holds it (body not fully read)
    with contextlib.suppress(Exception):
        native.release_conn()  # gives the pool its slot back (the connection closed, or already returned)


@dataclass(slots=True)
class _Opened:
    """What the first thread step got: the response, and its body when it was small enough to read."""

    native: urllib3.HTTPResponse
    content: bytes | None
    decoder: Decoder | None


def _close_opened(opened: _Opened | None) -> None:
    if opened is not None:
        _close_native(opened.native)


def _settle(native: urllib3.BaseHTTPResponse, request: Request) -> _Opened:
    """Read a small or empty body at once (on the worker thread); leave a larger one to stream.

    urllib3 decodes nothing (``decode_content=False``): kclient's decoders do, with its guard.
    """
    assert isinstance(native, urllib3.HTTPResponse)
    try:
        decoder = decoder_for(native.headers.get("Content-Encoding"), request)
        length = native.length_remaining
        if length is not None and length <= _PIECE:
            content = native.read(decode_content=False)
            if decoder is not None:
                content = decoder.decode(content) + decoder.flush()
            return _Opened(native, content, None)
        return _Opened(native, None, decoder)
    except BaseException:
        _close_native(native)
        raise


async def _next_piece(call: _Call, iterator: AsyncIterator[bytes]) -> bytes | None:
    try:
        piece = await iterator.__anext__()
    except StopAsyncIteration:
        return None
    if call.abandoned:
        # The request was cancelled while this piece was being made: its task could not close the
        # body then (aclose() of a running generator raises), so it is closed here (trio would report
        # a generator left to the garbage collector).
        await _close_iterator(iterator)
    return piece


def _pull(call: _Call, iterator: AsyncIterator[bytes]) -> Iterator[bytes]:
    """A request body for urllib3 (on the worker thread), each piece pulled from the event loop."""
    while True:
        if call.abandoned:
            raise _Abandoned("the request was cancelled while its body was being sent")
        try:
            piece = anyio.from_thread.run(_next_piece, call, iterator)
        except Exception as exc:
            raise _BodyFailed(exc) from exc
        if piece is None:
            return
        if piece:
            yield bytes(piece)


async def _close_iterator(iterator: AsyncIterator[bytes]) -> None:
    closer = getattr(iterator, "aclose", None)
    if closer is not None:
        with anyio.CancelScope(shield=True), contextlib.suppress(RuntimeError):
            await closer()


# -- the engine -------------------------------------------------------------------------------


#: urllib3's loggers that write request targets and URLs ("GET /path?token=... HTTP/1.1" 200) at DEBUG.
_URL_LOGGERS = ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry")


def _mask_urllib3_log() -> None:
    """Mask the credentials and secret query values in what urllib3 logs by itself (once per process).

    At DEBUG urllib3 logs every request line, query string included, and its retries and
    redirects with their URLs: a notebook that turns on DEBUG logging would print the tokens.
    """
    import logging

    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _MaskedLogText) for f in logger.filters):
            logger.addFilter(_MaskedLogText())


class _MaskedLogText:
    """A ``logging`` filter: text arguments (and a preformatted message) of a record have their
    URL credentials and secret query values replaced by ``***``."""

    def filter(self, record: Any) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(mask_credentials(arg) if isinstance(arg, str) else arg for arg in args)
        if isinstance(record.msg, str):
            record.msg = mask_credentials(record.msg)
        return True


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


class _Stream:
    """The streamed body of an answer: one worker-thread step per piece, closed explicitly."""

    __slots__ = (
        "_aborted",
        "_chunks",
        "_closed",
        "_decoder",
        "_engine",
        "_eof",
        "_handed_off",
        "_native",
        "_reading",
        "_request",
    )

    def __init__(
        self, engine: Urllib3, request: Request, native: urllib3.HTTPResponse, decoder: Decoder | None
    ) -> None:
        self._engine = engine
        self._request = request
        self._native = native
        self._decoder = decoder
        chunked = native.chunked and native.supports_chunked_reads()
        self._chunks: Generator[bytes] | None = native.read_chunked(_PIECE, decode_content=False) if chunked else None
        self._eof = False
        self._closed = False
        self._aborted = False
        #: A read was abandoned (cancelled): its thread or its task closes the response, not aclose().
        self._handed_off = False
        self._reading: _Call | None = None

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> bytes:
        if self._aborted:
            raise ReadError(
                f"Engine {self._engine.name} was closed while the body of {describe(self._request)} was read."
            )
        if self._eof or self._closed:
            raise StopAsyncIteration
        call = _Call(self._cleanup_after_abandoned_read, self._native.connection)
        self._reading = call
        try:
            with map_exceptions(self._request, secrets=self._engine._secrets):
                piece = await self._engine._run(call, self._read)
        except BaseException:
            if call.abandoned:
                self._handed_off = True
            raise
        finally:
            self._reading = None
        if not piece:
            self._eof = True
            raise StopAsyncIteration
        return piece

    def _read(self) -> bytes:
        """On a worker thread: the next piece of the body, decoded; ``b""`` at its end."""
        decoder = self._decoder
        while True:
            if self._chunks is not None:
                raw = next(self._chunks, b"")
            else:
                raw = self._native.read1(_PIECE, decode_content=False)
            if decoder is None:
                return raw
            if not raw:
                return decoder.flush()
            piece = decoder.decode(raw)
            if piece:
                return piece

    def _cleanup_after_abandoned_read(self, _piece: object) -> None:
        self._close_native()

    def _close_native(self) -> None:
        chunks, self._chunks = self._chunks, None
        _close_native(self._native, chunks)

    def abort(self) -> None:
        """The engine is closing: wake a read in progress, or close the response now."""
        self._aborted = True
        reading = self._reading
        if reading is not None:
            reading.interrupt()  # the reader fails; aclose() closes the response afterwards
        elif not self._closed:
            self._closed = True
            self._engine._streams.discard(self)
            if not self._handed_off:
                self._close_native()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._engine._streams.discard(self)
        if not self._handed_off:
            self._close_native()
