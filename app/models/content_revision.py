"""The history of the content comms staff edit (personas, the service promise, the
journey and the landing page's configuration): who changed what and when."""

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel, UniqueConstraint

from app.core.db import JSONType
from app.models.base import utc_field, uuid_pk


class ContentRevision(SQLModel, table=True):
    """One change of one subject: a full snapshot plus the per-field changes.

    `subject` names the kind of thing (persona, service_promise, journey, landing_config)
    and `subject_id` the row; the numbers count up per subject like a card's revisions.
    """

    __tablename__ = "content_revision"
    __table_args__ = (UniqueConstraint("subject_id", "number"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    subject: str = Field(max_length=32)
    subject_id: uuid.UUID = Field(index=True)
    number: int
    created_at: datetime = utc_field()
    actor_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    actor_name: str = Field(max_length=200)
    action: str = Field(max_length=64)
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    snapshot: dict[str, Any] = Field(sa_type=JSONType)
