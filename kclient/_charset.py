"""Which codec a body is decoded with: the Content-Type's charset, resolved in one place.

``Response.charset`` and ``.text``, the Logging plugin and the notebook display all ask
``content_charset``. A name is used only when it is a text encoding that decodes any bytes
with ``errors="replace"``: ``charset=rot13``, ``base64`` or ``zlib`` name codecs that are not
text encodings (decoding with them could expand a body without bound), and ``idna``,
``punycode`` or ``undefined`` raise on bytes they do not expect; all of these are refused, as
are unknown names. ``decode_text`` never fails (UTF-16 without a BOM can still raise: the
body is then decoded as if it declared no charset). Only ``codecs`` is imported.
"""

from __future__ import annotations

import codecs

__all__ = ["content_charset", "decode_text", "is_utf8_start", "text_codec"]

#: A byte every usable codec decodes with ``errors="replace"`` (idna, punycode and undefined raise).
_PROBE = b"\x80"

#: Codecs that are not character encodings of a body whatever the probe says (punycode decodes
#: the probe on Python 3.13 but is a transform of host labels, as idna is).
_NOT_BODY_ENCODINGS = frozenset({"idna", "punycode", "undefined"})

#: Python codec name -> whether it is usable; a codec is probed once.
_USABLE: dict[str, bool] = {}


def text_codec(name: str) -> str | None:
    """The Python name of the text encoding ``name`` (``"Windows-1252"`` -> ``"cp1252"``), or
    None when Python does not know it or it cannot decode every body (see the module)."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):  # unknown, or an embedded NUL
        return None
    usable = _USABLE.get(info.name)
    if usable is None:
        usable = _USABLE[info.name] = (
            info.name not in _NOT_BODY_ENCODINGS and getattr(info, "_is_text_encoding", True) and _decodes(info.name)
        )
    return info.name if usable else None


def _decodes(name: str) -> bool:
    try:
        _PROBE.decode(name, errors="replace")
    except (UnicodeError, TypeError, ValueError):
        return False
    return True


def content_charset(content_type: str | None) -> str | None:
    """The text encoding named by the ``charset`` parameter of ``content_type``, or None (no
    charset, or one ``text_codec`` refuses). The first ``charset`` parameter counts."""
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return text_codec(value.strip().strip("\"'"))
    return None


def decode_text(data: bytes, charset: str | None, *, final: bool = True) -> str:
    """``data`` as text: with ``charset`` (undecodable bytes replaced), else UTF-8, else Latin-1.

    With ``final=False`` (``data`` is the start of a longer body) a character cut at the end is
    dropped instead of being shown as U+FFFD or making the UTF-8 attempt fail.
    """
    if charset is not None:
        try:
            return codecs.getincrementaldecoder(charset)(errors="replace").decode(data, final=final)
        except UnicodeError:  # "UTF-16 stream does not start with BOM", even with errors="replace"
            pass
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=final)
    except UnicodeDecodeError:
        return data.decode("latin-1")


def is_utf8_start(sample: bytes) -> bool:
    """True when ``sample`` (the start of a body) is UTF-8; a character cut at its end is allowed."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True
