"""The experiment fund and the roadmap through GraphQL: the same data, rules and problem
codes as REST, and never an applicant's contact details."""

from typing import Any

import httpx

from tests.test_fund import (
    ADMIN,
    JUROR,
    PERSONAL,
    close_call,
    make_round,
    round_with_ideas,
    schedule_for,
)
from tests.test_graphql import gql

ROUND = """
query($m: String!, $year: Int!) {
  fundRound(municipality: $m, year: $year) {
    year title(lang: EN) titleI18n { fi } call(lang: EN) phase rulesLocked currency
    rules { budget grantMin grantMax minFunded maxFunded }
    schedule { ideasOpenFrom reportingUntil }
    totals { ideas requested granted spent remaining }
  }
}"""

SUBMIT = """
mutation($m: String!, $year: Int!, $input: FundIdeaInput!) {
  submitFundIdea(municipality: $m, year: $year, input: $input) {
    manageUrl idea { id status title amountRequested hashtag organisationName submitterKind }
  }
}"""

IDEAS = """
query($m: String!, $year: Int!) {
  fundIdeas(municipality: $m, year: $year) {
    total items { id title status amountRequested grantedAmount experimentId }
  }
}"""

SCORE = """
mutation($m: String!, $year: Int!, $id: ID!, $score: Int!) {
  scoreFundIdea(municipality: $m, year: $year, id: $id, score: $score) { juror score }
}"""

DECIDE = """
mutation($m: String!, $year: Int!, $input: FundDecisionInput!) {
  decideFundRound(municipality: $m, year: $year, input: $input) {
    totalGranted notFunded decidedBy funded { title grantedAmount experimentId }
  }
}"""

IDEA_INPUT = {
    "title": "Pilkkikilpailu",
    "description": "Järjestämme pilkkikilpailun Kemijärven jäällä maaliskuussa.",
    "submitterKind": "association",
    "organisationName": "Kemijärven Pilkkijät ry",
    "amountRequested": 300,
    "hashtag": "pilkkikemijärvi",
    "contactName": PERSONAL[0],
    "contactEmail": PERSONAL[1],
    "consent": True,
}


async def test_rounds_and_the_seeded_budgets(client: httpx.AsyncClient) -> None:
    body = await gql(client, ROUND, m="kemijarvi", year=2024)
    data = body["data"]["fundRound"]
    assert data["title"] == "Experiment fund 2024"
    assert data["rules"] == {
        "budget": 5000,
        "grantMin": 100,
        "grantMax": 1000,
        "minFunded": 3,
        "maxFunded": 8,
    }
    assert data["phase"] == "closed"
    assert data["currency"] == "EUR"
    listed = await gql(client, '{ fundRounds(municipality: "kemijarvi") { total items { year } } }')
    assert [r["year"] for r in listed["data"]["fundRounds"]["items"]] == [2025, 2024, 2023]
    missing = await gql(client, ROUND, m="kemijarvi", year=2031)
    assert missing["data"]["fundRound"] is None


async def test_submitting_an_idea_and_the_public_list_without_personal_data(
    client: httpx.AsyncClient, auth: Any
) -> None:
    await make_round(client, auth)
    body = await gql(client, SUBMIT, m="kemijarvi", year=2031, input=IDEA_INPUT)
    assert "errors" not in body, body
    submitted = body["data"]["submitFundIdea"]
    assert submitted["idea"]["hashtag"] == "#pilkkikemijärvi"
    assert "token=" in submitted["manageUrl"]
    listed = await gql(client, IDEAS, m="kemijarvi", year=2031)
    assert listed["data"]["fundIdeas"]["total"] == 1
    for secret in PERSONAL:
        assert secret not in str(listed)
    # Contact details are not even in the schema's idea type.
    leak = await gql(
        client, '{ fundIdeas(municipality: "kemijarvi", year: 2031) { items { contactEmail } } }'
    )
    assert leak["errors"][0]["extensions"]["code"] == "bad-request"


async def test_submission_problems_carry_the_rest_codes(
    client: httpx.AsyncClient, auth: Any
) -> None:
    await make_round(client, auth, 2031, "upcoming")
    closed = await gql(client, SUBMIT, m="kemijarvi", year=2031, input=IDEA_INPUT)
    assert closed["errors"][0]["extensions"]["code"] == "round-not-open"
    assert closed["data"] is None
    await make_round(client, auth, 2032, "open")
    too_much = await gql(
        client, SUBMIT, m="kemijarvi", year=2032, input=IDEA_INPUT | {"amountRequested": 1500}
    )
    extensions = too_much["errors"][0]["extensions"]
    assert extensions["code"] == "validation-failed"
    assert extensions["errors"][0]["field"] == "input.amount_requested"
    assert extensions["errors"][0]["code"] == "grant-range"
    no_consent = await gql(
        client, SUBMIT, m="kemijarvi", year=2032, input=IDEA_INPUT | {"consent": False}
    )
    assert no_consent["errors"][0]["extensions"]["errors"][0]["field"] == "input.consent"
    unknown = await gql(client, SUBMIT, m="kemijarvi", year=2040, input=IDEA_INPUT)
    assert unknown["errors"][0]["extensions"]["code"] == "not-found"
    assert (await gql(client, IDEAS, m="kemijarvi", year=2032))["data"]["fundIdeas"]["total"] == 0


async def test_jurors_score_and_an_admin_decides_with_the_rules_checked(
    client: httpx.AsyncClient, auth: Any
) -> None:
    ideas = await round_with_ideas(client, auth, [800, 700, 600])
    scored = await gql(
        client, SCORE, auth(JUROR), m="kemijarvi", year=2031, id=ideas[0]["id"], score=4
    )
    assert scored["data"]["scoreFundIdea"] == {"juror": "kemijarvi-juror", "score": 4}
    not_juror = await gql(
        client, SCORE, auth(ADMIN), m="kemijarvi", year=2031, id=ideas[0]["id"], score=4
    )
    assert not_juror["errors"][0]["extensions"]["code"] == "forbidden"
    anonymous = await gql(client, SCORE, m="kemijarvi", year=2031, id=ideas[0]["id"], score=4)
    assert anonymous["errors"][0]["extensions"]["code"] == "unauthorized"
    bad = await gql(
        client, SCORE, auth(JUROR), m="kemijarvi", year=2031, id=ideas[0]["id"], score=9
    )
    assert bad["errors"][0]["extensions"]["errors"][0]["field"] == "input.score"
    await close_call(client, auth)
    funded = [{"ideaId": ideas[0]["id"], "amount": 800}, {"ideaId": ideas[1]["id"], "amount": 700}]
    over = {"funded": [*funded, {"ideaId": ideas[2]["id"], "amount": 600}]}
    refused = await gql(client, DECIDE, auth(ADMIN), m="kemijarvi", year=2031, input=over)
    extensions = refused["errors"][0]["extensions"]
    assert extensions["code"] == "over-budget"
    assert extensions["status"] == 422
    assert extensions["errors"][0]["field"] == "input.funded"
    unexplained = await gql(
        client, DECIDE, auth(ADMIN), m="kemijarvi", year=2031, input={"funded": funded}
    )
    assert unexplained["errors"][0]["extensions"]["code"] == "explanation-required"
    by_juror = await gql(
        client,
        DECIDE,
        auth(JUROR),
        m="kemijarvi",
        year=2031,
        input={"funded": funded, "generalExplanation": "Budjetti."},
    )
    assert by_juror["errors"][0]["extensions"]["code"] == "forbidden"
    decided = await gql(
        client,
        DECIDE,
        auth(ADMIN),
        m="kemijarvi",
        year=2031,
        input={
            "funded": funded,
            "rejected": [{"ideaId": ideas[2]["id"], "explanation": "Liian samanlainen."}],
        },
    )
    assert "errors" not in decided, decided
    result = decided["data"]["decideFundRound"]
    assert result["totalGranted"] == 1500
    assert result["notFunded"] == 1
    assert result["decidedBy"] == "kemijarvi-admin"
    again = await gql(
        client, DECIDE, auth(ADMIN), m="kemijarvi", year=2031, input={"funded": funded}
    )
    assert again["errors"][0]["extensions"]["code"] == "invalid-transition"
    # One field per operation: top-level fields run concurrently on one database session.
    public = await gql(
        client,
        'query { fundDecision(municipality: "kemijarvi", year: 2031) { totalGranted notFunded } }',
    )
    experiments = await gql(
        client,
        """query { fundExperiments(municipality: "kemijarvi", year: 2031) {
                     total items { title grant status entries { text } } } }""",
    )
    assert public["data"]["fundDecision"] == {"totalGranted": 1500, "notFunded": 1}
    assert [(e["title"], e["grant"]) for e in experiments["data"]["fundExperiments"]["items"]] == [
        ("Idea 1", 800),
        ("Idea 2", 700),
    ]


async def test_creating_a_round_needs_an_admin_and_valid_rules(
    client: httpx.AsyncClient, auth: Any
) -> None:
    mutation = """
    mutation($input: FundRoundInput!) {
      createFundRound(municipality: "kemijarvi", input: $input) { year phase rules { budget } }
    }"""
    schedule = {
        "ideasOpenFrom": schedule_for("upcoming")["ideas_open_from"],
        "ideasOpenUntil": schedule_for("upcoming")["ideas_open_until"],
        "juryFrom": schedule_for("upcoming")["jury_from"],
        "juryUntil": schedule_for("upcoming")["jury_until"],
        "resultsOn": schedule_for("upcoming")["results_on"],
        "reportingUntil": schedule_for("upcoming")["reporting_until"],
    }
    good = {"year": 2033, "rules": {"budget": 7000}, "schedule": schedule}
    created = await gql(client, mutation, auth(ADMIN), input=good)
    assert created["data"]["createFundRound"] == {
        "year": 2033,
        "phase": "upcoming",
        "rules": {"budget": 7000},
    }
    duplicate = await gql(client, mutation, auth(ADMIN), input=good)
    assert duplicate["errors"][0]["extensions"]["code"] == "duplicate"
    bad = await gql(
        client, mutation, auth(ADMIN), input=good | {"year": 2034, "rules": {"budget": 50}}
    )
    assert bad["errors"][0]["extensions"]["errors"][0]["field"] == "input.rules"
    posio = await gql(client, mutation, auth("posio-admin"), input=good | {"year": 2035})
    assert posio["errors"][0]["extensions"]["code"] == "forbidden"


async def test_the_roadmap_in_english(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        """{ roadmap(municipality: "kemijarvi") {
              key startsOn endsOn timing status title(lang: EN) goals(lang: EN)
              pilots { key title(lang: EN) status outcome }
              lastUpdate { by fields } } }""",
    )
    phases = body["data"]["roadmap"]
    assert [p["key"] for p in phases] == ["2022-h1", "2022-h2", "2023", "2024"]
    assert phases[0]["pilots"][0]["title"] == (
        "Joint recruitment campaign of Kemijärvi's social and health employers"
    )
    assert (
        phases[1]["goals"][2]
        == "Money earmarked for experiments in the 2023 budget, target 4000 EUR"
    )
    reviews = await gql(client, '{ roadmapReviews(municipality: "kemijarvi") { year } }')
    assert reviews["data"]["roadmapReviews"] == []
