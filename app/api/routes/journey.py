"""The mover's journey: the public view of what each stage offers, and the stages as
comms staff write them."""

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.caching import Body, json_body
from app.api.deps import (
    CacheDep,
    CurrentPrincipal,
    IfMatch,
    Lang,
    MunicipalityDep,
    SessionDep,
    check_if_match,
    resource_etag,
)
from app.api.routes.personas import COMMS, CONTENT_STAFF, actor_of, revisions_response
from app.api.schemas import problems, send
from app.core.i18n import localize_document
from app.models.journey import JourneyConfigPublic, JourneyPublic, JourneyUpdate
from app.models.persona import ContentRevisionPublic
from app.services import content_revision
from app.services import journey as journey_service
from app.services.auth import require_read, require_write
from app.services.content_revision import Document
from app.services.guide import KIND as GUIDE_KIND
from app.services.guide import SLOT_KIND
from app.services.journey import KIND
from app.services.municipality import KIND as MUNICIPALITY_KIND
from app.services.service_card import KIND as CARD_KIND

router = APIRouter(prefix="/municipalities/{slug}", tags=["journey"])

JOURNEY_TEXT_KEYS = frozenset(
    {"title", "text", "description", "label", "hours", "price", "bio", "card_title", "name"}
)


@router.get(
    "/journey",
    response_model=JourneyPublic,
    responses=problems(404, 422),
    summary="The mover's journey and what the municipality offers at each stage",
)
async def get_journey(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
) -> Response:
    """From the first spark to living here (awareness, exploring, decision, moving,
    settled, living-here): each stage with its cards, contact ways (meetings say whether
    free slots exist), guides and checklist items with their timing."""

    async def build(etag: str) -> Body:
        document, soonest = await journey_service.journey(
            session=session, municipality_id=municipality.id
        )
        localized = localize_document(document, lang, JOURNEY_TEXT_KEYS)
        data = localized.data | {"meta": localized.meta()}
        # A meeting stops being bookable when its slot starts, without any write.
        valid_until = min(time.time() + 300, soonest.timestamp() if soonest else float("inf"))
        return json_body(data, etag=etag, language=lang, valid_until=valid_until)

    scope = municipality.scope
    depends = [
        (scope, KIND),
        (scope, CARD_KIND),
        (scope, GUIDE_KIND),
        (scope, SLOT_KIND),
        (scope, MUNICIPALITY_KIND),
    ]
    return await cache.serve(request, session, depends_on=depends, build=build, language=lang)


def _config_body(document: Document, municipality_id: object, lang: str | None) -> Body:
    localized = localize_document(
        document, lang, frozenset({"title", "text", "description", "label"})
    )
    data = localized.data | {"meta": localized.meta()}
    etag = resource_etag(KIND, municipality_id, document["revision"], lang)
    return json_body(data, etag=etag, language=lang)


@router.get(
    "/journey-config",
    response_model=JourneyConfigPublic,
    responses=problems(401, 403, 404, 422),
    summary="The journey's stages as written (staff)",
)
async def get_journey_config(
    municipality: MunicipalityDep, session: SessionDep, principal: CurrentPrincipal, lang: Lang
) -> Response:
    """What `PATCH` edits, with the ETag it needs. Revision 0: the defaults, not yet saved."""
    require_read(principal, municipality.id, *CONTENT_STAFF)
    journey = await journey_service.get_config(session=session, municipality_id=municipality.id)
    document = journey_service.config_document(journey, municipality.slug)
    return send(_config_body(document, municipality.id, lang))


@router.patch(
    "/journey-config",
    response_model=JourneyConfigPublic,
    responses=problems(401, 403, 404, 412, 422, 428),
    summary="Update the journey",
)
async def update_journey_config(
    data: JourneyUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match with the ETag of `GET /journey-config`. `stages`, when sent, lists
    all six stages in order, each with its texts, topics, contact ways, whether to show
    guides, the checklist timings and links."""
    require_write(principal, municipality.id, *COMMS)
    journey = await journey_service.get_config(
        session=session, municipality_id=municipality.id, for_update=True
    )
    version = journey.version if journey else 0
    check_if_match(if_match, kind=KIND, resource_id=municipality.id, version=version)
    journey = await journey_service.update_config(
        session=session,
        municipality_id=municipality.id,
        journey=journey,
        actor=actor_of(principal),
        data=data,
    )
    document = journey_service.config_document(journey, municipality.slug)
    return send(_config_body(document, municipality.id, lang))


@router.get(
    "/journey-config/revisions",
    response_model=list[ContentRevisionPublic],
    responses=problems(401, 403, 404),
    summary="The history of the journey",
)
async def list_journey_revisions(
    municipality: MunicipalityDep, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Every change, newest first: who, when, and each field's before and after."""
    require_read(principal, municipality.id, *CONTENT_STAFF)
    journey = await journey_service.get_config(session=session, municipality_id=municipality.id)
    if journey is None:
        return revisions_response([], municipality.id, 0)
    rows = await content_revision.history(session=session, subject_id=journey.id)
    return revisions_response(content_revision.public(rows), journey.id, journey.version)
