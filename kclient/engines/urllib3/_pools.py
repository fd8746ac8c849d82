"""urllib3's connection pools as this engine uses them: every pool (HTTP, HTTPS and, defined on first use
because they import PySocks, the SOCKS ones) tells the worker thread's ``_Call`` which connection it takes,
connects or gives back, so a cancellation shuts the right socket down, and its connections skip interim
1xx answers (103 Early Hints)."""

from __future__ import annotations

import http.client
from functools import cache
from typing import TYPE_CHECKING, TypeVar, cast

import urllib3

from ._worker import _current_call

if TYPE_CHECKING:
    from urllib3._base_connection import BaseHTTPConnection

__all__ = ["_POOLS", "_socks_pools"]

T = TypeVar("T")

# -- urllib3 pools that tell the call about their connections ----------------------------------


class _InterimSkippingResponse(http.client.HTTPResponse):
    """http.client's response, which also skips interim 1xx answers (103 Early Hints...).

    http.client skips 100 Continue only and would take a 103 for the answer, leaving the real
    one unread on the connection. 101 Switching Protocols is an answer, not skipped.
    """

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if status in (100, 101) or not 100 <= status < 200:
                return version, status, reason
            http.client.parse_headers(self.fp)  # the interim answer's headers: dropped


def _new_connection(conn: T) -> T:
    cast(http.client.HTTPConnection, conn).response_class = _InterimSkippingResponse
    return conn


def _taken(conn: T) -> T:
    call = _current_call()
    if call is not None:
        call.took(cast("BaseHTTPConnection", conn))
    return conn


def _validate(conn: BaseHTTPConnection) -> None:
    """Connect now (as HTTPSConnectionPool does), then tell the call the connection's socket.

    HTTPSConnectionPool would also warn about unverified TLS, which only ``https.verify=False``
    (asked for, so not warned about) allows here.
    """
    if conn.is_closed:
        conn.connect()
    call = _current_call()
    if call is not None:
        call.connected(conn)


class _Tracked(urllib3.HTTPConnectionPool):
    """What every pool of this engine adds: interim answers skipped, its connections known to the call."""

    def _new_conn(self) -> BaseHTTPConnection:
        return _new_connection(super()._new_conn())

    def _get_conn(self, timeout: float | None = None) -> BaseHTTPConnection:
        return _taken(super()._get_conn(timeout))

    def _validate_conn(self, conn: BaseHTTPConnection) -> None:
        _validate(conn)

    def _put_conn(self, conn: BaseHTTPConnection | None) -> None:
        call = _current_call()
        if call is not None and conn is not None:
            call.released(conn)
        super()._put_conn(conn)


class _HTTPPool(_Tracked):
    pass


class _HTTPSPool(_Tracked, urllib3.HTTPSConnectionPool):  # type: ignore[misc]
    pass


_POOLS: dict[str, type[urllib3.HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


@cache
def _socks_pools() -> dict[str, type[urllib3.HTTPConnectionPool]]:
    """The SOCKS pools, defined on first use (importing urllib3.contrib.socks imports PySocks)."""
    from urllib3.contrib.socks import SOCKSHTTPConnectionPool, SOCKSHTTPSConnectionPool

    class _SOCKSHTTPPool(_Tracked, SOCKSHTTPConnectionPool):
        pass

    class _SOCKSHTTPSPool(_Tracked, SOCKSHTTPSConnectionPool):  # type: ignore[misc]
        pass

    return {"http": _SOCKSHTTPPool, "https": _SOCKSHTTPSPool}
