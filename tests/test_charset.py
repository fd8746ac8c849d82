"""One charset rule for every reader of a body: ``Response.text``, the Logging plugin and the
notebook display decode with the same codec, and refuse the same names."""

from __future__ import annotations

import logging

import pytest
from kclient.magics._display import display_bundle

from kclient import HttpClient, Mock, Response, respond
from kclient._charset import content_charset, decode_text, text_codec
from kclient.plugins.logs import Logging

#: Names Python knows that must not decode a body: not text encodings (rot13 maps str to str,
#: base64 and zlib can expand a body), codecs that raise on any byte, and a name with a NUL.
REFUSED = [
    "rot13",
    "rot_13",
    "base64",
    "zlib",
    "bz2",
    "hex",
    "uu",
    "quopri",
    "idna",
    "punycode",
    "undefined",
    "utf\0-8",
]


@pytest.mark.parametrize("name", REFUSED)
def test_text_codec_refuses_what_cannot_decode_a_body(name: str) -> None:
    assert text_codec(name) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Windows-1252", "cp1252"), ("latin-1", "iso8859-1"), ("UTF-8", "utf-8"), ("utf-16", "utf-16"), ("nope", None)],
)
def test_text_codec_gives_pythons_name(name: str, expected: str | None) -> None:
    assert text_codec(name) == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/plain; charset=latin-1", "iso8859-1"),
        ('text/plain; Charset="UTF-8"', "utf-8"),
        ("text/plain; charset = cp1252", "cp1252"),
        ("text/plain; format=flowed; charset='utf-8'", "utf-8"),
        ("text/plain; charset=rot13", None),
        ("text/plain; charset=rot13; charset=utf-8", None),  # the first one counts
        ("text/plain", None),
        ("", None),
        (None, None),
    ],
)
def test_content_charset(content_type: str | None, expected: str | None) -> None:
    assert content_charset(content_type) == expected


def test_decode_text_never_fails() -> None:
    assert decode_text(b"caf\xe9", None) == "café"  # not UTF-8: Latin-1
    assert decode_text(b"caf\xe9", "utf-8") == "caf\ufffd"
    assert decode_text("é".encode()[:1], None, final=False) == ""  # a cut character is dropped
    # UTF-16 raises on some bytes even with errors="replace": decoded as if no charset was given
    assert decode_text(b"\x80\xff", "utf-16") == "\x80\xff"


async def _readers(content_type: str, body: bytes, caplog: pytest.LogCaptureFixture) -> tuple[Response, str, str]:
    """The response, what the Logging plugin logged of its body and the display's text."""
    caplog.set_level(logging.INFO, logger="kclient")
    mock = Mock(lambda request: respond(body, headers={"Content-Type": content_type}))
    async with HttpClient(mock, lambda c: c.install(Logging, level="BODY")) as client:
        response = await client.get("http://h.test/doc")
    logged = [r.getMessage() for r in caplog.records if r.name == "kclient"][-1]
    return response, logged, display_bundle(response)["text/plain"]


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["rot13", "base64", "zlib", "idna", "undefined"])
async def test_a_refused_charset_is_refused_by_every_reader(name: str, caplog: pytest.LogCaptureFixture) -> None:
    body = b"plain words, not " + name.encode()
    response, logged, shown = await _readers(f"text/plain; charset={name}", body, caplog)
    assert response.charset is None
    assert response.text == body.decode()
    assert logged.endswith(body.decode())
    assert shown.endswith(body.decode())


@pytest.mark.anyio
async def test_a_declared_charset_is_used_by_every_reader(caplog: pytest.LogCaptureFixture) -> None:
    response, logged, shown = await _readers("text/plain; charset=windows-1252", b"caf\xe9 \x80", caplog)
    assert response.charset == "cp1252"
    assert response.text == "café €"
    assert logged.endswith("café €")
    assert shown.endswith("café €")
