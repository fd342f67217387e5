"""The Open Referral HSDS 3.0 export, through the REST API, validated against the HSDS
schemas, vendored in tests/hsds-3.0 (CC BY-SA 4.0, see its LICENSE).
"""

import functools
import json
import math
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

from app.services.hsds import municipality_organization_id, service_id
from tests.conftest import assert_problem

HSDS_DIR = Path(__file__).resolve().parent / "hsds-3.0"
HSDS = "/api/v1/municipalities/kemijarvi/hsds"
CARDS = "/api/v1/municipalities/kemijarvi/service-cards"
PAGE_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}

RICH_CARD: dict[str, Any] = {
    "topic": "work",
    "title": {"fi": "Työnhakijan neuvonta", "en": "Advice for job seekers"},
    "status": "published",
    "sections": [
        {
            "heading": {"fi": "Neuvonta", "en": "Advice"},
            "entries": [
                {
                    "kind": "provider",
                    "name": {"fi": "Työpiste Pohjoisranta", "en": "Pohjoisranta job point"},
                    "description": {
                        "fi": "Neuvoo työnhaussa ja yrittäjyydessä.",
                        "en": "Advises on job seeking and starting a business.",
                    },
                    "links": [{"url": "https://www.example.org/tyopiste"}],
                    "phones": [
                        {
                            "number": "040 123 4567",
                            "price": {"fi": "Matkapuhelinmaksu", "en": "Mobile call rate"},
                        },
                        {"number": "+358 16 123 4000"},
                    ],
                    "email": "tyopiste@example.org",
                    "address": {"fi": "Pohjoisranta 1, Kemijärvi", "en": "Pohjoisranta 1"},
                    "opening_hours": {"fi": "Ma–pe klo 9–15", "en": "Mon–Fri 9 am – 3 pm"},
                    "languages": ["fi", "en", "se"],
                },
                {
                    "kind": "service",
                    "name": {"fi": "Työnhakuklinikka"},
                    "description": {"fi": "Apua hakemusten kirjoittamiseen."},
                },
                {"kind": "checklist", "name": {"fi": "Ilmoittaudu työnhakijaksi"}, "when": "after"},
            ],
        }
    ],
}


# ---- schemas --------------------------------------------------------------------------------


@functools.cache
def _load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HSDS_DIR / relative).read_text(encoding="utf-8"))
    return data


def _validator(schema: dict[str, Any]) -> Any:
    cls = validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


class Schemas:
    """Validators for the HSDS objects and pages, built once per run."""

    def __init__(self) -> None:
        openapi = _load("openapi.json")
        page = openapi["components"]["schemas"]["Page"]
        root = openapi["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]
        self.service = _validator(_load("compiled/service.json"))
        self.organization = _validator(_load("compiled/organization.json"))
        self.root = _validator(root["schema"])
        # The HSDS OpenAPI: a list is its Page object with `contents`, an array of
        # compiled/service_list.json (or organization_list.json) items.
        self.service_page = _validator(self._page(page, _load("compiled/service_list.json")))
        self.organization_page = _validator(
            self._page(page, _load("compiled/organization_list.json"))
        )

    @staticmethod
    def _page(page: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        return {
            "allOf": [page],
            "required": sorted(PAGE_KEYS),
            "properties": {"contents": {"type": "array", "items": item}},
        }


@pytest.fixture(scope="session")
def schemas() -> Schemas:
    return Schemas()


def assert_valid(validator: Any, instance: Any, what: str) -> None:
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        pytest.fail(f"{what} is not valid HSDS at {where}: {error.message}")


# ---- helpers --------------------------------------------------------------------------------


async def all_pages(
    client: httpx.AsyncClient, url: str, per_page: int = 100
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(every item, every page) of an HSDS list."""
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    number = 1
    while True:
        response = await client.get(url, params={"page": number, "per_page": per_page})
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        items += page["contents"]
        if page["last_page"]:
            return items, pages
        number += 1


async def published_cards(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    listed = (await client.get(CARDS, params={"limit": 100})).json()
    assert listed["next_cursor"] is None
    cards: list[dict[str, Any]] = listed["items"]
    return cards


def entries(cards: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [
        entry
        for card in cards
        for section in card["sections"]
        for entry in section["entries"]
        if entry["kind"] in kinds
    ]


async def create_card(client: httpx.AsyncClient, auth: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(CARDS, json=body, headers=auth("kemijarvi-editor"))
    assert response.status_code == 201, response.text
    card: dict[str, Any] = response.json()
    return card


# ---- schema validity --------------------------------------------------------------------------


async def test_services_and_organizations_are_valid_hsds(
    client: httpx.AsyncClient, schemas: Schemas
) -> None:
    services, pages = await all_pages(client, f"{HSDS}/fi/services")
    for page in pages:
        assert_valid(schemas.service_page, page, f"services page {page['page_number']}")
    assert len(services) > 100
    for service in services:
        assert_valid(schemas.service, service, f"service {service['id']} ({service['name']})")
    for service in (services[0], services[len(services) // 2], services[-1]):
        response = await client.get(f"{HSDS}/fi/services/{service['id']}")
        assert response.status_code == 200, response.text
        assert response.headers["content-language"] == "fi"
        assert_valid(schemas.service, response.json(), f"service {service['id']}")
        assert response.json() == service

    organizations, org_pages = await all_pages(client, f"{HSDS}/en/organizations")
    for page in org_pages:
        assert_valid(schemas.organization_page, page, f"organizations page {page['page_number']}")
    for organization in organizations:
        assert_valid(schemas.organization, organization, f"organization {organization['name']}")
    org_ids = [organization["id"] for organization in organizations]
    assert len(org_ids) == len(set(org_ids))
    assert {service["organization_id"] for service in services} <= set(org_ids)
    assert all(service["organization"]["id"] == service["organization_id"] for service in services)


async def test_root_document(client: httpx.AsyncClient, schemas: Schemas) -> None:
    response = await client.get(f"{HSDS}/en/")
    assert response.status_code == 200, response.text
    assert response.headers["etag"]
    root = response.json()
    assert_valid(schemas.root, root, "the API root")
    assert root["version"] == "3.0"
    assert root["profile"].startswith("https://")
    assert root["openapi_url"].endswith("/openapi.json")
    assert root["language"] == "en"
    assert root["services_url"].endswith(f"{HSDS}/en/services")
    assert root["organizations_url"].endswith(f"{HSDS}/en/organizations")
    assert "Kemijärvi" in root["description"]


async def test_municipality_is_an_organization_with_its_contact_channels(
    client: httpx.AsyncClient,
) -> None:
    municipality = (await client.get("/api/v1/municipalities/kemijarvi")).json()
    page = (await client.get(f"{HSDS}/en/organizations")).json()
    first = page["contents"][0]
    assert first["id"] == municipality_organization_id(municipality["id"])
    assert first["name"] == "Kemijärvi"
    assert "320" in first["description"]
    assert first["email"] == municipality["contact"]["email"]
    assert first["website"] == municipality["contact"]["web_site"]
    (phone,) = first["phones"]
    assert phone["number"] == municipality["contact"]["phone"]["number"]
    assert municipality["contact"]["phone"]["price"]["en"] in phone["description"]
    assert municipality["contact"]["phone"]["hours"]["en"] in phone["description"]
    (identifier,) = first["organization_identifiers"]
    assert identifier["identifier"] == "320"
    # The free-text visiting address is a location's description, not an invented address.
    (location,) = first["locations"]
    assert location["description"] == municipality["contact"]["visiting_address"]["en"]
    assert "addresses" not in location
    # Kela appears on several cards and is one organization.
    kela = [o for o in page["contents"] if o["name"].startswith("Kela")]
    assert len(kela) == 1
    assert kela[0]["website"] == "https://www.kela.fi"


# ---- mapping -----------------------------------------------------------------------------------


async def test_provider_and_service_entries_are_exported_and_checklists_not(
    client: httpx.AsyncClient,
) -> None:
    cards = await published_cards(client)
    exported, _ = await all_pages(client, f"{HSDS}/fi/services")
    wanted = [service_id(entry["id"]) for entry in entries(cards, "provider", "service")]
    assert [service["id"] for service in exported] == wanted
    checklist = entries(cards, "checklist")
    assert checklist
    exported_ids = {service["id"] for service in exported}
    assert not {service_id(entry["id"]) for entry in checklist} & exported_ids
    one = checklist[0]
    assert_problem(await client.get(f"{HSDS}/fi/services/{service_id(one['id'])}"), 404)
    assert all(service["status"] == "active" for service in exported)


async def test_english_and_finnish_names_differ_where_the_card_has_both(
    client: httpx.AsyncClient,
) -> None:
    cards = await published_cards(client)
    finnish = {s["id"]: s for s in (await all_pages(client, f"{HSDS}/fi/services"))[0]}
    english = {s["id"]: s for s in (await all_pages(client, f"{HSDS}/en/services"))[0]}
    swedish = {s["id"]: s for s in (await all_pages(client, f"{HSDS}/sv/services"))[0]}
    assert list(finnish) == list(english) == list(swedish)  # same ids in every language
    differing = 0
    for entry in entries(cards, "provider", "service"):
        hsds_id = service_id(entry["id"])
        assert finnish[hsds_id]["name"] == entry["name"]["fi"]
        assert english[hsds_id]["name"] == entry["name"].get("en", entry["name"]["fi"])
        assert swedish[hsds_id]["name"] == entry["name"].get("sv", entry["name"]["fi"])
        if entry["description"]:
            assert english[hsds_id]["description"] == entry["description"].get(
                "en", entry["description"]["fi"]
            )
        if entry["name"].get("en", entry["name"]["fi"]) != entry["name"]["fi"]:
            differing += 1
            assert english[hsds_id]["name"] != finnish[hsds_id]["name"]
    assert differing > 10
    kela = next(s for s in english.values() if s["name"].startswith("Kela ("))
    assert finnish[kela["id"]]["name"] == "Kela"


async def test_a_rich_entry_maps_every_field(
    client: httpx.AsyncClient, auth: Any, schemas: Schemas
) -> None:
    card = await create_card(client, auth, RICH_CARD)
    provider, service, checklist = card["sections"][0]["entries"]
    response = await client.get(f"{HSDS}/en/services/{service_id(provider['id'])}")
    assert response.status_code == 200, response.text
    exported = response.json()
    assert_valid(schemas.service, exported, "the rich service")
    assert exported["name"] == "Pohjoisranta job point"
    assert exported["description"] == "Advises on job seeking and starting a business."
    assert exported["url"] == "https://www.example.org/tyopiste"
    assert exported["email"] == "tyopiste@example.org"
    assert [(p["number"], p.get("description")) for p in exported["phones"]] == [
        ("+358401234567", "Mobile call rate"),
        ("+358161234000", None),
    ]
    assert [s["description"] for s in exported["schedules"]] == ["Mon–Fri 9 am – 3 pm"]
    assert [(lang["code"], lang.get("name")) for lang in exported["languages"]] == [
        ("fi", "Finnish"),
        ("en", "English"),
        ("se", "Northern Sami"),
    ]
    (at_location,) = exported["service_at_locations"]
    assert at_location["location"]["description"] == "Pohjoisranta 1"
    assert at_location["location"]["location_type"] == "physical"
    assert "addresses" not in at_location["location"]  # no invented postcode or city
    (topic,) = exported["attributes"]
    assert topic["link_id"] == exported["id"]
    assert topic["taxonomy_term"]["code"] == "work"
    assert topic["taxonomy_term"]["name"] == "Work and employment"
    assert datetime.fromisoformat(exported["last_modified"]).tzinfo is not None
    date.fromisoformat(exported["assured_date"])  # written by a person: checked today
    organization = exported["organization"]
    assert organization["name"] == "Pohjoisranta job point"
    assert organization["website"] == "https://www.example.org/tyopiste"
    # The service entry names no provider: the municipality lists it.
    plain = (await client.get(f"{HSDS}/en/services/{service_id(service['id'])}")).json()
    assert_valid(schemas.service, plain, "the plain service")
    assert plain["name"] == "Työnhakuklinikka"  # only in Finnish: falls back
    assert plain["organization"]["name"] == "Kemijärvi"
    for absent in ("phones", "schedules", "service_at_locations", "languages", "url", "email"):
        assert absent not in plain
    assert_problem(await client.get(f"{HSDS}/en/services/{service_id(checklist['id'])}"), 404)


async def test_draft_cards_are_not_exported_until_published(
    client: httpx.AsyncClient, auth: Any
) -> None:
    before, _ = await all_pages(client, f"{HSDS}/fi/services")
    draft = await create_card(client, auth, {**RICH_CARD, "status": "draft"})
    ids = [service_id(e["id"]) for s in draft["sections"] for e in s["entries"]]
    after, _ = await all_pages(client, f"{HSDS}/fi/services")
    assert after == before
    assert_problem(await client.get(f"{HSDS}/fi/services/{ids[0]}"), 404)
    organizations, _ = await all_pages(client, f"{HSDS}/fi/organizations")
    assert "Työpiste Pohjoisranta" not in {o["name"] for o in organizations}

    published = await client.post(
        f"{CARDS}/{draft['id']}/publish", headers=auth("kemijarvi-editor")
    )
    assert published.status_code == 200, published.text
    now, _ = await all_pages(client, f"{HSDS}/fi/services")
    assert [s["id"] for s in now] == [s["id"] for s in before] + ids[:2]


# ---- identity ------------------------------------------------------------------------------------


async def test_ids_are_stable_across_exports_and_unrelated_edits(
    client: httpx.AsyncClient, auth: Any
) -> None:
    async def ids() -> tuple[list[str], list[str]]:
        services, _ = await all_pages(client, f"{HSDS}/fi/services", per_page=50)
        organizations, _ = await all_pages(client, f"{HSDS}/fi/organizations", per_page=50)
        return [s["id"] for s in services], [o["id"] for o in organizations]

    first = await ids()
    assert first == await ids()
    assert all(uuid.UUID(i).version == 5 for i in first[0] + first[1])

    cards = await published_cards(client)
    edited = cards[1]
    url = f"{CARDS}/{edited['id']}"
    etag = (await client.get(url)).headers["etag"]
    response = await client.patch(
        url,
        json={"title": {"fi": "Uusi otsikko", "en": "A new title"}},
        headers={**auth("kemijarvi-editor"), "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    services_etag = (await client.get(f"{HSDS}/fi/services")).headers["etag"]
    assert services_etag  # rebuilt from the new content version
    assert await ids() == first
    # ... and they are the documented UUID 5 of each entry's id.
    assert first[0] == [service_id(e["id"]) for e in entries(cards, "provider", "service")]


# ---- pagination --------------------------------------------------------------------------------


async def test_pagination_walks_every_service_exactly_once(client: httpx.AsyncClient) -> None:
    services, pages = await all_pages(client, f"{HSDS}/en/services", per_page=5)
    total = pages[0]["total_items"]
    assert len(services) == len({s["id"] for s in services}) == total
    assert len(pages) == pages[0]["total_pages"] == math.ceil(total / 5)
    for number, page in enumerate(pages, start=1):
        assert set(page) == PAGE_KEYS
        assert page["page_number"] == number
        assert page["total_items"] == total
        assert page["size"] == len(page["contents"]) <= 5
        assert page["first_page"] is (number == 1)
        assert page["last_page"] is (number == len(pages))
        assert page["empty"] is False
    beyond = (
        await client.get(f"{HSDS}/en/services", params={"per_page": 5, "page": len(pages) + 1})
    ).json()
    assert beyond["contents"] == []
    assert beyond["empty"] is True
    assert beyond["size"] == 0
    assert beyond["total_items"] == total
    default = (await client.get(f"{HSDS}/en/services")).json()
    assert default["page_number"] == 1
    assert default["size"] == 50


@pytest.mark.parametrize(
    "params", [{"per_page": 0}, {"per_page": 101}, {"page": 0}, {"page": "two"}]
)
async def test_bad_paging_is_a_validation_problem(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    assert_problem(await client.get(f"{HSDS}/fi/services", params=params), 422, "validation-failed")


# ---- errors --------------------------------------------------------------------------------------


async def test_unknown_service_and_municipality_are_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{HSDS}/fi/services/{uuid.uuid4()}"), 404, "not-found")
    assert_problem(await client.get(f"{HSDS}/fi/services/not-an-id"), 404, "not-found")
    nowhere = "/api/v1/municipalities/nowhere/hsds/fi"
    for path in ("/", "/services", "/organizations", f"/services/{uuid.uuid4()}"):
        assert_problem(await client.get(f"{nowhere}{path}"), 404, "not-found")


@pytest.mark.parametrize("path", ["/", "/services", "/organizations", "/services/x"])
async def test_unsupported_language_is_422(client: httpx.AsyncClient, path: str) -> None:
    body = assert_problem(await client.get(f"{HSDS}/xx{path}"), 422, "unsupported-language")
    assert body["supported"] == ["fi", "sv", "en"]
    assert body["errors"][0]["field"] == "path.lang"


# ---- caching -------------------------------------------------------------------------------------


async def test_etag_and_304_until_the_cards_change(client: httpx.AsyncClient, auth: Any) -> None:
    url = f"{HSDS}/fi/services"
    first = await client.get(url, params={"per_page": 10})
    etag = first.headers["etag"]
    assert etag
    again = await client.get(url, params={"per_page": 10}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    other_lang = await client.get(f"{HSDS}/en/services", params={"per_page": 10})
    assert other_lang.headers["etag"] != etag
    for path in ("/", "/organizations"):
        response = await client.get(f"{HSDS}/fi{path}")
        cached = await client.get(
            f"{HSDS}/fi{path}", headers={"If-None-Match": response.headers["etag"]}
        )
        assert cached.status_code == 304

    await create_card(client, auth, RICH_CARD)
    changed = await client.get(url, params={"per_page": 10}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["total_items"] == first.json()["total_items"] + 2


async def test_municipality_edits_show_in_the_export(client: httpx.AsyncClient, auth: Any) -> None:
    url = f"{HSDS}/en/organizations"
    before = await client.get(url)
    assert before.json()["contents"][0]["email"] == "kirjaamo@kemijarvi.fi"
    municipality_url = "/api/v1/municipalities/kemijarvi"
    read = await client.get(municipality_url)
    contact = {**read.json()["contact"], "email": "muutto@kemijarvi.fi"}
    response = await client.patch(
        municipality_url,
        json={"contact": contact},
        headers={**auth("platform"), "If-Match": read.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    after = await client.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["contents"][0]["email"] == "muutto@kemijarvi.fi"
