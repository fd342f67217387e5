"""Service cards through GraphQL: the same data, rules and problem codes as REST."""

from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.test_graphql import gql
from tests.test_service_cards import NEW_CARD, _municipality_with_cards

LIST = """
query($m: String!, $q: String, $first: Int, $lang: Lang!) {
  serviceCards(municipality: $m, q: $q, first: $first) {
    total nextCursor
    items { id topic revision updatedBy title(lang: $lang) titleI18n { fi en }
      sections { heading(lang: $lang) entries { id kind name(lang: $lang) when
        links { url label(lang: $lang) } phones { number price(lang: $lang) } } } }
  }
}"""

CREATE = """
mutation($m: String!, $input: ServiceCardInput!) {
  createServiceCard(municipality: $m, input: $input) {
    id status revision title(lang: EN) sections { entries { name phones { number } } }
  }
}"""


def as_input(card: dict[str, Any]) -> dict[str, Any]:
    return card


async def test_cards_in_english_with_sections_and_entries(client: httpx.AsyncClient) -> None:
    body = await gql(client, LIST, m="kemijarvi", first=50, lang="EN")
    data = body["data"]["serviceCards"]
    assert data["total"] >= 10
    home = data["items"][0]
    assert home["topic"] == "home"
    names = [e["name"] for s in home["sections"] for e in s["entries"]]
    assert "Kemijärven Vuokratalot" in names
    assert home["titleI18n"]["fi"] == "Luonnostaan onnelliseksi omassa kodissa"


async def test_search_finds_paivakodit(client: httpx.AsyncClient) -> None:
    body = await gql(client, LIST, m="kemijarvi", q="päiväkodit", first=5, lang="FI")
    assert body["data"]["serviceCards"]["items"][0]["topic"] == "children"


async def test_create_update_and_publish_with_rest_rules(
    client: httpx.AsyncClient, auth: Any
) -> None:
    anonymous = await gql(client, CREATE, m="kemijarvi", input=NEW_CARD)
    assert anonymous["errors"][0]["extensions"]["code"] == "unauthorized"
    outsider = await gql(client, CREATE, auth("posio-editor"), m="kemijarvi", input=NEW_CARD)
    assert outsider["errors"][0]["extensions"]["code"] == "forbidden"
    created = await gql(client, CREATE, auth("kemijarvi-editor"), m="kemijarvi", input=NEW_CARD)
    card = created["data"]["createServiceCard"]
    assert card["status"] == "draft"
    assert card["title"] == "Housing advice"
    assert card["sections"][0]["entries"][0]["phones"][0]["number"] == "+358401234567"
    update = """mutation($id: ID!, $rev: Int!, $input: ServiceCardPatch!) {
      updateServiceCard(municipality: "kemijarvi", id: $id, revision: $rev, input: $input) {
        revision updatedBy updatedItems title(lang: FI) } }"""
    patch = {"title": {"fi": "Asumisen neuvonta", "en": "Housing advice"}}
    updated = await gql(client, update, auth("kemijarvi-admin"), id=card["id"], rev=1, input=patch)
    assert updated["data"]["updateServiceCard"]["revision"] == 2
    assert updated["data"]["updateServiceCard"]["updatedItems"] == ["title"]
    stale = await gql(client, update, auth("kemijarvi-admin"), id=card["id"], rev=1, input=patch)
    assert stale["errors"][0]["extensions"]["code"] == "precondition-failed"
    publish = (
        'mutation($id: ID!) { publishServiceCard(municipality: "kemijarvi", id: $id) { status } }'
    )
    published = await gql(client, publish, auth("kemijarvi-editor"), id=card["id"])
    assert published["data"]["publishServiceCard"]["status"] == "published"
    rest = await client.get(f"/api/v1/municipalities/kemijarvi/service-cards/{card['id']}")
    assert rest.json()["title"]["fi"] == "Asumisen neuvonta"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": {"en": "no Finnish", "fi": ""}}, "input.title.fi"),
        ({"topic": "nope"}, "body.topic"),
        ({"personas": ["aliens"]}, "input.personas[0]"),
    ],
)
async def test_bad_input_gives_the_rest_problem_code(
    client: httpx.AsyncClient, auth: Any, change: dict[str, Any], field: str
) -> None:
    body = await gql(
        client, CREATE, auth("kemijarvi-editor"), m="kemijarvi", input={**NEW_CARD, **change}
    )
    error = body["errors"][0]["extensions"]
    assert error["code"] == "validation-failed"
    assert error["errors"][0]["field"] == field


async def test_drafts_need_staff(client: httpx.AsyncClient, auth: Any) -> None:
    query = '{ serviceCards(municipality: "kemijarvi", status: "draft") { total } }'
    assert (await gql(client, query))["errors"][0]["extensions"]["code"] == "unauthorized"
    assert (await gql(client, query, auth("posio-editor")))["errors"][0]["extensions"][
        "code"
    ] == "not-found"
    assert (await gql(client, query, auth("kemijarvi-editor")))["data"]["serviceCards"][
        "total"
    ] == 0


async def test_5_or_50_cards_with_entries_cost_the_same_queries(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, count_queries: Any
) -> None:
    await _municipality_with_cards(session, "pienikunta", "901", 5)
    await _municipality_with_cards(session, "isokunta", "902", 50)
    counts = []
    for slug in ("pienikunta", "isokunta"):
        app.state.cache.clear()
        with count_queries() as counter:
            body = await gql(client, LIST, m=slug, first=100, lang="FI")
        assert "errors" not in body, body
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


TEXTS = """query($m: String!, $lang: Lang!) {
  serviceCards(municipality: $m, first: 3) {
    items { id revision title fi: title(lang: FI) sv: title(lang: SV) asked: title(lang: $lang)
      summary(lang: $lang) sections { heading entries { name(lang: $lang) } } }
  }
}"""


async def test_language_arguments_default_literal_and_variable(client: httpx.AsyncClient) -> None:
    """The text fields run on direct resolvers (app.graphql.direct): the default language,
    a literal and a variable must all still reach them."""
    body = await gql(client, TEXTS, m="kemijarvi", lang="EN")
    home = body["data"]["serviceCards"]["items"][0]
    assert home["title"] == home["fi"] == "Luonnostaan onnelliseksi omassa kodissa"
    assert home["asked"] == "Naturally happy in a home of your own"
    assert home["sv"] == "Naturligt lycklig i ett eget hem"
    english = [e["name"] for e in home["sections"][0]["entries"]]
    finnish = await gql(client, TEXTS, m="kemijarvi", lang="FI")
    assert finnish["data"]["serviceCards"]["items"][0]["asked"] == home["fi"]
    assert finnish["data"]["serviceCards"]["items"][0]["summary"] != home["summary"]
    assert english  # entries answer in the asked language too
    bad = await client.post(
        "/graphql", json={"query": TEXTS, "variables": {"m": "kemijarvi", "lang": "DE"}}
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "bad-request"


async def test_unchanged_cards_come_from_the_memo_and_an_edit_shows_at_once(
    app: Any, client: httpx.AsyncClient, auth: Any
) -> None:
    """After an edit only the edited card is executed again; the others are the memoised
    subtrees of the same cards (app.graphql.executor), and nothing stale is ever shown."""
    memo = app.state.graphql_schema.execution_context_class.memo
    first = await gql(client, TEXTS, m="kemijarvi", lang="EN")
    hits = memo.hits
    again = await gql(client, TEXTS, m="kemijarvi", lang="EN")
    assert again == first
    assert memo.hits - hits == 3  # three cards, none executed again

    card = first["data"]["serviceCards"]["items"][1]
    target = f"/api/v1/municipalities/kemijarvi/service-cards/{card['id']}"
    etag = (await client.get(target, headers=auth("kemijarvi-editor"))).headers["etag"]
    patch = {"summary": {"fi": "Uusi tiivistelmä", "en": "A brand new summary"}}
    edited = await client.patch(
        target, json=patch, headers={**auth("kemijarvi-editor"), "If-Match": etag}
    )
    assert edited.status_code == 200, edited.text
    hits = memo.hits
    after = await gql(client, TEXTS, m="kemijarvi", lang="EN")
    items = after["data"]["serviceCards"]["items"]
    assert items[1]["summary"] == "A brand new summary"
    assert items[1]["revision"] == card["revision"] + 1
    assert items[0] == first["data"]["serviceCards"]["items"][0]
    assert memo.hits - hits == 2  # the two unchanged cards

    finnish = await gql(client, TEXTS, m="kemijarvi", lang="FI")  # other variables: no reuse
    assert finnish["data"]["serviceCards"]["items"][1]["summary"] == "Uusi tiivistelmä"


async def test_sections_are_loaded_only_when_asked_for(
    app: Any, client: httpx.AsyncClient, count_queries: Any
) -> None:
    """Titles alone cost one query fewer; asking for sections through a fragment still
    loads them."""
    titles = '{ serviceCards(municipality: "kemijarvi", first: 3) { items { title } } }'
    fragment = """{ serviceCards(municipality: "kemijarvi", first: 3) { ...Page } }
      fragment Page on ServiceCardConnection { items { ... on ServiceCard {
        sections { heading entries { name } } } } }"""
    counts = {}
    for name, query in (("titles", titles), ("fragment", fragment)):
        app.state.cache.clear()
        with count_queries() as counter:
            body = await gql(client, query)
        assert "errors" not in body, body
        counts[name] = counter.count
    items = body["data"]["serviceCards"]["items"]
    assert items[0]["sections"][0]["entries"][0]["name"]
    assert counts["fragment"] == counts["titles"] + 1, counts
