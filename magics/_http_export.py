"""``%kclient history --http``: what a notebook sent, written back as a ``.http`` file.

Each request of the history becomes a ``###`` block (method, URL, headers, body) that
``%kclient run``, ``kclient run`` and the pytest plugin run again. Secrets never reach the
text: they become ``{{variables}}`` to define in ``http-client.private.env.json``:

* a secret header's value (``Authorization``, ``Cookie``, ``X-Api-Key``... and the magics'
  ``masked_headers``) becomes ``{{authorization}}``, ``{{x_api_key}}`` (the whole value: the
  variable holds ``Bearer ...`` too);
* a secret query parameter's or form or JSON field's value (``token``, ``password``...) becomes
  ``{{token}}``, and a URL's password ``{{password}}``;
* a value of the private environment becomes the name it has there (``{{api_token}}``), and
  any other value declared secret ``{{secret}}``.

Requests that failed before they were sent are exported too (they are what was asked for);
binary bodies are left out with a comment saying so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote_plus

from yarl import URL

from kclient._redact import SECRET_HEADERS, SECRET_QUERY_KEYS, declared_secrets

from ._display import HistoryEntry
from ._spec import RequestSpec

__all__ = ["history_as_http"]

_HEADER = (
    "# Exported from a notebook by %kclient history --http.\n"
    "# Secrets are {{variables}}: define them in http-client.private.env.json."
)


def history_as_http(
    entries: Sequence[HistoryEntry], *, masked_headers: Iterable[str] = (), secret_names: Mapping[str, str] = {}
) -> str:
    """The ``.http`` text of ``entries`` (those that carry the request they sent).

    ``secret_names`` maps secret values to the variable names they have (the private
    environment's); ``masked_headers`` adds header names to treat as secret.
    """
    secret_headers = SECRET_HEADERS | {name.lower() for name in masked_headers}
    blocks = [_HEADER]
    for number, entry in enumerate(entries, start=1):
        if entry.spec is None:
            continue
        outcome = f"{entry.status}" if entry.status is not None else "failed"
        text = _block(entry.spec, secret_headers, secret_names)
        blocks.append(f"### {number}: {outcome}, {entry.when:%H:%M:%S}\n{_replace_values(text, secret_names)}")
    return "\n\n".join(blocks) + "\n"


def _block(spec: RequestSpec, secret_headers: frozenset[str], names: Mapping[str, str]) -> str:
    lines = [f"# @name {spec.name}"] if spec.name else []
    lines.append(f"{spec.method} {_url(spec)}")
    for name, value in spec.headers:
        secret = name.lower() in secret_headers and value not in names  # a private value: by its name, below
        lines.append(f"{name}: {_var(name) if secret else value}")
    body = _body(spec)
    if body is not None:
        lines += ["", body]
    # Literal {{ of what was sent stays literal when the file runs again; then the variables.
    text = "\n".join(lines).replace("{{", "\\{{")
    return _PLACEHOLDER.sub(lambda match: "{{" + match.group(1) + "}}", text)


def _var(name: str) -> str:
    """A placeholder for the variable named after ``name`` (``X-Api-Key`` -> ``x_api_key``)."""
    return f"\ue000{_variable(name)}\ue001"


_PLACEHOLDER = re.compile("\ue000(\\w+)\ue001")


def _pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """``key=value&...``, percent-encoded, with secret values as variables."""
    return "&".join(
        f"{quote_plus(key)}={_var(key) if key.lower() in SECRET_QUERY_KEYS else quote_plus(value)}"
        for key, value in pairs
    )


def _url(spec: RequestSpec) -> str:
    url = URL(spec.url)
    if spec.params:
        url = url.update_query(spec.params)
    query = list(url.query.items())
    url = url.with_query(None)
    text = str(url.with_password(_var("password"))) if url.password else str(url)
    return f"{text}?{_pairs(query)}" if query else text


def _body(spec: RequestSpec) -> str | None:
    """The body as ``.http`` text: JSON and forms with their secret fields as variables."""
    if spec.has_json:
        return json.dumps(_json_variables(spec.json), ensure_ascii=False, indent=2)
    if spec.files:
        return "# a multipart body (files) is not exported: write it with '< ./file' lines"
    if spec.form:
        values = spec.form.items()
        return _pairs((key, item) for key, value in values for item in ([value] if isinstance(value, str) else value))
    if spec.content is None:
        return None
    try:
        text = spec.content.decode("utf-8")
    except UnicodeDecodeError:
        return f"# a binary body of {len(spec.content)} bytes is not exported: send it with '< ./file'"
    if _is_form(spec):
        return _pairs(parse_qsl(text, keep_blank_values=True))
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return (
        json.dumps(_json_variables(parsed), ensure_ascii=False, indent=2) if isinstance(parsed, (dict, list)) else text
    )


def _json_variables(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _var(key) if isinstance(key, str) and key.lower() in SECRET_QUERY_KEYS else _json_variables(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_json_variables(item) for item in value]
    return value


def _is_form(spec: RequestSpec) -> bool:
    return any(
        name.lower() == "content-type" and value.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
        for name, value in spec.headers
    )


def _variable(name: str) -> str:
    """A header or field name as a variable name: ``X-Api-Key`` -> ``x_api_key``."""
    return re.sub(r"\W", "_", name.lower()).strip("_") or "secret"


def _replace_values(text: str, names: Mapping[str, str]) -> str:
    """Values of the private environment by their names; other declared secrets as ``{{secret}}``."""
    for value, name in sorted(names.items(), key=lambda item: len(item[0]), reverse=True):
        text = text.replace(value, f"{{{{{name}}}}}")
    for value in declared_secrets():
        text = text.replace(value, "{{secret}}")
    return text
