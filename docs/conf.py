"""Sphinx configuration of kclient's manual: MyST pages, the tutorial notebooks as they are
stored (nbval executes them in ``make test``), and the API reference from the docstrings.

Built by ``make docs`` with warnings as errors (``-W --keep-going -n``), offline.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "kclient"
author = "kclient developers"
copyright = "2026, kclient developers"

extensions = ["myst_nb", "sphinx.ext.autodoc", "kclient_docs"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# The notebooks are rendered with their stored outputs: ``make notebooks`` runs them and checks those.
nb_execution_mode = "off"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

html_theme = "furo"
html_title = "kclient"
html_static_path: list[str] = []

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Broken references fail the build (-n). A type hint that names a class where it is defined
# (kclient._models.Request) links to its public name (kclient_docs._public_reference). Let
# through by name are only the names the reference documents nowhere: other projects' classes
# (read offline, without intersphinx), type aliases, type variables and private helpers.
nitpicky = True
_THIRD_PARTY = (
    r"(yarl|multidict|anyio|asyncio|ssl|httpx|aiohttp|urllib3|collections|typing|types|enum|ipywidgets|IPython"
    r"|pathlib|datetime|logging|concurrent|contextlib|importlib|abc|os|io)"
)
_UNDOCUMENTED = (
    r"URL|CIMultiDict|CIMultiDictProxy|EntryPoint|AbstractAsyncContextManager|URLInput|RequestOptions|Send"
    r"|MockHandler|EngineChoice|BlockingEventSource|Body|ResponseStream|ProxyKind"
    # type variables, the Protocol engines' streams follow, and the nested settings blocks (their
    # settings are in the engines' tables)
    r"|kclient\._[a-z_]+\.[TP]|kclient\._models\.ResponseStream|kclient\._tls\.HttpsConfig"
    r"|kclient\.engines\.cio\._config\.(LimitsConfig|EndpointConfig)"
)
nitpick_ignore_regex = [
    (r"py:.*", _THIRD_PARTY + r"\..*"),
    (r"py:.*", _UNDOCUMENTED),
]
