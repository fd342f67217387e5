"""Every error is an RFC 9457 problem; unexpected ones show no internals."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.booking import Message
from tests.conftest import assert_problem
from tests.test_bookings import MESSAGE


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/v1/no-such-thing"), 404, "not-found")
    assert body["instance"] == "/api/v1/no-such-thing"


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/municipalities")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


async def test_malformed_json_is_a_422_problem(client: httpx.AsyncClient, auth: Any) -> None:
    response = await client.post(
        "/api/v1/municipalities",
        content=b"{not json",
        headers={**auth("platform"), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"]


async def test_unexpected_error_is_a_500_problem_without_internals(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail: password=hunter2")

    response = await client.get("/boom")
    body = assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert body["detail"] == "Something went wrong on our side. It has been logged."


async def test_problem_codes_are_documented_in_the_readme() -> None:
    from pathlib import Path

    from app.core.errors import PROBLEM_CODES

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [code for code in PROBLEM_CODES if f"`/problems/{code}`" not in readme]
    assert missing == []


async def test_a_busy_database_is_a_503_to_retry(app: FastAPI, client: httpx.AsyncClient) -> None:
    from sqlalchemy.exc import OperationalError

    @app.get("/busy")
    async def busy() -> None:
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))

    response = await client.get("/busy")
    assert_problem(response, 503, "busy")
    assert response.headers["retry-after"] == "1"


KEMIJARVI = "/api/v1/municipalities/kemijarvi"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (f"{KEMIJARVI}/service-cards", {"topic": "a\x00b"}, "query.topic"),
        (f"{KEMIJARVI}/guides", {"expertise": "fishing\x00"}, "query.expertise"),
        (f"{KEMIJARVI}/stories", {"hashtag": "\x00"}, "query.hashtag"),
    ],
)
async def test_nul_in_a_query_parameter_is_a_422(
    client: httpx.AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    """PostgreSQL cannot store or compare U+0000: it was a 500 there (schemathesis)."""
    body = assert_problem(await client.get(path, params=params), 422, "validation-failed")
    assert [e["field"] for e in body["errors"]] == [field]


async def test_nul_in_json_is_a_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    message = {**MESSAGE, "text": "Onko vuokra-asuntoja?\u0000"}
    before = (await session.exec(select(func.count()).select_from(Message))).one()
    response = await client.post(f"{KEMIJARVI}/messages", json=message)
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"] == [
        {"field": "body.text", "message": "contains U+0000", "code": "invalid-character"}
    ]
    assert (await session.exec(select(func.count()).select_from(Message))).one() == before
    nested = {"slug": "nul", "code": "998", "name": {"fi": "Nul", "sv": "N\u0000"}}
    response = await client.post("/api/v1/municipalities", json=nested, headers=auth("platform"))
    assert assert_problem(response, 422)["errors"][0]["field"] == "body.name.sv"
    # a JSON string that merely shows the escape is fine: "\\u0000" is six characters
    shown = {**message, "text": "Kirjoitin \\u0000 vahingossa"}
    assert (await client.post(f"{KEMIJARVI}/messages", json=shown)).status_code == 201


async def test_nul_in_a_form_or_a_path(client: httpx.AsyncClient) -> None:
    form = {"username": "a\x00@example.org", "password": "whatever-it-is"}
    body = assert_problem(await client.post("/api/v1/auth/token", data=form), 422)
    assert body["errors"][0]["field"] == "body.username"
    assert_problem(await client.get(f"{KEMIJARVI}/personas/a%00b"), 404, "not-found")


def test_every_problem_code_the_code_raises_is_registered() -> None:
    """A code raised somewhere but missing from PROBLEM_CODES is undocumented for clients
    (`expertise-in-use` was)."""
    import re
    from pathlib import Path

    from app.core.errors import PROBLEM_CODES

    app_dir = Path(__file__).parents[1] / "app"
    raised = {
        code
        for path in app_dir.rglob("*.py")
        for code in re.findall(r'\bcode="([a-z][a-z-]+)"', path.read_text(encoding="utf-8"))
    }
    assert sorted(raised - set(PROBLEM_CODES)) == []
