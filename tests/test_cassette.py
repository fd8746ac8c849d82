"""The cassette file: what is written reads back exactly (every kind of body, property-tested
against PyYAML's reader), appends stay valid, and the file is the readable text it promises."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("yaml", reason="needs PyYAML: pip install 'kclient[record]'")

from kclient._cassette import Cassette, Interaction, RecordedRequest, RecordedResponse, dump


def interaction(body: bytes, *, chunks: tuple[tuple[float, bytes], ...] | None = None) -> Interaction:
    return Interaction(
        RecordedRequest("POST", "http://api.test/x?a=1", (("Content-Type", "text/plain"), ("X-Q", 'say "hi"')), body),
        RecordedResponse(200, "OK", "HTTP/1.1", (("Content-Type", "text/plain"),), body, chunks, 0.0000123),
        "2026-12-07T12:00:00Z",
    )


def roundtrip(tmp_path: Path, items: list[Interaction]) -> list[Interaction]:
    path = tmp_path / "c.yaml"
    path.write_text(dump(items), encoding="utf-8")
    return Cassette.load(path).interactions


BODIES = [
    b"",
    b"one line",
    b"two\nlines",
    b"ends with a line break\n",
    b"ends with two\n\n",
    b"ends with three\n\n\n",
    b"  starts with spaces\nand more",
    b"\nstarts with a line break\nx",
    b"tabs\tinside\n\tand leading",
    b"a\r\nwindows\r\nbody",
    b"line\n   \nwhitespace-only line\n",
    b"trailing spaces   \nhere  ",
    "unicode: café ✓ \u2028 sep\nline".encode(),
    b"\x00\x01binary\xff",
    b"- looks: like yaml\n? key\n: value\n# comment\n...\n---\n",
    b'{"json": [1, 2]}\n',
    b"kclient_cassette: 1\ninteractions:\n- x",
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_every_kind_of_body_reads_back_exactly(tmp_path: Path, body: bytes) -> None:
    (back,) = roundtrip(tmp_path, [interaction(body, chunks=((0.0, body), (0.25, b"\n\n")))])
    assert back.request.body == (body or b"") and back.response.body == body
    assert back.response.chunks == ((0.0, body), (0.25, b"\n\n"))
    assert back.request.headers == (("Content-Type", "text/plain"), ("X-Q", 'say "hi"'))
    assert back.response.elapsed == pytest.approx(0.000012)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=60) | st.text(max_size=60).map(str.encode), min_size=1, max_size=4))
def test_any_bodies_read_back_exactly(tmp_path_factory: pytest.TempPathFactory, bodies: list[bytes]) -> None:
    tmp_path = tmp_path_factory.mktemp("c")
    back = roundtrip(tmp_path, [interaction(body) for body in bodies])
    assert [item.response.body for item in back] == bodies


def test_appended_interactions_keep_the_file_valid(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    cassette = Cassette.load(path)
    cassette.append(interaction(b"first\n\n\n"))  # a body whose block keeps its line breaks
    cassette.save()
    first = path.read_text()
    again = Cassette.load(path)
    again.append(interaction(b"second"))
    again.save()
    assert path.read_text().startswith(first)  # appended, not rewritten
    assert [item.response.body for item in Cassette.load(path).interactions] == [b"first\n\n\n", b"second"]


def test_the_file_reads_as_the_exchange(tmp_path: Path) -> None:
    text = dump([interaction(b'{\n  "items": [1, 2]\n}\n')])
    assert text.startswith("# A kclient cassette")
    assert '    - ["Content-Type", "text/plain"]\n' in text
    assert '      text: |\n        {\n          "items": [1, 2]\n        }\n' in text
    assert dump([]).endswith("interactions: []\n")
