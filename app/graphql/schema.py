"""The GraphQL schema: queries over the same services as REST."""

import strawberry
from strawberry.extensions import ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.fastapi import GraphQLRouter
from strawberry.types import Info

from app.core.errors import NotFound, Unauthorized
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.graphql.context import Context, get_context
from app.graphql.errors import ProblemCodes
from app.graphql.types.municipality import Municipality, MunicipalityConnection, User
from app.services import municipality as municipality_service
from app.services import user as user_service

ContextInfo = Info[Context, None]


@strawberry.type
class Query:
    @strawberry.field(description="Municipalities ordered by slug, a page at a time.")
    async def municipalities(
        self, info: ContextInfo, first: int = DEFAULT_LIMIT, after: str | None = None
    ) -> MunicipalityConnection:
        page = await municipality_service.list_page(
            session=info.context.session, limit=max(1, min(first, MAX_LIMIT)), cursor=after
        )
        return MunicipalityConnection(
            items=[Municipality.from_model(row) for row in page.items],
            next_cursor=page.next_cursor,
            total=page.total,
        )

    @strawberry.field(description="One municipality by slug, or null.")
    async def municipality(self, info: ContextInfo, slug: str) -> Municipality | None:
        try:
            row = await municipality_service.get_by_slug(session=info.context.session, slug=slug)
        except NotFound:
            return None
        return Municipality.from_model(row)

    @strawberry.field(description="The signed-in staff account.")
    async def me(self, info: ContextInfo) -> User:
        principal = info.context.principal
        if principal is None:
            raise Unauthorized("Sign in to do this.")
        (public,) = await user_service.to_public(
            session=info.context.session,
            users=[principal.user],
            grants={principal.user.id: principal.grants},
        )
        return User.from_model(public)


def build_schema(max_depth: int = 10) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        extensions=[
            ProblemCodes,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: QueryDepthLimiter(max_depth=max_depth),
        ],
    )


def build_router(schema: strawberry.Schema) -> GraphQLRouter[Context, None]:
    return GraphQLRouter(schema, context_getter=get_context, graphql_ide="graphiql")
