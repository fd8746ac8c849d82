"""The keyword options every request method takes, typed once for async and blocking use."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, TypeAlias, TypedDict

__all__ = ["PLUGIN_OPTIONS", "FileSpec", "HeadersInput", "ParamsInput", "RequestOptions", "URLInput"]

if TYPE_CHECKING:
    # Type-only: yarl and multidict are imported when the first request is built.
    from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
    from yarl import URL

    from ._models import Timeouts

    URLInput: TypeAlias = str | URL
    ParamValue: TypeAlias = str | int | float
    ParamsInput: TypeAlias = (
        Mapping[str, ParamValue | Sequence[ParamValue]]
        | Sequence[tuple[str, ParamValue]]
        | MultiDict[ParamValue]
        | MultiDictProxy[ParamValue]
    )
    HeadersInput: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]] | CIMultiDict[str] | CIMultiDictProxy[str]
    #: A file to upload: its content, or (filename, content) or (filename, content, content_type).
    FileContent: TypeAlias = bytes | str | IO[bytes]
    FileSpec: TypeAlias = FileContent | tuple[str | None, FileContent] | tuple[str | None, FileContent, str]


class RequestOptions(TypedDict, total=False):
    """Options of ``client.get(url, **options)`` and every other request method.

    At most one body: ``json``, ``data`` (a form; may come with ``files``), ``files``
    (multipart) or ``content`` (bytes, text or an async iterable sent chunked).
    ``timeout`` is the whole request's timeout in seconds, or a ``Timeouts``. ``max_body_size``
    bounds the body read into memory, in bytes after decoding (None: no limit; the client's
    ``c.limits(max_body_size=...)`` otherwise, 256 MiB by default).

    The others are read by plugins, and a request that sets one that no installed plugin
    declares in its ``request_options`` is refused. kclient's plugins read ``follow_redirects``
    (HttpRedirect), ``expect_success`` (HttpCallValidator), ``retry`` (HttpRequestRetry: a
    number of retries, 0 for none, or a dict of its options), ``on_upload`` and
    ``on_download`` (BodyProgress: called with bytes so far and the total, or None when
    unknown), ``cache`` (HttpCache: ``"use"``, ``"refresh"``, ``"bypass"`` or
    ``"only-if-cached"``). A third-party plugin's options pass the same way (typed as ``**options``).
    """

    params: ParamsInput
    headers: HeadersInput
    json: Any
    data: Mapping[str, Any]
    files: Mapping[str, FileSpec]
    content: bytes | str | AsyncIterable[bytes]
    timeout: float | Timeouts | None
    max_body_size: int | None
    follow_redirects: bool
    expect_success: bool
    retry: int | Mapping[str, Any]
    on_upload: Callable[[int, int | None], object]
    on_download: Callable[[int, int | None], object]
    cache: str


#: The request options that plugins read (kept in ``Request.attributes``), each with its plugin.
PLUGIN_OPTIONS = {
    "follow_redirects": "HttpRedirect",
    "expect_success": "HttpCallValidator",
    "retry": "HttpRequestRetry",
    "on_upload": "BodyProgress",
    "on_download": "BodyProgress",
    "cache": "HttpCache",
}
