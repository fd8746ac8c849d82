"""The keyword options every request method takes, typed once for async and blocking use."""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping, Sequence
from typing import IO, Any, TypedDict

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from ._models import Timeouts

__all__ = ["FileSpec", "HeadersInput", "ParamsInput", "RequestOptions", "URLInput"]

URLInput = str | URL
ParamValue = str | int | float
ParamsInput = (
    Mapping[str, ParamValue | Sequence[ParamValue]]
    | Sequence[tuple[str, ParamValue]]
    | MultiDict[ParamValue]
    | MultiDictProxy[ParamValue]
)
HeadersInput = Mapping[str, str] | Sequence[tuple[str, str]] | CIMultiDict[str] | CIMultiDictProxy[str]
#: A file to upload: its content, or (filename, content) or (filename, content, content_type).
FileContent = bytes | str | IO[bytes]
FileSpec = FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str]


class RequestOptions(TypedDict, total=False):
    """Options of ``client.get(url, **options)`` and every other request method.

    At most one body: ``json``, ``data`` (a form; may come with ``files``), ``files``
    (multipart) or ``content`` (bytes, text or an async iterable sent chunked).
    ``timeout`` is the whole request's timeout in seconds, or a ``Timeouts``.
    """

    params: ParamsInput
    headers: HeadersInput
    json: Any
    data: Mapping[str, Any]
    files: Mapping[str, FileSpec]
    content: bytes | str | AsyncIterable[bytes]
    timeout: float | Timeouts | None
