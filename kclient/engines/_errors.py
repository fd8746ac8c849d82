"""How every engine turns its library's exceptions into kclient's: one mechanism, one message format.

An engine declares an :class:`ErrorMap`, a table from its library's exception types to
kclient's. The most specific type wins: an exception is looked up along its class's MRO, so
the entry of a subclass beats the entry of any of its bases, whatever the order the table was
written in, and a class with no entry of its own takes its nearest base's. Classification is
by type; an engine refines it by something else (the message text, the traceback) only where
its library raises one type for failures kclient tells apart, and says why where it does.

:func:`failure` makes the kclient error: its message names the request (``METHOD url``, the
URL masked) and the library's message with credentials masked, and the native exception is
kept as ``__cause__`` (the engines also raise it ``from`` the native one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from .._describe import describe
from .._errors import InvalidRequestError, KClientError, TLSError, TransportError
from .._redact import mask_credentials
from .._tls import tls_error

if TYPE_CHECKING:
    import ssl

    from .._models import Request

__all__ = ["ErrorMap", "failure", "unsendable_header", "unsendable_method"]


class ErrorMap(Mapping[type[BaseException], type[KClientError]]):
    """Native exception type -> kclient exception type; the most specific type wins (MRO order).

    A read-only mapping (``dict(error_map)`` is the table). ``native`` is the tuple of its types,
    for ``except`` clauses; ``error_for(exc)`` is the kclient class of ``exc``, ``default`` when
    no class of its MRO has an entry. Of two entries for one type, the first is kept.
    """

    __slots__ = ("_table", "default", "native")

    def __init__(
        self,
        entries: Iterable[tuple[type[BaseException], type[KClientError]]],
        *,
        default: type[KClientError] = TransportError,
    ) -> None:
        table: dict[type[BaseException], type[KClientError]] = {}
        for native, mapped in entries:
            table.setdefault(native, mapped)
        self._table = table
        self.default = default
        self.native: tuple[type[BaseException], ...] = tuple(table)

    def entry(self, exc: BaseException) -> tuple[type[BaseException] | None, type[KClientError]]:
        """``(the type whose entry maps exc, the kclient class)``: the first class of ``type(exc).__mro__``
        with an entry; ``(None, default)`` when none has one."""
        table = self._table
        for cls in type(exc).__mro__:
            mapped = table.get(cls)
            if mapped is not None:
                return cls, mapped
        return None, self.default

    def error_for(self, exc: BaseException) -> type[KClientError]:
        """The kclient exception class that stands for ``exc``."""
        return self.entry(exc)[1]

    def __getitem__(self, native: type[BaseException]) -> type[KClientError]:
        return self._table[native]

    def __iter__(self) -> Iterator[type[BaseException]]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"<ErrorMap of {len(self._table)} types, default {self.default.__name__}>"


def failure(
    error_class: type[KClientError],
    exc: BaseException,
    request: Request,
    *,
    ssl_error: ssl.SSLError | None = None,
    scrub: Callable[[str], str] = mask_credentials,
) -> KClientError:
    """The ``error_class`` error for ``exc``, raised by ``request``: ``"GET <url> failed: <why>"``.

    With ``ssl_error`` (the ``ssl`` module's error behind a failed handshake) it is a ``TLSError``
    whose reason names the host and why verification failed. ``scrub`` masks the reason
    (credentials in URLs by default; an engine adds the secrets it knows). ``exc`` is the ``__cause__``.
    """
    if ssl_error is not None:
        error_class, detail = TLSError, str(tls_error(request.url.host or "", ssl_error))
    else:
        detail = str(exc) or type(exc).__name__
    error = error_class(f"{describe(request)} failed: {scrub(detail)}")
    error.__cause__ = exc
    return error


def unsendable_method(request: Request) -> InvalidRequestError:
    """The error for a method that is not an RFC 9110 token (``_syntax.is_token``): never sent."""
    return InvalidRequestError(f"Invalid HTTP method {request.method!r}; the request was not sent.")


def unsendable_header(request: Request, name: str) -> InvalidRequestError:
    """The error for a header whose name is not a token or whose value holds CR, LF or NUL: never sent."""
    return InvalidRequestError(
        f"Header {name!r} is not a valid name or its value contains CR, LF or NUL; {describe(request)} was not sent."
    )
