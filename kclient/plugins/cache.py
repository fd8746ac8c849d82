"""HttpCache: an RFC 9111 private HTTP cache, in memory or in a folder, after Ktor's HttpCache.

::

    def configure(c):
        c.install(HttpCache)                                # in memory, 64 MiB
        c.install(HttpCache, folder="~/.cache/my-api")      # survives a kernel restart

    async with HttpClient("CIO", configure) as client:
        await client.get(url)                  # from the network, stored when it may be
        response = await client.get(url)       # fresh: from the cache, no network
        response.source                        # "cache"

The decisions (may a response be stored, is a stored one fresh, does it need validation,
what does a ``304`` change) are hishel's: its sans-IO state machine implements RFC 9111
(Cache-Control and Expires, heuristic freshness from Last-Modified, ETag and Last-Modified
validation, ``Vary``, ``no-store``, ``no-cache``, ``must-revalidate``, invalidation by unsafe
methods). This plugin gives it the requests and the stored responses, sends what it asks for
and keeps what it decides to keep (``kclient._cache_store``).

Per request, ``cache=``: ``"use"`` (the default), ``"refresh"`` (validate what is stored, as a
browser's reload does), ``"bypass"`` (neither read nor stored) or ``"only-if-cached"`` (no
network: a stored fresh response, else a ``504`` made by the cache, as RFC 9111 says). A
request's own ``Cache-Control: no-cache``, ``no-store`` or ``only-if-cached`` does the same.

Answers from the cache have ``response.source == "cache"`` (their repr, display, history and
the Logging plugin say so) and an ``Age`` header. The plugin sits below the client's READ
stage, so redirects, retries, cookies and Auth see cached answers as they see the network's.
``Set-Cookie`` is never stored, and the request headers a response varies on are kept as
digests: a store holds no credential. A body larger than ``max_entry_size`` passes through
uncached without being held in memory, and responses that could never be reused (no
freshness and no validator) are not stored, nor are 500, 502, 503 and 504 (a retry, or a cell
run again, reaches the server: RFC 9111 lets a cache decline to store). Streams of items
(events, JSON lines) and WebSocket handshakes pass through.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._cache_store import CachedResponse, CacheStore, FolderStore, MemoryStore, vary_digest
from .._errors import ConfigError, InvalidRequestError
from .._models import Request, Response
from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .._settings import setting
from .._stored_body import TRANSFER_HEADERS, is_stream, kept_response, teed
from .._ws_channel import HANDSHAKE_ATTRIBUTE

if TYPE_CHECKING:
    import hishel

__all__ = ["CacheMode", "HttpCache", "HttpCacheConfig"]

CacheMode = Literal["use", "refresh", "bypass", "only-if-cached"]
_MODES = ("use", "refresh", "bypass", "only-if-cached")
#: Response headers never kept: the transfer's, cookies (set when first received) and the age
#: (the cache gives its own).
_NOT_KEPT = TRANSFER_HEADERS | {"set-cookie", "age"}
#: Server errors that say "not now": never stored, so that a retry or a cell run again asks anew.
_TRANSIENT = frozenset({500, 502, 503, 504})


def _folder(value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(f"folder= takes the path of a folder (or None: in memory), not {value!r}")
    return Path(value).expanduser()


def _methods(value: Any) -> tuple[str, ...]:
    methods = (value,) if isinstance(value, str) else tuple(value)
    if not methods or not all(isinstance(method, str) and method.isalpha() for method in methods):
        raise ConfigError(f"methods takes method names such as ('GET', 'HEAD'), not {value!r}")
    return tuple(method.upper() for method in methods)


@dataclass(frozen=True, kw_only=True)
class HttpCacheConfig(PluginConfig):
    folder: Path | None = setting(
        None, "A folder that keeps the cache across restarts; None: in memory.", convert=_folder
    )
    max_size: int = setting(
        64 * 1024 * 1024, "Bytes the cache holds at most (least recently used go first).", minimum=1
    )
    max_entry_size: int | None = setting(
        None, "Largest body stored, in bytes (larger ones pass uncached); None: max_size / 8.", minimum=0
    )
    shared: bool = setting(False, "Behave as a shared cache (s-maxage, private and Authorization rules).")
    allow_stale: bool = setting(False, "Serve stale responses where the server's directives allow it.")
    methods: tuple[str, ...] = setting(("GET", "HEAD"), "Methods whose responses may be stored.", convert=_methods)


class HttpCache(Plugin):
    """An RFC 9111 cache for the client's responses (see the module docstring)."""

    name = "HttpCache"
    config_class = HttpCacheConfig
    config: HttpCacheConfig
    send_order = SendOrder.CACHE
    request_options = frozenset({"cache"})

    def __init__(self, config: HttpCacheConfig) -> None:
        super().__init__(config)
        try:
            import hishel
        except ImportError as exc:
            raise ConfigError("HttpCache needs hishel (its RFC 9111 decisions): pip install 'kclient[cache]'") from exc
        self._hishel = hishel
        _memoize_hishel_parsers()
        self._options: hishel.CacheOptions = {
            "shared": config.shared,
            "supported_methods": list(config.methods),
            "allow_stale": config.allow_stale,
        }
        self.store: CacheStore = (
            MemoryStore(config.max_size) if config.folder is None else FolderStore(config.folder, config.max_size)
        )
        self.max_entry_size = config.max_entry_size if config.max_entry_size is not None else config.max_size // 8
        #: Answers given from the cache (fresh, or validated by a ``304``), sent on, and stored.
        self.hits = 0
        self.revalidated = 0
        self.misses = 0
        self.stored = 0

    def __repr__(self) -> str:
        where = "memory" if self.config.folder is None else str(self.config.folder)
        return (
            f"<HttpCache {where}: {len(self.store)} URL(s); {self.hits} hit(s), {self.revalidated} revalidated, "
            f"{self.misses} miss(es), {self.stored} stored>"
        )

    def clear(self) -> None:
        """Forget every stored response."""
        self.store.clear()

    async def on_close(self) -> None:
        self.store.close()

    # -- a request ---------------------------------------------------------------------------
    async def on_send(self, request: Request, proceed: Send) -> Response:
        mode = _mode(request)
        if mode == "bypass" or request.attribute(HANDSHAKE_ATTRIBUTE) or _asks_for_events(request):
            return await proceed(request)
        hishel = self._hishel
        key = _key(request)
        stored = {entry.id: entry for entry in self.store.entries(key)}
        # hishel sees the variants this request selects (Vary): it would otherwise forget the
        # others when one of them is validated or replaced
        safe = request.method in ("GET", "HEAD")
        seen = [_entry(entry, request) for entry in stored.values() if not safe or _selects(request, entry)]
        state: Any = hishel.IdleClient(options=self._options).next(_asked(request, key, mode), seen)
        if isinstance(state, hishel.FromCache):
            self.hits += 1
            return self._answer(request, stored[state.entry.id.hex], state.entry.response.headers)
        if mode == "only-if-cached" or _directive(request, "only-if-cached"):
            return _gateway_timeout(request)
        superseded: set[str] = set()
        if isinstance(state, hishel.NeedRevalidation):
            sent = request.copy()
            for name in ("If-None-Match", "If-Modified-Since"):
                value = state.request.headers.get(name.lower())
                if value is not None:
                    sent.headers[name] = value
            response = await proceed(sent)
            if response.status == 304:
                await response.aclose()
                state, refreshed = self._validated(state.next(_answer_of(response)), key, stored)
                if isinstance(state, hishel.FromCache):
                    self.revalidated += 1
                    entry = refreshed.get(state.entry.id.hex) or stored[state.entry.id.hex]
                    return self._answer(request, entry, state.entry.response.headers)
                # a 304 that validates nothing stored: ask again, unconditionally
                response = await proceed(request)
            else:  # a full answer: none of the stored ones is fit any more
                superseded = {entry.id.hex for entry in state.revalidating_entries}
            self.misses += 1
            state = state.next(_answer_of(response))
        else:
            self.misses += 1
            response = await proceed(request)
            if not state.entries_to_invalidate and not _reusable(response):
                return response  # nothing to forget, nothing worth storing: hishel need not look
            state = state.next(_answer_of(response))
        state = self._invalidated(state, key, superseded)
        if (
            isinstance(state, hishel.StoreAndUse)
            and response.status not in _TRANSIENT
            and not _directive(request, "no-store")
            and _reusable(response)
            and not is_stream(response)
        ):
            return self._store(request, key, response, state.response.headers)
        return response

    def _invalidated(self, state: Any, key: str, also: set[str]) -> Any:
        """The state after ``InvalidateEntries`` (the entries it names, and ``also``, forgotten)."""
        ids = set(also)
        while isinstance(state, self._hishel.InvalidateEntries):
            ids.update(entry_id.hex for entry_id in state.entry_ids)
            state = state.next()
        if ids:
            self.store.remove(key, ids)
        return state

    def _validated(
        self, state: Any, key: str, stored: Mapping[str, CachedResponse]
    ) -> tuple[Any, dict[str, CachedResponse]]:
        """After a ``304``: the stored responses it freshens updated (and returned by id), the
        others forgotten."""
        state = self._invalidated(state, key, set())
        refreshed: dict[str, CachedResponse] = {}
        if isinstance(state, self._hishel.NeedToBeUpdated):
            for updated in state.updating_entries:
                entry = refreshed[updated.id.hex] = _refreshed(stored[updated.id.hex], updated.response.headers)
                self.store.put(key, entry)
            state = state.next()
        return state, refreshed

    def _answer(self, request: Request, entry: CachedResponse, decided: hishel.Headers) -> Response:
        headers = [(name, value) for name, value in entry.headers if name.lower() != "age"]
        age = decided.get("age")
        if age is not None:
            headers.append(("Age", age))
        return kept_response(
            request,
            entry.status,
            headers,
            ((0.0, entry.body),),
            reason=entry.reason,
            http_version=entry.http_version,
            source="cache",
        )

    def _store(self, request: Request, key: str, response: Response, decided: hishel.Headers) -> Response:
        allowed = set(decided)  # hishel leaves out what may not be stored (no-cache="X", hop-by-hop)
        headers = tuple(
            (str(name), str(value))
            for name, value in response.headers.items()
            if name.lower() in allowed and name.lower() not in _NOT_KEPT
        )
        if "date" not in allowed:  # RFC 9110 §6.6.1: a cache adds the Date it received it at
            headers += (("Date", _http_date(time.time())),)
        vary = _vary(response, request)

        def done(body: bytes, _chunks: list[tuple[float, bytes]]) -> None:
            entry = CachedResponse(
                id=CachedResponse.new_id(),
                method=request.method,
                url=key,
                vary=vary,
                status=response.status,
                reason=response.reason,
                http_version=response.http_version,
                headers=headers,
                body=body,
                stored_at=time.time(),
            )
            self.store.put(key, entry)
            self.stored += 1

        return teed(response, done, keep_up_to=self.max_entry_size, whole_only=True)


def _memoize_hishel_parsers() -> None:
    """Remember hishel's parses of Cache-Control values and HTTP dates by their text (pure
    functions, run several times for each request on the few values a server sends): without
    it they were most of a hit's cost and a third of a miss's. Left as they are when hishel's
    insides are not where this looks for them."""
    try:
        from hishel._core import _spec
    except ImportError:
        return
    for name in ("parse_cache_control", "parse_date"):
        parse = getattr(_spec, name, None)
        if parse is not None and getattr(parse, "cache_info", None) is None:
            setattr(_spec, name, functools.lru_cache(maxsize=512)(parse))


# -- between kclient's models and hishel's -----------------------------------------------------
def _mode(request: Request) -> str:
    mode = request.attribute("cache", "use")
    if mode not in _MODES:
        raise InvalidRequestError(f"cache= takes {', '.join(map(repr, _MODES))}, not {mode!r}")
    return str(mode)


def _key(request: Request) -> str:
    return str(request.url.with_fragment(None))


def _directive(request: Request, name: str) -> bool:
    value = request.headers.get("Cache-Control")
    return value is not None and name in (part.strip().partition("=")[0].lower() for part in value.split(","))


def _asks_for_events(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("Accept", "")


def _reusable(response: Response) -> bool:
    """Could this response ever answer a later request? Not without freshness (explicit, or
    heuristic from Last-Modified) or a validator: such responses are not stored at all."""
    headers = response.headers
    if "ETag" in headers or "Last-Modified" in headers or "Expires" in headers:
        return True
    control = headers.get("Cache-Control", "").lower()
    return "max-age" in control or "s-maxage" in control or "stale-while-revalidate" in control


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name.lower(), []).append(value)
    return grouped


def _asked(request: Request, key: str, mode: str) -> hishel.Request:
    import hishel

    headers = _grouped(request.headers.items())
    if mode == "refresh":
        headers.setdefault("cache-control", []).append("no-cache")
    return hishel.Request(method=request.method, url=key, headers=hishel.Headers(headers))


def _answer_of(response: Response) -> hishel.Response:
    import hishel

    headers = _grouped(response.headers.items())
    return hishel.Response(status_code=response.status, headers=hishel.Headers(headers))


def _vary(response: Response, request: Request) -> tuple[tuple[str, str | None], ...]:
    names = [name.strip().lower() for value in response.headers.getall("Vary", ()) for name in value.split(",")]
    return tuple((name, vary_digest(_joined(request, name))) for name in names if name and name != "*")


def _joined(request: Request, name: str) -> str | None:
    values = request.headers.getall(name, ())
    return ", ".join(values) if values else None


def _selects(request: Request, entry: CachedResponse) -> bool:
    """Does ``request`` select the variant ``entry`` (the headers it varies on agree)?"""
    return all(vary_digest(_joined(request, name)) == digest for name, digest in entry.vary)


def _entry(entry: CachedResponse, request: Request) -> hishel.Entry:
    """``entry`` as hishel sees it; the request it answered has this request's values of the
    headers it varies on (only the variants ``request`` selects are shown to hishel)."""
    import uuid

    import hishel

    headers = {name: [value] for name, _ in entry.vary if (value := _joined(request, name)) is not None}
    return hishel.Entry(
        id=uuid.UUID(hex=entry.id),
        request=hishel.Request(method=entry.method, url=entry.url, headers=hishel.Headers(headers)),
        response=hishel.Response(status_code=entry.status, headers=hishel.Headers(_grouped(entry.headers))),
    )


def _refreshed(entry: CachedResponse, headers: hishel.Headers) -> CachedResponse:
    """``entry`` with the headers hishel freshened from a ``304`` (their names spelt as stored)."""
    import dataclasses

    spelt = {name.lower(): name for name, _ in entry.headers}
    pairs = tuple(
        (spelt.get(name, name.title()), value)
        for name in headers
        if name not in _NOT_KEPT
        for value in headers.get_list(name) or ()
    )
    return dataclasses.replace(entry, headers=pairs)


def _gateway_timeout(request: Request) -> Response:
    """RFC 9111 §5.2.1.7: ``only-if-cached`` with nothing stored fit to answer is a 504."""
    return kept_response(
        request,
        504,
        [("Content-Type", "text/plain; charset=utf-8")],
        ((0.0, b"HttpCache: nothing stored answers this request, and only-if-cached forbids the network.\n"),),
        reason="Gateway Timeout",
        http_version="HTTP/1.1",
        source="cache",
    )


@functools.lru_cache(maxsize=4)
def _http_date_at(second: int) -> str:
    from email.utils import formatdate

    return formatdate(second, usegmt=True)


def _http_date(seconds: float) -> str:
    return _http_date_at(int(seconds))
