"""Quarterly analytics snapshots: entering and importing figures, the figures the
API computes itself, and comparing quarters (the "change since last time" the
comms group reports to the board, seed p. 66–79)."""

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import distinct, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import get_settings
from app.core.db import execute
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.pagination import Page, as_text, decode_cursor, encode_cursor
from app.core.time import HELSINKI, utcnow
from app.models.analytics import (
    QUARTER_RE,
    AnalyticsSnapshot,
    ImportRecord,
    SnapshotCreate,
    SnapshotUpdate,
    WebsiteFigures,
    jsonable,
)
from app.models.booking import Booking, InfoPackageRequest, Message
from app.models.guide import Guide
from app.models.municipality import Municipality
from app.models.service_card import CardStatus, ServiceCard, ServiceCardRevision
from app.services.service_card import Actor

KIND = "analytics_snapshot"
Document = dict[str, Any]
Labels = dict[str, str]
MAX_TREND_QUARTERS = 40


# ---- quarters ----------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter; it begins and ends at midnight in Helsinki."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str, field: str = "quarter") -> "Quarter":
        match = QUARTER_RE.fullmatch(text.strip().upper())
        if match is None or not 2000 <= int(match.group(1)) <= 2100:
            raise ValidationFailed(
                "A quarter looks like 2026-Q3.",
                errors=[FieldProblem(field, "a quarter looks like 2026-Q3", "quarter")],
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> "Quarter":
        local = moment.astimezone(HELSINKI)
        return cls(local.year, (local.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    def shift(self, quarters: int) -> "Quarter":
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(index // 4, index % 4 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return self.shift(1).first_day - timedelta(days=1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), HELSINKI)

    @property
    def end(self) -> datetime:
        """The first instant after the quarter."""
        return self.shift(1).start


def quarter_range(first: Quarter, last: Quarter) -> list[Quarter]:
    quarters = []
    current = first
    while current <= last:
        quarters.append(current)
        current = current.shift(1)
    return quarters


# ---- computed metrics --------------------------------------------------------------------

ComputedMetric = Callable[[AsyncSession, uuid.UUID, datetime, datetime], Awaitable[int]]

# Figures the project knows itself, by name: an async function of (session,
# municipality id, quarter start, quarter end) returning a count. Another domain adds
# one line, e.g. `COMPUTED_METRICS["bookings"] = count_bookings`, and the figure shows
# up in every snapshot, comparison, trend and report as `computed.bookings`.
COMPUTED_METRICS: dict[str, ComputedMetric] = {}
COMPUTED_LABELS: dict[str, Labels] = {}


def computed_metric(
    name: str, label: Labels | None = None
) -> Callable[[ComputedMetric], ComputedMetric]:
    """Register a computed metric (a decorator; assigning into the dict works too)."""

    def register(function: ComputedMetric) -> ComputedMetric:
        COMPUTED_METRICS[name] = function
        if label is not None:
            COMPUTED_LABELS[name] = label
        return function

    return register


async def _created_in(
    session: AsyncSession,
    column: Any,
    municipality_column: Any,
    municipality_id: uuid.UUID,
    start: datetime,
    end: datetime,
) -> int:
    statement = sa_select(func.count()).where(
        municipality_column == municipality_id, column >= start, column < end
    )
    return int((await execute(session, statement)).scalar_one())


@computed_metric("bookings", {"fi": "Varatut tapaamiset", "en": "Meetings booked"})
async def bookings(
    session: AsyncSession, municipality_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    """Bookings made in the quarter (erased ones still count: only the person is gone)."""
    return await _created_in(
        session, col(Booking.created_at), col(Booking.municipality_id), municipality_id, start, end
    )


@computed_metric("messages", {"fi": "Viestillä kysytyt", "en": "Questions by message"})
async def messages(
    session: AsyncSession, municipality_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    return await _created_in(
        session, col(Message.created_at), col(Message.municipality_id), municipality_id, start, end
    )


@computed_metric(
    "info_package_requests", {"fi": "Tilatut tietopaketit", "en": "Info packages ordered"}
)
async def info_package_requests(
    session: AsyncSession, municipality_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    return await _created_in(
        session,
        col(InfoPackageRequest.created_at),
        col(InfoPackageRequest.municipality_id),
        municipality_id,
        start,
        end,
    )


@computed_metric("new_guides", {"fi": "Uudet oppaat", "en": "New guides"})
async def new_guides(
    session: AsyncSession, municipality_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    """Guides added to the pool in the quarter."""
    return await _created_in(
        session, col(Guide.created_at), col(Guide.municipality_id), municipality_id, start, end
    )


@computed_metric(
    "stale_service_cards",
    {"fi": "Tarkistamattomat palvelukortit", "en": "Service cards not checked in time"},
)
async def stale_service_cards(
    session: AsyncSession, municipality_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    """Cards that were stale at the quarter's end, as their history shows them then
    (a card verified since does not rewrite the past)."""
    latest = (
        sa_select(
            col(ServiceCardRevision.card_id).label("card_id"),
            func.max(ServiceCardRevision.number).label("number"),
        )
        .join(ServiceCard, col(ServiceCard.id) == col(ServiceCardRevision.card_id))
        .where(
            col(ServiceCard.municipality_id) == municipality_id,
            col(ServiceCardRevision.created_at) < end,
        )
        .group_by(col(ServiceCardRevision.card_id))
        .subquery()
    )
    rows = await execute(
        session,
        sa_select(col(ServiceCardRevision.snapshot)).join(
            latest,
            (col(ServiceCardRevision.card_id) == latest.c.card_id)
            & (col(ServiceCardRevision.number) == latest.c.number),
        ),
    )
    cutoff = min(end, utcnow()) - timedelta(days=get_settings().stale_after_days)
    stale = 0
    for (snapshot,) in rows:
        if snapshot.get("status") not in (CardStatus.published, CardStatus.draft):
            continue
        verified = snapshot.get("verified_at")
        if verified is None or datetime.fromisoformat(verified) < cutoff:
            stale += 1
    return stale


@computed_metric(
    "service_cards_changed",
    {"fi": "Päivitetyt palvelukortit", "en": "Service cards updated"},
)
async def service_cards_changed(
    session: AsyncSession, municipality_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    """Cards with at least one change (a revision) in the quarter."""
    count = (
        await execute(
            session,
            sa_select(func.count(distinct(col(ServiceCardRevision.card_id))))
            .join(ServiceCard, col(ServiceCard.id) == col(ServiceCardRevision.card_id))
            .where(
                col(ServiceCard.municipality_id) == municipality_id,
                col(ServiceCardRevision.created_at) >= start,
                col(ServiceCardRevision.created_at) < end,
            ),
        )
    ).scalar_one()
    return int(count)


async def computed_figures(
    session: AsyncSession, municipality_id: uuid.UUID, quarter: Quarter
) -> dict[str, int] | None:
    """Every registered computed metric for a quarter; None for a quarter not begun."""
    if quarter.start > utcnow():
        return None
    return {
        name: await function(session, municipality_id, quarter.start, quarter.end)
        for name, function in sorted(COMPUTED_METRICS.items())
    }


# ---- metrics: a snapshot as flat figures --------------------------------------------------

MEASURES = ("posts", "clicks", "likes", "reposts")
_LABELS: dict[str, Labels] = {
    "website.sessions": {"fi": "Verkkosivujen istunnot", "en": "Website sessions"},
    "website.page_views": {"fi": "Sivunäytöt", "en": "Page views"},
    "website.users": {"fi": "Verkkosivujen käyttäjät", "en": "Website users"},
    "social.posts": {"fi": "Somepostaukset", "en": "Social media posts"},
    "social.clicks": {"fi": "Klikkaukset", "en": "Clicks"},
    "social.likes": {"fi": "Tykkäykset", "en": "Likes"},
    "social.reposts": {"fi": "Uudelleenjaot", "en": "Reposts"},
    "movers": {"fi": "Tulomuuttajat", "en": "Movers"},
    "feedback.responses": {
        "fi": "Palautteet ja kyselyvastaukset",
        "en": "Feedback and survey responses",
    },
    "interviews": {"fi": "Tulomuuttajahaastattelut", "en": "Mover interviews"},
}
_MEASURE_LABELS = {key.split(".")[1]: _LABELS[key] for key in _LABELS if key.startswith("social.")}
# The figures a report charts over eight quarters, when they have any values.
KEY_METRICS = (
    "website.sessions",
    "website.page_views",
    "website.users",
    "movers",
    "social.posts",
    "social.likes",
)


@dataclass(frozen=True)
class Metric:
    key: str
    group: str
    label: Labels
    value: float


def _add(found: dict[str, Metric], key: str, group: str, label: Labels, value: float) -> None:
    if key in found:
        value += found[key].value
    found[key] = Metric(key, group, label, value)


def metrics_of(
    snapshot: AnalyticsSnapshot | None, computed: dict[str, int] | None
) -> dict[str, Metric]:
    """A snapshot's figures under stable keys (see the README): what comparisons and
    trends work on. A figure that was not entered is absent, not zero."""
    found: dict[str, Metric] = {}
    if snapshot is not None:
        website = snapshot.website
        if website is not None:
            for name in ("sessions", "page_views", "users"):
                value = getattr(website, name)
                if value is not None:
                    _add(found, f"website.{name}", "website", _LABELS[f"website.{name}"], value)
            for page in website.top_pages:
                label = {"fi": f"Sivun {page.path} näytöt", "en": f"Views of {page.path}"}
                _add(found, f"website.page:{page.path}", "top-pages", label, page.views)
            for term in website.top_search_terms:
                label = {"fi": f"Haku ”{term.term}”", "en": f"Searches for “{term.term}”"}
                _add(found, f"website.search:{term.term}", "search-terms", label, term.count)
        for figure in snapshot.social:
            for measure in MEASURES:
                value = getattr(figure, measure)
                if value is None:
                    continue  # not measured: absent, not zero
                _add(found, f"social.{measure}", "social", _MEASURE_LABELS[measure], value)
                tag_label = {
                    lang: f"{figure.hashtag}: {text.lower()}"
                    for lang, text in _MEASURE_LABELS[measure].items()
                }
                _add(
                    found,
                    f"social.hashtag.{figure.hashtag}.{measure}",
                    "social-hashtags",
                    tag_label,
                    value,
                )
                platform_label = {
                    lang: f"{figure.platform.capitalize()}: {text.lower()}"
                    for lang, text in _MEASURE_LABELS[measure].items()
                }
                _add(
                    found,
                    f"social.platform.{figure.platform}.{measure}",
                    "social-platforms",
                    platform_label,
                    value,
                )
        if snapshot.movers is not None:
            _add(found, "movers", "movers", _LABELS["movers"], snapshot.movers)
        responses = [f.responses for f in snapshot.feedback if f.responses is not None]
        if responses:
            _add(
                found,
                "feedback.responses",
                "feedback",
                _LABELS["feedback.responses"],
                sum(responses),
            )
        if snapshot.interviews:
            _add(found, "interviews", "feedback", _LABELS["interviews"], len(snapshot.interviews))
        for custom in snapshot.custom_metrics:
            _add(found, f"custom.{custom.key}", "custom", custom.name.as_dict(), custom.value)
    for name, value in (computed or {}).items():
        label = COMPUTED_LABELS.get(name, {"fi": name, "en": name})
        _add(found, f"computed.{name}", "computed", label, value)
    return found


def label_of(key: str) -> Labels:
    """A metric's label from its key alone (for trends of quarters without it)."""
    if key in _LABELS:
        return _LABELS[key]
    if key.startswith("computed."):
        name = key.removeprefix("computed.")
        return COMPUTED_LABELS.get(name, {"fi": name, "en": name})
    return {"fi": key, "en": key}


# ---- documents ---------------------------------------------------------------------------


def snapshot_doc(
    snapshot: AnalyticsSnapshot,
    municipality: str,
    computed: dict[str, int] | None = None,
    *,
    full: bool = True,
) -> Document:
    quarter = Quarter.parse(snapshot.quarter)
    document: Document = {
        "id": snapshot.id,
        "municipality": municipality,
        "quarter": snapshot.quarter,
        "period": {"from": quarter.first_day.isoformat(), "to": quarter.last_day.isoformat()},
        "website": jsonable(snapshot.website),
        # Every measure named, null when it was not measured: absent is not zero.
        "social": [figure.model_dump(mode="json") for figure in snapshot.social],
        "movers": snapshot.movers,
        "feedback": jsonable(snapshot.feedback),
        "interviews": jsonable(snapshot.interviews),
        "custom_metrics": jsonable(snapshot.custom_metrics),
        "observations": jsonable(snapshot.observations),
        "image_observations": jsonable(snapshot.image_observations),
        "successes": jsonable(snapshot.successes),
        "to_develop": jsonable(snapshot.to_develop),
        "imports": jsonable(snapshot.imports),
        "revision": snapshot.version,
        "created_at": snapshot.created_at,
        "last_updated": snapshot.updated_at,
        "updated_by": snapshot.updated_by_name,
    }
    if full:
        document["computed"] = computed or {}
        document["metrics"] = [
            {"key": m.key, "group": m.group, "label": m.label, "value": m.value}
            for m in metrics_of(snapshot, computed).values()
        ]
    return document


async def document(session: AsyncSession, snapshot: AnalyticsSnapshot) -> Document:
    """One snapshot with its computed figures and flat metrics."""
    municipality = await session.get(Municipality, snapshot.municipality_id)
    assert municipality is not None
    computed = await computed_figures(
        session, snapshot.municipality_id, Quarter.parse(snapshot.quarter)
    )
    return snapshot_doc(snapshot, municipality.slug, computed)


# ---- reading -----------------------------------------------------------------------------


async def list_page(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    limit: int,
    cursor: str | None = None,
    year: int | None = None,
    modified_since: datetime | None = None,
) -> Page[AnalyticsSnapshot]:
    """Newest quarter first."""
    conditions = [col(AnalyticsSnapshot.municipality_id) == municipality_id]
    if year is not None:
        conditions.append(col(AnalyticsSnapshot.quarter).startswith(f"{year}-"))
    if modified_since is not None:
        conditions.append(col(AnalyticsSnapshot.updated_at) >= modified_since)
    total = (
        await execute(
            session, sa_select(func.count()).select_from(AnalyticsSnapshot).where(*conditions)
        )
    ).scalar_one()
    statement = select(AnalyticsSnapshot).where(*conditions)
    after = decode_cursor("analytics-snapshots", cursor, as_text)
    if after is not None:
        statement = statement.where(col(AnalyticsSnapshot.quarter) < after[0])
    rows = list(
        await session.exec(
            statement.order_by(col(AnalyticsSnapshot.quarter).desc()).limit(limit + 1)
        )
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor("analytics-snapshots", [rows[-1].quarter])
    return Page(items=rows, next_cursor=next_cursor, total=int(total))


async def get_snapshot(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    snapshot_id: uuid.UUID,
    for_update: bool = False,
) -> AnalyticsSnapshot:
    """The snapshot of this municipality (404 for another municipality's)."""
    statement = select(AnalyticsSnapshot).where(
        col(AnalyticsSnapshot.id) == snapshot_id,
        col(AnalyticsSnapshot.municipality_id) == municipality_id,
    )
    if for_update:
        statement = statement.with_for_update()
    snapshot = (await session.exec(statement)).first()
    if snapshot is None:
        raise NotFound("No such analytics snapshot.")
    return snapshot


async def snapshots_between(
    session: AsyncSession, municipality_id: uuid.UUID, first: Quarter, last: Quarter
) -> dict[str, AnalyticsSnapshot]:
    """The snapshots of a range of quarters, by quarter, in one query."""
    rows = await session.exec(
        select(AnalyticsSnapshot).where(
            col(AnalyticsSnapshot.municipality_id) == municipality_id,
            col(AnalyticsSnapshot.quarter) >= str(first),
            col(AnalyticsSnapshot.quarter) <= str(last),
        )
    )
    return {row.quarter: row for row in rows}


# ---- writing -----------------------------------------------------------------------------


async def create(
    *, session: AsyncSession, municipality_id: uuid.UUID, actor: Actor, data: SnapshotCreate
) -> AnalyticsSnapshot:
    """One snapshot per municipality and quarter."""
    exists = (
        await session.exec(
            select(AnalyticsSnapshot.id).where(
                col(AnalyticsSnapshot.municipality_id) == municipality_id,
                col(AnalyticsSnapshot.quarter) == data.quarter,
            )
        )
    ).first()
    if exists is not None:
        raise Conflict(
            f"There is a snapshot of {data.quarter} already; change that one.",
            code="duplicate",
            extra={"existing": str(exists)},
        )
    snapshot = AnalyticsSnapshot(
        municipality_id=municipality_id,
        quarter=data.quarter,
        updated_by_name=actor.name,
        **{name: getattr(data, name) for name in type(data).model_fields if name != "quarter"},
    )
    session.add(snapshot)
    await session.flush()
    return snapshot


def _touch(snapshot: AnalyticsSnapshot, actor: Actor) -> None:
    snapshot.version += 1
    snapshot.updated_at = utcnow()
    snapshot.updated_by_name = actor.name


async def update(
    *, session: AsyncSession, snapshot: AnalyticsSnapshot, actor: Actor, data: SnapshotUpdate
) -> AnalyticsSnapshot:
    """Apply the fields sent."""
    for name in data.model_fields_set:
        setattr(snapshot, name, getattr(data, name))
    if data.model_fields_set:
        _touch(snapshot, actor)
    session.add(snapshot)
    await session.flush()
    return snapshot


async def remove(*, session: AsyncSession, snapshot: AnalyticsSnapshot) -> None:
    """Delete a snapshot entered by mistake (its quarter can then be entered anew)."""
    await session.delete(snapshot)
    await session.flush()


async def apply_import(
    *,
    session: AsyncSession,
    snapshot: AnalyticsSnapshot,
    actor: Actor,
    kind: str,
    sections: dict[str, Any],
    rows: int,
) -> AnalyticsSnapshot:
    """Write what a validated import file carried: each section it has replaces the
    snapshot's; sections it lacks stay as they were."""
    website = (snapshot.website or WebsiteFigures()).model_copy()
    touched_website = False
    for name in ("sessions", "page_views", "users"):
        if name in sections:
            setattr(website, name, sections[name])
            touched_website = True
    for name in ("top_pages", "top_search_terms"):
        if name in sections:
            setattr(website, name, sections[name])
            touched_website = True
    if touched_website:
        snapshot.website = WebsiteFigures.model_validate(website.model_dump())
    if "social" in sections:
        snapshot.social = sections["social"]
    snapshot.imports = [
        *snapshot.imports,
        ImportRecord(kind=kind, at=utcnow(), by=actor.name, rows=rows, sections=sorted(sections)),
    ]
    _touch(snapshot, actor)
    session.add(snapshot)
    await session.flush()
    return snapshot


# ---- comparison and trends ---------------------------------------------------------------


def _change(value: float | None, previous: float | None) -> tuple[float | None, float | None]:
    if value is None or previous is None:
        return None, None
    change = value - previous
    percent = None if previous == 0 else round(change / previous * 100, 1)
    return _number(change), percent


def _number(value: float) -> float:
    return int(value) if float(value).is_integer() else round(value, 2)


def compare_metrics(
    current: dict[str, Metric],
    previous: dict[str, Metric] | None,
    targets: dict[str, float] | None = None,
) -> list[Document]:
    """Each metric's value against the earlier one. With no earlier snapshot at all,
    nothing is flagged: every figure would otherwise be "new"."""
    results = []
    earlier = previous or {}
    for key, metric in current.items():
        before = earlier.get(key)
        change_abs, change_pct = _change(metric.value, before.value if before else None)
        results.append(
            {
                "key": key,
                "group": metric.group,
                "label": metric.label,
                "value": _number(metric.value),
                "previous": _number(before.value) if before else None,
                "change_abs": change_abs,
                "change_pct": change_pct,
                "flag": "new" if previous is not None and before is None else None,
                "target": (targets or {}).get(key),
            }
        )
    for key, metric in earlier.items():
        if key not in current:
            results.append(
                {
                    "key": key,
                    "group": metric.group,
                    "label": metric.label,
                    "value": None,
                    "previous": _number(metric.value),
                    "change_abs": None,
                    "change_pct": None,
                    "flag": "vanished",
                    "target": (targets or {}).get(key),
                }
            )
    return results


def _without_computed(metrics: dict[str, Metric] | None) -> bool:
    return metrics is None or all(m.group == "computed" for m in metrics.values())


async def comparison(
    *,
    session: AsyncSession,
    snapshot: AnalyticsSnapshot,
    compare: str = "previous",
    targets: dict[str, float] | None = None,
) -> Document:
    """Every metric with `{value, previous, change_abs, change_pct}` against the
    previous quarter or the same quarter a year before."""
    quarter = Quarter.parse(snapshot.quarter)
    against = quarter.shift(-1 if compare == "previous" else -4)
    earlier = (await snapshots_between(session, snapshot.municipality_id, against, against)).get(
        str(against)
    )
    current = metrics_of(
        snapshot, await computed_figures(session, snapshot.municipality_id, quarter)
    )
    previous = metrics_of(
        earlier, await computed_figures(session, snapshot.municipality_id, against)
    )
    if earlier is None:
        # Without an earlier snapshot only the computed figures have a past.
        entered = {k: m for k, m in current.items() if m.group != "computed"}
        rows = compare_metrics(entered, None, targets) + compare_metrics(
            {k: m for k, m in current.items() if m.group == "computed"}, previous, targets
        )
    else:
        rows = compare_metrics(current, previous, targets)
    return {
        "quarter": str(quarter),
        "compare": compare,
        "against": str(against),
        "against_snapshot": earlier.id if earlier else None,
        "metrics": rows,
    }


async def series(
    session: AsyncSession,
    municipality_id: uuid.UUID,
    keys: Iterable[str],
    quarters: Sequence[Quarter],
) -> dict[str, list[float | None]]:
    """Each metric's value per quarter (None where it was not measured)."""
    wanted = list(keys)
    snapshots = await snapshots_between(session, municipality_id, quarters[0], quarters[-1])
    needs_computed = any(key.startswith("computed.") for key in wanted)
    values: dict[str, list[float | None]] = {key: [] for key in wanted}
    for quarter in quarters:
        computed = (
            await computed_figures(session, municipality_id, quarter) if needs_computed else None
        )
        metrics = metrics_of(snapshots.get(str(quarter)), computed)
        for key in wanted:
            metric = metrics.get(key)
            values[key].append(_number(metric.value) if metric else None)
    return values


async def trend(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    metric: str,
    first: Quarter,
    last: Quarter,
) -> Document:
    """One metric's series over quarters."""
    if last < first:
        raise ValidationFailed(
            "`to` is before `from`.",
            errors=[FieldProblem("query.to", "must not be before `from`", "range")],
        )
    quarters = quarter_range(first, last)
    if len(quarters) > MAX_TREND_QUARTERS:
        raise ValidationFailed(
            f"Ask for at most {MAX_TREND_QUARTERS} quarters.",
            errors=[FieldProblem("query.to", f"at most {MAX_TREND_QUARTERS} quarters")],
        )
    values = (await series(session, municipality_id, [metric], quarters))[metric]
    snapshots = await snapshots_between(session, municipality_id, first, last)
    label = label_of(metric)
    for snapshot in snapshots.values():
        found = metrics_of(snapshot, None).get(metric)
        if found is not None:
            label = found.label
    return {
        "metric": metric,
        "label": label,
        "points": [
            {"quarter": str(q), "value": value} for q, value in zip(quarters, values, strict=True)
        ],
    }
