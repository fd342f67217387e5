"""Communication plans and analytics through GraphQL: the same data, rules and problem
codes as REST."""

from typing import Any

import httpx

from tests.test_comms_plans import plan_body
from tests.test_graphql import gql

PLANS = """
query($m: String!, $year: Int) {
  commsPlans(municipality: $m, year: $year) {
    total nextCursor
    items { id year version revision status hashtags title(lang: EN) titleI18n { fi }
      strategy { question answer(lang: EN) }
      circles { key name groups { key name(lang: EN) } }
      metrics { key target name }
      rows { id scope cadence cadenceStart title(lang: EN) channels(lang: EN) responsible
        audience { kind key name(lang: EN) } } }
  }
}"""

CREATE = """
mutation($m: String!, $input: CommsPlanInput!) {
  createCommsPlan(municipality: $m, input: $input) {
    id status version revision rows { id cadence cadenceStart title }
  }
}"""


def as_input(body: dict[str, Any]) -> dict[str, Any]:
    """REST's plan body in GraphQL's camelCase."""

    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.capitalize() for part in rest)

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {camel(k): convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    converted: dict[str, Any] = convert(body)
    return converted


async def test_plans_with_rows_circles_and_strategy(client: httpx.AsyncClient, auth: Any) -> None:
    body = await gql(client, PLANS, auth("kemijarvi-comms"), m="kemijarvi", year=2022)
    data = body["data"]["commsPlans"]
    assert data["total"] == 1
    plan = data["items"][0]
    assert plan["status"] == "approved"
    assert plan["title"] == "Settlement-services communication plan 2022"
    assert [s["question"] for s in plan["strategy"]][:3] == ["why", "for_whom", "what"]
    assert plan["rows"][0]["audience"]["name"] == "Council, board and elected officials"
    assert plan["rows"][0]["cadenceStart"] == "2022-03-15T09:00"
    assert plan["rows"][-1]["cadence"] == "continuous"
    assert any(m["target"] == 13 for m in plan["metrics"])


async def test_create_submit_approve_and_the_calendar(client: httpx.AsyncClient, auth: Any) -> None:
    headers = auth("kemijarvi-comms")
    created = await gql(client, CREATE, headers, m="kemijarvi", input=as_input(plan_body(2026)))
    plan = created["data"]["createCommsPlan"]
    assert (plan["status"], plan["version"]) == ("draft", 1)
    assert plan["rows"][0]["cadenceStart"] == "2026-01-15T09:00"
    submit = 'mutation($id: ID!) { submitCommsPlan(municipality: "kemijarvi", id: $id) { status } }'
    assert (await gql(client, submit, headers, id=plan["id"]))["data"]["submitCommsPlan"] == {
        "status": "submitted"
    }
    approve = """mutation($id: ID!) { approveCommsPlan(municipality: "kemijarvi", id: $id,
        decisionDate: "2025-12-15", minutesReference: "Khall § 12") {
        status decision { decisionDate minutesReference } } }"""
    approved = (await gql(client, approve, headers, id=plan["id"]))["data"]["approveCommsPlan"]
    assert approved["decision"] == {"decisionDate": "2025-12-15", "minutesReference": "Khall § 12"}
    update = """mutation($id: ID!, $rev: Int!) { updateCommsPlan(municipality: "kemijarvi",
        id: $id, revision: $rev, input: {title: {fi: "Uusi"}}) { revision } }"""
    locked = await gql(client, update, headers, id=plan["id"], rev=plan["revision"] + 2)
    assert locked["errors"][0]["extensions"]["code"] == "plan-approved"
    stale = await gql(client, update, headers, id=plan["id"], rev=1)
    assert stale["errors"][0]["extensions"]["code"] == "precondition-failed"
    calendar = """query($id: ID!) { commsPlanCalendar(municipality: "kemijarvi", id: $id,
        firstDay: "2026-07-01", lastDay: "2026-09-30") {
        timezone firstDay lastDay tasks { uid localDate localTime startsAt startsAtUtc
          title(lang: EN) responsible(lang: EN) audience { key } }
        ongoing { cadence title } } }"""
    result = (await gql(client, calendar, headers, id=plan["id"]))["data"]["commsPlanCalendar"]
    assert result["timezone"] == "Europe/Helsinki"
    assert [(t["localDate"], t["localTime"]) for t in result["tasks"]] == [
        ("2026-07-01", "10:30"),
        ("2026-07-15", "09:00"),
    ]
    assert result["tasks"][1]["startsAt"] == "2026-07-15T09:00:00+03:00"
    assert result["tasks"][1]["startsAtUtc"] == "2026-07-15T06:00:00+00:00"
    assert result["tasks"][1]["title"] == "Report to the council"
    assert result["ongoing"] == [{"cadence": "continuous", "title": "Laskeutumissivu"}]
    history = """query($id: ID!) { commsPlanHistory(municipality: "kemijarvi", id: $id) {
        action updatedBy } }"""
    events = (await gql(client, history, headers, id=plan["id"]))["data"]["commsPlanHistory"]
    assert [e["action"] for e in events] == ["approved", "submitted", "created"]
    fresh = """mutation($id: ID!) { newCommsPlanVersion(municipality: "kemijarvi", id: $id) {
        version status basedOn } }"""
    second = (await gql(client, fresh, headers, id=plan["id"]))["data"]["newCommsPlanVersion"]
    assert second == {"version": 2, "status": "draft", "basedOn": plan["id"]}


async def test_errors_carry_the_problem_codes(client: httpx.AsyncClient, auth: Any) -> None:
    query = '{ commsPlans(municipality: "kemijarvi") { total } }'
    assert (await gql(client, query))["errors"][0]["extensions"]["code"] == "unauthorized"
    outsider = await gql(client, query, auth("posio-admin"))
    assert outsider["errors"][0]["extensions"]["code"] == "not-found"
    editor = await gql(client, query, auth("kemijarvi-editor"))
    assert editor["errors"][0]["extensions"]["code"] == "forbidden"
    body = plan_body()
    body["rows"][1]["cadence"] = "FREQ=SOMETIMES"
    bad = await gql(client, CREATE, auth("kemijarvi-comms"), m="kemijarvi", input=as_input(body))
    error = bad["errors"][0]["extensions"]
    assert error["code"] == "validation-failed"
    assert error["errors"][0]["field"] == "input.rows[1].cadence"
    wrong = await gql(
        client, CREATE, auth("posio-admin"), m="kemijarvi", input=as_input(plan_body())
    )
    assert wrong["errors"][0]["extensions"]["code"] == "forbidden"
    missing = await gql(
        client,
        'query { commsPlan(municipality: "kemijarvi", id: "not-an-id") { id } }',
        auth("kemijarvi-comms"),
    )
    assert missing["errors"][0]["extensions"]["code"] == "not-found"
    early = await gql(
        client,
        """mutation { createAnalyticsSnapshot(municipality: "kemijarvi",
            input: {quarter: "2026-Q9"}) { id } }""",
        auth("kemijarvi-comms"),
    )
    assert early["errors"][0]["extensions"]["errors"][0]["field"] == "input.quarter"


async def test_snapshots_and_comparison(client: httpx.AsyncClient, auth: Any) -> None:
    headers = auth("kemijarvi-comms")
    create = """mutation($input: AnalyticsSnapshotInput!) {
      createAnalyticsSnapshot(municipality: "kemijarvi", input: $input) {
        id quarter firstDay lastDay movers website { sessions } social { hashtag posts }
        successes(lang: EN) metrics { key value label(lang: EN) } computed { name value } } }"""
    previous = await gql(
        client,
        create,
        headers,
        input={"quarter": "2026-Q2", "movers": 0, "website": {"sessions": 1000}},
    )
    assert previous["data"]["createAnalyticsSnapshot"]["quarter"] == "2026-Q2"
    current = await gql(
        client,
        create,
        headers,
        input={
            "quarter": "2026-Q3",
            "movers": 4,
            "website": {"sessions": 1100, "users": 500},
            "social": [{"platform": "instagram", "hashtag": "#kemijärvi", "posts": 3}],
            "successes": [{"fi": "Hyvä", "en": "Good"}],
            "interviews": [{"consent": True, "moods": {"fi": "Iloinen"}}],
        },
    )
    snapshot = current["data"]["createAnalyticsSnapshot"]
    assert snapshot["firstDay"] == "2026-07-01"
    assert snapshot["successes"] == ["Good"]
    assert {"key": "movers", "value": 4.0, "label": "Movers"} in snapshot["metrics"]
    no_consent = await gql(
        client,
        create,
        headers,
        input={"quarter": "2026-Q4", "interviews": [{"consent": False}]},
    )
    assert no_consent["errors"][0]["extensions"]["code"] == "validation-failed"
    compare = """query($id: ID!, $with: CompareWith!) {
      analyticsComparison(municipality: "kemijarvi", id: $id, compare: $with) {
        quarter against againstSnapshot
        metrics { key value previous changeAbs changePct flag label(lang: EN) } } }"""
    result = await gql(client, compare, headers, id=snapshot["id"], **{"with": "PREVIOUS"})
    comparison = result["data"]["analyticsComparison"]
    assert comparison["against"] == "2026-Q2"
    metrics = {m["key"]: m for m in comparison["metrics"]}
    assert metrics["website.sessions"]["changePct"] == 10.0
    assert metrics["movers"]["changePct"] is None
    assert metrics["movers"]["changeAbs"] == 4
    assert metrics["website.users"]["flag"] == "new"
    year_ago = await gql(client, compare, headers, id=snapshot["id"], **{"with": "YEAR_AGO"})
    assert year_ago["data"]["analyticsComparison"]["againstSnapshot"] is None
    listed = await gql(
        client,
        '{ analyticsSnapshots(municipality: "kemijarvi") { total items { quarter movers } } }',
        headers,
    )
    assert [s["quarter"] for s in listed["data"]["analyticsSnapshots"]["items"]] == [
        "2026-Q3",
        "2026-Q2",
    ]
    trend = await gql(
        client,
        """{ analyticsTrend(municipality: "kemijarvi", metric: "website.sessions",
             firstQuarter: "2026-Q1", lastQuarter: "2026-Q3") {
             metric label(lang: EN) points { quarter value } } }""",
        headers,
    )
    assert trend["data"]["analyticsTrend"]["points"] == [
        {"quarter": "2026-Q1", "value": None},
        {"quarter": "2026-Q2", "value": 1000.0},
        {"quarter": "2026-Q3", "value": 1100.0},
    ]
    one = await gql(
        client,
        """query($id: ID!) { analyticsSnapshot(municipality: "kemijarvi", id: $id) {
            quarter computed { name } } }""",
        headers,
        id=snapshot["id"],
    )
    assert one["data"]["analyticsSnapshot"]["quarter"] == "2026-Q3"
    outsider = await gql(
        client,
        """query($id: ID!) { analyticsSnapshot(municipality: "kemijarvi", id: $id) { id } }""",
        auth("posio-admin"),
        id=snapshot["id"],
    )
    assert outsider["errors"][0]["extensions"]["code"] == "not-found"
