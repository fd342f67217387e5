"""Guides and their availability: the public directory and slots, staff management."""

import time
import uuid
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
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
    check_if_match,
    resource_etag,
)
from app.api.schemas import problems, send
from app.api.sync import sync_read, synced_page
from app.core.errors import Forbidden, NotFound
from app.core.i18n import localize_document
from app.core.pagination import Page
from app.core.security import calendar_feed_token, calendar_feed_token_matches
from app.core.time import LooseInstant
from app.models.guide import (
    ExpertiseVocabularyIn,
    Guide,
    GuideCreate,
    GuideStatus,
    GuideUpdate,
    MeetingMode,
    SlotCreate,
    SlotRuleCreate,
    SuccessorIn,
)
from app.models.user import Role
from app.services import calendar_feed
from app.services import guide as guide_service
from app.services.auth import Principal, require_write
from app.services.guide import KIND, SLOT_KIND, GuideFilters

router = APIRouter(prefix="/municipalities/{slug}", tags=["guides"])

TEXT_KEYS = frozenset({"bio", "place", "label"})
ADMINS = (Role.municipality_admin,)


def _is_staff(principal: Principal | None, municipality_id: uuid.UUID) -> bool:
    return principal is not None and principal.has_role(
        municipality_id, Role.municipality_admin, Role.editor, Role.comms
    )


def _guide_body(
    guide: Guide, lang: str | None, *, staff: bool, labels: guide_service.Labels
) -> Body:
    document = (
        guide_service.staff_document(guide, labels)
        if staff
        else guide_service.public_document(guide, labels)
    )
    localized = localize_document(document, lang, TEXT_KEYS)
    data = localized.data | {"meta": localized.meta()}
    return json_body(data, etag=resource_etag(KIND, guide.id, guide.version, lang), language=lang)


async def _labels(session: SessionDep, municipality_id: uuid.UUID) -> guide_service.Labels:
    return await guide_service.expertise_labels(session=session, municipality_id=municipality_id)


@router.get(
    "/guide-expertise",
    responses=problems(404, 422),
    summary="The areas of expertise a guide can have here, labelled",
)
async def get_guide_expertise(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
) -> Response:
    """The municipality's vocabulary of guide expertise (`?expertise=` filters by its
    keys), with each label in every language or in the one asked for."""

    async def build(etag: str) -> Body:
        terms = await guide_service.expertise_terms(
            session=session, municipality_id=municipality.id
        )
        items = [{"key": term.key, "label": term.label.as_dict()} for term in terms]
        localized = localize_document(items, lang, frozenset({"label"}), path="items")
        data = {"items": localized.data, "meta": localized.meta()}
        return json_body(data, etag=etag, language=lang)

    depends = [(municipality.scope, KIND)]
    return await cache.serve(request, session, depends_on=depends, build=build, language=lang)


@router.put(
    "/guide-expertise",
    responses=problems(401, 403, 404, 409, 422),
    summary="Replace the guide-expertise vocabulary (admins)",
)
async def put_guide_expertise(
    data: ExpertiseVocabularyIn,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """The whole vocabulary in the order to show it; a key a guide still carries
    cannot be removed (409 expertise-in-use)."""
    require_write(principal, municipality.id, *ADMINS)
    terms = await guide_service.replace_expertise(
        session=session, municipality_id=municipality.id, data=data
    )
    items = [{"key": term.key, "label": term.label.as_dict()} for term in terms]
    return send(
        json_body({"items": items}, etag=make_etag("guide-expertise", municipality.scope, items))
    )


@router.get("/guides", responses=problems(404, 410, 422), summary="The guide directory")
async def list_guides(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    lang: Lang,
    paging: Paging,
    language: Annotated[str | None, Query(max_length=3, description="Service language")] = None,
    expertise: Annotated[str | None, Query(max_length=40)] = None,
    mode: MeetingMode | None = None,
    has_free_slots: bool = False,
) -> Response:
    """Active guides with their public profile: the mover picks the guide (seed p. 28).

    Filters: a language the guide serves in, an area of expertise, a meeting mode,
    and whether they have free slots.
    """
    staff = _is_staff(principal, municipality.id)
    filters = GuideFilters(
        language=language.lower() if language else None,
        expertise=expertise.lower() if expertise else None,
        mode=mode,
        has_free_slots=has_free_slots,
        statuses=tuple(GuideStatus) if staff else (GuideStatus.active,),
        modified_since=paging.modified_since,
    )

    # Tombstones describe the public directory; staff see every guide, ended ones too.
    read = sync_read(
        replace(paging, modified_since=None) if staff else paging,
        "guides",
        retention_days=settings.change_retention_days,
    )

    async def fetch(cursor: str | None) -> Page[Any]:
        page = await guide_service.list_page(
            session=session,
            municipality_id=municipality.id,
            filters=filters,
            limit=paging.limit,
            cursor=cursor,
        )
        labels = await guide_service.expertise_labels(
            session=session, municipality_id=municipality.id
        )
        documents = [
            guide_service.staff_document(g, labels)
            if staff
            else guide_service.public_document(g, labels)
            for g in page.items
        ]
        return Page(items=documents, next_cursor=page.next_cursor, total=page.total)

    async def build(etag: str) -> Body:
        page = await synced_page(
            session=session,
            read=read,
            fetch=fetch,
            municipality_id=municipality.id,
            kinds=(KIND,),
            collection="guides",
            limit=paging.limit,
        )
        documents = page.items
        localized = localize_document(documents, lang, TEXT_KEYS, path="items")
        data = {
            "items": localized.data,
            "next_cursor": page.next_cursor,
            "total": page.total,
            "meta": localized.meta(),
        }
        # "Has free slots" stops being true as time passes, not only on writes.
        return json_body(data, etag=etag, language=lang, valid_until=time.time() + 300)

    depends = [(municipality.scope, KIND), (municipality.scope, SLOT_KIND)]
    return await cache.serve(
        request, session, depends_on=depends, build=build, language=lang, cacheable=not staff
    )


@router.get("/guides/{guide_id}", responses=problems(404, 422), summary="A guide's profile")
async def get_guide(
    guide_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: OptionalPrincipal,
    lang: Lang,
) -> Response:
    """Public fields for everyone (active guides); the whole profile for staff and the guide."""
    guide = await guide_service.get(
        session=session, municipality_id=municipality.id, guide_id=guide_id
    )
    own = principal is not None and guide_service.may_edit_profile(principal, guide)
    staff = own or _is_staff(principal, municipality.id)
    if not staff and guide_service.effective_status(guide) != GuideStatus.active:
        raise NotFound("No such guide.")
    return send(
        _guide_body(guide, lang, staff=staff, labels=await _labels(session, municipality.id))
    )


@router.post(
    "/guides",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 422),
    summary="Add a guide",
)
async def create_guide(
    data: GuideCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """Municipality admins add guides (the first ones picked by the municipal manager)."""
    require_write(principal, municipality.id, *ADMINS)
    guide = await guide_service.create(session=session, municipality_id=municipality.id, data=data)
    return send(
        _guide_body(guide, lang, staff=True, labels=await _labels(session, municipality.id)),
        201,
        {"Location": f"/api/v1/municipalities/{municipality.slug}/guides/{guide.id}"},
    )


@router.patch(
    "/guides/{guide_id}",
    responses=problems(401, 403, 404, 412, 422, 428),
    summary="Update a guide's profile",
)
async def update_guide(
    guide_id: uuid.UUID,
    data: GuideUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Admins change anything; a guide (role `guide`) their own profile's description,
    languages, expertise, modes and contact details. Send If-Match."""
    guide = await guide_service.get(
        session=session, municipality_id=municipality.id, guide_id=guide_id
    )
    staff = principal.has_role(municipality.id, *ADMINS)
    if not staff and not guide_service.may_edit_profile(principal, guide):
        raise Forbidden("You may edit only your own guide profile.")
    check_if_match(if_match, kind=KIND, resource_id=guide.id, version=guide.version)
    guide = await guide_service.update(
        session=session, guide=guide, principal=principal, data=data, staff=staff
    )
    return send(
        _guide_body(guide, lang, staff=True, labels=await _labels(session, municipality.id))
    )


async def _admin_guide(
    session: SessionDep, municipality: MunicipalityDep, principal: Principal, guide_id: uuid.UUID
) -> Guide:
    require_write(principal, municipality.id, *ADMINS)
    return await guide_service.get(
        session=session, municipality_id=municipality.id, guide_id=guide_id
    )


@router.post(
    "/guides/{guide_id}/activate",
    responses=problems(401, 403, 404, 409),
    summary="Start a guide's term",
)
async def activate_guide(
    guide_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """proposed → active; the term runs a year from today unless set."""
    guide = await _admin_guide(session, municipality, principal, guide_id)
    guide = await guide_service.set_status(session=session, guide=guide, status=GuideStatus.active)
    return send(
        _guide_body(guide, lang, staff=True, labels=await _labels(session, municipality.id))
    )


@router.post(
    "/guides/{guide_id}/end", responses=problems(401, 403, 404, 409), summary="End a guide's term"
)
async def end_guide(
    guide_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    guide = await _admin_guide(session, municipality, principal, guide_id)
    guide = await guide_service.set_status(session=session, guide=guide, status=GuideStatus.ended)
    return send(
        _guide_body(guide, lang, staff=True, labels=await _labels(session, municipality.id))
    )


@router.post(
    "/guides/{guide_id}/successor",
    responses=problems(401, 403, 404, 409, 422),
    summary="Nominate a successor",
)
async def nominate_successor(
    guide_id: uuid.UUID,
    data: SuccessorIn,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """Near the end of their term a guide names who should carry on."""
    guide = await guide_service.get(
        session=session, municipality_id=municipality.id, guide_id=guide_id
    )
    guide = await guide_service.nominate_successor(
        session=session, guide=guide, principal=principal, successor_id=data.successor_id
    )
    return send(
        _guide_body(guide, lang, staff=True, labels=await _labels(session, municipality.id))
    )


@router.post(
    "/guides/{guide_id}/successor/confirm",
    responses=problems(401, 403, 404, 409),
    summary="Confirm the nominated successor",
)
async def confirm_successor(
    guide_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """The admin confirms; the successor's one-year term starts when this one ends."""
    guide = await _admin_guide(session, municipality, principal, guide_id)
    _, successor = await guide_service.confirm_successor(session=session, guide=guide)
    return send(
        _guide_body(successor, lang, staff=True, labels=await _labels(session, municipality.id))
    )


# ---- availability -----------------------------------------------------------------------------


async def _host(
    session: SessionDep, municipality: MunicipalityDep, principal: Principal, guide_id: uuid.UUID
) -> Guide:
    """The guide themself or an admin publishes availability."""
    guide = await guide_service.get(
        session=session, municipality_id=municipality.id, guide_id=guide_id
    )
    if not guide_service.may_edit_profile(principal, guide):
        require_write(principal, municipality.id, *ADMINS)
    return guide


@router.post(
    "/guides/{guide_id}/slots",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
    summary="Publish a slot",
)
async def create_slot(
    guide_id: uuid.UUID,
    data: SlotCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """One bookable time; overlapping the host's other slots is a 409 `slot-overlap`."""
    guide = await _host(session, municipality, principal, guide_id)
    slot = await guide_service.add_slot(session=session, guide=guide, data=data)
    body = json_body(
        guide_service.slot_document(slot, guide), etag=resource_etag(SLOT_KIND, slot.id, 1, None)
    )
    return send(body, 201)


@router.post(
    "/guides/{guide_id}/slot-rules",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
    summary="Publish a weekly availability",
)
async def create_slot_rule(
    guide_id: uuid.UUID,
    data: SlotRuleCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> Response:
    """Every `weekday` at `local_start` Europe/Helsinki time, expanded into slots for the
    coming weeks. On the spring-forward night a time like 03:30 does not exist: the
    date is skipped (`skipped`) or, with `on_nonexistent_time: shift`, moved an hour on
    (`shifted`). On the fall-back night 03:30 happens twice: the first (summer-time)
    one is used. Slots keep their wall-clock time across the change."""
    guide = await _host(session, municipality, principal, guide_id)
    expansion = await guide_service.add_rule(
        session=session, guide=guide, data=data, weeks=settings.slot_rule_weeks
    )
    data_out = {
        "rule_id": expansion.rule.id,
        "created": [guide_service.slot_document(s, guide) for s in expansion.created],
        "skipped": expansion.skipped,
        "shifted": expansion.shifted,
    }
    return send(
        json_body(data_out, etag=resource_etag("slot-rule", expansion.rule.id, 1, None)), 201
    )


@router.delete(
    "/slots/{slot_id}",
    status_code=204,
    responses=problems(401, 403, 404, 409),
    summary="Withdraw a slot",
)
async def delete_slot(
    slot_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    slot = await guide_service.get_slot(
        session=session, municipality_id=municipality.id, slot_id=slot_id
    )
    await _host(session, municipality, principal, slot.guide_id)
    await guide_service.remove_slot(session=session, slot=slot)
    return Response(status_code=204)


@router.get("/slots", responses=problems(404, 410, 422), summary="Free slots")
async def list_slots(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
    lang: Lang,
    paging: Paging,
    guide: uuid.UUID | None = None,
    mode: MeetingMode | None = None,
    from_: Annotated[LooseInstant | None, Query(alias="from")] = None,
    to: LooseInstant | None = None,
) -> Response:
    """Bookable times, soonest first, each with UTC and Europe/Helsinki local time and
    offset, a page at a time. The window defaults to the coming 31 days and is at most 92
    days; `modified_since` keeps the slots added or freed again since then and adds a
    tombstone (`{id, deleted: true, deleted_at}`) for each slot booked or withdrawn since
    then (its guide leaving the directory withdraws it)."""
    start, end = guide_service.slot_window(from_, to, prefix="query.")
    read = sync_read(paging, "slots", retention_days=settings.change_retention_days)

    async def fetch(cursor: str | None) -> Page[Any]:
        return await guide_service.free_slot_page(
            session=session,
            municipality_id=municipality.id,
            start=start,
            end=end,
            limit=paging.limit,
            cursor=cursor,
            guide_id=guide,
            mode=mode,
            created_since=paging.modified_since,
        )

    async def build(etag: str) -> Body:
        page = await synced_page(
            session=session,
            read=read,
            fetch=fetch,
            municipality_id=municipality.id,
            kinds=(SLOT_KIND,),
            collection="slots",
            limit=paging.limit,
        )
        localized = localize_document(page.items, lang, TEXT_KEYS, path="items")
        # The page changes when its first slot starts (it is no longer bookable); a later
        # page's total may lag behind slots of earlier pages starting by ≤ 5 minutes.
        first = min((doc["starts_at"] for doc in page.items if "starts_at" in doc), default=None)
        valid_until = min(time.time() + 300, first.timestamp() if first else float("inf"))
        data = {
            "items": localized.data,
            "next_cursor": page.next_cursor,
            "total": page.total,
            "time_zone": "Europe/Helsinki",
            "meta": localized.meta(),
        }
        return json_body(data, etag=etag, language=lang, valid_until=valid_until)

    depends = [(municipality.scope, SLOT_KIND), (municipality.scope, KIND)]
    return await cache.serve(request, session, depends_on=depends, build=build, language=lang)


@router.get(
    "/slots/{slot_id}", responses=problems(404, 422), summary="A free slot (the feed's URL of it)"
)
async def get_free_slot(
    slot_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
) -> Response:
    """The slot as the free-slot list shows it, while it can be booked; 404 once it is
    booked, withdrawn, started or its guide has left the directory."""

    async def build(etag: str) -> Body:
        document = await guide_service.free_slot(
            session=session, municipality_id=municipality.id, slot_id=slot_id
        )
        localized = localize_document(document, lang, TEXT_KEYS)
        data = localized.data | {"meta": localized.meta()}
        starts = document["starts_at"].timestamp()
        return json_body(data, etag=etag, language=lang, valid_until=min(time.time() + 300, starts))

    depends = [(municipality.scope, SLOT_KIND), (municipality.scope, KIND)]
    return await cache.serve(request, session, depends_on=depends, build=build, language=lang)


# ---- the host's calendar feed -------------------------------------------------------------------


@router.get(
    "/guides/{guide_id}/calendar-link",
    responses=problems(401, 403, 404),
    summary="The signed address of a host's calendar feed",
)
async def guide_calendar_link(
    guide_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> Response:
    """A secret URL the guide can subscribe to in their calendar app."""
    guide = await _host(session, municipality, principal, guide_id)
    token = calendar_feed_token(str(guide.id), settings)
    base = settings.public_base_url.rstrip("/")
    path = f"/api/v1/municipalities/{municipality.slug}/guides/{guide.id}/calendar.ics"
    url = f"{base}{path}?token={token}"
    return send(json_body({"url": url}, etag=resource_etag("feed", guide.id, 1, None)))


@router.get(
    "/guides/{guide_id}/calendar.ics",
    responses=problems(404),
    summary="A host's bookings as an iCalendar feed",
)
async def guide_calendar(
    guide_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Query(max_length=200)],
) -> Response:
    guide = await guide_service.get(
        session=session, municipality_id=municipality.id, guide_id=guide_id
    )
    if not calendar_feed_token_matches(str(guide.id), token, settings):
        raise NotFound("No such calendar.")
    body = await calendar_feed.host_feed(session=session, guide=guide)
    return Response(
        content=body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-cache"},
    )
