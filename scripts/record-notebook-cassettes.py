"""Record the cassettes the tutorials replay from (``notebooks/cassettes/NAME.yaml``), against
the demo server, by running each notebook with ``KCLIENT_CASSETTE`` set (mode ``all``: anew).

    .venv/bin/python scripts/record-notebook-cassettes.py [NOTEBOOK ...]
        (default: the notebooks that have a cassette already)

``tests/test_notebook_cassettes.py`` replays them with no server (``KCLIENT_RECORD_MODE=none``)
and compares the outputs with those stored in the notebooks.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CASSETTES = Path("notebooks/cassettes")


def record(notebook: Path) -> None:
    cassette = (CASSETTES / f"{notebook.stem}.yaml").resolve()
    os.environ.update(KCLIENT_CASSETTE=str(cassette), KCLIENT_RECORD_MODE="all")
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(notebook.parent)}}
    ).execute()
    print(f"recorded {cassette.relative_to(Path.cwd())}")


def main(argv: list[str]) -> int:
    notebooks = [Path(a) for a in argv] or [
        Path("notebooks") / f"{c.stem}.ipynb" for c in sorted(CASSETTES.glob("*.yaml"))
    ]
    for notebook in notebooks:
        record(notebook)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
