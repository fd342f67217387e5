"""Personas, recommendations, the promise, the journey, the landing page and stories
through GraphQL: the same data, rules and problem codes as REST, in constant queries."""

from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.test_graphql import gql
from tests.test_guides import make_guide, make_slot, next_week_at
from tests.test_landing import TRAVEL_AGENCY, import_stories, story
from tests.test_personas import guide_body
from tests.test_service_cards import _municipality_with_cards

PERSONAS = """
query($m: String!) {
  personas(municipality: $m) {
    key revision name(lang: EN) nameI18n { fi en sv } challenges(lang: EN)
    pullFactorsI18n { fi } servicePromise(lang: FI) topics expertise serviceLanguages
    copiedFrom { municipality revision sourceChanged }
    recommendations(lang: EN) {
      personaKey personaName
      cards { title topic reason { code topic } reasons { code } reasonText }
      guides { guide { displayName languages hasFreeSlots } reason { code tags }
               reasons { code language } reasonText }
      checklist { name when cardTitle reason { code when } reasonText }
    }
  }
}"""

LANDING = """
query($m: String!, $lang: Lang!) {
  landing(municipality: $m, lang: $lang) {
    municipality { slug name webSite }
    introduction { title text }
    contactWays { kind label available nextFreeSlot href number hours price email }
    tiles { key label topics { key name } cards { id title href } links { url label } }
    servicePromise { title text principles }
    personas { key name tagline href }
    featuredGuides { displayName hasFreeSlots publicContacts href }
    stories { title author publishedAt hashtags href }
    mapLinks { label url description }
    hashtags language fallbackFields
  }
}"""

UPDATE = """
mutation($key: String!, $rev: Int!, $input: PersonaPatch!) {
  updatePersona(municipality: "kemijarvi", key: $key, revision: $rev, input: $input) {
    key revision updatedBy updatedItems dreams(lang: EN)
  }
}"""


def code_of(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_personas_with_their_recommendations_in_english(
    client: httpx.AsyncClient, auth: Any
) -> None:
    await make_guide(client, auth, guide_body("Eero Etä", ["remote-work"], ["fi", "en"]))
    body = await gql(client, PERSONAS, m="kemijarvi")
    assert "errors" not in body, body
    personas = {p["key"]: p for p in body["data"]["personas"]}
    remote = personas["remote-workers"]
    assert remote["name"] == "Remote workers"
    assert remote["nameI18n"] == {
        "fi": "Etätyöntekijät",
        "en": "Remote workers",
        "sv": "Distansarbetare",
    }
    assert "Availability of fibre broadband" in remote["challenges"]
    assert remote["servicePromise"].startswith("Selvitämme kanssasi")
    recommended = remote["recommendations"]
    assert recommended["personaName"] == "Remote workers"
    assert recommended["cards"][0]["reason"]["code"] == "card-lists-persona"
    assert recommended["cards"][0]["reasonText"].startswith("This card is made for remote workers")
    (guide,) = recommended["guides"]
    assert guide["guide"]["displayName"] == "Eero Etä"
    assert guide["reasons"][0]["code"] == "expertise"
    assert {"code": "language", "language": "en"} in guide["reasons"]
    assert recommended["checklist"][0]["when"] == "before"
    rest = (
        await client.get(
            "/api/v1/municipalities/kemijarvi/personas/remote-workers/recommendations?lang=en"
        )
    ).json()
    assert [c["title"] for c in recommended["cards"]] == [c["title"] for c in rest["cards"]]
    assert [c["reasonText"] for c in recommended["checklist"]] == [
        c["reason_text"] for c in rest["checklist"]
    ]
    single = await gql(
        client,
        """{ personaRecommendations(municipality: "kemijarvi", key: "international", lang: EN) {
               personaKey cards { title } } }""",
    )
    assert single["data"]["personaRecommendations"]["personaKey"] == "international"
    missing = await gql(client, '{ persona(municipality: "kemijarvi", key: "aliens") { key } }')
    assert missing["data"]["persona"] is None


async def test_the_landing_page_in_one_query_matches_rest(
    client: httpx.AsyncClient, auth: Any
) -> None:
    guide = await make_guide(client, auth)
    await make_slot(client, auth, guide["id"], next_week_at(10))
    tagged = [TRAVEL_AGENCY]
    await import_stories(client, auth, [story(1, 1, hashtags=tagged), story(2, 2, hashtags=tagged)])
    body = await gql(client, LANDING, m="kemijarvi", lang="EN")
    assert "errors" not in body, body
    page = body["data"]["landing"]
    rest = (
        await client.get("/api/v1/municipalities/kemijarvi/landing", params={"lang": "en"})
    ).json()
    assert page["introduction"] == rest["introduction"]
    assert [t["key"] for t in page["tiles"]] == [t["key"] for t in rest["tiles"]]
    assert page["tiles"][0]["links"] == rest["tiles"][0]["links"]
    phone = next(way for way in page["contactWays"] if way["kind"] == "phone")
    assert (phone["number"], phone["hours"], phone["price"]) == (
        "+358161234000",
        "Weekdays 9 am – 3 pm",
        "A call costs the local network or mobile call rate.",
    )
    remote = next(way for way in page["contactWays"] if way["kind"] == "remote-meeting")
    assert remote["available"] is True
    assert page["servicePromise"]["principles"] == rest["service_promise"]["principles"]
    assert [g["displayName"] for g in page["featuredGuides"]] == ["Aino Kalastaja"]
    assert page["featuredGuides"][0]["publicContacts"] == ["email:aino@example.org"]
    assert [s["title"] for s in page["stories"]] == ["Tarina 2", "Tarina 1"]
    assert page["mapLinks"] == rest["map_links"]
    assert page["language"] == "en"


async def test_journey_promise_and_stories(client: httpx.AsyncClient, auth: Any) -> None:
    body = await gql(
        client,
        """{ journey(municipality: "kemijarvi", lang: EN) {
               stages { key title contactWays { kind } checklist { name when } } }
             servicePromise(municipality: "kemijarvi") {
               title(lang: EN) titleI18n { fi } principles(lang: EN) revision }
             stories(municipality: "kemijarvi", first: 3) { total items { title } } }""",
    )
    assert "errors" not in body, body
    stages = body["data"]["journey"]["stages"]
    assert [s["key"] for s in stages][3] == "moving"
    assert {item["when"] for item in stages[3]["checklist"]} == {"before", "during"}
    promise = body["data"]["servicePromise"]
    assert promise["title"] == "An effortless move"
    assert promise["titleI18n"] == {"fi": "Mutkaton muutto"}
    assert promise["revision"] == 1
    assert body["data"]["stories"]["total"] == 0


async def test_update_persona_with_rests_rules(client: httpx.AsyncClient, auth: Any) -> None:
    change = {"dreams": [{"fi": "Oma laituri", "en": "A jetty of one's own"}]}
    anonymous = await gql(client, UPDATE, key="retirees", rev=1, input=change)
    assert code_of(anonymous) == "unauthorized"
    editor = await gql(
        client, UPDATE, auth("kemijarvi-editor"), key="retirees", rev=1, input=change
    )
    assert code_of(editor) == "forbidden"
    done = await gql(client, UPDATE, auth("kemijarvi-comms"), key="retirees", rev=1, input=change)
    assert done["data"]["updatePersona"] == {
        "key": "retirees",
        "revision": 2,
        "updatedBy": "kemijarvi-comms",
        "updatedItems": ["dreams"],
        "dreams": ["A jetty of one's own"],
    }
    stale = await gql(client, UPDATE, auth("kemijarvi-comms"), key="retirees", rev=1, input=change)
    assert code_of(stale) == "precondition-failed"
    bad = await gql(
        client, UPDATE, auth("kemijarvi-comms"), key="retirees", rev=2, input={"topics": ["space"]}
    )
    assert code_of(bad) == "validation-failed"
    assert bad["errors"][0]["extensions"]["errors"][0]["field"] == "body.topics[0]"
    empty = await gql(
        client, UPDATE, auth("kemijarvi-comms"), key="retirees", rev=2, input={"name": {"fi": ""}}
    )
    assert empty["errors"][0]["extensions"]["errors"][0]["field"] == "input.name.fi"
    rest = (await client.get("/api/v1/municipalities/kemijarvi/personas/retirees")).json()
    assert rest["revision"] == 2


async def test_copy_personas_and_the_promise_mutation(client: httpx.AsyncClient, auth: Any) -> None:
    copy = """mutation { copyPersonas(municipality: "posio", sourceMunicipality: "kemijarvi",
                keys: ["families"], replace: true) {
                copied { key copiedFrom { municipality revision sourceChanged } }
                skipped { key reason } } }"""
    assert code_of(await gql(client, copy, auth("kemijarvi-comms"))) == "forbidden"
    copied = (await gql(client, copy, auth("posio-admin")))["data"]["copyPersonas"]
    assert copied["copied"] == [
        {
            "key": "families",
            "copiedFrom": {"municipality": "kemijarvi", "revision": 1, "sourceChanged": False},
        }
    ]
    promise = """mutation($rev: Int!) { updateServicePromise(municipality: "posio", revision: $rev,
                   input: {text: {fi: "Autamme.", en: "We help."}}) { revision text(lang: EN) } }"""
    first = await gql(client, promise, auth("posio-admin"), rev=0)
    assert first["data"]["updateServicePromise"] == {"revision": 1, "text": "We help."}
    assert code_of(await gql(client, promise, auth("posio-admin"), rev=0)) == "precondition-failed"


async def test_story_mutations_and_the_moderation_queue(
    client: httpx.AsyncClient, auth: Any
) -> None:
    create = """mutation($input: StoryInput!) {
      createStory(municipality: "kemijarvi", input: $input) { id status hashtags publishedAt } }"""
    item = {
        "title": "Porotalouden arkea",
        "author": "Kemijärven kaupunki",
        "publishedAt": "2026-06-01T08:00:00+03:00",
        "summary": "Työpäivä tokalla. #poro",
    }
    created = await gql(client, create, auth("kemijarvi-editor"), input=item)
    story_id = created["data"]["createStory"]["id"]
    assert created["data"]["createStory"]["status"] == "pending"
    assert created["data"]["createStory"]["hashtags"] == ["#poro"]
    publish = await gql(
        client, create, auth("kemijarvi-editor"), input={**item, "status": "approved"}
    )
    assert code_of(publish) == "forbidden"
    queue = '{ stories(municipality: "kemijarvi", status: "pending") { total items { status } } }'
    assert code_of(await gql(client, queue)) == "unauthorized"
    assert code_of(await gql(client, queue, auth("posio-admin"))) == "not-found"
    pending = await gql(client, queue, auth("kemijarvi-editor"))
    assert pending["data"]["stories"]["items"] == [{"status": "pending"}]
    approve = 'mutation($id: ID!) { approveStory(municipality: "kemijarvi", id: $id) { status } }'
    assert code_of(await gql(client, approve, auth("kemijarvi-editor"), id=story_id)) == "forbidden"
    approved = await gql(client, approve, auth("kemijarvi-comms"), id=story_id)
    assert approved["data"]["approveStory"]["status"] == "approved"
    again = await gql(client, approve, auth("kemijarvi-comms"), id=story_id)
    assert code_of(again) == "invalid-transition"
    public = await gql(
        client,
        '{ stories(municipality: "kemijarvi", hashtag: "Poro") { items { title status } } }',
    )
    assert public["data"]["stories"]["items"] == [{"title": "Porotalouden arkea", "status": None}]
    bad = await gql(
        client,
        create,
        auth("kemijarvi-comms"),
        input={**item, "publishedAt": "2026-06-01T08:00:00"},
    )
    assert code_of(bad) == "validation-failed"


async def test_personas_with_recommendations_and_the_landing_cost_constant_queries(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: Any,
    count_queries: Any,
) -> None:
    await _municipality_with_cards(session, "pienikunta", "901", 3)
    await _municipality_with_cards(session, "isokunta", "902", 40)
    counts: dict[str, list[int]] = {"personas": [], "landing": []}
    for slug, stories in (("pienikunta", 1), ("isokunta", 8)):
        await client.post(
            f"/api/v1/municipalities/{slug}/personas/copy",
            json={"source_municipality": "kemijarvi"},
            headers=auth("platform"),
        )
        await import_stories(client, auth, [story(n, n) for n in range(1, stories + 1)], slug)
        app.state.cache.clear()
        with count_queries() as counter:
            body = await gql(client, PERSONAS, m=slug)
        assert "errors" not in body, body
        assert len(body["data"]["personas"]) == 8
        assert body["data"]["personas"][0]["recommendations"]["checklist"]
        counts["personas"].append(counter.count)
        app.state.cache.clear()
        with count_queries() as counter:
            landing = await gql(client, LANDING, m=slug, lang="FI")
        assert "errors" not in landing, landing
        counts["landing"].append(counter.count)
    assert counts["personas"][0] == counts["personas"][1], counts
    assert counts["landing"][0] == counts["landing"][1], counts
