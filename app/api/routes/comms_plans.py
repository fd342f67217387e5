"""Communication plans: the comms group's plan per year, its approval by the municipal
board, its log, and its calendar (JSON and iCalendar). Staff only, never cached."""

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status
from starlette.responses import Response

from app.api.caching import json_body, make_etag
from app.api.deps import (
    CurrentPrincipal,
    IfMatch,
    Lang,
    MunicipalityDep,
    Paging,
    SessionDep,
    check_if_match,
    resource_etag,
)
from app.api.documents import localize_texts
from app.api.schemas import Collection, problems, send
from app.core.time import Day
from app.models.comms_plan import (
    ApproveIn,
    CalendarPublic,
    CommsPlan,
    NewVersionIn,
    PlanCreate,
    PlanEventPublic,
    PlanPublic,
    PlanStatus,
    PlanUpdate,
    ReturnIn,
    SubmitIn,
)
from app.models.user import Role
from app.services import comms_plan as plan_service
from app.services.auth import Principal, require_read, require_write
from app.services.comms_plan import KIND, Actor, Document

router = APIRouter(prefix="/municipalities/{slug}", tags=["comms-plans"])

# Planning communication is the comms group's work; admins oversee it. Editors and
# guides of the municipality see none of it.
COMMS = (Role.comms, Role.municipality_admin)
PLAN_TEXT_KEYS = frozenset(
    {
        "title",
        "name",
        "what",
        "responsible",
        "cadence_text",
        "note",
        *plan_service.STRATEGY_FIELDS,
    }
)
LIST_TEXT_KEYS = frozenset({"channels"})
NO_STORE = {"Cache-Control": "no-store"}


def actor_of(principal: Principal) -> Actor:
    return Actor(id=principal.user.id, name=principal.user.display_name)


def _localized(document: Any, lang: str | None, path: str = "") -> tuple[Any, dict[str, Any]]:
    localized = localize_texts(document, lang, PLAN_TEXT_KEYS, LIST_TEXT_KEYS, path=path)
    return localized.data, localized.meta()


def _plan_response(
    document: Document, lang: str | None, status_code: int = 200, location: bool = False
) -> Response:
    data, meta = _localized(document, lang)
    data["meta"] = meta
    etag = resource_etag(KIND, document["id"], document["revision"], lang)
    headers = dict(NO_STORE)
    if location:
        headers["Location"] = (
            f"/api/v1/municipalities/{document['municipality']}/comms-plans/{document['id']}"
        )
    return send(json_body(data, etag=etag, language=lang), status_code, headers)


async def _readable(
    session: SessionDep, municipality: MunicipalityDep, principal: Principal, plan_id: uuid.UUID
) -> CommsPlan:
    require_read(principal, municipality.id, *COMMS)
    return await plan_service.get_plan(
        session=session, municipality_id=municipality.id, plan_id=plan_id
    )


async def _writable(
    session: SessionDep,
    municipality: MunicipalityDep,
    principal: Principal,
    plan_id: uuid.UUID,
    if_match: str | None,
    *,
    if_match_required: bool,
) -> CommsPlan:
    require_write(principal, municipality.id, *COMMS)
    plan = await plan_service.get_plan(
        session=session, municipality_id=municipality.id, plan_id=plan_id, for_update=True
    )
    if if_match or if_match_required:
        check_if_match(if_match, kind=KIND, resource_id=plan.id, version=plan.version)
    return plan


@router.get(
    "/comms-plans",
    response_model=Collection[PlanPublic],
    responses=problems(401, 403, 404, 422),
    summary="List communication plans",
)
async def list_comms_plans(
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    paging: Paging,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status_: Annotated[PlanStatus | None, Query(alias="status")] = None,
) -> Response:
    """Every version of every year, newest first, with their rows."""
    require_read(principal, municipality.id, *COMMS)
    page = await plan_service.list_page(
        session=session,
        municipality_id=municipality.id,
        limit=paging.limit,
        cursor=paging.cursor,
        year=year,
        status=status_,
        modified_since=paging.modified_since,
    )
    documents = await plan_service.documents(session, page.items, municipality.slug)
    items, meta = _localized(documents, lang, path="items")
    data = {"items": items, "next_cursor": page.next_cursor, "total": page.total, "meta": meta}
    etag = make_etag(
        "comms-plans", [(str(d["id"]), d["revision"]) for d in documents], page.next_cursor, lang
    )
    return send(json_body(data, etag=etag, language=lang), headers=NO_STORE)


@router.post(
    "/comms-plans",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Start a year's communication plan",
)
async def create_comms_plan(
    data: PlanCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """Version 1 of the year's plan, as a draft. A year that has a plan already is a
    409 `duplicate`: start a new version from its approved plan instead."""
    require_write(principal, municipality.id, *COMMS)
    plan = await plan_service.create(
        session=session, municipality_id=municipality.id, actor=actor_of(principal), data=data
    )
    return _plan_response(await plan_service.document(session, plan), lang, 201, location=True)


@router.get(
    "/comms-plans/{plan_id}",
    response_model=PlanPublic,
    responses=problems(401, 403, 404, 422),
    summary="Get a communication plan",
)
async def get_comms_plan(
    plan_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    plan = await _readable(session, municipality, principal, plan_id)
    return _plan_response(await plan_service.document(session, plan), lang)


@router.patch(
    "/comms-plans/{plan_id}",
    response_model=PlanPublic,
    responses=problems(401, 403, 404, 409, 412, 422, 428),
    summary="Change a draft or returned communication plan",
)
async def update_comms_plan(
    plan_id: uuid.UUID,
    data: PlanUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match with the ETag you read. `rows`, when sent, replaces every row;
    send each row's `id` to keep it. An approved plan is 409 `plan-approved` (start a
    new version), a submitted one 409 `plan-submitted`."""
    plan = await _writable(
        session, municipality, principal, plan_id, if_match, if_match_required=True
    )
    plan = await plan_service.update(
        session=session, plan=plan, actor=actor_of(principal), data=data
    )
    return _plan_response(await plan_service.document(session, plan), lang)


@router.delete(
    "/comms-plans/{plan_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 412, 428),
    summary="Delete a draft that was never submitted",
)
async def delete_comms_plan(
    plan_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    plan = await _writable(
        session, municipality, principal, plan_id, if_match, if_match_required=True
    )
    await plan_service.remove(session=session, plan=plan)
    return Response(status_code=204)


@router.post(
    "/comms-plans/{plan_id}/submit",
    response_model=PlanPublic,
    responses=problems(401, 403, 404, 409, 412, 422),
    summary="Submit the plan to the municipal board",
)
async def submit_comms_plan(
    plan_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    data: Annotated[SubmitIn | None, Body()] = None,
    if_match: IfMatch = None,
) -> Response:
    """A draft or a returned plan goes to the board (409 `invalid-transition` from any
    other state). If-Match is optional here; when sent it must be current."""
    plan = await _writable(
        session, municipality, principal, plan_id, if_match, if_match_required=False
    )
    plan = await plan_service.submit(
        session=session,
        plan=plan,
        actor=actor_of(principal),
        comment=data.comment if data else None,
    )
    return _plan_response(await plan_service.document(session, plan), lang)


@router.post(
    "/comms-plans/{plan_id}/approve",
    response_model=PlanPublic,
    responses=problems(401, 403, 404, 409, 412, 422),
    summary="Record the board's approval",
)
async def approve_comms_plan(
    plan_id: uuid.UUID,
    data: ApproveIn,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """The board approved the submitted plan on `decision_date` (minutes reference and
    comment optional). From now on the plan is read-only."""
    plan = await _writable(
        session, municipality, principal, plan_id, if_match, if_match_required=False
    )
    plan = await plan_service.approve(
        session=session,
        plan=plan,
        actor=actor_of(principal),
        decision_date=data.decision_date,
        minutes_reference=data.minutes_reference,
        comment=data.comment,
    )
    return _plan_response(await plan_service.document(session, plan), lang)


@router.post(
    "/comms-plans/{plan_id}/return",
    response_model=PlanPublic,
    responses=problems(401, 403, 404, 409, 412, 422),
    summary="Record that the board returned the plan",
)
async def return_comms_plan(
    plan_id: uuid.UUID,
    data: ReturnIn,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """The board sent the submitted plan back with `comment`; it can be edited and
    submitted again."""
    plan = await _writable(
        session, municipality, principal, plan_id, if_match, if_match_required=False
    )
    plan = await plan_service.return_to_draft(
        session=session,
        plan=plan,
        actor=actor_of(principal),
        decision_date=data.decision_date,
        minutes_reference=data.minutes_reference,
        comment=data.comment,
    )
    return _plan_response(await plan_service.document(session, plan), lang)


@router.post(
    "/comms-plans/{plan_id}/new-version",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Start a new version from an approved plan",
)
async def new_comms_plan_version(
    plan_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    data: Annotated[NewVersionIn | None, Body()] = None,
) -> Response:
    """Version n+1 as a draft copy of the approved plan, which stays as approved.
    409 `plan-version-open` while another version of the year is unfinished."""
    require_write(principal, municipality.id, *COMMS)
    plan = await plan_service.get_plan(
        session=session, municipality_id=municipality.id, plan_id=plan_id, for_update=True
    )
    copy = await plan_service.new_version(
        session=session,
        plan=plan,
        actor=actor_of(principal),
        comment=data.comment if data else None,
    )
    return _plan_response(await plan_service.document(session, copy), lang, 201, location=True)


@router.get(
    "/comms-plans/{plan_id}/history",
    response_model=list[PlanEventPublic],
    responses=problems(401, 403, 404, 422),
    summary="The plan's log: every step, who and when",
)
async def comms_plan_history(
    plan_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Newest first: created, updated (with each field's before and after), submitted,
    approved or returned (with the decision), new version."""
    plan = await _readable(session, municipality, principal, plan_id)
    events = await plan_service.history(session=session, plan=plan)
    data = [
        {
            "created_at": event.created_at,
            "updated_by": event.actor_name,
            "action": event.action,
            "status": event.status_after,
            "comment": event.comment,
            "decision_date": event.decision_date,
            "minutes_reference": event.minutes_reference,
            "changes": event.changes,
        }
        for event in events
    ]
    etag = resource_etag("comms-plan-history", plan.id, plan.version, None)
    return send(json_body(data, etag=etag), headers=NO_STORE)


FromDate = Annotated[
    Day | None,
    Query(alias="from", description="First day (Helsinki), default 1 January of the plan year."),
]
ToDate = Annotated[
    Day | None, Query(description="Last day, inclusive; default 31 December of the plan year.")
]


async def _calendar(
    session: SessionDep,
    municipality: MunicipalityDep,
    principal: Principal,
    plan_id: uuid.UUID,
    start: date | None,
    end: date | None,
) -> tuple[CommsPlan, Document]:
    plan = await _readable(session, municipality, principal, plan_id)
    first, last = plan_service.calendar_window(plan, start, end)
    document = await plan_service.document(session, plan)
    return plan, plan_service.calendar(document, first, last)


@router.get(
    "/comms-plans/{plan_id}/calendar",
    response_model=CalendarPublic,
    responses=problems(401, 403, 404, 422),
    summary="The dated tasks the plan's cadences make",
)
async def comms_plan_calendar(
    plan_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    from_: FromDate = None,
    to: ToDate = None,
) -> Response:
    """Each task with its Helsinki time (the offset of that day: 09:00 stays 09:00
    across daylight-saving changes) and the responsible role; continuous and ad hoc
    rows are listed under `ongoing`. At most 731 days at a time."""
    plan, calendar = await _calendar(session, municipality, principal, plan_id, from_, to)
    data, meta = _localized(calendar, lang)
    data["meta"] = meta
    etag = resource_etag(
        "comms-plan-calendar", plan.id, plan.version, f"{lang}:{calendar['from']}:{calendar['to']}"
    )
    return send(json_body(data, etag=etag, language=lang), headers=NO_STORE)


@router.get(
    "/comms-plans/{plan_id}/calendar.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "An iCalendar feed"},
        **problems(401, 403, 404, 422),
    },
    summary="The plan's calendar as an iCalendar (.ics) feed",
)
async def comms_plan_calendar_ics(
    plan_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    from_: FromDate = None,
    to: ToDate = None,
) -> Response:
    """One event per task, DTSTART in Europe/Helsinki with its VTIMEZONE, UIDs stable
    across edits (they follow row ids). Texts in `lang` (default Finnish)."""
    plan, calendar = await _calendar(session, municipality, principal, plan_id, from_, to)
    content = plan_service.calendar_ics(calendar, lang=lang or "fi", stamp=plan.updated_at)
    filename = f"{municipality.slug}-comms-plan-{plan.year}-v{plan.plan_version}.ics"
    return Response(
        content=content,
        media_type="text/calendar; charset=utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": f'inline; filename="{filename}"',
            "ETag": resource_etag(
                "comms-plan-ics",
                plan.id,
                plan.version,
                f"{lang}:{calendar['from']}:{calendar['to']}",
            ),
        },
    )
