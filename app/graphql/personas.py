"""GraphQL queries and mutations for personas, recommendations, the service promise,
the journey, the landing page and stories: the same services, access rules and problem
codes as REST."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import strawberry
from pydantic import ValidationError
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from app.api.caching import TenantRef
from app.api.documents import localize_texts
from app.core.errors import (
    Forbidden,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationFailed,
    from_pydantic,
)
from app.core.i18n import localize_document
from app.core.pagination import DEFAULT_LIMIT
from app.graphql.context import Context
from app.graphql.paging import page_size
from app.graphql.types.common import Lang
from app.graphql.types.personas import (
    Journey,
    Landing,
    Persona,
    PersonaCopyResult,
    PersonaPatch,
    PersonaRecommendations,
    ServicePromise,
    ServicePromisePatch,
    SkippedPersona,
    Story,
    StoryConnection,
    StoryInput,
)
from app.graphql.types.service_card import input_dict
from app.models.municipality import Municipality
from app.models.persona import PersonaCopyIn, PersonaUpdate, ServicePromiseUpdate
from app.models.story import StoryCreate, StoryStatus
from app.models.user import Role
from app.services import journey as journey_service
from app.services import landing as landing_service
from app.services import persona as persona_service
from app.services import readiness as readiness_service
from app.services import story as story_service
from app.services.auth import Principal, require_read, require_write
from app.services.service_card import Actor

ContextInfo = Info[Context, None]
COMMS = (Role.comms, Role.municipality_admin)
CONTENT_STAFF = (Role.comms, Role.municipality_admin, Role.editor)
VIEW_TEXT_KEYS = frozenset(
    {
        "name",
        "title",
        "text",
        "label",
        "description",
        "tagline",
        "hours",
        "price",
        "bio",
        "card_title",
    }
)
RecommendationKey = tuple[uuid.UUID, str, str, str]  # municipality id, slug, persona, lang


class PersonaLoaders:
    """Per-request loaders: every persona's recommendations in one batch of queries."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.recommendations: DataLoader[RecommendationKey, dict[str, Any]] = DataLoader(
            self._recommendations
        )

    async def _recommendations(self, keys: Sequence[RecommendationKey]) -> list[dict[str, Any]]:
        groups: dict[tuple[uuid.UUID, str, str], list[str]] = defaultdict(list)
        for municipality_id, slug, persona, lang in keys:
            groups[(municipality_id, slug, lang)].append(persona)
        found: dict[RecommendationKey, dict[str, Any]] = {}
        for (municipality_id, slug, lang), personas in groups.items():
            documents = await persona_service.recommendations(
                session=self.context.session,
                municipality_id=municipality_id,
                slug=slug,
                keys=personas,
                lang=lang,
            )
            for persona, document in documents.items():
                localized = localize_document(
                    document, lang, persona_service.RECOMMENDATION_TEXT_KEYS
                )
                found[(municipality_id, slug, persona, lang)] = localized.data | {
                    "meta": localized.meta()
                }
        return [found[key] for key in keys]


def loaders_of(info: Info) -> PersonaLoaders:
    """The request's loaders, made on first use and kept on its context."""
    context: Context = info.context
    loaders: PersonaLoaders | None = getattr(context, "persona_loaders", None)
    if loaders is None:
        loaders = PersonaLoaders(context)
        context.persona_loaders = loaders  # type: ignore[attr-defined]
    return loaders


def _signed_in(info: ContextInfo) -> Principal:
    if info.context.principal is None:
        raise Unauthorized("Sign in to do this.")
    return info.context.principal


def _actor(principal: Principal) -> Actor:
    return Actor(id=principal.user.id, name=principal.user.display_name)


async def _tenant(info: ContextInfo, municipality: str) -> TenantRef:
    return await info.context.cache.tenant(info.context.session, municipality)


async def _writer(info: ContextInfo, municipality: str, *roles: Role) -> TenantRef:
    principal = _signed_in(info)
    ref = await _tenant(info, municipality)
    require_write(principal, ref.id, *roles)
    return ref


def _story_id(value: strawberry.ID) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise NotFound("No such story.") from error


def _localized(document: dict[str, Any], lang: Lang, lists: frozenset[str]) -> dict[str, Any]:
    localized = localize_texts(document, lang.value, VIEW_TEXT_KEYS, lists)
    data: dict[str, Any] = localized.data | {"meta": localized.meta()}
    return data


@strawberry.type(description="What to fix, and where: the resource URL and the field.")
class ReadinessPointer:
    resource: str
    field: str


@strawberry.type(description="One thing that blocks going live, or is worth a look.")
class ReadinessItem:
    code: str
    message: str
    pointer: ReadinessPointer


@strawberry.type(description="A municipality's go-live readiness.")
class Readiness:
    municipality: str
    ready: bool
    blocking: list[ReadinessItem]
    advisory: list[ReadinessItem]

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "Readiness":
        def items(rows: list[dict[str, Any]]) -> list[ReadinessItem]:
            return [
                ReadinessItem(
                    code=row["code"],
                    message=row["message"],
                    pointer=ReadinessPointer(**row["pointer"]),
                )
                for row in rows
            ]

        return cls(
            municipality=doc["municipality"],
            ready=doc["ready"],
            blocking=items(doc["blocking"]),
            advisory=items(doc["advisory"]),
        )


@strawberry.type
class PersonaQueries:
    @strawberry.field(description="A municipality's personas, one per mover segment.")
    async def personas(self, info: ContextInfo, municipality: str) -> list[Persona]:
        ref = await _tenant(info, municipality)
        documents = await persona_service.list_documents(
            session=info.context.session, municipality_id=ref.id
        )
        return [Persona.from_doc(doc, ref.id) for doc in documents]

    @strawberry.field(description="One persona by segment key, or null.")
    async def persona(self, info: ContextInfo, municipality: str, key: str) -> Persona | None:
        ref = await _tenant(info, municipality)
        try:
            doc = await persona_service.get_document(
                session=info.context.session, municipality_id=ref.id, key=key
            )
        except NotFound:
            return None
        return Persona.from_doc(doc, ref.id)

    @strawberry.field(description="Cards, guides and checklist items for a persona, with reasons.")
    async def persona_recommendations(
        self, info: ContextInfo, municipality: str, key: str, lang: Lang = Lang.FI
    ) -> PersonaRecommendations:
        ref = await _tenant(info, municipality)
        document = await loaders_of(info).recommendations.load((ref.id, ref.slug, key, lang.value))
        return PersonaRecommendations.from_doc(document)

    @strawberry.field(description="The municipality's general service promise.")
    async def service_promise(self, info: ContextInfo, municipality: str) -> ServicePromise:
        ref = await _tenant(info, municipality)
        promise = await persona_service.get_promise(
            session=info.context.session, municipality_id=ref.id
        )
        return ServicePromise.from_doc(persona_service.promise_document(promise, ref.slug))

    @strawberry.field(description="The mover's journey and what each stage offers.")
    async def journey(self, info: ContextInfo, municipality: str, lang: Lang = Lang.FI) -> Journey:
        ref = await _tenant(info, municipality)
        document, _ = await journey_service.journey(
            session=info.context.session, municipality_id=ref.id
        )
        return Journey.from_doc(_localized(document, lang, frozenset()))

    @strawberry.field(
        description="Can this municipality go live? Blocking and advisory items, each "
        "with a code, a message in `lang` and a pointer (staff; as REST …/readiness)."
    )
    async def readiness(
        self, info: ContextInfo, municipality: str, lang: Lang = Lang.FI
    ) -> Readiness:
        ref = await _tenant(info, municipality)
        require_read(_signed_in(info), ref.id, *CONTENT_STAFF)
        row = await info.context.session.get(Municipality, ref.id)
        if row is None:
            raise NotFound(f"No municipality '{municipality}'.")
        document = await readiness_service.report(
            session=info.context.session,
            municipality=row,
            lang=lang.value,
            stale_after_days=info.context.settings.stale_after_days,
        )
        return Readiness.from_doc(document)

    @strawberry.field(description="Everything the mover landing page shows, in one query.")
    async def landing(self, info: ContextInfo, municipality: str, lang: Lang = Lang.FI) -> Landing:
        ref = await _tenant(info, municipality)
        document, _ = await landing_service.landing(
            session=info.context.session, municipality_id=ref.id
        )
        return Landing.from_doc(_localized(document, lang, frozenset({"principles"})))

    @strawberry.field(
        description="Approved stories newest first; staff may ask for pending, rejected or all."
    )
    async def stories(
        self,
        info: ContextInfo,
        municipality: str,
        hashtag: str | None = None,
        status: str = "approved",
        first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> StoryConnection:
        limit = page_size(first)
        ref = await _tenant(info, municipality)
        choices = {"approved", "pending", "rejected", "all"}
        if status not in choices:
            raise ValidationFailed(f"status must be one of {', '.join(sorted(choices))}.")
        principal = info.context.principal
        if status != "approved":
            require_read(_signed_in(info), ref.id, *CONTENT_STAFF)
        staff = principal is not None and principal.has_role(ref.id, *CONTENT_STAFF)
        page = await story_service.list_page(
            session=info.context.session,
            municipality_id=ref.id,
            statuses=tuple(StoryStatus) if status == "all" else (StoryStatus(status),),
            hashtag=story_service.hashtag_query(hashtag) if hashtag else None,
            limit=limit,
            cursor=after,
        )
        return StoryConnection(
            items=[
                Story.from_doc(story_service.document(story, ref.slug, staff=staff))
                for story in page.items
            ],
            next_cursor=page.next_cursor,
            total=page.total,
        )

    @strawberry.field(description="One story: approved for anyone, any for staff; else null.")
    async def story(self, info: ContextInfo, municipality: str, id: strawberry.ID) -> Story | None:
        ref = await _tenant(info, municipality)
        principal = info.context.principal
        staff = principal is not None and principal.has_role(ref.id, *CONTENT_STAFF)
        try:
            row = await story_service.get(
                session=info.context.session, municipality_id=ref.id, story_id=_story_id(id)
            )
        except NotFound:
            return None
        if not staff and row.status != StoryStatus.approved:
            return None
        return Story.from_doc(story_service.document(row, ref.slug, staff=staff))


async def _persona_out(info: ContextInfo, ref: TenantRef, key: str) -> Persona:
    doc = await persona_service.get_document(
        session=info.context.session, municipality_id=ref.id, key=key
    )
    return Persona.from_doc(doc, ref.id)


def _validated(model: Any, data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise from_pydantic(error, prefix="input") from error


async def _moderate(
    info: ContextInfo,
    municipality: str,
    story: strawberry.ID,
    status: StoryStatus,
    reason: str | None = None,
) -> Story:
    ref = await _writer(info, municipality, *COMMS)
    row = await story_service.get(
        session=info.context.session,
        municipality_id=ref.id,
        story_id=_story_id(story),
        for_update=True,
    )
    row = await story_service.moderate(
        session=info.context.session,
        story=row,
        actor=_actor(_signed_in(info)),
        status=status,
        reason=reason,
    )
    return Story.from_doc(story_service.document(row, ref.slug, staff=True))


@strawberry.type
class PersonaMutations:
    @strawberry.mutation(
        description="Update a persona (comms and admins). `revision` is the one you read: "
        "a stale one is refused (precondition-failed), as If-Match is in REST."
    )
    async def update_persona(
        self,
        info: ContextInfo,
        municipality: str,
        key: str,
        revision: int,
        input: PersonaPatch,
    ) -> Persona:
        ref = await _writer(info, municipality, *COMMS)
        persona = await persona_service.get(
            session=info.context.session, municipality_id=ref.id, key=key, for_update=True
        )
        if persona.version != revision:
            raise PreconditionFailed("The persona changed since you read it; reload and retry.")
        data = _validated(PersonaUpdate, input_dict(input, keep_top_nulls=True))
        await persona_service.update(
            session=info.context.session,
            persona=persona,
            actor=_actor(_signed_in(info)),
            data=data,
        )
        return await _persona_out(info, ref, key)

    @strawberry.mutation(description="Copy another municipality's personas here, with provenance.")
    async def copy_personas(
        self,
        info: ContextInfo,
        municipality: str,
        source_municipality: str,
        keys: list[str] | None = None,
        replace: bool = False,
    ) -> PersonaCopyResult:
        ref = await _writer(info, municipality, *COMMS)
        data = _validated(
            PersonaCopyIn,
            {"source_municipality": source_municipality, "keys": keys, "replace": replace},
        )
        source = await _tenant(info, source_municipality)
        outcome = await persona_service.copy(
            session=info.context.session,
            source_municipality_id=source.id,
            target_municipality_id=ref.id,
            source_slug=source.slug,
            actor=_actor(_signed_in(info)),
            data=data,
        )
        documents = await persona_service.list_documents(
            session=info.context.session,
            municipality_id=ref.id,
            keys=[persona.key for persona in outcome.copied],
        )
        return PersonaCopyResult(
            copied=[Persona.from_doc(doc, ref.id) for doc in documents],
            skipped=[SkippedPersona(**item) for item in outcome.skipped],
        )

    @strawberry.mutation(
        description="Update the general service promise; `revision` as read (0 before the first)."
    )
    async def update_service_promise(
        self, info: ContextInfo, municipality: str, revision: int, input: ServicePromisePatch
    ) -> ServicePromise:
        ref = await _writer(info, municipality, *COMMS)
        promise = await persona_service.get_promise(
            session=info.context.session, municipality_id=ref.id, for_update=True
        )
        if (promise.version if promise else 0) != revision:
            raise PreconditionFailed("The promise changed since you read it; reload and retry.")
        data = _validated(ServicePromiseUpdate, input_dict(input, keep_top_nulls=True))
        promise = await persona_service.update_promise(
            session=info.context.session,
            municipality_id=ref.id,
            promise=promise,
            actor=_actor(_signed_in(info)),
            data=data,
        )
        return ServicePromise.from_doc(persona_service.promise_document(promise, ref.slug))

    @strawberry.mutation(
        description="Add a story (comms, admins, editors); pending unless comms approve it."
    )
    async def create_story(self, info: ContextInfo, municipality: str, input: StoryInput) -> Story:
        principal = _signed_in(info)
        ref = await _writer(info, municipality, *CONTENT_STAFF)
        data = _validated(StoryCreate, input_dict(input))
        if data.status == StoryStatus.approved and not principal.has_role(ref.id, *COMMS):
            raise Forbidden("Only comms staff and admins publish stories.")
        story = await story_service.create(
            session=info.context.session, municipality_id=ref.id, actor=_actor(principal), data=data
        )
        return Story.from_doc(story_service.document(story, ref.slug, staff=True))

    @strawberry.mutation(description="Approve a story: it becomes public.")
    async def approve_story(self, info: ContextInfo, municipality: str, id: strawberry.ID) -> Story:
        return await _moderate(info, municipality, id, StoryStatus.approved)

    @strawberry.mutation(description="Reject a story, or take an approved one down.")
    async def reject_story(
        self, info: ContextInfo, municipality: str, id: strawberry.ID, reason: str | None = None
    ) -> Story:
        return await _moderate(info, municipality, id, StoryStatus.rejected, reason)
