"""The short description of a request in kclient's messages: ``GET https://user:***@host/path``.

One function for the client, the body limits and every engine, so that a message names a
request the same way wherever it comes from, its URL always masked (``mask_url``: the
password and the values of secret query parameters). Only ``_redact`` is imported, so
``import kclient`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._redact import mask_url

if TYPE_CHECKING:
    from ._models import Request

__all__ = ["describe"]


def describe(request: Request) -> str:
    """``METHOD url`` of ``request``, its URL masked: how messages name a request."""
    return f"{request.method} {mask_url(request.url)}"
