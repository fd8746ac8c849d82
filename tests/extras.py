"""Tests that need one of kclient's optional extras skip, naming it, where it is not installed.

``make test`` installs every extra (``.[dev]``); a narrower install, such as the core subset run
on the other Pythons, skips these tests instead of failing them.
"""

from __future__ import annotations

import importlib.util

import pytest

__all__ = ["SOCKS_MODULE", "has_module", "needs", "skip_without_socks"]

#: The extra that brings each optional module the tests import.
EXTRA_OF = {
    "brotli": "compression",
    "zstandard": "compression",
    "tqdm": "progress",
    "socksio": "socks",
    "aiohttp_socks": "socks",
    "socks": "socks",
    "h2": "http2",
    "aiohttp": "aiohttp",
    "urllib3": "urllib3",
    "httpx_sse": "test",
    "graphql": "test",
    "hishel": "cache",
    "yaml": "record",
    "httpbin": "demo",
    "pyreqwest": "bench",
    "pycurl": "bench",
    "uvloop": "test",
}


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def needs(*modules: str) -> pytest.MarkDecorator:
    """A mark that skips the test unless every module in ``modules`` is installed."""
    missing = [name for name in modules if not has_module(name)]
    extras = sorted({EXTRA_OF.get(name, name) for name in missing})
    return pytest.mark.skipif(
        bool(missing),
        reason=f"needs {', '.join(missing)}: pip install 'kclient[{','.join(extras)}]'",
    )


#: The module each engine needs for SOCKS proxies (the ``socks`` extra).
SOCKS_MODULE = {"Httpx": "socksio", "Aiohttp": "aiohttp_socks", "Urllib3": "socks"}


def skip_without_socks(engine_name: str) -> None:
    """Skip, naming the extra, when ``engine_name`` needs a SOCKS library that is not installed."""
    module = SOCKS_MODULE.get(engine_name)
    if module is not None and not has_module(module):
        pytest.skip(f"{engine_name} needs {module} for SOCKS proxies: pip install 'kclient[socks]'")
