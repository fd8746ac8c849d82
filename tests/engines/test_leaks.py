"""No leak after ``with``: once a client's ``with`` / ``async with`` block exits, nothing it opened remains.

Each test makes the kinds of requests a notebook makes (plain ones, a TLS one, an upload, a
streamed body left half-read, and failed ones: a refused connection, a reset, a request
timeout), leaves the block, and compares the process with a snapshot taken before it was
created: the entries of ``/proc/self/fd`` (sockets told apart by their ports), the threads
(``threading.enumerate()``) and the event loop's tasks, after ``gc.collect()``.

The servers run before the snapshot (nginx in its own process, the fault servers on threads of
this process: the sockets they accept are theirs, told apart by their local port, and not
counted). Worker threads of the runtime's shared pools (the event loop's default executor,
anyio's and trio's worker threads) are not the client's: they are reused by whatever runs next
and bounded by their own pools (idle ones end after a while), so they are not counted either;
any other new thread is. File descriptors must be closed when the block exits (a few loop
iterations later for async transports); threads and tasks may take a moment to end.
``ResourceWarning`` is an error in this suite (pyproject), so an unclosed socket found by the
garbage collector fails the test too.
"""

from __future__ import annotations

import gc
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
import sniffio
from yarl import URL

import kclient
from kclient import Engine, HttpClient, KClientError

from .faults import FaultServer
from .support import HANG_GUARD, HTTPX_TRIO_ABANDONS_GENERATORS, Site, TlsOrigin, hermetic_settings

pytestmark = pytest.mark.anyio

#: Threads of shared pools that outlive any one client and are reused by the next: the asyncio
#: loop's default executor, anyio's worker threads, trio's thread cache (named after their job while busy).
SHARED_POOL_THREADS = ("asyncio_", "AnyIO worker thread", "Trio thread", "trio.to_thread")


# -- what the process holds -------------------------------------------------------------------


def _tcp_ports() -> dict[str, tuple[int, int]]:
    """Socket inode -> (local port, remote port), for the TCP sockets of this network namespace."""
    found: dict[str, tuple[int, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            found[inode] = (int(local.rpartition(":")[2], 16), int(remote.rpartition(":")[2], 16))
    return found


def _local_port(fd: int) -> int | None:
    """The local port of socket descriptor ``fd`` (0: never bound), or None when it is closed or not IP."""
    try:
        duplicate = os.dup(fd)
    except OSError:
        return None
    try:
        with socket.socket(fileno=duplicate) as sock:
            name = sock.getsockname()
    except OSError:
        return None
    return name[1] if isinstance(name, tuple) and len(name) >= 2 else None


def _unix_inodes() -> set[str]:
    """The inodes of this network namespace's unix sockets (/proc/net/unix)."""
    try:
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {fields[6] for fields in (line.split() for line in lines) if len(fields) > 6}


def _open_fds() -> dict[int, str]:
    """File descriptor -> what it is (``socket:[inode]``, ``pipe:[...]``, a path, ``anon_inode:[eventfd]``)."""
    fds: dict[int, str] = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the descriptor listdir itself used, closed already
            continue
    return fds


def _tasks() -> set[object]:
    """The tasks of the running event loop (asyncio or trio), or of kclient's private loop in sync code."""
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        library = None
    if library == "trio":
        import trio

        found: set[object] = set()
        pending = [trio.lowlevel.current_root_task()]
        while pending:
            task = pending.pop()
            found.add(task)
            pending.extend(child for nursery in task.child_nurseries for child in nursery.child_tasks)
        return found
    import asyncio

    loop = asyncio.get_running_loop() if library == "asyncio" else kclient.run(_running_loop())
    return set(asyncio.all_tasks(loop))


async def _running_loop() -> Any:
    import asyncio

    return asyncio.get_running_loop()


@dataclass
class Snapshot:
    fds: dict[int, str]
    threads: dict[int, str]
    tasks: set[object]

    @classmethod
    def take(cls) -> Snapshot:
        gc.collect()
        return cls(_open_fds(), {t.ident or 0: t.name for t in threading.enumerate()}, _tasks())

    def left_since(self, before: Snapshot, server_ports: set[int]) -> dict[str, list[str]]:
        """What this snapshot holds that ``before`` did not, but for the servers' own sockets and shared pools."""
        ports = _tcp_ports()
        fds = []
        for fd, target in self.fds.items():
            if before.fds.get(fd) == target:
                continue
            if target.startswith("socket:["):
                inode = target[len("socket:[") : -1]
                if inode not in ports:  # not in /proc/net/tcp*: a unix socket, or a TCP one never bound or reset
                    if inode in _unix_inodes():
                        fds.append(f"fd {fd}: {target} (a unix socket)")
                        continue
                    # A connection reset by the peer leaves the table at once, while its descriptor stays
                    # open until its owner closes it: the socket still knows its port. A server of this
                    # process closes its reset connections on its own loop, a moment later.
                    local = _local_port(fd)
                    if local is None or local in server_ports:
                        continue  # closed since the snapshot, or a server's own socket
                    what = "not a bound TCP socket" if local == 0 else f"a reset TCP socket, local port {local}"
                    fds.append(f"fd {fd}: {target} ({what})")
                    continue
                local, remote = ports[inode]
                if local in server_ports:
                    continue  # accepted by a server of this process, which closes it once the client has
                fds.append(f"fd {fd}: {target} 127.0.0.1:{local} -> :{remote}")
            else:
                fds.append(f"fd {fd}: {target}")
        threads = [
            name
            for ident, name in self.threads.items()
            if ident not in before.threads and not name.startswith(SHARED_POOL_THREADS)
        ]
        tasks = [repr(task) for task in self.tasks - before.tasks]
        return {"fds": fds, "threads": threads, "tasks": tasks}


def _clean(left: dict[str, list[str]]) -> bool:
    return not any(left.values())


# -- the requests -----------------------------------------------------------------------------


@dataclass
class Targets:
    nginx: Site
    fault: FaultServer
    tls: TlsOrigin
    refused: str

    @property
    def server_ports(self) -> set[int]:
        return {URL(self.nginx.url).port or 0, self.fault.port, self.tls.server.port}


@pytest.fixture
def targets(nginx: Site, fault_server: FaultServer, tls_origin: TlsOrigin) -> Targets:
    with socket.socket() as s:  # a port nothing listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{s.getsockname()[1]}/"
    return Targets(nginx, fault_server, tls_origin, refused)


async def upload() -> AsyncIterator[bytes]:
    for _ in range(4):
        await anyio.sleep(0)
        yield b"x" * 1000


async def half_read(client: HttpClient, url: str) -> int:
    """Read one piece of a streamed body, then leave the block (the rest of the body is never read)."""
    async with client.stream("GET", url) as response:
        async for chunk in response.aiter_bytes():
            return len(chunk)
    return 0


async def exercise(client: HttpClient, targets: Targets) -> list[str]:
    """Every kind of request once; returns the type names of the failures (each one must fail)."""
    nginx, fault = targets.nginx, targets.fault.url
    failures = []
    for url, timeout in ((targets.refused, None), (fault + "/reset-before-response", None), (fault + "/never", 0.3)):
        try:
            await client.get(url, timeout=timeout)
        except KClientError as exc:
            failures.append(type(exc).__name__)
    assert (await client.get(targets.tls.server.url + "/ok")).content == b"ok"
    assert (await client.post(fault + "/echo", content=upload())).json()["body_length"] == 4000
    assert await half_read(client, nginx.url + nginx.files["10MiB"].path) > 0
    for _ in range(3):  # last: kept-alive connections in the pool when the block exits
        assert (await client.get(nginx.url + nginx.files["1KiB"].path)).status == 200
    return failures


def settings(engine: type[Engine], targets: Targets) -> dict[str, Any]:
    return {**hermetic_settings(engine), "https": {"ca_file": targets.tls.ca_file}}


# -- the tests --------------------------------------------------------------------------------


async def settle(before: Snapshot, server_ports: set[int]) -> dict[str, list[str]]:
    """What is left once the client's last sockets and threads had time to close (within the hang guard)."""
    left = Snapshot.take().left_since(before, server_ports)
    with anyio.move_on_after(HANG_GUARD):
        while not _clean(left):
            await anyio.sleep(0.05)
            left = Snapshot.take().left_since(before, server_ports)
    return left


async def fds_at_exit(before: Snapshot, server_ports: set[int]) -> dict[str, list[str]]:
    """What is left just after ``async with``, once the loop has run the closing it scheduled.

    Transports close their sockets on the loop's next iterations, and trio finalizes abandoned
    async generators (which may hold a connection) through its loop after ``gc.collect()``: a few
    iterations and at most 0.5 s are allowed, never more.
    """
    for _ in range(5):
        await anyio.sleep(0)
    left = Snapshot.take().left_since(before, server_ports)
    for _ in range(10):
        if not left["fds"]:
            break
        await anyio.sleep(0.05)
        left = Snapshot.take().left_since(before, server_ports)
    return left


@pytest.mark.reliability("No leak after `with`")
@HTTPX_TRIO_ABANDONS_GENERATORS
async def test_nothing_left_after_async_with(
    engine_name: str, engine: type[Engine], targets: Targets, reliability_note: Callable[[str], None]
) -> None:
    before = Snapshot.take()
    for _ in range(2):  # a second client, after the first one started the shared pools' threads
        with anyio.fail_after(HANG_GUARD):
            async with HttpClient(engine_name, engine_config=settings(engine, targets)) as client:
                failures = await exercise(client, targets)
        assert len(failures) == 3, failures
        at_exit = await fds_at_exit(before, targets.server_ports)
        assert not at_exit["fds"], f"still open when `async with` exited: {at_exit['fds']}"
        left = await settle(before, targets.server_ports)  # threads (stopping) and tasks (ending) may take a moment
        assert _clean(left), f"left after `async with`: {left}"
    reliability_note("nothing left: fds, sockets, threads, tasks")


@pytest.mark.reliability("No leak after `with`")
def test_nothing_left_after_with_in_sync_code(
    engine_name: str, engine: type[Engine], targets: Targets, reliability_note: Callable[[str], None]
) -> None:
    kclient.run(anyio.sleep(0))  # kclient's private loop of this thread exists before the snapshot
    before = Snapshot.take()
    for _ in range(2):
        with HttpClient(engine_name, engine_config=settings(engine, targets)) as client:
            nginx = targets.nginx
            for _ in range(3):
                assert client.blocking.get(nginx.url + nginx.files["1KiB"].path).status == 200
            failures = kclient.run(exercise(client, targets))
        assert len(failures) == 3, failures
        at_exit = _fds_at_exit_blocking(before, targets.server_ports)
        assert not at_exit["fds"], f"still open when `with` exited: {at_exit['fds']}"
        left = _settle_blocking(before, targets.server_ports)
        assert _clean(left), f"left after `with`: {left}"
    reliability_note("nothing left: fds, sockets, threads, tasks")


def _fds_at_exit_blocking(before: Snapshot, server_ports: set[int]) -> dict[str, list[str]]:
    """``fds_at_exit`` for synchronous code: at most 0.5 s for what closes a moment after ``with``."""
    left = Snapshot.take().left_since(before, server_ports)
    for _ in range(10):
        if not left["fds"]:
            break
        time.sleep(0.05)
        left = Snapshot.take().left_since(before, server_ports)
    return left


def _settle_blocking(before: Snapshot, server_ports: set[int]) -> dict[str, list[str]]:
    deadline = time.monotonic() + HANG_GUARD
    left = Snapshot.take().left_since(before, server_ports)
    while not _clean(left) and time.monotonic() < deadline:
        time.sleep(0.05)
        left = Snapshot.take().left_since(before, server_ports)
    return left


@pytest.fixture(autouse=True)
def _no_stray_clients() -> Iterator[None]:
    """Clients of earlier tests in this process are collected first, so that they cannot close a socket mid-test."""
    gc.collect()
    yield
