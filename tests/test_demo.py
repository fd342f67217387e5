"""The development demo: after `make run` the guide directory and the slots are not
empty, so anyone can try booking; never in production; `settle purge-demo` removes it."""

import asyncio
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.guide import Guide
from app.seed.loader import seed
from app.services import demo as demo_service
from tests.conftest import Database
from tests.test_bookings import booking_body

BASE = "/api/v1/municipalities/kemijarvi"


async def demo_guides(session: AsyncSession) -> list[Guide]:
    return list(await session.exec(select(Guide).where(col(Guide.demo).is_(True))))


async def test_development_seeds_bookable_demo_guides_and_purge_removes_them(
    client: httpx.AsyncClient, session: AsyncSession, database: Database, app: Any
) -> None:
    production = database.settings.model_copy(
        update={"environment": "production", "secret_key": "p" * 40}
    )
    await seed(session=session, settings=production, demo=True)
    assert await demo_guides(session) == []

    development = database.settings.model_copy(update={"environment": "development"})
    report = await seed(session=session, settings=development, demo=True)
    assert sum(line.startswith("demo guide") for line in report.created) == 3
    again = await seed(session=session, settings=development, demo=True)
    assert not again.changed, again

    guides = (await client.get(f"{BASE}/guides", params={"lang": "en"})).json()["items"]
    assert len(guides) == 3
    assert all(g["demo"] is True and "Demo" in g["display_name"] for g in guides)
    assert {lang for g in guides for lang in g["languages"]} == {"fi", "en", "sv"}
    assert {mode for g in guides for mode in g["modes"]} == {"live", "remote", "phone"}
    slots = (await client.get(f"{BASE}/slots")).json()["items"]
    assert slots
    remote = next(s for s in slots if "remote" in s["modes"])
    booked = await client.post(f"{BASE}/bookings", json=booking_body(remote["id"]))
    assert booked.status_code == 201, booked.text
    stories = (await client.get(f"{BASE}/landing")).json()["stories"]
    assert [s["demo"] for s in stories] == [True, True, True]

    purged = await demo_service.purge(session=session)
    assert (purged.guides, purged.stories, purged.bookings) == (3, 3, 1)
    # Another process purged: this one sees it once its versions' time-to-live ends.
    app.state.cache.clear()
    assert (await client.get(f"{BASE}/guides")).json()["total"] == 0
    assert (await client.get(f"{BASE}/slots")).json()["items"] == []
    assert (await client.get(f"{BASE}/landing")).json()["stories"] == []


def test_seed_has_a_no_demo_switch_and_purge_demo_is_a_command() -> None:
    from app import cli

    parser = cli.build_parser()
    assert parser.parse_args(["seed", "--no-demo"]).no_demo is True
    assert parser.parse_args(["seed"]).no_demo is False
    assert parser.parse_args(["purge-demo"]).run is cli._purge_demo


async def test_settle_purge_demo_command(
    database: Database,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`settle seed` in development seeds the demo, `settle purge-demo` removes it, on a
    database of its own."""
    if database.dialect != "sqlite":
        pytest.skip("the commands are database-neutral; one run proves them")
    from app import cli
    from app.core.config import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/demo.db")
    monkeypatch.setenv("ENVIRONMENT", "development")
    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(cli.main, ["migrate"]) == 0
        assert await asyncio.to_thread(cli.main, ["seed", "--no-demo"]) == 0
        assert "demo guide" not in capsys.readouterr().out
        assert await asyncio.to_thread(cli.main, ["seed"]) == 0
        assert "demo guide kemijarvi/Demo-opas Aino Esimerkki" in capsys.readouterr().out
        assert await asyncio.to_thread(cli.main, ["purge-demo"]) == 0
        assert "3 guides" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
