"""Delivering webhooks: at least once, in order per resource, signed by Standard Webhooks.

The same machinery as the email outbox (`app.services.mailer`): a worker claims due rows
in a short transaction by leasing them (`next_attempt_at` moves past the lease), posts
them with no transaction open, and records each outcome in another short transaction. A
worker killed mid-delivery loses nothing: its lease runs out and the row is posted
again, with the same `webhook-id` and body (receivers deduplicate on the id).

Order: a delivery is claimed only when no earlier event of the same resource is still
pending for its subscription, so a receiver never sees `N+1` of a resource before `N`
succeeded (or was given up).

Retries: after the n-th failed attempt the next waits 2ⁿ⁻¹ minutes (1, 2, 4, … 2048);
the 13th failure, about 68 hours (~3 days) after the first, gives the delivery up,
disables the subscription and emails the municipality's admins.

Each request: `webhook-id`, `webhook-timestamp` and `webhook-signature` (the current
secret's signature, and the previous secret's during its grace after a rotation,
space-separated) signed with the `standardwebhooks` library; 10 s in all; redirects are
not followed (a 3xx is a failure); at most 1 kB of the answer is read and kept. Unless
WEBHOOKS_ALLOW_PRIVATE_URLS, the host is resolved, every address checked and the request
sent to the checked address (`app.core.netguard`).
"""

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from standardwebhooks.webhooks import Webhook

from app.core import netguard
from app.core.config import Settings
from app.core.db import SessionFactory, execute
from app.core.jsonenc import dumps
from app.core.netguard import Pinned, UnsafeAddress, pin
from app.core.time import utcnow
from app.models.municipality import Municipality
from app.models.user import Role, RoleGrant, User
from app.models.webhook import (
    RESPONSE_BODY_MAX,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    event_body,
)
from app.services import notify
from app.services.webhooks import signing_secrets, webhook_id

log = logging.getLogger("settle.webhooks")

TIMEOUT = 10.0  # seconds for one attempt, connecting and reading included
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 13
USER_AGENT = "Settle-Webhooks/1.0"


def backoff(attempts: int) -> timedelta:
    """How long a delivery waits after its `attempts`-th failure: 1, 2, 4, … minutes."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def retry_window() -> timedelta:
    """From the first attempt to giving up: the sum of every wait (about 68 hours)."""
    return sum((backoff(n) for n in range(1, MAX_ATTEMPTS)), timedelta())


@dataclass
class _Claimed:
    id: uuid.UUID
    subscription_id: uuid.UUID
    attempts: int
    url: str
    body: bytes
    secrets: list[str]


@dataclass
class _Outcome:
    attempted_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    response_body: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _head_of_resource() -> sa.ColumnElement[bool]:
    """No earlier event of the same resource is pending for the same subscription."""
    earlier = sa.orm.aliased(WebhookDelivery)
    return ~(
        sa.select(col(earlier.id))
        .where(
            col(earlier.subscription_id) == col(WebhookDelivery.subscription_id),
            col(earlier.resource_kind) == col(WebhookDelivery.resource_kind),
            col(earlier.resource_id) == col(WebhookDelivery.resource_id),
            col(earlier.seq) < col(WebhookDelivery.seq),
            col(earlier.status) == DeliveryStatus.pending,
        )
        .exists()
    )


async def _claim(
    *, session_factory: SessionFactory, settings: Settings, batch: int, now: datetime
) -> list[_Claimed]:
    """Lease up to `batch` due deliveries in one short transaction."""
    async with session_factory() as session:
        due = (
            sa.select(col(WebhookDelivery.id))
            .join(
                WebhookSubscription,
                col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id),
            )
            .where(
                col(WebhookDelivery.status) == DeliveryStatus.pending,
                col(WebhookDelivery.next_attempt_at) <= now,
                col(WebhookSubscription.enabled).is_(True),
                _head_of_resource(),
            )
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.seq))
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, of=WebhookDelivery)
        claim = (
            sa.update(WebhookDelivery)
            .where(col(WebhookDelivery.id).in_(due))
            .values(next_attempt_at=now + LEASE)
            .returning(col(WebhookDelivery.id))
            .execution_options(synchronize_session=False)
        )
        ids = list((await execute(session, claim)).scalars())
        if not ids:
            await session.commit()
            return []
        rows = await session.exec(
            select(WebhookDelivery, WebhookSubscription)
            .join(
                WebhookSubscription,
                col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id),
            )
            .where(col(WebhookDelivery.id).in_(ids))
            .order_by(col(WebhookDelivery.seq))
            .execution_options(populate_existing=True)
        )
        claimed = [
            _Claimed(
                id=delivery.id,
                subscription_id=subscription.id,
                attempts=delivery.attempts,
                url=subscription.url,
                body=dumps(event_body(delivery, settings.public_base_url)),
                secrets=signing_secrets(subscription, utcnow()),
            )
            for delivery, subscription in rows.all()
        ]
        await session.commit()
        return claimed


def sign(*, msg_id: str, body: bytes, secrets: list[str], at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: one signature per secret, space-separated."""
    signatures = [Webhook(secret).sign(msg_id, at, body) for secret in secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _clip(data: bytes) -> str:
    """At most RESPONSE_BODY_MAX bytes of an answer, as text a database can store."""
    text = data[:RESPONSE_BODY_MAX].decode("utf-8", errors="ignore")
    return text.replace("\x00", "")


async def _read_some(response: httpx.Response) -> bytes:
    """The first RESPONSE_BODY_MAX bytes of the body; the rest is never read."""
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept.extend(chunk)
        if len(kept) >= RESPONSE_BODY_MAX:
            break
    return bytes(kept[:RESPONSE_BODY_MAX])


async def post(client: httpx.AsyncClient, item: _Claimed, settings: Settings) -> _Outcome:
    """One attempt: resolve and check the host, sign, POST, read at most 1 kB."""
    started = time.monotonic()
    attempted_at = utcnow()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        async with asyncio.timeout(TIMEOUT):
            if settings.allow_private_webhook_urls:
                target = Pinned(url=item.url)
            else:
                target = await pin(item.url, resolve=netguard.system_resolve)
            headers = {
                **target.headers,
                "content-type": "application/json",
                "user-agent": USER_AGENT,
                **sign(
                    msg_id=webhook_id(item.id), body=item.body, secrets=item.secrets, at=utcnow()
                ),
            }
            request = client.build_request(
                "POST",
                target.url,
                content=item.body,
                headers=headers,
                extensions=target.extensions,
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                body = await _read_some(response)
            finally:
                await response.aclose()
    except UnsafeAddress as error:
        return _Outcome(attempted_at, elapsed(), error=f"refused: {error}")
    except TimeoutError:
        return _Outcome(attempted_at, elapsed(), error=f"timed out after {TIMEOUT:g} s")
    except httpx.HTTPError as error:
        return _Outcome(attempted_at, elapsed(), error=f"{type(error).__name__}: {error}"[:1000])
    outcome = _Outcome(
        attempted_at, elapsed(), status_code=response.status_code, response_body=_clip(body)
    )
    if not outcome.ok:
        outcome.error = f"HTTP {response.status_code}" + (
            " (redirects are not followed)" if response.is_redirect else ""
        )
    return outcome


async def _admin_addresses(session: AsyncSession, municipality_id: uuid.UUID) -> list[str]:
    rows = await session.exec(
        select(User.email)
        .join(RoleGrant, col(RoleGrant.user_id) == col(User.id))
        .where(
            col(RoleGrant.municipality_id) == municipality_id,
            col(RoleGrant.role) == Role.municipality_admin,
            col(User.is_active).is_(True),
        )
    )
    return sorted(set(rows))


async def _record(
    *,
    session_factory: SessionFactory,
    settings: Settings,
    item: _Claimed,
    outcome: _Outcome,
    now: datetime,
) -> None:
    """Write one attempt's outcome (and on the last failure, disable and tell)."""
    attempts = item.attempts + 1
    async with session_factory() as session:
        values: dict[str, object] = {
            "attempts": attempts,
            "last_attempt_at": outcome.attempted_at,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
        }
        given_up = False
        if outcome.ok:
            values |= {"status": DeliveryStatus.delivered, "delivered_at": outcome.attempted_at}
        elif attempts >= MAX_ATTEMPTS:
            values["status"] = DeliveryStatus.failed
            given_up = True
        else:
            values["next_attempt_at"] = now + backoff(attempts)
        updated = await execute(
            session,
            sa.update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == item.id,
                col(WebhookDelivery.status) == DeliveryStatus.pending,
            )
            .values(**values)
            .execution_options(synchronize_session=False),
        )
        if updated.rowcount != 1:  # deleted with its subscription meanwhile
            await session.rollback()
            return
        session.add(
            WebhookAttempt(
                delivery_id=item.id,
                attempted_at=outcome.attempted_at,
                duration_ms=outcome.duration_ms,
                status_code=outcome.status_code,
                error=outcome.error,
                response_body=outcome.response_body,
            )
        )
        if given_up:
            await _disable(session=session, settings=settings, item=item, outcome=outcome, now=now)
        await session.commit()


async def _disable(
    *,
    session: AsyncSession,
    settings: Settings,
    item: _Claimed,
    outcome: _Outcome,
    now: datetime,
) -> None:
    subscription = await session.get(WebhookSubscription, item.subscription_id)
    if subscription is None or not subscription.enabled:
        return
    reason = (
        f"{MAX_ATTEMPTS} attempts failed over about {retry_window().total_seconds() / 3600:.0f}"
        f" hours; the last: {outcome.error}"
    )[:500]
    subscription.enabled = False
    subscription.disabled_at = now
    subscription.disabled_reason = reason
    subscription.updated_at = now
    subscription.version += 1
    session.add(subscription)
    municipality = await session.get(Municipality, subscription.municipality_id)
    if municipality is None:
        return
    await notify.webhook_disabled(
        session=session,
        subscription=subscription,
        municipality=municipality,
        admin_addresses=await _admin_addresses(session, subscription.municipality_id),
        reason=reason,
        settings=settings,
    )
    log.warning("webhook %s disabled: %s", subscription.id, reason)


def client_for_webhooks() -> httpx.AsyncClient:
    """No redirects, no proxies from the environment (they would bypass the address
    check), and a 10 s budget per attempt."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(TIMEOUT), follow_redirects=False, trust_env=False
    )


async def deliver_due(
    *,
    session_factory: SessionFactory,
    settings: Settings,
    batch: int = 20,
    now: datetime | None = None,
) -> int:
    """Post the due deliveries, concurrently; returns how many were delivered."""
    claimed = await _claim(
        session_factory=session_factory, settings=settings, batch=batch, now=now or utcnow()
    )
    if not claimed:
        return 0
    # Posts run side by side; their outcomes are written one at a time, so the worker
    # holds at most one database connection for them.
    recording = asyncio.Lock()
    async with client_for_webhooks() as client:

        async def one(item: _Claimed) -> bool:
            outcome = await post(client, item, settings)
            if not outcome.ok:
                log.warning(
                    "webhook delivery %s: attempt %d failed: %s",
                    item.id,
                    item.attempts + 1,
                    outcome.error,
                )
            async with recording:
                try:
                    await _record(
                        session_factory=session_factory,
                        settings=settings,
                        item=item,
                        outcome=outcome,
                        now=now or utcnow(),
                    )
                except Exception:  # the lease runs out and the row is posted again
                    log.exception("webhook delivery %s: the outcome was not recorded", item.id)
                    return False
            return outcome.ok

        results = await asyncio.gather(*(one(item) for item in claimed))
    return sum(results)
