"""Against a real server over TCP: nothing lost or doubled across a kiosk's offline period, group
commit under concurrent beats, and retention."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func, select

from fleet import retention
from fleet.db import EventRow, HeartbeatRow, KioskRow, make_sessionmaker
from fleet.server import start_background
from fleet.sweeper import Sweeper
from tests.fleet.helpers import Clock, beat, test_registry, test_settings, test_signer


class KioskOutbox:
    """The kiosk side, as store-and-forward does it: events stay pending until acknowledged."""

    def __init__(self, signer) -> None:
        self.signer = signer
        self.pending: list[dict] = []
        self.made: list[str] = []

    def happen(self, n: int) -> None:
        for _ in range(n):
            event_id = str(uuid.uuid4())
            self.made.append(event_id)
            self.pending.append(
                {
                    "event_id": event_id,
                    "kind": "fault",
                    "occurred_at": "2026-12-01T09:00:00Z",
                    "device": "idcard",
                    "detail": {"n": len(self.made)},
                }
            )

    def flush(self, base_url: str, *, lose_answer: bool = False) -> tuple[int, int]:
        stored = duplicates = 0
        with httpx.Client(base_url=base_url, auth=self.signer, timeout=5) as client:
            while self.pending:
                batch = self.pending[:100]
                try:
                    r = client.post("/api/v1/events", json={"events": batch})
                except httpx.TransportError:
                    return stored, duplicates  # offline: keep them for later
                r.raise_for_status()
                if lose_answer:
                    return r.json()["stored"], 0  # stored, but the kiosk never heard so
                stored += r.json()["stored"]
                duplicates += r.json()["duplicates"]
                del self.pending[: len(batch)]
        return stored, duplicates


def test_no_event_is_lost_or_doubled_across_an_offline_period(fleet_db_url):
    signer = test_signer("KIOSK-001")
    registry = test_registry(signer)
    clock = Clock()
    settings = test_settings(clock, offline_alert_after_s=300)
    kiosk = KioskOutbox(signer)
    with start_background(fleet_db_url, kiosk_registry=registry, settings=settings) as first:
        url = first.base_url
        httpx.post(
            f"{url}/api/v1/heartbeats", json=beat("KIOSK-001"), auth=signer
        ).raise_for_status()
        kiosk.happen(10)
        assert kiosk.flush(url) == (10, 0)
        kiosk.happen(10)
        assert kiosk.flush(url, lose_answer=True) == (10, 0)  # stored, still pending at the kiosk
    # the server is gone (network down): events keep happening and stay pending
    kiosk.happen(130)
    assert kiosk.flush(url) == (0, 0) and len(kiosk.pending) == 140
    clock.advance(600)
    sessions = make_sessionmaker(first.app.state.fleet.engine)
    report = asyncio.run(Sweeper(sessions, settings, first.app.state.fleet.metrics).sweep_once())
    assert report.marked_offline == 1 and report.raised == 1
    with start_background(fleet_db_url, kiosk_registry=registry, settings=settings) as second:
        assert kiosk.flush(second.base_url) == (130, 10)
        httpx.post(
            f"{second.base_url}/api/v1/heartbeats", json=beat("KIOSK-001", 2), auth=signer
        ).raise_for_status()
        with second.app.state.fleet.sessions() as s:
            ids = s.scalars(select(EventRow.event_id).where(EventRow.kiosk_id == "KIOSK-001")).all()
            assert s.get(KioskRow, "KIOSK-001").status == "ok"
    assert sorted(ids) == sorted(kiosk.made) and len(ids) == 150 and not kiosk.pending


def test_concurrent_beats_share_commits_and_every_one_is_stored(fleet_db_url):
    signers = [test_signer(f"KIOSK-{i:03d}") for i in range(20)]
    with start_background(
        fleet_db_url, kiosk_registry=test_registry(*signers), settings=test_settings()
    ) as server:

        async def load() -> list[int]:
            limits = httpx.Limits(max_connections=40)
            async with httpx.AsyncClient(
                base_url=server.base_url, limits=limits, timeout=30
            ) as client:

                async def one(signer, seq):
                    r = await client.post(
                        "/api/v1/heartbeats", json=beat(signer.kiosk_id, seq), auth=signer
                    )
                    return r.status_code

                return await asyncio.gather(*(one(s, seq) for seq in range(10) for s in signers))

        assert asyncio.run(load()) == [200] * 200
        fleet = server.app.state.fleet
        with fleet.sessions() as s:
            assert s.scalar(select(func.count()).select_from(HeartbeatRow)) == 200
            assert s.scalar(select(func.count()).select_from(KioskRow)) == 20
        batches = fleet.metrics.registry.get_sample_value("fleet_commit_batch_size_count")
        assert fleet.metrics.registry.get_sample_value("fleet_heartbeats_committed_total") == 200
        assert batches < 200, "no two beats ever shared a commit"


def test_retention_deletes_only_what_is_older_than_the_limit(fleet_db_url):
    signer = test_signer("KIOSK-001")
    clock = Clock()
    with start_background(
        fleet_db_url, kiosk_registry=test_registry(signer), settings=test_settings(clock)
    ) as server:

        def post(path: str, body: dict) -> None:
            url = f"{server.base_url}/api/v1/{path}"
            httpx.post(url, json=body, auth=signer).raise_for_status()

        for seq in range(5):
            post("heartbeats", beat("KIOSK-001", seq))
        post(
            "events",
            {
                "events": [
                    {
                        "event_id": "old",
                        "kind": "maintenance",
                        "occurred_at": "2026-12-01T09:00:00Z",
                    }
                ]
            },
        )
        clock.advance(20 * 86400)
        post("heartbeats", beat("KIOSK-001", 9))
        clock.advance(11 * 86400)
        sessions = server.app.state.fleet.sessions
        assert retention.prune(sessions, clock.at, 30, chunk=2) == {"heartbeats": 5, "events": 1}
        with sessions() as s:
            assert s.scalars(select(HeartbeatRow.seq)).all() == [9]
