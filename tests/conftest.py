"""Shared fixtures: the async backends every async test runs on, and local servers.

Servers bind 127.0.0.1 on a port chosen by the OS and stop when their fixture ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import BaseWSGIServer, make_server


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``@pytest.mark.anyio`` test on asyncio and on trio."""
    return str(request.param)


class LocalServer:
    """A WSGI app served on 127.0.0.1 in a background thread."""

    def __init__(self, app: object) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture(scope="session")
def httpbin() -> Iterator[LocalServer]:
    """httpbin (the well-known request/response service) on 127.0.0.1; ``httpbin.url`` is its base."""
    from httpbin import app

    server = LocalServer(app).start()
    try:
        yield server
    finally:
        server.stop()
