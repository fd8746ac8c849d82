"""CIO: kclient's own HTTP/1.1 engine (asyncio, httptools), the one to pick when unsure.

``HttpClient(CIO)`` or ``HttpClient("CIO", engine_config={"endpoint.max_connections_per_route": 8})``.
"""

from __future__ import annotations

from ._config import CIOConfig, EndpointConfig, HttpsConfig, LimitsConfig
from ._engine import CIO

__all__ = ["CIO", "CIOConfig", "EndpointConfig", "HttpsConfig", "LimitsConfig"]
