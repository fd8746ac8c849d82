"""The Urllib3 engine's typed settings: the common ones plus urllib3's pool sizes, the
environment's proxies and TLS; ``DEFAULT_THREAD_COUNT`` worker threads when ``thread_count`` is not set."""

from __future__ import annotations

from dataclasses import dataclass

from ..._engine import EngineConfig
from ..._settings import setting
from ..._tls import HttpsConfig

__all__ = ["DEFAULT_THREAD_COUNT", "Urllib3Config"]

#: Worker threads (requests running at once) when ``thread_count`` is not set.
DEFAULT_THREAD_COUNT = 10


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
