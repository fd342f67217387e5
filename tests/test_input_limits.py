"""Input at the edge of its range is a 422 naming the field, never a 500; request bodies
are capped while they stream, before anything buffers or parses them."""

import json
from typing import Any

import httpx
import pytest

from app.contracts import OPENAPI_PATH
from tests.conftest import assert_problem

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
