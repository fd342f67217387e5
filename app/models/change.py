"""The change log: one row per public change of a municipality's content.

It backs three things: tombstones in `modified_since` reads (what left a collection),
the change feed (`/municipalities/{slug}/changes`) and webhooks (each row is an event).
"""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Index, SQLModel

from app.models.base import utc_field

# BIGINT on PostgreSQL; SQLite only autoincrements a column declared INTEGER PRIMARY KEY.
SeqType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class ChangeAction:
    """The feed's verbs (the `action` column). `event` carries the domain verb."""

    created = "created"
    updated = "updated"
    deleted = "deleted"
    published = "published"
    unpublished = "unpublished"

    ALL = (created, updated, deleted, published, unpublished)
    # What makes a resource leave a public collection: a tombstone in `modified_since` reads.
    GONE = (deleted, unpublished)


class ChangeEvent(SQLModel, table=True):
    """One public change. `seq` orders the log: within a municipality it is also the
    order in which the changes committed (see `app.services.changes.record`), so a
    reader resuming after a `seq` never misses or repeats one."""

    __tablename__ = "change_event"
    # sqlite_autoincrement: a purged tail must never let SQLite hand out an old seq again.
    __table_args__: Any = (
        Index("ix_change_event_municipality_id_seq", "municipality_id", "seq"),
        Index(
            "ix_change_event_municipality_id_kind_occurred_at",
            "municipality_id",
            "kind",
            "occurred_at",
        ),
        {"sqlite_autoincrement": True},
    )

    seq: int | None = Field(default=None, primary_key=True, sa_type=SeqType)
    # Indexed by the composite indexes above, which lead with it.
    municipality_id: uuid.UUID = Field(foreign_key="municipality.id", ondelete="CASCADE")
    kind: str = Field(max_length=40)
    resource_id: uuid.UUID
    action: str = Field(max_length=16)
    event: str = Field(max_length=80)
    revision: int | None = None
    occurred_at: datetime = utc_field(index=True)
    path: str = Field(max_length=300)
