"""Service cards: public reads (cached), editor writes, history, copying, search."""

import uuid
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from starlette.responses import Response

from app.api.caching import Body, json_body
from app.api.deps import (
    CacheDep,
    CurrentPrincipal,
    IfMatch,
    Lang,
    MunicipalityDep,
    OptionalPrincipal,
    Paging,
    RevisionNumber,
    SessionDep,
    SettingsDep,
    check_if_match,
    resource_etag,
)
from app.api.schemas import Collection, problems, send
from app.api.sync import Tombstone, sync_read, with_tombstones
from app.core.errors import Unauthorized
from app.core.i18n import localize_document
from app.core.pagination import Page
from app.models.service_card import (
    PERSONA_KEYS,
    CardCreate,
    CardPublic,
    CardStatus,
    CardUpdate,
    CopyIn,
    CopyResult,
    ReorderIn,
    RevisionPublic,
    ServiceCard,
    TopicIn,
    TopicPublic,
)
from app.services import service_card as card_service
from app.services.auth import Principal, require_read, require_write
from app.services.service_card import EDITORS, KIND, STAFF, Actor, CardFilters, Document

router = APIRouter(prefix="/municipalities/{slug}", tags=["service-cards"])

CARD_TEXT_KEYS = frozenset(
    {
        "title",
        "summary",
        "heading",
        "name",
        "description",
        "address",
        "opening_hours",
        "label",
        "price",
    }
)


def actor_of(principal: Principal) -> Actor:
    return Actor(id=principal.user.id, name=principal.user.display_name)


def card_body(document: Document, lang: str | None) -> Body:
    localized = localize_document(document, lang, CARD_TEXT_KEYS)
    data = localized.data
    data["meta"] = localized.meta()
    etag = resource_etag(KIND, document["id"], document["revision"], lang)
    return json_body(data, etag=etag, language=lang)


def cards_body(
    page: Page[Document], lang: str | None, etag: str, extra_meta: dict[str, Any] | None = None
) -> Body:
    localized = localize_document(page.items, lang, CARD_TEXT_KEYS, path="items")
    meta = localized.meta() | (extra_meta or {})
    data = {
        "items": localized.data,
        "next_cursor": page.next_cursor,
        "total": page.total,
        "meta": meta,
    }
    return json_body(data, etag=etag, language=lang)


StatusFilter = Literal["published", "draft", "archived", "all"]


@router.get(
    "/service-cards",
    response_model=Collection[CardPublic | Tombstone],
    responses=problems(401, 403, 404, 410, 422),
    summary="List or search service cards",
)
async def list_service_cards(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    lang: Lang,
    paging: Paging,
    topic: Annotated[str | None, Query(max_length=64)] = None,
    persona: Annotated[Literal[PERSONA_KEYS] | None, Query()] = None,  # type: ignore[valid-type]
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status_: Annotated[
        StatusFilter, Query(alias="status", description="Staff only: drafts, archived or all")
    ] = "published",
    stale: Annotated[
        bool, Query(description="Staff only: cards not verified within the stale period")
    ] = False,
) -> Response:
    """Published cards, public and cached; staff of the municipality may ask for more.

    `q` searches titles, summaries and entries in Finnish and English, understanding
    inflected Finnish (`päiväkodissa` finds `päiväkoti`) and a list of synonyms.
    """
    staff_view = status_ != "published" or stale
    if staff_view:
        if principal is None:
            raise Unauthorized("Sign in to see drafts, archived or stale cards.")
        require_read(principal, municipality.id, *STAFF)
    statuses = tuple(CardStatus) if status_ == "all" else (CardStatus(status_),)
    filters = CardFilters(
        topic=topic,
        persona=persona,
        q=q,
        modified_since=paging.modified_since,
        statuses=statuses,
        stale_before=card_service.stale_cutoff(settings.stale_after_days) if stale else None,
    )

    # Tombstones describe the public list; staff views (drafts, archived) get none.
    read = sync_read(
        paging if not staff_view else replace(paging, modified_since=None),
        "service-cards",
        retention_days=settings.change_retention_days,
    )

    async def build(etag: str) -> Body:
        page: Page[Document] = Page(items=[], next_cursor=None, total=0)
        if not read.live_done:
            page = await card_service.list_page(
                session=session,
                municipality_id=municipality.id,
                filters=filters,
                limit=paging.limit,
                cursor=read.live_cursor,
            )
        page = await with_tombstones(
            session=session,
            page=page,
            read=read,
            municipality_id=municipality.id,
            kinds=(KIND,),
            collection="service-cards",
            limit=paging.limit,
        )
        extra = None
        if principal is not None and principal.is_member(municipality.id):
            extra = {
                "stale_count": await card_service.stale_count(
                    session=session,
                    municipality_id=municipality.id,
                    stale_before=card_service.stale_cutoff(settings.stale_after_days),
                )
            }
        return cards_body(page, lang, etag, extra)

    return await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, KIND)],
        build=build,
        language=lang,
        cacheable=principal is None,
    )


@router.get(
    "/service-cards/{card_id}",
    response_model=CardPublic,
    responses=problems(404, 422),
    summary="Get a service card with its sections and entries",
)
async def get_service_card(
    card_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    principal: OptionalPrincipal,
    lang: Lang,
) -> Response:
    """A published card for anyone; its municipality's staff also see drafts."""
    staff = principal is not None and principal.has_role(municipality.id, *STAFF)
    statuses = tuple(CardStatus) if staff else (CardStatus.published,)

    async def build(_etag: str) -> Body:
        document = await card_service.get_document(
            session=session, municipality_id=municipality.id, card_id=card_id, statuses=statuses
        )
        return card_body(document, lang)

    return await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, KIND)],
        build=build,
        language=lang,
        cacheable=not staff,
    )


async def _respond(
    session: SessionDep, card: ServiceCard, lang: str | None, status_code: int = 200
) -> Response:
    (document,) = await card_service.load_documents(session, [card.id])
    headers = {}
    if status_code == 201:
        headers["Location"] = (
            f"/api/v1/municipalities/{document['municipality']}/service-cards/{card.id}"
        )
    return send(card_body(document, lang), status_code=status_code, headers=headers)


@router.post(
    "/service-cards",
    status_code=status.HTTP_201_CREATED,
    response_model=CardPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Create a service card",
)
async def create_service_card(
    data: CardCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """Editors and admins of the municipality. New cards are drafts unless `status` says."""
    require_write(principal, municipality.id, *EDITORS)
    card = await card_service.create(
        session=session, municipality_id=municipality.id, actor=actor_of(principal), data=data
    )
    return await _respond(session, card, lang, 201)


async def _editable(
    session: SessionDep, municipality: MunicipalityDep, principal: Principal, card_id: uuid.UUID
) -> ServiceCard:
    require_write(principal, municipality.id, *EDITORS)
    return await card_service.get_card(
        session=session, municipality_id=municipality.id, card_id=card_id, for_update=True
    )


@router.patch(
    "/service-cards/{card_id}",
    response_model=CardPublic,
    responses=problems(401, 403, 404, 412, 422, 428),
    summary="Update a service card",
)
async def update_service_card(
    card_id: uuid.UUID,
    data: CardUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match with the ETag you read. `sections` replaces all sections; send
    each entry's `id` to keep it (and its history)."""
    card = await _editable(session, municipality, principal, card_id)
    check_if_match(if_match, kind=KIND, resource_id=card.id, version=card.version)
    card = await card_service.update(
        session=session, card=card, actor=actor_of(principal), data=data
    )
    return await _respond(session, card, lang)


@router.delete(
    "/service-cards/{card_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 412, 428),
    summary="Delete a service card",
)
async def delete_service_card(
    card_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    """Deletes the card and its history; copies made from it keep their content."""
    card = await _editable(session, municipality, principal, card_id)
    check_if_match(if_match, kind=KIND, resource_id=card.id, version=card.version)
    await card_service.remove(session=session, card=card)
    return Response(status_code=204)


async def _transition(
    card_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: Principal,
    lang: str | None,
    if_match: str | None,
    action: str,
) -> Response:
    card = await _editable(session, municipality, principal, card_id)
    if if_match:
        check_if_match(if_match, kind=KIND, resource_id=card.id, version=card.version)
    actor = actor_of(principal)
    if action == "verify":
        card = await card_service.verify(session=session, card=card, actor=actor)
    else:
        target = CardStatus.published if action == "publish" else CardStatus.draft
        card = await card_service.set_status(session=session, card=card, actor=actor, status=target)
    return await _respond(session, card, lang)


@router.post(
    "/service-cards/{card_id}/publish",
    response_model=CardPublic,
    responses=problems(401, 403, 404, 412),
    summary="Publish a service card",
)
async def publish_service_card(
    card_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Makes the card public. If-Match is optional here; when sent it must be current."""
    return await _transition(card_id, municipality, session, principal, lang, if_match, "publish")


@router.post(
    "/service-cards/{card_id}/unpublish",
    response_model=CardPublic,
    responses=problems(401, 403, 404, 412),
    summary="Unpublish a service card (back to draft)",
)
async def unpublish_service_card(
    card_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    return await _transition(card_id, municipality, session, principal, lang, if_match, "unpublish")


@router.post(
    "/service-cards/{card_id}/verify",
    response_model=CardPublic,
    responses=problems(401, 403, 404, 412),
    summary="Mark a service card checked",
)
async def verify_service_card(
    card_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Sets `verified_at` to now: the card is no longer stale."""
    return await _transition(card_id, municipality, session, principal, lang, if_match, "verify")


@router.post(
    "/service-cards/reorder",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 422),
    summary="Reorder service cards",
)
async def reorder_service_cards(
    data: ReorderIn, municipality: MunicipalityDep, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """The listed cards come first, in this order; the rest keep their relative order."""
    require_write(principal, municipality.id, *EDITORS)
    await card_service.reorder(
        session=session,
        municipality_id=municipality.id,
        actor=actor_of(principal),
        card_ids=data.card_ids,
    )
    return Response(status_code=204)


@router.get(
    "/service-cards/{card_id}/revisions",
    response_model=list[RevisionPublic],
    responses=problems(401, 403, 404),
    summary="The history of a service card",
)
async def list_service_card_revisions(
    card_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Every change, newest first: who, when, what, and each field's before and after."""
    require_read(principal, municipality.id, *STAFF)
    card = await card_service.get_card(
        session=session, municipality_id=municipality.id, card_id=card_id
    )
    rows = await card_service.revisions(session=session, card=card)
    data = [
        {
            "number": row.number,
            "created_at": row.created_at,
            "updated_by": row.actor_name,
            "action": row.action,
            "changes": row.changes,
        }
        for row in rows
    ]
    return send(json_body(data, etag=resource_etag("revisions", card.id, card.version, None)))


@router.post(
    "/service-cards/{card_id}/revisions/{number}/restore",
    response_model=CardPublic,
    responses=problems(401, 403, 404, 412, 422),
    summary="Restore an earlier revision",
)
async def restore_service_card_revision(
    card_id: uuid.UUID,
    number: RevisionNumber,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Brings back that revision's content; the restore is itself a new revision."""
    card = await _editable(session, municipality, principal, card_id)
    if if_match:
        check_if_match(if_match, kind=KIND, resource_id=card.id, version=card.version)
    card = await card_service.restore(
        session=session, card=card, actor=actor_of(principal), number=number
    )
    return await _respond(session, card, lang)


@router.post(
    "/service-cards/copy",
    status_code=status.HTTP_201_CREATED,
    response_model=CopyResult,
    responses=problems(401, 403, 404, 422),
    summary="Copy cards from another municipality",
)
async def copy_service_cards(
    data: CopyIn,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """Copy one published card (`card_id`), a topic, or every published card of
    `source_municipality` here, as drafts by default. Each copy remembers its source
    and revision, and later says `source_changed` when the source moves on."""
    require_write(principal, municipality.id, *EDITORS)
    source = await cache.tenant(session, data.source_municipality)
    cards = await card_service.copy(
        session=session,
        source_municipality_id=source.id,
        target_municipality_id=municipality.id,
        actor=actor_of(principal),
        data=data,
    )
    documents = await card_service.load_documents(session, [card.id for card in cards])
    localized = localize_document(documents, lang, CARD_TEXT_KEYS, path="copied")
    return send(
        json_body({"copied": localized.data}, etag=f'"copy-{len(documents)}"', language=lang), 201
    )


@router.get(
    "/service-cards/{card_id}/source-diff",
    responses=problems(401, 403, 404),
    summary="What changed in a copy's source since it was copied",
)
async def service_card_source_diff(
    card_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """`source_changed` and the per-field diff between the copied revision and the
    source's current one."""
    require_read(principal, municipality.id, *STAFF)
    card = await card_service.get_card(
        session=session, municipality_id=municipality.id, card_id=card_id
    )
    result = await card_service.source_diff(session=session, card=card)
    return send(json_body(result, etag=resource_etag("source-diff", card.id, card.version, None)))


@router.get(
    "/topics",
    response_model=list[TopicPublic],
    responses=problems(404, 422),
    summary="The municipality's card topics",
)
async def list_topics(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
) -> Response:
    async def build(etag: str) -> Body:
        topics = await card_service.list_topics(session=session, municipality_id=municipality.id)
        data = [{"key": t.key, "name": t.name.as_dict(), "position": t.position} for t in topics]
        localized = localize_document(data, lang, frozenset({"name"}))
        return json_body(localized.data, etag=etag, language=lang)

    return await cache.serve(
        request, session, depends_on=[(municipality.scope, KIND)], build=build, language=lang
    )


@router.post(
    "/topics",
    status_code=status.HTTP_201_CREATED,
    response_model=TopicPublic,
    responses=problems(401, 403, 409, 422),
    summary="Add a card topic",
)
async def create_topic(
    data: TopicIn, municipality: MunicipalityDep, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    require_write(principal, municipality.id, *EDITORS)
    topic = await card_service.create_topic(
        session=session, municipality_id=municipality.id, data=data
    )
    body = {"key": topic.key, "name": topic.name.as_dict(), "position": topic.position}
    return send(json_body(body, etag=resource_etag("topic", topic.id, 1, None)), 201)
