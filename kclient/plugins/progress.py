"""BodyProgress: upload and download progress callbacks, and an optional tqdm bar for downloads.

The counting pieces are plain objects, tested without an event loop: ``ProgressCounter``
(cumulative counts to callbacks, a final call with the full count), ``ProgressBar`` (a
tqdm bar created once a body is big enough), ``declared_total`` and ``upload_total``.
The plugin sits below the client's READ stage (``SendOrder.PROGRESS``), so it sees every
response still streaming, in ``client.request()`` as in ``client.stream()``.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .._errors import ConfigError, ResponseNotReadError
from .._models import Request, Response
from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .._settings import setting

__all__ = [
    "BodyProgress",
    "BodyProgressConfig",
    "ProgressBar",
    "ProgressCallback",
    "ProgressCounter",
    "declared_total",
    "upload_total",
]

#: A progress callback: called with (bytes so far, total bytes or None when unknown); a plain
#: function, run in the event loop's thread, so keep it short.
ProgressCallback = Callable[[int, int | None], object]

#: What the error says when the bar is asked for without tqdm.
_INSTALL_TQDM = "pip install 'kclient[progress]'"


# -- totals -----------------------------------------------------------------------------------


def declared_total(headers: Mapping[str, str]) -> int | None:
    """The size of the decoded body from Content-Length, or None.

    None when the length is missing or invalid, and when the body is content-encoded
    (gzip...): Content-Length then counts compressed bytes, not those read.
    """
    length = headers.get("Content-Length")
    if length is None or not length.isdigit():
        return None
    if headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        return None
    return int(length)


def upload_total(request: Request) -> int | None:
    """The size of the request body: its length for bytes, else a Content-Length the caller set, else None."""
    content = request.content
    if isinstance(content, bytes):
        return len(content)
    length = request.headers.get("Content-Length")
    return int(length) if length is not None and length.isdigit() else None


# -- counting ---------------------------------------------------------------------------------


class ProgressBar:
    """A tqdm bar for one body, created on the first report that shows the body reaches ``min_size``.

    A body of unknown size gets its bar once ``min_size`` bytes have arrived; the bar is
    written to ``file`` (standard error by default). ``close()`` ends it.
    """

    __slots__ = ("_bar", "_description", "_file", "_min_size")

    def __init__(self, description: str, *, min_size: int = 0, file: TextIO | None = None) -> None:
        self._description = description
        self._min_size = min_size
        self._file = file
        self._bar: Any = None  # a tqdm bar (tqdm has no type information)

    @property
    def shown(self) -> bool:
        """True once the bar was created."""
        return self._bar is not None

    def __call__(self, so_far: int, total: int | None) -> None:
        bar = self._bar
        if bar is None:
            if max(so_far, total or 0) < self._min_size:
                return
            from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

            bar = self._bar = tqdm(
                total=total,
                desc=self._description,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=self._file if self._file is not None else sys.stderr,
                leave=True,
            )
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(so_far - bar.n)

    def close(self) -> None:
        """End the bar (its last state stays on screen)."""
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()


class ProgressCounter:
    """Counts the bytes of one body and reports ``(bytes_so_far, total)`` to callbacks.

    ``add(n)`` reports after each chunk; ``finish()`` makes sure the last call reports the
    full count, as ``(count, count)`` (also when the total was unknown until then), and
    ends the bar. An exception raised by a callback propagates to the caller.
    """

    __slots__ = ("_bar", "_callbacks", "_last", "count", "failure", "total")

    def __init__(
        self, callbacks: Sequence[ProgressCallback], total: int | None, bar: ProgressBar | None = None
    ) -> None:
        self._callbacks = tuple(callbacks)
        self._bar = bar
        self._last: tuple[int, int | None] | None = None
        self.count = 0
        self.total = total
        #: The exception a callback raised, kept so that it can be told from an engine's error.
        self.failure: Exception | None = None

    def report(self, so_far: int, total: int | None) -> None:
        """Call every callback (then the bar) with ``(so_far, total)``; what they raise propagates."""
        self._last = (so_far, total)
        try:
            for callback in self._callbacks:
                outcome = callback(so_far, total)
                if outcome is not None and inspect.isawaitable(outcome):
                    _refuse_awaitable(callback, outcome)
            if self._bar is not None:
                self._bar(so_far, total)
        except Exception as exc:
            self.failure = exc
            raise

    def add(self, size: int) -> None:
        """Count ``size`` more bytes and report the new total (empty chunks are not reported)."""
        if size:
            self.count += size
            self.report(self.count, self.total)

    def finish(self) -> None:
        """The body is complete: report ``(count, count)`` unless that was the last call, then end the bar."""
        try:
            if self._last != (self.count, self.count):
                self.report(self.count, self.count)
        finally:
            self.close()

    def whole(self, size: int) -> None:
        """A body of ``size`` bytes arrived (or left) at once: one call, ``(size, size)``."""
        self.count = size
        self.finish()

    def close(self) -> None:
        """End the bar without reporting (a body closed before its end)."""
        if self._bar is not None:
            self._bar.close()


def _refuse_awaitable(callback: ProgressCallback, outcome: Any) -> None:
    closer = getattr(outcome, "close", None)
    if closer is not None:
        closer()  # a coroutine never awaited would warn
    name = getattr(callback, "__qualname__", repr(callback))
    raise TypeError(
        f"The progress callback {name} returned an awaitable: on_upload and on_download are plain "
        f"functions called with (bytes_so_far, total), not coroutine functions."
    )


class _CountedChunks:
    """An async iterator that counts the chunks of ``source`` as they pass.

    An object rather than an async generator: stopping early leaves nothing for the garbage
    collector to finalize (trio reports those as ``ResourceWarning``).
    """

    __slots__ = ("_counter", "_source")

    def __init__(self, source: AsyncIterator[bytes], counter: ProgressCounter) -> None:
        self._source = source
        self._counter = counter

    def __aiter__(self) -> _CountedChunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._source.__anext__()
        except StopAsyncIteration:
            self._counter.finish()
            raise
        try:
            self._counter.add(len(chunk))
        except BaseException:
            await self.aclose()  # the source stops here: close it now, not when it is collected
            raise
        return chunk

    async def aclose(self) -> None:
        closer = getattr(self._source, "aclose", None)
        if closer is not None:
            await closer()


class _CountedBody:
    """An async-iterable request body whose chunks are counted as the engine takes them."""

    __slots__ = ("_counter", "_source")

    def __init__(self, source: AsyncIterable[bytes], counter: ProgressCounter) -> None:
        self._source = source
        self._counter = counter

    def __aiter__(self) -> _CountedChunks:
        return _CountedChunks(self._source.__aiter__(), self._counter)


class _CountedStream:
    """The body stream of a counted response: the engine's response read through a counter."""

    __slots__ = ("_counter", "_response")

    def __init__(self, response: Response, counter: ProgressCounter) -> None:
        self._response = response
        self._counter = counter

    def __aiter__(self) -> _CountedChunks:
        return _CountedChunks(self._response.aiter_bytes(), self._counter)

    async def aclose(self) -> None:
        try:
            await self._response.aclose()
        finally:
            self._counter.close()


# -- the plugin -------------------------------------------------------------------------------


def _callback(value: Any) -> ProgressCallback | None:
    if value is None:
        return None
    if not callable(value) or inspect.iscoroutinefunction(value):
        raise ValueError("it is a plain function called with (bytes_so_far, total), or None")
    return value  # type: ignore[no-any-return]


def _progress_bar(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("it is True or False")
    if value:
        try:
            import tqdm  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
        except ImportError as exc:
            raise ConfigError(f"the progress bar needs tqdm, which is not installed: {_INSTALL_TQDM}") from exc
    return value


def _text_file(value: Any) -> TextIO | None:
    if value is not None and not callable(getattr(value, "write", None)):
        raise ValueError("it is a text file such as sys.stderr or io.StringIO(), or None for standard error")
    return value  # type: ignore[no-any-return]


@dataclass(frozen=True, kw_only=True)
class BodyProgressConfig(PluginConfig):
    on_upload: ProgressCallback | None = setting(
        None, "Called with (bytes_sent, total) while a request body is sent.", convert=_callback
    )
    on_download: ProgressCallback | None = setting(
        None, "Called with (bytes_received, total) while a response body arrives.", convert=_callback
    )
    progress_bar: bool = setting(
        False, f"Show a tqdm bar for downloads of at least min_size bytes ({_INSTALL_TQDM}).", convert=_progress_bar
    )
    min_size: int = setting(1 << 20, "Bodies get a bar once they are known to reach this many bytes.", minimum=0)
    progress_file: TextIO | None = setting(
        None, "Where the bar is written; None for standard error.", convert=_text_file
    )


class BodyProgress(Plugin):
    """Reports the progress of request and response bodies, and shows a download bar.

    ``on_download(bytes_so_far, total)`` is called as the decoded body arrives, with
    ``total`` from Content-Length when the body is not content-encoded (else None); the
    last call always reports the full count as ``(count, count)``. A body an engine hands
    over already read is reported in one call. ``on_upload`` counts an async-iterable body
    chunk by chunk as the engine takes it; a bytes body is reported as ``(0, total)`` before
    it is sent and ``(total, total)`` once the response head arrives (it is written in one
    piece, so there is nothing in between to report). Requests without a body report no
    upload. Each exchange (a redirect, a retried attempt) reports from 0 again.

    A request's ``on_upload=`` / ``on_download=`` replace the configured callbacks for that
    request. Callbacks run in the event loop's thread and must be quick; an exception they
    raise is not swallowed: the request (or the read of the body) fails with it.
    ``progress_bar=True`` draws a tqdm bar for downloads of at least ``min_size`` bytes.
    """

    name = "BodyProgress"
    config_class = BodyProgressConfig
    config: BodyProgressConfig
    send_order = SendOrder.PROGRESS
    request_options = frozenset({"on_upload", "on_download"})

    async def on_send(self, request: Request, proceed: Send) -> Response:
        on_upload = _chosen(request, "on_upload", self.config.on_upload)
        if on_upload is None:
            response = await proceed(request)
        elif request.is_streaming:
            response = await _send_stream(request, proceed, on_upload)
        else:
            response = await _send_bytes(request, proceed, on_upload)
        on_download = _chosen(request, "on_download", self.config.on_download)
        if on_download is None and not self.config.progress_bar:
            return response
        return await self._counted(response, () if on_download is None else (on_download,))

    async def _counted(self, response: Response, callbacks: tuple[ProgressCallback, ...]) -> Response:
        """``response`` with its body counted: a new response over a counted stream, or reported at once."""
        try:
            bar = self._bar(response) if self.config.progress_bar else None
            counter = ProgressCounter(callbacks, declared_total(response.headers), bar)
        except BaseException:
            await response.aclose()  # the engine's stream is still open: release its connection
            raise
        if not response.is_closed:
            return Response(
                response.status,
                request=response.request,
                headers=response.headers,
                reason=response.reason,
                http_version=response.http_version,
                stream=_CountedStream(response, counter),
                url=response.url,
            )
        try:
            content = response.content
        except ResponseNotReadError:
            counter.close()
            return response  # closed without a body to report
        try:
            counter.whole(len(content))
        except BaseException:
            await response.aclose()
            raise
        return response

    def _bar(self, response: Response) -> ProgressBar:
        url = response.url
        return ProgressBar(
            url.name or url.host or str(url), min_size=self.config.min_size, file=self.config.progress_file
        )


def _chosen(request: Request, name: str, configured: ProgressCallback | None) -> ProgressCallback | None:
    """The request's own callback ``name`` when it sets one, else the configured one."""
    if request.attributes is None:
        return configured
    chosen: ProgressCallback | None = request.attributes.get(name, configured)
    return chosen


async def _send_stream(request: Request, proceed: Send, on_upload: ProgressCallback) -> Response:
    """Send an async-iterable body counted chunk by chunk as the engine takes it.

    An engine reports an exception raised while it reads the body in its own way (some wrap
    it in ``WriteError``); a callback's exception is raised as it is, whatever the engine.
    """
    content = request.content
    assert not isinstance(content, bytes)
    counter = ProgressCounter((on_upload,), upload_total(request))
    failure: Exception | None = None
    try:
        return await proceed(request.copy(content=_CountedBody(content, counter)))
    except Exception as exc:
        if counter.failure is None or exc is counter.failure:
            raise
        failure = counter.failure
    raise failure  # outside the handler: the callback's error keeps its own context


async def _send_bytes(request: Request, proceed: Send, on_upload: ProgressCallback) -> Response:
    """Send a bytes body, reporting ``(0, total)`` before and ``(total, total)`` once the response head is in."""
    total = upload_total(request) or 0
    if not total:
        return await proceed(request)
    counter = ProgressCounter((on_upload,), total)
    counter.report(0, total)
    response = await proceed(request)
    try:
        counter.whole(total)
    except BaseException:
        await response.aclose()
        raise
    return response
