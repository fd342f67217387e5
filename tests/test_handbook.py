"""The mover's handbook through the REST API: content, languages, formats, escaping,
caching and errors (and the compile service's query budget)."""

import copy
import html
import re
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from app.services import handbook as handbook_service
from app.services import municipality as municipality_service
from tests.conftest import assert_problem
from tests.test_service_cards import NEW_CARD

HANDBOOK = "/api/v1/municipalities/kemijarvi/handbook"
CARDS = "/api/v1/municipalities/kemijarvi/service-cards"
HELSINKI = ZoneInfo("Europe/Helsinki")
MONTHS_EN = (
    "January February March April May June July August September October November December"
).split()


class Outline(HTMLParser):
    """The parts of the page the tests look at: TOC links, articles, headings, scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.toc: list[str] = []
        self.articles: list[str] = []
        self.card_titles: list[str] = []
        self.html_lang: str | None = None
        self._stack: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        if tag == "a" and "nav" in self._stack:
            self.toc.append(attributes.get("href") or "")
        if tag == "article":
            self.articles.append(attributes.get("id") or "")
        if tag == "h2" and "article" in self._stack:
            self._in_title = True
            self.card_titles.append("")
        if tag not in ("meta", "br", "link"):
            self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_title = False
        if tag in self._stack:
            while self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.card_titles[-1] += data


def outline(page: str) -> Outline:
    parser = Outline()
    parser.feed(page)
    return parser


def english_date(iso: str) -> str:
    local = datetime.fromisoformat(iso).astimezone(HELSINKI)
    return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}"


def finnish_date(iso: str) -> str:
    local = datetime.fromisoformat(iso).astimezone(HELSINKI)
    return f"{local.day}.{local.month}.{local.year}"


async def published_cards(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    body = (await client.get(CARDS, params={"limit": "100", **params})).json()
    assert body["next_cursor"] is None
    items: list[dict[str, Any]] = body["items"]
    return items


async def add_card(
    client: httpx.AsyncClient, auth: Any, card: dict[str, Any], *, publish: bool = True
) -> dict[str, Any]:
    editor = auth("kemijarvi-editor")
    created = await client.post(CARDS, json=card, headers=editor)
    assert created.status_code == 201, created.text
    if not publish:
        result: dict[str, Any] = created.json()
        return result
    published = await client.post(f"{CARDS}/{created.json()['id']}/publish", headers=editor)
    assert published.status_code == 200, published.text
    result = published.json()
    return result


# ---- content ---------------------------------------------------------------------------


async def test_english_html_has_title_contents_cards_and_footers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(HANDBOOK, params={"lang": "en"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-language"] == "en"
    assert response.headers["etag"]
    page = response.text
    text = html.unescape(page)
    parts = outline(page)
    cards = await published_cards(client, lang="en")
    assert len(cards) >= 10

    assert page.startswith("<!DOCTYPE html>")
    assert parts.html_lang == "en"
    assert "<title>Mover&#39;s handbook – Kemijärvi</title>" in page
    assert "Mover's handbook – Kemijärvi" in text
    assert {"header", "nav", "main", "article", "section", "ul", "dl"} <= set(parts.tags)
    assert parts.toc == [f"#card-{card['id']}" for card in cards]
    assert parts.articles == [f"card-{card['id']}" for card in cards]
    assert parts.card_titles == [card["title"] for card in cards]
    assert "Kemijärven Vuokratalot" in text
    assert '<a href="https://www.kemijarvi.fi">' in page
    for card in cards:
        footer = (
            f"Last updated {english_date(card['last_updated'])} · Updated by {card['updated_by']}"
            f" · Updated items: {', '.join(card['updated_items'])}"
        )
        assert footer in text, footer
    assert text.count("Last updated ") == len(cards)
    assert "Before the move" in text  # the moving checklist's timing, in words


async def test_the_page_is_standalone_and_printable(client: httpx.AsyncClient) -> None:
    response = await client.get(HANDBOOK, params={"lang": "en"})
    page = response.text
    assert "@media print" in page
    assert 'a[href^="http"]::after { content: " (" attr(href) ")";' in page
    assert "break-before: page" in page
    tags = set(outline(page).tags)
    assert not tags & {"script", "link", "img", "iframe", "object"}
    assert "src=" not in page
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_phones_show_number_and_price_and_entries_all_their_details(
    client: httpx.AsyncClient, auth: Any
) -> None:
    card: dict[str, Any] = copy.deepcopy(NEW_CARD)
    entry = card["sections"][0]["entries"][0]
    entry["address"] = {"fi": "Vapaudenkatu 8, 98100 Kemijärvi"}
    entry["opening_hours"] = {"fi": "Ma–pe 9–15", "en": "Mon–Fri 9–15"}
    published = await add_card(client, auth, card)

    text = html.unescape((await client.get(HANDBOOK, params={"lang": "en"})).text)
    assert "Housing advice" in text
    assert '<a href="tel:+358401234567">+358 40 1234567</a> (price of the call: ' in text
    assert "mobile rate" in text
    assert '<a href="mailto:asunnot@example.org">asunnot@example.org</a>' in text
    assert "Vapaudenkatu 8, 98100 Kemijärvi" in text
    assert "Mon–Fri 9–15" in text
    assert "<dd>Finnish, English</dd>" in text
    # A text only in Finnish falls back to it and says so for assistive technology.
    assert '<h4 lang="fi">Tee muuttoilmoitus</h4>' in text
    assert (
        f"Last updated {english_date(published['last_updated'])} · Updated by kemijarvi-editor"
        f" · Updated items: {', '.join(published['updated_items'])}"
    ) in text

    markdown = (await client.get(HANDBOOK, params={"format": "md"})).text
    assert "Puhelin: [+358 40 1234567](tel:+358401234567) (puhelun hinta: mpm)" in markdown
    assert "Sähköposti: [asunnot@example.org](mailto:asunnot@example.org)" in markdown
    assert "Aukioloajat: Ma–pe 9–15" in markdown
    assert "Palvelukielet: suomi, englanti" in markdown
    assert "Milloin: Ennen muuttoa" in markdown


async def test_topics_pick_cards_in_the_card_order(client: httpx.AsyncClient) -> None:
    home = await published_cards(client, topic="home")
    children = await published_cards(client, topic="children")
    everything = [card["id"] for card in await published_cards(client)]

    only_home = outline((await client.get(HANDBOOK, params={"topics": "home"})).text)
    assert only_home.articles == [f"card-{card['id']}" for card in home]

    page = (await client.get(HANDBOOK, params={"topics": "children, home,home"})).text
    both = outline(page)
    expected = [i for i in everything if i in {c["id"] for c in home + children}]
    assert both.articles == [f"card-{i}" for i in expected]
    assert "Kemijärven Vuokratalot" in page


async def test_finnish_markdown(client: httpx.AsyncClient) -> None:
    response = await client.get(HANDBOOK, params={"format": "md"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["content-language"] == "fi"  # the municipality's default
    markdown = response.text
    cards = await published_cards(client, lang="fi")
    assert markdown.startswith("# Tulomuuttajan opas – Kemijärvi\n")
    card_headings = re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)
    assert card_headings == [card["title"] for card in cards]
    assert re.findall(r"^- \[.+\]\(#(card-[0-9a-f-]+)\)$", markdown, flags=re.MULTILINE) == [
        f"card-{card['id']}" for card in cards
    ]
    assert re.search(r"^### ", markdown, flags=re.MULTILINE)
    assert "[Kemijärven kaupungin verkkosivut](https://www.kemijarvi.fi)" in markdown
    assert "Kemijärven Vuokratalot" in markdown
    for card in cards:
        assert f"Viimeisin päivitys {finnish_date(card['last_updated'])} · Päivittäjä " in markdown


async def test_language_follows_the_request_then_the_municipality(
    client: httpx.AsyncClient,
) -> None:
    finnish = await client.get(HANDBOOK)
    assert finnish.headers["content-language"] == "fi"
    assert outline(finnish.text).html_lang == "fi"
    assert "Tulomuuttajan opas – Kemijärvi" in finnish.text
    english = await client.get(HANDBOOK, headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english.headers["content-language"] == "en"
    assert "Mover&#39;s handbook – Kemijärvi" in english.text
    # Kemijärvi does not enable Swedish: its default language is served, and said.
    swedish = await client.get(HANDBOOK, params={"lang": "sv", "format": "md"})
    assert swedish.headers["content-language"] == "fi"
    assert swedish.text.startswith("# Tulomuuttajan opas – Kemijärvi\n")
    keminmaa = HANDBOOK.replace("kemijarvi", "keminmaa")
    swedish = await client.get(keminmaa, params={"lang": "sv", "format": "md"})
    assert swedish.text.startswith("# Inflyttarens guide – Keminmaa\n")


# ---- escaping ----------------------------------------------------------------------------


async def test_user_text_is_escaped_in_html_and_markdown(
    client: httpx.AsyncClient, auth: Any
) -> None:
    card: dict[str, Any] = copy.deepcopy(NEW_CARD)
    card["title"] = {"fi": "<script>alert(1)</script> *tähti* [x](y) `koodi`"}
    entry = card["sections"][0]["entries"][0]
    entry["name"] = {"fi": 'Toimisto "<b>" & _alaviiva_'}
    entry["description"] = {"fi": "# ei otsikko\n- ei lista\n1. ei numeroitu"}
    entry["links"] = [{"url": "https://example.org/a?b=1&c=2", "label": {"fi": "<i>linkki</i>"}}]
    await add_card(client, auth, card)

    page = (await client.get(HANDBOOK)).text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>" not in page
    assert "&lt;b&gt;" in page
    assert "&amp; _alaviiva_" in page
    assert '<a href="https://example.org/a?b=1&amp;c=2">&lt;i&gt;linkki&lt;/i&gt;</a>' in page

    markdown = (await client.get(HANDBOOK, params={"format": "md"})).text
    assert "<script>" not in markdown
    assert "<b>" not in markdown
    assert r"## \<script\>alert(1)\</script\> \*tähti\* \[x\](y) \`koodi\`" in markdown
    assert r"\_alaviiva\_" in markdown
    assert "  \\# ei otsikko\n  \\- ei lista\n  1\\. ei numeroitu" in markdown
    assert r"[\<i\>linkki\</i\>](https://example.org/a?b=1&c=2)" in markdown


# ---- caching -----------------------------------------------------------------------------


async def test_etag_and_304(client: httpx.AsyncClient) -> None:
    first = await client.get(HANDBOOK, params={"lang": "en"})
    etag = first.headers["etag"]
    again = await client.get(HANDBOOK, params={"lang": "en"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other_format = await client.get(HANDBOOK, params={"lang": "en", "format": "md"})
    assert other_format.headers["etag"] != etag


async def test_a_cached_handbook_keeps_its_content_type(client: httpx.AsyncClient) -> None:
    """The second read is served from memory (FastLane): still HTML, not JSON."""
    for params, media_type in (
        ({"lang": "en"}, "text/html; charset=utf-8"),
        ({"lang": "en", "format": "md"}, "text/markdown; charset=utf-8"),
    ):
        cold = await client.get(HANDBOOK, params=params)
        warm = await client.get(HANDBOOK, params=params)
        assert warm.status_code == 200
        assert warm.content == cold.content
        assert cold.headers["content-type"] == media_type
        assert warm.headers["content-type"] == media_type


async def test_a_published_card_changes_the_etag_and_appears(
    client: httpx.AsyncClient, auth: Any
) -> None:
    before = await client.get(HANDBOOK, params={"lang": "en"})
    assert "Housing advice" not in before.text
    await add_card(client, auth, NEW_CARD)
    after = await client.get(
        HANDBOOK, params={"lang": "en"}, headers={"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert "Housing advice" in after.text
    assert len(outline(after.text).toc) == len(outline(before.text).toc) + 1


async def test_a_draft_card_is_left_out(client: httpx.AsyncClient, auth: Any) -> None:
    draft = await add_card(client, auth, NEW_CARD, publish=False)
    assert draft["status"] == "draft"
    page = (await client.get(HANDBOOK, params={"lang": "en"})).text
    assert "Housing advice" not in page
    assert f"card-{draft['id']}" not in page
    # Signed-in staff get the same public handbook: drafts are never compiled in.
    staff = await client.get(HANDBOOK, params={"lang": "en"}, headers=auth("kemijarvi-editor"))
    assert "Housing advice" not in staff.text


# ---- errors and edge cases ----------------------------------------------------------------


async def test_bad_parameters_are_422(client: httpx.AsyncClient) -> None:
    body = assert_problem(
        await client.get(HANDBOOK, params={"topics": "home,nope"}), 422, "validation-failed"
    )
    assert [e["field"] for e in body["errors"]] == ["query.topics"]
    assert "nope" in body["errors"][0]["message"]
    body = assert_problem(await client.get(HANDBOOK, params={"format": "pdf"}), 422)
    assert [e["field"] for e in body["errors"]] == ["query.format"]
    assert_problem(await client.get(HANDBOOK, params={"lang": "xx"}), 422, "unsupported-language")


async def test_unknown_municipality_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/municipalities/atlantis/handbook"), 404, "not-found")


async def test_a_municipality_without_cards_gets_a_valid_document(
    client: httpx.AsyncClient, auth: Any
) -> None:
    created = await client.post(
        "/api/v1/municipalities",
        json={
            "slug": "rovaniemi",
            "code": "698",
            "name": {"fi": "Rovaniemi", "sv": "Rovaniemi", "en": "Rovaniemi"},
            "default_language": "sv",
            "enabled_languages": ["fi", "sv", "en"],
        },
        headers=auth("platform"),
    )
    assert created.status_code == 201, created.text
    url = "/api/v1/municipalities/rovaniemi/handbook"
    swedish = await client.get(url)
    assert swedish.status_code == 200
    assert swedish.headers["content-language"] == "sv"
    parts = outline(swedish.text)
    assert parts.html_lang == "sv"
    assert parts.articles == []
    assert "nav" not in parts.tags
    assert "Inflyttarens guide – Rovaniemi" in swedish.text
    assert "Kommunen har inga publicerade servicekort ännu." in swedish.text
    markdown = await client.get(url, params={"lang": "en", "format": "md"})
    assert markdown.text == (
        "# Mover's handbook – Rovaniemi\n\n"
        + handbook_service.LABELS["en"]["intro"]
        + "\n\nThe municipality has no published service cards yet.\n"
    )


async def test_openapi_declares_both_content_types(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"]["/api/v1/municipalities/{slug}/handbook"]["get"]
    assert operation["summary"] == "Compile the mover's handbook"
    assert operation["tags"] == ["handbook"]
    assert set(operation["responses"]["200"]["content"]) == {"text/html", "text/markdown"}
    assert {"404", "422"} <= set(operation["responses"])
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"slug", "lang", "topics", "format"} <= names


# ---- the service ---------------------------------------------------------------------------


async def test_compiling_costs_a_constant_number_of_queries(
    session: AsyncSession, count_queries: Any
) -> None:
    kemijarvi = await municipality_service.get_by_slug(session=session, slug="kemijarvi")
    counts = []
    for topics in (None, ["home"]):
        with count_queries() as counter:
            document = await handbook_service.compile_handbook(
                session=session,
                municipality_id=kemijarvi.id,
                municipality_name=kemijarvi.name.as_dict(),
                lang="en",
                topics=topics,
                fmt="md",
            )
        counts.append(counter.count)
        assert "Kemijärven Vuokratalot" in document
    # ids + sections + entries + cards, and the topic keys when topics are chosen.
    assert counts[0] <= 5, counts
    assert counts[1] == counts[0] + 1, counts


async def test_lenient_topics_skip_what_the_municipality_lacks(session: AsyncSession) -> None:
    """The info package maps a fixed vocabulary to card topics not every municipality has."""
    kemijarvi = await municipality_service.get_by_slug(session=session, slug="kemijarvi")
    common: dict[str, Any] = {
        "session": session,
        "municipality_id": kemijarvi.id,
        "municipality_name": kemijarvi.name.as_dict(),
        "lang": "en",
        "fmt": "md",
        "strict_topics": False,
    }
    some = await handbook_service.compile_handbook(topics=["home", "nope"], **common)
    assert "Kemijärven Vuokratalot" in some
    none = await handbook_service.compile_handbook(topics=["nope"], **common)
    assert "## " not in none
    assert "There are no published service cards on the chosen topics yet." in none
