"""CIO's typed settings: the common ones plus pool, endpoint, TLS and protocol limits."""

from __future__ import annotations

from dataclasses import dataclass

from ..._engine import EngineConfig
from ..._settings import setting
from ..._tls import HttpsConfig

__all__ = ["CIOConfig", "EndpointConfig", "HttpsConfig", "LimitsConfig"]


@dataclass(frozen=True, kw_only=True)
class EndpointConfig:
    """Settings of the connections to one origin (scheme, host, port)."""

    max_connections_per_route: int = setting(100, "Most connections open to one origin.", minimum=1, maximum=100_000)
    keep_alive_time: float = setting(5.0, "Seconds an idle connection is kept for reuse.", minimum=0.0, maximum=3600.0)
    connect_timeout: float | None = setting(
        10.0, "Seconds to open a connection (TCP, proxy tunnel and TLS).", minimum=0.001, maximum=3600.0
    )
    connect_attempts: int = setting(1, "Attempts to open a connection before giving up.", minimum=1, maximum=10)
    socket_timeout: float | None = setting(
        None, "Longest silence, in seconds, while waiting for the server.", minimum=0.001, maximum=86400.0
    )
    pipeline_max_size: int = setting(
        20, "Most requests in flight on one connection when pipelining.", minimum=1, maximum=1000
    )


@dataclass(frozen=True, kw_only=True)
class LimitsConfig:
    """Bounds on what a server may send, so a hostile one cannot make CIO hang or grow without end."""

    max_header_bytes: int = setting(
        64 * 1024, "Largest status line plus header block, in bytes.", minimum=1024, maximum=16 * 1024 * 1024
    )
    max_headers: int = setting(100, "Most header fields in one response.", minimum=1, maximum=100_000)
    max_line_bytes: int = setting(
        16 * 1024, "Longest single header field (name and value), in bytes.", minimum=256, maximum=16 * 1024 * 1024
    )
    read_buffer_bytes: int = setting(
        2 * 1024 * 1024,
        "Body bytes buffered before reading from the socket pauses.",
        minimum=4096,
        maximum=256 * 1024 * 1024,
    )


@dataclass(frozen=True, kw_only=True)
class CIOConfig(EngineConfig):
    """CIO's settings. ``thread_count`` sizes the worker pool for blocking steps (DNS, TLS files)."""

    max_connections: int = setting(1000, "Most connections open at once, all origins together.", minimum=1)
    request_timeout: float | None = setting(
        None, "Default seconds for a whole request (a request's timeout= wins).", minimum=0.001, maximum=86400.0
    )
    trust_env: bool = setting(True, "Use HTTP_PROXY, HTTPS_PROXY and NO_PROXY from the environment.")
    endpoint: EndpointConfig = setting(default_factory=EndpointConfig)
    https: HttpsConfig = setting(default_factory=HttpsConfig)
    limits: LimitsConfig = setting(default_factory=LimitsConfig)
