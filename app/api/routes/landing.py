"""The mover landing page in one call, and its configuration (comms staff)."""

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.caching import Body, json_body, make_etag
from app.api.deps import (
    CacheDep,
    CurrentPrincipal,
    IfMatch,
    Lang,
    MunicipalityDep,
    OptionalPrincipal,
    SessionDep,
    SettingsDep,
    check_if_match,
    resource_etag,
)
from app.api.documents import localize_texts
from app.api.routes.personas import COMMS, CONTENT_STAFF, actor_of, revisions_response
from app.api.schemas import problems, send
from app.core.i18n import localize_document
from app.models.landing import LandingConfigPublic, LandingConfigUpdate, LandingPublic
from app.models.municipality import Municipality
from app.models.persona import ContentRevisionPublic
from app.services import content_revision
from app.services import landing as landing_service
from app.services import readiness as readiness_service
from app.services.auth import require_read, require_write
from app.services.content_revision import Document
from app.services.guide import KIND as GUIDE_KIND
from app.services.guide import SLOT_KIND
from app.services.landing import KIND
from app.services.municipality import KIND as MUNICIPALITY_KIND
from app.services.persona import KIND as PERSONA_KIND
from app.services.persona import PROMISE_KIND
from app.services.service_card import KIND as CARD_KIND
from app.services.story import KIND as STORY_KIND

router = APIRouter(prefix="/municipalities/{slug}", tags=["landing"])

LANDING_TEXT_KEYS = frozenset(
    {"name", "title", "text", "label", "description", "tagline", "hours", "price", "bio"}
)
CONFIG_TEXT_KEYS = frozenset({"title", "text", "label", "description", "info_package_name"})


@router.get(
    "/landing",
    response_model=LandingPublic,
    responses=problems(404, 422),
    summary="Everything the mover landing page shows, in one call",
)
async def get_landing(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    lang: Lang,
) -> Response:
    """The introduction; the contact ways (book a live or a remote meeting, with whether
    free slots exist; ask by message; call: number, hours and price); the service tiles
    in the municipality's order with the cards and links they lead to; the service
    promise; the personas; featured guides (public profiles, those with free slots
    first); the newest approved stories; map links and hashtags.

    Cached: a warm read touches no database, and only changes to what the page shows
    (not, say, another municipality's bookings) make it rebuild.

    The municipality's own content staff also get `go_live`, the readiness report as a
    banner, until the page is ready for movers; their reads are not cached."""
    staff = principal is not None and principal.has_role(municipality.id, *CONTENT_STAFF)

    async def build(etag: str) -> Body:
        document, soonest = await landing_service.landing(
            session=session, municipality_id=municipality.id
        )
        localized = localize_texts(document, lang, LANDING_TEXT_KEYS, frozenset({"principles"}))
        data = localized.data | {"meta": localized.meta()}
        if staff:
            row = await session.get(Municipality, municipality.id)
            assert row is not None
            served = lang or municipality.default_language
            report = await readiness_service.report(
                session=session,
                municipality=row,
                lang=served,
                stale_after_days=settings.stale_after_days,
            )
            data["go_live"] = readiness_service.banner(report, served)
            etag = make_etag(etag, "staff", data["go_live"])
        # Free slots and "has free slots" stop being true as time passes, not only on writes.
        valid_until = min(time.time() + 300, soonest.timestamp() if soonest else float("inf"))
        return json_body(data, etag=etag, language=lang, valid_until=valid_until)

    scope = municipality.scope
    depends = [
        (scope, MUNICIPALITY_KIND),
        (scope, KIND),
        (scope, PROMISE_KIND),
        (scope, PERSONA_KIND),
        (scope, CARD_KIND),
        (scope, GUIDE_KIND),
        (scope, SLOT_KIND),
        (scope, STORY_KIND),
    ]
    return await cache.serve(
        request, session, depends_on=depends, build=build, language=lang, cacheable=not staff
    )


def _config_body(document: Document, municipality_id: object, lang: str | None) -> Body:
    localized = localize_document(document, lang, CONFIG_TEXT_KEYS)
    data = localized.data | {"meta": localized.meta()}
    etag = resource_etag(KIND, municipality_id, document["revision"], lang)
    return json_body(data, etag=etag, language=lang)


@router.get(
    "/landing-config",
    response_model=LandingConfigPublic,
    responses=problems(401, 403, 404, 422),
    summary="The landing page's configuration (staff)",
)
async def get_landing_config(
    municipality: MunicipalityDep, session: SessionDep, principal: CurrentPrincipal, lang: Lang
) -> Response:
    """What `PATCH` edits, with the ETag it needs. Revision 0: the defaults, not yet
    saved (no tiles configured means one tile per card topic)."""
    require_read(principal, municipality.id, *CONTENT_STAFF)
    config = await landing_service.get_config(session=session, municipality_id=municipality.id)
    document = landing_service.config_document(config, municipality.slug)
    return send(_config_body(document, municipality.id, lang))


@router.patch(
    "/landing-config",
    response_model=LandingConfigPublic,
    responses=problems(401, 403, 404, 412, 422, 428),
    summary="Update the landing page's configuration",
)
async def update_landing_config(
    data: LandingConfigUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match with the ETag of `GET /landing-config`. `tiles` is the whole list in
    the order to show; each tile leads to card topics, links or both."""
    require_write(principal, municipality.id, *COMMS)
    config = await landing_service.get_config(
        session=session, municipality_id=municipality.id, for_update=True
    )
    version = config.version if config else 0
    check_if_match(if_match, kind=KIND, resource_id=municipality.id, version=version)
    config = await landing_service.update_config(
        session=session,
        municipality_id=municipality.id,
        config=config,
        actor=actor_of(principal),
        data=data,
    )
    document = landing_service.config_document(config, municipality.slug)
    return send(_config_body(document, municipality.id, lang))


@router.get(
    "/landing-config/revisions",
    response_model=list[ContentRevisionPublic],
    responses=problems(401, 403, 404),
    summary="The history of the landing page's configuration",
)
async def list_landing_config_revisions(
    municipality: MunicipalityDep, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Every change, newest first: who, when, and each field's before and after."""
    require_read(principal, municipality.id, *CONTENT_STAFF)
    config = await landing_service.get_config(session=session, municipality_id=municipality.id)
    if config is None:
        return revisions_response([], municipality.id, 0)
    rows = await content_revision.history(session=session, subject_id=config.id)
    return revisions_response(content_revision.public(rows), config.id, config.version)


@router.get(
    "/readiness",
    responses=problems(401, 403, 404, 422),
    summary="Can this municipality go live? (staff)",
    tags=["readiness"],
)
async def get_readiness(
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    lang: Lang,
) -> Response:
    """`{ready, blocking, advisory}`: each item has a `code`, a message in the asked
    language (Finnish without one) and a `pointer` to the resource URL and field to
    fix. Blocking: placeholder phone numbers, no service promise, tiles with no cards
    or links, untranslated published texts in an enabled language, no way to make
    contact. Advisory: stale cards, no active guide, no stories hashtag, tiles without
    a description, texts naming another municipality (copied and not yet adapted).
    The landing page can show staff a go-live banner from it."""
    require_read(principal, municipality.id, *CONTENT_STAFF)
    row = await session.get(Municipality, municipality.id)
    assert row is not None
    document = await readiness_service.report(
        session=session,
        municipality=row,
        lang=lang or municipality.default_language,
        stale_after_days=settings.stale_after_days,
    )
    etag = make_etag("readiness", municipality.scope, document)
    return send(json_body(document, etag=etag, language=lang))
