"""``kclient._syntax``: the one definition of a control character, and what each context allows."""

from __future__ import annotations

import pytest

from kclient._syntax import has_control

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"]


@pytest.mark.parametrize(
    ("allowed", "kept"),
    [
        ("\t", "\t"),  # a header value (the default)
        ("\t\n", "\t\n"),  # a shell word in single quotes
        ("\t\n\r\f", "\t\n\r\f"),  # a text body
    ],
)
def test_every_control_but_the_allowed_ones_is_found(allowed: str, kept: str) -> None:
    for char in CONTROLS:
        assert has_control(f"a{char}b", allowed=allowed) is (char not in kept), repr(char)


@pytest.mark.parametrize("text", ["plain", "é ☃ \u0085 \u2028", "", "tab\there"])
def test_text_without_control_characters(text: str) -> None:
    assert not has_control(text)
    assert has_control(text, allowed="") is ("\t" in text)


def test_the_default_allows_only_tab() -> None:
    assert has_control("a\nb") and has_control("a\rb") and has_control("\x00")
    assert not has_control("a\tb")
