"""An origin for the HttpCache tests (ASGI, served by hypercorn): each answer's caching headers
come from the query, and the app counts what reached it, so a test tells a hit from a miss.

``GET /r/NAME?cc=max-age%3D60&etag=1&lm=3600&age=120&vary=Accept&expires=60&status=200``:

* ``cc``: the Cache-Control header; ``expires``: an Expires header that many seconds ahead
  (negative: behind); ``lm``: a Last-Modified that many seconds before the app started; ``age``: the Date header
  that many seconds ago (a response already that old); ``vary``: the Vary header;
  ``cookie``: a Set-Cookie header; ``gzip=1``: the body gzip-encoded; ``size``: a body of that
  many bytes; ``status``: the status.
* ``etag=1``: an ETag ``"NAME-VERSION"``; a request whose If-None-Match (or If-Modified-Since,
  with ``lm``) still matches gets ``304``.
* The body is ``NAME vVERSION`` (``change(NAME)`` bumps it: the resource changed), and with
  ``echo=1`` the request's values of the headers in ``vary``. Unsafe methods on ``/r/NAME`` answer 204 and count too.
* ``GET /moved/NAME?cc=...`` answers ``301`` to ``/r/NAME`` with those headers.
"""

from __future__ import annotations

import gzip
import time
from collections import Counter
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs


class CacheOrigin:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()
        self.requests: list[dict[str, str]] = []
        #: Last-Modified times count back from here, so that they do not move between two requests.
        self.started = time.time()

    def change(self, name: str) -> None:
        """The resource ``name`` changed: a new version, a new ETag."""
        self.versions[name] += 1

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while True:  # the request body, if any
            message = await receive()
            if not message.get("more_body"):
                break
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        query = {key: values[-1] for key, values in parse_qs(scope["query_string"].decode()).items()}
        kind, _, name = scope["path"].strip("/").partition("/")
        self.hits[name] += 1
        self.requests.append(headers)
        status, answer, body = self._answer(scope["method"], kind, name, query, headers)
        await send({"type": "http.response.start", "status": status, "headers": answer})
        await send({"type": "http.response.body", "body": body})

    def _answer(
        self, method: str, kind: str, name: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        now = time.time()
        answer: list[tuple[str, str]] = [("Date", formatdate(now - float(query.get("age", 0)), usegmt=True))]
        if "cc" in query:
            answer.append(("Cache-Control", query["cc"]))
        if "expires" in query:
            answer.append(("Expires", formatdate(now + float(query["expires"]), usegmt=True)))
        if "vary" in query:
            answer.append(("Vary", query["vary"]))
        if "cookie" in query:
            answer.append(("Set-Cookie", query["cookie"]))
        etag = f'"{name}-{self.versions[name]}"'
        if query.get("etag"):
            answer.append(("ETag", etag))
        modified = None
        if "lm" in query:
            modified = formatdate(self.started - float(query["lm"]) + self.versions[name], usegmt=True)
            answer.append(("Last-Modified", modified))
        if method not in ("GET", "HEAD"):
            return 204, _encoded(answer), b""
        if kind == "moved":
            answer.append(("Location", f"/r/{name}"))
            return 301, _encoded(answer), b""
        if "if-none-match" in headers or "if-modified-since" in headers:
            self.conditional[name] += 1
            if (query.get("etag") and headers.get("if-none-match") == etag) or (
                "if-none-match" not in headers and modified is not None and headers.get("if-modified-since") == modified
            ):
                return 304, _encoded(answer), b""
        fields = query.get("vary", "").split(",") if query.get("echo") else []
        varied = " ".join(headers.get(field.strip().lower(), "-") for field in fields if field)
        body = f"{name} v{self.versions[name]} {varied}".strip().encode()
        if "size" in query:
            body = (body + b" ") * (int(query["size"]) // (len(body) + 1) + 1)
            body = body[: int(query["size"])]
        answer.append(("Content-Type", "text/plain; charset=utf-8"))
        if query.get("gzip"):
            body = gzip.compress(body)
            answer.append(("Content-Encoding", "gzip"))
        if method == "HEAD":
            answer.append(("Content-Length", str(len(body))))
            body = b""
        return int(query.get("status", 200)), _encoded(answer), body


def _encoded(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode()) for name, value in headers]
