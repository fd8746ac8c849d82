"""Errors: urllib3's, http.client's and the OS's exceptions translated into kclient's tree, through
``EXCEPTION_MAP`` (the most specific native type wins), after unwrapping urllib3's ``ProtocolError`` and
``MaxRetryError``; ``map_exceptions`` re-raises each as the kclient error naming the request (secrets
masked), the original kept as ``__cause__``."""

from __future__ import annotations

import http.client
import socket
import ssl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from email.errors import MessageDefect
from functools import partial

import urllib3.exceptions as u3

from ... import _errors as errors
from ..._errors import ConnectError, KClientError, ProxyError, TLSError, find_cause
from ..._models import Request
from ..._redact import MASK, mask_credentials
from ..._tls import find_ssl_error
from .._errors import ErrorMap, failure
from ._worker import _BodyFailed

__all__ = ["EXCEPTION_MAP", "kclient_error_for", "map_exceptions", "translate"]

#: urllib3, http.client and OS exceptions -> kclient exceptions; the most specific type wins (see
#: ``ErrorMap``). urllib3's ``ProtocolError`` and ``MaxRetryError`` are first translated by what they wrap.
EXCEPTION_MAP = ErrorMap(
    (
        # urllib3: connecting
        (u3.NameResolutionError, errors.ConnectError),
        (u3.NewConnectionError, errors.ConnectError),  # a subclass of ConnectTimeoutError, but a refusal
        (u3.ConnectTimeoutError, errors.ConnectTimeout),
        (u3.ReadTimeoutError, errors.SocketTimeout),
        (u3.TimeoutStateError, errors.KClientTimeoutError),  # a Timeout object used in the wrong state
        (u3.TimeoutError, errors.KClientTimeoutError),
        (u3.SSLError, errors.TLSError),
        (u3.ProxySchemeUnknown, errors.ConfigError),
        (u3.ProxySchemeUnsupported, errors.ConfigError),
        (u3.ProxyError, errors.ProxyError),
        (u3.EmptyPoolError, errors.PoolTimeout),  # no connection free in a blocking pool
        (u3.ClosedPoolError, errors.TransportError),  # the engine was closed under the request
        (u3.FullPoolError, errors.ConnectError),
        (u3.HostChangedError, errors.InvalidRequestError),
        (u3.MaxRetryError, errors.TransportError),  # retries are off; translated by its reason when it has one
        # urllib3: the answer
        (u3.ResponseNotChunked, errors.ProtocolError),
        (u3.InvalidChunkLength, errors.ProtocolError),
        (u3.IncompleteRead, errors.ProtocolError),
        (u3.ProtocolError, errors.ProtocolError),  # translated by what it wraps when it wraps something
        (u3.HeaderParsingError, errors.ProtocolError),
        (u3.InvalidHeader, errors.ProtocolError),
        (u3.ResponseError, errors.ProtocolError),
        (u3.DecodeError, errors.DecodingError),
        (u3.BodyNotHttplibCompatible, errors.ReadError),
        # urllib3: the request
        (u3.UnrewindableBodyError, errors.InvalidRequestError),
        (u3.LocationParseError, errors.InvalidRequestError),
        (u3.URLSchemeUnknown, errors.InvalidRequestError),
        (u3.LocationValueError, errors.InvalidRequestError),
        # urllib3's warnings, raised only where a warnings filter turns them into errors
        (u3.SecurityWarning, errors.TLSError),
        (u3.DependencyWarning, errors.ConfigError),
        (u3.HTTPWarning, errors.TransportError),
        (u3.HTTPError, errors.TransportError),
        # http.client, which urllib3 wraps but may let through
        (http.client.RemoteDisconnected, errors.ReadError),  # a ConnectionResetError and a BadStatusLine
        (http.client.IncompleteRead, errors.ProtocolError),
        (http.client.LineTooLong, errors.ProtocolError),
        (http.client.BadStatusLine, errors.ProtocolError),
        (http.client.InvalidURL, errors.InvalidRequestError),
        (http.client.ImproperConnectionState, errors.ReadError),
        (http.client.HTTPException, errors.ProtocolError),
        (MessageDefect, errors.ProtocolError),
        # the OS and the ssl module
        (ssl.SSLError, errors.TLSError),
        (ConnectionRefusedError, errors.ConnectError),
        (BrokenPipeError, errors.WriteError),
        (ConnectionError, errors.ReadError),  # reset, aborted
        (TimeoutError, errors.SocketTimeout),  # socket.timeout
        (socket.gaierror, errors.ConnectError),
        (OSError, errors.TransportError),
        # http.client refuses a method, URL or header it cannot send
        (ValueError, errors.InvalidRequestError),
    )
)
_NATIVE = EXCEPTION_MAP.native


def _wrapped(exc: BaseException) -> BaseException | None:
    """The error a wrapping urllib3 error stands for: a ProtocolError's cause, a MaxRetryError's reason."""
    if isinstance(exc, u3.MaxRetryError):
        return exc.reason
    if (
        isinstance(exc, u3.ProtocolError)
        and not isinstance(exc, u3.ResponseNotChunked)
        and len(exc.args) > 1
        and isinstance(exc.args[1], BaseException)
    ):
        return exc.args[1]
    return None


def kclient_error_for(exc: BaseException) -> type[KClientError]:
    """The kclient exception class that stands for ``exc`` (a urllib3, http.client or OS error).

    A connection error caused by the SOCKS proxy (a refused handshake, wrong credentials, a proxy
    that is not there) is a ``ProxyError``: urllib3 reports those as ``NewConnectionError``.
    """
    original = exc
    for _ in range(8):  # wrappers are never deeply nested; the bound guards against a cycle
        inner = _wrapped(exc)
        if inner is None:
            break
        exc = inner
    mapped = EXCEPTION_MAP.error_for(exc)
    if mapped is ConnectError and _socks_error_in(original):
        return ProxyError
    return mapped


def _socks_error_in(exc: BaseException) -> bool:
    """A PySocks ``ProxyError`` is behind ``exc`` (in its cause or context chain)."""
    socks = sys.modules.get("socks")  # not imported: no SOCKS proxy was used, so none can be behind it
    socks_error = getattr(socks, "ProxyError", None)
    if not isinstance(socks_error, type):
        return False
    return find_cause(exc, socks_error) is not None


def _ssl_error_in(exc: BaseException) -> ssl.SSLError | None:
    found = find_ssl_error(exc)
    if found is None:
        found = next((arg for arg in exc.args if isinstance(arg, ssl.SSLError)), None)
    return found


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    text = mask_credentials(text)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def translate(exc: BaseException, request: Request, secrets: tuple[str, ...] = ()) -> KClientError:
    """The kclient error for ``exc`` raised by ``request``: its message names the request, secrets masked."""
    error_class = kclient_error_for(exc)
    ssl_error = _ssl_error_in(exc) if error_class is TLSError else None
    return failure(error_class, exc, request, ssl_error=ssl_error, scrub=partial(_scrub, secrets=secrets))


@contextmanager
def map_exceptions(request: Request, *, secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """Re-raise urllib3's, http.client's and the OS's exceptions as kclient's, naming the request.

    The native exception is kept as ``__cause__``; ``secrets`` (proxy passwords) never reach a message.
    """
    try:
        yield
    except (KClientError, _BodyFailed):
        raise
    except _NATIVE as exc:
        raise translate(exc, request, secrets) from exc
