"""Questions sent by message, answered by staff by email."""

import uuid
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import Conflict, NotFound
from app.core.pagination import Page, as_offset, decode_cursor, encode_cursor
from app.core.time import utcnow
from app.models.booking import Message, MessageCreate


async def create(
    *, session: AsyncSession, municipality_id: uuid.UUID, data: MessageCreate
) -> Message:
    now = utcnow()
    message = Message(
        municipality_id=municipality_id,
        name=data.name,
        email=data.email,
        topic=data.topic,
        text=data.text,
        language=data.language,
        consent_at=now,
    )
    session.add(message)
    await session.flush()
    return message


async def inbox(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    status: str | None,
    limit: int,
    cursor: str | None,
    modified_since: datetime | None = None,
) -> Page[Message]:
    """Newest first; open ones are what the staff work through."""
    statement = select(Message).where(col(Message.municipality_id) == municipality_id)
    if status:
        statement = statement.where(col(Message.status) == status)
    if modified_since is not None:
        statement = statement.where(col(Message.updated_at) >= modified_since)
    rows = list(
        await session.exec(statement.order_by(col(Message.created_at).desc(), col(Message.id)))
    )
    after = decode_cursor("messages", cursor, as_offset)
    offset = after[0] if after else 0
    window = rows[offset : offset + limit]
    next_cursor = (
        encode_cursor("messages", [offset + limit]) if offset + limit < len(rows) else None
    )
    return Page(items=window, next_cursor=next_cursor, total=len(rows))


async def get(
    *, session: AsyncSession, municipality_id: uuid.UUID, message_id: uuid.UUID
) -> Message:
    message = await session.get(Message, message_id)
    if message is None or message.municipality_id != municipality_id:
        raise NotFound("No such message.")
    return message


async def reply(*, session: AsyncSession, message: Message, text: str, author: str) -> Message:
    if message.erased_at is not None or message.email is None:
        raise Conflict(
            "The sender's data has been erased; there is no one to reply to.", code="erased"
        )
    message.reply = text
    message.answered_by = author
    message.answered_at = message.updated_at = message.last_activity_at = utcnow()
    message.status = "answered"
    message.version += 1
    await session.flush()
    return message


def erase_personal_data(message: Message) -> None:
    message.name = message.email = message.text = message.reply = None
    message.erased_at = message.updated_at = utcnow()


async def erase(*, session: AsyncSession, message: Message) -> Message:
    erase_personal_data(message)
    await session.flush()
    return message


def staff_view(message: Message) -> dict[str, object]:
    return {
        "id": message.id,
        "status": message.status,
        "topic": message.topic,
        "language": message.language,
        "name": message.name,
        "email": message.email,
        "text": message.text,
        "reply": message.reply,
        "answered_by": message.answered_by,
        "answered_at": message.answered_at,
        "created_at": message.created_at,
        "erased": message.erased_at is not None,
    }
