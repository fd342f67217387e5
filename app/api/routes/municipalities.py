"""Municipalities: public reads, platform-admin writes."""

from fastapi import APIRouter, Request, status
from starlette.responses import Response

from app.api.caching import MUNICIPALITY_KIND, Body, json_body, make_etag
from app.api.deps import (
    CacheDep,
    CurrentPrincipal,
    IfMatch,
    Lang,
    Paging,
    SessionDep,
    check_if_match,
    resource_etag,
)
from app.api.schemas import Collection, localized_collection, localized_item, problems, send
from app.core.pagination import Page
from app.models.content_version import GLOBAL_SCOPE
from app.models.municipality import (
    Municipality,
    MunicipalityCreate,
    MunicipalityPublic,
    MunicipalityUpdate,
    OnboardIn,
    OnboardOutcome,
)
from app.models.user import Role
from app.services import municipality as municipality_service
from app.services import onboarding as onboarding_service
from app.services.auth import require_platform_admin, require_write
from app.services.service_card import Actor

router = APIRouter(prefix="/municipalities", tags=["municipalities"])


def _item(row: Municipality, language: str | None) -> Body:
    return localized_item(
        MunicipalityPublic.from_row(row),
        language,
        etag=resource_etag(MUNICIPALITY_KIND, row.id, row.version, language),
    )


@router.get(
    "",
    response_model=Collection[MunicipalityPublic],
    responses=problems(422),
    summary="List municipalities",
)
async def list_municipalities(
    request: Request, session: SessionDep, cache: CacheDep, lang: Lang, paging: Paging
) -> Response:
    """Every municipality served, ordered by slug. Public and cached."""

    async def build(etag: str) -> Body:
        page = await municipality_service.list_page(
            session=session,
            limit=paging.limit,
            cursor=paging.cursor,
            modified_since=paging.modified_since,
        )
        public = Page(
            items=[MunicipalityPublic.from_row(row) for row in page.items],
            next_cursor=page.next_cursor,
            total=page.total,
        )
        return localized_collection(public, lang, etag=etag)

    return await cache.serve(
        request, session, depends_on=[(GLOBAL_SCOPE, MUNICIPALITY_KIND)], build=build, language=lang
    )


@router.get(
    "/{slug}",
    response_model=MunicipalityPublic,
    responses=problems(404, 422),
    summary="Get a municipality",
)
async def get_municipality(
    slug: str, request: Request, session: SessionDep, cache: CacheDep, lang: Lang
) -> Response:
    """One municipality with its contact channels and hashtags. Public and cached."""
    ref = await cache.tenant(session, slug)

    async def build(_etag: str) -> Body:
        row = await municipality_service.get_by_id(session=session, municipality_id=ref.id)
        return _item(row, lang)

    return await cache.serve(
        request, session, depends_on=[(ref.scope, MUNICIPALITY_KIND)], build=build, language=lang
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MunicipalityPublic,
    responses=problems(401, 403, 409, 422),
    summary="Add a municipality",
)
async def create_municipality(
    data: MunicipalityCreate, session: SessionDep, principal: CurrentPrincipal, lang: Lang
) -> Response:
    """Platform admins only."""
    require_platform_admin(principal)
    row = await municipality_service.create(session=session, data=data)
    return send(
        _item(row, lang),
        status_code=201,
        headers={"Location": f"/api/v1/municipalities/{row.slug}"},
    )


@router.patch(
    "/{slug}",
    response_model=MunicipalityPublic,
    responses=problems(401, 403, 404, 409, 412, 422, 428),
    summary="Update a municipality",
)
async def update_municipality(
    slug: str,
    data: MunicipalityUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Platform admins only; send If-Match with the ETag you read."""
    require_platform_admin(principal)
    row = await municipality_service.get_by_slug(session=session, slug=slug, for_update=True)
    check_if_match(if_match, kind=MUNICIPALITY_KIND, resource_id=row.id, version=row.version)
    row = await municipality_service.update(session=session, municipality=row, data=data)
    return send(_item(row, lang))


@router.post(
    "/{slug}/onboard",
    response_model=OnboardOutcome,
    responses=problems(401, 403, 404, 422),
    summary="Start a municipality from another's starter kit",
    tags=["onboarding"],
)
async def onboard_municipality(
    slug: str,
    data: OnboardIn,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Copies into this municipality, as drafts with provenance: the published service
    cards, the personas, the service promise, the journey, the landing configuration
    with its tiles, the communication plan (this year's draft), the experiment fund's
    rules (a draft round) and the roadmap template (draft phases) (`parts`, default
    all). Idempotent: a second call adds nothing. The source's name is replaced by this
    municipality's in the copied texts and links, and every text, link, hashtag and
    money figure to check is listed under `review` (the readiness report flags what is
    left). A municipality admin of the target or a platform admin may call it."""
    target = await municipality_service.get_by_slug(session=session, slug=slug)
    require_write(principal, target.id, Role.municipality_admin)
    source = await municipality_service.get_by_slug(session=session, slug=data.from_municipality)
    outcome = await onboarding_service.onboard(
        session=session,
        source=source,
        target=target,
        actor=Actor(id=principal.user.id, name=principal.user.display_name),
        parts=list(data.parts) if data.parts else None,
    )
    document = {"municipality": target.slug, "source": source.slug, **outcome.document()}
    return send(json_body(document, etag=make_etag("onboard", target.slug, document)))
