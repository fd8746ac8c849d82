"""Real servers for tests and benchmarks, started on 127.0.0.1 and stopped by their owner.

``Nginx`` serves a folder (static files, keep-alive, gzip) from a configuration written
into a temporary folder. The benchmarks under ``bench/`` use it too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

__all__ = ["Nginx", "free_port", "wait_for_port"]

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


def nginx_binary() -> str:
    """The nginx executable; ``RuntimeError`` says how to install it when missing."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
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
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
            self._process = None

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
