"""GraphQL's limits: what REST refuses, GraphQL refuses the same way."""

from typing import Any

import httpx
import pytest

from app.core.pagination import MAX_LIMIT
from tests.conftest import assert_problem


async def post(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
    )


# 6. `first` is refused as REST refuses `?limit=`

CONNECTIONS = [
    "municipalities(first: $first)",
    'serviceCards(municipality: "kemijarvi", first: $first)',
    'guides(municipality: "kemijarvi", first: $first)',
    'slots(municipality: "kemijarvi", first: $first)',
    'stories(municipality: "kemijarvi", first: $first)',
    'commsPlans(municipality: "kemijarvi", first: $first)',
    'analyticsSnapshots(municipality: "kemijarvi", first: $first)',
    'fundRounds(municipality: "kemijarvi", first: $first)',
    'fundIdeas(municipality: "kemijarvi", year: 2026, first: $first)',
    'fundExperiments(municipality: "kemijarvi", first: $first)',
]


@pytest.mark.parametrize("first", [-1, 0, MAX_LIMIT + 1])
async def test_first_out_of_range_is_refused_like_rests_limit(
    client: httpx.AsyncClient, auth: Any, first: int
) -> None:
    rest = await client.get("/api/v1/municipalities", params={"limit": first})
    (expected,) = assert_problem(rest, 422, "validation-failed")["errors"]
    assert expected["field"] == "query.limit"
    for connection in CONNECTIONS:
        query = f"query($first: Int!) {{ {connection} {{ total }} }}"
        body = (await post(client, query, auth("platform"), first=first)).json()
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "validation-failed", (connection, error)
        assert error["extensions"]["errors"] == [{**expected, "field": "first"}], connection
        literal = query.replace("($first: Int!)", "").replace("$first", str(first))
        again = (await post(client, literal, auth("platform"))).json()["errors"][0]
        assert again["extensions"]["errors"] == [{**expected, "field": "first"}], connection
