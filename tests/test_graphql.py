"""GraphQL: the same data, languages, auth and problem codes as REST."""

from typing import Any

import httpx
import pytest

from tests.conftest import Database


async def gql(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_municipalities_with_translations(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        """{ municipalities(first: 2) { total nextCursor
               items { slug code name(lang: EN) nameI18n { fi sv en } } } }""",
    )
    data = body["data"]["municipalities"]
    assert data["total"] == 3
    assert [m["slug"] for m in data["items"]] == ["kemijarvi", "keminmaa"]
    assert data["items"][0]["nameI18n"]["fi"] == "Kemijärvi"
    rest = await gql(
        client,
        "query($after: String) { municipalities(after: $after) { items { slug } nextCursor } }",
        after=data["nextCursor"],
    )
    assert [m["slug"] for m in rest["data"]["municipalities"]["items"]] == ["posio"]


async def test_municipality_by_slug_in_english(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        """query($slug: String!) { municipality(slug: $slug) {
              code contact { email phone { number hours(lang: EN) price(lang: EN) }
              visitingAddress(lang: SV) } } }""",
        slug="kemijarvi",
    )
    municipality = body["data"]["municipality"]
    assert municipality["code"] == "320"
    assert municipality["contact"]["phone"]["hours"] == "Weekdays 9 am – 3 pm"
    assert municipality["contact"]["visitingAddress"] == "Kaupungintalo, 98100 Kemijärvi"
    missing = await gql(client, '{ municipality(slug: "atlantis") { code } }')
    assert missing["data"]["municipality"] is None


async def test_me_needs_a_token_and_says_so_with_a_code(
    client: httpx.AsyncClient, auth: Any
) -> None:
    anonymous = await gql(client, "{ me { email } }")
    assert anonymous["errors"][0]["extensions"]["code"] == "unauthorized"
    signed_in = await gql(
        client, "{ me { email roles { role municipality } } }", auth("posio-editor")
    )
    assert signed_in["data"]["me"]["roles"] == [{"role": "editor", "municipality": "posio"}]


async def test_bad_token_is_refused_like_rest(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ municipalities { total } }"},
        headers={"Authorization": "Bearer nonsense"},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid-token"


async def test_query_errors_carry_a_code(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ municipalities { nope } }")
    assert body["errors"][0]["extensions"]["code"] == "bad-request"


async def test_deep_queries_are_refused(client: httpx.AsyncClient, database: Database) -> None:
    depth = database.settings.graphql_max_depth + 2
    query = (
        "{ __schema { types { " + "fields { type { " * depth + "name" + " } }" * depth + " } } }"
    )
    body = await gql(client, query)
    assert body["errors"][0]["extensions"]["code"] == "bad-request"
    assert "depth" in body["errors"][0]["message"]


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_list_costs_a_fixed_number_of_queries(
    client: httpx.AsyncClient, count_queries: Any
) -> None:
    query = "{ municipalities { items { slug name(lang: FI) contact { email } } } }"
    with count_queries() as counter:
        await gql(client, query)
    assert counter.count == 2  # the count and the page, however many municipalities


async def test_several_database_fields_in_one_query(client: httpx.AsyncClient, auth: Any) -> None:
    """Root fields share one session, so they must not run at the same time."""
    body = await gql(
        client,
        """{ serviceCards(municipality: "kemijarvi", first: 20) { total items { title sections { entries { name } } } }
             posio: serviceCards(municipality: "posio") { total }
             municipalities { total } municipality(slug: "posio") { code }
             guides(municipality: "kemijarvi") { total items { displayName } }
             search: serviceCards(municipality: "keminmaa", q: "muutto") { total } me { email } }""",
        auth("kemijarvi-editor"),
    )
    assert "errors" not in body, body
    assert body["data"]["municipalities"]["total"] == 3
    assert body["data"]["municipality"]["code"] == "614"
    assert body["data"]["serviceCards"]["total"] >= 10
    assert body["data"]["me"]["email"] == "kemijarvi-editor@example.org"


async def test_several_card_lists_and_municipalities_at_once(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        """{ a: serviceCards(municipality: "kemijarvi", first: 20) { total items { title sections { entries { name } } } }
             b: serviceCards(municipality: "posio", first: 20) { total items { title } }
             c: municipalities { total } d: guides(municipality: "kemijarvi") { total items { displayName } }
             e: serviceCards(municipality: "keminmaa", q: "muutto") { total } }""",
    )
    assert "errors" not in body, body
    assert body["data"]["c"]["total"] == 3


async def test_a_repeated_query_is_validated_once(client: httpx.AsyncClient) -> None:
    """ValidationCache keys on the rules too: the depth rule must be the same object on
    every request, or no query would ever be a cache hit."""
    from strawberry.extensions.validation_cache import _get_validate_cache

    from app.graphql.schema import QUERY_CACHE_SIZE

    stats = _get_validate_cache(QUERY_CACHE_SIZE).cache_info
    query = "{ municipalities(first: 1) { items { slug } } }"
    await gql(client, query)
    hits = stats().hits
    await gql(client, query)
    assert stats().hits == hits + 1


def test_only_pure_subtrees_may_be_memoised() -> None:
    """A field that reads `info` (the viewer, the database) must keep its type out of the
    subtree memo: its answer is not a function of the object alone."""
    import strawberry
    from strawberry.types import Info

    from app.graphql import direct
    from app.graphql.executor import memoisable_types

    @strawberry.type
    class Leaf:
        name: str

        @strawberry.field
        def shout(self, loud: bool = False) -> str:
            return self.name.upper() if loud else self.name

    @strawberry.type
    class Viewerish:
        leaf: Leaf

        @strawberry.field
        def mine(self, info: Info) -> bool:
            return info.context is not None

    @strawberry.type
    class Pure:
        leaf: Leaf

    @strawberry.type
    class Query:
        pure: Pure
        viewerish: Viewerish

    schema = strawberry.Schema(query=Query)
    assert "Leaf.shout" in direct.install(schema, skip={"Query"})
    assert memoisable_types(schema._schema, ["Pure", "Leaf"]) == {"Pure", "Leaf"}
    with pytest.raises(ValueError, match="Viewerish"):
        memoisable_types(schema._schema, ["Viewerish"])
