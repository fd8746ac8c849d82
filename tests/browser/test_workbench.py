"""The widgets workbench in JupyterLab, in headless Chromium: Send slow requests, press Close
and watch CLOSING turn into CLOSED; press Cancel on another client and see CANCELLED at once.

Run on its own with ``make test-browser`` (``pytest -m browser tests/browser``).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Lab

pytestmark = pytest.mark.browser

#: Seconds each request waits at httpbin: long enough to press a button while they are in flight.
DELAY = 3


def notebook(base: str) -> dict[str, Any]:
    def cell(source: str) -> dict[str, Any]:
        return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}

    setup = (
        "from kclient import HttpClient\n"
        "from kclient.widgets import Workbench\n"
        f"BASE = {base!r}\n"
        "def bench():\n"
        "    wb = Workbench(HttpClient('CIO'))\n"
        f"    wb.composer.url.value = BASE + '/delay/{DELAY}'\n"
        "    wb.composer.concurrent.value = 3\n"
        "    return wb\n"
    )
    return {
        "cells": [
            cell(setup),
            cell("closing = bench()\nclosing"),
            cell("cancelling = bench()\ncancelling"),
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def output(page: Any, index: int) -> Any:
    """The output area of the notebook's code cell ``index`` (0-based)."""
    return page.locator(".jp-Notebook .jp-CodeCell").nth(index).locator(".jp-OutputArea")


def test_close_then_cancel_in_the_browser(lab: Lab, browser: Any, httpbin: Any, artifacts: Path) -> None:
    (lab.root / "workbench.ipynb").write_text(json.dumps(notebook(httpbin.url)))
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    try:
        drive(page, lab, httpbin, artifacts)
    except Exception:
        page.screenshot(path=str(artifacts / "workbench-failure.png"), full_page=True)
        raise
    finally:
        page.close()


def drive(page: Any, lab: Lab, httpbin: Any, artifacts: Path) -> None:
    page.goto(lab.notebook_url("workbench.ipynb"))
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    from playwright.sync_api import TimeoutError as NoDialog

    # A "Select Kernel" dialog may appear some seconds after the notebook, or not at all.
    with contextlib.suppress(NoDialog):
        page.locator(".jp-Dialog .jp-mod-accept").first.click(timeout=20_000)
    page.locator(".jp-StatusBar-TextItem:text('Idle')").first.wait_for(timeout=60_000)  # the kernel is up
    page.locator(".lm-MenuBar-itemLabel:text-is('Run')").click(timeout=10_000)
    page.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click(timeout=10_000)

    closing, cancelling = output(page, 1), output(page, 2)
    closing.locator(".kclient-state:text-is('ACTIVE')").wait_for(timeout=60_000)
    cancelling.locator(".kclient-state:text-is('ACTIVE')").wait_for(timeout=60_000)

    # Close with requests in flight: CLOSING while they finish, then CLOSED.
    closing.locator("button:text-is('Send')").click()
    closing.locator(":text('in flight 3')").wait_for(timeout=15_000)
    closing.locator("button:text-is('Close')").click()
    closing.locator(".kclient-state:text-is('CLOSING')").wait_for(timeout=10_000)
    page.screenshot(path=str(artifacts / "workbench-closing.png"), full_page=True)
    closing.locator(".kclient-state:text-is('CLOSED')").wait_for(timeout=DELAY * 1000 + 20_000)
    closing.locator(":text('completed 3')").wait_for(timeout=5_000)

    # Cancel with requests in flight: CANCELLED at once, the requests failed.
    cancelling.locator("button:text-is('Send')").click()
    cancelling.locator(":text('in flight 3')").wait_for(timeout=15_000)
    cancelling.locator("button:text-is('Cancel')").click()
    cancelling.locator(".kclient-state:text-is('CANCELLED')").wait_for(timeout=5_000)
    cancelling.locator(":text('failed 3')").wait_for(timeout=5_000)
    page.screenshot(path=str(artifacts / "workbench.png"), full_page=True)
    assert (artifacts / "workbench.png").stat().st_size > 10_000
