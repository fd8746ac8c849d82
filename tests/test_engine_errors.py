"""What the engines share: the exception map (most specific wins, native kept as ``__cause__``),
the description of a request in messages, the checks of what can be sent, the one-loop rule."""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest
from yarl import URL

from kclient import (
    ConnectError,
    InvalidRequestError,
    KClientError,
    ProtocolError,
    ReadError,
    TLSError,
    TransportError,
    WriteError,
)
from kclient._describe import describe
from kclient._engine import Engine, leave_loop
from kclient._limits import body_too_large
from kclient._models import NO_TIMEOUTS, Request
from kclient.engines import httpx as httpx_engine
from kclient.engines._errors import ErrorMap, failure, unsendable_header, unsendable_method
from kclient.engines.cio import CIO
from kclient.engines.mock import Mock
from kclient.engines.urllib3 import Urllib3

SECRET_URL = "http://user:pa55word@example.test/x?token=t0ken&q=1"


class Base(Exception):
    pass


class Middle(Base):
    pass


class Leaf(Middle):
    pass


class Other(Exception):
    pass


class Both(Other, Middle):  # MRO: Both, Other, Middle, Base, Exception
    pass


# -- ErrorMap ---------------------------------------------------------------------------------


def test_the_most_specific_type_wins_whatever_the_order_of_the_table() -> None:
    general_first = ErrorMap(((Base, ProtocolError), (Middle, ReadError), (Leaf, WriteError)))
    specific_first = ErrorMap(((Leaf, WriteError), (Middle, ReadError), (Base, ProtocolError)))
    for error_map in (general_first, specific_first):
        assert error_map.error_for(Leaf()) is WriteError
        assert error_map.error_for(Middle()) is ReadError
        assert error_map.error_for(Base()) is ProtocolError


def test_a_class_without_an_entry_takes_its_nearest_base_in_mro_order() -> None:
    class Deeper(Leaf):
        pass

    error_map = ErrorMap(((Base, ProtocolError), (Other, ConnectError)))
    assert error_map.error_for(Deeper()) is ProtocolError
    assert error_map.entry(Deeper()) == (Base, ProtocolError)
    # With two bases mapped, the first in the MRO wins (Other comes before Middle's Base).
    assert error_map.entry(Both()) == (Other, ConnectError)
    assert ErrorMap(((Middle, ReadError), (Other, ConnectError))).error_for(Both()) is ConnectError


def test_no_entry_gives_the_default() -> None:
    error_map = ErrorMap(((Base, ProtocolError),))
    assert error_map.entry(KeyError()) == (None, TransportError)
    assert ErrorMap((), default=ReadError).error_for(Base()) is ReadError


def test_the_map_is_a_read_only_mapping_whose_first_entry_for_a_type_is_kept() -> None:
    error_map = ErrorMap(((Base, ProtocolError), (Leaf, WriteError), (Base, ReadError)))
    assert dict(error_map) == {Base: ProtocolError, Leaf: WriteError}
    assert error_map.native == (Base, Leaf)
    assert error_map[Leaf] is WriteError and Middle not in error_map and len(error_map) == 2
    assert "2 types" in repr(error_map)


# -- failure: the message and the cause -------------------------------------------------------


def test_failure_names_the_request_masks_secrets_and_keeps_the_native_cause() -> None:
    request = Request("GET", URL(SECRET_URL))
    native = OSError("proxy http://bob:hunter2@proxy.test:3128 went away")
    error = failure(ReadError, native, request)
    assert type(error) is ReadError and error.__cause__ is native
    message = str(error)
    assert message.startswith("GET http://user:***@example.test/x?token=***&q=1 failed: "), message
    for secret in ("pa55word", "t0ken", "hunter2"):
        assert secret not in message
    assert str(failure(ReadError, OSError(), request)).endswith("failed: OSError")  # no message: its type


def test_failure_with_an_ssl_error_is_a_tls_error_naming_the_host() -> None:
    request = Request("GET", URL("https://example.test/"))
    native = ssl.SSLCertVerificationError(1, "certificate verify failed")
    native.verify_message = "self-signed certificate"
    error = failure(ConnectError, native, request, ssl_error=native)
    assert type(error) is TLSError and error.__cause__ is native
    assert "GET https://example.test/ failed: The TLS certificate of example.test" in str(error)
    assert "self-signed certificate" in str(error)


def test_failure_applies_the_engines_scrub() -> None:
    request = Request("GET", URL("http://example.test/"))
    error = failure(ReadError, OSError("the key is s3cret"), request, scrub=lambda text: text.replace("s3cret", "***"))
    assert "s3cret" not in str(error) and "the key is ***" in str(error)


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        (httpx.ConnectError("refused http://bob:hunter2@proxy.test"), ConnectError),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), ReadError),
        (httpx.RemoteProtocolError("illegal status line"), ProtocolError),
    ],
)
def test_httpx_errors_keep_their_cause_and_mask_credentials_in_the_native_message(
    native: Exception, expected: type[KClientError]
) -> None:
    # Stricter than before: httpx's own message is masked too, as on the other engines.
    request = Request("GET", URL(SECRET_URL))
    with pytest.raises(expected) as caught:
        with httpx_engine.map_exceptions(request):
            raise native
    assert type(caught.value) is expected and caught.value.__cause__ is native
    assert "hunter2" not in str(caught.value) and "pa55word" not in str(caught.value)


# -- the description of a request -------------------------------------------------------------


def test_describe_masks_the_password_and_secret_query_values() -> None:
    assert describe(Request("PATCH", URL(SECRET_URL))) == "PATCH http://user:***@example.test/x?token=***&q=1"


def test_messages_of_the_client_limits_and_engines_describe_requests_alike() -> None:
    request = Request("GET", URL(SECRET_URL))
    expected = describe(request)
    assert expected in str(body_too_large(request, 10))
    assert expected in str(unsendable_header(request, "X-Bad"))
    assert "'GE T'" in str(unsendable_method(Request("GE T", URL(SECRET_URL))))


# -- what an engine refuses to send -----------------------------------------------------------


@pytest.mark.parametrize("method", ["GE T", "GET\r\n", "G\x00T", "G(T", "GÉT", ""])
def test_cio_and_urllib3_refuse_a_method_that_is_not_a_token(method: str) -> None:
    # Stricter than before: CIO did not check the method; urllib3 refused only controls and spaces.
    request = Request(method, URL("http://example.test/"))
    with pytest.raises(InvalidRequestError, match="Invalid HTTP method"):
        CIO()._serialize(request, "/", None)
    with pytest.raises(InvalidRequestError, match="Invalid HTTP method"):
        Urllib3()._headers(request)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-A", "a\r\nX-Injected: 1"),
        ("X-A", "a\x00"),
        ("X-A", "a\nb"),
        ("X-A:B", "v"),  # a colon would move the value into the name
        (" X-A", "v"),
        ("X A", "v"),
        ("X-\x00", "v"),
        ("", "v"),
    ],
)
def test_cio_and_urllib3_refuse_unsendable_headers_alike(name: str, value: str) -> None:
    request = Request("GET", URL("http://example.test/"))
    request.headers[name] = value
    request.headers["X-Other"] = "1"  # not the single User-Agent fast path
    for check in (lambda: CIO()._serialize(request, "/", None), lambda: Urllib3()._headers(request)):
        with pytest.raises(InvalidRequestError, match="is not a valid name or its value contains CR, LF or NUL"):
            check()


def test_a_tab_and_other_text_in_a_value_are_still_sent() -> None:
    request = Request("GET", URL("http://example.test/"))
    request.headers["X-A"] = "a\tb é"  # é: Latin-1 on the wire
    assert b"X-A: a\tb \xe9" in CIO()._serialize(request, "/", None)
    assert "X-A" in Urllib3()._headers(request)


# -- one engine per event loop, and the empty timeouts ----------------------------------------


def test_leave_loop() -> None:
    assert leave_loop("CIO", None, holds_connections=True) is False  # bound to no loop yet
    closed = asyncio.new_event_loop()
    closed.close()
    assert leave_loop("CIO", closed, holds_connections=True) is True
    other = asyncio.new_event_loop()
    try:
        assert leave_loop("CIO", other, holds_connections=False) is True
        with pytest.raises(TransportError, match="This Aiohttp engine's connections belong to another running"):
            leave_loop("Aiohttp", other, holds_connections=True)
    finally:
        other.close()


def test_engines_without_timeouts_of_their_own_give_the_shared_empty_one() -> None:
    assert Engine.default_timeouts(Mock()) is NO_TIMEOUTS
    assert Mock().default_timeouts() is NO_TIMEOUTS
