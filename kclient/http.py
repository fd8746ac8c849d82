"""The pytest plugin that runs ``.http`` collections as tests: ``pytest -p kclient.http``.

It is registered through the ``pytest11`` entry point and does nothing unless asked: collect
``*.http`` files with ``-p kclient.http`` on the command line, or ``kclient_http = true`` in the
ini file. Each request is a test item named by its ``# @name`` (else its method, URL and line);
chained requests run in order, a request another needs runs first, and a failed ``??``
assertion fails its item with the expected and actual values. Options: ``--http-env NAME`` /
``kclient_http_env``, ``--http-engine NAME`` / ``kclient_http_engine``, ``--http-timeout S``.

The collector lives in ``kclient.magics._pytest_http`` (the ``.http`` format's home) and is
imported only when the plugin is on, so that every other pytest run pays nothing for it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

PLUGIN = "kclient.http"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kclient-http", ".http collections (kclient)")
    group.addoption("--http-env", help="the environment of .http files (http-client.env.json beside them)")
    group.addoption("--http-engine", help="the kclient engine that sends .http requests")
    group.addoption("--http-timeout", type=float, help="each .http request's timeout, in seconds")
    parser.addini("kclient_http", "collect *.http files as tests (kclient)", type="bool", default=False)
    parser.addini("kclient_http_env", "the environment of .http files", default="")
    parser.addini("kclient_http_engine", "the kclient engine that sends .http requests", default="")


def enabled(config: pytest.Config) -> bool:
    """On with ``-p kclient.http`` or ``kclient_http = true`` (the entry point alone loads it off)."""
    asked = config.known_args_namespace.plugins or []
    return PLUGIN in asked or bool(config.getini("kclient_http"))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    if file_path.suffix == ".http" and enabled(parent.config):
        collector = importlib.import_module("kclient.magics._pytest_http")
        return collector.HttpFileCollector.from_parent(parent, path=file_path)
    return None
