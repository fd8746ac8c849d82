"""One home for masking (``kclient._redact``): the Logging plugin, the notebook display and the
curl export hide the same headers, URLs and fields."""

from __future__ import annotations

import json
import logging

import pytest
from kclient.magics._curl import to_curl
from kclient.magics._display import display_bundle
from kclient.magics._spec import RequestSpec

from kclient import HttpClient, Mock, respond
from kclient._redact import MASK, mask_form, mask_header_value, mask_json, mask_json_text
from kclient.plugins.logs import Logging

#: Request headers that carry a secret, by every copy's rules.
REQUEST_HEADERS = {
    "Authorization": "Bearer auth-s3cr3t",
    "Proxy-Authorization": "Basic proxy-s3cr3t",
    "Cookie": "sid=cookie-s3cr3t",
    "X-Api-Key": "apikey-s3cr3t",
    "X-Auth-Token": "authtoken-s3cr3t",
    "Referer": "http://h.test/from?token=referer-s3cr3t",
}
#: Response headers that carry a secret.
RESPONSE_HEADERS = [
    ("Set-Cookie", "session=setcookie-s3cr3t; Path=/"),
    ("Location", "http://me:location-s3cr3t@h.test/next?sig=location-sig-s3cr3t"),
    ("Content-Location", "/here?api_key=contentloc-s3cr3t"),
    ("Link", '<http://h.test/p?key=link-s3cr3t>; rel="next"'),
]


@pytest.mark.anyio
async def test_logs_and_display_mask_the_same_headers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kclient")
    mock = Mock(lambda request: respond(b"{}", headers=dict(RESPONSE_HEADERS)))
    async with HttpClient(mock, lambda c: c.install(Logging, level="HEADERS")) as client:
        response = await client.get("http://h.test/doc", headers=REQUEST_HEADERS)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "kclient")
    shown = display_bundle(response, verbose=True)
    for text in (logged, shown["text/plain"], shown["text/html"]):
        assert "s3cr3t" not in text
    assert "Link: <http://h.test/p?key=***>" in logged  # the Logging plugin now masks Link targets too
    assert "Referer: http://h.test/from?token=***" in logged


@pytest.mark.parametrize(("name", "value"), [*REQUEST_HEADERS.items(), *RESPONSE_HEADERS])
def test_every_secret_header_is_masked_in_both_forms(name: str, value: str) -> None:
    for keep_structure in (False, True):
        shown = mask_header_value(name, value, keep_structure=keep_structure)
        assert "s3cr3t" not in shown
        assert MASK in shown


def test_extra_names_mask_headers_and_url_parameters() -> None:
    assert mask_header_value("X-Session", "abc", ["x-SESSION"]) == MASK
    assert mask_header_value("Location", "/next?code=c&x=1", (), ["code"]) == "/next?code=***&x=1"


@pytest.mark.parametrize(
    ("text", "extra", "expected"),
    [
        ("user=me&password=p&Token=t", (), "user=me&password=***&Token=***"),
        ("a=1;password=p", (), "a=1;password=***"),  # ";" separates fields too
        ("pass%77ord=p&x=1", (), "pass%77ord=***&x=1"),  # the name is percent-decoded
        ("code=c&x=1", ("CODE",), "code=***&x=1"),
        ("password", (), "password"),  # no value
    ],
)
def test_mask_form(text: str, extra: tuple[str, ...], expected: str) -> None:
    assert mask_form(text, extra) == expected


def test_mask_json_and_json_text() -> None:
    value = {"user": "me", "token": "t", "deep": [{"Secret": "s", "session": "x"}]}
    assert mask_json(value) == {"user": "me", "token": MASK, "deep": [{"Secret": MASK, "session": "x"}]}
    assert mask_json(value, ["session"])["deep"] == [{"Secret": MASK, "session": MASK}]
    assert mask_json_text(json.dumps(value), ["session"]) == json.dumps(mask_json(value, ["session"]))


def test_curl_export_masks_url_headers_and_extra_body_fields() -> None:
    request = RequestSpec(
        method="POST",
        url="http://h.test/a?x=1;token=t0ken-s3cr3t",
        headers=[("Referer", "http://h.test/?token=referer-s3cr3t"), ("Content-Type", "application/json")],
        content=b'{"session": "session-s3cr3t", "password": "pw-s3cr3t"}',
    )
    command = to_curl(request, masked=frozenset({"session"}))
    assert "s3cr3t" not in command
    assert "Referer: http://h.test/?token=***" in command
