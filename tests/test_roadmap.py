"""The roadmap and the yearly review of the operating model through the REST API."""

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.core.time import HELSINKI, utcnow
from tests.conftest import assert_problem

BASE = "/api/v1/municipalities/kemijarvi/roadmap"
POSIO = "/api/v1/municipalities/posio/roadmap"

PHASE = {
    "key": "2027",
    "starts_on": "2027-01-01",
    "ends_on": "2027-12-31",
    "title": {"fi": "Kokeilujen jatko", "en": "Continuing the experiments"},
    "goals": [
        {"fi": "Kokeiluraha 7000 €", "en": "Experiment fund 7000 EUR"},
        {"fi": "Raportointi"},
    ],
    "pilots": [
        {
            "key": "welcome-evenings",
            "title": {"fi": "Tervetuloillat", "en": "Welcome evenings"},
            "status": "in_progress",
        }
    ],
}
REVIEW = {
    "year": 2026,
    "reviewed_on": "2026-11-20",
    "reviewed_by": {"fi": "Johtoryhmä", "en": "The management team"},
    "how_it_worked": {"fi": "Prosessi toimi.", "en": "The process worked."},
    "results": {"fi": "Kaksitoista muuttajaa.", "en": "Twelve movers."},
    "strengths": {"fi": "Oppaat.", "en": "The guides."},
    "to_develop": {"fi": "Raportointi.", "en": "Reporting."},
}


async def test_kemijarvis_2022_to_2025_roadmap_is_seeded_with_its_pilots(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(BASE, params={"lang": "en"})
    assert response.status_code == 200
    body = response.json()
    assert [p["key"] for p in body["items"]] == ["2022-h1", "2022-h2", "2023", "2024"]
    first = body["items"][0]
    assert first["title"] == "Renewing the settlement-services operating model"
    assert (first["starts_on"], first["ends_on"]) == ("2022-01-01", "2022-06-30")
    assert first["timing"] == "past"
    # No status was recorded: a phase that has ended is not still "planned".
    assert (first["status"], first["status_source"]) == ("done", "dates")
    assert [p["key"] for p in first["pilots"]] == [
        "joint-social-health-recruitment",
        "hobbies-and-associations-on-the-map",
    ]
    assert first["pilots"][1]["title"] == "Hobbies and associations visible and on the map"
    assert all(isinstance(goal, str) for goal in first["goals"])
    budgets = " ".join(goal for phase in body["items"] for goal in phase["goals"])
    for target in ("4000 EUR", "5000 EUR", "6000 EUR"):
        assert target in budgets
    assert first["last_update"]["by"] == "Settle"
    finnish = (await client.get(BASE)).json()["items"][0]
    assert finnish["title"]["fi"] == "Asettautumispalvelujen toimintamallin uudistus"
    assert (
        await client.get(
            BASE, headers={"If-None-Match": response.headers["etag"]}, params={"lang": "en"}
        )
    ).status_code == 304
    # The seed's review of the operating model is only a template: none is seeded.
    assert (await client.get(f"{BASE}/reviews")).json()["total"] == 0
    assert (await client.get(POSIO)).json()["total"] == 0


async def test_comms_staff_keep_the_roadmap_and_every_change_is_recorded(
    client: httpx.AsyncClient, auth: Any
) -> None:
    created = await client.post(f"{BASE}/phases", json=PHASE, headers=auth("kemijarvi-comms"))
    assert created.status_code == 201, created.text
    phase = created.json()
    assert phase["timing"] == "upcoming"
    assert phase["last_update"] == {
        "at": phase["last_update"]["at"],
        "by": "kemijarvi-comms",
        "fields": [],
    }
    url = f"{BASE}/phases/{phase['id']}"
    change = {
        "status": "done",
        "outcome": {"fi": "Hyvin meni.", "en": "It went well."},
        "pilots": [PHASE["pilots"][0] | {"status": "done", "outcome": {"fi": "40 osallistujaa"}}],
    }
    assert_problem(await client.patch(url, json=change, headers=auth("kemijarvi-admin")), 428)
    etag = (await client.get(url)).headers["etag"]
    updated = await client.patch(
        url, json=change, headers={**auth("kemijarvi-admin"), "If-Match": etag}
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["status"] == "done"
    assert body["pilots"][0]["outcome"] == {"fi": "40 osallistujaa"}
    assert body["last_update"]["by"] == "kemijarvi-admin"
    assert body["last_update"]["fields"] == ["outcome", "pilots", "status"]
    stale = await client.patch(
        url, json=change, headers={**auth("kemijarvi-admin"), "If-Match": etag}
    )
    assert_problem(stale, 412)
    english = (await client.get(url, params={"lang": "en"})).json()
    assert english["pilots"][0]["outcome"] == "40 osallistujaa"
    assert "pilots[0].outcome" in english["meta"]["fallback_fields"]
    listed = (await client.get(BASE)).json()
    assert listed["items"][-1]["key"] == "2027"
    duplicate = await client.post(f"{BASE}/phases", json=PHASE, headers=auth("kemijarvi-comms"))
    assert_problem(duplicate, 409, "duplicate")
    etag = (await client.get(url)).headers["etag"]
    deleted = await client.delete(url, headers={**auth("kemijarvi-comms"), "If-Match": etag})
    assert deleted.status_code == 204
    assert_problem(await client.get(url), 404)


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), ("kemijarvi-editor", 403), ("kemijarvi-juror", 403), ("posio-admin", 403)],
)
async def test_others_do_not_change_the_roadmap(
    client: httpx.AsyncClient, auth: Any, who: str | None, status: int
) -> None:
    headers = auth(who) if who else {}
    assert_problem(await client.post(f"{BASE}/phases", json=PHASE, headers=headers), status)
    assert_problem(await client.post(f"{BASE}/reviews", json=REVIEW, headers=headers), status)
    seeded = (await client.get(BASE)).json()["items"][0]
    url = f"{BASE}/phases/{seeded['id']}"
    etag = (await client.get(url)).headers["etag"]
    response = await client.patch(
        url, json={"status": "done"}, headers={**headers, "If-Match": etag}
    )
    assert_problem(response, status)
    assert_problem(await client.get(f"{POSIO}/phases/{seeded['id']}"), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_on": "2026-01-01"}, "body"),
        ({"title": "Plain text"}, "body.title"),
        ({"key": "Not A Slug"}, "body.key"),
        ({"status": "finished"}, "body.status"),
        ({"pilots": [PHASE["pilots"][0], PHASE["pilots"][0]]}, "body"),
        ({"goals": ["plain"]}, "body.goals[0]"),
    ],
)
async def test_a_bad_phase_is_422_naming_the_field(
    client: httpx.AsyncClient, auth: Any, change: dict[str, Any], field: str
) -> None:
    response = await client.post(
        f"{BASE}/phases", json=PHASE | change, headers=auth("kemijarvi-comms")
    )
    body = assert_problem(response, 422, "validation-failed")
    assert field in [e["field"] for e in body["errors"]], body["errors"]
    assert (await client.get(BASE)).json()["total"] == 4


async def test_a_phase_cannot_be_changed_to_end_before_it_starts(
    client: httpx.AsyncClient, auth: Any
) -> None:
    seeded = (await client.get(BASE)).json()["items"][0]
    url = f"{BASE}/phases/{seeded['id']}"
    etag = (await client.get(url)).headers["etag"]
    response = await client.patch(
        url, json={"ends_on": "2021-12-31"}, headers={**auth("kemijarvi-admin"), "If-Match": etag}
    )
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"][0]["field"] == "body.ends_on"


async def test_the_yearly_review_of_the_operating_model(
    client: httpx.AsyncClient, auth: Any
) -> None:
    created = await client.post(f"{BASE}/reviews", json=REVIEW, headers=auth("kemijarvi-admin"))
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{BASE}/reviews/2026"
    again = await client.post(f"{BASE}/reviews", json=REVIEW, headers=auth("kemijarvi-admin"))
    assert_problem(again, 409, "duplicate")
    url = f"{BASE}/reviews/2026"
    review = (await client.get(url, params={"lang": "en"})).json()
    assert review["reviewed_by"] == "The management team"
    assert review["how_it_worked"] == "The process worked."
    assert review["changes_made"] is None
    etag = (await client.get(url)).headers["etag"]
    change = {"changes_made": {"fi": "Roolit tarkennettiin.", "en": "Roles were clarified."}}
    updated = await client.patch(
        url, json=change, headers={**auth("kemijarvi-comms"), "If-Match": etag}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["last_update"]["fields"] == ["changes_made"]
    assert updated.json()["last_update"]["by"] == "kemijarvi-comms"
    listed = (await client.get(f"{BASE}/reviews")).json()
    assert [r["year"] for r in listed["items"]] == [2026]
    missing = {k: v for k, v in REVIEW.items() if k != "strengths"}
    body = assert_problem(
        await client.post(
            f"{BASE}/reviews", json=missing | {"year": 2027}, headers=auth("kemijarvi-admin")
        ),
        422,
    )
    assert body["errors"][0]["field"] == "body.strengths"
    assert_problem(await client.get(f"{BASE}/reviews/2025"), 404)
    assert_problem(await client.get(f"{POSIO}/reviews/2026"), 404)


async def test_a_phase_status_follows_the_dates_unless_set(
    client: httpx.AsyncClient, auth: Any
) -> None:
    headers = auth("kemijarvi-comms")
    today = utcnow().astimezone(HELSINKI).date()
    body = {
        "key": "running-now",
        "starts_on": (today - timedelta(days=10)).isoformat(),
        "ends_on": (today + timedelta(days=10)).isoformat(),
        "title": {"fi": "Käynnissä"},
    }
    created = await client.post(f"{BASE}/phases", json=body, headers=headers)
    assert created.status_code == 201, created.text
    phase = created.json()
    assert (phase["status"], phase["status_source"]) == ("in_progress", "dates")
    url = f"{BASE}/phases/{phase['id']}"
    postponed = await client.patch(
        url,
        json={"status": "postponed"},
        headers={**headers, "If-Match": created.headers["etag"]},
    )
    assert postponed.status_code == 200, postponed.text
    assert (postponed.json()["status"], postponed.json()["status_source"]) == ("postponed", "set")
    cleared = await client.patch(
        url, json={"status": None}, headers={**headers, "If-Match": postponed.headers["etag"]}
    )
    assert (cleared.json()["status"], cleared.json()["status_source"]) == ("in_progress", "dates")
