"""``kclient.run``, the reentrant runner: no loop, a running asyncio loop (a kernel), trio, a real notebook."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import threading
import warnings
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import KeepAliveServer

import kclient
from kclient import ClientState, HttpClient, Httpx, Mock, respond

#: Engine settings for every test: no proxy or certificate settings from the environment.
NO_ENV = {"trust_env": False}


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    with KeepAliveServer() as running:
        yield running


async def answer(value: int) -> int:
    await asyncio.sleep(0)
    return value


class Awaitable:
    """An awaitable that is not a coroutine."""

    def __await__(self) -> Generator[Any, None, str]:
        yield from asyncio.sleep(0).__await__()
        return "awaited"


# -- no event loop ----------------------------------------------------------------------------


def test_run_without_a_loop() -> None:
    assert kclient.run(answer(1)) == 1
    assert kclient.run(answer(2)) == 2
    assert kclient.run(Awaitable()) == "awaited"
    with pytest.raises(LookupError, match="boom"):
        kclient.run(_raise(LookupError("boom")))


async def _raise(exc: BaseException) -> None:
    raise exc


def test_run_is_reentrant_inside_run() -> None:
    async def outer() -> int:
        return kclient.run(answer(20)) + 1  # a sync call from inside a coroutine run by kclient.run

    assert kclient.run(outer()) == 21


AFTER_NESTED_CALL = """
import asyncio, gc, sys, threading, warnings
warnings.simplefilter("error", ResourceWarning)
import kclient

stock = (asyncio.run, asyncio.get_event_loop)

async def answer():
    await asyncio.sleep(0)
    return 1

async def outer():
    return kclient.run(answer()) + 1  # makes the private loop reentrant

assert kclient.run(outer()) == 2
assert (asyncio.run, asyncio.get_event_loop) == stock, "asyncio's entry points were replaced"
loops = []

async def record():
    loops.append(asyncio.get_running_loop())

asyncio.run(record())
asyncio.run(record())
thread = threading.Thread(target=asyncio.run, args=(record(),))
thread.start()
thread.join()
assert len({id(loop) for loop in loops}) == 3 and all(loop.is_closed() for loop in loops), loops

async def nested_asyncio_run():
    inner = answer()
    try:
        asyncio.run(inner)
    except RuntimeError:
        inner.close()
        return "refused"
    return "ran"

assert asyncio.run(nested_asyncio_run()) == "refused"  # stock asyncio.run, inside a running loop
assert kclient.run(outer()) == 2  # kclient's own nesting still works
del loops
gc.collect()
print("ok")
"""


def test_nested_call_leaves_asyncio_run_and_get_event_loop_stock(tmp_path: Path) -> None:
    """Reentrancy patches the loop only: later ``asyncio.run`` calls make and close their own loops."""
    import subprocess

    script = tmp_path / "after_nested.py"
    script.write_text(AFTER_NESTED_CALL)
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", str(script)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "ResourceWarning" not in done.stderr


TASK_KIND = """
import asyncio, sys
import kclient

C_TASK = asyncio.Task

async def main():
    async with kclient.HttpClient(kclient.Mock(lambda r: kclient.respond("ok"))) as client:
        assert (await client.get("http://mock.invalid/")).text == "ok"
        after_await = asyncio.Task is C_TASK
        assert client.blocking.get("http://mock.invalid/").text == "ok"
    return after_await, asyncio.Task is C_TASK, asyncio.Task is asyncio.tasks._PyTask

print(*asyncio.run(main()))
"""


def test_await_keeps_the_c_task_and_a_blocking_call_swaps_it_for_the_process() -> None:
    """What the manual says of nest-asyncio2: ``await`` leaves ``asyncio.Task`` alone; the first
    blocking call inside a running loop makes it the pure-Python task (Python < 3.14) for good."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", TASK_KIND], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    after_await, still_c, python_task = done.stdout.split()
    assert after_await == "True"
    if sys.version_info < (3, 14):
        assert (still_c, python_task) == ("False", "True")
    else:
        assert still_c == "True"


def test_each_thread_has_its_own_loop() -> None:
    results: dict[str, object] = {}

    def in_thread() -> None:
        try:
            results["value"] = kclient.run(answer(5))
        except BaseException as exc:
            results["error"] = exc

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(10)
    assert results == {"value": 5}
    assert kclient.run(answer(6)) == 6


# -- inside a running asyncio loop, as in a Jupyter kernel ------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_sync_calls_inside_a_running_loop_share_the_pool(server: KeepAliveServer) -> None:
    loop = asyncio.get_running_loop()

    async def loop_seen_by_run() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    client = HttpClient(Httpx, engine_config=NO_ENV)
    try:
        assert (await client.get(server.url + "/await")).content == b"ok"
        assert client.blocking.get(server.url + "/blocking").content == b"ok"
        assert kclient.run(client.get(server.url + "/run")).content == b"ok"
        assert (await client.get(server.url + "/await-again")).content == b"ok"
        # kclient.run ran on this very loop: no new loop (asyncio.run would make one, or refuse).
        assert kclient.run(loop_seen_by_run()) is loop
    finally:
        client.close()
        await client.join()
    assert asyncio.get_running_loop() is loop
    assert server.requests == 4
    assert server.connections == 1


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_blocking_inside_a_callback_of_the_running_loop(server: KeepAliveServer) -> None:
    # A widget callback: plain sync code called by the loop, not from a coroutine.
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    client = HttpClient(Httpx, engine_config=NO_ENV)

    def callback() -> None:
        try:
            done.set_result(client.blocking.get(server.url + "/callback").content)
        except BaseException as exc:
            done.set_exception(exc)

    try:
        loop.call_soon(callback)
        assert await asyncio.wait_for(done, 20) == b"ok"
        assert (await client.get(server.url)).content == b"ok"
    finally:
        client.close()
        await client.join()
    assert server.connections == 1


# -- trio -------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_blocking_inside_trio_says_to_await() -> None:
    async with HttpClient(Mock(lambda request: respond("hi"))) as client:
        with pytest.raises(RuntimeError, match="await") as caught:
            client.blocking.get("http://kclient.test/")
        assert "trio" in str(caught.value)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError, match="await"):
                kclient.run(client.get("http://kclient.test/"))
            gc.collect()
        assert not [w for w in seen if "never awaited" in str(w.message)]
        assert (await client.get("http://kclient.test/")).text == "hi"
    assert client.state is ClientState.CLOSED


# -- a real notebook --------------------------------------------------------------------------

NOTEBOOK_CELLS = [
    "from kclient import HttpClient, Mock, respond\n"
    "client = HttpClient(Mock(lambda request: respond({'path': request.url.path})))\n"
    "print(client.state)",
    "response = client.blocking.get('http://kclient.test/blocking')\nprint(response.status, response.json()['path'])",
    "response = await client.get('http://kclient.test/awaited')\nprint(response.status, response.json()['path'])",
    "import kclient\nprint(kclient.run(client.get('http://kclient.test/run')).json()['path'])",
    "def on_click():\n    return client.blocking.get('http://kclient.test/callback').json()['path']\nprint(on_click())",
    "with client:\n    print(client.blocking.get('http://kclient.test/last').json()['path'])\nprint(client.state)",
]
EXPECTED_OUTPUTS = ["ACTIVE\n", "200 /blocking\n", "200 /awaited\n", "/run\n", "/callback\n", "/last\nCLOSED\n"]


def kernel_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``python3`` when that kernel runs this interpreter, else a kernelspec for it written into tmp_path."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        spec = None
    # The same bin folder: symlinks are not resolved, since venvs share their base interpreter.
    if spec is not None and Path(spec.argv[0]).absolute().parent == Path(sys.executable).absolute().parent:
        return "python3"
    # Install-free fallback (`.venv/bin/python -m ipykernel install --sys-prefix` makes python3 this venv's).
    kernel_dir = tmp_path / "jupyter" / "kernels" / "kclient-venv"
    kernel_dir.mkdir(parents=True)
    spec_json = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "kclient venv",
        "language": "python",
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec_json))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "kclient-venv"


@pytest.mark.slow
def test_notebook_cells_run_inside_the_kernel_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbclient
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook(cells=[new_code_cell(source) for source in NOTEBOOK_CELLS])
    runner = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel_name(tmp_path, monkeypatch),
        timeout=60,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    runner.execute()
    nbformat.validate(notebook)

    printed = []
    for cell in notebook.cells:
        errors = [out for out in cell.outputs if out.output_type == "error"]
        assert not errors, f"cell {cell.source!r} failed: {errors[0].ename}: {errors[0].evalue}"
        stdout = [out.text for out in cell.outputs if out.output_type == "stream" and out.name == "stdout"]
        printed.append("".join(stdout))
    assert printed == EXPECTED_OUTPUTS
