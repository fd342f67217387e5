"""Quarterly analytics snapshots: entering and importing figures, comparing quarters,
trends, and the printable report. Staff only, never cached."""

import hashlib
import uuid
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, status
from starlette.exceptions import HTTPException
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
from app.core.errors import FieldProblem, ValidationFailed
from app.core.time import utcnow
from app.models.analytics import (
    AnalyticsSnapshot,
    ComparisonPublic,
    SnapshotCreate,
    SnapshotPublic,
    SnapshotUpdate,
    TrendPublic,
)
from app.models.user import Role
from app.services import analytics as analytics_service
from app.services import analytics_import, analytics_report
from app.services import comms_plan as plan_service
from app.services.analytics import KIND, Quarter
from app.services.auth import Principal, require_read, require_write
from app.services.service_card import Actor

router = APIRouter(prefix="/municipalities/{slug}/analytics", tags=["analytics"])

COMMS = (Role.comms, Role.municipality_admin)
TEXT_KEYS = frozenset(
    {
        "summary",
        "moods",
        "expectations",
        "first_impressions",
        "name",
        "observations",
        "image_observations",
        "label",
    }
)
LIST_TEXT_KEYS = frozenset({"successes", "to_develop"})
NO_STORE = {"Cache-Control": "no-store"}
GA4_EXAMPLE = {
    "dimensionHeaders": [{"name": "pagePath"}],
    "metricHeaders": [{"name": "screenPageViews", "type": "TYPE_INTEGER"}],
    "rows": [
        {"dimensionValues": [{"value": "/asettautuminen"}], "metricValues": [{"value": "640"}]}
    ],
    "rowCount": 1,
    "kind": "analyticsData#runReport",
}


def actor_of(principal: Principal) -> Actor:
    return Actor(id=principal.user.id, name=principal.user.display_name)


def _localized(data: Any, lang: str | None, path: str = "") -> tuple[Any, dict[str, Any]]:
    localized = localize_texts(data, lang, TEXT_KEYS, LIST_TEXT_KEYS, path=path)
    return localized.data, localized.meta()


def _snapshot_response(
    document: dict[str, Any], lang: str | None, status_code: int = 200
) -> Response:
    data, meta = _localized(document, lang)
    data["meta"] = meta
    headers = dict(NO_STORE)
    if status_code == 201:
        headers["Location"] = (
            f"/api/v1/municipalities/{document['municipality']}/analytics/snapshots/{document['id']}"
        )
    etag = resource_etag(KIND, document["id"], document["revision"], lang)
    return send(json_body(data, etag=etag, language=lang), status_code, headers)


async def _readable(
    session: SessionDep, municipality: MunicipalityDep, principal: Principal, snapshot_id: uuid.UUID
) -> AnalyticsSnapshot:
    require_read(principal, municipality.id, *COMMS)
    return await analytics_service.get_snapshot(
        session=session, municipality_id=municipality.id, snapshot_id=snapshot_id
    )


async def _writable(
    session: SessionDep,
    municipality: MunicipalityDep,
    principal: Principal,
    snapshot_id: uuid.UUID,
    if_match: str | None,
    *,
    if_match_required: bool,
) -> AnalyticsSnapshot:
    require_write(principal, municipality.id, *COMMS)
    snapshot = await analytics_service.get_snapshot(
        session=session, municipality_id=municipality.id, snapshot_id=snapshot_id, for_update=True
    )
    if if_match or if_match_required:
        check_if_match(if_match, kind=KIND, resource_id=snapshot.id, version=snapshot.version)
    return snapshot


@router.get(
    "/snapshots",
    response_model=Collection[SnapshotPublic],
    responses=problems(401, 403, 404, 422),
    summary="List analytics snapshots",
)
async def list_analytics_snapshots(
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    paging: Paging,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    """Newest quarter first. Items leave out `computed` and `metrics`; get one snapshot
    (or its comparison) for those."""
    require_read(principal, municipality.id, *COMMS)
    page = await analytics_service.list_page(
        session=session,
        municipality_id=municipality.id,
        limit=paging.limit,
        cursor=paging.cursor,
        year=year,
        modified_since=paging.modified_since,
    )
    documents = [
        analytics_service.snapshot_doc(row, municipality.slug, full=False) for row in page.items
    ]
    items, meta = _localized(documents, lang, path="items")
    data = {"items": items, "next_cursor": page.next_cursor, "total": page.total, "meta": meta}
    etag = make_etag(
        "analytics-snapshots",
        [(str(d["id"]), d["revision"]) for d in documents],
        page.next_cursor,
        lang,
    )
    return send(json_body(data, etag=etag, language=lang), headers=NO_STORE)


@router.post(
    "/snapshots",
    status_code=status.HTTP_201_CREATED,
    response_model=SnapshotPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Start a quarter's analytics snapshot",
)
async def create_analytics_snapshot(
    data: SnapshotCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """One snapshot per quarter (`2026-Q3`); a second is 409 `duplicate`. Every part is
    optional: figures can be imported or entered later."""
    require_write(principal, municipality.id, *COMMS)
    snapshot = await analytics_service.create(
        session=session, municipality_id=municipality.id, actor=actor_of(principal), data=data
    )
    return _snapshot_response(await analytics_service.document(session, snapshot), lang, 201)


@router.get(
    "/snapshots/{snapshot_id}",
    response_model=SnapshotPublic,
    responses=problems(401, 403, 404, 422),
    summary="Get an analytics snapshot with its computed figures",
)
async def get_analytics_snapshot(
    snapshot_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    snapshot = await _readable(session, municipality, principal, snapshot_id)
    return _snapshot_response(await analytics_service.document(session, snapshot), lang)


@router.patch(
    "/snapshots/{snapshot_id}",
    response_model=SnapshotPublic,
    responses=problems(401, 403, 404, 412, 422, 428),
    summary="Change an analytics snapshot",
)
async def update_analytics_snapshot(
    snapshot_id: uuid.UUID,
    data: SnapshotUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match with the ETag you read. A list sent replaces the whole list."""
    snapshot = await _writable(
        session, municipality, principal, snapshot_id, if_match, if_match_required=True
    )
    snapshot = await analytics_service.update(
        session=session, snapshot=snapshot, actor=actor_of(principal), data=data
    )
    return _snapshot_response(await analytics_service.document(session, snapshot), lang)


@router.delete(
    "/snapshots/{snapshot_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 412, 428),
    summary="Delete an analytics snapshot",
)
async def delete_analytics_snapshot(
    snapshot_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    snapshot = await _writable(
        session, municipality, principal, snapshot_id, if_match, if_match_required=True
    )
    await analytics_service.remove(session=session, snapshot=snapshot)
    return Response(status_code=204)


async def _raw_body(request: Request, accepted: tuple[str, ...]) -> bytes:
    """The file; BodyLimit has refused it (413) past MAX_IMPORT_BODY_BYTES."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in accepted:
        raise HTTPException(415, f"Send the file as {' or '.join(accepted)}.")
    return await request.body()


@router.post(
    "/snapshots/{snapshot_id}/import/ga4",
    response_model=SnapshotPublic,
    responses=problems(401, 403, 404, 412, 413, 415, 422),
    summary="Import a Google Analytics 4 runReport response",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "additionalProperties": True},
                    "example": GA4_EXAMPLE,
                }
            },
        }
    },
)
async def import_ga4(
    snapshot_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """The JSON the GA4 Data API's `runReport` returns (or `batchRunReports`'s
    `{"reports": [...]}`), mapped by header names: no dimension → sessions,
    screenPageViews, totalUsers/activeUsers; `pagePath` → top pages; `searchTerm` →
    top search terms. A bad file is 422 `import-rejected` with the JSON path of every
    bad row, and nothing changes. If-Match is optional; when sent it must be current."""
    snapshot = await _writable(
        session, municipality, principal, snapshot_id, if_match, if_match_required=False
    )
    raw = await _raw_body(request, ("application/json",))
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ValidationFailed(
            "The file is not JSON.",
            code=analytics_import.IMPORT_REJECTED,
            errors=[FieldProblem("body", str(error), "json")],
        ) from error
    sections, rows = analytics_import.parse_ga4(body)
    snapshot = await analytics_service.apply_import(
        session=session,
        snapshot=snapshot,
        actor=actor_of(principal),
        kind="ga4",
        sections=sections,
        rows=rows,
    )
    return _snapshot_response(await analytics_service.document(session, snapshot), lang)


@router.post(
    "/snapshots/{snapshot_id}/import/csv",
    response_model=SnapshotPublic,
    responses=problems(401, 403, 404, 412, 413, 415, 422),
    summary="Import website and social media figures from the CSV template",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": analytics_import.CSV_TEMPLATE,
                }
            },
        }
    },
)
async def import_csv(
    snapshot_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """UTF-8, comma-separated, header `section,item,platform,hashtag,metric,value` (see
    `GET …/analytics/csv-template` and the README). Each section in the file replaces
    the snapshot's; a bad file is 422 `import-rejected` with `line N, column C` for
    every problem, and nothing changes."""
    snapshot = await _writable(
        session, municipality, principal, snapshot_id, if_match, if_match_required=False
    )
    raw = await _raw_body(request, ("text/csv", "text/plain"))
    sections, rows = analytics_import.parse_csv(raw)
    snapshot = await analytics_service.apply_import(
        session=session,
        snapshot=snapshot,
        actor=actor_of(principal),
        kind="csv",
        sections=sections,
        rows=rows,
    )
    return _snapshot_response(await analytics_service.document(session, snapshot), lang)


@router.get(
    "/csv-template",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The CSV template"},
        **problems(401, 403, 404),
    },
    summary="The CSV import template with example rows",
)
async def analytics_csv_template(
    municipality: MunicipalityDep, principal: CurrentPrincipal
) -> Response:
    require_read(principal, municipality.id, *COMMS)
    return Response(
        content=analytics_import.CSV_TEMPLATE.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": 'attachment; filename="analytics-template.csv"',
        },
    )


@router.get(
    "/snapshots/{snapshot_id}/comparison",
    response_model=ComparisonPublic,
    responses=problems(401, 403, 404, 422),
    summary="Each metric against the previous quarter or a year before",
)
async def analytics_comparison(
    snapshot_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    compare: Literal["previous", "year_ago"] = "previous",
) -> Response:
    """`{value, previous, change_abs, change_pct}` per metric; `change_pct` is null when
    the previous value is 0; `flag` says `new` or `vanished` (against an existing
    snapshot). `target` is the quarterly target of that year's plan, if any."""
    snapshot = await _readable(session, municipality, principal, snapshot_id)
    targets = await plan_service.quarter_targets(
        session=session,
        municipality_id=municipality.id,
        year=Quarter.parse(snapshot.quarter).year,
    )
    result = await analytics_service.comparison(
        session=session, snapshot=snapshot, compare=compare, targets=targets
    )
    data, meta = _localized(result, lang)
    data["meta"] = meta
    etag = '"' + hashlib.blake2b(orjson.dumps(data, default=str), digest_size=12).hexdigest() + '"'
    return send(json_body(data, etag=etag, language=lang), headers=NO_STORE)


@router.get(
    "/snapshots/{snapshot_id}/report",
    response_class=Response,
    responses={
        200: {
            "content": {"text/html": {}, "text/markdown": {}},
            "description": "The quarterly report",
        },
        **problems(401, 403, 404, 422),
    },
    summary="The quarterly report for the comms group and the board",
)
async def analytics_report_document(
    snapshot_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    format: Literal["html", "md"] = "html",
) -> Response:
    """Key metrics with their change, SVG charts of the last eight quarters, successes,
    things to develop, image observations and the plan's tasks for the next quarter.
    HTML prints on A4; Markdown shows the charts as tables. In `lang` (default fi)."""
    snapshot = await _readable(session, municipality, principal, snapshot_id)
    language = lang if lang in analytics_report.WORDS else "fi"
    report = await analytics_report.build(
        session=session,
        snapshot=snapshot,
        lang=language,
        api_base=f"/api/v1/municipalities/{municipality.slug}",
    )
    if format == "md":
        content = analytics_report.render_markdown(report)
        media_type = "text/markdown; charset=utf-8"
    else:
        await analytics_report.render_charts(report)
        content = analytics_report.render_html(report)
        media_type = "text/html; charset=utf-8"
    body = content.encode("utf-8")
    filename = f"{municipality.slug}-{snapshot.quarter}-{language}.{format}"
    return Response(
        content=body,
        media_type=media_type,
        headers={
            **NO_STORE,
            "Content-Language": language,
            "Content-Disposition": f'inline; filename="{filename}"',
            "ETag": '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"',
        },
    )


@router.get(
    "/trends/{metric:path}",
    response_model=TrendPublic,
    responses=problems(401, 403, 404, 422),
    summary="One metric's series over quarters",
)
async def analytics_trend(
    metric: str,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    from_: Annotated[str | None, Query(alias="from", examples=["2024-Q1"])] = None,
    to: Annotated[str | None, Query(examples=["2026-Q4"])] = None,
) -> Response:
    """`metric` is a key from a snapshot's `metrics` (`website.sessions`, `movers`,
    `computed.stale_service_cards`, `social.hashtag.%23kemijärvi.posts`, ...). Quarters
    without a value are null. Default: the eight quarters up to the current one."""
    require_read(principal, municipality.id, *COMMS)
    last = Quarter.parse(to, "query.to") if to else Quarter.of(utcnow())
    first = Quarter.parse(from_, "query.from") if from_ else last.shift(-7)
    result = await analytics_service.trend(
        session=session, municipality_id=municipality.id, metric=metric, first=first, last=last
    )
    data, meta = _localized(result, lang)
    data["meta"] = meta
    etag = '"' + hashlib.blake2b(orjson.dumps(data, default=str), digest_size=12).hexdigest() + '"'
    return send(json_body(data, etag=etag, language=lang), headers=NO_STORE)
