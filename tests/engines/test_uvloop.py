"""The engine conformance tests that lean on the event loop's machinery, run again on uvloop.

uvloop (libuv under asyncio's API) is what servers and benchmarks elsewhere run on. Its
transports implement ``asyncio.Transport`` without subclassing it, its loop cannot be
re-entered, and its timers, TLS and socket reads are its own: the tests imported here
(requests and bodies, connection reuse, TLS and tunnels through proxies, timeouts and
faults, WebSockets) run once more per engine with ``anyio_backend`` set to a uvloop loop.
"""

from __future__ import annotations

import asyncio

import pytest

uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed (pip install 'kclient[test]')")

from kclient import HttpClient  # noqa: E402

from .test_bodies import *  # noqa: E402, F403
from .test_connections import *  # noqa: E402, F403
from .test_faults import *  # noqa: E402, F403
from .test_plugin_timeout import *  # noqa: E402, F403
from .test_proxies import *  # noqa: E402, F403
from .test_semantics import *  # noqa: E402, F403
from .test_tls import *  # noqa: E402, F403
from .test_websocket import *  # noqa: E402, F403

UVLOOP = ("asyncio", {"loop_factory": uvloop.new_event_loop})


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    """Every test of this module on a uvloop loop (every engine that runs on asyncio runs there)."""
    return UVLOOP


@pytest.mark.anyio
async def test_the_loop_is_uvloop() -> None:
    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)


@pytest.mark.anyio
async def test_blocking_calls_inside_a_running_uvloop_say_to_await(recwarn: pytest.WarningsRecorder) -> None:
    async with HttpClient("Mock") as c:
        refused = r"cannot run inside a running uvloop\.Loop loop.*uvloop.s cannot.*`await"
        with pytest.raises(RuntimeError, match=refused):
            c.blocking.get("http://example.test/")
    assert not [w for w in recwarn if "never awaited" in str(w.message)]
