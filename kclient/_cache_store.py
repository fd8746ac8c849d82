"""Where the HttpCache plugin keeps responses: in memory, or in a folder that outlives the kernel.

Both stores are bounded in bytes and forget the least recently used responses first. Entries
are kept by cache key (the URL), several per key (the variants a ``Vary`` header tells apart).

The folder store keeps one file per key, written whole to a temporary file and renamed over
the old one, so two kernels sharing a folder never read a torn file: the last writer of a key
wins (a variant may be lost, never corrupted). A thread of the store's own writes a moment
(``WRITE_BEHIND``) after an answer is stored, off the request's path; this process reads what
waits at once, other processes once it is written, and the client's close writes what is left.
A file that cannot be read (another version, a disk fault) is a miss and is removed. Eviction
scans the folder when the bytes written since the last scan could have passed the bound; a
kernel killed while writing leaves a temporary file that the next scan removes.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["CacheStore", "CachedResponse", "FolderStore", "MemoryStore", "vary_digest"]

#: The version of the folder store's files; a file of another version is a miss.
FORMAT = 1
_SUFFIX = ".kcache"
#: Seconds the writer waits after an answer is stored, so that a burst is written in one pass.
WRITE_BEHIND = 0.05
#: A file read is touched (its time made now, for eviction) when this process wrote another
#: since, or when it is older than this (ns).
_TOUCH_EVERY = 5_000_000_000
#: The share of ``max_size`` the folder store keeps in memory of what it read.
_RECENT_SHARE = 8
#: A temporary file older than this (seconds) was left by a writer that died.
_STALE_TEMPORARY = 60.0


def vary_digest(value: str | None) -> str | None:
    """What a store keeps of a request header a response varies on: a digest, so that a
    ``Vary: Authorization`` or ``Cookie`` never puts the credential itself in the store."""
    return None if value is None else hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """One stored response: the request it answered (method, URL, the digests of the headers
    it varies on) and the response (decoded body, without the transfer headers)."""

    id: str
    method: str
    url: str
    vary: tuple[tuple[str, str | None], ...]
    status: int
    reason: str
    http_version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    stored_at: float
    #: Bytes this entry takes, about (the body and the headers).
    size: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = sum(len(name) + len(value) + 4 for name, value in self.headers)
        object.__setattr__(self, "size", len(self.body) + headers + len(self.url) + 64)

    @staticmethod
    def new_id() -> str:
        """A random id, spelt as a UUID's hex (as hishel names entries)."""
        return os.urandom(16).hex()

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "url": self.url,
            "vary": [list(pair) for pair in self.vary],
            "status": self.status,
            "reason": self.reason,
            "version": self.http_version,
            "headers": [list(pair) for pair in self.headers],
            "body": self.body,
            "stored": self.stored_at,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> CachedResponse:
        return cls(
            id=str(data["id"]),
            method=str(data["method"]),
            url=str(data["url"]),
            vary=tuple((str(name), None if digest is None else str(digest)) for name, digest in data["vary"]),
            status=int(data["status"]),
            reason=str(data["reason"]),
            http_version=str(data["version"]),
            headers=tuple((str(name), str(value)) for name, value in data["headers"]),
            body=bytes(data["body"]),
            stored_at=float(data["stored"]),
        )


class CacheStore(Protocol):
    """What HttpCache needs of a store (kclient's two, or your own)."""

    max_size: int

    def entries(self, key: str) -> list[CachedResponse]:
        """The responses kept for ``key`` (a use: they become the most recently used)."""
        ...

    def put(self, key: str, entry: CachedResponse) -> None:
        """Keep ``entry`` under ``key``, replacing the one with the same ``id``."""
        ...

    def remove(self, key: str, ids: Collection[str]) -> None:
        """Forget the entries of ``key`` whose ``id`` is in ``ids``."""
        ...

    def clear(self) -> None:
        """Forget everything."""
        ...

    def close(self) -> None:
        """Called when the client closes: write what waits to be written."""
        ...

    def __len__(self) -> int:
        """The number of keys kept."""
        ...


def _replaced(entries: list[CachedResponse], entry: CachedResponse) -> list[CachedResponse]:
    return [*(kept for kept in entries if kept.id != entry.id), entry]


class MemoryStore:
    """Responses in this process's memory, at most ``max_size`` bytes."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._keys: OrderedDict[str, list[CachedResponse]] = OrderedDict()
        self.size = 0

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"<MemoryStore {len(self._keys)} key(s), {self.size} of {self.max_size} bytes>"

    def entries(self, key: str) -> list[CachedResponse]:
        entries = self._keys.get(key)
        if entries is None:
            return []
        self._keys.move_to_end(key)
        return list(entries)

    def put(self, key: str, entry: CachedResponse) -> None:
        self._set(key, _replaced(self._keys.get(key, []), entry))
        while self.size > self.max_size and len(self._keys) > 1:
            oldest = next(iter(self._keys))
            self._set(oldest, [])
        if self.size > self.max_size:  # one entry larger than the whole store
            self._set(key, [])

    def remove(self, key: str, ids: Collection[str]) -> None:
        entries = self._keys.get(key)
        if entries is not None:
            self._set(key, [entry for entry in entries if entry.id not in ids])

    def clear(self) -> None:
        self._keys.clear()
        self.size = 0

    def close(self) -> None:
        """Nothing to write."""

    def _set(self, key: str, entries: list[CachedResponse]) -> None:
        old = self._keys.pop(key, None)
        if old is not None:
            self.size -= sum(entry.size for entry in old)
        if entries:
            self._keys[key] = entries
            self.size += sum(entry.size for entry in entries)


class FolderStore:
    """Responses in files under ``folder``, at most ``max_size`` bytes; safe to share between
    processes (see the module docstring)."""

    def __init__(self, folder: Path, max_size: int) -> None:
        import msgpack  # hishel's own dependency: binary bodies as they are, fast both ways

        self._msgpack = msgpack
        self.folder = folder
        self.max_size = max_size
        self._warned = False
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            from ._errors import ConfigError

            raise ConfigError(f"the cache folder {folder} cannot be created: {exc}") from exc
        self._written_since_scan = 0
        self._scanned_size = self._evict()
        # Written behind by a thread of the store's own: what waits (and what is being written)
        # answers this process's reads, so it never misses what it has just stored.
        self._lock = threading.Lock()
        self._pending: dict[str, list[CachedResponse]] = {}
        self._writing: dict[str, list[CachedResponse]] = {}
        self._used: set[str] = set()
        #: What this process read of files that have not changed since: (signature, entries, size).
        self._recent: OrderedDict[str, tuple[tuple[int, int, int], list[CachedResponse], int]] = OrderedDict()
        self._recent_size = 0
        self._last_write_ns = 0
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._closed = False

    def __repr__(self) -> str:
        size = self._scanned_size + self._written_since_scan
        return f"<FolderStore {self.folder}: about {size} of {self.max_size} bytes>"

    def __len__(self) -> int:
        names = {entry.name for entry in self._files()}
        with self._lock:
            for layer in (self._writing, self._pending):  # the later layer wins
                for key, entries in layer.items():
                    (names.add if entries else names.discard)(self._file(key).name)
        return len(names)

    def _file(self, key: str) -> Path:
        return self.folder / (hashlib.sha256(key.encode()).hexdigest()[:40] + _SUFFIX)

    def _files(self) -> Iterator[os.DirEntry[str]]:
        try:
            with os.scandir(self.folder) as found:
                yield from (entry for entry in found if entry.name.endswith(_SUFFIX))
        except FileNotFoundError:
            return

    def _read(self, key: str) -> list[CachedResponse]:
        return self._read_file(key)[0]

    def _read_file(self, key: str) -> tuple[list[CachedResponse], os.stat_result | None]:
        """The entries of ``key``'s file and its ``stat`` (None: no file). A file this process
        has read and that has not changed since (same inode, size and time) is not read again."""
        path = self._file(key)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            self._forget_recent(key)
            return [], None
        except OSError as exc:
            self._warn(f"could not read {path.name}: {exc}")
            return [], None
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._recent.get(key)
            if known is not None and known[0] == signature:
                self._recent.move_to_end(key)
                return list(known[1]), stat
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return [], None
        except OSError as exc:
            self._warn(f"could not read {path.name}: {exc}")
            return [], None
        try:
            document = self._msgpack.unpackb(data)
            if document.get("format") != FORMAT or document.get("key") != key:
                raise ValueError(f"format {document.get('format')!r}")
            entries = [CachedResponse.from_wire(item) for item in document["entries"]]
        except Exception:  # torn by a disk fault, or another version's: a miss, and forgotten
            path.unlink(missing_ok=True)
            self._forget_recent(key)
            return [], None
        self._remember(key, signature, entries)
        return entries, stat

    def _remember(self, key: str, signature: tuple[int, int, int], entries: list[CachedResponse]) -> None:
        """Keep what ``key``'s file held, as read, within ``_RECENT_SHARE`` of ``max_size``."""
        size = sum(entry.size for entry in entries)
        with self._lock:
            self._forget_recent(key, locked=True)
            self._recent[key] = (signature, entries, size)
            self._recent_size += size
            while self._recent_size > self.max_size // _RECENT_SHARE and self._recent:
                _, (_, _, dropped) = self._recent.popitem(last=False)
                self._recent_size -= dropped

    def _forget_recent(self, key: str, *, locked: bool = False) -> None:
        if not locked:
            with self._lock:
                self._forget_recent(key, locked=True)
            return
        known = self._recent.pop(key, None)
        if known is not None:
            self._recent_size -= known[2]

    def _write(self, key: str, entries: list[CachedResponse]) -> None:
        path = self._file(key)
        if not entries:
            path.unlink(missing_ok=True)
            return
        document = {"format": FORMAT, "key": key, "entries": [entry.to_wire() for entry in entries]}
        data = self._msgpack.packb(document, use_bin_type=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(temporary, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            self._warn(f"could not write {path.name}: {exc}")
            return
        self._written_since_scan += len(data)
        self._last_write_ns = time.time_ns()

    def _warn(self, message: str) -> None:
        if not self._warned:  # once: a full disk must not flood the notebook
            self._warned = True
            warnings.warn(f"HttpCache: {message}; requests go on uncached", RuntimeWarning, stacklevel=2)

    def _current(self, key: str) -> list[CachedResponse] | None:
        """What this process stored for ``key`` and has not written yet (call under the lock)."""
        for layer in (self._pending, self._writing):
            entries = layer.get(key)
            if entries is not None:
                return list(entries)
        return None

    def entries(self, key: str) -> list[CachedResponse]:
        with self._lock:
            current = self._current(key)
            if current is not None:
                self._used.add(key)  # used before it was written: its file is touched once it is
        if current is not None:
            return current
        entries, stat = self._read_file(key)
        if stat is not None and (
            stat.st_mtime_ns < self._last_write_ns or time.time_ns() - stat.st_mtime_ns > _TOUCH_EVERY
        ):
            touched = time.time_ns()  # recently used: evicted last (to a few seconds)
            with suppress(OSError):
                os.utime(self._file(key), ns=(touched, touched))
                self._remember(key, (stat.st_ino, stat.st_size, touched), entries)
        return entries

    def put(self, key: str, entry: CachedResponse) -> None:
        with self._lock:
            current = self._current(key)
        self._later(key, _replaced(self._read(key) if current is None else current, entry))

    def remove(self, key: str, ids: Collection[str]) -> None:
        with self._lock:
            current = self._current(key)
        entries = self._read(key) if current is None else current
        kept = [entry for entry in entries if entry.id not in ids]
        if len(kept) != len(entries):
            self._later(key, kept)

    def _later(self, key: str, entries: list[CachedResponse]) -> None:
        with self._lock:
            self._pending[key] = entries
            closed = self._closed
            if self._writer is None and not closed:
                self._writer = threading.Thread(target=self._write_behind, name="kclient-cache-writer", daemon=True)
                self._writer.start()
        if closed:
            self.flush()
        else:
            self._wake.set()

    def _write_behind(self) -> None:
        while not self._closed:  # set before close() wakes the writer: seen after its last pass
            self._wake.wait()
            if not self._closed:
                time.sleep(WRITE_BEHIND)  # a burst of answers: one pass
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write now what waits to be written."""
        with self._lock:
            batch, self._pending = self._pending, {}
            self._writing.update(batch)
        for key, entries in batch.items():
            self._write(key, entries)
        with self._lock:
            used, self._used = self._used, set()
            for key, entries in batch.items():
                if self._writing.get(key) is entries:
                    del self._writing[key]
        for key in used:  # read while waiting: as recently used as the files read
            with suppress(OSError):
                os.utime(self._file(key))
        if self._scanned_size + self._written_since_scan > self.max_size:
            self._scanned_size = self._evict()
            self._written_since_scan = 0

    def close(self) -> None:
        """Write what waits and stop the writer (the store still works, writing at once)."""
        self._closed = True
        self._wake.set()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.join()
        self.flush()

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._writing.clear()
            self._recent.clear()
            self._recent_size = 0
        for entry in list(self._files()):
            Path(entry.path).unlink(missing_ok=True)
        self._scanned_size = self._written_since_scan = 0

    def _evict(self) -> int:
        """The folder's size, once the least recently used files are removed to bring it under
        nine tenths of ``max_size`` when it was over (one process evicts at a time where locks
        exist), and temporary files left by a dead writer."""
        with self._locked():
            now = time.time()
            files: list[tuple[float, int, str]] = []
            with os.scandir(self.folder) as found:
                for entry in found:
                    try:
                        stat = entry.stat()
                    except FileNotFoundError:
                        continue
                    if entry.name.endswith(".tmp") and now - stat.st_mtime > _STALE_TEMPORARY:
                        Path(entry.path).unlink(missing_ok=True)
                    elif entry.name.endswith(_SUFFIX):
                        files.append((stat.st_mtime, stat.st_size, entry.path))
            total = sum(size for _, size, _ in files)
            if total > self.max_size:
                files.sort()
                for _, size, path in files:
                    if total <= self.max_size * 0.9:
                        break
                    Path(path).unlink(missing_ok=True)
                    total -= size
            return total

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # Windows: evictions may overlap, which only removes a file twice
            yield
            return
        with open(self.folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
