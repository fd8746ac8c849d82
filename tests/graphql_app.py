"""A GraphQL server for tests: an ASGI app over graphql-core (the reference implementation's
Python port), served by ``servers.Hypercorn``.

It answers ``POST /graphql`` with a JSON ``{"query", "variables", "operationName"}`` document as
GraphQL-over-HTTP servers do: ``{"data": ...}``, with ``"errors"`` when the query is wrong.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA = """
type Book { id: Int!, title: String! }
type Query { book(id: Int!): Book, books: [Book!]! }
type Mutation { addBook(title: String!): Book! }
"""

BOOKS = [{"id": 1, "title": "Dune"}, {"id": 2, "title": "Emma"}]


def make_app() -> Any:
    from graphql import build_schema, graphql

    schema = build_schema(SCHEMA)
    books = [dict(book) for book in BOOKS]

    class Root:
        def book(self, info: Any, id: int) -> dict[str, Any] | None:
            return next((book for book in books if book["id"] == id), None)

        def books(self, info: Any) -> list[dict[str, Any]]:
            return books

        def addBook(self, info: Any, title: str) -> dict[str, Any]:
            book = {"id": len(books) + 1, "title": title}
            books.append(book)
            return book

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] != "POST" or scope["path"] != "/graphql":
            await _answer(send, 404, {"errors": [{"message": "POST /graphql"}]})
            return
        try:
            document = json.loads(body)
        except ValueError:
            await _answer(send, 400, {"errors": [{"message": "the body is not JSON"}]})
            return
        result = await graphql(
            schema,
            document.get("query", ""),
            root_value=Root(),
            variable_values=document.get("variables"),
            operation_name=document.get("operationName"),
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [{"message": error.message} for error in result.errors]
        await _answer(send, 200, answer)

    return app


async def _answer(send: Any, status: int, document: dict[str, Any]) -> None:
    body = json.dumps(document).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
