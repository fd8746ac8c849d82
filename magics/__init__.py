"""kclient's IPython layer (``%kclient`` magics and widgets), installed as ``kclient.magics``.

It lives in the repository's top-level ``magics/`` folder and ships inside the kclient
wheel; the client core in ``kclient/`` never imports it. ``%load_ext kclient`` calls
:func:`load_ipython_extension`: it registers the magics and the rich display of
responses. Nothing registers at import time.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

#: The magics registered in each shell, so that unloading can close their clients.
_LOADED: dict[int, Any] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%kclient`` / ``%%kclient`` and the display of ``kclient.Response`` objects."""
    from kclient import Response

    from ._magics import KClientMagics

    if id(ipython) in _LOADED:
        return
    magics = KClientMagics(ipython)
    ipython.register_magics(magics)
    formatter = ipython.display_formatter.mimebundle_formatter
    formatter.for_type(Response, magics.response_bundle)
    _LOADED[id(ipython)] = magics


def unload_ipython_extension(ipython: Any) -> None:
    """Close the kernel client and forget the display of responses (``%unload_ext kclient``)."""
    from kclient import Response

    magics = _LOADED.pop(id(ipython), None)
    if magics is None:
        return
    magics.shutdown()
    ipython.display_formatter.mimebundle_formatter.pop(Response, None)
    ipython.magics_manager.registry.pop(type(magics).__name__, None)
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("kclient", None)
