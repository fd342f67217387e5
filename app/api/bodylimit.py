"""Cap request bodies while they stream, before anything buffers or parses them.

Every body used to be read whole first: TextGuard buffers it to look for NUL, then FastAPI
or Strawberry parses it; only the import routes counted bytes, and only after TextGuard
had buffered them. An anonymous 100 MB JSON message kept a worker busy for over a second
before its 422. This pure ASGI middleware wraps every body reader:

- a declared Content-Length over the limit is answered 413 at once, the body unread
  (and, from a client that sent `Expect: 100-continue`, never even sent);
- a body without one (chunked) is counted as it streams, and the read that passes the
  limit raises `BodyTooLarge` instead of returning, as does every read after it, so no
  handler ever takes a truncated body for a whole one. Raised in a route, the problem
  handlers answer it (FastAPI re-raises HTTP exceptions from body parsing); raised
  through a middleware that was buffering (TextGuard), it reaches this one, which
  answers it itself, as long as no response has started.

The import routes (`…/import` and `…/import/<format>`) take files up to a larger limit.
"""

import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response

IMPORT_PATH = re.compile(r"/import(?:/[a-z0-9-]+)?/?$")
# The rest of the body is left unread: the connection cannot be reused for another request.
CLOSE = {"Connection": "close"}


def _size(limit: int) -> str:
    megabytes = limit / 2**20
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{limit} bytes"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"The request body is larger than {_size(limit)}, the most this endpoint accepts.",
            headers=CLOSE,
        )


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int, max_import_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_import_bytes = max_import_bytes

    def limit_for(self, path: str) -> int:
        return self.max_import_bytes if IMPORT_PATH.search(path) else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(BodyTooLarge(limit), scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            if received > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge as error:
            if started:
                raise  # too late for a 413: the server drops the connection
            await _refuse(error, scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _refuse(error: BodyTooLarge, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem_response(
        status=413,
        code="payload-too-large",
        title="Payload too large",
        detail=error.detail,
        instance=scope["path"],
        headers=CLOSE,
    )
    await response(scope, receive, send)
