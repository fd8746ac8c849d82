"""Small helpers on HTTP/1.1 heads for the CIO engine: a header read from raw bytes, the Host of a URL.

``header_value`` reads a header from the list of (name, value) bytes pairs the parser
collected, decoding only what is asked for (the connection reads Content-Length from it,
the engine Content-Encoding); ``host_value`` writes the ``Host`` header a URL is sent with
(used by the engine and the WebSocket handshake). Both are re-exported by
``kclient.engines.cio._connection``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._models import raw_header_values

if TYPE_CHECKING:
    from yarl import URL

__all__ = ["header_value", "host_value"]


def header_value(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes) in a raw header list, decoded."""
    if name not in b"\n".join([key for key, _ in headers]).lower():  # the usual miss, without a call (1k instructions)
        return None
    values = raw_header_values(headers, name)
    return values[0] if values else None


def host_value(url: URL) -> str:
    """The Host header's value for ``url``: the host (an IPv6 one in brackets), and the port unless default."""
    host = url.raw_host or ""
    if ":" in host:
        host = f"[{host}]"
    port = url.port
    default = 443 if url.scheme == "https" else 80
    return host if port in (None, default) else f"{host}:{port}"
