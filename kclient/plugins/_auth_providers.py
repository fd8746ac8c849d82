"""The Auth plugin's providers: the credentials they send, the hosts they serve, Basic and Bearer.

An :class:`AuthProvider` says which challenge it answers (scheme, realm), to which hosts
its credentials may go (``only_hosts``) and what it adds to a request before it is sent and
after a 401. :class:`BasicAuth` sends fixed credentials (RFC 7617); :class:`BearerAuth`
loads :class:`BearerTokens` once and refreshes them once for any number of concurrent 401s,
under a lock of the running event loop. The plugin itself, which asks them, is
:mod:`kclient.plugins.auth` (which re-exports these names).
"""

from __future__ import annotations

import abc
import base64
import contextvars
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .._errors import ConfigError
from .._redact import MASK
from .._syntax import has_control
from ._auth_challenges import Challenge, challenge_matches

if TYPE_CHECKING:
    import anyio
    from yarl import URL

__all__ = [
    "AuthProvider",
    "BasicAuth",
    "BearerAuth",
    "BearerTokens",
    "LoadTokens",
    "RefreshTokens",
    "basic_authorization",
    "host_allowed",
]

# -- credentials ------------------------------------------------------------------------------------


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` value of Basic credentials: ``user:password`` in UTF-8, base64 (RFC 7617)."""
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {encoded}"


def _has_control_chars(text: str) -> bool:
    """RFC 7617 forbids every control character in Basic credentials, tab included (``has_control``
    allows tab, which a header value may hold)."""
    return has_control(text) or "\t" in text


@dataclass(frozen=True, slots=True)
class BearerTokens:
    """An access token sent as ``Authorization: Bearer <access_token>``, and the token to refresh it.

    Neither token shows in ``repr``.
    """

    access_token: str
    refresh_token: str | None = None

    def __post_init__(self) -> None:
        token = self.access_token
        if not isinstance(token, str) or not token:
            raise ConfigError(f"BearerTokens.access_token must be a non-empty string, not {type(token).__name__}.")
        if not all("!" <= char <= "~" for char in token):
            raise ConfigError(
                "BearerTokens.access_token must be printable ASCII without spaces (RFC 6750); "
                "the token given is not (it is not shown)."
            )
        if self.refresh_token is not None and not isinstance(self.refresh_token, str):
            raise ConfigError(
                f"BearerTokens.refresh_token must be a string or None, not {type(self.refresh_token).__name__}."
            )

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value."""
        return f"Bearer {self.access_token}"

    def __repr__(self) -> str:
        refresh = repr(MASK) if self.refresh_token is not None else "None"
        return f"BearerTokens(access_token={MASK!r}, refresh_token={refresh})"


#: ``load_tokens()``: the tokens to start with (from storage), or None; may be a coroutine function.
LoadTokens = Callable[[], "BearerTokens | Awaitable[BearerTokens | None] | None"]
#: ``refresh_tokens(old_tokens)``: new tokens after a 401, or None to give up; may be a coroutine function.
RefreshTokens = Callable[["BearerTokens | None"], "BearerTokens | Awaitable[BearerTokens | None] | None"]


# -- hosts ------------------------------------------------------------------------------------------


def _host_key(host: str) -> str:
    """A host name compared as sent on the wire: IDNA-encoded, lower-case, without a trailing dot."""
    from yarl import URL

    bare = host.strip()
    if bare.startswith("[") and bare.endswith("]"):
        bare = bare[1:-1]
    encoded = URL.build(scheme="http", host=bare).raw_host or ""
    return encoded.lower().rstrip(".")


def _only_hosts(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    names = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, Iterable) else None
    if not names or not all(isinstance(name, str) and name.strip() for name in names):
        raise ConfigError(
            f"only_hosts must be None (every host) or host names such as {{'api.example.com'}}, not {value!r}."
        )
    keys: set[str] = set()
    for name in names:
        if any(mark in name for mark in ("/", "@", "?", "#")) or name.count(":") == 1:
            raise ConfigError(f"only_hosts takes host names such as 'api.example.com', not URLs or ports: {name!r}.")
        try:
            keys.add(_host_key(name))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"only_hosts: {name!r} is not a valid host name ({exc}).") from exc
    return frozenset(keys)


def host_allowed(only_hosts: frozenset[str] | None, url: URL) -> bool:
    """True when credentials may go to ``url``'s host: ``only_hosts`` is None or lists it."""
    if only_hosts is None:
        return True
    host = url.raw_host
    return host is not None and host.lower().rstrip(".") in only_hosts


# -- providers --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Sent:
    """What a provider put on one request: its ``Authorization`` value (or None) and its tokens' generation."""

    authorization: str | None = field(repr=False)
    generation: int = 0


#: The providers whose ``load_tokens``/``refresh_tokens`` is running in this task: requests those
#: callbacks send (a token endpoint on the same client) go without that provider's credentials,
#: so they neither wait for the lock the callback holds nor carry the stale token.
_busy_providers: contextvars.ContextVar[tuple[AuthProvider, ...]] = contextvars.ContextVar(
    "kclient_auth_busy_providers", default=()
)


class AuthProvider(abc.ABC):
    """A way to authenticate: ``BasicAuth`` or ``BearerAuth``.

    ``send_without_request``: add credentials to every request up front (else only after a
    401 challenge). ``realm``: answer only challenges naming this realm. ``only_hosts``: send
    credentials only to these host names (None: to every host the client talks to).
    """

    #: The scheme this provider answers (``Basic``, ``Bearer``), matched case-insensitively.
    scheme: ClassVar[str]

    def __init__(
        self,
        *,
        send_without_request: bool = True,
        realm: str | None = None,
        only_hosts: str | Iterable[str] | None = None,
    ) -> None:
        if not isinstance(send_without_request, bool):
            raise ConfigError(f"send_without_request must be True or False, not {send_without_request!r}.")
        if realm is not None and not isinstance(realm, str):
            raise ConfigError(f"realm must be a string or None, not {realm!r}.")
        self.send_without_request = send_without_request
        self.realm = realm
        self.only_hosts = _only_hosts(only_hosts)

    def serves(self, url: URL) -> bool:
        """True when this provider's credentials may be sent to ``url``."""
        return host_allowed(self.only_hosts, url)

    def matches(self, challenge: Challenge) -> bool:
        """True when this provider can answer ``challenge``."""
        return challenge_matches(challenge, self.scheme, self.realm)

    def answers_bare_401(self) -> bool:
        """True when this provider answers a 401 that carries no ``WWW-Authenticate`` challenge."""
        return False

    def clear_token(self) -> None:
        """Forget cached tokens, so the next request loads them again (nothing to forget here)."""
        return None

    @abc.abstractmethod
    async def _before_send(self, proactive: bool) -> _Sent:
        """What this provider adds to a request about to be sent (``proactive``: credentials up front)."""

    @abc.abstractmethod
    async def _after_challenge(self, sent: _Sent) -> str | None:
        """The ``Authorization`` value to send again with after a 401 its challenge matched, or None."""

    def _options_repr(self) -> str:
        hosts = sorted(self.only_hosts) if self.only_hosts is not None else None
        return f"send_without_request={self.send_without_request}, realm={self.realm!r}, only_hosts={hosts!r}"


class BasicAuth(AuthProvider):
    """``Authorization: Basic base64(username:password)`` (RFC 7617; non-ASCII as UTF-8).

    Sent with every request by default; with ``send_without_request=False`` only after a
    401 whose challenge names Basic (and ``realm``, when given), the request being sent once
    more. Credentials that were sent and refused are not sent again: the 401 is returned.
    The password never shows in ``repr``.
    """

    scheme = "Basic"

    def __init__(
        self,
        username: str,
        password: str,
        *,
        send_without_request: bool = True,
        realm: str | None = None,
        only_hosts: str | Iterable[str] | None = None,
    ) -> None:
        super().__init__(send_without_request=send_without_request, realm=realm, only_hosts=only_hosts)
        if not isinstance(username, str) or not isinstance(password, str):
            raise ConfigError("BasicAuth(username, password) takes two strings.")
        if ":" in username:
            raise ConfigError(f"A Basic username cannot contain ':' (RFC 7617): {username!r}.")
        if _has_control_chars(username) or _has_control_chars(password):
            raise ConfigError("A Basic username or password cannot contain control characters (RFC 7617).")
        self.username = username
        self._authorization = basic_authorization(username, password)

    async def _before_send(self, proactive: bool) -> _Sent:
        return _Sent(self._authorization if proactive else None)

    async def _after_challenge(self, sent: _Sent) -> str | None:
        return self._authorization if sent.authorization is None else None

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password={MASK!r}, {self._options_repr()})"


class _LoopLock:
    """An ``anyio.Lock`` for the running event loop, made again when the provider moves to another loop."""

    def __init__(self) -> None:
        self._lock: anyio.Lock | None = None
        self._loop: object = None

    def get(self) -> anyio.Lock:
        import anyio
        import anyio.lowlevel

        loop = anyio.lowlevel.current_token()
        if self._lock is None or self._loop != loop:
            self._lock = anyio.Lock()
            self._loop = loop
        return self._lock


class BearerAuth(AuthProvider):
    """``Authorization: Bearer <access token>``, with tokens loaded once and refreshed on a 401.

    ``load_tokens()`` gives the first tokens (``BearerTokens`` or None); it is called on the
    first request and again after ``clear_token()`` or a refresh that gave up. On a 401
    whose challenge names Bearer (or that has no challenge, unless ``realm`` is set) for a
    request sent with the current token, ``refresh_tokens(old_tokens)`` is called and the
    request sent once more with the new token. Concurrent 401s for the same token cause one
    refresh: the other requests wait for it and use its token, and so do requests started
    while it runs. A refresh that returns None gives up (the 401 is returned and the tokens
    are forgotten); one that raises propagates its exception to the request that called it
    (the others get their 401; the tokens are kept, so a later 401 tries again). Both
    callbacks may be coroutine functions; requests they send through the same client go
    without this provider's credentials. Tokens never show in ``repr``.
    """

    scheme = "Bearer"

    def __init__(
        self,
        load_tokens: LoadTokens,
        refresh_tokens: RefreshTokens | None = None,
        *,
        send_without_request: bool = True,
        realm: str | None = None,
        only_hosts: str | Iterable[str] | None = None,
    ) -> None:
        super().__init__(send_without_request=send_without_request, realm=realm, only_hosts=only_hosts)
        if not callable(load_tokens):
            raise ConfigError(
                f"BearerAuth's load_tokens is a function returning BearerTokens or None, not {load_tokens!r}."
            )
        if refresh_tokens is not None and not callable(refresh_tokens):
            raise ConfigError(
                "BearerAuth's refresh_tokens is None or a function of the old tokens returning new "
                f"BearerTokens or None, not {refresh_tokens!r}."
            )
        self._load_tokens = load_tokens
        self._refresh_tokens = refresh_tokens
        self._tokens: BearerTokens | None = None
        self._loaded = False
        #: Bumped whenever the tokens are refreshed (or a refresh fails) or cleared: a 401 for an
        #: older generation is answered with the current token, never by a second refresh.
        self._generation = 0
        self._refreshing = False
        self._lock = _LoopLock()

    def answers_bare_401(self) -> bool:
        """True unless ``realm`` is set: many APIs answer a stale token with a 401 and no challenge."""
        return self.realm is None

    @property
    def tokens(self) -> BearerTokens | None:
        """The tokens in use (None before the first request or after ``clear_token()``)."""
        return self._tokens

    def clear_token(self) -> None:
        """Forget the tokens: the next request calls ``load_tokens()`` again (after a logout, say)."""
        self._tokens = None
        self._loaded = False
        self._generation += 1

    async def _before_send(self, proactive: bool) -> _Sent:
        if proactive and (not self._loaded or self._refreshing):
            async with self._lock.get():  # the first load, or a refresh under way: wait for its tokens
                await self._load_if_needed()
        tokens = self._tokens if proactive else None
        return _Sent(tokens.authorization if tokens is not None else None, self._generation)

    async def _after_challenge(self, sent: _Sent) -> str | None:
        async with self._lock.get():
            if sent.authorization is None:
                await self._load_if_needed()
            current = self._tokens
            if current is not None and current.authorization != sent.authorization:
                return current.authorization  # refreshed by another request, or none was sent
            if sent.generation != self._generation:
                return None  # another request refreshed (and failed) since this one was sent
            return await self._refresh(current)

    async def _load_if_needed(self) -> None:
        """Call ``load_tokens()`` unless tokens are loaded; the caller holds the lock."""
        if self._loaded:
            return
        self._tokens = await self._call("load_tokens", self._load_tokens)
        self._loaded = True

    async def _refresh(self, old: BearerTokens | None) -> str | None:
        """Call ``refresh_tokens(old)`` and keep its tokens; the caller holds the lock."""
        if self._refresh_tokens is None:
            return None
        self._refreshing = True
        try:
            tokens = await self._call("refresh_tokens", self._refresh_tokens, old)
        except Exception:
            self._generation += 1  # failed: the requests waiting do not try again
            raise
        finally:
            self._refreshing = False
        self._generation += 1
        if tokens is None:
            self._tokens, self._loaded = None, False
            return None
        self._tokens, self._loaded = tokens, True
        return tokens.authorization

    async def _call(self, what: str, function: Callable[..., Any], *args: Any) -> BearerTokens | None:
        """Run a callback (plain or coroutine function) with this provider marked busy in this task."""
        busy = _busy_providers.set((*_busy_providers.get(), self))
        try:
            outcome = function(*args)
            if inspect.isawaitable(outcome):
                outcome = await outcome
        finally:
            _busy_providers.reset(busy)
        if outcome is not None and not isinstance(outcome, BearerTokens):
            raise TypeError(
                f"BearerAuth's {what} must return BearerTokens(access_token, refresh_token) or None, "
                f"not {type(outcome).__name__}."
            )
        return outcome

    def __repr__(self) -> str:
        state = "loaded" if self._tokens is not None else "none"
        return (
            f"BearerAuth(load_tokens={_callable_name(self._load_tokens)}, "
            f"refresh_tokens={_callable_name(self._refresh_tokens)}, tokens={state}, {self._options_repr()})"
        )


def _callable_name(function: Callable[..., Any] | None) -> str:
    if function is None:
        return "None"
    return str(getattr(function, "__qualname__", None) or type(function).__name__)
