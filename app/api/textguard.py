"""Refuse the NUL character (U+0000) before it reaches the database.

PostgreSQL cannot store U+0000 in text or JSONB ("invalid byte sequence for encoding
UTF8: 0x00", "unsupported Unicode escape sequence"), so a query parameter or a JSON
string carrying one used to end as a 500 after the request had already done its work;
SQLite stores it happily, so only PostgreSQL showed it (schemathesis found it). It is
never meaningful in this API's text, so it is a 422 naming the field, or a 404 in a path.

An ASGI middleware rather than a validator on every model: it covers query parameters,
JSON and form bodies of every route and GraphQL alike. A body is only parsed when its
raw bytes could hold a NUL (`\\u0000` in JSON, `%00` in a form), so the usual request
costs one substring search.
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response

NUL = "\x00"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _nul_paths(value: Any, where: str) -> Iterator[str]:
    """Where in a parsed JSON document a key or a string holds NUL, in document order.

    Walked with a stack of its own, not by recursion: a body nested a thousand levels
    deep (the JSON parser allows it) ran out of Python's recursion limit here, a 500."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                yield where
        elif isinstance(value, dict):
            children: list[tuple[Any, str]] = []
            for key, item in value.items():
                if NUL in key:
                    children.append((NUL, where))  # reported here, in its turn
                else:
                    children.append((item, f"{where}.{key}"))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(item, f"{where}[{i}]") for i, item in enumerate(value)]))


def _form_paths(raw: bytes, prefix: str) -> list[str]:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return [f"{prefix}.{name.strip(NUL) or '?'}" for name, value in pairs if NUL in name + value]


class TextGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if NUL in scope["path"]:
            response = problem_response(
                status=404, code="not-found", title="Not found", detail="No such resource."
            )
            await response(scope, receive, send)
            return
        fields = (
            _form_paths(scope["query_string"], "query") if b"%00" in scope["query_string"] else []
        )
        if scope["method"] in BODY_METHODS and not fields:
            body, receive = await _buffered(receive)
            fields = _body_paths(scope, body)
        if fields:
            response = problem_response(
                status=422,
                code="validation-failed",
                title="Invalid input",
                detail="Text may not contain the NUL character (U+0000); see `errors`.",
                instance=scope["path"],
                errors=[
                    {"field": field, "message": "contains U+0000", "code": "invalid-character"}
                    for field in fields
                ],
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _body_paths(scope: Scope, body: bytes) -> list[str]:
    content_type = ""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1").lower()
    if "json" in content_type and b"\\u0000" in body:
        try:
            return list(_nul_paths(orjson.loads(body), "body"))
        except orjson.JSONDecodeError:
            return []  # not JSON after all: the route's own parsing answers that
    if "x-www-form-urlencoded" in content_type and b"%00" in body:
        return _form_paths(body, "body")
    return []


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it on as if unread. Bounded:
    BodyLimit, outside this middleware, stops the reads at MAX_BODY_BYTES."""
    chunks = []
    last: Message = {"type": "http.request", "body": b"", "more_body": False}
    while True:
        message = await receive()
        if message["type"] != "http.request":
            last = message  # the client went away: hand that on after what came
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    more = last["type"] != "http.request"
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": more}]
    if last["type"] != "http.request":
        pending.append(last)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return body, replay
