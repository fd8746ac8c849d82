"""Widgets and IPython magics without a kernel, for tests: a recording comm and a shell with kclient loaded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell


class RecordingComm:
    """Stands in for the kernel's comm: records the state sent with ``open`` and every ``send``."""

    kernel = "a kernel"  # ipywidgets sends only through a comm whose kernel is set

    def __init__(self, **kwargs: Any) -> None:
        self.comm_id = uuid.uuid4().hex
        self.opened = kwargs.get("data", {})
        self.messages: list[dict[str, Any]] = []

    def open(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_msg(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send(self, data: Any = None, buffers: Any = None, **kwargs: Any) -> None:
        self.messages.append(data)

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def recording_comms(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Widgets made inside talk to ``RecordingComm``s; all widgets are closed on the way out."""
    import comm
    import ipywidgets

    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    try:
        yield
    finally:
        ipywidgets.Widget.close_all()


@contextmanager
def kclient_shell() -> Iterator[InteractiveShell]:
    """The IPython shell with ``%load_ext kclient`` done, and unloaded on the way out."""
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "kclient")
    try:
        yield ip
    finally:
        ip.run_line_magic("unload_ext", "kclient")
