"""Input at the edge of its range is a 422 naming the field, never a 500; request bodies
are capped while they stream, before anything buffers or parses them."""

import json
from typing import Any

import httpx
import pytest

from app.contracts import OPENAPI_PATH
from tests.conftest import assert_problem
from tests.test_analytics import SNAPSHOTS, ga4_report
from tests.test_comms_plans import plan_body
from tests.test_fund import BASE as FUND
from tests.test_fund import idea_body, round_body
from tests.test_guides import GUIDE, GUIDES, make_guide
from tests.test_landing import story

BASE = "/api/v1/municipalities/kemijarvi"
HUGE = 8271483952008210611918419787776  # found by schemathesis: > 2**64
SPEC: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def _get_paths_with(parameter: str) -> list[str]:
    """Every GET route taking this query parameter, from the committed contract (which
    tests/test_contracts.py keeps equal to the code): a new collection is covered here
    without anyone remembering to add it."""
    return sorted(
        path
        for path, operations in SPEC["paths"].items()
        if any(
            p["in"] == "query" and p["name"] == parameter
            for p in operations.get("get", {}).get("parameters", [])
        )
    )


def _fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


def _concrete(path: str) -> str:
    return path.replace("{slug}", "kemijarvi").replace("{year}", "2024")  # a seeded round


COLLECTIONS = _get_paths_with("modified_since")


def test_the_collections_are_found() -> None:
    assert len(COLLECTIONS) >= 15
    assert "/api/v1/municipalities/{slug}/service-cards" in COLLECTIONS


# ---- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", COLLECTIONS)
@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z"]
)
async def test_modified_since_outside_what_utc_can_hold_is_a_422_on_every_collection(
    client: httpx.AsyncClient, auth: Any, path: str, moment: str
) -> None:
    """Year 1 at +14:00 is year 0 in UTC: converting it was an OverflowError (a 500)."""
    response = await client.get(
        _concrete(path), params={"modified_since": moment}, headers=auth("platform")
    )
    if moment.endswith("Z"):  # the very first instant is a valid "everything since"
        assert response.status_code in (200, 403), response.text
        return
    body = assert_problem(response, 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == ["query.modified_since"]


async def test_the_extremes_utc_can_hold_are_fine(client: httpx.AsyncClient) -> None:
    for moment in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00-14:00"):
        response = await client.get(f"{BASE}/stories", params={"modified_since": moment})
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "0001-01-01T00:00:00+14:00"}, "query.from"),
        ({"to": "9999-12-31T23:59:59-14:00"}, "query.to"),
        ({"from": "9999-12-31T00:00:00Z"}, "query.from"),  # + the default 31 days
        ({"from": "9999-12-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"}, None),
        ({"from": "0001-01-01T00:00:00Z", "to": "0001-02-01T00:00:00Z"}, None),
    ],
)
async def test_a_slot_window_at_the_ends_of_time(
    client: httpx.AsyncClient, params: dict[str, str], field: str | None
) -> None:
    response = await client.get(f"{BASE}/slots", params=params)
    if field is None:
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []
        return
    body = assert_problem(response, 422, "validation-failed")
    assert field in [e["field"] for e in body["errors"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "9999-12-31"}, "query.from"),
        ({"to": "9999-12-31", "from": "9999-12-30"}, "query.to"),
        ({"from": "0001-01-01", "to": "0001-01-31"}, "query.from"),
    ],
)
async def test_a_comms_calendar_at_the_ends_of_time(
    client: httpx.AsyncClient, auth: Any, params: dict[str, str], field: str
) -> None:
    plans = await client.get(
        f"{BASE}/comms-plans", params={"year": 2022}, headers=auth("kemijarvi-comms")
    )
    plan_id = plans.json()["items"][0]["id"]
    for suffix in ("calendar", "calendar.ics"):
        response = await client.get(
            f"{BASE}/comms-plans/{plan_id}/{suffix}",
            params=params,
            headers=auth("kemijarvi-comms"),
        )
        body = assert_problem(response, 422, "validation-failed")
        assert field in [e["field"] for e in body["errors"]]


# ---- whole numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (f"{BASE}/hsds/en/services", {"page": HUGE}, "query.page"),
        (f"{BASE}/hsds/en/organizations", {"page": HUGE}, "query.page"),
        (f"{BASE}/hsds/en/services", {"per_page": HUGE}, "query.per_page"),
        (f"{BASE}/hsds/en/services", {"page": 2**63}, "query.page"),
        (f"{BASE}/service-cards", {"limit": 10**30}, "query.limit"),
        (f"{BASE}/fund/experiments", {"year": 10**30}, "query.year"),
        (f"{BASE}/fund/rounds/{10**30}", {}, "path.year"),
        (f"{BASE}/roadmap/reviews/{10**30}", {}, "path.year"),
    ],
)
async def test_a_huge_whole_number_in_the_url_is_a_422(
    client: httpx.AsyncClient, path: str, params: dict[str, int], field: str
) -> None:
    """`?page=8271483952008210611918419787776` was a 500: "Integer exceeds 64-bit range"
    when the page number was echoed back in the links."""
    body = assert_problem(await client.get(path, params=params), 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == [field]


def test_every_whole_number_in_a_url_has_bounds() -> None:
    """So that a number too large for the database or the JSON encoder never gets in."""
    unbounded = []
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schemas = parameter["schema"].get("anyOf", [parameter["schema"]])
                for schema in schemas:
                    if schema.get("type") == "integer" and not (
                        "maximum" in schema and "minimum" in schema
                    ):
                        unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert unbounded == []


@pytest.mark.parametrize("number", [2**31, 2**63, HUGE])
async def test_a_huge_revision_number_is_a_422(
    client: httpx.AsyncClient, auth: Any, number: int
) -> None:
    cards = (await client.get(f"{BASE}/service-cards", headers=auth("kemijarvi-editor"))).json()
    url = f"{BASE}/service-cards/{cards['items'][0]['id']}/revisions/{number}/restore"
    body = assert_problem(
        await client.post(url, headers=auth("kemijarvi-editor")), 422, "validation-failed"
    )
    assert [e["field"] for e in body["errors"]] == ["path.number"]


# ---- numbers and times in bodies -------------------------------------------------------------


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00", "0001-01-01"]
)
async def test_a_time_utc_cannot_hold_in_a_body_is_a_422(
    client: httpx.AsyncClient, auth: Any, moment: str
) -> None:
    """Each was an OverflowError as the value was converted or bound: a 500."""
    comms = auth("kemijarvi-comms")
    before = (await client.get(f"{BASE}/stories", params={"status": "all"}, headers=comms)).json()
    created = await client.post(
        f"{BASE}/stories", json=story(1, 2, published_at=moment), headers=comms
    )
    assert "body.published_at" in _fields(assert_problem(created, 422, "validation-failed"))
    imported = await client.post(
        f"{BASE}/stories/import", json=[story(2, 3, published_at=moment)], headers=comms
    )
    assert [e["field"] for e in assert_problem(imported, 422)["errors"]] == ["[0].published_at"]
    csv = f"title,author,published_at\nTarina,Kemijärven kaupunki,{moment}\n"
    imported = await client.post(
        f"{BASE}/stories/import",
        content=csv.encode(),
        headers={**comms, "Content-Type": "text/csv"},
    )
    assert_problem(imported, 422, "import-rejected")
    after = (await client.get(f"{BASE}/stories", params={"status": "all"}, headers=comms)).json()
    assert after["total"] == before["total"]
    if "T" in moment:
        guide = await make_guide(client, auth)
        slot = {"starts_at": moment, "ends_at": moment, "modes": ["remote"]}
        response = await client.post(
            f"{GUIDES}/{guide['id']}/slots", json=slot, headers=auth("kemijarvi-admin")
        )
        assert "body.starts_at" in _fields(assert_problem(response, 422, "validation-failed"))


@pytest.mark.parametrize("day", ["9999-12-31", "1899-12-31"])
async def test_a_day_out_of_any_plan_in_a_body_is_a_422(
    client: httpx.AsyncClient, auth: Any, day: str
) -> None:
    """A guide's term (default: a year on) and a weekly rule's expansion added days to
    9999-12-31: OverflowError, a 500."""
    admin = auth("kemijarvi-admin")
    guide = await make_guide(client, auth)
    rule = {
        "weekday": 0,
        "local_start": "09:00",
        "duration_minutes": 60,
        "modes": ["remote"],
        "valid_from": day,
        "valid_until": day,
    }
    response = await client.post(f"{GUIDES}/{guide['id']}/slot-rules", json=rule, headers=admin)
    assert {"body.valid_from", "body.valid_until"} <= set(_fields(assert_problem(response, 422)))
    response = await client.post(GUIDES, json={**GUIDE, "term_start": day}, headers=admin)
    assert _fields(assert_problem(response, 422, "validation-failed")) == ["body.term_start"]


@pytest.mark.parametrize("figure", ["1e400", "-1e400", "Infinity", "NaN", "1e13"])
async def test_a_figure_that_is_not_a_finite_sensible_number_is_a_422(
    client: httpx.AsyncClient, auth: Any, figure: str
) -> None:
    """1e400 reads as infinity: a custom metric stored it as null and every read of the
    snapshot was a 500 after; a plan's target silently became null."""
    comms = {**auth("kemijarvi-comms"), "Content-Type": "application/json"}
    custom = {"key": "arrivals", "name": {"fi": "Saapujat"}, "value": "FIGURE"}
    snapshot = json.dumps({"quarter": "2030-Q1", "custom_metrics": [custom]})
    response = await client.post(
        SNAPSHOTS, content=snapshot.replace('"FIGURE"', figure), headers=comms
    )
    assert _fields(assert_problem(response, 422)) == ["body.custom_metrics[0].value"]
    assert (await client.get(SNAPSHOTS, params={"year": 2030}, headers=comms)).json()["total"] == 0
    plan = json.dumps(plan_body(2040)).replace('"target": 2000', f'"target": {figure}')
    response = await client.post(f"{BASE}/comms-plans", content=plan, headers=comms)
    assert _fields(assert_problem(response, 422)) == ["body.metrics[0].target"]


@pytest.mark.parametrize(
    "rows",
    [
        [("/a", [10**30])],
        [("/a", [1e300])],
        [("/a", ["999999999999999"])],  # 15 digits: allowed by the pattern, > 10**12
        [("/a", ["600000000000"]), ("/a", ["600000000000"])],  # repeats add up past it
    ],
)
async def test_a_figure_past_the_limit_in_a_ga4_import_is_rejected(
    client: httpx.AsyncClient, auth: Any, rows: list[tuple[str, list[Any]]]
) -> None:
    """The snapshot's own models refuse more than 10**12, so these were 500s."""
    comms = auth("kemijarvi-comms")
    snapshot = (await client.post(SNAPSHOTS, json={"quarter": "2030-Q2"}, headers=comms)).json()
    url = f"{SNAPSHOTS}/{snapshot['id']}/import"
    pages = ga4_report("pagePath", ["screenPageViews"], rows)
    response = await client.post(f"{url}/ga4", json=pages, headers=comms)
    assert_problem(response, 422, "import-rejected")
    if len(rows) == 1:
        totals = ga4_report(None, ["sessions"], [(None, rows[0][1])])
        response = await client.post(f"{url}/ga4", json=totals, headers=comms)
        assert_problem(response, 422, "import-rejected")
    for line in ("website,,,,sessions,999999999999999", "top_page,/a,,,views,1000000000001"):
        csv = f"section,item,platform,hashtag,metric,value\n{line}\n"
        response = await client.post(
            f"{url}/csv", content=csv.encode(), headers={**comms, "Content-Type": "text/csv"}
        )
        assert _fields(assert_problem(response, 422, "import-rejected")) == ["line 2, column value"]
    unchanged = (await client.get(f"{SNAPSHOTS}/{snapshot['id']}", headers=comms)).json()
    assert unchanged["revision"] == snapshot["revision"]


@pytest.mark.parametrize("amount", [2**31, 2**63, HUGE])
async def test_a_huge_sum_in_an_anonymous_idea_is_a_422(
    client: httpx.AsyncClient, auth: Any, amount: int
) -> None:
    """The request is an INTEGER column: PostgreSQL would refuse 2**31 at insert."""
    admin = auth("kemijarvi-admin")
    await client.post(f"{FUND}/rounds", json=round_body(2031, "open"), headers=admin)
    response = await client.post(
        f"{FUND}/rounds/2031/ideas", json=idea_body(amount_requested=amount)
    )
    assert _fields(assert_problem(response, 422)) == ["body.amount_requested"]
    assert (await client.get(f"{FUND}/rounds/2031/ideas")).json()["total"] == 0
