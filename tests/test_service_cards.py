"""Service cards through the REST API: reading, searching, editing, history, copying."""

from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.municipality import MunicipalityCreate
from app.models.service_card import CardCreate, TopicIn
from app.services import municipality as municipality_service
from app.services import service_card as card_service
from tests.conftest import assert_problem

KEMIJARVI = "/api/v1/municipalities/kemijarvi/service-cards"
POSIO = "/api/v1/municipalities/posio/service-cards"


async def card_titled(
    client: httpx.AsyncClient, base: str, fi_title_start: str, **headers: str
) -> dict[str, Any]:
    listed = (
        await client.get(
            base,
            params={"limit": 100, "status": "all"} if headers else {"limit": 100},
            headers=headers,
        )
    ).json()
    for card in listed["items"]:
        if card["title"]["fi"].startswith(fi_title_start):
            return card  # type: ignore[no-any-return]
    raise AssertionError(f"no card starting {fi_title_start!r}")


NEW_CARD = {
    "topic": "home",
    "title": {"fi": "Asuntoneuvonta", "en": "Housing advice"},
    "summary": {"fi": "Apua asunnon etsimiseen.", "en": "Help with finding a home."},
    "personas": ["families", "remote-workers"],
    "sections": [
        {
            "heading": {"fi": "Neuvonta", "en": "Advice"},
            "entries": [
                {
                    "kind": "service",
                    "name": {"fi": "Asuntotoimisto", "en": "Housing office"},
                    "description": {
                        "fi": "Neuvoo vuokra-asunnoissa.",
                        "en": "Advises on rental homes.",
                    },
                    "links": [{"url": "https://www.kemijarvi.fi", "label": {"fi": "Kotisivu"}}],
                    "phones": [
                        {"number": "040 123 4567", "price": {"fi": "mpm", "en": "mobile rate"}}
                    ],
                    "email": "asunnot@example.org",
                    "languages": ["fi", "EN"],
                },
                {
                    "kind": "checklist",
                    "name": {"fi": "Tee muuttoilmoitus"},
                    "when": "before",
                },
            ],
        }
    ],
}


# ---- reading ---------------------------------------------------------------------------


async def test_kemijarvis_cards_in_english(client: httpx.AsyncClient) -> None:
    response = await client.get(KEMIJARVI, params={"lang": "en", "limit": 100})
    assert response.status_code == 200
    assert response.headers["content-language"] == "en"
    body = response.json()
    assert body["total"] >= 10
    home = body["items"][0]
    assert home["topic"] == "home"
    assert isinstance(home["title"], str)
    entries = [e for s in home["sections"] for e in s["entries"]]
    assert any(e["name"] == "Kemijärven Vuokratalot" for e in entries)
    assert all(isinstance(e["description"], str) for e in entries if e["description"])
    assert home["updated_by"] == "Settle"
    detail = await client.get(f"{KEMIJARVI}/{home['id']}", params={"lang": "en"})
    assert detail.json()["sections"] == home["sections"]
    assert detail.headers["etag"]


async def test_filters_by_topic_and_persona(client: httpx.AsyncClient) -> None:
    children = (await client.get(KEMIJARVI, params={"topic": "children"})).json()
    assert children["total"] >= 1
    assert {c["topic"] for c in children["items"]} == {"children"}
    retirees = (await client.get(KEMIJARVI, params={"persona": "retirees"})).json()
    assert all("retirees" in c["personas"] for c in retirees["items"])
    assert_problem(await client.get(KEMIJARVI, params={"persona": "aliens"}), 422)


async def test_pagination_walks_every_card_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(KEMIJARVI, params=params)).json()
        seen += [card["id"] for card in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == page["total"]


# ---- search ------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["päiväkodit", "päiväkodissa", "varhaiskasvatus", "Päiväkoti"])
async def test_finnish_search_finds_the_children_card_first(
    client: httpx.AsyncClient, query: str
) -> None:
    body = (await client.get(KEMIJARVI, params={"q": query, "lang": "fi"})).json()
    assert body["total"] >= 1, query
    assert body["items"][0]["topic"] == "children"


@pytest.mark.parametrize(
    ("query", "topic"),
    [
        ("vuokra-asunnot", "home"),
        ("rental homes", "home"),
        ("TE-toimisto", "work"),
        ("muuttoilmoitus", "moving-checklist"),
        ("yrittäjä", "entrepreneurs"),
    ],
)
async def test_search_parity_fixtures(client: httpx.AsyncClient, query: str, topic: str) -> None:
    """The same fixture queries give the same top result on SQLite and PostgreSQL."""
    body = (await client.get(KEMIJARVI, params={"q": query})).json()
    assert body["total"] >= 1, query
    assert topic in {card["topic"] for card in body["items"][:3]}, [
        c["topic"] for c in body["items"]
    ]


async def test_title_hits_rank_first(client: httpx.AsyncClient) -> None:
    body = (await client.get(KEMIJARVI, params={"q": "lapset"})).json()
    assert body["items"][0]["title"]["fi"] == "Luonnostaan onnelliset lapset"


async def test_search_never_folds_umlauts(client: httpx.AsyncClient) -> None:
    assert (await client.get(KEMIJARVI, params={"q": "kemijarvi"})).json()["total"] == 0
    assert (await client.get(KEMIJARVI, params={"q": "Kemijärvi"})).json()["total"] >= 1


async def test_search_input_is_not_a_query_language(client: httpx.AsyncClient) -> None:
    for query in ['" OR 1=1 --', "päiväkoti NEAR(", "*", "'; DROP TABLE service_card; --"]:
        response = await client.get(KEMIJARVI, params={"q": query})
        assert response.status_code == 200, (query, response.text)


# ---- drafts and access -------------------------------------------------------------------


async def test_editor_creates_a_draft_only_staff_see(client: httpx.AsyncClient, auth: Any) -> None:
    created = await client.post(KEMIJARVI, json=NEW_CARD, headers=auth("kemijarvi-editor"))
    assert created.status_code == 201, created.text
    card = created.json()
    assert card["status"] == "draft"
    assert card["updated_by"] == "kemijarvi-editor"
    entry = card["sections"][0]["entries"][0]
    assert entry["phones"][0]["number"] == "+358401234567"
    assert entry["languages"] == ["fi", "en"]
    assert card["sections"][0]["entries"][1]["when"] == "before"
    assert_problem(await client.get(f"{KEMIJARVI}/{card['id']}"), 404)
    assert_problem(await client.get(f"{KEMIJARVI}/{card['id']}", headers=auth("posio-editor")), 404)
    assert (
        await client.get(f"{KEMIJARVI}/{card['id']}", headers=auth("kemijarvi-comms"))
    ).is_success
    assert_problem(await client.get(KEMIJARVI, params={"status": "draft"}), 401)
    assert_problem(
        await client.get(KEMIJARVI, params={"status": "draft"}, headers=auth("posio-editor")), 404
    )
    drafts = (
        await client.get(KEMIJARVI, params={"status": "draft"}, headers=auth("kemijarvi-editor"))
    ).json()
    assert [c["id"] for c in drafts["items"]] == [card["id"]]


async def test_publish_makes_it_public_and_unpublish_hides_it(
    client: httpx.AsyncClient, auth: Any
) -> None:
    card = (await client.post(KEMIJARVI, json=NEW_CARD, headers=auth("kemijarvi-editor"))).json()
    before = (await client.get(KEMIJARVI, params={"q": "asuntoneuvonta"})).json()["total"]
    published = await client.post(
        f"{KEMIJARVI}/{card['id']}/publish", headers=auth("kemijarvi-admin")
    )
    assert published.json()["status"] == "published"
    assert (await client.get(f"{KEMIJARVI}/{card['id']}")).is_success
    assert (await client.get(KEMIJARVI, params={"q": "asuntoneuvonta"})).json()[
        "total"
    ] == before + 1
    await client.post(f"{KEMIJARVI}/{card['id']}/unpublish", headers=auth("kemijarvi-editor"))
    assert_problem(await client.get(f"{KEMIJARVI}/{card['id']}"), 404)


@pytest.mark.parametrize(
    "who", ["posio-editor", "kemijarvi-comms", "kemijarvi-guide", "posio-admin"]
)
async def test_only_the_municipalitys_editors_write(
    client: httpx.AsyncClient, auth: Any, who: str
) -> None:
    assert_problem(await client.post(KEMIJARVI, json=NEW_CARD, headers=auth(who)), 403, "forbidden")
    home = await card_titled(client, KEMIJARVI, "Luonnostaan onnelliseksi")
    response = await client.patch(
        f"{KEMIJARVI}/{home['id']}", json={"position": 99}, headers={**auth(who), "If-Match": '"x"'}
    )
    assert_problem(response, 403, "forbidden")


async def test_a_card_of_another_municipality_is_404_through_this_one(
    client: httpx.AsyncClient, auth: Any
) -> None:
    home = await card_titled(client, KEMIJARVI, "Luonnostaan onnelliseksi")
    assert_problem(await client.get(f"{POSIO}/{home['id']}"), 404)
    response = await client.patch(
        f"{POSIO}/{home['id']}",
        json={"position": 1},
        headers={**auth("posio-editor"), "If-Match": '"x"'},
    )
    assert_problem(response, 404)


# ---- editing and history -----------------------------------------------------------------


async def test_edit_records_who_changed_what(client: httpx.AsyncClient, auth: Any) -> None:
    card = (await client.post(KEMIJARVI, json=NEW_CARD, headers=auth("kemijarvi-editor"))).json()
    url = f"{KEMIJARVI}/{card['id']}"
    read = await client.get(url, headers=auth("kemijarvi-editor"))
    sections = read.json()["sections"]
    sections[0]["entries"][0]["description"] = {"fi": "Neuvoo kaikissa asumisen asioissa."}
    response = await client.patch(
        url,
        json={"title": {"fi": "Asumisen neuvonta", "en": "Housing advice"}, "sections": sections},
        headers={**auth("kemijarvi-admin"), "If-Match": read.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["updated_by"] == "kemijarvi-admin"
    assert edited["updated_items"] == ["title", "Asuntotoimisto"]
    assert edited["revision"] == 2
    assert edited["sections"][0]["entries"][0]["id"] == card["sections"][0]["entries"][0]["id"]
    assert "@" not in str(edited["updated_by"])
    history = (await client.get(f"{url}/revisions", headers=auth("kemijarvi-comms"))).json()
    assert [r["number"] for r in history] == [2, 1]
    assert history[0]["updated_by"] == "kemijarvi-admin"
    fields = {change["field"]: change for change in history[0]["changes"]}
    assert fields["title"]["before"]["fi"] == "Asuntoneuvonta"
    assert fields["title"]["after"]["fi"] == "Asumisen neuvonta"
    entry_id = card["sections"][0]["entries"][0]["id"]
    assert fields[f"entries.{entry_id}.description"]["after"] == {
        "fi": "Neuvoo kaikissa asumisen asioissa."
    }


async def test_restore_brings_back_an_old_revision_as_a_new_one(
    client: httpx.AsyncClient, auth: Any
) -> None:
    editor = auth("kemijarvi-editor")
    card = (await client.post(KEMIJARVI, json=NEW_CARD, headers=editor)).json()
    url = f"{KEMIJARVI}/{card['id']}"
    etag = (await client.get(url, headers=editor)).headers["etag"]
    await client.patch(
        url, json={"sections": [], "summary": None}, headers={**editor, "If-Match": etag}
    )
    restored = await client.post(f"{url}/revisions/1/restore", headers=editor)
    assert restored.status_code == 200, restored.text
    body = restored.json()
    assert body["revision"] == 3
    assert body["summary"] == NEW_CARD["summary"]
    assert body["sections"][0]["entries"][0]["id"] == card["sections"][0]["entries"][0]["id"]
    history = (await client.get(f"{url}/revisions", headers=editor)).json()
    assert history[0]["action"] == "restored 1"
    assert_problem(await client.post(f"{url}/revisions/99/restore", headers=editor), 404)


async def test_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, auth: Any
) -> None:
    editor = auth("kemijarvi-editor")
    card = (await client.post(KEMIJARVI, json=NEW_CARD, headers=editor)).json()
    url = f"{KEMIJARVI}/{card['id']}"
    etag = (await client.get(url, headers=editor)).headers["etag"]
    assert (
        await client.patch(url, json={"position": 50}, headers={**editor, "If-Match": etag})
    ).is_success
    assert_problem(
        await client.patch(url, json={"position": 60}, headers={**editor, "If-Match": etag}), 412
    )
    assert_problem(await client.patch(url, json={"position": 60}, headers=editor), 428)
    assert (await client.get(url, headers=editor)).json()["position"] == 50


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": {"en": "No Finnish"}}, "body.title.fi"),
        ({"title": "plain string"}, "body.title"),
        ({"title": {"fi": "x" * 501}}, "body.title.fi"),
        ({"topic": "no-such-topic"}, "body.topic"),
        ({"personas": ["aliens"]}, "body.personas[0]"),
        (
            {
                "sections": [
                    {
                        "heading": {"fi": "H"},
                        "entries": [
                            {
                                "kind": "service",
                                "name": {"fi": "N"},
                                "links": [{"url": "ftp://x.org"}],
                            }
                        ],
                    }
                ]
            },
            "body.sections[0].entries[0].links[0].url",
        ),
        (
            {
                "sections": [
                    {
                        "heading": {"fi": "H"},
                        "entries": [
                            {"kind": "service", "name": {"fi": "N"}, "phones": [{"number": "12"}]}
                        ],
                    }
                ]
            },
            "body.sections[0].entries[0].phones[0].number",
        ),
        (
            {
                "sections": [
                    {
                        "heading": {"fi": "H"},
                        "entries": [{"kind": "checklist", "name": {"fi": "N"}}],
                    }
                ]
            },
            "body.sections[0].entries[0]",
        ),
        (
            {
                "sections": [
                    {
                        "heading": {"fi": "H"},
                        "entries": [{"kind": "service", "name": {"fi": "N"}, "when": "after"}],
                    }
                ]
            },
            "body.sections[0].entries[0]",
        ),
    ],
)
async def test_bad_card_input_is_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, auth: Any, change: dict[str, Any], field: str
) -> None:
    before = (
        await client.get(KEMIJARVI, params={"status": "all"}, headers=auth("kemijarvi-editor"))
    ).json()["total"]
    body = assert_problem(
        await client.post(KEMIJARVI, json={**NEW_CARD, **change}, headers=auth("kemijarvi-editor")),
        422,
    )
    assert any(e["field"].startswith(field) for e in body["errors"]), body["errors"]
    after = (
        await client.get(KEMIJARVI, params={"status": "all"}, headers=auth("kemijarvi-editor"))
    ).json()["total"]
    assert after == before


async def test_an_entry_id_of_another_card_is_refused(client: httpx.AsyncClient, auth: Any) -> None:
    editor = auth("kemijarvi-editor")
    home = await card_titled(client, KEMIJARVI, "Luonnostaan onnelliseksi")
    card = (await client.post(KEMIJARVI, json=NEW_CARD, headers=editor)).json()
    url = f"{KEMIJARVI}/{card['id']}"
    etag = (await client.get(url, headers=editor)).headers["etag"]
    stolen = home["sections"][0]["entries"][0]
    sections = [
        {
            "heading": {"fi": "H"},
            "entries": [{"id": stolen["id"], "kind": "service", "name": {"fi": "N"}}],
        }
    ]
    body = assert_problem(
        await client.patch(url, json={"sections": sections}, headers={**editor, "If-Match": etag}),
        422,
    )
    assert body["errors"][0]["field"] == "body.sections[0].entries[0].id"


async def test_reorder_and_delete(client: httpx.AsyncClient, auth: Any) -> None:
    editor = auth("kemijarvi-editor")
    card = (
        await client.post(KEMIJARVI, json={**NEW_CARD, "status": "published"}, headers=editor)
    ).json()
    response = await client.post(
        f"{KEMIJARVI}/reorder", json={"card_ids": [card["id"]]}, headers=editor
    )
    assert response.status_code == 204, response.text
    first = (await client.get(KEMIJARVI, params={"limit": 1})).json()["items"][0]
    assert first["id"] == card["id"]
    assert first["position"] == 1
    url = f"{KEMIJARVI}/{card['id']}"
    assert_problem(await client.delete(url, headers=editor), 428)
    etag = (await client.get(url, headers=editor)).headers["etag"]
    assert (await client.delete(url, headers={**editor, "If-Match": etag})).status_code == 204
    assert_problem(await client.get(url, headers=editor), 404)


# ---- stale content -------------------------------------------------------------------------


async def test_stale_cards_are_listed_until_verified(client: httpx.AsyncClient, auth: Any) -> None:
    editor = auth("kemijarvi-editor")
    stale = (
        await client.get(KEMIJARVI, params={"stale": "true", "limit": 100}, headers=editor)
    ).json()
    assert stale["total"] >= 10
    assert stale["meta"]["stale_count"] == stale["total"]
    target = stale["items"][0]
    verified = await client.post(f"{KEMIJARVI}/{target['id']}/verify", headers=editor)
    assert verified.json()["verified_at"] is not None
    again = (
        await client.get(KEMIJARVI, params={"stale": "true", "limit": 100}, headers=editor)
    ).json()
    assert again["total"] == stale["total"] - 1
    assert target["id"] not in [c["id"] for c in again["items"]]
    assert_problem(await client.get(KEMIJARVI, params={"stale": "true"}), 401)


# ---- copying between municipalities ------------------------------------------------------------


async def test_copy_kemijarvis_checklist_to_posio_and_edit_it_there(
    client: httpx.AsyncClient, auth: Any
) -> None:
    checklist = await card_titled(client, KEMIJARVI, "Muuttaessa muista")
    response = await client.post(
        f"{POSIO}/copy",
        json={"source_municipality": "kemijarvi", "card_id": checklist["id"]},
        headers=auth("posio-editor"),
    )
    assert response.status_code == 201, response.text
    (copy,) = response.json()["copied"]
    assert copy["municipality"] == "posio"
    assert copy["status"] == "draft"
    assert copy["copied_from"] == {
        "card_id": checklist["id"],
        "municipality": "kemijarvi",
        "revision": checklist["revision"],
        "source_changed": False,
    }
    assert copy["sections"][0]["entries"][0]["id"] != checklist["sections"][0]["entries"][0]["id"]
    url = f"{POSIO}/{copy['id']}"
    etag = (await client.get(url, headers=auth("posio-editor"))).headers["etag"]
    edited = await client.patch(
        url,
        json={"summary": {"fi": "Posion muistilista"}},
        headers={**auth("posio-editor"), "If-Match": etag},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["updated_by"] == "posio-editor"
    assert_problem(
        await client.patch(
            url, json={"position": 3}, headers={**auth("kemijarvi-editor"), "If-Match": etag}
        ),
        403,
    )


async def test_copy_reports_when_its_source_changes(client: httpx.AsyncClient, auth: Any) -> None:
    source = await card_titled(client, KEMIJARVI, "Muuttaessa muista")
    (copy,) = (
        await client.post(
            f"{POSIO}/copy",
            json={"source_municipality": "kemijarvi", "card_id": source["id"]},
            headers=auth("posio-editor"),
        )
    ).json()["copied"]
    source_url = f"{KEMIJARVI}/{source['id']}"
    etag = (await client.get(source_url)).headers["etag"]
    changed = await client.patch(
        source_url,
        json={"title": {"fi": "Muista nämä muuttaessa!", "en": "Remember these when you move!"}},
        headers={**auth("kemijarvi-editor"), "If-Match": etag},
    )
    assert changed.status_code == 200
    now = (await client.get(f"{POSIO}/{copy['id']}", headers=auth("posio-editor"))).json()
    assert now["copied_from"]["source_changed"] is True
    diff = (
        await client.get(f"{POSIO}/{copy['id']}/source-diff", headers=auth("posio-editor"))
    ).json()
    assert diff["source_changed"] is True
    assert [c["field"] for c in diff["changes"]] == ["title"]
    assert diff["changes"][0]["after"]["fi"] == "Muista nämä muuttaessa!"


async def test_copy_a_whole_topic_and_all_published(client: httpx.AsyncClient, auth: Any) -> None:
    leisure = await client.post(
        f"{POSIO}/copy",
        json={"source_municipality": "kemijarvi", "topic": "leisure"},
        headers=auth("posio-admin"),
    )
    assert leisure.status_code == 201
    assert len(leisure.json()["copied"]) == 3
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
            headers=auth("kemijarvi-editor"),
        ),
        403,
    )


async def test_seeded_partner_starter_sets_are_copies(client: httpx.AsyncClient) -> None:
    posio = (await client.get(POSIO)).json()
    assert posio["total"] == 2
    assert all(card["copied_from"]["municipality"] == "kemijarvi" for card in posio["items"])
    assert {card["topic"] for card in posio["items"]} == {"moving-checklist"}


# ---- query counts and caching ---------------------------------------------------------------


async def _municipality_with_cards(session: AsyncSession, slug: str, code: str, count: int) -> None:
    municipality = await municipality_service.create(
        session=session,
        data=MunicipalityCreate.model_validate({"slug": slug, "code": code, "name": {"fi": slug}}),
    )
    await card_service.create_topic(
        session=session,
        municipality_id=municipality.id,
        data=TopicIn(key="home", name={"fi": "Koti"}),
    )
    for number in range(count):
        await card_service.create(
            session=session,
            municipality_id=municipality.id,
            actor=card_service.SYSTEM,
            data=CardCreate.model_validate(
                {**NEW_CARD, "title": {"fi": f"Kortti {number}"}, "status": "published"}
            ),
        )
    await session.commit()


async def test_listing_5_or_50_cards_costs_the_same_queries(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, count_queries: Any
) -> None:
    await _municipality_with_cards(session, "pienikunta", "901", 5)
    await _municipality_with_cards(session, "isokunta", "902", 50)
    counts = []
    for slug in ("pienikunta", "isokunta"):
        app.state.cache.clear()  # both pay the same cold-cache lookups
        with count_queries() as counter:
            response = await client.get(
                f"/api/v1/municipalities/{slug}/service-cards", params={"limit": 100}
            )
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


async def test_warm_card_reads_touch_no_database_and_other_tenants_writes_keep_them_warm(
    client: httpx.AsyncClient, auth: Any, count_queries: Any
) -> None:
    await client.get(KEMIJARVI, params={"lang": "en"})
    posio_card = (await client.get(POSIO)).json()["items"][0]
    etag = (await client.get(f"{POSIO}/{posio_card['id']}")).headers["etag"]
    response = await client.patch(
        f"{POSIO}/{posio_card['id']}",
        json={"position": 7},
        headers={**auth("posio-editor"), "If-Match": etag},
    )
    assert response.is_success
    with count_queries() as counter:
        warm = await client.get(KEMIJARVI, params={"lang": "en"})
    assert warm.status_code == 200
    assert counter.count == 0, counter.statements
    home = warm.json()["items"][0]
    etag = (await client.get(f"{KEMIJARVI}/{home['id']}")).headers["etag"]
    await client.patch(
        f"{KEMIJARVI}/{home['id']}",
        json={"position": 0},
        headers={**auth("kemijarvi-editor"), "If-Match": etag},
    )
    with count_queries() as counter:
        cold = await client.get(KEMIJARVI, params={"lang": "en"})
    assert counter.count > 0
    assert cold.json()["items"][0]["position"] == 0
