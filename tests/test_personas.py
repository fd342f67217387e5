"""Personas, their recommendations, history and copies, and the service promise,
through the REST API."""

from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.persona import PERSONA_KEYS
from tests.conftest import assert_problem
from tests.test_guides import make_guide, make_slot, next_week_at
from tests.test_service_cards import _municipality_with_cards

BASE = "/api/v1/municipalities/kemijarvi"
PERSONAS = f"{BASE}/personas"
POSIO = "/api/v1/municipalities/posio/personas"


def guide_body(
    name: str, expertise: list[str], languages: list[str], own: bool = False
) -> dict[str, Any]:
    """A guide; `own` links it to the kemijarvi-guide account, which may publish slots."""
    body: dict[str, Any] = {
        "display_name": name,
        "languages": languages,
        "expertise": expertise,
        "modes": ["remote", "phone"],
        "contacts": [{"kind": "phone", "value": "+358401112223", "public": False}],
    }
    if own:
        body["user_email"] = "kemijarvi-guide@example.org"
    return body


async def etag_of(client: httpx.AsyncClient, url: str, **headers: str) -> str:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


# ---- reading ---------------------------------------------------------------------------------


async def test_kemijarvis_eight_personas_in_english(client: httpx.AsyncClient) -> None:
    response = await client.get(PERSONAS, params={"lang": "en"})
    assert response.status_code == 200
    assert response.headers["content-language"] == "en"
    body = response.json()
    assert [p["key"] for p in body["items"]] == list(PERSONA_KEYS)
    assert body["total"] == 8
    remote = body["items"][2]
    assert remote["name"] == "Remote workers"
    assert "Availability of fibre broadband" in remote["challenges"]
    assert remote["service_promise"].startswith("We work out your broadband")
    assert remote["topics"] == ["home", "leisure", "moving-checklist"]
    assert "remote-work" in remote["expertise"]
    international = body["items"][4]
    assert international["service_languages"] == ["en"]
    assert "The residence permit" in international["challenges"]
    assert body["meta"]["fallback_fields"] == []


async def test_without_a_language_every_translation_is_returned(
    client: httpx.AsyncClient,
) -> None:
    persona = (await client.get(f"{PERSONAS}/retirees")).json()
    assert persona["name"] == {"fi": "Eläkeläiset", "en": "Retirees", "sv": "Pensionärer"}
    assert persona["pull_factors"][0]["fi"] == "Paluu juurille"
    # Keminmaa enables Swedish (Kemijärvi does not: it would answer in Finnish).
    keminmaa = "/api/v1/municipalities/keminmaa/personas"
    swedish = (await client.get(f"{keminmaa}/retirees", params={"lang": "sv"})).json()
    assert swedish["name"] == "Pensionärer"
    assert swedish["who"].startswith("Todennäköisesti")  # no Swedish text: Finnish
    assert "who" in swedish["meta"]["fallback_fields"]


async def test_persona_has_an_etag_and_answers_304(client: httpx.AsyncClient) -> None:
    etag = await etag_of(client, f"{PERSONAS}/families")
    again = await client.get(f"{PERSONAS}/families", headers={"If-None-Match": etag})
    assert again.status_code == 304
    listed = await client.get(PERSONAS)
    assert (
        await client.get(PERSONAS, headers={"If-None-Match": listed.headers["etag"]})
    ).status_code == 304


async def test_unknown_persona_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{PERSONAS}/aliens"), 404, "not-found")
    assert_problem(await client.get(f"{PERSONAS}/aliens/recommendations"), 404, "not-found")
    assert_problem(await client.get("/api/v1/municipalities/atlantis/personas"), 404)


# ---- editing and history -------------------------------------------------------------------------


async def test_comms_edits_a_persona_with_if_match_and_the_history_shows_it(
    client: httpx.AsyncClient, auth: Any
) -> None:
    url = f"{PERSONAS}/remote-workers"
    etag = await etag_of(client, url, **{"Accept-Language": "en"})
    change = {
        "challenges": [
            {"fi": "Kuituyhteyden saatavuus", "en": "Availability of fibre broadband"},
            {"fi": "Talvipäivien pimeys", "en": "Dark winter days"},
        ]
    }
    assert_problem(
        await client.patch(url, json=change, headers=auth("kemijarvi-comms")),
        428,
        "precondition-required",
    )
    updated = await client.patch(
        url, json=change, headers={**auth("kemijarvi-comms"), "If-Match": etag}
    )
    assert updated.status_code == 200, updated.text
    persona = updated.json()
    assert persona["revision"] == 2
    assert persona["updated_by"] == "kemijarvi-comms"
    assert persona["updated_items"] == ["challenges"]
    assert persona["challenges"][1] == {"fi": "Talvipäivien pimeys", "en": "Dark winter days"}
    stale = await client.patch(
        url, json={"tagline": None}, headers={**auth("kemijarvi-admin"), "If-Match": etag}
    )
    assert_problem(stale, 412, "precondition-failed")
    history = await client.get(f"{url}/revisions", headers=auth("kemijarvi-editor"))
    assert history.status_code == 200
    newest, first = history.json()
    assert newest["number"] == 2
    assert newest["updated_by"] == "kemijarvi-comms"
    assert [c["field"] for c in newest["changes"]] == ["challenges"]
    assert len(newest["changes"][0]["before"]) == 3
    assert newest["changes"][0]["after"][1]["en"] == "Dark winter days"
    assert first["action"] == "created"
    assert first["updated_by"] == "Settle"
    public = (await client.get(url, params={"lang": "en"})).json()
    assert "Dark winter days" in public["challenges"]


async def test_restoring_a_revision_is_a_new_revision(client: httpx.AsyncClient, auth: Any) -> None:
    url = f"{PERSONAS}/visitors"
    etag = await etag_of(client, url)
    await client.patch(
        url,
        json={"tagline": {"fi": "Uusi iskulause"}, "topics": ["leisure"]},
        headers={**auth("kemijarvi-comms"), "If-Match": etag},
    )
    restored = await client.post(f"{url}/revisions/1/restore", headers=auth("kemijarvi-comms"))
    assert restored.status_code == 200, restored.text
    body = restored.json()
    assert body["revision"] == 3
    assert body["tagline"]["fi"].startswith("Matkailija tai sukulainen")
    assert body["topics"] == ["leisure", "home"]
    assert sorted(body["updated_items"]) == ["tagline", "topics"]
    assert_problem(
        await client.post(f"{url}/revisions/9/restore", headers=auth("kemijarvi-comms")), 404
    )


async def test_who_may_edit_and_read_the_history(client: httpx.AsyncClient, auth: Any) -> None:
    url = f"{PERSONAS}/families"
    etag = await etag_of(client, url)
    change = {"position": 0}
    assert_problem(await client.patch(url, json=change, headers={"If-Match": etag}), 401)
    for who in ("kemijarvi-editor", "kemijarvi-guide", "posio-admin"):
        response = await client.patch(url, json=change, headers={**auth(who), "If-Match": etag})
        assert_problem(response, 403, "forbidden")
    assert_problem(await client.get(f"{url}/revisions"), 401)
    assert_problem(await client.get(f"{url}/revisions", headers=auth("posio-editor")), 404)
    assert_problem(await client.get(f"{url}/revisions", headers=auth("kemijarvi-guide")), 403)
    admin = await client.patch(url, json=change, headers={**auth("platform"), "If-Match": etag})
    assert admin.status_code == 200


async def test_bad_persona_input_is_422(client: httpx.AsyncClient, auth: Any) -> None:
    url = f"{PERSONAS}/families"
    headers = {**auth("kemijarvi-comms"), "If-Match": await etag_of(client, url)}
    plain = await client.patch(url, json={"name": "Perheet"}, headers=headers)
    assert assert_problem(plain, 422, "validation-failed")["errors"][0]["field"] == "body.name"
    unknown = await client.patch(url, json={"topics": ["home", "space"]}, headers=headers)
    problem = assert_problem(unknown, 422, "validation-failed")
    assert problem["errors"] == [
        {"field": "body.topics[1]", "message": "unknown topic 'space'", "code": "unknown"}
    ]
    tag = await client.patch(url, json={"expertise": ["Fishing Trips"]}, headers=headers)
    assert_problem(tag, 422)
    assert_problem(await client.patch(url, json={"name": None}, headers=headers), 422)


# ---- copies --------------------------------------------------------------------------------------


async def test_partners_personas_are_copies_that_notice_source_changes(
    client: httpx.AsyncClient, auth: Any
) -> None:
    posio = (await client.get(POSIO, params={"lang": "en"})).json()
    assert [p["key"] for p in posio["items"]] == list(PERSONA_KEYS)
    copied = posio["items"][2]["copied_from"]
    assert copied["municipality"] == "kemijarvi"
    assert copied["revision"] == 1
    assert copied["source_changed"] is False
    url = f"{PERSONAS}/remote-workers"
    await client.patch(
        url,
        json={"dreams": [{"fi": "Oma laituri"}]},
        headers={**auth("kemijarvi-comms"), "If-Match": await etag_of(client, url)},
    )
    after = (await client.get(f"{POSIO}/remote-workers")).json()
    assert after["copied_from"]["source_changed"] is True
    assert after["dreams"][0]["fi"] == "Rauhallinen arki, jossa kaikki tarpeellinen on lähellä"


async def test_copy_skips_existing_personas_unless_asked_to_replace(
    client: httpx.AsyncClient, auth: Any
) -> None:
    again = await client.post(
        f"{POSIO}/copy", json={"source_municipality": "kemijarvi"}, headers=auth("posio-admin")
    )
    assert again.status_code == 200
    assert again.json()["copied"] == []
    assert {s["reason"] for s in again.json()["skipped"]} == {"exists"}
    replaced = await client.post(
        f"{POSIO}/copy",
        json={"source_municipality": "kemijarvi", "keys": ["retirees"], "replace": True},
        headers=auth("posio-admin"),
    )
    assert replaced.status_code == 201
    (persona,) = replaced.json()["copied"]
    assert persona["key"] == "retirees"
    history = (await client.get(f"{POSIO}/retirees/revisions", headers=auth("posio-admin"))).json()
    assert [r["action"] for r in history] == ["copied from kemijarvi"]  # nothing changed
    assert_problem(
        await client.post(
            f"{POSIO}/copy", json={"source_municipality": "posio"}, headers=auth("posio-admin")
        ),
        422,
    )
    assert_problem(
        await client.post(
            f"{POSIO}/copy",
            json={"source_municipality": "kemijarvi"},
            headers=auth("kemijarvi-comms"),
        ),
        403,
    )


async def test_a_new_municipality_copies_personas_and_adds_its_own(
    client: httpx.AsyncClient, auth: Any
) -> None:
    created = await client.post(
        "/api/v1/municipalities",
        json={"slug": "salla", "code": "732", "name": {"fi": "Salla"}},
        headers=auth("platform"),
    )
    assert created.status_code == 201, created.text
    base = "/api/v1/municipalities/salla/personas"
    assert (await client.get(base)).json()["total"] == 0
    copy = await client.post(
        f"{base}/copy",
        json={"source_municipality": "kemijarvi", "keys": ["visitors", "international"]},
        headers=auth("platform"),
    )
    assert copy.status_code == 201, copy.text
    assert [p["key"] for p in copy.json()["copied"]] == ["international", "visitors"]
    new = await client.post(
        base,
        json={"key": "retirees", "name": {"fi": "Eläkeläiset"}, "expertise": ["hunting"]},
        headers=auth("platform"),
    )
    assert new.status_code == 201, new.text
    assert new.headers["location"] == f"{base}/retirees"
    assert new.json()["copied_from"] is None
    duplicate = await client.post(
        base, json={"key": "retirees", "name": {"fi": "Toinen"}}, headers=auth("platform")
    )
    assert_problem(duplicate, 409, "duplicate")
    listed = (await client.get(base)).json()
    assert [p["key"] for p in listed["items"]] == ["retirees", "international", "visitors"]


# ---- recommendations ------------------------------------------------------------------------------


async def test_a_remote_worker_gets_cards_guides_and_checklist_with_reasons(
    client: httpx.AsyncClient, auth: Any
) -> None:
    angler = await make_guide(
        client, auth, guide_body("Eero Etä", ["remote-work", "fishing"], ["fi", "en"], own=True)
    )
    await make_guide(client, auth, guide_body("Hanna Koti", ["housing"], ["fi"]))
    await make_guide(client, auth, guide_body("Matti Metsä", ["hunting"], ["fi", "en"]))
    await make_slot(client, auth, angler["id"], next_week_at(10))
    response = await client.get(f"{PERSONAS}/remote-workers/recommendations?lang=en")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["persona"] == {"key": "remote-workers", "name": "Remote workers"}
    cards = body["cards"]
    assert cards[0]["reason"] == {"code": "card-lists-persona"}
    assert cards[0]["reason_text"].startswith("This card is made for remote workers.")
    assert all(isinstance(card["title"], str) for card in cards)
    codes = [card["reason"]["code"] for card in cards]
    assert codes == sorted(codes, key=lambda code: code != "card-lists-persona")
    guides = body["guides"]
    assert [g["display_name"] for g in guides] == ["Eero Etä", "Hanna Koti"]
    eero = guides[0]
    assert eero["reasons"] == [
        {"code": "expertise", "tags": ["remote-work", "fishing"]},
        {"code": "language", "language": "en"},
        {"code": "language", "language": "fi"},
    ]
    # The reasons name the municipality's labels for the expertise, never its keys.
    assert (
        eero["reason_text"] == "Knows about Remote work, Fishing. Speaks English. Speaks Finnish."
    )
    assert eero["expertise_labels"][0] == {"key": "remote-work", "label": "Remote work"}
    assert eero["has_free_slots"] is True
    assert "+358401112223" not in response.text
    checklist = body["checklist"]
    assert checklist, body
    order = {"before": 0, "during": 1, "after": 2}
    assert [order[item["when"]] for item in checklist] == sorted(
        order[item["when"]] for item in checklist
    )
    first = checklist[0]
    assert first["reason"]["code"] == "checklist"
    assert first["reason"]["when"] == "before"
    assert "before the move" in first["reason_text"]
    finnish = (await client.get(f"{PERSONAS}/remote-workers/recommendations?lang=fi")).json()
    assert finnish["cards"][0]["reason_text"].startswith("Kortti on koottu ryhmälle etätyöntekijät")
    assert finnish["guides"][0]["reason_text"].startswith("Asiantuntemusta: Etätyö, Kalastus.")


async def test_international_movers_see_english_speaking_guides_first(
    client: httpx.AsyncClient, auth: Any
) -> None:
    await make_guide(client, auth, guide_body("Aatu Arts", ["arts", "culture", "housing"], ["fi"]))
    await make_guide(client, auth, guide_body("Beth Home", ["housing"], ["fi", "en"]))
    english = (
        await client.get(f"{PERSONAS}/international/recommendations", params={"lang": "en"})
    ).json()
    assert [g["display_name"] for g in english["guides"]] == ["Beth Home", "Aatu Arts"]
    assert {"code": "language", "language": "en"} in english["guides"][0]["reasons"]
    assert english["guides"][1]["reason"] == {
        "code": "expertise",
        "tags": ["culture", "arts", "housing"],
    }


async def test_recommendations_cost_the_same_queries_for_5_or_50_cards(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: Any,
    count_queries: Any,
) -> None:
    await _municipality_with_cards(session, "pienikunta", "901", 5)
    await _municipality_with_cards(session, "isokunta", "902", 50)
    counts = []
    for slug in ("pienikunta", "isokunta"):
        base = f"/api/v1/municipalities/{slug}"
        copied = await client.post(
            f"{base}/personas/copy",
            json={"source_municipality": "kemijarvi", "keys": ["remote-workers"]},
            headers=auth("platform"),
        )
        assert copied.status_code == 201
        app.state.cache.clear()
        with count_queries() as counter:
            response = await client.get(f"{base}/personas/remote-workers/recommendations?lang=en")
        assert response.status_code == 200
        assert response.json()["checklist"]
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


# ---- the service promise -------------------------------------------------------------------------


async def test_the_service_promise_is_public_and_comms_edit_it(
    client: httpx.AsyncClient, auth: Any
) -> None:
    url = f"{BASE}/service-promise"
    promise = await client.get(url, params={"lang": "en"})
    assert promise.status_code == 200
    body = promise.json()
    assert body["title"] == "An effortless move"
    assert "You choose your own local guide" in body["principles"]
    assert body["revision"] == 1
    assert (
        await client.get(
            url, params={"lang": "en"}, headers={"If-None-Match": promise.headers["etag"]}
        )
    ).status_code == 304
    change = {"principles": [{"fi": "Vastaamme kahden arkipäivän kuluessa"}]}
    assert_problem(await client.patch(url, json=change, headers=auth("kemijarvi-comms")), 428)
    assert_problem(
        await client.patch(
            url,
            json=change,
            headers={**auth("kemijarvi-editor"), "If-Match": promise.headers["etag"]},
        ),
        403,
    )
    updated = await client.patch(
        url, json=change, headers={**auth("kemijarvi-comms"), "If-Match": promise.headers["etag"]}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["revision"] == 2
    assert updated.json()["updated_items"] == ["principles"]
    history = (await client.get(f"{url}/revisions", headers=auth("kemijarvi-admin"))).json()
    assert [r["number"] for r in history] == [2, 1]
    assert (await client.get(url, params={"lang": "fi"})).json()["principles"] == [
        "Vastaamme kahden arkipäivän kuluessa"
    ]


async def test_a_municipality_writes_its_first_promise_with_the_etag_of_the_empty_one(
    client: httpx.AsyncClient, auth: Any
) -> None:
    url = "/api/v1/municipalities/posio/service-promise"
    empty = await client.get(url)
    assert empty.json()["revision"] == 0
    assert empty.json()["text"] is None
    first = await client.patch(
        url,
        json={"text": {"fi": "Posiossa autamme muuttajaa."}},
        headers={**auth("posio-admin"), "If-Match": empty.headers["etag"]},
    )
    assert first.status_code == 200, first.text
    assert first.json()["revision"] == 1
    assert (await client.get(url)).json()["text"] == {"fi": "Posiossa autamme muuttajaa."}
