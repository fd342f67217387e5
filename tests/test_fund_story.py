"""The issue's "done when", end to end through the API on SQLite and PostgreSQL: a
resident submits an idea for next year's round, jurors score, the round refuses a
decision over budget, and the funded experiments and their reports are public."""

from datetime import timedelta
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import assert_problem
from tests.test_fund import BASE, PERSONAL, helsinki_today, idea_body, outbox, token_of

IDEAS = [
    ("Kylätalon kesäkahvila", "village_association", "Luusuan kyläyhdistys", 600, "#luusuankesä"),
    ("Pilkkikisat etätyöläisille", "association", "Kemijärven Pilkkijät ry", 300, "#pilkkikemi"),
    ("Lähiruokatori satamaan", "company", "Satamapuoti Oy", 1000, "#satamantori"),
    ("Kirjanvaihtohylly junaasemalle", "person", None, 150, "#kirjajuna"),
    ("Kuorolaulua uusille asukkaille", "association", "Kemijärven Laulu ry", 900, "#laulukemi"),
]


async def test_a_residents_idea_becomes_a_public_experiment_with_its_report(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    admin = auth("kemijarvi-admin")
    today = helsinki_today()
    year = today.year + 1

    # The municipality's admin opens next year's round with the operating model's rules
    # and appoints a second juror.
    day = lambda n: (today + timedelta(days=n)).isoformat()  # noqa: E731
    opened = await client.post(
        f"{BASE}/rounds",
        json={
            "year": year,
            "call": {"fi": "Mitä olet aina halunnut tehdä Kemijärvellä?"},
            "hashtags": ["#kemijärvi"],
            "rules": {"budget": 4000},
            "schedule": {
                "ideas_open_from": day(-1),
                "ideas_open_until": day(30),
                "jury_from": day(31),
                "jury_until": day(45),
                "results_on": day(50),
                "reporting_until": f"{year}-12-31",
            },
        },
        headers=admin,
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["rules"] == {
        "budget": 4000,
        "grant_min": 100,
        "grant_max": 1000,
        "min_funded": 3,
        "max_funded": 8,
    }
    juror = await client.post(
        "/api/v1/users",
        json={
            "email": "raati@kemijarvi.example.org",
            "display_name": "Raadin jäsen",
            "password": "a long juror passphrase",
            "roles": [{"role": "juror", "municipality": "kemijarvi"}],
        },
        headers=admin,
    )
    assert juror.status_code == 201, juror.text
    token = await client.post(
        "/api/v1/auth/token",
        data={"username": "raati@kemijarvi.example.org", "password": "a long juror passphrase"},
    )
    jurors = [auth("kemijarvi-juror"), {"Authorization": f"Bearer {token.json()['access_token']}"}]

    # Residents read the call and submit their ideas without accounts.
    call = (await client.get(f"{BASE}/rounds/{year}", params={"lang": "en"})).json()
    assert call["phase"] == "open"
    submitted = []
    for title, kind, organisation, amount, hashtag in IDEAS:
        response = await client.post(
            f"{BASE}/rounds/{year}/ideas",
            json={
                "title": title,
                "description": f"{title}: teemme tämän itse ja kutsumme muut mukaan.",
                "submitter_kind": kind,
                "organisation_name": organisation,
                "amount_requested": amount,
                "hashtag": hashtag,
                "contact_name": PERSONAL[0],
                "contact_email": PERSONAL[1],
                "contact_phone": PERSONAL[2],
                "consent": True,
            },
        )
        assert response.status_code == 201, response.text
        submitted.append(response.json())
    cafe = submitted[0]
    assert len(await outbox(session, "fund-idea:")) == 5
    public = await client.get(f"{BASE}/rounds/{year}/ideas")
    assert public.json()["total"] == 5
    for secret in PERSONAL:
        assert secret not in public.text

    # Jurors score every idea while the call is open and after it closes.
    points = {0: (5, 4), 1: (4, 4), 2: (4, 3), 3: (3, 4), 4: (2, 2)}
    for index, idea in enumerate(submitted):
        for headers, score in zip(jurors, points[index], strict=True):
            scored = await client.post(
                f"{BASE}/rounds/{year}/ideas/{idea['id']}/scores",
                json={"score": score, "comment": "Arvioitu raadin kokouksessa."},
                headers=headers,
            )
            assert scored.status_code == 201, scored.text
    current = await client.get(f"{BASE}/rounds/{year}")
    schedule = current.json()["schedule"] | {"ideas_open_until": day(-1), "jury_from": day(0)}
    closed = await client.patch(
        f"{BASE}/rounds/{year}",
        json={"schedule": schedule},
        headers={**admin, "If-Match": current.headers["etag"]},
    )
    assert closed.json()["phase"] == "jury"
    late = await client.post(f"{BASE}/rounds/{year}/ideas", json=idea_body(title="Myöhässä"))
    assert_problem(late, 422, "round-not-open")

    # The jury's starting point: the best scored ideas that fit the budget.
    suggestion = (await client.get(f"{BASE}/rounds/{year}/suggestion", headers=jurors[1])).json()
    assert [f["title"] for f in suggestion["funded"]] == [IDEAS[i][0] for i in (0, 1, 3, 2, 4)]
    assert suggestion["total"] == 2950
    assert suggestion["fits_rules"] is True

    # A decision over the budget is refused and changes nothing.
    generous = {
        "funded": [{"idea_id": idea["id"], "amount": 1000} for idea in submitted],
        "general_explanation": "—",
    }
    refused = await client.post(f"{BASE}/rounds/{year}/decision", json=generous, headers=admin)
    problem = assert_problem(refused, 422, "over-budget")
    assert problem["errors"] == [
        {
            "field": "body.funded",
            "message": "the grants total 5000 EUR, over the budget of 4000 EUR",
            "code": "over-budget",
        }
    ]
    assert_problem(await client.get(f"{BASE}/rounds/{year}/decision"), 404)

    # The jury funds four, the café with less than it asked, and explains the fifth.
    funded = [
        {"idea_id": submitted[0]["id"], "amount": 500, "note": "Tarvikkeisiin."},
        {"idea_id": submitted[1]["id"], "amount": 300},
        {"idea_id": submitted[2]["id"], "amount": 1000},
        {"idea_id": submitted[3]["id"], "amount": 150},
    ]
    decided = await client.post(
        f"{BASE}/rounds/{year}/decision",
        json={
            "funded": funded,
            "rejected": [{"idea_id": submitted[4]["id"], "explanation": "Haetaan kulttuurista."}],
            "minutes_reference": "Raati 2 §",
        },
        headers=admin,
    )
    assert decided.status_code == 201, decided.text
    assert decided.json()["total_granted"] == 1950

    # The funded experiments are public with their grants.
    experiments = (await client.get(f"{BASE}/experiments", params={"year": year})).json()
    assert [(e["title"], e["grant"]) for e in experiments["items"]] == [
        (IDEAS[0][0], 500),
        (IDEAS[1][0], 300),
        (IDEAS[2][0], 1000),
        (IDEAS[3][0], 150),
    ]
    experiment = experiments["items"][0]

    # The café reports through its own link: a dated entry, then the final report.
    link = token_of(cafe["manage_url"])
    url = f"{BASE}/experiments/{experiment['id']}"
    entry = await client.post(
        f"{url}/entries",
        params={"token": link},
        json={
            "date": f"{year}-06-15",
            "text": "Kahvila aukesi; 60 kävijää ensimmäisenä päivänä.",
            "media": [{"url": "https://example.org/kahvila.jpg", "caption": "Avajaiset"}],
        },
    )
    assert entry.status_code == 201, entry.text
    report = await client.patch(
        url,
        params={"token": link},
        json={
            "status": "completed",
            "final_report": {
                "summary": "Kahdeksan viikonloppua, 400 kävijää, kolme uutta talkoolaista.",
                "links": [{"url": "https://example.org/luusuankesa", "label": "Kuvat"}],
            },
        },
        headers={"If-Match": entry.headers["etag"]},
    )
    assert report.status_code == 200, report.text
    spent = await client.patch(
        url, json={"spent": 480}, headers={**admin, "If-Match": report.headers["etag"]}
    )
    assert spent.status_code == 200, spent.text

    # Everyone sees the experiment, its report and the round's money, and no one's details.
    seen = await client.get(url)
    body = seen.json()
    assert (body["grant"], body["spent"], body["status"]) == (500, 480, "completed")
    assert body["final_report"]["summary"].startswith("Kahdeksan viikonloppua")
    assert body["entries"][0]["author"] == "Luusuan kyläyhdistys"
    totals = (await client.get(f"{BASE}/rounds/{year}")).json()["totals"]
    assert (totals["granted"], totals["spent"], totals["remaining"]) == (1950, 480, 2050)
    for response in (seen, await client.get(f"{BASE}/rounds/{year}/decision")):
        for secret in (*PERSONAL, link, "Haetaan kulttuurista"):
            assert secret not in response.text
