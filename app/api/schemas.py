"""Response shapes shared by the routers: collections, problems, responses helpers."""

from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from starlette.responses import Response

from app.api.caching import Body, json_body
from app.api.problems import PROBLEM_MEDIA_TYPE
from app.core.i18n import ResponseMeta, localize
from app.core.jsonenc import dumps
from app.core.pagination import Page

T = TypeVar("T")


class Collection(BaseModel, Generic[T]):
    """Every collection: a page of items, the cursor of the next page, and the total."""

    items: list[T]
    next_cursor: str | None
    total: int
    meta: ResponseMeta


class FieldError(BaseModel):
    field: str
    message: str
    code: str


class Problem(BaseModel):
    """RFC 9457 problem details; `code` repeats the last segment of `type`."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry declaring that a route may answer these problems."""
    return {status: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}} for status in statuses}


def localized_collection(page: Page[Any], language: str | None, *, etag: str) -> Body:
    localized = localize(page.items, language)
    data = {
        "items": localized.data,
        "next_cursor": page.next_cursor,
        "total": page.total,
        "meta": localized.meta(),
    }
    return json_body(data, etag=etag, language=language)


def localized_item(item: BaseModel, language: str | None, *, etag: str) -> Body:
    localized = localize(item, language)
    data = localized.data
    data["meta"] = localized.meta()
    return json_body(data, etag=etag, language=language)


def send(body: Body, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response from a prepared body (writes and staff reads, not cached)."""
    return Response(
        content=body.content,
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": body.etag, **body.headers, **(headers or {})},
    )


def plain(data: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=dumps(data),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )
