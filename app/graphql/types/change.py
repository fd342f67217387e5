"""GraphQL types of the change feed."""

from datetime import datetime
from typing import Any

import strawberry


@strawberry.type(description="One public change, as in REST's change feed.")
class Change:
    kind: str
    id: strawberry.ID
    action: str = strawberry.field(
        description="created, updated, deleted, published or unpublished"
    )
    event: str = strawberry.field(description="`<kind>.<verb>`, e.g. slot.booked")
    revision: int | None
    occurred_at: datetime
    url: str

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "Change":
        return cls(
            kind=item["kind"],
            id=strawberry.ID(str(item["id"])),
            action=item["action"],
            event=item["event"],
            revision=item["revision"],
            occurred_at=item["occurred_at"],
            url=item["url"],
        )


@strawberry.type
class ChangeConnection:
    items: list[Change]
    next_cursor: str | None
    resume_cursor: str = strawberry.field(
        description="Where to continue later: pass it as `after` on the next poll."
    )
    total: int
