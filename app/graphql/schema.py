"""The GraphQL schema: queries over the same services as REST."""

import uuid
from typing import Any

import orjson
import strawberry
import strawberry.tools
from cross_web import HTTPException
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from strawberry.extensions import AddValidationRules, QueryDepthLimiter
from strawberry.fastapi import GraphQLRouter
from strawberry.types import Info
from strawberry.types.nodes import SelectedField
from strawberry.types.unset import UNSET

from app.core.config import Settings
from app.core.errors import (
    NotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationFailed,
    from_pydantic,
)
from app.core.pagination import DEFAULT_LIMIT
from app.graphql import direct
from app.graphql.changes import ChangeQueries
from app.graphql.comms import CommsMutations, CommsQueries
from app.graphql.context import Context, get_context
from app.graphql.errors import Schema
from app.graphql.executor import Executor, memoisable_types
from app.graphql.fund import FundMutations, FundQueries
from app.graphql.limits import LimitedParser, LimitedValidation, Limits
from app.graphql.paging import page_size
from app.graphql.personas import PersonaMutations, PersonaQueries
from app.graphql.types.booking import BookingMutations, BookingQueries
from app.graphql.types.municipality import Municipality, MunicipalityConnection, User
from app.graphql.types.service_card import (
    ServiceCard,
    ServiceCardConnection,
    ServiceCardInput,
    ServiceCardPatch,
    input_dict,
    with_sections,
)
from app.models.service_card import CardCreate, CardStatus, CardUpdate
from app.services import municipality as municipality_service
from app.services import service_card as card_service
from app.services import user as user_service
from app.services.auth import Principal, require_read, require_write
from app.services.service_card import EDITORS, STAFF, Actor, CardFilters

ContextInfo = Info[Context, None]
QUERY_CACHE_SIZE = 256  # parsed and validated query texts kept


@strawberry.type
class Query:
    @strawberry.field(description="Municipalities ordered by slug, a page at a time.")
    async def municipalities(
        self, info: ContextInfo, first: int = DEFAULT_LIMIT, after: str | None = None
    ) -> MunicipalityConnection:
        limit = page_size(first)
        page = await municipality_service.list_page(
            session=info.context.session, limit=limit, cursor=after
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


STATUSES = {
    "published": (CardStatus.published,),
    "draft": (CardStatus.draft,),
    "archived": (CardStatus.archived,),
    "all": tuple(CardStatus),
}


def _signed_in(info: ContextInfo) -> Principal:
    if info.context.principal is None:
        raise Unauthorized("Sign in to do this.")
    return info.context.principal


def _actor(principal: Principal) -> Actor:
    return Actor(id=principal.user.id, name=principal.user.display_name)


def _asks_for(selections: list[Any], *path: str) -> bool:
    """Whether the selection reaches `path` (GraphQL names), fragments included."""
    if not path:
        return True
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == path[0] and _asks_for(selection.selections, *path[1:]):
                return True
        elif _asks_for(selection.selections, *path):  # a fragment spread or inline fragment
            return True
    return False


def _card_id(value: strawberry.ID) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise NotFound("No such service card.") from error


@strawberry.type
class CardQueries:
    @strawberry.field(description="A municipality's cards, searched and filtered like REST.")
    async def service_cards(
        self,
        info: ContextInfo,
        municipality: str,
        topic: str | None = None,
        persona: str | None = None,
        q: str | None = None,
        status: str = "published",
        first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> ServiceCardConnection:
        limit = page_size(first)
        ref = await info.context.cache.tenant(info.context.session, municipality)
        if status not in STATUSES:
            raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}.")
        if status != "published":
            require_read(_signed_in(info), ref.id, *STAFF)
        page = await card_service.list_page(
            session=info.context.session,
            municipality_id=ref.id,
            filters=CardFilters(topic=topic, persona=persona, q=q, statuses=STATUSES[status]),
            limit=limit,
            cursor=after,
            with_sections=False,
        )
        docs = page.items
        if _asks_for(info.selected_fields[0].selections, "items", "sections"):
            docs = await with_sections(info, docs)
        else:
            for doc in docs:  # not asked for: one query fewer
                doc["sections"] = []
        return ServiceCardConnection(
            items=[ServiceCard.from_doc(doc) for doc in docs],
            next_cursor=page.next_cursor,
            total=page.total,
        )

    @strawberry.field(description="One card; drafts only for the municipality's staff.")
    async def service_card(
        self, info: ContextInfo, municipality: str, id: strawberry.ID
    ) -> ServiceCard | None:
        ref = await info.context.cache.tenant(info.context.session, municipality)
        principal = info.context.principal
        staff = principal is not None and principal.has_role(ref.id, *STAFF)
        try:
            doc = await card_service.get_document(
                session=info.context.session,
                municipality_id=ref.id,
                card_id=_card_id(id),
                statuses=tuple(CardStatus) if staff else (CardStatus.published,),
            )
        except NotFound:
            return None
        return ServiceCard.from_doc(doc)  # get_document loads sections and entries


async def _reload(info: ContextInfo, card_id: uuid.UUID) -> ServiceCard:
    (doc,) = await card_service.load_documents(info.context.session, [card_id])
    return ServiceCard.from_doc(doc)


async def _editable(info: ContextInfo, municipality: str, card_id: strawberry.ID) -> Any:
    principal = _signed_in(info)
    ref = await info.context.cache.tenant(info.context.session, municipality)
    require_write(principal, ref.id, *EDITORS)
    return await card_service.get_card(
        session=info.context.session,
        municipality_id=ref.id,
        card_id=_card_id(card_id),
        for_update=True,
    )


@strawberry.type
class CardMutations:
    @strawberry.mutation(description="Create a card (editors and admins of the municipality).")
    async def create_service_card(
        self, info: ContextInfo, municipality: str, input: ServiceCardInput
    ) -> ServiceCard:
        principal = _signed_in(info)
        ref = await info.context.cache.tenant(info.context.session, municipality)
        require_write(principal, ref.id, *EDITORS)
        try:
            data = CardCreate.model_validate(input_dict(input))
        except ValidationError as error:
            raise from_pydantic(error, prefix="input") from error
        card = await card_service.create(
            session=info.context.session, municipality_id=ref.id, actor=_actor(principal), data=data
        )
        return await _reload(info, card.id)

    @strawberry.mutation(
        description="Update a card. `revision` is the one you read: a stale one is refused "
        "(precondition-failed), as If-Match is in REST."
    )
    async def update_service_card(
        self,
        info: ContextInfo,
        municipality: str,
        id: strawberry.ID,
        revision: int,
        input: ServiceCardPatch,
    ) -> ServiceCard:
        card = await _editable(info, municipality, id)
        if card.version != revision:
            raise PreconditionFailed("The card changed since you read it; reload and retry.")
        try:
            data = CardUpdate.model_validate(input_dict(input, keep_top_nulls=True))
        except ValidationError as error:
            raise from_pydantic(error, prefix="input") from error
        principal = _signed_in(info)
        card = await card_service.update(
            session=info.context.session, card=card, actor=_actor(principal), data=data
        )
        return await _reload(info, card.id)

    @strawberry.mutation(description="Publish a card.")
    async def publish_service_card(
        self, info: ContextInfo, municipality: str, id: strawberry.ID
    ) -> ServiceCard:
        card = await _editable(info, municipality, id)
        card = await card_service.set_status(
            session=info.context.session,
            card=card,
            actor=_actor(_signed_in(info)),
            status=CardStatus.published,
        )
        return await _reload(info, card.id)

    @strawberry.mutation(description="Unpublish a card (back to draft).")
    async def unpublish_service_card(
        self, info: ContextInfo, municipality: str, id: strawberry.ID
    ) -> ServiceCard:
        card = await _editable(info, municipality, id)
        card = await card_service.set_status(
            session=info.context.session,
            card=card,
            actor=_actor(_signed_in(info)),
            status=CardStatus.draft,
        )
        return await _reload(info, card.id)


def build_schema(settings: Settings) -> strawberry.Schema:
    query = strawberry.tools.merge_types(
        "Query",
        (
            Query,
            CardQueries,
            BookingQueries,
            ChangeQueries,
            CommsQueries,
            FundQueries,
            PersonaQueries,
        ),
    )
    mutation = strawberry.tools.merge_types(
        "Mutation",
        (CardMutations, BookingMutations, CommsMutations, FundMutations, PersonaMutations),
    )
    limits = Limits.from_settings(settings)
    # The depth rule is made once: ValidationCache keys on the rules too, and a limiter made
    # per request brings a new rule class each time, so nothing would ever be a cache hit.
    # It runs inside graphql-core's validation, so only on documents the limits let by.
    depth_rules = QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules
    executor: type[Executor] = type("Executor", (Executor,), {})  # this schema's own
    schema = Schema(
        query=query,
        mutation=mutation,
        execution_context_class=executor,
        extensions=[
            lambda: LimitedParser(limits, maxsize=QUERY_CACHE_SIZE),
            lambda: LimitedValidation(limits, maxsize=QUERY_CACHE_SIZE),
            lambda: AddValidationRules(depth_rules),
        ],
    )
    direct.install(schema, skip={"Query", "Mutation"})
    # Cards are read in pages of 20 after every edit; the other 19 are memoised.
    executor.memo_types = memoisable_types(schema._schema, ["ServiceCard"])
    return schema


class Router(GraphQLRouter[Context, None]):
    """Strawberry's router, reading and answering JSON with orjson (a page of cards is
    ~90 kB), and refusing what it cannot read as an RFC 9457 problem like the rest of
    the API, not as Strawberry's plain-text 400."""

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses JSON nested over 1 024 levels with a JSONDecodeError; the standard
        # library recursed until RecursionError, a 500 for a 100 kB body of brackets.
        return orjson.loads(data)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry's own refusals (a body it cannot read, an unknown operation, a
        mutation over GET) go to the app's handler, which answers with a problem."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            raise StarletteHTTPException(error.status_code, error.reason) from None


def build_router(schema: strawberry.Schema) -> GraphQLRouter[Context, None]:
    return Router(schema, context_getter=get_context, graphql_ide="graphiql")
