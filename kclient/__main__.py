"""``python -m kclient`` (and the ``kclient`` command): ``kclient run FILE.http`` runs ``.http``
collections as tests (see ``kclient.magics._console``)."""

from __future__ import annotations

import importlib
import sys


def main() -> int:
    """Run the console command with ``sys.argv``; returns its exit status."""
    console = importlib.import_module("kclient.magics._console")  # magics/ is mapped to kclient.magics
    status: int = console.main()
    return status


if __name__ == "__main__":
    sys.exit(main())
