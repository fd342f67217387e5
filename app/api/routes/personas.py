"""Personas, their recommendations and history, and the service promise: public reads
(cached), comms staff's writes."""

import time
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from starlette.responses import Response

from app.api.caching import Body, json_body
from app.api.deps import (
    CacheDep,
    CurrentPrincipal,
    IfMatch,
    Lang,
    MunicipalityDep,
    RevisionNumber,
    SessionDep,
    check_if_match,
    resource_etag,
)
from app.api.documents import localize_texts
from app.api.schemas import Collection, problems, send
from app.core.errors import NotFound
from app.core.i18n import localize_document
from app.core.time import Instant
from app.models.persona import (
    PERSONA_LIST_FIELDS,
    ContentRevisionPublic,
    PersonaCopyIn,
    PersonaCopyResult,
    PersonaCreate,
    PersonaPublic,
    PersonaUpdate,
    RecommendationsPublic,
    ServicePromisePublic,
    ServicePromiseUpdate,
)
from app.models.user import Role
from app.services import content_revision
from app.services import persona as persona_service
from app.services.auth import Principal, require_read, require_write
from app.services.content_revision import Document
from app.services.guide import KIND as GUIDE_KIND
from app.services.guide import SLOT_KIND
from app.services.persona import KIND, PROMISE_KIND
from app.services.service_card import KIND as CARD_KIND
from app.services.service_card import Actor

router = APIRouter(prefix="/municipalities/{slug}", tags=["personas"])

# Personas, the promise, the journey and the landing page are the comms group's work
# (admins oversee it); the municipality's editors may read their history.
COMMS = (Role.comms, Role.municipality_admin)
CONTENT_STAFF = (Role.comms, Role.municipality_admin, Role.editor)
PERSONA_TEXT_KEYS = frozenset({"name", "tagline", "who", "service_promise"})
PERSONA_LIST_KEYS = frozenset(PERSONA_LIST_FIELDS)
PROMISE_TEXT_KEYS = frozenset({"title", "text"})
PROMISE_LIST_KEYS = frozenset({"principles"})
PersonaPath = Annotated[str, Path(max_length=64, description="The segment, e.g. remote-workers")]


def actor_of(principal: Principal) -> Actor:
    return Actor(id=principal.user.id, name=principal.user.display_name)


def persona_body(document: Document, lang: str | None) -> Body:
    localized = localize_texts(document, lang, PERSONA_TEXT_KEYS, PERSONA_LIST_KEYS)
    data = localized.data | {"meta": localized.meta()}
    etag = resource_etag(KIND, document["id"], document["revision"], lang)
    return json_body(data, etag=etag, language=lang)


def revisions_response(rows: list[Document], subject: object, number: int) -> Response:
    return send(json_body(rows, etag=resource_etag("revisions", subject, number, None)))


@router.get(
    "/personas",
    response_model=Collection[PersonaPublic],
    responses=problems(404, 422),
    summary="The mover segments and their personas",
)
async def list_personas(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
    modified_since: Annotated[
        Instant | None, Query(description="Only personas changed at or after this time.")
    ] = None,
) -> Response:
    """Who moves here: each segment's persona (who they are, why they come, dreams,
    expectations, service needs, challenges) and its service promise."""

    async def build(etag: str) -> Body:
        documents = await persona_service.list_documents(
            session=session, municipality_id=municipality.id, modified_since=modified_since
        )
        localized = localize_texts(
            documents, lang, PERSONA_TEXT_KEYS, PERSONA_LIST_KEYS, path="items"
        )
        data = {
            "items": localized.data,
            "next_cursor": None,
            "total": len(documents),
            "meta": localized.meta(),
        }
        return json_body(data, etag=etag, language=lang)

    return await cache.serve(
        request, session, depends_on=[(municipality.scope, KIND)], build=build, language=lang
    )


@router.post(
    "/personas",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonaPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Add the persona of a segment",
)
async def create_persona(
    data: PersonaCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """For a segment the municipality has no persona for yet (409 `duplicate` otherwise).
    Comms staff and admins of the municipality."""
    require_write(principal, municipality.id, *COMMS)
    persona = await persona_service.create(
        session=session, municipality_id=municipality.id, actor=actor_of(principal), data=data
    )
    document = await persona_service.get_document(
        session=session, municipality_id=municipality.id, key=persona.key
    )
    location = f"/api/v1/municipalities/{municipality.slug}/personas/{persona.key}"
    return send(persona_body(document, lang), 201, {"Location": location})


@router.post(
    "/personas/copy",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonaCopyResult,
    responses=problems(401, 403, 404, 422),
    summary="Copy personas from another municipality",
)
async def copy_personas(
    data: PersonaCopyIn,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """Copy every persona of `source_municipality` (or the `keys` listed). Each copy
    remembers its source and revision and later says `source_changed` when the source
    moves on. Personas this municipality already has are skipped (`skipped`) unless
    `replace` is true."""
    require_write(principal, municipality.id, *COMMS)
    source = await cache.tenant(session, data.source_municipality)
    outcome = await persona_service.copy(
        session=session,
        source_municipality_id=source.id,
        target_municipality_id=municipality.id,
        source_slug=source.slug,
        actor=actor_of(principal),
        data=data,
    )
    documents = await persona_service.list_documents(
        session=session,
        municipality_id=municipality.id,
        keys=[persona.key for persona in outcome.copied],
    )
    localized = localize_texts(documents, lang, PERSONA_TEXT_KEYS, PERSONA_LIST_KEYS, "copied")
    body = {"copied": localized.data, "skipped": outcome.skipped}
    code = 201 if outcome.copied else 200
    return send(json_body(body, etag=f'"persona-copy-{len(documents)}"', language=lang), code)


@router.get(
    "/personas/{key}",
    response_model=PersonaPublic,
    responses=problems(404, 422),
    summary="One persona",
)
async def get_persona(
    key: PersonaPath,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
) -> Response:
    """The ETag (in any language) is what `PATCH` needs in If-Match."""

    async def build(_etag: str) -> Body:
        document = await persona_service.get_document(
            session=session, municipality_id=municipality.id, key=key
        )
        return persona_body(document, lang)

    return await cache.serve(
        request, session, depends_on=[(municipality.scope, KIND)], build=build, language=lang
    )


@router.patch(
    "/personas/{key}",
    response_model=PersonaPublic,
    responses=problems(401, 403, 404, 412, 422, 428),
    summary="Update a persona",
)
async def update_persona(
    key: PersonaPath,
    data: PersonaUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match with the ETag you read. A list sent (`challenges`, `topics`, …)
    replaces the whole list. Every change is a revision (see `revisions`)."""
    require_write(principal, municipality.id, *COMMS)
    persona = await persona_service.get(
        session=session, municipality_id=municipality.id, key=key, for_update=True
    )
    check_if_match(if_match, kind=KIND, resource_id=persona.id, version=persona.version)
    await persona_service.update(
        session=session, persona=persona, actor=actor_of(principal), data=data
    )
    document = await persona_service.get_document(
        session=session, municipality_id=municipality.id, key=key
    )
    return send(persona_body(document, lang))


@router.get(
    "/personas/{key}/recommendations",
    response_model=RecommendationsPublic,
    responses=problems(404, 422),
    summary="Cards, guides and checklist items for a persona, with reasons",
)
async def get_persona_recommendations(
    key: PersonaPath,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
) -> Response:
    """In order: the published cards made for this segment, then the cards of its linked
    topics; active guides whose expertise matches its tags, those speaking the language
    asked (`?lang=`) and the segment's languages first; and the checklist items of those
    cards by timing (before, during, after the move). Each item has a `reason` (a code
    and its facts), every reason in `reasons`, and `reason_text` to show."""

    async def build(etag: str) -> Body:
        found = await persona_service.recommendations(
            session=session,
            municipality_id=municipality.id,
            slug=municipality.slug,
            keys=[key],
            lang=lang,
        )
        if key not in found:
            raise NotFound(f"No persona '{key}' here.")
        localized = localize_document(found[key], lang, persona_service.RECOMMENDATION_TEXT_KEYS)
        data = localized.data | {"meta": localized.meta()}
        # "Has free slots" stops being true as time passes, not only on writes.
        return json_body(data, etag=etag, language=lang, valid_until=time.time() + 300)

    scope = municipality.scope
    depends = [(scope, KIND), (scope, CARD_KIND), (scope, GUIDE_KIND), (scope, SLOT_KIND)]
    return await cache.serve(request, session, depends_on=depends, build=build, language=lang)


@router.get(
    "/personas/{key}/revisions",
    response_model=list[ContentRevisionPublic],
    responses=problems(401, 403, 404),
    summary="The history of a persona",
)
async def list_persona_revisions(
    key: PersonaPath,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Every change, newest first: who (display name), when, what, and each field's
    before and after."""
    require_read(principal, municipality.id, *CONTENT_STAFF)
    persona = await persona_service.get(session=session, municipality_id=municipality.id, key=key)
    rows = await persona_service.revisions(session=session, persona=persona)
    return revisions_response(rows, persona.id, persona.version)


@router.post(
    "/personas/{key}/revisions/{number}/restore",
    response_model=PersonaPublic,
    responses=problems(401, 403, 404, 412, 422),
    summary="Restore an earlier revision of a persona",
)
async def restore_persona_revision(
    key: PersonaPath,
    number: RevisionNumber,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Brings back that revision's content as a new revision. If-Match is optional here;
    when sent it must be current."""
    require_write(principal, municipality.id, *COMMS)
    persona = await persona_service.get(
        session=session, municipality_id=municipality.id, key=key, for_update=True
    )
    if if_match:
        check_if_match(if_match, kind=KIND, resource_id=persona.id, version=persona.version)
    await persona_service.restore(
        session=session, persona=persona, actor=actor_of(principal), number=number
    )
    document = await persona_service.get_document(
        session=session, municipality_id=municipality.id, key=key
    )
    return send(persona_body(document, lang))


# ---- the service promise -----------------------------------------------------------------------


def promise_body(document: Document, municipality_id: object, lang: str | None) -> Body:
    localized = localize_texts(document, lang, PROMISE_TEXT_KEYS, PROMISE_LIST_KEYS)
    data = localized.data | {"meta": localized.meta()}
    etag = resource_etag(PROMISE_KIND, municipality_id, document["revision"], lang)
    return json_body(data, etag=etag, language=lang)


@router.get(
    "/service-promise",
    response_model=ServicePromisePublic,
    responses=problems(404, 422),
    summary="The municipality's service promise to movers",
)
async def get_service_promise(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
) -> Response:
    """The general promise ("palvelulupaus"); each segment's own promise is shown with
    its persona (`service_promise`). Revision 0 means none has been written yet."""

    async def build(_etag: str) -> Body:
        promise = await persona_service.get_promise(
            session=session, municipality_id=municipality.id
        )
        document = persona_service.promise_document(promise, municipality.slug)
        return promise_body(document, municipality.id, lang)

    return await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, PROMISE_KIND)],
        build=build,
        language=lang,
    )


@router.patch(
    "/service-promise",
    response_model=ServicePromisePublic,
    responses=problems(401, 403, 404, 412, 422, 428),
    summary="Update the service promise",
)
async def update_service_promise(
    data: ServicePromiseUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match with the ETag you read (also before the first save)."""
    require_write(principal, municipality.id, *COMMS)
    promise = await persona_service.get_promise(
        session=session, municipality_id=municipality.id, for_update=True
    )
    version = promise.version if promise else 0
    check_if_match(if_match, kind=PROMISE_KIND, resource_id=municipality.id, version=version)
    promise = await persona_service.update_promise(
        session=session,
        municipality_id=municipality.id,
        promise=promise,
        actor=actor_of(principal),
        data=data,
    )
    document = persona_service.promise_document(promise, municipality.slug)
    return send(promise_body(document, municipality.id, lang))


@router.get(
    "/service-promise/revisions",
    response_model=list[ContentRevisionPublic],
    responses=problems(401, 403, 404),
    summary="The history of the service promise",
)
async def list_service_promise_revisions(
    municipality: MunicipalityDep, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Every change, newest first: who, when, and each field's before and after."""
    require_read(principal, municipality.id, *CONTENT_STAFF)
    promise = await persona_service.get_promise(session=session, municipality_id=municipality.id)
    if promise is None:
        return revisions_response([], municipality.id, 0)
    rows = await content_revision.history(session=session, subject_id=promise.id)
    return revisions_response(content_revision.public(rows), promise.id, promise.version)
