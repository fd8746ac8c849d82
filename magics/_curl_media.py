"""The media types curl import and export agree on: curl's default form Content-Type, JSON,
and how a Content-Type value is read (its media type, whether it is JSON). Shared by the
parser (``_curl_parse``, ``_curl_options``) and the writer (``_curl_write``).
"""

from __future__ import annotations

__all__ = ["FORM_TYPE", "JSON_TYPE", "is_json_type"]

FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def is_json_type(value: str | None) -> bool:
    """Whether a Content-Type value is JSON (``application/json`` or a ``+json`` type)."""
    media = _media_type(value)
    return media == JSON_TYPE or (media.startswith("application/") and media.endswith("+json"))
