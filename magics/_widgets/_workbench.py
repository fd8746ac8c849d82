"""The workbench: engine picker, settings form, request composer, lifecycle panel and response
viewer put together around one client (``Workbench``), and ``workbench_for_magics``, the
workbench of ``%kclient widget`` that sends with the kernel client and follows ``%kclient use``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]

import kclient
from kclient import EngineInfo, EngineRegistry, HttpClient, HttpClientConfig

from .._display import DEFAULT_LIMIT_BYTES
from ._common import ComposeError, _client_words, _describe_error, _error_html
from ._composer import RequestComposer
from ._config_form import ConfigForm
from ._engine_picker import EnginePicker, _missing_line, missing_engine_html
from ._lifecycle import LifecyclePanel
from ._response_viewer import ResponseViewer

__all__ = ["Workbench", "workbench_for_magics"]


class Workbench(widgets.VBox):  # type: ignore[misc]
    """Engine picker, settings form, request composer, lifecycle panel and response viewer.

    A given ``client`` is used as it is. Otherwise the first "Send" creates one from the form
    (the default engine, settings as typed), as does "Create client". A client made here
    replaces the previous one, which is closed if the workbench made it; with ``on_client``
    the callback receives each new client and owns it (``%kclient widget`` makes it the kernel
    client). Parts: ``picker``, ``form`` (None while a missing engine is chosen), ``composer``,
    ``viewer``, ``panel``; ``client`` is the client in use.
    """

    def __repr__(self) -> str:
        return f"<Workbench engine={self.picker.value} client: {_client_words(self.client)}>"

    def __init__(
        self,
        client: HttpClient | None = None,
        *,
        registry: EngineRegistry | None = None,
        engine: str | None = None,
        configure: Callable[[HttpClientConfig], None] | None = None,
        on_client: Callable[[HttpClient], None] | None = None,
        client_name: str = "workbench client",
        limit_bytes: int = DEFAULT_LIMIT_BYTES,
        masked_headers: Iterable[str] = frozenset(),
    ) -> None:
        self._client = client
        self._owns_client = False
        self._configure = configure
        self._on_client = on_client
        self._client_name = client_name
        # A lent engine of the given client may be unregistered: then the default engine is shown.
        chosen = engine if engine is not None else _registered(registry, client.engine.name if client else None)
        self.picker = EnginePicker(registry, value=chosen, note=False)  # the settings area says it
        self.form: ConfigForm | None = None
        self.settings_area = widgets.VBox()
        self.viewer = ResponseViewer(limit_bytes=limit_bytes, masked_headers=masked_headers)
        self.composer = RequestComposer(self._client_for_send, on_response=self.viewer.show)
        self.panel = LifecyclePanel(client)
        self.picker.on_pick(self._show_engine)
        self._show_engine(self.picker.info)
        super().__init__(
            children=[
                widgets.HTML(value="<b>kclient workbench</b>"),
                self.picker,
                self.settings_area,
                self.composer,
                self.panel,
                self.viewer,
            ]
        )
        self.add_class("kclient-workbench")

    @property
    def client(self) -> HttpClient | None:
        """The client requests are sent with (None until one is given or created)."""
        return self._client

    def use(self, client: HttpClient) -> None:
        """Send with ``client`` from now on (not owned: the workbench never closes it)."""
        self._replace(client, owned=False)

    def _show_engine(self, info: EngineInfo | None) -> None:
        """The settings form of the chosen engine, or its install line when it is missing."""
        if self.form is not None:
            _close_tree(self.form)
            self.form = None
        missing = "no engine is registered" if info is None else _missing_line(info)
        if info is None or missing is not None:
            note = missing_engine_html(self.picker.value or "", missing or "")
            self.settings_area.children = [widgets.HTML(value=note)]
            return
        try:
            self.form = ConfigForm(
                info.load(), configure=self._configure, client_name=self._client_name, on_client=self._created
            )
        except Exception as error:  # an engine whose settings cannot be listed: said, not raised
            message = f"The settings of {info.name} cannot be shown: {_describe_error(error)}"
            self.settings_area.children = [widgets.HTML(value=_error_html(message))]
            return
        self.settings_area.children = [self.form]

    def _created(self, client: HttpClient) -> None:
        if self._on_client is not None:
            self._on_client(client)
            self._replace(client, owned=False)
        else:
            self._replace(client, owned=True)

    def _replace(self, client: HttpClient, *, owned: bool) -> None:
        old, old_owned = self._client, self._owns_client
        self._client, self._owns_client = client, owned
        self.panel.client = client
        if old is not None and old is not client and old_owned:
            old.close()  # its requests in flight finish

    def _client_for_send(self) -> HttpClient:
        if self._client is not None:
            return self._client
        if self.form is None:
            raise ComposeError(f"Engine {self.picker.value} is not installed: {self.picker.missing}.")
        client = self.form.create_client()
        if client is None:
            raise ComposeError("The client could not be created: see the settings above.")
        return client

    def close(self) -> None:
        """Close the widgets and stop following the client; the client is left open (Close or
        ``client.close()`` ends it)."""
        for child in list(self.children):
            _close_tree(child)
        super().close()


def _close_tree(widget: Any) -> None:
    """Close ``widget`` and every widget inside it (closing a box leaves its children open)."""
    for child in list(getattr(widget, "children", ())):
        _close_tree(child)
    widget.close()


def _registered(registry: EngineRegistry | None, name: str | None) -> str | None:
    """``name`` when ``registry`` knows it (a lent engine may not be registered), else None."""
    if name is None:
        return None
    known = (registry if registry is not None else kclient.engines.registry()).names()
    return next((known_name for known_name in known if known_name.casefold() == name.casefold()), None)


def workbench_for_magics(magics: Any) -> Workbench:
    """The workbench of ``%kclient widget``: sends with the kernel client, and a client created in
    it becomes the kernel client (the previous one is closed, as ``%kclient use`` does); a later
    ``%kclient use`` is followed."""
    workbench = Workbench(
        magics.kernel.get(),
        configure=getattr(magics, "_configure_client", None),
        on_client=magics.kernel.adopt,
        client_name="kernel client",
        limit_bytes=magics.display_limit,
        masked_headers=magics.masked_headers,
    )
    on_replace = getattr(magics.kernel, "on_replace", None)
    if on_replace is not None:
        import weakref

        followed = weakref.ref(workbench)  # the kernel client must not keep old workbenches alive

        def follow(client: HttpClient) -> None:
            bench = followed()
            if bench is None:
                unsubscribe()
            elif bench.client is not client:
                bench.use(client)

        unsubscribe = on_replace(follow)
    return workbench
