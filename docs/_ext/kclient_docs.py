"""Sphinx directives that draw the docs' tables from the code, so that they cannot drift from it.

- ``kclient-settings`` ENGINE-OR-PLUGIN: the typed settings of an engine (``CIO``) or a plugin
  (``HttpTimeout``, or ``kclient.plugins.cache:HttpCache`` for one kclient does not export),
  from ``kclient.describe_settings``: name, type, default, range, meaning.
- ``kclient-errors``: the exception tree under ``KClientError``, as nested lists.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _config_class(name: str) -> type[Any]:
    import kclient
    from kclient.engines import registry

    if name in registry().names():
        config_class: type[Any] = registry().get(name).config_class
        return config_class
    if ":" in name:  # a plugin kclient does not export at the top: kclient.plugins.cache:HttpCache
        import importlib

        module, _, attribute = name.partition(":")
        plugin = getattr(importlib.import_module(module), attribute, None)
    else:
        plugin = getattr(kclient, name, None)
    if plugin is None or not hasattr(plugin, "config_class"):
        raise ValueError(f"kclient-settings: {name!r} is neither a registered engine nor a plugin of kclient")
    plugin_config: type[Any] = plugin.config_class
    return plugin_config


def _default_text(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, tuple | list | dict | frozenset) and not value:
        return "empty"
    return repr(value)


class SettingsTable(SphinxDirective):
    """``kclient-settings CIO``: the settings table of an engine or a plugin."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        import kclient

        try:
            infos = kclient.describe_settings(_config_class(self.arguments[0]))
        except ValueError as exc:
            raise self.error(str(exc)) from exc
        columns = ("setting", "type", "default", "range", "what it does")
        rows = [(info.name, info.type_text, _default_text(info.default), info.range_text, info.doc) for info in infos]
        table = nodes.table(classes=["kclient-settings"])
        group = nodes.tgroup(cols=len(columns))
        table += group
        for width in (18, 16, 10, 14, 42):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += _row(columns, literal_first=False)
        group += head
        body = nodes.tbody()
        for row in rows:
            body += _row(row, literal_first=True)
        group += body
        return [table]


def _inline(text: str) -> list[nodes.Node]:
    """``text`` with its ````literals```` as literal nodes (docstrings mark code that way)."""
    parts = text.split("``")
    return [nodes.literal(text=part) if index % 2 else nodes.Text(part) for index, part in enumerate(parts) if part]


def _row(cells: tuple[str, ...], *, literal_first: bool) -> nodes.row:
    row = nodes.row()
    for index, text in enumerate(cells):
        entry = nodes.entry()
        paragraph = nodes.paragraph()
        if literal_first and index == 0:
            paragraph += nodes.literal(text=text)
        else:
            paragraph += _inline(text)
        entry += paragraph
        row += entry
    return row


class ErrorTree(SphinxDirective):
    """``kclient-errors``: every exception class of kclient under its root, ``KClientError``."""

    def run(self) -> list[nodes.Node]:
        import kclient

        public = {value for value in vars(kclient).values() if isinstance(value, type)}
        return [_tree(kclient.KClientError, None, public)]


def _tree(error: type[BaseException], parent: type[BaseException] | None, public: set[Any]) -> nodes.bullet_list:
    import kclient

    items = nodes.bullet_list()
    item = nodes.list_item()
    paragraph = nodes.paragraph()
    paragraph += nodes.literal(text=error.__name__)
    others = [base.__name__ for base in error.__bases__ if base is not parent and base is not kclient.KClientError]
    if parent is not None and others:  # a class with two kclient parents is listed under each
        paragraph += nodes.Text(f" (also a {', '.join(others)})")
    summary = " ".join((error.__doc__ or "").strip().split("\n\n")[0].split())  # its first paragraph
    if summary:
        paragraph += nodes.Text(": ")
        paragraph += _inline(summary)
    item += paragraph
    children = [child for child in error.__subclasses__() if child in public]  # the public tree: kclient's exports
    if children:
        item += nodes.bullet_list()
        for child in sorted(children, key=lambda c: c.__name__):
            item[-1] += _tree(child, error, public).children[0]
    items += item
    return items


def _public_reference(app: Sphinx, env: Any, node: Any, contnode: nodes.Element) -> nodes.Element | None:
    """Type hints name classes where they are defined (``kclient._models.Request``) or by a bare
    name imported for type checking (``Cookie``); link them to the public name when the
    reference documents it (``kclient.Request``), so that only names nobody documents are left."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not (target.startswith("kclient.") or "." not in target):
        return None
    public = "kclient." + target.rsplit(".", 1)[-1]
    domain = env.get_domain("py")
    if public == target or public not in domain.objects:
        return None
    resolved: nodes.Element | None = domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], public, node, contnode
    )
    return resolved


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("kclient-settings", SettingsTable)
    app.add_directive("kclient-errors", ErrorTree)
    app.connect("missing-reference", _public_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
