"""The change feed: every public change of a municipality's content, in order."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field
from starlette.responses import Response

from app.api.caching import etag_matches, make_etag
from app.api.deps import MunicipalityDep, SessionDep, SettingsDep
from app.api.schemas import problems
from app.core.jsonenc import dumps
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.services import changes as change_service

router = APIRouter(prefix="/municipalities/{slug}", tags=["changes"])


class ChangePublic(BaseModel):
    """One public change: what (`kind`, `id`), how (`action`, the feed's verb; `event`,
    the webhook event type with the domain's verb), when, and where to read it now."""

    kind: str = Field(description="service_card, slot, story, guide, persona, ...")
    id: uuid.UUID
    action: Literal["created", "updated", "deleted", "published", "unpublished"]
    event: str = Field(description="`<kind>.<verb>`, e.g. slot.booked, story.approved")
    revision: int | None = Field(description="The resource's revision after it, if it has one")
    occurred_at: AwareDatetime
    url: str = Field(description="The resource's public URL (gone after deleted/unpublished)")


class ChangeFeed(BaseModel):
    items: list[ChangePublic]
    next_cursor: str | None = Field(description="The next page, or null at the end for now")
    resume_cursor: str = Field(
        description="Where to continue later: pass it as `after` on the next poll"
    )
    total: int = Field(description="Changes after `after` (this page included)")


@router.get(
    "/changes",
    response_model=ChangeFeed,
    responses=problems(404, 410, 422),
    summary="The change feed",
)
async def list_changes(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    after: Annotated[str | None, Query(max_length=1000, description="A feed cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Every public change of the municipality's content, oldest first: cards, guides,
    slots, stories, personas, the service promise, the journey, the landing page, the
    roadmap and the experiment fund. Follow `next_cursor` to the end, keep
    `resume_cursor`, and poll with it as `after`: no change is missed or repeated, even
    while writes happen. Without `after` the feed starts at the oldest change kept
    (`CHANGE_RETENTION_DAYS`); a cursor older than that is a 410 `sync-expired`."""
    page = await change_service.read_feed(
        session=session,
        municipality_id=municipality.id,
        after=after,
        limit=limit,
        retention_days=settings.change_retention_days,
    )
    base = settings.public_base_url
    data = {
        "items": [change_service.feed_item(change, base) for change in page.items],
        "next_cursor": page.next_cursor,
        "resume_cursor": page.resume_cursor,
        "total": page.total,
    }
    content = dumps(data)
    etag = make_etag("changes", content)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=content, media_type="application/json", headers=headers)
