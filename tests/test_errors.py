"""The exception tree: one root, and the builtin each error also is."""

from __future__ import annotations

import pytest

import kclient
from kclient import _errors

ALL_ERRORS = [getattr(_errors, name) for name in _errors.__all__]

#: error -> the builtin exceptions it must also be (so plain ``except`` clauses keep working).
BUILTINS: dict[type[BaseException], tuple[type[BaseException], ...]] = {
    kclient.ClientClosedError: (RuntimeError,),
    kclient.ConfigError: (ValueError,),
    kclient.EngineNotFoundError: (ValueError, LookupError),
    kclient.UnsupportedSettingError: (ValueError,),
    kclient.InvalidRequestError: (ValueError,),
    kclient.DecodingError: (ValueError,),
    kclient.TransportError: (OSError,),
    kclient.ConnectError: (ConnectionError, OSError),
    kclient.TLSError: (ConnectionError, OSError),
    kclient.ProxyError: (OSError,),
    kclient.ProtocolError: (OSError,),
    kclient.ReadError: (OSError,),
    kclient.WriteError: (OSError,),
    kclient.KClientTimeoutError: (TimeoutError, OSError),
    kclient.ConnectTimeout: (TimeoutError,),
    kclient.RequestTimeout: (TimeoutError,),
    kclient.SocketTimeout: (TimeoutError,),
    kclient.ResponseNotReadError: (RuntimeError,),
    kclient.UnhandledRequestError: (LookupError,),
    kclient.UnrecordedRequestError: (LookupError,),
}

#: error -> its kclient parent.
PARENTS: dict[type[BaseException], type[BaseException]] = {
    kclient.ClientClosedError: kclient.KClientError,
    kclient.ClientCancelledError: kclient.KClientError,
    kclient.ConfigError: kclient.KClientError,
    kclient.EngineNotFoundError: kclient.ConfigError,
    kclient.UnsupportedSettingError: kclient.ConfigError,
    kclient.InvalidRequestError: kclient.KClientError,
    kclient.TransportError: kclient.KClientError,
    kclient.ConnectError: kclient.TransportError,
    kclient.TLSError: kclient.ConnectError,
    kclient.ProxyError: kclient.TransportError,
    kclient.ProtocolError: kclient.TransportError,
    kclient.ReadError: kclient.TransportError,
    kclient.WriteError: kclient.TransportError,
    kclient.KClientTimeoutError: kclient.TransportError,
    kclient.ConnectTimeout: kclient.KClientTimeoutError,
    kclient.PoolTimeout: kclient.ConnectTimeout,
    kclient.RequestTimeout: kclient.KClientTimeoutError,
    kclient.SocketTimeout: kclient.KClientTimeoutError,
    kclient.ResponseError: kclient.KClientError,
    kclient.RedirectResponseError: kclient.ResponseError,
    kclient.TooManyRedirectsError: kclient.RedirectResponseError,
    kclient.ClientResponseError: kclient.ResponseError,
    kclient.ServerResponseError: kclient.ResponseError,
    kclient.ResponseNotReadError: kclient.KClientError,
    kclient.DecodingError: kclient.KClientError,
    kclient.UnhandledRequestError: kclient.KClientError,
    kclient.ResponseTooLargeError: kclient.KClientError,
    kclient.EventStreamError: kclient.KClientError,
    kclient.WebSocketError: kclient.KClientError,
    kclient.WebSocketHandshakeError: kclient.WebSocketError,
    kclient.WebSocketClosedError: kclient.WebSocketError,
    kclient.WebSocketProtocolError: kclient.WebSocketError,
    kclient.CassetteError: kclient.KClientError,
    kclient.UnrecordedRequestError: kclient.CassetteError,
}

#: The keyword arguments an error needs beside its message.
DETAILS: dict[type[BaseException], dict[str, object]] = {
    kclient.ResponseTooLargeError: {"limit_name": "max_body_size", "limit": 10, "url": "http://mock.test/"},
    kclient.WebSocketHandshakeError: {"response": None, "url": "ws://mock.test/"},
    kclient.WebSocketClosedError: {"code": 4001, "reason": "bye"},
    kclient.UnrecordedRequestError: {"request": "GET http://mock.test/b", "closest": "GET http://mock.test/a"},
}


def make(error: type[BaseException], message: str) -> BaseException:
    if issubclass(error, kclient.ResponseError):
        return error(message, response=None)  # type: ignore[arg-type]
    return error(message, **DETAILS.get(error, {}))


def test_the_tables_cover_every_error() -> None:
    assert set(PARENTS) | {kclient.KClientError} == set(ALL_ERRORS)


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: e.__name__)
def test_every_error_is_a_kclient_error(error: type[BaseException]) -> None:
    assert issubclass(error, kclient.KClientError)
    assert issubclass(error, Exception)
    assert getattr(kclient, error.__name__) is error
    assert error.__doc__


@pytest.mark.parametrize("error", list(PARENTS), ids=lambda e: e.__name__)
def test_parent(error: type[BaseException]) -> None:
    assert PARENTS[error] in error.__mro__[1:]


@pytest.mark.parametrize(("error", "builtins"), list(BUILTINS.items()), ids=lambda e: getattr(e, "__name__", ""))
def test_leaves_are_also_the_matching_builtin(
    error: type[BaseException], builtins: tuple[type[BaseException], ...]
) -> None:
    for builtin in builtins:
        assert issubclass(error, builtin)


@pytest.mark.parametrize(
    ("error", "not_a"),
    [
        (kclient.ClientCancelledError, RuntimeError),
        (kclient.ClientCancelledError, OSError),
        (kclient.ResponseError, ValueError),
        (kclient.ResponseError, OSError),
        (kclient.ConfigError, OSError),
        (kclient.TransportError, ValueError),
        (kclient.ConnectError, TimeoutError),
        (kclient.ProxyError, ConnectionError),
    ],
)
def test_errors_are_not_builtins_they_do_not_mean(error: type[BaseException], not_a: type[BaseException]) -> None:
    assert not issubclass(error, not_a)


def test_the_client_cancelled_error_is_not_a_cancellation() -> None:
    import asyncio

    assert not issubclass(kclient.ClientCancelledError, asyncio.CancelledError)
    assert issubclass(kclient.ClientCancelledError, Exception)


def test_a_kclient_timeout_is_caught_by_except_timeout_error() -> None:
    with pytest.raises(TimeoutError):
        raise kclient.RequestTimeout("slow")
    with pytest.raises(kclient.KClientError):
        raise kclient.ConnectTimeout("slow")


@pytest.mark.parametrize(
    "error",
    [e for e in ALL_ERRORS if issubclass(e, kclient.TransportError)],
    ids=lambda e: e.__name__,
)
def test_transport_error_text_is_the_message(error: type[kclient.TransportError]) -> None:
    exc = error("GET http://mock.test/ failed: connection reset")
    assert str(exc) == "GET http://mock.test/ failed: connection reset"
    assert exc.args == ("GET http://mock.test/ failed: connection reset",)
    # OSError would read two arguments as (errno, strerror); kclient keeps one message.
    assert exc.errno is None
    assert str(error()) == ""


def test_errors_keep_their_cause() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "refused")
        except ConnectionRefusedError as native:
            raise kclient.ConnectError("GET http://mock.test/ failed") from native
    except kclient.ConnectError as exc:
        assert isinstance(exc.__cause__, ConnectionRefusedError)


def test_response_errors_carry_their_response() -> None:
    sentinel = object()
    exc = kclient.ClientResponseError("Client error 404", response=sentinel)  # type: ignore[arg-type]
    assert exc.response is sentinel
    assert str(exc) == "Client error 404"
    with pytest.raises(TypeError):
        kclient.ServerResponseError("no response")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "error",
    [e for e in ALL_ERRORS if not issubclass(e, (kclient.TransportError, kclient.ResponseError))],
    ids=lambda e: e.__name__,
)
def test_other_errors_take_a_message(error: type[Exception]) -> None:
    assert str(make(error, "what went wrong")) == "what went wrong"


def test_response_too_large_error_names_its_limit() -> None:
    error = make(kclient.ResponseTooLargeError, "too large")
    assert isinstance(error, kclient.ResponseTooLargeError)
    assert (error.limit_name, error.limit, error.url) == ("max_body_size", 10, "http://mock.test/")


def test_an_unrecorded_request_names_the_request_and_the_closest_recording() -> None:
    error = make(kclient.UnrecordedRequestError, "not recorded")
    assert isinstance(error, kclient.UnrecordedRequestError)
    assert (error.request, error.closest) == ("GET http://mock.test/b", "GET http://mock.test/a")


def test_websocket_errors_carry_their_details() -> None:
    closed = make(kclient.WebSocketClosedError, "closed")
    assert isinstance(closed, kclient.WebSocketClosedError) and (closed.code, closed.reason) == (4001, "bye")
    refused = make(kclient.WebSocketHandshakeError, "refused")
    assert isinstance(refused, kclient.WebSocketHandshakeError) and refused.url == "ws://mock.test/"
    assert issubclass(kclient.WebSocketProtocolError, kclient.ProtocolError)  # caught as the peer breaking protocol


def test_one_except_clause_catches_everything_kclient_raises() -> None:
    for error in ALL_ERRORS:
        exc = make(error, "x")
        with pytest.raises(kclient.KClientError):
            raise exc
