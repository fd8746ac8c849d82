"""The kernel client: the one ``HttpClient`` the magics of a kernel share, created on first use.

``%kclient use ENGINE setting=value`` replaces it (the old one is closed: its requests in
flight finish). ``--engine NAME`` on a request uses a client of that engine, kept beside
the kernel client and closed with it. Every client is made with the plugins the magics
need (``HttpRedirect`` is a default one; ``--check`` is done by the magics).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from kclient import ClientState, ConfigError, HttpClient, HttpClientConfig, KClientError

from ._errors import KClientMagicError

__all__ = ["KernelClient", "parse_settings"]


def parse_settings(words: list[str]) -> dict[str, Any]:
    """``name=value`` words as engine settings; values are Python literals, else strings."""
    settings: dict[str, Any] = {}
    for word in words:
        name, equals, text = word.partition("=")
        if not equals or not name:
            raise KClientMagicError(f"Engine settings are name=value words, such as max_connections=10, not {word!r}.")
        try:
            settings[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            settings[name] = text
    return settings


class KernelClient:
    """Holds the kernel client and the clients of ``--engine`` requests."""

    def __init__(self, engine: Callable[[], str | None], configure: Callable[[HttpClientConfig], None]) -> None:
        self._default_engine = engine
        self._configure = configure
        self._client: HttpClient | None = None
        self._settings: dict[str, Any] = {}
        self._others: dict[str, HttpClient] = {}
        self._watchers: list[Callable[[HttpClient], None]] = []

    def on_replace(self, watcher: Callable[[HttpClient], None]) -> Callable[[], None]:
        """Call ``watcher(new_client)`` when ``use`` or ``adopt`` replaces the kernel client
        (a workbench follows it); returns ``unsubscribe()``."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher) if watcher in self._watchers else None

    def _replaced(self, client: HttpClient) -> None:
        for watcher in list(self._watchers):
            watcher(client)

    @property
    def current(self) -> HttpClient | None:
        """The kernel client if it was created, else None."""
        return self._client

    def get(self) -> HttpClient:
        """The kernel client, created with the configured engine (or the default one) on first use."""
        if self._client is None:
            self._client = self._create(self._default_engine() or None, {})
        return self._client

    def use(self, engine: str | None, settings: dict[str, Any]) -> HttpClient:
        """Replace the kernel client by a new one of ``engine`` (None: the default engine); the old
        one is closed."""
        new = self._create(engine, settings)
        old, self._client, self._settings = self._client, new, settings
        if old is not None:
            old.close()
        self._replaced(new)
        return new

    def adopt(self, client: HttpClient) -> HttpClient:
        """Make ``client`` (made in the notebook) the kernel client; the old one is closed."""
        if client.state is not ClientState.ACTIVE:
            raise KClientMagicError(
                f"{client.name} is {client.state.name}: a kernel client must be ACTIVE. Create a new HttpClient."
            )
        old, self._client, self._settings = self._client, client, {}
        if old is not None and old is not client:
            old.close()
        if old is not client:
            self._replaced(client)
        return client

    def for_engine(self, engine: str) -> HttpClient:
        """A client of ``engine`` for one ``--engine`` request (kept and reused)."""
        current = self.get()
        if current.engine.name.casefold() == engine.casefold():
            return current
        key = engine.casefold()
        client = self._others.get(key)
        if client is None or client.state is not ClientState.ACTIVE:
            client = self._others[key] = self._create(engine, {})
        return client

    @property
    def settings(self) -> dict[str, Any]:
        """The settings given to ``use``."""
        return dict(self._settings)

    def close_all(self) -> list[HttpClient]:
        """Close the kernel client and the ``--engine`` clients (their requests in flight finish);
        returns them, for a caller that wants to ``join`` them."""
        clients = [*self._others.values(), *([self._client] if self._client is not None else [])]
        for client in clients:
            client.close()
        self._others.clear()
        self._client = None
        return clients

    def _create(self, engine: str | None, settings: dict[str, Any]) -> HttpClient:
        try:
            return HttpClient(engine, self._configure, engine_config=settings, name="kernel client")
        except KClientError as error:
            raise KClientMagicError(str(error)) from error
        except (TypeError, ValueError) as error:  # a setting the engine's constructor refused
            raise KClientMagicError(str(ConfigError(str(error)))) from error
