"""The experiment fund: rounds, ideas submitted without an account, the jury's scores
and decision, and the funded experiments' progress and reports."""

import hashlib
import uuid
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status
from starlette.responses import Response

from app.api.caching import Body, etag_matches, json_body, make_etag
from app.api.deps import (
    CacheDep,
    CurrentPrincipal,
    IfMatch,
    Lang,
    MunicipalityDep,
    OptionalPrincipal,
    Paging,
    SessionDep,
    SettingsDep,
)
from app.api.routes.bookings import limit_manage_link, limit_public_post
from app.api.schemas import Collection, problems, send
from app.api.sync import Tombstone, sync_read, synced_page, with_tombstones
from app.core.errors import (
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorized,
)
from app.core.i18n import LANGUAGES, localize_document
from app.core.jsonenc import dumps
from app.core.pagination import Page
from app.models.fund import (
    DecisionIn,
    DecisionPublic,
    EntryIn,
    ExperimentPublic,
    ExperimentStatus,
    ExperimentUpdate,
    FundExperiment,
    FundIdea,
    FundRound,
    IdeaCreate,
    IdeaPublic,
    IdeaStatus,
    RoundCreate,
    RoundPublic,
    RoundUpdate,
    ScoreIn,
    ScorePublic,
    SubmitterKind,
    SuggestionPublic,
    WithdrawIn,
)
from app.models.user import Role
from app.services import fund as fund_service
from app.services.auth import Principal, require_read, require_write
from app.services.fund import KIND, Document
from app.services.service_card import Actor

router = APIRouter(prefix="/municipalities/{slug}/fund", tags=["fund"])

# The municipality's admins run the fund and record the jury's decision; jurors score.
# Both see the applicants' contact details; nobody else does.
ADMINS = (Role.municipality_admin,)
JURY = (Role.juror,)
READERS = (Role.municipality_admin, Role.juror)
ROUND_TEXT_KEYS = frozenset({"title", "call"})
NO_STORE = {"Cache-Control": "no-store"}

Year = Annotated[int, Path(ge=2000, le=2100, description="The round's budget year.")]
Token = Annotated[
    str | None, Query(max_length=200, description="The secret from the submitter's link")
]


def actor_of(principal: Principal) -> Actor:
    return Actor(id=principal.user.id, name=principal.user.display_name)


def _reader(principal: Principal | None, municipality_id: uuid.UUID) -> bool:
    return principal is not None and principal.has_role(municipality_id, *READERS)


# ---- ETags: from the document's content, so derived figures and phases count too -------------


def doc_etag(kind: str, document: Document, lang: str | None) -> str:
    digest = hashlib.blake2b(dumps(document), digest_size=12).hexdigest()
    return make_etag(kind, str(document["id"]), digest, lang)


def check_doc_if_match(if_match: str | None, kind: str, document: Document) -> None:
    """428 without If-Match, 412 unless it is the ETag of the current document (read in
    any language)."""
    if not if_match:
        raise PreconditionRequired("Send If-Match with the ETag you read before updating.")
    if not any(
        etag_matches(if_match, doc_etag(kind, document, language))
        for language in (None, *LANGUAGES)
    ):
        raise PreconditionFailed("It changed since you read it; reload and retry.")


def _body(
    kind: str,
    document: Document,
    lang: str | None,
    keys: frozenset[str] = frozenset(),
    valid_until: float | None = None,
) -> Body:
    localized = localize_document(document, lang, keys)
    data = localized.data | {"meta": localized.meta()}
    return json_body(
        data, etag=doc_etag(kind, document, lang), language=lang, valid_until=valid_until
    )


def _collection(
    items: list[Document],
    next_cursor: str | None,
    total: int,
    lang: str | None,
    etag: str,
    keys: frozenset[str] = frozenset(),
    valid_until: float | None = None,
) -> Body:
    localized = localize_document(items, lang, keys, path="items")
    data = {
        "items": localized.data,
        "next_cursor": next_cursor,
        "total": total,
        "meta": localized.meta(),
    }
    return json_body(data, etag=etag, language=lang, valid_until=valid_until)


# ---- rounds ----------------------------------------------------------------------------------


async def _round_document(session: SessionDep, fund_round: FundRound, slug: str) -> Document:
    (document,) = await fund_service.round_documents(
        session, [fund_round], slug, fund_service.today()
    )
    return document


@router.get(
    "/rounds",
    response_model=Collection[RoundPublic | Tombstone],
    responses=problems(404, 410, 422),
    summary="The experiment fund's rounds",
)
async def list_fund_rounds(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
    lang: Lang,
    paging: Paging,
    principal: OptionalPrincipal,
) -> Response:
    """Newest year first, each with its rules, dated phases, current phase and totals
    (ideas, requested, granted, spent). The municipality's staff also see draft rounds
    (uncached)."""
    staff = principal is not None and principal.is_member(municipality.id)

    read = sync_read(paging, "fund-rounds", retention_days=settings.change_retention_days)

    async def build(etag: str) -> Body:
        day = fund_service.today()

        async def fetch(cursor: str | None) -> Page[Any]:
            page = await fund_service.list_rounds(
                session=session,
                municipality_id=municipality.id,
                limit=paging.limit,
                cursor=cursor,
                modified_since=paging.modified_since,
                include_drafts=staff,
            )
            documents = await fund_service.round_documents(
                session, page.items, municipality.slug, day
            )
            return Page(items=documents, next_cursor=page.next_cursor, total=page.total)

        page = await synced_page(
            session=session,
            read=read,
            fetch=fetch,
            municipality_id=municipality.id,
            kinds=(fund_service.ROUND_CHANGE,),
            collection="fund-rounds",
            limit=paging.limit,
        )
        return _collection(
            page.items,
            page.next_cursor,
            page.total,
            lang,
            make_etag(etag, day),
            ROUND_TEXT_KEYS,
            fund_service.next_midnight(day),
        )

    return await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, KIND)],
        build=build,
        language=lang,
        cacheable=not staff,
    )


@router.post(
    "/rounds",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Open a year's round",
)
async def create_fund_round(
    data: RoundCreate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
) -> Response:
    """Municipality admins. One round per year (409 `duplicate`); the rules default to the
    operating model's: grants of 100–1000 EUR, 3–8 experiments."""
    require_write(principal, municipality.id, *ADMINS)
    fund_round = await fund_service.create_round(
        session=session, municipality_id=municipality.id, actor=actor_of(principal), data=data
    )
    document = await _round_document(session, fund_round, municipality.slug)
    location = f"/api/v1/municipalities/{municipality.slug}/fund/rounds/{fund_round.year}"
    return send(_body("fund_round", document, lang, ROUND_TEXT_KEYS), 201, {"Location": location})


@router.get(
    "/rounds/{year}",
    response_model=RoundPublic,
    responses=problems(404, 422),
    summary="A round: rules, phases and totals",
)
async def get_fund_round(
    year: Year,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
    principal: OptionalPrincipal,
) -> Response:
    """A draft round is found only by the municipality's staff (uncached)."""
    staff = principal is not None and principal.is_member(municipality.id)

    async def build(_etag: str) -> Body:
        day = fund_service.today()
        fund_round = await fund_service.get_round(
            session=session, municipality_id=municipality.id, year=year, include_drafts=staff
        )
        (document,) = await fund_service.round_documents(
            session, [fund_round], municipality.slug, day
        )
        return _body("fund_round", document, lang, ROUND_TEXT_KEYS, fund_service.next_midnight(day))

    return await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, KIND)],
        build=build,
        language=lang,
        cacheable=not staff,
    )


async def _admin_round(
    session: SessionDep,
    municipality: MunicipalityDep,
    principal: Principal,
    year: int,
    if_match: str | None,
) -> FundRound:
    require_write(principal, municipality.id, *ADMINS)
    fund_round = await fund_service.get_round(
        session=session,
        municipality_id=municipality.id,
        year=year,
        for_update=True,
        include_drafts=True,
    )
    document = await _round_document(session, fund_round, municipality.slug)
    check_doc_if_match(if_match, "fund_round", document)
    return fund_round


@router.patch(
    "/rounds/{year}",
    response_model=RoundPublic,
    responses=problems(401, 403, 404, 409, 412, 422, 428),
    summary="Change a round",
)
async def update_fund_round(
    year: Year,
    data: RoundUpdate,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    lang: Lang,
    if_match: IfMatch = None,
) -> Response:
    """Send If-Match. Texts change any time. `rules` are locked once ideas are open (409
    `round-locked`); the dates may move until the decision, except the opening day once it
    has come (closing the call early or extending it is fine); after the decision only
    `reporting_until`."""
    fund_round = await _admin_round(session, municipality, principal, year, if_match)
    fund_round = await fund_service.update_round(
        session=session,
        fund_round=fund_round,
        actor=actor_of(principal),
        data=data,
        day=fund_service.today(),
    )
    document = await _round_document(session, fund_round, municipality.slug)
    return send(_body("fund_round", document, lang, ROUND_TEXT_KEYS))


@router.delete(
    "/rounds/{year}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 412, 428),
    summary="Delete a round that has no ideas",
)
async def delete_fund_round(
    year: Year,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> Response:
    fund_round = await _admin_round(session, municipality, principal, year, if_match)
    await fund_service.delete_round(session=session, fund_round=fund_round)
    return Response(status_code=204)


# ---- ideas -----------------------------------------------------------------------------------


async def _round(session: SessionDep, municipality: MunicipalityDep, year: int) -> FundRound:
    return await fund_service.get_round(session=session, municipality_id=municipality.id, year=year)


async def _private_ideas(
    session: SessionDep, ideas: list[FundIdea], year: int, principal: Principal
) -> list[Document]:
    ids = [idea.id for idea in ideas]
    experiments = await fund_service.experiment_ids(session, ids)
    scores = await fund_service.score_summaries(session, ids, principal.user.id)
    return [
        fund_service.private_idea_doc(idea, year, experiments.get(idea.id), scores[idea.id])
        for idea in ideas
    ]


async def _public_ideas(session: SessionDep, ideas: list[FundIdea], year: int) -> list[Document]:
    experiments = await fund_service.experiment_ids(session, [idea.id for idea in ideas])
    return [fund_service.idea_doc(idea, year, experiments.get(idea.id)) for idea in ideas]


@router.get(
    "/rounds/{year}/ideas",
    response_model=Collection[IdeaPublic | Tombstone],
    responses=problems(404, 410, 422),
    summary="The ideas of a round",
)
async def list_fund_ideas(
    year: Year,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    lang: Lang,
    paging: Paging,
    status_: Annotated[IdeaStatus | None, Query(alias="status")] = None,
    submitter_kind: SubmitterKind | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Free text")] = None,
) -> Response:
    """Submitted ideas in the order they arrived, without any personal data. The jury and
    the municipality's admins also get each applicant's contact details, the score
    summary (with their own score) and withdrawn ideas."""
    private = _reader(principal, municipality.id)
    filters = fund_service.IdeaFilters(
        status=status_,
        submitter_kind=submitter_kind,
        q=q,
        modified_since=paging.modified_since,
        include_withdrawn=private,
    )

    # Tombstones describe the public list; the jury's and admins' list keeps withdrawn ideas.
    read = sync_read(
        replace(paging, modified_since=None) if private else paging,
        "fund-ideas",
        retention_days=settings.change_retention_days,
    )

    async def build(etag: str) -> Body:
        fund_round = await _round(session, municipality, year)
        page: Page[FundIdea] = Page(items=[], next_cursor=None, total=0)
        if not read.live_done:
            page = await fund_service.list_ideas(
                session=session,
                fund_round=fund_round,
                filters=filters,
                limit=paging.limit,
                cursor=read.live_cursor,
            )
        if private:
            assert principal is not None
            items = await _private_ideas(session, page.items, year, principal)
            etag = make_etag(etag, doc_etag("fund_ideas", {"id": year, "items": items}, lang))
        else:
            items = await _public_ideas(session, page.items, year)
        synced = await with_tombstones(
            session=session,
            page=Page(items=items, next_cursor=page.next_cursor, total=page.total),
            read=read,
            municipality_id=municipality.id,
            kinds=(fund_service.IDEA_CHANGE,),
            collection="fund-ideas",
            limit=paging.limit,
            within=fund_service.idea_ids(fund_round),
        )
        return _collection(synced.items, synced.next_cursor, synced.total, lang, etag)

    response = await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, KIND)],
        build=build,
        language=lang,
        cacheable=not private,
    )
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.post(
    "/rounds/{year}/ideas",
    status_code=status.HTTP_201_CREATED,
    response_model=IdeaPublic,
    responses=problems(404, 422, 429),
    summary="Submit an idea (no account needed)",
)
async def submit_fund_idea(
    year: Year,
    data: IdeaCreate,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """ "What have you always wanted to do here?" An idea you commit to carry out, with the
    grant you apply for in whole euros. Only while the round is open (422
    `round-not-open`); an amount outside the grant range is a 422 naming
    `body.amount_requested`. Contact details are private. The response and a confirmation
    email carry your own secret link (`manage_url`) for following the idea, reporting on
    the experiment and erasing your details."""
    await limit_public_post(request, settings, "fund-idea")
    fund_round = await _round(session, municipality, year)
    idea, link = await fund_service.submit_and_confirm(
        session=session, fund_round=fund_round, slug=municipality.slug, data=data, settings=settings
    )
    body = fund_service.private_idea_doc(idea, year, None, None) | {"manage_url": link}
    location = f"/api/v1/municipalities/{municipality.slug}/fund/rounds/{year}/ideas/{idea.id}"
    return send(
        json_body(body, etag=f'"fi-{idea.id.hex[:12]}-{idea.version}"'),
        201,
        {"Location": location, **NO_STORE},
    )


async def _by_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    fund_round: FundRound,
    idea_id: uuid.UUID,
    token: str,
) -> FundIdea:
    await limit_manage_link(request, settings)
    return await fund_service.idea_by_token(
        session=session, fund_round=fund_round, idea_id=idea_id, token=token
    )


@router.get(
    "/rounds/{year}/ideas/{idea_id}",
    response_model=IdeaPublic,
    responses=problems(404, 422, 429),
    summary="An idea (public; the submitter's link and the jury see more)",
)
async def get_fund_idea(
    year: Year,
    idea_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    lang: Lang,
    token: Token = None,
) -> Response:
    """With `?token=` from the submitter's link: their own view, with contact details and
    the jury's explanation if it was not funded. The jury and admins see contact details
    and the score summary. Everyone else sees the public idea."""
    if token is not None:
        fund_round = await _round(session, municipality, year)
        idea = await _by_token(request, session, settings, fund_round, idea_id, token)
        experiments = await fund_service.experiment_ids(session, [idea.id])
        document = fund_service.private_idea_doc(idea, year, experiments.get(idea.id), None)
        document["scores"] = None
        return send(_body("fund_idea", document, lang), headers=NO_STORE)
    if _reader(principal, municipality.id):
        assert principal is not None
        fund_round = await _round(session, municipality, year)
        idea = await fund_service.get_idea(session=session, fund_round=fund_round, idea_id=idea_id)
        (document,) = await _private_ideas(session, [idea], year, principal)
        return send(_body("fund_idea", document, lang), headers=NO_STORE)

    async def build(_etag: str) -> Body:
        fund_round = await _round(session, municipality, year)
        idea = await fund_service.get_idea(session=session, fund_round=fund_round, idea_id=idea_id)
        if idea.status == IdeaStatus.withdrawn:
            raise NotFound("No such idea in this round.")
        (document,) = await _public_ideas(session, [idea], year)
        return _body("fund_idea", document, lang)

    return await cache.serve(
        request, session, depends_on=[(municipality.scope, KIND)], build=build, language=lang
    )


async def _submitter_or_admin(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    municipality: MunicipalityDep,
    principal: Principal | None,
    year: int,
    idea_id: uuid.UUID,
    token: str | None,
) -> tuple[FundRound, FundIdea]:
    fund_round = await _round(session, municipality, year)
    if token is not None:
        return fund_round, await _by_token(request, session, settings, fund_round, idea_id, token)
    if principal is None:
        raise Unauthorized("Open the link from your confirmation email, or sign in.")
    require_write(principal, municipality.id, *ADMINS)
    idea = await fund_service.get_idea(
        session=session, fund_round=fund_round, idea_id=idea_id, for_update=True
    )
    return fund_round, idea


@router.post(
    "/rounds/{year}/ideas/{idea_id}/withdraw",
    response_model=IdeaPublic,
    responses=problems(401, 403, 404, 409, 422, 429),
    summary="Withdraw an idea (the submitter's link, or an admin)",
)
async def withdraw_fund_idea(
    year: Year,
    idea_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    data: WithdrawIn | None = None,
    token: Token = None,
) -> Response:
    """Before the decision only (409 `invalid-transition` after it). A withdrawn idea
    leaves the public list; an admin takes down one that breaks the fund's rules."""
    fund_round, idea = await _submitter_or_admin(
        request, session, settings, municipality, principal, year, idea_id, token
    )
    idea = await fund_service.withdraw_idea(
        session=session, fund_round=fund_round, idea=idea, reason=data.reason if data else None
    )
    document = fund_service.private_idea_doc(idea, year, None, None)
    return send(_body("fund_idea", document, None), headers=NO_STORE)


@router.post(
    "/rounds/{year}/ideas/{idea_id}/erase",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 422, 429),
    summary="Erase a submitter's contact details",
)
async def erase_fund_idea(
    year: Year,
    idea_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    token: Token = None,
) -> Response:
    """By the submitter (their link; it stops working) or an admin on request. The idea
    stays public without anyone's name; `settle purge` does this for every idea once its
    round's reporting has ended."""
    _, idea = await _submitter_or_admin(
        request, session, settings, municipality, principal, year, idea_id, token
    )
    await fund_service.erase_idea(session=session, idea=idea)
    return Response(status_code=204)


# ---- the jury --------------------------------------------------------------------------------


@router.get(
    "/rounds/{year}/ideas/{idea_id}/scores",
    response_model=list[ScorePublic],
    responses=problems(401, 403, 404, 422),
    summary="The jury's scores of an idea",
)
async def list_fund_scores(
    year: Year,
    idea_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    require_read(principal, municipality.id, *READERS)
    fund_round = await _round(session, municipality, year)
    idea = await fund_service.get_idea(session=session, fund_round=fund_round, idea_id=idea_id)
    scores = await fund_service.scores_of(session=session, idea=idea)
    return send(
        json_body([fund_service.score_doc(s) for s in scores], etag=f'"scores-{len(scores)}"'),
        headers=NO_STORE,
    )


@router.post(
    "/rounds/{year}/ideas/{idea_id}/scores",
    response_model=ScorePublic,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
    summary="Score an idea (jurors; again to change your score)",
)
async def score_fund_idea(
    year: Year,
    idea_id: uuid.UUID,
    data: ScoreIn,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Your own score, 1–5, with a comment: 201 the first time, 200 when you change it.
    From the day ideas open until the decision (409 `invalid-transition` otherwise)."""
    require_write(principal, municipality.id, *JURY)
    fund_round = await _round(session, municipality, year)
    idea = await fund_service.get_idea(session=session, fund_round=fund_round, idea_id=idea_id)
    score, created = await fund_service.score_idea(
        session=session,
        fund_round=fund_round,
        idea=idea,
        actor=actor_of(principal),
        data=data,
        day=fund_service.today(),
    )
    body = json_body(fund_service.score_doc(score), etag=f'"score-{score.id.hex[:12]}"')
    return send(body, 201 if created else 200, NO_STORE)


@router.get(
    "/rounds/{year}/suggestion",
    response_model=SuggestionPublic,
    responses=problems(401, 403, 404, 422),
    summary="A funded set by score that fits the budget (jury)",
)
async def suggest_fund_decision(
    year: Year,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Highest average score first, each at its requested amount, skipping ideas that no
    longer fit the remaining budget, up to the largest number funded; deterministic.
    `fits_rules` says whether it reaches the smallest number funded. A starting point;
    the jury decides."""
    require_read(principal, municipality.id, *READERS)
    fund_round = await _round(session, municipality, year)
    document = await fund_service.suggestion(session=session, fund_round=fund_round)
    return send(json_body(document, etag=f'"suggestion-{fund_round.id.hex[:8]}"'), headers=NO_STORE)


@router.get(
    "/rounds/{year}/decision",
    response_model=DecisionPublic,
    responses=problems(404, 422),
    summary="The jury's decision",
)
async def get_fund_decision(
    year: Year,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    principal: OptionalPrincipal,
) -> Response:
    """The funded ideas with their grants, and how many were not funded (404 before the
    decision). The jury and admins also see each rejection's explanation."""
    private = _reader(principal, municipality.id)

    async def build(etag: str) -> Body:
        fund_round = await _round(session, municipality, year)
        document = await fund_service.decision_doc(
            session=session, fund_round=fund_round, private=private
        )
        return json_body(document, etag=make_etag(etag, private))

    response = await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, KIND)],
        build=build,
        language=None,
        cacheable=not private,
    )
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.post(
    "/rounds/{year}/decision",
    status_code=status.HTTP_201_CREATED,
    response_model=DecisionPublic,
    responses=problems(401, 403, 404, 409, 422),
    summary="Record the jury's decision (admins)",
)
async def decide_fund_round(
    year: Year,
    data: DecisionIn,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """The funded set with the granted amounts (which may differ from the requests) and a
    reason for each idea not funded. Refused whole, with every broken rule in `errors`
    and the first as the problem's code: `unknown-idea`, `grant-range`, `funded-count`,
    `over-budget`, `explanation-required`. Only after ideas close (409
    `invalid-transition`), once. The municipality's admin records it for the jury; who
    and when are kept. Funded ideas become experiments; every submitter gets an email."""
    require_write(principal, municipality.id, *ADMINS)
    fund_round = await fund_service.get_round(
        session=session, municipality_id=municipality.id, year=year, for_update=True
    )
    fund_round = await fund_service.decide_and_notify(
        session=session, fund_round=fund_round, actor=actor_of(principal), data=data
    )
    document = await fund_service.decision_doc(session=session, fund_round=fund_round, private=True)
    location = f"/api/v1/municipalities/{municipality.slug}/fund/rounds/{year}/decision"
    return send(
        json_body(document, etag=f'"decision-{fund_round.id.hex[:12]}"'),
        201,
        {"Location": location, **NO_STORE},
    )


# ---- experiments -----------------------------------------------------------------------------


@router.get(
    "/experiments",
    response_model=Collection[ExperimentPublic],
    responses=problems(404, 422),
    summary="Funded experiments with their grants and reports",
)
async def list_fund_experiments(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    paging: Paging,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status_: Annotated[ExperimentStatus | None, Query(alias="status")] = None,
) -> Response:
    async def build(etag: str) -> Body:
        page = await fund_service.list_experiments(
            session=session,
            municipality_id=municipality.id,
            limit=paging.limit,
            cursor=paging.cursor,
            year=year,
            status=status_,
            modified_since=paging.modified_since,
        )
        documents = await fund_service.experiment_documents(session, page.items)
        return _collection(documents, page.next_cursor, page.total, None, etag)

    return await cache.serve(
        request, session, depends_on=[(municipality.scope, KIND)], build=build, language=None
    )


async def _experiment_document(
    session: SessionDep, row: tuple[FundExperiment, FundIdea, FundRound]
) -> Document:
    (document,) = await fund_service.experiment_documents(session, [row])
    return document


@router.get(
    "/experiments/{experiment_id}",
    response_model=ExperimentPublic,
    responses=problems(404, 422),
    summary="A funded experiment: grant, progress and final report",
)
async def get_fund_experiment(
    experiment_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
) -> Response:
    async def build(_etag: str) -> Body:
        row = await fund_service.get_experiment(
            session=session, municipality_id=municipality.id, experiment_id=experiment_id
        )
        return _body("fund_experiment", await _experiment_document(session, row), None)

    return await cache.serve(
        request, session, depends_on=[(municipality.scope, KIND)], build=build, language=None
    )


async def _experiment_writer(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    municipality: MunicipalityDep,
    principal: Principal | None,
    experiment_id: uuid.UUID,
    token: str | None,
) -> tuple[tuple[FundExperiment, FundIdea, FundRound], str | None, bool]:
    """The experiment and who writes: an admin (their name) or the submitter's link
    (the organisation's name, or nobody's for a private person)."""
    if token is None and principal is None:
        raise Unauthorized("Open the link from your confirmation email, or sign in.")
    if token is None:
        assert principal is not None
        require_write(principal, municipality.id, *ADMINS)
    else:
        await limit_manage_link(request, settings)
    row = await fund_service.get_experiment(
        session=session,
        municipality_id=municipality.id,
        experiment_id=experiment_id,
        for_update=True,
    )
    if token is not None:
        idea = row[1]
        if not fund_service.token_matches(idea, token):
            raise NotFound("No such experiment, or the link is no longer valid.")
        return row, idea.organisation_name, True
    assert principal is not None
    return row, principal.user.display_name, False


@router.patch(
    "/experiments/{experiment_id}",
    response_model=ExperimentPublic,
    responses=problems(401, 403, 404, 412, 422, 428, 429),
    summary="Progress status, spending and the final report",
)
async def update_fund_experiment(
    experiment_id: uuid.UUID,
    data: ExperimentUpdate,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    if_match: IfMatch = None,
    token: Token = None,
) -> Response:
    """Admins, or the submitter with their link (`?token=`): status and `final_report`
    (a summary with links and media). What was `spent` (EUR) is recorded by admins only.
    Send If-Match."""
    row, author, by_submitter = await _experiment_writer(
        request, session, settings, municipality, principal, experiment_id, token
    )
    check_doc_if_match(if_match, "fund_experiment", await _experiment_document(session, row))
    experiment, idea, fund_round = row
    await fund_service.update_experiment(
        session=session,
        experiment=experiment,
        author=author or "the submitter",
        data=data,
        by_submitter=by_submitter,
    )
    document = await _experiment_document(session, row)
    return send(_body("fund_experiment", document, None), headers=NO_STORE)


@router.post(
    "/experiments/{experiment_id}/entries",
    status_code=status.HTTP_201_CREATED,
    response_model=ExperimentPublic,
    responses=problems(401, 403, 404, 422, 429),
    summary="Add a dated progress entry",
)
async def add_fund_experiment_entry(
    experiment_id: uuid.UUID,
    data: EntryIn,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    token: Token = None,
) -> Response:
    """Admins, or the submitter with their link (`?token=`). Text, links and media URLs;
    public at once. Returns the experiment with its entries."""
    row, author, by_submitter = await _experiment_writer(
        request, session, settings, municipality, principal, experiment_id, token
    )
    await fund_service.add_entry(
        session=session, experiment=row[0], data=data, author=author, by_submitter=by_submitter
    )
    document = await _experiment_document(session, row)
    return send(_body("fund_experiment", document, None), 201, NO_STORE)


@router.delete(
    "/experiments/{experiment_id}/entries/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 422),
    summary="Remove a progress entry (admins)",
)
async def delete_fund_experiment_entry(
    experiment_id: uuid.UUID,
    entry_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    require_write(principal, municipality.id, *ADMINS)
    experiment, _, _ = await fund_service.get_experiment(
        session=session,
        municipality_id=municipality.id,
        experiment_id=experiment_id,
        for_update=True,
    )
    await fund_service.delete_entry(session=session, experiment=experiment, entry_id=entry_id)
    return Response(status_code=204)
