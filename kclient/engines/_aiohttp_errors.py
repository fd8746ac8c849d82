"""The Aiohttp engine's exception mapping: aiohttp's (and aiohttp_socks') exceptions as kclient's.

:data:`EXCEPTION_MAP` is the engine's :class:`~._errors.ErrorMap` (the shared mechanism of
:mod:`kclient.engines._errors`), from aiohttp's exception types to kclient's, the most
specific type winning; :func:`kclient_error_for` refines it where aiohttp raises one type for
failures kclient tells apart (a timeout while connecting, a decoding error, a failed body
write), and :func:`map_exceptions` (``_translate`` inside the engine) raises the kclient error
``from`` the native one, naming the request with its secrets masked, and masks the request
aiohttp keeps in a response error. :mod:`kclient.engines.aiohttp` re-exports the public names.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import aiohttp.client_exceptions
import aiohttp.http
from yarl import URL

from .. import _errors as errors
from .._errors import (
    ConnectTimeout,
    DecodingError,
    KClientError,
    ProtocolError,
    TLSError,
    WriteError,
    find_cause,
)
from .._models import Request
from .._redact import mask_header, mask_url
from .._tls import find_ssl_error
from ._errors import ErrorMap, failure

__all__ = ["EXCEPTION_MAP", "kclient_error_for", "map_exceptions"]


def _aiohttp_entries(*pairs: tuple[str, type[KClientError]]) -> tuple[tuple[type[Exception], type[KClientError]], ...]:
    """``(aiohttp.<name>, kclient class)`` for the names this aiohttp version has (some are recent)."""
    found = []
    for name, mapped in pairs:
        native = getattr(aiohttp, name, None) or getattr(aiohttp.client_exceptions, name, None)
        if native is not None:
            found.append((native, mapped))
    return tuple(found)


def _socks_entries() -> tuple[tuple[type[Exception], type[KClientError]], ...]:
    """aiohttp_socks' errors, raised while the SOCKS connector opens a connection (when it is installed)."""
    try:
        import aiohttp_socks
    except ImportError:
        return ()
    return (
        (aiohttp_socks.ProxyTimeoutError, errors.ConnectTimeout),
        (aiohttp_socks.ProxyConnectionError, errors.ProxyError),
        (aiohttp_socks.ProxyError, errors.ProxyError),
    )


#: aiohttp (and aiohttp_socks) exception -> kclient exception; the most specific type wins (see
#: ``ErrorMap``). ``aiohttp.ClientError`` is the catch-all; a bare ``TimeoutError`` is a ConnectTimeout when
#: it was raised while connecting, else a SocketTimeout (see :func:`kclient_error_for`), and a
#: ``ClientPayloadError`` caused by a content-encoding error is a DecodingError.
EXCEPTION_MAP = ErrorMap(
    (
        *_aiohttp_entries(
            # timeouts (all of them are ServerTimeoutErrors, which are TimeoutErrors)
            ("ConnectionTimeoutError", errors.ConnectTimeout),
            ("SocketTimeoutError", errors.SocketTimeout),
            ("ServerTimeoutError", errors.SocketTimeout),
            # TLS (aiohttp's SSL errors are ssl.SSLError subclasses themselves)
            ("ClientConnectorCertificateError", errors.TLSError),
            ("ClientConnectorSSLError", errors.TLSError),
            ("ClientSSLError", errors.TLSError),
            ("ServerFingerprintMismatch", errors.TLSError),
            # opening a connection
            ("ClientProxyConnectionError", errors.ProxyError),
            ("ClientConnectorDNSError", errors.ConnectError),
            ("UnixClientConnectorError", errors.ConnectError),
            ("ClientConnectorError", errors.ConnectError),
            # an open connection that failed
            ("ClientConnectionResetError", errors.WriteError),
            ("ClientOSError", errors.ReadError),
            ("ServerDisconnectedError", errors.ReadError),
            ("ServerConnectionError", errors.ReadError),
            ("ClientConnectionError", errors.ReadError),
            ("UploadAbortedError", errors.WriteError),
            # answers that break HTTP
            ("ClientPayloadError", errors.ProtocolError),
            ("ClientHttpProxyError", errors.ProxyError),
            ("ContentTypeError", errors.DecodingError),
            ("WSServerHandshakeError", errors.ProtocolError),
            ("TooManyRedirects", errors.ProtocolError),
            ("ClientResponseError", errors.ProtocolError),
            ("InvalidUrlRedirectClientError", errors.ProtocolError),
            ("NonHttpUrlRedirectClientError", errors.ProtocolError),
            ("RedirectClientError", errors.ProtocolError),
            # requests that cannot be sent
            ("InvalidUrlClientError", errors.InvalidRequestError),
            ("InvalidURL", errors.InvalidRequestError),
            ("NonHttpUrlClientError", errors.InvalidRequestError),
            # the catch-all of the client's errors
            ("ClientError", errors.TransportError),
            # exported, outside ClientError (websockets, multipart, stream internals)
            ("WebSocketError", errors.ProtocolError),
            ("WSMessageTypeError", errors.ProtocolError),
            ("EofStream", errors.ReadError),
            ("BadContentDispositionHeader", errors.ProtocolError),
            ("BadContentDispositionParam", errors.ProtocolError),
        ),
        (aiohttp.http.HttpProcessingError, errors.ProtocolError),
        *_socks_entries(),
        (asyncio.TimeoutError, errors.SocketTimeout),
    )
)
_NATIVE = EXCEPTION_MAP.native
#: aiohttp's exceptions for a failed TLS handshake, whose native ``ssl`` error names the reason.
_TLS_CLASSES = tuple(native for native, mapped in EXCEPTION_MAP.items() if mapped is TLSError)


def kclient_error_for(exc: BaseException, *, reading: bool = False) -> type[KClientError]:
    """The kclient exception class that stands for the aiohttp exception ``exc``.

    ``reading`` is true while a response body is read (a bare timeout is then a socket timeout).
    """
    native, mapped = EXCEPTION_MAP.entry(exc)
    if native is None:
        return mapped
    if native is asyncio.TimeoutError and not reading and _raised_while_connecting(exc):
        return ConnectTimeout
    if mapped is ProtocolError and _decoding_failed(exc):
        return DecodingError
    if type(exc) in _WRITE_FAILURE_CLASSES and str(exc).startswith(_WRITE_FAILURES):
        return WriteError
    return mapped


#: How aiohttp's messages begin when writing the request body failed. Matched by text because
#: aiohttp has no type for it: it raises the ClientOSError and ClientConnectionError it raises
#: for reading too (``ClientRequest._write_bytes``), the OSError behind either being the same.
_WRITE_FAILURES = ("Can not write request body", "Failed to send bytes")
_WRITE_FAILURE_CLASSES = (aiohttp.ClientOSError, aiohttp.ClientConnectionError)


def _raised_while_connecting(exc: BaseException) -> bool:
    """True when the traceback of ``exc`` goes through aiohttp's (or aiohttp_socks') connector."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("aiohttp.connector", "aiohttp_socks")):
            return True
        tb = tb.tb_next
    return False


def _decoding_failed(exc: BaseException) -> bool:
    """True for a payload error caused by a content-encoding (decompression) error."""
    from aiohttp.http_exceptions import ContentEncodingError

    return find_cause(exc, ContentEncodingError) is not None


def _native_ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The ``ssl`` module's error behind an aiohttp TLS error (which is an SSLError subclass itself)."""
    current: BaseException | None = exc
    while isinstance(current, aiohttp.ClientError):
        current = current.__cause__ or current.__context__
    return None if current is None else find_ssl_error(current)


def _translate(exc: BaseException, request: Request, *, reading: bool = False) -> KClientError:
    """The kclient error for ``exc``, its message naming the request (credentials masked).

    The caller raises it ``from exc``.
    """
    _scrub_request_info(exc)
    ssl_error = _native_ssl_error(exc) if isinstance(exc, _TLS_CLASSES) else None
    return failure(kclient_error_for(exc, reading=reading), exc, request, ssl_error=ssl_error)


@contextmanager
def map_exceptions(request: Request, *, reading: bool = False) -> Iterator[None]:
    """Re-raise aiohttp's exceptions as kclient's, naming the request (secrets masked)."""
    try:
        yield
    except _NATIVE as exc:
        raise _translate(exc, request, reading=reading) from exc


def _scrub_request_info(exc: BaseException) -> None:
    """Mask the request aiohttp keeps in a response error (the ``__cause__`` kept): its URL's
    secrets, and secret headers such as Proxy-Authorization, which its repr would show."""
    if not isinstance(exc, aiohttp.ClientResponseError) or exc.request_info is None:
        return
    from multidict import CIMultiDict, CIMultiDictProxy

    info = exc.request_info
    headers = CIMultiDictProxy(CIMultiDict((name, mask_header(name, value)) for name, value in info.headers.items()))
    masked = aiohttp.RequestInfo(URL(mask_url(info.url)), info.method, headers, URL(mask_url(info.real_url)))
    exc.request_info = masked
    exc.args = (masked, exc.history)
