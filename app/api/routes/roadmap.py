"""The settlement services' roadmap and the yearly review of the operating model: public
to read, changed by the municipality's admins and communications staff."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from starlette.responses import Response

from app.api.caching import Body, json_body, make_etag
from app.api.deps import (
    CacheDep,
    CurrentPrincipal,
    IfMatch,
    Lang,
    MunicipalityDep,
    OptionalPrincipal,
    Paging,
    SessionDep,
    SettingsDep,
)
from app.api.documents import localize_texts
from app.api.routes.fund import check_doc_if_match, doc_etag
from app.api.schemas import Collection, problems, send
from app.api.sync import Tombstone, sync_read, synced_page
from app.core.pagination import Page
from app.models.roadmap import (
    PhaseCreate,
    PhasePublic,
    PhaseUpdate,
    ReviewCreate,
    ReviewPublic,
    ReviewUpdate,
)
from app.models.user import Role
from app.services import fund as fund_service
from app.services import roadmap as roadmap_service
from app.services.auth import Principal, require_write
from app.services.roadmap import KIND, Document
from app.services.service_card import Actor

router = APIRouter(prefix="/municipalities/{slug}/roadmap", tags=["roadmap"])

# The roadmap is the management's and the communications officer's working tool.
EDITORS = (Role.municipality_admin, Role.comms)
TEXT_KEYS = frozenset({"title", "description", "outcome", *roadmap_service.REVIEW_TEXTS})
LIST_TEXT_KEYS = frozenset({"goals"})
Year = Annotated[int, Path(ge=2000, le=2100)]


def _actor(principal: Principal) -> Actor:
    return Actor(id=principal.user.id, name=principal.user.display_name)


def _body(
    kind: str, document: Document, lang: str | None, valid_until: float | None = None
) -> Body:
    localized = localize_texts(document, lang, TEXT_KEYS, LIST_TEXT_KEYS)
    data = localized.data | {"meta": localized.meta()}
    return json_body(
        data, etag=doc_etag(kind, document, lang), language=lang, valid_until=valid_until
    )


def _collection(
    documents: list[Document],
    next_cursor: str | None,
    total: int,
    lang: str | None,
    etag: str,
    valid_until: float | None = None,
) -> Body:
    localized = localize_texts(documents, lang, TEXT_KEYS, LIST_TEXT_KEYS, path="items")
    data = {
        "items": localized.data,
        "next_cursor": next_cursor,
        "total": total,
        "meta": localized.meta(),
    }
    return json_body(data, etag=etag, language=lang, valid_until=valid_until)


# ---- phases ----------------------------------------------------------------------------------


@router.get(
    "",
    response_model=Collection[PhasePublic | Tombstone],
    responses=problems(404, 410, 422),
    summary="The roadmap: dated phases with goals and pilots",
)
async def get_roadmap(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
    lang: Lang,
    paging: Paging,
    principal: OptionalPrincipal,
) -> Response:
    """In time order; each phase and pilot with its status and outcome, `timing` (past,
    current, upcoming by today's date) and its last update (when, by whom, which fields).
    The municipality's staff also see draft phases (uncached)."""
    staff = principal is not None and principal.is_member(municipality.id)

    read = sync_read(paging, "roadmap", retention_days=settings.change_retention_days)

    async def build(etag: str) -> Body:
        day = fund_service.today()

        async def fetch(cursor: str | None) -> Page[Any]:
            page = await roadmap_service.list_phases(
                session=session,
                municipality_id=municipality.id,
                limit=paging.limit,
                cursor=cursor,
                modified_since=paging.modified_since,
                include_drafts=staff,
            )
            documents = [roadmap_service.phase_doc(phase, day) for phase in page.items]
            return Page(items=documents, next_cursor=page.next_cursor, total=page.total)

        page = await synced_page(
            session=session,
            read=read,
            fetch=fetch,
            municipality_id=municipality.id,
            kinds=(roadmap_service.PHASE_CHANGE,),
            collection="roadmap",
            limit=paging.limit,
        )
        return _collection(
            page.items,
            page.next_cursor,
            page.total,
            lang,
            make_etag(etag, day),
            fund_service.next_midnight(day),
        )

    return await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, KIND)],
        build=build,
        language=lang,
        cacheable=not staff,
    )


@router.post(
    "/phases",
    status_code=status.HTTP_201_CREATED,
    response_model=PhasePublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Add a roadmap phase",
)
async def create_roadmap_phase(
    data: PhaseCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    require_write(principal, municipality.id, *EDITORS)
    phase = await roadmap_service.create_phase(
        session=session, municipality_id=municipality.id, actor=_actor(principal), data=data
    )
    document = roadmap_service.phase_doc(phase, fund_service.today())
    location = f"/api/v1/municipalities/{municipality.slug}/roadmap/phases/{phase.id}"
    return send(_body("roadmap_phase", document, lang), 201, {"Location": location})


@router.get(
    "/phases/{phase_id}",
    response_model=PhasePublic,
    responses=problems(404, 422),
    summary="A roadmap phase",
)
async def get_roadmap_phase(
    phase_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
    principal: OptionalPrincipal,
) -> Response:
    """A draft phase is found only by the municipality's staff (uncached)."""
    staff = principal is not None and principal.is_member(municipality.id)

    async def build(_etag: str) -> Body:
        day = fund_service.today()
        phase = await roadmap_service.get_phase(
            session=session,
            municipality_id=municipality.id,
            phase_id=phase_id,
            include_drafts=staff,
        )
        return _body(
            "roadmap_phase",
            roadmap_service.phase_doc(phase, day),
            lang,
            fund_service.next_midnight(day),
        )

    return await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, KIND)],
        build=build,
        language=lang,
        cacheable=not staff,
    )


@router.patch(
    "/phases/{phase_id}",
    response_model=PhasePublic,
    responses=problems(401, 403, 404, 412, 422, 428),
    summary="Change a roadmap phase (status, outcome, pilots, ...)",
)
async def update_roadmap_phase(
    phase_id: uuid.UUID,
    data: PhaseUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match. `goals` and `pilots`, when sent, replace the whole list."""
    require_write(principal, municipality.id, *EDITORS)
    phase = await roadmap_service.get_phase(
        session=session, municipality_id=municipality.id, phase_id=phase_id, include_drafts=True
    )
    day = fund_service.today()
    check_doc_if_match(if_match, "roadmap_phase", roadmap_service.phase_doc(phase, day))
    phase = await roadmap_service.update_phase(
        session=session, phase=phase, actor=_actor(principal), data=data
    )
    return send(_body("roadmap_phase", roadmap_service.phase_doc(phase, day), lang))


@router.delete(
    "/phases/{phase_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 412, 428),
    summary="Remove a roadmap phase",
)
async def delete_roadmap_phase(
    phase_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    require_write(principal, municipality.id, *EDITORS)
    phase = await roadmap_service.get_phase(
        session=session, municipality_id=municipality.id, phase_id=phase_id, include_drafts=True
    )
    check_doc_if_match(
        if_match, "roadmap_phase", roadmap_service.phase_doc(phase, fund_service.today())
    )
    await roadmap_service.delete_phase(session=session, phase=phase)
    return Response(status_code=204)


# ---- the yearly review of the operating model ------------------------------------------------


@router.get(
    "/reviews",
    response_model=Collection[ReviewPublic],
    responses=problems(404, 422),
    summary="Yearly reviews of the operating model",
)
async def list_roadmap_reviews(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
    paging: Paging,
) -> Response:
    """Newest year first: how the process worked, its results, strengths and what to
    develop, who reviewed and when."""

    async def build(etag: str) -> Body:
        page = await roadmap_service.list_reviews(
            session=session,
            municipality_id=municipality.id,
            limit=paging.limit,
            cursor=paging.cursor,
            modified_since=paging.modified_since,
        )
        documents = [roadmap_service.review_doc(review) for review in page.items]
        return _collection(documents, page.next_cursor, page.total, lang, etag)

    return await cache.serve(
        request, session, depends_on=[(municipality.scope, KIND)], build=build, language=lang
    )


@router.post(
    "/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Record a year's review of the operating model",
)
async def create_roadmap_review(
    data: ReviewCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """One per year (409 `duplicate`)."""
    require_write(principal, municipality.id, *EDITORS)
    review = await roadmap_service.create_review(
        session=session, municipality_id=municipality.id, actor=_actor(principal), data=data
    )
    location = f"/api/v1/municipalities/{municipality.slug}/roadmap/reviews/{review.year}"
    return send(
        _body("roadmap_review", roadmap_service.review_doc(review), lang),
        201,
        {"Location": location},
    )


@router.get(
    "/reviews/{year}",
    response_model=ReviewPublic,
    responses=problems(404, 422),
    summary="A year's review of the operating model",
)
async def get_roadmap_review(
    year: Year,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
) -> Response:
    async def build(_etag: str) -> Body:
        review = await roadmap_service.get_review(
            session=session, municipality_id=municipality.id, year=year
        )
        return _body("roadmap_review", roadmap_service.review_doc(review), lang)

    return await cache.serve(
        request, session, depends_on=[(municipality.scope, KIND)], build=build, language=lang
    )


@router.patch(
    "/reviews/{year}",
    response_model=ReviewPublic,
    responses=problems(401, 403, 404, 412, 422, 428),
    summary="Change a year's review",
)
async def update_roadmap_review(
    year: Year,
    data: ReviewUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    require_write(principal, municipality.id, *EDITORS)
    review = await roadmap_service.get_review(
        session=session, municipality_id=municipality.id, year=year
    )
    check_doc_if_match(if_match, "roadmap_review", roadmap_service.review_doc(review))
    review = await roadmap_service.update_review(
        session=session, review=review, actor=_actor(principal), data=data
    )
    return send(_body("roadmap_review", roadmap_service.review_doc(review), lang))
