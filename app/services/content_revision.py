"""History for the content comms staff edit: a revision per change with a full
snapshot and the per-field changes, like the service cards keep."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import NotFound
from app.core.i18n import Translations
from app.models.content_revision import ContentRevision
from app.services.service_card import Actor

Document = dict[str, Any]


def jsonable(value: Any) -> Any:
    """Models, translations, ids and times as plain JSON data (what snapshots store)."""
    if isinstance(value, Translations):
        return value.as_dict()
    if isinstance(value, BaseModel):
        return jsonable(value.model_dump(mode="json", exclude_none=True))
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def diff(before: Document | None, after: Document, fields: Sequence[str]) -> list[Document]:
    """The fields whose value changed, with before and after."""
    if before is None:
        return [{"field": "created", "before": None, "after": "created"}]
    return [
        {"field": name, "before": before.get(name), "after": after.get(name)}
        for name in fields
        if before.get(name) != after.get(name)
    ]


def changed_fields(changes: list[Document]) -> list[str]:
    return [change["field"] for change in changes]


async def record(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    subject: str,
    subject_id: uuid.UUID,
    number: int,
    actor: Actor,
    action: str,
    changes: list[Document],
    snapshot: Document,
) -> None:
    """Write revision `number` of a subject (the caller has bumped its version)."""
    session.add(
        ContentRevision(
            municipality_id=municipality_id,
            subject=subject,
            subject_id=subject_id,
            number=number,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            changes=jsonable(changes),
            snapshot=jsonable(snapshot),
        )
    )
    await session.flush()


async def history(*, session: AsyncSession, subject_id: uuid.UUID) -> list[ContentRevision]:
    """Every revision of a subject, newest first."""
    rows = await session.exec(
        select(ContentRevision)
        .where(col(ContentRevision.subject_id) == subject_id)
        .order_by(col(ContentRevision.number).desc())
    )
    return list(rows)


async def get(*, session: AsyncSession, subject_id: uuid.UUID, number: int) -> ContentRevision:
    row = (
        await session.exec(
            select(ContentRevision).where(
                col(ContentRevision.subject_id) == subject_id,
                col(ContentRevision.number) == number,
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"No revision {number}.")
    return row


def public(rows: list[ContentRevision]) -> list[Document]:
    """Revisions as the API shows them: the editor's display name, never an email."""
    return [
        {
            "number": row.number,
            "created_at": row.created_at,
            "updated_by": row.actor_name,
            "action": row.action,
            "changes": row.changes,
        }
        for row in rows
    ]
