"""Build hook: make ``kclient.magics`` importable from an editable install.

A wheel installs the top-level ``magics/`` folder as ``kclient/magics`` (force-include
in pyproject.toml). An editable install maps ``kclient`` to the source tree, where
``magics/`` is a sibling rather than a child; this hook adds a small import finder,
loaded by a ``.pth`` file, that resolves exactly ``kclient.magics`` (and its submodules,
through the package path) to that folder. No top-level ``magics`` module is importable.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

FINDER = '''"""Editable install of kclient: resolve kclient.magics to the source tree's magics/ folder."""
import importlib.abc
import importlib.util
import sys

MAGICS = {magics!r}


class KClientMagicsFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "kclient.magics":
            return None
        return importlib.util.spec_from_file_location(
            fullname, MAGICS + "/__init__.py", submodule_search_locations=[MAGICS]
        )


def install():
    if not any(type(f).__name__ == "KClientMagicsFinder" for f in sys.meta_path):
        sys.meta_path.insert(0, KClientMagicsFinder())
'''


class EditableMagicsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version != "editable":
            return
        out = self._generated = tempfile.mkdtemp(prefix="kclient-editable-")
        magics = os.path.join(self.root, "magics").replace(os.sep, "/")
        finder = os.path.join(out, "_kclient_magics_editable.py")
        with open(finder, "w", encoding="utf-8") as f:
            f.write(FINDER.format(magics=magics))
        pth = os.path.join(out, "_kclient_magics_editable.pth")
        with open(pth, "w", encoding="utf-8") as f:
            f.write("import _kclient_magics_editable; _kclient_magics_editable.install()\n")
        build_data["force_include_editable"][finder] = "_kclient_magics_editable.py"
        build_data["force_include_editable"][pth] = "_kclient_magics_editable.pth"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        generated = getattr(self, "_generated", None)
        if generated is not None:  # the files are inside the wheel now
            shutil.rmtree(generated, ignore_errors=True)
