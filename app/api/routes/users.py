"""Staff accounts, managed by platform and municipality admins."""

import uuid

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from app.api.deps import (
    CacheDep,
    CurrentPrincipal,
    IfMatch,
    Paging,
    SessionDep,
    check_if_match,
    resource_etag,
)
from app.api.schemas import Collection, plain, problems
from app.models.user import UserCreate, UserPublic, UserUpdate
from app.services import user as user_service

router = APIRouter(prefix="/users", tags=["users"])
KIND = "user"


def _send(user: UserPublic, version: int, status_code: int = 200) -> Response:
    headers = {"ETag": resource_etag(KIND, user.id, version, None), "Cache-Control": "no-store"}
    if status_code == 201:
        headers["Location"] = f"/api/v1/users/{user.id}"
    return plain(user.model_dump(mode="json"), status_code=status_code, headers=headers)


@router.get(
    "",
    response_model=Collection[UserPublic],
    responses=problems(401, 403, 404, 422),
    summary="List staff accounts",
)
async def list_users(
    session: SessionDep,
    principal: CurrentPrincipal,
    cache: CacheDep,
    paging: Paging,
    municipality: str | None = Query(default=None, description="Only this municipality's staff"),
) -> Response:
    """Platform admins see everyone; municipality admins their own municipalities' staff."""
    municipality_id = (await cache.tenant(session, municipality)).id if municipality else None
    page = await user_service.list_page(
        session=session,
        principal=principal,
        limit=paging.limit,
        cursor=paging.cursor,
        municipality_id=municipality_id,
        modified_since=paging.modified_since,
    )
    return plain(
        {
            "items": [item.model_dump(mode="json") for item in page.items],
            "next_cursor": page.next_cursor,
            "total": page.total,
            "meta": {"language": None, "fallback_fields": []},
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=problems(401, 403, 409, 422),
    summary="Create a staff account",
)
async def create_user(
    data: UserCreate, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """A municipality admin can grant roles in their own municipality, none above their own."""
    user = await user_service.create(session=session, principal=principal, data=data)
    return _send(user, 1, status_code=201)


@router.get(
    "/{user_id}",
    response_model=UserPublic,
    responses=problems(401, 404, 422),
    summary="Get a staff account",
)
async def get_user(
    user_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    user, grants = await user_service.get(session=session, principal=principal, user_id=user_id)
    (public,) = await user_service.to_public(
        session=session, users=[user], grants={user.id: grants}
    )
    return _send(public, user.version)


@router.patch(
    "/{user_id}",
    response_model=UserPublic,
    responses=problems(401, 403, 404, 409, 412, 422, 428),
    summary="Update or disable a staff account",
)
async def update_user(
    user_id: uuid.UUID,
    data: UserUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match with the ETag you read. `is_active: false` disables the account."""
    user, grants = await user_service.get(session=session, principal=principal, user_id=user_id)
    check_if_match(if_match, kind=KIND, resource_id=user.id, version=user.version)
    public = await user_service.update(
        session=session, principal=principal, user=user, grants=grants, data=data
    )
    return _send(public, user.version)
