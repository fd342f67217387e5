"""Webhook subscriptions and the fan-out of change events to them.

A municipality's admins subscribe a URL to some or all event types. Every public change
is recorded as a change event (`app.services.changes.record`), which calls `fan_out` in
the same transaction: one `webhook_delivery` row per matching subscription, so an event
is delivered if and only if its change committed (the outbox pattern). `settle worker`
delivers them (`app.services.webhook_delivery`).
"""

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import netguard
from app.core.config import Settings
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.netguard import UnsafeAddress, resolve_checked
from app.core.pagination import Page, as_offset, decode_cursor, encode_cursor
from app.core.time import utcnow
from app.models.change import ChangeAction, ChangeEvent
from app.models.municipality import Municipality
from app.models.webhook import (
    URL_MAX,
    AttemptPublic,
    DeliveryPublic,
    DeliveryStatus,
    WebhookAttempt,
    WebhookCreate,
    WebhookDelivery,
    WebhookPublic,
    WebhookSubscription,
    WebhookUpdate,
)

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# After a rotation the previous secret signs too for this long, so a receiver can switch.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)
# Delivered and given-up deliveries stay in the log this long (`settle purge`).
LOG_KEPT = timedelta(days=30)
_CACHE_KEY = "webhooks.subscriptions"

# Every event type a change can produce (`<kind>.<verb>`, see app.services.changes): the
# feed's actions for each public kind, and the domain verbs that say more than they do.
# Subscriptions are validated against it and the OpenAPI `webhooks` section lists it.
EVENT_KINDS: tuple[str, ...] = (
    "service_card",
    "slot",
    "guide",
    "story",
    "persona",
    "service_promise",
    "journey",
    "landing",
    "municipality",
    "roadmap_phase",
    "roadmap_review",
    "fund_round",
    "fund_idea",
    "fund_experiment",
)
DOMAIN_VERBS: dict[str, tuple[str, ...]] = {
    "service_card": ("archived",),
    "slot": ("booked", "released", "withdrawn"),
    "guide": ("activated", "ended"),
    "story": ("approved", "rejected"),
}
EVENT_TYPES: tuple[str, ...] = tuple(
    f"{kind}.{verb}"
    for kind in EVENT_KINDS
    for verb in (*ChangeAction.ALL, *DOMAIN_VERBS.get(kind, ()))
)


def webhook_id(delivery_id: uuid.UUID) -> str:
    """The `webhook-id` of a delivery: the same on every attempt of it."""
    return f"msg_{delivery_id.hex}"


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signing_secrets(subscription: WebhookSubscription, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one
    while its grace period lasts."""
    found = [subscription.secret]
    if (
        subscription.previous_secret
        and subscription.previous_secret_expires_at is not None
        and subscription.previous_secret_expires_at > now
    ):
        found.append(subscription.previous_secret)
    return found


# ---- validating a subscription ----------------------------------------------------------------


def _check_events(events: list[str] | None) -> list[str]:
    if not events:
        return []
    known = set(EVENT_TYPES)
    problems = [
        FieldProblem(f"body.events[{index}]", f"unknown event type {name!r}", "unknown-event")
        for index, name in enumerate(events)
        if name not in known
    ]
    if problems:
        raise ValidationFailed(
            f"Unknown event types; known: {', '.join(EVENT_TYPES)}.", errors=problems
        )
    return sorted(set(events), key=EVENT_TYPES.index)


async def check_url(url: str, settings: Settings) -> str:
    """The URL as stored, or a 422: https in production, and unless private addresses are
    allowed (WEBHOOKS_ALLOW_PRIVATE_URLS), a host that resolves to public addresses only.
    The worker checks again at every delivery: the answer of DNS may change."""
    import httpx  # only the URL parser

    parsed = httpx.URL(url)
    if len(str(parsed)) > URL_MAX:
        raise ValidationFailed(
            f"Webhook URLs are at most {URL_MAX} characters.",
            errors=[FieldProblem("body.url", f"longer than {URL_MAX} characters", "too-long")],
        )
    if settings.environment == "production" and parsed.scheme != "https":
        raise ValidationFailed(
            "Webhook URLs must use https.",
            errors=[FieldProblem("body.url", "must be an https URL", "https-required")],
        )
    if not settings.allow_private_webhook_urls:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            await resolve_checked(parsed.host, port, resolve=netguard.system_resolve)
        except UnsafeAddress as error:
            raise ValidationFailed(
                f"The webhook URL is refused: {error}.",
                errors=[FieldProblem("body.url", str(error), "address-not-public")],
            ) from error
    return str(parsed)


def _position(value: object) -> int:
    """A cursor's number: an offset or a seq, never negative, within a BIGINT."""
    number = as_offset(value)
    if number >= 2**63:
        raise ValueError("out of range")
    return number


# ---- subscriptions ---------------------------------------------------------------------------


def to_public(subscription: WebhookSubscription, slug: str) -> WebhookPublic:
    return WebhookPublic(
        id=subscription.id,
        municipality=slug,
        url=subscription.url,
        events=subscription.events,
        description=subscription.description,
        enabled=subscription.enabled,
        disabled_at=subscription.disabled_at,
        disabled_reason=subscription.disabled_reason,
        previous_secret_expires_at=subscription.previous_secret_expires_at
        if subscription.previous_secret
        else None,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
    )


def _forget_cache(session: AsyncSession) -> None:
    session.info.pop(_CACHE_KEY, None)


async def create(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    actor_id: uuid.UUID,
    data: WebhookCreate,
    settings: Settings,
) -> WebhookSubscription:
    """A new subscription with a new secret (the caller shows it once)."""
    events = _check_events(data.events)
    url = await check_url(str(data.url), settings)
    subscription = WebhookSubscription(
        municipality_id=municipality_id,
        url=url,
        events=events,
        description=data.description,
        secret=new_secret(),
        created_by=actor_id,
    )
    session.add(subscription)
    await session.flush()
    _forget_cache(session)
    return subscription


async def list_page(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    modified_since: datetime | None = None,
) -> Page[WebhookSubscription]:
    """A municipality's subscriptions, oldest first."""
    filtered = select(WebhookSubscription).where(
        col(WebhookSubscription.municipality_id) == municipality_id
    )
    if modified_since is not None:
        filtered = filtered.where(col(WebhookSubscription.updated_at) >= modified_since)
    total = (await session.exec(select(sa.func.count()).select_from(filtered.subquery()))).one()
    after = decode_cursor("webhooks", cursor, _position)
    offset = after[0] if after else 0
    rows = list(
        await session.exec(
            filtered.order_by(col(WebhookSubscription.created_at), col(WebhookSubscription.id))
            .offset(offset)
            .limit(limit + 1)
        )
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor("webhooks", [offset + limit])
    return Page(items=rows, next_cursor=next_cursor, total=int(total))


async def get(
    *, session: AsyncSession, municipality_id: uuid.UUID, subscription_id: uuid.UUID
) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.municipality_id != municipality_id:
        raise NotFound("No such webhook subscription.")
    return subscription


def _touch(subscription: WebhookSubscription, now: datetime) -> None:
    subscription.updated_at = now
    subscription.version += 1


async def update(
    *,
    session: AsyncSession,
    subscription: WebhookSubscription,
    data: WebhookUpdate,
    settings: Settings,
) -> WebhookSubscription:
    """Change the URL, events or description, or enable a disabled subscription."""
    fields = data.model_fields_set
    if "url" in fields and data.url is not None:
        subscription.url = await check_url(str(data.url), settings)
    if "events" in fields:
        subscription.events = _check_events(data.events)
    if "description" in fields and data.description is not None:
        subscription.description = data.description
    if "enabled" in fields and data.enabled is not None and data.enabled != subscription.enabled:
        subscription.enabled = data.enabled
        if data.enabled:
            subscription.disabled_at = None
            subscription.disabled_reason = None
        else:
            subscription.disabled_at = utcnow()
            subscription.disabled_reason = "disabled by an administrator"
    _touch(subscription, utcnow())
    session.add(subscription)
    await session.flush()
    _forget_cache(session)
    return subscription


async def rotate_secret(
    *, session: AsyncSession, subscription: WebhookSubscription
) -> WebhookSubscription:
    """A new secret; the one it replaces keeps signing for PREVIOUS_SECRET_GRACE."""
    now = utcnow()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + PREVIOUS_SECRET_GRACE
    subscription.secret = new_secret()
    _touch(subscription, now)
    session.add(subscription)
    await session.flush()
    return subscription


async def remove(*, session: AsyncSession, subscription: WebhookSubscription) -> None:
    """Delete the subscription with its deliveries and their log."""
    await session.delete(subscription)
    await session.flush()
    _forget_cache(session)


# ---- fan-out ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    id: uuid.UUID
    events: frozenset[str]


async def _targets(session: AsyncSession, municipality_id: uuid.UUID) -> tuple[str, list[_Target]]:
    """The municipality's slug and enabled subscriptions, read once per transaction (a
    bulk write records many changes; a later transaction of the session reads again)."""
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_CACHE_KEY)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info[_CACHE_KEY] = cached
    cache: dict[uuid.UUID, tuple[str, list[_Target]]] = cached[1]
    found = cache.get(municipality_id)
    if found is None:
        rows = await session.exec(
            select(WebhookSubscription.id, WebhookSubscription.events).where(
                col(WebhookSubscription.municipality_id) == municipality_id,
                col(WebhookSubscription.enabled).is_(True),
            )
        )
        targets = [_Target(row_id, frozenset(events or ())) for row_id, events in rows.all()]
        slug = ""
        if targets:
            municipality = await session.get(Municipality, municipality_id)
            slug = municipality.slug if municipality else ""
        found = (slug, targets)
        cache[municipality_id] = found
    return found


async def fan_out(session: AsyncSession, event: ChangeEvent) -> int:
    """Queue `event` for every enabled subscription that wants it, in the caller's
    transaction; returns how many deliveries were queued."""
    assert event.seq is not None, "fan out a flushed change event"
    slug, targets = await _targets(session, event.municipality_id)
    wanted = [target for target in targets if not target.events or event.event in target.events]
    for target in wanted:
        session.add(
            WebhookDelivery(
                subscription_id=target.id,
                municipality_id=event.municipality_id,
                seq=event.seq,
                event_type=event.event,
                municipality_slug=slug,
                resource_kind=event.kind,
                resource_id=str(event.resource_id),
                revision=event.revision,
                path=event.path,
                occurred_at=event.occurred_at,
            )
        )
    if wanted:
        await session.flush()
    return len(wanted)


# ---- the delivery log ------------------------------------------------------------------------


def delivery_public(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryPublic:
    return DeliveryPublic(
        id=delivery.id,
        webhook_id=webhook_id(delivery.id),
        seq=delivery.seq,
        event_type=delivery.event_type,
        resource_kind=delivery.resource_kind,
        resource_id=delivery.resource_id,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at
        if delivery.status == DeliveryStatus.pending
        else None,
        last_attempt_at=delivery.last_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        log=[
            AttemptPublic(
                attempted_at=attempt.attempted_at,
                duration_ms=attempt.duration_ms,
                status_code=attempt.status_code,
                error=attempt.error,
                response_body=attempt.response_body,
            )
            for attempt in sorted(attempts, key=lambda a: a.attempted_at, reverse=True)
        ],
    )


async def _attempts_of(
    session: AsyncSession, delivery_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    found: dict[uuid.UUID, list[WebhookAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    if delivery_ids:
        rows = await session.exec(
            select(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
        )
        for attempt in rows:
            found[attempt.delivery_id].append(attempt)
    return found


async def list_deliveries(
    *,
    session: AsyncSession,
    subscription: WebhookSubscription,
    limit: int,
    cursor: str | None,
    status: DeliveryStatus | None = None,
) -> Page[DeliveryPublic]:
    """A subscription's deliveries, the newest event first, each with its attempts."""
    filtered = select(WebhookDelivery).where(
        col(WebhookDelivery.subscription_id) == subscription.id
    )
    if status is not None:
        filtered = filtered.where(col(WebhookDelivery.status) == status)
    total = (await session.exec(select(sa.func.count()).select_from(filtered.subquery()))).one()
    after = decode_cursor("webhook-deliveries", cursor, _position)
    statement = filtered.order_by(col(WebhookDelivery.seq).desc()).limit(limit + 1)
    if after is not None:
        statement = statement.where(col(WebhookDelivery.seq) < after[0])
    rows = list(await session.exec(statement))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor("webhook-deliveries", [rows[-1].seq])
    attempts = await _attempts_of(session, [row.id for row in rows])
    items = [delivery_public(row, attempts[row.id]) for row in rows]
    return Page(items=items, next_cursor=next_cursor, total=int(total))


async def get_delivery(
    *, session: AsyncSession, subscription: WebhookSubscription, delivery_id: uuid.UUID
) -> WebhookDelivery:
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound("No such delivery.")
    return delivery


async def delivery_with_log(*, session: AsyncSession, delivery: WebhookDelivery) -> DeliveryPublic:
    attempts = await _attempts_of(session, [delivery.id])
    return delivery_public(delivery, attempts[delivery.id])


async def redeliver(
    *, session: AsyncSession, subscription: WebhookSubscription, delivery: WebhookDelivery
) -> WebhookDelivery:
    """Send the delivery again as soon as the worker runs, with the same `webhook-id`
    and body, and a fresh set of retries."""
    if not subscription.enabled:
        raise Conflict("The subscription is disabled; enable it (PATCH enabled: true) first.")
    await session.refresh(delivery)
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.delivered_at = None
    session.add(delivery)
    await session.flush()
    return delivery


async def purge(*, session: AsyncSession, now: datetime | None = None) -> int:
    """Delete deliveries (with their attempts) delivered or given up more than LOG_KEPT
    ago; pending ones stay whatever their age. Returns how many were deleted."""
    cut = (now or utcnow()) - LOG_KEPT
    old = sa.select(col(WebhookDelivery.id)).where(
        col(WebhookDelivery.status) != DeliveryStatus.pending,
        col(WebhookDelivery.created_at) < cut,
    )
    await session.exec(
        sa.delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(old))  # type: ignore[call-overload]
    )
    result = await session.exec(
        sa.delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(old))  # type: ignore[call-overload]
    )
    return int(result.rowcount or 0)
