"""A guide's one-year term decides what the public sees (seed p. 28): a term that has
passed ends the guide, a successor's term that has not begun is not active yet, and a
month before a term ends the guide and the admins are asked for a successor."""

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.time import HELSINKI, utcnow
from app.services import mailer
from tests.conftest import Database, assert_problem
from tests.test_guides import GUIDES, next_week_at
from tests.test_mailer import factory, outbox


def today() -> date:
    return utcnow().astimezone(HELSINKI).date()


async def add_guide(
    client: httpx.AsyncClient, auth: Any, name: str, start: date, end: date, **extra: Any
) -> dict[str, Any]:
    body = {
        "display_name": name,
        "status": "active",
        "term_start": start.isoformat(),
        "term_end": end.isoformat(),
        "modes": ["remote"],
        **extra,
    }
    response = await client.post(GUIDES, json=body, headers=auth("kemijarvi-admin"))
    assert response.status_code == 201, response.text
    guide: dict[str, Any] = response.json()
    return guide


async def test_a_guide_whose_term_passed_is_not_listed_as_active(
    client: httpx.AsyncClient, auth: Any
) -> None:
    ended = await add_guide(
        client, auth, "Vanha Opas", today() - timedelta(days=700), today() - timedelta(days=335)
    )
    current = await add_guide(
        client, auth, "Nykyinen Opas", today() - timedelta(days=30), today() + timedelta(days=335)
    )
    assert ended["status"] == "ended"
    assert current["status"] == "active"
    listed = (await client.get(GUIDES)).json()
    assert [g["display_name"] for g in listed["items"]] == ["Nykyinen Opas"]
    assert_problem(await client.get(f"{GUIDES}/{ended['id']}"), 404)
    staff = (await client.get(GUIDES, headers=auth("kemijarvi-admin"))).json()
    assert {g["display_name"]: g["status"] for g in staff["items"]} == {
        "Vanha Opas": "ended",
        "Nykyinen Opas": "active",
    }
    # Nobody books a guide whose term is over, and its slots are not offered.
    slot = await client.post(
        f"{GUIDES}/{ended['id']}/slots",
        json={
            "starts_at": next_week_at(10).isoformat(),
            "ends_at": next_week_at(11).isoformat(),
            "modes": ["remote"],
        },
        headers=auth("kemijarvi-admin"),
    )
    assert slot.status_code == 201, slot.text
    slots = (await client.get("/api/v1/municipalities/kemijarvi/slots")).json()
    assert slot.json()["id"] not in {s["id"] for s in slots["items"]}
    assert_problem(
        await client.post(
            f"{GUIDES}/{ended['id']}/successor/confirm", headers=auth("kemijarvi-admin")
        ),
        409,
    )


async def test_a_confirmed_successor_is_upcoming_until_the_term_starts(
    client: httpx.AsyncClient, auth: Any
) -> None:
    guide = await add_guide(
        client, auth, "Nykyinen Opas", today() - timedelta(days=300), today() + timedelta(days=65)
    )
    successor = await client.post(
        GUIDES, json={"display_name": "Seuraaja"}, headers=auth("kemijarvi-admin")
    )
    await client.post(
        f"{GUIDES}/{guide['id']}/successor",
        json={"successor_id": successor.json()["id"]},
        headers=auth("kemijarvi-admin"),
    )
    confirmed = await client.post(
        f"{GUIDES}/{guide['id']}/successor/confirm", headers=auth("kemijarvi-admin")
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "upcoming"
    assert confirmed.json()["term_start"] == (today() + timedelta(days=65)).isoformat()
    listed = (await client.get(GUIDES)).json()
    assert [g["display_name"] for g in listed["items"]] == ["Nykyinen Opas"]
    graphql = await client.post(
        "/graphql", json={"query": '{ guides(municipality: "kemijarvi") { total } }'}
    )
    assert graphql.json()["data"]["guides"]["total"] == 1
    # Withdrawing the successor before the term starts is possible.
    withdrawn = await client.post(
        f"{GUIDES}/{successor.json()['id']}/end", headers=auth("kemijarvi-admin")
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "ended"


async def test_a_month_before_the_term_ends_the_guide_and_admins_are_asked_for_a_successor(
    client: httpx.AsyncClient,
    auth: Any,
    session: AsyncSession,
    connection: AsyncConnection,
    database: Database,
) -> None:
    ending = await add_guide(
        client,
        auth,
        "Päättyvä Opas",
        today() - timedelta(days=340),
        today() + timedelta(days=25),
        user_email="kemijarvi-guide@example.org",
    )
    await add_guide(
        client, auth, "Pitkä Opas", today() - timedelta(days=300), today() + timedelta(days=65)
    )
    handed_over = await add_guide(
        client, auth, "Luovuttava Opas", today() - timedelta(days=350), today() + timedelta(days=15)
    )
    successor = await client.post(
        GUIDES, json={"display_name": "Jatkaja"}, headers=auth("kemijarvi-admin")
    )
    await client.post(
        f"{GUIDES}/{handed_over['id']}/successor",
        json={"successor_id": successor.json()["id"]},
        headers=auth("kemijarvi-admin"),
    )
    confirm = f"{GUIDES}/{handed_over['id']}/successor/confirm"
    assert (await client.post(confirm, headers=auth("kemijarvi-admin"))).status_code == 200

    sessions = factory(connection)
    first = await mailer.enqueue_term_endings(session_factory=sessions, settings=database.settings)
    again = await mailer.enqueue_term_endings(session_factory=sessions, settings=database.settings)

    assert (first, again) == (2, 0)
    rows = await outbox(session, "guide-term:")
    assert {(row.kind, row.to_address) for row in rows} == {
        ("guide_term_ending_guide", "kemijarvi-guide@example.org"),
        ("guide_term_ending_admin", "kemijarvi-admin@example.org"),
    }
    assert all(ending["id"] in row.body_text for row in rows)
    assert all("Päättyvä Opas" in row.subject for row in rows)
    assert "seuraaja" in rows[0].body_text.lower()


EXPERTISE = "/api/v1/municipalities/kemijarvi/guide-expertise"


async def test_expertise_is_the_municipalitys_vocabulary_with_labels(
    client: httpx.AsyncClient, auth: Any
) -> None:
    """Free-text tags were never translated: English visitors saw Finnish tags or
    Finnish visitors English keys. Now a guide's expertise comes from a vocabulary
    whose labels are served in the visitor's language."""
    vocabulary = (await client.get(EXPERTISE, params={"lang": "en"})).json()["items"]
    assert {"key": "fishing", "label": "Fishing"} in vocabulary
    await add_guide(
        client,
        auth,
        "Aino Kalastaja",
        today() - timedelta(days=10),
        today() + timedelta(days=300),
        expertise=["fishing", "textiles"],
    )
    english = (await client.get(GUIDES, params={"lang": "en"})).json()["items"][0]
    assert english["expertise"] == ["fishing", "textiles"]
    assert english["expertise_labels"] == [
        {"key": "fishing", "label": "Fishing"},
        {"key": "textiles", "label": "Textiles and crafts"},
    ]
    finnish = (await client.get(GUIDES, params={"lang": "fi"})).json()["items"][0]
    assert [e["label"] for e in finnish["expertise_labels"]] == [
        "Kalastus",
        "Tekstiilit ja käsityö",
    ]
    refused = await client.post(
        GUIDES,
        json={"display_name": "X", "expertise": ["basket-weaving"]},
        headers=auth("kemijarvi-admin"),
    )
    assert assert_problem(refused, 422)["errors"][0]["field"] == "body.expertise"
    everything = (await client.get(EXPERTISE)).json()["items"]
    without_fishing = [t for t in everything if t["key"] != "fishing"]
    in_use = await client.put(
        EXPERTISE, json={"terms": without_fishing}, headers=auth("kemijarvi-admin")
    )
    assert_problem(in_use, 409, "expertise-in-use")
    basket = {"key": "basket-weaving", "label": {"fi": "Korinpunonta", "en": "Basket weaving"}}
    grown = await client.put(
        EXPERTISE, json={"terms": [*everything, basket]}, headers=auth("kemijarvi-admin")
    )
    assert grown.status_code == 200, grown.text
    assert_problem(
        await client.put(EXPERTISE, json={"terms": everything}, headers=auth("kemijarvi-editor")),
        403,
    )
    listed = (await client.get(EXPERTISE, params={"lang": "en"})).json()["items"]
    assert listed[-1] == {"key": "basket-weaving", "label": "Basket weaving"}
