"""GraphQL queries and mutations for communication plans and analytics: the same
services, access rules and problem codes as REST (comms staff and admins only)."""

import uuid
from datetime import date
from typing import Any

import strawberry
from pydantic import ValidationError
from strawberry.types import Info

from app.api.caching import TenantRef
from app.core.errors import NotFound, PreconditionFailed, Unauthorized, from_pydantic
from app.core.pagination import DEFAULT_LIMIT
from app.core.time import utcnow
from app.graphql.context import Context
from app.graphql.paging import page_size
from app.graphql.types.comms import (
    AnalyticsComparison,
    AnalyticsSnapshot,
    AnalyticsSnapshotConnection,
    AnalyticsSnapshotInput,
    AnalyticsTrend,
    CommsCalendar,
    CommsPlan,
    CommsPlanConnection,
    CommsPlanInput,
    CommsPlanPatch,
    CompareWith,
    PlanEvent,
    TrendPoint,
)
from app.graphql.types.service_card import input_dict
from app.models.analytics import SnapshotCreate
from app.models.comms_plan import PlanCreate, PlanStatus, PlanUpdate
from app.models.user import Role
from app.services import analytics as analytics_service
from app.services import comms_plan as plan_service
from app.services.analytics import Quarter
from app.services.auth import Principal, require_read, require_write
from app.services.service_card import Actor

ContextInfo = Info[Context, None]
COMMS = (Role.comms, Role.municipality_admin)


def _signed_in(info: ContextInfo) -> Principal:
    if info.context.principal is None:
        raise Unauthorized("Sign in to do this.")
    return info.context.principal


def _actor(principal: Principal) -> Actor:
    return Actor(id=principal.user.id, name=principal.user.display_name)


def _uuid(value: strawberry.ID, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise NotFound(f"No such {what}.") from error


async def _reader(info: ContextInfo, municipality: str) -> TenantRef:
    principal = _signed_in(info)
    ref = await info.context.cache.tenant(info.context.session, municipality)
    require_read(principal, ref.id, *COMMS)
    return ref


async def _writer(info: ContextInfo, municipality: str) -> TenantRef:
    principal = _signed_in(info)
    ref = await info.context.cache.tenant(info.context.session, municipality)
    require_write(principal, ref.id, *COMMS)
    return ref


async def _plan(info: ContextInfo, ref: TenantRef, plan: strawberry.ID, lock: bool = False) -> Any:
    return await plan_service.get_plan(
        session=info.context.session,
        municipality_id=ref.id,
        plan_id=_uuid(plan, "communication plan"),
        for_update=lock,
    )


async def _plan_out(info: ContextInfo, plan: Any) -> CommsPlan:
    return CommsPlan.from_doc(await plan_service.document(info.context.session, plan))


@strawberry.type
class CommsQueries:
    @strawberry.field(description="A municipality's communication plans, newest year first.")
    async def comms_plans(
        self,
        info: ContextInfo,
        municipality: str,
        year: int | None = None,
        status: str | None = None,
        first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> CommsPlanConnection:
        limit = page_size(first)
        ref = await _reader(info, municipality)
        page = await plan_service.list_page(
            session=info.context.session,
            municipality_id=ref.id,
            limit=limit,
            cursor=after,
            year=year,
            status=PlanStatus(status) if status in set(PlanStatus) else None,
        )
        documents = await plan_service.documents(info.context.session, page.items, ref.slug)
        return CommsPlanConnection(
            items=[CommsPlan.from_doc(doc) for doc in documents],
            next_cursor=page.next_cursor,
            total=page.total,
        )

    @strawberry.field(description="One communication plan.")
    async def comms_plan(
        self, info: ContextInfo, municipality: str, id: strawberry.ID
    ) -> CommsPlan:
        ref = await _reader(info, municipality)
        return await _plan_out(info, await _plan(info, ref, id))

    @strawberry.field(
        description="The dated tasks of a plan between two Helsinki dates (default: its year)."
    )
    async def comms_plan_calendar(
        self,
        info: ContextInfo,
        municipality: str,
        id: strawberry.ID,
        first_day: date | None = None,
        last_day: date | None = None,
    ) -> CommsCalendar:
        ref = await _reader(info, municipality)
        plan = await _plan(info, ref, id)
        start, end = plan_service.calendar_window(plan, first_day, last_day)
        document = await plan_service.document(info.context.session, plan)
        return CommsCalendar.from_doc(plan_service.calendar(document, start, end))

    @strawberry.field(description="The plan's log, newest step first.")
    async def comms_plan_history(
        self, info: ContextInfo, municipality: str, id: strawberry.ID
    ) -> list[PlanEvent]:
        ref = await _reader(info, municipality)
        plan = await _plan(info, ref, id)
        events = await plan_service.history(session=info.context.session, plan=plan)
        return [
            PlanEvent(
                created_at=event.created_at,
                updated_by=event.actor_name,
                action=event.action,
                status=event.status_after,
                comment=event.comment,
                decision_date=event.decision_date,
                minutes_reference=event.minutes_reference,
            )
            for event in events
        ]

    @strawberry.field(description="A municipality's analytics snapshots, newest quarter first.")
    async def analytics_snapshots(
        self,
        info: ContextInfo,
        municipality: str,
        year: int | None = None,
        first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> AnalyticsSnapshotConnection:
        limit = page_size(first)
        ref = await _reader(info, municipality)
        page = await analytics_service.list_page(
            session=info.context.session,
            municipality_id=ref.id,
            limit=limit,
            cursor=after,
            year=year,
        )
        return AnalyticsSnapshotConnection(
            items=[
                AnalyticsSnapshot.from_doc(
                    analytics_service.snapshot_doc(row, ref.slug, full=False)
                )
                for row in page.items
            ],
            next_cursor=page.next_cursor,
            total=page.total,
        )

    @strawberry.field(description="One snapshot with its computed figures and metrics.")
    async def analytics_snapshot(
        self, info: ContextInfo, municipality: str, id: strawberry.ID
    ) -> AnalyticsSnapshot:
        ref = await _reader(info, municipality)
        snapshot = await analytics_service.get_snapshot(
            session=info.context.session,
            municipality_id=ref.id,
            snapshot_id=_uuid(id, "analytics snapshot"),
        )
        return AnalyticsSnapshot.from_doc(
            await analytics_service.document(info.context.session, snapshot)
        )

    @strawberry.field(description="Each metric against the previous quarter or a year before.")
    async def analytics_comparison(
        self,
        info: ContextInfo,
        municipality: str,
        id: strawberry.ID,
        compare: CompareWith = CompareWith.PREVIOUS,
    ) -> AnalyticsComparison:
        ref = await _reader(info, municipality)
        session = info.context.session
        snapshot = await analytics_service.get_snapshot(
            session=session, municipality_id=ref.id, snapshot_id=_uuid(id, "analytics snapshot")
        )
        targets = await plan_service.quarter_targets(
            session=session, municipality_id=ref.id, year=Quarter.parse(snapshot.quarter).year
        )
        result = await analytics_service.comparison(
            session=session, snapshot=snapshot, compare=compare.value, targets=targets
        )
        return AnalyticsComparison.from_doc(result)

    @strawberry.field(description="One metric's series over quarters (`2024-Q1` to `2026-Q4`).")
    async def analytics_trend(
        self,
        info: ContextInfo,
        municipality: str,
        metric: str,
        first_quarter: str | None = None,
        last_quarter: str | None = None,
    ) -> AnalyticsTrend:
        ref = await _reader(info, municipality)
        last = Quarter.parse(last_quarter, "lastQuarter") if last_quarter else Quarter.of(utcnow())
        first = Quarter.parse(first_quarter, "firstQuarter") if first_quarter else last.shift(-7)
        result = await analytics_service.trend(
            session=info.context.session,
            municipality_id=ref.id,
            metric=metric,
            first=first,
            last=last,
        )
        return AnalyticsTrend(
            metric=result["metric"],
            points=[TrendPoint(quarter=p["quarter"], value=p["value"]) for p in result["points"]],
            _label=result["label"],
        )


@strawberry.type
class CommsMutations:
    @strawberry.mutation(description="Start a year's communication plan (version 1, a draft).")
    async def create_comms_plan(
        self, info: ContextInfo, municipality: str, input: CommsPlanInput
    ) -> CommsPlan:
        ref = await _writer(info, municipality)
        try:
            data = PlanCreate.model_validate(input_dict(input))
        except ValidationError as error:
            raise from_pydantic(error, prefix="input") from error
        plan = await plan_service.create(
            session=info.context.session,
            municipality_id=ref.id,
            actor=_actor(_signed_in(info)),
            data=data,
        )
        return await _plan_out(info, plan)

    @strawberry.mutation(
        description="Change a draft or returned plan. `revision` is the one you read."
    )
    async def update_comms_plan(
        self,
        info: ContextInfo,
        municipality: str,
        id: strawberry.ID,
        revision: int,
        input: CommsPlanPatch,
    ) -> CommsPlan:
        ref = await _writer(info, municipality)
        plan = await _plan(info, ref, id, lock=True)
        if plan.version != revision:
            raise PreconditionFailed("The plan changed since you read it; reload and retry.")
        try:
            data = PlanUpdate.model_validate(input_dict(input))
        except ValidationError as error:
            raise from_pydantic(error, prefix="input") from error
        plan = await plan_service.update(
            session=info.context.session, plan=plan, actor=_actor(_signed_in(info)), data=data
        )
        return await _plan_out(info, plan)

    @strawberry.mutation(description="Submit a draft or returned plan to the municipal board.")
    async def submit_comms_plan(
        self, info: ContextInfo, municipality: str, id: strawberry.ID, comment: str | None = None
    ) -> CommsPlan:
        ref = await _writer(info, municipality)
        plan = await plan_service.submit(
            session=info.context.session,
            plan=await _plan(info, ref, id, lock=True),
            actor=_actor(_signed_in(info)),
            comment=comment,
        )
        return await _plan_out(info, plan)

    @strawberry.mutation(description="Record the board's approval of a submitted plan.")
    async def approve_comms_plan(
        self,
        info: ContextInfo,
        municipality: str,
        id: strawberry.ID,
        decision_date: date,
        minutes_reference: str | None = None,
        comment: str | None = None,
    ) -> CommsPlan:
        ref = await _writer(info, municipality)
        plan = await plan_service.approve(
            session=info.context.session,
            plan=await _plan(info, ref, id, lock=True),
            actor=_actor(_signed_in(info)),
            decision_date=decision_date,
            minutes_reference=minutes_reference,
            comment=comment,
        )
        return await _plan_out(info, plan)

    @strawberry.mutation(description="Record that the board returned a submitted plan.")
    async def return_comms_plan(
        self,
        info: ContextInfo,
        municipality: str,
        id: strawberry.ID,
        decision_date: date,
        comment: str,
        minutes_reference: str | None = None,
    ) -> CommsPlan:
        ref = await _writer(info, municipality)
        plan = await plan_service.return_to_draft(
            session=info.context.session,
            plan=await _plan(info, ref, id, lock=True),
            actor=_actor(_signed_in(info)),
            decision_date=decision_date,
            minutes_reference=minutes_reference,
            comment=comment,
        )
        return await _plan_out(info, plan)

    @strawberry.mutation(description="Start version n+1 (a draft) from an approved plan.")
    async def new_comms_plan_version(
        self, info: ContextInfo, municipality: str, id: strawberry.ID, comment: str | None = None
    ) -> CommsPlan:
        ref = await _writer(info, municipality)
        copy = await plan_service.new_version(
            session=info.context.session,
            plan=await _plan(info, ref, id, lock=True),
            actor=_actor(_signed_in(info)),
            comment=comment,
        )
        return await _plan_out(info, copy)

    @strawberry.mutation(description="Start a quarter's analytics snapshot.")
    async def create_analytics_snapshot(
        self, info: ContextInfo, municipality: str, input: AnalyticsSnapshotInput
    ) -> AnalyticsSnapshot:
        ref = await _writer(info, municipality)
        try:
            data = SnapshotCreate.model_validate(input_dict(input))
        except ValidationError as error:
            raise from_pydantic(error, prefix="input") from error
        snapshot = await analytics_service.create(
            session=info.context.session,
            municipality_id=ref.id,
            actor=_actor(_signed_in(info)),
            data=data,
        )
        return AnalyticsSnapshot.from_doc(
            await analytics_service.document(info.context.session, snapshot)
        )
