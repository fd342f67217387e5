"""Webhooks (Standard Webhooks): a municipality's subscriptions and the deliveries of
its change events to them, an outbox of their own delivered by `settle worker`."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, field_validator
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from app.core.db import JSONType
from app.core.time import UTCDateTime
from app.models.base import PatchModel, Timestamped, utc_field, uuid_pk
from app.models.change import SeqType

URL_MAX = 2000
DESCRIPTION_MAX = 500
RESPONSE_BODY_MAX = 1024  # bytes of an endpoint's answer kept in the delivery log


class WebhookSubscription(Timestamped, table=True):
    """Where a municipality's change events are posted, and with which secret they are
    signed. The secret is kept to sign with (it cannot be hashed); after a rotation the
    previous one signs too until `previous_secret_expires_at`."""

    __tablename__ = "webhook_subscription"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    url: str = Field(max_length=URL_MAX)
    # Event types (`service_card.published`, …); empty means every event.
    events: list[str] = Field(default_factory=list, sa_type=JSONType)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    enabled: bool = Field(default=True)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_reason: str | None = Field(default=None, max_length=500)
    created_by: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its (next) attempt, or being attempted
    delivered = "delivered"  # the endpoint answered 2xx
    failed = "failed"  # given up after the retries; the subscription was disabled


class WebhookDelivery(SQLModel, table=True):
    """One change event for one subscription: its `id` is the `webhook-id`, the same on
    every attempt. `next_attempt_at` is both "not before" and the worker's lease."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "seq"),
        # The worker's claim: due pending rows, and per resource the earliest pending one.
        sa.Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        sa.Index(
            "ix_webhook_delivery_resource", "subscription_id", "resource_kind", "resource_id", "seq"
        ),
    )

    id: uuid.UUID = uuid_pk()
    subscription_id: uuid.UUID = Field(foreign_key="webhook_subscription.id", ondelete="CASCADE")
    municipality_id: uuid.UUID = Field(foreign_key="municipality.id", ondelete="CASCADE")
    # The change event it carries (change_event.seq, commit-ordered per municipality).
    seq: int = Field(sa_type=SeqType)
    event_type: str = Field(max_length=80)
    municipality_slug: str = Field(max_length=63)
    resource_kind: str = Field(max_length=40)
    resource_id: str = Field(max_length=80)
    revision: int | None = None
    path: str = Field(max_length=URL_MAX)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = utc_field()
    status: str = Field(default=DeliveryStatus.pending, max_length=20)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = utc_field()
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=1000)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One HTTP attempt of a delivery: the delivery log shows these."""

    __tablename__ = "webhook_attempt"

    id: uuid.UUID = uuid_pk()
    delivery_id: uuid.UUID = Field(
        foreign_key="webhook_delivery.id", ondelete="CASCADE", index=True
    )
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    duration_ms: int = 0
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=1000)
    # At most RESPONSE_BODY_MAX bytes of the answer, never more.
    response_body: str | None = Field(default=None, max_length=RESPONSE_BODY_MAX)


# ---- API schemas -----------------------------------------------------------------------------


def _no_credentials(url: AnyHttpUrl | None) -> AnyHttpUrl | None:
    """Credentials in the URL would be shown in every listing of the subscription."""
    if url is not None and (url.username or url.password):
        raise ValueError("the URL must not carry a user name or password")
    return url


class WebhookCreate(BaseModel):
    url: AnyHttpUrl = PydanticField(
        description="Where events are POSTed (http or https; https in production)."
    )
    events: list[str] | None = PydanticField(
        default=None,
        max_length=100,
        description="Event types to receive, e.g. `service_card.published`; "
        "leave out (or null) for every event.",
    )
    description: str = PydanticField(default="", max_length=DESCRIPTION_MAX)

    model_config = ConfigDict(extra="forbid")

    _url = field_validator("url")(_no_credentials)


class WebhookUpdate(PatchModel):
    url: AnyHttpUrl | None = None
    events: list[str] | None = PydanticField(
        default=None, max_length=100, description="An empty list means every event."
    )
    description: str | None = PydanticField(default=None, max_length=DESCRIPTION_MAX)
    enabled: bool | None = PydanticField(
        default=None,
        description="`true` enables a subscription disabled after failed deliveries.",
    )

    _url = field_validator("url")(_no_credentials)


class WebhookPublic(BaseModel):
    id: uuid.UUID
    municipality: str
    url: str
    events: list[str] = PydanticField(description="Empty: every event.")
    description: str
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None = PydanticField(
        description="Until then deliveries are signed with the previous secret too."
    )
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookPublic):
    secret: str = PydanticField(
        description="The signing secret (`whsec_…`). Shown only in this response: keep it."
    )


class AttemptPublic(BaseModel):
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    response_body: str | None = PydanticField(description="At most the first 1 kB.")


class DeliveryPublic(BaseModel):
    id: uuid.UUID
    webhook_id: str = PydanticField(description="The `webhook-id` header: the same on retries.")
    seq: int
    event_type: str
    resource_kind: str
    resource_id: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = PydanticField(description="When pending: the next try.")
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    log: list[AttemptPublic] = PydanticField(description="Every attempt, the newest first.")


class WebhookEventData(BaseModel):
    municipality: str = PydanticField(description="The municipality's slug.")
    kind: str = PydanticField(description="`service_card`, `slot`, `story`, …")
    id: str = PydanticField(description="The resource's id.")
    revision: int | None = PydanticField(description="The resource's revision after the change.")
    url: str = PydanticField(description="Where to read the resource (GET, with ETags).")


class WebhookEvent(BaseModel):
    """The body POSTed to a subscription: thin, never personal data."""

    type: str = PydanticField(description="`<kind>.<action>`, e.g. `service_card.published`.")
    timestamp: datetime = PydanticField(description="When the change happened (UTC).")
    data: WebhookEventData


def event_body(delivery: WebhookDelivery, base_url: str) -> dict[str, Any]:
    """The JSON document of a delivery: the same bytes on every attempt."""
    return {
        "type": delivery.event_type,
        "timestamp": delivery.occurred_at,
        "data": {
            "municipality": delivery.municipality_slug,
            "kind": delivery.resource_kind,
            "id": delivery.resource_id,
            "revision": delivery.revision,
            "url": base_url.rstrip("/") + delivery.path,
        },
    }
