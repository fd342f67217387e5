"""The experiment fund through the REST API: rounds and their locked rules, ideas
without accounts and without personal data in public, the jury's scores, the decision's
rules, experiments and their reports, access and erasure."""

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.time import HELSINKI, utcnow
from app.models.fund import FundIdea, FundRound, RoundPhase
from app.models.outbox import OutboxEmail
from app.services import fund as fund_service
from app.services.privacy import purge
from tests.conftest import assert_problem

BASE = "/api/v1/municipalities/kemijarvi/fund"
POSIO = "/api/v1/municipalities/posio/fund"
ADMIN, JUROR = "kemijarvi-admin", "kemijarvi-juror"
RULES = {"budget": 2000, "grant_min": 100, "grant_max": 1000, "min_funded": 2, "max_funded": 3}
PERSONAL = ("Maija Kyläläinen", "maija@example.org", "+358401234567")


def helsinki_today() -> date:
    return datetime.now(HELSINKI).date()


def schedule_for(phase: str) -> dict[str, str]:
    """Dates around today that put a new round in `phase`."""
    offsets = {
        "upcoming": (10, 40, 41, 50, 55, 300),
        "open": (-5, 10, 11, 20, 25, 200),
        "jury": (-40, -1, 0, 10, 15, 200),
        "closed": (-400, -370, -369, -360, -355, -1),
    }[phase]
    names = (
        "ideas_open_from",
        "ideas_open_until",
        "jury_from",
        "jury_until",
        "results_on",
        "reporting_until",
    )
    today = helsinki_today()
    return {n: (today + timedelta(days=d)).isoformat() for n, d in zip(names, offsets, strict=True)}


def round_body(year: int = 2031, phase: str = "open", **rules: int) -> dict[str, Any]:
    return {
        "year": year,
        "call": {"fi": "Mitä olet aina halunnut tehdä?", "en": "What have you always wanted?"},
        "hashtags": ["#kemijärvi"],
        "rules": RULES | rules,
        "schedule": schedule_for(phase),
    }


async def make_round(
    client: httpx.AsyncClient, auth: Any, year: int = 2031, phase: str = "open", **rules: int
) -> dict[str, Any]:
    response = await client.post(
        f"{BASE}/rounds", json=round_body(year, phase, **rules), headers=auth(ADMIN)
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def idea_body(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Kylätalon kesäkahvila",
        "description": "Avaamme kylätalolle kesäkahvilan viikonloppuisin ja kutsumme "
        "mökkiläiset ja uudet asukkaat mukaan.",
        "submitter_kind": "village_association",
        "organisation_name": "Luusuan kyläyhdistys",
        "amount_requested": 400,
        "hashtag": "#luusuankesä",
        "contact_name": PERSONAL[0],
        "contact_email": PERSONAL[1],
        "contact_phone": "040 123 4567",
        "consent": True,
        **changes,
    }


async def submit(client: httpx.AsyncClient, year: int = 2031, **changes: Any) -> dict[str, Any]:
    response = await client.post(f"{BASE}/rounds/{year}/ideas", json=idea_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


async def patch_round(
    client: httpx.AsyncClient, auth: Any, year: int, body: dict[str, Any], who: str = ADMIN
) -> httpx.Response:
    current = await client.get(f"{BASE}/rounds/{year}")
    headers = {**auth(who), "If-Match": current.headers["etag"]}
    return await client.patch(f"{BASE}/rounds/{year}", json=body, headers=headers)


async def close_call(client: httpx.AsyncClient, auth: Any, year: int = 2031) -> None:
    """The admin closes the call for ideas yesterday: the round is with the jury."""
    schedule = (await client.get(f"{BASE}/rounds/{year}")).json()["schedule"]
    today = helsinki_today()
    schedule |= {
        "ideas_open_until": (today - timedelta(days=1)).isoformat(),
        "jury_from": today.isoformat(),
    }
    response = await patch_round(client, auth, year, {"schedule": schedule})
    assert response.status_code == 200, response.text
    assert response.json()["phase"] == "jury"


async def round_with_ideas(
    client: httpx.AsyncClient, auth: Any, amounts: list[int], year: int = 2031, **rules: int
) -> list[dict[str, Any]]:
    await make_round(client, auth, year, **rules)
    return [
        await submit(client, year, title=f"Idea {i + 1}", amount_requested=amount)
        for i, amount in enumerate(amounts)
    ]


def decision(ideas: list[dict[str, Any]], amounts: list[int], **extra: Any) -> dict[str, Any]:
    return {
        "funded": [
            {"idea_id": idea["id"], "amount": amount}
            for idea, amount in zip(ideas, amounts, strict=False)
        ],
        "general_explanation": "Raha ei riittänyt kaikille hyville ideoille.",
        **extra,
    }


async def outbox(session: AsyncSession, prefix: str) -> list[OutboxEmail]:
    rows = await session.exec(select(OutboxEmail).order_by(col(OutboxEmail.created_at)))
    return [row for row in rows if row.dedupe_key.startswith(prefix)]


# ---- the seed and the phases ------------------------------------------------------------------


async def test_kemijarvis_rounds_2023_to_2025_are_seeded_with_their_budgets(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{BASE}/rounds", params={"lang": "en"})
    assert response.status_code == 200
    body = response.json()
    assert [(r["year"], r["rules"]["budget"]) for r in body["items"]] == [
        (2025, 6000),
        (2024, 5000),
        (2023, 4000),
    ]
    for item in body["items"]:
        assert item["rules"] | {"budget": 0} == {
            "budget": 0,
            "grant_min": 100,
            "grant_max": 1000,
            "min_funded": 3,
            "max_funded": 8,
        }
        assert item["currency"] == "EUR"
        assert item["phase"] == "closed"
        assert item["rules_locked"] is True
        assert item["call"].startswith("What have you always wanted to do in Kemijärvi?")
        assert item["totals"]["granted"] == 0
    assert body["items"][0]["title"] == "Experiment fund 2025"
    again = await client.get(
        f"{BASE}/rounds", params={"lang": "en"}, headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    posio = (await client.get(f"{POSIO}/rounds")).json()
    assert posio["total"] == 0


def test_phases_follow_the_dates_and_the_decision() -> None:
    fund_round = FundRound(
        municipality_id=uuid.uuid4(),
        year=2031,
        title={"fi": "x"},
        budget=2000,
        grant_min=100,
        grant_max=1000,
        min_funded=2,
        max_funded=3,
        ideas_open_from=date(2031, 2, 1),
        ideas_open_until=date(2031, 3, 31),
        jury_from=date(2031, 4, 1),
        jury_until=date(2031, 4, 20),
        results_on=date(2031, 5, 1),
        reporting_until=date(2031, 12, 31),
    )
    phase = fund_service.phase_of
    assert phase(fund_round, date(2031, 1, 31)) == RoundPhase.upcoming
    assert phase(fund_round, date(2031, 2, 1)) == RoundPhase.open
    assert phase(fund_round, date(2031, 3, 31)) == RoundPhase.open
    assert phase(fund_round, date(2031, 4, 1)) == RoundPhase.jury
    assert phase(fund_round, date(2031, 6, 1)) == RoundPhase.jury  # late jury: still deciding
    assert phase(fund_round, date(2032, 1, 1)) == RoundPhase.closed  # never decided
    assert not fund_service.rules_locked(fund_round, date(2031, 1, 31))
    assert fund_service.rules_locked(fund_round, date(2031, 2, 1))
    fund_round.decided_at = utcnow()
    assert phase(fund_round, date(2031, 4, 15)) == RoundPhase.results
    assert phase(fund_round, date(2031, 5, 1)) == RoundPhase.results
    assert phase(fund_round, date(2031, 5, 2)) == RoundPhase.reporting
    assert phase(fund_round, date(2031, 12, 31)) == RoundPhase.reporting
    assert phase(fund_round, date(2032, 1, 1)) == RoundPhase.closed


async def test_rounds_are_in_the_phase_their_dates_say(
    client: httpx.AsyncClient, auth: Any
) -> None:
    for year, phase in enumerate(("upcoming", "open", "jury", "closed"), start=2031):
        created = await make_round(client, auth, year, phase)
        assert created["phase"] == phase
        assert created["rules_locked"] is (phase != "upcoming")
        assert created["timezone"] == "Europe/Helsinki"
    assert (await client.get(f"{BASE}/rounds/2033")).json()["phase"] == "jury"


# ---- rounds: writing, rules, access -----------------------------------------------------------


async def test_admin_opens_a_round_once_a_year(client: httpx.AsyncClient, auth: Any) -> None:
    created = await client.post(f"{BASE}/rounds", json=round_body(), headers=auth(ADMIN))
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{BASE}/rounds/2031"
    body = created.json()
    assert body["title"] == {
        "fi": "Kokeiluraha 2031",
        "sv": "Försökspeng 2031",
        "en": "Experiment fund 2031",
    }
    assert body["updated_by"] == "kemijarvi-admin"
    assert body["totals"] == {
        "ideas": 0,
        "requested": 0,
        "funded": 0,
        "granted": 0,
        "spent": 0,
        "remaining": 2000,
    }
    again = await client.post(f"{BASE}/rounds", json=round_body(), headers=auth(ADMIN))
    assert_problem(again, 409, "duplicate")
    # Another municipality may have its own round for the same year.
    posio = await client.post(f"{POSIO}/rounds", json=round_body(), headers=auth("posio-admin"))
    assert posio.status_code == 201


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), ("kemijarvi-editor", 403), ("kemijarvi-juror", 403), ("posio-admin", 403)],
)
async def test_only_the_municipalitys_admins_open_rounds(
    client: httpx.AsyncClient, auth: Any, who: str | None, status: int
) -> None:
    headers = auth(who) if who else {}
    response = await client.post(f"{BASE}/rounds", json=round_body(), headers=headers)
    assert_problem(response, status)
    assert (await client.get(f"{BASE}/rounds/2031")).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rules": RULES | {"grant_min": 1200}}, "body.rules"),
        ({"rules": RULES | {"grant_max": 3000}}, "body.rules"),
        ({"rules": RULES | {"min_funded": 5, "max_funded": 4}}, "body.rules"),
        ({"rules": RULES | {"min_funded": 3, "grant_min": 800}}, "body.rules"),
        ({"rules": RULES | {"budget": 0}}, "body.rules.budget"),
        ({"rules": RULES | {"budget": "lots"}}, "body.rules.budget"),
        ({"schedule": schedule_for("open") | {"jury_from": "2000-01-01"}}, "body.schedule"),
        (
            {"schedule": schedule_for("open") | {"ideas_open_until": "soon"}},
            "body.schedule.ideas_open_until",
        ),
        ({"title": "Kokeiluraha"}, "body.title"),
        ({"year": 1999}, "body.year"),
        ({"hashtags": ["not a tag"]}, "body.hashtags[0]"),
        ({"budget": 2000}, "body.budget"),
    ],
)
async def test_a_bad_round_is_422_naming_the_field_and_nothing_is_created(
    client: httpx.AsyncClient, auth: Any, change: dict[str, Any], field: str
) -> None:
    response = await client.post(f"{BASE}/rounds", json=round_body() | change, headers=auth(ADMIN))
    body = assert_problem(response, 422, "validation-failed")
    assert field in [e["field"] for e in body["errors"]], body["errors"]
    assert (await client.get(f"{BASE}/rounds")).json()["total"] == 3


async def test_rules_are_locked_once_ideas_are_open(client: httpx.AsyncClient, auth: Any) -> None:
    await make_round(client, auth, 2031, "open")
    locked = await patch_round(client, auth, 2031, {"rules": RULES | {"budget": 3000}})
    body = assert_problem(locked, 409, "round-locked")
    assert "budget" in body["detail"]
    moved = schedule_for("open") | {"ideas_open_from": helsinki_today().isoformat()}
    assert_problem(await patch_round(client, auth, 2031, {"schedule": moved}), 409, "round-locked")
    # The same rules sent back, new texts and a longer call are fine.
    extended = schedule_for("open") | {
        "ideas_open_until": (helsinki_today() + timedelta(days=15)).isoformat(),
        "jury_from": (helsinki_today() + timedelta(days=16)).isoformat(),
    }
    ok = await patch_round(
        client,
        auth,
        2031,
        {
            "rules": RULES,
            "title": {"fi": "Kokeiluraha 2031", "en": "Fund 2031"},
            "schedule": extended,
        },
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["title"]["en"] == "Fund 2031"
    assert ok.json()["rules"]["budget"] == 2000
    # Before ideas open, the rules can still change.
    await make_round(client, auth, 2032, "upcoming")
    changed = await patch_round(client, auth, 2032, {"rules": RULES | {"budget": 3000}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["rules"]["budget"] == 3000


async def test_round_updates_need_the_current_etag(client: httpx.AsyncClient, auth: Any) -> None:
    await make_round(client, auth, 2032, "upcoming")
    url = f"{BASE}/rounds/2032"
    change = {"hashtags": ["#kokeilu"]}
    assert_problem(await client.patch(url, json=change, headers=auth(ADMIN)), 428)
    etag = (await client.get(url, params={"lang": "en"})).headers["etag"]
    first = await client.patch(url, json=change, headers={**auth(ADMIN), "If-Match": etag})
    assert first.status_code == 200, first.text
    stale = await client.patch(url, json=change, headers={**auth(ADMIN), "If-Match": etag})
    assert_problem(stale, 412, "precondition-failed")
    assert_problem(await patch_round(client, auth, 2032, change, who="posio-admin"), 403)
    assert_problem(await patch_round(client, auth, 2032, change, who=JUROR), 403)


async def test_a_round_is_deleted_only_while_it_has_no_ideas(
    client: httpx.AsyncClient, auth: Any
) -> None:
    await make_round(client, auth, 2031)
    await submit(client)
    etag = (await client.get(f"{BASE}/rounds/2031")).headers["etag"]
    headers = {**auth(ADMIN), "If-Match": etag}
    assert_problem(await client.delete(f"{BASE}/rounds/2031", headers=headers), 409, "round-locked")
    await make_round(client, auth, 2032, "upcoming")
    etag = (await client.get(f"{BASE}/rounds/2032")).headers["etag"]
    headers = {**auth(ADMIN), "If-Match": etag}
    assert (await client.delete(f"{BASE}/rounds/2032", headers=headers)).status_code == 204
    assert_problem(await client.get(f"{BASE}/rounds/2032"), 404)


# ---- ideas ------------------------------------------------------------------------------------


async def test_an_idea_is_public_without_personal_data(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    await make_round(client, auth)
    created = await client.post(f"{BASE}/rounds/2031/ideas", json=idea_body())
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    idea = created.json()
    assert idea["status"] == "submitted"
    assert idea["contact"]["phone"] == "+358401234567"
    assert idea["hashtag"] == "#luusuankesä"
    token = token_of(idea["manage_url"])
    # Email confirmation with the submitter's own link.
    (email,) = await outbox(session, f"fund-idea:{idea['id']}:received")
    assert email.to_address == PERSONAL[1]
    assert idea["manage_url"] in email.body_text
    # The public sees the idea, never who sent it.
    for response in (
        await client.get(f"{BASE}/rounds/2031/ideas"),
        await client.get(f"{BASE}/rounds/2031/ideas/{idea['id']}"),
        await client.get(f"{BASE}/rounds/2031/ideas", headers=auth("posio-admin")),
        await client.get(f"{BASE}/rounds/2031/ideas", headers=auth("kemijarvi-editor")),
        await client.get("/api/v1/municipalities/kemijarvi/fund/rounds/2031"),
    ):
        assert response.status_code == 200, response.text
        for secret in (*PERSONAL, token, "contact"):
            assert secret not in response.text
    public = (await client.get(f"{BASE}/rounds/2031/ideas")).json()
    assert public["total"] == 1
    assert public["items"][0]["organisation_name"] == "Luusuan kyläyhdistys"
    assert (await client.get(f"{BASE}/rounds/2031")).json()["totals"]["requested"] == 400
    # The jury and the admins see the contact details; the submitter through the link.
    for who in (JUROR, ADMIN):
        staff = await client.get(f"{BASE}/rounds/2031/ideas", headers=auth(who))
        assert staff.headers["cache-control"] == "no-store"
        assert staff.json()["items"][0]["contact"]["email"] == PERSONAL[1]
    own = await client.get(f"{BASE}/rounds/2031/ideas/{idea['id']}", params={"token": token})
    assert own.json()["contact"]["name"] == PERSONAL[0]
    assert own.json()["scores"] is None
    wrong = await client.get(f"{BASE}/rounds/2031/ideas/{idea['id']}", params={"token": "x" * 43})
    assert_problem(wrong, 404)


async def test_a_private_persons_name_is_not_shown_as_an_organisation(
    client: httpx.AsyncClient, auth: Any
) -> None:
    await make_round(client, auth)
    idea = await submit(client, submitter_kind="person", organisation_name="Maija K")
    assert idea["organisation_name"] is None
    company = await client.post(
        f"{BASE}/rounds/2031/ideas",
        json=idea_body(submitter_kind="company", organisation_name=None),
    )
    body = assert_problem(company, 422, "validation-failed")
    assert "organisation_name" in body["errors"][0]["message"]


@pytest.mark.parametrize("phase", ["upcoming", "jury", "closed"])
async def test_ideas_outside_the_open_phase_are_422_round_not_open(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession, phase: str
) -> None:
    await make_round(client, auth, 2031, phase)
    response = await client.post(f"{BASE}/rounds/2031/ideas", json=idea_body())
    body = assert_problem(response, 422, "round-not-open")
    assert body["phase"] == phase
    assert body["ideas_open_from"] == schedule_for(phase)["ideas_open_from"]
    assert (await session.exec(select(FundIdea))).first() is None
    assert await outbox(session, "fund-idea:") == []


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "greater_than"),
        (-50, "greater_than"),
        (99, "grant-range"),
        (1001, "grant-range"),
        (5000, "grant-range"),
        ("paljon", "int_parsing"),
        (12.5, "int_from_float"),
    ],
)
async def test_a_wrong_amount_is_422_naming_amount_requested(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession, amount: Any, code: str
) -> None:
    await make_round(client, auth)
    response = await client.post(
        f"{BASE}/rounds/2031/ideas", json=idea_body(amount_requested=amount)
    )
    body = assert_problem(response, 422, "validation-failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("body.amount_requested", code)]
    assert (await session.exec(select(FundIdea))).first() is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent": False}, "body.consent"),
        ({"hashtag": "two words"}, "body.hashtag"),
        ({"contact_email": "not-an-email"}, "body.contact_email"),
        ({"contact_phone": "12"}, "body.contact_phone"),
        ({"submitter_kind": "government"}, "body.submitter_kind"),
        ({"title": ""}, "body.title"),
        ({"language": "de"}, "body.language"),
        ({"extra": "field"}, "body.extra"),
    ],
)
async def test_bad_idea_input_is_422_naming_the_field(
    client: httpx.AsyncClient, auth: Any, change: dict[str, Any], field: str
) -> None:
    await make_round(client, auth)
    response = await client.post(f"{BASE}/rounds/2031/ideas", json=idea_body(**change))
    body = assert_problem(response, 422, "validation-failed")
    assert field in [e["field"] for e in body["errors"]]
    assert (await client.get(f"{BASE}/rounds/2031/ideas")).json()["total"] == 0


async def test_idea_submissions_are_rate_limited(client: httpx.AsyncClient, auth: Any) -> None:
    await make_round(client, auth)
    statuses = [
        (await client.post(f"{BASE}/rounds/2031/ideas", json=idea_body())).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [201] * 20
    assert statuses[20] == 429


async def test_ideas_are_searched_and_filtered(client: httpx.AsyncClient, auth: Any) -> None:
    await make_round(client, auth)
    await submit(
        client, title="Pilkkikisat jäällä", description="Järjestämme pilkkikisat Kemijärven jäällä."
    )
    await submit(
        client, title="Kylätalon kahvila", submitter_kind="company", organisation_name="Oy"
    )
    found = (await client.get(f"{BASE}/rounds/2031/ideas", params={"q": "KEMIJÄRVEN"})).json()
    assert [i["title"] for i in found["items"]] == ["Pilkkikisat jäällä"]
    companies = await client.get(f"{BASE}/rounds/2031/ideas", params={"submitter_kind": "company"})
    assert companies.json()["total"] == 1
    page = (await client.get(f"{BASE}/rounds/2031/ideas", params={"limit": 1})).json()
    assert page["total"] == 2
    rest = await client.get(
        f"{BASE}/rounds/2031/ideas", params={"limit": 1, "cursor": page["next_cursor"]}
    )
    assert rest.json()["items"][0]["title"] == "Kylätalon kahvila"
    assert_problem(await client.get(f"{BASE}/rounds/2031/ideas", params={"cursor": "bad"}), 422)


async def test_withdrawing_an_idea_by_link_or_by_an_admin(
    client: httpx.AsyncClient, auth: Any
) -> None:
    await make_round(client, auth)
    mine = await submit(client)
    spam = await submit(client, title="Osta halpoja kelloja")
    url = f"{BASE}/rounds/2031/ideas/{mine['id']}/withdraw"
    withdrawn = await client.post(url, params={"token": token_of(mine["manage_url"])})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert_problem(await client.post(url, params={"token": token_of(mine["manage_url"])}), 409)
    spam_url = f"{BASE}/rounds/2031/ideas/{spam['id']}/withdraw"
    assert_problem(await client.post(spam_url), 401)
    assert_problem(await client.post(spam_url, headers=auth(JUROR)), 403)
    taken = await client.post(spam_url, json={"reason": "Mainos, ei kokeilu."}, headers=auth(ADMIN))
    assert taken.json()["withdrawn_reason"] == "Mainos, ei kokeilu."
    assert (await client.get(f"{BASE}/rounds/2031/ideas")).json()["total"] == 0
    assert_problem(await client.get(f"{BASE}/rounds/2031/ideas/{spam['id']}"), 404)
    staff = await client.get(f"{BASE}/rounds/2031/ideas", headers=auth(ADMIN))
    assert staff.json()["total"] == 2


# ---- erasure ----------------------------------------------------------------------------------


async def test_the_submitter_erases_their_details_and_the_link_stops_working(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    await make_round(client, auth)
    idea = await submit(client)
    token = token_of(idea["manage_url"])
    url = f"{BASE}/rounds/2031/ideas/{idea['id']}"
    assert (await client.post(f"{url}/erase", params={"token": token})).status_code == 204
    assert_problem(await client.get(url, params={"token": token}), 404)
    staff = (await client.get(url, headers=auth(ADMIN))).json()
    assert staff["contact"] == {"name": None, "email": None, "phone": None}
    assert staff["erased"] is True
    assert staff["title"] == "Kylätalon kesäkahvila"
    assert await outbox(session, f"fund-idea:{idea['id']}") == []


async def test_admins_erase_on_request_and_others_may_not(
    client: httpx.AsyncClient, auth: Any
) -> None:
    await make_round(client, auth)
    idea = await submit(client)
    url = f"{BASE}/rounds/2031/ideas/{idea['id']}/erase"
    assert_problem(await client.post(url), 401)
    assert_problem(await client.post(url, headers=auth("posio-admin")), 403)
    assert_problem(await client.post(url, headers=auth(JUROR)), 403)
    assert (await client.post(url, headers=auth(ADMIN))).status_code == 204
    staff = await client.get(f"{BASE}/rounds/2031/ideas", headers=auth(JUROR))
    assert staff.json()["items"][0]["contact"]["email"] is None


async def test_purge_erases_applicants_once_their_rounds_reporting_has_ended(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    await make_round(client, auth, 2031)
    await submit(client)
    await make_round(client, auth, 2032)
    await submit(client, 2032)
    fund_round = (await session.exec(select(FundRound).where(col(FundRound.year) == 2031))).one()
    fund_round.reporting_until = helsinki_today() - timedelta(days=1)
    await session.flush()
    report = await purge(session=session, inactive_since=utcnow() - timedelta(days=365))
    assert report.fund_ideas == 1
    ideas = {i.round_id == fund_round.id: i for i in await session.exec(select(FundIdea))}
    assert ideas[True].contact_email is None
    assert ideas[True].erased_at is not None
    assert ideas[False].contact_email == PERSONAL[1]


# ---- the jury ---------------------------------------------------------------------------------


async def test_a_juror_scores_once_and_changes_it_until_the_decision(
    client: httpx.AsyncClient, auth: Any
) -> None:
    (idea, other) = await round_with_ideas(client, auth, [400, 300])
    url = f"{BASE}/rounds/2031/ideas/{idea['id']}/scores"
    first = await client.post(url, json={"score": 4, "comment": "Hyvä!"}, headers=auth(JUROR))
    assert first.status_code == 201, first.text
    again = await client.post(url, json={"score": 5}, headers=auth(JUROR))
    assert again.status_code == 200
    scores = (await client.get(url, headers=auth(ADMIN))).json()
    assert [(s["juror"], s["score"], s["comment"]) for s in scores] == [
        ("kemijarvi-juror", 5, None)
    ]
    listed = (await client.get(f"{BASE}/rounds/2031/ideas", headers=auth(JUROR))).json()
    assert listed["items"][0]["scores"] == {"count": 1, "average": 5.0, "mine": 5}
    assert listed["items"][1]["scores"] == {"count": 0, "average": None, "mine": None}
    assert "scores" not in (await client.get(f"{BASE}/rounds/2031/ideas")).text
    for bad in ({"score": 0}, {"score": 6}, {"score": "viisi"}, {}):
        assert_problem(await client.post(url, json=bad, headers=auth(JUROR)), 422)
    await close_call(client, auth)
    other_url = f"{BASE}/rounds/2031/ideas/{other['id']}/scores"
    assert (await client.post(other_url, json={"score": 2}, headers=auth(JUROR))).status_code == 201
    decided = await client.post(
        f"{BASE}/rounds/2031/decision",
        json=decision([idea, other], [400, 300]),
        headers=auth(ADMIN),
    )
    assert decided.status_code == 201, decided.text
    late = await client.post(url, json={"score": 1}, headers=auth(JUROR))
    assert_problem(late, 409, "invalid-transition")


@pytest.mark.parametrize(
    ("who", "get_status", "post_status"),
    [
        (None, 401, 401),
        ("posio-admin", 404, 403),
        ("kemijarvi-editor", 403, 403),
        ("kemijarvi-admin", 200, 403),
    ],
)
async def test_only_jurors_score_and_outsiders_see_no_scores(
    client: httpx.AsyncClient, auth: Any, who: str | None, get_status: int, post_status: int
) -> None:
    (idea,) = await round_with_ideas(client, auth, [400])
    url = f"{BASE}/rounds/2031/ideas/{idea['id']}/scores"
    headers = auth(who) if who else {}
    got = await client.get(url, headers=headers)
    if get_status == 200:
        assert got.status_code == 200
    else:
        assert_problem(got, get_status)
    assert_problem(await client.post(url, json={"score": 3}, headers=headers), post_status)
    suggestion = await client.get(f"{BASE}/rounds/2031/suggestion", headers=headers)
    assert suggestion.status_code == get_status


async def test_the_suggestion_takes_the_best_scored_ideas_that_fit_the_budget(
    client: httpx.AsyncClient, auth: Any
) -> None:
    ideas = await round_with_ideas(client, auth, [1000, 900, 500, 200, 300], max_funded=3)
    scores = [5, 5, 4, 3, None]  # the fifth is not scored
    for idea, score in zip(ideas, scores, strict=True):
        if score is not None:
            await client.post(
                f"{BASE}/rounds/2031/ideas/{idea['id']}/scores",
                json={"score": score},
                headers=auth(JUROR),
            )
    body = (await client.get(f"{BASE}/rounds/2031/suggestion", headers=auth(JUROR))).json()
    # Idea 2 (5, 900 EUR) ties with idea 1 (5, 1000 EUR) and asks less, so it goes first;
    # idea 1 then fits (1900), idea 3 (500) no longer does, idea 4 (200) does not either.
    assert [f["title"] for f in body["funded"]] == ["Idea 2", "Idea 1"]
    assert body["total"] == 1900
    assert body["remaining"] == 100
    assert body["fits_rules"] is True
    assert body["unscored"] == [ideas[4]["id"]]
    again = (await client.get(f"{BASE}/rounds/2031/suggestion", headers=auth(ADMIN))).json()
    assert again == body


# ---- the decision -----------------------------------------------------------------------------


async def _jury_round(client: httpx.AsyncClient, auth: Any) -> list[dict[str, Any]]:
    ideas = await round_with_ideas(client, auth, [800, 700, 600, 500])
    await close_call(client, auth)
    return ideas


async def _nothing_decided(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{BASE}/rounds/2031/decision"), 404)
    listed = (await client.get(f"{BASE}/rounds/2031/ideas")).json()["items"]
    assert {i["status"] for i in listed} == {"submitted"}
    assert (await client.get(f"{BASE}/experiments", params={"year": 2031})).json()["total"] == 0


@pytest.mark.parametrize(
    ("shape", "code", "field"),
    [
        ("over-budget", "over-budget", "body.funded"),
        ("too-few", "funded-count", "body.funded"),
        ("too-many", "funded-count", "body.funded"),
        ("grant-low", "grant-range", "body.funded[1].amount"),
        ("grant-high", "grant-range", "body.funded[0].amount"),
        ("unknown", "unknown-idea", "body.funded[2].idea_id"),
        ("unexplained", "explanation-required", "body.rejected"),
    ],
)
async def test_a_decision_breaking_a_rule_is_refused_naming_it(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession, shape: str, code: str, field: str
) -> None:
    ideas = await _jury_round(client, auth)
    body = {
        "over-budget": decision(ideas, [800, 700, 600]),
        "too-few": decision(ideas, [800]),
        "too-many": decision(ideas, [400, 400, 400, 400]),
        "grant-low": decision(ideas, [800, 50]),
        "grant-high": decision(ideas, [1200, 300]),
        "unknown": decision(ideas, [500, 500])
        | {
            "funded": decision(ideas, [500, 500])["funded"]
            + [{"idea_id": str(uuid.uuid4()), "amount": 300}]
        },
        "unexplained": {
            "funded": decision(ideas, [800, 700])["funded"],
            "rejected": [{"idea_id": ideas[2]["id"], "explanation": "Ei kokeilu."}],
        },
    }[shape]
    response = await client.post(f"{BASE}/rounds/2031/decision", json=body, headers=auth(ADMIN))
    problem = assert_problem(response, 422, code)
    assert (field, code) in [(e["field"], e["code"]) for e in problem["errors"]], problem
    assert problem["broken_rules"][0] == code
    await _nothing_decided(client)
    assert await outbox(session, "fund-idea:") != []  # only the confirmations
    assert all(e.kind == "fund_idea_received" for e in await outbox(session, "fund-idea:"))


async def test_every_broken_rule_is_listed_and_the_first_names_the_problem(
    client: httpx.AsyncClient, auth: Any
) -> None:
    ideas = await _jury_round(client, auth)
    body = {"funded": [{"idea_id": ideas[0]["id"], "amount": 5000}]}
    problem = assert_problem(
        await client.post(f"{BASE}/rounds/2031/decision", json=body, headers=auth(ADMIN)),
        422,
        "grant-range",
    )
    assert problem["broken_rules"] == [
        "grant-range",
        "funded-count",
        "over-budget",
        "explanation-required",
    ]
    assert len([e for e in problem["errors"] if e["code"] == "explanation-required"]) == 3


async def test_an_idea_of_another_round_or_listed_twice_is_refused(
    client: httpx.AsyncClient, auth: Any
) -> None:
    ideas = await _jury_round(client, auth)
    await make_round(client, auth, 2032, "open")
    foreign = await submit(client, 2032)
    body = decision([*ideas[:2], foreign], [500, 500, 500])
    problem = assert_problem(
        await client.post(f"{BASE}/rounds/2031/decision", json=body, headers=auth(ADMIN)),
        422,
        "unknown-idea",
    )
    assert problem["errors"][0]["field"] == "body.funded[2].idea_id"
    twice = decision(ideas[:2], [500, 500]) | {
        "rejected": [{"idea_id": ideas[0]["id"], "explanation": "x"}]
    }
    problem = assert_problem(
        await client.post(f"{BASE}/rounds/2031/decision", json=twice, headers=auth(ADMIN)),
        422,
        "validation-failed",
    )
    assert problem["errors"] == [
        {
            "field": "body.rejected[0].idea_id",
            "message": "the idea is listed twice",
            "code": "duplicate",
        }
    ]
    await _nothing_decided(client)


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), (JUROR, 403), ("posio-admin", 403), ("kemijarvi-comms", 403)],
)
async def test_only_an_admin_records_the_decision(
    client: httpx.AsyncClient, auth: Any, who: str | None, status: int
) -> None:
    ideas = await _jury_round(client, auth)
    headers = auth(who) if who else {}
    response = await client.post(
        f"{BASE}/rounds/2031/decision", json=decision(ideas, [800, 700]), headers=headers
    )
    assert_problem(response, status)
    await _nothing_decided(client)


async def test_no_decision_while_ideas_are_open_and_only_one_decision(
    client: httpx.AsyncClient, auth: Any
) -> None:
    ideas = await round_with_ideas(client, auth, [800, 700])
    url = f"{BASE}/rounds/2031/decision"
    early = await client.post(url, json=decision(ideas, [800, 700]), headers=auth(ADMIN))
    assert_problem(early, 409, "invalid-transition")
    await close_call(client, auth)
    assert (
        await client.post(url, json=decision(ideas, [800, 700]), headers=auth(ADMIN))
    ).status_code == 201
    again = await client.post(url, json=decision(ideas, [800, 700]), headers=auth(ADMIN))
    assert_problem(again, 409, "invalid-transition")
    # After the decision the round's dates are history, except the reporting deadline.
    schedule = (await client.get(f"{BASE}/rounds/2031")).json()["schedule"]
    moved = await patch_round(
        client, auth, 2031, {"schedule": schedule | {"jury_until": schedule["results_on"]}}
    )
    assert_problem(moved, 409, "round-locked")
    later = (date.fromisoformat(schedule["reporting_until"]) + timedelta(days=30)).isoformat()
    extended = await patch_round(
        client, auth, 2031, {"schedule": schedule | {"reporting_until": later}}
    )
    assert extended.status_code == 200, extended.text


async def test_the_decision_funds_experiments_and_tells_every_submitter(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    ideas = await _jury_round(client, auth)
    body = {
        "funded": [
            {"idea_id": ideas[0]["id"], "amount": 600, "note": "Tarvikkeisiin, ei palkkioihin."},
            {"idea_id": ideas[3]["id"], "amount": 500},
        ],
        "rejected": [{"idea_id": ideas[1]["id"], "explanation": "Sama idea kuin viime vuonna."}],
        "general_explanation": "Raha ei riittänyt kaikille.",
        "minutes_reference": "Raati 12.5.",
    }
    decided = await client.post(f"{BASE}/rounds/2031/decision", json=body, headers=auth(ADMIN))
    assert decided.status_code == 201, decided.text
    private = decided.json()
    assert private["decided_by"] == "kemijarvi-admin"
    assert private["total_granted"] == 1100
    assert {r["title"]: r["explanation"] for r in private["rejected"]} == {
        "Idea 2": "Sama idea kuin viime vuonna.",
        "Idea 3": "Raha ei riittänyt kaikille.",
    }
    public = (await client.get(f"{BASE}/rounds/2031/decision")).json()
    assert public["rejected"] is None
    assert "Sama idea" not in str(public)
    assert [(f["title"], f["amount_requested"], f["granted_amount"]) for f in public["funded"]] == [
        ("Idea 1", 800, 600),
        ("Idea 4", 500, 500),
    ]
    assert public["funded"][0]["note"] == "Tarvikkeisiin, ei palkkioihin."
    assert public["not_funded"] == 2
    fund_round = (await client.get(f"{BASE}/rounds/2031")).json()
    assert fund_round["phase"] == "results"
    assert fund_round["decided_at"] is not None
    assert fund_round["totals"] | {"ideas": 0} == {
        "ideas": 0,
        "requested": 2600,
        "funded": 2,
        "granted": 1100,
        "spent": 0,
        "remaining": 900,
    }
    statuses = {
        i["title"]: i["status"]
        for i in (await client.get(f"{BASE}/rounds/2031/ideas")).json()["items"]
    }
    assert statuses == {
        "Idea 1": "funded",
        "Idea 2": "not_funded",
        "Idea 3": "not_funded",
        "Idea 4": "funded",
    }
    experiments = (await client.get(f"{BASE}/experiments", params={"year": 2031})).json()
    assert [(e["title"], e["grant"], e["status"]) for e in experiments["items"]] == [
        ("Idea 1", 600, "not_started"),
        ("Idea 4", 500, "not_started"),
    ]
    emails = {e.dedupe_key: e for e in await outbox(session, "fund-idea:")}
    funded_mail = emails[f"fund-idea:{ideas[0]['id']}:decision"]
    assert "600 €" in funded_mail.body_text
    rejected_mail = emails[f"fund-idea:{ideas[1]['id']}:decision"]
    assert "Sama idea kuin viime vuonna." in rejected_mail.body_text
    own = await client.get(
        f"{BASE}/rounds/2031/ideas/{ideas[1]['id']}",
        params={"token": token_of(ideas[1]["manage_url"])},
    )
    assert own.json()["rejection_explanation"] == "Sama idea kuin viime vuonna."


# ---- experiments ------------------------------------------------------------------------------


async def funded_experiment(
    client: httpx.AsyncClient, auth: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    ideas = await _jury_round(client, auth)
    await client.post(
        f"{BASE}/rounds/2031/decision", json=decision(ideas, [800, 700]), headers=auth(ADMIN)
    )
    experiments = (await client.get(f"{BASE}/experiments", params={"year": 2031})).json()
    return ideas[0], experiments["items"][0]


async def test_progress_entries_by_staff_and_by_the_submitters_link(
    client: httpx.AsyncClient, auth: Any
) -> None:
    idea, experiment = await funded_experiment(client, auth)
    url = f"{BASE}/experiments/{experiment['id']}"
    entry = {
        "date": "2031-06-01",
        "text": "Ensimmäinen kahvilapäivä: 40 kävijää.",
        "links": [{"url": "https://www.instagram.com/explore/tags/luusuankesä/", "label": "Kuvat"}],
        "media": [{"url": "https://example.org/kahvila.jpg", "caption": "Kahvila täynnä"}],
    }
    by_staff = await client.post(f"{url}/entries", json=entry, headers=auth(ADMIN))
    assert by_staff.status_code == 201, by_staff.text
    assert by_staff.json()["status"] == "in_progress"
    token = token_of(idea["manage_url"])
    second = entry | {"date": "2031-07-01", "text": "Heinäkuussa kaksi tapahtumaa."}
    by_link = await client.post(f"{url}/entries", json=second, params={"token": token})
    assert by_link.status_code == 201, by_link.text
    entries = by_link.json()["entries"]
    assert [(e["date"], e["author"], e["by_submitter"]) for e in entries] == [
        ("2031-07-01", "Luusuan kyläyhdistys", True),
        ("2031-06-01", "kemijarvi-admin", False),
    ]
    assert entries[1]["media"][0] == {
        "url": "https://example.org/kahvila.jpg",
        "kind": "image",
        "caption": "Kahvila täynnä",
    }
    public = await client.get(url)
    assert public.json()["entries"] == entries
    for secret in PERSONAL:
        assert secret not in public.text
    bad = await client.post(
        f"{url}/entries", json=entry | {"links": [{"url": "ftp://x"}]}, headers=auth(ADMIN)
    )
    assert_problem(bad, 422)
    assert_problem(await client.post(f"{url}/entries", json=entry, params={"token": "x" * 43}), 404)
    assert_problem(await client.post(f"{url}/entries", json=entry), 401)
    assert_problem(await client.post(f"{url}/entries", json=entry, headers=auth(JUROR)), 403)
    assert_problem(
        await client.post(f"{url}/entries", json=entry, headers=auth("posio-admin")), 403
    )
    entry_id = entries[0]["id"]
    assert_problem(await client.delete(f"{url}/entries/{entry_id}", headers=auth(JUROR)), 403)
    assert (
        await client.delete(f"{url}/entries/{entry_id}", headers=auth(ADMIN))
    ).status_code == 204
    assert len((await client.get(url)).json()["entries"]) == 1


async def test_final_report_by_the_submitter_and_spending_by_staff(
    client: httpx.AsyncClient, auth: Any
) -> None:
    idea, experiment = await funded_experiment(client, auth)
    url = f"{BASE}/experiments/{experiment['id']}"
    token = token_of(idea["manage_url"])
    report = {
        "status": "completed",
        "final_report": {
            "summary": "Kahvila piti auki kahdeksan viikonloppua; 300 kävijää.",
            "links": [{"url": "https://example.org/raportti"}],
            "media": [{"url": "https://example.org/video.mp4", "kind": "video"}],
        },
    }
    assert_problem(await client.patch(url, json=report, params={"token": token}), 428)
    etag = (await client.get(url)).headers["etag"]
    done = await client.patch(url, json=report, params={"token": token}, headers={"If-Match": etag})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert done.json()["reported_at"] is not None
    etag = done.headers["etag"]
    spent = await client.patch(
        url, json={"spent": 750}, params={"token": token}, headers={"If-Match": etag}
    )
    assert_problem(spent, 403)
    stale = await client.patch(
        url, json={"spent": 750}, headers={**auth(ADMIN), "If-Match": '"old"'}
    )
    assert_problem(stale, 412)
    booked = await client.patch(url, json={"spent": 750}, headers={**auth(ADMIN), "If-Match": etag})
    assert booked.status_code == 200, booked.text
    assert_problem(
        await client.patch(
            url, json={"spent": -1}, headers={**auth(ADMIN), "If-Match": booked.headers["etag"]}
        ),
        422,
    )
    public = (await client.get(url)).json()
    assert public["final_report"]["summary"].startswith("Kahvila piti auki")
    assert public["spent"] == 750
    totals = (await client.get(f"{BASE}/rounds/2031")).json()["totals"]
    assert (totals["granted"], totals["spent"]) == (1500, 750)
    done_only = await client.get(f"{BASE}/experiments", params={"status": "completed"})
    assert [e["id"] for e in done_only.json()["items"]] == [experiment["id"]]
    assert_problem(
        await client.get(f"/api/v1/municipalities/posio/fund/experiments/{experiment['id']}"), 404
    )


# ---- the jury's accounts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "municipality", "status"),
    [
        (ADMIN, "kemijarvi", 201),
        ("platform", "kemijarvi", 201),
        ("posio-admin", "kemijarvi", 403),
        (JUROR, "kemijarvi", 403),
        ("kemijarvi-editor", "kemijarvi", 403),
    ],
)
async def test_a_municipality_admin_appoints_jurors(
    client: httpx.AsyncClient, auth: Any, who: str, municipality: str, status: int
) -> None:
    response = await client.post(
        "/api/v1/users",
        json={
            "email": "uusi.raati@example.org",
            "display_name": "Uusi raadin jäsen",
            "password": "a long juror passphrase",
            "roles": [{"role": "juror", "municipality": municipality}],
        },
        headers=auth(who),
    )
    if status == 201:
        assert response.status_code == 201, response.text
        assert response.json()["roles"] == [{"role": "juror", "municipality": "kemijarvi"}]
    else:
        assert_problem(response, status)


async def test_a_round_with_ideas_cannot_go_back_to_being_a_draft(
    client: httpx.AsyncClient, auth: Any
) -> None:
    await round_with_ideas(client, auth, [200])
    refused = await patch_round(client, auth, 2031, {"draft": True})
    assert_problem(refused, 409, "round-locked")
    assert (await client.get(f"{BASE}/rounds/2031")).json()["draft"] is False
