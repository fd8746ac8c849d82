"""urllib3's own log, masked: ``_mask_urllib3_log`` adds, once per process, a filter to the urllib3
loggers that write request lines and URLs at DEBUG, so credentials and secret query values show as ``***``."""

from __future__ import annotations

from typing import Any

from ..._redact import mask_credentials

__all__ = ["_mask_urllib3_log"]

#: urllib3's loggers that write request targets and URLs ("GET /path?token=... HTTP/1.1" 200) at DEBUG.
_URL_LOGGERS = ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry")


def _mask_urllib3_log() -> None:
    """Mask the credentials and secret query values in what urllib3 logs by itself (once per process).

    At DEBUG urllib3 logs every request line, query string included, and its retries and
    redirects with their URLs: a notebook that turns on DEBUG logging would print the tokens.
    """
    import logging

    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _MaskedLogText) for f in logger.filters):
            logger.addFilter(_MaskedLogText())


class _MaskedLogText:
    """A ``logging`` filter: text arguments (and a preformatted message) of a record have their
    URL credentials and secret query values replaced by ``***``."""

    def filter(self, record: Any) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(mask_credentials(arg) if isinstance(arg, str) else arg for arg in args)
        if isinstance(record.msg, str):
            record.msg = mask_credentials(record.msg)
        return True
