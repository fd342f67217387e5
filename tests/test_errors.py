"""Every error is an RFC 9457 problem; unexpected ones show no internals."""

from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import assert_problem


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
