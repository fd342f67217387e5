"""Analytics snapshots through the REST API: entering, importing (GA4 and CSV, refused
whole when bad), computed figures, comparisons, trends and the report."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.time import utcnow
from app.services.analytics import Quarter
from tests.conftest import assert_problem

BASE = "/api/v1/municipalities/kemijarvi/analytics"
SNAPSHOTS = f"{BASE}/snapshots"


def ga4_report(
    dimension: str | None, metrics: list[str], rows: list[tuple[str | None, list[str]]]
) -> dict[str, Any]:
    """A GA4 Data API runReport response, as the API returns it."""
    return {
        "dimensionHeaders": [{"name": dimension}] if dimension else [],
        "metricHeaders": [{"name": name, "type": "TYPE_INTEGER"} for name in metrics],
        "rows": [
            {
                **({"dimensionValues": [{"value": label}]} if dimension else {}),
                "metricValues": [{"value": value} for value in values],
            }
            for label, values in rows
        ],
        "rowCount": len(rows),
        "metadata": {"currencyCode": "EUR", "timeZone": "Europe/Helsinki"},
        "kind": "analyticsData#runReport",
    }


GA4_TOTALS = ga4_report(
    None, ["sessions", "screenPageViews", "totalUsers"], [(None, ["1520", "4310", "1105"])]
)
GA4_PAGES = ga4_report(
    "pagePath",
    ["screenPageViews", "sessions"],
    [
        ("/asettautuminen", ["640", "300"]),
        ("/tyopaikat", ["410", "200"]),
        ("/asettautuminen", ["10", "5"]),
    ],
)
GA4_SEARCH = ga4_report(
    "searchTerm",
    ["eventCount"],
    [("vuokra-asunnot", ["37"]), ("(not set)", ["9"]), ("päiväkoti", ["21"])],
)

CSV_GOOD = (
    "section,item,platform,hashtag,metric,value\n"
    "website,,,,sessions,1600\n"
    "social,,instagram,#kemijärvi,posts,14\n"
    "social,,instagram,#kemijärvi,likes,820\n"
    "social,,facebook,#tuhannenjayhdentyönmatkatoimisto,posts,12\n"
    "social,,facebook,#tuhannenjayhdentyönmatkatoimisto,clicks,95\n"
    "search_term,tontit,,,count,12\n"
)


async def new_snapshot(
    client: httpx.AsyncClient, auth: Any, quarter: str, **content: Any
) -> dict[str, Any]:
    response = await client.post(
        SNAPSHOTS, json={"quarter": quarter, **content}, headers=auth("kemijarvi-comms")
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


# ---- entering --------------------------------------------------------------------------------


async def test_a_snapshot_per_quarter(client: httpx.AsyncClient, auth: Any) -> None:
    snapshot = await new_snapshot(
        client,
        auth,
        "2026-q3",
        movers=12,
        successes=[{"fi": "Oppaat saivat kiitosta.", "en": "The guides were praised."}],
        to_develop=[{"fi": "Englanninkielinen sisältö."}],
        image_observations={"fi": "Turvallisuus mainittiin usein.", "en": "Safety came up often."},
        feedback=[{"source": "webropol", "responses": 41, "summary": {"fi": "Hyvä palvelu."}}],
        interviews=[
            {
                "consent": True,
                "segment": "remote-workers",
                "moods": {"fi": "Innostunut"},
                "first_impressions": {"fi": "Järvi ja hiljaisuus."},
            }
        ],
    )
    assert snapshot["quarter"] == "2026-Q3"
    assert snapshot["period"] == {"from": "2026-07-01", "to": "2026-09-30"}
    assert snapshot["movers"] == 12
    assert snapshot["updated_by"] == "kemijarvi-comms"
    keys = {m["key"]: m["value"] for m in snapshot["metrics"]}
    assert keys["movers"] == 12
    assert keys["feedback.responses"] == 41
    assert keys["interviews"] == 1
    assert set(snapshot["computed"]) >= {"stale_service_cards", "service_cards_changed"}
    duplicate = await client.post(
        SNAPSHOTS, json={"quarter": "2026-Q3"}, headers=auth("kemijarvi-admin")
    )
    assert_problem(duplicate, 409, "duplicate")
    english = (
        await client.get(
            f"{SNAPSHOTS}/{snapshot['id']}", params={"lang": "en"}, headers=auth("kemijarvi-comms")
        )
    ).json()
    assert english["successes"] == ["The guides were praised."]
    assert english["to_develop"] == ["Englanninkielinen sisältö."]
    assert "to_develop[0]" in english["meta"]["fallback_fields"]
    assert english["image_observations"] == "Safety came up often."


@pytest.mark.parametrize("quarter", ["2026-Q5", "2026Q3", "Q3-2026", "1999-Q1", ""])
async def test_a_bad_quarter_is_a_422(client: httpx.AsyncClient, auth: Any, quarter: str) -> None:
    response = await client.post(
        SNAPSHOTS, json={"quarter": quarter}, headers=auth("kemijarvi-comms")
    )
    assert assert_problem(response, 422)["errors"][0]["field"] == "body.quarter"


async def test_interviews_need_consent_and_never_hold_names(
    client: httpx.AsyncClient, auth: Any
) -> None:
    headers = auth("kemijarvi-comms")
    no_consent = await client.post(
        SNAPSHOTS,
        json={"quarter": "2026-Q2", "interviews": [{"consent": False, "moods": {"fi": "Hyvä"}}]},
        headers=headers,
    )
    assert assert_problem(no_consent, 422)["errors"][0]["field"] == "body.interviews[0].consent"
    missing = await client.post(
        SNAPSHOTS,
        json={"quarter": "2026-Q2", "interviews": [{"moods": {"fi": "Hyvä"}}]},
        headers=headers,
    )
    assert_problem(missing, 422)
    named = await client.post(
        SNAPSHOTS,
        json={
            "quarter": "2026-Q2",
            "interviews": [
                {"consent": True, "name": "Maija Meikäläinen", "email": "m@example.org"}
            ],
        },
        headers=headers,
    )
    fields = {e["field"] for e in assert_problem(named, 422)["errors"]}
    assert fields == {"body.interviews[0].name", "body.interviews[0].email"}


async def test_updates_need_if_match(client: httpx.AsyncClient, auth: Any) -> None:
    headers = auth("kemijarvi-comms")
    created = await client.post(SNAPSHOTS, json={"quarter": "2026-Q1"}, headers=headers)
    url = f"{SNAPSHOTS}/{created.json()['id']}"
    assert_problem(await client.patch(url, json={"movers": 3}, headers=headers), 428)
    stale = await client.patch(url, json={"movers": 3}, headers={**headers, "If-Match": '"x"'})
    assert_problem(stale, 412)
    updated = await client.patch(
        url, json={"movers": 3}, headers={**headers, "If-Match": created.headers["etag"]}
    )
    assert updated.json()["movers"] == 3
    assert updated.json()["revision"] == 2
    cleared = await client.patch(
        url, json={"movers": None}, headers={**headers, "If-Match": updated.headers["etag"]}
    )
    assert cleared.json()["movers"] is None


async def test_access_is_for_comms_and_admins_of_the_municipality(
    client: httpx.AsyncClient, auth: Any
) -> None:
    snapshot = await new_snapshot(client, auth, "2026-Q3", movers=5)
    url = f"{SNAPSHOTS}/{snapshot['id']}"
    for path in (
        SNAPSHOTS,
        url,
        f"{url}/comparison",
        f"{url}/report",
        f"{BASE}/trends/movers",
        f"{BASE}/csv-template",
    ):
        assert_problem(await client.get(path), 401)
        assert_problem(await client.get(path, headers=auth("posio-admin")), 404)
        assert_problem(await client.get(path, headers=auth("kemijarvi-editor")), 403)
    assert_problem(
        await client.post(SNAPSHOTS, json={"quarter": "2026-Q4"}, headers=auth("posio-admin")), 403
    )
    assert_problem(
        await client.post(f"{url}/import/ga4", json=GA4_TOTALS, headers=auth("kemijarvi-guide")),
        403,
    )
    for allowed in ("kemijarvi-admin", "platform"):
        assert (await client.get(url, headers=auth(allowed))).status_code == 200
    posio = await client.get(
        "/api/v1/municipalities/posio/analytics/snapshots", headers=auth("platform")
    )
    assert posio.json()["total"] == 0
    assert_problem(
        await client.get(
            f"/api/v1/municipalities/posio/analytics/snapshots/{snapshot['id']}",
            headers=auth("platform"),
        ),
        404,
    )


# ---- imports ---------------------------------------------------------------------------------


async def test_ga4_reports_are_imported_by_header_names(
    client: httpx.AsyncClient, auth: Any
) -> None:
    snapshot = await new_snapshot(client, auth, "2026-Q3")
    url = f"{SNAPSHOTS}/{snapshot['id']}/import/ga4"
    headers = auth("kemijarvi-comms")
    totals = await client.post(url, json=GA4_TOTALS, headers=headers)
    assert totals.status_code == 200, totals.text
    website = totals.json()["website"]
    assert (website["sessions"], website["page_views"], website["users"]) == (1520, 4310, 1105)
    batch = await client.post(
        url,
        json={"reports": [GA4_PAGES, GA4_SEARCH]},
        headers={**headers, "If-Match": totals.headers["etag"]},
    )
    assert batch.status_code == 200, batch.text
    body = batch.json()
    assert body["website"]["sessions"] == 1520  # a later report without totals keeps them
    assert body["website"]["top_pages"] == [
        {"path": "/asettautuminen", "views": 650},
        {"path": "/tyopaikat", "views": 410},
    ]
    assert body["website"]["top_search_terms"] == [
        {"term": "vuokra-asunnot", "count": 37},
        {"term": "päiväkoti", "count": 21},
    ]
    assert [(i["kind"], i["rows"]) for i in body["imports"]] == [("ga4", 1), ("ga4", 6)]
    active = ga4_report(None, ["activeUsers"], [(None, ["999"])])
    users = await client.post(url, json=active, headers=headers)
    assert users.json()["website"]["users"] == 999


async def test_a_bad_ga4_file_is_rejected_whole_with_pointers(
    client: httpx.AsyncClient, auth: Any
) -> None:
    snapshot = await new_snapshot(client, auth, "2026-Q3")
    url = f"{SNAPSHOTS}/{snapshot['id']}/import/ga4"
    headers = auth("kemijarvi-comms")
    bad = ga4_report(
        "pagePath",
        ["screenPageViews"],
        [("/a", ["10"]), ("/b", ["11"]), ("/c", ["12"]), ("/d", ["many"]), ("/e", ["-4"])],
    )
    bad["rows"][1]["dimensionValues"] = []
    response = await client.post(url, json=bad, headers=headers)
    problem = assert_problem(response, 422, "import-rejected")
    assert [e["field"] for e in problem["errors"]] == [
        "body.rows[1].dimensionValues",
        "body.rows[3].metricValues[0].value",
        "body.rows[4].metricValues[0].value",
    ]
    assert "nothing was imported" in problem["detail"]
    batch = await client.post(url, json={"reports": [GA4_TOTALS, bad]}, headers=headers)
    fields = [e["field"] for e in assert_problem(batch, 422, "import-rejected")["errors"]]
    assert fields[1] == "body.reports[1].rows[3].metricValues[0].value"
    unsupported = ga4_report("country", ["sessions"], [("Finland", ["5"])])
    problem = assert_problem(await client.post(url, json=unsupported, headers=headers), 422)
    assert problem["errors"][0]["field"] == "body.dimensionHeaders"
    not_json = await client.post(
        url, content=b"{nope", headers={**headers, "Content-Type": "application/json"}
    )
    assert_problem(not_json, 422, "import-rejected")
    wrong_type = await client.post(
        url, content=b"a,b", headers={**headers, "Content-Type": "text/csv"}
    )
    assert_problem(wrong_type, 415, "unsupported-media-type")
    after = (await client.get(f"{SNAPSHOTS}/{snapshot['id']}", headers=headers)).json()
    assert after["website"] is None
    assert after["imports"] == []
    assert after["revision"] == snapshot["revision"]


async def test_csv_figures_are_imported(client: httpx.AsyncClient, auth: Any) -> None:
    headers = auth("kemijarvi-comms")
    template = await client.get(f"{BASE}/csv-template", headers=headers)
    assert template.headers["content-type"].startswith("text/csv")
    assert template.text.splitlines()[0] == "section,item,platform,hashtag,metric,value"
    snapshot = await new_snapshot(client, auth, "2026-Q3")
    url = f"{SNAPSHOTS}/{snapshot['id']}/import/csv"
    csv_headers = {**headers, "Content-Type": "text/csv; charset=utf-8"}
    from_template = await client.post(url, content=template.content, headers=csv_headers)
    assert from_template.status_code == 200, from_template.text
    response = await client.post(url, content=("\ufeff" + CSV_GOOD).encode(), headers=csv_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["website"]["sessions"] == 1600
    assert body["website"]["page_views"] == 4310  # not in this file: kept from the template
    assert body["website"]["top_search_terms"] == [{"term": "tontit", "count": 12}]
    assert body["social"] == [
        {
            "platform": "instagram",
            "hashtag": "#kemijärvi",
            "posts": 14,
            "clicks": None,  # not in the file: not measured, not zero
            "likes": 820,
            "reposts": None,
        },
        {
            "platform": "facebook",
            "hashtag": "#tuhannenjayhdentyönmatkatoimisto",
            "posts": 12,
            "clicks": 95,
            "likes": None,
            "reposts": None,
        },
    ]
    metrics = {m["key"]: m["value"] for m in body["metrics"]}
    assert metrics["social.posts"] == 26
    assert metrics["social.hashtag.#tuhannenjayhdentyönmatkatoimisto.posts"] == 12
    assert metrics["social.platform.instagram.likes"] == 820
    assert body["imports"][-1]["kind"] == "csv"
    assert body["imports"][-1]["rows"] == 6


async def test_a_bad_csv_is_rejected_whole_with_line_numbers(
    client: httpx.AsyncClient, auth: Any
) -> None:
    headers = {**auth("kemijarvi-comms"), "Content-Type": "text/csv"}
    snapshot = await new_snapshot(client, auth, "2026-Q3")
    url = f"{SNAPSHOTS}/{snapshot['id']}/import/csv"
    bad = (
        "section,item,platform,hashtag,metric,value\n"  # 1
        "website,,,,sessions,1600\n"  # 2
        "website,,,,sessions,twelve\n"  # 3
        "\n"  # 4 (blank lines are skipped)
        "social,,instagram,kemijärvi,posts,14\n"  # 5: a hashtag without # is fine
        "social,,,#kemijärvi,likes,3\n"  # 6: no platform
        "weather,,,,sun,5\n"  # 7
        "website,,,,sessions,1700\n"  # 8: repeats line 2
        "website,,,\n"  # 9: too few columns
    )
    problem = assert_problem(
        await client.post(url, content=bad.encode(), headers=headers), 422, "import-rejected"
    )
    assert [e["field"] for e in problem["errors"]] == [
        "line 3, column value",
        "line 6, column platform",
        "line 7, column section",
        "line 8, column metric",
        "line 9",
    ]
    no_header = await client.post(url, content=b"website,,,,sessions,1\n", headers=headers)
    assert assert_problem(no_header, 422)["errors"][0]["field"] == "line 1"
    latin1 = "section,item,platform,hashtag,metric,value\nsearch_term,päiväkoti,,,count,3\n"
    encoded = await client.post(url, content=latin1.encode("latin-1"), headers=headers)
    assert assert_problem(encoded, 422)["errors"][0]["field"] == "line 2"
    empty = await client.post(url, content=b"", headers=headers)
    assert_problem(empty, 422, "import-rejected")
    after = (
        await client.get(f"{SNAPSHOTS}/{snapshot['id']}", headers=auth("kemijarvi-comms"))
    ).json()
    assert (after["website"], after["social"], after["imports"]) == (None, [], [])


# ---- computed figures, comparison, trends -----------------------------------------------------


async def test_computed_figures_come_from_the_service_card_history(
    client: httpx.AsyncClient, auth: Any
) -> None:
    """The seed's cards were written now and never verified, so this quarter they are
    stale and changed; the quarter before they did not exist yet."""
    now = Quarter.of(utcnow())
    headers = auth("kemijarvi-comms")
    current = await new_snapshot(client, auth, str(now))
    stale_now = (
        await client.get(
            "/api/v1/municipalities/kemijarvi/service-cards",
            params={"stale": "true", "status": "all"},
            headers=headers,
        )
    ).json()["meta"]["stale_count"]
    assert stale_now > 0
    assert current["computed"]["stale_service_cards"] == stale_now
    assert current["computed"]["service_cards_changed"] >= stale_now
    before = await new_snapshot(client, auth, str(now.shift(-1)))
    assert before["computed"]["stale_service_cards"] == 0
    assert before["computed"]["service_cards_changed"] == 0
    future = await new_snapshot(client, auth, str(now.shift(2)))
    assert future["computed"] == {}


async def test_bookings_messages_packages_and_guides_are_counted_not_typed(
    client: httpx.AsyncClient, auth: Any
) -> None:
    from tests.test_bookings import booking_body
    from tests.test_guides import make_guide, make_slot, next_week_at

    now = Quarter.of(utcnow())
    empty = await new_snapshot(client, auth, str(now.shift(-1)))
    assert {
        empty["computed"][k]
        for k in ("bookings", "messages", "info_package_requests", "new_guides")
    } == {0}
    guide = await make_guide(client, auth)
    slot = await make_slot(client, auth, guide["id"], next_week_at(10))
    base = "/api/v1/municipalities/kemijarvi"
    assert (await client.post(f"{base}/bookings", json=booking_body(slot["id"]))).status_code == 201
    message = {
        "name": "A",
        "email": "a@example.org",
        "topic": "housing",
        "text": "Hi",
        "consent": True,
    }
    assert (await client.post(f"{base}/messages", json=message)).status_code == 201
    package = {"email": "a@example.org", "topics": ["rentals"], "consent": True}
    assert (await client.post(f"{base}/info-package-requests", json=package)).status_code == 201
    current = await new_snapshot(client, auth, str(now))
    assert current["computed"]["bookings"] == 1
    assert current["computed"]["messages"] == 1
    assert current["computed"]["info_package_requests"] == 1
    assert current["computed"]["new_guides"] == 1


async def test_comparison_with_the_previous_quarter_and_a_year_before(
    client: httpx.AsyncClient, auth: Any
) -> None:
    headers = auth("kemijarvi-comms")
    await new_snapshot(
        client,
        auth,
        "2025-Q3",
        movers=10,
        website={"sessions": 1000},
    )
    await new_snapshot(
        client,
        auth,
        "2026-Q2",
        movers=0,
        website={"sessions": 1200, "page_views": 3000},
        social=[{"platform": "facebook", "hashtag": "#kemijarvi", "posts": 5}],
    )
    current = await new_snapshot(
        client,
        auth,
        "2026-Q3",
        movers=8,
        website={"sessions": 1500, "page_views": 2700, "users": 900},
    )
    response = await client.get(f"{SNAPSHOTS}/{current['id']}/comparison", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["quarter"], body["against"], body["compare"]) == ("2026-Q3", "2026-Q2", "previous")
    assert body["against_snapshot"] is not None
    metrics = {m["key"]: m for m in body["metrics"]}
    sessions = metrics["website.sessions"]
    assert (
        sessions["value"],
        sessions["previous"],
        sessions["change_abs"],
        sessions["change_pct"],
    ) == (
        1500,
        1200,
        300,
        25.0,
    )
    assert metrics["website.page_views"]["change_pct"] == -10.0
    movers = metrics["movers"]
    assert (movers["previous"], movers["change_abs"], movers["change_pct"]) == (0, 8, None)
    assert metrics["website.users"]["flag"] == "new"
    assert metrics["website.users"]["previous"] is None
    gone = metrics["social.posts"]
    assert (gone["flag"], gone["value"], gone["previous"]) == ("vanished", None, 5)
    assert metrics["social.hashtag.#kemijarvi.posts"]["flag"] == "vanished"
    assert metrics["website.sessions"]["flag"] is None
    assert "computed.stale_service_cards" in metrics
    year_ago = (
        await client.get(
            f"{SNAPSHOTS}/{current['id']}/comparison",
            params={"compare": "year_ago"},
            headers=headers,
        )
    ).json()
    assert year_ago["against"] == "2025-Q3"
    by_key = {m["key"]: m for m in year_ago["metrics"]}
    assert by_key["website.sessions"]["change_pct"] == 50.0
    assert by_key["movers"]["change_pct"] == -20.0
    assert_problem(
        await client.get(
            f"{SNAPSHOTS}/{current['id']}/comparison",
            params={"compare": "yesterday"},
            headers=headers,
        ),
        422,
    )
    english = (
        await client.get(
            f"{SNAPSHOTS}/{current['id']}/comparison", params={"lang": "en"}, headers=headers
        )
    ).json()
    assert {m["key"]: m["label"] for m in english["metrics"]}["movers"] == "Movers"


async def test_without_an_earlier_snapshot_nothing_is_flagged(
    client: httpx.AsyncClient, auth: Any
) -> None:
    first = await new_snapshot(client, auth, "2024-Q1", movers=3)
    body = (
        await client.get(f"{SNAPSHOTS}/{first['id']}/comparison", headers=auth("kemijarvi-comms"))
    ).json()
    assert body["against_snapshot"] is None
    movers = {m["key"]: m for m in body["metrics"]}["movers"]
    assert (movers["previous"], movers["change_abs"], movers["flag"]) == (None, None, None)


async def test_trend_of_a_metric_over_quarters(client: httpx.AsyncClient, auth: Any) -> None:
    headers = auth("kemijarvi-comms")
    await new_snapshot(client, auth, "2025-Q4", website={"sessions": 900})
    await new_snapshot(client, auth, "2026-Q2", website={"sessions": 1200})
    response = await client.get(
        f"{BASE}/trends/website.sessions",
        params={"from": "2025-Q3", "to": "2026-Q2"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["metric"] == "website.sessions"
    assert body["label"] == {"fi": "Verkkosivujen istunnot", "en": "Website sessions"}
    assert body["points"] == [
        {"quarter": "2025-Q3", "value": None},
        {"quarter": "2025-Q4", "value": 900},
        {"quarter": "2026-Q1", "value": None},
        {"quarter": "2026-Q2", "value": 1200},
    ]
    default = (
        await client.get(f"{BASE}/trends/computed.stale_service_cards", headers=headers)
    ).json()
    assert len(default["points"]) == 8
    assert default["points"][-1]["quarter"] == str(Quarter.of(utcnow()))
    assert default["points"][-1]["value"] > 0
    hashtag = await client.get(
        f"{BASE}/trends/social.hashtag.%23kemijärvi.posts", params={"lang": "en"}, headers=headers
    )
    assert hashtag.json()["metric"] == "social.hashtag.#kemijärvi.posts"
    bad = await client.get(f"{BASE}/trends/movers", params={"from": "2026-Q9"}, headers=headers)
    assert assert_problem(bad, 422)["errors"][0]["field"] == "query.from"
    long = await client.get(
        f"{BASE}/trends/movers", params={"from": "2000-Q1", "to": "2026-Q1"}, headers=headers
    )
    assert_problem(long, 422)


# ---- the report ------------------------------------------------------------------------------


async def test_the_report_in_html_and_markdown(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    headers = auth("kemijarvi-comms")
    await new_snapshot(client, auth, "2026-Q2", movers=6, website={"sessions": 1200})
    current = await new_snapshot(
        client,
        auth,
        "2026-Q3",
        movers=9,
        website={"sessions": 1500},
        successes=[{"fi": "Oppaat <b>saivat</b> kiitosta.", "en": "The guides were praised."}],
        to_develop=[{"fi": "Englanninkielinen sisältö | kartat"}],
        image_observations={"fi": "Turvallisuus mainittiin usein."},
    )
    url = f"{SNAPSHOTS}/{current['id']}/report"
    html = await client.get(url, headers=headers)
    assert html.status_code == 200, html.text
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    page = html.text
    assert page.count("<svg") >= 2
    assert "<title id=" in page
    assert "<desc id=" in page
    assert "@media print" in page
    assert "Verkkosivujen istunnot" in page
    assert "Tulomuuttajat" in page
    assert "▲ +300" in page
    assert "+25.0 %" in page
    assert "Oppaat &lt;b&gt;saivat&lt;/b&gt; kiitosta." in page
    assert "Turvallisuus mainittiin usein." in page
    assert "Vuodelle 2026 ei ole viestintäsuunnitelmaa." in page
    assert "2026-Q4" in page
    again = await client.get(url, headers=headers)
    assert again.text == page
    english = await client.get(url, params={"lang": "en"}, headers=headers)
    assert "The guides were praised." in english.text
    assert english.headers["content-language"] == "en"
    markdown = await client.get(url, params={"format": "md"}, headers=headers)
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    text = markdown.text
    assert text.startswith("# Asettautumispalvelujen viestinnän neljännesvuosiraportti")
    assert "| Verkkosivujen istunnot | 1\u00a0500 | 1\u00a0200 | ▲ +300 | ▲ +25.0 % |" in text
    assert "| 2026-Q2 | 1\u00a0200 |" in text
    assert "Englanninkielinen sisältö \\| kartat" in text
    assert "/analytics/trends/website.sessions?from=2024-Q4&to=2026-Q3" in text
    assert "<svg" not in text
    assert_problem(await client.get(url, params={"format": "pdf"}, headers=headers), 422)


async def test_the_report_lists_the_next_quarters_tasks_and_targets(
    client: httpx.AsyncClient, auth: Any
) -> None:
    from tests.test_comms_plans import approved_plan

    plan = await approved_plan(client, auth, 2027)
    current = await new_snapshot(client, auth, "2026-Q4", website={"sessions": 1800})
    await new_snapshot(client, auth, "2027-Q1", website={"sessions": 1900})
    headers = auth("kemijarvi-comms")
    page = (await client.get(f"{SNAPSHOTS}/{current['id']}/report", headers=headers)).text
    assert "Viestintäsuunnitelman tehtävät neljänneksellä 2027-Q1" in page
    assert "2027-01-15 09:00" in page
    assert "Raportti valtuustolle" in page
    assert "Laskeutumissivu" in page  # the continuous row
    assert f"{plan['year']} v1 (hyväksytty)" in page
    q1 = (await client.get(SNAPSHOTS, params={"year": 2027}, headers=headers)).json()["items"][0]
    comparison = (await client.get(f"{SNAPSHOTS}/{q1['id']}/comparison", headers=headers)).json()
    sessions = {m["key"]: m for m in comparison["metrics"]}["website.sessions"]
    assert sessions["target"] == 2000
    assert (sessions["value"], sessions["previous"]) == (1900, 1800)


async def test_listing_snapshots_newest_first(client: httpx.AsyncClient, auth: Any) -> None:
    for quarter in ("2025-Q4", "2026-Q2", "2026-Q1"):
        await new_snapshot(client, auth, quarter)
    headers = auth("kemijarvi-comms")
    first = (await client.get(SNAPSHOTS, params={"limit": 2}, headers=headers)).json()
    assert [s["quarter"] for s in first["items"]] == ["2026-Q2", "2026-Q1"]
    assert first["total"] == 3
    assert "metrics" not in first["items"][0]
    rest = (
        await client.get(
            SNAPSHOTS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        )
    ).json()
    assert [s["quarter"] for s in rest["items"]] == ["2025-Q4"]
    assert rest["next_cursor"] is None
    in_2026 = (await client.get(SNAPSHOTS, params={"year": 2026}, headers=headers)).json()
    assert in_2026["total"] == 2


async def test_deleting_a_snapshot(client: httpx.AsyncClient, auth: Any) -> None:
    headers = auth("kemijarvi-comms")
    created = await client.post(SNAPSHOTS, json={"quarter": "2026-Q1"}, headers=headers)
    url = f"{SNAPSHOTS}/{created.json()['id']}"
    assert_problem(await client.delete(url, headers=headers), 428)
    assert (
        await client.delete(url, headers={**headers, "If-Match": created.headers["etag"]})
    ).status_code == 204
    assert_problem(await client.get(url, headers=headers), 404)


def test_quarters_begin_at_midnight_in_helsinki() -> None:
    quarter = Quarter.parse("2026-Q2")
    assert quarter.start.isoformat() == "2026-04-01T00:00:00+03:00"
    assert quarter.end.isoformat() == "2026-07-01T00:00:00+03:00"
    assert (quarter.first_day.isoformat(), quarter.last_day.isoformat()) == (
        "2026-04-01",
        "2026-06-30",
    )
    assert str(Quarter.parse("2026-Q1").shift(-1)) == "2025-Q4"
    assert str(Quarter.parse("2026-Q4").shift(1)) == "2027-Q1"
    assert Quarter.of(quarter.start - timedelta(seconds=1)) == Quarter(2026, 1)


async def test_figures_never_entered_stay_absent_not_zero(
    client: httpx.AsyncClient, auth: Any
) -> None:
    """A quarter that counted only posts says nothing of likes: the README's "absent is
    not zero" holds in the snapshot, the comparison, the trend and the report."""
    headers = auth("kemijarvi-comms")
    earlier = await new_snapshot(
        client,
        auth,
        "2026-Q2",
        social=[{"platform": "instagram", "hashtag": "#kemijarvi", "posts": 4}],
    )
    assert earlier["social"] == [
        {
            "platform": "instagram",
            "hashtag": "#kemijarvi",
            "posts": 4,
            "clicks": None,
            "likes": None,
            "reposts": None,
        }
    ]
    assert "social.likes" not in {m["key"] for m in earlier["metrics"]}
    current = await new_snapshot(
        client,
        auth,
        "2026-Q3",
        social=[{"platform": "instagram", "hashtag": "#kemijarvi", "posts": 6, "likes": 820}],
    )
    comparison = (
        await client.get(f"{SNAPSHOTS}/{current['id']}/comparison", headers=headers)
    ).json()
    likes = next(m for m in comparison["metrics"] if m["key"] == "social.likes")
    assert (likes["value"], likes["previous"], likes["change_abs"]) == (820, None, None)
    trend = (
        await client.get(
            f"{BASE}/trends/social.likes",
            params={"from": "2026-Q2", "to": "2026-Q3"},
            headers=headers,
        )
    ).json()
    assert [p["value"] for p in trend["points"]] == [None, 820]
    report = await client.get(
        f"{SNAPSHOTS}/{current['id']}/report", params={"format": "md"}, headers=headers
    )
    assert "▲ +820" not in report.text
    graphql = await client.post(
        "/graphql",
        json={
            "query": 'query($id: ID!) { analyticsSnapshot(municipality: "kemijarvi", id: $id) '
            "{ social { posts likes clicks } } }",
            "variables": {"id": earlier["id"]},
        },
        headers=headers,
    )
    assert graphql.json()["data"]["analyticsSnapshot"]["social"] == [
        {"posts": 4, "likes": None, "clicks": None}
    ], graphql.text
