"""Input at the edge of its range is a 422 naming the field, never a 500; request bodies
are capped while they stream, before anything buffers or parses them."""

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException

from app.api.bodylimit import IMPORT_PATH
from app.contracts import OPENAPI_PATH
from app.core.config import Settings
from app.main import create_app
from app.models.booking import Message
from tests.conftest import Database, assert_problem, make_settings
from tests.test_analytics import SNAPSHOTS, ga4_report
from tests.test_bookings import MESSAGE
from tests.test_comms_plans import plan_body
from tests.test_fund import BASE as FUND
from tests.test_fund import idea_body, round_body
from tests.test_guides import GUIDE, GUIDES, make_guide
from tests.test_landing import story

BASE = "/api/v1/municipalities/kemijarvi"
HUGE = 8271483952008210611918419787776  # found by schemathesis: > 2**64
SPEC: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def _get_paths_with(parameter: str) -> list[str]:
    """Every GET route taking this query parameter, from the committed contract (which
    tests/test_contracts.py keeps equal to the code): a new collection is covered here
    without anyone remembering to add it."""
    return sorted(
        path
        for path, operations in SPEC["paths"].items()
        if any(
            p["in"] == "query" and p["name"] == parameter
            for p in operations.get("get", {}).get("parameters", [])
        )
    )


def _fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


def _concrete(path: str) -> str:
    return path.replace("{slug}", "kemijarvi").replace("{year}", "2024")  # a seeded round


COLLECTIONS = _get_paths_with("modified_since")


def test_the_collections_are_found() -> None:
    assert len(COLLECTIONS) >= 15
    assert "/api/v1/municipalities/{slug}/service-cards" in COLLECTIONS


# ---- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", COLLECTIONS)
@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z"]
)
async def test_modified_since_outside_what_utc_can_hold_is_a_422_on_every_collection(
    client: httpx.AsyncClient, auth: Any, path: str, moment: str
) -> None:
    """Year 1 at +14:00 is year 0 in UTC: converting it was an OverflowError (a 500)."""
    response = await client.get(
        _concrete(path), params={"modified_since": moment}, headers=auth("platform")
    )
    if moment.endswith("Z"):  # the very first instant is a valid time: beyond the change
        # log's retention where the collection carries tombstones (410 sync-expired)
        assert response.status_code in (200, 403, 410), response.text
        return
    body = assert_problem(response, 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == ["query.modified_since"]


async def test_the_extremes_utc_can_hold_are_fine(client: httpx.AsyncClient) -> None:
    """Times UTC can hold are read: the future is "nothing since", the distant past older
    than the change log keeps (a 410 telling the client to read everything again)."""
    response = await client.get(
        f"{BASE}/stories", params={"modified_since": "9999-12-31T23:59:59Z"}
    )
    assert response.status_code == 200, response.text
    for moment in ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00-14:00"):
        response = await client.get(f"{BASE}/stories", params={"modified_since": moment})
        assert_problem(response, 410, "sync-expired")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "0001-01-01T00:00:00+14:00"}, "query.from"),
        ({"to": "9999-12-31T23:59:59-14:00"}, "query.to"),
        ({"from": "9999-12-31T00:00:00Z"}, "query.from"),  # + the default 31 days
        ({"from": "9999-12-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"}, None),
        ({"from": "0001-01-01T00:00:00Z", "to": "0001-02-01T00:00:00Z"}, None),
    ],
)
async def test_a_slot_window_at_the_ends_of_time(
    client: httpx.AsyncClient, params: dict[str, str], field: str | None
) -> None:
    response = await client.get(f"{BASE}/slots", params=params)
    if field is None:
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []
        return
    body = assert_problem(response, 422, "validation-failed")
    assert field in [e["field"] for e in body["errors"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "9999-12-31"}, "query.from"),
        ({"to": "9999-12-31", "from": "9999-12-30"}, "query.to"),
        ({"from": "0001-01-01", "to": "0001-01-31"}, "query.from"),
    ],
)
async def test_a_comms_calendar_at_the_ends_of_time(
    client: httpx.AsyncClient, auth: Any, params: dict[str, str], field: str
) -> None:
    plans = await client.get(
        f"{BASE}/comms-plans", params={"year": 2022}, headers=auth("kemijarvi-comms")
    )
    plan_id = plans.json()["items"][0]["id"]
    for suffix in ("calendar", "calendar.ics"):
        response = await client.get(
            f"{BASE}/comms-plans/{plan_id}/{suffix}",
            params=params,
            headers=auth("kemijarvi-comms"),
        )
        body = assert_problem(response, 422, "validation-failed")
        assert field in [e["field"] for e in body["errors"]]


# ---- whole numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (f"{BASE}/hsds/en/services", {"page": HUGE}, "query.page"),
        (f"{BASE}/hsds/en/organizations", {"page": HUGE}, "query.page"),
        (f"{BASE}/hsds/en/services", {"per_page": HUGE}, "query.per_page"),
        (f"{BASE}/hsds/en/services", {"page": 2**63}, "query.page"),
        (f"{BASE}/service-cards", {"limit": 10**30}, "query.limit"),
        (f"{BASE}/fund/experiments", {"year": 10**30}, "query.year"),
        (f"{BASE}/fund/rounds/{10**30}", {}, "path.year"),
        (f"{BASE}/roadmap/reviews/{10**30}", {}, "path.year"),
    ],
)
async def test_a_huge_whole_number_in_the_url_is_a_422(
    client: httpx.AsyncClient, path: str, params: dict[str, int], field: str
) -> None:
    """`?page=8271483952008210611918419787776` was a 500: "Integer exceeds 64-bit range"
    when the page number was echoed back in the links."""
    body = assert_problem(await client.get(path, params=params), 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == [field]


def test_every_whole_number_in_a_url_has_bounds() -> None:
    """So that a number too large for the database or the JSON encoder never gets in."""
    unbounded = []
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schemas = parameter["schema"].get("anyOf", [parameter["schema"]])
                for schema in schemas:
                    if schema.get("type") == "integer" and not (
                        "maximum" in schema and "minimum" in schema
                    ):
                        unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert unbounded == []


@pytest.mark.parametrize("number", [2**31, 2**63, HUGE])
async def test_a_huge_revision_number_is_a_422(
    client: httpx.AsyncClient, auth: Any, number: int
) -> None:
    cards = (await client.get(f"{BASE}/service-cards", headers=auth("kemijarvi-editor"))).json()
    url = f"{BASE}/service-cards/{cards['items'][0]['id']}/revisions/{number}/restore"
    body = assert_problem(
        await client.post(url, headers=auth("kemijarvi-editor")), 422, "validation-failed"
    )
    assert [e["field"] for e in body["errors"]] == ["path.number"]


# ---- numbers and times in bodies -------------------------------------------------------------


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00", "0001-01-01"]
)
async def test_a_time_utc_cannot_hold_in_a_body_is_a_422(
    client: httpx.AsyncClient, auth: Any, moment: str
) -> None:
    """Each was an OverflowError as the value was converted or bound: a 500."""
    comms = auth("kemijarvi-comms")
    before = (await client.get(f"{BASE}/stories", params={"status": "all"}, headers=comms)).json()
    created = await client.post(
        f"{BASE}/stories", json=story(1, 2, published_at=moment), headers=comms
    )
    assert "body.published_at" in _fields(assert_problem(created, 422, "validation-failed"))
    imported = await client.post(
        f"{BASE}/stories/import", json=[story(2, 3, published_at=moment)], headers=comms
    )
    assert [e["field"] for e in assert_problem(imported, 422)["errors"]] == ["[0].published_at"]
    csv = f"title,author,published_at\nTarina,Kemijärven kaupunki,{moment}\n"
    imported = await client.post(
        f"{BASE}/stories/import",
        content=csv.encode(),
        headers={**comms, "Content-Type": "text/csv"},
    )
    assert_problem(imported, 422, "import-rejected")
    after = (await client.get(f"{BASE}/stories", params={"status": "all"}, headers=comms)).json()
    assert after["total"] == before["total"]
    if "T" in moment:
        guide = await make_guide(client, auth)
        slot = {"starts_at": moment, "ends_at": moment, "modes": ["remote"]}
        response = await client.post(
            f"{GUIDES}/{guide['id']}/slots", json=slot, headers=auth("kemijarvi-admin")
        )
        assert "body.starts_at" in _fields(assert_problem(response, 422, "validation-failed"))


@pytest.mark.parametrize("day", ["9999-12-31", "1899-12-31"])
async def test_a_day_out_of_any_plan_in_a_body_is_a_422(
    client: httpx.AsyncClient, auth: Any, day: str
) -> None:
    """A guide's term (default: a year on) and a weekly rule's expansion added days to
    9999-12-31: OverflowError, a 500."""
    admin = auth("kemijarvi-admin")
    guide = await make_guide(client, auth)
    rule = {
        "weekday": 0,
        "local_start": "09:00",
        "duration_minutes": 60,
        "modes": ["remote"],
        "valid_from": day,
        "valid_until": day,
    }
    response = await client.post(f"{GUIDES}/{guide['id']}/slot-rules", json=rule, headers=admin)
    assert {"body.valid_from", "body.valid_until"} <= set(_fields(assert_problem(response, 422)))
    response = await client.post(GUIDES, json={**GUIDE, "term_start": day}, headers=admin)
    assert _fields(assert_problem(response, 422, "validation-failed")) == ["body.term_start"]


@pytest.mark.parametrize("figure", ["1e400", "-1e400", "Infinity", "NaN", "1e13"])
async def test_a_figure_that_is_not_a_finite_sensible_number_is_a_422(
    client: httpx.AsyncClient, auth: Any, figure: str
) -> None:
    """1e400 reads as infinity: a custom metric stored it as null and every read of the
    snapshot was a 500 after; a plan's target silently became null."""
    comms = {**auth("kemijarvi-comms"), "Content-Type": "application/json"}
    custom = {"key": "arrivals", "name": {"fi": "Saapujat"}, "value": "FIGURE"}
    snapshot = json.dumps({"quarter": "2030-Q1", "custom_metrics": [custom]})
    response = await client.post(
        SNAPSHOTS, content=snapshot.replace('"FIGURE"', figure), headers=comms
    )
    assert _fields(assert_problem(response, 422)) == ["body.custom_metrics[0].value"]
    assert (await client.get(SNAPSHOTS, params={"year": 2030}, headers=comms)).json()["total"] == 0
    plan = json.dumps(plan_body(2040)).replace('"target": 2000', f'"target": {figure}')
    response = await client.post(f"{BASE}/comms-plans", content=plan, headers=comms)
    assert _fields(assert_problem(response, 422)) == ["body.metrics[0].target"]


@pytest.mark.parametrize(
    "rows",
    [
        [("/a", [10**30])],
        [("/a", [1e300])],
        [("/a", ["999999999999999"])],  # 15 digits: allowed by the pattern, > 10**12
        [("/a", ["600000000000"]), ("/a", ["600000000000"])],  # repeats add up past it
    ],
)
async def test_a_figure_past_the_limit_in_a_ga4_import_is_rejected(
    client: httpx.AsyncClient, auth: Any, rows: list[tuple[str, list[Any]]]
) -> None:
    """The snapshot's own models refuse more than 10**12, so these were 500s."""
    comms = auth("kemijarvi-comms")
    snapshot = (await client.post(SNAPSHOTS, json={"quarter": "2030-Q2"}, headers=comms)).json()
    url = f"{SNAPSHOTS}/{snapshot['id']}/import"
    pages = ga4_report("pagePath", ["screenPageViews"], rows)
    response = await client.post(f"{url}/ga4", json=pages, headers=comms)
    assert_problem(response, 422, "import-rejected")
    if len(rows) == 1:
        totals = ga4_report(None, ["sessions"], [(None, rows[0][1])])
        response = await client.post(f"{url}/ga4", json=totals, headers=comms)
        assert_problem(response, 422, "import-rejected")
    for line in ("website,,,,sessions,999999999999999", "top_page,/a,,,views,1000000000001"):
        csv = f"section,item,platform,hashtag,metric,value\n{line}\n"
        response = await client.post(
            f"{url}/csv", content=csv.encode(), headers={**comms, "Content-Type": "text/csv"}
        )
        assert _fields(assert_problem(response, 422, "import-rejected")) == ["line 2, column value"]
    unchanged = (await client.get(f"{SNAPSHOTS}/{snapshot['id']}", headers=comms)).json()
    assert unchanged["revision"] == snapshot["revision"]


@pytest.mark.parametrize("amount", [2**31, 2**63, HUGE])
async def test_a_huge_sum_in_an_anonymous_idea_is_a_422(
    client: httpx.AsyncClient, auth: Any, amount: int
) -> None:
    """The request is an INTEGER column: PostgreSQL would refuse 2**31 at insert."""
    admin = auth("kemijarvi-admin")
    await client.post(f"{FUND}/rounds", json=round_body(2031, "open"), headers=admin)
    response = await client.post(
        f"{FUND}/rounds/2031/ideas", json=idea_body(amount_requested=amount)
    )
    assert _fields(assert_problem(response, 422)) == ["body.amount_requested"]
    assert (await client.get(f"{FUND}/rounds/2031/ideas")).json()["total"] == 0


# ---- request body size -----------------------------------------------------------------------

MESSAGES = f"{BASE}/messages"
IMPORT = f"{BASE}/stories/import"
MiB = 1024 * 1024


def test_the_limits_are_settings_with_the_documented_defaults() -> None:
    settings = Settings()
    assert (settings.max_body_bytes, settings.max_import_body_bytes) == (1 * MiB, 5 * MiB)
    example = (OPENAPI_PATH.parents[1] / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^MAX_BODY_BYTES=1048576$", example, re.MULTILINE)
    assert re.search(r"^MAX_IMPORT_BODY_BYTES=5242880$", example, re.MULTILINE)


def test_the_larger_limit_is_for_exactly_the_import_routes() -> None:
    """The import routes are the ones that document their 413; a new `…/import` route
    gets the larger limit by its path, and this says so."""
    documented = {
        path
        for path, operations in SPEC["paths"].items()
        for operation in operations.values()
        if "413" in operation.get("responses", {})
    }
    matched = {path for path in SPEC["paths"] if IMPORT_PATH.search(path)}
    assert matched == documented
    assert len(matched) == 3


def _scope(path: str, headers: dict[str, str], method: str = "POST") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


class Sent:
    """What the app sent back through a raw ASGI call."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def response(self) -> httpx.Response:
        start = self.messages[0]
        assert start["type"] == "http.response.start"
        body = b"".join(m.get("body", b"") for m in self.messages[1:])
        headers = [(k.decode(), v.decode()) for k, v in start["headers"]]
        return httpx.Response(start["status"], headers=headers, content=body)


async def _count(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Message))).one()


@pytest.mark.parametrize("path", [MESSAGES, "/graphql", IMPORT, "/api/v1/municipalities"])
async def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(
    app: FastAPI, session: AsyncSession, path: str
) -> None:
    """The 413 comes before anything reads the body: a `receive` that fails if called."""

    async def must_not_read() -> dict[str, Any]:
        raise AssertionError("the body was read")

    before = await _count(session)
    sent = Sent()
    size = 6 * MiB if path == IMPORT else 100 * MiB
    headers = {"Content-Type": "application/json", "Content-Length": str(size)}
    await app(_scope(path, headers), must_not_read, sent)
    response = sent.response()
    body = assert_problem(response, 413, "payload-too-large")
    assert body["instance"] == path
    assert ("5 MB" if path == IMPORT else "1 MB") in body["detail"]
    assert response.headers["connection"] == "close"
    assert await _count(session) == before


async def test_a_browser_on_another_site_can_read_the_413(client: httpx.AsyncClient) -> None:
    """BodyLimit sits inside CORS, so its answer carries the CORS headers."""
    origin = "https://www.kemijarvi.fi"
    response = await client.post(
        MESSAGES,
        content=b" " * (MiB + 1),
        headers={"Origin": origin, "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")
    assert response.headers["access-control-allow-origin"] == origin


async def _chunks(total: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A message whose text goes on and on, sent without Content-Length."""
    yield b'{"name": "Maija", "email": "maija@example.org", "consent": true, "text": "'
    for _ in range(total // chunk):
        yield b"x" * chunk


@pytest.mark.parametrize("path", [MESSAGES, "/graphql"])
async def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit(
    app: FastAPI, session: AsyncSession, path: str
) -> None:
    read = 0
    source = _chunks(100 * MiB)

    async def receive() -> dict[str, Any]:
        nonlocal read
        try:
            chunk = await anext(source)
        except StopAsyncIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    before = await _count(session)
    sent = Sent()
    await app(_scope(path, {"Content-Type": "application/json"}), receive, sent)
    assert_problem(sent.response(), 413, "payload-too-large")
    assert MiB < read <= MiB + 2 * 64 * 1024  # stopped at the chunk that passed the limit
    assert await _count(session) == before


async def test_a_route_reading_past_the_limit_answers_413_and_never_sees_the_rest(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """No middleware buffers a GET: here the route itself reads past the limit, and the
    read raises (again on every retry) rather than returning a truncated body."""
    retried: list[str] = []

    @app.get("/echo-size")
    async def echo_size(request: Request) -> dict[str, int]:
        try:
            body = await request.body()
        except HTTPException:
            try:
                await request.receive()
            except HTTPException as again:
                retried.append(type(again).__name__)
            raise
        return {"size": len(body)}

    response = await client.request("GET", "/echo-size", content=_chunks(2 * MiB))
    assert_problem(response, 413, "payload-too-large")
    assert response.headers["connection"] == "close"
    assert retried == ["BodyTooLarge"]
    assert (await client.request("GET", "/echo-size", content=b"x" * 100)).json() == {"size": 100}


async def test_a_chunked_body_over_the_limit_through_http(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    before = await _count(session)
    response = await client.post(
        MESSAGES, content=_chunks(2 * MiB), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "payload-too-large")
    assert await _count(session) == before
    query = {"query": "{ municipalities { slug } }", "padding": "x" * (2 * MiB)}
    assert_problem(await client.post("/graphql", json=query), 413, "payload-too-large")


async def test_a_body_within_the_limit_is_untouched(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Padded to just under 1 MiB with whitespace: still a valid message, accepted."""
    before = await _count(session)
    raw = json.dumps(MESSAGE).encode()
    raw = raw[:-1] + b" " * (MiB - len(raw)) + b"}"
    assert len(raw) == MiB
    response = await client.post(
        MESSAGES, content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert await _count(session) == before + 1


@pytest.fixture
async def small_limits(
    database: Database, connection: AsyncConnection
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with limits of 4 kB and 64 kB, to try both edges cheaply."""
    settings = make_settings(database.url, max_body_bytes=4096, max_import_body_bytes=65536)

    def session_factory() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    app = create_app(settings, session_factory=session_factory)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _padded(stories: list[dict[str, Any]], size: int) -> bytes:
    raw = json.dumps(stories).encode()
    return raw[:-1] + b" " * (size - len(raw)) + b"]"


@pytest.mark.parametrize("chunked", [False, True])
async def test_an_import_may_be_larger_than_other_bodies_up_to_its_own_limit(
    small_limits: httpx.AsyncClient, auth: Any, chunked: bool
) -> None:
    client = small_limits
    headers = {**auth("kemijarvi-comms"), "Content-Type": "application/json"}

    async def post(raw: bytes) -> httpx.Response:
        async def stream() -> AsyncIterator[bytes]:
            for start in range(0, len(raw), 1000):
                yield raw[start : start + 1000]

        return await client.post(IMPORT, content=stream() if chunked else raw, headers=headers)

    async def total() -> int:
        listed = await client.get(f"{BASE}/stories", params={"status": "all"}, headers=headers)
        count: int = listed.json()["total"]
        return count

    before = await total()
    over = await post(_padded([story(1, 2)], 65537))
    assert "65536 bytes" in assert_problem(over, 413, "payload-too-large")["detail"]
    assert await total() == before
    accepted = await post(_padded([story(1, 2)], 65536))  # over 4 kB, at 64 kB
    assert accepted.status_code == 201, accepted.text
    assert await total() == before + 1
    csv = "section,item,platform,hashtag,metric,value\n" + "\n" * 65536
    snapshot = await client.post(SNAPSHOTS, json={"quarter": "2030-Q3"}, headers=headers)
    response = await client.post(
        f"{SNAPSHOTS}/{snapshot.json()['id']}/import/csv",
        content=csv.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert_problem(response, 413, "payload-too-large")
    message = json.dumps(MESSAGE).encode()
    response = await client.post(
        MESSAGES,
        content=message[:-1] + b" " * (4097 - len(message)) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


async def test_an_import_between_the_two_default_limits_is_accepted(
    client: httpx.AsyncClient, auth: Any
) -> None:
    """1.5 MB of stories: more than any other body may be, well within an import's 5 MB."""
    stories = [story(n, 1 + n % 28, body="Elämää Kemijärvellä. " * 900) for n in range(80)]
    raw = json.dumps(stories).encode()
    assert MiB < len(raw) < 5 * MiB
    response = await client.post(
        IMPORT, content=raw, headers={**auth("kemijarvi-comms"), "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 80


async def test_a_deeply_nested_body_with_nul_is_a_422_not_a_500(
    client: httpx.AsyncClient,
) -> None:
    """The NUL guard walked bodies recursively: 1 000 levels ran out of Python's
    recursion limit and the request was a 500."""
    body = '{"a":' * 1000 + '"\\u0000"' + "}" * 1000
    response = await client.post(
        "/api/v1/municipalities/kemijarvi/messages",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"][0]["field"].startswith("body.a.a.a")


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-1", "1e9"])
async def test_modified_since_is_a_time_not_a_number(client: httpx.AsyncClient, value: str) -> None:
    """Pydantic took numbers for seconds since 1970 (schemathesis found `?modified_since=0.5`
    answered 200): the contract is RFC 3339 with an offset."""
    for path in ("service-cards", "roadmap/reviews", "stories"):
        response = await client.get(
            f"/api/v1/municipalities/kemijarvi/{path}", params={"modified_since": value}
        )
        problem = assert_problem(response, 422, "validation-failed")
        assert problem["errors"][0]["field"] == "query.modified_since"


async def test_a_calendar_day_is_a_date_not_a_number(client: httpx.AsyncClient, auth: Any) -> None:
    """`?from=0` was read as 1970-01-01 (schemathesis, negative_data_rejection)."""
    plans = await client.get(
        "/api/v1/municipalities/kemijarvi/comms-plans", headers=auth("kemijarvi-comms")
    )
    plan_id = plans.json()["items"][0]["id"]
    response = await client.get(
        f"/api/v1/municipalities/kemijarvi/comms-plans/{plan_id}/calendar",
        params={"from": "0"},
        headers=auth("kemijarvi-comms"),
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"][0]["field"] == "query.from"
