"""Environments of ``.http`` requests: the files JetBrains' HTTP Client and VS Code REST Client read.

In the folder of the ``.http`` file (of the notebook, for cells):

* ``http-client.env.json``: ``{"dev": {"host": "localhost:8000"}, "prod": {"host": "api.example.com"}}``,
  kept in the repository;
* ``http-client.private.env.json``: the same shape, for secrets (kept out of the repository);
  its values are merged over the public file's and are **masked** wherever kclient shows text;
* ``$shared`` in either file (VS Code REST Client's): variables of every environment, which an
  environment's own override;
* ``.env``: ``NAME=value`` lines read by ``{{$dotenv NAME}}`` (python-dotenv's format).

``load_environment(folder, "dev")`` merges them: ``$shared`` public, ``$shared`` private, the
environment's public, its private. Without a name, only ``$shared`` (and ``.env``) apply. A name
no file defines, a file that is not JSON, or an environment that is not an object is an error
that says which file and what exists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import KClientMagicError

__all__ = ["DOTENV", "PRIVATE", "PUBLIC", "Environment", "load_environment"]

PUBLIC = "http-client.env.json"
PRIVATE = "http-client.private.env.json"
DOTENV = ".env"
SHARED = "$shared"


@dataclass(frozen=True)
class Environment:
    """The variables of one environment, which of their values are secret, and the ``.env`` file's."""

    name: str | None
    folder: Path
    variables: Mapping[str, Any] = field(default_factory=dict)
    #: The private file's values (text), longest first: masked wherever kclient shows text.
    secrets: tuple[str, ...] = ()
    dotenv: Mapping[str, str] = field(default_factory=dict)

    @property
    def files(self) -> list[str]:
        """The environment files found in the folder, by name."""
        return [name for name in (PUBLIC, PRIVATE, DOTENV) if (self.folder / name).is_file()]

    def __repr__(self) -> str:
        names = ", ".join(sorted(self.variables)) or "no variables"
        secret = f", {len(self.secrets)} secret value(s)" if self.secrets else ""
        return f"<Environment {self.name or '(none)'}: {names}{secret}>"


def load_environment(folder: Path, name: str | None) -> Environment:
    """The environment ``name`` (None: ``$shared`` only) from the files in ``folder``."""
    public, private = _read(folder / PUBLIC), _read(folder / PRIVATE)
    if name is not None and name not in public and name not in private:
        defined = sorted({*public, *private} - {SHARED})
        where = f"{PUBLIC} or {PRIVATE} in {folder}"
        if not (folder / PUBLIC).is_file() and not (folder / PRIVATE).is_file():
            raise KClientMagicError(f"No environment {name!r}: there is no {where}.")
        raise KClientMagicError(f"No environment {name!r} in {where}; defined: {', '.join(defined) or 'none'}.")
    variables: dict[str, Any] = {}
    secret: list[str] = []
    for source, values in (
        (PUBLIC, public.get(SHARED, {})),
        (PRIVATE, private.get(SHARED, {})),
        (PUBLIC, public.get(name, {}) if name else {}),
        (PRIVATE, private.get(name, {}) if name else {}),
    ):
        variables.update(values)
        if source == PRIVATE:
            secret.extend(_texts(values))
    return Environment(
        name,
        folder,
        variables,
        tuple(sorted({s for s in secret if len(s) >= 4}, key=len, reverse=True)),
        _dotenv(folder / DOTENV),
    )


def _read(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KClientMagicError(f"{path} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise KClientMagicError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    if not isinstance(data, dict):
        raise KClientMagicError(f"{path} holds {type(data).__name__}; expected an object of environments.")
    for key, values in data.items():
        if not isinstance(values, dict):
            raise KClientMagicError(
                f"{path}: environment {key!r} is {type(values).__name__}; expected an object of variables, "
                'as in {"dev": {"host": "localhost"}}.'
            )
    return data


def _texts(values: Mapping[str, Any]) -> list[str]:
    """Every text inside ``values`` (nested objects and lists included), to be masked."""
    found: list[str] = []
    stack: list[Any] = list(values.values())
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif item is not None and not isinstance(item, bool):
            found.append(str(item))
    return found


def _dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        from dotenv import dotenv_values
    except ImportError:
        raise KClientMagicError(
            f"{path} is read with python-dotenv, which is not installed: pip install 'kclient[jupyter]'."
        ) from None
    return {key: value for key, value in dotenv_values(path).items() if value is not None}
