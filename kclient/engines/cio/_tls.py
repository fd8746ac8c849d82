"""TLS for CIO: the ``ssl`` context built from the ``https`` settings, and its errors in words."""

from __future__ import annotations

import ssl

from ..._errors import ConfigError, TLSError
from ._config import HttpsConfig

__all__ = ["create_ssl_context", "tls_error"]


def create_ssl_context(https: HttpsConfig) -> ssl.SSLContext:
    """An SSL context: verification per ``https.verify``, its CA file, client certificate, ALPN http/1.1.

    Loading certificate files is blocking: CIO calls this on its worker threads.
    """
    try:
        context = ssl.create_default_context(cafile=https.ca_file)
        if not https.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if https.cert_file:
            context.load_cert_chain(https.cert_file, https.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"CIO's https settings cannot be loaded: {exc}. Check https.ca_file / cert_file.") from exc
    context.set_alpn_protocols(["http/1.1"])
    return context


def tls_error(host: str, exc: ssl.SSLError) -> TLSError:
    """A ``TLSError`` naming the host and, for a failed verification, why it failed."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message or exc.reason or str(exc)
        return TLSError(f"The TLS certificate of {host} could not be verified: {why}.")
    return TLSError(f"The TLS handshake with {host} failed: {exc.reason or exc}.")
