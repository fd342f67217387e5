"""GraphQL's change feed: the same service, cursors and problems as REST's."""

import strawberry
from strawberry.types import Info

from app.core.pagination import DEFAULT_LIMIT
from app.graphql.context import Context
from app.graphql.paging import page_size
from app.graphql.types.change import Change, ChangeConnection
from app.services import changes as change_service


@strawberry.type
class ChangeQueries:
    @strawberry.field(
        description="A municipality's public changes, oldest first, after a feed cursor."
    )
    async def changes(
        self,
        info: Info[Context, None],
        municipality: str,
        first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> ChangeConnection:
        limit = page_size(first)
        context = info.context
        ref = await context.cache.tenant(context.session, municipality)
        page = await change_service.read_feed(
            session=context.session,
            municipality_id=ref.id,
            after=after,
            limit=limit,
            retention_days=context.settings.change_retention_days,
        )
        base = context.settings.public_base_url
        return ChangeConnection(
            items=[Change.from_item(change_service.feed_item(c, base)) for c in page.items],
            next_cursor=page.next_cursor,
            resume_cursor=page.resume_cursor,
            total=page.total,
        )
