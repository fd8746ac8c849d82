"""Auth: Basic and Bearer credentials, sent up front or after a 401 challenge; tokens refreshed once.

``c.install(Auth, providers=[BasicAuth("user", "password")])`` adds an ``Authorization`` header
to every request (to the hosts a provider serves). A 401 answered with a ``WWW-Authenticate``
challenge that a provider accepts is answered once: Basic credentials that were not sent
yet are sent, a Bearer token is refreshed (once for any number of concurrent 401s) and the
request sent again with the new one.

The decisions are plain functions (``parse_challenges``, ``basic_authorization``,
``challenge_matches``, ``select_provider``, ``host_allowed``, ``may_answer_challenge``),
tested without a network.

The ``WWW-Authenticate`` parser lives in ``kclient.plugins._auth_challenges`` and the providers
in ``kclient.plugins._auth_providers``; their public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._models import Request, Response
from .._plugin import Plugin, PluginConfig, Send, SendOrder
from .._settings import setting
from ._auth_challenges import Challenge, challenge_matches, parse_challenges
from ._auth_providers import (
    AuthProvider,
    BasicAuth,
    BearerAuth,
    BearerTokens,
    _busy_providers,
    _Sent,
    basic_authorization,
    host_allowed,
)
from .redirect import same_origin

if TYPE_CHECKING:
    from yarl import URL

__all__ = [
    "Auth",
    "AuthConfig",
    "AuthProvider",
    "BasicAuth",
    "BearerAuth",
    "BearerTokens",
    "Challenge",
    "basic_authorization",
    "challenge_matches",
    "host_allowed",
    "may_answer_challenge",
    "parse_challenges",
    "select_provider",
]

#: A 401 body up to this size (by Content-Length) is kept when the connection is released early.
_KEEP_BODY_LIMIT = 64 * 1024

# -- decisions of the plugin ------------------------------------------------------------------------


def select_provider(providers: Sequence[AuthProvider], challenges: Sequence[Challenge]) -> AuthProvider | None:
    """The provider that answers a 401: the first (in ``providers`` order) matching the server's
    first challenge that any provider matches. With no challenge at all (many APIs answer a
    stale token so), the first provider that answers bare 401s (``BearerAuth`` without a realm)."""
    if not challenges:
        return next((provider for provider in providers if provider.answers_bare_401()), None)
    for challenge in challenges:
        for provider in providers:
            if provider.matches(challenge):
                return provider
    return None


def may_answer_challenge(status: int, request_url: URL, response_url: URL, *, streaming: bool) -> bool:
    """True when a response may be answered with credentials and the request sent again: a 401
    from the origin the request went to (not from where a redirect led), for a body that can be
    sent again (an async-iterable body was consumed)."""
    return status == 401 and not streaming and same_origin(request_url, response_url)


def _providers(value: Any) -> tuple[AuthProvider, ...]:
    items = (value,) if isinstance(value, AuthProvider) else tuple(value) if isinstance(value, (list, tuple)) else None
    if not items or not all(isinstance(item, AuthProvider) for item in items):
        raise ValueError(
            "it is a provider such as BasicAuth('user', 'password') or BearerAuth(load_tokens), "
            "or a non-empty list of them (instances, not classes)"
        )
    return items


# -- the plugin -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AuthConfig(PluginConfig):
    providers: tuple[AuthProvider, ...] = setting(
        (),
        "Providers (BasicAuth, BearerAuth), tried in order: the first that sends up front adds its "
        "credentials; the first matching a 401's challenge answers it.",
        convert=_providers,
    )

    def __post_init__(self) -> None:
        if not self.providers:
            raise ValueError(
                "Auth needs at least one provider: c.install(Auth, providers=[BasicAuth('user', 'password')])"
            )


class Auth(Plugin):
    """Authenticates requests with its providers (``BasicAuth``, ``BearerAuth``).

    Before a request is sent, the first provider serving its host that sends up front
    (``send_without_request``, the default) adds ``Authorization``. A 401 from the same
    origin whose ``WWW-Authenticate`` challenge a provider matches (scheme and realm) is
    answered once: the provider gives new credentials (Basic ones not sent yet, a refreshed
    Bearer token) and the request is sent again, or the 401 is returned. A request that sets
    its own ``Authorization`` header is left alone, and a request with an async-iterable body
    cannot be sent again (its 401 is returned). Sits outside HttpRedirect, which drops
    ``Authorization`` when a redirect leaves the origin.
    """

    name = "Auth"
    config_class = AuthConfig
    config: AuthConfig
    send_order = SendOrder.AUTH

    @property
    def providers(self) -> tuple[AuthProvider, ...]:
        """The providers, in order."""
        return self.config.providers

    def clear_tokens(self) -> None:
        """Forget every provider's cached tokens (``BearerAuth`` loads them again)."""
        for provider in self.config.providers:
            provider.clear_token()

    async def on_send(self, request: Request, proceed: Send) -> Response:
        if "Authorization" in request.headers:
            return await proceed(request)  # the caller's own credentials win
        providers = self._providers_for(request.url)
        if not providers:
            return await proceed(request)
        sent = await _prepare(providers)
        authorization = next((s.authorization for s in sent if s.authorization is not None), None)
        streaming = request.is_streaming  # checked before sending: an engine may replace a consumed body
        response = await proceed(_with_authorization(request, authorization))
        if not may_answer_challenge(response.status, request.url, response.url, streaming=streaming):
            return response
        provider = select_provider(providers, parse_challenges(response.headers.getall("WWW-Authenticate", ())))
        if provider is None:
            return response
        try:
            await _release(response)  # before waiting on a refresh that may need a connection
            answer = await provider._after_challenge(sent[providers.index(provider)])
        except BaseException:
            await response.aclose()
            raise
        if answer is None:
            return response
        await response.aclose()
        return await proceed(_with_authorization(request, answer))

    def _providers_for(self, url: URL) -> tuple[AuthProvider, ...]:
        busy = _busy_providers.get()
        return tuple(p for p in self.config.providers if p.serves(url) and p not in busy)


async def _prepare(providers: Sequence[AuthProvider]) -> list[_Sent]:
    """Each provider's part of a request: the first one sending up front that has credentials adds them."""
    sent: list[_Sent] = []
    added = False
    for provider in providers:
        part = await provider._before_send(provider.send_without_request and not added)
        added = added or part.authorization is not None
        sent.append(part)
    return sent


def _with_authorization(request: Request, authorization: str | None) -> Request:
    if authorization is None:
        return request
    authed = request.copy()
    authed.headers["Authorization"] = authorization
    return authed


async def _release(response: Response) -> None:
    """Release a 401's connection, keeping its body when it is small (``client.stream`` has it open)."""
    if response.is_closed:
        return
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) <= _KEEP_BODY_LIMIT:
        await response.aread()
    else:
        await response.aclose()
