"""Communication plans: versions per year, the board's approval, the log of every
step, and the calendar the rows' cadences make (JSON and iCalendar)."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard
from sqlalchemy import and_, delete, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import execute
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.pagination import Page, decode_cursor, encode_cursor
from app.core.recurrence import UNDATED, default_start, occurrences
from app.core.time import HELSINKI, utcnow
from app.models.comms_plan import (
    AudienceKind,
    CommsPlan,
    CommsPlanEvent,
    CommsPlanRow,
    PlanCreate,
    PlanStatus,
    PlanUpdate,
    RowIn,
    Strategy,
)
from app.models.municipality import Municipality
from app.services.service_card import SYSTEM, Actor

KIND = "comms_plan"
ZONE_NAME = "Europe/Helsinki"
Document = dict[str, Any]
__all__ = ["KIND", "SYSTEM", "Actor"]

EDITABLE = (PlanStatus.draft, PlanStatus.returned)
OPEN = (PlanStatus.draft, PlanStatus.submitted, PlanStatus.returned)
# A calendar window longer than this is refused: it would only be a slow way to
# ask for a plan's rules, which the plan itself shows.
MAX_CALENDAR_DAYS = 731
MAX_TASKS = 5000
STRATEGY_FIELDS = tuple(Strategy.model_fields)


# ---- documents --------------------------------------------------------------------------


def _tr(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    result: dict[str, str] = value.as_dict()
    return result


def _group_names(plan: CommsPlan) -> dict[str, dict[str, str] | None]:
    return {group.key: _tr(group.name) for circle in plan.circles for group in circle.groups}


def _row_doc(row: CommsPlanRow, groups: dict[str, dict[str, str] | None]) -> Document:
    return {
        "id": row.id,
        "scope": row.scope,
        "audience": {
            "kind": row.audience_kind,
            "key": row.audience_key,
            "name": groups.get(row.audience_key)
            if row.audience_kind == AudienceKind.stakeholder
            else None,
        },
        "title": _tr(row.title),
        "what": _tr(row.what),
        "channels": [_tr(channel) for channel in row.channels],
        "cadence": row.cadence,
        "cadence_start": row.cadence_start_local.isoformat(timespec="minutes")
        if row.cadence_start_local
        else None,
        "cadence_text": _tr(row.cadence_text),
        "responsible": _tr(row.responsible),
    }


def plan_doc(plan: CommsPlan, municipality: str, rows: Sequence[CommsPlanRow]) -> Document:
    """The plan as every reader (REST, the report, the log's diffs) sees it."""
    groups = _group_names(plan)
    decided = plan.decision_date is not None or plan.decided_at is not None
    return {
        "id": plan.id,
        "municipality": municipality,
        "year": plan.year,
        "version": plan.plan_version,
        "revision": plan.version,
        "status": plan.status,
        "title": _tr(plan.title),
        "strategy": {name: _tr(getattr(plan.strategy, name)) for name in STRATEGY_FIELDS},
        "hashtags": list(plan.hashtags),
        "circles": [
            {
                "key": circle.key,
                "name": _tr(circle.name),
                "groups": [{"key": g.key, "name": _tr(g.name)} for g in circle.groups],
            }
            for circle in plan.circles
        ],
        "metrics": [
            {
                "key": metric.key,
                "name": _tr(metric.name),
                "unit": metric.unit,
                "period": metric.period,
                "baseline": metric.baseline,
                "target": metric.target,
                "note": _tr(metric.note),
            }
            for metric in plan.metrics
        ],
        "rows": [_row_doc(row, groups) for row in rows],
        "based_on": plan.based_on_id,
        "submitted_at": plan.submitted_at,
        "decision": {
            "decision_date": plan.decision_date,
            "minutes_reference": plan.minutes_reference,
            "comment": plan.decision_comment,
            "decided_at": plan.decided_at,
        }
        if decided
        else None,
        "created_at": plan.created_at,
        "last_updated": plan.updated_at,
        "updated_by": plan.updated_by_name,
    }


async def rows_of(
    session: AsyncSession, plan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[CommsPlanRow]]:
    """Every plan's rows in order, in one query however many plans."""
    found: dict[uuid.UUID, list[CommsPlanRow]] = defaultdict(list)
    if not plan_ids:
        return found
    rows = await session.exec(
        select(CommsPlanRow)
        .where(col(CommsPlanRow.plan_id).in_(plan_ids))
        .order_by(col(CommsPlanRow.plan_id), col(CommsPlanRow.position))
    )
    for row in rows:
        found[row.plan_id].append(row)
    return found


async def documents(
    session: AsyncSession, plans: Sequence[CommsPlan], municipality: str
) -> list[Document]:
    """Plans with their rows: one query for the rows of them all."""
    rows = await rows_of(session, [plan.id for plan in plans])
    return [plan_doc(plan, municipality, rows.get(plan.id, [])) for plan in plans]


async def document(session: AsyncSession, plan: CommsPlan) -> Document:
    municipality = await session.get(Municipality, plan.municipality_id)
    assert municipality is not None
    (found,) = await documents(session, [plan], municipality.slug)
    return found


# ---- reading -----------------------------------------------------------------------------


async def list_page(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    limit: int,
    cursor: str | None = None,
    year: int | None = None,
    status: PlanStatus | None = None,
    modified_since: datetime | None = None,
) -> Page[CommsPlan]:
    """Newest year first, newest version first within a year."""
    conditions = [col(CommsPlan.municipality_id) == municipality_id]
    if year is not None:
        conditions.append(col(CommsPlan.year) == year)
    if status is not None:
        conditions.append(col(CommsPlan.status) == status)
    if modified_since is not None:
        conditions.append(col(CommsPlan.updated_at) >= modified_since)
    total = (
        await execute(session, sa_select(func.count()).select_from(CommsPlan).where(*conditions))
    ).scalar_one()
    statement = select(CommsPlan).where(*conditions)
    after = decode_cursor("comms-plans", cursor, int, int)
    if after is not None:
        last_year, last_version = after
        statement = statement.where(
            or_(
                col(CommsPlan.year) < last_year,
                and_(
                    col(CommsPlan.year) == last_year,
                    col(CommsPlan.plan_version) < last_version,
                ),
            )
        )
    plans = list(
        await session.exec(
            statement.order_by(
                col(CommsPlan.year).desc(), col(CommsPlan.plan_version).desc()
            ).limit(limit + 1)
        )
    )
    next_cursor = None
    if len(plans) > limit:
        plans = plans[:limit]
        next_cursor = encode_cursor("comms-plans", [plans[-1].year, plans[-1].plan_version])
    return Page(items=plans, next_cursor=next_cursor, total=int(total))


async def get_plan(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    plan_id: uuid.UUID,
    for_update: bool = False,
) -> CommsPlan:
    """The plan of this municipality (404 for another municipality's plan)."""
    statement = select(CommsPlan).where(
        col(CommsPlan.id) == plan_id, col(CommsPlan.municipality_id) == municipality_id
    )
    if for_update:
        statement = statement.with_for_update()
    plan = (await session.exec(statement)).first()
    if plan is None:
        raise NotFound("No such communication plan.")
    return plan


async def plan_for_year(
    *, session: AsyncSession, municipality_id: uuid.UUID, year: int
) -> CommsPlan | None:
    """The plan in force for a year: the newest approved version, else the newest one."""
    plans = list(
        await session.exec(
            select(CommsPlan)
            .where(col(CommsPlan.municipality_id) == municipality_id, col(CommsPlan.year) == year)
            .order_by(col(CommsPlan.plan_version).desc())
        )
    )
    approved = [plan for plan in plans if plan.status == PlanStatus.approved]
    return (approved or plans or [None])[0]  # type: ignore[list-item]


async def history(*, session: AsyncSession, plan: CommsPlan) -> list[CommsPlanEvent]:
    """The plan's log, newest step first."""
    rows = await session.exec(
        select(CommsPlanEvent)
        .where(col(CommsPlanEvent.plan_id) == plan.id)
        .order_by(col(CommsPlanEvent.created_at).desc(), col(CommsPlanEvent.id))
    )
    return list(rows)


# ---- writing -----------------------------------------------------------------------------


def _check_references(
    circles: Sequence[Any], rows: Sequence[RowIn], prefix: str = "body"
) -> list[FieldProblem]:
    """Group keys are unique, and each stakeholder audience names one of them."""
    problems: list[FieldProblem] = []
    keys: set[str] = set()
    for i, circle in enumerate(circles):
        for j, group in enumerate(circle.groups):
            if group.key in keys:
                problems.append(
                    FieldProblem(
                        f"{prefix}.circles[{i}].groups[{j}].key",
                        f"the group '{group.key}' is in the circles twice",
                        "duplicate",
                    )
                )
            keys.add(group.key)
    for i, row in enumerate(rows):
        if row.audience.kind == AudienceKind.stakeholder and row.audience.key not in keys:
            problems.append(
                FieldProblem(
                    f"{prefix}.rows[{i}].audience.key",
                    f"no group '{row.audience.key}' in the plan's circles of communication",
                    "unknown",
                )
            )
    return problems


async def _write_rows(
    session: AsyncSession, plan: CommsPlan, rows: Sequence[RowIn], *, keep_ids: bool
) -> None:
    """Replace the plan's rows, keeping the ids of rows sent back (calendar UIDs follow
    row ids, so a subscribed calendar keeps its events across edits)."""
    existing = {
        row_id
        for (row_id,) in await execute(
            session, sa_select(col(CommsPlanRow.id)).where(col(CommsPlanRow.plan_id) == plan.id)
        )
    }
    problems: list[FieldProblem] = []
    seen: set[uuid.UUID] = set()
    for i, row in enumerate(rows):
        if row.id is None or not keep_ids:
            continue
        if row.id not in existing or row.id in seen:
            problems.append(FieldProblem(f"body.rows[{i}].id", "not a row of this plan"))
        seen.add(row.id)
    if problems:
        raise ValidationFailed("Some row ids do not belong to this plan.", errors=problems)
    await execute(session, delete(CommsPlanRow).where(col(CommsPlanRow.plan_id) == plan.id))
    await session.flush()
    for position, row in enumerate(rows):
        session.add(
            CommsPlanRow(
                id=row.id if keep_ids and row.id else uuid.uuid4(),
                plan_id=plan.id,
                position=position,
                scope=row.scope,
                audience_kind=row.audience.kind,
                audience_key=row.audience.key,
                title=row.title,
                what=row.what,
                channels=list(row.channels),
                cadence=row.cadence,
                cadence_start_local=None
                if row.cadence in UNDATED
                else (row.cadence_start or default_start(plan.year)),
                cadence_text=row.cadence_text,
                responsible=row.responsible,
            )
        )
    await session.flush()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


_TRACKED = ("title", "strategy", "hashtags", "circles", "metrics", "status")
_ROW_FIELDS = (
    "scope",
    "audience",
    "title",
    "what",
    "channels",
    "cadence",
    "cadence_start",
    "cadence_text",
    "responsible",
)


def diff(before: Document, after: Document) -> list[dict[str, Any]]:
    """Per-field changes between two plan documents; rows are compared by id."""
    changes: list[dict[str, Any]] = []
    for name in _TRACKED:
        if name == "strategy":
            for key in STRATEGY_FIELDS:
                if before["strategy"][key] != after["strategy"][key]:
                    changes.append(
                        {
                            "field": f"strategy.{key}",
                            "before": before["strategy"][key],
                            "after": after["strategy"][key],
                        }
                    )
        elif before[name] != after[name]:
            changes.append({"field": name, "before": before[name], "after": after[name]})
    old_rows = {row["id"]: row for row in before["rows"]}
    new_rows = {row["id"]: row for row in after["rows"]}
    for row_id, row in new_rows.items():
        old = old_rows.get(row_id)
        if old is None:
            changes.append({"field": f"rows.{row_id}", "before": None, "after": row["title"]})
            continue
        for name in _ROW_FIELDS:
            if old[name] != row[name]:
                changes.append(
                    {"field": f"rows.{row_id}.{name}", "before": old[name], "after": row[name]}
                )
    for row_id, row in old_rows.items():
        if row_id not in new_rows:
            changes.append({"field": f"rows.{row_id}", "before": row["title"], "after": None})
    if [r["id"] for r in before["rows"] if r["id"] in new_rows] != [
        r["id"] for r in after["rows"] if r["id"] in old_rows
    ]:
        changes.append({"field": "rows.order", "before": None, "after": None})
    return changes


async def _log(
    session: AsyncSession,
    plan: CommsPlan,
    actor: Actor,
    action: str,
    *,
    comment: str | None = None,
    decision_date: date | None = None,
    minutes_reference: str | None = None,
    changes: list[dict[str, Any]] | None = None,
    bump: bool = True,
) -> None:
    """Record one step in the plan's log and stamp the plan with who did it."""
    now = utcnow()
    if bump:
        plan.version += 1
    plan.updated_at = now
    plan.updated_by_name = actor.name
    session.add(plan)
    session.add(
        CommsPlanEvent(
            plan_id=plan.id,
            created_at=now,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            status_after=plan.status,
            comment=comment,
            decision_date=decision_date,
            minutes_reference=minutes_reference,
            changes=_jsonable(changes or []),
        )
    )
    await session.flush()


async def _next_version(session: AsyncSession, municipality_id: uuid.UUID, year: int) -> int:
    highest = (
        await execute(
            session,
            sa_select(func.max(CommsPlan.plan_version)).where(
                col(CommsPlan.municipality_id) == municipality_id, col(CommsPlan.year) == year
            ),
        )
    ).scalar_one_or_none()
    return 1 if highest is None else int(highest) + 1


async def create(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    actor: Actor,
    data: PlanCreate,
    plan_id: uuid.UUID | None = None,
) -> CommsPlan:
    """Version 1 of a year's plan, as a draft. A year that has a plan gets new versions
    through `new_version`, so the history of what the board approved stays whole."""
    problems = _check_references(data.circles, data.rows)
    if problems:
        raise ValidationFailed("Some audiences are not in the circles.", errors=problems)
    if await _next_version(session, municipality_id, data.year) != 1:
        raise Conflict(
            f"There is a plan for {data.year} already: start a new version from it.",
            code="duplicate",
        )
    plan = CommsPlan(
        id=plan_id or uuid.uuid4(),
        municipality_id=municipality_id,
        year=data.year,
        plan_version=1,
        status=PlanStatus.draft,
        title=data.title,
        strategy=data.strategy,
        hashtags=list(data.hashtags),
        circles=list(data.circles),
        metrics=list(data.metrics),
        updated_by_name=actor.name,
    )
    session.add(plan)
    await session.flush()
    await _write_rows(session, plan, data.rows, keep_ids=False)
    await _log(session, plan, actor, "created", bump=False)
    return plan


def _require_editable(plan: CommsPlan) -> None:
    if plan.status == PlanStatus.approved:
        raise Conflict(
            "An approved plan is read-only: start a new version from it "
            "(POST …/new-version) and change that.",
            code="plan-approved",
        )
    if plan.status == PlanStatus.submitted:
        raise Conflict(
            "The plan is with the municipal board; it can be changed once the board "
            "returns it, or in a new version after approval.",
            code="plan-submitted",
        )


async def update(
    *, session: AsyncSession, plan: CommsPlan, actor: Actor, data: PlanUpdate
) -> CommsPlan:
    """Change a draft or returned plan; the log keeps each field's before and after."""
    _require_editable(plan)
    before = _jsonable(await document(session, plan))
    circles = data.circles if data.circles is not None else plan.circles
    if data.circles is not None or data.rows is not None:
        rows = data.rows if data.rows is not None else await rows_as_input(session, plan)
        problems = _check_references(circles, rows)
        if problems:
            raise ValidationFailed("Some audiences are not in the circles.", errors=problems)
    for name in ("title", "strategy", "hashtags", "circles", "metrics"):
        if getattr(data, name) is not None:
            setattr(plan, name, getattr(data, name))
    if data.rows is not None:
        await _write_rows(session, plan, data.rows, keep_ids=True)
    session.add(plan)
    await session.flush()
    after = _jsonable(await document(session, plan))
    changes = diff(before, after)
    if changes:
        await _log(session, plan, actor, "updated", changes=changes)
    return plan


async def rows_as_input(session: AsyncSession, plan: CommsPlan) -> list[RowIn]:
    """A plan's rows as they would be sent: for a new version or another municipality."""
    rows = (await rows_of(session, [plan.id])).get(plan.id, [])
    return [
        RowIn.model_validate(
            {
                "id": row.id,
                "scope": row.scope,
                "audience": {"kind": row.audience_kind, "key": row.audience_key},
                "title": row.title,
                "what": row.what,
                "channels": row.channels,
                "cadence": row.cadence,
                "cadence_start": row.cadence_start_local,
                "cadence_text": row.cadence_text,
                "responsible": row.responsible,
            }
        )
        for row in rows
    ]


def _transition(plan: CommsPlan, action: str, allowed: Sequence[PlanStatus]) -> None:
    if plan.status not in allowed:
        raise Conflict(
            f"A {plan.status} plan cannot be {action}; "
            f"only a plan that is {' or '.join(allowed)} can.",
            code="invalid-transition",
            extra={"plan_status": plan.status},
        )


async def submit(
    *, session: AsyncSession, plan: CommsPlan, actor: Actor, comment: str | None = None
) -> CommsPlan:
    """Send a draft (or a returned plan, changed) to the municipal board."""
    _transition(plan, "submitted", (PlanStatus.draft, PlanStatus.returned))
    plan.status = PlanStatus.submitted
    plan.submitted_at = utcnow()
    await _log(session, plan, actor, "submitted", comment=comment)
    return plan


async def _supersede_others(session: AsyncSession, plan: CommsPlan, actor: Actor) -> None:
    """Approving a version replaces the year's approved one: two approved versions of
    one year's plan must not coexist."""
    others = await session.exec(
        select(CommsPlan).where(
            col(CommsPlan.municipality_id) == plan.municipality_id,
            col(CommsPlan.year) == plan.year,
            col(CommsPlan.status) == PlanStatus.approved,
            col(CommsPlan.id) != plan.id,
        )
    )
    for other in others:
        other.status = PlanStatus.superseded
        await _log(
            session,
            other,
            actor,
            "superseded",
            comment=f"Replaced by version {plan.plan_version}.",
        )


async def _decide(
    session: AsyncSession,
    plan: CommsPlan,
    actor: Actor,
    status: PlanStatus,
    decision_date: date | None,
    minutes_reference: str | None,
    comment: str | None,
    decided_at: datetime | None = None,
) -> CommsPlan:
    verb = "approved" if status == PlanStatus.approved else "returned"
    _transition(plan, verb, (PlanStatus.submitted,))
    if status == PlanStatus.approved:
        await _supersede_others(session, plan, actor)
    plan.status = status
    plan.decision_date = decision_date
    plan.minutes_reference = minutes_reference
    plan.decision_comment = comment
    plan.decided_at = decided_at or utcnow()
    await _log(
        session,
        plan,
        actor,
        verb,
        comment=comment,
        decision_date=decision_date,
        minutes_reference=minutes_reference,
    )
    return plan


async def approve(
    *,
    session: AsyncSession,
    plan: CommsPlan,
    actor: Actor,
    decision_date: date | None,
    minutes_reference: str | None = None,
    comment: str | None = None,
    decided_at: datetime | None = None,
) -> CommsPlan:
    """Record the board's approval: from now on the plan is read-only, and the year's
    earlier approved version (if any) is superseded. `decided_at` is for recording
    history (the seed); otherwise it is now."""
    return await _decide(
        session,
        plan,
        actor,
        PlanStatus.approved,
        decision_date,
        minutes_reference,
        comment,
        decided_at,
    )


async def return_to_draft(
    *,
    session: AsyncSession,
    plan: CommsPlan,
    actor: Actor,
    decision_date: date | None,
    comment: str,
    minutes_reference: str | None = None,
) -> CommsPlan:
    """Record that the board sent the plan back for changes."""
    return await _decide(
        session, plan, actor, PlanStatus.returned, decision_date, minutes_reference, comment
    )


async def new_version(
    *, session: AsyncSession, plan: CommsPlan, actor: Actor, comment: str | None = None
) -> CommsPlan:
    """Version n+1 of an approved plan, as a draft copy: the approved one stays as the
    board approved it."""
    _transition(plan, "the base of a new version", (PlanStatus.approved,))
    open_versions = list(
        await session.exec(
            select(CommsPlan).where(
                col(CommsPlan.municipality_id) == plan.municipality_id,
                col(CommsPlan.year) == plan.year,
                col(CommsPlan.status).in_(OPEN),
            )
        )
    )
    if open_versions:
        raise Conflict(
            f"Version {open_versions[0].plan_version} of {plan.year} is still open "
            f"({open_versions[0].status}); finish it before starting another.",
            code="plan-version-open",
            extra={"open_version": str(open_versions[0].id)},
        )
    copy = CommsPlan(
        municipality_id=plan.municipality_id,
        year=plan.year,
        plan_version=await _next_version(session, plan.municipality_id, plan.year),
        status=PlanStatus.draft,
        title=plan.title,
        strategy=plan.strategy,
        hashtags=list(plan.hashtags),
        circles=list(plan.circles),
        metrics=list(plan.metrics),
        based_on_id=plan.id,
        updated_by_name=actor.name,
    )
    session.add(copy)
    await session.flush()
    await _write_rows(session, copy, await rows_as_input(session, plan), keep_ids=False)
    await _log(
        session,
        copy,
        actor,
        "new-version",
        comment=comment or f"Based on version {plan.plan_version}.",
        bump=False,
    )
    return copy


async def remove(*, session: AsyncSession, plan: CommsPlan) -> None:
    """Delete a plan the board has never seen (a draft); anything else is history."""
    if plan.status != PlanStatus.draft or plan.submitted_at is not None:
        raise Conflict(
            "Only a draft that was never submitted can be deleted.", code="invalid-transition"
        )
    await session.delete(plan)
    await session.flush()


# ---- calendar ----------------------------------------------------------------------------


def calendar_window(plan: CommsPlan, start: date | None, end: date | None) -> tuple[date, date]:
    """The dates asked for (inclusive), by default the plan's year."""
    first = start or date(plan.year, 1, 1)
    last = end or (date(plan.year, 12, 31) if start is None else first + timedelta(days=364))
    if last < first:
        raise ValidationFailed(
            "`to` is before `from`.",
            errors=[FieldProblem("query.to", "must be on or after `from`", "range")],
        )
    if (last - first).days >= MAX_CALENDAR_DAYS:
        raise ValidationFailed(
            f"Ask for at most {MAX_CALENDAR_DAYS} days at a time.",
            errors=[FieldProblem("query.to", f"at most {MAX_CALENDAR_DAYS} days after `from`")],
        )
    return first, last


def _task_uid(row_id: uuid.UUID, moment: datetime) -> str:
    return f"{row_id}-{moment.strftime('%Y%m%dT%H%M')}@settle"


def calendar(plan_document: Document, start: date, end: date) -> Document:
    """The dated tasks the rows' cadences make within [start, end] (Helsinki dates),
    and the rows that are continuous or ad hoc, listed as ongoing."""
    window_start = datetime.combine(start, time(0), HELSINKI)
    window_end = datetime.combine(end + timedelta(days=1), time(0), HELSINKI)
    tasks: list[tuple[datetime, int, Document]] = []
    ongoing: list[Document] = []
    for position, row in enumerate(plan_document["rows"]):
        common = {
            "row_id": row["id"],
            "scope": row["scope"],
            "audience": row["audience"],
            "title": row["title"],
            "channels": row["channels"],
            "responsible": row["responsible"],
            "cadence": row["cadence"],
        }
        if row["cadence"] in UNDATED:
            ongoing.append(common)
            continue
        starts = datetime.fromisoformat(row["cadence_start"])
        for moment in occurrences(row["cadence"], starts, HELSINKI, window_start, window_end):
            tasks.append(
                (
                    moment,
                    position,
                    {
                        "uid": _task_uid(row["id"], moment),
                        **common,
                        "starts_at": moment,
                        "starts_at_utc": moment.astimezone(UTC),
                        "local_date": moment.date(),
                        "local_time": moment.strftime("%H:%M"),
                    },
                )
            )
            if len(tasks) > MAX_TASKS:
                raise ValidationFailed(
                    "The range holds too many tasks; ask for a shorter one.",
                    errors=[FieldProblem("query.to", f"more than {MAX_TASKS} tasks")],
                )
    tasks.sort(key=lambda item: (item[0].astimezone(UTC), item[1]))
    return {
        "plan": {
            "id": plan_document["id"],
            "municipality": plan_document["municipality"],
            "year": plan_document["year"],
            "version": plan_document["version"],
            "status": plan_document["status"],
            "title": plan_document["title"],
        },
        "timezone": ZONE_NAME,
        "from": start,
        "to": end,
        "tasks": [task for _, _, task in tasks],
        "ongoing": ongoing,
    }


def _helsinki_vtimezone() -> Timezone:
    """Europe/Helsinki by its rule (EU summer time since 1996), valid for any year,
    rather than a list of past transitions."""
    zone = Timezone()
    zone.add("tzid", ZONE_NAME)
    summer = TimezoneDaylight()
    summer.add("tzname", "EEST")
    summer.add("tzoffsetfrom", timedelta(hours=2))
    summer.add("tzoffsetto", timedelta(hours=3))
    summer.add("dtstart", datetime(1996, 3, 31, 3, 0))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    winter = TimezoneStandard()
    winter.add("tzname", "EET")
    winter.add("tzoffsetfrom", timedelta(hours=3))
    winter.add("tzoffsetto", timedelta(hours=2))
    winter.add("dtstart", datetime(1996, 10, 27, 4, 0))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def text(value: Any, lang: str) -> str:
    """A translations object in `lang`, falling back to Finnish."""
    if value is None:
        return ""
    return str(value.get(lang) or value.get("fi") or "")


def calendar_ics(calendar_document: Document, *, lang: str, stamp: datetime) -> bytes:
    """The calendar as iCalendar: one VEVENT per task occurrence, in Helsinki time.

    One event per occurrence rather than one recurring event per row: the feed then
    shows exactly the JSON calendar's tasks, and calendar programs that handle
    RRULE edge cases differently (UNTIL, BYSETPOS) cannot disagree with it.
    """
    feed = Calendar()
    feed.add("prodid", "-//Settle//Communication plan//FI")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    plan = calendar_document["plan"]
    name = f"{text(plan['title'], lang)} ({plan['year']} v{plan['version']})"
    feed.add("x-wr-calname", name)
    feed.add("x-wr-timezone", ZONE_NAME)
    feed.add_component(_helsinki_vtimezone())
    for task in calendar_document["tasks"]:
        event = Event()
        event.add("uid", task["uid"])
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("dtstart", task["starts_at"])
        event.add("duration", timedelta(hours=1))
        event.add("summary", text(task["title"], lang))
        lines = []
        if task["audience"]["name"]:
            lines.append(text(task["audience"]["name"], lang))
        lines += [text(channel, lang) for channel in task["channels"]]
        lines.append(text(task["responsible"], lang))
        event.add("description", "\n".join(line for line in lines if line))
        event.add("categories", [task["scope"]])
        feed.add_component(event)
    ics: bytes = feed.to_ical()
    return ics


async def quarter_targets(
    *, session: AsyncSession, municipality_id: uuid.UUID, year: int
) -> dict[str, float]:
    """The quarterly targets of the year's plan in force, by metric key."""
    plan = await plan_for_year(session=session, municipality_id=municipality_id, year=year)
    if plan is None:
        return {}
    return {
        metric.key: metric.target
        for metric in plan.metrics
        if metric.target is not None and metric.period == "quarter"
    }
