"""Live streams in JupyterLab, in headless Chromium: a ``%%kclient --stream`` cell and a
``WEBSOCKET`` cell update their one display while events and messages arrive, then show the end.

The kernel serves them itself (``kclient.demo``: SSE ticks, and WebSocket ticks on its second
port). Run on its own with ``make test-browser`` (``pytest -m browser tests/browser``).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Lab
from .test_workbench import output

pytestmark = pytest.mark.browser

#: Events and messages each stream sends, one every DELAY seconds: long enough to be seen midway.
COUNT, DELAY = 30, 0.2


def notebook() -> dict[str, Any]:
    def cell(source: str) -> dict[str, Any]:
        return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}

    return {
        "cells": [
            cell("%load_ext kclient\nfrom kclient import demo\nbase, ws = demo.serve(), demo.ws_url()"),
            cell(f"%%kclient --stream << ticks\nGET {{{{base}}}}/sse/ticks?n={COUNT}&delay={DELAY}"),
            cell(f"%%kclient << messages\nWEBSOCKET {{{{ws}}}}/ws/ticks?n={COUNT}&delay={DELAY}"),
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_live_cells_update_while_streams_arrive(lab: Lab, browser: Any, artifacts: Path) -> None:
    (lab.root / "live.ipynb").write_text(json.dumps(notebook()))
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    try:
        drive(page, lab, artifacts)
    except Exception:
        page.screenshot(path=str(artifacts / "live-failure.png"), full_page=True)
        raise
    finally:
        page.close()


def drive(page: Any, lab: Lab, artifacts: Path) -> None:
    page.goto(lab.notebook_url("live.ipynb"))
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    from playwright.sync_api import TimeoutError as NoDialog

    with contextlib.suppress(NoDialog):
        page.locator(".jp-Dialog .jp-mod-accept").first.click(timeout=20_000)
    page.locator(".jp-StatusBar-TextItem:text('Idle')").first.wait_for(timeout=60_000)
    page.locator(".lm-MenuBar-itemLabel:text-is('Run')").click(timeout=10_000)
    page.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click(timeout=10_000)

    events, messages = output(page, 1), output(page, 2)
    # Midway: the one display says streaming, with some of the events (not none, not all).
    events.locator("strong:text-matches('streaming, ([3-9]|1[0-9]|2[0-5]) event')").wait_for(timeout=60_000)
    midway = events.locator("table tr").count()
    page.screenshot(path=str(artifacts / "live-sse-midway.png"), full_page=True)
    events.locator(f"strong:text-matches('ended, {COUNT} event')").wait_for(timeout=COUNT * DELAY * 1000 + 30_000)
    assert 1 < midway <= events.locator("table tr").count() == 21  # a header and the last 20 events
    assert events.locator(".kclient-events").count() == 1  # one display, updated in place

    messages.locator("strong:text-matches('open, 0 sent, ([3-9]|1[0-9]|2[0-5]) received')").wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "live-ws-midway.png"), full_page=True)
    messages.locator(f"strong:text-matches('closed 1000, 0 sent, {COUNT} received')").wait_for(
        timeout=COUNT * DELAY * 1000 + 30_000
    )
    assert messages.locator(".kclient-messages").count() == 1
    page.screenshot(path=str(artifacts / "live.png"), full_page=True)
