"""The issue's "done when", through the API only: Kemijärvi's communications officer
plans next year, takes the plan to the board, records its approval, sees the
quarter's tasks, imports the quarter's GA4 export and hashtag figures, and opens a
printable report of what changed since the last quarter, with charts."""

from typing import Any

import httpx
from icalendar import Calendar

from tests.test_analytics import GA4_PAGES, GA4_SEARCH, GA4_TOTALS

API = "/api/v1/municipalities/kemijarvi"


async def test_a_comms_officer_plans_gets_approval_measures_and_reports(
    client: httpx.AsyncClient, auth: Any
) -> None:
    officer = auth("kemijarvi-comms")

    # 1. Next year's plan, starting from the model the seed holds for 2022.
    seeded = (await client.get(f"{API}/comms-plans", params={"year": 2022}, headers=officer)).json()
    model = seeded["items"][0]
    rows = [
        {
            "scope": row["scope"],
            "audience": {"kind": row["audience"]["kind"], "key": row["audience"]["key"]},
            "title": row["title"],
            "what": row["what"],
            "channels": row["channels"],
            "cadence": row["cadence"],
            "cadence_start": row["cadence_start"].replace("2022", "2027")
            if row["cadence_start"]
            else None,
            "cadence_text": row["cadence_text"],
            "responsible": row["responsible"],
        }
        for row in model["rows"]
    ]
    plan_body = {
        "year": 2027,
        "title": {"fi": "Asettautumispalvelujen viestintäsuunnitelma 2027"},
        "strategy": {k: v for k, v in model["strategy"].items() if v},
        "hashtags": model["hashtags"],
        "circles": [
            {
                "key": c["key"],
                "name": c["name"],
                "groups": [{"key": g["key"], "name": g["name"]} for g in c["groups"]],
            }
            for c in model["circles"]
        ],
        "metrics": [
            {k: v for k, v in metric.items() if v is not None} for metric in model["metrics"]
        ],
        "rows": rows,
    }
    created = await client.post(f"{API}/comms-plans", json=plan_body, headers=officer)
    assert created.status_code == 201, created.text
    plan = created.json()
    plan_url = f"{API}/comms-plans/{plan['id']}"

    # 2. To the board, and the board's approval recorded.
    submitted = await client.post(
        f"{plan_url}/submit",
        json={"comment": "Kunnanhallituksen kokoukseen 14.12."},
        headers=officer,
    )
    assert submitted.json()["status"] == "submitted"
    approved = await client.post(
        f"{plan_url}/approve",
        json={"decision_date": "2026-12-14", "minutes_reference": "Khall 14.12.2026 § 301"},
        headers=officer,
    )
    assert approved.json()["status"] == "approved"
    log = (await client.get(f"{plan_url}/history", headers=officer)).json()
    assert [(e["action"], e["updated_by"]) for e in log] == [
        ("approved", "kemijarvi-comms"),
        ("submitted", "kemijarvi-comms"),
        ("created", "kemijarvi-comms"),
    ]

    # 3. The first quarter's tasks, in the calendar and as an .ics feed.
    quarter = {"from": "2027-01-01", "to": "2027-03-31"}
    calendar = (await client.get(f"{plan_url}/calendar", params=quarter, headers=officer)).json()
    tasks = [(t["local_date"], t["local_time"], t["audience"]["key"]) for t in calendar["tasks"]]
    assert tasks == [
        ("2027-02-15", "09:00", "staff"),
        ("2027-03-01", "09:00", "management"),
        ("2027-03-15", "09:00", "council-and-board"),
    ]
    assert {t["responsible"]["fi"] for t in calendar["tasks"]} == {
        "Kaupungin viestinnän toteuttajat",
        "Johtoryhmän jäsen(et)",
    }
    assert len(calendar["ongoing"]) == 5
    feed = await client.get(f"{plan_url}/calendar.ics", params=quarter, headers=officer)
    events = list(Calendar.from_ical(feed.content).walk("VEVENT"))
    assert len(events) == 3

    # 4. Last quarter's snapshot exists; this quarter's figures are imported.
    previous = await client.post(
        f"{API}/analytics/snapshots",
        json={"quarter": "2026-Q3", "movers": 7, "website": {"sessions": 1200, "page_views": 3900}},
        headers=officer,
    )
    assert previous.status_code == 201
    current = await client.post(
        f"{API}/analytics/snapshots",
        json={
            "quarter": "2026-Q4",
            "movers": 9,
            "successes": [{"fi": "Tulomuuttajan opas -sivu löydettiin hakukoneista."}],
            "to_develop": [{"fi": "Englanninkieliset sivut puuttuvat osin."}],
            "image_observations": {"fi": "Turvallisuus ja luonto toistuivat palautteissa."},
        },
        headers=officer,
    )
    snapshot = current.json()
    snapshot_url = f"{API}/analytics/snapshots/{snapshot['id']}"
    ga4 = await client.post(
        f"{snapshot_url}/import/ga4",
        json={"reports": [GA4_TOTALS, GA4_PAGES, GA4_SEARCH]},
        headers=officer,
    )
    assert ga4.status_code == 200, ga4.text
    hashtags = (
        "section,item,platform,hashtag,metric,value\n"
        "social,,instagram,#kemijärvi,posts,21\n"
        "social,,instagram,#kemijärvi,likes,1460\n"
        "social,,facebook,#tuhannenjayhdentyönmatkatoimisto,posts,11\n"
        "social,,facebook,#tuhannenjayhdentyönmatkatoimisto,reposts,30\n"
    )
    csv = await client.post(
        f"{snapshot_url}/import/csv",
        content=hashtags.encode(),
        headers={**officer, "Content-Type": "text/csv"},
    )
    assert csv.status_code == 200, csv.text

    # 5. The report: what changed since last quarter, with charts, ready to print.
    report = await client.get(f"{snapshot_url}/report", headers=officer)
    assert report.status_code == 200
    page = report.text
    assert "@media print" in page
    assert page.count("<svg") >= 3
    assert "Verkkosivujen istunnot" in page
    assert "▲ +320" in page
    assert "Tulomuuttajat" in page
    assert "▲ +2" in page
    assert "#tuhannenjayhdentyönmatkatoimisto" in page
    assert "Turvallisuus ja luonto toistuivat palautteissa." in page
    assert "Khall" not in page  # the report speaks of tasks, not of the decision
    assert "2027-03-15 09:00" in page  # next quarter's task from the approved 2027 plan
    comparison = (await client.get(f"{snapshot_url}/comparison", headers=officer)).json()
    story = {m["key"]: m for m in comparison["metrics"]}
    assert story["website.sessions"]["change_pct"] == 26.7
    assert story["social.hashtag.#tuhannenjayhdentyönmatkatoimisto.posts"]["flag"] == "new"
