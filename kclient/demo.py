"""A local httpbin to explore kclient with, offline: ``kclient.demo.serve()``.

httpbin is the well-known request and response service (statuses, delays, streaming,
redirects, auth, cookies, gzip...), with live streams of its own: Server-Sent Events at
``/sse/tokens`` (a language-model-like completion) and ``/sse/ticks``, and WebSockets on a
port of their own (``demo.ws_url()``: ``/ws/echo``, ``/ws/ticks``, ``/ws/chat``). The demo runs it on
127.0.0.1, on a port the system chooses, in a background thread of the current process, so
notebooks and examples run the same on a laptop, on Binder and in CI with no network::

    from kclient import HttpClient, demo

    base = demo.serve()                    # "http://127.0.0.1:PORT", started once per process
    async with HttpClient() as client:
        print((await client.get(f"{base}/get")).json())

It needs the ``demo`` extra (``pip install 'kclient[demo]'``). From a shell,
``python -m kclient.demo --port 8000`` serves it in the foreground until Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import socket
import threading
from typing import Any

from ._errors import ConfigError

__all__ = ["DemoServer", "serve", "stop", "ws_url"]

_log = logging.getLogger("kclient.demo")

#: The ``pip install`` line the error shows when httpbin is missing.
INSTALL_HINT = "pip install 'kclient[demo]'"


class _Shared:
    """The process's demo server, behind a lock (``serve()`` may race from threads)."""

    lock = threading.Lock()
    server: DemoServer | None = None
    #: The port ``serve()`` names while a notebook replays from a cassette (no server runs).
    offline_port: int | None = None


def _httpbin_app() -> Any:
    # httpbin warns at import that flasgger (its Swagger page) is missing: not news for a demo.
    httpbin_log = logging.getLogger("httpbin.core")
    level = httpbin_log.level
    httpbin_log.setLevel(logging.ERROR)
    try:
        from httpbin import app
    except ImportError as exc:
        raise ConfigError(f"the demo server runs httpbin, which is not installed: {INSTALL_HINT}") from exc
    finally:
        httpbin_log.setLevel(level)
    return app


def _quiet_handler() -> type[Any]:
    """werkzeug's request handler, logging to ``kclient.demo`` at DEBUG instead of printing each request."""
    from werkzeug.serving import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log(self, type: str, message: str, *args: Any) -> None:
            _log.debug("%s %s", self.address_string(), message % args)

    return QuietHandler


class DemoServer:
    """httpbin on 127.0.0.1 in a daemon thread; ``url`` is its base (no trailing slash).

    ``DemoServer()`` picks a free port (``port=0``); ``start()`` returns the server, ``stop()``
    shuts it down and frees the port. ``with DemoServer() as server:`` does both.
    """

    def __init__(self, port: int = 0) -> None:
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ConfigError(f"port must be an int from 0 (any free port) to 65535, not {port!r}")
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._websockets: Any = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        """The port it listens on (the one asked for, or the one the system chose)."""
        return int(self._server.port) if self._server is not None else self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; a ``ConfigError`` before ``start()``."""
        if self._server is None:
            raise ConfigError("the demo server is not running: call start() first")
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:PORT`` of the WebSocket routes (started on first use; they need ``websockets``)."""
        if self._server is None:
            raise ConfigError("the demo server is not running: call start() first")
        if self._websockets is None:
            from ._demo_ws import DemoWebSockets

            self._websockets = DemoWebSockets().start()
        return str(self._websockets.url)

    def start(self) -> DemoServer:
        """Bind the port and serve in a daemon thread; a second call does nothing."""
        if self._server is not None:
            return self
        from werkzeug.serving import make_server

        from ._demo_streams import with_streams

        app = with_streams(_httpbin_app())
        # Bound here, not by werkzeug, which prints and calls sys.exit() when the port is taken.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", self._port))
            listener.listen(128)
        except OSError as exc:
            listener.close()
            raise ConfigError(f"the demo server cannot listen on 127.0.0.1:{self._port}: {exc}") from exc
        with listener:  # werkzeug serves a duplicate of its descriptor
            server = make_server(
                "127.0.0.1", 0, app, threaded=True, request_handler=_quiet_handler(), fd=listener.fileno()
            )
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="kclient-demo", daemon=True)
        self._thread.start()
        _log.debug("demo server on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket; a second call does nothing."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        if self._websockets is not None:
            self._websockets.stop()
            self._websockets = None
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(5)

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"<DemoServer httpbin {where}>"


def serve(port: int = 0) -> str:
    """Start the process's shared demo server (once) and return its base URL.

    Calling it again (re-running a notebook's first cell) returns the same URL. ``port``
    only matters for the first call; asking for another port while it runs is an error.

    While a whole notebook replays from a cassette (``KCLIENT_CASSETTE`` with
    ``KCLIENT_RECORD_MODE=none``) no server starts: the URL is that of a port nothing listens
    on, so a request the cassette does not hold fails rather than reaching a server.
    """
    from .plugins.record import replaying_from_environment

    if replaying_from_environment():
        return f"http://127.0.0.1:{port or _unanswered_port()}"
    with _Shared.lock:
        server = _Shared.server
        if server is not None and server.running:
            if port not in (0, server.port):
                raise ConfigError(f"the demo server already runs on {server.url}; call kclient.demo.stop() first")
            return server.url
        _Shared.server = DemoServer(port).start()
        return _Shared.server.url


def _unanswered_port() -> int:
    """A port the OS just gave and took back: nothing listens on it (for a while, at least)."""
    with _Shared.lock:
        if _Shared.offline_port is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                _Shared.offline_port = probe.getsockname()[1]
        return _Shared.offline_port


def ws_url() -> str:
    """The WebSocket base URL of the shared demo server (``ws://127.0.0.1:PORT``), started if needed."""
    serve()
    with _Shared.lock:
        assert _Shared.server is not None
        return _Shared.server.ws_url


def stop() -> None:
    """Stop the shared demo server, if it runs."""
    with _Shared.lock:
        if _Shared.server is not None:
            _Shared.server.stop()
            _Shared.server = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kclient.demo", description="Serve httpbin on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free port; default 8000)")
    args = parser.parse_args(argv)
    server = DemoServer(args.port).start()
    try:
        websockets = f"WebSockets on {server.ws_url}: /ws/echo, /ws/ticks, /ws/chat"
    except ConfigError as exc:
        websockets = f"no WebSockets: {exc}"
    print(f"httpbin on {server.url} (Ctrl-C stops it)\n{websockets}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
