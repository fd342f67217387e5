"""`X-Request-ID` on every response, and on every log line written while serving it.

asgi-correlation-id's pure ASGI middleware does the work: it takes the id from the
request when a proxy or client sent one, makes one (uuid4 hex) otherwise, keeps it in
a context variable that app/core/logging.py adds to each record, and sets the header
on the response. Installed outermost (after every other `add_middleware`), so FastLane
answers, TextGuard's and body-size refusals and problem documents all carry it; a 500,
answered by Starlette's outer error middleware, gets it from `problems._unexpected`.
"""

import re

from asgi_correlation_id import CorrelationIdMiddleware
from asgi_correlation_id.context import correlation_id
from fastapi import FastAPI

HEADER = "X-Request-ID"
# A proxy's id is kept when it is short and plain: it ends up in logs and headers, so
# no spaces, quotes or control characters, and no more than 128 characters.
_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def acceptable(value: str) -> bool:
    return _SAFE.fullmatch(value) is not None


def current() -> str | None:
    """The id of the request being served, None outside a request."""
    return correlation_id.get()


def install(app: FastAPI) -> None:
    """Call after every other `add_middleware`: the last one added runs first."""
    app.add_middleware(CorrelationIdMiddleware, header_name=HEADER, validator=acceptable)
