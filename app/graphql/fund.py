"""GraphQL queries and mutations for the experiment fund and the roadmap: the same
services, access rules and problem codes as REST. Ideas show only their public fields;
contact details stay on the REST endpoints for the jury and the admins."""

import uuid

import strawberry
from pydantic import ValidationError
from starlette.requests import Request
from strawberry.types import Info

from app.api.caching import TenantRef
from app.core.errors import (
    FieldProblem,
    NotFound,
    Unauthorized,
    ValidationFailed,
    from_pydantic,
)
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.core.ratelimit import enforce
from app.graphql.context import Context
from app.graphql.paging import page_size
from app.graphql.types.fund import (
    FundDecision,
    FundDecisionInput,
    FundExperiment,
    FundExperimentConnection,
    FundIdea,
    FundIdeaConnection,
    FundIdeaInput,
    FundRound,
    FundRoundConnection,
    FundRoundInput,
    FundScore,
    FundSubmission,
    RoadmapPhase,
    RoadmapReview,
)
from app.graphql.types.service_card import input_dict
from app.models.fund import DecisionIn, IdeaCreate, IdeaStatus, RoundCreate, ScoreIn
from app.models.fund import FundRound as FundRoundRow
from app.models.user import Role
from app.services import fund as fund_service
from app.services import roadmap as roadmap_service
from app.services.auth import Principal, require_write
from app.services.fund import IdeaFilters
from app.services.service_card import Actor

ContextInfo = Info[Context, None]
ADMINS = (Role.municipality_admin,)
JURY = (Role.juror,)


def _signed_in(info: ContextInfo) -> Principal:
    if info.context.principal is None:
        raise Unauthorized("Sign in to do this.")
    return info.context.principal


def _actor(principal: Principal) -> Actor:
    return Actor(id=principal.user.id, name=principal.user.display_name)


def _uuid(value: strawberry.ID, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise NotFound(f"No such {what}.") from error


async def _tenant(info: ContextInfo, municipality: str) -> TenantRef:
    return await info.context.cache.tenant(info.context.session, municipality)


def _as_input(error: ValidationFailed) -> ValidationFailed:
    """The same problem with REST's `body.` fields named as the mutation's `input.`."""
    return ValidationFailed(
        error.detail,
        code=error.code,
        errors=[
            FieldProblem(
                "input" + p.field.removeprefix("body") if p.field.startswith("body") else p.field,
                p.message,
                p.code,
            )
            for p in error.errors
        ],
        extra=error.extra,
    )


async def _round_out(info: ContextInfo, fund_round: FundRoundRow, slug: str) -> FundRound:
    (doc,) = await fund_service.round_documents(
        info.context.session, [fund_round], slug, fund_service.today()
    )
    return FundRound.from_doc(doc)


@strawberry.type
class FundQueries:
    @strawberry.field(description="A municipality's experiment-fund rounds, newest year first.")
    async def fund_rounds(
        self,
        info: ContextInfo,
        municipality: str,
        first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> FundRoundConnection:
        limit = page_size(first)
        ref = await _tenant(info, municipality)
        page = await fund_service.list_rounds(
            session=info.context.session,
            municipality_id=ref.id,
            limit=limit,
            cursor=after,
        )
        docs = await fund_service.round_documents(
            info.context.session, page.items, ref.slug, fund_service.today()
        )
        return FundRoundConnection(
            items=[FundRound.from_doc(doc) for doc in docs],
            next_cursor=page.next_cursor,
            total=page.total,
        )

    @strawberry.field(description="One round by year, or null.")
    async def fund_round(self, info: ContextInfo, municipality: str, year: int) -> FundRound | None:
        ref = await _tenant(info, municipality)
        try:
            fund_round = await fund_service.get_round(
                session=info.context.session, municipality_id=ref.id, year=year
            )
        except NotFound:
            return None
        return await _round_out(info, fund_round, ref.slug)

    @strawberry.field(description="A round's ideas (public fields), in the order they arrived.")
    async def fund_ideas(
        self,
        info: ContextInfo,
        municipality: str,
        year: int,
        status: str | None = None,
        q: str | None = None,
        first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> FundIdeaConnection:
        limit = page_size(first)
        ref = await _tenant(info, municipality)
        session = info.context.session
        fund_round = await fund_service.get_round(
            session=session, municipality_id=ref.id, year=year
        )
        wanted = IdeaStatus(status) if status in set(IdeaStatus) else None
        page = await fund_service.list_ideas(
            session=session,
            fund_round=fund_round,
            filters=IdeaFilters(status=wanted, q=q),
            limit=limit,
            cursor=after,
        )
        experiments = await fund_service.experiment_ids(session, [i.id for i in page.items])
        return FundIdeaConnection(
            items=[
                FundIdea.from_doc(fund_service.idea_doc(i, year, experiments.get(i.id)))
                for i in page.items
            ],
            next_cursor=page.next_cursor,
            total=page.total,
        )

    @strawberry.field(description="The jury's decision of a round, or null before it.")
    async def fund_decision(
        self, info: ContextInfo, municipality: str, year: int
    ) -> FundDecision | None:
        ref = await _tenant(info, municipality)
        session = info.context.session
        fund_round = await fund_service.get_round(
            session=session, municipality_id=ref.id, year=year
        )
        if fund_round.decided_at is None:
            return None
        doc = await fund_service.decision_doc(session=session, fund_round=fund_round, private=False)
        return FundDecision.from_doc(doc)

    @strawberry.field(description="Funded experiments with their grants, progress and reports.")
    async def fund_experiments(
        self,
        info: ContextInfo,
        municipality: str,
        year: int | None = None,
        first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> FundExperimentConnection:
        limit = page_size(first)
        ref = await _tenant(info, municipality)
        page = await fund_service.list_experiments(
            session=info.context.session,
            municipality_id=ref.id,
            limit=limit,
            cursor=after,
            year=year,
        )
        docs = await fund_service.experiment_documents(info.context.session, page.items)
        return FundExperimentConnection(
            items=[FundExperiment.from_doc(doc) for doc in docs],
            next_cursor=page.next_cursor,
            total=page.total,
        )

    @strawberry.field(description="The roadmap's phases in time order, with goals and pilots.")
    async def roadmap(self, info: ContextInfo, municipality: str) -> list[RoadmapPhase]:
        ref = await _tenant(info, municipality)
        page = await roadmap_service.list_phases(
            session=info.context.session, municipality_id=ref.id, limit=MAX_LIMIT
        )
        day = fund_service.today()
        return [RoadmapPhase.from_doc(roadmap_service.phase_doc(p, day)) for p in page.items]

    @strawberry.field(description="Yearly reviews of the operating model, newest first.")
    async def roadmap_reviews(self, info: ContextInfo, municipality: str) -> list[RoadmapReview]:
        ref = await _tenant(info, municipality)
        page = await roadmap_service.list_reviews(
            session=info.context.session, municipality_id=ref.id, limit=MAX_LIMIT
        )
        return [RoadmapReview.from_doc(roadmap_service.review_doc(r)) for r in page.items]


@strawberry.type
class FundMutations:
    @strawberry.mutation(description="Open a year's round (municipality admins).")
    async def create_fund_round(
        self, info: ContextInfo, municipality: str, input: FundRoundInput
    ) -> FundRound:
        principal = _signed_in(info)
        ref = await _tenant(info, municipality)
        require_write(principal, ref.id, *ADMINS)
        try:
            data = RoundCreate.model_validate(input_dict(input))
        except ValidationError as error:
            raise from_pydantic(error, prefix="input") from error
        fund_round = await fund_service.create_round(
            session=info.context.session, municipality_id=ref.id, actor=_actor(principal), data=data
        )
        return await _round_out(info, fund_round, ref.slug)

    @strawberry.mutation(
        description="Submit an idea without an account (consent required; while the round "
        "is open, else round-not-open). Returns the submitter's secret link once."
    )
    async def submit_fund_idea(
        self, info: ContextInfo, municipality: str, year: int, input: FundIdeaInput
    ) -> FundSubmission:
        settings = info.context.settings
        request = info.context.request
        assert isinstance(request, Request)
        client = request.client.host if request.client else "unknown"
        await enforce(
            request.app.state.rate_limiter,
            f"fund-idea:{client}",
            limit=settings.public_post_limit_per_minute,
        )
        ref = await _tenant(info, municipality)
        try:
            data = IdeaCreate.model_validate(input_dict(input))
        except ValidationError as error:
            raise from_pydantic(error, prefix="input") from error
        session = info.context.session
        fund_round = await fund_service.get_round(
            session=session, municipality_id=ref.id, year=year
        )
        try:
            idea, link = await fund_service.submit_and_confirm(
                session=session, fund_round=fund_round, slug=ref.slug, data=data, settings=settings
            )
        except ValidationFailed as error:
            raise _as_input(error) from error
        return FundSubmission(
            idea=FundIdea.from_doc(fund_service.idea_doc(idea, year, None)), manage_url=link
        )

    @strawberry.mutation(description="Your own score of an idea, 1–5 (jurors).")
    async def score_fund_idea(
        self,
        info: ContextInfo,
        municipality: str,
        year: int,
        id: strawberry.ID,
        score: int,
        comment: str | None = None,
    ) -> FundScore:
        principal = _signed_in(info)
        ref = await _tenant(info, municipality)
        require_write(principal, ref.id, *JURY)
        try:
            data = ScoreIn.model_validate({"score": score, "comment": comment})
        except ValidationError as error:
            raise from_pydantic(error, prefix="input") from error
        session = info.context.session
        fund_round = await fund_service.get_round(
            session=session, municipality_id=ref.id, year=year
        )
        idea = await fund_service.get_idea(
            session=session, fund_round=fund_round, idea_id=_uuid(id, "idea")
        )
        row, _ = await fund_service.score_idea(
            session=session,
            fund_round=fund_round,
            idea=idea,
            actor=_actor(principal),
            data=data,
            day=fund_service.today(),
        )
        return FundScore(
            juror=row.juror_name, score=row.score, comment=row.comment, updated_at=row.updated_at
        )

    @strawberry.mutation(
        description="Record the jury's decision (municipality admins). Refused with the "
        "broken rule's code: unknown-idea, grant-range, funded-count, over-budget, "
        "explanation-required."
    )
    async def decide_fund_round(
        self, info: ContextInfo, municipality: str, year: int, input: FundDecisionInput
    ) -> FundDecision:
        principal = _signed_in(info)
        ref = await _tenant(info, municipality)
        require_write(principal, ref.id, *ADMINS)
        values = input_dict(input)
        try:
            data = DecisionIn.model_validate(values)
        except ValidationError as error:
            raise from_pydantic(error, prefix="input") from error
        session = info.context.session
        fund_round = await fund_service.get_round(
            session=session, municipality_id=ref.id, year=year, for_update=True
        )
        try:
            fund_round = await fund_service.decide_and_notify(
                session=session, fund_round=fund_round, actor=_actor(principal), data=data
            )
        except ValidationFailed as error:
            raise _as_input(error) from error
        doc = await fund_service.decision_doc(session=session, fund_round=fund_round, private=False)
        return FundDecision.from_doc(doc)
