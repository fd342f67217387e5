"""`GET /metrics`: the Prometheus text exposition of app/core/metrics.py.

Who may read it is `Settings.metrics_mode`: with METRICS_TOKEN only a request bearing
it (compared in constant time; anything else is a 401 problem); without one it is open
in development and absent (404) in production unless METRICS_ENABLED=true. Not in the
OpenAPI document, and never cached: the FastLane only answers paths whose bodies a
public route put in the cache, and this route puts none there.

The outbox figures are read from the database at scrape time, in one query over the
undelivered rows (`sent_at IS NULL`, indexed), so they are as fresh as the scrape.
"""

import hmac
import logging
import os
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import case, func
from sqlmodel import col, select
from starlette.responses import Response

from app.core import metrics
from app.core.db import SessionFactory
from app.core.errors import Unauthorized
from app.core.time import utcnow
from app.models.outbox import OutboxEmail
from app.models.webhook import DeliveryStatus, WebhookDelivery, WebhookSubscription
from app.services.mailer import MAX_ATTEMPTS

log = logging.getLogger("settle.metrics")

router = APIRouter()


def _authorize(request: Request) -> None:
    token: str | None = request.app.state.settings.metrics_token
    if not token:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise Unauthorized(
            "/metrics needs `Authorization: Bearer <METRICS_TOKEN>`.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )


async def refresh_outbox(session_factory: SessionFactory) -> None:
    """Set the outbox gauges from one aggregate query; keep the last values on failure."""
    waiting = col(OutboxEmail.attempts) < MAX_ATTEMPTS
    statement = select(
        func.count(case((waiting, 1))),
        func.count(case((~waiting, 1))),
        func.min(case((waiting, col(OutboxEmail.created_at)))),
    ).where(col(OutboxEmail.sent_at).is_(None))
    try:
        async with session_factory() as session:
            pending, failed, oldest = (await session.exec(statement)).one()
    except Exception:  # a scrape still answers (with the request metrics) when the DB is down
        log.warning("outbox metrics not refreshed: the database query failed", exc_info=True)
        return
    metrics.OUTBOX_PENDING.set(pending)
    metrics.OUTBOX_FAILED.set(failed)
    age = 0.0
    if isinstance(oldest, datetime):
        age = max(0.0, (utcnow() - oldest).total_seconds())
    metrics.OUTBOX_OLDEST_AGE.set(age)


async def refresh_webhooks(session_factory: SessionFactory) -> None:
    """Set the webhook gauges (two aggregate queries); keep the last values on failure."""
    pending = (
        select(func.count(), func.min(col(WebhookDelivery.created_at)))
        .join(
            WebhookSubscription,
            col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id),
        )
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.pending,
            col(WebhookSubscription.enabled).is_(True),
        )
    )
    disabled = select(func.count()).where(col(WebhookSubscription.enabled).is_(False))
    try:
        async with session_factory() as session:
            count, oldest = (await session.exec(pending)).one()
            off = (await session.exec(disabled)).one()
    except Exception:
        log.warning("webhook metrics not refreshed: the database query failed", exc_info=True)
        return
    metrics.WEBHOOKS_PENDING.set(count)
    metrics.WEBHOOKS_DISABLED.set(off)
    age = 0.0
    if isinstance(oldest, datetime):
        age = max(0.0, (utcnow() - oldest).total_seconds())
    metrics.WEBHOOKS_OLDEST_AGE.set(age)


def exposition() -> bytes:
    """The registry as text; with PROMETHEUS_MULTIPROC_DIR, every worker's figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(request: Request) -> Response:
    _authorize(request)
    await refresh_outbox(request.app.state.session_factory)
    await refresh_webhooks(request.app.state.session_factory)
    return Response(
        exposition(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
    )


def install(app: FastAPI) -> None:
    """Add /metrics when the settings allow it; otherwise the path is a plain 404."""
    if app.state.settings.metrics_mode != "off":
        app.include_router(router)
