"""Widgets for kclient in a notebook: pick an engine, configure it, send requests, and watch the
client's lifecycle (close, join, cancel) live.

- :class:`EnginePicker`: the registered engines; a missing one says what to ``pip install``.
- :class:`ConfigForm`: one field per engine setting (``describe_settings``), a "Create client"
  button, and each ``ConfigError`` shown beside the field it names.
- :class:`RequestComposer`: method, URL, headers, a JSON / form / raw body, N concurrent copies
  and a "Send" button. Sending never blocks the kernel: requests run as tasks on its loop.
- :class:`ResponseViewer`: the last response, shown by ``display_bundle`` (secrets masked, body
  cut at the display limit).
- :class:`LifecyclePanel`: the client's state as a coloured badge, its request counts, and
  "Close" / "Join" / "Cancel" buttons, all driven by ``client.on_state_change`` (no polling).
- :class:`Workbench`: all of them together; :func:`workbench_for_magics` makes one for
  ``%kclient widget`` around the kernel client.

Widget callbacks run in the kernel's event-loop thread with the loop running, so work that
awaits is started as an asyncio task on that loop and the callback returns at once. Without a
running loop (plain Python, tests) it runs to completion through ``kclient.run``. Every error of
a callback or a task is shown in the widget's error area: nothing is raised into the kernel's
log, and nothing is lost.

The widgets live in one module each: ``_engine_picker``, ``_config_form``, ``_composer``,
``_response_viewer``, ``_lifecycle`` and ``_workbench``; what they share (errors, the running
loop, request counts) is in ``_common``. This package re-exports them, so that
``from kclient.magics._widgets import Workbench`` keeps working.
"""

from __future__ import annotations

from .._views import STATE_COLOURS, badge_html
from ._common import ComposeError, counts_text
from ._common import _describe_error as _describe_error
from ._common import _error_html as _error_html
from ._common import _running_loop as _running_loop
from ._composer import BODY_KINDS, METHODS, RequestComposer, parse_body, parse_headers
from ._config_form import ConfigForm, setting_named
from ._engine_picker import EnginePicker, missing_engine_html
from ._lifecycle import LifecyclePanel
from ._response_viewer import ResponseViewer
from ._workbench import Workbench, workbench_for_magics

__all__ = [
    "BODY_KINDS",
    "METHODS",
    "STATE_COLOURS",
    "ComposeError",
    "ConfigForm",
    "EnginePicker",
    "LifecyclePanel",
    "RequestComposer",
    "ResponseViewer",
    "Workbench",
    "badge_html",
    "counts_text",
    "missing_engine_html",
    "parse_body",
    "parse_headers",
    "setting_named",
    "workbench_for_magics",
]
