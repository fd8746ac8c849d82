"""Real servers for tests and benchmarks, started on 127.0.0.1 and stopped by their owner.

* ``Nginx`` serves a folder (static files, keep-alive, gzip) from a configuration written
  into a temporary folder. The benchmarks under ``bench/`` use it too.
* ``KeepAliveServer``: a threaded HTTP/1.1 keep-alive server that counts connections and requests;
  ``SilentServer`` accepts connections and never answers.
* ``running_tinyproxy``: tinyproxy (optionally with Basic proxy credentials), logging every request.

This module imports nothing outside the standard library at import time, so the benchmarks
can use it without pytest.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Self

__all__ = ["KeepAliveServer", "Nginx", "SilentServer", "Tinyproxy", "free_port", "running_tinyproxy", "wait_for_port"]

NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    default_type application/octet-stream;
    types {{ text/plain txt; application/json json; text/html html; }}
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location /gzip/ {{
            gzip on;
            gzip_types text/plain application/json application/octet-stream;
            gzip_min_length 0;
        }}
        location = /upload {{
            client_max_body_size 512m;
            return 200 "ok\\n";
        }}
{extra}
    }}
}}
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot take port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 10.0, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until 127.0.0.1:port accepts connections; raise ``RuntimeError`` if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def system_binary(name: str) -> str | None:
    """The executable ``name`` on PATH or in /usr/sbin or /usr/bin (root's PATH is not everyone's), else None."""
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Terminate ``process`` and reap it; kill it if it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def nginx_binary() -> str:
    """The nginx executable; ``RuntimeError`` says how to install it when missing."""
    found = system_binary("nginx")
    if found is None:
        raise RuntimeError("nginx is not installed: run scripts/install-system-deps.sh (or make test) first.")
    return found


class Nginx:
    """nginx serving ``root`` on 127.0.0.1; ``extra`` adds lines inside its ``server`` block."""

    def __init__(self, root: Path, workdir: Path, *, extra: str = "") -> None:
        self.root = root
        self.workdir = workdir
        self.extra = extra
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for attempt in range(5):
            self.port = free_port()
            conf = self.workdir / "nginx.conf"
            conf.write_text(
                NGINX_CONF.format(
                    user="user root;" if os.geteuid() == 0 else "",
                    prefix=self.workdir,
                    port=self.port,
                    root=self.root,
                    extra=self.extra,
                )
            )
            self._process = subprocess.Popen(
                [nginx_binary(), "-c", str(conf), "-p", str(self.workdir)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_for_port(self.port, process=self._process)
                return self
            except RuntimeError:
                self.stop()
                if attempt == 4:
                    log = (self.workdir / "error.log").read_text() if (self.workdir / "error.log").exists() else ""
                    raise RuntimeError(f"nginx did not start: {log[-2000:]}") from None
        return self

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
            self._process = None

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _ThreadedListener:
    """A listener on 127.0.0.1 whose thread accepts connections while the ``with`` block runs.

    Subclasses take each connection in ``_accepted`` and let go of them in ``_release``.
    """

    def __init__(self, *, backlog: int | None = None) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=backlog)
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Self:
        self._acceptor.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._acceptor.join(5)
        self._release()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._accepted(conn)

    def _accepted(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError


class SilentServer(_ThreadedListener):
    """Accepts connections on 127.0.0.1 (backlog 2048) and never reads nor answers; ``accepted`` holds them."""

    def __init__(self) -> None:
        super().__init__(backlog=2048)
        self.accepted: list[socket.socket] = []

    def _accepted(self, conn: socket.socket) -> None:
        self.accepted.append(conn)

    def _release(self) -> None:
        for conn in self.accepted:
            conn.close()


class KeepAliveServer(_ThreadedListener):
    """HTTP/1.1 keep-alive server on 127.0.0.1 that counts connections and requests.

    Every request gets ``200 ok``, except paths starting with ``/hang``, which get no answer.
    Each connection is served by a thread of its own; leaving the ``with`` block shuts them down.
    """

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0
        self.requests = 0
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def _accepted(self, conn: socket.socket) -> None:
        with self._lock:
            self.connections += 1
            self._open.append(conn)
        thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _release(self) -> None:
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                buffer = buffer[length:]
                with self._lock:
                    self.requests += 1
                if lines[0].split(b" ")[1].startswith(b"/hang"):
                    continue  # never answered; the connection stays open until the client leaves
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")


@dataclass(frozen=True)
class Tinyproxy:
    """A running tinyproxy: its URL (without credentials) and its log."""

    url: str
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def _fail(message: str) -> NoReturn:
    """Fail the test (not skip it): only tests start tinyproxy, so pytest is imported here, not at the top."""
    import pytest

    pytest.fail(message)


@contextlib.contextmanager
def running_tinyproxy(folder: Path, *, auth: tuple[str, str] | None = None, extra: str = "") -> Iterator[Tinyproxy]:
    """tinyproxy on 127.0.0.1 (it adds a Via header, CONNECT to any port), logging every request.

    Its configuration and log go into ``folder`` (one proxy per folder). ``auth=(user, password)``
    makes it ask for Basic proxy credentials; ``extra`` adds configuration lines. A missing
    tinyproxy, or one that does not start, fails the test.
    """
    binary = system_binary("tinyproxy")
    if binary is None:
        _fail(
            "tinyproxy is not installed, and the proxy tests need it: run scripts/install-system-deps.sh "
            "(it installs the Debian package tinyproxy), then run the tests again."
        )
    port = free_port()
    lines = [f"Port {port}", "Listen 127.0.0.1", "Allow 127.0.0.1", "MaxClients 100", "Timeout 30", "LogLevel Info"]
    if auth is not None:
        lines.append(f"BasicAuth {auth[0]} {auth[1]}")
    conf = folder / "tinyproxy.conf"
    conf.write_text("\n".join(lines) + "\n" + extra)
    log_path = folder / "tinyproxy.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([binary, "-d", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for_port(port, process=process)
        except RuntimeError as exc:
            _fail(f"tinyproxy did not start: {exc}: {log_path.read_text(errors='replace')}")
        yield Tinyproxy(f"http://127.0.0.1:{port}", log_path)
    finally:
        stop_process(process, timeout=5)


@dataclass(frozen=True)
class Microsocks:
    """A running microsocks SOCKS5 proxy: its host, port and credentials; outgoing connections
    leave from ``bind_address``, so a server can tell that a request came through the proxy."""

    host: str
    port: int
    auth: tuple[str, str] | None
    bind_address: str


#: microsocks binds its outgoing connections here: still loopback, but not the client's own 127.0.0.1.
SOCKS_BIND_ADDRESS = "127.0.0.2"


@contextlib.contextmanager
def running_microsocks(*, auth: tuple[str, str] | None = None) -> Iterator[Microsocks]:
    """microsocks on 127.0.0.1 (SOCKS5 CONNECT), its outgoing connections bound to 127.0.0.2.

    ``auth=(user, password)`` makes it require username/password authentication. A missing
    microsocks, or one that does not start, fails the test.
    """
    binary = system_binary("microsocks")
    if binary is None:
        _fail(
            "microsocks is not installed, and the SOCKS proxy tests need it: run scripts/install-system-deps.sh "
            "(it installs the Debian package microsocks), then run the tests again."
        )
    port = free_port()
    command = [binary, "-i", "127.0.0.1", "-p", str(port), "-b", SOCKS_BIND_ADDRESS]
    if auth is not None:
        command += ["-u", auth[0], "-P", auth[1]]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        try:
            wait_for_port(port, process=process)
        except RuntimeError as exc:
            _fail(f"microsocks did not start: {exc}")
        yield Microsocks("127.0.0.1", port, auth, SOCKS_BIND_ADDRESS)
    finally:
        stop_process(process, timeout=5)
        if process.stderr is not None:
            process.stderr.close()


class Hypercorn:
    """An ASGI app served by hypercorn on 127.0.0.1: over TLS (HTTP/2 and HTTP/1.1 by ALPN) given
    a certificate, else plain HTTP/1.1.

    hypercorn runs on its own asyncio loop in a background thread, on a socket bound to a
    port the OS picked (handed over as ``fd://``). ``cert_file``/``key_file`` are the
    server's PEM files; ``stop()`` (or leaving the ``with`` block) shuts it down.
    """

    def __init__(self, app: Any, cert_file: str | None = None, key_file: str | None = None) -> None:
        self._app = app
        self._cert_file, self._key_file = cert_file, key_file
        self._thread: threading.Thread | None = None
        self._loop: Any = None
        self._stop: Any = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"{'https' if self._cert_file else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> Hypercorn:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, args=(listener.detach(),), name="hypercorn", daemon=True)
        self._thread.start()
        self._started.wait(10)
        if self._error is not None:
            raise RuntimeError(f"hypercorn did not start: {self._error}") from self._error
        wait_for_port(self.port)
        return self

    def _run(self, fd: int) -> None:
        import asyncio

        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"fd://{fd}"]
        if self._cert_file:  # else plain HTTP/1.1
            config.certfile, config.keyfile = self._cert_file, self._key_file
            config.alpn_protocols = ["h2", "http/1.1"]
        config.accesslog = config.errorlog = None

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._started.set()
            await serve(self._app, config, shutdown_trigger=self._stop.wait)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by start() or stop()
            self._error = exc
            self._started.set()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Hypercorn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
