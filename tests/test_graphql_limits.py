"""GraphQL's limits: what REST refuses, GraphQL refuses the same way, and errors never
carry internal text: 1 000 root aliases answered "maximum recursion depth exceeded", and a
body of nested brackets was a 500."""

import logging
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


# 4. Errors never carry internal text; client errors log one line


async def test_an_error_outside_any_field_is_masked_and_logged_with_its_traceback(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from app.graphql.executor import Executor

    def overflow(*_: Any, **__: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(Executor, "execute_operation", overflow)
    with caplog.at_level(logging.INFO, logger="settle.graphql"):
        response = await post(client, "{ __typename }")
    assert "recursion" not in response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "internal-error"
    assert error["message"] == "Something went wrong on our side. It has been logged."
    (record,) = [r for r in caplog.records if r.name == "settle.graphql"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None


async def test_client_errors_are_logged_as_one_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await post(client, "{ me { email } }")  # unauthorized
        await post(client, "{ municipalities { nope } }")  # validation
        await post(client, '{ serviceCard(municipality: "atlantis", id: "x") { id } }')
    graphql = [r for r in caplog.records if "graphql" in r.name or "strawberry" in r.name]
    assert len(graphql) == 3, [r.getMessage() for r in graphql]
    assert all(r.levelno == logging.INFO and r.exc_info is None for r in graphql)
    assert [r.getMessage().split(" at ")[0] for r in graphql] == [
        "GraphQL unauthorized",
        "GraphQL bad-request",
        "GraphQL not-found",
    ]


async def test_syntax_errors_carry_a_code_too(client: httpx.AsyncClient) -> None:
    """A syntax error left the operation by an exception, and went out without a code."""
    body = (await post(client, "{ municipalities { ")).json()
    assert body["errors"][0]["extensions"]["code"] == "bad-request"


# 5. Bodies nested deeper than JSON parsers recurse


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        '{"query": "{ __typename }", "variables": {"a": ' + nested(50_000) + "}}",
        nested(50_000),
    ],
    ids=["variables", "body"],
)
async def test_a_deeply_nested_body_is_a_400_problem(client: httpx.AsyncClient, body: str) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "bad-request")


async def test_deeply_nested_variables_over_get_are_a_400_problem(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ __typename }", "variables": '{"a": ' + nested(2000) + "}"}
    )
    assert_problem(response, 400, "bad-request")


async def test_strawberrys_own_refusals_are_problems(client: httpx.AsyncClient) -> None:
    unknown = await client.post(
        "/graphql", json={"query": "query A { __typename }", "operationName": "B"}
    )
    assert_problem(unknown, 400, "bad-request")
    mutation = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert_problem(mutation, 400, "bad-request")


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
