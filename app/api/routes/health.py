"""Liveness and readiness for load balancers and orchestrators."""

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import Response

from app.api.problems import problem_response
from app.api.schemas import plain

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    """No database involved: a restart is the only cure for a failing liveness check."""
    return {"status": "ok"}


@router.get("/readyz", summary="Ready to serve: database reachable, migrations at head")
async def readyz(request: Request) -> Response:
    expected = request.app.state.migration_head
    try:
        async with request.app.state.session_factory() as session:
            connection = await session.connection()
            current = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except Exception:  # any failure to reach the database means not ready
        return problem_response(
            status=503,
            code="unavailable",
            title="Service unavailable",
            detail="The database is unreachable.",
            instance="/readyz",
        )
    if current != expected:
        return problem_response(
            status=503,
            code="unavailable",
            title="Service unavailable",
            detail=f"Migrations are at {current}, expected {expected}: run `settle migrate`.",
            instance="/readyz",
        )
    return plain({"status": "ready", "database": "ok", "migration": current})
