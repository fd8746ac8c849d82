"""TLS settings every network engine shares: the ``https`` block, its ``ssl`` context and its errors.

Each engine has an ``https`` block (``https.verify``, ``https.ca_file``, ``https.cert_file``,
``https.key_file``) so that the same settings mean the same thing whichever engine runs.
A failed handshake becomes a ``TLSError`` that names the host and, for a failed
verification, the reason the ``ssl`` module gave.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from ._errors import ConfigError, TLSError, find_cause
from ._settings import setting

__all__ = ["HttpsConfig", "create_ssl_context", "find_ssl_error", "tls_error"]


@dataclass(frozen=True, kw_only=True)
class HttpsConfig:
    """TLS settings: verification is on unless turned off."""

    verify: bool = setting(True, "Verify server certificates and host names.")
    ca_file: str | None = setting(None, "PEM file of CA certificates to trust instead of the system's.")
    cert_file: str | None = setting(None, "PEM client certificate (with key_file) for servers that ask for one.")
    key_file: str | None = setting(None, "PEM private key of cert_file.")


def create_ssl_context(https: HttpsConfig, *, engine: str, alpn: tuple[str, ...] = ("http/1.1",)) -> ssl.SSLContext:
    """An SSL context: verification per ``https.verify``, its CA file, client certificate, ALPN protocols.

    Loading certificate files is blocking: engines on an event loop call this on a worker thread
    or once, when the engine is created. Unreadable files are a ``ConfigError`` naming ``engine``.
    """
    try:
        context = ssl.create_default_context(cafile=https.ca_file)
        if not https.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if https.cert_file:
            context.load_cert_chain(https.cert_file, https.key_file)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError; a path with NUL, a ValueError
        raise ConfigError(
            f"{engine}'s https settings cannot be loaded: {exc}. Check https.ca_file, https.cert_file "
            "and https.key_file."
        ) from exc
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def tls_error(host: str, exc: ssl.SSLError) -> TLSError:
    """A ``TLSError`` naming the host and, for a failed verification, why it failed."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message or exc.reason or str(exc)
        return TLSError(f"The TLS certificate of {host} could not be verified: {why}.")
    return TLSError(f"The TLS handshake with {host} failed: {exc.reason or exc}.")


def find_ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The ``ssl.SSLError`` behind ``exc`` (itself, or in its ``__cause__`` / ``__context__`` chain)."""
    return find_cause(exc, ssl.SSLError)
