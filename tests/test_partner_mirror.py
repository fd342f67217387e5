"""The partner mirror (examples/partner_mirror.py) against a real server: after 200
random writes with syncs in between, its copy equals a fresh full read."""

import asyncio
import importlib.util
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import create_engine
from app.core.migrate import upgrade
from app.core.security import create_access_token
from app.models.user import Role
from app.seed.loader import seed
from app.services.user import ensure_account
from tests.conftest import PASSWORD, Database, fresh_database_url, make_settings
from tests.test_bookings import booking_body
from tests.test_guides import GUIDE, next_week_at
from tests.test_landing import story
from tests.test_operating import free_port
from tests.test_service_cards import NEW_CARD

ROOT = Path(__file__).resolve().parent.parent
STAFF = {
    "admin": ("mirror-admin@example.org", Role.municipality_admin),
    "comms": ("mirror-comms@example.org", Role.comms),
}


def _load_mirror() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "partner_mirror", ROOT / "examples/partner_mirror.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["partner_mirror"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


async def _prepare(url: str) -> dict[str, str]:
    """Migrate and seed a database of the test's own (the server commits real writes)
    and make the staff accounts; returns their bearer headers' tokens."""
    settings = make_settings(url)
    await asyncio.to_thread(upgrade, settings)
    engine = create_engine(url)
    tokens = {}
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await seed(session=session, settings=settings)
        for who, (email, role) in STAFF.items():
            user, _ = await ensure_account(
                session=session,
                email=email,
                password=PASSWORD,
                display_name=who,
                role=role,
                municipality_slug="kemijarvi",
            )
            tokens[who] = create_access_token(str(user.id), settings)[0]
        await session.commit()
    await engine.dispose()
    return tokens


@pytest.fixture
def server(database: Database, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    url, remove = asyncio.run(fresh_database_url(database.dialect, tmp_path))
    tokens = asyncio.run(_prepare(url))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PUBLIC_"))}
    env.update(
        DATABASE_URL=url,
        SECRET_KEY=database.settings.secret_key,
        HOST="127.0.0.1",
        PORT=str(port),
        WORKERS="1",
        ENVIRONMENT="development",
        PUBLIC_POST_LIMIT_PER_MINUTE="100000",
        LOG_LEVEL="WARNING",
    )
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--no-access-log"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base, {who: f"Bearer {token}" for who, token in tokens.items()}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if not os.environ.get("KEEP_MIRROR_DB"):
            asyncio.run(remove())


class Writer:
    """Random public-facing writes through the API, as staff and movers make them."""

    def __init__(self, base: str, tokens: dict[str, str], rng: random.Random) -> None:
        self.api = f"{base}/api/v1/municipalities/kemijarvi"
        self.http = httpx.Client(timeout=30)
        self.admin = {"Authorization": tokens["admin"]}
        self.comms = {"Authorization": tokens["comms"]}
        self.rng = rng
        self.cards: list[str] = []
        self.stories: list[str] = []
        self.slots: list[str] = []
        self.bookings: list[tuple[str, str]] = []  # (booking id, manage token)
        self.hours = iter(range(10_000))
        self.counts: dict[str, int] = {}
        guide = self._ok(
            self.http.post(
                f"{self.api}/guides", json={**GUIDE, "user_email": None}, headers=self.admin
            )
        )
        self.guide = guide["id"]
        self._ok(self.http.post(f"{self.api}/guides/{self.guide}/activate", headers=self.admin))

    def _ok(self, response: httpx.Response) -> Any:
        assert response.is_success, (response.request.method, response.request.url, response.text)
        return response.json() if response.content else None

    def _etag(self, url: str) -> str:
        return self.http.get(url, headers=self.admin).headers["etag"]

    def step(self) -> None:
        ops = [self.create_card, self.create_story, self.create_slot]
        if self.cards:
            ops += [self.edit_card, self.publish_card, self.unpublish_card, self.delete_card]
        if self.stories:
            ops += [self.edit_story, self.moderate_story, self.delete_story]
        if self.slots:
            # Not DELETE /slots/{id}: on this branch it is a 500 (a foreign key) for some
            # never-booked slots too; noted in the hand-over. Withdrawal is tested in test_sync.
            ops += [self.book]
        if self.bookings:
            ops += [self.cancel_booking]
        op = self.rng.choice(ops)
        self.counts[op.__name__] = self.counts.get(op.__name__, 0) + 1
        op()

    def create_card(self) -> None:
        status = self.rng.choice(["published", "draft"])
        body = {**NEW_CARD, "status": status, "title": {"fi": f"Kortti {self.rng.random():.6f}"}}
        self.cards.append(
            self._ok(self.http.post(f"{self.api}/service-cards", json=body, headers=self.admin))[
                "id"
            ]
        )

    def edit_card(self) -> None:
        url = f"{self.api}/service-cards/{self.rng.choice(self.cards)}"
        body = {"title": {"fi": f"Muokattu {self.rng.random():.6f}"}}
        self._ok(
            self.http.patch(url, json=body, headers={**self.admin, "If-Match": self._etag(url)})
        )

    def publish_card(self) -> None:
        self.http.post(
            f"{self.api}/service-cards/{self.rng.choice(self.cards)}/publish", headers=self.admin
        )

    def unpublish_card(self) -> None:
        self.http.post(
            f"{self.api}/service-cards/{self.rng.choice(self.cards)}/unpublish", headers=self.admin
        )

    def delete_card(self) -> None:
        card = self.rng.choice(self.cards)
        url = f"{self.api}/service-cards/{card}"
        self._ok(self.http.delete(url, headers={**self.admin, "If-Match": self._etag(url)}))
        self.cards.remove(card)

    def create_story(self) -> None:
        number = next(self.hours)
        body = {
            **story(10_000 + number, 1 + number % 28),
            "status": self.rng.choice(["approved", "pending"]),
        }
        self.stories.append(
            self._ok(self.http.post(f"{self.api}/stories", json=body, headers=self.comms))["id"]
        )

    def edit_story(self) -> None:
        url = f"{self.api}/stories/{self.rng.choice(self.stories)}"
        body = {"title": f"Tarina {self.rng.random():.6f}"}
        self._ok(
            self.http.patch(url, json=body, headers={**self.comms, "If-Match": self._etag(url)})
        )

    def moderate_story(self) -> None:
        story_id = self.rng.choice(self.stories)
        if self.rng.random() < 0.5:
            self.http.post(f"{self.api}/stories/{story_id}/approve", headers=self.comms)
        else:
            self.http.post(
                f"{self.api}/stories/{story_id}/reject",
                json={"reason": "Ei sovi."},
                headers=self.comms,
            )

    def delete_story(self) -> None:
        story_id = self.rng.choice(self.stories)
        url = f"{self.api}/stories/{story_id}"
        self._ok(self.http.delete(url, headers={**self.comms, "If-Match": self._etag(url)}))
        self.stories.remove(story_id)

    def create_slot(self) -> None:
        hour = next(self.hours)
        start = next_week_at(8 + hour % 10, days=2 + hour // 10)
        body = {
            "starts_at": start.isoformat(),
            "ends_at": start.replace(minute=45).isoformat(),
            "modes": ["remote"],
        }
        self.slots.append(
            self._ok(
                self.http.post(
                    f"{self.api}/guides/{self.guide}/slots", json=body, headers=self.admin
                )
            )["id"]
        )

    def book(self) -> None:
        response = self.http.post(
            f"{self.api}/bookings", json=booking_body(self.rng.choice(self.slots))
        )
        if response.status_code == 201:  # a 409 when the slot is taken already
            booking = response.json()
            token = httpx.URL(booking["manage_url"]).params["token"]
            self.bookings.append((booking["id"], token))

    def cancel_booking(self) -> None:
        booking_id, token = self.bookings.pop(self.rng.randrange(len(self.bookings)))
        self._ok(
            self.http.post(f"{self.api}/bookings/{booking_id}/cancel", params={"token": token})
        )


def test_the_partner_mirror_stays_equal_to_a_full_read(
    server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, tokens = server
    partner_mirror = _load_mirror()
    rng = random.Random(15)
    writer = Writer(base, tokens, rng)
    mirror = partner_mirror.Mirror(base_url=base, slug="kemijarvi", path=tmp_path / "mirror.json")
    mirror.sync()  # the first sync reads everything
    syncs = 1
    for _ in range(200):
        writer.step()
        if rng.random() < 0.08:
            # Sometimes from a new process, resuming from the saved file.
            if rng.random() < 0.3:
                mirror = partner_mirror.Mirror(
                    base_url=base,
                    slug="kemijarvi",
                    path=tmp_path / "mirror.json",
                    requests=mirror.requests,
                )
            mirror.sync()
            syncs += 1
    mirror.sync()
    syncs += 1

    fresh = partner_mirror.Mirror(base_url=base, slug="kemijarvi", path=tmp_path / "fresh.json")
    fresh.full_sync()
    differences = [
        (kind, resource_id)
        for kind in fresh.items
        for resource_id in set(fresh.items[kind]) | set(mirror.items[kind])
        if fresh.items[kind].get(resource_id) != mirror.items[kind].get(resource_id)
    ]
    assert differences == []
    # The writes really changed what the public sees, in every collection.
    assert set(writer.counts) >= {
        "create_card",
        "delete_card",
        "unpublish_card",
        "book",
        "delete_story",
    }
    assert all(fresh.items[kind] for kind in fresh.items)
    polling = syncs * fresh.requests  # re-reading every collection at each sync
    sys.stdout.write(
        f"\nmirror: {syncs} syncs, {mirror.requests} requests; polling every collection "
        f"instead: {polling} requests\n"
    )
    assert mirror.requests < polling
