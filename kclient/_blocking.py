"""``client.blocking``: the same client for synchronous code (scripts, REPLs, magics, callbacks).

Each call runs the client's coroutine through ``kclient.run``, so it works with no loop
running and inside a running Jupyter kernel, sharing the client's connections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from ._runner import run

if TYPE_CHECKING:
    from ._client import HttpClient
    from ._models import Response
    from ._request_options import RequestOptions, URLInput

__all__ = ["BlockingClient"]


class BlockingClient:
    """Synchronous view of an ``HttpClient``: same methods, results returned directly."""

    __slots__ = ("client",)

    def __init__(self, client: HttpClient) -> None:
        self.client = client

    def request(self, method: str, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        """Send a request and return the read response (see ``HttpClient.request``)."""
        return run(self.client.request(method, url, **options))

    def get(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("GET", url, **options)

    def post(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("POST", url, **options)

    def put(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("PUT", url, **options)

    def patch(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("PATCH", url, **options)

    def delete(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("DELETE", url, **options)

    def head(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("HEAD", url, **options)

    def options(self, url: URLInput, **options: Unpack[RequestOptions]) -> Response:
        return self.request("OPTIONS", url, **options)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the client to finish closing; ``TimeoutError`` after ``timeout`` seconds."""

        import anyio

        async def join_within() -> None:
            with anyio.fail_after(timeout):
                await self.client.join()

        run(join_within())

    def __repr__(self) -> str:
        return f"<blocking view of {self.client!r}>"
