"""The outbox: every email is a row written in the same transaction as its cause."""

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.core.db import JSONType
from app.core.time import UTCDateTime
from app.models.base import utc_field, uuid_pk


class OutboxEmail(SQLModel, table=True):
    """An email to deliver. `dedupe_key` makes enqueuing idempotent; the worker claims a
    row with a lease (`locked_until`), so a worker killed mid-send only delays it."""

    __tablename__ = "outbox_email"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID | None = Field(
        default=None, foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    dedupe_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str
    body_html: str | None = None
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    headers: dict[str, str] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = utc_field()
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=2000)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
