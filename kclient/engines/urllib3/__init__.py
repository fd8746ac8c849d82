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
    :func:`map_exceptions`, through :data:`EXCEPTION_MAP` (an :class:`~kclient.engines._errors.ErrorMap`), into
    kclient's tree; the message names the request (URL masked) and the original is kept as
    ``__cause__``. A wrapped error
    (urllib3's ``ProtocolError`` around a reset or a bad status line) is translated by what it
    wraps. A failed TLS handshake becomes a ``TLSError`` naming the host.
"""

from __future__ import annotations

from ._config import DEFAULT_THREAD_COUNT, Urllib3Config
from ._engine import Urllib3
from ._exceptions import EXCEPTION_MAP, kclient_error_for, map_exceptions, translate

__all__ = [
    "DEFAULT_THREAD_COUNT",
    "EXCEPTION_MAP",
    "Urllib3",
    "Urllib3Config",
    "kclient_error_for",
    "map_exceptions",
    "translate",
]
