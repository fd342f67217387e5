"""Communication plans through the REST API: versions, the board's approval, the log,
access, and the calendar (JSON and iCalendar) across daylight-saving changes."""

import copy
from datetime import datetime
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from tests.conftest import assert_problem

BASE = "/api/v1/municipalities/kemijarvi/comms-plans"
POSIO = "/api/v1/municipalities/posio/comms-plans"

CIRCLES = [
    {
        "key": "municipality",
        "name": {"fi": "Kunta", "en": "The municipality"},
        "groups": [
            {"key": "council-and-board", "name": {"fi": "Valtuusto ja hallitus", "en": "Council"}},
            {"key": "staff", "name": {"fi": "Henkilöstö", "en": "Staff"}},
        ],
    },
    {
        "key": "world",
        "name": {"fi": "Maailma", "en": "The world"},
        "groups": [{"key": "potential-movers", "name": {"fi": "Potentiaaliset muuttajat"}}],
    },
]
TWICE_A_YEAR = "FREQ=MONTHLY;INTERVAL=6;BYMONTHDAY=15;BYHOUR=9"


def plan_body(year: int = 2027, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "year": year,
        "title": {"fi": f"Viestintäsuunnitelma {year}", "en": f"Communication plan {year}"},
        "strategy": {
            "why": {"fi": "Lisää tulomuuttoa.", "en": "More people moving here."},
            "measure": {"fi": "Kävijät ja postaukset."},
        },
        "hashtags": ["#kemijärvi", "visitkemijarvi"],
        "circles": CIRCLES,
        "metrics": [
            {
                "key": "website.sessions",
                "name": {"fi": "Istunnot", "en": "Sessions"},
                "target": 2000,
            }
        ],
        "rows": [
            {
                "scope": "internal",
                "audience": {"kind": "stakeholder", "key": "council-and-board"},
                "title": {"fi": "Raportti valtuustolle", "en": "Report to the council"},
                "channels": [{"fi": "Tiivis raportti", "en": "A short report"}],
                "cadence": TWICE_A_YEAR,
                "cadence_start": f"{year}-01-15T09:00",
                "cadence_text": {"fi": "2 krt/vuosi", "en": "twice a year"},
                "responsible": {"fi": "Johtoryhmä", "en": "Management team"},
            },
            {
                "scope": "internal",
                "audience": {"kind": "stakeholder", "key": "staff"},
                "title": {"fi": "Ajankohtaista henkilöstölle", "en": "News for staff"},
                "cadence": "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1",
                "cadence_start": f"{year}-01-01T10:30",
                "responsible": {"fi": "Viestintä", "en": "Communications"},
            },
            {
                "scope": "external",
                "audience": {"kind": "persona", "key": "remote-workers"},
                "title": {"fi": "Laskeutumissivu", "en": "Landing page"},
                "channels": [{"fi": "Kotisivut"}, {"fi": "Instagram", "en": "Instagram"}],
                "cadence": "continuous",
                "responsible": {"fi": "Viestintä", "en": "Communications"},
            },
        ],
    }
    body.update(extra)
    return body


async def create_plan(
    client: httpx.AsyncClient,
    auth: Any,
    year: int = 2027,
    who: str = "kemijarvi-comms",
    **extra: Any,
) -> httpx.Response:
    response = await client.post(BASE, json=plan_body(year, **extra), headers=auth(who))
    assert response.status_code == 201, response.text
    return response


async def approved_plan(client: httpx.AsyncClient, auth: Any, year: int = 2027) -> dict[str, Any]:
    plan = (await create_plan(client, auth, year)).json()
    headers = auth("kemijarvi-comms")
    await client.post(f"{BASE}/{plan['id']}/submit", headers=headers)
    approved = await client.post(
        f"{BASE}/{plan['id']}/approve",
        json={"decision_date": f"{year - 1}-12-14", "minutes_reference": "Khall 14.12. § 301"},
        headers=headers,
    )
    assert approved.status_code == 200, approved.text
    return approved.json()  # type: ignore[no-any-return]


# ---- the seed ----------------------------------------------------------------------------


async def test_kemijarvis_2022_plan_is_seeded_approved_with_the_models_rows(
    client: httpx.AsyncClient, auth: Any
) -> None:
    body = (await client.get(BASE, params={"year": 2022}, headers=auth("kemijarvi-comms"))).json()
    assert body["total"] == 1
    plan = body["items"][0]
    assert plan["status"] == "approved"
    assert plan["version"] == 1
    # Approved in its own year, not on the day the seed ran.
    assert plan["decision"]["decision_date"] == "2022-01-31"
    assert plan["decision"]["decided_at"].startswith("2022-01-31")
    assert "#tuhannenjayhdentyönmatkatoimisto" in plan["hashtags"]
    assert {c["key"] for c in plan["circles"]} == {
        "municipality",
        "enablers",
        "partners",
        "residents",
        "world",
    }
    internal = [r for r in plan["rows"] if r["scope"] == "internal"]
    external = [r for r in plan["rows"] if r["scope"] == "external"]
    assert [r["audience"]["key"] for r in internal] == [
        "council-and-board",
        "management",
        "staff",
        "staff",
    ]
    assert {r["cadence"] for r in external} == {"continuous"}
    assert len(external) == 5
    assert any(m["target"] == 13 for m in plan["metrics"])
    assert plan["strategy"]["why"]["en"]
    calendar = (
        await client.get(f"{BASE}/{plan['id']}/calendar", headers=auth("kemijarvi-comms"))
    ).json()
    # council 2 + management 2 + staff report 2 + staff news 4, and five ongoing rows.
    assert len(calendar["tasks"]) == 10
    assert len(calendar["ongoing"]) == 5


# ---- writing and validation ----------------------------------------------------------------


async def test_comms_officer_creates_a_draft_with_rows(
    client: httpx.AsyncClient, auth: Any
) -> None:
    response = await create_plan(client, auth)
    plan = response.json()
    assert response.headers["location"].endswith(plan["id"])
    assert response.headers["etag"]
    assert response.headers["cache-control"] == "no-store"
    assert plan["status"] == "draft"
    assert plan["version"] == 1
    assert plan["updated_by"] == "kemijarvi-comms"
    assert plan["hashtags"] == ["#kemijärvi", "#visitkemijarvi"]
    first = plan["rows"][0]
    assert first["cadence"] == TWICE_A_YEAR
    assert first["cadence_start"] == "2027-01-15T09:00"
    assert first["audience"]["name"]["fi"] == "Valtuusto ja hallitus"
    assert plan["rows"][2]["cadence_start"] is None
    english = await client.get(f"{BASE}/{plan['id']}?lang=en", headers=auth("kemijarvi-comms"))
    data = english.json()
    assert data["title"] == "Communication plan 2027"
    assert data["rows"][2]["channels"] == ["Kotisivut", "Instagram"]
    assert "rows[2].channels[0]" in data["meta"]["fallback_fields"]
    assert data["strategy"]["why"] == "More people moving here."


async def test_a_second_plan_for_the_same_year_is_a_duplicate(
    client: httpx.AsyncClient, auth: Any
) -> None:
    await create_plan(client, auth)
    again = await client.post(BASE, json=plan_body(), headers=auth("kemijarvi-admin"))
    assert_problem(again, 409, "duplicate")


@pytest.mark.parametrize(
    "cadence",
    ["FREQ=FORTNIGHTLY", "every other week", "FREQ=HOURLY", "BYDAY=MO", "FREQ=WEEKLY;BYDAY=XX"],
)
async def test_a_bad_cadence_is_a_422_naming_the_row(
    client: httpx.AsyncClient, auth: Any, cadence: str
) -> None:
    body = plan_body()
    body["rows"][2]["cadence"] = cadence
    response = await client.post(BASE, json=body, headers=auth("kemijarvi-comms"))
    problem = assert_problem(response, 422, "validation-failed")
    assert [e["field"] for e in problem["errors"]] == ["body.rows[2].cadence"]


async def test_a_cadence_start_with_an_offset_becomes_helsinki_time(
    client: httpx.AsyncClient, auth: Any
) -> None:
    body = plan_body()
    body["rows"][0]["cadence_start"] = "2027-01-15T07:00:00Z"
    plan = (await client.post(BASE, json=body, headers=auth("kemijarvi-comms"))).json()
    assert plan["rows"][0]["cadence_start"] == "2027-01-15T09:00"
    body["rows"][0]["cadence_start"] = "1066-10-14T09:00"
    body["year"] = 2031
    response = await client.post(BASE, json=body, headers=auth("kemijarvi-comms"))
    assert assert_problem(response, 422)["errors"][0]["field"] == "body.rows[0].cadence_start"


async def test_cadence_spellings_are_normalised(client: httpx.AsyncClient, auth: Any) -> None:
    body = plan_body()
    body["rows"][0]["cadence"] = "rrule:freq=monthly;interval=6;bymonthday=15;byhour=9"
    body["rows"][2]["cadence"] = "Ad-hoc"
    plan = (await client.post(BASE, json=body, headers=auth("kemijarvi-comms"))).json()
    assert plan["rows"][0]["cadence"] == TWICE_A_YEAR
    assert plan["rows"][2]["cadence"] == "ad hoc"


async def test_an_audience_must_be_in_the_circles(client: httpx.AsyncClient, auth: Any) -> None:
    body = plan_body()
    body["rows"][1]["audience"]["key"] = "aliens"
    response = await client.post(BASE, json=body, headers=auth("kemijarvi-comms"))
    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"][0]["field"] == "body.rows[1].audience.key"
    body = plan_body()
    body["rows"][2]["audience"] = {"kind": "persona", "key": "aliens"}
    response = await client.post(BASE, json=body, headers=auth("kemijarvi-comms"))
    assert_problem(response, 422)


async def test_updates_need_if_match_and_keep_row_ids(client: httpx.AsyncClient, auth: Any) -> None:
    created = await create_plan(client, auth)
    plan, etag = created.json(), created.headers["etag"]
    url = f"{BASE}/{plan['id']}"
    headers = auth("kemijarvi-comms")
    patch = {"title": {"fi": "Uusi otsikko"}}
    assert_problem(await client.patch(url, json=patch, headers=headers), 428)
    assert_problem(
        await client.patch(url, json=patch, headers={**headers, "If-Match": '"stale"'}), 412
    )
    rows = plan_body()["rows"]
    for row, existing in zip(rows, plan["rows"], strict=True):
        row["id"] = existing["id"]
    rows[0]["title"] = {"fi": "Raportti valtuustolle ja hallitukselle"}
    updated = await client.patch(
        url, json={**patch, "rows": rows}, headers={**headers, "If-Match": etag}
    )
    assert updated.status_code == 200, updated.text
    after = updated.json()
    assert after["revision"] == plan["revision"] + 1
    assert [r["id"] for r in after["rows"]] == [r["id"] for r in plan["rows"]]
    history = (await client.get(f"{url}/history", headers=headers)).json()
    assert history[0]["action"] == "updated"
    fields = {change["field"] for change in history[0]["changes"]}
    assert "title" in fields
    assert f"rows.{plan['rows'][0]['id']}.title" in fields
    foreign = copy.deepcopy(rows)
    foreign[0]["id"] = "00000000-0000-4000-8000-000000000000"
    response = await client.patch(
        url, json={"rows": foreign}, headers={**headers, "If-Match": updated.headers["etag"]}
    )
    assert assert_problem(response, 422)["errors"][0]["field"] == "body.rows[0].id"


# ---- approval --------------------------------------------------------------------------------


async def test_approval_makes_the_plan_read_only_and_a_new_version_starts_from_it(
    client: httpx.AsyncClient, auth: Any
) -> None:
    headers = auth("kemijarvi-comms")
    plan = (await create_plan(client, auth)).json()
    url = f"{BASE}/{plan['id']}"
    early = await client.post(
        f"{url}/approve", json={"decision_date": "2026-12-14"}, headers=headers
    )
    assert_problem(early, 409, "invalid-transition")
    submitted = await client.post(
        f"{url}/submit", json={"comment": "Hallitukselle"}, headers=headers
    )
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_at"]
    locked = await client.patch(
        url, json={"title": {"fi": "x"}}, headers={**headers, "If-Match": submitted.headers["etag"]}
    )
    assert_problem(locked, 409, "plan-submitted")
    assert_problem(await client.post(f"{url}/submit", headers=headers), 409, "invalid-transition")
    approved = await client.post(
        f"{url}/approve",
        json={
            "decision_date": "2026-12-14",
            "minutes_reference": "Khall 14.12.2026 § 301",
            "comment": "Hyväksyttiin yksimielisesti.",
        },
        headers=headers,
    )
    assert approved.status_code == 200, approved.text
    decided = approved.json()
    assert decided["status"] == "approved"
    assert decided["decision"]["decision_date"] == "2026-12-14"
    assert decided["decision"]["minutes_reference"] == "Khall 14.12.2026 § 301"
    read_only = await client.patch(
        url, json={"title": {"fi": "x"}}, headers={**headers, "If-Match": approved.headers["etag"]}
    )
    assert_problem(read_only, 409, "plan-approved")
    assert_problem(
        await client.post(
            f"{url}/return", json={"decision_date": "2026-12-14", "comment": "x"}, headers=headers
        ),
        409,
        "invalid-transition",
    )
    fresh = await client.post(f"{url}/new-version", headers=auth("kemijarvi-admin"))
    assert fresh.status_code == 201, fresh.text
    second = fresh.json()
    assert (second["version"], second["status"], second["based_on"]) == (2, "draft", plan["id"])
    assert [r["title"] for r in second["rows"]] == [r["title"] for r in plan["rows"]]
    assert {r["id"] for r in second["rows"]}.isdisjoint({r["id"] for r in plan["rows"]})
    again = await client.post(f"{url}/new-version", headers=headers)
    assert_problem(again, 409, "plan-version-open")
    still = (await client.get(url, headers=headers)).json()
    assert still["status"] == "approved"
    history = (await client.get(f"{url}/history", headers=headers)).json()
    assert [(e["action"], e["updated_by"]) for e in history] == [
        ("approved", "kemijarvi-comms"),
        ("submitted", "kemijarvi-comms"),
        ("created", "kemijarvi-comms"),
    ]
    assert history[0]["minutes_reference"] == "Khall 14.12.2026 § 301"
    assert history[1]["comment"] == "Hallitukselle"
    listed = (await client.get(BASE, params={"year": 2027}, headers=headers)).json()
    assert [(p["version"], p["status"]) for p in listed["items"]] == [(2, "draft"), (1, "approved")]


async def test_a_returned_plan_is_edited_and_submitted_again(
    client: httpx.AsyncClient, auth: Any
) -> None:
    headers = auth("kemijarvi-comms")
    plan = (await create_plan(client, auth)).json()
    url = f"{BASE}/{plan['id']}"
    await client.post(f"{url}/submit", headers=headers)
    assert_problem(
        await client.post(f"{url}/return", json={"decision_date": "2026-12-14"}, headers=headers),
        422,
    )
    returned = await client.post(
        f"{url}/return",
        json={"decision_date": "2026-12-14", "comment": "Lisätkää mittarit somelle."},
        headers=headers,
    )
    assert returned.json()["status"] == "returned"
    assert returned.json()["decision"]["comment"] == "Lisätkää mittarit somelle."
    edited = await client.patch(
        url,
        json={"metrics": [{"key": "social.posts", "name": {"fi": "Postaukset"}, "target": 40}]},
        headers={**headers, "If-Match": returned.headers["etag"]},
    )
    assert edited.status_code == 200, edited.text
    again = await client.post(f"{url}/submit", headers=headers)
    assert again.json()["status"] == "submitted"
    actions = [e["action"] for e in (await client.get(f"{url}/history", headers=headers)).json()]
    assert actions == ["submitted", "updated", "returned", "submitted", "created"]


async def test_only_a_never_submitted_draft_can_be_deleted(
    client: httpx.AsyncClient, auth: Any
) -> None:
    headers = auth("kemijarvi-comms")
    created = await create_plan(client, auth)
    url = f"{BASE}/{created.json()['id']}"
    assert_problem(await client.delete(url, headers=headers), 428)
    deleted = await client.delete(url, headers={**headers, "If-Match": created.headers["etag"]})
    assert deleted.status_code == 204
    assert_problem(await client.get(url, headers=headers), 404)
    approved = await approved_plan(client, auth, 2028)
    current = await client.get(f"{BASE}/{approved['id']}", headers=headers)
    response = await client.delete(
        f"{BASE}/{approved['id']}", headers={**headers, "If-Match": current.headers["etag"]}
    )
    assert_problem(response, 409, "invalid-transition")


# ---- access ----------------------------------------------------------------------------------


async def test_access_is_for_comms_and_admins_of_the_municipality(
    client: httpx.AsyncClient, auth: Any
) -> None:
    plan = (await create_plan(client, auth)).json()
    url = f"{BASE}/{plan['id']}"
    assert_problem(await client.get(BASE), 401, "unauthorized")
    assert_problem(await client.get(url), 401)
    assert_problem(await client.get(f"{url}/calendar.ics"), 401)
    assert_problem(await client.post(BASE, json=plan_body(2030)), 401)
    for outsider in ("posio-admin", "posio-editor"):
        assert_problem(await client.get(BASE, headers=auth(outsider)), 404, "not-found")
        assert_problem(await client.get(url, headers=auth(outsider)), 404)
        assert_problem(await client.get(f"{url}/calendar", headers=auth(outsider)), 404)
        assert_problem(
            await client.post(BASE, json=plan_body(2030), headers=auth(outsider)), 403, "forbidden"
        )
        assert_problem(await client.post(f"{url}/submit", headers=auth(outsider)), 403)
    for staff in ("kemijarvi-editor", "kemijarvi-guide"):
        assert_problem(await client.get(url, headers=auth(staff)), 403, "forbidden")
        assert_problem(await client.post(BASE, json=plan_body(2030), headers=auth(staff)), 403)
    for allowed in ("kemijarvi-admin", "platform"):
        assert (await client.get(url, headers=auth(allowed))).status_code == 200
    # Posio's own list does not show Kemijärvi's plan, even to the platform admin.
    posio = (await client.get(POSIO, headers=auth("platform"))).json()
    assert posio["total"] == 0


async def test_listing_plans_with_rows_is_not_n_plus_one(
    client: httpx.AsyncClient, auth: Any, count_queries: Any
) -> None:
    headers = auth("kemijarvi-comms")
    await client.get(BASE, headers=headers)  # warm the tenant directory
    with count_queries() as few:
        body = (await client.get(BASE, headers=headers)).json()
    assert body["total"] == 1
    for year in (2027, 2028, 2029, 2030):
        await create_plan(client, auth, year)
    with count_queries() as many:
        body = (await client.get(BASE, headers=headers)).json()
    assert body["total"] == 5
    assert sum(len(plan["rows"]) for plan in body["items"]) == 9 + 4 * 3
    assert many.count == few.count, many.statements


# ---- calendar --------------------------------------------------------------------------------


async def test_the_calendar_keeps_local_time_across_daylight_saving(
    client: httpx.AsyncClient, auth: Any
) -> None:
    """09:00 in Helsinki is 07:00Z in winter and 06:00Z in summer, on both sides of the
    changes on the last Sundays of March and October."""
    body = plan_body(2026)
    body["rows"][1]["cadence"] = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMONTH=3,10"
    body["rows"][1]["cadence_start"] = "2026-03-01T09:00"
    plan = (await client.post(BASE, json=body, headers=auth("kemijarvi-comms"))).json()
    response = await client.get(
        f"{BASE}/{plan['id']}/calendar",
        params={"from": "2026-01-01", "to": "2027-01-31"},
        headers=auth("kemijarvi-comms"),
    )
    assert response.status_code == 200, response.text
    calendar = response.json()
    assert calendar["timezone"] == "Europe/Helsinki"
    council = [t for t in calendar["tasks"] if t["row_id"] == plan["rows"][0]["id"]]
    assert [(t["starts_at"], t["starts_at_utc"]) for t in council] == [
        ("2026-01-15T09:00:00+02:00", "2026-01-15T07:00:00+00:00"),
        ("2026-07-15T09:00:00+03:00", "2026-07-15T06:00:00+00:00"),
        ("2027-01-15T09:00:00+02:00", "2027-01-15T07:00:00+00:00"),
    ]
    assert {t["local_time"] for t in council} == {"09:00"}
    weekly = {
        t["local_date"]: t["starts_at_utc"]
        for t in calendar["tasks"]
        if t["row_id"] == plan["rows"][1]["id"]
    }
    # Summer time starts on Sunday 29 March and ends on Sunday 25 October 2026.
    assert weekly["2026-03-23"] == "2026-03-23T07:00:00+00:00"
    assert weekly["2026-03-30"] == "2026-03-30T06:00:00+00:00"
    assert weekly["2026-10-19"] == "2026-10-19T06:00:00+00:00"
    assert weekly["2026-10-26"] == "2026-10-26T07:00:00+00:00"
    ongoing = calendar["ongoing"]
    assert [(o["row_id"], o["cadence"]) for o in ongoing] == [(plan["rows"][2]["id"], "continuous")]
    assert calendar["tasks"] == sorted(calendar["tasks"], key=lambda t: t["starts_at_utc"])


async def test_the_calendar_defaults_to_the_plan_year_and_refuses_long_ranges(
    client: httpx.AsyncClient, auth: Any
) -> None:
    plan = (await create_plan(client, auth)).json()
    url = f"{BASE}/{plan['id']}/calendar"
    headers = auth("kemijarvi-comms")
    calendar = (await client.get(url, headers=headers, params={"lang": "en"})).json()
    assert (calendar["from"], calendar["to"]) == ("2027-01-01", "2027-12-31")
    assert [t["local_date"] for t in calendar["tasks"]] == [
        "2027-01-01",
        "2027-01-15",
        "2027-04-01",
        "2027-07-01",
        "2027-07-15",
        "2027-10-01",
    ]
    assert calendar["tasks"][0]["local_time"] == "10:30"
    assert calendar["tasks"][1]["title"] == "Report to the council"
    assert calendar["tasks"][1]["responsible"] == "Management team"
    quarter = (
        await client.get(url, headers=headers, params={"from": "2027-07-01", "to": "2027-09-30"})
    ).json()
    assert [t["local_date"] for t in quarter["tasks"]] == ["2027-07-01", "2027-07-15"]
    too_long = await client.get(
        url, headers=headers, params={"from": "2027-01-01", "to": "2030-01-01"}
    )
    assert assert_problem(too_long, 422)["errors"][0]["field"] == "query.to"
    backwards = await client.get(
        url, headers=headers, params={"from": "2027-05-01", "to": "2027-04-01"}
    )
    assert_problem(backwards, 422)


async def test_the_ics_feed_has_helsinki_times_and_stable_uids(
    client: httpx.AsyncClient, auth: Any
) -> None:
    plan = (await create_plan(client, auth, 2026)).json()
    url = f"{BASE}/{plan['id']}/calendar.ics"
    headers = auth("kemijarvi-comms")
    response = await client.get(
        url, headers=headers, params={"to": "2027-01-31", "from": "2026-01-01"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    feed = Calendar.from_ical(response.content)
    zones = list(feed.walk("VTIMEZONE"))
    assert [str(zone["TZID"]) for zone in zones] == ["Europe/Helsinki"]
    events = list(feed.walk("VEVENT"))
    council = sorted(
        (e for e in events if str(e["SUMMARY"]) == "Raportti valtuustolle"),
        key=lambda e: e.decoded("DTSTART"),
    )
    starts: list[datetime] = [e.decoded("DTSTART") for e in council]
    assert [(s.isoformat(), str(s.tzinfo)) for s in starts] == [
        ("2026-01-15T09:00:00+02:00", "Europe/Helsinki"),
        ("2026-07-15T09:00:00+03:00", "Europe/Helsinki"),
        ("2027-01-15T09:00:00+02:00", "Europe/Helsinki"),
    ]
    assert b"DTSTART;TZID=Europe/Helsinki:20260715T090000" in response.content
    assert all(str(e["UID"]).endswith("@settle") for e in events)
    assert len({str(e["UID"]) for e in events}) == len(events)
    json_uids = {
        t["uid"]
        for t in (
            await client.get(
                f"{BASE}/{plan['id']}/calendar",
                headers=headers,
                params={"to": "2027-01-31", "from": "2026-01-01"},
            )
        ).json()["tasks"]
    }
    assert json_uids == {str(e["UID"]) for e in events}
    again = await client.get(
        url, headers=headers, params={"to": "2027-01-31", "from": "2026-01-01"}
    )
    assert again.content == response.content
    english = await client.get(url, headers=headers, params={"lang": "en"})
    assert b"SUMMARY:Report to the council" in english.content


async def test_approving_a_new_version_supersedes_the_old_one(
    client: httpx.AsyncClient, auth: Any
) -> None:
    headers = auth("kemijarvi-comms")
    first = await approved_plan(client, auth, 2029)
    fresh = await client.post(f"{BASE}/{first['id']}/new-version", headers=headers)
    assert fresh.status_code == 201, fresh.text
    second = fresh.json()
    await client.post(f"{BASE}/{second['id']}/submit", headers=headers)
    approved = await client.post(
        f"{BASE}/{second['id']}/approve", json={"decision_date": "2029-03-01"}, headers=headers
    )
    assert approved.status_code == 200, approved.text
    listed = (await client.get(BASE, params={"year": 2029}, headers=headers)).json()
    assert [(p["version"], p["status"]) for p in listed["items"]] == [
        (2, "approved"),
        (1, "superseded"),
    ]
    history = (await client.get(f"{BASE}/{first['id']}/history", headers=headers)).json()
    assert history[0]["action"] == "superseded"
