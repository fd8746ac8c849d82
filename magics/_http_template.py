"""``HttpRequestTemplate``: one request of a ``.http`` cell as the parser (``_httpfile``) leaves
it, syntax-checked but not interpolated: its method, URL, headers and body as ``Text`` pieces,
its ``# @name``, title and directives, the cell variables and earlier request names it may use,
and its assertions, captures and save. ``render`` interpolates it into a ``RequestSpec`` (through
``_http_render``) and ``references`` names the requests it needs answered first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ._assertions import Check
from ._environments import Environment
from ._http_render import (
    ReadFile,
    Renderer,
    absolute_url,
    graphql_body,
    header_value,
    is_json,
    read_from_disk,
    render_body,
    render_header,
)
from ._http_text import CheckLine, Expr, FileBody, Header, SaveTarget, Text, Variable
from ._spec import RequestSpec

__all__ = ["HttpRequestTemplate"]

# --- the parsed cell ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequestTemplate:
    """One request of a ``.http`` cell, checked but not yet interpolated.

    ``render(namespace)`` interpolates it into a ``RequestSpec``. ``name`` is its ``# @name``,
    ``title`` the text after its ``###``, ``line`` the line of its request line,
    ``directives`` its other ``# @directives`` (``{"no-redirect": ""}``), which the parser ignores.
    """

    method: str
    url: tuple[Text, ...]
    headers: tuple[Header, ...]
    body: tuple[Text | FileBody, ...]
    line: int
    name: str | None = None
    title: str | None = None
    directives: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, Variable] = field(default_factory=dict, repr=False)
    earlier_names: Mapping[str, int] = field(default_factory=dict, repr=False)
    #: The ``??`` assertions, checked against the answer by the runner.
    checks: tuple[CheckLine, ...] = ()
    #: ``# @capture NAME = FIELD``: parts of the answer stored under a name.
    captures: tuple[tuple[str, Check], ...] = ()
    #: ``>> path`` / ``>>! path``: where the answer's body is saved.
    save: SaveTarget | None = None

    def render(
        self,
        namespace: Mapping[str, Any],
        *,
        read_file: ReadFile | None = None,
        default_scheme: str = "http",
        environment: Environment | None = None,
    ) -> RequestSpec:
        """Interpolate from ``namespace`` (the notebook's variables) and ``environment`` (its
        variables, and its ``.env`` for ``$dotenv``), and read ``< file`` bodies
        (``read_file(path) -> bytes``, default: from disk, relative to the current directory)."""
        renderer = Renderer(namespace, self.variables, self.earlier_names, environment)
        url = "".join(renderer.text(part) for part in self.url)
        headers = [render_header(renderer, header) for header in self.headers]
        url, headers = absolute_url(url, self.url[0], headers, default_scheme)
        content = render_body(renderer, self.body, headers, read_file or read_from_disk)
        method = self.method
        if method == "GRAPHQL":
            method, content = "POST", graphql_body(content, self.line, self.url[0].source)
            headers = [(name, value) for name, value in headers if name.lower() != "content-type"]
            headers.append(("Content-Type", "application/json"))
        elif content is not None and header_value(headers, "content-type") is None and is_json(content):
            headers.append(("Content-Type", "application/json"))
        return RequestSpec(method, url, headers=headers, content=content, name=self.name, line=self.line)

    def expected_values(
        self, namespace: Mapping[str, Any], *, environment: Environment | None = None
    ) -> list[str | None]:
        """The expected values of the ``??`` assertions, interpolated (``None`` for unary ones)."""
        renderer = Renderer(namespace, self.variables, self.earlier_names, environment)
        return [None if line.expected is None else renderer.text(line.expected) for line in self.checks]

    def save_path(self, namespace: Mapping[str, Any], *, environment: Environment | None = None) -> str | None:
        """The ``>>`` path, interpolated (``None`` without one)."""
        if self.save is None:
            return None
        return Renderer(namespace, self.variables, self.earlier_names, environment).text(self.save.path)

    def references(self) -> frozenset[str]:
        """The names this request's ``{{...}}`` use (through its cell variables too): the
        requests of a collection it needs answered first."""
        return self._references

    @cached_property
    def _references(self) -> frozenset[str]:
        texts: list[Text] = [*self.url]
        texts += [part for header in self.headers for part in (header.name, header.value)]
        texts += [item.path if isinstance(item, FileBody) else item for item in self.body]
        texts += [line.expected for line in self.checks if line.expected is not None]
        if self.save is not None:
            texts.append(self.save.path)
        found: set[str] = set()
        seen: set[str] = set()
        while texts:
            for part in texts.pop().parts:
                if isinstance(part, Expr) and part.dynamic is None:
                    variable = self.variables.get(part.name)
                    if variable is None:
                        found.add(part.name)
                    elif part.name not in seen:
                        seen.add(part.name)
                        texts.append(variable.value)
        return frozenset(found)
