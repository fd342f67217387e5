"""Keep a local copy of one municipality's public service cards, slots and stories.

A partner site runs this (from cron, or from a webhook handler: `Mirror.sync()` is all a
webhook needs to call) to mirror the settle API without polling every collection:

- The first run reads the three collections in full, after noting where the change
  feed ends, and saves everything to a JSON file.
- Every later run reads the change feed from where it stopped. A card or story that
  changed is read again by its URL, with `If-None-Match` (a 304 costs nothing), and
  dropped on 404 (deleted or unpublished). Slots have no URL of their own, so when any
  changed, the slot list is read with `modified_since` since the earliest of those
  changes: changed slots come back whole, booked or withdrawn ones as tombstones.
- A `410 sync-expired` (the mirror was off for longer than the API keeps changes) starts
  over with a full read.

    python examples/partner_mirror.py https://api.example.org kemijarvi mirror.json

Needs only httpx and the standard library.
"""

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

COLLECTIONS = {"service_card": "service-cards", "slot": "slots", "story": "stories"}


@dataclass
class Mirror:
    base_url: str
    slug: str
    path: Path
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    requests: int = 0
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.path.exists():
            self.state = json.loads(self.path.read_text())
        self.state.setdefault("cursor", None)
        self.state.setdefault("etags", {})
        self.state.setdefault("items", {kind: {} for kind in COLLECTIONS})

    @property
    def items(self) -> dict[str, dict[str, Any]]:
        """kind → id → the resource as the API shows it."""
        return self.state["items"]  # type: ignore[no-any-return]

    def _url(self, tail: str) -> str:
        return f"{self.base_url.rstrip('/')}/api/v1/municipalities/{self.slug}/{tail}"

    def _get(
        self, url: str, params: dict[str, Any] | None = None, etag: str | None = None
    ) -> httpx.Response:
        self.requests += 1
        headers = {"If-None-Match": etag} if etag else {}
        return self.client.get(url, params=params, headers=headers)

    # ---- a full read -----------------------------------------------------------------

    def _feed_end(self) -> str:
        params: dict[str, Any] = {"limit": 100}
        while True:
            response = self._get(self._url("changes"), params)
            response.raise_for_status()
            body = response.json()
            if body["next_cursor"] is None:
                return str(body["resume_cursor"])
            params["after"] = body["next_cursor"]

    def _read_all(self, kind: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {"limit": 100, **(params or {})}
        while True:
            response = self._get(self._url(COLLECTIONS[kind]), query)
            response.raise_for_status()
            body = response.json()
            items.extend(body["items"])
            if body["next_cursor"] is None:
                return items
            query["cursor"] = body["next_cursor"]

    def full_sync(self) -> None:
        """Read everything. The feed's end is noted first: a change made during the read
        is then replayed by the next sync (harmless: reads are idempotent)."""
        cursor = self._feed_end()
        self.state["items"] = {kind: {} for kind in COLLECTIONS}
        self.state["etags"] = {}
        for kind in COLLECTIONS:
            for item in self._read_all(kind):
                self.items[kind][item["id"]] = _clean(item)
        self.state["cursor"] = cursor
        self._save()

    # ---- following the feed ----------------------------------------------------------

    def sync(self) -> None:
        """Bring the copy up to date (call it from cron or a webhook handler)."""
        if self.state["cursor"] is None:
            self.full_sync()
            return
        changes: list[dict[str, Any]] = []
        params: dict[str, Any] = {"after": self.state["cursor"], "limit": 100}
        while True:
            response = self._get(self._url("changes"), params)
            if response.status_code == 410:  # off for too long: start over
                self.full_sync()
                return
            response.raise_for_status()
            body = response.json()
            changes.extend(c for c in body["items"] if c["kind"] in COLLECTIONS)
            if body["next_cursor"] is None:
                cursor = body["resume_cursor"]
                break
            params["after"] = body["next_cursor"]
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for change in changes:  # only each resource's last change matters
            latest[(change["kind"], change["id"])] = change
        for (kind, _), change in latest.items():
            if kind != "slot":
                self._refresh(kind, change)
        slot_times = [c["occurred_at"] for c in changes if c["kind"] == "slot"]
        if slot_times:
            self._sync_slots(min(slot_times))
        self.state["cursor"] = cursor
        self._save()

    def _refresh(self, kind: str, change: dict[str, Any]) -> None:
        url = change["url"]
        if change["action"] in ("deleted", "unpublished"):
            self._forget(kind, change["id"], url)
            return
        response = self._get(url, etag=self.state["etags"].get(url))
        if response.status_code == 304:
            return
        if response.status_code == 404:  # gone again since the change
            self._forget(kind, change["id"], url)
            return
        response.raise_for_status()
        self.items[kind][change["id"]] = _clean(response.json())
        self.state["etags"][url] = response.headers.get("etag")

    def _forget(self, kind: str, resource_id: str, url: str) -> None:
        self.items[kind].pop(resource_id, None)
        self.state["etags"].pop(url, None)

    def _sync_slots(self, since: str) -> None:
        # A second's margin: a change's time is taken a moment before its commit.
        moment = datetime.fromisoformat(since) - timedelta(seconds=1)
        for item in self._read_all("slot", {"modified_since": moment.isoformat()}):
            if item.get("deleted"):
                self.items["slot"].pop(item["id"], None)
            else:
                self.items["slot"][item["id"]] = _clean(item)

    def _save(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.state, ensure_ascii=False, sort_keys=True))
        temporary.replace(self.path)  # atomic: a crash never leaves half a file


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    """The resource without the response's envelope."""
    return {key: value for key, value in item.items() if key != "meta"}


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        sys.stderr.write(__doc__ or "")
        return 2
    mirror = Mirror(base_url=argv[1], slug=argv[2], path=Path(argv[3]))
    mirror.sync()
    counts = ", ".join(f"{len(items)} {kind}s" for kind, items in mirror.items.items())
    sys.stdout.write(f"in sync: {counts} ({mirror.requests} requests)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
