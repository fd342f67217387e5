"""The info package (seed p. 16): the model's 18 topics, labelled so no front end
hard-codes them; "KV-palvelut" brings the cards for international movers; the email
names the package as the municipality does."""

from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.test_bookings import outbox

BASE = "/api/v1/municipalities/kemijarvi"


async def test_the_eighteen_topics_are_served_with_labels(client: httpx.AsyncClient) -> None:
    everything = await client.get(f"{BASE}/info-package")
    assert everything.status_code == 200, everything.text
    topics = everything.json()["topics"]
    assert len(topics) == 18
    labels = {t["key"]: t["label"] for t in topics}
    # Päivähoito and Varhaiskasvatus are two topics in the model, not one.
    assert labels["daycare"]["fi"] == "Päivähoito"
    assert labels["early-education"]["fi"] == "Varhaiskasvatus"
    assert labels["international-services"] == {
        "fi": "KV-palvelut",
        "en": "International services",
        "sv": "Internationella tjänster",
    }
    assert all(set(label) == {"fi", "en", "sv"} for label in labels.values())
    assert everything.json()["name"]["fi"] == "Minustako kemijärveläinen?"
    english = (await client.get(f"{BASE}/info-package", params={"lang": "en"})).json()
    assert english["topics"][0] == {"key": "jobs", "label": "Open jobs"}
    keminmaa = await client.get(
        "/api/v1/municipalities/keminmaa/info-package", params={"lang": "sv"}
    )
    assert keminmaa.json()["topics"][0]["label"] == "Lediga jobb"
    ordered = await client.post(
        f"{BASE}/info-package-requests",
        json={
            "email": "maija@example.org",
            "topics": ["early-education"],
            "consent": True,
        },
    )
    assert ordered.status_code == 201, ordered.text


async def test_international_services_send_the_cards_for_international_movers(
    client: httpx.AsyncClient, session: AsyncSession, auth: Any
) -> None:
    body = {
        "email": "maija@example.org",
        "language": "en",
        "topics": ["international-services"],
        "consent": True,
    }
    created = await client.post(f"{BASE}/info-package-requests", json=body)
    assert created.status_code == 201, created.text
    (email,) = await outbox(session, f"info-package:{created.json()['id']}")
    html = email.body_html or ""
    assert "When you move, remember at least these!" in html  # the checklist
    assert "Naturally happy in a home of your own" in html  # for international movers
    assert "Entrepreneur" not in email.subject
    assert email.subject == "Kemijärvi: Could I be a Kemijärvi local?"
    finnish = await client.post(f"{BASE}/info-package-requests", json={**body, "language": "fi"})
    (email,) = await outbox(session, f"info-package:{finnish.json()['id']}")
    assert email.subject == "Kemijärvi: Minustako kemijärveläinen?"
