"""DataLoaders, created per request: a global loader would leak data between users."""

import uuid
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from app.models.municipality import Municipality
from app.services import service_card as card_service
from app.services.service_card import Document


class Loaders:
    """Batch loaders bound to one request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.municipality_by_id: DataLoader[uuid.UUID, Municipality | None] = DataLoader(
            self._municipalities
        )
        self.sections_by_card: DataLoader[uuid.UUID, list[Document]] = DataLoader(self._sections)

    async def _sections(self, card_ids: Sequence[uuid.UUID]) -> list[list[Document]]:
        """Each card's sections with their entries: one query for the whole batch."""
        found = await card_service.sections_with_entries(self.session, card_ids)
        return [found.get(card_id, []) for card_id in card_ids]

    async def _municipalities(self, ids: Sequence[uuid.UUID]) -> list[Municipality | None]:
        rows = await self.session.exec(select(Municipality).where(col(Municipality.id).in_(ids)))
        found = {row.id: row for row in rows}
        return [found.get(i) for i in ids]
