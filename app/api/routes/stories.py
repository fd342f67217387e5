"""Stories of work and life: the public feed (approved stories), staff adding and
importing stories, and moderation."""

import uuid
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app.api.caching import Body, json_body
from app.api.deps import (
    CacheDep,
    CurrentPrincipal,
    IfMatch,
    MunicipalityDep,
    OptionalPrincipal,
    Paging,
    SessionDep,
    SettingsDep,
    check_if_match,
    resource_etag,
)
from app.api.routes.personas import COMMS, CONTENT_STAFF, actor_of
from app.api.schemas import Collection, problems, send
from app.api.sync import Tombstone, sync_read, synced_page
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.pagination import Page
from app.models.story import (
    RejectIn,
    Story,
    StoryCreate,
    StoryImportResult,
    StoryPublic,
    StoryStatus,
    StoryUpdate,
)
from app.models.user import Role
from app.services import story as story_service
from app.services.auth import Principal, require_read, require_write
from app.services.story import KIND

router = APIRouter(prefix="/municipalities/{slug}", tags=["stories"])

# Editors may add and import stories and fix them while pending; publishing is for the
# comms group and admins.
CONTRIBUTORS = (Role.comms, Role.municipality_admin, Role.editor)
StatusFilter = Literal["approved", "pending", "rejected", "all"]
NO_META: dict[str, object] = {"language": None, "fallback_fields": []}


def _is_staff(principal: Principal | None, municipality_id: uuid.UUID) -> bool:
    return principal is not None and principal.has_role(municipality_id, *CONTENT_STAFF)


def _story_body(story: Story, slug: str, *, staff: bool) -> Body:
    data = story_service.document(story, slug, staff=staff) | {"meta": NO_META}
    return json_body(data, etag=resource_etag(KIND, story.id, story.version, None))


@router.get(
    "/stories",
    response_model=Collection[StoryPublic | Tombstone],
    responses=problems(401, 403, 404, 410, 422),
    summary="Stories of work and life, newest first",
)
async def list_stories(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    principal: OptionalPrincipal,
    paging: Paging,
    settings: SettingsDep,
    hashtag: Annotated[
        str | None,
        Query(max_length=101, description="With or without #, any case: #Kemijärvi = kemijärvi"),
    ] = None,
    status_: Annotated[
        StatusFilter, Query(alias="status", description="Staff only: pending, rejected or all")
    ] = "approved",
) -> Response:
    """Approved stories, newest published first, for anyone (`?limit=3` for the landing
    page's three newest). Staff of the municipality may list the moderation queue."""
    if status_ != "approved":
        if principal is None:
            raise Unauthorized("Sign in to see stories waiting for moderation.")
        require_read(principal, municipality.id, *CONTENT_STAFF)
    staff = _is_staff(principal, municipality.id)
    statuses = tuple(StoryStatus) if status_ == "all" else (StoryStatus(status_),)
    tag = story_service.hashtag_query(hashtag) if hashtag else None

    # Tombstones describe the public list (approved stories); the moderation views get none.
    read = sync_read(
        paging if status_ == "approved" else replace(paging, modified_since=None),
        "stories",
        retention_days=settings.change_retention_days,
    )

    async def fetch(cursor: str | None) -> Page[Any]:
        page = await story_service.list_page(
            session=session,
            municipality_id=municipality.id,
            statuses=statuses,
            hashtag=tag,
            modified_since=paging.modified_since,
            limit=paging.limit,
            cursor=cursor,
        )
        documents = [
            story_service.document(story, municipality.slug, staff=staff) for story in page.items
        ]
        return Page(items=documents, next_cursor=page.next_cursor, total=page.total)

    async def build(etag: str) -> Body:
        page = await synced_page(
            session=session,
            read=read,
            fetch=fetch,
            municipality_id=municipality.id,
            kinds=(KIND,),
            collection="stories",
            limit=paging.limit,
        )
        data = {
            "items": page.items,
            "next_cursor": page.next_cursor,
            "total": page.total,
            "meta": NO_META,
        }
        return json_body(data, etag=etag)

    return await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, KIND)],
        build=build,
        language=None,
        cacheable=not staff,
    )


@router.post(
    "/stories",
    status_code=status.HTTP_201_CREATED,
    response_model=StoryPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Add a story",
)
async def create_story(
    data: StoryCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Comms staff, admins and editors. A story waits for moderation (`pending`) unless
    comms or an admin sends `status: approved`. A second story with the same source URL
    is 409 `duplicate`. Hashtags written in the text are added to `hashtags`."""
    require_write(principal, municipality.id, *CONTRIBUTORS)
    if data.status == StoryStatus.approved:
        require_write(principal, municipality.id, *COMMS)
    story = await story_service.create(
        session=session, municipality_id=municipality.id, actor=actor_of(principal), data=data
    )
    location = f"/api/v1/municipalities/{municipality.slug}/stories/{story.id}"
    return send(_story_body(story, municipality.slug, staff=True), 201, {"Location": location})


async def _raw_body(request: Request) -> tuple[str, bytes]:
    """The file; BodyLimit has refused it (413) past MAX_IMPORT_BODY_BYTES."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("application/json", "text/csv"):
        raise HTTPException(415, "Send the file as application/json or text/csv.")
    return media_type, await request.body()


@router.post(
    "/stories/import",
    status_code=status.HTTP_201_CREATED,
    response_model=StoryImportResult,
    responses=problems(401, 403, 404, 413, 415, 422),
    summary="Import a batch of social-media posts as stories",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"type": "object"}},
                    "example": [
                        {
                            "title": "Marjastaja aamuvarhaisella",
                            "summary": "Hillasuolla ennen töitä. #kemijärvi",
                            "source_url": "https://www.instagram.com/p/example/",
                            "platform": "instagram",
                            "hashtags": ["#tuhannenjayhdentyönmatkatoimisto"],
                            "author": "Kemijärven kaupunki",
                            "published_at": "2026-08-14T07:30:00+03:00",
                        }
                    ],
                },
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "title,author,published_at,source_url,platform,hashtags\n"
                    "Marjastaja aamuvarhaisella,Kemijärven kaupunki,2026-08-14T07:30:00+03:00,"
                    "https://www.instagram.com/p/example/,instagram,#kemijärvi\n",
                },
            },
        }
    },
)
async def import_stories(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    status_: Annotated[
        Literal["pending", "approved"],
        Query(alias="status", description="`approved` (comms and admins) publishes at once"),
    ] = "pending",
) -> Response:
    """A JSON list of stories, or CSV with a header line naming the columns (`title`,
    `author`, `published_at` required; `summary`, `body`, `language`, `media_url`,
    `source_url`, `platform`, `hashtags` optional; hashtags separated by spaces or
    commas). A file with any bad row is refused whole: 422 `import-rejected` with every
    problem located (`[3].title`, `line 7, column published_at`), nothing imported.
    Posts whose source URL is already here (or earlier in the file) are skipped and
    listed in `skipped`."""
    require_write(principal, municipality.id, *CONTRIBUTORS)
    if status_ == "approved":
        require_write(principal, municipality.id, *COMMS)
    media_type, raw = await _raw_body(request)
    items = (
        story_service.parse_json(raw)
        if media_type == "application/json"
        else story_service.parse_csv(raw)
    )
    outcome = await story_service.import_stories(
        session=session,
        municipality_id=municipality.id,
        actor=actor_of(principal),
        items=items,
        status=StoryStatus(status_),
    )
    body = {
        "imported": len(outcome.created),
        "skipped": outcome.skipped,
        "items": [
            story_service.document(story, municipality.slug, staff=True)
            for story in outcome.created
        ],
    }
    code = 201 if outcome.created else 200
    return send(json_body(body, etag=f'"story-import-{len(outcome.created)}"'), code)


@router.get(
    "/stories/{story_id}",
    response_model=StoryPublic,
    responses=problems(404, 422),
    summary="One story",
)
async def get_story(
    story_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    principal: OptionalPrincipal,
) -> Response:
    """An approved story for anyone; staff of the municipality see any, with moderation."""
    staff = _is_staff(principal, municipality.id)

    async def build(_etag: str) -> Body:
        story = await story_service.get(
            session=session, municipality_id=municipality.id, story_id=story_id
        )
        if not staff and story.status != StoryStatus.approved:
            raise NotFound("No such story.")
        return _story_body(story, municipality.slug, staff=staff)

    return await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, KIND)],
        build=build,
        language=None,
        cacheable=not staff,
    )


async def _editable(
    session: SessionDep, municipality: MunicipalityDep, principal: Principal, story_id: uuid.UUID
) -> Story:
    require_write(principal, municipality.id, *CONTRIBUTORS)
    story = await story_service.get(
        session=session, municipality_id=municipality.id, story_id=story_id, for_update=True
    )
    if story.status != StoryStatus.pending and not principal.has_role(municipality.id, *COMMS):
        raise Forbidden("Editors change stories only while they wait for moderation.")
    return story


@router.patch(
    "/stories/{story_id}",
    response_model=StoryPublic,
    responses=problems(401, 403, 404, 409, 412, 422, 428),
    summary="Update a story",
)
async def update_story(
    story_id: uuid.UUID,
    data: StoryUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match with the ETag you read. Editors only while the story is pending."""
    story = await _editable(session, municipality, principal, story_id)
    check_if_match(if_match, kind=KIND, resource_id=story.id, version=story.version)
    story = await story_service.update(session=session, story=story, data=data)
    return send(_story_body(story, municipality.slug, staff=True))


@router.delete(
    "/stories/{story_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 412, 428),
    summary="Delete a story",
)
async def delete_story(
    story_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    """Comms staff and admins; editors only while the story is pending."""
    story = await _editable(session, municipality, principal, story_id)
    check_if_match(if_match, kind=KIND, resource_id=story.id, version=story.version)
    await story_service.remove(session=session, story=story)
    return Response(status_code=204)


async def _moderate(
    story_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: Principal,
    if_match: str | None,
    target: StoryStatus,
    reason: str | None = None,
) -> Response:
    require_write(principal, municipality.id, *COMMS)
    story = await story_service.get(
        session=session, municipality_id=municipality.id, story_id=story_id, for_update=True
    )
    if if_match:
        check_if_match(if_match, kind=KIND, resource_id=story.id, version=story.version)
    story = await story_service.moderate(
        session=session, story=story, actor=actor_of(principal), status=target, reason=reason
    )
    return send(_story_body(story, municipality.slug, staff=True))


@router.post(
    "/stories/{story_id}/approve",
    response_model=StoryPublic,
    responses=problems(401, 403, 404, 409, 412),
    summary="Approve a story: it becomes public",
)
async def approve_story(
    story_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    """Comms staff and admins; from pending or rejected. If-Match is optional here."""
    return await _moderate(
        story_id, municipality, session, principal, if_match, StoryStatus.approved
    )


@router.post(
    "/stories/{story_id}/reject",
    response_model=StoryPublic,
    responses=problems(401, 403, 404, 409, 412, 422),
    summary="Reject a story (or take an approved one down)",
)
async def reject_story(
    story_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    data: RejectIn | None = None,
    if_match: IfMatch = None,
) -> Response:
    """Comms staff and admins; from pending or approved. The reason is for staff only."""
    return await _moderate(
        story_id,
        municipality,
        session,
        principal,
        if_match,
        StoryStatus.rejected,
        data.reason if data else None,
    )
