"""Run notebooks top to bottom and store their outputs, which ``make notebooks`` (nbval) compares.

    .venv/bin/python scripts/execute-notebooks.py [NOTEBOOK ...]   (default: notebooks/*.ipynb)

Outputs must be deterministic up to what ``tests/nbval-sanitize.cfg`` masks (the demo
server's port, durations, dates, versions): print facts, not timings. Widget state is
stored too, so the widgets show in JupyterLab before the notebook runs. This script refuses
to write a notebook whose outputs contain an address such as ``0x7f...``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=120, record_timing=False, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            text = nbformat.writes(nbformat.from_dict({"o": output}))
            if ADDRESS.search(text):
                raise SystemExit(f"{path}: cell {index} prints a memory address; make its output deterministic.")
    nbformat.validate(nb)
    nbformat.write(nb, path)
    print(f"executed {path}")


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(Path("notebooks").glob("*.ipynb"))
    for path in paths:
        execute(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
